import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseConfig } from '#shared/config.ts';
import type { OrderFact } from '#shared/model.ts';
import type { WindowResult } from '#shared/campaign-results/model.ts';
import {
  campaignHeadlines,
  campaignResultsOf,
  campaignResultsPeriod,
  computeCampaignResults,
  mergeCampaignTallies,
  tallyCampaignDecisions,
  type CampaignDecision,
  type UnsentOccasion,
} from '#shared/campaign-results/results.ts';
import { runClock } from '#shared/tiering/profile.ts';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const RUN_DATE = '2026-11-23';
// The three timed campaigns only: the ordering below is about configured campaigns, not the plays.
const config = parseConfig({ timeZone: 'UTC', campaigns: { campaigns: [{ kind: 'welcome' }, { kind: 'replenishment' }, { kind: 'winback' }] } });
const NOW = runClock(RUN_DATE, 'UTC').now; // 2026-11-24T00:00Z

// Three cohorts: A has both windows matured, B only the 7-day one, C neither.
const A = Date.parse('2026-10-01T10:00:00Z');
const B = Date.parse('2026-11-10T10:00:00Z');
const C = Date.parse('2026-11-20T10:00:00Z');

let orderSeq = 0;
const order = (orderedAt: number, netMinor: number): OrderFact => ({ orderId: `o${++orderSeq}`, orderedAt, netMinor });

/**
 * The welcome campaign, hand-computed (revenue in minor units):
 *
 * | member | tier  | t0 | orders                                   | 7 days       | 30 days      |
 * | s1     | Entry | A  | 10000 at +1 d                            | yes, 10000   | yes, 10000   |
 * | s2     | Entry | A  | 5000 exactly at t0; 2000 exactly at +7 d | yes, 2000    | yes, 2000    |
 * | s3     | Core  | A  | refund only (0) at +2 d; 30000 at +20 d  | no           | yes, 30000   |
 * | s4     | Core  | B  | 4000 at +3 d                             | yes, 4000    | maturing     |
 * | s5     | Entry | B  | none                                     | no           | maturing     |
 * | s6     | Entry | C  | 1000 at +1 d                             | maturing     | maturing     |
 * | s7     | -     | A  | 8000 at +7 d + 1 ms                      | no           | yes, 8000    |
 * | c1     | Entry | A  | 6000 at +5 d                             | yes, 6000    | yes, 6000    |
 * | c2     | Core  | A  | none                                     | no           | no           |
 * | c3     | Entry | B  | none                                     | no           | maturing     |
 * | c4     | Core  | B  | cancelled (0) at +1 d                    | no           | maturing     |
 * Outside the period: s-early (a day before it starts), s-late (at the run's clock).
 */
const decisions: CampaignDecision[] = [
  { customerId: 's1', campaignId: 'welcome', tier: 'Entry', group: 'sent', at: A, triggerAt: A - 30 * 60_000 },
  { customerId: 's2', campaignId: 'welcome', tier: 'Entry', group: 'sent', at: A, triggerAt: A - 2 * HOUR },
  { customerId: 's3', campaignId: 'welcome', tier: 'Core', group: 'sent', at: A, triggerAt: A - 20 * HOUR },
  { customerId: 's4', campaignId: 'welcome', tier: 'Core', group: 'sent', at: B, triggerAt: B - 50 * HOUR },
  { customerId: 's5', campaignId: 'welcome', tier: 'Entry', group: 'sent', at: B, triggerAt: B - 80 * HOUR },
  { customerId: 's6', campaignId: 'welcome', tier: 'Entry', group: 'sent', at: C, triggerAt: C - HOUR },
  { customerId: 's7', campaignId: 'welcome', group: 'sent', at: A },
  { customerId: 'c1', campaignId: 'welcome', tier: 'Entry', group: 'control', at: A, triggerAt: A - HOUR },
  { customerId: 'c2', campaignId: 'welcome', tier: 'Core', group: 'control', at: A },
  { customerId: 'c3', campaignId: 'welcome', tier: 'Entry', group: 'control', at: B },
  { customerId: 'c4', campaignId: 'welcome', tier: 'Core', group: 'control', at: B },
  { customerId: 's-early', campaignId: 'welcome', tier: 'Entry', group: 'sent', at: Date.parse('2026-09-23T23:59:59Z') },
  { customerId: 's-late', campaignId: 'welcome', tier: 'Entry', group: 'sent', at: NOW },
  // A win-back without control members, and a campaign the config no longer names.
  { customerId: 'w1', campaignId: 'winback', tier: 'VIC', group: 'sent', at: A },
  { customerId: 'x1', campaignId: 'old-promo', tier: 'Entry', group: 'control', at: A },
];

const ordersByClient = new Map<string, OrderFact[]>([
  ['s1', [order(A + DAY, 10_000)]],
  ['s2', [order(A, 5_000), order(A + 7 * DAY, 2_000)]],
  ['s3', [order(A + 2 * DAY, 0), order(A + 20 * DAY, 30_000)]],
  ['s4', [order(B + 3 * DAY, 4_000)]],
  ['s6', [order(C + DAY, 1_000)]],
  ['s7', [order(A + 7 * DAY + 1, 8_000)]],
  ['c1', [order(A + 5 * DAY, 6_000)]],
  ['c4', [order(B + DAY, 0)]],
  ['s-early', [order(Date.parse('2026-09-25T00:00:00Z'), 9_999)]],
  ['s-late', [order(NOW - 1, 9_999)]],
  ['w1', [order(A + DAY, 50_000)]],
]);

// Due but neither sent nor held out: counted by status, in the period only.
const unsent: UnsentOccasion[] = [
  { campaignId: 'welcome', tier: 'Entry', status: 'suppressed', at: A },
  { campaignId: 'welcome', tier: 'Core', status: 'expired', at: B },
  { campaignId: 'welcome', tier: 'Entry', status: 'expired', at: C },
  { campaignId: 'welcome', status: 'capped', at: C },
  { campaignId: 'replenishment', tier: 'Potential', status: 'no-consent', at: B },
  { campaignId: 'welcome', tier: 'Entry', status: 'suppressed', at: NOW }, // at the run's clock: outside
];

const results = computeCampaignResults({ decisions, unsent, ordersByClient, runDate: RUN_DATE, now: NOW, config });

function segment(campaignId: string, tier: string) {
  const found = results.segments.find((s) => s.campaignId === campaignId && s.tier === tier);
  if (!found) throw new Error(`no segment ${campaignId}/${tier}`);
  return found;
}
function window(campaignId: string, tier: string, days: number): WindowResult {
  const found = segment(campaignId, tier).windows.find((w) => w.windowDays === days);
  if (!found) throw new Error(`no ${days}-day window in ${campaignId}/${tier}`);
  return found;
}

describe('computeCampaignResults on constructed data', () => {
  it('names the period, the windows and the level', () => {
    expect(results).toMatchObject({ runDate: RUN_DATE, periodStart: '2026-09-24', confidenceLevel: 0.95, windowsDays: [7, 30] });
  });

  it("lists each campaign's 'all' first, then its tiers, configured campaigns first", () => {
    expect(results.segments.map((s) => `${s.campaignId}/${s.tier}`)).toEqual([
      'welcome/all',
      'welcome/Core',
      'welcome/Entry',
      'replenishment/all', // enabled, no decisions: shown with zeros
      'replenishment/Potential', // an unsent occasion only
      'winback/all',
      'winback/VIC',
      'old-promo/all',
      'old-promo/Entry',
    ]);
  });

  it('counts every decision of the period whatever its maturity, nothing outside it', () => {
    expect(segment('welcome', 'all')).toMatchObject({ sends: 7, heldOut: 4 });
    expect(segment('welcome', 'Entry')).toMatchObject({ sends: 4, heldOut: 2 });
    expect(segment('welcome', 'Core')).toMatchObject({ sends: 2, heldOut: 2 });
    expect(segment('replenishment', 'all')).toMatchObject({ sends: 0, heldOut: 0 });
  });

  it('counts what was due: the decisions and the unsent occasions by status, largest first', () => {
    expect(segment('welcome', 'all')).toMatchObject({ due: 15, unsent: { expired: 2, capped: 1, suppressed: 1 } });
    expect(Object.keys(segment('welcome', 'all').unsent)).toEqual(['expired', 'capped', 'suppressed']);
    expect(segment('welcome', 'Entry')).toMatchObject({ due: 8, unsent: { expired: 1, suppressed: 1 } });
    expect(segment('welcome', 'Core')).toMatchObject({ due: 5, unsent: { expired: 1 } });
    expect(segment('replenishment', 'all')).toMatchObject({ due: 1, sends: 0, heldOut: 0, unsent: { 'no-consent': 1 } });
    expect(segment('replenishment', 'Potential')).toMatchObject({ due: 1 });
    expect(segment('winback', 'all')).toMatchObject({ due: 1, unsent: {} });
    expect(campaignHeadlines(results).find((h) => h.campaignId === 'welcome')).toMatchObject({ due: 15, sends: 7, heldOut: 4 });
  });

  it('7 days, all tiers: conversions at the window end count, at t0 and refunds only do not', () => {
    const w = window('welcome', 'all', 7);
    expect(w.sent).toEqual({ members: 6, converted: 3, conversionRate: 0.5, revenueMinor: 16_000, revenuePerMemberMinor: 16_000 / 6 });
    expect(w.control).toEqual({ members: 4, converted: 1, conversionRate: 0.25, revenueMinor: 6_000, revenuePerMemberMinor: 1_500 });
    expect(w.maturing).toEqual({ sent: 1, control: 0 });
    // Newcombe 3/6 − 1/4; groups of 6 and 4 are too small for a revenue interval or a significance claim.
    expect(w.conversionUplift?.estimate).toBeCloseTo(0.25, 12);
    expect(w.conversionUplift?.interval.low).toBeCloseTo(-0.297272, 5);
    expect(w.conversionUplift?.interval.high).toBeCloseTo(0.62332, 5);
    expect(w.relativeUplift).toBeCloseTo(1, 12);
    expect(w.revenuePerMemberUpliftMinor).toBeUndefined();
    expect(w.incrementalRevenueMinor).toBe(7_000);
    expect(w.significant).toBe(false);
  });

  it('30 days, all tiers: only the matured members, an order 1 ms past 7 days counting here', () => {
    const w = window('welcome', 'all', 30);
    expect(w.sent).toEqual({ members: 4, converted: 4, conversionRate: 1, revenueMinor: 50_000, revenuePerMemberMinor: 12_500 });
    expect(w.control).toEqual({ members: 2, converted: 1, conversionRate: 0.5, revenueMinor: 6_000, revenuePerMemberMinor: 3_000 });
    expect(w.maturing).toEqual({ sent: 3, control: 2 });
    expect(w.conversionUplift?.estimate).toBeCloseTo(0.5, 12);
    expect(w.conversionUplift?.interval.low).toBeCloseTo(-0.135923, 5);
    expect(w.conversionUplift?.interval.high).toBeCloseTo(0.905469, 5);
    expect(w.revenuePerMemberUpliftMinor).toBeUndefined();
    expect(w.incrementalRevenueMinor).toBe(38_000);
  });

  it('per tier: no relative uplift without control conversions, no revenue interval below 30 members', () => {
    const entry = window('welcome', 'Entry', 7);
    expect(entry.sent).toMatchObject({ members: 3, converted: 2, revenueMinor: 12_000 });
    expect(entry.control).toMatchObject({ members: 2, converted: 1, revenueMinor: 6_000 });
    expect(entry.maturing).toEqual({ sent: 1, control: 0 });
    expect(entry.conversionUplift?.interval.low).toBeCloseTo(-0.445781, 5);

    const core7 = window('welcome', 'Core', 7);
    expect(core7.sent).toMatchObject({ members: 2, converted: 1 });
    expect(core7.control).toMatchObject({ members: 2, converted: 0, conversionRate: 0 });
    expect(core7.relativeUplift).toBeUndefined();
    expect(core7.conversionUplift?.estimate).toBeCloseTo(0.5, 12);

    const core30 = window('welcome', 'Core', 30);
    expect(core30.sent).toMatchObject({ members: 1, converted: 1, revenueMinor: 30_000 });
    expect(core30.control).toMatchObject({ members: 1, converted: 0 });
    expect(core30.maturing).toEqual({ sent: 1, control: 1 });
    expect(core30.conversionUplift?.interval.low).toBeCloseTo(-0.122109, 5);
    expect(core30.revenuePerMemberUpliftMinor).toBeUndefined();
    expect(core30.incrementalRevenueMinor).toBe(30_000);
  });

  it('has no uplift without a control group, and empty campaigns show zeros', () => {
    const winback = window('winback', 'all', 7);
    expect(winback.sent).toMatchObject({ members: 1, converted: 1, revenueMinor: 50_000 });
    expect(winback.control).toEqual({ members: 0, converted: 0, conversionRate: 0, revenueMinor: 0, revenuePerMemberMinor: 0 });
    expect(winback.conversionUplift).toBeUndefined();
    expect(winback.relativeUplift).toBeUndefined();
    expect(winback.revenuePerMemberUpliftMinor).toBeUndefined();
    expect(winback.incrementalRevenueMinor).toBeUndefined();
    expect(winback.significant).toBe(false);
    expect(window('replenishment', 'all', 30)).toEqual({
      windowDays: 30,
      sent: { members: 0, converted: 0, conversionRate: 0, revenueMinor: 0, revenuePerMemberMinor: 0 },
      control: { members: 0, converted: 0, conversionRate: 0, revenueMinor: 0, revenuePerMemberMinor: 0 },
      maturing: { sent: 0, control: 0 },
      significant: false,
    });
  });

  it('buckets matured welcome sends by hours from the trigger, over the shortest window', () => {
    expect(results.welcomeDecay).toEqual([
      { fromHours: 0, toHours: 1, members: 1, converted: 1, conversionRate: 1 }, // s1 (s6 is maturing)
      { fromHours: 1, toHours: 3, members: 1, converted: 1, conversionRate: 1 }, // s2
      { fromHours: 3, toHours: 6, members: 0, converted: 0, conversionRate: 0 },
      { fromHours: 6, toHours: 12, members: 0, converted: 0, conversionRate: 0 },
      { fromHours: 12, toHours: 24, members: 1, converted: 0, conversionRate: 0 }, // s3
      { fromHours: 24, toHours: 48, members: 0, converted: 0, conversionRate: 0 },
      { fromHours: 48, toHours: 72, members: 1, converted: 1, conversionRate: 1 }, // s4
      { fromHours: 72, members: 1, converted: 0, conversionRate: 0 }, // s5; s7 has no trigger time
    ]);
  });

  it('keeps a compact headline per campaign for the run summary', () => {
    expect(campaignHeadlines(results)[0]).toEqual({
      campaignId: 'welcome',
      due: 15,
      sends: 7,
      heldOut: 4,
      windows: [
        { windowDays: 7, sentMembers: 6, controlMembers: 4, conversionUplift: 0.25, significant: false },
        { windowDays: 30, sentMembers: 4, controlMembers: 2, conversionUplift: 0.5, significant: false },
      ],
    });
    expect(campaignHeadlines(results).map((h) => h.campaignId)).toEqual(['welcome', 'replenishment', 'winback', 'old-promo']);
    expect(campaignHeadlines(results)[1]?.windows[0]).toEqual({ windowDays: 7, sentMembers: 0, controlMembers: 0, significant: false });
  });
});

describe('computeCampaignResults: significance, windows and the period', () => {
  it('is significant when the interval excludes 0: 30/100 against 10/100', () => {
    const many: CampaignDecision[] = [];
    const orders = new Map<string, OrderFact[]>();
    for (let i = 0; i < 100; i++) {
      many.push({ customerId: `s${i}`, campaignId: 'winback', group: 'sent', at: A });
      many.push({ customerId: `c${i}`, campaignId: 'winback', group: 'control', at: A });
      if (i < 30) orders.set(`s${i}`, [order(A + DAY, 1_000)]);
      if (i < 10) orders.set(`c${i}`, [order(A + DAY, 1_000)]);
    }
    const w = computeCampaignResults({ decisions: many, ordersByClient: orders, runDate: RUN_DATE, now: NOW, config }).segments.find(
      (s) => s.campaignId === 'winback',
    )?.windows[0];
    expect(w?.conversionUplift?.estimate).toBeCloseTo(0.2, 12);
    expect(w?.conversionUplift?.interval.low).toBeCloseTo(0.090002, 5);
    expect(w?.conversionUplift?.interval.high).toBeCloseTo(0.305789, 5);
    expect(w?.significant).toBe(true);
    expect(w?.relativeUplift).toBeCloseTo(2, 12);
    // Welch on 30 × 1000 + 70 × 0 against 10 × 1000 + 90 × 0 (scipy.stats.ttest_ind, equal_var=False).
    expect(w?.revenuePerMemberUpliftMinor?.estimate).toBeCloseTo(200, 9);
    expect(w?.revenuePerMemberUpliftMinor?.interval.low).toBeCloseTo(91.337104, 4);
    expect(w?.revenuePerMemberUpliftMinor?.interval.high).toBeCloseTo(308.662896, 4);
  });

  /** One campaign's first window for sent [members, converted] against control [members, converted]. */
  function firstWindow(sent: [number, number], control: [number, number]): WindowResult {
    const tiny: CampaignDecision[] = [];
    const orders = new Map<string, OrderFact[]>();
    const add = (group: 'sent' | 'control', [members, converted]: [number, number]) => {
      for (let i = 0; i < members; i++) {
        tiny.push({ customerId: `${group}${i}`, campaignId: 'winback', tier: 'Entry', group, at: A });
        if (i < converted) orders.set(`${group}${i}`, [order(A + DAY, 5_000)]);
      }
    };
    add('sent', sent);
    add('control', control);
    const segment = computeCampaignResults({ decisions: tiny, ordersByClient: orders, runDate: RUN_DATE, now: NOW, config }).segments.find(
      (s) => s.campaignId === 'winback' && s.tier === 'all',
    );
    return segment?.windows[0] as WindowResult;
  }

  it('claims nothing for tiny groups, however lopsided: 2/2 vs 0/2, 3/3 vs 0/3, 20/20 vs 0/1', () => {
    for (const [sent, control] of [[[2, 2], [2, 0]], [[3, 3], [3, 0]], [[20, 20], [1, 0]], [[29, 29], [30, 0]]] as [number, number][][]) {
      const w = firstWindow(sent as [number, number], control as [number, number]);
      // The interval is still reported (and excludes 0): only the claim is withheld.
      expect(w.conversionUplift?.interval.low).toBeGreaterThan(0);
      expect(w.significant).toBe(false);
      // Every converter spent the same 5,000: no variance to estimate, no zero-width interval.
      expect(w.revenuePerMemberUpliftMinor).toBeUndefined();
    }
  });

  it('claims a difference once each group has 30 members and 5 of each outcome', () => {
    expect(firstWindow([30, 25], [30, 5]).significant).toBe(true);
    expect(firstWindow([30, 25], [30, 4]).significant).toBe(false);
    expect(firstWindow([30, 26], [30, 5]).significant).toBe(false);
    // Large enough, but the interval crosses 0: not significant.
    expect(firstWindow([100, 12], [100, 10]).significant).toBe(false);
  });

  it('follows the configured windows and level; a welcome without sends has no decay curve', () => {
    const custom = parseConfig({ timeZone: 'UTC', reports: { conversionWindowsDays: [14, 3], confidenceLevel: 0.9 } });
    const result = computeCampaignResults({
      decisions: [{ customerId: 's1', campaignId: 'winback', group: 'sent', at: NOW - 5 * DAY }],
      ordersByClient: new Map(),
      runDate: RUN_DATE,
      now: NOW,
      config: custom,
    });
    expect(result).toMatchObject({ windowsDays: [14, 3], confidenceLevel: 0.9, periodStart: '2026-10-10', welcomeDecay: [] }); // 14 + 30 days back
    expect(result.segments.find((s) => s.campaignId === 'winback')?.windows.map((w) => [w.windowDays, w.sent.members, w.maturing.sent])).toEqual([
      [14, 0, 1],
      [3, 1, 0],
    ]);
  });

  it('starts the period at local midnight in the brand time zone, longest window + 30 days back', () => {
    const shanghai = parseConfig({ timeZone: 'Asia/Shanghai' });
    expect(campaignResultsPeriod(RUN_DATE, shanghai)).toEqual({
      startDate: '2026-09-24',
      from: Date.parse('2026-09-23T16:00:00Z'),
      to: Date.parse('2026-11-23T16:00:00Z'),
    });
  });

  it('does not depend on the order of the decisions, and counts each once in all and once in its tier', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(decisions, { minLength: decisions.length }), (shuffled) => {
        expect(computeCampaignResults({ decisions: shuffled, unsent: [...unsent].reverse(), ordersByClient, runDate: RUN_DATE, now: NOW, config })).toEqual(results);
      }),
      { numRuns: 20 },
    );
    for (const campaignId of ['welcome', 'winback', 'old-promo']) {
      const tiers = results.segments.filter((s) => s.campaignId === campaignId && s.tier !== 'all');
      const all = segment(campaignId, 'all');
      const untiered = decisions.filter((d) => d.campaignId === campaignId && d.tier === undefined && d.customerId !== 's-early' && d.customerId !== 's-late');
      expect(tiers.reduce((n, s) => n + s.sends + s.heldOut, 0) + untiered.length).toBe(all.sends + all.heldOut);
    }
  });
  it('adds up over shards: the tallies of the clients split any way merge into the results of all (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.func(fc.nat()), (shards, pick) => {
        const shardOf = (customerId: string) => pick(customerId) % shards;
        const tallies = Array.from({ length: shards }, (_, i) =>
          tallyCampaignDecisions({
            decisions: decisions.filter((d) => shardOf(d.customerId) === i),
            unsent: unsent.filter((o) => shardOf(`${o.campaignId}/${o.status}/${o.at}`) === i),
            ordersByClient,
            runDate: RUN_DATE,
            now: NOW,
            config,
          }),
        );
        expect(campaignResultsOf(mergeCampaignTallies(tallies), { runDate: RUN_DATE, config })).toEqual(results);
      }),
      { numRuns: 30 },
    );
  });
});
