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
 * The buyer base each measure is scored against: its values, sorted. Scoring a buyer needs only
 * this, so a sharded run builds it once from every shard's measures and each shard then scores
 * its own buyers exactly as a single run would.
 */
export interface RfmReference {
  daysSinceLast: Float64Array;
  orderCount: Float64Array;
  spend12mMinor: Float64Array;
}

/** The reference of a buyer base (any order: the values are sorted). */
export function rfmReference(buyers: readonly RfmInput[]): RfmReference {
  const sorted = (pick: (b: RfmInput) => number) => Float64Array.from(buyers, pick).sort();
  return {
    daysSinceLast: sorted((b) => b.daysSinceLast),
    orderCount: sorted((b) => b.orderCount),
    spend12mMinor: sorted((b) => b.spend12mMinor),
  };
}

/**
 * Quintile score of a value within a sorted base: 1 + floor(5 × (values strictly worse) / count).
 * Ties share a score, and a value from the base scores within 1..5 (at most count − 1 values are
 * worse). `better` says which direction wins ('lower' for recency days).
 */
export function quintileScore(sorted: Float64Array, value: number, better: 'higher' | 'lower'): number {
  const count = sorted.length;
  const worse = better === 'higher' ? lowerBound(sorted, value) : count - upperBound(sorted, value);
  return 1 + Math.floor((5 * worse) / count);
}

/** Quintile score of each value against the values themselves; independent of input order. */
export function quintileScores(values: readonly number[], better: 'higher' | 'lower'): number[] {
  const sorted = Float64Array.from(values).sort();
  return values.map((value) => quintileScore(sorted, value, better));
}

/** One buyer's scores against a base: R (fewer days is better), F, M. */
export function rfmScoreAgainst(reference: RfmReference, buyer: RfmInput): RfmScores {
  return {
    r: quintileScore(reference.daysSinceLast, buyer.daysSinceLast, 'lower'),
    f: quintileScore(reference.orderCount, buyer.orderCount, 'higher'),
    m: quintileScore(reference.spend12mMinor, buyer.spend12mMinor, 'higher'),
  };
}

/** Scores every buyer against the whole buyer base. */
export function rfmScores(buyers: readonly RfmInput[]): RfmScores[] {
  const reference = rfmReference(buyers);
  return buyers.map((buyer) => rfmScoreAgainst(reference, buyer));
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
