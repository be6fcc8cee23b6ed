import { readStoredJson, StoredObjectDamagedError, writeJsonObject } from '#shared/aws/s3-objects.ts';
import { z } from 'zod';
import type { AwsClients } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import type { CampaignResults } from '#shared/campaign-results/model.ts';
import { silentLog, type Log } from '#shared/log.ts';
import { TIERS, type OrderFact, type Tier } from '#shared/model.ts';
import {
  campaignHeadlines,
  campaignResultsOf,
  campaignResultsPeriod,
  mergeCampaignTallies,
  tallyCampaignDecisions,
  type CampaignDecision,
  type CampaignHeadline,
  type CampaignTallies,
  type UnsentOccasion,
} from '#shared/campaign-results/results.ts';
import { campaignResultsKey, reportsBucket } from '#shared/store/buckets.ts';
import { occasionsClaimedBetween, type ResultEntry } from '#shared/store/ledger-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { runClock } from '#shared/tiering/profile.ts';

/**
 * The nightly run's campaign-results step, in two halves so that a sharded run adds up exactly
 * what a single run counts: each shard follows the period's decisions of the clients it holds
 * (tallyShardCampaigns, when it measures: combine adds them up before any write, so an impossible
 * sum refuses the night there), then the run's last step merges the tallies,
 * computes the uplifts and writes campaign-results.json under the run's report prefix.
 *
 * Decisions of clients absent from tonight's export are left out: their orders cannot be seen
 * (in a sharded run no shard could claim them), so they would only ever count as non-converters.
 */

export interface CampaignTallyOptions {
  config: Config;
  clients: AwsClients;
  runDate: string;
  /** Tonight's orders by client (the shard's ClientAggregator): undefined for a client it does not hold. */
  orders: { ordersOf(customerId: string): readonly OrderFact[] | undefined };
  log?: Log;
}

export interface CampaignResultsStepResult {
  /** s3:// address of campaign-results.json. */
  object: string;
  /** Per campaign, all tiers: what the run summary keeps for the trend. */
  headlines: CampaignHeadline[];
}

const isTier = (value: string | undefined): value is Tier => (TIERS as readonly (string | undefined)[]).includes(value);

/** Whether a ledger entry is a decision the results follow: sent, or held out by the control group. */
export function isFollowedDecision(entry: ResultEntry): boolean {
  return entry.status === 'sent' || entry.status === 'held-out';
}

/** An occasion neither sent nor held out, counted by its status. */
export function unsentOfEntry(entry: ResultEntry): UnsentOccasion {
  return { campaignId: entry.campaignId, ...(isTier(entry.tier) ? { tier: entry.tier } : {}), status: entry.status, at: entry.claimedAt };
}

/** A ledger entry as a member of its campaign's sent or control group. */
export function decisionOfEntry(entry: ResultEntry): CampaignDecision {
  return {
    customerId: entry.customerId,
    campaignId: entry.campaignId,
    ...(isTier(entry.tier) ? { tier: entry.tier } : {}),
    group: entry.status === 'sent' ? 'sent' : 'control',
    // A held-out decision is taken when the email would have gone: its claim is its moment.
    at: entry.status === 'sent' ? (entry.sentAt ?? entry.claimedAt) : entry.claimedAt,
    ...(entry.triggerAt !== undefined ? { triggerAt: entry.triggerAt } : {}),
  };
}

/**
 * One entry per email: a replenishment reminder listing three products settles three occasions
 * with one email (companionOccasions in campaigns/policy.ts), all recorded by one run with one
 * outcome. Followed as three members, its client's order would convert three times and the
 * incremental revenue triple; the control group's held-out reminders likewise. An email is its
 * client, campaign and outcome, with the SES message id once sent, else the run's moment (every
 * occasion a run records for one email carries the run's clock). Pure; keeps the first of each.
 */
export function oneEntryPerEmail(entries: readonly ResultEntry[]): ResultEntry[] {
  const seen = new Set<string>();
  return entries.filter((entry) => {
    const email = entry.status === 'sent' && entry.messageId !== undefined ? `m${entry.messageId}` : `t${entry.claimedAt}`;
    const key = [entry.customerId, entry.campaignId, entry.status, email].join('\u0000');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The period's emails (oneEntryPerEmail) of the clients `orders` holds: the decisions followed over each window,
 * the others counted. `ledger` is the shard's read of the send ledger (readNightLedger), which may
 * reach further back than the period: only entries claimed within it count.
 */
export function tallyShardCampaigns(options: Omit<CampaignTallyOptions, 'clients'> & { ledger: readonly ResultEntry[] }): CampaignTallies {
  const { config, runDate } = options;
  const started = performance.now();
  const period = campaignResultsPeriod(runDate, config);
  const entries = oneEntryPerEmail(options.ledger.filter((entry) => entry.claimedAt >= period.from && entry.claimedAt < period.to));
  const ordersByClient = new Map<string, readonly OrderFact[]>();
  const decisions: CampaignDecision[] = [];
  const unsent: UnsentOccasion[] = [];
  for (const entry of entries) {
    const orders = ordersByClient.get(entry.customerId) ?? options.orders.ordersOf(entry.customerId);
    if (orders === undefined) continue;
    ordersByClient.set(entry.customerId, orders);
    if (isFollowedDecision(entry)) decisions.push(decisionOfEntry(entry));
    else unsent.push(unsentOfEntry(entry));
  }
  const tallies = tallyCampaignDecisions({ decisions, unsent, ordersByClient, runDate, now: runClock(runDate, config.timeZone).now, config });
  (options.log ?? silentLog).info('campaign decisions followed', {
    ledgerEntries: entries.length,
    decisions: decisions.length,
    unsent: unsent.length,
    clients: ordersByClient.size,
    periodStart: period.startDate,
    durationMs: Math.round(performance.now() - started),
  });
  return tallies;
}

/**
 * The send ledger's occasions claimed from `from` to the night's clock, read once per shard for
 * both the campaign results and the advisors' follow-through (each a Scan of the whole table).
 */
export async function readNightLedger(options: Pick<CampaignTallyOptions, 'config' | 'clients' | 'runDate'>, from: number): Promise<ResultEntry[]> {
  const { config, clients, runDate } = options;
  const start = Math.min(from, campaignResultsPeriod(runDate, config).from);
  return occasionsClaimedBetween(clients.documents, tableNames(config).sendLedger, start, runClock(runDate, config.timeZone).now);
}

/** The results of every shard's tallies, written as campaign-results.json. */
export async function writeCampaignResults(options: {
  config: Config;
  clients: AwsClients;
  runDate: string;
  tallies: readonly CampaignTallies[];
  log?: Log;
}): Promise<CampaignResultsStepResult> {
  const { config, clients, runDate } = options;
  const results = campaignResultsOf(mergeCampaignTallies(options.tallies), { runDate, config });
  const bucket = reportsBucket(config);
  const key = campaignResultsKey(config, runDate);
  const object = await writeJsonObject(clients.s3, { bucket, key }, results, true);
  (options.log ?? silentLog).info('campaign results written', { segments: results.segments.length, key });
  return { object, headlines: campaignHeadlines(results) };
}

const intervalSchema = z.object({ low: z.number(), high: z.number() });
const groupOutcomeSchema = z.object({ members: z.number(), converted: z.number(), conversionRate: z.number(), revenueMinor: z.number(), revenuePerMemberMinor: z.number() });
const campaignResultsSchema = z.looseObject({
  runDate: z.string(),
  periodStart: z.string(),
  confidenceLevel: z.number(),
  windowsDays: z.array(z.number()),
  segments: z.array(
    z.looseObject({
      campaignId: z.string(),
      tier: z.enum([...TIERS, 'all']),
      // Results written before due and unsent were counted: what they knew was the decisions.
      due: z.number().optional(),
      sends: z.number(),
      heldOut: z.number(),
      unsent: z.record(z.string(), z.number()).optional(),
      windows: z.array(
        z.looseObject({
          windowDays: z.number(),
          sent: groupOutcomeSchema,
          control: groupOutcomeSchema,
          maturing: z.object({ sent: z.number(), control: z.number() }),
          conversionUplift: z.object({ estimate: z.number(), interval: intervalSchema }).optional(),
          relativeUplift: z.number().optional(),
          revenuePerMemberUpliftMinor: z.object({ estimate: z.number(), interval: intervalSchema }).optional(),
          incrementalRevenueMinor: z.number().optional(),
          significant: z.boolean(),
        }),
      ),
    }),
  ),
  welcomeDecay: z.array(z.looseObject({ fromHours: z.number(), toHours: z.number().optional(), members: z.number(), converted: z.number(), conversionRate: z.number() })),
});

/** The run's campaign results object, or undefined when the run wrote none. */
export async function readCampaignResults(s3: AwsClients['s3'], config: Config, runDate: string): Promise<CampaignResults | undefined> {
  const stored = await readStoredJson(s3, { bucket: reportsBucket(config), key: campaignResultsKey(config, runDate) }, campaignResultsSchema, (object, problem) =>
    new StoredObjectDamagedError('campaign results', object, problem, `the reports of the night of ${runDate} show none until it is repaired. Put back a copy of it, or delete it: the report then says the night wrote none.`),
  );
  if (stored === undefined) return undefined;
  return { ...stored, segments: stored.segments.map((segment) => ({ ...segment, unsent: segment.unsent ?? {}, due: segment.due ?? segment.sends + segment.heldOut })) };
}
