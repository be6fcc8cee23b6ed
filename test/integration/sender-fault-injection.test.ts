import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SendEmailCommand, SendEmailCommandOutput } from '@aws-sdk/client-sesv2';
import type { LocalService } from '#local/aws.ts';
import { Rng } from '#local/generate/random.ts';
import { dueOccasions } from '#shared/campaigns/due.ts';
import type { Config } from '#shared/config.ts';
import type { SesSender } from '#shared/delivery/ses-email.ts';
import { createSesMailer } from '#shared/delivery/ses-mailer.ts';
import type { ClientProfile, ProductRecord } from '#shared/model.ts';
import { campaignRunFailure, runCampaigns, type CampaignRunSummary } from '#shared/sender/run.ts';
import type { ProfileItem } from '#shared/store/profile-store.ts';
import { suppress } from '#shared/store/suppression-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { zonedWallTimeToInstant } from '#shared/time.ts';
import { ledgerEntries, seedCatalog, seedProfiles } from '#test/support/emulator-data.ts';
import { scenarioConfig, sharedAws, startPrivateAws, type PrivateAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { emailsTo } from '#test/support/ses-store.ts';

/**
 * A simulated day of hourly campaign runs on private emulators, with faults at random points: the
 * SES emulator killed (and restarted a moment later), before a call or with one in flight; DynamoDB
 * Local killed (and restarted) right after SES took an email; the sender crashing between a claim
 * and its SES call. Each run has its own fixed clock; a few clean
 * hours follow. Then, from the SES emulator's store and the ledger:
 *  - no email twice to one client (each client here has exactly one occasion);
 *  - no email to a client without consent or on the suppression list;
 *  - every occasion that was due ends sent, held out, suppressed, without consent, capped, expired
 *    with a reason, or maybe-sent / a stale claim that the last run reports; or is still due (its
 *    window open, a later hour decides it). None lost, and no email the ledger does not account for.
 * The emulators are this file's own: it kills them. Seeds: FAULT_SEEDS="1,2,3" (default).
 */

const SH = 'Asia/Shanghai';
const NY = 'America/New_York';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SECRET = 'f'.repeat(40);
const SEEDS = (process.env.FAULT_SEEDS ?? '1,2,3').split(',').map(Number);
/** The day starts at 10:00 in Shanghai: 21:00 in New York, where quiet hours begin. */
const DAY_START = zonedWallTimeToInstant(2026, 11, 23, 10, 0, 0, 0, SH);
const FAULTY_HOURS = 24;
const CLEAN_HOURS = 4;
const iso = (ms: number) => new Date(ms).toISOString();
const CATALOG: ProductRecord[] = [{ sku: 'CREAM', name: 'Night Cream', category: 'skin', replenishDays: 40 }];

const shared = sharedAws();
// Private DynamoDB Local and SES (S3 shared): this file kills and restarts them under the other files' feet otherwise.
let aws: PrivateAws;
let stateDir: string;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'clientele-faults-'));
  // State on disk: DynamoDB Local keeps its tables across a kill.
  aws = await startPrivateAws(shared, ['dynamodb', 'ses'], { stateDir });
});
afterAll(async () => {
  await aws?.stop();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

/** The generator's seeded PRNG (sfc32), so a failing seed can be replayed. */
function random(seed: number): () => number {
  const rng = new Rng(seed, 0, 0x6661756c); // stream 'faul'
  return () => rng.float();
}

type Fault =
  | { kind: 'none' }
  | { kind: 'kill-ses'; atCall: number; downMs: number }
  /** SES killed while the call is in flight: the request may or may not have reached it. */
  | { kind: 'cut-ses'; atCall: number; downMs: number }
  | { kind: 'kill-dynamodb'; atCall: number; downMs: number }
  | { kind: 'crash-after-claim'; atClaim: number };

/** One client, one occasion: who they are decides what a correct day looks like for them. */
type Role = 'welcome' | 'welcome-later' | 'welcome-ny-quiet-cutoff' | 'welcome-ny' | 'no-consent' | 'suppressed' | 'winback' | 'replenishment';

interface Client {
  profile: ProfileItem;
  role: Role;
  email: string;
}

function clientsFor(seed: number, r: () => number): Client[] {
  const clients: Client[] = [];
  const add = (role: Role, count: number, fields: (i: number) => Partial<ClientProfile>) => {
    for (let i = 0; i < count; i++) {
      const customerId = `f${seed}-${role}-${i}`;
      const email = `${customerId}@faults.example.com`;
      const profile: ProfileItem = {
        ...profileItem(customerId, { email, firstName: 'Ann', timeZone: SH, stage: 'new', spend12mMinor: 10_000, lifetimeSpendMinor: 10_000, ...fields(i) }),
        updatedRunDate: '2026-11-22',
      };
      clients.push({ profile, role, email });
    }
  };
  const ordered = (at: number) => ({ firstOrderAt: iso(at), lastOrderAt: iso(at) });
  // First orders spread over the 70 hours before the day: some cut-offs fall within it.
  add('welcome', 10, () => ordered(DAY_START - Math.floor(r() * 70) * HOUR - 30 * 60_000));
  // First orders during the day, one an hour, where it is daytime (Shanghai first, then New York):
  // each hour has a send for the faults to hit.
  add('welcome-later', 22, (i) => ({ timeZone: i < 11 ? SH : NY, ...ordered(DAY_START + i * HOUR + Math.floor(r() * 50) * 60_000) }));
  // New York, cut-off 1-6 hours into the day, all of it in New York's quiet hours: expired while deferred.
  add('welcome-ny-quiet-cutoff', 4, () => ({ timeZone: NY, ...ordered(DAY_START - 72 * HOUR + (1 + Math.floor(r() * 6)) * HOUR) }));
  // New York, sent once their quiet hours end (22:00 in Shanghai).
  add('welcome-ny', 4, () => ({ timeZone: NY, ...ordered(DAY_START - 10 * HOUR) }));
  add('no-consent', 4, () => ({ acceptsMarketing: false, ...ordered(DAY_START - 5 * HOUR) }));
  add('suppressed', 4, () => ordered(DAY_START - 5 * HOUR));
  // 60-70 days without an order: win-back due.
  add('winback', 6, () => ({ stage: 'sleeping', firstOrderAt: iso(DAY_START - 400 * DAY), lastOrderAt: iso(DAY_START - (60 + Math.floor(r() * 10)) * DAY - HOUR) }));
  // Bought CREAM (a 40-day cycle) 30 days ago: reminder due since 5 days.
  add('replenishment', 4, () => ({
    stage: 'active',
    firstOrderAt: iso(DAY_START - 400 * DAY),
    lastOrderAt: iso(DAY_START - 30 * DAY),
    skus: { CREAM: { lastPurchasedAt: iso(DAY_START - 30 * DAY), quantity: 1, purchases: 1, productName: 'Night Cream', category: 'skin' } },
  }));
  return clients;
}

function faultFor(r: () => number, dynamoKills: number, hour: number): Fault {
  const x = r();
  if (x < 0.5) return { kind: 'none' };
  // Most hours have a single send: the faults fire on the first (hour 0, with many, on one of the first three).
  const at = hour === 0 ? 1 + Math.floor(r() * 3) : 1;
  if (x < 0.64) return { kind: 'kill-ses', atCall: at, downMs: 100 + Math.floor(r() * 2500) };
  if (x < 0.72) return { kind: 'cut-ses', atCall: at, downMs: 100 + Math.floor(r() * 1500) };
  if (x < 0.84 && dynamoKills < 2) return { kind: 'kill-dynamodb', atCall: at, downMs: Math.floor(r() * 1500) };
  return { kind: 'crash-after-claim', atClaim: at };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function storedRecipients(prefix: string): Promise<string[]> {
  const emails = await emailsTo(aws, (address) => address.startsWith(prefix));
  return emails.flatMap((e) => e.destination.to).filter((to) => to.startsWith(prefix));
}

interface DayReport {
  seed: number;
  runs: number;
  runsFailed: number;
  /** Faults that fired (a planned one whose call or claim never came does not count). */
  faults: Record<Exclude<Fault['kind'], 'none'>, number>;
  emails: number;
  duplicates: number;
  sentWithoutConsent: number;
  sentToSuppressed: number;
  outcomes: Record<string, number>;
  stillDue: number;
  lost: string[];
  unaccountedEmails: string[];
  maybeSentReported: boolean;
  staleReported: boolean;
}

async function simulateDay(seed: number): Promise<DayReport> {
  const r = random(seed);
  const config = await scenarioConfig(aws, `faults${seed}`, { campaigns: { policy: { controlShare: 0.1 } }, sender: { ...aws.config.sender, maxSendRate: 200 } });
  await seedCatalog(aws, config, CATALOG);
  const clients = clientsFor(seed, r);
  await seedProfiles(aws, config, clients.map((c) => c.profile));
  for (const c of clients.filter((x) => x.role === 'suppressed')) {
    await suppress(aws.clients.documents, tableNames(config).suppression, { email: c.email, reason: c.profile.customerId.endsWith('0') ? 'complaint' : 'hard-bounce', at: DAY_START - DAY });
  }

  const report: DayReport = {
    seed,
    runs: 0,
    runsFailed: 0,
    faults: { 'kill-ses': 0, 'cut-ses': 0, 'kill-dynamodb': 0, 'crash-after-claim': 0 },
    emails: 0,
    duplicates: 0,
    sentWithoutConsent: 0,
    sentToSuppressed: 0,
    outcomes: {},
    stillDue: 0,
    lost: [],
    unaccountedEmails: [],
    maybeSentReported: true,
    staleReported: true,
  };
  let last: CampaignRunSummary | undefined;
  for (let hour = 0; hour < FAULTY_HOURS + CLEAN_HOURS; hour++) {
    const at = DAY_START + hour * HOUR;
    const fault: Fault = hour < FAULTY_HOURS ? faultFor(r, report.faults['kill-dynamodb'], hour) : { kind: 'none' };
    const restarts: Promise<void>[] = [];
    const down = (kind: 'kill-ses' | 'cut-ses' | 'kill-dynamodb', service: LocalService, downMs: number) => {
      report.faults[kind]++;
      restarts.push(aws.kill(service).then(() => sleep(downMs)).then(() => aws.restart(service)));
    };
    let calls = 0;
    let claims = 0;
    // SES as the run reaches it; the faults fire at the planned call.
    const ses: SesSender = {
      async send(command: SendEmailCommand): Promise<SendEmailCommandOutput> {
        calls++;
        if (fault.kind === 'kill-ses' && calls === fault.atCall) {
          down('kill-ses', 'ses', fault.downMs);
          await sleep(20); // the kill lands before this call goes out
        }
        const sending = aws.clients.ses.send(command);
        if (fault.kind === 'cut-ses' && calls === fault.atCall) down('cut-ses', 'ses', fault.downMs);
        const output = await sending;
        // SES took it; DynamoDB dies before the outcome is recorded.
        if (fault.kind === 'kill-dynamodb' && calls === fault.atCall) down('kill-dynamodb', 'dynamodb', fault.downMs);
        return output;
      },
    };
    const mailer = createSesMailer(ses, { maxSendRate: 200, baseDelayMs: 100 });
    const runId = `faults${seed}-h${String(hour).padStart(2, '0')}`;
    report.runs++;
    try {
      const summary = await runCampaigns({
        at,
        runId,
        config,
        clients: aws.clients,
        unsubscribeSecret: SECRET,
        mailer,
        afterClaim: async () => {
          claims++;
          if (fault.kind === 'crash-after-claim' && claims === fault.atClaim) {
            report.faults['crash-after-claim']++;
            throw new Error('sender killed between the claim and SES');
          }
        },
      });
      if (campaignRunFailure(summary)) report.runsFailed++;
      last = summary;
    } catch {
      report.runsFailed++;
    }
    await Promise.all(restarts);
  }
  if (!last) throw new Error('no run finished');
  const finalAt = DAY_START + (FAULTY_HOURS + CLEAN_HOURS - 1) * HOUR;

  // What went out.
  const recipients = await storedRecipients(`f${seed}-`);
  report.emails = recipients.length;
  const perRecipient = new Map<string, number>();
  for (const to of recipients) perRecipient.set(to, (perRecipient.get(to) ?? 0) + 1);
  report.duplicates = [...perRecipient.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0);
  const byEmail = new Map(clients.map((c) => [c.email, c]));
  report.sentWithoutConsent = recipients.filter((to) => byEmail.get(to)?.profile.acceptsMarketing !== true).length;
  report.sentToSuppressed = recipients.filter((to) => byEmail.get(to)?.role === 'suppressed').length;

  // What the ledger says of each occasion that was ever due.
  const catalog = new Map(CATALOG.map((p) => [p.sku, p]));
  const context = { campaigns: config.campaigns, brandTimeZone: config.timeZone };
  const ledger = new Map((await ledgerEntries(aws, config)).map((e) => [`${e.customerId}#${e.occasionKey}`, e]));
  const reportedMaybe = new Set(last.maybeSent.map((m) => `${m.customerId}#${m.occasionKey}`));
  const reportedStale = new Set(last.staleClaims.map((m) => `${m.customerId}#${m.occasionKey}`));
  for (const client of clients) {
    const occasions = new Map<string, number>();
    for (let hour = 0; hour < FAULTY_HOURS + CLEAN_HOURS; hour++) {
      for (const o of dueOccasions(client.profile, catalog, DAY_START + hour * HOUR, context)) occasions.set(o.occasionKey, o.expiresAt);
    }
    const emails = perRecipient.get(client.email) ?? 0;
    let accountedEmails = 0;
    for (const [occasionKey, expiresAt] of occasions) {
      const key = `${client.profile.customerId}#${occasionKey}`;
      const entry = ledger.get(key);
      const status = entry?.status ?? 'none';
      const waiting = status === 'none' || status === 'deferred' || status === 'capped';
      if (waiting && expiresAt > finalAt) {
        report.stillDue++;
        continue;
      }
      report.outcomes[status] = (report.outcomes[status] ?? 0) + 1;
      if (waiting) report.lost.push(`${key}: ${status}, window closed ${iso(expiresAt)}`);
      if (status === 'expired' && !entry?.reason) report.lost.push(`${key}: expired without a reason`);
      if (status === 'maybe-sent' && !reportedMaybe.has(key)) report.maybeSentReported = false;
      if (status === 'claimed' && !reportedStale.has(key)) report.staleReported = false;
      if (status === 'sent' || status === 'maybe-sent' || status === 'claimed') accountedEmails++;
      if (status === 'sent' && emails !== 1) report.lost.push(`${key}: sent in the ledger, ${emails} emails in SES`);
    }
    if (emails > accountedEmails) report.unaccountedEmails.push(`${client.email}: ${emails} emails, ${accountedEmails} sends in the ledger`);
  }
  return report;
}

describe('a day of hourly runs with SES, DynamoDB and the sender failing at random', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: no duplicate, nothing to the unwilling, nothing lost`, { timeout: 300_000 }, async () => {
      const report = await simulateDay(seed);
      console.log(
        `fault injection, seed ${report.seed}: ${report.runs} runs (${report.runsFailed} failed or stopped by the breaker); faults: ` +
          `SES killed ${report.faults['kill-ses']} (and ${report.faults['cut-ses']} times with a request in flight), DynamoDB killed ${report.faults['kill-dynamodb']}, ` +
          `sender crashed after a claim ${report.faults['crash-after-claim']}; ` +
          `${report.emails} emails, ${report.duplicates} duplicates, ${report.sentWithoutConsent} without consent, ${report.sentToSuppressed} to suppressed; ` +
          `occasions: ${Object.entries(report.outcomes)
            .sort()
            .map(([status, n]) => `${status} ${n}`)
            .join(', ')}, still due ${report.stillDue}, lost ${report.lost.length}`,
      );
      expect(report.duplicates).toBe(0);
      expect(report.sentWithoutConsent).toBe(0);
      expect(report.sentToSuppressed).toBe(0);
      expect(report.lost).toEqual([]);
      expect(report.unaccountedEmails).toEqual([]);
      expect(report.maybeSentReported).toBe(true);
      expect(report.staleReported).toBe(true);
      expect(report.outcomes.failed ?? 0).toBe(0);
    });
  }
});
