import { createInterface } from 'node:readline';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { parse } from 'csv-parse';
import { ExportError } from './errors.ts';

/**
 * Byte-level reading of export files: gzip by magic number, CSV records and JSONL lines with
 * their physical line numbers. Everything is streamed; nothing holds a whole file.
 */

/** A CSV record (or quoted field) larger than this is refused: it means an unclosed quote. */
export const MAX_CSV_RECORD_CHARS = 1 << 20;

/** How many leading decoded bytes are checked for binary content. */
const SNIFF_BYTES = 8192;

/**
 * The decoded bytes of a file: gunzipped when it starts with 1f 8b (whatever its name says).
 * `onBytes` is told the size of every raw (compressed) chunk read. The stream fails with an
 * ExportError when the content is binary rather than text.
 */
export function decodedStream(raw: NodeJS.ReadableStream | Readable, location: string, onBytes: (n: number) => void): Readable {
  const input = raw instanceof Readable ? raw : new Readable().wrap(raw);
  return Readable.from(decode(input, location, onBytes), { objectMode: false });
}

async function* counted(input: Readable, onBytes: (n: number) => void): AsyncGenerator<Buffer> {
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    onBytes(buffer.length);
    yield buffer;
  }
}

async function* decode(input: Readable, location: string, onBytes: (n: number) => void): AsyncGenerator<Buffer> {
  const bytes = counted(input, onBytes);
  // Peek at the first two bytes (possibly split over chunks), then replay them.
  const head: Buffer[] = [];
  let headLength = 0;
  while (headLength < 2) {
    const next = await bytes.next();
    if (next.done) break;
    head.push(next.value);
    headLength += next.value.length;
  }
  const start = head.length === 1 ? (head[0] as Buffer) : Buffer.concat(head);
  async function* replay(): AsyncGenerator<Buffer> {
    if (start.length > 0) yield start;
    yield* bytes;
  }
  let decoded: AsyncIterable<Buffer>;
  if (start.length >= 2 && start[0] === 0x1f && start[1] === 0x8b) {
    const gunzip = createGunzip();
    // Errors of either side reach the gunzip stream, hence the loop below; nothing to do here.
    pipeline(Readable.from(replay(), { objectMode: false }), gunzip, () => undefined);
    decoded = gunzip;
  } else {
    decoded = replay();
  }
  let sniffed = 0;
  for await (const chunk of decoded) {
    if (sniffed < SNIFF_BYTES) {
      // A NUL byte never occurs in UTF-8 text: this is binary data (or UTF-16, which we refuse too).
      const nul = chunk.subarray(0, SNIFF_BYTES - sniffed).indexOf(0);
      if (nul !== -1) throw ExportError.at(location, 'is not a UTF-8 text file (it contains binary data)');
      sniffed += chunk.length;
    }
    yield chunk;
  }
}

/** Turns a stream failure into an ExportError naming the file (ExportErrors pass through). */
export function streamError(error: unknown, location: string): unknown {
  if (error instanceof ExportError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('Z_')) {
    return ExportError.at(location, `is not a valid gzip file (${(error as Error).message})`, { cause: error });
  }
  if (typeof code === 'string' && code.startsWith('CSV_')) {
    const line = (error as { lines?: unknown }).lines;
    return ExportError.at(location, `is not valid CSV: ${csvProblem(code)}`, {
      line: typeof line === 'number' ? line : undefined,
      cause: error,
    });
  }
  return error;
}

// csv-parse's own messages may quote field values (personal data), so only its code is used.
function csvProblem(code: string): string {
  switch (code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      // csv-parse only notices at the end of the file, so its line is the last one.
      return 'a quoted field is still open at the end of the file (truncated file or stray quote)';
    case 'CSV_MAX_RECORD_SIZE':
      return `a record is longer than ${MAX_CSV_RECORD_CHARS} characters (unclosed quote?)`;
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return 'unexpected characters after a closing quote';
    default:
      return `parse error ${code}`;
  }
}

/**
 * Calls `onRecord` for every CSV record with the physical line it starts on (1-based). Blank
 * lines come through as records of one empty field. csv-parse's own line counter counts a CRLF
 * inside a quoted field twice, so lines are counted here from the records themselves.
 */
export function readCsvRecords(bytes: Readable, onRecord: (fields: string[], line: number) => void): Promise<void> {
  const parser = parse({
    bom: true,
    // A row with the wrong number of columns becomes a reject, not a failure of the file.
    relax_column_count: true,
    // Tolerate a stray quote inside an unquoted field (12" vinyl) instead of failing the file.
    relax_quotes: true,
    max_record_size: MAX_CSV_RECORD_CHARS,
  });
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      reject(error);
    };
    let nextLine = 1;
    pipeline(bytes, parser, (error) => {
      if (error) fail(error);
    });
    parser.on('readable', () => {
      try {
        let record: string[] | null;
        while ((record = parser.read() as string[] | null) !== null) {
          const line = nextLine;
          nextLine += 1;
          for (let i = 0; i < record.length; i++) {
            const field = record[i] as string;
            // Quoted fields may span lines: count their newlines to keep line numbers physical.
            let at = field.indexOf('\n');
            while (at !== -1) {
              nextLine += 1;
              at = field.indexOf('\n', at + 1);
            }
          }
          onRecord(record, line);
        }
      } catch (error) {
        parser.destroy(error as Error);
        fail(error);
      }
    });
    parser.on('end', () => {
      if (!settled) {
        settled = true;
        resolve();
      }
    });
  });
}

/** Calls `onLine` for every line of a UTF-8 text stream (BOM removed), with its 1-based number. */
export async function readLines(bytes: Readable, onLine: (text: string, line: number) => void): Promise<void> {
  const lines = createInterface({ input: bytes, crlfDelay: Infinity });
  let number = 0;
  try {
    for await (const text of lines) {
      number += 1;
      onLine(number === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, number);
    }
  } finally {
    lines.close();
    bytes.destroy();
  }
}
