import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Config } from '#shared/config.ts';
import { runNightlySharded } from '#local/nightly/sharded-run.ts';
import { combineWorkMeasures, finishFromWork, measureShardToWork, planNight, repartitionToWork, writeShardFromWork } from '#shared/nightly/distributed.ts';
import { nightContext, runNightly } from '#shared/nightly/run.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';
import { shardsOf } from '#shared/nightly/shards.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { readCatalog } from '#shared/store/catalog-store.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { runCampaignHour } from '#test/support/campaign-runs.ts';
import { clienteleExit } from '#test/support/cli.ts';
import { dropIncrement, ledgerEntries, scanTable, uploadExport } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { storedState } from '#test/support/nightly-comparison.ts';
import { at } from '#test/support/time.ts';

/**
 * Use-up cycles too long for any calendar. A products file and an orders file of valid CSV whose
 * numbers put a client's run-out past year 9999 (a 10-year cycle times 10,000 units, or one unit in
 * 2000 and 400 in 2026: a personal cycle of 26 years a unit, 400 times) gave a day the calendar
 * cannot write, and every night and every hour failed for every client until the platform edited
 * its history. Now the readers bound what they take (a line of more than 10,000 units is a reject,
 * a replenish_days of more than 3650 days is dropped with a warning), and a run-out more than ten
 * years after its stock-up gives no reminder (campaigns/triggers.ts DUE_HORIZON_DAYS), alike in one
 * run, in 4 shards and in the hourly ingest; the other clients' reminders go as before.
 */
const aws = sharedAws();
const work = scratchDir('replenishment-huge-cycles');

const CUSTOMERS = [
  'customer_id,email,first_name,accepts_marketing,time_zone',
  'a1,a1@cycles.example.com,Ann,true,Asia/Shanghai',
  'a2,a2@cycles.example.com,Bea,true,Asia/Shanghai',
].join('\n');
const ORDERS_HEADER = 'order_id,customer_id,ordered_at,sku,quantity,line_total';
const CREAM_30 = 'sku,name,category,replenish_days\nCREAM,Cream,skincare,30\n';
/** a2's 30-day cream of 03-01: due from 03-16 until its run-out on 03-31, so the hour after the night of 03-22 sends it. */
const A2_CREAM = 'o2,a2,2026-03-01T16:00:00+08:00,CREAM,1,80.00';
const A2_REMINDER = 'a2 replenishment#CREAM#2026-03-01T08:00:00.000Z';
const NIGHT_CLOCK = at('2026-03-23 02:00');
const HOUR = at('2026-03-23 11:00');

const scenario = (name: string, overrides: { maxRejectShare?: number } = {}) =>
  scenarioConfig(aws, name, {
    campaigns: { policy: { controlShare: 0, quietHours: { start: '00:00', end: '00:00' } }, campaigns: [{ kind: 'replenishment' }] },
    sender: { ...aws.config.sender, maxSendRate: 500 },
    ...overrides,
  });

/** The export of night `date` for `config`, in a local folder (returned) and uploaded where the night reads it. */
async function exportOf(config: Config, date: string, name: string, products: string, orders: readonly string[]): Promise<string> {
  const dir = join(work, config.storage.exportsBucket, `${date}-${name}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'customers.csv'), CUSTOMERS + '\n');
  await writeFile(join(dir, 'products.csv'), products);
  await writeFile(join(dir, 'orders.csv'), [ORDERS_HEADER, ...orders].join('\n') + '\n');
  await uploadExport(aws, config, dir, date);
  return dir;
}

async function night(config: Config, products: string, orders: readonly string[], runId: string, shards?: number, date = '2026-03-22', clockAt = NIGHT_CLOCK): Promise<NightlyRunSummary> {
  await exportOf(config, date, runId, products, orders);
  const run = { clock: () => clockAt, runDate: date, runId, config, clients: aws.clients };
  return shards === undefined ? runNightly(run) : runNightlySharded({ ...run, shards });
}

/** The replenishment reminders sent, as '<customer> <occasion key>'. */
async function sentReminders(config: Config): Promise<string[]> {
  return (await ledgerEntries(aws, config))
    .filter((e) => (e.status === 'sent' || e.status === 'maybe-sent') && e.campaignId === 'replenishment')
    .map((e) => `${e.customerId} ${e.occasionKey}`)
    .sort();
}

const profileOf = (config: Config, customerId: string) => getProfile(aws.clients.documents, tableNames(config).profiles, customerId);

const HUGE = [
  {
    name: 'a 10-year cycle (replenish_days 3650) times 10,000 units, both at the readers\' bounds',
    products: 'sku,name,category,replenish_days\nCREAM,Cream,skincare,30\nBALM,Balm,skincare,3650\n',
    orders: ['o1,a1,2026-03-20T15:00:00+08:00,BALM,10000,120.00', A2_CREAM],
    sku: 'BALM',
    quantity: 10_000,
  },
  {
    // 400 units of a 30-day cream last 12,000 days by the catalogue; but her one earlier unit, in 2000,
    // makes her personal cycle 26 years a unit, and 400 of those end past year 9999.
    name: 'one unit in 2000, then 400 units in 2026 (a personal cycle of 26 years a unit)',
    products: CREAM_30,
    orders: ['o0,a1,2000-03-20T15:00:00+08:00,CREAM,1,10.00', 'o1,a1,2026-03-20T15:00:00+08:00,CREAM,400,120.00', A2_CREAM],
    sku: 'CREAM',
    quantity: 400,
  },
];

describe('a run-out past year 9999 from values the readers take', () => {
  HUGE.forEach((c, i) => {
    it(`${c.name}: no reminder for her; the night completes in one run and in 4 shards alike, and the hour after it sends the other client's`, async () => {
      const one = await scenario(`huge-${i}-1`);
      const four = await scenario(`huge-${i}-4`);
      await night(one, c.products, c.orders, 'n-0322');
      await night(four, c.products, c.orders, 'n-0322', 4);
      expect((await profileOf(one, 'a1'))?.skus[c.sku]).toMatchObject({ quantity: c.quantity });
      expect(await storedState(aws, four)).toEqual(await storedState(aws, one));
      for (const config of [one, four]) {
        await runCampaignHour(aws, config, HOUR, 'h-0323-11');
        expect(await sentReminders(config)).toEqual([A2_REMINDER]);
      }
    }, 300_000);
  });
});

describe('values past the readers\' bounds', () => {
  it('a replenish_days of 5,000,000 (grams typed for days) is dropped with a warning: the balm has no cycle, the night completes in one run and in 4 shards alike', async () => {
    const products = 'sku,name,category,replenish_days\nCREAM,Cream,skincare,30\nBALM,Balm,skincare,5000000\n';
    const orders = ['o1,a1,2026-03-20T15:00:00+08:00,BALM,1,120.00', A2_CREAM];
    const one = await scenario('days-1');
    const four = await scenario('days-4');
    const summaries = [await night(one, products, orders, 'n-0322'), await night(four, products, orders, 'n-0322', 4)];
    expect(summaries.map((s) => [s.input.warned, s.input.rejected])).toEqual([
      [1, 0],
      [1, 0],
    ]);
    expect((await readCatalog(aws.clients.s3, one)).get('BALM')?.replenishDays).toBeUndefined();
    expect(await storedState(aws, four)).toEqual(await storedState(aws, one));
    for (const config of [one, four]) {
      await runCampaignHour(aws, config, HOUR, 'h-0323-11');
      expect(await sentReminders(config)).toEqual([A2_REMINDER]);
    }
  }, 300_000);

  it('an order line of 1,000,000 units is a reject: as one of two lines it fails the night before any write, naming the file (one run and 4 shards); among enough lines it is listed and the night completes', async () => {
    const orders = ['o1,a1,2026-03-20T15:00:00+08:00,CREAM,1000000,120.00', A2_CREAM];
    const refused = /orders\.csv: 50% of its rows rejected \(1 of 2\), above the maxRejectShare threshold of 5%/;
    const one = await scenario('quantity-1');
    await expect(night(one, CREAM_30, orders, 'n-0322')).rejects.toThrow(refused);
    const four = await scenario('quantity-4');
    await expect(night(four, CREAM_30, orders, 'n-0322', 4)).rejects.toThrow(refused);
    for (const config of [one, four]) expect(await scanTable(aws, tableNames(config).profiles)).toEqual([]);

    // The share set to take it (as a file of forty lines with this one would): listed, her spend not counted.
    const tolerant = await scenario('quantity-tolerant', { maxRejectShare: 1 });
    const summary = await night(tolerant, CREAM_30, orders, 'n-0322');
    expect(summary.input.sampleRejects.map((r) => [r.line, r.reason])).toEqual([[2, "quantity: more than 10000 units: not a client's purchase (a wholesale line, or another column's value?)"]]);
    expect((await profileOf(tolerant, 'a1'))?.skus).toEqual({});
    await runCampaignHour(aws, tolerant, HOUR, 'h-0323-11');
    expect(await sentReminders(tolerant)).toEqual([A2_REMINDER]);
  }, 300_000);

  it('`clientele run nightly` on it fails with one line naming the file and the reject share (no unexpected error)', async () => {
    const config = await scenario('quantity-cli');
    const configFile = join(work, 'quantity-cli-config.json');
    await mkdir(work, { recursive: true });
    await writeFile(configFile, JSON.stringify(config));
    await exportOf(config, '2026-03-22', 'cli', CREAM_30, ['o1,a1,2026-03-20T15:00:00+08:00,CREAM,1000000,120.00', A2_CREAM]);
    const run = await clienteleExit(['run', 'nightly', '--date', '2026-03-22', '--config', configFile, '--log-level', 'error']);
    const message = run.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('{'));
    expect({ code: run.code === 0 ? 0 : 'failed', message }).toEqual({
      code: 'failed',
      message: [expect.stringMatching(/^clientele: .*orders\.csv: 50% of its rows rejected \(1 of 2\), above the maxRejectShare threshold of 5%; nothing was written\.$/)],
    });
  }, 300_000);
});

describe('the hourly ingest', () => {
  it('an increment of 400 units after her one unit of 2000 is merged: no reminder for her, this hour nor the next, and the next night completes', async () => {
    const config = await scenario('increment-personal');
    const before = ['o0,a1,2000-03-20T15:00:00+08:00,CREAM,1,10.00', A2_CREAM];
    await night(config, CREAM_30, before, 'n-0322');
    await runCampaignHour(aws, config, at('2026-03-23 09:00'), 'h-0323-09');
    expect(await sentReminders(config)).toEqual([A2_REMINDER]);
    const bought = 'o3,a1,2026-03-23T10:00:00+08:00,CREAM,400,120.00';
    await dropIncrement(aws, config, '2026-03-23T1000', { 'orders.csv': `${ORDERS_HEADER}\n${bought}\n` });
    const hour = await runCampaignHour(aws, config, HOUR, 'h-0323-11');
    expect({ exports: hour.ingested.exports.length, quarantined: hour.ingested.quarantined }).toEqual({ exports: 1, quarantined: [] });
    const cream = (await profileOf(config, 'a1'))?.skus.CREAM;
    expect(cream).toMatchObject({ quantity: 400, purchases: 2 });
    expect((cream?.personalCycleDays ?? 0) * 400).toBeGreaterThan(3_000_000);
    await runCampaignHour(aws, config, at('2026-03-23 12:00'), 'h-0323-12');
    expect(await sentReminders(config)).toEqual([A2_REMINDER]);
    await night(config, CREAM_30, [...before, bought], 'n-0323', undefined, '2026-03-23', at('2026-03-24 02:00'));
    expect((await profileOf(config, 'a1'))?.skus.CREAM).toMatchObject({ quantity: 400, purchases: 2 });
    await runCampaignHour(aws, config, at('2026-03-24 11:00'), 'h-0324-11');
    expect(await sentReminders(config)).toEqual([A2_REMINDER]);
  }, 300_000);

  it('an increment whose one line counts 1,000,000 units is quarantined (its rows rejected); the hour goes on for the others, and so does the next', async () => {
    const config = await scenario('increment-quantity');
    await night(config, CREAM_30, ['o1,a1,2026-03-20T15:00:00+08:00,CREAM,1,120.00', A2_CREAM], 'n-0322');
    await dropIncrement(aws, config, '2026-03-23T1000', { 'orders.csv': `${ORDERS_HEADER}\no3,a1,2026-03-23T10:00:00+08:00,CREAM,1000000,120.00\n` });
    const hour = await runCampaignHour(aws, config, HOUR, 'h-0323-11');
    expect(hour.ingested.quarantined.map((q) => q.folder)).toEqual(['2026-03-23T1000']);
    expect(await sentReminders(config)).toEqual([A2_REMINDER]);
    expect((await profileOf(config, 'a1'))?.skus.CREAM).toMatchObject({ quantity: 1, lastPurchasedAt: '2026-03-20T07:00:00.000Z' });
    const next = await runCampaignHour(aws, config, at('2026-03-23 12:00'), 'h-0323-12');
    expect(next.ingested.quarantined).toEqual([]);
  }, 300_000);
});

describe('a night on a products file with 5,000,000 days typed for 60, rerun on the corrected file', () => {
  it('in 4 shards run phase by phase as in AWS every shard writes, as one run does; the rerun ends where a clean night on the corrected file ends', async () => {
    const typo = 'sku,name,category,replenish_days\nCREAM,Cream,skincare,30\nBALM,Balm,skincare,5000000\n';
    const fixed = typo.replace('5000000', '60');
    const orders = ['o1,a1,2026-03-20T15:00:00+08:00,BALM,1,120.00', A2_CREAM];
    const clean = await scenario('typo-clean');
    await night(clean, fixed, orders, 'n-0322', 4);
    const single = await scenario('typo-single');
    await night(single, typo, orders, 'n-0322');

    const config = await scenario('typo-phases');
    const dir = await exportOf(config, '2026-03-22', 'phases', typo, orders);
    const source = directoryExportSource(dir);
    const context = nightContext({ runDate: '2026-03-22', runId: 'n-0322', config, clients: aws.clients, clock: () => NIGHT_CLOCK });
    const { readers } = await planNight(context, 4, source);
    for (const reader of readers) await repartitionToWork(context, { shards: 4, reader }, source);
    for (const shard of shardsOf(4)) await measureShardToWork(context, shard);
    await combineWorkMeasures(context, { shards: 4, startedAt: NIGHT_CLOCK });
    for (const shard of shardsOf(4)) await writeShardFromWork(context, shard);
    await finishFromWork(context, { shards: 4, startedAt: NIGHT_CLOCK }, source);
    expect(await storedState(aws, config)).toEqual(await storedState(aws, single));

    await night(config, fixed, orders, 'n-0322-fixed', 4, '2026-03-22', at('2026-03-23 07:00'));
    expect((await readCatalog(aws.clients.s3, config)).get('BALM')?.replenishDays).toBe(60);
    // Her profile is as the bad night wrote it (the catalogue is no part of it); the hour's due index reads the new cycle.
    for (const settings of [clean, config]) await runCampaignHour(aws, settings, HOUR, 'h-0323-11');
    expect(await storedState(aws, config)).toEqual(await storedState(aws, clean));
    expect(await sentReminders(config)).toEqual([A2_REMINDER]);
  }, 300_000);
});
