import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  addDays,
  addYears,
  daysBetweenDates,
  isIsoDate,
  isoWeek,
  localDate,
  localHour,
  parseTimestamp,
  startOfLocalDay,
  weekdayOf,
} from '#shared/time.ts';

describe('parseTimestamp', () => {
  it('reads explicit offsets and Z', () => {
    expect(parseTimestamp('2026-11-22T10:15:03+08:00', 'UTC')).toBe(Date.UTC(2026, 10, 22, 2, 15, 3));
    expect(parseTimestamp('2026-11-22T10:15:03Z', 'Asia/Shanghai')).toBe(Date.UTC(2026, 10, 22, 10, 15, 3));
    expect(parseTimestamp('2026-11-22T10:15:03.250-05:00', 'UTC')).toBe(Date.UTC(2026, 10, 22, 15, 15, 3, 250));
  });

  it("reads Shopify's 'YYYY-MM-DD hh:mm:ss +0800'", () => {
    expect(parseTimestamp('2026-11-22 10:15:03 +0800', 'UTC')).toBe(Date.UTC(2026, 10, 22, 2, 15, 3));
  });

  it('reads a timestamp without offset in the default time zone', () => {
    expect(parseTimestamp('2026-11-22T00:30:00', 'Asia/Shanghai')).toBe(Date.UTC(2026, 10, 21, 16, 30));
    expect(parseTimestamp('2026-07-01T12:00:00', 'America/New_York')).toBe(Date.UTC(2026, 6, 1, 16, 0));
    expect(parseTimestamp('2026-01-01T12:00:00', 'America/New_York')).toBe(Date.UTC(2026, 0, 1, 17, 0));
  });

  it('reads a date alone as local midnight', () => {
    expect(parseTimestamp('2026-11-22', 'Asia/Shanghai')).toBe(Date.UTC(2026, 10, 21, 16, 0));
  });

  it('refuses impossible values', () => {
    for (const bad of ['2026-02-30T10:00:00Z', '2026-13-01', 'yesterday', '2026-11-22T25:00:00Z', '', '2026-11-22T10:00:00+19:00']) {
      expect(parseTimestamp(bad, 'UTC'), bad).toBeUndefined();
    }
  });

  it('handles the DST gap and overlap of America/New_York', () => {
    // 2026-03-08 02:30 does not exist in New York: shifted into the valid range.
    const gap = parseTimestamp('2026-03-08T02:30:00', 'America/New_York');
    expect(gap).toBeDefined();
    expect(localDate(gap as number, 'America/New_York')).toBe('2026-03-08');
    // 2026-11-01 01:30 happens twice: the earlier (EDT, UTC-4) is chosen.
    expect(parseTimestamp('2026-11-01T01:30:00', 'America/New_York')).toBe(Date.UTC(2026, 10, 1, 5, 30));
  });
});

describe('local calendar', () => {
  it('gives the local date and hour of an instant', () => {
    const instant = Date.UTC(2026, 10, 22, 16, 30); // 00:30 on the 23rd in Shanghai
    expect(localDate(instant, 'Asia/Shanghai')).toBe('2026-11-23');
    expect(localDate(instant, 'UTC')).toBe('2026-11-22');
    expect(localHour(instant, 'Asia/Shanghai')).toBe(0);
  });

  it('finds the start of a local day', () => {
    expect(startOfLocalDay('2026-11-23', 'Asia/Shanghai')).toBe(Date.UTC(2026, 10, 22, 16));
    expect(startOfLocalDay('2026-03-08', 'America/New_York')).toBe(Date.UTC(2026, 2, 8, 5));
  });

  it('adds days and years on the calendar', () => {
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(addYears('2028-02-29', -1)).toBe('2027-02-28');
    expect(daysBetweenDates('2026-09-24', '2026-11-23')).toBe(60);
    expect(isIsoDate('2026-02-29')).toBe(false);
    expect(isIsoDate('2028-02-29')).toBe(true);
  });

  it('refuses a day past the years a YYYY-MM-DD date writes, saying so, rather than write one cut short', () => {
    expect(addDays('9999-12-30', 1)).toBe('9999-12-31');
    expect(addDays('0000-01-02', -1)).toBe('0000-01-01');
    expect(() => addDays('9999-12-31', 1)).toThrow(/outside the years 0000-9999/);
    expect(() => addDays('0000-01-01', -1)).toThrow(/outside the years 0000-9999/);
    // '+015715-10-...' cut to ten characters was read back as a bad date; past year 275760 there is no date at all.
    expect(() => addDays('2026-03-20', 5_000_000)).toThrow(/outside the years 0000-9999/);
    expect(() => addDays('2026-03-20', 1e15)).toThrow(/outside the years 0000-9999/);
    expect(() => addDays('2026-03-20', Number.NaN)).toThrow(/outside the years 0000-9999/);
  });

  it('round-trips local midnight for any date and zone', () => {
    const zones = ['Asia/Shanghai', 'America/New_York', 'Europe/London', 'America/Los_Angeles', 'Asia/Kolkata'];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3650 }), fc.constantFrom(...zones), (offset, zone) => {
        const date = addDays('2020-01-01', offset);
        expect(localDate(startOfLocalDay(date, zone), zone)).toBe(date);
        expect(localDate(startOfLocalDay(date, zone) - 1, zone)).toBe(addDays(date, -1));
      }),
    );
  });
});

describe('clock changes at midnight', () => {
  it('starts a day that skips midnight at the transition (America/Santiago)', () => {
    // 2026-09-06: Santiago's clocks jump from 00:00 to 01:00.
    const start = startOfLocalDay('2026-09-06', 'America/Santiago');
    expect(localDate(start, 'America/Santiago')).toBe('2026-09-06');
    expect(localHour(start, 'America/Santiago')).toBe(1);
    expect(localDate(start - 1, 'America/Santiago')).toBe('2026-09-05');
  });

  it('picks the earlier of a repeated midnight (America/Santiago, 2026-04-05)', () => {
    const start = startOfLocalDay('2026-04-05', 'America/Santiago');
    expect(localDate(start, 'America/Santiago')).toBe('2026-04-05');
    expect(localDate(start - 1, 'America/Santiago')).toBe('2026-04-04');
    expect(localHour(start, 'America/Santiago')).toBe(0);
  });
});

describe('weekdayOf and isoWeek', () => {
  it('names the day of a calendar date', () => {
    expect(weekdayOf('2026-11-23')).toBe('monday');
    expect(weekdayOf('2026-11-29')).toBe('sunday');
    expect(weekdayOf('2024-02-29')).toBe('thursday');
  });

  it('numbers ISO weeks, with the years around them belonging to their Thursday', () => {
    expect(isoWeek('2026-11-23')).toBe('2026-W48');
    expect(isoWeek('2026-11-29')).toBe('2026-W48');
    expect(isoWeek('2026-11-30')).toBe('2026-W49');
    // 2026-12-31 is a Thursday: 2026 has 53 weeks, and 2027-01-01..03 belong to its last one.
    expect(isoWeek('2026-12-31')).toBe('2026-W53');
    expect(isoWeek('2027-01-03')).toBe('2026-W53');
    expect(isoWeek('2027-01-04')).toBe('2027-W01');
    // 2024-12-30 is a Monday whose Thursday is in 2025.
    expect(isoWeek('2024-12-30')).toBe('2025-W01');
  });

  it('gives the seven days from a Monday one week, and the next Monday the next', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20_000 }), (offset) => {
        const day = addDays('1990-01-01', offset);
        const monday = addDays(day, -['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].indexOf(weekdayOf(day)));
        expect(isoWeek(day)).toBe(isoWeek(monday));
        expect(isoWeek(addDays(monday, 7))).not.toBe(isoWeek(monday));
      }),
    );
  });
});
