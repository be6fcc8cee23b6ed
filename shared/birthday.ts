import { addYears, isIsoDate } from './time.ts';

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
