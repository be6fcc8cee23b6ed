import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { tableNames } from '#shared/store/tables.ts';
import { generateExport } from '#local/generate/generate.ts';
import type { ClientProfile } from '#shared/model.ts';
import type { RfmSummary } from '#shared/clv/summary.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { getRun } from '#shared/store/runs-store.ts';
import { reportPrefix } from '#shared/store/buckets.ts';
import { readJson, scanTable, uploadExport } from '#test/support/emulator-data.ts';
import { addDays } from '#shared/time.ts';
import { exportDir, scratchDir } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';

const RUN_DATE = '2026-11-23';
const PREVIOUS = '2026-11-22';

const aws = sharedAws();
const work = scratchDir('nightly-clv');

describe('nightly run with predicted lifetime value', () => {
  it('stores the fitted parameters per run and a rounded clv per buyer; a rerun writes nothing', async () => {
    const config = await scenarioConfig(aws, 'clv');
    const dir = join(work, 'export');
    await generateExport({ customers: 800, seed: 7, asOf: RUN_DATE, timeZone: config.timeZone }, dir);
    await uploadExport(aws, config, dir, PREVIOUS);
    await uploadExport(aws, config, dir, RUN_DATE);
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
    const summaryJson = (await readJson(aws, config.storage.exportsBucket, `${reportPrefix(config, 'nightly', RUN_DATE)}/summary.json`)) as { clv: unknown };
    expect(summaryJson.clv).toEqual(first.clv);

    const profiles = await scanTable<ClientProfile>(aws, tables.profiles);
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
  it('fits a sample whose BG/NBD a and b run to their bounds together, and stores finite clv for every buyer', async () => {
    // This sample drives a and b to their bounds together (dropout nearly the same for everyone).
    // It was refused ("did not converge"), or its closed forms overflowed into NaN, which DynamoDB
    // refuses to store; the likelihood now keeps its digits on that ridge and quadrature predicts it.
    const config = await scenarioConfig(aws, 'clv-bound');
    const dir = join(work, 'export-bound');
    await generateExport({ customers: 600, seed: 17, asOf: RUN_DATE, timeZone: config.timeZone, orderParts: 2, malformedRows: 3 }, dir);
    await uploadExport(aws, config, dir, RUN_DATE);
    const summary = await runNightly({ clock: Date.now, runDate: RUN_DATE, runId: 'clv-bound', config, clients: aws.clients });
    expect(summary.clv).toMatchObject({ fitted: true, converged: true });
    expect(summary.clv.bgnbd?.b).toBeGreaterThan(1e6);
    expect(summary.clv.predictionFailures).toBeUndefined();
    expect(summary.written.profiles).toBe(summary.distribution.clients);
    const profiles = await scanTable<ClientProfile>(aws, tableNames(config).profiles);
    const withClv = profiles.filter((p) => p.clv !== undefined);
    expect(withClv.length).toBeGreaterThan(0);
    expect(withClv.every((p) => [p.clv!.probabilityAlive, p.clv!.expectedPurchases365d, p.clv!.expectedAverageOrderValueMinor, p.clv!.clv12mMinor].every(Number.isFinite))).toBe(true);
  }, 120_000);

  it('completes a night whose CLV fit runs a and b to their bounds, where the conditional expectation used to throw', async () => {
    // An ordinary small export (117 buyers, 90 repeat buyers): BG/NBD's a and b run to their
    // bounds together and the series of eq. 10 gave up (ConvergenceError) in the fit's probe,
    // failing the whole night, and every rerun, with no runs row.
    const config = await scenarioConfig(aws, 'clv-throw');
    const summaries = JSON.parse(readFileSync(new URL('../unit/shared/clv/fixtures/clv-throw-summaries.json', import.meta.url), 'utf8')) as RfmSummary[];
    const customers = ['customer_id,email,signed_up_at,accepts_marketing'];
    const orders = ['order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,currency,status'];
    summaries.forEach((s, i) => {
      const id = `cv${i}`;
      customers.push(`${id},${id}@example.com,2024-01-01T00:00:00+08:00,true`);
      const first = addDays(RUN_DATE, -Math.round(s.T * 7));
      // The first day, then x repeat days: the last t_x days after the first, the others on the days right after it.
      const days = [0, ...Array.from({ length: s.frequency }, (_, k) => (k === s.frequency - 1 ? Math.round(s.recency * 7) : k + 1))];
      days.forEach((d, k) => {
        const value = k === 0 ? 5_000 : s.monetaryValue;
        orders.push(`${id}-o${k},${id},${addDays(first, d)}T12:00:00+08:00,SKU-1,Bag,leather,1,${(value / 100).toFixed(2)},USD,paid`);
      });
    });
    const dir = await exportDir({ 'customers.csv': customers.join('\n') + '\n', 'orders.csv': orders.join('\n') + '\n' });
    await uploadExport(aws, config, dir, RUN_DATE);
    const summary = await runNightly({ clock: Date.now, runDate: RUN_DATE, runId: 'clv-throw', config, clients: aws.clients });
    expect(summary.status).toBe('completed');
    expect(summary.clv).toMatchObject({ fitted: true, clients: 117, repeatBuyers: 90 });
    expect(summary.clv.bgnbd?.a).toBeGreaterThan(1e5);
    expect(summary.clv.predictionFailures).toBeUndefined();
    const stored = await getRun(aws.clients.documents, tableNames(config).runs, { job: 'nightly', runDate: RUN_DATE });
    expect(stored).toMatchObject({ status: 'completed', runId: 'clv-throw' });
    const profiles = await scanTable<ClientProfile>(aws, tableNames(config).profiles);
    expect(profiles).toHaveLength(117);
    expect(profiles.every((p) => p.clv !== undefined && Number.isFinite(p.clv.clv12mMinor))).toBe(true);
  }, 180_000);
});
