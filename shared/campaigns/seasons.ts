import type { ClientProfile } from '#shared/model.ts';
import { birthdayOccasionIn, localDate } from '#shared/time.ts';
import type { Season } from './vocabulary.ts';

/**
 * The brand's seasons in time (campaigns.seasons: a name and the day each starts, every year) and
 * what a client bought in one of them last year. Pure.
 *
 * A season runs from its start day to the next season's start day (the calendar wraps: with one
 * season, a year). "Last year's window" of the season in force on a day is that season's run one
 * year earlier: from last year's start of it to last year's start of the next.
 *
 * What the profile cannot see: it keeps one purchase per SKU, the last (SkuPurchase.lastPurchasedAt).
 * A SKU bought last season and again since counts as bought when it was last bought, so it is not
 * in last season's picks; a SKU returned in full drops out of the profile altogether.
 */

/** Local days [from, to) of one season's run. */
export interface SeasonWindow {
  season: string;
  /** Local YYYY-MM-DD, first day of the season. */
  from: string;
  /** Local YYYY-MM-DD, first day of the next season (exclusive). */
  to: string;
}

/** Every season start of the calendar in these years, in order. */
function startsIn(seasons: readonly Season[], years: readonly number[]): { season: string; day: string }[] {
  return years
    .flatMap((year) => seasons.flatMap((season) => {
      const day = birthdayOccasionIn(season.starts, year);
      return day === undefined ? [] : [{ season: season.name, day }];
    }))
    .sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : a.season < b.season ? -1 : 1));
}

/** The season in force on a local day (the latest start on or before it) and its run; undefined without seasons. */
export function seasonOn(seasons: readonly Season[], day: string): SeasonWindow | undefined {
  const year = Number(day.slice(0, 4));
  const starts = startsIn(seasons, [year - 1, year, year + 1]);
  let index = -1;
  starts.forEach((start, i) => {
    if (start.day <= day) index = i;
  });
  const current = starts[index];
  const next = starts[index + 1];
  return current === undefined || next === undefined ? undefined : { season: current.season, from: current.day, to: next.day };
}

/** The run one year earlier of the season in force on `day` (for a season-starts occasion: the season starting). */
export function lastYearWindow(seasons: readonly Season[], day: string): SeasonWindow | undefined {
  const now = seasonOn(seasons, day);
  if (now === undefined) return undefined;
  const season = seasons.find((s) => s.name === now.season);
  const from = season === undefined ? undefined : birthdayOccasionIn(season.starts, Number(now.from.slice(0, 4)) - 1);
  if (from === undefined) return undefined;
  const run = seasonOn(seasons, from);
  return run === undefined ? undefined : { season: now.season, from, to: run.to };
}

/**
 * The client's SKUs whose last purchase fell in the window (local days in the client's zone),
 * most recent first, then by SKU.
 */
export function boughtInWindow(profile: Pick<ClientProfile, 'skus'>, window: SeasonWindow, timeZone: string): { sku: string; productName?: string; category?: string }[] {
  const found: { sku: string; at: number; productName?: string; category?: string }[] = [];
  for (const [sku, purchase] of Object.entries(profile.skus)) {
    const at = Date.parse(purchase.lastPurchasedAt);
    if (!Number.isFinite(at)) continue;
    const day = localDate(at, timeZone);
    if (day < window.from || day >= window.to) continue;
    found.push({ sku, at, ...(purchase.productName === undefined ? {} : { productName: purchase.productName }), ...(purchase.category === undefined ? {} : { category: purchase.category }) });
  }
  return found
    .sort((a, b) => b.at - a.at || (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0))
    .map(({ at: _at, ...rest }) => rest);
}
