import { pipeline, Readable } from 'node:stream';
import { parse } from 'csv-parse';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvRecordScanner } from '#shared/exports/csv-scanner.ts';
import { MAX_CSV_RECORD_CHARS, readCsvRecords } from '#shared/exports/decode.ts';

/**
 * The byte-level scanner against csv-parse, which the reader used before it (with the options
 * below): on random text full of quotes, commas, CR, LF, NUL and multi-byte characters, cut into
 * random chunks, both give the same records with the same physical lines, or fail with the same
 * code at the same csv-parse line. (On a failure csv-parse drops the records it parsed from the
 * failing chunk, so there its records need only be a prefix of the scanner's: the file fails.)
 * Except where the scanner refuses mixed line endings, which csv-parse reads as field content.
 */

type Outcome = { records: [string[], number][]; error?: { code: string; lines: unknown } };

/** The reader's readCsvRecords as it was on csv-parse, kept here as the reference. */
function csvParseRecords(chunks: Buffer[], maxRecordSize: number): Promise<Outcome> {
  const records: [string[], number][] = [];
  const parser = parse({ bom: true, relax_column_count: true, relax_quotes: true, max_record_size: maxRecordSize });
  return new Promise((resolve) => {
    let nextLine = 1;
    let settled = false;
    const settle = (error?: unknown) => {
      if (settled) return;
      settled = true;
      const failure = error as { code?: string; lines?: unknown } | undefined;
      resolve(failure ? { records, error: { code: String(failure.code), lines: failure.lines } } : { records });
    };
    pipeline(Readable.from(chunks, { objectMode: false }), parser, (error) => {
      if (error) settle(error);
    });
    parser.on('readable', () => {
      let record: string[] | null;
      while ((record = parser.read() as string[] | null) !== null) {
        const line = nextLine;
        nextLine += 1;
        for (const field of record) nextLine += field.split('\n').length - 1;
        records.push([record, line]);
      }
    });
    parser.on('end', () => settle());
  });
}

function expectSameOutcome(actual: Outcome, expected: Outcome): void {
  if (actual.error?.code === 'CSV_MIXED_LINE_ENDINGS') {
    // Where the scanner refuses a line break outside quotes that is not the line ending,
    // csv-parse read it as field content: the same records before it, then (unless csv-parse
    // failed first, its records a prefix) one with a CR or LF in a field: that record, or the
    // next when the stray LF follows a CR that ends a record of a CR file.
    const before = Math.min(actual.records.length, expected.records.length);
    expect(actual.records.slice(0, before)).toEqual(expected.records.slice(0, before));
    if (expected.error === undefined) {
      const merged = expected.records.slice(actual.records.length, actual.records.length + 2);
      expect(merged.some(([fields]) => fields.some((field) => field.includes('\r') || field.includes('\n')))).toBe(true);
    }
    return;
  }
  if (expected.error === undefined) {
    expect(actual).toEqual(expected);
    return;
  }
  expect(actual.error).toEqual(expected.error);
  expect(actual.records.slice(0, expected.records.length)).toEqual(expected.records);
}

function scannerRecords(chunks: Buffer[], maxRecordSize: number): Outcome {
  const records: [string[], number][] = [];
  const scanner = new CsvRecordScanner((fields, line) => records.push([fields, line]), maxRecordSize);
  try {
    for (const chunk of chunks) scanner.push(chunk);
    scanner.end();
  } catch (error) {
    const failure = error as { code: string; lines: unknown };
    return { records, error: { code: failure.code, lines: failure.lines } };
  }
  return { records };
}

/** Text made of the characters CSV treats specially, and a few ordinary ones of 1 to 4 bytes. */
const textArbitrary = fc
  .array(fc.constantFrom('"', '"', '"', ',', ',', '\n', '\r', '\r\n', 'a', 'b', ' ', 'é', '中', '😀', '\0', '\uFEFF'), { maxLength: 60 })
  .chain((parts) => fc.boolean().map((bom) => (bom ? '\uFEFF' : '') + parts.join('')));

/** The text's bytes cut at random positions (multi-byte characters included). */
function chunked(text: string, cuts: number[]): Buffer[] {
  const bytes = Buffer.from(text, 'utf8');
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const point of points) {
    chunks.push(bytes.subarray(from, point));
    from = point;
  }
  chunks.push(bytes.subarray(from));
  return chunks.filter((chunk) => chunk.length > 0);
}

describe('CsvRecordScanner', () => {
  it('reads what csv-parse reads, whatever the chunking', async () => {
    await fc.assert(
      fc.asyncProperty(textArbitrary, fc.array(fc.nat(), { maxLength: 6 }), async (text, cuts) => {
        const chunks = chunked(text, cuts);
        expectSameOutcome(scannerRecords(chunks, MAX_CSV_RECORD_CHARS), await csvParseRecords(chunks, MAX_CSV_RECORD_CHARS));
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses a record over the size limit where csv-parse does, with its line', async () => {
    await fc.assert(
      fc.asyncProperty(textArbitrary, fc.array(fc.nat(), { maxLength: 4 }), fc.integer({ min: 1, max: 12 }), async (text, cuts, max) => {
        const chunks = chunked(text, cuts);
        expectSameOutcome(scannerRecords(chunks, max), await csvParseRecords(chunks, max));
      }),
      { numRuns: 2000 },
    );
  });

  it('reads what csv-parse reads on export-like rows', async () => {
    const cell = fc.oneof(
      fc.constantFrom('', ' ', 'C1', '2026-11-20T10:00:00+08:00', '129.90', 'paid', '丝巾'),
      fc.string({ unit: fc.constantFrom('a', ' ', ',', '"', '\n', '\r', '中'), maxLength: 6 }).map((s) => `"${s.replaceAll('"', '""')}"`),
    );
    const rows = fc.array(fc.array(cell, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 8 });
    await fc.assert(
      fc.asyncProperty(rows, fc.constantFrom('\n', '\r\n', '\r'), fc.boolean(), fc.array(fc.nat(), { maxLength: 5 }), async (table, eol, lastEol, cuts) => {
        const text = table.map((row) => row.join(',')).join(eol) + (lastEol ? eol : '');
        const chunks = chunked(text, cuts);
        expectSameOutcome(scannerRecords(chunks, MAX_CSV_RECORD_CHARS), await csvParseRecords(chunks, MAX_CSV_RECORD_CHARS));
      }),
      { numRuns: 1000 },
    );
  });

  it('reads a stream through readCsvRecords, records longer than a chunk included', async () => {
    const long = 'x'.repeat(200_000);
    const text = `a,b\n"${long}",2\n"q""uoted\nfield",3\n`;
    const records: [string[], number][] = [];
    await readCsvRecords(Readable.from(chunked(text, [1, 70_000, 140_000, 200_003]), { objectMode: false }), (fields, line) => records.push([fields, line]));
    expect(records).toEqual([
      [['a', 'b'], 1],
      [[long, '2'], 2],
      [['q"uoted\nfield', '3'], 3],
    ]);
  });
});

describe('a scanner that starts at a record', () => {
  it('reads the rest of the input from where another left off as the one scanner reads it (property)', () => {
    fc.assert(
      fc.property(textArbitrary, fc.nat(), (text, cut) => {
        const whole = scannerRecords([Buffer.from(text, 'utf8')], MAX_CSV_RECORD_CHARS);
        if (whole.error !== undefined) return;
        // The first scanner reads up to the end of record k; a second one goes on from there.
        const bytes = Buffer.from(text, 'utf8');
        const records: [string[], number][] = [];
        if (whole.records.length === 0) return;
        const k = 1 + (cut % whole.records.length);
        let from: { start: CsvRecordScanner['next']; end: number } | undefined;
        const first: CsvRecordScanner = new CsvRecordScanner((fields, line) => {
          records.push([fields, line]);
          if (records.length === k) from = { start: first.next, end: first.bytesBeforeNext };
        }, MAX_CSV_RECORD_CHARS);
        // Stop once record k is given, as a block ending there would.
        first.push(bytes);
        first.end();
        expect(from).toBeDefined();
        const { start, end } = from as { start: CsvRecordScanner['next']; end: number };
        const rest: [string[], number][] = [];
        const second = new CsvRecordScanner((fields, line) => rest.push([fields, line]), MAX_CSV_RECORD_CHARS, start);
        second.push(bytes.subarray(end));
        second.end();
        expect([...whole.records.slice(0, k), ...rest]).toEqual(whole.records);
        expect(second.next).toEqual(first.next);
        expect(second.unfinishedBytes).toBe(0);
      }),
      { numRuns: 500 },
    );
  });

  it('says how many bytes of a record it has not finished', () => {
    const scanner = new CsvRecordScanner(() => undefined, MAX_CSV_RECORD_CHARS);
    scanner.push(Buffer.from('a,b\n"c\nd'));
    expect(scanner.unfinishedBytes).toBe(4);
    expect(scanner.bytesBeforeNext).toBe(4);
    expect(scanner.next).toEqual({ line: 2, csvLine: 2, delimiter: 1 });
  });
});
