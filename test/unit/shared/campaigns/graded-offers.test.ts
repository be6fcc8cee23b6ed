import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dueOccasions, offerFor, ordersPerYear } from '#shared/campaigns/due.ts';
import { campaignsConfigSchema, offersSchema } from '#shared/campaigns/schema.ts';
import { parseConfig } from '#shared/config.ts';
import { TIERS } from '#shared/model.ts';
import { clientProfile } from '#test/support/profiles.ts';
import { at, DAY, iso } from '#test/support/time.ts';
import { CATALOG, context } from './fixtures.ts';

/** Graded offers (`offers.graded`): by how often the client used to buy and how long ago, read on the profile at the decision. */

const SH = 'Asia/Shanghai';
const NOW = at('2026-06-01 10:00', SH);
const OFFERS = offersSchema.parse({
  default: { kind: 'coupon', discountPercent: 10 },
  VIC: { kind: 'personal-note' },
  graded: [
    { minOrders: 4, minOrdersPerYear: 3, offer: { kind: 'free-shipping-coupon', freeShipping: true, discountPercent: 25 } },
    { minOrders: 2, minDaysSinceLastOrder: 365, offer: { kind: 'free-shipping-coupon', freeShipping: true, discountPercent: 20 } },
    { minOrders: 2, offer: { kind: 'coupon', discountPercent: 15 } },
  ],
});
const buyer = (orderCount: number, firstDaysAgo: number, lastDaysAgo: number, tier: 'Entry' | 'Core' | 'VIC' = 'Core') =>
  clientProfile({ tier, orderCount, firstOrderAt: iso(NOW - firstDaysAgo * DAY), lastOrderAt: iso(NOW - lastDaysAgo * DAY), timeZone: SH });
const discount = (profile: ReturnType<typeof buyer>, now = NOW) => offerFor({ offers: OFFERS }, profile, now, SH);

describe('orders per year', () => {
  it('counts the orders over the buying life, first to last order, one year at least', () => {
    expect(ordersPerYear(buyer(6, 130 + 730, 130))).toBeCloseTo(3);
    // Four orders in one month are four in a year, not fifty.
    expect(ordersPerYear(buyer(4, 160, 130))).toBe(4);
    expect(ordersPerYear(clientProfile({ orderCount: 0 }))).toBeUndefined();
  });
});

describe('a graded offer', () => {
  it('gives a frequent buyer who stopped a stronger offer than a repeat buyer, and a one-off buyer the default', () => {
    expect(discount(buyer(8, 130 + 730, 130))).toMatchObject({ kind: 'free-shipping-coupon', discountPercent: 25 });
    expect(discount(buyer(2, 400, 130))).toEqual({ kind: 'coupon', discountPercent: 15 });
    expect(discount(buyer(1, 130, 130))).toEqual({ kind: 'coupon', discountPercent: 10 });
  });

  it('grades by the time since the last order at the decision, in local days', () => {
    const repeat = buyer(2, 800, 364);
    expect(discount(repeat)).toMatchObject({ discountPercent: 15 });
    expect(discount(repeat, NOW + DAY)).toMatchObject({ discountPercent: 20, freeShipping: true });
  });

  it('keeps the offer of a tier the campaign names: a VIC gets the note, never a graded discount', () => {
    expect(discount(buyer(8, 130 + 730, 130, 'VIC'))).toEqual({ kind: 'personal-note' });
  });

  it('is what a due occasion carries', () => {
    const ctx = context({ campaigns: [{ id: 'recall', trigger: { on: 'no-order-for', days: [120, 180] }, template: 'winback', offers: OFFERS }] });
    const [occasion] = dueOccasions(buyer(8, 130 + 730, 120), CATALOG, NOW, ctx);
    expect(occasion?.details.offer).toMatchObject({ kind: 'free-shipping-coupon', discountPercent: 25 });
  });

  it('never offers less to a client with more orders and everything else equal (the bands as written)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 1, max: 800 }), fc.constantFrom(...TIERS.filter((t) => t !== 'VIC')), (orders, span, lapse, tier) => {
        const fewer = offerFor({ offers: OFFERS }, { ...buyer(orders, lapse + span, lapse), tier }, NOW, SH);
        const more = offerFor({ offers: OFFERS }, { ...buyer(orders + 1, lapse + span, lapse), tier }, NOW, SH);
        expect(more.discountPercent ?? 0).toBeGreaterThanOrEqual(fewer.discountPercent ?? 0);
      }),
    );
  });

  it('is validated: a step needs a condition; errors name the campaign and the field', () => {
    const bad = (graded: unknown) => campaignsConfigSchema.safeParse({ campaigns: [{ id: 'r', trigger: { on: 'no-order-for', days: 120 }, template: 'winback', offers: { default: { kind: 'none' }, graded } }] });
    expect(bad([{ offer: { kind: 'coupon', discountPercent: 10 } }]).error?.issues[0]?.path).toEqual(['campaigns', 0, 'offers', 'graded', 0]);
    expect(bad([{ minOrders: 0, offer: { kind: 'coupon' } }]).error?.issues[0]?.path).toEqual(['campaigns', 0, 'offers', 'graded', 0, 'minOrders']);
    expect(bad([]).success).toBe(false);
    expect(() => parseConfig({ campaigns: { campaigns: [{ id: 'recall-x', trigger: { on: 'no-order-for', days: 120 }, template: 'winback', offers: { default: { kind: 'none' }, graded: [{ minOrders: 2, offer: { kind: 'personal-note', discountPercent: 5 } }] } }] } })).toThrow(
      /campaign "recall-x" at campaigns\.campaigns\.0\.offers\.graded\.0\.offer/,
    );
  });
});
