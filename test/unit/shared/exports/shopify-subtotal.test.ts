import { afterAll, describe, expect, it } from 'vitest';
import { csv, failure, read, removeExportDirs } from './reading.ts';

afterAll(removeExportDirs);

/**
 * Shopify orders are believed whole or not at all: the line items must add up to the order's
 * Subtotal, every order needs its first row and a line, and one bad line rejects the order.
 */

const HEADER = ['Name', 'Email', 'Financial Status', 'Currency', 'Subtotal', 'Discount Amount', 'Created at', 'Lineitem quantity', 'Lineitem name', 'Lineitem price', 'Lineitem sku'] as const;
type Row = Partial<Record<(typeof HEADER)[number], string>>;

const CUSTOMERS = 'Customer ID,Email\n1,mei@example.com\n';

function ordersCsv(rows: Row[]): string {
  return csv([HEADER, ...rows.map((row) => HEADER.map((column) => row[column] ?? ''))]);
}

function head(name: string, subtotal: string, extra: Row = {}): Row {
  return { Name: name, Email: 'mei@example.com', 'Financial Status': 'paid', Currency: 'USD', Subtotal: subtotal, 'Created at': '2026-11-22 10:15:03 +0800', ...extra };
}

function item(name: string, price: string, quantity = '1', sku = 'SKU'): Row {
  return { Name: name, 'Lineitem name': `Item ${sku}`, 'Lineitem price': price, 'Lineitem quantity': quantity, 'Lineitem sku': sku };
}

const options = { config: { maxRejectShare: 1 } };

describe('Shopify orders add up to their Subtotal', () => {
  it('rejects an order whose continuation lines were lost, every line with the reason', async () => {
    const { orders, result } = await read(
      {
        'customers_export.csv': CUSTOMERS,
        'orders_export.csv': ordersCsv([
          { ...head('#1', '60.00'), ...item('#1', '25.00', '2', 'A') }, // line 2: B (10.00) was lost
          { ...head('#2', '8.00'), ...item('#2', '8.00', '1', 'C') }, // 3
        ]),
      },
      options,
    );
    expect(orders.map((o) => o.sku)).toEqual(['C']);
    expect(result.rejects.map((r) => [r.line, r.reason])).toEqual([
      [2, 'line items do not add up to the subtotal (Lineitem price x quantity, less at most Discount Amount): lost or extra lines?'],
    ]);
  });

  it('rejects an order with a line too many (another order\'s line under its name)', async () => {
    const { orders, result } = await read(
      {
        'customers_export.csv': CUSTOMERS,
        'orders_export.csv': ordersCsv([{ ...head('#1', '50.00'), ...item('#1', '25.00', '2', 'A') }, item('#1', '10.00', '1', 'B')]),
      },
      options,
    );
    expect(orders).toEqual([]);
    expect(result.rejected).toBe(2);
  });

  it('allows a minor unit of rounding per line, and a discount partly on shipping', async () => {
    const { orders, result } = await read(
      {
        'customers_export.csv': CUSTOMERS,
        'orders_export.csv': ordersCsv([
          // 3 x 3.33 = 9.99 against a Subtotal of 10.00 rounded by the platform: within one cent per line.
          { ...head('#1', '10.00'), ...item('#1', '3.33', '3', 'A') },
          // Discount 15.00 of which 5.00 on the goods, 10.00 on shipping: lines 50.00, Subtotal 45.00.
          { ...head('#2', '45.00', { 'Discount Amount': '15.00' }), ...item('#2', '30.00', '1', 'B') },
          item('#2', '20.00', '1', 'C'),
        ]),
      },
      options,
    );
    expect(result.rejected).toBe(0);
    // The lines carry the goods' own discount, so they sum to the Subtotal: 3000-300 and 2000-200.
    expect(orders.map((o) => [o.sku, o.lineTotalMinor])).toEqual([
      ['A', 999],
      ['B', 2700],
      ['C', 1800],
    ]);
  });

  it('rejects an order whose lines exceed the Subtotal by more than its discount', async () => {
    const { result } = await read(
      {
        'customers_export.csv': CUSTOMERS,
        'orders_export.csv': ordersCsv([{ ...head('#1', '30.00', { 'Discount Amount': '5.00' }), ...item('#1', '40.00') }]),
      },
      options,
    );
    expect(result.rejects.map((r) => r.reason)).toEqual([expect.stringContaining('line items do not add up to the subtotal')]);
  });

  it('rejects lines whose order has no first row (the head was lost)', async () => {
    const { orders, result } = await read(
      {
        'customers_export.csv': CUSTOMERS,
        'orders_export.csv': ordersCsv([
          { ...head('#1', '10.00'), ...item('#1', '10.00', '1', 'A') }, // 2
          item('#2', '5.00', '1', 'B'), // 3: #2's first row is missing
          item('#2', '6.00', '1', 'C'), // 4
        ]),
      },
      options,
    );
    expect(orders.map((o) => o.sku)).toEqual(['A']);
    const reason = "order line without its order's first row (the order-level columns are empty: lost or reordered rows?)";
    expect(result.rejects.map((r) => [r.line, r.reason])).toEqual([
      [3, reason],
      [4, reason],
    ]);
  });

  it('rejects an order head without any line, and reads a head whose lines follow on their own rows', async () => {
    const { orders, result } = await read(
      {
        'customers_export.csv': CUSTOMERS,
        'orders_export.csv': ordersCsv([
          head('#1', '10.00'), // 2: no line at all
          head('#2', '12.00'), // 3: its lines follow
          item('#2', '5.00', '1', 'A'), // 4
          item('#2', '7.00', '1', 'B'), // 5
        ]),
      },
      options,
    );
    expect(orders.map((o) => [o.orderId, o.sku])).toEqual([
      ['#2', 'A'],
      ['#2', 'B'],
    ]);
    expect(result.rejects.map((r) => [r.line, r.reason])).toEqual([[2, 'order has no line items']]);
  });

  it('requires a Subtotal on each order, and the column in the header', async () => {
    const { result } = await read(
      { 'customers_export.csv': CUSTOMERS, 'orders_export.csv': ordersCsv([{ ...head('#1', ''), 'Created at': '2026-11-22 10:15:03 +0800', ...item('#1', '1.00') }]) },
      options,
    );
    expect(result.rejects.map((r) => r.reason)).toEqual(['Subtotal: required']);
    const withoutColumn = 'Name,Email,Financial Status,Created at,Lineitem quantity,Lineitem price\n#1,mei@example.com,paid,2026-11-22,1,1.00\n';
    const { error } = await failure({ 'customers_export.csv': CUSTOMERS, 'orders_export.csv': withoutColumn });
    expect(error.message).toContain('missing required column "Subtotal" for a shopify orders file');
  });
});
