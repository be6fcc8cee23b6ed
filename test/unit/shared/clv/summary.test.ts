import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { calibrationEndDate, DAYS_PER_UNIT, summarise, type RfmSummary, type SummaryRules } from '#shared/clv/summary.ts';
import type { OrderFact } from '#shared/model.ts';
import { daysBetweenDates, localDate } from '#shared/time.ts';
import { runClock } from '#shared/tiering/profile.ts';

const at = (iso: string): number => Date.parse(iso);
const days: SummaryRules = { unit: 'days', countZeroValueOrders: true };
const weeks: SummaryRules = { unit: 'weeks', countZeroValueOrders: true };
const positiveOnly: SummaryRules = { unit: 'days', countZeroValueOrders: false };

describe('summarise', () => {
  // Midnight starting 1 March in Shanghai, exclusive: the calibration period ends on 28 February.
  const end = at('2025-03-01T00:00:00+08:00');

  it('counts distinct local purchase days, summing same-day orders; T runs to the calibration end date', () => {
    const orders = [
      { orderedAt: at('2025-01-01T10:00:00+08:00'), netMinor: 10_000 },
      { orderedAt: at('2025-01-11T09:00:00+08:00'), netMinor: 3_000 },
      { orderedAt: at('2025-01-11T21:00:00+08:00'), netMinor: 2_000 }, // same day: one purchase of 5 000
      { orderedAt: at('2025-02-10T12:00:00+08:00'), netMinor: 7_000 },
    ];
    // lifetimes: frequency 2, recency 40 (1 Jan → 10 Feb), T 58 (1 Jan → 28 Feb), monetary (5 000 + 7 000) / 2.
    expect(summarise(orders, end, days, 'Asia/Shanghai')).toEqual({
      frequency: 2,
      recency: 40,
      T: 58,
      monetaryValue: 6_000,
    });
    const inWeeks = summarise(orders, end, weeks, 'Asia/Shanghai');
    expect(inWeeks?.recency).toBeCloseTo(40 / 7, 12);
    expect(inWeeks?.T).toBeCloseTo(58 / 7, 12);
  });

  it('uses local dates in the given time zone', () => {
    // 23:30 and 00:30 UTC+8 the next day are one UTC day but two Shanghai days.
    const orders = [
      { orderedAt: at('2025-01-01T15:30:00Z'), netMinor: 100 },
      { orderedAt: at('2025-01-01T16:30:00Z'), netMinor: 200 },
    ];
    expect(summarise(orders, end, days, 'Asia/Shanghai')?.frequency).toBe(1);
    expect(summarise(orders, end, days, 'UTC')?.frequency).toBe(0);
  });

  it('counts zero-value orders as purchases (their days pull the repeat mean down), negative ones never', () => {
    const orders = [
      { orderedAt: at('2025-01-05T10:00:00+08:00'), netMinor: 0 },
      { orderedAt: at('2025-01-06T10:00:00+08:00'), netMinor: 4_000 },
      { orderedAt: at('2025-01-07T10:00:00+08:00'), netMinor: 0 },
      { orderedAt: at('2025-01-08T10:00:00+08:00'), netMinor: -500 },
    ];
    expect(summarise(orders, end, days, 'Asia/Shanghai')).toEqual({ frequency: 2, recency: 2, T: 54, monetaryValue: 2_000 });
    // A client whose only order is worth 0 is a buyer with T from that day.
    expect(summarise(orders.slice(0, 1), end, days, 'Asia/Shanghai')).toEqual({ frequency: 0, recency: 0, T: 54, monetaryValue: 0 });
  });

  it('with countZeroValueOrders false, keeps the older rule: only a positive net is a purchase', () => {
    const orders = [
      { orderedAt: at('2025-01-05T10:00:00+08:00'), netMinor: 0 },
      { orderedAt: at('2025-01-06T10:00:00+08:00'), netMinor: 4_000 },
      { orderedAt: end, netMinor: 9_000 },
      { orderedAt: at('2025-03-02T10:00:00+08:00'), netMinor: 9_000 },
    ];
    expect(summarise(orders, end, positiveOnly, 'Asia/Shanghai')).toEqual({ frequency: 0, recency: 0, T: 53, monetaryValue: 0 });
    expect(summarise(orders.slice(0, 1), end, positiveOnly, 'Asia/Shanghai')).toBeUndefined();
  });

  it('leaves out orders at or after the calibration end', () => {
    const orders = [
      { orderedAt: at('2025-01-06T10:00:00+08:00'), netMinor: 4_000 },
      { orderedAt: end, netMinor: 9_000 },
      { orderedAt: at('2025-03-02T10:00:00+08:00'), netMinor: 9_000 },
    ];
    expect(summarise(orders, end, days, 'Asia/Shanghai')).toEqual({ frequency: 0, recency: 0, T: 53, monetaryValue: 0 });
  });

  it('is undefined without a purchase and gives T = 0 for a client who first bought on the last day', () => {
    expect(summarise([], end, days, 'UTC')).toBeUndefined();
    expect(summarise([{ orderedAt: at('2025-01-05T10:00:00Z'), netMinor: -50 }], end, days, 'UTC')).toBeUndefined();
    // Calibration end is local midnight: the last hour belongs to 28 Feb, the calibration end date.
    const lastDay = summarise([{ orderedAt: end - 3_600_000, netMinor: 500 }], end, days, 'Asia/Shanghai');
    expect(lastDay).toEqual({ frequency: 0, recency: 0, T: 0, monetaryValue: 0 });
    const midday = at('2025-03-01T14:00:00+08:00');
    expect(summarise([{ orderedAt: midday - 3_600_000, netMinor: 500 }], midday, days, 'Asia/Shanghai')?.T).toBe(0);
  });

  it('measures T to the run date with the nightly clock (the start of the next day), as the CLI to --calibration-end', () => {
    const { now } = runClock('2025-02-28', 'Asia/Shanghai');
    expect(now).toBe(end);
    expect(calibrationEndDate(now, 'Asia/Shanghai')).toBe('2025-02-28');
    const orders = [
      { orderedAt: at('2025-02-01T10:00:00+08:00'), netMinor: 1_000 },
      { orderedAt: at('2025-02-28T23:59:00+08:00'), netMinor: 2_000 },
    ];
    expect(summarise(orders, now, days, 'Asia/Shanghai')).toEqual({ frequency: 1, recency: 27, T: 27, monetaryValue: 2_000 });
  });
});

describe('summarise: zero-value orders kept or taken back', () => {
  const end = Date.UTC(2026, 2, 1);
  const day = (d: number) => Date.UTC(2026, 1, d, 4);
  const rules = { unit: 'days' as const, countZeroValueOrders: true };
  it('counts a kept order of value 0 (a free sample) as a purchase, never a cancelled or fully refunded one', () => {
    const first = { orderedAt: day(1), netMinor: 5000 };
    expect(summarise([first, { orderedAt: day(10), netMinor: 0 }], end, rules, 'UTC')?.frequency).toBe(1);
    expect(summarise([first, { orderedAt: day(10), netMinor: 0, takenBack: true }], end, rules, 'UTC')?.frequency).toBe(0);
    expect(summarise([{ orderedAt: day(10), netMinor: 0, takenBack: true }], end, rules, 'UTC')).toBeUndefined();
  });
});

/**
 * summarise as it was written first, on local date strings (localDate, daysBetweenDates): the
 * day-number version must give the same summaries, to the bit.
 */
function summariseOnDateStrings(
  orders: readonly Pick<OrderFact, 'orderedAt' | 'netMinor' | 'takenBack'>[],
  calibrationEnd: number,
  rules: SummaryRules,
  timeZone: string,
): RfmSummary | undefined {
  const byDate = new Map<string, number>();
  for (const order of orders) {
    const purchase = order.netMinor > 0 || (rules.countZeroValueOrders && order.netMinor === 0 && order.takenBack !== true);
    if (!purchase || !(order.orderedAt < calibrationEnd)) continue;
    const date = localDate(order.orderedAt, timeZone);
    byDate.set(date, (byDate.get(date) ?? 0) + order.netMinor);
  }
  if (byDate.size === 0) return undefined;
  const dates = [...byDate.keys()].sort();
  const first = dates[0] as string;
  const last = dates[dates.length - 1] as string;
  const perUnit = DAYS_PER_UNIT[rules.unit];
  const frequency = dates.length - 1;
  let repeatTotal = 0;
  for (let i = 1; i < dates.length; i++) repeatTotal += byDate.get(dates[i] as string) ?? 0;
  return {
    frequency,
    recency: daysBetweenDates(first, last) / perUnit,
    T: daysBetweenDates(first, calibrationEndDate(calibrationEnd, timeZone)) / perUnit,
    monetaryValue: frequency > 0 ? repeatTotal / frequency : 0,
  };
}

describe('summarise on day numbers', () => {
  // Zones with DST at night, at midnight (Santiago), by 30 minutes (Lord Howe), odd offsets, none.
  const zones = ['UTC', 'Asia/Shanghai', 'Europe/Paris', 'America/New_York', 'America/Santiago', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'Pacific/Apia'];
  const from = Date.UTC(2008, 0, 1);
  const to = Date.UTC(2027, 0, 1);
  // Near DST transitions as often as anywhere: instants on a quarter hour, plus or minus a second.
  const instant = fc.oneof(
    fc.integer({ min: from, max: to }),
    fc.integer({ min: from / 900_000, max: to / 900_000 }).chain((q) => fc.integer({ min: -1000, max: 1000 }).map((d) => q * 900_000 + d)),
  );
  const order = fc.record(
    { orderedAt: instant, netMinor: fc.oneof(fc.constant(0), fc.integer({ min: -5_000, max: 500_000 })), takenBack: fc.constant(true as const) },
    { requiredKeys: ['orderedAt', 'netMinor'] },
  );

  it('gives the summaries the date-string version gives', () => {
    fc.assert(
      fc.property(
        fc.array(order, { maxLength: 30 }),
        instant,
        fc.constantFrom(...zones),
        fc.record({ unit: fc.constantFrom('days' as const, 'weeks' as const), countZeroValueOrders: fc.boolean() }),
        (orders, calibrationEnd, timeZone, rules) => {
          // Orders of one client fall within a few years; some straddle the calibration end.
          expect(summarise(orders, calibrationEnd, rules, timeZone)).toEqual(summariseOnDateStrings(orders, calibrationEnd, rules, timeZone));
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
