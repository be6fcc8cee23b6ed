import { Worker } from 'node:worker_threads';
import type { CampaignTallies } from '#shared/campaign-results/results.ts';
import type { Config } from '#shared/config.ts';
import type { LogLevel } from '#shared/log.ts';
import { directoryExportSource, type ExportSource } from '#shared/exports/source.ts';
import type { ShardFigures } from '#shared/nightly/admission.ts';
import type { KeyMoved } from '#shared/nightly/base.ts';
import { checkWholeExport, planNight, refuseCustomersHeldTwice, workStoreOf } from '#shared/nightly/distributed.ts';
import {
  admitShards,
  combineMeasures,
  defaultExportSource,
  finishNight,
  nightContext,
  type NightContext,
  type NightlyRunOptions,
  type NightModels,
  type ShardMeasures,
  type ShardOutcome,
} from '#shared/nightly/run.ts';
import { completedRunOf, nightFingerprint, recordRerun } from '#shared/nightly/repeat.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';
import { shardsOf, type ShardSpec } from '#shared/nightly/shards.ts';
import { withWriteLease, type HeldWriteLease } from '#shared/nightly/write-lease.ts';
import { errorFromWorker, workerErrorOf, type WorkerError } from './worker-errors.ts';

/**
 * `clientele run nightly --shards N`: the nightly run split into N shards, each in its own
 * worker thread, through the same phases as the Step Functions state machine in AWS
 * (shared/nightly/distributed.ts): this process plans the night (the export's files shared
 * between the N readers); each worker repartitions its share (a failed night names the failure
 * first in the export's reading order, as one run does), then reads and measures its
 * bucket; this process checks the whole export and combines the measures into the night's
 * models; each worker writes its shard (its clients kept from the measure, not read again); this
 * process finishes the summary. The work objects go to the run's work prefix in S3, as in AWS.
 * This process holds the night's write lease throughout, as a single run does.
 */

/** Where the workers read the export: the dated S3 prefix (default) or a local folder. */
export type ShardSource = { kind: 's3' } | { kind: 'directory'; path: string };

export interface ShardedRunOptions extends Omit<NightlyRunOptions, 'source' | 'onProgress'> {
  shards: number;
  source?: ShardSource;
  /** Log level of the workers' JSON log lines (stderr); default warn. */
  workerLogLevel?: LogLevel;
}

/** Messages between this process and a shard worker. */
export type ToWorker =
  | { type: 'start'; runDate: string; runId: string; config: Config; shard: ShardSpec; readers: ShardSpec[]; source: ShardSource; logLevel: LogLevel }
  | { type: 'measure' }
  | { type: 'models'; models: NightModels };

export type FromWorker =
  /** failure: the first of its readers' failures in the export's reading order (readFailureOrder), when one failed. */
  | { type: 'repartitioned'; failure?: { error: WorkerError; order: number } }
  | { type: 'measured'; measures: ShardMeasures; figures: ShardFigures; unknownCustomerLines: Record<string, number>; campaignTallies: CampaignTallies; keyMoved?: KeyMoved }
  | { type: 'written'; outcome: ShardOutcome }
  | { type: 'failed'; error: WorkerError };

class ShardWorker {
  private readonly worker: Worker;
  private readonly waiting: ((message: FromWorker) => void)[] = [];
  private failure: WorkerError | undefined;

  constructor(readonly shard: ShardSpec) {
    this.worker = new Worker(new URL('./shard-worker-entry.mjs', import.meta.url));
    this.worker.on('message', (message: FromWorker) => this.waiting.shift()?.(message));
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`shard ${shard.index} worker exited with code ${code}`)));
  }

  private fail(error: Error): void {
    this.failure ??= workerErrorOf(error);
    for (const resolve of this.waiting.splice(0)) resolve({ type: 'failed', error: this.failure });
  }

  send(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  async next<T extends FromWorker['type']>(type: T): Promise<Extract<FromWorker, { type: T }>> {
    const message = this.failure ? ({ type: 'failed', error: this.failure } as const) : await new Promise<FromWorker>((resolve) => this.waiting.push(resolve));
    if (message.type === 'failed') throw errorFromWorker(message.error, this.shard);
    if (message.type !== type) throw new Error(`shard ${this.shard.index}: expected ${type}, got ${message.type}`);
    return message as Extract<FromWorker, { type: T }>;
  }

  async stop(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

/**
 * Every worker's next message of `type`, once all have settled; the first failure by shard then.
 * Not the first failure in time: the others are stopped once this returns, and a shard stopped in
 * the middle of its writes could leave a cut object behind (the S3 emulator keeps what it had
 * received), where the shards of a deployed night each finish on their own.
 */
async function everyShard<T extends FromWorker['type']>(workers: readonly ShardWorker[], type: T): Promise<Extract<FromWorker, { type: T }>[]> {
  const settled = await Promise.allSettled(workers.map((worker) => worker.next(type)));
  const failed = settled.find((each) => each.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return settled.map((each) => (each as PromiseFulfilledResult<Extract<FromWorker, { type: T }>>).value);
}

export async function runNightlySharded(options: ShardedRunOptions): Promise<NightlyRunSummary> {
  if (!Number.isInteger(options.shards) || options.shards < 1) throw new RangeError(`shards must be a whole number >= 1, got ${options.shards}`);
  const { shards: _shards, source: _source, workerLogLevel: _level, ...runOptions } = options;
  const context = nightContext(runOptions);
  const startedAt = options.clock();
  const source = options.source ?? { kind: 's3' };
  const exportSource = exportSourceOf(source, context);
  const describe = exportSource.describe();
  context.log.info('sharded nightly run started', { source: describe, shards: options.shards });
  // The whole night under one write lease, as a single run (write-lease.ts): the workers' writes
  // and the finish happen while this process holds it.
  return withWriteLease(context, { kind: 'night' }, (lease) => runShards(context, options, { startedAt, source, exportSource, lease }));
}

/** The phases of runNightlySharded, while it holds the night's write lease. */
async function runShards(
  context: NightContext,
  options: ShardedRunOptions,
  run: { startedAt: number; source: ShardSource; exportSource: ExportSource; lease: HeldWriteLease },
): Promise<NightlyRunSummary> {
  const { startedAt, source, exportSource, lease } = run;
  const describe = exportSource.describe();
  // The export listed once, before any worker reads: a bad listing or manifest fails here.
  const { readers } = await planNight(context, options.shards, exportSource);
  const workers = shardsOf(options.shards).map((shard) => new ShardWorker(shard));
  try {
    for (const worker of workers) {
      worker.send({
        type: 'start',
        runDate: options.runDate,
        runId: options.runId,
        config: options.config,
        shard: worker.shard,
        // The plan may have more readers than shards: worker i reads readers i, i + N, ... in turn.
        readers: readers.filter((reader) => reader.index % options.shards === worker.shard.index),
        source,
        logLevel: options.workerLogLevel ?? 'warn',
      });
    }
    // Every share must be in the buckets before any shard reads its own. Every reader settles
    // first: of their failures the night's is the first in the export's reading order, the one a
    // single run meets, not the first in time.
    const repartitioned = await Promise.allSettled(workers.map((w) => w.next('repartitioned')));
    const failures = repartitioned.flatMap((settled, i) => (settled.status === 'fulfilled' && settled.value.failure ? [{ ...settled.value.failure, shard: (workers[i] as ShardWorker).shard }] : []));
    const first = failures.sort((a, b) => a.order - b.order || a.shard.index - b.shard.index)[0];
    if (first) throw errorFromWorker(first.error, first.shard);
    const crashed = repartitioned.find((settled) => settled.status === 'rejected');
    if (crashed) throw crashed.reason;
    for (const worker of workers) worker.send({ type: 'measure' });
    // Every shard must have read and measured its clients before anything is written anywhere.
    const measured = await everyShard(workers, 'measured');
    const files = await checkWholeExport(context, workStoreOf(context), options.shards);
    await refuseCustomersHeldTwice(context, workStoreOf(context), options.shards, measured.map((m) => m.keyMoved));
    const completed = await completedRunOf(context, nightFingerprint(files, options.config));
    if (completed) return await recordRerun(context, completed, startedAt);
    const models = combineMeasures(context, measured.map((m) => m.measures));
    const admission = await admitShards(context, {
      startedAt,
      figures: measured.map((m) => m.figures),
      files,
      unknownCustomerLines: measured.map((m) => m.unknownCustomerLines),
      campaignTallies: measured.map((m) => m.campaignTallies),
    });
    await lease.confirm('write');
    for (const worker of workers) worker.send({ type: 'models', models });
    const outcomes = (await everyShard(workers, 'written')).map((written) => written.outcome);
    await lease.confirm('finish');
    return await finishNight(context, { source: describe, startedAt, models, admission, outcomes, writer: { kind: 'night' } });
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

/** The export the workers read: the dated S3 prefix, or a local folder. */
export function exportSourceOf(source: ShardSource, context: Pick<NightContext, 'config' | 'clients' | 'runDate'>): ExportSource {
  return source.kind === 'directory' ? directoryExportSource(source.path) : defaultExportSource(context);
}
