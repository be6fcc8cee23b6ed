import { readObjectText, writeJsonObject } from '#shared/aws/s3-objects.ts';
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
} from '#shared/campaign-results/results.ts';
import { campaignResultsKey, reportsBucket } from '#shared/store/buckets.ts';
import { decisionsClaimedBetween, type ResultEntry } from '#shared/store/ledger-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { runClock } from '#shared/tiering/profile.ts';

/**
 * The nightly run's campaign-results step, in two halves so that a sharded run adds up exactly
 * what a single run counts: each shard follows the period's decisions of the clients it holds
 * (tallyShardCampaigns, before it writes anything), then the run's last step merges the tallies,
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

/** The period's decisions of the clients `orders` holds, followed over each window. */
export async function tallyShardCampaigns(options: CampaignTallyOptions): Promise<CampaignTallies> {
  const { config, clients, runDate } = options;
  const started = performance.now();
  const period = campaignResultsPeriod(runDate, config);
  const entries = await decisionsClaimedBetween(clients.documents, tableNames(config).sendLedger, period.from, period.to);
  const ordersByClient = new Map<string, readonly OrderFact[]>();
  const decisions: CampaignDecision[] = [];
  for (const entry of entries) {
    const orders = ordersByClient.get(entry.customerId) ?? options.orders.ordersOf(entry.customerId);
    if (orders === undefined) continue;
    ordersByClient.set(entry.customerId, orders);
    decisions.push(decisionOfEntry(entry));
  }
  const tallies = tallyCampaignDecisions({ decisions, ordersByClient, runDate, now: runClock(runDate, config.timeZone).now, config });
  (options.log ?? silentLog).info('campaign decisions followed', { ledgerEntries: entries.length, decisions: decisions.length, clients: ordersByClient.size, periodStart: period.startDate, durationMs: Math.round(performance.now() - started) });
  return tallies;
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

/** The run's campaign results object, or undefined when the run wrote none. */
export async function readCampaignResults(s3: AwsClients['s3'], config: Config, runDate: string): Promise<CampaignResults | undefined> {
  const text = await readObjectText(s3, reportsBucket(config), campaignResultsKey(config, runDate));
  return text ? (JSON.parse(text) as CampaignResults) : undefined;
}
