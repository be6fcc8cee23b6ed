import { STAGES, TIERS, type ClientClv, type ClientProfile, type Stage, type Tier } from '#shared/model.ts';
import { addMinor } from '#shared/money.ts';

/**
 * The night's headline figures: clients and 12-month revenue per tier, clients per stage, the
 * repurchase rate and the rising clients. Stored in every run summary, so the nightly report can
 * draw a trend from the runs table without reading a single profile.
 */

export interface TierFigures {
  clients: number;
  /** Share of buyers (clients with a purchase), 0..1; prospects are not buyers. */
  buyerShare: number;
  revenueMinor: number;
  /** Share of the trailing-12-month revenue, 0..1. */
  revenueShare: number;
}

/**
 * Repurchase rate (domain.md: below 30% is a warning): of the clients who bought in the trailing
 * 12 months (12-month net spend > 0), the share who have placed two or more orders in all
 * (orderCount >= 2, lifetime). A client's second order is what the lifecycle emails work for; the
 * profile keeps a lifetime order count, not one per 12 months, so a client who came back this
 * year after an older order counts as a repeat buyer, which is what the team wants to see.
 */
export interface RepurchaseFigures {
  /** Clients with a positive 12-month net spend. */
  buyers12m: number;
  /** Of those, clients with 2+ orders. */
  repeatBuyers12m: number;
  /** repeatBuyers12m / buyers12m, 0..1; 0 when there are no 12-month buyers. */
  rate: number;
}

/** A rising client (profile.clv.rising: the predicted 12-month value reaches the next tier). Ids only: the report goes to the team. */
export interface RisingClient {
  customerId: string;
  tier: Tier;
  /** The night's unrounded prediction (the stored, rounded one for a profile the night did not predict). */
  clv12mMinor: number;
  spend12mMinor: number;
}

export interface RisingFigures {
  clients: number;
  byTier: Record<Tier, number>;
  /** The highest predicted 12-month values first (then by id, so the list is stable). */
  top: RisingClient[];
}

export interface Distribution {
  clients: number;
  buyers: number;
  revenueMinor: number;
  tiers: Record<Tier, TierFigures>;
  stages: Record<Stage, number>;
  /** Absent from summaries written before it was added. */
  repurchase?: RepurchaseFigures;
  /** Absent from summaries written before it was added. */
  rising?: RisingFigures;
  /** Buyers per RFM segment (only segments with buyers). Absent from summaries written before it was added. */
  rfmSegments?: Record<string, number>;
}

/** How many rising clients a summary names. */
export const RISING_TOP = 10;

const byValueThenId = (a: RisingClient, b: RisingClient) =>
  b.clv12mMinor - a.clv12mMinor || (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0);

function emptyDistribution(): Required<Distribution> {
  return {
    clients: 0,
    buyers: 0,
    revenueMinor: 0,
    tiers: Object.fromEntries(TIERS.map((t) => [t, { clients: 0, buyerShare: 0, revenueMinor: 0, revenueShare: 0 }])) as Record<Tier, TierFigures>,
    stages: Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>,
    repurchase: { buyers12m: 0, repeatBuyers12m: 0, rate: 0 },
    rising: { clients: 0, byTier: Object.fromEntries(TIERS.map((t) => [t, 0])) as Record<Tier, number>, top: [] },
    rfmSegments: {},
  };
}

/** Buyers, shares, the repurchase rate and the top rising clients, from the counts. */
function finished(d: Required<Distribution>): Distribution {
  d.buyers = d.clients - d.tiers.Prospect.clients;
  for (const tier of TIERS) {
    const figures = d.tiers[tier];
    figures.buyerShare = tier === 'Prospect' || d.buyers === 0 ? 0 : figures.clients / d.buyers;
    figures.revenueShare = d.revenueMinor === 0 ? 0 : figures.revenueMinor / d.revenueMinor;
  }
  const { buyers12m, repeatBuyers12m } = d.repurchase;
  d.repurchase.rate = buyers12m === 0 ? 0 : repeatBuyers12m / buyers12m;
  d.rising.top = d.rising.top.sort(byValueThenId).slice(0, RISING_TOP);
  return d;
}

export interface DistributionOptions {
  /**
   * The 12-month CLV a rising client is ranked and shown on: the night's unrounded prediction
   * (shared/clv/profile-clv.ts predictedClv12mMinor, passed in by the night: clv imports tiering).
   * Without it, the stored (rounded) value.
   */
  clv12mMinorOf?: (clv: ClientClv) => number;
}

export function distribution(profiles: Iterable<ClientProfile>, options: DistributionOptions = {}): Distribution {
  const collector = distributionCollector(options);
  for (const profile of profiles) collector.add(profile);
  return collector.result();
}

/** distribution() fed one profile at a time, for a pass over the profiles made for something else. */
export function distributionCollector(options: DistributionOptions = {}): { add(profile: ClientProfile): void; result(): Distribution } {
  const d = emptyDistribution();
  const clv12mMinorOf = options.clv12mMinorOf ?? ((clv: ClientClv) => clv.clv12mMinor);
  const add = (profile: ClientProfile): void => {
    d.clients++;
    d.tiers[profile.tier].clients++;
    const tier = d.tiers[profile.tier];
    tier.revenueMinor = addMinor(tier.revenueMinor, profile.spend12mMinor, "a tier's 12-month revenue");
    d.revenueMinor = addMinor(d.revenueMinor, profile.spend12mMinor, 'the 12-month revenue');
    d.stages[profile.stage]++;
    if (profile.spend12mMinor > 0) {
      d.repurchase.buyers12m++;
      if (profile.orderCount >= 2) d.repurchase.repeatBuyers12m++;
    }
    const segment = profile.rfm?.segment;
    if (segment !== undefined) d.rfmSegments[segment] = (d.rfmSegments[segment] ?? 0) + 1;
    if (profile.clv?.rising) {
      d.rising.clients++;
      d.rising.byTier[profile.tier]++;
      d.rising.top.push({ customerId: profile.customerId, tier: profile.tier, clv12mMinor: clv12mMinorOf(profile.clv), spend12mMinor: profile.spend12mMinor });
      // Keeps memory bounded on a large base: only the best few are ever needed.
      if (d.rising.top.length >= RISING_TOP * 50) d.rising.top = d.rising.top.sort(byValueThenId).slice(0, RISING_TOP);
    }
  };
  return { add, result: () => finished(d) };
}

/** The distribution of a base from its shards' distributions: counts add up, shares and tops are recomputed. */
export function mergeDistributions(parts: readonly Distribution[]): Distribution {
  const d = emptyDistribution();
  for (const part of parts) {
    d.clients += part.clients;
    d.revenueMinor = addMinor(d.revenueMinor, part.revenueMinor, 'the 12-month revenue');
    for (const tier of TIERS) {
      d.tiers[tier].clients += part.tiers[tier].clients;
      d.tiers[tier].revenueMinor = addMinor(d.tiers[tier].revenueMinor, part.tiers[tier].revenueMinor, "a tier's 12-month revenue");
      d.rising.byTier[tier] += part.rising?.byTier[tier] ?? 0;
    }
    for (const stage of STAGES) d.stages[stage] += part.stages[stage];
    d.repurchase.buyers12m += part.repurchase?.buyers12m ?? 0;
    d.repurchase.repeatBuyers12m += part.repurchase?.repeatBuyers12m ?? 0;
    for (const [segment, buyers] of Object.entries(part.rfmSegments ?? {})) d.rfmSegments[segment] = (d.rfmSegments[segment] ?? 0) + buyers;
    d.rising.clients += part.rising?.clients ?? 0;
    d.rising.top.push(...(part.rising?.top ?? []));
  }
  return finished(d);
}
