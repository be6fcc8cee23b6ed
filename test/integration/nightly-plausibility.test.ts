import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runNightlySharded } from '#local/nightly/sharded-run.ts';
import { parseConfig, type Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { NightRefusedError } from '#shared/nightly/admission.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { WRITE_LEASE_JOB } from '#shared/nightly/write-lease.ts';
import { readCatalog } from '#shared/store/catalog-store.ts';
import { failingPuts } from '#test/support/crashing-clients.ts';
import { tableNames } from '#shared/store/tables.ts';
import { expireWriteLeases, scanTable } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { storedState } from '#test/support/nightly-comparison.ts';

/**
 * The plausibility checks on whole nights: what an export that lost a part, or a configuration
 * edited between two nights, would do to the base is refused before anything is written, in a
 * single and in a sharded run alike; time passing is not.
 */

const aws = sharedAws();
const work = scratchDir('nightly-plausibility');
const SH = 'Asia/Shanghai';
const ids = Array.from({ length: 100 }, (_, i) => `m${String(i).padStart(3, '0')}`);
/** Bimonthly orders parts: every client buys on the 10th of each of these months, 1,500.00 each time. */
const MONTHS = ['01', '03', '05', '07', '09'] as const;
const [A, B] = ['2026-09-19', '2026-09-20'] as const;

const customersCsv = ['customer_id,email,first_name,locale,time_zone,accepts_marketing', ...ids.map((id) => `${id},${id}@plausibility.example.com,N,en,${SH},true`)].join('\n') + '\n';
const part = (month: string, clients: readonly string[] = ids) =>
  ['order_id,customer_id,ordered_at,line_total', ...clients.map((id) => `${id}-${month},${id},2026-${month}-10T10:00:00+08:00,1500.00`)].join('\n') + '\n';

/** A night's export folder: the customers and the given orders parts (month → its clients). */
async function exportOf(name: string, parts: Partial<Record<(typeof MONTHS)[number], readonly string[]>>): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'customers.csv'), customersCsv);
  for (const [month, clients] of Object.entries(parts)) await writeFile(join(dir, `orders-2026-${month}.csv`), part(month, clients));
  return dir;
}

const allParts = Object.fromEntries(MONTHS.map((m) => [m, ids]));
/** The latest part, orders-2026-09.csv, did not arrive. */
const withoutLatest = Object.fromEntries(MONTHS.slice(0, -1).map((m) => [m, ids]));

const night = (config: Config, runDate: string, dir: string, acceptDrop = false) =>
  runNightly({ clock: Date.now, runDate, runId: `night-${runDate}${acceptDrop ? '-accepted' : ''}`, config, clients: aws.clients, source: directoryExportSource(dir), acceptDrop });

/** Everything a refused night could have touched. */
async function everything(config: Config) {
  // A refused night takes and releases its write lease: bookkeeping, not the night's data.
  return { ...(await storedState(aws, config)), runs: (await scanTable(aws, tableNames(config).runs)).filter((item) => item.job !== WRITE_LEASE_JOB) };
}

const LOST_LATEST = /2026-09-20 refused, nothing written: 100 clients would lose orders or lapse further than the days since 2026-09-19 explain .*, 100% of the 100 buyers of 2026-09-19, more than the 2% allowed/;

describe('plausibility of a night against the last completed one', () => {
  it('refuses a night whose latest orders part is missing (every client would look lapsed), writing nothing; an operator can accept it', { timeout: 120_000 }, async () => {
    const config = await scenarioConfig(aws, 'missing-part');
    const first = await night(config, A, await exportOf('single-a', allParts));
    expect(first.distribution.buyers).toBe(100);
    const before = await everything(config);
    // Order lines and revenue fall by a fifth at most, nobody moves down a tier: only the lost orders tell.
    const missing = await exportOf('single-b', withoutLatest);
    const refused = night(config, B, missing);
    await expect(refused).rejects.toThrow(NightRefusedError);
    await expect(refused).rejects.toThrow(LOST_LATEST);
    expect(await everything(config)).toEqual(before);

    const accepted = await night(config, B, missing, true);
    expect(accepted.admission?.accepted?.map((v) => v.check)).toEqual(['unexplainedLapses']);
    expect(accepted.admission?.tonight).toMatchObject({ downgrades: 0, unexplainedLapses: 100 });
  });

  it('refuses the same night run in shards, from the counts every shard measured', { timeout: 180_000 }, async () => {
    const config = await scenarioConfig(aws, 'missing-part-sharded');
    const sharded = (runDate: string, path: string) =>
      runNightlySharded({ clock: Date.now, runDate, runId: `sharded-${runDate}`, config, clients: aws.clients, shards: 2, source: { kind: 'directory', path } });
    await sharded(A, await exportOf('sharded-a', allParts));
    const before = await everything(config);
    await expect(sharded(B, await exportOf('sharded-b', withoutLatest))).rejects.toThrow(LOST_LATEST);
    expect(await everything(config)).toEqual(before);
  });

  it('admits a refund of one client\u2019s latest order, and clients falling asleep as the days pass', { timeout: 120_000 }, async () => {
    const config = await scenarioConfig(aws, 'time-passing');
    await night(config, A, await exportOf('time-a', allParts));
    // m000's September order is gone (refunded): 1 buyer of 100, within the 2% allowed.
    const refunded = await night(config, B, await exportOf('time-b', { ...allParts, '09': ids.slice(1) }));
    expect(refunded.admission?.tonight.unexplainedLapses).toBe(1);
    expect(refunded.admission?.accepted).toBeUndefined();
    // Two months on, nobody has ordered since September 10: the 99 still awake fall asleep, as time says.
    const later = await night(config, '2026-11-20', await exportOf('time-c', allParts));
    expect(later.admission?.tonight.unexplainedLapses).toBe(0);
    expect(later.admission?.accepted).toBeUndefined();
    expect(later.changes.stageMovements).toEqual({ 'active→sleeping': 99 });
  });

  it('refuses a night whose stage rules were changed so that every client is sleeping at once', { timeout: 120_000 }, async () => {
    const config = await scenarioConfig(aws, 'lifecycle-edit');
    const dir = await exportOf('lifecycle', allParts);
    await night(config, A, dir);
    // Sleeping from 5 days without an order: the clients, 9 days past their last order last night, fall asleep all at once.
    const edited = parseConfig({ ...config, lifecycle: { ...config.lifecycle, sleepingDays: 5 } });
    await expect(night(edited, B, dir)).rejects.toThrow(
      /100 clients would lose orders or lapse further than the days since 2026-09-19 explain .*\. The rules that place clients changed since 2026-09-19: lifecycle\.sleepingDays 60 → 5\. /,
    );
  });
});

describe('a year-old sale day leaving the 12-month window', () => {
  /** Regulars buy 2,000.00 each quarter; the sale buyers came once, to the Singles' Day 2025 sale, and spent 1,500.00: Potential for one year. */
  async function saleDayExport(name: string, regulars: number, saleBuyers: number): Promise<string> {
    const dir = join(work, name);
    await mkdir(dir, { recursive: true });
    const regular = Array.from({ length: regulars }, (_, i) => `r${String(i).padStart(3, '0')}`);
    const sale = Array.from({ length: saleBuyers }, (_, i) => `s${String(i).padStart(3, '0')}`);
    await writeFile(join(dir, 'customers.csv'), ['customer_id,email,first_name,locale,time_zone,accepts_marketing', ...[...regular, ...sale].map((id) => `${id},${id}@sale-day.example.com,N,en,${SH},true`)].join('\n') + '\n');
    const lines = ['order_id,customer_id,ordered_at,line_total'];
    for (const id of regular) for (const month of ['02', '05', '08', '10']) lines.push(`${id}-${month},${id},2026-${month}-10T10:00:00+08:00,2000.00`);
    for (const id of sale) lines.push(`${id}-sale,${id},2025-11-11T11:00:00+08:00,1500.00`);
    await writeFile(join(dir, 'orders.csv'), lines.join('\n') + '\n');
    return dir;
  }

  it('admits the same snapshot on the sale\u2019s anniversary: its buyers falling a tier is time passing, not a broken export; the report still counts them', { timeout: 180_000 }, async () => {
    const config = await scenarioConfig(aws, 'sale-day-window');
    const dir = await saleDayExport('sale-day', 90, 10);
    expect((await night(config, '2026-11-10', dir)).distribution.buyers).toBe(100);
    // The window of 2026-11-11 starts on 2025-11-12: the 10 sale buyers fall to Entry, 10% of the buyers, over the 5% allowed.
    const anniversary = await night(config, '2026-11-11', dir);
    expect(anniversary.admission?.accepted).toBeUndefined();
    expect(anniversary.admission?.tonight).toMatchObject({ downgrades: 0, revenueLeftWindowMinor: 10 * 150_000 });
    expect(anniversary.changes.downgrades).toBe(10);
    expect(anniversary.distribution.tiers.Entry.clients).toBe(10);
    expect((await night(config, '2026-11-12', dir)).admission?.tonight).toMatchObject({ downgrades: 0, revenueLeftWindowMinor: 0 });
  });

  it('admits it when the sale day was most of a young brand\u2019s revenue, in one run and in shards; a part lost the same night is still refused', { timeout: 240_000 }, async () => {
    // 70 sale buyers: 105,000.00 of 345,000.00 leaves the window (30%, over the 20% allowed), and 70% of the buyers fall a tier.
    const dir = await saleDayExport('young-brand', 30, 70);
    const single = await scenarioConfig(aws, 'sale-day-young');
    await night(single, '2026-11-10', dir);
    const admitted = await night(single, '2026-11-11', dir);
    expect(admitted.admission?.accepted).toBeUndefined();
    expect(admitted.distribution.revenueMinor).toBe(30 * 4 * 200_000);

    const shardedConfig = await scenarioConfig(aws, 'sale-day-young-sharded');
    const sharded = (runDate: string, path: string) =>
      runNightlySharded({ clock: Date.now, runDate, runId: `sharded-${runDate}`, config: shardedConfig, clients: aws.clients, shards: 2, source: { kind: 'directory', path } });
    await sharded('2026-11-10', dir);
    const inShards = await sharded('2026-11-11', dir);
    expect(inShards.admission?.accepted).toBeUndefined();
    expect(inShards.admission?.tonight).toMatchObject({ downgrades: 0, revenueLeftWindowMinor: 70 * 150_000 });

    // The same night, but the regulars' August and October orders lost too: that fall is the export's, counted and refused.
    const lost = join(work, 'young-brand-lost');
    await mkdir(lost, { recursive: true });
    await writeFile(join(lost, 'customers.csv'), await readFile(join(dir, 'customers.csv'), 'utf8'));
    await writeFile(join(lost, 'orders.csv'), (await readFile(join(dir, 'orders.csv'), 'utf8')).split('\n').filter((line) => !/-(08|10),/.test(line)).join('\n'));
    const refused = scenarioConfig(aws, 'sale-day-young-lost').then(async (config) => {
      await night(config, '2026-11-10', dir);
      return night(config, '2026-11-11', lost);
    });
    // Only the 30 regulars' falls count against the buyers: the sale buyers' are time's.
    await expect(refused).rejects.toThrow(
      /2026-11-11 refused, nothing written: .*12-month revenue fell by 34\.78% since 2026-11-10 \(USD 225,000\.00 counting the USD 105,000\.00 of orders that left the 12-month window since then against USD 345,000\.00\).*; 30 clients would move down a tier, 30% of the 100 buyers/,
    );
  });
});

describe('tier thresholds edited between two nights', () => {
  const buyers = Array.from({ length: 20 }, (_, i) => `t${String(i).padStart(2, '0')}`);
  const prospects = Array.from({ length: 30 }, (_, i) => `p${String(i).padStart(2, '0')}`);
  const [N1, N2] = ['2026-11-20', '2026-11-21'] as const;
  const customers = ['customer_id,email,first_name,locale,time_zone,accepts_marketing', ...[...buyers, ...prospects].map((id) => `${id},${id}@tiers.example.com,N,en,${SH},true`)].join('\n') + '\n';
  // Half the buyers at 4,000.00 (Potential), half at 45,000.00 (Core), with the default thresholds.
  const buyersOrders = buyers.map((id, i) => `${id}-o,${id},2026-11-02T10:00:00+08:00,${i % 2 === 0 ? '4000.00' : '45000.00'}`);
  const firstOrders = prospects.map((id) => `${id}-o,${id},2026-11-21T10:00:00+08:00,100.00`);

  async function exportWith(name: string, lines: readonly string[]): Promise<string> {
    const dir = join(work, name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'customers.csv'), customers);
    await writeFile(join(dir, 'orders.csv'), ['order_id,customer_id,ordered_at,line_total', ...lines].join('\n') + '\n');
    return dir;
  }
  const withTiers = (config: Config, tiers: Config['tiers']) => parseConfig({ ...config, tiers });

  it('refuses lowered thresholds that would move every buyer up (and thank them all), naming the rules that changed; accepted, the night records them', { timeout: 120_000 }, async () => {
    const config = await scenarioConfig(aws, 'tiers-lowered');
    const dir = await exportWith('tiers-lowered', buyersOrders);
    await night(config, N1, dir);
    const before = await everything(config);
    const lowered = withTiers(config, { vic: '40000', core: '3000', potential: '1000' });
    await expect(night(lowered, N2, dir)).rejects.toThrow(
      /^2026-11-21 refused, nothing written: 20 clients would move up a tier, 100% of the 20 buyers of 2026-11-20, more than the 5% allowed\. The rules that place clients changed since 2026-11-20: tiers\.vic 50000 → 40000, tiers\.core 5000 → 3000\. /,
    );
    expect(await everything(config)).toEqual(before);

    const accepted = await night(lowered, N2, dir, true);
    expect(accepted.admission?.accepted?.map((v) => v.check)).toEqual(['upgrades']);
    expect(accepted.admission?.rulesChanged).toEqual(['tiers.vic 50000 → 40000', 'tiers.core 5000 → 3000']);
    expect(accepted.rules?.tiers).toEqual({ vic: '40000', core: '3000', potential: '1000' });
  });

  it('refuses raised thresholds the same way, by the downgrades', { timeout: 120_000 }, async () => {
    const config = await scenarioConfig(aws, 'tiers-raised');
    const dir = await exportWith('tiers-raised', buyersOrders);
    await night(config, N1, dir);
    await expect(night(withTiers(config, { vic: '60000', core: '50000', potential: '5000' }), N2, dir)).rejects.toThrow(
      /20 clients would move down a tier, 100% of the 20 buyers of 2026-11-20, more than the 5% allowed\. The rules that place clients changed since 2026-11-20: tiers\.vic 50000 → 60000, tiers\.core 5000 → 50000, tiers\.potential 1000 → 5000\. /,
    );
  });

  it('admits a night of first purchases, however many: a prospect buying is no move between buyers\u2019 tiers', { timeout: 120_000 }, async () => {
    const config = await scenarioConfig(aws, 'tiers-first-purchases');
    await night(config, N1, await exportWith('first-purchases-1', buyersOrders));
    const sale = await night(config, N2, await exportWith('first-purchases-2', [...buyersOrders, ...firstOrders]));
    expect(sale.changes.tierMovements).toEqual({ 'Prospect→Entry': 30 });
    expect(sale.admission?.tonight.upgrades).toBe(0);
    expect(sale.admission?.accepted).toBeUndefined();
    expect(sale.admission?.rulesChanged).toBeUndefined();
  });
});

describe('a products export that lost most of its rows', () => {
  const SKUS = Array.from({ length: 40 }, (_, k) => `SKU-${String(k).padStart(2, '0')}`);
  /** A night's export with every orders part and a products file of `skus` (none: no products file). */
  async function withProducts(name: string, skus?: readonly string[]): Promise<string> {
    const dir = await exportOf(name, allParts);
    if (skus) await writeFile(join(dir, 'products.csv'), ['sku,name,replenish_days', ...skus.map((sku) => `${sku},Cream ${sku},30`)].join('\n') + '\n');
    return dir;
  }
  const catalogueSkus = async (config: Config) => [...(await readCatalog(aws.clients.s3, config)).keys()].sort();
  const SHRUNK = /2026-09-20 refused, nothing written: the products catalogue would fall by 95% \(was 40 SKUs, now 2\), more than the 20% allowed/;

  it('refuses a night that would shrink the stored catalogue from 40 SKUs to 2, writing nothing; an operator can accept it; a night without products keeps it', { timeout: 120_000 }, async () => {
    const config = await scenarioConfig(aws, 'catalogue-drop');
    await night(config, A, await withProducts('catalogue-a', SKUS));
    const before = await everything(config);
    const cut = await withProducts('catalogue-b', SKUS.slice(0, 2));
    const refused = night(config, B, cut);
    await expect(refused).rejects.toThrow(NightRefusedError);
    await expect(refused).rejects.toThrow(SHRUNK);
    expect(await everything(config)).toEqual(before);
    expect(await catalogueSkus(config)).toEqual(SKUS);

    // No products file at all: the catalogue is kept, nothing to refuse.
    await night(config, B, await withProducts('catalogue-none'));
    expect(await catalogueSkus(config)).toEqual(SKUS);

    const accepted = await night(config, '2026-09-21', cut, true);
    expect(accepted.admission?.accepted?.map((v) => [v.check, v.tonight, v.lastNight])).toEqual([['catalogue', 2, 40]]);
    expect(await catalogueSkus(config)).toEqual(SKUS.slice(0, 2));
  });

  it('refuses products that lost their replenish_days column (every SKU there, none with a cycle), writing nothing', { timeout: 120_000 }, async () => {
    const config = await scenarioConfig(aws, 'catalogue-cycles-drop');
    const first = await night(config, A, await withProducts('catalogue-cycles-a', SKUS));
    expect(first.admission?.tonight).toMatchObject({ catalogueSkus: 40, catalogueCycleSkus: 40 });
    const renamed = await exportOf('catalogue-cycles-b', allParts);
    await writeFile(join(renamed, 'products.csv'), ['sku,name,replenish_day', ...SKUS.map((sku) => `${sku},Cream ${sku},30`)].join('\n') + '\n');
    const before = await everything(config);
    await expect(night(config, B, renamed)).rejects.toThrow(
      /2026-09-20 refused, nothing written: the products with a replenishment cycle \(replenish_days\) would fall by 100% \(were 40 SKUs, now 0\), more than the 20% allowed/,
    );
    expect(await everything(config)).toEqual(before);
    expect([...(await readCatalog(aws.clients.s3, config)).values()].map((product) => product.replenishDays)).toEqual(SKUS.map(() => 30));
  });

  it('counts SKUs, not rows: 40 rows naming 2 of the 40 SKUs are refused as 2 rows are', { timeout: 120_000 }, async () => {
    const config = await scenarioConfig(aws, 'catalogue-drop-rows');
    await night(config, A, await withProducts('catalogue-rows-a', SKUS));
    await expect(night(config, B, await withProducts('catalogue-rows-b', SKUS.map((_, k) => SKUS[k % 2] as string)))).rejects.toThrow(SHRUNK);
    expect(await catalogueSkus(config)).toEqual(SKUS);
  });

  it('compares a rerun with the catalogue of the last completed night, not the one a dead attempt of the night stored', { timeout: 120_000 }, async () => {
    const config = await scenarioConfig(aws, 'catalogue-drop-rerun');
    await night(config, A, await withProducts('catalogue-rerun-a', SKUS));
    const cut = await withProducts('catalogue-rerun-b', SKUS.slice(0, 2));
    // Accepted, the attempt stores the cut catalogue, then dies writing its summary.
    const dying = runNightly({ clock: Date.now, runDate: B, runId: 'dies', config, clients: failingPuts(aws.clients, 'summary.json'), source: directoryExportSource(cut), acceptDrop: true });
    await expect(dying).rejects.toThrow(/crash/);
    expect(await catalogueSkus(config)).toEqual(SKUS.slice(0, 2));
    await expireWriteLeases({ clients: aws.clients }, config, B);
    // Not accepted again: refused as a clean run is; accepted: recorded as a clean run records it.
    await expect(night(config, B, cut)).rejects.toThrow(SHRUNK);
    const accepted = await night(config, B, cut, true);
    expect(accepted.admission?.accepted?.map((v) => [v.check, v.tonight, v.lastNight])).toEqual([['catalogue', 2, 40]]);
    expect(accepted.admission?.tonight.catalogueSkus).toBe(2);
  });

  it('refuses it in a sharded night too', { timeout: 180_000 }, async () => {
    const config = await scenarioConfig(aws, 'catalogue-drop-sharded');
    const sharded = (runDate: string, path: string) =>
      runNightlySharded({ clock: Date.now, runDate, runId: `sharded-${runDate}`, config, clients: aws.clients, shards: 2, source: { kind: 'directory', path } });
    await sharded(A, await withProducts('catalogue-sharded-a', SKUS));
    await expect(sharded(B, await withProducts('catalogue-sharded-b', SKUS.slice(0, 2)))).rejects.toThrow(SHRUNK);
    expect(await catalogueSkus(config)).toEqual(SKUS);
  });
});
