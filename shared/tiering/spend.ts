import type { OrderLine } from '#shared/model.ts';

/**
 * What counts as spend: the rules every figure of the suite sums (tiers, RFM, CLV, campaign
 * results), in integer minor units of the brand currency.
 */

/**
 * Net amount of one order line, in minor units, never negative:
 * - cancelled: 0 (nothing was paid);
 * - refunded with refundedMinor 0: 0 (exports mark a full refund by status alone);
 * - otherwise the line total minus what was refunded, a refund larger than the line counting
 *   as a full refund. A non-positive line total (the reader should reject it) counts as 0, so
 *   a bad row can never make spend negative.
 */
export function lineNetMinor(line: Pick<OrderLine, 'status' | 'lineTotalMinor' | 'refundedMinor'>): number {
  if (line.status === 'cancelled') return 0;
  if (line.status === 'refunded' && line.refundedMinor === 0) return 0;
  const total = line.lineTotalMinor;
  if (!(total > 0)) return 0;
  const refunded = Math.min(Math.max(line.refundedMinor, 0), total);
  return total - refunded;
}

/**
 * A line the client did not keep: cancelled, or refunded in full. A line of total 0 that was paid
 * (a free sample, a gift) was kept: its order is a zero-value purchase, not a taken-back one.
 */
export function lineTakenBack(line: Pick<OrderLine, 'status' | 'lineTotalMinor' | 'refundedMinor'>): boolean {
  if (line.status === 'cancelled') return true;
  if (line.status === 'refunded' && line.refundedMinor === 0) return true;
  return line.lineTotalMinor > 0 && lineNetMinor(line) === 0;
}

/** An order is a purchase when its net amount (its lines' lineNetMinor summed) is positive: refunded and cancelled orders are not. */
export function countsAsPurchase(order: { netMinor: number }): boolean {
  return order.netMinor > 0;
}
