import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { normalQuantile, regularizedIncompleteBeta, studentTCdf, studentTQuantile } from '#shared/campaign-results/significance.ts';

describe('normalQuantile (Wichura AS 241)', () => {
  it('matches published quantiles in the centre and both tails', () => {
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 14);
    expect(normalQuantile(0.025)).toBeCloseTo(-1.959963984540054, 14);
    expect(normalQuantile(0.9)).toBeCloseTo(1.2815515655446004, 14);
    expect(normalQuantile(0.995)).toBeCloseTo(2.5758293035489004, 14);
    expect(normalQuantile(0.8413447460685429)).toBeCloseTo(1, 13); // Φ(1)
    expect(normalQuantile(1e-10)).toBeCloseTo(-6.361340902404056, 12);
    expect(normalQuantile(1e-300)).toBeCloseTo(-37.0471, 3);
  });

  it('is odd around 1/2 and increasing', () => {
    // Not below 1e-6: 1 − p itself rounds, and the quantile magnifies that in the far tail.
    fc.assert(
      fc.property(fc.double({ min: 1e-6, max: 0.5, noNaN: true }), fc.double({ min: 1e-6, max: 0.5, noNaN: true }), (p, q) => {
        expect(normalQuantile(p) + normalQuantile(1 - p)).toBeCloseTo(0, 8);
        if (p < q) expect(normalQuantile(p)).toBeLessThanOrEqual(normalQuantile(q));
      }),
    );
  });

  it('is infinite at 0 and 1 and refuses anything outside', () => {
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(() => normalQuantile(1.5)).toThrow(RangeError);
    expect(() => normalQuantile(Number.NaN)).toThrow(RangeError);
  });
});

describe('regularizedIncompleteBeta', () => {
  it('matches closed forms', () => {
    // I_x(a, 1) = x^a; I_x(1, b) = 1 − (1 − x)^b; I_0.5(2, 3) = 11/16.
    expect(regularizedIncompleteBeta(0.3, 2.5, 1)).toBeCloseTo(0.3 ** 2.5, 14);
    expect(regularizedIncompleteBeta(0.3, 1, 4.5)).toBeCloseTo(1 - 0.7 ** 4.5, 14);
    expect(regularizedIncompleteBeta(0.5, 2, 3)).toBeCloseTo(11 / 16, 14);
    expect(regularizedIncompleteBeta(0, 2, 3)).toBe(0);
    expect(regularizedIncompleteBeta(1, 2, 3)).toBe(1);
  });

  it('satisfies I_x(a, b) = 1 − I_{1−x}(b, a)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.001, max: 0.999, noNaN: true }),
        fc.double({ min: 0.1, max: 200, noNaN: true }),
        fc.double({ min: 0.1, max: 200, noNaN: true }),
        (x, a, b) => {
          expect(regularizedIncompleteBeta(x, a, b) + regularizedIncompleteBeta(1 - x, b, a)).toBeCloseTo(1, 10);
        },
      ),
    );
  });
});

describe("Student's t", () => {
  it('matches published 97.5% and 99.5% quantiles', () => {
    const table: [number, number, number][] = [
      // df, t(0.975), t(0.995)
      [1, 12.706204736174698, 63.65674116287399],
      [2, 4.302652729749464, 9.924843200918276],
      [5, 2.570581835636314, 4.032142983557536],
      [10, 2.228138851986274, 3.169272672616951],
      [30, 2.042272456301238, 2.749995653567254],
    ];
    for (const [df, t975, t995] of table) {
      expect(studentTQuantile(0.975, df)).toBeCloseTo(t975, 9);
      expect(studentTQuantile(0.995, df)).toBeCloseTo(t995, 8);
      expect(studentTQuantile(0.025, df)).toBeCloseTo(-t975, 9);
    }
  });

  it('matches the closed forms at 1 and 2 degrees of freedom', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.001, max: 0.999, noNaN: true }), (p) => {
        // Cauchy: tan(π(p − 1/2)); df 2: (2p − 1) / √(2p(1 − p)).
        expect(studentTQuantile(p, 1)).toBeCloseTo(Math.tan(Math.PI * (p - 0.5)), 7);
        expect(studentTQuantile(p, 2)).toBeCloseTo((2 * p - 1) / Math.sqrt(2 * p * (1 - p)), 9);
      }),
    );
  });

  it('inverts its distribution function for fractional degrees of freedom (Welch)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 0.99, noNaN: true }), fc.double({ min: 0.5, max: 5000, noNaN: true }), (p, df) => {
        expect(studentTCdf(studentTQuantile(p, df), df)).toBeCloseTo(p, 10);
      }),
    );
  });

  it('tends to the normal quantile as the degrees of freedom grow', () => {
    expect(studentTQuantile(0.975, 1e6)).toBeCloseTo(1.959963984540054, 5);
    expect(studentTQuantile(0.975, 1e9)).toBe(normalQuantile(0.975));
    expect(studentTQuantile(0.975, 100)).toBeGreaterThan(normalQuantile(0.975));
  });

  it('refuses a non-positive degree of freedom', () => {
    expect(() => studentTQuantile(0.9, 0)).toThrow(RangeError);
    expect(() => studentTCdf(1, -1)).toThrow(RangeError);
  });
});
