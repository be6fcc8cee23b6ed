import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { campaignConfig, runCampaignHour as run } from '#test/support/campaign-runs.ts';
import { ledgerEntries } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { at as local } from '#test/support/time.ts';

/**
 * A refund of a client's latest order, after the occasion keyed by that order was mailed, moves
 * `lastOrderAt` back to the earlier order: the earlier order's occasion of the same campaign (and
 * lapse step) is the same moment, already mailed, and is recorded 'already-mailed', not sent.
 * Cross-category ("once per order"): two orders 3 days apart, the suggestion goes 21 days after the
 * second, the second is returned 2 days later. Win-back: mailed on day 60 of the later order, which
 * is refunded afterwards.
 */

const aws = sharedAws();
const work = scratchDir('campaigns-refunded-last-order');
const SH = 'Asia/Shanghai';
const ADDRESS = (id: string) => `${id}@refunded-last.example.com`;

const CLIENTS = ['x', 'f1', 'f2', 'f3'];
const customersCsv = ['customer_id,email,first_name,locale,time_zone,accepts_marketing', ...CLIENTS.map((id) => `${id},${ADDRESS(id)},Ada,en,${SH},true`)].join('\n') + '\n';
const productsCsv =
  [
    'sku,name,category,url,image_url,price,currency',
    'WALLET,Zip Wallet,leather-goods,https://shop.example.com/p/wallet,,420,USD',
    'CARD,Card Holder,leather-goods,https://shop.example.com/p/card,,150,USD',
    'EDP,Eau de Parfum,fragrance,https://shop.example.com/p/edp,,160,USD',
  ].join('\n') + '\n';
const HEADER = 'order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,currency,status,refunded_amount';
const ORDERS = (secondStatus: 'paid' | 'refunded') =>
  [
    HEADER,
    'a1,x,2026-08-01T10:00:00+08:00,WALLET,Zip Wallet,leather-goods,1,420.00,USD,paid,',
    `b1,x,2026-08-04T10:00:00+08:00,CARD,Card Holder,leather-goods,1,150.00,USD,${secondStatus},${secondStatus === 'refunded' ? '150.00' : ''}`,
    'f1,f1,2026-03-01T10:00:00+08:00,EDP,Eau de Parfum,fragrance,1,160.00,USD,paid,',
    'f2,f2,2026-03-02T10:00:00+08:00,EDP,Eau de Parfum,fragrance,1,160.00,USD,paid,',
    'f3,f3,2026-03-03T10:00:00+08:00,EDP,Eau de Parfum,fragrance,1,160.00,USD,paid,',
  ].join('\n') + '\n';

async function night(config: Config, runDate: string, ordersCsv: string) {
  const dir = join(work, config.storage.tablePrefix, runDate);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'customers.csv'), customersCsv);
  await writeFile(join(dir, 'orders.csv'), ordersCsv);
  await writeFile(join(dir, 'products.csv'), productsCsv);
  return runNightly({ clock: Date.now, runDate, runId: `night-${runDate}`, config, clients: aws.clients, source: directoryExportSource(dir) });
}

describe('a refund of the latest order after its occasion was mailed', () => {
  it('does not mail the cross-category suggestion a second time for the earlier order', async () => {
    const config = await campaignConfig(aws, 'refunded-last', {
      campaigns: { policy: { controlShare: 0 }, campaigns: [{ kind: 'cross-category' }] } as never,
      plausibility: { maxUnexplainedLapseShare: 1, maxDropShare: 1, maxDowngradeShare: 1, maxUpgradeShare: 1 },
    });
    await night(config, '2026-08-24', ORDERS('paid'));
    const first = await run(aws, config, local('2026-08-25 10:00', SH), 'h-1');
    expect(first.campaigns['cross-category']?.sent).toBe(1);
    expect(await emailsTo(aws, ADDRESS('x'))).toHaveLength(1);

    // The card holder (the second order) is returned; the night of 08-25 sees it refunded.
    await night(config, '2026-08-25', ORDERS('refunded'));
    for (const [i, hour] of ['2026-08-26 11:00', '2026-08-27 11:00', '2026-08-28 11:00'].entries()) await run(aws, config, local(hour, SH), `h-next-${i}`);

    const entries = (await ledgerEntries(aws, config)).filter((e) => e.customerId === 'x').map((e) => `${e.occasionKey} ${e.status}: ${e.reason ?? ''}`).sort();
    expect(entries).toEqual([
      'cross-category#2026-08-01T02:00:00.000Z already-mailed: sent for the later order of 2026-08-04T02:00:00.000Z (cross-category#2026-08-04T02:00:00.000Z), no longer the last order (refunded or removed)',
      'cross-category#2026-08-04T02:00:00.000Z sent: ',
    ]);
    expect(await emailsTo(aws, ADDRESS('x'))).toHaveLength(1);
  }, 180_000);

  it('records the earlier order\'s occasion as already mailed, not as lost, when no hour read the client before its window closed', async () => {
    const config = await campaignConfig(aws, 'refunded-last-exp', {
      campaigns: { policy: { controlShare: 0 }, campaigns: [{ kind: 'cross-category' }] } as never,
      plausibility: { maxUnexplainedLapseShare: 1, maxDropShare: 1, maxDowngradeShare: 1, maxUpgradeShare: 1 },
    });
    await night(config, '2026-08-24', ORDERS('paid'));
    expect((await run(aws, config, local('2026-08-25 10:00', SH), 'e-1')).campaigns['cross-category']?.sent).toBe(1);
    await night(config, '2026-08-25', ORDERS('refunded'));
    // No hour until the earlier order's window has closed (an outage of the hours; the night before
    // the first one back ran, else that hour would hold the suggestion): it records what closed meanwhile.
    await night(config, '2026-09-03', ORDERS('refunded'));
    const back = await run(aws, config, local('2026-09-04 11:00', SH), 'e-back');
    const entries = (await ledgerEntries(aws, config)).filter((e) => e.customerId === 'x').map((e) => `${e.occasionKey} ${e.status}`).sort();
    expect(entries).toEqual(['cross-category#2026-08-01T02:00:00.000Z already-mailed', 'cross-category#2026-08-04T02:00:00.000Z sent']);
    expect(back.campaigns['cross-category']).toMatchObject({ expired: 0, 'already-mailed': 1 });
  }, 180_000);

  it('does not mail the win-back a second time for the same lapse', async () => {
    const config = await campaignConfig(aws, 'refunded-last-wb', {
      campaigns: { policy: { controlShare: 0 }, campaigns: [{ kind: 'winback' }] } as never,
      plausibility: { maxUnexplainedLapseShare: 1, maxDropShare: 1, maxDowngradeShare: 1, maxUpgradeShare: 1 },
    });
    // Orders on 06-01 and 06-11; the win-back for the 06-11 order is due on 08-10 (day 60).
    const orders = (status: 'paid' | 'refunded') =>
      [
        HEADER,
        'w1,x,2026-06-01T10:00:00+08:00,WALLET,Zip Wallet,leather-goods,1,420.00,USD,paid,',
        `w2,x,2026-06-11T10:00:00+08:00,CARD,Card Holder,leather-goods,1,150.00,USD,${status},${status === 'refunded' ? '150.00' : ''}`,
        'f1,f1,2026-07-20T10:00:00+08:00,EDP,Eau de Parfum,fragrance,1,160.00,USD,paid,',
      ].join('\n') + '\n';
    const nightWith = (runDate: string, status: 'paid' | 'refunded') => night(config, runDate, orders(status));
    await nightWith('2026-08-09', 'paid');
    expect((await run(aws, config, local('2026-08-10 10:00', SH), 'wb-1')).campaigns.winback?.sent).toBe(1);
    // The address is shared with the cross-category case: count from here.
    const emailsBefore = (await emailsTo(aws, ADDRESS('x'))).length;
    // The card holder of 06-11 is refunded late (a return accepted after 60 days, a chargeback...).
    await nightWith('2026-08-12', 'refunded');
    for (const [i, hour] of ['2026-08-13 10:00', '2026-08-14 10:00'].entries()) await run(aws, config, local(hour, SH), `wb-next-${i}`);
    const entries = (await ledgerEntries(aws, config)).filter((e) => e.customerId === 'x').map((e) => `${e.occasionKey} ${e.status}`).sort();
    expect(entries).toEqual(['winback#2026-06-01T02:00:00.000Z already-mailed', 'winback#2026-06-11T02:00:00.000Z sent']);
    expect(await emailsTo(aws, ADDRESS('x'))).toHaveLength(emailsBefore);
  }, 180_000);
});
