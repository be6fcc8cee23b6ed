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

export function distribution(profiles: Iterable<ClientProfile>): Distribution {
  const tiers = Object.fromEntries(
    TIERS.map((t) => [t, { clients: 0, buyerShare: 0, revenueMinor: 0, revenueShare: 0 }]),
  ) as Record<Tier, TierFigures>;
  const stages = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>;
  let clients = 0;
  let revenueMinor = 0;
  for (const profile of profiles) {
    clients++;
    tiers[profile.tier].clients++;
    tiers[profile.tier].revenueMinor += profile.spend12mMinor;
    revenueMinor += profile.spend12mMinor;
    stages[profile.stage]++;
  }
  const buyers = clients - tiers.Prospect.clients;
  for (const tier of TIERS) {
    const figures = tiers[tier];
    figures.buyerShare = tier === 'Prospect' || buyers === 0 ? 0 : figures.clients / buyers;
    figures.revenueShare = revenueMinor === 0 ? 0 : figures.revenueMinor / revenueMinor;
  }
  return { clients, buyers, revenueMinor, tiers, stages };
}
