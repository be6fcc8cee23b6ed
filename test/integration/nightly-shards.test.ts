import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAws, type LocalAws } from '#local/aws.ts';
import { ensureTables } from '#shared/store/tables.ts';
import { generateExport } from '#local/generate/generate.ts';
import { runNightlySharded } from '#local/nightly/sharded-run.ts';
import { uploadDirectory } from '#shared/aws/s3-objects.ts';
import { parseConfig, type Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { exportPrefix } from '#shared/store/buckets.ts';
import { comparable, storedState } from './nightly-comparison.ts';

/**
 * A sharded run (worker threads, as `clientele run nightly --shards N`) must store exactly what a
 * single run stores: profiles (RFM scored against the whole base, CLV from one fit), tier
 * history, and the same summary figures, on a first night and on the night after.
 */

const CUSTOMERS = 700;
const NIGHTS = ['2026-11-22', '2026-11-23'] as const;

let aws: LocalAws;
let work: string;

async function configFor(name: string): Promise<Config> {
  const config = parseConfig({
    ...aws.config,
    storage: { ...aws.config.storage, tablePrefix: `${name}-`, exportsPrefix: `exports-${name}`, reportsPrefix: `reports-${name}` },
  });
  await ensureTables(aws.clients.dynamodb, config);
  return config;
}

beforeAll(async () => {
  aws = await startLocalAws({ services: ['dynamodb', 's3'] });
  work = await mkdtemp(join(tmpdir(), 'clientele-shards-'));
});

afterAll(async () => {
  await aws?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('sharded nightly run', () => {
  it('stores what a single run stores, from S3, on two nights (generic export, 3 shards)', async () => {
    const single = await configFor('single');
    const sharded = await configFor('sharded');
    const written: number[] = [];
    // One snapshot for both nights, as the demo does: the first night's clock hides the last day.
    const dir = join(work, 'generic');
    await generateExport({ customers: CUSTOMERS, seed: 11, asOf: NIGHTS[1], timeZone: single.timeZone, orderParts: 2, malformedRows: 3 }, dir);
    for (const night of NIGHTS) {
      for (const config of [single, sharded]) {
        await uploadDirectory(aws.clients.s3, dir, config.storage.exportsBucket, exportPrefix(config, night));
      }
      const one = await runNightly({ clock: Date.now, runDate: night, runId: `single-${night}`, config: single, clients: aws.clients });
      const three = await runNightlySharded({ clock: Date.now, runDate: night, runId: `sharded-${night}`, config: sharded, clients: aws.clients, shards: 3 });
      expect(three.shards).toBe(3);
      expect(one.shards).toBe(1);
      expect(comparable(three)).toEqual(comparable(one));
      expect(one.clv.fitted).toBe(true);
      expect(await storedState(aws.clients.documents, sharded)).toEqual(await storedState(aws.clients.documents, single));
      written.push(one.written.profiles);
    }
    // The second night rewrote some profiles, not all: the comparison covered the diff path too.
    expect(written[0]).toBeGreaterThan(CUSTOMERS * 0.9);
    expect(written[1]).toBeGreaterThan(0);
    expect(written[1]).toBeLessThan(written[0] as number);
  }, 240_000);

  it('keeps a Shopify client and their email-only order lines in one shard (2 shards, local folder)', async () => {
    const single = await configFor('shopify-single');
    const sharded = await configFor('shopify-sharded');
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
    expect(await storedState(aws.clients.documents, sharded)).toEqual(await storedState(aws.clients.documents, single));
  }, 240_000);

  it('fails as a whole, writing nothing, when the export is unreadable', async () => {
    const config = await configFor('sharded-bad');
    await expect(
      runNightlySharded({ clock: Date.now, runDate: NIGHTS[0], runId: 'bad', config, clients: aws.clients, shards: 2, source: { kind: 'directory', path: join(work, 'missing') } }),
    ).rejects.toThrow(/shard \d\/2/);
    expect((await storedState(aws.clients.documents, config)).profiles).toEqual([]);
  }, 120_000);
});
