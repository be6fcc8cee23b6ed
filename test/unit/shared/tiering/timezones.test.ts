import { describe, expect, it } from 'vitest';
import type { ClientProfile, OrderLine } from '#shared/model.ts';
import { ClientAggregator } from '#shared/tiering/aggregate.ts';
import { computeProfiles } from '#shared/tiering/profile.ts';
import { addDays, localDate } from '#shared/time.ts';
import { at } from '#test/support/time.ts';
import { config, line } from './fixtures.ts';

function profileOf(lines: OrderLine[], timeZone: string, runDate: string): ClientProfile {
  const aggregator = new ClientAggregator();
  for (const orderLine of lines) aggregator.addOrderLine(orderLine);
  const [profile] = computeProfiles(aggregator.clients(), { runDate, config: config({ timeZone }) });
  return profile as ClientProfile;
}

describe('local days in unusual zones and on DST transition days', () => {
  const cases: [zone: string, day: string][] = [
    ['Asia/Kathmandu', '2025-06-15'], // +05:45
    ['Australia/Lord_Howe', '2025-04-06'], // half-hour DST ends that day
    ['America/New_York', '2025-03-09'], // spring forward
    ['America/New_York', '2025-11-02'], // fall back
    ['Europe/London', '2025-03-30'],
  ];
  for (const [zone, day] of cases) {
    it(`${zone} on ${day}: 00:10 and 23:50 local are the same day, one day before the next 00:10`, () => {
      const early = line({ orderId: 'a', customerId: 'c', orderedAt: at(`${day}T00:10`, zone), sku: 'S' });
      const late = line({ orderId: 'b', customerId: 'c', orderedAt: at(`${day}T23:50`, zone), sku: 'S' });
      const next = line({ orderId: 'c', customerId: 'c', orderedAt: at(`${addDays(day, 1)}T00:10`, zone), sku: 'S' });
      expect(localDate(early.orderedAt, zone)).toBe(day);
      expect(localDate(late.orderedAt, zone)).toBe(day);
      const sameDay = profileOf([early, late], zone, addDays(day, 10));
      expect(sameDay.usualReorderGapDays).toBeUndefined();
      expect(sameDay.skus.S).toMatchObject({ purchases: 1, quantity: 2 });
      const twoDays = profileOf([early, late, next], zone, addDays(day, 10));
      expect(twoDays.usualReorderGapDays).toBe(1);
      // Two days, one stock-up (closer together than the reminder's lead): no personal cycle.
      expect(twoDays.skus.S).toMatchObject({ purchases: 2, quantity: 3 });
      expect(twoDays.skus.S?.personalCycleDays).toBeUndefined();
      expect(profileOf([late], zone, day).stage).toBe('new');
      expect(profileOf([late, next], zone, day).orderCount).toBe(1); // the next day's order is not yet seen
    });
  }
});
