import { describe, expect, it } from 'vitest';
import { AFTER_LAST_CALL_MS, deadlinePassed, mayClaimBefore, sendingDeadline } from '#shared/delivery/send-deadline.ts';

describe('sendingDeadline', () => {
  it('keeps one paced send and what follows the last SES call before the Lambda ends', () => {
    const now = Date.parse('2026-11-23T02:00:00Z');
    // 15 minutes at 1/s: sends may start until 839 s in.
    expect(sendingDeadline(now, 900_000, 1) - now).toBe(900_000 - 1000 - AFTER_LAST_CALL_MS);
    // A slower pace keeps a longer turn: 0.5/s, 2 s.
    expect(sendingDeadline(now, 900_000, 0.5) - now).toBe(900_000 - 2000 - AFTER_LAST_CALL_MS);
    // Less time left than the margin: a deadline already past, nothing is claimed.
    expect(sendingDeadline(now, 1500, 1)).toBeLessThan(now);
  });
});

describe('mayClaimBefore', () => {
  const deadline = 10_000;
  it('lets an email be claimed only when its pacing wait ends by the deadline', () => {
    expect(mayClaimBefore(deadline, 9_000, 0)).toBe(true);
    expect(mayClaimBefore(deadline, 9_000, 1_000)).toBe(true);
    expect(mayClaimBefore(deadline, 9_000, 1_001)).toBe(false);
    expect(mayClaimBefore(deadline, 10_001, 0)).toBe(false);
  });

  it('has no limit without a deadline', () => {
    expect(mayClaimBefore(undefined, Number.MAX_SAFE_INTEGER, 3_600_000)).toBe(true);
  });
});

describe('deadlinePassed', () => {
  it("says why once the mailer's pacing wait would start the next call past the deadline", () => {
    const deadline = Date.parse('2026-11-23T02:14:00Z');
    const pacedFor = (ms: number) => ({ nextCallInMs: () => ms });
    expect(deadlinePassed(deadline, pacedFor(1_000), deadline - 1_000)).toBeUndefined();
    expect(deadlinePassed(deadline, pacedFor(1_001), deadline - 1_000)).toBe(
      "The run's deadline (2026-11-23T02:14:00.000Z) leaves no time for another email: the remaining ones wait for a later run",
    );
    // A mailer without pacing waits for nothing; no deadline, no limit.
    expect(deadlinePassed(deadline, {}, deadline)).toBeUndefined();
    expect(deadlinePassed(undefined, pacedFor(3_600_000))).toBeUndefined();
  });
});
