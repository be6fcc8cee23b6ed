import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FUTURE_HOUR_TOLERANCE_MS, futureHourRefusal } from '#shared/sender/run.ts';

/** An hour ahead of the real clock is never run for real: its emails would go now, its ledger entries dated ahead. */

const NOW = Date.UTC(2026, 11, 4, 12);

describe('futureHourRefusal', () => {
  it('lets past hours, this hour and the next run; refuses later ones, naming both times', () => {
    expect(futureHourRefusal(NOW - 365 * 24 * 3_600_000, NOW, false)).toBeUndefined();
    expect(futureHourRefusal(NOW + FUTURE_HOUR_TOLERANCE_MS, NOW, false)).toBeUndefined();
    expect(futureHourRefusal(Date.UTC(2027, 10, 29, 4), NOW, false)).toBe(
      'the hour 2027-11-29T04:00:00.000Z is ahead of the clock (2026-12-04T12:00:00.000Z): a run for it would send its emails now and date its ledger entries ahead; run it when its time comes, or as a dry run to see what it would do',
    );
  });

  it('never refuses a dry run, and refuses exactly the real runs past the tolerance', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e11, max: 1e11 }), fc.boolean(), (offset, dryRun) => {
        const refused = futureHourRefusal(NOW + offset, NOW, dryRun) !== undefined;
        expect(refused).toBe(!dryRun && offset > FUTURE_HOUR_TOLERANCE_MS);
      }),
    );
  });
});
