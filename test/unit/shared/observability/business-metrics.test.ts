import { describe, expect, it } from 'vitest';
import type { SesFeedbackSummary } from '#shared/feedback/ses-events.ts';
import { campaignMetrics, nightlyMetrics, sesFeedbackMetrics, type MetricGroup } from '#shared/observability/business-metrics.ts';
import { emptyCampaignCounts, type CampaignRunSummary } from '#shared/sender/run.ts';
import { TIERS } from '#shared/model.ts';
import { profiles, summary } from '#test/support/nightly-reports.ts';

/** "Name{dim=value,...}" → value, for reading a mapping at a glance. */
function flat(groups: MetricGroup[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const group of groups) {
    const dims = Object.entries(group.dimensions).map(([k, v]) => `${k}=${v}`).join(',');
    for (const metric of group.metrics) out[dims ? `${metric.name}{${dims}}` : metric.name] = metric.value;
  }
  return out;
}

const DIMENSION_NAMES = new Set(['tier', 'fromTier', 'toTier', 'campaign']);

function campaignSummary(overrides: Partial<CampaignRunSummary> = {}): CampaignRunSummary {
  return {
    job: 'campaigns',
    runId: 'campaigns-0001',
    at: '2026-12-02T10:00:00.000Z',
    dryRun: false,
    ingested: { exports: [], quarantined: [] } as unknown as CampaignRunSummary['ingested'], // not read by the mapping
    sending: { canSend: true } as unknown as CampaignRunSummary['sending'], // not read by the mapping
    clientsScanned: 100,
    selection: { mode: 'index', reindexed: 0 },
    clientsDue: 30,
    campaigns: {
      welcome: { ...emptyCampaignCounts(), sent: 12, 'held-out': 2, suppressed: 1, failed: 1, 'maybe-sent': 1, capped: 4 },
      winback: { ...emptyCampaignCounts(), sent: 5, 'held-out': 1 },
    },
    staleClaims: [{ customerId: 'c-1', occasionKey: 'welcome#1', claimedAt: '2026-12-02T09:00:00.000Z', runId: 'campaigns-0000' }],
    maybeSent: [],
    mailer: { sent: 17, failed: 1, throttledRetries: 0, unreachableRetries: 0, maxObservedRate: 5 },
    durationMs: 900,
    ...overrides,
  };
}

describe('nightly summary → metrics', () => {
  const night = summary('2026-12-01', profiles(400), { durationMs: 65_000 });

  it('publishes the duration, rows and rejects, the movements, and the clients in total and per tier', () => {
    const figures = flat(nightlyMetrics(night));
    expect(figures).toMatchObject({
      NightlyCompleted: 1,
      NightlyDuration: 65_000,
      RowsRead: night.input.rows,
      RowsRejected: 7,
      Clients: night.distribution.clients,
      NewClients: 12,
      Upgrades: 9,
      Downgrades: 14,
      'TierMovements{fromTier=Core,toTier=Potential}': 8,
      'TierMovements{fromTier=Entry,toTier=Potential}': 5,
    });
    expect(figures.RejectShare).toBeCloseTo(night.input.rejectShare * 100, 10);
    for (const tier of TIERS) expect(figures[`Clients{tier=${tier}}`]).toBe(night.distribution.tiers[tier].clients);
    const units = Object.fromEntries(nightlyMetrics(night).flatMap((g) => g.metrics.map((m) => [m.name, m.unit])));
    expect(units).toMatchObject({ NightlyDuration: 'Milliseconds', RejectShare: 'Percent', RowsRejected: 'Count' });
  });

  it('keeps every tier, an empty one as 0, and skips movement keys it cannot read', () => {
    const empty = summary('2026-12-01', [], { changes: { ...night.changes, tierMovements: { 'Core→VIC': 0, oddKey: 3 } } });
    const figures = flat(nightlyMetrics(empty));
    for (const tier of TIERS) expect(figures[`Clients{tier=${tier}}`]).toBe(0);
    expect(Object.keys(figures).filter((k) => k.startsWith('TierMovements'))).toEqual([]);
  });

  it('counts a rerun that wrote nothing as a repeat, not as a second night', () => {
    const rerun = { ...night, rerun: { runId: 'nightly-b', startedAt: '2026-12-02T03:00:00.000Z', of: night.runId } };
    expect(flat(nightlyMetrics(rerun))).toEqual({ NightlyRepeated: 1 });
  });
});

describe('campaign run → metrics', () => {
  it('publishes per campaign sent, held out, suppressed, failed and maybe sent, and run totals', () => {
    expect(flat(campaignMetrics(campaignSummary()))).toEqual({
      Sent: 17,
      Emails: 17,
      Failed: 1,
      UnresolvedSends: 1,
      TaskEmailsRefused: 0,
      HeldWhileNightsBehind: 0,
      'Sent{campaign=welcome}': 12,
      'HeldOut{campaign=welcome}': 2,
      'Suppressed{campaign=welcome}': 1,
      'Failed{campaign=welcome}': 1,
      'MaybeSent{campaign=welcome}': 1,
      'Sent{campaign=winback}': 5,
      'HeldOut{campaign=winback}': 1,
      'Suppressed{campaign=winback}': 0,
      'Failed{campaign=winback}': 0,
      'MaybeSent{campaign=winback}': 0,
    });
  });

  it('counts the emails SES took apart from the occasions: a reminder listing three products is one email, three sent', () => {
    const reminder = campaignSummary({
      campaigns: { replenishment: { ...emptyCampaignCounts(), sent: 3 } },
      mailer: { sent: 1, failed: 0, throttledRetries: 0, unreachableRetries: 0, maxObservedRate: 1 },
    });
    expect(flat(campaignMetrics(reminder))).toMatchObject({ Sent: 3, Emails: 1, 'Sent{campaign=replenishment}': 3 });
  });

  it("publishes the advisors' task emails SES refused for good, the alarm's figure", () => {
    expect(flat(campaignMetrics(campaignSummary({ taskEmailsRefused: 2 })))).toMatchObject({ TaskEmailsRefused: 2 });
  });

  it('publishes the due occasions an hour held while the nights are behind, 0 on an hour that is not', () => {
    const behind = { reason: 'nights-behind' as const, lastNight: '2026-03-01', lastNightDue: '2026-03-04', nightsBehind: 3, campaigns: ['winback'], message: 'nights behind', occasionsHeld: 7 };
    expect(flat(campaignMetrics(campaignSummary({ behind })))).toMatchObject({ HeldWhileNightsBehind: 7 });
  });

  it('publishes nothing for a dry run', () => {
    expect(campaignMetrics(campaignSummary({ dryRun: true }))).toEqual([]);
  });
});

describe('SES feedback → metrics', () => {
  it('publishes bounces, soft bounces, complaints and unreadable messages', () => {
    const feedback: SesFeedbackSummary = { events: 5, suppressed: 2, alreadySuppressed: 1, hardBounces: 2, complaints: 1, softBounces: 3, ignored: 0, invalid: 1, erased: 0, problems: ['x'] };
    expect(flat(sesFeedbackMetrics(feedback))).toEqual({ Bounces: 2, SoftBounces: 3, Complaints: 1, UnreadableFeedback: 1 });
  });
});

describe('dimensions', () => {
  it('are a tier, a pair of tiers or a campaign: never a customer, an address or a run', () => {
    const groups = [
      ...nightlyMetrics(summary('2026-12-01', profiles(50))),
      ...campaignMetrics(campaignSummary()),
      ...sesFeedbackMetrics({ events: 0, suppressed: 0, alreadySuppressed: 0, hardBounces: 0, complaints: 0, softBounces: 0, ignored: 0, invalid: 0, erased: 0, problems: [] }),
    ];
    for (const group of groups) for (const name of Object.keys(group.dimensions)) expect(DIMENSION_NAMES.has(name), name).toBe(true);
  });
});
