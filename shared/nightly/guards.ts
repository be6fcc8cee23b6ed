import type { Config } from '#shared/config.ts';

/**
 * The checks a night must pass before it writes anything. Real bases do not halve overnight;
 * broken exports do: a night whose figures fall far below the last completed night's, or that
 * would downgrade an unusual share of buyers, stops unless an operator accepts it. Pure: the
 * figures come in, the violations go out.
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
}

export type PlausibilityCheck = 'clients' | 'orderLines' | 'revenue12m' | 'downgrades';

export interface GuardViolation {
  check: PlausibilityCheck;
  /** Tonight's figure and the last completed night's (for downgrades: its buyers). */
  tonight: number;
  lastNight: number;
  /** The share that was allowed. */
  limit: number;
  message: string;
}

const FIGURE_NAMES: Record<Exclude<PlausibilityCheck, 'downgrades'>, string> = {
  clients: 'clients',
  orderLines: 'order lines',
  revenue12m: '12-month revenue',
};

const pct = (share: number) => `${(share * 100).toFixed(2).replace(/\.?0+$/, '')}%`;

/**
 * Whether `part / whole` exceeds `share`. Shares like 0.45 have no exact binary form
 * (100 * (1 - 0.45) is 55.00000000000001): exactly the allowed share must pass, so the
 * comparison forgives far less than one unit in a billion.
 */
const exceeds = (part: number, whole: number, share: number) => part / whole > share + 1e-12;

/**
 * The figures that fell by more than `maxDropShare` since the last completed night, and the
 * downgrades above `maxDowngradeShare` of its buyers. Empty on a first night (nothing to compare).
 */
export function plausibilityViolations(
  tonight: NightFigures & { downgrades: number },
  lastNight: LastNight | undefined,
  limits: Config['plausibility'],
): GuardViolation[] {
  if (!lastNight) return [];
  const violations: GuardViolation[] = [];
  const drops: [Exclude<PlausibilityCheck, 'downgrades'>, number, number][] = [
    ['clients', tonight.clients, lastNight.clients],
    ['orderLines', tonight.orderLines, lastNight.orderLines],
    ['revenue12m', tonight.revenue12mMinor, lastNight.revenue12mMinor],
  ];
  for (const [check, now, before] of drops) {
    if (before <= 0 || !exceeds(before - now, before, limits.maxDropShare)) continue;
    const fall = (before - now) / before;
    violations.push({
      check,
      tonight: now,
      lastNight: before,
      limit: limits.maxDropShare,
      message: `${FIGURE_NAMES[check]} fell by ${pct(fall)} since ${lastNight.runDate} (${now.toLocaleString('en-US')} against ${before.toLocaleString('en-US')}), more than the ${pct(limits.maxDropShare)} allowed`,
    });
  }
  if (lastNight.buyers > 0 && exceeds(tonight.downgrades, lastNight.buyers, limits.maxDowngradeShare)) {
    violations.push({
      check: 'downgrades',
      tonight: tonight.downgrades,
      lastNight: lastNight.buyers,
      limit: limits.maxDowngradeShare,
      message: `${tonight.downgrades.toLocaleString('en-US')} clients would move down a tier, ${pct(tonight.downgrades / lastNight.buyers)} of the ${lastNight.buyers.toLocaleString('en-US')} buyers of ${lastNight.runDate}, more than the ${pct(limits.maxDowngradeShare)} allowed`,
    });
  }
  return violations;
}
