import { describe, expect, it } from 'vitest';
import { runNightlySharded } from '#local/nightly/sharded-run.ts';
import type { Config } from '#shared/config.ts';
import { normaliseEmail } from '#shared/email.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { shardOf } from '#shared/nightly/shards.ts';
import { readObjectText } from '#shared/aws/s3-objects.ts';
import { forgetClient } from '#shared/forget/forget.ts';
import { AMBIGUOUS_ADDRESS_REASON } from '#shared/nightly/former-addresses.ts';
import { addressKeyOf, readAddressBook } from '#shared/store/address-book.ts';
import { erasedKey } from '#shared/store/erasure-store.ts';
import { addressBookKey, reportsBucket } from '#shared/store/buckets.ts';
import type { AwsClients } from '#shared/aws/clients.ts';
import { crashingAfter } from '#test/support/crashing-clients.ts';
import { expireWriteLeases } from '#test/support/emulator-data.ts';
import { csv, exportFolder, LENIENT_GUARDS, scratchDir, SHOPIFY_CUSTOMERS_HEADER, SHOPIFY_ORDERS_HEADER, shopifyNovemberOrderRow } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { comparable, rowObjects, storedState } from '#test/support/nightly-comparison.ts';
import { countsOf, runCampaignHour } from '#test/support/campaign-runs.ts';
import { emailsTo } from '#test/support/ses-store.ts';

/**
 * A Shopify client who changes her email: Shopify's customers export carries her id and her
 * current address, while each past order keeps the address it was placed with. Her history must
 * stay whole on the night after the change (her old orders under the old address, a new one under
 * the new address): spend, tier, order count and first order as before, and no new first order
 * (which would make her due a welcome). A sharded night must store exactly what one run stores,
 * and her two addresses are picked to fall to two shards of four.
 * Before the address book, the night rejected her old orders as an unknown customer's (VIC to
 * Entry, a new first order), the same in one run and in four shards. A customer who takes over her
 * old address (Shopify gives it to the next one who signs up with it) was given her orders too; now
 * the address's orders are split by their time (former-addresses.ts): hers before the last night
 * that stored it as hers, his after the night that saw her with another, rejected between.
 */

const aws = sharedAws();
const work = scratchDir('shopify-changed-email');
const SHARDS = 4;

const exportOf = (name: string, files: Record<string, string[][]>) => exportFolder(work, name, files);

/** An address of the same client in another shard of SHARDS than `email`. */
function otherShardEmail(email: string, prefix: string): string {
  for (let i = 0; ; i++) {
    const other = `${prefix}${i}@example.com`;
    if (shardOf(normaliseEmail(other), SHARDS) !== shardOf(normaliseEmail(email), SHARDS)) return other;
  }
}

const order = shopifyNovemberOrderRow;

function runSingle(config: Config, runDate: string, runId: string, dir: string) {
  return runNightly({ clock: Date.now, runDate, runId, config, clients: aws.clients, source: directoryExportSource(dir) });
}

function nightWith(config: Config, clients: AwsClients, runDate: string, runId: string, dir: string) {
  return runNightly({ clock: Date.now, runDate, runId, config, clients, source: directoryExportSource(dir) });
}

function runSharded(config: Config, runDate: string, runId: string, dir: string) {
  return runNightlySharded({ clock: Date.now, runDate, runId, config, clients: aws.clients, shards: SHARDS, source: { kind: 'directory', path: dir } });
}

const OTHERS = [
  ['900', 'Other', 'One', 'other.one@example.com', 'yes'],
  ['901', 'Other', 'Two', 'other.two@example.com', 'yes'],
];
const OTHER_ORDERS = [order('#9001', 'other.one@example.com', '02', '20.00', 'SOAP-1'), order('#9002', 'other.two@example.com', '03', '40.00', 'SOAP-1')];

/** Night 1: she is a VIC at her old address. Night 2: her row has the new address, her past orders the old one, and one new order the new one. */
async function changedEmailNights(tag: string) {
  const oldEmail = `mei.old.${tag}@example.com`;
  const newEmail = otherShardEmail(oldEmail, `mei.new.${tag}.`);
  const herOldOrders = [order('#1001', oldEmail, '01', '40000.00', 'BAG-1'), order('#1002', oldEmail, '10', '15000.00', 'COAT-1')];
  const night1 = await exportOf(`${tag}-1`, {
    'customers_export_1.csv': [SHOPIFY_CUSTOMERS_HEADER, ['41', 'Mei', 'Lin', oldEmail, 'yes'], ...OTHERS],
    'orders_export_1.csv': [SHOPIFY_ORDERS_HEADER, ...herOldOrders, ...OTHER_ORDERS],
  });
  const night2 = await exportOf(`${tag}-2`, {
    'customers_export_1.csv': [SHOPIFY_CUSTOMERS_HEADER, ['41', 'Mei', 'Lin', newEmail, 'yes'], ...OTHERS],
    'orders_export_1.csv': [SHOPIFY_ORDERS_HEADER, ...herOldOrders, ...OTHER_ORDERS, order('#1003', newEmail, '22', '30.00', 'SOAP-1')],
  });
  return { oldEmail, newEmail, night1, night2 };
}

const anaOrders = (email: string) => [order('#2001', email, '01', '40000.00', 'BAG-1'), order('#2002', email, '10', '15000.00', 'COAT-1')];
/** Rejects open (one ambiguous order is a large share of a small file), no control group for the welcome. */
const TAKEN_CONFIG = { ...LENIENT_GUARDS, maxRejectShare: 1, campaigns: { policy: { controlShare: 0 } } };

/**
 * Night 1: Ana (51) a VIC at her old address. Night 2: her row has a new address (another shard of
 * four) and Bo (53), a newcomer, has her old one; an order under it of the 23rd (line 4), placed
 * between the last night that stored it as hers and the night that saw him with it. Night 3: the same,
 * and Bo's first order, of the 24th.
 */
async function takenNights(tag: string) {
  const oldEmail = `ana.old.${tag}@example.com`;
  const newEmail = otherShardEmail(oldEmail, `ana.new.${tag}.`);
  const customers = [SHOPIFY_CUSTOMERS_HEADER, ['51', 'Ana', 'Ruiz', newEmail, 'yes'], ['53', 'Bo', 'Chen', oldEmail, 'yes'], ...OTHERS];
  const between = order('#2004', oldEmail, '23', '30.00', 'SOAP-1');
  const dirs = [
    await exportOf(`${tag}-1`, {
      'customers_export_1.csv': [SHOPIFY_CUSTOMERS_HEADER, ['51', 'Ana', 'Ruiz', oldEmail, 'yes'], ...OTHERS],
      'orders_export_1.csv': [SHOPIFY_ORDERS_HEADER, ...anaOrders(oldEmail), ...OTHER_ORDERS],
    }),
    await exportOf(`${tag}-2`, { 'customers_export_1.csv': customers, 'orders_export_1.csv': [SHOPIFY_ORDERS_HEADER, ...anaOrders(oldEmail), between, ...OTHER_ORDERS] }),
    await exportOf(`${tag}-3`, {
      'customers_export_1.csv': customers,
      'orders_export_1.csv': [SHOPIFY_ORDERS_HEADER, ...anaOrders(oldEmail), between, ...OTHER_ORDERS, order('#2005', oldEmail, '24', '80.00', 'SOAP-1')],
    }),
  ] as const;
  const nights = [['2026-11-22', dirs[0]], ['2026-11-23', dirs[1]], ['2026-11-24', dirs[2]]] as const;
  return { oldEmail, newEmail, dirs, nights };
}

async function profileOf(config: Config, customerId: string) {
  return (await storedState(aws, config)).profiles.find((p) => p.customerId === customerId);
}

describe('nightly, a Shopify client who changed her email', () => {
  it('keeps her history in one run: her orders under the former address stay hers', async () => {
    const { newEmail, night1, night2 } = await changedEmailNights('single');
    const config = await scenarioConfig(aws, 'changed-email-single', LENIENT_GUARDS);
    await runSingle(config, '2026-11-22', 'changed-email-single-1', night1);
    const before = await profileOf(config, '41');
    expect(before).toMatchObject({ tier: 'VIC', orderCount: 2, lifetimeSpendMinor: 5_500_000 });

    const summary = await runSingle(config, '2026-11-23', 'changed-email-single-2', night2);
    const after = await profileOf(config, '41');
    expect(after).toMatchObject({ email: newEmail, tier: 'VIC', orderCount: 3, lifetimeSpendMinor: 5_503_000, firstOrderAt: before?.firstOrderAt });
    // Her first order is still November 1st (above): no welcome is due, it is 24 hours from the first order.
    // Her old orders are not rejected as an unknown customer's, and make no profile of their own.
    expect(summary.input.rejected).toBe(0);
    expect((await storedState(aws, config)).profiles.map((p) => p.customerId)).toEqual(['41', '900', '901']);
  }, 180_000);

  it('stores in a sharded night (4 shards, her two addresses in two shards) exactly what one run stores, the nights after too', async () => {
    const { newEmail, night1, night2 } = await changedEmailNights('sharded');
    const single = await scenarioConfig(aws, 'changed-email-one', LENIENT_GUARDS);
    const sharded = await scenarioConfig(aws, 'changed-email-four', LENIENT_GUARDS);
    // Night 3 (the same export again): the base holds her new address, the address book the old one.
    for (const [night, dir] of [
      ['2026-11-22', night1],
      ['2026-11-23', night2],
      ['2026-11-24', night2],
    ] as const) {
      const one = await runSingle(single, night, `changed-email-one-${night}`, dir);
      const four = await runSharded(sharded, night, `changed-email-four-${night}`, dir);
      expect(four.shards).toBe(SHARDS);
      expect(comparable(four)).toEqual(comparable(one));
      expect(await rowObjects(aws, four)).toEqual(await rowObjects(aws, one));
      expect(await storedState(aws, sharded)).toEqual(await storedState(aws, single));
    }
    expect(await profileOf(sharded, '41')).toMatchObject({ email: newEmail, tier: 'VIC', orderCount: 3, lifetimeSpendMinor: 5_503_000 });
  }, 300_000);

  it('keeps her history on the nights after, when the base holds her new address (the former one only in an address book)', async () => {
    const { newEmail, night1, night2 } = await changedEmailNights('later');
    const config = await scenarioConfig(aws, 'changed-email-later', LENIENT_GUARDS);
    await runSingle(config, '2026-11-22', 'changed-email-later-1', night1);
    await runSingle(config, '2026-11-23', 'changed-email-later-2', night2);
    // The same export the next night: Shopify still names her past orders by the old address.
    await runSingle(config, '2026-11-24', 'changed-email-later-3', night2);
    expect(await profileOf(config, '41')).toMatchObject({ email: newEmail, tier: 'VIC', orderCount: 3, lifetimeSpendMinor: 5_503_000 });
  }, 180_000);

  it('forgets her former address with her: once she is forgotten, her old orders are nobody\'s', async () => {
    const { oldEmail, night1, night2 } = await changedEmailNights('forget');
    const config = await scenarioConfig(aws, 'changed-email-forget', LENIENT_GUARDS);
    await runSingle(config, '2026-11-22', 'changed-email-forget-1', night1);
    await runSingle(config, '2026-11-23', 'changed-email-forget-2', night2);
    // With the address's erasure key, which the forget records: a customer signing up later under it stays out.
    expect(await readAddressBook(aws.clients.s3, config)).toEqual([{ ...addressKeyOf(oldEmail), customerId: '41', seenOn: '2026-11-23', erasureKey: erasedKey('email', oldEmail) }]);
    await forgetClient({ config, clients: aws.clients, request: { customerId: '41' }, at: Date.now() });
    expect(await readAddressBook(aws.clients.s3, config)).toEqual([]);
    // Her row is left out, and her orders under the old address go to no one (no profile of hers comes back).
    const summary = await runSingle(config, '2026-11-24', 'changed-email-forget-3', night2);
    expect((await storedState(aws, config)).profiles.map((p) => p.customerId)).toEqual(['900', '901']);
    // Her former address was erased with her: its orders are left out as erased (her row and the address), not rejected as an unknown customer's.
    expect({ rejected: summary.input.rejected, erasedClients: summary.input.erasedClients }).toEqual({ rejected: 0, erasedClients: 2 });
    expect(await readAddressBook(aws.clients.s3, config)).toEqual([]);
  }, 180_000);

  it('stores in a sharded night what one run stores once she is forgotten (her row still in another bucket)', async () => {
    const { night1, night2 } = await changedEmailNights('forget-sharded');
    const single = await scenarioConfig(aws, 'changed-email-forget-one', LENIENT_GUARDS);
    const sharded = await scenarioConfig(aws, 'changed-email-forget-four', LENIENT_GUARDS);
    for (const [night, dir] of [
      ['2026-11-22', night1],
      ['2026-11-23', night2],
      ['2026-11-24', night2],
    ] as const) {
      // Forgotten by her id before night 3: her row is in the export, and stays out.
      if (night === '2026-11-24') for (const config of [single, sharded]) await forgetClient({ config, clients: aws.clients, request: { customerId: '41' }, at: Date.now() });
      const one = await runSingle(single, night, `changed-email-forget-one-${night}`, dir);
      const four = await runSharded(sharded, night, `changed-email-forget-four-${night}`, dir);
      expect(comparable(four)).toEqual(comparable(one));
      expect(await rowObjects(aws, four)).toEqual(await rowObjects(aws, one));
      expect(await storedState(aws, sharded)).toEqual(await storedState(aws, single));
    }
    expect((await storedState(aws, sharded)).profiles.map((p) => p.customerId)).toEqual(['900', '901']);
  }, 300_000);

  it('ends where one clean run ends when the night that links her old address stops part-way and is rerun', async () => {
    const { night1, night2 } = await changedEmailNights('crash');
    const clean = await scenarioConfig(aws, 'changed-email-crash-clean', LENIENT_GUARDS);
    await runSingle(clean, '2026-11-22', 'changed-email-crash-clean-1', night1);
    const counter = { writes: 0 };
    await nightWith(clean, crashingAfter(aws.clients, Number.POSITIVE_INFINITY, undefined, counter), '2026-11-23', 'changed-email-crash-clean-2', night2);
    const expected = { state: await storedState(aws, clean), book: await readAddressBook(aws.clients.s3, clean) };
    expect(expected.book).toHaveLength(1);
    // After her profile is written with the new address (the base's address is then the before-image's), and before.
    for (const k of [...new Set([1, Math.floor(counter.writes / 2), counter.writes - 2])]) {
      const config = await scenarioConfig(aws, `changed-email-crash-${k}`, LENIENT_GUARDS);
      await runSingle(config, '2026-11-22', `changed-email-crash-${k}-1`, night1);
      const dying = crashingAfter(aws.clients, k);
      await expect(nightWith(config, dying, '2026-11-23', `changed-email-crash-${k}-2`, night2)).rejects.toThrow(/crash/);
      await dying.settled();
      await expireWriteLeases(aws, config, '2026-11-23');
      await runSingle(config, '2026-11-23', `changed-email-crash-${k}-2-again`, night2);
      expect({ state: await storedState(aws, config), book: await readAddressBook(aws.clients.s3, config) }, `rerun after ${k} of ${counter.writes} writes`).toEqual(expected);
    }
  }, 300_000);

  it('keeps no address in the clear in the address book', async () => {
    const { oldEmail, night1, night2 } = await changedEmailNights('hashed');
    const config = await scenarioConfig(aws, 'changed-email-hashed', LENIENT_GUARDS);
    await runSingle(config, '2026-11-22', 'changed-email-hashed-1', night1);
    await runSingle(config, '2026-11-23', 'changed-email-hashed-2', night2);
    const text = (await readObjectText(aws.clients.s3, reportsBucket(config), addressBookKey(config))) ?? '';
    expect(text).toContain(addressKeyOf(oldEmail).sha256);
    expect(text).not.toContain('mei');
  }, 180_000);

  it('never gives her orders under the former address to another customer who has that address now', async () => {
    const oldEmail = 'ana.old.taken@example.com';
    const newEmail = 'ana.new.taken@example.com';
    const herOrders = [order('#2001', oldEmail, '01', '40000.00', 'BAG-1'), order('#2002', oldEmail, '10', '15000.00', 'COAT-1')];
    const night1 = await exportOf('taken-1', {
      'customers_export_1.csv': [SHOPIFY_CUSTOMERS_HEADER, ['51', 'Ana', 'Ruiz', oldEmail, 'yes'], ['52', 'Bo', 'Chen', 'bo@example.com', 'yes'], ...OTHERS],
      'orders_export_1.csv': [SHOPIFY_ORDERS_HEADER, ...herOrders, order('#2003', 'bo@example.com', '05', '60.00', 'SOAP-1'), ...OTHER_ORDERS],
    });
    // She moved to a new address, and Bo took her old one (Shopify keeps each address on one customer at a time).
    const night2 = await exportOf('taken-2', {
      'customers_export_1.csv': [SHOPIFY_CUSTOMERS_HEADER, ['51', 'Ana', 'Ruiz', newEmail, 'yes'], ['52', 'Bo', 'Chen', oldEmail, 'yes'], ...OTHERS],
      'orders_export_1.csv': [SHOPIFY_ORDERS_HEADER, ...herOrders, order('#2003', 'bo@example.com', '05', '60.00', 'SOAP-1'), ...OTHER_ORDERS],
    });
    const config = await scenarioConfig(aws, 'changed-email-taken', LENIENT_GUARDS);
    await runSingle(config, '2026-11-22', 'changed-email-taken-1', night1);
    expect(await profileOf(config, '52')).toMatchObject({ tier: 'Entry', lifetimeSpendMinor: 6_000 });
    await runSingle(config, '2026-11-23', 'changed-email-taken-2', night2);
    // Her orders of November, placed before he had the address, are not his.
    expect(await profileOf(config, '52')).toMatchObject({ email: oldEmail, tier: 'Entry' });
  }, 180_000);

  it('splits an address another customer took over the night she left it: hers stay hers, his first order is his (welcome), the night between rejected; one run and four shards alike', async () => {
    const { oldEmail, newEmail, nights } = await takenNights('split');
    const single = await scenarioConfig(aws, 'changed-email-split-one', TAKEN_CONFIG);
    const sharded = await scenarioConfig(aws, 'changed-email-split-four', TAKEN_CONFIG);
    const summaries: Record<string, { rejected: number; rejects: unknown[] }> = {};
    for (const [night, dir] of nights) {
      const one = await runSingle(single, night, `changed-email-split-one-${night}`, dir);
      const four = await runSharded(sharded, night, `changed-email-split-four-${night}`, dir);
      expect(comparable(four)).toEqual(comparable(one));
      expect(await rowObjects(aws, four)).toEqual(await rowObjects(aws, one));
      expect(await storedState(aws, sharded)).toEqual(await storedState(aws, single));
      expect(await readAddressBook(aws.clients.s3, sharded)).toEqual(await readAddressBook(aws.clients.s3, single));
      summaries[night] = { rejected: one.input.rejected, rejects: (await rowObjects(aws, one)).rejects };
      if (night === '2026-11-22') continue;
      // Her history whole, the same each night: VIC, her two orders, her first order of November 1st.
      expect(await profileOf(single, '51')).toMatchObject({ email: newEmail, tier: 'VIC', orderCount: 2, lifetimeSpendMinor: 5_500_000, firstOrderAt: new Date('2026-11-01T10:00:00+08:00').toISOString() });
      // The order of the 23rd under the address: before the night that saw her gone and him with it, whose it is cannot be told.
      expect(summaries[night]).toEqual({ rejected: 1, rejects: [expect.objectContaining({ line: 4, reason: AMBIGUOUS_ADDRESS_REASON })] });
    }
    expect(await readAddressBook(aws.clients.s3, single)).toEqual([{ ...addressKeyOf(oldEmail), customerId: '51', seenOn: '2026-11-23', hersBefore: '2026-11-22' }]);
    // Night 2 made him a prospect (none of her orders), night 3 gave him his first order, placed after she was seen gone.
    expect(await profileOf(single, '53')).toMatchObject({ email: oldEmail, tier: 'Entry', orderCount: 1, lifetimeSpendMinor: 8_000, firstOrderAt: new Date('2026-11-24T10:00:00+08:00').toISOString() });
    // His first order gets his welcome (within 24 hours of it); her first order is weeks old: none for her.
    const hour = await runCampaignHour(aws, single, Date.parse('2026-11-25T09:00:00+08:00'), 'changed-email-split-hour');
    expect(countsOf(hour, 'welcome').sent).toBe(1);
    expect(await emailsTo(aws, oldEmail)).toHaveLength(1);
    expect(await emailsTo(aws, newEmail)).toEqual([]);
  }, 400_000);

  it('splits an address another customer takes over on a later night by the address book: the orders before her change was seen stay hers', async () => {
    const { oldEmail, newEmail, dirs } = await takenNights('later-taken');
    // Night 2: she moved and no one has her old address (its order of the 23rd is hers); night 3: Bo signs up with it.
    const night2 = await exportOf('later-taken-2b', {
      'customers_export_1.csv': [SHOPIFY_CUSTOMERS_HEADER, ['51', 'Ana', 'Ruiz', newEmail, 'yes'], ...OTHERS],
      'orders_export_1.csv': [SHOPIFY_ORDERS_HEADER, ...anaOrders(oldEmail), order('#2004', oldEmail, '23', '30.00', 'SOAP-1'), ...OTHER_ORDERS],
    });
    const single = await scenarioConfig(aws, 'changed-email-later-taken-one', TAKEN_CONFIG);
    const sharded = await scenarioConfig(aws, 'changed-email-later-taken-four', TAKEN_CONFIG);
    for (const [night, dir] of [['2026-11-22', dirs[0]], ['2026-11-23', night2], ['2026-11-24', dirs[2]]] as const) {
      const one = await runSingle(single, night, `changed-email-later-taken-one-${night}`, dir);
      const four = await runSharded(sharded, night, `changed-email-later-taken-four-${night}`, dir);
      expect(comparable(four)).toEqual(comparable(one));
      expect(await storedState(aws, sharded)).toEqual(await storedState(aws, single));
      expect(one.input.rejected).toBe(0);
      if (night !== '2026-11-22') expect(await profileOf(single, '51')).toMatchObject({ tier: 'VIC', orderCount: 3, lifetimeSpendMinor: 5_503_000 });
    }
    expect(await readAddressBook(aws.clients.s3, single)).toEqual([{ ...addressKeyOf(oldEmail), customerId: '51', seenOn: '2026-11-23' }]);
    expect(await profileOf(single, '53')).toMatchObject({ email: oldEmail, tier: 'Entry', orderCount: 1, lifetimeSpendMinor: 8_000 });
  }, 400_000);

  it('ends where one clean run ends when the night that splits a taken address stops part-way and is rerun', async () => {
    const { dirs } = await takenNights('taken-crash');
    const clean = await scenarioConfig(aws, 'changed-email-taken-crash-clean', TAKEN_CONFIG);
    await runSingle(clean, '2026-11-22', 'changed-email-taken-crash-clean-1', dirs[0]);
    const counter = { writes: 0 };
    await nightWith(clean, crashingAfter(aws.clients, Number.POSITIVE_INFINITY, undefined, counter), '2026-11-23', 'changed-email-taken-crash-clean-2', dirs[1]);
    const expected = { state: await storedState(aws, clean), book: await readAddressBook(aws.clients.s3, clean) };
    expect(expected.book).toHaveLength(1);
    for (const k of [...new Set([1, Math.floor(counter.writes / 2), counter.writes - 2])]) {
      const config = await scenarioConfig(aws, `changed-email-taken-crash-${k}`, TAKEN_CONFIG);
      await runSingle(config, '2026-11-22', `changed-email-taken-crash-${k}-1`, dirs[0]);
      const dying = crashingAfter(aws.clients, k);
      await expect(nightWith(config, dying, '2026-11-23', `changed-email-taken-crash-${k}-2`, dirs[1])).rejects.toThrow(/crash/);
      await dying.settled();
      await expireWriteLeases(aws, config, '2026-11-23');
      await runSingle(config, '2026-11-23', `changed-email-taken-crash-${k}-2-again`, dirs[1]);
      expect({ state: await storedState(aws, config), book: await readAddressBook(aws.clients.s3, config) }, `rerun after ${k} of ${counter.writes} writes`).toEqual(expected);
    }
    // Rerun in four shards: the shard of his row finds her old address in her before-image, read from another shard's clients.
    const k = Math.floor(counter.writes / 2);
    const config = await scenarioConfig(aws, 'changed-email-taken-crash-four', TAKEN_CONFIG);
    await runSingle(config, '2026-11-22', 'changed-email-taken-crash-four-1', dirs[0]);
    const dying = crashingAfter(aws.clients, k);
    await expect(nightWith(config, dying, '2026-11-23', 'changed-email-taken-crash-four-2', dirs[1])).rejects.toThrow(/crash/);
    await dying.settled();
    await expireWriteLeases(aws, config, '2026-11-23');
    await runSharded(config, '2026-11-23', 'changed-email-taken-crash-four-2-again', dirs[1]);
    expect({ state: await storedState(aws, config), book: await readAddressBook(aws.clients.s3, config) }, `sharded rerun after ${k} of ${counter.writes} writes`).toEqual(expected);
  }, 400_000);

  it('links a forgotten client\'s taken address to nobody: her profile stays gone, one run and four shards alike', async () => {
    const { oldEmail, nights } = await takenNights('taken-forget');
    const single = await scenarioConfig(aws, 'changed-email-taken-forget-one', TAKEN_CONFIG);
    const sharded = await scenarioConfig(aws, 'changed-email-taken-forget-four', TAKEN_CONFIG);
    for (const [night, dir] of nights) {
      // Forgotten by her id before night 3: her row is in the export, and stays out; the book forgets her address.
      if (night === '2026-11-24') for (const config of [single, sharded]) await forgetClient({ config, clients: aws.clients, request: { customerId: '51' }, at: Date.now() });
      const one = await runSingle(single, night, `changed-email-taken-forget-one-${night}`, dir);
      const four = await runSharded(sharded, night, `changed-email-taken-forget-four-${night}`, dir);
      expect(comparable(four)).toEqual(comparable(one));
      expect(await rowObjects(aws, four)).toEqual(await rowObjects(aws, one));
      expect(await storedState(aws, sharded)).toEqual(await storedState(aws, single));
    }
    expect((await storedState(aws, single)).profiles.map((p) => p.customerId)).toEqual(['53', '900', '901']);
    expect(await readAddressBook(aws.clients.s3, single)).toEqual([]);
    expect(await readAddressBook(aws.clients.s3, sharded)).toEqual([]);
    // Nothing says the address was hers any more: every order under it is his (README, Shopify: a limit).
    expect(await profileOf(single, '53')).toMatchObject({ email: oldEmail, orderCount: 4 });
  }, 400_000);
});
