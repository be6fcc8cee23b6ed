import type { ClientProfile } from '#shared/model.ts';
import { clientTimeZone, judgedProfile, sendWindows, type CampaignContext, type ProductCatalog, type SendWindow } from './due.ts';
import { audienceMayHold } from './policy.ts';
import { campaignRules } from './schema.ts';
import { windowBoundMs } from './triggers.ts';
import type { CampaignsConfig } from './schema.ts';

/**
 * The due index: each stored profile carries `nextDueAt`, the earliest dueAt among its send
 * windows that still need the sender at the instant the value was computed (open, or closed
 * less than the expiry lookback ago, for the 'expired' pass), and `nextDueDay`, its UTC day: the
 * key of a sparse index (no window left: no attribute, not indexed). The hourly sender then reads
 * only the profiles whose nextDueAt lies in [queryFrom, now] instead of the whole table. Pure.
 *
 * Why that is enough (dueIndexQueryFrom): the windows of a profile do not depend on the clock, so
 * nextDueAt computed at t only grows with t (closed windows drop out). Let r be the last indexed
 * run. A client that needs the run at h >= r has a window w with dueAt <= h that is open at h or
 * closed since the run's expiry start (shared/sender/expiry.ts expirySince: h - lookback, or r
 * when that is earlier, after an outage), so expiresAt + lookback > r: w still counts at r, and
 * nextDueAt(r) <= dueAt(w) <= h. And nextDueAt(t) > t - (longest window + lookback). The nightly
 * run and the intraday ingest compute what they write at r, so a run at h reads
 * [r - longest window - lookback, h]. A night reads r once and writes for a while after: an hour
 * that records a later r meanwhile would leave the night's values behind the next run's range. So
 * each night writer notes the r it computes at as a floor before its first write (the runs table,
 * shared/store/due-index-store.ts), and a run reads from the oldest of r and the floors; an hour
 * that found a floor's writer already ended read every value it wrote, and clears it once recorded.
 * Each run re-computes the value of the profiles it reads at
 * its own h, which drops the windows closed more than the lookback before h, only after it has
 * recorded their expiry: a run that died half-way (values as of its h, r unchanged) leaves no
 * window that still needs a run out of the index. While the hours leave windows unrecorded (the
 * nights behind: DueIndexState.expiryFrom), every value keeps the windows closed since expiryFrom
 * too, as if computed a lookback after it, and the runs read from there.
 *
 * Some windows need no run although open, and leave the value (the argument holds for the others):
 *  - an inert one (SendWindow.inert): nothing from the profile can be shown where the campaign
 *    needs it, at any instant, until the profile or the configuration changes (a rewrite, or a
 *    full scan);
 *  - given the client's send ledger, as read by the hourly run that computes the value:
 *    - one whose occasion the ledger ends for good (LedgerView.closed): sent, decided, expired;
 *    - one with no ledger entry whose audience cannot hold for the rest of it (policy.ts
 *      audienceMayHold: the categories bought are not weighed, the catalogue may move them): an
 *      occasion out of the audience leaves nothing in the ledger, and its expiry asks the audience
 *      at the window's last instant. An entry left waiting (deferred, capped) keeps the window.
 * What these depend on besides the profile and the ledger (the campaigns' audience and products)
 * is in the index's fingerprint (shared/sender/due-selection.ts): a change reads every profile.
 * Without the ledger (the nightly run, the intraday ingest) only inert windows leave: the first
 * hour that reads the profile drops the others.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The index attributes of a profile item: both present, or both absent (not indexed). */
export interface DueIndexFields {
  /** Epoch ms: the earliest dueAt of the client's send windows still needing the sender. */
  nextDueAt?: number;
  /** UTC day (YYYY-MM-DD) of nextDueAt: the index's partition key. */
  nextDueDay?: string;
}

/** What computing a profile's nextDueAt needs besides the profile. */
export interface DueIndexing {
  catalog: ProductCatalog;
  context: CampaignContext;
  /** The sender's expiry lookback: a window keeps the client indexed this long after it closes. */
  lookbackMs: number;
  /** The instant the values are computed at (the last indexed run of the sender). */
  indexedAt: number;
  /** DueIndexState.expiryFrom: a window closed since then keeps the client indexed, however long ago. */
  expiryFrom?: number;
}

/** What the sender records after each run that refreshed the index: the next run reads from there. */
export interface DueIndexState {
  /** The `at` of the last run that brought every indexed value up to date. */
  lastRunAt: number;
  /** dueIndexFingerprint of the configuration and catalogue the values were computed with. */
  fingerprint: string;
  /** The latest `at` any run started re-indexing at (a run that died half-way leaves values as of it). */
  reindexedUpTo?: number;
  /**
   * The fingerprint a full scan rebuilding the index writes its values under, from before its first
   * write until it records the state: while set, the index holds values of two configurations (one
   * that died half-way, then a rollback), and no run may trust it.
   */
  rebuildingUnder?: string;
  /**
   * While the nights are behind, the hours leave the occasions that rest on no order since the
   * night undecided, their expiry included (shared/sender/nights-behind.ts), and the nights being
   * backfilled bring clients whose windows closed days ago (a welcome): the windows that closed
   * since this instant are not all recorded yet. Every value keeps them (nextDueAt), the runs read
   * from there, and the first hour after the nights catch up records them as after an outage, then
   * clears it. Set by the first hour behind (the instant its own expiry starts from).
   */
  expiryFrom?: number;
}

/** The indexing of a configuration and catalogue at `indexedAt`. */
export function dueIndexing(
  config: { campaigns: CampaignsConfig; timeZone: string; sender: { expiryLookbackHours: number } },
  catalog: ProductCatalog,
  indexedAt: number,
  expiryFrom?: number,
): DueIndexing {
  return {
    catalog,
    context: { campaigns: config.campaigns, brandTimeZone: config.timeZone },
    lookbackMs: config.sender.expiryLookbackHours * HOUR_MS,
    indexedAt,
    ...(expiryFrom === undefined ? {} : { expiryFrom }),
  };
}

/** The instant before which a window closed drops out of a value computed with `indexing`: the lookback before indexedAt, or expiryFrom when earlier. */
export function keptClosedSince(indexing: DueIndexing): number {
  const since = indexing.indexedAt - indexing.lookbackMs;
  return indexing.expiryFrom === undefined ? since : Math.min(since, indexing.expiryFrom);
}

/** UTC day of an instant. */
export function dueDay(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

/** What the client's send ledger holds, as the hourly run read it: occasion keys, by what their entry means for the index. */
export interface LedgerView {
  /** Occasions no run acts on again, whatever the clock (sent, failed, decided for good, expired). */
  closed: ReadonlySet<string>;
  /** Occasions with an entry of any status. */
  recorded: ReadonlySet<string>;
}

/**
 * The earliest dueAt among the profile's windows that have not closed more than the lookback
 * before indexedAt and may still need the sender (module comment); undefined when none is left.
 * Without `ledger`, whatever the ledger holds.
 */
export function nextDueAt(profile: ClientProfile, indexing: DueIndexing, ledger?: LedgerView): number | undefined {
  let earliest: number | undefined;
  // Yearly windows: from the earliest that may still need the sender, the next occurrences.
  const closedSince = keptClosedSince(indexing);
  for (const window of sendWindows(profile, indexing.catalog, indexing.context, { from: closedSince, to: Number.POSITIVE_INFINITY })) {
    if (window.expiresAt <= closedSince) continue;
    if (earliest !== undefined && window.dueAt >= earliest) continue;
    if (mayNeedSender(window, profile, indexing, ledger)) earliest = window.dueAt;
  }
  return earliest;
}

/** Whether a run from indexedAt on may have to act on the window (the module comment's exceptions). */
function mayNeedSender(window: SendWindow, profile: ClientProfile, indexing: DueIndexing, ledger: LedgerView | undefined): boolean {
  if (window.inert()) return false;
  if (ledger === undefined) return true;
  if (ledger.closed.has(window.occasionKey)) return false;
  if (ledger.recorded.has(window.occasionKey)) return true;
  // The instants a run still asks the audience at: the rest of the window, or its last one for the expiry;
  // by the tier its occasions are judged by, as the hour asks (policy.ts occasionInAudience).
  const last = window.expiresAt - 1;
  const from = Math.min(Math.max(indexing.indexedAt, window.dueAt), last);
  return audienceMayHold(window.campaign, judgedProfile(profile, window), from, last, clientTimeZone(profile, indexing.context.brandTimeZone));
}

/** The index attributes for a value (none for undefined: the item leaves the sparse index). */
export function dueIndexFields(at: number | undefined): DueIndexFields {
  return at === undefined ? {} : { nextDueAt: at, nextDueDay: dueDay(at) };
}

/** The item with its index attributes computed afresh, whatever its ledger holds (any stale ones dropped). */
export function withNextDue<T extends ClientProfile & DueIndexFields>(item: T, indexing: DueIndexing): T {
  const { nextDueAt: _stale, nextDueDay: _staleDay, ...rest } = item;
  return { ...rest, ...dueIndexFields(nextDueAt(item, indexing)) } as T;
}

/** An upper bound of any send window's length under this configuration (triggers.ts windowBoundMs of each enabled campaign). */
export function longestWindowMs(campaigns: CampaignsConfig): number {
  let longest = 0;
  for (const campaign of campaigns.campaigns) {
    if (!campaign.enabled) continue;
    const { trigger, timing } = campaignRules(campaign);
    longest = Math.max(longest, windowBoundMs(trigger, timing));
  }
  return longest;
}

/** The earliest nextDueAt a run must read, given the oldest instant stored values were computed at (see the module comment). */
export function dueIndexQueryFrom(indexedSince: number, campaigns: CampaignsConfig, lookbackMs: number): number {
  return indexedSince - longestWindowMs(campaigns) - lookbackMs;
}

/** The UTC days from the day of `from` to the day of `to`, in order: the index partitions a run queries. */
export function dueDaysBetween(from: number, to: number): string[] {
  const days: string[] = [];
  for (let day = Date.UTC(...utcDayParts(from)); day <= to; day += DAY_MS) days.push(dueDay(day));
  return days;
}

function utcDayParts(at: number): [number, number, number] {
  const date = new Date(at);
  return [date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()];
}

/** How a run finds its clients: through the index, or by reading every profile (and why). */
export type DueSelection =
  | { mode: 'index'; from: number; to: number }
  | {
      mode: 'full-scan';
      reason: 'no-index-yet' | 'configuration-or-catalogue-changed' | 'earlier-than-last-indexed-run' | 'rebuild-unfinished';
      /** Whether the run may bring every value up to date and record itself as the last indexed run. */
      reindex: boolean;
    };

/**
 * The index answers a run at `at` when it was brought up to date by an earlier (or the same)
 * hour under the same configuration and catalogue, and no rebuild under another is unfinished;
 * otherwise the run reads every profile. A run earlier than the last indexed one, or than any run
 * that started re-indexing (a backfill), scans and leaves the index alone. `floors`: the instants
 * night writers noted they compute their values at (the module comment); the index is read from
 * the oldest of them and the last indexed run.
 */
export function dueSelection(
  state: DueIndexState | undefined,
  fingerprint: string,
  at: number,
  campaigns: CampaignsConfig,
  lookbackMs: number,
  floors: readonly number[],
): DueSelection {
  if (state === undefined) return { mode: 'full-scan', reason: 'no-index-yet', reindex: true };
  // Values computed at a later instant may have dropped windows an earlier hour still needs.
  if (at < Math.max(state.lastRunAt, state.reindexedUpTo ?? state.lastRunAt)) return { mode: 'full-scan', reason: 'earlier-than-last-indexed-run', reindex: false };
  // A rebuild that died half-way left some values under its configuration: under any configuration, one back included, they are not this one's.
  if (state.rebuildingUnder !== undefined) return { mode: 'full-scan', reason: 'rebuild-unfinished', reindex: true };
  if (state.fingerprint !== fingerprint) return { mode: 'full-scan', reason: 'configuration-or-catalogue-changed', reindex: true };
  // Values keep the windows closed since expiryFrom: as if computed a lookback after it.
  const indexedSince = Math.min(state.lastRunAt, ...floors, ...(state.expiryFrom === undefined ? [] : [state.expiryFrom + lookbackMs]));
  return { mode: 'index', from: dueIndexQueryFrom(indexedSince, campaigns, lookbackMs), to: at };
}
