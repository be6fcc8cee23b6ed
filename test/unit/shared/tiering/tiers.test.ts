import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TIERS, type Tier } from '#shared/model.ts';
import { tierFor, tierThresholdsMinor, type TierThresholdsMinor } from '#shared/tiering/tiers.ts';
import { config } from './fixtures.ts';

const usd = tierThresholdsMinor(config());

describe('tierThresholdsMinor', () => {
  it('reads the default USD thresholds in cents', () => {
    expect(usd).toEqual({ vic: 5_000_000, core: 500_000, potential: 100_000 });
  });

  it('reads thresholds in another currency, exactly', () => {
    const cny = config({ currency: 'CNY', tiers: { vic: '350000', core: '35000.50', potential: '7000.05' } });
    expect(tierThresholdsMinor(cny)).toEqual({ vic: 35_000_000, core: 3_500_050, potential: 700_005 });
  });

  it('uses the currency precision (JPY has no minor unit)', () => {
    const jpy = config({ currency: 'JPY', tiers: { vic: '7500000', core: '750000', potential: '150000' } });
    expect(tierThresholdsMinor(jpy)).toEqual({ vic: 7_500_000, core: 750_000, potential: 150_000 });
  });
});

describe('tierFor', () => {
  it.each<[number, Tier]>([
    [5_000_000, 'VIC'], // exactly 50,000.00
    [4_999_999, 'Core'], // 49,999.99
    [500_000, 'Core'],
    [499_999, 'Potential'],
    [100_000, 'Potential'],
    [99_999, 'Entry'],
    [1, 'Entry'],
  ])('spend %i minor is %s', (spend, tier) => {
    expect(tierFor(spend, true, usd)).toBe(tier);
  });

  it('keeps a lapsed buyer (no spend in the window) in Entry', () => {
    expect(tierFor(0, true, usd)).toBe('Entry');
  });

  it('calls a client without a counted order a Prospect', () => {
    expect(tierFor(0, false, usd)).toBe('Prospect');
  });

  it('applies thresholds in CNY minor units', () => {
    const cny = tierThresholdsMinor(config({ currency: 'CNY', tiers: { vic: '350000', core: '35000', potential: '7000' } }));
    expect(tierFor(35_000_000, true, cny)).toBe('VIC');
    expect(tierFor(34_999_999, true, cny)).toBe('Core');
    expect(tierFor(699_999, true, cny)).toBe('Entry');
  });

  const rank = (tier: Tier): number => TIERS.length - TIERS.indexOf(tier); // VIC highest
  const thresholdsArb: fc.Arbitrary<TierThresholdsMinor> = fc
    .tuple(fc.integer({ min: 1, max: 1e9 }), fc.integer({ min: 1, max: 1e9 }), fc.integer({ min: 1, max: 1e9 }))
    .map(([p, c, v]) => ({ potential: p, core: p + c, vic: p + c + v }));

  it('is monotonic in spend (property)', () => {
    fc.assert(
      fc.property(
        thresholdsArb,
        fc.integer({ min: 0, max: 4e9 }),
        fc.integer({ min: 0, max: 4e9 }),
        fc.boolean(),
        (thresholds, a, b, hasPurchased) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          expect(rank(tierFor(low, hasPurchased, thresholds))).toBeLessThanOrEqual(rank(tierFor(high, hasPurchased, thresholds)));
          // Having purchased never lowers the tier either.
          expect(rank(tierFor(low, false, thresholds))).toBeLessThanOrEqual(rank(tierFor(low, true, thresholds)));
        },
      ),
    );
  });
});
