import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateExport } from '#local/generate/generate.ts';
import { runNightlySharded } from '#local/nightly/sharded-run.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { uploadExport } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { comparable, storedState } from '#test/support/nightly-comparison.ts';

/**
 * A sharded run (worker threads, as `clientele run nightly --shards N`) must store exactly what a
 * single run stores: profiles (RFM scored against the whole base, CLV from one fit), tier
 * history, and the same summary figures, on a first night and on the night after.
 */

const CUSTOMERS = 700;
const NIGHTS = ['2026-11-22', '2026-11-23'] as const;

const aws = sharedAws();
const work = scratchDir('shards');

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
      expect(one.clv.fitted).toBe(true);
      expect(await storedState(aws, sharded)).toEqual(await storedState(aws, single));
      written.push(one.written.profiles);
    }
    // The second night rewrote some profiles, not all: the comparison covered the diff path too.
    expect(written[0]).toBeGreaterThan(CUSTOMERS * 0.9);
    expect(written[1]).toBeGreaterThan(0);
    expect(written[1]).toBeLessThan(written[0] as number);
  }, 240_000);

  it('keeps a Shopify client and their email-only order lines in one shard (2 shards, local folder)', async () => {
    const single = await scenarioConfig(aws, 'shopify-single');
    const sharded = await scenarioConfig(aws, 'shopify-sharded');
    const night = NIGHTS[1];
    const dir = join(work, `shopify-${night}`);
    await generateExport({ customers: 400, seed: 5, asOf: night, timeZone: single.timeZone, format: 'shopify' }, dir);
    const one = await runNightly({ clock: Date.now, runDate: night, runId: 'shopify-single', config: single, clients: aws.clients, source: directoryExportSource(dir) });
    const two = await runNightlySharded({ clock: Date.now,
      runDate: night,
      runId: 'shopify-sharded',
      config: sharded,
      clients: aws.clients,
      shards: 2,
      source: { kind: 'directory', path: dir },
    });
    expect(comparable(two)).toEqual(comparable(one));
    expect(await storedState(aws, sharded)).toEqual(await storedState(aws, single));
  }, 240_000);

  it('fails as a whole, writing nothing, when the export is unreadable', async () => {
    const config = await scenarioConfig(aws, 'sharded-bad');
    await expect(
      runNightlySharded({ clock: Date.now, runDate: NIGHTS[0], runId: 'bad', config, clients: aws.clients, shards: 2, source: { kind: 'directory', path: join(work, 'missing') } }),
    ).rejects.toThrow(/shard \d\/2/);
    expect((await storedState(aws, config)).profiles).toEqual([]);
  }, 120_000);
});
