import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  bgNbdLogLikelihood,
  expectedPurchases,
  expectedPurchasesIfAlive,
  expectedPurchasesNewClient,
  fitBgNbd,
  probabilityAlive,
} from '#shared/clv/bgnbd.ts';
import type { BgNbdParams } from '#shared/clv/bgnbd.ts';
import { invertMatrix, numericalGradient, numericalHessian } from '#shared/clv/optimize.ts';
import { createRng, sampleBeta, sampleExponential, sampleGamma, simulateBgNbd } from '#shared/clv/simulate.ts';
import { hyp2f1, integrateUnitInterval, lbeta, lgamma } from '#shared/clv/special.ts';
import type { RfmSummary } from '#shared/clv/summary.ts';

/** The CDNOW estimates of Fader, Hardie & Lee (2005), weeks. */
const CDNOW: BgNbdParams = { r: 0.2426, alpha: 4.4136, a: 0.7929, b: 2.4259 };

const summary = (frequency: number, recency: number, T: number): RfmSummary => ({ frequency, recency, T, monetaryValue: 0 });

describe('BG/NBD closed forms: known answers', () => {
  it('reproduces E[X(t)] of Hardie’s BG/NBD spreadsheet for CDNOW (eq. 7)', () => {
    // The values lifetimes tests against (from the spreadsheet accompanying the paper). They are
    // given to 4 decimals from 4-decimal parameters; our series and quadrature agree with each
    // other to ~1e-14, and the largest gap to the sheet is 4e-4 (t = 78), so the tolerance is 1e-3.
    const times = [0.1429, 1.0, 3.0, 31.8571, 32.0, 78.0];
    const expected = [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576];
    times.forEach((t, i) => expect(Math.abs(expectedPurchasesNewClient(CDNOW, t) - (expected[i] as number))).toBeLessThan(1e-3));
  });

  it('reproduces the paper’s conditional expectation for customer 1 (x = 2, t_x = 30.43, T = 38.86)', () => {
    // Fader, Hardie & Lee (2005) §5: expected purchases in the next 39 weeks = 1.226.
    expect(expectedPurchases(CDNOW, summary(2, 30.43, 38.86), 39)).toBeCloseTo(1.226, 3);
  });

  it('computes eq. 10 the same three ways: Euler-transformed series, quadrature, and the paper’s form with ₂F₁', () => {
    const params: BgNbdParams[] = [
      CDNOW,
      { r: 0.8, alpha: 60, a: 1.5, b: 6 },
      { r: 2, alpha: 10, a: 0.5, b: 0.8 },
      { r: 1.3, alpha: 3, a: 1, b: 1 }, // a = 1: eq. 10's 1/(a − 1) is a removable singularity
      { r: 0.05, alpha: 0.7, a: 4, b: 0.3 }, // a + b + x − 1 can be negative at x = 0
    ];
    const cases: [number, number, number][] = [
      [0, 0, 1],
      [0, 0, 52],
      [0, 30, 39],
      [2, 38.86, 39],
      [7, 20, 10],
      [25, 100, 365],
      [1, 2, 0.01],
    ];
    for (const p of params) {
      for (const [x, T, t] of cases) {
        const series = expectedPurchasesIfAlive(p, x, T, t, 'series');
        const quadrature = expectedPurchasesIfAlive(p, x, T, t, 'quadrature');
        expect(Math.abs(series - quadrature)).toBeLessThan(1e-9 * Math.max(1, series));
        const z = t / (p.alpha + T + t);
        if (p.a !== 1 && z < 0.98) {
          const paper =
            ((p.a + p.b + x - 1) / (p.a - 1)) *
            (1 - Math.pow((p.alpha + T) / (p.alpha + T + t), p.r + x) * hyp2f1(p.r + x, p.b + x, p.a + p.b + x - 1, z));
          expect(Math.abs(series - paper)).toBeLessThan(1e-8 * Math.max(1, series));
        }
      }
    }
  });

  it('switches to quadrature when the horizon dwarfs α + T, and tends to E[1/p] as t → ∞', () => {
    const p = { r: 0.5, alpha: 0.05, a: 2.5, b: 3 };
    const long = expectedPurchasesIfAlive(p, 0, 0, 1e4); // z ≈ 1 − 5e-6
    expect(Number.isFinite(long)).toBe(true);
    expect(expectedPurchasesIfAlive(p, 0, 0, 1e9)).toBeCloseTo((p.a + p.b - 1) / (p.a - 1), 4);
    expect(long).toBeLessThan((p.a + p.b - 1) / (p.a - 1));
  });

  it('has P(alive) = 1 without repeat purchases and the appendix formula otherwise', () => {
    expect(probabilityAlive(CDNOW, summary(0, 0, 38))).toBe(1);
    expect(probabilityAlive(CDNOW, summary(0, 0, 0))).toBe(1);
    const { r, alpha, a, b } = CDNOW;
    const direct = 1 / (1 + (a / (b + 2 - 1)) * Math.pow((alpha + 38.86) / (alpha + 30.43), r + 2));
    expect(probabilityAlive(CDNOW, summary(2, 30.43, 38.86))).toBeCloseTo(direct, 14);
    // A client who bought on the last day is as alive as a new one.
    expect(probabilityAlive(CDNOW, summary(3, 20, 20))).toBeCloseTo(1 / (1 + a / (b + 2)), 14);
  });
});

/**
 * An ordinary small export (117 buyers, 90 of them repeat buyers, whole-day histories in weeks)
 * whose BG/NBD fit runs a and b to their bounds together (dropout nearly the same for
 * everyone). The Euler-transformed series then needs ~a·z/(1 − z) terms: at a ≈ 3e6 it gave up
 * at z = 0.77 with a ConvergenceError, which stopped the nightly run.
 */
const BOUND_FIT_BASE = JSON.parse(readFileSync(new URL('./fixtures/clv-throw-summaries.json', import.meta.url), 'utf8')) as RfmSummary[];

/** g(p) = (1 − (1+ps)^−r')/p: what a live client with dropout p buys in s (the integrand of eq. 10). */
const purchasesAtDropout = (rPrime: number, s: number, p: number): number => -Math.expm1(-rPrime * Math.log1p(p * s)) / p;

describe('eq. 10 with parameters at the bounds of the fit', () => {
  it('evaluates the fit whose series threw (a, b in the millions) at every horizon, next to the point-mass limit', () => {
    const fit = fitBgNbd(BOUND_FIT_BASE);
    const { r, alpha, a, b } = fit.params;
    expect(a).toBeGreaterThan(1e5);
    expect(b).toBeGreaterThan(1e5);
    for (const x of [0, 1, 4]) {
      for (const T of [0, 8, 60]) {
        // 90 days, a year and two years, the horizons the predictions use, and z = 0.7727 of the incident.
        for (const t of [90 / 7, 365 / 7, 730 / 7, 0.7727 * (alpha + T) / (1 - 0.7727)]) {
          const value = expectedPurchasesIfAlive(fit.params, x, T, t);
          // p ~ Beta(a, b + x) has a standard deviation of ~1e-4: E[g(p)] is g(p̄) + g''(p̄)·Var/2 to ~1e-8.
          const s = t / (alpha + T);
          const mean = a / (a + b + x);
          const variance = (mean * (1 - mean)) / (a + b + x + 1);
          const h = 1e-4 * mean;
          const g = (p: number) => purchasesAtDropout(r + x, s, p);
          const curvature = (g(mean + h) - 2 * g(mean) + g(mean - h)) / (h * h);
          expect(Math.abs(value / (g(mean) + (curvature * variance) / 2) - 1)).toBeLessThan(1e-6);
        }
      }
    }
  });

  it('leaves the series for quadrature before (1 − z)^(a−1) underflows, where it returned 0 or NaN', () => {
    // a = 160, z = 0.99: (1 − z)^(a−1) = e^−732, the series' factor and sum under- and overflow.
    const p = { r: 0.5, alpha: 1, a: 160, b: 530 };
    const auto = expectedPurchasesIfAlive(p, 1, 0, 99);
    expect(auto).toBeGreaterThan(0);
    expect(auto).toBe(expectedPurchasesIfAlive(p, 1, 0, 99, 'quadrature'));
    // Where it is still used, ln (1 − z)^(a−1) >= −200, it agrees with quadrature.
    for (const a of [5, 30, 100]) {
      for (const z of [0.5, 0.9, 0.99]) {
        if ((a - 1) * Math.log(1 - z) < -200) continue;
        const q = { r: 0.5, alpha: 1, a, b: 3 * a };
        const t = z / (1 - z);
        const series = expectedPurchasesIfAlive(q, 2, 0, t, 'series');
        expect(Math.abs(series / expectedPurchasesIfAlive(q, 2, 0, t, 'quadrature') - 1)).toBeLessThan(1e-9);
      }
    }
  });

  it('handles a or b + x at the lower bound (nearly nobody, or nearly everybody, drops out)', () => {
    const tiny = Math.exp(-16);
    for (const [a, b] of [[tiny, 1], [tiny, 1e6], [1e-4, 3], [2, tiny], [tiny, tiny], [0.005, 0.5]] as const) {
      for (const x of [0, 2]) {
        for (const r of [0.05, 3]) {
          for (const z of [0.3, 0.9, 0.99]) {
            const p = { r, alpha: 1, a, b };
            const t = z / (1 - z);
            const quadrature = expectedPurchasesIfAlive(p, x, 0, t, 'quadrature');
            // g falls from g(0) = r's to g(1): its mean lies between.
            expect(quadrature).toBeLessThanOrEqual((r + x) * t * (1 + 1e-12));
            expect(quadrature).toBeGreaterThanOrEqual(purchasesAtDropout(r + x, t, 1) * (1 - 1e-12));
            // The series is still good to ~1e-7 here (it loses digits to cancellation as a → 0).
            expect(Math.abs(quadrature - expectedPurchasesIfAlive(p, x, 0, t, 'series'))).toBeLessThan(1e-6 * Math.max(1, quadrature));
          }
        }
      }
    }
  });

  it('keeps its digits where the series’ two terms nearly cancel (a ≈ 9e6, t = 0.001 day)', () => {
    // Found by the property below (CI, seed -1608706119): the series gave 1.03e-6 above the bound.
    const p = { r: 0.0050831143716642685, alpha: 6906770.09587338, a: 8886109.45799802, b: 1 };
    const T = 799.9999999799767;
    const t = 0.001;
    const value = expectedPurchasesIfAlive(p, 0, T, t);
    expect(value).toBeLessThanOrEqual(p.r * (t / (p.alpha + T)));
    expect(Math.abs(value - expectedPurchasesIfAlive(p, 0, T, t, 'quadrature'))).toBeLessThan(1e-12 * value);
  });

  it('converges where r + x is in the millions and a is small (the property’s counterexamples at 50 000 runs)', () => {
    // g falls from (r + x)s to 1/p around p ≈ 1/((r + x)s), where the Beta(a, 1) mass is; g's
    // expansion for small p took over at ps < 1e-10, 4e-8 away from g, and the quadrature threw
    // "did not converge". References: mpmath at 40 digits (adaptive quadrature in logit p split at g's drop).
    const counterexamples: [BgNbdParams, number, number, number, number][] = [
      [{ r: 4873376.4359125495, alpha: 1, a: 0.1291971150004859, b: 1 }, 0, 0, 0.9555197231408125, 691645.77030653417587],
      [{ r: 3754813.0253536445, alpha: 1.1253544381150297e-7, a: 0.17603285893239526, b: 1 }, 0, 0, 247.86716776953125, 14645106402640.416666],
    ];
    for (const [p, x, T, t, reference] of counterexamples) {
      const value = expectedPurchasesIfAlive(p, x, T, t);
      expect(value).toBeLessThanOrEqual((p.r + x) * (t / (p.alpha + T)));
      expect(Math.abs(value / reference - 1)).toBeLessThan(1e-13);
    }
  });

  it('matches values computed to 40 digits at corners of the box, where it threw or lost digits before', () => {
    // [r, α, a, b, x, T, t] and E[X(T, T+t) | alive], by mpmath (40 digits, adaptive quadrature in
    // logit p split at the Beta centre and at g's drop; the first and last also by mpmath's ₂F₁
    // in eq. 10's own form). Before: the first three threw "did not converge" (a ≈ 9e6 with
    // b = 1 left rounding noise of 1e-9 near the Beta centre; the other two are g's jump above);
    // the fifth was 8.5e-9 off, and the quadrature 1.4e-7 off for the fourth and 1.1e-8 for the
    // last: ln B(a, b) by ln Γ, which keeps only ~1e-8 of ln Γ(a) − ln Γ(a + b) at a = e¹⁶.
    const E16 = Math.exp(16);
    const cases: [number[], number][] = [
      [[1, 1, 8886042.524234643, 1.0000000000035532, 0, 0, 0.001], 0.00099900099911331031009],
      [[E16, Math.exp(-16), 0.01, 0.0099, 1, 1, 800], 5691764568.9362035823],
      [[7935514.498002025, 2323.073479183769, 0.03004402392080545, 1170.230731826193, 124, 336.3062569480413, 37.00033012659356], 99392.482078698631726],
      [[E16, E16, E16, E16, 1, 800, 0.001], 0.00099966017907751025321],
      [[3405.724369227747, Math.exp(-16), E16, 7.673115888159982e-6, 0, 0, 77.98274681705203], 1.0000000000008634955],
      [[1000, E16, 10000, E16, 1, 1, 800], 0.090113588855919427835],
    ];
    for (const [[r, alpha, a, b, x, T, t], reference] of cases as [[number, number, number, number, number, number, number], number][]) {
      const p = { r, alpha, a, b };
      expect(Math.abs(expectedPurchasesIfAlive(p, x, T, t) / reference - 1)).toBeLessThan(1e-11);
      expect(Math.abs(expectedPurchasesIfAlive(p, x, T, t, 'quadrature') / reference - 1)).toBeLessThan(1e-12);
    }
  });

  it('is finite, non-negative and at most (r + x)·t/(α + T) anywhere in the fit’s parameter box, and never throws', () => {
    // The fit keeps r, α (rescaled), a and b within e^±16.
    const bounded = fc.double({ min: -16, max: 16, noNaN: true }).map(Math.exp);
    fc.assert(
      fc.property(
        bounded,
        bounded,
        bounded,
        bounded,
        fc.integer({ min: 0, max: 300 }),
        fc.double({ min: 0, max: 800, noNaN: true }),
        fc.double({ min: 1e-3, max: 800, noNaN: true }),
        (r, alpha, a, b, x, T, t) => {
          const value = expectedPurchasesIfAlive({ r, alpha, a, b }, x, T, t);
          return Number.isFinite(value) && value >= 0 && value <= (r + x) * (t / (alpha + T)) * (1 + 1e-6);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('BG/NBD log-likelihood', () => {
  // L = E_p[(1−p)^x] E_λ[λ^x e^(−λT)] + δ(x>0) E_p[p(1−p)^(x−1)] E_λ[λ^x e^(−λ t_x)], each
  // expectation a 1-D integral over the mixing densities done numerically: an independent check
  // of eq. 6 from the individual-level likelihood.
  const gammaMoment = (r: number, alpha: number, x: number, t: number): number =>
    integrateUnitInterval((u, lnU, ln1mU) => {
      // λ = u/(1−u), dλ = du/(1−u)²
      const lambda = u / Math.exp(ln1mU);
      const lnLambda = lnU - ln1mU;
      return r * Math.log(alpha) - lgamma(r) + (r - 1 + x) * lnLambda - (alpha + t) * lambda - 2 * ln1mU;
    }, 1e-12);
  const betaMoment = (a: number, b: number, j: number, k: number): number =>
    integrateUnitInterval((_p, lnP, ln1mP) => (a - 1 + j) * lnP + (b - 1 + k) * ln1mP - lbeta(a, b), 1e-12);

  it('matches the individual-level likelihood integrated over λ and p', () => {
    const params: BgNbdParams[] = [CDNOW, { r: 2, alpha: 10, a: 0.5, b: 0.8 }, { r: 0.8, alpha: 60, a: 1.5, b: 6 }];
    const cases: [number, number, number][] = [
      [0, 0, 39],
      [1, 1.71, 38.86],
      [2, 30.43, 38.86],
      [7, 29.43, 38.86],
      [3, 5, 5],
    ];
    for (const p of params) {
      for (const [x, tx, T] of cases) {
        let likelihood = betaMoment(p.a, p.b, 0, x) * gammaMoment(p.r, p.alpha, x, T);
        if (x > 0) likelihood += betaMoment(p.a, p.b, 1, x - 1) * gammaMoment(p.r, p.alpha, x, tx);
        expect(bgNbdLogLikelihood(p, [summary(x, tx, T)])).toBeCloseTo(Math.log(likelihood), 8);
      }
    }
  });

  it('is additive over clients and unaffected by grouping order', () => {
    const data = simulateBgNbd(CDNOW, 500, 39, 7);
    const total = data.reduce((s, c) => s + bgNbdLogLikelihood(CDNOW, [c]), 0);
    expect(bgNbdLogLikelihood(CDNOW, data)).toBeCloseTo(total, 8);
    expect(bgNbdLogLikelihood(CDNOW, [...data].reverse())).toBeCloseTo(total, 8);
  });

  it('keeps its digits where a and b run up their ridge together (b ~ 1e7): smooth to 1e-9 over steps of 1e-6', () => {
    // The ln Γ form subtracted values of ~1e8 here, so the likelihood moved by ~1e-5 under steps of
    // 1e-6 in ln a, ln b: whether the fit met its gradient test on that ridge was rounding noise,
    // and the same base fitted one night (or in days) and not the next (or in weeks).
    const ridge = { r: 0.45, alpha: 45, a: 8e4, b: 8.8e6 };
    const data = simulateBgNbd(ridge, 2_000, Array.from({ length: 40 }, (_, i) => 30 + i * 17), 3, { discrete: true });
    const h = 1e-6;
    for (const [da, db] of [[1, 1], [1, 0], [0, 1]] as const) {
      const ll = (e: number): number => bgNbdLogLikelihood({ ...ridge, a: ridge.a * Math.exp(da * e), b: ridge.b * Math.exp(db * e) }, data);
      expect(Math.abs(ll(h) - 2 * ll(0) + ll(-h))).toBeLessThan(1e-9);
    }
  });

  it('rejects invalid summaries', () => {
    expect(() => bgNbdLogLikelihood(CDNOW, [summary(1.5, 1, 2)])).toThrow(RangeError);
    expect(() => bgNbdLogLikelihood(CDNOW, [summary(1, 3, 2)])).toThrow(RangeError);
    expect(() => bgNbdLogLikelihood(CDNOW, [summary(0, 0, Number.NaN)])).toThrow(RangeError);
    expect(() => bgNbdLogLikelihood({ ...CDNOW, a: 0 }, [summary(0, 0, 1)])).toThrow(RangeError);
  });
});

describe('BG/NBD predictions against simulation of the process', () => {
  // Simulate clients over (0, T + t], summarise them at T, and compare what the formulas predict
  // from the summary with what happened: E[actual − predicted] = 0 per client, so the mean
  // difference over a group of clients must be within a few standard errors of 0.
  it('P(alive) and E[X(T, T+t) | x, t_x, T] are unbiased', () => {
    const p = CDNOW;
    const T = 39;
    const horizon = 39;
    const rng = createRng(2024);
    const groups = new Map<string, { alive: number[]; pAlive: number[]; actual: number[]; predicted: number[] }>();
    for (let i = 0; i < 150_000; i++) {
      const lambda = sampleGamma(rng, p.r, p.alpha);
      const drop = sampleBeta(rng, p.a, p.b);
      let t = 0;
      let x = 0;
      let tx = 0;
      let future = 0;
      let aliveAtT = true;
      for (;;) {
        t += sampleExponential(rng, lambda);
        if (t > T + horizon) break;
        if (t <= T) {
          x++;
          tx = t;
        } else future++;
        if (rng() < drop) {
          if (t <= T) aliveAtT = false;
          break;
        }
      }
      const key = x === 0 ? '0' : x === 1 ? '1' : x <= 3 ? '2-3' : '4+';
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { alive: [], pAlive: [], actual: [], predicted: [] }));
      const s = summary(x, tx, T);
      g.alive.push(aliveAtT ? 1 : 0);
      g.pAlive.push(probabilityAlive(p, s));
      g.actual.push(future);
      g.predicted.push(expectedPurchases(p, s, horizon));
    }
    const check = (actual: number[], predicted: number[]): { diff: number; se: number } => {
      const d = actual.map((v, i) => v - (predicted[i] as number));
      const mean = d.reduce((s, v) => s + v, 0) / d.length;
      const variance = d.reduce((s, v) => s + (v - mean) ** 2, 0) / (d.length - 1);
      return { diff: mean, se: Math.sqrt(variance / d.length) };
    };
    expect([...groups.keys()].sort()).toEqual(['0', '1', '2-3', '4+']);
    for (const g of groups.values()) {
      const alive = check(g.alive, g.pAlive);
      expect(Math.abs(alive.diff)).toBeLessThan(4 * alive.se + 1e-12);
      const purchases = check(g.actual, g.predicted);
      expect(Math.abs(purchases.diff)).toBeLessThan(4 * purchases.se);
    }
  });
});

describe('BG/NBD properties', () => {
  const paramsArb = fc.record({
    r: fc.double({ min: 0.05, max: 5, noNaN: true }),
    alpha: fc.double({ min: 0.5, max: 100, noNaN: true }),
    a: fc.double({ min: 0.1, max: 5, noNaN: true }),
    b: fc.double({ min: 0.1, max: 10, noNaN: true }),
  });
  const clientArb = fc
    .tuple(fc.integer({ min: 0, max: 40 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 200, noNaN: true }))
    .map(([x, share, T]) => summary(x, x === 0 ? 0 : share * T, T));

  it('P(alive) is in [0, 1] and is 1 when x = 0', () => {
    fc.assert(
      fc.property(paramsArb, clientArb, (p, s) => {
        const alive = probabilityAlive(p, s);
        return alive >= 0 && alive <= 1 && (s.frequency > 0 || alive === 1);
      }),
    );
  });

  it('expected purchases are non-negative and grow with the horizon', () => {
    fc.assert(
      fc.property(paramsArb, clientArb, fc.double({ min: 0.01, max: 100, noNaN: true }), fc.double({ min: 0.01, max: 100, noNaN: true }), (p, s, t1, dt) => {
        const e1 = expectedPurchases(p, s, t1);
        const e2 = expectedPurchases(p, s, t1 + dt);
        return e1 >= 0 && e2 >= e1 * (1 - 1e-12);
      }),
      { numRuns: 200 },
    );
  });

  it('a longer silence since the last purchase lowers P(alive)', () => {
    fc.assert(
      fc.property(paramsArb, fc.integer({ min: 1, max: 20 }), fc.double({ min: 0, max: 50, noNaN: true }), fc.double({ min: 0.1, max: 50, noNaN: true }), (p, x, tx, gap) => {
        return probabilityAlive(p, summary(x, tx, tx + gap)) <= probabilityAlive(p, summary(x, tx, tx)) + 1e-15;
      }),
    );
  });
});

/** Standard errors of the log-parameters from the observed information (numerical Hessian). */
function logStandardErrors(params: BgNbdParams, data: readonly RfmSummary[]): number[] {
  const theta = [params.r, params.alpha, params.a, params.b].map(Math.log);
  const negLl = (t: readonly number[]): number =>
    -bgNbdLogLikelihood({ r: Math.exp(t[0] as number), alpha: Math.exp(t[1] as number), a: Math.exp(t[2] as number), b: Math.exp(t[3] as number) }, data);
  const cov = invertMatrix(numericalHessian(negLl, theta));
  return cov.map((row, i) => Math.sqrt(row[i] as number));
}

describe('fitBgNbd: parameter recovery on simulated data', () => {
  // Tolerances: relative error within 8 % for r and α, 25 % for a and b (the dropout process is
  // observed only through the clients who stopped, so a and b are the least precise), and
  // within 4 standard errors (from the observed information) for every parameter.
  const cases: { name: string; params: BgNbdParams; n: number; T: number | number[]; discrete: boolean; seed: number }[] = [
    { name: 'CDNOW estimates, weeks, T 27–39', params: { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 }, n: 20_000, T: Array.from({ length: 13 }, (_, i) => 27 + i), discrete: false, seed: 1 },
    { name: 'slow luxury buyers, whole days, T 30–730', params: { r: 0.8, alpha: 60, a: 1.5, b: 6 }, n: 20_000, T: Array.from({ length: 701 }, (_, i) => 30 + i), discrete: true, seed: 2 },
    { name: 'frequent buyers with high dropout, weeks, T 52', params: { r: 2, alpha: 10, a: 0.5, b: 0.8 }, n: 10_000, T: 52, discrete: false, seed: 3 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const data = simulateBgNbd(c.params, c.n, c.T, c.seed, { discrete: c.discrete });
      const fit = fitBgNbd(data);
      expect(fit.converged).toBe(true);
      expect(fit.warnings).toEqual([]);
      expect(fit.clients).toBe(c.n);
      expect(fit.groups).toBeLessThan(c.n);
      const se = logStandardErrors(fit.params, data);
      const names = ['r', 'alpha', 'a', 'b'] as const;
      const report = names.map((k, i) => {
        const rel = fit.params[k] / c.params[k] - 1;
        const z = (Math.log(fit.params[k]) - Math.log(c.params[k])) / (se[i] as number);
        return `${k} ${fit.params[k].toFixed(3)} (true ${c.params[k]}, ${(rel * 100).toFixed(1)} %, z ${z.toFixed(2)})`;
      });
      console.log(`[recovery] ${c.name}: ${report.join('; ')}; ${fit.iterations} iterations, ${fit.groups} groups`);
      names.forEach((k, i) => {
        const tolerance = k === 'r' || k === 'alpha' ? 0.08 : 0.25;
        expect(Math.abs(fit.params[k] / c.params[k] - 1)).toBeLessThan(tolerance);
        expect(Math.abs(Math.log(fit.params[k]) - Math.log(c.params[k]))).toBeLessThan(4 * (se[i] as number));
      });
      // The reported optimum is a stationary point of the independently evaluated likelihood.
      const llAt = (t: readonly number[]): number =>
        bgNbdLogLikelihood({ r: Math.exp(t[0] as number), alpha: Math.exp(t[1] as number), a: Math.exp(t[2] as number), b: Math.exp(t[3] as number) }, data) / c.n;
      const grad = numericalGradient(llAt, names.map((k) => Math.log(fit.params[k])), 1e-5);
      for (const g of grad) expect(Math.abs(g)).toBeLessThan(1e-5);
      expect(fit.logLikelihood).toBeCloseTo(bgNbdLogLikelihood(fit.params, data), 6);
    });
  }

  it('is deterministic and independent of the order of the clients', () => {
    const data = simulateBgNbd({ r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 }, 3_000, 39, 11);
    const a = fitBgNbd(data);
    const b = fitBgNbd([...data].reverse());
    expect(fitBgNbd(data)).toEqual(a);
    for (const k of ['r', 'alpha', 'a', 'b'] as const) expect(b.params[k]).toBeCloseTo(a.params[k], 6);
  });

  it('gives the same answer in days and in weeks (α scales, r, a, b do not)', () => {
    const weeks = simulateBgNbd({ r: 0.5, alpha: 8, a: 0.9, b: 3 }, 5_000, 52, 5);
    const days = weeks.map((s) => ({ ...s, recency: s.recency * 7, T: s.T * 7 }));
    const fw = fitBgNbd(weeks);
    const fd = fitBgNbd(days);
    expect(fd.params.alpha / 7).toBeCloseTo(fw.params.alpha, 4);
    expect(fd.params.r).toBeCloseTo(fw.params.r, 5);
    expect(fd.params.a).toBeCloseTo(fw.params.a, 4);
    expect(fd.params.b).toBeCloseTo(fw.params.b, 4);
  });
});

describe('fitBgNbd: edge cases', () => {
  it('all one-time buyers: returns finite placeholder parameters, flagged as not converged', () => {
    const data = Array.from({ length: 1_000 }, (_, i) => summary(0, 0, 10 + (i % 50)));
    const fit = fitBgNbd(data);
    expect(fit.converged).toBe(false);
    expect(fit.iterations).toBe(0);
    expect(fit.warnings[0]).toMatch(/no repeat purchases/);
    expect(fit.groups).toBe(50);
    for (const v of Object.values(fit.params)) expect(Number.isFinite(v) && v > 0).toBe(true);
    expect(fit.params.r).toBeLessThan(1e-6);
    expect(Number.isFinite(fit.logLikelihood)).toBe(true);
    // The placeholders predict essentially no repeat purchases.
    expect(expectedPurchases(fit.params, summary(0, 0, 30), 52)).toBeLessThan(1e-5);
  });

  it('all buyers on the same day (T = 0): no information, same placeholder answer', () => {
    const fit = fitBgNbd(Array.from({ length: 100 }, () => summary(0, 0, 0)));
    expect(fit.converged).toBe(false);
    expect(fit.groups).toBe(1);
    expect(fit.params.alpha).toBe(1);
    expect(fit.logLikelihood).toBe(0);
  });

  it('a tiny base (3 clients) returns finite parameters and a likelihood no worse than the start', () => {
    const data = [summary(0, 0, 10), summary(2, 5, 10), summary(1, 3, 10)];
    const fit = fitBgNbd(data);
    for (const v of Object.values(fit.params)) expect(Number.isFinite(v) && v > 0).toBe(true);
    expect(Number.isFinite(fit.logLikelihood)).toBe(true);
    const start = { r: 1, alpha: 10 / 1, a: 1, b: 1 };
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(bgNbdLogLikelihood(start, data));
    // Three clients do not identify four parameters: the likelihood keeps improving as r, α → ∞
    // (one purchase rate for everyone), and the report says so.
    expect(fit.converged).toBe(false);
    expect(fit.warnings.join(' ')).toMatch(/not converging|bound/);
    // Predictions from such parameters stay finite.
    expect(Number.isFinite(expectedPurchases(fit.params, summary(2, 5, 10), 52))).toBe(true);
    const series = expectedPurchasesIfAlive(fit.params, 1, 10, 52, 'series');
    const quadrature = expectedPurchasesIfAlive(fit.params, 1, 10, 52, 'quadrature');
    expect(Math.abs(quadrature / series - 1)).toBeLessThan(1e-6); // ln Γ of ~1e6 limits both
  });

  it('rejects an empty base', () => {
    expect(() => fitBgNbd([])).toThrow(RangeError);
  });

  it('fits a 200 000-client base quickly thanks to grouping (measured, not asserted)', () => {
    const params = { r: 0.8, alpha: 60, a: 1.5, b: 6 };
    const data = simulateBgNbd(params, 200_000, Array.from({ length: 701 }, (_, i) => 30 + i), 99, { discrete: true });
    const started = performance.now();
    const fit = fitBgNbd(data);
    const ms = performance.now() - started;
    console.log(
      `[timing] fitBgNbd on 200 000 clients (${fit.groups} groups): ${ms.toFixed(0)} ms, ${fit.iterations} iterations; ` +
        `r ${fit.params.r.toFixed(3)} α ${fit.params.alpha.toFixed(2)} a ${fit.params.a.toFixed(3)} b ${fit.params.b.toFixed(3)}`,
    );
    expect(fit.converged).toBe(true);
    expect(Math.abs(fit.params.r / params.r - 1)).toBeLessThan(0.05);
  });
});
