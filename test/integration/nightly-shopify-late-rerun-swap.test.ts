import { describe, expect, it } from 'vitest';
import type { AwsClients } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import { runNightlySharded } from '#local/nightly/sharded-run.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { readAddressBook } from '#shared/store/address-book.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignConfig, runCampaignHour } from '#test/support/campaign-runs.ts';
import { crashingAfter } from '#test/support/crashing-clients.ts';
import { dropIncrement } from '#test/support/emulator-data.ts';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { WRITE_LEASE_JOB } from '#shared/nightly/write-lease.ts';
import { liveWriteLeases } from '#shared/store/write-leases.ts';
import { scratchDir, SHOPIFY_CUSTOMERS_HEADER, shopifyExportDir, shopifyNovemberOrder } from '#test/support/export-files.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { at as local } from '#test/support/time.ts';

/**
 * Two Shopify clients swap addresses (Ann a@ -> b@, Bea b@ -> a@) on 11-22 at 08:00; the 10:00 hour
 * merges it (Ann's profile: b@, nightEmail a@; Bea's: a@, nightEmail b@). The night of 11-21 had
 * failed and runs again at 13:00 on its own snapshot, from before the swap. The addresses the 09:50
 * increment gave them are not theirs before that night (it is stamped after the night's cut-off):
 * each is hers by the base under the address the last night stored, and the late night ends as the
 * night on time does. Before, the rerun read b@ as Ann's by the base, held by Bea's row: a takeover,
 * whose split gave Bea's orders to Ann (and Ann's to Bea), and the book linked b@ to Ann and a@ to
 * Bea for good (found by attack-shardmodel, probe 3). One run and four shards alike.
 */
const aws = sharedAws();
const SH = 'Asia/Shanghai';
const work = scratchDir('shopify-late-rerun-swap');
const a = 'ann.lrs@example.com';
const b = 'bea.lrs@example.com';
const other = ['900,Other,One,other.lrs@example.com,yes'];
const orders = [shopifyNovemberOrder('#1001', a, '01', '40000.00', 'BAG-1'), shopifyNovemberOrder('#2001', b, '02', '20.00', 'SOAP-1'), shopifyNovemberOrder('#9001', 'other.lrs@example.com', '03', '20.00', 'SOAP-1')];

async function scenario(name: string, late: boolean, shards: number) {
  const config = await campaignConfig(aws, name, {
    campaigns: { policy: { controlShare: 0, quietHours: { start: '00:00', end: '00:00' } }, campaigns: [{ kind: 'welcome' }] },
    plausibility: { maxUnexplainedLapseShare: 1, maxDropShare: 1, maxDowngradeShare: 1, maxUpgradeShare: 1 },
  });
  const before = await shopifyExportDir(work, `${name}-before`, [`41,Ann,Lin,${a},yes`, `42,Bea,Lin,${b},yes`, ...other], orders);
  const after = await shopifyExportDir(work, `${name}-after`, [`41,Ann,Lin,${b},yes`, `42,Bea,Lin,${a},yes`, ...other], orders);
  const night = async (runDate: string, at: string, dir: string) => {
    const common = { clock: () => local(at, SH), runDate, runId: `${name}-${runDate}`, config, clients: aws.clients };
    if (shards === 1) await runNightly({ ...common, source: directoryExportSource(dir) });
    else await runNightlySharded({ ...common, shards, source: { kind: 'directory', path: dir } });
  };
  const profile = async (id: string) => {
    const p = await getProfile(aws.clients.documents, tableNames(config).profiles, id);
    return { email: p?.email, orderCount: p?.orderCount, spend: p?.lifetimeSpendMinor, tier: p?.tier };
  };
  const book = async () => (await readAddressBook(aws.clients.s3, config)).map((e) => [e.customerId, e.seenOn, e.hersBefore ?? ''].join(' ')).sort();

  await night('2026-11-20', '2026-11-21 02:00', before);
  // On time, the night of 11-21 runs at 02:00, before the swap; late, after the 10:00 hour merged it.
  if (!late) await night('2026-11-21', '2026-11-22 02:00', before);
  await dropIncrement(aws, config, '2026-11-22T0950', { 'customers_export_1.csv': `${SHOPIFY_CUSTOMERS_HEADER.join(',')}\n41,Ann,Lin,${b},yes\n42,Bea,Lin,${a},yes\n` });
  await runCampaignHour(aws, config, local('2026-11-22 10:00', SH), `${name}-h10`);
  const merged = { ann: await getProfile(aws.clients.documents, tableNames(config).profiles, '41'), bea: await getProfile(aws.clients.documents, tableNames(config).profiles, '42') };
  if (late) await night('2026-11-21', '2026-11-22 13:00', before);
  const lateNight = { ann: await profile('41'), bea: await profile('42'), book: await book() };
  // The hour after the night: the 09:50 increment is stamped before the late night began, so its addresses stay the snapshot's (README, After the night).
  await runCampaignHour(aws, config, local('2026-11-22 14:00', SH), `${name}-h14`);
  const hourAfter = { ann: await profile('41'), bea: await profile('42') };
  await night('2026-11-22', '2026-11-23 02:00', after);
  // Nights on time after it: a link the late night booked would stay.
  for (const day of ['23', '24', '25']) await night(`2026-11-${day}`, `2026-11-${Number(day) + 1} 02:00`, after);
  return { merged, lateNight, hourAfter, ann: await profile('41'), bea: await profile('42'), book: await book() };
}

async function expectAsOnTime(tag: string, shards: number) {
  const onTime = await scenario(`${tag}-on-time`, false, shards);
  expect(onTime.ann).toEqual({ email: b, orderCount: 1, spend: 4_000_000, tier: 'Core' });
  expect(onTime.bea).toEqual({ email: a, orderCount: 1, spend: 2_000, tier: 'Entry' });
  const late = await scenario(`${tag}-late`, true, shards);
  // The hour merged the swap as the probe has it.
  expect(late.merged.ann).toMatchObject({ email: b, nightEmail: a });
  expect(late.merged.bea).toMatchObject({ email: a, nightEmail: b });
  // The late night: each keeps her own history under the snapshot's address, and links nothing.
  expect(late.lateNight).toEqual({
    ann: { email: a, orderCount: 1, spend: 4_000_000, tier: 'Core' },
    bea: { email: b, orderCount: 1, spend: 2_000, tier: 'Entry' },
    book: [],
  });
  expect(late.hourAfter).toEqual({ ann: late.lateNight.ann, bea: late.lateNight.bea });
  expect({ ann: late.ann, bea: late.bea, book: late.book }).toEqual({ ann: onTime.ann, bea: onTime.bea, book: onTime.book });
}

describe('a swap of addresses an hour merged before a late rerun of the night before (Shopify)', () => {
  it('leaves each client her own history, as the nights on time do: one run', { timeout: 600_000 }, async () => {
    await expectAsOnTime('lrs-1', 1);
  });

  it('leaves each client her own history, as the nights on time do: four shards', { timeout: 600_000 }, async () => {
    await expectAsOnTime('lrs-4', 4);
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
 * The late night crashes after k of its writes and is run again: the rerun's base is the
 * before-images (base.planned), which hold the swap the hour merged (nightEmail, lastIncrement): as
 * the profiles, hers by the base is the address the last night stored, and the rerun ends where the
 * clean late night ends.
 */
describe('the late night after the swap crashes and is run again (Shopify)', () => {
  it('ends where the clean late night ends, after a crash at any write', { timeout: 600_000 }, async () => {
    const upToLateNight = async (name: string) => {
      const config = await campaignConfig(aws, name, {
        campaigns: { policy: { controlShare: 0, quietHours: { start: '00:00', end: '00:00' } }, campaigns: [{ kind: 'welcome' }] },
        plausibility: { maxUnexplainedLapseShare: 1, maxDropShare: 1, maxDowngradeShare: 1, maxUpgradeShare: 1 },
      });
      const before = await shopifyExportDir(work, `${name}-before`, [`41,Ann,Lin,${a},yes`, `42,Bea,Lin,${b},yes`, ...other], orders);
      await runNightly({ clock: () => local('2026-11-21 02:00', SH), runDate: '2026-11-20', runId: `${name}-n20`, config, clients: aws.clients, source: directoryExportSource(before) });
      await dropIncrement(aws, config, '2026-11-22T0950', { 'customers_export_1.csv': `${SHOPIFY_CUSTOMERS_HEADER.join(',')}\n41,Ann,Lin,${b},yes\n42,Bea,Lin,${a},yes\n` });
      await runCampaignHour(aws, config, local('2026-11-22 10:00', SH), `${name}-h10`);
      const lateNight = (clients: AwsClients, runId: string) =>
        runNightly({ clock: () => local('2026-11-22 13:00', SH), runDate: '2026-11-21', runId, config, clients, source: directoryExportSource(before) });
      const state = async () => {
        const profile = async (id: string) => {
          const p = await getProfile(aws.clients.documents, tableNames(config).profiles, id);
          return { email: p?.email, orderCount: p?.orderCount, spend: p?.lifetimeSpendMinor, tier: p?.tier };
        };
        return { ann: await profile('41'), bea: await profile('42'), book: (await readAddressBook(aws.clients.s3, config)).map((e) => e.customerId) };
      };
      return { config, lateNight, state };
    };
    const clean = await upToLateNight('lrs-crash-clean');
    const counter = { writes: 0 };
    await clean.lateNight(crashingAfter(aws.clients, Number.POSITIVE_INFINITY, undefined, counter), 'lrs-crash-clean-n21');
    const expected = await clean.state();
    expect(expected).toEqual({ ann: { email: a, orderCount: 1, spend: 4_000_000, tier: 'Core' }, bea: { email: b, orderCount: 1, spend: 2_000, tier: 'Entry' }, book: [] });

    const results: Record<string, unknown> = {};
    for (let k = 1; k < counter.writes; k++) {
      const run = await upToLateNight(`lrs-crash-k${k}`);
      const dying = crashingAfter(aws.clients, k);
      const crashed = await run.lateNight(dying, `lrs-crash-k${k}-n21`).then(() => false, (error: Error) => /crash/.test(error.message));
      if (!crashed) continue;
      await dying.settled();
      await expireLeasesAt(run.config, '2026-11-21', local('2026-11-22 13:00', SH));
      await run.lateNight(aws.clients, `lrs-crash-k${k}-n21-again`);
      results[`after ${k} of ${counter.writes} writes`] = await run.state();
    }
    expect(Object.keys(results).length).toBeGreaterThan(0);
    expect(results).toEqual(Object.fromEntries(Object.keys(results).map((k) => [k, expected])));
  });
});
