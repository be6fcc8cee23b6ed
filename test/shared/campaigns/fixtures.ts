import type { CampaignContext } from '#shared/campaigns/due.ts';
import { campaignsConfigSchema, type CampaignsConfigInput } from '#shared/campaigns/schema.ts';
import type { ClientProfile, ProductRecord } from '#shared/model.ts';
import { parseTimestamp } from '#shared/time.ts';

export const BRAND_ZONE = 'Asia/Shanghai';
export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** Campaign context over the given (default: built-in) configuration. */
export function context(input: CampaignsConfigInput = {}, brandTimeZone = BRAND_ZONE): CampaignContext {
  return { campaigns: campaignsConfigSchema.parse(input), brandTimeZone };
}

/** Instant of a local wall-clock time ("2026-03-25T23:59") in `timeZone`, or of an ISO instant with offset. */
export function at(text: string, timeZone = BRAND_ZONE): number {
  const instant = parseTimestamp(text, timeZone);
  if (instant === undefined) throw new Error(`bad timestamp ${text}`);
  return instant;
}

/** ISO instant as the profile stores it. */
export function iso(instant: number): string {
  return new Date(instant).toISOString();
}

/** A consenting Entry client with no purchases unless told otherwise. */
export function profile(fields: Partial<ClientProfile> = {}): ClientProfile {
  return {
    customerId: 'c1',
    email: 'ann@example.com',
    acceptsMarketing: true,
    tier: 'Entry',
    stage: 'active',
    spend12mMinor: 50_000,
    lifetimeSpendMinor: 50_000,
    currency: 'USD',
    orderCount: 1,
    skus: {},
    ...fields,
  };
}

export const CATALOG = new Map<string, ProductRecord>([
  ['CREAM', { sku: 'CREAM', name: 'Night Cream', category: 'skin', replenishDays: 90 }],
  ['SERUM', { sku: 'SERUM', name: 'Serum', category: 'skin', replenishDays: 60 }],
  ['MIST', { sku: 'MIST', name: 'Face Mist', category: 'skin', replenishDays: 10 }],
  ['BAG', { sku: 'BAG', name: 'Tote', category: 'bags' }],
]);
