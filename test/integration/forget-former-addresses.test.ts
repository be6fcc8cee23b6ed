import { describe, expect, it } from 'vitest';
import type { Config } from '#shared/config.ts';
import { runNightlySharded } from '#local/nightly/sharded-run.ts';
import { readObjectText, writeObject } from '#shared/aws/s3-objects.ts';
import { normaliseEmail } from '#shared/email.ts';
import { ClienteleError } from '#shared/errors.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { forgetClient } from '#shared/forget/forget.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { readAddressBook } from '#shared/store/address-book.ts';
import { addressBookKey, reportsBucket } from '#shared/store/buckets.ts';
import { erasedKey, isStoredErasure } from '#shared/store/erasure-store.ts';
import { shardOf } from '#shared/nightly/shards.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { runCampaignHour } from '#test/support/campaign-runs.ts';
import { LENIENT_GUARDS, scratchDir, shopifyExportDir, shopifyNovemberOrder } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { at as local } from '#test/support/time.ts';

/**
 * Forget and the address book (shared/store/address-book.ts): a Shopify client who changed her
 * address A -> B has A linked to her id by the night. Forgetting her by A reaches her (the book says
 * A was hers, as a bounce of A would), forgetting her by id erases A too (a later sign-up under A
 * stays out with her old orders), and a damaged book neither stops a forget half-way nor fails a
 * night without naming the object.
 */
const aws = sharedAws();
const SH = 'Asia/Shanghai';
const work = scratchDir('forget-former-addresses');
const order = shopifyNovemberOrder;
const exportOf = (name: string, customers: string[], orders: string[]) => shopifyExportDir(work, name, customers, orders);

const others = ['900,Other,One,other.one@example.com,yes', '901,Other,Two,other.two@example.com,yes'];
const otherOrders = [order('#9001', 'other.one@example.com', '02', '20.00', 'SOAP-1'), order('#9002', 'other.two@example.com', '03', '40.00', 'SOAP-1')];

/** Two nights: customer 41 under `a`, then under `b` with `a`'s orders linked to her by the book. */
async function changedAddress(config: Config, name: string, a: string, b: string, extra: { customers?: string[]; orders?: string[] } = {}): Promise<{ night2: string }> {
  const herOld = [order('#1001', a, '01', '40000.00', 'BAG-1'), order('#1002', a, '10', '15000.00', 'COAT-1')];
  const night1 = await exportOf(`${name}-n1`, [`41,Mei,Lin,${a},yes`, ...others], [...herOld, ...otherOrders]);
  const night2 = await exportOf(`${name}-n2`, [`41,Mei,Lin,${b},yes`, ...others, ...(extra.customers ?? [])], [...herOld, ...otherOrders, order('#1003', b, '23', '30.00', 'SOAP-1'), ...(extra.orders ?? [])]);
  await runNightly({ clock: () => local('2026-11-23 02:00', SH), runDate: '2026-11-22', runId: `${name}-n1`, config, clients: aws.clients, source: directoryExportSource(night1) });
  await runNightly({ clock: () => local('2026-11-24 02:00', SH), runDate: '2026-11-23', runId: `${name}-n2`, config, clients: aws.clients, source: directoryExportSource(night2) });
  return { night2 };
}

describe('forget and the address book', () => {
  it('each link keeps its address\'s erasure key, in one run and in a sharded night (her two addresses in two shards); an entry from before gets it from the next night', { timeout: 300_000 }, async () => {
    const a = 'mei.old.ffa0@example.com';
    let b = 'mei.new.ffa0.0@example.com';
    for (let i = 1; shardOf(normaliseEmail(b), 4) === shardOf(normaliseEmail(a), 4); i++) b = `mei.new.ffa0.${i}@example.com`;
    const herOld = [order('#1001', a, '01', '40000.00', 'BAG-1'), order('#1002', a, '10', '15000.00', 'COAT-1')];
    const night1 = await exportOf('ffa0-n1', [`41,Mei,Lin,${a},yes`, ...others], [...herOld, ...otherOrders]);
    const night2 = await exportOf('ffa0-n2', [`41,Mei,Lin,${b},yes`, ...others], [...herOld, ...otherOrders, order('#1003', b, '23', '30.00', 'SOAP-1')]);
    const expected = [{ sha256: expect.any(String), fnv: expect.any(Number), customerId: '41', seenOn: '2026-11-23', erasureKey: erasedKey('email', a) }];

    const single = await scenarioConfig(aws, 'ffa-keys-single', LENIENT_GUARDS);
    await runNightly({ clock: () => local('2026-11-23 02:00', SH), runDate: '2026-11-22', runId: 'ffa0-s1', config: single, clients: aws.clients, source: directoryExportSource(night1) });
    await runNightly({ clock: () => local('2026-11-24 02:00', SH), runDate: '2026-11-23', runId: 'ffa0-s2', config: single, clients: aws.clients, source: directoryExportSource(night2) });
    expect(await readAddressBook(aws.clients.s3, single)).toEqual(expected);

    const sharded = await scenarioConfig(aws, 'ffa-keys-sharded', LENIENT_GUARDS);
    for (const [runDate, dir] of [['2026-11-22', night1], ['2026-11-23', night2]] as const) {
      const run = await runNightlySharded({ clock: Date.now, runDate, runId: `ffa0-4-${runDate}`, config: sharded, clients: aws.clients, shards: 4, source: { kind: 'directory', path: dir } });
      expect(run.shards).toBe(4);
    }
    expect(await readAddressBook(aws.clients.s3, sharded)).toEqual(expected);

    // A book a night wrote before entries kept the key: read as it is, and given the key by the next night that links the address.
    const object = { bucket: reportsBucket(single), key: addressBookKey(single) };
    const stored = JSON.parse((await readObjectText(aws.clients.s3, object.bucket, object.key)) ?? '{}') as { version: 1; entries: Record<string, unknown>[] };
    const before = { version: 1, entries: stored.entries.map(({ erasureKey: _dropped, ...entry }) => entry) };
    await writeObject(aws.clients.s3, { ...object, body: JSON.stringify(before), contentType: 'application/json' });
    expect((await readAddressBook(aws.clients.s3, single))[0]?.erasureKey).toBeUndefined();
    await runNightly({ clock: () => local('2026-11-25 02:00', SH), runDate: '2026-11-24', runId: 'ffa0-s3', config: single, clients: aws.clients, source: directoryExportSource(night2) });
    expect(await readAddressBook(aws.clients.s3, single)).toEqual(expected);
  });

  it('forget by her former address (the book links it to her) erases her, and the next night and hour leave her out', { timeout: 300_000 }, async () => {
    const config = await scenarioConfig(aws, 'ffa-by-former', { ...LENIENT_GUARDS, campaigns: { policy: { controlShare: 0 } }, sender: { ...aws.config.sender, maxSendRate: 500 } });
    const a = 'mei.old.ffa1@example.com';
    const b = 'mei.new.ffa1@example.com';
    const { night2 } = await changedAddress(config, 'ffa1', a, b);
    const profile = () => getProfile(aws.clients.documents, tableNames(config).profiles, '41');
    expect(await profile()).toMatchObject({ email: b, tier: 'VIC', orderCount: 3 });
    expect((await readAddressBook(aws.clients.s3, config)).map((e) => e.customerId)).toEqual(['41']);

    const result = await forgetClient({ config, clients: aws.clients, request: { email: a }, at: local('2026-11-24 08:00', SH) });
    expect(result).toMatchObject({ profiles: 1, formerAddresses: 1 });
    expect(await profile()).toBeUndefined();
    expect(await readAddressBook(aws.clients.s3, config)).toEqual([]);
    const table = tableNames(config).suppression;
    expect(await isStoredErasure(aws.clients.documents, table, { customerId: '41' })).toBe(true);
    expect(await isStoredErasure(aws.clients.documents, table, { email: b })).toBe(true);

    const summary = await runNightly({ clock: () => local('2026-11-25 02:00', SH), runDate: '2026-11-24', runId: 'ffa1-n3', config, clients: aws.clients, source: directoryExportSource(night2) });
    // Her row (by id) and her orders under A, read as the address's own client (by the address).
    expect(summary.input.erasedClients).toBe(2);
    expect(await profile()).toBeUndefined();
    await runCampaignHour(aws, config, local('2026-11-25 10:00', SH), 'ffa1-h');
    expect(await emailsTo(aws, b)).toEqual([]);
  });

  it('forget by a former address that another client holds now erases that client, not the one the book names', { timeout: 300_000 }, async () => {
    const config = await scenarioConfig(aws, 'ffa-held-now', LENIENT_GUARDS);
    const a = 'mei.old.ffa2@example.com';
    const b = 'mei.new.ffa2@example.com';
    // A second night's export where 77 already signed up with A (her address is someone's now).
    const herOld = [order('#1001', a, '01', '40000.00', 'BAG-1'), order('#1002', a, '10', '15000.00', 'COAT-1')];
    const night1 = await exportOf('ffa2-n1', [`41,Mei,Lin,${a},yes`, ...others], [...herOld, ...otherOrders]);
    const night2 = await exportOf('ffa2-n2', [`41,Mei,Lin,${b},yes`, ...others], [...herOld, ...otherOrders, order('#1003', b, '23', '30.00', 'SOAP-1')]);
    const night3 = await exportOf('ffa2-n3', [`41,Mei,Lin,${b},yes`, `77,Ann,Wu,${a},yes`, ...others], [...herOld, ...otherOrders, order('#1003', b, '23', '30.00', 'SOAP-1')]);
    await runNightly({ clock: () => local('2026-11-23 02:00', SH), runDate: '2026-11-22', runId: 'ffa2-n1', config, clients: aws.clients, source: directoryExportSource(night1) });
    await runNightly({ clock: () => local('2026-11-24 02:00', SH), runDate: '2026-11-23', runId: 'ffa2-n2', config, clients: aws.clients, source: directoryExportSource(night2) });
    await runNightly({ clock: () => local('2026-11-25 02:00', SH), runDate: '2026-11-24', runId: 'ffa2-n3', config, clients: aws.clients, source: directoryExportSource(night3) });
    const profiles = tableNames(config).profiles;
    expect(await getProfile(aws.clients.documents, profiles, '77')).toMatchObject({ email: a });
    expect((await readAddressBook(aws.clients.s3, config)).map((e) => e.customerId)).toEqual(['41']);

    const result = await forgetClient({ config, clients: aws.clients, request: { email: a }, at: local('2026-11-25 08:00', SH) });
    expect(result.profiles).toBe(1);
    expect(await getProfile(aws.clients.documents, profiles, '77')).toBeUndefined();
    expect(await getProfile(aws.clients.documents, profiles, '41')).toMatchObject({ email: b });
    expect(await isStoredErasure(aws.clients.documents, tableNames(config).suppression, { customerId: '41' })).toBe(false);
  });

  it('forget by id records her former addresses as erased: a new customer under one of them, with her old orders, stays out', { timeout: 300_000 }, async () => {
    const config = await scenarioConfig(aws, 'ffa-by-id', LENIENT_GUARDS);
    const a = 'mei.old.ffa3@example.com';
    const b = 'mei.new.ffa3@example.com';
    await changedAddress(config, 'ffa3', a, b);
    expect((await readAddressBook(aws.clients.s3, config)).map((e) => e.customerId)).toEqual(['41']);
    const result = await forgetClient({ config, clients: aws.clients, request: { customerId: '41' }, at: local('2026-11-24 08:00', SH) });
    expect(result.formerAddresses).toBe(1);
    const table = tableNames(config).suppression;
    expect(await isStoredErasure(aws.clients.documents, table, { email: b })).toBe(true);
    expect(await isStoredErasure(aws.clients.documents, table, { email: a })).toBe(true);
    // Later: Shopify deleted customer 41, and someone signs up again with A, her old orders still under A.
    const herOld = [order('#1001', a, '01', '40000.00', 'BAG-1'), order('#1002', a, '10', '15000.00', 'COAT-1')];
    const night3 = await exportOf('ffa3-n3', [`77,Mei,Lin,${a},yes`, ...others], [...herOld, ...otherOrders]);
    const summary = await runNightly({ clock: () => local('2026-11-25 02:00', SH), runDate: '2026-11-24', runId: 'ffa3-n3', config, clients: aws.clients, source: directoryExportSource(night3) });
    expect(summary.input.erasedClients).toBe(1);
    expect(await getProfile(aws.clients.documents, tableNames(config).profiles, '77')).toBeUndefined();
  });

  it('a damaged book fails the night naming its object, and a forget meanwhile completes, saying it skipped the book', { timeout: 300_000 }, async () => {
    const config = await scenarioConfig(aws, 'ffa-damaged', LENIENT_GUARDS);
    const email = 'mei.ffa4@example.com';
    const night = await exportOf('ffa4-n1', [`41,Mei,Lin,${email},yes`], [order('#1001', email, '01', '400.00', 'BAG-1')]);
    await runNightly({ clock: () => local('2026-11-22 02:00', SH), runDate: '2026-11-21', runId: 'ffa4-n0', config, clients: aws.clients, source: directoryExportSource(night) });
    const key = addressBookKey(config);
    await writeObject(aws.clients.s3, { bucket: reportsBucket(config), key, body: '{"version":1,"entries":[{"sha256":"ab', contentType: 'application/json' });
    const error = await runNightly({ clock: () => local('2026-11-23 02:00', SH), runDate: '2026-11-22', runId: 'ffa4-n1', config, clients: aws.clients, source: directoryExportSource(night) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ClienteleError);
    expect((error as Error).message).toContain(`s3://${reportsBucket(config)}/${key}`);

    const result = await forgetClient({ config, clients: aws.clients, request: { customerId: '41' }, at: Date.now() });
    expect(result).toMatchObject({ profiles: 1, addressBook: 'damaged' });
    expect(await getProfile(aws.clients.documents, tableNames(config).profiles, '41')).toBeUndefined();
  });
});
