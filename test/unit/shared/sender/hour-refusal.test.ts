import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FUTURE_HOUR_TOLERANCE_MS, hourRefusal, PAST_HOUR_TOLERANCE_MS, realClockFor } from '#shared/sender/run.ts';

/**
 * An hour is run for real only near the real clock: ahead of it, its emails would go now with
 * ledger entries dated ahead; behind it, through real SES, they would go now dated at that hour,
 * and the next hour's frequency cap would let a second email through (the emulators simulate days).
 */

const NOW = Date.UTC(2026, 11, 4, 12);
const HOUR = 3_600_000;
const real = { dryRun: false, emulated: false };

describe('hourRefusal', () => {
  it('lets this hour, the next and one started up to 50 minutes late run; refuses later and earlier ones, naming both times', () => {
    expect(hourRefusal(NOW + FUTURE_HOUR_TOLERANCE_MS, NOW, real)).toBeUndefined();
    expect(hourRefusal(NOW - 50 * 60_000, NOW, real)).toBeUndefined();
    expect(hourRefusal(Date.UTC(2027, 10, 29, 4), NOW, real)).toBe(
      'the hour 2027-11-29T04:00:00.000Z is ahead of the clock (2026-12-04T12:00:00.000Z): a run for it would send its emails now and date its ledger entries ahead; run it when its time comes, or as a dry run to see what it would do',
    );
    expect(hourRefusal(NOW - 26 * HOUR, NOW, real)).toBe(
      "the hour 2026-12-03T10:00:00.000Z is behind the clock (2026-12-04T12:00:00.000Z): a run for it would send its emails now but decide and date them for that hour, and the next hour's frequency cap would read them as older than they are; run the current hour (it sends what is still due), or this one as a dry run to see what it would have done",
    );
  });

  it('on the emulators a past hour is a simulated day: it runs; an hour ahead is still refused', () => {
    expect(hourRefusal(NOW - 365 * 24 * HOUR, NOW, { dryRun: false, emulated: true })).toBeUndefined();
    expect(hourRefusal(NOW + 2 * HOUR, NOW, { dryRun: false, emulated: true })).toBeDefined();
  });

  it('never refuses a dry run, and refuses exactly the real runs past either tolerance', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e11, max: 1e11 }), fc.boolean(), fc.boolean(), (offset, dryRun, emulated) => {
        const refused = hourRefusal(NOW + offset, NOW, { dryRun, emulated }) !== undefined;
        expect(refused).toBe(!dryRun && (offset > FUTURE_HOUR_TOLERANCE_MS || (!emulated && offset < -PAST_HOUR_TOLERANCE_MS)));
      }),
    );
  });
});

describe('realClockFor', () => {
  it('gives the real clock to a live hour only: a dry run and an emulated (simulated) hour keep to their own time', () => {
    expect(realClockFor(real)).toBe(Date.now);
    expect(realClockFor({ dryRun: true, emulated: false })).toBeUndefined();
    expect(realClockFor({ dryRun: false, emulated: true })).toBeUndefined();
  });
});
