import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Config } from '#shared/config.ts';
import { jsonLog } from '#shared/log.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { INGEST_JOB, type IngestMarker } from '#shared/sender/ingest.ts';
import { ledgerEntriesOf } from '#shared/store/ledger-store.ts';
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

/**
 * The orders of the incremental exports between two nights, on the embedded AWS: each counts once
 * (an order the last night counted, or an earlier increment, adds nothing); an order for a customer
 * nobody knows is a reject, as in the nightly run; and what an increment stamped after a night's
 * clock merged before that night wrote is back on the profile by the next hour, so no win-back goes
 * to a client who has just ordered.
 */

const aws = sharedAws();
const SH = 'Asia/Shanghai';
const ORDERS_HEADER = 'order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,currency,status,refunded_amount\n';
const CUSTOMERS_HEADER = 'customer_id,email,first_name,locale,time_zone,signed_up_at,accepts_marketing\n';
const customer = (id: string) => `${id},${id}@example.com,Lin,en,Asia/Shanghai,2026-01-01T10:00:00+08:00,true\n`;
const orderLine = (orderId: string, customerId: string, orderedAt: string, total: string, sku = 'SKU-1') => `${orderId},${customerId},${orderedAt},${sku},Bag,leather,1,${total},USD,paid,\n`;

async function night(config: Config, runDate: string, files: Record<string, string>) {
  await uploadExport(aws, config, await exportDir(files), runDate);
  return runNightly({ clock: Date.now, runDate, runId: `n-${runDate}-${Math.random().toString(36).slice(2, 8)}`, config, clients: aws.clients });
}

const profileOf = (config: Config, customerId: string) => getProfile(aws.clients.documents, tableNames(config).profiles, customerId);

describe('an order merged after midnight, then the night of the day before', () => {
  it('is back on the profile the hour after the night, counted once, through reruns of the night; the win-back does not go', { timeout: 180_000 }, async () => {
    const config = await campaignConfig(aws, 'inc-after-night');
    const tables = tableNames(config);
    const OLD = orderLine('o-old', 'wb1', '2026-09-25T12:00:00+08:00', '200.00');
    const NEW = orderLine('o-new', 'wb1', '2026-11-24T00:30:00+08:00', '80.00', 'SKU-2');
    // Night 11-22: last order on 09-25, win-back due in the days after.
    await night(config, '2026-11-22', { 'customers.csv': CUSTOMERS_HEADER + customer('wb1'), 'orders.csv': ORDERS_HEADER + OLD });

    // 00:30 on 11-24 the client orders; the 01:00 hour merges the increment.
    await dropIncrement(aws, config, '2026-11-24T0030', { 'orders.csv': ORDERS_HEADER + NEW });
    const h0100 = await runCampaignHour(aws, config, local('2026-11-24 01:00', SH), 's-0100');
    expect(h0100.ingested).toMatchObject({ updatedClients: 1, rejected: 0, remerged: [] });
    const merged = { orderCount: 2, lifetimeSpendMinor: 28_000, lastOrderAt: '2026-11-23T16:30:00.000Z' };
    expect(await profileOf(config, 'wb1')).toMatchObject({ ...merged, incrementOrderIds: ['o-new'], lastIncrement: '2026-11-24T0030+0800' });

    // 02:00 the night of 11-23 (its clock: 11-24 00:00) rewrites the client from its snapshot, which holds both orders.
    const snapshot = { 'customers.csv': CUSTOMERS_HEADER + customer('wb1'), 'orders.csv': ORDERS_HEADER + OLD + NEW };
    await night(config, '2026-11-23', snapshot);
    const afterNight = await profileOf(config, 'wb1');
    expect(afterNight).toMatchObject({ orderCount: 1, lastOrderAt: '2026-09-25T04:00:00.000Z' });
    expect(afterNight?.incrementOrderIds).toBeUndefined();
    expect(afterNight?.lastIncrement).toBeUndefined();

    // 03:00 the increment's order is put back, once; nothing is sent at 10:00.
    const h0300 = await runCampaignHour(aws, config, local('2026-11-24 03:00', SH), 's-0300');
    expect(h0300.ingested).toMatchObject({ exports: [], updatedClients: 0, remerged: [{ folder: '2026-11-24T0030', clients: 1 }] });
    expect(await profileOf(config, 'wb1')).toMatchObject({ ...merged, incrementOrderIds: ['o-new'], lastIncrement: '2026-11-24T0030+0800' });
    const h1000 = await runCampaignHour(aws, config, local('2026-11-24 10:00', SH), 's-1000');
    expect(h1000.ingested.remerged).toEqual([]);
    expect(h1000.clientsDue).toBe(0);
    expect(await ledgerEntriesOf(aws.clients.documents, tables.sendLedger, 'wb1')).toEqual([]);
    expect(await emailsTo(aws, 'wb1@example.com')).toEqual([]);

    // A rerun of the completed night on the same export writes nothing, and undoes nothing.
    const rerun = await runNightly({ clock: Date.now, runDate: '2026-11-23', runId: 'n-1123-rerun', config, clients: aws.clients });
    expect(rerun.rerun).toBeDefined();
    expect(await profileOf(config, 'wb1')).toMatchObject(merged);
    expect((await runCampaignHour(aws, config, local('2026-11-24 11:00', SH), 's-1100')).ingested.remerged).toEqual([]);

    // A rerun on a corrected export replaces the night and rewrites the client: the next hour puts the order back again, still once.
    await night(config, '2026-11-23', { ...snapshot, 'customers.csv': CUSTOMERS_HEADER + customer('wb1').replace(',Lin,', ',Lina,') });
    expect(await profileOf(config, 'wb1')).toMatchObject({ orderCount: 1, firstName: 'Lina' });
    const h1200 = await runCampaignHour(aws, config, local('2026-11-24 12:00', SH), 's-1200');
    expect(h1200.ingested.remerged).toEqual([{ folder: '2026-11-24T0030', clients: 1 }]);
    expect(await profileOf(config, 'wb1')).toMatchObject({ ...merged, firstName: 'Lina' });
    expect(await getRun<IngestMarker>(aws.clients.documents, tables.runs, { job: INGEST_JOB, runDate: '2026-11-24T0030' })).toMatchObject({
      status: 'merged',
      runId: 's-0100',
      remergedBy: 's-1200',
    });

    // The night of 11-24 counts the order itself; its increment is older than that night's clock: never merged again.
    await night(config, '2026-11-24', snapshot);
    const nextNight = await profileOf(config, 'wb1');
    expect(nextNight).toMatchObject(merged);
    expect(nextNight?.incrementOrderIds).toBeUndefined();
    const h0325 = await runCampaignHour(aws, config, local('2026-11-25 03:00', SH), 's-1125-0300');
    expect(h0325.ingested.remerged).toEqual([]);
    expect(await profileOf(config, 'wb1')).toMatchObject(merged);
  });
});

describe('an increment repeating an order', () => {
  it('does not count it again: one the last night counted, or one an earlier increment counted', { timeout: 180_000 }, async () => {
    const config = await campaignConfig(aws, 'inc-repeat');
    // 126 days before 11-23: past the recall's 120-day step; rc2 is the control, never re-sent.
    const OLD = orderLine('o-old', 'rc1', '2026-07-20T12:00:00+08:00', '200.00');
    const CONTROL = orderLine('o-ctl', 'rc2', '2026-07-20T12:00:00+08:00', '200.00');
    const TODAY = orderLine('o-today', 'rc3', '2026-11-23T08:40:00+08:00', '150.00');
    await night(config, '2026-11-22', {
      'customers.csv': CUSTOMERS_HEADER + customer('rc1') + customer('rc2') + customer('rc3'),
      'orders.csv': ORDERS_HEADER + OLD + CONTROL + orderLine('o-rc3', 'rc3', '2026-10-01T12:00:00+08:00', '100.00'),
    });

    // The platform sends the old order again in two increments (updated today), and today's order of rc3 twice.
    await dropIncrement(aws, config, '2026-11-23T0900', { 'orders.csv': ORDERS_HEADER + OLD + TODAY });
    await dropIncrement(aws, config, '2026-11-23T0915', { 'orders.csv': ORDERS_HEADER + OLD + TODAY });
    const hour = await runCampaignHour(aws, config, local('2026-11-23 10:00', SH), 's-1000');
    expect(hour.ingested).toMatchObject({ exports: [expect.stringContaining('T0900'), expect.stringContaining('T0915')], rows: 4, rejected: 0 });

    expect(await profileOf(config, 'rc1')).toMatchObject({ orderCount: 1, spend12mMinor: 20_000, lifetimeSpendMinor: 20_000 });
    expect((await profileOf(config, 'rc1'))?.incrementOrderIds).toBeUndefined();
    expect(await profileOf(config, 'rc3')).toMatchObject({ orderCount: 2, lifetimeSpendMinor: 25_000, incrementOrderIds: ['o-today'] });
    // The recall offer follows the count: the same as the control client's.
    const offer = async (address: string) => (await emailsTo(aws, address)).map((m) => (m.body.text ?? '').match(/\d+% off/)?.[0]);
    expect(hour.campaigns.recall).toMatchObject({ due: 2, sent: 2 });
    expect(await offer('rc1@example.com')).toEqual(await offer('rc2@example.com'));
    expect(await offer('rc1@example.com')).toEqual(['15% off']);
  });
});

describe('an increment naming a customer nobody knows', () => {
  it('rejects the order line, counted in the hour\u2019s rejects; a file of such lines only is quarantined; neither creates a client', { timeout: 180_000 }, async () => {
    const config = await campaignConfig(aws, 'inc-unknown');
    const tables = tableNames(config);
    const GHOST = orderLine('o-gh', 'ghost-typo', '2026-11-23T08:00:00+08:00', '90000.00');
    await night(config, '2026-11-22', { 'customers.csv': CUSTOMERS_HEADER + customer('k1'), 'orders.csv': ORDERS_HEADER + orderLine('o-k1', 'k1', '2026-10-20T12:00:00+08:00', '200.00') });

    // 20 lines of known clients (one stored, one the increment's own customer row names) and the ghost's: under the 5% share.
    const known = Array.from({ length: 10 }, (_, i) => orderLine('o-k1-today', 'k1', '2026-11-23T08:30:00+08:00', '10.00', `SKU-${i}`)).join('');
    const signedUp = Array.from({ length: 10 }, (_, i) => orderLine('o-n1', 'n1', '2026-11-23T08:45:00+08:00', '10.00', `SKU-${i}`)).join('');
    await dropIncrement(aws, config, '2026-11-23T0900', { 'customers.csv': CUSTOMERS_HEADER + customer('n1'), 'orders.csv': ORDERS_HEADER + known + GHOST + signedUp });
    // An increment whose only line is the ghost's: every row of its file rejected.
    await dropIncrement(aws, config, '2026-11-23T0930', { 'orders.csv': ORDERS_HEADER + GHOST });

    const hour = await runCampaignHour(aws, config, local('2026-11-23 10:00', SH), 's-1000');
    expect(hour.ingested).toMatchObject({ exports: [expect.stringContaining('T0900')], rows: 22, rejected: 1, newClients: 1, updatedClients: 1 });
    expect(hour.ingested.quarantined).toEqual([{ folder: '2026-11-23T0930', reason: expect.stringContaining('100% of its rows rejected (1 of 1)') }]);
    expect(await profileOf(config, 'ghost-typo')).toBeUndefined();
    expect(await profileOf(config, 'k1')).toMatchObject({ orderCount: 2, lifetimeSpendMinor: 30_000 });
    expect(await profileOf(config, 'n1')).toMatchObject({ orderCount: 1, lifetimeSpendMinor: 10_000, email: 'n1@example.com' });
    expect(await getRun<IngestMarker>(aws.clients.documents, tables.runs, { job: INGEST_JOB, runDate: '2026-11-23T0900' })).toMatchObject({ status: 'merged', rejected: 1, clients: 2 });

    // The next night still knows no such client: it rejects the line too.
    const next = await night(config, '2026-11-23', {
      'customers.csv': CUSTOMERS_HEADER + customer('k1') + customer('n1'),
      'orders.csv': ORDERS_HEADER + orderLine('o-k1', 'k1', '2026-10-20T12:00:00+08:00', '200.00') + known + GHOST + signedUp,
    });
    expect(next.input.unknownCustomerLines).toBe(1);
    expect(await profileOf(config, 'ghost-typo')).toBeUndefined();
    expect(await profileOf(config, 'k1')).toMatchObject({ orderCount: 2, lifetimeSpendMinor: 30_000 });
  });
});

describe('increments merged in stamp order', () => {
  it('an increment still being written holds back the later ones: its order is not skipped once a later increment has written the client', { timeout: 120_000 }, async () => {
    const scenario = await campaignConfig(aws, 'inc-order');
    const config: Config = { ...scenario, exports: { ...scenario.exports, requireManifest: true } };
    const tables = tableNames(config);
    const at = local('2026-11-23 11:00', SH);
    // 09:30: the sign-up and the first order, its manifest not there yet; 10:30: the same client again (a new first name), whole.
    const early = { 'customers.csv': CUSTOMERS_HEADER + customer('io1'), 'orders.csv': ORDERS_HEADER + orderLine('o-first', 'io1', '2026-11-23T09:20:00+08:00', '120.00') };
    await putIncrementFiles(config, '2026-11-23T0930', early);
    await putIncrementFiles(config, '2026-11-23T1030', { 'customers.csv': CUSTOMERS_HEADER + customer('io1').replace('Lin', 'Mei') }, { manifest: true });

    const first = await runCampaignHour(aws, config, at, 'inc-order-1');
    expect(first.ingested.exports).toEqual([]);
    expect(await profileOf(config, 'io1')).toBeUndefined();

    await putIncrementFiles(config, '2026-11-23T0930', early, { manifest: true });
    const second = await runCampaignHour(aws, config, at + 3_600_000, 'inc-order-2');
    expect(second.ingested.exports).toHaveLength(2);
    expect(await profileOf(config, 'io1')).toMatchObject({ customerId: 'io1', firstName: 'Mei', orderCount: 1, spend12mMinor: 12_000 });
    for (const folder of ['2026-11-23T0930', '2026-11-23T1030']) expect(await getRun(aws.clients.documents, tables.runs, { job: INGEST_JOB, runDate: folder })).toMatchObject({ status: 'merged' });
  });

  it('an increment whose manifest never comes is quarantined 2 hours after its stamp, and the later ones merge', { timeout: 120_000 }, async () => {
    const scenario = await campaignConfig(aws, 'inc-stuck');
    const config: Config = { ...scenario, exports: { ...scenario.exports, requireManifest: true } };
    const tables = tableNames(config);
    await putIncrementFiles(config, '2026-11-23T0900', { 'customers.csv': CUSTOMERS_HEADER + customer('is1') });
    await putIncrementFiles(config, '2026-11-23T1000', { 'customers.csv': CUSTOMERS_HEADER + customer('is2') }, { manifest: true });

    const before = await runCampaignHour(aws, config, local('2026-11-23 10:59', SH), 'inc-stuck-1');
    expect(before.ingested).toMatchObject({ exports: [], quarantined: [] });
    expect(await profileOf(config, 'is2')).toBeUndefined();

    const lines: string[] = [];
    const after = await runCampaignHour(aws, config, local('2026-11-23 11:00', SH), 'inc-stuck-2', { log: jsonLog({ write: (line) => lines.push(line) }) });
    expect(after.ingested.quarantined).toEqual([{ folder: '2026-11-23T0900', reason: expect.stringMatching(/^still not whole 2 hours after its stamp: .*has no _manifest\.json/) }]);
    expect(after.ingested).toMatchObject({ exports: [expect.stringContaining('2026-11-23T1000')], newClients: 1 });
    expect(await getRun(aws.clients.documents, tables.runs, { job: INGEST_JOB, runDate: '2026-11-23T0900' })).toMatchObject({ status: 'quarantined' });
    expect(lines.filter((line) => line.includes('"alert"') && line.includes('2026-11-23T0900'))).toHaveLength(1);
    expect(await profileOf(config, 'is1')).toBeUndefined();
    expect(await profileOf(config, 'is2')).toMatchObject({ customerId: 'is2' });
  });
});

describe('an increment without a final line ending, listed in its manifest', () => {
  it('merges, and is put back after the night as one with a final line ending is: the win-back does not go', { timeout: 180_000 }, async () => {
    const config = await campaignConfig(aws, 'increment-unterminated-listed');
    const OLD = orderLine('o-old', 'ul1', '2026-09-25T12:00:00+08:00', '200.00');
    const NEW = orderLine('o-new', 'ul1', '2026-11-24T00:30:00+08:00', '80.00', 'SKU-2');
    await night(config, '2026-11-22', { 'customers.csv': CUSTOMERS_HEADER + customer('ul1'), 'orders.csv': ORDERS_HEADER + OLD });
    // A platform that writes no final line ending: its manifest's rows and sha256 prove the file whole.
    await putIncrementFiles(config, '2026-11-24T0030', { 'orders.csv': (ORDERS_HEADER + NEW).slice(0, -1) }, { manifest: true });
    const h0100 = await runCampaignHour(aws, config, local('2026-11-24 01:00', SH), 'ul-0100');
    expect(h0100.ingested).toMatchObject({ updatedClients: 1, rejected: 0, quarantined: [] });
    const merged = { orderCount: 2, lifetimeSpendMinor: 28_000, lastOrderAt: '2026-11-23T16:30:00.000Z' };
    expect(await profileOf(config, 'ul1')).toMatchObject(merged);
    // The night of 11-23 (its clock 11-24 00:00) rewrites the client without the increment's order.
    await night(config, '2026-11-23', { 'customers.csv': CUSTOMERS_HEADER + customer('ul1'), 'orders.csv': ORDERS_HEADER + OLD + NEW });
    expect(await profileOf(config, 'ul1')).toMatchObject({ orderCount: 1 });
    // Merged again as it was merged then (its drops, not held against the manifest again).
    const h0300 = await runCampaignHour(aws, config, local('2026-11-24 03:00', SH), 'ul-0300');
    expect(h0300.ingested.remerged).toEqual([{ folder: '2026-11-24T0030', clients: 1 }]);
    expect(await profileOf(config, 'ul1')).toMatchObject(merged);
    await runCampaignHour(aws, config, local('2026-11-24 10:00', SH), 'ul-1000');
    expect(await emailsTo(aws, 'ul1@example.com')).toEqual([]);
  });
});

/** An increment's files, and with `manifest` the manifest that lists them (written last, as a producer does). */
async function putIncrementFiles(config: Config, folder: string, files: Record<string, string>, { manifest = false } = {}): Promise<void> {
  const put = (name: string, body: string) => aws.clients.s3.send(new PutObjectCommand({ Bucket: config.storage.exportsBucket, Key: `${incrementalPrefix(config)}/${folder}/${name}`, Body: body }));
  for (const [name, body] of Object.entries(files)) await put(name, body);
  if (!manifest) return;
  const listed = Object.entries(files).map(([name, body]) => ({ name, rows: body.trim().split('\n').length - 1, sha256: createHash('sha256').update(body).digest('hex') }));
  await put('_manifest.json', JSON.stringify({ mode: 'incremental', files: listed }));
}
