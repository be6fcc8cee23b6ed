import { Readable } from 'node:stream';
import { z } from 'zod';
import type { Config } from '#shared/config.ts';
import type { AdvisorRecord, Reject } from '#shared/model.ts';
import { basenameOf, classifyExportFile, compareExportFileNames, looksLikeExportFile, MANIFEST_NAME, type ExportFileClass } from './classify.ts';
import { CsvRecordScanner, type CsvRecordStart } from './csv-scanner.ts';
import { checkTextBlock, decodedStream, firstInvalidLine, InvalidText, MAX_CSV_RECORD_CHARS, rawTally, readCsvRecords, readLines, streamError } from './decode.ts';
import { ExportError, ExportIncompleteError, HandlerFailure, isBadExport } from './errors.ts';
import { cleanCsvValue, cleanJsonValue } from './fields.ts';
import { keepUpTo, MAX_KEPT_REJECTS, MAX_KEPT_WARNINGS } from './kept.ts';
import { genericAdvisors, genericCustomers, genericOrders, genericProducts } from './generic.ts';
import { OrderLineHashes } from './line-hashes.ts';
import {
  defaultReaderThreads,
  readFilesInThreads,
  ReaderThreads,
  type ShortRecord,
  type ThreadedBlock,
  type ThreadedBlockRead,
  type ThreadedFile,
  type ThreadedFileJob,
  type ThreadedFileRead,
} from './file-threads.ts';
import { shopifyCustomers, shopifyOrders } from './shopify.ts';
import type { ExportSource } from './source.ts';
import type { ExportHandlers, ExportKind, FieldWarning, FileReport, ReadResult, RowContext, RowFormat, RowPosition, RowSink, RowValues } from './types.ts';
import { thresholdText } from '#shared/percent.ts';
import { issuesText } from '#shared/zod-issues.ts';

export { classifyExportFile, type ExportFileClass } from './classify.ts';
export { ExportError } from './errors.ts';
export type { ExportHandlers, FieldWarning, FileReport, ReadResult, RowPosition } from './types.ts';

export { MAX_KEPT_REJECTS, MAX_KEPT_WARNINGS } from './kept.ts';

/** Customers first (orders resolve Shopify emails against them), then products and the advisors roster, then orders. */
const KIND_ORDER: readonly ExportKind[] = ['customers', 'products', 'advisors', 'orders'];

const FORMATS: Record<string, RowFormat> = {
  'generic/customers': genericCustomers,
  'generic/orders': genericOrders,
  'generic/products': genericProducts,
  'generic/advisors': genericAdvisors,
  'shopify/customers': shopifyCustomers,
  'shopify/orders': shopifyOrders,
};

/**
 * _manifest.json. `mode` says whether the export is a full snapshot; `files`, when present, is
 * the producer's word on every export file: its name, its data rows and the sha256 of its bytes
 * as stored. Unknown keys are allowed (producers add their own).
 */
const manifestFileSchema = z.looseObject({
  name: z
    .string({ error: 'must be a file name' })
    .min(1, 'must be a file name')
    .refine((name) => !name.includes('/'), 'must be a file name without a folder'),
  rows: z.number({ error: 'must be a whole number' }).int('must be a whole number').min(0, 'must not be negative'),
  sha256: z
    .string({ error: 'must be 64 hexadecimal digits' })
    .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hexadecimal digits')
    .transform((hex) => hex.toLowerCase()),
});

const manifestSchema = z.looseObject({
  mode: z.enum(['full', 'incremental'], { error: 'must be "full" or "incremental"' }).default('full'),
  files: z
    .array(manifestFileSchema, { error: 'must be a list of { name, rows, sha256 }' })
    .superRefine((files, ctx) => {
      const seen = new Set<string>();
      files.forEach((file, i) => {
        if (seen.has(file.name)) ctx.addIssue({ code: 'custom', message: 'lists the same file twice', path: [i, 'name'] });
        seen.add(file.name);
      });
    })
    .optional(),
});

type Manifest = z.infer<typeof manifestSchema>;
export type ManifestFile = z.infer<typeof manifestFileSchema>;

/** A manifest is a few bytes per file; anything much larger is not one. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface ReadOptions {
  config: Config;
  /**
   * The run's clock, epoch ms: the start of the day after the run date in the brand time zone
   * (runClock(runDate, timeZone).now). An order more than a day after it is a reject, and so
   * are sign-ups and birthdays after it (dropped with a warning).
   */
  now: number;
  /**
   * Check each file's share of rejected rows against config.maxRejectShare before returning
   * (default true). A caller that rejects rows of its own afterwards (the nightly: orders for
   * unknown customers) passes false and calls checkRejectShares once it has counted them.
   */
  checkRejectShares?: boolean;
  /**
   * The files were merged before as an increment, checked then against its manifest (shared/sender/
   * ingest.ts, a merge again after a night): they read as incremental, and the folder's manifest
   * now, which a later drop may have replaced or which lists only that drop's files, is not held
   * against them (no file list to match, exports.requireManifest does not take them as still
   * being written).
   */
  mergedBefore?: boolean;
  /** Raw (compressed) bytes read so far over the whole export. */
  onProgress?: (bytesRead: number) => void;
  /**
   * Worker threads that parse and check the customers and orders files (file-threads.ts) while
   * this thread aggregates the rows they hand over: the customers files in one of them, in order;
   * each orders file in one of them, or, with fewer orders files than threads, each in blocks by
   * all of them. Default: one per core, and at most one per orders file unless a file can be read in
   * blocks; none on a single core or for less than 16 MB of customers and orders files
   * (defaultReaderThreads). 0 reads every file in this thread.
   */
  threads?: number;
  /** Bytes of a block when threads read one file in blocks (file-threads.ts BLOCK_BYTES): tests make them small. */
  blockBytes?: number;
}

/** One file of an export as planned: where it is, what it is, and what the manifest says of it. */
export interface PlannedFile extends ExportFileClass {
  key: string;
  name: string;
  /** Size as listed, when the source says (used to share the files between readers). */
  size?: number;
  /** The manifest's entry for the file, when the manifest lists files. */
  listed: ManifestFile | undefined;
  /** Merged before as an increment, checked then (ReadOptions.mergedBefore). */
  mergedBefore?: true;
  /** The version the listing saw (S3's ETag), when the source says: only that one is read. */
  etag?: string;
}

/** What the listing (and the manifest) say an export is: its files in reading order. */
export interface ExportPlan {
  mode: 'full' | 'incremental';
  /** Customers → products → advisors → orders, parts in name order: the order every reader keeps. */
  files: PlannedFile[];
}

/**
 * Reads every file of an export, in the order customers → products → advisors → orders (parts in name
 * order), validating each row and handing it to `handlers`. Throws an ExportError, naming the
 * file and the problem, when the export as a whole cannot be trusted: a file that cannot be
 * read as its format, that is truncated, has no data rows or is not what the manifest lists, two
 * files with the same content or sharing order lines, or (unless options.checkRejectShares is
 * false) a file with too many rejected rows. Callers write nothing before this returns.
 */
export async function readExport(source: ExportSource, handlers: ExportHandlers, options: ReadOptions): Promise<ReadResult> {
  const plan = await planExport(source, options.config.exports, { mergedBefore: options.mergedBefore === true });
  const lineHashes = comparesOrderLines(plan) ? new OrderLineHashes() : undefined;
  const read = await readPlannedFiles(source, plan, handlers, options, { lineHashes });
  checkNoSharedLines(read.files, lineHashes);
  if (options.checkRejectShares !== false) checkRejectShares(read.files, options.config.maxRejectShare);
  return readResultOf(read, plan.mode);
}

/** The export's files from its listing and manifest, in reading order; throws when it cannot be read as one. */
export async function planExport(source: ExportSource, rules: Pick<Config['exports'], 'requireManifest'>, read: Pick<ReadOptions, 'mergedBefore'> = {}): Promise<ExportPlan> {
  const objects = await source.list().catch((error: unknown) => {
    throw ExportError.at(source.describe(), `cannot be listed: ${messageOf(error)}`, { cause: error });
  });

  const planned: PlannedFile[] = [];
  let manifestKey: string | undefined;
  for (const { key, size, etag } of objects) {
    const name = basenameOf(key);
    if (name === MANIFEST_NAME) {
      manifestKey = key;
      continue;
    }
    const kind = classifyExportFile(name);
    if (kind) planned.push({ ...kind, key, name, ...(size !== undefined ? { size } : {}), ...(etag !== undefined ? { etag } : {}), listed: undefined });
    else if (looksLikeExportFile(name)) {
      throw ExportError.at(
        source.location(key),
        'looks like an export file but its extension is not supported (expected .csv or .jsonl, optionally .gz)',
      );
    }
  }
  const mergedBefore = read.mergedBefore === true;
  if (mergedBefore) for (const file of planned) file.mergedBefore = true;
  const manifest: Manifest = mergedBefore ? { mode: 'incremental' } : manifestKey === undefined ? { mode: 'full' } : await readManifest(source, manifestKey);
  const { mode } = manifest;
  // Before the files are counted: an export still being written lacks some, and its manifest says why.
  if (rules.requireManifest && manifest.files === undefined && !mergedBefore) {
    const file = manifestKey === undefined ? source.describe() : source.location(manifestKey);
    throw new ExportIncompleteError(
      file,
      `${file}: ${manifestKey === undefined ? `has no ${MANIFEST_NAME}` : 'lists no files'}, and exports.requireManifest says the producer writes one last, ` +
        'listing every file: the export may still be being written. Rerun once the manifest is there',
    );
  }
  if (manifest.files !== undefined && manifestKey !== undefined) matchManifest(manifest.files, planned, source, manifestKey);

  const has = (kind: ExportKind) => planned.some((file) => file.kind === kind);
  const missing = (['customers', 'orders'] as const).filter((kind) => !has(kind));
  // A full snapshot without customers or orders would silently downgrade every client.
  if (mode === 'full' ? missing.length > 0 : missing.length === 2) {
    throw ExportError.at(
      source.describe(),
      `no ${missing.join(' or ')} file found (expected customers*.csv|jsonl[.gz] and orders*.csv|jsonl[.gz], or Shopify's customers_export*.csv and orders_export*.csv)`,
    );
  }
  planned.sort(
    (a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || compareExportFileNames(a.name, b.name) || compare(a.key, b.key),
  );
  return { mode, files: planned };
}

/**
 * Whether the order lines are hashed for checkNoSharedLines: only parts of one kind can double
 * each other's lines, so with one orders file there is nothing to compare; but a Shopify order
 * read in two groups of rows may be in one file (Shopify's orders are compared as orders).
 */
export function comparesOrderLines(plan: ExportPlan): boolean {
  const orders = plan.files.filter((file) => file.kind === 'orders');
  return orders.length > 1 || orders.some((file) => file.format === 'shopify');
}

/** What reading some files of a plan found: their reports (in plan order) and the rejects and warnings kept. */
export interface FilesRead {
  files: FileReport[];
  rejects: Reject[];
  warnings: FieldWarning[];
}

export interface PlannedRead {
  /** Plan indexes of the files to read (default all), in plan order: a reader's share of the export. */
  only?: readonly number[];
  /** Collects the order lines' hashes, under each file's plan index. */
  lineHashes?: OrderLineHashes | undefined;
}

/**
 * Reads the files of `plan` (all, or `only` those), each checked on its own and against the
 * others read here (no two with the same content); what needs every file (order lines shared
 * between parts, reject shares) is left to the caller.
 */
export async function readPlannedFiles(source: ExportSource, plan: ExportPlan, handlers: ExportHandlers, options: ReadOptions, which: PlannedRead = {}): Promise<FilesRead> {
  const { config } = options;
  const rejects: Reject[] = [];
  const warnings: FieldWarning[] = [];
  const files: FileReport[] = [];
  let bytesRead = 0;
  const onBytes = options.onProgress
    ? (n: number) => {
        bytesRead += n;
        options.onProgress?.(bytesRead);
      }
    : undefined;
  const { lineHashes } = which;
  const twins = new Map<string, string>();

  const reading: FileReading = {
    config,
    now: options.now,
    onBytes,
    lineHashes,
    twins,
    rejects,
    warnings,
    explainInvalidText: (key, location) => invalidTextError(source, key, location, config),
    blockBytes: options.blockBytes,
  };
  const indexes = [...(which.only ?? plan.files.keys())];
  const threads = options.threads ?? defaultReaderThreads(indexes.map((i) => plan.files[i] as PlannedFile));
  // Customers come first in plan order, orders last: products and advisors are read here between them.
  const customers: FileToReadInThreads[] = [];
  const orders: FileToReadInThreads[] = [];
  const pool = new ReaderThreads();
  try {
    for (const fileIndex of indexes) {
      const file = plan.files[fileIndex];
      if (file === undefined) throw new RangeError(`no file ${fileIndex} in a plan of ${plan.files.length}`);
      const location = source.location(file.key);
      const report: FileReport = { location, kind: file.kind, format: file.format, rows: 0, rejected: 0, warnings: 0, sha256: '', bytes: 0 };
      files.push(report);
      if (threads > 0 && (file.kind === 'customers' || file.kind === 'orders')) {
        if (file.kind === 'customers') customers.push({ file, fileIndex, report });
        else orders.push({ file, fileIndex, report });
        continue;
      }
      if (customers.length > 0) await readInThreads(reading, source, customers.splice(0), handlers, 1, pool);
      if (file.kind === 'advisors') await readRosterFile(reading, source, file, report, fileIndex, handlers);
      else await readFile(reading, source, file, report, fileIndex, handlers);
    }
    // The customers files in one thread, in order: a customer seen again replaces the earlier record.
    if (customers.length > 0) await readInThreads(reading, source, customers, handlers, 1, pool);
    if (orders.length > 0) await readInThreads(reading, source, orders, handlers, threads, pool);
  } finally {
    await pool.stop();
  }
  return { files, rejects, warnings };
}

interface FileToReadInThreads {
  file: PlannedFile;
  fileIndex: number;
  report: FileReport;
}

/**
 * Reads files of one kind in worker threads (file-threads.ts); what each found (its report,
 * rejects, warnings and line hashes) is then taken in plan order, exactly as reading them here would.
 */
async function readInThreads(
  reading: FileReading,
  source: ExportSource,
  parts: FileToReadInThreads[],
  handlers: ExportHandlers,
  threads: number,
  pool: ReaderThreads,
): Promise<void> {
  const reads = await readFilesInThreads(
    {
      parts: parts.map(({ file, fileIndex, report }) => ({ file, fileIndex, location: report.location })),
      config: reading.config,
      now: reading.now,
      hashLines: reading.lineHashes !== undefined,
      threads,
      ...(reading.blockBytes !== undefined ? { blockBytes: reading.blockBytes } : {}),
      handlers,
      open: (file, location) => openFile(source, file, location),
      onBytes: reading.onBytes,
      explainInvalidText: reading.explainInvalidText,
      sourceFailure: readFailure,
      checkFile: (report, file) => checkFile(report, file.listed),
    },
    pool,
  );
  parts.forEach(({ report }, i) => {
    const read = reads[i] as ThreadedFileRead;
    Object.assign(report, read.report);
    keepUpTo(reading.rejects, read.rejects, MAX_KEPT_REJECTS);
    keepUpTo(reading.warnings, read.warnings, MAX_KEPT_WARNINGS);
    for (const hashes of read.lineHashes ?? []) reading.lineHashes?.absorb(hashes);
    checkNotTwin(report, reading.twins);
  });
}

/**
 * One customers or orders file read on its own, from `raw`: what a worker thread of
 * file-threads.ts does with each file it is given. Throws as readExport would for that file, but an InvalidText as it is
 * (the thread that owns the source finds its line).
 */
export async function readThreadedFile(job: ThreadedFileJob, raw: Readable, handlers: ExportHandlers): Promise<ThreadedFileRead> {
  const { file, fileIndex } = job;
  const { read, reading, lineHashes } = threadReading(job);
  await readOpenedFile(reading, raw, file, read.report, fileIndex, handlers);
  if (lineHashes !== undefined) read.lineHashes = [lineHashes.encode()];
  return read;
}

/** What a worker thread's read of a file or block fills: its own report, rejects, warnings and line hashes. */
function threadReading(job: ThreadedFileJob): { read: ThreadedFileRead; reading: FileReading; lineHashes: OrderLineHashes | undefined } {
  const { file, location } = job;
  const lineHashes = job.hashLines ? new OrderLineHashes() : undefined;
  const read: ThreadedFileRead = {
    report: { location, kind: file.kind, format: file.format, rows: 0, rejected: 0, warnings: 0, sha256: '', bytes: 0 },
    rejects: [],
    warnings: [],
  };
  const reading: FileReading = {
    config: job.config,
    now: job.now,
    onBytes: undefined,
    lineHashes,
    twins: new Map(),
    rejects: read.rejects,
    warnings: read.warnings,
    explainInvalidText: async () => new InvalidText('not valid text'),
  };
  return { read, reading, lineHashes };
}

/**
 * One block of a CSV file that several worker threads read (file-threads.ts): its records, from
 * where `block` says it starts, read and checked as reading the whole file reads them, with what
 * the next block needs to go on from its end. `onHeader` is told where the header record ends
 * (the first block). The file's own checks (sha256, rows, manifest) are left to the caller. Throws
 * as readThreadedFile does.
 */
export function readThreadedBlock(
  job: ThreadedFileJob,
  block: ThreadedBlock,
  bytes: Buffer,
  handlers: ExportHandlers,
  onHeader: (headerBytes: number, next: CsvRecordStart) => void,
): ThreadedBlockRead {
  const { file, fileIndex, location } = job;
  const { read, reading, lineHashes } = threadReading(job);
  const context = rowContext(reading, read.report, handlers, file, fileIndex, lineHashes);
  const format = formatOf(file);
  const sink = format.createSink(context);
  const rows = new CsvRows(location, format, sink, context.reject, read.report);
  let records = 0;
  try {
    checkTextBlock(bytes);
    if (block.header !== undefined) {
      const header = new CsvRecordScanner((fields, line, lines) => {
        if (!rows.hasHeader) rows.record(fields, line, lines);
      }, MAX_CSV_RECORD_CHARS);
      header.push(Buffer.from(block.header.buffer, block.header.byteOffset, block.header.byteLength));
      header.end();
    }
    const scanner: CsvRecordScanner = new CsvRecordScanner(
      (fields, line, lines) => {
        if (rows.hasHeader) {
          records += 1;
          rows.record(fields, line, lines);
          return;
        }
        rows.record(fields, line, lines);
        onHeader(scanner.bytesBeforeNext, scanner.next);
      },
      MAX_CSV_RECORD_CHARS,
      block.start,
    );
    scanner.push(bytes);
    if (block.last) {
      scanner.end();
      rows.end(scanner.unterminatedLastLine, file);
    }
    sink.end();
    if (lineHashes !== undefined) read.lineHashes = [lineHashes.encode()];
    return { read, records, next: scanner.next, unfinishedBytes: scanner.unfinishedBytes, short: block.last ? undefined : rows.takeShort() };
  } catch (error) {
    if (error instanceof HandlerFailure) throw error.original;
    if (error instanceof InvalidText) throw error;
    throw readFailure(error, location);
  }
}

/**
 * Fails when two files of the export share an order line, or when a Shopify order was read in two
 * groups of rows, in one file or two (`files` in plan order, as numbered in `lineHashes`): a part
 * exported twice, or overlapping parts or exports. Its lines would be counted twice.
 */
export function checkNoSharedLines(files: readonly FileReport[], lineHashes: OrderLineHashes | undefined): void {
  const shared = lineHashes?.findSharedLine();
  if (shared !== undefined) {
    const [earlier, later] = shared.map((i) => (files[i] as FileReport).location) as [string, string];
    throw ExportError.at(later, `repeats order lines of ${earlier} (the same values on a line of each): a part exported twice, or overlapping parts?`);
  }
  const repeated = lineHashes?.findRepeatedOrder();
  if (repeated !== undefined) {
    const [first, second] = repeated;
    const earlier = (files[first.file] as FileReport).location;
    const later = (files[second.file] as FileReport).location;
    throw ExportError.at(
      later,
      `an order read twice: the group of rows starting here has the Id (or, without one, the Name) of the group starting at line ${first.line}` +
        `${first.file === second.file ? '' : ` of ${earlier}`}, and a Shopify order is one group of rows (overlapping exports or parts?)`,
      { line: second.line },
    );
  }
}

/** Fails when two of `files` have the same content (same sha256), naming the later one. */
export function checkNoTwins(files: readonly FileReport[]): void {
  const twins = new Map<string, string>();
  for (const report of files) checkNotTwin(report, twins);
}

function checkNotTwin(report: FileReport, seen: Map<string, string>): void {
  const twin = seen.get(report.sha256);
  if (twin !== undefined) throw ExportError.at(report.location, `has the same content as ${twin} (same sha256): a part exported twice?`);
  seen.set(report.sha256, report.location);
}

/** The export's figures from the files read (every file of the export, in plan order). */
export function readResultOf(read: FilesRead, mode: ExportPlan['mode']): ReadResult {
  const { files } = read;
  const rows = files.reduce((sum, f) => sum + f.rows, 0);
  const rejected = files.reduce((sum, f) => sum + f.rejected, 0);
  const warned = files.reduce((sum, f) => sum + f.warnings, 0);
  return { files, rows, rejected, rejects: read.rejects, warned, warnings: read.warnings, mode };
}

/** What reading each file of an export shares: where rejects and warnings go, the checks across files. */
interface FileReading {
  config: Config;
  now: number;
  onBytes: ((n: number) => void) | undefined;
  lineHashes: OrderLineHashes | undefined;
  /** sha256 → location of the files read so far (no two the same). */
  twins: Map<string, string>;
  rejects: Reject[];
  warnings: FieldWarning[];
  /** The error for a file that is not valid text in the export's encoding (it names the first bad line). */
  explainInvalidText(key: string, location: string): Promise<Error>;
  /** ReadOptions.blockBytes. */
  blockBytes?: number | undefined;
}

function formatOf(file: ExportFileClass): RowFormat {
  return FORMATS[`${file.format}/${file.kind}`] as RowFormat;
}

/**
 * The handlers, every order line hashed (as read, under file number `fileIndex`) on its way to
 * them when `hashes` is given: the check that no two parts share a line (checkNoSharedLines).
 * Not Shopify's lines: their orders are compared instead (rowContext), which finds any line
 * two of its files share, and more.
 */
function hashingOrders(handlers: ExportHandlers, hashes: OrderLineHashes | undefined, fileIndex: number, format: ExportFileClass['format']): ExportHandlers {
  if (hashes === undefined) return handlers;
  hashes.startFile(fileIndex);
  if (format === 'shopify') return handlers;
  return {
    customer: (record, at) => handlers.customer(record, at),
    order: (line, at) => {
      hashes.add(line);
      handlers.order(line, at);
    },
    product: (record, at) => handlers.product(record, at),
    ...(handlers.advisor === undefined ? {} : { advisor: handlers.advisor.bind(handlers) }),
  };
}

/**
 * The rows' context for one file: its rejects and warnings counted in `report` and kept up to the
 * caps; an orders file's lines (or orders) hashed into `hashes`, when given (hashingOrders).
 */
function rowContext(reading: FileReading, report: FileReport, handlers: ExportHandlers, file: ExportFileClass, fileIndex: number, hashes: OrderLineHashes | undefined): RowContext {
  const orderHashes = file.kind === 'orders' ? hashes : undefined;
  const { rejects, warnings } = reading;
  const { location } = report;
  const position = { file: location, line: 0 };
  return {
    config: reading.config,
    now: reading.now,
    handlers: hashingOrders(handlers, orderHashes, fileIndex, file.format),
    ...(orderHashes === undefined ? {} : { orderRead: (orderId: string, line: number) => orderHashes.addOrder(orderId, line) }),
    at(line) {
      position.line = line;
      return position;
    },
    reject(line, reason) {
      report.rejected += 1;
      if (rejects.length < MAX_KEPT_REJECTS) rejects.push({ file: location, line, reason });
    },
    warn(line, field, reason) {
      report.warnings += 1;
      if (warnings.length < MAX_KEPT_WARNINGS) warnings.push({ file: location, line, field, reason });
    },
  };
}

/** Reads one file into `handlers`; throws an ExportError when it cannot be trusted (see readExport). */
async function readFile(reading: FileReading, source: ExportSource, file: PlannedFile, report: FileReport, fileIndex: number, handlers: ExportHandlers): Promise<void> {
  const raw = await openFile(source, file, report.location);
  await readOpenedFile(reading, raw, file, report, fileIndex, handlers);
}

/** Reads one opened file into `handlers` (see readFile). */
async function readOpenedFile(
  reading: FileReading,
  raw: NodeJS.ReadableStream | Readable,
  file: ThreadedFile,
  report: FileReport,
  fileIndex: number,
  handlers: ExportHandlers,
): Promise<void> {
  const { location } = report;
  const context = rowContext(reading, report, handlers, file, fileIndex, reading.lineHashes);
  const format = formatOf(file);
  const tally = rawTally();
  const bytes = decodedStream(raw, { onBytes: reading.onBytes, tally, encoding: reading.config.exports.encoding });
  const sink = format.createSink(context);
  try {
    if (file.encoding === 'csv') {
      const rows = new CsvRows(location, format, sink, context.reject, report);
      rows.end(await readCsvRecords(bytes, (fields, line, lines) => rows.record(fields, line, lines)), file);
    } else await readJsonlFile(bytes, location, format, sink, context.reject, report);
    sink.end();
  } catch (error) {
    bytes.destroy();
    // Also close the source at once (an S3 socket) rather than when the decoder next wakes up.
    if (raw instanceof Readable) raw.destroy();
    if (error instanceof HandlerFailure) throw error.original;
    if (error instanceof InvalidText) throw await reading.explainInvalidText(file.key, location);
    throw readFailure(error, location);
  }
  report.sha256 = tally.hash.digest('hex');
  report.bytes = tally.bytes;
  checkFile(report, file.listed);
  checkNotTwin(report, reading.twins);
}

/**
 * Reads an advisors file. The roster is optional and a bad one must not stop the night (the last
 * good roster stays in use): a file that would fail the export (empty, truncated, not its format)
 * is marked unusable instead, and its rows, rejects and warnings are held back until the whole
 * file has read, so that a broken file hands over nothing.
 */
async function readRosterFile(
  reading: FileReading,
  source: ExportSource,
  file: PlannedFile,
  report: FileReport,
  fileIndex: number,
  handlers: ExportHandlers,
): Promise<void> {
  const held: { record: AdvisorRecord; at: RowPosition }[] = [];
  const rejects: Reject[] = [];
  const warnings: FieldWarning[] = [];
  try {
    await readFile({ ...reading, rejects, warnings }, source, file, report, fileIndex, {
      ...handlers,
      advisor: (record, at) => held.push({ record, at: { file: at.file, line: at.line } }),
    });
  } catch (error) {
    // S3 failing on the way says nothing of the roster: the night fails and its rerun reads it whole.
    if (!isBadExport(error)) throw error;
    report.unusable = error.message;
    report.rejected = 0;
    report.warnings = 0;
    return;
  }
  keepUpTo(reading.rejects, rejects, MAX_KEPT_REJECTS);
  keepUpTo(reading.warnings, warnings, MAX_KEPT_WARNINGS);
  for (const { record, at } of held) handlers.advisor?.(record, at);
}

/** Opens the version of `file` the listing saw (its ETag, where the source gives one). */
async function openFile(source: ExportSource, file: Pick<PlannedFile, 'key' | 'etag'>, location: string): Promise<NodeJS.ReadableStream | Readable> {
  return source.open(file.key, file.etag).catch((error: unknown) => {
    if (objectWrittenAgain(error)) {
      throw ExportError.at(
        location,
        'was written again after the night listed the export (its ETag changed): the export is being dropped again. Run the night once the new drop is complete',
        { cause: error },
      );
    }
    throw ExportError.at(location, `cannot be opened: ${messageOf(error)}`, { cause: error });
  });
}

/** S3's answer to a GET of a version that is no longer the object's (If-Match). */
function objectWrittenAgain(error: unknown): boolean {
  const failure = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown } } | undefined;
  return failure?.name === 'PreconditionFailed' || failure?.$metadata?.httpStatusCode === 412;
}

/** The file as a whole, once read: it has data and is what the manifest lists. */
function checkFile(report: FileReport, listed: ThreadedFile['listed']): void {
  const { location } = report;
  if (report.rows === 0) throw ExportError.at(location, 'has no data rows (only a header, or nothing): an export that failed to write?');
  if (listed !== undefined) {
    // The manifest counts records: a rejected record over several lines is one.
    const records = report.rows - (report.spannedLines ?? 0);
    if (records !== listed.rows) {
      throw ExportError.at(location, `has ${records} data rows, ${MANIFEST_NAME} says ${listed.rows}: truncated, or not the file the manifest describes`);
    }
    if (report.sha256 !== listed.sha256) {
      throw ExportError.at(location, `does not match its sha256 in ${MANIFEST_NAME}: changed or damaged since the manifest was written`);
    }
  }
}

/** Every file the manifest lists is there, and every export file there is listed. */
function matchManifest(listed: readonly ManifestFile[], planned: PlannedFile[], source: ExportSource, manifestKey: string): void {
  const byName = new Map(listed.map((entry) => [entry.name, entry]));
  for (const file of planned) {
    const entry = byName.get(file.name);
    if (entry === undefined) {
      throw ExportError.at(source.location(file.key), `is not listed in ${MANIFEST_NAME}, which lists every file of the export: a stray or late file?`);
    }
    file.listed = entry;
    byName.delete(file.name);
  }
  for (const name of byName.keys()) {
    // The listed name may be one the reader does not read (a typo, another kind of file): either way it is not there.
    const manifestLocation = source.location(manifestKey);
    const location = manifestLocation.slice(0, manifestLocation.length - MANIFEST_NAME.length) + name;
    const reason = classifyExportFile(name) === undefined ? 'is listed in the manifest but is not an export file name' : 'is listed in the manifest but is not in the export';
    throw ExportError.at(location, `${reason} (${MANIFEST_NAME})`);
  }
}

/**
 * Fails when one file has more than `maxRejectShare` of its rows rejected (each file on its
 * own: one bad part is not diluted by good ones), naming the worst file and up to three more.
 * Called by readExport unless told not to; callers that add rejects of their own to the
 * FileReports call it afterwards.
 */
export function checkRejectShares(files: readonly FileReport[], maxRejectShare: number): void {
  const share = (f: FileReport) => (f.rows === 0 ? 1 : f.rejected / f.rows);
  // The roster applies the threshold itself, by keeping the last good roster (shared/advisors/roster.ts).
  const over = files.filter((f) => f.kind !== 'advisors' && f.rejected > 0 && f.rejected > f.rows * maxRejectShare).sort((a, b) => share(b) - share(a));
  const worst = over[0];
  if (worst === undefined) return;
  const others = over
    .slice(1, 4)
    .map((f) => `${f.location} (${f.rejected} of ${f.rows} rows)`)
    .join(', ');
  throw ExportError.at(
    worst.location,
    `${thresholdText(share(worst))} of its rows rejected (${worst.rejected} of ${worst.rows}), above the maxRejectShare threshold of ${thresholdText(maxRejectShare)}; nothing was written.` +
      (others === '' ? '' : ` Also above it: ${others}${over.length > 4 ? `, and ${over.length - 4} more` : ''}`),
  );
}

/** The error for a file whose reading failed: the stream's own (a bad gzip or CSV, an ExportError), else "could not be read". */
function readFailure(error: unknown, location: string): ExportError {
  const wrapped = streamError(error, location);
  return wrapped instanceof ExportError ? wrapped : ExportError.at(location, `could not be read: ${messageOf(error)}`, { cause: error });
}

/** Names the first line that is not valid text (or binary), reading the file again (only ever on failure). */
async function invalidTextError(source: ExportSource, key: string, location: string, config: Config): Promise<ExportError> {
  const { encoding } = config.exports;
  // A CSV file's lines as its rows and rejects are numbered (a quoted line break, the file's own line ending).
  const records = classifyExportFile(basenameOf(key))?.encoding === 'jsonl' ? 'lines' : 'csv';
  const invalid = await firstInvalidLine(await openFile(source, { key }, location), encoding, records).catch((error: unknown) => {
    throw readFailure(error, location);
  });
  const line = invalid?.line;
  if (invalid?.binary === true) {
    return ExportError.at(location, `is not a ${encoding === 'utf-8' ? 'UTF-8' : encoding} text file (it contains binary data: a NUL byte)`, { line });
  }
  const problem =
    encoding === 'utf-8'
      ? 'is not valid UTF-8 text; if the platform exports another encoding (GBK is common in China), set exports.encoding in the config'
      : `is not valid ${encoding} text (exports.encoding in the config)`;
  return ExportError.at(location, problem, { line });
}

/** Where a format's columns are among the names of a CSV header or of a JSONL object's fields. */
interface ColumnPositions {
  /** The columns found, in the format's spelling, and the index of each among the names. */
  keys: string[];
  indexes: number[];
  /** A column that several names match (case aside), and how many: which one holds the value cannot be told. */
  twice?: { column: string; count: number };
}

/**
 * Matches names (a CSV header, a JSONL object's fields) to a format's columns, one rule for both
 * encodings (headerName).
 */
function columnPositions(names: readonly string[], columns: readonly string[]): ColumnPositions {
  const matched = names.map(headerName);
  const keys: string[] = [];
  const indexes: number[] = [];
  for (const column of columns) {
    const wanted = headerName(column);
    const index = matched.indexOf(wanted);
    if (index === -1) continue;
    if (index !== matched.lastIndexOf(wanted)) return { keys, indexes, twice: { column, count: matched.filter((name) => name === wanted).length } };
    keys.push(column);
    indexes.push(index);
  }
  return { keys, indexes };
}

/**
 * A header name as columns are matched: trimmed, without a BOM, in any case, spaces, hyphens and
 * underscores alike (`Accepts Marketing`, `accepts-marketing`): a consent column spelled so and
 * ignored as unknown would leave every opt-out in it unread.
 */
export function headerName(name: string): string {
  return (name.charCodeAt(0) === 0xfeff ? name.slice(1) : name).trim().toLowerCase().replace(/[\s_-]+/g, '_');
}

/**
 * Whether a cell reads as the column name `name` (headerName(cell) === name). Asked of every data
 * record's first cell (CsvRows.repeatsHeader): most differ within their first two characters, so
 * those are compared as ASCII first, without building the cell's normalised text.
 */
export function isHeaderName(cell: string, name: string): boolean {
  let i = cell.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (i < cell.length && (cell.charCodeAt(i) === 32 || (cell.charCodeAt(i) >= 9 && cell.charCodeAt(i) <= 13))) i++;
  for (let j = 0; j < 2 && j < name.length && i < cell.length; i++, j++) {
    const code = cell.charCodeAt(i);
    // Not ASCII, or a separator (a run of them is one '_'): the whole rule decides.
    if (code >= 0x80 || code === 32 || code === 45 || code === 95 || (code >= 9 && code <= 13)) break;
    if ((code >= 65 && code <= 90 ? code + 32 : code) !== name.charCodeAt(j)) return false;
  }
  return headerName(cell) === name;
}

/** Maps a CSV header onto a format's columns (columnPositions); a column named twice or a required one missing fails the file. */
function headerIndexes(header: string[], format: RowFormat, location: string): { keys: string[]; indexes: number[] } {
  const { keys, indexes, twice } = columnPositions(header, format.columns);
  if (twice !== undefined) {
    throw ExportError.at(location, `has ${twice.count} columns named "${twice.column}" (case aside): which one holds the value cannot be told`, { line: 1 });
  }
  const missing = format.requiredColumns.filter((column) => !keys.includes(column));
  if (missing.length > 0) {
    const plural = missing.length > 1 ? 's' : '';
    // Only the format's own column names are quoted: the first row may be data (a file without a header).
    const found =
      keys.length === 0
        ? 'the first row has none of its columns: is the header row missing?'
        : `the header has ${keys.map((c) => `"${c}"`).join(', ')} of its columns`;
    throw ExportError.at(
      location,
      `missing required column${plural} ${missing.map((c) => `"${c}"`).join(', ')} for a ${format.format} ${format.kind} file (${found})`,
      { line: 1 },
    );
  }
  return { keys, indexes };
}

type RejectRow = RowContext['reject'];

/**
 * The records of a CSV file, in order: its header, then each data record checked against it and
 * handed to the sink. A file read in blocks (readThreadedBlock) has one per block, the header
 * given to each.
 */
class CsvRows {
  private keys: string[] = [];
  private indexes: number[] = [];
  private width = 0;
  private headerSeen = false;
  /** The header's names as columnPositions matches them (trimmed, no BOM, lower case). */
  private names: string[] = [];
  // A record with fewer columns than the header is a bad row, unless it is the last record: a
  // file cut off mid-record ends that way. So it is only rejected once another record follows.
  private shortLine = 0;
  private shortWidth = 0;
  private shortLines = 1;

  constructor(
    private readonly location: string,
    private readonly format: RowFormat,
    private readonly sink: RowSink,
    private readonly reject: RejectRow,
    private readonly report: FileReport,
  ) {}

  get hasHeader(): boolean {
    return this.headerSeen;
  }

  /** `lines`: the physical lines the record spans (more than one with quoted line breaks). */
  record(fields: string[], line: number, lines = 1): void {
    if (!this.headerSeen) {
      this.headerSeen = true;
      if (isBlank(fields)) throw ExportError.at(this.location, 'first line is empty; expected a header row', { line });
      ({ keys: this.keys, indexes: this.indexes } = headerIndexes(fields, this.format, this.location));
      this.width = fields.length;
      this.names = fields.map(headerName);
      return;
    }
    const { keys, indexes, width, report } = this;
    if (this.shortLine !== 0) {
      this.rejectRecord(this.shortLine, this.shortLines, this.shortReason());
      this.shortLine = 0;
    }
    if (isBlank(fields)) return;
    if (fields.length < width) {
      this.shortLine = line;
      this.shortWidth = fields.length;
      this.shortLines = lines;
      return;
    }
    if (fields.length !== width) {
      // Probably an unquoted comma: the values would land in the wrong columns.
      this.rejectRecord(line, lines, `row has ${fields.length} columns, the header has ${width}`);
      return;
    }
    report.rows += 1;
    if (this.repeatsHeader(fields)) {
      // Read as data it became a client "customer_id", a product "sku" (values of the file: not quoted).
      this.reject(line, 'row repeats the header (the column names): two exports joined into one file, or a header written with each part of it?');
      return;
    }
    const values: RowValues = {};
    for (let i = 0; i < keys.length; i++) values[keys[i] as string] = cleanCsvValue(fields[indexes[i] as number]);
    this.sink.row(values, line);
  }

  /**
   * The file ended: a short last record means it was cut off, and so does a last record without
   * its line ending (`unterminatedLine`, its line): its last field may be cut to a valid value.
   * Unless the manifest lists the file (`listed`): its rows and sha256 prove it whole (checkFile),
   * for a platform that writes no final line ending; or it was merged before, checked so then.
   */
  end(unterminatedLine: number | undefined, file: Pick<ThreadedFile, 'listed' | 'mergedBefore'>): void {
    if (this.shortLine !== 0) {
      throw ExportError.at(this.location, `is truncated: its last record has ${this.shortWidth} of the header's ${this.width} columns`, { line: this.shortLine });
    }
    if (unterminatedLine !== undefined && file.listed === undefined && file.mergedBefore !== true) {
      throw ExportError.at(
        this.location,
        `is truncated: its last record does not end with a line ending (a file cut short?). Every record, the last too, must end with one, unless ${MANIFEST_NAME} lists the file with its sha256`,
        { line: unterminatedLine },
      );
    }
  }

  /** A block ended: its short last record (if any), a reject if another record follows it. */
  takeShort(): ShortRecord | undefined {
    if (this.shortLine === 0) return undefined;
    const short = { line: this.shortLine, lines: this.shortLines, reason: spannedReason(this.shortLine, this.shortLines, this.shortReason()) };
    this.shortLine = 0;
    return short;
  }

  /** Whether a record of the header's width has its names for cells (the first compared first: cheap). */
  private repeatsHeader(fields: string[]): boolean {
    const { names } = this;
    const first = fields[0] as string;
    if (first.length < (names[0] as string).length || !isHeaderName(first, names[0] as string)) return false;
    for (let i = 1; i < names.length; i++) if (!isHeaderName(fields[i] as string, names[i] as string)) return false;
    return true;
  }

  private shortReason(): string {
    return `row has ${this.shortWidth} columns, the header has ${this.width}`;
  }

  /**
   * A record of the wrong width is rejected as one row per line it spans: a quote opened and not
   * closed where it should be merges the lines up to a later quote into one record, and counted
   * as one row, their loss would hide under the reject share. Each line is listed.
   */
  private rejectRecord(line: number, lines: number, reason: string): void {
    this.report.rows += lines;
    if (lines > 1) this.report.spannedLines = (this.report.spannedLines ?? 0) + lines - 1;
    const listed = spannedReason(line, lines, reason);
    for (let i = 0; i < lines; i++) this.reject(line + i, listed);
  }
}

/** The reason of a rejected record, said of each line when it spans several (CsvRows.rejectRecord). */
function spannedReason(line: number, lines: number, reason: string): string {
  if (lines === 1) return reason;
  return `${reason}: one record over lines ${line} to ${line + lines - 1} (a quote opened and not closed?), each of its ${lines} lines counted as a rejected row`;
}

/** A record of empty or blank fields only: a blank line, or Shopify's ",,,,," filler. */
function isBlank(fields: string[]): boolean {
  for (const field of fields) if (field !== '' && field.trim() !== '') return false;
  return true;
}

const NOT_JSON = Symbol('not JSON');

/** What topLevelShape finds in a JSON object's text. */
export interface ObjectShape {
  /** Its members, names given twice counted twice. */
  members: number;
  /** The text of each member whose value is a number, by the member's name; undefined when none is. */
  numbers: Map<string, string> | undefined;
}

/**
 * The shape of a JSON object's text at its top level: its colons outside strings and nested
 * values, and after each the number as written, if the value is one. Only for text JSON.parse
 * has read as an object. (JSON.parse's reviver gives a number's text too, context.source, but
 * makes the parse three to four times slower; this scan is read anyway, for the members.)
 */
export function topLevelShape(text: string): ObjectShape {
  let depth = 0;
  let members = 0;
  let numbers: Map<string, string> | undefined;
  let inString = false;
  // The last string read: at a top-level colon, the member's name.
  let stringStart = 0;
  let stringEnd = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c) i++; // a backslash escapes the next character
      else if (code === 0x22) {
        inString = false;
        stringEnd = i;
      }
    } else if (code === 0x22) {
      inString = true;
      stringStart = i + 1;
    } else if (code === 0x7b || code === 0x5b) depth++;
    else if (code === 0x7d || code === 0x5d) depth--;
    else if (code === 0x3a && depth === 1) {
      members++;
      let start = i + 1;
      while (isJsonSpace(text.charCodeAt(start))) start++;
      let end = start;
      while (isNumberChar(text.charCodeAt(end))) end++;
      if (end > start) {
        const raw = text.slice(stringStart, stringEnd);
        const name = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
        (numbers ??= new Map()).set(name, text.slice(start, end));
        i = end - 1;
      }
    }
  }
  return { members, numbers };
}

function isJsonSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

/** A character of a JSON number: digits, sign, point, exponent. */
function isNumberChar(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || code === 0x2d || code === 0x2b || code === 0x2e || code === 0x65 || code === 0x45;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A UTF-16 surrogate not in a pair (with the u flag, a pair is one code point and does not match). */
const LONE_SURROGATE = /\p{Cs}/u;

async function readJsonlFile(
  bytes: Readable,
  location: string,
  format: RowFormat,
  sink: RowSink,
  reject: RejectRow,
  report: FileReport,
): Promise<void> {
  // Rows nearly always name the same fields in the same order: their columns are matched once.
  let names: string[] = [];
  let positions = columnPositions(names, format.columns);
  let started = false;
  // A line that is not JSON is a bad row, unless it is the last one: a file cut off mid-object
  // ends that way. So it is only rejected once another line follows.
  let brokenLine = 0;
  await readLines(bytes, (text, line) => {
    if (text.length === 0 || text.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = NOT_JSON;
    }
    const isObject = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
    if (!started) {
      // The first row decides whether this is JSONL at all; afterwards a bad line is one bad row.
      if (!isObject) throw ExportError.at(location, 'is not JSONL: the first line is not a JSON object', { line });
      started = true;
    }
    if (brokenLine !== 0) {
      reject(brokenLine, 'invalid JSON');
      brokenLine = 0;
    }
    report.rows += 1;
    if (!isObject) {
      // Never quote the line or JSON.parse's message: both may contain personal data.
      if (parsed === NOT_JSON) brokenLine = line;
      else reject(line, 'not a JSON object');
      return;
    }
    const object = parsed as Record<string, unknown>;
    const shape = topLevelShape(text);
    const fields = Object.keys(object);
    if (shape.members !== fields.length) {
      // JSON.parse keeps the last of a name given twice: whether that is the one meant cannot be told.
      reject(line, 'a field appears more than once in the object');
      return;
    }
    if (!sameNames(fields, names)) {
      names = fields;
      positions = columnPositions(names, format.columns);
    }
    const { keys, indexes, twice } = positions;
    if (twice !== undefined) {
      reject(line, `has ${twice.count} fields named "${twice.column}" (case aside): which one holds the value cannot be told`);
      return;
    }
    const values: RowValues = {};
    // Only a \u escape can give a lone surrogate (decoded UTF-8 never does): two ids that differ by one are stored as one.
    const escaped = text.includes('\\u');
    for (let i = 0; i < keys.length; i++) {
      const name = names[indexes[i] as number] as string;
      const value = object[name];
      if (escaped && typeof value === 'string' && LONE_SURROGATE.test(value)) {
        reject(line, `${keys[i] as string}: not text (an escaped lone UTF-16 surrogate)`);
        return;
      }
      // A number is read as written, the cell CSV would have: through a double, an 18-digit id rounds into another's.
      values[keys[i] as string] = cleanJsonValue(typeof value === 'number' ? (shape.numbers?.get(name) ?? value) : value);
    }
    sink.row(values, line);
  });
  if (brokenLine !== 0) throw ExportError.at(location, 'is truncated: its last line is not a complete JSON object', { line: brokenLine });
}

async function readManifest(source: ExportSource, key: string): Promise<Manifest> {
  const location = source.location(key);
  let text: string;
  try {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of (await source.open(key)) as AsyncIterable<Buffer | string>) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buffer.length;
      if (size > MAX_MANIFEST_BYTES) throw ExportError.at(location, `is larger than ${MAX_MANIFEST_BYTES} bytes; not a manifest`);
      chunks.push(buffer);
    }
    text = Buffer.concat(chunks).toString('utf8').replace(/^\uFEFF/, '');
  } catch (error) {
    if (error instanceof ExportError) throw error;
    throw ExportError.at(location, `cannot be read: ${messageOf(error)}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw ExportError.at(location, 'is not valid JSON');
  }
  const result = manifestSchema.safeParse(json);
  if (!result.success) {
    throw ExportError.at(location, `is not a valid manifest: ${issuesText(result.error, '(root)', 5)}`);
  }
  return result.data;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
