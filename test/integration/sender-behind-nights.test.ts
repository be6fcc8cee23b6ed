import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gatherStatus, formatStatus } from '#local/commands/status.ts';
import { formatCampaignSummary } from '#local/format.ts';
import type { Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { campaignConfig, countsOf, runCampaignHour } from '#test/support/campaign-runs.ts';
import { dropIncrement, ledgerEntries } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { at } from '#test/support/time.ts';

/**
 * Both schedules off for days (nights 2026-03-19 to 03-23 missed), then the nights backfilled one
 * at a time, oldest first (docs/deploy.md §5), while the hourly schedule is back on. An hour between
 * two backfilled nights reads profiles days old: a client who ordered on 03-20 is, to them, 60 days
 * without an order, and a serum restocked on 03-20 is running out. No hour with the nights on time
 * sends those two (the night of 03-20 ran on 03-21 and took both occasions away), so while the last
 * completed night is behind the last night due, the occasions resting on no order since the night
 * wait; a welcome (a first order that happened) goes. Found by attack-outage (probe 3).
 */

const aws = sharedAws();
const work = scratchDir('sender-behind-nights');

interface Order {
  id: string;
  customer: string;
  at: string;
  sku: string;
  total: string;
}

// B: last order 01-23, her win-back opens 03-24; she ordered again on 03-20.
// R: a 45-day serum on 02-22, its reminder opens 03-24 (run-out 04-08); restocked on 03-20.
// W: last order 01-23, nothing since: a true win-back, held while the nights are behind, sent once they caught up.
// X: last order 2025-12-25, win-back window 02-23 to 03-25 00:00: it closes while held, and is recorded expired then.
const ORDERS: Order[] = [
  { id: 'b-1', customer: 'B', at: '2026-01-23T10:00:00+08:00', sku: 'COAT', total: '5200.00' },
  { id: 'b-2', customer: 'B', at: '2026-03-20T10:00:00+08:00', sku: 'BAG', total: '2400.00' },
  { id: 'r-1', customer: 'R', at: '2026-02-22T10:00:00+08:00', sku: 'SERUM', total: '300.00' },
  { id: 'r-2', customer: 'R', at: '2026-03-20T11:00:00+08:00', sku: 'SERUM', total: '300.00' },
  { id: 'w-1', customer: 'W', at: '2026-01-23T10:00:00+08:00', sku: 'BAG', total: '2400.00' },
  { id: 'x-1', customer: 'X', at: '2025-12-25T10:00:00+08:00', sku: 'BAG', total: '2400.00' },
];
const CLIENTS = ['B', 'R', 'W', 'X'];
const ORDER_HEADER = 'order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,currency,status,refunded_amount';
const orderLine = (o: Order) => `${o.id},${o.customer},${o.at},${o.sku},${o.sku} name,${o.sku === 'SERUM' ? 'skincare' : 'leather-goods'},1,${o.total},USD,paid,`;

/** The night of `runDate` (a full snapshot of the world's clients and the orders placed by its end), run at `runAt`. */
async function night(config: Config, runDate: string, runAt: number, world: { clients: string[]; orders: Order[]; birthday?: string } = { clients: CLIENTS, orders: ORDERS }): Promise<void> {
  const dir = join(work, config.storage.exportsPrefix, runDate);
  await mkdir(dir, { recursive: true });
  const end = at(`${runDate} 23:59`);
  const customers = [
    'customer_id,email,first_name,locale,time_zone,accepts_marketing,birthday',
    ...world.clients.map((id) => `${id},${id.toLowerCase()}@behind.example.com,Ada,en,Asia/Shanghai,true,${world.birthday ?? ''}`),
  ];
  const orders = [ORDER_HEADER, ...world.orders.filter((o) => Date.parse(o.at) <= end).map(orderLine)];
  const products = ['sku,name,category,replenish_days,price', 'SERUM,Serum,skincare,45,300', 'BAG,Bag,leather-goods,,2400', 'COAT,Coat,ready-to-wear,,5200'];
  await writeFile(join(dir, 'customers.csv'), `${customers.join('\n')}\n`);
  await writeFile(join(dir, 'orders.csv'), `${orders.join('\n')}\n`);
  await writeFile(join(dir, 'products.csv'), `${products.join('\n')}\n`);
  await runNightly({ clock: () => runAt, runDate, runId: `n-${runDate}`, config, clients: aws.clients, source: directoryExportSource(dir) });
}

/** A scenario's configuration: no control group, no quiet hours, the nightly guards off (a few clients move a lot). */
const behindConfig = (name: string, campaigns: unknown[]) =>
  campaignConfig(aws, name, {
    campaigns: { policy: { controlShare: 0, quietHours: { start: '00:00', end: '00:00' } }, campaigns } as never,
    plausibility: { maxUnexplainedLapseShare: 1, maxDropShare: 1, maxDowngradeShare: 1, maxUpgradeShare: 1 },
  });

/** The missed nights 03-20 to 03-23 backfilled one at a time, oldest first, from `from` (brand time, ten minutes apart). */
async function backfill(config: Config, from: string, world: Parameters<typeof night>[3]): Promise<void> {
  for (const [i, runDate] of ['2026-03-20', '2026-03-21', '2026-03-22', '2026-03-23'].entries()) await night(config, runDate, at(from) + i * 600_000, world);
}

const decisions = async (config: Config) => (await ledgerEntries(aws, config)).map((e) => `${e.customerId} ${e.campaignId} ${e.status}`).sort();

describe('the hourly sender while missed nights are backfilled', () => {
  it('decides no win-back or run-out reminder on a night behind the last one due; sends the welcome; decides them once the nights caught up', async () => {
    const config = await behindConfig('behind-nights', [{ kind: 'welcome' }, { kind: 'replenishment' }, { kind: 'winback' }]);
    await night(config, '2026-03-18', at('2026-03-19 02:00'));
    // The outage: no night and no hour from 03-19 to 03-24 10:00. The backfill starts with 03-19.
    await night(config, '2026-03-19', at('2026-03-24 10:00'));
    // A new client's first order, merged by the 11:00 hour.
    await dropIncrement(aws, config, '2026-03-24T1050', {
      'customers.csv': 'customer_id,email,first_name,locale,time_zone,accepts_marketing\nN,n@behind.example.com,Ada,en,Asia/Shanghai,true\n',
      'orders.csv': `${ORDER_HEADER}\nn-1,N,2026-03-24T10:30:00+08:00,BAG,BAG name,leather-goods,1,2400.00,USD,paid,\n`,
    });

    // A dry run shows the hour as the real one runs it.
    const dry = await runCampaignHour(aws, config, at('2026-03-24 11:00'), 'h-0324-11-dry', { dryRun: true });
    const held = { reason: 'nights-behind', lastNight: '2026-03-19', lastNightDue: '2026-03-23', nightsBehind: 4, campaigns: ['replenishment', 'winback'], occasionsHeld: 4 };
    expect(dry.behind).toMatchObject(held);
    expect(dry.plan?.map((p) => `${p.customerId} ${p.campaignId} ${p.outcome}`)).toEqual(['N welcome send']);

    const hour = await runCampaignHour(aws, config, at('2026-03-24 11:00'), 'h-0324-11');
    expect(hour.behind).toMatchObject(held);
    expect(hour.held).toBeUndefined();
    expect(countsOf(hour, 'welcome').sent).toBe(1);
    expect([countsOf(hour, 'winback').due, countsOf(hour, 'winback').expired, countsOf(hour, 'replenishment').due]).toEqual([0, 0, 0]);
    expect(await decisions(config)).toEqual(['N welcome sent']);
    // Said where the operator looks: the CLI's summary, and the hour's line in `clientele status`.
    expect(formatCampaignSummary(hour, 'Asia/Shanghai')).toContain('WARNING: 4 occasions not decided this hour, nights behind: the last completed night is 2026-03-19, the last night due 2026-03-23');
    const status = await gatherStatus({ config, source: 'test' }, aws.clients, at('2026-03-24 11:30'), { nights: 7, hours: 2 });
    expect(status.sender.runs.find((run) => run.runId === 'h-0324-11')?.behind).toEqual({ lastNight: '2026-03-19', lastNightDue: '2026-03-23', occasionsHeld: 4 });
    expect(formatStatus(status)).toContain('NIGHTS BEHIND: last night 2026-03-19, due 2026-03-23; 4 occasion(s) held (resting on no order since the last night)');

    // The night of 03-20 (B's and R's orders) is backfilled; an hour after midnight, still behind.
    await night(config, '2026-03-20', at('2026-03-24 12:00'));
    const afterMidnight = await runCampaignHour(aws, config, at('2026-03-25 01:00'), 'h-0325-01');
    // Only W's win-back left to hold; X's window closed at midnight: not recorded either while behind (an order since may have taken it away).
    expect(afterMidnight.behind).toMatchObject({ lastNight: '2026-03-20', lastNightDue: '2026-03-23', nightsBehind: 3, occasionsHeld: 1 });
    expect(countsOf(afterMidnight, 'winback').expired).toBe(0);
    expect(await decisions(config)).toEqual(['N welcome sent']);

    // The backfill ends with the last night due; the next hour decides what was held, once.
    await night(config, '2026-03-21', at('2026-03-25 02:00'));
    await night(config, '2026-03-22', at('2026-03-25 02:10'));
    await night(config, '2026-03-23', at('2026-03-25 02:20'));
    const caughtUp = await runCampaignHour(aws, config, at('2026-03-25 03:00'), 'h-0325-03');
    expect(caughtUp.behind).toBeUndefined();
    // X's window, closed while held, is recorded expired now, on the profile that knows she has not ordered since.
    expect(countsOf(caughtUp, 'winback')).toMatchObject({ sent: 1, expired: 1 });
    await runCampaignHour(aws, config, at('2026-03-25 04:00'), 'h-0325-04');
    // No win-back to B (she ordered on 03-20), no reminder for R's restocked serum, W's win-back once.
    expect(await decisions(config)).toEqual(['N welcome sent', 'W winback sent', 'X winback expired']);
  }, 300_000);

  it('holds the days after an order and an RFM segment entered by days without one, as the win-back', async () => {
    // Night 03-18: B and W hibernating, C and D promising. Night 03-19: Z's first order makes the base
    // six buyers, and B and W enter 'lost' (R 1), C and D 'about-to-sleep'. B and C order again on 03-20.
    const world = {
      clients: ['B', 'C', 'D', 'W', 'X', 'Z'],
      orders: [
        ...ORDERS.filter((o) => ['B', 'W', 'X'].includes(o.customer)),
        { id: 'c-1', customer: 'C', at: '2026-03-03T10:00:00+08:00', sku: 'BAG', total: '2400.00' },
        { id: 'c-2', customer: 'C', at: '2026-03-20T12:00:00+08:00', sku: 'BAG', total: '2400.00' },
        { id: 'd-1', customer: 'D', at: '2026-03-03T10:00:00+08:00', sku: 'BAG', total: '2400.00' },
        { id: 'z-1', customer: 'Z', at: '2026-03-19T10:00:00+08:00', sku: 'BAG', total: '2400.00' },
      ],
    };
    const custom = { template: 'winback', products: { from: 'none' } } as const;
    const config = await behindConfig('behind-nights-moves', [
      // The cross-category suggestion's trigger: three weeks after the latest order (C's and D's 03-03 one: 03-24).
      { kind: 'custom', id: 'after-order', trigger: { on: 'any-order', daysAfter: 21 }, ...custom },
      { kind: 'custom', id: 'lost', trigger: { on: 'rfm-segment-entered', segments: ['lost'] }, ...custom },
    ]);
    await night(config, '2026-03-18', at('2026-03-19 02:00'), world);
    await night(config, '2026-03-19', at('2026-03-24 10:00'), world);

    const hour = await runCampaignHour(aws, config, at('2026-03-24 11:00'), 'hm-0324-11');
    expect(hour.behind).toMatchObject({ lastNight: '2026-03-19', nightsBehind: 4, campaigns: ['after-order', 'lost'], occasionsHeld: 4 });
    expect(await decisions(config)).toEqual([]);

    await backfill(config, '2026-03-25 02:00', world);
    const caughtUp = await runCampaignHour(aws, config, at('2026-03-25 03:00'), 'hm-0325-03');
    expect(caughtUp.behind).toBeUndefined();
    await runCampaignHour(aws, config, at('2026-03-25 04:00'), 'hm-0325-04');
    // B's and C's orders of 03-20 took their occasions away: D is pitched for her 03-03 order, W is lost.
    expect(await decisions(config)).toEqual(['D after-order sent', 'W lost sent']);
  }, 300_000);

  it('holds a campaign whose audience an order takes a client out of: a birthday gift for clients 60 days without an order', async () => {
    // L and K last ordered on 01-10, both born on 03-24; L ordered again on 03-20, after the last completed night.
    const world = {
      clients: ['L', 'K'],
      birthday: '1990-03-24',
      orders: [
        { id: 'l-1', customer: 'L', at: '2026-01-10T10:00:00+08:00', sku: 'BAG', total: '2400.00' },
        { id: 'l-2', customer: 'L', at: '2026-03-20T10:00:00+08:00', sku: 'BAG', total: '2400.00' },
        { id: 'k-1', customer: 'K', at: '2026-01-10T10:00:00+08:00', sku: 'BAG', total: '2400.00' },
      ],
    };
    const config = await behindConfig('behind-nights-audience', [
      { kind: 'custom', id: 'lapsed-birthday', trigger: { on: 'birthday' }, audience: { daysSinceLastOrder: { min: 60 } }, template: 'birthday', products: { from: 'none' } },
    ]);
    await night(config, '2026-03-18', at('2026-03-19 02:00'), world);
    await night(config, '2026-03-19', at('2026-03-24 10:00'), world);
    const hour = await runCampaignHour(aws, config, at('2026-03-24 11:00'), 'ha-0324-11');
    // To the night of 03-19, L is 73 days without an order; she ordered on 03-20.
    expect(hour.behind).toMatchObject({ lastNight: '2026-03-19', campaigns: ['lapsed-birthday'], occasionsHeld: 2 });
    expect(await decisions(config)).toEqual([]);
    await backfill(config, '2026-03-24 12:00', world);
    await runCampaignHour(aws, config, at('2026-03-24 13:00'), 'ha-0324-13');
    // K's gift once; L, 4 days after an order, is out of the audience (counted, nothing written).
    expect(await decisions(config)).toEqual(['K lapsed-birthday sent']);
  }, 300_000);

  it('holds a coupon for clients below VIC: an order since may have made the client VIC', async () => {
    // V and K: Core (6,000.00 in 12 months), born on 03-24; V spent 45,000.00 on 03-20, after the last completed night.
    const world = {
      clients: ['V', 'K'],
      birthday: '1990-03-24',
      orders: [
        { id: 'v-1', customer: 'V', at: '2026-01-10T10:00:00+08:00', sku: 'BAG', total: '6000.00' },
        { id: 'v-2', customer: 'V', at: '2026-03-20T10:00:00+08:00', sku: 'BAG', total: '45000.00' },
        { id: 'k-1', customer: 'K', at: '2026-01-10T10:00:00+08:00', sku: 'BAG', total: '6000.00' },
      ],
    };
    const config = await behindConfig('behind-nights-tiers', [
      {
        kind: 'custom',
        id: 'below-vic-birthday',
        trigger: { on: 'birthday' },
        audience: { tiers: ['Core', 'Potential', 'Entry'] },
        template: 'birthday',
        offers: { default: { kind: 'coupon', discountPercent: 10 } },
        products: { from: 'none' },
      },
    ]);
    await night(config, '2026-03-18', at('2026-03-19 02:00'), world);
    await night(config, '2026-03-19', at('2026-03-24 10:00'), world);
    const hour = await runCampaignHour(aws, config, at('2026-03-24 11:00'), 'ht-0324-11');
    expect(hour.behind).toMatchObject({ lastNight: '2026-03-19', campaigns: ['below-vic-birthday'], occasionsHeld: 2 });
    await backfill(config, '2026-03-24 12:00', world);
    await runCampaignHour(aws, config, at('2026-03-24 13:00'), 'ht-0324-13');
    // As with the nights on time: K's coupon; V, a VIC since 03-20, is out of the audience (no coupon to a VIC).
    expect(await decisions(config)).toEqual(['K below-vic-birthday sent']);
  }, 300_000);

  it('records the windows that closed while held once the nights caught up, on profiles that know the orders since, and the welcomes of clients a long backfill brought', async () => {
    // X and Y last ordered on 2025-12-25: win-back windows from 02-23 to 03-25 00:00; Y ordered again on 03-20.
    // N's first order (03-19 10:00) is only known once the night of 03-19 is backfilled, on 03-28: her welcome closed on 03-22.
    const world = {
      clients: ['N', 'X', 'Y'],
      orders: [
        { id: 'x-1', customer: 'X', at: '2025-12-25T10:00:00+08:00', sku: 'BAG', total: '2400.00' },
        { id: 'y-1', customer: 'Y', at: '2025-12-25T10:00:00+08:00', sku: 'BAG', total: '2400.00' },
        { id: 'y-2', customer: 'Y', at: '2026-03-20T10:00:00+08:00', sku: 'BAG', total: '2400.00' },
        { id: 'n-1', customer: 'N', at: '2026-03-19T10:00:00+08:00', sku: 'BAG', total: '2400.00' },
      ],
    };
    const config = await behindConfig('behind-nights-expiry', [{ kind: 'welcome' }, { kind: 'winback' }]);
    await night(config, '2026-03-18', at('2026-03-19 02:00'), world);
    // The export stops; the hours run on the night of 03-18.
    const first = await runCampaignHour(aws, config, at('2026-03-24 11:00'), 'he-0324-11');
    expect(first.behind).toMatchObject({ lastNight: '2026-03-18', occasionsHeld: 2 });
    const afterClose = await runCampaignHour(aws, config, at('2026-03-25 01:00'), 'he-0325-01');
    expect(countsOf(afterClose, 'winback').expired).toBe(0);
    expect(await decisions(config)).toEqual([]);
    // Nine nights backfilled on 03-28, then the first hour after.
    for (let day = 19; day <= 27; day++) await night(config, `2026-03-${day}`, at(`2026-03-28 02:${String(day).padStart(2, '0')}`), world);
    const caughtUp = await runCampaignHour(aws, config, at('2026-03-28 05:00'), 'he-0328-05');
    expect(caughtUp.behind).toBeUndefined();
    expect([countsOf(caughtUp, 'welcome').expired, countsOf(caughtUp, 'winback').expired]).toEqual([1, 1]);
    // As with the nights on time: N's welcome and X's win-back lost to the outage, counted; Y had no lapse any more.
    expect(await decisions(config)).toEqual(['N welcome expired', 'X winback expired']);
    // Recorded once: the next hour reads from its last run again.
    const next = await runCampaignHour(aws, config, at('2026-03-28 06:00'), 'he-0328-06');
    expect(countsOf(next, 'welcome').expired + countsOf(next, 'winback').expired).toBe(0);
  }, 300_000);
});
