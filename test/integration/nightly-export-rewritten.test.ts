import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateExport } from '#local/generate/generate.ts';
import { uploadDirectory, writeObject } from '#shared/aws/s3-objects.ts';
import type { Config } from '#shared/config.ts';
import { s3ExportSource, type ExportSource } from '#shared/exports/source.ts';
import { combineWorkMeasures, finishFromWork, measureShardToWork, planNight, repartitionToWork, writeShardFromWork } from '#shared/nightly/distributed.ts';
import { nightContext, runNightly } from '#shared/nightly/run.ts';
import { shardsOf } from '#shared/nightly/shards.ts';
import { exportPrefix } from '#shared/store/buckets.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { storedState } from '#test/support/nightly-comparison.ts';

/**
 * An export file written again after the night listed it (the platform dropping the night's
 * export again, re-split into one more part, while the night reads it) is read as the version the
 * listing saw or not at all: the night fails naming the file, before any write (found by the
 * attack-shardfault2 pass, probe 2: the reader read what was there now, the part's moved last
 * line was in a part the plan did not list, and the night completed one order short, silently).
 */
const aws = sharedAws();
const work = scratchDir('nightly-export-rewritten');
const [D1, D2] = ['2026-11-22', '2026-11-23'];
const CLOCK = Date.parse('2026-11-24T06:00:00Z');
const REWRITTEN = /orders-0002\.csv: was written again after the night listed the export \(its ETag changed\): the export is being dropped again\. Run the night once the new drop is complete/;

beforeAll(async () => {
  await generateExport({ customers: 150, seed: 3, asOf: D1, orderParts: 2, malformedRows: 0 }, join(work, 'd1'));
  await generateExport({ customers: 150, seed: 3, asOf: D2, orderParts: 2, malformedRows: 0 }, join(work, 'd2'));
});

/** A scenario after its first night, the second night's export uploaded to its exports bucket. */
async function afterFirstNight(name: string): Promise<{ config: Config; source: ExportSource; dropAgain: () => Promise<void> }> {
  const config = await scenarioConfig(aws, name);
  const bucket = config.storage.exportsBucket;
  for (const [date, dir] of [[D1, 'd1'], [D2, 'd2']] as const) await uploadDirectory(aws.clients.s3, join(work, dir), bucket, exportPrefix(config, date));
  await runNightly({ clock: () => CLOCK, runDate: D1, runId: `${name}-1`, config, clients: aws.clients });
  const prefix = exportPrefix(config, D2);
  /** The export dropped again, one part more: the last line of orders-0002.csv now in orders-0003.csv (one client: too few for the plausibility guards). */
  const dropAgain = async () => {
    const [header, ...rows] = (await readFile(join(work, 'd2', 'orders-0002.csv'), 'utf8')).split('\n').filter((line) => line !== '');
    await writeObject(aws.clients.s3, { bucket, key: `${prefix}/orders-0002.csv`, body: [header, ...rows.slice(0, -1)].join('\n') + '\n', contentType: 'text/csv' });
    await writeObject(aws.clients.s3, { bucket, key: `${prefix}/orders-0003.csv`, body: [header, ...rows.slice(-1)].join('\n') + '\n', contentType: 'text/csv' });
  };
  return { config, source: s3ExportSource(aws.clients.s3, bucket, prefix), dropAgain };
}

describe('an export file written again after the night listed it', () => {
  it('fails one run naming the file, before any write', async () => {
    const { config, source, dropAgain } = await afterFirstNight('rewritten-one-run');
    const before = await storedState(aws, config);
    // Dropped again the moment the night has listed the export.
    const listedThenDropped: ExportSource = {
      ...source,
      async list() {
        const listed = await source.list();
        await dropAgain();
        return listed;
      },
    };
    await expect(runNightly({ clock: () => CLOCK, runDate: D2, runId: 'rewritten-one-run-2', config, clients: aws.clients, source: listedThenDropped })).rejects.toThrow(REWRITTEN);
    expect(await storedState(aws, config)).toEqual(before);
  }, 180_000);

  it('fails the reader of a sharded night that listed it, before any write', async () => {
    const { config, source, dropAgain } = await afterFirstNight('rewritten-sharded');
    const before = await storedState(aws, config);
    const context = nightContext({ runDate: D2, runId: 'rewritten-sharded-2', config, clients: aws.clients, clock: () => CLOCK });
    const { readers } = await planNight(context, 2, source);
    await dropAgain();
    const night = async () => {
      for (const reader of readers) await repartitionToWork(context, { shards: 2, reader }, source);
      for (const shard of shardsOf(2)) await measureShardToWork(context, shard);
      await combineWorkMeasures(context, { shards: 2, startedAt: CLOCK });
      for (const shard of shardsOf(2)) await writeShardFromWork(context, shard);
      return finishFromWork(context, { shards: 2, startedAt: CLOCK }, source);
    };
    await expect(night()).rejects.toThrow(REWRITTEN);
    expect(await storedState(aws, config)).toEqual(before);
  }, 180_000);
});
