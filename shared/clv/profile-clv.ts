/**
 * The CLV models applied to the client base: one fit per night (BG/NBD for purchase counts,
 * Gamma-Gamma for order values) on every buyer's summary as of the run's clock, predictions per
 * buyer rounded for storage, and the rules that use them on the profile (rising clients, churn
 * risk, the at-risk stage). Pure: the clock and the configuration are arguments.
 */

import type { Config } from '#shared/config.ts';
import { CHURN_RISKS, TIERS, type ChurnRisk, type ClientClv, type ClientFacts, type ClientOrders, type ClientProfile, type Stage, type Tier } from '#shared/model.ts';
import { currencyExponent } from '#shared/money.ts';
import { addDays, MS_PER_DAY } from '#shared/time.ts';
import { runClock } from '#shared/tiering/profile.ts';
import { tierThresholdsMinor, type TierThresholdsMinor } from '#shared/tiering/tiers.ts';
import { fitBgNbd, type BgNbdParams, type FitReport } from './bgnbd.ts';
import { fitGammaGamma, type GammaGammaParams } from './gammagamma.ts';
import { createClvPredictor, type ClvPrediction } from './predict.ts';
import { calibrationEndDate, DAYS_PER_UNIT, summarise, type RfmSummary, type SummaryRules, type TimeUnit } from './summary.ts';

export type ClvConfig = Config['clv'];

/** The models' parameters and fit quality, as the nightly summary records them per run. */
export interface ClvRunReport {
  /** True when both models converged on enough repeat buyers and predictions were made. */
  fitted: boolean;
  /** Why there are no predictions tonight (fitted false). */
  skippedReason?: string;
  unit: TimeUnit;
  /** ISO instant the summaries end at, exclusive (the run's clock: T runs to the day before). */
  calibrationEnd: string;
  /** Buyers the BG/NBD model was fitted on. */
  clients: number;
  /** Buyers with at least one repeat purchase day (the Gamma-Gamma base). */
  repeatBuyers: number;
  bgnbd?: BgNbdParams;
  gammaGamma?: GammaGammaParams;
  /** BG/NBD log-likelihood (model units). */
  logLikelihood?: number;
  gammaGammaLogLikelihood?: number;
  /** BG/NBD optimiser iterations. */
  iterations?: number;
  gammaGammaIterations?: number;
  /** Both fits converged. */
  converged?: boolean;
  warnings: string[];
  /**
   * Buyers whose prediction failed with the accepted models (only a sample is probed before
   * they are accepted): they keep no clv tonight. In the night's summary only, absent when none.
   */
  predictionFailures?: number;
}

/** The per-client values stored on the profile before the profile's own rules (rising, churn risk). */
export type StoredClvPrediction = Omit<ClientClv, 'rising' | 'churnRisk'>;

/**
 * One buyer's prediction: the rounded values to store, and the unrounded 12-month CLV the rules
 * judge (rounding to 2 significant units must not lift 49,499.99 to a 50,000 threshold).
 */
export interface ClvEstimate {
  stored: StoredClvPrediction;
  /** The model's 12-month CLV before rounding, minor units (may be fractional); never stored. */
  clv12mMinor: number;
}

/**
 * The unrounded 12-month CLV of each ClientClv this process made (applyClv), for the report's
 * ranking of the rising clients: the stored value is rounded to 2 significant units (54,600 and
 * 55,400 are both kept as 55,000). Held beside the profile, never on it: a value that moves every
 * night would rewrite every buyer's profile.
 */
const unroundedClv12mMinor = new WeakMap<ClientClv, number>();

/** A profile's predicted 12-month CLV: unrounded when this night made it, else the stored (rounded) value. */
export function predictedClv12mMinor(clv: ClientClv): number {
  return unroundedClv12mMinor.get(clv) ?? clv.clv12mMinor;
}

export interface ClvAssessment {
  report: ClvRunReport;
  /** Predictions by customerId; empty when the fit was skipped. */
  predictions: Map<string, ClvEstimate>;
}

export interface ClvModelFit {
  report: ClvRunReport;
  /** Present only when the fit can be used. */
  models?: { bgnbd: BgNbdParams; gammaGamma: GammaGammaParams };
}

/** Buyers' summaries, with the customer id of each. */
export interface ClvBuyers {
  customerIds: string[];
  summaries: RfmSummary[];
}

/**
 * A collector of buyers' summaries as of `calibrationEnd` (clients with no purchase before it are
 * left out), to be fed the clients one by one: a pass over the clients made for something else
 * (the profiles, the RFM measures) can gather them, instead of another pass of its own.
 */
export function clvSummaryCollector(
  calibrationEnd: number,
  rules: SummaryRules,
  timeZone: string,
): { buyers: ClvBuyers; add(facts: ClientOrders): void } {
  const buyers: ClvBuyers = { customerIds: [], summaries: [] };
  return {
    buyers,
    add(facts) {
      const summary = summarise(facts.orders, calibrationEnd, rules, timeZone);
      if (summary === undefined) return;
      buyers.customerIds.push(facts.customerId);
      buyers.summaries.push(summary);
    },
  };
}

/** Every buyer's summary as of `calibrationEnd` (clients with no purchase before it are left out). */
export function clvSummaries(clients: Iterable<ClientOrders>, calibrationEnd: number, rules: SummaryRules, timeZone: string): ClvBuyers {
  const collector = clvSummaryCollector(calibrationEnd, rules, timeZone);
  for (const facts of clients) collector.add(facts);
  return collector.buyers;
}

/** An error as the reports and logs name it: its name and message (numbers only, no client data). */
function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Fits both models. Not usable (no `models`, `skippedReason` says why) with fewer repeat
 * buyers than `minRepeatBuyersToFit`, when either fit did not converge, or when the fit or the
 * probe of its predictions throws (a series or quadrature that does not converge): no
 * predictions beat wrong ones, and the models are an estimate the night can do without, so
 * this never throws for summaries `summarise` makes.
 */
export function fitClvModels(
  summaries: readonly RfmSummary[],
  calibrationEnd: number,
  clv: Pick<ClvConfig, 'unit' | 'minRepeatBuyersToFit'>,
): ClvModelFit {
  const repeatBuyers = summaries.reduce((n, s) => (s.frequency > 0 && s.monetaryValue > 0 ? n + 1 : n), 0);
  const report: ClvRunReport = {
    fitted: false,
    unit: clv.unit,
    calibrationEnd: new Date(calibrationEnd).toISOString(),
    clients: summaries.length,
    repeatBuyers,
    warnings: [],
  };
  if (repeatBuyers < clv.minRepeatBuyersToFit) {
    report.skippedReason = `${repeatBuyers} repeat buyers, fewer than minRepeatBuyersToFit (${clv.minRepeatBuyersToFit})`;
    return { report };
  }
  // The fit sums over the buyers in floating point: a canonical order makes it depend on the
  // buyers alone, not on the order they were read in (a sharded run gathers them shard by shard).
  const canonical = [...summaries].sort(
    (a, b) => a.frequency - b.frequency || a.recency - b.recency || a.T - b.T || a.monetaryValue - b.monetaryValue,
  );
  let bgnbd: FitReport<BgNbdParams>;
  let gammaGamma: FitReport<GammaGammaParams>;
  try {
    bgnbd = fitBgNbd(canonical);
    gammaGamma = fitGammaGamma(canonical);
  } catch (error) {
    report.skippedReason = `the fit failed (${describeError(error)})`;
    return { report };
  }
  report.bgnbd = bgnbd.params;
  report.gammaGamma = gammaGamma.params;
  report.logLikelihood = bgnbd.logLikelihood;
  report.gammaGammaLogLikelihood = gammaGamma.logLikelihood;
  report.iterations = bgnbd.iterations;
  report.gammaGammaIterations = gammaGamma.iterations;
  report.converged = bgnbd.converged && gammaGamma.converged;
  report.warnings = [...bgnbd.warnings.map((w) => `BG/NBD: ${w}`), ...gammaGamma.warnings.map((w) => `Gamma-Gamma: ${w}`)];
  const finite = [bgnbd.logLikelihood, gammaGamma.logLikelihood, ...Object.values(bgnbd.params), ...Object.values(gammaGamma.params)].every(
    Number.isFinite,
  );
  if (!report.converged || !finite) {
    const failed = [!bgnbd.converged ? 'BG/NBD' : undefined, !gammaGamma.converged ? 'Gamma-Gamma' : undefined, !finite ? 'a non-finite value' : undefined];
    report.skippedReason = `the fit did not converge (${failed.filter((f) => f !== undefined).join(', ')})`;
    return { report };
  }
  const models = { bgnbd: bgnbd.params, gammaGamma: gammaGamma.params };
  // A parameter that ran to its bound (e.g. BG/NBD's a and b growing together when dropout is
  // nearly constant) can converge and still make the closed forms overflow into NaN. Probe the
  // predictions on a spread of the buyers before trusting the fit: no predictions beat NaN ones.
  const probe = createClvPredictor(models, { unit: clv.unit, annualDiscountRate: 0, calibrationEnd });
  const stride = Math.max(1, Math.floor(canonical.length / 500));
  for (let i = 0; i < canonical.length; i += stride) {
    let prediction: ClvPrediction;
    try {
      prediction = probe(canonical[i] as RfmSummary);
    } catch (error) {
      report.skippedReason = `the fitted models give no prediction (${describeError(error)})`;
      return { report };
    }
    if (!predictionIsFinite(prediction)) {
      report.skippedReason = `the fitted models give no finite prediction (${report.warnings.join('; ') || 'numerical overflow'})`;
      return { report };
    }
  }
  report.fitted = true;
  return { report, models };
}

function predictionIsFinite(prediction: ClvPrediction): boolean {
  return (
    Number.isFinite(prediction.probabilityAlive) &&
    Number.isFinite(prediction.expectedPurchases90d) &&
    Number.isFinite(prediction.expectedPurchases365d) &&
    Number.isFinite(prediction.expectedAverageOrderValueMinor) &&
    Number.isFinite(prediction.clv12mMinor)
  );
}

/** `value` rounded to `decimals` decimals (half away from zero is Math.round's half up: fine for >= 0). */
export function roundTo(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

/** Minor units rounded to whole units of the currency (e.g. 123_456 cents → 123_500). */
export function roundToWholeUnits(minor: number, currency: string): number {
  const unit = 10 ** currencyExponent(currency);
  return Math.round(minor / unit) * unit;
}

/**
 * Minor units rounded to two significant digits of whole currency units (474.40 → 470.00,
 * 12,345 → 12,000; below 10 units: whole units). A 12-month CLV drifts a little every night as
 * the clock moves and the models are refitted; at this precision it changes on a few percent of
 * the nights instead of most of them.
 */
export function roundToSignificantUnits(minor: number, currency: string): number {
  const unit = 10 ** currencyExponent(currency);
  const units = Math.round(minor / unit);
  if (Math.abs(units) < 10) return units * unit;
  const step = 10 ** (Math.floor(Math.log10(Math.abs(units))) - 1);
  return Math.round(units / step) * step * unit;
}

/**
 * The stored form of a prediction: see ClientClv. `predictedNextOrderDate` is the local date
 * (YYYY-MM-DD) to store, as nextOrderDate computes it.
 */
export function roundPrediction(prediction: ClvPrediction, currency: string, predictedNextOrderDate?: string): StoredClvPrediction {
  const stored: StoredClvPrediction = {
    probabilityAlive: roundTo(prediction.probabilityAlive, 2),
    expectedPurchases90d: roundTo(prediction.expectedPurchases90d, 1),
    expectedPurchases365d: roundTo(prediction.expectedPurchases365d, 1),
    expectedAverageOrderValueMinor: roundToWholeUnits(prediction.expectedAverageOrderValueMinor, currency),
    clv12mMinor: roundToSignificantUnits(prediction.clv12mMinor, currency),
  };
  if (predictedNextOrderDate !== undefined) stored.predictedNextOrderAt = predictedNextOrderDate;
  return stored;
}

/**
 * The predicted next order date stored on the profile, anchored at the client's last purchase
 * day (`calibrationDate`, the date T runs to, minus T − t_x): last purchase day + t*, where t* is predict.ts's next-order horizon for a client judged
 * on the day of that purchase (T = t_x): "when a client who is still active is expected to have
 * bought again". predict.ts counts t* from the calibration end instead, which moves the date
 * every night a client does not buy; anchored, it only moves when they buy (or the fit shifts),
 * so a reminder keyed on it is stable, and a date in the past means the client is overdue.
 * Undefined when the client is probably gone (`prediction` has no next order) or t* is past
 * predict.ts's cap.
 */
export function nextOrderDate(
  predict: (s: RfmSummary) => ClvPrediction,
  summary: RfmSummary,
  prediction: ClvPrediction,
  calibrationDate: string,
  unit: TimeUnit,
): string | undefined {
  if (prediction.predictedNextOrderAt === undefined) return undefined;
  const perUnit = DAYS_PER_UNIT[unit];
  const lastPurchaseDate = addDays(calibrationDate, -Math.round((summary.T - summary.recency) * perUnit));
  // With calibrationEnd 0 the predictor's next order is t* in ms from the anchor.
  const atLastPurchase = predict({ ...summary, T: summary.recency });
  if (atLastPurchase.predictedNextOrderAt === undefined) return undefined;
  return addDays(lastPurchaseDate, Math.round(atLastPurchase.predictedNextOrderAt / MS_PER_DAY));
}

/**
 * Fits the models on every buyer in `clients` as of the run's clock (the start of the day after
 * runDate, brand time zone) and predicts each buyer. Empty predictions when disabled or skipped.
 */
/** The night's fit, or why there is none (clv.enabled false, too few repeat buyers, no convergence). */
export function fitClvForRun(summaries: readonly RfmSummary[], context: { runDate: string; config: Config }): ClvModelFit {
  const { config } = context;
  const { now } = runClock(context.runDate, config.timeZone);
  if (!config.clv.enabled) {
    return {
      report: { fitted: false, skippedReason: 'clv.enabled is false', unit: config.clv.unit, calibrationEnd: new Date(now).toISOString(), clients: 0, repeatBuyers: 0, warnings: [] },
    };
  }
  return fitClvModels(summaries, now, config.clv);
}

/**
 * Told of each buyer whose prediction threw with an accepted fit (fitClvModels probed only a
 * sample of the buyers): the error, never the client's values.
 */
export type ClvPredictionFailed = (error: unknown) => void;

/**
 * One buyer's prediction (rounded for storage, with the unrounded CLV) with a night's fit: undefined when the fit has no models; the
 * predictor's result is undefined for a prediction that is not finite or that throws (the fit
 * was probed by fitClvModels on a sample, but a NaN must never reach DynamoDB and one client
 * must never fail the night: such a client keeps no clv, and `onFailure` hears of a throw).
 */
export function clvPredictor(
  fit: ClvModelFit,
  context: { runDate: string; config: Config },
  onFailure?: ClvPredictionFailed,
): ((summary: RfmSummary) => ClvEstimate | undefined) | undefined {
  if (!fit.models) return undefined;
  const { config } = context;
  const { now } = runClock(context.runDate, config.timeZone);
  const options = { unit: config.clv.unit, annualDiscountRate: config.clv.annualDiscountRate };
  const predict = createClvPredictor(fit.models, { ...options, calibrationEnd: now });
  const predictFromAnchor = createClvPredictor(fit.models, { ...options, calibrationEnd: 0, minProbabilityAlive: 0 });
  const calibrationDate = calibrationEndDate(now, config.timeZone); // the run date
  return (summary) => {
    try {
      const prediction = predict(summary);
      if (!predictionIsFinite(prediction)) return undefined;
      const next = nextOrderDate(predictFromAnchor, summary, prediction, calibrationDate, config.clv.unit);
      return { stored: roundPrediction(prediction, config.currency, next), clv12mMinor: prediction.clv12mMinor };
    } catch (error) {
      onFailure?.(error);
      return undefined;
    }
  };
}

/** Counts the buyers whose prediction threw, and keeps the first error (for one log line). */
export function clvFailureCounter(): { onFailure: ClvPredictionFailed; failures(): { count: number; first?: string } } {
  let count = 0;
  let first: string | undefined;
  return {
    onFailure(error) {
      count += 1;
      first ??= describeError(error);
    },
    failures: () => (first === undefined ? { count } : { count, first }),
  };
}

/** Predictions for the given buyers with a night's fit; empty when it has no models. */
export function predictClv(
  fit: ClvModelFit,
  buyers: { customerIds: readonly string[]; summaries: readonly RfmSummary[] },
  context: { runDate: string; config: Config },
  onFailure?: ClvPredictionFailed,
): Map<string, ClvEstimate> {
  const predictions = new Map<string, ClvEstimate>();
  const predict = clvPredictor(fit, context, onFailure);
  if (!predict) return predictions;
  buyers.summaries.forEach((summary, i) => {
    const prediction = predict(summary);
    if (prediction !== undefined) predictions.set(buyers.customerIds[i] as string, prediction);
  });
  return predictions;
}

/**
 * The night's CLV put on each profile as it is built (summary, prediction, the profile's rules),
 * for runs that stream their profiles instead of holding them: the same result as
 * predictClv + applyClvToProfiles. Undefined when the fit has no models (profiles keep no clv).
 */
export function profileClvFinisher(
  fit: ClvModelFit,
  context: { runDate: string; config: Config },
  onFailure?: ClvPredictionFailed,
): ((profile: ClientProfile, facts: ClientFacts) => ClientProfile) | undefined {
  const predict = clvPredictor(fit, context, onFailure);
  if (!predict) return undefined;
  const { config } = context;
  const { now } = runClock(context.runDate, config.timeZone);
  const rules = { thresholds: tierThresholdsMinor(config), churnRiskBelowProbabilityAlive: config.clv.churnRiskBelowProbabilityAlive };
  return (profile, facts) => {
    const summary = summarise(facts.orders, now, config.clv, config.timeZone);
    return applyClv(profile, summary === undefined ? undefined : predict(summary), rules);
  };
}

/** Fit on `clients` and predict for them: the whole night in one process. */
export function assessClv(clients: Iterable<ClientFacts>, context: { runDate: string; config: Config }): ClvAssessment {
  const { config } = context;
  const { now } = runClock(context.runDate, config.timeZone);
  const buyers = config.clv.enabled ? clvSummaries(clients, now, config.clv, config.timeZone) : { customerIds: [], summaries: [] };
  const fit = fitClvForRun(buyers.summaries, context);
  return { report: fit.report, predictions: predictClv(fit, buyers, context) };
}

/** Threshold of the client's own tier in minor units; undefined for Entry and Prospect (no floor to fall below). */
export function ownTierThresholdMinor(tier: Tier, thresholds: TierThresholdsMinor): number | undefined {
  switch (tier) {
    case 'VIC':
      return thresholds.vic;
    case 'Core':
      return thresholds.core;
    case 'Potential':
      return thresholds.potential;
    case 'Entry':
    case 'Prospect':
      return undefined;
  }
}

/** Threshold of the tier above `tier` (TIERS, highest first) in minor units; undefined for VIC (nothing above) and Prospect (not a buyer: never rising). */
export function nextTierThresholdMinor(tier: Tier, thresholds: TierThresholdsMinor): number | undefined {
  if (tier === 'VIC' || tier === 'Prospect') return undefined;
  return ownTierThresholdMinor(TIERS[TIERS.indexOf(tier) - 1] as Tier, thresholds);
}

/**
 * The least churn risk a lifecycle stage allows. BG/NBD only learns dropout from repeat
 * purchases: a one-time buyer's probability alive is 1 however long ago they bought, so the model
 * alone calls a client gone for a year "low". The calendar knows better: a sleeping client (60+
 * days without an order) is at least medium, a churned one high.
 */
export const STAGE_CHURN_RISK_FLOOR: Partial<Record<Stage, ChurnRisk>> = { sleeping: 'medium', churned: 'high' };

/**
 * From probability alive: high below the configured threshold, medium below twice it, low
 * otherwise; never below the stage's floor (STAGE_CHURN_RISK_FLOOR).
 */
export function churnRiskOf(probabilityAlive: number, churnRiskBelowProbabilityAlive: number, stage: Stage): ChurnRisk {
  const predicted: ChurnRisk =
    probabilityAlive < churnRiskBelowProbabilityAlive ? 'high' : probabilityAlive < 2 * churnRiskBelowProbabilityAlive ? 'medium' : 'low';
  const floor = STAGE_CHURN_RISK_FLOOR[stage] ?? 'low';
  return CHURN_RISKS.indexOf(floor) > CHURN_RISKS.indexOf(predicted) ? floor : predicted;
}

/**
 * The profile with its CLV and the rules that use it: rising when the unrounded 12-month CLV
 * reaches the next tier's threshold (inclusive, like the tiers; never for VICs); below its tier
 * when it falls below the client's own tier's threshold; churn risk from
 * probability alive, never below the stage's floor (churnRiskOf); an "active" client whose
 * probability alive is below churnRiskBelowProbabilityAlive is "at-risk" (other stages are left
 * alone: new, sleeping and churned follow the calendar).
 * Without a prediction, or for a Prospect (no counted purchase: a free sample's 0.00 order is a
 * purchase day to the models but not a purchase to the tiers), the profile is returned unchanged:
 * a client the tiers do not count as a buyer gets no CLV and is never rising, so the rising
 * clients per tier add up to the rising total.
 */
export function applyClv(
  profile: ClientProfile,
  estimate: ClvEstimate | undefined,
  rules: { thresholds: TierThresholdsMinor; churnRiskBelowProbabilityAlive: number },
): ClientProfile {
  if (estimate === undefined || profile.tier === 'Prospect') return profile;
  const prediction = estimate.stored;
  const next = nextTierThresholdMinor(profile.tier, rules.thresholds);
  const own = ownTierThresholdMinor(profile.tier, rules.thresholds);
  const clv: ClientClv = {
    ...prediction,
    rising: next !== undefined && estimate.clv12mMinor >= next,
    belowTier: own !== undefined && estimate.clv12mMinor < own,
    churnRisk: churnRiskOf(prediction.probabilityAlive, rules.churnRiskBelowProbabilityAlive, profile.stage),
  };
  unroundedClv12mMinor.set(clv, estimate.clv12mMinor);
  const atRisk = profile.stage === 'active' && prediction.probabilityAlive < rules.churnRiskBelowProbabilityAlive;
  return { ...profile, ...(atRisk ? { stage: 'at-risk' as const } : {}), clv };
}

/**
 * applyClv over a night's profiles, in place: each profile is replaced as it goes, so a million
 * profiles are never held twice (a mapped copy would keep every original alive until the end).
 */
export function applyClvToProfiles(profiles: ClientProfile[], assessment: ClvAssessment, config: Config): ClientProfile[] {
  if (assessment.predictions.size === 0) return profiles;
  const rules = { thresholds: tierThresholdsMinor(config), churnRiskBelowProbabilityAlive: config.clv.churnRiskBelowProbabilityAlive };
  for (let i = 0; i < profiles.length; i++) {
    const profile = profiles[i] as ClientProfile;
    profiles[i] = applyClv(profile, assessment.predictions.get(profile.customerId), rules);
  }
  return profiles;
}
