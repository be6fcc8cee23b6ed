import { SCHEDULED_RUN_MAX_DELAY_MINUTES } from './campaigns-event.ts';
import { randomUUID } from 'node:crypto';
import type { AwsClients } from '#shared/aws/clients.ts';
import { compareDueClients, dueOccasions, endedOccasions, judgedProfile, type DueOccasion } from '#shared/campaigns/due.ts';
import { dueIndexing, dueSelection, nextDueAt, type DueIndexing, type DueSelection } from '#shared/campaigns/due-index.ts';
import { companionOccasions, decide, frequencyCapReason, occasionInAudience, quietHoursAtDeparture, type CapReason, type DecidedOccasion, type Decision, type RecentSend } from '#shared/campaigns/policy.ts';
import type { Config } from '#shared/config.ts';
import { afterOutcome, CLOSED_BREAKER, type BreakerState } from '#shared/delivery/circuit-breaker.ts';
import { readAccount, sesAccountReader, type SesAccountReader } from '#shared/delivery/ses-account.ts';
import { createSesMailer, type SesMailer } from '#shared/delivery/ses-mailer.ts';
import { isDailyQuotaExceeded, type SendOutcome } from '#shared/delivery/outcome.ts';
import { sendingPlan, type SendingPlan } from '#shared/delivery/sending-plan.ts';
import { deadlinePassed } from '#shared/delivery/send-deadline.ts';
import { dictionaryFrom, ownEntry } from '#shared/dictionary.ts';
import { ClienteleError } from '#shared/errors.ts';
import { maskEmail, silentLog, type Log } from '#shared/log.ts';
import type { AdvisorRecord, ClientProfile, ProductRecord } from '#shared/model.ts';
import { readCatalog, readCategoryAffinity } from '#shared/store/catalog-store.ts';
import type { CategoryAffinity } from '#shared/segments/category-affinity.ts';
import { knownAdvisors } from '#shared/advisors/roster.ts';
import { OCCASION_ENDS_UNSENT } from '#shared/advisors/tasks.ts';
import { readRoster } from '#shared/store/roster-store.ts';
import { putRun, recentRuns } from '#shared/store/runs-store.ts';
import { claimEach, deferUnsent, deliverClaimed, releaseClaims } from '#shared/delivery/deliver.ts';
import { clientEmail } from '#shared/delivery/ses-email.ts';
import {
  claimHoursBetween,
  deleteLedgerEntries,
  isClaimable,
  ledgerEntriesOf,
  ledgerViewOf,
  recordDecision,
  recordExpiry,
  unresolvedSends,
  type ClaimRequest,
  type LedgerEntry,
  type LedgerKey,
} from '#shared/store/ledger-store.ts';
import { queryDueProfiles, scanProfiles, updateNextDue, type ProfileItem } from '#shared/store/profile-store.ts';
import {
  clearDueIndexFloors,
  clearExpiryFrom,
  noteExpiryFrom,
  noteReindexing,
  readCampaignsEnabledSince,
  readDueIndexFloors,
  readDueIndexState,
  recordCampaignsEnabledSince,
  recordDueIndexState,
} from '#shared/store/due-index-store.ts';
import { isClientSuppressed, suppressedAmong } from '#shared/store/suppression-store.ts';
import { erasedAmong } from '#shared/store/erasure-store.ts';
import { eraseAgain } from '#shared/forget/forget.ts';
import { tableNames } from '#shared/store/tables.ts';
import { SENDER_ALERTS } from '#shared/alerts.ts';
import { closeTasksOfOccasion, recordTaskEmailed, settledWithoutAdvisor, takeTaskForSending, taskGate, type TaskGateRun } from './advisor-tasks.ts';
import { composeClientEmail, noteAdvisor } from './compose.ts';
import { couponDrawer, type CouponDrawer, type CouponPoolCounts } from './coupons.ts';
import { emptyIntroductionCounts, sendIntroductions, type IntroductionCounts } from './introductions.ts';
import { formatHold, type FormatHold } from './profile-format.ts';
import { campaignsCaughtUp, nightsBehind, type NightsBehind } from './nights-behind.ts';
import { dueIndexFingerprint } from './due-selection.ts';
import { lapseCampaignIds, mailedForLaterOrder } from './earlier-order.ts';
import { campaignsEnabledSince, closedAtDepartureReason, expiryReason, expirySince } from './expiry.ts';
import { lapseLadders, predictedDayKeyedCampaigns, withCurrentKeys } from './legacy-keys.ts';
import { entriesOfOtherEmails, recentEmails } from './recent-emails.ts';
import { ingestIncrementalExports, markUndoneByNight, nightsOfHour, type IngestSummary, type MergedIncrement } from './ingest.ts';
import { localDate } from '#shared/time.ts';

/**
 * The hourly campaign sender, in steps:
 *  1. merge the incremental exports dropped since the last hour (ingest.ts); a bad one is
 *     quarantined and skipped, the hour goes on;
 *  2. read the SES account (quota, sending status) into a sending plan: the pace, how many emails
 *     at most, or why none may go (sending-plan.ts);
 *     When the last completed night wrote the profiles in another format than this version reads
 *     (an upgrade before its first night), the hour stops here: nothing decided, sent or expired
 *     until a night of this version completes (profile-format.ts), only step 6;
 *     when the last completed night is older than the last night due (nights missed, or being
 *     backfilled), the occasions that rest on no order since the night (win-back, recall, run-out
 *     and reorder reminders) are not decided this hour (nights-behind.ts); the others go;
 *  3. select the clients due now, minus what the ledger has settled, most urgent first; occasions
 *     whose window closed while waiting (or before any run decided them) are recorded 'expired'.
 *     The clients come from the due index (shared/campaigns/due-index.ts): only the profiles with a
 *     send window open or just closed that may still need a run (not ended in their ledger, an
 *     audience that may hold, something to show) are read, and their index values brought up to date; a
 *     run without a usable index (the first, or the configuration or catalogue changed) reads
 *     every profile once and rebuilds it;
 *  4. look them up on the suppression list (their addresses, and their ids: a client's own no);
 *  5. per client, decide each occasion (consent, suppression, cap, quiet hours, control group) and
 *     settle it (an email to send meets the client's quiet hours again when it leaves, on the
 *     real clock: a late or long run defers it): a decision is written to the ledger, a send goes through the delivery protocol
 *     (shared/delivery: claim, send through SES, record); an email held for want of a coupon code
 *     lets the client's next occasion be decided in its place. Once sending stops (the account cannot
 *     send, its quota is spent, SES refused the account, or the circuit breaker opened after
 *     consecutive transport failures, or the run's deadline leaves no time for the next email: its
 *     pacing wait would pass it) the remaining clients are left untouched for a later hour;
 *  6. report the sends nobody can settle without a person: stale claims and maybe-sent emails.
 * Rerunning an hour, or two runs at once, sends nothing twice. A run stopped by the circuit breaker
 * or by SES refusing the account fails (campaignRunFailure) once its summary is out.
 */

export const OUTCOMES = ['sent', 'failed', 'maybe-sent', 'held-out', 'suppressed', 'no-consent', 'capped', 'deferred', 'expired', 'out-of-audience', 'advisor-handled', 'already-mailed'] as const;
export type RunOutcome = (typeof OUTCOMES)[number];

export interface CampaignCounts extends Record<RunOutcome, number> {
  /** Occasions due now and not yet settled in the ledger. */
  due: number;
  /** Claimed by another run (or an earlier run of this hour) between our read and our claim. */
  alreadyClaimed: number;
  /** Due, but left untouched for a later hour: sending stopped (see the summary's `stopped`). */
  left: number;
}

export interface PlannedDecision {
  campaignId: string;
  occasionKey: string;
  customerId: string;
  email?: string;
  outcome: Decision['outcome'] | 'expired' | 'already-mailed';
  reason?: string;
}

/** Why a run stopped sending. The first two fail the run (campaignRunFailure); the others are planned and reported. */
export type StopReason = 'circuit-breaker' | 'ses-refused-account' | 'sending-blocked' | 'quota-used' | 'deadline';

export interface UnresolvedSend {
  customerId: string;
  occasionKey: string;
  claimedAt: string;
  runId: string;
  reason?: string;
}

export interface CampaignRunSummary {
  job: 'campaigns';
  runId: string;
  at: string;
  dryRun: boolean;
  ingested: IngestSummary;
  /** What the SES account allowed this run: pace, budget, or why nothing could go. */
  sending: SendingPlan;
  /** Profiles read to find the due clients (the index's, or every one on a full scan). */
  clientsScanned: number;
  /** How the run found its clients, and how many index values it brought up to date. */
  selection: SelectionSummary;
  clientsDue: number;
  /**
   * Clients this hour merged from an increment whose profile a night still writing has rewritten
   * since (it no longer names the increment): not decided this hour, not counted as due; the next
   * hour merges the increment again into the night's profile and decides. Absent when none.
   */
  undoneByNight?: number;
  campaigns: Record<string, CampaignCounts>;
  /** The coupon pools this run drew from, by campaign: codes left, drawn, reused, emails held for want of a code. */
  coupons?: Record<string, CouponPoolCounts>;
  /** The handovers' introduction emails settled this hour (introductions.ts). */
  introductions?: IntroductionCounts;
  /** Set when the run stopped sending before the end of its list; the rest are counted as `left`. */
  stopped?: { reason: StopReason; message: string };
  /**
   * Set when the hour decided and sent nothing because the last completed night wrote the profiles
   * in another format than this version reads (an upgrade before its first night: profile-format.ts);
   * increments were still merged. The first hour after a night of this version completes sends as usual.
   */
  held?: FormatHold;
  /**
   * Set when the last completed night is older than the last night due (nights-behind.ts): the
   * occasions of `campaigns` (resting on no order since the night) were not decided, `occasionsHeld`
   * of them due; they stay due for the hours after the nights catch up. The others went as usual.
   */
  behind?: NightsBehindSummary;
  /** Claims never resolved (a run died between claim and SES): reported, never resent. */
  staleClaims: UnresolvedSend[];
  /** Emails SES may have taken (a timeout, a reset, a 5xx) in the last two days: reported, never resent blindly. */
  maybeSent: UnresolvedSend[];
  /**
   * Advisors' task emails SES (or the mailer) refused for good this hour: each advisor never had the
   * task, so the client's note went from the client care team (logged with the advisor id). Absent when none.
   */
  taskEmailsRefused?: number;
  /** Dry run only: who would get what. Emails masked. */
  plan?: PlannedDecision[];
  /**
   * What the mailer did: `sent` counts the emails SES took (campaign emails, introductions,
   * advisors' task emails), one per email however many occasions it settles; the campaigns'
   * `sent` counts occasions.
   */
  mailer: { sent: number; failed: number; throttledRetries: number; unreachableRetries: number; maxObservedRate: number; haltedBy?: string };
  durationMs: number;
}

/** CampaignRunSummary.behind: the hold and how many due occasions it kept undecided this hour. */
export interface NightsBehindSummary extends NightsBehind {
  occasionsHeld: number;
}

export type SelectionSummary =
  | { mode: 'index'; reindexed: number }
  | { mode: 'full-scan'; reason: Extract<DueSelection, { mode: 'full-scan' }>['reason']; reindexed: number }
  /** No client read: the hour waited for the first night of this version (CampaignRunSummary.held). */
  | { mode: 'held'; reindexed: 0 };

export interface CampaignRunOptions {
  at: number;
  runId: string;
  config: Config;
  clients: AwsClients;
  /** HMAC secret of the unsubscribe links. */
  unsubscribeSecret: string;
  dryRun?: boolean;
  log?: Log;
  /** Defaults to SES through clients.ses, paced at the sending plan's rate (config.sender.maxSendRate at most). */
  mailer?: SesMailer;
  /** Defaults to SESv2 GetAccount through clients.ses. */
  accountReader?: SesAccountReader;
  /** Test seam: runs after a claim is written and before SES is called (to inject a crash). */
  afterClaim?: (key: LedgerKey) => Promise<void>;
  /**
   * The real clock (epoch ms) of an hour run live through SES (realClockFor): each email is checked
   * against the client's quiet hours when it leaves, which may be long after the hour the run
   * decides for. Without it (a dry run, the emulators' simulated hours) an email leaves at the hour
   * plus the time the run has taken so far. A claim records it too (LedgerEntry.claimWrittenAt):
   * stale claims are judged on it, not on the hour.
   */
  realClock?: () => number;
  /**
   * The clock the nights' write leases are taken on (their context clock: Date.now in AWS and in
   * the CLI, on the emulators too), on which an hour judges whether a night writer still writes
   * (its due-index floor, shared/store/due-index-store.ts): an emulated hour's simulated clock
   * would find a night still writing ended and clear its floor. Without it, the hour itself (tests
   * whose nights and hours share one simulated clock; not realClock, which paces the departures).
   */
  leaseClock?: () => number;
  /**
   * The last instant (epoch ms, real clock) an email's SES call may start (send-deadline.ts): the
   * Lambda's end minus a margin. No email is claimed whose pacing wait would pass it; the rest stay
   * due for the next hour. None: the run sends until its list ends (the CLI, local runs).
   */
  deadline?: number;
}

/**
 * The real clock for runCampaigns when its emails really leave now: an hour run through SES, which
 * hourRefusal keeps within an hour of the clock. A dry run sends nothing, and an hour on the
 * emulators is a simulated one, whatever the clock says: both keep to the hour's own time.
 */
export function realClockFor(options: { dryRun: boolean; emulated: boolean }): (() => number) | undefined {
  return options.dryRun || options.emulated ? undefined : Date.now;
}

/** A run that stopped sending because something is wrong (not a plan): the caller fails after reporting. */
export class CampaignRunError extends ClienteleError {
  override name = 'CampaignRunError';
  constructor(message: string) {
    super('CAMPAIGN_RUN_HALTED', message);
  }
}

/** How far past the real clock an hour may be run for real: the schedule fires on the hour, an operator's run of this hour may come early. */
export const FUTURE_HOUR_TOLERANCE_MS = 60 * 60 * 1000;

/** How far behind the real clock an hour may be run for real through SES: as late as a scheduled run may start. */
export const PAST_HOUR_TOLERANCE_MS = SCHEDULED_RUN_MAX_DELAY_MINUTES * 60 * 1000;

/**
 * Why an hour at `at` may not be run for real at the real clock `now`, or undefined. Pure.
 * - Ahead of the clock (a mistyped year): it would send its emails now, to clients not yet due,
 *   and leave ledger entries dated ahead that the frequency cap and the expiries then read as
 *   recent, holding real emails back.
 * - Behind it, through real SES (a catch-up after an outage): it would send now what it decided
 *   for its hour (its frequency cap, its windows opened) and date the emails at that hour, so the
 *   next hour reads them as older than they are and its frequency cap lets a second email through
 *   minutes later. (Quiet hours and cut-offs are judged again when each email leaves, settleDecided.)
 *   The current hour sends what is still due. On the emulators a past hour is a simulated day.
 * A dry run sends and writes nothing, so it may look anywhere.
 */
export function hourRefusal(at: number, now: number, options: { dryRun: boolean; emulated: boolean }): string | undefined {
  if (options.dryRun) return undefined;
  if (at > now + FUTURE_HOUR_TOLERANCE_MS) {
    return (
      `the hour ${new Date(at).toISOString()} is ahead of the clock (${new Date(now).toISOString()}): a run for it would send its emails now ` +
      'and date its ledger entries ahead; run it when its time comes, or as a dry run to see what it would do'
    );
  }
  if (!options.emulated && at < now - PAST_HOUR_TOLERANCE_MS) {
    return (
      `the hour ${new Date(at).toISOString()} is behind the clock (${new Date(now).toISOString()}): a run for it would send its emails now ` +
      "but decide and date them for that hour, and the next hour's frequency cap would read them as older than they are; " +
      'run the current hour (it sends what is still due), or this one as a dry run to see what it would have done'
    );
  }
  return undefined;
}

/** The error the run's caller (the Lambda, the CLI) throws once the summary is out, or undefined when the run went as planned. */
export function campaignRunFailure(summary: CampaignRunSummary): CampaignRunError | undefined {
  const stopped = summary.stopped;
  if (stopped === undefined || (stopped.reason !== 'circuit-breaker' && stopped.reason !== 'ses-refused-account')) return undefined;
  const left = Object.values(summary.campaigns).reduce((sum, c) => sum + c.left, 0);
  return new CampaignRunError(`Campaign run ${summary.runId} stopped sending (${stopped.reason}): ${stopped.message}; ${left} due occasions left for a later run`);
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export function emptyCampaignCounts(): CampaignCounts {
  return {
    due: 0,
    alreadyClaimed: 0,
    left: 0,
    sent: 0,
    failed: 0,
    'maybe-sent': 0,
    'held-out': 0,
    suppressed: 0,
    'no-consent': 0,
    capped: 0,
    deferred: 0,
    expired: 0,
    'out-of-audience': 0,
    'advisor-handled': 0,
    'already-mailed': 0,
  };
}

interface DueClient {
  profile: ClientProfile;
  due: DueOccasion[];
  recentSends: RecentSend[];
}

export async function runCampaigns(options: CampaignRunOptions): Promise<CampaignRunSummary> {
  const started = performance.now();
  const { config, clients } = options;
  const advisors = knownAdvisors(await readRoster(clients.s3, config), config);
  const catalog = await readCatalog(clients.s3, config);
  const base = campaignRun(options, advisors, catalog, await readCategoryAffinity(clients.s3, config));
  const { at, runId, log } = base;

  const indexState = await readDueIndexState(clients.documents, tableNames(config).runs);
  // Nights' writers may still write, or have written, values older than lastRunAt (due-index.ts): read
  // from their floors too. Their leases are judged on the clock they are taken on (leaseClock).
  const floors = await readDueIndexFloors(clients.documents, tableNames(config).runs, options.leaseClock?.() ?? at);
  const fingerprint = dueIndexFingerprint(config, catalog);
  const lookback = config.sender.expiryLookbackHours * HOUR_MS;
  const selection = dueSelection(indexState, fingerprint, at, config.campaigns, lookback, floors.map((floor) => floor.at));
  if (selection.mode === 'index' && floors.length > 0) log.info('due index read from night writers\' floors', { floors: floors.length, from: new Date(selection.from).toISOString() });
  // The nights the hour goes by: the newest (the ingest's) and the format of the profiles the last completed one wrote.
  const nights = await nightsOfHour(clients.documents, tableNames(config).runs, localDate(at, config.timeZone));
  // What ingest writes is indexed as of the last indexed run, like the nightly's profiles (due-index.ts).
  // Merged while the hour waits for a night of this version too: nothing acts on an older profile's sums
  // before that night recomputes every profile from its snapshot (it rewrites whatever an increment wrote).
  const { summary: ingested, merged, unwrittenByDryRun } = await ingestIncrementalExports({
    config,
    clients,
    at,
    runId,
    dryRun: base.dryRun,
    log,
    indexing: dueIndexing(config, catalog, indexState?.lastRunAt ?? at, indexState?.expiryFrom),
    nights,
    catalog,
  });
  const run = await withSendingPlan(base, options);
  const held = formatHold(nights.lastCompleted);
  if (held !== undefined) {
    // Nothing selected, decided, expired or re-indexed: the first hour after that night picks up from the last indexed run.
    log.warn(held.message, { alert: SENDER_ALERTS.waitingForNight.alert, lastNight: held.lastNight, lastNightFormat: held.lastNightFormat ?? null, format: held.format });
    // Nothing read: no profile, no selection, no introduction.
    return finishRun(run, { started, ingested, held, scanned: 0, selection: { mode: 'held', reindexed: 0 }, clientsDue: 0, undoneByNight: 0, introductions: emptyIntroductionCounts() });
  }
  // Nights missed or being backfilled: the lapses and run-outs wait for the nights to know the orders since.
  const behind = nightsBehind(nights.lastCompleted?.runDate, at, { timeZone: config.timeZone, campaigns: config.campaigns.campaigns, rfmSegments: config.rfmSegments });
  if (behind !== undefined) log.warn(behind.message, { lastNight: behind.lastNight, lastNightDue: behind.lastNightDue, nightsBehind: behind.nightsBehind, heldCampaigns: behind.campaigns });
  const heldCampaigns = new Set(behind?.campaigns ?? []);
  if (selection.mode === 'full-scan') log.info('due index not usable for this run: reading every profile', { reason: selection.reason, reindex: selection.reindex && !run.dryRun });
  const reindexing = !run.dryRun && (selection.mode === 'index' || selection.reindex);
  // Before any value moves: an earlier hour run after a crash of this one must not trust the index.
  // A full scan rebuilding the index says which configuration it writes under: should it die, no run trusts the index until one completes.
  if (reindexing) await noteReindexing(clients.documents, tableNames(config).runs, at, selection.mode === 'full-scan' ? fingerprint : undefined);
  // Windows that closed since the last run, however long ago (an outage), are recorded 'expired'.
  const lastRunAt = indexState?.lastRunAt ?? (await lastRecordedRunAt(run));
  const retention = config.sender.ledgerRetentionDays * DAY_MS;
  const sinceLastRun = expirySince(at, lookback, lastRunAt, retention);
  if (sinceLastRun < at - lookback) log.warn('last run longer ago than the expiry lookback: recording the windows closed since', { since: new Date(sinceLastRun).toISOString() });
  // Behind, the held campaigns' windows that close are not recorded either (their profiles may not
  // know an order that took the window away): from the first hour behind on, every value keeps the
  // windows closed since (DueIndexState.expiryFrom), and the first hour after the nights catch up
  // records them, with those of the clients the backfilled nights brought, as after an outage.
  const expiryFrom = behind === undefined ? indexState?.expiryFrom : Math.min(indexState?.expiryFrom ?? sinceLastRun, sinceLastRun);
  if (behind !== undefined && expiryFrom !== undefined && !run.dryRun) await noteExpiryFrom(clients.documents, tableNames(config).runs, expiryFrom);
  // Caught up: from the horizon for the campaigns held and those a night's record starts (campaignsCaughtUp), from the last run for the others.
  const caughtUp =
    behind === undefined && expiryFrom !== undefined
      ? { since: Math.min(sinceLastRun, Math.max(expiryFrom, at - retention)), campaigns: campaignsCaughtUp(config.campaigns.campaigns, config.rfmSegments) }
      : undefined;
  if (caughtUp !== undefined) log.info('nights caught up: recording the windows closed since the hours began holding', { since: new Date(caughtUp.since).toISOString() });
  const ended = { since: sinceLastRun, ...(caughtUp === undefined ? {} : { caughtUp }) };
  // A window that closed before its campaign was enabled is no email an outage lost. Recorded by the hours of the current timeline only (no dry run, no backfill).
  const enabledSince = campaignsEnabledSince(await readCampaignsEnabledSince(clients.documents, tableNames(config).runs), config.campaigns, at);
  if (reindexing) await recordCampaignsEnabledSince(clients.documents, tableNames(config).runs, enabledSince);
  const hold = { campaigns: heldCampaigns, ...(behind === undefined || expiryFrom === undefined ? {} : { expiryFrom }) };
  const { dueClients, scanned, reindexed, undoneByNight, undoneFolders, occasionsHeld } = await selectDueClients(run, catalog, selection, reindexing, ended, enabledSince, merged, unwrittenByDryRun, hold);
  if (undoneByNight > 0) {
    log.warn('clients this hour merged whose profile a night still writing rewrote since: not decided, left to the next hour', { clients: undoneByNight, folders: [...undoneFolders] });
    // The next hour merges those folders again, even with the night still running then.
    if (!run.dryRun) await markUndoneByNight(clients.documents, tableNames(config).runs, undoneFolders);
  }
  if (reindexing) {
    // Every profile this run had to see now holds its value as of `at`: the next run reads from here.
    // The floors whose writer had ended when this run started go: it read every value they wrote.
    const recorded = await recordDueIndexState(clients.documents, tableNames(config).runs, { lastRunAt: at, fingerprint });
    if (recorded) await clearDueIndexFloors(clients.documents, tableNames(config).runs, floors.filter((floor) => !floor.writing));
    // Every window closed since the hours began holding is recorded: the next runs read from the last
    // run again. Not when a client was left to the next hour (a night rewrote her meanwhile): it records hers.
    if (recorded && caughtUp !== undefined && undoneByNight === 0 && indexState?.expiryFrom !== undefined) await clearExpiryFrom(clients.documents, tableNames(config).runs, indexState.expiryFrom);
  }
  // By address and by id: an unsubscribe or complaint holds whatever address the client has since.
  const suppressed = await suppressedAmong(clients.documents, tableNames(config).suppression, dueClients.map(({ profile }) => profile));
  const erased = await erasedDueClients(run, dueClients);
  log.info('due clients selected', { selection: selection.mode, scanned, reindexed, due: dueClients.length, suppressed: suppressed.size, erased: erased.size, products: catalog.size, ...(behind === undefined ? {} : { heldWhileNightsBehind: occasionsHeld }) });

  for (const client of dueClients) {
    if (erased.has(client.profile.customerId) || run.erasedWhileRunning.has(client.profile.customerId)) continue;
    if (run.stopped && !run.dryRun) {
      leave(run, client.due);
      continue;
    }
    await settleClient(run, client, suppressed.has(client.profile.customerId));
  }

  // Introductions after a handover, in the new advisor's name, once the clients' occasions are settled: they share the budget.
  const { counts: introductions, clients: introduced } = await sendIntroductions(run, run.mayStartEmail);
  if (!run.dryRun) await eraseClientsErasedWhileRunning(run, [...dueClients.map(({ profile }) => profile), ...introduced], erased);
  return finishRun(run, {
    started,
    ingested,
    scanned,
    selection: selection.mode === 'index' ? { mode: 'index', reindexed } : { mode: 'full-scan', reason: selection.reason, reindexed },
    clientsDue: dueClients.length,
    undoneByNight,
    ...(behind === undefined ? {} : { behind: { ...behind, occasionsHeld } }),
    introductions,
  });
}

/** What the run did before its ending: how it selected and what it read, and why it waited when it did (held). */
interface RunSoFar {
  started: number;
  ingested: IngestSummary;
  held?: FormatHold;
  behind?: NightsBehindSummary;
  scanned: number;
  selection: SelectionSummary;
  clientsDue: number;
  undoneByNight: number;
  introductions: IntroductionCounts;
}

/** Step 6 and the summary: the sends nobody can settle, the coupon pools, the record in the runs table. */
async function finishRun(run: CampaignRun, soFar: RunSoFar): Promise<CampaignRunSummary> {
  const { log, runId, at } = run;
  const { started, ingested, undoneByNight } = soFar;
  const unresolved = run.dryRun ? [] : await unresolvedSendsOf(run);
  const stale = unresolved.filter((e) => e.status === 'claimed');
  const maybeSent = unresolved.filter((e) => e.status === 'maybe-sent');
  if (stale.length > 0) log.error('stale send claims: a run stopped between claim and send; not resent', { count: stale.length });
  if (maybeSent.length > 0) log.error('emails SES may have taken (timeout, reset, 5xx): not resent, see the summary', { count: maybeSent.length });
  const stats = run.mailer.stats();
  // A dry run's pools are what it planned, not the table's: no alarm from them.
  if (!run.dryRun) run.coupons.reportLowPools();
  const coupons = run.coupons.pools();
  const summary: CampaignRunSummary = {
    job: 'campaigns',
    runId,
    at: new Date(at).toISOString(),
    dryRun: run.dryRun,
    ingested,
    sending: run.sending,
    clientsScanned: soFar.scanned,
    selection: soFar.selection,
    clientsDue: soFar.clientsDue,
    ...(undoneByNight > 0 ? { undoneByNight } : {}),
    ...(soFar.held === undefined ? {} : { held: soFar.held }),
    ...(soFar.behind === undefined ? {} : { behind: soFar.behind }),
    campaigns: run.counts,
    ...(Object.keys(coupons).length > 0 ? { coupons } : {}),
    introductions: soFar.introductions,
    ...(run.stopped ? { stopped: run.stopped } : {}),
    ...(run.taskEmailsRefused > 0 ? { taskEmailsRefused: run.taskEmailsRefused } : {}),
    staleClaims: stale.map(unresolvedSend),
    maybeSent: maybeSent.map(unresolvedSend),
    ...(run.dryRun ? { plan: run.plan } : {}),
    mailer: {
      sent: stats.sent,
      failed: stats.failed,
      throttledRetries: stats.throttledRetries,
      unreachableRetries: stats.unreachableRetries,
      maxObservedRate: stats.maxObservedRate,
      ...(stats.haltedBy ? { haltedBy: stats.haltedBy } : {}),
    },
    durationMs: Math.round(performance.now() - started),
  };
  const left = Object.values(run.counts).reduce((sum, c) => sum + c.left, 0);
  if (run.stopped?.reason === 'deadline') log.warn('campaign run stopped at its deadline: due occasions left for the next hour', { alert: SENDER_ALERTS.stoppedAtDeadline.alert, left });
  log.info('campaign run finished', { campaigns: run.counts, stopped: run.stopped?.reason, held: soFar.held?.reason, behind: soFar.behind === undefined ? undefined : { lastNight: soFar.behind.lastNight, lastNightDue: soFar.behind.lastNightDue, occasionsHeld: soFar.behind.occasionsHeld }, left, stale: stale.length, maybeSent: maybeSent.length, durationMs: summary.durationMs });
  if (!run.dryRun) await recordCampaignRun(run, summary);
  return summary;
}

/**
 * Due clients who asked to be forgotten (a profile a night wrote while the erasure was being
 * recorded): never mailed, nothing recorded for them, and, unless a dry run, erased again.
 */
async function erasedDueClients(run: CampaignRun, dueClients: readonly DueClient[]): Promise<Set<string>> {
  const { config, clients, log } = run;
  const erased = await erasedAmong(clients.documents, tableNames(config).suppression, dueClients.map(({ profile }) => ({ customerId: profile.customerId, email: profile.email })));
  if (erased.size === 0 || run.dryRun) return erased;
  await eraseAgain({ config, clients, advisorIds: [...run.advisors.keys()] }, erased, dueClients.map(({ profile }) => profile));
  log.warn('due clients who asked to be forgotten: not mailed, erased again', { count: erased.size });
  return erased;
}

/**
 * After the clients are settled (the due clients', then the introductions'): those erased while
 * this run worked on them. The ledger's writes refuse a client already on the list, but one
 * written in the instant between that check and the erasure, or a task created just before it,
 * may have landed after the erasure deleted the rest: erased again, as the nightly does. So is a
 * client the introductions found on the list with their profile still there (a forget stopped
 * half-way).
 */
async function eraseClientsErasedWhileRunning(run: CampaignRun, profilesWorked: readonly ClientProfile[], erasedBefore: ReadonlySet<string>): Promise<void> {
  const { config, clients, log } = run;
  const worked = profilesWorked.filter((profile) => !erasedBefore.has(profile.customerId));
  const erased = await erasedAmong(clients.documents, tableNames(config).suppression, worked.map((p) => ({ customerId: p.customerId, email: p.email })));
  for (const id of run.erasedWhileRunning) erased.add(id);
  if (erased.size === 0) return;
  await eraseAgain({ config, clients, advisorIds: [...run.advisors.keys()] }, erased, worked);
  log.warn('clients erased while the run worked on them: not mailed after it, erased again', { count: erased.size });
}

/** The runs-table job of the hourly sender's records: one per run, so that a missed hour shows (clientele status). */
export const CAMPAIGNS_JOB = 'campaigns';

/** What the runs table keeps of a campaign run (no client, no address): keyed by its time, then its id. */
export interface CampaignRunRecord {
  job: typeof CAMPAIGNS_JOB;
  /** `<at ISO>#<runId>`: sorted by time, one item per run even two in an hour. */
  runDate: string;
  runId: string;
  at: string;
  clientsDue: number;
  campaigns: Record<string, CampaignCounts>;
  stopped?: StopReason;
  /** The hour waited for the first night of this version (CampaignRunSummary.held): it decided nothing. */
  held?: FormatHold['reason'];
  /** The nights were behind (CampaignRunSummary.behind): the lapses and run-outs were not decided, the rest was. */
  behind?: { lastNight: string; lastNightDue: string; occasionsHeld: number };
  maybeSent: number;
  staleClaims: number;
  durationMs: number;
}

/** How many of the sender's last records lastRecordedRunAt looks through for one that decided (a day of hours waiting for a night, and more). */
const RECORDS_PAST_HELD_HOURS = 48;

/** The clock of the sender's last run before this one's recorded in the runs table (for a run without the due index's state). */
async function lastRecordedRunAt(run: Pick<CampaignRun, 'clients' | 'config' | 'at'>): Promise<number | undefined> {
  // An hour that waited for a night decided no window: the windows closed since the last one that did are still to be recorded.
  const records = await recentRuns<CampaignRunRecord>(run.clients.documents, tableNames(run.config).runs, CAMPAIGNS_JOB, new Date(run.at).toISOString(), {
    limit: RECORDS_PAST_HELD_HOURS,
    attributes: ['at', 'held'],
  });
  const last = records.find((record) => record.held === undefined);
  const lastAt = last === undefined ? Number.NaN : Date.parse(last.at);
  return Number.isFinite(lastAt) ? lastAt : undefined;
}

/** Records the run; the sends are done by now, so a failure to record is logged, never thrown. */
async function recordCampaignRun(run: CampaignRun, summary: CampaignRunSummary): Promise<void> {
  const record: CampaignRunRecord = {
    job: CAMPAIGNS_JOB,
    runDate: `${summary.at}#${summary.runId}`,
    runId: summary.runId,
    at: summary.at,
    clientsDue: summary.clientsDue,
    campaigns: summary.campaigns,
    ...(summary.stopped ? { stopped: summary.stopped.reason } : {}),
    ...(summary.held ? { held: summary.held.reason } : {}),
    ...(summary.behind ? { behind: { lastNight: summary.behind.lastNight, lastNightDue: summary.behind.lastNightDue, occasionsHeld: summary.behind.occasionsHeld } } : {}),
    maybeSent: summary.maybeSent.length,
    staleClaims: summary.staleClaims.length,
    durationMs: summary.durationMs,
  };
  try {
    await putRun(run.clients.documents, tableNames(run.config).runs, { ...record });
  } catch (error) {
    run.log.error('campaign run not recorded in the runs table (its sends are in the ledger)', { error: error instanceof Error ? error.message : String(error) });
  }
}

function unresolvedSend(entry: LedgerEntry): UnresolvedSend {
  return {
    customerId: entry.customerId,
    occasionKey: entry.occasionKey,
    claimedAt: new Date(entry.claimedAt).toISOString(),
    runId: entry.runId,
    ...(entry.reason !== undefined ? { reason: entry.reason } : {}),
  };
}

/** What every step of one run shares: the advisor-task gate's part (its advisors: the stored roster and the config) and more. */
interface CampaignRun extends TaskGateRun {
  clients: AwsClients;
  /** The products export (pictures, prices, links of the product blocks). */
  catalog: ReadonlyMap<string, ProductRecord>;
  /** The last night's category affinity (cross-category products). */
  categoryAffinity: CategoryAffinity;
  coupons: CouponDrawer;
  afterClaim?: (key: LedgerKey) => Promise<void>;
  /** When an email leaves, epoch ms (CampaignRunOptions.realClock): quiet hours are checked again then. */
  departureClock: () => number;
  counts: Record<string, CampaignCounts>;
  plan: PlannedDecision[];
  sending: SendingPlan;
  /** Emails this run has started to send (claims won: the campaigns', the introductions', the advisors' task emails), against sending.budget. */
  sendsStarted: number;
  breaker: BreakerState;
  /** CampaignRunOptions.deadline. */
  deadline?: number;
  /** Set once the run stops sending: every later client is left untouched. */
  stopped?: { reason: StopReason; message: string };
}

function campaignRun(
  options: CampaignRunOptions,
  advisors: ReadonlyMap<string, AdvisorRecord>,
  catalog: ReadonlyMap<string, ProductRecord>,
  categoryAffinity: CategoryAffinity,
): Omit<CampaignRun, 'mailer' | 'sending' | 'mayStartEmail' | 'noteEmailOutcome'> {
  const { config, clients, at, runId } = options;
  const log = (options.log ?? silentLog).child({ runId, job: 'campaigns', at: new Date(at).toISOString() });
  const started = performance.now();
  const coupons = { documents: clients.documents, table: tableNames(config).couponCodes };
  return {
    catalog,
    categoryAffinity,
    coupons: couponDrawer({ s3: clients.s3, config, coupons, secret: options.unsubscribeSecret, runId, at, log }),
    config,
    clients,
    at,
    runId,
    dryRun: options.dryRun ?? false,
    log,
    ledger: { documents: clients.documents, table: tableNames(config).sendLedger },
    unsubscribeSecret: options.unsubscribeSecret,
    advisors,
    erasedWhileRunning: new Set(),
    taskEmailsRefused: 0,
    ...(options.afterClaim ? { afterClaim: options.afterClaim } : {}),
    ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
    departureClock: options.realClock ?? (() => at + (performance.now() - started)),
    counts: dictionaryFrom(config.campaigns.campaigns.map((c) => [c.id, emptyCampaignCounts()])),
    plan: [],
    sendsStarted: 0,
    breaker: CLOSED_BREAKER,
  };
}

/** Step 2: what the SES account allows; the mailer paced at that rate. A blocked account is reported once and stops sending before it starts. */
async function withSendingPlan(base: Omit<CampaignRun, 'mailer' | 'sending' | 'mayStartEmail' | 'noteEmailOutcome'>, options: CampaignRunOptions): Promise<CampaignRun> {
  const { config, clients, log } = base;
  const reading = await readAccount(options.accountReader ?? sesAccountReader(clients.ses));
  const sending = sendingPlan(reading, config.sender.maxSendRate);
  const mailer = options.mailer ?? createSesMailer(clients.ses, { maxSendRate: sending.rate, log, ...(base.deadline === undefined ? {} : { retryDeadline: base.deadline }) });
  const run: CampaignRun = { ...base, sending, mailer, mayStartEmail: () => startSend(run), noteEmailOutcome: (outcome) => noteEmailOutcome(run, outcome) };
  if (sending.accountUnreadable !== undefined) {
    log.warn('SES account not readable: sending at the configured rate without a quota check', { reason: sending.accountUnreadable });
  }
  if (sending.blocked) {
    run.stopped = { reason: 'sending-blocked', message: sending.blocked.message };
    // A dry run says it too, without the alert field: a look by hand is not an hour that failed to send.
    log.error(sending.blocked.message, { ...(run.dryRun ? {} : { alert: SENDER_ALERTS.sendingBlocked.alert }), blocked: sending.blocked.reason, dryRun: run.dryRun });
  }
  return run;
}

/** Occasions the run will not touch: they stay due for a later hour, nothing is written. */
function leave(run: CampaignRun, occasions: readonly DueOccasion[]): void {
  for (const occasion of occasions) {
    const counts = countsOf(run, occasion.campaignId);
    counts.due++;
    counts.left++;
  }
}

/** Stops sending for the rest of the run (the first reason counts). */
function stop(run: CampaignRun, reason: StopReason, message: string): void {
  if (run.stopped) return;
  run.stopped = { reason, message };
  if (reason === 'quota-used') run.log.warn(message, { budget: run.sending.budget });
  else if (reason === 'deadline') run.log.warn(message, { stopped: reason });
  else run.log.error(message, { stopped: reason });
}

/** Whether the run has started as many emails as the SES quota left for it allows (sending.budget). */
function budgetSpent(run: CampaignRun): boolean {
  return run.sending.budget !== null && run.sendsStarted >= run.sending.budget;
}

/** Stops sending once the budget is spent (the remaining clients wait for a later hour); true when it is. */
function stoppedByQuota(run: CampaignRun): boolean {
  if (!budgetSpent(run)) return false;
  stop(run, 'quota-used', `The SES quota left for this run is spent (${run.sending.budget} emails): the remaining clients wait for a later hour`);
  return true;
}

/**
 * Whether an email that is not a campaign's (an introduction, an advisor's task email) may start
 * now: sending not stopped, the budget not spent, the deadline not reached; counted against the
 * budget when it may.
 */
function startSend(run: CampaignRun): boolean {
  if (run.stopped || budgetSpent(run) || stoppedAtDeadline(run)) return false;
  run.sendsStarted++;
  return true;
}

/**
 * Whether the next email would start past the run's deadline (its pacing wait included, on the
 * real clock): then sending stops, before anything is drawn or claimed for it.
 */
function stoppedAtDeadline(run: CampaignRun): boolean {
  const passed = deadlinePassed(run.deadline, run.mailer);
  if (passed === undefined) return false;
  stop(run, 'deadline', passed);
  return true;
}

function countsOf(run: CampaignRun, campaignId: string): CampaignCounts {
  return (run.counts[campaignId] ??= emptyCampaignCounts());
}

/**
 * Step 3: who is due now, minus what the ledger has already settled; the most urgent and valuable
 * first. Occasions whose window closed after `endedSince` left waiting are expired on the way. The
 * profiles come from the due index, or from a full scan; unless this is a dry run or a backfill,
 * each one read gets its index value as of now (a client whose windows are over leaves the index).
 */
async function selectDueClients(
  run: CampaignRun,
  catalog: ReadonlyMap<string, ProductRecord>,
  selection: DueSelection,
  reindexing: boolean,
  /** From when the windows that closed are recorded: the last run's expiry start, and the first hour after the nights caught up, the horizon for some campaigns. */
  endedSince: { since: number; caughtUp?: { since: number; campaigns: ReadonlySet<string> } },
  /** campaignsEnabledSince: a window closed by then is not expired. */
  enabledSince: Readonly<Record<string, number>>,
  mergedThisHour: ReadonlyMap<string, MergedIncrement>,
  /** A dry run's ingest wrote nothing: the profiles it would have written (IngestResult.unwrittenByDryRun). */
  unwrittenByDryRun: ReadonlyMap<string, ProfileItem>,
  /**
   * The nights being behind (nights-behind.ts): the campaigns whose occasions are not decided this
   * hour (left due, untouched, their expiry included), and from when the values keep the windows closed.
   */
  hold: { campaigns: ReadonlySet<string>; expiryFrom?: number },
): Promise<{ dueClients: DueClient[]; scanned: number; reindexed: number; undoneByNight: number; undoneFolders: Set<string>; occasionsHeld: number }> {
  const { config, clients, at } = run;
  const table = tableNames(config).profiles;
  const context = { campaigns: config.campaigns, brandTimeZone: config.timeZone, categoryAffinity: run.categoryAffinity, catalog };
  const dayKeyed = predictedDayKeyedCampaigns(config.campaigns.campaigns);
  const lapses = lapseLadders(config.campaigns.campaigns, config.timeZone);
  const lapseCampaigns = lapseCampaignIds(config.campaigns.campaigns);
  const heldCampaigns = hold.campaigns;
  const indexing: DueIndexing | undefined = reindexing ? dueIndexing(config, catalog, at, hold.expiryFrom) : undefined;
  const stored = selection.mode === 'index' ? queryDueProfiles(clients.documents, table, selection.from, selection.to) : scanProfiles(clients.documents, table);
  const profiles = unwrittenByDryRun.size === 0 ? stored : withUnwrittenProfiles(stored, unwrittenByDryRun, selection);
  const dueClients: DueClient[] = [];
  // Through the index, a profile re-indexed into a later day of the range is met again: once is enough.
  const seen = selection.mode === 'index' ? new Set<string>() : undefined;
  let scanned = 0;
  let reindexed = 0;
  let undoneByNight = 0;
  let occasionsHeld = 0;
  const undoneFolders = new Set<string>();
  for await (const profile of profiles) {
    if (seen?.has(profile.customerId)) continue;
    seen?.add(profile.customerId);
    scanned++;
    // A night still writing rewrote the client from its snapshot after this hour merged them (an
    // opt-out, an order lost): nothing is decided or written on that profile. The next hour merges
    // the increment again (its folder marked: markUndoneByNight), the night still running or not, and decides.
    const merged = mergedThisHour.get(profile.customerId);
    if (merged !== undefined && profile.lastIncrement !== merged.increment) {
      undoneByNight++;
      undoneFolders.add(merged.folder);
      continue;
    }
    const due = dueOccasions(profile, catalog, at, context);
    const ended = endedOccasions(profile, catalog, endedSince.caughtUp?.since ?? endedSince.since, at, context).filter(
      (o) => o.expiresAt > (endedSince.caughtUp?.campaigns.has(o.campaignId) ? endedSince.caughtUp.since : endedSince.since) && o.expiresAt > (ownEntry(enabledSince, o.campaignId) ?? at) && !heldCampaigns.has(o.campaignId),
    );
    // Entries of keys an earlier version named otherwise are read under today's (legacy-keys.ts).
    const readLedger = async () => withCurrentKeys(await ledgerEntriesOf(run.ledger.documents, run.ledger.table, profile.customerId), profile, dayKeyed, lapses);
    let entries = due.length === 0 && ended.length === 0 ? undefined : await readLedger();
    // Before the index value: it drops the windows closed more than the lookback ago, and a crash
    // between the two writes must leave such a window indexed rather than unrecorded.
    if (entries !== undefined && ended.length > 0) await expireEnded(run, profile, ended, entries, lapseCampaigns);
    if (indexing) {
      // As the ledger stood before this hour's decisions: an occasion this hour settles leaves the index the next hour.
      let value = nextDueAt(profile, indexing, entries === undefined ? undefined : ledgerViewOf(entries));
      // A window open now that gives nothing this hour (no category to suggest yet) keeps the client
      // without the ledger: read it, so that the ledger and the audience may leave the window out.
      if (entries === undefined && value !== undefined && value <= at) {
        entries = await readLedger();
        value = nextDueAt(profile, indexing, ledgerViewOf(entries));
      }
      if (value !== profile.nextDueAt && (await updateNextDue(clients.documents, table, profile, value))) reindexed++;
    }
    if (entries === undefined || (due.length === 0 && ended.length === 0)) continue;
    const settled = new Set(entries.filter((e) => !isClaimable(e.status)).map((e) => e.occasionKey));
    const waiting = due.filter((o) => !settled.has(o.occasionKey));
    // The nights behind: nothing written for these, the hours after the nights catch up decide them on profiles that know the orders since.
    const unsettled = heldCampaigns.size === 0 ? waiting : waiting.filter((o) => !heldCampaigns.has(o.campaignId));
    occasionsHeld += waiting.length - unsettled.length;
    // A refund moved the last order back, or a correction its time: the moment already mailed under the other key is not mailed again.
    const mailed = unsettled.flatMap((occasion) => {
      const reason = mailedForLaterOrder(occasion, entries, lapseCampaigns);
      return reason === undefined ? [] : [{ occasion, reason }];
    });
    if (mailed.length > 0 && (await recordAlreadyMailed(run, profile, mailed)) === 'erased') continue;
    const open = mailed.length === 0 ? unsettled : unsettled.filter((o) => !mailed.some((m) => m.occasion === o));
    // Out of its campaign's audience now: counted, never due. The index leaves out a window whose
    // audience cannot hold for the rest of it, so only the hours that read the client meet it.
    const reachable = open.filter((o) => occasionInAudience(o, profile, at, context));
    if (reachable.length < open.length) outOfAudience(run, profile, open.filter((o) => !reachable.includes(o)));
    if (reachable.length === 0) continue;
    dueClients.push({ profile, due: reachable, recentSends: recentEmails(entries, at) });
  }
  // The most urgent campaigns first, then the clients most at risk and most valuable (CLV).
  dueClients.sort(compareDueClients);
  return { dueClients, scanned, reindexed, undoneByNight, undoneFolders, occasionsHeld };
}

/**
 * The profiles a selection reads, with a dry run's unwritten ones (its ingest's) in place of the
 * stored: each as the real hour would read it once written, through the index when the written
 * value would fall in its range.
 */
async function* withUnwrittenProfiles(stored: AsyncIterable<ProfileItem>, unwritten: ReadonlyMap<string, ProfileItem>, selection: DueSelection): AsyncGenerator<ProfileItem> {
  for await (const profile of stored) if (!unwritten.has(profile.customerId)) yield profile;
  for (const profile of unwritten.values()) {
    const indexed = selection.mode === 'full-scan' || (profile.nextDueAt !== undefined && profile.nextDueAt >= selection.from && profile.nextDueAt <= selection.to);
    if (indexed) yield profile;
  }
}

/** Occasions out of their campaign's audience this hour: counted (and planned in a dry run), nothing written. */
function outOfAudience(run: CampaignRun, profile: ClientProfile, occasions: readonly DueOccasion[]): void {
  for (const occasion of occasions) {
    if (run.dryRun) planDecision(run, profile, [occasion], { outcome: 'out-of-audience' });
    else countsOf(run, occasion.campaignId)['out-of-audience']++;
  }
}

/** Occasions whose moment an email under another order key already covered (mailedForLaterOrder): 'already-mailed', with the reason. */
async function recordAlreadyMailed(run: CampaignRun, profile: ClientProfile, mailed: readonly { occasion: DueOccasion; reason: string }[]): Promise<'erased' | undefined> {
  for (const { occasion, reason } of mailed) {
    const counts = countsOf(run, occasion.campaignId);
    if (run.dryRun) {
      run.plan.push({ campaignId: occasion.campaignId, occasionKey: occasion.occasionKey, customerId: occasion.customerId, outcome: 'already-mailed', reason });
      counts['already-mailed']++;
      continue;
    }
    const written = await recordDecision(run.ledger.documents, run.ledger.table, claimRequest(run, profile, occasion, { reason }), 'already-mailed');
    if (written === 'erased') {
      run.erasedWhileRunning.add(profile.customerId);
      return 'erased';
    }
    if (written === 'claimed') {
      counts['already-mailed']++;
      // Mailed under another key: its note never goes under this one, so its open task ends with it (as recordExpired's).
      await closeTasksOfOccasion(run, profile, occasion, { unsent: 'already-mailed' });
    } else counts.alreadyClaimed++;
  }
  return undefined;
}

/** Occasions whose window closed while waiting (or before any run decided them): 'expired', with the reason. */
async function expireEnded(run: CampaignRun, profile: ClientProfile, ended: readonly DueOccasion[], entries: readonly LedgerEntry[], lapseCampaigns: ReadonlyMap<string, readonly number[]>): Promise<void> {
  const byKey = new Map(entries.map((e) => [e.occasionKey, e]));
  // Read only when an occasion no run decided could be lost (rare: after an outage), as the hour's decisions read it.
  const undecided = profile.acceptsMarketing === true && ended.some((o) => !byKey.has(o.occasionKey));
  const suppressed = undecided && (await isClientSuppressed(run.clients.documents, tableNames(run.config).suppression, profile));
  for (const occasion of ended) {
    const reason = expiryReason(occasion, byKey.get(occasion.occasionKey), profile, suppressed, run.config.campaigns, run.config.timeZone, run.catalog);
    if (reason === undefined) continue;
    // Not lost: the moment went under another order key, a refund or a correction has moved the last order since (as selectDueClients settles it).
    const mailedFor = mailedForLaterOrder(occasion, entries, lapseCampaigns);
    if (mailedFor !== undefined) {
      if ((await recordAlreadyMailed(run, profile, [{ occasion, reason: mailedFor }])) === 'erased') return;
      continue;
    }
    if ((await recordExpired(run, profile, occasion, reason)) === 'erased') return;
  }
}

/** One occasion recorded 'expired' with the reason (planned in a dry run) and counted; 'erased' when the client was found erased. */
async function recordExpired(run: CampaignRun, profile: ClientProfile, occasion: DueOccasion, reason: string): Promise<'erased' | undefined> {
  const counts = countsOf(run, occasion.campaignId);
  if (run.dryRun) {
    run.plan.push({ campaignId: occasion.campaignId, occasionKey: occasion.occasionKey, customerId: occasion.customerId, outcome: 'expired', reason });
    counts.expired++;
    return undefined;
  }
  const written = await recordExpiry(run.ledger.documents, run.ledger.table, { ...claimRequest(run, profile, occasion), reason });
  if (written === 'erased') {
    run.erasedWhileRunning.add(profile.customerId);
    return 'erased';
  }
  if (written === 'claimed') {
    counts.expired++;
    await closeTasksOfOccasion(run, profile, occasion, { unsent: 'expired' });
  } else counts.alreadyClaimed++;
  return undefined;
}

/**
 * Step 5: decide each of the client's occasions and settle it; companions go in their winner's
 * email. The occasion allowed through is settled first: when its offer's code cannot be had this
 * hour (the pool is empty, missing or unreadable), it is deferred and the others are decided again
 * without it, so the client's next occasion may go in its place, under the same cap and rules.
 */
async function settleClient(run: CampaignRun, client: DueClient, suppressed: boolean): Promise<void> {
  const { profile } = client;
  const context = { campaigns: run.config.campaigns, brandTimeZone: run.config.timeZone, catalog: run.catalog };
  let open = client.due;
  for (;;) {
    const decided = decide({ profile, suppressed, recentSends: client.recentSends }, open, run.at, context);
    // The quota is spent, or the deadline near: this client's email (and anyone's after it) waits for a later hour, untouched.
    const sends = !run.dryRun && decided.some((d) => d.decision.outcome === 'send');
    if (sends && stoppedByQuota(run)) {
      leave(run, open);
      return;
    }
    if (sends && stoppedAtDeadline(run)) {
      leave(run, open);
      return;
    }
    const companionsOf = new Map(decided.map((item) => [item, companionOccasions(item, decided)]));
    const winner = decided.find((item) => item.decision.outcome === 'send');
    if (winner !== undefined) {
      const status = await settleDecided(run, profile, winner, companionsOf.get(winner) ?? []);
      if (run.erasedWhileRunning.has(profile.customerId)) return;
      if (status === 'no-coupon') {
        const held = new Set([winner.occasion, ...(companionsOf.get(winner) ?? [])]);
        open = open.filter((occasion) => !held.has(occasion));
        continue;
      }
      // Its window closed before the email could leave (recorded 'expired'): the others are decided again without it.
      if (status === 'expired') {
        open = open.filter((occasion) => occasion !== winner.occasion);
        continue;
      }
    }
    const handledWithWinner = new Set([...companionsOf.values()].flat());
    for (const item of decided) {
      if (item === winner || handledWithWinner.has(item.occasion)) continue; // a companion goes in its winner's email, recorded with it
      await settleDecided(run, profile, item, companionsOf.get(item) ?? []);
      if (run.erasedWhileRunning.has(profile.customerId)) return;
    }
    return;
  }
}

/** One decided occasion with its companions: planned (dry run), sent, or recorded; what became of a send. */
async function settleDecided(
  run: CampaignRun,
  stored: ClientProfile,
  item: DecidedOccasion,
  companions: readonly DueOccasion[],
): Promise<Awaited<ReturnType<typeof send>> | 'expired' | undefined> {
  const { occasion } = item;
  // With the tier the occasion is judged by (a lapse's step: the higher of the one held when it
  // came due and the one of the hour), for everything below: the advisor's task or not, the
  // coupon, the email, the ledger.
  const profile = judgedProfile(stored, occasion);
  let { decision } = item;
  let occasions = [occasion, ...companions];
  // Decided at the hour's instant, the email leaves now: a late run, or one still sending long
  // past its hour, may reach a window's close or the client's quiet hours meanwhile. An occasion
  // whose window has closed is recorded 'expired', as the hour's expiry would record it, and not
  // sent (nor given to an advisor as a task). Nothing is taken or claimed yet.
  if (decision.outcome === 'send') {
    const departure = run.departureClock();
    const closed = occasions.flatMap((each) => {
      const reason = closedAtDepartureReason(each, departure);
      return reason === undefined ? [] : [{ occasion: each, reason }];
    });
    // The winner's window closed: only it is recorded here; its companions are decided again without it (settleClient).
    const winnerClosed = closed.find((c) => c.occasion === occasion);
    for (const { occasion: each, reason } of winnerClosed === undefined ? closed : [winnerClosed]) {
      if ((await recordExpired(run, profile, each, reason)) === 'erased') return undefined;
    }
    if (winnerClosed !== undefined) return 'expired';
    occasions = occasions.filter((each) => !closed.some((c) => c.occasion === each));
    decision = quietHoursAtDeparture(profile, departure, { campaigns: run.config.campaigns, brandTimeZone: run.config.timeZone }) ?? decision;
  }
  for (const each of occasions) countsOf(run, each.campaignId).due++;
  // One touch: a note in an active advisor's name is the advisor's task first (advisor-tasks.ts);
  // an answer that settled the occasion stands after the advisor left or the client stopped qualifying.
  const advisor = decision.outcome === 'send' ? noteAdvisor(profile, occasion, run.config, run.advisors) : undefined;
  let gate =
    decision.outcome !== 'send'
      ? undefined
      : advisor !== undefined
        ? await taskGate(run, profile, { occasion, companions: occasions.filter((each) => each !== occasion) }, advisor)
        : await settledWithoutAdvisor(run, profile, occasion);
  // The task email's claim found them erased: nothing more for them.
  if (run.erasedWhileRunning.has(profile.customerId)) return undefined;
  // The task is taken before the send: an answer that comes in meanwhile is not told "recorded" while the note goes.
  if (gate?.outcome === 'send' && !run.dryRun) gate = await takeTaskForSending(run, profile, gate);
  if (gate !== undefined && gate.outcome !== 'send' && gate.outcome !== 'without-advisor') decision = gate;
  // The advisor never had the task (its email was refused for good): the note is the client care team's.
  const withoutAdvisor = gate?.outcome === 'without-advisor';
  if (run.dryRun) {
    // A dry run draws no code, but an email the pool could not give one is held, as the real hour would hold it.
    const coupon = decision.outcome === 'send' ? await run.coupons.peekCodeFor(profile, occasion) : undefined;
    if (coupon?.status === 'none') {
      planDecision(run, profile, occasions, { outcome: 'deferred', reason: coupon.reason });
      return 'no-coupon';
    }
    planDecision(run, profile, occasions, decision);
  } else if (decision.outcome === 'send') {
    // The advisor's task email may have taken the budget's last email (refused, its note goes now): the note waits, untouched.
    if (stoppedByQuota(run)) {
      for (const each of occasions) countsOf(run, each.campaignId).left++;
      return undefined;
    }
    const status = await send(run, profile, occasions, withoutAdvisor);
    if (status === 'sent' && gate?.outcome === 'send') await recordTaskEmailed(run, gate.task, gate.because);
    // The note went without a task (from the client care team): a task still open for it is closed, its links answer "closed".
    else if (status === 'sent') for (const each of occasions) await closeTasksOfOccasion(run, profile, each, { emailed: true });
    // SES refused it for good: the task this hour took (or one still open) ends unsent, not left taken as if it had gone.
    else if (status === 'failed') for (const each of occasions) await closeTasksOfOccasion(run, profile, each, { unsent: 'failed' });
    return status;
  } else await recordDecisions(run, profile, occasions, decision);
  return undefined;
}

/** A dry run shows who would get what (emails masked) and counts it, writing nothing. */
function planDecision(run: CampaignRun, profile: ClientProfile, occasions: readonly DueOccasion[], decision: Pick<PlannedDecision, 'outcome' | 'reason'>): void {
  const [occasion] = occasions as [DueOccasion, ...DueOccasion[]];
  run.plan.push({
    campaignId: occasion.campaignId,
    occasionKey: occasion.occasionKey,
    customerId: occasion.customerId,
    ...(profile.email ? { email: maskEmail(profile.email) as string } : {}),
    outcome: decision.outcome,
    ...('reason' in decision ? { reason: decision.reason } : {}),
  });
  countsOf(run, occasion.campaignId)[decision.outcome === 'send' ? 'sent' : decision.outcome] += occasions.length;
}

function claimRequest(run: CampaignRun, profile: ClientProfile, occasion: DueOccasion, extra: Partial<ClaimRequest> = {}): ClaimRequest {
  return {
    customerId: occasion.customerId,
    occasionKey: occasion.occasionKey,
    campaignId: occasion.campaignId,
    runId: run.runId,
    now: run.at,
    writtenAt: run.departureClock(),
    retentionDays: run.config.sender.ledgerRetentionDays,
    // Kept past the window's close, or for good when other windows share the key (DueOccasion.keyOutlivesWindow).
    retainAfter: occasion.expiresAt,
    ...(occasion.keyOutlivesWindow ? { retainUntilErased: true } : {}),
    tier: occasion.tier ?? profile.tier,
    triggerAt: occasion.triggerAt,
    // A client erased while this run works on them gets nothing more from it, not even an entry.
    unlessErased: { table: tableNames(run.config).suppression, who: profile },
    ...extra,
  };
}

/** A decision that needs no SES call. */
type NoSendDecision = Exclude<Decision, { outcome: 'send' }>;

/** A decision that needs no SES call, written in the ledger for each occasion (nothing for out-of-audience). */
async function recordDecisions(run: CampaignRun, profile: ClientProfile, occasions: readonly DueOccasion[], decision: NoSendDecision): Promise<void> {
  const counts = countsOf(run, occasions[0]?.campaignId ?? '');
  if (decision.outcome === 'out-of-audience') {
    counts['out-of-audience'] += occasions.length;
    return;
  }
  const extra: Partial<ClaimRequest> =
    decision.outcome === 'deferred'
      ? { deferredUntil: decision.until, reason: decision.reason }
      : decision.outcome === 'capped'
        ? { reason: decision.reason }
        : decision.outcome === 'held-out'
          ? { reason: 'control-group' }
          : {};
  for (const occasion of occasions) {
    const written = await recordDecision(run.ledger.documents, run.ledger.table, claimRequest(run, profile, occasion, extra), decision.outcome);
    if (written === 'erased') {
      run.erasedWhileRunning.add(profile.customerId);
      return;
    }
    if (written === 'already-claimed') counts.alreadyClaimed++;
    else counts[decision.outcome]++;
    // A final decision that the note cannot go: the occasion's open task ends with it (unsent, with the reason).
    if (written === 'claimed' && OCCASION_ENDS_UNSENT.has(decision.outcome)) await closeTasksOfOccasion(run, profile, occasion, { unsent: decision.outcome });
  }
}

/** One email for the occasion and its companions, through the delivery protocol; what became of it ('taken': another run's; 'failed': refused for good). */
async function send(run: CampaignRun, profile: ClientProfile, occasions: readonly DueOccasion[], withoutAdvisor = false): Promise<SendOutcome['status'] | 'failed' | 'taken' | 'no-coupon' | 'erased' | 'capped'> {
  const [occasion] = occasions as [DueOccasion, ...DueOccasion[]];
  const counts = countsOf(run, occasion.campaignId);
  // The code first, before the ledger: a code drawn for an occasion stays its own (a rerun or
  // another run gets the same one), and a run that fails here has written nothing in the ledger.
  const coupon = await run.coupons.codeFor(profile, occasion);
  if (coupon.status === 'none') {
    await holdForCoupon(run, profile, occasions, coupon.reason);
    return 'no-coupon';
  }
  // One id on every occasion the email settles: the frequency cap counts the email once (recent-emails.ts).
  const emailId = randomUUID();
  const { claimed, taken, erased } = await claimEach(run.ledger, occasions.map((o) => claimRequest(run, profile, o, { emailId })));
  if (erased.length > 0) {
    // Erased between two of the email's claims: the ones won go too, and nothing is sent.
    await deleteLedgerEntries(run.ledger.documents, run.ledger.table, claimed);
    run.erasedWhileRunning.add(profile.customerId);
    return 'erased';
  }
  counts.alreadyClaimed += taken.length;
  if (!claimed.some((c) => c.occasionKey === occasion.occasionKey)) {
    // Another run owns this email; hand back any companion we won so it is not left claimed.
    await releaseClaims(run.ledger, claimed, run.runId, 'claimed-by-another-run', run.at);
    return 'taken';
  }
  const settling = { ledger: run.ledger, runId: run.runId, at: run.at, claimed, retryAt: run.at + HOUR_MS, log: run.log };
  let capped: CapReason | undefined;
  try {
    capped = await cappedSinceDecided(run, profile, emailId);
  } catch (error) {
    // Nothing went out: deferred for a later hour, not left 'claimed' (maybe sent, never resent).
    await deferUnsent(settling, 'CapCheckError', error);
    throw error;
  }
  if (capped !== undefined) {
    await releaseClaims(run.ledger, claimed, run.runId, capped, run.at);
    counts.capped += claimed.length;
    run.log.info('email held by the frequency cap: another run claimed an email for the client meanwhile', { campaignId: occasion.campaignId, customerId: profile.customerId, reason: capped });
    return 'capped';
  }
  run.sendsStarted++;
  // A throw here stands for the process dying: its claim stays 'claimed', as a real crash's would.
  await run.afterClaim?.({ customerId: occasion.customerId, occasionKey: occasion.occasionKey });
  const companions = occasions.filter((o) => o !== occasion && claimed.some((c) => c.occasionKey === o.occasionKey));
  const { config } = run;
  const { outcome } = await deliverClaimed({
    ...settling,
    mailer: run.mailer,
    email: async () => {
      // Without the roster, the note is composed as for a client with no advisor (compose.ts noteAdvisor).
      const content = await composeClientEmail(run, profile, occasion, companions, { withoutAdvisor, ...(coupon.status === 'code' ? { couponCode: coupon.code } : {}) });
      return clientEmail(config.sender, profile.email ?? '', content, { campaign: occasion.campaignId, tier: profile.tier, customerId: profile.customerId });
    },
  });
  if (outcome.status === 'sent') counts.sent += claimed.length;
  else if (outcome.status === 'maybe-sent') counts['maybe-sent'] += claimed.length;
  else if (outcome.retry === 'later') counts.deferred += claimed.length;
  else counts.failed += claimed.length;
  if (outcome.status !== 'sent') {
    run.log.warn('send failed', { campaignId: occasion.campaignId, customerId: profile.customerId, status: outcome.status, error: outcome.errorName });
  }
  noteEmailOutcome(run, outcome);
  // 'failed': not sent, and never to be (the ledger says so); 'not-sent' is left for a later hour.
  return outcome.status === 'not-sent' && outcome.retry === 'never' ? 'failed' : outcome.status;
}

/**
 * What an email's outcome means for the rest of the run, whichever email it was (a campaign's, an
 * advisor's task email, an introduction): SES refusing the account stops sending; the circuit breaker counts the
 * failures on the way to SES and the refused requests, and stops sending once it opens.
 */
function noteEmailOutcome(run: CampaignRun, outcome: SendOutcome): void {
  if (outcome.status === 'not-sent' && outcome.scope === 'account') {
    if (isDailyQuotaExceeded(outcome)) {
      // Spent by another sender of the account since the run read it: as for the run's own budget, not a failure.
      stop(run, 'quota-used', `SES says the 24-hour quota is spent (${outcome.reason}): the remaining clients wait for a later hour`);
    } else stop(run, 'ses-refused-account', `SES refused the account (${outcome.reason}): the remaining sends wait for a later hour`);
  }
  run.breaker = afterOutcome(run.breaker, outcome, run.config.sender.circuitBreakerFailures);
  if (run.breaker.open) {
    stop(
      run,
      'circuit-breaker',
      `${run.breaker.consecutive} sends in a row failed on the way to SES or had their request refused (last: ${run.breaker.lastFailure ?? 'unknown'}): stopped sending`,
    );
  }
}

/**
 * The frequency cap once this run holds its claims (`emailId`): the client's other emails read
 * again (recent-emails.ts entriesOfOtherEmails). Another run deciding the same client at once read
 * the ledger before either claimed, and each cap check passed alone: the claim that finds the
 * other is released, so the cap holds across overlapping runs.
 */
async function cappedSinceDecided(run: CampaignRun, profile: ClientProfile, emailId: string): Promise<CapReason | undefined> {
  const entries = await ledgerEntriesOf(run.ledger.documents, run.ledger.table, profile.customerId);
  return frequencyCapReason(recentEmails(entriesOfOtherEmails(entries, emailId, run.at), run.at), run.at, run.config.campaigns.policy.frequencyCap);
}

/** No code left for the occasion's offer: no email; deferred with the reason, for a later hour (codes may be added before its window closes). */
async function holdForCoupon(run: CampaignRun, profile: ClientProfile, occasions: readonly DueOccasion[], reason: string): Promise<void> {
  const counts = countsOf(run, occasions[0]?.campaignId ?? '');
  for (const occasion of occasions) {
    const written = await recordDecision(run.ledger.documents, run.ledger.table, claimRequest(run, profile, occasion, { deferredUntil: run.at + HOUR_MS, reason }), 'deferred');
    if (written === 'already-claimed') counts.alreadyClaimed++;
    else counts.deferred++;
  }
  run.log.warn('no coupon code for the offer: not sent, deferred', { campaignId: occasions[0]?.campaignId, customerId: profile.customerId, reason });
}

/**
 * Step 6: sends nobody can settle without a person: claims never resolved, and maybe-sent emails.
 * Never resent. A claim is stale once staleClaimMinutes have passed since it was written, on the
 * real clock (longer than a run lives): another run still sending it (started late, or long) is not.
 */
function unresolvedSendsOf(run: CampaignRun): Promise<LedgerEntry[]> {
  const staleBefore = run.departureClock() - run.config.sender.staleClaimMinutes * 60_000;
  return unresolvedSends(run.ledger.documents, run.ledger.table, staleBefore, claimHoursBetween(run.at - 2 * DAY_MS, run.at));
}
