import { catalogCycleDays, type ProductRecord } from '#shared/model.ts';
import { daysBetweenDates } from '#shared/time.ts';

/**
 * What timed the run-out reminders, night by night: each SKU's catalogue cycle and the answer
 * window's days (runOutReminderLeadDays), from each run date on where they changed. A stock-up
 * begun in the reminder window of the cycle then in force teaches no personal cycle
 * (profile.ts, promptedByCycleInForce); judged against tonight's catalogue instead, a change of a
 * SKU's `replenish_days` or of a lead would turn the restocks that answered the old reminders into
 * a short cycle, and a reminder days after a restock. Pure; stored by shared/store/catalog-store.ts.
 */
export interface CycleHistory {
  /** Per SKU, [run date, cycle per unit or null when none] from that night on, oldest first. */
  skus: Record<string, [string, number | null][]>;
  /** [run date, days] from that night on, oldest first. */
  answerDays: [string, number][];
  /**
   * [run date, days] from that night on, oldest first: the stock-ups' grouping (purchase days closer
   * than the replenishment reminder's lead are one stock-up). Absent from histories written before
   * it was kept: tonight's lead then groups every day.
   */
  stockUpDays?: [string, number][];
}

export const EMPTY_CYCLE_HISTORY: CycleHistory = { skus: {}, answerDays: [] };

/**
 * A history begun from the catalogue in force before a night (`from`: the day before it), for a
 * night that finds none stored though a catalogue was: the first night of a version that keeps the
 * history, upgraded from one before. Tonight's values then start on tonight's own entry, and a cycle
 * changed tonight does not re-judge the stock-ups that answered the reminders of the old one. Pure.
 */
export function historyFromCatalogue(catalog: ReadonlyMap<string, Pick<ProductRecord, 'replenishDays'>>, from: string): CycleHistory {
  const skus: Record<string, [string, number | null][]> = Object.create(null) as Record<string, [string, number | null][]>;
  for (const [sku, product] of catalog) skus[sku] = [[from, catalogCycleDays(product) ?? null]];
  return { skus, answerDays: [] };
}

/** Tonight's values, for the days the history does not reach. */
export interface TonightsCycles {
  catalogCycleOf(sku: string): number | undefined;
  answerDays: number;
  stockUpDays: number;
}

/** What a stock-up's answer window is judged by on a local day (day number since 1970-01-01). */
export interface CyclesInForce {
  catalogCycleOn(sku: string, day: number): number | undefined;
  answerDaysOn(day: number): number;
  /** The stock-ups' grouping days in force on `day`: a purchase that day closer than them to the one before extends its stock-up. */
  stockUpDaysOn(day: number): number;
  /**
   * The days in (`fromDay`, `toDay`] from which `sku`'s catalogue cycle or the answer window took
   * another value, ascending (none, the usual case, as one shared empty array).
   */
  changeDaysBetween(sku: string, fromDay: number, toDay: number): readonly number[];
}

const NO_CHANGE: readonly number[] = Object.freeze([]);

/** Tonight's values on every day: no history (the hourly merge, the local commands, a first night). */
export function cyclesOfTonight(tonight: TonightsCycles): CyclesInForce {
  return { catalogCycleOn: (sku) => tonight.catalogCycleOf(sku), answerDaysOn: () => tonight.answerDays, stockUpDaysOn: () => tonight.stockUpDays, changeDaysBetween: () => NO_CHANGE };
}

const dayNumber = (date: string) => daysBetweenDates('1970-01-01', date);

/**
 * The value in force on `day` by the entries of nights before `runDate` (a rerun of a night is
 * judged as its first run was, whatever that run recorded): the latest entry of a night before
 * `day` (the reminders of `day` were timed by the last night before it), else the earliest entry
 * (days before the history began, as it began); `undefined` with no entry (tonight's then holds).
 */
function entryOn<T>(entries: readonly (readonly [number, T])[], day: number): { value: T } | undefined {
  let found: { value: T } | undefined;
  for (const [from, value] of entries) {
    if (from < day || found === undefined) found = { value };
    if (from >= day) break;
  }
  return found;
}

/** The days in (fromDay, toDay] from which entries after the first are in force (the day after their night's), with `others`' merged in. */
function changeDays(entries: readonly (readonly [number, unknown])[], fromDay: number, toDay: number, others: readonly number[] = NO_CHANGE): readonly number[] {
  let days: number[] | undefined;
  for (let i = 1; i < entries.length; i++) {
    const day = (entries[i] as readonly [number, unknown])[0] + 1;
    if (day > fromDay && day <= toDay) (days ??= []).push(day);
  }
  if (days === undefined) return others;
  if (others.length === 0) return days;
  return [...new Set([...days, ...others])].sort((a, b) => a - b);
}

/**
 * The history as a night of `runDate` reads it, tonight's values where it says nothing. A SKU
 * whose first entry came after the history's first products (added to the catalogue later) had no
 * catalogue cycle on the days before that entry.
 */
export function cyclesInForce(history: CycleHistory, runDate: string, tonight: TonightsCycles): CyclesInForce {
  const runDay = dayNumber(runDate);
  const before = <T>(entries: readonly [string, T][]): [number, T][] => entries.map(([from, value]): [number, T] => [dayNumber(from), value]).filter(([from]) => from < runDay);
  let productsSince: number | undefined;
  const firstProductsNight = () => {
    if (productsSince === undefined) {
      productsSince = Number.POSITIVE_INFINITY;
      for (const entries of Object.values(history.skus)) {
        const first = entries[0];
        if (first !== undefined) productsSince = Math.min(productsSince, dayNumber(first[0]));
      }
    }
    return productsSince;
  };
  const skus = new Map<string, [number, number | null][]>();
  const skuEntries = (sku: string) => {
    let entries = skus.get(sku);
    if (entries === undefined) {
      entries = Object.hasOwn(history.skus, sku) ? before(history.skus[sku] as [string, number | null][]) : [];
      const first = entries[0];
      if (first !== undefined && first[0] > firstProductsNight()) entries.unshift([firstProductsNight(), null]);
      skus.set(sku, entries);
    }
    return entries;
  };
  const answerDays = before(history.answerDays);
  const stockUpDays = before(history.stockUpDays ?? []);
  return {
    catalogCycleOn(sku, day) {
      const entry = entryOn(skuEntries(sku), day);
      return entry === undefined ? tonight.catalogCycleOf(sku) : (entry.value ?? undefined);
    },
    answerDaysOn(day) {
      return entryOn(answerDays, day)?.value ?? tonight.answerDays;
    },
    stockUpDaysOn(day) {
      return entryOn(stockUpDays, day)?.value ?? tonight.stockUpDays;
    },
    changeDaysBetween(sku, fromDay, toDay) {
      return changeDays(skuEntries(sku), fromDay, toDay, changeDays(answerDays, fromDay, toDay));
    },
  };
}

/** Whether two history values are the same (a missing entry is none). */
const same = (a: number | null | undefined, b: number | null | undefined) => (a ?? null) === (b ?? null);

/** A night's leads as the history keeps them (runOutReminderLeadDays, replenishmentLeadDays). */
export interface NightLeads {
  answerDays: number;
  stockUpDays: number;
}

/**
 * The history with a night of `runDate` recorded: its products' cycles (`catalog`, undefined when
 * the export had none: the stored catalogue stays in force), its answer window and its stock-ups'
 * grouping, each only where it differs from what was in force before that night. A night recorded
 * again (a rerun) replaces its own entries. Pure.
 */
export function historyAfterNight(history: CycleHistory, runDate: string, catalog: ReadonlyMap<string, Pick<ProductRecord, 'replenishDays'>> | undefined, leads: NightLeads): CycleHistory {
  const withNight = <T extends number | null>(entries: readonly [string, T][], value: T): [string, T][] => {
    const others = entries.filter(([from]) => from !== runDate);
    const previous = others.filter(([from]) => from < runDate).at(-1);
    if (previous !== undefined ? same(previous[1], value) : false) return others;
    return [...others, [runDate, value] as [string, T]].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  };
  const skus: Record<string, [string, number | null][]> = Object.create(null) as Record<string, [string, number | null][]>;
  for (const [sku, entries] of Object.entries(history.skus)) skus[sku] = entries;
  if (catalog !== undefined) {
    const names = new Set([...Object.keys(skus), ...catalog.keys()]);
    for (const sku of names) {
      // A SKU without a cycle is recorded too: should it get one later, the days before had none.
      skus[sku] = withNight(skus[sku] ?? [], catalogCycleDays(catalog.get(sku)) ?? null);
    }
  }
  return { skus, answerDays: withNight(history.answerDays, leads.answerDays), stockUpDays: withNight(history.stockUpDays ?? [], leads.stockUpDays) };
}
