import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import type { Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { getProfile, INCREMENTAL_DIGEST, type ProfileItem } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { runCampaignHour } from '#test/support/campaign-runs.ts';
import { dropIncrement } from '#test/support/emulator-data.ts';
import { csv, exportFolder, LENIENT_GUARDS, scratchDir } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { at as local } from '#test/support/time.ts';

/**
 * The first night after upgrading from a version before lastNight (679125d and earlier, before
 * 2026-12-05): its hourly ingest wrote the incremental digest and no lastNight on every client it
 * merged, the ones it created (dated the hour's day) as the ones a night had written (keeping that
 * night's date). A client it created on the day of tonight's night was read as written by an earlier
 * attempt of tonight whose before-image was gone, and the night was refused for good (attack-upgrade
 * probe 1). The old items are written here as 679125d's shared/sender/ingest.ts wrote them.
 */

const aws = sharedAws();
const SH = 'Asia/Shanghai';
const work = scratchDir('nightly-upgrade-earlier-increments');

const CUSTOMERS = [
  ['customer_id', 'email', 'first_name', 'accepts_marketing', 'signed_up_at'],
  ['C1', 'c1.upgrade@example.com', 'Ana', 'true', '2026-10-01T10:00:00+08:00'],
  ['C2', 'c2.upgrade@example.com', 'Bo', 'true', '2026-10-02T10:00:00+08:00'],
];
const C3 = ['C3', 'c3.upgrade@example.com', 'Cy', 'true', '2026-11-23T09:00:00+08:00'];
const ORDERS_HEADER = ['order_id', 'customer_id', 'ordered_at', 'sku', 'line_total'];
const ORDERS = [ORDERS_HEADER, ['O1', 'C1', '2026-10-05T10:00:00+08:00', 'SKU-1', '1200.00'], ['O2', 'C2', '2026-10-06T10:00:00+08:00', 'SKU-1', '300.00']];
// The day's orders: C3's first, and one of C1's that moves her from Potential to Core.
const O3 = ['O3', 'C3', '2026-11-23T09:10:00+08:00', 'SKU-1', '80.00'];
const O4 = ['O4', 'C1', '2026-11-23T09:20:00+08:00', 'SKU-1', '4000.00'];
const O5 = ['O5', 'C3', '2026-11-23T11:10:00+08:00', 'SKU-1', '50.00'];

const overrides = { ...LENIENT_GUARDS, campaigns: { policy: { controlShare: 0 } } };

async function firstNight(name: string): Promise<Config> {
  const config = await scenarioConfig(aws, name, { ...overrides, sender: { ...aws.config.sender, maxSendRate: 500 } });
  const dir = await exportFolder(work, `${name}-n1`, { 'customers.csv': CUSTOMERS, 'orders.csv': ORDERS });
  await runNightly({ clock: () => local('2026-11-23 02:00', SH), runDate: '2026-11-22', runId: `${name}-n1`, config, clients: aws.clients, source: directoryExportSource(dir) });
  return config;
}

/**
 * The 09:30 increment, then each of its clients' items as 679125d's hour wrote them: the merged
 * profile with the incremental digest, the stored updatedRunDate or else the hour's day, the folder's
 * name as lastIncrement, and neither lastNight nor incrementOrderIds (written by later versions).
 * The merged profile is this version's merge (the same for these clients: no stage to move).
 */
async function hourOfEarlierVersion(config: Config, name: string): Promise<void> {
  const folder = '2026-11-23T0930';
  await dropIncrement(aws, config, folder, {
    'customers.csv': csv([CUSTOMERS[0]!, C3]),
    'orders.csv': csv([ORDERS_HEADER, O3, O4]),
  });
  await runCampaignHour(aws, config, local('2026-11-23 10:00', SH), `${name}-h10`);
  const table = tableNames(config).profiles;
  for (const id of ['C1', 'C3']) {
    const item = await getProfile(aws.clients.documents, table, id);
    expect(item).toMatchObject({ digest: INCREMENTAL_DIGEST });
    const { lastNight: _night, incrementOrderIds: _counted, ...old } = item as ProfileItem;
    await aws.clients.documents.send(new PutCommand({ TableName: table, Item: { ...old, lastIncrement: folder } }));
  }
  expect(await getProfile(aws.clients.documents, table, 'C3')).toMatchObject({ updatedRunDate: '2026-11-23', lastIncrement: folder });
  expect(await getProfile(aws.clients.documents, table, 'C1')).toMatchObject({ updatedRunDate: '2026-11-22', tier: 'Potential' });
  expect(await getProfile(aws.clients.documents, table, 'C3')).not.toHaveProperty('lastNight');
}

async function secondNight(config: Config, name: string, runId: string, orders: string[][]) {
  const dir = await exportFolder(work, `${name}-n2`, { 'customers.csv': [...CUSTOMERS, C3], 'orders.csv': [...ORDERS, ...orders] });
  return runNightly({ clock: () => local('2026-11-24 02:00', SH), runDate: '2026-11-23', runId, config, clients: aws.clients, source: directoryExportSource(dir) });
}

async function expectMeasuredAsOneCleanRun(config: Config, summary: Awaited<ReturnType<typeof secondNight>>): Promise<void> {
  const table = tableNames(config).profiles;
  // C3 is the night's new client, with no move; C1, whom a night wrote before the hour merged her, moves up.
  expect(summary.changes.newClients).toBe(1);
  const c3 = await getProfile(aws.clients.documents, table, 'C3');
  expect(c3).toMatchObject({ updatedRunDate: '2026-11-23' });
  expect(c3).not.toHaveProperty('tierChangedOn');
  expect(c3).not.toHaveProperty('lastNight');
  expect(await getProfile(aws.clients.documents, table, 'C1')).toMatchObject({ tier: 'Core', previousTier: 'Potential', tierChangedOn: '2026-11-23' });
}

describe('the first night after upgrading from a version before lastNight', () => {
  it('is not refused for a client an hour of that version created that day: a new client, as under this version all along', { timeout: 300_000 }, async () => {
    const config = await firstNight('old-created');
    await hourOfEarlierVersion(config, 'old-created');
    const summary = await secondNight(config, 'old-created', 'old-created-n2', [O3, O4]);
    expect(summary.runDate).toBe('2026-11-23');
    await expectMeasuredAsOneCleanRun(config, summary);
    // A rerun of the completed night is one (nothing written).
    await expect(secondNight(config, 'old-created', 'old-created-n2-again', [O3, O4])).resolves.toMatchObject({ rerun: expect.anything() });
  });

  it('nor after an hour of this version merged onto that client: it keeps her a client no night has written', { timeout: 300_000 }, async () => {
    const config = await firstNight('old-created-merged');
    await hourOfEarlierVersion(config, 'old-created-merged');
    // The upgrade, then this version's hour with another order of hers.
    await dropIncrement(aws, config, '2026-11-23T1130', { 'customers.csv': csv([CUSTOMERS[0]!, C3]), 'orders.csv': csv([ORDERS_HEADER, O5]) });
    await runCampaignHour(aws, config, local('2026-11-23 12:00', SH), 'old-created-merged-h12');
    expect(await getProfile(aws.clients.documents, tableNames(config).profiles, 'C3')).toMatchObject({ lastNight: null, orderCount: 2 });
    const summary = await secondNight(config, 'old-created-merged', 'old-created-merged-n2', [O3, O4, O5]);
    await expectMeasuredAsOneCleanRun(config, summary);
  });
});
