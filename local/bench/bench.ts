import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { ESBUILD_TARGET, EXTERNAL_MODULES, FILE_THREADS_WORKER_ENTRY, MAIN_FIELDS, REQUIRE_BANNER } from '#infra/bundling.ts';
import { PROJECT_ROOT } from '#infra/paths.ts';
import { startLocalAws, type LocalAws } from '#local/aws.ts';
import { FILE_THREADS_WORKER_BUNDLE } from '#shared/exports/file-threads.ts';
import { nightlyNodeOptions } from '#shared/nightly/node-options.ts';
import { benchDynamoDb, benchHourlySender, benchSender, type DynamoDbFigures, type HourlySenderFigures, type SenderFigures } from './aws-stages.ts';
import { runDuckDbReference, type DuckDbResult } from './duckdb-reference.ts';
import { costsOfBench, formatCosts } from './cost.ts';
import { BENCH_AS_OF, benchExport } from './exports.ts';
import { currentCommit, resultHeader, writeResultFile } from './results.ts';
import type { RepartitionStageResult, TieringStageResult } from './tiering-stage.ts';

const HELP = `npm run bench -- [options]

Generates exports (cached in the OS temp folder) and measures, per size: the tiering stage
(read + parse + aggregate + tier, in a child process: wall time, rows/s, peak RSS), the same
aggregation in DuckDB (time ratio, results compared), the CLV fit, DynamoDB writes against
DynamoDB Local (first run, rerun, 1% changed) and the campaign sender's pace against the SES
emulator.

  --sizes A,B,...      clients per export (default 100000,1000000; 0 for none)
  --shard-check N      also run the first shard of N of a sharded night alone, as its Lambdas
                       do: the plan's readers' repartition (N or more, each a child process), then the first
                       shard's bucket read + profiles (default 4; 0 to skip)
  --dynamodb-max N     DynamoDB stage only for sizes <= N (default 100000; 1M items on
                       DynamoDB Local takes very long on 2 cores)
  --emails N           welcome emails for the sender stage (default 300; 0 to skip)
  --hourly-sizes A,B   clients of the hourly sender stage (1% due; one full-scan hour, then one
                       hour through the due index, items read and wall time; default 100000,
                       0 to skip; 100k took ~4 min to load and ~3 min to scan on 2 busy cores)
  --hourly-full-scan-max N  the full-scan hour only for sizes <= N (default 100000); above, the
                       index state is recorded as that hour would leave it and only the hour
                       through the index is run (1M profiles take ~10 min to load)
  --send-rate R        config.sender.maxSendRate for the sender stage (default 50)
  --seed S             generator seed (default 1)
  --json               print the results JSON on stdout instead of the table
  --out FILE           results file (default bench-results/bench-<timestamp>-<commit>.json,
                       with the commit id and whether tracked files had changes)
  --help`;

const here = dirname(fileURLToPath(import.meta.url));
const log = (line: string) => process.stderr.write(`${line}\n`);

interface SizeResult {
  clients: number;
  orderLines: number;
  exportBytes?: number;
  generatedMs?: number;
  tiering: TieringStageResult & { rowsPerSecond: number };
  /** One shard of N of a sharded night, alone (ShardCheck). */
  shard?: ShardCheck;
  duckdb?: DuckDbResult & { ratio: number; equal: boolean; differences: string[] };
  clv?: TieringStageResult['clv'];
  dynamodb?: DynamoDbFigures | { skipped: string };
}

/**
 * What one shard of N costs: reading its share of the export (reader I's repartition) and then its
 * bucket (measure's read + profiles), each a process of its own as each is a Lambda invocation.
 * wallMs is the two steps' sum, peakRssBytes the larger of the two.
 */
interface ShardCheck {
  of: number;
  clients: number;
  wallMs: number;
  peakRssBytes: number;
  repartition: Omit<RepartitionStageResult, 'reader' | 'readers'>;
  /** The plan's readers: N, or more when N readers could not share the files evenly (shares.ts). */
  readers: number;
  /** The slowest reader's repartition: the Distributed Map waits for it before any shard measures. */
  slowestRepartitionMs: number;
  /** A stage process with its modules loaded and nothing read: memory that no share divides. */
  processFloorRssBytes: number;
  bucket: { wallMs: number; readMs: number; computeMs: number; peakRssBytes: number };
}

async function runShardCheck(dir: string, of: number): Promise<ShardCheck> {
  const work = await mkdtemp(join(tmpdir(), 'clientele-bench-shares-'));
  try {
    const readers: RepartitionStageResult[] = [];
    // Reader 0 says how many readers the plan has.
    do readers.push(await runStage<RepartitionStageResult>(dir, [`--repartition=${readers.length}/${of}`, `--work=${work}`]));
    while (readers.length < (readers[0] as RepartitionStageResult).readers);
    const bucket = await runTieringStage(dir, [`--shard=0/${of}`, `--work=${work}`]);
    const floor = await runStage<{ peakRssBytes: number }>(dir, ['--floor']);
    const { reader: _reader, readers: readerCount, ...share } = readers[0] as RepartitionStageResult;
    return {
      of,
      clients: bucket.clients,
      wallMs: share.wallMs + bucket.wallMs,
      peakRssBytes: Math.max(share.peakRssBytes, bucket.peakRssBytes),
      repartition: share,
      readers: readerCount,
      slowestRepartitionMs: Math.max(...readers.map((r) => r.wallMs)),
      processFloorRssBytes: floor.peakRssBytes,
      bucket: { wallMs: bucket.wallMs, readMs: bucket.readMs, computeMs: bucket.computeMs, peakRssBytes: bucket.peakRssBytes },
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * tiering-stage.ts and the reader's worker bundled as a Lambda's code is (infra/bundling.ts), the
 * worker beside the stage where fileThreadsWorkerUrl looks: the bench measures the code as it
 * runs, not TypeScript compiled on the fly by tsx (which holds ~30 MB more per process and per
 * thread). Under node_modules, so that the external AWS SDK resolves as the runtime's would.
 */
const STAGE_BUNDLE_DIR = join(PROJECT_ROOT, 'node_modules', '.cache', 'clientele-bench');
const STAGE_BUNDLE = join(STAGE_BUNDLE_DIR, 'tiering-stage.mjs');

async function bundleTieringStage(): Promise<void> {
  const common = {
    bundle: true,
    platform: 'node' as const,
    format: 'esm' as const,
    target: ESBUILD_TARGET,
    mainFields: MAIN_FIELDS,
    external: EXTERNAL_MODULES,
    banner: { js: REQUIRE_BANNER },
    minify: true,
    sourcemap: true,
    logLevel: 'error' as const,
  };
  await build({ ...common, entryPoints: [join(here, 'tiering-stage.ts')], outfile: STAGE_BUNDLE });
  await build({ ...common, entryPoints: [join(PROJECT_ROOT, ...FILE_THREADS_WORKER_ENTRY)], outfile: join(STAGE_BUNDLE_DIR, FILE_THREADS_WORKER_BUNDLE) });
}

function runTieringStage(dir: string, flags: string[] = ['--clv']): Promise<TieringStageResult> {
  return runStage<TieringStageResult>(dir, flags);
}

/** The bundled tiering-stage.ts in a child process with the nightly's Node options: its last stdout line, as JSON. */
function runStage<Result>(dir: string, flags: string[]): Promise<Result> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...nightlyNodeOptions(), '--enable-source-maps', STAGE_BUNDLE, dir, BENCH_AS_OF, ...flags], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`tiering stage exited with ${code}`));
      try {
        resolvePromise(JSON.parse(last) as Result);
      } catch {
        reject(new Error(`tiering stage printed no result: ${last.slice(0, 200)}`));
      }
    });
  });
}

function compare(ours: TieringStageResult, duck: DuckDbResult): string[] {
  const differences: string[] = [];
  for (const tier of Object.keys(ours.tiers) as (keyof TieringStageResult['tiers'])[]) {
    if (ours.tiers[tier] !== duck.tiers[tier]) differences.push(`${tier}: ours ${ours.tiers[tier]}, DuckDB ${duck.tiers[tier]}`);
  }
  if (ours.clients !== duck.clients) differences.push(`clients: ours ${ours.clients}, DuckDB ${duck.clients}`);
  if (ours.spend12mMinorTotal !== duck.spend12mMinorTotal) differences.push(`12-month spend total: ours ${ours.spend12mMinorTotal}, DuckDB ${duck.spend12mMinorTotal}`);
  if (ours.orderCountTotal !== duck.orderCountTotal) differences.push(`counted orders: ours ${ours.orderCountTotal}, DuckDB ${duck.orderCountTotal}`);
  return differences;
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const sec = (ms: number) => `${fmt(ms / 1000, 1)} s`;
const mb = (bytes: number) => `${fmt(bytes / 1024 / 1024)} MB`;

/** One shard's time and peak RSS as shares of one run's, and in brackets its RSS above the process floor as a share of the run's. */
function shardShares(shard: { wallMs: number; peakRssBytes: number; processFloorRssBytes?: number | undefined }, whole: { wallMs: number; peakRssBytes: number }): string {
  const floor = shard.processFloorRssBytes;
  const aboveFloor = floor === undefined ? '' : ` (${fmt((shard.peakRssBytes - floor) / (whole.peakRssBytes - floor), 2)})`;
  return `${fmt(shard.wallMs / whole.wallMs, 2)} / ${fmt(shard.peakRssBytes / whole.peakRssBytes, 2)}${aboveFloor}`;
}

function table(results: SizeResult[], sender: SenderFigures | undefined, dynamoMax: number): string {
  const lines: string[] = [];
  const row = (label: string, values: string[]) => lines.push(`${label.padEnd(38)}${values.map((v) => v.padStart(20)).join('')}`);
  row('clients', results.map((r) => fmt(r.clients)));
  row('order lines', results.map((r) => fmt(r.orderLines)));
  row('tiering: wall', results.map((r) => sec(r.tiering.wallMs)));
  row('tiering: read+parse+aggregate', results.map((r) => sec(r.tiering.readMs)));
  row('tiering: profiles+tiers', results.map((r) => sec(r.tiering.computeMs)));
  row('tiering: rows/s', results.map((r) => fmt(r.tiering.rowsPerSecond)));
  row('tiering: peak RSS', results.map((r) => mb(r.tiering.peakRssBytes)));
  row('one shard of N: clients', results.map((r) => (r.shard ? `${fmt(r.shard.clients)} of ${r.shard.of}` : '-')));
  row('one shard of N: wall / peak RSS', results.map((r) => (r.shard ? `${sec(r.shard.wallMs)} / ${mb(r.shard.peakRssBytes)}` : '-')));
  row('  its share: repartition', results.map((r) => (r.shard ? `${sec(r.shard.repartition.wallMs)} / ${mb(r.shard.repartition.peakRssBytes)}` : '-')));
  row('  its bucket: read + profiles', results.map((r) => (r.shard ? `${sec(r.shard.bucket.wallMs)} / ${mb(r.shard.bucket.peakRssBytes)}` : '-')));
  row('  slowest reader of R', results.map((r) => (r.shard ? `${sec(r.shard.slowestRepartitionMs)} (R = ${r.shard.readers})` : '-')));
  row('  of one run: time / RSS (above floor)', results.map((r) => (r.shard ? shardShares(r.shard, r.tiering) : '-')));
  row('  process floor (no data read)', results.map((r) => (r.shard ? mb(r.shard.processFloorRssBytes) : '-')));
  row('DuckDB: wall', results.map((r) => (r.duckdb ? sec(r.duckdb.wallMs) : '-')));
  row('ours / DuckDB (target <= 3x)', results.map((r) => (r.duckdb ? `${fmt(r.duckdb.ratio, 1)}x` : '-')));
  row('results equal to DuckDB', results.map((r) => (r.duckdb ? (r.duckdb.equal ? 'yes' : 'NO') : '-')));
  row('CLV: summaries + fit', results.map((r) => (r.clv ? `${sec(r.clv.summariesMs)} + ${sec(r.clv.fitMs)}` : '-')));
  const dyn = (pick: (d: DynamoDbFigures) => string) => results.map((r) => (r.dynamodb && 'first' in r.dynamodb ? pick(r.dynamodb) : 'skipped'));
  row('DynamoDB first run: items', dyn((d) => fmt(d.first.itemsWritten)));
  row('DynamoDB first run: items/s', dyn((d) => fmt(d.first.itemsPerSecond)));
  row('DynamoDB rerun: items (must be 0)', dyn((d) => fmt(d.rerun.itemsWritten)));
  row('DynamoDB 1% run: clients changed', dyn((d) => fmt(d.onePercent.clientsChanged)));
  row('DynamoDB 1% run: items written', dyn((d) => fmt(d.onePercent.itemsWritten)));
  lines.push('');
  if (results.length > 1) {
    const [a, b] = [results[0] as SizeResult, results[results.length - 1] as SizeResult];
    const sizeGrowth = b.tiering.rows / a.tiering.rows;
    lines.push(`growth ${fmt(a.clients)} → ${fmt(b.clients)}: rows x${fmt(sizeGrowth, 1)}, tiering time x${fmt(b.tiering.wallMs / a.tiering.wallMs, 1)}, peak RSS x${fmt(b.tiering.peakRssBytes / a.tiering.peakRssBytes, 1)}`);
  }
  for (const r of results) {
    if (r.duckdb && !r.duckdb.equal) lines.push(`DIFFERENCES at ${fmt(r.clients)}: ${r.duckdb.differences.join('; ')}`);
  }
  if (results.some((r) => r.clients > dynamoMax)) {
    lines.push(`DynamoDB stage skipped above ${fmt(dynamoMax)} clients (--dynamodb-max): 1M items on DynamoDB Local takes very long on 2 cores.`);
  }
  if (sender) {
    lines.push(
      `sender: ${sender.sent}/${sender.profiles} welcome emails at maxSendRate ${sender.maxSendRate}/s: ${fmt(sender.emailsPerSecond, 1)} emails/s, ` +
        `max observed ${sender.maxObservedRate}/s in any 1 s window (${sender.withinRate ? 'within' : 'OVER'} the rate)`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '100000,1000000' },
      'dynamodb-max': { type: 'string', default: '100000' },
      'shard-check': { type: 'string', default: '4' },
      emails: { type: 'string', default: '300' },
      'hourly-sizes': { type: 'string', default: '100000' },
      'hourly-full-scan-max': { type: 'string', default: '100000' },
      'send-rate': { type: 'string', default: '50' },
      seed: { type: 'string', default: '1' },
      json: { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  // 0 alone skips the export sizes (to run the AWS stages only, e.g. the hourly sender at 1M).
  const sizes = values.sizes.split(',').map((s) => Number(s.trim().replaceAll('_', ''))).filter((n) => n !== 0);
  if (sizes.some((n) => !Number.isSafeInteger(n) || n < 100)) throw new Error(`--sizes must be integers >= 100 (or 0 for none), got ${values.sizes}`);
  const dynamoMax = Number(values['dynamodb-max']);
  const shardCheck = Number(values['shard-check']);
  const emails = Number(values.emails);
  const sendRate = Number(values['send-rate']);
  const seed = Number(values.seed);
  const startedAt = new Date();
  // The code measured is the code at the start: a commit made during a long run is not it.
  const commit = currentCommit();

  if (sizes.length > 0) await bundleTieringStage();
  const results: SizeResult[] = [];
  for (const size of sizes) {
    log(`== ${size.toLocaleString('en-US')} clients`);
    const exp = await benchExport(size, seed, log);
    log('  tiering stage (child process) ...');
    const stage = await runTieringStage(exp.dir);
    const { clv, ...tieringOnly } = stage;
    const result: SizeResult = {
      clients: size,
      orderLines: exp.summary.orderLines,
      ...(exp.generatedMs !== undefined ? { generatedMs: exp.generatedMs } : {}),
      tiering: { ...tieringOnly, rowsPerSecond: (stage.rows / stage.wallMs) * 1000 },
      ...(clv ? { clv } : {}),
    };
    log(`  tiering: ${sec(stage.wallMs)}, peak RSS ${mb(stage.peakRssBytes)}`);
    if (shardCheck > 1) {
      log(`  one shard of ${shardCheck}: its plan's readers' repartition, then bucket 0 (child processes) ...`);
      const one = await runShardCheck(exp.dir, shardCheck);
      result.shard = one;
      log(
        `  one shard of ${shardCheck}: ${fmt(one.clients)} clients, ${sec(one.wallMs)} (share ${sec(one.repartition.wallMs)} + bucket ${sec(one.bucket.wallMs)}), ` +
          `peak RSS ${mb(one.peakRssBytes)} (share ${mb(one.repartition.peakRssBytes)}, bucket ${mb(one.bucket.peakRssBytes)}); slowest reader of ${one.readers} ${sec(one.slowestRepartitionMs)}`,
      );
    }
    log('  DuckDB reference ...');
    try {
      const duck = await runDuckDbReference(exp.dir, {
        windowStart: exp.summary.expected.windowStart,
        windowEnd: exp.summary.expected.windowEnd,
        thresholds: exp.summary.expected.thresholdsMinor,
      });
      const differences = compare(stage, duck);
      result.duckdb = { ...duck, ratio: stage.wallMs / duck.wallMs, equal: differences.length === 0, differences };
      log(`  DuckDB: ${sec(duck.wallMs)} (ours ${fmt(result.duckdb.ratio, 1)}x), ${differences.length === 0 ? 'equal' : `DIFFERENT: ${differences.join('; ')}`}`);
    } catch (error) {
      log(`  DuckDB reference failed: ${(error as Error).message}`);
    }
    results.push(result);
  }

  let aws: LocalAws | undefined;
  let sender: SenderFigures | undefined;
  const hourlySender: HourlySenderFigures[] = [];
  const hourlyFullScanMax = Number(values['hourly-full-scan-max']);
  const hourlySizes = values['hourly-sizes'].split(',').map((s) => Number(s.trim().replaceAll('_', ''))).filter((n) => n > 0);
  try {
    log('starting DynamoDB Local (4g heap), s3rver and the SES emulator ...');
    aws = await startLocalAws({ services: ['dynamodb', 's3', 'ses'], dynamoDbHeap: '4g' });
    for (const result of results) {
      if (result.clients > dynamoMax) {
        result.dynamodb = { skipped: `above --dynamodb-max ${dynamoMax}: 1M items on DynamoDB Local takes very long on 2 cores` };
        continue;
      }
      log(`== DynamoDB writes, ${result.clients.toLocaleString('en-US')} clients`);
      const exp = await benchExport(result.clients, seed, () => undefined);
      result.dynamodb = await benchDynamoDb(aws, result.clients, exp.dir, BENCH_AS_OF, log);
    }
    if (emails > 0) {
      log(`== campaign sender: ${emails} welcome emails at ${sendRate}/s`);
      sender = await benchSender(aws, emails, sendRate);
    }
    for (const size of hourlySizes) {
      log(`== hourly sender: ${size.toLocaleString('en-US')} clients, 1% due`);
      hourlySender.push(await benchHourlySender(aws, size, log, { fullScan: size <= hourlyFullScanMax }));
    }
  } finally {
    await aws?.stop();
  }

  const report = {
    ...resultHeader(startedAt, commit, seed),
    sizes: results,
    sender,
    hourlySender,
    cost: costsOfBench({ sizes: results }),
  };
  const out = await writeResultFile(report, 'bench', values.out);
  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    console.log(`clientele bench, ${report.date}, ${report.machine.cpus} CPUs (${report.machine.cpuModel}), Node ${report.machine.node}\n`);
    console.log(table(results, sender, dynamoMax));
    for (const h of hourlySender) {
      console.log(
        `hourly sender, ${fmt(h.clients)} clients, ${fmt(h.due)} due${h.inOpenWindows === undefined ? '' : `, ${fmt(h.inOpenWindows)} in open windows with nothing to do`}: ` +
          (h.fullScan ? `full scan ${fmt(h.fullScan.itemsRead)} items read in ${sec(h.fullScan.wallMs)}; ` : 'no full-scan hour (above --hourly-full-scan-max); ') +
          `through the due index ${fmt(h.indexed.itemsRead)} items read (${fmt(h.readShare * 100, 2)}% of the base) in ${sec(h.indexed.wallMs)}`,
      );
    }
    console.log(`\n${formatCosts(report.cost)}`);
    console.log(`\nresults written to ${out}`);
  }
  log(`results written to ${out}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
