/**
 * A client's repeat-purchase summary (x, t_x, T and the mean repeat order value) from their
 * order history: the input of the BG/NBD and Gamma-Gamma models.
 */

import { addMinor } from '#shared/money.ts';
import { daysBetweenDates, localDate } from '#shared/time.ts';

export interface RfmSummary {
  /** x: number of repeat purchase days (distinct purchase days − 1). */
  frequency: number;
  /** t_x: time from the first to the last purchase day (0 when frequency is 0). */
  recency: number;
  /** T: time from the first purchase day to the end of the calibration period. */
  T: number;
  /** Mean net value of the REPEAT purchase days, in minor units (0 when frequency is 0). */
  monetaryValue: number;
}

export type TimeUnit = 'days' | 'weeks';

/** Length of one model time unit in days. */
export const DAYS_PER_UNIT: Readonly<Record<TimeUnit, number>> = { days: 1, weeks: 7 };

/**
 * Summarises one client's orders as of `calibrationEnd` (exclusive), in `unit`.
 *
 * - Only orders with a positive net amount placed before `calibrationEnd` count (a cancelled or
 *   fully refunded order is not a purchase).
 * - Purchases are days, not orders: orders on the same local date in `timeZone` count once and
 *   their net amounts are summed (the models assume a purchase process in continuous time and
 *   cannot tell two baskets of one visit from two visits).
 * - Times are whole calendar days converted to the unit (weeks = days / 7): t_x from the first
 *   to the last purchase date, T from the first purchase date to the local date of
 *   `calibrationEnd` (the convention of the lifetimes library, so t_x <= T always).
 * - monetaryValue is the mean of the repeat days' values, excluding the first purchase day, as
 *   the Gamma-Gamma model is fitted on repeat transactions (Fader & Hardie 2013).
 *
 * Undefined when the client has no purchase before `calibrationEnd`.
 */
export function summarise(
  orders: readonly { orderedAt: number; netMinor: number }[],
  calibrationEnd: number,
  unit: TimeUnit,
  timeZone: string,
): RfmSummary | undefined {
  const byDate = new Map<string, number>();
  for (const order of orders) {
    if (!(order.netMinor > 0) || !(order.orderedAt < calibrationEnd)) continue;
    const date = localDate(order.orderedAt, timeZone);
    byDate.set(date, addMinor(byDate.get(date) ?? 0, order.netMinor, "a client's spend on one day"));
  }
  if (byDate.size === 0) return undefined;
  const dates = [...byDate.keys()].sort();
  const first = dates[0] as string;
  const last = dates[dates.length - 1] as string;
  const perUnit = DAYS_PER_UNIT[unit];
  const frequency = dates.length - 1;
  let repeatTotal = 0;
  for (let i = 1; i < dates.length; i++) repeatTotal = addMinor(repeatTotal, byDate.get(dates[i] as string) ?? 0, "a client's repeat spend");
  return {
    frequency,
    recency: daysBetweenDates(first, last) / perUnit,
    T: daysBetweenDates(first, localDate(calibrationEnd, timeZone)) / perUnit,
    monetaryValue: frequency > 0 ? repeatTotal / frequency : 0,
  };
}
