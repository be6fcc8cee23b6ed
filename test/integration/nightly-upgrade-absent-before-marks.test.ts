import { ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import type { Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { NIGHTLY_JOB } from '#shared/nightly/summary.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { exportFolder, scratchDir } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { at as local } from '#test/support/time.ts';

/**
 * The first night after upgrading from a version before absence marks (679125d and earlier, before
 * 2026-12-05): those versions left the clients the platform deleted unmarked, and this version's
 * first night found them all unmarked and counted every one as newly absent: with one client
 * deleted a night for a few nights, it was refused (attack-upgrade probe 4), where this version all
 * along completes each night. The state is written here as such a version left it: profiles without
 * absentSince, and nights' summaries whose admission counts no absent clients.
 */

const aws = sharedAws();
const SH = 'Asia/Shanghai';
const work = scratchDir('nightly-upgrade-absent-before-marks');
const CLIENTS = 100;
const id = (i: number) => `C${String(i).padStart(3, '0')}`;

/** The export with the clients the platform has not deleted: C001 … C(deleted) are gone. */
async function exportWithout(name: string, deleted: number, alsoLost = 0): Promise<string> {
  const kept = Array.from({ length: CLIENTS - alsoLost }, (_, i) => i + 1).filter((i) => i > deleted);
  return exportFolder(work, name, {
    'customers.csv': [['customer_id', 'email', 'accepts_marketing'], ...kept.map((i) => [id(i), `${id(i).toLowerCase()}.upgrade@example.com`, 'true'])],
    'orders.csv': [['order_id', 'customer_id', 'ordered_at', 'sku', 'line_total'], ...kept.map((i) => [`O${i}`, id(i), '2026-10-01T10:00:00+08:00', 'SKU-1', String(100 + i)])],
  });
}

const night = async (config: Config, runDate: string, dir: string, acceptDrop = false) =>
  runNightly({ runDate, runId: `${runDate}-${Math.random().toString(36).slice(2, 8)}`, config, clients: aws.clients, clock: () => local(`${runDate} 02:00`, SH) + 86_400_000, source: directoryExportSource(dir), acceptDrop });

/**
 * Nights of 11-21 (every client) and 11-22 (C001-C004 deleted meanwhile), then what a version before
 * absence marks would have left of them: no absentSince on any profile, no absent counts in the
 * summaries (679125d's admission.tonight: the figures and downgrades only).
 */
async function upgradedBase(name: string): Promise<Config> {
  const config = await scenarioConfig(aws, name, { maxRejectShare: 1 });
  await night(config, '2026-11-21', await exportWithout(`${name}-21`, 0));
  await night(config, '2026-11-22', await exportWithout(`${name}-22`, 4), true);
  const tables = tableNames(config);
  for (let i = 1; i <= 4; i++) {
    await aws.clients.documents.send(new UpdateCommand({ TableName: tables.profiles, Key: { customerId: id(i) }, UpdateExpression: 'REMOVE absentSince' }));
  }
  for (const runDate of ['2026-11-21', '2026-11-22']) {
    await aws.clients.documents.send(
      new UpdateCommand({
        TableName: tables.runs,
        Key: { job: NIGHTLY_JOB, runDate },
        UpdateExpression: 'REMOVE admission.tonight.newlyAbsent, admission.tonight.stillAbsent, admission.tonight.seenBefore, admission.tonight.absentBeforeMarking, admission.accepted',
      }),
    );
  }
  const marked = await aws.clients.documents.send(new ScanCommand({ TableName: tables.profiles, FilterExpression: 'attribute_exists(absentSince)' }));
  expect(marked.Count).toBe(0);
  return config;
}

describe('the first night after upgrading from a version before absence marks', () => {
  it('marks the clients missing since before it without counting them, and counts the ones the export lost tonight; the next night counts as usual', { timeout: 300_000 }, async () => {
    const config = await upgradedBase('deleted-before');
    // C005 deleted since 11-22: one newly absent of 96 (1%); C001-C004 missing since before.
    const first = await night(config, '2026-11-23', await exportWithout('deleted-before-23', 5));
    expect(first.admission?.tonight).toMatchObject({ newlyAbsent: 1, absentBeforeMarking: 4, stillAbsent: 0 });
    expect(first.admission?.accepted).toBeUndefined();
    const profiles = tableNames(config).profiles;
    for (let i = 1; i <= 5; i++) expect(await getProfile(aws.clients.documents, profiles, id(i))).toMatchObject({ absentSince: '2026-11-23' });
    expect(await getProfile(aws.clients.documents, profiles, id(6))).not.toHaveProperty('absentSince');

    const next = await night(config, '2026-11-24', await exportWithout('deleted-before-24', 5));
    expect(next.admission?.tonight).toMatchObject({ newlyAbsent: 0, stillAbsent: 5 });
    expect(next.admission?.tonight).not.toHaveProperty('absentBeforeMarking');
  });

  it('still refuses an export that lost clients that night: those the last night had and tonight lacks are counted', { timeout: 300_000 }, async () => {
    const config = await upgradedBase('lost-tonight');
    // The last 11 clients' rows lost with a part (11% of 96: under the 20% drop share, over the 2% of newly absent).
    await expect(night(config, '2026-11-23', await exportWithout('lost-tonight-23', 4, 11))).rejects.toThrow(
      /11 clients are in no file of tonight's export \(no customer row, no order line\), 11\.46% of the 96 clients of 2026-11-22/,
    );
  });
});
