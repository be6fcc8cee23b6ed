import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runNightlySharded } from '#local/nightly/sharded-run.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { combineWorkMeasures, finishFromWork, measureShardToWork, planNight, repartitionToWork, writeShardFromWork } from '#shared/nightly/distributed.ts';
import { nightContext, runNightly } from '#shared/nightly/run.ts';
import { shardOf, shardsOf } from '#shared/nightly/shards.ts';
import { csv, scratchDir } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { comparable, storedState } from '#test/support/nightly-comparison.ts';

/**
 * A SKU's product name and category on a profile are those of the latest order line of the whole
 * export that gives them (ties: the smallest), whoever bought it: a shard, which reads only its
 * own clients' lines, stores those of the whole export too, so that the stored profiles (their
 * digests, what the emails show) do not depend on the shard count.
 */

const aws = sharedAws();
const work = scratchDir('shard-sku-labels');
const NIGHT = '2026-11-23';

/** Two customer ids in different shards for every shard count of the test. */
function customersInTwoShards(counts: readonly number[]): [string, string] {
  const first = 'A0';
  for (let i = 0; ; i++) {
    const other = `B${i}`;
    if (counts.every((count) => shardOf(other, count) !== shardOf(first, count))) return [first, other];
  }
}

type StoredSkus = Record<string, { productName?: string; category?: string }>;

describe('sharded nightly run, SKU labels', () => {
  it('stores each SKU with the name and category of the whole export\'s latest line, as a single run does (2 shards in threads, 3 through the phases)', async () => {
    const [a, b] = customersInTwoShards([2, 3]);
    const dir = join(work, 'labels');
    await mkdir(dir);
    await writeFile(join(dir, 'customers.csv'), csv([['customer_id', 'email'], [a, 'a@example.com'], [b, 'b@example.com']]));
    await writeFile(
      join(dir, 'orders.csv'),
      csv([
        ['order_id', 'customer_id', 'ordered_at', 'sku', 'product_name', 'category', 'line_total'],
        // Renamed and moved: b's later line names SKU-1 for both clients.
        ['O1', a, '2026-10-01T10:00:00+08:00', 'SKU-1', 'Night Cream (old label)', 'cream', '120.00'],
        ['O2', b, '2026-11-01T10:00:00+08:00', 'SKU-1', 'Night Cream 50ml', 'skincare', '130.00'],
        // The same time: the smallest name and the smallest category win, each on its own.
        ['O3', a, '2026-10-05T10:00:00+08:00', 'SKU-2', 'Serum (b)', 'serum', '40.00'],
        ['O4', b, '2026-10-05T10:00:00+08:00', 'SKU-2', 'Serum (a)', 'skincare', '40.00'],
        // a's later line has no category: the name is a's, the category b's.
        ['O5', b, '2026-09-01T10:00:00+08:00', 'SKU-3', 'Mask', 'masks', '20.00'],
        ['O6', a, '2026-11-10T10:00:00+08:00', 'SKU-3', 'Sheet Mask', '', '20.00'],
      ]),
    );
    const single = await scenarioConfig(aws, 'sku-labels-single');
    const one = await runNightly({ clock: Date.now, runDate: NIGHT, runId: 'sku-labels-single', config: single, clients: aws.clients, source: directoryExportSource(dir) });
    const stored = await storedState(aws, single);
    const skusOf = (id: string) => (stored.profiles.find((p) => p.customerId === id) as { skus: StoredSkus }).skus;
    const labels = (skus: StoredSkus) => Object.fromEntries(Object.entries(skus).map(([sku, { productName, category }]) => [sku, { productName, category }]));
    const expected = {
      'SKU-1': { productName: 'Night Cream 50ml', category: 'skincare' },
      'SKU-2': { productName: 'Serum (a)', category: 'serum' },
      'SKU-3': { productName: 'Sheet Mask', category: 'masks' },
    };
    expect(labels(skusOf(a))).toEqual(expected);
    expect(labels(skusOf(b))).toEqual(expected);

    // Worker threads (`clientele run nightly --shards 2`): the measures go by message.
    const threads = await scenarioConfig(aws, 'sku-labels-threads');
    const two = await runNightlySharded({ clock: Date.now, runDate: NIGHT, runId: 'sku-labels-threads', config: threads, clients: aws.clients, shards: 2, source: { kind: 'directory', path: dir } });
    expect(comparable(two)).toEqual(comparable(one));
    expect(await storedState(aws, threads)).toEqual(stored);

    // The phases one by one, as the state machine runs them: the measures go through S3 (measures-codec.ts).
    const phases = await scenarioConfig(aws, 'sku-labels-phases');
    const context = nightContext({ runDate: NIGHT, runId: 'sku-labels-phases', config: phases, clients: aws.clients, clock: Date.now });
    const source = directoryExportSource(dir);
    const startedAt = Date.now();
    const { readers } = await planNight(context, 3, source);
    for (const reader of readers) await repartitionToWork(context, { shards: 3, reader }, source);
    for (const shard of shardsOf(3)) await measureShardToWork(context, shard);
    await combineWorkMeasures(context, { shards: 3, startedAt });
    for (const shard of shardsOf(3)) await writeShardFromWork(context, shard);
    const three = await finishFromWork(context, { shards: 3, startedAt }, source);
    expect(comparable(three)).toEqual(comparable(one));
    expect(await storedState(aws, phases)).toEqual(stored);
  }, 180_000);
});
