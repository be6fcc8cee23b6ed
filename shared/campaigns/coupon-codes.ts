import { createHmac } from 'node:crypto';
import { z } from 'zod';

/**
 * Coupon codes of their own for each occasion (an offer's `couponFrom`), the pure part: the
 * generated scheme and the reading of an uploaded pool. Claiming a pool's codes is
 * shared/store/coupon-store.ts.
 */

/** The rule every code obeys, from a pool, a scheme or the config (the templates check it again). */
export const COUPON_CODE_RE = /^[A-Za-z0-9_-]{1,40}$/;
export const couponCode = z.string().regex(COUPON_CODE_RE, 'must be 1-40 letters, digits, - or _');

/** A generated code's shape: the prefix, then `length` characters of an HMAC of the occasion. */
export const couponSchemeSchema = z.strictObject({
  prefix: z.string().regex(/^[A-Z0-9]{0,12}$/, 'must be 0-12 capital letters or digits'),
  /** Characters after the prefix (base32, no 0/1/O/I to misread). */
  length: z.number().int().min(6).max(20).default(10),
});
export type CouponScheme = z.infer<typeof couponSchemeSchema>;

/**
 * Where an occasion's own coupon code comes from: `pool`, one code of the CSV uploaded for the
 * campaign, claimed once in DynamoDB (no code left: no email); `scheme`, the prefix and an HMAC of
 * the client and the occasion (deterministic: a rerun sends the same code); `brand-scheme`, the
 * same with the brand's own scheme (config `coupons.scheme`) when it sets one, else no code (the
 * offer's discount alone): the built-in plays' vouchers, which cannot know a brand's prefix.
 */
export const couponSourceSchema = z.discriminatedUnion('from', [
  z.strictObject({ from: z.literal('pool') }),
  couponSchemeSchema.extend({ from: z.literal('scheme') }),
  z.strictObject({ from: z.literal('brand-scheme') }),
]);
export type CouponSource = z.infer<typeof couponSourceSchema>;

/** Base32 without 0/O and 1/I, which are misread when a code is typed from an email. */
export const CODE_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';

/** The HMAC key of the scheme, derived from the sender's secret (never the secret itself). */
export function couponSchemeKey(secret: string): Buffer {
  return createHmac('sha256', secret).update('clientele coupon scheme v1').digest();
}

/**
 * The scheme's code for one occasion: the prefix and `length` characters of an HMAC of the
 * campaign, the client and the occasion. Deterministic (a retry or a rerun sends the same code)
 * and not guessable without the key. Two occasions may still meet on one code (at length 6, a few
 * pairs in 100,000 occasions): the sender records each code it gives in the coupon-codes table and
 * takes the next variant (1, 2, ...: the same HMAC with the variant added) when one is taken.
 */
export function schemeCouponCode(
  key: Buffer,
  scheme: CouponScheme,
  occasion: { campaignId: string; customerId: string; occasionKey: string },
  variant = 0,
): string {
  const input = `${occasion.campaignId}\n${occasion.customerId}\n${occasion.occasionKey}${variant === 0 ? '' : `\n${variant}`}`;
  const digest = createHmac('sha256', key).update(input).digest();
  let code = scheme.prefix;
  // 5 bits per character from the digest's bits, most significant first (at most 100 of its 256).
  for (let i = 0; i < scheme.length; i++) {
    const bit = i * 5;
    const pair = ((digest[bit >> 3] ?? 0) << 8) | (digest[(bit >> 3) + 1] ?? 0);
    code += CODE_ALPHABET[(pair >> (11 - (bit & 7))) & 31];
  }
  return code;
}

export interface CouponPool {
  /** Valid codes in file order, each once (case aside: the first of `SAVE-1` and `save-1`). */
  codes: string[];
  /** Lines that are not a valid code (never quoted: a code is as good as money). */
  invalidLines: number[];
  /** Lines repeating an earlier code, case aside (shops usually take `save-1` for `SAVE-1`). */
  duplicates: number;
}

/** An uploaded file read as a pool, or why it is not one (the problem never quotes a line: it may be a code). */
export type CouponPoolReading = { ok: true; pool: CouponPool } | { ok: false; problem: string };

/**
 * An uploaded pool: a CSV with a `code` header and one code per line (a BOM, blank lines, CRLF
 * and quotes around a code allowed). Lines that are not a valid code are listed by number; a code
 * repeating an earlier one, case aside, is a duplicate, so one code of the shop is never given to
 * two clients. A file
 * without the header (empty, another header, several columns) is not a pool: said, not thrown, so
 * that the sender can hold that campaign's emails and go on with the others.
 */
export function parseCouponPool(text: string): CouponPoolReading {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const firstLine = (lines[0] ?? '').trim();
  if (lines.every((line) => line.trim() === '')) return { ok: false, problem: 'the file is empty: a pool is a CSV whose first line is the header "code"' };
  const header = firstLine.replace(/^"(.*)"$/, '$1').toLowerCase();
  if (header !== 'code') {
    const columns = firstLine.split(',').length;
    const hint = columns > 1 ? ` (it has ${columns} comma-separated columns; a pool has one, one code per line)` : '';
    return { ok: false, problem: `its first line is not the header "code"${hint}` };
  }
  const seen = new Set<string>();
  const pool: CouponPool = { codes: [], invalidLines: [], duplicates: 0 };
  for (let i = 1; i < lines.length; i++) {
    const value = (lines[i] ?? '').trim().replace(/^"(.*)"$/, '$1');
    if (value === '') continue;
    if (!COUPON_CODE_RE.test(value)) pool.invalidLines.push(i + 1);
    else if (seen.has(value.toUpperCase())) pool.duplicates++;
    else {
      seen.add(value.toUpperCase());
      pool.codes.push(value);
    }
  }
  return { ok: true, pool };
}
