import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_TEXT_CHARS } from '#shared/exports/fields.ts';
import { genericOrderReader, genericOrderSchema } from '#shared/exports/generic.ts';
import type { RowValues } from '#shared/exports/types.ts';
import { MAX_ID_BYTES } from '#shared/model.ts';
import { config, NOW } from './reading.ts';

/**
 * The generic order rows are read without zod when every field is valid; the schema reads the
 * rest and gives the reasons. The two must agree: on random rows mixing valid, invalid, absent
 * and non-text (JSONL) values, the fast reading gives exactly the schema's order line when the
 * schema accepts the row on its first parse, and nothing when it does not.
 */

const value = (...values: unknown[]) => fc.constantFrom<unknown>(undefined, ...values);

const rowArbitrary: fc.Arbitrary<RowValues> = fc.record({
  // Ids are bounded in UTF-8 bytes: 85 Chinese characters are 255 bytes, 86 are 258, 100 are 300.
  order_id: value('100001', 'O-7', ['array'], 'O'.repeat(MAX_ID_BYTES), 'O'.repeat(MAX_ID_BYTES + 1), '订'.repeat(100)),
  // "__proto__" cannot key a stored map: the schema refuses it (its visible text, for a category).
  customer_id: value('C1', 'C0000002', 42, 'C'.repeat(MAX_ID_BYTES + 1), '客'.repeat(85), '客'.repeat(86), `${'客'.repeat(85)}C`, '__proto__'),
  ordered_at: value(
    '2026-11-20T10:00:00+08:00',
    '2026-11-20T10:00:00Z',
    '2026-11-20 10:00',
    '2026-11-20',
    '2026-11-25T10:00:00+08:00',
    '1969-12-31T23:59:59Z',
    '2026-02-30T10:00:00+08:00',
    'yesterday',
    '2026-11-20T10:00:00.250-05:00',
  ),
  sku: value('SK-1', { nested: true }, 'S'.repeat(MAX_ID_BYTES + 1), '😀'.repeat(64), '😀'.repeat(65), '__proto__', '__proto__\u200B'),
  // Control and invisible characters are removed; a value of nothing else is absent.
  product_name: value('Serum 30ml', 'P'.repeat(MAX_TEXT_CHARS), 'P'.repeat(MAX_TEXT_CHARS + 1), '\u202ESerum\u0000', '\u200B\u2060', 'Serum\n30ml'),
  category: value('skincare', 'K'.repeat(MAX_TEXT_CHARS + 1), 'skin\u200Bcare', '\uFEFF', '__proto__', '__proto__\u200B', 'constructor'),
  quantity: value('1', '3', '0', '-1', '1.5', 'two', '10000', '10001', '1000000', '99999999999999999', '9'.repeat(400)),
  line_total: value('129.90', '0', '0.00', '1.005', '-5.00', '1,299.90', 'abc', '20000000', '9999999.99', '12'),
  currency: value('USD', 'usd', 'CNY', 'EUR', 'JPY', 'US', 'dollars'),
  status: value('paid', 'PAID', 'refunded', 'cancelled', 'canceled', 'returned'),
  refunded_amount: value('0', '0.00', '10.00', '500.00', '-1', 'x', '0.001'),
});

const VALID: RowValues = {
  order_id: '100001',
  customer_id: 'C1',
  ordered_at: '2026-11-20T10:00:00+08:00',
  sku: 'SK-1',
  product_name: 'Serum 30ml',
  category: 'skincare',
  quantity: '2',
  line_total: '129.90',
  currency: 'USD',
  status: 'paid',
  refunded_amount: '0.00',
};

/** Random rows, and valid rows with one or two fields taken from a random row. */
const rowsArbitrary = fc.oneof(
  rowArbitrary,
  fc
    .tuple(rowArbitrary, fc.subarray(Object.keys(VALID), { maxLength: 2 }))
    .map(([other, keys]) => ({ ...VALID, ...Object.fromEntries(keys.map((key) => [key, other[key]])) })),
);

describe('genericOrderReader', () => {
  it('reads a row exactly as genericOrderSchema does, or leaves it to the schema', () => {
    const settings = config({ exchangeRates: { CNY: '0.14', JPY: '0.0067' } });
    const schema = genericOrderSchema(settings, NOW);
    const read = genericOrderReader(settings, NOW);
    let accepted = 0;
    fc.assert(
      fc.property(rowsArbitrary, (values) => {
        const expected = schema.safeParse({ ...values });
        expect(read({ ...values })).toEqual(expected.success ? expected.data : undefined);
        if (expected.success) accepted += 1;
      }),
      { numRuns: 20_000 },
    );
    expect(accepted).toBeGreaterThan(2000); // the valid rows are not a rare case of the test
  });
});
