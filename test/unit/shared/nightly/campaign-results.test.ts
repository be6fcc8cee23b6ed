import { describe, expect, it } from 'vitest';
import { parseConfig } from '#shared/config.ts';
import type { OrderFact } from '#shared/model.ts';
import { oneEntryPerEmail, tallyShardCampaigns } from '#shared/nightly/campaign-results.ts';
import type { ResultEntry } from '#shared/store/ledger-store.ts';
import { runClock } from '#shared/tiering/profile.ts';

const DAY = 86_400_000;
const RUN_DATE = '2026-11-23';
const config = parseConfig({ timeZone: 'UTC', campaigns: { campaigns: [{ kind: 'replenishment' }] } });
const RUN_AT = Date.parse('2026-11-01T10:00:00Z');

const entry = (customerId: string, sku: string, status: string, extra: Partial<ResultEntry> = {}): ResultEntry => ({
  customerId,
  occasionKey: `replenishment#${sku}`,
  campaignId: 'replenishment',
  status: status as ResultEntry['status'],
  claimedAt: RUN_AT,
  customerOccasion: `${customerId}#replenishment#${sku}`,
  tier: 'Core',
  ...extra,
});

describe('campaign results count emails, not the occasions one email settles', () => {
  // s1's reminder listed three products (one SES message); c1's three were held out together by
  // the control group; s2 got two separate reminders on two mornings.
  const ledger: ResultEntry[] = [
    ...['a', 'b', 'c'].map((sku) => entry('s1', sku, 'sent', { sentAt: RUN_AT + 1000, messageId: 'm-1' })),
    ...['a', 'b', 'c'].map((sku) => entry('c1', sku, 'held-out')),
    entry('s2', 'a', 'sent', { sentAt: RUN_AT + 2000, messageId: 'm-2' }),
    entry('s2', 'b', 'sent', { claimedAt: RUN_AT + DAY, sentAt: RUN_AT + DAY + 1000, messageId: 'm-3' }),
    ...['a', 'b'].map((sku) => entry('x1', sku, 'suppressed')),
  ];

  it('keeps one entry per email', () => {
    expect(oneEntryPerEmail(ledger).map((e) => `${e.customerId}:${e.status}:${e.occasionKey}`)).toEqual([
      's1:sent:replenishment#a',
      'c1:held-out:replenishment#a',
      's2:sent:replenishment#a',
      's2:sent:replenishment#b',
      'x1:suppressed:replenishment#a',
    ]);
  });

  it("follows each email once: one order converts s1's reminder once and its revenue counts once", () => {
    const orders = new Map<string, OrderFact[]>([
      ['s1', [{ orderId: 'o1', orderedAt: RUN_AT + 2 * DAY, netMinor: 9_000 }]],
      ['c1', [{ orderId: 'o2', orderedAt: RUN_AT + 3 * DAY, netMinor: 4_000 }]],
      ['s2', []],
      ['x1', []],
    ]);
    const tallies = tallyShardCampaigns({ config, runDate: RUN_DATE, ledger, orders: { ordersOf: (id) => orders.get(id) } });
    const all = tallies.segments.find((s) => s.campaignId === 'replenishment' && s.tier === 'all');
    expect(all).toMatchObject({ sends: 3, heldOut: 1, unsent: { suppressed: 1 } });
    const week = all?.windows[0];
    expect(week?.sent).toMatchObject({ converted: 1, revenueMinor: 9_000, revenue: { count: 3 } });
    expect(week?.control).toMatchObject({ converted: 1, revenueMinor: 4_000, revenue: { count: 1 } });
    // The 30-day window has not ended at the run's clock: the same members, maturing.
    expect(runClock(RUN_DATE, 'UTC').now).toBeLessThan(RUN_AT + 30 * DAY);
    expect(all?.windows[1]?.sent.maturing).toBe(3);
  });
});
