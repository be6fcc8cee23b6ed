import { isAscii } from 'node:buffer';

/**
 * A byte-level CSV record scanner: the exports' CSV rules exactly as csv-parse applied them with
 * the options the reader used (bom, relax_column_count, relax_quotes, max_record_size), at a
 * fraction of its cost (no per-byte buffer copies, no stream transform). Property tests hold it
 * equal to csv-parse on random inputs and chunkings (test/unit/shared/exports/csv-scanner.test.ts).
 *
 * The rules, from csv-parse 7:
 * - a UTF-8 BOM at the very start is skipped;
 * - the record delimiter is the first of CRLF, LF or CR met outside quotes, then only that one;
 *   unlike csv-parse, which reads any other CR or LF outside quotes as field content (merging the
 *   lines of a file whose line ending changes part way into one record, rows silently lost), a
 *   line break outside quotes that would merge two lines fails (CSV_MIXED_LINE_ENDINGS, with the
 *   physical line it ends): a lone CR in an LF file, an LF alone in a CRLF file, an LF or a CRLF
 *   in a CR file. A CR before the LF of an LF file and a lone CR in a CRLF file join no lines:
 *   field content, as csv-parse reads them. Line breaks inside quotes are field content, whatever they are;
 * - a quote opens a quoted field only as the field's first byte; elsewhere it is a plain byte;
 * - inside quotes, "" is one quote; a quote followed by a comma, the record delimiter, a NUL
 *   byte or the end of the input closes the field; any other quote is kept with the one that
 *   opened the field ("ab"c reads as "ab"c: relax_quotes);
 * - a record is refused (CSV_MAX_RECORD_SIZE) when the characters of its completed fields plus
 *   the bytes of the current one exceed the limit before another byte is added to it;
 * - input ending inside quotes fails (CSV_QUOTE_NOT_CLOSED); a last record without a delimiter
 *   is a record (the reader refuses it as cut short: unterminatedLastLine); nothing after a
 *   final delimiter is.
 * Errors carry csv-parse's code and its line counter (`lines`: 1 + the CR and LF bytes examined
 * before the failing byte, the LF of a CRLF delimiter not examined), which the reader reports.
 */

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

/** Which record delimiter the input uses; decided by the first one met outside quotes. */
const UNKNOWN = 0;
const LF_ONLY = 1;
const CRLF = 2;
const CR_ONLY = 3;
/** The record delimiter as a scanner decided it (opaque: only handed from one scanner to another). */
export type CsvDelimiter = typeof UNKNOWN | typeof LF_ONLY | typeof CRLF | typeof CR_ONLY;

/**
 * Where a scanner stands at the start of a record: what a scanner given the bytes from there on
 * needs to read them as one reading the whole input would (file-threads.ts reads a file in blocks).
 */
export interface CsvRecordStart {
  /** Physical line of the record. */
  line: number;
  /** csv-parse's line counter there (what errors report). */
  csvLine: number;
  delimiter: CsvDelimiter;
}

/** record() could not finish the record with the bytes it has: more are needed. */
const NEED_MORE = -1;

const EMPTY = Buffer.alloc(0);

/**
 * Buffer's own slice decoders, which toString(encoding, start, end) calls after looking the
 * encoding up: called directly, a field costs ~15% less, and ASCII bytes read as Latin-1 skip
 * UTF-8 decoding (~15% more). Not in @types/node, but part of Buffer since its first versions.
 */
interface SliceDecoders {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}

/** The field decoder for `buf`: Latin-1 when every byte is ASCII (the same text), else UTF-8. */
function fieldDecoder(buf: Buffer): (buf: Buffer, start: number, end: number) => string {
  return isAscii(buf) ? latin1Field : utf8Field;
}
const latin1Field = (buf: Buffer, start: number, end: number): string => (buf as Buffer & SliceDecoders).latin1Slice(start, end);
const utf8Field = (buf: Buffer, start: number, end: number): string => (buf as Buffer & SliceDecoders).utf8Slice(start, end);

/**
 * A CSV syntax error, shaped like csv-parse's: its code and its line counter (for
 * CSV_MIXED_LINE_ENDINGS, which csv-parse does not have, the physical line that ends with the
 * stray line break, as rejects number lines); `detail`: fixed text saying more (never a value).
 */
export class CsvSyntaxError extends Error {
  override name = 'CsvSyntaxError';
  constructor(
    readonly code: 'CSV_QUOTE_NOT_CLOSED' | 'CSV_MAX_RECORD_SIZE' | 'CSV_MIXED_LINE_ENDINGS',
    readonly lines: number,
    readonly detail?: string,
  ) {
    super(`${code} at line ${lines}`);
  }
}

const DELIMITER_NAMES = { [LF_ONLY]: 'LF', [CRLF]: 'CRLF', [CR_ONLY]: 'CR' } as const;

/** The error for a line break outside quotes that is not the file's record delimiter. */
function mixedLineEndings(line: number, found: 'LF alone' | 'CR' | 'CRLF', delimiter: number): CsvSyntaxError {
  const expected = DELIMITER_NAMES[delimiter as keyof typeof DELIMITER_NAMES];
  return new CsvSyntaxError('CSV_MIXED_LINE_ENDINGS', line, `this line ends with ${found}, the file's first line with ${expected} (or a line break in a field without quotes)`);
}

/**
 * Feed it the bytes of a file in chunks (push), then end(): it calls `onRecord` with every
 * record's fields, the physical line the record starts on (1 + the LF bytes before it, quoted
 * ones included) and the number of lines it spans (1 + its quoted LF bytes), in order.
 */
export class CsvRecordScanner {
  /** The bytes of a record not finished by the previous chunk, scanned again with the next. */
  private carry: Buffer | undefined;
  private bomChecked = false;
  private delimiter = UNKNOWN;
  /** Physical line of the next record. */
  private nextLine = 1;
  /** csv-parse's line counter at the start of the next record. */
  private csvLines = 1;
  /** Field bytes that are not one contiguous run of the input (escaped quotes, relaxed quotes). */
  private scratch = Buffer.allocUnsafe(1024);
  /** Bytes of the input (the BOM included) before the next record. */
  private consumed = 0;
  /** Where the input being scanned starts, in bytes of the input. */
  private scanFrom = 0;
  /** Line of the last record when the input ended without its record delimiter. */
  private unterminatedLine: number | undefined;

  /**
   * `from`: a scanner that starts at a record of an input (after its BOM, if any) rather than at
   * its first byte, as another scanner left it there (`next`).
   */
  constructor(
    private readonly onRecord: (fields: string[], line: number, lines: number) => void,
    private readonly maxRecordChars: number,
    from?: CsvRecordStart,
  ) {
    if (from !== undefined) {
      this.bomChecked = true;
      this.delimiter = from.delimiter;
      this.nextLine = from.line;
      this.csvLines = from.csvLine;
    }
  }

  /** Where the next record starts: read in onRecord, where the record just given ends. */
  get next(): CsvRecordStart {
    return { line: this.nextLine, csvLine: this.csvLines, delimiter: this.delimiter as CsvDelimiter };
  }

  /** Bytes pushed before the next record (a BOM included): in onRecord, the end of the record given. */
  get bytesBeforeNext(): number {
    return this.consumed;
  }

  /**
   * After end(): the line of the last record when the input ended inside it, without its record
   * delimiter (a file cut short: its last field may be cut to a still valid value); else undefined.
   */
  get unterminatedLastLine(): number | undefined {
    return this.unterminatedLine;
  }

  /** Bytes of a record begun and not finished by the bytes pushed so far (scanned again with more). */
  get unfinishedBytes(): number {
    return this.carry?.length ?? 0;
  }

  push(chunk: Buffer): void {
    this.scan(this.carry === undefined ? chunk : Buffer.concat([this.carry, chunk]), false);
  }

  end(): void {
    this.scan(this.carry ?? EMPTY, true);
  }

  private scan(input: Buffer, final: boolean): void {
    let buf = input;
    // The carry (if any) starts at the next record.
    this.scanFrom = this.consumed;
    if (!this.bomChecked) {
      if (buf.length < 3 && !final) {
        this.carry = buf;
        return;
      }
      this.bomChecked = true;
      if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
        buf = buf.subarray(3);
        this.scanFrom += 3;
        this.consumed = this.scanFrom;
      }
    }
    let pos = 0;
    const field = fieldDecoder(buf);
    while (pos < buf.length) {
      const next = this.record(buf, pos, final, field);
      if (next === NEED_MORE) break;
      pos = next;
    }
    this.carry = pos < buf.length ? buf.subarray(pos) : undefined;
  }

  /**
   * Scans the record starting at `start`; emits it and returns the position after it, or
   * NEED_MORE when `buf` ends before the record does (or before a byte it must look at) and
   * more input may come. State is only committed when the record is emitted, so a record
   * scanned again from its start with more bytes reads the same.
   */
  private record(buf: Buffer, start: number, final: boolean, decode: (buf: Buffer, start: number, end: number) => string): number {
    const len = buf.length;
    const max = this.maxRecordChars;
    let delimiter = this.delimiter;
    const fields: string[] = [];
    /** Characters of the completed fields (csv-parse's record_length). */
    let recordChars = 0;
    /** CR and LF bytes examined so far in this record (csv-parse's line counter). */
    let lineBreaks = 0;
    /** LF bytes inside fields (physical lines). */
    let newlines = 0;
    let quoting = false;
    let wasQuoting = false;
    let escaping = false;
    // The current field's content: buf[runStart, runEnd) while it is one run of the input,
    // else scratch[0, scratchLength).
    let runStart = start;
    let runEnd = start;
    let scratchLength = -1;

    for (let pos = start; pos < len; pos++) {
      if (scratchLength < 0 && pos === runEnd && pos > runStart) {
        // Inside a started run, only these bytes can mean anything but themselves: skip to the
        // next one (or to where the record would pass the size limit, which the loop refuses).
        const limit = Math.min(len, runStart + (max - recordChars) + 1);
        if (quoting) while (pos < limit && buf[pos] !== QUOTE && buf[pos] !== LF && buf[pos] !== CR) pos++;
        else while (pos < limit && buf[pos] !== COMMA && buf[pos] !== LF && buf[pos] !== CR) pos++;
        runEnd = pos;
        if (pos === len) break;
      }
      const byte = buf[pos] as number;
      if (byte === CR || byte === LF) lineBreaks += 1;
      if (escaping) {
        escaping = false;
      } else {
        if (!quoting && delimiter === UNKNOWN && (byte === CR || byte === LF)) {
          if (byte === LF) delimiter = LF_ONLY;
          else if (pos + 1 >= len && !final) return NEED_MORE;
          else delimiter = buf[pos + 1] === LF ? CRLF : CR_ONLY;
        }
        if (byte === QUOTE) {
          if (quoting) {
            if (pos + 1 >= len && !final) return NEED_MORE;
            const next = pos + 1 < len ? (buf[pos + 1] as number) : -1;
            if (next === QUOTE) {
              escaping = true;
              continue;
            }
            let closes = next === -1 || next === 0 || next === COMMA;
            if (!closes && (next === CR || next === LF)) {
              if (next === CR && delimiter !== CR_ONLY && pos + 2 >= len && !final) return NEED_MORE;
              const crlf = next === CR && pos + 2 < len && buf[pos + 2] === LF;
              if (delimiter === UNKNOWN) delimiter = next === LF ? LF_ONLY : crlf ? CRLF : CR_ONLY;
              closes = delimiter === LF_ONLY ? next === LF : delimiter === CR_ONLY ? next === CR : crlf;
              // A quoted field ended by a CR in an LF file: read on as content (csv-parse's relax_quotes), its quotes would
              // be kept in the value ("P58" for P58). Refused as the mixed line ending it is, naming the line.
              if (!closes && next === CR && delimiter === LF_ONLY) throw mixedLineEndings(this.nextLine + newlines, crlf ? 'CRLF' : 'CR', delimiter);
            }
            quoting = false;
            wasQuoting = true;
            if (closes) continue;
            // relax_quotes: the field goes on unquoted, with the opening quote put back in
            // front; this quote is then added as a plain byte below.
            const length = scratchLength >= 0 ? scratchLength : runEnd - runStart;
            this.reserve(length + 2);
            if (scratchLength >= 0) this.scratch.copyWithin(1, 0, scratchLength);
            else buf.copy(this.scratch, 1, runStart, runEnd);
            this.scratch[0] = QUOTE;
            scratchLength = length + 1;
          } else if ((scratchLength >= 0 ? scratchLength : runEnd - runStart) === 0) {
            quoting = true;
            runStart = runEnd = pos + 1;
            continue;
          }
        }
        if (!quoting) {
          let delimiterLength = 0;
          if (byte === CR || byte === LF) {
            // Any line break here ends the record or fails: the next byte tells a CRLF from a CR.
            if (byte === CR && pos + 1 >= len && !final) return NEED_MORE;
            const crlf = byte === CR && buf[pos + 1] === LF;
            if (delimiter === LF_ONLY ? byte === LF : delimiter === CR_ONLY ? byte === CR && !crlf : crlf) delimiterLength = crlf ? 2 : 1;
            // A CR before an LF file's LF (a line another tool wrote), or a lone CR in a CRLF file, joins no lines: field
            // content, as csv-parse reads it (a field's edges are trimmed). Any other stray line break would merge two.
            else if (!(byte === CR && (delimiter === LF_ONLY ? crlf : delimiter === CRLF))) {
              throw mixedLineEndings(this.nextLine + newlines, byte === LF ? 'LF alone' : crlf ? 'CRLF' : 'CR', delimiter);
            }
          }
          if (delimiterLength !== 0 || byte === COMMA) {
            const field = scratchLength >= 0 ? decode(this.scratch, 0, scratchLength) : decode(buf, runStart, runEnd);
            fields.push(field);
            recordChars += field.length;
            if (delimiterLength !== 0) {
              this.emit(fields, lineBreaks, newlines, delimiter, pos + delimiterLength);
              return pos + delimiterLength;
            }
            wasQuoting = false;
            scratchLength = -1;
            runStart = runEnd = pos + 1;
            continue;
          }
        }
      }
      const length = scratchLength >= 0 ? scratchLength : runEnd - runStart;
      if (recordChars + length > max) {
        throw new CsvSyntaxError('CSV_MAX_RECORD_SIZE', this.csvLines + lineBreaks - (byte === CR || byte === LF ? 1 : 0));
      }
      if (scratchLength < 0 && pos === runEnd) {
        runEnd = pos + 1;
      } else {
        if (scratchLength < 0) {
          this.reserve(length + 1);
          buf.copy(this.scratch, 0, runStart, runEnd);
          scratchLength = length;
        } else {
          this.reserve(scratchLength + 1);
        }
        this.scratch[scratchLength++] = byte;
      }
      if (byte === LF) newlines += 1;
    }

    if (!final) return NEED_MORE;
    if (quoting) {
      const last = buf[len - 1];
      throw new CsvSyntaxError('CSV_QUOTE_NOT_CLOSED', this.csvLines + lineBreaks - (last === CR || last === LF ? 1 : 0));
    }
    const length = scratchLength >= 0 ? scratchLength : runEnd - runStart;
    if (wasQuoting || fields.length > 0 || length > 0) {
      fields.push(scratchLength >= 0 ? decode(this.scratch, 0, scratchLength) : decode(buf, runStart, runEnd));
      this.unterminatedLine = this.nextLine;
      this.emit(fields, lineBreaks, newlines, delimiter, len);
    }
    this.consumed = this.scanFrom + len;
    return len;
  }

  /** Gives the record that ends before buf[end]. */
  private emit(fields: string[], lineBreaks: number, newlines: number, delimiter: number, end: number): void {
    const line = this.nextLine;
    this.nextLine += 1 + newlines;
    this.csvLines += lineBreaks;
    this.delimiter = delimiter;
    this.consumed = this.scanFrom + end;
    this.onRecord(fields, line, 1 + newlines);
  }

  private reserve(size: number): void {
    if (size <= this.scratch.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(size, this.scratch.length * 2));
    this.scratch.copy(bigger);
    this.scratch = bigger;
  }
}
