import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { readDueIndexFloors } from '#shared/store/due-index-store.ts';
import { recordErasure } from '#shared/store/erasure-store.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { readBookPairs, writeBookPairs } from '#shared/store/roster-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignConfig, runCampaignHour } from '#test/support/campaign-runs.ts';
import { deployedRole } from '#test/support/deployed-role.ts';
import { dropIncrement } from '#test/support/emulator-data.ts';
import { LENIENT_GUARDS, scratchDir, SHOPIFY_CUSTOMERS_HEADER, SHOPIFY_ORDERS_HEADER, shopifyExportDir, shopifyNovemberOrder } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { at as local } from '#test/support/time.ts';

/**
 * The hours after a real night, run with the campaigns function's role as the stack deploys it
 * (deployed-role.ts: a call the role does not allow fails as in AWS, and fails the test even when
 * caught). The handler tests under the role seed profiles directly, so two calls only the hour
 * after a night makes went ungranted: deleting the night writers' due-index floors (the first
 * indexed hour after every night: each hour failed before it settled anyone) and reading the
 * Shopify address book (an increment's order under an address no row of it carries: the hour
 * failed, and the next ones on the same folder). So did the advisors' book pairs, which the hour's
 * erase-again of a due client on the erasure list reads and rewrites.
 */
const aws = sharedAws();
const role = deployedRole(aws, 'campaigns');
const SH = 'Asia/Shanghai';
const work = scratchDir('sender-deployed-role-after-night');

describe('the hours after a night, under the campaigns role as deployed', () => {
  it('the first hour after a night deletes its floor and sends the welcome the night made due; the next hour runs too', { timeout: 300_000 }, async () => {
    const config = await campaignConfig(aws, 'droles-floor', { campaigns: { policy: { controlShare: 0, quietHours: undefined }, campaigns: [{ kind: 'welcome' }] }, plausibility: { maxNewlyAbsentShare: 1, maxUpgradeShare: 1 } });
    const dir = join(work, 'n1');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'customers.csv'), 'customer_id,email,first_name,locale,time_zone,accepts_marketing,signed_up_at\nw1,w1@aw2.example.com,Wen,en,Asia/Shanghai,true,2026-11-22T20:00:00+08:00\nw2,w2@aw2.example.com,Wu,en,Asia/Shanghai,true,2025-01-01T00:00:00Z\n');
    await writeFile(join(dir, 'orders.csv'), 'order_id,customer_id,ordered_at,line_total\no1,w1,2026-11-22T21:00:00+08:00,120.00\no2,w2,2026-06-10T10:00:00+08:00,800.00\n');
    await runNightly({ clock: () => local('2026-11-23 04:00', SH), runDate: '2026-11-22', runId: 'aw2-n1', config, clients: aws.clients, source: directoryExportSource(dir) });
    // The night left its floor for the hours (its lease is over).
    const floors = await readDueIndexFloors(aws.clients.documents, tableNames(config).runs, local('2026-11-23 05:00', SH));
    expect(floors.map((f) => f.writing)).toEqual([false]);

    // Two hours in a row: the floor the first could not delete is still there for the second.
    const outcomes: unknown[] = [];
    for (const [hour, runId] of [['2026-11-23 10:00', 'aw2-h10'], ['2026-11-23 11:00', 'aw2-h11']] as const) {
      try {
        const summary = await runCampaignHour({ clients: role.clients(config) }, config, local(hour, SH), runId);
        outcomes.push({ hour, welcomeSent: summary.campaigns.welcome?.sent ?? 0 });
      } catch (error) {
        outcomes.push({ hour, failed: (error as Error).message.slice(0, 200) });
      }
    }
    expect(outcomes).toEqual([
      { hour: '2026-11-23 10:00', welcomeSent: 1 },
      { hour: '2026-11-23 11:00', welcomeSent: 0 },
    ]);
  });

  it("a due client whose forget stopped once her erasure was recorded: the hour erases her again, her id out of the advisors' book pairs, in AWS too", { timeout: 300_000 }, async () => {
    const config = await campaignConfig(aws, 'droles-pairs', { campaigns: { policy: { controlShare: 0, quietHours: undefined }, campaigns: [{ kind: 'welcome' }] }, plausibility: { maxNewlyAbsentShare: 1, maxUpgradeShare: 1 } });
    const dir = join(work, 'n1-pairs');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'customers.csv'), 'customer_id,email,first_name,locale,time_zone,accepts_marketing,signed_up_at\nw1,w1@aw3.example.com,Wen,en,Asia/Shanghai,true,2026-11-22T20:00:00+08:00\nw2,w2@aw3.example.com,Wu,en,Asia/Shanghai,true,2025-01-01T00:00:00Z\n');
    await writeFile(join(dir, 'orders.csv'), 'order_id,customer_id,ordered_at,line_total\no1,w1,2026-11-22T21:00:00+08:00,120.00\no2,w2,2026-06-10T10:00:00+08:00,800.00\n');
    await runNightly({ clock: () => local('2026-11-23 04:00', SH), runDate: '2026-11-22', runId: 'aw3-n1', config, clients: aws.clients, source: directoryExportSource(dir) });
    const pairs = (ids: readonly string[]) => ({ week: '2026-W47', before: Object.fromEntries(ids.map((id) => [id, 'A01'])), now: Object.fromEntries(ids.map((id) => [id, 'A01'])) });
    await writeBookPairs(aws.clients.s3, config, pairs(['w1', 'w2']));
    // w1's request stopped once her erasure was recorded: her profile, due a welcome, is still there.
    await recordErasure(aws.clients.documents, tableNames(config).suppression, { customerIds: ['w1'], emails: ['w1@aw3.example.com'] }, local('2026-11-23 09:00', SH));

    let outcome: Record<string, unknown>;
    try {
      const summary = await runCampaignHour({ clients: role.clients(config) }, config, local('2026-11-23 10:00', SH), 'aw3-h10');
      outcome = { welcomeSent: summary.campaigns.welcome?.sent ?? 0 };
    } catch (error) {
      outcome = { failed: (error as Error).message.slice(0, 200) };
    }
    expect(outcome).toEqual({ welcomeSent: 0 });
    expect(await getProfile(aws.clients.documents, tableNames(config).profiles, 'w1')).toBeUndefined();
    expect(await readBookPairs(aws.clients.s3, config)).toEqual(pairs(['w2']));
  });

  it('a Shopify order under her former address is merged in the hour in AWS too', { timeout: 300_000 }, async () => {
    const config = await scenarioConfig(aws, 'droles-book', { ...LENIENT_GUARDS, campaigns: { policy: { controlShare: 0 } }, sender: { ...aws.config.sender, maxSendRate: 500 } });
    const oldEmail = 'mei.old.aw1@example.com';
    const newEmail = 'mei.new.aw1@example.com';
    const night1 = await shopifyExportDir(work, 'n1', [`41,Mei,Lin,${oldEmail},yes`, '900,Other,One,other.one.aw1@example.com,yes'], [
      shopifyNovemberOrder('#1001', oldEmail, '01', '400.00', 'BAG-1'),
      shopifyNovemberOrder('#9001', 'other.one.aw1@example.com', '02', '20.00', 'SOAP-1'),
    ]);
    await runNightly({ clock: () => local('2026-11-23 02:00', SH), runDate: '2026-11-22', runId: 'aw1-n1', config, clients: aws.clients, source: directoryExportSource(night1) });
    await dropIncrement(aws, config, '2026-11-23T0750', {
      'customers_export_1.csv': `${SHOPIFY_CUSTOMERS_HEADER.join(',')}\n41,Mei,Lin,${newEmail},yes\n`,
      'orders_export_1.csv': `${SHOPIFY_ORDERS_HEADER.join(',')}\n#1002,${oldEmail},paid,2026-11-23 07:00:00 +0800,USD,30.00,1,SOAP-1,30.00,SOAP-1\n`,
    });
    // Three hours in a row: the folder is read again by each hour until one merges it.
    const outcomes: unknown[] = [];
    for (const [hour, runId] of [['2026-11-23 08:00', 'aw1-h08'], ['2026-11-23 09:00', 'aw1-h09'], ['2026-11-23 10:00', 'aw1-h10']] as const) {
      try {
        const summary = await runCampaignHour({ clients: role.clients(config) }, config, local(hour, SH), runId);
        outcomes.push({ hour, rejected: summary.ingested.rejected, quarantined: summary.ingested.quarantined.length });
      } catch (error) {
        outcomes.push({ hour, failed: (error as Error).message.slice(0, 200) });
      }
    }
    const after = await getProfile(aws.clients.documents, tableNames(config).profiles, '41');
    // As the same hours on the emulators without IAM: merged at 08:00, nothing rejected (and the afterEach checks no call was denied).
    expect({ outcomes, orderCount: after?.orderCount, email: after?.email }).toEqual({
      outcomes: [
        { hour: '2026-11-23 08:00', rejected: 0, quarantined: 0 },
        { hour: '2026-11-23 09:00', rejected: 0, quarantined: 0 },
        { hour: '2026-11-23 10:00', rejected: 0, quarantined: 0 },
      ],
      orderCount: 2,
      email: newEmail,
    });
  });

  it("a returning client's repeat order (her row not in the increment) beside a new sign-up's row: the hour completes in AWS too", { timeout: 300_000 }, async () => {
    const config = await scenarioConfig(aws, 'droles-book-repeat', { ...LENIENT_GUARDS, campaigns: { policy: { controlShare: 0 } }, sender: { ...aws.config.sender, maxSendRate: 500 } });
    const night1 = await shopifyExportDir(work, 'n1-repeat', ['41,Mei,Lin,mei.rep.aw1@example.com,yes', '900,Other,One,other.rep.aw1@example.com,yes'], [
      shopifyNovemberOrder('#1001', 'mei.rep.aw1@example.com', '01', '400.00', 'BAG-1'),
      shopifyNovemberOrder('#9001', 'other.rep.aw1@example.com', '02', '20.00', 'SOAP-1'),
    ]);
    await runNightly({ clock: () => local('2026-11-23 02:00', SH), runDate: '2026-11-22', runId: 'aw1r-n1', config, clients: aws.clients, source: directoryExportSource(night1) });
    // 07:00 Mei (stored, unchanged) orders again; 07:20 someone signs up: the increment has the new row and Mei's order.
    await dropIncrement(aws, config, '2026-11-23T0750', {
      'customers_export_1.csv': `${SHOPIFY_CUSTOMERS_HEADER.join(',')}\n77,New,Comer,new.rep.aw1@example.com,yes\n`,
      'orders_export_1.csv': `${SHOPIFY_ORDERS_HEADER.join(',')}\n#1002,mei.rep.aw1@example.com,paid,2026-11-23 07:00:00 +0800,USD,30.00,1,SOAP-1,30.00,SOAP-1\n`,
    });
    let outcome: Record<string, unknown>;
    try {
      const summary = await runCampaignHour({ clients: role.clients(config) }, config, local('2026-11-23 08:00', SH), 'aw1r-h08');
      outcome = { completed: true, quarantined: summary.ingested.quarantined.length };
    } catch (error) {
      outcome = { failed: (error as Error).message.slice(0, 200) };
    }
    expect(outcome).toEqual({ completed: true, quarantined: 0 });
  });
});
