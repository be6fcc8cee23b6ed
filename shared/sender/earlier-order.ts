import type { DueOccasion } from '#shared/campaigns/due.ts';
import type { LedgerEntry } from '#shared/store/ledger-store.ts';

/**
 * An order-keyed occasion (any-order: cross-category; no-order-for: win-back, recall) is keyed by
 * the client's last order. When that order is refunded, the last order moves back to an earlier
 * one whose key the ledger has never seen: the same moment (one purchase's suggestion, one lapse's
 * win-back step) would go a second time. Such an occasion is settled by the email already sent for
 * the later order. Pure: it reads the ledger entries the hour has already read.
 */

/** Emails that went, or may have: a later order's occasion in these says the moment was mailed. */
const MAILED: ReadonlySet<LedgerEntry['status']> = new Set(['sent', 'maybe-sent']);

/** Why the occasion is settled by an email of the same campaign (and lapse step) keyed by a later order, or undefined. */
export function mailedForLaterOrder(occasion: Pick<DueOccasion, 'campaignId' | 'occasionKey'> & { details: Pick<DueOccasion['details'], 'lastOrderAt'> }, entries: readonly Pick<LedgerEntry, 'campaignId' | 'occasionKey' | 'status'>[]): string | undefined {
  const lastOrderAt = occasion.details.lastOrderAt;
  const prefix = `${occasion.campaignId}#`;
  if (lastOrderAt === undefined || !occasion.occasionKey.startsWith(`${prefix}${lastOrderAt}`)) return undefined;
  // What follows the order in the key: a lapse step ('#120d'), or nothing.
  const step = occasion.occasionKey.slice(prefix.length + lastOrderAt.length);
  const lastOrder = Date.parse(lastOrderAt);
  for (const entry of entries) {
    if (entry.campaignId !== occasion.campaignId || !MAILED.has(entry.status) || !entry.occasionKey.startsWith(prefix) || !entry.occasionKey.endsWith(step)) continue;
    const order = entry.occasionKey.slice(prefix.length, entry.occasionKey.length - step.length);
    if (!order.includes('#') && Date.parse(order) > lastOrder) {
      return `${entry.status} for the later order of ${order} (${entry.occasionKey}), no longer the last order (refunded or removed)`;
    }
  }
  return undefined;
}
