import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { expectedAverageOrderValue, fitGammaGamma, gammaGammaLogLikelihood } from '#shared/clv/gammagamma.ts';
import type { GammaGammaParams } from '#shared/clv/gammagamma.ts';
import { invertMatrix, numericalGradient, numericalHessian } from '#shared/clv/optimize.ts';
import { simulateBgNbd } from '#shared/clv/simulate.ts';
import { integrateUnitInterval, lgamma } from '#shared/clv/special.ts';
import type { RfmSummary } from '#shared/clv/summary.ts';

/** Fader & Hardie (2013) CDNOW estimates, with v converted from dollars to cents. */
const CDNOW_SPEND: GammaGammaParams = { p: 6.25, q: 3.74, v: 1544 };
const client = (frequency: number, monetaryValue: number): RfmSummary => ({ frequency, recency: frequency, T: 40, monetaryValue });

describe('Gamma-Gamma log-likelihood', () => {
  it('matches the individual-level density integrated over ν', () => {
    // m̄ | ν ~ Gamma(px, xν) (the mean of x Gamma(p, ν) values); ν ~ Gamma(q, v).
    for (const params of [CDNOW_SPEND, { p: 1.2, q: 1.5, v: 80 }, { p: 20, q: 8, v: 9e5 }]) {
      for (const [x, m] of [
        [1, 2500],
        [3, 3100],
        [12, 40],
        [2, 1e6],
      ] as const) {
        const { p, q, v } = params;
        const c = q / v; // ν = c·u/(1−u): the logit of u is ln(ν/c)
        // Integrate L(ν)/L_model, which must come to 1 (L itself can underflow: e^−1777 here),
        // with nodes centred on the posterior of ν, Gamma(q + px, v + x m̄).
        const model = gammaGammaLogLikelihood(params, [client(x, m)]);
        const ratio = integrateUnitInterval(
          (u, lnU, ln1mU) => {
            const lnNu = Math.log(c) + lnU - ln1mU;
            const nu = Math.exp(lnNu);
            const lnDensityM = p * x * (Math.log(x) + lnNu) + (p * x - 1) * Math.log(m) - x * nu * m - lgamma(p * x);
            const lnDensityNu = q * Math.log(v) + (q - 1) * lnNu - v * nu - lgamma(q);
            return lnDensityM + lnDensityNu + Math.log(c) - 2 * ln1mU - model; // dν = c du/(1−u)²
          },
          1e-12,
          10,
          Math.log((q + p * x) / (v + x * m) / c),
          1 / Math.sqrt(q + p * x),
        );
        expect(ratio).toBeCloseTo(1, 8);
      }
    }
  });

  it('ignores clients without repeat purchases or with no positive value', () => {
    const base = [client(2, 3000), client(1, 1200)];
    const ll = gammaGammaLogLikelihood(CDNOW_SPEND, base);
    expect(gammaGammaLogLikelihood(CDNOW_SPEND, [...base, client(0, 0), client(3, 0)])).toBe(ll);
  });
});

describe('expectedAverageOrderValue', () => {
  it('is the population mean p·v/(q−1) for x = 0 and the paper’s weighted average otherwise', () => {
    const { p, q, v } = CDNOW_SPEND;
    const prior = (p * v) / (q - 1);
    expect(expectedAverageOrderValue(CDNOW_SPEND, client(0, 0))).toBeCloseTo(prior, 9);
    // E[M] = w·m̄ + (1 − w)·prior with w = px/(px + q − 1) (Fader & Hardie 2013, eq. 5 rearranged)
    const x = 3;
    const m = 2_000;
    const w = (p * x) / (p * x + q - 1);
    expect(expectedAverageOrderValue(CDNOW_SPEND, client(x, m))).toBeCloseTo(w * m + (1 - w) * prior, 9);
  });

  it('lies between the client’s mean and the population mean, nearer the client’s as x grows', () => {
    const prior = (CDNOW_SPEND.p * CDNOW_SPEND.v) / (CDNOW_SPEND.q - 1);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.double({ min: 1, max: 1e7, noNaN: true }), (x, m) => {
        const e = expectedAverageOrderValue(CDNOW_SPEND, client(x, m));
        const e2 = expectedAverageOrderValue(CDNOW_SPEND, client(x + 1, m));
        const lo = Math.min(m, prior) * (1 - 1e-12);
        const hi = Math.max(m, prior) * (1 + 1e-12);
        return e >= lo && e <= hi && Math.abs(e2 - m) <= Math.abs(e - m) * (1 + 1e-12);
      }),
    );
  });

  it('rises with what the client paid, from m̄ = 0 (repeat days of kept 0.00 orders) up, and shrinks toward 0 as such days add up', () => {
    const params = fc.record({
      p: fc.double({ min: 0.05, max: 100, noNaN: true }),
      q: fc.double({ min: 1.01, max: 100, noNaN: true }),
      v: fc.double({ min: 1, max: 1e7, noNaN: true }),
    });
    fc.assert(
      fc.property(params, fc.integer({ min: 1, max: 200 }), fc.double({ min: 0, max: 1e7, noNaN: true }), fc.double({ min: 0, max: 1e7, noNaN: true }), (gg, x, m1, m2) => {
        const [lo, hi] = m1 <= m2 ? [m1, m2] : [m2, m1];
        const atLo = expectedAverageOrderValue(gg, client(x, lo));
        const free = expectedAverageOrderValue(gg, client(x, 0));
        return (
          atLo <= expectedAverageOrderValue(gg, client(x, hi)) &&
          free <= atLo &&
          free >= 0 &&
          expectedAverageOrderValue(gg, client(x + 1, 0)) < free &&
          free < (gg.p * gg.v) / (gg.q - 1)
        );
      }),
    );
    // Continuous at m̄ = 0: a client who paid 0.01 is valued as one who paid nothing, to the cent.
    expect(expectedAverageOrderValue(CDNOW_SPEND, client(3, 1)) - expectedAverageOrderValue(CDNOW_SPEND, client(3, 0))).toBeLessThan(1);
  });

  it('refuses parameters without a finite mean', () => {
    expect(() => expectedAverageOrderValue({ p: 1, q: 0.5, v: 10 }, client(0, 0))).toThrow(RangeError);
  });
});

function logStandardErrors(params: GammaGammaParams, data: readonly RfmSummary[]): number[] {
  const negLl = (t: readonly number[]): number =>
    -gammaGammaLogLikelihood({ p: Math.exp(t[0] as number), q: Math.exp(t[1] as number), v: Math.exp(t[2] as number) }, data);
  const cov = invertMatrix(numericalHessian(negLl, [params.p, params.q, params.v].map(Math.log)));
  return cov.map((row, i) => Math.sqrt(row[i] as number));
}

describe('fitGammaGamma: parameter recovery on simulated data', () => {
  // Tolerance: within 20 % relative and 4 standard errors for each parameter.
  const cases = [
    { name: 'CDNOW spend on a CDNOW-like base', spend: CDNOW_SPEND, bg: { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 }, n: 20_000, T: 39, seed: 21 },
    { name: 'dispersed spend, frequent buyers', spend: { p: 2, q: 5, v: 30_000 }, bg: { r: 2, alpha: 10, a: 0.5, b: 0.8 }, n: 10_000, T: 52, seed: 22 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const data = simulateBgNbd(c.bg, c.n, c.T, c.seed, { spend: c.spend });
      const fit = fitGammaGamma(data);
      expect(fit.converged).toBe(true);
      expect(fit.warnings).toEqual([]);
      expect(fit.clients).toBe(data.filter((s) => s.frequency > 0).length);
      const se = logStandardErrors(fit.params, data);
      const names = ['p', 'q', 'v'] as const;
      console.log(
        `[recovery] Gamma-Gamma, ${c.name} (${fit.clients} repeat clients): ` +
          names
            .map((k, i) => {
              const z = (Math.log(fit.params[k]) - Math.log(c.spend[k])) / (se[i] as number);
              return `${k} ${fit.params[k].toFixed(3)} (true ${c.spend[k]}, ${((fit.params[k] / c.spend[k] - 1) * 100).toFixed(1)} %, z ${z.toFixed(2)})`;
            })
            .join('; ') +
          `; ${fit.iterations} iterations`,
      );
      names.forEach((k, i) => {
        expect(Math.abs(fit.params[k] / c.spend[k] - 1)).toBeLessThan(0.2);
        expect(Math.abs(Math.log(fit.params[k]) - Math.log(c.spend[k]))).toBeLessThan(4 * (se[i] as number));
      });
      expect(fit.logLikelihood).toBeCloseTo(gammaGammaLogLikelihood(fit.params, data), 5);
      const llAt = (t: readonly number[]): number =>
        gammaGammaLogLikelihood({ p: Math.exp(t[0] as number), q: Math.exp(t[1] as number), v: Math.exp(t[2] as number) }, data) / fit.clients;
      for (const g of numericalGradient(llAt, names.map((k) => Math.log(fit.params[k])), 1e-5)) expect(Math.abs(g)).toBeLessThan(1e-5);
    });
  }

  it('is currency-scale free: values ×100 give v ×100 and the same p, q', () => {
    const data = simulateBgNbd({ r: 0.5, alpha: 5, a: 0.8, b: 2.5 }, 5_000, 39, 23, { spend: CDNOW_SPEND });
    const cents = fitGammaGamma(data);
    const hundredths = fitGammaGamma(data.map((s) => ({ ...s, monetaryValue: s.monetaryValue * 100 })));
    expect(hundredths.params.p).toBeCloseTo(cents.params.p, 5);
    expect(hundredths.params.q).toBeCloseTo(cents.params.q, 5);
    expect(hundredths.params.v / 100 / cents.params.v).toBeCloseTo(1, 6);
  });
});

describe('fitGammaGamma: edge cases', () => {
  it('no repeat clients: placeholder parameters, flagged', () => {
    const fit = fitGammaGamma([client(0, 0), client(0, 0)]);
    expect(fit.converged).toBe(false);
    expect(fit.clients).toBe(0);
    expect(fit.params).toEqual({ p: 1, q: 2, v: 1 });
    expect(fit.warnings[0]).toMatch(/no repeat client/);
  });

  it('a tiny base returns finite parameters with q > 1', () => {
    const fit = fitGammaGamma([client(1, 2000), client(2, 3500), client(1, 1500)]);
    for (const v of Object.values(fit.params)) expect(Number.isFinite(v) && v > 0).toBe(true);
    expect(fit.params.q).toBeGreaterThan(1);
    expect(Number.isFinite(fit.logLikelihood)).toBe(true);
  });

  it('identical spend everywhere (no dispersion) runs to a bound and says so', () => {
    const fit = fitGammaGamma(Array.from({ length: 200 }, (_, i) => client(1 + (i % 3), 5000)));
    for (const v of Object.values(fit.params)) expect(Number.isFinite(v) && v > 0).toBe(true);
    expect(fit.warnings.length).toBeGreaterThan(0);
    expect(expectedAverageOrderValue(fit.params, client(2, 5000))).toBeCloseTo(5000, 0);
  });
});
