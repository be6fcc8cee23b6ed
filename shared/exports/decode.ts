import { isUtf8 } from 'node:buffer';
import { createHash, type Hash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Config } from '#shared/config.ts';
import { CsvRecordScanner, CsvSyntaxError } from './csv-scanner.ts';
import { ExportError } from './errors.ts';

/**
 * Byte-level reading of export files: gzip by magic number, the text encoding (checked, or
 * converted to UTF-8), CSV records and JSONL lines with their physical line numbers.
 * Everything is streamed; nothing holds a whole file.
 */

/** The raw bytes of a file as they are read: their count and sha256. */
export interface RawTally {
  bytes: number;
  readonly hash: Hash;
}

/** A text encoding the config may name for the export (config.exports.encoding). */
export type ExportTextEncoding = Config['exports']['encoding'];

export function rawTally(): RawTally {
  return { bytes: 0, hash: createHash('sha256') };
}

/**
 * The decoded text is not valid in the export's encoding, or is not text (a NUL byte). Thrown by
 * the decoded stream, which does not count lines (that would cost every night); the reader finds
 * the line afterwards with firstInvalidLine.
 */
export class InvalidText extends Error {
  override name = 'InvalidText';
}

/** A CSV record (or quoted field) larger than this is refused: it means an unclosed quote. */
export const MAX_CSV_RECORD_CHARS = 1 << 20;

const LF = 0x0a;
const CR = 0x0d;

export interface DecodeOptions {
  /** Told the size of every raw (compressed) chunk read. */
  onBytes?: (n: number) => void;
  /** Counts and hashes the raw bytes. */
  tally?: RawTally;
  /** The export's text encoding; anything but UTF-8 is converted to UTF-8. */
  encoding: ExportTextEncoding;
}

/**
 * The decoded bytes of a file as UTF-8 text: gunzipped when it starts with 1f 8b (whatever its
 * name says), checked to be valid in the export's encoding and converted to UTF-8 when it is
 * another. The stream fails with InvalidText when the content has a NUL byte (binary rather than
 * text) or is not valid in its encoding.
 */
export function decodedStream(raw: NodeJS.ReadableStream | Readable, options: DecodeOptions): Readable {
  const input = raw instanceof Readable ? raw : new Readable().wrap(raw);
  const text = isUtf8Encoding(options.encoding) ? checkedUtf8 : transcoded(options.encoding);
  return Readable.from(text(gunzipped(input, options)), { objectMode: false });
}

function isUtf8Encoding(encoding: ExportTextEncoding): boolean {
  return encoding === 'utf-8';
}

async function* counted(input: Readable, options: DecodeOptions): AsyncGenerator<Buffer> {
  const { onBytes, tally } = options;
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    onBytes?.(buffer.length);
    if (tally) {
      tally.bytes += buffer.length;
      tally.hash.update(buffer);
    }
    yield buffer;
  }
}

/**
 * How many bytes at the end of `chunk` start a UTF-8 sequence the chunk does not finish (0-3):
 * they are checked with the next chunk. A lone continuation byte at the end counts as finished,
 * so that the validator refuses it.
 */
function unfinishedTail(chunk: Buffer): number {
  for (let back = 1; back <= 3 && back <= chunk.length; back++) {
    const byte = chunk[chunk.length - back] as number;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return length > back ? back : 0;
  }
  return 0;
}

/**
 * Passes UTF-8 bytes through unchanged, checking each chunk with the native validator (a
 * sequence cut by a chunk boundary is checked with the next chunk).
 */
async function* checkedUtf8(bytes: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let carried: Buffer | undefined;
  for await (const chunk of bytes) {
    const whole = carried === undefined ? chunk : Buffer.concat([carried, chunk]);
    const tail = unfinishedTail(whole);
    const checked = tail === 0 ? whole : whole.subarray(0, whole.length - tail);
    if (!isUtf8(checked)) throw new InvalidText('not valid UTF-8');
    carried = tail === 0 ? undefined : Buffer.from(whole.subarray(whole.length - tail));
    yield chunk;
  }
  if (carried !== undefined) throw new InvalidText('ends inside a UTF-8 sequence');
}

/** Decodes `encoding` (fatal on invalid bytes) and yields the text as UTF-8. */
function transcoded(encoding: ExportTextEncoding) {
  return async function* (bytes: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    const decoder = new TextDecoder(encoding, { fatal: true });
    const decode = (chunk?: Buffer): string => {
      try {
        return chunk === undefined ? decoder.decode() : decoder.decode(chunk, { stream: true });
      } catch (error) {
        throw new InvalidText(`not valid ${encoding}`, { cause: error });
      }
    };
    for await (const chunk of bytes) {
      const text = decode(chunk);
      if (text.length > 0) yield Buffer.from(text, 'utf8');
    }
    const rest = decode();
    if (rest.length > 0) yield Buffer.from(rest, 'utf8');
  };
}

/** The first line of a file that is not valid text: its number, and whether a NUL byte (binary data) is what is wrong. */
export interface InvalidLine {
  line: number;
  binary: boolean;
}

/**
 * The first line (1-based) of `raw` that is not valid text in `encoding` or has a NUL byte, read
 * again from the start: only after the decoded stream failed, so the nightly path counts no lines.
 * `records` says how the file's lines are numbered: 'csv' as the CSV reader numbers its rows
 * (firstInvalidCsvLine), 'lines' at each line break (JSONL). Neither CR nor LF is ever part of a
 * multi-byte character in the encodings a config may name. Undefined when every line is valid.
 */
export async function firstInvalidLine(raw: NodeJS.ReadableStream | Readable, encoding: ExportTextEncoding, records: 'csv' | 'lines'): Promise<InvalidLine | undefined> {
  const input = raw instanceof Readable ? raw : new Readable().wrap(raw);
  try {
    return await (records === 'csv' ? firstInvalidCsvLine : firstInvalidTextLine)(gunzipped(input, { encoding }, false), encoding);
  } catch (error) {
    if (error instanceof InvalidLineFound) return error.invalid;
    throw error;
  } finally {
    input.destroy();
  }
}

/** Thrown by the decoder's wrapper with the line it was at. */
class InvalidLineFound extends Error {
  constructor(readonly invalid: InvalidLine) {
    super(`line ${invalid.line} is not valid text`);
  }
}

/** A fatal TextDecoder whose failures say the line given with the bytes (InvalidLineFound). */
function lineDecoder(encoding: ExportTextEncoding): { decode(bytes: Buffer, line: number): void; end(line: number): void } {
  const decoder = new TextDecoder(encoding, { fatal: true });
  const failed = (error: unknown, line: number): never => {
    if ((error as { code?: unknown }).code === 'ERR_ENCODING_INVALID_ENCODED_DATA') throw new InvalidLineFound({ line, binary: false });
    throw error;
  };
  return {
    decode(bytes, line) {
      if (bytes.indexOf(0) !== -1) throw new InvalidLineFound({ line, binary: true });
      try {
        decoder.decode(bytes, { stream: true });
      } catch (error) {
        failed(error, line);
      }
    },
    /** The line is complete: an unfinished character in it fails here. */
    end(line) {
      try {
        decoder.decode();
      } catch (error) {
        failed(error, line);
      }
    },
  };
}

/**
 * The first invalid line of a CSV file, numbered as the CSV scanner numbers the rows (the line of a
 * reject, of a CSV error): a row's line is the line after the one its previous row ended on, and
 * within a row an LF (quoted or not) starts a line; a CR that is not the file's row delimiter (a
 * quoted one, or a lone CR in a CRLF file) does not. The scanner itself says where each row starts.
 * Should it refuse the file first (a record past the size limit), lines go on at each LF.
 */
async function firstInvalidCsvLine(chunks: AsyncIterable<Buffer>, encoding: ExportTextEncoding): Promise<undefined> {
  const decoder = lineDecoder(encoding);
  /** Where the rows the scanner found start (bytes of the input) and their lines, in order; those not yet reached. */
  const rows: { at: number; line: number }[] = [];
  const scanner = new CsvRecordScanner(() => rows.push({ at: scanner.bytesBeforeNext, line: scanner.next.line }), MAX_CSV_RECORD_CHARS);
  let scanning = true;
  let line = 1;
  /** Bytes not checked yet: those of the row the scanner has not finished (where it ends is not known). */
  const held: Buffer[] = [];
  /** Where the first held byte is in the input. */
  let heldAt = 0;
  /** Checks the held bytes up to `upTo` (a place in the input), each on its line. */
  const check = (upTo: number) => {
    while (held.length > 0 && heldAt < upTo) {
      const chunk = held[0] as Buffer;
      const length = Math.min(chunk.length, upTo - heldAt);
      let pos = 0;
      while (pos < length) {
        // A row starts here: the row before it is complete.
        while (rows.length > 0 && (rows[0] as { at: number }).at - heldAt <= pos) {
          decoder.end(line);
          line = (rows.shift() as { line: number }).line;
        }
        const rowStart = rows.length > 0 ? (rows[0] as { at: number }).at - heldAt : length;
        const lf = chunk.indexOf(LF, pos);
        const end = Math.min(lf === -1 || lf >= length ? length : lf + 1, rowStart);
        decoder.decode(chunk.subarray(pos, end), line);
        if (end === lf + 1) {
          decoder.end(line);
          line += 1;
        }
        pos = end;
      }
      if (length === chunk.length) held.shift();
      else held[0] = chunk.subarray(length);
      heldAt += length;
    }
  };
  for await (const chunk of chunks) {
    held.push(chunk);
    if (scanning) {
      try {
        scanner.push(chunk);
      } catch (error) {
        if (!(error instanceof CsvSyntaxError)) throw error;
        scanning = false;
      }
    }
    check(scanning ? scanner.bytesBeforeNext : Number.POSITIVE_INFINITY);
  }
  if (scanning) {
    try {
      scanner.end();
    } catch (error) {
      // Ends inside quotes: the rest is the row the scanner was reading.
      if (!(error instanceof CsvSyntaxError)) throw error;
    }
  }
  check(Number.POSITIVE_INFINITY);
  decoder.end(line);
  return undefined;
}

/**
 * The first invalid line of a file read line by line (JSONL). Lines end at LF (CRLF included), or at
 * CR when the file's first line break is a lone CR.
 */
async function firstInvalidTextLine(chunks: AsyncIterable<Buffer>, encoding: ExportTextEncoding): Promise<undefined> {
  const decoder = lineDecoder(encoding);
  let line = 1;
  /** The byte that ends a line, once the first line break says which; until then none is met. */
  let lineEnd: typeof LF | typeof CR | undefined;
  /** A CR that ended the last chunk before the line ending was known: its next byte tells. */
  let heldCr: Buffer | undefined;
  for await (const decoded of chunks) {
    let chunk = heldCr === undefined ? decoded : Buffer.concat([heldCr, decoded]);
    heldCr = undefined;
    if (lineEnd === undefined) {
      const cr = chunk.indexOf(CR);
      const lf = chunk.indexOf(LF);
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        if (cr === chunk.length - 1) {
          heldCr = chunk.subarray(cr);
          chunk = chunk.subarray(0, cr);
        } else lineEnd = chunk[cr + 1] === LF ? LF : CR;
      } else if (lf !== -1) lineEnd = LF;
    }
    let start = 0;
    for (;;) {
      const newline = lineEnd === undefined ? -1 : chunk.indexOf(lineEnd, start);
      const end = newline === -1 ? chunk.length : newline;
      decoder.decode(chunk.subarray(start, end), line);
      if (newline === -1) break;
      decoder.end(line);
      line += 1;
      start = newline + 1;
    }
  }
  if (heldCr !== undefined) decoder.decode(heldCr, line);
  decoder.end(line);
  return undefined;
}

/** The decoded (gunzipped) bytes; `refuseNul`: fail with InvalidText at a chunk with a NUL byte (firstInvalidLine looks for it itself). */
async function* gunzipped(input: Readable, options: DecodeOptions, refuseNul = true): AsyncGenerator<Buffer> {
  const bytes = counted(input, options);
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
  /** Bytes of the file handed on, and whether all were. */
  let fed = 0;
  let fedAll = false;
  async function* replay(): AsyncGenerator<Buffer> {
    if (start.length > 0) yield start;
    fed = start.length;
    for await (const chunk of bytes) {
      yield chunk;
      fed += chunk.length;
    }
    fedAll = true;
  }
  if (start.length >= 2 && start[0] === 0x1f && start[1] === 0x8b) {
    const gunzip = createGunzip();
    // Errors of either side reach the gunzip stream, hence the loop below; nothing to do here.
    pipeline(Readable.from(replay(), { objectMode: false }), gunzip, () => undefined);
    for await (const chunk of gunzip) {
      if (refuseNul) refuseBinary(chunk);
      yield chunk;
    }
    // zlib reads members one after the other (`cat a.gz b.gz`), but stops quietly at NUL bytes
    // after one (taken for padding): a zeroed last member read as nothing, the file as its first
    // members only. Its bytesWritten is the input it consumed: any byte left over fails the file.
    if (!fedAll || gunzip.bytesWritten !== fed) throw trailingBytes();
    return;
  }
  for await (const chunk of replay()) {
    if (refuseNul) refuseBinary(chunk);
    yield chunk;
  }
}

/** Bytes after a gzip file's last member that are not another member; a Z_ code reads as a bad gzip (streamError). */
function trailingBytes(): Error {
  return Object.assign(new Error('bytes after its last gzip member are not another member: a damaged or padded file?'), { code: 'Z_TRAILING_DATA' });
}

/**
 * A NUL byte never occurs in text: this is binary data (or UTF-16, which we refuse too), anywhere
 * in the file (a zeroed block would merge lines silently). indexOf is a memchr: the whole file is
 * checked at little cost.
 */
function refuseBinary(bytes: Buffer): void {
  if (bytes.indexOf(0) !== -1) throw new InvalidText('contains a NUL byte');
}

/**
 * Whether a file can be read in blocks of its raw bytes (file-threads.ts): UTF-8 text, so that
 * a block cut after a line feed is text on its own, and not gzip (its first bytes say; give at
 * least two). Other encodings are converted as a stream.
 */
export function readableInBlocks(head: Buffer, encoding: ExportTextEncoding): boolean {
  return isUtf8Encoding(encoding) && head.length >= 2 && !(head[0] === 0x1f && head[1] === 0x8b);
}

/**
 * One block of a file readable in blocks, checked as decodedStream checks the whole file: for
 * binary content (a NUL byte) and valid UTF-8 (a block is whole lines, so no character spans two).
 */
export function checkTextBlock(block: Buffer): void {
  refuseBinary(block);
  if (!isUtf8(block)) throw new InvalidText('not valid UTF-8');
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
    const detail = error instanceof CsvSyntaxError ? error.detail : undefined;
    return ExportError.at(location, `is not valid CSV: ${csvProblem(code, detail)}`, {
      line: typeof line === 'number' ? line : undefined,
      cause: error,
    });
  }
  return error;
}

// Only the error's code is used (and our scanner's fixed detail): a parser's own message may quote
// field values (personal data).
function csvProblem(code: string, detail: string | undefined): string {
  switch (code) {
    case 'CSV_MIXED_LINE_ENDINGS':
      return `mixed line endings: ${detail ?? 'a line break outside quotes that is not the file\'s line ending'}`;
    case 'CSV_QUOTE_NOT_CLOSED':
      // Only noticed at the end of the file, so its line is the last one.
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
 * Calls `onRecord` for every CSV record with the physical line it starts on (1-based) and the
 * lines it spans. Blank lines come through as records of one empty field. Scanned by
 * CsvRecordScanner (csv-scanner.ts), which follows csv-parse's rules byte for byte but refuses
 * mixed line endings; its errors carry csv-parse's codes and lines.
 * Resolves to the line of the last record when the input ends inside it, without a line ending
 * (CsvRecordScanner.unterminatedLastLine), else undefined.
 */
export async function readCsvRecords(bytes: Readable, onRecord: (fields: string[], line: number, lines: number) => void): Promise<number | undefined> {
  const scanner = new CsvRecordScanner(onRecord, MAX_CSV_RECORD_CHARS);
  for await (const chunk of bytes as AsyncIterable<Buffer | string>) scanner.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  scanner.end();
  return scanner.unterminatedLastLine;
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
