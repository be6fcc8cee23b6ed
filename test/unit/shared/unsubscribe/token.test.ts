import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { listUnsubscribeHeaders } from '#shared/delivery/ses-email.ts';
import { identifier } from '#shared/exports/fields.ts';
import { MAX_ID_BYTES } from '#shared/model.ts';
import { claimedCustomerId, signUnsubscribeToken, unsubscribeUrl, verifyUnsubscribeToken } from '#shared/unsubscribe/token.ts';

const SECRET = 'test-secret-0123456789-abcdefghijklmnop';
const OTHER_SECRET = 'another-secret-0123456789-abcdefghijkl';

/** Flips one bit of the decoded byte at `index` of a base64url part and re-encodes it. */
function flipByte(part: string, index: number): string {
  const bytes = Buffer.from(part, 'base64url');
  bytes[index] = (bytes[index] ?? 0) ^ 0x01;
  return bytes.toString('base64url');
}

describe('unsubscribe tokens', () => {
  it('round-trips a customer id and is URL-safe', () => {
    const token = signUnsubscribeToken('cust-000123', SECRET);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{8}$/);
    expect(token.split('.')[0]).toBe(Buffer.from('cust-000123').toString('base64url'));
    expect(verifyUnsubscribeToken(token, SECRET)).toBe('cust-000123');
  });

  it('signs every id the exports keep, and its link fits the List-Unsubscribe header', () => {
    const base = 'https://unsubscribe.maison-lumiere.example.com/unsubscribe';
    // Near the bound in bytes: ASCII, Chinese (3 bytes), emoji (4 bytes, 2 code units).
    const id = fc.string({ unit: fc.constantFrom('c', '-', '客', '😀', 'é'), minLength: 1, maxLength: 160, size: 'max' });
    let longest = 0;
    fc.assert(
      fc.property(id, (customerId) => {
        if (!identifier.safeParse(customerId).success) {
          expect(() => signUnsubscribeToken(customerId, SECRET)).toThrow(`Customer id longer than ${MAX_ID_BYTES} bytes`);
          return;
        }
        longest = Math.max(longest, Buffer.byteLength(customerId));
        expect(verifyUnsubscribeToken(signUnsubscribeToken(customerId, SECRET), SECRET)).toBe(customerId);
        expect(() => listUnsubscribeHeaders(unsubscribeUrl(base, customerId, SECRET), 'unsubscribe@maison-lumiere.example.com')).not.toThrow();
      }),
      { numRuns: 2000 },
    );
    expect(longest).toBeGreaterThan(MAX_ID_BYTES - 4);
    // The id of the report: 100 Chinese characters, 300 bytes, which the exports now refuse.
    expect(identifier.safeParse('客'.repeat(100)).success).toBe(false);
  });

  it('is deterministic: one client, one token', () => {
    expect(signUnsubscribeToken('c1', SECRET)).toBe(signUnsubscribeToken('c1', SECRET));
    expect(signUnsubscribeToken('c1', SECRET)).not.toBe(signUnsubscribeToken('c2', SECRET));
  });

  it('round-trips any id, including non-ASCII and dots', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 60, unit: 'grapheme' }), (id) => {
        expect(verifyUnsubscribeToken(signUnsubscribeToken(id, SECRET), SECRET)).toBe(id);
      }),
    );
    expect(verifyUnsubscribeToken(signUnsubscribeToken('客户.42', SECRET), SECRET)).toBe('客户.42');
  });

  it("refuses another client's id with the first client's signature", () => {
    const [, signature] = signUnsubscribeToken('c1', SECRET).split('.');
    const forged = `${Buffer.from('c2').toString('base64url')}.${signature}`;
    expect(verifyUnsubscribeToken(forged, SECRET)).toBeUndefined();
  });

  it('refuses a token with any byte of the signature flipped', () => {
    const [id = '', signature = ''] = signUnsubscribeToken('cust-9', SECRET).split('.');
    for (let i = 0; i < 32; i++) expect(verifyUnsubscribeToken(`${id}.${flipByte(signature, i)}`, SECRET)).toBeUndefined();
  });

  it('refuses a token with a byte of the id flipped', () => {
    const [id = '', signature = ''] = signUnsubscribeToken('cust-9', SECRET).split('.');
    expect(verifyUnsubscribeToken(`${flipByte(id, 0)}.${signature}`, SECRET)).toBeUndefined();
  });

  it('refuses a token signed with another secret', () => {
    expect(verifyUnsubscribeToken(signUnsubscribeToken('c1', OTHER_SECRET), SECRET)).toBeUndefined();
  });

  it('refuses malformed tokens without throwing', () => {
    const valid = signUnsubscribeToken('c1', SECRET);
    const [id = '', signature = ''] = valid.split('.');
    for (const token of [
      '',
      '.',
      'c1',
      id,
      `${id}.`,
      `.${signature}`,
      `${valid}.x`,
      `${id}.${signature.slice(0, -1)}`, // truncated signature
      `${id}.${signature}AA`, // padded signature
      `${id}=.${signature}`, // base64 padding
      `${id}.${signature.replace(/-/g, '+').replace(/_/g, '/')}x`,
      `${id} .${signature}`,
      `${'A'.repeat(10_000)}.${signature}`,
    ]) {
      expect(verifyUnsubscribeToken(token, SECRET), JSON.stringify(token)).toBeUndefined();
    }
  });

  it('tells the id a well-formed token claims without its key (for the log line of a failed unsubscribe), and none for a malformed one', () => {
    expect(claimedCustomerId(signUnsubscribeToken('c-42', SECRET))).toBe('c-42');
    expect(claimedCustomerId(signUnsubscribeToken('c-42', OTHER_SECRET))).toBe('c-42');
    const [id = '', signature = ''] = signUnsubscribeToken('c-42', SECRET).split('.');
    for (const token of ['', id, `${id}.`, `${id}.${signature.slice(0, -1)}`, `${'A'.repeat(10_000)}.${signature}`]) {
      expect(claimedCustomerId(token), JSON.stringify(token)).toBeUndefined();
    }
  });

  it('refuses a non-canonical encoding of the id (one id, one token)', () => {
    // "c1" is YzE; Yz? with other trailing bits decodes to the same bytes in Node.
    const [, signature] = signUnsubscribeToken('c1', SECRET).split('.');
    expect(verifyUnsubscribeToken(`YzF.${signature}`, SECRET)).toBeUndefined();
  });

  it('accepts the previous secret during a rotation', () => {
    const old = signUnsubscribeToken('c1', OTHER_SECRET);
    expect(verifyUnsubscribeToken(old, [SECRET, OTHER_SECRET])).toBe('c1');
    expect(verifyUnsubscribeToken(old, [SECRET])).toBeUndefined();
  });

  it('will not sign or verify with an empty secret, nor sign an empty id', () => {
    expect(() => signUnsubscribeToken('c1', '')).toThrow(/secret is empty/);
    expect(() => verifyUnsubscribeToken('a.b', '')).toThrow(/secret is empty/);
    expect(() => signUnsubscribeToken('', SECRET)).toThrow(/empty customer id/);
  });

  it('builds the link as baseUrl?t=token', () => {
    const token = signUnsubscribeToken('c1', SECRET);
    expect(unsubscribeUrl('https://abc.lambda-url.us-east-1.on.aws/', 'c1', SECRET)).toBe(
      `https://abc.lambda-url.us-east-1.on.aws/?t=${token}`,
    );
    expect(unsubscribeUrl('https://example.com/u?lang=zh', 'c1', SECRET)).toBe(`https://example.com/u?lang=zh&t=${token}`);
    const url = new URL(unsubscribeUrl('https://example.com/u', '客户 1', SECRET));
    expect(verifyUnsubscribeToken(url.searchParams.get('t') ?? '', SECRET)).toBe('客户 1');
  });
});
