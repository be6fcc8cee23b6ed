import { z } from 'zod';
import type { Config } from '#shared/config.ts';
import { ClienteleError } from '#shared/errors.ts';
import type { ExportSource } from '#shared/exports/source.ts';
import { newRunId } from '#shared/log.ts';
import { reportsBucket, runWorkPrefix } from '#shared/store/buckets.ts';
import { isErased } from '#shared/store/erasure-store.ts';
import { isoDateSchema } from '#shared/time.ts';
import { decodeMeasures, encodeMeasures } from './measures-codec.ts';
import { confirmWriter, type ShardFigures } from './admission.ts';
import {
  admitShards,
  collectShard,
  combineMeasures,
  defaultExportSource,
  exportRejected,
  finishNight,
  followShard,
  loadShardBase,
  measureShard,
  NightlyRunError,
  writeShard,
  type NightContext,
  type NightModels,
  type ShardFollowed,
  type ShardOutcome,
  type ShardRead,
} from './run.ts';
import { checkShares, combinedRead, customerRowsOf, planShares, readBucket, readEmaillessCustomers, readPlan, readShares, repartitionShare, type SharePlan } from './shares.ts';
import { customersHeldTwice, heldTwiceRefusal, splitCustomersOf, splitCustomersRefusal } from './split-customers.ts';
import type { KeyMoved, NightBase } from './base.ts';
import { requireWorkDecoded, requireWorkJson, s3WorkStore, type WorkStore } from './work-store.ts';
import { withWriteLease, type LeasedWork } from './write-lease.ts';
import { nightRequestSchema, runDateOf } from './run-date.ts';
import { completedRunOf, nightFingerprint, plannedConfigOf, recordRerun, type PlannedConfig } from './repeat.ts';
import { ruleChanges } from './guards.ts';
import type { NightAdmission, NightlyRunSummary } from './summary.ts';
import { isValidShard, MAX_SHARDS, shardKeySchemeOf, shardsOf, type ShardSpec } from './shards.ts';
import { issuesText } from '#shared/zod-issues.ts';

/**
 * The nightly run as separate invocations, one per phase of run.ts and, for repartition, measure
 * and write, one per shard: how the Step Functions state machine runs a sharded night in AWS (a
 * Distributed Map over the shards, infra/constructs/nightly-pipeline.ts):
 *
 *   prepare                the run date, a run id and the shard list, fixed once for the
 *                          execution; the export listed once and its files shared between the
 *                          R readers (N, or more when N could not share them evenly; shares.ts)
 *   repartition (reader r) read r's files (every check), route each accepted record to the
 *                          bucket of its client's shard, store the read's figures
 *   measure (shard i)      read bucket i (shard i's clients, from every reader), store its measures
 *                          and what it followed of the period's campaigns and advisor tasks
 *                          (the send ledger read: followShard)
 *   combine                what needs every file (duplicate parts), then every shard's measures →
 *                          the night's models (RFM cuts, CLV fit) and the checks before any write
 *   write (shard i)        read bucket i again, score shard i with the models, write what changed;
 *                          one attempt at a time per shard, and no other run's beside it (a lease:
 *                          write-lease.ts)
 *   finish                 every shard's outcome → the summary object and the runs table, under a
 *                          lease too
 *
 * An invocation keeps nothing from the one before, so the phases hand over through work objects
 * under <reportsPrefix>/work/nightly/<runDate>/<runId>/ (the stack expires them after a few days):
 *   plan.json, shares/..., bucket-<b>/...  the export's plan, the readers' figures, the buckets (shares.ts)
 *   measures-<i>.bin   shard i's measures (measures-codec.ts), read by combine
 *   figures-<i>.json   shard i's figures for the checks and what it followed, read by combine and write i
 *   models.json        the night's models, read by every write and by finish
 *   outcome-<i>.json   what shard i wrote, read by finish
 * plan.json and models.json record the configuration the night was planned under: each phase reads
 * the one in force when it is invoked, and refuses another (confirmPlannedConfig).
 * Between the states travels only small JSON: Step Functions caps a state's data at 256 KB, and a
 * Map's output is every item's output together (100 outcomes with their file lists and sample
 * rejects would not fit).
 *
 * Each shard reads its bucket twice, once to measure and once to write: its clients as read
 * (every order of every client, the bulk of a run's memory) die with the measure invocation, and
 * the bucket (records, parsed without checks) is the cheapest way to get them back.
 */

const JOB = 'nightly';

/** Part of S3 keys: newRunId's "nightly-1a2b3c4d", or any short id of that alphabet. */
const runIdSchema = z.string().regex(/^[A-Za-z0-9._-]{1,80}$/, 'must be 1 to 80 letters, digits, dots, dashes or underscores');
const shardCountSchema = z.number().int().min(1).max(MAX_SHARDS);
const shardSchema = z
  .object({ index: z.number().int().min(0), count: shardCountSchema })
  .strict()
  .refine(isValidShard, 'shard index must be below the shard count');

export const prepareEventSchema = z
  .object({
    phase: z.literal('prepare'),
    shards: shardCountSchema,
    /** The execution's input: the schedule's { scheduledTime }, a backfill's { runDate }, or {} (run-date.ts). */
    request: nightRequestSchema.prefault({}),
  })
  .strict();

/** Readers of a night: at most twice its shards (shares.ts, readerCountFor). */
const readerSchema = z
  .object({ index: z.number().int().min(0), count: z.number().int().min(1).max(2 * MAX_SHARDS) })
  .strict()
  .refine(isValidShard, 'reader index must be below the reader count');

/** Reader `reader.index` of `reader.count` reads its share of the export's files, for a night of `shards` shards. */
export const repartitionEventSchema = z
  .object({ phase: z.literal('repartition'), runDate: isoDateSchema, runId: runIdSchema, shards: shardCountSchema, reader: readerSchema })
  .strict()
  .refine((event) => event.reader.count >= event.shards, 'a night has at least as many readers as shards');

export const measureEventSchema = z.object({ phase: z.literal('measure'), runDate: isoDateSchema, runId: runIdSchema, shard: shardSchema }).strict();

export const combineEventSchema = z
  .object({
    phase: z.literal('combine'),
    runDate: isoDateSchema,
    runId: runIdSchema,
    shards: shardCountSchema,
    /** Epoch milliseconds, from prepare: the night marked as being written says when it started. */
    startedAt: z.number().int().nonnegative(),
    /** From prepare (the execution's input): write the night even if implausible. */
    acceptDrop: z.boolean(),
  })
  .strict();

export const writeEventSchema = z.object({ phase: z.literal('write'), runDate: isoDateSchema, runId: runIdSchema, shard: shardSchema }).strict();

export const finishEventSchema = z
  .object({
    phase: z.literal('finish'),
    runDate: isoDateSchema,
    runId: runIdSchema,
    /** Epoch milliseconds, from prepare: the summary's duration is the whole execution's. */
    startedAt: z.number().int().nonnegative(),
    shards: shardCountSchema,
  })
  .strict();

export const nightlyPhaseEventSchema = z.discriminatedUnion('phase', [
  prepareEventSchema,
  repartitionEventSchema,
  measureEventSchema,
  combineEventSchema,
  writeEventSchema,
  finishEventSchema,
]);

export type NightlyPhaseEvent = z.infer<typeof nightlyPhaseEventSchema>;
/** What the state machine sends for each phase: the CDK construct types its payloads with these. */
export type PrepareEventInput = z.input<typeof prepareEventSchema>;
export type RepartitionEventInput = z.input<typeof repartitionEventSchema>;
export type MeasureEventInput = z.input<typeof measureEventSchema>;
export type CombineEventInput = z.input<typeof combineEventSchema>;
export type WriteEventInput = z.input<typeof writeEventSchema>;
export type FinishEventInput = z.input<typeof finishEventSchema>;

/** A nightly function's event: one phase of a sharded night, or (no `phase`) a whole night. */
export type NightlyEvent = NightlyPhaseEvent | ({ phase: 'single' } & z.infer<typeof nightRequestSchema>);

/** Validates a nightly function's event; a malformed one is an EVENT_INVALID error naming each bad field. */
export function parseNightlyEvent(event: unknown): NightlyEvent {
  const raw: unknown = event ?? {};
  // Dispatch on the key first: a bad phase event gets that phase's messages, not a union's.
  if (typeof raw === 'object' && raw !== null && 'phase' in raw) return validEvent(nightlyPhaseEventSchema.safeParse(raw));
  return { ...validEvent(nightRequestSchema.safeParse(raw)), phase: 'single' };
}

function validEvent<T>(result: z.ZodSafeParseResult<T>): T {
  if (result.success) return result.data;
  throw new ClienteleError('EVENT_INVALID', `Invalid nightly event: ${issuesText(result.error, '(event)')}`, { cause: result.error });
}

/** What prepare fixes for the whole execution; every later phase gets it from the state machine. */
export interface PreparedNight {
  runDate: string;
  runId: string;
  /** Epoch milliseconds. */
  startedAt: number;
  /** The execution input's accept-drop, for the combine step's checks. */
  acceptDrop: boolean;
  /** The measure and write Distributed Maps' items: one per shard. */
  shards: ShardSpec[];
  /** The repartition Distributed Map's items: one per reader (the plan's, planNight). */
  readers: ShardSpec[];
}

/** The night from the execution's input (run-date.ts), a new run id, the handler's clock as the start; its readers come from planNight. */
export function prepareNight(config: Pick<Config, 'timeZone'>, event: z.infer<typeof prepareEventSchema>, handlerNow: number): Omit<PreparedNight, 'readers'> {
  return {
    runDate: runDateOf(event.request, config, handlerNow),
    runId: newRunId(JOB),
    startedAt: handlerNow,
    acceptDrop: event.request.acceptDrop ?? false,
    shards: shardsOf(event.shards),
  };
}

/** The run's work prefix in S3, as a work store. */
export function workStoreOf(context: Pick<NightContext, 'config' | 'clients' | 'runDate' | 'runId'>): WorkStore {
  return s3WorkStore(context.clients.s3, reportsBucket(context.config), runWorkPrefix(context.config, JOB, context.runDate, context.runId));
}

/** The work objects of one run, relative to its work prefix. */
const workKeys = {
  measures: (shard: number) => `measures-${shard}.bin`,
  figures: (shard: number) => `figures-${shard}.json`,
  models: 'models.json',
  outcome: (shard: number) => `outcome-${shard}.json`,
};

/**
 * Prepare, continued: the export listed once (readExport's listing and manifest checks), its
 * files shared between the readers, stored for the repartition (shares.ts); the readers.
 */
export async function planNight(context: NightContext, shards: number, source: ExportSource = defaultExportSource(context)): Promise<{ files: number; readers: ShardSpec[] }> {
  const plan = await planShares(
    workStoreOf(context),
    { runId: context.runId, shards, exportRules: context.config.exports, plannedUnder: plannedConfigOf(context.config) },
    source,
  );
  context.log.info('night planned', { shards, readers: plan.readers, files: plan.export.files.length, scheme: plan.scheme });
  return { files: plan.export.files.length, readers: shardsOf(plan.readers) };
}

/**
 * A sharded night's phases are separate invocations, each under the configuration in force when it
 * is invoked: an execution redriven (or still running) across a deploy would measure, write or
 * finish part of the night under another configuration than the one its models and checks were
 * made under (clients tiered by two sets of thresholds, upgrades no guard judged). So a phase
 * refuses, before it writes anything, a configuration other than the one the night was planned
 * under (as nightFingerprint compares it; a plan that records none is refused too).
 */
function confirmPlannedConfig(context: NightContext, plannedUnder: PlannedConfig | undefined): void {
  const current = plannedConfigOf(context.config);
  if (plannedUnder?.fingerprint === current.fingerprint) return;
  const changes = plannedUnder === undefined ? [] : ruleChanges(plannedUnder.rules, current.rules);
  const what =
    plannedUnder === undefined
      ? 'its plan records no configuration'
      : changes.length > 0
        ? changes.join(', ')
        : 'settings other than the currency, exchange rates, tiers and stages';
  context.log.error('configuration changed since the night was planned: phase refused, nothing written', { rulesChanged: changes.length });
  throw new NightlyRunError(
    `${context.runDate} (run ${context.runId}): the configuration changed since this night was planned (${what}); ` +
      'its models and checks were made under the one it was planned with, and this invocation wrote nothing. ' +
      'Start the night again (a new execution, or clientele run nightly --date): it is planned and checked under the configuration in force.',
  );
}

/** The night's plan, refused when the configuration changed since it was written. */
async function readNightPlan(context: NightContext, store: WorkStore, shards: number): Promise<SharePlan> {
  const plan = await readPlan(store, { runId: context.runId, shards });
  confirmPlannedConfig(context, plan.plannedUnder);
  return plan;
}

/** Which reader of a night of `shards` shards a repartition is. */
export interface RepartitionSpec {
  shards: number;
  reader: ShardSpec;
}

export interface RepartitionReceipt {
  reader: ShardSpec;
  files: number;
  rows: number;
  readMs: number;
}

/** Repartition for reader reader.index: its files read, their records routed to the buckets. */
export async function repartitionToWork(context: NightContext, { shards, reader }: RepartitionSpec, source: ExportSource = defaultExportSource(context)): Promise<RepartitionReceipt> {
  const store = workStoreOf(context);
  const plan = await readNightPlan(context, store, shards);
  if (plan.readers !== reader.count) throw new NightlyRunError(`reader ${reader.index}/${reader.count} of run ${context.runId}, whose plan has ${plan.readers} readers`);
  const share = await repartitionShare(
    { ...context, onProgress: (bytes) => context.onProgress({ step: 'read', done: bytes }) },
    store,
    source,
    plan,
    reader.index,
  ).catch(exportRejected(context.log));
  return { reader, files: share.files.length, rows: share.files.reduce((n, f) => n + f.report.rows, 0), readMs: share.readMs };
}

/**
 * Shard i's clients from bucket i, with the whole export's read figures (every reader's).
 * Refuses the night, before any write, when the shard holds by email a customer whose email-less
 * row went to another shard (split-customers.ts).
 */
export async function bucketShardRead(context: NightContext, store: WorkStore, shard: ShardSpec): Promise<ShardRead> {
  const plan = await readNightPlan(context, store, shard.count);
  const shares = await readShares(store, plan);
  const read = combinedRead(plan, shares);
  const shardRead = await collectShard(context, shard, plan.source, async (handlers) => {
    await readBucket(store, plan, shares, shard.index, handlers);
    return read;
  });
  // After collectShard, which left out the forgotten: one forgotten by id is left out by the id's
  // shard too, but one forgotten by address only by this shard, so it refuses them as split.
  const forgottenByAddress = new Set(shardRead.erasedIds.filter((id) => !isErased(shardRead.erasures, id)));
  const split = splitCustomersOf(
    await readEmaillessCustomers(store, plan, shares),
    shard,
    (id) => shardRead.aggregator.hasCustomerRecord(id),
    (id) => forgottenByAddress.has(id),
  );
  if (split.length > 0) {
    context.log.error('customers listed with and without an email fall to two shards: night refused, nothing written', { customers: split.length, shard: shard.index });
    throw splitCustomersRefusal(split, shard, (file) => plan.export.files[file]?.name ?? `file ${file}`);
  }
  // The shard's reading: reader i's share of the export, then bucket i.
  shardRead.readMs += shares[shard.index]?.readMs ?? 0;
  if (shardKeySchemeOf(plan.export.files) === 'email') shardRead.otherBucket = (bucket, handlers) => readBucket(store, plan, shares, bucket, handlers);
  return shardRead;
}

/**
 * Combine, first: what readExport checks once it has read every file (no two files alike, no
 * order line in two parts), over every reader's files; the export's read figures.
 */
export async function checkWholeExport(context: NightContext, store: WorkStore, shards: number): Promise<NightlyRunSummary['input']['files']> {
  const plan = await readNightPlan(context, store, shards);
  const read = combinedRead(plan, await readShares(store, plan));
  await checkShares(store, plan, read).catch(exportRejected(context.log));
  return read.files;
}

export interface MeasureReceipt {
  shard: ShardSpec;
  measuresObject: string;
  /** The shard's clients with an RFM measure (buyers) and with a CLV summary. */
  rfmBuyers: number;
  clvBuyers: number;
  readMs: number;
}

/** Measure for one shard: its bucket read, measured, the measures stored for combine. */
export async function measureShardToWork(context: NightContext, shard: ShardSpec): Promise<MeasureReceipt> {
  const store = workStoreOf(context);
  const shardRead = await bucketShardRead(context, store, shard);
  const base = await loadShardBase(context, shardRead);
  const { measures, figures } = measureShard(context, shardRead, base);
  const followed = await followShard(context, shardRead);
  const measuresObject = await store.put(workKeys.measures(shard.index), encodeMeasures(measures), 'application/octet-stream');
  const keyMoved = keyMovedOf(shardRead, base);
  const stored: StoredFigures = { figures, unknownCustomerLines: shardRead.unknownCustomers.perFile, followed, ...(keyMoved ? { keyMoved } : {}) };
  await store.put(workKeys.figures(shard.index), JSON.stringify(stored), 'application/json');
  return { shard, measuresObject, rfmBuyers: measures.rfm.orderCount.length, clvBuyers: measures.clv.frequency.length, readMs: shardRead.readMs };
}

/** What a shard measured tells combine of the base's clients whose key moved (split-customers.ts); undefined when none could have. */
export function keyMovedOf(shardRead: Pick<ShardRead, 'read'>, base: Pick<NightBase, 'keyMoved'>): KeyMoved | undefined {
  const { keyMoved } = base;
  // Keyed by id, a client is held where its key sends it: only an export keyed by email moves them.
  if (shardKeySchemeOf(shardRead.read.files) !== 'email' || keyMoved.held.length + keyMoved.left.length === 0) return undefined;
  return keyMoved;
}

/**
 * Combine, before any write: refuses the night when two shards hold the same customer of the
 * base by two emails (split-customers.ts, customersHeldTwice), naming the rows of the first.
 */
export async function refuseCustomersHeldTwice(context: NightContext, store: WorkStore, shards: number, keyMoved: readonly (KeyMoved | undefined)[]): Promise<void> {
  const heldTwice = customersHeldTwice(keyMoved);
  if (heldTwice.length === 0) return;
  const plan = await readNightPlan(context, store, shards);
  const rows = await customerRowsOf(store, plan, await readShares(store, plan), new Set(heldTwice));
  context.log.error('customers listed with two emails fall to two shards: night refused, nothing written', { customers: heldTwice.length });
  throw heldTwiceRefusal(heldTwice, rows, shards, (file) => plan.export.files[file]?.name ?? `file ${file}`);
}

/** figures-<i>.json: what a shard measured for the guards. */
interface StoredFigures {
  figures: ShardFigures;
  /** Order lines of the shard's unknown customers, per file. */
  unknownCustomerLines: Record<string, number>;
  /** The base's clients whose stored key sends them to another shard than tonight's rows (split-customers.ts); absent when none. */
  keyMoved?: KeyMoved;
  /** The shard's campaign tallies and task follow-ups, added up by combine (checked) and finish; absent from figures of earlier versions. */
  followed?: ShardFollowed;
}

/**
 * models.json: the models and the admission with the run they belong to, checked on every read;
 * or, when the night was already completed from the same export and configuration, that night's
 * summary: the writes then do nothing and finish records the rerun (repeat.ts).
 */
type StoredModels = { runId: string; shards: number; plannedUnder: PlannedConfig } & (
  | { models: NightModels; admission: NightAdmission; completed?: undefined }
  | { completed: NightlyRunSummary; models?: undefined; admission?: undefined }
);

export interface CombineReceipt {
  modelsObject: string;
  rfmBuyers: number;
  clv: { fitted: boolean; clients: number; skippedReason?: string };
}

/**
 * Combine: the whole export's checks, then every shard's measures → the night's models; the
 * checks before any write (a refused night fails here, before any shard writes); both stored for
 * the writes and finish.
 */
export async function combineWorkMeasures(context: NightContext, run: { shards: number; startedAt: number }): Promise<CombineReceipt> {
  const { shards } = run;
  const store = workStoreOf(context);
  const files = await checkWholeExport(context, store, shards);
  const measures = await Promise.all(
    shardsOf(shards).map(({ index }) => requireWorkDecoded(store, workKeys.measures(index), `the measures of shard ${index}/${shards}`, context.runId, decodeMeasures)),
  );
  // Our own objects, written by measureShardToWork of this run.
  const figures = await Promise.all(
    shardsOf(shards).map(async ({ index }) => (await requireWorkJson(store, workKeys.figures(index), `the figures of shard ${index}/${shards}`, context.runId)) as StoredFigures),
  );
  await refuseCustomersHeldTwice(context, store, shards, figures.map((f) => f.keyMoved));
  const completed = await completedRunOf(context, nightFingerprint(files, context.config));
  if (completed) {
    const stored: StoredModels = { runId: context.runId, shards, plannedUnder: plannedConfigOf(context.config), completed };
    const modelsObject = await store.put(workKeys.models, JSON.stringify(stored), 'application/json');
    context.log.info('night already completed from this export and configuration: the shards write nothing', { of: completed.runId });
    return { modelsObject, rfmBuyers: 0, clv: { fitted: false, clients: 0, skippedReason: `night already completed by run ${completed.runId}` } };
  }
  const models = combineMeasures(context, measures);
  const admission = await admitShards(context, {
    startedAt: run.startedAt,
    figures: figures.map((f) => f.figures),
    files,
    unknownCustomerLines: figures.map((f) => f.unknownCustomerLines),
    campaignTallies: figures.flatMap((f) => (f.followed ? [f.followed.campaignTallies] : [])),
  });
  // Plain numbers and strings: RFM cuts, fitted parameters, the fit report (JSON keeps them exact).
  const stored: StoredModels = { runId: context.runId, shards, plannedUnder: plannedConfigOf(context.config), models, admission };
  const modelsObject = await store.put(workKeys.models, JSON.stringify(stored), 'application/json');
  const { report } = models.clv;
  const rfmBuyers = measures.reduce((n, m) => n + m.rfm.orderCount.length, 0);
  context.log.info('shard measures combined', { shards, rfmBuyers, clvFitted: report.fitted });
  return {
    modelsObject,
    rfmBuyers,
    clv: { fitted: report.fitted, clients: report.clients, ...(report.skippedReason ? { skippedReason: report.skippedReason } : {}) },
  };
}

async function readModels(context: NightContext, shards: number): Promise<StoredModels> {
  // Our own object, written by combineWorkMeasures of this run: check it is, not its whole shape.
  const stored = (await requireWorkJson(workStoreOf(context), workKeys.models, 'the night\'s models', context.runId)) as Partial<StoredModels>;
  if (stored.runId !== context.runId || stored.shards !== shards || (!stored.completed && (!stored.models || !stored.admission))) {
    throw new NightlyRunError(`models.json of run ${context.runId} belongs to run ${String(stored.runId)} with ${String(stored.shards)} shards`);
  }
  confirmPlannedConfig(context, stored.plannedUnder);
  return stored as StoredModels;
}

/**
 * What the nightly function returns once a night completed (a single run, or finish): the state
 * machine's Report state reads it, and it is the execution's output. Small whatever the export
 * and the advisors: the whole summary (a FileReport per file, an entry per advisor) can pass Step
 * Functions' 256 KB and fail the task after the night wrote everything, and every rerun with it.
 * The full summary is at summaryObject; the runs table keeps its figures (runs-item.ts).
 */
export interface NightResult {
  job: 'nightly';
  runDate: string;
  runId: string;
  shards: number;
  /** s3://bucket/key of the night's summary.json. */
  summaryObject: string;
  rejected: number;
  /** Counts keyed by tier, stage or segment pairs: bounded by the configuration, not by the base. */
  changes: NightlyRunSummary['changes'];
  written: NightlyRunSummary['written'];
  /** This attempt found the night completed from the same export and wrote nothing (repeat.ts). */
  rerun?: NightlyRunSummary['rerun'];
}

/** The night's result from its summary. Pure. */
export function nightResultOf(summary: NightlyRunSummary): NightResult {
  const { job, runDate, runId, shards, changes, written, rerun } = summary;
  return { job, runDate, runId, shards, summaryObject: summary.report.summaryObject, rejected: summary.input.rejected, changes, written, ...(rerun ? { rerun } : {}) };
}

export interface WriteReceipt {
  shard: ShardSpec;
  /** Absent when the night was already completed from the same export: nothing to write. */
  outcomeObject?: string;
  changes: { newClients: number; changed: number; unchanged: number };
  written: ShardOutcome['written'];
}

/**
 * Write for one shard: its bucket read again, scored with the night's models, changes written;
 * holding the shard's write lease from before its base is loaded until its outcome is stored
 * (write-lease.ts: a retry never runs beside an attempt still alive, nor another run's write).
 */
export async function writeShardFromWork(context: NightContext, shard: ShardSpec): Promise<WriteReceipt> {
  // The models first: a missing one fails before the bucket is read.
  const { models } = await readModels(context, shard.count);
  if (!models) return { shard, changes: { newClients: 0, changed: 0, unchanged: 0 }, written: { profiles: 0, tierHistory: 0, retries: 0 } };
  const store = workStoreOf(context);
  // Before the lease: an old execution redriven is refused writing nothing, not even a lease
  // (writeShard checks again once it holds the lease).
  await confirmWriter(context, 'write');
  const { followed } = (await requireWorkJson(store, workKeys.figures(shard.index), `the figures of shard ${shard.index}/${shard.count}`, context.runId)) as StoredFigures;
  const writer: LeasedWork = { kind: 'shard', shard };
  const { outcome, outcomeObject } = await withWriteLease(context, writer, async () => {
    const shardRead = await bucketShardRead(context, store, shard);
    const base = await loadShardBase(context, shardRead);
    // Figures an earlier version measured hold none: followed here, as that version did.
    const written = await writeShard(context, shardRead, models, base, followed ?? (await followShard(context, shardRead)), writer);
    return { outcome: written, outcomeObject: await store.put(workKeys.outcome(shard.index), JSON.stringify(written), 'application/json') };
  });
  const { newClients, changed, unchanged } = outcome.changes;
  return { shard, outcomeObject, changes: { newClients, changed, unchanged }, written: outcome.written };
}

/**
 * Finish: every shard's outcome → the run summary (summary object, runs table), holding the
 * finish's write lease: it puts back what earlier attempts wrote, which no attempt may be writing.
 */
export async function finishFromWork(
  context: NightContext,
  run: { startedAt: number; shards: number },
  source: ExportSource = defaultExportSource(context),
): Promise<NightlyRunSummary> {
  const store = workStoreOf(context);
  const { models, admission, completed } = await readModels(context, run.shards);
  if (completed) return recordRerun(context, completed, run.startedAt);
  // Before the outcomes: an old execution redriven is told why it may not finish (a later night,
  // another run's), not that a shard's outcome is missing. finishNight checks again.
  await confirmWriter(context, 'finish');
  // Written by writeShardFromWork of this run; finishNight checks there is one per shard.
  const outcomes = await Promise.all(
    shardsOf(run.shards).map(async ({ index }) => (await requireWorkJson(store, workKeys.outcome(index), `the outcome of shard ${index}/${run.shards}`, context.runId)) as ShardOutcome),
  );
  const writer: LeasedWork = { kind: 'finish' };
  return withWriteLease(context, writer, () => finishNight(context, { source: source.describe(), startedAt: run.startedAt, models, admission, outcomes, writer }));
}
