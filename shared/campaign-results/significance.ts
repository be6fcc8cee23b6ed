import { ConvergenceError, lbeta } from '#shared/clv/special.ts';

/**
 * Quantiles of the standard normal and Student's t distributions, for the campaign results'
 * confidence intervals. Written out (no statistics dependency), pure and deterministic; the
 * log-beta comes from the CLV module's special functions.
 */

// Wichura's AS 241 (PPND16, Applied Statistics 37(3), 1988): rational approximations in three
// regions, accurate to about 1e-16 relative. Coefficients lowest degree first.
const CENTRAL_NUMERATOR = [
  3.387132872796366608, 133.14166789178437745, 1971.5909503065514427, 13731.693765509461125, 45921.953931549871457,
  67265.770927008700853, 33430.575583588128105, 2509.0809287301226727,
] as const;
const CENTRAL_DENOMINATOR = [
  1, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077, 21213.794301586595867, 39307.89580009271061,
  28729.085735721942674, 5226.495278852854561,
] as const;
const INTERMEDIATE_NUMERATOR = [
  1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055, 3.64784832476320460504, 1.27045825245236838258,
  0.24178072517745061177, 0.0227238449892691845833, 7.7454501427834140764e-4,
] as const;
const INTERMEDIATE_DENOMINATOR = [
  1, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455, 0.14810397642748007459,
  0.0151986665636164571966, 5.475938084995344946e-4, 1.05075007164441684324e-9,
] as const;
const TAIL_NUMERATOR = [
  6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358, 0.29656057182850489123, 0.026532189526576123093,
  0.0012426609473880784386, 2.71155556874348757815e-5, 2.01033439929228813265e-7,
] as const;
const TAIL_DENOMINATOR = [
  1, 0.59983220655588793769, 0.13692988092273580531, 0.0148753612908506148525, 7.868691311456132591e-4,
  1.8463183175100546818e-5, 1.4215117583164458887e-7, 2.04426310338993978564e-15,
] as const;

function polynomial(coefficients: readonly number[], x: number): number {
  let value = 0;
  for (let i = coefficients.length - 1; i >= 0; i--) value = value * x + (coefficients[i] as number);
  return value;
}

/** Φ⁻¹(p): the standard normal quantile, for 0 < p < 1 (±Infinity at 0 and 1). */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`normalQuantile needs a probability in [0, 1], got ${p}`);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * polynomial(CENTRAL_NUMERATOR, r)) / polynomial(CENTRAL_DENOMINATOR, r);
  }
  // The tails: r = √(−ln min(p, 1 − p)), with the sign of q.
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let value: number;
  if (r <= 5) {
    r -= 1.6;
    value = polynomial(INTERMEDIATE_NUMERATOR, r) / polynomial(INTERMEDIATE_DENOMINATOR, r);
  } else {
    r -= 5;
    value = polynomial(TAIL_NUMERATOR, r) / polynomial(TAIL_DENOMINATOR, r);
  }
  return q < 0 ? -value : value;
}

/**
 * The continued fraction of the regularized incomplete beta function (modified Lentz, as in
 * Numerical Recipes' betacf); converges quickly for x < (a + 1) / (a + b + 2).
 */
function incompleteBetaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  const clampTiny = (v: number) => (Math.abs(v) < tiny ? tiny : v);
  let c = 1;
  let d = 1 / clampTiny(1 - ((a + b) * x) / (a + 1));
  let fraction = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    const even = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 / clampTiny(1 + even * d);
    c = clampTiny(1 + even / c);
    fraction *= d * c;
    const odd = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 / clampTiny(1 + odd * d);
    c = clampTiny(1 + odd / c);
    const step = d * c;
    fraction *= step;
    if (Math.abs(step - 1) < 1e-16) return fraction;
  }
  throw new ConvergenceError(`incomplete beta continued fraction did not converge for a=${a}, b=${b}, x=${x}`);
}

/**
 * I_x(a, b), the regularized incomplete beta function, for a, b > 0 and 0 <= x <= 1. `y` is
 * 1 − x; pass it when it is known more precisely than 1 − x can be computed (x close to 1: the
 * subtraction would keep only the digits x has beyond 1's).
 */
export function regularizedIncompleteBeta(x: number, a: number, b: number, y: number = 1 - x): number {
  if (!(a > 0 && b > 0)) throw new RangeError(`incomplete beta needs a, b > 0, got ${a}, ${b}`);
  if (!(x >= 0 && x <= 1)) throw new RangeError(`incomplete beta needs 0 <= x <= 1, got ${x}`);
  if (x === 0 || x === 1) return x;
  const front = Math.exp(a * Math.log(x) + b * Math.log(y) - lbeta(a, b));
  // The fraction converges fast on the side of the mode where x is small; use the symmetry
  // I_x(a, b) = 1 − I_{1−x}(b, a) on the other side.
  return x < (a + 1) / (a + b + 2)
    ? (front * incompleteBetaFraction(a, b, x)) / a
    : 1 - (front * incompleteBetaFraction(b, a, y)) / b;
}

/** P(T > t) for t >= 0, T Student's t with `df` degrees of freedom (any positive real df). */
function studentTUpperTail(t: number, df: number): number {
  // 1 − x as t² / (df + t²): near t = 0 with a large df, x rounds to within a few ulps of 1.
  return 0.5 * regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5, (t * t) / (df + t * t));
}

/** P(T <= t), T Student's t with `df` > 0 degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`Student's t needs df > 0, got ${df}`);
  if (Number.isNaN(t)) return NaN;
  const upper = studentTUpperTail(Math.abs(t), df);
  return t >= 0 ? 1 - upper : upper;
}

/**
 * The Student's t quantile, for 0 < p < 1 and any df > 0 (Welch's degrees of freedom are not
 * whole). Bisection on the tail probability, bracketed from the normal quantile (the t quantile
 * is always further out): ~60 halvings to full precision; it runs a few dozen times a night.
 * Past df = 1e7 the normal quantile is returned (they agree to ~1e-7 relative there).
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`studentTQuantile needs a probability in [0, 1], got ${p}`);
  if (!(df > 0)) throw new RangeError(`Student's t needs df > 0, got ${df}`);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p === 0.5) return 0;
  if (df > 1e7) return normalQuantile(p);
  const tail = Math.min(p, 1 - p);
  let low = Math.abs(normalQuantile(tail));
  let high = Math.max(1, 2 * low);
  while (studentTUpperTail(high, df) > tail) {
    low = high;
    high *= 2;
    if (!Number.isFinite(high)) break;
  }
  for (let i = 0; i < 200 && high - low > 1e-15 * high; i++) {
    const middle = 0.5 * (low + high);
    if (studentTUpperTail(middle, df) > tail) low = middle;
    else high = middle;
  }
  const t = 0.5 * (low + high);
  return p < 0.5 ? -t : t;
}
