import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { HISTORY_BY_RUN_DATE_INDEX, tableNames } from '#shared/store/tables.ts';
import { generateExport } from '#local/generate/generate.ts';
import type { Config } from '#shared/config.ts';
import { ExportError } from '#shared/exports/reader.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import type { Tier } from '#shared/model.ts';
import { NIGHTLY_RERUN_JOB } from '#shared/nightly/repeat.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { getRun } from '#shared/store/runs-store.ts';
import { exportPrefix, reportPrefix } from '#shared/store/buckets.ts';
import { queryProfilesByAdvisor, queryProfilesByTier } from '#shared/store/profile-store.ts';
import { scanTable, uploadExport } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';

const RUN_DATE = '2026-11-23';
const PREVIOUS = '2026-11-22';
const CUSTOMERS = 600;

const aws = sharedAws();
const work = scratchDir('nightly');

async function generateAndUpload(
  config: Config,
  runDate: string,
  { format = 'generic', gzip = false, malformedRows }: { format?: 'generic' | 'shopify'; gzip?: boolean; malformedRows?: number } = {},
) {
  const dir = join(work, `${config.storage.tablePrefix}${runDate}-${format}`);
  await generateExport(
    { customers: CUSTOMERS, seed: 7, asOf: runDate, timeZone: config.timeZone, format, gzip, orderParts: 2, ...(malformedRows === undefined ? {} : { malformedRows }) },
    dir,
  );
  await uploadExport(aws, config, dir, runDate);
  return dir;
}

const run = (config: Config, runDate: string) =>
  runNightly({ clock: Date.now, runDate, runId: `test-${runDate}`, config, clients: aws.clients });

describe('nightly run on the embedded AWS', () => {
  // Two nightly runs of a generated export: past the default minute when the machine is busy.
  it('stores a profile per client, queryable by id, tier and advisor; a rerun writes nothing', { timeout: 180_000 }, async () => {
    const config = await scenarioConfig(aws, 'full');
    await generateAndUpload(config, RUN_DATE, { gzip: true });
    const first = await run(config, RUN_DATE);
    const tables = tableNames(config);

    const profiles = await scanTable(aws, tables.profiles);
    expect(profiles.length).toBe(first.distribution.clients);
    expect(first.written.profiles).toBe(first.distribution.clients);
    expect(first.changes.newClients).toBe(first.distribution.clients);
    // Every new client's first tier and stage is recorded in the history.
    expect(first.written.tierHistory).toBe(first.distribution.clients);
    expect(first.input.rejected).toBeGreaterThan(0);
    expect(first.input.rejectShare).toBeLessThan(config.maxRejectShare);

    const vics = await queryProfilesByTier(aws.clients.documents, tables.profiles, 'VIC');
    expect(vics.length).toBe(first.distribution.tiers.VIC.clients);
    const spends = vics.map((p) => p.spend12mMinor);
    expect(spends).toEqual([...spends].sort((a, b) => b - a));
    expect(vics.every((p) => p.spend12mMinor >= 5_000_000)).toBe(true);

    const withAdvisor = profiles.find((p) => typeof p.advisorId === 'string');
    expect(withAdvisor).toBeDefined();
    const book = await queryProfilesByAdvisor(aws.clients.documents, tables.profiles, String(withAdvisor?.advisorId));
    expect(book.map((p) => p.customerId)).toContain(withAdvisor?.customerId);

    // The report objects sit under the reports prefix.
    const reports = reportPrefix(config, 'nightly', RUN_DATE);
    expect(reports).toBe(`${config.storage.reportsPrefix}/nightly/${RUN_DATE}`);
    const rejects = await aws.clients.s3.send(new GetObjectCommand({ Bucket: config.storage.exportsBucket, Key: `${reports}/rejects.jsonl` }));
    const rejectLines = (await rejects.Body?.transformToString())?.trim().split('\n') ?? [];
    expect(rejectLines.length).toBe(first.input.rejected);
    expect(JSON.parse(rejectLines[0] ?? '{}')).toMatchObject({ file: expect.stringContaining('s3://'), line: expect.any(Number), reason: expect.any(String) });

    // A rerun of the night finds everything in place: the tables are exactly as the first run left them.
    const byKey = (items: Record<string, unknown>[]) => items.map((i) => JSON.stringify(i)).sort();
    const beforeRerun = { profiles: byKey(await scanTable(aws, tables.profiles)), history: byKey(await scanTable(aws, tables.tierHistory)) };
    const again = await run(config, RUN_DATE);
    expect({ profiles: byKey(await scanTable(aws, tables.profiles)), history: byKey(await scanTable(aws, tables.tierHistory)) }).toEqual(beforeRerun);
    // The same export: the night was completed, so the rerun writes nothing and returns the first summary, marked.
    const { rerun, ...stored } = again;
    expect(rerun).toMatchObject({ of: first.runId });
    expect(stored).toEqual(first);
    // Recorded beside the night it repeated.
    const recorded = await getRun(aws.clients.documents, tables.runs, { job: NIGHTLY_RERUN_JOB, runDate: `${RUN_DATE}#${again.rerun?.runId}` });
    expect(recorded).toMatchObject({ of: first.runId, fingerprint: first.input.fingerprint });
  });

  it('records tier and stage movements between two consecutive nights', async () => {
    const config = await scenarioConfig(aws, 'nights');
    // Tonight's snapshot, also dropped as last night's: the night before cannot see what
    // happened after its own end (later orders and sign-ups), exactly as with a real export.
    const dir = await generateAndUpload(config, RUN_DATE);
    await uploadExport(aws, config, dir, PREVIOUS);
    const before = await run(config, PREVIOUS);
    const after = await run(config, RUN_DATE);
    const moved = Object.values(after.changes.tierMovements).reduce((a, b) => a + b, 0);
    const stageMoved = Object.values(after.changes.stageMovements).reduce((a, b) => a + b, 0);
    expect(before.distribution.clients).toBeGreaterThan(0);
    // Clients who signed up on the run date only appear tonight.
    expect(after.changes.newClients).toBe(after.distribution.clients - before.distribution.clients);
    expect(after.changes.newClients).toBeGreaterThan(0);
    expect(moved + stageMoved).toBeGreaterThan(0);
    expect(after.written.profiles).toBeLessThan(after.distribution.clients);

    const history = await aws.clients.documents.send(
      new QueryCommand({
        TableName: tableNames(config).tierHistory,
        IndexName: HISTORY_BY_RUN_DATE_INDEX,
        KeyConditionExpression: 'runDate = :d',
        ExpressionAttributeValues: { ':d': RUN_DATE },
      }),
    );
    expect(history.Items?.length).toBe(after.written.tierHistory);
    const fromExisting = (history.Items ?? []).filter((h) => h.fromTier !== undefined);
    expect(fromExisting.filter((h) => h.fromTier !== h.toTier).length).toBe(moved);
  });

  it('fails on an unreadable file, names it, and writes nothing', async () => {
    const config = await scenarioConfig(aws, 'broken');
    const prefix = exportPrefix(config, RUN_DATE);
    const bucket = config.storage.exportsBucket;
    await aws.clients.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/customers.csv`, Body: 'customer_id,email\nc1,a@example.com\n' }),
    );
    // Claims to be gzip but is not.
    await aws.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/orders.csv.gz`, Body: Buffer.from([0x1f, 0x8b, 1, 2, 3, 4]) }));
    const failure = run(config, RUN_DATE);
    await expect(failure).rejects.toThrow(ExportError);
    await expect(failure).rejects.toThrow(/orders\.csv\.gz/);
    expect(await scanTable(aws, tableNames(config).profiles)).toEqual([]);
    expect(await scanTable(aws, tableNames(config).tierHistory)).toEqual([]);
  });

  it('fails when too many rows are rejected, and writes nothing', async () => {
    const config = await scenarioConfig(aws, 'rejecting');
    const prefix = exportPrefix(config, RUN_DATE);
    const bucket = config.storage.exportsBucket;
    const orders = ['order_id,customer_id,ordered_at,line_total'];
    for (let i = 0; i < 90; i++) orders.push(`o${i},c${i},2026-11-01T10:00:00+08:00,120.00`);
    for (let i = 0; i < 10; i++) orders.push(`x${i},c${i},not-a-date,120.00`);
    const customers = ['customer_id,email', ...Array.from({ length: 90 }, (_, i) => `c${i},c${i}@example.com`)];
    await aws.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/customers.csv`, Body: customers.join('\n') + '\n' }));
    await aws.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/orders.csv.gz`, Body: gzipSync(orders.join('\n') + '\n') }));
    await expect(run(config, RUN_DATE)).rejects.toThrow(/orders\.csv\.gz/);
    expect(await scanTable(aws, tableNames(config).profiles)).toEqual([]);
  });

  it('gives the same tiers from the Shopify and the generic export of the same orders', async () => {
    const generic = await scenarioConfig(aws, 'generic');
    const shopify = await scenarioConfig(aws, 'shopify');
    // Without deliberately malformed rows: each format breaks different rows, which would differ.
    await generateAndUpload(generic, RUN_DATE, { malformedRows: 0 });
    await generateAndUpload(shopify, RUN_DATE, { format: 'shopify', malformedRows: 0 });
    const a = await run(generic, RUN_DATE);
    const b = await run(shopify, RUN_DATE);
    const tiers = async (config: Config) =>
      new Map(
        (await scanTable(aws, tableNames(config).profiles)).map((p) => [
          String(p.email ?? p.customerId),
          { tier: p.tier as Tier, spend: p.spend12mMinor, orders: p.orderCount, stage: p.stage },
        ]),
      );
    const fromGeneric = await tiers(generic);
    const fromShopify = await tiers(shopify);
    expect(fromShopify.size).toBe(fromGeneric.size);
    expect(b.distribution.tiers).toEqual(a.distribution.tiers);
    for (const [email, expected] of fromGeneric) expect(fromShopify.get(email), email).toEqual(expected);
  });

  it('reads an export from a local folder through the same job', async () => {
    const config = await scenarioConfig(aws, 'folder');
    const dir = join(work, 'folder-export');
    await generateExport({ customers: 50, seed: 3, asOf: RUN_DATE, timeZone: config.timeZone }, dir);
    const summary = await runNightly({ clock: Date.now,
      runDate: RUN_DATE,
      runId: 'test-folder',
      config,
      clients: aws.clients,
      source: directoryExportSource(dir),
    });
    expect(summary.distribution.clients).toBe(50);
    const customers = await readFile(join(dir, 'customers.csv'), 'utf8');
    expect(customers.split('\n').filter((l) => l.trim()).length - 1).toBeGreaterThanOrEqual(50);
    await writeFile(join(dir, 'orders.csv'), 'not,a,valid\nexport');
    await expect(
      runNightly({ clock: Date.now, runDate: RUN_DATE, runId: 'test-folder-2', config, clients: aws.clients, source: directoryExportSource(dir) }),
    ).rejects.toThrow(/orders\.csv/);
  });
});
