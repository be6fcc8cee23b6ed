import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dueOccasions, nextOrderWindow, replenishmentWindow, sendWindows, type ProductCatalog } from '#shared/campaigns/due.ts';
import { DUE_HORIZON_DAYS, runOutDay } from '#shared/campaigns/triggers.ts';
import type { ClientProfile, OrderLine, ProductRecord, SkuPurchase } from '#shared/model.ts';
import { ClientAggregator } from '#shared/tiering/aggregate.ts';
import { computeProfiles } from '#shared/tiering/profile.ts';
import { addDays, daysBetweenDates } from '#shared/time.ts';
import { clientProfile } from '#test/support/profiles.ts';
import { at } from '#test/support/time.ts';
import { context } from './fixtures.ts';
import { config, line } from '../tiering/fixtures.ts';

/**
 * A day the data predicts (a run-out, the CLV model's next order) further than DUE_HORIZON_DAYS
 * (ten years) after what it is counted from gives no occasion: no reminder, and no date computed
 * past the calendar. Valid values reach it: a 10-year cycle times 10,000 units, or a client's one
 * unit in 2000 and 400 in 2026 (a personal cycle of 26 years a unit, 400 times: past year 9999).
 */

const SH = 'Asia/Shanghai';
const LEAD = { daysBefore: 15, replenishableCategories: [] as string[] };
const REPLENISHMENT = context({ campaigns: [{ kind: 'replenishment', replenishableCategories: ['fragrance'] }] });
const NEXT_ORDER = context({ campaigns: [{ kind: 'replenishment', replenishableCategories: ['fragrance'] }, { kind: 'custom', id: 'reorder', trigger: { on: 'predicted-next-order', daysBefore: 7 }, template: 'winback', products: { from: 'none' } }] });
const RANGE = { from: at('2026-03-01 00:00', SH), to: Number.POSITIVE_INFINITY };

const catalogOf = (replenishDays: number | undefined): ProductCatalog =>
  new Map<string, ProductRecord>([
    ['CREAM', { sku: 'CREAM', name: 'Cream', category: 'skin', ...(replenishDays === undefined ? {} : { replenishDays }) }],
    ['PERFUME', { sku: 'PERFUME', name: 'Eau de Parfum', category: 'fragrance' }],
  ]);

const clientWith = (skus: Record<string, SkuPurchase>, extra: Partial<ClientProfile> = {}): ClientProfile =>
  clientProfile({ customerId: 'c', tier: 'Core', spend12mMinor: 0, lifetimeSpendMinor: 0, timeZone: SH, lastOrderAt: '2026-03-20T07:00:00.000Z', skus, ...extra });

const bought = (quantity: number, extra: Partial<SkuPurchase> = {}): SkuPurchase => ({ lastPurchasedAt: '2026-03-20T07:00:00.000Z', quantity, purchases: 1, ...extra });

describe('the horizon of a run-out', () => {
  it('a cycle of exactly the horizon has its run-out; a day more has none', () => {
    const purchase = bought(1);
    expect(runOutDay(LEAD, purchase, catalogOf(DUE_HORIZON_DAYS).get('CREAM'), SH)?.runOutDate).toBe(addDays('2026-03-20', DUE_HORIZON_DAYS));
    expect(runOutDay(LEAD, purchase, catalogOf(DUE_HORIZON_DAYS + 1).get('CREAM'), SH)).toBeUndefined();
    // Ten years are counted from the stock-up's first day, as the run-out is.
    const stockUp = bought(2, { stockUpFrom: '2026-03-10T07:00:00.000Z', purchases: 2 });
    expect(runOutDay(LEAD, stockUp, catalogOf(Math.floor(DUE_HORIZON_DAYS / 2)).get('CREAM'), SH)?.runOutDate).toBe(addDays('2026-03-10', 2 * Math.floor(DUE_HORIZON_DAYS / 2)));
    expect(runOutDay(LEAD, stockUp, catalogOf(Math.ceil(DUE_HORIZON_DAYS / 2) + 1).get('CREAM'), SH)).toBeUndefined();
  });

  it('10,000 units of a product lasting 10 years each (both read as valid) give no reminder, in any reader of the run-out', () => {
    const catalog = catalogOf(3650);
    const client = clientWith({ CREAM: bought(10_000) });
    expect(runOutDay(LEAD, client.skus.CREAM as SkuPurchase, catalog.get('CREAM'), SH)).toBeUndefined();
    expect(sendWindows(client, catalog, REPLENISHMENT, RANGE)).toEqual([]);
    expect(dueOccasions(client, catalog, at('2026-04-16 11:00', SH), REPLENISHMENT)).toEqual([]);
    const campaign = REPLENISHMENT.campaigns.campaigns[0];
    if (campaign?.kind !== 'replenishment') throw new Error('the replenishment campaign');
    expect(replenishmentWindow(campaign, client.skus.CREAM as SkuPurchase, catalog.get('CREAM'), SH)).toBeUndefined();
    // A product with a cycle was bought: the predicted next order does not stand in for it.
    expect(nextOrderWindow(campaign, { ...client, clv: { predictedNextOrderAt: '2026-06-01' } as ClientProfile['clv'] }, catalog, SH)).toBeUndefined();
  });

  it("one unit in 2000, 400 in 2026: a personal cycle of 26 years a unit, stretched 400 times, is past the horizon (and past year 9999)", () => {
    const lines: OrderLine[] = [
      line({ orderId: 'o0', customerId: 'c', orderedAt: at('2000-03-20T15:00', SH), sku: 'CREAM', quantity: 1, lineTotalMinor: 1_000 }),
      line({ orderId: 'o1', customerId: 'c', orderedAt: at('2026-03-20T15:00', SH), sku: 'CREAM', quantity: 400, lineTotalMinor: 12_000 }),
    ];
    const aggregator = new ClientAggregator();
    for (const orderLine of lines) aggregator.addOrderLine(orderLine);
    const catalog = catalogOf(30);
    const [computed] = computeProfiles(aggregator.clients(), { runDate: '2026-03-22', config: config({ timeZone: SH }), catalog });
    const profile: ClientProfile = { ...(computed as ClientProfile), acceptsMarketing: true, timeZone: SH };
    const purchase = profile.skus.CREAM as SkuPurchase;
    expect(purchase).toMatchObject({ quantity: 400, purchases: 2 });
    expect((purchase.personalCycleDays as number) * 400).toBeGreaterThan(daysBetweenDates('2026-03-20', '9999-12-31'));
    expect(runOutDay(LEAD, purchase, catalog.get('CREAM'), SH)).toBeUndefined();
    expect(sendWindows(profile, catalog, REPLENISHMENT, RANGE)).toEqual([]);
  });

  it('property: no quantity, catalogue cycle or personal cycle makes the windows throw; a run-out is never past the horizon', () => {
    const anyQuantity = fc.oneof(fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));
    const anyCycle = fc.oneof(fc.integer({ min: 1, max: 4_000 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }));
    const anyPersonal = fc.option(fc.oneof(fc.double({ min: 0.01, max: 4_000, noNaN: true }), fc.double({ min: 0.01, max: 1e12, noNaN: true })), { nil: undefined });
    const lastDay = fc.integer({ min: 0, max: 20_000 }).map((days) => addDays('1990-01-01', days));
    fc.assert(
      fc.property(anyQuantity, anyCycle, anyPersonal, fc.integer({ min: 1, max: 3 }), lastDay, (quantity, replenishDays, personalCycleDays, purchases, day) => {
        const purchase: SkuPurchase = {
          lastPurchasedAt: `${day}T07:00:00.000Z`,
          quantity,
          purchases,
          ...(personalCycleDays === undefined ? {} : { personalCycleDays }),
        };
        const catalog = catalogOf(replenishDays);
        const found = runOutDay(LEAD, purchase, catalog.get('CREAM'), SH);
        if (found !== undefined) expect(daysBetweenDates(day, found.runOutDate)).toBeLessThanOrEqual(DUE_HORIZON_DAYS);
        const client = clientWith({ CREAM: purchase, PERFUME: bought(quantity) }, { lastOrderAt: purchase.lastPurchasedAt });
        const windows = sendWindows(client, catalog, REPLENISHMENT, { from: at(`${day}T00:00`, SH), to: Number.POSITIVE_INFINITY });
        for (const window of windows) expect(window.dueAt).toBeLessThanOrEqual(at(`${addDays(day, DUE_HORIZON_DAYS)}T00:00`, SH));
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('the horizon of a predicted next order', () => {
  it('a stored prediction more than ten years after the last order gives no occasion (the model caps its own at two years)', () => {
    const catalog = catalogOf(undefined);
    // A perfume (listed category, no cycle) bought once: the predicted next order stands in for its run-out.
    const client = (predictedNextOrderAt: string) => clientWith({ PERFUME: bought(1) }, { clv: { predictedNextOrderAt } as ClientProfile['clv'] });
    const keys = (profile: ClientProfile) => sendWindows(profile, catalog, NEXT_ORDER, RANGE).map((w) => w.occasionKey);
    expect(keys(client('2026-06-01'))).toEqual(['replenishment#next-order#2026-03-20T07:00:00.000Z', 'reorder#next-order#2026-03-20T07:00:00.000Z']);
    expect(keys(client(addDays('2026-03-20', DUE_HORIZON_DAYS)))).toHaveLength(2);
    expect(keys(client(addDays('2026-03-20', DUE_HORIZON_DAYS + 1)))).toEqual([]);
    expect(keys(client('9999-12-31'))).toEqual([]);
  });
});
