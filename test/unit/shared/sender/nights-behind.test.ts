import { describe, expect, it } from 'vitest';
import { PLAY_IDS } from '#shared/campaigns/plays.ts';
import { campaignsConfigSchema } from '#shared/campaigns/schema.ts';
import { restsOnNoOrderSince } from '#shared/campaigns/triggers.ts';
import { triggerSchema, type TriggerOn } from '#shared/campaigns/vocabulary.ts';
import { DEFAULT_RFM_SEGMENTS, type RfmSegmentRule } from '#shared/segments/rfm-segments.ts';
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
const brand = { timeZone: SH, campaigns, rfmSegments: DEFAULT_RFM_SEGMENTS };

describe('nightsBehind: the hour holds the lapses and run-outs while the last completed night is older than the last night due', () => {
  it('holds between two backfilled nights, naming the nights and the campaigns held', () => {
    const held = nightsBehind('2026-03-19', Date.parse('2026-03-24T11:00:00+08:00'), brand);
    expect(held).toMatchObject({ reason: 'nights-behind', lastNight: '2026-03-19', lastNightDue: '2026-03-23', nightsBehind: 4 });
    expect(held?.campaigns).toEqual(['replenishment', 'winback', 'recall', 'reorder']);
    expect(held?.message).toContain('2026-03-19');
    expect(held?.message).toContain('2026-03-23');
  });

  it("counts the night due from 04:30 brand time, as `clientele status` does: yesterday's night still running at 04:00 holds from 04:30", () => {
    expect(nightsBehind('2026-03-22', Date.parse('2026-03-24T04:29:00+08:00'), brand)).toBeUndefined();
    expect(nightsBehind('2026-03-22', Date.parse('2026-03-24T04:30:00+08:00'), brand)).toMatchObject({ lastNightDue: '2026-03-23', nightsBehind: 1 });
    expect(nightsBehind('2026-03-23', Date.parse('2026-03-24T04:30:00+08:00'), brand)).toBeUndefined();
  });

  it('holds nothing with no completed night (a new deployment), nor when a later night completed (a night run early)', () => {
    expect(nightsBehind(undefined, Date.parse('2026-03-24T11:00:00+08:00'), brand)).toBeUndefined();
    expect(nightsBehind('2026-03-24', Date.parse('2026-03-24T23:00:00+08:00'), brand)).toBeUndefined();
  });
});

describe('restsOnNoOrderSince: the triggers an order the profile does not know yet takes away', () => {
  it('is a lapse, a run-out, the predicted next order, days after the latest order and a lapse stage entered; no other trigger', () => {
    const rests = (trigger: unknown) => restsOnNoOrderSince(triggerSchema.parse(trigger), DEFAULT_RFM_SEGMENTS);
    for (const trigger of [
      { on: 'no-order-for', days: [60, 120] },
      { on: 'product-runs-out' },
      { on: 'predicted-next-order' },
      // The cross-category suggestion: a newer order moves its moment.
      { on: 'any-order', daysAfter: 21 },
      { on: 'stage-entered', stages: ['sleeping'], daysAfter: 3 },
      { on: 'stage-entered', stages: ['active', 'at-risk'] },
      // Segments entered by days without an order (no cell of R 5 maps to them).
      { on: 'rfm-segment-entered', segments: ['cant-lose'] },
      { on: 'rfm-segment-entered', segments: ['champions', 'at-risk'], daysAfter: 2 },
      { on: 'rfm-segment-entered', segments: ['loyal'] },
      { on: 'rfm-segment-entered', segments: ['hibernating', 'lost'], daysAfter: 3 },
      // A move down: an order may restore the tier, and the next night records a move up instead.
      { on: 'tier-changed', direction: 'down', daysAfter: 7 },
      { on: 'tier-changed', direction: 'any' },
    ]) {
      expect(rests(trigger), JSON.stringify(trigger)).toBe(true);
    }
    for (const trigger of [
      { on: 'first-contact' },
      { on: 'first-order', daysAfter: 7 },
      // A move to VIC is only ever up: a "welcome to VIC" goes while behind, as the tier thank-you.
      { on: 'tier-changed', to: ['VIC'] },
      { on: 'signed-up' },
      { on: 'any-order' },
      { on: 'birthday', month: true },
      { on: 'tier-changed', direction: 'up' },
      { on: 'stage-entered', stages: ['new', 'active'], daysAfter: 3 },
      { on: 'rfm-segment-entered', segments: ['champions'] },
      { on: 'rfm-segment-entered', segments: ['new', 'potential-loyalists'], daysAfter: 3 },
      { on: 'season-starts' },
    ]) {
      expect(rests(trigger), JSON.stringify(trigger)).toBe(false);
    }
    // Every trigger of the vocabulary is weighed above.
    const weighed = new Set(['no-order-for', 'product-runs-out', 'predicted-next-order', 'any-order', 'stage-entered', 'first-contact', 'first-order', 'signed-up', 'birthday', 'tier-changed', 'rfm-segment-entered', 'season-starts']);
    expect((triggerSchema.options.map((option) => option.shape.on.value) as TriggerOn[]).filter((on) => !weighed.has(on))).toEqual([]);
  });

  it('holds the enabled campaigns with those triggers, built-ins and plays alike', () => {
    expect(campaignsRestingOnNoOrder(campaigns, DEFAULT_RFM_SEGMENTS)).toEqual(['replenishment', 'winback', 'recall', 'reorder']);
    // The built-ins as the configuration enables them by default: the cross-category suggestion too.
    expect(campaignsRestingOnNoOrder(campaignsConfigSchema.parse({}).campaigns, DEFAULT_RFM_SEGMENTS)).toEqual(['replenishment', 'winback', 'recall', 'cross-category']);
  });

  it("weighs an RFM segment by the brand's own map: a segment that holds clients of the top recency score is one an order keeps them in", () => {
    // One map where 'lapsed' is R 1-2 and 'regulars' everything else, R 5 included; another where a first rule takes every R 5 cell.
    const twoSegments: RfmSegmentRule[] = [
      { name: 'lapsed', r: [1, 2], f: [1, 5], m: [1, 5] },
      { name: 'regulars', r: [1, 5], f: [1, 5], m: [1, 5] },
    ];
    const newestFirst: RfmSegmentRule[] = [{ name: 'newest', r: [5, 5], f: [1, 5], m: [1, 5] }, ...twoSegments];
    const entered = (segments: string[]) => triggerSchema.parse({ on: 'rfm-segment-entered', segments });
    expect(restsOnNoOrderSince(entered(['lapsed']), twoSegments)).toBe(true);
    expect(restsOnNoOrderSince(entered(['regulars']), twoSegments)).toBe(false);
    // 'regulars' names R 1-5, but the map reaches it at R 5 only through cells an earlier rule took: an order takes a client out.
    expect(restsOnNoOrderSince(entered(['regulars']), newestFirst)).toBe(true);
    expect(restsOnNoOrderSince(entered(['newest']), newestFirst)).toBe(false);
  });

  it('holds a campaign whose audience an order takes a client out of, whatever its trigger', () => {
    const held = campaignsConfigSchema.parse({
      campaigns: [
        { id: 'lapsed-birthday', trigger: { on: 'birthday' }, audience: { daysSinceLastOrder: { min: 60 } }, template: 'welcome' },
        { id: 'sleepers-season', trigger: { on: 'season-starts' }, audience: { stages: ['sleeping', 'churned'] }, template: 'welcome' },
        // The sign-up nudge: 3 days after signing up, still no order, 10% off the first one. An order since makes her no prospect.
        { id: 'first-order-nudge', trigger: { on: 'signed-up', daysAfter: 3 }, audience: { stages: ['prospect'] }, template: 'welcome' },
        { id: 'at-risk-birthday', trigger: { on: 'birthday' }, audience: { churnRisk: ['medium', 'high'] }, template: 'welcome' },
        { id: 'no-shoes-yet', trigger: { on: 'birthday' }, audience: { neverBoughtCategories: ['shoes'] }, template: 'welcome' },
        { id: 'cant-lose-birthday', trigger: { on: 'birthday' }, audience: { rfmSegments: ['cant-lose'] }, template: 'welcome' },
        // An order only raises the tier: a coupon for clients below VIC would reach a client an order since made VIC.
        { id: 'below-vic-birthday', trigger: { on: 'birthday' }, audience: { tiers: ['Core', 'Potential', 'Entry'] }, template: 'welcome' },
        { id: 'rising-birthday', trigger: { on: 'birthday' }, audience: { rising: true }, template: 'welcome' },
        // An order keeps a client in these: no hold.
        { id: 'recent-birthday', trigger: { on: 'birthday' }, audience: { daysSinceLastOrder: { max: 90 } }, template: 'welcome' },
        { id: 'buyers-birthday', trigger: { on: 'birthday' }, audience: { stages: ['new', 'active', 'at-risk'] }, template: 'welcome' },
        { id: 'any-risk', trigger: { on: 'birthday' }, audience: { churnRisk: ['low', 'high'] }, template: 'welcome' },
        { id: 'champions-birthday', trigger: { on: 'birthday' }, audience: { rfmSegments: ['champions'] }, template: 'welcome' },
        { id: 'core-and-up-birthday', trigger: { on: 'birthday' }, audience: { tiers: ['VIC', 'Core'] }, template: 'welcome' },
        // Loyal clients who order are champions or stay loyal: both held by the audience.
        { id: 'loyal-birthday', trigger: { on: 'birthday' }, audience: { rfmSegments: ['champions', 'loyal'] }, template: 'welcome' },
      ],
      seasons: [{ name: 'spring-summer', starts: '03-01' }],
    }).campaigns;
    expect(campaignsRestingOnNoOrder(held, DEFAULT_RFM_SEGMENTS)).toEqual(['lapsed-birthday', 'sleepers-season', 'first-order-nudge', 'at-risk-birthday', 'no-shoes-yet', 'cant-lose-birthday', 'below-vic-birthday', 'rising-birthday']);
  });

  it('holds no built-in play but the lapses, run-outs and the cross-category suggestion', () => {
    const plays = campaignsConfigSchema.parse({ campaigns: PLAY_IDS.map((kind) => ({ kind })) }).campaigns;
    expect(campaignsRestingOnNoOrder(plays, DEFAULT_RFM_SEGMENTS).sort()).toEqual(['cross-category', 'recall']);
  });
});
