import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ExportKind, RowPosition } from '#shared/exports/types.ts';
import type { CustomerRecord, OrderLine, ProductRecord } from '#shared/model.ts';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import { generateExport } from '#local/generate/generate.ts';
import { parseConfig } from '#shared/config.ts';
import { ExportError } from '#shared/exports/reader.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { silentLog } from '#shared/log.ts';
import { plannedConfigOf } from '#shared/nightly/repeat.ts';
import { directoryWorkStore } from '#shared/nightly/work-store.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { BucketWriter, chunkBytesFor, forEachChunkRecord, frameRecordsFor, type BucketChunk } from '#shared/nightly/bucket-chunks.ts';
import { assignShares, CHUNKS_AHEAD, planShares, READER_SLACK, readerCountFor, readFailureOrder, readBucket, readShares, repartitionShare, type ShareFigures, type SharePlan } from '#shared/nightly/shares.ts';
import type { WorkStore } from '#shared/nightly/work-store.ts';
import { packCustomer, unpackCustomer } from '#shared/tiering/customer-packing.ts';

/** The repartition's pieces: who reads which file, and the buckets' objects read back as written. */

function memoryStore(): WorkStore & { objects: Map<string, Uint8Array> } {
  const objects = new Map<string, Uint8Array>();
  return {
    objects,
    describe: (key) => `memory:${key}`,
    async put(key, body) {
      // A copy, as a store keeps it: the writer reuses nothing, but a test should not rely on that.
      objects.set(key, typeof body === 'string' ? Buffer.from(body) : Uint8Array.from(body));
      return key;
    },
    get: async (key) => objects.get(key),
  };
}

const loads = (sizes: readonly number[], readerOf: readonly number[], readers: number) => {
  const load = new Array<number>(readers).fill(0);
  readerOf.forEach((r, i) => (load[r] = (load[r] as number) + Math.max(sizes[i] ?? 0, 1)));
  return load;
};

describe('assignShares', () => {
  it('gives every file to exactly one reader, the same way every time, balanced within the largest file', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1e9 }), { maxLength: 40 }), fc.integer({ min: 1, max: 12 }), (sizes, readers) => {
        const readerOf = assignShares(sizes, readers);
        expect(readerOf).toHaveLength(sizes.length);
        expect(readerOf.every((r) => Number.isInteger(r) && r >= 0 && r < readers)).toBe(true);
        expect(assignShares([...sizes], readers)).toEqual(readerOf);
        const load = loads(sizes, readerOf, readers);
        // Greedy to the least loaded: no reader has more than the least loaded one plus one file.
        expect(Math.max(...load) - Math.min(...load)).toBeLessThanOrEqual(Math.max(1, ...sizes));
      }),
      { numRuns: 200 },
    );
  });

  it('splits the bench export of 1M clients four ways: one part each, customers with the smallest part', () => {
    // customers.csv, products.csv, then the four order parts, as planned.
    const sizes = [117_294_247, 1_786, 262_115_669, 262_461_364, 261_189_513, 261_920_238];
    expect(assignShares(sizes, 4)).toEqual([3, 2, 1, 0, 3, 2]);
    // Unsized files still go somewhere.
    expect(assignShares([undefined, undefined, 5], 2)).toEqual([1, 1, 0]);
  });
});

describe('readFailureOrder', () => {
  const source = { location: (key: string) => `/export/${key}` };
  const plan = {
    export: { files: ['customers.csv', 'orders-1.csv', 'orders-2.csv'].map((key) => ({ key })) },
    readerOf: [1, 0, 1],
  };

  it("is the plan index of the file an export error names, else that of the reader's first file", () => {
    expect(readFailureOrder(plan, source, 1, ExportError.at('/export/orders-2.csv', 'is binary'))).toBe(2);
    expect(readFailureOrder(plan, source, 0, ExportError.at('/export/orders-1.csv', 'is binary'))).toBe(1);
    // A bug, an outage, an export error about no file of the plan: where the reader began.
    expect(readFailureOrder(plan, source, 1, new TypeError('a bug'))).toBe(0);
    expect(readFailureOrder(plan, source, 0, ExportError.at('/export', 'cannot be listed'))).toBe(1);
  });
});

describe('readerCountFor', () => {
  const heaviest = (sizes: readonly number[], readers: number) => Math.max(0, ...loads(sizes, assignShares(sizes, readers), readers));

  it('adds readers only when the shard count would leave one reading well above its even share, and never more than twice the shards', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1e9 }), { maxLength: 40 }), fc.integer({ min: 1, max: 12 }), (sizes, shards) => {
        const readers = readerCountFor(sizes, shards);
        expect(readerCountFor([...sizes], shards)).toBe(readers);
        expect(readers).toBeGreaterThanOrEqual(shards);
        expect(readers).toBeLessThanOrEqual(Math.max(shards, Math.min(2 * shards, sizes.length)));
        // Never a heavier share than with one reader per shard; more readers only when that was too heavy.
        expect(heaviest(sizes, readers)).toBeLessThanOrEqual(heaviest(sizes, shards));
        const weights = sizes.map((size) => Math.max(size, 1));
        const enough = Math.max(weights.reduce((sum, w) => sum + w, 0) / shards, ...weights) * READER_SLACK;
        if (readers > shards) expect(heaviest(sizes, shards)).toBeGreaterThan(enough);
        // And the fewest that got it down to enough, when some did.
        if (heaviest(sizes, readers) <= enough) for (let fewer = shards; fewer < readers; fewer++) expect(heaviest(sizes, fewer)).toBeGreaterThan(enough);
      }),
      { numRuns: 200 },
    );
  });

  it('reads the bench export of 1M clients with five readers on four shards: each part alone, the customers beside the small files', () => {
    const sizes = [117_294_247, 1_786, 262_115_669, 262_461_364, 261_189_513, 261_920_238];
    expect(readerCountFor(sizes, 4)).toBe(5);
    expect(assignShares(sizes, 5)).toEqual([4, 4, 1, 0, 3, 2]);
    // Equal parts share evenly: as many readers as shards.
    expect(readerCountFor([100, 100, 100, 100], 2)).toBe(2);
    expect(readerCountFor([100, 100, 100, 100, 20], 2)).toBe(2);
    // A fifth file that would leave one reader 13% above its even share gets a reader of its own.
    expect(readerCountFor([100, 100, 100, 100, 60], 2)).toBe(3);
    expect(readerCountFor(new Array<number>(100).fill(10_000_000), 4)).toBe(4);
    expect(readerCountFor([], 3)).toBe(3);
    expect(readerCountFor(sizes, 1)).toBe(1);
  });
});

type Row = { kind: ExportKind; line: number; record: CustomerRecord | OrderLine | ProductRecord; bucket: number };

const customer = fc.record(
  { customerId: fc.string({ minLength: 1 }), email: fc.option(fc.emailAddress(), { nil: undefined }), firstName: fc.option(fc.string({ unit: 'binary' }), { nil: undefined }), signedUpAt: fc.option(fc.integer(), { nil: undefined }), acceptsMarketing: fc.option(fc.boolean(), { nil: undefined }) },
  { requiredKeys: ['customerId'] },
);
const order = fc.record({
  orderId: fc.string({ minLength: 1 }),
  customerId: fc.string(),
  orderedAt: fc.integer({ min: 0, max: 4e12 }),
  productName: fc.string({ unit: 'grapheme' }),
  quantity: fc.integer({ min: 1, max: 1000 }),
  lineTotalMinor: fc.maxSafeNat(),
  refundedMinor: fc.nat(),
  status: fc.constantFrom('paid' as const, 'refunded' as const, 'cancelled' as const),
});
const product = fc.record({ sku: fc.string({ minLength: 1 }), replenishDays: fc.option(fc.nat(), { nil: undefined }) }, { requiredKeys: ['sku'] });

/** Files in export order (customers, products, orders), each with rows in line order, each row in a bucket. */
const exportFiles = (buckets: number) =>
  fc.tuple(
    ...(['customers', 'products', 'orders', 'orders'] as const).map((kind) =>
      fc.array(fc.tuple(kind === 'customers' ? customer : kind === 'orders' ? order : product, fc.integer({ min: 0, max: buckets - 1 }), fc.integer({ min: 1, max: 3 })), { maxLength: 60 }).map((rows) => {
        let line = 1;
        return rows.map(([record, bucket, step]): Row => ({ kind, line: (line += step), record, bucket }));
      }),
    ),
  );

/** The rows of every file in one sequence: each file's rows in order, files interleaved as threads interleave them. */
const interleave = (files: Row[][], picks: readonly number[]): { file: number; row: Row }[] => {
  const next = files.map(() => 0);
  const out: { file: number; row: Row }[] = [];
  let pick = 0;
  for (;;) {
    const open = files.flatMap((rows, file) => ((next[file] as number) < rows.length ? [file] : []));
    if (open.length === 0) return out;
    const file = open[(picks[pick++ % Math.max(picks.length, 1)] ?? 0) % open.length] as number;
    const at = next[file] as number;
    next[file] = at + 1;
    out.push({ file, row: (files[file] as Row[])[at] as Row });
  }
};

const sameAsRead = (record: unknown) => JSON.parse(JSON.stringify(record)) as unknown;

describe('bucket objects', () => {
  it('read back as written: each bucket its own records, in file and line order, with their original file and line, however files interleave; customers packed to a handler that takes them so', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 300, max: 4000 }),
        fc.integer({ min: 1, max: 9 }),
        fc.array(fc.nat(), { maxLength: 50 }),
        fc.boolean(),
        async (buckets, readers, chunkBytes, frameRecords, picks, takesPacked) => {
          const files = fc.sample(exportFiles(buckets), { numRuns: 1, seed: buckets * 31 + readers * 7 + chunkBytes })[0] as Row[][];
          const store = memoryStore();
          const names = files.map((rows, i) => `${rows[0]?.kind ?? 'orders'}-${i}.csv.gz`);
          const readerOf = assignShares(files.map((rows) => rows.length), readers);
          const shares: ShareFigures[] = [];
          for (let reader = 0; reader < readers; reader++) {
            const writer = new BucketWriter(store, reader, buckets, chunkBytes, frameRecords);
            const own = files.map((rows, file) => (readerOf[file] === reader ? rows : []));
            for (const { file, row } of interleave(own, picks)) {
              const at = { index: file, name: names[file] as string, kind: row.kind };
              if (row.kind === 'orders') writer.order(at, row.bucket, row.record as OrderLine, row.line);
              else if (row.kind === 'customers') writer.customer(at, row.bucket, row.record as CustomerRecord, row.line);
              else writer.record(at, row.bucket, row.record as ProductRecord, row.line);
            }
            const chunks = await writer.finish();
            const reports = files.flatMap((_, index) =>
              readerOf[index] === reader ? [{ index, report: { location: `export/${names[index]}`, kind: 'orders' as const, format: 'generic' as const, rows: 0, rejected: 0, warnings: 0, sha256: '', bytes: 0 } }] : [],
            );
            shares.push({ runId: 'r', reader, files: reports, rejects: [], warnings: [], chunks, readMs: 0 });
          }
          const plan = {
            runId: 'r',
            shards: readers,
            export: { mode: 'full', files: files.map((rows, i) => ({ kind: rows[0]?.kind ?? 'orders', name: names[i] })) },
          } as unknown as SharePlan;
          for (let bucket = 0; bucket < buckets; bucket++) {
            const seen: { file: string; line: number; record: unknown; kind: string }[] = [];
            const see = (kind: string) => (record: unknown, at: RowPosition) => seen.push({ file: at.file, line: at.line, record: sameAsRead(record), kind });
            let packed = 0;
            const seeCustomer = see('customers');
            const packedCustomer = (customerId: string, text: string, at: RowPosition) => {
              packed += 1;
              seeCustomer(unpackCustomer(customerId, text), at);
            };
            await readBucket(store, plan, shares, bucket, { customer: seeCustomer, order: see('orders'), product: see('products'), ...(takesPacked && { packedCustomer }) });
            const expected = files.flatMap((rows, file) =>
              rows.filter((row) => row.bucket === bucket).map((row) => ({ file: `export/${names[file]}`, line: row.line, record: sameAsRead(row.record), kind: row.kind })),
            );
            expect(seen).toEqual(expected);
            // Every customer that can be packed reaches a handler that takes them so packed; the others whole.
            const packable = files.flat().filter((row) => row.kind === 'customers' && row.bucket === bucket && packCustomer(row.record as CustomerRecord) !== undefined).length;
            expect(packed).toBe(takesPacked ? packable : 0);
          }
          // Named after the file's whole name (a.csv and a.csv.gz are two files), in the bucket and the reader's folders.
          for (const key of store.objects.keys()) expect(key).toMatch(/^bucket-\d\/from-\d\/\w+-\d\.csv\.gz\.\d{5}\.bin$/);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('keep every character of a text, lone surrogates included', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary', minLength: 1 }), async (name, orderId) => {
        const store = memoryStore();
        const writer = new BucketWriter(store, 0, 1, 1 << 20);
        const order: OrderLine = { orderId, productName: name, orderedAt: 1, quantity: 1, lineTotalMinor: 100, refundedMinor: 0, status: 'paid' };
        writer.order({ index: 0, name: 'orders.csv', kind: 'orders' }, 0, order, 7);
        writer.record({ index: 1, name: 'products.csv', kind: 'products' }, 0, { sku: name }, 3);
        await writer.finish();
        const [orders, products] = [...store.objects.values()] as Uint8Array[];
        const got: [unknown, number][] = [];
        forEachChunkRecord(orders as Uint8Array, 'orders', { record: (record, line) => got.push([record, line]) });
        forEachChunkRecord(products as Uint8Array, 'products', { record: (record, line) => got.push([record, line]) });
        expect(got.map(([record, line]) => [sameAsRead(record), line])).toEqual([
          [sameAsRead(order), 7],
          [{ sku: name }, 3],
        ]);
        expect((got[0]?.[0] as OrderLine).productName).toBe(name);
      }),
    );
  });

  it('refuse a damaged chunk, naming the byte where it breaks', async () => {
    const store = memoryStore();
    const writer = new BucketWriter(store, 0, 1, 1 << 20, 2);
    const file = { index: 0, name: 'orders.csv', kind: 'orders' as const };
    for (let i = 0; i < 5; i++) writer.order(file, 0, { orderId: `O${i}`, customerId: 'C1', orderedAt: i, quantity: 1, lineTotalMinor: 1, refundedMinor: 0, status: 'paid' }, i + 2);
    await writer.finish();
    const chunk = [...store.objects.values()][0] as Uint8Array;
    expect(forEachChunkRecord(chunk, 'orders', { record: () => undefined })).toBe(5);
    const frame = (value: unknown) => {
      const payload = serialize(value);
      const length = Buffer.alloc(4);
      length.writeUInt32LE(payload.length);
      return Buffer.concat([length, payload]);
    };
    const cases: [string, Uint8Array, RegExp][] = [
      ['cut in a frame', chunk.subarray(0, chunk.length - 3), /at byte \d+: it claims \d+ bytes, \d+ are left/],
      ['cut in a length', Buffer.concat([chunk, Buffer.from([1, 0])]), /its length is cut/],
      ['text, not frames', Buffer.from('12\t{"sku":"a"}\n'), /malformed frame at byte 0/],
      ['a frame of garbage', Buffer.concat([Buffer.from([4, 0, 0, 0]), Buffer.from([0xff, 0x0f, 0x99, 0x01])]), /malformed frame at byte 0/],
      ['records where order lines belong', frame({ lines: [2], records: [{ sku: 'a' }] }), /not a batch of order lines/],
      ['a batch whose texts are missing', frame({ count: 1, lines: new Uint32Array(1), numbers: new Float64Array(4), statuses: new Uint8Array(1), textRefs: new Int32Array(6), texts: [] }), /not a batch of order lines/],
    ];
    for (const [, bytes, message] of cases) expect(() => forEachChunkRecord(bytes, 'orders', { record: () => undefined })).toThrow(message);
    expect(() => forEachChunkRecord(frame({ lines: [2, 3], records: [{ sku: 'a' }] }), 'products', { record: () => undefined })).toThrow(/not a batch of products records/);
    // Customers as a bucket written before they travelled packed (no ids beside them), and a whole record filed under another id.
    const customers = (batch: unknown) => () => forEachChunkRecord(frame(batch), 'customers', { record: () => undefined, packedCustomer: () => undefined });
    expect(customers({ lines: [2], records: [{ customerId: 'c1' }] })).toThrow(/not a batch of customers records/);
    expect(customers({ lines: [2], customerIds: ['c2'], records: [{ customerId: 'c1' }] })).toThrow(/not a batch of customers records/);
    expect(customers({ lines: [2, 3], customerIds: ['c1'], records: ['', ''] })).toThrow(/not a batch of customers records/);
    expect(customers({ lines: [2, 3], customerIds: ['c1', 'c2'], records: [{ customerId: 'c1' }, '=1'] })()).toBe(2);
  });

  it('are handed over in order, though fetched several at once and arriving in any order; a fetch failing behind a damaged chunk is not left unhandled', async () => {
    const store = memoryStore();
    const writer = new BucketWriter(store, 0, 1, 300, 2);
    const file = { index: 0, name: 'orders.csv', kind: 'orders' as const };
    const lines = Array.from({ length: 80 }, (_, i): OrderLine => ({ orderId: `O${i}`, customerId: `C${i % 7}`, orderedAt: i, quantity: 1, lineTotalMinor: i, refundedMinor: 0, status: 'paid' }));
    lines.forEach((line, i) => writer.order(file, 0, line, i + 2));
    const chunks = await writer.finish();
    expect(chunks[0]?.length).toBeGreaterThan(3 * CHUNKS_AHEAD);
    const shares: ShareFigures[] = [{ runId: 'r', reader: 0, files: [{ index: 0, report: { location: 'export/orders.csv', kind: 'orders', format: 'generic', rows: 80, rejected: 0, warnings: 0, sha256: '', bytes: 0 } }], rejects: [], warnings: [], chunks, readMs: 0 }];
    const plan = { runId: 'r', shards: 1, export: { mode: 'full', files: [{ kind: 'orders', name: 'orders.csv' }] } } as unknown as SharePlan;
    /** The store, each get answered after a delay of its own (later ones often first), the most at once counted. */
    const unordered = (fail?: { damaged: string; missing: string }) => {
      let fetching = 0;
      const figures = { most: 0 };
      let n = 0;
      const slow: WorkStore = {
        ...store,
        async get(key) {
          fetching += 1;
          figures.most = Math.max(figures.most, fetching);
          await new Promise((resolve) => setTimeout(resolve, [9, 1, 5, 0, 7, 3][n++ % 6]));
          fetching -= 1;
          if (key === fail?.damaged) return Buffer.from('not frames');
          if (key === fail?.missing) throw new Error('the store went away');
          return store.get(key);
        },
      };
      return { slow, figures };
    };
    const { slow, figures } = unordered();
    const seen: [number, string][] = [];
    await readBucket(slow, plan, shares, 0, { customer: () => undefined, product: () => undefined, order: (line, at) => seen.push([at.line, line.orderId]) });
    expect(seen).toEqual(lines.map((line, i) => [i + 2, line.orderId]));
    expect(figures.most).toBe(CHUNKS_AHEAD + 1);
    // Chunk 2 is damaged while chunk 3, fetched ahead, fails later: the read fails on chunk 2, and
    // chunk 3's failure, awaited by nobody, must not end the process (vitest fails the test if it goes unhandled).
    const keys = (chunks[0] ?? []).map((chunk) => chunk.key);
    const failing = unordered({ damaged: keys[2] as string, missing: keys[3] as string });
    await expect(readBucket(failing.slow, plan, shares, 0, { customer: () => undefined, product: () => undefined, order: () => undefined })).rejects.toThrow(/memory:bucket-0\/from-0\/orders\.csv\.00002\.bin: truncated or not ours/);
    await new Promise((resolve) => setTimeout(resolve, 50));
  });

  it('are refused whole when a byte changed or went missing since their reader wrote them, naming the chunk, before any of its records is handed over', async () => {
    const store = memoryStore();
    const writer = new BucketWriter(store, 0, 1, 600, 4);
    const file = { index: 0, name: 'orders.csv', kind: 'orders' as const };
    const lines = Array.from({ length: 60 }, (_, i): OrderLine => ({ orderId: `O${i}`, customerId: `C${i % 5}`, orderedAt: i, quantity: 1, lineTotalMinor: 6500 + i, refundedMinor: 0, status: 'paid' }));
    lines.forEach((line, i) => writer.order(file, 0, line, i + 2));
    const chunks = (await writer.finish())[0] as BucketChunk[];
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.every((chunk) => /^[0-9a-f]{64}$/.test(chunk.sha256))).toBe(true);
    const shares: ShareFigures[] = [{ runId: 'r', reader: 0, files: [{ index: 0, report: { location: 'export/orders.csv', kind: 'orders', format: 'generic', rows: 60, rejected: 0, warnings: 0, sha256: '', bytes: 0 } }], rejects: [], warnings: [], chunks: [chunks], readMs: 0 }];
    const plan = { runId: 'r', shards: 1, export: { mode: 'full', files: [{ kind: 'orders', name: 'orders.csv' }] } } as unknown as SharePlan;
    const read = async (objects: Map<string, Uint8Array>) => {
      const seen: number[] = [];
      const outcome = await readBucket({ ...store, get: async (key) => objects.get(key) }, plan, shares, 0, { customer: () => undefined, product: () => undefined, order: (line) => seen.push(line.lineTotalMinor) }).then(
        () => 'read',
        (error: Error) => `${error.name}: ${error.message}`,
      );
      return { outcome, seen };
    };
    expect((await read(store.objects)).seen).toEqual(lines.map((line) => line.lineTotalMinor));
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 }), fc.boolean(), async (pick, offset, flip, cut) => {
        const damaged = pick % chunks.length;
        const chunk = chunks[damaged] as BucketChunk;
        const whole = store.objects.get(chunk.key) as Uint8Array;
        const bytes = Uint8Array.from(whole);
        if (!cut) bytes[offset % bytes.length] = (bytes[offset % bytes.length] as number) ^ flip;
        const objects = new Map(store.objects).set(chunk.key, cut ? bytes.subarray(0, offset % bytes.length) : bytes);
        const { outcome, seen } = await read(objects);
        expect(outcome).toContain(`NightlyRunError: memory:${chunk.key}: truncated or not ours`);
        // The chunks before it, and nothing of it.
        expect(seen).toEqual(lines.slice(0, chunks.slice(0, damaged).reduce((n, c) => n + c.records, 0)).map((line) => line.lineTotalMinor));
      }),
      { numRuns: 200 },
    );
  });

  it('leave a chunk body untouched until its PUT settles, and reuse it only after', async () => {
    const stored = new Map<string, Buffer>();
    const changed: string[] = [];
    const bodies: Uint8Array[] = [];
    let n = 0;
    // Each PUT settles after a delay of its own (later ones often first): the body must stay what
    // it was when handed over until then. The store keeps a copy, as S3 does.
    const slow: WorkStore = {
      describe: (key) => `memory:${key}`,
      async put(key, body) {
        const bytes = body as Uint8Array;
        const handed = Buffer.from(bytes);
        bodies.push(bytes);
        await new Promise((resolve) => setTimeout(resolve, [6, 0, 3, 9, 1][n++ % 5]));
        if (!handed.equals(bytes)) changed.push(key);
        stored.set(key, handed);
        return key;
      },
      get: async (key) => stored.get(key),
    };
    const writer = new BucketWriter(slow, 0, 2, 300, 2);
    const file = { index: 0, name: 'orders.csv', kind: 'orders' as const };
    const lines = Array.from({ length: 200 }, (_, i): OrderLine => ({ orderId: `O${i}`, customerId: `C${i % 9}`, orderedAt: i, quantity: 1, lineTotalMinor: i, refundedMinor: 0, status: 'paid' }));
    for (const [i, line] of lines.entries()) {
      writer.order(file, i % 2, line, i + 2);
      // Some PUTs settle while lines still come, as they do between a reader's source chunks.
      if (i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 4));
    }
    const chunks = await writer.finish();
    expect(changed).toEqual([]);
    // Bodies were reused, the point of keeping them.
    expect(new Set(bodies.map((body) => body.buffer)).size).toBeLessThan(bodies.length / 2);
    for (const bucket of [0, 1]) {
      const seen: [unknown, number][] = [];
      for (const chunk of chunks[bucket] ?? []) forEachChunkRecord(stored.get(chunk.key) as Buffer, 'orders', { record: (record, line) => seen.push([sameAsRead(record), line]) });
      expect(seen).toEqual(lines.flatMap((line, i) => (i % 2 === bucket ? [[sameAsRead(line), i + 2]] : [])));
    }
  });

  it('buffer about 4 MB over all buckets of a file, in chunks of 256 KB to 1 MB of frames of 256 to 1,024 records', () => {
    expect(chunkBytesFor(1)).toBe(1 << 20);
    expect(chunkBytesFor(4)).toBe(1 << 20);
    expect(chunkBytesFor(8)).toBe(512 << 10);
    expect(chunkBytesFor(16)).toBe(256 << 10);
    expect(chunkBytesFor(100)).toBe(256 << 10);
    expect(frameRecordsFor(chunkBytesFor(4))).toBe(1024);
    expect(frameRecordsFor(chunkBytesFor(100))).toBe(256);
  });
});

describe('repartitionShare', () => {
  const work = scratchDir('repartition-threads');

  it('fills every bucket with what a reader without threads puts there, though its orders parts and customers are read at once', async () => {
    const dir = join(work, 'export');
    const runDate = '2026-11-23';
    // Three parts over two readers: one reader reads two parts at once, their lines interleaved.
    await generateExport({ customers: 3_000, seed: 29, asOf: runDate, timeZone: 'Europe/Paris', orderParts: 3, malformedRows: 9 }, dir);
    const source = directoryExportSource(dir);
    const config = parseConfig({});
    const buckets = async (threads: number) => {
      const store = directoryWorkStore(join(work, `work-${threads}`));
      const planned = await planShares(store, { runId: 'r', shards: 2, exportRules: config.exports, plannedUnder: plannedConfigOf(config) }, source);
      // Two readers for the three parts, whatever readerCountFor would choose: one reads two parts at once.
      const plan: SharePlan = { ...planned, readers: 2, readerOf: assignShares(planned.export.files.map((file) => file.size), 2) };
      for (let reader = 0; reader < 2; reader++) await repartitionShare({ runId: 'r', runDate, config, log: silentLog, threads }, store, source, plan, reader);
      const shares = await readShares(store, plan);
      const rows: unknown[][] = [];
      for (let bucket = 0; bucket < 2; bucket++) {
        const seen: unknown[] = [];
        const see = (kind: string) => (record: unknown, at: RowPosition) => seen.push([kind, at.file, at.line, record]);
        await readBucket(store, plan, shares, bucket, { customer: see('customer'), order: see('order'), product: see('product'), advisor: see('advisor') });
        rows.push(seen);
      }
      const figures = shares.map(({ files, rejects, warnings }) => ({ files, rejects, warnings }));
      return { plan, rows, figures };
    };
    const inOrder = await buckets(0);
    const threaded = await buckets(2);
    const partsOf = (plan: SharePlan) => plan.readerOf.filter((reader, i) => plan.export.files[i]?.kind === 'orders' && reader === 0).length;
    expect(Math.max(partsOf(threaded.plan), 3 - partsOf(threaded.plan))).toBe(2);
    // And the reader of the customers has a part too, read at the same time as its customers.
    const { readerOf, export: { files } } = threaded.plan;
    const customersReader = readerOf[files.findIndex((file) => file.kind === 'customers')];
    expect(files.some((file, i) => file.kind === 'orders' && readerOf[i] === customersReader)).toBe(true);
    expect(threaded.rows).toEqual(inOrder.rows);
    expect(threaded.figures).toEqual(inOrder.figures);
    expect(inOrder.rows.flat().length).toBeGreaterThan(30_000);
    expect(inOrder.figures.flatMap((f) => f.rejects).length).toBeGreaterThan(0);
  }, 60_000);
  it('fails only once the chunks it started writing are written, so that none lands behind a retry', async () => {
    const dir = join(work, 'truncated');
    const runDate = '2026-11-23';
    // Enough order lines that a chunk of the bucket (1 MB) is flushed before the cut line is met.
    await generateExport({ customers: 15_000, seed: 31, asOf: runDate, timeZone: 'Europe/Paris', orderParts: 1, malformedRows: 0 }, dir);
    // A last line cut in the middle: the part fails at its end, after chunks of it were flushed.
    await appendFile(join(dir, 'orders.csv'), 'O-cut,C0000001,"2026-11-20T10:00');
    const inner = directoryWorkStore(join(work, 'work-truncated'));
    let started = 0;
    let written = 0;
    const slow: WorkStore = {
      ...inner,
      async put(key, body, type) {
        started += 1;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        const stored = await inner.put(key, body, type);
        written += 1;
        return stored;
      },
    };
    const source = directoryExportSource(dir);
    const plan = await planShares(inner, { runId: 'r', shards: 1, exportRules: { requireManifest: false }, plannedUnder: plannedConfigOf(parseConfig({})) }, source);
    await expect(repartitionShare({ runId: 'r', runDate, config: parseConfig({}), log: silentLog, threads: 0 }, slow, source, plan, 0)).rejects.toThrow(/orders\.csv, line \d+: is not valid CSV/);
    expect(started).toBeGreaterThan(0);
    expect(written).toBe(started);
  }, 60_000);

  it("refuses a part whose line ending changes part way, naming its line, whether its reader uses threads or not (a share reads as readExport does)", async () => {
    const dir = join(work, 'mixed-endings');
    const runDate = '2026-11-23';
    await generateExport({ customers: 300, seed: 37, asOf: runDate, timeZone: 'Europe/Paris', orderParts: 1, malformedRows: 0 }, dir);
    // Line 100 ends with a lone CR in an LF file: read as field content, it merged two lines into one.
    const file = join(dir, 'orders.csv');
    const lines = (await readFile(file, 'utf8')).split('\n');
    await writeFile(file, `${lines.slice(0, 100).join('\n')}\r${lines.slice(100).join('\n')}`);
    const source = directoryExportSource(dir);
    const config = parseConfig({});
    for (const threads of [0, 2]) {
      const store = directoryWorkStore(join(work, `work-mixed-${threads}`));
      const plan = await planShares(store, { runId: 'r', shards: 2, exportRules: { requireManifest: false }, plannedUnder: plannedConfigOf(config) }, source);
      const reading = (async () => {
        for (let reader = 0; reader < plan.readers; reader++) await repartitionShare({ runId: 'r', runDate, config, log: silentLog, threads }, store, source, plan, reader);
      })();
      await expect(reading).rejects.toThrow(/orders\.csv, line 100: is not valid CSV: mixed line endings: this line ends with CR, the file's first line with LF/);
    }
  }, 60_000);
});

describe('planShares and exports.requireManifest', () => {
  it('refuses an export without its manifest before any share is stored, as a night in one process does', async () => {
    const dir = scratchDir('shares-manifest');
    await generateExport({ customers: 50, seed: 5, asOf: '2026-11-23', timeZone: 'Asia/Shanghai', orderParts: 2, malformedRows: 0 }, dir);
    const store = directoryWorkStore(join(dir, 'work'));
    const plan = planShares(store, { runId: 'r', shards: 2, exportRules: { requireManifest: true }, plannedUnder: plannedConfigOf(parseConfig({})) }, directoryExportSource(dir));
    await expect(plan).rejects.toThrow(/: has no _manifest\.json, and exports\.requireManifest says the producer writes one last/);
    await expect(store.get('plan.json')).resolves.toBeUndefined();
  });
});
