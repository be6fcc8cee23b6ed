import { localDaysIn, zoneOffsetMs, type LocalDays } from '#shared/time.ts';
import type { Rng } from './random.ts';

/**
 * Offsets and timestamp text for one time zone, fast enough for tens of millions of rows.
 * shared/time.ts caches offsets per quarter hour in one bounded map for all zones, which an
 * export spanning three years in several zones would keep evicting (and each miss costs an
 * Intl.formatToParts). Here each zone caches per UTC day (LocalDays' cache): a day whose offset
 * is the same at both ends has that offset throughout; the two transition days a year fall back
 * to per-hour lookups. Whatever offset is used, the text pairs it with the matching wall time, so the
 * instant written is always exact.
 */

const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

// Relative likelihood of each local hour for a sign-up or an order: quiet at night, an
// evening peak (phones after dinner), a lunch bump.
const HOUR_WEIGHTS = [0.3, 0.15, 0.08, 0.05, 0.05, 0.1, 0.3, 0.6, 0.9, 1.1, 1.3, 1.5, 1.6, 1.4, 1.3, 1.3, 1.3, 1.4, 1.6, 1.9, 2.2, 2.3, 1.8, 0.9];

function pad2(value: number): string {
  return value < 10 ? `0${value}` : String(value);
}

export class ZoneClock {
  /** The zone's per-UTC-day offsets, shared with the nightly's day counting. */
  private readonly days: LocalDays;
  private readonly hours = new Map<number, number>();

  constructor(readonly timeZone: string) {
    this.days = localDaysIn(timeZone);
  }

  offset(instant: number): number {
    const offset = this.days.wholeDayOffset(instant);
    if (!Number.isNaN(offset)) return offset;
    const hour = Math.floor(instant / HOUR_MS);
    let hourly = this.hours.get(hour);
    if (hourly === undefined) {
      hourly = zoneOffsetMs(hour * HOUR_MS, this.timeZone);
      this.hours.set(hour, hourly);
    }
    return hourly;
  }

  /** A random local time of day (seconds precision) on the local calendar day of `instant`. */
  randomTimeOnDay(instant: number, rng: Rng): number {
    const offset = this.offset(instant);
    const localMidnight = Math.floor((instant + offset) / DAY_MS) * DAY_MS;
    const hour = rng.weightedIndex(HOUR_WEIGHTS);
    return localMidnight - offset + hour * HOUR_MS + rng.int(0, 3599) * 1000;
  }

  /** ISO 8601 with the zone's offset: 2026-11-22T10:15:03+08:00. */
  iso(instant: number): string {
    const offset = this.offset(instant);
    return `${this.wall(instant + offset, 'T')}${offsetText(offset, true)}`;
  }

  /** Shopify's export style: 2026-11-22 10:15:03 +0800. */
  shopify(instant: number): string {
    const offset = this.offset(instant);
    return `${this.wall(instant + offset, ' ')} ${offsetText(offset, false)}`;
  }

  /** Local month 0-11 of `instant`. */
  month(instant: number): number {
    return Number(localDateText(Math.floor((instant + this.offset(instant)) / DAY_MS)).slice(5, 7)) - 1;
  }

  /** "YYYY-MM-DD<sep>HH:MM:SS" of a local wall-clock time in ms (no Date per call: millions of rows). */
  private wall(local: number, separator: string): string {
    const day = Math.floor(local / DAY_MS);
    const seconds = Math.floor((local - day * DAY_MS) / 1000);
    const hh = Math.floor(seconds / 3600);
    const mm = Math.floor((seconds % 3600) / 60);
    return `${localDateText(day)}${separator}${pad2(hh)}:${pad2(mm)}:${pad2(seconds % 60)}`;
  }
}

const dateTexts = new Map<number, string>();

/** YYYY-MM-DD of a day number (days since 1970-01-01), cached: exports reuse a few thousand days. */
function localDateText(day: number): string {
  let text = dateTexts.get(day);
  if (text === undefined) {
    text = new Date(day * DAY_MS).toISOString().slice(0, 10);
    if (dateTexts.size > 100_000) dateTexts.clear();
    dateTexts.set(day, text);
  }
  return text;
}

const offsetTexts = [new Map<number, string>(), new Map<number, string>()] as const;

function offsetText(offsetMs: number, colon: boolean): string {
  const cache = offsetTexts[colon ? 0 : 1];
  let text = cache.get(offsetMs);
  if (text === undefined) {
    const minutes = Math.round(Math.abs(offsetMs) / 60_000);
    const sign = offsetMs < 0 ? '-' : '+';
    text = `${sign}${pad2(Math.floor(minutes / 60))}${colon ? ':' : ''}${pad2(minutes % 60)}`;
    cache.set(offsetMs, text);
  }
  return text;
}

/** One clock per zone, created on first use. */
export class Clocks {
  private readonly clocks = new Map<string, ZoneClock>();

  get(timeZone: string): ZoneClock {
    let clock = this.clocks.get(timeZone);
    if (!clock) {
      clock = new ZoneClock(timeZone);
      this.clocks.set(timeZone, clock);
    }
    return clock;
  }
}
