import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { ExportError, readExport } from '#shared/exports/reader.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { collector, csv, CUSTOMERS_CSV, exportDir, memorySource, readFiles, removeExportDirs, testConfig, TEST_NOW } from '#test/support/export-files.ts';

afterAll(removeExportDirs);

const ORDERS_CSV = 'order_id,customer_id,ordered_at,line_total\nO1,C1,2026-11-22T10:00:00Z,10.00\n';

describe('generic customers', () => {
  it('normalises every column', async () => {
    const { customers, result } = await readFiles({
      'customers.csv': csv([
        ['customer_id', 'email', 'first_name', 'last_name', 'phone', 'locale', 'time_zone', 'signed_up_at', 'accepts_marketing', 'birthday', 'advisor_id'],
        ['C1', '  Li.Na@Example.COM ', 'Na', 'Li', '+86 138 0000 0000', 'zh-CN', 'Asia/Shanghai', '2026-01-05 09:30', 'YES', '1990-02-28', 'A7'],
        ['C2', '', '', '', '', 'en_US', '', '2026-01-05T09:30:00Z', '0', '02-29', ''],
        ['C3', '', '', '', '', '', '', '', '', '', ''],
      ]),
      'orders.csv': ORDERS_CSV,
    });
    expect(result.rejected).toBe(0);
    expect(customers[0]).toMatchObject({
      customerId: 'C1',
      email: 'li.na@example.com',
      firstName: 'Na',
      lastName: 'Li',
      phone: '+86 138 0000 0000',
      locale: 'zh-CN',
      timeZone: 'Asia/Shanghai',
      signedUpAt: Date.UTC(2026, 0, 5, 1, 30),
      acceptsMarketing: true,
      birthday: '1990-02-28',
      advisorId: 'A7',
    });
    expect(customers[1]).toMatchObject({ customerId: 'C2', locale: 'en-US', signedUpAt: Date.UTC(2026, 0, 5, 9, 30), acceptsMarketing: false, birthday: '02-29' });
    expect(customers[1]?.email).toBeUndefined();
    // An empty consent cell says nothing: absent, not false.
    expect(customers[2]).toMatchObject({ customerId: 'C3' });
    expect(customers[2]?.acceptsMarketing).toBeUndefined();
    expect(customers[2]?.signedUpAt).toBeUndefined();
  });

  it('accepts every spelling of accepts_marketing; an empty cell is no answer', async () => {
    const values = ['true', 'FALSE', '1', '0', 'Yes', 'no', ''];
    const { customers } = await readFiles({
      'customers.csv': csv([['customer_id', 'accepts_marketing'], ...values.map((v, i) => [`C${i}`, v])]),
      'orders.csv': ORDERS_CSV,
    });
    expect(customers.map((c) => c.acceptsMarketing)).toEqual([true, false, true, false, true, false, undefined]);
  });

  it('reads shuffled columns, ignores unknown ones, trims header names and matches them in any case', async () => {
    const { customers, orders, result } = await readFiles({
      'customers.csv': 'loyalty_points, EMAIL ,Customer_ID,notes\n120,a@example.com,C9,"likes, commas"\n',
      'orders.csv': 'line_total,status,extra,ordered_at,customer_id,order_id\n12.5,refunded,x,2026-11-22T00:00:00Z,C9,O9\n',
    });
    expect(result.rejected).toBe(0);
    expect(customers).toEqual([expect.objectContaining({ customerId: 'C9', email: 'a@example.com' })]);
    expect(orders).toEqual([expect.objectContaining({ orderId: 'O9', customerId: 'C9', lineTotalMinor: 1250, status: 'refunded', refundedMinor: 1250 })]);
  });

  it('handles a BOM and CRLF line ends', async () => {
    const { customers, result } = await readFiles({
      'customers.csv': '\uFEFFcustomer_id,email\r\nC1,a@example.com\r\nC2,b@example.com\r\n',
      'orders.csv': ORDERS_CSV,
    });
    expect(result.rejected).toBe(0);
    expect(customers.map((c) => c.customerId)).toEqual(['C1', 'C2']);
  });
});

describe('generic orders', () => {
  it('applies defaults and converts amounts to the brand currency', async () => {
    const { orders, result } = await readFiles(
      {
        'customers.csv': CUSTOMERS_CSV,
        'orders.csv': csv([
          ['order_id', 'customer_id', 'ordered_at', 'sku', 'product_name', 'category', 'quantity', 'line_total', 'currency', 'status', 'refunded_amount'],
          ['O1', 'C1', '2026-11-22T10:00:00+08:00', 'SKU-1', 'Serum', 'skincare', '', '129.90', '', '', ''],
          ['O2', 'C1', '2026-11-22T10:00:00Z', '', '', '', '3', '100.00', 'eur', 'PAID', '10.00'],
          ['O3', 'C1', '2026-11-22T10:00:00Z', '', '', '', '1', '1000', 'JPY', 'cancelled', ''],
          ['O4', 'C1', '2026-11-22T10:00:00Z', '', '', '', '1', '50', 'USD', 'refunded', '80'],
        ]),
      },
      { exchangeRates: { EUR: '1.1', JPY: '0.0067' } },
    );
    expect(result.rejected).toBe(0);
    expect(orders[0]).toMatchObject({
      orderId: 'O1',
      customerId: 'C1',
      orderedAt: Date.UTC(2026, 10, 22, 2),
      sku: 'SKU-1',
      productName: 'Serum',
      category: 'skincare',
      quantity: 1,
      lineTotalMinor: 12990,
      refundedMinor: 0,
      status: 'paid',
    });
    expect(orders[1]).toMatchObject({ quantity: 3, lineTotalMinor: 11000, refundedMinor: 1100, status: 'paid' });
    expect(orders[2]).toMatchObject({ lineTotalMinor: 670, status: 'cancelled', refundedMinor: 0 });
    // A refund larger than the line (shipping included) is capped at the line.
    expect(orders[3]).toMatchObject({ lineTotalMinor: 5000, refundedMinor: 5000, status: 'refunded' });
  });

  it('reads a timestamp without offset in the configured time zone', async () => {
    const files = {
      'customers.csv': CUSTOMERS_CSV,
      'orders.csv': 'order_id,customer_id,ordered_at,line_total\nO1,C1,2026-07-01 09:15:00,1\nO2,C1,2026-07-01,1\n',
    };
    const shanghai = await readFiles(files, { timeZone: 'Asia/Shanghai' });
    expect(shanghai.orders.map((o) => o.orderedAt)).toEqual([Date.UTC(2026, 6, 1, 1, 15), Date.UTC(2026, 5, 30, 16)]);
    const newYork = await readFiles(files, { timeZone: 'America/New_York' });
    expect(newYork.orders.map((o) => o.orderedAt)).toEqual([Date.UTC(2026, 6, 1, 13, 15), Date.UTC(2026, 6, 1, 4)]);
  });

  it('rejects rows with their physical line numbers and reasons that quote no personal data', async () => {
    const { orders, customers, result } = await readFiles({
      'customers.csv': csv(
        [
          ['customer_id', 'email', 'first_name', 'time_zone', 'birthday', 'accepts_marketing', 'signed_up_at', 'locale'],
          ['C1', 'ok@example.com', 'Ann', '', '', '', '', ''], // line 2
          ['C2', 'not-an-email@', 'Zhang\nWei', '', '', '', '', ''], // lines 3-4 (quoted newline)
          ['', 'someone@example.com', 'Bob', '', '', '', '', ''], // 5
          ['C4', 'x@example.com', '', 'Mars/Olympus', '', '', '', ''], // 6
          ['C5', '', '', '', '1990-02-30', '', '', ''], // 7
          ['C6', '', '', '', '', 'maybe', '', ''], // 8
          ['C7', '', '', '', '', '', 'yesterday', ''], // 9
          ['C8', '', '', '', '', '', '', 'not a locale'], // 10
        ],
        '\r\n',
      ),
      'orders.csv':
        'order_id,customer_id,ordered_at,line_total,quantity,status,currency\n' +
        'O1,C1,2026-11-22T10:00:00Z,10,1,paid,\n' + // 2
        '\n' + // 3 blank
        'O2,,2026-11-22T10:00:00Z,10,1,paid,\n' + // 4
        'O3,C1,2026-13-01,10,1,paid,\n' + // 5
        'O4,C1,2026-11-22T10:00:00Z,1O.00,1,paid,\n' + // 6
        'O5,C1,2026-11-22T10:00:00Z,10,-2,paid,\n' + // 7
        'O6,C1,2026-11-22T10:00:00Z,10,1,shipped,\n' + // 8
        'O7,C1,2026-11-22T10:00:00Z,10,1,paid,GBP\n' + // 9
        'O8,C1,2026-11-22T10:00:00Z,-10,1,paid,\n' + // 10
        'O9,C1,2026-11-22T10:00:00Z,10,1,paid\n' + // 11 wrong column count
        'O10,C1,2026-11-22T10:00:00Z,10,0,paid,\n', // 12
    });
    // An invalid optional field is dropped with a warning; the row stays.
    expect(customers.map((c) => c.customerId)).toEqual(['C1', 'C2', 'C4', 'C5', 'C6', 'C7', 'C8']);
    expect(orders.map((o) => [o.orderId, o.quantity])).toEqual([
      ['O1', 1],
      ['O5', 1],
      ['O10', 1],
    ]);
    expect(result.rows).toBe(8 + 10);
    expect(result.rejected).toBe(1 + 7);
    const where = result.rejects.map((r) => [r.file.split('/').pop(), r.line, r.reason]);
    expect(where).toEqual([
      ['customers.csv', 5, 'customer_id: required'],
      ['orders.csv', 4, 'customer_id: required'],
      ['orders.csv', 5, 'ordered_at: invalid timestamp (expected ISO 8601)'],
      ['orders.csv', 6, 'line_total: invalid amount (expected a decimal such as 129.90)'],
      ['orders.csv', 8, 'status: unknown status (expected paid, refunded or cancelled)'],
      ['orders.csv', 9, 'currency: no exchange rate configured for this currency (see exchangeRates in the config)'],
      ['orders.csv', 10, 'line_total: must not be negative'],
      ['orders.csv', 11, 'row has 6 columns, the header has 7'],
    ]);
    expect(result.warnings.map((w) => [w.file.split('/').pop(), w.line, w.field, w.reason])).toEqual([
      ['customers.csv', 3, 'email', 'invalid email'],
      ['customers.csv', 6, 'time_zone', 'unknown time zone (expected an IANA name such as Asia/Shanghai)'],
      ['customers.csv', 7, 'birthday', 'invalid birthday (expected YYYY-MM-DD, MM-DD, or a month: YYYY-MM or --MM)'],
      ['customers.csv', 8, 'accepts_marketing', 'must be true/false, 1/0 or yes/no'],
      ['customers.csv', 9, 'signed_up_at', 'invalid timestamp (expected ISO 8601)'],
      ['customers.csv', 10, 'locale', 'invalid locale (expected a BCP 47 tag such as en-US)'],
      ['orders.csv', 7, 'quantity', 'must be a positive whole number'],
      ['orders.csv', 12, 'quantity', 'must be a positive whole number'],
    ]);
    for (const message of [...result.rejects.map((r) => r.reason), ...result.warnings.map((w) => w.reason)]) {
      expect(message).not.toMatch(/@|not-an-email|someone|Zhang|Wei|Bob|GBP/);
    }
  });
});

describe('text that keys a stored map ("__proto__", which DynamoDB cannot store as a key)', () => {
  const RULE = 'a reserved name ("__proto__") that cannot be stored as a key';

  it('rejects a row whose customer id is "__proto__", drops an optional SKU, category or advisor id of it with a warning, on every reading path', async () => {
    const { customers, orders, products, result } = await readFiles({
      'customers.csv': 'customer_id,email,advisor_id\nC1,c1@example.com,__proto__\n__proto__,p@example.com,A1\n',
      'products.csv': 'sku,name,category\n__proto__,Serum,skincare\nSKU-2,Scarf,__proto__\n',
      'orders.csv': csv([
        ['order_id', 'customer_id', 'ordered_at', 'sku', 'category', 'line_total'],
        ['O1', 'C1', '2026-11-22T10:00:00Z', '__proto__', 'skincare', '10.00'], // 2
        ['O2', 'C1', '2026-11-22T10:00:00Z', 'SKU-2', '__proto__', '20.00'], // 3
        // Its visible text is the category: a zero-width space around "__proto__" does not make it another.
        ['O3', 'C1', '2026-11-22T10:00:00Z', 'SKU-3', '\u200B__proto__', '30.00'], // 4
        ['O4', '__proto__', '2026-11-22T10:00:00Z', 'SKU-4', '', '40.00'], // 5
        ['O5', 'C1', '2026-11-22T10:00:00Z', '__proto__x', 'x__proto__', '50.00'], // 6: only the exact name
      ]),
      'orders.jsonl': '{"order_id":"O6","customer_id":"C1","ordered_at":"2026-11-22T10:00:00Z","sku":"__proto__","category":"__proto__","line_total":"60.00"}\n',
    });
    expect(customers.map((c) => [c.customerId, c.advisorId])).toEqual([['C1', undefined]]);
    expect(products.map((p) => [p.sku, p.category])).toEqual([['SKU-2', undefined]]);
    // Every line keeps its money; only the field that cannot be a key is gone.
    expect(orders.map((o) => [o.orderId, o.sku, o.category, o.lineTotalMinor])).toEqual([
      ['O1', undefined, 'skincare', 1000],
      ['O2', 'SKU-2', undefined, 2000],
      ['O3', 'SKU-3', undefined, 3000],
      ['O5', '__proto__x', 'x__proto__', 5000],
      ['O6', undefined, undefined, 6000],
    ]);
    expect(result.rejects.map((r) => [r.file.split('/').pop(), r.line, r.reason])).toEqual([
      ['customers.csv', 3, `customer_id: ${RULE}`],
      ['products.csv', 2, `sku: ${RULE}`],
      ['orders.csv', 5, `customer_id: ${RULE}`],
    ]);
    expect(result.warnings.map((w) => [w.file.split('/').pop(), w.line, w.field, w.reason])).toEqual([
      ['customers.csv', 2, 'advisor_id', RULE],
      ['products.csv', 3, 'category', RULE],
      ['orders.csv', 2, 'sku', RULE],
      ['orders.csv', 3, 'category', RULE],
      ['orders.csv', 4, 'category', RULE],
      ['orders.jsonl', 1, 'sku', RULE],
      ['orders.jsonl', 1, 'category', RULE],
    ]);
  });
});

describe('generic products', () => {
  it('reads products, between customers and orders', async () => {
    const { products, sequence, result } = await readFiles({
      'products.csv': 'sku,name,category,replenish_days,season\nSKU-1,Serum,skincare,30,all\nSKU-2,Scarf,,,winter\nSKU-3,,,0,\n',
      'customers.csv': CUSTOMERS_CSV,
      'orders.csv': ORDERS_CSV,
    });
    expect(products).toEqual([
      { sku: 'SKU-1', name: 'Serum', category: 'skincare', replenishDays: 30, season: 'all' },
      { sku: 'SKU-2', name: 'Scarf', category: undefined, replenishDays: undefined, season: 'winter' },
      { sku: 'SKU-3', name: undefined, category: undefined, replenishDays: undefined, season: undefined },
    ]);
    expect(result.rejects).toEqual([]);
    expect(result.warnings).toEqual([expect.objectContaining({ line: 4, field: 'replenish_days', reason: 'must be a positive whole number' })]);
    expect(sequence).toEqual(['customer:C1', 'product:SKU-1', 'product:SKU-2', 'product:SKU-3', 'order:O1']);
  });
});

describe('JSONL', () => {
  it('reads JSON values of any scalar type, skips blank lines, counts lines physically', async () => {
    const customers = [
      '\uFEFF{"customer_id": 101, "email": " A@Example.com", "accepts_marketing": true, "time_zone": null}',
      '',
      '{"customer_id": "102", "accepts_marketing": "no", "unknown": [1, 2]}',
      '{"customer_id": "103", "email": "bob@example.com", "first_name": {"x": 1}}',
      '{"customer_id": "104", "email": "bob@example.com",',
      '[1, 2]',
    ].join('\n');
    const orders = [
      '{"order_id": "O1", "customer_id": 101, "ordered_at": "2026-11-22T10:00:00Z", "line_total": 12.5, "quantity": 2}',
      '{"order_id": "O2", "customer_id": 101, "ordered_at": "2026-11-22T10:00:00Z", "line_total": "7", "quantity": 2.5}',
    ].join('\r\n');
    const read = await readFiles({ 'customers.jsonl': customers, 'orders-0001.jsonl': orders });
    expect(read.customers).toEqual([
      expect.objectContaining({ customerId: '101', email: 'a@example.com', acceptsMarketing: true, timeZone: undefined }),
      expect.objectContaining({ customerId: '102', acceptsMarketing: false }),
      expect.objectContaining({ customerId: '103', email: 'bob@example.com', firstName: undefined }),
    ]);
    expect(read.orders).toEqual([
      expect.objectContaining({ orderId: 'O1', customerId: '101', quantity: 2, lineTotalMinor: 1250 }),
      expect.objectContaining({ orderId: 'O2', quantity: 1, lineTotalMinor: 700 }),
    ]);
    expect(read.result.rejects.map((r) => [r.line, r.reason])).toEqual([
      [5, 'invalid JSON'],
      [6, 'not a JSON object'],
    ]);
    expect(read.result.warnings.map((w) => [w.line, w.field, w.reason])).toEqual([
      [4, 'first_name', 'must be text'],
      [2, 'quantity', 'must be a positive whole number'],
    ]);
    expect(read.result.files.map((f) => [f.rows, f.rejected, f.warnings])).toEqual([
      [5, 2, 1],
      [2, 0, 1],
    ]);
  });

  it('reads a JSON number as the text it was written with, never through a double', async () => {
    // 18-19 digit ids (Taobao, Tmall) are past 2^53: through a double both would be 1234567890123456800, one client.
    const customers = [
      '{"customer_id": 1234567890123456789, "email": "ann@example.com"}',
      '{"customer_id": 1234567890123456790, "email": "bob@example.com"}',
    ].join('\n');
    const orders = [
      '{"order_id": 9007199254740993, "customer_id": 1234567890123456789, "ordered_at": "2026-11-22T10:00:00Z", "sku": 12345678901234567890, "line_total": 600.00}',
      '{"order_id": "O2", "customer_id": 1234567890123456790, "ordered_at": "2026-11-22T10:00:00Z", "line_total": 0.3050000000000000001}',
      // Through a double 1e6 would be "1000000", a million; read as written it is refused, as the CSV cell "1e6" is.
      '{"order_id": "O3", "customer_id": 1234567890123456790, "ordered_at": "2026-11-22T10:00:00Z", "line_total": 1e6}',
      '{"order_id": "O4", "customer_id": 1234567890123456790, "ordered_at": "2026-11-22T10:00:00Z", "line_total": 10, "quantity": 2.0}',
    ].join('\n');
    const read = await readFiles({ 'customers.jsonl': customers, 'orders.jsonl': orders });
    expect(read.customers.map((c) => [c.customerId, c.email])).toEqual([
      ['1234567890123456789', 'ann@example.com'],
      ['1234567890123456790', 'bob@example.com'],
    ]);
    expect(read.orders.map((o) => [o.orderId, o.customerId, o.sku, o.lineTotalMinor, o.quantity])).toEqual([
      ['9007199254740993', '1234567890123456789', '12345678901234567890', 60000, 1],
      // As the CSV cell "0.3050000000000000001": above the tie, 31 cents (through a double, 0.305: 30).
      ['O2', '1234567890123456790', undefined, 31, 1],
      ['O4', '1234567890123456790', undefined, 1000, 1],
    ]);
    expect(read.result.rejects.map((r) => [r.line, r.reason])).toEqual([[3, 'line_total: invalid amount (expected a decimal such as 129.90)']]);
    expect(read.result.warnings.map((w) => [w.line, w.field, w.reason])).toEqual([[4, 'quantity', 'must be a positive whole number']]);
  });

  it('matches keys as CSV matches header names: trimmed, in any case; a field given twice in two cases rejects the row', async () => {
    const customers = [
      // A consent withdrawn under another spelling of its name must be read: ignored, the stored "yes" would stay and be mailed.
      '{"Customer_ID": "C1", "EMAIL": "a@example.com", "Accepts_Marketing": false}',
      '{" customer_id ": "C2", "First_Name ": "Mei", "accepts_marketing": "no"}',
      '{"customer_id": "C3", "accepts_marketing": true, "ACCEPTS_MARKETING": false}',
    ].join('\n');
    const orders = '{"Order_ID": "O1", "Customer_Id": "C1", "Ordered_At": "2026-11-22T10:00:00Z", "LINE_TOTAL": 12.5, "Status": "refunded"}\n';
    const read = await readFiles({ 'customers.jsonl': customers, 'orders.jsonl': orders }, { maxRejectShare: 1 });
    expect(read.customers).toEqual([
      expect.objectContaining({ customerId: 'C1', email: 'a@example.com', acceptsMarketing: false }),
      expect.objectContaining({ customerId: 'C2', firstName: 'Mei', acceptsMarketing: false }),
    ]);
    expect(read.orders).toEqual([expect.objectContaining({ orderId: 'O1', customerId: 'C1', lineTotalMinor: 1250, status: 'refunded' })]);
    expect(read.result.rejects.map((r) => [r.line, r.reason])).toEqual([[3, 'has 2 fields named "accepts_marketing" (case aside): which one holds the value cannot be told']]);
  });

  it('matches column names with spaces, hyphens or underscores alike: an opt-out under "Accepts Marketing" is read', async () => {
    const read = await readFiles(
      {
        'customers.csv': csv([
          ['Customer ID', 'Email', 'First-Name', 'Accepts Marketing'],
          ['C1', 'a@example.com', 'Mei', 'no'],
        ]),
        'orders.jsonl': '{"order-id": "O1", "customer id": "C1", "Ordered At": "2026-11-22T10:00:00Z", "line_total": "10", "Status": "refunded"}\n',
      },
      { maxRejectShare: 1 },
    );
    expect(read.customers).toEqual([expect.objectContaining({ customerId: 'C1', email: 'a@example.com', firstName: 'Mei', acceptsMarketing: false })]);
    expect(read.orders).toEqual([expect.objectContaining({ orderId: 'O1', customerId: 'C1', status: 'refunded' })]);
    // Two spellings of one column: which one holds the value cannot be told.
    await expect(readFiles({ 'customers.csv': csv([['customer_id', 'accepts marketing', 'Accepts_Marketing'], ['C1', 'no', 'yes']]), 'orders.csv': ORDERS_CSV })).rejects.toThrow(
      /has 2 columns named "accepts_marketing"/,
    );
  });

  it('rejects a row holding an escaped lone surrogate: two ids that differ by one only would be stored as one client', async () => {
    const customers = [
      '{"customer_id": "L\\ud800", "email": "l1@example.com"}',
      '{"customer_id": "L\\udbff", "email": "l2@example.com"}',
      '{"customer_id": "C3", "first_name": "x\\udc00"}',
      // A pair escaped is one character, and escapes of anything else are text as ever.
      '{"customer_id": "C4", "first_name": "\\ud83d\\ude00 \\u00e9"}',
    ].join('\n');
    const orders = '{"order_id": "O1", "customer_id": "C4", "ordered_at": "2026-11-22T10:00:00Z", "line_total": "10", "sku": "S\\udfff"}\n{"order_id": "O2", "customer_id": "C4", "ordered_at": "2026-11-22T10:00:00Z", "line_total": "10"}\n';
    const read = await readFiles({ 'customers.jsonl': customers, 'orders.jsonl': orders }, { maxRejectShare: 1 });
    expect(read.customers.map((c) => [c.customerId, c.firstName])).toEqual([['C4', '\u{1F600} \u00e9']]);
    expect(read.orders.map((o) => o.orderId)).toEqual(['O2']);
    expect(read.result.rejects.map((r) => [r.file.split('/').pop(), r.line, r.reason])).toEqual([
      ['customers.jsonl', 1, 'customer_id: not text (an escaped lone UTF-16 surrogate)'],
      ['customers.jsonl', 2, 'customer_id: not text (an escaped lone UTF-16 surrogate)'],
      ['customers.jsonl', 3, 'first_name: not text (an escaped lone UTF-16 surrogate)'],
      ['orders.jsonl', 1, 'sku: not text (an escaped lone UTF-16 surrogate)'],
    ]);
  });

  it('fails a file whose first line is not a JSON object', async () => {
    const dir = await exportDir({ 'customers.jsonl': 'customer_id,email\nC1,a@example.com\n', 'orders.csv': ORDERS_CSV });
    const error = await readExport(directoryExportSource(dir), collector().handlers, { config: testConfig(), now: TEST_NOW }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExportError);
    expect((error as ExportError).file).toBe(`${dir}/customers.jsonl`);
    expect((error as ExportError).message).toBe(`${dir}/customers.jsonl, line 1: is not JSONL: the first line is not a JSON object`);
  });
});

describe('gzip and multi-part files', () => {
  it('detects gzip by its magic bytes, not by the name', async () => {
    const { customers, orders, result } = await readFiles({
      'customers.csv': gzipSync('customer_id\nC1\n'),
      'orders-0001.csv.gz': 'order_id,customer_id,ordered_at,line_total\nO1,C1,2026-11-22T00:00:00Z,1\n',
      'orders-0002.jsonl.gz': gzipSync('{"order_id":"O2","customer_id":"C1","ordered_at":"2026-11-22T00:00:00Z","line_total":"2"}\n'),
      'orders-0003.csv.gz': gzipSync('\uFEFForder_id,customer_id,ordered_at,line_total\nO3,C1,2026-11-22T00:00:00Z,3\n'),
    });
    expect(customers.map((c) => c.customerId)).toEqual(['C1']);
    expect(orders.map((o) => o.orderId)).toEqual(['O1', 'O2', 'O3']);
    expect(result.files.map((f) => f.location.split('/').pop())).toEqual([
      'customers.csv',
      'orders-0001.csv.gz',
      'orders-0002.jsonl.gz',
      'orders-0003.csv.gz',
    ]);
  });

  it('reads customers first, then products, then orders, parts in name order, whatever the listing order', async () => {
    const order = (id: string) => `order_id,customer_id,ordered_at,line_total\n${id},C1,2026-11-22T00:00:00Z,1\n`;
    const source = memorySource([
      ['orders-0002.csv.gz', gzipSync(order('O2'))],
      ['orders-0001.csv', order('O1')],
      ['products.csv', 'sku\nP1\n'],
      ['customers-0002.csv', 'customer_id\nC2\n'],
      ['README.txt', 'not an export'],
      ['customers-0001.csv', 'customer_id\nC1\n'],
    ]);
    const collected = collector();
    const result = await readExport(source, collected.handlers, { config: testConfig(), now: TEST_NOW });
    expect(collected.sequence).toEqual(['customer:C1', 'customer:C2', 'product:P1', 'order:O1', 'order:O2']);
    expect(result.files.map((f) => f.location)).toEqual([
      'memory://export/customers-0001.csv',
      'memory://export/customers-0002.csv',
      'memory://export/products.csv',
      'memory://export/orders-0001.csv',
      'memory://export/orders-0002.csv.gz',
    ]);
    expect(result).toMatchObject({ rows: 5, rejected: 0, mode: 'full' });
  });

  it('reports the bytes read as it goes', async () => {
    const customers = gzipSync(`customer_id\n${Array.from({ length: 5000 }, (_, i) => `C${i}`).join('\n')}\n`);
    const dir = await exportDir({ 'customers.csv.gz': customers, 'orders.csv': ORDERS_CSV });
    const progress: number[] = [];
    await readExport(directoryExportSource(dir), collector().handlers, { config: testConfig(), now: TEST_NOW, onProgress: (n) => progress.push(n) });
    expect(progress.length).toBeGreaterThan(1);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(customers.length + Buffer.byteLength(ORDERS_CSV));
  });
});

describe('files that cannot be read', () => {
  async function failure(files: Record<string, string | Buffer>, overrides = {}): Promise<{ error: ExportError; dir: string }> {
    const dir = await exportDir(files);
    const error = await readExport(directoryExportSource(dir), collector().handlers, { config: testConfig(overrides), now: TEST_NOW }).then(
      () => {
        throw new Error('expected an ExportError');
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ExportError);
    return { error: error as ExportError, dir };
  }

  it('names the file and the missing required column', async () => {
    const { error, dir } = await failure({
      'customers.csv': CUSTOMERS_CSV,
      'orders.csv': 'order_id,customer,ordered_at,line_total\nO1,C1,2026-11-22T00:00:00Z,1\n',
    });
    expect(error.file).toBe(`${dir}/orders.csv`);
    expect(error.message).toContain(`${dir}/orders.csv`);
    expect(error.message).toContain('missing required column "customer_id"');
    // Only the format's own names: the first row may be data.
    expect(error.message).toContain('the header has "order_id", "ordered_at", "line_total" of its columns');
  });

  it('fails on two columns with the name of one it reads (case aside), and ignores repeated columns it does not read', async () => {
    const { error, dir } = await failure({
      'customers.csv': CUSTOMERS_CSV,
      'orders.csv': 'order_id,customer_id,ordered_at,line_total,LINE_TOTAL\nO1,C1,2026-11-22T00:00:00Z,10.00,0.01\n',
    });
    expect(error.file).toBe(`${dir}/orders.csv`);
    expect(error.message).toBe(`${dir}/orders.csv, line 1: has 2 columns named "line_total" (case aside): which one holds the value cannot be told`);
    const consent = await failure({ 'customers.csv': 'customer_id,accepts_marketing,accepts_marketing\nC1,true,false\n', 'orders.csv': ORDERS_CSV });
    expect(consent.error.message).toMatch(/customers\.csv, line 1: has 2 columns named "accepts_marketing"/);
    const { result } = await readFiles({ 'customers.csv': 'customer_id,note,note\nC1,a,b\nC2,,\n', 'orders.csv': ORDERS_CSV });
    expect(result.rejected).toBe(0);
  });

  it('fails on a corrupt gzip file', async () => {
    const junk = Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from('this is not a gzip header nor deflate data')]);
    const { error, dir } = await failure({ 'customers.csv.gz': junk, 'orders.csv': ORDERS_CSV });
    expect(error.file).toBe(`${dir}/customers.csv.gz`);
    expect(error.message).toMatch(/customers\.csv\.gz: is not a valid gzip file/);
  });

  it('fails on a gzip file whose checksum does not match', async () => {
    const good = gzipSync(`customer_id\n${'C1\n'.repeat(1000)}`);
    const bad = Buffer.from(good);
    bad[bad.length - 6] = (bad[bad.length - 6] as number) ^ 0xff; // inside the CRC-32 trailer
    const { error } = await failure({ 'customers.csv.gz': bad, 'orders.csv': ORDERS_CSV });
    expect(error.message).toMatch(/customers\.csv\.gz: is not a valid gzip file \(incorrect data check\)/);
  });

  it('fails on a truncated gzip file', async () => {
    const good = gzipSync(`customer_id\n${'C1\n'.repeat(10_000)}`);
    const { error } = await failure({ 'customers.csv.gz': good.subarray(0, good.length - 10), 'orders.csv': ORDERS_CSV });
    expect(error.message).toMatch(/customers\.csv\.gz: is not a valid gzip file \(unexpected end of file\)/);
  });

  it('fails on binary content', async () => {
    const garbage = Buffer.alloc(4096);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919) % 256;
    const { error, dir } = await failure({ 'customers.csv': CUSTOMERS_CSV, 'orders-0001.csv': garbage });
    expect(error.file).toBe(`${dir}/orders-0001.csv`);
    expect(error.message).toContain('is not a UTF-8 text file');
  });

  it('fails on a corrupt or binary JSONL file', async () => {
    const good = gzipSync('{"customer_id":"C1"}\n'.repeat(1000));
    const truncated = await failure({ 'customers.jsonl.gz': good.subarray(0, good.length - 12), 'orders.csv': ORDERS_CSV });
    expect(truncated.error.message).toMatch(/customers\.jsonl\.gz: is not a valid gzip file/);
    const binary = await failure({ 'customers.jsonl': Buffer.from([0x7b, 0, 1, 2, 3, 0x7d, 0x0a]), 'orders.csv': ORDERS_CSV });
    expect(binary.error.message).toMatch(/customers\.jsonl, line 1: is not a UTF-8 text file/);
  });

  // A zeroed block far into a file (disk or copy corruption) merged its lines into one reject, under the reject share.
  it.each([
    ['a CSV', 'orders.csv', (bytes: Buffer) => bytes],
    ['a gzipped CSV', 'orders.csv.gz', (bytes: Buffer) => gzipSync(bytes)],
  ])('fails on NUL bytes anywhere in %s, naming their line', async (_, name, encode) => {
    const lines = ['order_id,customer_id,ordered_at,line_total', ...Array.from({ length: 1000 }, (_, i) => `O${i},C1,2026-11-20T10:00:00+08:00,10.00`)];
    const text = `${lines.join('\n')}\n`;
    const zeroed = Buffer.from(text).fill(0, 20_000, 24_096);
    const line = text.slice(0, 20_000).split('\n').length;
    const { error, dir } = await failure({ 'customers.csv': CUSTOMERS_CSV, [name]: encode(zeroed) }, { maxRejectShare: 0.05 });
    expect(error.message).toBe(`${dir}/${name}, line ${line}: is not a UTF-8 text file (it contains binary data: a NUL byte)`);
    expect(error.line).toBe(line);
  });

  it('fails on a NUL byte anywhere in a JSONL file, naming its line', async () => {
    const text = `${'{"customer_id":"C1"}\n'.repeat(1000)}{"customer_id":"C2\0"}\n`;
    const { error, dir } = await failure({ 'customers.jsonl': text, 'orders.csv': ORDERS_CSV });
    expect(error.message).toBe(`${dir}/customers.jsonl, line 1001: is not a UTF-8 text file (it contains binary data: a NUL byte)`);
  });

  it('fails on UTF-16 text', async () => {
    const { error } = await failure({ 'customers.csv': Buffer.from('\uFEFFcustomer_id\r\nC1\r\n', 'utf16le'), 'orders.csv': ORDERS_CSV });
    expect(error.message).toContain('customers.csv, line 1: is not a UTF-8 text file');
  });

  it('fails on an unclosed quote, with its line', async () => {
    const { error, dir } = await failure({
      'customers.csv': CUSTOMERS_CSV,
      'orders.csv': 'order_id,customer_id,ordered_at,line_total\nO1,C1,2026-11-22T00:00:00Z,1\nO2,"C1,2026-11-22T00:00:00Z,1\nO3,C1,2026-11-22T00:00:00Z,1\n',
    });
    expect(error.file).toBe(`${dir}/orders.csv`);
    expect(error.message).toMatch(/orders\.csv, line \d+: is not valid CSV: a quoted field is still open at the end of the file/);
    expect(error.line).toBeGreaterThanOrEqual(3);
  });

  it('fails on an empty CSV file and on an empty first line', async () => {
    expect((await failure({ 'customers.csv': '', 'orders.csv': ORDERS_CSV })).error.message).toContain('customers.csv: has no data rows');
    expect((await failure({ 'customers.csv': '\ncustomer_id\nC1\n', 'orders.csv': ORDERS_CSV })).error.message).toContain(
      'customers.csv, line 1: first line is empty',
    );
  });

  it('fails when customers or orders are missing from a full export', async () => {
    const noOrders = await failure({ 'customers.csv': CUSTOMERS_CSV, 'products.csv': 'sku\nP1\n' });
    expect(noOrders.error.file).toBe(noOrders.dir);
    expect(noOrders.error.message).toContain('no orders file found');
    const nothing = await failure({ 'notes.txt': 'hello' });
    expect(nothing.error.message).toContain('no customers or orders file found');
  });

  it('refuses a file that looks like an export but has an unsupported extension', async () => {
    const { error, dir } = await failure({ 'customers.csv': CUSTOMERS_CSV, 'orders.csv': ORDERS_CSV, 'orders-0002.xlsx': 'PK' });
    expect(error.file).toBe(`${dir}/orders-0002.xlsx`);
    expect(error.message).toContain('extension is not supported');
  });

  it('fails when the share of rejected rows is above the threshold, naming the worst files', async () => {
    const orders = csv([
      ['order_id', 'customer_id', 'ordered_at', 'line_total'],
      ...Array.from({ length: 18 }, (_, i) => [`O${i}`, 'C1', '2026-11-22T00:00:00Z', '1']),
      ['B1', 'C1', 'not a date', '1'],
      ['B2', 'C1', 'not a date', '1'],
    ]);
    const customers = csv([['customer_id'], ['C1'], ['']]) + ',\n';
    const { error, dir } = await failure(
      { 'customers.csv': customers, 'orders.csv': orders, 'orders-2.csv': 'order_id,customer_id,ordered_at,line_total\nX,,,\n' },
      { maxRejectShare: 0.05 },
    );
    // Each file on its own: the worst share first.
    expect(error.file).toBe(`${dir}/orders-2.csv`);
    expect(error.message).toBe(
      `${dir}/orders-2.csv: 100% of its rows rejected (1 of 1), above the maxRejectShare threshold of 5%; nothing was written. ` +
        `Also above it: ${dir}/orders.csv (2 of 20 rows)`,
    );
  });

  it('passes at the threshold and reports the rejects', async () => {
    const orders = csv([
      ['order_id', 'customer_id', 'ordered_at', 'line_total'],
      ...Array.from({ length: 19 }, (_, i) => [`O${i}`, 'C1', '2026-11-22T00:00:00Z', '1']),
    ]);
    const { result } = await readFiles(
      { 'customers.csv': 'customer_id\nC1\n', 'orders.csv': `${orders}B1,C1,2026-11-22T00:00:00Z,-1\n` },
      { maxRejectShare: 0.05 },
    );
    expect(result).toMatchObject({ rows: 21, rejected: 1 });
  });

  it('lets an error thrown by a handler through untouched', async () => {
    const dir = await exportDir({ 'customers.csv': CUSTOMERS_CSV, 'orders.csv': ORDERS_CSV });
    const boom = new Error('aggregator full');
    const handlers = {
      ...collector().handlers,
      order: () => {
        throw boom;
      },
    };
    await expect(readExport(directoryExportSource(dir), handlers, { config: testConfig(), now: TEST_NOW })).rejects.toBe(boom);
  });
});

describe('manifest', () => {
  it('is full by default and incremental when the manifest says so', async () => {
    expect((await readFiles({ 'customers.csv': CUSTOMERS_CSV, 'orders.csv': ORDERS_CSV })).result.mode).toBe('full');
    const incremental = await readFiles({ '_manifest.json': '{"mode":"incremental","generatedAt":"2026-11-23T02:00:00Z"}', 'orders.csv': ORDERS_CSV });
    expect(incremental.result.mode).toBe('incremental');
    expect(incremental.orders).toHaveLength(1);
  });

  it('fails on an invalid manifest', async () => {
    const dir = await exportDir({ '_manifest.json': '{"mode":"partial"}', 'customers.csv': CUSTOMERS_CSV, 'orders.csv': ORDERS_CSV });
    const error = await readExport(directoryExportSource(dir), collector().handlers, { config: testConfig(), now: TEST_NOW }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExportError);
    expect((error as ExportError).message).toMatch(/_manifest\.json: is not a valid manifest: mode:/);
  });
});
