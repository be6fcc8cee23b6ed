import type { ClientProfile } from '#shared/model.ts';
import type { ProfileItem } from '#shared/store/profile-store.ts';
import { BRAND_ZONE } from './time.ts';

/** Client profiles for tests, from one set of defaults: a consenting Entry client, active, one order, nothing recent. */

/** A client profile as the rules take it; `customerId` (default c1) also names the address. */
export function clientProfile(fields: Partial<ClientProfile> = {}): ClientProfile {
  const customerId = fields.customerId ?? 'c1';
  return {
    customerId,
    email: `${customerId}@example.com`,
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

/** The same client as the profiles table stores it after a past night, with a first name and the brand's time zone. */
export function profileItem(customerId: string, fields: Partial<ClientProfile> = {}): ProfileItem {
  return {
    ...clientProfile({ firstName: `Client ${customerId}`, timeZone: BRAND_ZONE, ...fields, customerId }),
    digest: 'seeded',
    updatedRunDate: '2026-01-01',
  };
}
