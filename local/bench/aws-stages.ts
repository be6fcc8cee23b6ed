import { readFile, rm, mkdir, symlink, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { LocalAws } from '#local/aws.ts';
import { ensureTables, tableNames } from '#shared/store/tables.ts';
import { parseConfig, type Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import type { ClientProfile } from '#shared/model.ts';
import { runNightly } from '#shared/nightly/run.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';
import { dueIndexFields, dueIndexing, nextDueAt, withNextDue } from '#shared/campaigns/due-index.ts';
import { sendWindows } from '#shared/campaigns/due.ts';
import { claimOccasion, ledgerViewOf, recordOutcome } from '#shared/store/ledger-store.ts';
import { runCampaigns, type CampaignRunSummary } from '#shared/sender/run.ts';
import { writeProfiles, type ProfileItem } from '#shared/store/profile-store.ts';
import { recordDueIndexState } from '#shared/store/due-index-store.ts';
import { dueIndexFingerprint } from '#shared/sender/due-selection.ts';
import { addDays, startOfLocalDay } from '#shared/time.ts';

/** DynamoDB writes of the nightly run and the campaign sender's pace, against the local emulators. */

export interface NightlyRunFigures {
  wallMs: number;
  writeMs: number;
  profilesWritten: number;
  tierHistoryWritten: number;
  itemsWritten: number;
  itemsPerSecond: number;
  changedProfiles: number;
  newClients: number;
}

export interface DynamoDbFigures {
  first: NightlyRunFigures;
  rerun: NightlyRunFigures;
  onePercent: NightlyRunFigures & { clientsChanged: number };
}

/** A night's figures from its summary: items written (0 on a rerun that found the night done) and their pace. */
export function nightlyRunFigures(summary: NightlyRunSummary): NightlyRunFigures {
  // `written` is what the night changed; a rerun that found the night completed wrote nothing itself.
  const written = summary.rerun ? { profiles: 0, tierHistory: 0 } : summary.written;
  const items = written.profiles + written.tierHistory;
  const writeMs = summary.timingsMs.write;
  return {
    wallMs: summary.durationMs,
    writeMs,
    profilesWritten: written.profiles,
    tierHistoryWritten: written.tierHistory,
    itemsWritten: items,
    itemsPerSecond: writeMs > 0 ? (items / writeMs) * 1000 : 0,
    changedProfiles: summary.changes.changedProfiles,
    newClients: summary.changes.newClients,
  };
}

/** A config of its own (tables, S3 prefixes) so sizes and stages never see each other's data. */
export async function isolatedConfig(aws: LocalAws, name: string, extra: Record<string, unknown> = {}): Promise<Config> {
  const config = parseConfig({
    ...aws.config,
    storage: { ...aws.config.storage, tablePrefix: `${name}-`, exportsPrefix: `exports-${name}`, reportsPrefix: `reports-${name}` },
    ...extra,
  });
  await ensureTables(aws.clients.dynamodb, config);
  return config;
}

/**
 * The export plus one extra valid paid order line (today) for every 100th customer, as an extra
 * part orders-9999.csv; the original files are symlinked, nothing is regenerated.
 */
export async function onePercentChangedExport(dir: string, target: string, runDate: string): Promise<number> {
  await rm(target, { recursive: true, force: true });
  await mkdir(target, { recursive: true });
  for (const name of await readdir(dir)) await symlink(join(dir, name), join(target, name));
  const customers = (await readFile(join(dir, 'customers.csv'), 'utf8')).split('\n');
  const lines = ['order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,currency,status,refunded_amount'];
  for (let i = 1; i < customers.length; i += 100) {
    const id = customers[i]?.split(',')[0];
    if (!id) continue;
    lines.push(`BENCH-${i},${id},${runDate}T12:00:00+08:00,SK-CRM-02,Daily Moisture Face Cream 50ml,skincare,1,166.50,USD,paid,0.00`);
  }
  await writeFile(join(target, 'orders-9999.csv'), `${lines.join('\n')}\n`);
  return lines.length - 1;
}

export async function benchDynamoDb(aws: LocalAws, size: number, dir: string, runDate: string, log: (line: string) => void): Promise<DynamoDbFigures> {
  const config = await isolatedConfig(aws, `bench-n${size}-${Date.now()}`);
  const run = (runId: string, source: string, night = runDate) =>
    runNightly({ runDate: night, runId, config, clients: aws.clients, clock: Date.now, source: directoryExportSource(source) });
  log(`  dynamodb: first run of ${size.toLocaleString('en-US')} clients ...`);
  const first = nightlyRunFigures(await run(`bench-${size}-first`, dir));
  log(`  dynamodb: first run wrote ${first.itemsWritten} items (${first.itemsPerSecond.toFixed(0)}/s); rerun ...`);
  const rerun = nightlyRunFigures(await run(`bench-${size}-rerun`, dir));
  log(`  dynamodb: rerun wrote ${rerun.itemsWritten} items; 1% changed run ...`);
  const changedDir = `${dir}-changed-1pct`;
  const clientsChanged = await onePercentChangedExport(dir, changedDir, runDate);
  // The next night, with 1% of the clients ordering: a typical night's writes against the last completed one.
  const onePercent = { ...nightlyRunFigures(await run(`bench-${size}-1pct`, changedDir, addDays(runDate, 1))), clientsChanged };
  log(`  dynamodb: 1% run: ${clientsChanged} clients changed, ${onePercent.itemsWritten} items written`);
  await rm(changedDir, { recursive: true, force: true });
  return { first, rerun, onePercent };
}

export interface SenderFigures {
  maxSendRate: number;
  profiles: number;
  sent: number;
  failed: number;
  wallMs: number;
  emailsPerSecond: number;
  maxObservedRate: number;
  withinRate: boolean;
}

/** `count` prospects who signed up an hour ago (welcome due), sent at `maxSendRate` to the SES emulator. */
export async function benchSender(aws: LocalAws, count: number, maxSendRate: number): Promise<SenderFigures> {
  const config = await isolatedConfig(aws, `bench-sender-${Date.now()}`, {
    sender: { ...aws.config.sender, maxSendRate },
    campaigns: { policy: { controlShare: 0 } },
  });
  // 10:00 in the brand's zone on the bench date: outside the default quiet hours.
  const at = startOfLocalDay('2026-11-24', config.timeZone) + 10 * 3_600_000;
  const signedUpAt = new Date(at - 3_600_000).toISOString();
  const items: ProfileItem[] = [];
  for (let i = 0; i < count; i++) {
    const id = `S${String(i).padStart(7, '0')}`;
    const profile: ClientProfile = {
      customerId: id,
      email: `${id.toLowerCase()}@example.com`,
      firstName: `Client ${i}`,
      acceptsMarketing: true,
      timeZone: config.timeZone,
      signedUpAt,
      tier: 'Prospect',
      stage: 'prospect',
      spend12mMinor: 0,
      lifetimeSpendMinor: 0,
      currency: config.currency,
      orderCount: 0,
      skus: {},
    };
    items.push({ ...profile, digest: 'bench', updatedRunDate: '2026-11-23' });
  }
  await writeProfiles(aws.clients.documents, tableNames(config).profiles, items);
  const started = performance.now();
  const summary = await runCampaigns({ at, runId: 'bench-sender', config, clients: aws.clients, unsubscribeSecret: 'b'.repeat(40) });
  const wallMs = performance.now() - started;
  const mailer = summary.mailer ?? { sent: 0, failed: 0, throttledRetries: 0, maxObservedRate: 0 };
  return {
    maxSendRate,
    profiles: count,
    sent: mailer.sent,
    failed: mailer.failed,
    wallMs,
    emailsPerSecond: (mailer.sent / wallMs) * 1000,
    maxObservedRate: mailer.maxObservedRate,
    withinRate: mailer.maxObservedRate <= maxSendRate,
  };
}

export interface HourlySenderRun {
  /** How the run found its clients: 'full-scan' (every profile, as before the due index) or 'index'. */
  mode: CampaignRunSummary['selection']['mode'];
  itemsRead: number;
  clientsDue: number;
  wallMs: number;
}

export interface HourlySenderFigures {
  clients: number;
  /** Clients with an occasion due in the measured hour (~1%). */
  due: number;
  /**
   * Clients inside an open send window with nothing left for the hour to do: their occasion was
   * sent already, or they are out of the campaign's audience (absent in runs before 2026-12-05).
   */
  inOpenWindows?: number;
  loadMs: number;
  /**
   * The hour before, reading every profile (the first run builds the index; nothing is due yet);
   * absent for bases above --hourly-full-scan-max, whose index state is recorded as that hour
   * would have left it (the profiles were written indexed as of that hour, as a nightly run does).
   */
  fullScan?: HourlySenderRun;
  /** The measured hour, through the due index, as a dry run (decides and plans, sends nothing). */
  indexed: HourlySenderRun;
  /** itemsRead of the indexed hour / clients: the issue asks for at most 2% with ~1% due. */
  readShare: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const FIRST_ORDER_CARE = 'first-order-care';

/**
 * One hour of the campaign sender on a base of `size` clients:
 * - 1% (every 100th) signed up half an hour before the hour: their welcome is due;
 * - 10% ordered for the first time 8 to 13 days before, inside the first-order care week (7 to
 *   14 days), and were sent that email the day it opened (a 'sent' entry in the send ledger);
 * - 10% are VICs who ordered 22 to 27 days before, inside the cross-category week (21 to 28 days),
 *   whose audience is Potential and Entry clients;
 * - the others ordered once, 32 to 59 days before: out of every send window (win-back at 60 days).
 * The 20% in open windows need no run: the index must not read them every hour of their week.
 * The profiles are written as the nightly run writes them (its due index value, which cannot know
 * the ledger); the hour before is run first, reading every profile (as every hour did before the
 * due index) and leaving the settled and out-of-audience windows out of the values; then the hour
 * itself through the index. Above --hourly-full-scan-max the values are written as that hour
 * leaves them.
 */
export async function benchHourlySender(aws: LocalAws, size: number, log: (line: string) => void, options: { fullScan: boolean } = { fullScan: true }): Promise<HourlySenderFigures> {
  const config = await isolatedConfig(aws, `bench-hourly-${size}-${Date.now()}`, { campaigns: { policy: { controlShare: 0 } } });
  const at = startOfLocalDay('2026-11-24', config.timeZone) + 10 * HOUR_MS;
  // No catalogue: the base has no replenishment cycles; indexed as of the hour before, like a nightly run after that hour.
  const indexing = dueIndexing(config, new Map(), at - HOUR_MS);
  const ledgerTable = tableNames(config).sendLedger;
  const context = { campaigns: config.campaigns, brandTimeZone: config.timeZone };
  // The first-order care occasion of a settled client: sent the morning its week opened.
  const careSent = (profile: ClientProfile) => {
    const window = sendWindows(profile, new Map(), context).find((w) => w.campaign.id === FIRST_ORDER_CARE && w.dueAt <= at - HOUR_MS && at - HOUR_MS < w.expiresAt);
    if (window === undefined) throw new Error(`bench: ${profile.customerId} is not inside the first-order care week`);
    return { occasionKey: window.occasionKey, sentAt: window.dueAt + 10 * HOUR_MS };
  };
  const settled: { customerId: string; occasionKey: string; sentAt: number }[] = [];
  let inOpenWindows = 0;
  const profiles = function* (): Generator<ProfileItem> {
    for (let i = 0; i < size; i++) {
      const id = `H${String(i).padStart(8, '0')}`;
      const due = i % 100 === 0;
      const cohort = due ? 'due' : i % 10 === 5 ? 'care-sent' : i % 10 === 7 ? 'vic-cross-category' : 'quiet';
      const lastOrder = at - (cohort === 'care-sent' ? 8 + (i % 6) : cohort === 'vic-cross-category' ? 22 + (i % 6) : 32 + (i % 28)) * DAY_MS;
      const firstOrder = cohort === 'vic-cross-category' ? lastOrder - 300 * DAY_MS : lastOrder;
      const profile: ClientProfile = {
        customerId: id,
        email: `${id.toLowerCase()}@example.com`,
        acceptsMarketing: true,
        timeZone: config.timeZone,
        tier: due ? 'Prospect' : cohort === 'vic-cross-category' ? 'VIC' : 'Entry',
        stage: due ? 'prospect' : 'active',
        spend12mMinor: due ? 0 : 50_000,
        lifetimeSpendMinor: due ? 0 : 50_000,
        currency: config.currency,
        orderCount: due ? 0 : cohort === 'vic-cross-category' ? 6 : 1,
        skus: {},
        ...(cohort === 'vic-cross-category' ? { topCategory: 'bags' } : {}),
        ...(due ? { signedUpAt: new Date(at - HOUR_MS / 2).toISOString() } : { firstOrderAt: new Date(firstOrder).toISOString(), lastOrderAt: new Date(lastOrder).toISOString() }),
      };
      const item = { ...profile, digest: 'bench', updatedRunDate: '2026-11-23' };
      if (cohort === 'care-sent' || cohort === 'vic-cross-category') inOpenWindows++;
      const sent = cohort === 'care-sent' ? { customerId: id, ...careSent(profile) } : undefined;
      if (sent !== undefined) settled.push(sent);
      if (options.fullScan) yield withNextDue(item, indexing);
      else {
        // As the hour before leaves it, having read the client's ledger.
        const entries = sent === undefined ? [] : [{ occasionKey: sent.occasionKey, status: 'sent' as const }];
        yield { ...item, ...dueIndexFields(nextDueAt(item, indexing, ledgerViewOf(entries))) };
      }
    }
  };
  const loadStarted = performance.now();
  let nextMilestone = 100_000;
  await writeProfiles(aws.clients.documents, tableNames(config).profiles, profiles(), {
    onProgress: (written) => {
      if (written < nextMilestone) return;
      log(`  hourly sender: ${written.toLocaleString('en-US')} profiles written (${((performance.now() - loadStarted) / 1000).toFixed(0)} s)`);
      nextMilestone += 100_000;
    },
  });
  // The settled clients' ledger: claimed and recorded sent, as the sender writes it.
  for (let from = 0; from < settled.length; from += 32) {
    await Promise.all(
      settled.slice(from, from + 32).map(async ({ customerId, occasionKey, sentAt }) => {
        const runId = `bench-care-${sentAt}`;
        await claimOccasion(aws.clients.documents, ledgerTable, { customerId, occasionKey, campaignId: FIRST_ORDER_CARE, runId, now: sentAt, retentionDays: config.sender.ledgerRetentionDays });
        await recordOutcome(aws.clients.documents, ledgerTable, { customerId, occasionKey }, runId, { status: 'sent', messageId: `bench-${customerId}`, sentAt }, sentAt);
      }),
    );
  }
  const loadMs = performance.now() - loadStarted;
  log(`  hourly sender: ${size.toLocaleString('en-US')} profiles loaded in ${(loadMs / 1000).toFixed(1)} s${options.fullScan ? '; the hour before (full scan) ...' : ''}`);
  const hour = async (runAt: number, runId: string, dryRun: boolean): Promise<HourlySenderRun> => {
    const started = performance.now();
    const summary = await runCampaigns({ at: runAt, runId, config, clients: aws.clients, unsubscribeSecret: 'b'.repeat(40), dryRun });
    return { mode: summary.selection.mode, itemsRead: summary.clientsScanned, clientsDue: summary.clientsDue, wallMs: performance.now() - started };
  };
  let fullScan: HourlySenderRun | undefined;
  if (options.fullScan) {
    fullScan = await hour(at - HOUR_MS, 'bench-hourly-before', false);
    log(`  hourly sender: full scan read ${fullScan.itemsRead.toLocaleString('en-US')} profiles in ${(fullScan.wallMs / 1000).toFixed(1)} s; the hour through the index ...`);
  } else {
    await recordDueIndexState(aws.clients.documents, tableNames(config).runs, { lastRunAt: at - HOUR_MS, fingerprint: dueIndexFingerprint(config, new Map()) });
    log('  hourly sender: index state recorded as of the hour before (no full scan); the hour through the index ...');
  }
  const indexed = await hour(at, 'bench-hourly', true);
  log(`  hourly sender: indexed hour read ${indexed.itemsRead.toLocaleString('en-US')} profiles (${indexed.clientsDue} due) in ${(indexed.wallMs / 1000).toFixed(1)} s`);
  return { clients: size, due: Math.ceil(size / 100), inOpenWindows, loadMs, ...(fullScan ? { fullScan } : {}), indexed, readShare: indexed.itemsRead / size };
}
