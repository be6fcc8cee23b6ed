import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dueDaysBetween, dueIndexQueryFrom, longestWindowMs, nextDueAt } from '#shared/campaigns/due-index.ts';
import { dueOccasions, endedOccasions, tierHeldAt, type CampaignContext, type DueOccasion } from '#shared/campaigns/due.ts';
import { inAudience, occasionInAudience } from '#shared/campaigns/policy.ts';
import { expiryReason } from '#shared/sender/expiry.ts';
import { campaignsConfigSchema, campaignWaitsFor, type CampaignsConfigInput } from '#shared/campaigns/schema.ts';
import type { CategoryAffinity } from '#shared/segments/category-affinity.ts';
import { TIERS, type ClientProfile, type SkuPurchase } from '#shared/model.ts';
import { clientProfile } from '#test/support/profiles.ts';
import { at, DAY, HOUR, iso } from '#test/support/time.ts';
import { CATALOG, context } from './fixtures.ts';
import { fullClientArb, ZONES } from './vocabulary-arbitraries.ts';

/**
 * The built-in plays seasonal, recall and cross-category (shared/campaigns/plays.ts) in the
 * default configuration: their windows, keys and offers, what they never do (twice for one key,
 * outside their window, without something to show), the win-back's lapse next to the recall's,
 * and what they cost the due index.
 */

const SH = 'Asia/Shanghai';
const SEASONS = [
  { name: 'spring-summer', starts: '03-01' },
  { name: 'autumn-winter', starts: '09-01' },
];
const PLAYS = ['seasonal', 'recall', 'cross-category'];
/** Clients with leather goods as their top category mostly also buy fragrance. */
const AFFINITY: CategoryAffinity = { buyers: { 'leather-goods': 40, skin: 30 }, alsoBought: { 'leather-goods': { skin: 25, bags: 5 }, skin: { bags: 12 } } };
const withAffinity = (ctx: CampaignContext, affinity: CategoryAffinity = AFFINITY): CampaignContext => ({ ...ctx, categoryAffinity: affinity });
const defaults = (extra: Partial<CampaignsConfigInput> = {}) => withAffinity(context({ seasons: SEASONS, policy: { controlShare: 0 }, ...extra }));
const of = (occasions: DueOccasion[], campaignId: string) => occasions.filter((o) => o.campaignId === campaignId);
const bought = (when: number, fields: Partial<SkuPurchase> = {}): SkuPurchase => ({ lastPurchasedAt: iso(when), quantity: 1, purchases: 1, ...fields });

describe('the plays in the default configuration', () => {
  it('are on beside the others; the seasonal one waits for seasons without failing the configuration', () => {
    const config = campaignsConfigSchema.parse({});
    for (const id of PLAYS) expect(config.campaigns.find((c) => c.id === id)).toMatchObject({ kind: 'custom', play: id, enabled: true });
    const waiting = config.campaigns.flatMap((c) => (campaignWaitsFor(c, config) === undefined ? [] : [c.id]));
    expect(waiting).toEqual(['seasonal']);
    expect(campaignsConfigSchema.parse({ seasons: SEASONS }).campaigns.filter((c) => campaignWaitsFor(c, { seasons: SEASONS }) !== undefined)).toEqual([]);
    // A campaign of the brand's own on the seasons is still an error without them.
    const custom = campaignsConfigSchema.safeParse({ campaigns: [{ id: 'sale', trigger: { on: 'season-starts' }, template: 'seasonal' }] });
    expect(custom.error?.issues[0]?.message).toBe('campaign "sale": campaigns.seasons defines no season');
    // So is the play naming a season the calendar lacks.
    const named = campaignsConfigSchema.safeParse({ campaigns: [{ kind: 'seasonal', trigger: { on: 'season-starts', seasons: ['winter'] } }] });
    expect(named.success).toBe(false);
    // Turned off, it does not wait: it is off.
    const off = campaignsConfigSchema.parse({ turnedOff: ['seasonal'] });
    expect(off.campaigns.filter((c) => campaignWaitsFor(c, off) !== undefined)).toEqual([]);
  });

  it("add nothing to the due index's query range: no window longer than the win-back's 30-day lapse (35 daily queries)", () => {
    const timed = [{ kind: 'welcome' }, { kind: 'replenishment' }, { kind: 'winback' }];
    const campaigns = context({ seasons: SEASONS, campaigns: [...timed, ...PLAYS.map((kind) => ({ kind }))] as never }).campaigns;
    expect(longestWindowMs(campaigns)).toBe(longestWindowMs(context({ campaigns: timed as never }).campaigns));
    expect(longestWindowMs(campaigns)).toBe(31 * DAY);
    const last = Date.UTC(2026, 5, 1, 10);
    const lookback = 72 * HOUR;
    expect(dueDaysBetween(dueIndexQueryFrom(last, campaigns, lookback), last + HOUR)).toHaveLength(35);
  });
});

describe('seasonal', () => {
  const client = clientProfile({ timeZone: SH, tier: 'Core', skus: { COAT: bought(at('2025-10-12 15:00', SH), { productName: 'Wool Coat', category: 'coats' }) } });

  it("is due 7 local days before the season through its first day, once per season and year, with last season's picks", () => {
    const ctx = defaults();
    expect(of(dueOccasions(client, CATALOG, at('2026-08-24 23:00', SH), ctx), 'seasonal')).toEqual([]);
    const [occasion] = of(dueOccasions(client, CATALOG, at('2026-08-25 10:00', SH), ctx), 'seasonal');
    expect(occasion).toMatchObject({ occasionKey: 'seasonal#autumn-winter#2026', priority: 4, template: 'seasonal', details: { seasonStartDate: '2026-09-01', products: [{ sku: 'COAT', productName: 'Wool Coat' }], offer: { kind: 'none' } } });
    expect(of(dueOccasions(client, CATALOG, at('2026-09-01 23:59', SH), ctx), 'seasonal')).toHaveLength(1);
    expect(of(dueOccasions(client, CATALOG, at('2026-09-02 00:00', SH), ctx), 'seasonal')).toEqual([]);
    // Bought nothing in spring-summer 2025: no spring-summer reminder in 2026.
    expect(of(dueOccasions(client, CATALOG, at('2026-02-25 10:00', SH), ctx), 'seasonal')).toEqual([]);
    // A VIC gets the note, not a promotion.
    expect(of(dueOccasions({ ...client, tier: 'VIC' }, CATALOG, at('2026-08-25 10:00', SH), ctx), 'seasonal')[0]?.details.offer).toEqual({ kind: 'personal-note' });
  });

  it('without seasons, sends nothing (and fails nothing)', () => {
    expect(of(dueOccasions(client, CATALOG, at('2026-08-25 10:00', SH), defaults({ seasons: [] })), 'seasonal')).toEqual([]);
  });
});

describe('recall', () => {
  const lastOrder = at('2026-01-10 15:00', SH);
  const lapsed = (fields: Partial<ClientProfile> = {}) =>
    clientProfile({ timeZone: SH, tier: 'Core', firstOrderAt: iso(lastOrder), lastOrderAt: iso(lastOrder), topCategory: 'skin', skus: { CREAM: bought(lastOrder, { category: 'skin', productName: 'Night Cream' }) }, ...fields });
  const dayAfter = (days: number, time = '10:00') => at(`${new Date(Date.UTC(2026, 0, 10) + days * DAY).toISOString().slice(0, 10)} ${time}`, SH);

  it('is due at 120, 180 and 365 local days, each step its own occasion of the lapse, open 30 days or until the next step', () => {
    const ctx = defaults();
    const keys = (day: number) => of(dueOccasions(lapsed(), CATALOG, dayAfter(day), ctx), 'recall').map((o) => o.occasionKey);
    expect(keys(119)).toEqual([]);
    expect(keys(120)).toEqual([`recall#${iso(lastOrder)}#120d`]);
    expect(keys(149)).toEqual([`recall#${iso(lastOrder)}#120d`]);
    expect(keys(150)).toEqual([]);
    expect(keys(180)).toEqual([`recall#${iso(lastOrder)}#180d`]);
    expect(keys(365)).toEqual([`recall#${iso(lastOrder)}#365d`]);
    expect(keys(394)).toEqual([`recall#${iso(lastOrder)}#365d`]);
    expect(keys(395)).toEqual([]);
    const [occasion] = of(dueOccasions(lapsed(), CATALOG, dayAfter(365), ctx), 'recall');
    expect(occasion?.details).toMatchObject({ lapseStepDays: 365, daysSinceLastOrder: 365, recommendedCategory: 'skin', products: [{ sku: 'CREAM', productName: 'Night Cream' }] });
  });

  it('grades the offer by how often the client used to buy; a VIC gets a note, no discount', () => {
    const ctx = defaults();
    const offer = (fields: Partial<ClientProfile>) => of(dueOccasions(lapsed(fields), CATALOG, dayAfter(120), ctx), 'recall')[0]?.details.offer;
    expect(offer({ orderCount: 1 })).toEqual({ kind: 'free-shipping-coupon', freeShipping: true, discountPercent: 15 });
    expect(offer({ orderCount: 3, firstOrderAt: iso(lastOrder - 700 * DAY) })).toMatchObject({ discountPercent: 20 });
    expect(offer({ orderCount: 8, firstOrderAt: iso(lastOrder - 700 * DAY) })).toMatchObject({ discountPercent: 25, freeShipping: true });
    // Eight orders over eight years is not a frequent buyer.
    expect(offer({ orderCount: 8, firstOrderAt: iso(lastOrder - 8 * 365 * DAY) })).toMatchObject({ discountPercent: 20 });
    expect(offer({ orderCount: 8, tier: 'VIC' })).toEqual({ kind: 'personal-note' });
    const winback = of(dueOccasions(lapsed(), CATALOG, dayAfter(60), ctx), 'winback')[0]?.details.offer;
    // Never less than the win-back offered the same client a month or two before.
    expect(offer({ orderCount: 1 })?.discountPercent).toBeGreaterThanOrEqual(winback?.discountPercent ?? 0);
  });

  describe('a step is judged by the higher of the tier the client held when it came due and the tier of the hour', () => {
    const NY = 'America/New_York';
    const AKL = 'Pacific/Auckland';
    const KEY_365 = `recall#${iso(lastOrder)}#365d`;
    /** The night of day 365 (run date 2027-01-10) took the only order out of the 12 months. */
    const dropped = { tier: 'Entry', previousTier: 'VIC', tierChangedOn: '2027-01-10' } as const;
    const step = (fields: Partial<ClientProfile>, now: number, campaignId = 'recall') => of(dueOccasions(lapsed({ orderCount: 1, ...fields }), CATALOG, now, defaults()), campaignId)[0];

    it('the 365-day step of a VIC whose last order leaves the 12 months that night stays a note, through its window; a move seen before it came due counts', () => {
      // Day 365, before its night: the hour that gave the advisor the task saw a VIC.
      expect(step({ tier: 'VIC' }, dayAfter(365))).toMatchObject({ occasionKey: KEY_365, details: { offer: { kind: 'personal-note' } } });
      expect(step({ tier: 'VIC' }, dayAfter(365))?.tier).toBeUndefined();
      // Entry since that night: the same step, the same key, still a VIC's note.
      for (const now of [dayAfter(366), dayAfter(394, '23:59')]) {
        expect(step(dropped, now)).toMatchObject({ occasionKey: KEY_365, tier: 'VIC', details: { offer: { kind: 'personal-note' } } });
      }
      // Refunded below VIC, seen by the night before the step (its clock is the step's first instant): the lower tier's offer.
      const refunded = step({ tier: 'Core', previousTier: 'VIC', tierChangedOn: '2027-01-09' }, dayAfter(366));
      expect(refunded?.tier).toBeUndefined();
      expect(refunded?.details.offer).toEqual({ kind: 'free-shipping-coupon', freeShipping: true, discountPercent: 15 });
    });

    it('the 120- and 180-day steps and the win-back: as before without a move since they came due; a move down during a window leaves that step to the tier it opened with', () => {
      const ctx = defaults();
      // Moved down before the lapse's first occasion: every occasion is what it was, no tier of its own.
      const movedEarly = lapsed({ previousTier: 'VIC', tierChangedOn: '2026-02-20' });
      for (const day of [60, 75, 89, 120, 149, 180, 209, 365, 394]) {
        expect(dueOccasions(movedEarly, CATALOG, dayAfter(day), ctx)).toEqual(dueOccasions(lapsed(), CATALOG, dayAfter(day), ctx));
      }
      // An older order leaves the 12 months on day 135, inside the 120-day step's window: that step stays a VIC's, the 180-day one is Core's.
      const midStep = { tier: 'Core', previousTier: 'VIC', tierChangedOn: '2026-05-25' } as const;
      expect(step(midStep, dayAfter(140))).toMatchObject({ occasionKey: `recall#${iso(lastOrder)}#120d`, tier: 'VIC', details: { offer: { kind: 'personal-note' } } });
      expect(step(midStep, dayAfter(180))).toMatchObject({ occasionKey: `recall#${iso(lastOrder)}#180d`, details: { offer: { discountPercent: 15 } } });
      expect(step(midStep, dayAfter(180))?.tier).toBeUndefined();
      // The win-back likewise (day 70, inside its 60-89 window).
      expect(step({ tier: 'Core', previousTier: 'VIC', tierChangedOn: '2026-03-21' }, dayAfter(75), 'winback')).toMatchObject({ tier: 'VIC', details: { offer: { kind: 'personal-note' } } });
    });

    it('a VIC with no recorded move gets the note on the win-back and on a recall step (holds)', () => {
      expect(step({ tier: 'VIC' }, dayAfter(125))).toMatchObject({ occasionKey: `recall#${iso(lastOrder)}#120d`, details: { offer: { kind: 'personal-note' } } });
      expect(step({ tier: 'VIC' }, dayAfter(65), 'winback')?.details.offer).toMatchObject({ kind: 'personal-note' });
    });

    it('a client moved up since the step came due, without an order (a lowered threshold, an older order exported late), is judged by the tier of the hour: a VIC gets the note, never a discount', () => {
      // Day 120 is 2026-05-10; the night of 2026-05-12 moved the client Core -> VIC (a step held while nights were behind, capped, or waiting for a code).
      const recall = step({ tier: 'VIC', previousTier: 'Core', tierChangedOn: '2026-05-12' }, dayAfter(125));
      expect(recall).toMatchObject({ occasionKey: `recall#${iso(lastOrder)}#120d`, details: { offer: { kind: 'personal-note' } } });
      // The profile's tier: nothing of its own to carry (nor for the ledger).
      expect(recall?.tier).toBeUndefined();
      // The win-back likewise: VIC since the night of day 62, asked on day 65.
      const winback = step({ tier: 'VIC', previousTier: 'Core', tierChangedOn: '2026-03-13' }, dayAfter(65), 'winback');
      expect(winback?.details.offer).toMatchObject({ kind: 'personal-note' });
      expect(winback?.tier).toBeUndefined();
      // Down and back up during one window (the profile keeps the last move: from Core, the tier between them): a VIC at both ends.
      const back = step({ tier: 'VIC', previousTier: 'Core', tierChangedOn: '2026-05-20', tierReturnLeftOn: '2026-05-12' }, dayAfter(135));
      expect(back).toMatchObject({ occasionKey: `recall#${iso(lastOrder)}#120d`, details: { offer: { kind: 'personal-note' } } });
      expect(back?.tier).toBeUndefined();
      // Two steps down since it came due (VIC -> Core -> Entry; the profile knows Core -> Entry): the higher one known, Core's offer.
      const twice = step({ tier: 'Entry', previousTier: 'Core', tierChangedOn: '2026-05-20' }, dayAfter(135));
      expect(twice).toMatchObject({ tier: 'Core', details: { offer: { kind: 'free-shipping-coupon', discountPercent: 15 } } });
    });

    it('only a lapse: a birthday is judged by the tier of the hour', () => {
      const client = lapsed({ ...dropped, birthday: '1990-01-20' });
      const birthday = of(dueOccasions(client, CATALOG, at('2027-01-15 10:00', SH), defaults()), 'birthday')[0];
      expect(birthday?.tier).toBeUndefined();
      expect(birthday?.details.offer).toMatchObject({ kind: 'coupon' });
    });

    it("reads the nights' run dates in the brand's zone, the step's first instant in the client's", () => {
      // The night of 2027-01-10 in Shanghai is as of its end, 2027-01-11 00:00 there.
      expect(tierHeldAt(dropped, at('2027-01-10 23:59', SH), SH)).toBe('VIC');
      expect(tierHeldAt(dropped, at('2027-01-11 00:00', SH), SH)).toBe('Entry');
      expect(tierHeldAt({ tier: 'Entry' }, at('2027-01-10 00:00', SH), SH)).toBe('Entry');
      // West of the brand: New York's 2027-01-10 starts at 13:00 in Shanghai, after the night of the 9th, before that of the 10th.
      const newYork = (fields: Partial<ClientProfile>) => step({ timeZone: NY, ...fields }, at('2027-01-10 10:00', NY))?.tier;
      expect(newYork(dropped)).toBe('VIC');
      expect(newYork({ ...dropped, tierChangedOn: '2027-01-09' })).toBeUndefined();
      // East of it: Auckland's 2027-01-10 starts at 19:00 on the 9th in Shanghai, before the night of the 9th ends.
      const auckland = (fields: Partial<ClientProfile>) => step({ timeZone: AKL, ...fields }, at('2027-01-10 10:00', AKL))?.tier;
      expect(auckland({ ...dropped, tierChangedOn: '2027-01-09' })).toBe('VIC');
      expect(auckland({ ...dropped, tierChangedOn: '2027-01-08' })).toBeUndefined();
    });

    it('the audience, the due index and the expiry ask by the same tier', () => {
      const ctx = context({ policy: { controlShare: 0 }, campaigns: [{ id: 'vic-lapse', trigger: { on: 'no-order-for', days: 365 }, audience: { tiers: ['VIC'] }, template: 'recall' }] });
      const noEntries = { closed: new Set<string>(), recorded: new Set<string>() };
      const indexing = { catalog: CATALOG, context: ctx, lookbackMs: 72 * HOUR, indexedAt: dayAfter(366) };
      const opened = at('2027-01-10 00:00', SH);
      const stillVic = lapsed(dropped);
      const [occasion] = dueOccasions(stillVic, CATALOG, dayAfter(366), ctx);
      expect(occasion).toMatchObject({ campaignId: 'vic-lapse', tier: 'VIC', dueAt: opened });
      expect(occasion && occasionInAudience(occasion, stillVic, dayAfter(366), ctx)).toBe(true);
      expect(nextDueAt(stillVic, indexing, noEntries)).toBe(opened);
      const [ended] = endedOccasions(stillVic, CATALOG, dayAfter(394), dayAfter(396), ctx);
      expect(ended && expiryReason(ended, undefined, stillVic, false, ctx.campaigns, SH)).toMatch(/before any run decided it$/);
      // Core before the step came due: out of this audience for the whole window, and out of the index.
      const core = lapsed({ ...dropped, previousTier: 'Core' });
      expect(dueOccasions(core, CATALOG, dayAfter(366), ctx).map((o) => occasionInAudience(o, core, dayAfter(366), ctx))).toEqual([false]);
      expect(nextDueAt(core, indexing, noEntries)).toBeUndefined();
      // Moved up to VIC since the step came due: in this audience as the VIC of the hour, in the index, and an expiry with a reason.
      const nowVic = lapsed({ tier: 'VIC', previousTier: 'Core', tierChangedOn: '2027-01-10' });
      const [upgraded] = dueOccasions(nowVic, CATALOG, dayAfter(366), ctx);
      expect(upgraded).toMatchObject({ campaignId: 'vic-lapse', dueAt: opened });
      expect(upgraded && occasionInAudience(upgraded, nowVic, dayAfter(366), ctx)).toBe(true);
      expect(nextDueAt(nowVic, indexing, noEntries)).toBe(opened);
      const [endedUp] = endedOccasions(nowVic, CATALOG, dayAfter(394), dayAfter(396), ctx);
      expect(endedUp && expiryReason(endedUp, undefined, nowVic, false, ctx.campaigns, SH)).toMatch(/before any run decided it$/);
      expect(upgraded?.tier).toBeUndefined();
    });
  });

  it('never shares a day with the win-back of the same lapse: the win-back ends at day 89, the recall starts at 120', () => {
    const ctx = defaults();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 420 * 24 }), fc.constantFrom(...ZONES), (hours, zone) => {
        const due = dueOccasions(lapsed({ timeZone: zone }), CATALOG, lastOrder + hours * HOUR, ctx);
        expect(of(due, 'winback').length + of(due, 'recall').length).toBeLessThanOrEqual(1);
      }),
    );
  });
});

describe('cross-category', () => {
  const order = at('2026-03-02 12:00', SH);
  const entry = (fields: Partial<ClientProfile> = {}) =>
    clientProfile({ timeZone: SH, tier: 'Entry', firstOrderAt: iso(order), lastOrderAt: iso(order), topCategory: 'leather-goods', skus: { WALLET: bought(order, { category: 'leather-goods' }) }, ...fields });

  it('is due 21 local days after the latest order for a week, once per order, with the category clients like them buy and a coupon', () => {
    const ctx = defaults();
    expect(of(dueOccasions(entry(), CATALOG, at('2026-03-22 23:59', SH), ctx), 'cross-category')).toEqual([]);
    const [occasion] = of(dueOccasions(entry(), CATALOG, at('2026-03-23 00:00', SH), ctx), 'cross-category');
    expect(occasion).toMatchObject({
      occasionKey: `cross-category#${iso(order)}`,
      priority: 6,
      expiresAt: at('2026-03-30 00:00', SH),
      details: { recommendedCategory: 'skin', offer: { kind: 'coupon', discountPercent: 10 }, products: [{ sku: 'CREAM' }, { sku: 'MIST' }, { sku: 'SERUM' }] },
    });
    // A new order first: the moment moves to it (a new key), nothing from the old one.
    const again = at('2026-03-20 12:00', SH);
    expect(of(dueOccasions(entry({ lastOrderAt: iso(again) }), CATALOG, at('2026-03-23 10:00', SH), ctx), 'cross-category')).toEqual([]);
    expect(of(dueOccasions(entry({ lastOrderAt: iso(again) }), CATALOG, at('2026-04-10 10:00', SH), ctx), 'cross-category')[0]?.occasionKey).toBe(`cross-category#${iso(again)}`);
  });

  it('is for Potential and Entry clients only', () => {
    const campaign = defaults().campaigns.campaigns.find((c) => c.id === 'cross-category');
    if (campaign === undefined) throw new Error('no cross-category play');
    expect(TIERS.filter((tier) => inAudience(campaign, entry({ tier })))).toEqual(['Potential', 'Entry']);
  });

  it('sends nothing without a category to show: no affinity yet, or every category bought', () => {
    const now = at('2026-03-24 10:00', SH);
    expect(of(dueOccasions(entry(), CATALOG, now, { ...defaults(), categoryAffinity: undefined } as CampaignContext), 'cross-category')).toEqual([]);
    const everything = entry({ skus: Object.fromEntries([...CATALOG.values()].map((p) => [p.sku, bought(order, { ...(p.category ? { category: p.category } : {}) })])) });
    expect(of(dueOccasions(everything, CATALOG, now, defaults()), 'cross-category')).toEqual([]);
  });
});

describe('the three plays as properties', () => {
  const affinityArb: fc.Arbitrary<CategoryAffinity> = fc.constantFrom(AFFINITY, { buyers: {}, alsoBought: {} }, { buyers: { skin: 3 }, alsoBought: { skin: { bags: 2, fragrance: 1 } } });

  it('over a year of hourly runs: never twice for one once-per key, never outside the window, never without something to show', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2026, 11, 1) }).chain((start) =>
          fc.record({ start: fc.constant(start), client: fullClientArb(start), affinity: affinityArb, zone: fc.constantFrom(...ZONES), step: fc.integer({ min: 11, max: 37 }) }),
        ),
        ({ start, client, affinity, zone, step }) => {
          const ctx = withAffinity(context({ seasons: SEASONS, campaigns: PLAYS.map((kind) => ({ kind }) as never) }, zone), affinity);
          const sent = new Set<string>();
          // A ledger: the first hour an occasion is due, it is settled; every later hour it must not come back as new.
          for (let now = start; now < start + 400 * DAY; now += step * HOUR) {
            for (const occasion of dueOccasions(client, CATALOG, now, ctx)) {
              expect(now).toBeGreaterThanOrEqual(occasion.dueAt);
              expect(now).toBeLessThan(occasion.expiresAt);
              // The seasonal and cross-category emails are about what they show.
              if (occasion.campaignId !== 'recall') expect(occasion.details.products?.length ?? 0).toBeGreaterThan(0);
              sent.add(`${occasion.occasionKey}@${occasion.dueAt}`);
            }
          }
          // One window per key: a key seen with two different windows would be two emails.
          const keys = [...sent].map((entry) => entry.split('@')[0]);
          expect(new Set(keys).size).toBe(keys.length);
        },
      ),
      { numRuns: 25 },
    );
  });
});
