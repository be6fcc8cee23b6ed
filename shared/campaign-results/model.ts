import type { Tier } from '#shared/model.ts';

/**
 * Campaign results as the nightly run computes them and the report renders them: the contract
 * between shared/reports/campaign-results.ts (which computes) and the report renderer.
 *
 * A "group" is the clients a campaign decided for in the period: 'sent' (the email went out) or
 * 'control' (held out by the control-group draw, at the moment the email would have gone). Each
 * member is followed from that moment (t0) for each conversion window: converted when they placed
 * an order with a positive net amount in (t0, t0 + window]. Members whose window has not yet
 * ended by the run's clock are "maturing" and are left out of that window's figures.
 */

/** An interval estimate at the configured confidence level. */
export interface Interval {
  low: number;
  high: number;
}

/** One group's outcome over one window. */
export interface GroupOutcome {
  /** Members whose window has ended (the denominator). */
  members: number;
  /** Members who ordered within the window. */
  converted: number;
  /** converted / members; 0 when there are no members. */
  conversionRate: number;
  /** Net revenue of the orders within the window, brand currency minor units. */
  revenueMinor: number;
  /** revenueMinor / members, in minor units (may be fractional); 0 when there are no members. */
  revenuePerMemberMinor: number;
}

/** Sent versus control over one window, with the uplift. */
export interface WindowResult {
  windowDays: number;
  sent: GroupOutcome;
  control: GroupOutcome;
  /** Members of either group whose window has not ended yet. */
  maturing: { sent: number; control: number };
  /**
   * Absolute uplift of the conversion rate (sent - control, a difference of proportions) with its
   * interval; undefined when either group is empty.
   */
  conversionUplift?: { estimate: number; interval: Interval };
  /** Relative uplift (sent / control - 1); undefined when the control converted nobody or either group is empty. */
  relativeUplift?: number;
  /**
   * Revenue per member, sent - control (minor units), with its interval; undefined when either group
   * has fewer than 30 members or neither group's revenue varies (uplift.ts meanDifference).
   */
  revenuePerMemberUpliftMinor?: { estimate: number; interval: Interval };
  /** Incremental revenue attributable to the campaign: uplift per member x sent members (minor units). */
  incrementalRevenueMinor?: number;
  /**
   * The interval of the conversion uplift excludes 0 and both groups are large enough for the
   * claim (uplift.ts inferenceHolds: 30 members, 5 conversions and 5 non-conversions in each).
   */
  significant: boolean;
}

/** One campaign, over all tiers (tier 'all') or one tier. */
export interface CampaignSegmentResult {
  campaignId: string;
  tier: Tier | 'all';
  /** Emails of the period the sender decided on (one per email, however many occasions it settled): sends + heldOut + the unsent ones. */
  due: number;
  /** Decisions in the period, whatever their maturity. */
  sends: number;
  heldOut: number;
  /** Emails neither sent nor held out, by ledger status (suppressed, expired, capped...), largest first. */
  unsent: Record<string, number>;
  windows: WindowResult[];
}

/** Welcome response by how fast it went out: the value-decay curve. */
export interface DecayBucket {
  /** Lower bound, inclusive, in hours after the trigger (the first order or sign-up). */
  fromHours: number;
  /** Upper bound, exclusive; undefined for the last, open bucket. */
  toHours?: number;
  /** Sent members whose (shortest) window has ended. */
  members: number;
  converted: number;
  conversionRate: number;
}

export interface CampaignResults {
  runDate: string;
  /** Decisions taken from this day (inclusive) to the run date are counted, brand time zone. */
  periodStart: string;
  confidenceLevel: number;
  windowsDays: number[];
  /** One per campaign with 'all' first, then one per tier that had decisions. */
  segments: CampaignSegmentResult[];
  /** For the welcome campaign, over its shortest window; empty when it had no sends. */
  welcomeDecay: DecayBucket[];
}
