import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readObjectBytes } from '#shared/aws/s3-objects.ts';
import type { Config } from '#shared/config.ts';
import { ExportError } from '#shared/exports/reader.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { formatNightlySummary } from '#local/format.ts';
import { formatStatus, gatherStatus } from '#local/commands/status.ts';
import { runNightlySharded } from '#local/nightly/sharded-run.ts';
import { gatherNightlyReport } from '#shared/nightly/report.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';
import { renderNightlyReportHtml } from '#shared/reports/render-html.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { UNKNOWN_CUSTOMER_REASON } from '#shared/nightly/unknown-customers.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { scanTable } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';

/**
 * Orders whose customer_id neither the customers file nor the base knows, clients absent from
 * tonight's customers file, and optional fields dropped with a warning, on small hand-written
 * exports read from a folder.
 */

const FIRST = '2026-11-22';
const SECOND = '2026-11-23';
const KNOWN = ['c01', 'c02', 'c03', 'c04'];

const aws = sharedAws();
const work = scratchDir('unknown');

const customersCsv = (rows: string[]) => ['customer_id,email,first_name,accepts_marketing,time_zone', ...rows].join('\n') + '\n';
const customerRow = (id: string, timeZone = 'Asia/Shanghai') => `${id},${id}@example.com,Name ${id},true,${timeZone}`;

/** Ten order lines for each id, the last on `day`. */
function ordersCsv(ids: readonly string[], day: string, extra: string[] = []): string {
  const rows = ids.flatMap((id) =>
    Array.from({ length: 10 }, (_, k) => `${id}-o${k},${id},${day.slice(0, 8)}${String(10 + k).padStart(2, '0')}T10:00:00+08:00,SKU-${k},120.00`),
  );
  return ['order_id,customer_id,ordered_at,sku,line_total', ...rows, ...extra].join('\n') + '\n';
}

async function exportFolder(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text);
  return dir;
}

const run = (config: Config, runDate: string, dir: string, runId: string) =>
  runNightly({ clock: Date.now, runDate, runId, config, clients: aws.clients, source: directoryExportSource(dir) });

async function profileIds(config: Config): Promise<string[]> {
  return (await scanTable(aws, tableNames(config).profiles)).map((item) => String(item.customerId)).sort();
}

async function jsonLines(config: Config, object: string | undefined): Promise<Record<string, unknown>[]> {
  expect(object).toBeDefined();
  const key = String(object).replace(`s3://${config.storage.exportsBucket}/`, '');
  const bytes = await readObjectBytes(aws.clients.s3, config.storage.exportsBucket, key);
  return new TextDecoder()
    .decode(bytes)
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('nightly run: unknown customers, dropped fields, kept data and consent', () => {
  it('rejects the lines of an unknown customer (counted in its file), keeps a client the base knows, and drops a bad time zone with a warning', async () => {
    const config = await scenarioConfig(aws, 'unknown');
    const first = await exportFolder('first', { 'customers.csv': customersCsv(KNOWN.map((id) => customerRow(id))), 'orders.csv': ordersCsv(KNOWN, FIRST) });
    await run(config, FIRST, first, 'first');

    // Tonight c04 is missing from the customers file (the base knows them), c01's time zone is
    // invalid, and one order line names a customer nobody knows.
    const ghostLine = `ghost-o1,ghost,${SECOND}T09:00:00+08:00,SKU-9,90000.00`;
    const second = await exportFolder('second', {
      'customers.csv': customersCsv([customerRow('c01', 'Mars/Olympus'), customerRow('c02'), customerRow('c03')]),
      'orders.csv': ordersCsv(KNOWN, SECOND, [ghostLine]),
    });
    const summary = await run(config, SECOND, second, 'second');

    expect(await profileIds(config)).toEqual(KNOWN);
    const orders = summary.input.files.find((f) => f.kind === 'orders');
    expect(orders).toMatchObject({ rows: 41, rejected: 1 });
    expect(summary.input).toMatchObject({ rejected: 1, unknownCustomerLines: 1, orderLines: 40, warned: 1 });
    const [reject] = await jsonLines(config, summary.report.rejectsObject);
    expect(reject).toEqual({ file: expect.stringMatching(/orders\.csv$/), line: 42, reason: UNKNOWN_CUSTOMER_REASON });
    const [warning] = await jsonLines(config, summary.report.warningsObject);
    expect(warning).toMatchObject({ file: expect.stringMatching(/customers\.csv$/), line: 2, field: 'time_zone' });
    expect(JSON.stringify(warning)).not.toContain('Mars');

    // The client absent from tonight's customers file keeps their contact data and consent.
    const absent = await getProfile(aws.clients.documents, tableNames(config).profiles, 'c04');
    expect(absent).toMatchObject({ email: 'c04@example.com', firstName: 'Name c04', acceptsMarketing: true });
    // The row with the bad time zone kept the rest of itself.
    const warned = await getProfile(aws.clients.documents, tableNames(config).profiles, 'c01');
    expect(warned).toMatchObject({ email: 'c01@example.com', acceptsMarketing: true });
    // The unknown customer's 90,000.00 counted nowhere.
    expect(summary.distribution.clients).toBe(4);
  });

  it('rejects a Shopify order whose email no customer row and no stored profile has, instead of making a client of it (one shard or two)', async () => {
    const head = 'Name,Email,Financial Status,Subtotal,Created at,Lineitem quantity,Lineitem price,Lineitem sku';
    const order = (n: number, email: string) => `#${n},${email},paid,10.00,${FIRST} 10:00:00 +0800,1,10.00,SKU-${n % 3}`;
    const known = Array.from({ length: 24 }, (_, k) => order(1000 + k, k % 2 === 0 ? 'Mei@Example.com' : 'tom@example.com'));
    const dir = await exportFolder('shopify-stranger', {
      'customers_export.csv': 'Customer ID,Email,Accepts Email Marketing\n1,mei@example.com,yes\n2,tom@example.com,no\n',
      'orders_export.csv': [head, ...known.slice(0, 12), order(2000, 'stranger@example.com'), ...known.slice(12)].join('\n') + '\n',
    });
    const single = await scenarioConfig(aws, 'shopify-stranger');
    const summary = await run(single, FIRST, dir, 'stranger');
    expect(await profileIds(single)).toEqual(['1', '2']);
    expect(summary.input).toMatchObject({ rejected: 1, unknownCustomerLines: 1, orderLines: 24 });
    expect(await jsonLines(single, summary.report.rejectsObject)).toEqual([{ file: expect.stringMatching(/orders_export\.csv$/), line: 14, reason: UNKNOWN_CUSTOMER_REASON }]);
    const shardedConfig = await scenarioConfig(aws, 'shopify-stranger-sharded');
    const sharded = await runNightlySharded({ clock: Date.now, runDate: FIRST, runId: 'stranger-sharded', config: shardedConfig, clients: aws.clients, shards: 2, source: { kind: 'directory', path: dir } });
    expect(sharded.input).toEqual({ ...summary.input, fingerprint: sharded.input.fingerprint });
    expect(await profileIds(shardedConfig)).toEqual(['1', '2']);
  }, 120_000);

  it('completes the night for everyone when a SKU or a category is "__proto__" (no key of a stored map): the field is dropped with a warning, the line counts', async () => {
    // DynamoDB's marshaller cannot store a map key "__proto__": read as a SKU it failed every write of the night, on every rerun.
    const config = await scenarioConfig(aws, 'proto-keys');
    const lines = KNOWN.flatMap((id) =>
      Array.from({ length: 5 }, (_, k) => {
        const sku = id === 'c01' && k === 0 ? '__proto__' : `SKU-${k}`;
        const category = id === 'c02' && k === 0 ? '__proto__' : 'Skincare';
        return `${id}-o${k},${id},${FIRST.slice(0, 8)}${10 + k}T10:00:00+08:00,${sku},${category},120.00`;
      }),
    );
    const dir = await exportFolder('proto-keys', {
      'customers.csv': customersCsv(KNOWN.map((id) => customerRow(id))),
      'orders.csv': ['order_id,customer_id,ordered_at,sku,category,line_total', ...lines].join('\n') + '\n',
    });
    const summary = await run(config, FIRST, dir, 'proto-keys');
    expect(summary.status).toBe('completed');
    expect(summary.input).toMatchObject({ rejected: 0, warned: 2, orderLines: 20 });
    expect(await profileIds(config)).toEqual(KNOWN);
    const withSku = await getProfile(aws.clients.documents, tableNames(config).profiles, 'c01');
    expect(withSku).toMatchObject({ orderCount: 5, lifetimeSpendMinor: 60000 });
    expect(Object.keys(withSku?.skus ?? {}).sort()).toEqual(['SKU-1', 'SKU-2', 'SKU-3', 'SKU-4']);
    expect(await getProfile(aws.clients.documents, tableNames(config).profiles, 'c02')).toMatchObject({ orderCount: 5, lifetimeSpendMinor: 60000, topCategory: 'Skincare' });
    expect((await jsonLines(config, summary.report.warningsObject)).map((w) => [String(w.file).split('/').pop(), w.line, w.field])).toEqual([
      ['orders.csv', 2, 'sku'],
      ['orders.csv', 7, 'category'],
    ]);
  }, 120_000);

  it('completes a Shopify night whose Lineitem sku is "__proto__": the SKU is dropped with a warning, the order counts', async () => {
    const head = 'Name,Email,Financial Status,Subtotal,Created at,Lineitem quantity,Lineitem price,Lineitem sku';
    const orders = Array.from({ length: 10 }, (_, k) => `#${3000 + k},${k % 2 === 0 ? 'mei@example.com' : 'tom@example.com'},paid,10.00,${FIRST} 10:00:00 +0800,1,10.00,${k === 0 ? '__proto__' : `SKU-${k % 3}`}`);
    const dir = await exportFolder('shopify-proto', {
      'customers_export.csv': 'Customer ID,Email,Accepts Email Marketing\n1,mei@example.com,yes\n2,tom@example.com,no\n',
      'orders_export.csv': [head, ...orders].join('\n') + '\n',
    });
    const config = await scenarioConfig(aws, 'shopify-proto');
    const summary = await run(config, FIRST, dir, 'shopify-proto');
    expect(summary.status).toBe('completed');
    expect(summary.input).toMatchObject({ rejected: 0, warned: 1, orderLines: 10 });
    expect(await profileIds(config)).toEqual(['1', '2']);
    const mei = await getProfile(aws.clients.documents, tableNames(config).profiles, '1');
    expect(mei).toMatchObject({ orderCount: 5, lifetimeSpendMinor: 5000 });
    expect(Object.keys(mei?.skus ?? {})).not.toContain('__proto__');
  }, 120_000);

  it('fails the night, writing nothing, when unknown customers take more than maxRejectShare of the orders file', async () => {
    const config = await scenarioConfig(aws, 'unknown-share');
    const ghosts = ['g1', 'g2', 'g3'].map((id, k) => `${id}-o1,${id},${FIRST}T0${k}:00:00+08:00,SKU-1,10.00`);
    const dir = await exportFolder('share', { 'customers.csv': customersCsv(KNOWN.slice(0, 2).map((id) => customerRow(id))), 'orders.csv': ordersCsv(KNOWN.slice(0, 2), FIRST, ghosts) });
    const failure = await run(config, FIRST, dir, 'share').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ExportError);
    expect(String((failure as Error).message)).toMatch(/orders\.csv.*3 of 23.*maxRejectShare/);
    expect(await profileIds(config)).toEqual([]);
  });

  it('counts the unknown customers of every shard in a sharded night, as one process would', async () => {
    const ghosts = ['g1', 'g2', 'g3', 'g4', 'g5'].map((id, k) => `${id}-o1,${id},${FIRST}T0${k}:00:00+08:00,SKU-1,10.00`);
    const ids = Array.from({ length: 12 }, (_, k) => `s${String(k).padStart(2, '0')}`);
    // Two order parts, read by different readers, each with unknown customers' lines.
    const dir = await exportFolder('sharded', {
      'customers.csv': customersCsv(ids.map((id) => customerRow(id))),
      'orders-0001.csv': ordersCsv(ids.slice(0, 6), FIRST, ghosts.slice(0, 2)),
      'orders-0002.csv': ordersCsv(ids.slice(6), FIRST, ghosts.slice(2)),
    });
    const singleConfig = await scenarioConfig(aws, 'unknown-single');
    const single = await run(singleConfig, FIRST, dir, 'single');
    const shardedConfig = await scenarioConfig(aws, 'unknown-sharded');
    const sharded = await runNightlySharded({ clock: Date.now, runDate: FIRST, runId: 'sharded', config: shardedConfig, clients: aws.clients, shards: 3, source: { kind: 'directory', path: dir } });
    expect(sharded.input).toEqual({ ...single.input, fingerprint: sharded.input.fingerprint });
    expect(sharded.input).toMatchObject({ rejected: 5, unknownCustomerLines: 5 });
    // Each named by its original file and line (the header is line 1, then ten lines per client).
    const rejects = await jsonLines(shardedConfig, sharded.report.rejectsObject);
    expect(rejects).toEqual(await jsonLines(singleConfig, single.report.rejectsObject));
    expect(rejects.map((r) => `${String(r.file).slice(dir.length + 1)}:${String(r.line)}`)).toEqual(['orders-0001.csv:62', 'orders-0001.csv:63', 'orders-0002.csv:62', 'orders-0002.csv:63', 'orders-0002.csv:64']);
    expect(rejects.every((r) => r.reason === UNKNOWN_CUSTOMER_REASON)).toBe(true);
    expect(await profileIds(shardedConfig)).toEqual(ids);
  }, 120_000);

  it('consent on a night: an explicit false always applies, an absent column or an empty cell changes nothing', async () => {
    const config = await scenarioConfig(aws, 'consent');
    // c01..c04 said yes last night.
    const first = await exportFolder('consent-1', { 'customers.csv': customersCsv(KNOWN.map((id) => customerRow(id))), 'orders.csv': ordersCsv(KNOWN, FIRST) });
    await run(config, FIRST, first, 'consent-1');
    // Tonight: c01 says no (nothing else on its row), c02's cell is empty, c03 says yes again; a
    // second customers part without the column names c04.
    const second = await exportFolder('consent-2', {
      'customers-0001.csv': ['customer_id,email,accepts_marketing', 'c01,,false', 'c02,c02@example.com,', 'c03,c03@example.com,yes'].join('\n') + '\n',
      'customers-0002.csv': ['customer_id,first_name', 'c04,Renamed'].join('\n') + '\n',
      'orders.csv': ordersCsv(KNOWN, SECOND),
    });
    await run(config, SECOND, second, 'consent-2');
    const consent = async (id: string) => (await getProfile(aws.clients.documents, tableNames(config).profiles, id))?.acceptsMarketing;
    expect(await consent('c01')).toBe(false);
    expect(await consent('c02')).toBe(true);
    expect(await consent('c03')).toBe(true);
    expect(await consent('c04')).toBe(true);
    expect(await getProfile(aws.clients.documents, tableNames(config).profiles, 'c04')).toMatchObject({ firstName: 'Renamed', email: 'c04@example.com' });
    expect(await getProfile(aws.clients.documents, tableNames(config).profiles, 'c01')).toMatchObject({ email: 'c01@example.com' });
  });
});

describe('nightly run: more rejects than the rejects object lists', () => {
  /** 210,000 good order lines and 10,500 rejected ones (under 5%), for 200 clients. */
  async function manyRejects(): Promise<string> {
    const customers = Array.from({ length: 200 }, (_, c) => customerRow(`c${c}`));
    const orders = ['order_id,customer_id,ordered_at,line_total'];
    for (let i = 0; i < 220_500; i++) {
      orders.push(`o${i},c${i % 200},2026-11-${String(1 + (i % 20)).padStart(2, '0')}T10:00:00+08:00,${i % 21 === 20 ? 'n/a' : '10.00'}`);
    }
    return exportFolder('many-rejects', { 'customers.csv': customersCsv(customers), 'orders.csv': orders.join('\n') + '\n' });
  }
  /** What the summary says of the cut list, and how many lines the object holds. */
  async function listed(config: Config, summary: NightlyRunSummary) {
    const { rejectsListed, rejectsNotListed } = summary.report;
    return { rejected: summary.input.rejected, rejectsListed, rejectsNotListed, lines: (await jsonLines(config, summary.report.rejectsObject)).length };
  }
  const CUT = { rejected: 10_500, rejectsListed: 10_000, rejectsNotListed: 500, lines: 10_000 };

  it('says how many it lists and how many not, in the summary, the CLI, the report and status; one shard or two', async () => {
    const dir = await manyRejects();
    const config = await scenarioConfig(aws, 'many-rejects');
    const summary = await run(config, FIRST, dir, 'many-rejects');
    expect(await listed(config, summary)).toEqual(CUT);
    const said = `10,500 rejects, the first 10,000 listed in ${summary.report.rejectsObject}`;
    expect(formatNightlySummary(summary)).toContain(`Rejects: ${said}`);
    expect(renderNightlyReportHtml(await gatherNightlyReport({ config, clients: aws.clients, summary }))).toContain(said);
    const status = await gatherStatus({ config, source: 'test' }, aws.clients, Date.parse(`${SECOND}T12:00:00Z`), { nights: 1, hours: 1 });
    expect(status.nights[0]?.rejectsListed).toBe(said);
    expect(formatStatus(status)).toContain(`rejects: ${said}`);

    const shardedConfig = await scenarioConfig(aws, 'many-rejects-sharded');
    const sharded = await runNightlySharded({ clock: Date.now, runDate: FIRST, runId: 'many-rejects-sharded', config: shardedConfig, clients: aws.clients, shards: 2, source: { kind: 'directory', path: dir } });
    expect(await listed(shardedConfig, sharded)).toEqual(CUT);
  }, 300_000);

  it('says nothing is cut when the object lists every reject', async () => {
    const config = await scenarioConfig(aws, 'few-rejects');
    const dir = await exportFolder('few-rejects', { 'customers.csv': customersCsv(KNOWN.map((id) => customerRow(id))), 'orders.csv': ordersCsv(KNOWN, FIRST, ['bad,c01,2026-11-01T10:00:00+08:00,SKU-1,n/a']) });
    const summary = await run(config, FIRST, dir, 'few-rejects');
    expect(await listed(config, summary)).toEqual({ rejected: 1, rejectsListed: 1, rejectsNotListed: 0, lines: 1 });
    expect(formatNightlySummary(summary)).toContain(`Rejects: ${summary.report.rejectsObject}\n`);
  });
});
