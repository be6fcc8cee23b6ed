import { readObjectText } from '#shared/aws/s3-objects.ts';
import type { AwsClients } from '#shared/aws/clients.ts';
import { compareDueClients, dueOccasions, type DueOccasion } from '#shared/campaigns/due.ts';
import { companionOccasions, decide, type DecidedOccasion, type Decision, type RecentSend } from '#shared/campaigns/policy.ts';
import type { Config } from '#shared/config.ts';
import { silentLog, maskEmail, type Log } from '#shared/log.ts';
import { createSesMailer, type SesMailer } from '#shared/mailer/ses-mailer.ts';
import type { ClientProfile, ProductRecord } from '#shared/model.ts';
import { catalogKey, reportsBucket } from '#shared/store/buckets.ts';
import {
  claimHoursBetween,
  claimOccasion,
  ledgerEntriesOf,
  recordDecision,
  recordOutcome,
  staleClaims,
  WAITING_STATUSES,
  type ClaimRequest,
  type LedgerKey,
} from '#shared/store/ledger-store.ts';
import { scanProfiles } from '#shared/store/profile-store.ts';
import { normaliseEmail } from '#shared/email.ts';
import { loadSuppressed } from '#shared/store/suppression-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { composeEmail } from './compose.ts';
import { ingestIncrementalExports, type IngestSummary } from './ingest.ts';

/**
 * The hourly campaign sender: ingest new incremental exports, find who is due now, decide (consent,
 * suppression, cap, quiet hours, control group), claim each send in the ledger, then send through
 * SES and record the outcome. Rerunning an hour, or two runs at once, sends nothing twice.
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

const DAY_MS = 86_400_000;

/** A policy decision, or a send held back because SES refused the account earlier in this run. */
type SettleDecision = Decision | { outcome: 'deferred'; until: number; reason: 'mailer-halted' };

export function emptyCampaignCounts(): CampaignCounts {
  return { due: 0, alreadyClaimed: 0, sent: 0, failed: 0, 'held-out': 0, suppressed: 0, 'no-consent': 0, capped: 0, deferred: 0, 'out-of-audience': 0 };
}

/** The products the last nightly run saw (for replenishment cycles); empty when none was exported. */
export async function loadCatalog(clients: AwsClients, config: Config): Promise<Map<string, ProductRecord>> {
  const text = await readObjectText(clients.s3, reportsBucket(config), catalogKey(config));
  if (text === undefined) return new Map();
  const products = JSON.parse(text || '[]') as ProductRecord[];
  return new Map(products.map((p) => [p.sku, p]));
}

interface DueClient {
  profile: ClientProfile;
  due: DueOccasion[];
  recentSends: RecentSend[];
}

export async function runCampaigns(options: CampaignRunOptions): Promise<CampaignRunSummary> {
  const { config, clients, at, runId } = options;
  const started = Date.now();
  const dryRun = options.dryRun ?? false;
  const log = (options.log ?? silentLog).child({ runId, job: 'campaigns', at: new Date(at).toISOString() });
  const tables = tableNames(config);
  const context = { campaigns: config.campaigns, brandTimeZone: config.timeZone };
  const counts: Record<string, CampaignCounts> = Object.fromEntries(config.campaigns.campaigns.map((c) => [c.id, emptyCampaignCounts()]));
  const countsOf = (campaignId: string) => (counts[campaignId] ??= emptyCampaignCounts());

  // 1. New sign-ups and orders since the last hour, so a 10:00 sign-up is welcomed today.
  const ingested = await ingestIncrementalExports({ config, clients, at, runId, dryRun, log });

  // 2. Who is due now, minus what the ledger has already settled.
  const catalog = await loadCatalog(clients, config);
  const dueClients: DueClient[] = [];
  let scanned = 0;
  for await (const profile of scanProfiles(clients.documents, tables.profiles)) {
    scanned++;
    const due = dueOccasions(profile, catalog, at, context);
    if (due.length === 0) continue;
    const entries = await ledgerEntriesOf(clients.documents, tables.sendLedger, profile.customerId);
    const settled = new Set(entries.filter((e) => !(WAITING_STATUSES as readonly string[]).includes(e.status)).map((e) => e.occasionKey));
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
  const suppressed = await loadSuppressed(
    clients.documents,
    tables.suppression,
    dueClients.flatMap((c) => (c.profile.email ? [c.profile.email] : [])),
  );
  log.info('due clients selected', { scanned, due: dueClients.length, suppressed: suppressed.size, products: catalog.size });

  // 3. Decide, claim, send, record.
  const mailer = options.mailer ?? createSesMailer(clients.ses, { maxSendRate: config.sender.maxSendRate, log });
  const plan: PlannedDecision[] = [];
  let halted = false;
  for (const client of dueClients) {
    const { profile } = client;
    const isSuppressed = profile.email !== undefined && suppressed.has(normaliseEmail(profile.email));
    const decided = decide({ profile, suppressed: isSuppressed, recentSends: client.recentSends }, client.due, at, context);
    const companionsOf = new Map(decided.map((item) => [item, companionOccasions(item, decided)]));
    const handledWithWinner = new Set([...companionsOf.values()].flat());
    for (const item of decided) {
      const { occasion, decision } = item;
      countsOf(occasion.campaignId).due++;
      if (handledWithWinner.has(occasion)) continue; // goes in the winner's email, recorded with it
      const companions = companionsOf.get(item) ?? [];
      if (dryRun) {
        plan.push({
          campaignId: occasion.campaignId,
          occasionKey: occasion.occasionKey,
          customerId: occasion.customerId,
          ...(profile.email ? { email: maskEmail(profile.email) as string } : {}),
          outcome: decision.outcome,
          ...('reason' in decision ? { reason: decision.reason } : {}),
        });
        countsOf(occasion.campaignId)[decision.outcome === 'send' ? 'sent' : decision.outcome] += 1 + companions.length;
        continue;
      }
      // Once SES refuses the account (paused, quota), the remaining sends wait for a later hour.
      const outcome: SettleDecision =
        halted && decision.outcome === 'send' ? { outcome: 'deferred', until: at + 3_600_000, reason: 'mailer-halted' } : decision;
      const result = await settle(profile, occasion, companions, outcome);
      if (result === 'halt') halted = true;
    }
  }

  async function settle(
    profile: ClientProfile,
    occasion: DueOccasion,
    companions: DueOccasion[],
    decision: SettleDecision,
  ): Promise<'ok' | 'halt'> {
    const campaignCounts = countsOf(occasion.campaignId);
    const all = [occasion, ...companions];
    const request = (o: DueOccasion, extra: Partial<ClaimRequest> = {}): ClaimRequest => ({
      customerId: o.customerId,
      occasionKey: o.occasionKey,
      campaignId: o.campaignId,
      runId,
      now: at,
      retentionDays: config.sender.ledgerRetentionDays,
      tier: profile.tier,
      triggerAt: o.triggerAt,
      ...extra,
    });
    switch (decision.outcome) {
      case 'out-of-audience':
        campaignCounts['out-of-audience'] += all.length;
        return 'ok';
      case 'held-out':
      case 'no-consent':
      case 'suppressed':
      case 'capped':
      case 'deferred': {
        const extra: Partial<ClaimRequest> =
          decision.outcome === 'deferred'
            ? { deferredUntil: decision.until, reason: decision.reason }
            : decision.outcome === 'capped'
              ? { reason: decision.reason }
              : decision.outcome === 'held-out'
                ? { reason: 'control-group' }
                : {};
        for (const o of all) {
          const written = await recordDecision(clients.documents, tables.sendLedger, request(o, extra), decision.outcome);
          if (written === 'already-claimed') campaignCounts.alreadyClaimed++;
          else campaignCounts[decision.outcome]++;
        }
        return 'ok';
      }
      case 'send': {
        const claimed: DueOccasion[] = [];
        for (const o of all) {
          if ((await claimOccasion(clients.documents, tables.sendLedger, request(o))) === 'claimed') claimed.push(o);
          else campaignCounts.alreadyClaimed++;
        }
        if (!claimed.includes(occasion)) {
          // Another run owns this email; hand back any companion we won so it is not left claimed.
          for (const o of claimed) {
            await recordOutcome(clients.documents, tables.sendLedger, o, runId, { status: 'deferred', reason: 'claimed-by-another-run' });
          }
          return 'ok';
        }
        await options.afterClaim?.({ customerId: occasion.customerId, occasionKey: occasion.occasionKey });
        const record = async (outcome: Parameters<typeof recordOutcome>[4]) => {
          for (const o of claimed) {
            const recorded = await recordOutcome(clients.documents, tables.sendLedger, o, runId, outcome);
            // Only the claimant records; anything else means the ledger was changed under us.
            if (recorded === 'not-claimant') log.error('outcome not recorded: this run no longer holds the claim', { customerId: o.customerId, occasionKey: o.occasionKey, status: outcome.status });
          }
        };
        if (!profile.email) {
          await record({ status: 'failed', reason: 'no email address' });
          campaignCounts.failed += claimed.length;
          return 'ok';
        }
        const content = await composeEmail(profile, occasion, claimed.slice(1), config, options.unsubscribeSecret);
        const result = await mailer.send({
          to: profile.email,
          from: config.sender.fromAddress,
          subject: content.subject,
          html: content.html,
          text: content.text,
          ...(config.sender.configurationSetName ? { configurationSetName: config.sender.configurationSetName } : {}),
          tags: { campaign: occasion.campaignId, tier: profile.tier, customerId: profile.customerId },
          listUnsubscribeUrl: content.unsubscribeUrl,
          ...(config.sender.unsubscribeMailto ? { listUnsubscribeMailto: config.sender.unsubscribeMailto } : {}),
        });
        if (result.ok) {
          await record({ status: 'sent', messageId: result.messageId, sentAt: at });
          campaignCounts.sent += claimed.length;
          return 'ok';
        }
        if (result.haltRun && !result.maybeSent) {
          // The account cannot send (paused, quota): nothing went out; release and stop sending.
          await record({ status: 'deferred', reason: `${result.errorName}: ${result.reason}`, deferredUntil: at + 3_600_000 });
          campaignCounts.deferred += claimed.length;
          log.error('SES refused the account; remaining sends wait for a later hour', { error: result.errorName });
          return 'halt';
        }
        if (result.permanent || result.maybeSent) {
          // A rejected recipient, or SES may have taken it: never resend blindly.
          await record({ status: 'failed', reason: `${result.errorName}: ${result.reason}` });
          campaignCounts.failed += claimed.length;
          log.warn('send failed', { campaignId: occasion.campaignId, customerId: profile.customerId, error: result.errorName, maybeSent: result.maybeSent });
          return result.haltRun ? 'halt' : 'ok';
        }
        // Nothing went out (throttled past the retries, account halted): release for a later hour.
        await record({ status: 'deferred', reason: `${result.errorName}: ${result.reason}`, deferredUntil: at + 3_600_000 });
        campaignCounts.deferred += claimed.length;
        return result.haltRun ? 'halt' : 'ok';
      }
    }
  }

  // 4. Claims that never got an outcome: report them for a person, do not resend.
  const staleBefore = at - config.sender.staleClaimMinutes * 60_000;
  const stale = dryRun
    ? []
    : await staleClaims(clients.documents, tables.sendLedger, staleBefore, claimHoursBetween(at - 2 * DAY_MS, at));
  if (stale.length > 0) log.error('stale send claims: a run stopped between claim and send; not resent', { count: stale.length });

  const stats = mailer.stats();
  const summary: CampaignRunSummary = {
    job: 'campaigns',
    runId,
    at: new Date(at).toISOString(),
    dryRun,
    ingested,
    clientsScanned: scanned,
    clientsDue: dueClients.length,
    campaigns: counts,
    staleClaims: stale.map((e) => ({ customerId: e.customerId, occasionKey: e.occasionKey, claimedAt: new Date(e.claimedAt).toISOString(), runId: e.runId })),
    ...(dryRun ? { plan } : {}),
    mailer: { sent: stats.sent, failed: stats.failed, throttledRetries: stats.throttledRetries, maxObservedRate: stats.maxObservedRate, ...(stats.haltedBy ? { haltedBy: stats.haltedBy } : {}) },
    durationMs: Date.now() - started,
  };
  log.info('campaign run finished', { campaigns: counts, stale: stale.length, durationMs: summary.durationMs });
  return summary;
}
