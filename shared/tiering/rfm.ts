import type { RfmScores } from '../model.ts';

/** The three RFM measures of one buyer (a client with at least one counted order). */
export interface RfmInput {
  /** Calendar days (brand time zone) from the last counted order to the run date. */
  daysSinceLast: number;
  /** Counted orders, lifetime. */
  orderCount: number;
  spend12mMinor: number;
}

/**
 * Quintile score of each value: 1 + floor(5 × (values strictly worse) / count). Ties share a
 * score, scores stay within 1..5 (at most count − 1 values are worse), and the result does
 * not depend on input order. `better` says which direction wins ('lower' for recency days).
 */
export function quintileScores(values: readonly number[], better: 'higher' | 'lower'): number[] {
  const count = values.length;
  const sorted = Float64Array.from(values).sort();
  return values.map((value) => {
    const worse = better === 'higher' ? lowerBound(sorted, value) : count - upperBound(sorted, value);
    return 1 + Math.floor((5 * worse) / count);
  });
}

/** Scores every buyer against the whole buyer base: R (fewer days is better), F, M. */
export function rfmScores(buyers: readonly RfmInput[]): RfmScores[] {
  const r = quintileScores(buyers.map((b) => b.daysSinceLast), 'lower');
  const f = quintileScores(buyers.map((b) => b.orderCount), 'higher');
  const m = quintileScores(buyers.map((b) => b.spend12mMinor), 'higher');
  return buyers.map((_, i) => ({ r: r[i] as number, f: f[i] as number, m: m[i] as number }));
}

/** Number of elements < value. */
function lowerBound(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Number of elements <= value. */
function upperBound(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
