import { describe, expect, it } from 'vitest';
import { dueOccasions, type ProductCatalog } from '#shared/campaigns/due.ts';
import type { CampaignsConfigInput } from '#shared/campaigns/schema.ts';
import type { ClientProfile, OrderLine } from '#shared/model.ts';
import { ClientAggregator } from '#shared/tiering/aggregate.ts';
import { cyclesInForce, EMPTY_CYCLE_HISTORY, historyAfterNight, historyFromCatalogue, type CycleHistory } from '#shared/tiering/cycle-history.ts';
import { computeProfiles } from '#shared/tiering/profile.ts';
import { addDays, daysBetweenDates } from '#shared/time.ts';
import { at } from '#test/support/time.ts';
import { context } from '../campaigns/fixtures.ts';
import { config, customer, line } from './fixtures.ts';

/**
 * The cycle history: what timed the run-out reminders night by night, so that a past stock-up is
 * judged by the catalogue cycle and the lead of its own day, not tonight's (found by the
 * attack-replen pass, probe 1: a catalogue edit turned every answered restock into a short cycle).
 */

const SH = 'Asia/Shanghai';
const day = (date: string) => daysBetweenDates('1970-01-01', date);
const products = (cycles: Record<string, number | undefined>) => new Map(Object.entries(cycles).map(([sku, replenishDays]) => [sku, replenishDays === undefined ? {} : { replenishDays }]));
const tonight = (cycles: Record<string, number>, answerDays = 15) => ({ catalogCycleOf: (sku: string) => cycles[sku], answerDays, stockUpDays: 15 });
const LEADS_15 = { answerDays: 15, stockUpDays: 15 };

describe('historyAfterNight', () => {
  it('records a night\'s cycles, answer window and stock-up grouping only where they change; a SKU without a cycle, or dropped from the products, has none', () => {
    let history = historyAfterNight(EMPTY_CYCLE_HISTORY, '2026-01-01', products({ CREAM: 30, SERUM: 60, BAG: undefined }), LEADS_15);
    const first = { skus: { CREAM: [['2026-01-01', 30]], SERUM: [['2026-01-01', 60]], BAG: [['2026-01-01', null]] }, answerDays: [['2026-01-01', 15]], stockUpDays: [['2026-01-01', 15]] };
    expect(history).toEqual(first);
    history = historyAfterNight(history, '2026-01-02', products({ CREAM: 30, SERUM: 60, BAG: undefined }), LEADS_15);
    expect(history).toEqual(first);
    history = historyAfterNight(history, '2026-02-05', products({ CREAM: 60, BAG: 400 }), { answerDays: 7, stockUpDays: 3 });
    expect(history).toEqual({
      skus: { CREAM: [['2026-01-01', 30], ['2026-02-05', 60]], SERUM: [['2026-01-01', 60], ['2026-02-05', null]], BAG: [['2026-01-01', null], ['2026-02-05', 400]] },
      answerDays: [['2026-01-01', 15], ['2026-02-05', 7]],
      stockUpDays: [['2026-01-01', 15], ['2026-02-05', 3]],
    });
    // Before the night it got one, the bag had no cycle: its gaps then were the client's own.
    expect(cyclesInForce(history, '2026-03-01', tonight({ BAG: 400 })).catalogCycleOn('BAG', day('2026-02-01'))).toBeUndefined();
  });

  it('a night without products keeps the stored cycles; a rerun replaces its own night\'s entries (and drops one that changes nothing)', () => {
    const history: CycleHistory = { skus: { CREAM: [['2026-01-01', 30], ['2026-02-05', 60]] }, answerDays: [['2026-01-01', 15]], stockUpDays: [['2026-01-01', 15]] };
    expect(historyAfterNight(history, '2026-02-06', undefined, LEADS_15)).toEqual(history);
    expect(historyAfterNight(history, '2026-02-05', products({ CREAM: 45 }), LEADS_15).skus.CREAM).toEqual([['2026-01-01', 30], ['2026-02-05', 45]]);
    expect(historyAfterNight(history, '2026-02-05', products({ CREAM: 30 }), LEADS_15).skus.CREAM).toEqual([['2026-01-01', 30]]);
    // A history from before the grouping was kept gets it from the next night.
    const older: CycleHistory = { skus: { CREAM: [['2026-01-01', 30]] }, answerDays: [['2026-01-01', 15]] };
    expect(historyAfterNight(older, '2026-02-06', undefined, LEADS_15).stockUpDays).toEqual([['2026-02-06', 15]]);
  });

  it('begun from the catalogue before a night (an upgrade from a version before the history): the old cycles hold until that night\'s own entry', () => {
    const seed = historyFromCatalogue(products({ CREAM: 30, BAG: undefined }), '2026-04-06');
    expect(seed).toEqual({ skus: { CREAM: [['2026-04-06', 30]], BAG: [['2026-04-06', null]] }, answerDays: [] });
    const after = historyAfterNight(seed, '2026-04-07', products({ CREAM: 60, BAG: undefined }), LEADS_15);
    expect(after.skus).toEqual({ CREAM: [['2026-04-06', 30], ['2026-04-07', 60]], BAG: [['2026-04-06', null]] });
    const cycles = cyclesInForce(after, '2026-04-09', { catalogCycleOf: () => 60, answerDays: 15, stockUpDays: 15 });
    expect([cycles.catalogCycleOn('CREAM', daysBetweenDates('1970-01-01', '2026-04-07')), cycles.catalogCycleOn('CREAM', daysBetweenDates('1970-01-01', '2026-04-08'))]).toEqual([30, 60]);
  });
});

describe('cyclesInForce', () => {
  const history: CycleHistory = { skus: { CREAM: [['2026-01-10', 30], ['2026-02-05', 60]], SERUM: [['2026-01-10', 60], ['2026-02-05', null]] }, answerDays: [['2026-01-10', 15], ['2026-02-05', 3]] };

  it('a day\'s value is the last night\'s before it; before the history began, its first; a SKU it never knew, tonight\'s', () => {
    const cycles = cyclesInForce(history, '2026-03-01', tonight({ CREAM: 90, NEW: 20 }, 30));
    expect([day('2026-01-01'), day('2026-01-10'), day('2026-01-11'), day('2026-02-05'), day('2026-02-06')].map((d) => cycles.catalogCycleOn('CREAM', d))).toEqual([30, 30, 30, 30, 60]);
    expect(cycles.catalogCycleOn('SERUM', day('2026-02-06'))).toBeUndefined();
    expect(cycles.catalogCycleOn('NEW', day('2026-01-01'))).toBe(20);
    expect([day('2026-01-01'), day('2026-02-05'), day('2026-02-06')].map((d) => cycles.answerDaysOn(d))).toEqual([15, 15, 3]);
  });

  it('a SKU the products listed only after the history began had no catalogue cycle before its first entry', () => {
    const later: CycleHistory = { skus: { CREAM: [['2025-11-01', 30]], PERFUME: [['2026-02-05', 60]] }, answerDays: [['2025-11-01', 15]] };
    const cycles = cyclesInForce(later, '2026-02-10', tonight({ CREAM: 30, PERFUME: 60 }));
    expect([day('2026-01-20'), day('2026-02-05'), day('2026-02-06')].map((d) => cycles.catalogCycleOn('PERFUME', d))).toEqual([undefined, undefined, 60]);
    expect(cycles.changeDaysBetween('PERFUME', day('2026-01-01'), day('2026-03-01'))).toEqual([day('2026-02-06')]);
  });

  it('names the days a SKU\'s cycle or the answer window took another value, none without a change', () => {
    const cycles = cyclesInForce(history, '2026-03-01', tonight({ CREAM: 90 }));
    expect(cycles.changeDaysBetween('CREAM', day('2026-01-01'), day('2026-03-01'))).toEqual([day('2026-02-06')]);
    expect(cycles.changeDaysBetween('CREAM', day('2026-02-06'), day('2026-03-01'))).toEqual([]);
    expect(cycles.changeDaysBetween('OTHER', day('2026-01-01'), day('2026-03-01'))).toEqual([day('2026-02-06')]);
    const leadOnly: CycleHistory = { skus: { CREAM: [['2026-01-10', 30], ['2026-02-10', 45]] }, answerDays: [['2026-01-10', 15], ['2026-02-05', 3]] };
    expect(cyclesInForce(leadOnly, '2026-03-01', tonight({})).changeDaysBetween('CREAM', day('2026-01-01'), day('2026-03-01'))).toEqual([day('2026-02-06'), day('2026-02-11')]);
  });

  it('a night reads only the entries of nights before its own: its rerun is judged as its first run was', () => {
    const rerun = cyclesInForce(history, '2026-02-05', tonight({ CREAM: 45 }, 30));
    expect(rerun.catalogCycleOn('CREAM', day('2026-02-06'))).toBe(30);
    expect(rerun.answerDaysOn(day('2026-02-06'))).toBe(15);
    // With no entry before it (the first night with a history), tonight's values.
    const first = cyclesInForce(history, '2026-01-10', tonight({ CREAM: 45 }, 30));
    expect(first.catalogCycleOn('CREAM', day('2026-01-09'))).toBe(45);
    expect(first.answerDaysOn(day('2026-01-09'))).toBe(30);
  });
});

describe('the night\'s stock-ups judged by the history', () => {
  const cream = (id: string, date: string) =>
    line({ orderId: id, customerId: 'c', orderedAt: at(`${date}T10:00`, SH), sku: 'CREAM', productName: 'Night Cream', category: 'skin', quantity: 1, lineTotalMinor: 12_000 });
  const creamLasting = (days: number): ProductCatalog => new Map([['CREAM', { sku: 'CREAM', name: 'Night Cream', category: 'skin', replenishDays: days }]]);
  // Under the 30-day cream and the 15-day lead since 2025-12-01: bought 01-01, reminded 01-16, bought 01-17; reminded 02-01, bought 02-02.
  const ANSWERED = [cream('a', '2026-01-01'), cream('b', '2026-01-17'), cream('c', '2026-02-02')];
  const HISTORY: CycleHistory = { skus: { CREAM: [['2025-12-01', 30]] }, answerDays: [['2025-12-01', 15]] };

  function profileOf(lines: OrderLine[], runDate: string, catalog: ProductCatalog, campaigns: CampaignsConfigInput, cycleHistory?: CycleHistory): ClientProfile {
    const aggregator = new ClientAggregator();
    for (const orderLine of lines) aggregator.addOrderLine(orderLine);
    const [profile] = computeProfiles(aggregator.clients(), { runDate, config: config({ timeZone: SH, campaigns }), catalog, ...(cycleHistory ? { cycleHistory } : {}) });
    return { ...(profile as ClientProfile), acceptsMarketing: true, timeZone: SH };
  }

  function firstDueDay(profile: ClientProfile, catalog: ProductCatalog, campaigns: CampaignsConfigInput): string | undefined {
    const ctx = context(campaigns, SH);
    for (let date = '2026-02-06'; date < '2026-12-31'; date = addDays(date, 1)) {
      if (dueOccasions(profile, catalog, at(`${date}T12:00`, SH), ctx).some((o) => o.campaignId === 'replenishment')) return date;
    }
    return undefined;
  }

  const LEAD_15: CampaignsConfigInput = { campaigns: [{ kind: 'replenishment' }] };
  const LEAD_3: CampaignsConfigInput = { campaigns: [{ kind: 'replenishment', timing: { daysBeforeRunOut: 3 } }] };

  it('the cream changed to 60 days on the night of 02-05: her answered restocks stay answered, the next reminder 15 days before 60 days from 02-02 (before: a 16-day cycle, due 02-06)', () => {
    const catalog = creamLasting(60);
    const profile = profileOf(ANSWERED, '2026-02-05', catalog, LEAD_15, HISTORY);
    expect(profile.skus.CREAM?.personalCycleDays).toBeUndefined();
    expect(firstDueDay(profile, catalog, LEAD_15)).toBe('2026-03-19');
    // Without the history (tonight's cycles on every day), the restocks leave the new window.
    expect(profileOf(ANSWERED, '2026-02-05', catalog, LEAD_15).skus.CREAM?.personalCycleDays).toBe(16);
  });

  it('the lead shortened to 3 days: her answered restocks stay answered, the next reminder 3 days before 30 days from 02-02 (before: 02-15)', () => {
    const catalog = creamLasting(30);
    const profile = profileOf(ANSWERED, '2026-02-05', catalog, LEAD_3, HISTORY);
    expect(profile.skus.CREAM?.personalCycleDays).toBeUndefined();
    expect(firstDueDay(profile, catalog, LEAD_3)).toBe('2026-03-01');
  });

  it('a restock answering a reminder due under the old cycle stays answered after the night that changed it (30 → 60 the night of 01-17, reminded 01-16, bought 01-19: before, an 18-day cycle and "time to restock" 01-22)', () => {
    const history: CycleHistory = { skus: { CREAM: [['2025-12-01', 30], ['2026-01-17', 60]] }, answerDays: [['2025-12-01', 15]] };
    const profile = profileOf([cream('a', '2026-01-01'), cream('b', '2026-01-19')], '2026-01-19', creamLasting(60), LEAD_15, history);
    expect(profile.skus.CREAM?.personalCycleDays).toBeUndefined();
    expect(firstDueDay(profile, creamLasting(60), LEAD_15)).toBe('2026-03-05');
    // The cream left out of one night's products (an out-of-stock day), back the next: the restock of 01-18 answered the 01-16 reminder.
    const gap: CycleHistory = { skus: { CREAM: [['2025-12-01', 30], ['2026-01-17', null], ['2026-01-18', 30]] }, answerDays: [['2025-12-01', 15]] };
    expect(profileOf([cream('a', '2026-01-01'), cream('b', '2026-01-18')], '2026-01-18', creamLasting(30), LEAD_15, gap).skus.CREAM?.personalCycleDays).toBeUndefined();
    // After its old run-out she was late, not prompted: bought 02-03 (day 33 of a cycle that was 30 when reminded), she teaches 33.
    expect(profileOf([cream('a', '2026-01-01'), cream('b', '2026-02-03')], '2026-02-03', creamLasting(60), LEAD_15, history).skus.CREAM?.personalCycleDays).toBe(33);
  });

  it('a restock on the day a change took effect counts under the values before it too: the night that made it ran during that day', () => {
    // A Los Angeles brand's night of 01-16 ran at 02:00 on 01-17 in LA, 23:00 on her 01-17 in Auckland: she was reminded and restocked under the 30 days.
    const NZ = 'Pacific/Auckland';
    const history: CycleHistory = { skus: { CREAM: [['2025-12-01', 30], ['2026-01-16', 60]] }, answerDays: [['2025-12-01', 15]] };
    const aggregator = new ClientAggregator();
    aggregator.addCustomer(customer('c', { timeZone: NZ }));
    for (const [id, time] of [['a', '2026-01-02T10:00'], ['b', '2026-01-17T12:00']] as const) {
      aggregator.addOrderLine(line({ orderId: id, customerId: 'c', orderedAt: at(time, NZ), sku: 'CREAM', quantity: 1, lineTotalMinor: 12_000 }));
    }
    const [profile] = computeProfiles(aggregator.clients(), { runDate: '2026-01-17', config: config({ timeZone: 'America/Los_Angeles', campaigns: LEAD_15 }), catalog: creamLasting(60), cycleHistory: history });
    expect(profile?.skus.CREAM?.personalCycleDays).toBeUndefined();
  });

  it('a shorter lead does not split a stock-up bought under the longer one (two jars 01-20 and 01-30 under 15 days, the lead 7 from the night of 02-05: before, a 10-day cycle and "time to restock" 02-06)', () => {
    const LEAD_7: CampaignsConfigInput = { campaigns: [{ kind: 'replenishment', timing: { daysBeforeRunOut: 7 } }] };
    const history: CycleHistory = { skus: { CREAM: [['2025-12-01', 30]] }, answerDays: [['2025-12-01', 15], ['2026-02-05', 7]], stockUpDays: [['2025-12-01', 15], ['2026-02-05', 7]] };
    const jars = [cream('a', '2026-01-20'), cream('b', '2026-01-30')];
    const profile = profileOf(jars, '2026-02-05', creamLasting(30), LEAD_7, history);
    expect(profile.skus.CREAM).toMatchObject({ quantity: 2 });
    expect(profile.skus.CREAM?.personalCycleDays).toBeUndefined();
    expect(firstDueDay(profile, creamLasting(30), LEAD_7)).toBe('2026-03-14');
    // Bought 10 days apart under the 7-day lead, they are two stock-ups: the gap is her cycle.
    expect(profileOf([cream('a', '2026-02-20'), cream('b', '2026-03-02')], '2026-03-05', creamLasting(30), LEAD_7, history).skus.CREAM).toMatchObject({ quantity: 1, personalCycleDays: 10 });
  });

  it('a restock after the change is judged by the new cycle: bought 20 days after the 60-day cream\'s start, she teaches 20', () => {
    const history: CycleHistory = { skus: { CREAM: [['2025-12-01', 30], ['2026-02-05', 60]] }, answerDays: [['2025-12-01', 15]] };
    const lines = [...ANSWERED, cream('d', '2026-02-22')];
    // 02-02 → 02-22: 20 days, under the 60-day cycle in force from 02-06 (window days 45-59): her own 20.
    expect(profileOf(lines, '2026-02-22', creamLasting(60), LEAD_15, history).skus.CREAM?.personalCycleDays).toBe(20);
  });
});
