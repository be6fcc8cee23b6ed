import { availableParallelism } from 'node:os';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ExportError, readExport } from '#shared/exports/reader.ts';
import { forEachOrderLine, ORDER_BATCH_LINES, OrderLineBatchWriter, type OrderLineBatch } from '#shared/exports/order-line-batch.ts';
import type { Worker } from 'node:worker_threads';
import { BLOCKS_FROM_BYTES, defaultReaderThreads, fileThreadsWorkerUrl, readFilesInThreads, ReaderThreads, THREADS_FROM_BYTES, usableCores } from '#shared/exports/file-threads.ts';
import { directoryExportSource, type ExportSource } from '#shared/exports/source.ts';
import { ORDER_STATUSES, type OrderLine } from '#shared/model.ts';
import { config, csv, exportDir, memorySource, NOW, receiver, removeExportDirs } from './reading.ts';

/**
 * Orders files read in worker threads (file-threads.ts) give what reading them in the calling
 * thread gives: the same lines (as a multiset: the files' lines interleave), positions, file
 * reports, rejects and warnings kept, and the same error for every export that cannot be trusted.
 */

afterAll(removeExportDirs);

type Outcome =
  | { read: { customers: string[]; orders: string[]; positions: string[]; result: unknown } }
  | { error: { name: string; message: string; file?: string; line?: number | undefined } };

/** Reads `source` with `threads` worker threads and says what came of it, in a form toEqual compares. */
async function outcome(source: ExportSource, threads: number, configInput: Parameters<typeof config>[0] = {}, blockBytes?: number): Promise<Outcome> {
  const received = receiver();
  try {
    const result = await readExport(source, received.handlers, { now: NOW, config: config(configInput), threads, ...(blockBytes !== undefined ? { blockBytes } : {}) });
    return {
      read: {
        customers: received.customers.map((c) => JSON.stringify(c)),
        orders: received.orders.map((o) => JSON.stringify(definedOnly(o))).sort(),
        positions: [...received.positions].sort(),
        result,
      },
    };
  } catch (error) {
    if (error instanceof ExportError) return { error: { name: error.name, message: error.message, file: error.file, line: error.line } };
    if (error instanceof Error) return { error: { name: error.name, message: error.message } };
    throw error;
  }
}

/** The same object without its undefined properties (the format modules set some, the batches all). */
function definedOnly(line: OrderLine): Partial<OrderLine> {
  return Object.fromEntries(Object.entries(line).filter(([, value]) => value !== undefined));
}

/** Reads the files both ways; returns what the threads gave once it is shown equal to reading here. */
async function readBothWays(files: Record<string, string | Buffer>, configInput: Parameters<typeof config>[0] = {}): Promise<Outcome> {
  const source = directoryExportSource(await exportDir(files));
  const here = await outcome(source, 0, configInput);
  const inThreads = await outcome(source, 2, configInput);
  expect(inThreads).toEqual(here);
  // More threads than orders files: each file read by all of them, in blocks of a few bytes.
  expect(await outcome(source, 3, configInput, 23)).toEqual(here);
  return inThreads;
}

const CUSTOMERS = 'customer_id,email\nC1,c1@example.com\nC2,c2@example.com\nC3,c3@example.com\n';
const HEADER = ['order_id', 'customer_id', 'ordered_at', 'sku', 'product_name', 'category', 'quantity', 'status', 'line_total', 'refunded_amount'];

function orderRows(count: number, from: number, customer = 'C1'): string[][] {
  return Array.from({ length: count }, (_, i) => [
    `O${Math.floor((from + i) / 2)}`,
    customer,
    `2026-11-${String(1 + ((from + i) % 20)).padStart(2, '0')}T10:00:00Z`,
    `SKU-${from + i}`,
    (from + i) % 3 === 0 ? 'Silk "No. 5", scarf' : '丝巾',
    (from + i) % 2 === 0 ? 'accessories' : '',
    String(1 + ((from + i) % 3)),
    ORDER_STATUSES[(from + i) % 3] as string,
    `${(from + i) % 50}.${String((from + i) % 100).padStart(2, '0')}`,
    (from + i) % 3 === 1 ? '1.00' : '',
  ]);
}

describe('order line batches', () => {
  const lineArbitrary: fc.Arbitrary<OrderLine> = fc.record(
    {
      orderId: fc.string({ minLength: 1, maxLength: 12 }),
      customerId: fc.option(fc.constantFrom('C1', 'C2', '客户-3', ''), { nil: undefined }),
      email: fc.option(fc.constantFrom('a@example.com', 'b@example.com'), { nil: undefined }),
      orderedAt: fc.integer({ min: 0, max: 4_102_444_800_000 }),
      sku: fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
      productName: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
      category: fc.option(fc.constantFrom('skin', 'silk', '香水'), { nil: undefined }),
      quantity: fc.integer({ min: 1, max: 10_000 }),
      lineTotalMinor: fc.integer({ min: -1e12, max: 1e12 }),
      refundedMinor: fc.integer({ min: 0, max: 1e12 }),
      status: fc.constantFrom(...ORDER_STATUSES),
    },
    { requiredKeys: ['orderId', 'orderedAt', 'quantity', 'lineTotalMinor', 'refundedMinor', 'status'] },
  );

  it('give back every line and its line number as added, in order, whatever the batch boundaries; with productTextsOnce, each product text once per batch', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(lineArbitrary, fc.integer({ min: 2, max: 2 ** 32 - 1 })), { maxLength: 300 }), fc.integer({ min: 1, max: 50 }), fc.boolean(), (lines, every, productTextsOnce) => {
        const writer = new OrderLineBatchWriter(ORDER_BATCH_LINES, { productTextsOnce });
        const batches: OrderLineBatch[] = [];
        lines.forEach(([line, at], i) => {
          writer.add(line, at);
          if (writer.full || i % every === every - 1) batches.push(writer.take() as OrderLineBatch);
        });
        const last = writer.take();
        if (last !== undefined) batches.push(last);
        const back: [Partial<OrderLine>, number][] = [];
        for (const batch of batches) {
          if (productTextsOnce) {
            // A product text (sku, name, category) is referenced from one place in the batch's texts only.
            const productRefs = new Map<string, Set<number>>();
            for (let i = 0; i < batch.count; i++) {
              for (const field of [3, 4, 5]) {
                const ref = batch.textRefs[i * 6 + field] as number;
                if (ref === -1) continue;
                const text = batch.texts[ref] as string;
                productRefs.set(text, (productRefs.get(text) ?? new Set()).add(ref));
              }
            }
            for (const refs of productRefs.values()) expect(refs.size).toBe(1);
          }
          // Structured clone, as postMessage sends them.
          forEachOrderLine(structuredClone(batch), (line, at) => back.push([definedOnly(line), at]));
        }
        expect(back).toEqual(lines.map(([line, at]) => [definedOnly(line), at]));
      }),
      { numRuns: 200 },
    );
  });

  it('with productTextsOnce, send a product named on every other line once', () => {
    const writer = new OrderLineBatchWriter(ORDER_BATCH_LINES, { productTextsOnce: true });
    for (let i = 0; i < 100; i++) writer.add({ orderId: `O${i}`, orderedAt: 0, quantity: 1, lineTotalMinor: 100, refundedMinor: 0, status: 'paid', sku: i % 2 ? 'SKU-A' : 'SKU-B', productName: i % 2 ? 'Serum' : 'Cream', category: 'care' }, i + 2);
    const batch = writer.take() as OrderLineBatch;
    expect(batch.texts.filter((text) => !text.startsWith('O'))).toEqual(['SKU-B', 'Cream', 'care', 'SKU-A', 'Serum']);
  });

  it('hold at most ORDER_BATCH_LINES lines, and say when they are full', () => {
    const writer = new OrderLineBatchWriter();
    const line: OrderLine = { orderId: 'O1', orderedAt: 0, quantity: 1, lineTotalMinor: 100, refundedMinor: 0, status: 'paid' };
    for (let i = 0; i < ORDER_BATCH_LINES; i++) writer.add(line, i + 2);
    expect(writer.full).toBe(true);
    expect(() => writer.add(line, 1)).toThrow(RangeError);
    const batch = writer.take() as OrderLineBatch;
    expect(batch.count).toBe(ORDER_BATCH_LINES);
    // The same order id line after line is sent once.
    expect(batch.texts).toEqual(['O1']);
    expect(writer.take()).toBeUndefined();
  });
});

describe('how many worker threads read the orders files', () => {
  it('none for small exports or unknown sizes, at most one per orders file and per core otherwise', () => {
    const orders = (size?: number) => ({ kind: 'orders', ...(size === undefined ? {} : { size }) });
    expect(defaultReaderThreads([orders(THREADS_FROM_BYTES - 1)], 2)).toBe(0);
    expect(defaultReaderThreads([orders(), orders()], 2)).toBe(0);
    expect(defaultReaderThreads([], 2)).toBe(0);
    // Products and advisors do not count; customers do.
    expect(defaultReaderThreads([{ kind: 'products', size: THREADS_FROM_BYTES }, orders(1)], 2)).toBe(0);
    expect(defaultReaderThreads([{ kind: 'customers', size: THREADS_FROM_BYTES }, orders(1)], 2)).toBe(1);
    // A repartition reads its customers beside its orders: one thread more for them, within the cores.
    const besides = { customersBesideOrders: true };
    expect(defaultReaderThreads([{ kind: 'customers', size: THREADS_FROM_BYTES }, orders(1)], 2, besides)).toBe(2);
    expect(defaultReaderThreads([{ kind: 'customers', size: THREADS_FROM_BYTES }, orders(1), orders(1)], 2, besides)).toBe(2);
    expect(defaultReaderThreads([{ kind: 'customers', size: THREADS_FROM_BYTES }, orders(1), orders(1)], 8, besides)).toBe(3);
    expect(defaultReaderThreads([orders(THREADS_FROM_BYTES)], 2, besides)).toBe(1);
    expect(defaultReaderThreads([{ kind: 'customers', size: THREADS_FROM_BYTES }], 2, besides)).toBe(1);
    expect(defaultReaderThreads([orders(THREADS_FROM_BYTES), ...Array.from({ length: 40 }, () => orders(1))], 2)).toBe(2);
    expect(defaultReaderThreads([orders(THREADS_FROM_BYTES), orders(1), orders(1)], 8)).toBe(3);
    // One core: no worker, it could only take turns with the aggregating thread.
    expect(defaultReaderThreads([orders(THREADS_FROM_BYTES), orders(1)], 1)).toBe(0);
  });

  it('one per core when a large file can be read in blocks by all of them: a generic CSV orders file, not gzip', () => {
    const file = (name: string, format = 'generic', encoding = 'csv', kind = name.split(/[-_.]/)[0] as string, size = BLOCKS_FROM_BYTES) => ({ kind, name, format, encoding, size });
    // Smaller, a second thread costs more than it saves.
    expect(defaultReaderThreads([file('orders.csv', 'generic', 'csv', 'orders', BLOCKS_FROM_BYTES - 1)], 8)).toBe(1);
    expect(defaultReaderThreads([file('orders.csv')], 8)).toBe(8);
    expect(defaultReaderThreads([file('customers.csv'), file('orders-1.csv.gz'), file('orders-2.csv')], 4, { customersBesideOrders: true })).toBe(4);
    // The customers are read in one thread, in order.
    expect(defaultReaderThreads([file('customers.csv'), file('orders.csv.gz')], 4, { customersBesideOrders: true })).toBe(2);
    expect(defaultReaderThreads([file('orders.csv')], 1)).toBe(0);
    // Neither a gzip stream, nor Shopify's orders (an order spans rows), nor JSONL is read in blocks.
    expect(defaultReaderThreads([file('orders.csv.gz')], 8)).toBe(1);
    expect(defaultReaderThreads([file('orders_export.csv', 'shopify', 'csv', 'orders')], 8)).toBe(1);
    expect(defaultReaderThreads([file('orders.jsonl', 'generic', 'jsonl')], 8)).toBe(1);
    expect(defaultReaderThreads([file('products.csv')], 8)).toBe(0);
  });

  it("counts a Lambda's whole vCPUs (1,769 MB each), not the cores it sees", () => {
    const machine = availableParallelism();
    expect(usableCores({})).toBe(machine);
    expect(usableCores({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '2048' })).toBe(1);
    expect(usableCores({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '3584' })).toBe(Math.min(machine, 2));
    expect(usableCores({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '10240' })).toBe(Math.min(machine, 5));
    expect(usableCores({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: 'lots' })).toBe(machine);
  });

  it('finds the worker beside this module from the sources, and beside the handler in a bundle', () => {
    expect(fileThreadsWorkerUrl('file:///repo/shared/exports/file-threads.ts').pathname).toBe('/repo/shared/exports/file-threads-worker.ts');
    expect(fileThreadsWorkerUrl('file:///var/task/index.mjs').pathname).toBe('/var/task/file-threads-worker.mjs');
  });
});

describe('orders files read in worker threads', () => {
  it('give the same lines, positions, reports, rejects and warnings as reading here (CSV, gzip, JSONL, BOM, CRLF)', async () => {
    const bad = [
      ['O900', 'C1', 'not a date', 'SKU-X', '', '', '1', 'paid', '1.00', ''],
      ['O901', 'C2', '2026-11-02T10:00:00Z', 'SKU-Y', '', '', 'many', 'paid', '1.00', ''],
    ];
    const jsonl = orderRows(40, 500, 'C3')
      .map(([order_id, customer_id, ordered_at, sku, product_name, category, quantity, status, line_total]) =>
        JSON.stringify({ order_id, customer_id, ordered_at, sku, product_name, category: category || undefined, quantity: Number(quantity), status, line_total }),
      )
      .join('\n');
    const outcome = await readBothWays({
      'customers.csv': CUSTOMERS,
      'orders-1.csv': csv([HEADER, ...orderRows(300, 0), ...bad]),
      'orders-2.csv.gz': gzipSync(csv([HEADER, ...orderRows(200, 300, 'C2')])),
      'orders-3.jsonl': `${jsonl}\n{"order_id":"O999","customer_id":"C1"}\n`,
      'orders-4.csv': `\uFEFF${csv([HEADER, ...orderRows(100, 1000, 'C3')]).replaceAll('\n', '\r\n')}`,
    });
    const result = 'read' in outcome ? (outcome.read.result as { rejects: { file: string; line: number; reason: string }[]; warned: number }) : undefined;
    // 640 good lines and the one whose bad quantity is dropped with a warning; the bad timestamp and the JSONL line without its fields are rejects.
    expect('read' in outcome && outcome.read.orders.length).toBe(641);
    expect(result?.rejects.map((r) => `${r.file.split('/').pop() ?? ''}:${r.line}`)).toEqual(['orders-1.csv:302', 'orders-3.jsonl:41']);
    expect(result?.warned).toBe(1);
  });

  it('hand over the customers parts in order, before the products and advisors, as reading here does', async () => {
    const customers = (from: number, count: number, domain: string) =>
      csv([['customer_id', 'email', 'first_name', 'birthday', 'accepts_marketing'], ...Array.from({ length: count }, (_, i) => [`C${from + i}`, `c${from + i}@${domain}`, '梅', i % 7 === 0 ? 'not a day' : '1990-05-17', i % 2 === 0 ? 'yes' : 'no'])]);
    const outcome = await readBothWays({
      'customers-1.csv': customers(0, 3_000, 'first.example.com'),
      // C2000-C2999 again: the later record wins, so the order of the parts matters.
      'customers-2.csv': customers(2_000, 2_000, 'second.example.com'),
      'products.csv': 'sku,name,category\nSKU-1,Serum,skincare\n',
      'advisors.csv': 'advisor_id,name,email\nADV-1,Sophie Martin,sophie@example.com\n',
      'orders-1.csv': csv([HEADER, ...orderRows(100, 0)]),
      'orders-2.csv': csv([HEADER, ...orderRows(100, 100, 'C2500')]),
    });
    const read = 'read' in outcome ? outcome.read : undefined;
    expect(read?.customers).toHaveLength(5_000);
    expect(read?.customers[4_999]).toContain('c3999@second.example.com');
    expect(read?.positions.filter((p) => p.startsWith('product') || p.startsWith('advisor'))).toEqual(['advisor advisors.csv:2', 'product products.csv:2']);
  });

  it('give the same for Shopify orders parts', async () => {
    const header = ['Name', 'Email', 'Financial Status', 'Created at', 'Currency', 'Subtotal', 'Lineitem quantity', 'Lineitem name', 'Lineitem price', 'Lineitem sku'];
    const part = (from: number) =>
      csv([
        header,
        ...Array.from({ length: 50 }, (_, i) => [`#${from + i}`, `c${(from + i) % 3}@example.com`, 'paid', '2026-11-02 10:00:00 +0800', 'USD', '20.00', '2', 'Serum', '10.00', `SKU-${from + i}`]),
      ]);
    const outcome = await readBothWays({
      'customers_export.csv': 'Customer ID,Email\n1,c0@example.com\n2,c1@example.com\n',
      'orders_export_1.csv': part(1000),
      'orders_export_2.csv': part(2000),
    });
    expect('read' in outcome && outcome.read.orders.length).toBe(100);
  });

  it('keep the first 10,000 rejects in plan order, as reading here does', async () => {
    const rejected = (from: number) => Array.from({ length: 6_000 }, (_, i) => [`R${from + i}`, 'C1', 'never', '', '', '', '1', 'paid', '1.00', '']);
    const outcome = await readBothWays(
      {
        'customers.csv': CUSTOMERS,
        'orders-1.csv': csv([HEADER, ...orderRows(10, 0), ...rejected(0)]),
        'orders-2.csv': csv([HEADER, ...orderRows(10, 100), ...rejected(10_000)]),
      },
      { maxRejectShare: 1 },
    );
    expect('read' in outcome && (outcome.read.result as { rejects: unknown[] }).rejects).toHaveLength(10_000);
  });

  const failures: [string, Record<string, string | Buffer>, Parameters<typeof config>[0]?][] = [
    ['a part cut inside its last record', { 'orders-2.csv': `${csv([HEADER, ...orderRows(20, 100)])}O77,C1,2026-11-02` }],
    ['a gzip part cut short', { 'orders-2.csv.gz': gzipSync(csv([HEADER, ...orderRows(200, 100)])).subarray(0, 300) }],
    ['a JSONL part cut inside its last object', { 'orders-2.jsonl': '{"order_id":"O1","customer_id":"C1","ordered_at":"2026-11-02T10:00:00Z","line_total":"1.00"}\n{"order_id":"O2","cust' }],
    ['a part that is not valid UTF-8', { 'orders-2.csv': Buffer.concat([Buffer.from(csv([HEADER, ...orderRows(20, 100)])), Buffer.from([0x4f, 0xff, 0xfe, 0x0a])]) }],
    ['a part with only its header', { 'orders-2.csv': `${HEADER.join(',')}\n` }],
    ['a part missing a required column', { 'orders-2.csv': 'order_id,customer_id\nO1,C1\n' }],
    ['a part that repeats a line of another', { 'orders-2.csv': csv([HEADER, ...orderRows(3, 100), ...orderRows(1, 5)]) }],
    ['two parts with the same content', { 'orders-2.csv': csv([HEADER, ...orderRows(20, 0)]) }],
    ['a part with too many rejects', { 'orders-2.csv': csv([HEADER, ...orderRows(5, 100), ...Array.from({ length: 10 }, (_, i) => [`R${i}`, 'C1', 'x', '', '', '', '1', 'paid', '1', ''])]) }],
    ['a part of binary content', { 'orders-2.csv': Buffer.from([0x00, 0x01, 0x02, 0x03, 0x00, 0x00, 0x10, 0x11]) }],
    ['a customers file cut inside its last record', { 'customers.csv': 'customer_id,email,first_name\nC1,c1@example.com,Mei\nC2,c2@exa' }],
    ['a part cut inside its last field, its columns all there', { 'orders-2.csv': csv([HEADER, ...orderRows(20, 100)]).slice(0, -1) }],
    ['a customers file cut inside its last field', { 'customers.csv': CUSTOMERS.slice(0, -2) }],
    ['a customers part that is not valid UTF-8', { 'customers-2.csv': Buffer.from('customer_id,email\nC9,c9@example.com\nC10,\xff\xfe@example.com\n', 'latin1') }],
    ['a customers part with too many rejects', { 'customers-2.csv': 'customer_id,email\n,c9@example.com\n,c10@example.com\n' }],
  ];
  for (const [what, files] of failures) {
    it(`fail as reading here does: ${what}`, async () => {
      const outcome = await readBothWays({ 'customers.csv': CUSTOMERS, 'orders-1.csv': csv([HEADER, ...orderRows(20, 0)]), ...files });
      expect(outcome).toHaveProperty('error');
    });
  }

  it('fail with the error of a handler that throws, and stop', async () => {
    const source = directoryExportSource(await exportDir({ 'customers.csv': CUSTOMERS, 'orders-1.csv': csv([HEADER, ...orderRows(5_000, 0)]), 'orders-2.csv': csv([HEADER, ...orderRows(5_000, 10_000)]) }));
    const boom = new Error('the aggregator refused a line');
    let seen = 0;
    const handlers = { ...receiver().handlers, order: () => {
      seen += 1;
      if (seen === 100) throw boom;
    } };
    await expect(readExport(source, handlers, { now: NOW, config: config(), threads: 2 })).rejects.toBe(boom);
  });

  it('fail naming the file when the worker thread itself dies in the middle of it (its heap limit reached, say)', async () => {
    const source = memorySource({ 'orders-1.csv': csv([HEADER, ...orderRows(20_000, 0)]) }, 16 * 1024);
    const pool = new ReaderThreads();
    const [worker] = pool.take(1);
    // The thread is private to its PartWorker: ended from outside, as the runtime ends one out of memory.
    const thread = (worker as unknown as { worker: Worker }).worker;
    let lines = 0;
    const reading = {
      parts: [{ file: { key: 'orders-1.csv', name: 'orders-1.csv', kind: 'orders' as const, format: 'generic' as const, encoding: 'csv' as const, listed: undefined }, fileIndex: 0, location: 'memory://export/orders-1.csv' }],
      config: config(),
      now: NOW,
      hashLines: false,
      threads: 1,
      handlers: { ...receiver().handlers, order: () => {
        if (++lines === 5_000) void thread.terminate();
      } },
      open: (file: { key: string }) => source.open(file.key),
      onBytes: undefined,
      explainInvalidText: async () => new Error('not text'),
      sourceFailure: (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
      checkFile: () => undefined,
    };
    try {
      await expect(readFilesInThreads(reading, pool)).rejects.toThrow(/^reading memory:\/\/export\/orders-1\.csv in a worker thread: the worker thread reading export files stopped \(exit code 1\)$/);
      expect(lines).toBeLessThan(20_000);
    } finally {
      await pool.stop();
    }
  });

  it('fail as reading here does when the source fails in the middle of a part, or cannot open it', async () => {
    const files = { 'customers.csv': CUSTOMERS, 'orders-1.csv': csv([HEADER, ...orderRows(50, 0)]), 'orders-2.csv': csv([HEADER, ...orderRows(2_000, 100)]) };
    const failing = (how: 'midway' | 'open'): ExportSource => {
      const memory = memorySource(files, 1024);
      return {
        ...memory,
        open: async (key) => {
          if (key !== 'orders-2.csv') return memory.open(key);
          if (how === 'open') throw new Error('NoSuchKey: gone since it was listed');
          const chunks = (await memory.open(key)) as Readable;
          let sent = 0;
          return chunks.pipe(
            new (await import('node:stream')).Transform({
              transform(chunk: Buffer, _encoding, done) {
                sent += 1;
                if (sent === 20) done(new Error('socket hang up'));
                else done(null, chunk);
              },
            }),
          );
        },
      };
    };
    for (const how of ['midway', 'open'] as const) {
      const here = await outcome(failing(how), 0);
      const inThreads = await outcome(failing(how), 2);
      expect(inThreads).toEqual(here);
      expect(await outcome(failing(how), 3, {}, 100)).toEqual(here);
      expect(inThreads).toHaveProperty('error');
    }
  });

  it('read any layout of rows over parts as reading here does', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        async (customersOfRows, parts, threads) => {
          const rows = customersOfRows.map((c, i) => (orderRows(1, i, `C${c}`)[0] as string[]));
          const files: Record<string, string> = { 'customers.csv': CUSTOMERS };
          for (let p = 0; p < parts; p++) {
            const mine = rows.filter((_, i) => i % parts === p);
            if (mine.length > 0) files[`orders-${p}.csv`] = csv([HEADER, ...mine]);
          }
          const source = memorySource(files, 7);
          expect(await outcome(source, threads)).toEqual(await outcome(source, 0));
        },
      ),
      { numRuns: 12 },
    );
  });
});

describe('one file read in blocks by several threads', () => {
  /** A field as an export may write it: plain, quoted as CSV quotes, or with quotes where a writer should not put them. */
  const fieldArbitrary = fc.tuple(
    fc.array(fc.constantFrom('a', 'b', ' ', ',', '"', '\n', '\r', '\r\n', 'é', '中', '😀'), { maxLength: 6 }).map((parts) => parts.join('')),
    fc.constantFrom('plain', 'quoted', 'quoted', 'stray'),
  ).map(([text, how]) => (how === 'plain' ? text.replace(/[",\r\n]/g, '') : how === 'quoted' ? `"${text.replaceAll('"', '""')}"` : `${text.slice(0, 2)}"${text.slice(2)}`));

  /** An orders file full of what a block boundary could fall inside: quoted line breaks, any delimiter, short rows, blank lines, a BOM, a cut end. */
  const ordersFileArbitrary = fc
    .record({
      rows: fc.array(fc.tuple(fc.nat({ max: 40 }), fieldArbitrary, fc.constantFrom('full', 'full', 'full', 'short', 'blank', 'long')), { minLength: 1, maxLength: 25 }),
      delimiter: fc.constantFrom('\n', '\n', '\r\n', '\r'),
      bom: fc.boolean(),
      end: fc.constantFrom('delimiter', 'none', 'cut'),
    })
    .map(({ rows, delimiter, bom, end }) => {
      const lines = rows.map(([i, name, shape]) => {
        const row = (orderRows(1, i, `C${(i % 3) + 1}`)[0] as string[]).map((value) => (/[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value));
        row[4] = name;
        if (shape === 'short') return row.slice(0, 3).join(',');
        if (shape === 'blank') return '';
        if (shape === 'long') return [...row, 'extra'].join(',');
        return row.join(',');
      });
      let text = `${bom ? '\uFEFF' : ''}${[HEADER.join(','), ...lines].join(delimiter)}`;
      if (end === 'delimiter') text += delimiter;
      if (end === 'cut') text = text.slice(0, Math.max(HEADER.join(',').length + 2, text.length - 7));
      return text;
    });

  it('gives what one thread reading it gives, wherever the blocks fall (property)', async () => {
    await fc.assert(
      fc.asyncProperty(ordersFileArbitrary, fc.integer({ min: 1, max: 64 }), fc.integer({ min: 2, max: 3 }), async (orders, blockBytes, threads) => {
        const source = memorySource({ 'customers.csv': CUSTOMERS, 'orders.csv': orders }, 13);
        const here = await outcome(source, 0, { maxRejectShare: 1 });
        expect(await outcome(source, threads, { maxRejectShare: 1 }, blockBytes)).toEqual(here);
      }),
      { numRuns: 25 },
    );
    // Each run starts its reader threads afresh: slow on a loaded machine, whatever the code.
  }, 180_000);

  it('fails a file whose last record lacks its line ending once, at its end, as one thread does, wherever the blocks fall', async () => {
    const whole = csv([HEADER, ...orderRows(300, 0)]);
    const source = memorySource({ 'customers.csv': CUSTOMERS, 'orders.csv': whole.slice(0, -1) }, 1000);
    const here = await outcome(source, 0);
    expect(here).toMatchObject({ error: { line: 301, message: expect.stringContaining('orders.csv, line 301: is truncated: its last record does not end with a line ending') } });
    for (const blockBytes of [64, 1024, whole.length - 10]) expect(await outcome(source, 3, {}, blockBytes)).toEqual(here);
    // Whole, the same file is read in blocks, none of their ends taken for the file's.
    const read = await outcome(memorySource({ 'customers.csv': CUSTOMERS, 'orders.csv': whole }, 1000), 3, {}, 4096);
    expect(read).toMatchObject({ read: { result: { rows: 303 } } });
  });

  it('fails a file with NUL bytes past its first block as one thread does, naming their line', async () => {
    const whole = Buffer.from(csv([HEADER, ...orderRows(300, 0)]));
    const zeroed = Buffer.from(whole).fill(0, 10_000, 10_100);
    const source = memorySource({ 'customers.csv': CUSTOMERS, 'orders.csv': zeroed }, 1000);
    const here = await outcome(source, 0);
    const line = whole.subarray(0, 10_000).toString().split('\n').length;
    expect(here).toMatchObject({ error: { line, message: expect.stringContaining(`orders.csv, line ${line}: is not a UTF-8 text file (it contains binary data: a NUL byte)`) } });
    for (const blockBytes of [64, 4096]) expect(await outcome(source, 3, {}, blockBytes)).toEqual(here);
    expect(await outcome(source, 2)).toEqual(here);
  });

  it('fails as one thread does on a quote left open until the record is too long, across many blocks', async () => {
    const rows = csv([HEADER, ...orderRows(2_000, 0)]);
    const orders = `${rows}O1,C1,2026-11-02T10:00:00Z,SKU-1,"Silk ${'scarf\r\n'.repeat(150_000)}`;
    const source = memorySource({ 'customers.csv': CUSTOMERS, 'orders.csv': orders });
    const here = await outcome(source, 0);
    expect(here).toMatchObject({ error: { message: expect.stringContaining('longer than') } });
    expect(await outcome(source, 3, {}, 64 * 1024)).toEqual(here);
  });

  it('fails with the error of a handler that throws, and stops with reads of blocks still waiting for a thread', async () => {
    const source = memorySource({ 'customers.csv': CUSTOMERS, 'orders.csv': csv([HEADER, ...orderRows(5_000, 0)]) }, 512);
    const boom = new Error('the aggregator refused a line');
    let seen = 0;
    const handlers = {
      ...receiver().handlers,
      order: () => {
        seen += 1;
        if (seen === 100) throw boom;
      },
    };
    await expect(readExport(source, handlers, { now: NOW, config: config(), threads: 3, blockBytes: 256 })).rejects.toBe(boom);
    expect(seen).toBe(100);
  });

  it('reads a gzip file named .csv as it comes, in one thread', async () => {
    const source = memorySource({ 'customers.csv': CUSTOMERS, 'orders.csv': gzipSync(csv([HEADER, ...orderRows(3_000, 0)])) }, 1);
    const here = await outcome(source, 0);
    expect('read' in here && here.read.orders.length).toBe(3_000);
    expect(await outcome(source, 2, {}, 64)).toEqual(here);
  });

  it('reads a large file in blocks, on every thread, as one thread reads it', async () => {
    const orders = csv([HEADER, ...orderRows(40_000, 0, 'C2')]);
    const source = memorySource({ 'customers.csv': CUSTOMERS, 'orders.csv': orders });
    const here = await outcome(source, 0);
    expect(await outcome(source, 2, {}, 64 * 1024)).toEqual(here);
    expect('read' in here && here.read.orders.length).toBe(40_000);
  });
});
