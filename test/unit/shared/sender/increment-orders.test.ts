import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClientFacts, OrderFact } from '#shared/model.ts';
import {
  factsWithOrders,
  MAX_INCREMENT_ORDER_IDS,
  needsRemerge,
  nightCutoff,
  nightSeen,
  ordersToCount,
  type NightMark,
} from '#shared/sender/increment-orders.ts';

const SH = 'Asia/Shanghai';
/** 2026-11-24 00:00 in Shanghai: the clock of the night of 2026-11-23. */
const CLOCK_1123 = Date.UTC(2026, 10, 23, 16, 0);
const HOUR = 3_600_000;

const order = (orderId: string, orderedAt: number, netMinor = 10_000): OrderFact => ({ orderId, orderedAt, netMinor });
const night = (fields: Partial<NightMark> = {}): NightMark => ({ runDate: '2026-11-23', runId: 'n-1', status: 'completed', startedAt: '2026-11-23T18:00:00.000Z', ...fields });

describe('the cut-off of a night', () => {
  it('is its clock (the start of the next day in brand time) for a night run after its day', () => {
    expect(nightCutoff(night(), SH)).toBe(CLOCK_1123);
  });

  it('is its start for a night run before its day had ended: its snapshot has nothing later', () => {
    expect(nightCutoff(night({ startedAt: '2026-11-23T07:00:00.000Z' }), SH)).toBe(Date.UTC(2026, 10, 23, 7, 0));
  });

  it('is its clock when the item has no readable start', () => {
    const { startedAt: _none, ...noStart } = night();
    expect(nightCutoff(noStart, SH)).toBe(CLOCK_1123);
    expect(nightCutoff(night({ startedAt: 'soon' }), SH)).toBe(CLOCK_1123);
  });

  it('is the clock the night recorded, whatever the zone of the hour that reads it (the brand moved its timeZone since)', () => {
    const recorded = night({ clockAt: new Date(CLOCK_1123).toISOString() });
    expect(nightCutoff(recorded, 'America/Los_Angeles')).toBe(CLOCK_1123);
    expect(needsRemerge({ nightSeen: 'none' }, CLOCK_1123 + 1.5 * HOUR, recorded, 'America/Los_Angeles')).toBe(true);
    // Without it (an item written before), the run date is read in the zone the hour has: Los Angeles' midnight, 08:00Z, later than the start.
    expect(nightCutoff(night(), 'America/Los_Angeles')).toBe(Date.UTC(2026, 10, 23, 18, 0));
    expect(nightCutoff(night({ clockAt: 'soon' }), SH)).toBe(CLOCK_1123);
  });
});

describe('whether a merged increment is merged again', () => {
  const after = CLOCK_1123 + HOUR / 2;
  const before = CLOCK_1123 - HOUR;

  it('is merged again once a night wrote since, when stamped at or after its cut-off', () => {
    expect(needsRemerge({ nightSeen: nightSeen(night({ runDate: '2026-11-22', runId: 'n-0' })) }, after, night(), SH)).toBe(true);
    expect(needsRemerge({ nightSeen: nightSeen(night({ runDate: '2026-11-22', runId: 'n-0' })) }, CLOCK_1123, night(), SH)).toBe(true);
  });

  it('is not when stamped before the cut-off: the night\u2019s snapshot has its orders', () => {
    expect(needsRemerge({ nightSeen: 'none' }, before, night(), SH)).toBe(false);
  });

  it('is not when merged on top of the same night', () => {
    expect(needsRemerge({ nightSeen: nightSeen(night()) }, after, night(), SH)).toBe(false);
  });

  it('is again when the same night writes again: it finished after the merge, or a rerun started', () => {
    expect(needsRemerge({ nightSeen: nightSeen(night({ status: 'writing' })) }, after, night(), SH)).toBe(true);
    expect(needsRemerge({ nightSeen: nightSeen(night()) }, after, night({ runId: 'n-2', status: 'writing' }), SH)).toBe(true);
  });

  it('is when merged before any night, or by a version that did not record the night (nightSeen absent)', () => {
    expect(needsRemerge({ nightSeen: nightSeen(undefined) }, after, night(), SH)).toBe(true);
    expect(needsRemerge({}, after, night(), SH)).toBe(true);
  });

  it('is never before any night', () => {
    expect(needsRemerge({}, after, undefined, SH)).toBe(false);
  });
});

describe('the orders an increment counts', () => {
  it('leaves out the orders the last night counted (dated before its cut-off) and those an increment counted', () => {
    const orders = [order('o-old', CLOCK_1123 - 100 * 24 * HOUR), order('o-merged', CLOCK_1123 + HOUR), order('o-new', CLOCK_1123 + 2 * HOUR)];
    expect(ordersToCount(orders, { cutoff: CLOCK_1123, ids: ['o-merged'] }).map((o) => o.orderId)).toEqual(['o-new']);
  });

  it('counts every order of a client no night has counted (no cut-off), earliest first', () => {
    const orders = [order('b', 3), order('a', 3), order('c', 1)];
    expect(ordersToCount(orders, { ids: [] }).map((o) => o.orderId)).toEqual(['c', 'a', 'b']);
  });

  it('counts an order at the cut-off: the night left it out', () => {
    expect(ordersToCount([order('o', CLOCK_1123)], { cutoff: CLOCK_1123, ids: [] })).toHaveLength(1);
  });

  it('keeps at most MAX_INCREMENT_ORDER_IDS ids: the orders past it wait for the night', () => {
    const ids = Array.from({ length: MAX_INCREMENT_ORDER_IDS - 2 }, (_, i) => `held-${i}`);
    const orders = [order('x3', 30), order('x1', 10), order('x2', 20)];
    expect(ordersToCount(orders, { ids }).map((o) => o.orderId)).toEqual(['x1', 'x2']);
    expect(ordersToCount(orders, { ids: [...ids, 'a', 'b', 'c'] })).toEqual([]);
  });

  it('counts each order once over any sequence of increments repeating orders (the ids kept as the ingest keeps them)', () => {
    const pool = fc.array(fc.record({ id: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), at: fc.integer({ min: -5, max: 5 }) }), { maxLength: 6 });
    fc.assert(
      fc.property(fc.array(pool, { maxLength: 8 }), (increments) => {
        // One time per order id, as the platform sends it (the first time drawn for it).
        const timeOf = new Map<string, number>();
        for (const increment of increments) for (const { id, at } of increment) if (!timeOf.has(id)) timeOf.set(id, at);
        const kept: string[] = [];
        let counted = 0;
        for (const increment of increments) {
          const distinct = new Map(increment.map(({ id }) => [id, order(id, timeOf.get(id) as number)]));
          const toCount = ordersToCount([...distinct.values()], { cutoff: 0, ids: kept });
          counted += toCount.length;
          kept.push(...toCount.map((o) => o.orderId));
        }
        // Exactly the distinct orders the night did not count (dated at or after its cut-off).
        expect(counted).toBe([...timeOf.values()].filter((at) => at >= 0).length);
        expect(new Set(kept).size).toBe(kept.length);
      }),
    );
  });
});

describe('a client\u2019s facts with some orders only', () => {
  const facts: ClientFacts = {
    customerId: 'c1',
    orders: [order('o1', 100), order('o2', 200), order('o3', 200)],
    categorySpendMinor: { leather: 30_000 },
    skus: [
      { sku: 'BAG', productName: 'Bag', purchases: [{ orderedAt: 100, quantity: 1 }, { orderedAt: 200, quantity: 2 }] },
      { sku: 'BELT', purchases: [{ orderedAt: 100, quantity: 1 }] },
    ],
  };

  it('keeps the SKU purchases of the kept orders and drops SKUs left with none', () => {
    const kept = factsWithOrders(facts, [order('o2', 200)]);
    expect(kept.orders.map((o) => o.orderId)).toEqual(['o2']);
    expect(kept.skus).toEqual([{ sku: 'BAG', productName: 'Bag', purchases: [{ orderedAt: 200, quantity: 2 }] }]);
    expect(facts.skus[0]?.purchases).toHaveLength(2);
  });

  it('is the same facts when every order is kept, and none when none is', () => {
    expect(factsWithOrders(facts, facts.orders)).toBe(facts);
    expect(factsWithOrders(facts, [])).toMatchObject({ orders: [], skus: [] });
  });
});
