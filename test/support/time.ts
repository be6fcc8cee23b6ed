import { parseTimestamp } from '#shared/time.ts';

/** Instants for tests: durations in milliseconds, wall-clock times read in a zone, ISO strings as profiles store them. */

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** The default configuration's brand time zone. */
export const BRAND_ZONE = 'Asia/Shanghai';

/** Instant of a local wall-clock time ("2026-03-25T23:59" or "2026-03-25 23:59") in `timeZone`, or of an ISO instant with offset. */
export function at(text: string, timeZone = BRAND_ZONE): number {
  const instant = parseTimestamp(text, timeZone);
  if (instant === undefined) throw new Error(`bad timestamp ${text}`);
  return instant;
}

/** ISO instant as the profile stores it. */
export function iso(instant: number): string {
  return new Date(instant).toISOString();
}
