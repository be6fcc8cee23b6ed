import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DIGEST_WEEK_NIGHTS, digestNightOf, weekDigestsToRunWhole, type DigestRun } from '#shared/digests/advisor-digests.ts';
import { addDays, daysBetweenDates, isoWeek, WEEKDAYS, weekdayOf } from '#shared/time.ts';

describe('digestNightOf: which nights send which week\'s digests', () => {
  it('a Sunday digest day sends all; Monday to Saturday (another ISO week) send what Sunday deferred, under Sunday\'s week; the next Sunday starts over', () => {
    expect(digestNightOf('2026-11-22', 'sunday')).toEqual({ digestDate: '2026-11-22', week: '2026-W47', send: 'all', lastNight: false });
    expect(digestNightOf('2026-11-23', 'sunday')).toEqual({ digestDate: '2026-11-22', week: '2026-W47', send: 'pending', lastNight: false });
    expect(digestNightOf('2026-11-27', 'sunday')).toEqual({ digestDate: '2026-11-22', week: '2026-W47', send: 'pending', lastNight: false });
    expect(digestNightOf('2026-11-28', 'sunday')).toEqual({ digestDate: '2026-11-22', week: '2026-W47', send: 'pending', lastNight: true });
    expect(digestNightOf('2026-11-29', 'sunday')).toEqual({ digestDate: '2026-11-29', week: '2026-W48', send: 'all', lastNight: false });
  });

  it('a Wednesday digest day across the new year keeps the digest day\'s ISO week', () => {
    // 2026-12-30 is a Wednesday of 2026-W53; the nights up to Tuesday 2027-01-05 belong to it.
    expect(digestNightOf('2027-01-05', 'wednesday')).toEqual({ digestDate: '2026-12-30', week: '2026-W53', send: 'pending', lastNight: true });
    expect(digestNightOf('2027-01-06', 'wednesday')).toMatchObject({ digestDate: '2027-01-06', send: 'all' });
  });

  it('every night belongs to the last digest day on or before it, and each digest week is 7 consecutive nights with one key', () => {
    const dates = fc.integer({ min: 0, max: 365 * 30 }).map((days) => addDays('2000-01-01', days));
    fc.assert(
      fc.property(dates, fc.constantFrom(...WEEKDAYS), (runDate, weekday) => {
        const night = digestNightOf(runDate, weekday);
        const after = daysBetweenDates(night.digestDate, runDate);
        expect(weekdayOf(night.digestDate)).toBe(weekday);
        expect(after).toBeGreaterThanOrEqual(0);
        expect(after).toBeLessThan(DIGEST_WEEK_NIGHTS);
        expect(night.week).toBe(isoWeek(night.digestDate));
        expect(night.send).toBe(after === 0 ? 'all' : 'pending');
        expect(night.lastNight).toBe(after === DIGEST_WEEK_NIGHTS - 1);
        // The night after the last one is the next digest day.
        if (night.lastNight) expect(digestNightOf(addDays(runDate, 1), weekday)).toMatchObject({ digestDate: addDays(runDate, 1), send: 'all' });
        else expect(digestNightOf(addDays(runDate, 1), weekday).digestDate).toBe(night.digestDate);
      }),
    );
  });
});

describe('weekDigestsToRunWhole: a night after the digest day runs the week\'s digests whole again', () => {
  const due = (nights: readonly (DigestRun | undefined)[]) => ({ nights, digestDayDue: true });
  it('when none of the week\'s earlier nights ran them whole, or the last that did stopped; not once one ran them whole', () => {
    const stopped = { mode: 'all', error: 'Error: connect ECONNREFUSED' } as const;
    expect(weekDigestsToRunWhole(due([stopped]))).toBe(true);
    // Newest first: a later night without digests, or sending the deferred ones, leaves the stop standing.
    expect(weekDigestsToRunWhole(due([undefined, { mode: 'pending' }, stopped]))).toBe(true);
    // A night that ran them whole again since.
    expect(weekDigestsToRunWhole(due([{ mode: 'all' }, stopped]))).toBe(false);
    expect(weekDigestsToRunWhole(due([{ mode: 'all' }]))).toBe(false);
    // No completed night of the week ran them whole (the digest day's night failed, or had no advisor): as if stopped.
    expect(weekDigestsToRunWhole(due([undefined]))).toBe(true);
    expect(weekDigestsToRunWhole(due([]))).toBe(true);
    expect(weekDigestsToRunWhole(due([{ mode: 'pending' }, undefined]))).toBe(true);
  });

  it('not on the first nights of a suite that was not running on the digest day: no digests were due that week', () => {
    expect(weekDigestsToRunWhole({ nights: [], digestDayDue: false })).toBe(false);
    expect(weekDigestsToRunWhole({ nights: [undefined], digestDayDue: false })).toBe(false);
  });
});
