import { parseConfig, type Config, type ConfigInput } from '#shared/config.ts';
import type { ClientProfile, Reject, Stage, Tier, TierMove } from '#shared/model.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';
import { distribution } from '#shared/tiering/distribution.ts';
import { DEFAULT_RFM_SEGMENTS, rfmSegmentOf } from '#shared/segments/rfm-segments.ts';
import type { CampaignResults, GroupOutcome, WindowResult } from '#shared/campaign-results/model.ts';
import { buildNightlyReport } from '#shared/nightly/report.ts';
import { MigrationWindows, type NightlyReport } from '#shared/reports/nightly-report.ts';
import { addDays } from '#shared/time.ts';
import { seededRandom } from './random.ts';

/** Constructed nightly data for the report tests: deterministic, no AWS. */

export const RUN_DATE = '2026-11-23';

export function reportConfig(overrides: Partial<ConfigInput> = {}): Config {
  return parseConfig({ brandName: 'Maison <Test> & Co', ...overrides });
}

const TIER_FOR_SPEND = (spend: number, bought: boolean): Tier =>
  spend >= 5_000_000 ? 'VIC' : spend >= 500_000 ? 'Core' : spend >= 100_000 ? 'Potential' : bought ? 'Entry' : 'Prospect';

/** `n` profiles with a heavy-tailed spend; about one in five is a prospect, some are rising. */
export function profiles(n: number, seed = 1): ClientProfile[] {
  const next = seededRandom(seed);
  const stages: Stage[] = ['new', 'active', 'active', 'at-risk', 'sleeping', 'churned'];
  return Array.from({ length: n }, (_, i) => {
    const bought = next() > 0.2;
    // Pareto-like: most spend little, a few spend a lot.
    const spend = bought ? Math.round(20_000 / Math.pow(1 - next() * 0.995, 1.1)) : 0;
    const tier = TIER_FOR_SPEND(spend, bought);
    const orderCount = bought ? 1 + Math.floor(next() * next() * 6) : 0;
    const risingChance = tier === 'Entry' || tier === 'Potential' || tier === 'Core' ? 0.06 : 0;
    const profile: ClientProfile = {
      customerId: `C${String(i + 1).padStart(5, '0')}`,
      email: `client${i + 1}@example.com`,
      acceptsMarketing: true,
      tier,
      stage: bought ? (stages[Math.floor(next() * stages.length)] ?? 'active') : 'prospect',
      spend12mMinor: spend,
      lifetimeSpendMinor: spend,
      currency: 'USD',
      orderCount,
      skus: {},
    };
    if (bought) {
      // Scores from what the profile already has (no draw from `next`, so the other figures stay as they were).
      const scores = { r: 1 + ((i * 7) % 5), f: Math.min(5, orderCount + (i % 2)), m: spend >= 500_000 ? 5 : spend >= 100_000 ? 4 : spend >= 40_000 ? 3 : spend >= 25_000 ? 2 : 1 };
      profile.rfm = { ...scores, segment: rfmSegmentOf(scores, DEFAULT_RFM_SEGMENTS) };
      const clv = Math.round(spend * (0.5 + next() * 3));
      profile.clv = {
        probabilityAlive: 0.8,
        expectedPurchases90d: 0.5,
        expectedPurchases365d: 2,
        expectedAverageOrderValueMinor: 10_000,
        clv12mMinor: clv,
        rising: next() < risingChance,
        churnRisk: 'low',
      };
    }
    return profile;
  });
}

const SAMPLE_REJECTS: Reject[] = [
  { file: 's3://clientele-exports/exports/2026-11-23/orders-0001.csv', line: 17, reason: 'line_total: invalid amount (expected a decimal such as 129.90)' },
  { file: 's3://clientele-exports/exports/2026-11-23/customers.csv', line: 204, reason: 'email: invalid email' },
  { file: 's3://clientele-exports/exports/2026-11-23/orders-0002.csv', line: 9, reason: 'ordered_at: <script>alert(1)</script> is not a timestamp' },
];

export function summary(runDate: string, clientProfiles: ClientProfile[], overrides: Partial<NightlyRunSummary> = {}): NightlyRunSummary {
  const d = distribution(clientProfiles);
  const rejected = clientProfiles.length === 0 ? 0 : 7;
  return {
    job: 'nightly',
    runId: `nightly-${runDate}`,
    runDate,
    source: `s3://clientele-exports/exports/${runDate}/`,
    currency: 'USD',
    startedAt: `${runDate}T18:00:00.000Z`,
    durationMs: 12_000,
    timingsMs: { read: 4000, compute: 3000, load: 2000, write: 3000 },
    input: {
      files: [],
      rows: clientProfiles.length * 6,
      rejected,
      rejectShare: clientProfiles.length === 0 ? 0 : rejected / (clientProfiles.length * 6),
      sampleRejects: rejected === 0 ? [] : SAMPLE_REJECTS,
    },
    distribution: d,
    clv: { fitted: clientProfiles.length > 0, unit: 'weeks', calibrationEnd: `${runDate}T16:00:00.000Z`, clients: d.buyers, repeatBuyers: 100, warnings: [] },
    changes: {
      newClients: 12,
      changedProfiles: 140,
      unchangedProfiles: clientProfiles.length - 140,
      upgrades: 9,
      downgrades: 14,
      tierMovements: { 'Entry→Potential': 5, 'Core→Potential': 8 },
      stageMovements: { 'active→at-risk': 40, 'at-risk→sleeping': 22, 'new→active': 15, 'sleeping→active': 3 },
      rfmSegmentMovements: { 'loyal→at-risk': 11, 'potential-loyalists→loyal': 6, 'new→promising': 9, 'at-risk→cant-lose': 2 },
    },
    written: { profiles: 140, tierHistory: 60, retries: 0 },
    shards: 1,
    campaignResults: [],
    report: {
      summaryObject: `s3://clientele-exports/reports/nightly/${runDate}/summary.json`,
      campaignResultsObject: `s3://clientele-exports/reports/nightly/${runDate}/campaign-results.json`,
      ...(rejected > 0 ? { rejectsObject: `s3://clientele-exports/reports/nightly/${runDate}/rejects.jsonl` } : {}),
    },
    ...overrides,
  };
}

/** The last `nights` summaries before RUN_DATE: the base grows a little each night. */
export function history(nights: number, seed = 3): NightlyRunSummary[] {
  return Array.from({ length: nights }, (_, i) => {
    const date = addDays(RUN_DATE, -(nights - i));
    return summary(date, profiles(1800 + i * 6, seed + i));
  });
}

/** Tier-history records: tonight's movers and new clients, and older movements in the window. */
export function moves(current: ClientProfile[]): TierMove[] {
  const result: TierMove[] = [];
  const rank: Record<Tier, number> = { Prospect: 0, Entry: 1, Potential: 2, Core: 3, VIC: 4 };
  const below: Record<Tier, Tier> = { VIC: 'Core', Core: 'Potential', Potential: 'Entry', Entry: 'Entry', Prospect: 'Prospect' };
  const above: Record<Tier, Tier> = { VIC: 'VIC', Core: 'VIC', Potential: 'Core', Entry: 'Potential', Prospect: 'Entry' };
  current.forEach((p, i) => {
    if (i % 97 === 0) result.push({ customerId: p.customerId, runDate: RUN_DATE, toTier: p.tier });
    else if (i % 41 === 0 && rank[p.tier] > 1) result.push({ customerId: p.customerId, runDate: RUN_DATE, fromTier: below[p.tier], toTier: p.tier });
    else if (i % 53 === 0 && p.tier !== 'VIC' && p.tier !== 'Prospect') result.push({ customerId: p.customerId, runDate: RUN_DATE, fromTier: above[p.tier], toTier: p.tier });
    else if (i % 29 === 0 && p.tier !== 'Prospect') {
      // Moved earlier in the window, twice for some.
      result.push({ customerId: p.customerId, runDate: addDays(RUN_DATE, -20), fromTier: above[p.tier], toTier: p.tier });
      if (i % 58 === 0) result.push({ customerId: p.customerId, runDate: addDays(RUN_DATE, -25), fromTier: 'Entry', toTier: above[p.tier] });
    }
  });
  return result;
}

function outcome(members: number, rate: number, revenuePerMember: number): GroupOutcome {
  const converted = Math.round(members * rate);
  return {
    members,
    converted,
    conversionRate: members === 0 ? 0 : converted / members,
    revenueMinor: Math.round(members * revenuePerMember),
    revenuePerMemberMinor: revenuePerMember,
  };
}

function windowResult(windowDays: number, sentMembers: number, controlMembers: number, sentRate: number, controlRate: number): WindowResult {
  const sent = outcome(sentMembers, sentRate, sentRate * 15_000);
  const control = outcome(controlMembers, controlRate, controlRate * 15_000);
  const estimate = sent.conversionRate - control.conversionRate;
  const se = Math.sqrt((sent.conversionRate * (1 - sent.conversionRate)) / sentMembers + (control.conversionRate * (1 - control.conversionRate)) / controlMembers);
  const low = estimate - 1.96 * se;
  const high = estimate + 1.96 * se;
  const perMember = sent.revenuePerMemberMinor - control.revenuePerMemberMinor;
  return {
    windowDays,
    sent,
    control,
    maturing: { sent: 20, control: 2 },
    conversionUplift: { estimate, interval: { low, high } },
    ...(control.conversionRate > 0 ? { relativeUplift: sent.conversionRate / control.conversionRate - 1 } : {}),
    revenuePerMemberUpliftMinor: { estimate: perMember, interval: { low: perMember - 900, high: perMember + 900 } },
    incrementalRevenueMinor: Math.round(perMember * sentMembers),
    significant: low > 0 || high < 0,
  };
}

export function campaignResults(runDate = RUN_DATE): CampaignResults {
  return {
    runDate,
    periodStart: addDays(runDate, -90),
    confidenceLevel: 0.95,
    windowsDays: [7, 30],
    segments: [
      { campaignId: 'welcome', tier: 'all', due: 1_060, sends: 900, heldOut: 100, unsent: { suppressed: 40, expired: 20 }, windows: [windowResult(7, 880, 98, 0.21, 0.09), windowResult(30, 700, 80, 0.34, 0.2)] },
      { campaignId: 'welcome', tier: 'Entry', due: 700, sends: 600, heldOut: 70, unsent: { suppressed: 30 }, windows: [windowResult(7, 590, 68, 0.18, 0.08), windowResult(30, 470, 55, 0.3, 0.19)] },
      { campaignId: 'welcome', tier: 'Potential', due: 330, sends: 300, heldOut: 30, unsent: {}, windows: [windowResult(7, 290, 30, 0.27, 0.13), windowResult(30, 230, 25, 0.41, 0.24)] },
      { campaignId: 'winback', tier: 'all', due: 445, sends: 400, heldOut: 45, unsent: {}, windows: [windowResult(7, 380, 44, 0.06, 0.045), windowResult(30, 300, 35, 0.14, 0.1)] },
      {
        campaignId: 'replenishment',
        tier: 'all',
        due: 15,
        sends: 12,
        heldOut: 0,
        unsent: { capped: 3 },
        windows: [
          { windowDays: 7, sent: outcome(0, 0, 0), control: outcome(0, 0, 0), maturing: { sent: 12, control: 0 }, significant: false },
          { windowDays: 30, sent: outcome(0, 0, 0), control: outcome(0, 0, 0), maturing: { sent: 12, control: 0 }, significant: false },
        ],
      },
    ],
    welcomeDecay: [
      { fromHours: 0, toHours: 24, members: 520, converted: 125, conversionRate: 125 / 520 },
      { fromHours: 24, toHours: 48, members: 220, converted: 33, conversionRate: 33 / 220 },
      { fromHours: 48, toHours: 72, members: 100, converted: 11, conversionRate: 0.11 },
      { fromHours: 72, members: 40, converted: 2, conversionRate: 0.05 },
    ],
  };
}

/**
 * A normal night: 30 runs of history and one stored before the 30-day window (so the base at its
 * start is known), movements tonight and in the window, campaign results.
 */
export function normalReport(config = reportConfig()): NightlyReport {
  const tonight = profiles(2000, 99);
  const tonightSummary = summary(RUN_DATE, tonight);
  return buildNightlyReport({
    config,
    summary: tonightSummary,
    history: [summary(addDays(RUN_DATE, -35), profiles(1780, 2)), ...history(29)],
    migrations: MigrationWindows.of(RUN_DATE, moves(tonight)),
    campaignResults: campaignResults(),
  });
}

/** A first night: no stored history, every client new, no campaign results. */
export function firstNightReport(config = reportConfig()): NightlyReport {
  const tonight = profiles(500, 5);
  return buildNightlyReport({
    config,
    summary: summary(RUN_DATE, tonight, { changes: { newClients: 500, changedProfiles: 500, unchangedProfiles: 0, upgrades: 0, downgrades: 0, tierMovements: {}, stageMovements: {} } }),
    history: [],
    migrations: MigrationWindows.of(
      RUN_DATE,
      tonight.map((p) => ({ customerId: p.customerId, runDate: RUN_DATE, toTier: p.tier })),
    ),
  });
}

/** An empty night: an export with no client at all. */
export function emptyReport(config = reportConfig()): NightlyReport {
  return buildNightlyReport({
    config,
    summary: summary(RUN_DATE, [], {
      changes: { newClients: 0, changedProfiles: 0, unchangedProfiles: 0, upgrades: 0, downgrades: 0, tierMovements: {}, stageMovements: {} },
    }),
    history: [],
    migrations: new MigrationWindows(RUN_DATE),
  });
}
