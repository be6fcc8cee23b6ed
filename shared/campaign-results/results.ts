import { FULLY_MATURED_DAYS, type Config } from '#shared/config.ts';
import { TIERS, type OrderFact, type Tier } from '#shared/model.ts';
import { addMinor } from '#shared/money.ts';
import { addDays, MS_PER_DAY, startOfLocalDay } from '#shared/time.ts';
import { runClock } from '#shared/tiering/profile.ts';
import { countsAsPurchase } from '#shared/tiering/spend.ts';
import type { CampaignResults, CampaignSegmentResult, DecayBucket, GroupOutcome, WindowResult } from './model.ts';
import { excludesZero, inferenceHolds, meanDifference, proportionDifference, relativeUplift, type SampleMoments } from './uplift.ts';

/**
 * Campaign results against the control group, computed from the period's campaign decisions and
 * the clients' orders (pure: the clock and the config are arguments). See
 * campaign-results-model.ts for what each figure means and uplift.ts for the interval methods.
 *
 * Each decision is one member of its group, followed from its moment t0 (the send, or the
 * held-out decision taken when the email would have gone) for each conversion window: it
 * converted when the client placed an order with a positive net amount in (t0, t0 + window]
 * (windows are whole 24-hour days), and its revenue is the net of those orders. A member whose
 * window ends after the run's clock is maturing and is left out of that window, so a window
 * never counts a member it has not been able to watch to the end.
 */

const MS_PER_HOUR = 3_600_000;

/** Welcome response by hours from the trigger to the send (domain.md: the value decays fast). */
export const WELCOME_DECAY_HOURS = [0, 1, 3, 6, 12, 24, 48, 72] as const;

/** One campaign decision the results follow: one member of the sent or the control group. */
export interface CampaignDecision {
  customerId: string;
  campaignId: string;
  /** The client's tier when the decision was taken. */
  tier?: Tier;
  group: 'sent' | 'control';
  /** Epoch ms, t0: when the email went out, or when the control group held it back. */
  at: number;
  /** Epoch ms: when the occasion started (the first order or sign-up, for the welcome). */
  triggerAt?: number;
}

/**
 * An occasion of the period that was neither sent nor held out: suppressed, without consent,
 * expired, failed, still waiting (capped, deferred)... Counted, not followed: with the decisions it
 * makes up what was due.
 */
export interface UnsentOccasion {
  campaignId: string;
  tier?: Tier;
  /** The ledger status it is in (e.g. 'suppressed', 'expired', 'capped'). */
  status: string;
  /** Epoch ms: when it was claimed or decided. */
  at: number;
}

export type CampaignResultsConfig = Pick<Config, 'reports' | 'campaigns' | 'timeZone'>;

export interface CampaignResultsInput {
  decisions: Iterable<CampaignDecision>;
  /** The period's other occasions, counted by status (none when left out). */
  unsent?: Iterable<UnsentOccasion>;
  /** Orders of the decisions' clients, sorted by orderedAt (the aggregator's); a client missing here ordered nothing. */
  ordersByClient: ReadonlyMap<string, readonly OrderFact[]>;
  runDate: string;
  /** The run's clock (runClock(runDate).now): the end of the period, and windows ending later are maturing. */
  now: number;
  config: CampaignResultsConfig;
}

export interface CampaignResultsPeriod {
  /** First local day of the period, YYYY-MM-DD, brand time zone. */
  startDate: string;
  /** Epoch ms, inclusive: local midnight starting startDate. */
  from: number;
  /** Epoch ms, exclusive: the run's clock. */
  to: number;
}

/** The decisions a run's results count: from (longest window + 30) days before the run date to the run's clock. */
export function campaignResultsPeriod(runDate: string, config: Pick<Config, 'reports' | 'timeZone'>): CampaignResultsPeriod {
  const longestWindow = Math.max(...config.reports.conversionWindowsDays);
  const startDate = addDays(runDate, -(longestWindow + FULLY_MATURED_DAYS));
  return { startDate, from: startOfLocalDay(startDate, config.timeZone), to: runClock(runDate, config.timeZone).now };
}

/** A group's running totals over one window. */
export interface GroupTotals {
  converted: number;
  revenueMinor: number;
  /** Per-member revenue moments (count = matured members), for the Welch interval. */
  revenue: SampleMoments;
  maturing: number;
}

export interface SegmentTotals {
  campaignId: string;
  tier: Tier | 'all';
  sends: number;
  heldOut: number;
  /** Occasions neither sent nor held out, by ledger status. */
  unsent: Record<string, number>;
  /** Per window (in the configured order): sent and control totals. */
  windows: { sent: GroupTotals; control: GroupTotals }[];
}

export interface DecayTotals {
  members: number;
  converted: number;
}

/** What one member did within one window (undefined while the window is still open). */
interface MemberWindow {
  converted: boolean;
  revenueMinor: number;
}

function emptyGroup(): GroupTotals {
  return { converted: 0, revenueMinor: 0, revenue: { count: 0, sum: 0, sumOfSquares: 0 }, maturing: 0 };
}

/** The member's outcome over (at, at + window], or undefined when the window ends after now. */
function memberWindow(at: number, windowDays: number, orders: readonly OrderFact[], now: number): MemberWindow | undefined {
  const end = at + windowDays * MS_PER_DAY;
  if (end > now) return undefined;
  let revenueMinor = 0;
  for (const order of orders) {
    if (order.orderedAt <= at) continue;
    if (order.orderedAt > end) break; // sorted by orderedAt
    // A refunded or cancelled order nets 0 and is no conversion.
    if (countsAsPurchase(order)) revenueMinor = addMinor(revenueMinor, order.netMinor, "a member's revenue in a conversion window");
  }
  return { converted: revenueMinor > 0, revenueMinor };
}

function addMember(totals: GroupTotals, outcome: MemberWindow | undefined): void {
  if (!outcome) {
    totals.maturing++;
    return;
  }
  if (outcome.converted) totals.converted++;
  totals.revenueMinor = addMinor(totals.revenueMinor, outcome.revenueMinor, "a campaign group's revenue");
  totals.revenue.count++;
  totals.revenue.sum = addMinor(totals.revenue.sum, outcome.revenueMinor, "a campaign group's revenue");
  // A float moment for the variance, not money: it may exceed 2^53 and only loses digits no interval uses.
  totals.revenue.sumOfSquares += outcome.revenueMinor * outcome.revenueMinor;
}

function groupOutcome(totals: GroupTotals): GroupOutcome {
  const members = totals.revenue.count;
  return {
    members,
    converted: totals.converted,
    conversionRate: members === 0 ? 0 : totals.converted / members,
    revenueMinor: totals.revenueMinor,
    revenuePerMemberMinor: members === 0 ? 0 : totals.revenueMinor / members,
  };
}

function windowResult(windowDays: number, totals: { sent: GroupTotals; control: GroupTotals }, confidenceLevel: number): WindowResult {
  const sent = groupOutcome(totals.sent);
  const control = groupOutcome(totals.control);
  const result: WindowResult = {
    windowDays,
    sent,
    control,
    maturing: { sent: totals.sent.maturing, control: totals.control.maturing },
    significant: false,
  };
  if (sent.members === 0 || control.members === 0) return result;
  const sentConversions = { successes: sent.converted, trials: sent.members };
  const controlConversions = { successes: control.converted, trials: control.members };
  const conversion = proportionDifference(sentConversions, controlConversions, confidenceLevel);
  result.conversionUplift = { estimate: conversion.estimate, interval: conversion.interval };
  result.significant = inferenceHolds(sentConversions, controlConversions) && excludesZero(conversion.interval);
  const relative = relativeUplift(sent.conversionRate, control.conversionRate);
  if (relative !== undefined) result.relativeUplift = relative;
  const revenue = meanDifference(totals.sent.revenue, totals.control.revenue, confidenceLevel);
  if (revenue) result.revenuePerMemberUpliftMinor = { estimate: revenue.estimate, interval: revenue.interval };
  result.incrementalRevenueMinor = Math.round((sent.revenuePerMemberMinor - control.revenuePerMemberMinor) * sent.members);
  return result;
}

/** Index of the decay bucket of a delay in hours; -1 for a negative delay (a send before its trigger). */
function decayBucketOf(hours: number): number {
  for (let i = WELCOME_DECAY_HOURS.length - 1; i >= 0; i--) if (hours >= (WELCOME_DECAY_HOURS[i] as number)) return i;
  return -1;
}

/**
 * The period's decisions followed and added up: plain counts and sums, so that the tallies of
 * several shards (each holding some of the clients) add up to the tally of the whole base.
 */
export interface CampaignTallies {
  segments: SegmentTotals[];
  decay: DecayTotals[];
  welcomeSends: number;
}

/** Follows each decision of the period over each window (the members' part of computeCampaignResults). */
export function tallyCampaignDecisions(input: CampaignResultsInput): CampaignTallies {
  const { config, now, runDate } = input;
  const windowsDays = config.reports.conversionWindowsDays;
  const shortestWindowIndex = windowsDays.indexOf(Math.min(...windowsDays));
  const period = campaignResultsPeriod(runDate, config);
  const welcomeIds = new Set(config.campaigns.campaigns.filter((c) => c.kind === 'welcome').map((c) => c.id));

  const segments = new Map<string, SegmentTotals>();
  const segmentOf = (campaignId: string, tier: Tier | 'all'): SegmentTotals => {
    const key = `${campaignId}\u0000${tier}`;
    let segment = segments.get(key);
    if (!segment) {
      segment = { campaignId, tier, sends: 0, heldOut: 0, unsent: {}, windows: windowsDays.map(() => ({ sent: emptyGroup(), control: emptyGroup() })) };
      segments.set(key, segment);
    }
    return segment;
  };
  // Every enabled campaign shows, with zero sends if need be: "no decisions" is a result too.
  for (const campaign of config.campaigns.campaigns) if (campaign.enabled) segmentOf(campaign.id, 'all');

  const decay: DecayTotals[] = WELCOME_DECAY_HOURS.map(() => ({ members: 0, converted: 0 }));
  let welcomeSends = 0;

  for (const occasion of input.unsent ?? []) {
    if (occasion.at < period.from || occasion.at >= period.to) continue;
    const targets = [segmentOf(occasion.campaignId, 'all')];
    if (occasion.tier !== undefined) targets.push(segmentOf(occasion.campaignId, occasion.tier));
    for (const segment of targets) segment.unsent[occasion.status] = (segment.unsent[occasion.status] ?? 0) + 1;
  }

  for (const decision of input.decisions) {
    if (decision.at < period.from || decision.at >= period.to) continue;
    const orders = input.ordersByClient.get(decision.customerId) ?? [];
    const outcomes = windowsDays.map((days) => memberWindow(decision.at, days, orders, now));
    const targets = [segmentOf(decision.campaignId, 'all')];
    if (decision.tier !== undefined) targets.push(segmentOf(decision.campaignId, decision.tier));
    for (const segment of targets) {
      if (decision.group === 'sent') segment.sends++;
      else segment.heldOut++;
      outcomes.forEach((outcome, i) => addMember((segment.windows[i] as SegmentTotals['windows'][number])[decision.group], outcome));
    }
    if (decision.group === 'sent' && welcomeIds.has(decision.campaignId)) {
      welcomeSends++;
      const outcome = outcomes[shortestWindowIndex];
      const bucket = decision.triggerAt === undefined ? -1 : decayBucketOf((decision.at - decision.triggerAt) / MS_PER_HOUR);
      if (outcome && bucket >= 0) {
        const totals = decay[bucket] as DecayTotals;
        totals.members++;
        if (outcome.converted) totals.converted++;
      }
    }
  }
  return { segments: [...segments.values()], decay, welcomeSends };
}

function addGroup(into: GroupTotals, from: GroupTotals): void {
  into.converted += from.converted;
  into.revenueMinor = addMinor(into.revenueMinor, from.revenueMinor, "a campaign group's revenue");
  into.revenue.count += from.revenue.count;
  into.revenue.sum = addMinor(into.revenue.sum, from.revenue.sum, "a campaign group's revenue");
  into.revenue.sumOfSquares += from.revenue.sumOfSquares;
  into.maturing += from.maturing;
}

/** The tallies of the whole base from its shards' tallies (same windows and campaigns in each). */
export function mergeCampaignTallies(parts: readonly CampaignTallies[]): CampaignTallies {
  const segments = new Map<string, SegmentTotals>();
  const decay: DecayTotals[] = WELCOME_DECAY_HOURS.map(() => ({ members: 0, converted: 0 }));
  let welcomeSends = 0;
  for (const part of parts) {
    for (const segment of part.segments) {
      const key = `${segment.campaignId}\u0000${segment.tier}`;
      const into = segments.get(key);
      if (!into) {
        segments.set(key, structuredClone(segment));
        continue;
      }
      into.sends += segment.sends;
      into.heldOut += segment.heldOut;
      for (const [status, n] of Object.entries(segment.unsent)) into.unsent[status] = (into.unsent[status] ?? 0) + n;
      segment.windows.forEach((window, i) => {
        const target = into.windows[i] as SegmentTotals['windows'][number];
        addGroup(target.sent, window.sent);
        addGroup(target.control, window.control);
      });
    }
    part.decay.forEach((totals, i) => {
      const target = decay[i] as DecayTotals;
      target.members += totals.members;
      target.converted += totals.converted;
    });
    welcomeSends += part.welcomeSends;
  }
  return { segments: [...segments.values()], decay, welcomeSends };
}

/** Counts by key, largest first (then by key): the report lists them in this order. */
function sortedCounts(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort(([a, x], [b, y]) => y - x || a.localeCompare(b)));
}

/** The results (rates, uplifts and their intervals) of a period's tallies. */
export function campaignResultsOf(tallies: CampaignTallies, context: { runDate: string; config: CampaignResultsConfig }): CampaignResults {
  const { config, runDate } = context;
  const windowsDays = config.reports.conversionWindowsDays;
  const period = campaignResultsPeriod(runDate, config);
  // Configured campaigns in their configured order, then any the config no longer names.
  const configured = new Map(config.campaigns.campaigns.map((c, i) => [c.id, i]));
  const rank = (campaignId: string) => configured.get(campaignId) ?? configured.size;
  const tierRank = (tier: Tier | 'all') => (tier === 'all' ? -1 : TIERS.indexOf(tier));
  const ordered = [...tallies.segments].sort(
    (a, b) => rank(a.campaignId) - rank(b.campaignId) || a.campaignId.localeCompare(b.campaignId) || tierRank(a.tier) - tierRank(b.tier),
  );

  return {
    runDate,
    periodStart: period.startDate,
    confidenceLevel: config.reports.confidenceLevel,
    windowsDays: [...windowsDays],
    segments: ordered.map(
      (segment): CampaignSegmentResult => ({
        campaignId: segment.campaignId,
        tier: segment.tier,
        due: segment.sends + segment.heldOut + Object.values(segment.unsent).reduce((sum, n) => sum + n, 0),
        sends: segment.sends,
        heldOut: segment.heldOut,
        unsent: sortedCounts(segment.unsent),
        windows: segment.windows.map((totals, i) => windowResult(windowsDays[i] as number, totals, config.reports.confidenceLevel)),
      }),
    ),
    welcomeDecay:
      tallies.welcomeSends === 0
        ? []
        : tallies.decay.map((totals, i): DecayBucket => {
            const toHours = WELCOME_DECAY_HOURS[i + 1];
            return {
              fromHours: WELCOME_DECAY_HOURS[i] as number,
              ...(toHours === undefined ? {} : { toHours }),
              members: totals.members,
              converted: totals.converted,
              conversionRate: totals.members === 0 ? 0 : totals.converted / totals.members,
            };
          }),
  };
}

/** Campaign results of the period: per campaign 'all' then per tier, and the welcome decay curve. */
export function computeCampaignResults(input: CampaignResultsInput): CampaignResults {
  return campaignResultsOf(tallyCampaignDecisions(input), input);
}

/** The figures of one campaign's 'all' segment that the run summary keeps, for the run-to-run trend. */
export interface CampaignHeadline {
  campaignId: string;
  due: number;
  sends: number;
  heldOut: number;
  windows: {
    windowDays: number;
    /** Matured members of each group. */
    sentMembers: number;
    controlMembers: number;
    /** Absolute conversion uplift (sent − control rate); absent when a group has no matured member. */
    conversionUplift?: number;
    significant: boolean;
  }[];
}

export function campaignHeadlines(results: CampaignResults): CampaignHeadline[] {
  return results.segments
    .filter((segment) => segment.tier === 'all')
    .map((segment) => ({
      campaignId: segment.campaignId,
      due: segment.due,
      sends: segment.sends,
      heldOut: segment.heldOut,
      windows: segment.windows.map((window) => ({
        windowDays: window.windowDays,
        sentMembers: window.sent.members,
        controlMembers: window.control.members,
        ...(window.conversionUplift ? { conversionUplift: window.conversionUplift.estimate } : {}),
        significant: window.significant,
      })),
    }));
}
