import type { SesFeedbackSummary } from '#shared/feedback/ses-events.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';
import type { CampaignRunSummary, RunOutcome } from '#shared/sender/run.ts';
import { TIERS } from '#shared/model.ts';

/**
 * The business figures the functions publish as CloudWatch metrics (EMF, written by Powertools
 * Metrics in functions/observability.ts), derived from what the jobs already return. Pure and free
 * of any SDK: the handlers publish these groups, the stack's dashboard and alarms read the names.
 *
 * Dimensions stay low-cardinality: a tier, a pair of tiers, a campaign id from the configuration;
 * never a customer, an address or a run id (those go in the log lines, correlated by run id).
 * Powertools adds the `service` dimension (POWERTOOLS_SERVICE_NAME) to every metric.
 */

export type MetricUnitName = 'Count' | 'Milliseconds' | 'Percent';

export interface MetricPoint {
  name: string;
  unit: MetricUnitName;
  value: number;
}

/** Metrics sharing one set of dimensions: one EMF record. */
export interface MetricGroup {
  dimensions: Record<string, string>;
  metrics: MetricPoint[];
}

/** Every metric name, for the handlers, the dashboard and the alarms alike. */
export const METRIC_NAMES = {
  // Nightly run (no dimension unless said).
  nightlyCompleted: 'NightlyCompleted',
  /** A rerun of a completed night from the same export and configuration: it wrote nothing. */
  nightlyRepeated: 'NightlyRepeated',
  nightlyDuration: 'NightlyDuration',
  rowsRead: 'RowsRead',
  rowsRejected: 'RowsRejected',
  rejectShare: 'RejectShare',
  /** Total, and per `tier`. */
  clients: 'Clients',
  newClients: 'NewClients',
  upgrades: 'Upgrades',
  downgrades: 'Downgrades',
  /** Per `fromTier` and `toTier`. */
  tierMovements: 'TierMovements',
  // Campaign sender: per `campaign`, and in total (Sent, Failed) without it. Occasions, as the run's counts.
  sent: 'Sent',
  heldOut: 'HeldOut',
  suppressed: 'Suppressed',
  failed: 'Failed',
  maybeSent: 'MaybeSent',
  /**
   * Emails SES took in the hourly run (campaign emails, introductions, advisors' task emails): one
   * per email, where `Sent` counts each occasion it settles (a reminder listing three products is
   * one email, three sent). The dashboard's bounce and complaint rates are per email.
   */
  emails: 'Emails',
  /** Stale claims and maybe-sent emails of the last two days: a person has to look (never resent). */
  unresolvedSends: 'UnresolvedSends',
  /** Advisors' task emails SES (or the mailer) refused for good: that advisor never had the task, the note went from the care team. */
  taskEmailsRefused: 'TaskEmailsRefused',
  /**
   * Due occasions an hour left undecided because the nights are behind (a win-back waits for the
   * night that would show an order since): 0 on an hour that is not behind. The nightly alarms page
   * for the missing nights; this shows what waits on them.
   */
  heldWhileNightsBehind: 'HeldWhileNightsBehind',
  /** Per `campaign` drawing from a coupon pool: its unclaimed codes after the run (the alarm is the CouponPoolsLow log alert). */
  couponCodesLeft: 'CouponCodesLeft',
  // SES feedback (recipients).
  bounces: 'Bounces',
  softBounces: 'SoftBounces',
  complaints: 'Complaints',
  unreadableFeedback: 'UnreadableFeedback',
} as const;

/** The per-campaign outcomes published, by metric name. */
export const CAMPAIGN_OUTCOME_METRICS = [
  [METRIC_NAMES.sent, 'sent'],
  [METRIC_NAMES.heldOut, 'held-out'],
  [METRIC_NAMES.suppressed, 'suppressed'],
  [METRIC_NAMES.failed, 'failed'],
  [METRIC_NAMES.maybeSent, 'maybe-sent'],
] as const satisfies ReadonlyArray<readonly [string, RunOutcome]>;

const count = (name: string, value: number): MetricPoint => ({ name, unit: 'Count', value });

/** "Core→VIC" → ['Core', 'VIC'] (diff.ts keys); undefined for anything else. */
function movementTiers(key: string): [string, string] | undefined {
  const parts = key.split('→');
  return parts.length === 2 && parts[0] && parts[1] ? [parts[0], parts[1]] : undefined;
}

/** A completed night: its duration, rows and rejects, clients per tier, movements. A rerun only counts itself. */
export function nightlyMetrics(summary: NightlyRunSummary): MetricGroup[] {
  if (summary.rerun) return [{ dimensions: {}, metrics: [count(METRIC_NAMES.nightlyRepeated, 1)] }];
  const groups: MetricGroup[] = [
    {
      dimensions: {},
      metrics: [
        count(METRIC_NAMES.nightlyCompleted, 1),
        { name: METRIC_NAMES.nightlyDuration, unit: 'Milliseconds', value: summary.durationMs },
        count(METRIC_NAMES.rowsRead, summary.input.rows),
        count(METRIC_NAMES.rowsRejected, summary.input.rejected),
        { name: METRIC_NAMES.rejectShare, unit: 'Percent', value: summary.input.rejectShare * 100 },
        count(METRIC_NAMES.clients, summary.distribution.clients),
        count(METRIC_NAMES.newClients, summary.changes.newClients),
        count(METRIC_NAMES.upgrades, summary.changes.upgrades),
        count(METRIC_NAMES.downgrades, summary.changes.downgrades),
      ],
    },
  ];
  // Every tier, empty ones too: a tier that empties shows as 0, not as a gap.
  for (const tier of TIERS) {
    groups.push({ dimensions: { tier }, metrics: [count(METRIC_NAMES.clients, summary.distribution.tiers[tier]?.clients ?? 0)] });
  }
  for (const [key, value] of Object.entries(summary.changes.tierMovements).sort(([a], [b]) => a.localeCompare(b))) {
    const tiers = movementTiers(key);
    if (!tiers || value === 0) continue;
    groups.push({ dimensions: { fromTier: tiers[0], toTier: tiers[1] }, metrics: [count(METRIC_NAMES.tierMovements, value)] });
  }
  return groups;
}

/** An hourly campaign run: per campaign, sent / held out / suppressed / failed / maybe sent (occasions); totals, the emails, the task emails refused. Dry runs publish nothing. */
export function campaignMetrics(summary: CampaignRunSummary): MetricGroup[] {
  if (summary.dryRun) return [];
  const campaigns = Object.entries(summary.campaigns).sort(([a], [b]) => a.localeCompare(b));
  const total = (outcome: RunOutcome) => campaigns.reduce((sum, [, counts]) => sum + counts[outcome], 0);
  return [
    {
      dimensions: {},
      metrics: [
        count(METRIC_NAMES.sent, total('sent')),
        count(METRIC_NAMES.emails, summary.mailer.sent),
        count(METRIC_NAMES.failed, total('failed')),
        count(METRIC_NAMES.unresolvedSends, summary.staleClaims.length + summary.maybeSent.length),
        count(METRIC_NAMES.taskEmailsRefused, summary.taskEmailsRefused ?? 0),
        count(METRIC_NAMES.heldWhileNightsBehind, summary.behind?.occasionsHeld ?? 0),
      ],
    },
    ...campaigns.map(([campaign, counts]) => ({
      dimensions: { campaign },
      metrics: [
        ...CAMPAIGN_OUTCOME_METRICS.map(([name, outcome]) => count(name, counts[outcome])),
        ...(summary.coupons?.[campaign] === undefined ? [] : [count(METRIC_NAMES.couponCodesLeft, summary.coupons[campaign].left)]),
      ],
    })),
  ];
}

/** One batch of SES feedback: recipients bounced (permanent, transient), complained; unreadable messages. */
export function sesFeedbackMetrics(summary: SesFeedbackSummary): MetricGroup[] {
  return [
    {
      dimensions: {},
      metrics: [
        count(METRIC_NAMES.bounces, summary.hardBounces),
        count(METRIC_NAMES.softBounces, summary.softBounces),
        count(METRIC_NAMES.complaints, summary.complaints),
        count(METRIC_NAMES.unreadableFeedback, summary.invalid),
      ],
    },
  ];
}
