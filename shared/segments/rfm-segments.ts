import { z } from 'zod';
import type { RfmScores } from '#shared/model.ts';

/**
 * RFM segments: named groups of buyers by their R, F and M scores (1-5 each, rfm.ts), so that the
 * scores become treatments (domain.md: "scores nobody acts on are wasted"). A segment map is an
 * ordered list of rules; the first rule whose ranges hold a buyer's scores names their segment.
 * The map must give every one of the 125 score combinations a segment, so no buyer is left out.
 */

/** Segment names end up in audiences, reports and metric dimensions: short keys. */
const segmentName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be 1-40 lower-case letters, digits or "-", starting with a letter');

const scoreRange = z
  .tuple([z.number().int().min(1).max(5), z.number().int().min(1).max(5)], { error: 'must be [lowest, highest], scores 1 to 5' })
  .refine(([low, high]) => low <= high, 'must be [lowest, highest] with lowest <= highest');

export const rfmSegmentRuleSchema = z.strictObject({
  name: segmentName,
  /** Inclusive ranges of the scores; an absent one is any score. */
  r: scoreRange.default([1, 5]),
  f: scoreRange.default([1, 5]),
  m: scoreRange.default([1, 5]),
});
export type RfmSegmentRule = z.infer<typeof rfmSegmentRuleSchema>;

/**
 * The usual map on recency and frequency (the 5 x 5 grid marketers know), every monetary score
 * alike; 'lost' takes the grid's oldest, least frequent corner. F ranks order counts, so most
 * one-order buyers share its lowest score.
 *
 *        F 1        F 2        F 3        F 4        F 5
 *  R 5   new        potential  potential  champions  champions
 *  R 4   promising  potential  potential  loyal      loyal
 *  R 3   asleep*    asleep*    attention  loyal      loyal
 *  R 2   hibernat.  hibernat.  at-risk    at-risk    cant-lose
 *  R 1   lost       lost       at-risk    at-risk    cant-lose
 *  (* about-to-sleep)
 */
export const DEFAULT_RFM_SEGMENTS: readonly RfmSegmentRule[] = [
  { name: 'champions', r: [5, 5], f: [4, 5], m: [1, 5] },
  { name: 'loyal', r: [3, 4], f: [4, 5], m: [1, 5] },
  { name: 'potential-loyalists', r: [4, 5], f: [2, 3], m: [1, 5] },
  { name: 'new', r: [5, 5], f: [1, 1], m: [1, 5] },
  { name: 'promising', r: [4, 4], f: [1, 1], m: [1, 5] },
  { name: 'needs-attention', r: [3, 3], f: [3, 3], m: [1, 5] },
  { name: 'about-to-sleep', r: [3, 3], f: [1, 2], m: [1, 5] },
  { name: 'cant-lose', r: [1, 2], f: [5, 5], m: [1, 5] },
  { name: 'at-risk', r: [1, 2], f: [3, 4], m: [1, 5] },
  { name: 'hibernating', r: [2, 2], f: [1, 2], m: [1, 5] },
  { name: 'lost', r: [1, 1], f: [1, 2], m: [1, 5] },
];

const inRange = ([low, high]: readonly [number, number], score: number) => score >= low && score <= high;

/** The first rule holding the scores, or undefined (a complete map always has one). */
export function rfmSegmentRuleOf(scores: Pick<RfmScores, 'r' | 'f' | 'm'>, rules: readonly RfmSegmentRule[]): RfmSegmentRule | undefined {
  return rules.find((rule) => inRange(rule.r, scores.r) && inRange(rule.f, scores.f) && inRange(rule.m, scores.m));
}

/** The segment of a buyer's scores under a complete map. */
export function rfmSegmentOf(scores: Pick<RfmScores, 'r' | 'f' | 'm'>, rules: readonly RfmSegmentRule[]): string {
  const rule = rfmSegmentRuleOf(scores, rules);
  // rfmSegmentsSchema refuses a map with a gap, so a parsed config always has a rule.
  if (!rule) throw new Error(`no RFM segment for R${scores.r} F${scores.f} M${scores.m}`);
  return rule.name;
}

/**
 * Whether the map can put a client who has just ordered in the segment: an order gives her the
 * top recency score (her days since the last order are the base's fewest), so a segment no cell
 * of R 5 maps to is one she enters by days without an order and leaves by ordering (under the
 * default map every segment but champions, potential loyalists and new).
 */
export function holdsTopRecency(segment: string, rules: readonly RfmSegmentRule[]): boolean {
  for (let f = 1; f <= 5; f++) {
    for (let m = 1; m <= 5; m++) if (rfmSegmentRuleOf({ r: 5, f, m }, rules)?.name === segment) return true;
  }
  return false;
}

/** Every (r, f, m) the map leaves without a segment. */
export function uncoveredScores(rules: readonly RfmSegmentRule[]): RfmScores[] {
  const gaps: RfmScores[] = [];
  for (let r = 1; r <= 5; r++) {
    for (let f = 1; f <= 5; f++) {
      for (let m = 1; m <= 5; m++) if (!rfmSegmentRuleOf({ r, f, m }, rules)) gaps.push({ r, f, m });
    }
  }
  return gaps;
}

export const rfmSegmentsSchema = z
  .array(rfmSegmentRuleSchema)
  .min(1, 'needs at least one segment')
  .superRefine((rules, ctx) => {
    const seen = new Set<string>();
    rules.forEach((rule, i) => {
      if (seen.has(rule.name)) ctx.addIssue({ code: 'custom', message: `names segment "${rule.name}" twice`, path: [i, 'name'] });
      seen.add(rule.name);
    });
    const gaps = uncoveredScores(rules);
    if (gaps.length > 0) {
      const shown = gaps.slice(0, 5).map((g) => `R${g.r} F${g.f} M${g.m}`);
      ctx.addIssue({
        code: 'custom',
        message: `leaves ${gaps.length} score combination${gaps.length === 1 ? '' : 's'} without a segment (${shown.join(', ')}${gaps.length > 5 ? ', ...' : ''}): every buyer needs one`,
      });
    }
  });

/** The segment names of a map, in its order (the report's order). */
export function rfmSegmentNames(rules: readonly RfmSegmentRule[]): string[] {
  return rules.map((rule) => rule.name);
}
