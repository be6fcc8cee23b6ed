import type { AdvisorFollowThrough } from '#shared/advisors/follow-through.ts';
import type { ClvRunReport } from '#shared/clv/profile-clv.ts';
import type { CampaignHeadline } from '#shared/campaign-results/results.ts';
import type { RosterOutcome } from '#shared/advisors/roster.ts';
import type { AdvisorDigestSummary } from '#shared/digests/advisor-digests.ts';
import type { FileReport } from '#shared/exports/reader.ts';
import type { Reject } from '#shared/model.ts';
import type { Distribution } from '#shared/tiering/distribution.ts';
import type { GuardViolation, LastNight, NightFigures, NightMoves, NightRules, TonightFigures } from './guards.ts';

/**
 * What a nightly run reports: its progress while it runs and its summary once done (summary.json
 * beside the report, and in the runs table with its growing lists cut to a sample: runs-item.ts).
 * Types (and how the row lists' cut is said) only, so that every step of the night (the report,
 * the digests, the CLI) can read them without importing the run itself.
 */

/** The runs-table job of the nightly runs' summaries. */
export const NIGHTLY_JOB = 'nightly';

export type NightlyStep = 'read' | 'compute' | 'load' | 'write';

export interface NightlyProgress {
  step: NightlyStep;
  done: number;
  total?: number;
}

/** What the summary keeps of the report step (merged into NightlyRunSummary.report). */
export interface ReportOutcome {
  /** s3://bucket/key of report.html, when it was written. */
  reportObject?: string;
  /** Why the report could not be gathered or written. */
  reportError?: string;
  /** The summary email: absent when no team address is configured. */
  teamEmail?: {
    recipients: number;
    sent: number;
    failed: number;
    /** An earlier run of the same night sent it: a rerun does not mail the team again. */
    alreadySent?: boolean;
    /**
     * Addresses an earlier run of the night claimed without recording the email sent (it died before
     * SES answered, or SES may have taken it): not sent again by itself, and not counted as sent.
     */
    unresolved?: number;
  };
}

/** The runs-table item of a night being written: replaced by its summary once the night completes. */
export interface NightInProgress {
  job: 'nightly';
  runDate: string;
  status: 'writing';
  runId: string;
  /** ISO instant. */
  startedAt: string;
  /** ISO instant of the night's clock (NightlyRunSummary.clockAt; absent from markers written before). */
  clockAt?: string;
  /** The input this attempt read, as NightlyRunSummary.input.fingerprint (absent from markers written before). */
  fingerprint?: string;
  /** NightlyRunSummary.snapshotBy, as this attempt's admission set it (absent from markers written before). */
  snapshotBy?: string;
}

/** What the gate before the writes saw (admission.ts). */
export interface NightAdmission {
  /** Tonight's figures (the moves are absent in summaries written before they were counted). */
  tonight: TonightFigures;
  /** The last completed night the figures were compared with; absent on a first night. */
  lastNight?: LastNight;
  /** Checks that failed and that the operator accepted (--accept-drop). */
  accepted?: GuardViolation[];
  /** The rules that place clients (NightRules) that changed since the last completed night, e.g. "tiers.core 5000 → 3000". */
  rulesChanged?: string[];
  /**
   * NightlyRunSummary.snapshotBy as the gate set it (admission.ts snapshotBoundOf), carried to the
   * finish, which writes it beside startedAt (not kept here in the summary). Absent from admissions
   * written before.
   */
  snapshotBy?: string;
}

/**
 * How many rejects (warnings) the rejects (warnings) object lists, and how many of those counted in
 * `input.rejected` (`input.warned`) it does not: a night keeps the first MAX_KEPT_REJECTS
 * (MAX_KEPT_WARNINGS) by file and line in memory, so that a huge export with many bad rows stays
 * within its memory. Set with their object; absent in summaries written before they were counted.
 */
export interface RowListsCut {
  rejectsListed?: number;
  rejectsNotListed?: number;
  warningsListed?: number;
  warningsNotListed?: number;
}

/**
 * "10,500 rejects, the first 10,000 listed in s3://…" when the rejects (or warnings) object lists
 * fewer than the night counted; undefined when it lists them all. Pure.
 */
export function rowListCutText(report: Pick<NightlyRunSummary['report'], 'rejectsObject' | 'warningsObject'> & RowListsCut, kind: 'rejects' | 'warnings'): string | undefined {
  const object = kind === 'rejects' ? report.rejectsObject : report.warningsObject;
  const [listed, notListed] = kind === 'rejects' ? [report.rejectsListed, report.rejectsNotListed] : [report.warningsListed, report.warningsNotListed];
  if (object === undefined || listed === undefined || !notListed) return undefined;
  const n = (value: number) => value.toLocaleString('en-US');
  return `${n(listed + notListed)} ${kind}, the first ${n(listed)} listed in ${object}`;
}

export interface NightlyRunSummary {
  job: 'nightly';
  /** Absent in summaries written before nights were marked while being written. */
  status?: 'completed';
  runId: string;
  runDate: string;
  source: string;
  currency: string;
  /** The rules the night placed clients by (absent in summaries written before they were kept). */
  rules?: NightRules;
  startedAt: string;
  /**
   * ISO instant of the night's clock: the start of the day after its run date in the brand's zone of
   * that night (its snapshot's cut-off). The hours read it, not the run date in the zone of the hour,
   * so a change of `timeZone` does not move it (absent in summaries written before it was kept).
   */
  clockAt?: string;
  /**
   * ISO instant by which the night's snapshot was dumped: the start of the earliest attempt of the
   * night that read the same input (fingerprint) in a row of attempts, this one's when none did:
   * an attempt reads its export after it starts. The hours order their increments against it
   * (shared/sender/increment-consent.ts). Absent in summaries written before (startedAt then).
   */
  snapshotBy?: string;
  durationMs: number;
  /**
   * compute: profiles built and compared with the base (one pass); load: the comparison alone in
   * summaries written before profiles were streamed, 0 since (it is part of compute).
   */
  timingsMs: { read: number; compute: number; load: number; write: number };
  input: {
    files: FileReport[];
    rows: number;
    rejected: number;
    rejectShare: number;
    /** Order lines accepted (absent in older summaries: derived from the orders files). */
    orderLines?: number;
    /** Clients of the export left out because they asked to be forgotten. */
    erasedClients?: number;
    /** Order lines rejected because neither the export nor the base knows their customer_id (counted in `rejected`). */
    unknownCustomerLines?: number;
    /** Optional fields dropped from rows that were kept (the full list is in the warnings object). */
    warned?: number;
    /** sha256 over the export's files and the configuration: a rerun with the same one writes nothing (repeat.ts). */
    fingerprint?: string;
    /** The first rejects, for a quick look; the full list is in the rejects object. */
    sampleRejects: Reject[];
  };
  distribution: Distribution;
  /** The CLV models fitted tonight (parameters, fit quality), or why they were not. */
  clv: ClvRunReport;
  changes: {
    newClients: number;
    changedProfiles: number;
    unchangedProfiles: number;
    upgrades: number;
    downgrades: number;
    tierMovements: Record<string, number>;
    stageMovements: Record<string, number>;
    /** Buyers' RFM segment moves, e.g. { "loyal→at-risk": 12 }; absent in summaries written before segments. */
    rfmSegmentMovements?: Record<string, number>;
  };
  /** What the night changed: the same whether it ran once or was rerun after a crash (retries: this attempt's). */
  written: { profiles: number; tierHistory: number; retries: number };
  /** The plausibility checks against the last completed night (absent in older summaries). */
  admission?: NightAdmission;
  /** Shards the run was split into (1: a single run). */
  shards: number;
  /**
   * The format of the profiles the night wrote (PROFILE_FORMAT, shared/model.ts), when every shard
   * wrote this version's: the hourly sender decides nothing on another format's profiles
   * (shared/sender/profile-format.ts). Absent in summaries of versions before it was recorded.
   */
  profileFormat?: number;
  /** What the night did with the advisors roster (absent in summaries written before it existed). */
  roster?: RosterOutcome;
  /** Per campaign, all tiers, each window: sends, uplift and significance (the full results are in campaignResultsObject). */
  campaignResults: CampaignHeadline[];
  /** Where the run's report objects are; the nightly report's outcome (report.html, team email) too. */
  report: { summaryObject: string; rejectsObject?: string; warningsObject?: string; campaignResultsObject: string } & RowListsCut & ReportOutcome;
  /** On the digest weekday (config.reports.advisorDigestWeekday): the advisors' weekly digests. */
  advisorDigests?: AdvisorDigestSummary;
  /** What became of the advisors' tasks, bought-after-a-task against the control group, clients waiting for a new advisor; absent without advisors or tasks. */
  advisorFollowThrough?: AdvisorFollowThrough;
  /** Why the follow-through could not be computed (the rest of the night does not depend on it). */
  advisorFollowThroughError?: string;
  /**
   * Only in the runs-table item (runs-item.ts), never in summary.json: the lists the item keeps a
   * sample of, by path, with their full length; `reduced` when even the samples and the per-store
   * figures were left out to fit. Absent in items written whole (and before lists were cut).
   */
  listsCut?: { lengths: Record<string, number>; reduced?: boolean };
  /**
   * Only in what a rerun returns, never stored in the summary: this attempt found the night
   * completed from the same export and configuration and wrote nothing (repeat.ts).
   */
  rerun?: { runId: string; startedAt: string; of: string };
}
