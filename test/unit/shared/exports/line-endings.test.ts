import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ExportError } from '#shared/exports/reader.ts';
import { memorySource, readingPaths, readSource, type ReadingPath } from './reading.ts';

/**
 * A CSV whose line ending changes part way (a producer appending LF lines to a CRLF file, one line
 * ending in a lone CR), or whose quote opened in one line is only closed lines later. The scanner
 * fixes the line ending from the first one met; another one outside quotes used to be read as
 * field content, so a block of lines merged into one record: one reject ("row has 49 columns")
 * counted as one row, under the reject share, and the other lines' orders were silently lost.
 * Now a line break outside quotes that is not the file's line ending refuses the file, naming its
 * line, and a rejected record over several lines counts (and lists) each of them as a rejected
 * row. Every reading path: the whole file, in small chunks, in blocks by worker threads.
 */
const H = 'order_id,customer_id,ordered_at,line_total,product_name';
const LINES = Array.from({ length: 60 }, (_, i) => `O${i + 1},C1,2026-11-22T10:00:00Z,10.00,P${i}`);
const CUSTOMERS = 'customer_id\nC1\n';

const PATHS = readingPaths(7);

async function failure(files: Record<string, string>, path: ReadingPath): Promise<ExportError> {
  const error = await readSource(memorySource(files, path.chunk), { threads: path.threads, blockBytes: 64 }).then(
    (out) => new Error(`read ${out.orders.length} order lines and ${out.customers.length} customers, ${out.result.rejected} rejects, no error`),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ExportError);
  return error as ExportError;
}

describe('a CSV whose line ending changes part way', () => {
  for (const path of PATHS) {
    it(`refuses a CRLF file with 11 lines ending in LF alone, naming the first (${path.name})`, async () => {
      const text = [H, ...LINES].map((l, i) => l + (i >= 20 && i <= 30 ? '\n' : '\r\n')).join('');
      const error = await failure({ 'customers.csv': CUSTOMERS, 'orders.csv': text }, path);
      expect(error.message).toBe(
        'memory://export/orders.csv, line 21: is not valid CSV: mixed line endings: this line ends with LF alone, the file\'s first line with CRLF (or a line break in a field without quotes)',
      );
    });

    it(`refuses an LF file with one line ending in a lone CR (${path.name})`, async () => {
      const text = [H, ...LINES].map((l, i) => l + (i === 20 ? '\r' : '\n')).join('');
      const error = await failure({ 'customers.csv': CUSTOMERS, 'orders.csv': text }, path);
      expect(error.message).toMatch(/^memory:\/\/export\/orders\.csv, line 21: is not valid CSV: mixed line endings: this line ends with CR, the file's first line with LF/);
    });

    it(`reads an LF file with a few lines ending in CRLF as before: the CR is the last field's edge, no line is joined (${path.name})`, async () => {
      const text = [H, ...LINES].map((l, i) => l + (i >= 58 ? '\r\n' : '\n')).join('');
      const out = await readSource(memorySource({ 'customers.csv': CUSTOMERS, 'orders.csv': text }, path.chunk), { threads: path.threads, blockBytes: 64 });
      expect(out.orders).toHaveLength(60);
      expect(out.result.rejected).toBe(0);
      expect(out.orders.map((o) => o.productName)).toEqual(LINES.map((_, i) => `P${i}`));
    });

    it(`refuses a CR file with a line ending in CRLF (${path.name})`, async () => {
      const text = [H, ...LINES].map((l, i) => l + (i === 10 ? '\r\n' : '\r')).join('');
      const error = await failure({ 'customers.csv': CUSTOMERS, 'orders.csv': text }, path);
      expect(error.message).toMatch(/^memory:\/\/export\/orders\.csv, line 11: is not valid CSV: mixed line endings: this line ends with CRLF, the file's first line with CR /);
    });

    it(`refuses an LF file whose CRLF line ends with a quoted field, rather than keep its quotes in the value (${path.name})`, async () => {
      const text = [H, ...LINES].map((l, i) => (i >= 58 ? `${l.replace(/P(\d+)$/, '"P$1"')}\r\n` : `${l}\n`)).join('');
      const error = await failure({ 'customers.csv': CUSTOMERS, 'orders.csv': text }, path);
      expect(error.message).toMatch(/^memory:\/\/export\/orders\.csv, line 59: is not valid CSV: mixed line endings: this line ends with CRLF, the file's first line with LF/);
    });

    it(`reads a lone CR inside an unquoted field of a CRLF file as the field's content, as before: it joins no lines (${path.name})`, async () => {
      const lines = LINES.map((l, i) => (i === 7 ? l.replace('P7', 'Serum\rCream') : l));
      const out = await readSource(memorySource({ 'customers.csv': CUSTOMERS, 'orders.csv': [H, ...lines].join('\r\n') + '\r\n' }, path.chunk), { threads: path.threads, blockBytes: 64 });
      expect(out.orders).toHaveLength(60);
      expect(out.result.rejected).toBe(0);
    });

    it(`refuses a one-column customers file with CRLF and one LF line, rather than read two clients as one (${path.name})`, async () => {
      const error = await failure(
        { 'customers.csv': 'customer_id\r\nC1\r\nC2\nC3\r\nC4\r\n', 'orders.csv': 'order_id,customer_id,ordered_at,line_total\r\nO1,C1,2026-11-22T10:00:00Z,1.00\r\n' },
        path,
      );
      expect(error.message).toMatch(/^memory:\/\/export\/customers\.csv, line 3: is not valid CSV: mixed line endings/);
      // No value of the file in the message.
      expect(error.message).not.toMatch(/C2|C3/);
    });

    it(`still reads line breaks inside quoted fields, whatever they are, in a file of any line ending (${path.name})`, async () => {
      for (const eol of ['\n', '\r\n', '\r']) {
        const lines = LINES.map((l, i) => (i === 3 ? l.replace('P3', '"Serum\nnight\r\ncream\rrich"') : l));
        const out = await readSource(memorySource({ 'customers.csv': CUSTOMERS, 'orders.csv': [H, ...lines].join(eol) + eol }, path.chunk), { threads: path.threads, blockBytes: 64 });
        expect(out.orders).toHaveLength(60);
        expect(out.result.rejected).toBe(0);
      }
    });
  }
});

describe('a quote opened in one line and closed lines later', () => {
  for (const path of PATHS) {
    it(`counts every line of the merged record as a rejected row, listed by line, and the share refuses the file (${path.name})`, async () => {
      // Line 6 opens a quote it never closes; the quote that opens line 21's last field ends it.
      const lines = LINES.map((l, i) => (i === 4 ? l.replace(/P4$/, '"Serum') : i === 19 ? l.replace(/P19$/, '"Silk, red"') : l));
      const files = { 'customers.csv': CUSTOMERS, 'orders.csv': [H, ...lines].join('\n') + '\n' };
      const error = await failure(files, path);
      expect(error.message).toMatch(/orders\.csv.*rows rejected \(16 of 60\)/);
      const out = await readSource(memorySource(files, path.chunk), { threads: path.threads, blockBytes: 64, config: { maxRejectShare: 1 } });
      const file = out.result.files.find((f) => f.kind === 'orders');
      expect(file?.rows).toBe(60);
      expect(file?.rejected).toBe(16);
      expect(out.orders.length + out.result.rejected).toBe(60);
      expect(out.result.rejects.map((r) => r.line)).toEqual(Array.from({ length: 16 }, (_, i) => 6 + i));
      expect(out.result.rejects[0]?.reason).toBe(
        'row has 6 columns, the header has 5: one record over lines 6 to 21 (a quote opened and not closed?), each of its 16 lines counted as a rejected row',
      );
    });

    it(`counts a short record over several lines as that many rejected rows once another record follows (${path.name})`, async () => {
      // Line 6's quote swallows lines 6 to 8 into a record of 3 columns.
      const lines = LINES.map((l, i) => (i === 4 ? 'O5,"C1' : i === 6 ? 'P6",x' : l));
      const out = await readSource(memorySource({ 'customers.csv': CUSTOMERS, 'orders.csv': [H, ...lines].join('\n') + '\n' }, path.chunk), {
        threads: path.threads,
        blockBytes: 64,
        config: { maxRejectShare: 1 },
      });
      const file = out.result.files.find((f) => f.kind === 'orders');
      expect(file?.rows).toBe(60);
      expect(out.result.rejects.map((r) => r.line)).toEqual([6, 7, 8]);
      expect(out.orders.length + out.result.rejected).toBe(60);
    });

    it(`checks a manifest's rows against records: a bad record over quoted lines is one of them (${path.name})`, async () => {
      // Record 51 holds a product name over 3 quoted lines and one column too many: 100 records, 102 lines.
      const records = Array.from({ length: 100 }, (_, i) => (i === 50 ? `O${i},C1,2026-11-22T10:00:00Z,10.00,"Serum\nnight\ncream",extra` : `O${i},C1,2026-11-22T10:00:00Z,10.00,P${i}`));
      const orders = [H, ...records].join('\n') + '\n';
      const manifest = (rows: number) =>
        JSON.stringify({ mode: 'full', files: [{ name: 'customers.csv', rows: 1, sha256: sha256(CUSTOMERS) }, { name: 'orders.csv', rows, sha256: sha256(orders) }] });
      const out = await readSource(memorySource({ '_manifest.json': manifest(100), 'customers.csv': CUSTOMERS, 'orders.csv': orders }, path.chunk), {
        threads: path.threads,
        blockBytes: 64,
      });
      expect(out.orders).toHaveLength(99);
      // Its lines counted as rejected rows for the share, and listed.
      expect(out.result.rejects.map((r) => r.line)).toEqual([52, 53, 54]);
      // A manifest that counts its lines instead does not describe the file.
      const error = await failure({ '_manifest.json': manifest(102), 'customers.csv': CUSTOMERS, 'orders.csv': orders }, path);
      expect(error.message).toMatch(/orders\.csv: has 100 data rows, _manifest\.json says 102/);
    });
  }
});

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
