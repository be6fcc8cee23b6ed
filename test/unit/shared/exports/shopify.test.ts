import { afterAll, describe, expect, it } from 'vitest';
import { readExport } from '#shared/exports/reader.ts';
import { collector, csv, memorySource, readFiles, removeExportDirs, testConfig, TEST_NOW } from '#test/support/export-files.ts';

afterAll(removeExportDirs);

const CUSTOMER_HEADER = [
  'Customer ID',
  'First Name',
  'Last Name',
  'Email',
  'Accepts Email Marketing',
  'Default Address Company',
  'Phone',
  'Accepts SMS Marketing',
  'Total Spent',
  'Total Orders',
  'Note',
  'Tax Exempt',
  'Tags',
];

const CUSTOMERS = csv([
  CUSTOMER_HEADER,
  ["'7412345678901", 'Mei', 'Chen', ' Mei.Chen@Example.com', 'yes', '', "'+8613800000000", 'no', '1200.00', '3', 'likes silk', 'no', 'VIP, advisor:ADV-9, spring'],
  ['7412345678902', 'Tom', '', 'tom@example.com', 'no', 'ACME', '', 'no', '0.00', '0', '', 'no', ''],
  ['', 'Nameless', '', 'nobody@example.com', 'no', '', '', 'no', '0.00', '0', '', 'no', ''],
]);

/** Shopify's orders_export columns (a representative subset, in Shopify's order). */
const ORDER_HEADER = [
  'Name',
  'Email',
  'Financial Status',
  'Paid at',
  'Fulfillment Status',
  'Currency',
  'Subtotal',
  'Shipping',
  'Taxes',
  'Total',
  'Discount Code',
  'Discount Amount',
  'Created at',
  'Lineitem quantity',
  'Lineitem name',
  'Lineitem price',
  'Lineitem sku',
  'Refunded Amount',
  'Cancelled at',
  'Id',
];

type OrderRow = Partial<Record<(typeof ORDER_HEADER)[number], string>>;

/** Customers without rejects, for the order tests. */
const GOOD_CUSTOMERS = 'Customer ID,Email\n1,mei.chen@example.com\n';

function ordersCsv(rows: (OrderRow | 'blank')[]): string {
  return csv([ORDER_HEADER, ...rows.map((row) => ORDER_HEADER.map((column) => (row === 'blank' ? '' : (row[column] ?? ''))))]);
}

function head(name: string, extra: OrderRow = {}): OrderRow {
  return { Name: name, Email: 'Mei.Chen@example.com', 'Financial Status': 'paid', 'Created at': '2026-11-22 10:15:03 +0800', Currency: 'USD', ...extra };
}

/** One valid order, for the tests about customers. */
const ONE_ORDER = (): OrderRow[] => [{ ...head('#1', { Subtotal: '1.00' }), ...item('#1', '1.00') }];

function item(name: string, price: string, quantity = '1', sku = 'SKU'): OrderRow {
  return { Name: name, 'Lineitem name': `Item ${sku}`, 'Lineitem price': price, 'Lineitem quantity': quantity, 'Lineitem sku': sku };
}

describe('Shopify customers_export', () => {
  it('maps ids, consent, phone and the advisor tag', async () => {
    const { customers, result } = await readFiles({ 'customers_export.csv': CUSTOMERS, 'orders_export.csv': ordersCsv(ONE_ORDER()) });
    expect(customers).toEqual([
      {
        customerId: '7412345678901',
        email: 'mei.chen@example.com',
        firstName: 'Mei',
        lastName: 'Chen',
        phone: '+8613800000000',
        locale: undefined,
        timeZone: undefined,
        signedUpAt: undefined,
        acceptsMarketing: true,
        birthday: undefined,
        advisorId: 'ADV-9',
      },
      expect.objectContaining({ customerId: '7412345678902', email: 'tom@example.com', lastName: undefined, acceptsMarketing: false, advisorId: undefined }),
    ]);
    expect(result.rejects).toEqual([{ file: expect.stringMatching(/customers_export\.csv$/), line: 4, reason: 'Customer ID: required' }]);
    expect(result.files.map((f) => [f.kind, f.format])).toEqual([
      ['customers', 'shopify'],
      ['orders', 'shopify'],
    ]);
  });

  it('reads a second download of the same files ("orders_export (1).csv") as Shopify files', async () => {
    const { customers, orders, result } = await readFiles({ 'customers_export (2).csv': GOOD_CUSTOMERS, 'orders_export (1).csv': ordersCsv(ONE_ORDER()) });
    expect(result.files.map((f) => [f.kind, f.format])).toEqual([
      ['customers', 'shopify'],
      ['orders', 'shopify'],
    ]);
    expect(customers).toHaveLength(1);
    expect(orders).toHaveLength(1);
  });

  it('reads the older "Accepts Marketing" column', async () => {
    const { customers } = await readFiles({
      'customers_export_1.csv': 'Customer ID,Email,Accepts Marketing\n1,a@example.com,yes\n2,b@example.com,no\n',
      'orders_export_1.csv': ordersCsv(ONE_ORDER()),
    });
    expect(customers.map((c) => c.acceptsMarketing)).toEqual([true, false]);
  });
});

describe('Shopify orders_export', () => {
  it('carries order-level columns to the continuation lines and names the client by email only', async () => {
    const { orders, result } = await readFiles({
      'customers_export.csv': GOOD_CUSTOMERS,
      'orders_export.csv': ordersCsv([
        { ...head('#1001', { Id: '5550001', Subtotal: '60.00' }), ...item('#1001', '25.00', '2', 'A') },
        item('#1001', '10.00', '1', 'B'),
        'blank',
        { ...head('#1002', { Subtotal: '8.00' }), ...item('#1002', '8.00', '1', 'C') },
      ]),
    });
    expect(result.rejected).toBe(0);
    expect(result.rows).toBe(1 + 3); // the ",,,," filler line is not a row
    expect(orders).toEqual([
      {
        orderId: '5550001',
        customerId: undefined,
        email: 'mei.chen@example.com',
        orderedAt: Date.UTC(2026, 10, 22, 2, 15, 3),
        sku: 'A',
        productName: 'Item A',
        category: undefined,
        quantity: 2,
        lineTotalMinor: 5000,
        refundedMinor: 0,
        status: 'paid',
      },
      expect.objectContaining({ orderId: '5550001', email: 'mei.chen@example.com', sku: 'B', quantity: 1, lineTotalMinor: 1000 }),
      expect.objectContaining({ orderId: '#1002', sku: 'C', lineTotalMinor: 800 }),
    ]);
  });

  it('splits the discount over the lines in proportion, summing exactly', async () => {
    const { orders } = await readFiles({
      'customers_export.csv': GOOD_CUSTOMERS,
      'orders_export.csv': ordersCsv([
        { ...head('#2001', { 'Discount Amount': '10.00', Subtotal: '20.00' }), ...item('#2001', '10.00', '1', 'A') },
        item('#2001', '10.00', '1', 'B'),
        item('#2001', '10.00', '1', 'C'),
        { ...head('#2002', { 'Discount Amount': '5.00', Subtotal: '34.99' }), ...item('#2002', '30.00', '1', 'D') },
        item('#2002', '0.00', '1', 'FREE-GIFT'),
        item('#2002', '3.33', '3', 'E'),
        // A discount larger than the goods (free shipping included) takes lines to zero, not below.
        { ...head('#2003', { 'Discount Amount': '50.00', Subtotal: '0.00' }), ...item('#2003', '20.00', '1', 'F') },
      ]),
    });
    const totals = (name: string) => orders.filter((o) => o.orderId === name).map((o) => o.lineTotalMinor);
    expect(totals('#2001')).toEqual([666, 667, 667]);
    expect(totals('#2001').reduce((a, b) => a + b)).toBe(3000 - 1000);
    // Gross 3000, 0, 999 (total 3999): shares 375.09.. → 375, 0, 124.9.. → 125.
    expect(totals('#2002')).toEqual([3000 - 375, 0, 999 - 125]);
    expect(totals('#2003')).toEqual([0]);
  });

  it('handles refunds and cancellations', async () => {
    const { orders, result } = await readFiles(
      {
        'customers_export.csv': GOOD_CUSTOMERS,
        'orders_export.csv': ordersCsv([
          { ...head('#3001', { 'Financial Status': 'refunded', 'Refunded Amount': '30.00', Subtotal: '30.00' }), ...item('#3001', '20.00', '1', 'A') },
          item('#3001', '10.00', '1', 'B'),
          { ...head('#3002', { 'Financial Status': 'partially_refunded', 'Refunded Amount': '10.00', 'Discount Amount': '3.00', Subtotal: '27.00' }), ...item('#3002', '20.00', '1', 'C') },
          item('#3002', '10.00', '1', 'D'),
          { ...head('#3003', { 'Cancelled at': '2026-11-22 12:00:00 +0800', Subtotal: '15.00' }), ...item('#3003', '15.00', '1', 'E') },
          { ...head('#3004', { 'Financial Status': 'voided', Subtotal: '15.00' }), ...item('#3004', '15.00', '1', 'F') },
          { ...head('#3005', { 'Financial Status': 'PENDING', Subtotal: '15.00' }), ...item('#3005', '15.00', '1', 'G') },
          { ...head('#3006', { 'Financial Status': 'refunded', 'Cancelled at': '2026-11-22 12:00:00 +0800', Subtotal: '15.00' }), ...item('#3006', '15.00', '1', 'H') },
          { ...head('#3007', { Currency: 'EUR', 'Financial Status': 'partially_paid', Subtotal: '100.00' }), ...item('#3007', '100.00', '1', 'I') },
        ]),
      },
      { exchangeRates: { EUR: '1.08' } },
    );
    expect(result.rejected).toBe(0);
    const bySku = Object.fromEntries(orders.map((o) => [o.sku, [o.status, o.lineTotalMinor, o.refundedMinor]]));
    expect(bySku).toEqual({
      A: ['refunded', 2000, 2000],
      B: ['refunded', 1000, 1000],
      // Net 1800 and 900 (discount 300 split 200/100); refund 1000 split in proportion: 667/333.
      C: ['paid', 1800, 667],
      D: ['paid', 900, 333],
      E: ['cancelled', 1500, 0],
      F: ['cancelled', 1500, 0],
      G: ['paid', 1500, 0],
      H: ['cancelled', 1500, 1500],
      I: ['paid', 10800, 0],
    });
  });

  it('rejects an order whose Cancelled at is not a time rather than read it as a cancellation (a paid order counted as nothing)', async () => {
    const values = ['null', 'NULL', 'N/A', '-', 'false', 'no', '0', '2026-13-45 25:00:00 +0800'];
    const { orders, result } = await readFiles(
      {
        'customers_export.csv': GOOD_CUSTOMERS,
        'orders_export.csv': ordersCsv([
          ...values.map((value, i) => ({ ...head(`#60${i}`, { 'Cancelled at': value, Subtotal: '10.00' }), ...item(`#60${i}`, '10.00', '1', `S${i}`) })),
          // A real cancellation, and an empty cell (not cancelled), read as before.
          { ...head('#610', { 'Cancelled at': '2026-11-22 12:00:00 +0800', Subtotal: '10.00' }), ...item('#610', '10.00', '1', 'CANCELLED') },
          { ...head('#611', { 'Cancelled at': '', Subtotal: '10.00' }), ...item('#611', '10.00', '1', 'PAID') },
        ]),
      },
      { maxRejectShare: 1 },
    );
    expect(orders.map((o) => [o.sku, o.status])).toEqual([
      ['CANCELLED', 'cancelled'],
      ['PAID', 'paid'],
    ]);
    expect(result.rejects.map((r) => r.line)).toEqual(values.map((_, i) => i + 2));
    for (const reject of result.rejects) {
      expect(reject.reason).toMatch(/^Cancelled at: /);
      for (const value of values.slice(0, 7)) expect(reject.reason).not.toContain(`"${value}"`);
    }
  });

  it('reads every Financial Status Shopify writes, and rejects an order whose status is unknown or missing rather than count it as a sale', async () => {
    const statuses = ['paid', 'PAID ', 'pending', 'authorized', 'partially_paid', 'partially_refunded', 'refunded', 'voided', 'expired', 'xyzzy', 'chargeback', ''];
    const { orders, result } = await readFiles(
      {
        'customers_export.csv': GOOD_CUSTOMERS,
        'orders_export.csv': ordersCsv(
          statuses.map((status, i) => ({ ...head(`#50${i}`, { 'Financial Status': status, Subtotal: '10.00', 'Refunded Amount': '1.00' }), ...item(`#50${i}`, '10.00', '1', `S${i}`) })),
        ),
      },
      { maxRejectShare: 1 },
    );
    expect(orders.map((o) => [o.sku, o.status])).toEqual([
      ['S0', 'paid'],
      ['S1', 'paid'],
      ['S2', 'paid'],
      ['S3', 'paid'],
      ['S4', 'paid'],
      ['S5', 'paid'],
      ['S6', 'refunded'],
      ['S7', 'cancelled'],
      ['S8', 'cancelled'],
    ]);
    expect(result.rejects.map((r) => [r.line, r.reason])).toEqual([
      [11, 'Financial Status: unknown status (expected paid, partially_paid, pending, authorized, partially_refunded, refunded, voided, expired)'],
      [12, 'Financial Status: unknown status (expected paid, partially_paid, pending, authorized, partially_refunded, refunded, voided, expired)'],
      [13, 'Financial Status: required on the first line of an order'],
    ]);
  });

  it('rejects an order whose Id is not a whole number (a spreadsheet rewrote it) rather than merge orders that share it', async () => {
    const REJECTED = 'Id: not a whole number as Shopify writes it (a spreadsheet may have rewritten it, e.g. in scientific notation)';
    const { orders, result } = await readFiles(
      {
        'customers_export.csv': GOOD_CUSTOMERS,
        'orders_export.csv': ordersCsv([
          // Two orders whose Ids were 51234567890xx before a spreadsheet saved them.
          { ...head('#8002', { Id: '5.12346E+12', Subtotal: '20.00', 'Created at': '2026-11-20 10:00:00 +0800' }), ...item('#8002', '20.00', '1', 'A') }, // line 2
          { ...head('#8001', { Id: '5.12346E+12', Subtotal: '30.00', 'Created at': '2026-05-01 10:00:00 +0800' }), ...item('#8001', '10.00', '1', 'B') }, // 3
          item('#8001', '20.00', '1', 'C'), // 4
          { ...head('#8003', { Id: '5123456789012.0', Subtotal: '10.00' }), ...item('#8003', '10.00', '1', 'D') }, // 5
          { ...head('#8004', { Id: '5,123,456,789,012', Subtotal: '10.00' }), ...item('#8004', '10.00', '1', 'E') }, // 6
          // As Shopify writes it, with or without the apostrophe newer exports add.
          { ...head('#8005', { Id: "'5123456789015", Subtotal: '10.00' }), ...item('#8005', '10.00', '1', 'F') },
          { ...head('#8006', { Id: '5123456789016', Subtotal: '10.00' }), ...item('#8006', '10.00', '1', 'G') },
        ]),
      },
      { maxRejectShare: 1 },
    );
    expect(orders.map((o) => [o.sku, o.orderId])).toEqual([
      ['F', '5123456789015'],
      ['G', '5123456789016'],
    ]);
    expect(result.rejects.map((r) => [r.line, r.reason])).toEqual([2, 3, 4, 5, 6].map((line) => [line, REJECTED]));
  });

  it('rejects a client whose Customer ID a spreadsheet rewrote as a number rather than merge clients that share it', async () => {
    const REJECTED = 'Customer ID: not a whole number as Shopify writes it (a spreadsheet may have rewritten it, e.g. in scientific notation)';
    const { customers, result } = await readFiles(
      {
        'customers_export.csv': csv([
          ['Customer ID', 'Email', 'Accepts Email Marketing'],
          // Two clients whose ids were 65432100000xx before a spreadsheet saved them.
          ['6.54321E+12', 'u0@example.com', 'no'], // 2
          ['6.54321E+12', 'u1@example.com', 'yes'], // 3
          ['6543210000003.0', 'u3@example.com', 'yes'], // 4
          ['6,543,210,000,004', 'u4@example.com', 'yes'], // 5
          // As Shopify writes it, with or without the apostrophe newer exports add; and an id of another tool.
          ["'6543210000005", 'u5@example.com', 'yes'],
          ['6543210000006', 'u6@example.com', 'yes'],
          ['C0007', 'u7@example.com', 'yes'],
        ]),
        'orders_export.csv': ordersCsv([{ ...head('#9001', { Email: 'u6@example.com', Subtotal: '10.00' }), ...item('#9001', '10.00', '1', 'A') }]),
      },
      { maxRejectShare: 1 },
    );
    expect(customers.map((c) => [c.customerId, c.email])).toEqual([
      ['6543210000005', 'u5@example.com'],
      ['6543210000006', 'u6@example.com'],
      ['C0007', 'u7@example.com'],
    ]);
    expect(result.rejects.map((r) => [r.line, r.reason])).toEqual([2, 3, 4, 5].map((line) => [line, REJECTED]));
  });

  it('rejects a partially_refunded order that does not say how much was refunded, in an empty cell or a file without the column', async () => {
    const REJECTED = 'Refunded Amount: required when Financial Status is partially_refunded (how much was given back cannot be guessed)';
    const { orders, result } = await readFiles(
      {
        'customers_export.csv': GOOD_CUSTOMERS,
        'orders_export.csv': ordersCsv([
          { ...head('#7001', { 'Financial Status': 'partially_refunded', Subtotal: '60.00' }), ...item('#7001', '60.00', '1', 'A') }, // line 2
          { ...head('#7002', { 'Financial Status': 'Partially_Refunded', Subtotal: '30.00' }), ...item('#7002', '20.00', '1', 'B') }, // 3
          item('#7002', '10.00', '1', 'C'), // 4
          // Stated, even as nothing: read as stated.
          { ...head('#7003', { 'Financial Status': 'partially_refunded', 'Refunded Amount': '0.00', Subtotal: '10.00' }), ...item('#7003', '10.00', '1', 'D') },
          // A full refund needs no amount: all of it went back.
          { ...head('#7004', { 'Financial Status': 'refunded', Subtotal: '10.00' }), ...item('#7004', '10.00', '1', 'E') },
        ]),
      },
      { maxRejectShare: 1 },
    );
    expect(orders.map((o) => [o.sku, o.status, o.lineTotalMinor, o.refundedMinor])).toEqual([
      ['D', 'paid', 1000, 0],
      ['E', 'refunded', 1000, 1000],
    ]);
    expect(result.rejects.map((r) => [r.line, r.reason])).toEqual([
      [2, REJECTED],
      [3, REJECTED],
      [4, REJECTED],
    ]);

    const withoutColumn = 'Name,Email,Financial Status,Currency,Subtotal,Created at,Lineitem quantity,Lineitem price,Lineitem sku\n';
    const missing = await readFiles(
      {
        'customers_export.csv': GOOD_CUSTOMERS,
        'orders_export.csv': `${withoutColumn}#7101,mei.chen@example.com,partially_refunded,USD,60.00,2026-11-22 10:00:00 +0800,1,60.00,A\n#7102,mei.chen@example.com,paid,USD,10.00,2026-11-22 10:00:00 +0800,1,10.00,B\n`,
      },
      { maxRejectShare: 1 },
    );
    expect(missing.orders.map((o) => o.sku)).toEqual(['B']);
    expect(missing.result.rejects.map((r) => [r.line, r.reason])).toEqual([[2, REJECTED]]);
  });

  it('rejects an order a later line of which names another email (its own, case and spaces aside, is fine)', async () => {
    const { orders, result } = await readFiles(
      {
        'customers_export.csv': GOOD_CUSTOMERS,
        'orders_export.csv': ordersCsv([
          { ...head('#6001', { Subtotal: '30.00' }), ...item('#6001', '10.00', '1', 'A') }, // line 2
          { ...item('#6001', '10.00', '1', 'B'), Email: ' MEI.CHEN@example.com ' }, // 3
          { ...item('#6001', '10.00', '1', 'C') }, // 4
          { ...head('#6002', { Subtotal: '20.00' }), ...item('#6002', '10.00', '1', 'D') }, // 5
          { ...item('#6002', '10.00', '1', 'E'), Email: 'someone.else@example.com' }, // 6
        ]),
      },
      { maxRejectShare: 1 },
    );
    expect(orders.map((o) => o.sku)).toEqual(['A', 'B', 'C']);
    expect(result.rejects.map((r) => [r.line, r.reason])).toEqual([
      [6, "Email: not the email of its order's first line"],
      [5, 'another line of the order (line 6) was rejected, so the order is not read whole'],
    ]);
    for (const reject of result.rejects) expect(reject.reason).not.toMatch(/someone|@/);
  });

  it('rejects bad lines with their line numbers, and every line of an order whose first line is bad', async () => {
    const { orders, result } = await readFiles({
      'customers_export.csv': GOOD_CUSTOMERS,
      'orders_export.csv': ordersCsv([
        { ...head('#4001', { Subtotal: '25.00' }), ...item('#4001', '10.00', '1', 'A') }, // line 2
        item('#4001', 'ten', '1', 'B'), // 3
        item('#4001', '5.00', '0', 'C'), // 4
        { ...head('#4002', { Email: '', Subtotal: '20.00' }), ...item('#4002', '10.00', '1', 'D') }, // 5
        item('#4002', '10.00', '1', 'E'), // 6
        { ...head('#4003', { Email: 'wei@@example', Subtotal: '10.00' }), ...item('#4003', '10.00', '1', 'F') }, // 7
        { ...head('#4004', { 'Created at': '22/11/2026', Subtotal: '10.00' }), ...item('#4004', '10.00', '1', 'G') }, // 8
        { ...head('#4005', { Currency: 'GBP', Subtotal: '10.00' }), ...item('#4005', '10.00', '1', 'H') }, // 9
        { ...item('', '10.00', '1', 'I') }, // 10
        { ...head('#4006', { 'Discount Amount': '-1', Subtotal: '10.00' }), ...item('#4006', '10.00', '1', 'J') }, // 11
      ]),
    });
    // An order is read whole or not at all: A goes with B and C.
    expect(orders).toEqual([]);
    expect(result.rejects.map((r) => [r.line, r.reason])).toEqual([
      [3, 'Lineitem price: invalid amount (expected a decimal such as 129.90)'],
      [4, 'Lineitem quantity: must be a positive whole number'],
      [2, 'another line of the order (line 3) was rejected, so the order is not read whole'],
      [5, 'Email: required'],
      [6, 'Email: required'],
      [7, 'Email: invalid email'],
      [8, 'Created at: invalid timestamp (expected ISO 8601)'],
      [9, 'Currency: no exchange rate configured for this currency (see exchangeRates in the config)'],
      [10, 'Name: required'],
      [11, 'Discount Amount: must not be negative'],
    ]);
    for (const reject of result.rejects) expect(reject.reason).not.toMatch(/wei|@/);
  });

  it('takes no "__proto__" for a key of a stored map: rejects a client of that Customer ID, drops such an advisor tag or Lineitem sku with a warning (the line keeps its money)', async () => {
    const RULE = 'a reserved name ("__proto__") that cannot be stored as a key';
    const { customers, orders, result } = await readFiles({
      'customers_export.csv': csv([
        ['Customer ID', 'Email', 'Tags'],
        ['1', 'mei.chen@example.com', 'VIP, advisor:__proto__'], // 2
        ["'__proto__", 'tom@example.com', ''], // 3
      ]),
      'orders_export.csv': ordersCsv([
        { ...head('#5001', { Subtotal: '30.00' }), ...item('#5001', '10.00', '1', '__proto__') }, // 2
        item('#5001', '20.00', '1', 'SKU-2'), // 3
      ]),
    });
    expect(customers.map((c) => [c.customerId, c.advisorId])).toEqual([['1', undefined]]);
    expect(orders.map((o) => [o.sku, o.lineTotalMinor])).toEqual([
      [undefined, 1000],
      ['SKU-2', 2000],
    ]);
    expect(result.rejects.map((r) => [r.file.split('/').pop(), r.line, r.reason])).toEqual([['customers_export.csv', 3, `Customer ID: ${RULE}`]]);
    expect(result.warnings.map((w) => [w.file.split('/').pop(), w.line, w.field, w.reason])).toEqual([
      ['customers_export.csv', 2, 'Tags', `its advisor tag is ${RULE}`],
      ['orders_export.csv', 2, 'Lineitem sku', RULE],
    ]);
  });

  it('drops Tags that name two advisors with a warning (which one holds the client cannot be told), the row kept; the same advisor tagged twice is one', async () => {
    const { customers, result } = await readFiles({
      'customers_export.csv': csv([
        ['Customer ID', 'First Name', 'Email', 'Accepts Email Marketing', 'Tags'],
        ['101', 'Ann', 'ann@example.com', 'yes', 'advisor:A2, VIP, advisor:A1'], // 2
        ['102', 'Bea', 'bea@example.com', 'yes', 'advisor:A3, VIP, Advisor: A3'], // 3
      ]),
      'orders_export.csv': ordersCsv(ONE_ORDER()),
    });
    expect(customers.map((c) => [c.customerId, c.firstName, c.email, c.acceptsMarketing, c.advisorId])).toEqual([
      ['101', 'Ann', 'ann@example.com', true, undefined],
      ['102', 'Bea', 'bea@example.com', true, 'A3'],
    ]);
    expect(result.rejects).toEqual([]);
    expect(result.warnings.map((w) => [w.file.split('/').pop(), w.line, w.field, w.reason])).toEqual([
      ['customers_export.csv', 2, 'Tags', 'its tags name 2 advisors: which one holds the client cannot be told'],
    ]);
  });

  it('delivers customers before orders even when the orders file is listed first', async () => {
    const source = memorySource([
      ['orders_export_1.csv', ordersCsv(ONE_ORDER())],
      ['customers_export.csv', CUSTOMERS],
    ]);
    const collected = collector();
    await readExport(source, collected.handlers, { config: testConfig(), now: TEST_NOW });
    expect(collected.sequence).toEqual(['customer:7412345678901', 'customer:7412345678902', 'order:#1']);
  });
});
