import { describe, expect, it } from 'vitest';
import { invertMatrix, minimizeBfgs, numericalGradient, numericalHessian } from '#shared/clv/optimize.ts';

const rosenbrock = (x: readonly number[]): { value: number; gradient: number[] } => {
  const [a, b] = x as [number, number];
  return {
    value: (1 - a) ** 2 + 100 * (b - a * a) ** 2,
    gradient: [-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)],
  };
};

describe('minimizeBfgs', () => {
  it('finds the Rosenbrock minimum and reports convergence', () => {
    const result = minimizeBfgs(rosenbrock, [-1.2, 1], { gradientTolerance: 1e-10, maxIterations: 1000 });
    expect(result.converged).toBe(true);
    expect(result.reason).toBe('gradient');
    expect(result.x[0]).toBeCloseTo(1, 6);
    expect(result.x[1]).toBeCloseTo(1, 6);
    expect(result.iterations).toBeGreaterThan(5);
  });

  it('is deterministic', () => {
    const a = minimizeBfgs(rosenbrock, [-1.2, 1]);
    const b = minimizeBfgs(rosenbrock, [-1.2, 1]);
    expect(a).toEqual(b);
  });

  it('stops at a bound and counts it as converged when the gradient points outward', () => {
    // min (x − 3)² + (y + 1)² on [−10, 2] × [0, 10]: the optimum is (2, 0), both on bounds.
    const f = (x: readonly number[]): { value: number; gradient: number[] } => {
      const [a, b] = x as [number, number];
      return { value: (a - 3) ** 2 + (b + 1) ** 2, gradient: [2 * (a - 3), 2 * (b + 1)] };
    };
    const result = minimizeBfgs(f, [0, 5], { lower: [-10, 0], upper: [2, 10] });
    expect(result.converged).toBe(true);
    expect(result.x).toEqual([2, 0]);
    expect(result.atBound).toEqual([0, 1]);
  });

  it('reports non-convergence at the iteration cap', () => {
    const result = minimizeBfgs(rosenbrock, [-1.2, 1], { maxIterations: 3 });
    expect(result.converged).toBe(false);
    expect(result.reason).toBe('max-iterations');
    expect(result.iterations).toBe(3);
  });
});

describe('numerical derivatives', () => {
  it('agree with analytic ones', () => {
    const value = (x: readonly number[]): number => rosenbrock(x).value;
    const g = numericalGradient(value, [0.3, -0.2]);
    const exact = rosenbrock([0.3, -0.2]).gradient;
    expect(g[0]).toBeCloseTo(exact[0] as number, 5);
    expect(g[1]).toBeCloseTo(exact[1] as number, 5);
    const H = numericalHessian(value, [1, 1]);
    // ∇²f(1, 1) = [[802, −400], [−400, 200]]
    expect(H[0]?.[0]).toBeCloseTo(802, 3);
    expect(H[0]?.[1]).toBeCloseTo(-400, 3);
    expect(H[1]?.[1]).toBeCloseTo(200, 3);
    const inv = invertMatrix(H);
    // det = 802·200 − 400² = 400
    expect(inv[0]?.[0]).toBeCloseTo(200 / 400, 3);
    expect(inv[0]?.[1]).toBeCloseTo(400 / 400, 3);
  });
});
