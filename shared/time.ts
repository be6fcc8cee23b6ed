import { z } from 'zod';

/**
 * Time-zone arithmetic on epoch milliseconds, using the platform's IANA database (Intl).
 * Every rule of the product takes "now" and a time zone as inputs; these helpers are the one
 * place that turns instants into local calendar dates and back.
 */

export const MS_PER_DAY = 86_400_000;
const QUARTER_HOUR_MS = 900_000;
/** The Gregorian calendar repeats every 400 years, which are exactly 146,097 days. */
const GREGORIAN_CYCLE_MS = 146_097 * MS_PER_DAY;

/**
 * Date.UTC for every year 0-9999. Date.UTC reads the years 0-99 as 1900-1999 ("0001-01-01"
 * would become 1901-01-01), so those are computed 400 years later and moved back one cycle.
 * Out-of-range fields roll over as with Date.UTC.
 */
export function utcMs(year: number, monthIndex: number, day: number, hour = 0, minute = 0, second = 0, millisecond = 0): number {
  if (year >= 0 && year < 100) return Date.UTC(year + 400, monthIndex, day, hour, minute, second, millisecond) - GREGORIAN_CYCLE_MS;
  return Date.UTC(year, monthIndex, day, hour, minute, second, millisecond);
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsetCache = new Map<string, number>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** Offset of `timeZone` from UTC at `instant`, in milliseconds (e.g. +8 h for Asia/Shanghai). */
export function zoneOffsetMs(instant: number, timeZone: string): number {
  // Offsets only change on quarter-hour boundaries, so cache per quarter hour: exports hold
  // millions of timestamps and formatToParts is slow.
  const bucket = Math.floor(instant / QUARTER_HOUR_MS);
  const key = `${timeZone}|${bucket}`;
  const cached = offsetCache.get(key);
  if (cached !== undefined) return cached;
  const at = bucket * QUARTER_HOUR_MS;
  const parts = formatterFor(timeZone).formatToParts(new Date(at));
  const get = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.find((p) => p.type === type)?.value);
  // From the local day and time of day against UTC's, never the year: Intl counts years by
  // era (1 BC is "1"), and an offset is less than a day.
  const utc = new Date(at);
  const month = get('month');
  const day = get('day');
  const utcMonth = utc.getUTCMonth() + 1;
  let dayShift = 0;
  if (day !== utc.getUTCDate() || month !== utcMonth) {
    // The local date is the next or the previous day; across a year end the months are 12 and 1.
    const later = month === utcMonth ? day > utc.getUTCDate() : month === utcMonth + 1 || (month === 1 && utcMonth === 12);
    dayShift = later ? MS_PER_DAY : -MS_PER_DAY;
  }
  const localTimeOfDay = ((get('hour') * 60 + get('minute')) * 60 + get('second')) * 1000;
  const utcTimeOfDay = at - Math.floor(at / MS_PER_DAY) * MS_PER_DAY;
  const offset = dayShift + localTimeOfDay - utcTimeOfDay;
  if (offsetCache.size > 100_000) offsetCache.clear();
  offsetCache.set(key, offset);
  return offset;
}

/**
 * The instant at which the wall-clock time (y, m, d, h, mi, s, ms) happens in `timeZone`.
 * When the time happens twice (clocks go back) the earlier instant is chosen; when it does not
 * happen at all (clocks go forward) it is shifted forward by the gap, so a day that starts at
 * 01:00 (Santiago, midnight transitions) starts at the transition itself.
 */
export function zonedWallTimeToInstant(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  millisecond: number,
  timeZone: string,
): number {
  const wall = utcMs(year, month - 1, day, hour, minute, second, millisecond);
  const [earliest] = instantsOfWall(wall, timeZone);
  // In a gap: read the wall time with the offset from before the gap, which lands after it.
  return earliest ?? wall - zoneOffsetMs(wall - MS_PER_DAY, timeZone);
}

/**
 * Every instant at which the wall-clock time happens in `timeZone`, earliest first: one on most
 * days, two in the hour the clocks go back (the first pass, then the second), none in the hour
 * they skip. Time is to the minute (the stamps of incremental exports, shared/store/buckets.ts).
 */
export function zonedWallTimeInstants(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): number[] {
  return instantsOfWall(utcMs(year, month - 1, day, hour, minute), timeZone);
}

/** The instants whose wall time in `timeZone` is `wall` (a wall time written as if UTC), earliest first. */
function instantsOfWall(wall: number, timeZone: string): number[] {
  // The offsets in force around this wall time: any transition is less than a day away.
  const before = zoneOffsetMs(wall - MS_PER_DAY, timeZone);
  const after = zoneOffsetMs(wall + MS_PER_DAY, timeZone);
  const candidates = before === after ? [wall - before] : [wall - before, wall - after].sort((a, b) => a - b);
  return candidates.filter((instant) => instant + zoneOffsetMs(instant, timeZone) === wall);
}

/** An instant as the zone's wall clock reads it, to the minute: '2026-11-24', '03:00' and its UTC offset, '+08:00'. */
export function zonedWallClock(instant: number, timeZone: string): { date: string; time: string; offset: string } {
  const offset = zoneOffsetMs(instant, timeZone);
  const wall = new Date(instant + offset).toISOString();
  const minutes = Math.abs(offset) / 60_000;
  const sign = offset < 0 ? '-' : '+';
  return { date: wall.slice(0, 10), time: wall.slice(11, 16), offset: `${sign}${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}` };
}

/** YYYY-MM-DD of `instant` in `timeZone`. */
export function localDate(instant: number, timeZone: string): string {
  const shifted = new Date(instant + zoneOffsetMs(instant, timeZone));
  return shifted.toISOString().slice(0, 10);
}

/** Local wall-clock hour (0-23) of `instant` in `timeZone`. */
export function localHour(instant: number, timeZone: string): number {
  return new Date(instant + zoneOffsetMs(instant, timeZone)).getUTCHours();
}

/**
 * Local calendar days of instants in one zone, as day numbers (days since 1970-01-01 there):
 * the same days localDate() names, without building a date string for each of the millions
 * of orders and purchases a night sees. The zone's offset is cached per UTC day, and looked
 * up per instant only on days when it changes (DST transitions).
 */
export class LocalDays {
  private readonly offsets = new Map<number, number>();

  constructor(private readonly timeZone: string) {}

  of(instant: number): number {
    let offset = this.wholeDayOffset(instant);
    if (Number.isNaN(offset)) offset = zoneOffsetMs(instant, this.timeZone);
    return Math.floor((instant + offset) / MS_PER_DAY);
  }

  /** The zone's offset throughout the UTC day of `instant`, or NaN when it changes during that day (DST). */
  wholeDayOffset(instant: number): number {
    const utcDay = Math.floor(instant / MS_PER_DAY);
    let offset = this.offsets.get(utcDay);
    if (offset === undefined) {
      const start = zoneOffsetMs(utcDay * MS_PER_DAY, this.timeZone);
      const end = zoneOffsetMs((utcDay + 1) * MS_PER_DAY - 1, this.timeZone);
      offset = start === end ? start : Number.NaN;
      if (this.offsets.size >= 100_000) this.offsets.clear();
      this.offsets.set(utcDay, offset);
    }
    return offset;
  }
}

const localDaysByZone = new Map<string, LocalDays>();

/** A client's zone: `timeZone` when it is set and the platform knows it, else `fallback` (the brand's). */
export function timeZoneOr(timeZone: string | undefined, fallback: string): string {
  return timeZone !== undefined && timeZone !== '' && isValidTimeZone(timeZone) ? timeZone : fallback;
}

/** The process's LocalDays of `timeZone`: its day cache is shared by every caller in the zone. */
export function localDaysIn(timeZone: string): LocalDays {
  let days = localDaysByZone.get(timeZone);
  if (!days) {
    days = new LocalDays(timeZone);
    localDaysByZone.set(timeZone, days);
  }
  return days;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isIsoDate(value: string): boolean {
  const m = DATE_RE.exec(value);
  if (!m) return false;
  const d = new Date(utcMs(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === value;
}

/** A calendar date, YYYY-MM-DD, that exists (2026-02-30 does not): a night's run date, a day stored in S3. */
export const isoDateSchema = z.string().refine(isIsoDate, 'must be a date, YYYY-MM-DD');

function splitDate(date: string): [number, number, number] {
  const m = DATE_RE.exec(date);
  if (!m) throw new RangeError(`Not a YYYY-MM-DD date: ${date}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** The instant local midnight starts `date` in `timeZone`. */
export function startOfLocalDay(date: string, timeZone: string): number {
  const [y, m, d] = splitDate(date);
  return zonedWallTimeToInstant(y, m, d, 0, 0, 0, 0, timeZone);
}

/** The days a YYYY-MM-DD date can write: toISOString writes a later one '+010000-01-01' (past year 275760, no date at all). */
const FIRST_WRITABLE_MS = utcMs(0, 0, 1);
const LAST_WRITABLE_MS = Date.UTC(9999, 11, 31);

/**
 * Calendar date `days` after `date` (negative for before). A day past 9999-12-31 (or before year
 * 0) has no YYYY-MM-DD form: a RangeError says so here, where the day count is known, instead
 * of a truncated '+015715-10' failing the next reader. Callers with a day count taken from data
 * (a use-up cycle) bound it first (campaigns/triggers.ts DUE_HORIZON_DAYS).
 */
export function addDays(date: string, days: number): string {
  const [y, m, d] = splitDate(date);
  const ms = utcMs(y, m - 1, d + days);
  if (!(ms >= FIRST_WRITABLE_MS && ms <= LAST_WRITABLE_MS)) throw new RangeError(`${days} days from a date falls outside the years 0000-9999`);
  return new Date(ms).toISOString().slice(0, 10);
}

/** Same calendar day `years` later (Feb 29 becomes Feb 28 in a non-leap year). */
export function addYears(date: string, years: number): string {
  const [y, m, d] = splitDate(date);
  const target = new Date(utcMs(y + years, m - 1, d));
  if (target.getUTCMonth() !== m - 1) return new Date(utcMs(y + years, m, 0)).toISOString().slice(0, 10);
  return target.toISOString().slice(0, 10);
}

/** Whole calendar days from date `from` to date `to` (positive when `to` is later). */
export function daysBetweenDates(from: string, to: string): number {
  const [y1, m1, d1] = splitDate(from);
  const [y2, m2, d2] = splitDate(to);
  return Math.round((utcMs(y2, m2 - 1, d2) - utcMs(y1, m1 - 1, d1)) / MS_PER_DAY);
}

export const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Day of the week of a calendar date (the date is already local: no zone needed). */
export function weekdayOf(date: string): Weekday {
  const [y, m, d] = splitDate(date);
  // getUTCDay: 0 is Sunday; WEEKDAYS starts on Monday, as ISO 8601 weeks do.
  return WEEKDAYS[(new Date(utcMs(y, m - 1, d)).getUTCDay() + 6) % 7] as Weekday;
}

/**
 * ISO 8601 week of a calendar date, e.g. '2026-W48'. Weeks start on Monday, and a week belongs
 * to the year of its Thursday, so 2027-01-01 (a Friday) is in '2026-W53'.
 */
export function isoWeek(date: string): string {
  const thursday = addDays(date, 3 - WEEKDAYS.indexOf(weekdayOf(date)));
  const year = Number(thursday.slice(0, 4));
  const week = Math.floor(daysBetweenDates(`${year}-01-01`, thursday) / 7) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

const TIMESTAMP_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** UTC offsets in use run from -12:00 to +14:00; minutes are minutes. */
const MAX_OFFSET_HOURS = 14;

/**
 * Parses an ISO 8601 timestamp (or a date alone, meaning local midnight). One without an
 * offset is read in `defaultTimeZone`. Returns epoch milliseconds, or undefined if invalid
 * (including an offset beyond ±14:00 or with 60 or more minutes).
 */
export function parseTimestamp(value: string, defaultTimeZone: string): number | undefined {
  return parseOffsetTimestamp(value) ?? parseTimestampByPattern(value, defaultTimeZone);
}

/** parseTimestamp's general reading, by pattern; exported for the test that holds its fast path to it. */
export function parseTimestampByPattern(value: string, defaultTimeZone: string): number | undefined {
  const m = TIMESTAMP_RE.exec(value.trim());
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] ? Number(m[4]) : 0;
  const minute = m[5] ? Number(m[5]) : 0;
  const second = m[6] ? Number(m[6]) : 0;
  const millisecond = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return undefined;
  const check = new Date(utcMs(year, month - 1, day));
  if (check.getUTCDate() !== day) return undefined;
  const zone = m[8];
  if (!zone) return zonedWallTimeToInstant(year, month, day, hour, minute, second, millisecond, defaultTimeZone);
  const wall = utcMs(year, month - 1, day, hour, minute, second, millisecond);
  if (zone.toUpperCase() === 'Z') return wall;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offsetHours = Number(digits.slice(0, 2));
  const offsetMinutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
  if (offsetHours > MAX_OFFSET_HOURS || offsetMinutes > 59 || (offsetHours === MAX_OFFSET_HOURS && offsetMinutes > 0)) return undefined;
  return wall - sign * (offsetHours * 60 + offsetMinutes) * 60_000;
}

/** The digit at `i` of `value` (0-9), or -1. */
function digitAt(value: string, i: number): number {
  const digit = value.charCodeAt(i) - 48;
  return digit >= 0 && digit <= 9 ? digit : -1;
}

function twoDigits(value: string, i: number): number {
  const tens = digitAt(value, i);
  const units = digitAt(value, i + 1);
  return tens < 0 || units < 0 ? -1 : tens * 10 + units;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/**
 * The common shapes of export timestamps, read without a regular expression or a Date:
 * YYYY-MM-DDTHH:MM:SS followed by Z or ±HH:MM, the same instant parseTimestamp's pattern gives
 * (property-tested). Undefined for anything else, valid or not: parseTimestamp then reads it
 * the general way.
 */
function parseOffsetTimestamp(value: string): number | undefined {
  const length = value.length;
  if (length !== 20 && length !== 25) return undefined;
  const separator = value.charCodeAt(10);
  if (value.charCodeAt(4) !== 45 || value.charCodeAt(7) !== 45 || value.charCodeAt(13) !== 58 || value.charCodeAt(16) !== 58) return undefined;
  if (separator !== 84 && separator !== 116 && separator !== 32) return undefined; // T, t or a space
  const century = twoDigits(value, 0);
  const yearOfCentury = twoDigits(value, 2);
  const month = twoDigits(value, 5);
  const day = twoDigits(value, 8);
  const hour = twoDigits(value, 11);
  const minute = twoDigits(value, 14);
  const second = twoDigits(value, 17);
  if (century < 0 || yearOfCentury < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return undefined;
  const year = century * 100 + yearOfCentury;
  if (day > (month === 2 ? (isLeapYear(year) ? 29 : 28) : DAYS_IN_MONTH[month - 1] as number)) return undefined;
  let offsetMinutes = 0;
  const zone = value.charCodeAt(19);
  if (length === 20) {
    if (zone !== 90 && zone !== 122) return undefined; // Z or z
  } else {
    if ((zone !== 43 && zone !== 45) || value.charCodeAt(22) !== 58) return undefined; // + or -, then ':'
    const offsetHours = twoDigits(value, 20);
    const minutes = twoDigits(value, 23);
    if (offsetHours < 0 || minutes < 0 || minutes > 59 || offsetHours > MAX_OFFSET_HOURS || (offsetHours === MAX_OFFSET_HOURS && minutes > 0)) return undefined;
    offsetMinutes = (zone === 45 ? -1 : 1) * (offsetHours * 60 + minutes);
  }
  return daysFromCivil(year, month, day) * MS_PER_DAY + ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000;
}

/** 10000-01-01T00:00Z: from there on, toISOString writes a six-digit year with a sign. */
const YEAR_10000_MS = 253_402_300_800_000;

/**
 * `new Date(instant).toISOString()`, written without a Date for instants from 1970 to 9999
 * (profiles carry millions of them): one flat string of 24 characters. Property-tested equal.
 */
export function isoInstant(instant: number): string {
  if (!(instant >= 0 && instant < YEAR_10000_MS) || !Number.isInteger(instant)) return new Date(instant).toISOString();
  const days = Math.floor(instant / MS_PER_DAY);
  let rest = instant - days * MS_PER_DAY;
  // H. Hinnant's civil_from_days.
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthIndex = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthIndex + 2) / 5) + 1;
  const month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hour = Math.floor(rest / 3_600_000);
  rest -= hour * 3_600_000;
  const minute = Math.floor(rest / 60_000);
  rest -= minute * 60_000;
  const second = Math.floor(rest / 1000);
  const millisecond = rest - second * 1000;
  writeDigits(0, year, 4);
  writeDigits(5, month, 2);
  writeDigits(8, day, 2);
  writeDigits(11, hour, 2);
  writeDigits(14, minute, 2);
  writeDigits(17, second, 2);
  writeDigits(20, millisecond, 3);
  return String.fromCharCode.apply(null, isoCodes);
}

/** The character codes of an ISO instant being written; the separators never change. */
const isoCodes = Array.from('0000-00-00T00:00:00.000Z', (c) => c.charCodeAt(0));

/** Writes `value` as `width` decimal digits at `at` of isoCodes. */
function writeDigits(at: number, value: number, width: number): void {
  let rest = value;
  for (let i = at + width - 1; i >= at; i--) {
    isoCodes[i] = 48 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
}

/**
 * The day in `year` on which a birthday (YYYY-MM-DD or MM-DD) is celebrated: Feb 29 becomes Feb 28
 * in a non-leap year. Undefined for anything that is not a calendar day.
 */
export function birthdayIn(birthday: string, year: number): string | undefined {
  const monthDay = /^(?:\d{4}-)?(\d{2}-\d{2})$/.exec(birthday.trim())?.[1];
  // 2000 is a leap year, so every real month-day, Feb 29 included, is a valid date in it.
  const inLeapYear = `2000-${monthDay ?? ''}`;
  if (monthDay === undefined || !isIsoDate(inLeapYear)) return undefined;
  return addYears(inLeapYear, year - 2000);
}

/** The month of a month-only birthday ("YYYY-MM" or "--MM"), 1-12; undefined for any other form. */
export function birthdayMonth(birthday: string): number | undefined {
  const month = /^(?:\d{4}|-)-(\d{2})$/.exec(birthday.trim())?.[1];
  const value = Number(month);
  return month !== undefined && value >= 1 && value <= 12 ? value : undefined;
}

/**
 * The day in `year` a birthday campaign counts from: the birthday itself, or the 1st of the month
 * of a month-only birthday (the gift of the birthday month). Undefined when it is neither.
 */
export function birthdayOccasionIn(birthday: string, year: number): string | undefined {
  const month = birthdayMonth(birthday);
  if (month !== undefined) return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-01`;
  return birthdayIn(birthday, year);
}
