import { join } from 'node:path';
import { deserialize } from 'node:v8';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateExport } from '#local/generate/generate.ts';
import { listObjects, readObjectBytes, writeObject } from '#shared/aws/s3-objects.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { combineWorkMeasures, measureShardToWork, planNight, repartitionToWork, workStoreOf, writeShardFromWork } from '#shared/nightly/distributed.ts';
import { nightContext, runNightly } from '#shared/nightly/run.ts';
import { shardsOf, type ShardSpec } from '#shared/nightly/shards.ts';
import { reportPrefix, reportsBucket } from '#shared/store/buckets.ts';
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
const [shard0] = shardsOf(SHARDS) as [ShardSpec];

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
    expect(await cutIn('models.json', () => writeShardFromWork(context, shard0))).toMatch(named('models.json'));
    // None of them got as far as a write.
    expect(await storedState(aws, context.config)).toEqual(before);
  });

  it('a before-image an earlier attempt saved, cut short or holding a cut line, fails the rerun naming it, before any write', async () => {
    const { config, source } = await afterFirstNight('before-images');
    // Dies at its first profile write (after its write lease, the night's mark and the lease
    // extended before the writes): no write left in flight.
    await expect(runNightly({ clock: Date.now, runDate: D2, runId: 'before-images-a', config, clients: crashingAfter(aws.clients, 3), source })).rejects.toThrow(/crash/);
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
