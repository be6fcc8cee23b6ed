/**
 * Per-client predictions from fitted BG/NBD and Gamma-Gamma models: probability alive, expected
 * purchases in the next 90 and 365 days, expected order value, a 12-month discounted CLV and a
 * predicted next order date.
 */

import { MS_PER_DAY } from '#shared/time.ts';
import { expectedPurchasesIfAlive, probabilityAlive } from './bgnbd.ts';
import type { BgNbdParams } from './bgnbd.ts';
import { expectedAverageOrderValue } from './gammagamma.ts';
import type { GammaGammaParams } from './gammagamma.ts';
import { DAYS_PER_UNIT } from './summary.ts';
import type { RfmSummary, TimeUnit } from './summary.ts';

export interface ClvPrediction {
  probabilityAlive: number;
  expectedPurchases90d: number;
  expectedPurchases365d: number;
  /** Minor units, unrounded (a prediction, not an amount). */
  expectedAverageOrderValueMinor: number;
  /** Integer minor units. */
  clv12mMinor: number;
  /** Epoch ms; absent when the client is probably gone or the date would be > 2 years away. */
  predictedNextOrderAt?: number;
}

export interface ClvModels {
  bgnbd: BgNbdParams;
  gammaGamma: GammaGammaParams;
}

export interface PredictOptions {
  /** The unit the summaries (and so α) are in. */
  unit: TimeUnit;
  /** The instant the summaries were taken at (their T ends here). */
  calibrationEnd: number;
  /** Annual discount rate for the CLV, e.g. 0.1 for 10 %. */
  annualDiscountRate: number;
  /** Order value to assume for clients with no repeat purchase; default the Gamma-Gamma prior mean p·v/(q−1). */
  populationMeanAovMinor?: number;
  /** No next-order date below this probability alive. Default 0.05. */
  minProbabilityAlive?: number;
}

const DAYS_PER_MONTH = 365.25 / 12;
const NEXT_ORDER_CAP_DAYS = 730;

/** Predictions for one client; see `createClvPredictor` for the definitions. */
export function predictClient(models: ClvModels, s: RfmSummary, options: PredictOptions): ClvPrediction {
  return createClvPredictor(models, options)(s);
}

/**
 * A predictor for many clients. Everything that depends on (x, T) only (the expected purchases
 * given alive, over every horizon, and the next-order horizon) is memoised per (x, T), so a base
 * costs O(distinct (x, T)) series evaluations, not O(clients); P(alive) (which needs t_x) and
 * the order value are O(1) per client.
 *
 * Definitions (time horizons converted from days to the model unit):
 * - expectedPurchases90d / 365d: E[X(T, T+t) | x, t_x, T] (BG/NBD eq. 10).
 * - expectedAverageOrderValueMinor: the Gamma-Gamma conditional mean for repeat clients (m̄ = 0
 *   for repeat days worth 0: shrunk toward 0, not the population mean); for clients without
 *   repeat purchases, `populationMeanAovMinor` if given, else p·v/(q−1).
 * - clv12mMinor: Σₖ₌₁..₁₂ (E[X(T, T+k·m)] − E[X(T, T+(k−1)·m)]) · AOV / (1 + d)^(k/12), with
 *   m = 365.25/12 days: the expected purchases of each month valued at the expected order
 *   value and discounted monthly at the annual rate d. Rounded to an integer.
 * - predictedNextOrderAt: calibrationEnd + t*, where t* solves E[purchases in (T, T+t] | alive] = 1
 *   (= E[X(T, T+t)] / P(alive)), by bisection to within a minute: "by when would a client who is
 *   still active have made one more purchase on average". Absent when P(alive) <
 *   `minProbabilityAlive` or t* > 730 days.
 */
export function createClvPredictor(models: ClvModels, options: PredictOptions): (s: RfmSummary) => ClvPrediction {
  const { bgnbd, gammaGamma } = models;
  const perUnit = DAYS_PER_UNIT[options.unit];
  const d = options.annualDiscountRate;
  if (!(d > -1) || !Number.isFinite(d)) throw new RangeError(`annualDiscountRate must be > -1, got ${d}`);
  const minAlive = options.minProbabilityAlive ?? 0.05;
  const priorMean = options.populationMeanAovMinor ?? populationMean(gammaGamma);
  const monthFactors = Array.from({ length: 12 }, (_, k) => Math.pow(1 + d, -(k + 1) / 12));

  interface PerXT {
    e90: number;
    e365: number;
    /** Σ discount-weighted monthly expected purchases, given alive. */
    discountedPurchases: number;
    /** Days to the next purchase given alive, or undefined past the cap. */
    nextOrderDays: number | undefined;
  }
  const cache = new Map<number, Map<number, PerXT>>();
  const ifAlive = (x: number, T: number, days: number): number => expectedPurchasesIfAlive(bgnbd, x, T, days / perUnit);

  const computePerXT = (x: number, T: number): PerXT => {
    let previous = 0;
    let discountedPurchases = 0;
    for (let k = 1; k <= 12; k++) {
      const cumulative = ifAlive(x, T, k * DAYS_PER_MONTH);
      discountedPurchases += (cumulative - previous) * (monthFactors[k - 1] as number);
      previous = cumulative;
    }
    let nextOrderDays: number | undefined;
    if (ifAlive(x, T, NEXT_ORDER_CAP_DAYS) >= 1) {
      let lo = 0;
      let hi = NEXT_ORDER_CAP_DAYS;
      while (hi - lo > 1 / 1440) {
        const mid = (lo + hi) / 2;
        if (ifAlive(x, T, mid) >= 1) hi = mid;
        else lo = mid;
      }
      nextOrderDays = hi;
    }
    return { e90: ifAlive(x, T, 90), e365: ifAlive(x, T, 365), discountedPurchases, nextOrderDays };
  };

  return (s: RfmSummary): ClvPrediction => {
    const x = s.frequency;
    let byT = cache.get(x);
    if (!byT) cache.set(x, (byT = new Map()));
    let perXT = byT.get(s.T);
    if (!perXT) byT.set(s.T, (perXT = computePerXT(x, s.T)));
    const alive = probabilityAlive(bgnbd, s);
    const aov = x > 0 ? expectedAverageOrderValue(gammaGamma, s) : priorMean;
    if (!Number.isFinite(aov)) throw new RangeError('No finite order value: Gamma-Gamma q <= 1 and no populationMeanAovMinor');
    const prediction: ClvPrediction = {
      probabilityAlive: alive,
      expectedPurchases90d: alive * perXT.e90,
      expectedPurchases365d: alive * perXT.e365,
      expectedAverageOrderValueMinor: aov,
      clv12mMinor: Math.round(alive * perXT.discountedPurchases * aov),
    };
    if (alive >= minAlive && perXT.nextOrderDays !== undefined) {
      prediction.predictedNextOrderAt = options.calibrationEnd + Math.round(perXT.nextOrderDays * MS_PER_DAY);
    }
    return prediction;
  };
}

/** The Gamma-Gamma population mean order value p·v/(q − 1) (finite for q > 1). */
export function populationMean(params: GammaGammaParams): number {
  return params.q > 1 ? (params.p * params.v) / (params.q - 1) : Infinity;
}
