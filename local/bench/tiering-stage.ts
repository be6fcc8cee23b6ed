import { clvSummaries, fitClvModels } from '#shared/clv/profile-clv.ts';
import { parseConfig } from '#shared/config.ts';
import { readExport, type ReadResult } from '#shared/exports/reader.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { silentLog } from '#shared/log.ts';
import type { Tier } from '#shared/model.ts';
import { combinedRead, planShares, readBucket, readPlan, readShares, repartitionShare } from '#shared/nightly/shares.ts';
import { applyNightlyV8Flags } from '#shared/nightly/node-options.ts';
import { plannedConfigOf } from '#shared/nightly/repeat.ts';
import { nightCollector } from '#shared/nightly/run.ts';
import { SINGLE_SHARD, type ShardSpec } from '#shared/nightly/shards.ts';
import { catalogBySku } from '#shared/store/catalog-store.ts';
import { directoryWorkStore } from '#shared/nightly/work-store.ts';
import { runClock, streamProfiles } from '#shared/tiering/profile.ts';

/**
 * The tiering stage alone, in its own process so its peak RSS is its own:
 * `tsx local/bench/tiering-stage.ts <export dir> <run date> [--clv]`. Reads the export from the
 * folder, aggregates, streams every profile as the nightly run does (no AWS), then prints one
 * JSON line. With --clv it then fits the CLV models on the same clients (timed apart; the RSS
 * figure is taken before the fit).
 *
 * One shard of a sharded night, as its Lambdas do it (shared/nightly/shares.ts), with the work
 * objects in a folder instead of S3:
 *   --repartition=R/N --work=DIR   reader R's share of the files read and routed to the N buckets
 *                                  (every reader of the plan, which may have more than N, must run
 *                                  before a shard reads its bucket); prints a RepartitionStageResult
 *   --shard=I/N --work=DIR         bucket I read, aggregated and profiled, as above
 * --threads=N reads the orders files with N worker threads (0: in the main thread) instead of the
 * reader's default, to compare.
 * --floor prints { peakRssBytes } once this script's modules are loaded, before any reading: the
 * memory a process of the stage holds whatever its share of the data.
 */

export interface RepartitionStageResult {
  reader: number;
  /** The plan's readers (N, or more when N could not share the files evenly). */
  readers: number;
  files: number;
  /** Bytes of the reader's files as stored. */
  bytes: number;
  rows: number;
  wallMs: number;
  peakRssBytes: number;
}

export interface TieringStageResult {
  rows: number;
  rejected: number;
  clients: number;
  readMs: number;
  /** CPU time of the read over all the process's threads (the reader's workers included), ms. */
  readCpuMs: number;
  computeMs: number;
  wallMs: number;
  /** Peak resident set size of this process at the end of the tiering stage, bytes. */
  peakRssBytes: number;
  tiers: Record<Tier, number>;
  spend12mMinorTotal: number;
  orderCountTotal: number;
  /** Mean JSON size of a stored profile item (every 100th profile), for the DynamoDB cost estimate. */
  meanProfileItemBytes: number;
  clv?: { buyers: number; repeatBuyers: number; summariesMs: number; fitMs: number; fitted: boolean; skippedReason?: string };
}

const [dir, runDate = '2026-11-23', ...flags] = process.argv.slice(2);
if (flags.includes('--floor')) {
  process.stdout.write(`${JSON.stringify({ peakRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`);
  process.exit(0);
}
if (!dir) {
  console.error('usage: tsx local/bench/tiering-stage.ts <export dir> [run date] [--clv]');
  process.exit(2);
}
// As the nightly Lambda's handler does when it starts.
applyNightlyV8Flags();
const config = parseConfig({});
const clock = runClock(runDate, config.timeZone);
const shardFlag = flags.find((f) => f.startsWith('--shard='))?.slice('--shard='.length);
const shardOfFlag = (flag: string | undefined): ShardSpec => (flag ? { index: Number(flag.split('/')[0]), count: Number(flag.split('/')[1]) } : SINGLE_SHARD);
const shard = shardOfFlag(shardFlag);
const reader = shardOfFlag(flags.find((f) => f.startsWith('--repartition='))?.slice('--repartition='.length));
const workDir = flags.find((f) => f.startsWith('--work='))?.slice('--work='.length);
const threadsFlag = flags.find((f) => f.startsWith('--threads='))?.slice('--threads='.length);
const threads = threadsFlag === undefined ? {} : { threads: Number(threadsFlag) };
const run = { runId: 'bench', runDate, config, log: silentLog };
const started = performance.now();
const source = directoryExportSource(dir);
if (reader.count > 1) {
  if (!workDir) throw new Error('--repartition needs --work=DIR');
  const store = directoryWorkStore(workDir);
  // The same listing gives the same plan: each reader's process may write it.
  const plan = await planShares(store, { runId: run.runId, shards: reader.count, exportRules: config.exports, plannedUnder: plannedConfigOf(config) }, source);
  const share = await repartitionShare({ ...run, ...threads }, store, source, plan, reader.index);
  const result: RepartitionStageResult = {
    reader: reader.index,
    readers: plan.readers,
    files: share.files.length,
    bytes: share.files.reduce((n, f) => n + f.report.bytes, 0),
    rows: share.files.reduce((n, f) => n + f.report.rows, 0),
    wallMs: performance.now() - started,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}
// The nightly's own handlers: the same work per row (the unknown customers' lines noted too).
const { aggregator, handlers, products } = nightCollector(clock.now);
/** Shard I's bucket, as its measure phase reads it. */
async function readShardBucket(): Promise<ReadResult> {
  if (!workDir) throw new Error('--shard needs --work=DIR, filled by --repartition=R/N for every R');
  const store = directoryWorkStore(workDir);
  const plan = await readPlan(store, { runId: run.runId, shards: shard.count });
  const shares = await readShares(store, plan);
  await readBucket(store, plan, shares, shard.index, handlers);
  return combinedRead(plan, shares);
}
const readCpuStart = process.cpuUsage();
const read = shard.count > 1 ? await readShardBucket() : await readExport(source, handlers, { config, now: clock.now, ...threads });
const readDone = performance.now();
const readCpu = process.cpuUsage(readCpuStart);
// Streamed as the nightly run does (RFM measures first, then each profile): never all held at once.
const tiers: Record<Tier, number> = { VIC: 0, Core: 0, Potential: 0, Entry: 0, Prospect: 0 };
let clients = 0;
let spend12mMinorTotal = 0;
let orderCountTotal = 0;
let sampledBytes = 0;
let sampled = 0;
// The night's catalogue: its cycles are in force before a client's own (the stock-ups).
const catalog = catalogBySku(products);
for (const profile of streamProfiles(() => aggregator.clients(), { runDate, config, catalog }, { measureSource: () => aggregator.clientOrders() })) {
  if (clients++ % 100 === 0) {
    // The item as the store writes it: the profile plus its digest and run date (~40 bytes).
    sampledBytes += Buffer.byteLength(JSON.stringify(profile)) + 40;
    sampled += 1;
  }
  tiers[profile.tier] += 1;
  spend12mMinorTotal += profile.spend12mMinor;
  orderCountTotal += profile.orderCount;
}
const computeDone = performance.now();
const result: TieringStageResult = {
  rows: read.rows,
  rejected: read.rejected,
  clients,
  readMs: readDone - started,
  readCpuMs: (readCpu.user + readCpu.system) / 1000,
  computeMs: computeDone - readDone,
  wallMs: computeDone - started,
  peakRssBytes: process.resourceUsage().maxRSS * 1024,
  tiers,
  spend12mMinorTotal,
  orderCountTotal,
  meanProfileItemBytes: sampled === 0 ? 0 : Math.round(sampledBytes / sampled),
};
if (flags.includes('--clv')) {
  const t0 = performance.now();
  const { summaries } = clvSummaries(aggregator.clientOrders(), clock.now, config.clv, config.timeZone);
  const t1 = performance.now();
  const fit = fitClvModels(summaries, clock.now, config.clv);
  const t2 = performance.now();
  result.clv = {
    buyers: summaries.length,
    repeatBuyers: fit.report.repeatBuyers,
    summariesMs: t1 - t0,
    fitMs: t2 - t1,
    fitted: fit.report.fitted,
    ...(fit.report.skippedReason ? { skippedReason: fit.report.skippedReason } : {}),
  };
}
process.stdout.write(`${JSON.stringify(result)}\n`);
