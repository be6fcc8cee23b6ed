import { describe, expect, it } from 'vitest';
import type { ClientProfile } from '#shared/model.ts';
import { clvMateriallyChanged, diffProfiles, profileDigest, stableStringify } from '#shared/nightly/diff.ts';
import type { StoredState } from '#shared/store/profile-store.ts';

const profile = (id: string, overrides: Partial<ClientProfile> = {}): ClientProfile => ({
  customerId: id,
  acceptsMarketing: true,
  tier: 'Core',
  stage: 'active',
  spend12mMinor: 600_000,
  lifetimeSpendMinor: 900_000,
  currency: 'USD',
  orderCount: 4,
  skus: {},
  ...overrides,
});

const stateOf = (p: ClientProfile): StoredState => ({ digest: profileDigest(p), tier: p.tier, stage: p.stage, updatedRunDate: '2026-11-22' });

describe('diffProfiles', () => {
  it('digests content, not key order', () => {
    expect(stableStringify({ b: 1, a: { d: 2, c: [3, { f: 1, e: 2 }] } })).toBe('{"a":{"c":[3,{"e":2,"f":1}],"d":2},"b":1}');
    expect(profileDigest(profile('c1', { email: 'a@example.com' }))).toBe(
      profileDigest({ email: 'a@example.com', ...profile('c1') }),
    );
  });

  it('writes nothing when nothing changed', () => {
    const profiles = [profile('c1'), profile('c2', { tier: 'VIC' })];
    const stored = new Map(profiles.map((p) => [p.customerId, stateOf(p)]));
    const diff = diffProfiles(profiles, (id) => stored.get(id), '2026-11-23');
    expect(diff.changed).toEqual([]);
    expect(diff.tierChanges).toEqual([]);
    expect(diff.unchanged).toBe(2);
  });

  it('records new clients, tier and stage movements, and content-only changes', () => {
    const before = [profile('up'), profile('down', { tier: 'VIC' }), profile('sleepy'), profile('same')];
    const stored = new Map(before.map((p) => [p.customerId, stateOf(p)]));
    const tonight = [
      profile('up', { tier: 'VIC', spend12mMinor: 5_000_000 }),
      profile('down', { tier: 'Core' }),
      profile('sleepy', { stage: 'sleeping' }),
      profile('same', { orderCount: 5 }),
      profile('fresh', { tier: 'Entry', stage: 'new' }),
    ];
    const diff = diffProfiles(tonight, (id) => stored.get(id), '2026-11-23');
    expect(diff.changed.map((p) => p.customerId)).toEqual(['up', 'down', 'sleepy', 'same', 'fresh']);
    expect(diff.changed.every((p) => p.updatedRunDate === '2026-11-23' && p.digest.length > 0)).toBe(true);
    expect(diff.newClients).toBe(1);
    expect(diff.upgrades).toBe(1);
    expect(diff.downgrades).toBe(1);
    expect(diff.tierMovements).toEqual({ 'Core→VIC': 1, 'VIC→Core': 1 });
    expect(diff.stageMovements).toEqual({ 'active→sleeping': 1 });
    expect(diff.tierChanges).toEqual([
      { customerId: 'up', runDate: '2026-11-23', fromTier: 'Core', toTier: 'VIC', fromStage: 'active', toStage: 'active', spend12mMinor: 5_000_000 },
      { customerId: 'down', runDate: '2026-11-23', fromTier: 'VIC', toTier: 'Core', fromStage: 'active', toStage: 'active', spend12mMinor: 600_000 },
      { customerId: 'sleepy', runDate: '2026-11-23', fromTier: 'Core', toTier: 'Core', fromStage: 'active', toStage: 'sleeping', spend12mMinor: 600_000 },
      { customerId: 'fresh', runDate: '2026-11-23', toTier: 'Entry', toStage: 'new', spend12mMinor: 600_000 },
    ]);
  });

  it('counts a first purchase, from Prospect, as neither an upgrade nor a downgrade, as the plausibility guard does; its tier move is still listed', () => {
    const prospect = { tier: 'Prospect', stage: 'prospect', spend12mMinor: 0, lifetimeSpendMinor: 0, orderCount: 0 } as const;
    const before = [profile('p1', prospect), profile('p2', prospect), profile('p3', prospect), profile('up', { tier: 'Entry', spend12mMinor: 50_00 })];
    const stored = new Map(before.map((p) => [p.customerId, stateOf(p)]));
    const firstOrder = { stage: 'new', orderCount: 1 } as const;
    const tonight = [
      profile('p1', { ...firstOrder, tier: 'Entry', spend12mMinor: 50_00, lifetimeSpendMinor: 50_00 }),
      profile('p2', { ...firstOrder, tier: 'Core', spend12mMinor: 6_000_00, lifetimeSpendMinor: 6_000_00 }),
      profile('p3', { ...firstOrder, tier: 'Potential', spend12mMinor: 1_200_00, lifetimeSpendMinor: 1_200_00 }),
      profile('up', { tier: 'Potential', spend12mMinor: 1_200_00 }),
    ];
    const diff = diffProfiles(tonight, (id) => stored.get(id), '2026-11-23');
    expect(diff.upgrades).toBe(1);
    expect(diff.downgrades).toBe(0);
    expect(diff.tierMovements).toEqual({ 'Prospect→Entry': 1, 'Prospect→Core': 1, 'Prospect→Potential': 1, 'Entry→Potential': 1 });
  });
});

describe('predictions in the diff', () => {
  const clv = (overrides: Partial<NonNullable<ClientProfile['clv']>> = {}): NonNullable<ClientProfile['clv']> => ({
    probabilityAlive: 0.8,
    expectedPurchases90d: 0.6,
    expectedPurchases365d: 2.1,
    expectedAverageOrderValueMinor: 15_000,
    clv12mMinor: 3_000_000,
    predictedNextOrderAt: '2026-12-20',
    rising: false,
    churnRisk: 'low',
    ...overrides,
  });

  it('ignores the nightly drift of the predictions, within tolerance', () => {
    expect(clvMateriallyChanged(clv(), clv({ probabilityAlive: 0.77, expectedPurchases365d: 2.3, clv12mMinor: 2_800_000 }))).toBe(false);
    // The next order date may move up to 3 days either way.
    expect(clvMateriallyChanged(clv(), clv({ predictedNextOrderAt: '2026-12-23' }))).toBe(false);
    expect(clvMateriallyChanged(clv(), clv({ predictedNextOrderAt: '2026-12-17' }))).toBe(false);
  });

  it('sees what a marketer or a campaign would act on', () => {
    expect(clvMateriallyChanged(clv(), clv({ probabilityAlive: 0.75 }))).toBe(true);
    expect(clvMateriallyChanged(clv(), clv({ churnRisk: 'medium' }))).toBe(true);
    expect(clvMateriallyChanged(clv(), clv({ rising: true }))).toBe(true);
    // Falling below the tier's threshold: a 52,000 → 47,000 VIC moves 9.6%, under the 10% of value.
    expect(clvMateriallyChanged(clv({ clv12mMinor: 5_200_000, belowTier: false }), clv({ clv12mMinor: 4_700_000, belowTier: true }))).toBe(true);
    // A profile written before the flag was kept: rewritten only when the client is now below.
    expect(clvMateriallyChanged(clv(), clv({ belowTier: false }))).toBe(false);
    expect(clvMateriallyChanged(clv(), clv({ belowTier: true }))).toBe(true);
    expect(clvMateriallyChanged(clv(), clv({ predictedNextOrderAt: '2026-12-24' }))).toBe(true);
    expect(clvMateriallyChanged(clv(), clv({ predictedNextOrderAt: '2026-12-16' }))).toBe(true);
    expect(clvMateriallyChanged(clv(), clv({ predictedNextOrderAt: undefined }))).toBe(true);
    expect(clvMateriallyChanged(clv(), clv({ clv12mMinor: 2_700_000 }))).toBe(true);
    expect(clvMateriallyChanged(clv(), undefined)).toBe(true);
    expect(clvMateriallyChanged(undefined, undefined)).toBe(false);
  });

  it('writes a profile whose only change is a small drift of its predictions: never', () => {
    const before = profile('c1', { clv: clv() });
    const stored = new Map([['c1', { ...stateOf(before), clv: clv() }]]);
    const drifted = profile('c1', { clv: clv({ probabilityAlive: 0.79 }) });
    expect(diffProfiles([drifted], (id) => stored.get(id), '2026-11-24').changed).toEqual([]);
    const moved = profile('c1', { clv: clv({ churnRisk: 'high', probabilityAlive: 0.2 }) });
    expect(diffProfiles([moved], (id) => stored.get(id), '2026-11-24').changed.map((p) => p.customerId)).toEqual(['c1']);
  });
});
