import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AwsClients } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import { runNightlySharded } from '#local/nightly/sharded-run.ts';
import { runNightly } from '#shared/nightly/run.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';
import { readCatalog, readCycleHistory } from '#shared/store/catalog-store.ts';
import { failingPuts } from '#test/support/crashing-clients.ts';
import { expireWriteLeases, uploadExport } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { comparable, rowObjects, storedState } from '#test/support/nightly-comparison.ts';
import { at } from '#test/support/time.ts';

/**
 * S3 goes away during a night's finish, after every profile is written, at each
 * object the finish writes in turn (campaign results, category affinity, cycle history, the rejects
 * and warnings, the report, the summary); the night is then run again on the same export (its dead
 * attempt's lease ended). It must end where one clean run ends: profiles, tier history, catalogue,
 * cycle history, the summary's figures and the rejects.
 */
const aws = sharedAws();
const work = scratchDir('nightly-finish-s3-lost');
const CUSTOMERS = 'customer_id,email,first_name,accepts_marketing\n' + ['f1', 'f2', 'f3', 'f4'].map((id) => `${id},${id}@finish.example.com,Ann,true\n`).join('');
const ORDERS_A = 'order_id,customer_id,ordered_at,sku,category,quantity,line_total\no1,f1,2026-03-01T10:00:00+08:00,CREAM,skincare,1,100.00\no2,f2,2026-03-02T10:00:00+08:00,SOAP,bath,1,3000.00\n';
// Night B: new orders, a reject (an unknown customer), a warning (a bad quantity), and the cream's cycle changed.
const ORDERS_B =
  ORDERS_A +
  'o3,f3,2026-03-21T10:00:00+08:00,CREAM,skincare,0,120.00\no4,f4,2026-03-21T11:00:00+08:00,SOAP,bath,1,9000.00\no5,ghost,2026-03-21T11:00:00+08:00,SOAP,bath,1,10.00\n' +
  Array.from({ length: 30 }, (_, i) => `p${i},f1,2026-03-15T10:00:00+08:00,CREAM,skincare,1,10.00\n`).join('');
const products = (days: number) => `sku,name,category,replenish_days\nCREAM,Cream,skincare,${days}\nSOAP,Soap,bath,60\n`;

async function night(config: Config, clients: AwsClients, date: string, orders: string, days: number, runId: string, clockAt: number, shards?: number): Promise<NightlyRunSummary> {
  const dir = join(work, config.storage.exportsBucket, date);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'customers.csv'), CUSTOMERS);
  await writeFile(join(dir, 'orders.csv'), orders);
  await writeFile(join(dir, 'products.csv'), products(days));
  await uploadExport(aws, config, dir, date);
  const run = { clock: () => clockAt, runDate: date, runId, config, clients };
  return shards === undefined ? runNightly(run) : runNightlySharded({ ...run, shards });
}

async function outcome(config: Config, summary: NightlyRunSummary) {
  return {
    ...(await storedState(aws, config)),
    catalogue: [...(await readCatalog(aws.clients.s3, config)).values()],
    cycleHistory: await readCycleHistory(aws.clients.s3, config),
    summary: comparable(summary),
    rows: await rowObjects(aws, summary),
  };
}

const A = '2026-03-20';
const B = '2026-03-21';
const KEYS = ['campaign-results.json', 'category-affinity.json', 'cycle-history.json', 'rejects.jsonl', 'report.html', 'summary.json'];

describe('S3 lost at each object of the finish, then the night rerun', () => {
  for (const shards of [undefined, 4]) {
    it(`ends where one clean run ends (${shards === undefined ? 'one run' : `${shards} shards`})`, async () => {
      const clean = await scenarioConfig(aws, `finish-clean-${shards ?? 1}`);
      await night(clean, aws.clients, A, ORDERS_A, 30, 'n-a', at('2026-03-21 02:00'), shards);
      const cleanB = await night(clean, aws.clients, B, ORDERS_B, 45, 'n-b', at('2026-03-22 02:00'), shards);
      const reference = await outcome(clean, cleanB);
      expect(reference.rows.rejects).toHaveLength(1);
      for (const key of KEYS) {
        const config = await scenarioConfig(aws, `finish-${key.replace(/\W/g, '')}-${shards ?? 1}`);
        await night(config, aws.clients, A, ORDERS_A, 30, 'n-a', at('2026-03-21 02:00'), shards);
        // report.html never fails the night (reportError); every other object does.
        await night(config, failingPuts(aws.clients, key), B, ORDERS_B, 45, 'n-b', at('2026-03-22 02:00'), shards).catch(() => undefined);
        await expireWriteLeases(aws, config, B);
        const rerun = await night(config, aws.clients, B, ORDERS_B, 45, 'n-b-again', at('2026-03-22 07:00'), shards);
        expect(await outcome(config, rerun), `S3 lost writing ${key}`).toEqual(reference);
      }
    }, 600_000);
  }
});
