import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_LINE_QUANTITY, MAX_REPLENISH_DAYS } from '#shared/exports/fields.ts';
import { genericOrderReader, genericOrderSchema } from '#shared/exports/generic.ts';
import { config, csv, CUSTOMERS, failure, NOW, read, removeExportDirs } from './reading.ts';

afterAll(removeExportDirs);

/**
 * The readers' bounds on the numbers that time a replenishment: an order line's units (generic
 * `quantity`, Shopify `Lineitem quantity`) up to MAX_LINE_QUANTITY, a line above it a listed
 * reject naming its file, line and column; a product's `replenish_days` up to MAX_REPLENISH_DAYS,
 * one above it dropped with a warning as 0 is. Both are positive whole numbers the readers took
 * up to 2^53 before, which put the run-out past year 9999.
 */

const tolerant = { config: { maxRejectShare: 1 } };
const ABOVE_QUANTITY = `more than ${MAX_LINE_QUANTITY} units: not a client's purchase (a wholesale line, or another column's value?)`;
const ABOVE_DAYS = `more than ${MAX_REPLENISH_DAYS} days (ten years): not a use-up cycle in days`;
const file = (path: string) => path.split('/').pop();

describe('an order line of more than MAX_LINE_QUANTITY units', () => {
  it('is a reject in the generic format, CSV and JSONL, naming its line and column; up to the bound the line is read, a quantity that is no whole number still becomes 1', async () => {
    const { orders, result } = await read(
      {
        'customers.csv': CUSTOMERS,
        'orders.csv': csv([
          ['order_id', 'customer_id', 'ordered_at', 'sku', 'quantity', 'line_total'],
          ['O1', 'C1', '2026-11-22T10:00:00Z', 'CREAM', String(MAX_LINE_QUANTITY), '10.00'],
          ['O2', 'C1', '2026-11-22T10:00:00Z', 'CREAM', String(MAX_LINE_QUANTITY + 1), '10.00'],
          ['O3', 'C2', '2026-11-22T10:00:00Z', 'CREAM', '1000000', '120.00'],
          // Past 2^53 and past any double: still a number too large, not "no number".
          ['O4', 'C2', '2026-11-22T10:00:00Z', 'CREAM', '9'.repeat(40), '120.00'],
          ['O5', 'C2', '2026-11-22T10:00:00Z', 'CREAM', '2.5', '120.00'],
        ]),
        'orders.jsonl': '{"order_id":"J1","customer_id":"C1","ordered_at":"2026-11-22T10:00:00Z","line_total":"5","quantity":5000000}\n',
      },
      tolerant,
    );
    expect(orders.map((o) => [o.orderId, o.quantity])).toEqual([
      ['O1', MAX_LINE_QUANTITY],
      ['O5', 1],
    ]);
    expect(result.rejects.map((r) => [file(r.file), r.line, r.reason])).toEqual([
      ['orders.csv', 3, `quantity: ${ABOVE_QUANTITY}`],
      ['orders.csv', 4, `quantity: ${ABOVE_QUANTITY}`],
      ['orders.csv', 5, `quantity: ${ABOVE_QUANTITY}`],
      ['orders.jsonl', 1, `quantity: ${ABOVE_QUANTITY}`],
    ]);
    expect(result.warnings.map((w) => [file(w.file), w.line, w.field])).toEqual([['orders.csv', 6, 'quantity']]);
  });

  it('counts towards its file\'s share of rejects: one such line of two fails the read naming the file, before anything is written', async () => {
    const { error } = await failure({
      'customers.csv': CUSTOMERS,
      'orders.csv': csv([
        ['order_id', 'customer_id', 'ordered_at', 'sku', 'quantity', 'line_total'],
        ['O1', 'C1', '2026-11-22T10:00:00Z', 'CREAM', '1000000', '120.00'],
        ['O2', 'C2', '2026-11-22T10:00:00Z', 'CREAM', '1', '80.00'],
      ]),
    });
    expect(error.message).toMatch(/orders\.csv.*50% of its rows rejected \(1 of 2\), above the maxRejectShare threshold of 5%/);
  });

  it('rejects a Shopify line, and with it its order (it is only believed whole)', async () => {
    const { orders, result } = await read(
      {
        'customers_export.csv': 'Customer ID,First Name,Email,Accepts Email Marketing\n101,Ann,a1@example.com,yes\n102,Bea,a2@example.com,yes\n',
        'orders_export.csv': [
          'Name,Email,Financial Status,Created at,Currency,Subtotal,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Id',
          '#1001,a1@example.com,paid,2026-11-20 10:00:00 +0800,USD,1080.00,100000,Sample,0.01,CREAM,5001',
          '#1001,,,,,,1,Cream,80.00,CREAM,',
          '#1002,a2@example.com,paid,2026-11-20 11:00:00 +0800,USD,80.00,1,Cream,80.00,CREAM,5002',
          `#1003,a2@example.com,paid,2026-11-20 12:00:00 +0800,USD,1000.00,${MAX_LINE_QUANTITY},Sample,0.10,CREAM,5003`,
        ].join('\n') + '\n',
      },
      tolerant,
    );
    expect(orders.map((o) => [o.orderId, o.quantity])).toEqual([
      ['5002', 1],
      ['5003', MAX_LINE_QUANTITY],
    ]);
    expect(result.rejects.map((r) => [r.line, r.reason])).toEqual([
      [2, `Lineitem quantity: ${ABOVE_QUANTITY}`],
      [3, "another line of the order (line 2) was rejected, so the order is not read whole"],
    ]);
  });

  it('property: any whole number is read as itself up to the bound, and above it refused as too large, by the schema and the fast path alike', () => {
    const settings = config();
    const schema = genericOrderSchema(settings, NOW);
    const fast = genericOrderReader(settings, NOW);
    const row = (quantity: string) => ({ order_id: 'O1', customer_id: 'C1', ordered_at: '2026-11-22T10:00:00Z', line_total: '10.00', quantity });
    fc.assert(
      fc.property(fc.oneof(fc.bigInt({ min: 1n, max: 20_000n }), fc.bigInt({ min: 1n, max: 10n ** 40n })), (n) => {
        const quantity = n.toString();
        const parsed = schema.safeParse(row(quantity));
        if (n <= BigInt(MAX_LINE_QUANTITY)) {
          expect(parsed.success && parsed.data.quantity).toBe(Number(n));
          expect(fast(row(quantity))?.quantity).toBe(Number(n));
        } else {
          expect(parsed.error?.issues).toEqual([expect.objectContaining({ path: ['quantity'], message: ABOVE_QUANTITY, params: { rejectsRow: true } })]);
          expect(fast(row(quantity))).toBeUndefined();
        }
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('a product whose replenish_days is more than MAX_REPLENISH_DAYS', () => {
  it('keeps the product without a cycle, with a warning naming the line and column (as 0 is dropped); up to the bound the cycle is read', async () => {
    const { products, result } = await read({
      'customers.csv': CUSTOMERS,
      'orders.csv': csv([
        ['order_id', 'customer_id', 'ordered_at', 'line_total'],
        ['O1', 'C1', '2026-11-22T10:00:00Z', '10.00'],
      ]),
      'products.csv': csv([
        ['sku', 'name', 'category', 'replenish_days'],
        ['CREAM', 'Cream', 'skincare', '30'],
        ['JAR', 'Jar', 'skincare', String(MAX_REPLENISH_DAYS)],
        ['BALM', 'Balm', 'skincare', String(MAX_REPLENISH_DAYS + 1)],
        ['OIL', 'Oil', 'skincare', '5000000'],
        ['MIST', 'Mist', 'skincare', '0'],
      ]),
    });
    expect(products.map((p) => [p.sku, p.replenishDays])).toEqual([
      ['CREAM', 30],
      ['JAR', MAX_REPLENISH_DAYS],
      ['BALM', undefined],
      ['OIL', undefined],
      ['MIST', undefined],
    ]);
    expect(result.warnings.map((w) => [file(w.file), w.line, w.field, w.reason])).toEqual([
      ['products.csv', 4, 'replenish_days', ABOVE_DAYS],
      ['products.csv', 5, 'replenish_days', ABOVE_DAYS],
      ['products.csv', 6, 'replenish_days', 'must be a positive whole number'],
    ]);
    expect(result.rejected).toBe(0);
  });
});
