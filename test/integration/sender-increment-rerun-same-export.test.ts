import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AwsClients } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import { directoryExportSource, type ExportSource } from '#shared/exports/source.ts';
import { combineWorkMeasures, finishFromWork, measureShardToWork, planNight, repartitionToWork, writeShardFromWork } from '#shared/nightly/distributed.ts';
import { nightContext, runNightly } from '#shared/nightly/run.ts';
import { shardsOf } from '#shared/nightly/shards.ts';
import { NIGHTLY_JOB, type NightlyRunSummary } from '#shared/nightly/summary.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { getRun } from '#shared/store/runs-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignConfig, runCampaignHour } from '#test/support/campaign-runs.ts';
import { aroundDocuments } from '#test/support/crashing-clients.ts';
import { dropIncrement } from '#test/support/emulator-data.ts';
import { exportDir } from '#test/support/export-files.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { iso, at as local } from '#test/support/time.ts';

/**
 * A night that dies while writing is left failed while the next hour merges the morning's increment,
 * then rerun (README, What an incremental export changes, After the night). Rerun on the export its
 * first attempt read, its snapshot is no newer than that attempt's start: the increments stamped
 * since are newer, and the hour after the rerun puts back their contact details and consent, as
 * after a night done at 02:00. Rerun on a re-dumped export, the snapshot may be newer than they are:
 * its details stand.
 */
const aws = sharedAws();
const SH = 'Asia/Shanghai';
const CUSTOMERS_HEADER = 'customer_id,email,first_name,locale,time_zone,accepts_marketing\n';
const ORDERS_HEADER = 'order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,currency,status,refunded_amount\n';
const WRITES = new Set(['BatchWriteCommand', 'PutCommand', 'UpdateCommand', 'DeleteCommand', 'TransactWriteCommand']);

const FIRST_ATTEMPT = local('2026-03-07 02:00', SH);
const RERUN = local('2026-03-07 11:30', SH);
const IDS = ['s01', 's02', 's03', 's04', 's05', 's06', 's07', 's08', 's09', 's10', 's11', 's12'];
/** Snapshot consent: s06 and s08 said no; everyone else yes. */
const consentOf = (id: string) => !['s06', 's08'].includes(id);
const row = (id: string, email = `${id}@example.com`) => `${id},${email},Ada,en,${SH},${String(consentOf(id))}\n`;

const orderOf = (id: string, orderedAt: string) => `o-${id}-${orderedAt.slice(0, 10)},${id},${orderedAt},SKU-1,Cream,skincare,1,120.00,USD,paid,\n`;

/** Night 03-05's export; night 03-06's (`secondNight`) has everyone's order of 03-06 too: every profile is written. */
function exportFiles(secondNight: boolean, addresses: Record<string, string> = {}): Record<string, string> {
  const orders = IDS.map((id, i) => orderOf(id, `2026-02-${String(10 + i).padStart(2, '0')}T12:00:00+08:00`) + (secondNight ? orderOf(id, '2026-03-06T15:00:00+08:00') : ''));
  return { 'customers.csv': CUSTOMERS_HEADER + IDS.map((id) => row(id, addresses[id])).join(''), 'orders.csv': ORDERS_HEADER + orders.join('') };
}

/** Clients whose process dies once a write to the profiles table has landed (the night's first batch of profiles). */
function diesAfterFirstProfileWrite(config: Config): { clients: AwsClients; settled: () => Promise<unknown> } {
  const profiles = tableNames(config).profiles;
  let dead = false;
  const inFlight: Promise<unknown>[] = [];
  const clients = aroundDocuments(aws.clients, async (name, input, go) => {
    if (dead) throw new Error('crash: the process died here');
    const sent = go();
    inFlight.push(sent);
    const tables = [input.TableName, ...Object.keys((input as { RequestItems?: Record<string, unknown> }).RequestItems ?? {})];
    if (WRITES.has(name) && tables.includes(profiles)) {
      dead = true;
      await sent;
      throw new Error('crash: died after its first profile write landed');
    }
    return sent;
  });
  return { clients, settled: () => Promise.allSettled(inFlight) };
}

/** Night 2026-03-06 in one process. */
function oneRun(config: Config, clients: AwsClients, source: ExportSource, clock: number, runId: string): Promise<NightlyRunSummary> {
  return runNightly({ clock: () => clock, runDate: '2026-03-06', runId, config, clients, source });
}

/** Night 2026-03-06 in 4 shards, phase by phase as the state machine runs them; `dyingWrite` (shard 1's) with its own clients. */
async function fourShards(config: Config, source: ExportSource, clock: number, runId: string, dyingWrite?: AwsClients): Promise<NightlyRunSummary> {
  const context = (clients: AwsClients) => nightContext({ runDate: '2026-03-06', runId, config, clients, clock: () => clock });
  const clean = context(aws.clients);
  const { readers } = await planNight(clean, 4, source);
  for (const reader of readers) await repartitionToWork(clean, { shards: 4, reader }, source);
  for (const shard of shardsOf(4)) await measureShardToWork(clean, shard);
  await combineWorkMeasures(clean, { shards: 4, startedAt: clock });
  for (const shard of shardsOf(4)) await writeShardFromWork(shard.index === 1 && dyingWrite ? context(dyingWrite) : clean, shard);
  return finishFromWork(clean, { shards: 4, startedAt: clock }, source);
}

type Mode = 'one run' | '4 shards';

/**
 * Night 03-05 at 03-06 02:00; night 03-06 begun at 03-07 02:00, dying after its first profile batch;
 * the 11:00 hour merges the 01:40 and 10:50 increments; the night rerun at 11:30 on its export, or
 * on `redumped` written over it; the 19:00 hour. Returns what the 19:00 hour left, and the night's runs item.
 */
async function scenario(name: string, mode: Mode, redumped?: Record<string, string>) {
  const config = await campaignConfig(aws, name, { plausibility: { maxUnexplainedLapseShare: 1, maxDropShare: 1, maxDowngradeShare: 1, maxUpgradeShare: 1 } });
  const tables = tableNames(config);
  const night1 = directoryExportSource(await exportDir(exportFiles(false)));
  await runNightly({ clock: () => local('2026-03-06 02:00', SH), runDate: '2026-03-05', runId: `${name}-n1`, config, clients: aws.clients, source: night1 });

  const night2Dir = await exportDir(exportFiles(true));
  const night2 = directoryExportSource(night2Dir);
  const dying = diesAfterFirstProfileWrite(config);
  const first = mode === 'one run' ? oneRun(config, dying.clients, night2, FIRST_ATTEMPT, `${name}-n2`) : fourShards(config, night2, FIRST_ATTEMPT, `${name}-n2`, dying.clients);
  await expect(first).rejects.toThrow(/crash/);
  await dying.settled();

  // 01:40, after the cut-off, before the night began: s08 says yes (the snapshot says no; which came last cannot be told).
  await dropIncrement(aws, config, '2026-03-07T0140', { 'customers.csv': 'customer_id,accepts_marketing\ns08,true\n' });
  // 08:00 s05 changes her address; s06 says yes, s07 no (dropped 10:50).
  await dropIncrement(aws, config, '2026-03-07T1050', {
    'customers.csv': `${CUSTOMERS_HEADER}s05,s05.new@example.com,Ada,en,${SH},\ns06,s06@example.com,Ada,en,${SH},true\ns07,s07@example.com,Ada,en,${SH},false\n`,
  });
  await runCampaignHour(aws, config, local('2026-03-07 11:00', SH), `${name}-h11`);
  const at11 = await getProfile(aws.clients.documents, tables.profiles, 's05');

  // A re-dump: other bytes where the export was.
  for (const [file, text] of Object.entries(redumped ?? {})) await writeFile(join(night2Dir, file), text);
  const again = directoryExportSource(night2Dir);
  const rerun = mode === 'one run' ? await oneRun(config, aws.clients, again, RERUN, `${name}-n2-again`) : await fourShards(config, again, RERUN, `${name}-n2-again`);
  const h19 = await runCampaignHour(aws, config, local('2026-03-07 19:00', SH), `${name}-h19`);
  const profile = async (id: string) => {
    const p = await getProfile(aws.clients.documents, tables.profiles, id);
    return { email: p?.email, nightEmail: p?.nightEmail, acceptsMarketing: p?.acceptsMarketing };
  };
  const item = await getRun<NightlyRunSummary>(aws.clients.documents, tables.runs, { job: NIGHTLY_JOB, runDate: '2026-03-06' });
  return {
    at11: at11?.email,
    rerun: { runId: rerun.runId, snapshotBy: item?.snapshotBy, startedAt: item?.startedAt },
    remerged: h19.ingested.remerged,
    s05: await profile('s05'),
    s06: (await profile('s06')).acceptsMarketing,
    s07: (await profile('s07')).acceptsMarketing,
    s08: (await profile('s08')).acceptsMarketing,
  };
}

describe.each<Mode>(['one run', '4 shards'])('a night dead while writing, the next hour, then the night rerun (%s)', (mode) => {
  const tag = mode === 'one run' ? 'one' : 'four';

  it('rerun on the export its first attempt read: the hour after puts back the address and the consent of the increment stamped after that attempt began', { timeout: 600_000 }, async () => {
    const result = await scenario(`rerun-same-export-${tag}`, mode);
    expect(result).toEqual({
      at11: 's05.new@example.com',
      // The snapshot was dumped by the first attempt's start.
      rerun: { runId: `rerun-same-export-${tag}-n2-again`, snapshotBy: iso(FIRST_ATTEMPT), startedAt: iso(RERUN) },
      remerged: expect.arrayContaining([expect.objectContaining({ folder: '2026-03-07T1050' })]),
      // As after a night done at 02:00: her new address, the night's kept for her orders under it.
      s05: { email: 's05.new@example.com', nightEmail: 's05@example.com', acceptsMarketing: true },
      s06: true,
      s07: false,
      // Stamped before the night began: its yes does not undo the snapshot's no.
      s08: false,
    });
  });

  it('rerun on a re-dumped export: the snapshot may be newer than the morning\'s increments, its address stands', { timeout: 600_000 }, async () => {
    // The platform dumped the export again (after the 08:00 change, and with her address as it now has it).
    const result = await scenario(`rerun-redumped-${tag}`, mode, exportFiles(true, { s05: 's05.fixed@example.com' }));
    expect(result).toEqual({
      at11: 's05.new@example.com',
      rerun: { runId: `rerun-redumped-${tag}-n2-again`, snapshotBy: iso(RERUN), startedAt: iso(RERUN) },
      remerged: expect.arrayContaining([expect.objectContaining({ folder: '2026-03-07T1050' })]),
      s05: { email: 's05.fixed@example.com', nightEmail: undefined, acceptsMarketing: true },
      // A no from either stands; the 10:50 yes cannot be ordered against the snapshot's no.
      s06: false,
      s07: false,
      s08: false,
    });
  });
});
