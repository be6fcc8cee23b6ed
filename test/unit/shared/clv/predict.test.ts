import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { expectedPurchases, expectedPurchasesIfAlive, probabilityAlive } from '#shared/clv/bgnbd.ts';
import { expectedAverageOrderValue } from '#shared/clv/gammagamma.ts';
import { createClvPredictor, populationMean, predictClient } from '#shared/clv/predict.ts';
import type { ClvModels, PredictOptions } from '#shared/clv/predict.ts';
import type { RfmSummary } from '#shared/clv/summary.ts';
import { MS_PER_DAY } from '#shared/time.ts';

// A luxury-like base in days: ~1 repeat purchase a quarter for an average live client.
const models: ClvModels = { bgnbd: { r: 0.8, alpha: 60, a: 1.5, b: 6 }, gammaGamma: { p: 6.25, q: 3.74, v: 30_000 } };
const calibrationEnd = Date.parse('2025-06-01T00:00:00Z');
const options: PredictOptions = { unit: 'days', calibrationEnd, annualDiscountRate: 0.1 };
const client = (frequency: number, recency: number, T: number, monetaryValue: number): RfmSummary => ({ frequency, recency, T, monetaryValue });

describe('predictClient', () => {
  const s = client(4, 300, 400, 52_000);

  it('reports P(alive), expected purchases over 90 and 365 days and the expected order value', () => {
    const prediction = predictClient(models, s, options);
    expect(prediction.probabilityAlive).toBe(probabilityAlive(models.bgnbd, s));
    expect(prediction.expectedPurchases90d).toBeCloseTo(expectedPurchases(models.bgnbd, s, 90), 12);
    expect(prediction.expectedPurchases365d).toBeCloseTo(expectedPurchases(models.bgnbd, s, 365), 12);
    expect(prediction.expectedAverageOrderValueMinor).toBe(expectedAverageOrderValue(models.gammaGamma, s));
  });

  it('computes the 12-month CLV as discounted monthly expected purchases times the expected order value', () => {
    const month = 365.25 / 12;
    let clv = 0;
    for (let k = 1; k <= 12; k++) {
      const purchases = expectedPurchases(models.bgnbd, s, k * month) - expectedPurchases(models.bgnbd, s, (k - 1) * month);
      clv += (purchases * expectedAverageOrderValue(models.gammaGamma, s)) / Math.pow(1.1, k / 12);
    }
    const prediction = predictClient(models, s, options);
    expect(Number.isInteger(prediction.clv12mMinor)).toBe(true);
    expect(prediction.clv12mMinor).toBe(Math.round(clv));
    // Without discounting it is simply E[X(T, T+12 months)] × E[order value].
    const undiscounted = predictClient(models, s, { ...options, annualDiscountRate: 0 });
    expect(undiscounted.clv12mMinor).toBe(Math.round(expectedPurchases(models.bgnbd, s, 12 * month) * prediction.expectedAverageOrderValueMinor));
    expect(undiscounted.clv12mMinor).toBeGreaterThan(prediction.clv12mMinor);
  });

  it('gives clients without repeat purchases the population mean order value (given, or the Gamma-Gamma prior mean)', () => {
    const oneTime = client(0, 0, 30, 0);
    const { p, q, v } = models.gammaGamma;
    expect(populationMean(models.gammaGamma)).toBeCloseTo((p * v) / (q - 1), 9);
    expect(predictClient(models, oneTime, options).expectedAverageOrderValueMinor).toBeCloseTo((p * v) / (q - 1), 9);
    const given = predictClient(models, oneTime, { ...options, populationMeanAovMinor: 45_000 });
    expect(given.expectedAverageOrderValueMinor).toBe(45_000);
    expect(given.probabilityAlive).toBe(1);
    expect(given.clv12mMinor).toBeGreaterThan(0);
  });

  it('predicts the next order when a live client would on average have bought once more', () => {
    const prediction = predictClient(models, s, options);
    expect(prediction.predictedNextOrderAt).toBeDefined();
    const days = ((prediction.predictedNextOrderAt as number) - calibrationEnd) / MS_PER_DAY;
    expect(days).toBeGreaterThan(0);
    expect(days).toBeLessThan(730);
    // At t*, E[purchases | alive] = 1 = E[X(T, T+t*)] / P(alive), to within a minute of t.
    expect(expectedPurchasesIfAlive(models.bgnbd, s.frequency, s.T, days)).toBeCloseTo(1, 3);
    expect(expectedPurchases(models.bgnbd, s, days) / prediction.probabilityAlive).toBeCloseTo(1, 3);
  });

  it('gives no next order date to a client who is probably gone, or who would take over 2 years', () => {
    const gone = client(6, 60, 700, 50_000);
    expect(predictClient(models, gone, options).probabilityAlive).toBeLessThan(0.05);
    expect(predictClient(models, gone, options).predictedNextOrderAt).toBeUndefined();
    const slow: ClvModels = { ...models, bgnbd: { r: 0.1, alpha: 400, a: 1.5, b: 6 } };
    expect(predictClient(slow, client(0, 0, 365, 0), options).predictedNextOrderAt).toBeUndefined();
  });

  it('gives the same answers in weeks as in days (α converted)', () => {
    const weekly: ClvModels = { ...models, bgnbd: { ...models.bgnbd, alpha: models.bgnbd.alpha / 7 } };
    const inDays = predictClient(models, s, options);
    const inWeeks = predictClient(weekly, { ...s, recency: s.recency / 7, T: s.T / 7 }, { ...options, unit: 'weeks' });
    expect(inWeeks.probabilityAlive).toBeCloseTo(inDays.probabilityAlive, 12);
    expect(inWeeks.expectedPurchases90d).toBeCloseTo(inDays.expectedPurchases90d, 10);
    expect(inWeeks.expectedPurchases365d).toBeCloseTo(inDays.expectedPurchases365d, 10);
    expect(inWeeks.clv12mMinor).toBe(inDays.clv12mMinor);
    expect(Math.abs((inWeeks.predictedNextOrderAt ?? 0) - (inDays.predictedNextOrderAt ?? 0))).toBeLessThan(120_000);
  });

  it('rejects a discount rate of −100 % or less', () => {
    expect(() => predictClient(models, s, { ...options, annualDiscountRate: -1 })).toThrow(RangeError);
    expect(() => predictClient(models, s, { ...options, annualDiscountRate: Number.NaN })).toThrow(RangeError);
  });
});

describe('createClvPredictor', () => {
  it('memoises per (x, T) without changing any answer', () => {
    const predict = createClvPredictor(models, options);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0, max: 700 }),
        fc.integer({ min: 1_000, max: 200_000 }),
        (x, share, T, m) => {
          const s = client(x, x === 0 ? 0 : Math.round((share / 100) * T), T, x === 0 ? 0 : m);
          const a = predict(s);
          const b = predict(s); // from the cache
          const c = predictClient(models, s, options); // fresh
          return JSON.stringify(a) === JSON.stringify(c) && JSON.stringify(b) === JSON.stringify(c);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('keeps its predictions sane: P(alive) in [0, 1], purchases non-negative and ordered, CLV >= 0', () => {
    const predict = createClvPredictor(models, options);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 730 }), (x, share, T) => {
        const p = predict(client(x, x === 0 ? 0 : Math.floor(share * T), T, x === 0 ? 0 : 30_000));
        return (
          p.probabilityAlive >= 0 &&
          p.probabilityAlive <= 1 &&
          p.expectedPurchases90d >= 0 &&
          p.expectedPurchases365d >= p.expectedPurchases90d &&
          p.clv12mMinor >= 0 &&
          (p.predictedNextOrderAt === undefined || p.predictedNextOrderAt > calibrationEnd)
        );
      }),
      { numRuns: 200 },
    );
  });

  it('predicts 100 000 clients quickly (measured, not asserted)', () => {
    const predict = createClvPredictor(models, options);
    const started = performance.now();
    let total = 0;
    for (let i = 0; i < 100_000; i++) {
      const T = 30 + (i % 700);
      const x = i % 9;
      total += predict(client(x, x === 0 ? 0 : Math.floor(T * ((i % 97) / 97)), T, x === 0 ? 0 : 20_000 + (i % 50_000))).clv12mMinor;
    }
    console.log(`[timing] createClvPredictor: 100 000 clients in ${(performance.now() - started).toFixed(0)} ms`);
    expect(total).toBeGreaterThan(0);
  });
});
