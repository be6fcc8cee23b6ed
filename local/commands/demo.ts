import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { uploadDirectory } from '#shared/aws/s3-objects.ts';
import { loadConfig, parseConfig, type Config } from '#shared/config.ts';
import { jsonLog, newRunId } from '#shared/log.ts';
import { nightBefore } from '#shared/nightly/run-date.ts';
import { runNightly } from '#shared/nightly/run.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';
import { exportPrefix } from '#shared/store/buckets.ts';
import { emptyCampaignCounts, runCampaigns, type CampaignCounts } from '#shared/sender/run.ts';
import { addDays, startOfLocalDay, weekdayOf } from '#shared/time.ts';
import { parseInstant } from './campaigns.ts';
import { startLocalAws } from '#local/aws.ts';
import { UsageError } from '#local/errors.ts';
import { advisorDigestTotalsLine, formatCampaignCounts, formatNightlySummary } from '#local/format.ts';
import { defaultReportPath, downloadReport } from './report.ts';
import { generateExport } from '#local/generate/generate.ts';
import { terminalProgress } from '#local/progress.ts';

const HOUR_MS = 3_600_000;
const DEMO_TEAM_ADDRESS = 'crm-team@example.com';

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

export interface DemoResult {
  runDate: string;
  previousRunDate?: string;
  summary: NightlyRunSummary;
  previous?: NightlyRunSummary;
  rerun: { runDate: string; profilesWritten: number; tierHistoryWritten: number; advisorDigestsSent?: number };
  campaigns: {
    from: string;
    until: string;
    dryRun: boolean;
    hours: number;
    /** Per campaign, summed over the hours. */
    counts: Record<string, CampaignCounts>;
    inbox?: string;
  };
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
  const config = withDemoAdvisors(loaded, runDate);
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
  const teamAddresses = config.reports.teamAddresses.length > 0 ? config.reports.teamAddresses : [DEMO_TEAM_ADDRESS];
  const aws = await startLocalAws({ config: { ...config, reports: { ...config.reports, teamAddresses } } });
  const workDir = await mkdtemp(join(tmpdir(), 'clientele-demo-'));
  try {
    // With a generated export, the night before reads the same snapshot: a run cannot see what
    // happened after its own end, so it sees yesterday's world and tonight shows the movements.
    const nights = exportDir ? [runDate] : [addDays(runDate, -1), runDate];
    let dir = exportDir;
    if (!dir) {
      dir = join(workDir, runDate);
      say(`Generating a sample export of ${options.customers.toLocaleString('en-US')} clients as of ${runDate} (seed ${options.seed})...`);
      await generateExport(
        { customers: options.customers, seed: options.seed, asOf: runDate, timeZone: config.timeZone, currency: config.currency },
        dir,
      );
    }
    for (const night of nights) {
      const prefix = exportPrefix(aws.config, night);
      await uploadDirectory(aws.clients.s3, dir, aws.config.storage.exportsBucket, prefix);
      say(`Uploaded to s3://${aws.config.storage.exportsBucket}/${prefix}/`);
    }

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
        });
      } finally {
        progress.stop();
      }
    };

    const summaries: NightlyRunSummary[] = [];
    for (const night of nights) {
      say(`Running the nightly job for ${night}...`);
      summaries.push(await runNight(night));
    }
    say(`Running ${runDate} again (a rerun must write nothing)...`);
    const rerun = await runNight(runDate);

    // The hourly sender, from the hour after the nightly run (02:00 brand time) to --until.
    const from = startOfLocalDay(addDays(runDate, 1), config.timeZone) + 3 * HOUR_MS;
    const until = options.until ? parseInstant(options.until) : startOfLocalDay(addDays(runDate, 1), config.timeZone) + 12 * HOUR_MS;
    if (until < from) throw new UsageError(`--until must be at or after ${new Date(from).toISOString()} (the first hour after the nightly run)`);
    const secret = randomBytes(32).toString('base64url');
    const campaignCounts: Record<string, CampaignCounts> = {};
    let hours = 0;
    for (let at = from; at <= until; at += HOUR_MS) {
      say(`Campaign sender at ${new Date(at).toISOString()}${options.dryRun ? ' (dry run)' : ''}...`);
      const hour = await runCampaigns({
        at,
        runId: newRunId('campaigns'),
        config: aws.config,
        clients: aws.clients,
        unsubscribeSecret: secret,
        dryRun: options.dryRun,
        log,
      });
      hours++;
      for (const [id, counts] of Object.entries(hour.campaigns)) {
        const total = (campaignCounts[id] ??= emptyCampaignCounts());
        for (const key of Object.keys(counts) as (keyof CampaignCounts)[]) total[key] += counts[key];
      }
    }

    const summary = summaries[summaries.length - 1] as NightlyRunSummary;
    const previous = summaries.length > 1 ? summaries[0] : undefined;
    const localCopy = await downloadReport(aws.clients, summary, defaultReportPath(runDate));
    const result: DemoResult = {
      runDate,
      ...(previous ? { previousRunDate: previous.runDate, previous } : {}),
      summary,
      rerun: {
        runDate,
        profilesWritten: rerun.written.profiles,
        tierHistoryWritten: rerun.written.tierHistory,
        ...(rerun.advisorDigests ? { advisorDigestsSent: rerun.advisorDigests.totals.sent } : {}),
      },
      campaigns: {
        from: new Date(from).toISOString(),
        until: new Date(until).toISOString(),
        dryRun: options.dryRun,
        hours,
        counts: campaignCounts,
        ...(aws.endpoints.ses ? { inbox: aws.endpoints.ses } : {}),
      },
      report: {
        ...(summary.report.reportObject ? { object: summary.report.reportObject } : {}),
        ...(localCopy ? { localCopy } : {}),
        ...(summary.report.teamEmail ? { teamEmail: summary.report.teamEmail } : {}),
      },
      elapsedMs: Date.now() - started,
    };
    if (options.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      if (options.keepRunning) await waitForCtrlC(`Emulators up; inbox at ${aws.endpoints.ses}`);
      return;
    }
    const out: string[] = [''];
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
      `Rerun of ${runDate}: ${rerun.written.profiles} profiles and ${rerun.written.tierHistory} tier-history records written.`,
      ...(rerun.advisorDigests ? [`  ${advisorDigestTotalsLine(rerun.advisorDigests)}`] : []),
      '',
      `Campaign sender, hourly from ${new Date(from).toISOString()} to ${new Date(until).toISOString()} (${hours} runs${options.dryRun ? ', dry run' : ''}).`,
      'Counts are summed over the runs: an occasion deferred by quiet hours or capped is due again, and counted, each hour until it goes.',
      formatCampaignCounts(campaignCounts),
      options.dryRun
        ? 'Dry run: nothing was claimed or sent.'
        : `The emails are in the local SES inbox: ${aws.endpoints.ses}/ (JSON: ${aws.endpoints.ses}/store)${options.keepRunning ? '' : '; add --keep-running to browse it'}.`,
      '',
      summary.report.reportObject
        ? `Nightly report (charts, for the marketing team): ${summary.report.reportObject}`
        : `The nightly report was not written: ${summary.report.reportError ?? 'unknown reason'}`,
      ...(localCopy ? [`  local copy: ${localCopy} (open it in a browser)`] : []),
      ...(summary.report.teamEmail
        ? [`  summary email to the team: sent to ${summary.report.teamEmail.sent} of ${teamAddresses.length} addresses (local SES inbox)`]
        : []),
      `Demo finished in ${((Date.now() - started) / 1000).toFixed(1)} s.`,
    );
    process.stdout.write(`${out.join('\n')}\n`);
    if (options.keepRunning) await waitForCtrlC(`Emulators up; open ${aws.endpoints.ses}/ to browse the inbox. Ctrl-C to stop.`);
  } finally {
    await aws.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}
