import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import type { Config } from '#shared/config.ts';
import { runNightlySharded } from '#local/nightly/sharded-run.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { readCatalog, readCycleHistory } from '#shared/store/catalog-store.ts';
import { exportPrefix } from '#shared/store/buckets.ts';
import { localDate } from '#shared/time.ts';
import { campaignConfig, runCampaignHour } from '#test/support/campaign-runs.ts';
import { ledgerEntries, uploadExport } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { at, BRAND_ZONE } from '#test/support/time.ts';

/**
 * A night whose products file was wrong (60 days typed for a 30-day cream), rerun on the export
 * with that file taken out (products are optional: a night without them keeps the catalogue), ends
 * as a clean night on that export would (found by the attack-cyclehist pass, probe 12): the
 * catalogue the bad attempt replaced is put back (catalog/products-before.json), the cycle history
 * keeps no entry of the bad night, and the reminder of 04-06 goes, timed by the 30 days. Before,
 * the rerun kept the 60 days the bad attempt had stored.
 */
const aws = sharedAws();
const work = scratchDir('catalogue-corrected-rerun');
const productsLasting = (days: number) => `sku,name,category,replenish_days\nCREAM,Cream,skincare,${days}\n`;
const CUSTOMERS = 'customer_id,email,first_name,accepts_marketing,time_zone\nk1,k1@catalogue-rerun.example.com,Ann,true,Asia/Shanghai\n';
const ORDERS = 'order_id,customer_id,ordered_at,sku,quantity,line_total';
const FIRST = 'o1,k1,2026-03-22T15:00:00+08:00,CREAM,1,120.00';

async function night(config: Config, date: string, replenishDays: number | undefined, runId: string, clockAt: number, shards?: number): Promise<void> {
  const dir = join(work, config.storage.exportsBucket, `${date}-${runId}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'customers.csv'), CUSTOMERS);
  if (replenishDays !== undefined) await writeFile(join(dir, 'products.csv'), productsLasting(replenishDays));
  else await aws.clients.s3.send(new DeleteObjectCommand({ Bucket: config.storage.exportsBucket, Key: `${exportPrefix(config, date)}/products.csv` }));
  await writeFile(join(dir, 'orders.csv'), [ORDERS, FIRST].join('\n') + '\n');
  await uploadExport(aws, config, dir, date);
  const run = { clock: () => clockAt, runDate: date, runId, config, clients: aws.clients };
  if (shards === undefined) await runNightly(run);
  else await runNightlySharded({ ...run, shards });
}

async function sentReminders(config: Config): Promise<string[]> {
  return (await ledgerEntries(aws, config))
    .filter((e) => (e.status === 'sent' || e.status === 'maybe-sent') && e.campaignId === 'replenishment')
    .map((e) => `${e.occasionKey} on ${localDate(e.sentAt ?? e.claimedAt, BRAND_ZONE)}`)
    .sort();
}

const scenario = (name: string) => campaignConfig(aws, name, { campaigns: { policy: { controlShare: 0, quietHours: { start: '00:00', end: '00:00' } }, campaigns: [{ kind: 'replenishment' }] } });

async function outcome(config: Config) {
  await runCampaignHour(aws, config, at('2026-04-06 11:00'), 'h-0406');
  return { catalogue: (await readCatalog(aws.clients.s3, config)).get('CREAM')?.replenishDays, history: await readCycleHistory(aws.clients.s3, config), sent: await sentReminders(config) };
}

describe('a night rerun on an export whose bad products file was taken out', () => {
  for (const shards of [undefined, 4]) {
    it(`ends as the clean night on that export: the 30-day catalogue, no history entry, the 04-06 reminder (${shards === undefined ? 'one run' : `${shards} shards`})`, async () => {
      const clean = await scenario(`corrected-catalogue-clean-${shards ?? 1}`);
      await night(clean, '2026-03-22', 30, 'n-0322', at('2026-03-23 02:00'), shards);
      await night(clean, '2026-04-05', undefined, 'n-0405', at('2026-04-06 02:00'), shards);
      const cleanOutcome = await outcome(clean);

      const rerun = await scenario(`corrected-catalogue-rerun-${shards ?? 1}`);
      await night(rerun, '2026-03-22', 30, 'n-0322', at('2026-03-23 02:00'), shards);
      await night(rerun, '2026-04-05', 60, 'n-0405', at('2026-04-06 02:00'), shards);
      await night(rerun, '2026-04-05', undefined, 'n-0405-corrected', at('2026-04-06 07:00'), shards);
      const rerunOutcome = await outcome(rerun);
      expect(cleanOutcome.sent).toEqual(['replenishment#CREAM#2026-03-22T07:00:00.000Z on 2026-04-06']);
      expect(rerunOutcome).toEqual(cleanOutcome);
    }, 600_000);
  }
});
