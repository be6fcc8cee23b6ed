import { describe, expect, it } from 'vitest';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { Config } from '#shared/config.ts';
import { jsonLog } from '#shared/log.ts';
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
 * A folder named with a local stamp in the repeated hour of a fall-back (America/New_York,
 * 2026-11-01: 01:30 is 05:30Z EDT, then 06:30Z EST) dropped into in both passes, both drops
 * merged, then undone by a night that ran late (its snapshot older than the drops). The hour
 * after the night must put each drop back in its own turn, as of its own stamp: the first before
 * a folder stamped between the two passes, the second after it, as a clean run of hours did.
 *
 * The emulator stamps its objects with the machine's clock (past 2026-11-01), so a local 01:30
 * always reads as its second pass here: the first pass's merge is seeded as the hour of 05:40Z
 * wrote it (its marker, its profile), the rest is run.
 */

const aws = sharedAws();
const NY = 'America/New_York';
const FOLDER = '2026-11-01T0130';
const CUSTOMERS_HEADER = 'customer_id,email,first_name,locale,time_zone,signed_up_at,accepts_marketing\n';
const ORDERS_HEADER = 'order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,currency,status,refunded_amount\n';
const orderLine = (orderId: string, customerId: string, orderedAt: string) => `${orderId},${customerId},${orderedAt},SKU-1,Bag,leather,1,80.00,USD,paid,\n`;

const profileOf = (config: Config, id: string) => getProfile(aws.clients.documents, tableNames(config).profiles, id);
const markerOf = (config: Config) => getRun<IngestMarker>(aws.clients.documents, tableNames(config).runs, { job: INGEST_JOB, runDate: FOLDER });

/** When S3 says the folder was last written (its newest object). */
async function folderWrite(config: Config): Promise<number> {
  const listed = await aws.clients.s3.send(new ListObjectsV2Command({ Bucket: config.storage.exportsBucket, Prefix: `${incrementalPrefix(config)}/${FOLDER}/` }));
  return Math.max(...(listed.Contents ?? []).map((object) => object.LastModified?.getTime() ?? 0));
}

/**
 * The scenario up to the night: the snapshot (the client says yes), the first pass merged at 05:30Z
 * (a yes), G (01:45 EDT, 05:45Z: the client opts out) merged by the hour of 06:00Z, the second pass
 * (06:30Z: an order) merged by the hour of 07:00Z. A clean run of hours leaves the client opted out.
 */
async function bothDropsMerged(name: string) {
  const config = await campaignConfig(aws, name, { timeZone: NY });
  const id = `${name}-x`;
  // The snapshot the late night reads, dumped before the drops: the client (a prospect who signed up the evening before) says yes.
  await uploadExport(aws, config, await exportDir({
    'customers.csv': CUSTOMERS_HEADER + `${id},${id}@example.com,Lin,en,${NY},2026-10-31T19:30:00-04:00,true\n` + `${id}-y,${id}-y@example.com,Yu,en,${NY},2026-01-01T10:00:00-05:00,true\n`,
    'orders.csv': ORDERS_HEADER + orderLine(`o-${id}-y`, `${id}-y`, '2026-10-01T12:00:00-04:00'),
  }), '2026-10-31');
  // The profile as an earlier night left it, then the first pass merged (05:30Z: a yes, as the snapshot's).
  await seedProfiles(aws, config, [
    {
      ...profileItem(id, {
        timeZone: NY, firstName: 'Lin', stage: 'prospect', tier: 'Prospect', orderCount: 0, spend12mMinor: 0, lifetimeSpendMinor: 0,
        signedUpAt: '2026-10-31T23:30:00.000Z', acceptsMarketing: true,
      }),
      lastIncrement: '2026-11-01T0130-0400',
    },
  ]);
  await dropIncrement(aws, config, FOLDER, { 'customers.csv': `customer_id,accepts_marketing\n${id},true\n` });
  const firstWrite = await folderWrite(config);
  // The first drop's marker as the hour of 05:40Z wrote it (as markers from before drops were listed: its stamp and write).
  await putRun(aws.clients.documents, tableNames(config).runs, {
    job: INGEST_JOB, runDate: FOLDER, runId: 'h-0540', source: 'seeded', status: 'merged', rows: 1, rejected: 0, clients: 1,
    nightSeen: 'none', lastWrite: new Date(firstWrite).toISOString(), stampedAt: '2026-11-01T05:30:00.000Z',
  } satisfies IngestMarker);

  // G, stamped with its offset between the two passes (05:45Z): the client opts out. Merged by the hour of 06:00Z.
  await dropIncrement(aws, config, '2026-11-01T0145-0400', { 'customers.csv': `customer_id,accepts_marketing\n${id},false\n` });
  const h06 = await runCampaignHour(aws, config, Date.UTC(2026, 10, 1, 6), `${name}-06`);
  expect(h06.ingested).toMatchObject({ exports: [expect.stringContaining('/2026-11-01T0145-0400/')], updatedClients: 1 });

  // The second pass drops into the same folder (06:30Z): an order of the client's, in a file of its own.
  await new Promise((resolve) => setTimeout(resolve, 1_100)); // S3 keeps a write's time to the second
  await dropIncrement(aws, config, FOLDER, { 'orders-2.csv': ORDERS_HEADER + orderLine(`o-${id}`, id, '2026-11-01T01:20:00-05:00') });
  const secondWrite = await folderWrite(config);
  const h07 = await runCampaignHour(aws, config, Date.UTC(2026, 10, 1, 7), `${name}-07`);
  expect(h07.ingested).toMatchObject({ exports: [expect.stringContaining(`/${FOLDER}/`)], updatedClients: 1, remerged: [] });
  expect(await profileOf(config, id)).toMatchObject({ acceptsMarketing: false, orderCount: 1, incrementOrderIds: [`o-${id}`], lastIncrement: '2026-11-01T0130-0500' });
  return { config, id, firstWrite, secondWrite };
}

/** The night of 10-31 run late, on its older snapshot: the yes comes back, the order is gone. */
async function lateNight(config: Config, name: string, id: string): Promise<void> {
  await runNightly({ clock: Date.now, runDate: '2026-10-31', runId: `n-${name}`, config, clients: aws.clients });
  expect(await profileOf(config, id)).toMatchObject({ acceptsMarketing: true, orderCount: 0 });
}

describe('a folder of the repeated hour with both its drops merged, undone by a late night', () => {
  it('puts each drop back as of its own stamp, around a folder stamped between the two passes: the opt-out between stands', { timeout: 300_000 }, async () => {
    const name = 'fb-both-drops';
    const { config, id, firstWrite, secondWrite } = await bothDropsMerged(name);
    // The marker lists both drops, each with its own stamp and write; the second, merged by this version, with the objects it read
    // (the first's marker, from before, recorded none: it goes back by time).
    const marker = await markerOf(config);
    expect(marker).toMatchObject({ status: 'merged', stampedAt: '2026-11-01T06:30:00.000Z', lastWrite: new Date(secondWrite).toISOString() });
    expect(marker?.status === 'merged' ? marker.drops : undefined).toEqual([
      { stampedAt: '2026-11-01T05:30:00.000Z', lastWrite: new Date(firstWrite).toISOString() },
      {
        stampedAt: '2026-11-01T06:30:00.000Z',
        lastWrite: new Date(secondWrite).toISOString(),
        objects: [expect.objectContaining({ key: '_manifest.json', lastModified: secondWrite }), expect.objectContaining({ key: 'orders-2.csv' })],
      },
    ]);
    await lateNight(config, name, id);

    // A dry run of the hour after the night says what it would put back, and writes nothing.
    const dry = await runCampaignHour(aws, config, Date.UTC(2026, 10, 1, 8), `${name}-08-dry`, { dryRun: true });
    expect(dry.ingested.remerged).toEqual([
      { folder: FOLDER, clients: 0 },
      { folder: '2026-11-01T0145-0400', clients: 1 },
      { folder: FOLDER, clients: 1 },
    ]);
    expect(await profileOf(config, id)).toMatchObject({ acceptsMarketing: true, orderCount: 0 });

    // The hour after the night: the first drop (05:30Z), G (05:45Z), the second drop (06:30Z), each in its turn.
    const h08 = await runCampaignHour(aws, config, Date.UTC(2026, 10, 1, 8), `${name}-08`);
    expect(h08.ingested).toMatchObject({ exports: [], quarantined: [], deferred: [] });
    // Both of the folder's turns (the first puts nothing back: the night left its yes), and G's.
    expect(h08.ingested.remerged).toEqual([
      { folder: FOLDER, clients: 0 },
      { folder: '2026-11-01T0145-0400', clients: 1 },
      { folder: FOLDER, clients: 1 },
    ]);
    const after = await profileOf(config, id);
    expect({ acceptsMarketing: after?.acceptsMarketing, orderCount: after?.orderCount, incrementOrderIds: after?.incrementOrderIds }).toEqual({
      acceptsMarketing: false,
      orderCount: 1,
      incrementOrderIds: [`o-${id}`],
    });
    expect(after?.lastIncrement).toBe('2026-11-01T0130-0500');
    // Done for this night: the next hour merges nothing again.
    const h09 = await runCampaignHour(aws, config, Date.UTC(2026, 10, 1, 9), `${name}-09`);
    expect(h09.ingested).toMatchObject({ exports: [], remerged: [] });
    await runCampaignHour(aws, config, Date.UTC(2026, 10, 1, 14), `${name}-14`); // 09:00 EST: out of quiet hours
    expect(await emailsTo(aws, `${id}@example.com`)).toEqual([]);
    expect(await profileOf(config, id)).toMatchObject({ acceptsMarketing: false, orderCount: 1 });
  });

  it('puts the second pass back in its turn when it rewrote every file of the first (nothing of the first left to put back)', { timeout: 300_000 }, async () => {
    const name = 'fb-both-rewritten';
    const config = await campaignConfig(aws, name, { timeZone: NY });
    const id = `${name}-x`;
    await uploadExport(aws, config, await exportDir({
      'customers.csv': CUSTOMERS_HEADER + `${id},${id}@example.com,Lin,en,${NY},2026-10-31T19:30:00-04:00,true\n`,
      'orders.csv': ORDERS_HEADER + orderLine(`o-${id}-old`, id, '2026-10-01T12:00:00-04:00'),
    }), '2026-10-31');
    await seedProfiles(aws, config, [{ ...profileItem(id, { timeZone: NY, firstName: 'Lin', acceptsMarketing: true }), lastIncrement: '2026-11-01T0130-0400' }]);
    await dropIncrement(aws, config, FOLDER, { 'customers.csv': `customer_id,first_name\n${id},Lyn\n` });
    await putRun(aws.clients.documents, tableNames(config).runs, {
      job: INGEST_JOB, runDate: FOLDER, runId: 'h-0540', source: 'seeded', status: 'merged', rows: 1, rejected: 0, clients: 1,
      nightSeen: 'none', lastWrite: new Date(await folderWrite(config)).toISOString(), stampedAt: '2026-11-01T05:30:00.000Z',
    } satisfies IngestMarker);
    await dropIncrement(aws, config, '2026-11-01T0145-0400', { 'customers.csv': `customer_id,accepts_marketing\n${id},false\n` });
    await runCampaignHour(aws, config, Date.UTC(2026, 10, 1, 6), `${name}-06`);
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // S3 keeps a write's time to the second
    // The second pass rewrites the first's only file (and its manifest), with an order.
    await dropIncrement(aws, config, FOLDER, {
      'customers.csv': `customer_id,first_name\n${id},Lyn\n`,
      'orders.csv': ORDERS_HEADER + orderLine(`o-${id}`, id, '2026-11-01T01:20:00-05:00'),
    });
    await runCampaignHour(aws, config, Date.UTC(2026, 10, 1, 7), `${name}-07`);
    expect(await profileOf(config, id)).toMatchObject({ acceptsMarketing: false, orderCount: 2, lastIncrement: '2026-11-01T0130-0500' });
    await runNightly({ clock: Date.now, runDate: '2026-10-31', runId: `n-${name}`, config, clients: aws.clients });

    // The first pass's turn finds none of its files (warned, left to the second's turn), G, then the second pass.
    const lines: string[] = [];
    const h08 = await runCampaignHour(aws, config, Date.UTC(2026, 10, 1, 8), `${name}-08`, { log: jsonLog({ write: (line) => lines.push(line) }) });
    expect(h08.ingested).toMatchObject({ exports: [], quarantined: [], deferred: [] });
    const warned = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.level === 'warn' && line.folder === FOLDER);
    expect(warned).toEqual([expect.objectContaining({ message: expect.stringContaining('its later ones are') })]);
    expect(h08.ingested.remerged).toEqual([
      { folder: '2026-11-01T0145-0400', clients: 1 },
      { folder: FOLDER, clients: 1 },
    ]);
    expect(await profileOf(config, id)).toMatchObject({ acceptsMarketing: false, orderCount: 2, incrementOrderIds: [`o-${id}`], lastIncrement: '2026-11-01T0130-0500' });
    // The second pass's turn marked the night done for the folder: not tried again.
    const h09 = await runCampaignHour(aws, config, Date.UTC(2026, 10, 1, 9), `${name}-09`);
    expect(h09.ingested).toMatchObject({ exports: [], remerged: [] });
  });

  it('reads a marker written before drops were listed (one stamp, the second pass\'s) as then: one turn, as of that stamp', { timeout: 300_000 }, async () => {
    const name = 'fb-both-drops-old';
    const { config, id } = await bothDropsMerged(name);
    // The marker as the version before wrote it on merging the second drop: its stamp and write, no list.
    const marker = await markerOf(config);
    if (marker?.status !== 'merged') throw new Error('the folder is not marked merged');
    const { drops: _listed, ...old } = marker;
    await putRun(aws.clients.documents, tableNames(config).runs, old satisfies IngestMarker);
    await lateNight(config, name, id);

    const h08 = await runCampaignHour(aws, config, Date.UTC(2026, 10, 1, 8), `${name}-08`);
    // G, then the folder once, both drops as of 06:30Z: as the version before merged it again (the first
    // drop's yes over G's opt-out until the next night: the case the list of drops fixes).
    expect(h08.ingested).toMatchObject({ exports: [], quarantined: [], deferred: [] });
    expect(h08.ingested.remerged).toEqual([
      { folder: '2026-11-01T0145-0400', clients: 1 },
      { folder: FOLDER, clients: 1 },
    ]);
    expect(await profileOf(config, id)).toMatchObject({ acceptsMarketing: true, orderCount: 1, incrementOrderIds: [`o-${id}`], lastIncrement: '2026-11-01T0130-0500' });
  });
});
