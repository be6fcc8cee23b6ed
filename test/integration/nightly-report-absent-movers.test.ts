import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { runNightlySharded } from '#local/nightly/sharded-run.ts';
import type { Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { reportKey } from '#shared/nightly/publish-report.ts';
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

/** The night's own report.html: the 30-day block's sentence ("▲ 0 up · … · 2 unchanged"). */
async function windowSentenceOfNight(config: Config, runDate: string): Promise<string> {
  const object = await aws.clients.s3.send(new GetObjectCommand({ Bucket: config.storage.exportsBucket, Key: reportKey(config, runDate) }));
  const html = (await object.Body?.transformToString('utf-8')) ?? '';
  const legends = [...html.matchAll(/<p class="legend">(.*?)<\/p>/g)].map((m) => (m[1] ?? '').replace(/<[^>]+>/g, ''));
  // The night's block first, then the 30 days'.
  expect(legends.length).toBeGreaterThanOrEqual(2);
  return legends[1] ?? '';
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

      // The night's own report leaves c1 out from the night's count of absent clients.
      expect(await windowSentenceOfNight(config, GONE)).toBe('▲ 0 up · ▼ 0 down · ● 0 new · 2 unchanged');

      // A past night's report (the CLI's) reads the movers' absence marks instead.
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

  it('takes the absent clients the night counted without reading any profile', { timeout: 120_000 }, async () => {
    const config = await scenarioConfig(aws, 'absent-movers-given', {
      plausibility: { ...aws.config.plausibility, maxUpgradeShare: 0.5, maxNewlyAbsentShare: 0.5, maxDropShare: 0.6 },
    });
    await single(config, FIRST, await exportOf('given-first', { c1Upgraded: false, withC1: true }));
    await single(config, UPGRADE, await exportOf('given-upgrade', { c1Upgraded: true, withC1: true }));
    const gone = await single(config, GONE, await exportOf('given-gone', { c1Upgraded: true, withC1: false }));
    // A report of a big base's first 30 days would read every client's marks, 100 a request.
    const documents = {
      send: ((command: unknown) => {
        if (command instanceof BatchGetCommand) throw new Error('the report read profiles');
        return aws.clients.documents.send(command as never);
      }) as DynamoDBDocumentClient['send'],
    } as DynamoDBDocumentClient;
    const report = await gatherNightlyReport({ config, clients: { ...aws.clients, documents }, summary: gone, campaignResults: null, absentClients: new Set(['c1']) });
    expect(report.sinceWindowStart.matrix).toMatchObject({ moved: 0, total: 2 });
    expect(report.sinceWindowStart.matrix.counts.Core.Core).toBe(2);
    await expect(gatherNightlyReport({ config, clients: { ...aws.clients, documents }, summary: gone, campaignResults: null })).rejects.toThrow('the report read profiles');
  });
});
