import { describe, expect, it } from 'vitest';
import { burstFor, TokenBucket, type Clock } from '#shared/delivery/token-bucket.ts';
import { fakeClock, maxInWindow } from '#test/support/clock.ts';

async function takeAll(bucket: TokenBucket, clock: Clock, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    await bucket.take();
    times.push(clock.now());
  }
  return times;
}

describe('burstFor', () => {
  it('is floor(rate), at least 1', () => {
    expect(burstFor(10)).toBe(10);
    expect(burstFor(14.7)).toBe(14);
    expect(burstFor(0.5)).toBe(1);
  });
});

describe('TokenBucket', () => {
  it('paces 50 takes at 10/s over at least 4.9 s, never more than 10 in any second', async () => {
    const clock = fakeClock();
    const times = await takeAll(new TokenBucket(10, 10, clock), clock, 50);
    expect(times[0]).toBe(0);
    expect(clock.now()).toBeGreaterThanOrEqual(4900);
    expect(maxInWindow(times)).toBeLessThanOrEqual(10);
  });

  it('tells how long the next take would wait, without taking', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(1, 1, clock);
    // One token to start with: the first call goes at once.
    expect(bucket.waitMs()).toBe(0);
    expect(bucket.waitMs()).toBe(0);
    await bucket.take();
    expect(bucket.waitMs()).toBe(1005);
    await clock.sleep(400);
    expect(bucket.waitMs()).toBe(605);
    await bucket.take();
    expect(clock.now()).toBe(1005);
  });

  it('a full bucket bursts, but the window cap keeps every second at the rate', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(10, 10, clock, 10);
    const times = await takeAll(bucket, clock, 50);
    // A plain token bucket would allow 10 + 9 refills = 19 within the first second.
    expect(maxInWindow(times)).toBe(10);
    expect(times.filter((t) => t < 1000)).toHaveLength(10);
    // The bound a full bucket implies: (50 - 10) / 10 s.
    expect(clock.now()).toBeGreaterThanOrEqual(4000);
  });

  it('after an idle spell it bursts up to `burst`, still within the window cap', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(10, 10, clock);
    const first = await takeAll(bucket, clock, 5);
    await clock.sleep(3000);
    const idleEnd = clock.now();
    const second = await takeAll(bucket, clock, 25);
    expect(second.filter((t) => t === idleEnd)).toHaveLength(10);
    expect(maxInWindow([...first, ...second])).toBeLessThanOrEqual(10);
  });

  it('paces fractional rates: 2.5/s with burst 2', async () => {
    const clock = fakeClock();
    const times = await takeAll(new TokenBucket(2.5, burstFor(2.5), clock), clock, 11);
    expect(maxInWindow(times)).toBeLessThanOrEqual(2);
    // The window cap (2 a second, plus the 5 ms guard between a grant and its call) binds before
    // the token rate: 0, 400, 1005, 1405, 2010...
    expect(times).toEqual([0, 400, 1005, 1405, 2010, 2410, 3015, 3415, 4020, 4420, 5025]);
    const slow = fakeClock();
    const slowTimes = await takeAll(new TokenBucket(0.5, 1, slow), slow, 3);
    expect(slowTimes).toEqual([0, 2000, 4000]);
  });

  it('serves concurrent takers one token at a time', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(20, 20, clock);
    const times: number[] = [];
    await Promise.all(
      Array.from({ length: 60 }, async () => {
        await bucket.take();
        times.push(clock.now());
      }),
    );
    expect(times).toHaveLength(60);
    expect(maxInWindow(times)).toBeLessThanOrEqual(20);
    expect(clock.now()).toBeGreaterThanOrEqual((60 - 1) * 50);
  });

  it('refuses rates and bursts that make no sense', () => {
    expect(() => new TokenBucket(0, 1)).toThrow(RangeError);
    expect(() => new TokenBucket(Number.NaN, 1)).toThrow(RangeError);
    expect(() => new TokenBucket(Number.POSITIVE_INFINITY, 1)).toThrow(RangeError);
    expect(() => new TokenBucket(10, 0)).toThrow(RangeError);
    expect(() => new TokenBucket(10, 2.5)).toThrow(RangeError);
  });

  it('with the real clock, 20 takes at 20/s take at least the steady-rate time', async () => {
    const bucket = new TokenBucket(20, 20);
    const start = performance.now();
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      await bucket.take();
      times.push(performance.now());
    }
    // 19 intervals of 50 ms; timers never fire early by more than a rounding millisecond.
    expect(performance.now() - start).toBeGreaterThanOrEqual(19 * 50 - 20);
    expect(maxInWindow(times, 900)).toBeLessThanOrEqual(20);
  });
});
