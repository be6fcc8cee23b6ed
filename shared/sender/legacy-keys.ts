import { campaignRules } from '#shared/campaigns/schema.ts';
import type { CampaignDefinition } from '#shared/campaigns/schema.ts';
import { instantOf, legacyNextOrderCampaign, nextOrderKey } from '#shared/campaigns/triggers.ts';
import type { ClientProfile } from '#shared/model.ts';
import { isClaimable, type LedgerEntry } from '#shared/store/ledger-store.ts';

/**
 * Ledger entries written under keys an earlier version gave an occasion, read under today's key
 * (pure). The next-order reminder was keyed by the predicted day ('<id>#next-order#2026-12-01',
 * and '<id>#2026-12-01' for a `predicted-next-order` campaign, named in `dayKeyed`), and is now
 * keyed by the last order the prediction follows (triggers.ts nextOrderKey): an entry of a client
 * inside the window at the upgrade would otherwise leave the same occasion open under its new
 * key, and the email would go twice.
 *
 * An old next-order entry claimed after the client's last order was for a prediction of that
 * order, so it is the entry of today's '<id>#next-order#<lastOrderAt>' unless one is stored under
 * that key already. Of several (a prediction that moved before the upgrade), one that settles the
 * occasion (a claim, a send, a decision) wins, then the latest. The entry is renamed, not copied: the frequency cap counts it once.
 */
export function withCurrentKeys<E extends Pick<LedgerEntry, 'occasionKey' | 'status' | 'claimedAt'>>(
  entries: readonly E[],
  profile: Pick<ClientProfile, 'lastOrderAt'>,
  dayKeyed: ReadonlySet<string>,
): E[] {
  const lastOrderAt = profile.lastOrderAt;
  const lastOrder = instantOf(lastOrderAt);
  if (lastOrderAt === undefined || lastOrder === undefined) return [...entries];
  const stored = new Set(entries.map((e) => e.occasionKey));
  const chosen = new Map<string, E>();
  for (const entry of entries) {
    const campaignId = legacyNextOrderCampaign(entry.occasionKey, dayKeyed);
    if (campaignId === undefined || entry.claimedAt <= lastOrder) continue;
    const key = `${campaignId}#${nextOrderKey(lastOrderAt)}`;
    if (stored.has(key)) continue;
    const before = chosen.get(key);
    if (before === undefined || precedes(entry, before)) chosen.set(key, entry);
  }
  const renamed = new Map([...chosen].map(([key, entry]) => [entry, key]));
  return entries.map((entry) => {
    const key = renamed.get(entry);
    return key === undefined ? entry : { ...entry, occasionKey: key };
  });
}

/** Whether `a` speaks for the occasion rather than `b`: one that settles it, then the later claim. */
function precedes(a: Pick<LedgerEntry, 'status' | 'claimedAt'>, b: Pick<LedgerEntry, 'status' | 'claimedAt'>): boolean {
  const settlesA = !isClaimable(a.status);
  const settlesB = !isClaimable(b.status);
  return settlesA !== settlesB ? settlesA : a.claimedAt > b.claimedAt;
}

/** The campaigns an earlier version keyed by the predicted day alone ('<id>#<day>'): `predicted-next-order`, once per occasion. */
export function predictedDayKeyedCampaigns(campaigns: readonly CampaignDefinition[]): ReadonlySet<string> {
  return new Set(
    campaigns.filter((campaign) => {
      const { trigger, timing } = campaignRules(campaign);
      return trigger.on === 'predicted-next-order' && timing.oncePer === 'occasion';
    }).map((campaign) => campaign.id),
  );
}
