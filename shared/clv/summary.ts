/**
 * A client's repeat-purchase summary (x, t_x, T and the mean repeat order value) from their
 * order history: the input of the BG/NBD and Gamma-Gamma models.
 */

import type { OrderFact } from '#shared/model.ts';
import { addMinor } from '#shared/money.ts';
import { localDate, localDaysIn } from '#shared/time.ts';

export interface RfmSummary {
  /** x: number of repeat purchase days (distinct purchase days − 1). */
  frequency: number;
  /** t_x: time from the first to the last purchase day (0 when frequency is 0). */
  recency: number;
  /** T: time from the first purchase day to the last day of the calibration period. */
  T: number;
  /** Mean net value of the REPEAT purchase days, in minor units (0 when frequency is 0). */
  monetaryValue: number;
}

export type TimeUnit = 'days' | 'weeks';

/** Length of one model time unit in days. */
export const DAYS_PER_UNIT: Readonly<Record<TimeUnit, number>> = { days: 1, weeks: 7 };

export interface SummaryRules {
  unit: TimeUnit;
  /**
   * Whether an order whose net amount is 0 is a purchase (a transaction of the BG/NBD model).
   * True is the convention of the published models and of lifetimes, which count every
   * transaction in the log whatever its value; false is the suite's older rule (only orders with a
   * positive net amount are purchases). Either way an order taken back (every line cancelled or
   * refunded in full: OrderFact.takenBack) is no purchase: only kept orders of value 0 (a free
   * sample, a gift) are in question.
   */
  countZeroValueOrders: boolean;
}

/**
 * Summarises one client's orders as of `calibrationEnd` (exclusive), in `rules.unit`, in the
 * convention of lifetimes' `summary_data_from_transaction_data` (Fader, Hardie & Lee 2005):
 *
 * - Orders placed before `calibrationEnd` with a positive net amount are purchases; so are kept
 *   orders with a net of 0 when `rules.countZeroValueOrders` is true. An order taken back
 *   (cancelled or refunded in full) never is.
 * - Purchases are days, not orders: orders on the same local date in `timeZone` count once and
 *   their net amounts are summed (lifetimes' daily frequency: the models assume a purchase
 *   process in continuous time and cannot tell two baskets of one visit from two visits).
 * - frequency = repeat purchase days (distinct days − 1).
 * - Times are whole calendar days converted to the unit (weeks = days / 7): recency t_x from the
 *   first to the last purchase date; T from the first purchase date to the calibration end
 *   DATE, the local date of the last instant before `calibrationEnd`. `calibrationEnd` is
 *   exclusive, so with the nightly clock (the start of the day after the run date) that date is
 *   the run date itself, as lifetimes' `observation_period_end`: a client who first bought on the
 *   last day has T = 0, and t_x <= T always.
 * - monetaryValue = the mean of the repeat days' values, the first purchase day left out, zero-
 *   value days included when they count: what lifetimes gives the Gamma-Gamma model (Fader &
 *   Hardie 2013 fit it on repeat transactions). The Gamma-Gamma fit then leaves out clients whose
 *   mean is 0.
 *
 * Undefined when the client has no purchase before `calibrationEnd`.
 */
export function summarise(
  orders: readonly Pick<OrderFact, 'orderedAt' | 'netMinor' | 'takenBack'>[],
  calibrationEnd: number,
  rules: SummaryRules,
  timeZone: string,
): RfmSummary | undefined {
  const days = localDaysIn(timeZone);
  // Local days as day numbers, not date strings: a night summarises millions of orders.
  const byDay = new Map<number, number>();
  for (const order of orders) {
    // A zero-value order counts when it was kept (a free sample), never when it was taken back.
    const purchase = order.netMinor > 0 || (rules.countZeroValueOrders && order.netMinor === 0 && order.takenBack !== true);
    if (!purchase || !(order.orderedAt < calibrationEnd)) continue;
    const day = days.of(order.orderedAt);
    byDay.set(day, addMinor(byDay.get(day) ?? 0, order.netMinor, "a client's spend on one day"));
  }
  if (byDay.size === 0) return undefined;
  const purchaseDays = [...byDay.keys()].sort((a, b) => a - b);
  const first = purchaseDays[0] as number;
  const last = purchaseDays[purchaseDays.length - 1] as number;
  const perUnit = DAYS_PER_UNIT[rules.unit];
  const frequency = purchaseDays.length - 1;
  let repeatTotal = 0;
  for (let i = 1; i < purchaseDays.length; i++) repeatTotal = addMinor(repeatTotal, byDay.get(purchaseDays[i] as number) ?? 0, "a client's repeat spend");
  return {
    frequency,
    recency: (last - first) / perUnit,
    // The calibration end date (calibrationEndDate) as a day number.
    T: (days.of(calibrationEnd - 1) - first) / perUnit,
    monetaryValue: frequency > 0 ? repeatTotal / frequency : 0,
  };
}

/**
 * The last local date of a calibration period that ends (exclusive) at `calibrationEnd`: the
 * date T is measured to. With the nightly clock (runClock's `now`) it is the run date.
 */
export function calibrationEndDate(calibrationEnd: number, timeZone: string): string {
  return localDate(calibrationEnd - 1, timeZone);
}
