import { replenishmentLeadDays, runOutReminderLeadDays } from '#shared/campaigns/schema.ts';
import type { Config } from '#shared/config.ts';
import { catalogCycleDays, firstPurchaseOf, type ClientFacts, type ClientOrders, type ClientProfile, type ProductRecord, type RfmScores, type SkuPurchase, type Tier } from '#shared/model.ts';
import { addMinor } from '#shared/money.ts';
import { addDays, addYears, daysBetweenDates, isIsoDate, isoInstant, localDate, localDaysIn, startOfLocalDay, timeZoneOr, type LocalDays } from '#shared/time.ts';
import { medianDayGap, medianOfSorted, stageFor } from './lifecycle.ts';
import { rfmReference, rfmReferenceOf, rfmScoreAgainst, RfmMeasureColumns, type RfmInput, type RfmReference } from './rfm.ts';
import { rfmSegmentOf, type RfmSegmentRule } from '#shared/segments/rfm-segments.ts';
import { countsAsPurchase } from './spend.ts';
import { Column } from './chunked-column.ts';
import { fnv1a32 } from '#shared/text-hash.ts';
import { cyclesInForce, cyclesOfTonight, type CycleHistory, type CyclesInForce } from './cycle-history.ts';
import { tierFor, tierThresholdsMinor, type TierThresholdsMinor } from './tiers.ts';

/** Profiles keep the most recently bought SKUs only: enough for replenishment, bounded in size. */
export const MAX_SKUS_PER_PROFILE = 50;

export interface TieringContext {
  /** YYYY-MM-DD in the brand time zone: the run sees everything up to the end of this day. */
  runDate: string;
  config: Config;
  /**
   * The zone a client's stock-ups and personal cycles are counted in, where the caller knows it
   * better than the facts' customer row (the hourly merge: the zone the merged profile keeps).
   * By default the customer row's; the brand's when there is none (timeZoneOr).
   */
  stockUpTimeZoneOf?: (facts: ClientFacts) => string | undefined;
  /**
   * The products by SKU, as the campaigns read them (the night's products export, else the stored
   * catalogue): a SKU's catalogue cycle is the one in force until the client has a personal one,
   * and a stock-up begun in its reminder window teaches no cycle (promptedByCycleInForce).
   */
  catalog?: SkuCatalog;
  /**
   * What timed the reminders on the nights before (the stored cycle history): a stock-up is judged
   * by the cycle and window in force when it began, not by tonight's. Without it, tonight's.
   */
  cycleHistory?: CycleHistory;
  /**
   * The last completed night's run date, for the guards' measures (rfmMeasures): each client's tier
   * also as tonight's orders place them in that night's 12-month window
   * (ClientTierMeasure.tierInLastNightsWindow), so that a drop the window's moving alone explains
   * is told apart from one the export's orders cause.
   */
  lastNight?: string;
}

/** The products by SKU, as far as the stock-ups read them. A Map<string, ProductRecord> is one. */
export interface SkuCatalog {
  get(sku: string): Pick<ProductRecord, 'replenishDays'> | undefined;
}

export interface RunClock {
  /** Start of the local day after runDate: instants at or after it have not happened yet. */
  now: number;
  /** Start of the trailing-12-month window, which is [windowStart, now). */
  windowStart: number;
}

/**
 * The run's clock. The 12-month window is the 365 (366) local calendar days ending with
 * runDate: it starts the day after runDate's date one year earlier (2025-06-15 →
 * [2024-06-16 00:00, 2025-06-16 00:00) local; a run on Feb 29 starts the window on Mar 1).
 */
export function runClock(runDate: string, timeZone: string): RunClock {
  if (!isIsoDate(runDate)) throw new RangeError(`runDate must be a YYYY-MM-DD date, got "${runDate}"`);
  return {
    now: startOfLocalDay(addDays(runDate, 1), timeZone),
    windowStart: startOfLocalDay(addDays(addYears(runDate, -1), 1), timeZone),
  };
}

/** The night's clock as a night records it in the runs table (clockAt): the hour reads it instead of the run date in a zone the brand may have moved since. */
export function runClockAt(runDate: string, timeZone: string): string {
  return isoInstant(runClock(runDate, timeZone).now);
}

interface Environment extends RunClock {
  runDate: string;
  /** Day number of runDate (see LocalDays). */
  runDay: number;
  /** The brand's days: orders, recency, reorder gap and stage (README: the rules). */
  days: LocalDays;
  /** The brand's zone. */
  timeZone: string;
  stockUpTimeZoneOf: (facts: ClientFacts) => string | undefined;
  currency: string;
  thresholds: TierThresholdsMinor;
  lifecycle: Config['lifecycle'];
  rfmSegments: readonly RfmSegmentRule[];
  /** A SKU's catalogue cycle per unit, the answer window's days and the stock-ups' grouping on a day (cycle-history.ts). */
  cycles: CyclesInForce;
  /** The start of the last completed night's 12-month window, when earlier than tonight's (TieringContext.lastNight). */
  lastWindowStart?: number;
}

function environment(context: TieringContext): Environment {
  const { runDate, config } = context;
  return {
    ...runClock(runDate, config.timeZone),
    runDate,
    runDay: daysBetweenDates('1970-01-01', runDate),
    days: localDaysIn(config.timeZone),
    timeZone: config.timeZone,
    stockUpTimeZoneOf: context.stockUpTimeZoneOf ?? ((facts) => facts.customer?.timeZone),
    currency: config.currency,
    thresholds: tierThresholdsMinor(config),
    lifecycle: config.lifecycle,
    rfmSegments: config.rfmSegments,
    cycles: cyclesOf(context),
    ...lastWindowStartOf(context),
  };
}

function lastWindowStartOf({ lastNight, runDate, config }: TieringContext): Pick<Environment, 'lastWindowStart'> {
  if (lastNight === undefined || lastNight >= runDate) return {};
  return { lastWindowStart: runClock(lastNight, config.timeZone).windowStart };
}

/** The cycles a stock-up is judged by: the history's where it reaches, tonight's catalogue and leads elsewhere. */
function cyclesOf(context: TieringContext): CyclesInForce {
  const tonight = {
    catalogCycleOf: (sku: string) => catalogCycleDays(context.catalog?.get(sku)),
    answerDays: runOutReminderLeadDays(context.config.campaigns),
    stockUpDays: replenishmentLeadDays(context.config.campaigns),
  };
  return context.cycleHistory === undefined ? cyclesOfTonight(tonight) : cyclesInForce(context.cycleHistory, context.runDate, tonight);
}

interface OrderSummary {
  /** Orders before now with a positive net amount. */
  orderCount: number;
  lifetimeSpendMinor: number;
  spend12mMinor: number;
  /** Net spend of the orders in [Environment.lastWindowStart, windowStart): those that left the 12-month window since the last night. */
  spendLeftWindowMinor?: number;
  firstOrderAt?: number;
  lastOrderAt?: number;
  /** Distinct local day numbers of counted orders, sorted. */
  orderDays: number[];
}

/** Orders at or after `now` are ignored; an order counts as a purchase when its net is > 0. */
function summariseOrders(facts: ClientOrders, env: Environment): OrderSummary {
  const summary: OrderSummary = { orderCount: 0, lifetimeSpendMinor: 0, spend12mMinor: 0, orderDays: [] };
  const days = new Set<number>();
  for (const order of facts.orders) {
    if (!(order.orderedAt < env.now)) continue;
    summary.lifetimeSpendMinor = addMinor(summary.lifetimeSpendMinor, order.netMinor, "a client's lifetime spend");
    if (order.orderedAt >= env.windowStart) summary.spend12mMinor = addMinor(summary.spend12mMinor, order.netMinor, "a client's 12-month spend");
    else if (env.lastWindowStart !== undefined && order.orderedAt >= env.lastWindowStart) summary.spendLeftWindowMinor = addMinor(summary.spendLeftWindowMinor ?? 0, order.netMinor, "a client's 12-month spend");
    if (!countsAsPurchase(order)) continue;
    summary.orderCount += 1;
    if (summary.firstOrderAt === undefined || order.orderedAt < summary.firstOrderAt) summary.firstOrderAt = order.orderedAt;
    if (summary.lastOrderAt === undefined || order.orderedAt > summary.lastOrderAt) summary.lastOrderAt = order.orderedAt;
    days.add(env.days.of(order.orderedAt));
  }
  summary.orderDays = [...days].sort((a, b) => a - b);
  return summary;
}

/**
 * A client the run cannot know yet: signed up after its clock, with no order before it. An export
 * dropped at 04:00 holds the first hours of the next day, and a backfill may read a later
 * snapshot; such clients belong to a later night, not to this one as prospects.
 */
function knownBy(facts: ClientOrders, env: Environment): boolean {
  if (facts.orders.some((order) => order.orderedAt < env.now)) return true;
  const signedUpAt = facts.customer?.signedUpAt;
  return facts.customer !== undefined && (signedUpAt === undefined || signedUpAt < env.now);
}

function rfmInputOf(summary: OrderSummary, env: Environment): RfmInput | undefined {
  const lastDay = summary.orderDays[summary.orderDays.length - 1];
  if (lastDay === undefined) return undefined;
  return {
    daysSinceLast: env.runDay - lastDay,
    orderCount: summary.orderCount,
    spend12mMinor: summary.spend12mMinor,
  };
}


function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Category with the highest lifetime net spend (ties: alphabetical); none without spend. */
function topCategoryOf(categorySpendMinor: Record<string, number>): string | undefined {
  let top: string | undefined;
  let topSpend = 0;
  for (const [category, spend] of Object.entries(categorySpendMinor)) {
    if (spend > topSpend || (spend === topSpend && top !== undefined && category < top)) {
      top = category;
      topSpend = spend;
    }
  }
  return top;
}

/**
 * Last purchase of each SKU and how long a unit of it lasts the client. Purchase days (the
 * client's local days, the zone runOutDay counts the run-out in) closer together than the
 * reminder's lead time in force on the later one's day (env.cycles) are one stock-up, its units summed (a second tube the
 * next day is not a 1-day cycle). The personal cycle is per unit: the median over consecutive
 * stock-ups of the days between their first days over the units of the earlier one (2+ stock-ups),
 * leaving out a stock-up begun in the reminder window of the cycle then in force (promptedByCycleInForce).
 * quantity is the units of the last stock-up, stockUpFrom its first purchase when that was on an
 * earlier day; purchases counts distinct days; firstPurchasedAt the first purchase ever where the
 * stock-up's start is not it (withFirstPurchase). Only the MAX_SKUS_PER_PROFILE most recently
 * bought SKUs are kept (ties: SKU order); the record lists them most recent first.
 */
function skuPurchasesOf(facts: ClientFacts, env: Environment): Record<string, SkuPurchase> {
  const rows: SkuStockUps[] = [];
  // The client's own days, as runOutDay counts the run-out (campaigns/triggers.ts): one cached LocalDays per zone.
  const zone = env.stockUpTimeZoneOf(facts);
  const days = zone === undefined ? env.days : localDaysIn(timeZoneOr(zone, env.timeZone));
  for (const sku of facts.skus) {
    const row = skuStockUpsOf(sku, env, days);
    if (row !== undefined) rows.push(row);
  }
  rows.sort((a, b) => b.lastAt - a.lastAt || compareStrings(a.sku.sku, b.sku.sku));
  // A dictionary from the start: an object literal grown key by key (or Object.fromEntries) gets a
  // V8 hidden class per set of SKU names, ~70 MB of old-space garbage a 250,000-client pass at 1M;
  // and a SKU never bought reads undefined, even one named "toString".
  const skus = Object.create(null) as Record<string, SkuPurchase>;
  for (const row of rows.slice(0, MAX_SKUS_PER_PROFILE)) {
    const { sku, lastAt } = row;
    const purchase: SkuPurchase = {
      lastPurchasedAt: isoInstant(lastAt),
      quantity: row.units,
      purchases: row.purchaseDays,
    };
    if (sku.productName !== undefined) purchase.productName = sku.productName;
    if (sku.category !== undefined) purchase.category = sku.category;
    if (row.lastDay > row.firstDay) purchase.stockUpFrom = isoInstant(row.firstAt);
    // What the first order bought, once the SKU was bought again (the same day, or in a later stock-up).
    if (row.firstEverAt !== (row.lastDay > row.firstDay ? row.firstAt : lastAt)) purchase.firstPurchasedAt = isoInstant(row.firstEverAt);
    const cycle = medianOf(row.unitCycles);
    if (cycle !== undefined) purchase.personalCycleDays = cycle;
    skus[sku.sku] = purchase;
  }
  return skus;
}

/** How the night groups one client's purchases of a SKU into stock-ups (skuPurchasesOf): days in the client's zone, closer than the reminder's lead. */
export interface StockUpRule {
  stockUpDays: number;
  /** The client's zone (the one runOutDay counts in), the brand's when they have none. */
  timeZone: string;
  /** The products, whose catalogue cycles are in force before a personal one (TieringContext.catalog; withLaterPurchase reads them). */
  catalog?: SkuCatalog;
  /** Days before a run-out a stock-up may be a reminder answered (runOutReminderLeadDays). */
  answerDays: number;
}

/** The stock-up rule of this configuration for a client in `clientTimeZone` (the brand's zone when missing or unknown). */
export function stockUpRuleOf(config: Pick<Config, 'campaigns' | 'timeZone'>, clientTimeZone?: string, catalog?: SkuCatalog): StockUpRule {
  return {
    stockUpDays: replenishmentLeadDays(config.campaigns),
    timeZone: timeZoneOr(clientTimeZone, config.timeZone),
    answerDays: runOutReminderLeadDays(config.campaigns),
    ...(catalog === undefined ? {} : { catalog }),
  };
}

/**
 * Whether a stock-up begun `daysSinceStart` days after the first day of the one before (of `units`)
 * came in that one's reminder window under the cycle then in force (`perUnit`: the client's
 * personal cycle so far, else the catalogue's): from run-out − `leadDays` (the longest lead of the
 * run-out reminders, runOutReminderLeadDays) to the day before the run-out, as runOutDay times the
 * reminders (campaigns/triggers.ts). Such a purchase answers the
 * reminder, or comes on time: it says nothing new of how long a unit lasts, and taken for a cycle it
 * shortens the cycle by up to the lead each time (a 30-day cream reminded on day 15 and bought
 * again on day 16 made a 16-day cycle, and "time to restock" the next morning). Pure.
 */
export function promptedByCycleInForce(daysSinceStart: number, units: number, perUnit: number | undefined, leadDays: number): boolean {
  return remindedBetween(daysSinceStart, daysSinceStart, daysSinceStart, units, perUnit, leadDays);
}

/**
 * The purchase with `firstAt` as its first purchase ever, stored only where its stock-up's start
 * (`stockUpFrom ?? lastPurchasedAt`) does not already say it: a SKU bought in one stock-up, on its
 * first day once, keeps the shape profiles had before the field (SkuPurchase.firstPurchasedAt).
 */
export function withFirstPurchase(purchase: SkuPurchase, firstAt: string): SkuPurchase {
  const { firstPurchasedAt: _stored, ...rest } = purchase;
  return Date.parse(firstAt) === Date.parse(rest.stockUpFrom ?? rest.lastPurchasedAt) ? rest : { ...rest, firstPurchasedAt: firstAt };
}

/**
 * A stored SKU purchase moved forward by an increment's later one (pure), grouped as the night
 * groups them (skuPurchasesOf, addPurchaseDay): a purchase day closer to the stored last one than the reminder's
 * lead extends the stored stock-up (its units added, from its first purchase: a second unit the
 * next day stretches the run-out, never brings the reminder earlier, and the reminder stays keyed
 * by the stock-up's last purchase as the night keys it); a later one starts a stock-up of its own,
 * and its gap over the stored one's units is the client's cycle when the night had none yet (one
 * stock-up before), unless it began in the reminder window of `sku`'s cycle in the rule's catalogue
 * (promptedByCycleInForce). Until the night regroups them, a cycle the night took as
 * a median stays. The first purchase ever is the earlier of the two (the stored one, but for a late order).
 */
export function withLaterPurchase(sku: string, before: SkuPurchase, purchase: SkuPurchase, rule: StockUpRule): SkuPurchase {
  const storedFirst = firstPurchaseOf(before);
  const incrementFirst = firstPurchaseOf(purchase);
  const catalogCycle = catalogCycleDays(rule.catalog?.get(sku));
  return withFirstPurchase(laterStockUp(before, purchase, rule, catalogCycle), Date.parse(incrementFirst) < Date.parse(storedFirst) ? incrementFirst : storedFirst);
}

/** withLaterPurchase's stock-up, units, purchase days and cycle; its first purchase ever is the caller's. */
function laterStockUp(before: SkuPurchase, purchase: SkuPurchase, rule: StockUpRule, catalogCycle: number | undefined): SkuPurchase {
  const day = (iso: string) => localDate(Date.parse(iso), rule.timeZone);
  // A stock-up's first purchase: of one day, its first purchase ever when that was the same day (else the profile keeps only its last).
  const startOf = (p: SkuPurchase) => p.stockUpFrom ?? (p.firstPurchasedAt !== undefined && day(p.firstPurchasedAt) === day(p.lastPurchasedAt) ? p.firstPurchasedAt : p.lastPurchasedAt);
  const storedFrom = startOf(before);
  const incrementFrom = startOf(purchase);
  const gap = daysBetweenDates(day(before.lastPurchasedAt), day(incrementFrom));
  // Distinct days: the increment's first day may be the stored last one.
  const purchases = before.purchases + purchase.purchases - (gap === 0 ? 1 : 0);
  const { stockUpFrom: _storedFrom, personalCycleDays: storedCycle, ...kept } = before;
  if (gap < rule.stockUpDays) {
    const from = storedFrom < incrementFrom ? storedFrom : incrementFrom;
    // The stock-up's start and cycle are the stored ones (the increment's own are of its lines alone).
    const { stockUpFrom: _incrementFrom, personalCycleDays: _incrementCycle, ...latest } = purchase;
    return {
      ...kept,
      ...latest,
      quantity: before.quantity + purchase.quantity,
      purchases,
      ...(day(from) < day(purchase.lastPurchasedAt) ? { stockUpFrom: from } : {}),
      ...(storedCycle === undefined ? {} : { personalCycleDays: storedCycle }),
    };
  }
  const since = daysBetweenDates(day(storedFrom), day(incrementFrom));
  const cycle = storedCycle ?? (promptedByCycleInForce(since, before.quantity, catalogCycle, rule.answerDays) ? undefined : medianOf([since / Math.max(1, before.quantity)]));
  return { ...kept, ...purchase, purchases, ...(cycle === undefined ? {} : { personalCycleDays: cycle }) };
}

/** A SKU's purchases before now, read day by day in time order into stock-ups (addPurchaseDay). */
interface SkuStockUps {
  sku: ClientFacts['skus'][number];
  /** The last purchase before now. */
  lastAt: number;
  /** Distinct local days with purchases before now, and the last of them. */
  purchaseDays: number;
  lastDay: number;
  /** The first purchase ever (of the first stock-up's first day). */
  firstEverAt: number;
  /** The current (last) stock-up: its first purchase, first day and units. */
  firstAt: number;
  firstDay: number;
  units: number;
  /** Days per unit between consecutive stock-ups so far; undefined until there are two. */
  unitCycles: number[] | undefined;
}

function noStockUps(sku: ClientFacts['skus'][number]): SkuStockUps {
  const none = Number.NEGATIVE_INFINITY;
  return { sku, lastAt: none, purchaseDays: 0, lastDay: none, firstEverAt: none, firstAt: none, firstDay: none, units: 0, unitCycles: undefined };
}

/** One more purchase day, later than any before (`at`: its last purchase, `firstAt`: its first). */
function addPurchaseDay(row: SkuStockUps, day: number, firstAt: number, at: number, quantity: number, env: Pick<Environment, 'cycles'>): void {
  // Grouped by the lead in force on the day she bought: a lead changed since does not split a stock-up in two.
  if (row.purchaseDays > 0 && day - row.lastDay < env.cycles.stockUpDaysOn(day)) {
    row.units += quantity;
  } else {
    if (row.purchaseDays === 0) row.firstEverAt = firstAt;
    // A new stock-up: the one before lasted (its first day to this one's) over its units, unless
    // this one began in its reminder window under the cycle then in force.
    else if (!answeredReminder(row, day, env.cycles)) {
      (row.unitCycles ??= []).push((day - row.firstDay) / Math.max(1, row.units));
    }
    row.firstAt = firstAt;
    row.firstDay = day;
    row.units = quantity;
  }
  row.purchaseDays++;
  row.lastDay = day;
  row.lastAt = at;
}

/**
 * Whether a stock-up begun on `day` answered a run-out reminder of the one before (`row`'s): it
 * began in that one's reminder window under the cycle in force on its day (promptedByCycleInForce),
 * or before the run-out of a reminder due on an earlier day under the values in force then. The
 * values change when a night records a catalogue or lead change (the cycle history): a client
 * reminded under the old cycle who restocks after that night answered the old reminder, though the
 * new cycle's window may not have begun. The day a change took effect counts under both: the night
 * that made it ran during it (hours after a client east of the brand began hers). The client's
 * personal cycle so far, when she has one, is the cycle in force throughout.
 */
function answeredReminder(row: SkuStockUps, day: number, cycles: CyclesInForce): boolean {
  const sku = row.sku.sku;
  const personal = medianOf(row.unitCycles);
  const since = day - row.firstDay;
  if (promptedByCycleInForce(since, row.units, personal ?? cycles.catalogCycleOn(sku, day), cycles.answerDaysOn(day))) return true;
  let from = row.firstDay;
  for (const change of cycles.changeDaysBetween(sku, row.firstDay, day)) {
    if (remindedBetween(from - row.firstDay, change - row.firstDay, since, row.units, personal ?? cycles.catalogCycleOn(sku, from), cycles.answerDaysOn(from))) return true;
    from = change;
  }
  return false;
}

/**
 * Whether a run-out reminder of a stock-up of `units` (`perUnit` days each, reminders `leadDays`
 * ahead) was due on a day `earliest` to `latest` days after it began, and a stock-up begun `since`
 * days after it (on or after that day) came before its run-out.
 */
function remindedBetween(earliest: number, latest: number, since: number, units: number, perUnit: number | undefined, leadDays: number): boolean {
  if (perUnit === undefined) return false;
  const runOut = Math.round(perUnit * Math.max(1, units));
  return since < runOut && Math.max(earliest, runOut - leadDays) <= Math.min(latest, since, runOut - 1);
}

/** A SKU's stock-ups before now, in the client's `days`; undefined when it has no purchase. */
function skuStockUpsOf(sku: ClientFacts['skus'][number], env: Environment, days: LocalDays): SkuStockUps | undefined {
  // Purchases come in time order from the aggregator, so days do too: one pass, no map. Any
  // other order (or a day going back, at a midnight DST transition) takes the general way.
  const row = noStockUps(sku);
  let day = Number.NEGATIVE_INFINITY;
  let dayFirstAt = 0;
  let dayLastAt = Number.NEGATIVE_INFINITY;
  let dayQuantity = 0;
  for (const purchase of sku.purchases) {
    if (!(purchase.orderedAt < env.now)) continue;
    const purchaseDay = days.of(purchase.orderedAt);
    if (purchase.orderedAt < dayLastAt || purchaseDay < day) return skuStockUpsByMap(sku, env, days);
    if (purchaseDay !== day) {
      if (dayLastAt !== Number.NEGATIVE_INFINITY) addPurchaseDay(row, day, dayFirstAt, dayLastAt, dayQuantity, env);
      day = purchaseDay;
      dayFirstAt = purchase.orderedAt;
      dayQuantity = 0;
    }
    dayQuantity += purchase.quantity;
    dayLastAt = purchase.orderedAt;
  }
  if (dayLastAt === Number.NEGATIVE_INFINITY) return undefined;
  addPurchaseDay(row, day, dayFirstAt, dayLastAt, dayQuantity, env);
  return row;
}

function skuStockUpsByMap(sku: ClientFacts['skus'][number], env: Environment, days: LocalDays): SkuStockUps | undefined {
  const byDay = new Map<number, { firstAt: number; lastAt: number; quantity: number }>();
  for (const purchase of sku.purchases) {
    if (!(purchase.orderedAt < env.now)) continue;
    const day = days.of(purchase.orderedAt);
    const known = byDay.get(day);
    if (known === undefined) byDay.set(day, { firstAt: purchase.orderedAt, lastAt: purchase.orderedAt, quantity: purchase.quantity });
    else {
      known.firstAt = Math.min(known.firstAt, purchase.orderedAt);
      known.lastAt = Math.max(known.lastAt, purchase.orderedAt);
      known.quantity += purchase.quantity;
    }
  }
  if (byDay.size === 0) return undefined;
  const row = noStockUps(sku);
  for (const day of [...byDay.keys()].sort((a, b) => a - b)) {
    const { firstAt, lastAt, quantity } = byDay.get(day) as { firstAt: number; lastAt: number; quantity: number };
    addPurchaseDay(row, day, firstAt, lastAt, quantity, env);
  }
  return row;
}

/** The median, to a tenth of a day (a profile does not change for noise); undefined when empty. */
function medianOf(values: number[] | undefined): number | undefined {
  if (values === undefined || values.length === 0) return undefined;
  return Math.round(medianOfSorted(values.sort((a, b) => a - b)) * 10) / 10;
}

/** Everything but the RFM scores, which need the whole buyer base. */
function profileOf(facts: ClientFacts, summary: OrderSummary, env: Environment): ClientProfile {
  const customer = facts.customer;
  const hasPurchased = summary.orderCount > 0;
  const firstDay = summary.orderDays[0];
  const lastDay = summary.orderDays[summary.orderDays.length - 1];
  const usualReorderGapDays = medianDayGap(summary.orderDays);
  const stage = stageFor(
    {
      hasPurchased,
      daysSinceFirst: firstDay === undefined ? 0 : env.runDay - firstDay,
      daysSinceLast: lastDay === undefined ? 0 : env.runDay - lastDay,
      ...(usualReorderGapDays === undefined ? {} : { usualReorderGapDays }),
    },
    env.lifecycle,
  );

  const profile: ClientProfile = {
    customerId: facts.customerId,
    ...(customer?.acceptsMarketing !== undefined ? { acceptsMarketing: customer.acceptsMarketing } : {}),
    tier: tierFor(summary.spend12mMinor, hasPurchased, env.thresholds),
    stage,
    spend12mMinor: summary.spend12mMinor,
    lifetimeSpendMinor: summary.lifetimeSpendMinor,
    currency: env.currency,
    orderCount: summary.orderCount,
    skus: skuPurchasesOf(facts, env),
  };
  // Optional fields are left out rather than set to undefined (DynamoDB marshalling refuses undefined).
  const email = customer?.email ?? facts.email;
  if (email !== undefined) profile.email = email;
  if (customer) {
    const { firstName, lastName, locale, timeZone, birthday, advisorId, signedUpAt } = customer;
    if (firstName !== undefined) profile.firstName = firstName;
    if (lastName !== undefined) profile.lastName = lastName;
    if (locale !== undefined) profile.locale = locale;
    if (timeZone !== undefined) profile.timeZone = timeZone;
    if (birthday !== undefined) profile.birthday = birthday;
    if (advisorId !== undefined) profile.advisorId = advisorId;
    if (signedUpAt !== undefined && Number.isFinite(signedUpAt)) profile.signedUpAt = isoInstant(signedUpAt);
  }
  if (summary.firstOrderAt !== undefined) profile.firstOrderAt = isoInstant(summary.firstOrderAt);
  if (summary.lastOrderAt !== undefined) profile.lastOrderAt = isoInstant(summary.lastOrderAt);
  if (usualReorderGapDays !== undefined) profile.usualReorderGapDays = usualReorderGapDays;
  const topCategory = topCategoryOf(facts.categorySpendMinor);
  if (topCategory !== undefined) profile.topCategory = topCategory;
  return profile;
}

/** A buyer's R, F and M scores against the base, with the segment they name. */
function scoredWithSegment(reference: RfmReference, input: RfmInput, env: Environment): RfmScores {
  const scores = rfmScoreAgainst(reference, input);
  // Set on the fresh object: no second object per buyer on a night of a million.
  scores.segment = rfmSegmentOf(scores, env.rfmSegments);
  return scores;
}

export interface ProfileOptions {
  /**
   * The buyer base RFM is scored against. By default the buyers among the clients passed; a
   * sharded run passes the whole base's reference so that each shard scores like a single run.
   */
  rfmReference?: RfmReference;
  /**
   * streamProfiles only: each profile passes through this with its client's facts before it is
   * yielded (the nightly run puts the CLV prediction on it there, the facts being at hand).
   */
  finish?: (profile: ClientProfile, facts: ClientFacts) => ClientProfile;
  /**
   * streamProfiles without a reference only: the first pass (the RFM measures) reads these, the
   * same clients in the same order as `source` with their orders only (ClientAggregator.clientOrders).
   */
  measureSource?: () => Iterable<ClientOrders>;
}

/** What the nightly guards read of each client before any profile is built: their tier tonight, 12-month spend and last order. */
export interface ClientTierMeasure {
  customerId: string;
  tier: Tier;
  spend12mMinor: number;
  /** As on the profile: counted orders before the run's clock. */
  orderCount: number;
  /** Epoch ms of the last counted order; absent without one. */
  lastOrderAt?: number;
  /** Days from the last counted order's local date to the run date, as the stage rules count them; absent without an order. */
  daysSinceLast?: number;
  /**
   * The net spend of their orders that left the 12-month window since the last completed night
   * (TieringContext.lastNight; absent when none did), and their tier with those orders still
   * counted (absent when it is `tier`): a sale day a year ago lowers `tier` and the 12-month
   * revenue without anything lost from the export.
   */
  spendLeftWindowMinor?: number;
  tierInLastNightsWindow?: Tier;
}

function tierMeasureOf(customerId: string, summary: OrderSummary, env: Environment): ClientTierMeasure {
  const measure: ClientTierMeasure = {
    customerId,
    tier: tierFor(summary.spend12mMinor, summary.orderCount > 0, env.thresholds),
    spend12mMinor: summary.spend12mMinor,
    orderCount: summary.orderCount,
  };
  const lastDay = summary.orderDays[summary.orderDays.length - 1];
  if (summary.lastOrderAt !== undefined) measure.lastOrderAt = summary.lastOrderAt;
  if (lastDay !== undefined) measure.daysSinceLast = env.runDay - lastDay;
  if (summary.spendLeftWindowMinor !== undefined) {
    measure.spendLeftWindowMinor = summary.spendLeftWindowMinor;
    const tier = tierFor(addMinor(summary.spend12mMinor, summary.spendLeftWindowMinor, "a client's 12-month spend"), summary.orderCount > 0, env.thresholds);
    if (tier !== measure.tier) measure.tierInLastNightsWindow = tier;
  }
  return measure;
}

/**
 * The RFM measures of every buyer among `clients` (what a sharded run merges into one reference);
 * `visit` sees every known client's tier on the way, in the same pass.
 */
export function rfmMeasures(clients: Iterable<ClientOrders>, context: TieringContext, visit?: (client: ClientTierMeasure) => void): RfmMeasureColumns {
  const env = environment(context);
  const inputs = new RfmMeasureColumns();
  for (const facts of clients) {
    if (!knownBy(facts, env)) continue;
    const summary = summariseOrders(facts, env);
    visit?.(tierMeasureOf(facts.customerId, summary, env));
    const input = rfmInputOf(summary, env);
    if (input) inputs.add(input);
  }
  return inputs;
}

/**
 * Profiles of all clients, sorted by customerId. RFM is scored over the buyers in `clients`
 * unless a reference is given. Holds every profile in memory; streamProfiles avoids that when
 * the source can be re-read.
 */
export function computeProfiles(clients: Iterable<ClientFacts>, context: TieringContext, options: ProfileOptions = {}): ClientProfile[] {
  const env = environment(context);
  const profiles: ClientProfile[] = [];
  const buyers: ClientProfile[] = [];
  const inputs: RfmInput[] = [];
  for (const facts of clients) {
    if (!knownBy(facts, env)) continue;
    const summary = summariseOrders(facts, env);
    const profile = profileOf(facts, summary, env);
    profiles.push(profile);
    const input = rfmInputOf(summary, env);
    if (input) {
      buyers.push(profile);
      inputs.push(input);
    }
  }
  const reference = options.rfmReference ?? rfmReference(inputs);
  buyers.forEach((profile, i) => {
    profile.rfm = scoredWithSegment(reference, inputs[i] as RfmInput, env);
  });
  return profiles.sort((a, b) => compareStrings(a.customerId, b.customerId));
}

/**
 * The same profiles as computeProfiles, yielded one at a time in the source's order, so memory
 * stays bounded by the source. Without a reference, `source` is read twice (first the RFM
 * measures, a few numbers per buyer, then the profiles) and must yield the same clients each
 * time, as ClientAggregator.clients() does.
 */
export function* streamProfiles(
  source: () => Iterable<ClientFacts>,
  context: TieringContext,
  options: ProfileOptions = {},
): Generator<ClientProfile> {
  const env = environment(context);
  // Without a reference the first pass builds one; the buyers it saw guard the second pass,
  // whose scores would otherwise silently be against a different base. A 32-bit hash of each id
  // in a typed column (4 bytes a buyer off the heap, not an 8-byte slot of a heap array grown by
  // copying) finds a different client but for a 2^-32 chance each.
  let firstPassBuyers: Column | undefined;
  let reference = options.rfmReference;
  const { finish } = options;
  if (!reference) {
    const inputs = new RfmMeasureColumns();
    firstPassBuyers = new Column('i32');
    for (const facts of (options.measureSource ?? source)()) {
      if (!knownBy(facts, env)) continue;
      const input = rfmInputOf(summariseOrders(facts, env), env);
      if (!input) continue;
      inputs.add(input);
      firstPassBuyers.push(fnv1a32(facts.customerId) | 0);
    }
    reference = rfmReferenceOf(inputs.columns());
  }
  let buyer = 0;
  for (const facts of source()) {
    if (!knownBy(facts, env)) continue;
    const summary = summariseOrders(facts, env);
    const profile = profileOf(facts, summary, env);
    const input = rfmInputOf(summary, env);
    if (input) {
      if (firstPassBuyers && (buyer >= firstPassBuyers.length || firstPassBuyers.get(buyer) !== (fnv1a32(facts.customerId) | 0))) {
        throw new Error('streamProfiles: the source yielded different clients on its second pass');
      }
      buyer += 1;
      profile.rfm = scoredWithSegment(reference, input, env);
    }
    yield finish ? finish(profile, facts) : profile;
  }
  if (firstPassBuyers && buyer !== firstPassBuyers.length) {
    throw new Error('streamProfiles: the source yielded different clients on its second pass');
  }
}
