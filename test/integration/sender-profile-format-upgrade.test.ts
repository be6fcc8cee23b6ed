import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import type { CampaignsConfigInput } from '#shared/campaigns/schema.ts';
import type { Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { jsonLog } from '#shared/log.ts';
import { PROFILE_FORMAT } from '#shared/model.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { NIGHTLY_JOB } from '#shared/nightly/summary.ts';
import { profileDigest } from '#shared/nightly/diff.ts';
import { DUE_INDEX_STATE_KEY } from '#shared/store/due-index-store.ts';
import { getProfile, type ProfileItem } from '#shared/store/profile-store.ts';
import { getRun, putRun, recentRuns, type RunItem } from '#shared/store/runs-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignConfig, runCampaignHour } from '#test/support/campaign-runs.ts';
import { dropIncrement, ledgerEntries } from '#test/support/emulator-data.ts';
import { csv, exportDir, LENIENT_GUARDS, removeExportDirs } from '#test/support/export-files.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { at as local } from '#test/support/time.ts';

/**
 * An upgrade from a version before the per-unit personal cycle (b3e97e7), e.g. 679125d: its nights
 * stored personalCycleDays as the median gap between purchase days and quantity as the last day's
 * units, and recorded no profile format. Read per unit by this version, C1's serum (bought twice
 * two weeks apart, a year apart) would run out 14 × 3 = 42 days after its last purchase: a reminder
 * due now, that no version sends (this version's night finds a unit lasts 182.5 days), and that
 * would use up the purchase's real key. The hours wait for the first night of this version instead,
 * then send what this version alone sends. A deployment with no completed night is not held.
 */

const aws = sharedAws();
const SH = 'Asia/Shanghai';
const SKU = 'SK-SER-02';
const campaigns = {
  policy: { controlShare: 0 },
  campaigns: [{ kind: 'welcome' }, { kind: 'replenishment', replenishableCategories: ['skincare'] }],
} as CampaignsConfigInput;

afterAll(removeExportDirs);

const line = (order: string, customer: string, day: string, quantity: number, sku = SKU) => [order, customer, `${day}T10:00:00+08:00`, sku, 'Vitamin C Serum', 'skincare', quantity, (quantity * 60).toFixed(2)];
const exportFiles = () =>
  exportDir({
    'customers.csv': csv([
      ['customer_id', 'email', 'accepts_marketing', 'time_zone'],
      ['C1', 'c1@upgrade-format.example.com', 'true', SH],
      ['C2', 'c2@upgrade-format.example.com', 'true', SH],
    ]),
    'orders.csv': csv([
      ['order_id', 'customer_id', 'ordered_at', 'sku', 'product_name', 'category', 'quantity', 'line_total'],
      // Two stock-ups a year apart, each of two purchase days 14 days apart (closer than the reminder's 15 days).
      line('O1', 'C1', '2025-10-06', 1),
      line('O2', 'C1', '2025-10-20', 1),
      line('O3', 'C1', '2026-10-06', 1),
      line('O4', 'C1', '2026-10-20', 3),
      // A first order the day before the upgrade: the welcome, which the hours after it send (within 72 hours).
      line('O5', 'C2', '2026-11-23', 1, 'LP-01'),
    ]),
  });

const NIGHT_1 = { runDate: '2026-11-23', at: local('2026-11-24 02:00', SH) };
const UPGRADE_HOUR = local('2026-11-24 17:00', SH);
const NIGHT_2 = { runDate: '2026-11-24', at: local('2026-11-25 02:00', SH) };
const NEXT_HOUR = local('2026-11-25 09:00', SH);

function night(config: Config, dir: string, step: { runDate: string; at: number }, runId: string) {
  return runNightly({ config, clients: aws.clients, source: directoryExportSource(dir), runDate: step.runDate, runId, clock: () => step.at, acceptDrop: true });
}

function logLines(): { log: ReturnType<typeof jsonLog>; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { log: jsonLog({ level: 'warn', write: (text) => lines.push(JSON.parse(text) as Record<string, unknown>) }), lines };
}

const sentAfter = async (config: Config, since: number) =>
  (await ledgerEntries(aws, config))
    .filter((e) => e.status === 'sent' && e.claimedAt >= since)
    .map((e) => `${e.customerId} ${e.occasionKey}`)
    .sort();

/** Night 1's profile of C1 and its runs item as 679125d wrote them; the due index's state of that version's fingerprint. */
async function asWrittenBy679125d(config: Config): Promise<void> {
  const tables = tableNames(config);
  const stored = (await getProfile(aws.clients.documents, tables.profiles, 'C1')) as ProfileItem;
  const { stockUpFrom: _stockUp, ...purchase } = stored.skus[SKU]!; // written by night 1 above
  // 679125d: the median gap between purchase days (14, 351, 14), the last day's units, no stock-up start.
  const old = { ...stored, skus: { ...stored.skus, [SKU]: { ...purchase, personalCycleDays: 14, quantity: 3 } } };
  await aws.clients.documents.send(new PutCommand({ TableName: tables.profiles, Item: { ...old, digest: profileDigest(old) } }));
  const item = (await getRun<RunItem & { profileFormat?: number }>(aws.clients.documents, tables.runs, { job: NIGHTLY_JOB, runDate: NIGHT_1.runDate }))!;
  const { profileFormat: _format, ...olderItem } = item;
  await putRun(aws.clients.documents, tables.runs, olderItem);
  await aws.clients.documents.send(new PutCommand({ TableName: tables.runs, Item: { ...DUE_INDEX_STATE_KEY, lastRunAt: local('2026-11-24 09:00', SH), fingerprint: 'as-679125d-hashed-it' } }));
}

describe('an upgrade from a version whose profiles meant something else: the hours wait for its first night', () => {
  it('holds the hours until a night of this version completes, then sends what this version alone sends', { timeout: 300_000 }, async () => {
    const dir = await exportFiles();
    const overrides = { campaigns, plausibility: LENIENT_GUARDS.plausibility };
    const headOnly = await campaignConfig(aws, 'format-head-only', overrides);
    const upgraded = await campaignConfig(aws, 'format-upgraded', overrides);

    // This version all along.
    const first = await night(headOnly, dir, NIGHT_1, 'head-1');
    expect(first.profileFormat).toBe(PROFILE_FORMAT);
    expect((await getProfile(aws.clients.documents, tableNames(headOnly).profiles, 'C1'))?.skus[SKU]).toMatchObject({ personalCycleDays: 182.5, quantity: 4 });
    const headHour = await runCampaignHour(aws, headOnly, UPGRADE_HOUR, 'head-17');
    expect(headHour.held).toBeUndefined();
    await night(headOnly, dir, NIGHT_2, 'head-2');
    await runCampaignHour(aws, headOnly, NEXT_HOUR, 'head-09');
    const headSent = await sentAfter(headOnly, UPGRADE_HOUR);
    expect(headSent).toEqual(['C2 welcome']);

    // 679125d's night, then this version's hour: nothing decided or sent, and why.
    await night(upgraded, dir, NIGHT_1, 'old-1');
    await asWrittenBy679125d(upgraded);
    const { log, lines } = logLines();
    const held = await runCampaignHour(aws, upgraded, UPGRADE_HOUR, 'up-17', { log });
    expect(held.held).toMatchObject({ reason: 'waiting-for-night', lastNight: NIGHT_1.runDate, format: PROFILE_FORMAT });
    expect(held.selection).toEqual({ mode: 'held', reindexed: 0 });
    expect(held.clientsDue).toBe(0);
    expect(await sentAfter(upgraded, UPGRADE_HOUR)).toEqual([]);
    expect(await ledgerEntries(aws, upgraded)).toEqual([]);
    const waiting = lines.filter((l) => l.alert === 'waiting-for-night');
    expect(waiting).toHaveLength(1);
    expect(waiting[0]).toMatchObject({ level: 'warn', lastNight: NIGHT_1.runDate, format: PROFILE_FORMAT });
    expect(String(waiting[0]?.msg ?? waiting[0]?.message)).toContain('waiting for the first night of this version');
    // Its record in the runs table says so (clientele status).
    const [record] = await runsOfHour(upgraded);
    expect(record).toMatchObject({ held: 'waiting-for-night' });

    // This version's first night: the profiles in its format, and the hours send as this version alone does.
    const upgradeNight = await night(upgraded, dir, NIGHT_2, 'up-2');
    expect(upgradeNight.profileFormat).toBe(PROFILE_FORMAT);
    expect((await getProfile(aws.clients.documents, tableNames(upgraded).profiles, 'C1'))?.skus[SKU]).toMatchObject({ personalCycleDays: 182.5, quantity: 4 });
    const after = await runCampaignHour(aws, upgraded, NEXT_HOUR, 'up-09');
    expect(after.held).toBeUndefined();
    expect(await sentAfter(upgraded, UPGRADE_HOUR)).toEqual(headSent);
    expect((await ledgerEntries(aws, upgraded)).filter((e) => e.campaignId === 'replenishment')).toEqual([]);
  });

  it('does not hold a new deployment: no night has completed, an increment\'s client is welcomed the same hour', { timeout: 120_000 }, async () => {
    const config = await campaignConfig(aws, 'format-first-deploy', { campaigns });
    // A night being written, the first: its profiles are this version's.
    await putRun(aws.clients.documents, tableNames(config).runs, { job: NIGHTLY_JOB, runDate: '2026-11-23', status: 'writing', runId: 'first-night', startedAt: new Date(NIGHT_1.at).toISOString() });
    await dropIncrement(aws, config, '2026-11-24T1000', {
      'customers.csv': 'customer_id,email,accepts_marketing\nN1,n1@upgrade-format.example.com,true\n',
      'orders.csv': 'order_id,customer_id,ordered_at,sku,quantity,line_total\nON1,N1,2026-11-24T10:00:00+08:00,LP-01,1,60.00\n',
      '_manifest.json': JSON.stringify({ mode: 'incremental' }),
    });
    const hour = await runCampaignHour(aws, config, UPGRADE_HOUR, 'first-17');
    expect(hour.held).toBeUndefined();
    expect(hour.ingested.newClients).toBe(1);
    expect(await sentAfter(config, UPGRADE_HOUR)).toEqual(['N1 welcome']);
  });
});

/** The campaign sender's records in the runs table, newest first. */
async function runsOfHour(config: Config): Promise<Record<string, unknown>[]> {
  return recentRuns<RunItem>(aws.clients.documents, tableNames(config).runs, 'campaigns', '~', { limit: 5 });
}
