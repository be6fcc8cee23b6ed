import { describe, expect, it } from 'vitest';
import { createRng, sampleBeta, sampleGamma, simulateBgNbd } from '#shared/clv/simulate.ts';

const moments = (xs: readonly number[]): { mean: number; variance: number } => {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  return { mean, variance: xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1) };
};

describe('random numbers', () => {
  it('are reproducible from the seed and uniform on [0, 1)', () => {
    const a = createRng(42);
    const b = createRng(42);
    const xs = Array.from({ length: 100_000 }, () => a());
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b()));
    expect(createRng(43)()).not.toBe(xs[0]);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const { mean, variance } = moments(xs);
    expect(Math.abs(mean - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / xs.length));
    expect(variance).toBeCloseTo(1 / 12, 3);
  });

  it('draw gamma and beta variates with the right mean and variance (shapes below and above 1)', () => {
    const rng = createRng(7);
    const n = 100_000;
    for (const [shape, rate] of [
      [0.243, 4.414],
      [1, 2],
      [6.25, 0.01],
    ] as const) {
      const { mean, variance } = moments(Array.from({ length: n }, () => sampleGamma(rng, shape, rate)));
      const sd = Math.sqrt(shape) / rate;
      expect(Math.abs(mean - shape / rate)).toBeLessThan((4 * sd) / Math.sqrt(n));
      expect(variance / (shape / rate ** 2)).toBeCloseTo(1, 1);
    }
    for (const [a, b] of [
      [0.793, 2.426],
      [5, 1.5],
    ] as const) {
      const { mean, variance } = moments(Array.from({ length: n }, () => sampleBeta(rng, a, b)));
      const v = (a * b) / ((a + b) ** 2 * (a + b + 1));
      expect(Math.abs(mean - a / (a + b))).toBeLessThan((4 * Math.sqrt(v)) / Math.sqrt(n));
      expect(variance / v).toBeCloseTo(1, 1);
    }
  });
});

describe('simulateBgNbd', () => {
  const params = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };

  it('is deterministic and produces valid summaries', () => {
    const a = simulateBgNbd(params, 2_000, [27, 33, 39], 5, { spend: { p: 6.25, q: 3.74, v: 1544 } });
    expect(simulateBgNbd(params, 2_000, [27, 33, 39], 5, { spend: { p: 6.25, q: 3.74, v: 1544 } })).toEqual(a);
    for (const s of a) {
      expect(Number.isInteger(s.frequency)).toBe(true);
      expect(s.recency).toBeLessThanOrEqual(s.T);
      expect([27, 33, 39]).toContain(s.T);
      if (s.frequency === 0) expect(s.recency === 0 && s.monetaryValue === 0).toBe(true);
      else expect(s.monetaryValue).toBeGreaterThan(0);
    }
  });

  it('matches the model’s mean number of repeat purchases, E[X(T)] (eq. 7)', () => {
    // The simulated mean must be within 4 SE of the model value (plus the midpoint rule’s error).
    const data = simulateBgNbd(params, 50_000, 39, 8);
    const { mean, variance } = moments(data.map((s) => s.frequency));
    const { r, alpha, a, b } = params;
    // Independent first-principles value: E[X(t)] = E_p[(1 − (α/(α + p t))^r)/p] by quadrature, as in eq. (★).
    let expected = 0;
    const steps = 200_000;
    for (let i = 0; i < steps; i++) {
      const p = (i + 0.5) / steps;
      const density = Math.exp((a - 1) * Math.log(p) + (b - 1) * Math.log1p(-p) - (lgammaApprox(a) + lgammaApprox(b) - lgammaApprox(a + b)));
      expected += ((1 - Math.pow(alpha / (alpha + p * 39), r)) / p) * density / steps;
    }
    expect(Math.abs(mean - expected)).toBeLessThan(4 * Math.sqrt(variance / data.length) + 0.01);
  });

  it('discrete mode counts each whole time unit once and keeps t_x on whole units', () => {
    const data = simulateBgNbd({ r: 5, alpha: 1, a: 1, b: 50 }, 500, 30, 9, { discrete: true, spend: { p: 2, q: 3, v: 100 } });
    for (const s of data) {
      expect(Number.isInteger(s.recency)).toBe(true);
      expect(s.frequency).toBeLessThanOrEqual(Math.floor(s.T));
    }
  });
});

/** ln Γ by Stirling with shift, independent of the Lanczos implementation under test elsewhere. */
function lgammaApprox(x: number): number {
  let shift = 0;
  let y = x;
  while (y < 20) {
    shift -= Math.log(y);
    y += 1;
  }
  return shift + (y - 0.5) * Math.log(y) - y + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * y) - 1 / (360 * y ** 3);
}
