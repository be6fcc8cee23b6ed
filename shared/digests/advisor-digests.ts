import { addTallies, FOLLOW_THROUGH_DAYS, NO_STORE, tallyTasks, type AdvisorFollowThrough, type TaskTally } from '#shared/advisors/follow-through.ts';
import { holdsBook, isActiveAdvisor, knownAdvisors } from '#shared/advisors/roster.ts';
import { emptyDictionary } from '#shared/dictionary.ts';
import { createTask, getTask, tasksOfAdvisor, tasksOfClient } from '#shared/store/task-store.ts';
import { baselineFor, clientHistory, handoversBetween, introductionKey, introductionTask, pairsToKeep, pastTasksTally, unreachableBecause, type Handover, type HandoverHistory } from '#shared/advisors/handover.ts';
import type { ProductCatalog } from '#shared/campaigns/due.ts';
import { sendAfter } from '#shared/advisors/tasks.ts';
import { renderIntroduction } from '#shared/templates/advisor-introduction.ts';
import { sendAfterLabel } from '#shared/templates/advisor-task.ts';
import { taskLinks } from '#shared/unsubscribe/task-token.ts';
import { unsubscribeUrl } from '#shared/unsubscribe/token.ts';
import { isClientSuppressed } from '#shared/store/suppression-store.ts';
import { erasedAmong } from '#shared/store/erasure-store.ts';
import { readBookPairs, readRoster, writeBookPairs } from '#shared/store/roster-store.ts';
import { buildAdvisorBook, recentRunDates, type AdvisorBook, type BookReason, type BookReasonKind, type BookRow } from '#shared/advisors/book.ts';
import type { AwsClients } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import { claimEach, deliverClaimed, type LedgerTable } from '#shared/delivery/deliver.ts';
import type { NotSent } from '#shared/delivery/outcome.ts';
import { internalEmail } from '#shared/delivery/ses-email.ts';
import { createSesMailer, type SesMailer } from '#shared/delivery/ses-mailer.ts';
import { deadlinePassed } from '#shared/delivery/send-deadline.ts';
import { silentLog, type Log } from '#shared/log.ts';
import type { AdvisorRecord, ClientProfile, TierChange } from '#shared/model.ts';
import { readCatalog } from '#shared/store/catalog-store.ts';
import { tierChangesBetween } from '#shared/store/history-store.ts';
import { getLedgerEntry, isClaimable, recordDecision, type LedgerKey } from '#shared/store/ledger-store.ts';
import { queryAdvisorClientsFrom, scanAdvisorPairs } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { renderAdvisorDigest, type AdvisorDigestInput } from '#shared/templates/advisor-digest.ts';
import { templateLocale, type TemplateLocale } from '#shared/templates/locale.ts';
import { runClock } from '#shared/tiering/profile.ts';
import { tierThresholdsMinor } from '#shared/tiering/tiers.ts';
import { NIGHTLY_ALERTS } from '#shared/alerts.ts';
import { addDays, birthdayIn, birthdayMonth, isoWeek, MS_PER_DAY, WEEKDAYS, weekdayOf, type Weekday } from '#shared/time.ts';

/**
 * The advisors' weekly digests: for each active advisor with an email (the roster's, and those of
 * config.reports.advisors: shared/advisors/roster.ts knownAdvisors), their book clients (VIC,
 * Core and rising Potential: the byAdvisor index from the Potential threshold up), their book for the week
 * (advisor-book.ts), and one email through SES in the advisor's language.
 *
 * Once a week per advisor, however often it runs: each digest is claimed in the send ledger
 * before SES is called (customerId 'advisor#<id>', occasionKey 'advisor-digest#<ISO week of the
 * run date>'), with the campaign sender's protocol: a rerun or a concurrent run finds the claim and
 * sends nothing; a send SES surely did not take (throttled, account paused) is released as
 * 'deferred', logged as an alert, and the 6 nights after the digest day (its digest week: the
 * key keeps the digest day's ISO week) each send the deferred digests still pending, with the book
 * as of their night; the last of them reports a digest still not sent. A failure that may have been
 * sent is never retried. A digest whose send could not start before the run's deadline (its Lambda's
 * end: send-deadline.ts, the pacing wait included) is not claimed but recorded 'deferred' the same
 * way, for the nights after. A run stopped by an error (a store read) is alarmed, and the next night of
 * the week runs the week's digests whole again (weekDigestsToRunWhole), as does a night of the week when
 * none of the week's completed nights ran them whole (the digest day's night failed): the claims keep those sent.
 * An advisor with no client to contact gets no email (and no claim, so a later run of the week may
 * still send one). Advisor ids found on profiles but known to neither the roster nor the config are
 * counted, not mailed.
 * Names and addresses of clients and advisors never reach the logs or the summary.
 */

export const ADVISOR_DIGEST_CAMPAIGN = 'advisor-digest';


export type AdvisorDigestOutcome = 'sent' | 'no-rows' | 'already-sent' | 'failed' | 'deferred' | 'dry-run';

export interface AdvisorDigestResult {
  advisorId: string;
  locale: TemplateLocale;
  outcome: AdvisorDigestOutcome;
  /** Book clients of the advisor (VIC, Core, rising Potential). */
  clients: number;
  /** Of those, with a reason this week. */
  withReasons: number;
  /** Rows in the digest (at most advisorDigestMaxRows), introductions aside. */
  rows: number;
  /** Clients handed over to the advisor this week: one introduction each in the digest. */
  introductions: number;
  /** Introduction tasks this run gave the advisor (0 on a rerun that finds them given, or without the signing key). */
  introductionTasks: number;
  reasonCounts: Record<BookReasonKind, number>;
  /** What became of the tasks the advisor was given in the last FOLLOW_THROUGH_DAYS days. */
  followThrough: TaskTally;
  messageId?: string;
  /** Why it was not sent: the ledger's status for 'already-sent', SES's error otherwise. */
  reason?: string;
}

/** A handover reason as a dry run shows it: without the previous advisor's name, the birthday without its year. */
export type HandoverReasonPreview = Omit<Extract<BookReason, { kind: 'handover' }>, 'fromName'>;

/** A row as a dry run shows it: no name, no address, no year of birth (the month and day are what the digest shows). */
export type BookRowPreview = Omit<BookRow, 'firstName' | 'lastName' | 'email' | 'reasons'> & { reasons: (Exclude<BookReason, { kind: 'handover' }> | HandoverReasonPreview)[] };

export interface AdvisorDigestSummary {
  runDate: string;
  /** ISO week of the digest day: the once-a-week key. */
  week: string;
  /** The digest day whose digests this run sent (the run date, but on the nights that send the deferred ones). */
  digestDate: string;
  /** 'pending': a night after the digest day, sending only the digests that day deferred; 'all' there when the week's run whole had stopped. */
  mode: DigestNight['send'];
  /** Advisors whose digest of the week is still not sent on the last night of the digest week: lost for that week. */
  unsent?: string[];
  dryRun: boolean;
  advisors: AdvisorDigestResult[];
  totals: Record<AdvisorDigestOutcome, number> & { rows: number; introductions: number; introductionTasks: number };
  /** Follow-through over the last FOLLOW_THROUGH_DAYS days: every advisor's tasks, and per store (the roster's; NO_STORE for none). */
  followThrough?: { days: number; total: TaskTally; byStore: Record<string, TaskTally> };
  /** Clients whose advisor changed since last week's digests (introduced to the new advisor in their digest). */
  handovers?: number;
  /** Advisor ids on profiles that neither the roster nor the config names: their clients got no digest. */
  unconfiguredAdvisors: { count: number; ids: string[] };
  /** Dry run only: each advisor's rows, without names or addresses. */
  books?: { advisorId: string; week: AdvisorBook['week']; rows: BookRowPreview[] }[];
  /**
   * Why the run stopped before every advisor was handled (a store or S3 error): the nightly run goes
   * on, and a rerun of the night, or the next night of the digest week, sends the digests not yet claimed this week.
   */
  error?: string;
  durationMs: number;
}

export interface AdvisorDigestOptions {
  /** The nightly run date the profiles were computed for; the week is the 7 days after it. */
  runDate: string;
  runId: string;
  config: Config;
  clients: AwsClients;
  /** Build and show the books, and read the week's ledger entries as the real run would (a digest already sent is reported so); claim and send nothing. */
  dryRun?: boolean;
  log?: Log;
  /** Defaults to SES through clients.ses, paced at config.sender.maxSendRate. */
  mailer?: SesMailer;
  /** The night's follow-through (the nightly run's): each advisor's digest shows who bought after their tasks against the control group. */
  followThrough?: AdvisorFollowThrough;
  /** The unsubscribe key: signs the introduction tasks' links. Without it, introductions are listed with their history but no links, and no task is given. */
  unsubscribeSecret?: string;
  /** Epoch ms: the run's clock, written on the ledger entries (claim, outcome). */
  at: number;
  /** The advisors known (knownAdvisors); read from the stored roster and the config when absent. */
  known?: ReadonlyMap<string, AdvisorRecord>;
  /** The digest day whose week's digests these are (ledger key, handovers); the run date when absent. */
  digestDate?: string;
  /** A night after the digest day: send only these advisors' digests (deferred on the digest day). */
  pendingAdvisors?: ReadonlySet<string>;
  /** The last night of the digest week: a digest still deferred after this run is reported as not sent. */
  lastNight?: boolean;
  /**
   * The nightly run's stored summaries: the digests of the completed nights from `digestDate` to the
   * night before, newest first (weekDigestsToRunWhole). Absent: a night after the digest day sends the deferred digests only.
   */
  earlierDigestRuns?: (digestDate: string) => Promise<EarlierDigestNights>;
  /** The last instant (epoch ms, real clock) a digest's SES call may start (send-deadline.ts); none: no limit. */
  deadline?: number;
}

/** How many nights a digest week has: the digest day's and the 6 after it, until the next digest day. */
export const DIGEST_WEEK_NIGHTS = 7;

export interface DigestNight {
  /** The digest day of the night's digest week (on or before the run date). */
  digestDate: string;
  /** ISO week of the digest day: the ledger key of every digest of that digest week. */
  week: string;
  /** 'all' on the digest day; 'pending' on the nights after it: only the digests the week deferred. */
  send: 'all' | 'pending';
  /** The last night of the digest week: what is still deferred after it is not sent that week. */
  lastNight: boolean;
}

/**
 * Which digests the night of `runDate` sends: every night belongs to the digest week of the last
 * digest day on or before it (a Sunday's digests are retried Monday to Saturday, though Monday
 * starts another ISO week: the key stays the digest day's week).
 */
export function digestNightOf(runDate: string, digestWeekday: Weekday): DigestNight {
  const after = (WEEKDAYS.indexOf(weekdayOf(runDate)) - WEEKDAYS.indexOf(digestWeekday) + DIGEST_WEEK_NIGHTS) % DIGEST_WEEK_NIGHTS;
  const digestDate = addDays(runDate, -after);
  return { digestDate, week: isoWeek(digestDate), send: after === 0 ? 'all' : 'pending', lastNight: after === DIGEST_WEEK_NIGHTS - 1 };
}

/** The advisors who get a digest, by id: those who hold a book (roster.ts holdsBook: active, with an address to mail). */
export function digestAdvisors(known: ReadonlyMap<string, AdvisorRecord>): [string, AdvisorRecord & { email: string }][] {
  return [...known]
    .filter((entry): entry is [string, AdvisorRecord & { email: string }] => holdsBook(entry[1]))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The nightly run's step: on the digest day, with advisors configured, `{ advisorDigests }` to merge
 * into the run summary; on the other nights, the same for the digests the digest day deferred, `{}`
 * when none is pending. It never throws: by then the night's profiles are
 * written, and failing the run for its digests would hide good data behind an alarm (the nightly
 * report makes the same choice). A failure is logged and kept in the summary.
 */
export async function advisorDigestsOfNight(options: AdvisorDigestOptions): Promise<{ advisorDigests?: AdvisorDigestSummary }> {
  const { runDate, config } = options;
  const night = digestNightOf(runDate, config.reports.advisorDigestWeekday);
  const started = performance.now();
  let send = night.send;
  try {
    const known = knownAdvisors(await readRoster(options.clients.s3, config), config);
    const advisors = digestAdvisors(known);
    if (advisors.length === 0) return {};
    if (send === 'pending' && options.earlierDigestRuns !== undefined && weekDigestsToRunWhole(await options.earlierDigestRuns(night.digestDate))) send = 'all';
    if (send === 'all') return { advisorDigests: await sendAdvisorDigests({ ...options, known, digestDate: night.digestDate, lastNight: night.lastNight }) };
    const pendingAdvisors = await deferredDigests(options, advisors.map(([id]) => id), night.digestDate);
    if (pendingAdvisors.size === 0) return {};
    return { advisorDigests: await sendAdvisorDigests({ ...options, known, digestDate: night.digestDate, pendingAdvisors, lastNight: night.lastNight }) };
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    // The digests not yet claimed went nowhere: alarmed as a deferred one is (the next nights of the week run them again).
    const retry = night.lastNight ? 'none: the digest week ends tonight' : `the nights until ${addDays(night.digestDate, DIGEST_WEEK_NIGHTS - 1)}`;
    (options.log ?? silentLog).error('advisor digests stopped; the night\'s data is written', {
      alert: NIGHTLY_ALERTS.advisorDigestNotSent.alert,
      runDate,
      week: night.week,
      error: reason,
      retry,
    });
    return {
      advisorDigests: {
        runDate,
        week: night.week,
        digestDate: night.digestDate,
        mode: send,
        dryRun: options.dryRun ?? false,
        advisors: [],
        totals: emptyTotals(),
        unconfiguredAdvisors: { count: 0, ids: [] },
        error: reason,
        durationMs: Math.round(performance.now() - started),
      },
    };
  }
}

function emptyTotals(): AdvisorDigestSummary['totals'] {
  return { sent: 0, 'no-rows': 0, 'already-sent': 0, failed: 0, deferred: 0, 'dry-run': 0, rows: 0, introductions: 0, introductionTasks: 0 };
}

/** What a night's stored summary says of the digests it ran. */
export type DigestRun = Pick<AdvisorDigestSummary, 'mode' | 'error'>;

/**
 * Whether a night after the digest day runs the week's digests whole again: no completed earlier
 * night of the week (newest first) ran them whole (the digest day's night failed, or had no advisor
 * to mail), though the suite was running by the digest day, or the last that did, the digest day
 * or a night retrying them, stopped before every advisor was handled (`error`). Either way the digests not claimed are in no ledger entry a
 * 'pending' night would find. Digests claimed are not sent twice: their claim holds.
 */
export function weekDigestsToRunWhole(earlier: EarlierDigestNights): boolean {
  const lastWhole = earlier.nights.find((run) => run?.mode === 'all');
  // A suite first run after the digest day (no night recorded on or before it) had no digests due that week.
  return lastWhole === undefined ? earlier.digestDayDue : lastWhole.error !== undefined;
}

/** The week's earlier nights as the runs table has them (nightly run.ts digestRunsSince). */
export interface EarlierDigestNights {
  /** The digests of the completed nights from the digest day to the night before, newest first. */
  nights: readonly (DigestRun | undefined)[];
  /** Whether a night is recorded on or before the digest day, whatever its status: the suite was running, the week's digests were due. */
  digestDayDue: boolean;
}

/** The ledger key of an advisor's digest for the week of `digestDate`. */
export function advisorDigestLedgerKey(advisorId: string, digestDate: string): LedgerKey {
  return { customerId: `advisor#${advisorId}`, occasionKey: `${ADVISOR_DIGEST_CAMPAIGN}#${isoWeek(digestDate)}` };
}

/** The advisors whose digest of the week of `digestDate` is deferred in the ledger (nothing went out, a later night may send it). */
async function deferredDigests(options: AdvisorDigestOptions, advisorIds: readonly string[], digestDate: string): Promise<Set<string>> {
  const table = tableNames(options.config).sendLedger;
  const pending = new Set<string>();
  for (const advisorId of advisorIds) {
    const entry = await getLedgerEntry(options.clients.documents, table, advisorDigestLedgerKey(advisorId, digestDate));
    if (entry?.status === 'deferred') pending.add(advisorId);
  }
  return pending;
}

/**
 * What a new advisor reads about each client handed over to them: the previous advisor, the
 * client's history (top categories, last purchases, their tasks with the previous advisor and
 * what became of them) and, with the signing key, the introduction task's drafted email and links
 * (for the task as stored, on a rerun of the week).
 */
async function handoverHistories(
  handovers: readonly Handover[],
  context: { known: ReadonlyMap<string, AdvisorRecord>; advisor: AdvisorRecord & { email: string }; profiles: ReadonlyMap<string, ClientProfile>; week: string; catalog: ProductCatalog },
  options: AdvisorDigestOptions,
): Promise<Map<string, HandoverHistory>> {
  const { config, clients, at } = options;
  const tables = tableNames(config);
  const histories = new Map<string, HandoverHistory>();
  for (const handover of handovers) {
    const profile = context.profiles.get(handover.customerId);
    if (profile === undefined) continue;
    const withPrevious = (await tasksOfClient(clients.documents, tables.advisorTasks, handover.customerId)).filter((t) => t.advisorId === handover.from);
    const fromName = context.known.get(handover.from)?.name;
    const history: HandoverHistory = {
      from: handover.from,
      ...(fromName === undefined ? {} : { fromName }),
      pastTasks: pastTasksTally(withPrevious),
      history: clientHistory(profile, withPrevious, config.timeZone, context.catalog),
    };
    const secret = options.unsubscribeSecret;
    const { advisor } = context;
    if (secret !== undefined && options.dryRun !== true && isActiveAdvisor(advisor)) {
      const key = { customerId: handover.customerId, occasionKey: introductionKey(handover, context.week) };
      const stored = await getTask(clients.documents, tables.advisorTasks, key);
      const link = taskLinks(config, key, stored?.version ?? 1, at, secret);
      const suppressed = await isClientSuppressed(clients.documents, tables.suppression, profile);
      const emailable = unreachableBecause(profile, suppressed) === undefined;
      const draft = emailable ? await renderIntroduction(profile, advisor, config, unsubscribeUrl(config.sender.unsubscribeBaseUrl, profile.customerId, secret)) : undefined;
      history.introduction = {
        ...(draft === undefined ? {} : { email: { subject: draft.subject, text: draft.text } }),
        ...(draft === undefined
          ? {}
          : { sendAfter: sendAfterLabel(sendAfter({ createdAt: stored?.createdAt ?? at }, config.advisors.taskWaitDays), templateLocale(advisor.locale), config.timeZone) }),
        links: { done: link('done'), snooze: link('snooze'), ...(emailable ? { send: link('send') } : {}) },
      };
    }
    histories.set(handover.customerId, history);
  }
  return histories;
}

/**
 * The customer ids of the introductions the digest carries with their task links (those that get a
 * task once it went out), and of those, the ones without a send link (the client could not be emailed).
 */
function carriedIntroductions(book: AdvisorBook): { introduced: string[]; introducedWithoutEmail: string[] } {
  const carried = book.introductions.flatMap((row) => row.reasons.flatMap((r) => (r.kind === 'handover' && r.introduction !== undefined ? [{ customerId: row.customerId, links: r.introduction.links }] : [])));
  return { introduced: carried.map((c) => c.customerId), introducedWithoutEmail: carried.filter((c) => c.links.send === undefined).map((c) => c.customerId) };
}

/**
 * Gives the new advisor each introduction their digest carried (`carried`, as recorded with the
 * digest's ledger entry), once per handover: the task's key holds the week. A handover seen only
 * by a later run of the week is not in the digest the advisor read: it waits for next week's.
 */
async function createIntroductionTasks(
  options: AdvisorDigestOptions,
  book: AdvisorBook,
  handovers: readonly Handover[],
  carried: ReturnType<typeof carriedIntroductions>,
  week: string,
  log: Log,
): Promise<number> {
  const { config, clients, at } = options;
  let created = 0;
  for (const row of book.introductions) {
    const handover = handovers.find((h) => h.customerId === row.customerId && h.to === book.advisorId);
    if (handover === undefined || !carried.introduced.includes(row.customerId)) continue;
    const task = introductionTask(handover, week, row.tier, at, carried.introducedWithoutEmail.includes(row.customerId));
    const result = await createTask(clients.documents, tableNames(config).advisorTasks, task, config.sender.ledgerRetentionDays);
    if (result.created) {
      created++;
      log.info('advisor introduction task created', { customerId: row.customerId, advisorId: book.advisorId });
    }
  }
  return created;
}

/** The advisor's clients who bought after their tasks, and the control group, when any of their tasks has been followed to the end. */
function boughtAfterTasks(followThrough: AdvisorFollowThrough | undefined, advisorId: string): Pick<AdvisorDigestInput, 'bought'> {
  const mine = followThrough?.advisors.find((a) => a.advisorId === advisorId)?.bought;
  if (followThrough === undefined || mine === undefined || mine.followed === 0) return {};
  return { bought: { afterTasks: mine, control: followThrough.control, days: followThrough.boughtWithinDays } };
}

function preview(row: BookRow): BookRowPreview {
  const { firstName: _name, lastName: _family, email: _address, reasons, ...rest } = row;
  return { ...rest, reasons: reasons.map((reason) => (reason.kind === 'handover' ? previewHandover(reason) : reason)) };
}

function previewHandover(reason: Extract<BookReason, { kind: 'handover' }>): HandoverReasonPreview {
  const { fromName: _name, birthday, ...rest } = reason;
  const withoutYear = birthday === undefined ? undefined : birthdayWithoutYear(birthday);
  return { ...rest, ...(withoutYear === undefined ? {} : { birthday: withoutYear }) };
}

/** A birthday as MM-DD, or --MM for a month-only one (the forms book.ts reads); undefined for anything else. */
function birthdayWithoutYear(birthday: string): string | undefined {
  const month = birthdayMonth(birthday);
  if (month !== undefined) return `--${String(month).padStart(2, '0')}`;
  // 2000 is a leap year: Feb 29 stays Feb 29.
  return birthdayIn(birthday, 2000)?.slice(5);
}

export async function sendAdvisorDigests(options: AdvisorDigestOptions): Promise<AdvisorDigestSummary> {
  const started = performance.now();
  const { config, clients, runDate, runId } = options;
  const dryRun = options.dryRun ?? false;
  const { at } = options;
  const log = (options.log ?? silentLog).child({ runId, runDate, job: ADVISOR_DIGEST_CAMPAIGN });
  const tables = tableNames(config);
  const known = options.known ?? knownAdvisors(await readRoster(clients.s3, config), config);
  const { pendingAdvisors } = options;
  const advisors = digestAdvisors(known).filter(([id]) => pendingAdvisors === undefined || pendingAdvisors.has(id));
  const digestDate = options.digestDate ?? runDate;
  const maxRows = config.reports.advisorDigestMaxRows;
  const now = runClock(runDate, config.timeZone).now;
  // The byAdvisor index is sorted by spend: from the Potential threshold up holds every book client (isBookClient).
  const potentialThreshold = tierThresholdsMinor(config).potential;
  const recentRuns = recentRunDates(runDate);
  const catalog = await readCatalog(clients.s3, config);
  const mailer = options.mailer ?? createSesMailer(clients.ses, { maxSendRate: config.sender.maxSendRate, log, ...(options.deadline === undefined ? {} : { retryDeadline: options.deadline }) });
  const ledger: LedgerTable = { documents: clients.documents, table: tables.sendLedger };

  // Handovers: this week's pairs against last week's (a rerun of the week compares with the same baseline).
  const week = isoWeek(digestDate);
  const pairs = await scanAdvisorPairs(clients.documents, tables.profiles);
  const storedPairs = await readBookPairs(clients.s3, config);
  // A run for a digest week older than the stored pairs' (`run advisor-digests --date` of a past week): that week's
  // baseline is gone and the stored pairs are a later week's, so it shows no handover and leaves the pairs alone.
  // ISO weeks as YYYY-Www compare as text.
  const olderWeek = storedPairs !== undefined && week < storedPairs.week;
  const baseline = olderWeek ? undefined : baselineFor(storedPairs, week);
  // A night sending the deferred digests introduces the handovers the digest day saw, as the others' digests did
  // (later ones are next week's): the pairs stored that day, when they are this week's.
  const weekPairs = pendingAdvisors !== undefined && storedPairs?.week === week ? storedPairs.now : pairs;
  const handovers = baseline === undefined ? [] : handoversBetween(baseline, weekPairs);
  const results: AdvisorDigestResult[] = [];
  const books: NonNullable<AdvisorDigestSummary['books']> = [];
  // The handovers shown in a digest this run sent: their new advisor is the pair next week compares with.
  const introducedNow: Handover[] = [];
  // The handovers carried by a digest this run deferred: still to be introduced (next week, if no night of this one sends it).
  const deferredNow: Handover[] = [];
  for (const [advisorId, advisor] of advisors) {
    const indexed = await queryAdvisorClientsFrom(clients.documents, tables.profiles, advisorId, potentialThreshold);
    // A forget under way (its profiles go last) or a profile a night wrote back after one: in no book, no introduction.
    const erased = await erasedAmong(clients.documents, tables.suppression, indexed);
    if (erased.size > 0) log.warn('book clients on the erasure list: left out of the digest', { advisorId, count: erased.size });
    const profiles = indexed.filter((profile) => !erased.has(profile.customerId));
    // Tier history matters only to tell a newly rising client; read it for the rising ones alone.
    const recentTierChanges: TierChange[] = [];
    for (const profile of profiles.filter((p) => p.clv?.rising === true)) {
      recentTierChanges.push(...(await tierChangesBetween(clients.documents, tables.tierHistory, profile.customerId, recentRuns.from, recentRuns.to)));
    }
    const handedOver = await handoverHistories(
      handovers.filter((h) => h.to === advisorId),
      { known, advisor, profiles: new Map(profiles.map((p) => [p.customerId, p])), week, catalog },
      options,
    );
    const book = buildAdvisorBook({ advisorId, profiles, runDate, now, config, catalog, recentTierChanges, maxRows, handovers: handedOver });
    const locale = templateLocale(advisor.locale);
    const followThrough = tallyTasks(await tasksOfAdvisor(clients.documents, tables.advisorTasks, advisorId, now - FOLLOW_THROUGH_DAYS * MS_PER_DAY, now));
    const result: AdvisorDigestResult = {
      advisorId,
      locale,
      outcome: 'no-rows',
      clients: book.clients,
      withReasons: book.withReasons,
      rows: book.rows.length,
      introductions: book.introductions.length,
      introductionTasks: 0,
      reasonCounts: book.reasonCounts,
      followThrough,
    };
    results.push(result);
    if (book.rows.length === 0 && book.introductions.length === 0) continue;
    if (dryRun) {
      // What the real run would do, read only: a digest the ledger holds for the week (sent, or claimed) is not sent again.
      const entry = await getLedgerEntry(ledger.documents, ledger.table, advisorDigestLedgerKey(advisorId, digestDate));
      if (!isClaimable(entry?.status)) {
        result.outcome = 'already-sent';
        result.reason = `ledger: ${entry?.status ?? 'claimed'}`;
        continue;
      }
      result.outcome = 'dry-run';
      books.push({ advisorId, week: book.week, rows: [...book.introductions, ...book.rows].map(preview) });
      continue;
    }

    // Rendered before the claim: a template error must not leave a claim that blocks the week.
    const content = await renderAdvisorDigest(locale, {
      brandName: config.brandName,
      currency: config.currency,
      ...(advisor.name === undefined ? {} : { advisorName: advisor.name }),
      book,
      maxRows,
      categoryNames: config.categoryNames,
      ...(followThrough.given > 0 ? { followThrough } : {}),
      ...boughtAfterTasks(options.followThrough, advisorId),
    });
    const key = advisorDigestLedgerKey(advisorId, digestDate);
    const carried = carriedIntroductions(book);
    const request = { ...key, campaignId: ADVISOR_DIGEST_CAMPAIGN, runId, now: at, retentionDays: config.sender.ledgerRetentionDays, ...carried };
    // No time left to send it before the run's deadline (its Lambda's end): not claimed, since a kill would leave the
    // claim and nobody resends one, but recorded 'deferred' as a digest SES did not take, for the nights after (deferredDigests).
    const atDeadline = deadlinePassed(options.deadline, mailer);
    const deferredAtDeadline: NotSent | undefined =
      atDeadline !== undefined && (await recordDecision(ledger.documents, ledger.table, { ...request, reason: atDeadline }, 'deferred')) === 'claimed'
        ? { status: 'not-sent', retry: 'later', scope: 'message', errorName: 'RunDeadline', reason: atDeadline, attempts: 0 }
        : undefined;
    const { claimed } = atDeadline !== undefined ? { claimed: [] } : await claimEach(ledger, [request]);
    if (claimed.length === 0 && deferredAtDeadline === undefined) {
      const entry = await getLedgerEntry(ledger.documents, ledger.table, key);
      result.outcome = 'already-sent';
      result.reason = `ledger: ${entry?.status ?? 'claimed'}`;
      // A run that sent the digest and stopped before giving the introductions: this one gives those the digest carried
      // (none for an entry written before the list was kept: better no task than one the advisor never saw),
      // each with or without an email as that digest gave it (an entry from before that was kept: as tonight's book gives it).
      if (entry?.status === 'sent') {
        const sentWith = { introduced: entry.introduced ?? [], introducedWithoutEmail: entry.introducedWithoutEmail ?? carried.introducedWithoutEmail };
        result.introductionTasks = await createIntroductionTasks(options, book, handovers, sentWith, week, log);
      }
      continue;
    }
    const { outcome } =
      deferredAtDeadline !== undefined
        ? { outcome: deferredAtDeadline }
        : await deliverClaimed({
            ledger,
            runId,
            at,
            claimed,
            mailer,
            log,
            email: internalEmail(config.sender, advisor.email, content, { campaign: ADVISOR_DIGEST_CAMPAIGN, advisor: advisorId }),
          });
    if (outcome.status === 'sent') {
      result.outcome = 'sent';
      result.messageId = outcome.messageId;
      introducedNow.push(...handovers.filter((h) => h.to === advisorId && book.introductions.some((row) => row.customerId === h.customerId)));
      // The wait for an answer starts once the advisor has the digest (as a task email's does).
      result.introductionTasks = await createIntroductionTasks(options, book, handovers, carried, week, log);
    } else {
      // Nothing went out and a later run this week may send it (deferred), or it cannot, or may have (failed).
      result.outcome = outcome.status === 'not-sent' && outcome.retry === 'later' ? 'deferred' : 'failed';
      result.reason = outcome.reason;
    }
    if (result.outcome === 'deferred') {
      deferredNow.push(...handovers.filter((h) => h.to === advisorId && book.introductions.some((row) => row.customerId === h.customerId)));
      const retry = options.lastNight === true ? 'none: the digest week ends tonight' : `the nights until ${addDays(digestDate, DIGEST_WEEK_NIGHTS - 1)}`;
      log.warn('advisor digest deferred: nothing went out', { alert: NIGHTLY_ALERTS.advisorDigestNotSent.alert, advisorId, week, reason: result.reason, retry });
    } else {
      log.info('advisor digest', { advisorId, outcome: result.outcome, rows: result.rows });
    }
  }
  // The digest week ends tonight: a digest still deferred is lost for the week (a new week's digest day sends the next).
  const unsent = options.lastNight === true && !dryRun ? await deferredDigests(options, advisors.map(([id]) => id), digestDate) : new Set<string>();
  if (unsent.size > 0) log.error('advisor digests not sent this week', { alert: NIGHTLY_ALERTS.advisorDigestNotSent.alert, week, advisorIds: [...unsent].sort() });

  const unconfigured = [...new Set(Object.values(pairs))].filter((id) => !known.has(id)).sort();
  // The baseline of the next week (a dry run changes nothing). A night sending deferred digests keeps the digest day's
  // pairs as the week's, and writes only when one of its digests introduced a handover the week had not introduced.
  const pairsWritten = !olderWeek && (pendingAdvisors === undefined || (storedPairs?.week === week && introducedNow.length > 0));
  if (!dryRun && pairsWritten) await writeBookPairs(clients.s3, config, pairsToKeep(storedPairs, week, weekPairs, introducedNow, deferredNow));
  // Info, not a warning: the summary carries the figure, and a brand may well give books to only some advisors.
  if (unconfigured.length > 0) log.info('advisors on profiles but neither in the roster nor the config: no digest for them', { count: unconfigured.length });

  const totals = emptyTotals();
  const byStore = emptyDictionary<TaskTally[]>(); // keyed by the roster's free-text store names
  for (const result of results) {
    totals[result.outcome]++;
    totals.rows += result.rows;
    totals.introductions += result.introductions;
    totals.introductionTasks += result.introductionTasks;
    (byStore[known.get(result.advisorId)?.store ?? NO_STORE] ??= []).push(result.followThrough);
  }
  const followThrough = {
    days: FOLLOW_THROUGH_DAYS,
    total: addTallies(results.map((r) => r.followThrough)),
    byStore: Object.fromEntries(Object.entries(byStore).map(([store, tallies]) => [store, addTallies(tallies)])),
  };
  const summary: AdvisorDigestSummary = {
    runDate,
    week,
    digestDate,
    mode: pendingAdvisors === undefined ? 'all' : 'pending',
    ...(unsent.size > 0 ? { unsent: [...unsent].sort() } : {}),
    dryRun,
    advisors: results,
    totals,
    followThrough,
    handovers: handovers.length,
    unconfiguredAdvisors: { count: unconfigured.length, ids: unconfigured },
    ...(dryRun ? { books } : {}),
    durationMs: Math.round(performance.now() - started),
  };
  log.info('advisor digests finished', { week: summary.week, totals, unconfiguredAdvisors: unconfigured.length });
  return summary;
}
