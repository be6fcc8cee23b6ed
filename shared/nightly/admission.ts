import type { AwsClients } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import { ClienteleError } from '#shared/errors.ts';
import type { FileReport } from '#shared/exports/reader.ts';
import { addMinor } from '#shared/money.ts';
import { catalogCycleDays, type ProductRecord } from '#shared/model.ts';
import { getRun, putRun, recentRuns, runsAfter } from '#shared/store/runs-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import type { Log } from '#shared/log.ts';
import { addDays } from '#shared/time.ts';
import { runClockAt } from '#shared/tiering/profile.ts';
import { catalogueViolations, nightRules, plausibilityViolations, ruleChanges, withAbsentBeforeMarking, type ErasedSinceLastNight, type LastNight, type NightFigures, type NightMoves, type TonightFigures } from './guards.ts';
import { wholeSummaryOf } from './runs-item.ts';
import { NIGHTLY_JOB, type NightAdmission, type NightInProgress, type NightlyRunSummary } from './summary.ts';

/**
 * The gate between reading a night and writing it. Before the first write:
 *  - nights run in order: none after this one has completed (it would move clients back in
 *    time) or is being written (its before-images hold this night's profiles: rerun under it, this
 *    night would make that one's rerun invent movements), and none before it was left
 *    half-written (rerun that one first);
 *  - tonight's figures are plausible against the last completed night's (guards.ts), unless the
 *    run was started with an explicit accept-drop, which the summary records;
 * then the night is marked as being written in the runs table, so that the next night can tell.
 * A run's admission stands only while that mark is its own and no later night has begun: every
 * shard's write and the finish check it again (writerStanding), so that an old execution redriven
 * after the night was rerun, or after later nights ran, writes nothing.
 */

export class NightRefusedError extends ClienteleError {
  override name = 'NightRefusedError';
  constructor(message: string) {
    super('NIGHT_REFUSED', message);
  }
}

/** What a shard measured for the guards (numbers only; they add up over shards). */
export interface ShardFigures extends Required<NightMoves>, ErasedSinceLastNight {
  clients: number;
  revenue12mMinor: number;
  /** The net spend of the orders that left the 12-month window since the last completed night (guards.ts TonightFigures). */
  revenueLeftWindowMinor: number;
  buyers: number;
  /** Clients of the base absent from the export since an earlier night (absent.ts): shown, not compared. */
  stillAbsent: number;
  /** Profiles an earlier attempt of the night wrote whose before-images are gone (NightBase.writtenWithoutImage): the night is refused. */
  writtenWithoutImage: number;
  /**
   * SKUs in tonight's products (the catalogue the night would store; 0 without): every shard reads
   * them, so the largest counts, not the sum. Absent from figures of earlier versions.
   */
  productSkus?: number;
  /** Of them, the SKUs with a replenishment cycle; absent from figures of earlier versions. */
  productCycleSkus?: number;
  /** Tonight's clients whom a night had written before (guards.ts withAbsentBeforeMarking). Absent from figures of earlier versions. */
  seenBefore?: number;
}

/** A catalogue's SKUs and, of them, those with a replenishment cycle: what the admission compares (catalogueViolations). */
export function productFigures(catalog: ReadonlyMap<string, Pick<ProductRecord, 'replenishDays'>>): { productSkus: number; productCycleSkus: number } {
  let productCycleSkus = 0;
  for (const product of catalog.values()) if (catalogCycleDays(product) !== undefined) productCycleSkus++;
  return { productSkus: catalog.size, productCycleSkus };
}

export function emptyShardFigures(): ShardFigures {
  return {
    clients: 0, revenue12mMinor: 0, revenueLeftWindowMinor: 0, buyers: 0, downgrades: 0, upgrades: 0, unexplainedLapses: 0, newlyAbsent: 0, consentGivenBack: 0, addressesChanged: 0, stillAbsent: 0, writtenWithoutImage: 0, productSkus: 0, productCycleSkus: 0, seenBefore: 0,
    erasedSinceLastNight: 0, erasedSinceLastNightRevenue12mMinor: 0, erasedSinceLastNightBuyers: 0,
  };
}

/** The figures that are money (minor units, summed with addMinor), each with the name an overflow of its sum gives. */
export const MONEY_FIGURES = {
  revenue12mMinor: 'the 12-month revenue',
  revenueLeftWindowMinor: 'the 12-month revenue that left the window since the last night',
  erasedSinceLastNightRevenue12mMinor: 'the 12-month revenue of the clients erased since the last night',
} as const satisfies Partial<Record<keyof ShardFigures, string>>;
const moneyFigureName = (key: keyof ShardFigures): string | undefined => (MONEY_FIGURES as Partial<Record<keyof ShardFigures, string>>)[key];

/** Every shard's figures added up; money with checked arithmetic, so that a sharded night refuses an impossible sum here, before any write, as one run does. */
export function addShardFigures(parts: readonly ShardFigures[]): ShardFigures {
  const { productSkus: _counted, productCycleSkus: _cycles, seenBefore: _seen, ...total } = emptyShardFigures();
  for (const part of parts) {
    for (const key of Object.keys(total) as (keyof typeof total)[]) {
      const money = moneyFigureName(key);
      // A shard's figures written by an earlier version (an upgrade mid-night) lack the later ones.
      const value: number = part[key] ?? 0;
      total[key] = money === undefined ? total[key] + value : addMinor(total[key], value, money);
    }
  }
  // Unknown when a shard's figures predate the count (admitShards then counts the products rows).
  const skus = parts.map((part) => part.productSkus);
  const cycleSkus = parts.map((part) => part.productCycleSkus);
  const seen = parts.map((part) => part.seenBefore);
  return {
    ...total,
    ...(skus.every((count) => count !== undefined) ? { productSkus: Math.max(0, ...skus) } : {}),
    ...(cycleSkus.every((count) => count !== undefined) ? { productCycleSkus: Math.max(0, ...cycleSkus) } : {}),
    // Unknown likewise: the newly absent are then all counted (withAbsentBeforeMarking).
    ...(seen.every((count) => count !== undefined) ? { seenBefore: seen.reduce((sum: number, count) => sum + (count ?? 0), 0) } : {}),
  };
}

/** Rows of an export's files of `kind` that were not rejected. */
export function acceptedRows(files: readonly Pick<FileReport, 'kind' | 'rows' | 'rejected'>[], kind: FileReport['kind']): number {
  return files.filter((f) => f.kind === kind).reduce((n, f) => n + f.rows - f.rejected, 0);
}

/** Order lines accepted from an export: the orders files' rows that were not rejected. */
export function acceptedOrderLines(files: readonly Pick<FileReport, 'kind' | 'rows' | 'rejected'>[]): number {
  return acceptedRows(files, 'orders');
}

/** A night's runs-table item: its summary once completed, its mark while being written. */
export type StoredNight = (NightlyRunSummary | NightInProgress) & { status?: 'writing' | 'completed' };

const isCompleted = (run: StoredNight): run is NightlyRunSummary => run.status !== 'writing';

/** The figures of a stored summary (older summaries lack orderLines: derived from their files). */
export function lastNightOf(summary: NightlyRunSummary): LastNight {
  return {
    runDate: summary.runDate,
    clients: summary.distribution.clients,
    orderLines: summary.input.orderLines ?? acceptedOrderLines(summary.input.files),
    revenue12mMinor: summary.distribution.revenueMinor,
    buyers: summary.distribution.buyers,
    ...(summary.admission?.tonight.catalogueSkus === undefined ? {} : { catalogueSkus: summary.admission.tonight.catalogueSkus }),
    ...(summary.admission?.tonight.catalogueCycleSkus === undefined ? {} : { catalogueCycleSkus: summary.admission.tonight.catalogueCycleSkus }),
    // Versions that marked clients absent count them in every summary (0 when none).
    ...(summary.admission?.tonight.newlyAbsent === undefined ? { beforeAbsenceMarks: true as const } : {}),
  };
}

export interface AdmitOptions {
  config: Config;
  clients: Pick<AwsClients, 'documents'>;
  runDate: string;
  runId: string;
  /** Epoch ms, the run's start. */
  startedAt: number;
  /** The input the run read: the export's files and the configuration (repeat.ts nightFingerprint). */
  fingerprint: string;
  /** Accept figures that fail the plausibility checks (an operator's explicit decision). */
  acceptDrop: boolean;
  tonight: TonightFigures;
  /**
   * The catalogue as stored now, its SKUs and those with a cycle: what tonight's products are
   * compared with when the last completed night did not record them (LastNight.catalogueSkus,
   * catalogueCycleSkus: summaries written before).
   */
  storedCatalogue: () => Promise<{ skus: number; cycleSkus: number }>;
  log: Log;
}

/**
 * Why night `runDate` may not be written, given the nights after it in the runs table (oldest
 * first), or undefined when there are none. Pure.
 */
export function laterNightRefusal(runDate: string, later: readonly StoredNight[]): string | undefined {
  const next = later[0];
  if (next === undefined) return undefined;
  if (isCompleted(next)) {
    return (
      `the night of ${next.runDate} was completed after ${runDate}: running an earlier night now would move clients back in time. ` +
      `Run the nights from ${runDate} onward in order, or restore a backup first.`
    );
  }
  return (
    `the night of ${next.runDate} is being written or stopped while writing (run ${next.runId}, started ${next.startedAt}): ` +
    `writing ${runDate} under it would move its clients back in time and make its rerun measure against the wrong night. ` +
    `Finish ${next.runDate} first (rerun it: clientele run nightly --date ${next.runDate}); to redo ${runDate} after that, ` +
    `restore a backup from before ${next.runDate} and run the nights from ${runDate} onward in order.`
  );
}

/** The nights before `runDate` in the runs table, newest first (the last ten: enough to find the last completed one). */
export function nightsBefore(
  context: { config: Config; clients: Pick<AwsClients, 'documents'> },
  runDate: string,
  attributes?: readonly string[],
): Promise<StoredNight[]> {
  return recentRuns<StoredNight>(context.clients.documents, tableNames(context.config).runs, NIGHTLY_JOB, addDays(runDate, -1), {
    limit: 10,
    ...(attributes ? { attributes } : {}),
  });
}

/** The last night completed before `runDate`, the night a base holds the state of (base.ts): its run date, and when its run began (epoch ms). */
export async function lastCompletedNightBefore(
  context: { config: Config; clients: Pick<AwsClients, 'documents'> },
  runDate: string,
): Promise<{ runDate: string; startedAt: number } | undefined> {
  const last = (await nightsBefore(context, runDate, ['status', 'startedAt'])).find(isCompleted);
  return last === undefined ? undefined : { runDate: last.runDate, startedAt: Date.parse(last.startedAt) };
}

/** The input an attempt of the night recorded reading: its mark's, or its summary's (absent from marks written before). */
function inputFingerprintOf(night: StoredNight): string | undefined {
  return isCompleted(night) ? night.input?.fingerprint : night.fingerprint;
}

/**
 * By when the snapshot this attempt read was dumped (epoch ms): an attempt reads its export after
 * it starts, so by its start; and when the night's item (`own`, the attempt before, marked or
 * completed) records the same input, by that attempt's bound too, which carries the start of the
 * earliest of a row of attempts that read it. A corrected or re-dumped export (another
 * fingerprint), or an item that records none, starts the bound again at this attempt. Pure.
 */
export function snapshotBoundOf(own: StoredNight | undefined, fingerprint: string, startedAt: number): number {
  if (own === undefined || inputFingerprintOf(own) !== fingerprint) return startedAt;
  const earlier = Date.parse(own.snapshotBy ?? own.startedAt);
  return Number.isFinite(earlier) ? Math.min(earlier, startedAt) : startedAt;
}

/** Checks the night may be written (throws NightRefusedError otherwise), then marks it as being written. */
export async function admitNight(options: AdmitOptions): Promise<NightAdmission> {
  const { config, clients, runDate, log } = options;
  const table = tableNames(config).runs;
  const [later, own] = await Promise.all([
    runsAfter<StoredNight>(clients.documents, table, NIGHTLY_JOB, runDate, 1),
    getRun<StoredNight>(clients.documents, table, { job: NIGHTLY_JOB, runDate }),
  ]);
  const laterRefusal = laterNightRefusal(runDate, later);
  if (laterRefusal !== undefined) {
    log.error('night refused: a later night has begun, nothing written', { laterNight: later[0]?.runDate, laterStatus: later[0]?.status });
    throw new NightRefusedError(`${runDate} refused, nothing written: ${laterRefusal}`);
  }
  const earlier = await nightsBefore(options, runDate);
  const unfinished = earlier[0];
  if (unfinished && !isCompleted(unfinished)) {
    throw new NightRefusedError(
      `the night of ${unfinished.runDate} stopped while writing (run ${unfinished.runId}) and was not rerun: rerun it first ` +
        `(clientele run nightly --date ${unfinished.runDate}), then this night.`,
    );
  }
  const last = earlier.find(isCompleted);
  const lastNight = last ? lastNightOf(last) : undefined;
  // The catalogue the last completed night left, not the one stored now: an attempt of this night that died may have replaced it.
  const stored = lastNight?.catalogueSkus === undefined || lastNight.catalogueCycleSkus === undefined ? await options.storedCatalogue() : undefined;
  const catalogueBefore = lastNight?.catalogueSkus ?? stored?.skus ?? 0;
  const cyclesBefore = lastNight?.catalogueCycleSkus ?? stored?.cycleSkus ?? 0;
  const productSkus = options.tonight.productSkus ?? 0;
  const productCycleSkus = options.tonight.productCycleSkus;
  // Without products tonight the night keeps the catalogue (writeShard).
  const tonight: TonightFigures = withAbsentBeforeMarking(
    {
      ...options.tonight,
      catalogueSkus: productSkus > 0 ? productSkus : catalogueBefore,
      ...(productSkus === 0 ? { catalogueCycleSkus: cyclesBefore } : productCycleSkus === undefined ? {} : { catalogueCycleSkus: productCycleSkus }),
    },
    lastNight,
  );
  const catalogue = { productSkus, storedSkus: catalogueBefore, ...(productCycleSkus === undefined ? {} : { productCycleSkus, storedCycleSkus: cyclesBefore }) };
  const violations = [
    ...plausibilityViolations(tonight, lastNight, config.plausibility, config.currency),
    ...(productSkus > 0 ? catalogueViolations(catalogue, config.plausibility) : []),
  ];
  const rulesChanged = last?.rules ? ruleChanges(last.rules, nightRules(config)) : [];
  if (rulesChanged.length > 0) log.warn('the rules that place clients changed since the last completed night', { lastNight: last?.runDate, rulesChanged });
  if (violations.length > 0 && !options.acceptDrop) {
    log.error('night refused: implausible against the last completed night, nothing written', { checks: violations.map((v) => v.check) });
    const becauseOfRules = rulesChanged.length > 0 ? `The rules that place clients changed since ${last?.runDate}: ${rulesChanged.join(', ')}. ` : '';
    throw new NightRefusedError(
      `${runDate} refused, nothing written: ${violations.map((v) => v.message).join('; ')}. ${becauseOfRules}` +
        'If the export and the configuration are right (a real drop, a cleanup of the base, a deliberate change of the tiers or stages), ' +
        'rerun with --accept-drop (CLI) or {"acceptDrop": true} in the execution input.',
    );
  }
  if (violations.length > 0) log.warn('implausible night accepted by the operator', { checks: violations.map((v) => v.check) });
  // Written on the mark too: an hour while the night writes, and the next attempt, read it there.
  const snapshotBy = new Date(snapshotBoundOf(own, options.fingerprint, options.startedAt)).toISOString();
  const marker: NightInProgress = {
    job: NIGHTLY_JOB,
    runDate,
    status: 'writing',
    runId: options.runId,
    startedAt: new Date(options.startedAt).toISOString(),
    clockAt: runClockAt(runDate, config.timeZone),
    fingerprint: options.fingerprint,
    snapshotBy,
  };
  await putRun(clients.documents, table, { ...marker });
  return {
    tonight,
    snapshotBy,
    ...(lastNight ? { lastNight } : {}),
    ...(violations.length > 0 ? { accepted: violations } : {}),
    ...(rulesChanged.length > 0 ? { rulesChanged } : {}),
  };
}

/** Where a run stands with its night as a shard's write or the finish begins (writerStanding). */
export type WriterStanding =
  | { kind: 'writer' }
  /** This run completed the night already (a finish run again after its last write). */
  | { kind: 'completed'; summary: NightlyRunSummary }
  | { kind: 'refused'; reason: string };

/**
 * Whether run `runId`, admitted earlier, may still write night `runDate`, given the night's
 * runs-table item and the nights after it (oldest first): only while that item is the run's own
 * `writing` mark and no later night has begun. Otherwise the run is an old execution redriven (or
 * one that lost a race): another run rewrote the night, or later nights were written on top of it,
 * and whatever it wrote now would undo theirs. Pure.
 */
export function writerStanding(runDate: string, runId: string, own: StoredNight | undefined, later: readonly StoredNight[]): WriterStanding {
  const next = later[0];
  if (next !== undefined) {
    const what = isCompleted(next) ? 'was completed' : `began (run ${next.runId}, still marked as writing)`;
    return {
      kind: 'refused',
      reason:
        `the night of ${next.runDate} ${what} after run ${runId} was admitted to write ${runDate}: writing ${runDate} now would move clients back in time. ` +
        `Leave this execution failed; to redo ${runDate}, restore a backup from before ${next.runDate} and run the nights from ${runDate} onward in order.`,
    };
  }
  if (own === undefined) {
    return { kind: 'refused', reason: `the runs table holds no mark for ${runDate}: run ${runId} was never admitted to write it (its combine step did not complete). Start the night again.` };
  }
  if (own.runId !== runId) {
    return {
      kind: 'refused',
      reason: isCompleted(own)
        ? `run ${own.runId} completed ${runDate} after run ${runId} began it: the night is that run's. Leave this execution failed; to redo the night, start a new run of it.`
        : `run ${own.runId} began writing ${runDate} after run ${runId}: the night is that run's. Leave this execution failed and start the night again (clientele run nightly --date ${runDate}).`,
    };
  }
  return isCompleted(own) ? { kind: 'completed', summary: own } : { kind: 'writer' };
}

export interface WriterCheckContext {
  config: Config;
  clients: Pick<AwsClients, 'documents' | 's3'>;
  runDate: string;
  runId: string;
  log: Log;
}

/**
 * The check at the start of a shard's write and of the finish (writerStanding, on the runs table
 * read now): throws NightRefusedError, before anything is written, unless the run may still write
 * its night. Returns the night's summary when this run completed it already: the finish has
 * nothing left to do, a write is refused.
 */
export async function confirmWriter(context: WriterCheckContext, step: 'write' | 'finish'): Promise<NightlyRunSummary | undefined> {
  const { clients, config, runDate, runId, log } = context;
  const table = tableNames(config).runs;
  const [own, later] = await Promise.all([
    getRun<StoredNight>(clients.documents, table, { job: NIGHTLY_JOB, runDate }),
    runsAfter<StoredNight>(clients.documents, table, NIGHTLY_JOB, runDate, 1),
  ]);
  const standing = writerStanding(runDate, runId, own, later);
  if (standing.kind === 'writer') return undefined;
  if (standing.kind === 'completed' && step === 'finish') return wholeSummaryOf(clients.s3, standing.summary);
  const reason = standing.kind === 'refused' ? standing.reason : `run ${runId} already completed ${runDate}: nothing is left to write.`;
  log.error(`${step} refused: the run may no longer write its night, nothing written`, { step, nightRunId: own?.runId, nightStatus: own?.status, laterNight: later[0]?.runDate });
  throw new NightRefusedError(`${runDate} refused for run ${runId} at its ${step}, nothing written: ${reason}`);
}
