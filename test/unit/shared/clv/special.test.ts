import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { digamma, hyp2f1, integrateUnitInterval, lbeta, lgamma, lnBetaCentreDensity, logAddExp, log1pExp } from '#shared/clv/special.ts';

describe('lgamma', () => {
  it('matches known values', () => {
    // ln Γ(1/2) = ln √π; ln 9!; ln 99!; ln Γ(3.5) = ln(15√π/8); Γ(1e-8) ≈ 1/x − γ.
    expect(lgamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 14);
    expect(lgamma(1)).toBeCloseTo(0, 14);
    expect(lgamma(2)).toBeCloseTo(0, 14);
    expect(lgamma(10)).toBeCloseTo(Math.log(362880), 12);
    expect(lgamma(100)).toBeCloseTo(359.1342053695754, 10);
    expect(lgamma(3.5)).toBeCloseTo(Math.log((15 * Math.sqrt(Math.PI)) / 8), 13);
    expect(lgamma(1e-8)).toBeCloseTo(18.420680738180209, 10);
    expect(lgamma(1e6)).toBeCloseTo(12815504.569147611, 5);
  });

  it('equals ln((n−1)!) for integers up to 30', () => {
    let logFactorial = 0;
    for (let n = 1; n <= 30; n++) {
      expect(Math.abs(lgamma(n) - logFactorial)).toBeLessThan(1e-12 * Math.max(1, logFactorial));
      logFactorial += Math.log(n);
    }
  });

  it('satisfies the recurrence and Legendre duplication formula', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-6, max: 1e4, noNaN: true }), (x) => {
        const rec = lgamma(x + 1) - lgamma(x) - Math.log(x);
        const dup = lgamma(x) + lgamma(x + 0.5) - ((1 - 2 * x) * Math.LN2 + 0.5 * Math.log(Math.PI) + lgamma(2 * x));
        const scale = 1e-12 * Math.max(1, Math.abs(lgamma(2 * x)));
        return Math.abs(rec) < scale + 1e-13 && Math.abs(dup) < scale + 1e-12;
      }),
    );
  });

  it('handles arguments below 1/2 by reflection', () => {
    // Γ(0.1) = 9.513507698668732
    expect(lgamma(0.1)).toBeCloseTo(Math.log(9.513507698668732), 13);
    expect(lgamma(-0.5)).toBeCloseTo(Math.log(2 * Math.sqrt(Math.PI)), 13);
  });
});

describe('digamma', () => {
  it('matches known values', () => {
    const eulerGamma = 0.5772156649015329;
    expect(digamma(1)).toBeCloseTo(-eulerGamma, 14);
    expect(digamma(0.5)).toBeCloseTo(-eulerGamma - 2 * Math.LN2, 13);
    expect(digamma(10)).toBeCloseTo(2.251752589066721, 13);
    expect(digamma(1e-8)).toBeCloseTo(-1e8 - eulerGamma, 6);
  });

  it('is the derivative of lgamma', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.05, max: 500, noNaN: true }), (x) => {
        const h = 1e-5 * x;
        const numeric = (lgamma(x + h) - lgamma(x - h)) / (2 * h);
        return Math.abs(numeric - digamma(x)) < 1e-6 * Math.max(1, Math.abs(digamma(x)));
      }),
    );
  });
});

describe('lbeta and lnBetaCentreDensity', () => {
  // [a, b, ln B(a, b), a ln(a/(a+b)) + b ln(b/(a+b)) − ln B(a, b)], by mpmath at 40 digits.
  const E16 = Math.exp(16);
  const references: [number, number, number, number][] = [
    [0.5, 0.5, 1.1447298858494001741, -1.8378770664093454836],
    [2, 3, -2.4849066497880003102, -0.88015168525828186975],
    [10, 1, -2.302585092994045684, -1.0484119778475734605],
    [15, 20, -24.049722172259503267, 0.14793850774299533624],
    [12, 1e5, -120.6534577084703071, 0.31651195508184190795],
    [0.01, 1e6, 4.4613247774123797662, -4.6555315849019034246],
    [3e6, 1234.5, -10861.187510924149073, 2.6399989097867434838],
    [E16, 7.673115888159982e-6, 11.777660582664499572, -11.777881397965151995],
    [8886042.524234643, 1.0000000000035532, -15.999992348057136812, -1.0000000562659648721],
    [9e6, 9e6, -12476655.990934445846, 6.7408554302767124581],
  ];

  it('keeps ln B(a, b) to rounding when one argument is in the millions (Stirling’s form past 10)', () => {
    // By ln Γ(a) + ln Γ(b) − ln Γ(a + b) the e¹⁶ row was 4e-9 off (ln Γ(e¹⁶) ≈ 1.3e8).
    for (const [a, b, lnB] of references) {
      expect(Math.abs(lbeta(a, b) - lnB)).toBeLessThan(1e-14 * Math.max(1, Math.abs(lnB)));
      expect(lbeta(b, a)).toBe(lbeta(a, b));
    }
  });

  it('gives the Beta log-density at its centre to rounding, where the ln Γ terms are 1e8 each', () => {
    for (const [a, b, , atCentre] of references) {
      expect(Math.abs(lnBetaCentreDensity(a, b) - atCentre)).toBeLessThan(1e-14 * Math.max(1, Math.abs(atCentre)));
      expect(lnBetaCentreDensity(b, a)).toBe(lnBetaCentreDensity(a, b));
    }
  });
});

describe('log-space helpers', () => {
  it('logAddExp and log1pExp do not overflow', () => {
    expect(logAddExp(1000, 1000)).toBeCloseTo(1000 + Math.LN2, 12);
    expect(logAddExp(-1000, -Infinity)).toBe(-1000);
    expect(logAddExp(0, -800)).toBe(0);
    expect(log1pExp(800)).toBe(800);
    expect(log1pExp(-800)).toBeCloseTo(Math.exp(-800), 300);
    expect(log1pExp(0)).toBeCloseTo(Math.LN2, 15);
  });
});

describe('hyp2f1', () => {
  it('matches closed forms', () => {
    for (const z of [-0.9, -0.3, 0.1, 0.5, 0.9, 0.99]) {
      // ₂F₁(1, 1; 2; z) = −ln(1−z)/z
      expect(hyp2f1(1, 1, 2, z)).toBeCloseTo(-Math.log1p(-z) / z, 11);
      // ₂F₁(a, b; b; z) = (1−z)^−a
      expect(hyp2f1(0.7, 2.3, 2.3, z)).toBeCloseTo(Math.pow(1 - z, -0.7), 10);
      // ₂F₁(1/2, 1/2; 3/2; z²) = arcsin(z)/z
      if (z > 0) expect(hyp2f1(0.5, 0.5, 1.5, z * z)).toBeCloseTo(Math.asin(z) / z, 11);
    }
    // Polynomial case terminates: ₂F₁(−2, b; c; z) = 1 − 2bz/c + b(b+1)z²/(c(c+1))
    expect(hyp2f1(-2, 3, 4, 0.5)).toBeCloseTo(1 - 0.75 + (12 * 0.25) / 20, 15);
  });

  it('refuses |z| >= 1 and non-positive integer c', () => {
    expect(() => hyp2f1(1, 1, 2, 1)).toThrow(RangeError);
    expect(() => hyp2f1(1, 1, -3, 0.5)).toThrow(RangeError);
  });
});

describe('integrateUnitInterval', () => {
  it('integrates Beta densities, singular or concentrated at an end, to 1', () => {
    for (const [a, b] of [
      [0.05, 0.3],
      [0.793, 2.426],
      [1, 1],
      [2, 500],
      [300, 0.7],
    ] as const) {
      const total = integrateUnitInterval((_p, lnP, ln1mP) => (a - 1) * lnP + (b - 1) * ln1mP - lbeta(a, b));
      expect(total).toBeCloseTo(1, 9);
    }
  });

  it('gets a very concentrated density right when given its centre and spread', () => {
    // sd of p ≈ 2e-4. ln B(a, b) ≈ −3.4e6, so double precision caps the accuracy near 1e-8.
    const [a, b] = [2e6, 3.2e6];
    const density = (_p: number, lnP: number, ln1mP: number): number => (a - 1) * lnP + (b - 1) * ln1mP - lbeta(a, b);
    const centred = integrateUnitInterval(density, 1e-11, 10, Math.log(a / b), Math.sqrt(1 / a + 1 / b));
    expect(centred).toBeCloseTo(1, 7);
    const mean = integrateUnitInterval((p, lnP, ln1mP) => density(p, lnP, ln1mP) + Math.log(p), 1e-11, 10, Math.log(a / b), Math.sqrt(1 / a + 1 / b));
    expect(mean).toBeCloseTo(a / (a + b), 7);
  });

  it('hands the integrand logit p − centre as computed, not recovered from p', () => {
    const center = Math.log(3e6 / 7.7e6);
    let worst = 0;
    integrateUnitInterval((_p, lnP, ln1mP, offset) => {
      worst = Math.max(worst, Math.abs(lnP - ln1mP - center - offset));
      return -((offset / 1e-3) ** 2) / 2; // a narrow peak at the centre
    }, 1e-11, 10, center, 1e-3);
    expect(worst).toBeLessThan(1e-12);
  });

  it('meets an absolute tolerance where rounding noise keeps a small integral from a relative one', () => {
    // ∫ 1e-12 dp with a wobble of 1e-6 relative: the levels never agree to 1e-11 of the integral.
    const wobbly = (_p: number, _lnP: number, _ln1mP: number, offset: number): number => Math.log(1e-12 * (1 + 1e-6 * Math.cos(1e6 * offset)));
    expect(() => integrateUnitInterval(wobbly)).toThrow(/did not converge/);
    expect(integrateUnitInterval(wobbly, 1e-11, 10, 0, 1, 1e-16)).toBeCloseTo(1e-12, 15);
  });

  it('computes a Beta mean', () => {
    const [a, b] = [0.7, 3.1];
    const mean = integrateUnitInterval((_p, lnP, ln1mP) => a * lnP + (b - 1) * ln1mP - lbeta(a, b));
    expect(mean).toBeCloseTo(a / (a + b), 10);
  });
});
