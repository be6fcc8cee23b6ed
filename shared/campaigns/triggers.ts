import { birthdayOccasionIn } from '#shared/time.ts';
import { TIERS, catalogCycleDays, firstPurchaseOf, isTierUpgrade, tierRank, type ClientProfile, type ProductRecord, type SkuPurchase, type Stage } from '#shared/model.ts';
import { addDays, daysBetweenDates, isIsoDate, localDate, startOfLocalDay } from '#shared/time.ts';
import { holdsTopRecency, type RfmSegmentRule } from '#shared/segments/rfm-segments.ts';
import { boughtInWindow, lastYearWindow } from './seasons.ts';
import type { Season, Timing, Trigger } from './vocabulary.ts';

/**
 * What each word of the trigger vocabulary means in time, as pure functions of the stored profile,
 * the products export and the campaign's rules (no clock but the range asked about): the moments a
 * trigger names, and from them (timing) each occasion's send window [dueAt, expiresAt) and its
 * once-per ledger key. due.ts turns them into occasions. Every "N days" is counted in local
 * calendar days of the client's zone, from local midnight.
 */

const MS_PER_HOUR = 3_600_000;
/** Default cut-off of a trigger at an instant (sign-up, first order): the welcome's 72 hours. */
const INSTANT_CUTOFF_HOURS = 72;
/** Default cut-off of a trigger on a day after something (an order, a move): a week. */
const AFTER_CUTOFF_DAYS = 7;
/** Default cut-off of no-order-for: the built-in win-back's 30 days. */
const LAPSE_CUTOFF_DAYS = 30;
/** Years ahead of a range's start a yearly trigger is looked at when the range has no end (the due index). */
const YEARS_AHEAD = 2;
/**
 * The furthest a day the data predicts may lie after what it is counted from: ten years (leap
 * days included). A run-out further than this after its stock-up's first day, or a predicted next
 * order further after the last order, gives no occasion. No jar lasts a decade: such a cycle is bad
 * data read as valid (grams typed for days, a wholesale quantity, a personal cycle of decades a unit
 * stretched by a big stock-up), and a reminder ten years out reaches nobody who still waits for it.
 * Counted from the profile alone (orders are at most a day after the run's clock, so this is
 * also at most ten years after the run date), every reader decides alike: one run, each shard,
 * the hourly ingest, the advisors' digests; and the day stays far inside the calendar (year 9999).
 */
export const DUE_HORIZON_DAYS = 3653;

/** The products export, by SKU. A Map<string, ProductRecord> satisfies it (`values` lists it, for a category's products). */
export interface ProductCatalog {
  get(sku: string): ProductRecord | undefined;
  values?(): Iterable<ProductRecord>;
}

/** Per-trigger facts the sender, the templates and the reports use. Absent fields are left out, never undefined. */
export interface TriggerDetails {
  /** Instant triggers with lateAfterHours: hours from the trigger to now, and whether past the promise. */
  hoursSinceTrigger?: number;
  late?: boolean;
  /** Welcome: whether sign-up or the first order started it (the earlier of the two). */
  welcomeTrigger?: 'sign-up' | 'first-order';
  /** Product runs out: the product running out. */
  sku?: string;
  productName?: string;
  category?: string;
  lastPurchasedAt?: string;
  quantity?: number;
  /** Product runs out: days one purchase lasts, and where that came from ('predicted': the CLV model's next order, no cycle). */
  cycleDays?: number;
  cycleSource?: 'personal' | 'catalog' | 'predicted';
  /** Product runs out: predicted local run-out day, YYYY-MM-DD. */
  runOutDate?: string;
  /** No order for: local calendar days since the last order, and the step (days) reached. */
  daysSinceLastOrder?: number;
  lastOrderAt?: string;
  lapseStepDays?: number;
  /** Birthday: the local day celebrated (the 1st of the month for a month-only birthday). */
  birthdayDate?: string;
  /** Tier changed: from and to. */
  fromTier?: string;
  toTier?: string;
  /** Stage or RFM segment entered. */
  stage?: string;
  rfmSegment?: string;
  /** Season starts: which, and its local start day. */
  season?: string;
  seasonStartDate?: string;
  /** Products from last season: the season whose run last year they were bought in. */
  lastSeason?: string;
  /** Predicted next order: the local day. */
  predictedOrderDate?: string;
  /** Products to show: the client's top category or a category they have not bought, and products. */
  recommendedCategory?: string;
  products?: { sku: string; productName?: string }[];
}

/** One moment a trigger names: an instant, or a local day; with its natural key and its facts. */
export interface Moment {
  instant?: number;
  /** Local YYYY-MM-DD, when the moment is a day (its local midnight). */
  day?: string;
  /** The trigger's own once-per key, after '<campaignId>' ('' for once ever). */
  naturalKey: string;
  /** The local day the occasion belongs to (year keys): the birthday, the season start, the run-out... */
  occasionDay: string;
  /** A window of this moment may not stay open past this instant (the next no-order-for step). */
  endsBy?: number;
  /**
   * The day may move while the natural key stays (the next-order fallback: a refit moves the
   * prediction of the same last order), so the key is not one window's.
   */
  movesUnderKey?: true;
  /** Where its window closes when the timing gives no cut-off (the birthday month: the 1st of the next month). */
  defaultExpiresAt?: number;
  /** The trigger's products, for products 'trigger'. */
  products?: { sku: string; productName?: string }[];
  details: TriggerDetails;
  /** Facts that depend on the instant asked about (hours or days since). */
  detailsAt?: (now: number) => TriggerDetails;
}

/** A profile's instant, undefined when absent or unreadable. */
export function instantOf(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : undefined;
}

/** The range of instants a caller asks about: yearly triggers list the occurrences it touches. */
export interface InstantRange {
  from: number;
  to: number;
}

/** A consumable: a catalog cycle (replenish_days), or a category the campaign lists as replenishable. */
export function isReplenishable(purchase: SkuPurchase, product: ProductRecord | undefined, replenishableCategories: readonly string[]): boolean {
  if (catalogCycleDays(product) !== undefined) return true;
  const category = purchase.category ?? product?.category;
  return category !== undefined && replenishableCategories.includes(category);
}

/**
 * Days the last stock-up of this SKU lasts from its first day, for a replenishable product only:
 * one with a catalog cycle (replenish_days) or in a category the campaign lists as replenishable.
 * A coat or a bag bought twice has a gap between purchases, not a use-up cycle, and gets no
 * reminder. Both cycles are per unit and stretched by the stock-up's units: the personal one (what
 * a unit lasted this client between their stock-ups, profile.ts) wins over the catalog's. A listed
 * category without a catalog cycle needs the personal one: with a single stock-up there is
 * nothing to time the reminder by.
 */
export function replenishmentCycle(
  purchase: SkuPurchase,
  product: ProductRecord | undefined,
  replenishableCategories: readonly string[] = [],
): { days: number; source: 'personal' | 'catalog' } | undefined {
  if (!isReplenishable(purchase, product, replenishableCategories)) return undefined;
  // A quantity of 0 can only come from bad data; count it as one unit.
  const quantity = Math.max(1, purchase.quantity);
  const personal = purchase.personalCycleDays;
  if (purchase.purchases >= 2 && personal !== undefined && Number.isFinite(personal) && personal > 0) {
    return { days: Math.round(personal * quantity), source: 'personal' };
  }
  const perUnit = catalogCycleDays(product);
  if (perUnit === undefined) return undefined;
  return { days: Math.round(perUnit * quantity), source: 'catalog' };
}

/** SKUs, most recently bought first (then by SKU): the order products are shown in. */
function byRecency<T extends { lastPurchasedAt: string }>(entries: [string, T][]): [string, T][] {
  return entries.sort(([skuA, a], [skuB, b]) => (instantOf(b.lastPurchasedAt) ?? 0) - (instantOf(a.lastPurchasedAt) ?? 0) || (skuA < skuB ? -1 : skuA > skuB ? 1 : 0));
}

export function productRef(sku: string, name: string | undefined): { sku: string; productName?: string } {
  return name === undefined ? { sku } : { sku, productName: name };
}

/**
 * A product's name, the one place every email takes it from: the orders export's product_name,
 * else the products export's name (product_name is optional in the orders export). Undefined
 * without either: the email then shows the SKU.
 */
export function productNameOf(sku: string, purchase: Pick<SkuPurchase, 'productName'> | undefined, catalog: ProductCatalog | undefined): string | undefined {
  return purchase?.productName ?? catalog?.get(sku)?.name;
}

/**
 * What the client's first order bought, named: the SKUs whose first purchase was at firstOrderAt,
 * whatever the client bought since (the same SKU again, the same day or later), in SKU order. A
 * profile stored before firstPurchasedAt falls back to the last stock-up's start (firstPurchaseOf).
 */
export function firstOrderProducts(profile: ClientProfile, catalog: ProductCatalog | undefined): { sku: string; productName?: string }[] {
  const at = instantOf(profile.firstOrderAt);
  if (at === undefined) return [];
  return Object.entries(profile.skus)
    .filter(([, p]) => instantOf(firstPurchaseOf(p)) === at)
    .sort(([skuA], [skuB]) => (skuA < skuB ? -1 : skuA > skuB ? 1 : 0))
    .map(([sku, p]) => productRef(sku, productNameOf(sku, p, catalog)));
}

/** The SKUs whose last purchase was the order at `orderAt` (what that order bought, as far as the profile knows), named. */
export function boughtAt(profile: ClientProfile, orderAt: string, catalog: ProductCatalog | undefined): { sku: string; productName?: string }[] {
  const at = instantOf(orderAt);
  return byRecency(Object.entries(profile.skus).filter(([, p]) => instantOf(p.lastPurchasedAt) === at)).map(([sku, p]) => productRef(sku, productNameOf(sku, p, catalog)));
}

/** The years, in the client's zone, a range touches (one before its start too: a window may open the year before its day). */
function yearsOf(range: InstantRange | undefined, timeZone: string): number[] {
  if (range === undefined) return [];
  const first = Number(localDate(range.from, timeZone).slice(0, 4)) - 1;
  const last = Number.isFinite(range.to) ? Number(localDate(range.to, timeZone).slice(0, 4)) + 1 : first + 1 + YEARS_AHEAD;
  const years: number[] = [];
  for (let year = first; year <= last; year++) years.push(year);
  return years;
}

/** The 1st of the month of a local day, YYYY-MM-01. */
function firstOfMonth(day: string): string {
  return `${day.slice(0, 7)}-01`;
}

/** An instant trigger's moment: the instant, or local midnight `daysAfter` days after its local day. */
function instantMoment(instant: number, daysAfter: number | undefined, timeZone: string, rest: Omit<Moment, 'instant' | 'day' | 'occasionDay'>): Moment {
  const day = localDate(instant, timeZone);
  return daysAfter === undefined ? { instant, occasionDay: day, ...rest } : { day: addDays(day, daysAfter), occasionDay: day, ...rest };
}

/** Context a trigger reads besides the profile. */
export interface TriggerContext {
  catalog: ProductCatalog;
  seasons: readonly Season[];
  timeZone: string;
  /** Yearly triggers give the occurrences of the years it touches; none without it. */
  range?: InstantRange;
}

/** The stages a client leaves with an order (for 'active'): reached by days without one. */
export const LAPSE_STAGES: readonly Stage[] = ['at-risk', 'sleeping', 'churned'];

/**
 * Whether the trigger's occasion rests on the absence of an order since the profile's night: N
 * days without one (win-back, recall), a product running out before a restock (replenishment), the
 * predicted next order not yet placed (reorder), days after the latest order (the cross-category
 * suggestion: a newer order moves its moment), days in a stage reached without orders (at risk,
 * sleeping, churned), an RFM segment an order takes a client out of (no cell of the top recency
 * score maps to it under the brand's map: entered by days without an order, every default segment
 * but champions, potential loyalists and new), a move down a tier (an order may restore it). An
 * order the profile does not know yet takes such an occasion away; the others rest on something
 * that happened (a first order, a move up, a birthday) and a later order leaves them standing. The hourly sender holds these while the nights are behind
 * (shared/sender/nights-behind.ts).
 */
export function restsOnNoOrderSince(trigger: Trigger, rfmSegments: readonly RfmSegmentRule[]): boolean {
  switch (trigger.on) {
    case 'no-order-for':
    case 'product-runs-out':
    case 'predicted-next-order':
      return true;
    case 'any-order':
      return trigger.daysAfter > 0;
    case 'stage-entered':
      return trigger.stages.some((stage) => LAPSE_STAGES.includes(stage));
    case 'rfm-segment-entered':
      return trigger.segments.some((segment) => !holdsTopRecency(segment, rfmSegments));
    case 'tier-changed':
      // A move down (a year-old order left the window, a refund): an order may restore the tier, and
      // the next night records a move up instead. A move to VIC is only ever up: no order undoes it.
      return trigger.direction !== 'up' && (trigger.to ?? TIERS).some((tier) => tier !== 'VIC');
    default:
      return false;
  }
}

/**
 * Every moment the trigger names for this client (yearly ones: in the years the range touches).
 * Welcome, replenishment and win-back are 'first-contact', 'product-runs-out' and 'no-order-for'.
 */
export function triggerMoments(trigger: Trigger, profile: ClientProfile, context: TriggerContext): Moment[] {
  const { timeZone } = context;
  switch (trigger.on) {
    case 'signed-up':
    case 'first-order':
    case 'first-contact': {
      const signedUp = instantOf(profile.signedUpAt);
      const firstOrder = instantOf(profile.firstOrderAt);
      if (trigger.on === 'first-order' && trigger.signedUpAtLeastHoursBefore !== undefined) {
        // Only the first order of a client who had signed up long enough before it (the welcome went to the sign-up).
        if (signedUp === undefined || firstOrder === undefined || firstOrder - signedUp < trigger.signedUpAtLeastHoursBefore * MS_PER_HOUR) return [];
      }
      // The welcome's rule: the earlier of the two (a prospect who signed up months ago is not welcomed on their first order).
      const useSignUp = trigger.on === 'signed-up' || (trigger.on === 'first-contact' && signedUp !== undefined && (firstOrder === undefined || signedUp <= firstOrder));
      const instant = useSignUp ? signedUp : firstOrder;
      if (instant === undefined) return [];
      const products = useSignUp ? [] : firstOrderProducts(profile, context.catalog);
      const details: TriggerDetails = trigger.on === 'first-contact' ? { welcomeTrigger: useSignUp ? 'sign-up' : 'first-order' } : {};
      return [instantMoment(instant, trigger.daysAfter, timeZone, { naturalKey: '', products, details })];
    }
    case 'any-order': {
      const lastOrder = instantOf(profile.lastOrderAt);
      if (lastOrder === undefined || profile.lastOrderAt === undefined) return [];
      const day = localDate(lastOrder, timeZone);
      return [{ day: addDays(day, trigger.daysAfter), occasionDay: day, naturalKey: profile.lastOrderAt, products: boughtAt(profile, profile.lastOrderAt, context.catalog), details: { lastOrderAt: profile.lastOrderAt } }];
    }
    case 'product-runs-out':
      return runOutMoments(trigger, profile, context);
    case 'no-order-for': {
      const lastOrder = instantOf(profile.lastOrderAt);
      const lastOrderAt = profile.lastOrderAt;
      if (lastOrder === undefined || lastOrderAt === undefined) return [];
      const lastDate = localDate(lastOrder, timeZone);
      return trigger.days.map((days, step) => {
        const next = trigger.days[step + 1];
        return {
          day: addDays(lastDate, days),
          occasionDay: lastDate,
          naturalKey: lapseStepKey(lastOrderAt, days, trigger.days.length),
          ...(next === undefined ? {} : { endsBy: startOfLocalDay(addDays(lastDate, next), timeZone) }),
          details: { lastOrderAt, ...(trigger.days.length > 1 ? { lapseStepDays: days } : {}) },
          detailsAt: (now: number) => ({ daysSinceLastOrder: daysBetweenDates(lastDate, localDate(now, timeZone)) }),
        };
      });
    }
    case 'birthday': {
      const birthday = profile.birthday;
      if (birthday === undefined) return [];
      return yearsOf(context.range, timeZone).flatMap((year): Moment[] => {
        const date = birthdayOccasionIn(birthday, year);
        if (date === undefined) return [];
        if (!trigger.month) return [{ day: addDays(date, -trigger.daysBefore), occasionDay: date, naturalKey: date.slice(0, 4), details: { birthdayDate: date } }];
        // The birthday month: counted from its 1st, open until the 1st of the next month.
        const monthStart = firstOfMonth(date);
        return [
          {
            day: addDays(monthStart, -trigger.daysBefore),
            occasionDay: monthStart,
            naturalKey: date.slice(0, 4),
            defaultExpiresAt: startOfLocalDay(firstOfMonth(addDays(monthStart, 31)), timeZone),
            details: { birthdayDate: date },
          },
        ];
      });
    }
    case 'tier-changed': {
      const { previousTier: from, tierChangedOn: on, tier: to } = profile;
      if (from === undefined || on === undefined || !isIsoDate(on) || from === to) return [];
      // Back to the tier she left days ago (history.ts TIER_RETURN_DAYS): a dip, not a move to thank or warn about.
      if (profile.tierReturnLeftOn !== undefined) return [];
      if (trigger.direction === 'up' && !isTierUpgrade(from, to)) return [];
      if (trigger.direction === 'down' && tierRank(to) > tierRank(from)) return [];
      if (trigger.to !== undefined && !trigger.to.includes(to)) return [];
      return [{ day: addDays(on, trigger.daysAfter), occasionDay: on, naturalKey: on, details: { fromTier: from, toTier: to } }];
    }
    case 'stage-entered': {
      const on = profile.stageEnteredOn;
      if (on === undefined || !isIsoDate(on) || !trigger.stages.includes(profile.stage)) return [];
      return [{ day: addDays(on, trigger.daysAfter), occasionDay: on, naturalKey: `${profile.stage}#${on}`, details: { stage: profile.stage } }];
    }
    case 'rfm-segment-entered': {
      const on = profile.rfmSegmentEnteredOn;
      const segment = profile.rfm?.segment;
      if (on === undefined || !isIsoDate(on) || segment === undefined || !trigger.segments.includes(segment)) return [];
      return [{ day: addDays(on, trigger.daysAfter), occasionDay: on, naturalKey: `${segment}#${on}`, details: { rfmSegment: segment } }];
    }
    case 'season-starts': {
      const seasons = context.seasons.filter((season) => trigger.seasons === undefined || trigger.seasons.includes(season.name));
      return yearsOf(context.range, timeZone).flatMap((year) =>
        seasons.flatMap((season) => {
          const start = birthdayOccasionIn(season.starts, year);
          if (start === undefined) return [];
          if (trigger.boughtLastYear) {
            const lastYear = lastYearWindow(context.seasons, start);
            if (lastYear === undefined || boughtInWindow(profile, lastYear, timeZone).length === 0) return [];
          }
          return [{ day: addDays(start, -trigger.daysBefore), occasionDay: start, naturalKey: `${season.name}#${year}`, details: { season: season.name, seasonStartDate: start } }];
        }),
      );
    }
    case 'predicted-next-order': {
      // Keyed by the last order the prediction follows, as the reorder reminder: a refit that moves the day moves the window of the same occasion.
      const predicted = predictedOrderDay(trigger.daysBefore, profile, timeZone);
      if (predicted === undefined || profile.lastOrderAt === undefined) return [];
      return [
        {
          day: addDays(predicted, -trigger.daysBefore),
          occasionDay: predicted,
          naturalKey: nextOrderKey(profile.lastOrderAt),
          movesUnderKey: true,
          details: { predictedOrderDate: predicted },
        },
      ];
    }
  }
}

/**
 * Product runs out: one moment per SKU with a cycle (run-out = local day of the last purchase +
 * cycle, replenishmentCycle), unless the product lasts no longer than the lead time (the reminder
 * would be due the day it was bought). With predictedFallback, a client whose replenishable
 * products have no cycle at all gets one moment at the CLV model's predicted next order instead
 * (predictedRunOutDay), showing their most recently bought replenishable product. It is keyed by
 * the last order the prediction follows (nextOrderKey), not by the predicted day: a refit that
 * moves the day moves the window of the same occasion, and the reminder goes once.
 */
function runOutMoments(trigger: Extract<Trigger, { on: 'product-runs-out' }>, profile: ClientProfile, context: TriggerContext): Moment[] {
  const { catalog, timeZone } = context;
  const listed = trigger.replenishableCategories;
  const moments: Moment[] = [];
  for (const [sku, purchase] of Object.entries(profile.skus)) {
    const window = runOutDay(trigger, purchase, catalog.get(sku), timeZone);
    if (window === undefined) continue;
    const product = catalog.get(sku);
    const productName = productNameOf(sku, purchase, catalog);
    const category = purchase.category ?? product?.category;
    moments.push({
      day: addDays(window.runOutDate, -trigger.daysBefore),
      occasionDay: window.runOutDate,
      naturalKey: `${sku}#${purchase.lastPurchasedAt}`,
      products: [productRef(sku, productName)],
      details: {
        sku,
        ...(productName === undefined ? {} : { productName }),
        ...(category === undefined ? {} : { category }),
        lastPurchasedAt: purchase.lastPurchasedAt,
        quantity: purchase.quantity,
        cycleDays: window.cycle.days,
        cycleSource: window.cycle.source,
        runOutDate: window.runOutDate,
      },
    });
  }
  if (!trigger.predictedFallback) return moments;
  const predicted = predictedRunOutDay(trigger, profile, catalog, timeZone);
  // predictedRunOutDay gives a day only with a last order.
  if (predicted === undefined || profile.lastOrderAt === undefined) return moments;
  const latest = byRecency(Object.entries(profile.skus).filter(([sku, p]) => instantOf(p.lastPurchasedAt) !== undefined && isReplenishable(p, catalog.get(sku), listed)))[0];
  const record = latest === undefined ? undefined : catalog.get(latest[0]);
  const productName = latest === undefined ? undefined : productNameOf(latest[0], latest[1], catalog);
  const category = latest?.[1].category ?? record?.category;
  moments.push({
    day: addDays(predicted, -trigger.daysBefore),
    occasionDay: predicted,
    naturalKey: nextOrderKey(profile.lastOrderAt),
    movesUnderKey: true,
    products: latest === undefined ? [] : [productRef(latest[0], productName)],
    details: {
      ...(latest === undefined ? {} : { sku: latest[0], lastPurchasedAt: latest[1].lastPurchasedAt, quantity: latest[1].quantity }),
      ...(productName === undefined ? {} : { productName }),
      ...(category === undefined ? {} : { category }),
      cycleSource: 'predicted',
      runOutDate: predicted,
    },
  });
  return moments;
}

/**
 * The local run-out day of one SKU's last stock-up (from its first day) and its cycle; undefined
 * without a cycle, when the reminder would fall on or before the stock-up's last purchase day, or
 * when the cycle is longer than DUE_HORIZON_DAYS.
 */
export function runOutDay(
  trigger: { daysBefore: number; replenishableCategories: readonly string[] },
  purchase: SkuPurchase,
  product: ProductRecord | undefined,
  timeZone: string,
): { runOutDate: string; cycle: { days: number; source: 'personal' | 'catalog' } } | undefined {
  const purchasedAt = instantOf(purchase.lastPurchasedAt);
  if (purchasedAt === undefined) return undefined;
  const cycle = replenishmentCycle(purchase, product, trigger.replenishableCategories);
  if (cycle === undefined || cycle.days <= trigger.daysBefore) return undefined;
  // Past the horizon no reminder; NaN (a damaged profile) neither: no day is computed from it.
  if (!(cycle.days <= DUE_HORIZON_DAYS)) return undefined;
  const lastDay = localDate(purchasedAt, timeZone);
  const from = instantOf(purchase.stockUpFrom);
  const runOutDate = addDays(from === undefined ? lastDay : localDate(from, timeZone), cycle.days);
  if (addDays(runOutDate, -trigger.daysBefore) <= lastDay) return undefined;
  return { runOutDate, cycle };
}

/**
 * The CLV model's predicted next order day, for an email `daysBefore` it. The prediction follows
 * the client's last order: none without one, and none when the email would be due on or before
 * that order's local day (as runOutDay does for a product that lasts no longer than the lead
 * time). That also covers an order the intraday ingest merged after the night's prediction:
 * until the next night refits it, the prediction is the previous order's. None either past
 * DUE_HORIZON_DAYS after that order's day.
 */
function predictedOrderDay(daysBefore: number, profile: ClientProfile, timeZone: string): string | undefined {
  const predicted = profile.clv?.predictedNextOrderAt;
  if (predicted === undefined || !isIsoDate(predicted)) return undefined;
  const lastOrder = instantOf(profile.lastOrderAt);
  if (lastOrder === undefined) return undefined;
  const lastDay = localDate(lastOrder, timeZone);
  // The model caps its prediction at two years (clv/predict.ts); a stored day past the horizon is not its own.
  if (daysBetweenDates(lastDay, predicted) > DUE_HORIZON_DAYS || addDays(predicted, -daysBefore) <= lastDay) return undefined;
  return predicted;
}

/**
 * The predicted next order day standing in for a run-out (predictedOrderDay): only for a client
 * who bought a replenishable product but none with a cycle (a product of a listed category bought
 * once, with no replenish_days). A bag or a coat runs out of nothing.
 */
export function predictedRunOutDay(
  trigger: { daysBefore: number; replenishableCategories: readonly string[] },
  profile: ClientProfile,
  catalog: ProductCatalog,
  timeZone: string,
): string | undefined {
  const predicted = predictedOrderDay(trigger.daysBefore, profile, timeZone);
  if (predicted === undefined) return undefined;
  const skus = Object.entries(profile.skus);
  const listed = trigger.replenishableCategories;
  if (!skus.some(([sku, purchase]) => isReplenishable(purchase, catalog.get(sku), listed))) return undefined;
  if (skus.some(([sku, purchase]) => replenishmentCycle(purchase, catalog.get(sku), listed) !== undefined)) return undefined;
  return predicted;
}

/**
 * A no-order-for step's natural key. A single step (the built-in win-back) is once per lapse,
 * '<lastOrderAt>'; each step of a ladder is keyed by its day, '<lastOrderAt>#<days>d', so that a
 * step added to or dropped from the ladder leaves the others' keys as they were. Versions before
 * this one keyed a ladder's first step '<lastOrderAt>' too (read as its day: legacy-keys.ts).
 */
export function lapseStepKey(lastOrderAt: string, days: number, steps: number): string {
  return steps === 1 ? lastOrderAt : `${lastOrderAt}#${days}d`;
}

/** The next-order fallback's natural key: the last order (ISO instant) whose predicted successor it stands for. */
export function nextOrderKey(lastOrderAt: string): string {
  return `next-order#${lastOrderAt}`;
}

/**
 * The next-order keys of versions before nextOrderKey, keyed by the predicted local day:
 * '<campaignId>#next-order#<day>' (the run-out's predicted fallback) and '<campaignId>#<day>'
 * (the `predicted-next-order` trigger).
 */
const LEGACY_NEXT_ORDER_KEY = /^([a-z0-9][a-z0-9-]*)#(next-order#)?\d{4}-\d{2}-\d{2}$/;

/**
 * The campaign id of a next-order ledger key written before nextOrderKey, else undefined. A bare
 * '<campaignId>#<day>' is one only for a campaign in `dayKeyed` (whose trigger is
 * `predicted-next-order`, once per occasion): other triggers key by a day too.
 */
export function legacyNextOrderCampaign(occasionKey: string, dayKeyed: ReadonlySet<string>): string | undefined {
  const match = LEGACY_NEXT_ORDER_KEY.exec(occasionKey);
  const campaignId = match?.[1];
  if (campaignId === undefined) return undefined;
  return match?.[2] !== undefined || dayKeyed.has(campaignId) ? campaignId : undefined;
}

/** The cut-off a trigger gets when the timing gives none (see the vocabulary's README section). */
export function defaultCutoff(trigger: Trigger): { hours: number } | { days: number } {
  switch (trigger.on) {
    case 'signed-up':
    case 'first-order':
    case 'first-contact':
      return trigger.daysAfter === undefined ? { hours: INSTANT_CUTOFF_HOURS } : { days: AFTER_CUTOFF_DAYS };
    case 'product-runs-out':
    case 'predicted-next-order':
      // Until the day itself: a "runs out soon" email on or after the day is wrong.
      return { days: trigger.daysBefore };
    case 'birthday':
      // Through the day itself; the birthday month closes at the next month's 1st (the moment's
      // defaultExpiresAt), at most 31 days after its own 1st: this is the bound windowBoundMs reads.
      return { days: trigger.daysBefore + (trigger.month ? 31 : 1) };
    case 'season-starts':
      // Through the day itself.
      return { days: trigger.daysBefore + 1 };
    case 'no-order-for':
      return { days: LAPSE_CUTOFF_DAYS };
    case 'any-order':
    case 'tier-changed':
    case 'stage-entered':
    case 'rfm-segment-entered':
      return { days: AFTER_CUTOFF_DAYS };
  }
}

/**
 * An upper bound of the length of any window of the trigger under the timing: the cut-off from
 * the trigger's moment, in local days a day more (the odd 25-hour day of a DST change).
 */
export function windowBoundMs(trigger: Trigger, timing: Timing): number {
  const cutoff = cutoffOf(trigger, timing);
  return 'hours' in cutoff ? cutoff.hours * MS_PER_HOUR : (cutoff.days + 1) * 24 * MS_PER_HOUR;
}

function cutoffOf(trigger: Trigger, timing: Timing): { hours: number } | { days: number } {
  return timing.cutoffHours !== undefined ? { hours: timing.cutoffHours } : timing.cutoffDays !== undefined ? { days: timing.cutoffDays } : defaultCutoff(trigger);
}

/** The send window of a moment: opens delayHours after it, closes at the cut-off (and by `endsBy`). */
export function momentWindow(moment: Moment, trigger: Trigger, timing: Timing, timeZone: string): { triggerAt: number; dueAt: number; expiresAt: number } | undefined {
  const day = moment.day ?? localDate(moment.instant ?? 0, timeZone);
  const triggerAt = moment.instant ?? startOfLocalDay(day, timeZone);
  const cutoff = cutoffOf(trigger, timing);
  const dueAt = triggerAt + timing.delayHours * MS_PER_HOUR;
  const ownCutoff = timing.cutoffHours !== undefined || timing.cutoffDays !== undefined;
  let expiresAt =
    !ownCutoff && moment.defaultExpiresAt !== undefined
      ? moment.defaultExpiresAt
      : 'hours' in cutoff
        ? triggerAt + cutoff.hours * MS_PER_HOUR
        : startOfLocalDay(addDays(day, cutoff.days), timeZone);
  if (moment.endsBy !== undefined) expiresAt = Math.min(expiresAt, moment.endsBy);
  return dueAt < expiresAt ? { triggerAt, dueAt, expiresAt } : undefined;
}

/** The once-per ledger key of a moment: '<campaignId>' plus the trigger's own key, or the one the timing asks for. */
export function onceKey(campaignId: string, moment: Moment, timing: Timing, profile: ClientProfile): string {
  const suffix = (() => {
    switch (timing.oncePer) {
      case 'occasion':
        return moment.naturalKey;
      case 'ever':
        return '';
      case 'lapse':
        return profile.lastOrderAt ?? 'no-order';
      case 'purchase':
        // A SKU's purchase where the trigger is one (run-outs), else the last order.
        return moment.details.sku !== undefined && moment.details.lastPurchasedAt !== undefined ? `${moment.details.sku}#${moment.details.lastPurchasedAt}` : (profile.lastOrderAt ?? 'no-order');
      case 'year':
        return moment.occasionDay.slice(0, 4);
      case 'tier-change':
        return profile.tierChangedOn ?? 'no-tier-change';
    }
  })();
  return suffix === '' ? campaignId : `${campaignId}#${suffix}`;
}
