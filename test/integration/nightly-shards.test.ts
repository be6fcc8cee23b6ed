import { appendFile, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { categoryAffinityCollector } from '#shared/segments/category-affinity.ts';
import type { ClientProfile } from '#shared/model.ts';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { generateExport } from '#local/generate/generate.ts';
import type { Config } from '#shared/config.ts';
import { runNightlySharded } from '#local/nightly/sharded-run.ts';
import { planExport } from '#shared/exports/reader.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { PROFILE_FORMAT } from '#shared/model.ts';
import {
  combineWorkMeasures,
  finishFromWork,
  measureShardToWork,
  planNight,
  repartitionToWork,
  workStoreOf,
  writeShardFromWork,
} from '#shared/nightly/distributed.ts';
import { nightContext, runNightly } from '#shared/nightly/run.ts';
import { assignShares, readPlan, repartitionShare } from '#shared/nightly/shares.ts';
import { shardOf, shardsOf } from '#shared/nightly/shards.ts';
import { tableNames } from '#shared/store/tables.ts';
import { uploadExport } from '#test/support/emulator-data.ts';
import { exportDir, scratchDir } from '#test/support/export-files.ts';
import { clienteleExit } from '#test/support/cli.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { comparable, rowObjects, storedState } from '#test/support/nightly-comparison.ts';

/**
 * A sharded run (worker threads, as `clientele run nightly --shards N`, or the phases one by one
 * as the state machine runs them) must store exactly what a single run stores: profiles (RFM
 * scored against the whole base, CLV from one fit), tier history, the same summary figures, and
 * the same rejects and warnings with their original file and line, though each reader reads only
 * its share of the files and each shard only its bucket.
 */

const CUSTOMERS = 700;
const NIGHTS = ['2026-11-22', '2026-11-23'] as const;

const aws = sharedAws();
const work = scratchDir('shards');


/** A night of two shards run phase by phase, as in AWS, up to combine, which refuses with `refusal`: no profile written. */
async function expectCombineRefuses(config: Config, runId: string, dir: string, refusal: object): Promise<void> {
  const context = nightContext({ runDate: NIGHTS[0], runId, config, clients: aws.clients, clock: Date.now });
  const source = directoryExportSource(dir);
  const { readers } = await planNight(context, 2, source);
  for (const reader of readers) await repartitionToWork(context, { shards: 2, reader }, source);
  for (const shard of shardsOf(2)) await measureShardToWork(context, shard);
  await expect(combineWorkMeasures(context, { shards: 2, startedAt: Date.now() })).rejects.toMatchObject(refusal);
  expect((await storedState(aws, config)).profiles).toEqual([]);
}
describe('sharded nightly run', () => {
  it('stores what a single run stores, from S3, on two nights (generic export, 3 shards)', async () => {
    const single = await scenarioConfig(aws, 'single');
    const sharded = await scenarioConfig(aws, 'sharded');
    const written: number[] = [];
    // One snapshot for both nights, as the demo does: the first night's clock hides the last day.
    const dir = join(work, 'generic');
    await generateExport({ customers: CUSTOMERS, seed: 11, asOf: NIGHTS[1], timeZone: single.timeZone, orderParts: 2, malformedRows: 3 }, dir);
    for (const night of NIGHTS) {
      for (const config of [single, sharded]) {
        await uploadExport(aws, config, dir, night);
      }
      const one = await runNightly({ clock: Date.now, runDate: night, runId: `single-${night}`, config: single, clients: aws.clients });
      const three = await runNightlySharded({ clock: Date.now, runDate: night, runId: `sharded-${night}`, config: sharded, clients: aws.clients, shards: 3 });
      expect(three.shards).toBe(3);
      expect(one.shards).toBe(1);
      expect(comparable(three)).toEqual(comparable(one));
      expect(await rowObjects(aws, three)).toEqual(await rowObjects(aws, one));
      expect(one.clv.fitted).toBe(true);
      const stored = await storedState(aws, single);
      expect(await storedState(aws, sharded)).toEqual(stored);
      // The category affinity is the stored profiles', whichever shard counted them.
      const fromProfiles = categoryAffinityCollector();
      for (const profile of stored.profiles) fromProfiles.add(profile as unknown as ClientProfile);
      expect(stored.categoryAffinity).toEqual(fromProfiles.result());
      expect(Object.keys(stored.categoryAffinity.buyers).length).toBeGreaterThan(1);
      written.push(one.written.profiles);
    }
    // The second night rewrote some profiles, not all: the comparison covered the diff path too.
    expect(written[0]).toBeGreaterThan(CUSTOMERS * 0.9);
    expect(written[1]).toBeGreaterThan(0);
    expect(written[1]).toBeLessThan(written[0] as number);
  }, 240_000);

  it('stores what a single run stores with 2 and 4 shards over three order parts, rejects and warnings named by their original file and line', async () => {
    const night = NIGHTS[1];
    const single = await scenarioConfig(aws, 'parts-single');
    const dir = join(work, 'parts');
    await generateExport({ customers: 500, seed: 17, asOf: night, timeZone: single.timeZone, orderParts: 3, malformedRows: 12 }, dir);
    const source = { kind: 'directory', path: dir } as const;
    const one = await runNightly({ clock: Date.now, runDate: night, runId: 'parts-single', config: single, clients: aws.clients, source: directoryExportSource(dir) });
    const rows = await rowObjects(aws, one);
    // Rejects in more than one file: the readers' lists are merged in the export's order.
    expect(new Set(rows.rejects.map((r) => r.file)).size).toBeGreaterThan(1);
    for (const shards of [2, 4]) {
      const config = await scenarioConfig(aws, `parts-${shards}`);
      const summary = await runNightlySharded({ clock: Date.now, runDate: night, runId: `parts-${shards}`, config, clients: aws.clients, shards, source });
      expect(summary.shards).toBe(shards);
      // Every shard wrote this version's profiles: the night records their format as a single run does.
      expect(summary.profileFormat).toBe(PROFILE_FORMAT);
      expect(comparable(summary)).toEqual(comparable(one));
      expect(summary.input).toEqual({ ...one.input, fingerprint: summary.input.fingerprint });
      expect(summary.input.fingerprint).toBe(one.input.fingerprint);
      expect(await rowObjects(aws, summary)).toEqual(rows);
      expect(await storedState(aws, config)).toEqual(await storedState(aws, single));
    }
  }, 300_000);

  it('keeps a Shopify client and their email-only order lines in one shard (2 and 3 shards, two order parts, local folder)', async () => {
    const single = await scenarioConfig(aws, 'shopify-single');
    const night = NIGHTS[1];
    const dir = join(work, `shopify-${night}`);
    await generateExport({ customers: 400, seed: 5, asOf: night, timeZone: single.timeZone, format: 'shopify', orderParts: 2, malformedRows: 6 }, dir);
    const one = await runNightly({ clock: Date.now, runDate: night, runId: 'shopify-single', config: single, clients: aws.clients, source: directoryExportSource(dir) });
    expect(one.input.rejected).toBeGreaterThan(0);
    for (const shards of [2, 3]) {
      const sharded = await scenarioConfig(aws, `shopify-sharded-${shards}`);
      const summary = await runNightlySharded({ clock: Date.now,
        runDate: night,
        runId: `shopify-sharded-${shards}`,
        config: sharded,
        clients: aws.clients,
        shards,
        source: { kind: 'directory', path: dir },
      });
      expect(comparable(summary)).toEqual(comparable(one));
      expect(await rowObjects(aws, summary)).toEqual(await rowObjects(aws, one));
      expect(await storedState(aws, sharded)).toEqual(await storedState(aws, single));
    }
  }, 240_000);

  it('fails the night before any write when a part repeats lines of a part another reader read, or is a copy of it', async () => {
    const night = NIGHTS[1];
    const base = join(work, 'duplicated');
    await generateExport({ customers: 200, seed: 3, asOf: night, timeZone: 'Asia/Shanghai', orderParts: 2, malformedRows: 0 }, base);
    const plan = await planExport(directoryExportSource(base), { requireManifest: false });
    const readers = assignShares(plan.files.map((f) => f.size), 2);
    const parts = plan.files.flatMap((f, i) => (f.kind === 'orders' ? [readers[i]] : []));
    // The two parts are read by different readers: only combine sees both.
    expect(new Set(parts).size).toBe(2);
    const firstLine = (await readFile(join(base, 'orders-0001.csv'), 'utf8')).split('\n')[1] as string;
    await appendFile(join(base, 'orders-0002.csv'), `${firstLine}\n`);
    const repeated = await scenarioConfig(aws, 'duplicated-line');
    await expect(
      runNightlySharded({ clock: Date.now, runDate: night, runId: 'duplicated-line', config: repeated, clients: aws.clients, shards: 2, source: { kind: 'directory', path: base } }),
    ).rejects.toThrow(/orders-0002\.csv.*repeats order lines of .*orders-0001\.csv/);
    expect((await storedState(aws, repeated)).profiles).toEqual([]);

    await copyFile(join(base, 'orders-0001.csv'), join(base, 'orders-0002.csv'));
    const copied = await scenarioConfig(aws, 'duplicated-part');
    await expect(
      runNightlySharded({ clock: Date.now, runDate: night, runId: 'duplicated-part', config: copied, clients: aws.clients, shards: 2, source: { kind: 'directory', path: base } }),
    ).rejects.toThrow(/orders-0002\.csv.*same content as .*orders-0001\.csv/);
    expect((await storedState(aws, copied)).profiles).toEqual([]);
  }, 120_000);

  it('fails the night before any write when a Shopify order is in two parts read by different readers, changed in between (a refund)', async () => {
    const night = NIGHTS[1];
    const dir = join(work, 'shopify-order-twice');
    const header = 'Name,Email,Financial Status,Currency,Subtotal,Refunded Amount,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Id';
    const others = (from: number) => Array.from({ length: 15 }, (_, k) => `#${from + k},tom@example.com,paid,USD,10.00,,${night} 09:00:00 +0800,1,Tea,10.00,TEA,${9000 + from + k}`);
    // Not the same line in both (a refund came between the two exports): only the order tells the repeat.
    const first = `#1001,mei@example.com,paid,USD,3000.00,,${night} 10:00:00 +0800,1,Cream,3000.00,CREAM,5001`;
    const again = `#1001,mei@example.com,partially_refunded,USD,3000.00,500.00,${night} 10:00:00 +0800,1,Cream,3000.00,CREAM,5001`;
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'customers_export.csv'), 'Customer ID,Email,Accepts Email Marketing\n1,mei@example.com,yes\n2,tom@example.com,yes\n');
    await writeFile(join(dir, 'orders_export_1.csv'), [header, first, ...others(2000)].join('\n') + '\n');
    await writeFile(join(dir, 'orders_export_2.csv'), [header, ...others(3000), again].join('\n') + '\n');
    const plan = await planExport(directoryExportSource(dir), { requireManifest: false });
    const readers = assignShares(plan.files.map((f) => f.size), 2);
    // The two parts are read by different readers: only combine sees both.
    expect(new Set(plan.files.flatMap((f, i) => (f.kind === 'orders' ? [readers[i]] : []))).size).toBe(2);
    const message = /orders_export_2\.csv, line 17: an order read twice: the group of rows starting here has the Id \(or, without one, the Name\) of the group starting at line 2 of .*orders_export_1\.csv/;

    const single = await scenarioConfig(aws, 'shopify-order-twice-single');
    await expect(runNightly({ clock: Date.now, runDate: night, runId: 'shopify-order-twice-single', config: single, clients: aws.clients, source: directoryExportSource(dir) })).rejects.toThrow(message);
    expect((await storedState(aws, single)).profiles).toEqual([]);
    const sharded = await scenarioConfig(aws, 'shopify-order-twice');
    await expect(
      runNightlySharded({ clock: Date.now, runDate: night, runId: 'shopify-order-twice', config: sharded, clients: aws.clients, shards: 2, source: { kind: 'directory', path: dir } }),
    ).rejects.toThrow(message);
    expect((await storedState(aws, sharded)).profiles).toEqual([]);
  }, 120_000);

  it('ends where a clean run would after a crash inside a repartition, after the repartition and after a measure, the phases run again (a redrive)', async () => {
    const night = NIGHTS[1];
    const single = await scenarioConfig(aws, 'redrive-single');
    const config = await scenarioConfig(aws, 'redrive');
    const dir = join(work, 'redrive');
    await generateExport({ customers: 300, seed: 23, asOf: night, timeZone: single.timeZone, orderParts: 2, malformedRows: 4 }, dir);
    const source = directoryExportSource(dir);
    const one = await runNightly({ clock: Date.now, runDate: night, runId: 'redrive-single', config: single, clients: aws.clients, source });
    const context = nightContext({ runDate: night, runId: 'redrive', config, clients: aws.clients, clock: Date.now });
    const shards = shardsOf(3);
    const startedAt = Date.now();
    const { readers } = await planNight(context, 3, source);

    // Attempt 1: reader 0 dies after two of its objects were stored; the others finish; no shard can measure.
    const store = workStoreOf(context);
    let puts = 0;
    const dying = { ...store, put: async (key: string, body: Uint8Array | string, type: string) => {
      if (++puts > 2) throw new Error('the Lambda timed out');
      return store.put(key, body, type);
    } };
    const plan = await readPlan(store, { runId: 'redrive', shards: 3 });
    await expect(repartitionShare({ runId: 'redrive', runDate: night, config, log: context.log }, dying, source, plan, 0)).rejects.toThrow(/timed out/);
    for (const reader of readers.slice(1)) await repartitionToWork(context, { shards: 3, reader }, source);
    // A reader of another plan (its count differs) is refused before it reads.
    await expect(repartitionToWork(context, { shards: 3, reader: { index: 0, count: readers.length + 1 } }, source)).rejects.toThrow(/whose plan has \d+ readers/);
    for (const shard of shards) await expect(measureShardToWork(context, shard)).rejects.toThrow(new RegExp(`share of reader 0/${readers.length} not found`));

    // Attempt 2, the whole map run again: every phase overwrites its own objects.
    for (const reader of readers) await repartitionToWork(context, { shards: 3, reader }, source);
    for (const shard of shards) await measureShardToWork(context, shard);
    // Attempt 3 from the measures: crash after measure, measures run again.
    for (const shard of shards) await measureShardToWork(context, shard);
    await combineWorkMeasures(context, { shards: 3, startedAt });
    for (const shard of shards) await writeShardFromWork(context, shard);
    const summary = await finishFromWork(context, { shards: 3, startedAt }, source);

    expect(comparable(summary)).toEqual(comparable(one));
    expect(await rowObjects(aws, summary)).toEqual(await rowObjects(aws, one));
    expect(await storedState(aws, config)).toEqual(await storedState(aws, single));
  }, 240_000);

  it('refuses before any write a 12-month revenue past 2^53 minor units that only the shards\' sum reaches (AMOUNT_OVERFLOW), as one run does', async () => {
    // Two clients in two shards, each with a line under a raised maxLineTotal (an IDR or VND brand):
    // each shard's revenue is exact, the night's is not.
    const ids: string[] = [];
    for (let i = 0; ids.length < 2; i++) if (shardOf(`C${i}`, 2) === ids.length) ids.push(`C${i}`);
    const dir = await exportDir({
      'customers.csv': `customer_id,email\n${ids[0]},a@example.com\n${ids[1]},b@example.com\n`,
      'orders.csv': `order_id,customer_id,ordered_at,line_total\nO1,${ids[0]},2026-11-20T10:00:00+08:00,50000000000000.00\nO2,${ids[1]},2026-11-21T10:00:00+08:00,50000000000000.00\n`,
    });
    const overrides = { exports: { maxLineTotal: '90000000000000' } };
    const overflow = { code: 'AMOUNT_OVERFLOW', message: expect.stringMatching(/^the 12-month revenue is beyond/) };
    const single = await scenarioConfig(aws, 'sharded-overflow-single', overrides);
    await expect(runNightly({ clock: Date.now, runDate: NIGHTS[0], runId: 'overflow-single', config: single, clients: aws.clients, source: directoryExportSource(dir) })).rejects.toMatchObject({ code: 'AMOUNT_OVERFLOW' });
    expect((await storedState(aws, single)).profiles).toEqual([]);
    const sharded = await scenarioConfig(aws, 'sharded-overflow', overrides);
    const run = () => runNightlySharded({ clock: Date.now, runDate: NIGHTS[0], runId: 'overflow-sharded', config: sharded, clients: aws.clients, shards: 2, source: { kind: 'directory', path: dir } });
    await expect(run()).rejects.toMatchObject(overflow);
    expect((await storedState(aws, sharded)).profiles).toEqual([]);
    // The phases one by one, as in AWS: combine refuses, before the shards' writes.
    await expectCombineRefuses(sharded, 'overflow-phases', dir, overflow);
  }, 180_000);

  it('refuses before any write a campaign revenue past 2^53 minor units that only the shards\' tallies added up reach (AMOUNT_OVERFLOW), as one run does', async () => {
    // One client in each of two shards, each with an order under a raised maxLineTotal that two
    // emails of one campaign both count in their 7-day window: each shard's tally is exact, their
    // sum is not, and the night's 12-month revenue is.
    const ids: string[] = [];
    for (let i = 0; ids.length < 2; i++) if (shardOf(`C${i}`, 2) === ids.length) ids.push(`C${i}`);
    const dir = await exportDir({
      'customers.csv': `customer_id,email\n${ids[0]},a@example.com\n${ids[1]},b@example.com\n`,
      'orders.csv': `order_id,customer_id,ordered_at,line_total\nO1,${ids[0]},2026-11-10T10:00:00+08:00,30000000000000.00\nO2,${ids[1]},2026-11-10T10:00:00+08:00,30000000000000.00\n`,
    });
    const overrides = { exports: { maxLineTotal: '90000000000000' } };
    const sentTwice = async (config: Config) => {
      for (const customerId of ids) {
        for (const sentAt of [Date.parse('2026-11-05T10:00:00+08:00'), Date.parse('2026-11-08T10:00:00+08:00')]) {
          const occasionKey = `recall#${sentAt}`;
          const Item = { customerId, occasionKey, customerOccasion: `${customerId}#${occasionKey}`, campaignId: 'recall', status: 'sent', runId: 'hour', claimHour: new Date(sentAt).toISOString().slice(0, 13), claimedAt: sentAt, updatedAt: sentAt, sentAt, messageId: `m-${customerId}-${sentAt}` };
          await aws.clients.documents.send(new PutCommand({ TableName: tableNames(config).sendLedger, Item }));
        }
      }
    };
    const overflow = { code: 'AMOUNT_OVERFLOW', message: expect.stringMatching(/^a campaign group's revenue is beyond/) };
    const single = await scenarioConfig(aws, 'sharded-campaign-overflow-single', overrides);
    await sentTwice(single);
    await expect(runNightly({ clock: Date.now, runDate: NIGHTS[0], runId: 'campaign-overflow-single', config: single, clients: aws.clients, source: directoryExportSource(dir) })).rejects.toMatchObject(overflow);
    expect((await storedState(aws, single)).profiles).toEqual([]);
    const sharded = await scenarioConfig(aws, 'sharded-campaign-overflow', overrides);
    await sentTwice(sharded);
    await expect(
      runNightlySharded({ clock: Date.now, runDate: NIGHTS[0], runId: 'campaign-overflow-sharded', config: sharded, clients: aws.clients, shards: 2, source: { kind: 'directory', path: dir } }),
    ).rejects.toMatchObject(overflow);
    expect((await storedState(aws, sharded)).profiles).toEqual([]);
    // The phases one by one, as in AWS: combine refuses, before the shards' writes.
    await expectCombineRefuses(sharded, 'campaign-overflow-phases', dir, overflow);
  }, 180_000);

  it('fails as a whole, writing nothing, when the export is unreadable', async () => {
    const config = await scenarioConfig(aws, 'sharded-bad');
    await expect(
      runNightlySharded({ clock: Date.now, runDate: NIGHTS[0], runId: 'bad', config, clients: aws.clients, shards: 2, source: { kind: 'directory', path: join(work, 'missing') } }),
    ).rejects.toThrow(/missing: cannot be listed/);
    expect((await storedState(aws, config)).profiles).toEqual([]);
  }, 120_000);

  it('an export with two bad files read by two workers fails naming the file a single run names (the first in reading order), not the first found', async () => {
    const rows = Array.from({ length: 60_000 }, (_, i) => `C${i},c${i}@example.com,Name${i}`).join('\n');
    const dir = await exportDir({
      // Truncated: found only at the end of a large file, the first the export is read in.
      'customers.csv': `customer_id,email,first_name\n${rows}\nC9,c9@example.com,"cut`,
      'orders-1.csv': 'order_id,customer_id,ordered_at,line_total\nO1,C1,2026-11-20T10:00:00+08:00,10.00\n',
      // Binary: found at its first bytes, by another worker, well before.
      'orders-2.csv': Buffer.from([0x00, 0x01, 0x02, 0x03, 0x00, 0x00, 0x10, 0x11]),
    });
    const messageOf = (error: Error) => error.message.replace(dir, '');
    const single = await scenarioConfig(aws, 'two-bad-single');
    const one = await runNightly({ clock: Date.now, runDate: NIGHTS[0], runId: 'two-bad-single', config: single, clients: aws.clients, source: directoryExportSource(dir) }).catch(messageOf);
    expect(one).toMatch(/^\/customers\.csv, line 60002: is not valid CSV: a quoted field is still open/);
    const sharded = await scenarioConfig(aws, 'two-bad-sharded');
    const two = await runNightlySharded({ clock: Date.now, runDate: NIGHTS[0], runId: 'two-bad-sharded', config: sharded, clients: aws.clients, shards: 2, source: { kind: 'directory', path: dir } }).catch(messageOf);
    expect(two).toBe(one);
    expect((await storedState(aws, sharded)).profiles).toEqual([]);
  }, 180_000);

  it('a file a worker finds truncated fails the night as in a single run: the export\'s error, one line from the CLI, exit 1', async () => {
    const config = await scenarioConfig(aws, 'sharded-truncated');
    const configFile = join(work, 'truncated-config.json');
    await writeFile(configFile, JSON.stringify(config));
    const dir = await exportDir({
      'customers.csv': 'customer_id,email\nC1,c1@example.com\nC2,c2@example.com\n',
      // Ends inside a quoted field: truncated.
      'orders.csv': 'order_id,customer_id,ordered_at,line_total,product_name\nO1,C1,2026-11-20T10:00:00+08:00,100.00,cream\nO2,C2,2026-11-21T10:00:00+08:00,50.00,"half a na',
    });
    // The suite's error crosses the thread: its class's code, its message as a single run gives it.
    await expect(
      runNightlySharded({ clock: Date.now, runDate: NIGHTS[0], runId: 'truncated', config, clients: aws.clients, shards: 2, source: { kind: 'directory', path: dir } }),
    ).rejects.toMatchObject({ code: 'EXPORT_REJECTED', message: expect.stringMatching(/^\S*orders\.csv, line 3: is not valid CSV/) });

    await uploadExport(aws, config, dir, NIGHTS[0]);
    const run = (shards: string) => clienteleExit(['run', 'nightly', '--date', NIGHTS[0], '--shards', shards, '--log-level', 'error', '--config', configFile]);
    const single = await run('1');
    const sharded = await run('2');
    expect(single.code).toBe(1);
    expect(single.stderr).toMatch(/^clientele: \S*orders\.csv, line 3: is not valid CSV/m);
    // Beside the JSON log lines: the same message, no 'unexpected error', no stack.
    const message = (stderr: string) => stderr.split('\n').filter((line) => !line.startsWith('{'));
    expect(sharded.code).toBe(1);
    expect(message(sharded.stderr)).toEqual(message(single.stderr));
    expect((await storedState(aws, config)).profiles).toEqual([]);
  }, 180_000);
});
