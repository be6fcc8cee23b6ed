import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { z } from 'zod';
import type { S3Client } from '@aws-sdk/client-s3';
import { readObjectText, uploadDirectory, writeObject } from '#shared/aws/s3-objects.ts';
import type { CouponSource } from '#shared/campaigns/coupon-codes.ts';
import { offersOf, type CampaignDefinition } from '#shared/campaigns/schema.ts';
import { loadConfig, parseConfig, type Config } from '#shared/config.ts';
import { dictionaryFrom } from '#shared/dictionary.ts';
import { CATEGORY_CARE, CATEGORY_NAMES, DEMO_SHOP_URL } from '#local/generate/catalogue.ts';
import { jsonLog, newRunId } from '#shared/log.ts';
import { futureNightRefusal, nightBefore } from '#shared/nightly/run-date.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { tallyTasks, type TaskTally } from '#shared/advisors/follow-through.ts';
import { allTasks } from '#shared/store/task-store.ts';
import { isIntroduction, unreachableBecause } from '#shared/advisors/handover.ts';
import type { AdvisorTask } from '#shared/advisors/tasks.ts';
import type { AwsClients } from '#shared/aws/clients.ts';
import { taskLinks } from '#shared/unsubscribe/task-token.ts';
import { getProfile, scanAdvisorPairs } from '#shared/store/profile-store.ts';
import { writeBookPairs } from '#shared/store/roster-store.ts';
import { staticKeys } from '#shared/unsubscribe/keys.ts';
import { handleTaskLink } from '#shared/unsubscribe/task-links.ts';
import { tableName } from '#shared/store/tables.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';
import { couponPoolKey, exportPrefix } from '#shared/store/buckets.ts';
import { runCampaigns, type CampaignRunSummary } from '#shared/sender/run.ts';
import { addDays, isoWeek, startOfLocalDay, weekdayOf } from '#shared/time.ts';
import { parseInstant } from './campaigns.ts';
import { startLocalAws } from '#local/aws.ts';
import { UsageError } from '#local/errors.ts';
import { advisorDigestTotalsLine, brandTime, formatCampaignResults, formatNightlySummary } from '#local/format.ts';
import { readCampaignResults } from '#shared/nightly/campaign-results.ts';
import { defaultReportPath, downloadReport } from './report.ts';
import { generateExport } from '#local/generate/generate.ts';
import { terminalProgress } from '#local/progress.ts';
import { ledgerOccasions } from '#local/ledger-hours.ts';

const HOUR_MS = 3_600_000;
const DEMO_TEAM_ADDRESS = 'crm-team@example.com';
/**
 * With a generated export the demo starts this many days before the chosen night: a night on the
 * export as it stood then and a morning of sends, whose 7-day conversion windows have ended by the
 * chosen night, so its report measures the campaigns against their control group.
 */
const PAST_NIGHT_DAYS = 8;

function waitForCtrlC(message: string): Promise<void> {
  process.stderr.write(`${message}\n`);
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

const optionsSchema = z.object({
  date: z.string().optional(),
  export: z.string().optional(),
  customers: z.number().int().positive(),
  seed: z.number().int().nonnegative(),
  json: z.boolean(),
  until: z.string().optional(),
  dryRun: z.boolean(),
  keepRunning: z.boolean(),
  state: z.string().min(1),
  writeConfig: z.string().min(1),
  config: z.string().optional(),
  logLevel: z.enum(['debug', 'info', 'warn', 'error']),
});

/**
 * Without advisors in the config, two of the generated ones (advisor_id A01, A02; one reading
 * English, one Chinese) with their digest day on the demo's night, so the night sends their
 * digests and the rerun shows it sends them only once.
 */
function withDemoAdvisors(config: Config, runDate: string): Config {
  if (Object.keys(config.reports.advisors).length > 0) return config;
  return parseConfig({
    ...config,
    reports: {
      ...config.reports,
      advisors: {
        A01: { email: 'advisor.a01@example.com', name: 'Sophie Martin', locale: 'en' },
        A02: { email: 'advisor.a02@example.com', name: '王芳', locale: 'zh-CN' },
      },
      advisorDigestWeekday: weekdayOf(runDate),
    },
  });
}

/** The generated export's handover on the demo's night: every third client of A01 moves to A02 (both active in any roster). */
const DEMO_HANDOVER = { from: 'A01', to: 'A02', every: 3 } as const;

/** Stores the advisors' book pairs as last week's digests would have left them: the baseline the night's digests tell handovers against. */
async function recordLastWeeksBooks(clients: AwsClients, config: Config, runDate: string): Promise<void> {
  const pairs = await scanAdvisorPairs(clients.documents, tableName(config, 'profiles'));
  await writeBookPairs(clients.s3, config, { week: isoWeek(addDays(runDate, -7)), before: pairs, now: pairs });
}

/** The new advisor's "send the email for me" on the first introduction task of a client who can be emailed (the others have no such link), through the link's own handler; the client's id. */
async function askFirstIntroduction(clients: AwsClients, config: Config, secret: string): Promise<string | undefined> {
  const table = tableName(config, 'advisorTasks');
  let first: AdvisorTask | undefined;
  for (const task of (await allTasks(clients.documents, table)).filter(isIntroduction).sort((a, b) => (a.customerId < b.customerId ? -1 : 1))) {
    const profile = await getProfile(clients.documents, tableName(config, 'profiles'), task.customerId);
    if (unreachableBecause(profile, false) === undefined) {
      first = task;
      break;
    }
  }
  if (first === undefined) return undefined;
  const url = new URL(taskLinks(config, first, first.version, Date.now(), secret)('send'));
  const context = { documents: clients.documents, table, ledgerTable: tableName(config, 'sendLedger'), keys: staticKeys(secret), now: Date.now, brandName: config.brandName, retentionDays: config.sender.ledgerRetentionDays, taskWaitDays: config.advisors.taskWaitDays, timeZone: config.timeZone };
  const answer = await handleTaskLink(context, { method: 'POST', token: url.searchParams.get('t') ?? '', form: {} });
  return answer.statusCode === 200 ? first.customerId : undefined;
}

/** Without category names (or care tips) in the config, the generated catalogue's, so the Chinese emails name categories too. */
function withDemoCategoryNames(config: Config): Config {
  return {
    ...config,
    ...(Object.keys(config.categoryNames).length > 0 ? {} : { categoryNames: CATEGORY_NAMES }),
    ...(Object.keys(config.categoryCare).length > 0 ? {} : { categoryCare: CATEGORY_CARE }),
  };
}

/** The name of a demo season by the month it starts in (January first), and how the emails name it. */
const DEMO_SEASON_OF_MONTH = ['winter', 'winter', 'spring', 'spring', 'spring', 'summer', 'summer', 'summer', 'autumn', 'autumn', 'autumn', 'winter'] as const;
const DEMO_SEASON_NAMES: Record<(typeof DEMO_SEASON_OF_MONTH)[number], { en: string; 'zh-CN': string }> = {
  winter: { en: 'Winter', 'zh-CN': '冬季' },
  spring: { en: 'Spring', 'zh-CN': '春季' },
  summer: { en: 'Summer', 'zh-CN': '夏季' },
  autumn: { en: 'Autumn', 'zh-CN': '秋季' },
};
/** Days after the demo's night the first demo season starts: its seasonal reminder (7 days before) is due the morning after. */
const DEMO_SEASON_LEAD_DAYS = 6;

/**
 * Without seasons in the config, four of a sample brand's, placed so that one starts
 * DEMO_SEASON_LEAD_DAYS after the demo's night (then every three months, on the same day of the
 * month, the 28th at the latest): the seasonal play has something to send in the morning.
 */
function withDemoSeasons(config: Config, runDate: string): Config {
  if (config.campaigns.seasons.length > 0) return config;
  const first = addDays(runDate, DEMO_SEASON_LEAD_DAYS);
  const day = Math.min(28, Number(first.slice(8, 10)));
  const seasons = [0, 3, 6, 9].map((offset) => {
    const monthIndex = (Number(first.slice(5, 7)) - 1 + offset) % 12;
    const name = DEMO_SEASON_OF_MONTH[monthIndex] ?? 'winter';
    return { name, starts: `${String(monthIndex + 1).padStart(2, '0')}-${String(day).padStart(2, '0')}`, names: DEMO_SEASON_NAMES[name] };
  });
  return { ...config, campaigns: { ...config.campaigns, seasons } };
}

/** The sample brand's postal address, for the footer of its emails (CAN-SPAM). */
const DEMO_POSTAL_ADDRESS = ['1 Demo Plaza, Suite 100', 'Shanghai 200000, China'];

/** Codes in the demo's win-back pool: more than its win-backs, so none waits for a code. */
const DEMO_POOL_SIZE = 1000;

/**
 * Without a shop in the config, the generated catalogue's (the buttons and product links lead
 * there) and a postal address for the footer; an offer that carries no code gets one: the win-back
 * draws from a pool (uploaded by demoCouponPools), the replenishment a generated one.
 */
function withDemoShop(config: Config): Config {
  const codeFrom: Partial<Record<CampaignDefinition['kind'], CouponSource>> = { winback: { from: 'pool' }, replenishment: { from: 'scheme', prefix: 'RE', length: 8 } };
  const playCodeFrom: Record<string, CouponSource> = { recall: { from: 'scheme', prefix: 'RC', length: 8 }, 'cross-category': { from: 'scheme', prefix: 'CC', length: 8 } };
  const campaigns = config.campaigns.campaigns.map((campaign) => {
    const source = codeFrom[campaign.kind] ?? (campaign.kind === 'custom' && campaign.play !== undefined ? playCodeFrom[campaign.play] : undefined);
    if (source === undefined) return campaign;
    const withCode = <O extends CampaignDefinition['offers']['default']>(offer: O): O =>
      offer.couponCode !== undefined || offer.couponFrom !== undefined || (offer.kind !== 'coupon' && offer.kind !== 'free-shipping-coupon') ? offer : { ...offer, couponFrom: source };
    const { graded, ...byTier } = campaign.offers;
    const offers = Object.fromEntries(Object.entries(byTier).map(([tier, offer]) => [tier, offer === undefined ? offer : withCode(offer)])) as typeof byTier;
    return { ...campaign, offers: { ...offers, ...(graded === undefined ? {} : { graded: graded.map((g) => ({ ...g, offer: withCode(g.offer) })) }) } };
  });
  return {
    ...config,
    campaigns: { ...config.campaigns, campaigns },
    // The brand's own scheme, for the birthday vouchers' codes (couponFrom brand-scheme).
    coupons: { ...config.coupons, scheme: config.coupons.scheme ?? { prefix: 'BD', length: 8 } },
    sender: {
      ...config.sender,
      shopUrl: config.sender.shopUrl ?? DEMO_SHOP_URL,
      postalAddress: config.sender.postalAddress ?? DEMO_POSTAL_ADDRESS,
    },
  };
}

/** The pools of the campaigns whose offers draw from one and that have none yet: DEMO_POOL_SIZE codes each. */
async function demoCouponPools(s3: S3Client, config: Config): Promise<string[]> {
  const uploaded: string[] = [];
  for (const campaign of config.campaigns.campaigns) {
    if (!offersOf(campaign.offers).some((offer) => offer.couponFrom?.from === 'pool')) continue;
    const key = couponPoolKey(config, campaign.id);
    if ((await readObjectText(s3, config.storage.exportsBucket, key)) !== undefined) continue;
    const prefix = campaign.id.slice(0, 2).toUpperCase();
    const codes = Array.from({ length: DEMO_POOL_SIZE }, (_, i) => `${prefix}-DEMO-${String(i + 1).padStart(4, '0')}`);
    uploaded.push(await writeObject(s3, { bucket: config.storage.exportsBucket, key, body: `code\n${codes.join('\n')}\n`, contentType: 'text/csv' }));
  }
  return uploaded;
}

/** The final states an occasion can end an hour in (the ledger's statuses; 'claimed': a stale claim). */
export const OCCASION_COLUMNS = ['due', 'sent', 'held-out', 'suppressed', 'no-consent', 'capped', 'deferred', 'failed', 'maybe-sent', 'expired', 'claimed'] as const;
export type OccasionCounts = Record<(typeof OCCASION_COLUMNS)[number], number>;

const emptyOccasionCounts = (): OccasionCounts =>
  Object.fromEntries(OCCASION_COLUMNS.map((column) => [column, 0])) as OccasionCounts;

interface OccasionState {
  customerId: string;
  campaignId: string;
  state: string;
}

/** Counts per campaign (a row for each of `campaignIds` first, in their order, zeros included), and distinct clients, of occasions each seen once. */
export function countOccasions(occasions: Iterable<OccasionState>, campaignIds: readonly string[] = []): { counts: Record<string, OccasionCounts>; clients: { due: number; sent: number } } {
  const counts = dictionaryFrom(campaignIds.map((id) => [id, emptyOccasionCounts()]));
  const due = new Set<string>();
  const sent = new Set<string>();
  for (const occasion of occasions) {
    const row = (counts[occasion.campaignId] ??= emptyOccasionCounts());
    row.due++;
    due.add(occasion.customerId);
    if (occasion.state === 'sent') sent.add(occasion.customerId);
    if ((OCCASION_COLUMNS as readonly string[]).includes(occasion.state) && occasion.state !== 'due') row[occasion.state as keyof OccasionCounts]++;
  }
  return { counts, clients: { due: due.size, sent: sent.size } };
}

/** A dry run writes no ledger: the occasions of its plans, each in the state the last hour that saw it gave. */
export function plannedOccasions(hours: readonly CampaignRunSummary[]): OccasionState[] {
  const last = new Map<string, OccasionState>();
  for (const hour of hours) {
    for (const p of hour.plan ?? []) {
      if (p.outcome === 'out-of-audience') continue;
      last.set(`${p.customerId}#${p.occasionKey}`, { customerId: p.customerId, campaignId: p.campaignId, state: p.outcome === 'send' ? 'sent' : p.outcome });
    }
  }
  return [...last.values()];
}

export function formatOccasionCounts(counts: Record<string, OccasionCounts>): string {
  const width = Math.max(15, ...Object.keys(counts).map((id) => id.length + 2));
  const lines = [`${'Campaign'.padEnd(width)}${OCCASION_COLUMNS.map((c) => c.padStart(11)).join('')}`];
  for (const [id, row] of Object.entries(counts)) {
    lines.push(`${id.padEnd(width)}${OCCASION_COLUMNS.map((c) => row[c].toLocaleString('en-US').padStart(11)).join('')}`);
  }
  return lines.join('\n');
}

const DEMO_MARKER = '.clientele-demo';

/**
 * The demo's data folder, emptied: each demo starts from empty emulators. A folder that holds
 * something the demo did not write (e.g. `local up`'s data) is refused rather than emptied.
 */
async function prepareStateDir(dir: string): Promise<void> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  if (entries.length > 0 && !entries.includes(DEMO_MARKER)) {
    throw new UsageError(`--state ${dir} holds data the demo did not write; the demo empties its folder at each start, so name another (default .clientele/demo).`);
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, DEMO_MARKER), 'Data of the last `clientele demo`; emptied by the next one.\n');
}

/** A morning of hourly sender runs, each occasion counted once by where it ended up. */
export interface SenderMorning {
  from: string;
  until: string;
  hours: number;
  counts: Record<string, OccasionCounts>;
  clients: { due: number; sent: number };
  /** Introduction emails sent after a handover, in the new advisor's name. */
  introductionsSent: number;
}

export interface DemoResult {
  runDate: string;
  /** The night a week before and its morning of sends (generated export, not a dry run). */
  past?: { runDate: string; clients: number; campaigns: SenderMorning };
  previousRunDate?: string;
  summary: NightlyRunSummary;
  previous?: NightlyRunSummary;
  /** The rerun of the night: `of` is the run it found completed from the same export and configuration (then nothing was written or sent). */
  rerun: { runDate: string; of?: string; profilesWritten: number; tierHistoryWritten: number; advisorDigestsSent?: number };
  campaigns: {
    from: string;
    until: string;
    dryRun: boolean;
    hours: number;
    /** The brand's time zone (`from` and `until` are UTC instants). */
    timeZone: string;
    /**
     * Per campaign, each occasion counted once, by where it ended up after the last hour: 'due' is
     * every occasion some hour found due, then one column per final state (with a dry run, what
     * the last hour that saw it would have done; 'sent' is then "would send").
     */
    counts: Record<string, OccasionCounts>;
    /** Distinct clients with an occasion due, and distinct clients mailed (would be, in a dry run). */
    clients: { due: number; sent: number };
    inbox?: string;
  };
  /** The advisors' tasks the hours gave (one touch: the advisor first, then the note in their name), introductions aside. */
  tasks: TaskTally;
  /** The handover between the two nights of a generated export: clients moved, introduction tasks and emails. */
  handover?: { from: string; to: string; every: number; seen: number; introductions: TaskTally; emailsSent: number; askedFor?: string };
  /** Where the demo left its data and the config naming its emulators, for the other commands. */
  state: { dir: string; configFile: string };
  /** The night's report.html: where the run wrote it, and a copy on this machine. */
  report: { object?: string; localCopy?: string; teamEmail?: NonNullable<NightlyRunSummary['report']['teamEmail']> };
  elapsedMs: number;
}

/**
 * `npm run demo`: the whole nightly slice on the embedded AWS. With a generated export it runs the
 * night before the chosen date first, so the chosen night shows real movements; then it reruns
 * the chosen night to show that a rerun writes nothing.
 */
export async function demoCommand(raw: unknown): Promise<void> {
  const options = optionsSchema.parse(raw);
  const started = Date.now();
  const loaded = await loadConfig(options.config);
  // The clock enters here: without --date, the night before now in brand time.
  const runDate = options.date ?? nightBefore(Date.now(), loaded);
  // Said before anything starts: the night itself would refuse it after the emulators and the export.
  const refusal = futureNightRefusal(runDate, Date.now(), loaded);
  if (refusal !== undefined) throw new UsageError(`--date ${runDate}: ${refusal}.`);
  // A dry run sends nothing at all: no team email, no advisor digest, beside the sender's dry run.
  const config = withDemoSeasons(
    withDemoShop(
      withDemoCategoryNames(
        options.dryRun ? parseConfig({ ...loaded, reports: { ...loaded.reports, teamAddresses: [], advisors: {} } }) : withDemoAdvisors(loaded, runDate),
      ),
    ),
    runDate,
  );
  const say = (text: string) => {
    if (!options.json) process.stderr.write(`${text}\n`);
  };
  const log = jsonLog({ level: options.logLevel });

  let exportDir: string | undefined;
  if (options.export) {
    exportDir = resolve(options.export);
    const info = await stat(exportDir).catch(() => undefined);
    if (!info?.isDirectory()) throw new UsageError(`--export ${options.export} is not a folder`);
  }

  say('Starting the embedded local AWS (DynamoDB Local, S3, SES)...');
  // The nightly report's summary email lands in the local inbox too, unless the config names the team.
  const teamAddresses = options.dryRun ? [] : config.reports.teamAddresses.length > 0 ? config.reports.teamAddresses : [DEMO_TEAM_ADDRESS];
  // Data kept in a folder, and a config naming the emulators written where the other commands
  // look first: `preview`, `report`... work against the demo's data while it runs (--keep-running),
  // and after it with `clientele local up --state <that folder>`.
  const stateDir = resolve(options.state);
  await prepareStateDir(stateDir);
  const aws = await startLocalAws({ config: { ...config, reports: { ...config.reports, teamAddresses } }, stateDir });
  for (const pool of await demoCouponPools(aws.clients.s3, aws.config)) say(`Coupon pool of ${DEMO_POOL_SIZE} codes uploaded to ${pool}`);
  const configFile = resolve(options.writeConfig);
  await mkdir(dirname(configFile), { recursive: true });
  await writeFile(configFile, `${JSON.stringify(aws.config, null, 2)}\n`);
  const workDir = await mkdtemp(join(tmpdir(), 'clientele-demo-'));
  try {
    // With a generated export, the night before reads the same snapshot: a run cannot see what
    // happened after its own end, so it sees yesterday's world and tonight shows the movements.
    const nights = exportDir ? [runDate] : [addDays(runDate, -1), runDate];
    // And a week before, the same world as it stood then (a dry run sends nothing to measure).
    const pastNight = exportDir || options.dryRun ? undefined : addDays(runDate, -PAST_NIGHT_DAYS);
    // Tonight's export: with a generated one (and advisors), the brand has handed some of the first advisor's clients to the second since the night before.
    const handover = exportDir || options.dryRun ? undefined : DEMO_HANDOVER;
    const dirOf = new Map<string, string>();
    if (exportDir) dirOf.set(runDate, exportDir);
    else {
      say(`Generating a sample export of ${options.customers.toLocaleString('en-US')} clients as of ${runDate} (seed ${options.seed})...`);
      // A dry run sends nothing, no advisor digest either: no roster to name the advisors by.
      const generate = { customers: options.customers, seed: options.seed, asOf: runDate, timeZone: config.timeZone, currency: config.currency, roster: !options.dryRun };
      const before = join(workDir, `${runDate}-before`);
      await generateExport(generate, before);
      dirOf.set(addDays(runDate, -1), before);
      if (handover) {
        say(`The same export with every ${handover.every}rd client of advisor ${handover.from} handed over to ${handover.to}, for ${runDate}...`);
        await generateExport({ ...generate, handover }, join(workDir, runDate));
      }
      dirOf.set(runDate, handover ? join(workDir, runDate) : before);
      if (pastNight) {
        const pastDir = join(workDir, pastNight);
        await generateExport({ ...generate, cutAt: pastNight }, pastDir);
        const prefix = exportPrefix(aws.config, pastNight);
        await uploadDirectory(aws.clients.s3, pastDir, aws.config.storage.exportsBucket, prefix);
        say(`The same clients as they stood on ${pastNight}: uploaded to s3://${aws.config.storage.exportsBucket}/${prefix}/`);
      }
    }
    for (const night of nights) {
      const prefix = exportPrefix(aws.config, night);
      await uploadDirectory(aws.clients.s3, dirOf.get(night) ?? '', aws.config.storage.exportsBucket, prefix);
      say(`Uploaded to s3://${aws.config.storage.exportsBucket}/${prefix}/`);
    }
    // Signs the unsubscribe links of the emails and the one-click links of the advisors' tasks.
    const secret = randomBytes(32).toString('base64url');

    const runNight = async (night: string) => {
      const progress = terminalProgress(!options.json && process.stderr.isTTY === true);
      try {
        return await runNightly({
          runDate: night,
          runId: newRunId('nightly'),
          clock: Date.now,
          config: aws.config,
          clients: aws.clients,
          log,
          onProgress: (p) => progress.update(p),
          unsubscribeSecret: secret,
        });
      } finally {
        progress.stop();
      }
    };

    /** The hourly sender from `from` to `until`, each occasion counted once by where it ended up. */
    const runMorning = async (from: number, until: number): Promise<SenderMorning> => {
      const hourSummaries: CampaignRunSummary[] = [];
      for (let at = from; at <= until; at += HOUR_MS) {
        say(`Campaign sender at ${brandTime(at, config.timeZone)}${options.dryRun ? ' (dry run)' : ''}...`);
        hourSummaries.push(
          await runCampaigns({ at, runId: newRunId('campaigns'), config: aws.config, clients: aws.clients, unsubscribeSecret: secret, dryRun: options.dryRun, log }),
        );
      }
      // Every enabled campaign gets its row, so the summary lists each built-in even on a morning it had nothing due.
      const enabled = aws.config.campaigns.campaigns.filter((c) => c.enabled).map((c) => c.id);
      const occasions = countOccasions(options.dryRun ? plannedOccasions(hourSummaries) : await ledgerOccasions(aws.clients, aws.config, from, until), enabled);
      const introductionsSent = hourSummaries.reduce((sum, h) => sum + (h.introductions?.sent ?? 0), 0);
      return { from: new Date(from).toISOString(), until: new Date(until).toISOString(), hours: hourSummaries.length, ...occasions, introductionsSent };
    };
    // The sender's morning after a night: from 05:00 (the hour after the nightly run's 04:00 schedule) to noon, brand time.
    const morningAfter = (night: string) => startOfLocalDay(addDays(night, 1), config.timeZone) + 5 * HOUR_MS;
    const MORNING_MS = 7 * HOUR_MS;

    let past: DemoResult['past'];
    if (pastNight) {
      say(`Running the nightly job for ${pastNight}, a week before...`);
      const pastSummary = await runNight(pastNight);
      const campaigns = await runMorning(morningAfter(pastNight), morningAfter(pastNight) + MORNING_MS);
      past = { runDate: pastNight, clients: pastSummary.distribution.clients, campaigns };
    }

    const summaries: NightlyRunSummary[] = [];
    for (const night of nights) {
      say(`Running the nightly job for ${night}...`);
      summaries.push(await runNight(night));
      if (handover !== undefined && night !== runDate) {
        // The weekly digests compare the books with last week's: here, as the night before left them.
        say('Recording the advisors\' books as last week\'s digests left them (the handover is told against them)...');
        await recordLastWeeksBooks(aws.clients, aws.config, runDate);
      }
    }
    say(`Running ${runDate} again (a rerun must write nothing)...`);
    const rerun = await runNight(runDate);
    // One new advisor answers the first introduction of their digest with "send the email for me", as its link would.
    const asked = handover === undefined ? undefined : await askFirstIntroduction(aws.clients, aws.config, secret);

    // The hourly sender, from the hour after the nightly run (04:00 brand time) to --until.
    const from = morningAfter(runDate);
    const until = options.until ? parseInstant(options.until, config.timeZone, '--until') : from + MORNING_MS;
    if (until < from) throw new UsageError(`--until must be at or after ${brandTime(from, config.timeZone)} (the first hour after the nightly run)`);
    const morning = await runMorning(from, until);

    const everyTask = await allTasks(aws.clients.documents, tableName(aws.config, 'advisorTasks'));
    const tasks = tallyTasks(everyTask.filter((t) => !isIntroduction(t)));
    const introductions = tallyTasks(everyTask.filter(isIntroduction));
    const introductionsSent = morning.introductionsSent;
    const summary = summaries[summaries.length - 1] as NightlyRunSummary;
    const previous = summaries.length > 1 ? summaries[0] : undefined;
    const localCopy = await downloadReport(aws.clients, summary, defaultReportPath(runDate));
    const campaignResults = await readCampaignResults(aws.clients.s3, aws.config, runDate);
    const result: DemoResult = {
      runDate,
      ...(past ? { past } : {}),
      ...(previous ? { previousRunDate: previous.runDate, previous } : {}),
      summary,
      // A rerun that found the night completed returns that night's summary as first computed: its figures are not the rerun's.
      rerun: rerun.rerun
        ? { runDate, of: rerun.rerun.of, profilesWritten: 0, tierHistoryWritten: 0, ...(rerun.advisorDigests ? { advisorDigestsSent: 0 } : {}) }
        : {
            runDate,
            profilesWritten: rerun.written.profiles,
            tierHistoryWritten: rerun.written.tierHistory,
            ...(rerun.advisorDigests ? { advisorDigestsSent: rerun.advisorDigests.totals.sent } : {}),
          },
      campaigns: {
        from: morning.from,
        until: morning.until,
        dryRun: options.dryRun,
        hours: morning.hours,
        timeZone: config.timeZone,
        counts: morning.counts,
        clients: morning.clients,
        ...(aws.endpoints.ses ? { inbox: aws.endpoints.ses } : {}),
      },
      report: {
        ...(summary.report.reportObject ? { object: summary.report.reportObject } : {}),
        ...(localCopy ? { localCopy } : {}),
        ...(summary.report.teamEmail ? { teamEmail: summary.report.teamEmail } : {}),
      },
      tasks,
      ...(handover === undefined
        ? {}
        : {
            handover: {
              ...handover,
              seen: summary.advisorDigests?.handovers ?? 0,
              introductions,
              emailsSent: introductionsSent,
              ...(asked === undefined ? {} : { askedFor: asked }),
            },
          }),
      state: { dir: stateDir, configFile },
      elapsedMs: Date.now() - started,
    };
    if (options.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      if (options.keepRunning) await waitForCtrlC(`Emulators up; inbox at ${aws.endpoints.ses}`);
      return;
    }
    const out: string[] = [''];
    if (past) {
      out.push(
        `Night ${past.runDate}, a week before: ${past.clients.toLocaleString('en-US')} clients stored. The sender's morning after (${past.campaigns.hours} runs): ` +
          `${past.campaigns.clients.due.toLocaleString('en-US')} clients had an occasion due, ${past.campaigns.clients.sent.toLocaleString('en-US')} were mailed:`,
        formatOccasionCounts(past.campaigns.counts),
        '',
      );
    }
    if (previous) {
      out.push(
        `Night ${previous.runDate}: ${previous.distribution.clients.toLocaleString('en-US')} clients stored ` +
          `(${previous.written.profiles.toLocaleString('en-US')} profiles written) in ${(previous.durationMs / 1000).toFixed(1)} s.`,
        '',
      );
    }
    out.push(formatNightlySummary(summary, previous?.runDate));
    out.push(
      '',
      ...(rerun.rerun
        ? [`Rerun of ${runDate}: already completed by run ${rerun.rerun.of} from the same export and configuration: nothing written, no email sent again.`]
        : [
            `Rerun of ${runDate}: ${rerun.written.profiles} profiles and ${rerun.written.tierHistory} tier-history records written.`,
            ...(rerun.advisorDigests ? [`  ${advisorDigestTotalsLine(rerun.advisorDigests)}`] : []),
          ]),
      '',
      `Campaign sender, hourly from ${brandTime(from, config.timeZone)} to ${brandTime(until, config.timeZone)} (${morning.hours} runs${options.dryRun ? ', dry run' : ''}).`,
      `${morning.clients.due.toLocaleString('en-US')} clients had an occasion due; ${morning.clients.sent.toLocaleString('en-US')} ${options.dryRun ? 'would be' : 'were'} mailed. ` +
        `Each occasion counted once, in its state after the last hour${options.dryRun ? ' (sent: would send)' : ''}:`,
      formatOccasionCounts(morning.counts),
      `Advisors' tasks (a VIC's note goes to their advisor first): ${tasks.given} given; ${tasks.done} done in person, ${tasks.asked} sent at the advisor's request, ` +
        `${tasks.snoozed} snoozed, ${tasks.left} sent after the wait, ${tasks.open} waiting for the advisor.`,
      ...(handover === undefined
        ? []
        : [
            `Handover between the nights: ${summary.advisorDigests?.handovers ?? 0} clients moved from ${handover.from} to ${handover.to}; ` +
              `${introductions.given} introduction tasks in the new advisor's digest (history, drafted email, one-click links); ` +
              `${asked === undefined ? 'none answered' : `the advisor asked us to send the one for ${asked}`}: ${introductionsSent} introduction email${introductionsSent === 1 ? '' : 's'} sent in their name, ` +
              `${introductions.open} waiting (sent after ${aws.config.advisors.taskWaitDays} days without an answer).`,
          ]),
      options.dryRun
        ? 'Dry run: nothing was claimed or sent, and no team email or advisor digest went out.'
        : `The emails are in the local SES inbox: ${aws.endpoints.ses}/ (JSON: ${aws.endpoints.ses}/store)${options.keepRunning ? '' : '; add --keep-running to browse it'}.`,
      '',
      summary.report.reportObject
        ? `Nightly report (charts, for the marketing team): ${summary.report.reportObject}`
        : `The nightly report was not written: ${summary.report.reportError ?? 'unknown reason'}`,
      ...(localCopy ? [`  local copy: ${localCopy} (open it in a browser)`] : []),
      ...(campaignResults ? [`  campaign results, occasions due since ${campaignResults.periodStart} (a client converts by ordering within the window${past ? '; the generated clients do not read their email, so any uplift here is chance' : ''}):`, ...formatCampaignResults(campaignResults)] : []),
      ...(summary.report.teamEmail
        ? [`  summary email to the team: sent to ${summary.report.teamEmail.sent} of ${teamAddresses.length} addresses (local SES inbox)`]
        : []),
      '',
      `Config naming the emulators: ${relative(process.cwd(), configFile) || configFile} (the other commands use it by default).`,
      options.keepRunning
        ? '  They work against the demo\'s data while it runs, e.g. npx clientele preview --campaign welcome --customer <id>'
        : `  The emulators stop with the demo; \`npx clientele local up --state ${relative(process.cwd(), stateDir) || stateDir}\` brings its data back for them.`,
      `Demo finished in ${((Date.now() - started) / 1000).toFixed(1)} s.`,
    );
    process.stdout.write(`${out.join('\n')}\n`);
    if (options.keepRunning) await waitForCtrlC(`Emulators up; open ${aws.endpoints.ses}/ to browse the inbox. Ctrl-C to stop.`);
  } finally {
    await aws.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}
