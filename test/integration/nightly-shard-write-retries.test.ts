import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { generateExport } from '#local/generate/generate.ts';
import type { AwsClients } from '#shared/aws/clients.ts';
import { listObjects, readObjectBytes } from '#shared/aws/s3-objects.ts';
import type { Config } from '#shared/config.ts';
import { directoryExportSource, type ExportSource } from '#shared/exports/source.ts';
import { combineWorkMeasures, finishFromWork, measureShardToWork, planNight, repartitionToWork, writeShardFromWork } from '#shared/nightly/distributed.ts';
import { nightContext, runNightly, type NightContext } from '#shared/nightly/run.ts';
import { shardsOf, type ShardSpec } from '#shared/nightly/shards.ts';
import { WRITE_LEASE_MS } from '#shared/nightly/write-lease.ts';
import { reportPrefix, reportsBucket } from '#shared/store/buckets.ts';
import { PLAN_PART_ENTRIES } from '#shared/store/night-plans.ts';
import { aroundDocuments, crashingAfter, failingPuts } from '#test/support/crashing-clients.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { comparable, storedState } from '#test/support/nightly-comparison.ts';

/**
 * The write of one shard of a sharded night, run again with the same run id (a Step Functions
 * retry or redrive): after a crash anywhere in it, or while an earlier attempt still runs. Its
 * before-images are never replaced, two attempts never write at once, and the night ends where a
 * clean run ends: profiles, tier history and summary figures.
 */

const aws = sharedAws();
const work = scratchDir('shard-write-retries');
const [D1, D2] = ['2026-11-22', '2026-11-23'];

/** A night up to its writes, phase by phase as the state machine runs them. */
async function nightUpToWrites(config: Config, runId: string, shards: number, source: ExportSource, acceptDrop = false) {
  const context = nightContext({ runDate: D2, runId, config, clients: aws.clients, clock: Date.now, acceptDrop });
  const startedAt = Date.now();
  const { readers } = await planNight(context, shards, source);
  for (const reader of readers) await repartitionToWork(context, { shards, reader }, source);
  for (const shard of shardsOf(shards)) await measureShardToWork(context, shard);
  await combineWorkMeasures(context, { shards, startedAt });
  return { context, startedAt };
}

/** The same attempt's context with other clients, or a clock `aheadMs` later. */
const attempt = (context: NightContext, clients: AwsClients, aheadMs = 0) =>
  nightContext({ runDate: context.runDate, runId: context.runId, config: context.config, clients, clock: () => Date.now() + aheadMs });

/** The before-image objects a run left: name → customer ids. */
async function beforeImages(config: Config, runId: string): Promise<Map<string, string[]>> {
  const bucket = reportsBucket(config);
  const prefix = `${reportPrefix(config, 'nightly', D2)}/attempts/${runId}/`;
  const objects = new Map<string, string[]>();
  for (const { name } of await listObjects(aws.clients.s3, bucket, prefix)) {
    const text = gunzipSync((await readObjectBytes(aws.clients.s3, bucket, prefix + name)) as Uint8Array).toString('utf8');
    objects.set(name, text.trim().split('\n').map((line) => (JSON.parse(line) as { customerId: string }).customerId));
  }
  return objects;
}

/** Two single-run nights on `name`'s own tables: the clean state the attacked sequence must end in. */
async function cleanNights(name: string, d1: string, d2: string) {
  const config = await scenarioConfig(aws, name);
  await runNightly({ clock: Date.now, runDate: D1, runId: `${name}-1`, config, clients: aws.clients, source: directoryExportSource(d1) });
  const summary = await runNightly({ clock: Date.now, runDate: D2, runId: `${name}-2`, config, clients: aws.clients, source: directoryExportSource(d2) });
  return { summary: comparable(summary), state: await storedState(aws, config) };
}

describe('a retried shard write', () => {
  it('after a crash between two before-image parts and another half-way through its writes, adds parts without replacing any and ends where a clean run would', async () => {
    // More changed clients than one part holds.
    const clients = PLAN_PART_ENTRIES + 300;
    const d1 = join(work, 'parts-d1');
    const d2 = join(work, 'parts-d2');
    await generateExport({ customers: clients, seed: 5, asOf: D1, orderParts: 2, malformedRows: 0, linesPerClient: 3 }, d1);
    await generateExport({ customers: clients, seed: 5, asOf: D2, orderParts: 2, malformedRows: 0, linesPerClient: 3 }, d2);
    const clean = await cleanNights('parts-clean', d1, d2);

    const config = await scenarioConfig(aws, 'parts');
    await runNightly({ clock: Date.now, runDate: D1, runId: 'parts-1', config, clients: aws.clients, source: directoryExportSource(d1) });
    const source = directoryExportSource(d2);
    const { context, startedAt } = await nightUpToWrites(config, 'parts-2', 1, source);
    const [shard] = shardsOf(1) as [ShardSpec];
    // 1: dies uploading the second part of its before-images, before any profile is written.
    await expect(writeShardFromWork(attempt(context, failingPuts(aws.clients, 'before-s0-1')), shard)).rejects.toThrow(/crash/);
    expect([...(await beforeImages(config, 'parts-2')).entries()].map(([name, ids]) => [name, ids.length])).toEqual([['before-s0-0.jsonl.gz', PLAN_PART_ENTRIES]]);
    // 2: saves the images still missing as a new part, then dies after 200 DynamoDB writes, its lease held.
    await expect(writeShardFromWork(attempt(context, crashingAfter(aws.clients, 200)), shard)).rejects.toThrow(/crash/);
    const images = await beforeImages(config, 'parts-2');
    expect([...images.entries()].map(([name, ids]) => [name, ids.length])).toEqual([
      ['before-s0-0.jsonl.gz', PLAN_PART_ENTRIES],
      ['before-s0-1.jsonl.gz', 300],
    ]);
    expect(new Set([...images.values()].flat()).size).toBe(clients);
    // 3: refused while the dead attempt's lease lasts, writing nothing; then runs once it has expired.
    await expect(writeShardFromWork(attempt(context, aws.clients), shard)).rejects.toThrow(/shard 0\/1 of run parts-2 is being written by another attempt \(parts-2\/0\/[0-9a-f-]+, attempt 2, since .*\); this one wrote nothing\. .* its lease ends at /);
    await writeShardFromWork(attempt(context, aws.clients, WRITE_LEASE_MS), shard);
    expect((await beforeImages(config, 'parts-2')).size).toBe(2);
    const summary = await finishFromWork(context, { shards: 1, startedAt }, source);

    expect(comparable(summary)).toEqual(clean.summary);
    expect(await storedState(aws, config)).toEqual(clean.state);
  }, 600_000);

  it('while an earlier attempt still writes is refused before it reads anything; the night, and a rerun on a corrected export, end where clean runs would', async () => {
    const d1 = join(work, 'overlap-d1');
    const d2 = join(work, 'overlap-d2');
    const bad = join(work, 'overlap-bad');
    for (const [dir, asOf] of [[d1, D1], [d2, D2], [bad, D2]] as const) await generateExport({ customers: 300, seed: 23, asOf, orderParts: 2, malformedRows: 0 }, dir);
    // A bad export: most of an orders part missing, a client the brand never had.
    await writeFile(join(bad, 'orders-0002.csv'), (await readFile(join(bad, 'orders-0002.csv'), 'utf8')).split('\n').slice(0, 2).join('\n') + '\n');
    await appendFile(join(bad, 'customers.csv'), 'GHOST-1,ghost@example.com,Ghost,Client,,en,Asia/Shanghai,2026-01-01T10:00:00+08:00,true,,\n');
    const clean = await cleanNights('overlap-clean', d1, d2);

    const config = await scenarioConfig(aws, 'overlap');
    await runNightly({ clock: Date.now, runDate: D1, runId: 'overlap-1', config, clients: aws.clients, source: directoryExportSource(d1) });
    const source = directoryExportSource(bad);
    const { context, startedAt } = await nightUpToWrites(config, 'overlap-2', 2, source, true);
    const [shard0, shard1] = shardsOf(2) as [ShardSpec, ShardSpec];

    // Attempt A writes shard 0 and is held at its first batch of profiles.
    let reachedWrites!: () => void;
    const writing = new Promise<void>((resolve) => (reachedWrites = resolve));
    let letGo!: () => void;
    const released = new Promise<void>((resolve) => (letGo = resolve));
    const held = aroundDocuments(aws.clients, async (name, _input, go) => {
      if (name === 'BatchWriteCommand') {
        reachedWrites();
        await released;
      }
      return go();
    });
    const first = writeShardFromWork(attempt(context, held), shard0);
    await writing;
    // Attempt B (a retry while A runs) is refused: it reads no profile and writes nothing.
    const calls: string[] = [];
    const watched = aroundDocuments(aws.clients, (name, input, go) => {
      calls.push(`${name} ${input.TableName?.slice(input.TableName.lastIndexOf('-') + 1) ?? ''}`);
      return go();
    });
    await expect(writeShardFromWork(attempt(context, watched), shard0)).rejects.toThrow(/shard 0\/2 of run overlap-2 is being written by another attempt .*; this one wrote nothing\. Let that attempt finish, then redrive the execution/);
    // It reads the night's standing, tries the lease (refused) and reads who holds it: the runs table only.
    expect(calls.filter((call) => !call.endsWith(' runs'))).toEqual([]);
    expect(calls.filter((call) => call.startsWith('UpdateCommand'))).toEqual(['UpdateCommand runs']);
    letGo();
    const a = await first;
    const images = await beforeImages(config, 'overlap-2');
    expect([...images.keys()]).toEqual(['before-s0-0.jsonl.gz']);
    expect(images.get('before-s0-0.jsonl.gz')).toHaveLength(a.changes.changed);
    // The redrive of B, once A finished: it finds the shard written and writes the same outcome, saving no image.
    const b = await writeShardFromWork(attempt(context, aws.clients), shard0);
    expect(b.changes).toEqual(a.changes);
    expect([...(await beforeImages(config, 'overlap-2')).keys()]).toEqual(['before-s0-0.jsonl.gz']);
    await writeShardFromWork(context, shard1);
    await finishFromWork(context, { shards: 2, startedAt }, source);

    // The night again, on the corrected export: as if the bad one had never run.
    const corrected = await runNightly({ clock: Date.now, runDate: D2, runId: 'overlap-2-corrected', config, clients: aws.clients, source: directoryExportSource(d2) });
    expect(comparable(corrected)).toEqual(clean.summary);
    expect(await storedState(aws, config)).toEqual(clean.state);
  }, 300_000);
});
