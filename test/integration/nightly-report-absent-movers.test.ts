import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runNightlySharded } from '#local/nightly/sharded-run.ts';
import type { Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { gatherNightlyReport } from '#shared/nightly/report.ts';
import { runNightly } from '#shared/nightly/run.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';

/**
 * The report's tier migration matrices count tonight's clients. A client who moved up a tier in
 * the 30-day window and is in no file of tonight's export keeps their tier history, but is not in
 * tonight's tier counts: counted as a mover, they took a stayer's place on the diagonal.
 */

const aws = sharedAws();
const work = scratchDir('report-absent-movers');
const SH = 'Asia/Shanghai';
/** The first night lies before the 30-day window of the last; the upgrade lies inside it. */
const [FIRST, UPGRADE, GONE] = ['2026-10-01', '2026-11-08', '2026-11-10'] as const;

/** c1 an Entry client who becomes Core on UPGRADE; c2 and c3 Core throughout. */
async function exportOf(name: string, options: { c1Upgraded: boolean; withC1: boolean }): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  const ids = options.withC1 ? ['c1', 'c2', 'c3'] : ['c2', 'c3'];
  const customers = ids.map((id) => `${id},${id}@movers.example.com,N,en,${SH},true`);
  const orders = ['o2,c2,2026-09-10T10:00:00+08:00,6000.00', 'o3,c3,2026-09-11T10:00:00+08:00,6000.00'];
  if (options.withC1) orders.push('o1,c1,2026-09-12T10:00:00+08:00,800.00');
  if (options.withC1 && options.c1Upgraded) orders.push('o1b,c1,2026-11-05T10:00:00+08:00,5000.00');
  await writeFile(join(dir, 'customers.csv'), ['customer_id,email,first_name,locale,time_zone,accepts_marketing', ...customers].join('\n') + '\n');
  await writeFile(join(dir, 'orders.csv'), ['order_id,customer_id,ordered_at,line_total', ...orders].join('\n') + '\n');
  return dir;
}

type Night = (config: Config, runDate: string, dir: string) => Promise<NightlyRunSummary>;
const single: Night = (config, runDate, dir) =>
  runNightly({ clock: Date.now, runDate, runId: `n-${runDate}`, config, clients: aws.clients, source: directoryExportSource(dir) });
const twoShards: Night = (config, runDate, path) =>
  runNightlySharded({ clock: Date.now, runDate, runId: `s-${runDate}`, config, clients: aws.clients, shards: 2, source: { kind: 'directory', path } });

describe('tier migration matrices with a mover absent tonight', () => {
  for (const [name, night] of [['single', single], ['two shards', twoShards]] as const) {
    it(`leaves the absent mover out and keeps the stayers on the diagonal (${name})`, { timeout: 120_000 }, async () => {
      // One client of three moving up, then missing, is far above what a real base does in a night.
      const config = await scenarioConfig(aws, `absent-movers-${name.replace(' ', '-')}`, {
        plausibility: { ...aws.config.plausibility, maxUpgradeShare: 0.5, maxNewlyAbsentShare: 0.5, maxDropShare: 0.6 },
      });
      await night(config, FIRST, await exportOf(`${name}-first`, { c1Upgraded: false, withC1: true }));
      const upgrade = await night(config, UPGRADE, await exportOf(`${name}-upgrade`, { c1Upgraded: true, withC1: true }));
      expect(upgrade.changes.upgrades).toBe(1);
      const gone = await night(config, GONE, await exportOf(`${name}-gone`, { c1Upgraded: true, withC1: false }));
      expect(gone.admission?.tonight).toMatchObject({ newlyAbsent: 1 });
      expect(gone.distribution.tiers.Core.clients).toBe(2);

      const report = await gatherNightlyReport({ config, clients: aws.clients, summary: gone, campaignResults: null });
      const window = report.sinceWindowStart.matrix;
      // c2 and c3 stayed Core; c1 (Entry → Core on 11-08) is not among tonight's clients.
      expect(window.counts.Core.Core).toBe(2);
      expect(window.counts.Entry.Core).toBe(0);
      expect(window).toMatchObject({ moved: 0, total: 2 });
      expect(report.sincePreviousNight.matrix).toMatchObject({ moved: 0, total: 2 });

      // The night of the upgrade, before c1 went: the move is shown.
      const before = await gatherNightlyReport({ config, clients: aws.clients, summary: upgrade, campaignResults: null });
      expect(before.sinceWindowStart.matrix.counts.Entry.Core).toBe(1);
    });
  }
});
