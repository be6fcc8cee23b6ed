/**
 * Pacing for SES: a token bucket (`ratePerSecond` tokens a second, at most `burst` saved up) that
 * also never grants more than `burst` tokens within any sliding second. A plain token bucket lets
 * a full bucket's burst plus a second's refill through in one second (2x the rate); SES's limit
 * is per second, so the window cap closes that gap. With burst = max(1, floor(rate)) the account
 * rate holds over every 1 s window (with a 5 ms guard, see WINDOW_GUARD_MS). The tokens pace rates below one a second (0.5/s: one every
 * 2 s); above it the window cap binds first, so a fractional rate is rounded down (2.5/s sends 2).
 *
 * The bucket starts with one token, not a full burst: a fresh mailer (every hourly Lambda) cannot
 * know whether another one just used the account's rate, so it ramps up at the steady pace and
 * only bursts to catch up after its own pauses (slow lookups, rendering).
 */

import { setTimeout as sleep } from 'node:timers/promises';

export interface Clock {
  /** Milliseconds on any monotonic scale; only differences matter. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => sleep(ms),
};

const WINDOW_MS = 1000;
/**
 * A grant and its SES call are a few microtasks apart, and that gap varies (GC, a busy event
 * loop): grants exactly 1000 ms apart could become calls 999.9 ms apart, 51 calls in a second at
 * rate 50 (seen in the benchmark). Spacing the window's grants by this much more absorbs the gap.
 */
const WINDOW_GUARD_MS = 5;
// Floating-point slack: 10 refills of 0.1 must make a whole token.
const EPSILON = 1e-9;

export class TokenBucket {
  readonly ratePerSecond: number;
  readonly burst: number;
  private readonly clock: Clock;
  private tokens: number;
  private refilledAt: number;
  /** Times of the last `burst` grants, oldest first. */
  private readonly grants: number[] = [];
  /** Takers wait in line, so concurrent senders are served in order and never race for a token. */
  private line: Promise<void> = Promise.resolve();

  constructor(ratePerSecond: number, burst: number, clock: Clock = systemClock, initialTokens = 1) {
    if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) throw new RangeError(`Send rate must be a positive number, got ${ratePerSecond}`);
    if (!Number.isInteger(burst) || burst < 1) throw new RangeError(`Burst must be a whole number >= 1, got ${burst}`);
    if (!(initialTokens >= 0)) throw new RangeError(`Initial tokens must be >= 0, got ${initialTokens}`);
    this.ratePerSecond = ratePerSecond;
    this.burst = burst;
    this.clock = clock;
    this.tokens = Math.min(burst, initialTokens);
    this.refilledAt = clock.now();
  }

  /**
   * How long a take() now would wait, in ms, for a caller alone in line (the bucket's state is left
   * as it is): a sender checks it against its deadline before committing to a call.
   */
  waitMs(): number {
    return Math.max(0, Math.ceil(this.waitAt(this.clock.now())));
  }

  /** Resolves when the caller may make one call. */
  take(): Promise<void> {
    const turn = this.line.then(() => this.acquire());
    this.line = turn.catch(() => undefined);
    return turn;
  }

  private async acquire(): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      this.tokens = this.tokensAt(now);
      this.refilledAt = now;
      const wait = this.waitAt(now);
      if (wait <= 0) {
        this.tokens = Math.max(0, this.tokens - 1);
        this.grants.push(now);
        if (this.grants.length > this.burst) this.grants.shift();
        return;
      }
      await this.clock.sleep(Math.ceil(wait));
    }
  }

  /** The tokens saved up by `now`. */
  private tokensAt(now: number): number {
    return Math.min(this.burst, this.tokens + ((now - this.refilledAt) * this.ratePerSecond) / 1000);
  }

  /** Ms from `now` until a grant: a token saved up, and room in the sliding second. */
  private waitAt(now: number): number {
    const oldest = this.grants.length >= this.burst ? this.grants[this.grants.length - this.burst] : undefined;
    const windowWait = oldest === undefined ? 0 : oldest + WINDOW_MS + WINDOW_GUARD_MS - now;
    const tokens = this.tokensAt(now);
    const tokenWait = tokens >= 1 - EPSILON ? 0 : ((1 - tokens) * 1000) / this.ratePerSecond;
    return Math.max(windowWait, tokenWait);
  }
}

/** The burst that keeps `rate` over every 1 s window: max(1, floor(rate)). */
export function burstFor(ratePerSecond: number): number {
  return Math.max(1, Math.floor(ratePerSecond));
}
