import { describe, expect, it } from 'vitest';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Config } from '#shared/config.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { INGEST_JOB, type IngestMarker } from '#shared/sender/ingest.ts';
import { incrementalPrefix } from '#shared/store/buckets.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { getRun, putRun } from '#shared/store/runs-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignConfig, runCampaignHour } from '#test/support/campaign-runs.ts';
import { dropIncrement, seedProfiles, uploadExport } from '#test/support/emulator-data.ts';
import { exportDir } from '#test/support/export-files.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { emailsTo } from '#test/support/ses-store.ts';

/**
 * Increments across the hour the clocks go back (America/New_York, 2026-11-01: 01:00-02:00 EDT,
 * then 01:00-02:00 EST again). Folder names in brand time no longer follow time there: a second
 * pass dropped later may have an earlier name (01:30 EST after 01:45 EDT) or the same one. The
 * ingest goes by the instant a stamp names (buckets.ts incrementalStamp): an offset when the name
 * carries one, else, in the repeated hour, the reading S3's write of the folder allows. Either
 * way the later drop's opt-out applies and its orders count, and the welcome does not go.
 *
 * The emulator stamps its objects with the machine's clock, which is past 2026-11-01: a local
 * name in the repeated hour reads as its second pass here (the later reading not after the write).
 */

const aws = sharedAws();
const NY = 'America/New_York';
const HOUR = 3_600_000;
const ORDERS_HEADER = 'order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,currency,status,refunded_amount\n';
const orderLine = (orderId: string, customerId: string, orderedAt: string) => `${orderId},${customerId},${orderedAt},SKU-1,Bag,leather,1,80.00,USD,paid,\n`;

/** A prospect who signed up the evening before: the welcome is due, held by quiet hours until 09:00. */
async function prospect(name: string, id: string): Promise<Config> {
  const config = await campaignConfig(aws, name, { timeZone: NY });
  await seedProfiles(aws, config, [
    profileItem(id, { timeZone: NY, stage: 'prospect', tier: 'Prospect', orderCount: 0, spend12mMinor: 0, lifetimeSpendMinor: 0, signedUpAt: '2026-10-31T23:30:00.000Z' }),
  ]);
  return config;
}

const profileOf = (config: Config, id: string) => getProfile(aws.clients.documents, tableNames(config).profiles, id);
const welcomesTo = async (id: string) => (await emailsTo(aws, `${id}@example.com`)).map((email) => email.subject);

describe('increments across the fall-back hour (America/New_York, 2026-11-01)', () => {
  it('merges a second pass stamped 01:30 EST after a first pass stamped 01:45 EDT, both with their offsets', { timeout: 180_000 }, async () => {
    const id = 'fb-offsets';
    const config = await prospect('fallback-offsets', id);
    // 01:45 EDT (05:45Z): a name change, merged by the 01:00 EST hour (06:00Z).
    await dropIncrement(aws, config, '2026-11-01T0145-0400', { 'customers.csv': `customer_id,first_name\n${id},Ann\n` });
    const h06 = await runCampaignHour(aws, config, Date.UTC(2026, 10, 1, 6), 'fbo-06');
    expect(h06.ingested).toMatchObject({ updatedClients: 1, quarantined: [] });
    // 01:30 EST (06:30Z), a smaller name dropped later: the client orders and opts out.
    await dropIncrement(aws, config, '2026-11-01T0130-0500', {
      'customers.csv': `customer_id,accepts_marketing\n${id},false\n`,
      'orders.csv': ORDERS_HEADER + orderLine('fbo-1', id, '2026-11-01T01:20:00-05:00'),
    });
    const h07 = await runCampaignHour(aws, config, Date.UTC(2026, 10, 1, 7), 'fbo-07');
    expect(h07.ingested).toMatchObject({ exports: [expect.stringContaining('2026-11-01T0130-0500')], updatedClients: 1 });
    expect(await profileOf(config, id)).toMatchObject({ firstName: 'Ann', acceptsMarketing: false, orderCount: 1, incrementOrderIds: ['fbo-1'], lastIncrement: '2026-11-01T0130-0500' });
    await runCampaignHour(aws, config, Date.UTC(2026, 10, 1, 14), 'fbo-14'); // 09:00 EST: out of quiet hours
    expect(await welcomesTo(id)).toEqual([]);
  });

  it('reads a local 01:30 by when S3 says it was written: after an increment of 01:45 EDT, it is the second pass', { timeout: 180_000 }, async () => {
    const id = 'fb-local';
    const config = await prospect('fallback-local', id);
    await dropIncrement(aws, config, '2026-11-01T0145-0400', { 'customers.csv': `customer_id,first_name\n${id},Ann\n` });
    await runCampaignHour(aws, config, Date.UTC(2026, 10, 1, 6), 'fbl-06');
    await dropIncrement(aws, config, '2026-11-01T0130', {
      'customers.csv': `customer_id,accepts_marketing\n${id},false\n`,
      'orders.csv': ORDERS_HEADER + orderLine('fbl-1', id, '2026-11-01T01:20:00-05:00'),
    });
    const h07 = await runCampaignHour(aws, config, Date.UTC(2026, 10, 1, 7), 'fbl-07');
    expect(h07.ingested).toMatchObject({ exports: [expect.stringContaining('2026-11-01T0130')], updatedClients: 1 });
    // The profile names it with its offset: the name alone would read back as the first pass.
    expect(await profileOf(config, id)).toMatchObject({ firstName: 'Ann', acceptsMarketing: false, orderCount: 1, lastIncrement: '2026-11-01T0130-0500' });
    expect(await getRun<IngestMarker>(aws.clients.documents, tableNames(config).runs, { job: INGEST_JOB, runDate: '2026-11-01T0130' })).toMatchObject({
      status: 'merged',
      stampedAt: '2026-11-01T06:30:00.000Z',
    });
    await runCampaignHour(aws, config, Date.UTC(2026, 10, 1, 14), 'fbl-14');
    expect(await welcomesTo(id)).toEqual([]);
  });

  it('merges a second drop into a folder already merged under the same name, alone, counting a resent order once', { timeout: 180_000 }, async () => {
    const id = 'fb-same';
    const config = await prospect('fallback-same-name', id);
    await seedProfiles(aws, config, [profileItem('fb-other', { timeZone: NY })]);
    const folder = '2026-11-01T0130';
    await dropIncrement(aws, config, folder, {
      'customers.csv': `customer_id,first_name\n${id},Ann\n`,
      'customers-extra.csv': 'customer_id,first_name\nfb-other,Bo\n',
      'orders.csv': ORDERS_HEADER + orderLine('fbs-1', id, '2026-11-01T01:10:00-04:00'),
    });
    const h07 = await runCampaignHour(aws, config, Date.UTC(2026, 10, 1, 7), 'fbs-07');
    expect(h07.ingested).toMatchObject({ exports: [expect.stringContaining(folder)], rows: 3, updatedClients: 2 });
    const first = await getRun<IngestMarker>(aws.clients.documents, tableNames(config).runs, { job: INGEST_JOB, runDate: folder });

    // S3 keeps the time of a write to the second: a second drop in the same second could not be told.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    // The second pass writes the same folder: the order resent (updated), a new one, and an opt-out.
    await dropIncrement(aws, config, folder, {
      'customers.csv': `customer_id,accepts_marketing\n${id},false\n`,
      'orders.csv': ORDERS_HEADER + orderLine('fbs-1', id, '2026-11-01T01:10:00-04:00') + orderLine('fbs-2', id, '2026-11-01T01:25:00-05:00'),
    });
    const h08 = await runCampaignHour(aws, config, Date.UTC(2026, 10, 1, 8), 'fbs-08');
    // The second drop alone: the first's customers-extra.csv, still there, was merged as of the first drop.
    expect(h08.ingested).toMatchObject({ exports: [expect.stringContaining(folder)], rows: 3, updatedClients: 1, remerged: [] });
    expect(await profileOf(config, id)).toMatchObject({ firstName: 'Ann', acceptsMarketing: false, orderCount: 2, incrementOrderIds: ['fbs-1', 'fbs-2'] });
    const second = await getRun<IngestMarker>(aws.clients.documents, tableNames(config).runs, { job: INGEST_JOB, runDate: folder });
    expect(second).toMatchObject({ status: 'merged', runId: expect.stringContaining('fbs-08') });
    expect(second?.status === 'merged' && first?.status === 'merged' && Date.parse(second.lastWrite ?? '') > Date.parse(first.lastWrite ?? '')).toBe(true);

    // Once merged, the folder is not read again.
    const h09 = await runCampaignHour(aws, config, Date.UTC(2026, 10, 1, 9), 'fbs-09');
    expect(h09.ingested).toMatchObject({ exports: [], updatedClients: 0 });
    await runCampaignHour(aws, config, Date.UTC(2026, 10, 1, 14), 'fbs-14');
    expect(await welcomesTo(id)).toEqual([]);
    expect(await profileOf(config, id)).toMatchObject({ orderCount: 2 });
  });

  it('waits the full 2 hours for the manifest of a second-pass folder before quarantining it', { timeout: 180_000 }, async () => {
    const scenario = await campaignConfig(aws, 'fallback-manifest-wait', { timeZone: NY });
    const config: Config = { ...scenario, exports: { ...scenario.exports, requireManifest: true } };
    const folder = '2026-11-01T0130'; // the second pass (06:30Z), by S3's write
    await aws.clients.s3.send(
      new PutObjectCommand({ Bucket: config.storage.exportsBucket, Key: `${incrementalPrefix(config)}/${folder}/customers.csv`, Body: 'customer_id,email\nfw-1,fw-1@example.com\n' }),
    );
    const stamped = Date.UTC(2026, 10, 1, 6, 30);
    const before = await runCampaignHour(aws, config, stamped + 2 * HOUR - 30 * 60_000, 'fbw-0800');
    expect(before.ingested).toMatchObject({ exports: [], quarantined: [] });
    expect(await getRun(aws.clients.documents, tableNames(config).runs, { job: INGEST_JOB, runDate: folder })).toBeUndefined();
    const after = await runCampaignHour(aws, config, stamped + 2 * HOUR, 'fbw-0830');
    expect(after.ingested.quarantined).toEqual([{ folder, reason: expect.stringContaining('still not whole 2 hours after its stamp') }]);
  });
});

describe('a folder of the repeated hour whose first pass a late night undid', () => {
  const CUSTOMERS_HEADER = 'customer_id,email,first_name,locale,time_zone,signed_up_at,accepts_marketing\n';

  /**
   * F, local 01:30, merged in its first pass (05:30Z) with an opt-out, then undone by a night rerun
   * late on a snapshot that says yes; G, 01:45 EDT (05:45Z), names the same client. F's merged drop
   * goes back before G, as of 05:30Z, whether or not F was dropped into again in its second pass
   * (06:30Z, by which it now reads): else G would mark the client past F's first pass and its
   * opt-out would be skipped until the next night, and the welcome would go.
   */
  async function undoneFirstPass(name: string, secondPass: boolean) {
    const config = await campaignConfig(aws, name, { timeZone: NY });
    const id = `${name}-x`;
    await uploadExport(aws, config, await exportDir({
      'customers.csv': CUSTOMERS_HEADER + `${id},${id}@example.com,Lin,en,${NY},2026-10-31T19:30:00-04:00,true\n` + `${id}-y,${id}-y@example.com,Yu,en,${NY},2026-01-01T10:00:00-05:00,true\n`,
      'orders.csv': ORDERS_HEADER + orderLine(`o-${id}-y`, `${id}-y`, '2026-10-01T12:00:00-04:00'),
    }), '2026-10-31');
    await dropIncrement(aws, config, '2026-11-01T0130', { 'customers.csv': `customer_id,accepts_marketing\n${id},false\n` });
    // F's marker as the hour of 05:40Z wrote it (the emulator stamps objects with the machine's clock,
    // past 2026-11-01, so no hour here could have merged F as its first pass); the night then ran late.
    const listed = await aws.clients.s3.send(new ListObjectsV2Command({ Bucket: config.storage.exportsBucket, Prefix: `${incrementalPrefix(config)}/2026-11-01T0130/` }));
    const lastWrite = Math.max(...(listed.Contents ?? []).map((object) => object.LastModified?.getTime() ?? 0));
    await putRun(aws.clients.documents, tableNames(config).runs, {
      job: INGEST_JOB, runDate: '2026-11-01T0130', runId: 'h-0540', source: 'seeded', status: 'merged', rows: 1, rejected: 0, clients: 1,
      nightSeen: 'a-night-before-the-rerun', lastWrite: new Date(lastWrite).toISOString(), stampedAt: '2026-11-01T05:30:00.000Z',
    } satisfies IngestMarker);
    await runNightly({ clock: Date.now, runDate: '2026-10-31', runId: `n-${name}`, config, clients: aws.clients });
    await dropIncrement(aws, config, '2026-11-01T0145-0400', { 'customers.csv': `customer_id,first_name\n${id},Ann\n` });
    if (secondPass) {
      await new Promise((resolve) => setTimeout(resolve, 1_100)); // S3 keeps a write's time to the second
      await dropIncrement(aws, config, '2026-11-01T0130', { 'customers-2.csv': `customer_id,first_name\n${id}-y,Bo\n` });
    }
    const h07 = await runCampaignHour(aws, config, Date.UTC(2026, 10, 1, 7), `${name}-07`);
    const profile = await profileOf(config, id);
    await runCampaignHour(aws, config, Date.UTC(2026, 10, 1, 14), `${name}-14`); // 09:00 EST: out of quiet hours
    return { h07, profile, other: await profileOf(config, `${id}-y`), welcomes: await welcomesTo(id) };
  }

  it('puts its opt-out back before the folder of 01:45 EDT, then reads its second pass in its own turn', { timeout: 240_000 }, async () => {
    // Alone (here it reads as its second pass: the emulator's clock), it is merged again after G.
    const alone = await undoneFirstPass('fb-undone-alone', false);
    expect(alone.profile).toMatchObject({ acceptsMarketing: false });
    expect(alone.welcomes).toEqual([]);
    const withSecond = await undoneFirstPass('fb-undone-second', true);
    expect(withSecond.h07.ingested).toMatchObject({ remerged: [{ folder: '2026-11-01T0130', clients: 1 }], quarantined: [], deferred: [] });
    expect(withSecond.h07.ingested.exports).toEqual([expect.stringContaining('/2026-11-01T0145-0400/'), expect.stringContaining('/2026-11-01T0130/')]);
    // F's first pass as of 05:30Z, then G (05:45Z): G names the client last; F's second pass the other client.
    expect(withSecond.profile).toMatchObject({ acceptsMarketing: false, lastIncrement: '2026-11-01T0145-0400' });
    expect(withSecond.other).toMatchObject({ lastIncrement: '2026-11-01T0130-0500' });
    expect(withSecond.welcomes).toEqual([]);
  });
  it('puts it back before the folder of 01:45 EDT when its second pass was quarantined too', { timeout: 240_000 }, async () => {
    const name = 'fb-undone-quarantined';
    const config = await campaignConfig(aws, name, { timeZone: NY });
    const id = `${name}-x`;
    await uploadExport(aws, config, await exportDir({
      'customers.csv': CUSTOMERS_HEADER + `${id},${id}@example.com,Lin,en,${NY},2026-10-31T19:30:00-04:00,true\n`,
      'orders.csv': ORDERS_HEADER + orderLine(`o-${id}`, id, '2026-10-01T12:00:00-04:00'),
    }), '2026-10-31');
    await dropIncrement(aws, config, '2026-11-01T0130', { 'customers.csv': `customer_id,accepts_marketing\n${id},false\n` });
    const listed = await aws.clients.s3.send(new ListObjectsV2Command({ Bucket: config.storage.exportsBucket, Prefix: `${incrementalPrefix(config)}/2026-11-01T0130/` }));
    const lastWrite = new Date(Math.max(...(listed.Contents ?? []).map((object) => object.LastModified?.getTime() ?? 0))).toISOString();
    // Merged in its first pass (05:30Z), then a drop of its second pass quarantined: the marker as the ingest writes it then.
    await putRun(aws.clients.documents, tableNames(config).runs, {
      job: INGEST_JOB, runDate: '2026-11-01T0130', runId: 'h-0700', source: 'seeded', status: 'quarantined', reason: 'orders.csv: truncated',
      quarantinedAt: '2026-11-01T07:00:00.000Z', lastWrite, mergedWrite: lastWrite, nightSeen: 'a-night-before-the-rerun', stampedAt: '2026-11-01T05:30:00.000Z',
    } satisfies IngestMarker);
    await runNightly({ clock: Date.now, runDate: '2026-10-31', runId: `n-${name}`, config, clients: aws.clients });
    await dropIncrement(aws, config, '2026-11-01T0145-0400', { 'customers.csv': `customer_id,first_name\n${id},Ann\n` });
    const h08 = await runCampaignHour(aws, config, Date.UTC(2026, 10, 1, 8), `${name}-08`);
    expect(h08.ingested).toMatchObject({ remerged: [{ folder: '2026-11-01T0130', clients: 1 }], quarantined: [] });
    expect(await profileOf(config, id)).toMatchObject({ acceptsMarketing: false, lastIncrement: '2026-11-01T0145-0400' });
    await runCampaignHour(aws, config, Date.UTC(2026, 10, 1, 14), `${name}-14`);
    expect(await welcomesTo(id)).toEqual([]);
  });
});

describe('increments after the brand changed time zone', () => {
  it('applies an opt-out stamped after an increment merged under the old zone, whose local name reads later in the new one', { timeout: 180_000 }, async () => {
    const shanghai = await campaignConfig(aws, 'zone-change', { timeZone: 'Asia/Shanghai' });
    const id = 'zc-1';
    await seedProfiles(aws, shanghai, [profileItem(id, { timeZone: undefined })]);
    // 10:00 Shanghai (02:00Z): a new first name, merged by the 11:00 hour; the profile records the instant.
    await dropIncrement(aws, shanghai, '2026-11-23T1000', { 'customers.csv': `customer_id,first_name\n${id},Lin\n`, '_manifest.json': JSON.stringify({ mode: 'incremental' }) });
    await runCampaignHour(aws, shanghai, Date.parse('2026-11-23T03:00:00Z'), 'zc-a');
    const first = await profileOf(shanghai, id);
    expect(first).toMatchObject({ firstName: 'Lin', acceptsMarketing: true });

    // The brand moves to New York (2026-11-23T1000 would read as 15:00Z there). 23:30 New York on
    // 11-22 (04:30Z, after the first drop): the client opts out.
    const newYork: Config = { ...shanghai, timeZone: NY };
    await dropIncrement(aws, newYork, '2026-11-22T2330', { 'customers.csv': `customer_id,accepts_marketing\n${id},false\n`, '_manifest.json': JSON.stringify({ mode: 'incremental' }) });
    const hour = await runCampaignHour(aws, newYork, Date.parse('2026-11-23T05:00:00Z'), 'zc-b');
    expect(hour.ingested).toMatchObject({ updatedClients: 1 });
    expect(await profileOf(newYork, id)).toMatchObject({ firstName: 'Lin', acceptsMarketing: false, lastIncrement: '2026-11-22T2330-0500' });
    // Both recorded with the offset of the zone they were merged under.
    expect(first?.lastIncrement).toBe('2026-11-23T1000+0800');
  });
});
