import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CustomerRecord } from '#shared/model.ts';
import { packCustomer, storedEmail, unpackCustomer } from '#shared/tiering/customer-packing.ts';

const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }), // lone surrogates included
  fc.constantFrom('敏', '周', 'Zoë', 'Ñandú', '🙂', 'a\u001fb', '\u0002x', ''),
);

const record: fc.Arbitrary<CustomerRecord> = fc.record(
  {
    customerId: fc.string({ minLength: 1 }),
    email: text,
    firstName: text,
    lastName: text,
    phone: text,
    locale: text,
    timeZone: text,
    birthday: text,
    advisorId: text,
    signedUpAt: fc.integer({ min: 0, max: 4_102_444_800_000 }),
    acceptsMarketing: fc.boolean(),
  },
  { requiredKeys: ['customerId'] },
);

describe('customer packing', () => {
  it('gives back every record exactly, whatever its characters', () => {
    fc.assert(
      fc.property(record, (customer) => {
        const stored = packCustomer(customer);
        expect(unpackCustomer(customer.customerId, stored)).toEqual(customer);
        expect(storedEmail(stored)).toBe(customer.email);
      }),
      { numRuns: 2_000 },
    );
  });

  it('keeps a record with characters past U+00FF as a one-byte string of its UTF-8 bytes', () => {
    const stored = packCustomer({ customerId: 'C1', email: 'min@example.cn', firstName: '敏', lastName: '周', locale: 'zh-CN' });
    expect(typeof stored).toBe('string');
    expect(/[^\u0000-\u00ff]/.test(stored as string)).toBe(false);
    expect(unpackCustomer('C1', stored)).toEqual({ customerId: 'C1', email: 'min@example.cn', firstName: '敏', lastName: '周', locale: 'zh-CN' });
  });
});
