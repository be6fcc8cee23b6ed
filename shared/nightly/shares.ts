import type { Config } from '#shared/config.ts';
import {
  checkNoSharedLines,
  ExportError,
  checkNoTwins,
  comparesOrderLines,
  MAX_KEPT_REJECTS,
  MAX_KEPT_WARNINGS,
  planExport,
  readPlannedFiles,
  readResultOf,
  type ExportPlan,
  type FilesRead,
  type FieldWarning,
  type FileReport,
  type PlannedFile,
  type ReadResult,
} from '#shared/exports/reader.ts';
import { defaultReaderThreads } from '#shared/exports/file-threads.ts';
import { OrderLineHashes } from '#shared/exports/line-hashes.ts';
import type { ExportSource } from '#shared/exports/source.ts';
import type { ExportHandlers, ExportKind, RowPosition } from '#shared/exports/types.ts';
import type { Log } from '#shared/log.ts';
import type { AdvisorRecord, CustomerRecord, OrderLine, ProductRecord, Reject } from '#shared/model.ts';
import { runClock } from '#shared/tiering/profile.ts';
import { NightlyRunError, notFullSnapshot, type NightHandlers } from './run.ts';
import { customerShardKey, isKeyedByIdInEmailExport, orderLineShardKey, shardKeySchemeOf, shardOf, type ShardKeyScheme } from './shards.ts';
import type { CustomerRow, EmaillessCustomers } from './split-customers.ts';
import type { PlannedConfig } from './repeat.ts';
import { NightRefusedError } from './admission.ts';
import { BucketWriter, chunkBytesFor, chunkSha256, forEachChunkRecord, type BucketChunk, type BucketFile } from './bucket-chunks.ts';
import { requireWork, requireWorkDecoded, requireWorkJson, unreadableWork, type WorkStore } from './work-store.ts';

/**
 * How a sharded night divides the reading of the export, not only its memory: a first phase,
 * repartition, before the shards measure and write.
 *
 *  - planShares (prepare, once): the export listed once, its files in reading order, each file
 *    given whole to one of R readers (balanced by bytes; R is N, or more when N readers could not
 *    share the files evenly, readerCountFor): plan.json.
 *  - repartitionShare (reader r): the real reader over r's files only (every check, rejects and
 *    warnings with their true file and line, the order lines' hashes; its orders parts in worker
 *    threads as a single run reads them), each accepted record routed to bucket shardOf(its
 *    client's key, N): chunks of batches per (bucket, file), the file's own line kept with each
 *    record (bucket-chunks.ts). Products go to every bucket.
 *    What the reader found (file reports, rejects, warnings, chunk list with each chunk's
 *    sha256) is share-<r>.json, written last; the line hashes (Shopify's: its orders' keys, with
 *    their lines) line-hashes-<r>.bin.
 *  - readBucket (shard b, measure and write): the chunks of bucket b from every reader, in the
 *    export's file order, handed to the same handlers as a single run's reader, positions the
 *    original file and line: customers come before orders and the last customer row wins, as in
 *    one process. Each chunk's bytes are checked against the sha256 its reader recorded before
 *    any is parsed; its records are not validated again: the readers did.
 *  - checkShares (combine): what needs every file at once, as readExport does at its end: no two
 *    files with the same content, no order line in two parts, no Shopify order read twice; then
 *    reject shares (admission).
 *
 * Records rather than the rows' raw bytes: a Shopify order spans rows (its first row carries the
 * order's columns and may hold no line item), so its rows are only accepted as a group; the
 * records are what the reader accepted, already converted, and a bucket read parses nothing.
 */

/** Kept in plan.json for the run: the export's files and who reads each. */
export interface SharePlan {
  runId: string;
  shards: number;
  /** The export as described (the summary's `source`). */
  source: string;
  scheme: ShardKeyScheme;
  export: ExportPlan;
  /** How many readers share the files (readerCountFor): the repartition's items. */
  readers: number;
  /** readerOf[i]: the reader of the plan's file i. */
  readerOf: number[];
  /** The configuration the night was planned under; absent in plans written before it was recorded. */
  plannedUnder?: PlannedConfig;
}

/** share-<r>.json: what reader r read. */
export interface ShareFigures {
  runId: string;
  reader: number;
  /** The reports of the reader's files, with their plan indexes. */
  files: { index: number; report: FileReport }[];
  /** The first rejects and warnings of its files, in reading order (each list capped as one reader caps it). */
  rejects: Reject[];
  warnings: FieldWarning[];
  /** chunks[b]: bucket b's objects from this reader, in file and chunk order. */
  chunks: BucketChunk[][];
  /** Customer rows of an email-keyed export without an email the reader read, listed in emailless-customers-<r>.json when there are some (split-customers.ts); absent when none. */
  emaillessCustomers?: number;
  readMs: number;
}

const PLAN_KEY = 'plan.json';
const shareKey = (reader: number) => `shares/share-${reader}.json`;
const lineHashesKey = (reader: number) => `shares/line-hashes-${reader}.bin`;
const emaillessCustomersKey = (reader: number) => `shares/emailless-customers-${reader}.json`;

/** A file's weight in the shares: its bytes; an unsized file weighs a byte (it still goes somewhere, and the sizes decide the rest). */
function shareWeight(size: number | undefined): number {
  return Math.max(size ?? 0, 1);
}

/**
 * The reader of each file: the biggest files first, each to the reader with the fewest bytes so
 * far (the lowest index on a tie). A function of the sizes alone: the same listing, the same shares.
 */
export function assignShares(sizes: readonly (number | undefined)[], readers: number): number[] {
  const load = new Array<number>(readers).fill(0);
  const readerOf = new Array<number>(sizes.length).fill(0);
  const weight = (i: number) => shareWeight(sizes[i]);
  const order = [...sizes.keys()].sort((a, b) => weight(b) - weight(a) || a - b);
  for (const file of order) {
    let least = 0;
    for (let r = 1; r < readers; r++) if ((load[r] as number) < (load[least] as number)) least = r;
    readerOf[file] = least;
    load[least] = (load[least] as number) + weight(file);
  }
  return readerOf;
}

/** The most bytes any reader reads when `sizes` are shared between `readers` (assignShares). */
function heaviestShare(sizes: readonly (number | undefined)[], readers: number): number {
  const load = new Array<number>(readers).fill(0);
  assignShares(sizes, readers).forEach((reader, file) => (load[reader] = (load[reader] as number) + shareWeight(sizes[file])));
  return Math.max(...load);
}

/** How far above the even share (or the biggest file) a reader may read before readers are added. */
export const READER_SLACK = 1.1;

/**
 * How many readers share the files of a night of `shards` shards: the shard count, unless one of
 * them would read more than READER_SLACK times its even share (the total over `shards`) or the
 * biggest file, whichever is more; then the fewest readers, up to twice the shard count, that
 * bring the heaviest share down to that, or else the most even. A night waits for its slowest
 * reader: at 1M clients, an export of four 262 MB orders parts and a 117 MB customers file on 4
 * readers gave one of them a part and the customers (12 s against 6.5 s for a part alone);
 * 5 readers read one file each. Whole files only: a reader does not share a file.
 */
export function readerCountFor(sizes: readonly (number | undefined)[], shards: number): number {
  const weights = sizes.map(shareWeight);
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const enough = Math.max(total / shards, ...weights, 0) * READER_SLACK;
  const most = Math.max(shards, Math.min(2 * shards, sizes.length));
  let best = shards;
  let bestLoad = heaviestShare(sizes, shards);
  for (let readers = shards + 1; readers <= most && bestLoad > enough; readers++) {
    const load = heaviestShare(sizes, readers);
    if (load < bestLoad) {
      best = readers;
      bestLoad = load;
    }
  }
  return best;
}

/** Prepare: the export's plan (readExport's listing and manifest checks) and its shares, stored. */
export async function planShares(
  store: WorkStore,
  run: { runId: string; shards: number; exportRules: Pick<Config['exports'], 'requireManifest'>; plannedUnder: PlannedConfig },
  source: ExportSource,
): Promise<SharePlan> {
  const exportPlan = await planExport(source, run.exportRules);
  if (exportPlan.mode !== 'full') throw notFullSnapshot(source.describe());
  const mixed = mixedOrderFormatsRefusal(exportPlan.files, run.shards);
  if (mixed !== undefined) throw mixed;
  const sizes = exportPlan.files.map((file) => file.size);
  const readers = readerCountFor(sizes, run.shards);
  const plan: SharePlan = {
    runId: run.runId,
    shards: run.shards,
    source: source.describe(),
    scheme: shardKeySchemeOf(exportPlan.files),
    export: exportPlan,
    readers,
    readerOf: assignShares(sizes, readers),
    plannedUnder: run.plannedUnder,
  };
  await store.put(PLAN_KEY, JSON.stringify(plan), 'application/json');
  return plan;
}

/**
 * Generic orders files beside Shopify's: the export is keyed by email (Shopify's lines name the
 * client by email only), while a generic line names its client by id, whose customer row went to
 * its email's shard; no shard could link the line. A single run links both, so a sharded night of
 * such an export is refused before anything is read. Pure.
 */
export function mixedOrderFormatsRefusal(files: readonly Pick<PlannedFile, 'kind' | 'format' | 'name'>[], shards: number): NightRefusedError | undefined {
  if (shards === 1 || shardKeySchemeOf(files) !== 'email') return undefined;
  const generic = files.filter((file) => file.kind === 'orders' && file.format !== 'shopify').map((file) => file.name);
  if (generic.length === 0) return undefined;
  return new NightRefusedError(
    `a sharded night cannot read Shopify orders beside generic orders files (${generic.join(', ')}): Shopify's lines name the client by email, ` +
      "generic ones by customer id, and a client's rows would fall to different shards. Nothing read or written: run this night as one shard " +
      '(clientele run nightly without --shards, or nightlyShards 1).',
  );
}

export async function readPlan(store: WorkStore, run: { runId: string; shards: number }): Promise<SharePlan> {
  // Our own object, written by planShares of this run: check it is, not its whole shape.
  const plan = (await requireWorkJson(store, PLAN_KEY, 'the plan of the night', run.runId)) as Partial<SharePlan>;
  if (plan.runId !== run.runId || plan.shards !== run.shards) {
    throw new NightlyRunError(`plan.json of run ${run.runId} belongs to run ${String(plan.runId)} with ${String(plan.shards)} shards`);
  }
  if (!Number.isInteger(plan.readers) || (plan.readers as number) < run.shards) throw new NightlyRunError(`plan.json of run ${run.runId} names ${String(plan.readers)} readers`);
  return plan as SharePlan;
}

/**
 * A failed read's place in the export's reading order (the plan's file order, in which one
 * reader meets its failures: repartitionShare): the plan index of the file an export error names,
 * else (a bug, an outage) that of the reader's first file. Of several readers' failures a night
 * reports the lowest, the one a single read of the whole export would have met.
 */
export function readFailureOrder(plan: { export: { files: readonly Pick<PlannedFile, 'key'>[] }; readerOf: readonly number[] }, source: Pick<ExportSource, 'location'>, reader: number, error: unknown): number {
  if (error instanceof ExportError) {
    const index = plan.export.files.findIndex((file) => source.location(file.key) === error.file);
    if (index >= 0) return index;
  }
  const first = plan.readerOf.indexOf(reader);
  return first >= 0 ? first : plan.export.files.length;
}

export interface RepartitionContext {
  runId: string;
  runDate: string;
  config: Config;
  log: Log;
  onProgress?: (bytesRead: number) => void;
  /** Worker threads for the reading (ReadOptions.threads); by default as many as readExport would use. */
  threads?: number;
}

/** Repartition: reader `reader` reads its files and routes their records to the buckets. */
export async function repartitionShare(context: RepartitionContext, store: WorkStore, source: ExportSource, plan: SharePlan, reader: number): Promise<ShareFigures> {
  const started = performance.now();
  const { config, runDate, log } = context;
  const { shards, scheme } = plan;
  if (!(Number.isInteger(reader) && reader >= 0 && reader < plan.readers)) throw new NightlyRunError(`reader ${reader} of a plan with ${plan.readers} readers`);
  const only = [...plan.readerOf.keys()].filter((i) => plan.readerOf[i] === reader);
  const writer = new BucketWriter(store, reader, shards, chunkBytesFor(shards));
  const fileOf = new Map(plan.export.files.map((file, index): [string, BucketFile] => [source.location(file.key), { index, name: file.name, kind: file.kind }]));
  const fileAt = (at: RowPosition): BucketFile => {
    const file = fileOf.get(at.file);
    if (file === undefined) throw new NightlyRunError(`a row of ${at.file}, which is not in the plan`);
    return file;
  };
  const toEveryBucket = (record: ProductRecord | AdvisorRecord, at: RowPosition) => {
    const file = fileAt(at);
    for (let bucket = 0; bucket < shards; bucket++) writer.record(file, bucket, record, at.line);
  };
  const emailless: EmaillessCustomers = { customerIds: [], files: [], lines: [] };
  const handlers: ExportHandlers = {
    customer: (record, at) => {
      const file = fileAt(at);
      if (isKeyedByIdInEmailExport(record, scheme)) {
        emailless.customerIds.push(record.customerId);
        emailless.files.push(file.index);
        emailless.lines.push(at.line);
      }
      writer.customer(file, shardOf(customerShardKey(record, scheme), shards), record, at.line);
    },
    order: (line, at) => writer.order(fileAt(at), shardOf(orderLineShardKey(line, scheme), shards), line, at.line),
    // Products and the advisors roster belong to no client: every shard gets them whole.
    product: (record, at) => toEveryBucket(record, at),
    advisor: (record, at) => toEveryBucket(record, at),
  };
  const lineHashes = comparesOrderLines(plan.export) ? new OrderLineHashes() : undefined;
  log.info('reading share of the export', { reader, readers: plan.readers, files: only.length, shards });
  const threads = context.threads ?? defaultReaderThreads(only.map((i) => plan.export.files[i] as ExportPlan['files'][number]), undefined, { customersBesideOrders: true });
  const orders = only.filter((i) => plan.export.files[i]?.kind === 'orders');
  const others = only.filter((i) => plan.export.files[i]?.kind !== 'orders');
  // The bucket writer takes rows in any order, so the customers need not all come before the
  // first order line as a single run's aggregation needs them: with two threads or more, the
  // customers (one thread) and the orders parts (the others) are read at once. Orders come last
  // in the plan: the two reads' files, rejects and warnings, one after the other, are in plan order.
  const reads: { only: number[]; threads: number }[] =
    threads >= 2 && orders.length > 0 && others.length > 0
      ? [
          { only: others, threads: 1 },
          { only: orders, threads: threads - 1 },
        ]
      : [{ only, threads }];
  const bytesRead = reads.map(() => 0);
  const settled = await Promise.allSettled(
    reads.map((group, g) =>
      readPlannedFiles(
        source,
        plan.export,
        handlers,
        {
          config,
          now: runClock(runDate, config.timeZone).now,
          // Reject shares are checked once every file and the unknown customers' lines are counted (admission).
          checkRejectShares: false,
          threads: group.threads,
          ...(context.onProgress
            ? {
                onProgress: (bytes: number) => {
                  bytesRead[g] = bytes;
                  context.onProgress?.(bytesRead.reduce((sum, n) => sum + n, 0));
                },
              }
            : {}),
        },
        { only: group.only, lineHashes },
      ),
    ),
  );
  // Both reads, and the chunk writes they started, end before the share fails: nothing lands
  // behind a retry. The first failure in plan order is the one a single read would have met.
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed) {
    await writer.abandon();
    throw failed.reason;
  }
  const read = (settled as PromiseFulfilledResult<FilesRead>[]).map((result) => result.value);
  const chunks = await writer.finish();
  if (lineHashes) await store.put(lineHashesKey(reader), lineHashes.encode(), 'application/octet-stream');
  if (emailless.customerIds.length > 0) await store.put(emaillessCustomersKey(reader), JSON.stringify(emailless), 'application/json');
  const indexes = reads.flatMap((group) => group.only);
  const reports = read.flatMap((r) => r.files);
  const figures: ShareFigures = {
    runId: context.runId,
    reader,
    files: reports.map((report, i) => ({ index: indexes[i] as number, report })),
    rejects: read.flatMap((r) => r.rejects).slice(0, MAX_KEPT_REJECTS),
    warnings: read.flatMap((r) => r.warnings).slice(0, MAX_KEPT_WARNINGS),
    chunks,
    ...(emailless.customerIds.length > 0 ? { emaillessCustomers: emailless.customerIds.length } : {}),
    readMs: Math.round(performance.now() - started),
  };
  // Last: its presence says the share is complete.
  await store.put(shareKey(reader), JSON.stringify(figures), 'application/json');
  log.info('share repartitioned', { reader, files: only.length, rows: reports.reduce((n, f) => n + f.rows, 0), readMs: figures.readMs });
  return figures;
}

/** Every reader's figures, checked to cover the plan's files once each. */
export async function readShares(store: WorkStore, plan: SharePlan): Promise<ShareFigures[]> {
  const shares = await Promise.all(
    Array.from({ length: plan.readers }, async (_, reader) => {
      const share = (await requireWorkJson(store, shareKey(reader), `the share of reader ${reader}/${plan.readers}`, plan.runId)) as ShareFigures;
      if (share.runId !== plan.runId || share.reader !== reader) throw new NightlyRunError(`${store.describe(shareKey(reader))} belongs to run ${share.runId}, reader ${share.reader}`);
      return share;
    }),
  );
  const seen = new Array<number>(plan.export.files.length).fill(0);
  for (const share of shares) for (const { index } of share.files) seen[index] = (seen[index] ?? 0) + 1;
  const wrong = seen.findIndex((n) => n !== 1);
  if (wrong !== -1) throw new NightlyRunError(`file ${plan.export.files[wrong]?.name ?? wrong} was read ${seen[wrong]} times by the shares of run ${plan.runId}`);
  return shares;
}

/** Every reader's email-less customer rows (split-customers.ts): read only from the readers that found some. */
export async function readEmaillessCustomers(store: WorkStore, plan: SharePlan, shares: readonly ShareFigures[]): Promise<EmaillessCustomers[]> {
  return Promise.all(
    shares.flatMap(({ reader, emaillessCustomers: count }) => (count === undefined ? [] : [{ reader, count }])).map(async ({ reader, count }) => {
      const what = `the email-less customer rows of reader ${reader}/${plan.readers}`;
      // Our own object, written by repartitionShare of this run: check its columns agree with the share.
      const list = (await requireWorkJson(store, emaillessCustomersKey(reader), what, plan.runId)) as Partial<EmaillessCustomers>;
      const { customerIds, files, lines } = list;
      if (!Array.isArray(customerIds) || customerIds.length !== count || !Array.isArray(files) || files.length !== count || !Array.isArray(lines) || lines.length !== count) {
        throw unreadableWork(store, emaillessCustomersKey(reader), `it does not list the ${count} rows its share counts`);
      }
      return { customerIds, files, lines };
    }),
  );
}

/**
 * The customer rows of `customerIds` in every bucket, with their file, line and bucket: read only
 * to name them when the night is refused (split-customers.ts, heldTwiceRefusal), never on a night
 * that goes on. Customers' chunks only.
 */
export async function customerRowsOf(store: WorkStore, plan: SharePlan, shares: readonly ShareFigures[], customerIds: ReadonlySet<string>): Promise<CustomerRow[]> {
  const rows: CustomerRow[] = [];
  for (let bucket = 0; bucket < plan.shards; bucket++) {
    for (const chunk of shares.flatMap((share) => share.chunks[bucket] ?? [])) {
      if (plan.export.files[chunk.file]?.kind !== 'customers') continue;
      const note = (customerId: string, line: number) => {
        if (customerIds.has(customerId)) rows.push({ customerId, file: chunk.file, line, shard: bucket });
      };
      forEachChunkRecord(await requireWork(store, chunk.key, `bucket ${bucket} chunk`, plan.runId), 'customers', {
        record: (record, line) => note((record as CustomerRecord).customerId, line),
        packedCustomer: (customerId, _packed, line) => note(customerId, line),
      });
    }
  }
  return rows;
}

/** Rejects or warnings of every reader, in the export's file order, capped as one reader caps them. */
function inFileOrder<T extends { file: string }>(lists: readonly T[][], fileIndex: ReadonlyMap<string, number>, max: number): T[] {
  // Stable: within a file, the reader's own order.
  return lists
    .flat()
    .sort((a, b) => (fileIndex.get(a.file) ?? 0) - (fileIndex.get(b.file) ?? 0))
    .slice(0, max);
}

/** The export's read figures as one reader of every file would have returned them. */
export function combinedRead(plan: SharePlan, shares: readonly ShareFigures[]): ReadResult {
  const files: FileReport[] = new Array<FileReport>(plan.export.files.length);
  for (const share of shares) for (const { index, report } of share.files) files[index] = report;
  const fileIndex = new Map(files.map((report, index) => [report.location, index]));
  return readResultOf(
    {
      files,
      rejects: inFileOrder(shares.map((s) => s.rejects), fileIndex, MAX_KEPT_REJECTS),
      warnings: inFileOrder(shares.map((s) => s.warnings), fileIndex, MAX_KEPT_WARNINGS),
    },
    plan.export.mode,
  );
}

/** Combine: what needs every file at once, as readExport checks it after its last file. */
export async function checkShares(store: WorkStore, plan: SharePlan, read: ReadResult): Promise<void> {
  checkNoTwins(read.files);
  if (!comparesOrderLines(plan.export)) return;
  const lineHashes = new OrderLineHashes();
  for (let reader = 0; reader < plan.readers; reader++) {
    // A reader without an orders file stored no hashes.
    if (!plan.readerOf.some((r, i) => r === reader && plan.export.files[i]?.kind === 'orders')) continue;
    await requireWorkDecoded(store, lineHashesKey(reader), `the order line hashes of reader ${reader}/${plan.readers}`, plan.runId, (bytes) => lineHashes.absorb(bytes));
  }
  checkNoSharedLines(read.files, lineHashes);
}

/**
 * Chunks fetched ahead of the one handed over. A GET from S3 takes longer than handing a chunk's
 * records over (~12 ms a 1 MB chunk at 1M clients on 4 shards, 2 cores; more on a Lambda's one
 * vCPU), so few ahead leave the read waiting on the network. Each is at most ~1 MB
 * (chunkBytesFor): this holds ~5 MB of chunks at most.
 */
export const CHUNKS_AHEAD = 4;

/**
 * Shard b's rows: bucket b's chunks from every reader, in the export's file order, handed to
 * `handlers` with their original file and line. The next CHUNKS_AHEAD chunks are fetched while
 * one is handed over.
 */
export async function readBucket(store: WorkStore, plan: SharePlan, shares: readonly ShareFigures[], bucket: number, handlers: NightHandlers): Promise<void> {
  const chunks = shares.flatMap((share) => share.chunks[bucket] ?? []);
  // One reader per file, its chunks in order: sorting by file (stable) is the export's order.
  chunks.sort((a, b) => a.file - b.file);
  const locations = new Map(shares.flatMap((share) => share.files.map(({ index, report }) => [index, report.location] as const)));
  // The chunks asked for and not yet handed over, in order.
  const ahead: Promise<Uint8Array>[] = [];
  let asked = 0;
  for (const chunk of chunks) {
    while (asked < chunks.length && ahead.length <= CHUNKS_AHEAD) {
      const fetching = requireWork(store, (chunks[asked++] as BucketChunk).key, `bucket ${bucket} chunk`, plan.runId);
      // Each is awaited in turn: one that fails after an earlier chunk failed the read is not unhandled.
      fetching.catch(() => undefined);
      ahead.push(fetching);
    }
    const bytes = await (ahead.shift() as Promise<Uint8Array>);
    // Before a frame is parsed: a byte changed in an amount still parses, into another amount.
    const sha256 = chunkSha256(bytes);
    if (sha256 !== chunk.sha256) {
      throw unreadableWork(store, chunk.key, `its ${bytes.length} bytes have sha256 ${sha256}, its reader recorded ${String(chunk.sha256)}`);
    }
    const kind = plan.export.files[chunk.file]?.kind as ExportKind;
    const position = { file: locations.get(chunk.file) ?? '', line: 0 };
    // Our own records, as the reader accepted them: not validated again.
    const handOf: Record<ExportKind, (record: unknown) => void> = {
      customers: (record) => handlers.customer(record as CustomerRecord, position),
      orders: (record) => handlers.order(record as OrderLine, position),
      products: (record) => handlers.product(record as ProductRecord, position),
      advisors: (record) => handlers.advisor?.(record as AdvisorRecord, position),
    };
    const hand = handOf[kind];
    const { packedCustomer } = handlers;
    let count: number;
    try {
      count = forEachChunkRecord(bytes, kind, {
        record: (record, line) => {
          position.line = line;
          hand(record);
        },
        ...(packedCustomer && {
          packedCustomer: (customerId: string, packed: string, line: number) => {
            position.line = line;
            packedCustomer(customerId, packed, position);
          },
        }),
      });
    } catch (error) {
      throw error instanceof NightlyRunError ? new NightlyRunError(`${store.describe(chunk.key)}: ${error.message}`) : error;
    }
    if (count !== chunk.records) throw new NightlyRunError(`${store.describe(chunk.key)} holds ${count} records, its reader wrote ${chunk.records}`);
  }
}
