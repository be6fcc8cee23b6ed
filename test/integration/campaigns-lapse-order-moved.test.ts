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
import { emailsTo } from '#test/support/ses-store.ts';
import { at as local } from '#test/support/time.ts';

/**
 * The win-back is once per lapse, keyed by the last order's timestamp. When that timestamp moves
 * later with no new order (the platform corrects the same order's time, or the brand its zone and
 * offset-less timestamps are read hours later), the lapse is the same one: the email claimed after
 * the current last order settles it ('already-mailed'), nothing goes a second time. An order after
 * the email starts a new lapse, whose win-back goes 60 days later.
 */

const aws = sharedAws();
const work = scratchDir('campaigns-lapse-order-moved');
const SH = 'Asia/Shanghai';
const DOMAIN = '@lapse-moved.example.com';
const WINBACK_ONLY = { campaigns: { policy: { controlShare: 0 }, campaigns: [{ kind: 'winback' }] } as never, plausibility: { maxNewlyAbsentShare: 1, maxUnexplainedLapseShare: 1, maxDropShare: 1, maxDowngradeShare: 1, maxUpgradeShare: 1 } };

/** Five clients, each with the orders given (order_id,customer_id,ordered_at,line_total rows); `zone` empty: the brand's. */
async function exportOf(name: string, ids: readonly string[], orders: readonly string[], zone: string): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'customers.csv'), ['customer_id,email,first_name,locale,time_zone,accepts_marketing', ...ids.map((id) => `${id},${id}${DOMAIN},N,en,${zone},true`)].join('\n') + '\n');
  await writeFile(join(dir, 'orders.csv'), ['order_id,customer_id,ordered_at,line_total', ...orders].join('\n') + '\n');
  return dir;
}

function night(config: Config, runDate: string, dir: string, zone: string) {
  return runNightly({ clock: () => local(`${runDate} 23:59`, zone) + 3 * 3_600_000, runDate, runId: `n-${runDate}`, config, clients: aws.clients, source: directoryExportSource(dir), acceptDrop: false });
}

async function ledgerOf(config: Config, customerId: string): Promise<string[]> {
  return (await ledgerEntries(aws, config)).filter((e) => e.customerId === customerId).map((e) => `${e.occasionKey} ${e.status}`).sort();
}

describe('a win-back whose last order moved later with no order since', () => {
  it('is not sent again when the same order\u2019s time is corrected two hours later (dry run and run agree)', { timeout: 240_000 }, async () => {
    const config = await campaignConfig(aws, 'lapse-moved-redated', WINBACK_ONLY);
    const ids = ['r1', 'r2', 'r3', 'r4', 'r5'];
    const orders = (r1At: string) => ids.map((id) => `${id}-o1,${id},${id === 'r1' ? r1At : '2026-09-10T10:00:00+08:00'},800.00`);
    await night(config, '2026-11-08', await exportOf('redated-1', ids, orders('2026-09-10T10:00:00+08:00'), SH), SH);
    expect(countsOf(await runCampaignHour(aws, config, local('2026-11-09 10:00', SH), 'r-h1'), 'winback').sent).toBe(5);

    // The next night: the same order r1-o1, its time corrected to 12:00 the same day.
    await night(config, '2026-11-09', await exportOf('redated-2', ids, orders('2026-09-10T12:00:00+08:00'), SH), SH);
    const dry = await runCampaignHour(aws, config, local('2026-11-10 10:00', SH), 'r-dry', { dryRun: true });
    expect(dry.plan?.filter((p) => p.customerId === 'r1').map((p) => `${p.occasionKey} ${p.outcome}`)).toEqual(['winback#2026-09-10T04:00:00.000Z already-mailed']);
    const second = await runCampaignHour(aws, config, local('2026-11-10 10:00', SH), 'r-h2');
    expect(countsOf(second, 'winback')).toMatchObject({ sent: 0, 'already-mailed': 1 });
    expect(await ledgerOf(config, 'r1')).toEqual(['winback#2026-09-10T02:00:00.000Z sent', 'winback#2026-09-10T04:00:00.000Z already-mailed']);
    expect(await emailsTo(aws, `r1${DOMAIN}`)).toHaveLength(1);
  });

  it('is not sent again to anyone when the brand corrects its time zone (offset-less timestamps read hours later)', { timeout: 240_000 }, async () => {
    const ids = ['z1', 'z2', 'z3', 'z4', 'z5'];
    const orders = ids.map((id) => `${id}-o1,${id},2026-09-10T10:00:00,800.00`);
    const utc = await campaignConfig(aws, 'lapse-moved-zone', { ...WINBACK_ONLY, timeZone: 'UTC' });
    await runNightly({ clock: () => local('2026-11-09 02:00', 'UTC'), runDate: '2026-11-08', runId: 'tz-1', config: utc, clients: aws.clients, source: directoryExportSource(await exportOf('zone-1', ids, orders, '')), acceptDrop: false });
    expect(countsOf(await runCampaignHour(aws, utc, local('2026-11-09 10:00', 'UTC'), 'tz-h1'), 'winback').sent).toBe(5);

    // The brand sets its real zone: the same export, every order read 5 hours later.
    const ny = await campaignConfig(aws, 'lapse-moved-zone', { ...WINBACK_ONLY, timeZone: 'America/New_York' });
    await runNightly({ clock: () => local('2026-11-10 02:00', 'America/New_York'), runDate: '2026-11-09', runId: 'tz-2', config: ny, clients: aws.clients, source: directoryExportSource(await exportOf('zone-2', ids, orders, '')), acceptDrop: false });
    const second = await runCampaignHour(aws, ny, local('2026-11-10 10:00', 'America/New_York'), 'tz-h2');
    expect(countsOf(second, 'winback')).toMatchObject({ sent: 0, 'already-mailed': 5 });
    expect(await emailsTo(aws, (a) => a.endsWith(DOMAIN) && a.startsWith('z'))).toHaveLength(5);
  });

  it('is sent again for a new lapse: an order after the email, then 60 days without one', { timeout: 240_000 }, async () => {
    const config = await campaignConfig(aws, 'lapse-moved-new-lapse', WINBACK_ONLY);
    const ids = ['n1', 'n2', 'n3', 'n4', 'n5'];
    const first = ids.map((id) => `${id}-o1,${id},2026-06-01T10:00:00+08:00,800.00`);
    // n1 orders again on 08-15, after the win-back of 07-31 (day 60 of 06-01).
    const again = [...first, 'n1-o2,n1,2026-08-15T10:00:00+08:00,300.00'];
    await night(config, '2026-07-30', await exportOf('new-lapse-1', ids, first, SH), SH);
    expect(countsOf(await runCampaignHour(aws, config, local('2026-07-31 10:00', SH), 'nl-h1'), 'winback').sent).toBe(5);
    await night(config, '2026-08-15', await exportOf('new-lapse-2', ids, again, SH), SH);
    expect(countsOf(await runCampaignHour(aws, config, local('2026-08-16 10:00', SH), 'nl-h2'), 'winback').sent).toBe(0);

    // Day 60 of the 08-15 order: a new lapse, its own win-back.
    await night(config, '2026-10-13', await exportOf('new-lapse-3', ids, again, SH), SH);
    const later = await runCampaignHour(aws, config, local('2026-10-14 10:00', SH), 'nl-h3');
    expect(countsOf(later, 'winback')).toMatchObject({ sent: 1, 'already-mailed': 0 });
    expect(await ledgerOf(config, 'n1')).toEqual(['winback#2026-06-01T02:00:00.000Z sent', 'winback#2026-08-15T02:00:00.000Z sent']);
    expect(await emailsTo(aws, `n1${DOMAIN}`)).toHaveLength(2);
  });
});
