import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utmContent, withUtm } from '#shared/templates/utm.ts';

const tags = { source: 'clientele', campaign: 'winback', content: 'winback.2026-01-02' };

describe('withUtm', () => {
  it('adds the four parameters to a bare shop URL', () => {
    expect(withUtm('https://shop.example.com/', tags)).toBe(
      'https://shop.example.com/?utm_source=clientele&utm_medium=email&utm_campaign=winback&utm_content=winback.2026-01-02',
    );
  });

  it('keeps the existing query and fragment, and replaces a UTM parameter already there', () => {
    const url = withUtm('https://shop.example.com/p/serum?color=red&utm_source=old&size=30ml#reviews', tags);
    const parsed = new URL(url);
    expect(parsed.searchParams.get('color')).toBe('red');
    expect(parsed.searchParams.get('size')).toBe('30ml');
    expect(parsed.searchParams.getAll('utm_source')).toEqual(['clientele']);
    expect(parsed.hash).toBe('#reviews');
    expect(parsed.pathname).toBe('/p/serum');
  });

  it('keeps every other query parameter, in order, and sets the UTM ones (property)', () => {
    const key = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/).filter((k) => !k.startsWith('utm_'));
    fc.assert(
      fc.property(fc.array(fc.tuple(key, fc.string({ maxLength: 12 })), { maxLength: 6 }), fc.stringMatching(/^[A-Za-z0-9.#:-]{1,40}$/), (pairs, content) => {
        const base = new URL('https://shop.example.com/collection');
        for (const [k, v] of pairs) base.searchParams.append(k, v);
        const tagged = new URL(withUtm(base.href, { ...tags, content }));
        const kept = [...tagged.searchParams].filter(([k]) => !k.startsWith('utm_'));
        expect(kept).toEqual([...base.searchParams]);
        expect(tagged.searchParams.get('utm_medium')).toBe('email');
        expect(tagged.searchParams.get('utm_content')).toBe(content);
        expect(tagged.origin + tagged.pathname).toBe('https://shop.example.com/collection');
      }),
    );
  });
});

describe('utmContent', () => {
  it('shortens the ledger key: instants to dates, # to .', () => {
    expect(utmContent('welcome')).toBe('welcome');
    expect(utmContent('winback#2026-01-02T03:04:05.000Z')).toBe('winback.2026-01-02');
    expect(utmContent('replenishment#SK-1#2026-01-02T03:04:05.000Z')).toBe('replenishment.SK-1.2026-01-02');
  });

  it('is stable, at most 80 characters, and two long keys cut alike still differ (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 200 }), fc.string({ minLength: 1, maxLength: 200 }), (a, b) => {
        expect(utmContent(a)).toBe(utmContent(a));
        expect(utmContent(a).length).toBeLessThanOrEqual(80);
        const long = 'replenishment#' + 'X'.repeat(90);
        if (a !== b) expect(utmContent(long + a)).not.toBe(utmContent(long + b));
      }),
    );
  });
});
