import { z } from 'zod';
import { readObjectBytes, writeObject } from '#shared/aws/s3-objects.ts';
import type { Config } from '#shared/config.ts';
import { ClienteleError } from '#shared/errors.ts';
import type { ExportSource } from '#shared/exports/source.ts';
import { newRunId } from '#shared/log.ts';
import { reportsBucket, runWorkPrefix } from '#shared/store/buckets.ts';
import { decodeMeasures, encodeMeasures } from './measures-codec.ts';
import type { ShardFigures } from './admission.ts';
import {
  admitShards,
  combineMeasures,
  defaultExportSource,
  finishNight,
  loadShardBase,
  measureShard,
  NightlyRunError,
  readShard,
  writeShard,
  type NightContext,
  type NightModels,
  type ShardOutcome,
} from './run.ts';
import { nightRequestSchema, runDateOf, runDateSchema } from './run-date.ts';
import { completedRunOf, nightFingerprint, recordRerun } from './repeat.ts';
import type { NightAdmission, NightlyRunSummary } from './summary.ts';
import { isValidShard, MAX_SHARDS, shardsOf, type ShardSpec } from './shards.ts';

/**
 * The nightly run as separate invocations, one per phase of run.ts and, for measure and write,
 * one per shard: how the Step Functions state machine runs a sharded night in AWS (a Distributed
 * Map over the shards, infra/constructs/nightly-pipeline.ts):
 *
 *   prepare            the run date, a run id and the shard list, fixed once for the execution
 *   measure (shard i)  read the export keeping shard i's clients, store its measures
 *   combine            every shard's measures → the night's models (RFM cuts, CLV fit)
 *   write (shard i)    read the export again, score shard i with the models, write what changed
 *   finish             every shard's outcome → the summary object and the runs table
 *
 * An invocation keeps nothing from the one before, so the phases hand over through work objects
 * under <reportsPrefix>/work/nightly/<runDate>/<runId>/ (the stack expires them after a few days):
 *   measures-<i>.bin   shard i's measures (measures-codec.ts), read by combine
 *   models.json        the night's models, read by every write and by finish
 *   outcome-<i>.json   what shard i wrote, read by finish
 * Between the states travels only small JSON: Step Functions caps a state's data at 256 KB, and a
 * Map's output is every item's output together (100 outcomes with their file lists and sample
 * rejects would not fit).
 *
 * Each shard reads the export twice, once to measure and once to write: its clients as read
 * (every order of every client, the bulk of a run's memory) die with the measure invocation, and
 * storing them for the write would be the export again, in a bigger form. Reading is the cheaper
 * way to get them back.
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

export const measureEventSchema = z.object({ phase: z.literal('measure'), runDate: runDateSchema, runId: runIdSchema, shard: shardSchema }).strict();

export const combineEventSchema = z
  .object({
    phase: z.literal('combine'),
    runDate: runDateSchema,
    runId: runIdSchema,
    shards: shardCountSchema,
    /** Epoch milliseconds, from prepare: the night marked as being written says when it started. */
    startedAt: z.number().int().nonnegative(),
    /** From prepare (the execution's input): write the night even if implausible. */
    acceptDrop: z.boolean(),
  })
  .strict();

export const writeEventSchema = z.object({ phase: z.literal('write'), runDate: runDateSchema, runId: runIdSchema, shard: shardSchema }).strict();

export const finishEventSchema = z
  .object({
    phase: z.literal('finish'),
    runDate: runDateSchema,
    runId: runIdSchema,
    /** Epoch milliseconds, from prepare: the summary's duration is the whole execution's. */
    startedAt: z.number().int().nonnegative(),
    shards: shardCountSchema,
  })
  .strict();

export const nightlyPhaseEventSchema = z.discriminatedUnion('phase', [
  prepareEventSchema,
  measureEventSchema,
  combineEventSchema,
  writeEventSchema,
  finishEventSchema,
]);

export type NightlyPhaseEvent = z.infer<typeof nightlyPhaseEventSchema>;
/** What the state machine sends for each phase: the CDK construct types its payloads with these. */
export type PrepareEventInput = z.input<typeof prepareEventSchema>;
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
  const issues = result.error.issues.map((issue) => `${issue.path.join('.') || '(event)'}: ${issue.message}`).join('; ');
  throw new ClienteleError('EVENT_INVALID', `Invalid nightly event: ${issues}`, { cause: result.error });
}

/** What prepare fixes for the whole execution; every later phase gets it from the state machine. */
export interface PreparedNight {
  runDate: string;
  runId: string;
  /** Epoch milliseconds. */
  startedAt: number;
  /** The execution input's accept-drop, for the combine step's checks. */
  acceptDrop: boolean;
  /** The Distributed Maps' items: one per shard. */
  shards: ShardSpec[];
}

/** The night from the execution's input (run-date.ts), a new run id, the handler's clock as the start. */
export function prepareNight(config: Pick<Config, 'timeZone'>, event: z.infer<typeof prepareEventSchema>, handlerNow: number): PreparedNight {
  return {
    runDate: runDateOf(event.request, config, handlerNow),
    runId: newRunId(JOB),
    startedAt: handlerNow,
    acceptDrop: event.request.acceptDrop ?? false,
    shards: shardsOf(event.shards),
  };
}

/** The work objects of one run. */
function workKeys(context: Pick<NightContext, 'config' | 'runDate' | 'runId'>) {
  const base = runWorkPrefix(context.config, JOB, context.runDate, context.runId);
  return {
    measures: (shard: number) => `${base}/measures-${shard}.bin`,
    figures: (shard: number) => `${base}/figures-${shard}.json`,
    models: `${base}/models.json`,
    outcome: (shard: number) => `${base}/outcome-${shard}.json`,
  };
}

async function putWorkObject(context: NightContext, key: string, body: Uint8Array | string, contentType: string): Promise<string> {
  return writeObject(context.clients.s3, { bucket: reportsBucket(context.config), key, body, contentType });
}

/** A work object an earlier phase of this run must have written; its absence fails the run, naming it. */
async function readWorkObject(context: NightContext, key: string, what: string): Promise<Uint8Array> {
  const bucket = reportsBucket(context.config);
  const bytes = await readObjectBytes(context.clients.s3, bucket, key);
  if (!bytes) throw new NightlyRunError(`${what} not found at s3://${bucket}/${key}: did that phase of run ${context.runId} finish?`);
  return bytes;
}

async function readWorkJson(context: NightContext, key: string, what: string): Promise<unknown> {
  return JSON.parse(new TextDecoder().decode(await readWorkObject(context, key, what))) as unknown;
}

export interface MeasureReceipt {
  shard: ShardSpec;
  measuresObject: string;
  /** The shard's clients with an RFM measure (buyers) and with a CLV summary. */
  rfmBuyers: number;
  clvBuyers: number;
  readMs: number;
}

/** Phase 1 for one shard: read + measure, the measures stored for combine. */
export async function measureShardToWork(context: NightContext, shard: ShardSpec, source: ExportSource = defaultExportSource(context)): Promise<MeasureReceipt> {
  const shardRead = await readShard(context, source, shard);
  const { measures, figures } = measureShard(context, shardRead, await loadShardBase(context, shardRead));
  const measuresObject = await putWorkObject(context, workKeys(context).measures(shard.index), encodeMeasures(measures), 'application/octet-stream');
  const stored: StoredFigures = { figures, files: shardRead.read.files, unknownCustomerLines: shardRead.unknownCustomers.perFile };
  await putWorkObject(context, workKeys(context).figures(shard.index), JSON.stringify(stored), 'application/json');
  return { shard, measuresObject, rfmBuyers: measures.rfm.orderCount.length, clvBuyers: measures.clv.frequency.length, readMs: shardRead.readMs };
}

/** figures-<i>.json: what a shard measured for the guards, with the export's files as it read them. */
interface StoredFigures {
  figures: ShardFigures;
  files: NightlyRunSummary['input']['files'];
  /** Order lines of the shard's unknown customers, per file. */
  unknownCustomerLines: Record<string, number>;
}

/**
 * models.json: the models and the admission with the run they belong to, checked on every read;
 * or, when the night was already completed from the same export and configuration, that night's
 * summary: the writes then do nothing and finish records the rerun (repeat.ts).
 */
type StoredModels = { runId: string; shards: number } & (
  | { models: NightModels; admission: NightAdmission; completed?: undefined }
  | { completed: NightlyRunSummary; models?: undefined; admission?: undefined }
);

export interface CombineReceipt {
  modelsObject: string;
  rfmBuyers: number;
  clv: { fitted: boolean; clients: number; skippedReason?: string };
}

/**
 * Phase 2: every shard's measures → the night's models; the checks before any write (a refused
 * night fails here, before any shard writes); both stored for the writes and finish.
 */
export async function combineWorkMeasures(context: NightContext, run: { shards: number; startedAt: number }): Promise<CombineReceipt> {
  const { shards } = run;
  const keys = workKeys(context);
  const measures = await Promise.all(
    shardsOf(shards).map(async ({ index }) => decodeMeasures(await readWorkObject(context, keys.measures(index), `the measures of shard ${index}/${shards}`))),
  );
  // Our own objects, written by measureShardToWork of this run.
  const figures = await Promise.all(
    shardsOf(shards).map(async ({ index }) => (await readWorkJson(context, keys.figures(index), `the figures of shard ${index}/${shards}`)) as StoredFigures),
  );
  const files = figures[0]?.files ?? [];
  const completed = await completedRunOf(context, nightFingerprint(files, context.config));
  if (completed) {
    const stored: StoredModels = { runId: context.runId, shards, completed };
    const modelsObject = await putWorkObject(context, keys.models, JSON.stringify(stored), 'application/json');
    context.log.info('night already completed from this export and configuration: the shards write nothing', { of: completed.runId });
    return { modelsObject, rfmBuyers: 0, clv: { fitted: false, clients: 0, skippedReason: `night already completed by run ${completed.runId}` } };
  }
  const models = combineMeasures(context, measures);
  const admission = await admitShards(context, {
    startedAt: run.startedAt,
    figures: figures.map((f) => f.figures),
    files,
    unknownCustomerLines: figures.map((f) => f.unknownCustomerLines),
  });
  // Plain numbers and strings: RFM cuts, fitted parameters, the fit report (JSON keeps them exact).
  const stored: StoredModels = { runId: context.runId, shards, models, admission };
  const modelsObject = await putWorkObject(context, keys.models, JSON.stringify(stored), 'application/json');
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
  const stored = (await readWorkJson(context, workKeys(context).models, 'the night\'s models')) as Partial<StoredModels>;
  if (stored.runId !== context.runId || stored.shards !== shards || (!stored.completed && (!stored.models || !stored.admission))) {
    throw new NightlyRunError(`models.json of run ${context.runId} belongs to run ${String(stored.runId)} with ${String(stored.shards)} shards`);
  }
  return stored as StoredModels;
}

export interface WriteReceipt {
  shard: ShardSpec;
  /** Absent when the night was already completed from the same export: nothing to write. */
  outcomeObject?: string;
  changes: { newClients: number; changed: number; unchanged: number };
  written: ShardOutcome['written'];
}

/** Phase 3 for one shard: the export read again, scored with the night's models, changes written. */
export async function writeShardFromWork(context: NightContext, shard: ShardSpec, source: ExportSource = defaultExportSource(context)): Promise<WriteReceipt> {
  // The models first: a missing one fails before the export is read.
  const { models } = await readModels(context, shard.count);
  if (!models) return { shard, changes: { newClients: 0, changed: 0, unchanged: 0 }, written: { profiles: 0, tierHistory: 0, retries: 0 } };
  const shardRead = await readShard(context, source, shard);
  const outcome = await writeShard(context, shardRead, models, await loadShardBase(context, shardRead));
  const outcomeObject = await putWorkObject(context, workKeys(context).outcome(shard.index), JSON.stringify(outcome), 'application/json');
  const { newClients, changed, unchanged } = outcome.changes;
  return { shard, outcomeObject, changes: { newClients, changed, unchanged }, written: outcome.written };
}

/** Phase 4: every shard's outcome → the run summary (summary object, runs table). */
export async function finishFromWork(
  context: NightContext,
  run: { startedAt: number; shards: number },
  source: ExportSource = defaultExportSource(context),
): Promise<NightlyRunSummary> {
  const keys = workKeys(context);
  const { models, admission, completed } = await readModels(context, run.shards);
  if (completed) return recordRerun(context, completed, run.startedAt);
  // Written by writeShardFromWork of this run; finishNight checks there is one per shard.
  const outcomes = await Promise.all(
    shardsOf(run.shards).map(async ({ index }) => (await readWorkJson(context, keys.outcome(index), `the outcome of shard ${index}/${run.shards}`)) as ShardOutcome),
  );
  return finishNight(context, { source: source.describe(), startedAt: run.startedAt, models, admission, outcomes });
}
