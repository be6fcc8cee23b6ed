import type { CampaignContext } from '#shared/campaigns/due.ts';
import { campaignsConfigSchema, type CampaignsConfigInput } from '#shared/campaigns/schema.ts';
import type { ProductRecord } from '#shared/model.ts';
import { BRAND_ZONE } from '#test/support/time.ts';

/** Campaign context over the given (default: built-in) configuration. */
export function context(input: CampaignsConfigInput = {}, brandTimeZone = BRAND_ZONE): CampaignContext {
  return { campaigns: campaignsConfigSchema.parse(input), brandTimeZone };
}

export const CATALOG = new Map<string, ProductRecord>([
  ['CREAM', { sku: 'CREAM', name: 'Night Cream', category: 'skin', replenishDays: 90 }],
  ['SERUM', { sku: 'SERUM', name: 'Serum', category: 'skin', replenishDays: 60 }],
  ['MIST', { sku: 'MIST', name: 'Face Mist', category: 'skin', replenishDays: 10 }],
  ['BAG', { sku: 'BAG', name: 'Tote', category: 'bags' }],
  // A consumable without a catalog cycle: replenishable only where the config lists 'fragrance'.
  ['PERFUME', { sku: 'PERFUME', name: 'Eau de Parfum', category: 'fragrance' }],
]);

/** The built-in campaigns with 'fragrance' listed as a replenishable category. */
export const FRAGRANCE_REPLENISHABLE: CampaignsConfigInput = {
  campaigns: [{ kind: 'welcome' }, { kind: 'replenishment', replenishableCategories: ['fragrance'] }, { kind: 'winback' }],
};
