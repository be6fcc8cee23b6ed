import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { checkRejectShares, ExportError } from '#shared/exports/reader.ts';
import type { FileReport } from '#shared/exports/types.ts';
import { csv, CUSTOMERS, failure, ORDER_HEADER, orders, read, removeExportDirs } from './reading.ts';

afterAll(removeExportDirs);

/** Issue 13, the reader's half: file-level guards. Each fails the whole read with an ExportError naming the file. */

describe('every file has data rows', () => {
  it.each([
    ['an orders file with only its header', { 'customers.csv': CUSTOMERS, 'orders.csv': 'order_id,customer_id,ordered_at,line_total\n' }, 'orders.csv'],
    ['an orders file with its header and blank lines', { 'customers.csv': CUSTOMERS, 'orders.csv': 'order_id,customer_id,ordered_at,line_total\n\n\n' }, 'orders.csv'],
    ['an empty customers file', { 'customers.csv': '', 'orders.csv': orders(1) }, 'customers.csv'],
    ['a products file with only its header', { 'customers.csv': CUSTOMERS, 'products.csv': 'sku,name\n', 'orders.csv': orders(1) }, 'products.csv'],
    ['an empty JSONL orders part', { 'customers.csv': CUSTOMERS, 'orders-1.csv': orders(1), 'orders-2.jsonl': '\n' }, 'orders-2.jsonl'],
    ['a gzipped header-only file', { 'customers.csv': CUSTOMERS, 'orders.csv.gz': gzipSync('order_id,customer_id,ordered_at,line_total\n') }, 'orders.csv.gz'],
  ])('fails %s', async (_, files, name) => {
    const { error, dir } = await failure(files);
    expect(error.file).toBe(`${dir}/${name}`);
    expect(error.message).toBe(`${dir}/${name}: has no data rows (only a header, or nothing): an export that failed to write?`);
  });
});

describe('truncated files', () => {
  it('fails a CSV whose last record has fewer fields than the header, naming its line', async () => {
    const cut = `${orders(3)}O4,C1,2026-11-2`;
    const { error, dir } = await failure({ 'customers.csv': CUSTOMERS, 'orders.csv': cut });
    expect(error.file).toBe(`${dir}/orders.csv`);
    expect(error.line).toBe(5);
    expect(error.message).toBe(`${dir}/orders.csv, line 5: is truncated: its last record has 3 of the header's 4 columns`);
  });

  // exports.md: a file that ends inside a record fails the run. Cut inside its last field, a
  // record keeps all its columns and may still read as valid ("1200.00" as "12", an email as a
  // shorter address): only its missing line ending tells.
  it.each([
    ['an orders file cut inside its last amount', { 'customers.csv': CUSTOMERS, 'orders.csv': orders(3).slice(0, -4) }, 'orders.csv', 4],
    ['a customers file cut inside its last email', { 'customers.csv': CUSTOMERS.slice(0, -2), 'orders.csv': orders(1) }, 'customers.csv', 3],
    ['a CRLF file', { 'customers.csv': CUSTOMERS.replaceAll('\n', '\r\n').slice(0, -2), 'orders.csv': orders(1) }, 'customers.csv', 3],
    ['a CR-only file', { 'customers.csv': CUSTOMERS.replaceAll('\n', '\r').slice(0, -1), 'orders.csv': orders(1) }, 'customers.csv', 3],
    ['a last record ending in a closed quote', { 'customers.csv': CUSTOMERS, 'orders.csv': `${orders(1)}O2,C1,2026-11-22T10:00:00Z,"1.00"` }, 'orders.csv', 3],
    ['a gzipped file', { 'customers.csv': CUSTOMERS, 'orders.csv.gz': gzipSync(orders(3).slice(0, -1)) }, 'orders.csv.gz', 4],
    ['a Shopify file', { 'customers_export.csv': 'Customer ID,Email\n1,mei.chen@example.com', 'orders.csv': orders(1) }, 'customers_export.csv', 2],
  ])('fails a CSV whose last record does not end with a line ending: %s', async (_, files, name, line) => {
    const { error, dir } = await failure(files);
    expect(error.file).toBe(`${dir}/${name}`);
    expect(error.line).toBe(line);
    expect(error.message).toBe(
      `${dir}/${name}, line ${line}: is truncated: its last record does not end with a line ending (a file cut short?). Every record, the last too, must end with one, unless _manifest.json lists the file with its sha256`,
    );
  });

  it('reads a CSV whose last record ends with a line ending, whichever the file uses', async () => {
    for (const eol of ['\n', '\r\n', '\r']) {
      const { customers } = await read({ 'customers.csv': CUSTOMERS.replaceAll('\n', eol), 'orders.csv': orders(1) });
      expect(customers.map((c) => c.email)).toEqual(['c1@example.com', 'c2@example.com']);
    }
  });

  it('still rejects a short record that is not the last one, as one bad row', async () => {
    const { result } = await read({ 'customers.csv': CUSTOMERS, 'orders.csv': `${orders(3)}O4,C1\n${'O5,C1,2026-11-22T10:00:00Z,1.00\n'}` }, { config: { maxRejectShare: 1 } });
    expect(result.rejects).toEqual([expect.objectContaining({ line: 5, reason: 'row has 2 columns, the header has 4' })]);
    expect(result.files[1]).toMatchObject({ rows: 5, rejected: 1 });
  });

  it('fails a CSV cut inside a quoted field (as before)', async () => {
    const { error } = await failure({ 'customers.csv': 'customer_id,first_name\nC1,"Ann', 'orders.csv': orders(1) });
    expect(error.message).toMatch(/customers\.csv, line 2: is not valid CSV: a quoted field is still open at the end of the file/);
  });

  it('fails a JSONL file whose last line is not a complete JSON object', async () => {
    const jsonl = '{"order_id":"O1","customer_id":"C1","ordered_at":"2026-11-22T10:00:00Z","line_total":"1"}\n{"order_id":"O2","customer_id":"C1","ord';
    const { error, dir } = await failure({ 'customers.csv': CUSTOMERS, 'orders.jsonl': jsonl });
    expect(error.file).toBe(`${dir}/orders.jsonl`);
    expect(error.message).toBe(`${dir}/orders.jsonl, line 2: is truncated: its last line is not a complete JSON object`);
  });

  it('keeps a broken JSONL line before the last one a reject, and a last line without its newline whole', async () => {
    const line = (id: string) => `{"order_id":"${id}","customer_id":"C1","ordered_at":"2026-11-22T10:00:00Z","line_total":"1"}`;
    const { result, orders: read2 } = await read(
      { 'customers.csv': CUSTOMERS, 'orders.jsonl': [line('O1'), '{"order_id":', line('O3')].join('\n') },
      { config: { maxRejectShare: 1 } },
    );
    expect(read2.map((o) => o.orderId)).toEqual(['O1', 'O3']);
    expect(result.rejects).toEqual([expect.objectContaining({ line: 2, reason: 'invalid JSON' })]);
  });

  it('fails a truncated gzip file (as before)', async () => {
    const gz = gzipSync(orders(2000));
    const { error } = await failure({ 'customers.csv': CUSTOMERS, 'orders.csv.gz': gz.subarray(0, gz.length - 20) });
    expect(error.message).toMatch(/orders\.csv\.gz: is not a valid gzip file \(unexpected end of file\)/);
  });
});

describe('duplicated files', () => {
  it('fails two files with the same content, naming both', async () => {
    const { error, dir } = await failure({ 'customers.csv': CUSTOMERS, 'orders-0001.csv': orders(5), 'orders-0002.csv': orders(5) });
    expect(error.file).toBe(`${dir}/orders-0002.csv`);
    expect(error.message).toBe(`${dir}/orders-0002.csv: has the same content as ${dir}/orders-0001.csv (same sha256): a part exported twice?`);
  });

  // A browser's second download of the same name ("orders (1).csv") is read as a part of its export, so a download
  // twice over is caught as any part exported twice; a part numbered with a space ("orders 2.csv") is read too.
  it('reads "orders (1).csv" and "orders 2.csv" as parts, and fails one that repeats another', async () => {
    const { orders: read2, result } = await read({ 'customers.csv': CUSTOMERS, 'orders.csv': orders(1), 'orders (1).csv': orders(1, 2), 'orders 2.csv': orders(1, 3) });
    expect(read2.map((o) => o.orderId).sort()).toEqual(['O1', 'O2', 'O3']);
    expect(result.files).toHaveLength(4);
    const twin = await failure({ 'customers.csv': CUSTOMERS, 'orders.csv': orders(5), 'orders (1).csv': orders(5) });
    expect(twin.error.message).toMatch(/has the same content as .* \(same sha256\)/);
    expect([twin.error.message.indexOf(`${twin.dir}/orders.csv`), twin.error.message.indexOf(`${twin.dir}/orders (1).csv`)]).not.toContain(-1);
    const overlapping = await failure({ 'customers.csv': CUSTOMERS, 'orders.csv': orders(5), 'orders (1).csv': orders(6) });
    expect(overlapping.error.message).toMatch(/repeats order lines of/);
    const customers = await failure({ 'customers.csv': CUSTOMERS, 'customers (1).csv': CUSTOMERS, 'orders.csv': orders(1) });
    expect(customers.error.message).toMatch(/customers( \(1\))?\.csv: has the same content as/);
  });

  it('fails the same content under two kinds of name too', async () => {
    const { error, dir } = await failure({ 'customers.csv': CUSTOMERS, 'customers-copy.csv': CUSTOMERS, 'orders.csv': orders(1) });
    expect(error.message).toContain(`${dir}/customers.csv`);
    expect(error.message).toContain(`${dir}/customers-copy.csv`);
  });

  it('fails an order line found in two orders parts (orders-copy.csv beside orders.csv), naming both', async () => {
    // Not the same bytes: a different line order and line ends, one more line, a JSONL part in between.
    const original = csv([ORDER_HEADER, ['O1', 'C1', '2026-11-22T10:00:00Z', '10.00'], ['O2', 'C2', '2026-11-22T11:00:00Z', '20.00']]);
    const copy = csv([ORDER_HEADER, ['O9', 'C1', '2026-11-22T12:00:00Z', '5.00'], ['O2', 'C2', '2026-11-22T11:00:00Z', '20.00']], '\r\n');
    const jsonl = '{"order_id":"O7","customer_id":"C1","ordered_at":"2026-11-22T10:00:00Z","line_total":"1"}\n';
    const { error, dir } = await failure({ 'customers.csv': CUSTOMERS, 'orders.csv': original, 'orders-copy.csv': copy, 'orders-b.jsonl': jsonl });
    expect(error.file).toBe(`${dir}/orders-copy.csv`);
    expect(error.message).toBe(
      `${dir}/orders-copy.csv: repeats order lines of ${dir}/orders.csv (the same values on a line of each): a part exported twice, or overlapping parts?`,
    );
  });

  it('compares the values, whatever the column order, quoting and spaces of each part', async () => {
    const a = 'order_id,customer_id,ordered_at,line_total\nO1,C1,2026-11-22T10:00:00Z,10.00\n';
    const b = 'line_total,order_id,ordered_at,customer_id\n" 10.00",O1,2026-11-22T10:00:00Z,"C1"\nO2,1.00,2026-11-22T10:00:00Z,C1\n';
    const { error } = await failure({ 'customers.csv': CUSTOMERS, 'orders-a.csv': a, 'orders-b.csv': b });
    expect(error.message).toMatch(/orders-b\.csv: repeats order lines of .*orders-a\.csv/);
  });

  it('compares the lines as read: the same instant in another offset, the same amount written another way, JSONL for CSV', async () => {
    const a = 'order_id,customer_id,ordered_at,line_total,sku\nO1,C1,2026-11-22T18:00:00+08:00,42.00,SK-1\n';
    for (const b of [
      'order_id,customer_id,ordered_at,line_total,sku\nO1,C1,2026-11-22T10:00:00Z,42,SK-1\n',
      'order_id,customer_id,ordered_at,line_total,sku,quantity,status,refunded_amount\nO1,C1,2026-11-22T10:00:00.000Z,42.0,SK-1,1,PAID,0\n',
    ]) {
      const { error } = await failure({ 'customers.csv': CUSTOMERS, 'orders-a.csv': a, 'orders-b.csv': b });
      expect(error.message).toMatch(/orders-b\.csv: repeats order lines of .*orders-a\.csv/);
    }
    const jsonl = '{"order_id":"O1","customer_id":"C1","ordered_at":"2026-11-22T10:00:00Z","line_total":42,"sku":"SK-1"}\n';
    const { error } = await failure({ 'customers.csv': CUSTOMERS, 'orders-a.csv': a, 'orders-b.jsonl': jsonl });
    expect(error.message).toMatch(/orders-b\.jsonl: repeats order lines of .*orders-a\.csv/);
    // A line that differs in what it says is another line: a refund, another quantity.
    const { result } = await read({
      'customers.csv': CUSTOMERS,
      'orders-a.csv': a,
      'orders-b.csv': 'order_id,customer_id,ordered_at,line_total,sku,quantity\nO1,C1,2026-11-22T10:00:00Z,42,SK-1,2\n',
    });
    expect(result.rows).toBe(2 + 2);
  });

  it('allows the same line twice within one part, and the same customer in several customers parts', async () => {
    const line = ['O1', 'C1', '2026-11-22T10:00:00Z', '10.00'];
    const { result, customers } = await read({
      'customers-1.csv': 'customer_id,email\nC1,old@example.com\n',
      'customers-2.csv': 'customer_id,email\nC1,new@example.com\n',
      'orders-1.csv': csv([ORDER_HEADER, line, line]),
      'orders-2.csv': orders(2, 100),
    });
    expect(result.rejected).toBe(0);
    expect(customers.map((c) => c.email)).toEqual(['old@example.com', 'new@example.com']);
  });

  it('tells lines that differ in one value apart, including where one value ends and the next starts', async () => {
    const { result } = await read({
      'customers.csv': CUSTOMERS,
      'orders-1.csv': csv([ORDER_HEADER, ['O1', 'C1', '2026-11-22T10:00:00Z', '10.00'], ['O12', 'C', '2026-11-22T10:00:00Z', '1.00']]),
      'orders-2.csv': csv([ORDER_HEADER, ['O1', 'C1', '2026-11-22T10:00:00Z', '10.01'], ['O1', '2C', '2026-11-22T10:00:00Z', '1.00']]),
    });
    expect(result.rows).toBe(2 + 4);
  });
});

describe('a Shopify order read twice', () => {
  const SHOPIFY_CUSTOMERS = 'Customer ID,Email\n1,mei@example.com\n2,tom@example.com\n';
  const HEADER = 'Name,Email,Financial Status,Currency,Subtotal,Refunded Amount,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Id';
  const order = (name: string, id: string, status = 'paid', refunded = '') => [
    `${name},mei@example.com,${status},USD,3000.00,${refunded},2026-11-22 10:00:00 +0800,1,Cream,2000.00,CREAM,${id}`,
    `${name},,,,,,,1,Serum,1000.00,SERUM,`,
  ];
  const others = (from: number, count: number) =>
    Array.from({ length: count }, (_, k) => `#${from + k},tom@example.com,paid,USD,10.00,,2026-11-22 09:00:00 +0800,1,Tea,10.00,TEA,${9000 + from + k}`);
  const file = (...rows: string[][]) => [HEADER, ...rows.flat()].join('\n') + '\n';

  it('fails an order whose group of rows comes again later in the same file, naming both lines and no value', async () => {
    // Two date-range exports pasted into one file: the order's lines would be summed into one order of twice its amount.
    const { error, dir } = await failure({ 'customers_export.csv': SHOPIFY_CUSTOMERS, 'orders_export.csv': file(order('#1001', '5001'), others(2000, 3), order('#1001', '5001')) });
    expect(error.file).toBe(`${dir}/orders_export.csv`);
    expect(error.line).toBe(7);
    expect(error.message).toBe(
      `${dir}/orders_export.csv, line 7: an order read twice: the group of rows starting here has the Id (or, without one, the Name) of the group starting at line 2, ` +
        'and a Shopify order is one group of rows (overlapping exports or parts?)',
    );
  });

  it.each([
    ['in this thread', 0],
    ['in worker threads', 2],
  ])('fails an order found in two orders parts with different content (a refund in between), naming both files (%s)', async (_, threads) => {
    const { error, dir } = await failure(
      {
        'customers_export.csv': SHOPIFY_CUSTOMERS,
        'orders_export_1.csv': file(others(2000, 2), order('#1001', '5001')),
        'orders_export_2.csv': file(order('#1001', '5001', 'partially_refunded', '500.00'), others(3000, 2)),
      },
      { threads },
    );
    expect(error.file).toBe(`${dir}/orders_export_2.csv`);
    expect(error.message).toBe(
      `${dir}/orders_export_2.csv, line 2: an order read twice: the group of rows starting here has the Id (or, without one, the Name) of the group starting at line 4 ` +
        `of ${dir}/orders_export_1.csv, and a Shopify order is one group of rows (overlapping exports or parts?)`,
    );
  });

  it('keys the orders as they are read: the same Id under another Name is the same order, the same Name without an Id too', async () => {
    const sameId = await failure({ 'customers_export.csv': SHOPIFY_CUSTOMERS, 'orders_export.csv': file(order('#1001', '5001'), order('#1002', '5001')) });
    expect(sameId.error.line).toBe(4);
    const sameName = await failure({ 'customers_export.csv': SHOPIFY_CUSTOMERS, 'orders_export.csv': file(order('#1001', ''), others(2000, 1), order('#1001', '')) });
    expect(sameName.error.line).toBe(5);
  });

  it('reads orders each in one group, in one part or several, and the same Name under two Ids as two orders (two stores may share a Name)', async () => {
    const { result, orders: lines } = await read({
      'customers_export.csv': SHOPIFY_CUSTOMERS,
      'orders_export_1.csv': file(order('#1001', '5001'), others(2000, 2)),
      'orders_export_2.csv': file(order('#1001', '6001'), others(3000, 2)),
    });
    expect(result.rejected).toBe(0);
    expect(new Set(lines.map((line) => line.orderId))).toEqual(new Set(['5001', '6001', '11000', '11001', '12000', '12001']));
  });

  it('still reads a generic order whose lines are spread over rows and parts', async () => {
    const line = (sku: string) => ['O1', 'C1', '2026-11-22T10:00:00Z', '10.00', sku];
    const header = [...ORDER_HEADER, 'sku'];
    const { result, orders: lines } = await read({
      'customers.csv': CUSTOMERS,
      'orders-1.csv': csv([header, line('A'), ['O2', 'C2', '2026-11-22T10:00:00Z', '5.00', 'B'], line('C')]),
      'orders-2.csv': csv([header, line('D')]),
    });
    expect(result.rejected).toBe(0);
    expect(lines.filter((l) => l.orderId === 'O1').map((l) => l.sku)).toEqual(['A', 'C', 'D']);
  });
});

describe('the share of rejected rows, per file', () => {
  // 120 bad rows in a customers file of 300 passed at 4.12% overall before.
  const customers = csv([
    ['customer_id', 'email'],
    ...Array.from({ length: 300 }, (_, i) => [i < 120 ? '' : `C${i}`, `c${i}@example.com`]),
  ]);
  const manyOrders = orders(2600);

  it('fails one file above maxRejectShare even when the export as a whole is below it', async () => {
    const { error, dir } = await failure({ 'customers.csv': customers, 'orders.csv': manyOrders });
    expect(error.file).toBe(`${dir}/customers.csv`);
    expect(error.message).toBe(
      `${dir}/customers.csv: 40% of its rows rejected (120 of 300), above the maxRejectShare threshold of 5%; nothing was written.`,
    );
  });

  it('leaves the check to the caller when told to, with checkRejectShares to call afterwards', async () => {
    const { result } = await read({ 'customers.csv': customers, 'orders.csv': manyOrders }, { checkRejectShares: false });
    expect(result.files.map((f) => [f.rows, f.rejected])).toEqual([
      [300, 120],
      [2600, 0],
    ]);
    expect(() => checkRejectShares(result.files, 0.05)).toThrow(ExportError);
    expect(() => checkRejectShares(result.files, 0.4)).not.toThrow();
  });

  it('counts the rejects a caller adds after reading', () => {
    const file = (location: string, rows: number, rejected: number): FileReport => ({
      location,
      kind: 'orders',
      format: 'generic',
      rows,
      rejected,
      warnings: 0,
      sha256: '',
      bytes: 0,
    });
    const files = [file('orders-1.csv', 100, 5), file('orders-2.csv', 100, 3)];
    expect(() => checkRejectShares(files, 0.05)).not.toThrow(); // exactly at the threshold passes
    (files[1] as FileReport).rejected += 4; // orders for unknown customers, say
    expect(() => checkRejectShares(files, 0.05)).toThrow('orders-2.csv: 7% of its rows rejected (7 of 100)');
  });
});

describe('file fingerprints', () => {
  it('reports the sha256 and size of each file as stored (compressed for a .gz)', async () => {
    const gz = gzipSync(orders(3));
    const { result } = await read({ 'customers.csv': CUSTOMERS, 'orders.csv.gz': gz });
    expect(result.files.map((f) => [f.sha256, f.bytes])).toEqual([
      [createHash('sha256').update(CUSTOMERS).digest('hex'), Buffer.byteLength(CUSTOMERS)],
      [createHash('sha256').update(gz).digest('hex'), gz.length],
    ]);
    expect(result.files.map((f) => f.warnings)).toEqual([0, 0]);
  });
});

describe('reading order', () => {
  // exports.md: a customer listed in several parts is taken from the last one read ("last one wins by file order").
  it('reads parts by their numbers (2 before 10) and a name before its " (1)" copy, so the later part\'s row wins', async () => {
    const customers = (email: string) => `customer_id,email\nC1,${email}\n`;
    const { customers: numbered, result } = await read({
      'customers-2.csv': customers('old@example.com'),
      'customers-10.csv': customers('new@example.com'),
      'orders.csv': orders(1),
    });
    expect(result.files.map((f) => f.location.split('/').pop())).toEqual(['customers-2.csv', 'customers-10.csv', 'orders.csv']);
    expect(numbered.map((c) => c.email)).toEqual(['old@example.com', 'new@example.com']);
    const copies = await read({ 'customers_export (1).csv': 'Customer ID,Email\n1,new@example.com\n', 'customers_export.csv': 'Customer ID,Email\n1,old@example.com\n', 'orders.csv': orders(1) });
    expect(copies.result.files.map((f) => f.location.split('/').pop())).toEqual(['customers_export.csv', 'customers_export (1).csv', 'orders.csv']);
  });
});
