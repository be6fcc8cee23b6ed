import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CODE_ALPHABET, COUPON_CODE_RE, couponSchemeKey, parseCouponPool, schemeCouponCode } from '#shared/campaigns/coupon-codes.ts';
import { offerSchema } from '#shared/campaigns/schema.ts';

const key = couponSchemeKey('a-sender-secret-of-at-least-32-characters');
const scheme = { from: 'scheme' as const, prefix: 'WB', length: 10 };
const occasion = { campaignId: 'winback', customerId: 'C1', occasionKey: 'winback#2026-01-02T03:04:05.000Z' };

describe('schemeCouponCode', () => {
  it('is the prefix and `length` characters of the unambiguous alphabet', () => {
    const code = schemeCouponCode(key, scheme, occasion);
    expect(code).toMatch(/^WB[2-9A-HJ-NP-Z]{10}$/);
  });

  it('is stable, valid, and differs between occasions, clients and keys (property)', () => {
    const id = fc.stringMatching(/^[A-Za-z0-9#:.-]{1,40}$/);
    fc.assert(
      fc.property(id, id, fc.integer({ min: 6, max: 20 }), fc.stringMatching(/^[A-Z0-9]{0,12}$/), (customerId, occasionKey, length, prefix) => {
        const s = { from: 'scheme' as const, prefix, length };
        const code = schemeCouponCode(key, s, { campaignId: 'c', customerId, occasionKey });
        expect(schemeCouponCode(key, s, { campaignId: 'c', customerId, occasionKey })).toBe(code);
        expect(code).toMatch(COUPON_CODE_RE);
        expect(code.startsWith(prefix)).toBe(true);
        expect([...code.slice(prefix.length)].every((c) => CODE_ALPHABET.includes(c))).toBe(true);
        expect(code.length).toBe(prefix.length + length);
      }),
    );
    const base = schemeCouponCode(key, scheme, occasion);
    expect(schemeCouponCode(key, scheme, { ...occasion, customerId: 'C2' })).not.toBe(base);
    expect(schemeCouponCode(key, scheme, { ...occasion, occasionKey: 'winback#2026-03-02T03:04:05.000Z' })).not.toBe(base);
    expect(schemeCouponCode(couponSchemeKey('another-secret-of-at-least-32-characters'), scheme, occasion)).not.toBe(base);
  });
});

describe('parseCouponPool', () => {
  it('reads the code column: BOM, CRLF, quotes, blank lines; bad lines by number, duplicates counted once', () => {
    const pool = parseCouponPool('\uFEFFcode\r\nA1\r\n"B2"\r\n\r\nnot a code!\r\nA1\r\nC3\r\n');
    expect(pool).toEqual({ ok: true, pool: { codes: ['A1', 'B2', 'C3'], invalidLines: [5], duplicates: 1 } });
  });

  it('counts codes differing only in case as one, the first kept: a shop that ignores case would take both for one', () => {
    expect(parseCouponPool('code\nSAVE-1\nsave-1\nSave-1\nsave-2\n')).toEqual({ ok: true, pool: { codes: ['SAVE-1', 'save-2'], invalidLines: [], duplicates: 2 } });
  });

  it('keeps each code once, case aside, and accounts for every line (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.stringMatching(COUPON_CODE_RE), fc.constantFrom('ab', 'AB', 'Ab', 'x-1', 'X-1')), { maxLength: 30 }), (lines) => {
        const reading = parseCouponPool(`code\n${lines.join('\n')}\n`);
        if (!reading.ok) throw new Error(reading.problem);
        const { codes, duplicates, invalidLines } = reading.pool;
        expect(new Set(codes.map((code) => code.toUpperCase())).size).toBe(codes.length);
        expect(codes.length + duplicates + invalidLines.length).toBe(lines.length);
        expect(new Set(codes.map((code) => code.toUpperCase()))).toEqual(new Set(lines.map((line) => line.toUpperCase())));
      }),
    );
  });

  it('a header alone is a pool without codes', () => {
    expect(parseCouponPool('"Code"\n\n')).toEqual({ ok: true, pool: { codes: [], invalidLines: [], duplicates: 0 } });
  });

  it('says, without throwing, why a file is not a pool: empty, another header, several columns', () => {
    expect(parseCouponPool('')).toEqual({ ok: false, problem: expect.stringMatching(/^the file is empty/) });
    expect(parseCouponPool('\uFEFF\r\n\r\n')).toEqual({ ok: false, problem: expect.stringMatching(/^the file is empty/) });
    expect(parseCouponPool('coupon_code\nWB-1\n')).toEqual({ ok: false, problem: 'its first line is not the header "code"' });
    expect(parseCouponPool('Code,Value\nA,1\n')).toEqual({ ok: false, problem: expect.stringContaining('it has 2 comma-separated columns') });
  });

  it('never quotes a line of a file that is not a pool: a headerless file starts with a code (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(COUPON_CODE_RE), { minLength: 1, maxLength: 5 }), (codes) => {
        fc.pre(codes[0]?.toLowerCase() !== 'code');
        // The same words whatever the codes: none of them can be in it.
        expect(parseCouponPool(`${codes.join('\n')}\n`)).toEqual({ ok: false, problem: 'its first line is not the header "code"' });
      }),
    );
  });
});

describe('offer couponFrom', () => {
  it('takes a pool or a scheme, never beside a fixed code or on a personal note', () => {
    expect(offerSchema.parse({ kind: 'coupon', discountPercent: 10, couponFrom: { from: 'pool' } }).couponFrom).toEqual({ from: 'pool' });
    expect(offerSchema.parse({ kind: 'coupon', couponFrom: { from: 'scheme', prefix: 'WB' } }).couponFrom).toEqual({ from: 'scheme', prefix: 'WB', length: 10 });
    expect(offerSchema.safeParse({ kind: 'coupon', couponCode: 'X', couponFrom: { from: 'pool' } }).success).toBe(false);
    expect(offerSchema.safeParse({ kind: 'personal-note', couponFrom: { from: 'pool' } }).success).toBe(false);
    expect(offerSchema.safeParse({ kind: 'coupon', couponFrom: { from: 'scheme', prefix: 'lower' } }).success).toBe(false);
  });
});
