import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Config } from '#shared/config.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { INGEST_JOB, type IngestMarker } from '#shared/sender/ingest.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { getRun } from '#shared/store/runs-store.ts';
import { incrementalPrefix } from '#shared/store/buckets.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignConfig, runCampaignHour } from '#test/support/campaign-runs.ts';
import { dropIncrement, uploadExport } from '#test/support/emulator-data.ts';
import { exportDir } from '#test/support/export-files.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { at as local } from '#test/support/time.ts';

/** Folders dropped into more than once, and a night undoing their merge before the next hour (shared/sender/ingest.ts). */
const aws = sharedAws();
const SH = 'Asia/Shanghai';
const ORDERS_HEADER = 'order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,currency,status,refunded_amount\n';
const CUSTOMERS_HEADER = 'customer_id,email,first_name,locale,time_zone,signed_up_at,accepts_marketing\n';
const customer = (id: string, name = 'Lin') => `${id},${id}@example.com,${name},en,Asia/Shanghai,2026-11-22T23:00:00+08:00,true\n`;
const orderLine = (orderId: string, customerId: string, orderedAt: string, total: string) => `${orderId},${customerId},${orderedAt},SKU-1,Bag,leather,1,${total},USD,paid,\n`;
/** S3 stamps a write to the second: drops a second and a half apart are told apart. */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function night(config: Config, runDate: string, files: Record<string, string>) {
  await uploadExport(aws, config, await exportDir(files), runDate);
  return runNightly({ clock: Date.now, runDate, runId: `n-${runDate}-${Math.random().toString(36).slice(2, 8)}`, config, clients: aws.clients });
}

/** A drop into `folder`: its files, then the manifest listing only them (README: "a second drop's manifest lists only the files it writes"). */
async function drop(config: Config, folder: string, files: Record<string, string>): Promise<void> {
  const put = (name: string, body: string) => aws.clients.s3.send(new PutObjectCommand({ Bucket: config.storage.exportsBucket, Key: `${incrementalPrefix(config)}/${folder}/${name}`, Body: body }));
  for (const [name, body] of Object.entries(files)) await put(name, body);
  const listed = Object.entries(files).map(([name, body]) => ({ name, rows: body.trim().split('\n').length - 1, sha256: createHash('sha256').update(body).digest('hex') }));
  await put('_manifest.json', JSON.stringify({ mode: 'incremental', files: listed }));
}

/** Files only (a producer writes its manifest last): the hour may run between. */
async function filesOnly(config: Config, folder: string, files: Record<string, string>): Promise<void> {
  for (const [name, body] of Object.entries(files)) await aws.clients.s3.send(new PutObjectCommand({ Bucket: config.storage.exportsBucket, Key: `${incrementalPrefix(config)}/${folder}/${name}`, Body: body }));
}

describe('a folder dropped twice, each drop with a manifest listing its own files, then a night undoing it', () => {
  it('the next hour puts back the opt-outs and orders of both drops, not held against the second drop\'s manifest (nothing quarantined)', { timeout: 240_000 }, async () => {
    const config = await campaignConfig(aws, 'manifest-drops-a');
    const tables = tableNames(config);
    const snapshot = { 'customers.csv': CUSTOMERS_HEADER + customer('m1') + customer('m2'), 'orders.csv': ORDERS_HEADER + orderLine('o-0', 'm1', '2026-11-22T20:00:00+08:00', '100.00') };
    await night(config, '2026-11-22', snapshot);

    await drop(config, '2026-11-23T0900', { 'customers.csv': 'customer_id,accepts_marketing\nm1,false\n', 'orders.csv': ORDERS_HEADER + orderLine('o-1', 'm1', '2026-11-23T08:50:00+08:00', '50.00') });
    await runCampaignHour(aws, config, local('2026-11-23 09:30', SH), 'manifest-drops-a-0930');
    await sleep(1_500);
    await drop(config, '2026-11-23T0900', { 'customers-2.csv': 'customer_id,accepts_marketing\nm2,false\n' });
    const h1000 = await runCampaignHour(aws, config, local('2026-11-23 10:00', SH), 'manifest-drops-a-1000');
    expect(h1000.ingested.quarantined).toEqual([]);
    expect(await getProfile(aws.clients.documents, tables.profiles, 'm1')).toMatchObject({ acceptsMarketing: false, orderCount: 2 });
    expect(await getProfile(aws.clients.documents, tables.profiles, 'm2')).toMatchObject({ acceptsMarketing: false });

    // The night of 11-22 rerun on a corrected export rewrites both from the snapshot (true).
    await night(config, '2026-11-22', { ...snapshot, 'customers.csv': CUSTOMERS_HEADER + customer('m1', 'Lina') + customer('m2') });
    expect(await getProfile(aws.clients.documents, tables.profiles, 'm1')).toMatchObject({ acceptsMarketing: true, orderCount: 1 });

    const h1100 = await runCampaignHour(aws, config, local('2026-11-23 11:00', SH), 'manifest-drops-a-1100');
    const marker = await getRun<IngestMarker>(aws.clients.documents, tables.runs, { job: INGEST_JOB, runDate: '2026-11-23T0900' });
    const m1 = await getProfile(aws.clients.documents, tables.profiles, 'm1');
    const m2 = await getProfile(aws.clients.documents, tables.profiles, 'm2');
    expect({ quarantined: h1100.ingested.quarantined, marker: marker?.status, m1: [m1?.acceptsMarketing, m1?.orderCount], m2: m2?.acceptsMarketing }).toEqual({
      quarantined: [],
      marker: 'merged',
      m1: [false, 2],
      m2: false,
    });
  });
});

describe('a third drop after a night undid the first two, the hour running before its manifest is written', () => {
  it('the earlier drops are put back that hour, the third once its manifest is there', { timeout: 240_000 }, async () => {
    const config = await campaignConfig(aws, 'manifest-drops-b');
    const tables = tableNames(config);
    const snapshot = { 'customers.csv': CUSTOMERS_HEADER + customer('k1') + customer('k2') + customer('k3'), 'orders.csv': ORDERS_HEADER + orderLine('o-0', 'k1', '2026-11-22T20:00:00+08:00', '100.00') };
    await night(config, '2026-11-22', snapshot);
    await drop(config, '2026-11-23T0900', { 'customers.csv': 'customer_id,accepts_marketing\nk1,false\n', 'orders.csv': ORDERS_HEADER + orderLine('o-1', 'k1', '2026-11-23T08:50:00+08:00', '50.00') });
    await runCampaignHour(aws, config, local('2026-11-23 09:30', SH), 'manifest-drops-b-0930');
    await sleep(1_500);
    await drop(config, '2026-11-23T0900', { 'customers-2.csv': 'customer_id,accepts_marketing\nk2,false\n' });
    await runCampaignHour(aws, config, local('2026-11-23 10:00', SH), 'manifest-drops-b-1000');
    expect(await getProfile(aws.clients.documents, tables.profiles, 'k1')).toMatchObject({ acceptsMarketing: false, orderCount: 2 });
    // The night rerun on a corrected export undoes both drops.
    await night(config, '2026-11-22', { ...snapshot, 'customers.csv': CUSTOMERS_HEADER + customer('k1', 'Lina') + customer('k2') + customer('k3') });
    await sleep(1_500);
    // A third drop: its files are there, its manifest not yet.
    const third = { 'customers-3.csv': 'customer_id,first_name,accepts_marketing\nk3,Kim,false\n', 'orders-3.csv': ORDERS_HEADER + orderLine('o-3', 'k3', '2026-11-23T10:40:00+08:00', '10.00') };
    await filesOnly(config, '2026-11-23T0900', third);
    const h11 = await runCampaignHour(aws, config, local('2026-11-23 11:00', SH), 'manifest-drops-b-1100');
    const consent = async (id: string) => (await getProfile(aws.clients.documents, tables.profiles, id))?.acceptsMarketing;
    const after11 = { remerged: h11.ingested.remerged, k1: await consent('k1'), k2: await consent('k2') };
    // Its manifest lands; the next hour.
    await drop(config, '2026-11-23T0900', third);
    const h12 = await runCampaignHour(aws, config, local('2026-11-23 12:00', SH), 'manifest-drops-b-1200');
    const after12 = { remerged: h12.ingested.remerged, k1: await consent('k1'), k2: await consent('k2'), k3: await consent('k3') };
    expect({ after11, after12 }).toEqual({
      after11: expect.objectContaining({ k1: false, k2: false }),
      after12: expect.objectContaining({ k1: false, k2: false, k3: false }),
    });
  });
});

describe('a merged folder whose second drop was quarantined, then a night undoing the first', () => {
  it('the next hour puts the first drop back (its opt-out and order), the second stays quarantined until its fix, then merges alone', { timeout: 240_000 }, async () => {
    const config = await campaignConfig(aws, 'quarantined-drop-night');
    const tables = tableNames(config);
    const OLD = orderLine('o-old', 'q1', '2026-11-22T20:00:00+08:00', '100.00');
    const snapshot = { 'customers.csv': CUSTOMERS_HEADER + customer('q1') + customer('q2'), 'orders.csv': ORDERS_HEADER + OLD };
    await night(config, '2026-11-22', snapshot);

    // 09:00 the client opts out and orders; the 09:30 hour merges the folder.
    const NEW = orderLine('o-new', 'q1', '2026-11-23T08:50:00+08:00', '50.00');
    await dropIncrement(aws, config, '2026-11-23T0900', { 'customers.csv': 'customer_id,accepts_marketing\nq1,false\n', 'orders.csv': ORDERS_HEADER + NEW });
    const h0930 = await runCampaignHour(aws, config, local('2026-11-23 09:30', SH), 'quarantined-drop-night-0930');
    expect(h0930.ingested.quarantined).toEqual([]);
    expect(await getProfile(aws.clients.documents, tables.profiles, 'q1')).toMatchObject({ acceptsMarketing: false, orderCount: 2 });

    // The producer drops into the same folder again; the new file is broken: quarantined (its marker replaces the merged one).
    await sleep(1_500);
    await aws.clients.s3.send(
      new PutObjectCommand({ Bucket: config.storage.exportsBucket, Key: `${incrementalPrefix(config)}/2026-11-23T0900/customers-2.csv.gz`, Body: gzipSync(Buffer.from(CUSTOMERS_HEADER + customer('q2'))).subarray(0, 20) }),
    );
    const h1110 = await runCampaignHour(aws, config, local('2026-11-23 11:10', SH), 'quarantined-drop-night-1110');
    expect(h1110.ingested.quarantined).toHaveLength(1);
    expect(await getRun<IngestMarker>(aws.clients.documents, tables.runs, { job: INGEST_JOB, runDate: '2026-11-23T0900' })).toMatchObject({ status: 'quarantined' });

    // 11:30 the night of 11-22 is rerun on a corrected export: it rewrites q1 from its snapshot (true, one order).
    await night(config, '2026-11-22', { ...snapshot, 'customers.csv': CUSTOMERS_HEADER + customer('q1', 'Lina') + customer('q2') });
    expect(await getProfile(aws.clients.documents, tables.profiles, 'q1')).toMatchObject({ acceptsMarketing: true, orderCount: 1, firstName: 'Lina' });

    // 12:00: the first drop (merged) must be put back as after any night, as it would be without the quarantined second drop.
    const h1200 = await runCampaignHour(aws, config, local('2026-11-23 12:00', SH), 'quarantined-drop-night-1200');
    const q1 = await getProfile(aws.clients.documents, tables.profiles, 'q1');
    const mailed = await emailsTo(aws, 'q1@example.com');
    expect({ remerged: h1200.ingested.remerged, acceptsMarketing: q1?.acceptsMarketing, orderCount: q1?.orderCount, mailed: mailed.length }).toEqual({
      remerged: [{ folder: '2026-11-23T0900', clients: 1 }],
      acceptsMarketing: false,
      orderCount: 2,
      mailed: 0,
    });
    // No second alert: the second drop stays quarantined, as it was, until it is written again.
    expect(h1200.ingested.quarantined).toEqual([]);
    expect(await getRun<IngestMarker>(aws.clients.documents, tables.runs, { job: INGEST_JOB, runDate: '2026-11-23T0900' })).toMatchObject({ status: 'quarantined' });

    // The producer fixes the second drop in place: the next hour reads it alone and merges it; the first drop's order still counts once.
    await sleep(1_500);
    await aws.clients.s3.send(
      new PutObjectCommand({ Bucket: config.storage.exportsBucket, Key: `${incrementalPrefix(config)}/2026-11-23T0900/customers-2.csv.gz`, Body: gzipSync(Buffer.from('customer_id,accepts_marketing\nq2,false\n')) }),
    );
    await aws.clients.s3.send(new PutObjectCommand({ Bucket: config.storage.exportsBucket, Key: `${incrementalPrefix(config)}/2026-11-23T0900/_manifest.json`, Body: '{"mode":"incremental"}' }));
    const h1300 = await runCampaignHour(aws, config, local('2026-11-23 13:00', SH), 'qdn-1300');
    expect(h1300.ingested.quarantined).toEqual([]);
    expect(await getProfile(aws.clients.documents, tables.profiles, 'q2')).toMatchObject({ acceptsMarketing: false });
    expect(await getProfile(aws.clients.documents, tables.profiles, 'q1')).toMatchObject({ acceptsMarketing: false, orderCount: 2 });
    expect(await getRun<IngestMarker>(aws.clients.documents, tables.runs, { job: INGEST_JOB, runDate: '2026-11-23T0900' })).toMatchObject({ status: 'merged' });
  });
});
