import { STAGES, TIERS, type ClientProfile, type Stage, type Tier } from '../model.ts';

/** Clients and 12-month revenue per tier, and clients per stage: the night's headline figures. */

export interface TierFigures {
  clients: number;
  /** Share of buyers (clients with a purchase), 0..1; prospects are not buyers. */
  buyerShare: number;
  revenueMinor: number;
  /** Share of the trailing-12-month revenue, 0..1. */
  revenueShare: number;
}

export interface Distribution {
  clients: number;
  buyers: number;
  revenueMinor: number;
  tiers: Record<Tier, TierFigures>;
  stages: Record<Stage, number>;
}

function emptyDistribution(): Distribution {
  return {
    clients: 0,
    buyers: 0,
    revenueMinor: 0,
    tiers: Object.fromEntries(TIERS.map((t) => [t, { clients: 0, buyerShare: 0, revenueMinor: 0, revenueShare: 0 }])) as Record<Tier, TierFigures>,
    stages: Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>,
  };
}

/** Buyers and shares from the counts. */
function withShares(d: Distribution): Distribution {
  d.buyers = d.clients - d.tiers.Prospect.clients;
  for (const tier of TIERS) {
    const figures = d.tiers[tier];
    figures.buyerShare = tier === 'Prospect' || d.buyers === 0 ? 0 : figures.clients / d.buyers;
    figures.revenueShare = d.revenueMinor === 0 ? 0 : figures.revenueMinor / d.revenueMinor;
  }
  return d;
}

export function distribution(profiles: Iterable<ClientProfile>): Distribution {
  const d = emptyDistribution();
  for (const profile of profiles) {
    d.clients++;
    d.tiers[profile.tier].clients++;
    d.tiers[profile.tier].revenueMinor += profile.spend12mMinor;
    d.revenueMinor += profile.spend12mMinor;
    d.stages[profile.stage]++;
  }
  return withShares(d);
}

/** The distribution of a base from its shards' distributions: counts add up, shares are recomputed. */
export function mergeDistributions(parts: readonly Distribution[]): Distribution {
  const d = emptyDistribution();
  for (const part of parts) {
    d.clients += part.clients;
    d.revenueMinor += part.revenueMinor;
    for (const tier of TIERS) {
      d.tiers[tier].clients += part.tiers[tier].clients;
      d.tiers[tier].revenueMinor += part.tiers[tier].revenueMinor;
    }
    for (const stage of STAGES) d.stages[stage] += part.stages[stage];
  }
  return withShares(d);
}
