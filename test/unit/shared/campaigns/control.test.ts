import { describe, expect, it } from 'vitest';
import { controlDraw, inControlGroup } from '#shared/campaigns/policy.ts';

const IDS = Array.from({ length: 20_000 }, (_, i) => `cust-${String(i).padStart(6, '0')}`);
const share = (campaignId: string, s: number) => IDS.filter((id) => inControlGroup(id, campaignId, s)).length / IDS.length;

describe('control group', () => {
  it('holds out 10% ± 1.5% of 20,000 clients, for each campaign', () => {
    for (const campaign of ['welcome', 'replenishment', 'winback']) {
      expect(share(campaign, 0.1)).toBeGreaterThan(0.085);
      expect(share(campaign, 0.1)).toBeLessThan(0.115);
    }
    expect(Math.abs(share('winback', 0.25) - 0.25)).toBeLessThan(0.015);
  });

  it('is stable across calls (pinned: sha256("c1:welcome") starts 5ce3d6056b02)', () => {
    expect(controlDraw('c1', 'welcome')).toBe(0x5ce3d6056b02 / 2 ** 48);
    expect(controlDraw('c1', 'welcome')).toBeCloseTo(0.36285, 5);
    const first = IDS.map((id) => inControlGroup(id, 'welcome', 0.1));
    const second = IDS.map((id) => inControlGroup(id, 'welcome', 0.1));
    expect(second).toEqual(first);
  });

  it('is independent between campaigns', () => {
    const inWelcome = IDS.filter((id) => inControlGroup(id, 'welcome', 0.1));
    const inBoth = inWelcome.filter((id) => inControlGroup(id, 'winback', 0.1));
    // Independent draws: about 10% of the welcome control group is also in the win-back one (1% of all).
    expect(inBoth.length / inWelcome.length).toBeGreaterThan(0.06);
    expect(inBoth.length / inWelcome.length).toBeLessThan(0.14);
    expect(inBoth.length / IDS.length).toBeLessThan(0.015);
  });

  it('grows with the share: a client held out at 5% is held out at 10%', () => {
    const atFive = IDS.slice(0, 2000).filter((id) => inControlGroup(id, 'welcome', 0.05));
    expect(atFive.length).toBeGreaterThan(0);
    expect(atFive.every((id) => inControlGroup(id, 'welcome', 0.1))).toBe(true);
  });

  it('holds out nobody at 0 and everybody at 1', () => {
    expect(share('welcome', 0)).toBe(0);
    expect(share('welcome', 1)).toBe(1);
  });

  it('draws uniformly in [0, 1)', () => {
    const draws = IDS.map((id) => controlDraw(id, 'replenishment'));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    const buckets = new Array<number>(10).fill(0);
    for (const draw of draws) buckets[Math.floor(draw * 10)]! += 1;
    for (const count of buckets) expect(Math.abs(count - 2000)).toBeLessThan(200);
  });
});
