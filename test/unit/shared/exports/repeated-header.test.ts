import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { headerName, isHeaderName } from '#shared/exports/reader.ts';
import { memorySource, readingPaths, readSource, type ReadingPath } from './reading.ts';

/**
 * The header line repeated inside a CSV (two exports concatenated, a producer writing each chunk
 * with its header). Only the first record was taken for the header: a repeat read as data, a
 * client "customer_id" (Shopify: "Customer ID") named "first_name", a product "sku", with no
 * reject. Now a data record whose cells are the header's column names (trimmed, in any case) is a
 * reject saying so, in every file kind, on every reading path.
 */
const ORDERS = 'order_id,customer_id,ordered_at,line_total\nO1,C1,2026-11-22T10:00:00Z,1.00\n';
const REASON = 'row repeats the header (the column names): two exports joined into one file, or a header written with each part of it?';

const PATHS = readingPaths(7);

describe('a header line repeated inside the file', () => {
  for (const path of PATHS) {
    const read = (files: Record<string, string>) => readSource(memorySource(files, path.chunk), { threads: path.threads, blockBytes: 64, config: { maxRejectShare: 1 } });

    it(`generic customers: a reject, no client "customer_id" (${path.name})`, async () => {
      const H = 'customer_id,email,first_name,accepts_marketing\n';
      const out = await read({ 'customers.csv': `${H}C1,a@example.com,A,true\n${H.toUpperCase().replace(',', ' , ')}C2,b@example.com,B,false\n`, 'orders.csv': ORDERS });
      expect(out.customers.map((c) => c.customerId)).toEqual(['C1', 'C2']);
      expect(out.result.rejects).toEqual([{ file: 'memory://export/customers.csv', line: 3, reason: REASON }]);
      expect(out.result.files.find((f) => f.kind === 'customers')).toMatchObject({ rows: 3, rejected: 1 });
    });

    it(`Shopify customers: a reject, no client "Customer ID" (${path.name})`, async () => {
      const H = 'Customer ID,Email\n';
      const out = await read({
        'customers_export.csv': `${H}1,mei@example.com\n${H}2,tom@example.com\n`,
        'orders_export.csv': 'Name,Email,Financial Status,Subtotal,Created at,Lineitem quantity,Lineitem price\n#1,mei@example.com,paid,1.00,2026-11-22 10:00:00 +0800,1,1.00\n',
      });
      expect(out.customers.map((c) => c.customerId)).toEqual(['1', '2']);
      expect(out.result.rejects).toEqual([{ file: 'memory://export/customers_export.csv', line: 3, reason: REASON }]);
    });

    it(`products: a reject, no product "sku" (${path.name})`, async () => {
      const H = 'sku,name,replenish_days\n';
      const out = await read({ 'customers.csv': 'customer_id\nC1\n', 'products.csv': `${H}S1,Serum,30\n${H}S2,Cream,60\n`, 'orders.csv': ORDERS });
      expect(out.products.map((p) => p.sku)).toEqual(['S1', 'S2']);
      expect(out.result.rejects).toEqual([{ file: 'memory://export/products.csv', line: 3, reason: REASON }]);
    });

    it(`orders and the advisors roster: a reject with the same reason (${path.name})`, async () => {
      const H = 'order_id,customer_id,ordered_at,line_total\n';
      const A = 'advisor_id,name\n';
      const out = await read({ 'customers.csv': 'customer_id\nC1\n', 'advisors.csv': `${A}A1,Sophie\n${A}`, 'orders.csv': `${ORDERS}${H}O2,C1,2026-11-22T11:00:00Z,2.00\n` });
      expect(out.orders.map((o) => o.orderId)).toEqual(['O1', 'O2']);
      expect(out.advisors.map((a) => a.advisorId)).toEqual(['A1']);
      expect(out.result.rejects).toEqual([
        { file: 'memory://export/advisors.csv', line: 3, reason: REASON },
        { file: 'memory://export/orders.csv', line: 3, reason: REASON },
      ]);
    });

    it(`a row that only shares some names with the header is data (${path.name})`, async () => {
      const out = await read({ 'customers.csv': 'customer_id,first_name\nC1,first_name\ncustomer_id,Ann\n', 'orders.csv': ORDERS });
      expect(out.customers.map((c) => c.customerId)).toEqual(['C1', 'customer_id']);
      expect(out.result.rejected).toBe(0);
    });
  }
});

describe('isHeaderName', () => {
  it('says what headerName says: a cell reads as a column name when their normal forms are equal (property)', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'B', 'o', 'O', 'r', 'd', '_', '-', ' ', '\t', '\uFEFF', 'İ', 'é', 'É', '中', '0'), maxLength: 8 });
    fc.assert(
      fc.property(text, text, (cell, column) => {
        const name = headerName(column);
        expect(isHeaderName(cell, name)).toBe(headerName(cell) === name);
        expect(isHeaderName(column, name)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });
});
