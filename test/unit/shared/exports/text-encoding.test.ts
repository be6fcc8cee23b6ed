import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CsvRecordScanner } from '#shared/exports/csv-scanner.ts';
import { firstInvalidLine, MAX_CSV_RECORD_CHARS } from '#shared/exports/decode.ts';
import { join } from 'node:path';
import { parseConfig } from '#shared/config.ts';
import { ExportError, readExport } from '#shared/exports/reader.ts';
import { silentLog } from '#shared/log.ts';
import { plannedConfigOf } from '#shared/nightly/repeat.ts';
import { planShares, repartitionShare } from '#shared/nightly/shares.ts';
import { directoryWorkStore } from '#shared/nightly/work-store.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { directoryExportSource, type ExportSource } from '#shared/exports/source.ts';
import { CUSTOMERS, config, exportDir, failure, NOW, orders, read, readSource, receiver, removeExportDirs } from './reading.ts';

afterAll(removeExportDirs);

/** Text must be valid in the export's encoding (UTF-8 unless exports.encoding names another); the first bad line is named. */

const ascii = (text: string) => Buffer.from(text, 'latin1');
/** "张三" and "王" in GBK. */
const ZHANG_SAN_GBK = [0xd5, 0xc5, 0xc8, 0xfd];
const WANG_GBK = [0xcd, 0xf5];
/** "José" in Latin-1. */
const JOSE_LATIN1 = [0x4a, 0x6f, 0x73, 0xe9];

const gbkCustomers = Buffer.concat([
  ascii('customer_id,first_name,last_name\r\nC1,'),
  Buffer.from(ZHANG_SAN_GBK),
  ascii(',"two\r\nlines"\r\nC2,'),
  Buffer.from(WANG_GBK),
  ascii(',\r\n'),
]);
const latin1Customers = Buffer.concat([ascii('customer_id,first_name\nC1,Ann\nC2,'), Buffer.from(JOSE_LATIN1), ascii('\n')]);

/** An in-memory export whose files arrive in chunks of `size` bytes, to split characters across chunks. */
function chunkedSource(files: Record<string, Buffer>, size: number): ExportSource {
  return {
    describe: () => 'memory://export/',
    location: (key) => `memory://export/${key}`,
    list: async () => Object.entries(files).map(([key, content]) => ({ key, size: content.length })),
    open: async (key) => {
      const content = files[key] as Buffer;
      const chunks: Buffer[] = [];
      for (let i = 0; i < content.length; i += size) chunks.push(content.subarray(i, i + size));
      return Readable.from(chunks);
    },
  };
}

describe('UTF-8, the default', () => {
  it('fails Latin-1 bytes naming the first bad line, and suggests exports.encoding', async () => {
    const { error, dir } = await failure({ 'customers.csv': latin1Customers, 'orders.csv': orders(1) });
    expect(error.file).toBe(`${dir}/customers.csv`);
    expect(error.line).toBe(3);
    expect(error.message).toBe(
      `${dir}/customers.csv, line 3: is not valid UTF-8 text; if the platform exports another encoding (GBK is common in China), set exports.encoding in the config`,
    );
  });

  it('fails GBK bytes naming the physical line (after a quoted field spanning two lines)', async () => {
    const bad = Buffer.concat([ascii('customer_id,last_name\nC1,"two\nlines"\nC2,'), Buffer.from(WANG_GBK), ascii('\n')]);
    const { error } = await failure({ 'customers.csv': bad, 'orders.csv': orders(1) });
    expect(error.line).toBe(4);
  });

  it('names the line in a file whose lines end with CR alone (Excel\'s "CSV (Macintosh)"), as its rows are numbered', async () => {
    const customers = Buffer.concat([ascii('customer_id,first_name\rC1,Mei\rC2,Tom\rC3,'), Buffer.from(JOSE_LATIN1), ascii('\r')]);
    const { error } = await failure({ 'customers.csv': customers, 'orders.csv': orders(1) });
    expect(error.line).toBe(4);
    // Wherever the chunks fall, a CR at a chunk's end included; and with the NUL check's message.
    for (const size of [1, 2, 3, 23]) {
      const chunked = await readSource(chunkedSource({ 'customers.csv': customers, 'orders.csv': Buffer.from(orders(1)) }, size)).catch((e: unknown) => e);
      expect(chunked, `chunks of ${size}`).toMatchObject({ line: 4 });
    }
    const binary = await failure({ 'customers.csv': Buffer.concat([ascii('customer_id,first_name\r\nC1,Mei\r\nC2,'), Buffer.from([0]), ascii('\r\n')]), 'orders.csv': orders(1) });
    expect(binary.error.line).toBe(3);
  });

  it('names the line inside a gzip file too, and in a JSONL file', async () => {
    const gz = gzipSync(Buffer.concat([ascii(orders(500)), Buffer.from('O9,C1,2026-11-22T10:00:00Z,1.00,\xff\n', 'latin1')]));
    const gzFailure = await failure({ 'customers.csv': CUSTOMERS, 'orders.csv.gz': gz });
    expect(gzFailure.error.line).toBe(502);
    const jsonl = Buffer.concat([ascii('{"customer_id":"C1"}\n{"customer_id":"C2","first_name":"'), Buffer.from(JOSE_LATIN1), ascii('"}\n')]);
    const jsonlFailure = await failure({ 'customers.jsonl': jsonl, 'orders.csv': orders(1) });
    expect(jsonlFailure.error.line).toBe(2);
  });

  it('fails a file that ends inside a multi-byte character', async () => {
    const cut = Buffer.concat([ascii('customer_id,first_name\nC1,'), Buffer.from('张', 'utf8').subarray(0, 2)]);
    const { error } = await failure({ 'customers.csv': cut, 'orders.csv': orders(1) });
    expect(error.line).toBe(2);
  });

  it('reads UTF-8 with characters split over chunk boundaries, and a BOM', async () => {
    const text = Buffer.from('\uFEFFcustomer_id,first_name\nC1,张三 😀\nC2,José\n', 'utf8');
    for (const size of [1, 2, 3, 5, 7]) {
      const { customers } = await readSource(chunkedSource({ 'customers.csv': text, 'orders.csv': Buffer.from(orders(1)) }, size));
      expect(customers.map((c) => c.firstName)).toEqual(['张三 😀', 'José']);
    }
  });
});

describe('a configured encoding', () => {
  it('reads GBK when exports.encoding says gbk (and gb18030), in any chunking', async () => {
    for (const encoding of ['gbk', 'gb18030'] as const) {
      const { customers } = await read({ 'customers.csv': gbkCustomers, 'orders.csv': orders(1) }, { config: { exports: { encoding } } });
      expect(customers.map((c) => [c.customerId, c.firstName, c.lastName])).toEqual([
        // The quoted line break is read, then shown as a space (display-text.ts).
        ['C1', '张三', 'two lines'],
        ['C2', '王', undefined],
      ]);
    }
    const { customers } = await readSource(chunkedSource({ 'customers.csv': gbkCustomers, 'orders.csv': Buffer.from(orders(1)) }, 3), {
      config: { exports: { encoding: 'gbk' } },
    });
    expect(customers.map((c) => c.firstName)).toEqual(['张三', '王']);
  });

  it('reads Latin-1 when exports.encoding says latin1', async () => {
    const { customers } = await read({ 'customers.csv': latin1Customers, 'orders.csv': orders(1) }, { config: { exports: { encoding: 'latin1' } } });
    expect(customers.map((c) => c.firstName)).toEqual(['Ann', 'José']);
  });

  it('fails bytes that are not valid GBK, naming the line', async () => {
    const bad = Buffer.concat([gbkCustomers, ascii('C3,'), Buffer.from([0x81, 0x20]), ascii('\r\n')]);
    const { error, dir } = await failure({ 'customers.csv': bad, 'orders.csv': orders(1) }, { config: { exports: { encoding: 'gbk' } } });
    expect(error.line).toBe(5);
    expect(error.message).toBe(`${dir}/customers.csv, line 5: is not valid gbk text (exports.encoding in the config)`);
  });
});

describe('the line named is the line the CSV reader numbers its rows by', () => {
  const work = scratchDir('text-encoding-shares');
  let sharded = 0;
  /**
   * An orders file (header, a row with a note, the row under test) whose rows end with `end`: the row
   * under test holds bytes that are not UTF-8, or, in its twin, no customer id (a reject, which names
   * its row's line as every reject and error does).
   */
  const ordersFile = (end: string, header: string, note: string, last: Buffer) =>
    Buffer.concat([ascii(`order_id,customer_id,ordered_at,line_total,${header}${end}O1,C1,2026-11-22T10:00:00Z,10.00,${note}${end}O2,`), last, ascii(end)]);
  const bad = Buffer.concat([ascii('C1,2026-11-22T10:00:00Z,10.00,'), Buffer.from(JOSE_LATIN1)]);
  const rejected = ascii(',2026-11-22T10:00:00Z,10.00,Jose');

  /** The line the failure names on every reading path: the whole file here, in chunks, in worker threads, in blocks, in a sharded night's reader. */
  async function failureLines(file: Buffer): Promise<number[]> {
    const files = { 'customers.csv': Buffer.from(CUSTOMERS), 'orders.csv': file };
    const lines: number[] = [];
    const lineOf = (error: unknown) => (error instanceof ExportError ? (error.line ?? -1) : -2);
    lines.push((await failure(files)).error.line ?? -1);
    for (const size of [1, 2, 3, 23]) lines.push(lineOf(await readSource(chunkedSource(files, size)).catch((e: unknown) => e)));
    const source = directoryExportSource(await exportDir(files));
    for (const options of [{ threads: 2 }, { threads: 3, blockBytes: 23 }]) {
      lines.push(lineOf(await readExport(source, receiver().handlers, { now: NOW, config: config(), ...options }).catch((e: unknown) => e)));
    }
    // A sharded night's reader of the export (Distributed Map): its share of the files read into buckets.
    const store = directoryWorkStore(join(work, `shares-${++sharded}`));
    const plan = await planShares(store, { runId: 'r', shards: 1, exportRules: { requireManifest: false }, plannedUnder: plannedConfigOf(parseConfig({})) }, source);
    const repartition = { runId: 'r', runDate: '2026-11-23', config: config(), log: silentLog, threads: 0 };
    lines.push(lineOf(await repartitionShare(repartition, store, source, plan, 0).catch((e: unknown) => e)));
    return lines;
  }

  /** The line of the twin's reject. */
  async function rejectLine(file: Buffer): Promise<number | undefined> {
    const { result } = await read({ 'customers.csv': CUSTOMERS, 'orders.csv': file }, { config: { maxRejectShare: 1 } });
    expect(result.rejects).toHaveLength(1);
    return result.rejects[0]?.line;
  }

  const cases: [string, string, string, string, number][] = [
    ['lines ending with CR alone, a quoted field holding a CR before', '\r', 'note', '"two\rlines"', 3],
    ['lines ending with CR alone, a quoted field holding an LF before', '\r', 'note', '"two\nlines"', 4],
    ['lines ending with LF, the header holding a quoted CR', '\n', '"no\rte"', 'x', 3],
    ['lines ending with LF, the header holding a quoted CR, a quoted LF before', '\n', '"no\rte"', '"two\nlines"', 4],
    ['lines ending with CRLF, a quoted field holding a lone CR before', '\r\n', 'note', '"two\rlines"', 3],
  ];
  for (const [what, end, header, note, line] of cases) {
    it(what, async () => {
      expect(await rejectLine(ordersFile(end, header, note, rejected))).toBe(line);
      expect(await failureLines(ordersFile(end, header, note, bad))).toEqual(Array.from({ length: 8 }, () => line));
    });
  }
});

describe('firstInvalidLine on a CSV file, against the rows the scanner reads', () => {
  it('names the line of the row that holds the bad byte, plus the line breaks before it in that row, however the file is chunked', async () => {
    // Text of quotes, commas, CR and LF (any line ending, quoted line breaks, relaxed quotes) with one byte that is not UTF-8.
    const text = fc.array(fc.constantFrom('a', 'b', ',', '"', '\r', '\n', '\r\n'), { maxLength: 60 });
    await fc.assert(
      fc.asyncProperty(fc.boolean(), text, text, fc.integer({ min: 1, max: 9 }), async (bom, before, after, chunkSize) => {
        const bytes = Buffer.concat([Buffer.from(bom ? [0xef, 0xbb, 0xbf] : []), ascii(before.join('')), Buffer.from([0xff]), ascii(after.join(''))]);
        // The oracle: the scanner's own rows; the bad byte reads as U+FFFD in one of them.
        const rows: { fields: string[]; line: number }[] = [];
        const scanner = new CsvRecordScanner((fields, line) => rows.push({ fields, line }), MAX_CSV_RECORD_CHARS);
        try {
          scanner.push(bytes);
          scanner.end();
        } catch {
          fc.pre(false); // an unclosed quote: the file fails as CSV, not as text
        }
        const row = rows.find((r) => r.fields.some((field) => field.includes('\uFFFD'))) as { fields: string[]; line: number };
        const textBefore = row.fields.join(',').split('\uFFFD')[0] as string;
        const expected = row.line + (textBefore.match(/\n/g)?.length ?? 0);
        const chunks: Buffer[] = [];
        for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
        expect(await firstInvalidLine(Readable.from(chunks), 'utf-8', 'csv')).toEqual({ line: expected, binary: false });
      }),
      { numRuns: 500 },
    );
  });
});
