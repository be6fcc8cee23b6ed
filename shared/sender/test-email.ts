import type { CategoryAffinity } from '#shared/segments/category-affinity.ts';
import { dueOccasions, type CampaignContext, type DueOccasion, type ProductCatalog } from '#shared/campaigns/due.ts';
import { campaignRules } from '#shared/campaigns/schema.ts';
import type { CampaignDefinition, Offer } from '#shared/campaigns/schema.ts';
import type { Config } from '#shared/config.ts';
import { TIERS, type ClientProfile, type ProductRecord, type Tier } from '#shared/model.ts';
import type { TemplateLocale } from '#shared/templates/locale.ts';

/**
 * What `clientele preview` and `clientele send-test` need besides the sender: a made-up client
 * shaped so that the campaign's email shows all its parts, the occasion a client would get, the
 * internal addresses a test may go to. Pure.
 */

/** The customer id of the made-up client: no profile has it, so its unsubscribe link suppresses nobody. */
export const MADE_UP_CUSTOMER_ID = 'made-up-client';

/** The coupon a preview or a test shows for a pool or a scheme: never a real code (a test must not use one up). */
export const SAMPLE_COUPON_CODE = 'TEST-CODE';

/** The code a preview or a test shows in place of the occasion's own: the sample one where a real send would have a code. */
export function sampleCouponCode(offer: Pick<Offer, 'couponFrom'>, coupons: Pick<Config['coupons'], 'scheme'>): string | undefined {
  const source = offer.couponFrom;
  if (source === undefined || (source.from === 'brand-scheme' && coupons.scheme === undefined)) return undefined;
  return SAMPLE_COUPON_CODE;
}

const FIRST_NAMES: Record<TemplateLocale, string> = { en: 'Alex', 'zh-CN': '林' };
const DAY_MS = 86_400_000;

/**
 * A consenting client of `tier` in `locale` who bought up to three products of the catalogue 20
 * days before `at` (replenishable ones first for a replenishment, one category for a win-back), and
 * whatever the campaign's trigger reads (a move into the tier that day, a birthday, the stage, a
 * sign-up a year before the first order for a long-standing subscriber's), so that any campaign
 * falls due for them at some point and its email shows products.
 */
export function madeUpClient(campaign: CampaignDefinition, catalog: ReadonlyMap<string, ProductRecord>, at: number, locale: TemplateLocale, tier: Tier): ClientProfile {
  const bought = new Date(at - 20 * DAY_MS).toISOString();
  const boughtOn = bought.slice(0, 10);
  const trigger = campaignRules(campaign).trigger;
  const products = pickProducts(campaign.kind, [...catalog.values()]);
  const skus = Object.fromEntries(
    products.map((p) => [p.sku, { ...(p.name === undefined ? {} : { productName: p.name }), ...(p.category === undefined ? {} : { category: p.category }), lastPurchasedAt: bought, quantity: 1, purchases: 1 }]),
  );
  const topCategory = products[0]?.category;
  return {
    customerId: MADE_UP_CUSTOMER_ID,
    firstName: FIRST_NAMES[locale],
    locale,
    acceptsMarketing: true,
    signedUpAt: trigger.on === 'first-order' && trigger.signedUpAtLeastHoursBefore !== undefined ? new Date(at - (20 + 365) * DAY_MS).toISOString() : bought,
    tier,
    stage: 'active',
    spend12mMinor: 0,
    lifetimeSpendMinor: 0,
    currency: 'USD',
    orderCount: 1,
    firstOrderAt: bought,
    lastOrderAt: bought,
    ...(topCategory === undefined ? {} : { topCategory }),
    skus,
    // A birthday a month after the purchase, so the two years searched by occasionToShow hold one.
    birthday: `1990-${new Date(at + 10 * DAY_MS).toISOString().slice(5, 10)}`,
    ...(trigger.on === 'tier-changed' ? { previousTier: tierBefore(tier, trigger.direction), tierChangedOn: boughtOn } : {}),
    ...(trigger.on === 'stage-entered' ? { stage: trigger.stages[0] ?? 'active', previousStage: 'active', stageEnteredOn: boughtOn } : {}),
  };
}

/** The tier a client moved from to reach `tier` in that direction ('any' reads as up). */
function tierBefore(tier: Tier, direction: 'up' | 'down' | 'any'): Tier {
  const rank = TIERS.indexOf(tier); // TIERS runs from VIC (0) down to Prospect
  const from = direction === 'down' ? rank - 1 : rank + 1;
  return TIERS[Math.min(Math.max(from, 0), TIERS.length - 1)] ?? tier;
}

function pickProducts(kind: CampaignDefinition['kind'], products: readonly ProductRecord[]): ProductRecord[] {
  const shown = (p: ProductRecord) => (p.url !== undefined ? 2 : 0) + (p.priceMinor !== undefined ? 1 : 0);
  const ranked = [...products].sort((a, b) => shown(b) - shown(a) || (a.sku < b.sku ? -1 : 1));
  if (kind === 'replenishment') return ranked.filter((p) => p.replenishDays !== undefined).slice(0, 3);
  if (kind === 'winback') {
    const category = ranked.find((p) => p.category !== undefined)?.category;
    return ranked.filter((p) => p.category === category).slice(0, 3);
  }
  return ranked.slice(0, 2);
}

/**
 * The occasion of `campaign` for the client: due at `at`, else the first moment it falls due
 * (their sign-up or first order, then each day of the two years from their last order), so any
 * email can be proofread. Undefined when it never applies (no replenishable product, no order).
 */
export function occasionToShow(
  profile: ClientProfile,
  campaign: CampaignDefinition,
  catalog: ProductCatalog,
  config: Pick<Config, 'campaigns' | 'timeZone'>,
  at: number,
  categoryAffinity?: CategoryAffinity,
): DueOccasion | undefined {
  const context: CampaignContext = {
    campaigns: { ...config.campaigns, campaigns: [{ ...campaign, enabled: true }] },
    brandTimeZone: config.timeZone,
    ...(categoryAffinity ? { categoryAffinity } : {}),
  };
  const now = dueOccasions(profile, catalog, at, context)[0];
  if (now) return now;
  const candidates = [profile.signedUpAt, profile.firstOrderAt].flatMap((t) => (t ? [Date.parse(t) + 3_600_000] : []));
  for (const when of candidates) {
    const found = dueOccasions(profile, catalog, when, context)[0];
    if (found) return found;
  }
  // From the last order (a reminder or a win-back of a client who bought long ago lies in the past), two years on.
  const lastOrder = profile.lastOrderAt === undefined ? Number.NaN : Date.parse(profile.lastOrderAt);
  const from = Number.isFinite(lastOrder) ? Math.min(lastOrder, at) : at;
  for (let day = 0; day < 730; day++) {
    const found = dueOccasions(profile, catalog, from + day * DAY_MS, context)[0];
    if (found) return found;
  }
  return undefined;
}

/** The domains a test email may go to without --allow-external: the configured ones, else the sender address's. */
export function internalDomains(sender: Pick<Config['sender'], 'internalDomains' | 'fromAddress'>): string[] {
  if (sender.internalDomains.length > 0) return sender.internalDomains;
  const domain = sender.fromAddress.split('@')[1]?.toLowerCase();
  return domain ? [domain] : [];
}

/** Whether `address` is at one of the domains (exactly, not a look-alike such as brand.com.evil.io). */
export function isInternalAddress(address: string, domains: readonly string[]): boolean {
  const at = address.lastIndexOf('@');
  if (at < 1) return false;
  const domain = address.slice(at + 1).toLowerCase();
  return domains.some((d) => domain === d.toLowerCase());
}

/** A test email's subject: marked, so nobody takes it for a real send. */
export function testSubject(subject: string, locale: TemplateLocale): string {
  return locale === 'zh-CN' ? `[测试] ${subject}` : `[TEST] ${subject}`;
}
