import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateExport } from '#local/generate/generate.ts';
import type { AwsClients } from '#shared/aws/clients.ts';
import { readObjectText } from '#shared/aws/s3-objects.ts';
import type { Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { NightRefusedError } from '#shared/nightly/admission.ts';
import { combineWorkMeasures, finishFromWork, measureShardToWork, planNight, repartitionToWork, writeShardFromWork } from '#shared/nightly/distributed.ts';
import { nightContext, runNightly, type NightContext } from '#shared/nightly/run.ts';
import { shardsOf, type ShardSpec } from '#shared/nightly/shards.ts';
import { WRITE_LEASE_JOB } from '#shared/nightly/write-lease.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';
import { reportPrefix, reportsBucket } from '#shared/store/buckets.ts';
import { tableNames } from '#shared/store/tables.ts';
import { crashingAfter } from '#test/support/crashing-clients.ts';
import { expireWriteLeases, scanTable } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { comparable, storedState } from '#test/support/nightly-comparison.ts';

/**
 * Nights run in order, and a run writes its night only while the night is still its own: an old
 * failed execution redriven after the night was rerun, or after later nights completed, and a
 * completed night rerun while the next one is half-written, are refused with an error that names
 * what stands in the way, and write nothing. So is an execution redriven under another configuration
 * than the one its night was planned under.
 */

const aws = sharedAws();
const work = scratchDir('nightly-order');
const [D1, D2, D3] = ['2026-11-22', '2026-11-23', '2026-11-24'] as const;
const shard0: ShardSpec = { index: 0, count: 2 };
const shard1: ShardSpec = { index: 1, count: 2 };

const night = (config: Config, clients: AwsClients, runDate: string, dir: string, runId: string, acceptDrop = false) =>
  runNightly({ runDate, runId, config, clients, clock: Date.now, source: directoryExportSource(dir), acceptDrop });

/** Three dated snapshots of the same clients. */
async function exports(name: string, customers: number, seed: number): Promise<Record<'d1' | 'd2' | 'd3', string>> {
  const dirs = { d1: join(work, name, 'd1'), d2: join(work, name, 'd2'), d3: join(work, name, 'd3') };
  await generateExport({ customers, seed, asOf: D1, orderParts: 2, malformedRows: 0 }, dirs.d1);
  await generateExport({ customers, seed, asOf: D2, orderParts: 2, malformedRows: 0 }, dirs.d2);
  await generateExport({ customers, seed, asOf: D3, orderParts: 2, malformedRows: 0 }, dirs.d3);
  return dirs;
}

/**
 * Everything a refused write could touch: profiles, history, the runs table's items as stored (not
 * the write leases: a refused attempt may take and free its own), and a night's summary object.
 */
async function everything(config: Config, summaryOf: string) {
  return {
    ...(await storedState(aws, config)),
    runs: (await scanTable(aws, tableNames(config).runs)).filter((item) => item.job !== WRITE_LEASE_JOB),
    summary: await readObjectText(aws.clients.s3, reportsBucket(config), `${reportPrefix(config, 'nightly', summaryOf)}/summary.json`),
  };
}

/** The figures of every completed night in the runs table, by date. */
async function nights(config: Config) {
  const rows = await scanTable<NightlyRunSummary>(aws, tableNames(config).runs);
  return rows.filter((row) => row.job === 'nightly').sort((a, b) => a.runDate.localeCompare(b.runDate)).map((row) => ({ runDate: row.runDate, ...comparable(row) }));
}

/** A sharded execution's phases up to the writes (the state machine's prepare, repartition, measure, combine). */
async function upToWrites(context: NightContext, shards: number, dir: string, startedAt: number): Promise<void> {
  const source = directoryExportSource(dir);
  const { readers } = await planNight(context, shards, source);
  for (const reader of readers) await repartitionToWork(context, { shards, reader }, source);
  for (const shard of shardsOf(shards)) await measureShardToWork(context, shard);
  await combineWorkMeasures(context, { shards, startedAt });
}

describe('order of nights', () => {
  it('refuses an old failed execution redriven after its night was rerun and a later night completed: its write and finish write nothing', async () => {
    const dirs = await exports('redrive', 200, 7);
    const clean = await scenarioConfig(aws, 'redrive-clean');
    await night(clean, aws.clients, D1, dirs.d1, 'c1');
    await night(clean, aws.clients, D2, dirs.d2, 'c2');
    await night(clean, aws.clients, D3, dirs.d3, 'c3');

    const config = await scenarioConfig(aws, 'redrive');
    await night(config, aws.clients, D1, dirs.d1, 'a1');
    // Execution e1 of D2, 2 shards: shard 0 writes, shard 1 dies in its write.
    const e1 = nightContext({ runDate: D2, runId: 'e1', config, clients: aws.clients, clock: Date.now });
    const startedAt = Date.now();
    await upToWrites(e1, 2, dirs.d2, startedAt);
    await writeShardFromWork(e1, shard0);
    const dyingClients = crashingAfter(aws.clients, 2);
    const dying = nightContext({ runDate: D2, runId: 'e1', config, clients: dyingClients, clock: Date.now });
    await expect(writeShardFromWork(dying, shard1)).rejects.toThrow(/crash/);
    await dyingClients.settled();

    // Once the dead shard's lease has ended, the operator starts D2 again (run e2), which dies just
    // after marking the night as its own (its lease taken, then the mark): e1, redriven now, would
    // write beside it.
    expect(await expireWriteLeases(aws, config, D2)).toBe(1);
    const e2Clients = crashingAfter(aws.clients, 2);
    await expect(night(config, e2Clients, D2, dirs.d2, 'e2')).rejects.toThrow(/crash/);
    await e2Clients.settled();
    const afterE2Crash = await everything(config, D2);
    const taken = writeShardFromWork(e1, shard1);
    await expect(taken).rejects.toThrow(NightRefusedError);
    await expect(taken).rejects.toThrow(/2026-11-23 refused for run e1 at its write, nothing written: run e2 began writing 2026-11-23 after run e1/);
    expect(await everything(config, D2)).toEqual(afterE2Crash);

    // D2 completed by a new run once e2's lease has ended, then D3: the clean sequence's state.
    expect(await expireWriteLeases(aws, config, D2)).toBe(1);
    await night(config, aws.clients, D2, dirs.d2, 'e3');
    await night(config, aws.clients, D3, dirs.d3, 'a3');
    const completed = await everything(config, D2);
    const cleanState = await storedState(aws, clean);
    expect(await storedState(aws, config)).toEqual(cleanState);

    // Days later e1's failed write is redriven: refused, naming D3; its finish too, for the same reason.
    const write = writeShardFromWork(e1, shard1);
    await expect(write).rejects.toThrow(NightRefusedError);
    await expect(write).rejects.toThrow(/at its write, nothing written: the night of 2026-11-24 was completed after run e1 was admitted to write 2026-11-23/);
    const finish = finishFromWork(e1, { shards: 2, startedAt }, directoryExportSource(dirs.d2));
    await expect(finish).rejects.toThrow(NightRefusedError);
    await expect(finish).rejects.toThrow(/at its finish, nothing written: the night of 2026-11-24 was completed after run e1/);
    expect(await everything(config, D2)).toEqual(completed);
    expect(await nights(config)).toEqual(await nights(clean));
  }, 300_000);

  it('refuses to rerun a completed night while the next one is half-written, naming it; the next night\'s rerun then ends where a clean sequence ends', async () => {
    const dirs = await exports('later-writing', 150, 11);
    // D2 as first exported: one orders part cut short, a client the corrected export does not have.
    const bad = join(work, 'later-writing', 'd2-bad');
    await generateExport({ customers: 150, seed: 11, asOf: D2, orderParts: 2, malformedRows: 0 }, bad);
    const part = join(bad, 'orders-0002.csv');
    await writeFile(part, (await readFile(part, 'utf8')).split('\n').slice(0, 2).join('\n') + '\n');
    await appendFile(join(bad, 'customers.csv'), 'GHOST-1,ghost@example.com,Ghost,Client,,en,Asia/Shanghai,2026-01-01T10:00:00+08:00,true,,\n');

    const clean = await scenarioConfig(aws, 'later-writing-clean');
    await night(clean, aws.clients, D1, dirs.d1, 'c1');
    await night(clean, aws.clients, D2, bad, 'c2-bad', true);
    await night(clean, aws.clients, D3, dirs.d3, 'c3', true);

    const config = await scenarioConfig(aws, 'later-writing');
    await night(config, aws.clients, D1, dirs.d1, 'a1');
    await night(config, aws.clients, D2, bad, 'a2-bad', true);
    // Dies after its write lease, the night's mark, the lease extended, its due-index floor and two profile batches.
    const crashing = crashingAfter(aws.clients, 6);
    await expect(night(config, crashing, D3, dirs.d3, 'a3-crash', true)).rejects.toThrow(/crash/);
    await crashing.settled();
    const halfWritten = await everything(config, D2);

    // Rerun under D3, D2 would change the clients D3's before-images hold as D2 left them.
    const rerun = night(config, aws.clients, D2, dirs.d2, 'a2-good');
    await expect(rerun).rejects.toThrow(NightRefusedError);
    await expect(rerun).rejects.toThrow(/2026-11-23 refused, nothing written: the night of 2026-11-24 is being written or stopped while writing \(run a3-crash, /);
    await expect(rerun).rejects.toThrow(/Finish 2026-11-24 first \(rerun it: clientele run nightly --date 2026-11-24\)/);
    expect(await everything(config, D2)).toEqual(halfWritten);

    expect(await expireWriteLeases(aws, config, D3)).toBe(1);
    await night(config, aws.clients, D3, dirs.d3, 'a3', true);
    expect(await storedState(aws, config)).toEqual(await storedState(aws, clean));
    expect(await nights(config)).toEqual(await nights(clean));
  }, 300_000);

  it('refuses the finish of an execution whose shards all wrote, once another run completed the night: the night stays that run\'s', async () => {
    const dir = join(work, 'finish-late');
    await generateExport({ customers: 120, seed: 3, asOf: D1, orderParts: 2, malformedRows: 0 }, dir);
    const config = await scenarioConfig(aws, 'finish-late');
    const e1 = nightContext({ runDate: D1, runId: 'e1', config, clients: aws.clients, clock: Date.now });
    const startedAt = Date.now();
    await upToWrites(e1, 2, dir, startedAt);
    for (const shard of [shard0, shard1]) await writeShardFromWork(e1, shard);
    // e1's finish timed out; the night was started again and completed by e2.
    await night(config, aws.clients, D1, dir, 'e2');
    const completed = await everything(config, D1);

    const finish = finishFromWork(e1, { shards: 2, startedAt }, directoryExportSource(dir));
    await expect(finish).rejects.toThrow(NightRefusedError);
    await expect(finish).rejects.toThrow(/2026-11-22 refused for run e1 at its finish, nothing written: run e2 completed 2026-11-22 after run e1 began it/);
    expect(await everything(config, D1)).toEqual(completed);
  }, 180_000);

  it('returns the stored summary when an execution\'s finish runs again after it completed, and refuses its writes: nothing is written', async () => {
    const dir = join(work, 'finish-again');
    await generateExport({ customers: 120, seed: 5, asOf: D1, orderParts: 2, malformedRows: 0 }, dir);
    const config = await scenarioConfig(aws, 'finish-again');
    const context = nightContext({ runDate: D1, runId: 'f1', config, clients: aws.clients, clock: Date.now });
    const startedAt = Date.now();
    await upToWrites(context, 2, dir, startedAt);
    for (const shard of shardsOf(2)) await writeShardFromWork(context, shard);
    const summary = await finishFromWork(context, { shards: 2, startedAt }, directoryExportSource(dir));
    const done = await everything(config, D1);

    expect(await finishFromWork(context, { shards: 2, startedAt }, directoryExportSource(dir))).toEqual(summary);
    await expect(writeShardFromWork(context, shard0)).rejects.toThrow(/2026-11-22 refused for run f1 at its write, nothing written: run f1 already completed 2026-11-22: nothing is left to write/);
    expect(await everything(config, D1)).toEqual(done);
  }, 180_000);

  it('refuses every phase of an execution redriven after a configuration deploy, writing nothing; the night started again is judged and written under the new one as a fresh night', async () => {
    const dirs = await exports('config-deploy', 300, 31);
    const configA = await scenarioConfig(aws, 'config-deploy');
    // The deploy between the failure and the redrive: same tables and prefixes, lower thresholds.
    const lowerTiers = { vic: '20000', core: '2000', potential: '400' };
    const configB: Config = { ...configA, tiers: lowerTiers };
    await night(configA, aws.clients, D1, dirs.d1, 'a1');
    // Execution e1 of D2 under A: shard 0 writes, shard 1's write fails.
    const underA = nightContext({ runDate: D2, runId: 'e1', config: configA, clients: aws.clients, clock: Date.now });
    const startedAt = Date.now();
    await upToWrites(underA, 2, dirs.d2, startedAt);
    await writeShardFromWork(underA, shard0);
    const halfWritten = await everything(configA, D2);

    // Redriven under B: each phase refuses, naming what changed, before it writes anything.
    const underB = nightContext({ runDate: D2, runId: 'e1', config: configB, clients: aws.clients, clock: Date.now });
    const refusal = /2026-11-23 \(run e1\): the configuration changed since this night was planned \(tiers\.vic 50000 → 20000, tiers\.core 5000 → 2000, tiers\.potential 1000 → 400\); .* this invocation wrote nothing\. Start the night again/;
    const source = directoryExportSource(dirs.d2);
    const phases = [
      () => repartitionToWork(underB, { shards: 2, reader: { index: 0, count: 2 } }, source),
      () => measureShardToWork(underB, shard1),
      () => combineWorkMeasures(underB, { shards: 2, startedAt }),
      () => writeShardFromWork(underB, shard1),
      () => finishFromWork(underB, { shards: 2, startedAt }, source),
    ];
    for (const phase of phases) await expect(phase()).rejects.toThrow(refusal);
    expect(await everything(configA, D2)).toEqual(halfWritten);

    // Started again under B, the night is judged as a fresh one is: refused, then accepted.
    await expect(night(configB, aws.clients, D2, dirs.d2, 'e2')).rejects.toThrow(
      /2026-11-23 refused, nothing written: \d+ clients would move up a tier.*The rules that place clients changed since 2026-11-22: tiers\.vic 50000 → 20000/s,
    );
    await night(configB, aws.clients, D2, dirs.d2, 'e3', true);
    const clean = await scenarioConfig(aws, 'config-deploy-clean');
    await night(clean, aws.clients, D1, dirs.d1, 'c1');
    await night({ ...clean, tiers: lowerTiers }, aws.clients, D2, dirs.d2, 'c2', true);
    expect(await storedState(aws, configA)).toEqual(await storedState(aws, clean));
    expect(await nights(configA)).toEqual(await nights(clean));
  }, 300_000);
});
