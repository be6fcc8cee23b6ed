import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Config } from '#shared/config.ts';
import { jsonLog } from '#shared/log.ts';
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

function logLines() {
  const lines: Record<string, unknown>[] = [];
  return { log: jsonLog({ level: 'warn', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) }), lines };
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

describe('a quarantined second drop that rewrote the merged drop\'s files, then a night', () => {
  it('the merge again of its merged drops is tried (and warned about) once, not every hour', { timeout: 240_000 }, async () => {
    const config = await campaignConfig(aws, 'drops-rewritten');
    const tables = tableNames(config);
    const snapshot = { 'customers.csv': CUSTOMERS_HEADER + customer('q1') + customer('q2'), 'orders.csv': ORDERS_HEADER + orderLine('o-old', 'q1', '2026-11-22T20:00:00+08:00', '100.00') };
    await night(config, '2026-11-22', snapshot);
    await dropIncrement(aws, config, '2026-11-23T0900', { 'customers.csv': 'customer_id,accepts_marketing\nq1,false\n', 'orders.csv': ORDERS_HEADER + orderLine('o-new', 'q1', '2026-11-23T08:50:00+08:00', '50.00') });
    await runCampaignHour(aws, config, local('2026-11-23 09:30', SH), 'dr-0930');
    await sleep(1_500);
    // A second drop rewrites both files in place; the orders file is broken: quarantined.
    const put = (name: string, body: string) => aws.clients.s3.send(new PutObjectCommand({ Bucket: config.storage.exportsBucket, Key: `${incrementalPrefix(config)}/2026-11-23T0900/${name}`, Body: body }));
    await put('customers.csv', 'customer_id,accepts_marketing\nq2,false\n');
    await put('orders.csv', 'this is not,an orders header\n1,2\n');
    const h1110 = await runCampaignHour(aws, config, local('2026-11-23 11:10', SH), 'drops-rewritten110');
    expect(h1110.ingested.quarantined).toHaveLength(1);
    await night(config, '2026-11-22', { ...snapshot, 'customers.csv': CUSTOMERS_HEADER + customer('q1', 'Lina') + customer('q2') });

    const l12 = logLines();
    await runCampaignHour(aws, config, local('2026-11-23 12:00', SH), 'drops-rewritten200', { log: l12.log });
    const m12 = await getRun<IngestMarker>(aws.clients.documents, tables.runs, { job: INGEST_JOB, runDate: '2026-11-23T0900' });
    const l13 = logLines();
    await runCampaignHour(aws, config, local('2026-11-23 13:00', SH), 'drops-rewritten300', { log: l13.log });
    const l14 = logLines();
    await runCampaignHour(aws, config, local('2026-11-23 14:00', SH), 'drops-rewritten400', { log: l14.log });
    const m14 = await getRun<IngestMarker>(aws.clients.documents, tables.runs, { job: INGEST_JOB, runDate: '2026-11-23T0900' });
    const warned = (lines: Record<string, unknown>[]) => lines.filter((l) => String(l['msg'] ?? l['message']).includes('after the night')).length;
    console.log('marker after 12:00', m12, 'after 14:00', m14);
    console.log('q1', await getProfile(aws.clients.documents, tables.profiles, 'q1'));
    expect({ at12: warned(l12.lines), at13: warned(l13.lines), at14: warned(l14.lines) }).toEqual({ at12: 1, at13: 0, at14: 0 });
  });
});

describe('a merged folder merged again after a night while a second drop is landing', () => {
  it('the second drop\'s file, landing after the hour listed the folders, is not merged as the first drop (unchecked by any manifest)', { timeout: 240_000 }, async () => {
    const config = await campaignConfig(aws, 'drops-landing');
    const tables = tableNames(config);
    const F = '2026-11-23T0900';
    const snapshot = { 'customers.csv': CUSTOMERS_HEADER + customer('q1') + customer('q2'), 'orders.csv': ORDERS_HEADER + orderLine('o-old', 'q1', '2026-11-22T20:00:00+08:00', '100.00') };
    await night(config, '2026-11-22', snapshot);
    await dropIncrement(aws, config, F, { 'customers.csv': 'customer_id,accepts_marketing\nq1,false\n', 'orders.csv': ORDERS_HEADER + orderLine('o-new', 'q1', '2026-11-23T08:50:00+08:00', '50.00') });
    await runCampaignHour(aws, config, local('2026-11-23 09:30', SH), 'p82-0930');
    expect(await getProfile(aws.clients.documents, tables.profiles, 'q1')).toMatchObject({ orderCount: 2 });
    // The night rerun undoes the drop.
    await night(config, '2026-11-22', { ...snapshot, 'customers.csv': CUSTOMERS_HEADER + customer('q1', 'Lina') + customer('q2') });
    expect(await getProfile(aws.clients.documents, tables.profiles, 'q1')).toMatchObject({ orderCount: 1 });
    await sleep(1_500);

    // A second drop lands just after the 12:00 hour listed the folders: its orders file is damaged
    // (5000.00 where the producer wrote 50.00); the manifest the producer writes last says so (sha256).
    const put = (name: string, body: string) => aws.clients.s3.send(new PutObjectCommand({ Bucket: config.storage.exportsBucket, Key: `${incrementalPrefix(config)}/${F}/${name}`, Body: body }));
    const good = ORDERS_HEADER + orderLine('o-2', 'q1', '2026-11-23T11:50:00+08:00', '50.00');
    const damaged = ORDERS_HEADER + orderLine('o-2', 'q1', '2026-11-23T11:50:00+08:00', '5000.00');
    const s3 = aws.clients.s3;
    const original = s3.send.bind(s3);
    let armed = true;
    (s3 as unknown as { send: unknown }).send = async (command: unknown, ...rest: unknown[]) => {
      const result = await (original as (c: unknown, ...r: unknown[]) => Promise<unknown>)(command, ...rest);
      if (armed && command instanceof ListObjectsV2Command && command.input.Prefix === `${incrementalPrefix(config)}/`) {
        armed = false;
        await original(new PutObjectCommand({ Bucket: config.storage.exportsBucket, Key: `${incrementalPrefix(config)}/${F}/orders-2.csv`, Body: damaged }));
      }
      return result;
    };
    let h12;
    try {
      h12 = await runCampaignHour(aws, config, local('2026-11-23 12:00', SH), 'p82-1200');
    } finally {
      (s3 as unknown as { send: unknown }).send = original;
    }
    const after12 = await getProfile(aws.clients.documents, tables.profiles, 'q1');
    // The producer's manifest for its drop, written last.
    await put('_manifest.json', JSON.stringify({ mode: 'incremental', files: [{ name: 'orders-2.csv', rows: 1, sha256: createHash('sha256').update(good).digest('hex') }] }));
    const h13 = await runCampaignHour(aws, config, local('2026-11-23 13:00', SH), 'p82-1300');
    const q1 = await getProfile(aws.clients.documents, tables.profiles, 'q1');
    const marker = await getRun<IngestMarker>(aws.clients.documents, tables.runs, { job: INGEST_JOB, runDate: F });
    console.log({ h12: h12?.ingested, after12: [after12?.orderCount, after12?.lifetimeSpendMinor], h13: h13.ingested, marker });
    const at13 = { marker: marker?.status, quarantined13: h13.ingested.quarantined.length, orderCount: q1?.orderCount, spend: q1?.lifetimeSpendMinor, optOut: q1?.acceptsMarketing };
    // The producer fixes its drop in place (the good file): the next hour merges it.
    await sleep(1_500);
    await put('orders-2.csv', good);
    const h14 = await runCampaignHour(aws, config, local('2026-11-23 14:00', SH), 'p82-1400');
    const fixed = await getProfile(aws.clients.documents, tables.profiles, 'q1');
    const marker14 = await getRun<IngestMarker>(aws.clients.documents, tables.runs, { job: INGEST_JOB, runDate: F });
    expect({ at13, at14: { quarantined: h14.ingested.quarantined.length, marker: marker14?.status, orderCount: fixed?.orderCount, spend: fixed?.lifetimeSpendMinor } }).toEqual({
      // o-old and o-new only: the damaged o-2 is in the quarantined drop.
      at13: { marker: 'quarantined', quarantined13: 1, orderCount: 2, spend: 15000, optOut: false },
      // Once fixed: o-2 at the 50.00 the producer wrote, as a clean run would end.
      at14: { quarantined: 0, marker: 'merged', orderCount: 3, spend: 20000 },
    });
  });
});
