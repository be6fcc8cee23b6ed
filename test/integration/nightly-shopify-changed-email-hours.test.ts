import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runNightlySharded } from '#local/nightly/sharded-run.ts';
import type { Config } from '#shared/config.ts';
import { normaliseEmail } from '#shared/email.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { forgetClient } from '#shared/forget/forget.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { shardOf } from '#shared/nightly/shards.ts';
import { readAddressBook } from '#shared/store/address-book.ts';
import { isStoredErasure } from '#shared/store/erasure-store.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { liveWriteLeases } from '#shared/store/write-leases.ts';
import { WRITE_LEASE_JOB } from '#shared/nightly/write-lease.ts';
import type { AwsClients } from '#shared/aws/clients.ts';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { crashingAfter } from '#test/support/crashing-clients.ts';
import { runCampaignHour } from '#test/support/campaign-runs.ts';
import { dropIncrement } from '#test/support/emulator-data.ts';
import { LENIENT_GUARDS, scratchDir, SHOPIFY_CUSTOMERS_HEADER, SHOPIFY_ORDERS_HEADER, shopifyExportDir, shopifyNovemberOrder } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { comparable, storedState } from '#test/support/nightly-comparison.ts';
import { at as local } from '#test/support/time.ts';

/**
 * Two address changes merged by the hours of one day (A -> B, then B -> C): the profile keeps the
 * address the last night stored (nightEmail, A) and the one an hour gave her and a later hour
 * replaced (hourEmails, B). Her orders under B were hers when placed (the hour counted them to
 * her), so the night reads them as hers, as those under A. Before hourEmails, one value kept only
 * A: the night rejected her order under B and took it back from her profile; a client an hour
 * created and whose address a later hour changed lost her only order (back to Prospect).
 */
const aws = sharedAws();
const SH = 'Asia/Shanghai';
const SHARDS = 4;
const work = scratchDir('shopify-email-hours');
const CUSTOMERS_HEADER = SHOPIFY_CUSTOMERS_HEADER.join(',');
const ORDERS_HEADER = SHOPIFY_ORDERS_HEADER.join(',');
const order = shopifyNovemberOrder;
const others = ['900,Other,One,other.one@example.com,yes', '901,Other,Two,other.two@example.com,yes'];
const otherOrders = [order('#9001', 'other.one@example.com', '02', '20.00', 'SOAP-1'), order('#9002', 'other.two@example.com', '03', '40.00', 'SOAP-1')];
const withConfig = (name: string) => scenarioConfig(aws, name, { ...LENIENT_GUARDS, campaigns: { policy: { controlShare: 0 } }, sender: { ...aws.config.sender, maxSendRate: 500 } });

const exportOf = (name: string, customers: string[], orders: string[]) => shopifyExportDir(work, name, customers, orders);

/** An address in another shard of SHARDS than each of `emails`. */
function elsewhere(prefix: string, ...emails: string[]): string {
  const taken = new Set(emails.map((email) => shardOf(normaliseEmail(email), SHARDS)));
  for (let i = 0; ; i++) {
    const other = `${prefix}${i}@example.com`;
    if (!taken.has(shardOf(normaliseEmail(other), SHARDS))) return other;
  }
}

/** A VIC at A (night 1); an increment at 09:30 moves her to B with a 3,000 USD order under B, merged at 10:00; one at 15:30 moves her to C. */
async function twoChanges(tag: string, config: Config, run = tag) {
  const a = `mei.a.${tag}@example.com`;
  const b = elsewhere(`mei.b.${tag}.`, a);
  const c = elsewhere(`mei.c.${tag}.`, a, b);
  const herOld = [order('#1001', a, '01', '40000.00', 'BAG-1'), order('#1002', a, '10', '15000.00', 'COAT-1')];
  const underB = [order('#1003', b, '23', '3000.00', 'SCARF-1').replace('10:00:00', '09:40:00')];
  const night1 = await exportOf(`${run}-n1`, [`41,Mei,Lin,${a},yes`, ...others], [...herOld, ...otherOrders]);
  const night2 = await exportOf(`${run}-n2`, [`41,Mei,Lin,${c},yes`, ...others], [...herOld, ...otherOrders, ...underB]);
  const profile = () => getProfile(aws.clients.documents, tableNames(config).profiles, '41');
  await runNightly({ clock: () => local('2026-11-23 02:00', SH), runDate: '2026-11-22', runId: `${run}-n1`, config, clients: aws.clients, source: directoryExportSource(night1) });
  await dropIncrement(aws, config, '2026-11-23T0930', { 'customers_export_1.csv': `${CUSTOMERS_HEADER}\n41,Mei,Lin,${b},yes\n`, 'orders_export_1.csv': `${ORDERS_HEADER}\n${underB.join('\n')}\n` });
  await runCampaignHour(aws, config, local('2026-11-23 10:00', SH), `${run}-h10`);
  expect(await profile()).toMatchObject({ email: b, nightEmail: a, orderCount: 3, lifetimeSpendMinor: 5_800_000 });
  await dropIncrement(aws, config, '2026-11-23T1530', { 'customers_export_1.csv': `${CUSTOMERS_HEADER}\n41,Mei,Lin,${c},yes\n` });
  await runCampaignHour(aws, config, local('2026-11-23 16:00', SH), `${run}-h16`);
  expect(await profile()).toMatchObject({ email: c, nightEmail: a, hourEmails: [b], orderCount: 3 });
  return { a, b, c, night2, profile };
}

describe('a Shopify client whose address two hours changed before the night', () => {
  it('keeps the order she placed under the address the first hour gave her (A -> B with an order -> C)', { timeout: 300_000 }, async () => {
    const config = await withConfig('hours-two-changes');
    const { c, night2, profile } = await twoChanges('hc', config);

    const summary = await runNightly({ clock: () => local('2026-11-24 02:00', SH), runDate: '2026-11-23', runId: 'hc-n2', config, clients: aws.clients, source: directoryExportSource(night2) });
    const after = await profile();
    expect({ rejected: summary.input.rejected, email: after?.email, tier: after?.tier, orderCount: after?.orderCount, spend: after?.lifetimeSpendMinor }).toEqual({
      rejected: 0,
      email: c,
      tier: 'VIC',
      orderCount: 3,
      spend: 5_800_000,
    });
    // The night wrote her profile whole (no hour's addresses left); the book keeps both former ones.
    expect({ nightEmail: after?.nightEmail, hourEmails: after?.hourEmails }).toEqual({ nightEmail: undefined, hourEmails: undefined });
    expect((await readAddressBook(aws.clients.s3, config)).map((entry) => entry.customerId)).toEqual(['41', '41']);
  });

  it('keeps the first order of a client an hour created, placed under the address a later hour changed', { timeout: 300_000 }, async () => {
    const config = await withConfig('hours-created');
    const x = 'yu.x.hcr@example.com';
    const y = 'yu.y.hcr@example.com';
    const first = [order('#7001', x, '23', '1200.00', 'SCARF-1').replace('10:00:00', '09:40:00')];
    const night1 = await exportOf('cr-n1', others, otherOrders);
    const night2 = await exportOf('cr-n2', [`77,Yu,Wang,${y},yes`, ...others], [...otherOrders, ...first]);
    const profile = () => getProfile(aws.clients.documents, tableNames(config).profiles, '77');
    await runNightly({ clock: () => local('2026-11-23 02:00', SH), runDate: '2026-11-22', runId: 'cr-n1', config, clients: aws.clients, source: directoryExportSource(night1) });
    await dropIncrement(aws, config, '2026-11-23T0930', { 'customers_export_1.csv': `${CUSTOMERS_HEADER}\n77,Yu,Wang,${x},yes\n`, 'orders_export_1.csv': `${ORDERS_HEADER}\n${first.join('\n')}\n` });
    await runCampaignHour(aws, config, local('2026-11-23 10:00', SH), 'cr-h10');
    const created = await profile();
    expect(created).toMatchObject({ email: x, orderCount: 1, tier: 'Potential' });
    await dropIncrement(aws, config, '2026-11-23T1530', { 'customers_export_1.csv': `${CUSTOMERS_HEADER}\n77,Yu,Wang,${y},yes\n` });
    await runCampaignHour(aws, config, local('2026-11-23 16:00', SH), 'cr-h16');
    // No night stored an address of hers: nightEmail none, the address the hour replaced kept.
    expect(await profile()).toMatchObject({ email: y, orderCount: 1, hourEmails: [x] });
    expect((await profile())?.nightEmail).toBeUndefined();

    const summary = await runNightly({ clock: () => local('2026-11-24 02:00', SH), runDate: '2026-11-23', runId: 'cr-n2', config, clients: aws.clients, source: directoryExportSource(night2) });
    const after = await profile();
    expect({ rejected: summary.input.rejected, email: after?.email, orderCount: after?.orderCount, tier: after?.tier, firstOrderAt: after?.firstOrderAt }).toEqual({
      rejected: 0,
      email: y,
      orderCount: 1,
      tier: 'Potential',
      firstOrderAt: created?.firstOrderAt,
    });
  });

  it('stores in a sharded night (her three addresses in three shards of four) what one run stores', { timeout: 600_000 }, async () => {
    const single = await withConfig('hours-one');
    const sharded = await withConfig('hours-four');
    // The same addresses in both (two configurations: two sets of tables and buckets), so that what they store compares.
    const one = await twoChanges('hs', single, 'h1');
    const four = await twoChanges('hs', sharded, 'h4');
    const night = (config: Config, runId: string) => ({ clock: () => local('2026-11-24 02:00', SH), runDate: '2026-11-23', runId, config, clients: aws.clients });
    const oneSummary = await runNightly({ ...night(single, 'h1-n2'), source: directoryExportSource(one.night2) });
    const fourSummary = await runNightlySharded({ ...night(sharded, 'h4-n2'), shards: SHARDS, source: { kind: 'directory', path: four.night2 } });
    expect(fourSummary.shards).toBe(SHARDS);
    expect(comparable(fourSummary)).toEqual(comparable(oneSummary));
    expect(await storedState(aws, sharded)).toEqual(await storedState(aws, single));
    expect(await four.profile()).toMatchObject({ email: four.c, tier: 'VIC', orderCount: 3, lifetimeSpendMinor: 5_800_000 });
  });
});

/** expireWriteLeases of the test support, at the night's own (fixed) clock rather than the real time. */
async function expireLeasesAt(config: Config, runDate: string, at: number): Promise<void> {
  const table = tableNames(config).runs;
  for (const { key } of await liveWriteLeases(aws.clients.documents, table, WRITE_LEASE_JOB, `${runDate}#`, at)) {
    await aws.clients.documents.send(new UpdateCommand({ TableName: table, Key: { job: key.job, runDate: key.runDate }, UpdateExpression: 'SET expiresAt = :ended', ExpressionAttributeValues: { ':ended': 0 } }));
  }
}

/**
 * The night after the two changes crashes after its k-th write (one of them her profile's, which
 * drops nightEmail and hourEmails) and is rerun: the rerun reads her addresses from the before-image
 * (run.ts), and ends where one clean run ends.
 */
describe('two hours changed her address, then the night crashes and is rerun', () => {
  it('ends where a clean run ends, at each write it may crash after', { timeout: 900_000 }, async () => {
    const night2 = (config: Config, clients: AwsClients, dir: string, runId: string) =>
      runNightly({ clock: () => local('2026-11-24 02:00', SH), runDate: '2026-11-23', runId, config, clients, source: directoryExportSource(dir) });
    const state = async (config: Config) => {
      const p = await getProfile(aws.clients.documents, tableNames(config).profiles, '41');
      return { tier: p?.tier, orderCount: p?.orderCount, spend: p?.lifetimeSpendMinor, firstOrderAt: p?.firstOrderAt, book: (await readAddressBook(aws.clients.s3, config)).map((e) => e.customerId) };
    };
    const cleanConfig = await withConfig('hours-rerun-clean');
    const clean = await twoChanges('hr', cleanConfig, 'hr-clean');
    const counter = { writes: 0 };
    await night2(cleanConfig, crashingAfter(aws.clients, Number.POSITIVE_INFINITY, undefined, counter), clean.night2, 'hr-clean-n2');
    const expected = await state(cleanConfig);
    expect(expected).toMatchObject({ tier: 'VIC', orderCount: 3, spend: 5_800_000, book: ['41', '41'] });

    const results: Record<string, unknown> = {};
    for (let k = 1; k < counter.writes; k++) {
      const config = await withConfig(`hours-rerun-k${k}`);
      const { night2: dir } = await twoChanges('hr', config, `hr-k${k}`);
      const dying = crashingAfter(aws.clients, k);
      const crashed = await night2(config, dying, dir, `hr-k${k}-n2`).then(() => false, (error: Error) => /crash/.test(error.message));
      if (!crashed) continue;
      await dying.settled();
      await expireLeasesAt(config, '2026-11-23', local('2026-11-24 02:00', SH));
      await night2(config, aws.clients, dir, `hr-k${k}-n2-again`);
      results[`after ${k} of ${counter.writes} writes`] = await state(config);
    }
    expect(Object.keys(results).length).toBeGreaterThan(0);
    expect(results).toEqual(Object.fromEntries(Object.keys(results).map((k) => [k, expected])));
  });
});

/** An address an hour gave her and a later hour replaced (hourEmails) is hers as much as nightEmail: forget finds her by it. */
describe('a profile holding an address an hour replaced (hourEmails)', () => {
  it('is forgotten by that address', { timeout: 300_000 }, async () => {
    const config = await withConfig('hours-forget-address');
    const { b, profile } = await twoChanges('hfa', config);
    const result = await forgetClient({ config, clients: aws.clients, request: { email: b }, at: Date.now() });
    expect({ profiles: result.profiles, left: await profile() }).toEqual({ profiles: 1, left: undefined });
  });

  it('forgotten by customer id, has that address recorded as erased too', { timeout: 300_000 }, async () => {
    const config = await withConfig('hours-forget-id');
    const { b, profile } = await twoChanges('hfi', config);
    await forgetClient({ config, clients: aws.clients, request: { customerId: '41' }, at: Date.now() });
    expect(await profile()).toBeUndefined();
    expect(await isStoredErasure(aws.clients.documents, tableNames(config).suppression, { email: b })).toBe(true);
  });
});
