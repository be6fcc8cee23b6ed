import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { campaignConfig, countsOf, runCampaignHour } from '#test/support/campaign-runs.ts';
import { ledgerEntries } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { at } from '#test/support/time.ts';

/**
 * The catch-up hour records `expired` from the horizon (DueIndexState.expiryFrom) for the campaigns
 * held and those whose occasions a night records, not for a calendar campaign the hours decided as
 * usual during the hold (a birthday): its closed windows were judged on time, and one judged "not
 * lost" then (out of its audience at its close: a locale filter, which no order moves) is not judged
 * again on the profile as it is now. With the nights on time (the same hours, lookback 24 h),
 * nothing is recorded either. Found by attack-fixes38c.
 */

const aws = sharedAws();
const work = scratchDir('sender-behind-nights-expiry-calendar');
const ORDER_HEADER = 'order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,currency,status,refunded_amount';

/** C, born on 03-25, switches her site to Chinese, in the export of 03-27; W lapses (a win-back, held). */
async function night(config: Config, runDate: string, runAt: number): Promise<void> {
  const dir = join(work, config.storage.exportsPrefix, runDate);
  await mkdir(dir, { recursive: true });
  const locale = runDate >= '2026-03-27' ? 'zh-CN' : 'en';
  await writeFile(
    join(dir, 'customers.csv'),
    `customer_id,email,first_name,locale,time_zone,accepts_marketing,birthday\nC,c@figures.example.com,Ada,${locale},Asia/Shanghai,true,1990-03-25\nW,w@figures.example.com,Wu,en,Asia/Shanghai,true,\n`,
  );
  await writeFile(
    join(dir, 'orders.csv'),
    `${ORDER_HEADER}\nc-1,C,2026-02-10T10:00:00+08:00,BAG,Bag,leather-goods,1,2400.00,USD,paid,\nw-1,W,2026-01-23T10:00:00+08:00,BAG,Bag,leather-goods,1,2400.00,USD,paid,\n`,
  );
  await writeFile(join(dir, 'products.csv'), 'sku,name,category,replenish_days,price\nBAG,Bag,leather-goods,,2400\n');
  await runNightly({ clock: () => runAt, runDate, runId: `n-${runDate}`, config, clients: aws.clients, source: directoryExportSource(dir) });
}

const scenario = (name: string) =>
  campaignConfig(aws, name, {
    campaigns: {
      policy: { controlShare: 0, quietHours: { start: '00:00', end: '00:00' } },
      campaigns: [{ kind: 'winback' }, { kind: 'custom', id: 'bday', trigger: { on: 'birthday' }, audience: { locales: ['zh'] }, template: 'birthday', products: { from: 'none' } }],
    },
    sender: { expiryLookbackHours: 24 },
    plausibility: { maxUnexplainedLapseShare: 1, maxDropShare: 1, maxDowngradeShare: 1, maxUpgradeShare: 1 },
  });
const decisions = async (config: Config) => (await ledgerEntries(aws, config)).map((e) => `${e.customerId} ${e.campaignId} ${e.status}`).sort();

describe('the catch-up hour and the campaigns the hold did not hold', () => {
  it('(control, holds) with the nights on time, C\'s birthday (closed 03-26 00:00 while out of the audience) is not recorded', async () => {
    const config = await scenario('behind-calendar-on-time');
    for (let day = 18; day <= 27; day++) {
      await night(config, `2026-03-${day}`, at(`2026-03-${day + 1} 04:00`));
      await runCampaignHour(aws, config, at(`2026-03-${day + 1} 05:00`), `ho-${day + 1}-05`);
    }
    await runCampaignHour(aws, config, at('2026-03-28 07:00'), 'ho-28-07');
    expect(await decisions(config)).toEqual(['W winback sent']);
  }, 300_000);

  it('records no birthday expired at the catch-up that the hours on time had judged not lost (out of the audience when it closed)', async () => {
    const config = await scenario('behind-calendar-behind');
    await night(config, '2026-03-18', at('2026-03-19 04:00'));
    // The export stops; the hours run on the night of 03-18 (C's locale en); C's birthday window closes at 03-26 00:00.
    for (const hour of ['03-24 11:00', '03-25 12:00', '03-26 05:00', '03-27 05:00', '03-28 05:00']) {
      const run = await runCampaignHour(aws, config, at(`2026-${hour}`), `hb-${hour.replace(/[ :]/g, '')}`);
      expect(run.behind).toBeDefined();
    }
    for (let day = 19; day <= 27; day++) await night(config, `2026-03-${day}`, at(`2026-03-28 06:${String(day).padStart(2, '0')}`));
    const caughtUp = await runCampaignHour(aws, config, at('2026-03-28 07:00'), 'hb-28-07');
    expect(caughtUp.behind).toBeUndefined();
    expect.soft(countsOf(caughtUp, 'bday').expired).toBe(0);
    expect(await decisions(config)).toEqual(['W winback sent']);
  }, 300_000);
});
