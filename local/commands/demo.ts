import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { uploadDirectory } from '../../shared/aws/s3-objects.ts';
import { loadConfig } from '../../shared/config.ts';
import { jsonLog, newRunId } from '../../shared/log.ts';
import { runNightly, type NightlyRunSummary } from '../../shared/nightly/run.ts';
import { exportPrefix } from '../../shared/store/buckets.ts';
import { addDays, localDate } from '../../shared/time.ts';
import { startLocalAws } from '../aws.ts';
import { UsageError } from '../errors.ts';
import { formatNightlySummary } from '../format.ts';
import { generateExport } from '../generate/generate.ts';
import { terminalProgress } from '../progress.ts';

const optionsSchema = z.object({
  date: z.string().optional(),
  export: z.string().optional(),
  customers: z.number().int().positive(),
  seed: z.number().int().nonnegative(),
  json: z.boolean(),
  config: z.string().optional(),
  logLevel: z.enum(['debug', 'info', 'warn', 'error']),
});

export interface DemoResult {
  runDate: string;
  previousRunDate?: string;
  summary: NightlyRunSummary;
  previous?: NightlyRunSummary;
  rerun: { runDate: string; profilesWritten: number; tierHistoryWritten: number };
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
  const config = await loadConfig(options.config);
  const runDate = options.date ?? addDays(localDate(Date.now(), config.timeZone), -1);
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
  const aws = await startLocalAws({ config });
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

    const summary = summaries[summaries.length - 1] as NightlyRunSummary;
    const previous = summaries.length > 1 ? summaries[0] : undefined;
    const result: DemoResult = {
      runDate,
      ...(previous ? { previousRunDate: previous.runDate, previous } : {}),
      summary,
      rerun: { runDate, profilesWritten: rerun.written.profiles, tierHistoryWritten: rerun.written.tierHistory },
      elapsedMs: Date.now() - started,
    };
    if (options.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
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
      `Demo finished in ${((Date.now() - started) / 1000).toFixed(1)} s.`,
    );
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    await aws.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}
