import { availableParallelism } from 'node:os';
import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import type { Config } from '#shared/config.ts';
import type { CustomerRecord, Reject } from '#shared/model.ts';
import { ExportError, HandlerFailure } from './errors.ts';
import { keepUpTo, MAX_KEPT_REJECTS, MAX_KEPT_WARNINGS } from './kept.ts';
import { forEachOrderLine, type OrderLineBatch } from './order-line-batch.ts';
import type { ExportFileClass } from './classify.ts';
import type { CsvRecordStart } from './csv-scanner.ts';
import { readableInBlocks } from './decode.ts';
import type { ExportHandlers, FieldWarning, FileReport, RowPosition } from './types.ts';

/**
 * Customers and orders files read in worker threads. Parsing and checking the rows is most of a
 * night's reading, and each file can be read on its own: a worker reads one file, or one block of
 * a file, at a time, its raw bytes handed over by this thread (which owns the export's source, an
 * S3 stream or a file) and hands back the checked rows in batches (order lines as
 * order-line-batch.ts encodes them, customer records as they are). This thread gives them to the
 * handlers as they come.
 *  - Orders files, when there are at least as many as threads: several at once, one per worker,
 *    so the handlers see each file's lines in order but the files' lines interleaved. The
 *    aggregation does not depend on the order of lines (ClientAggregator), and what does (the
 *    first rejects and warnings kept, the twin and shared-line checks) is taken from each file's
 *    result in plan order by the reader.
 *  - Customers files (a customer seen again replaces the earlier record): one after another, in
 *    one worker.
 *  - Orders files when there are fewer than threads (a shard's one part, a brand's single file):
 *    one after another, each by all the workers in blocks when it can be (BlockedRead), its rows
 *    handed over in order.
 */

/** A file of the export's plan as a worker reads it (reader.ts's PlannedFile has these and more). */
export interface ThreadedFile extends ExportFileClass {
  key: string;
  name: string;
  /** What the manifest says of the file, when it lists files. */
  listed: { rows: number; sha256: string } | undefined;
  /** Merged before as an increment, checked then (ReadOptions.mergedBefore): read as it was read then. */
  mergedBefore?: true;
  /** The version the listing saw (S3's ETag): only that one is read (ExportSource.open). */
  etag?: string;
}

/** What a worker needs to read one file. Crosses to the worker: plain data only. */
export interface ThreadedFileJob {
  file: ThreadedFile;
  fileIndex: number;
  location: string;
  config: Config;
  now: number;
  /** Hash the lines for the check across parts (OrderLineHashes), sent back encoded. */
  hashLines: boolean;
}

/** What a worker read of one file. */
export interface ThreadedFileRead {
  report: FileReport;
  rejects: Reject[];
  warnings: FieldWarning[];
  /** OrderLineHashes.encode() of the file's lines (one per block of a file read in blocks), when asked. */
  lineHashes?: Uint8Array[];
}

/** A data record shorter than the header that ends a block: a reject once another record follows, else a cut file. */
export interface ShortRecord {
  line: number;
  /** The lines it spans: each is a rejected row (CsvRows.rejectRecord). */
  lines: number;
  /** Said of each of its lines. */
  reason: string;
}

/**
 * Where a block of a CSV file read in blocks starts (readThreadedBlock): the file's first bytes,
 * or a record of it, with what reading from there needs. Crosses to the worker.
 */
export interface ThreadedBlock {
  /** The block starts at the file's first byte (its BOM and header). */
  first: boolean;
  /** The file ends with the block. */
  last: boolean;
  /** For a block after the first: the file's bytes up to the end of its header record. */
  header: Uint8Array | undefined;
  /** For a block after the first: where its first record starts. */
  start: CsvRecordStart | undefined;
}

/** What a worker read of one block, and where the next one goes on. */
export interface ThreadedBlockRead {
  /** The block's rows, rejects, warnings and line hashes (no sha256 or size: the file's are the main thread's). */
  read: ThreadedFileRead;
  /** Data records read after the header, blank ones included. */
  records: number;
  /** Where the record after the last one read starts. */
  next: CsvRecordStart;
  /** Bytes at the block's end of a record it does not finish: read again with the next block. */
  unfinishedBytes: number;
  /** The block's last record, if shorter than the header. */
  short: ShortRecord | undefined;
}

/** Why a worker could not read its file. */
export type ThreadedFileFailure =
  | { kind: 'export'; file: string; line: number | undefined; message: string }
  | { kind: 'invalid-text' }
  | { kind: 'error'; name: string; message: string; stack: string | undefined };

/** Messages to a worker. */
export type ToFileThread =
  | { type: 'read'; job: ThreadedFileJob }
  | { type: 'bytes'; bytes: Uint8Array }
  | { type: 'end' }
  | { type: 'block'; job: ThreadedFileJob; block: ThreadedBlock; bytes: Uint8Array };

/** Messages from a worker. */
export type FromFileThread =
  | { type: 'more' }
  | { type: 'orders'; batch: OrderLineBatch }
  | { type: 'customers'; records: CustomerRecord[]; lines: Uint32Array }
  | { type: 'done'; read: ThreadedFileRead }
  | { type: 'header'; bytes: number; next: CsvRecordStart }
  | { type: 'block-done'; read: ThreadedBlockRead }
  | { type: 'failed'; failure: ThreadedFileFailure };

type RowsMessage = Extract<FromFileThread, { type: 'orders' | 'customers' }>;

/** Raw bytes handed to a worker per message, gathered from the source's smaller chunks. */
const BYTES_PER_MESSAGE = 256 * 1024;

/**
 * A worker's heap: the format modules and one batch at a time, its young generation small
 * (garbage of short-lived rows, resident otherwise). These limits hold only where the process
 * has no V8 heap flags (tests, the CLI): V8 takes its flags over an isolate's resource
 * constraints, so in the nightly (node-options.ts) --max-semi-space-size=16 and
 * --max-old-space-size size its workers too (checked with Node 24: a worker's new space 32 MB,
 * its heap limit ~1.5 GB, whatever is asked here). Measured at 1M clients (a 262 MB orders share,
 * 2 threads): workers' semi-spaces of 4 MB instead of 16 MB held ~40 MB less and took ~1 s more
 * (8.1-8.5 s against 6.5-7.8 s), 8 MB no less memory; so the nightly keeps its flags for them.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 16, maxOldGenerationSizeMb: 256 };

/** Exports whose customers and orders files are smaller than this in all are read in the calling thread: starting workers would cost more than they save. */
export const THREADS_FROM_BYTES = 16 * 1024 * 1024;

/**
 * Lambda's memory per vCPU, MB (configuration-memory.html: 1,769 MB is one vCPU): a function of
 * 2,048 MB has 1.16 vCPU, however many cores it sees.
 */
const LAMBDA_MB_PER_VCPU = 1_769;

/** The whole vCPUs of a Lambda of `memoryMb` (at least one): what the reader's threads can keep busy. */
export function lambdaWholeVcpus(memoryMb: number): number {
  return Math.max(1, Math.floor(memoryMb / LAMBDA_MB_PER_VCPU));
}
/** Set by the Lambda runtime: the function's memory, MB. */
const lambdaMemorySchema = z.coerce.number().int().positive();

/**
 * Cores this process may keep busy: the machine's, or in a Lambda its whole vCPUs (its memory
 * / 1,769 MB), which is fewer than the cores it sees below 3,538 MB.
 */
export function usableCores(environment: NodeJS.ProcessEnv = process.env): number {
  const cores = availableParallelism();
  const memory = lambdaMemorySchema.safeParse(environment.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  return memory.success ? Math.min(cores, lambdaWholeVcpus(memory.data)) : cores;
}

/**
 * Whether a file may be read in blocks by several threads at once: a generic CSV orders file, not
 * compressed (its content is checked too: readableInBlocks). A Shopify order spans rows, a gzip
 * stream cannot be entered midway, a JSONL file is too rare to matter. Not the customers: their
 * records are objects, which the blocks ahead of the one handed over keep alive long enough to
 * reach the old generation; measured at 1M clients, the read took ~2 s more in blocks.
 */
export function readsInBlocks(file: { kind: string; format?: string; encoding?: string; name?: string }): boolean {
  return file.kind === 'orders' && file.format === 'generic' && file.encoding === 'csv' && file.name !== undefined && !file.name.toLowerCase().endsWith('.gz');
}

/**
 * A file this large is worth reading in blocks by all the threads, by default. Measured with a
 * shard's reader of one orders part (bench, 2 cores): a 26 MB part read no faster in two threads
 * than in one (1.4 s against 1.3 s) and held 80 MB more; a 250 MB part took 6.7 s instead of 8.0 s.
 */
export const BLOCKS_FROM_BYTES = 64 * 1024 * 1024;

/**
 * One worker per usable core, at most one per orders file (and one more for the customers when
 * the caller reads them beside the orders, `customersBesideOrders`) unless a file can be read
 * in blocks by all of them (readsInBlocks); none on a single core, where a worker cannot run
 * beside the thread that aggregates, nor for customers and orders files of less than
 * THREADS_FROM_BYTES in all (as listed; a size the source does not give counts as nothing).
 */
export function defaultReaderThreads(
  files: readonly { kind: string; size?: number | undefined; format?: string; encoding?: string; name?: string }[],
  cores: number = usableCores(),
  { customersBesideOrders = false }: { customersBesideOrders?: boolean } = {},
): number {
  const read = files.filter((file) => file.kind === 'orders' || file.kind === 'customers');
  const bytes = read.reduce<number>((sum, file) => sum + (file.size ?? 0), 0);
  if (cores < 2 || bytes < THREADS_FROM_BYTES) return 0;
  if (read.some((file) => readsInBlocks(file) && (file.size ?? 0) >= BLOCKS_FROM_BYTES)) return cores;
  const orders = files.filter((file) => file.kind === 'orders').length;
  const customers = customersBesideOrders && orders > 0 && files.some((file) => file.kind === 'customers') ? 1 : 0;
  return Math.min(cores, Math.max(1, orders) + customers);
}

export interface FilesInThreads {
  parts: { file: ThreadedFile; fileIndex: number; location: string }[];
  config: Config;
  now: number;
  hashLines: boolean;
  threads: number;
  handlers: ExportHandlers;
  /** Opens a file of the source (failing as the reader does for a file that cannot be opened). */
  open(file: Pick<ThreadedFile, 'key' | 'etag'>, location: string): Promise<NodeJS.ReadableStream | Readable>;
  onBytes: ((n: number) => void) | undefined;
  /** The error for a file a worker found not to be valid text. */
  explainInvalidText(key: string, location: string): Promise<Error>;
  /** The error for a source that failed to open or while being read (an ExportError passes as it is). */
  sourceFailure(error: unknown, location: string): Error;
  /** The checks of a whole file once read (it has rows, it is what the manifest lists): a file read in blocks is whole only here. */
  checkFile(report: FileReport, file: ThreadedFile): void;
  /** Bytes of a block of a file read in blocks (BLOCK_BYTES; tests make it small). */
  blockBytes?: number;
}

/** A block of a file read in blocks: large enough that its costs per block vanish, small enough to keep every thread busy. */
export const BLOCK_BYTES = 2 * 1024 * 1024;

/**
 * Reads `parts` in `threads` worker threads and returns what each read, in the order given. With
 * more threads than parts and a part that can be read in blocks (readsInBlocks), the parts are
 * read one after another, each by all the threads in blocks when it can be, else by one;
 * otherwise each thread reads a part at a time (one thread: in order, as the customers must be). On the first failure (a file that cannot be trusted, a source that fails, a
 * handler that throws) every worker is stopped and the error thrown: as the reader would throw
 * it for that file.
 */
export async function readFilesInThreads(reading: FilesInThreads, pool: ReaderThreads): Promise<ThreadedFileRead[]> {
  const results = new Array<ThreadedFileRead>(reading.parts.length);
  // More threads than parts only help a part read in blocks; otherwise each part has its thread, as ever.
  const oneByOne = reading.threads > reading.parts.length && reading.parts.some((part) => readsInBlocks(part.file));
  const workers = pool.take(Math.max(1, oneByOne ? reading.threads : Math.min(reading.threads, reading.parts.length)));
  let next = 0;
  try {
    if (oneByOne) {
      for (let i = 0; i < reading.parts.length; i++) {
        const { file } = reading.parts[i] as FilesInThreads['parts'][number];
        results[i] = workers.length > 1 && readsInBlocks(file) ? await new BlockedRead(reading, i, workers).read() : await (workers[0] as PartWorker).read(reading, i);
      }
    } else {
      await Promise.all(
        workers.map(async (worker) => {
          for (let i = next++; i < reading.parts.length; i = next++) results[i] = await worker.read(reading, i);
        }),
      );
    }
  } catch (error) {
    // The others stop too: nothing they read would be used (the pool's owner stops them).
    for (const worker of workers) worker.abort(error);
    throw error;
  }
  return results;
}

/** A block of a file as cut by BlockedRead. */
interface CutBlock {
  index: number;
  bytes: Buffer;
  /** Physical line of its first byte: 1 + the line feeds before it. */
  line: number;
  last: boolean;
  /** Cut right after a line feed, where a record may start: worth reading before the blocks before it are read. */
  afterLineFeed: boolean;
  /** Being handed over: too late to guess. */
  taken?: boolean;
  /** Its read started before the blocks before it were read (a guess at its start, checked once they are). */
  guess?: Promise<BlockOutcome>;
  guessedFrom?: CsvRecordStart;
}

/** A block's read as the worker gave it: its rows held back until the blocks before it are handed over. */
type BlockOutcome = { ok: true; read: ThreadedBlockRead; rows: RowsMessage[] } | { ok: false; error: unknown };

/** A block read from a known start: all that the next block's read needs. */
interface ReadSoFar {
  /** The file's bytes up to the end of its header record, once read. */
  header: Uint8Array | undefined;
  /** Where the next record starts (after the header, once read). */
  next: CsvRecordStart | undefined;
  /** The start of a record the blocks read so far do not finish (the file's first bytes while its header is not whole). */
  unfinished: Buffer | undefined;
  short: ShortRecord | undefined;
}

/** Blocks cut ahead of the one handed over: enough to keep every thread busy, few enough to bound the memory. */
const BLOCKS_AHEAD_PER_THREAD = 2;

/**
 * One CSV file read by several worker threads at once. This thread reads the source and cuts it
 * into blocks of about `blockBytes`, after a line feed; it also counts its bytes, hashes them and
 * counts the line feeds (the line each block starts on). Each block is read by a free worker as
 * if a record started there, with the file's header and delimiter. Where a block really starts is
 * only known once the blocks before it are read: the guess holds when the block before ended with
 * a whole record and on the guessed line, and a block read from a wrong guess (a line feed inside
 * a quoted field, a CR-delimited file) or that failed is read again from where the blocks before
 * it left off, with the record they did not finish. The blocks' rows, rejects and warnings are
 * handed over in file order, so what comes out is what one thread reading the file gives, and
 * a file that fails fails with the error of its first bad block.
 */
class BlockedRead {
  private readonly part: FilesInThreads['parts'][number];
  private readonly blockBytes: number;
  /** The blocks cut so far, by index; a block handed over is forgotten. */
  private readonly blocks: (CutBlock | undefined)[] = [];
  private readonly idle: PartWorker[];
  private readonly waitingForWorker: { run(worker: PartWorker): void; drop(): void }[] = [];
  /** Reads under way, awaited before the file's read returns. */
  private readonly running = new Set<Promise<unknown>>();
  /** Blocks handed over so far. */
  private handedOver = 0;
  /** The source as cut so far: its bytes' count and hash, or why it could not be read. */
  private readonly cut: { failure: unknown; hash: Hash; bytes: number } = { failure: undefined, hash: createHash('sha256'), bytes: 0 };
  private wake: (() => void) | undefined;
  /** The file's header and delimiter, once the read of its first block found them: blocks are guessed from them. */
  private header: { bytes: Uint8Array; delimiter: CsvRecordStart['delimiter'] } | undefined;
  private stopped = false;

  constructor(
    private readonly reading: FilesInThreads,
    private readonly index: number,
    private readonly workers: PartWorker[],
  ) {
    this.part = reading.parts[index] as FilesInThreads['parts'][number];
    this.blockBytes = reading.blockBytes ?? BLOCK_BYTES;
    this.idle = [...workers];
  }

  async read(): Promise<ThreadedFileRead> {
    const { reading, part } = this;
    let raw: NodeJS.ReadableStream | Readable;
    try {
      raw = await reading.open(part.file, part.location);
    } catch (error) {
      throw reading.sourceFailure(error, part.location);
    }
    const chunks = (raw as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
    // Its first bytes say whether it can be read in blocks (not gzip); if not, one worker reads it as it comes.
    const head: Buffer[] = [];
    let headBytes = 0;
    try {
      while (headBytes < 2) {
        const { value, done } = await chunks.next();
        if (done) break;
        const buffer = typeof value === 'string' ? Buffer.from(value) : value;
        head.push(buffer);
        headBytes += buffer.length;
      }
    } catch (error) {
      destroy(raw);
      throw reading.sourceFailure(error, part.location);
    }
    if (!readableInBlocks(Buffer.concat(head), reading.config.exports.encoding)) {
      return (this.workers[0] as PartWorker).read(reading, this.index, Readable.from(replay(head, chunks), { objectMode: false }));
    }
    // Not awaited: it fails nothing (a source failure is kept for handOver), and stops at its next step once stopped.
    void this.cutBlocks(head, chunks);
    try {
      return await this.handOver();
    } catch (error) {
      destroy(raw);
      throw error;
    } finally {
      // Reads not started are dropped, and no worker is left reading a block of this file when the next file starts.
      this.stopped = true;
      this.wakeUp();
      for (const waiting of this.waitingForWorker.splice(0)) waiting.drop();
      await Promise.allSettled(this.running);
    }
  }

  /** Reads the source and cuts it into blocks, as far ahead of the handing over as allowed. */
  private async cutBlocks(head: Buffer[], chunks: AsyncIterator<Buffer | string>): Promise<void> {
    const { reading, cut, blockBytes } = this;
    const ahead = Math.max(2, this.workers.length * BLOCKS_AHEAD_PER_THREAD);
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let line = 1;
    let afterLineFeed = false;
    const add = (bytes: Buffer, last: boolean, endsWithLineFeed: boolean) => {
      const block: CutBlock = { index: this.blocks.length, bytes, line, last, afterLineFeed };
      this.blocks.push(block);
      line += countLineFeeds(bytes);
      afterLineFeed = endsWithLineFeed;
      this.guess(block);
      this.wakeUp();
    };
    try {
      let buffered = head;
      for (;;) {
        for (const buffer of buffered) {
          reading.onBytes?.(buffer.length);
          cut.hash.update(buffer);
          cut.bytes += buffer.length;
          pending.push(buffer);
          pendingBytes += buffer.length;
        }
        buffered = [];
        while (pendingBytes >= blockBytes) {
          const bytes = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, pendingBytes);
          const lineFeed = bytes.indexOf(0x0a, blockBytes - 1);
          // A block ends after a line feed with bytes after it (else it might be the last), or,
          // failing one in a long stretch, between two characters: the next block finishes the record.
          const end = lineFeed !== -1 && lineFeed < bytes.length - 1 ? lineFeed + 1 : bytes.length >= 4 * blockBytes ? characterStart(bytes, bytes.length - 1) : -1;
          if (end <= 0) {
            pending = [bytes];
            break;
          }
          add(bytes.subarray(0, end), false, end === lineFeed + 1);
          pending = [bytes.subarray(end)];
          pendingBytes = bytes.length - end;
        }
        while (!this.stopped && this.blocks.length - this.handedOver >= ahead) await this.sleep();
        if (this.stopped) return;
        const { value, done } = await chunks.next();
        if (done) break;
        buffered = [typeof value === 'string' ? Buffer.from(value) : value];
      }
      add(pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, pendingBytes), true, false);
    } catch (error) {
      cut.failure = reading.sourceFailure(error, this.part.location);
    }
    this.wakeUp();
  }

  /** Hands the blocks over in order, each read from where the ones before it left off; returns the file's read. */
  private async handOver(): Promise<ThreadedFileRead> {
    const { reading, part } = this;
    const report: FileReport = { location: part.location, kind: part.file.kind, format: part.file.format, rows: 0, rejected: 0, warnings: 0, sha256: '', bytes: 0 };
    const file: ThreadedFileRead = { report, rejects: [], warnings: [], lineHashes: [] };
    const so: ReadSoFar = { header: undefined, next: undefined, unfinished: undefined, short: undefined };
    const at = { file: part.location, line: 0 };
    for (let k = 0; ; k++) {
      const block = await this.block(k);
      block.taken = true;
      const guessed = block.guess !== undefined && so.unfinished === undefined && sameStart(block.guessedFrom, so.next) ? await block.guess : undefined;
      let from: CsvRecordStart | undefined = block.guessedFrom;
      let bytes = block.bytes;
      let outcome = guessed?.ok ? guessed : undefined;
      if (outcome === undefined) {
        // Read again from where the blocks before left off: believed, failure included.
        from = so.header === undefined ? undefined : so.next;
        bytes = so.unfinished === undefined ? block.bytes : Buffer.concat([so.unfinished, block.bytes]);
        const exact: ThreadedBlock = { first: so.header === undefined, last: block.last, header: so.header, start: from };
        const read = await this.run(exact, bytes, true);
        if (!read.ok) throw read.error;
        outcome = read;
      }
      const { read } = outcome;
      for (const message of outcome.rows) {
        try {
          handOver(message, at, reading.handlers);
        } catch (error) {
          throw error instanceof HandlerFailure ? error.original : error;
        }
      }
      if (read.records > 0 && so.short !== undefined) {
        // The short record that ended the block before is followed by another: a bad row, not a cut file.
        const { line, lines, reason } = so.short;
        report.rows += lines;
        report.rejected += lines;
        if (lines > 1) report.spannedLines = (report.spannedLines ?? 0) + lines - 1;
        for (let i = 0; i < lines && file.rejects.length < MAX_KEPT_REJECTS; i++) file.rejects.push({ file: part.location, line: line + i, reason });
        so.short = undefined;
      }
      report.rows += read.read.report.rows;
      report.rejected += read.read.report.rejected;
      if (read.read.report.spannedLines !== undefined) report.spannedLines = (report.spannedLines ?? 0) + read.read.report.spannedLines;
      report.warnings += read.read.report.warnings;
      keepUpTo(file.rejects, read.read.rejects, MAX_KEPT_REJECTS);
      keepUpTo(file.warnings, read.read.warnings, MAX_KEPT_WARNINGS);
      file.lineHashes?.push(...(read.read.lineHashes ?? []));
      // Only a read from the file's first byte finds the header (the one under way until it is whole).
      so.header ??= this.header?.bytes;
      // The csv-parse line counter of a guessed block counts from its guessed start.
      const csvLine = (so.next?.csvLine ?? 1) + read.next.csvLine - (from?.csvLine ?? 1);
      so.next = so.header === undefined ? undefined : { ...read.next, csvLine };
      // Until the header is whole, the next read starts again from the file's first byte.
      so.unfinished = so.header === undefined ? bytes : read.unfinishedBytes === 0 ? undefined : bytes.subarray(bytes.length - read.unfinishedBytes);
      if (read.short !== undefined) so.short = read.short;
      // Done with: its bytes and rows go (the unfinished record, if any, is kept above).
      this.blocks[k] = undefined;
      this.handedOver = k + 1;
      this.wakeUp();
      if (block.last) break;
    }
    report.sha256 = this.cut.hash.digest('hex');
    report.bytes = this.cut.bytes;
    reading.checkFile(report, part.file);
    return file;
  }

  /** Block k, once cut. */
  private async block(k: number): Promise<CutBlock> {
    for (;;) {
      const block = this.blocks[k];
      if (block !== undefined) return block;
      if (this.cut.failure !== undefined) throw this.cut.failure;
      await this.sleep();
    }
  }

  /** Starts the read of `block` from a guess at its start, when a guess can be made. */
  private guess(block: CutBlock): void {
    const { header } = this;
    if (header === undefined || block.index === 0 || !block.afterLineFeed || block.guess !== undefined || block.taken === true) return;
    const from: CsvRecordStart = { line: block.line, csvLine: 1, delimiter: header.delimiter };
    block.guessedFrom = from;
    block.guess = this.run({ first: false, last: block.last, header: header.bytes, start: from }, block.bytes, false);
  }

  /** Reads a block in the next free worker (an `urgent` one before any guess); never rejects. */
  private run(block: ThreadedBlock, bytes: Buffer, urgent: boolean): Promise<BlockOutcome> {
    const outcome = new Promise<BlockOutcome>((resolve) => {
      const run = (worker: PartWorker) => {
        const onHeader = (headerBytes: number, next: CsvRecordStart) => {
          if (this.header !== undefined) return;
          this.header = { bytes: Uint8Array.prototype.slice.call(bytes, 0, headerBytes), delimiter: next.delimiter };
          for (const waiting of this.blocks) if (waiting !== undefined) this.guess(waiting);
        };
        worker
          .readBlock(this.reading, this.index, block, bytes, onHeader)
          .then(
            (done): BlockOutcome => ({ ok: true, ...done }),
            (error: unknown): BlockOutcome => ({ ok: false, error }),
          )
          .then((done) => {
            this.idle.push(worker);
            this.next();
            resolve(done);
          }, resolve);
      };
      const waiting = { run, drop: () => resolve({ ok: false, error: new Error('the read of the file stopped') }) };
      if (urgent) this.waitingForWorker.unshift(waiting);
      else this.waitingForWorker.push(waiting);
      this.next();
    });
    this.running.add(outcome);
    void outcome.then(() => this.running.delete(outcome));
    return outcome;
  }

  /** Gives free workers the next blocks to read. */
  private next(): void {
    while (this.idle.length > 0 && this.waitingForWorker.length > 0) {
      const waiting = this.waitingForWorker.shift() as (typeof this.waitingForWorker)[number];
      waiting.run(this.idle.shift() as PartWorker);
    }
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => {
      const previous = this.wake;
      this.wake = () => {
        previous?.();
        resolve();
      };
    });
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** The same place to start reading a block: the same line and delimiter (the csv-parse line counter is relative in a guess). */
function sameStart(guess: CsvRecordStart | undefined, known: CsvRecordStart | undefined): boolean {
  return guess !== undefined && known !== undefined && guess.line === known.line && guess.delimiter === known.delimiter;
}

/** The start of the UTF-8 character at or before `at` (a block never ends inside a character). */
function characterStart(bytes: Buffer, at: number): number {
  let start = at;
  while (start > 0 && ((bytes[start] as number) & 0xc0) === 0x80) start -= 1;
  return start;
}

function countLineFeeds(bytes: Buffer): number {
  let count = 0;
  for (let at = bytes.indexOf(0x0a); at !== -1; at = bytes.indexOf(0x0a, at + 1)) count += 1;
  return count;
}

/** The first chunks read, then the rest of the source. */
async function* replay(head: Buffer[], rest: AsyncIterator<Buffer | string>): AsyncGenerator<Buffer> {
  yield* head;
  for (;;) {
    const { value, done } = await rest.next();
    if (done) return;
    yield typeof value === 'string' ? Buffer.from(value) : value;
  }
}

/**
 * The worker threads of one read of an export, started when first needed and kept for its
 * customers and then its orders (each start loads the format modules again); stop() ends them.
 */
export class ReaderThreads {
  private readonly workers: PartWorker[] = [];

  /** `count` workers, started if there are not that many yet. */
  take(count: number): PartWorker[] {
    while (this.workers.length < count) this.workers.push(new PartWorker());
    return this.workers.slice(0, count);
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((worker) => worker.stop()));
  }
}

/** The worker's bundle, beside the bundle of a handler that reads exports (infra/constructs/function.ts). */
export const FILE_THREADS_WORKER_BUNDLE = 'file-threads-worker.mjs';

/** The worker script: this folder's .ts from the sources, its bundle beside the handler's in a Lambda (infra/constructs/function.ts). */
export function fileThreadsWorkerUrl(moduleUrl: string = import.meta.url): URL {
  return new URL(moduleUrl.endsWith('.ts') ? './file-threads-worker.ts' : `./${FILE_THREADS_WORKER_BUNDLE}`, moduleUrl);
}

/**
 * Node options for the worker: inherited (undefined), except that TypeScript sources need tsx's
 * loader, which a test runner's process may not have. Never the parent's list given explicitly:
 * Node refuses per-process options there (V8 flags, or the Lambda runtime's --expose-gc).
 */
function workerExecArgv(url: URL): string[] | undefined {
  if (!url.pathname.endsWith('.ts') || process.execArgv.some((arg) => arg.includes('tsx'))) return undefined;
  return ['--import', 'tsx'];
}

class PartWorker {
  private readonly worker: Worker;
  private current: { location: string; fail(error: unknown): void } | undefined;
  /** Set once the worker died or was stopped: a read then fails at once. */
  private dead: Error | undefined;

  constructor() {
    const url = fileThreadsWorkerUrl();
    const execArgv = workerExecArgv(url);
    this.worker = new Worker(url, { ...(execArgv ? { execArgv } : {}), resourceLimits: WORKER_LIMITS, stdout: false, stderr: false });
    this.worker.on('error', (error) => this.die(error));
    this.worker.on('exit', (code) => this.die(new Error(`the worker thread reading export files stopped (exit code ${code})`)));
  }

  /** Reads part `index` of `reading` (from `opened`, else opened here); resolves with what it read once the worker is done with it. */
  read(reading: FilesInThreads, index: number, opened?: Readable): Promise<ThreadedFileRead> {
    const { file, location } = reading.parts[index] as FilesInThreads['parts'][number];
    let raw: (NodeJS.ReadableStream | Readable) | undefined = opened;
    let chunks: AsyncIterator<Buffer | string> | undefined;
    const at: { file: string; line: number } = { file: location, line: 0 };
    /** Hands the worker the next bytes of the file, when it asks. */
    const sendBytes = async (finish: (error: unknown) => void, settled: () => boolean) => {
      try {
        raw ??= await reading.open(file, location);
        chunks ??= (raw as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
        const gathered: Buffer[] = [];
        let size = 0;
        let ended = false;
        while (size < BYTES_PER_MESSAGE) {
          const { value, done } = await chunks.next();
          if (done) {
            ended = true;
            break;
          }
          const buffer = typeof value === 'string' ? Buffer.from(value) : value;
          gathered.push(buffer);
          size += buffer.length;
        }
        if (settled()) return;
        if (size > 0) {
          reading.onBytes?.(size);
          // A copy of its own (source chunks may share a pooled buffer), moved to the worker.
          const bytes = new Uint8Array(size);
          let offset = 0;
          for (const buffer of gathered) {
            bytes.set(buffer, offset);
            offset += buffer.length;
          }
          this.post({ type: 'bytes', bytes }, [bytes.buffer]);
        }
        if (ended) this.post({ type: 'end' });
      } catch (error) {
        finish(reading.sourceFailure(error, location));
      }
    };
    return this.converse<ThreadedFileRead>(reading, index, {
      start: (job) => ({ type: 'read', job }),
      onFailure: () => destroy(raw),
      onMessage: (message, finish, settled) => {
        switch (message.type) {
          case 'more':
            void sendBytes(finish, settled);
            return;
          case 'orders':
          case 'customers':
            try {
              handOver(message, at, reading.handlers);
            } catch (error) {
              finish(error instanceof HandlerFailure ? error.original : error);
            }
            return;
          case 'done':
            finish(undefined, message.read);
            return;
          default:
            return;
        }
      },
    });
  }

  /**
   * Reads one block of part `index` (BlockedRead); resolves with what it read and its rows, held
   * back for the caller to hand over in order. `onHeader` is told where the file's header ends.
   */
  readBlock(
    reading: FilesInThreads,
    index: number,
    block: ThreadedBlock,
    bytes: Buffer,
    onHeader: (headerBytes: number, next: CsvRecordStart) => void,
  ): Promise<{ read: ThreadedBlockRead; rows: RowsMessage[] }> {
    const rows: RowsMessage[] = [];
    return this.converse(reading, index, {
      // Copied to the worker: this thread keeps the block until the blocks after it are known to start where it ends.
      start: (job) => ({ type: 'block', job, block, bytes }),
      onMessage: (message, finish) => {
        switch (message.type) {
          case 'orders':
          case 'customers':
            rows.push(message);
            return;
          case 'header':
            onHeader(message.bytes, message.next);
            return;
          case 'block-done':
            finish(undefined, { read: message.read, rows });
            return;
          default:
            return;
        }
      },
    });
  }

  /**
   * One job of part `index` for the worker: `start` makes the message that starts it, `onMessage`
   * takes the worker's replies until it calls `finish` (a 'failed' reply fails the job as the
   * reader would fail the file); `onFailure` cleans up after a failure. One job at a time.
   */
  private converse<T>(
    reading: FilesInThreads,
    index: number,
    job: {
      start(job: ThreadedFileJob): ToFileThread;
      onMessage(message: FromFileThread, finish: (error: unknown, value?: T) => void, settled: () => boolean): void;
      onFailure?(): void;
    },
  ): Promise<T> {
    const part = reading.parts[index] as FilesInThreads['parts'][number];
    const { file, location } = part;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const finish = (error: unknown, value?: T) => {
        if (settled) return;
        settled = true;
        this.worker.off('message', onMessage);
        this.current = undefined;
        if (error === undefined) resolve(value as T);
        else {
          job.onFailure?.();
          reject(error);
        }
      };
      const onMessage = (message: FromFileThread) => {
        if (message.type === 'failed') void failureOf(message.failure, reading, file.key, location).then(finish, finish);
        else job.onMessage(message, finish, () => settled);
      };
      this.current = { location, fail: (error) => finish(error) };
      if (this.dead) return finish(this.dead);
      this.worker.on('message', onMessage);
      this.post(job.start({ file, fileIndex: part.fileIndex, location, config: reading.config, now: reading.now, hashLines: reading.hashLines }));
    });
  }

  /** Fails the read in progress, if any (another worker failed). */
  abort(error: unknown): void {
    this.current?.fail(error);
  }

  async stop(): Promise<void> {
    this.dead ??= new Error('the worker thread reading export files was stopped');
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }

  private post(message: ToFileThread, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(message, transfer);
  }

  private die(error: Error): void {
    this.dead ??= error;
    // The thread itself failed (its heap limit reached, say): the read fails naming the file it was on.
    const current = this.current;
    if (current) current.fail(new Error(`reading ${current.location} in a worker thread: ${error.message}`, { cause: error }));
  }
}

/** Gives a batch of rows to the handlers, `at` set to each row's line. */
function handOver(message: RowsMessage, at: { file: string; line: number }, handlers: ExportHandlers): void {
  const position: RowPosition = at;
  if (message.type === 'orders') {
    forEachOrderLine(message.batch, (order, line) => {
      at.line = line;
      handlers.order(order, position);
    });
    return;
  }
  const { records, lines } = message;
  for (let i = 0; i < records.length; i++) {
    at.line = lines[i] as number;
    handlers.customer(records[i] as CustomerRecord, position);
  }
}

async function failureOf(failure: ThreadedFileFailure, reading: FilesInThreads, key: string, location: string): Promise<Error> {
  switch (failure.kind) {
    case 'export':
      return new ExportError(failure.file, failure.message, { line: failure.line });
    case 'invalid-text':
      return reading.explainInvalidText(key, location);
    case 'error': {
      const error = new Error(`reading ${location} in a worker thread: ${failure.message}`);
      error.name = failure.name;
      if (failure.stack !== undefined) error.stack = failure.stack;
      return error;
    }
  }
}

function destroy(raw: NodeJS.ReadableStream | Readable | undefined): void {
  if (raw !== undefined && 'destroy' in raw && typeof raw.destroy === 'function') raw.destroy();
}
