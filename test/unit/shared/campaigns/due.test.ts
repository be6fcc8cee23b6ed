import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientTimeZone, dueOccasions, replenishmentCycle, type DueOccasion } from '#shared/campaigns/due.ts';
import type { ClientProfile, SkuPurchase } from '#shared/model.ts';
import { clientProfile } from '#test/support/profiles.ts';
import { DAY, HOUR, MINUTE, at, iso } from '#test/support/time.ts';
import { CATALOG, context, FRAGRANCE_REPLENISHABLE } from './fixtures.ts';

const CTX = context();

function due(client: ClientProfile, now: number, ctx = CTX): DueOccasion[] {
  return dueOccasions(client, CATALOG, now, ctx);
}
function ofKind(client: ClientProfile, now: number, kind: DueOccasion['kind'], ctx = CTX): DueOccasion[] {
  return due(client, now, ctx).filter((o) => o.kind === kind);
}

describe('welcome', () => {
  const signedUp = at('2026-05-10T10:00');
  const newcomer = clientProfile({ stage: 'prospect', tier: 'Prospect', orderCount: 0, signedUpAt: iso(signedUp) });

  it('is due from sign-up, on time up to 24 h and flagged late after', () => {
    const [onTime] = ofKind(newcomer, signedUp + 23 * HOUR + 59 * MINUTE, 'welcome');
    expect(onTime).toMatchObject({
      campaignId: 'welcome',
      customerId: 'c1',
      occasionKey: 'welcome',
      triggerAt: signedUp,
      dueAt: signedUp,
      expiresAt: signedUp + 72 * HOUR,
      priority: 1,
      template: 'welcome',
      details: { late: false, welcomeTrigger: 'sign-up', offer: { kind: 'sample' } },
    });
    expect(onTime?.details.hoursSinceTrigger).toBeCloseTo(23 + 59 / 60, 6);

    const [late] = ofKind(newcomer, signedUp + 24 * HOUR + MINUTE, 'welcome');
    expect(late?.details.late).toBe(true);
    expect(late?.details.hoursSinceTrigger).toBeCloseTo(24 + 1 / 60, 6);
  });

  it('is due at the trigger itself, and not before', () => {
    expect(ofKind(newcomer, signedUp, 'welcome')).toHaveLength(1);
    expect(ofKind(newcomer, signedUp - 1, 'welcome')).toHaveLength(0);
  });

  it('still sends at 71 h 59 and never at or past the 72 h cut-off', () => {
    expect(ofKind(newcomer, signedUp + 71 * HOUR + 59 * MINUTE, 'welcome')).toHaveLength(1);
    expect(ofKind(newcomer, signedUp + 72 * HOUR, 'welcome')).toHaveLength(0);
    expect(ofKind(newcomer, signedUp + 72 * HOUR + MINUTE, 'welcome')).toHaveLength(0);
  });

  it('follows a configured cut-off', () => {
    const ctx = context({ campaigns: [{ kind: 'welcome', timing: { targetHours: 12, cutoffHours: 36 } }] });
    expect(ofKind(newcomer, signedUp + 13 * HOUR, 'welcome', ctx)[0]?.details.late).toBe(true);
    expect(ofKind(newcomer, signedUp + 35 * HOUR, 'welcome', ctx)).toHaveLength(1);
    expect(ofKind(newcomer, signedUp + 36 * HOUR, 'welcome', ctx)).toHaveLength(0);
  });

  it('starts at the first order when there is no sign-up, or when the order came first', () => {
    const firstOrder = at('2026-05-10T10:00');
    const buyer = clientProfile({ stage: 'new', firstOrderAt: iso(firstOrder), lastOrderAt: iso(firstOrder) });
    expect(ofKind(buyer, firstOrder + HOUR, 'welcome')[0]).toMatchObject({ triggerAt: firstOrder, details: { welcomeTrigger: 'first-order' } });
    const importedLater = { ...buyer, signedUpAt: iso(firstOrder + 5 * DAY) };
    expect(ofKind(importedLater, firstOrder + HOUR, 'welcome')[0]?.triggerAt).toBe(firstOrder);
    expect(ofKind(importedLater, firstOrder + 5 * DAY + HOUR, 'welcome')).toHaveLength(0);
  });

  it('welcomes once, at the first contact: a prospect of long standing buying today is not welcomed again', () => {
    const firstOrder = at('2026-05-10T10:00');
    const longProspect = clientProfile({ stage: 'new', signedUpAt: iso(firstOrder - 200 * DAY), firstOrderAt: iso(firstOrder) });
    expect(ofKind(longProspect, firstOrder + HOUR, 'welcome')).toHaveLength(0);
  });

  it('never welcomes an existing client', () => {
    const now = at('2026-05-10T10:00');
    const existing = clientProfile({ firstOrderAt: iso(now - 365 * DAY), lastOrderAt: iso(now - 10 * DAY), signedUpAt: iso(now - 400 * DAY) });
    expect(ofKind(existing, now, 'welcome')).toHaveLength(0);
  });

  it('needs a sign-up or an order, and ignores unreadable instants', () => {
    const now = at('2026-05-10T10:00');
    expect(ofKind(clientProfile({ orderCount: 0 }), now, 'welcome')).toHaveLength(0);
    expect(ofKind(clientProfile({ signedUpAt: 'not a date', firstOrderAt: iso(now - HOUR) }), now, 'welcome')[0]?.triggerAt).toBe(now - HOUR);
  });

  it('offers a VIC a personal note', () => {
    const vic = { ...newcomer, tier: 'VIC' as const };
    expect(ofKind(vic, signedUp + HOUR, 'welcome')[0]?.details.offer).toEqual({ kind: 'personal-note' });
  });
});

describe('replenishment', () => {
  const purchase = (fields: Partial<SkuPurchase> = {}): SkuPurchase => ({
    lastPurchasedAt: iso(at('2026-01-10T10:00')),
    quantity: 1,
    purchases: 1,
    ...fields,
  });
  const buyer = (skus: Record<string, SkuPurchase>, fields: Partial<ClientProfile> = {}) =>
    clientProfile({ timeZone: 'Asia/Shanghai', skus, lastOrderAt: iso(at('2026-03-20T10:00')), ...fields });

  it('is due from local midnight 15 days before run-out (last purchase + 90-day cycle)', () => {
    // Bought 2026-01-10 local: runs out 2026-04-10; reminder from 2026-03-26 00:00 local.
    const client = buyer({ CREAM: purchase() });
    expect(ofKind(client, at('2026-03-25T23:59:59'), 'replenishment')).toHaveLength(0);
    const [reminder] = ofKind(client, at('2026-03-26T00:00'), 'replenishment');
    expect(reminder).toMatchObject({
      campaignId: 'replenishment',
      occasionKey: `replenishment#CREAM#${iso(at('2026-01-10T10:00'))}`,
      triggerAt: at('2026-03-26T00:00'),
      dueAt: at('2026-03-26T00:00'),
      expiresAt: at('2026-04-10T00:00'),
      priority: 2,
      template: 'replenishment',
      details: {
        sku: 'CREAM',
        productName: 'Night Cream',
        category: 'skin',
        runOutDate: '2026-04-10',
        cycleDays: 90,
        cycleSource: 'catalog',
        quantity: 1,
        offer: { kind: 'coupon', discountPercent: 10, sample: true },
      },
    });
  });

  it('stays due until the run-out day, not on or after it', () => {
    const client = buyer({ CREAM: purchase() });
    expect(ofKind(client, at('2026-04-09T23:59'), 'replenishment')).toHaveLength(1);
    expect(ofKind(client, at('2026-04-10T00:00'), 'replenishment')).toHaveLength(0);
    expect(ofKind(client, at('2026-04-20T12:00'), 'replenishment')).toHaveLength(0);
  });

  it("counts days in the client's zone, not UTC, around local midnight", () => {
    // 07:00 in Shanghai on Jan 10 is still Jan 9 in UTC: a UTC count would remind a day early.
    const client = buyer({ CREAM: purchase({ lastPurchasedAt: '2026-01-09T23:00:00.000Z' }) });
    expect(ofKind(client, Date.UTC(2026, 2, 25, 15, 59), 'replenishment')).toHaveLength(0); // Mar 25 23:59 local
    expect(ofKind(client, Date.UTC(2026, 2, 25, 16, 0), 'replenishment')).toHaveLength(1); // Mar 26 00:00 local, Mar 25 in UTC
  });

  it("uses the client's own zone rather than the brand's", () => {
    // 23:30 on Jan 10 in New York is Jan 11 in Shanghai (the brand zone).
    const client = buyer({ CREAM: purchase({ lastPurchasedAt: '2026-01-11T04:30:00.000Z' }) }, { timeZone: 'America/New_York' });
    expect(ofKind(client, Date.UTC(2026, 2, 26, 3, 59), 'replenishment')).toHaveLength(0);
    const [reminder] = ofKind(client, Date.UTC(2026, 2, 26, 4, 0), 'replenishment'); // Mar 26 00:00 EDT
    expect(reminder?.details.runOutDate).toBe('2026-04-10');
    expect(reminder?.expiresAt).toBe(Date.UTC(2026, 3, 10, 4, 0));
  });

  it('starts at local midnight on the day DST begins', () => {
    // Bought 2025-12-23 in New York: runs out 2026-03-23, reminder day 2026-03-08 (00:00 is still EST).
    const client = buyer({ CREAM: purchase({ lastPurchasedAt: '2025-12-23T17:00:00.000Z' }) }, { timeZone: 'America/New_York' });
    const [reminder] = ofKind(client, Date.UTC(2026, 2, 8, 12), 'replenishment');
    expect(reminder?.dueAt).toBe(Date.UTC(2026, 2, 8, 5, 0));
    expect(reminder?.expiresAt).toBe(Date.UTC(2026, 2, 23, 4, 0));
  });

  it('stretches the catalog cycle by the quantity bought', () => {
    const client = buyer({ CREAM: purchase({ quantity: 2 }) });
    expect(ofKind(client, at('2026-04-05T12:00'), 'replenishment')).toHaveLength(0);
    const [reminder] = ofKind(client, at('2026-06-24T00:00'), 'replenishment');
    expect(reminder?.details).toMatchObject({ runOutDate: '2026-07-09', cycleDays: 180, quantity: 2 });
  });

  it('prefers the personal cycle of a client with 2+ purchases, per unit, stretched by the last stock-up', () => {
    const client = buyer({ CREAM: purchase({ purchases: 3, personalCycleDays: 30, quantity: 2 }) });
    const [reminder] = ofKind(client, at('2026-02-24T00:00'), 'replenishment');
    expect(reminder?.details).toMatchObject({ runOutDate: '2026-03-11', cycleDays: 60, cycleSource: 'personal' });
    expect(ofKind(client, at('2026-03-26T00:00'), 'replenishment')).toHaveLength(0);
  });

  it('ignores a personal cycle without 2 purchases', () => {
    const client = buyer({ CREAM: purchase({ purchases: 1, personalCycleDays: 60 }) });
    expect(ofKind(client, at('2026-03-26T00:00'), 'replenishment')[0]?.details.cycleSource).toBe('catalog');
  });

  it('sends no reminder without a cycle, for an unknown SKU, or when the product lasts no longer than the lead time', () => {
    const client = buyer({ BAG: purchase(), UNKNOWN: purchase(), MIST: purchase() });
    for (let day = 0; day < 200; day += 1) {
      expect(ofKind(client, at('2026-01-10T12:00') + day * DAY, 'replenishment')).toHaveLength(0);
    }
  });

  it('never reminds of a product that is not a consumable, however regular its purchases', () => {
    // A coat or a bag bought on two days has a personal gap, not a use-up cycle.
    const client = buyer({ BAG: purchase({ purchases: 3, personalCycleDays: 40 }), UNKNOWN: purchase({ purchases: 2, personalCycleDays: 30 }) });
    for (let day = 0; day < 400; day += 1) {
      expect(ofKind(client, at('2026-01-10T12:00') + day * DAY, 'replenishment')).toHaveLength(0);
    }
  });

  it('uses the personal cycle of a product in a category the config lists as replenishable', () => {
    const ctx = context(FRAGRANCE_REPLENISHABLE);
    const regular = buyer({ PERFUME: purchase({ purchases: 2, personalCycleDays: 30 }) });
    expect(ofKind(regular, at('2026-01-25T00:00'), 'replenishment', ctx)[0]?.details).toMatchObject({ sku: 'PERFUME', runOutDate: '2026-02-09', cycleSource: 'personal' });
    expect(ofKind(regular, at('2026-01-25T00:00'), 'replenishment')).toHaveLength(0);
    // Not in the catalog at all, but its category (as bought) is listed.
    const unknown = buyer({ UNKNOWN: purchase({ purchases: 2, personalCycleDays: 30, category: 'fragrance' }) });
    expect(ofKind(unknown, at('2026-01-25T00:00'), 'replenishment', ctx)[0]?.details).toMatchObject({ sku: 'UNKNOWN', runOutDate: '2026-02-09' });
    expect(ofKind(unknown, at('2026-01-25T00:00'), 'replenishment', ctx)[0]?.details.productName).toBeUndefined();
  });

  it('reminds once per purchase: a repurchase moves the run-out and the key, and the old reminder is gone', () => {
    const before = buyer({ CREAM: purchase() });
    const [old] = ofKind(before, at('2026-03-27T12:00'), 'replenishment');
    const repurchased = buyer({ CREAM: purchase({ lastPurchasedAt: iso(at('2026-03-27T09:00')), purchases: 2, personalCycleDays: 76 }) });
    expect(ofKind(repurchased, at('2026-03-27T12:00'), 'replenishment')).toHaveLength(0);
    const [next] = ofKind(repurchased, at('2026-05-27T00:00'), 'replenishment');
    expect(next?.occasionKey).not.toBe(old?.occasionKey);
    expect(next?.details.runOutDate).toBe('2026-06-11');
  });

  it('lists one occasion per SKU running low, ordered by due time', () => {
    const client = buyer({ SERUM: purchase({ lastPurchasedAt: iso(at('2026-02-08T10:00')) }), CREAM: purchase() });
    const reminders = ofKind(client, at('2026-03-28T12:00'), 'replenishment');
    // SERUM (60 days from Feb 8) runs out a day before CREAM: its reminder has been due longer.
    expect(reminders.map((r) => r.details.sku)).toEqual(['SERUM', 'CREAM']);
  });

  it('offers a VIC a personal note, with the product named from the profile first', () => {
    const client = buyer({ CREAM: purchase({ productName: 'Crème de Nuit' }) }, { tier: 'VIC' });
    const [reminder] = ofKind(client, at('2026-03-26T10:00'), 'replenishment');
    expect(reminder?.details.offer).toEqual({ kind: 'personal-note' });
    expect(reminder?.details.productName).toBe('Crème de Nuit');
  });

  it('follows a configured lead time', () => {
    const ctx = context({ campaigns: [{ kind: 'replenishment', timing: { daysBeforeRunOut: 7 } }] });
    const client = buyer({ CREAM: purchase() });
    expect(ofKind(client, at('2026-04-02T23:59'), 'replenishment', ctx)).toHaveLength(0);
    expect(ofKind(client, at('2026-04-03T00:00'), 'replenishment', ctx)).toHaveLength(1);
  });
});

describe('replenishmentCycle', () => {
  it('rounds a fractional median and treats a zero quantity as one unit', () => {
    const product = { sku: 'X', replenishDays: 30 };
    expect(replenishmentCycle({ lastPurchasedAt: '', quantity: 1, purchases: 2, personalCycleDays: 45.5 }, product)).toEqual({ days: 46, source: 'personal' });
    expect(replenishmentCycle({ lastPurchasedAt: '', quantity: 0, purchases: 1 }, product)).toEqual({ days: 30, source: 'catalog' });
    expect(replenishmentCycle({ lastPurchasedAt: '', quantity: 1, purchases: 1 }, { sku: 'X', replenishDays: 0 })).toBeUndefined();
  });

  it('gives a cycle only to a product with replenish_days or in a listed category', () => {
    const regular = { lastPurchasedAt: '', quantity: 1, purchases: 4, personalCycleDays: 45 };
    expect(replenishmentCycle(regular, undefined)).toBeUndefined();
    expect(replenishmentCycle(regular, { sku: 'COAT', category: 'outerwear' })).toBeUndefined();
    expect(replenishmentCycle(regular, { sku: 'COAT', category: 'outerwear' }, ['fragrance'])).toBeUndefined();
    expect(replenishmentCycle(regular, { sku: 'EDP', category: 'fragrance' }, ['fragrance'])).toEqual({ days: 45, source: 'personal' });
    expect(replenishmentCycle({ ...regular, category: 'fragrance' }, undefined, ['fragrance'])).toEqual({ days: 45, source: 'personal' });
    // Listed but bought once and no catalog cycle: nothing to time it by (the predicted next order may).
    expect(replenishmentCycle({ lastPurchasedAt: '', quantity: 1, purchases: 1 }, { sku: 'EDP', category: 'fragrance' }, ['fragrance'])).toBeUndefined();
  });

  it('never gives a cycle to a product that is neither in the catalog with replenish_days nor in a listed category (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          purchases: fc.integer({ min: 0, max: 20 }),
          quantity: fc.integer({ min: 0, max: 5 }),
          personalCycleDays: fc.option(fc.double({ min: 0, max: 400, noNaN: true }), { nil: undefined }),
          category: fc.option(fc.constantFrom('outerwear', 'bags', 'fragrance'), { nil: undefined }),
        }),
        fc.option(fc.constantFrom('outerwear', 'bags', 'fragrance'), { nil: undefined }),
        fc.subarray(['skincare', 'fragrance']),
        (bought, catalogCategory, listed) => {
          const purchase = { lastPurchasedAt: '', ...bought };
          const product = { sku: 'P', ...(catalogCategory === undefined ? {} : { category: catalogCategory }) };
          const category = bought.category ?? catalogCategory;
          const cycle = replenishmentCycle(purchase, product, listed);
          if (category === undefined || !listed.includes(category)) expect(cycle).toBeUndefined();
        },
      ),
    );
  });
});

describe('win-back', () => {
  // Last order 2026-01-01 at 23:50 in Shanghai: day 60 starts 2026-03-02 00:00 local.
  const lastOrder = at('2026-01-01T23:50');
  const lapsed = (fields: Partial<ClientProfile> = {}) =>
    clientProfile({ timeZone: 'Asia/Shanghai', tier: 'Core', stage: 'sleeping', firstOrderAt: iso(lastOrder - 300 * DAY), lastOrderAt: iso(lastOrder), ...fields });

  it('is not due on day 59, due on day 60 and 61, with the same key', () => {
    expect(ofKind(lapsed(), at('2026-03-01T23:59'), 'winback')).toHaveLength(0);
    const [day60] = ofKind(lapsed(), at('2026-03-02T00:00'), 'winback');
    expect(day60).toMatchObject({
      campaignId: 'winback',
      occasionKey: `winback#${iso(lastOrder)}`,
      triggerAt: at('2026-03-02T00:00'),
      dueAt: at('2026-03-02T00:00'),
      expiresAt: at('2026-04-01T00:00'),
      priority: 3,
      template: 'winback',
      details: { daysSinceLastOrder: 60, lastOrderAt: iso(lastOrder), offer: { kind: 'free-shipping-coupon', freeShipping: true, discountPercent: 15 } },
    });
    const [day61] = ofKind(lapsed(), at('2026-03-03T12:00'), 'winback');
    expect(day61?.details.daysSinceLastOrder).toBe(61);
    expect(day61?.occasionKey).toBe(day60?.occasionKey);
  });

  it('counts local calendar days, not 24-hour periods', () => {
    // Day 60 begins 59 days and 10 minutes after the order.
    expect(at('2026-03-02T00:00') - lastOrder).toBe(59 * DAY + 10 * MINUTE);
    // The same instant is still day 59 in New York.
    const inNewYork = lapsed({ timeZone: 'America/New_York' });
    expect(ofKind(inNewYork, at('2026-03-02T00:00'), 'winback')).toHaveLength(0);
  });

  it('stops after the window: day 89 due, day 90 not', () => {
    expect(ofKind(lapsed(), at('2026-03-31T23:59'), 'winback')).toHaveLength(1);
    expect(ofKind(lapsed(), at('2026-04-01T00:00'), 'winback')).toHaveLength(0);
    expect(ofKind(lapsed(), at('2026-09-01T12:00'), 'winback')).toHaveLength(0);
  });

  it('starts at local midnight on the day DST begins', () => {
    const client = lapsed({ timeZone: 'America/New_York', lastOrderAt: '2026-01-07T17:00:00.000Z' });
    const [occasion] = ofKind(client, Date.UTC(2026, 2, 8, 15), 'winback');
    expect(occasion?.dueAt).toBe(Date.UTC(2026, 2, 8, 5));
    expect(occasion?.expiresAt).toBe(Date.UTC(2026, 3, 7, 4));
    expect(ofKind(client, Date.UTC(2026, 2, 8, 4, 59), 'winback')).toHaveLength(0);
  });

  it('is once per lapse: a new order ends it, and a later lapse has its own key', () => {
    const reordered = lapsed({ lastOrderAt: iso(at('2026-02-20T10:00')) });
    expect(ofKind(reordered, at('2026-03-05T12:00'), 'winback')).toHaveLength(0);
    const [again] = ofKind(reordered, at('2026-04-21T12:00'), 'winback');
    expect(again?.occasionKey).toBe(`winback#${iso(at('2026-02-20T10:00'))}`);
  });

  it('needs an order', () => {
    expect(ofKind(clientProfile({ orderCount: 0, stage: 'prospect', tier: 'Prospect' }), at('2026-03-05T12:00'), 'winback')).toHaveLength(0);
  });

  it('offers VIC clients a personal note without discount, others free shipping and a coupon', () => {
    expect(ofKind(lapsed({ tier: 'VIC', advisorId: 'a7' }), at('2026-03-02T10:00'), 'winback')[0]?.details.offer).toEqual({ kind: 'personal-note' });
    for (const tier of ['Core', 'Potential', 'Entry'] as const) {
      expect(ofKind(lapsed({ tier }), at('2026-03-02T10:00'), 'winback')[0]?.details.offer).toEqual({
        kind: 'free-shipping-coupon',
        freeShipping: true,
        discountPercent: 15,
      });
    }
  });

  it("recommends the client's own top category and their products in it, most recent first", () => {
    const bought = (day: string, productName?: string): SkuPurchase => ({
      lastPurchasedAt: iso(at(`${day}T10:00`)),
      quantity: 1,
      purchases: 1,
      category: 'sun',
      ...(productName === undefined ? {} : { productName }),
    });
    const client = lapsed({
      topCategory: 'sun',
      skus: {
        SPF50: bought('2025-12-01', 'Sunscreen SPF 50'),
        HAT: bought('2025-12-20', 'Sun Hat'),
        OIL: bought('2025-11-01'),
        AFTER: bought('2025-10-01', 'After-sun'),
        CREAM: { ...bought('2026-01-01', 'Night Cream'), category: 'skin' },
      },
    });
    const [occasion] = ofKind(client, at('2026-03-02T10:00'), 'winback');
    expect(occasion?.details.recommendedCategory).toBe('sun');
    expect(occasion?.details.products).toEqual([
      { sku: 'HAT', productName: 'Sun Hat' },
      { sku: 'SPF50', productName: 'Sunscreen SPF 50' },
      { sku: 'OIL' },
    ]);
    const noCategory = ofKind(lapsed(), at('2026-03-02T10:00'), 'winback')[0]?.details;
    expect(noCategory && 'recommendedCategory' in noCategory).toBe(false);
    expect(noCategory && 'products' in noCategory).toBe(false);
  });
});

describe('dueOccasions', () => {
  const now = at('2026-03-26T12:00');
  const everything = clientProfile({
    timeZone: 'Asia/Shanghai',
    signedUpAt: iso(now - 2 * HOUR),
    firstOrderAt: iso(at('2026-01-10T10:00')),
    lastOrderAt: iso(at('2026-03-20T10:00')),
    skus: { CREAM: { lastPurchasedAt: iso(at('2026-01-10T10:00')), quantity: 1, purchases: 1 } },
  });

  it('lists every campaign due, by priority', () => {
    // Real clients are never due all three at once (a welcome is within 72 h of the first contact);
    // this made-up one is, to see the order.
    const fresh = { ...everything, firstOrderAt: iso(now - HOUR), signedUpAt: iso(now - 2 * HOUR) };
    const lapsedToo = { ...fresh, lastOrderAt: iso(at('2026-01-20T10:00')) };
    expect(due(lapsedToo, now).map((o) => o.kind)).toEqual(['welcome', 'replenishment', 'winback']);
    const ctx = context({ campaigns: [{ kind: 'winback', priority: 0 }, { kind: 'welcome' }, { kind: 'replenishment' }] });
    expect(due(lapsedToo, now, ctx).map((o) => o.kind)).toEqual(['winback', 'welcome', 'replenishment']);
  });

  it('produces nothing for a disabled campaign', () => {
    const ctx = context({ campaigns: [{ kind: 'welcome', enabled: false }, { kind: 'replenishment', enabled: false }, { kind: 'winback' }] });
    expect(due(everything, now, ctx)).toEqual([]);
    expect(due(everything, now)).toHaveLength(1);
  });

  it('puts custom campaign ids in the keys', () => {
    const ctx = context({ campaigns: [{ kind: 'replenishment', id: 'restock-spring', template: 'recall' }] });
    expect(due(everything, now, ctx)[0]).toMatchObject({
      campaignId: 'restock-spring',
      template: 'recall',
      occasionKey: `restock-spring#CREAM#${iso(at('2026-01-10T10:00'))}`,
    });
  });

  it('lists occasions whatever the audience, consent or suppression (decide filters them)', () => {
    const ctx = context({ campaigns: [{ kind: 'replenishment', audience: { tiers: ['VIC'] } }] });
    expect(due({ ...everything, acceptsMarketing: false }, now, ctx)).toHaveLength(1);
  });

  it('gives a copy of the offer, never the configuration object', () => {
    const ctx = context();
    const [occasion] = due(everything, now, ctx);
    if (occasion) occasion.details.offer.kind = 'none';
    expect(ctx.campaigns.campaigns[1]?.offers.default.kind).toBe('coupon');
  });

  it('falls back to the brand zone for a missing or unknown client zone', () => {
    expect(clientTimeZone({ timeZone: 'Europe/London' }, 'Asia/Shanghai')).toBe('Europe/London');
    expect(clientTimeZone({}, 'Asia/Shanghai')).toBe('Asia/Shanghai');
    expect(clientTimeZone({ timeZone: 'Mars/Olympus' }, 'Asia/Shanghai')).toBe('Asia/Shanghai');
    expect(due({ ...everything, timeZone: 'Mars/Olympus' }, now)).toEqual(due(everything, now));
  });
});
