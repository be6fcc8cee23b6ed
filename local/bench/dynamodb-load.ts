import { parseArgs } from 'node:util';
import { startLocalAws, type LocalAws } from '#local/aws.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import type { NightlyProgress } from '#shared/nightly/summary.ts';
import { isolatedConfig, nightlyRunFigures, type NightlyRunFigures } from './aws-stages.ts';
import { BENCH_AS_OF, benchExport } from './exports.ts';
import { currentCommit, resultHeader, writeResultFile } from './results.ts';

const HELP = `npm run bench:dynamodb-load -- [options]

The first night's DynamoDB load alone: one nightly run of the cached bench export into empty
tables on DynamoDB Local (every profile and tier-history record written), with the profiles
written sampled over time, so the pace is seen as the table grows. Stopped at the time box if
it runs longer; the results file (bench-results/dynamodb-load-<timestamp>-<commit>.json) then
says how far it got. The README's table takes the 1M first-run row from it (npm run bench:table).

  --clients N             clients in the export (default 1000000)
  --seed S                generator seed (default 1)
  --time-box-minutes M    stop after M minutes (default 45)
  --sample-seconds S      progress sample interval (default 30)
  --out FILE              results file
  --help`;

const log = (line: string) => process.stderr.write(`${line}\n`);

interface ProgressSample {
  /** Seconds since the start of the write step. */
  atSeconds: number;
  profilesWritten: number;
  /** Profiles per second since the previous sample. */
  profilesPerSecond: number;
}

/** The first run's figures as the table reads them, time-boxed or not, with the steps' times and the samples. */
type FirstLoad = Omit<NightlyRunFigures, 'changedProfiles' | 'newClients'> & {
  completed: boolean;
  /** Profiles and history records the night would write (profiles: the write step's total; history: known at the end only). */
  itemsPlanned?: number;
  stepStartSeconds: Partial<Record<NightlyProgress['step'], number>>;
  samples: ProgressSample[];
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      clients: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '1' },
      'time-box-minutes': { type: 'string', default: '45' },
      'sample-seconds': { type: 'string', default: '30' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const size = Number(values.clients.replaceAll('_', ''));
  const seed = Number(values.seed);
  const timeBoxMs = Number(values['time-box-minutes']) * 60_000;
  const sampleMs = Number(values['sample-seconds']) * 1000;
  if (!Number.isSafeInteger(size) || size < 100) throw new Error(`--clients must be an integer >= 100, got ${values.clients}`);
  if (!(timeBoxMs > 0) || !(sampleMs > 0)) throw new Error('--time-box-minutes and --sample-seconds must be positive');
  const startedAt = new Date();
  const commit = currentCommit();

  const exp = await benchExport(size, seed, log);
  let aws: LocalAws | undefined;
  let first: FirstLoad;
  try {
    log('starting DynamoDB Local (4g heap) and s3rver ...');
    aws = await startLocalAws({ services: ['dynamodb', 's3'], dynamoDbHeap: '4g' });
    const config = await isolatedConfig(aws, `load-n${size}-${Date.now()}`);
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    const stepStartSeconds: FirstLoad['stepStartSeconds'] = {};
    const samples: ProgressSample[] = [];
    let written = 0;
    let planned: number | undefined;
    let writeStart: number | undefined;
    const onProgress = (progress: NightlyProgress) => {
      if (stepStartSeconds[progress.step] === undefined) {
        stepStartSeconds[progress.step] = Math.round(seconds());
        log(`  ${progress.step} step from ${stepStartSeconds[progress.step]} s`);
      }
      if (progress.step !== 'write') return;
      writeStart ??= performance.now();
      written = progress.done;
      planned = progress.total;
    };
    const sampler = setInterval(() => {
      if (writeStart === undefined) return;
      const previous = samples[samples.length - 1];
      const at = (performance.now() - writeStart) / 1000;
      const rate = (written - (previous?.profilesWritten ?? 0)) / (at - (previous?.atSeconds ?? 0));
      samples.push({ atSeconds: Math.round(at), profilesWritten: written, profilesPerSecond: Math.round(rate) });
      log(`  ${Math.round(at)} s into the write step: ${written.toLocaleString('en-US')} of ${planned?.toLocaleString('en-US') ?? '?'} profiles (${Math.round(rate)}/s)`);
    }, sampleMs);
    log(`first run of ${size.toLocaleString('en-US')} clients into empty tables (time box ${values['time-box-minutes']} min) ...`);
    const run = runNightly({
      runDate: BENCH_AS_OF,
      runId: `load-${size}-first`,
      config,
      clients: aws.clients,
      clock: Date.now,
      source: directoryExportSource(exp.dir),
      onProgress,
    });
    let timer: NodeJS.Timeout | undefined;
    const timeBox = new Promise<'time box'>((resolveTimeBox) => (timer = setTimeout(() => resolveTimeBox('time box'), timeBoxMs)));
    const outcome = await Promise.race([run, timeBox]);
    clearInterval(sampler);
    clearTimeout(timer);
    if (outcome === 'time box') {
      // Profiles come first, then the history records: a stop during the write step has written `written` profiles.
      const writeSeconds = writeStart === undefined ? 0 : (performance.now() - writeStart) / 1000;
      first = {
        completed: false,
        wallMs: Math.round(timeBoxMs),
        writeMs: Math.round(writeSeconds * 1000),
        profilesWritten: written,
        tierHistoryWritten: 0,
        itemsWritten: written,
        itemsPerSecond: writeSeconds > 0 ? written / writeSeconds : 0,
        ...(planned === undefined ? {} : { itemsPlanned: planned }),
        stepStartSeconds,
        samples,
      };
      log(`stopped at the time box: ${written.toLocaleString('en-US')} profiles written`);
    } else {
      const { changedProfiles: _changed, newClients: _new, ...figures } = nightlyRunFigures(outcome);
      first = { ...figures, completed: true, itemsPlanned: figures.itemsWritten, stepStartSeconds, samples };
      log(`done: ${figures.itemsWritten.toLocaleString('en-US')} items in ${(figures.writeMs / 1000).toFixed(0)} s of writing (${figures.itemsPerSecond.toFixed(0)}/s)`);
    }
  } finally {
    await aws?.stop();
  }

  const report = {
    ...resultHeader(startedAt, commit, seed),
    sizes: [{ clients: size, orderLines: exp.summary.orderLines, dynamodb: { first } }],
  };
  log(`results written to ${await writeResultFile(report, 'dynamodb-load', values.out)}`);
  // A run stopped by the time box is still writing to the (now stopped) emulator: end here.
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
