import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { directoryExportSource } from '#shared/exports/source.ts';
import { forgetClient } from '#shared/forget/forget.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { isStoredErasure } from '#shared/store/erasure-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { runCampaignHour } from '#test/support/campaign-runs.ts';
import { dropIncrement } from '#test/support/emulator-data.ts';
import { LENIENT_GUARDS, scratchDir, SHOPIFY_CUSTOMERS_HEADER, SHOPIFY_ORDERS_HEADER } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { at as local } from '#test/support/time.ts';

const aws = sharedAws();
const SH = 'Asia/Shanghai';
const work = scratchDir('shopify-night-email');
const CUSTOMERS_HEADER = SHOPIFY_CUSTOMERS_HEADER.join(',');
const ORDERS_HEADER = SHOPIFY_ORDERS_HEADER.join(',');
const order = (name: string, email: string, day: string, amount: string, sku: string) => [name, email, 'paid', `2026-11-${day} 10:00:00 +0800`, 'USD', amount, '1', sku, amount, sku].join(',');

async function exportOf(name: string, customers: string[], orders: string[]): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'customers_export_1.csv'), [CUSTOMERS_HEADER, ...customers].join('\n') + '\n');
  await writeFile(join(dir, 'orders_export_1.csv'), [ORDERS_HEADER, ...orders].join('\n') + '\n');
  return dir;
}

/**
 * The address the last night stored (`nightEmail`, kept on a profile when an hour's increment changed
 * the client's address: test/integration/nightly-shopify-changed-email-hourly.test.ts) is the client's
 * as much as the current one: forgetting her by it finds her profile, forgetting her by id erases it
 * too; and a client an increment created has no night's address to keep.
 */
describe('a profile holding the address the last night stored (nightEmail)', () => {
  it('is forgotten by that address', { timeout: 300_000 }, async () => {
    const config = await scenarioConfig(aws, 'night-email-forget-address', { ...LENIENT_GUARDS, campaigns: { policy: { controlShare: 0 } }, sender: { ...aws.config.sender, maxSendRate: 500 } });
    const oldEmail = 'mei.old.ne@example.com';
    const newEmail = 'mei.new.ne@example.com';
    const night1 = await exportOf('n1', [`41,Mei,Lin,${oldEmail},yes`, '900,Other,One,other.one@example.com,yes'], [order('#1001', oldEmail, '01', '400.00', 'BAG-1'), order('#9001', 'other.one@example.com', '02', '20.00', 'SOAP-1')]);
    const profile = () => getProfile(aws.clients.documents, tableNames(config).profiles, '41');
    await runNightly({ clock: () => local('2026-11-23 02:00', SH), runDate: '2026-11-22', runId: 'ne-n1', config, clients: aws.clients, source: directoryExportSource(night1) });
    await dropIncrement(aws, config, '2026-11-23T0930', { 'customers_export_1.csv': `${CUSTOMERS_HEADER}\n41,Mei,Lin,${newEmail},yes\n` });
    await runCampaignHour(aws, config, local('2026-11-23 10:00', SH), 'ne-h10');
    expect(await profile()).toMatchObject({ email: newEmail, nightEmail: oldEmail });

    // She asks to be forgotten under the address the brand stored for her (still held in the profile).
    const result = await forgetClient({ config, clients: aws.clients, request: { email: oldEmail }, at: Date.now() });
    const left = await profile();
    expect({ profiles: result.profiles, left: left === undefined ? undefined : { email: left.email, nightEmail: left.nightEmail } }).toEqual({ profiles: 1, left: undefined });
  });

  it('forgotten by customer id, has that address recorded as erased too', { timeout: 300_000 }, async () => {
    const config = await scenarioConfig(aws, 'night-email-forget-id', { ...LENIENT_GUARDS, campaigns: { policy: { controlShare: 0 } }, sender: { ...aws.config.sender, maxSendRate: 500 } });
    const oldEmail = 'mei.old.neb@example.com';
    const newEmail = 'mei.new.neb@example.com';
    const night1 = await exportOf('m1', [`41,Mei,Lin,${oldEmail},yes`, '900,Other,One,other.one@example.com,yes'], [order('#1001', oldEmail, '01', '400.00', 'BAG-1'), order('#9001', 'other.one@example.com', '02', '20.00', 'SOAP-1')]);
    const profile = () => getProfile(aws.clients.documents, tableNames(config).profiles, '41');
    await runNightly({ clock: () => local('2026-11-23 02:00', SH), runDate: '2026-11-22', runId: 'ne-m1', config, clients: aws.clients, source: directoryExportSource(night1) });
    await dropIncrement(aws, config, '2026-11-23T0930', { 'customers_export_1.csv': `${CUSTOMERS_HEADER}\n41,Mei,Lin,${newEmail},yes\n` });
    await runCampaignHour(aws, config, local('2026-11-23 10:00', SH), 'ne-h10b');
    expect(await profile()).toMatchObject({ email: newEmail, nightEmail: oldEmail });
    await forgetClient({ config, clients: aws.clients, request: { customerId: '41' }, at: Date.now() });
    expect(await profile()).toBeUndefined();
    const table = tableNames(config).suppression;
    expect({ newErased: await isStoredErasure(aws.clients.documents, table, { email: newEmail }), oldErased: await isStoredErasure(aws.clients.documents, table, { email: oldEmail }) }).toEqual({ newErased: true, oldErased: true });
  });

  it('is none for a client an increment created; a second increment keeps the night\'s address, not the first increment\'s', { timeout: 300_000 }, async () => {
    const config = await scenarioConfig(aws, 'night-email-created', { ...LENIENT_GUARDS, campaigns: { policy: { controlShare: 0 } }, sender: { ...aws.config.sender, maxSendRate: 500 } });
    const night1 = await exportOf('c1', ['41,Mei,Lin,mei.a.nec@example.com,yes', '900,Other,One,other.one@example.com,yes'], [order('#1001', 'mei.a.nec@example.com', '01', '400.00', 'BAG-1'), order('#9001', 'other.one@example.com', '02', '20.00', 'SOAP-1')]);
    await runNightly({ clock: () => local('2026-11-23 02:00', SH), runDate: '2026-11-22', runId: 'ne-c1', config, clients: aws.clients, source: directoryExportSource(night1) });
    const get = (id: string) => getProfile(aws.clients.documents, tableNames(config).profiles, id);
    await dropIncrement(aws, config, '2026-11-23T0930', { 'customers_export_1.csv': `${CUSTOMERS_HEADER}\n77,New,One,new.a.nec@example.com,yes\n41,Mei,Lin,mei.b.nec@example.com,yes\n` });
    await runCampaignHour(aws, config, local('2026-11-23 10:00', SH), 'ne-c-h10');
    await dropIncrement(aws, config, '2026-11-23T1030', { 'customers_export_1.csv': `${CUSTOMERS_HEADER}\n77,New,One,new.b.nec@example.com,yes\n41,Mei,Lin,mei.c.nec@example.com,yes\n` });
    await runCampaignHour(aws, config, local('2026-11-23 11:00', SH), 'ne-c-h11');
    const [mei, fresh] = [await get('41'), await get('77')];
    expect({ mei: [mei?.email, mei?.nightEmail], fresh: [fresh?.email, fresh?.nightEmail] }).toEqual({
      mei: ['mei.c.nec@example.com', 'mei.a.nec@example.com'],
      fresh: ['new.b.nec@example.com', undefined],
    });
  });
});
