import type { AwsClients } from '#shared/aws/clients.ts';
import { compareDueClients, dueOccasions, type DueOccasion } from '#shared/campaigns/due.ts';
import { companionOccasions, decide, type DecidedOccasion, type Decision, type RecentSend } from '#shared/campaigns/policy.ts';
import type { Config } from '#shared/config.ts';
import { createSesMailer, type SesMailer } from '#shared/delivery/ses-mailer.ts';
import { maskEmail, silentLog, type Log } from '#shared/log.ts';
import type { ClientProfile, ProductRecord } from '#shared/model.ts';
import { readCatalog } from '#shared/store/catalog-store.ts';
import { claimEach, deliverClaimed, releaseClaims, type LedgerTable } from '#shared/delivery/deliver.ts';
import {
  claimHoursBetween,
  ledgerEntriesOf,
  recordDecision,
  staleClaims,
  WAITING_STATUSES,
  type ClaimRequest,
  type LedgerEntry,
  type LedgerKey,
} from '#shared/store/ledger-store.ts';
import { scanProfiles } from '#shared/store/profile-store.ts';
import { normaliseEmail } from '#shared/email.ts';
import { loadSuppressed } from '#shared/store/suppression-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { composeEmail } from './compose.ts';
import { ingestIncrementalExports, type IngestSummary } from './ingest.ts';

/**
 * The hourly campaign sender, in steps:
 *  1. merge the incremental exports dropped since the last hour (ingest.ts);
 *  2. select the clients due now, minus what the ledger has settled, most urgent first;
 *  3. look up their addresses on the suppression list;
 *  4. per client, decide each occasion (consent, suppression, cap, quiet hours, control group) and
 *     settle it: a decision is written to the ledger, a send goes through the delivery protocol
 *     (shared/delivery: claim, send through SES, record);
 *  5. report the claims earlier runs left unresolved.
 * Rerunning an hour, or two runs at once, sends nothing twice.
 */

export const OUTCOMES = ['sent', 'failed', 'held-out', 'suppressed', 'no-consent', 'capped', 'deferred', 'out-of-audience'] as const;
export type RunOutcome = (typeof OUTCOMES)[number];

export interface CampaignCounts extends Record<RunOutcome, number> {
  /** Occasions due now and not yet settled in the ledger. */
  due: number;
  /** Claimed by another run (or an earlier run of this hour) between our read and our claim. */
  alreadyClaimed: number;
}

export interface PlannedDecision {
  campaignId: string;
  occasionKey: string;
  customerId: string;
  email?: string;
  outcome: Decision['outcome'];
  reason?: string;
}

export interface CampaignRunSummary {
  job: 'campaigns';
  runId: string;
  at: string;
  dryRun: boolean;
  ingested: IngestSummary;
  clientsScanned: number;
  clientsDue: number;
  campaigns: Record<string, CampaignCounts>;
  /** Claims never resolved (a run died between claim and SES): reported, never resent. */
  staleClaims: { customerId: string; occasionKey: string; claimedAt: string; runId: string }[];
  /** Dry run only: who would get what. Emails masked. */
  plan?: PlannedDecision[];
  mailer?: { sent: number; failed: number; throttledRetries: number; maxObservedRate: number; haltedBy?: string };
  durationMs: number;
}

export interface CampaignRunOptions {
  at: number;
  runId: string;
  config: Config;
  clients: AwsClients;
  /** HMAC secret of the unsubscribe links. */
  unsubscribeSecret: string;
  dryRun?: boolean;
  log?: Log;
  /** Defaults to SES through clients.ses, paced at config.sender.maxSendRate. */
  mailer?: SesMailer;
  /** Test seam: runs after a claim is written and before SES is called (to inject a crash). */
  afterClaim?: (key: LedgerKey) => Promise<void>;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export function emptyCampaignCounts(): CampaignCounts {
  return { due: 0, alreadyClaimed: 0, sent: 0, failed: 0, 'held-out': 0, suppressed: 0, 'no-consent': 0, capped: 0, deferred: 0, 'out-of-audience': 0 };
}

interface DueClient {
  profile: ClientProfile;
  due: DueOccasion[];
  recentSends: RecentSend[];
}

export async function runCampaigns(options: CampaignRunOptions): Promise<CampaignRunSummary> {
  const started = performance.now();
  const run = campaignRun(options);
  const { config, clients, at, runId, log } = run;

  const ingested = await ingestIncrementalExports({ config, clients, at, runId, dryRun: run.dryRun, log });
  const catalog = await readCatalog(clients.s3, config);
  const { dueClients, scanned } = await selectDueClients(run, catalog);
  const suppressed = await loadSuppressed(clients.documents, tableNames(config).suppression, dueClients.flatMap((c) => (c.profile.email ? [c.profile.email] : [])));
  log.info('due clients selected', { scanned, due: dueClients.length, suppressed: suppressed.size, products: catalog.size });

  for (const client of dueClients) {
    const isSuppressed = client.profile.email !== undefined && suppressed.has(normaliseEmail(client.profile.email));
    await settleClient(run, client, isSuppressed);
  }

  const stale = run.dryRun ? [] : await staleClaimsOf(run);
  if (stale.length > 0) log.error('stale send claims: a run stopped between claim and send; not resent', { count: stale.length });
  const stats = run.mailer.stats();
  const summary: CampaignRunSummary = {
    job: 'campaigns',
    runId,
    at: new Date(at).toISOString(),
    dryRun: run.dryRun,
    ingested,
    clientsScanned: scanned,
    clientsDue: dueClients.length,
    campaigns: run.counts,
    staleClaims: stale.map((e) => ({ customerId: e.customerId, occasionKey: e.occasionKey, claimedAt: new Date(e.claimedAt).toISOString(), runId: e.runId })),
    ...(run.dryRun ? { plan: run.plan } : {}),
    mailer: { sent: stats.sent, failed: stats.failed, throttledRetries: stats.throttledRetries, maxObservedRate: stats.maxObservedRate, ...(stats.haltedBy ? { haltedBy: stats.haltedBy } : {}) },
    durationMs: Math.round(performance.now() - started),
  };
  log.info('campaign run finished', { campaigns: run.counts, stale: stale.length, durationMs: summary.durationMs });
  return summary;
}

/** What every step of one run shares. */
interface CampaignRun {
  config: Config;
  clients: AwsClients;
  at: number;
  runId: string;
  dryRun: boolean;
  log: Log;
  ledger: LedgerTable;
  mailer: SesMailer;
  unsubscribeSecret: string;
  afterClaim?: (key: LedgerKey) => Promise<void>;
  counts: Record<string, CampaignCounts>;
  plan: PlannedDecision[];
  /** Set once SES refused the account: the remaining sends wait for a later hour. */
  halted: boolean;
}

function campaignRun(options: CampaignRunOptions): CampaignRun {
  const { config, clients, at, runId } = options;
  const log = (options.log ?? silentLog).child({ runId, job: 'campaigns', at: new Date(at).toISOString() });
  return {
    config,
    clients,
    at,
    runId,
    dryRun: options.dryRun ?? false,
    log,
    ledger: { documents: clients.documents, table: tableNames(config).sendLedger },
    mailer: options.mailer ?? createSesMailer(clients.ses, { maxSendRate: config.sender.maxSendRate, log }),
    unsubscribeSecret: options.unsubscribeSecret,
    ...(options.afterClaim ? { afterClaim: options.afterClaim } : {}),
    counts: Object.fromEntries(config.campaigns.campaigns.map((c) => [c.id, emptyCampaignCounts()])),
    plan: [],
    halted: false,
  };
}

function countsOf(run: CampaignRun, campaignId: string): CampaignCounts {
  return (run.counts[campaignId] ??= emptyCampaignCounts());
}

const isWaiting = (entry: LedgerEntry) => (WAITING_STATUSES as readonly string[]).includes(entry.status);

/** Step 2: who is due now, minus what the ledger has already settled; the most urgent and valuable first. */
async function selectDueClients(run: CampaignRun, catalog: ReadonlyMap<string, ProductRecord>): Promise<{ dueClients: DueClient[]; scanned: number }> {
  const { config, clients, at } = run;
  const context = { campaigns: config.campaigns, brandTimeZone: config.timeZone };
  const dueClients: DueClient[] = [];
  let scanned = 0;
  for await (const profile of scanProfiles(clients.documents, tableNames(config).profiles)) {
    scanned++;
    const due = dueOccasions(profile, catalog, at, context);
    if (due.length === 0) continue;
    const entries = await ledgerEntriesOf(run.ledger.documents, run.ledger.table, profile.customerId);
    const settled = new Set(entries.filter((e) => !isWaiting(e)).map((e) => e.occasionKey));
    const open = due.filter((o) => !settled.has(o.occasionKey));
    if (open.length === 0) continue;
    // A claim still in flight (another run is sending it now) counts like a send against the cap.
    const recentSends = entries
      .filter((e) => (e.status === 'sent' || e.status === 'claimed') && (e.sentAt ?? e.claimedAt) > at - 7 * DAY_MS)
      .map((e) => ({ campaignId: e.campaignId, sentAt: e.sentAt ?? e.claimedAt }));
    dueClients.push({ profile, due: open, recentSends });
  }
  // The most urgent campaigns first, then the clients most at risk and most valuable (CLV).
  dueClients.sort(compareDueClients);
  return { dueClients, scanned };
}

/** Step 4: decide each of the client's occasions and settle it; companions go in their winner's email. */
async function settleClient(run: CampaignRun, client: DueClient, suppressed: boolean): Promise<void> {
  const { profile } = client;
  const context = { campaigns: run.config.campaigns, brandTimeZone: run.config.timeZone };
  const decided = decide({ profile, suppressed, recentSends: client.recentSends }, client.due, run.at, context);
  const companionsOf = new Map(decided.map((item) => [item, companionOccasions(item, decided)]));
  const handledWithWinner = new Set([...companionsOf.values()].flat());
  for (const item of decided) {
    const { occasion, decision } = item;
    countsOf(run, occasion.campaignId).due++;
    if (handledWithWinner.has(occasion)) continue; // goes in the winner's email, recorded with it
    const occasions = [occasion, ...(companionsOf.get(item) ?? [])];
    if (run.dryRun) planDecision(run, profile, occasions, decision);
    else if (decision.outcome === 'send' && run.halted) await recordDecisions(run, profile, occasions, { outcome: 'deferred', until: run.at + HOUR_MS, reason: 'mailer-halted' });
    else if (decision.outcome === 'send') await send(run, profile, occasions);
    else await recordDecisions(run, profile, occasions, decision);
  }
}

/** A dry run shows who would get what (emails masked) and counts it, writing nothing. */
function planDecision(run: CampaignRun, profile: ClientProfile, occasions: readonly DueOccasion[], decision: Decision): void {
  const [occasion] = occasions as [DueOccasion, ...DueOccasion[]];
  run.plan.push({
    campaignId: occasion.campaignId,
    occasionKey: occasion.occasionKey,
    customerId: occasion.customerId,
    ...(profile.email ? { email: maskEmail(profile.email) as string } : {}),
    outcome: decision.outcome,
    ...('reason' in decision ? { reason: decision.reason } : {}),
  });
  countsOf(run, occasion.campaignId)[decision.outcome === 'send' ? 'sent' : decision.outcome] += occasions.length;
}

function claimRequest(run: CampaignRun, profile: ClientProfile, occasion: DueOccasion, extra: Partial<ClaimRequest> = {}): ClaimRequest {
  return {
    customerId: occasion.customerId,
    occasionKey: occasion.occasionKey,
    campaignId: occasion.campaignId,
    runId: run.runId,
    now: run.at,
    retentionDays: run.config.sender.ledgerRetentionDays,
    tier: profile.tier,
    triggerAt: occasion.triggerAt,
    ...extra,
  };
}

/** A decision that needs no SES call, or a send held back because SES refused the account earlier in this run. */
type NoSendDecision = Exclude<Decision, { outcome: 'send' }> | { outcome: 'deferred'; until: number; reason: 'mailer-halted' };

/** A decision that needs no SES call, written in the ledger for each occasion (nothing for out-of-audience). */
async function recordDecisions(run: CampaignRun, profile: ClientProfile, occasions: readonly DueOccasion[], decision: NoSendDecision): Promise<void> {
  const counts = countsOf(run, occasions[0]?.campaignId ?? '');
  if (decision.outcome === 'out-of-audience') {
    counts['out-of-audience'] += occasions.length;
    return;
  }
  const extra: Partial<ClaimRequest> =
    decision.outcome === 'deferred'
      ? { deferredUntil: decision.until, reason: decision.reason }
      : decision.outcome === 'capped'
        ? { reason: decision.reason }
        : decision.outcome === 'held-out'
          ? { reason: 'control-group' }
          : {};
  for (const occasion of occasions) {
    const written = await recordDecision(run.ledger.documents, run.ledger.table, claimRequest(run, profile, occasion, extra), decision.outcome);
    if (written === 'already-claimed') counts.alreadyClaimed++;
    else counts[decision.outcome]++;
  }
}

/** One email for the occasion and its companions, through the delivery protocol. */
async function send(run: CampaignRun, profile: ClientProfile, occasions: readonly DueOccasion[]): Promise<void> {
  const [occasion] = occasions as [DueOccasion, ...DueOccasion[]];
  const counts = countsOf(run, occasion.campaignId);
  const { claimed, taken } = await claimEach(run.ledger, occasions.map((o) => claimRequest(run, profile, o)));
  counts.alreadyClaimed += taken.length;
  if (!claimed.some((c) => c.occasionKey === occasion.occasionKey)) {
    // Another run owns this email; hand back any companion we won so it is not left claimed.
    await releaseClaims(run.ledger, claimed, run.runId, 'claimed-by-another-run', run.at);
    return;
  }
  await run.afterClaim?.({ customerId: occasion.customerId, occasionKey: occasion.occasionKey });
  const companions = occasions.filter((o) => o !== occasion && claimed.some((c) => c.occasionKey === o.occasionKey));
  const { config } = run;
  const { outcome } = await deliverClaimed({
    ledger: run.ledger,
    runId: run.runId,
    at: run.at,
    claimed,
    mailer: run.mailer,
    retryAt: run.at + HOUR_MS,
    log: run.log,
    email: async () => {
      const content = await composeEmail(profile, occasion, companions, config, run.unsubscribeSecret);
      return {
        to: profile.email ?? '',
        from: config.sender.fromAddress,
        subject: content.subject,
        html: content.html,
        text: content.text,
        ...(config.sender.configurationSetName ? { configurationSetName: config.sender.configurationSetName } : {}),
        tags: { campaign: occasion.campaignId, tier: profile.tier, customerId: profile.customerId },
        listUnsubscribeUrl: content.unsubscribeUrl,
        ...(config.sender.unsubscribeMailto ? { listUnsubscribeMailto: config.sender.unsubscribeMailto } : {}),
      };
    },
  });
  if (outcome.status === 'sent') counts.sent += claimed.length;
  else if (outcome.status === 'not-sent' && outcome.retry === 'later') counts.deferred += claimed.length;
  else counts.failed += claimed.length;
  if (outcome.status === 'not-sent' && outcome.scope === 'account' && !run.halted) {
    run.halted = true;
    run.log.error('SES refused the account; remaining sends wait for a later hour', { error: outcome.errorName });
  }
  if (outcome.status !== 'sent') {
    run.log.warn('send failed', { campaignId: occasion.campaignId, customerId: profile.customerId, status: outcome.status, error: outcome.errorName });
  }
}

/** Step 5: claims that never got an outcome (a run died between claim and send): reported for a person, never resent. */
function staleClaimsOf(run: CampaignRun): Promise<LedgerEntry[]> {
  const staleBefore = run.at - run.config.sender.staleClaimMinutes * 60_000;
  return staleClaims(run.ledger.documents, run.ledger.table, staleBefore, claimHoursBetween(run.at - 2 * DAY_MS, run.at));
}
