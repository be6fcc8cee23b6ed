import { describe, expect, it } from 'vitest';
import {
  applyClv,
  applyClvToProfiles,
  assessClv,
  churnRiskOf,
  clvSummaries,
  fitClvForRun,
  fitClvModels,
  nextOrderDate,
  nextTierThresholdMinor,
  profileClvFinisher,
  roundPrediction,
  roundTo,
  roundToSignificantUnits,
  roundToWholeUnits,
  type StoredClvPrediction,
} from '#shared/clv/profile-clv.ts';
import { createClvPredictor } from '#shared/clv/predict.ts';
import { simulateBgNbd } from '#shared/clv/simulate.ts';
import { parseConfig } from '#shared/config.ts';
import type { ClientFacts, ClientProfile } from '#shared/model.ts';
import { addDays, MS_PER_DAY } from '#shared/time.ts';
import { computeProfiles, runClock, streamProfiles } from '#shared/tiering/profile.ts';

const config = parseConfig({ timeZone: 'UTC', currency: 'USD', clv: { unit: 'days' } });
const thresholds = { vic: 5_000_000, core: 500_000, potential: 100_000 };
const rules = { thresholds, churnRiskBelowProbabilityAlive: 0.3 };
const RUN_DATE = '2026-11-23';
const { now } = runClock(RUN_DATE, 'UTC');
const DAY0 = Date.parse(`${RUN_DATE}T00:00:00Z`);

function profile(fields: Partial<ClientProfile> = {}): ClientProfile {
  return {
    customerId: 'c1',
    acceptsMarketing: true,
    tier: 'Potential',
    stage: 'active',
    spend12mMinor: 200_000,
    lifetimeSpendMinor: 200_000,
    currency: 'USD',
    orderCount: 3,
    skus: {},
    ...fields,
  };
}

function prediction(fields: Partial<StoredClvPrediction> = {}): StoredClvPrediction {
  return {
    probabilityAlive: 0.9,
    expectedPurchases90d: 0.5,
    expectedPurchases365d: 2,
    expectedAverageOrderValueMinor: 20_000,
    clv12mMinor: 40_000,
    ...fields,
  };
}

/** Clients with whole-day purchases (first at runDate − T days, repeat ones spread up to t_x). */
function simulatedBase(n: number, seed: number): ClientFacts[] {
  const ages = Array.from({ length: 40 }, (_, i) => 30 + i * 17);
  const summaries = simulateBgNbd({ r: 0.8, alpha: 60, a: 1.5, b: 6 }, n, ages, seed, {
    discrete: true,
    spend: { p: 6, q: 4, v: 3_000 },
  });
  return summaries.map((s, i) => {
    const first = DAY0 - s.T * MS_PER_DAY + 3_600_000;
    const orders = [{ orderId: `o${i}-0`, orderedAt: first, netMinor: 15_000 }];
    for (let k = 1; k <= s.frequency; k++) {
      const day = Math.round((s.recency * k) / s.frequency);
      orders.push({ orderId: `o${i}-${k}`, orderedAt: first + day * MS_PER_DAY, netMinor: Math.max(1, Math.round(s.monetaryValue)) });
    }
    return { customerId: `c${String(i).padStart(5, '0')}`, orders, categorySpendMinor: {}, skus: [] };
  });
}

describe('rounding for storage', () => {
  it('rounds probabilities to 2 decimals, purchases to 1, money to whole units, CLV to 2 significant units', () => {
    expect(roundTo(0.8349, 2)).toBe(0.83);
    expect(roundTo(1.25, 1)).toBe(1.3);
    expect(roundToWholeUnits(123_456, 'USD')).toBe(123_500);
    expect(roundToWholeUnits(1_234, 'JPY')).toBe(1_234);
    expect(roundToSignificantUnits(47_440, 'USD')).toBe(47_000);
    expect(roundToSignificantUnits(1_234_567, 'USD')).toBe(1_200_000);
    expect(roundToSignificantUnits(949, 'USD')).toBe(900);
    expect(roundToSignificantUnits(0, 'USD')).toBe(0);
    const stored = roundPrediction(
      {
        probabilityAlive: 0.91234,
        expectedPurchases90d: 0.4567,
        expectedPurchases365d: 2.049,
        expectedAverageOrderValueMinor: 18_765.4,
        clv12mMinor: 38_412,
        predictedNextOrderAt: DAY0,
      },
      'USD',
      '2026-12-20',
    );
    expect(stored).toEqual({
      probabilityAlive: 0.91,
      expectedPurchases90d: 0.5,
      expectedPurchases365d: 2,
      expectedAverageOrderValueMinor: 18_800,
      clv12mMinor: 38_000,
      predictedNextOrderAt: '2026-12-20',
    });
  });
});

describe('rising clients', () => {
  it('is rising from the next tier threshold up (inclusive), never for VICs', () => {
    expect(nextTierThresholdMinor('Entry', thresholds)).toBe(100_000);
    expect(nextTierThresholdMinor('Potential', thresholds)).toBe(500_000);
    expect(nextTierThresholdMinor('Core', thresholds)).toBe(5_000_000);
    expect(nextTierThresholdMinor('VIC', thresholds)).toBeUndefined();
    const at = (tier: ClientProfile['tier'], clv12mMinor: number) => applyClv(profile({ tier }), prediction({ clv12mMinor }), rules).clv?.rising;
    expect(at('Potential', 499_900)).toBe(false);
    expect(at('Potential', 500_000)).toBe(true);
    expect(at('Core', 4_999_900)).toBe(false);
    expect(at('Core', 5_000_000)).toBe(true);
    expect(at('Entry', 100_000)).toBe(true);
    expect(at('VIC', 90_000_000)).toBe(false);
  });
});

describe('churn risk and the at-risk stage', () => {
  it('grades churn risk from probability alive', () => {
    expect(churnRiskOf(0.29, 0.3)).toBe('high');
    expect(churnRiskOf(0.3, 0.3)).toBe('medium');
    expect(churnRiskOf(0.59, 0.3)).toBe('medium');
    expect(churnRiskOf(0.6, 0.3)).toBe('low');
  });

  it('turns an active client below the threshold at-risk, and leaves other stages alone', () => {
    expect(applyClv(profile({ stage: 'active' }), prediction({ probabilityAlive: 0.29 }), rules).stage).toBe('at-risk');
    expect(applyClv(profile({ stage: 'active' }), prediction({ probabilityAlive: 0.3 }), rules).stage).toBe('active');
    for (const stage of ['new', 'sleeping', 'churned', 'at-risk'] as const) {
      expect(applyClv(profile({ stage }), prediction({ probabilityAlive: 0.01 }), rules).stage).toBe(stage);
    }
  });

  it('leaves a profile without a prediction unchanged', () => {
    const p = profile();
    expect(applyClv(p, undefined, rules)).toBe(p);
  });
});

describe('fitting on the base', () => {
  it('skips the fit with too few repeat buyers, and says why', () => {
    const fit = fitClvModels([{ frequency: 1, recency: 5, T: 10, monetaryValue: 100 }], now, { unit: 'days', minRepeatBuyersToFit: 50 });
    expect(fit.models).toBeUndefined();
    expect(fit.report).toMatchObject({ fitted: false, clients: 1, repeatBuyers: 1 });
    expect(fit.report.skippedReason).toMatch(/minRepeatBuyersToFit/);

    const assessment = assessClv(simulatedBase(30, 3), { runDate: RUN_DATE, config });
    expect(assessment.report.fitted).toBe(false);
    expect(assessment.predictions.size).toBe(0);
    const profiles = [profile()];
    expect(applyClvToProfiles(profiles, assessment, config)).toEqual(profiles);
  });

  it('reports nothing fitted when disabled', () => {
    const off = parseConfig({ timeZone: 'UTC', clv: { enabled: false } });
    const assessment = assessClv(simulatedBase(500, 3), { runDate: RUN_DATE, config: off });
    expect(assessment.report).toMatchObject({ fitted: false, skippedReason: 'clv.enabled is false' });
    expect(assessment.predictions.size).toBe(0);
  });

  it('fits both models and stores rounded, deterministic predictions per buyer', () => {
    const base = simulatedBase(2_000, 11);
    const assessment = assessClv(base, { runDate: RUN_DATE, config });
    expect(assessment.report).toMatchObject({ fitted: true, converged: true, clients: 2_000, unit: 'days' });
    expect(assessment.report.bgnbd?.r).toBeGreaterThan(0);
    expect(assessment.report.gammaGamma?.q).toBeGreaterThan(1);
    expect(Number.isFinite(assessment.report.logLikelihood)).toBe(true);
    expect(assessment.predictions.size).toBe(2_000);
    for (const p of assessment.predictions.values()) {
      expect(p.probabilityAlive).toBe(roundTo(p.probabilityAlive, 2));
      expect(p.expectedPurchases365d).toBe(roundTo(p.expectedPurchases365d, 1));
      expect(p.expectedAverageOrderValueMinor % 100).toBe(0);
      expect(p.clv12mMinor % 100).toBe(0);
      if (p.predictedNextOrderAt !== undefined) expect(p.predictedNextOrderAt).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
    expect(assessClv(base, { runDate: RUN_DATE, config }).predictions).toEqual(assessment.predictions);
  });

  it('anchors the next order date at the last purchase: with the same models, a night without purchases does not move it', () => {
    const models = { bgnbd: { r: 0.8, alpha: 60, a: 1.5, b: 6 }, gammaGamma: { p: 6, q: 4, v: 3_000 } };
    const options = { unit: 'days' as const, annualDiscountRate: 0.1 };
    const fromAnchor = createClvPredictor(models, { ...options, calibrationEnd: 0, minProbabilityAlive: 0 });
    // Bought 4 more times over 120 days, last purchase 30 days before tonight's calibration end
    // date: the run date 2026-11-23, which T runs to.
    const s = { frequency: 4, recency: 120, T: 150, monetaryValue: 20_000 };
    const tonight = createClvPredictor(models, { ...options, calibrationEnd: now });
    const date = nextOrderDate(fromAnchor, s, tonight(s), RUN_DATE, 'days');
    const later = { ...s, T: 151 };
    const tomorrow = createClvPredictor(models, { ...options, calibrationEnd: now + MS_PER_DAY });
    expect(date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(nextOrderDate(fromAnchor, later, tomorrow(later), '2026-11-24', 'days')).toBe(date);
    // t* from the last purchase day (2026-10-24), at T = t_x.
    const tStar = fromAnchor({ ...s, T: 120 }).predictedNextOrderAt as number;
    expect(date).toBe(addDays('2026-10-24', Math.round(tStar / MS_PER_DAY)));
    // The unanchored date (predict.ts) moves with the clock.
    expect(tomorrow(later).predictedNextOrderAt).not.toBe(tonight(s).predictedNextOrderAt);
    // A client who is probably gone has no date.
    const gone = { frequency: 4, recency: 20, T: 700, monetaryValue: 20_000 };
    expect(nextOrderDate(fromAnchor, gone, tonight(gone), RUN_DATE, 'days')).toBeUndefined();
  });
});

describe('streamed profiles', () => {
  it('put the same CLV on each profile as the held way (predictClv + applyClvToProfiles)', () => {
    const base = simulatedBase(1_500, 7);
    const context = { runDate: RUN_DATE, config };
    const assessment = assessClv(base, context);
    expect(assessment.report.fitted).toBe(true);
    const held = applyClvToProfiles(computeProfiles(base, context), assessment, config);
    const fit = fitClvForRun(clvSummaries(base, now, config.clv, config.timeZone).summaries, context);
    const finish = profileClvFinisher(fit, context);
    expect(finish).toBeDefined();
    const streamed = [...streamProfiles(() => base, context, finish ? { finish } : {})];
    expect(streamed).toEqual(held);
    expect(streamed.filter((p) => p.clv !== undefined).length).toBe(assessment.predictions.size);
  });

  it('has no finisher when the fit has no models: profiles keep no clv', () => {
    const context = { runDate: RUN_DATE, config };
    const fit = fitClvForRun(clvSummaries(simulatedBase(30, 3), now, config.clv, config.timeZone).summaries, context);
    expect(profileClvFinisher(fit, context)).toBeUndefined();
  });
});
