import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { runNightlySharded } from '#local/nightly/sharded-run.ts';
import { planExport } from '#shared/exports/reader.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { assignShares, readerCountFor } from '#shared/nightly/shares.ts';
import { csv, scratchDir } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { comparable, rowObjects, storedState } from '#test/support/nightly-comparison.ts';

/**
 * A sharded night files each reader's records per export file in its buckets' work objects: two
 * files of the export whose names differ only by ".gz" are two files there too, read as a single
 * run reads them.
 */

const aws = sharedAws();
const work = scratchDir('shard-file-names');

describe('sharded nightly run, file names', () => {
  it('reads customers.csv and customers.csv.gz given to one reader as a single run does', async () => {
    const night = '2026-11-23';
    const dir = join(work, 'gz-beside-plain');
    await mkdir(dir);
    const orders: (string | number)[][] = [['order_id', 'customer_id', 'ordered_at', 'sku', 'line_total']];
    // Orders big enough for a reader of their own: the other reader gets both customers files.
    for (let i = 0; i < 400; i++) orders.push([`O${i}`, `C${i % 8}`, '2026-11-01T10:00:00+08:00', 'SKU-1', `${10 + i}.00`]);
    const customers = (ids: number[]) => csv([['customer_id', 'email'], ...ids.map((i) => [`C${i}`, `c${i}@example.com`])]);
    await writeFile(join(dir, 'orders.csv'), csv(orders));
    await writeFile(join(dir, 'customers.csv'), customers([0, 1, 2, 3]));
    await writeFile(join(dir, 'customers.csv.gz'), gzipSync(customers([4, 5, 6, 7])));
    const plan = await planExport(directoryExportSource(dir), { requireManifest: false });
    const sizes = plan.files.map((f) => f.size);
    const readerOf = assignShares(sizes, readerCountFor(sizes, 2));
    const customersReaders = plan.files.flatMap((f, i) => (f.kind === 'customers' ? [readerOf[i]] : []));
    expect(customersReaders).toHaveLength(2);
    expect(new Set(customersReaders).size).toBe(1);

    const single = await scenarioConfig(aws, 'gz-beside-plain-single');
    const one = await runNightly({ clock: Date.now, runDate: night, runId: 'gz-beside-plain-single', config: single, clients: aws.clients, source: directoryExportSource(dir) });
    const sharded = await scenarioConfig(aws, 'gz-beside-plain-sharded');
    const two = await runNightlySharded({ clock: Date.now, runDate: night, runId: 'gz-beside-plain-sharded', config: sharded, clients: aws.clients, shards: 2, source: { kind: 'directory', path: dir } });
    expect(comparable(two)).toEqual(comparable(one));
    expect(await rowObjects(aws, two)).toEqual(await rowObjects(aws, one));
    const stored = await storedState(aws, single);
    expect(stored.profiles.map((p) => p.email).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => `c${i}@example.com`));
    expect(await storedState(aws, sharded)).toEqual(stored);
  }, 120_000);
});
