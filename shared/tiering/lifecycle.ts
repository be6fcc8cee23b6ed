import type { Config } from '#shared/config.ts';
import type { Stage } from '#shared/model.ts';
import { daysBetweenDates } from '#shared/time.ts';

export type LifecycleConfig = Config['lifecycle'];

/** What the stage rules look at; day counts are calendar days in the brand time zone. */
export interface StageFacts {
  /** At least one counted order (net > 0) before the run's clock. */
  hasPurchased: boolean;
  /** Days from the first counted order's local date to the run date. */
  daysSinceFirst: number;
  /** Days from the last counted order's local date to the run date. */
  daysSinceLast: number;
  /** The client's own median reorder gap; undefined with a single order day. */
  usualReorderGapDays?: number;
}

/**
 * Median gap between consecutive distinct day numbers (days since an epoch, any order,
 * duplicates allowed), undefined with fewer than two distinct days. An even number of gaps
 * takes the mean of the middle two, rounded half up (gaps are whole days: only .5 occurs).
 */
export function medianDayGap(days: Iterable<number>): number | undefined {
  // Typed arrays sort numbers natively, without a comparator (this runs for every client and SKU).
  const sorted = Float64Array.from(days).sort();
  let distinct = 0;
  for (let i = 0; i < sorted.length; i++) {
    const day = sorted[i] as number;
    if (distinct === 0 || day !== sorted[distinct - 1]) sorted[distinct++] = day;
  }
  if (distinct < 2) return undefined;
  if (distinct === 2) return Math.round((sorted[1] as number) - (sorted[0] as number));
  const gaps = new Float64Array(distinct - 1);
  for (let i = 1; i < distinct; i++) gaps[i - 1] = (sorted[i] as number) - (sorted[i - 1] as number);
  return Math.round(medianOfSorted(gaps.sort()));
}

/** The median of sorted values (the mean of the middle two for an even count); NaN when empty. */
export function medianOfSorted(sorted: ArrayLike<number>): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** medianDayGap over local dates (YYYY-MM-DD). */
export function medianGapDays(dates: Iterable<string>): number | undefined {
  return medianDayGap([...dates].map((date) => daysBetweenDates('1970-01-01', date)));
}

/**
 * Lifecycle stage, first match wins:
 * prospect (no counted order) → churned (daysSinceLast >= churnedDays) → sleeping
 * (>= sleepingDays) → new (daysSinceFirst < newDays: the first order's day is day 0, so with
 * 30 days, day 29 is still new and day 30 is not) → at-risk (daysSinceLast strictly past the
 * usual reorder gap, the client's own or defaultReorderGapDays with a single order day; on the
 * gap day itself the client is on time) → active.
 */
export function stageFor(facts: StageFacts, lifecycle: LifecycleConfig): Stage {
  if (!facts.hasPurchased) return 'prospect';
  const lapse = lapseDepth(facts.daysSinceLast, lifecycle);
  if (lapse === LAPSE_DEPTH.churned) return 'churned';
  if (lapse === LAPSE_DEPTH.sleeping) return 'sleeping';
  if (facts.daysSinceFirst < lifecycle.newDays) return 'new';
  const usualGap = facts.usualReorderGapDays ?? lifecycle.defaultReorderGapDays;
  if (facts.daysSinceLast > usualGap) return 'at-risk';
  return 'active';
}

/** How far a buyer has lapsed, by the stages that say it: deeper is further from buying. */
export const LAPSE_DEPTH = { awake: 0, sleeping: 1, churned: 2 } as const;
export type LapseDepth = (typeof LAPSE_DEPTH)[keyof typeof LAPSE_DEPTH];

/** A buyer's lapse after `daysSinceLast` days without an order (stageFor's first two rules). */
export function lapseDepth(daysSinceLast: number, lifecycle: LifecycleConfig): LapseDepth {
  if (daysSinceLast >= lifecycle.churnedDays) return LAPSE_DEPTH.churned;
  if (daysSinceLast >= lifecycle.sleepingDays) return LAPSE_DEPTH.sleeping;
  return LAPSE_DEPTH.awake;
}

/** The lapse a stage says (new, active, at-risk and prospect: none). */
export function lapseDepthOfStage(stage: Stage): LapseDepth {
  return stage === 'churned' ? LAPSE_DEPTH.churned : stage === 'sleeping' ? LAPSE_DEPTH.sleeping : LAPSE_DEPTH.awake;
}
