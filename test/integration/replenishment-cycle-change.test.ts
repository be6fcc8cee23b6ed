import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Config } from '#shared/config.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { catalogBeforeKey, cycleHistoryKey, reportsBucket } from '#shared/store/buckets.ts';
import { readCycleHistory } from '#shared/store/catalog-store.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { addDays, localDate } from '#shared/time.ts';
import { campaignConfig, runCampaignHour } from '#test/support/campaign-runs.ts';
import { ledgerEntries, uploadExport } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { at } from '#test/support/time.ts';

/**
 * A restock that answered a reminder sent under the old cycle stays answered after the night that
 * changed the cycle (found by the attack-cyclehist pass, probes 4 and 5): judged only by the cycle
 * in force on its own day, it left the new cycle's window and became a short personal cycle, and
 * "time to restock" came days after the restock.
 */
const aws = sharedAws();
const work = scratchDir('replenishment-cycle-change');
const ORDERS = 'order_id,customer_id,ordered_at,sku,quantity,line_total';
const NO_QUIET_HOURS = { policy: { controlShare: 0, quietHours: { start: '00:00', end: '00:00' } }, campaigns: [{ kind: 'replenishment' as const }] };

/** The night of `date`, run at 02:00 the next day in the brand's zone, its products saying the cream lasts `replenishDays`. */
async function night(config: Config, clientZone: string, date: string, orders: string[], replenishDays: number): Promise<void> {
  const dir = join(work, config.storage.exportsBucket, date);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'customers.csv'), `customer_id,email,first_name,accepts_marketing,time_zone\nk1,k1@${config.storage.exportsBucket}.example.com,Ann,true,${clientZone}\n`);
  await writeFile(join(dir, 'products.csv'), `sku,name,category,replenish_days\nCREAM,Cream,skincare,${replenishDays}\n`);
  await writeFile(join(dir, 'orders.csv'), [ORDERS, ...orders].join('\n') + '\n');
  await uploadExport(aws, config, dir, date);
  await runNightly({ clock: () => at(`${addDays(date, 1)} 02:00`, config.timeZone), runDate: date, runId: `n-${date}`, config, clients: aws.clients });
}

/** The replenishment reminders sent, each with the client's day it went. */
async function sentReminders(config: Config, clientZone: string): Promise<string[]> {
  return (await ledgerEntries(aws, config))
    .filter((e) => (e.status === 'sent' || e.status === 'maybe-sent') && e.campaignId === 'replenishment')
    .map((e) => `${e.occasionKey} on ${localDate(e.sentAt ?? e.claimedAt, clientZone)}`)
    .sort();
}

const personalCycle = async (config: Config) => (await getProfile(aws.clients.documents, tableNames(config).profiles, 'k1'))?.skus.CREAM?.personalCycleDays ?? null;

describe('a reminder sent under the old cycle, answered after the night that changed it', () => {
  /**
   * Her cream bought 03-22 under 30 days, reminded 04-06; the cream 60 days from the night of 04-07
   * (`beforeChange` runs just before it); her restock 04-09: no cycle learnt, the next reminder 15
   * days before the new run-out, none before.
   */
  async function reminderAnsweredAcrossTheChange(config: Config, beforeChange: () => Promise<void> = async () => {}): Promise<void> {
    const SH = 'Asia/Shanghai';
    const first = 'o1,k1,2026-03-22T15:00:00+08:00,CREAM,1,120.00';
    const restock = 'o2,k1,2026-04-09T20:00:00+08:00,CREAM,1,120.00';
    await night(config, SH, '2026-03-22', [first], 30);
    await night(config, SH, '2026-04-05', [first], 30);
    await runCampaignHour(aws, config, at('2026-04-06 11:00', SH), 'h-0406');
    await beforeChange();
    await night(config, SH, '2026-04-07', [first], 60);
    await night(config, SH, '2026-04-09', [first, restock], 60);
    // Before: an 18-day cycle (04-09 is not in the 60-day cream's window) and "time to restock" on 04-12.
    expect(await personalCycle(config)).toBeNull();
    for (const date of ['2026-04-10', '2026-04-12', '2026-04-13']) await runCampaignHour(aws, config, at(`${date} 11:00`, SH), `h-${date}`);
    await night(config, SH, '2026-05-23', [first, restock], 60);
    await runCampaignHour(aws, config, at('2026-05-24 11:00', SH), 'h-0524');
    expect(await sentReminders(config, SH)).toEqual(['replenishment#CREAM#2026-03-22T07:00:00.000Z on 2026-04-06', 'replenishment#CREAM#2026-04-09T12:00:00.000Z on 2026-05-24']);
  }

  it('the cream turns 60 days the night after her reminder: her restock two days later teaches no cycle, her next reminder 15 days before the new run-out', async () => {
    await reminderAnsweredAcrossTheChange(await campaignConfig(aws, 'cyclechange-sh', { timeZone: 'Asia/Shanghai', campaigns: NO_QUIET_HOURS }));
  }, 600_000);

  it('upgraded from a version before the history, the cream turning 60 days on the first night after: the restock that answered the 30-day reminder stays answered', async () => {
    const config = await campaignConfig(aws, 'cyclechange-upgrade', { timeZone: 'Asia/Shanghai', campaigns: NO_QUIET_HOURS });
    // As a version before the history (c9714bb) and the catalogue's before-image (11724a8) left the bucket: its catalogue alone.
    await reminderAnsweredAcrossTheChange(config, async () => {
      for (const key of [cycleHistoryKey(config), catalogBeforeKey(config)]) await aws.clients.s3.send(new DeleteObjectCommand({ Bucket: reportsBucket(config), Key: key }));
    });
    // The history begins the day before that first night, with the catalogue then in force.
    expect((await readCycleHistory(aws.clients.s3, config)).skus.CREAM).toEqual([['2026-04-06', 30], ['2026-04-07', 60]]);
  }, 600_000);

  it('a client east of the brand, reminded and restocking on her day before the night that changed the cream ran: both nights judge it answered', async () => {
    // A Los Angeles brand; the night of 01-16 runs at 02:00 on 01-17 in LA, 23:00 on her 01-17 in Auckland.
    const LA = 'America/Los_Angeles';
    const NZ = 'Pacific/Auckland';
    const config = await campaignConfig(aws, 'cyclechange-nz', { timeZone: LA, campaigns: NO_QUIET_HOURS });
    const first = 'o1,k1,2026-01-02T10:00:00+13:00,CREAM,1,120.00';
    const restock = 'o2,k1,2026-01-17T12:00:00+13:00,CREAM,1,120.00';
    await night(config, NZ, '2026-01-01', [first], 30);
    await night(config, NZ, '2026-01-15', [first], 30);
    await runCampaignHour(aws, config, at('2026-01-17 10:00', NZ), 'h-0117');
    await night(config, NZ, '2026-01-16', [first, restock], 60);
    expect(await personalCycle(config)).toBeNull();
    // Before: the night of 01-17 took the 60 days as in force on her 01-17, a 15-day cycle, and her restock was never reminded.
    await night(config, NZ, '2026-01-17', [first, restock], 60);
    expect(await personalCycle(config)).toBeNull();
    for (const date of ['2026-01-19', '2026-02-01']) await runCampaignHour(aws, config, at(`${date} 12:00`, NZ), `h-${date}`);
    await night(config, NZ, '2026-03-01', [first, restock], 60);
    await runCampaignHour(aws, config, at('2026-03-03 12:00', NZ), 'h-0303');
    expect(await sentReminders(config, NZ)).toEqual(['replenishment#CREAM#2026-01-01T21:00:00.000Z on 2026-01-17', 'replenishment#CREAM#2026-01-16T23:00:00.000Z on 2026-03-03']);
  }, 600_000);
});
