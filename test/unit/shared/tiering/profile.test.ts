import { describe, expect, it } from 'vitest';
import type { Config } from '#shared/config.ts';
import type { ClientFacts, ClientProfile, CustomerRecord, OrderLine } from '#shared/model.ts';
import { addDays } from '#shared/time.ts';
import { ClientAggregator } from '#shared/tiering/aggregate.ts';
import { emailIdentity } from '#shared/tiering/identity.ts';
import { computeProfiles, MAX_SKUS_PER_PROFILE, runClock, streamProfiles } from '#shared/tiering/profile.ts';
import { at } from '#test/support/time.ts';
import { config, customer, line } from './fixtures.ts';

const RUN = '2025-06-15';
const SHANGHAI = config(); // Asia/Shanghai, USD
const NEW_YORK = config({ timeZone: 'America/New_York' });

function profiles(customers: CustomerRecord[], lines: OrderLine[], cfg: Config = SHANGHAI, runDate = RUN): ClientProfile[] {
  const aggregator = new ClientAggregator();
  for (const record of customers) aggregator.addCustomer(record);
  for (const orderLine of lines) aggregator.addOrderLine(orderLine);
  return computeProfiles(aggregator.clients(), { runDate, config: cfg });
}

function profileOf(lines: OrderLine[], cfg: Config = SHANGHAI, runDate = RUN): ClientProfile {
  const result = profiles([], lines, cfg, runDate);
  expect(result).toHaveLength(1);
  return result[0] as ClientProfile;
}

/** A paid line of client c1 at a local wall-clock time of the brand. */
function buy(local: string, fields: Partial<OrderLine> = {}, cfg: Config = SHANGHAI): OrderLine {
  return line({ orderId: `o-${local}`, customerId: 'c1', orderedAt: at(local, cfg.timeZone), ...fields });
}

/** Noon, brand time, `days` before RUN. */
function daysAgo(days: number, fields: Partial<OrderLine> = {}): OrderLine {
  return buy(`${addDays(RUN, -days)}T12:00`, fields);
}

describe('runClock', () => {
  it('runs up to the end of runDate, over the 12 local months ending with it', () => {
    expect(runClock('2025-06-15', 'Asia/Shanghai')).toEqual({
      now: Date.parse('2025-06-15T16:00:00Z'), // 2025-06-16 00:00 +08:00
      windowStart: Date.parse('2024-06-15T16:00:00Z'), // 2024-06-16 00:00 +08:00
    });
  });

  it('follows daylight saving time in the brand zone', () => {
    // DST starts in New York on 2025-03-09: midnight is still EST (-05:00) on both ends.
    expect(runClock('2025-03-08', 'America/New_York')).toEqual({
      now: Date.parse('2025-03-09T05:00:00Z'),
      windowStart: Date.parse('2024-03-09T05:00:00Z'),
    });
    expect(runClock('2025-07-01', 'America/New_York').now).toBe(Date.parse('2025-07-02T04:00:00Z'));
  });

  it('starts the window of a leap-day run on March 1', () => {
    expect(runClock('2024-02-29', 'UTC').windowStart).toBe(Date.parse('2023-03-01T00:00:00Z'));
    expect(runClock('2025-02-28', 'UTC').windowStart).toBe(Date.parse('2024-02-29T00:00:00Z'));
  });

  it('refuses a run date that is not YYYY-MM-DD', () => {
    expect(() => runClock('2025-02-30', 'UTC')).toThrow(RangeError);
    expect(() => runClock('15/06/2025', 'UTC')).toThrow(RangeError);
  });
});

describe('computeProfiles: money and window', () => {
  const { now, windowStart } = runClock(RUN, 'Asia/Shanghai');

  it('counts an order exactly at windowStart in the 12 months, one just before only in lifetime', () => {
    const p = profileOf([
      line({ orderId: 'in', customerId: 'c1', orderedAt: windowStart, lineTotalMinor: 300 }),
      line({ orderId: 'out', customerId: 'c1', orderedAt: windowStart - 1, lineTotalMinor: 20 }),
    ]);
    expect(p.spend12mMinor).toBe(300);
    expect(p.lifetimeSpendMinor).toBe(320);
    expect(p.orderCount).toBe(2);
  });

  it('ignores orders at or after now, counts one just before', () => {
    const p = profileOf([
      line({ orderId: 'last', customerId: 'c1', orderedAt: now - 1, lineTotalMinor: 100, sku: 'A' }),
      line({ orderId: 'future', customerId: 'c1', orderedAt: now, lineTotalMinor: 5_000, sku: 'B' }),
    ]);
    expect(p).toMatchObject({ spend12mMinor: 100, lifetimeSpendMinor: 100, orderCount: 1, lastOrderAt: new Date(now - 1).toISOString() });
    expect(Object.keys(p.skus)).toEqual(['A']);
  });

  it('makes a known customer whose only order is at now a Prospect', () => {
    const result = profiles([customer('c1')], [line({ orderId: 'f', customerId: 'c1', orderedAt: now })]);
    expect(result).toHaveLength(1);
    expect(result[0]).toMatchObject({ tier: 'Prospect', stage: 'prospect', orderCount: 0 });
  });

  it('leaves out clients the run cannot know yet: signed up, or first seen, at or after now', () => {
    const result = profiles(
      [
        customer('later', { signedUpAt: now }),
        customer('before', { signedUpAt: now - 1 }),
        customer('undated'),
        customer('later-but-bought', { signedUpAt: now + 5 }),
      ],
      [
        line({ orderId: 'x', customerId: 'only-future-orders', orderedAt: now + 1 }),
        line({ orderId: 'y', customerId: 'later-but-bought', orderedAt: now - 10 }),
      ],
    );
    expect(result.map((p) => p.customerId)).toEqual(['before', 'later-but-bought', 'undated']);
  });

  it('uses the earliest line of an order as its time, for the window too', () => {
    const p = profileOf([
      line({ orderId: 'o1', customerId: 'c1', orderedAt: windowStart + 1_000, lineTotalMinor: 100 }),
      line({ orderId: 'o1', customerId: 'c1', orderedAt: windowStart - 1_000, lineTotalMinor: 200 }),
    ]);
    expect(p).toMatchObject({ spend12mMinor: 0, lifetimeSpendMinor: 300, orderCount: 1, firstOrderAt: new Date(windowStart - 1_000).toISOString() });
  });

  it('tiers exactly 50,000.00 as VIC and 49,999.99 as Core', () => {
    expect(profileOf([daysAgo(3, { lineTotalMinor: 5_000_000 })]).tier).toBe('VIC');
    expect(profileOf([daysAgo(3, { lineTotalMinor: 4_000_000 }), daysAgo(100, { lineTotalMinor: 999_999 })]).tier).toBe('Core');
  });

  it('tiers on net spend: refunds bring a VIC purchase down', () => {
    const p = profileOf([daysAgo(3, { lineTotalMinor: 5_000_000, refundedMinor: 1, status: 'refunded' })]);
    expect(p).toMatchObject({ tier: 'Core', spend12mMinor: 4_999_999 });
  });

  it('tiers against thresholds in the brand currency (CNY)', () => {
    const cny = config({ currency: 'CNY', tiers: { vic: '350000', core: '35000', potential: '7000' } });
    const line35k = buy('2025-06-01T10:00', { lineTotalMinor: 3_500_000 }, cny);
    expect(profileOf([line35k], cny)).toMatchObject({ tier: 'Core', currency: 'CNY' });
    expect(profileOf([{ ...line35k, lineTotalMinor: 3_499_999 }], cny).tier).toBe('Potential');
    expect(profileOf([{ ...line35k, lineTotalMinor: 35_000_000 }], cny).tier).toBe('VIC');
  });

  it('counts partial refunds and drops full refunds and cancellations', () => {
    const p = profileOf([
      daysAgo(5, { orderId: 'partial', lineTotalMinor: 10_000, refundedMinor: 2_500, status: 'refunded' }),
      daysAgo(6, { orderId: 'full', lineTotalMinor: 10_000, status: 'refunded' }),
      daysAgo(7, { orderId: 'cancelled', lineTotalMinor: 10_000, status: 'cancelled' }),
    ]);
    expect(p).toMatchObject({ spend12mMinor: 7_500, lifetimeSpendMinor: 7_500, orderCount: 1, tier: 'Entry' });
  });

  it('makes a client with only cancelled or fully refunded orders a Prospect without RFM', () => {
    const [p] = profiles(
      [customer('c1')],
      [daysAgo(5, { orderId: 'a', status: 'cancelled' }), daysAgo(6, { orderId: 'b', status: 'refunded' }), daysAgo(7, { orderId: 'c', refundedMinor: 10_000 })],
    );
    expect(p).toMatchObject({ tier: 'Prospect', stage: 'prospect', orderCount: 0, spend12mMinor: 0, lifetimeSpendMinor: 0 });
    expect(p?.rfm).toBeUndefined();
    expect(p?.firstOrderAt).toBeUndefined();
    expect(p?.lastOrderAt).toBeUndefined();
  });

  it('keeps a lapsed buyer in Entry, churned', () => {
    expect(profileOf([daysAgo(400, { lineTotalMinor: 9_000_000 })])).toMatchObject({ tier: 'Entry', stage: 'churned', spend12mMinor: 0, lifetimeSpendMinor: 9_000_000 });
  });
});

describe('computeProfiles: brand time zone around midnight', () => {
  for (const cfg of [SHANGHAI, NEW_YORK]) {
    const zone = cfg.timeZone;
    it(`${zone}: 23:30 local on the run date counts, 00:30 the next day does not`, () => {
      expect(profileOf([buy(`${RUN}T23:30`, {}, cfg)], cfg)).toMatchObject({ orderCount: 1, stage: 'new' });
      expect(profiles([customer('c1')], [buy(`${addDays(RUN, 1)}T00:30`, {}, cfg)], cfg)[0]).toMatchObject({ orderCount: 0, stage: 'prospect' });
    });

    it(`${zone}: days are counted between local dates (23:30 is a day earlier than 00:30)`, () => {
      // One hour apart, but 60 and 59 days ago in the brand's calendar.
      const evening = buy(`${addDays(RUN, -60)}T23:30`, {}, cfg);
      const morning = buy(`${addDays(RUN, -59)}T00:30`, {}, cfg);
      expect(morning.orderedAt - evening.orderedAt).toBe(3_600_000);
      expect(profileOf([evening], cfg).stage).toBe('sleeping');
      expect(profileOf([morning], cfg).stage).toBe('at-risk');
      const r = profiles([], [{ ...evening, customerId: 'a' }, { ...morning, customerId: 'b' }], cfg);
      expect(r.map((p) => p.rfm?.r)).toEqual([1, 3]); // the 59-day client is more recent
    });

    it(`${zone}: two orders either side of local midnight are two order days`, () => {
      const p = profileOf([buy(`2025-05-01T23:30`, { orderId: 'x' }, cfg), buy(`2025-05-02T00:30`, { orderId: 'y' }, cfg)], cfg);
      expect(p.usualReorderGapDays).toBe(1);
    });
  }

  it('the same instant falls on different days for different brand zones', () => {
    const instant = Date.parse('2025-06-15T15:30:00Z'); // 23:30 in Shanghai, 11:30 in New York
    const order = line({ orderId: 'o', customerId: 'c1', orderedAt: instant });
    expect(profileOf([order], SHANGHAI, '2025-06-15').orderCount).toBe(1);
    expect(profiles([customer('c1')], [order], NEW_YORK, '2025-06-14')[0]?.orderCount).toBe(0); // not yet in New York on the 14th
    expect(profileOf([order], NEW_YORK, '2025-06-15').orderCount).toBe(1);
  });
});

describe('computeProfiles: lifecycle stages from dates', () => {
  it('is sleeping from day 60 and churned from day 180 since the last order', () => {
    expect(profileOf([daysAgo(59)]).stage).toBe('at-risk');
    expect(profileOf([daysAgo(60)]).stage).toBe('sleeping');
    expect(profileOf([daysAgo(179)]).stage).toBe('sleeping');
    expect(profileOf([daysAgo(180)]).stage).toBe('churned');
  });

  it('is new until day 29 after the first order, not on day 30', () => {
    expect(profileOf([daysAgo(29, { orderId: 'a' }), daysAgo(2, { orderId: 'b' })]).stage).toBe('new');
    expect(profileOf([daysAgo(30, { orderId: 'a' }), daysAgo(2, { orderId: 'b' })]).stage).toBe('active');
    expect(profileOf([daysAgo(0)]).stage).toBe('new');
  });

  it('is at-risk past the default gap (45) for a single order day', () => {
    expect(profileOf([daysAgo(45, { orderId: 'a' }), daysAgo(45, { orderId: 'b', lineTotalMinor: 1 })]).stage).toBe('active');
    expect(profileOf([daysAgo(46)]).stage).toBe('at-risk');
  });

  it('is at-risk past the personal gap (median of the order-day gaps)', () => {
    // Order days 100, 80, 60, 40 days ago (gap 20), plus one 39 days ago (gap 1): gaps 20, 20, 20, 1 → 20.
    const orders = [100, 80, 60, 40, 39].map((d) => daysAgo(d, { orderId: `o${d}` }));
    expect(profileOf(orders).usualReorderGapDays).toBe(20);
    expect(profileOf(orders).stage).toBe('at-risk'); // 39 > 20, though under the default 45
    const regular = [60, 40, 20].map((d) => daysAgo(d, { orderId: `o${d}` }));
    expect(profileOf(regular).stage).toBe('active'); // day 20 of a 20-day gap is on time
    expect(profileOf([...regular.slice(0, 2), daysAgo(21, { orderId: 'late' })]).stage).toBe('at-risk'); // gaps 20, 19 → 20 (19.5)
  });

  it('gives no usual gap for several orders on one day', () => {
    const p = profileOf([daysAgo(10, { orderId: 'a' }), daysAgo(10, { orderId: 'b' })]);
    expect(p.orderCount).toBe(2);
    expect(p.usualReorderGapDays).toBeUndefined();
  });
});

describe('computeProfiles: profile fields', () => {
  it('copies the customer record, dates as ISO instants', () => {
    const signedUpAt = Date.parse('2024-01-02T03:04:05.678Z');
    const record = customer('c1', {
      email: 'ann@x.com',
      firstName: 'Ann',
      lastName: 'Lee',
      phone: '+1 555 0100',
      locale: 'en-US',
      timeZone: 'America/New_York',
      signedUpAt,
      acceptsMarketing: true,
      birthday: '05-17',
      advisorId: 'adv-7',
    });
    const [p] = profiles([record], []);
    expect(p).toEqual({
      customerId: 'c1',
      email: 'ann@x.com',
      firstName: 'Ann',
      lastName: 'Lee',
      locale: 'en-US',
      timeZone: 'America/New_York',
      acceptsMarketing: true,
      birthday: '05-17',
      advisorId: 'adv-7',
      signedUpAt: '2024-01-02T03:04:05.678Z',
      tier: 'Prospect',
      stage: 'prospect',
      spend12mMinor: 0,
      lifetimeSpendMinor: 0,
      currency: 'USD',
      orderCount: 0,
      skus: {},
    });
    expect(Object.values(p as object)).not.toContain(undefined);
  });

  it('gives an email-only buyer their email identity and email, and no consent (never asked)', () => {
    const p = profileOf([line({ orderId: '#1', email: 'Bob@X.com', orderedAt: at('2025-06-01T10:00') })]);
    expect(p).toMatchObject({ customerId: emailIdentity('bob@x.com'), email: 'bob@x.com', tier: 'Entry' });
    expect(p?.acceptsMarketing).toBeUndefined();
  });

  it('attaches Shopify-style email-only orders to the customer with that email', () => {
    const [p] = profiles([customer('c9', { email: 'ann@x.com', acceptsMarketing: true })], [line({ orderId: '#1', email: 'ANN@x.com', orderedAt: at('2025-06-01T10:00') })]);
    expect(p).toMatchObject({ customerId: 'c9', orderCount: 1, acceptsMarketing: true });
  });

  it('reports first and last counted orders', () => {
    const p = profileOf([daysAgo(3, { orderId: 'a' }), daysAgo(90, { orderId: 'b' }), daysAgo(1, { orderId: 'c', status: 'cancelled' })]);
    expect(p.firstOrderAt).toBe(new Date(at(`${addDays(RUN, -90)}T12:00`)).toISOString());
    expect(p.lastOrderAt).toBe(new Date(at(`${addDays(RUN, -3)}T12:00`)).toISOString());
  });

  it('picks the top category by lifetime net spend, ties alphabetically', () => {
    expect(profileOf([daysAgo(3, { orderId: 'a', category: 'skin', lineTotalMinor: 500 }), daysAgo(3, { orderId: 'b', category: 'bags', lineTotalMinor: 400 })]).topCategory).toBe('skin');
    expect(profileOf([daysAgo(3, { orderId: 'a', category: 'skin', lineTotalMinor: 500 }), daysAgo(3, { orderId: 'b', category: 'bags', lineTotalMinor: 500 })]).topCategory).toBe('bags');
    expect(profileOf([daysAgo(3)]).topCategory).toBeUndefined();
  });

  it('scores RFM over buyers only', () => {
    const result = profiles([customer('p1')], [daysAgo(3, { customerId: 'a', lineTotalMinor: 100 }), daysAgo(200, { customerId: 'b', lineTotalMinor: 50 })]);
    expect(result.map((p) => [p.customerId, p.rfm])).toEqual([
      ['a', { r: 3, f: 1, m: 3, segment: 'about-to-sleep' }],
      ['b', { r: 1, f: 1, m: 1, segment: 'lost' }],
      ['p1', undefined],
    ]);
  });

  it('returns profiles sorted by customerId whatever the input order', () => {
    const facts = (customerId: string): ClientFacts => ({ customerId, customer: customer(customerId), orders: [], categorySpendMinor: {}, skus: [] });
    const result = computeProfiles([facts('c3'), facts('c1'), facts('c2')], { runDate: RUN, config: SHANGHAI });
    expect(result.map((p) => p.customerId)).toEqual(['c1', 'c2', 'c3']);
  });
});

describe('computeProfiles: SKU purchases', () => {
  it('reports the last purchase day, its quantity, distinct days and the personal cycle', () => {
    const p = profileOf([
      daysAgo(95, { orderId: 'a', sku: 'CREAM', productName: 'Cream', category: 'skin', quantity: 1 }),
      daysAgo(65, { orderId: 'b', sku: 'CREAM', quantity: 1 }),
      daysAgo(35, { orderId: 'c', sku: 'CREAM', quantity: 2 }),
      buy(`${addDays(RUN, -35)}T20:00`, { orderId: 'd', sku: 'CREAM', quantity: 1 }), // same day, later
      daysAgo(10, { orderId: 'e', sku: 'CREAM', quantity: 5, status: 'refunded' }), // refunded: not a purchase
      daysAgo(20, { orderId: 'f', sku: 'MASK', quantity: 3 }),
    ]);
    expect(p.skus).toEqual({
      MASK: { lastPurchasedAt: new Date(at(`${addDays(RUN, -20)}T12:00`)).toISOString(), quantity: 3, purchases: 1 },
      CREAM: {
        productName: 'Cream',
        category: 'skin',
        lastPurchasedAt: new Date(at(`${addDays(RUN, -35)}T20:00`)).toISOString(),
        quantity: 3,
        purchases: 3,
        personalCycleDays: 30,
        // Three stock-ups: the first one's purchase, what the first order bought.
        firstPurchasedAt: new Date(at(`${addDays(RUN, -95)}T12:00`)).toISOString(),
      },
    });
    expect(Object.keys(p.skus)).toEqual(['MASK', 'CREAM']); // most recent first
  });

  it('keeps the 50 most recently bought SKUs', () => {
    const lines = Array.from({ length: MAX_SKUS_PER_PROFILE + 5 }, (_, i) => daysAgo(i, { orderId: `o${i}`, sku: `S${String(i).padStart(2, '0')}` }));
    const p = profileOf(lines);
    expect(Object.keys(p.skus)).toHaveLength(MAX_SKUS_PER_PROFILE);
    expect(p.skus.S00).toBeDefined();
    expect(p.skus.S49).toBeDefined();
    expect(p.skus.S50).toBeUndefined();
  });

  it('keeps SKUs named like the members of every object as purchases, and reads none where none was bought', () => {
    const p = profileOf([daysAgo(3, { orderId: 'o1', sku: '__proto__' }), daysAgo(2, { orderId: 'o2', sku: 'constructor' })]);
    // As the nightly run computes it, a profile's SKUs are a dictionary: one never bought is absent, whatever its name.
    const bought = (sku: string) => p.skus[sku];
    expect(Object.keys(p.skus)).toEqual(['constructor', '__proto__']);
    expect(bought('__proto__')?.purchases).toBe(1);
    expect(bought('constructor')?.purchases).toBe(1);
    expect(bought('toString')).toBeUndefined();
    expect(bought('hasOwnProperty')).toBeUndefined();
    expect(Object.keys(JSON.parse(JSON.stringify(p.skus)) as object)).toEqual(['constructor', '__proto__']);
  });
});

describe('computeProfiles: a SKU\'s first purchase (firstPurchasedAt, what the first order bought)', () => {
  const instant = (local: string) => new Date(at(local)).toISOString();
  const cream = (local: string, orderId: string, quantity = 1) => buy(local, { orderId, sku: 'CREAM', quantity });
  // The replenishment's lead is 15 days (the default): purchase days closer together are one stock-up.

  it('is left out where the stock-up says it: bought once, or in one stock-up over several days', () => {
    expect(profileOf([cream('2025-06-01T10:00', 'a')]).skus.CREAM).toEqual({ lastPurchasedAt: instant('2025-06-01T10:00'), quantity: 1, purchases: 1 });
    expect(profileOf([cream('2025-06-01T10:00', 'a'), cream('2025-06-02T09:00', 'b')]).skus.CREAM).toEqual({
      lastPurchasedAt: instant('2025-06-02T09:00'),
      stockUpFrom: instant('2025-06-01T10:00'),
      quantity: 2,
      purchases: 2,
    });
  });

  it('is the first purchase of the day when the SKU was bought again the same day (the profile keeps the last)', () => {
    expect(profileOf([cream('2025-06-01T10:00', 'a'), cream('2025-06-01T16:00', 'b')]).skus.CREAM).toEqual({
      lastPurchasedAt: instant('2025-06-01T16:00'),
      firstPurchasedAt: instant('2025-06-01T10:00'),
      quantity: 2,
      purchases: 1,
    });
  });

  it('is the first stock-up\'s first purchase when the SKU was bought again past the lead, whatever the last stock-up looks like', () => {
    expect(profileOf([cream('2025-05-01T10:00', 'a'), cream('2025-05-01T18:00', 'b'), cream('2025-06-01T10:00', 'c')]).skus.CREAM).toEqual({
      lastPurchasedAt: instant('2025-06-01T10:00'),
      firstPurchasedAt: instant('2025-05-01T10:00'),
      quantity: 1,
      purchases: 2,
      personalCycleDays: 15.5, // 31 days over the first stock-up's 2 units
    });
    expect(profileOf([cream('2025-05-01T10:00', 'a'), cream('2025-06-01T10:00', 'b'), cream('2025-06-03T10:00', 'c')]).skus.CREAM).toMatchObject({
      stockUpFrom: instant('2025-06-01T10:00'),
      firstPurchasedAt: instant('2025-05-01T10:00'),
    });
    // A brand's short lead (3 days): two days apart is one stock-up, four days two.
    const shortLead = config({ campaigns: { campaigns: [{ kind: 'replenishment', timing: { daysBeforeRunOut: 3 } }] } });
    expect(profileOf([cream('2025-06-01T10:00', 'a'), cream('2025-06-03T10:00', 'b')], shortLead).skus.CREAM?.firstPurchasedAt).toBeUndefined();
    expect(profileOf([cream('2025-06-01T10:00', 'a'), cream('2025-06-05T10:00', 'b')], shortLead).skus.CREAM).toMatchObject({
      lastPurchasedAt: instant('2025-06-05T10:00'),
      firstPurchasedAt: instant('2025-06-01T10:00'),
    });
  });

  it('is the same when the purchases come out of time order (the general way, by day)', () => {
    const DAY_ORDER = [
      { orderedAt: at('2025-06-01T10:00'), quantity: 1 },
      { orderedAt: at('2025-06-01T16:00'), quantity: 1 },
      { orderedAt: at('2025-05-01T18:00'), quantity: 1 },
      { orderedAt: at('2025-05-01T09:00'), quantity: 1 },
    ];
    const facts = (purchases: typeof DAY_ORDER): ClientFacts => ({
      customerId: 'c1',
      orders: [{ orderId: 'o1', orderedAt: at('2025-05-01T09:00'), netMinor: 100 }],
      categorySpendMinor: {},
      skus: [{ sku: 'CREAM', purchases }],
    });
    const [shuffled] = computeProfiles([facts(DAY_ORDER)], { runDate: RUN, config: SHANGHAI });
    const [sorted] = computeProfiles([facts([...DAY_ORDER].sort((a, b) => a.orderedAt - b.orderedAt))], { runDate: RUN, config: SHANGHAI });
    expect(shuffled?.skus.CREAM).toMatchObject({ lastPurchasedAt: instant('2025-06-01T16:00'), firstPurchasedAt: instant('2025-05-01T09:00'), purchases: 2 });
    expect(shuffled?.skus.CREAM?.stockUpFrom).toBeUndefined();
    expect(shuffled).toEqual(sorted);
  });
});

describe('streamProfiles', () => {
  it('yields the same profiles as computeProfiles, reading the source twice', () => {
    const aggregator = new ClientAggregator();
    aggregator.addCustomer(customer('c0'));
    [3, 30, 90, 200].forEach((d, i) => aggregator.addOrderLine(daysAgo(d, { customerId: `c${i}`, lineTotalMinor: 1000 * (i + 1), sku: 'S' })));
    const context = { runDate: RUN, config: SHANGHAI };
    let reads = 0;
    const streamed = [
      ...streamProfiles(() => {
        reads += 1;
        return aggregator.clients();
      }, context),
    ];
    expect(reads).toBe(2);
    expect(streamed).toEqual(computeProfiles(aggregator.clients(), context));
  });

  it('refuses a source that changes between passes', () => {
    let call = 0;
    const facts = (customerId: string): ClientFacts => ({ customerId, orders: [{ orderId: 'o', orderedAt: at('2025-06-01T10:00'), netMinor: 1 }], categorySpendMinor: {}, skus: [] });
    const source = (): ClientFacts[] => (call++ === 0 ? [facts('a')] : [facts('b')]);
    expect(() => [...streamProfiles(source, { runDate: RUN, config: SHANGHAI })]).toThrow(/second pass/);
  });
});
