/**
 * A small deterministic optimiser for the CLV fits: BFGS with an Armijo backtracking line
 * search, simple box bounds and an explicit convergence test on the projected gradient.
 * No randomness anywhere: the same data and start point give bit-identical results.
 *
 * The models optimise over log-parameters, so the box is a guard against parameters running
 * off to 0 or ∞ on data that do not identify them, not part of the model.
 */

export interface ValueAndGradient {
  value: number;
  gradient: number[];
}

export interface MinimizeOptions {
  /** Iteration cap (one iteration = one line search). Default 500. */
  maxIterations?: number;
  /** Converged when max |projected gradient| <= this. Default 1e-8. */
  gradientTolerance?: number;
  lower?: readonly number[];
  upper?: readonly number[];
  /** Largest change of any coordinate in one step (a trust cap for the first steps). Default 2. */
  maxStep?: number;
}

export interface MinimizeResult {
  x: number[];
  value: number;
  gradient: number[];
  iterations: number;
  evaluations: number;
  converged: boolean;
  /** 'gradient' (converged), 'max-iterations', 'line-search' (no further decrease possible). */
  reason: 'gradient' | 'max-iterations' | 'line-search';
  /** Coordinates that ended on a bound. */
  atBound: number[];
}

const ARMIJO = 1e-4;

/** Minimises f (value and gradient) from x0 by BFGS; see the module comment. */
export function minimizeBfgs(
  f: (x: readonly number[]) => ValueAndGradient,
  x0: readonly number[],
  options: MinimizeOptions = {},
): MinimizeResult {
  const n = x0.length;
  const maxIterations = options.maxIterations ?? 500;
  const gtol = options.gradientTolerance ?? 1e-8;
  const maxStep = options.maxStep ?? 2;
  const lower = options.lower ?? new Array<number>(n).fill(-Infinity);
  const upper = options.upper ?? new Array<number>(n).fill(Infinity);
  const clamp = (x: number[]): number[] => x.map((v, i) => Math.min(upper[i] ?? Infinity, Math.max(lower[i] ?? -Infinity, v)));

  let evaluations = 0;
  const evaluate = (x: number[]): ValueAndGradient => {
    evaluations++;
    return f(x);
  };

  let x = clamp([...x0]);
  let current = evaluate(x);
  if (!Number.isFinite(current.value) || current.gradient.some((g) => !Number.isFinite(g))) {
    throw new RangeError('Objective is not finite at the start point');
  }
  let H = identity(n);
  let scaled = false;

  // Gradient with the components that push against an active bound removed: at a bound, a
  // gradient pointing outward is satisfied (KKT), not a reason to keep iterating.
  const projected = (x: readonly number[], g: readonly number[]): number[] =>
    g.map((gi, i) => ((x[i] ?? 0) <= (lower[i] ?? -Infinity) && gi > 0) || ((x[i] ?? 0) >= (upper[i] ?? Infinity) && gi < 0) ? 0 : gi);

  let iterations = 0;
  let reason: MinimizeResult['reason'] = 'max-iterations';
  while (true) {
    const pg = projected(x, current.gradient);
    if (maxAbs(pg) <= gtol) {
      reason = 'gradient';
      break;
    }
    if (iterations >= maxIterations) break;
    iterations++;

    let d = matVec(H, pg).map((v) => -v);
    for (let i = 0; i < n; i++) if (pg[i] === 0) d[i] = 0;
    if (dot(d, pg) >= 0) {
      // Not a descent direction (H lost positive definiteness numerically): restart.
      H = identity(n);
      scaled = false;
      d = pg.map((v) => -v);
    }
    const largest = maxAbs(d);
    if (largest > maxStep) d = d.map((v) => (v * maxStep) / largest);

    let step = 1;
    let accepted: { x: number[]; value: ValueAndGradient } | undefined;
    for (let tries = 0; tries < 60; tries++) {
      const candidate = clamp(x.map((xi, i) => xi + step * (d[i] ?? 0)));
      const decrease = dot(current.gradient, candidate.map((ci, i) => ci - (x[i] ?? 0)));
      const next = evaluate(candidate);
      if (Number.isFinite(next.value) && next.value <= current.value + ARMIJO * decrease && next.gradient.every(Number.isFinite)) {
        accepted = { x: candidate, value: next };
        break;
      }
      step *= 0.5;
    }
    if (!accepted || accepted.value.value >= current.value) {
      if (!isIdentity(H)) {
        // Retry once along steepest descent before giving up.
        H = identity(n);
        scaled = false;
        if (accepted && accepted.value.value < current.value) {
          x = accepted.x;
          current = accepted.value;
        }
        continue;
      }
      if (accepted && accepted.value.value < current.value) {
        x = accepted.x;
        current = accepted.value;
      }
      reason = 'line-search';
      break;
    }

    const s = accepted.x.map((v, i) => v - (x[i] ?? 0));
    const y = accepted.value.gradient.map((v, i) => v - (current.gradient[i] ?? 0));
    const sy = dot(s, y);
    x = accepted.x;
    current = accepted.value;
    // Curvature condition; skipping the update keeps H positive definite.
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y))) {
      if (!scaled) {
        // Shanno–Phua scaling of the initial inverse Hessian.
        const gamma = sy / dot(y, y);
        H = identity(n).map((row) => row.map((v) => v * gamma));
        scaled = true;
      }
      H = bfgsUpdate(H, s, y, sy);
    }
  }

  const pg = projected(x, current.gradient);
  const converged = reason === 'gradient' || (reason === 'line-search' && maxAbs(pg) <= gtol * 100);
  const atBound: number[] = [];
  x.forEach((v, i) => {
    if (v <= (lower[i] ?? -Infinity) || v >= (upper[i] ?? Infinity)) atBound.push(i);
  });
  return { x, value: current.value, gradient: current.gradient, iterations, evaluations, converged, reason, atBound };
}

/** Central-difference gradient, for checking analytic gradients and for objectives without one. */
export function numericalGradient(f: (x: readonly number[]) => number, x: readonly number[], h = 1e-6): number[] {
  return x.map((xi, i) => {
    const step = h * Math.max(1, Math.abs(xi));
    const plus = [...x];
    const minus = [...x];
    plus[i] = xi + step;
    minus[i] = xi - step;
    return (f(plus) - f(minus)) / (2 * step);
  });
}

/** Central-difference Hessian of a scalar function (for standard errors at an optimum). */
export function numericalHessian(f: (x: readonly number[]) => number, x: readonly number[], h = 1e-4): number[][] {
  const n = x.length;
  const H = identity(n).map((row) => row.map(() => 0));
  const at = (di: number, si: number, dj: number, sj: number): number => {
    const p = [...x];
    p[di] = (p[di] ?? 0) + si;
    p[dj] = (p[dj] ?? 0) + sj;
    return f(p);
  };
  for (let i = 0; i < n; i++) {
    const hi = h * Math.max(1, Math.abs(x[i] ?? 0));
    for (let j = i; j < n; j++) {
      const hj = h * Math.max(1, Math.abs(x[j] ?? 0));
      const v = (at(i, hi, j, hj) - at(i, hi, j, -hj) - at(i, -hi, j, hj) + at(i, -hi, j, -hj)) / (4 * hi * hj);
      (H[i] as number[])[j] = v;
      (H[j] as number[])[i] = v;
    }
  }
  return H;
}

/** Inverse of a small symmetric positive definite matrix by Gauss–Jordan with partial pivoting. */
export function invertMatrix(m: readonly (readonly number[])[]): number[][] {
  const n = m.length;
  const a = m.map((row, i) => [...row, ...identity(n)[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r]![col]!) > Math.abs(a[pivot]![col]!)) pivot = r;
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    const p = a[col]![col]!;
    if (p === 0) throw new RangeError('Singular matrix');
    a[col] = a[col]!.map((v) => v / p);
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const factor = a[r]![col]!;
      a[r] = a[r]!.map((v, k) => v - factor * a[col]![k]!);
    }
  }
  return a.map((row) => row.slice(n));
}

function identity(n: number): number[][] {
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
}

function isIdentity(m: readonly (readonly number[])[]): boolean {
  return m.every((row, i) => row.every((v, j) => v === (i === j ? 1 : 0)));
}

function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] ?? 0) * (b[i] ?? 0);
  return s;
}

function maxAbs(v: readonly number[]): number {
  let m = 0;
  for (const x of v) m = Math.max(m, Math.abs(x));
  return m;
}

function matVec(m: readonly (readonly number[])[], v: readonly number[]): number[] {
  return m.map((row) => dot(row, v));
}

/** H⁺ = (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ, ρ = 1 / (yᵀ s). */
function bfgsUpdate(H: number[][], s: number[], y: number[], sy: number): number[][] {
  const rho = 1 / sy;
  const Hy = matVec(H, y);
  const yHy = dot(y, Hy);
  const n = s.length;
  const out = identity(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      (out[i] as number[])[j] =
        (H[i]?.[j] ?? 0) -
        rho * ((Hy[i] ?? 0) * (s[j] ?? 0) + (s[i] ?? 0) * (Hy[j] ?? 0)) +
        (rho * rho * yHy + rho) * (s[i] ?? 0) * (s[j] ?? 0);
    }
  }
  return out;
}
