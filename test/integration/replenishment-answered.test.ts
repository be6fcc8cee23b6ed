import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Config } from '#shared/config.ts';
import { runNightlySharded } from '#local/nightly/sharded-run.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { writeObject } from '#shared/aws/s3-objects.ts';
import { cycleHistoryKey, reportsBucket } from '#shared/store/buckets.ts';
import { readCycleHistory } from '#shared/store/catalog-store.ts';
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
 * restock from the export or an hour merges it from an increment first, and after the brand changes
 * the cream's replenish_days (attack-replen probe 2: the nights judged the answered restock by
 * tonight's 60 days and mailed "time to restock" three days after it; the cycle history keeps the
 * 30 days it was answered under).
 */
const aws = sharedAws();
const work = scratchDir('replenishment-answered');
const productsLasting = (days: number) => `sku,name,category,replenish_days\nCREAM,Cream,skincare,${days}\n`;
const CUSTOMERS = 'customer_id,email,first_name,accepts_marketing,time_zone\nk1,k1@answered.example.com,Ann,true,Asia/Shanghai\n';
const ORDERS = 'order_id,customer_id,ordered_at,sku,quantity,line_total';
const FIRST = 'o1,k1,2026-03-22T15:00:00+08:00,CREAM,1,120.00';
const RESTOCK = 'o2,k1,2026-04-07T20:00:00+08:00,CREAM,1,120.00';

/** A night of `date` on an export with `orders` and the cream lasting `replenishDays`, in one run or in `shards`. */
async function night(config: Config, date: string, orders: string[], clockAt: number, options: { replenishDays?: number; shards?: number } = {}): Promise<void> {
  const dir = join(work, config.storage.exportsBucket, date);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'customers.csv'), CUSTOMERS);
  await writeFile(join(dir, 'products.csv'), productsLasting(options.replenishDays ?? 30));
  await writeFile(join(dir, 'orders.csv'), [ORDERS, ...orders].join('\n') + '\n');
  await uploadExport(aws, config, dir, date);
  const run = { clock: () => clockAt, runDate: date, runId: `n-${date}`, config, clients: aws.clients };
  if (options.shards === undefined) await runNightly(run);
  else await runNightlySharded({ ...run, shards: options.shards });
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
    // Each hour after the night before it: on a night behind the last one due, an hour decides no run-out (nights-behind.ts).
    await night(config, '2026-04-20', [FIRST, RESTOCK], at('2026-04-21 02:00'));
    await runCampaignHour(aws, config, at('2026-04-21 11:00'), 'h-0421');
    await night(config, '2026-04-21', [FIRST, RESTOCK], at('2026-04-22 02:00'));
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
    await night(config, '2026-04-21', [FIRST, RESTOCK], at('2026-04-22 02:00'));
    await runCampaignHour(aws, config, at('2026-04-22 11:00'), 'h-0422');
    expect(await sentReminders(config)).toEqual([
      'replenishment#CREAM#2026-03-22T07:00:00.000Z on 2026-04-06',
      'replenishment#CREAM#2026-04-07T12:00:00.000Z on 2026-04-22',
    ]);
  }, 300_000);

  it('a damaged cycle history fails the night with its key and what to do, before any profile is written', async () => {
    const config = await replenishmentOnly('answered-damaged-history');
    await night(config, '2026-03-22', [FIRST], at('2026-03-23 02:00'));
    const key = cycleHistoryKey(config);
    await writeObject(aws.clients.s3, { bucket: reportsBucket(config), key, body: '{"skus": {"CREAM": [["2026-03-22", "thirty"]]}, "answerDays": []}', contentType: 'application/json' });
    await expect(night(config, '2026-04-07', [FIRST, RESTOCK], at('2026-04-08 02:00'))).rejects.toThrow(`The cycle history s3://${reportsBucket(config)}/${key} is damaged (skus.CREAM.0.1: `);
    expect((await getProfile(aws.clients.documents, tableNames(config).profiles, 'k1'))?.orderCount).toBe(1);
    // Hand-edited: a correction appended out of order (read in order, January would be 60 days), a day that does not exist.
    for (const [skus, problem] of [
      [{ CREAM: [['2026-02-05', 60], ['2025-12-01', 30]] }, 'skus.CREAM: nights must be in increasing date order'],
      [{ CREAM: [['2025-12-01', 30], ['2026-02-30', 60]] }, 'skus.CREAM.1.0: must be a date, YYYY-MM-DD'],
    ] as const) {
      await writeObject(aws.clients.s3, { bucket: reportsBucket(config), key, body: JSON.stringify({ skus, answerDays: [['2025-12-01', 15]] }), contentType: 'application/json' });
      await expect(readCycleHistory(aws.clients.s3, config)).rejects.toThrow(`is damaged (${problem})`);
    }
  }, 300_000);

  for (const shards of [undefined, 4]) {
    it(`the cream turned 60 days after the restock (${shards === undefined ? 'one run' : `${shards} shards`}): the answered restock stays answered, no reminder until 15 days before its new run-out`, async () => {
      const config = await replenishmentOnly(`answered-catalogue-${shards ?? 1}`);
      await night(config, '2026-03-22', [FIRST], at('2026-03-23 02:00'), { shards });
      // Each hour after the night before it: on a night behind the last one due, an hour decides no run-out (nights-behind.ts).
      await night(config, '2026-04-05', [FIRST], at('2026-04-06 02:00'), { shards });
      await runCampaignHour(aws, config, at('2026-04-06 11:00'), 'h-0406');
      await night(config, '2026-04-07', [FIRST, RESTOCK], at('2026-04-08 02:00'), { shards });
      // The brand's products export now says 60 days: the 04-07 stock-up runs out on 06-06, reminded on 05-22.
      await night(config, '2026-04-09', [FIRST, RESTOCK], at('2026-04-10 02:00'), { shards, replenishDays: 60 });
      const profile = await getProfile(aws.clients.documents, tableNames(config).profiles, 'k1');
      expect(profile?.skus.CREAM?.personalCycleDays).toBeUndefined();
      // The next night, the cream still 60 days: the history keeps the 30 days her restock answered.
      await night(config, '2026-04-10', [FIRST, RESTOCK], at('2026-04-11 02:00'), { shards, replenishDays: 60 });
      await runCampaignHour(aws, config, at('2026-04-11 11:00'), 'h-0411');
      for (const [date, hour] of [['2026-04-21', '2026-04-22'], ['2026-05-20', '2026-05-21'], ['2026-05-21', '2026-05-22']] as const) {
        await night(config, date, [FIRST, RESTOCK], at(`${hour} 02:00`), { shards, replenishDays: 60 });
        await runCampaignHour(aws, config, at(`${hour} 11:00`), `h-${hour}`);
      }
      expect(await sentReminders(config)).toEqual([
        'replenishment#CREAM#2026-03-22T07:00:00.000Z on 2026-04-06',
        'replenishment#CREAM#2026-04-07T12:00:00.000Z on 2026-05-22',
      ]);
    }, 300_000);
  }
});
