import { describe, expect, it } from 'vitest';
import { applyClv, predictedClv12mMinor, roundPrediction } from '#shared/clv/profile-clv.ts';
import type { ClvPrediction } from '#shared/clv/predict.ts';
import type { ClientProfile, Tier } from '#shared/model.ts';
import { distribution, mergeDistributions, RISING_TOP } from '#shared/tiering/distribution.ts';

function client(customerId: string, tier: Tier, fields: Partial<ClientProfile> = {}): ClientProfile {
  return {
    customerId,
    acceptsMarketing: true,
    tier,
    stage: tier === 'Prospect' ? 'prospect' : 'active',
    spend12mMinor: tier === 'Prospect' ? 0 : 10_000,
    lifetimeSpendMinor: 10_000,
    currency: 'USD',
    orderCount: tier === 'Prospect' ? 0 : 1,
    skus: {},
    ...fields,
  };
}

const clv = (clv12mMinor: number, rising: boolean): ClientProfile['clv'] => ({
  probabilityAlive: 0.9,
  expectedPurchases90d: 1,
  expectedPurchases365d: 3,
  expectedAverageOrderValueMinor: 10_000,
  clv12mMinor,
  rising,
  churnRisk: 'low',
});

describe('distribution: repurchase rate and rising clients', () => {
  it('repurchase rate: 12-month buyers (12-month spend > 0) with two or more orders', () => {
    const d = distribution([
      client('a', 'Entry', { orderCount: 1 }),
      client('b', 'Core', { orderCount: 2 }),
      client('c', 'VIC', { orderCount: 7 }),
      // A lapsed buyer (no 12-month spend) is not a 12-month buyer, however many orders.
      client('d', 'Entry', { spend12mMinor: 0, orderCount: 5 }),
      client('e', 'Prospect'),
    ]);
    expect(d.repurchase).toEqual({ buyers12m: 3, repeatBuyers12m: 2, rate: 2 / 3 });
  });

  it('no buyer: a rate of 0, not NaN', () => {
    expect(distribution([client('p', 'Prospect')]).repurchase).toEqual({ buyers12m: 0, repeatBuyers12m: 0, rate: 0 });
    expect(distribution([]).repurchase?.rate).toBe(0);
  });

  it('rising clients: counted per tier; the top ones by predicted value, then by id, whatever the order', () => {
    const profiles: ClientProfile[] = [];
    for (let i = 0; i < 700; i++) {
      const tier: Tier = i % 3 === 0 ? 'Core' : i % 3 === 1 ? 'Potential' : 'Entry';
      profiles.push(client(`c${String(i).padStart(4, '0')}`, tier, { clv: clv(1000 * (i % 50), i % 2 === 0) }));
    }
    profiles.push(client('v1', 'VIC', { clv: clv(9_999_999, false) }));
    const forward = distribution(profiles).rising;
    const backward = distribution([...profiles].reverse()).rising;
    expect(backward).toEqual(forward);
    expect(forward?.clients).toBe(350);
    expect(Object.values(forward?.byTier ?? {}).reduce((a, b) => a + b, 0)).toBe(350);
    expect(forward?.byTier.VIC).toBe(0);
    expect(forward?.top).toHaveLength(RISING_TOP);
    // Highest value rising clients: i % 50 === 48 (even), ids ascending among equals.
    expect(forward?.top[0]).toMatchObject({ customerId: 'c0048', clv12mMinor: 48_000 });
    expect(forward?.top.map((c) => c.clv12mMinor)).toEqual(Array.from({ length: RISING_TOP }, () => 48_000));
    expect(forward?.top.map((c) => c.customerId)).toEqual([...(forward?.top.map((c) => c.customerId) ?? [])].sort());
  });

  it("ranks the rising clients on the night's unrounded prediction, also across shards: 55,400 and 54,600 are both stored 55,000", () => {
    const rules = { thresholds: { vic: 5_000_000, core: 500_000, potential: 100_000 }, churnRiskBelowProbabilityAlive: 0.3 };
    const estimate = (clv12mMinor: number) => {
      const prediction: ClvPrediction = { probabilityAlive: 0.9, expectedPurchases90d: 1, expectedPurchases365d: 4, expectedAverageOrderValueMinor: clv12mMinor / 4, clv12mMinor };
      return { stored: roundPrediction(prediction, 'USD'), clv12mMinor };
    };
    const core = (customerId: string) => client(customerId, 'Core', { spend12mMinor: 2_000_000 });
    const tenLower = Array.from({ length: RISING_TOP }, (_, i) => applyClv(core(`a${i}`), estimate(5_460_000), rules));
    const highest = applyClv(core('z-highest'), estimate(5_540_000), rules);
    expect([...tenLower, highest].every((p) => p.clv?.rising && p.clv.clv12mMinor === 5_500_000)).toBe(true);
    const night = { clv12mMinorOf: predictedClv12mMinor };
    const held = distribution([...tenLower, highest], night).rising;
    expect(held?.top[0]).toMatchObject({ customerId: 'z-highest', clv12mMinor: 5_540_000 });
    expect(held?.top).toHaveLength(RISING_TOP);
    const sharded = mergeDistributions([distribution(tenLower, night), distribution([highest], night)]).rising;
    expect(sharded?.top.map((c) => c.customerId)).toEqual(held?.top.map((c) => c.customerId));
    // A profile the night did not predict (read back from the table) ranks on its stored value.
    expect(distribution([{ ...core('stored'), clv: { ...highest.clv! } }], night).rising?.top[0]?.clv12mMinor).toBe(5_500_000);
    // Without the night's predictions (a report rebuilt from stored profiles), the stored value.
    expect(distribution([...tenLower, highest]).rising?.top[0]?.clv12mMinor).toBe(5_500_000);
  });
});
