import { describe, expect, it } from 'vitest';
import { firstLoadOnDemand, shardPlans } from '#local/bench/cost.ts';

describe('the first load on DynamoDB on-demand', () => {
  it('counts table and index writes, and times them at the warm throughput and with one partition per index key', () => {
    // 1M profiles of ~1.2 KB (2 units, again on byTier) and 1M history records (1 unit, again on byRunDate).
    const load = firstLoadOnDemand({ profiles: 1_000_000, historyRecords: 1_000_000, meanProfileItemBytes: 1_164, largestTierShare: 0.64 });
    expect(load.writeUnits).toBe(6_000_000);
    expect(load.usd).toBe(3.75);
    // 2M profile units at 4,000/s, then 1M history units at 4,000/s.
    expect(load.secondsAtWarmThroughput).toBe(750);
    // The largest tier's 1.28M index units at 1,000/s, then the one run date's 1M at 1,000/s.
    expect(load.secondsWithHotIndexKeys).toBe(1_280 + 1_000);
  });
});

describe('the Lambda plan', () => {
  // A 1M base as measured: one process 2,719 MB, one shard of 4 713 MB; the export read in 300 s.
  const MB = 1024 * 1024;
  const measured = { clients: 1_000_000, readSeconds: 300, computeSeconds: 68, peakRssBytes: 2_719 * MB, shardPeakRssBytes: 713 * MB, shardOf: 4, writeSeconds: 30 };

  it('chooses the cheapest shard count and memory that fit with headroom', () => {
    const [best, ...others] = shardPlans(measured);
    // One run needs 2.7 GB: 4,096 MB, read once (398 s).
    expect(best).toEqual({ shards: 1, memoryMb: 4_096, peakRssMb: 2_719, longestInvocationSeconds: 398, gbSeconds: 1_592 });
    // Two shards of 2 GB (each ~1.4 GB): each reads half the export, then its bucket twice (150 + 184 + 214 s).
    expect(others[0]).toEqual({ shards: 2, memoryMb: 2_048, peakRssMb: 1_382, longestInvocationSeconds: 214, gbSeconds: 2_192 });
    for (const plan of [best, ...others]) expect(plan?.longestInvocationSeconds).toBeLessThanOrEqual(0.7 * 900);
  });

  it('shards the night when reading the export in one invocation takes most of the 15 minutes: the readers share it', () => {
    const plans = shardPlans({ ...measured, readSeconds: 700 });
    expect(plans.some((plan) => plan.shards === 1)).toBe(false);
    expect(plans[0]).toMatchObject({ shards: 2, memoryMb: 2_048, longestInvocationSeconds: 414 });
  });

  it("reads a single run's export on the Lambda's whole vCPUs: the measured time on two, its CPU time on one", () => {
    // Read in 40 s on the bench's 2 cores, 70 s of CPU over its threads.
    const threaded = { clients: 1_000_000, readSeconds: 40, readCpuSeconds: 70, computeSeconds: 25, peakRssBytes: 900 * MB, shardPeakRssBytes: 300 * MB, shardOf: 4, writeSeconds: 30 };
    // 2,048 MB is one whole vCPU: 70 s of reading on one core, + 25 + 30; still the cheapest in GB-s.
    expect(shardPlans(threaded)[0]).toEqual({ shards: 1, memoryMb: 2_048, peakRssMb: 900, longestInvocationSeconds: 125, gbSeconds: 250 });
    // When one core cannot read it within 70% of 15 minutes, two (3,584 MB) read it as measured.
    const slow = shardPlans({ ...threaded, readSeconds: 300, readCpuSeconds: 600, computeSeconds: 100 }).find((plan) => plan.shards === 1);
    expect(slow).toMatchObject({ memoryMb: 3_584, longestInvocationSeconds: 430 });
  });

  it('finds no plan when writing alone takes most of the 15 minutes (the shards share the tables)', () => {
    expect(shardPlans({ ...measured, writeSeconds: 700 })).toEqual([]);
  });
});
