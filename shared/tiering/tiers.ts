import type { Config } from '#shared/config.ts';
import type { Tier } from '#shared/model.ts';
import { parseAmount } from '#shared/money.ts';

/** Written in shared/model.ts (the campaign triggers tell an upgrade too). */
export { isTierUpgrade, tierRank } from '#shared/model.ts';

/** Tier thresholds in minor units of config.currency (e.g. 50,000.00 USD → 5_000_000). */
export interface TierThresholdsMinor {
  vic: number;
  core: number;
  potential: number;
}

/** Converts the configured decimal-string thresholds exactly (no floats) into minor units. */
export function tierThresholdsMinor(config: Pick<Config, 'tiers' | 'currency'>): TierThresholdsMinor {
  const parse = (name: keyof TierThresholdsMinor): number => {
    const value = config.tiers[name];
    const minor = parseAmount(value, config.currency);
    if (minor === undefined) throw new RangeError(`tiers.${name} "${value}" is not an amount of ${config.currency}`);
    return minor;
  };
  return { vic: parse('vic'), core: parse('core'), potential: parse('potential') };
}

/**
 * Tier by trailing-12-month net spend: thresholds are inclusive lower bounds (exactly
 * 50,000.00 is VIC). Below Potential, a client who has ever had a counted order is Entry
 * (a lapsed buyer with no spend in the window stays Entry; their stage tells they lapsed);
 * one who never had is a Prospect. Positive spend implies a purchase, so it is Entry even if
 * the flag says otherwise: the tier never goes down as spend goes up.
 */
export function tierFor(spend12mMinor: number, hasPurchased: boolean, thresholds: TierThresholdsMinor): Tier {
  if (spend12mMinor >= thresholds.vic) return 'VIC';
  if (spend12mMinor >= thresholds.core) return 'Core';
  if (spend12mMinor >= thresholds.potential) return 'Potential';
  if (hasPurchased || spend12mMinor > 0) return 'Entry';
  return 'Prospect';
}
