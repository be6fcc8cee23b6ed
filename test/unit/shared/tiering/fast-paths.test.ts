import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '#shared/config.ts';
import type { ClientFacts } from '#shared/model.ts';
import { medianDayGap } from '#shared/tiering/lifecycle.ts';
import { computeProfiles } from '#shared/tiering/profile.ts';

/**
 * The profile computation takes shortcuts for the usual shapes of its input (numbers sorted
 * natively; SKU purchases in time order read in one pass); these properties hold them equal to
 * the general way, which is kept as the reference or taken for any other order.
 */

function referenceMedianDayGap(days: Iterable<number>): number | undefined {
  const sorted = [...new Set(days)].sort((a, b) => a - b);
  if (sorted.length < 2) return undefined;
  const gaps: number[] = [];
  for (let i = 1; i < sorted.length; i++) gaps.push((sorted[i] as number) - (sorted[i - 1] as number));
  gaps.sort((a, b) => a - b);
  const mid = gaps.length >> 1;
  const median = gaps.length % 2 === 1 ? (gaps[mid] as number) : ((gaps[mid - 1] as number) + (gaps[mid] as number)) / 2;
  return Math.round(median);
}

describe('medianDayGap', () => {
  it('gives what the Set-and-sort reading gives', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -5, max: 40_000 }), { maxLength: 12 }), fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 8 }), (days, nearby) => {
        const input = [...days, ...nearby.map((d) => 20_000 + d)];
        expect(medianDayGap(input)).toBe(referenceMedianDayGap(input));
      }),
      { numRuns: 5000 },
    );
  });
});

describe('SKU purchases in a profile', () => {
  const DAY = 86_400_000;
  const config = parseConfig({ timeZone: 'America/Santiago', currency: 'USD' });
  it('are the same whatever the order of a SKU’s purchases', () => {
    const purchaseArbitrary = fc.record({ day: fc.integer({ min: 19_000, max: 20_420 }), hour: fc.integer({ min: 0, max: 47 }), quantity: fc.integer({ min: 1, max: 3 }) });
    fc.assert(
      fc.property(fc.array(fc.array(purchaseArbitrary, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 }), fc.nat(), (skus, seed) => {
        const build = (shuffle: boolean): ClientFacts => ({
          customerId: 'C1',
          orders: [{ orderId: 'O1', orderedAt: 19_000 * DAY, netMinor: 100 }],
          categorySpendMinor: {},
          skus: skus.map((purchases, i) => {
            const list = purchases.map((p) => ({ orderedAt: p.day * DAY + p.hour * 1_800_000, quantity: p.quantity })).sort((a, b) => a.orderedAt - b.orderedAt);
            if (shuffle) list.sort((a, b) => ((a.orderedAt * 7 + seed) % 13) - ((b.orderedAt * 7 + seed) % 13));
            return { sku: `S${i}`, purchases: list };
          }),
        });
        const context = { runDate: '2025-11-23', config };
        expect(computeProfiles([build(false)], context)).toEqual(computeProfiles([build(true)], context));
      }),
      { numRuns: 2000 },
    );
  });
});
