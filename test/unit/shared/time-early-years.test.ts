import { describe, expect, it } from 'vitest';
import { addDays, daysBetweenDates, isIsoDate, localDate, parseTimestamp, utcMs, weekdayOf, zoneOffsetMs } from '#shared/time.ts';

/** Date.UTC reads the years 0-99 as 1900-1999: 0001-01-01 was stored as 1901-01-01. */

describe('the years 0-99', () => {
  it('utcMs reads them as themselves, leap years of the proleptic Gregorian calendar included', () => {
    expect(new Date(utcMs(1, 0, 1)).toISOString()).toBe('0001-01-01T00:00:00.000Z');
    expect(new Date(utcMs(0, 1, 29)).toISOString()).toBe('0000-02-29T00:00:00.000Z');
    expect(new Date(utcMs(99, 11, 32)).toISOString()).toBe('0100-01-01T00:00:00.000Z');
    expect(utcMs(2026, 10, 23, 1, 2, 3, 4)).toBe(Date.UTC(2026, 10, 23, 1, 2, 3, 4));
  });

  it('parseTimestamp, isIsoDate and the date arithmetic use them', () => {
    expect(new Date(parseTimestamp('0001-01-01T00:00:00Z', 'UTC') as number).toISOString()).toBe('0001-01-01T00:00:00.000Z');
    expect(localDate(parseTimestamp('0001-01-01', 'Asia/Shanghai') as number, 'Asia/Shanghai')).toBe('0001-01-01');
    expect(isIsoDate('0001-01-01')).toBe(true);
    expect(isIsoDate('0000-02-29')).toBe(true);
    expect(isIsoDate('0100-02-29')).toBe(false);
    expect(addDays('0099-12-31', 1)).toBe('0100-01-01');
    expect(daysBetweenDates('0001-01-01', '0002-01-01')).toBe(365);
    expect(weekdayOf('0001-01-01')).toBe('monday');
  });

  it('zone offsets hold before the Gregorian era too (Intl counts those years by era)', () => {
    // Shanghai's local mean time: +8:05:43.
    expect(zoneOffsetMs(utcMs(1, 0, 1), 'Asia/Shanghai')).toBe(((8 * 60 + 5) * 60 + 43) * 1000);
    expect(zoneOffsetMs(utcMs(-1, 11, 31, 20), 'Asia/Shanghai')).toBe(((8 * 60 + 5) * 60 + 43) * 1000);
    expect(zoneOffsetMs(Date.UTC(2026, 11, 31, 20), 'Asia/Shanghai')).toBe(8 * 3_600_000);
    expect(zoneOffsetMs(Date.UTC(2026, 0, 1, 3), 'America/Los_Angeles')).toBe(-8 * 3_600_000);
  });
});

describe('UTC offsets', () => {
  it('take hours up to 14 and minutes below 60', () => {
    expect(parseTimestamp('2026-01-01T00:00:00+05:99', 'UTC')).toBeUndefined();
    expect(parseTimestamp('2026-01-01T00:00:00+0560', 'UTC')).toBeUndefined();
    expect(parseTimestamp('2026-01-01T00:00:00+15:00', 'UTC')).toBeUndefined();
    expect(parseTimestamp('2026-01-01T00:00:00+14:30', 'UTC')).toBeUndefined();
    expect(parseTimestamp('2026-01-01T00:00:00+14:00', 'UTC')).toBe(Date.UTC(2025, 11, 31, 10));
    expect(parseTimestamp('2026-01-01T00:00:00-12:00', 'UTC')).toBe(Date.UTC(2026, 0, 1, 12));
    expect(parseTimestamp('2026-01-01T00:00:00+0545', 'UTC')).toBe(Date.UTC(2025, 11, 31, 18, 15));
    expect(parseTimestamp('2026-01-01T00:00:00-03', 'UTC')).toBe(Date.UTC(2026, 0, 1, 3));
  });
});
