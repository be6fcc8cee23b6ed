import { z } from 'zod';
import { destroyAwsClients, type AwsClients } from '#shared/aws/clients.ts';
import { awsRefusalMessage, cliAwsClients } from '#local/aws-errors.ts';
import { reportLink } from '#shared/nightly/publish-report.ts';
import type { Config } from '#shared/config.ts';
import { NIGHTLY_JOB, rowListCutText } from '#shared/nightly/summary.ts';
import { CAMPAIGNS_JOB, type CampaignRunRecord } from '#shared/sender/run.ts';
import { recentRuns } from '#shared/store/runs-store.ts';
import { tableName } from '#shared/store/tables.ts';
import { brandTime } from '#local/format.ts';
import { claimHourStart, ledgerOccasions } from '#local/ledger-hours.ts';
import { loadTarget, targetOptionsSchema } from '#local/target.ts';
import { attemptOfExecution, recordedLocalAttempts, type NightAttempt } from '#local/night-attempts.ts';
import { endedExecutionsWithSdk, type ListEndedExecutions } from '#local/state-machine.ts';
import { addDays } from '#shared/time.ts';
import { lastNightDue } from '#shared/nightly/run-date.ts';
import { STATUS_MAX_HOURS, STATUS_MAX_NIGHTS } from '#local/options.ts';

const HOUR_MS = 3_600_000;
const optionsSchema = targetOptionsSchema.extend({
  nights: z.number().int().min(1).max(STATUS_MAX_NIGHTS),
  hours: z.number().int().min(1).max(STATUS_MAX_HOURS),
  json: z.boolean(),
});

/** A night's runs-table item as status reads it (completed summary or in-progress marker; older items may lack fields). */
const storedNightSchema = z.object({
  runDate: z.string(),
  runId: z.string().optional(),
  status: z.string().optional(),
  startedAt: z.string().optional(),
  durationMs: z.number().optional(),
  distribution: z.object({ clients: z.number() }).optional(),
  written: z.object({ profiles: z.number(), tierHistory: z.number() }).optional(),
  input: z.object({ rows: z.number().optional(), rejected: z.number() }).optional(),
  report: z
    .object({
      reportObject: z.string().optional(),
      summaryObject: z.string().optional(),
      reportError: z.string().optional(),
      teamEmail: z.object({ failed: z.number(), unresolved: z.number().optional() }).optional(),
      rejectsObject: z.string().optional(),
      rejectsListed: z.number().optional(),
      rejectsNotListed: z.number().optional(),
    })
    .optional(),
  advisorDigests: z
    .object({
      week: z.string().optional(),
      totals: z.object({ failed: z.number(), deferred: z.number().optional() }).optional(),
      unsent: z.array(z.string()).optional(),
      error: z.string().optional(),
    })
    .optional(),
  /** The lists the item keeps a sample of, with their full length (runs-item.ts). */
  listsCut: z.object({ lengths: z.record(z.string(), z.number()) }).optional(),
});

export interface NightStatus {
  runDate: string;
  /**
   * 'writing': the night was started and never completed (it failed, or it is running now);
   * 'missing': nothing stored for a date that is due: never run, or refused before writing.
   */
  status: 'completed' | 'writing' | 'missing';
  runId?: string;
  startedAt?: string;
  durationMs?: number;
  clients?: number;
  profilesWritten?: number;
  rejects?: number;
  /** "10,500 rejects, the first 10,000 listed in s3://…" when the rejects object lists fewer than the night counted. */
  rejectsListed?: string;
  /** What went wrong around the night: an unfinished night, a report not written, team emails or digests that failed, were deferred or never sent. */
  failures: string[];
  /** The night's report.html (s3:// location). */
  report?: string;
  /** A presigned https link to it, valid reports.linkExpiryHours. */
  reportLink?: string;
  /** Attempts at the night that were refused or failed (local runs' records; the state machine's executions with --stack), newest first. */
  attempts?: NightAttempt[];
}

export const SENDER_STATES = ['sent', 'held-out', 'suppressed', 'no-consent', 'capped', 'deferred', 'failed', 'maybe-sent', 'expired', 'claimed'] as const;

export interface SenderHour {
  /** The hour's start, ISO (UTC). */
  hour: string;
  /** Campaign occasions whose last decision fell in this hour, by ledger status. */
  counts: Record<string, number>;
}

export interface StatusResult {
  source: string;
  timeZone: string;
  nights: NightStatus[];
  /** Why the refused and failed attempts could not be read (AWS refused listing the executions), when so. */
  attemptsUnavailable?: string;
  sender: {
    from: string;
    until: string;
    /** Hours with at least one decision, newest first. */
    hours: SenderHour[];
    /** The sender's runs in the window (runs table), newest first. */
    runs: SenderRun[];
    /** Whole hours of the window (before the current one) with no run recorded: a missed or failed start. */
    hoursWithoutRun: string[];
  };
}

export interface SenderRun {
  at: string;
  runId: string;
  due: number;
  sent: number;
  failed: number;
  /** Why the run stopped sending (circuit breaker, SES account), when it did. */
  stopped?: string;
  /** The run decided nothing: waiting for the first night of the deployed version (CampaignRunSummary.held). */
  held?: string;
  /** The nights were behind (CampaignRunSummary.behind): the lapses and run-outs were not decided, the rest was. */
  behind?: { lastNight: string; lastNightDue: string; occasionsHeld: number };
  maybeSent: number;
}

/** The failure the text output lists for a night started and never completed (the nightly-failed alarm quotes it). */
export const NIGHT_NOT_COMPLETED = 'not completed: it failed, or it is running now';

function nightStatus(raw: unknown): NightStatus {
  const night = storedNightSchema.parse(raw);
  const completed = night.status !== 'writing';
  const failures: string[] = [];
  if (!completed) failures.push(NIGHT_NOT_COMPLETED);
  if (night.report?.reportError) failures.push(`report not written: ${night.report.reportError}`);
  if ((night.report?.teamEmail?.failed ?? 0) > 0) failures.push(`team email failed for ${night.report?.teamEmail?.failed} addresses`);
  const unresolved = night.report?.teamEmail?.unresolved ?? 0;
  if (unresolved > 0) failures.push(`team email not known sent to ${unresolved} addresses (an earlier attempt of the night claimed it and did not record it sent)`);
  if ((night.advisorDigests?.totals?.failed ?? 0) > 0) failures.push(`${night.advisorDigests?.totals?.failed} advisor digests failed`);
  const deferred = night.advisorDigests?.totals?.deferred ?? 0;
  if (deferred > 0) failures.push(`${deferred} advisor digests deferred (not sent; the next nights of the digest week retry them)`);
  const unsent = night.advisorDigests?.unsent ?? [];
  const unsentCount = night.listsCut?.lengths['advisorDigests.unsent'] ?? unsent.length;
  // The runs item keeps a sample of the list, or none (runs-item.ts): the whole list is in the night's summary object.
  const whole = night.report?.summaryObject === undefined ? '' : ` (all listed in ${night.report.summaryObject})`;
  const named = unsent.length === 0 ? `not named here${whole}` : `${unsent.join(', ')}${unsentCount > unsent.length ? `, and ${unsentCount - unsent.length} more${whole}` : ''}`;
  if (unsentCount > 0) failures.push(`${unsentCount} advisor digests of ${night.advisorDigests?.week ?? 'the week'} never sent: ${named}`);
  if (night.advisorDigests?.error) failures.push(`advisor digests stopped: ${night.advisorDigests.error}`);
  const rejectsListed = night.report ? rowListCutText(night.report, 'rejects') : undefined;
  return {
    runDate: night.runDate,
    status: completed ? 'completed' : 'writing',
    ...(night.runId ? { runId: night.runId } : {}),
    ...(night.startedAt ? { startedAt: night.startedAt } : {}),
    ...(completed && night.durationMs !== undefined ? { durationMs: night.durationMs } : {}),
    ...(night.distribution ? { clients: night.distribution.clients } : {}),
    ...(night.written ? { profilesWritten: night.written.profiles } : {}),
    ...(night.input ? { rejects: night.input.rejected } : {}),
    ...(rejectsListed ? { rejectsListed } : {}),
    failures,
    ...(night.report?.reportObject ? { report: night.report.reportObject } : {}),
  };
}

/** The nights of the last `count` dates up to the last one due (or the newest stored, if later): stored ones, and gaps. */
export function nightWindow(storedDates: readonly string[], lastDue: string, count: number): { from: string; to: string } {
  const newest = storedDates.reduce((max, date) => (date > max ? date : max), lastDue);
  return { from: addDays(newest, -(count - 1)), to: newest };
}

/**
 * The dates of the window, newest first, each with its stored night or, when nothing is stored,
 * as a gap: a due date after the first night stored (or with a refused attempt). The dates
 * before the brand's first night are not gaps.
 */
export function nightsOfWindow(
  window: { from: string; to: string },
  stored: readonly NightStatus[],
  attempts: readonly NightAttempt[],
  storedBefore: boolean,
): NightStatus[] {
  const byDate = new Map(stored.map((night) => [night.runDate, night]));
  const first = stored.reduce<string | undefined>((min, night) => (min === undefined || night.runDate < min ? night.runDate : min), undefined);
  const nights: NightStatus[] = [];
  for (let date = window.to; date >= window.from; date = addDays(date, -1)) {
    const tried = attempts.filter((a) => a.runDate === date).sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
    const night = byDate.get(date);
    if (night !== undefined) {
      nights.push(tried.length > 0 ? { ...night, attempts: tried } : night);
    } else if (storedBefore || (first !== undefined && date > first) || tried.length > 0) {
      const what = tried.length > 0 ? `${tried.length} attempt(s) ${[...new Set(tried.map((a) => a.outcome))].join(' or ')}, nothing written` : 'never run, or refused before writing';
      nights.push({ runDate: date, status: 'missing', failures: [`no night stored: ${what}`], ...(tried.length > 0 ? { attempts: tried } : {}) });
    }
  }
  return nights;
}

/** Where the refused and failed attempts come from: the stack's state machine, or the local runs' records. */
export type AttemptSource = { kind: 'stack'; stateMachineArn: string; listEnded: ListEndedExecutions } | { kind: 'local' };

/** The last nights (runs table) and the sender's last hours (send ledger), as of `now`. */
export async function gatherStatus(
  target: { config: Config; source: string },
  clients: Pick<AwsClients, 'documents' | 's3'>,
  now: number,
  options: { nights: number; hours: number },
  attemptSource: AttemptSource = { kind: 'local' },
): Promise<StatusResult> {
  const { config } = target;
  // One more than the window can hold: an older one tells that the window's gaps follow a night.
  const newest = await recentRuns(clients.documents, tableName(config, 'runs'), NIGHTLY_JOB, '9999-12-31', {
    limit: options.nights + 1,
    attributes: ['runId', 'status', 'startedAt', 'durationMs', 'distribution.clients', 'written', 'input.rows', 'input.rejected', 'report', 'advisorDigests.week', 'advisorDigests.totals', 'advisorDigests.unsent', 'advisorDigests.error', 'listsCut'],
  });
  const window = nightWindow(newest.map((item) => item.runDate), lastNightDue(now, config.timeZone), options.nights);
  const items = newest.filter((item) => item.runDate >= window.from && item.runDate <= window.to);
  // Without the permission to list the executions, the nights stored are still worth showing.
  let attemptsUnavailable: string | undefined;
  const attempts = await nightAttempts(attemptSource, clients, config, window).catch((error: unknown) => {
    attemptsUnavailable = awsRefusalMessage(error);
    if (attemptsUnavailable === undefined) throw error;
    return [];
  });
  const from = now - (options.hours - 1) * HOUR_MS;
  const byHour = new Map<string, Record<string, number>>();
  for (const occasion of await ledgerOccasions(clients, config, from, now)) {
    const counts = byHour.get(occasion.claimHour) ?? Object.fromEntries(SENDER_STATES.map((s) => [s, 0]));
    counts[occasion.state] = (counts[occasion.state] ?? 0) + 1;
    byHour.set(occasion.claimHour, counts);
  }
  const records = await recentRuns<CampaignRunRecord>(clients.documents, tableName(config, 'runs'), CAMPAIGNS_JOB, `${new Date(now).toISOString()}~`, {
    limit: options.hours * 4,
  });
  const runs = records
    .filter((r) => Date.parse(r.at) >= Math.floor(from / HOUR_MS) * HOUR_MS)
    .map((r): SenderRun => {
      const counts = Object.values(r.campaigns ?? {});
      return {
        at: r.at,
        runId: r.runId,
        due: counts.reduce((total, c) => total + (c.due ?? 0), 0),
        sent: counts.reduce((total, c) => total + (c.sent ?? 0), 0),
        failed: counts.reduce((total, c) => total + (c.failed ?? 0), 0),
        ...(r.stopped ? { stopped: r.stopped } : {}),
        ...(r.held ? { held: r.held } : {}),
        ...(r.behind ? { behind: r.behind } : {}),
        maybeSent: r.maybeSent ?? 0,
      };
    });
  const ranHours = new Set(runs.map((r) => Math.floor(Date.parse(r.at) / HOUR_MS)));
  const hoursWithoutRun: string[] = [];
  for (let hour = Math.floor(from / HOUR_MS); hour < Math.floor(now / HOUR_MS); hour += 1) {
    if (!ranHours.has(hour)) hoursWithoutRun.push(new Date(hour * HOUR_MS).toISOString());
  }
  const hours = [...byHour.entries()]
    .sort(([a], [b]) => (a < b ? 1 : a > b ? -1 : 0))
    .map(([hour, counts]) => ({ hour: new Date(claimHourStart(hour)).toISOString(), counts }));
  return {
    source: target.source,
    timeZone: config.timeZone,
    nights: nightsOfWindow(
      window,
      await Promise.all(items.map((item) => withReportLink(nightStatus(item), clients, config, now))),
      attempts,
      newest.some((item) => item.runDate < window.from),
    ),
    ...(attemptsUnavailable === undefined ? {} : { attemptsUnavailable }),
    sender: { from: new Date(Math.floor(from / HOUR_MS) * HOUR_MS).toISOString(), until: new Date(now).toISOString(), hours, runs, hoursWithoutRun },
  };
}

/** The refused and failed attempts at the window's nights. */
async function nightAttempts(source: AttemptSource, clients: Pick<AwsClients, 'documents'>, config: Config, window: { from: string; to: string }): Promise<NightAttempt[]> {
  if (source.kind === 'local') return recordedLocalAttempts(clients, config, window.from, window.to);
  // An attempt at the window's first night starts on its day at the earliest (a backfill may run any later day).
  const since = Date.parse(`${window.from}T00:00:00Z`) - 14 * HOUR_MS;
  const ended = await source.listEnded(source.stateMachineArn, since);
  return ended.flatMap((execution) => {
    const attempt = attemptOfExecution(execution, config);
    return attempt !== undefined && attempt.runDate >= window.from && attempt.runDate <= window.to ? [attempt] : [];
  });
}

/** The night with a presigned link to its report, so that a marketer can open it without an AWS login. */
async function withReportLink(night: NightStatus, clients: Pick<AwsClients, 's3'>, config: Config, now: number): Promise<NightStatus> {
  if (!night.report) return night;
  return { ...night, reportLink: (await reportLink(clients.s3, config, night.report, now)).url };
}

const n = (value: number | undefined) => (value === undefined ? '-' : value.toLocaleString('en-US'));

export function formatStatus(status: StatusResult): string {
  const tz = status.timeZone;
  const lines = [`clientele status (${status.source}; times in ${tz})`, '', 'Last nights:'];
  if (status.nights.length === 0) lines.push('  none stored yet');
  else {
    lines.push(`  ${'night'.padEnd(12)}${'started'.padEnd(24)}${'duration'.padStart(9)}${'clients'.padStart(10)}${'written'.padStart(10)}${'rejects'.padStart(9)}  report / failures`);
    for (const night of status.nights) {
      const started = night.startedAt ? brandTime(night.startedAt, tz) : '-';
      const duration = night.durationMs === undefined ? '-' : `${(night.durationMs / 1000).toFixed(1)} s`;
      if (night.status === 'missing') lines.push(`  ${night.runDate.padEnd(12)}NO NIGHT STORED`);
      else {
        lines.push(
          `  ${night.runDate.padEnd(12)}${started.padEnd(24)}${duration.padStart(9)}${n(night.clients).padStart(10)}${n(night.profilesWritten).padStart(10)}${n(night.rejects).padStart(9)}  ${night.report ?? '-'}`,
        );
      }
      if (night.rejectsListed) lines.push(`  ${''.padEnd(12)}rejects: ${night.rejectsListed}`);
      if (night.reportLink) lines.push(`  ${''.padEnd(12)}open: ${night.reportLink}`);
      for (const failure of night.failures) lines.push(`  ${''.padEnd(12)}FAILURE: ${failure}`);
      for (const attempt of night.attempts ?? []) {
        lines.push(`  ${''.padEnd(12)}${attempt.outcome.toUpperCase()} ${brandTime(attempt.at, tz)} (${attempt.source}): ${attempt.reason}`);
      }
    }
  }
  if (status.attemptsUnavailable) lines.push(`  (refused and failed attempts not shown: ${status.attemptsUnavailable})`);
  lines.push('', `Campaign sender, ${brandTime(status.sender.from, tz)} to ${brandTime(status.sender.until, tz)} (occasions by the hour of their last decision):`);
  if (status.sender.runs.length === 0) lines.push('  no run recorded in these hours');
  for (const run of status.sender.runs) {
    lines.push(
      `  run ${brandTime(run.at, tz)}  due ${n(run.due)}, sent ${n(run.sent)}, failed ${n(run.failed)}` +
        `${run.maybeSent > 0 ? `, ${n(run.maybeSent)} maybe sent` : ''}${run.stopped ? `  STOPPED: ${run.stopped}` : ''}${run.held ? '  HELD: waiting for the first night of this version' : ''}` +
        `${run.behind ? `  NIGHTS BEHIND: last night ${run.behind.lastNight}, due ${run.behind.lastNightDue}; ${n(run.behind.occasionsHeld)} occasion(s) held (resting on no order since the last night)` : ''}`,
    );
  }
  if (status.sender.hoursWithoutRun.length > 0) {
    lines.push(`  NO RUN in ${status.sender.hoursWithoutRun.length} hour(s): ${status.sender.hoursWithoutRun.map((h) => brandTime(h, tz)).join(', ')}`);
  }
  if (status.sender.hours.length === 0) lines.push('  no decision in these hours');
  else {
    lines.push(`  ${'hour'.padEnd(24)}${SENDER_STATES.map((s) => s.padStart(11)).join('')}`);
    for (const hour of status.sender.hours) lines.push(`  ${brandTime(hour.hour, tz).padEnd(24)}${SENDER_STATES.map((s) => n(hour.counts[s] ?? 0).padStart(11)).join('')}`);
  }
  return lines.join('\n');
}

/** `clientele status`: the last nights and the sender's last hours, from the runs table and the send ledger. */
export async function statusCommand(raw: unknown): Promise<void> {
  const options = optionsSchema.parse(raw);
  const target = await loadTarget('status', options);
  const clients = cliAwsClients(target.config);
  const { stack } = target;
  const attempts: AttemptSource = stack ? { kind: 'stack', stateMachineArn: stack.stateMachineArn, listEnded: endedExecutionsWithSdk(stack.region) } : { kind: 'local' };
  try {
    const status = await gatherStatus(target, clients, Date.now(), options, attempts);
    process.stdout.write(options.json ? `${JSON.stringify(status)}\n` : `${formatStatus(status)}\n`);
  } finally {
    destroyAwsClients(clients);
  }
}
