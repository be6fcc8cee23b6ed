import { describe, expect, it } from 'vitest';
import { campaignsConfigSchema } from '#shared/campaigns/schema.ts';
import { restsOnNoOrderSince } from '#shared/campaigns/triggers.ts';
import { triggerSchema, type TriggerOn } from '#shared/campaigns/vocabulary.ts';
import { campaignsRestingOnNoOrder, nightsBehind } from '#shared/sender/nights-behind.ts';

const SH = 'Asia/Shanghai';
const campaigns = campaignsConfigSchema.parse({
  campaigns: [
    { kind: 'welcome' },
    { kind: 'replenishment' },
    { kind: 'winback' },
    { kind: 'recall' },
    { kind: 'birthday' },
    { kind: 'tier-upgrade-thanks' },
    { kind: 'custom', id: 'reorder', trigger: { on: 'predicted-next-order' }, template: 'winback', products: { from: 'none' } },
    { kind: 'winback', id: 'winback-off', enabled: false },
  ],
}).campaigns;

describe('nightsBehind: the hour holds the lapses and run-outs while the last completed night is older than the last night due', () => {
  it('holds between two backfilled nights, naming the nights and the campaigns held', () => {
    const held = nightsBehind('2026-03-19', Date.parse('2026-03-24T11:00:00+08:00'), SH, campaigns);
    expect(held).toMatchObject({ reason: 'nights-behind', lastNight: '2026-03-19', lastNightDue: '2026-03-23', nightsBehind: 4 });
    expect(held?.campaigns).toEqual(['replenishment', 'winback', 'recall', 'reorder']);
    expect(held?.message).toContain('2026-03-19');
    expect(held?.message).toContain('2026-03-23');
  });

  it("counts the night due from 04:30 brand time, as `clientele status` does: yesterday's night still running at 04:00 holds from 04:30", () => {
    expect(nightsBehind('2026-03-22', Date.parse('2026-03-24T04:29:00+08:00'), SH, campaigns)).toBeUndefined();
    expect(nightsBehind('2026-03-22', Date.parse('2026-03-24T04:30:00+08:00'), SH, campaigns)).toMatchObject({ lastNightDue: '2026-03-23', nightsBehind: 1 });
    expect(nightsBehind('2026-03-23', Date.parse('2026-03-24T04:30:00+08:00'), SH, campaigns)).toBeUndefined();
  });

  it('holds nothing with no completed night (a new deployment), nor when a later night completed (a night run early)', () => {
    expect(nightsBehind(undefined, Date.parse('2026-03-24T11:00:00+08:00'), SH, campaigns)).toBeUndefined();
    expect(nightsBehind('2026-03-24', Date.parse('2026-03-24T23:00:00+08:00'), SH, campaigns)).toBeUndefined();
  });
});

describe('restsOnNoOrderSince: the triggers an order the profile does not know yet takes away', () => {
  it('is no-order-for, product-runs-out and predicted-next-order, and no other trigger', () => {
    const all = triggerSchema.options.map((option) => option.shape.on.value) as TriggerOn[];
    expect(all.filter((on) => restsOnNoOrderSince({ on })).sort()).toEqual(['no-order-for', 'predicted-next-order', 'product-runs-out']);
  });

  it('holds the enabled campaigns with those triggers, built-ins and plays alike', () => {
    expect(campaignsRestingOnNoOrder(campaigns)).toEqual(['replenishment', 'winback', 'recall', 'reorder']);
  });
});
