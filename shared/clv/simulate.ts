/**
 * Seeded simulation of the BG/NBD (+ Gamma-Gamma spend) generative process, for the parameter
 * recovery tests and the benchmark. Deterministic: the same seed gives the same clients on
 * every platform (integer PRNG, no Math.random).
 */

import type { BgNbdParams } from './bgnbd.ts';
import type { GammaGammaParams } from './gammagamma.ts';
import type { RfmSummary } from './summary.ts';

/** Uniform on [0, 1) with 53 random bits. */
export type Rng = () => number;

/** xoshiro128** (Blackman & Vigna), seeded through splitmix32. */
export function createRng(seed: number): Rng {
  let s = seed >>> 0;
  const splitmix = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  if ((a | b | c | d) === 0) a = 1;
  const next32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    return result;
  };
  return () => ((next32() >>> 5) * 67108864 + (next32() >>> 6)) / 9007199254740992;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Uniform on (0, 1): never 0, so logs are finite. */
function openUniform(rng: Rng): number {
  let u = rng();
  while (u === 0) u = rng();
  return u;
}

export function sampleNormal(rng: Rng): number {
  // Box–Muller (one of the pair; simplicity over speed).
  return Math.sqrt(-2 * Math.log(openUniform(rng))) * Math.cos(2 * Math.PI * rng());
}

export function sampleExponential(rng: Rng, rate: number): number {
  return -Math.log(openUniform(rng)) / rate;
}

/**
 * ln of a Gamma(shape, 1) draw: Marsaglia & Tsang (2000) for shape >= 1; for shape < 1 the
 * boost G(shape) = G(shape + 1)·U^(1/shape), kept in logs so tiny shapes do not underflow.
 */
export function sampleLogGamma(rng: Rng, shape: number): number {
  if (!(shape > 0)) throw new RangeError(`Gamma shape must be > 0, got ${shape}`);
  if (shape < 1) return sampleLogGamma(rng, shape + 1) + Math.log(openUniform(rng)) / shape;
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = sampleNormal(rng);
    let v = 1 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    const u = openUniform(rng);
    if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return Math.log(d * v);
  }
}

/** Gamma(shape, rate): mean shape/rate. */
export function sampleGamma(rng: Rng, shape: number, rate: number): number {
  return Math.exp(sampleLogGamma(rng, shape)) / rate;
}

/** Beta(a, b) as X/(X+Y) of two gammas, computed in logs. */
export function sampleBeta(rng: Rng, a: number, b: number): number {
  const lx = sampleLogGamma(rng, a);
  const ly = sampleLogGamma(rng, b);
  return 1 / (1 + Math.exp(ly - lx));
}

export interface SimulateOptions {
  /** Also draw repeat transaction values (minor units) from a Gamma-Gamma model. */
  spend?: GammaGammaParams;
  /**
   * Observe the process in whole time units, as `summarise` does with days: purchases in the
   * same unit count once (values summed), t_x is the whole units from the first purchase.
   */
  discrete?: boolean;
}

/**
 * `n` clients from the BG/NBD process (Fader, Hardie & Lee 2005, §2): each first buys at time 0,
 * λ ~ Gamma(r, α), p ~ Beta(a, b); repeat purchases arrive at rate λ and after each one the
 * client drops out with probability p. Client i is observed for T (or T[i mod T.length]).
 * With `spend`, ν ~ Gamma(q, v) and each repeat transaction is Gamma(p, ν).
 */
export function simulateBgNbd(
  params: BgNbdParams,
  n: number,
  T: number | readonly number[],
  seed: number,
  options: SimulateOptions = {},
): RfmSummary[] {
  const rng = createRng(seed);
  const ages = typeof T === 'number' ? [T] : T;
  if (ages.length === 0) throw new RangeError('simulateBgNbd needs at least one T');
  const out: RfmSummary[] = [];
  for (let i = 0; i < n; i++) {
    const age = ages[i % ages.length] as number;
    const lambda = sampleGamma(rng, params.r, params.alpha);
    const p = sampleBeta(rng, params.a, params.b);
    const nu = options.spend ? sampleGamma(rng, options.spend.q, options.spend.v) : 0;
    let t = 0;
    let x = 0;
    let tx = 0;
    let total = 0;
    let lastUnit = 0;
    for (;;) {
      if (!(lambda > 0)) break;
      t += sampleExponential(rng, lambda);
      if (t > age) break;
      const value = options.spend ? sampleGamma(rng, options.spend.p, nu) : 0;
      total += value;
      if (options.discrete) {
        const unit = Math.floor(t);
        if (unit !== lastUnit) {
          x++;
          tx = unit;
          lastUnit = unit;
        } else if (x === 0) {
          total -= value; // same unit as the first purchase: part of the first, not a repeat
        }
      } else {
        x++;
        tx = t;
      }
      if (rng() < p) break;
    }
    out.push({ frequency: x, recency: tx, T: age, monetaryValue: x > 0 ? total / x : 0 });
  }
  return out;
}
