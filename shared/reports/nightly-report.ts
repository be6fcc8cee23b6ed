import type { AdvisorFollowThrough } from '#shared/advisors/follow-through.ts';
import type { CampaignResults } from '#shared/campaign-results/model.ts';
import type { Reject, Stage, Tier, TierMove } from '#shared/model.ts';
import type { Distribution, RepurchaseFigures, RisingFigures } from '#shared/tiering/distribution.ts';
import { addDays } from '#shared/time.ts';
import { MigrationAccumulator, type TierMatrix } from './migration.ts';

/**
 * What the marketers' nightly report shows, as one typed object: the nightly run gathers it
 * (shared/nightly/report.ts) from tonight's summary, the runs table (the trend), the tier history
 * (migrations) and the campaign results; the render step (render-html.ts) and the team email
 * (team-email.ts) are pure functions of it.
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
  /**
   * Since MIGRATION_WINDOW_DAYS days ago. `firstStoredRunDate` is set when no stored night is as
   * old as the window's start: the base then is unknown, so its clients would all count as new.
   */
  sinceWindowStart: MigrationView & { firstStoredRunDate?: string };
  stageMovements: Record<string, number>;
  /**
   * Buyers per RFM segment in the config's order, with tonight's moves between segments; absent
   * when tonight's summary predates segments.
   */
  rfmSegments?: { segments: { name: string; buyers: number; movedIn: number; movedOut: number }[]; movements: Record<string, number> };
  /** `warning`: the share is above `warningAbove` (config.reports.rejectedRowsWarningAbove). */
  /** `listedIn`: "10,500 rejects, the first 10,000 listed in s3://…" when the object lists fewer than `rejected` (RowListsCut). */
  rejects: { rows: number; rejected: number; share: number; warningAbove: number; warning: boolean; sample: Reject[]; object?: string; listedIn?: string };
  /**
   * What the admission said of tonight (summary.admission): the rules that place clients that changed
   * since the last completed night ("tiers.vic 50000 → 70000"), and the checks the operator accepted
   * (--accept-drop): tonight's moves come from them too, so the team reads them beside the moves.
   */
  rules?: { since: string; changed: string[]; accepted: string[] };
  /** Clients of the base in no file of tonight's export (shared/nightly/absent.ts): for the first time, and since an earlier night. Absent for runs stored before they were counted. */
  absent?: {
    newly: number;
    still: number;
    /** After a last night of a version before absence marks: those missing since before it, marked tonight and not counted as newly absent (guards.ts withAbsentBeforeMarking). */
    beforeMarking?: number;
  };
  /** Oldest first, tonight last; one point on a first night. */
  trend: TrendPoint[];
  /** Absent when the run wrote no campaign results (no campaign yet, or before they were computed). */
  campaignResults?: CampaignResults;
  /** Why the campaign results could not be read (the rest of the report does not depend on them). */
  campaignResultsError?: string;
  /** Enabled campaigns that cannot send under tonight's configuration, and why (the seasonal play without seasons). */
  campaignsWaiting?: { campaignId: string; reason: string }[];
  stages: Record<Stage, number>;
  /** The advisors' follow-through (tasks, bought after a task against the control group, clients waiting for an advisor); absent without advisors. */
  advisors?: AdvisorFollowThrough;
  /**
   * Tonight's export carried an advisors roster that was not used (summary.roster kept or none),
   * why, and the night of the roster still in use (absent when there is none). Absent when the
   * roster was used, or the export carries none (a brand without a roster is not warned nightly).
   */
  rosterNotUsed?: { reason: string; since?: string };
}

/** The clients the night found in no file, as its admission counted them (undefined in summaries written before they were counted). */
export function absentFiguresOf(tonight: { newlyAbsent?: number; stillAbsent?: number; absentBeforeMarking?: number } | undefined): NightlyReport['absent'] {
  if (tonight?.newlyAbsent === undefined) return undefined;
  const beforeMarking = tonight.absentBeforeMarking ?? 0;
  return { newly: tonight.newlyAbsent, still: tonight.stillAbsent ?? 0, ...(beforeMarking > 0 ? { beforeMarking } : {}) };
}

/** All of them: for the first time, since an earlier night, and those missing since before absence was marked. */
export function absentTotal(absent: NightlyReport['absent']): number {
  return absent ? absent.newly + absent.still + (absent.beforeMarking ?? 0) : 0;
}

/** The admission's words beside tonight's moves: the rules changed since the last night, and what the operator accepted. */
export function rulesLines(report: NightlyReport): string[] {
  const rules = report.rules;
  if (!rules) return [];
  return [
    ...(rules.changed.length > 0 ? [`The rules that place clients changed since ${rules.since}: ${rules.changed.join(', ')}; tonight's tier moves include those the new rules made.`] : []),
    ...rules.accepted.map((message) => `Accepted by the operator (--accept-drop): ${message}.`),
  ];
}

/** The roster of tonight's export that was not used, as a warning line; none when it was used or there was none. */
export function rosterLines(report: NightlyReport): string[] {
  const roster = report.rosterNotUsed;
  if (!roster) return [];
  const inUse = roster.since === undefined ? 'no roster is in use yet' : `the roster of ${roster.since} stays in use`;
  return [`The advisors roster of tonight's export was not used (${roster.reason}): ${inUse}. Check the roster file.`];
}

/** The words for those missing since before absence was marked, after their count ("4 missing since before ..."). */
export const ABSENT_BEFORE_MARKING_WORDS = "missing since before this version's first night";

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

  /** The window's movers (tonight's are among them). */
  moverIds(): string[] {
    return this.window.moverIds();
  }

  /** Leaves these clients out of both matrices: they are not among tonight's clients. */
  leaveOut(customerIds: readonly string[]): void {
    this.window.leaveOut(customerIds);
    this.tonight.leaveOut(customerIds);
  }

  static of(runDate: string, moves: Iterable<TierMove>): MigrationWindows {
    const windows = new MigrationWindows(runDate);
    for (const move of moves) windows.add(move);
    return windows;
  }
}

