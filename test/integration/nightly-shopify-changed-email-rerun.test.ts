import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AwsClients } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { readAddressBook } from '#shared/store/address-book.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { runCampaignHour } from '#test/support/campaign-runs.ts';
import { crashingAfter } from '#test/support/crashing-clients.ts';
import { dropIncrement } from '#test/support/emulator-data.ts';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { WRITE_LEASE_JOB } from '#shared/nightly/write-lease.ts';
import { liveWriteLeases } from '#shared/store/write-leases.ts';
import { LENIENT_GUARDS, scratchDir, SHOPIFY_CUSTOMERS_HEADER, shopifyExportDir, shopifyNovemberOrder } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { at as local } from '#test/support/time.ts';
import { emailsTo } from '#test/support/ses-store.ts';

/**
 * An hour's increment changed her address (profile: email new, nightEmail old), then the
 * night that reads her orders under the old address crashes after writing her profile (which drops
 * nightEmail) and is rerun. The rerun's base is the before-image's address: per the README, "on a
 * rerun, the one its before-image holds" — and the before-image holds nightEmail = old. A rerun must
 * end where one clean run ends (design.md): VIC, 3 orders, the old address in the book.
 */
const aws = sharedAws();
const SH = 'Asia/Shanghai';
const work = scratchDir('shopify-changed-email-rerun');
const CUSTOMERS_HEADER = SHOPIFY_CUSTOMERS_HEADER.join(',');
const order = shopifyNovemberOrder;
const exportOf = (name: string, customers: string[], orders: string[]) => shopifyExportDir(work, name, customers, orders);

const oldEmailOf = (tag: string) => `mei.old.p1.${tag}@example.com`;
const newEmailOf = (tag: string) => `mei.new.p1.${tag}@example.com`;
const others = ['900,Other,One,other.one@example.com,yes', '901,Other,Two,other.two@example.com,yes'];
const otherOrders = [order('#9001', 'other.one@example.com', '02', '20.00', 'SOAP-1'), order('#9002', 'other.two@example.com', '03', '40.00', 'SOAP-1')];

async function upToNight2(tag: string): Promise<{ config: Config; night2: string }> {
  const oldEmail = oldEmailOf(tag);
  const newEmail = newEmailOf(tag);
  const herOld = [order('#1001', oldEmail, '01', '40000.00', 'BAG-1'), order('#1002', oldEmail, '10', '15000.00', 'COAT-1')];
  const config = await scenarioConfig(aws, `p1-${tag}`, { ...LENIENT_GUARDS, campaigns: { policy: { controlShare: 0 } }, sender: { ...aws.config.sender, maxSendRate: 500 } });
  const night1 = await exportOf(`${tag}-n1`, [`41,Mei,Lin,${oldEmail},yes`, ...others], [...herOld, ...otherOrders]);
  const night2 = await exportOf(`${tag}-n2`, [`41,Mei,Lin,${newEmail},yes`, ...others], [...herOld, ...otherOrders, order('#1003', newEmail, '22', '30.00', 'SOAP-1')]);
  await runNightly({ clock: () => local('2026-11-23 02:00', SH), runDate: '2026-11-22', runId: `${tag}-n1`, config, clients: aws.clients, source: directoryExportSource(night1) });
  await dropIncrement(aws, config, '2026-11-23T0930', { 'customers_export_1.csv': `${CUSTOMERS_HEADER}\n41,Mei,Lin,${newEmail},yes\n` });
  await runCampaignHour(aws, config, local('2026-11-23 10:00', SH), `${tag}-h10`);
  expect(await getProfile(aws.clients.documents, tableNames(config).profiles, '41')).toMatchObject({ email: newEmail, nightEmail: oldEmail });
  return { config, night2 };
}

function night2With(config: Config, clients: AwsClients, dir: string, runId: string) {
  return runNightly({ clock: () => local('2026-11-24 02:00', SH), runDate: '2026-11-23', runId, config, clients, source: directoryExportSource(dir) });
}

/** expireWriteLeases of the test support, at the night's own (fixed) clock rather than the real time. */
async function expireLeasesAt(config: Config, runDate: string, at: number): Promise<void> {
  const table = tableNames(config).runs;
  for (const { key } of await liveWriteLeases(aws.clients.documents, table, WRITE_LEASE_JOB, `${runDate}#`, at)) {
    await aws.clients.documents.send(new UpdateCommand({ TableName: table, Key: { job: key.job, runDate: key.runDate }, UpdateExpression: 'SET expiresAt = :ended', ExpressionAttributeValues: { ':ended': 0 } }));
  }
}

/** Her profile and the book after the night, and what the next morning's hour mails her. */
async function state(config: Config, tag: string) {
  const p = await getProfile(aws.clients.documents, tableNames(config).profiles, '41');
  await runCampaignHour(aws, config, local('2026-11-24 10:00', SH), `${tag}-h-next`);
  const mailed = (await emailsTo(aws, newEmailOf(tag))).map((e) => e.subject);
  return { mailed, tier: p?.tier, orderCount: p?.orderCount, spend: p?.lifetimeSpendMinor, firstOrderAt: p?.firstOrderAt, book: (await readAddressBook(aws.clients.s3, config)).map((e) => e.customerId) };
}

describe('hourly email change, then the night crashes after writing her profile and is rerun', () => {
  it('ends where a clean run ends (her orders under the night address stay hers)', { timeout: 600_000 }, async () => {
    const clean = await upToNight2('clean');
    const counter = { writes: 0 };
    await night2With(clean.config, crashingAfter(aws.clients, Number.POSITIVE_INFINITY, undefined, counter), clean.night2, 'clean-n2');
    const expected = await state(clean.config, 'clean');
    expect(expected).toMatchObject({ mailed: [], tier: 'VIC', orderCount: 3, spend: 5_503_000, book: ['41'] });

    const results: Record<string, unknown> = {};
    for (let k = 1; k < counter.writes; k++) {
      const { config, night2 } = await upToNight2(`k${k}`);
      const dying = crashingAfter(aws.clients, k);
      const crashed = await night2With(config, dying, night2, `k${k}-n2`).then(() => false, (error: Error) => /crash/.test(error.message));
      if (!crashed) continue;
      await dying.settled();
      await expireLeasesAt(config, '2026-11-23', local('2026-11-24 02:00', SH));
      await night2With(config, aws.clients, night2, `k${k}-n2-again`);
      results[`after ${k} of ${counter.writes} writes`] = await state(config, `k${k}`);
    }
    expect(Object.keys(results).length).toBeGreaterThan(0);
    expect(results).toEqual(Object.fromEntries(Object.keys(results).map((k) => [k, expected])));
  });
});
