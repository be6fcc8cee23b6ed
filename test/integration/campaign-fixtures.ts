import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { LocalAws } from '#local/aws.ts';
import { ensureTables, tableNames } from '#shared/store/tables.ts';
import { parseConfig, type Config } from '#shared/config.ts';
import type { ClientProfile, ProductRecord, Stage, Tier } from '#shared/model.ts';
import { runCampaigns, type CampaignCounts, type CampaignRunOptions, type CampaignRunSummary } from '#shared/sender/run.ts';
import { writeCatalog } from '#shared/store/catalog-store.ts';
import type { LedgerEntry } from '#shared/store/ledger-store.ts';
import { writeProfiles, type ProfileItem } from '#shared/store/profile-store.ts';
import { zonedWallTimeToInstant } from '#shared/time.ts';

/**
 * Fixtures of the campaign sender's integration tests: one table prefix (and exports / reports
 * prefix) per scenario, profiles written straight into the profiles table, and the SES
 * emulator's store read back to count what really went out.
 */

export const HOUR = 3_600_000;
export const MINUTE = 60_000;
export const DAY = 86_400_000;
export const SECRET = 'x'.repeat(40);

/** Overrides of the config a scenario needs (campaigns, sender, time zone...). */
export interface ScenarioOverrides {
  campaigns?: Record<string, unknown>;
  sender?: Record<string, unknown>;
  timeZone?: string;
}

/**
 * A config with its own tables and its own S3 prefixes, so a scenario sees only its own data.
 * By default the control group is off (controlShare 0) and the mailer is fast (the emulator
 * has no rate limit), so each scenario decides when held-out clients matter.
 */
export async function scenarioConfig(aws: LocalAws, name: string, overrides: ScenarioOverrides = {}): Promise<Config> {
  const config = parseConfig({
    ...aws.config,
    ...(overrides.timeZone ? { timeZone: overrides.timeZone } : {}),
    storage: { ...aws.config.storage, tablePrefix: `${name}-`, exportsPrefix: `exports-${name}`, reportsPrefix: `reports-${name}` },
    campaigns: overrides.campaigns ?? { policy: { controlShare: 0 } },
    sender: { ...aws.config.sender, maxSendRate: 500, ...overrides.sender },
  });
  await ensureTables(aws.clients.dynamodb, config);
  return config;
}

/** A stored profile with sensible defaults: an Entry client who accepts marketing and has bought nothing recent. */
export function profile(customerId: string, fields: Partial<ClientProfile> = {}): ProfileItem {
  const tier: Tier = fields.tier ?? 'Entry';
  const stage: Stage = fields.stage ?? 'active';
  return {
    customerId,
    email: `${customerId}@example.com`,
    firstName: `Client ${customerId}`,
    acceptsMarketing: true,
    timeZone: 'Asia/Shanghai',
    tier,
    stage,
    spend12mMinor: 50_000,
    lifetimeSpendMinor: 50_000,
    currency: 'USD',
    orderCount: 1,
    skus: {},
    ...fields,
    digest: 'seeded',
    updatedRunDate: '2026-01-01',
  };
}

export async function seedProfiles(aws: LocalAws, config: Config, items: ProfileItem[]): Promise<void> {
  await writeProfiles(aws.clients.documents, tableNames(config).profiles, items);
}

/** The products the nightly run would have saved, for catalog-based replenishment cycles. */
export async function seedCatalog(aws: LocalAws, config: Config, products: ProductRecord[]): Promise<void> {
  await writeCatalog(aws.clients.s3, config, products);
}

/** The instant a local wall-clock time happens in a zone: local('2026-11-23 10:00', 'Asia/Shanghai'). */
export function local(wall: string, timeZone: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})$/.exec(wall);
  if (!m) throw new Error(`bad wall time ${wall}`);
  return zonedWallTimeToInstant(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), 0, 0, timeZone);
}

export const iso = (ms: number): string => new Date(ms).toISOString();

export function run(
  aws: LocalAws,
  config: Config,
  at: number,
  runId: string,
  extra: Partial<Omit<CampaignRunOptions, 'at' | 'runId' | 'config' | 'unsubscribeSecret'>> = {},
): Promise<CampaignRunSummary> {
  return runCampaigns({ at, runId, config, clients: aws.clients, unsubscribeSecret: SECRET, ...extra });
}

/** One email as the SES emulator stored it. */
export interface StoredEmail {
  messageId: string;
  from: string;
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { html?: string; text?: string };
  headers?: { name: string; value: string }[];
  at: number;
}

export async function sesEmails(aws: LocalAws): Promise<StoredEmail[]> {
  const response = await fetch(`${aws.endpoints.ses}/store`);
  if (!response.ok) throw new Error(`SES emulator store: HTTP ${response.status}`);
  const body = (await response.json()) as { emails: StoredEmail[] };
  return body.emails;
}

export async function emailsTo(aws: LocalAws, address: string): Promise<StoredEmail[]> {
  return (await sesEmails(aws)).filter((e) => e.destination.to.includes(address));
}

/** How many emails the SES emulator holds for each address. */
export async function emailCounts(aws: LocalAws): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const email of await sesEmails(aws)) {
    for (const to of email.destination.to) counts.set(to, (counts.get(to) ?? 0) + 1);
  }
  return counts;
}

/** Every ledger entry of a scenario. */
export async function allLedgerEntries(aws: LocalAws, config: Config): Promise<LedgerEntry[]> {
  const entries: LedgerEntry[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await aws.clients.documents.send(
      new ScanCommand({ TableName: tableNames(config).sendLedger, ExclusiveStartKey: startKey, ConsistentRead: true }),
    );
    entries.push(...((page.Items ?? []) as LedgerEntry[]));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return entries;
}

/** Sum of one count over every campaign of a summary. */
export function total(summary: CampaignRunSummary, key: keyof CampaignRunSummary['campaigns'][string]): number {
  return Object.values(summary.campaigns).reduce((sum, counts) => sum + counts[key], 0);
}

/** One campaign's counts of a summary (throws when the campaign is missing). */
export function countsOf(summary: CampaignRunSummary, campaignId: string): CampaignCounts {
  const counts = summary.campaigns[campaignId];
  if (!counts) throw new Error(`no counts for campaign ${campaignId}`);
  return counts;
}
