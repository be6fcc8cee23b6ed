import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  excludesZero,
  meanDifference,
  proportionDifference,
  relativeUplift,
  wilsonInterval,
  type Proportion,
  type SampleMoments,
} from '#shared/campaign-results/uplift.ts';
import { seededRandom } from '#test/support/random.ts';

const of = (successes: number, trials: number): Proportion => ({ successes, trials });

function momentsOf(values: number[]): SampleMoments {
  return { count: values.length, sum: values.reduce((a, b) => a + b, 0), sumOfSquares: values.reduce((a, b) => a + b * b, 0) };
}

const proportion = fc
  .tuple(fc.integer({ min: 1, max: 5000 }), fc.double({ min: 0, max: 1, noNaN: true }))
  .map(([trials, share]) => of(Math.round(share * trials), trials));

describe('wilsonInterval', () => {
  it("matches Newcombe's (1998) single-proportion examples", () => {
    // Statistics in Medicine 17:857-872, Table I, method 3 (score, no continuity correction).
    const cases: [number, number, number, number][] = [
      [81, 263, 0.2553, 0.3662],
      [15, 148, 0.0624, 0.1605],
      [0, 20, 0, 0.1611],
      [1, 29, 0.0061, 0.1718],
    ];
    for (const [x, n, low, high] of cases) {
      const interval = wilsonInterval(of(x, n), 0.95);
      expect(interval.low).toBeCloseTo(low, 4);
      expect(interval.high).toBeCloseTo(high, 4);
    }
  });

  it('stays in [0, 1] and contains the observed proportion', () => {
    fc.assert(
      fc.property(proportion, fc.double({ min: 0.5, max: 0.999, noNaN: true }), (p, level) => {
        const { low, high } = wilsonInterval(p, level);
        const observed = p.successes / p.trials;
        expect(low).toBeGreaterThanOrEqual(0);
        expect(high).toBeLessThanOrEqual(1);
        expect(low).toBeLessThanOrEqual(observed);
        expect(high).toBeGreaterThanOrEqual(observed);
      }),
    );
  });

  it('refuses impossible counts', () => {
    expect(() => wilsonInterval(of(3, 2), 0.95)).toThrow(RangeError);
    expect(() => wilsonInterval(of(0, 0), 0.95)).toThrow(RangeError);
    expect(() => wilsonInterval(of(1.5, 4), 0.95)).toThrow(RangeError);
    expect(() => wilsonInterval(of(1, 4), 1)).toThrow(RangeError);
  });
});

describe('proportionDifference (Newcombe method 10)', () => {
  it("matches the paper's Table II examples", () => {
    // Newcombe 1998, Statistics in Medicine 17:873-890, Table II, method 10 (hybrid score).
    const cases: [number, number, number, number, number, number][] = [
      [56, 70, 48, 80, 0.0524, 0.3339],
      [9, 10, 3, 10, 0.1705, 0.809],
      [6, 7, 2, 7, 0.0582, 0.8062],
      [5, 56, 0, 29, -0.0381, 0.1926],
      [0, 10, 0, 20, -0.1611, 0.2775],
      [0, 10, 0, 10, -0.2775, 0.2775],
      [10, 10, 0, 20, 0.6791, 1],
      [10, 10, 0, 10, 0.6075, 1],
    ];
    for (const [a, m, b, n, low, high] of cases) {
      const result = proportionDifference(of(a, m), of(b, n), 0.95);
      expect(result.estimate).toBeCloseTo(a / m - b / n, 12);
      expect(result.interval.low).toBeCloseTo(low, 4);
      expect(result.interval.high).toBeCloseTo(high, 4);
    }
  });

  it('contains the estimate and stays within [-1, 1]', () => {
    fc.assert(
      fc.property(proportion, proportion, (sent, control) => {
        const { estimate, interval } = proportionDifference(sent, control, 0.95);
        expect(interval.low).toBeLessThanOrEqual(estimate);
        expect(interval.high).toBeGreaterThanOrEqual(estimate);
        expect(interval.low).toBeGreaterThanOrEqual(-1 - 1e-12);
        expect(interval.high).toBeLessThanOrEqual(1 + 1e-12);
      }),
    );
  });

  it('flips sign when the groups are swapped', () => {
    fc.assert(
      fc.property(proportion, proportion, (a, b) => {
        const forward = proportionDifference(a, b, 0.95);
        const backward = proportionDifference(b, a, 0.95);
        expect(backward.estimate).toBeCloseTo(-forward.estimate, 12);
        expect(backward.interval.low).toBeCloseTo(-forward.interval.high, 12);
        expect(backward.interval.high).toBeCloseTo(-forward.interval.low, 12);
      }),
    );
  });

  it('narrows with more members at the same rates, and widens with the confidence level', () => {
    fc.assert(
      fc.property(proportion, proportion, fc.integer({ min: 2, max: 50 }), (a, b, k) => {
        const width = ({ interval }: { interval: { low: number; high: number } }) => interval.high - interval.low;
        const base = proportionDifference(a, b, 0.95);
        const bigger = proportionDifference(of(a.successes * k, a.trials * k), of(b.successes * k, b.trials * k), 0.95);
        expect(width(bigger)).toBeLessThan(width(base));
        expect(width(proportionDifference(a, b, 0.99))).toBeGreaterThan(width(base));
      }),
    );
  });

  it('agrees with the Wald interval on large groups', () => {
    const sent = of(12_000, 100_000);
    const control = of(1_000, 10_000);
    const p1 = 0.12;
    const p2 = 0.1;
    const halfWidth = 1.959963984540054 * Math.sqrt((p1 * (1 - p1)) / 100_000 + (p2 * (1 - p2)) / 10_000);
    const { interval } = proportionDifference(sent, control, 0.95);
    expect(interval.low).toBeCloseTo(0.02 - halfWidth, 3);
    expect(interval.high).toBeCloseTo(0.02 + halfWidth, 3);
  });

  it('keeps close to its nominal coverage with a small control group at a low rate', () => {
    // 10% control group, 4% conversion in both groups: the true difference is 0.
    const random = seededRandom(20261123);
    const draw = (n: number, p: number) => {
      let successes = 0;
      for (let i = 0; i < n; i++) if (random() < p) successes++;
      return of(successes, n);
    };
    const trials = 2000;
    let covered = 0;
    for (let i = 0; i < trials; i++) {
      const { interval } = proportionDifference(draw(300, 0.04), draw(30, 0.04), 0.95);
      if (interval.low <= 0 && interval.high >= 0) covered++;
    }
    expect(covered / trials).toBeGreaterThan(0.93);
  });
});

describe('meanDifference (Welch)', () => {
  it('matches a hand computation with unequal variances', () => {
    // 1..5 vs 2, 4, ..., 10: means 3 and 6, variances 2.5 and 10; se² = 2.5/5 + 10/5 = 2.5;
    // df = 2.5² / (0.5²/4 + 2²/4) = 100/17; t(0.975, 100/17) = 2.456...
    const result = meanDifference(momentsOf([1, 2, 3, 4, 5]), momentsOf([2, 4, 6, 8, 10]), 0.95);
    expect(result?.estimate).toBeCloseTo(-3, 12);
    expect(result?.degreesOfFreedom).toBeCloseTo(100 / 17, 12);
    expect(result?.interval.low).toBeCloseTo(-6.887742, 5);
    expect(result?.interval.high).toBeCloseTo(0.887742, 5);
  });

  it('uses t with 2(n − 1) degrees of freedom for equal sizes and variances', () => {
    // Both variances 30, n = 6: se = √10, df = 10, t(0.975, 10) = 2.228138851986274.
    const result = meanDifference(momentsOf([0, 0, 0, 10, 10, 10]), momentsOf([2, 2, 2, 12, 12, 12]), 0.95);
    expect(result?.degreesOfFreedom).toBeCloseTo(10, 12);
    expect(result?.interval.low).toBeCloseTo(-2 - 2.228138851986274 * Math.sqrt(10), 10);
    expect(result?.interval.high).toBeCloseTo(-2 + 2.228138851986274 * Math.sqrt(10), 10);
  });

  it('is undefined below two members in a group, and a point when nothing varies', () => {
    expect(meanDifference(momentsOf([5]), momentsOf([1, 2]), 0.95)).toBeUndefined();
    expect(meanDifference(momentsOf([1, 2]), momentsOf([]), 0.95)).toBeUndefined();
    expect(meanDifference(momentsOf([0, 0, 0]), momentsOf([0, 0]), 0.95)).toEqual({
      estimate: 0,
      interval: { low: 0, high: 0 },
      degreesOfFreedom: 3,
    });
  });

  it('flips sign when the groups are swapped and contains the estimate', () => {
    const sample = fc.array(fc.integer({ min: 0, max: 2_000_000 }), { minLength: 2, maxLength: 60 });
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        const forward = meanDifference(momentsOf(a), momentsOf(b), 0.95);
        const backward = meanDifference(momentsOf(b), momentsOf(a), 0.95);
        if (!forward || !backward) throw new Error('two members per group give an interval');
        expect(forward.interval.low).toBeLessThanOrEqual(forward.estimate);
        expect(forward.interval.high).toBeGreaterThanOrEqual(forward.estimate);
        expect(backward.interval.low).toBeCloseTo(-forward.interval.high, 6);
        expect(backward.interval.high).toBeCloseTo(-forward.interval.low, 6);
      }),
    );
  });
});

describe('relativeUplift and significance', () => {
  it('is relative to the control rate, undefined without a baseline', () => {
    expect(relativeUplift(0.12, 0.1)).toBeCloseTo(0.2, 12);
    expect(relativeUplift(0.05, 0.1)).toBeCloseTo(-0.5, 12);
    expect(relativeUplift(0.05, 0)).toBeUndefined();
  });

  it('calls an interval significant only when it excludes 0', () => {
    expect(excludesZero({ low: 0.01, high: 0.2 })).toBe(true);
    expect(excludesZero({ low: -0.2, high: -0.01 })).toBe(true);
    expect(excludesZero({ low: 0, high: 0.2 })).toBe(false);
    expect(excludesZero({ low: -0.1, high: 0.2 })).toBe(false);
  });
});
