import { describe, expect, it } from 'vitest';
import { dueOccasions } from '#shared/campaigns/due.ts';
import type { CampaignsConfigInput } from '#shared/campaigns/schema.ts';
import { firstOrderProducts, triggerMoments } from '#shared/campaigns/triggers.ts';
import type { ClientProfile, OrderLine, SkuPurchase } from '#shared/model.ts';
import { ClientAggregator } from '#shared/tiering/aggregate.ts';
import { computeProfiles } from '#shared/tiering/profile.ts';
import { clientProfile } from '#test/support/profiles.ts';
import { at, iso } from '#test/support/time.ts';
import { config, customer, line } from '../tiering/fixtures.ts';
import { CATALOG, context } from './fixtures.ts';

/**
 * What the first order bought, for every first-order trigger (the welcome on a first order,
 * first-order, first-purchase-thanks, first-order-care), after a SKU of it was bought again: the
 * profile keeps each SKU's last purchase, so the first order's SKUs are the ones whose first
 * purchase (SkuPurchase.firstPurchasedAt, else the stock-up's start) was at firstOrderAt. Found by
 * an adversarial pass (probe-attack-plays-2): a Night Cream bought on 2 March and again on 4 March
 * gave a first-order-care email with no product, no care tip and no sample.
 */
const SH = 'Asia/Shanghai';
const bought = (when: number, fields: Partial<SkuPurchase> = {}): SkuPurchase => ({ lastPurchasedAt: iso(when), quantity: 1, purchases: 1, ...fields });

/** Client c1's profile as the night computes it on `runDate` from these purchases (local times in Shanghai). */
function nightProfile(purchases: { at: string; sku: string; category?: string }[], runDate: string, campaigns: CampaignsConfigInput = {}): ClientProfile {
  const aggregator = new ClientAggregator();
  aggregator.addCustomer(customer('c1', { email: 'c1@example.com', timeZone: SH, locale: 'en', acceptsMarketing: true }));
  purchases.forEach((p, n) => {
    const orderLine: OrderLine = line({ orderId: `o${n}`, customerId: 'c1', orderedAt: at(p.at, SH), sku: p.sku, productName: p.sku === 'CREAM' ? 'Night Cream' : p.sku, category: p.category ?? 'skincare' });
    aggregator.addOrderLine(orderLine);
  });
  const [profile] = computeProfiles(aggregator.clients(), { runDate, config: config({ campaigns }) });
  if (profile === undefined) throw new Error('no profile');
  return profile;
}

const CARE: CampaignsConfigInput = { policy: { controlShare: 0 }, campaigns: [{ kind: 'first-order-care' }] };

function careOccasion(profile: ClientProfile, now: number, campaigns: CampaignsConfigInput = CARE) {
  return dueOccasions(profile, CATALOG, now, context(campaigns)).find((o) => o.campaignId === 'first-order-care');
}

describe('first-order-care after a SKU of the first order was bought again', () => {
  const now = at('2026-03-09 11:00', SH); // 7 days after the first order

  it('shows the cream and gives the beauty sample when the same cream was bought again two days later (the probe)', () => {
    const profile = nightProfile([{ at: '2026-03-02 10:00', sku: 'CREAM' }, { at: '2026-03-04 10:00', sku: 'CREAM' }], '2026-03-08');
    expect(profile.skus.CREAM).toMatchObject({ lastPurchasedAt: iso(at('2026-03-04 10:00', SH)), stockUpFrom: iso(at('2026-03-02 10:00', SH)) });
    // One stock-up from the first order: its start says it, no field is stored.
    expect(profile.skus.CREAM?.firstPurchasedAt).toBeUndefined();
    expect(careOccasion(profile, now)?.details).toMatchObject({ products: [{ sku: 'CREAM', productName: 'Night Cream' }], offer: { kind: 'sample' } });
    // The control: the client who bought once gets the same.
    const once = nightProfile([{ at: '2026-03-02 10:00', sku: 'CREAM' }], '2026-03-08');
    expect(careOccasion(once, now)?.details).toMatchObject({ products: [{ sku: 'CREAM', productName: 'Night Cream' }], offer: { kind: 'sample' } });
  });

  it('reads a profile stored before firstPurchasedAt by the stock-up\'s start (the probe\'s profile)', () => {
    const first = at('2026-03-02 10:00', SH);
    const again = at('2026-03-04 10:00', SH);
    const profile = clientProfile({
      timeZone: SH,
      orderCount: 2,
      firstOrderAt: iso(first),
      lastOrderAt: iso(again),
      topCategory: 'skincare',
      skus: { CREAM: bought(again, { category: 'skincare', purchases: 2, quantity: 2, stockUpFrom: iso(first) }) },
    });
    expect(careOccasion(profile, now)?.details).toMatchObject({ products: [{ sku: 'CREAM', productName: 'Night Cream' }], offer: { kind: 'sample' } });
  });

  it('shows it when the cream was bought again the same day, and after the stock-up lead a brand set short', () => {
    const sameDay = nightProfile([{ at: '2026-03-02 10:00', sku: 'CREAM' }, { at: '2026-03-02 16:00', sku: 'CREAM' }], '2026-03-08');
    expect(sameDay.skus.CREAM).toMatchObject({ lastPurchasedAt: iso(at('2026-03-02 16:00', SH)), firstPurchasedAt: iso(at('2026-03-02 10:00', SH)) });
    expect(careOccasion(sameDay, now)?.details).toMatchObject({ products: [{ sku: 'CREAM' }], offer: { kind: 'sample' } });

    // A lead of 3 days: 2 and 6 March are two stock-ups, the last one's start is 6 March.
    const shortLead: CampaignsConfigInput = { policy: { controlShare: 0 }, campaigns: [{ kind: 'replenishment', timing: { daysBeforeRunOut: 3 } }, { kind: 'first-order-care' }] };
    const later = nightProfile([{ at: '2026-03-02 10:00', sku: 'CREAM' }, { at: '2026-03-06 10:00', sku: 'CREAM' }], '2026-03-08', shortLead);
    expect(later.skus.CREAM).toMatchObject({ lastPurchasedAt: iso(at('2026-03-06 10:00', SH)), firstPurchasedAt: iso(at('2026-03-02 10:00', SH)) });
    expect(later.skus.CREAM?.stockUpFrom).toBeUndefined();
    expect(careOccasion(later, now, shortLead)?.details).toMatchObject({ products: [{ sku: 'CREAM' }], offer: { kind: 'sample' } });
  });

  it('never shows what only a later order bought, nor gives the sample for it', () => {
    const profile = nightProfile([{ at: '2026-03-02 10:00', sku: 'BAG', category: 'bags' }, { at: '2026-03-02 16:00', sku: 'CREAM' }, { at: '2026-03-04 10:00', sku: 'BAG', category: 'bags' }], '2026-03-08');
    expect(careOccasion(profile, now)?.details).toMatchObject({ products: [{ sku: 'BAG' }], offer: { kind: 'none' } });
  });
});

describe('the other first-order triggers read the same products', () => {
  it('first-purchase-thanks: the first order\'s cream after a second order of it the same day (the probe)', () => {
    const signedUp = at('2026-01-10 10:00', SH);
    const profile = { ...nightProfile([{ at: '2026-03-02 10:00', sku: 'CREAM' }, { at: '2026-03-02 16:00', sku: 'CREAM' }], '2026-03-02'), signedUpAt: iso(signedUp) };
    const ctx = context({ policy: { controlShare: 0 } });
    const thanks = dueOccasions(profile, CATALOG, at('2026-03-03 11:00', SH), ctx).find((o) => o.campaignId === 'first-purchase-thanks');
    expect(thanks).toMatchObject({ occasionKey: 'first-purchase-thanks' });
    expect(thanks?.details.products).toEqual([{ sku: 'CREAM', productName: 'Night Cream' }]);
  });

  it('the welcome on a first order and first-order: the first order\'s SKUs (in SKU order), not those only the second bought', () => {
    const profile = nightProfile(
      [
        { at: '2026-03-02 10:00', sku: 'SERUM' },
        { at: '2026-03-02 10:00', sku: 'CREAM' },
        { at: '2026-03-02 18:00', sku: 'SERUM' },
        { at: '2026-03-02 18:00', sku: 'MIST' },
      ],
      '2026-03-02',
    );
    const expected = [{ sku: 'CREAM', productName: 'Night Cream' }, { sku: 'SERUM', productName: 'SERUM' }];
    expect(firstOrderProducts(profile, CATALOG)).toEqual(expected);
    const triggerContext = { catalog: CATALOG, seasons: [], timeZone: SH };
    expect(triggerMoments({ on: 'first-contact' }, profile, triggerContext).map((m) => m.products)).toEqual([expected]);
    expect(triggerMoments({ on: 'first-order' }, profile, triggerContext).map((m) => m.products)).toEqual([expected]);
  });

  it('any-order keeps the last order\'s SKUs: what it bought, the cream bought again included', () => {
    const profile = nightProfile([{ at: '2026-03-02 10:00', sku: 'CREAM' }, { at: '2026-03-02 10:00', sku: 'SERUM' }, { at: '2026-03-04 10:00', sku: 'CREAM' }], '2026-03-08');
    const triggerContext = { catalog: CATALOG, seasons: [], timeZone: SH };
    expect(triggerMoments({ on: 'any-order', daysAfter: 1 }, profile, triggerContext).map((m) => m.products)).toEqual([[{ sku: 'CREAM', productName: 'Night Cream' }]]);
  });
});
