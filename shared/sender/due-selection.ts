import { createHash } from 'node:crypto';
import type { Config } from '#shared/config.ts';
import { campaignRules, type CampaignDefinition } from '#shared/campaigns/schema.ts';
import { TIERS, type ProductRecord } from '#shared/model.ts';
import { stableStringify } from '#shared/nightly/diff.ts';
import { compareStrings } from '#shared/tiering/client-columns.ts';

/**
 * What the due index's values depend on besides each profile and its ledger
 * (shared/campaigns/due-index.ts): the campaigns' kinds, triggers, timing, audiences and products,
 * the seasons, which are enabled, the brand's zone, the expiry lookback, the replenishable
 * categories and the catalogue's replenishable products. Hashed into the index state; a run whose
 * configuration or catalogue hashes differently reads every profile once and brings the index up
 * to date. (A value leaves out a window out of its audience, or with nothing to show from the
 * profile: a wider audience, or products no longer required, must bring it back.)
 */
export function dueIndexFingerprint(config: Pick<Config, 'campaigns' | 'timeZone' | 'sender'>, catalog: ReadonlyMap<string, ProductRecord>): string {
  // The replenishable products: a cycle of their own, or a category a campaign lists (due.ts isReplenishable).
  const listed = new Set(
    config.campaigns.campaigns.flatMap((c) => (c.kind === 'replenishment' ? c.replenishableCategories : c.kind === 'custom' && c.trigger.on === 'product-runs-out' ? c.trigger.replenishableCategories : [])),
  );
  const cycles = [...catalog.values()]
    .filter((product) => product.replenishDays !== undefined || (product.category !== undefined && listed.has(product.category)))
    .map((product) => ({ sku: product.sku, days: product.replenishDays, category: product.category }))
    .sort((a, b) => compareStrings(a.sku, b.sku));
  const inputs = {
    timeZone: config.timeZone,
    expiryLookbackHours: config.sender.expiryLookbackHours,
    campaigns: config.campaigns.campaigns.map((c) => ({
      id: c.id,
      kind: c.kind,
      enabled: c.enabled,
      timing: c.timing,
      audience: c.audience,
      ...(c.kind === 'replenishment' ? { replenishableCategories: [...c.replenishableCategories].sort(compareStrings) } : {}),
      ...(c.kind === 'custom' ? { trigger: c.trigger, ...(c.products ? { products: c.products } : {}) } : {}),
    })),
    // Only when set, so that a configuration without seasons keeps the fingerprint it had before them.
    ...(config.campaigns.seasons.length > 0 ? { seasons: config.campaigns.seasons } : {}),
    // A lapse's step is judged by the higher of the tier held when it came due and the tier of the
    // hour (due.ts lapseTier): an hour of an earlier version weighed such a window whose audience
    // takes only some tiers by the tier of the hour, then (9b22625, 'held-when-due') by the tier held
    // when it came due, and may have left out a window the rule now takes (a VIC-only lapse, a client
    // moved up since). Only then, so that the other configurations keep their fingerprint (no full scan).
    ...(config.campaigns.campaigns.some(lapseAudienceByTier) ? { lapseTier: 'higher-of-held-and-now' } : {}),
    cycles,
  };
  return createHash('sha256').update(stableStringify(inputs)).digest('base64url');
}

/** An enabled lapse campaign (no-order-for) whose audience leaves out a tier. */
function lapseAudienceByTier(campaign: CampaignDefinition): boolean {
  return campaign.enabled && campaignRules(campaign).trigger.on === 'no-order-for' && TIERS.some((tier) => !campaign.audience.tiers.includes(tier));
}
