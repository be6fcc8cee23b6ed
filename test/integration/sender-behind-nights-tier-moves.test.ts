import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatStatus, gatherStatus } from '#local/commands/status.ts';
import type { Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { campaignConfig, countsOf, runCampaignHour } from '#test/support/campaign-runs.ts';
import { ledgerEntries } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { at } from '#test/support/time.ts';

/**
 * The hold while nights are behind and the tier moves: a custom "welcome to VIC" written the short
 * way, `{ on: 'tier-changed', to: ['VIC'] }` (direction left at its default, any), is a move up no
 * order since can undo: it goes during the hold, as the tier thank-you (held as a move down, a
 * backfill longer than its 7-day window lost it: found by attack-fixes38c). A move down is held,
 * and `clientele status` names the held occasions without calling them lapses.
 * The scenario follows sender-behind-nights.test.ts (nights 03-19 onwards missed, backfilled
 * oldest first while the hourly schedule runs).
 */

const aws = sharedAws();
const work = scratchDir('sender-behind-nights-tier-moves');

interface Order {
  id: string;
  customer: string;
  at: string;
  total: string;
  /** From this night on, the export has the order refunded in full. */
  refundedFrom?: string;
}

// V: Core (6,000.00 in 12 months) until her 45,000.00 order of 03-19 makes her VIC. K: Core, nothing since.
const ORDERS: Order[] = [
  { id: 'v-1', customer: 'V', at: '2026-01-10T10:00:00+08:00', total: '6000.00' },
  { id: 'v-2', customer: 'V', at: '2026-03-19T10:00:00+08:00', total: '45000.00' },
  { id: 'k-1', customer: 'K', at: '2026-01-10T10:00:00+08:00', total: '6000.00' },
];
const CLIENTS = ['V', 'K'];
const ORDER_HEADER = 'order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,currency,status,refunded_amount';

async function night(config: Config, runDate: string, runAt: number): Promise<void> {
  const dir = join(work, config.storage.exportsPrefix, runDate);
  await mkdir(dir, { recursive: true });
  const end = at(`${runDate} 23:59`);
  const customers = ['customer_id,email,first_name,locale,time_zone,accepts_marketing', ...CLIENTS.map((id) => `${id},${id.toLowerCase()}@vic-welcome.example.com,Ada,en,Asia/Shanghai,true`)];
  const orders = [ORDER_HEADER, ...ORDERS.filter((o) => Date.parse(o.at) <= end).map((o) => `${o.id},${o.customer},${o.at},BAG,Bag,leather-goods,1,${o.total},USD,${o.refundedFrom !== undefined && runDate >= o.refundedFrom ? `refunded,${o.total}` : 'paid,'}`)];
  await writeFile(join(dir, 'customers.csv'), `${customers.join('\n')}\n`);
  await writeFile(join(dir, 'orders.csv'), `${orders.join('\n')}\n`);
  await writeFile(join(dir, 'products.csv'), 'sku,name,category,replenish_days,price\nBAG,Bag,leather-goods,,2400\n');
  await runNightly({ clock: () => runAt, runDate, runId: `n-${runDate}`, config, clients: aws.clients, source: directoryExportSource(dir) });
}

const decisions = async (config: Config) => (await ledgerEntries(aws, config)).map((e) => `${e.customerId} ${e.campaignId} ${e.status}`).sort();

describe('tier moves while nights are behind', () => {
  it('sends the welcome to VIC of a move a backfilled night saw, during the hold, as the tier-upgrade thanks; never records it expired', async () => {
    const config = await campaignConfig(aws, 'behind-vic-welcome', {
      campaigns: {
        policy: { controlShare: 0, quietHours: { start: '00:00', end: '00:00' } },
        campaigns: [
          {
            kind: 'custom',
            id: 'vic-welcome',
            trigger: { on: 'tier-changed', to: ['VIC'], daysAfter: 1 },
            template: 'tier-upgrade-thanks',
            offers: { default: { kind: 'none' }, VIC: { kind: 'personal-note' } },
            products: { from: 'none' },
          },
        ],
      },
      plausibility: { maxUnexplainedLapseShare: 1, maxDropShare: 1, maxDowngradeShare: 1, maxUpgradeShare: 1 },
    });
    await night(config, '2026-03-18', at('2026-03-19 02:00'));
    // The outage: the backfill starts on 03-24 with the night of 03-19, which sees V move up to VIC.
    await night(config, '2026-03-19', at('2026-03-24 10:00'));
    const hour = await runCampaignHour(aws, config, at('2026-03-24 11:00'), 'hv-0324-11');
    // The hour is behind (as it should say), but a move to VIC rests on an order that happened.
    expect(hour.behind).toMatchObject({ lastNight: '2026-03-19', lastNightDue: '2026-03-23' });
    expect.soft(hour.behind?.campaigns).toEqual([]);
    expect.soft(countsOf(hour, 'vic-welcome').sent).toBe(1);

    // The rest of the backfill a few days later (its window, 03-20 to 03-27, has closed by then).
    for (let day = 20; day <= 27; day++) await night(config, `2026-03-${day}`, at(`2026-03-28 02:${String(day).padStart(2, '0')}`));
    const caughtUp = await runCampaignHour(aws, config, at('2026-03-28 05:00'), 'hv-0328-05');
    expect(caughtUp.behind).toBeUndefined();
    expect(await decisions(config)).toEqual(['V vic-welcome sent']);
  }, 300_000);

  it('holds a move down, and names what it held in `clientele status` without calling it a lapse or run-out', async () => {
    const config = await campaignConfig(aws, 'behind-status-words', {
      campaigns: {
        policy: { controlShare: 0, quietHours: { start: '00:00', end: '00:00' } },
        campaigns: [{ kind: 'custom', id: 'tier-down', trigger: { on: 'tier-changed', direction: 'down' }, template: 'tier-upgrade-thanks', products: { from: 'none' } }],
      },
      plausibility: { maxUnexplainedLapseShare: 1, maxDropShare: 1, maxDowngradeShare: 1, maxUpgradeShare: 1 },
    });
    // K: Core on the night of 03-18, her order refunded in the export of 03-19 (a move down), held from 03-24.
    await night(config, '2026-03-18', at('2026-03-19 02:00'));
    ORDERS[2] = { ...ORDERS[2]!, refundedFrom: '2026-03-19' };
    await night(config, '2026-03-19', at('2026-03-24 10:00'));
    const hour = await runCampaignHour(aws, config, at('2026-03-24 11:00'), 'hs-0324-11');
    const status = formatStatus(await gatherStatus({ config, source: 'test' }, aws.clients, at('2026-03-24 11:30'), { nights: 7, hours: 2 }));
    const line = status.split('\n').find((l) => l.includes('NIGHTS BEHIND')) ?? '';
    // Printed whatever was held: a tier move down, a birthday, a sign-up nudge are neither lapses nor run-outs.
    expect({ behind: hour.behind?.campaigns, held: hour.behind?.occasionsHeld, line }).toEqual({ behind: ['tier-down'], held: 1, line: expect.stringContaining('1 occasion(s) held (resting on no order since the last night)') });
  }, 300_000);
});
