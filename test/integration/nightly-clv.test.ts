import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { startLocalAws, type LocalAws } from '#local/aws.ts';
import { ensureTables, tableNames } from '#shared/store/tables.ts';
import { generateExport } from '#local/generate/generate.ts';
import { uploadDirectory } from '#shared/aws/s3-objects.ts';
import { parseConfig, type Config } from '#shared/config.ts';
import type { ClientProfile } from '#shared/model.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { exportPrefix } from '#shared/store/buckets.ts';

const RUN_DATE = '2026-11-23';
const PREVIOUS = '2026-11-22';

let aws: LocalAws;
let work: string;

async function isolatedConfig(name: string): Promise<Config> {
  const config = parseConfig({
    ...aws.config,
    storage: { ...aws.config.storage, tablePrefix: `${name}-`, exportsPrefix: `exports-${name}`, reportsPrefix: `reports-${name}` },
  });
  await ensureTables(aws.clients.dynamodb, config);
  return config;
}

beforeAll(async () => {
  aws = await startLocalAws({ services: ['dynamodb', 's3'] });
  work = await mkdtemp(join(tmpdir(), 'clientele-nightly-clv-'));
});

afterAll(async () => {
  await aws?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('nightly run with predicted lifetime value', () => {
  it('stores the fitted parameters per run and a rounded clv per buyer; a rerun writes nothing', async () => {
    const config = await isolatedConfig('clv');
    const dir = join(work, 'export');
    await generateExport({ customers: 800, seed: 7, asOf: RUN_DATE, timeZone: config.timeZone }, dir);
    await uploadDirectory(aws.clients.s3, dir, config.storage.exportsBucket, exportPrefix(config, PREVIOUS));
    await uploadDirectory(aws.clients.s3, dir, config.storage.exportsBucket, exportPrefix(config, RUN_DATE));
    const run = (runDate: string) => runNightly({ clock: Date.now, runDate, runId: `clv-${runDate}`, config, clients: aws.clients });

    const before = await run(PREVIOUS);
    const first = await run(RUN_DATE);
    expect(first.clv).toMatchObject({ fitted: true, converged: true, unit: 'weeks' });
    expect(first.clv.bgnbd).toEqual({ r: expect.any(Number), alpha: expect.any(Number), a: expect.any(Number), b: expect.any(Number) });
    expect(first.clv.gammaGamma).toEqual({ p: expect.any(Number), q: expect.any(Number), v: expect.any(Number) });
    expect(first.clv.clients).toBeGreaterThan(100);
    expect(Number.isFinite(first.clv.logLikelihood)).toBe(true);

    // The parameters are in the runs table and in summary.json.
    const tables = tableNames(config);
    const stored = await aws.clients.documents.send(new GetCommand({ TableName: tables.runs, Key: { job: 'nightly', runDate: RUN_DATE } }));
    expect(stored.Item?.clv).toMatchObject({ fitted: true, bgnbd: first.clv.bgnbd });
    const object = await aws.clients.s3.send(
      new GetObjectCommand({ Bucket: config.storage.exportsBucket, Key: `${config.storage.reportsPrefix}/nightly/${RUN_DATE}/summary.json` }),
    );
    expect(JSON.parse((await object.Body?.transformToString()) ?? '{}').clv).toEqual(first.clv);

    const scanned = await aws.clients.documents.send(new ScanCommand({ TableName: tables.profiles }));
    const profiles = (scanned.Items ?? []) as ClientProfile[];
    const buyers = profiles.filter((p) => p.orderCount > 0);
    expect(buyers.length).toBe(first.clv.clients);
    expect(buyers.every((p) => p.clv !== undefined)).toBe(true);
    expect(profiles.filter((p) => p.orderCount === 0).every((p) => p.clv === undefined)).toBe(true);
    for (const p of buyers) {
      const clv = p.clv as NonNullable<ClientProfile['clv']>;
      expect(clv.probabilityAlive).toBe(Math.round(clv.probabilityAlive * 100) / 100);
      expect(clv.clv12mMinor % 100).toBe(0);
      if (p.stage === 'active') expect(clv.probabilityAlive).toBeGreaterThanOrEqual(config.clv.churnRiskBelowProbabilityAlive);
      if (p.tier === 'VIC') expect(clv.rising).toBe(false);
    }
    expect(buyers.some((p) => p.clv?.rising)).toBe(true);

    // The night after the previous one does not rewrite most profiles.
    expect(first.written.profiles).toBeLessThan(first.distribution.clients * 0.6);
    expect(before.clv.fitted).toBe(true);

    // A rerun on the same export finds the night completed: nothing written, the first summary returned.
    const again = await run(RUN_DATE);
    const { rerun, ...asStored } = again;
    expect(rerun).toMatchObject({ of: first.runId });
    expect(asStored).toEqual(first);
  });
  it('stores profiles without clv, not NaN, when the fit converges with a parameter at its bound', async () => {
    // This sample drives BG/NBD's a and b to their bounds together (dropout nearly constant): the
    // fit "converges", but its closed forms overflow into NaN, which DynamoDB refuses to store.
    const config = await isolatedConfig('clv-bound');
    const dir = join(work, 'export-bound');
    await generateExport({ customers: 600, seed: 17, asOf: RUN_DATE, timeZone: config.timeZone, orderParts: 2, malformedRows: 3 }, dir);
    await uploadDirectory(aws.clients.s3, dir, config.storage.exportsBucket, exportPrefix(config, RUN_DATE));
    const summary = await runNightly({ clock: Date.now, runDate: RUN_DATE, runId: 'clv-bound', config, clients: aws.clients });
    expect(summary.clv.fitted).toBe(false);
    expect(summary.clv.skippedReason).toMatch(/no finite prediction.*bound/);
    expect(summary.written.profiles).toBe(summary.distribution.clients);
    const items = await aws.clients.documents.send(new ScanCommand({ TableName: tableNames(config).profiles }));
    expect((items.Items ?? []).some((item) => item.clv !== undefined)).toBe(false);
  }, 120_000);
});
