import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { customerIdFromTags, customerIdTags } from '#shared/delivery/customer-id-tag.ts';
import { emailTags } from '#shared/delivery/ses-email.ts';
import { MAX_ID_BYTES } from '#shared/model.ts';

/** The tags as an SES event carries them: each a list of values. */
const asEventTags = (tags: Record<string, string>): Record<string, string[]> => Object.fromEntries(Object.entries(tags).map(([name, value]) => [name, [value]]));
const SES_TAG = /^[A-Za-z0-9_-]{1,256}$/;

// Ids as the exports accept them (any well-formed text), the '.'/'_' pairs the old sanitising merged,
// and ids long enough to need two parts, or more than the exports allow.
const customerIds = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 90 }),
  fc.string({ unit: fc.constantFrom(...'Cc01._-/ '), minLength: 1, maxLength: 12 }),
  fc.string({ unit: fc.constantFrom('客', '户', 'a', '.', '_', '😀'), minLength: 1, maxLength: 400 }),
);

describe('the customer id in SES message tags', () => {
  it('keeps an id SES takes as it is, as emails sent before the encoding carried it', () => {
    expect(customerIdTags('C001')).toEqual({ customerId: 'C001' });
    expect(customerIdTags('c_0-1')).toEqual({ customerId: 'c_0-1' });
    expect(customerIdFromTags({ customerId: ['C_001'] })).toEqual({ kind: 'id', customerId: 'C_001' });
  });

  it('carries any other id as base64url of its UTF-8, distinct from the id the old sanitising gave', () => {
    expect(customerIdTags('C.001')).toEqual({ customerIdB64_1of1: Buffer.from('C.001').toString('base64url') });
    expect(customerIdTags('客户001')).toEqual({ customerIdB64_1of1: Buffer.from('客户001').toString('base64url') });
    expect(customerIdFromTags(asEventTags(customerIdTags('C.001')))).toEqual({ kind: 'id', customerId: 'C.001' });
    expect(customerIdFromTags(asEventTags(customerIdTags('客户001')))).toEqual({ kind: 'id', customerId: '客户001' });
  });

  it('splits an id whose encoding is longer than a tag value into full parts', () => {
    const longest = '客'.repeat(MAX_ID_BYTES / 3) + 'a'; // 256 bytes: 342 base64url characters
    const tags = customerIdTags(longest);
    expect(Object.keys(tags)).toEqual(['customerIdB64_1of2', 'customerIdB64_2of2']);
    expect(tags.customerIdB64_1of2).toHaveLength(256);
    expect(customerIdFromTags(asEventTags(tags))).toEqual({ kind: 'id', customerId: longest });
  });

  it('carries no id it could not give back', () => {
    expect(customerIdTags('')).toEqual({});
    expect(customerIdTags('C\ud800')).toEqual({});
  });

  it('an email without the tag names no one', () => {
    expect(customerIdFromTags(undefined)).toEqual({ kind: 'none' });
    expect(customerIdFromTags({ campaign: ['welcome'] })).toEqual({ kind: 'none' });
    expect(customerIdFromTags({ customerId: [] })).toEqual({ kind: 'none' });
  });

  it('reads a tag it cannot decode as a problem, never as a guess', () => {
    const long = customerIdTags('客'.repeat(85));
    const [first = '', second = ''] = Object.values(long);
    const cases: Record<string, string[]>[] = [
      { customerId: ['C.001'] },
      { customerId: ['C_001'], customerIdB64_1of1: ['Qy4wMDE'] },
      { customerIdB64_1of2: [first] },
      { customerIdB64_2of2: [second] },
      { customerIdB64_1of2: [first], customerIdB64_2of3: [second] },
      { customerIdB64_1of2: [first.slice(1)], customerIdB64_2of2: [second] },
      { customerIdB64_3of2: [second] },
      { customerIdB64_01of1: ['Qy4wMDE'] },
      { customerIdB64_1of1: ['Qy4wMDF'] }, // stray trailing bits: not canonical
      { customerIdB64_1of1: ['Qy4w+DE'] },
      { customerIdB64_1of1: [''] },
      { customerIdB64_1of1: [Buffer.from([0xff, 0xfe]).toString('base64url')] }, // not UTF-8
    ];
    for (const tags of cases) {
      const read = customerIdFromTags(tags);
      expect(read.kind, JSON.stringify(tags)).toBe('undecodable');
      // The problem names tags, never the values they hold.
      if (read.kind === 'undecodable') for (const value of Object.values(tags).flat()) if (value.length > 2) expect(read.problem).not.toContain(value);
    }
  });

  it('property: every tag is one SES takes, and the event gives back the id it was sent with', () => {
    fc.assert(
      fc.property(customerIds, (customerId) => {
        const tags = customerIdTags(customerId);
        for (const [name, value] of Object.entries(tags)) {
          expect(name).toMatch(SES_TAG);
          expect(value).toMatch(SES_TAG);
        }
        expect(customerIdFromTags(asEventTags(tags))).toEqual({ kind: 'id', customerId });
      }),
      { numRuns: 500 },
    );
  });

  it('property: through the SendEmail tags, beside the others, two ids never read as one', () => {
    fc.assert(
      fc.property(customerIds, customerIds, (a, b) => {
        const sent = (customerId: string) => asEventTags(Object.fromEntries(emailTags({ campaign: 'win-back 60d', tier: 'VIC', customerId }).map((t) => [t.Name, t.Value])));
        const readA = customerIdFromTags(sent(a));
        expect(readA).toEqual({ kind: 'id', customerId: a });
        if (a !== b) expect(customerIdFromTags(sent(b))).not.toEqual(readA);
      }),
      { numRuns: 300 },
    );
  });
});
