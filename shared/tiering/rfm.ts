import { releasableFloat64Array } from '#shared/releasable-memory.ts';
import type { RfmScores } from '#shared/model.ts';

/** The three RFM measures of one buyer (a client with at least one counted order). */
export interface RfmInput {
  /** Calendar days (brand time zone) from the last counted order to the run date. */
  daysSinceLast: number;
  /** Counted orders, lifetime. */
  orderCount: number;
  spend12mMinor: number;
}

/**
 * A buyer's quintile score on one measure is 1 + floor(5 × (values of the base strictly worse) / count).
 * Ties share a score, scores of the base's own values stay within 1..5 (at most count − 1 values
 * are worse), and the result does not depend on input order.
 *
 * The score only changes where floor(5 × worse / count) does, so four cut values of the sorted
 * base carry it exactly: with k_s = ceil((s − 1) × count / 5), a value scores at least s when at
 * least k_s values are worse, i.e. (higher is better) when it exceeds sorted[k_s − 1], or (lower
 * is better) when it is below sorted[count − k_s]. A sharded run merges every shard's measures
 * into these cuts once, and each shard then scores its buyers exactly as a single run would.
 */
export interface QuintileCuts {
  better: 'higher' | 'lower';
  /** For scores 2..5: the value a buyer must beat (exceed, or stay below) to reach that score. */
  cuts: number[];
}

export interface RfmReference {
  recency: QuintileCuts;
  frequency: QuintileCuts;
  monetary: QuintileCuts;
}

/** The cuts of a base of values (any order). An empty base has none: every value scores 1. */
export function quintileCuts(values: ArrayLike<number>, better: 'higher' | 'lower'): QuintileCuts {
  const sorted = releasableFloat64Array(values.length);
  sorted.set(values);
  sorted.sort();
  const count = sorted.length;
  const cuts: number[] = [];
  for (let score = 2; score <= 5 && count > 0; score++) {
    const k = Math.ceil(((score - 1) * count) / 5);
    if (k > count - 1) break; // no value of the base has that many worse values
    cuts.push(better === 'higher' ? (sorted[k - 1] as number) : (sorted[count - k] as number));
  }
  return { better, cuts };
}

/** The score of a value against a base's cuts. */
export function quintileScore(base: QuintileCuts, value: number): number {
  let score = 1;
  for (const cut of base.cuts) {
    if (base.better === 'higher' ? value > cut : value < cut) score += 1;
    else break;
  }
  return score;
}

/** Quintile score of each value against the values themselves. */
export function quintileScores(values: readonly number[], better: 'higher' | 'lower'): number[] {
  const base = quintileCuts(values, better);
  return values.map((value) => quintileScore(base, value));
}

/**
 * The measures of a buyer base as columns, one buyer at a time: three numbers a buyer in typed
 * arrays, rather than an object (~100 bytes of heap a buyer). They die before the profiles' pass,
 * the night's peak, so they live in releasable memory (shared/releasable-memory.ts), grown by
 * doubling: each outgrown array goes back to the system when collected.
 */
export class RfmMeasureColumns {
  private daysSinceLast = releasableFloat64Array(FIRST_MEASURES);
  private orderCount = releasableFloat64Array(FIRST_MEASURES);
  private spend12mMinor = releasableFloat64Array(FIRST_MEASURES);
  private length = 0;

  add(buyer: RfmInput): void {
    if (this.length === this.daysSinceLast.length) this.grow();
    this.daysSinceLast[this.length] = buyer.daysSinceLast;
    this.orderCount[this.length] = buyer.orderCount;
    this.spend12mMinor[this.length] = buyer.spend12mMinor;
    this.length += 1;
  }

  /** The buyers' measures: views of the columns, valid until the next add. */
  columns(): { daysSinceLast: Float64Array; orderCount: Float64Array; spend12mMinor: Float64Array } {
    return { daysSinceLast: this.daysSinceLast.subarray(0, this.length), orderCount: this.orderCount.subarray(0, this.length), spend12mMinor: this.spend12mMinor.subarray(0, this.length) };
  }

  private grow(): void {
    const grown = (column: Float64Array): Float64Array => {
      const bigger = releasableFloat64Array(column.length * 2);
      bigger.set(column);
      return bigger;
    };
    this.daysSinceLast = grown(this.daysSinceLast);
    this.orderCount = grown(this.orderCount);
    this.spend12mMinor = grown(this.spend12mMinor);
  }
}

/** Buyers the measure columns have room for before they first grow. */
const FIRST_MEASURES = 1024;

/** The reference of a buyer base from its measures, as columns (any order). */
export function rfmReferenceOf(columns: { daysSinceLast: ArrayLike<number>; orderCount: ArrayLike<number>; spend12mMinor: ArrayLike<number> }): RfmReference {
  return {
    recency: quintileCuts(columns.daysSinceLast, 'lower'),
    frequency: quintileCuts(columns.orderCount, 'higher'),
    monetary: quintileCuts(columns.spend12mMinor, 'higher'),
  };
}

/** The reference of a buyer base. */
export function rfmReference(buyers: readonly RfmInput[]): RfmReference {
  return rfmReferenceOf({
    daysSinceLast: buyers.map((b) => b.daysSinceLast),
    orderCount: buyers.map((b) => b.orderCount),
    spend12mMinor: buyers.map((b) => b.spend12mMinor),
  });
}

/** One buyer's scores against a base: R (fewer days is better), F, M. */
export function rfmScoreAgainst(reference: RfmReference, buyer: RfmInput): RfmScores {
  return {
    r: quintileScore(reference.recency, buyer.daysSinceLast),
    f: quintileScore(reference.frequency, buyer.orderCount),
    m: quintileScore(reference.monetary, buyer.spend12mMinor),
  };
}

/** Scores every buyer against the whole buyer base. */
export function rfmScores(buyers: readonly RfmInput[]): RfmScores[] {
  const reference = rfmReference(buyers);
  return buyers.map((buyer) => rfmScoreAgainst(reference, buyer));
}
