import { describe, expect, it } from 'vitest';
import { compareDueClients, dueOccasions, nextOrderOccasion, type DueOccasion } from '#shared/campaigns/due.ts';
import type { ReplenishmentCampaign } from '#shared/campaigns/schema.ts';
import type { ClientClv, ClientProfile } from '#shared/model.ts';
import { clientProfile } from '#test/support/profiles.ts';
import { BRAND_ZONE, at } from '#test/support/time.ts';
import { CATALOG, context, FRAGRANCE_REPLENISHABLE } from './fixtures.ts';

const CTX = context(FRAGRANCE_REPLENISHABLE);
const REPLENISHMENT = CTX.campaigns.campaigns.find((c): c is ReplenishmentCampaign => c.kind === 'replenishment') as ReplenishmentCampaign;

function clv(fields: Partial<ClientClv> = {}): ClientClv {
  return {
    probabilityAlive: 0.8,
    expectedPurchases90d: 0.6,
    expectedPurchases365d: 2.1,
    expectedAverageOrderValueMinor: 20_000,
    clv12mMinor: 40_000,
    predictedNextOrderAt: '2026-07-01',
    rising: false,
    churnRisk: 'low',
    ...fields,
  };
}

/** A client whose only product (a perfume: replenishable by its category, no catalog cycle) was bought once. */
const perfumeBuyer = clientProfile({
  orderCount: 2,
  lastOrderAt: '2026-05-01T02:00:00.000Z',
  skus: { PERFUME: { productName: 'Eau de Parfum', category: 'fragrance', lastPurchasedAt: '2026-05-01T02:00:00.000Z', quantity: 1, purchases: 1 } },
  clv: clv(),
});

describe('replenishment from the predicted next order', () => {
  it('is due 15 local days before the predicted date, until its local midnight, keyed on the last order it follows', () => {
    const found = nextOrderOccasion(REPLENISHMENT, perfumeBuyer, CATALOG, at('2026-06-16T00:00'), BRAND_ZONE);
    expect(found).toMatchObject({
      campaignId: 'replenishment',
      kind: 'replenishment',
      occasionKey: 'replenishment#next-order#2026-05-01T02:00:00.000Z',
      keyOutlivesWindow: true,
      dueAt: at('2026-06-16T00:00'),
      expiresAt: at('2026-07-01T00:00'),
      details: { sku: 'PERFUME', productName: 'Eau de Parfum', cycleSource: 'predicted', runOutDate: '2026-07-01' },
    });
    expect(nextOrderOccasion(REPLENISHMENT, perfumeBuyer, CATALOG, at('2026-06-15T23:59'), BRAND_ZONE)).toBeUndefined();
    expect(nextOrderOccasion(REPLENISHMENT, perfumeBuyer, CATALOG, at('2026-06-30T23:59'), BRAND_ZONE)).toBeDefined();
    expect(nextOrderOccasion(REPLENISHMENT, perfumeBuyer, CATALOG, at('2026-07-01T00:00'), BRAND_ZONE)).toBeUndefined();
    expect(dueOccasions(perfumeBuyer, CATALOG, at('2026-06-20T10:00'), CTX).map((o) => o.occasionKey)).toContain('replenishment#next-order#2026-05-01T02:00:00.000Z');
  });

  it('keeps its key when a refit moves the predicted date: the window moves, the occasion is the same', () => {
    const refitted = clientProfile({ ...perfumeBuyer, clv: clv({ predictedNextOrderAt: '2026-07-06' }) });
    const before = nextOrderOccasion(REPLENISHMENT, perfumeBuyer, CATALOG, at('2026-06-20T10:00'), BRAND_ZONE);
    const after = nextOrderOccasion(REPLENISHMENT, refitted, CATALOG, at('2026-06-25T10:00'), BRAND_ZONE);
    expect(after?.occasionKey).toBe(before?.occasionKey);
    expect(after).toMatchObject({ dueAt: at('2026-06-21T00:00'), expiresAt: at('2026-07-06T00:00'), details: { runOutDate: '2026-07-06' } });
  });

  it('is not due once the window would open on or before the last order: a prediction the night has not refitted after an order', () => {
    // The intraday ingest merged an order of 2026-06-18: lastOrderAt moved, the prediction is still the previous order's.
    const orderedAgain = clientProfile({ ...perfumeBuyer, lastOrderAt: '2026-06-18T02:00:00.000Z', orderCount: 3 });
    for (const now of [at('2026-06-18T10:00'), at('2026-06-25T10:00')]) expect(nextOrderOccasion(REPLENISHMENT, orderedAgain, CATALOG, now, BRAND_ZONE)).toBeUndefined();
    // The night's refit of that order gives a later date: a reminder for the new order, under its own key.
    const refitted = clientProfile({ ...orderedAgain, clv: clv({ predictedNextOrderAt: '2026-09-01' }) });
    expect(nextOrderOccasion(REPLENISHMENT, refitted, CATALOG, at('2026-08-20T10:00'), BRAND_ZONE)?.occasionKey).toBe('replenishment#next-order#2026-06-18T02:00:00.000Z');
    // A prediction within the lead time of the order itself (the reminder would be due the day it was placed): none.
    const tooSoon = clientProfile({ ...perfumeBuyer, clv: clv({ predictedNextOrderAt: '2026-05-16' }) });
    expect(nextOrderOccasion(REPLENISHMENT, tooSoon, CATALOG, at('2026-05-10T10:00'), BRAND_ZONE)).toBeUndefined();
    const { lastOrderAt: _none, ...noLastOrder } = perfumeBuyer;
    expect(nextOrderOccasion(REPLENISHMENT, noLastOrder, CATALOG, at('2026-06-20T10:00'), BRAND_ZONE)).toBeUndefined();
  });

  it('is never due for a client who bought nothing replenishable: a bag runs out of nothing', () => {
    const bagBuyer = clientProfile({
      ...perfumeBuyer,
      skus: { BAG: { productName: 'Tote', category: 'bags', lastPurchasedAt: '2026-05-01T02:00:00.000Z', quantity: 1, purchases: 2, personalCycleDays: 30 } },
    });
    for (const now of [at('2026-06-16T00:00'), at('2026-06-20T10:00'), at('2026-06-30T23:59')]) {
      expect(nextOrderOccasion(REPLENISHMENT, bagBuyer, CATALOG, now, BRAND_ZONE)).toBeUndefined();
      expect(dueOccasions(bagBuyer, CATALOG, now, CTX).filter((o) => o.kind === 'replenishment')).toEqual([]);
    }
    // The perfume is shown, not the bag bought after it.
    const both = clientProfile({
      ...perfumeBuyer,
      skus: { ...perfumeBuyer.skus, BAG: { productName: 'Tote', category: 'bags', lastPurchasedAt: '2026-05-20T02:00:00.000Z', quantity: 1, purchases: 1 } },
    });
    expect(nextOrderOccasion(REPLENISHMENT, both, CATALOG, at('2026-06-20T10:00'), BRAND_ZONE)?.details).toMatchObject({ sku: 'PERFUME' });
  });

  it('is not due when any SKU has a cycle (personal or catalog), or without a prediction', () => {
    const withCream = clientProfile({
      ...perfumeBuyer,
      skus: { ...perfumeBuyer.skus, CREAM: { lastPurchasedAt: '2026-01-01T02:00:00.000Z', quantity: 1, purchases: 1 } },
    });
    expect(nextOrderOccasion(REPLENISHMENT, withCream, CATALOG, at('2026-06-20T10:00'), BRAND_ZONE)).toBeUndefined();
    const personal = clientProfile({
      ...perfumeBuyer,
      skus: { PERFUME: { lastPurchasedAt: '2026-05-01T02:00:00.000Z', quantity: 1, purchases: 3, personalCycleDays: 200 } },
    });
    expect(nextOrderOccasion(REPLENISHMENT, personal, CATALOG, at('2026-06-20T10:00'), BRAND_ZONE)).toBeUndefined();
    const { clv: _dropped, ...noPrediction } = perfumeBuyer;
    expect(nextOrderOccasion(REPLENISHMENT, noPrediction, CATALOG, at('2026-06-20T10:00'), BRAND_ZONE)).toBeUndefined();
    const gone = clientProfile({ ...perfumeBuyer, clv: clv({ predictedNextOrderAt: undefined }) });
    expect(nextOrderOccasion(REPLENISHMENT, gone, CATALOG, at('2026-06-20T10:00'), BRAND_ZONE)).toBeUndefined();
  });
});

describe('the order due clients are served in', () => {
  const client = (customerId: string, priority: number, fields: Partial<ClientProfile> = {}) => ({
    profile: clientProfile({ customerId, ...fields }),
    due: [{ priority } as Pick<DueOccasion, 'priority'>],
  });

  it('serves the most urgent campaign first, then high churn risk, then the highest predicted value', () => {
    const clients = [
      client('a-no-clv', 3),
      client('b-low', 3, { clv: clv({ churnRisk: 'low', clv12mMinor: 9_000_000 }) }),
      client('c-high-small', 3, { clv: clv({ churnRisk: 'high', clv12mMinor: 10_000 }) }),
      client('d-high-big', 3, { clv: clv({ churnRisk: 'high', clv12mMinor: 500_000 }) }),
      client('e-medium', 3, { clv: clv({ churnRisk: 'medium', clv12mMinor: 1_000 }) }),
      client('f-welcome', 1),
    ];
    expect(clients.sort(compareDueClients).map((c) => c.profile.customerId)).toEqual([
      'f-welcome',
      'd-high-big',
      'c-high-small',
      'e-medium',
      'b-low',
      'a-no-clv',
    ]);
  });

  it('falls back to customerId, so the order is deterministic', () => {
    const clients = [client('z', 3, { clv: clv() }), client('y', 3, { clv: clv() })];
    expect(clients.sort(compareDueClients).map((c) => c.profile.customerId)).toEqual(['y', 'z']);
  });
});
