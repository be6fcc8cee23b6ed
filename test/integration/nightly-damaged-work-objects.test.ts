import { join } from 'node:path';
import { deserialize } from 'node:v8';
import { gzipSync } from 'node:zlib';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateExport } from '#local/generate/generate.ts';
import { listFolders, listObjects, readObjectBytes, writeObject } from '#shared/aws/s3-objects.ts';
import type { Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { combineWorkMeasures, measureShardToWork, planNight, repartitionToWork, workStoreOf, writeShardFromWork } from '#shared/nightly/distributed.ts';
import { nightContext, runNightly, type NightlyRunOptions } from '#shared/nightly/run.ts';
import { shardsOf, type ShardSpec } from '#shared/nightly/shards.ts';
import { reportPrefix, reportsBucket } from '#shared/store/buckets.ts';
import { INCREMENTAL_DIGEST, lastNightOf, scanProfiles, type ProfileItem } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { crashingAfter } from '#test/support/crashing-clients.ts';
import { expireWriteLeases } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { storedState } from '#test/support/nightly-comparison.ts';

/**
 * Work objects and before-images that are not what their phase wrote (cut short, a byte changed,
 * overwritten by something else): the phase that reads one fails, naming the object, before it
 * writes anything; it never reads other figures into the night.
 */

const aws = sharedAws();
const work = scratchDir('damaged-work-objects');
const [D1, D2] = ['2026-11-22', '2026-11-23'];
const SHARDS = 2;

const d1 = join(work, 'd1');
const d2 = join(work, 'd2');
const [shard0, shard1] = shardsOf(SHARDS) as [ShardSpec, ShardSpec];

beforeAll(async () => {
  await generateExport({ customers: 150, seed: 3, asOf: D1, orderParts: 2, malformedRows: 0 }, d1);
  await generateExport({ customers: 150, seed: 3, asOf: D2, orderParts: 2, malformedRows: 0 }, d2);
});

/** A scenario after its first night, and the second night's context and work store. */
async function afterFirstNight(name: string) {
  const config = await scenarioConfig(aws, name);
  await runNightly({ clock: Date.now, runDate: D1, runId: `${name}-1`, config, clients: aws.clients, source: directoryExportSource(d1) });
  const context = nightContext({ runDate: D2, runId: `${name}-2`, config, clients: aws.clients, clock: Date.now });
  return { config, context, store: workStoreOf(context), source: directoryExportSource(d2) };
}

describe('a damaged work object', () => {
  it('a bucket chunk with one byte of an order amount changed fails the measure naming the chunk, though its frames still parse', async () => {
    const { config, context, store, source } = await afterFirstNight('flipped');
    const { readers } = await planNight(context, SHARDS, source);
    for (const reader of readers) await repartitionToWork(context, { shards: SHARDS, reader }, source);
    const bucket = reportsBucket(config);
    const prefix = store.describe('bucket-0/').replace(`s3://${bucket}/`, '');
    const chunks = (await Promise.all(readers.map(async (reader) => (await listObjects(aws.clients.s3, bucket, `${prefix}from-${reader.index}/`)).map((o) => `${prefix}from-${reader.index}/${o.name}`)))).flat();
    const key = chunks.find((name) => name.includes('orders')) as string;
    const bytes = Buffer.from((await readObjectBytes(aws.clients.s3, bucket, key)) as Uint8Array);
    // The first line's lineTotalMinor, as its float64 bytes in the first frame: one bit of it flipped.
    const batch = deserialize(bytes.subarray(4, 4 + bytes.readUInt32LE(0))) as { numbers: Float64Array };
    const amount = Buffer.alloc(8);
    amount.writeDoubleLE(batch.numbers[2] as number);
    const at = bytes.indexOf(amount, 4);
    bytes[at + 6] = (bytes[at + 6] as number) ^ 0x01;
    expect(bytes.readDoubleLE(at)).not.toBe(batch.numbers[2]);
    await writeObject(aws.clients.s3, { bucket, key, body: bytes, contentType: 'application/octet-stream' });

    await expect(measureShardToWork(context, shard0)).rejects.toThrow(`s3://${bucket}/${key}: truncated or not ours (its ${bytes.length} bytes have sha256 `);
  });

  it('each work object cut in half fails the next phase naming it', async () => {
    const { context, store, source } = await afterFirstNight('truncated');
    const before = await storedState(aws, context.config);
    const startedAt = Date.now();
    const { readers } = await planNight(context, SHARDS, source);
    for (const reader of readers) await repartitionToWork(context, { shards: SHARDS, reader }, source);
    for (const shard of shardsOf(SHARDS)) await measureShardToWork(context, shard);
    await combineWorkMeasures(context, { shards: SHARDS, startedAt });
    const cutIn = async (key: string, phase: () => Promise<unknown>) => {
      const whole = (await store.get(key)) as Uint8Array;
      await store.put(key, whole.subarray(0, Math.floor(whole.length / 2)), 'application/octet-stream');
      const failure = await phase().then(
        () => 'succeeded',
        (error: Error) => `${error.name}: ${error.message}`,
      );
      await store.put(key, whole, 'application/octet-stream');
      return failure;
    };
    const named = (key: string) => new RegExp(`^NightlyRunError: ${store.describe(key).replace(/[.]/g, '\\.')}: truncated or not ours \\(.+\\)\\. Start the night again`);
    expect(await cutIn('plan.json', () => measureShardToWork(context, shard0))).toMatch(named('plan.json'));
    expect(await cutIn('shares/share-0.json', () => measureShardToWork(context, shard0))).toMatch(named('shares/share-0.json'));
    expect(await cutIn('measures-1.bin', () => combineWorkMeasures(context, { shards: SHARDS, startedAt }))).toMatch(named('measures-1.bin'));
    expect(await cutIn('figures-1.json', () => combineWorkMeasures(context, { shards: SHARDS, startedAt }))).toMatch(named('figures-1.json'));
    // A reader's order line hashes (before: a bare RangeError naming nothing).
    const hashed: string[] = [];
    for (const reader of readers) if ((await store.get(`shares/line-hashes-${reader.index}.bin`)) !== undefined) hashed.push(`shares/line-hashes-${reader.index}.bin`);
    expect(hashed.length).toBeGreaterThan(0);
    for (const key of hashed) expect(await cutIn(key, () => combineWorkMeasures(context, { shards: SHARDS, startedAt }))).toMatch(named(key));
    expect(await cutIn('models.json', () => writeShardFromWork(context, shard0))).toMatch(named('models.json'));
    // None of them got as far as a write.
    expect(await storedState(aws, context.config)).toEqual(before);
  });

  it('a before-image an earlier attempt saved, cut short or holding a cut line, fails the rerun naming it, before any write', async () => {
    const { config, source } = await afterFirstNight('before-images');
    // Dies at its first profile write (after its write lease, the night's mark, the lease extended
    // before the writes and its due-index floor noted): no write left in flight.
    await expect(runNightly({ clock: Date.now, runDate: D2, runId: 'before-images-a', config, clients: crashingAfter(aws.clients, 4), source })).rejects.toThrow(/crash/);
    // Its lease ends as it would 16 minutes on: the reruns below are not refused for it.
    await expireWriteLeases(aws, config, D2);
    const bucket = reportsBucket(config);
    const prefix = `${reportPrefix(config, 'nightly', D2)}/attempts/before-images-a/`;
    const [object] = await listObjects(aws.clients.s3, bucket, prefix);
    const key = `${prefix}${object?.name ?? ''}`;
    const whole = (await readObjectBytes(aws.clients.s3, bucket, key)) as Uint8Array;
    const left = await storedState(aws, config);
    const rerun = (runId: string) => runNightly({ clock: Date.now, runDate: D2, runId, config, clients: aws.clients, source });

    await writeObject(aws.clients.s3, { bucket, key, body: whole.subarray(0, Math.floor(whole.length / 2)), contentType: 'application/gzip' });
    await expect(rerun('before-images-b')).rejects.toThrow(`s3://${bucket}/${key}: truncated or not ours (not whole gzip: unexpected end of file). It holds what an earlier attempt`);
    await writeObject(aws.clients.s3, { bucket, key, body: gzipSync('{"customerId":"C0000001","before":{"customerId":"C0000001","ti'), contentType: 'application/gzip' });
    await expect(rerun('before-images-c')).rejects.toThrow(`s3://${bucket}/${key}: truncated or not ours (its last line is cut)`);
    expect(await storedState(aws, config)).toEqual(left);
    // Put back whole, the rerun completes.
    await writeObject(aws.clients.s3, { bucket, key, body: whole, contentType: 'application/gzip' });
    await expect(rerun('before-images-d')).resolves.toMatchObject({ status: 'completed' });
  });
});

/**
 * What the bucket's lifecycle rule ExpireRejects does once retention.rejectsDays have passed: the
 * night's before-images (tagged like the rejects) go. The S3 emulator keeps no tags: deleted by prefix.
 */
async function expireBeforeImages(config: Config, runDate: string): Promise<number> {
  const bucket = reportsBucket(config);
  const prefix = `${reportPrefix(config, 'nightly', runDate)}/attempts/`;
  let expired = 0;
  for (const attempt of await listFolders(aws.clients.s3, bucket, prefix)) {
    for (const object of await listObjects(aws.clients.s3, bucket, `${prefix}${attempt}/`)) {
      await aws.clients.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${prefix}${attempt}/${object.name}` }));
      expired++;
    }
  }
  return expired;
}

const refusedForExpiredImages = (runDate: string) => new RegExp(`^${runDate} refused, nothing written: an earlier attempt of this night wrote \\d+ client profile\\(s\\) whose before-images are gone .+retention\\.rejectsDays.+point-in-time recovery`);

describe('before-images expired with the rejects (retention.rejectsDays)', () => {
  it('a night that crashed half-written and is rerun once its before-images expired is refused before any write; with them there, the rerun ends as one clean run', async () => {
    const night = (scenario: { config: Config; source: NightlyRunOptions['source'] }, runId: string, clients = aws.clients) =>
      runNightly({ clock: Date.now, runDate: D2, runId, config: scenario.config, clients, source: scenario.source });
    const clean = await afterFirstNight('expired-clean');
    const counter = { writes: 0 };
    await night(clean, 'expired-clean-2', crashingAfter(aws.clients, Number.POSITIVE_INFINITY, undefined, counter));
    const reference = await storedState(aws, clean.config);
    const crashedHalfWay = async (name: string) => {
      const scenario = await afterFirstNight(name);
      const dying = crashingAfter(aws.clients, Math.floor(counter.writes / 2));
      await expect(night(scenario, `${name}-a`, dying)).rejects.toThrow(/crash/);
      // Its writes in flight when it died land first.
      await dying.settled();
      await expireWriteLeases(aws, scenario.config, D2);
      return scenario;
    };

    const expired = await crashedHalfWay('expired');
    expect(await expireBeforeImages(expired.config, D2)).toBeGreaterThan(0);
    const left = await storedState(aws, expired.config);
    const refusal = await night(expired, 'expired-b').then(
      () => 'completed',
      (error: Error) => `${error.name}: ${error.message}`,
    );
    expect(refusal).toMatch(/^BeforeImageError: /);
    expect(refusal.replace(/^BeforeImageError: /, '')).toMatch(refusedForExpiredImages(D2));
    expect(await storedState(aws, expired.config)).toEqual(left);

    const kept = await crashedHalfWay('expired-kept');
    await expect(night(kept, 'expired-kept-b')).resolves.toMatchObject({ status: 'completed' });
    expect(await storedState(aws, kept.config)).toEqual(reference);
  });

  it('the refusal holds when an hour merged an increment onto profiles the crashed attempt wrote: the merge keeps the night\'s date and state', async () => {
    const scenario = await afterFirstNight('expired-merged');
    const dying = crashingAfter(aws.clients, 6);
    await expect(runNightly({ clock: Date.now, runDate: D2, runId: 'expired-merged-a', config: scenario.config, clients: dying, source: scenario.source })).rejects.toThrow(/crash/);
    await dying.settled();
    await expireWriteLeases(aws, scenario.config, D2);
    const table = tableNames(scenario.config).profiles;
    const written: ProfileItem[] = [];
    for await (const item of scanProfiles(aws.clients.documents, table)) if (item.updatedRunDate === D2 && item.digest !== INCREMENTAL_DIGEST) written.push(item);
    expect(written.length).toBeGreaterThan(0);
    // Each merged as the hour's ingest writes it (shared/sender/ingest.ts): its digest, the night's date kept, that night's state as lastNight.
    for (const item of written) {
      await aws.clients.documents.send(new PutCommand({ TableName: table, Item: { ...item, digest: INCREMENTAL_DIGEST, lastIncrement: '2026-11-24T1000', lastNight: lastNightOf(item) } }));
    }
    expect(await expireBeforeImages(scenario.config, D2)).toBeGreaterThan(0);
    const left = await storedState(aws, scenario.config);
    await expect(runNightly({ clock: Date.now, runDate: D2, runId: 'expired-merged-b', config: scenario.config, clients: aws.clients, source: scenario.source })).rejects.toThrow(refusedForExpiredImages(D2));
    expect(await storedState(aws, scenario.config)).toEqual(left);
  });

  it('in a sharded night each shard answers for its own clients: a shard that wrote and lost its images refuses the night, one that never wrote needs none', async () => {
    const { config, context, source } = await afterFirstNight('expired-shards');
    const phasesUpToCombine = async (runId: string) => {
      const run = nightContext({ runDate: D2, runId, config, clients: aws.clients, clock: Date.now });
      const startedAt = Date.now();
      const { readers } = await planNight(run, SHARDS, source);
      for (const reader of readers) await repartitionToWork(run, { shards: SHARDS, reader }, source);
      for (const shard of shardsOf(SHARDS)) await measureShardToWork(run, shard);
      return { run, combine: () => combineWorkMeasures(run, { shards: SHARDS, startedAt }) };
    };
    const first = await phasesUpToCombine(context.runId);
    await first.combine();
    // Shard 0 writes; the execution stops before shard 1's write and the finish.
    await writeShardFromWork(first.run, shard0);

    // Rerun while the images are there: admitted; shard 1, which wrote nothing, has none and needs none.
    const rerun = await phasesUpToCombine('expired-shards-b');
    await rerun.combine();

    // Once they expired: shard 0's clients were written without one left, and the night is refused before any write.
    expect(await expireBeforeImages(config, D2)).toBeGreaterThan(0);
    const left = await storedState(aws, config);
    const late = await phasesUpToCombine('expired-shards-c');
    await expect(late.combine()).rejects.toThrow(refusedForExpiredImages(D2));
    const writtenWithoutImage = async (shard: ShardSpec) =>
      (JSON.parse(new TextDecoder().decode((await workStoreOf(late.run).get(`figures-${shard.index}.json`)) as Uint8Array)) as { figures: { writtenWithoutImage: number } }).figures.writtenWithoutImage;
    expect(await writtenWithoutImage(shard0)).toBeGreaterThan(0);
    expect(await writtenWithoutImage(shard1)).toBe(0);
    // The run admitted while they were there, its write redriven now: shard 0's is refused, shard 1's writes.
    await expect(writeShardFromWork(rerun.run, shard0)).rejects.toThrow(refusedForExpiredImages(D2));
    expect(await storedState(aws, config)).toEqual(left);
    await expect(writeShardFromWork(rerun.run, shard1)).resolves.toBeDefined();
  });
});
