/**
 * The BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005, "Counting Your Customers the
 * Easy Way: An Alternative to the Pareto/NBD Model", Marketing Science 24(2)):
 *
 * - while alive, a client buys at Poisson rate λ, λ ~ Gamma(r, α) across clients (shape r, rate α);
 * - after each repeat purchase the client drops out with probability p, p ~ Beta(a, b).
 *
 * Fitted by maximum likelihood on (x, t_x, T) summaries. Times are in whatever unit the
 * summaries use (days or weeks); α carries that unit, r, a, b are unit-free.
 *
 * Numerical notes:
 * - The log-likelihood (eq. 6) is evaluated in log space: ln Γ by Lanczos, the sum of the two
 *   likelihood terms by log-sum-exp; the second term exists only for x > 0 (the a/(b + x − 1)
 *   factor would divide by b − 1 at x = 0).
 * - Identical (x, t_x, T) summaries are collapsed into weighted groups before fitting, and the
 *   ln Γ terms depend on x alone, so one evaluation costs O(distinct x) ln Γ calls plus one exp
 *   and one log1p per distinct summary. Real bases repeat a lot (every one-time buyer of a day
 *   shares x = 0, t_x = 0, T), which is what lets a 1M-client base fit in seconds.
 * - The optimiser works on log-parameters (so they stay positive), with times rescaled by the
 *   mean T so α is O(1), from a fixed start point: deterministic.
 */

import { ConvergenceError, digamma, integrateUnitInterval, lbeta, lgamma, lnBetaCentreDensity, log1pExp } from './special.ts';
import { minimizeBfgs } from './optimize.ts';
import type { RfmSummary } from './summary.ts';

export interface BgNbdParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

export interface FitReport<P> {
  params: P;
  /** Total log-likelihood of the data at `params` (in the data's own units). */
  logLikelihood: number;
  /** Optimiser iterations (line searches). */
  iterations: number;
  /** True when the projected gradient met the tolerance. */
  converged: boolean;
  /** Clients used by the fit. */
  clients: number;
  /** Distinct weighted groups the likelihood was evaluated on. */
  groups: number;
  /** Why a result deserves caution (degenerate data, a parameter on its bound, no convergence). */
  warnings: string[];
}

export interface FitOptions {
  /** Default 500. */
  maxIterations?: number;
  /** Convergence tolerance on max |∂(mean log-likelihood per client)/∂(ln θ)|. Default 1e-8. */
  tolerance?: number;
}

/** Bounds of the log-parameters (after rescaling): e^±16 ≈ 1.1e-7 … 8.9e6. */
const LOG_BOUND = 16;

/** Collapsed (x, t_x, T) data: groups index into the distinct x values and distinct times. */
interface Groups {
  clients: number;
  sumX: number;
  meanT: number;
  xs: number[];
  xWeight: Float64Array;
  times: Float64Array;
  gx: Uint32Array;
  gT: Uint32Array;
  gtx: Uint32Array;
  w: Float64Array;
}

function checkSummary(s: RfmSummary, index: number): void {
  const { frequency: x, recency: tx, T } = s;
  if (!Number.isInteger(x) || x < 0) throw new RangeError(`Summary ${index}: frequency must be a non-negative integer, got ${x}`);
  if (!Number.isFinite(T) || T < 0) throw new RangeError(`Summary ${index}: T must be finite and >= 0, got ${T}`);
  if (!Number.isFinite(tx) || tx < 0 || tx > T * (1 + 1e-12)) {
    throw new RangeError(`Summary ${index}: recency must be in [0, T], got ${tx} (T = ${T})`);
  }
}

function group(data: readonly RfmSummary[]): Groups {
  // x → T → t_x → group index; numeric maps avoid building a million string keys.
  const index = new Map<number, Map<number, Map<number, number>>>();
  const timeIndex = new Map<number, number>();
  const xIndex = new Map<number, number>();
  const gx: number[] = [];
  const gT: number[] = [];
  const gtx: number[] = [];
  const w: number[] = [];
  const xs: number[] = [];
  const xWeight: number[] = [];
  const times: number[] = [];
  const timeOf = (t: number): number => {
    let i = timeIndex.get(t);
    if (i === undefined) {
      i = times.length;
      times.push(t);
      timeIndex.set(t, i);
    }
    return i;
  };
  let sumX = 0;
  let sumT = 0;
  data.forEach((s, i) => {
    checkSummary(s, i);
    const x = s.frequency;
    const T = s.T;
    const tx = x === 0 ? 0 : s.recency; // t_x plays no part when x = 0
    sumX += x;
    sumT += T;
    let xi = xIndex.get(x);
    if (xi === undefined) {
      xi = xs.length;
      xs.push(x);
      xWeight.push(0);
      xIndex.set(x, xi);
    }
    xWeight[xi] = (xWeight[xi] ?? 0) + 1;
    let byT = index.get(x);
    if (!byT) index.set(x, (byT = new Map()));
    let byTx = byT.get(T);
    if (!byTx) byT.set(T, (byTx = new Map()));
    const g = byTx.get(tx);
    if (g !== undefined) {
      w[g] = (w[g] ?? 0) + 1;
      return;
    }
    byTx.set(tx, w.length);
    gx.push(xi);
    gT.push(timeOf(T));
    gtx.push(timeOf(tx));
    w.push(1);
  });
  return {
    clients: data.length,
    sumX,
    meanT: data.length > 0 ? sumT / data.length : 0,
    xs,
    xWeight: Float64Array.from(xWeight),
    times: Float64Array.from(times),
    gx: Uint32Array.from(gx),
    gT: Uint32Array.from(gT),
    gtx: Uint32Array.from(gtx),
    w: Float64Array.from(w),
  };
}

interface Evaluation {
  ll: number;
  /** ∂ll/∂(r, α, a, b), natural parameters. */
  grad: [number, number, number, number];
}

/**
 * Eq. 6 of Fader, Hardie & Lee (2005), per client:
 *   L = B(a, b+x)/B(a, b) · Γ(r+x) αʳ / (Γ(r) (α+T)^(r+x))
 *     + δ(x>0) · B(a+1, b+x−1)/B(a, b) · Γ(r+x) αʳ / (Γ(r) (α+t_x)^(r+x))
 * so ln L = A₁ + A₂ + ln(e^A₃ + δ e^A₄) with
 *   A₁ = ln Γ(r+x) − ln Γ(r) + r ln α
 *   A₂ = ln Γ(a+b) + ln Γ(b+x) − ln Γ(b) − ln Γ(a+b+x)
 *   A₃ = −(r+x) ln(α+T)
 *   A₄ = ln a − ln(b+x−1) − (r+x) ln(α+t_x)          (x > 0 only)
 * The gradient uses ψ for the ln Γ terms and π = e^A₄ / (e^A₃ + e^A₄) for the mixture.
 */
function evaluate(g: Groups, times: Float64Array, r: number, alpha: number, a: number, b: number, wantGradient: boolean): Evaluation {
  const nx = g.xs.length;
  const lnAlpha = Math.log(alpha);
  const lnA = Math.log(a);
  let ll = 0;
  let dr = 0;
  let dAlpha = 0;
  let da = 0;
  let db = 0;

  // Terms that depend on x only.
  const lgR = lgamma(r);
  const psiR = wantGradient ? digamma(r) : 0;
  // A₂ and its derivatives as sums over k < x (x is an integer): A₂ = −Σ ln(1 + a/(b+k)),
  // ∂a = −Σ 1/(a+b+k), ∂b = Σ a/((b+k)(a+b+k)). The ln Γ form subtracts values of ~1e8 when
  // a and b run up their ridge (b ~ 1e7), and its rounding (~1e-8 per client) then decided
  // whether the fit met its gradient test; the sums keep every digit.
  let maxX = 0;
  for (let i = 0; i < nx; i++) maxX = Math.max(maxX, g.xs[i] as number);
  const a2 = new Float64Array(maxX + 1);
  const a2da = new Float64Array(maxX + 1);
  const a2db = new Float64Array(maxX + 1);
  for (let k = 0; k < maxX; k++) {
    const bk = b + k;
    a2[k + 1] = (a2[k] as number) - Math.log1p(a / bk);
    if (wantGradient) {
      a2da[k + 1] = (a2da[k] as number) - 1 / (a + bk);
      a2db[k + 1] = (a2db[k] as number) + a / (bk * (a + bk));
    }
  }
  const c4 = new Float64Array(nx);
  const invBx1 = new Float64Array(nx);
  for (let i = 0; i < nx; i++) {
    const x = g.xs[i] as number;
    const W = g.xWeight[i] as number;
    ll += W * (lgamma(r + x) - lgR + r * lnAlpha + (a2[x] as number));
    if (wantGradient) {
      dr += W * (digamma(r + x) - psiR + lnAlpha);
      dAlpha += (W * r) / alpha;
      da += W * (a2da[x] as number);
      db += W * (a2db[x] as number);
    }
    if (x > 0) {
      c4[i] = lnA - Math.log(b + x - 1);
      invBx1[i] = 1 / (b + x - 1);
    }
  }

  // ln(α + t) and 1/(α + t) once per distinct time.
  const nt = times.length;
  const lnAt = new Float64Array(nt);
  const invAt = new Float64Array(nt);
  for (let k = 0; k < nt; k++) {
    const v = alpha + (times[k] as number);
    lnAt[k] = Math.log(v);
    invAt[k] = 1 / v;
  }

  const ng = g.w.length;
  for (let j = 0; j < ng; j++) {
    const xi = g.gx[j] as number;
    const x = g.xs[xi] as number;
    const w = g.w[j] as number;
    const rx = r + x;
    const kT = g.gT[j] as number;
    const a3 = -rx * (lnAt[kT] as number);
    if (x === 0) {
      ll += w * a3;
      if (wantGradient) {
        dr -= w * (lnAt[kT] as number);
        dAlpha -= w * rx * (invAt[kT] as number);
      }
      continue;
    }
    const kx = g.gtx[j] as number;
    const a4 = (c4[xi] as number) - rx * (lnAt[kx] as number);
    let lse: number;
    let pi: number; // share of the "dropped out after the last purchase" term
    if (a4 > a3) {
      const e = Math.exp(a3 - a4);
      lse = a4 + Math.log1p(e);
      pi = 1 / (1 + e);
    } else {
      const e = Math.exp(a4 - a3);
      lse = a3 + Math.log1p(e);
      pi = e / (1 + e);
    }
    ll += w * lse;
    if (wantGradient) {
      const q = 1 - pi;
      dr -= w * (q * (lnAt[kT] as number) + pi * (lnAt[kx] as number));
      dAlpha -= w * rx * (q * (invAt[kT] as number) + pi * (invAt[kx] as number));
      da += (w * pi) / a;
      db -= w * pi * (invBx1[xi] as number);
    }
  }
  return { ll, grad: [dr, dAlpha, da, db] };
}

/** Total BG/NBD log-likelihood of `data` at `params` (eq. 6), in the data's time unit. */
export function bgNbdLogLikelihood(params: BgNbdParams, data: readonly RfmSummary[]): number {
  checkParams(params);
  const g = group(data);
  return evaluate(g, g.times, params.r, params.alpha, params.a, params.b, false).ll;
}

function checkParams(p: BgNbdParams): void {
  for (const [k, v] of Object.entries(p)) {
    if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`BG/NBD parameter ${k} must be finite and > 0, got ${v}`);
  }
}

/**
 * Maximum-likelihood fit of the BG/NBD model (BFGS on ln r, ln α, ln a, ln b; see module notes).
 *
 * Degenerate data: when nobody has a repeat purchase (all one-time buyers, or everyone bought
 * on the calibration day so T = 0), the likelihood Σ r·ln(α/(α+T)) only grows as r → 0 and
 * says nothing about a and b. No optimisation is run; the report has converged = false, a
 * warning, and finite placeholder parameters r = e⁻¹⁶ (≈ no repeat purchases expected),
 * α = mean T (or 1), a = b = 1. Parameters that end within e² of the ±16 log bound (they ran
 * off towards 0 or ∞: typical of tiny bases) are reported in `warnings`; the fit still counts
 * as converged if the projected gradient is small.
 */
export function fitBgNbd(data: readonly RfmSummary[], options: FitOptions = {}): FitReport<BgNbdParams> {
  const g = group(data);
  if (g.clients === 0) throw new RangeError('fitBgNbd needs at least one client');
  const groups = g.w.length;
  if (g.sumX === 0) {
    const params = { r: Math.exp(-LOG_BOUND), alpha: g.meanT > 0 ? g.meanT : 1, a: 1, b: 1 };
    return {
      params,
      logLikelihood: evaluate(g, g.times, params.r, params.alpha, params.a, params.b, false).ll,
      iterations: 0,
      converged: false,
      clients: g.clients,
      groups,
      warnings: [
        'no repeat purchases in the data: the likelihood is maximised as r → 0 and a, b are not identified; ' +
          'placeholder parameters predict (almost) no repeat purchases',
      ],
    };
  }

  // Rescale time so α is O(1) whatever the unit; r, a, b are scale-free.
  const scale = g.meanT > 0 ? g.meanT : 1;
  const scaled = g.times.map((t) => t / scale);
  const n = g.clients;
  const objective = (theta: readonly number[]): { value: number; gradient: number[] } => {
    const [r, alpha, a, b] = theta.map(Math.exp) as [number, number, number, number];
    const e = evaluate(g, scaled, r, alpha, a, b, true);
    return {
      value: -e.ll / n,
      gradient: [(-r * e.grad[0]) / n, (-alpha * e.grad[1]) / n, (-a * e.grad[2]) / n, (-b * e.grad[3]) / n],
    };
  };
  // Start: r = 1, α matching the observed repeat rate (mean x / mean T ≈ r/α), a = b = 1.
  const alpha0 = Math.min(Math.exp(LOG_BOUND / 2), Math.max(Math.exp(-LOG_BOUND / 2), (g.meanT / scale) / (g.sumX / n)));
  const result = minimizeBfgs(objective, [0, Math.log(alpha0), 0, 0], {
    maxIterations: options.maxIterations ?? 500,
    gradientTolerance: options.tolerance ?? 1e-8,
    lower: [-LOG_BOUND, -LOG_BOUND, -LOG_BOUND, -LOG_BOUND],
    upper: [LOG_BOUND, LOG_BOUND, LOG_BOUND, LOG_BOUND],
  });
  const [r, alphaScaled, a, b] = result.x.map(Math.exp) as [number, number, number, number];
  const params = { r, alpha: alphaScaled * scale, a, b };
  const warnings: string[] = [];
  const names = ['r', 'alpha', 'a', 'b'];
  result.x.forEach((theta, i) => {
    // Within a factor e² of the box: the likelihood kept improving towards 0 or ∞ (e.g. r, α → ∞
    // together when everyone buys at the same rate; a → 0 when nobody seems to drop out).
    if (Math.abs(theta) > LOG_BOUND - 2) warnings.push(`parameter ${names[i]} ran to its bound (not identified by the data)`);
  });
  if (!result.converged) warnings.push(`optimiser stopped without converging (${result.reason})`);
  return {
    params,
    logLikelihood: evaluate(g, g.times, r, params.alpha, a, b, false).ll,
    iterations: result.iterations,
    converged: result.converged,
    clients: n,
    groups,
    warnings,
  };
}

/**
 * P(alive at T | x, t_x, T) (Fader, Hardie & Lee 2005, appendix; Fader, Hardie & Lee 2008 note
 * "Computing P(alive) using the BG/NBD model"):
 *   1 / (1 + δ(x>0) · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x))
 * Exactly 1 for x = 0: in BG/NBD a client can only drop out right after a repeat purchase.
 */
export function probabilityAlive(params: BgNbdParams, s: RfmSummary): number {
  const { r, alpha, a, b } = params;
  const x = s.frequency;
  if (x === 0) return 1;
  const logOdds = Math.log(a) - Math.log(b + x - 1) + (r + x) * (Math.log(alpha + s.T) - Math.log(alpha + s.recency));
  return Math.exp(-log1pExp(logOdds));
}

/**
 * E[X(T, T+t) | x, t_x, T] (eq. 10): expected purchases in the next `horizon` time units.
 * Equals P(alive) × E[purchases in (T, T+t] | alive at T], the latter depending on x and T only.
 */
export function expectedPurchases(params: BgNbdParams, s: RfmSummary, horizon: number): number {
  return probabilityAlive(params, s) * expectedPurchasesIfAlive(params, s.frequency, s.T, horizon);
}

/** E[X(t)] for a client just acquired (eq. 7): the x = 0, T = 0 case of the conditional expectation. */
export function expectedPurchasesNewClient(params: BgNbdParams, t: number): number {
  return expectedPurchasesIfAlive(params, 0, 0, t);
}

/** Above this z = t/(α+T+t) the series needs more than a few thousand terms: use quadrature. */
const SERIES_MAX_Z = 0.995;
/**
 * Below this ln (1−z)^(a−1) the series is left for quadrature: its terms grow like (1−z)^−(a−1)
 * before they fall (about a·z/(1−z) of them), and past e^±700 the factor underflows to 0 while
 * the sum overflows, so the series returns 0 or NaN, or never meets its tolerance (a fit with
 * a and b run to their bounds, a ≈ 3e6, failed at z = 0.77). At e^−200 it still agrees with
 * quadrature to 1e-10 and needs at most ~7 500 terms.
 */
const SERIES_MIN_LOG_POWER = -200;

/**
 * The series' result is a difference, C·first − (1−z)^(a−1)·C·S, of two terms that nearly cancel
 * when a is huge and t tiny (a ≈ 9e6, t = 0.001 day: terms 1e9 times the result, which then kept
 * only six digits). Beyond this ratio, quadrature.
 */
const SERIES_MAX_CANCELLATION = 1e7;

/**
 * E[purchases in (T, T+t] | alive at T, x]: given alive, λ | data ~ Gamma(r+x, α+T) and
 * p | data ~ Beta(a, b+x) independently, and a live client with (λ, p) makes
 * (1 − e^(−λpt))/p purchases on average in t, so the answer is
 *   E_p[(1 − (1 + p t/(α+T))^−(r+x)) / p],   p ~ Beta(a, b + x).            (★)
 * Eq. 10's closed form is (a+b+x−1)/(a−1) · [1 − (1−z)^(r+x) ₂F₁(r+x, b+x; a+b+x−1; z)] with
 * z = t/(α+T+t). We use its Euler transform, (1−z)^(r+x) ₂F₁(r+x, b+x; c; z) =
 * (1−z)^(a−1) ₂F₁(a+b−1−r, a−1; c; z), whose series terms decay like n^(a−r−x−2) zⁿ, and pull
 * the (a − 1) factor out of the series so a = 1 is not a 0/0:
 *   C·[(1 − (1−z)^(a−1))/(a−1) − (1−z)^(a−1)·S],  C = a+b+x−1,
 *   S = Σₙ≥₁ (A)ₙ (a)ₙ₋₁ zⁿ / ((C)ₙ n!),  A = a+b−1−r.
 * The series (convergence-controlled like `hyp2f1`) is used for z <= 0.995; beyond, when the
 * horizon dwarfs α + T, when A·z < −5 (r ≫ 1: the terms alternate and grow like e^(|A|z)
 * before they cancel), or when (a−1)·ln(1−z) < −200 (a ≫ 1: the terms grow like (1−z)^−(a−1)
 * before they fall), (★) is integrated directly by tanh-sinh quadrature. `method` forces one
 * (tests compare them).
 */
export function expectedPurchasesIfAlive(
  params: BgNbdParams,
  x: number,
  T: number,
  t: number,
  method: 'auto' | 'series' | 'quadrature' = 'auto',
): number {
  if (!(t > 0)) return 0;
  const { r, alpha, a, b } = params;
  const aT = alpha + T;
  const z = t / (aT + t);
  const A = a + b - 1 - r;
  const L = -Math.log1p(t / aT); // ln(1 − z)
  const u = (a - 1) * L; // ln (1 − z)^(a−1)
  // Quadrature when the series is slow (z → 1), alternates with huge terms (A·z ≪ 0 happens
  // only for r ≫ 1, the near-homogeneous-rate fits of tiny or degenerate bases) or grows past
  // what a double holds before it falls (a ≫ 1: the near-constant-dropout fits, a and b large).
  if (method === 'quadrature' || (method === 'auto' && (z > SERIES_MAX_Z || A * z < -5 || u < SERIES_MIN_LOG_POWER))) {
    return conditionalByQuadrature(r + x, a, b + x, t / aT);
  }
  const C = a + b + x - 1;
  const first = u === 0 ? -L : -L * (Math.expm1(u) / u); // (1 − (1−z)^(a−1)) / (a−1)
  const power = Math.exp(u);
  // C·S, summed as Σ cₙ with c₁ = A z: multiplying through by C avoids dividing by C.
  let term = A * z;
  let cs = term;
  for (let n = 1; ; n++) {
    if (term === 0) break;
    const m = n + 1; // next term index
    term *= ((A + n) * (a + n - 1) * z) / ((C + n) * m);
    cs += term;
    if (A + m > 0) {
      const bound = z * Math.max(1, (A + m) / (C + m)) * Math.max(1, (a + m - 1) / (m + 1));
      if (bound < 1 && (Math.abs(term) * bound) / (1 - bound) <= 1e-15 * Math.abs(cs)) break;
    }
    if (n > 10_000_000) throw new ConvergenceError(`BG/NBD conditional expectation series did not converge (z = ${z})`);
  }
  const value = C * first - power * cs;
  if (method === 'auto' && Math.abs(C * first) > SERIES_MAX_CANCELLATION * Math.abs(value)) return conditionalByQuadrature(r + x, a, b + x, t / aT);
  return Math.max(0, value);
}

/** Below this a or b' the Beta mass sits in an endpoint's far tail: see conditionalNearEndpoints. */
const ENDPOINT_MASS_BELOW = 0.01;

/** (★) by quadrature: shape r' = r + x, p ~ Beta(a, b'), s = t/(α+T). */
function conditionalByQuadrature(rPrime: number, a: number, bPrime: number, s: number): number {
  return Math.min(a, bPrime) < ENDPOINT_MASS_BELOW ? conditionalNearEndpoints(rPrime, a, bPrime, s) : conditionalCentred(rPrime, a, bPrime, s);
}

/** g(p) = (1 − (1+ps)^−r')/p, the purchases in s of a live client who drops out with probability p after each. */
function purchasesGivenDropout(rPrime: number, s: number, p: number): number {
  const ps = p * s;
  // The expm1 form is exact to rounding wherever p is a normal double; the two-term expansion
  // r's·(1 − (r'+1)ps/2) is kept for p → 0 (0/0), and only where its error,
  // ~((r'+2)ps)²/6, is below rounding: a cut-off on ps alone left a jump of 4e-8 at r' ≈ 5e6,
  // which the quadrature could not settle.
  return (rPrime + 2) * ps < 1e-8 ? rPrime * s * (1 - ((rPrime + 1) * ps) / 2) : -Math.expm1(-rPrime * Math.log1p(ps)) / p;
}

/**
 * (★) when a or b' is tiny (a fit whose a ran to its lower bound: nearly nobody drops out).
 * Beta(a, b') then piles its mass against p = 0 (or 1) spread over millions of logit units, as
 * p^a, which no one quadrature scale resolves. g is convex in p (g'' = ∫₀ˢ r'(r'+1)(r'+2)u²
 * (1+pu)^−(r'+3) du > 0), so it lies below its chord, and
 *   E[g(p)] = g(0)·(1 − p̄) + g(1)·p̄ − E[chord(p) − g(p)],   p̄ = a/(a+b'),
 * where chord − g >= 0 vanishes like p at 0 and like 1 − p at 1: the remaining integrand has
 * its mass within a few logit units of ln((a+1)/(b'+1)). With a or b' tiny almost all the mass
 * is at the endpoints, so the correction is small beside the chord's mean: it is wanted to
 * 1e-11 of that mean, not of itself (the chord's rounding at tiny p is its noise floor).
 */
function conditionalNearEndpoints(rPrime: number, a: number, bPrime: number, s: number): number {
  const g0 = rPrime * s;
  const g1 = -Math.expm1(-rPrime * Math.log1p(s));
  const mean = a / (a + bPrime);
  const chordMean = g0 * (bPrime / (a + bPrime)) + g1 * mean;
  const lnB = lbeta(a, bPrime);
  const belowChord = integrateUnitInterval(
    (p, lnP, ln1mP) => {
      const gap = g0 * Math.exp(ln1mP) + g1 * p - purchasesGivenDropout(rPrime, s, p);
      // Rounding can take the gap to 0 or below within ~1e-16 of an endpoint, where it is ~0 anyway.
      if (!(gap > 0)) return -Infinity;
      return Math.log(gap) + (a - 1) * lnP + (bPrime - 1) * ln1mP - lnB;
    },
    1e-11,
    10,
    Math.log((a + 1) / (bPrime + 1)),
    Math.sqrt(1 / (a + 1) + 1 / (bPrime + 1)),
    1e-11 * chordMean,
  );
  return Math.max(0, chordMean - belowChord);
}

/**
 * (★) by quadrature centred on the Beta mass in logit units: logit p = ln(a/b') + d. The Beta
 * log-density is written relative to its value at the centre, p₀ = a/(a+b'), which
 * lnBetaCentreDensity gives exact to rounding (a ln p₀ + b' ln(1−p₀) − ln B(a, b') by ln Γ
 * kept ~1e-8 of rounding at a + b' ≈ 1e7, the same at every node and so in the answer). Near
 * it (|d| < 1):
 *   a ln p + b' ln(1−p) = a ln p₀ + b' ln(1−p₀) + a·d − (a+b')·ln(1 + p₀(eᵈ − 1)),
 * because with a and b' both in the millions (a fit whose dropout is nearly the same for
 * everyone runs them to their bounds) a ln p + b' ln(1−p) is the small difference of terms of
 * 10⁷, which rounding made too noisy for the quadrature to settle. Such a Beta has all its mass
 * within |d| < 1; further out a(ln p − ln p₀) + b'(ln(1−p) − ln(1−p₀)) is exact enough (its
 * rounding is that of min(a, b')·ln(a+b') where the density is not negligible).
 */
function conditionalCentred(rPrime: number, a: number, bPrime: number, s: number): number {
  const atCentre = lnBetaCentreDensity(a, bPrime);
  // ln p₀ and ln(1 − p₀) by log1p: exact even when p₀ is within 1e-7 of 0 or 1.
  const lnP0 = -Math.log1p(bPrime / a);
  const lnQ0 = -Math.log1p(a / bPrime);
  // Near the centre, written from the smaller shape k of a and b' (the form above, or the same
  // with b' for a, 1 − p for p and −d for d): k·dₖ − (a+b')·ln(1 + w(e^dₖ − 1)), w = k/(a+b'),
  // whose terms are of size k·|d|. From the larger, a = 9e6 with b' = 1 left noise of 1e-9 at
  // |d| ≈ 1, and the quadrature never settled.
  const fromA = a <= bPrime;
  const k = fromA ? a : bPrime;
  const w = k / (a + bPrime);
  return integrateUnitInterval((p, lnP, ln1mP, d) => {
    // ln[p^a (1−p)^b' / B(a, b')], the density in d(logit p) = dp / (p(1−p)), relative to the centre.
    const dk = fromA ? d : -d;
    const lnBeta = atCentre + (Math.abs(d) < 1 ? k * dk - (a + bPrime) * Math.log1p(w * Math.expm1(dk)) : a * (lnP - lnP0) + bPrime * (ln1mP - lnQ0));
    return lnBeta - lnP - ln1mP + Math.log(purchasesGivenDropout(rPrime, s, p));
  }, 1e-11, 10, Math.log(a / bPrime), Math.sqrt(1 / a + 1 / bPrime));
}
