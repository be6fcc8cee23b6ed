import type { Interval } from './model.ts';
import { normalQuantile, studentTQuantile } from './significance.ts';

/**
 * The statistics of a campaign's effect against its control group: pure functions of counts and
 * sums, so the results can be accumulated in one pass and the arithmetic tested on its own.
 *
 * Conversion uplift (a difference of two proportions) uses Newcombe's hybrid score interval
 * (Newcombe 1998, "Interval estimation for the difference between independent proportions",
 * Statistics in Medicine 17:873-890, method 10), built from the two groups' Wilson score
 * intervals. Why this one: control groups are small (10% of the sends, fewer in one tier) and
 * conversion rates sit close to 0; the simple Wald interval collapses to zero width when a group
 * converts nobody and undercovers badly at small counts, while method 10 keeps close to its
 * nominal coverage there, never leaves [-1, 1] and has a closed form (no iteration).
 *
 * Revenue uplift (a difference of means of revenue per member) uses Welch's interval: unequal
 * variances (a campaign changes the spread, not only the mean) with Welch-Satterthwaite degrees
 * of freedom and Student's t quantile, which matters for a tier with a handful of members.
 * Revenue is heavy-tailed, so it relies on the central limit theorem: read it for large groups.
 *
 * Both rest on large-sample approximations, so a small test claims nothing: a conversion uplift
 * is significant only when inferenceHolds (each group at least MIN_GROUP_MEMBERS members, and at
 * least MIN_GROUP_OUTCOMES conversions and as many non-conversions in each), and a revenue
 * interval is given only for groups of MIN_GROUP_MEMBERS members whose revenue varies.
 */

/**
 * Members a group needs before the results claim anything of it. Below it an interval can still
 * exclude 0 (Newcombe's does at 2/2 against 0/2) without the data being able to support it.
 */
export const MIN_GROUP_MEMBERS = 30;

/** Conversions, and non-conversions, each group needs for the normal approximation (the usual np >= 5 rule). */
export const MIN_GROUP_OUTCOMES = 5;

/** Successes (converted members) out of trials (members). */
export interface Proportion {
  successes: number;
  trials: number;
}

/** What the Welch interval needs of one group's per-member values, accumulated in one pass. */
export interface SampleMoments {
  count: number;
  sum: number;
  sumOfSquares: number;
}

export interface Estimate {
  estimate: number;
  interval: Interval;
}

function twoSidedNormalQuantile(confidenceLevel: number): number {
  if (!(confidenceLevel > 0 && confidenceLevel < 1)) throw new RangeError(`confidence level must be in (0, 1), got ${confidenceLevel}`);
  return normalQuantile(1 - (1 - confidenceLevel) / 2);
}

function validateProportion({ successes, trials }: Proportion): void {
  if (!(Number.isInteger(successes) && Number.isInteger(trials) && successes >= 0 && trials > 0 && successes <= trials)) {
    throw new RangeError(`a proportion needs whole 0 <= successes <= trials, trials > 0; got ${successes}/${trials}`);
  }
}

/**
 * Wilson's score interval for one proportion (without continuity correction): the p whose score
 * test at the confidence level does not reject. Stays inside [0, 1] and has width at 0/n.
 */
export function wilsonInterval(proportion: Proportion, confidenceLevel: number): Interval {
  validateProportion(proportion);
  const z = twoSidedNormalQuantile(confidenceLevel);
  const n = proportion.trials;
  const p = proportion.successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const halfWidth = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At 0/n and n/n one bound is exactly the observed p; rounding must not push it past it.
  return { low: Math.max(0, Math.min(p, centre - halfWidth)), high: Math.min(1, Math.max(p, centre + halfWidth)) };
}

/**
 * p₁ − p₂ with Newcombe's hybrid score interval (method 10): with (l₁, u₁), (l₂, u₂) the Wilson
 * intervals, the interval is (D − √((p₁ − l₁)² + (u₂ − p₂)²), D + √((u₁ − p₁)² + (p₂ − l₂)²)).
 */
export function proportionDifference(first: Proportion, second: Proportion, confidenceLevel: number): Estimate {
  const p1 = first.successes / first.trials;
  const p2 = second.successes / second.trials;
  const w1 = wilsonInterval(first, confidenceLevel);
  const w2 = wilsonInterval(second, confidenceLevel);
  const estimate = p1 - p2;
  return {
    estimate,
    interval: {
      low: estimate - Math.hypot(p1 - w1.low, w2.high - p2),
      high: estimate + Math.hypot(w1.high - p1, p2 - w2.low),
    },
  };
}

/**
 * Whether two proportions are large enough for a significance claim: each group has at least
 * MIN_GROUP_MEMBERS trials and at least MIN_GROUP_OUTCOMES successes and failures.
 */
export function inferenceHolds(first: Proportion, second: Proportion): boolean {
  return [first, second].every(
    ({ successes, trials }) => trials >= MIN_GROUP_MEMBERS && successes >= MIN_GROUP_OUTCOMES && trials - successes >= MIN_GROUP_OUTCOMES,
  );
}

/** The unbiased sample variance from the moments (n >= 2). */
function sampleVariance({ count, sum, sumOfSquares }: SampleMoments): number {
  // Rounding can make a zero variance come out a hair below 0.
  return Math.max(0, (sumOfSquares - (sum * sum) / count) / (count - 1));
}

/**
 * mean₁ − mean₂ with Welch's interval. Undefined when a group has fewer than MIN_GROUP_MEMBERS
 * members (too few to estimate a variance a heavy-tailed revenue can be judged by) or when
 * neither group varies (a standard error of 0 would draw a zero-width interval, a certainty the
 * data does not give).
 */
export function meanDifference(first: SampleMoments, second: SampleMoments, confidenceLevel: number): (Estimate & { degreesOfFreedom: number }) | undefined {
  twoSidedNormalQuantile(confidenceLevel); // validates the level the same way as the proportions
  if (first.count < MIN_GROUP_MEMBERS || second.count < MIN_GROUP_MEMBERS) return undefined;
  const estimate = first.sum / first.count - second.sum / second.count;
  const v1 = sampleVariance(first) / first.count;
  const v2 = sampleVariance(second) / second.count;
  const variance = v1 + v2;
  if (variance === 0) return undefined;
  const degreesOfFreedom = (variance * variance) / ((v1 * v1) / (first.count - 1) + (v2 * v2) / (second.count - 1));
  const halfWidth = studentTQuantile(1 - (1 - confidenceLevel) / 2, degreesOfFreedom) * Math.sqrt(variance);
  return { estimate, interval: { low: estimate - halfWidth, high: estimate + halfWidth }, degreesOfFreedom };
}

/** rate₁ / rate₂ − 1; undefined when the second rate is 0 (no baseline to be relative to). */
export function relativeUplift(rate: number, baselineRate: number): number | undefined {
  return baselineRate > 0 ? rate / baselineRate - 1 : undefined;
}

/** The interval lies entirely on one side of 0. */
export function excludesZero(interval: Interval): boolean {
  return interval.low > 0 || interval.high < 0;
}
