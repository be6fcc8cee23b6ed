import { readObjectText } from '#shared/aws/s3-objects.ts';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { AwsClients } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import { TIERS, type Reject, type Stage, type Tier } from '#shared/model.ts';
import type { NightlyRunSummary } from '#shared/nightly/run.ts';
import type { Distribution, RepurchaseFigures, RisingFigures } from '#shared/nightly/summary.ts';
import { paginate } from '#shared/store/paginate.ts';
import { campaignResultsKey, reportPrefix, reportsBucket } from '#shared/store/buckets.ts';
import { HISTORY_BY_RUN_DATE_INDEX, tableNames } from '#shared/store/tables.ts';
import { addDays } from '#shared/time.ts';
import type { CampaignResults } from './campaign-results-model.ts';
import { MigrationAccumulator, type TierMatrix, type TierMove } from './migration.ts';

/**
 * The nightly report's data step: everything the marketers' report shows, gathered into one typed
 * object from tonight's summary, the runs table (the trend), the tier history (migrations) and the
 * campaign results object. The render step (render-html.ts) is a pure function of this object.
 */

/** How many nightly runs the trend shows. */
export const TREND_RUNS = 30;
/** The long migration window, in days: the matrix compares each client's tier then and now. */
export const MIGRATION_WINDOW_DAYS = 30;

/** The file names of the report objects under the run's report prefix. */
export const REPORT_FILE = 'report.html';

export interface TrendPoint {
  runDate: string;
  clients: number;
  buyers: number;
  revenueMinor: number;
  tierClients: Record<Tier, number>;
  /** Absent for runs stored before the summary kept it. */
  repurchaseRate?: number;
  rising?: number;
  upgrades: number;
  downgrades: number;
  newClients: number;
  rejected: number;
}

export interface MigrationView {
  /** The window opened at the end of this run date (exclusive). */
  since: string;
  /** Run dates whose tier history the window holds. */
  runDates: string[];
  matrix: TierMatrix;
}

export interface NightlyReport {
  brandName: string;
  runDate: string;
  runId: string;
  currency: string;
  /** Where tonight's summary and rejects are. */
  summaryObject: string;
  distribution: Distribution;
  repurchase: {
    /** Absent when the stored summary predates the figure. */
    figures?: RepurchaseFigures;
    warningBelow: number;
    warning: boolean;
  };
  /** Absent when the stored summary predates the figure. */
  rising?: RisingFigures;
  clv: { fitted: boolean; skippedReason?: string };
  /** Tonight's movements against the stored base; previousRunDate is absent on the first night. */
  sincePreviousNight: MigrationView & { previousRunDate?: string };
  /** Since MIGRATION_WINDOW_DAYS days ago. */
  sinceWindowStart: MigrationView;
  stageMovements: Record<string, number>;
  rejects: { rows: number; rejected: number; share: number; sample: Reject[]; object?: string };
  /** Oldest first, tonight last; one point on a first night. */
  trend: TrendPoint[];
  /** Absent when the run wrote no campaign results (no campaign yet, or before they were computed). */
  campaignResults?: CampaignResults;
  /** Why the campaign results could not be read (the rest of the report does not depend on them). */
  campaignResultsError?: string;
  stages: Record<Stage, number>;
}

type DocumentSender = Pick<AwsClients['documents'], 'send'>;

/** The summary fields the trend reads from the runs table (the projection keeps the pages small). */
type StoredTrendItem = Pick<NightlyRunSummary, 'runDate' | 'distribution' | 'changes'> & {
  input?: Partial<Pick<NightlyRunSummary['input'], 'rejected'>>;
};

export function trendPoint(summary: StoredTrendItem): TrendPoint {
  const d = summary.distribution;
  return {
    runDate: summary.runDate,
    clients: d.clients,
    buyers: d.buyers,
    revenueMinor: d.revenueMinor,
    tierClients: Object.fromEntries(TIERS.map((t) => [t, d.tiers[t]?.clients ?? 0])) as Record<Tier, number>,
    ...(d.repurchase ? { repurchaseRate: d.repurchase.rate } : {}),
    ...(d.rising ? { rising: d.rising.clients } : {}),
    upgrades: summary.changes?.upgrades ?? 0,
    downgrades: summary.changes?.downgrades ?? 0,
    newClients: summary.changes?.newClients ?? 0,
    rejected: summary.input?.rejected ?? 0,
  };
}

/** The last `limit` nightly summaries up to runDate (inclusive), newest first. */
export async function recentNightlySummaries(
  documents: DocumentSender,
  runsTable: string,
  runDate: string,
  limit = TREND_RUNS,
): Promise<StoredTrendItem[]> {
  const items: StoredTrendItem[] = [];
  const pages = paginate<StoredTrendItem>((startKey) =>
    documents.send(
      new QueryCommand({
        TableName: runsTable,
        KeyConditionExpression: '#job = :job AND #runDate <= :runDate',
        ExpressionAttributeNames: { '#job': 'job', '#runDate': 'runDate', '#d': 'distribution', '#c': 'changes', '#i': 'input', '#r': 'rejected' },
        ExpressionAttributeValues: { ':job': 'nightly', ':runDate': runDate },
        ProjectionExpression: '#runDate, #d, #c, #i.#r',
        ScanIndexForward: false,
        Limit: limit,
        ExclusiveStartKey: startKey,
      }),
    ),
  );
  for await (const item of pages) {
    items.push(item);
    if (items.length >= limit) break; // stops the paging too
  }
  return items;
}

/** The stored summary of one night (the CLI renders a past night from it). */
export async function storedNightlySummary(
  documents: DocumentSender,
  runsTable: string,
  runDate: string,
): Promise<NightlyRunSummary | undefined> {
  const output = await documents.send(new GetCommand({ TableName: runsTable, Key: { job: 'nightly', runDate } }));
  return output.Item as NightlyRunSummary | undefined;
}

/** Every tier-history record of one run date (the byRunDate index), with only what the matrix needs. */
export function tierMovesOf(documents: DocumentSender, historyTable: string, runDate: string): AsyncGenerator<TierMove> {
  return paginate<TierMove>((startKey) =>
    documents.send(
      new QueryCommand({
        TableName: historyTable,
        IndexName: HISTORY_BY_RUN_DATE_INDEX,
        KeyConditionExpression: '#runDate = :runDate',
        ExpressionAttributeNames: { '#runDate': 'runDate', '#id': 'customerId', '#from': 'fromTier', '#to': 'toTier' },
        ExpressionAttributeValues: { ':runDate': runDate },
        ProjectionExpression: '#id, #runDate, #from, #to',
        ExclusiveStartKey: startKey,
      }),
    ),
  );
}

/** The run's campaign results object, or undefined when the run wrote none. */
export async function loadCampaignResults(clients: Pick<AwsClients, 's3'>, config: Config, runDate: string): Promise<CampaignResults | undefined> {
  const text = await readObjectText(clients.s3, reportsBucket(config), campaignResultsKey(config, runDate));
  return text ? (JSON.parse(text) as CampaignResults) : undefined;
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
}

/**
 * Tonight's and the long window's migrations, fed one tier-history record at a time so that a
 * large night (a first night holds a record per client) is never held in memory whole: only a
 * small entry per mover is kept.
 */
export class MigrationWindows {
  readonly tonight = new MigrationAccumulator();
  readonly window = new MigrationAccumulator();
  readonly windowStart: string;

  constructor(readonly runDate: string) {
    this.windowStart = addDays(runDate, -MIGRATION_WINDOW_DAYS);
  }

  add(move: TierMove): void {
    if (move.runDate > this.runDate || move.runDate <= this.windowStart) return;
    this.window.add(move);
    if (move.runDate === this.runDate) this.tonight.add(move);
  }

  static of(runDate: string, moves: Iterable<TierMove>): MigrationWindows {
    const windows = new MigrationWindows(runDate);
    for (const move of moves) windows.add(move);
    return windows;
  }
}

export interface ReportSources {
  config: Pick<Config, 'brandName' | 'reports'>;
  summary: NightlyRunSummary;
  /** Stored summaries up to tonight, any order; tonight's own entry is replaced by `summary`. */
  history: StoredTrendItem[];
  /** The tier history of the run dates in the long window, tonight's included. */
  migrations: MigrationWindows;
  campaignResults?: CampaignResults;
  campaignResultsError?: string;
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
  const current = Object.fromEntries(TIERS.map((t) => [t, summary.distribution.tiers[t].clients])) as Record<Tier, number>;
  const figures = summary.distribution.repurchase;
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
    ...(summary.distribution.rising ? { rising: summary.distribution.rising } : {}),
    clv: { fitted: summary.clv.fitted, ...(summary.clv.skippedReason ? { skippedReason: summary.clv.skippedReason } : {}) },
    sincePreviousNight: {
      since: previousRunDate ?? runDate,
      ...(previousRunDate ? { previousRunDate } : {}),
      runDates: [runDate],
      matrix: migrations.tonight.matrix(current),
    },
    sinceWindowStart: { since: migrations.windowStart, runDates: windowRunDates, matrix: migrations.window.matrix(current) },
    stageMovements: summary.changes.stageMovements,
    stages: summary.distribution.stages,
    rejects: {
      rows: summary.input.rows,
      rejected: summary.input.rejected,
      share: summary.input.rejectShare,
      sample: summary.input.sampleRejects,
      ...(summary.report.rejectsObject ? { object: summary.report.rejectsObject } : {}),
    },
    trend: history.map(trendPoint),
    ...(sources.campaignResults ? { campaignResults: sources.campaignResults } : {}),
    ...(sources.campaignResultsError ? { campaignResultsError: sources.campaignResultsError } : {}),
  };
}

/** Reads the report's sources from DynamoDB and S3, then builds it. */
export async function gatherNightlyReport(options: GatherOptions): Promise<NightlyReport> {
  const { config, clients, summary } = options;
  const tables = tableNames(config);
  const runDate = summary.runDate;
  const history = await recentNightlySummaries(clients.documents, tables.runs, runDate);
  const migrations = new MigrationWindows(runDate);
  // The tier history is keyed by run date: only dates a run stored can hold records.
  const runDates = new Set([runDate, ...history.map((s) => s.runDate).filter((d) => d > migrations.windowStart)]);
  for (const date of runDates) {
    for await (const move of tierMovesOf(clients.documents, tables.tierHistory, date)) migrations.add(move);
  }
  let campaignResults = options.campaignResults ?? undefined;
  let campaignResultsError: string | undefined;
  if (options.campaignResults === undefined) {
    try {
      campaignResults = await loadCampaignResults(clients, config, runDate);
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
  });
}
