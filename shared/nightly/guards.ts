import type { Config } from '#shared/config.ts';
import type { Stage } from '#shared/model.ts';
import { lapseDepth, lapseDepthOfStage } from '#shared/tiering/lifecycle.ts';
import { addMinor, displayMinor } from '#shared/money.ts';
import { absentBefore } from './absent.ts';
import { thresholdText } from '#shared/percent.ts';

/**
 * The checks a night must pass before it writes anything. Real bases do not halve overnight;
 * broken exports do: a night whose figures fall far below the last completed night's, that
 * would move an unusual share of buyers down or up a tier (amounts read in the wrong unit, tier
 * thresholds edited), whose buyers' orders went back in time (a part of the orders missing), or
 * in whose export an unusual share of its clients are in no file at all, stops unless an operator
 * accepts it. Pure: the figures come in, the violations go out.
 */

/** What a night is compared on. */
export interface NightFigures {
  /** Clients the night knows (customers and buyers). */
  clients: number;
  /** Order lines accepted from the export. */
  orderLines: number;
  /** Trailing-12-month net revenue, minor units. */
  revenue12mMinor: number;
  /** Clients with a purchase (tier above Prospect). */
  buyers: number;
}

export interface LastNight extends NightFigures {
  runDate: string;
  /** SKUs in the catalogue it left (absent in summaries written before they were counted). */
  catalogueSkus?: number;
  /** Of them, the SKUs with a replenishment cycle (absent in summaries written before they were counted). */
  catalogueCycleSkus?: number;
  /**
   * Written by a version before absence marks (its summary counts no newly absent clients): the
   * clients its export lacked were left unmarked, and tonight finds them unmarked (withAbsentBeforeMarking).
   */
  beforeAbsenceMarks?: true;
}

/** What tonight would do to the clients the last completed night held as buyers (each counted against its buyers). */
export interface NightMoves {
  /** Clients whose tier tonight is below their tier in the base, but for a fall the 12-month window's moving since explains (orders of a year ago left it). */
  downgrades: number;
  /** Buyers whose tier tonight is above their tier in the base (a first purchase, from Prospect, is not counted). */
  upgrades: number;
  /** Buyers whose orders went back or who lapse further than time explains (unexplainedLapse). */
  unexplainedLapses: number;
  /** Clients of the base in no file of tonight's export who were in the last one's (absent.ts): counted against its clients. */
  newlyAbsent: number;
  /**
   * Clients of the base whose profile holds no consent (a no, or never a yes) to whom tonight's
   * customers row says yes (stored-contact.ts): counted against its clients. Absent from figures
   * of earlier versions.
   */
  consentGivenBack?: number;
  /**
   * Clients of the base whose stored address tonight's customers row replaces with another
   * (normalised; a first address is no change; one an hourly increment changed since the night is
   * not compared): counted against its clients. Absent from figures of earlier versions.
   */
  addressesChanged?: number;
}

/**
 * Clients erased (forget) since the last completed night began whom tonight's export still has:
 * that night counted them, tonight leaves them out. Their part is taken out of the last night's
 * figures before they are compared, so that a forget alone never looks like a broken export.
 * Their order lines stay in both nights' counts (the lines are the export's).
 */
export interface ErasedSinceLastNight {
  /** Their count. */
  erasedSinceLastNight: number;
  erasedSinceLastNightRevenue12mMinor: number;
  erasedSinceLastNightBuyers: number;
}

/** Tonight's figures as a night's admission keeps them: those compared, the clients missing since an earlier night (shown, not compared), and those erased since the last night (absent in summaries written before they were counted). */
export type TonightFigures = NightFigures &
  NightMoves & {
    /**
     * The net spend of the orders that left the 12-month window since the last completed night (a
     * sale day a year ago): compared, the revenue counts them, as a fall time explains is no broken
     * export (absent from figures of earlier versions).
     */
    revenueLeftWindowMinor?: number;
    stillAbsent?: number;
    /** Tonight's clients whom a night had written before (absent from figures of earlier versions): see withAbsentBeforeMarking. */
    seenBefore?: number;
    /** Of the clients tonight marks, those missing since before the last night, a night of a version before absence marks: marked, not counted in newlyAbsent. */
    absentBeforeMarking?: number;
    /** SKUs in tonight's products (0 or absent: none, the catalogue is kept). */
    productSkus?: number;
    /** SKUs in the catalogue the night leaves: tonight's products, or the catalogue kept (set by the admission). */
    catalogueSkus?: number;
    /** Of tonight's products, the SKUs with a replenishment cycle (`replenish_days`). */
    productCycleSkus?: number;
    /** Of the catalogue the night leaves, the SKUs with a cycle (set by the admission). */
    catalogueCycleSkus?: number;
  } & Partial<ErasedSinceLastNight>;

/** The last night's figures without the clients erased since (ErasedSinceLastNight). Pure. */
export function lastNightWithoutErased(lastNight: LastNight, erased: Partial<ErasedSinceLastNight>): LastNight {
  return {
    ...lastNight,
    clients: lastNight.clients - (erased.erasedSinceLastNight ?? 0),
    revenue12mMinor: lastNight.revenue12mMinor - (erased.erasedSinceLastNightRevenue12mMinor ?? 0),
    buyers: lastNight.buyers - (erased.erasedSinceLastNightBuyers ?? 0),
  };
}

type FigureCheck = 'clients' | 'orderLines' | 'revenue12m';
type ShareCheck = keyof NightMoves;
export type PlausibilityCheck = FigureCheck | ShareCheck | 'catalogue' | 'catalogue-cycles';

export interface GuardViolation {
  check: PlausibilityCheck;
  /** Tonight's figure and the last completed night's (for the moves: its buyers, or its clients for the absent ones; for the catalogue: the SKUs stored). */
  tonight: number;
  lastNight: number;
  /** The share that was allowed. */
  limit: number;
  message: string;
}

const FIGURE_NAMES: Record<FigureCheck, string> = {
  clients: 'clients',
  orderLines: 'order lines',
  revenue12m: '12-month revenue',
};


/**
 * Whether `part / whole` exceeds `share`. Shares like 0.45 have no exact binary form
 * (100 * (1 - 0.45) is 55.00000000000001): exactly the allowed share must pass, so the
 * comparison forgives far less than one unit in a billion.
 */
const exceeds = (part: number, whole: number, share: number) => part / whole > share + 1e-12;

/**
 * The rules that place clients in tiers and stages. Edited between two nights, they move clients
 * whose orders did not change: a night records them, and names what changed since the last
 * completed night (ruleChanges).
 */
export type NightRules = Pick<Config, 'currency' | 'exchangeRates' | 'tiers' | 'lifecycle'>;

export function nightRules(config: NightRules): NightRules {
  return { currency: config.currency, exchangeRates: config.exchangeRates, tiers: config.tiers, lifecycle: config.lifecycle };
}

/** What changed from one night's rules to the next's, one entry a value: "tiers.core 5000 → 3000" ("none" for a value added or removed). Pure. */
export function ruleChanges(before: NightRules, tonight: NightRules): string[] {
  const changes: string[] = [];
  const compare = (path: string, from: string | number | undefined, to: string | number | undefined) => {
    if (from !== to) changes.push(`${path} ${from ?? 'none'} → ${to ?? 'none'}`);
  };
  compare('currency', before.currency, tonight.currency);
  for (const section of ['exchangeRates', 'tiers', 'lifecycle'] as const) {
    const was: Record<string, string | number | undefined> = before[section];
    const now: Record<string, string | number | undefined> = tonight[section];
    for (const key of new Set([...Object.keys(was), ...Object.keys(now)])) compare(`${section}.${key}`, was[key], now[key]);
  }
  return changes;
}

/** What a buyer of the base held, as the last completed night stored it. */
export interface OrdersBefore {
  stage: Stage;
  /** Set for a client the exports lacked (absent.ts absentSinceOf): their stage is as of the last night that had them, not the last night. */
  absentSince?: string;
  orderCount?: number;
  /** Epoch ms. */
  lastOrderAt?: number;
}

/** The same client tonight (ClientTierMeasure). */
export interface OrdersTonight {
  orderCount: number;
  /** Epoch ms. */
  lastOrderAt?: number;
  /** Days from the last order's local date to tonight's run date. */
  daysSinceLast?: number;
}

export interface LapseClock {
  /** Tonight's run date (YYYY-MM-DD). */
  runDate: string;
  /** The run's clock (epoch ms): an order at or after it is not tonight's to see. */
  now: number;
  /** Days from the last completed night to tonight; undefined on a first night. */
  daysSinceLastNight?: number;
  lifecycle: Config['lifecycle'];
}

/**
 * Whether a buyer of the base looks more lapsed tonight than the days since the last completed
 * night explain. Snapshots are full: orders do not vanish and days pass one at a time. So a last
 * order that moves earlier, a count of orders that falls, or a lapse (sleeping, churned) that the
 * client had reached by the last night and that night did not see, means tonight's export lost
 * orders (a part missing) or the stage rules changed. Real life does it rarely: a refund or
 * cancellation of a client's latest order. Pure.
 */
export function unexplainedLapse(before: OrdersBefore, tonight: OrdersTonight, clock: LapseClock): boolean {
  // No order to lose (a prospect).
  if (before.lastOrderAt === undefined) return false;
  // An order past tonight's clock (an intraday increment merged it) is not tonight's to see: not lost.
  if (before.lastOrderAt >= clock.now) return false;
  if (tonight.lastOrderAt === undefined || tonight.lastOrderAt < before.lastOrderAt) return true;
  if (before.orderCount !== undefined && tonight.orderCount < before.orderCount) return true;
  // Back after nights that lacked them: their stage stood still meanwhile, so time explains any lapse.
  if (absentBefore(before, clock.runDate)) return false;
  if (clock.daysSinceLastNight === undefined || tonight.daysSinceLast === undefined) return false;
  const lapseByLastNight = lapseDepth(tonight.daysSinceLast - clock.daysSinceLastNight, clock.lifecycle);
  return lapseByLastNight > lapseDepthOfStage(before.stage);
}

/**
 * Tonight's figures after a last night written by a version before absence marks: the clients in
 * no file that such versions never marked are all unmarked tonight, those missing for months as
 * those the export lost tonight, and counted alike they refuse the first night after the upgrade
 * for every client the platform deleted meanwhile. Tonight's newly absent are at most the clients
 * of the last night that tonight's export lacks: its clients (less those erased since) less
 * tonight's clients a night had written (seenBefore; a client back tonight from an earlier absence
 * among them makes it fewer). The rest were missing before: marked tonight, counted in
 * absentBeforeMarking, not against maxNewlyAbsentShare. A night after it counts as usual. Pure.
 */
export function withAbsentBeforeMarking(tonight: TonightFigures, lastNight: LastNight | undefined): TonightFigures {
  if (lastNight?.beforeAbsenceMarks !== true || tonight.seenBefore === undefined) return tonight;
  const lost = Math.max(0, lastNightWithoutErased(lastNight, tonight).clients - tonight.seenBefore);
  const newlyAbsent = Math.min(tonight.newlyAbsent, lost);
  return { ...tonight, newlyAbsent, absentBeforeMarking: tonight.newlyAbsent - newlyAbsent };
}

/**
 * The fewest clients a move must count to refuse a night, whatever their share. The shares are
 * for an unusual share of a base: in a small one a few ordinary moves exceed them (two repeat
 * purchases among 30 buyers are 6.7% upgrades, one refund among them 3.3% unexplained lapses),
 * while a broken export moves far more than ten clients of any base it can hurt much.
 */
export const MIN_CLIENTS_MOVED = 10;

/** For each move: its limit, what the message says the clients would do, and what it is a share of (the last night's buyers, or all its clients). */
const MOVES: Record<ShareCheck, { limit: (limits: Config['plausibility']) => number; would: (lastNight: LastNight) => string; of: 'buyers' | 'clients' }> = {
  downgrades: { limit: (l) => l.maxDowngradeShare, would: () => 'would move down a tier', of: 'buyers' },
  upgrades: { limit: (l) => l.maxUpgradeShare, would: () => 'would move up a tier', of: 'buyers' },
  unexplainedLapses: {
    limit: (l) => l.maxUnexplainedLapseShare,
    would: (last) => `would lose orders or lapse further than the days since ${last.runDate} explain (an earlier last order, fewer orders, or sleeping or churned sooner)`,
    of: 'buyers',
  },
  newlyAbsent: {
    limit: (l) => l.maxNewlyAbsentShare,
    would: () => 'are in no file of tonight\'s export (no customer row, no order line)',
    of: 'clients',
  },
  consentGivenBack: {
    limit: (l) => l.maxConsentGivenBackShare,
    would: () => 'would be given marketing consent by tonight\'s customers rows though their profile holds none (a no, or never a yes)',
    of: 'clients',
  },
  addressesChanged: {
    limit: (l) => l.maxAddressChangeShare,
    would: () => 'would have their stored email address replaced by another by tonight\'s customers rows (their emails would go to it)',
    of: 'clients',
  },
};

/**
 * The figures that fell by more than `maxDropShare` since the last completed night, and the moves
 * above their share of its buyers (downgrades, upgrades, unexplained lapses) or of its clients
 * (newly absent, consent given back, addresses changed) that count at least MIN_CLIENTS_MOVED
 * clients, the clients erased since that night left out of its figures. Empty on a first night
 * (nothing to compare).
 */
export function plausibilityViolations(tonight: TonightFigures, lastCompleted: LastNight | undefined, limits: Config['plausibility'], currency: string): GuardViolation[] {
  if (!lastCompleted) return [];
  const lastNight = lastNightWithoutErased(lastCompleted, tonight);
  const erased = tonight.erasedSinceLastNight ?? 0;
  const erasedNote = erased > 0 ? `, its ${erased.toLocaleString('en-US')} client(s) erased since left out` : '';
  const violations: GuardViolation[] = [];
  // The revenue in the last night's window: orders that left the 12-month window since are time's, not a broken export's.
  const leftWindow = tonight.revenueLeftWindowMinor ?? 0;
  const leftNote = leftWindow > 0 ? ` counting the ${displayMinor(leftWindow, currency)} of orders that left the 12-month window since then` : '';
  const drops: [FigureCheck, number, number][] = [
    ['clients', tonight.clients, lastNight.clients],
    ['orderLines', tonight.orderLines, lastNight.orderLines],
    ['revenue12m', leftWindow > 0 ? addMinor(tonight.revenue12mMinor, leftWindow, 'the 12-month revenue') : tonight.revenue12mMinor, lastNight.revenue12mMinor],
  ];
  for (const [check, now, before] of drops) {
    if (before <= 0 || !exceeds(before - now, before, limits.maxDropShare)) continue;
    const fall = (before - now) / before;
    // Revenue as every other screen shows money (its minor units would read 100 times the amount in USD).
    const figure = (value: number) => (check === 'revenue12m' ? displayMinor(value, currency) : value.toLocaleString('en-US'));
    violations.push({
      check,
      tonight: now,
      lastNight: before,
      limit: limits.maxDropShare,
      message: `${FIGURE_NAMES[check]} fell by ${thresholdText(fall)} since ${lastNight.runDate} (${figure(now)}${check === 'revenue12m' ? leftNote : ''} against ${figure(before)}${erasedNote}), more than the ${thresholdText(limits.maxDropShare)} allowed`,
    });
  }
  for (const [check, move] of Object.entries(MOVES) as [ShareCheck, (typeof MOVES)[ShareCheck]][]) {
    const whole = lastNight[move.of];
    // Figures of earlier versions lack the later moves: none counted.
    const count = tonight[check] ?? 0;
    const limit = move.limit(limits);
    if (whole <= 0 || count < MIN_CLIENTS_MOVED || !exceeds(count, whole, limit)) continue;
    violations.push({
      check,
      tonight: count,
      lastNight: whole,
      limit,
      message: `${count.toLocaleString('en-US')} clients ${move.would(lastNight)}, ${thresholdText(count / whole)} of the ${whole.toLocaleString('en-US')} ${move.of} of ${lastNight.runDate}, more than the ${thresholdText(limit)} allowed`,
    });
  }
  return violations;
}

/**
 * What tonight's products would do to the catalogue the last completed night left, which the
 * night replaces with them (the sender's replenishment cycles, the product blocks' links and prices).
 */
export interface CatalogueFigures {
  /** SKUs in tonight's products (one catalogue entry each, however many rows name them). */
  productSkus: number;
  /** SKUs in the catalogue before tonight. */
  storedSkus: number;
  /** Of each, the SKUs with a replenishment cycle (absent: not compared). */
  productCycleSkus?: number;
  storedCycleSkus?: number;
}

/**
 * The catalogue shrinking by more than `maxDropShare`, or its SKUs with a replenishment cycle
 * doing so: a products export is a full snapshot like the others, and one that lost a part would
 * stop replenishment for every SKU it lost; one that lost its `replenish_days` column (renamed,
 * left out by a changed export job) would stop it for every SKU, and the history would record
 * them all without a cycle. Pure.
 */
export function catalogueViolations(catalogue: CatalogueFigures, limits: Config['plausibility']): GuardViolation[] {
  const { productSkus, storedSkus, productCycleSkus, storedCycleSkus } = catalogue;
  const violations: GuardViolation[] = [];
  if (storedSkus > 0 && exceeds(storedSkus - productSkus, storedSkus, limits.maxDropShare)) {
    violations.push({
      check: 'catalogue',
      tonight: productSkus,
      lastNight: storedSkus,
      limit: limits.maxDropShare,
      message:
        `the products catalogue would fall by ${thresholdText((storedSkus - productSkus) / storedSkus)} (was ${storedSkus.toLocaleString('en-US')} SKUs, ` +
        `now ${productSkus.toLocaleString('en-US')}), more than the ${thresholdText(limits.maxDropShare)} allowed`,
    });
  }
  // SKUs lost lose their cycles with them: the catalogue's refusal says it.
  if (violations.length > 0) return violations;
  if (productCycleSkus !== undefined && storedCycleSkus !== undefined && storedCycleSkus > 0 && exceeds(storedCycleSkus - productCycleSkus, storedCycleSkus, limits.maxDropShare)) {
    violations.push({
      check: 'catalogue-cycles',
      tonight: productCycleSkus,
      lastNight: storedCycleSkus,
      limit: limits.maxDropShare,
      message:
        `the products with a replenishment cycle (replenish_days) would fall by ${thresholdText((storedCycleSkus - productCycleSkus) / storedCycleSkus)} ` +
        `(were ${storedCycleSkus.toLocaleString('en-US')} SKUs, now ${productCycleSkus.toLocaleString('en-US')}), more than the ${thresholdText(limits.maxDropShare)} allowed`,
    });
  }
  return violations;
}
