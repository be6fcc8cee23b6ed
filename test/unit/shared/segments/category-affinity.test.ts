import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ClientProfile, SkuPurchase } from '#shared/model.ts';
import {
  categoriesBought,
  categoryAffinityCollector,
  crossCategoryPick,
  MIN_AFFINITY_BUYERS,
  mergeCategoryAffinities,
  type CategoryAffinity,
} from '#shared/segments/category-affinity.ts';
import { PROTOTYPE_NAMES } from '#test/support/prototype-names.ts';

type Buyer = Pick<ClientProfile, 'topCategory' | 'skus'>;

const purchase = (category: string | undefined): SkuPurchase => ({
  ...(category === undefined ? {} : { category }),
  lastPurchasedAt: '2026-10-01T00:00:00.000Z',
  quantity: 1,
  purchases: 1,
});

/** A buyer with a top category and one SKU per category bought. */
function buyer(top: string | undefined, ...categories: string[]): Buyer {
  return {
    ...(top === undefined ? {} : { topCategory: top }),
    skus: Object.fromEntries([top, ...categories].filter((c): c is string => c !== undefined).map((c, i) => [`SKU-${i}-${c}`, purchase(c)])),
  };
}

const pickFor = (client: Buyer, affinity: CategoryAffinity) => crossCategoryPick(client.topCategory, categoriesBought(client), affinity);

function affinityOf(buyers: readonly Buyer[]): CategoryAffinity {
  const collector = categoryAffinityCollector();
  for (const b of buyers) collector.add(b);
  return collector.result();
}

const CATEGORIES = ['skincare', 'fragrance', 'makeup', 'leather-goods', 'home', 'ready-to-wear'];
const buyerArb = fc
  .record({ top: fc.option(fc.constantFrom(...CATEGORIES), { nil: undefined }), others: fc.subarray(CATEGORIES) })
  .map(({ top, others }) => buyer(top, ...others));

describe('category affinity', () => {
  it('counts, per top category, its buyers and the other categories they bought', () => {
    const affinity = affinityOf([
      buyer('skincare', 'fragrance', 'makeup'),
      buyer('skincare', 'fragrance'),
      buyer('skincare', 'skincare'),
      buyer('home'),
      buyer(undefined, 'home'), // a prospect-like profile without a top category: not counted
    ]);
    expect(affinity).toEqual({
      buyers: { skincare: 3, home: 1 },
      alsoBought: { skincare: { fragrance: 2, makeup: 1 }, home: {} },
    });
    expect([...categoriesBought({ skus: { a: purchase('x'), b: purchase(undefined), c: purchase('x') } })]).toEqual(['x']);
  });

  it('adds up over shards: any split of the buyers merges into the affinity of all (property)', () => {
    fc.assert(
      fc.property(fc.array(buyerArb, { maxLength: 60 }), fc.array(fc.nat(3), { maxLength: 60 }), (buyers, shardOf) => {
        const parts = [0, 1, 2, 3].map((shard) => affinityOf(buyers.filter((_, i) => (shardOf[i] ?? 0) === shard)));
        expect(mergeCategoryAffinities(parts)).toEqual(affinityOf(buyers));
      }),
      { numRuns: 100 },
    );
  });

  it("picks what clients with the same top category buy most, once there are enough of them; else the brand's most bought", () => {
    const many = Array.from({ length: MIN_AFFINITY_BUYERS }, (_, i) => buyer('skincare', ...(i < 15 ? ['fragrance'] : ['makeup'])));
    const brand = [...many, ...Array.from({ length: 30 }, () => buyer('home', 'ready-to-wear'))];
    const affinity = affinityOf(brand);
    // Skincare buyers buy fragrance most: a skincare client without fragrance is shown it.
    expect(pickFor(buyer('skincare', 'makeup'), affinity)).toBe('fragrance');
    // One who has fragrance: the next of their group.
    expect(pickFor(buyer('skincare', 'fragrance'), affinity)).toBe('makeup');
    // Both: the brand-wide ranking (home 30, ready-to-wear 30: by name).
    expect(pickFor(buyer('skincare', 'fragrance', 'makeup'), affinity)).toBe('home');
    // Too few leather-goods buyers to rank on their own: the brand-wide one.
    expect(pickFor(buyer('leather-goods'), affinityOf([...brand, buyer('leather-goods', 'makeup')]))).toBe('home');
    // No top category, or every category bought: nothing to show.
    expect(pickFor(buyer(undefined, 'home'), affinity)).toBeUndefined();
    expect(pickFor(buyer('home', 'skincare', 'fragrance', 'makeup', 'ready-to-wear'), affinity)).toBeUndefined();
  });

  it('never picks a category the client bought, nor their top one, and picks the same for the same input (property)', () => {
    fc.assert(
      fc.property(fc.array(buyerArb, { maxLength: 80 }), buyerArb, (brand, client) => {
        const affinity = affinityOf(brand);
        const pick = pickFor(client, affinity);
        if (pick === undefined) return;
        expect(categoriesBought(client).has(pick)).toBe(false);
        expect(pick).not.toBe(client.topCategory);
        expect(pickFor(client, mergeCategoryAffinities([affinity]))).toBe(pick);
      }),
      { numRuns: 200 },
    );
  });

  it('counts a category named like an Object.prototype member as any other, and leaves Object.prototype alone (property)', () => {
    // Category names are free text from the export; a plain {} would read "constructor" as a
    // built-in function and write a "__proto__" row onto Object.prototype.
    const names = [...PROTOTYPE_NAMES, 'skincare', 'fragrance'];
    const arb = fc.record({ top: fc.constantFrom(...names), others: fc.subarray(names) }).map(({ top, others }) => buyer(top, ...others));
    const prototypeBefore = Object.getOwnPropertyNames(Object.prototype);
    fc.assert(
      fc.property(fc.array(arb, { minLength: 1, maxLength: 40 }), fc.array(fc.nat(1), { maxLength: 40 }), (buyers, shardOf) => {
        const expectedBuyers = new Map<string, number>();
        const expectedAlso = new Map<string, Map<string, number>>();
        for (const b of buyers) {
          const top = b.topCategory as string;
          expectedBuyers.set(top, (expectedBuyers.get(top) ?? 0) + 1);
          const row = expectedAlso.get(top) ?? new Map<string, number>();
          expectedAlso.set(top, row);
          for (const c of new Set(Object.values(b.skus).map((p) => p.category as string))) if (c !== top) row.set(c, (row.get(c) ?? 0) + 1);
        }
        const parts = [0, 1].map((shard) => affinityOf(buyers.filter((_, i) => (shardOf[i] ?? 0) === shard)));
        // As the sender reads it: the shards merged, stored as JSON and parsed back.
        const stored = JSON.parse(JSON.stringify(mergeCategoryAffinities(parts))) as CategoryAffinity;
        const sorted = <T>(entries: Iterable<[string, T]>) => [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        for (const affinity of [affinityOf(buyers), stored]) {
          expect(sorted(Object.entries(affinity.buyers))).toEqual(sorted(expectedBuyers));
          expect(sorted(Object.entries(affinity.alsoBought)).map(([top, row]) => [top, sorted(Object.entries(row))])).toEqual(
            sorted(expectedAlso).map(([top, row]) => [top, sorted(row)]),
          );
          for (const b of buyers) {
            const pick = pickFor(b, affinity);
            if (pick !== undefined) expect(names).toContain(pick);
          }
        }
        expect(pickFor(buyer('never-bought'), stored)).toBeOneOf([...names, undefined]);
        expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(prototypeBefore);
      }),
      { numRuns: 200 },
    );
  });
});
