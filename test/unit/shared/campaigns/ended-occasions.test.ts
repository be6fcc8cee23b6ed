import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dueOccasions, endedOccasions, type CampaignContext } from '#shared/campaigns/due.ts';
import { campaignsConfigSchema } from '#shared/campaigns/schema.ts';
import { STAGES, TIERS, type ClientProfile, type ProductRecord, type SkuPurchase } from '#shared/model.ts';
import { clientProfile } from '#test/support/profiles.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
const context: CampaignContext = { campaigns: campaignsConfigSchema.parse({}), brandTimeZone: 'Asia/Shanghai' };
const CATALOG = new Map<string, ProductRecord>([
  ['CREAM', { sku: 'CREAM', name: 'Night Cream', category: 'skin', replenishDays: 90 }],
  ['MIST', { sku: 'MIST', name: 'Face Mist', category: 'skin', replenishDays: 70 }],
]);
const client = (fields: Partial<ClientProfile>): ClientProfile => clientProfile({ stage: 'new', spend12mMinor: 1, lifetimeSpendMinor: 1, ...fields });

describe('ended occasions', () => {
  const T = Date.UTC(2026, 10, 20, 2);

  it('lists a welcome once its 72 h cut-off has passed, as it was in its last due moment', () => {
    const p = client({ firstOrderAt: iso(T) });
    const cutoff = T + 72 * HOUR;
    expect(endedOccasions(p, CATALOG, cutoff - 2 * HOUR, cutoff - 1, context)).toEqual([]);
    const [welcome] = endedOccasions(p, CATALOG, cutoff - HOUR, cutoff, context);
    expect(welcome).toMatchObject({ campaignId: 'welcome', occasionKey: 'welcome', expiresAt: cutoff });
    expect(welcome?.details.late).toBe(true);
    // The window (from, to] is half-open: a run that already looked at the cut-off does not list it again.
    expect(endedOccasions(p, CATALOG, cutoff, cutoff + HOUR, context)).toEqual([]);
    expect(dueOccasions(p, CATALOG, cutoff, context)).toEqual([]);
  });

  it('lists win-back and replenishment windows that closed, each with its own key', () => {
    const lastOrder = T - 100 * DAY;
    const p = client({ stage: 'sleeping', lastOrderAt: iso(lastOrder), skus: { MIST: { lastPurchasedAt: iso(lastOrder), quantity: 1, purchases: 1 } } });
    const ended = endedOccasions(p, CATALOG, T - 40 * DAY, T, context);
    expect(ended.map((o) => o.occasionKey).sort()).toEqual([`replenishment#MIST#${iso(lastOrder)}`, `winback#${iso(lastOrder)}`]);
    for (const o of ended) expect(o.expiresAt).toBeLessThanOrEqual(T);
  });

  it('never lists an occasion that is still due, nor one that ends outside (from, to]', () => {
    const zones = ['Asia/Shanghai', 'America/New_York', 'Europe/London'];
    const near = (now: number) => fc.integer({ min: now - 120 * DAY, max: now }).map(iso);
    const purchase = (now: number): fc.Arbitrary<SkuPurchase> =>
      fc.record({ lastPurchasedAt: near(now), quantity: fc.integer({ min: 1, max: 3 }), purchases: fc.integer({ min: 1, max: 3 }) });
    const scenario = fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2026, 11, 31) }).chain((now) =>
      fc.record({
        now: fc.constant(now),
        lookback: fc.integer({ min: 1, max: 30 * 24 }).map((h) => h * HOUR),
        p: fc
          .record({
            tier: fc.constantFrom(...TIERS),
            stage: fc.constantFrom(...STAGES),
            timeZone: fc.constantFrom(...zones),
            signedUpAt: near(now),
            firstOrderAt: near(now),
            lastOrderAt: near(now),
            skus: fc.dictionary(fc.constantFrom('CREAM', 'MIST'), purchase(now), { maxKeys: 2 }),
          })
          .map((fields) => client(fields)),
      }),
    );
    fc.assert(
      fc.property(scenario, ({ now, lookback, p }) => {
        const due = dueOccasions(p, CATALOG, now, context);
        const ended = endedOccasions(p, CATALOG, now - lookback, now, context);
        const dueKeys = new Set(due.map((o) => o.occasionKey));
        for (const o of ended) {
          expect(o.expiresAt).toBeGreaterThan(now - lookback);
          expect(o.expiresAt).toBeLessThanOrEqual(now);
          expect(dueKeys.has(o.occasionKey)).toBe(false);
        }
        for (const o of due) expect(o.expiresAt).toBeGreaterThan(now);
      }),
      { numRuns: 300 },
    );
  });
});
