import { describe, expect, it } from 'vitest';
import { summarise } from '#shared/clv/summary.ts';

const at = (iso: string): number => Date.parse(iso);

describe('summarise', () => {
  const end = at('2025-03-01T00:00:00+08:00'); // midnight starting 1 March in Shanghai

  it('counts distinct local purchase days, summing same-day orders', () => {
    const orders = [
      { orderedAt: at('2025-01-01T10:00:00+08:00'), netMinor: 10_000 },
      { orderedAt: at('2025-01-11T09:00:00+08:00'), netMinor: 3_000 },
      { orderedAt: at('2025-01-11T21:00:00+08:00'), netMinor: 2_000 }, // same day: one purchase of 5 000
      { orderedAt: at('2025-02-10T12:00:00+08:00'), netMinor: 7_000 },
    ];
    expect(summarise(orders, end, 'days', 'Asia/Shanghai')).toEqual({
      frequency: 2,
      recency: 40,
      T: 59,
      monetaryValue: 6_000,
    });
    const weeks = summarise(orders, end, 'weeks', 'Asia/Shanghai');
    expect(weeks?.recency).toBeCloseTo(40 / 7, 12);
    expect(weeks?.T).toBeCloseTo(59 / 7, 12);
  });

  it('uses local dates in the given time zone', () => {
    // 23:30 and 00:30 UTC+8 the next day are one UTC day but two Shanghai days.
    const orders = [
      { orderedAt: at('2025-01-01T15:30:00Z'), netMinor: 100 },
      { orderedAt: at('2025-01-01T16:30:00Z'), netMinor: 200 },
    ];
    expect(summarise(orders, end, 'days', 'Asia/Shanghai')?.frequency).toBe(1);
    expect(summarise(orders, end, 'days', 'UTC')?.frequency).toBe(0);
  });

  it('ignores refunded/cancelled orders and orders at or after the calibration end', () => {
    const orders = [
      { orderedAt: at('2025-01-05T10:00:00+08:00'), netMinor: 0 },
      { orderedAt: at('2025-01-06T10:00:00+08:00'), netMinor: 4_000 },
      { orderedAt: end, netMinor: 9_000 },
      { orderedAt: at('2025-03-02T10:00:00+08:00'), netMinor: 9_000 },
    ];
    expect(summarise(orders, end, 'days', 'Asia/Shanghai')).toEqual({ frequency: 0, recency: 0, T: 54, monetaryValue: 0 });
  });

  it('is undefined without a purchase and gives T = 0 for a client who bought on the last day', () => {
    expect(summarise([], end, 'days', 'UTC')).toBeUndefined();
    expect(summarise([{ orderedAt: at('2025-01-05T10:00:00Z'), netMinor: -50 }], end, 'days', 'UTC')).toBeUndefined();
    const sameDay = summarise([{ orderedAt: end - 3_600_000, netMinor: 500 }], end, 'days', 'Asia/Shanghai');
    // Calibration end is local midnight: the last hour belongs to 28 Feb, one day before 1 March.
    expect(sameDay).toEqual({ frequency: 0, recency: 0, T: 1, monetaryValue: 0 });
    const midday = at('2025-03-01T14:00:00+08:00');
    expect(summarise([{ orderedAt: midday - 3_600_000, netMinor: 500 }], midday, 'days', 'Asia/Shanghai')?.T).toBe(0);
  });
});
