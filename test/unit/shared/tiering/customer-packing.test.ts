import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CustomerRecord } from '#shared/model.ts';
import { CustomerRecords, packCustomer, packedEmail, unpackCustomer } from '#shared/tiering/customer-packing.ts';

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

describe('customer records', () => {
  it('gives back every record exactly, whatever its characters, the last one set for a slot winning', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: 20 }), record), { maxLength: 30 }), (writes) => {
        const records = new CustomerRecords();
        const expected = new Map<number, CustomerRecord>();
        for (const [slot, customer] of writes) {
          records.set(slot, customer);
          expected.set(slot, customer);
        }
        for (let slot = 0; slot <= 21; slot++) {
          const customer = expected.get(slot);
          expect(records.has(slot)).toBe(customer !== undefined);
          expect(records.get(slot, customer?.customerId ?? 'X')).toEqual(customer);
          expect(records.email(slot)).toBe(customer?.email);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('packs a record into a text that gives it back, its email read without unpacking, and stores that text as set stores the record', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: 20 }), record), { maxLength: 30 }), (writes) => {
        const whole = new CustomerRecords();
        const packed = new CustomerRecords();
        for (const [slot, customer] of writes) {
          whole.set(slot, customer);
          const text = packCustomer(customer);
          if (text === undefined) {
            packed.set(slot, customer);
            continue;
          }
          expect(unpackCustomer(customer.customerId, text)).toEqual(customer);
          expect(packedEmail(text)).toBe(customer.email);
          packed.setPacked(slot, customer.customerId, text);
        }
        for (let slot = 0; slot <= 21; slot++) {
          const id = [...writes].reverse().find(([at]) => at === slot)?.[1].customerId ?? 'X';
          expect(packed.has(slot)).toBe(whole.has(slot));
          expect(packed.get(slot, id)).toEqual(whole.get(slot, id));
          expect(packed.email(slot)).toBe(whole.email(slot));
        }
      }),
      { numRuns: 500 },
    );
    // Larger than a chunk: kept whole, however it came.
    const huge: CustomerRecord = { customerId: 'H', email: 'h@x.com', firstName: 'x'.repeat(1_100_000) };
    const records = new CustomerRecords();
    records.setPacked(0, 'H', packCustomer(huge) as string);
    expect(records.get(0, 'H')).toEqual(huge);
    expect(records.email(0)).toBe('h@x.com');
  });

  it('keeps records across many byte chunks, and a record larger than a chunk as it is', () => {
    const records = new CustomerRecords();
    const count = 30_000; // ~3 MB of records: the first chunk grows, then 1 MB chunks follow
    const customerOf = (i: number): CustomerRecord => ({ customerId: `C${i}`, email: `c${i}@example.cn`, firstName: '敏'.repeat(i % 7), lastName: `周${i}`, signedUpAt: i * 1000, acceptsMarketing: i % 2 === 0 });
    for (let i = 0; i < count; i++) records.set(i, customerOf(i));
    const huge: CustomerRecord = { customerId: 'H', firstName: 'x'.repeat(1_100_000) };
    records.set(count, huge);
    for (let i = 0; i < count; i++) expect(records.get(i, `C${i}`)).toEqual(customerOf(i));
    expect(records.get(count, 'H')).toEqual(huge);
    expect(records.has(count + 1)).toBe(false);
  });
});
