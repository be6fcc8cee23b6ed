/**
 * Text from a client's data (a name, a product name, a category) as an email may show it. A sign-up
 * form takes anything: control characters (NUL, ESC) that have no place in a Subject, bidi
 * overrides (U+202E) that display the rest of a subject reversed, zero-width characters that make
 * a name that looks empty ("Dear ,") rather than an absent one.
 */

/**
 * What visibleText removes or replaces, in one pass: control (Cc), format (Cf) and lone surrogate
 * (Cs) characters. Group 1 is kept, because it draws an emoji: a zero-width joiner between two
 * pictographs (👩‍💻, 🏳️‍🌈; a skin tone or U+FE0F may come between), or a complete tag sequence
 * after a black flag (the flags of England, Scotland and Wales). Group 2, line breaks and tabs,
 * becomes a space, so the words on either side stay apart. The rest is removed.
 */
const INVISIBLE =
  /((?<=\p{Extended_Pictographic}[\u{FE0F}\u{1F3FB}-\u{1F3FF}]?)\u200D(?=\p{Extended_Pictographic})|\u{1F3F4}[\u{E0020}-\u{E007E}]+\u{E007F})|([\t\n\v\f\r\u001C-\u001F\u0085\u2028\u2029]+)|[\p{Cc}\p{Cf}\p{Cs}]/gu;
/** Whether INVISIBLE has anything to do (not global: `test` keeps no state). */
const HAS_INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\u2028\u2029]/u;
/**
 * A character that shows: not a space, not a mark on its own, not one of the letters and symbols
 * that draw nothing (Hangul fillers, the blank Braille pattern) and stand in for "no name".
 */
const VISIBLE = /[^\s\p{M}\u115F\u1160\u3164\uFFA0\u2800]/u;

function replacement(_match: string, kept: string | undefined, lineBreak: string | undefined): string {
  return kept ?? (lineBreak === undefined ? '' : ' ');
}

/**
 * `value` without control, format and lone surrogate characters (line breaks and tabs become a
 * space; see INVISIBLE for what is kept), trimmed; undefined when nothing visible is left, so a
 * name of zero-width characters is treated as no name. Values without any (nearly all) are only
 * trimmed.
 */
export function visibleText(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const cleaned = (HAS_INVISIBLE.test(value) ? value.replace(INVISIBLE, replacement) : value).trim();
  return VISIBLE.test(cleaned) ? cleaned : undefined;
}

const ELLIPSIS = '…';
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * `value` when at most `max` UTF-16 code units long; else its longest start of whole graphemes
 * (never half a surrogate pair, an emoji sequence or a letter and its accent) that fits with an
 * ellipsis, then the ellipsis.
 */
export function shortenedText(value: string | undefined, max: number): string | undefined {
  if (value === undefined || value.length <= max) return value;
  let end = 0;
  // The segmenter iterates lazily: only the kept start is segmented.
  for (const { segment, index } of graphemes.segment(value)) {
    if (index + segment.length > max - ELLIPSIS.length) break;
    end = index + segment.length;
  }
  return `${value.slice(0, end).trimEnd()}${ELLIPSIS}`;
}
