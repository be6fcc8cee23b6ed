import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ExportKind, RowPosition } from '#shared/exports/types.ts';
import type { CustomerRecord, OrderLine, ProductRecord } from '#shared/model.ts';
import { assignShares, BucketWriter, chunkBytesFor, decodeRecordLines, encodeRecordLine, readBucket, type ShareFigures, type SharePlan } from '#shared/nightly/shares.ts';
import type { WorkStore } from '#shared/nightly/work-store.ts';

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

describe('bucket objects', () => {
  it('read back as written: each bucket its own records, in file and line order, with their original file and line', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 300, max: 4000 }), async (buckets, readers, chunkBytes) => {
        const files = fc.sample(exportFiles(buckets), { numRuns: 1, seed: buckets * 31 + readers * 7 + chunkBytes })[0] as Row[][];
        const store = memoryStore();
        const names = files.map((rows, i) => `${rows[0]?.kind ?? 'orders'}-${i}.csv.gz`);
        const readerOf = assignShares(files.map((rows) => rows.length), readers);
        const shares: ShareFigures[] = [];
        for (let reader = 0; reader < readers; reader++) {
          const writer = new BucketWriter(store, reader, buckets, chunkBytes);
          files.forEach((rows, file) => {
            if (readerOf[file] !== reader) return;
            writer.startFile(file, names[file] as string);
            for (const row of rows) writer.add(row.bucket, encodeRecordLine(row.line, row.record));
          });
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
          const see = (kind: string) => (record: unknown, at: RowPosition) => seen.push({ file: at.file, line: at.line, record, kind });
          await readBucket(store, plan, shares, bucket, { customer: see('customers'), order: see('orders'), product: see('products') });
          const expected = files.flatMap((rows, file) =>
            rows.filter((row) => row.bucket === bucket).map((row) => ({ file: `export/${names[file]}`, line: row.line, record: JSON.parse(JSON.stringify(row.record)) as unknown, kind: row.kind })),
          );
          expect(seen).toEqual(expected);
        }
        // Named after the file without its .gz, in the bucket and the reader's folders.
        for (const key of store.objects.keys()) expect(key).toMatch(/^bucket-\d\/from-\d\/\w+-\d\.csv\.\d{5}\.jsonl$/);
      }),
      { numRuns: 40 },
    );
  });

  it("refuse a file started again after another's rows, which would overwrite its first chunks", async () => {
    const store = memoryStore();
    const writer = new BucketWriter(store, 0, 2, 1024);
    writer.startFile(0, 'orders-1.csv');
    writer.add(0, encodeRecordLine(2, { customerId: 'C1' }));
    writer.startFile(1, 'orders-2.csv');
    writer.add(1, encodeRecordLine(2, { customerId: 'C2' }));
    expect(() => writer.startFile(0, 'orders-1.csv')).toThrow(/rows of orders-1\.csv came after another file's/);
    const chunks = await writer.finish();
    expect(chunks.flat().map((chunk) => chunk.file).sort()).toEqual([0, 1]);
  });

  it('keep a record line whole whatever its characters, and refuse a damaged one', () => {
    fc.assert(
      fc.property(fc.nat(), fc.string({ unit: 'binary' }), (line, name) => {
        const text = encodeRecordLine(line, { sku: name });
        const out: [number, unknown][] = [];
        expect(decodeRecordLines(text + text, (l, r) => out.push([l, r]))).toBe(2);
        expect(out).toEqual([
          [line, { sku: name }],
          [line, { sku: name }],
        ]);
      }),
    );
    expect(() => decodeRecordLines('12{"sku":"a"}\n', () => undefined)).toThrow(/malformed record/);
    expect(() => decodeRecordLines('12\t{"sku":"a"}', () => undefined)).toThrow(/malformed record/);
  });

  it('buffer about 16 MB over all buckets, in chunks of 256 KB to 4 MB', () => {
    expect(chunkBytesFor(1)).toBe(4 << 20);
    expect(chunkBytesFor(4)).toBe(4 << 20);
    expect(chunkBytesFor(16)).toBe(1 << 20);
    expect(chunkBytesFor(100)).toBe(256 << 10);
  });
});
