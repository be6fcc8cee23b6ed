import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignConfig, runCampaignHour } from '#test/support/campaign-runs.ts';
import { dropIncrement, ledgerEntries } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { at, HOUR } from '#test/support/time.ts';

/**
 * A brand in America/Los_Angeles lives through 2020-12-30..2021-01-02 (its night
 * of 31 December runs on 1 January at 04:00, 12:00Z), with clients on both sides of the date line:
 * every night on time and every hour run, then the same world with the night of 31 December
 * missed and backfilled. Each client gets what is due once, in their own morning, and the backfilled
 * world ends as the clean one.
 */
const aws = sharedAws();
const work = scratchDir('year-end-turn');
const LA = 'America/Los_Angeles';
/** Each scenario's clients at a domain of their own: the SES emulator keeps every scenario's emails. */
const domains = new WeakMap<Config, string>();
const domainOf = (config: Config): string => domains.get(config) ?? '@year-end-turn.example.com';
const ORDER_HEADER = 'order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,currency,status,refunded_amount';

interface Order {
  id: string;
  customer: string;
  at: string;
  total: string;
}

// W: last order 2020-11-02 (LA): day 60 is 2021-01-01, the win-back opens at midnight as the year turns.
// K: in Kiritimati (+14), birthday 1 January: the birthday month opens 2020-12-31 10:00Z (02:00 in LA).
// G: in Pago Pago (-11), birthday in December: the December window closes 2021-01-01 11:00Z.
// V: a VIC by a sale of 2019-12-31 (LA) alone: it leaves the 12 months on the night of 2020-12-31.
// N: in Kathmandu, a first order on 2020-12-31 at 23:30 local: the welcome, held by quiet hours until 09:00 on 1 January.
const ORDERS: Order[] = [
  { id: 'w-1', customer: 'W', at: '2020-11-02T10:00:00-08:00', total: '300.00' },
  { id: 'k-1', customer: 'K', at: '2020-12-01T10:00:00-08:00', total: '120.00' },
  { id: 'g-1', customer: 'G', at: '2020-12-01T10:00:00-08:00', total: '120.00' },
  { id: 'v-1', customer: 'V', at: '2019-12-31T10:00:00-08:00', total: '90000.00' },
  { id: 'v-2', customer: 'V', at: '2020-06-01T10:00:00-07:00', total: '100.00' },
  { id: 'n-1', customer: 'N', at: '2020-12-31T23:30:00+05:45', total: '80.00' },
];
const CLIENTS: [string, string, string][] = [
  ['W', LA, ''],
  ['K', 'Pacific/Kiritimati', '1985-01-01'],
  ['G', 'Pacific/Pago_Pago', '1985-12-15'],
  ['V', LA, ''],
  ['N', 'Asia/Kathmandu', ''],
];

async function night(config: Config, runDate: string, runAt: number): Promise<void> {
  const dir = join(work, config.storage.exportsPrefix, runDate);
  await mkdir(dir, { recursive: true });
  const end = at(`${runDate} 23:59`, LA) + 59_999;
  await writeFile(join(dir, 'customers.csv'), `${['customer_id,email,first_name,locale,time_zone,accepts_marketing,birthday', ...CLIENTS.map(([id, zone, birthday]) => `${id},${id.toLowerCase()}${domainOf(config)},Ada,en,${zone},true,${birthday}`)].join('\n')}\n`);
  const orders = ORDERS.filter((o) => Date.parse(o.at) <= end).map((o) => `${o.id},${o.customer},${o.at},BAG,Bag,leather-goods,1,${o.total},USD,paid,`);
  await writeFile(join(dir, 'orders.csv'), `${[ORDER_HEADER, ...orders].join('\n')}\n`);
  await writeFile(join(dir, 'products.csv'), 'sku,name,category,replenish_days,price\nBAG,Bag,leather-goods,,300\n');
  await runNightly({ clock: () => runAt, runDate, runId: `n-${runDate}`, config, clients: aws.clients, source: directoryExportSource(dir) });
}

async function turnConfig(name: string): Promise<Config> {
  const config = await campaignConfig(aws, name, {
    timeZone: LA,
    // The emulator's DynamoDB expires items by the machine's clock (2026): entries of 2020 kept 400 days would vanish mid-test.
    sender: { ledgerRetentionDays: 3650 },
    campaigns: { policy: { controlShare: 0 }, campaigns: [{ kind: 'welcome' }, { kind: 'winback' }, { kind: 'birthday' }] } as never,
    plausibility: { maxUnexplainedLapseShare: 1, maxDropShare: 1, maxDowngradeShare: 1, maxUpgradeShare: 1 },
  });
  domains.set(config, `@${name}.example.com`);
  return config;
}

/** Every hour from `from` to `to` (instants, inclusive), as the hourly schedule runs them; the nights at their 04:00 in between, when `nights` says so. */
async function hours(config: Config, from: number, to: number, nights: Map<number, () => Promise<void>>, tag: string): Promise<void> {
  for (let t = from; t <= to; t += HOUR) {
    const due = nights.get(t);
    if (due !== undefined) await due();
    await runCampaignHour(aws, config, t, `${tag}-${new Date(t).toISOString()}`);
  }
}

/** What each client got: campaign, occasion and when (ISO), sorted. */
async function outcomes(config: Config): Promise<string[]> {
  return (await ledgerEntries(aws, config))
    .filter((e) => !e.customerId.startsWith('advisor#'))
    .map((e) => `${e.customerId} ${e.occasionKey.replace(/#20\d\d-\d\d-\d\dT[^#]*/, '#<order>')} ${e.status}`)
    .sort();
}

describe('the turn of the year for a brand in Los Angeles', () => {
  it('each client gets what is due at the turn once, in their morning; the VIC whose sale of 2019-12-31 left is no longer VIC after the night of 2020-12-31', { timeout: 600_000 }, async () => {
    const config = await turnConfig('ye39-turn-clean');
    await night(config, '2020-12-29', at('2020-12-30 04:00', LA));
    await night(config, '2020-12-30', at('2020-12-31 04:00', LA));
    expect((await getProfile(aws.clients.documents, tableNames(config).profiles, 'V'))?.tier).toBe('VIC');
    const nights = new Map([
      [at('2021-01-01 04:00', LA), () => night(config, '2020-12-31', at('2021-01-01 04:10', LA))],
      [at('2021-01-02 04:00', LA), () => night(config, '2021-01-01', at('2021-01-02 04:10', LA))],
    ]);
    // N's first order reaches the hours through an increment stamped 17:50Z (23:35 in Kathmandu).
    await dropIncrement(aws, config, '2020-12-31T1750Z', {
      'customers.csv': `customer_id,email,first_name,locale,time_zone,accepts_marketing\nN,n${domainOf(config)},Ada,en,Asia/Kathmandu,true\n`,
      'orders.csv': `${ORDER_HEADER}\nn-1,N,2020-12-31T23:30:00+05:45,BAG,Bag,leather-goods,1,80.00,USD,paid,\n`,
    });
    await hours(config, at('2020-12-31 00:00', LA), at('2021-01-02 12:00', LA), nights, 'clean');

    expect(await outcomes(config)).toEqual(['G birthday#2020 sent', 'K birthday#2021 sent', 'N welcome sent', 'W winback#<order> sent']);
    for (const id of ['W', 'K', 'G', 'N']) expect(await emailsTo(aws, `${id.toLowerCase()}${domainOf(config)}`), id).toHaveLength(1);
    const sentAt = async (id: string) => (await ledgerEntries(aws, config)).find((e) => e.customerId === id)?.sentAt;
    // In each client's own morning (quiet hours 21:00-09:00 local): K's January opens at her midnight (10:00Z), goes at her 09:00.
    expect(await sentAt('K')).toBe(at('2021-01-01 09:00', 'Pacific/Kiritimati'));
    expect(await sentAt('G')).toBe(at('2020-12-31 09:00', 'Pacific/Pago_Pago'));
    expect(await sentAt('N')).toBeGreaterThanOrEqual(at('2021-01-01 09:00', 'Asia/Kathmandu'));
    expect(await sentAt('N')).toBeLessThan(at('2021-01-01 10:00', 'Asia/Kathmandu'));
    expect(await sentAt('W')).toBe(at('2021-01-01 09:00', LA));
    expect((await getProfile(aws.clients.documents, tableNames(config).profiles, 'V'))?.tier).not.toBe('VIC');
  });

  it('the night of 2020-12-31 missed at 04:00 and backfilled at 14:00 on 1 January: the same emails, each once; the win-back waits for the night', { timeout: 600_000 }, async () => {
    const config = await turnConfig('ye39-turn-backfill');
    await night(config, '2020-12-29', at('2020-12-30 04:00', LA));
    await night(config, '2020-12-30', at('2020-12-31 04:00', LA));
    const nights = new Map([
      [at('2021-01-01 14:00', LA), () => night(config, '2020-12-31', at('2021-01-01 14:10', LA))],
      [at('2021-01-02 04:00', LA), () => night(config, '2021-01-01', at('2021-01-02 04:10', LA))],
    ]);
    await dropIncrement(aws, config, '2020-12-31T1750Z', {
      'customers.csv': `customer_id,email,first_name,locale,time_zone,accepts_marketing\nN,n${domainOf(config)},Ada,en,Asia/Kathmandu,true\n`,
      'orders.csv': `${ORDER_HEADER}\nn-1,N,2020-12-31T23:30:00+05:45,BAG,Bag,leather-goods,1,80.00,USD,paid,\n`,
    });
    await hours(config, at('2020-12-31 00:00', LA), at('2021-01-02 12:00', LA), nights, 'backfill');

    expect(await outcomes(config)).toEqual(['G birthday#2020 sent', 'K birthday#2021 sent', 'N welcome sent', 'W winback#<order> sent']);
    for (const id of ['W', 'K', 'G', 'N']) expect(await emailsTo(aws, `${id.toLowerCase()}${domainOf(config)}`), id).toHaveLength(1);
    const sentAt = async (id: string) => (await ledgerEntries(aws, config)).find((e) => e.customerId === id)?.sentAt ?? 0;
    expect(await sentAt('W')).toBeGreaterThanOrEqual(at('2021-01-01 14:00', LA));
    expect((await getProfile(aws.clients.documents, tableNames(config).profiles, 'V'))?.tier).not.toBe('VIC');
  });

  it('a client lapsing on 1 January who orders at 00:05 that day (an increment) gets no win-back, though the night of 31 December, run at 04:00, does not count that order', { timeout: 600_000 }, async () => {
    const config = await turnConfig('ye39-turn-late-order');
    await night(config, '2020-12-29', at('2020-12-30 04:00', LA));
    await night(config, '2020-12-30', at('2020-12-31 04:00', LA));
    const nights = new Map([[at('2021-01-01 04:00', LA), () => night(config, '2020-12-31', at('2021-01-01 04:10', LA))]]);
    await hours(config, at('2020-12-31 22:00', LA), at('2021-01-01 00:00', LA), new Map(), 'late');
    // W's day 60 began at midnight (held by quiet hours); she orders at 00:05, dropped in the 00:10 increment.
    await dropIncrement(aws, config, '2021-01-01T0010', {
      'customers.csv': `customer_id,email,first_name,locale,time_zone,accepts_marketing\nW,w${domainOf(config)},Ada,en,${LA},true\n`,
      'orders.csv': `${ORDER_HEADER}\nw-2,W,2021-01-01T00:05:00-08:00,BAG,Bag,leather-goods,1,300.00,USD,paid,\n`,
    });
    await hours(config, at('2021-01-01 01:00', LA), at('2021-01-01 12:00', LA), nights, 'late');
    expect((await outcomes(config)).filter((o) => o.startsWith('W '))).toEqual(['W winback#<order> deferred']);
    expect(await emailsTo(aws, `w${domainOf(config)}`)).toEqual([]);
  });
});
