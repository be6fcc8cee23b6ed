import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inAudience } from '#shared/campaigns/policy.ts';
import { parseConfig } from '#shared/config.ts';
import { diffProfiles } from '#shared/nightly/diff.ts';
import { distribution, mergeDistributions } from '#shared/tiering/distribution.ts';
import {
  DEFAULT_RFM_SEGMENTS,
  rfmSegmentOf,
  rfmSegmentRuleOf,
  rfmSegmentsSchema,
  uncoveredScores,
  type RfmSegmentRule,
} from '#shared/segments/rfm-segments.ts';
import { clientProfile } from '#test/support/profiles.ts';

const score = fc.integer({ min: 1, max: 5 });
const scores = fc.record({ r: score, f: score, m: score });

describe('RFM segments: the default map', () => {
  it('gives every one of the 125 score combinations a segment', () => {
    expect(uncoveredScores(DEFAULT_RFM_SEGMENTS)).toEqual([]);
    expect(rfmSegmentsSchema.safeParse(DEFAULT_RFM_SEGMENTS).success).toBe(true);
  });

  it('names the usual cells of the recency x frequency grid', () => {
    const at = (r: number, f: number, m = 3) => rfmSegmentOf({ r, f, m }, DEFAULT_RFM_SEGMENTS);
    expect(at(5, 5)).toBe('champions');
    expect(at(5, 4, 1)).toBe('champions');
    expect(at(4, 5)).toBe('loyal');
    expect(at(3, 4)).toBe('loyal');
    expect(at(5, 2)).toBe('potential-loyalists');
    expect(at(4, 3)).toBe('potential-loyalists');
    expect(at(5, 1)).toBe('new');
    expect(at(4, 1)).toBe('promising');
    expect(at(3, 3)).toBe('needs-attention');
    expect(at(3, 1)).toBe('about-to-sleep');
    expect(at(2, 4)).toBe('at-risk');
    expect(at(1, 3)).toBe('at-risk');
    expect(at(1, 5, 5)).toBe('cant-lose');
    expect(at(2, 2)).toBe('hibernating');
    expect(at(1, 1)).toBe('lost');
    expect(new Set(DEFAULT_RFM_SEGMENTS.map((r) => r.name)).size).toBe(11);
  });

  it('every segment of the default map holds at least one cell (no rule is shadowed)', () => {
    const reached = new Set<string>();
    for (let r = 1; r <= 5; r++) for (let f = 1; f <= 5; f++) for (let m = 1; m <= 5; m++) reached.add(rfmSegmentOf({ r, f, m }, DEFAULT_RFM_SEGMENTS));
    expect([...reached].sort()).toEqual(DEFAULT_RFM_SEGMENTS.map((r) => r.name).sort());
  });
});

describe('RFM segments: any map', () => {
  const range = fc.tuple(score, score).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as [number, number]);
  const rule = fc.record({ name: fc.constantFrom('a', 'b', 'c', 'd'), r: range, f: range, m: range });

  it('the first rule holding the scores names the segment, whatever follows it (property)', () => {
    fc.assert(
      fc.property(fc.array(rule, { minLength: 1, maxLength: 6 }), scores, (rules: RfmSegmentRule[], s) => {
        const complete = [...rules, { name: 'rest', r: [1, 5], f: [1, 5], m: [1, 5] } as RfmSegmentRule];
        const first = complete.find((x) => s.r >= x.r[0] && s.r <= x.r[1] && s.f >= x.f[0] && s.f <= x.f[1] && s.m >= x.m[0] && s.m <= x.m[1]);
        expect(rfmSegmentRuleOf(s, complete)).toBe(first);
        expect(rfmSegmentOf(s, complete)).toBe(first?.name);
      }),
    );
  });

  it('a map with a gap, a duplicate name or a bad range is refused, naming what is wrong', () => {
    const gap = rfmSegmentsSchema.safeParse([{ name: 'recent', r: [3, 5] }]);
    expect(gap.success).toBe(false);
    expect(gap.error?.issues[0]?.message).toMatch(/leaves 50 score combinations without a segment \(R1 F1 M1, R1 F1 M2, .*\.\.\.\): every buyer needs one/);
    const twice = rfmSegmentsSchema.safeParse([{ name: 'all' }, { name: 'all' }]);
    expect(twice.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['1.name', 'names segment "all" twice']]);
    expect(rfmSegmentsSchema.safeParse([{ name: 'all', r: [4, 2] }]).success).toBe(false);
    expect(rfmSegmentsSchema.safeParse([{ name: 'All Buyers' }]).success).toBe(false);
  });
});

describe('RFM segments in the config and in audiences', () => {
  it('an audience naming an undefined segment is an error naming the campaign and the field', () => {
    expect(() => parseConfig({ campaigns: { campaigns: [{ kind: 'winback', audience: { rfmSegments: ['at-risk', 'cant-loose'] } }] } })).toThrow(
      /campaigns\.campaigns\.0\.audience\.rfmSegments\.1: campaign "winback": no RFM segment "cant-loose"/,
    );
    const custom = parseConfig({ rfmSegments: [{ name: 'best', r: [4, 5] }, { name: 'others' }], campaigns: { campaigns: [{ kind: 'winback', audience: { rfmSegments: ['others'] } }] } });
    expect(custom.rfmSegments.map((r) => r.name)).toEqual(['best', 'others']);
  });

  it('an audience with segments takes only buyers in them; without, everyone', () => {
    const config = parseConfig({ campaigns: { campaigns: [{ kind: 'winback', audience: { rfmSegments: ['at-risk', 'cant-lose'] } }, { id: 'all', kind: 'winback' }] } });
    const [bySegment, everyone] = config.campaigns.campaigns;
    if (!bySegment || !everyone) throw new Error('two campaigns expected');
    const atRisk = clientProfile({ tier: 'Core', stage: 'sleeping', rfm: { r: 1, f: 4, m: 4, segment: 'at-risk' } });
    const lost = clientProfile({ tier: 'Core', stage: 'sleeping', rfm: { r: 1, f: 1, m: 1, segment: 'lost' } });
    const unscored = clientProfile({ tier: 'Core', stage: 'sleeping' });
    expect([atRisk, lost, unscored].map((p) => inAudience(bySegment, p))).toEqual([true, false, false]);
    expect([atRisk, lost, unscored].map((p) => inAudience(everyone, p))).toEqual([true, true, true]);
  });
});

describe('RFM segments in the night', () => {
  const buyer = (customerId: string, segment: string) => clientProfile({ customerId, tier: 'Entry', stage: 'active', orderCount: 1, rfm: { r: 3, f: 1, m: 1, segment } });

  it('are counted per segment, and shards add up to the whole', () => {
    const all = [buyer('a', 'loyal'), buyer('b', 'loyal'), buyer('c', 'lost'), clientProfile({ customerId: 'p' })];
    expect(distribution(all).rfmSegments).toEqual({ loyal: 2, lost: 1 });
    expect(mergeDistributions([distribution(all.slice(0, 1)), distribution(all.slice(1))]).rfmSegments).toEqual({ loyal: 2, lost: 1 });
  });

  it('moves are counted between two segments only (not a first segment)', () => {
    const tonight = [buyer('a', 'at-risk'), buyer('b', 'loyal'), buyer('c', 'new'), buyer('d', 'loyal')];
    const stored = new Map([
      ['a', { digest: 'x', tier: 'Entry' as const, stage: 'active' as const, updatedRunDate: '2026-11-22', rfmSegment: 'loyal' }],
      ['b', { digest: 'x', tier: 'Entry' as const, stage: 'active' as const, updatedRunDate: '2026-11-22', rfmSegment: 'loyal' }],
      // Stored before segments existed: nothing to move from.
      ['d', { digest: 'x', tier: 'Entry' as const, stage: 'active' as const, updatedRunDate: '2026-11-22' }],
    ]);
    const diff = diffProfiles(tonight, (id) => stored.get(id), '2026-11-23');
    expect(diff.rfmSegmentMovements).toEqual({ 'loyal→at-risk': 1 });
  });
});
