import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Config } from '#shared/config.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { localDate } from '#shared/time.ts';
import { campaignConfig, runCampaignHour } from '#test/support/campaign-runs.ts';
import { dropIncrement, ledgerEntries, uploadExport } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { at, BRAND_ZONE } from '#test/support/time.ts';

/**
 * Regression (adversarial probe attack-numbers 5, found by a truth harness over 45 nights): a client
 * buys a 30-day cream on 03-22, gets the reminder on 04-06 (15 days before it runs out) and buys
 * again on 04-07, as it asked. Taken for her cycle, those 16 days put the next run-out on 04-23 and
 * "time to restock" on 04-08, the morning after she restocked; each answered reminder would shorten
 * the cycle again. A stock-up begun in the reminder window of the cycle in force teaches none: the
 * catalogue's 30 days stay, the next reminder is due on 04-22. The same whether the night reads the
 * restock from the export or an hour merges it from an increment first.
 */
const aws = sharedAws();
const work = scratchDir('replenishment-answered');
const PRODUCTS = 'sku,name,category,replenish_days\nCREAM,Cream,skincare,30\n';
const CUSTOMERS = 'customer_id,email,first_name,accepts_marketing,time_zone\nk1,k1@answered.example.com,Ann,true,Asia/Shanghai\n';
const ORDERS = 'order_id,customer_id,ordered_at,sku,quantity,line_total';
const FIRST = 'o1,k1,2026-03-22T15:00:00+08:00,CREAM,1,120.00';
const RESTOCK = 'o2,k1,2026-04-07T20:00:00+08:00,CREAM,1,120.00';

async function night(config: Config, date: string, orders: string[], clockAt: number): Promise<void> {
  const dir = join(work, config.storage.exportsBucket, date);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'customers.csv'), CUSTOMERS);
  await writeFile(join(dir, 'products.csv'), PRODUCTS);
  await writeFile(join(dir, 'orders.csv'), [ORDERS, ...orders].join('\n') + '\n');
  await uploadExport(aws, config, dir, date);
  await runNightly({ clock: () => clockAt, runDate: date, runId: `n-${date}`, config, clients: aws.clients });
}

/** Her sent reminders, by the purchase they follow and the local day they went. */
async function sentReminders(config: Config): Promise<string[]> {
  return (await ledgerEntries(aws, config))
    .filter((e) => e.status === 'sent' && e.campaignId === 'replenishment')
    .map((e) => `${e.occasionKey} on ${localDate(e.sentAt ?? e.claimedAt, BRAND_ZONE)}`)
    .sort();
}

const replenishmentOnly = (name: string) =>
  campaignConfig(aws, name, { campaigns: { policy: { controlShare: 0, quietHours: { start: '00:00', end: '00:00' } }, campaigns: [{ kind: 'replenishment' }] } });

describe('replenishment: the restock a reminder brought teaches no cycle', () => {
  it('read by the night: no reminder the morning after, the next one 15 days before the catalogue\'s 30 days run out', async () => {
    const config = await replenishmentOnly('answered-night');
    await night(config, '2026-03-22', [FIRST], at('2026-03-23 02:00'));
    await night(config, '2026-04-05', [FIRST], at('2026-04-06 02:00'));
    await runCampaignHour(aws, config, at('2026-04-06 11:00'), 'h-0406');
    await night(config, '2026-04-07', [FIRST, RESTOCK], at('2026-04-08 02:00'));
    const profile = await getProfile(aws.clients.documents, tableNames(config).profiles, 'k1');
    expect(profile?.skus.CREAM).toMatchObject({ purchases: 2, quantity: 1 });
    expect(profile?.skus.CREAM?.personalCycleDays).toBeUndefined();
    await runCampaignHour(aws, config, at('2026-04-08 11:00'), 'h-0408');
    await runCampaignHour(aws, config, at('2026-04-21 11:00'), 'h-0421');
    await runCampaignHour(aws, config, at('2026-04-22 11:00'), 'h-0422');
    expect(await sentReminders(config)).toEqual([
      'replenishment#CREAM#2026-03-22T07:00:00.000Z on 2026-04-06',
      'replenishment#CREAM#2026-04-07T12:00:00.000Z on 2026-04-22',
    ]);
  }, 300_000);

  it('merged by an hour from an increment before the night: nothing the next hours, the night agrees', async () => {
    const config = await replenishmentOnly('answered-increment');
    await night(config, '2026-03-22', [FIRST], at('2026-03-23 02:00'));
    await night(config, '2026-04-06', [FIRST], at('2026-04-07 02:00'));
    await runCampaignHour(aws, config, at('2026-04-06 11:00'), 'h-0406');
    await dropIncrement(aws, config, '2026-04-07T2030', { 'orders.csv': [ORDERS, RESTOCK].join('\n') + '\n' });
    await runCampaignHour(aws, config, at('2026-04-07 21:00'), 'h-0407-21');
    const merged = await getProfile(aws.clients.documents, tableNames(config).profiles, 'k1');
    expect(merged?.skus.CREAM).toMatchObject({ purchases: 2, lastPurchasedAt: '2026-04-07T12:00:00.000Z' });
    expect(merged?.skus.CREAM?.personalCycleDays).toBeUndefined();
    // Past local midnight, before the night: a 16-day cycle would make the reminder due now.
    await runCampaignHour(aws, config, at('2026-04-08 01:00'), 'h-0408-01');
    await night(config, '2026-04-07', [FIRST, RESTOCK], at('2026-04-08 02:00'));
    await runCampaignHour(aws, config, at('2026-04-08 11:00'), 'h-0408');
    await runCampaignHour(aws, config, at('2026-04-22 11:00'), 'h-0422');
    expect(await sentReminders(config)).toEqual([
      'replenishment#CREAM#2026-03-22T07:00:00.000Z on 2026-04-06',
      'replenishment#CREAM#2026-04-07T12:00:00.000Z on 2026-04-22',
    ]);
  }, 300_000);
});
