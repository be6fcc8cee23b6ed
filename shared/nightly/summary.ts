import { STAGES, TIERS, type ClientProfile, type Stage, type Tier } from '../model.ts';

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
}

/** How many rising clients a summary names. */
export const RISING_TOP = 10;

const byValueThenId = (a: RisingClient, b: RisingClient) =>
  b.clv12mMinor - a.clv12mMinor || (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0);

export function distribution(profiles: Iterable<ClientProfile>): Distribution {
  const tiers = Object.fromEntries(
    TIERS.map((t) => [t, { clients: 0, buyerShare: 0, revenueMinor: 0, revenueShare: 0 }]),
  ) as Record<Tier, TierFigures>;
  const stages = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>;
  const risingByTier = Object.fromEntries(TIERS.map((t) => [t, 0])) as Record<Tier, number>;
  let rising: RisingClient[] = [];
  let risingClients = 0;
  let clients = 0;
  let revenueMinor = 0;
  let buyers12m = 0;
  let repeatBuyers12m = 0;
  for (const profile of profiles) {
    clients++;
    tiers[profile.tier].clients++;
    tiers[profile.tier].revenueMinor += profile.spend12mMinor;
    revenueMinor += profile.spend12mMinor;
    stages[profile.stage]++;
    if (profile.spend12mMinor > 0) {
      buyers12m++;
      if (profile.orderCount >= 2) repeatBuyers12m++;
    }
    if (profile.clv?.rising) {
      risingClients++;
      risingByTier[profile.tier]++;
      rising.push({ customerId: profile.customerId, tier: profile.tier, clv12mMinor: profile.clv.clv12mMinor, spend12mMinor: profile.spend12mMinor });
      // Keeps memory bounded on a large base: only the best few are ever needed.
      if (rising.length >= RISING_TOP * 50) rising = rising.sort(byValueThenId).slice(0, RISING_TOP);
    }
  }
  const buyers = clients - tiers.Prospect.clients;
  for (const tier of TIERS) {
    const figures = tiers[tier];
    figures.buyerShare = tier === 'Prospect' || buyers === 0 ? 0 : figures.clients / buyers;
    figures.revenueShare = revenueMinor === 0 ? 0 : figures.revenueMinor / revenueMinor;
  }
  return {
    clients,
    buyers,
    revenueMinor,
    tiers,
    stages,
    repurchase: { buyers12m, repeatBuyers12m, rate: buyers12m === 0 ? 0 : repeatBuyers12m / buyers12m },
    rising: { clients: risingClients, byTier: risingByTier, top: rising.sort(byValueThenId).slice(0, RISING_TOP) },
  };
}
