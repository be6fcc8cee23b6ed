import { ClienteleError } from '#shared/errors.ts';

/**
 * Special functions the CLV models need, written out so the core has no dependencies:
 * log-gamma, digamma, log-sum-exp helpers, the Gauss hypergeometric series 2F1 and a
 * tanh-sinh quadrature on (0, 1). All pure and deterministic.
 */

const LN_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

// Lanczos approximation, g = 7, n = 9 (the widely published coefficient set, e.g. Numerical
// Recipes 3rd ed. / Godfrey). Relative error of Γ below ~2e-15 for Re z > 0.5.
const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
] as const;

/**
 * ln Γ(x) for x > 0 (and for negative non-integers, as ln |Γ(x)|). Lanczos for x >= 0.5, the
 * reflection formula below, so tiny arguments (r → 0) keep full relative precision.
 */
export function lgamma(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return Infinity;
  if (x < 0.5) {
    if (Number.isInteger(x)) return Infinity; // pole
    // Γ(x) Γ(1 − x) = π / sin(πx)
    return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
  }
  const z = x - 1;
  let sum = LANCZOS[0];
  for (let k = 1; k < LANCZOS.length; k++) sum += (LANCZOS[k] as number) / (z + k);
  const t = z + LANCZOS_G + 0.5;
  return LN_SQRT_2PI + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/**
 * Digamma ψ(x) = d/dx ln Γ(x), for x > 0: the recurrence ψ(x) = ψ(x + 1) − 1/x lifts x to
 * >= 10, where the asymptotic series (Abramowitz & Stegun 6.3.18, terms to x⁻¹⁴) is exact to
 * double precision.
 */
export function digamma(x: number): number {
  if (Number.isNaN(x) || x <= 0) {
    if (x <= 0 && Number.isInteger(x)) return NaN;
    if (x < 0) return digamma(1 - x) - Math.PI / Math.tan(Math.PI * x); // reflection
    return NaN;
  }
  let result = 0;
  let y = x;
  while (y < 10) {
    result -= 1 / y;
    y += 1;
  }
  const inv = 1 / y;
  const inv2 = inv * inv;
  // B2k / (2k) coefficients: 1/12, 1/120, 1/252, 1/240, 1/132, 691/32760, 1/12
  const series =
    inv2 *
    (1 / 12 -
      inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 * (1 / 132 - inv2 * (691 / 32760 - inv2 / 12))))));
  return result + Math.log(y) - 0.5 * inv - series;
}

/** ln(eᵃ + eᵇ) without overflow or underflow. */
export function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

/** ln(1 + eˣ) (the softplus), exact in both tails. */
export function log1pExp(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/**
 * δ(x) = ln Γ(x) − [(x − ½) ln x − x + ½ ln 2π], Stirling's remainder, for x >= 10 (its series,
 * Abramowitz & Stegun 6.1.41, to x⁻¹¹: the next term is below 1e-15 there).
 */
function stirlingRemainder(x: number): number {
  const inv = 1 / x;
  const inv2 = inv * inv;
  return inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 * (1 / 1680 - inv2 * (1 / 1188 - (inv2 * 691) / 360360)))));
}

/**
 * ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b). Once the larger argument l is >= 10 the ln Γ
 * of l and of l + s (s the smaller) are ~l·ln l each and their difference, ~s·ln l, would keep
 * only their absolute rounding (1e-8 at l ≈ 1e7, s ≈ 1e-5: a relative error of 1e-8 in B):
 * Stirling's form with its remainder δ takes the difference analytically,
 *   ln Γ(l + s) − ln Γ(l) = (l − ½)·ln(1 + s/l) + s·ln(l + s) − s + δ(l + s) − δ(l),
 * and with s >= 10 too, ln Γ(s) is written the same way, so the (s − ½) ln s terms cancel:
 *   ln B = ½ ln 2π − (s − ½)·ln(1 + l/s) − (l − ½)·ln(1 + s/l) − ½ ln(s + l) + δ(s) + δ(l) − δ(s + l).
 */
export function lbeta(a: number, b: number): number {
  const small = Math.min(a, b);
  const large = Math.max(a, b);
  if (!(large >= 10)) return lgamma(a) + lgamma(b) - lgamma(a + b);
  const remainders = stirlingRemainder(large) - stirlingRemainder(large + small);
  if (small >= 10) {
    return (
      LN_SQRT_2PI -
      (small - 0.5) * Math.log1p(large / small) -
      (large - 0.5) * Math.log1p(small / large) -
      0.5 * Math.log(small + large) +
      stirlingRemainder(small) +
      remainders
    );
  }
  return lgamma(small) - (large - 0.5) * Math.log1p(small / large) - small * Math.log(large + small) + small + remainders;
}

/**
 * ln[p₀ᵃ (1−p₀)ᵇ / B(a, b)] at p₀ = a/(a + b): the Beta(a, b) density in logit measure at its
 * centre. Written out so the large terms cancel analytically: for a and b in the millions,
 * a ln p₀, b ln(1 − p₀) and ln B(a, b) are ~1e7 each (by ln Γ, ~1e8 each) while their sum is
 * ~½ ln min(a, b): summed from them it keeps only their absolute rounding (1e-9 to 1e-8), this
 * is exact to rounding. With s = min(a, b), l = max(a, b) >= 10 it is
 *   s ln s − s − ln Γ(s) − ½ ln(1 + s/l) + δ(l + s) − δ(l),
 * and s ln s − s − ln Γ(s) = ½ ln(s/2π) − δ(s) once s >= 10 too.
 */
export function lnBetaCentreDensity(a: number, b: number): number {
  const small = Math.min(a, b);
  const large = Math.max(a, b);
  if (!(large >= 10)) return -a * Math.log1p(b / a) - b * Math.log1p(a / b) - lbeta(a, b);
  const gammaAtShape =
    small >= 10 ? 0.5 * Math.log(small / (2 * Math.PI)) - stirlingRemainder(small) : small * Math.log(small) - small - lgamma(small);
  return gammaAtShape - 0.5 * Math.log1p(small / large) + stirlingRemainder(large + small) - stirlingRemainder(large);
}

/** Thrown when a series or iteration fails to reach its tolerance within its budget. */
export class ConvergenceError extends ClienteleError {
  override name = 'ConvergenceError';
  constructor(message: string, options?: ErrorOptions) {
    super('CONVERGENCE_FAILED', message, options);
  }
}

/**
 * Gauss hypergeometric function ₂F₁(a, b; c; z) = Σₙ (a)ₙ(b)ₙ / ((c)ₙ n!) zⁿ by its power series.
 *
 * Valid for |z| < 1 and c not a non-positive integer. Convergence control: once the term ratio
 * is bounded below 1 for all later terms (the bound is z·max(1, (a+n)/(c+n))·max(1, (b+n)/(1+n)),
 * which holds once a+n, b+n, c+n > 0), summation stops when the geometric bound on the tail is
 * below `tolerance` relative to the sum. The number of terms grows like 1/(1 − |z|), so
 * `maxTerms` bounds the work; a ConvergenceError is thrown past it rather than returning a
 * silently wrong value. Terminates exactly when a or b is a non-positive integer (polynomial).
 */
export function hyp2f1(a: number, b: number, c: number, z: number, tolerance = 1e-15, maxTerms = 5_000_000): number {
  if (!(Math.abs(z) < 1)) throw new RangeError(`hyp2f1 series needs |z| < 1, got ${z}`);
  if (c <= 0 && Number.isInteger(c)) throw new RangeError(`hyp2f1 undefined for c = ${c}`);
  let term = 1;
  let sum = 1;
  const az = Math.abs(z);
  for (let n = 0; n < maxTerms; n++) {
    term *= ((a + n) * (b + n) * z) / ((c + n) * (n + 1));
    sum += term;
    if (term === 0) return sum;
    const m = n + 1;
    if (a + m > 0 && b + m > 0 && c + m > 0) {
      const bound = az * Math.max(1, (a + m) / (c + m)) * Math.max(1, (b + m) / (1 + m));
      if (bound < 1 && (Math.abs(term) * bound) / (1 - bound) <= tolerance * Math.abs(sum)) return sum;
    }
  }
  throw new ConvergenceError(`hyp2f1(${a}, ${b}; ${c}; ${z}) did not converge in ${maxTerms} terms`);
}

/**
 * ∫₀¹ f(p) dp by tanh-sinh (double-exponential) quadrature in the logit of p, for integrands
 * that may be singular or sharply concentrated. The map is logit p = center + scale·π·sinh t,
 * so nodes crowd around p = σ(center) at spacing ~ scale and thin out double-exponentially
 * towards 0 and 1: pass the centre and spread (in logit units) of a concentrated integrand,
 * e.g. ln(a/b) and √(1/a + 1/b) for a Beta(a, b) density. `logIntegrand(p, lnP, ln1mP)`
 * returns ln f(p); ln p and ln(1 − p) are supplied exactly, so mass packed against 0 or 1 is not
 * lost to rounding, and so is `offset` = logit p − center, so an integrand whose mass is packed
 * within a tiny distance of the centre can be written relative to it (see bgnbd.ts). Halves the
 * step (at least 3 times) until two levels agree to `tolerance` relative to the integral, or to
 * `absoluteTolerance` (for an integral that is a small correction to a larger answer, where
 * the integrand's rounding can keep it from meeting a relative tolerance it does not need).
 */
export function integrateUnitInterval(
  logIntegrand: (p: number, lnP: number, ln1mP: number, offset: number) => number,
  tolerance = 1e-11,
  maxLevel = 10,
  center = 0,
  scale = 1,
  absoluteTolerance = 0,
): number {
  const T_MAX = 9.5; // π sinh(9.5) ≈ 2.1e4 logit units (× scale) either side of the centre
  const lnScalePi = Math.log(scale * Math.PI);
  const node = (t: number): number => {
    const offset = scale * Math.PI * Math.sinh(t);
    const y = center + offset;
    const lnP = -log1pExp(-y);
    const ln1mP = -log1pExp(y);
    const value = logIntegrand(Math.exp(lnP), lnP, ln1mP, offset);
    // dp/dt = p (1 − p) · scale · π cosh t
    return Math.exp(value + lnP + ln1mP + lnScalePi + Math.log(Math.cosh(t)));
  };
  let h = 0.5;
  const steps = Math.floor(T_MAX / h);
  const centre = node(0);
  const above = Array.from({ length: steps }, (_, i) => node((i + 1) * h));
  const below = Array.from({ length: steps }, (_, i) => node(-(i + 1) * h));
  let sum = centre + above.reduce((acc, v) => acc + v, 0) + below.reduce((acc, v) => acc + v, 0);
  // The finer levels skip what lies past the first level's last node above 1e-20 of the largest
  // (the integrands here fall away from their mass): a concentrated integrand fills a few of
  // the ±2e4 units, and most nodes would add exact zeros.
  const negligible = 1e-20 * Math.max(centre, ...above, ...below);
  const extent = (values: readonly number[]): number => {
    let last = values.length - 1;
    while (last >= 0 && !((values[last] as number) > negligible)) last--;
    return Math.min(steps, last + 2) * h; // one first-level step past the last significant node
  };
  const upper = extent(above);
  const lower = extent(below);
  let estimate = sum * h;
  for (let level = 1; level <= maxLevel; level++) {
    h /= 2;
    // Only the odd multiples of the new step are new nodes.
    for (let k = 1; k * h <= upper || k * h <= lower; k += 2) {
      if (k * h <= upper) sum += node(k * h);
      if (k * h <= lower) sum += node(-k * h);
    }
    const next = sum * h;
    if (level >= 3 && Math.abs(next - estimate) <= Math.max(tolerance * Math.abs(next), absoluteTolerance)) return next;
    estimate = next;
  }
  throw new ConvergenceError('tanh-sinh quadrature did not converge');
}
