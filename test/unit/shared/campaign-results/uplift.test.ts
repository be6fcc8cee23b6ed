import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  excludesZero,
  inferenceHolds,
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
  const times = (values: number[], n: number): number[] => Array.from({ length: n }, () => values).flat();

  it('matches scipy with unequal variances', () => {
    // 1..5 and 2, 4, ..., 10, six times each (30 members): scipy.stats.ttest_ind(equal_var=False)
    // gives df 42.647058823529 and the 95% interval [-4.184525924201666, -1.815474075798334].
    const result = meanDifference(momentsOf(times([1, 2, 3, 4, 5], 6)), momentsOf(times([2, 4, 6, 8, 10], 6)), 0.95);
    expect(result?.estimate).toBeCloseTo(-3, 12);
    expect(result?.degreesOfFreedom).toBeCloseTo(42.647058823529, 9);
    expect(result?.interval.low).toBeCloseTo(-4.184525924201666, 5);
    expect(result?.interval.high).toBeCloseTo(-1.815474075798334, 5);
  });

  it('uses t with 2(n − 1) degrees of freedom for equal sizes and variances', () => {
    // Both variances 750/29, n = 30: se = √(50/29), df = 58, t(0.975, 58) = 2.0017174841452356.
    const result = meanDifference(momentsOf(times([0, 0, 0, 10, 10, 10], 5)), momentsOf(times([2, 2, 2, 12, 12, 12], 5)), 0.95);
    expect(result?.degreesOfFreedom).toBeCloseTo(58, 9);
    expect(result?.interval.low).toBeCloseTo(-2 - 2.0017174841452356 * Math.sqrt(50 / 29), 8);
    expect(result?.interval.high).toBeCloseTo(-2 + 2.0017174841452356 * Math.sqrt(50 / 29), 8);
  });

  it('gives no interval below 30 members in a group, nor when no revenue varies (no zero-width certainty)', () => {
    const varied = times([0, 5_000], 15);
    expect(meanDifference(momentsOf(varied.slice(1)), momentsOf(varied), 0.95)).toBeUndefined();
    expect(meanDifference(momentsOf(varied), momentsOf([5_000, 5_000, 5_000]), 0.95)).toBeUndefined();
    expect(meanDifference(momentsOf(varied), momentsOf([]), 0.95)).toBeUndefined();
    expect(meanDifference(momentsOf(times([0], 40)), momentsOf(times([0], 30)), 0.95)).toBeUndefined();
    expect(meanDifference(momentsOf(times([5_000], 40)), momentsOf(times([0], 30)), 0.95)).toBeUndefined();
    expect(meanDifference(momentsOf(varied), momentsOf(times([0], 30)), 0.95)?.interval.low).toBeLessThan(2_500);
  });

  it('flips sign when the groups are swapped and contains the estimate', () => {
    const sample = fc.array(fc.integer({ min: 0, max: 2_000_000 }), { minLength: 30, maxLength: 90 });
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        const forward = meanDifference(momentsOf(a), momentsOf(b), 0.95);
        const backward = meanDifference(momentsOf(b), momentsOf(a), 0.95);
        if (forward === undefined || backward === undefined) {
          // Only when nothing varies in either group.
          expect(new Set(a).size === 1 && new Set(b).size === 1).toBe(true);
          return;
        }
        expect(forward.interval.low).toBeLessThan(forward.estimate);
        expect(forward.interval.high).toBeGreaterThan(forward.estimate);
        expect(backward.interval.low).toBeCloseTo(-forward.interval.high, 6);
        expect(backward.interval.high).toBeCloseTo(-forward.interval.low, 6);
      }),
    );
  });
});

describe('inferenceHolds: the sizes a significance claim needs', () => {
  it('needs 30 members, 5 conversions and 5 non-conversions in each group', () => {
    expect(inferenceHolds(of(5, 30), of(25, 30))).toBe(true);
    expect(inferenceHolds(of(5, 29), of(25, 30))).toBe(false);
    expect(inferenceHolds(of(4, 30), of(25, 30))).toBe(false);
    expect(inferenceHolds(of(26, 30), of(25, 30))).toBe(false);
    expect(inferenceHolds(of(5, 30), of(0, 300))).toBe(false);
    // The adversarial cases: Newcombe's interval excludes 0 for each, the sizes do not allow a claim.
    for (const [sent, control] of [[of(2, 2), of(0, 2)], [of(3, 3), of(0, 3)], [of(20, 20), of(0, 1)]] as const) {
      expect(excludesZero(proportionDifference(sent, control, 0.95).interval)).toBe(true);
      expect(inferenceHolds(sent, control)).toBe(false);
    }
  });

  it('is symmetric and never holds for a group under 30 or without 5 of each outcome', () => {
    fc.assert(
      fc.property(proportion, proportion, (a, b) => {
        const holds = inferenceHolds(a, b);
        expect(inferenceHolds(b, a)).toBe(holds);
        if (holds) for (const p of [a, b]) expect(p.trials >= 30 && p.successes >= 5 && p.trials - p.successes >= 5).toBe(true);
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
