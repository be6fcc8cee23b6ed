import { describe, expect, it } from 'vitest';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignConfig, runCampaignHour } from '#test/support/campaign-runs.ts';
import { dropIncrement } from '#test/support/emulator-data.ts';
import { exportDir } from '#test/support/export-files.ts';
import { sharedAws } from '#test/support/local-aws.ts';

/**
 * A Shanghai brand: an order of 01:00 on 2026-11-04 (Shanghai) comes in an increment stamped
 * 2026-11-04T0130+0800, which the 02:00 hour merges. The night of 2026-11-03 runs at 04:00 and
 * rewrites the profile from its snapshot, which ends at midnight: the next hour merges that
 * increment again (README, "After the night"). The brand moves its `timeZone` to
 * America/Los_Angeles before that hour: the night's cut-off is the instant it recorded (midnight
 * Shanghai, 16:00Z), not its run date read in the new zone (08:00Z the next day, after the night's
 * start, which made the increment look counted by the snapshot: the order was gone until the next night).
 */
const aws = sharedAws();
const HEADER = 'order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,currency,status,refunded_amount';
const CUSTOMERS = 'customer_id,email,first_name,locale,time_zone,accepts_marketing\na1,a1@zone-moved.example.com,Ada,en,Asia/Shanghai,true\nb1,b1@zone-moved.example.com,Bea,en,Asia/Shanghai,true\n';
const PRODUCTS = 'sku,name,category,replenish_days,price\nBAG,Bag,leather-goods,,2400\nCOAT,Coat,ready-to-wear,,5200\n';
const ORDERS = `${HEADER}\no1,a1,2025-06-01T10:00:00+08:00,BAG,Bag,leather-goods,1,2400.00,USD,paid,\n`;

describe('the hour after a night, the brand having moved its time zone in between', () => {
  it.each([[false], [true]])('merges again the increment stamped after the night\'s cut-off (zone moved: %s)', async (moved) => {
    const config = await campaignConfig(aws, `increment-zone-moved-${moved}`, {
      timeZone: 'Asia/Shanghai',
      campaigns: { policy: { controlShare: 0, quietHours: { start: '00:00', end: '00:00' } }, campaigns: [{ kind: 'welcome' }] },
      plausibility: { maxUnexplainedLapseShare: 1, maxDropShare: 1, maxDowngradeShare: 1, maxUpgradeShare: 1 },
    });
    const night = async (runDate: string, clock: string, runId: string) =>
      runNightly({ clock: () => Date.parse(clock), runDate, runId, config, clients: aws.clients, source: directoryExportSource(await exportDir({ 'customers.csv': CUSTOMERS, 'orders.csv': ORDERS, 'products.csv': PRODUCTS })) });
    await night('2026-11-02', '2026-11-02T20:00:00Z', 'n2');
    await dropIncrement(aws, config, '2026-11-04T0130+0800', {
      'customers.csv': 'customer_id,email,accepts_marketing\nb1,,\n',
      'orders.csv': `${HEADER}\no2,b1,2026-11-04T01:00:00+08:00,COAT,Coat,ready-to-wear,1,5200.00,USD,paid,\n`,
    });
    await runCampaignHour(aws, config, Date.parse('2026-11-03T18:00:00Z'), 'h-0200');
    const merged = await getProfile(aws.clients.documents, tableNames(config).profiles, 'b1');
    await night('2026-11-03', '2026-11-03T20:00:00Z', 'n3');
    await runCampaignHour(aws, moved ? { ...config, timeZone: 'America/Los_Angeles' } : config, Date.parse('2026-11-03T21:00:00Z'), 'h-0500');
    const after = await getProfile(aws.clients.documents, tableNames(config).profiles, 'b1');
    expect({ merged: merged?.lastOrderAt, afterNextHour: after?.lastOrderAt, orders: after?.orderCount }).toEqual({
      merged: '2026-11-03T17:00:00.000Z',
      afterNextHour: '2026-11-03T17:00:00.000Z',
      orders: merged?.orderCount,
    });
  }, 600_000);
});
