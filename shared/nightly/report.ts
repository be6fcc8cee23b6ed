import type { AwsClients } from '#shared/aws/clients.ts';
import type { CampaignResults } from '#shared/campaign-results/model.ts';
import { campaignWaitsFor } from '#shared/campaigns/schema.ts';
import type { Config } from '#shared/config.ts';
import { TIERS, type Tier } from '#shared/model.ts';
import type { RisingFigures } from '#shared/tiering/distribution.ts';
import { absentFiguresOf, absentTotal, MigrationWindows, TREND_RUNS, type NightlyReport, type TrendPoint } from '#shared/reports/nightly-report.ts';
import { tierMovesOf } from '#shared/store/history-store.ts';
import { absentOnNight } from '#shared/store/profile-store.ts';
import { getRun, recentRuns } from '#shared/store/runs-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { readCampaignResults } from './campaign-results.ts';
import { wholeSummaryOf } from './runs-item.ts';
import { NIGHTLY_JOB, rowListCutText, type NightInProgress, type NightlyRunSummary } from './summary.ts';

/**
 * The nightly report's data step: everything the marketers' report shows, gathered from tonight's
 * summary, the runs table (the trend), the tier history (migrations) and the campaign results
 * object into one NightlyReport (shared/reports/), which the render steps draw.
 */

/** The summary fields the trend reads from the runs table (the projection keeps the pages small). */
type StoredTrendItem = Pick<NightlyRunSummary, 'job' | 'runDate' | 'distribution' | 'changes'> & {
  /** 'writing' for a night not completed (no figures yet): left out of the trend. */
  status?: 'writing' | 'completed';
  input?: Partial<Pick<NightlyRunSummary['input'], 'rejected'>>;
  clv?: Pick<NightlyRunSummary['clv'], 'fitted'>;
};

const TREND_ATTRIBUTES = ['status', 'distribution', 'changes', 'input.rejected', 'clv.fitted'] as const;

/**
 * A night's rising clients: none without a CLV fit. The distribution counts 0 rising clients on
 * such a night, which would read as "nobody is rising" beside "No CLV predictions tonight".
 */
function risingOf(summary: Pick<StoredTrendItem, 'distribution' | 'clv'>): RisingFigures | undefined {
  return summary.clv?.fitted === false ? undefined : summary.distribution.rising;
}

export function trendPoint(summary: StoredTrendItem): TrendPoint {
  const d = summary.distribution;
  const rising = risingOf(summary);
  return {
    runDate: summary.runDate,
    clients: d.clients,
    buyers: d.buyers,
    revenueMinor: d.revenueMinor,
    tierClients: Object.fromEntries(TIERS.map((t) => [t, d.tiers[t]?.clients ?? 0])) as Record<Tier, number>,
    ...(d.repurchase ? { repurchaseRate: d.repurchase.rate } : {}),
    ...(rising ? { rising: rising.clients } : {}),
    upgrades: summary.changes?.upgrades ?? 0,
    downgrades: summary.changes?.downgrades ?? 0,
    newClients: summary.changes?.newClients ?? 0,
    rejected: summary.input?.rejected ?? 0,
  };
}

export interface GatherOptions {
  config: Config;
  clients: Pick<AwsClients, 'documents' | 's3'>;
  /** Tonight's summary (the nightly run passes its own; the CLI reads it from the runs table). */
  summary: NightlyRunSummary;
  /**
   * The campaign results when the caller holds them; undefined: read the run's object from S3;
   * null: there are none.
   */
  campaignResults?: CampaignResults | null;
  /**
   * The clients the night found in no file, as the night counted them (the nightly run passes
   * them); undefined: read from the movers' profiles' absence marks when the night found any.
   */
  absentClients?: ReadonlySet<string>;
}

export interface ReportSources {
  config: Pick<Config, 'brandName' | 'reports' | 'rfmSegments'>;
  summary: NightlyRunSummary;
  /** Stored summaries up to tonight, any order; tonight's own entry is replaced by `summary`. */
  history: StoredTrendItem[];
  /** The tier history of the run dates in the long window, tonight's included. */
  migrations: MigrationWindows;
  campaignResults?: CampaignResults;
  campaignResultsError?: string;
  campaignsWaiting?: { campaignId: string; reason: string }[];
}

/** The report from its sources: pure, so the render tests build it from constructed data. */
export function buildNightlyReport(sources: ReportSources): NightlyReport {
  const { config, summary, migrations } = sources;
  const runDate = summary.runDate;
  const history = [...sources.history.filter((s) => s.runDate < runDate), summary]
    .sort((a, b) => (a.runDate < b.runDate ? -1 : a.runDate > b.runDate ? 1 : 0))
    .slice(-TREND_RUNS);
  const previousRunDate = history.length > 1 ? history[history.length - 2]?.runDate : undefined;
  const windowRunDates = history.map((s) => s.runDate).filter((d) => d > migrations.windowStart);
  // Whether the base at the window's start is known: a night stored on or before it.
  const firstStoredRunDate = sources.history.reduce((first, s) => (s.runDate < first ? s.runDate : first), runDate);
  const windowCovered = firstStoredRunDate <= migrations.windowStart;
  const current = Object.fromEntries(TIERS.map((t) => [t, summary.distribution.tiers[t].clients])) as Record<Tier, number>;
  const figures = summary.distribution.repurchase;
  const rising = risingOf(summary);
  const rejectsListedIn = rowListCutText(summary.report, 'rejects');
  const absent = absentFiguresOf(summary.admission?.tonight);
  const rules = rulesOf(summary);
  const warningBelow = config.reports.repurchaseWarningBelow;
  return {
    brandName: config.brandName,
    runDate,
    runId: summary.runId,
    currency: summary.currency,
    summaryObject: summary.report.summaryObject,
    distribution: summary.distribution,
    repurchase: {
      ...(figures ? { figures } : {}),
      warningBelow,
      // No 12-month buyer at all is no rate to warn about (an empty night shows its own empty state).
      warning: figures !== undefined && figures.buyers12m > 0 && figures.rate < warningBelow,
    },
    ...(rising ? { rising } : {}),
    clv: { fitted: summary.clv.fitted, ...(summary.clv.skippedReason ? { skippedReason: summary.clv.skippedReason } : {}) },
    sincePreviousNight: {
      since: previousRunDate ?? runDate,
      ...(previousRunDate ? { previousRunDate } : {}),
      runDates: [runDate],
      matrix: migrations.tonight.matrix(current),
    },
    sinceWindowStart: {
      since: migrations.windowStart,
      runDates: windowRunDates,
      matrix: migrations.window.matrix(current),
      ...(windowCovered ? {} : { firstStoredRunDate }),
    },
    stageMovements: summary.changes.stageMovements,
    ...(summary.distribution.rfmSegments ? { rfmSegments: segmentFigures(config.rfmSegments, summary.distribution.rfmSegments, summary.changes.rfmSegmentMovements ?? {}) } : {}),
    stages: summary.distribution.stages,
    rejects: {
      rows: summary.input.rows,
      rejected: summary.input.rejected,
      share: summary.input.rejectShare,
      warningAbove: config.reports.rejectedRowsWarningAbove,
      warning: summary.input.rejectShare > config.reports.rejectedRowsWarningAbove,
      sample: summary.input.sampleRejects,
      ...(summary.report.rejectsObject ? { object: summary.report.rejectsObject } : {}),
      ...(rejectsListedIn ? { listedIn: rejectsListedIn } : {}),
    },
    ...(absent ? { absent } : {}),
    ...(rules ? { rules } : {}),
    trend: history.map(trendPoint),
    ...(sources.campaignResults ? { campaignResults: sources.campaignResults } : {}),
    ...(sources.campaignResultsError ? { campaignResultsError: sources.campaignResultsError } : {}),
    ...(sources.campaignsWaiting && sources.campaignsWaiting.length > 0 ? { campaignsWaiting: sources.campaignsWaiting } : {}),
    ...(summary.advisorFollowThrough ? { advisors: summary.advisorFollowThrough } : {}),
    ...rosterNotUsedOf(summary),
  };
}

/** A roster file in tonight's export that the night did not use (as the run's warning: run.ts writeShard). */
function rosterNotUsedOf(summary: NightlyRunSummary): Pick<NightlyReport, 'rosterNotUsed'> {
  const roster = summary.roster;
  if (roster === undefined || roster.status === 'updated' || !summary.input.files.some((file) => file.kind === 'advisors')) return {};
  return { rosterNotUsed: { reason: roster.reason ?? 'no reason recorded', ...(roster.since === undefined ? {} : { since: roster.since }) } };
}


/** The rules changed since the last completed night and the checks the operator accepted, when there are any. */
function rulesOf(summary: NightlyRunSummary): NightlyReport['rules'] {
  const admission = summary.admission;
  const changed = admission?.rulesChanged ?? [];
  const accepted = (admission?.accepted ?? []).map((violation) => violation.message);
  if (changed.length === 0 && accepted.length === 0) return undefined;
  return { since: admission?.lastNight?.runDate ?? 'the last night', changed, accepted };
}

/**
 * Buyers per segment in the map's order (a segment the map no longer names, from a changed
 * config, after them), and how many moved in and out tonight.
 */
function segmentFigures(rules: Config['rfmSegments'], buyers: Record<string, number>, movements: Record<string, number>): NonNullable<NightlyReport['rfmSegments']> {
  const names = rules.map((rule) => rule.name);
  for (const name of Object.keys(buyers)) if (!names.includes(name)) names.push(name);
  const movedIn = new Map<string, number>();
  const movedOut = new Map<string, number>();
  for (const [move, n] of Object.entries(movements)) {
    const [from = '', to = ''] = move.split('→');
    movedOut.set(from, (movedOut.get(from) ?? 0) + n);
    movedIn.set(to, (movedIn.get(to) ?? 0) + n);
  }
  return {
    segments: names.map((name) => ({ name, buyers: buyers[name] ?? 0, movedIn: movedIn.get(name) ?? 0, movedOut: movedOut.get(name) ?? 0 })),
    movements,
  };
}

/** The stored summary of one night, whole (the CLI renders a past night from it), or undefined. */
export async function storedNightlySummary(clients: Pick<AwsClients, 'documents' | 's3'>, config: Pick<Config, 'storage'>, runDate: string): Promise<NightlyRunSummary | undefined> {
  const run = await getRun<NightlyRunSummary | NightInProgress>(clients.documents, tableNames(config).runs, { job: NIGHTLY_JOB, runDate });
  return run === undefined || run.status === 'writing' ? undefined : wholeSummaryOf(clients.s3, run as NightlyRunSummary);
}

/** Reads the report's sources from DynamoDB and S3, then builds it. */
export async function gatherNightlyReport(options: GatherOptions): Promise<NightlyReport> {
  const { config, clients, summary } = options;
  const tables = tableNames(config);
  const runDate = summary.runDate;
  // A few more than the trend shows: nights still being written are left out, and a night older
  // than the 30-day window tells the report the base at the window's start is known (the trend
  // itself keeps the last TREND_RUNS).
  const history = (await recentRuns<StoredTrendItem>(clients.documents, tables.runs, NIGHTLY_JOB, runDate, { limit: TREND_RUNS + 5, attributes: TREND_ATTRIBUTES })).filter(
    (run) => run.status !== 'writing',
  );
  const migrations = new MigrationWindows(runDate);
  // The tier history is keyed by run date: only dates a run stored can hold records.
  const runDates = new Set([runDate, ...history.map((s) => s.runDate).filter((d) => d > migrations.windowStart)]);
  for (const date of runDates) {
    for await (const move of tierMovesOf(clients.documents, tables.tierHistory, date)) migrations.add(move);
  }
  // A client who moved in the window and is in no file tonight keeps the history but is not in
  // tonight's counts: as a mover, they would push a stayer off the diagonal. The night says who
  // they are; a past night's report (the CLI) reads the movers' marks, only when that night found
  // clients absent: up to one request per 100 movers (today's marks: one brought back since counts
  // as present).
  if (options.absentClients !== undefined) {
    const absent = options.absentClients;
    migrations.leaveOut(migrations.moverIds().filter((id) => absent.has(id)));
  } else if (absentTotal(absentFiguresOf(summary.admission?.tonight)) > 0) {
    migrations.leaveOut(await absentOnNight(clients.documents, tables.profiles, migrations.moverIds(), runDate));
  }
  let campaignResults = options.campaignResults ?? undefined;
  let campaignResultsError: string | undefined;
  if (options.campaignResults === undefined) {
    try {
      campaignResults = await readCampaignResults(clients.s3, config, runDate);
    } catch (error) {
      campaignResultsError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
  }
  return buildNightlyReport({
    config,
    summary,
    history,
    migrations,
    ...(campaignResults ? { campaignResults } : {}),
    ...(campaignResultsError ? { campaignResultsError } : {}),
    campaignsWaiting: config.campaigns.campaigns.flatMap((campaign) => {
      const reason = campaignWaitsFor(campaign, config.campaigns);
      return reason === undefined ? [] : [{ campaignId: campaign.id, reason }];
    }),
  });
}
