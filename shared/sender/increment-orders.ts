import type { ClientFacts, OrderFact } from '#shared/model.ts';
import { runClock } from '#shared/tiering/profile.ts';

/**
 * Which orders of an incremental export a stored profile has not counted yet, and which exports a
 * night has undone (pure). An order counts once, whoever brings it first:
 *  - the last nightly run counted every order of its snapshot dated before its cut-off (its clock,
 *    the start of the day after its run date; its start instead, for a night run before its day
 *    had ended): an increment that sends such an order again (an order updated today) adds nothing;
 *  - an order an increment counted is kept on the profile by id (incrementOrderIds) until the next
 *    night rewrites the profile: a second increment sending it adds nothing.
 * So an order sent again with other amounts (a refund) is not counted again either: the next night
 * counts it as it then stands. At most MAX_INCREMENT_ORDER_IDS ids are kept: past that, a client's
 * further orders of the day wait for the night.
 *
 * A night rewrites each profile from its snapshot, which leaves out the orders after its cut-off:
 * what an increment stamped after the cut-off merged before the night wrote is gone from the
 * profile. The ingest merges the orders of such an increment again once a night has written since
 * it merged it (needsRemerge); the ids and the cut-off keep the second merge from counting twice.
 */

/** Order ids kept per profile between two nights: bounds the item (ids are at most 256 characters). */
export const MAX_INCREMENT_ORDER_IDS = 100;

/** What the ingest reads of the newest nightly run's runs-table item: finished, writing, or stopped while writing. */
export interface NightMark {
  runDate: string;
  runId: string;
  status: string;
  /** ISO instant. */
  startedAt?: string;
  /** ISO instant of the night's clock as it recorded it (NightlyRunSummary.clockAt); absent from items written before. */
  clockAt?: string;
  /** ISO instant by which its snapshot was dumped (NightlyRunSummary.snapshotBy); absent from items written before. */
  snapshotBy?: string;
}

/** When the night (its latest attempt) began, or undefined when its item has no readable start. Its snapshot was dumped before. */
export function nightStartedAt(night: NightMark): number | undefined {
  const started = night.startedAt === undefined ? Number.NaN : Date.parse(night.startedAt);
  return Number.isFinite(started) ? started : undefined;
}

/**
 * Orders dated before this instant were counted by the night (for the clients of its snapshot). Its
 * clock as the night recorded it: the run date read in today's zone would move it after a change of
 * `timeZone` (an increment the night undid then looked counted); `timeZone` only for items without it.
 */
export function nightCutoff(night: NightMark, timeZone: string): number {
  const recorded = night.clockAt === undefined ? Number.NaN : Date.parse(night.clockAt);
  const clock = Number.isFinite(recorded) ? recorded : runClock(night.runDate, timeZone).now;
  const started = nightStartedAt(night);
  return started === undefined ? clock : Math.min(clock, started);
}

/** The night as an increment's marker records it: the same night writing again (a rerun, or finishing) is another. */
export function nightSeen(night: NightMark | undefined): string {
  return night === undefined ? 'none' : `${night.runDate}/${night.runId}/${night.status}`;
}

/**
 * Whether a merged increment's orders must be merged again: a night has written since it was
 * merged (or is writing), and the increment is stamped at or after that night's cut-off (an
 * earlier one only holds orders the night's snapshot counted).
 */
export function needsRemerge(merged: { nightSeen?: string }, stamp: number, night: NightMark | undefined, timeZone: string): boolean {
  if (night === undefined) return false;
  return merged.nightSeen !== nightSeen(night) && stamp >= nightCutoff(night, timeZone);
}

/** What a stored profile has counted, as far as an increment can tell. */
export interface CountedOrders {
  /** Orders dated before it were counted by the last night (nightCutoff); undefined before any night. */
  cutoff?: number;
  /** Orders counted by increments since the last night rewrote the profile. */
  ids: readonly string[];
}

/** An increment's orders that the profile has not counted, earliest first, at most as many as its id list has room for. */
export function ordersToCount(orders: readonly OrderFact[], counted: CountedOrders): OrderFact[] {
  const ids = new Set(counted.ids);
  const { cutoff } = counted;
  const fresh = orders.filter((order) => !ids.has(order.orderId) && (cutoff === undefined || order.orderedAt >= cutoff));
  fresh.sort((a, b) => a.orderedAt - b.orderedAt || (a.orderId < b.orderId ? -1 : a.orderId > b.orderId ? 1 : 0));
  return fresh.slice(0, Math.max(0, MAX_INCREMENT_ORDER_IDS - counted.ids.length));
}

/**
 * A client's facts with only `orders` (a subset of theirs) and the SKU purchases made with them.
 * A purchase carries its order's time only (client-columns.ts): it is kept when a kept order was
 * placed at that instant. Category totals are not kept per order: they stay as read (mergeIncrement
 * never carries an increment's top category onto a stored profile).
 */
export function factsWithOrders(facts: ClientFacts, orders: readonly OrderFact[]): ClientFacts {
  if (orders.length === facts.orders.length) return facts;
  const instants = new Set(orders.map((order) => order.orderedAt));
  const skus = facts.skus
    .map((sku) => ({ ...sku, purchases: sku.purchases.filter((purchase) => instants.has(purchase.orderedAt)) }))
    .filter((sku) => sku.purchases.length > 0);
  return { ...facts, orders: [...orders], skus };
}
