import { gzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '#shared/config.ts';
import { ExportError, readExport } from '#shared/exports/reader.ts';
import { listFolderObjects } from '#shared/aws/s3-objects.ts';
import { s3ExportSource } from '#shared/exports/source.ts';
import { exportPrefix } from '#shared/store/buckets.ts';
import { collector, TEST_NOW } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';

/** s3ExportSource against s3rver (started by local/aws.ts), the same code path as in AWS. */

const aws = sharedAws();
let config: Config;
let bucket: string;
/** This file's dated export folder in the shared bucket. */
const folder = (runDate: string) => exportPrefix(config, runDate);

beforeAll(async () => {
  config = await scenarioConfig(aws, 'exports', { maxRejectShare: 1 });
  bucket = config.storage.exportsBucket;
});

async function put(key: string, body: string | Buffer): Promise<void> {
  await aws.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

const customers = (n: number) => `customer_id,email\n${Array.from({ length: n }, (_, i) => `C${i},c${i}@example.com`).join('\n')}\n`;
const orders = (ids: string[]) => `order_id,customer_id,ordered_at,line_total\n${ids.map((id) => `${id},C0,2026-11-22T10:00:00Z,9.99`).join('\n')}\n`;

describe('s3ExportSource', () => {
  it('lists only the objects directly under the prefix, and streams them', async () => {
    const prefix = folder('2026-11-23');
    const big = gzipSync(customers(20_000));
    await put(`${prefix}/customers.csv.gz`, big);
    await put(`${prefix}/orders-0001.csv`, orders(['O1']));
    await put(`${prefix}/orders-0002.csv.gz`, gzipSync(orders(['O2', 'O3'])));
    await put(`${prefix}/_manifest.json`, '{"mode":"full"}');
    await put(`${prefix}/archive/orders-0001.csv`, orders(['OLD']));
    await put(`${folder('2026-11-22')}/orders.csv`, orders(['YESTERDAY']));

    const source = s3ExportSource(aws.clients.s3, bucket, `${prefix}/`);
    expect(source.describe()).toBe(`s3://${bucket}/${prefix}/`);
    expect(source.location('orders-0001.csv')).toBe(`s3://${bucket}/${prefix}/orders-0001.csv`);
    const listed = await source.list();
    expect(listed.map((o) => o.key).sort()).toEqual(['_manifest.json', 'customers.csv.gz', 'orders-0001.csv', 'orders-0002.csv.gz']);
    expect(listed.find((o) => o.key === 'customers.csv.gz')?.size).toBe(big.length);

    const collected = collector();
    let bytes = 0;
    const result = await readExport(source, collected.handlers, { config, now: TEST_NOW, onProgress: (n) => (bytes = n) });
    expect(collected.customers).toHaveLength(20_000);
    expect(collected.orders.map((o) => o.orderId)).toEqual(['O1', 'O2', 'O3']);
    expect(result.files.map((f) => f.location)).toEqual([
      `s3://${bucket}/${prefix}/customers.csv.gz`,
      `s3://${bucket}/${prefix}/orders-0001.csv`,
      `s3://${bucket}/${prefix}/orders-0002.csv.gz`,
    ]);
    expect(result).toMatchObject({ rows: 20_003, rejected: 0, mode: 'full' });
    expect(bytes).toBe(listed.filter((o) => o.key !== '_manifest.json').reduce((sum, o) => sum + (o.size ?? 0), 0));
  });

  it('follows ListObjectsV2 pagination', async () => {
    // s3rver cannot paginate on Node 17+: its continuation tokens use DES, which OpenSSL 3 only
    // has in the legacy provider ("InternalError"). So the paging is checked against a stand-in
    // that answers ListObjectsV2 like S3 does, and the bodies come from s3rver.
    const prefix = folder('2026-11-24');
    const parts = Array.from({ length: 7 }, (_, i) => `orders-${String(i + 1).padStart(4, '0')}.csv`);
    await put(`${prefix}/customers.csv`, customers(1));
    for (const [i, part] of parts.entries()) await put(`${prefix}/${part}`, orders([`O${i + 1}`]));
    const keys = [`${prefix}/customers.csv`, ...parts.map((p) => `${prefix}/${p}`), `${prefix}/sub/orders.csv`].sort();
    const requests: (string | undefined)[] = [];
    const paging = {
      send(command: unknown) {
        if (!(command instanceof ListObjectsV2Command)) return aws.clients.s3.send(command as GetObjectCommand);
        const { Prefix = '', MaxKeys = 1000, ContinuationToken } = command.input;
        requests.push(ContinuationToken);
        const start = ContinuationToken === undefined ? 0 : Number(ContinuationToken);
        const page = keys.slice(start, start + MaxKeys);
        const next = start + page.length;
        return Promise.resolve({
          Contents: page.filter((k) => !k.slice(Prefix.length).includes('/')).map((Key) => ({ Key, Size: 1 })),
          CommonPrefixes: page.some((k) => k.slice(Prefix.length).includes('/')) ? [{ Prefix: `${Prefix}sub/` }] : [],
          IsTruncated: next < keys.length,
          NextContinuationToken: next < keys.length ? String(next) : undefined,
        });
      },
    };
    // A stand-in for the few calls s3ExportSource makes; the cast is the price of not mocking the whole client.
    const source = s3ExportSource(paging as unknown as S3Client, bucket, prefix, { pageSize: 3 });
    expect((await source.list()).map((o) => o.key).sort()).toEqual(['customers.csv', ...parts]);
    expect(requests).toEqual([undefined, '3', '6']);
    const collected = collector();
    await readExport(source, collected.handlers, { config, now: TEST_NOW });
    expect(collected.orders.map((o) => o.orderId)).toEqual(['O1', 'O2', 'O3', 'O4', 'O5', 'O6', 'O7']);
  });

  it('names the S3 object in errors', async () => {
    const prefix = folder('2026-11-25');
    await put(`${prefix}/customers.csv`, customers(1));
    await put(`${prefix}/orders.csv.gz`, Buffer.from([0x1f, 0x8b, 0x00, 0x01, 0x02]));
    const error = await readExport(s3ExportSource(aws.clients.s3, bucket, prefix), collector().handlers, { config, now: TEST_NOW }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ExportError);
    expect((error as ExportError).file).toBe(`s3://${bucket}/${prefix}/orders.csv.gz`);
    expect((error as ExportError).message).toContain(`s3://${bucket}/${prefix}/orders.csv.gz: is not a valid gzip file`);
  });

  it('fails on an empty prefix', async () => {
    const error = await readExport(s3ExportSource(aws.clients.s3, bucket, folder('1999-01-01')), collector().handlers, {
      config,
      now: TEST_NOW,
    }).catch((e: unknown) => e);
    expect((error as ExportError).message).toContain(`s3://${bucket}/${folder('1999-01-01')}/: no customers or orders file found`);
  });
  it('reads orders parts in worker threads from S3 as it reads them here: same lines, reports, progress, rejects', async () => {
    const prefix = folder('2026-11-21');
    const part = (from: number) => orders(Array.from({ length: 3_000 }, (_, i) => `O${from + i}`)) + `X${from},C0,not a date,1.00\n`;
    await put(`${prefix}/customers.csv`, customers(10));
    await put(`${prefix}/orders-0001.csv`, part(0));
    await put(`${prefix}/orders-0002.csv.gz`, gzipSync(part(10_000)));
    await put(`${prefix}/orders-0003.csv`, part(20_000));
    const source = s3ExportSource(aws.clients.s3, bucket, `${prefix}/`);
    const readWith = async (threads: number) => {
      const collected = collector();
      let bytes = 0;
      const result = await readExport(source, collected.handlers, { config, now: TEST_NOW, threads, onProgress: (n) => (bytes = n) });
      return { orders: collected.orders.map((o) => o.orderId).sort(), result, bytes };
    };
    const here = await readWith(0);
    const inThreads = await readWith(2);
    expect(inThreads).toEqual(here);
    expect(inThreads.orders).toHaveLength(9_000);
    expect(inThreads.result.rejects.map((r) => r.line)).toEqual([3_002, 3_002, 3_002]);
  });

  it("lists each folder's objects with their ETag and write (listFolderObjects), the source the same: what an hour records of an incremental folder", async () => {
    const base = `${folder('listing')}/incremental/`;
    await put(`${base}2026-12-06T0930/orders.csv`, orders(['O1']));
    await put(`${base}2026-12-06T0930/sub/orders.csv`, orders(['O2']));
    await put(`${base}2026-12-06T1030/customers.csv`, customers(1));
    const listed = await listFolderObjects(aws.clients.s3, bucket, base);
    expect([...listed.keys()].sort()).toEqual(['2026-12-06T0930', '2026-12-06T1030']);
    const first = listed.get('2026-12-06T0930');
    // Only the objects directly in the folder are listed; its newest write counts the sub-folder's too.
    expect(first?.objects.map((object) => object.name)).toEqual(['orders.csv']);
    expect(first?.objects[0]).toMatchObject({ etag: expect.stringMatching(/^".+"$/), lastModified: expect.any(Number), size: expect.any(Number) });
    expect(first?.lastWrite).toBeGreaterThanOrEqual(first?.objects[0]?.lastModified ?? Number.POSITIVE_INFINITY);
    const [object] = await s3ExportSource(aws.clients.s3, bucket, `${base}2026-12-06T0930`).list();
    expect(object).toEqual({ key: 'orders.csv', etag: first?.objects[0]?.etag, lastModified: first?.objects[0]?.lastModified, size: first?.objects[0]?.size });
  });
});
