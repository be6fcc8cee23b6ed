/**
 * The Gamma-Gamma model of spend per transaction (Fader & Hardie 2013, "The Gamma-Gamma Model
 * of Monetary Value"; Fader, Hardie & Lee 2005, "RFM and CLV", Marketing Science 24(4)):
 *
 * - a client's transaction values are Gamma(p, ν) (shape p, rate ν), so their mean is ζ = p/ν;
 * - ν ~ Gamma(q, v) across clients.
 *
 * Fitted on the mean value m̄ of each repeat client's x repeat transactions. Assumes spend is
 * independent of the purchase process (check the correlation of x and m̄ on real data).
 * v carries the currency's minor unit; p and q are unit-free.
 */

import { digamma, lgamma } from './special.ts';
import { minimizeBfgs } from './optimize.ts';
import type { FitOptions, FitReport } from './bgnbd.ts';
import type { RfmSummary } from './summary.ts';

export interface GammaGammaParams {
  p: number;
  q: number;
  v: number;
}

const LOG_BOUND = 16;

interface Groups {
  clients: number;
  xs: number[];
  xWeight: Float64Array;
  /** Per distinct x: Σ w ln m̄ (scaled). */
  xSumLnM: Float64Array;
  gx: Uint32Array;
  /** x · m̄ (scaled) per group. */
  xm: Float64Array;
  w: Float64Array;
  meanM: number;
}

/**
 * Groups the usable clients (frequency > 0 and a positive, finite monetaryValue) by (x, m̄),
 * with m̄ divided by `scale`.
 */
function group(data: readonly RfmSummary[], scaleFrom?: number): Groups {
  let sumM = 0;
  let count = 0;
  for (const s of data) {
    if (usable(s)) {
      sumM += s.monetaryValue;
      count++;
    }
  }
  const meanM = count > 0 ? sumM / count : 0;
  const scale = scaleFrom ?? (meanM > 0 ? meanM : 1);
  const index = new Map<number, Map<number, number>>();
  const xIndex = new Map<number, number>();
  const xs: number[] = [];
  const xWeight: number[] = [];
  const xSumLnM: number[] = [];
  const gx: number[] = [];
  const xm: number[] = [];
  const w: number[] = [];
  for (const s of data) {
    if (!usable(s)) continue;
    const x = s.frequency;
    const m = s.monetaryValue / scale;
    let xi = xIndex.get(x);
    if (xi === undefined) {
      xi = xs.length;
      xs.push(x);
      xWeight.push(0);
      xSumLnM.push(0);
      xIndex.set(x, xi);
    }
    xWeight[xi] = (xWeight[xi] ?? 0) + 1;
    xSumLnM[xi] = (xSumLnM[xi] ?? 0) + Math.log(m);
    let byM = index.get(x);
    if (!byM) index.set(x, (byM = new Map()));
    const g = byM.get(m);
    if (g !== undefined) {
      w[g] = (w[g] ?? 0) + 1;
      continue;
    }
    byM.set(m, w.length);
    gx.push(xi);
    xm.push(x * m);
    w.push(1);
  }
  return {
    clients: count,
    xs,
    xWeight: Float64Array.from(xWeight),
    xSumLnM: Float64Array.from(xSumLnM),
    gx: Uint32Array.from(gx),
    xm: Float64Array.from(xm),
    w: Float64Array.from(w),
    meanM,
  };
}

function usable(s: RfmSummary): boolean {
  return Number.isInteger(s.frequency) && s.frequency > 0 && Number.isFinite(s.monetaryValue) && s.monetaryValue > 0;
}

/**
 * Per client (Fader & Hardie 2013, eq. 3 with x transactions of mean m̄):
 *   ln L = ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln v + (px−1) ln m̄ + px ln x − (px+q) ln(v + x m̄)
 * Everything but the last term depends on x alone (given Σ ln m̄ per x), so an evaluation costs
 * O(distinct x) ln Γ calls plus one log per distinct (x, m̄).
 */
function evaluate(g: Groups, p: number, q: number, v: number, wantGradient: boolean): { ll: number; grad: [number, number, number] } {
  const lnV = Math.log(v);
  const lgQ = lgamma(q);
  const psiQ = wantGradient ? digamma(q) : 0;
  let ll = 0;
  let dp = 0;
  let dq = 0;
  let dv = 0;
  const nx = g.xs.length;
  for (let i = 0; i < nx; i++) {
    const x = g.xs[i] as number;
    const W = g.xWeight[i] as number;
    const slm = g.xSumLnM[i] as number;
    const px = p * x;
    const lnX = Math.log(x);
    ll += W * (lgamma(px + q) - lgamma(px) - lgQ + q * lnV + px * lnX) + (px - 1) * slm;
    if (wantGradient) {
      const psiPxQ = digamma(px + q);
      dp += W * x * (psiPxQ - digamma(px) + lnX) + x * slm;
      dq += W * (psiPxQ - psiQ + lnV);
      dv += (W * q) / v;
    }
  }
  const ng = g.w.length;
  for (let j = 0; j < ng; j++) {
    const x = g.xs[g.gx[j] as number] as number;
    const w = g.w[j] as number;
    const total = v + (g.xm[j] as number);
    const lnTotal = Math.log(total);
    const k = p * x + q;
    ll -= w * k * lnTotal;
    if (wantGradient) {
      dp -= w * x * lnTotal;
      dq -= w * lnTotal;
      dv -= (w * k) / total;
    }
  }
  return { ll, grad: [dp, dq, dv] };
}

function checkParams(params: GammaGammaParams): void {
  for (const [k, val] of Object.entries(params)) {
    if (!(Number.isFinite(val) && val > 0)) throw new RangeError(`Gamma-Gamma parameter ${k} must be finite and > 0, got ${val}`);
  }
}

/** Total Gamma-Gamma log-likelihood of the repeat clients of `data` (minor units). */
export function gammaGammaLogLikelihood(params: GammaGammaParams, data: readonly RfmSummary[]): number {
  checkParams(params);
  return evaluate(group(data, 1), params.p, params.q, params.v, false).ll;
}

/**
 * Maximum-likelihood fit of the Gamma-Gamma model on the clients with frequency > 0 and a
 * positive monetaryValue (others are ignored; `clients` counts the ones used).
 *
 * Optimises ln p, ln(q − 1), ln v with values rescaled by their mean: q is constrained to
 * q > 1 so that the population mean spend p·v/(q − 1) exists (the model's prior mean, needed
 * for clients without repeat purchases). With no usable client the report has converged =
 * false, a warning and placeholder parameters p = 1, q = 2, v = 1 (callers should then supply
 * their own population mean).
 */
export function fitGammaGamma(data: readonly RfmSummary[], options: FitOptions = {}): FitReport<GammaGammaParams> {
  const probe = group(data);
  if (probe.clients === 0) {
    return {
      params: { p: 1, q: 2, v: 1 },
      logLikelihood: 0,
      iterations: 0,
      converged: false,
      clients: 0,
      groups: 0,
      warnings: ['no repeat client with a positive monetary value: placeholder parameters, supply a population mean'],
    };
  }
  const scale = probe.meanM;
  const g = probe;
  const n = g.clients;
  const objective = (theta: readonly number[]): { value: number; gradient: number[] } => {
    const p = Math.exp(theta[0] as number);
    const qm1 = Math.exp(theta[1] as number);
    const v = Math.exp(theta[2] as number);
    const e = evaluate(g, p, 1 + qm1, v, true);
    return {
      value: -e.ll / n,
      gradient: [(-p * e.grad[0]) / n, (-qm1 * e.grad[1]) / n, (-v * e.grad[2]) / n],
    };
  };
  // Start: p = 1, q = 2, v = 1, so the prior mean spend p·v/(q−1) equals the (scaled) mean, 1.
  const result = minimizeBfgs(objective, [0, 0, 0], {
    maxIterations: options.maxIterations ?? 500,
    gradientTolerance: options.tolerance ?? 1e-8,
    lower: [-LOG_BOUND, -LOG_BOUND, -LOG_BOUND],
    upper: [LOG_BOUND, LOG_BOUND, LOG_BOUND],
  });
  const params = {
    p: Math.exp(result.x[0] as number),
    q: 1 + Math.exp(result.x[1] as number),
    v: Math.exp(result.x[2] as number) * scale,
  };
  const warnings: string[] = [];
  const names = ['p', 'q − 1', 'v'];
  result.x.forEach((theta, i) => {
    // Within a factor e² of the box: e.g. p → ∞ when every client's spend is perfectly regular.
    if (Math.abs(theta) > LOG_BOUND - 2) warnings.push(`parameter ${names[i]} ran to its bound (not identified by the data)`);
  });
  if (!result.converged) warnings.push(`optimiser stopped without converging (${result.reason})`);
  return {
    params,
    // Rescaling m̄ → m̄/c shifts each client's ln L by + ln c; undo it for the reported value.
    logLikelihood: -result.value * n - n * Math.log(scale),
    iterations: result.iterations,
    converged: result.converged,
    clients: n,
    groups: g.w.length,
    warnings,
  };
}

/**
 * E[ζ | p, q, v, x, m̄] = p (v + x m̄) / (p x + q − 1)   (Fader & Hardie 2013, eq. 5):
 * a weighted average of the population mean p·v/(q−1) and the client's own mean m̄.
 * For x = 0 it is the population mean. Repeat days worth 0 (kept free samples, counted by
 * `countZeroValueOrders`) take m̄ = 0, the formula's limit: the fit leaves them out (gamma
 * spend is positive), but x days observed at 0 are evidence, not its absence, so the value
 * shrinks toward 0 as x grows and never exceeds a client who paid on the same days.
 * In minor units, as a float: it is a prediction, round only when presenting it.
 */
export function expectedAverageOrderValue(params: GammaGammaParams, s: RfmSummary): number {
  const { p, q, v } = params;
  const x = s.frequency > 0 ? s.frequency : 0;
  const denominator = p * x + q - 1;
  if (!(denominator > 0)) throw new RangeError('Gamma-Gamma expectation needs p·x + q > 1');
  return (p * (v + x * (x > 0 ? s.monetaryValue : 0))) / denominator;
}
