import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { directoryExportSource } from '#shared/exports/source.ts';
import { forgetClient } from '#shared/forget/forget.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { readAddressBook } from '#shared/store/address-book.ts';
import { isStoredErasure } from '#shared/store/erasure-store.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { runCampaignHour } from '#test/support/campaign-runs.ts';
import { dropIncrement } from '#test/support/emulator-data.ts';
import { LENIENT_GUARDS, scratchDir, SHOPIFY_CUSTOMERS_HEADER, shopifyExportDir, shopifyNovemberOrder } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { at as local } from '#test/support/time.ts';

/**
 * A Shopify client changes her email during the day: the hourly ingest merges an increment carrying
 * her customer row with the new address (contact fields replace the stored ones), so the night after
 * finds the new address in the base. The profile keeps the address the last night stored
 * (`nightEmail`), and the night reads her orders under it as hers, as under an address a night
 * stored (test/integration/nightly-shopify-changed-email.test.ts). Without it, they were rejected as
 * an unknown customer's (VIC to Entry, a new first order). The night's write leaves `nightEmail` out.
 */
const aws = sharedAws();
const SH = 'Asia/Shanghai';
const work = scratchDir('shopify-email-hourly');
const CUSTOMERS_HEADER = SHOPIFY_CUSTOMERS_HEADER.join(',');
const order = shopifyNovemberOrder;
const exportOf = (name: string, customers: string[], orders: string[]) => shopifyExportDir(work, name, customers, orders);

describe('a Shopify client whose new address an hour merged before the night', () => {
  it('keeps her history on the night after: her orders under the address the last night stored stay hers', { timeout: 300_000 }, async () => {
    const config = await scenarioConfig(aws, 'shopify-email-hourly', { ...LENIENT_GUARDS, campaigns: { policy: { controlShare: 0 } }, sender: { ...aws.config.sender, maxSendRate: 500 } });
    const oldEmail = 'mei.old.r10@example.com';
    const newEmail = 'mei.new.r10@example.com';
    const others = ['900,Other,One,other.one@example.com,yes', '901,Other,Two,other.two@example.com,yes'];
    const otherOrders = [order('#9001', 'other.one@example.com', '02', '20.00', 'SOAP-1'), order('#9002', 'other.two@example.com', '03', '40.00', 'SOAP-1')];
    const herOld = [order('#1001', oldEmail, '01', '40000.00', 'BAG-1'), order('#1002', oldEmail, '10', '15000.00', 'COAT-1')];
    const night1 = await exportOf('n1', [`41,Mei,Lin,${oldEmail},yes`, ...others], [...herOld, ...otherOrders]);
    const night2 = await exportOf('n2', [`41,Mei,Lin,${newEmail},yes`, ...others], [...herOld, ...otherOrders, order('#1003', newEmail, '22', '30.00', 'SOAP-1')]);
    const profile = () => getProfile(aws.clients.documents, tableNames(config).profiles, '41');

    await runNightly({ clock: () => local('2026-11-23 02:00', SH), runDate: '2026-11-22', runId: 'mail-hour-n1', config, clients: aws.clients, source: directoryExportSource(night1) });
    expect(await profile()).toMatchObject({ email: oldEmail, tier: 'VIC', orderCount: 2 });

    // 09:30: Shopify's increment carries her customer row with the new address; the 10:00 hour merges it.
    await dropIncrement(aws, config, '2026-11-23T0930', { 'customers_export_1.csv': `${CUSTOMERS_HEADER}\n41,Mei,Lin,${newEmail},yes\n` });
    const hour = await runCampaignHour(aws, config, local('2026-11-23 10:00', SH), 'mail-hour-h10');
    expect(hour.ingested?.exports?.length).toBe(1);
    expect(await profile()).toMatchObject({ email: newEmail, nightEmail: oldEmail });

    const summary = await runNightly({ clock: () => local('2026-11-24 02:00', SH), runDate: '2026-11-23', runId: 'mail-hour-n2', config, clients: aws.clients, source: directoryExportSource(night2) });
    const after = await profile();
    expect({ rejected: summary.input.rejected, tier: after?.tier, orderCount: after?.orderCount, spend: after?.lifetimeSpendMinor }).toEqual({
      rejected: 0,
      tier: 'VIC',
      orderCount: 3,
      spend: 5_503_000,
    });
    // The night wrote her profile whole: the address it stores is hers now, and the book keeps the former one.
    expect(after).toMatchObject({ email: newEmail });
    expect(after?.nightEmail).toBeUndefined();
    expect((await readAddressBook(aws.clients.s3, config)).map((entry) => entry.customerId)).toEqual(['41']);
  });
});

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
    const night1 = await exportOf('forget-address', [`41,Mei,Lin,${oldEmail},yes`, '900,Other,One,other.one@example.com,yes'], [order('#1001', oldEmail, '01', '400.00', 'BAG-1'), order('#9001', 'other.one@example.com', '02', '20.00', 'SOAP-1')]);
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
    const night1 = await exportOf('forget-id', [`41,Mei,Lin,${oldEmail},yes`, '900,Other,One,other.one@example.com,yes'], [order('#1001', oldEmail, '01', '400.00', 'BAG-1'), order('#9001', 'other.one@example.com', '02', '20.00', 'SOAP-1')]);
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
    const night1 = await exportOf('created', ['41,Mei,Lin,mei.a.nec@example.com,yes', '900,Other,One,other.one@example.com,yes'], [order('#1001', 'mei.a.nec@example.com', '01', '400.00', 'BAG-1'), order('#9001', 'other.one@example.com', '02', '20.00', 'SOAP-1')]);
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
