import { describe, expect, it } from 'vitest';
import type { OrderLine, SkuPurchase } from '#shared/model.ts';
import { runOutDay } from '#shared/campaigns/triggers.ts';
import { ClientAggregator } from '#shared/tiering/aggregate.ts';
import { computeProfiles, stockUpRuleOf, withLaterPurchase } from '#shared/tiering/profile.ts';
import { at } from '#test/support/time.ts';
import { config, customer, line } from './fixtures.ts';

/**
 * A client's stock-ups and personal cycle are counted in her own local days, the days runOutDay
 * adds the cycle to (README, the campaigns: "due on the client's local day ... a client buying one
 * jar every 30 days is reminded on their own 30 days"); the brand's days when she has no zone.
 */
const PARIS = config({ timeZone: 'Europe/Paris' }); // lead: 15 days
const TOKYO = config({ timeZone: 'Asia/Tokyo' });
const NY = 'America/New_York';
const LONDON = 'Europe/London';
const TRIGGER = { daysBefore: 15, replenishableCategories: [] as string[] };

const buy = (n: number, orderedAt: number, quantity = 1): OrderLine => line({ orderId: `o${n}`, customerId: 'c1', sku: 'S', quantity, orderedAt });

function purchaseOf(lines: readonly OrderLine[], cfg: typeof PARIS, runDate: string, timeZone?: string, stockUpTimeZone?: string): SkuPurchase {
  const aggregator = new ClientAggregator();
  if (timeZone !== undefined) aggregator.addCustomer(customer('c1', { timeZone }));
  for (const orderLine of lines) aggregator.addOrderLine(orderLine);
  const context = { runDate, config: cfg, ...(stockUpTimeZone === undefined ? {} : { stockUpTimeZoneOf: () => stockUpTimeZone }) };
  const purchase = computeProfiles(aggregator.clients(), context)[0]?.skus.S;
  if (purchase === undefined) throw new Error('no purchase of S');
  return purchase;
}

describe('stock-ups in the client\'s own days', () => {
  // Her 2026-02-15 18:30 (Paris 02-16 00:30) and her 2026-03-09 05:30 (Paris 10:30): 22 of her days, 21 of Paris's.
  const serum = [buy(1, at('2026-02-15 18:30', NY)), buy(2, at('2026-03-09 05:30', NY))];

  it('a Paris brand\'s New York client: her cycle is 22 of her days, and the reminder due on her 03-16', () => {
    const purchase = purchaseOf(serum, PARIS, '2026-03-09', NY);
    expect(purchase).toMatchObject({ personalCycleDays: 22, purchases: 2, quantity: 1 });
    expect(runOutDay(TRIGGER, purchase, { sku: 'S', replenishDays: 45 }, NY)?.runOutDate).toBe('2026-03-31');
    // The same orders of a client without a zone of her own: the brand's days.
    expect(purchaseOf(serum, PARIS, '2026-03-09').personalCycleDays).toBe(21);
  });

  it('a zone the platform does not know counts in the brand\'s days, as clientTimeZone does', () => {
    expect(purchaseOf(serum, PARIS, '2026-03-09', undefined, 'Mars/Olympus_Mons').personalCycleDays).toBe(21);
    expect(stockUpRuleOf(PARIS, 'Mars/Olympus_Mons').timeZone).toBe('Europe/Paris');
    expect(stockUpRuleOf(PARIS, '').timeZone).toBe('Europe/Paris');
    expect(stockUpRuleOf(PARIS, NY).timeZone).toBe(NY);
  });

  it('a Tokyo brand\'s London client: 15 of her days apart is a 15-day cycle, no longer than the lead: no reminder (16 Tokyo days gave one the day after)', () => {
    const sunscreen = [buy(1, at('2026-10-08 01:00', LONDON)), buy(2, at('2026-10-23 19:00', LONDON))];
    const purchase = purchaseOf(sunscreen, TOKYO, '2026-10-24', LONDON);
    expect(purchase).toMatchObject({ quantity: 1, purchases: 2, personalCycleDays: 15 });
    expect(runOutDay(TRIGGER, purchase, { sku: 'S', replenishDays: 90 }, LONDON)).toBeUndefined();
    const inTokyoDays = purchaseOf(sunscreen, TOKYO, '2026-10-24');
    expect(inTokyoDays.personalCycleDays).toBe(16);
    expect(runOutDay(TRIGGER, inTokyoDays, { sku: 'S', replenishDays: 90 }, LONDON)?.runOutDate).toBe('2026-11-08');
  });

  it('two orders on one of her days are one purchase day, though they fall on two of the brand\'s', () => {
    // Her 10:00 and 19:00 on 02-15: Paris 16:00 on the 15th and 01:00 on the 16th.
    const sameDay = [buy(1, at('2026-02-15 10:00', NY)), buy(2, at('2026-02-15 19:00', NY))];
    const purchase = purchaseOf(sameDay, PARIS, '2026-02-20', NY);
    expect(purchase).toMatchObject({ purchases: 1, quantity: 2 });
    expect(purchase.stockUpFrom).toBeUndefined();
    expect(purchaseOf(sameDay, PARIS, '2026-02-20')).toMatchObject({ purchases: 2, quantity: 2, stockUpFrom: new Date(sameDay[0]!.orderedAt).toISOString() });
  });

  it('counts her days across her clock change (New York falls back on 2026-11-01)', () => {
    // Her 2026-10-31 23:30 and 2026-11-30 00:30: 30 of her days; Paris's (UTC+1 then, 05:30 and 06:30) also 30, but her 23:30 the
    // day before the change is Paris's next day: her 10-31 23:30 and her 11-30 22:30 are 30 of hers, 31 of Paris's.
    const jar = [buy(1, at('2026-10-31 23:30', NY)), buy(2, at('2026-11-30 22:30', NY))];
    expect(purchaseOf(jar, PARIS, '2026-12-01', NY).personalCycleDays).toBe(30);
    expect(purchaseOf(jar, PARIS, '2026-12-01').personalCycleDays).toBe(30);
    const later = [buy(1, at('2026-10-31 17:30', NY)), buy(2, at('2026-11-30 19:30', NY))];
    // 17:30 EDT is Paris 22:30; 19:30 EST is Paris 01:30 the next day: 30 of hers, 31 of Paris's.
    expect(purchaseOf(later, PARIS, '2026-12-01', NY).personalCycleDays).toBe(30);
    expect(purchaseOf(later, PARIS, '2026-12-01').personalCycleDays).toBe(31);
  });

  it('the hourly merge groups her later purchase in her days as the night does', () => {
    const stored = purchaseOf([serum[0]!], PARIS, '2026-03-08', NY);
    const increment = purchaseOf([serum[1]!], PARIS, '2026-03-09', NY);
    const merged = withLaterPurchase('S', stored, increment, stockUpRuleOf(PARIS, NY));
    expect(merged.personalCycleDays).toBe(22);
    expect(merged).toEqual(purchaseOf(serum, PARIS, '2026-03-09', NY));
  });
});
