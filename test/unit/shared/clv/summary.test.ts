import { describe, expect, it } from 'vitest';
import { calibrationEndDate, summarise, type SummaryRules } from '#shared/clv/summary.ts';
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
