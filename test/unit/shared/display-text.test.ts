import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shortenedText, visibleText } from '#shared/display-text.ts';

/** Text from a sign-up form or an export as an email shows it: no control or invisible characters, no empty-looking names. */

const ZWJ = '\u200D';
const LONE_SURROGATE = /\p{Cs}/u;
const ENGLAND = '\u{1F3F4}\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}';

describe('visibleText', () => {
  it('removes control, bidi and zero-width characters', () => {
    expect(visibleText('\u202Eelif-ruoy-yfirev\u202C')).toBe('elif-ruoy-yfirev');
    expect(visibleText('Ann\u0000\u001b[31m')).toBe('Ann[31m');
    expect(visibleText('Lin\u200B\u2060\uFEFF\u00AD')).toBe('Lin');
    expect(visibleText('王\u2066芳\u2069')).toBe('王芳');
    // A lone surrogate (a JSON "\ud800") is no character.
    expect(visibleText('\uD800Lin')).toBe('Lin');
  });

  it('turns line breaks and tabs into a space, and trims', () => {
    expect(visibleText('Ann\r\nBcc: x@example.com')).toBe('Ann Bcc: x@example.com');
    expect(visibleText('A\u2028B\u0085C\tD')).toBe('A B C D');
    expect(visibleText('  Lin\n')).toBe('Lin');
  });

  it('is absent when nothing visible is left', () => {
    for (const value of ['', '   ', '\u202E', '\u200B\u2060', '\u200B \uFEFF', '\u0000\u001b', '\u3164', '\u2800', '\u0301', '\n\t']) {
      expect(visibleText(value), JSON.stringify(value)).toBeUndefined();
    }
    expect(visibleText(undefined)).toBeUndefined();
  });

  it('keeps what draws an emoji: a joiner between pictographs, a flag tag sequence', () => {
    for (const emoji of [`👩${ZWJ}💻`, `🏳️${ZWJ}🌈`, `👩🏽${ZWJ}🦰`, `👩${ZWJ}❤️${ZWJ}💋${ZWJ}👨`, ENGLAND]) {
      expect(visibleText(`Lin ${emoji}`)).toBe(`Lin ${emoji}`);
    }
    // A joiner between letters, or tags without their flag, draw nothing.
    expect(visibleText(`a${ZWJ}b`)).toBe('ab');
    expect(visibleText(`${ZWJ}👩`)).toBe('👩');
    expect(visibleText('x\u{E0067}\u{E007F}')).toBe('x');
  });

  it('leaves ordinary text as it is', () => {
    for (const value of ['Lin', '王芳', 'Zoë', 'Nguyễn Văn An', "O'Brien <b>", 'Ω & ∑', 'שלום', 'مرحبا']) expect(visibleText(value)).toBe(value);
  });

  // Any code point, and text made of the characters the rules are about (so that they meet often).
  const tricky = fc.constantFrom('a', ' ', '王', ZWJ, '👩', '🏽', '\uFE0F', '\u{1F3F4}', '\u{E0067}', '\u{E007F}', '\u202E', '\u200B', '\n', '\u0000', '\uD800', '\u0301', '\u3164');
  const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: tricky, maxLength: 12 }));
  const INVISIBLE = /[\p{Cc}\p{Cs}\u2028\u2029]/u;

  it('property: no control character, lone surrogate or line separator is left; a format character only inside an emoji', () => {
    fc.assert(
      fc.property(anyText, (value) => {
        const shown = visibleText(value);
        if (shown === undefined) return;
        expect(shown).not.toMatch(INVISIBLE);
        expect(shown).not.toMatch(LONE_SURROGATE);
        for (const [i, char] of [...shown].entries()) {
          if (!/\p{Cf}/u.test(char)) continue;
          expect(char === ZWJ || /[\u{E0020}-\u{E007F}]/u.test(char), `U+${char.codePointAt(0)?.toString(16)} at ${i}`).toBe(true);
        }
        expect(shown).toBe(shown.trim());
        expect(shown).not.toBe('');
      }),
      { numRuns: 2000 },
    );
  });

  it('property: idempotent, and the identity (but for trimming) on text without control or format characters', () => {
    fc.assert(
      fc.property(anyText, (value) => {
        const shown = visibleText(value);
        expect(visibleText(shown)).toBe(shown);
        if (!/[\p{Cc}\p{Cf}\p{Cs}\u2028\u2029]/u.test(value) && shown !== undefined) expect(shown).toBe(value.trim());
      }),
      { numRuns: 2000 },
    );
  });
});

describe('shortenedText', () => {
  it('leaves text within the bound alone', () => {
    expect(shortenedText('Serum', 5)).toBe('Serum');
    expect(shortenedText(undefined, 5)).toBeUndefined();
  });

  it('shortens to the bound, the ellipsis included, at a grapheme boundary', () => {
    expect(shortenedText('Hydra Night Cream', 10)).toBe('Hydra Nig…');
    // No space before the ellipsis.
    expect(shortenedText('Hydra Night Cream', 7)).toBe('Hydra…');
    // Neither half of a surrogate pair nor part of an emoji sequence or of a letter and its accent.
    expect(shortenedText(`abcdefgh👩${ZWJ}💻`, 10)).toBe('abcdefgh…');
    expect(shortenedText('abcdefgh😀x', 10)).toBe('abcdefgh…');
    expect(shortenedText('abcdefghe\u0301x', 10)).toBe('abcdefgh…');
  });

  it('property: at most max code units: a start of the value cut at a grapheme boundary (trailing spaces aside), then an ellipsis', () => {
    const boundaries = (value: string) => [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(value)].map((s) => s.index + s.segment.length);
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), fc.integer({ min: 1, max: 40 }), (value, max) => {
        const short = shortenedText(value, max) as string;
        if (value.length <= max) {
          expect(short).toBe(value);
          return;
        }
        expect(short.length).toBeLessThanOrEqual(max);
        expect(short.endsWith('…')).toBe(true);
        const kept = short.slice(0, -1);
        expect([0, ...boundaries(value)].some((end) => value.slice(0, end).trimEnd() === kept)).toBe(true);
        expect(short).not.toMatch(LONE_SURROGATE);
      }),
      { numRuns: 2000 },
    );
  });
});
