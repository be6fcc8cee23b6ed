import { clvSummaries, fitClvModels } from '#shared/clv/profile-clv.ts';
import { parseConfig } from '#shared/config.ts';
import { readExport } from '#shared/exports/reader.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import type { Tier } from '#shared/model.ts';
import { shardHandlers, shardKeySchemeOf, SINGLE_SHARD, type ShardSpec } from '#shared/nightly/shards.ts';
import { ClientAggregator } from '#shared/tiering/aggregate.ts';
import { runClock, streamProfiles } from '#shared/tiering/profile.ts';

/**
 * The tiering stage alone, in its own process so its peak RSS is its own:
 * `tsx local/bench/tiering-stage.ts <export dir> <run date> [--clv] [--shard=I/N]`. Reads the
 * export from the folder, aggregates (only shard I of N's clients with --shard, as one shard of
 * a sharded nightly run does), streams every profile as the nightly run does (no AWS), then
 * prints one JSON line.
 * With --clv it then fits the CLV models on the same clients (timed apart; the RSS figure is
 * taken before the fit).
 */

export interface TieringStageResult {
  rows: number;
  rejected: number;
  clients: number;
  readMs: number;
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
if (!dir) {
  console.error('usage: tsx local/bench/tiering-stage.ts <export dir> [run date] [--clv]');
  process.exit(2);
}
const config = parseConfig({});
const clock = runClock(runDate, config.timeZone);
const shardFlag = flags.find((f) => f.startsWith('--shard='))?.slice('--shard='.length);
const shard: ShardSpec = shardFlag ? { index: Number(shardFlag.split('/')[0]), count: Number(shardFlag.split('/')[1]) } : SINGLE_SHARD;
const started = performance.now();
const source = directoryExportSource(dir);
const aggregator = new ClientAggregator({ now: clock.now });
const read = await readExport(
  source,
  shardHandlers(
    {
      customer: (record) => aggregator.addCustomer(record),
      order: (line) => aggregator.addOrderLine(line),
      product: () => undefined,
    },
    shard,
    shard.count > 1 ? await shardKeySchemeOf(source) : 'customer-id',
  ),
  { config, now: clock.now },
);
const readDone = performance.now();
// Streamed as the nightly run does (RFM measures first, then each profile): never all held at once.
const tiers: Record<Tier, number> = { VIC: 0, Core: 0, Potential: 0, Entry: 0, Prospect: 0 };
let clients = 0;
let spend12mMinorTotal = 0;
let orderCountTotal = 0;
let sampledBytes = 0;
let sampled = 0;
for (const profile of streamProfiles(() => aggregator.clients(), { runDate, config }, { measureSource: () => aggregator.clientOrders() })) {
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
