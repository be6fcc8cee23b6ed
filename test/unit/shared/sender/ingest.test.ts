import { describe, expect, it } from 'vitest';
import type { ClientProfile } from '#shared/model.ts';
import { mergeIncrement, mergeIncrementOrders } from '#shared/sender/ingest.ts';
import { incrementalStamp } from '#shared/store/buckets.ts';

const stored: ClientProfile = {
  customerId: 'c1',
  email: 'old@example.com',
  acceptsMarketing: true,
  tier: 'Core',
  stage: 'active',
  spend12mMinor: 600_000,
  lifetimeSpendMinor: 900_000,
  currency: 'USD',
  orderCount: 4,
  firstOrderAt: '2025-01-01T00:00:00.000Z',
  lastOrderAt: '2026-10-01T00:00:00.000Z',
  skus: { CREAM: { lastPurchasedAt: '2026-10-01T00:00:00.000Z', quantity: 1, purchases: 3, personalCycleDays: 90 } },
};

describe('incremental exports', () => {
  it('reads folder stamps in the brand time zone', () => {
    expect(incrementalStamp('2026-11-23T1000', 'Asia/Shanghai')).toBe(Date.UTC(2026, 10, 23, 2, 0));
    expect(incrementalStamp('latest', 'Asia/Shanghai')).toBeUndefined();
  });

  it('moves a stored profile forward with new orders and contact details, keeping tier, stage and consent (increment-consent.ts decides it)', () => {
    const increment: ClientProfile = {
      ...stored,
      email: 'new@example.com',
      acceptsMarketing: false,
      spend12mMinor: 20_000,
      lifetimeSpendMinor: 20_000,
      orderCount: 1,
      firstOrderAt: '2026-11-23T02:00:00.000Z',
      lastOrderAt: '2026-11-23T02:00:00.000Z',
      tier: 'Entry',
      stage: 'new',
      skus: { CREAM: { lastPurchasedAt: '2026-11-23T02:00:00.000Z', quantity: 2, purchases: 1 } },
    };
    const merged = mergeIncrement(stored, increment);
    expect(merged).toMatchObject({
      email: 'new@example.com',
      acceptsMarketing: true,
      orderCount: 5,
      spend12mMinor: 620_000,
      lifetimeSpendMinor: 920_000,
      firstOrderAt: '2025-01-01T00:00:00.000Z',
      lastOrderAt: '2026-11-23T02:00:00.000Z',
      tier: 'Core',
      stage: 'active',
    });
    expect(merged.skus.CREAM).toEqual({ lastPurchasedAt: '2026-11-23T02:00:00.000Z', quantity: 2, purchases: 4, personalCycleDays: 90 });
  });

  it('leaves orders alone when the increment only updates the customer row', () => {
    const increment: ClientProfile = { ...stored, orderCount: 0, spend12mMinor: 0, lifetimeSpendMinor: 0, skus: {}, firstName: 'Ann' };
    const { firstOrderAt: _f, lastOrderAt: _l, ...noOrders } = increment;
    const merged = mergeIncrement(stored, noOrders);
    expect(merged.orderCount).toBe(4);
    expect(merged.firstName).toBe('Ann');
  });
});

describe('an increment merged again after a night', () => {
  it('puts its orders back and leaves the contact details and consent as the night wrote them', () => {
    const increment: ClientProfile = {
      ...stored,
      email: 'older@example.com',
      acceptsMarketing: true,
      firstName: 'Ann',
      spend12mMinor: 8_000,
      lifetimeSpendMinor: 8_000,
      orderCount: 1,
      firstOrderAt: '2026-11-23T16:30:00.000Z',
      lastOrderAt: '2026-11-23T16:30:00.000Z',
      skus: { BELT: { lastPurchasedAt: '2026-11-23T16:30:00.000Z', quantity: 1, purchases: 1 } },
    };
    const night: ClientProfile = { ...stored, acceptsMarketing: false };
    const merged = mergeIncrementOrders(night, increment);
    expect(merged).toMatchObject({ email: 'old@example.com', acceptsMarketing: false, orderCount: 5, lifetimeSpendMinor: 908_000, lastOrderAt: '2026-11-23T16:30:00.000Z' });
    expect(merged.firstName).toBeUndefined();
    expect(merged.skus.BELT).toEqual(increment.skus.BELT);
    expect(merged.skus.CREAM).toEqual(stored.skus.CREAM);
  });
});
