import { lambdaWholeVcpus } from '#shared/exports/file-threads.ts';

/**
 * What one nightly run costs in AWS, computed from the benchmark's measured figures and public
 * on-demand prices (us-east-1, x86 Lambda). Written down so the estimate can be checked line by
 * line and recomputed on every bench run; prices change, so they are named and dated here.
 */

export const PRICES = {
  source: 'AWS public on-demand prices, us-east-1, as of November 2026 (DynamoDB after the November 2024 cut)',
  lambdaPerGbSecond: 0.0000166667,
  lambdaPerMillionRequests: 0.2,
  dynamoDbPerMillionWriteUnits: 0.625,
  dynamoDbPerMillionReadUnits: 0.125,
  s3PerThousandGets: 0.0004,
  s3PerThousandLists: 0.005,
  sesPerThousandEmails: 0.1,
  stepFunctionsPerThousandTransitions: 0.025,
} as const;

/** The inputs of the estimate for one base size: everything measured but the assumptions named. */
export interface CostInputs {
  clients: number;
  /** Nightly Lambda memory (infra/constructs/nightly-pipeline.ts). */
  lambdaMemoryGb: number;
  /**
   * Wall time of a typical night (the benchmark's 1% run, which reads, tiers, compares and writes
   * against DynamoDB Local; a 2 GB Lambda has about one vCPU, like one core here).
   */
  runSeconds: number;
  /** Measured: items a typical night writes (profiles + tier history). */
  itemsWrittenPerNight: number;
  /** Measured: mean profile item size in bytes (a write costs one unit per started KB, and the byTier index copies it). */
  meanProfileItemBytes: number;
  /** Export objects read (customers, products, order parts). */
  exportObjects: number;
  /** Assumed: lifecycle emails a day, as a share of the base. */
  emailsPerClientPerDay: number;
}

export interface CostLine {
  item: string;
  quantity: string;
  usd: number;
}

export interface CostEstimate {
  clients: number;
  lines: CostLine[];
  totalUsd: number;
}

const round = (n: number) => Math.round(n * 10_000) / 10_000;

/** Write units of one profile item: one per started KB. */
export function profileWriteUnits(meanProfileItemBytes: number): number {
  return Math.ceil(meanProfileItemBytes / 1024);
}

export function nightlyCost(inputs: CostInputs): CostEstimate {
  const gbSeconds = inputs.lambdaMemoryGb * inputs.runSeconds;
  // Half the items are profiles (~1.9 write units each at ~1.4 KB, written again by the byTier
  // index, which projects every attribute), half tier-history records (1 unit, and 1 for byRunDate).
  const profileUnits = profileWriteUnits(inputs.meanProfileItemBytes) * 2;
  const writeUnits = (inputs.itemsWrittenPerNight / 2) * (profileUnits + 2);
  // The comparison scans every profile once, eventually consistent: half a unit per started 4 KB.
  const readUnits = (inputs.clients * inputs.meanProfileItemBytes) / 4096 / 2;
  const emails = inputs.clients * inputs.emailsPerClientPerDay;
  const lines: CostLine[] = [
    { item: 'Lambda (nightly)', quantity: `${Math.round(gbSeconds).toLocaleString('en-US')} GB-s`, usd: gbSeconds * PRICES.lambdaPerGbSecond },
    {
      item: 'DynamoDB writes',
      quantity: `${Math.round(writeUnits).toLocaleString('en-US')} WRU (${inputs.itemsWrittenPerNight.toLocaleString('en-US')} items)`,
      usd: (writeUnits / 1e6) * PRICES.dynamoDbPerMillionWriteUnits,
    },
    { item: 'DynamoDB reads (stored state scan)', quantity: `${Math.round(readUnits).toLocaleString('en-US')} RRU`, usd: (readUnits / 1e6) * PRICES.dynamoDbPerMillionReadUnits },
    {
      item: 'S3 reads',
      quantity: `${inputs.exportObjects} GETs + 1 LIST (in-region transfer is free)`,
      usd: (inputs.exportObjects / 1000) * PRICES.s3PerThousandGets + PRICES.s3PerThousandLists / 1000,
    },
    { item: 'SES sends (a day)', quantity: `${Math.round(emails).toLocaleString('en-US')} emails`, usd: (emails / 1000) * PRICES.sesPerThousandEmails },
  ];
  for (const line of lines) line.usd = round(line.usd);
  return { clients: inputs.clients, lines, totalUsd: round(lines.reduce((n, l) => n + l.usd, 0)) };
}

/**
 * The DynamoDB on-demand and Lambda limits the plans are checked against, from the AWS
 * documentation as read in December 2026:
 * - DynamoDB on-demand-capacity-mode.html and pre-warming-on-demand-capacity-mode.html: a new
 *   on-demand table (and each of its indexes) takes up to 4,000 write units a second at once, then
 *   up to double its previous peak; throttling is possible above twice the peak within 30
 *   minutes; 40,000 write units a second per table is the default account quota.
 * - warm-throughput-scenarios.html, throttling-key-range-limit-exceeded-mitigation.html,
 *   gsi-throttling.html: one partition takes at most 1,000 write units a second, an index's
 *   partitions follow its own partition key, and a throttled index throttles the table's writes.
 * - Lambda gettingstarted-limits.html (15 minutes per invocation, 10,240 MB) and
 *   configuration-memory.html (1,769 MB is one vCPU).
 */
export const LIMITS = {
  newTableWriteUnitsPerSecond: 4_000,
  tableWriteUnitsPerSecondQuota: 40_000,
  partitionWriteUnitsPerSecond: 1_000,
  lambdaTimeoutSeconds: 900,
} as const;

/** Lambda memory sizes the plan chooses from, MB (each at least one vCPU; two from 3,538 MB, which the reader's threads use). */
export const LAMBDA_MEMORY_CHOICES_MB = [2_048, 3_008, 3_584, 4_096, 6_144, 8_192, 10_240] as const;
/** Share of the Lambda's memory and of its 15 minutes a plan may use: the rest is the margin for a larger night. */
export const PLAN_HEADROOM = 0.7;
const SHARD_CHOICES = [1, 2, 3, 4, 6, 8, 12, 16];

/** The first night: every profile and one tier-history record per client written into empty tables. */
export interface FirstLoadInputs {
  profiles: number;
  historyRecords: number;
  meanProfileItemBytes: number;
  /** Share of the profiles in the largest tier: the byTier index's busiest partition key value. */
  largestTierShare: number;
  /** Write units a second the tables and each index take at once (warm throughput); a new on-demand table's by default. */
  warmWriteUnitsPerSecond?: number;
}

export interface FirstLoadEstimate {
  writeUnits: number;
  usd: number;
  /** Writing time when only the tables' warm throughput limits it (keys spread over many partitions). */
  secondsAtWarmThroughput: number;
  /**
   * Writing time while each index key value is one partition (1,000 write units a second): byTier's
   * largest tier, byRunDate's one run date (every history record of a night has it). DynamoDB splits
   * hot partitions (split for heat), but not at a documented time: the real time lies between the two.
   */
  secondsWithHotIndexKeys: number;
}

export function firstLoadOnDemand(inputs: FirstLoadInputs): FirstLoadEstimate {
  const warm = inputs.warmWriteUnitsPerSecond ?? LIMITS.newTableWriteUnitsPerSecond;
  const partition = LIMITS.partitionWriteUnitsPerSecond;
  // On the table and again on its index (byTier projects every attribute; byRunDate's record is small).
  const profileUnits = inputs.profiles * profileWriteUnits(inputs.meanProfileItemBytes);
  const historyUnits = inputs.historyRecords;
  const writeUnits = 2 * (profileUnits + historyUnits);
  // Profiles are written before the history records (shared/nightly/apply.ts), the table and its index in step.
  const secondsAtWarmThroughput = profileUnits / warm + historyUnits / warm;
  const secondsWithHotIndexKeys = Math.max(profileUnits / warm, (profileUnits * inputs.largestTierShare) / partition) + Math.max(historyUnits / warm, historyUnits / partition);
  return { writeUnits, usd: round((writeUnits / 1e6) * PRICES.dynamoDbPerMillionWriteUnits), secondsAtWarmThroughput, secondsWithHotIndexKeys };
}

/** Measured figures of one base size the shard plan is made from. */
export interface ShardPlanInputs {
  clients: number;
  /** Reading and aggregating the whole export as measured (with the reader's threads on the bench machine's cores), seconds. */
  readSeconds: number;
  /**
   * CPU time of that read over all its threads, seconds (default readSeconds: a read on one
   * core). A single run's read on a Lambda with c whole vCPUs (usableCores: memory / 1,769 MB)
   * takes max(readSeconds, readCpuSeconds / c); a sharded night's readers are counted as on one
   * core, their shares of readCpuSeconds (shared/nightly/shares.ts: with two whole vCPUs they
   * also read in threads, but a share of a single part keeps one of them mostly idle).
   */
  readCpuSeconds?: number;
  /** Profiles, tiers and CLV of every client, seconds (divided among the shards). */
  computeSeconds: number;
  /** Peak RSS of one process holding every client, bytes. */
  peakRssBytes: number;
  /** Peak RSS of one shard of `shardOf` alone, bytes. */
  shardPeakRssBytes: number;
  shardOf: number;
  /** The night's writing time at the tables' throughput, seconds: the shards write at once and share it. */
  writeSeconds: number;
}

export interface ShardPlan {
  shards: number;
  memoryMb: number;
  /** Estimated peak RSS of one shard, MB. */
  peakRssMb: number;
  /** The longest invocation (the single run, or a shard's write phase), seconds. */
  longestInvocationSeconds: number;
  /** Lambda GB-s of the night, every invocation. */
  gbSeconds: number;
}

/**
 * Every shard count and memory size that fits in PLAN_HEADROOM of the Lambda's memory and of its 15
 * minutes, cheapest first. Memory is a fixed part plus a part per client, through the two measured
 * points (one process, one shard of N). A single run reads once; a sharded night runs three phases
 * per shard (shared/nightly/distributed.ts): repartition reads 1/N of the export, then measure and
 * write each read the shard's bucket, taken here to cost as much as reading 1/N of the export
 * (the bench measured less: records, no parsing or checks).
 */
export function shardPlans(inputs: ShardPlanInputs): ShardPlan[] {
  const shardClients = inputs.clients / inputs.shardOf;
  const perClientBytes = Math.max(0, (inputs.peakRssBytes - inputs.shardPeakRssBytes) / (inputs.clients - shardClients));
  const fixedBytes = Math.max(0, inputs.shardPeakRssBytes - perClientBytes * shardClients);
  const readCpuSeconds = Math.max(inputs.readSeconds, inputs.readCpuSeconds ?? inputs.readSeconds);
  const plans: ShardPlan[] = [];
  for (const shards of SHARD_CHOICES) {
    const peakRssMb = (fixedBytes + (perClientBytes * inputs.clients) / shards) / 1024 / 1024;
    let cheapest: ShardPlan | undefined;
    for (const memoryMb of LAMBDA_MEMORY_CHOICES_MB) {
      // The reader's threads use whole vCPUs only, as usableCores counts them.
      const cores = lambdaWholeVcpus(memoryMb);
      // One shard: the single run, its read in threads on the Lambda's cores; more: repartition (as on one core), then measure and write.
      const readShareSeconds = shards === 1 ? Math.max(inputs.readSeconds, readCpuSeconds / cores) : readCpuSeconds / shards;
      const beforeWriteSeconds = shards === 1 ? 0 : readShareSeconds + readShareSeconds + inputs.computeSeconds / shards;
      const writeSeconds = readShareSeconds + inputs.computeSeconds / shards + inputs.writeSeconds;
      if (peakRssMb > memoryMb * PLAN_HEADROOM || writeSeconds > LIMITS.lambdaTimeoutSeconds * PLAN_HEADROOM) continue;
      const gbSeconds = shards * (memoryMb / 1024) * (beforeWriteSeconds + writeSeconds);
      const plan = { shards, memoryMb, peakRssMb: Math.round(peakRssMb), longestInvocationSeconds: Math.round(writeSeconds), gbSeconds: Math.round(gbSeconds) };
      // More memory is more vCPU for a single run's read: the cheapest in GB-s per shard count, the smaller on a tie.
      if (cheapest === undefined || plan.gbSeconds < cheapest.gbSeconds) cheapest = plan;
    }
    if (cheapest !== undefined) plans.push(cheapest);
  }
  return plans.sort((a, b) => a.gbSeconds - b.gbSeconds || a.shards - b.shards);
}

/** The fields of a size's bench figures the estimate reads (bench.ts's results, or readme-table.ts's merged ones). */
export interface BenchSize {
  clients: number;
  tiering?: { readMs: number; readCpuMs?: number; computeMs: number; peakRssBytes: number; meanProfileItemBytes?: number; tiers?: Record<string, number> };
  shard?: { of: number; clients: number; peakRssBytes: number };
  dynamodb?: { first?: { profilesWritten?: number; tierHistoryWritten?: number }; onePercent?: { wallMs: number; itemsWritten: number } } | { skipped: string };
}

export interface CostOptions {
  exportObjects?: number;
  emailsPerClientPerDay?: number;
}

export interface SizeCost extends CostEstimate {
  /** The size the night's run time and items were scaled from (clients), when not measured at this size. */
  scaledFrom?: number;
  plan?: ShardPlan;
  firstLoad: FirstLoadEstimate;
}

const onePercentRun = (size: BenchSize) => (size.dynamodb && 'onePercent' in size.dynamodb ? size.dynamodb.onePercent : undefined);

/**
 * An estimate per size: the Lambda plan (shards, memory) from the tiering figures, a typical night
 * from the 1% run, the first load from the base. What was not measured at a size is scaled linearly
 * by clients from the largest size that has it (the benchmark shows time and items growing linearly).
 */
export function costsOfBench(results: { sizes: readonly BenchSize[] }, options: CostOptions = {}): SizeCost[] {
  const largestWith = <T>(pick: (size: BenchSize) => T | undefined) => {
    const sizes = results.sizes.filter((s) => pick(s) !== undefined);
    return sizes[sizes.length - 1];
  };
  const itemBytes = Math.max(0, ...results.sizes.map((s) => s.tiering?.meanProfileItemBytes ?? 0)) || 1400;
  return results.sizes.flatMap((size) => {
    const nightBase = onePercentRun(size) ? size : largestWith(onePercentRun);
    const tieringBase = size.tiering ? size : largestWith((s) => s.tiering);
    const shardBase = size.shard ? size : largestWith((s) => s.shard);
    const night = nightBase && onePercentRun(nightBase);
    if (!nightBase || !night || !tieringBase?.tiering) return [];
    const nightScale = size.clients / nightBase.clients;
    const tieringScale = size.clients / tieringBase.clients;
    const itemsWrittenPerNight = Math.round(night.itemsWritten * nightScale);
    const tiers = tieringBase.tiering.tiers ?? {};
    const tierTotal = Object.values(tiers).reduce((n, c) => n + c, 0);
    const firstLoad = firstLoadOnDemand({
      profiles: size.clients,
      historyRecords: size.clients,
      meanProfileItemBytes: itemBytes,
      largestTierShare: tierTotal > 0 ? Math.max(...Object.values(tiers)) / tierTotal : 1,
    });
    const shardFigures = shardBase?.shard;
    const plan = shardFigures
      ? shardPlans({
          clients: size.clients,
          readSeconds: (tieringBase.tiering.readMs / 1000) * tieringScale,
          ...(tieringBase.tiering.readCpuMs === undefined ? {} : { readCpuSeconds: (tieringBase.tiering.readCpuMs / 1000) * tieringScale }),
          computeSeconds: (tieringBase.tiering.computeMs / 1000) * tieringScale,
          peakRssBytes: tieringBase.tiering.peakRssBytes * tieringScale,
          shardPeakRssBytes: shardFigures.peakRssBytes * (size.clients / (shardBase?.clients ?? size.clients)),
          shardOf: shardFigures.of,
          // Half the items are profiles, half history records (nightlyCost), at the tables' warm throughput.
          writeSeconds: ((itemsWrittenPerNight / 2) * (profileWriteUnits(itemBytes) + 1)) / LIMITS.newTableWriteUnitsPerSecond,
        })[0]
      : undefined;
    const estimate = nightlyCost({
      clients: size.clients,
      lambdaMemoryGb: (plan?.memoryMb ?? 2_048) / 1024,
      runSeconds: plan ? plan.gbSeconds / (plan.memoryMb / 1024) : (night.wallMs / 1000) * nightScale,
      itemsWrittenPerNight,
      meanProfileItemBytes: itemBytes,
      exportObjects: options.exportObjects ?? 6,
      emailsPerClientPerDay: options.emailsPerClientPerDay ?? 0.02,
    });
    return [{ ...estimate, ...(nightBase === size ? {} : { scaledFrom: nightBase.clients }), ...(plan ? { plan } : {}), firstLoad }];
  });
}

const minutes = (seconds: number) => `${(seconds / 60).toFixed(1)} min`;

export function formatCosts(costs: readonly SizeCost[]): string {
  const lines: string[] = [`Cost of one nightly run in AWS (${PRICES.source}):`];
  for (const cost of costs) {
    lines.push(`  ${cost.clients.toLocaleString('en-US')} clients${cost.scaledFrom ? ` (night's run time and items scaled from ${cost.scaledFrom.toLocaleString('en-US')})` : ''}: USD ${cost.totalUsd.toFixed(4)}`);
    for (const line of cost.lines) lines.push(`    ${line.item.padEnd(36)}${line.quantity.padEnd(50)}USD ${line.usd.toFixed(4)}`);
    if (cost.plan) {
      const { shards, memoryMb, peakRssMb, longestInvocationSeconds } = cost.plan;
      lines.push(`    plan: ${shards} shard${shards > 1 ? 's' : ''} of ${memoryMb} MB (peak ~${peakRssMb} MB each, longest invocation ~${minutes(longestInvocationSeconds)})`);
    } else {
      lines.push(`    plan: none fits in ${PLAN_HEADROOM * 100}% of 15 minutes with these figures (every shard reads the whole export); Lambda above is the run time scaled`);
    }
    const first = cost.firstLoad;
    lines.push(
      `    first load: ${Math.round(first.writeUnits).toLocaleString('en-US')} WRU, USD ${first.usd.toFixed(2)}; writing ${minutes(first.secondsAtWarmThroughput)} at a new table's ` +
        `${LIMITS.newTableWriteUnitsPerSecond.toLocaleString('en-US')} WRU/s, up to ${minutes(first.secondsWithHotIndexKeys)} while the index keys stay one partition each`,
    );
  }
  return lines.join('\n');
}

// `tsx local/bench/cost.ts [results.json]`: the estimate of one results file, or by default of the
// latest figures of each stage in bench-results/ (as the README's table takes them).
if (import.meta.url === `file://${process.argv[1]}`) {
  const { readFile } = await import('node:fs/promises');
  const { latestFigures, mergedSizes, parseBenchReport, readResultFiles } = await import('./readme-table.ts');
  const { RESULTS_DIR } = await import('./results.ts');
  const file = process.argv[2];
  const sizes = file ? parseBenchReport(JSON.parse(await readFile(file, 'utf8')), file).sizes : mergedSizes(latestFigures(await readResultFiles(RESULTS_DIR)));
  console.log(formatCosts(costsOfBench({ sizes })));
}
