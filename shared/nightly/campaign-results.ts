import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { AwsClients } from '../aws/clients.ts';
import type { Config } from '../config.ts';
import { silentLog, type Log } from '../log.ts';
import { TIERS, type OrderFact, type Tier } from '../model.ts';
import {
  campaignHeadlines,
  campaignResultsPeriod,
  computeCampaignResults,
  type CampaignDecision,
  type CampaignHeadline,
} from '../reports/campaign-results.ts';
import { campaignResultsKey, reportsBucket } from '../store/buckets.ts';
import { decisionsClaimedBetween, type ResultEntry } from '../store/ledger-store.ts';
import { tableNames } from '../store/tables.ts';
import { runClock } from '../tiering/profile.ts';

/**
 * The nightly run's campaign-results step: the period's decisions from the send ledger, the
 * orders of just those clients from tonight's export, the results computed and written as
 * campaign-results.json under the run's report prefix.
 */

export interface CampaignResultsStepOptions {
  config: Config;
  clients: AwsClients;
  runDate: string;
  /** Tonight's orders by client (the nightly ClientAggregator). */
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

export async function writeCampaignResults(options: CampaignResultsStepOptions): Promise<CampaignResultsStepResult> {
  const { config, clients, runDate } = options;
  const started = Date.now();
  const period = campaignResultsPeriod(runDate, config);
  const entries = await decisionsClaimedBetween(clients.documents, tableNames(config).sendLedger, period.from, period.to);
  const decisions = entries.map(decisionOfEntry);
  const ordersByClient = new Map<string, readonly OrderFact[]>();
  for (const { customerId } of decisions) {
    if (ordersByClient.has(customerId)) continue;
    ordersByClient.set(customerId, options.orders.ordersOf(customerId) ?? []);
  }
  const results = computeCampaignResults({ decisions, ordersByClient, runDate, now: runClock(runDate, config.timeZone).now, config });
  const bucket = reportsBucket(config);
  const key = campaignResultsKey(config, runDate);
  await clients.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, ContentType: 'application/json', Body: JSON.stringify(results, null, 2) }),
  );
  const headlines = campaignHeadlines(results);
  (options.log ?? silentLog).info('campaign results written', { decisions: decisions.length, clients: ordersByClient.size, periodStart: period.startDate, key, durationMs: Date.now() - started });
  return { object: `s3://${bucket}/${key}`, headlines };
}
