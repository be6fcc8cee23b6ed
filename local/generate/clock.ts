import { zoneOffsetMs } from '../../shared/time.ts';
import type { Rng } from './random.ts';

/**
 * Offsets and timestamp text for one time zone, fast enough for tens of millions of rows.
 * shared/time.ts caches offsets per quarter hour in one bounded map for all zones, which an
 * export spanning three years in several zones would keep evicting (and each miss costs an
 * Intl.formatToParts). Here each zone caches per UTC day: a day whose offset is the same at
 * both ends has that offset throughout; the two transition days a year fall back to per-hour
 * lookups. Whatever offset is used, the text pairs it with the matching wall time, so the
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
  /** UTC day -> offset for the whole day, or NaN when the offset changes during that day. */
  private readonly days = new Map<number, number>();
  private readonly hours = new Map<number, number>();

  constructor(readonly timeZone: string) {}

  offset(instant: number): number {
    const day = Math.floor(instant / DAY_MS);
    let offset = this.days.get(day);
    if (offset === undefined) {
      const start = zoneOffsetMs(day * DAY_MS, this.timeZone);
      const end = zoneOffsetMs((day + 1) * DAY_MS - 1, this.timeZone);
      offset = start === end ? start : Number.NaN;
      this.days.set(day, offset);
    }
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
    return `${new Date(instant + offset).toISOString().slice(0, 19)}${offsetText(offset, true)}`;
  }

  /** Shopify's export style: 2026-11-22 10:15:03 +0800. */
  shopify(instant: number): string {
    const offset = this.offset(instant);
    const wall = new Date(instant + offset).toISOString();
    return `${wall.slice(0, 10)} ${wall.slice(11, 19)} ${offsetText(offset, false)}`;
  }

  /** Local month 0-11 of `instant`. */
  month(instant: number): number {
    return new Date(instant + this.offset(instant)).getUTCMonth();
  }
}

function offsetText(offsetMs: number, colon: boolean): string {
  const minutes = Math.round(Math.abs(offsetMs) / 60_000);
  const sign = offsetMs < 0 ? '-' : '+';
  return `${sign}${pad2(Math.floor(minutes / 60))}${colon ? ':' : ''}${pad2(minutes % 60)}`;
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
