import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { firstPurchaseOf, type OrderLine, type SkuPurchase } from '#shared/model.ts';
import { addDays, localDate } from '#shared/time.ts';
import { ClientAggregator } from '#shared/tiering/aggregate.ts';
import { computeProfiles, stockUpRuleOf, withLaterPurchase } from '#shared/tiering/profile.ts';
import { at } from '#test/support/time.ts';
import { config, customer, line } from './fixtures.ts';

/**
 * The hourly ingest moves a stored SKU purchase forward with an increment's later one
 * (withLaterPurchase); the next night computes it from all the orders (skuPurchasesOf). Until that
 * night the merged one must time the replenishment as the night will: a second unit the day after
 * the first stretches the stock-up, it does not start one of its own.
 */
const CONFIG = config(); // Asia/Shanghai; the replenishment's lead: 15 days
const RULE = stockUpRuleOf(CONFIG);
// A brand's short lead: purchases 3 days apart are two stock-ups.
const SHORT_LEAD = config({ campaigns: { campaigns: [{ kind: 'replenishment', timing: { daysBeforeRunOut: 3 } }] } });
const START = '2026-03-01';
const RUN = '2027-03-31'; // after every generated purchase (at most ~300 days from START)

const buy = (day: number, hour: number, quantity: number, n: number): OrderLine =>
  line({ orderId: `o${n}`, customerId: 'c1', sku: 'MINI', quantity, orderedAt: at(`${addDays(START, day)}T${String(hour).padStart(2, '0')}:00`, CONFIG.timeZone) });

// Clients in the brand's zone (no zone of their own) and in others, DST ones among them: her stock-ups are her own days.
const CLIENT_ZONES = [undefined, 'America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'Pacific/Chatham'] as const;

/** The products with MINI's catalogue cycle per unit, when it has one. */
const catalogWith = (replenishDays: number | undefined) => new Map(replenishDays === undefined ? [] : [['MINI', { replenishDays }]]);
/** The brand's rule with MINI's catalogue cycle. */
const ruleWith = (replenishDays: number) => stockUpRuleOf(CONFIG, undefined, catalogWith(replenishDays));

function purchaseOf(lines: readonly OrderLine[], cfg = CONFIG, timeZone?: string, catalogCycle?: number): SkuPurchase {
  const aggregator = new ClientAggregator();
  if (timeZone !== undefined) aggregator.addCustomer(customer('c1', { timeZone }));
  for (const orderLine of lines) aggregator.addOrderLine(orderLine);
  const [profile] = computeProfiles(aggregator.clients(), { runDate: RUN, config: cfg, catalog: catalogWith(catalogCycle) });
  const purchase = profile?.skus.MINI;
  if (purchase === undefined) throw new Error('no purchase of MINI');
  return purchase;
}

describe('an increment\'s later purchase of a stored SKU', () => {
  it('bought the day after the first unit extends its stock-up: the run-out is stretched, never brought earlier', () => {
    const stored = purchaseOf([buy(0, 11, 1, 1)]);
    const merged = withLaterPurchase('MINI', stored, purchaseOf([buy(1, 10, 1, 2)]), RULE);
    expect(merged).toEqual({ ...purchaseOf([buy(0, 11, 1, 1), buy(1, 10, 1, 2)]) });
    expect(merged).toMatchObject({ quantity: 2, purchases: 2, stockUpFrom: stored.lastPurchasedAt });
  });

  it('bought past the lead starts a stock-up of its own, the gap over the stored units the client\'s cycle when the night had none', () => {
    const stored = purchaseOf([buy(0, 11, 1, 1)]);
    const merged = withLaterPurchase('MINI', stored, purchaseOf([buy(17, 10, 1, 2)]), RULE);
    expect(merged).toEqual(purchaseOf([buy(0, 11, 1, 1), buy(17, 10, 1, 2)]));
    expect(merged.personalCycleDays).toBe(17);
  });

  it('bought in the reminder window of the catalogue\'s cycle (a 30-day unit reminded on day 15, bought again on day 16) teaches no cycle: the catalogue\'s stays in force, as the night has it', () => {
    const stored = purchaseOf([buy(0, 11, 1, 1)], CONFIG, undefined, 30);
    const merged = withLaterPurchase('MINI', stored, purchaseOf([buy(16, 10, 1, 2)], CONFIG, undefined, 30), ruleWith(30));
    expect(merged).toEqual(purchaseOf([buy(0, 11, 1, 1), buy(16, 10, 1, 2)], CONFIG, undefined, 30));
    expect(merged).toMatchObject({ purchases: 2, quantity: 1 });
    expect(merged.personalCycleDays).toBeUndefined();
    // Before the window (faster than the catalogue) or on the run-out day and after (slower), she teaches her own.
    const longer = purchaseOf([buy(0, 11, 1, 1)], CONFIG, undefined, 60);
    expect(withLaterPurchase('MINI', longer, purchaseOf([buy(20, 10, 1, 2)], CONFIG, undefined, 60), ruleWith(60)).personalCycleDays).toBe(20);
    expect(withLaterPurchase('MINI', stored, purchaseOf([buy(30, 10, 1, 2)], CONFIG, undefined, 30), ruleWith(30)).personalCycleDays).toBe(30);
  });

  it('is what the night computes from all the orders (its stock-up, units, first purchase ever and purchase days; the cycle while the night had at most one stock-up)', () => {
    // Days apart, a same-day purchase often: the profile keeps a day's last purchase, its first only as firstPurchasedAt.
    const gap = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 40 }));
    const purchases = fc.array(fc.record({ gap, hour: fc.integer({ min: 0, max: 23 }), quantity: fc.integer({ min: 1, max: 3 }) }), { minLength: 1, maxLength: 6 });
    // An hour's increment: one or two purchases within one stock-up (closer than the lead).
    const increment = fc.record({
      gap,
      hour: fc.integer({ min: 0, max: 23 }),
      quantity: fc.integer({ min: 1, max: 3 }),
      second: fc.option(fc.record({ gap: fc.integer({ min: 0, max: 14 }), quantity: fc.integer({ min: 1, max: 3 }) }), { nil: undefined }),
    });
    fc.assert(
      // With a catalogue cycle or without (a listed category's product): the one in force before hers.
      fc.property(purchases, increment, fc.constantFrom('lead 15', 'lead 3'), fc.constantFrom(...CLIENT_ZONES), fc.option(fc.integer({ min: 1, max: 45 }), { nil: undefined }), (history, incremental, lead, zone, catalogCycle) => {
        const cfg = lead === 'lead 3' ? SHORT_LEAD : CONFIG;
        // The stored purchases, one instant after another; then the increment's, later than all of them.
        let day = 0;
        let lastAt = Number.NEGATIVE_INFINITY;
        const storedLines: OrderLine[] = [];
        for (const [n, p] of history.entries()) {
          day += p.gap;
          const orderLine = buy(day, p.hour, p.quantity, n);
          if (orderLine.orderedAt <= lastAt) continue;
          lastAt = orderLine.orderedAt;
          storedLines.push(orderLine);
        }
        const first = buy(day + incremental.gap, incremental.hour, incremental.quantity, 100);
        fc.pre(first.orderedAt > lastAt);
        const incrementLines = [first];
        const rule = stockUpRuleOf(cfg, zone, catalogWith(catalogCycle));
        // Closer than the lead in her days as in the brand's: at most lead - 2 brand days after the first.
        if (incremental.second !== undefined) incrementLines.push(buy(day + incremental.gap + Math.min(incremental.second.gap, rule.stockUpDays - 2), 22, incremental.second.quantity, 101));
        const second = incrementLines[1];
        fc.pre(second === undefined || second.orderedAt > first.orderedAt);
        const stored = purchaseOf(storedLines, cfg, zone, catalogCycle);
        const merged = withLaterPurchase('MINI', stored, purchaseOf(incrementLines, cfg, zone, catalogCycle), rule);
        const whole = purchaseOf([...storedLines, ...incrementLines], cfg, zone, catalogCycle);
        // The stock-up's start by its local day, which times the run-out (runOutDay): a stored stock-up of one day keeps its
        // last purchase, not its first, so the instant may be another purchase of that same day.
        const startDay = (purchase: SkuPurchase) => (purchase.stockUpFrom === undefined ? undefined : localDate(Date.parse(purchase.stockUpFrom), rule.timeZone));
        const { personalCycleDays: mergedCycle, stockUpFrom: _mergedFrom, ...mergedStockUp } = merged;
        const { personalCycleDays: wholeCycle, stockUpFrom: _wholeFrom, ...wholeStockUp } = whole;
        // firstPurchasedAt included: the same field, written or left out alike (what the first order bought).
        expect(mergedStockUp).toEqual(wholeStockUp);
        expect(firstPurchaseOf(merged)).toBe(firstPurchaseOf(whole));
        expect(startDay(merged)).toBe(startDay(whole));
        if (stored.personalCycleDays === undefined) expect(mergedCycle).toBe(wholeCycle);
        else expect(mergedCycle).toBe(stored.personalCycleDays);
      }),
      { numRuns: 1000 },
    );
  });
});
