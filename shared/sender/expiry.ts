import { clientTimeZone, judgedProfile, type DueOccasion, type ProductCatalog } from '#shared/campaigns/due.ts';
import { heldOutOf, inAudience } from '#shared/campaigns/policy.ts';
import type { CampaignsConfig } from '#shared/campaigns/schema.ts';
import { ownEntry } from '#shared/dictionary.ts';
import type { ClientProfile } from '#shared/model.ts';
import { isClaimable, type LedgerStatus } from '#shared/store/ledger-store.ts';

/**
 * What the ledger says of an occasion whose send window has closed (endedOccasions): nothing more
 * may be sent for it, so an occasion left waiting (released after a failed send, capped, deferred)
 * or never decided at all is written 'expired' with the reason, rather than lost without a word.
 * Pure.
 */

/** The reason to record the ended occasion as expired, or undefined when its ledger entry already settles it. */
export function expiryReason(
  occasion: DueOccasion,
  entry: { status: LedgerStatus; reason?: string } | undefined,
  profile: ClientProfile,
  /** On the suppression list (suppressedAmong): as the hour's decisions read it. */
  suppressed: boolean,
  campaigns: CampaignsConfig,
  brandTimeZone?: string,
  catalog?: ProductCatalog,
): string | undefined {
  const closed = `${occasion.campaignId} window closed at ${new Date(occasion.expiresAt).toISOString()}`;
  if (entry !== undefined) {
    // A claim, a send, a maybe-sent, a final decision: settled already.
    if (!isClaimable(entry.status)) return undefined;
    return `${closed} while ${entry.status}${entry.reason ? `: ${entry.reason}` : ''}`;
  }
  // Never decided: only an occasion a run would have tried to send is missing (out of audience,
  // without consent, suppressed and held out of the control group are never sends; they are
  // recorded when decided, but this one never was).
  const campaign = campaigns.campaigns.find((c) => c.id === occasion.campaignId);
  // In the audience as of the last instant it was due (a days-since-last-order range moves with the
  // clock), by the tier the occasion is judged by (a lapse's step: the higher of the one held when
  // it came due and the one of the hour).
  const timeZone = brandTimeZone === undefined ? undefined : clientTimeZone(profile, brandTimeZone);
  if (campaign === undefined || !inAudience(campaign, judgedProfile(profile, occasion), occasion.expiresAt - 1, timeZone, catalog) || profile.acceptsMarketing !== true || suppressed) return undefined;
  if (heldOutOf(occasion, campaign, campaigns.policy)) return undefined;
  return `${closed} before any run decided it`;
}

/**
 * The reason to record an occasion decided 'send' as expired when its email would leave at
 * `departure` (the real clock), or undefined while its window is open then. A late-started hour, or
 * one still sending long past its hour, may reach the client after the cut-off it decided within:
 * nothing is sent past a window's close. Pure.
 */
export function closedAtDepartureReason(occasion: Pick<DueOccasion, 'campaignId' | 'expiresAt'>, departure: number): string | undefined {
  if (departure < occasion.expiresAt) return undefined;
  return `${occasion.campaignId} window closed at ${new Date(occasion.expiresAt).toISOString()} before the run reached it (${new Date(departure).toISOString()})`;
}

/**
 * From when a run at `at` records the occasions whose window closed (endedOccasions in (since,
 * at]): the expiry lookback back, or to the last run when that was longer ago (an outage), so that
 * every window that closed since the last run is recorded, whatever the outage's length. Never
 * further back than the ledger keeps an entry (retention) after its window closed: before that a
 * sent occasion's entry may be gone, and 'expired' would be untrue. Pure.
 */
export function expirySince(at: number, lookbackMs: number, lastRunAt: number | undefined, retentionMs: number): number {
  const since = at - lookbackMs;
  if (lastRunAt === undefined || lastRunAt >= since) return since;
  return Math.max(lastRunAt, Math.min(since, at - retentionMs));
}

/**
 * From when each enabled campaign counts as enabled (epoch ms by id): a window that closed by then
 * closed before the campaign existed (added, or turned back on), no outage lost it, and it is not
 * recorded 'expired' (nor settles a key other windows share). `stored` is what the hours recorded:
 * a campaign missing from it is enabled from `at`, the first hour that runs it. Before any hour
 * recorded it (a first deployment, or a version that kept none) the campaigns enabled count as
 * enabled all along, as before. Pure.
 */
export function campaignsEnabledSince(stored: Readonly<Record<string, number>> | undefined, campaigns: Pick<CampaignsConfig, 'campaigns'>, at: number): Record<string, number> {
  const since = stored === undefined ? 0 : at;
  return Object.fromEntries(campaigns.campaigns.filter((c) => c.enabled).map((c) => [c.id, (stored === undefined ? undefined : ownEntry(stored, c.id)) ?? since]));
}
