import type { DueOccasion } from '#shared/campaigns/due.ts';
import { campaignRules, type CampaignDefinition } from '#shared/campaigns/schema.ts';
import type { LedgerEntry } from '#shared/store/ledger-store.ts';

/**
 * An order-keyed occasion (any-order: cross-category; no-order-for: win-back, recall) is keyed by
 * the client's last order's timestamp, not by the order. When that order is refunded, the last
 * order moves back to an earlier one whose key the ledger has never seen: the same moment (one
 * purchase's suggestion, one lapse's win-back step) would go a second time. Such an occasion is
 * settled by the email already sent for the later order.
 *
 * A lapse (no-order-for) is also the same one when the last order's time moves later with no new
 * order: the platform corrects an order's time, or the brand its zone (offset-less timestamps are
 * read hours later). An email of the step claimed after the current last order, for a lapse from an
 * order at most MOVED_ORDER_MS earlier (and less than half the step's days), went with no order
 * since: it settles the lapse's step. A farther one is a new order placed before the email but read
 * after it (a night ran before it): a lapse of its own, mailed in its turn. Not so for any-order,
 * once per purchase: an order placed before its email but read after it is a purchase of its own.
 * Pure: it reads the ledger entries the hour has already read.
 */

/** Emails that went, or may have: an entry in these under another order key says the moment was mailed. */
const MAILED: ReadonlySet<LedgerEntry['status']> = new Set(['sent', 'maybe-sent']);

/**
 * How far an order's time may move and still be the same order: a zone corrected (offset-less
 * times read at most 26 hours apart), a time re-dated by the platform. A new order comes at least
 * a lapse's days minus a night after the order its email was for, so the bound is also kept under
 * half the step's days.
 */
const MOVED_ORDER_MS = 2 * 86_400_000;

/** The campaigns whose occasions are lapses (`no-order-for`), by id, with their steps' days: mailedForLaterOrder settles theirs by an email since the last order too. */
export function lapseCampaignIds(campaigns: readonly CampaignDefinition[]): ReadonlyMap<string, readonly number[]> {
  const lapses = new Map<string, readonly number[]>();
  for (const campaign of campaigns) {
    const { trigger } = campaignRules(campaign);
    if (trigger.on === 'no-order-for') lapses.set(campaign.id, trigger.days);
  }
  return lapses;
}

/** The days of the lapse step an occasion key ends with ('#120d'), else the campaign's first step (a single-step trigger's key has no step). */
function stepDays(step: string, days: readonly number[]): number | undefined {
  const match = /^#(\d+)d$/.exec(step);
  return match ? Number(match[1]) : days.length === 0 ? undefined : Math.min(...days);
}

/**
 * Why the occasion is settled by an email of the same campaign (and lapse step) keyed by a later
 * order, or, for a campaign of `lapseCampaigns`, claimed after the current last order; or undefined.
 */
export function mailedForLaterOrder(
  occasion: Pick<DueOccasion, 'campaignId' | 'occasionKey'> & { details: Pick<DueOccasion['details'], 'lastOrderAt'> },
  entries: readonly Pick<LedgerEntry, 'campaignId' | 'occasionKey' | 'status' | 'claimedAt'>[],
  lapseCampaigns: ReadonlyMap<string, readonly number[]>,
): string | undefined {
  const lastOrderAt = occasion.details.lastOrderAt;
  const prefix = `${occasion.campaignId}#`;
  if (lastOrderAt === undefined || !occasion.occasionKey.startsWith(`${prefix}${lastOrderAt}`)) return undefined;
  // What follows the order in the key: a lapse step ('#120d'), or nothing.
  const step = occasion.occasionKey.slice(prefix.length + lastOrderAt.length);
  const lastOrder = Date.parse(lastOrderAt);
  const lapseDays = lapseCampaigns.get(occasion.campaignId);
  const days = lapseDays === undefined ? undefined : stepDays(step, lapseDays);
  const movedAtMost = days === undefined ? undefined : Math.min(MOVED_ORDER_MS, (days * 86_400_000) / 2);
  for (const entry of entries) {
    if (entry.campaignId !== occasion.campaignId || !MAILED.has(entry.status) || !entry.occasionKey.startsWith(prefix) || !entry.occasionKey.endsWith(step)) continue;
    const order = entry.occasionKey.slice(prefix.length, entry.occasionKey.length - step.length);
    if (order.includes('#') || order === lastOrderAt) continue;
    const orderAt = Date.parse(order);
    if (orderAt > lastOrder) {
      return `${entry.status} for the later order of ${order} (${entry.occasionKey}), no longer the last order (refunded or removed)`;
    }
    if (movedAtMost !== undefined && !Number.isNaN(orderAt) && entry.claimedAt > lastOrder && lastOrder - orderAt < movedAtMost) {
      return `${entry.status} on ${new Date(entry.claimedAt).toISOString()} for the lapse from ${order} (${entry.occasionKey}), with no order since: the same lapse, its last order's time moved`;
    }
  }
  return undefined;
}
