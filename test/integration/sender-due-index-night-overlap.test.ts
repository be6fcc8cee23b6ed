import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AwsClients } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { WRITE_LEASE_MS, writeLeaseKey } from '#shared/nightly/write-lease.ts';
import { noteDueIndexFloor, readDueIndexFloors } from '#shared/store/due-index-store.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { acquireWriteLease, releaseWriteLease, type WriteLease } from '#shared/store/write-leases.ts';
import { campaignConfig, runCampaignHour } from '#test/support/campaign-runs.ts';
import { ledgerEntries } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { HOUR, MINUTE, at as local, iso } from '#test/support/time.ts';

/**
 * A night computes each profile's nextDueAt as of the sender's last indexed run, read once before
 * it writes; an hour may record a later run while the night writes. The night's writer notes the
 * instant it computed at as a floor, the hours read the index from it too, and only an hour that
 * started after the writer's lease ended clears it: no client the night wrote drops out of the index.
 */

const aws = sharedAws();
const work = scratchDir('due-index-night-overlap');
const SH = 'Asia/Shanghai';
const RUN_DATE = '2026-11-20';
const NIGHT_AT = local('2026-11-21 02:00', SH);
// Signed up so that the welcome (72 h, then the 72 h lookback) leaves the index at 01:30, between the hours 01:00 and 02:00.
const SIGNED_UP = NIGHT_AT - 30 * MINUTE - 144 * HOUR;
// The first order the night brings: its thanks' window is open from then for 72 h.
const FIRST_ORDER = local('2026-11-20 10:00', SH);

async function exportDir(name: string): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  const ids = ['c1', 'f1', 'f2', 'f3', 'f4', 'f5'];
  const customers = ids.map((id) => `${id},${id}@overlap.example.com,N,en,${SH},true,${id === 'c1' ? iso(SIGNED_UP) : '2025-01-01T00:00:00Z'}`);
  const orders = [`o-c1,c1,${iso(FIRST_ORDER)},120.00`, ...ids.slice(1).map((id) => `o-${id},${id},2026-06-10T10:00:00+08:00,800.00`)];
  await writeFile(join(dir, 'customers.csv'), ['customer_id,email,first_name,locale,time_zone,accepts_marketing,signed_up_at', ...customers].join('\n') + '\n');
  await writeFile(join(dir, 'orders.csv'), ['order_id,customer_id,ordered_at,line_total', ...orders].join('\n') + '\n');
  return dir;
}

const scenario = (name: string) =>
  campaignConfig(aws, name, {
    campaigns: { policy: { controlShare: 0, quietHours: undefined }, campaigns: [{ kind: 'welcome' }, { kind: 'first-purchase-thanks' }] },
    plausibility: { maxNewlyAbsentShare: 1, maxUpgradeShare: 1 },
  });

type DocumentCommand = { constructor: { name: string }; input: { TableName?: string; RequestItems?: Record<string, unknown> } };

/** The clients, with `before` run once ahead of the first command `matches` picks (then the command goes on as sent). */
function clientsBefore(matches: (command: DocumentCommand) => boolean, before: () => Promise<void>, after?: () => Promise<void>): AwsClients {
  const send = aws.clients.documents.send.bind(aws.clients.documents);
  const documents = Object.create(aws.clients.documents) as AwsClients['documents'];
  let done = false;
  documents.send = (async (command: DocumentCommand, ...rest: unknown[]) => {
    const first = !done && matches(command);
    if (first) {
      done = true;
      await before();
    }
    // The document client's overloads cannot be spelled for a wrapper; it passes the call on as it came.
    const output = await (send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
    if (first) await after?.();
    return output;
  }) as AwsClients['documents']['send'];
  return { ...aws.clients, documents };
}

const writesProfiles = (config: Config) => (command: DocumentCommand) =>
  command.constructor.name === 'BatchWriteCommand' && Object.keys(command.input.RequestItems ?? {}).includes(tableNames(config).profiles);

const readsProfiles = (config: Config) => (command: DocumentCommand) =>
  (command.constructor.name === 'QueryCommand' || command.constructor.name === 'ScanCommand') && command.input.TableName === tableNames(config).profiles;

/** Hours after the night (03:00 and on through the close of the thanks' window): the thanks c1 is owed, as the ledger records it. */
async function thanksAfterTheNight(config: Config, name: string): Promise<string[]> {
  for (const hour of ['2026-11-21 03:00', '2026-11-21 10:00', '2026-11-22 10:00', '2026-11-23 09:00', '2026-11-23 11:00', '2026-11-24 11:00']) {
    await runCampaignHour(aws, config, local(hour, SH), `${name}-${hour}`);
  }
  return (await ledgerEntries(aws, config)).filter((e) => e.customerId === 'c1' && e.campaignId === 'first-purchase-thanks').map((e) => e.status);
}

/** The hours before the night: the index exists, its last run 01:00 (the instant the night computes at). */
async function hoursBeforeTheNight(config: Config, name: string): Promise<void> {
  await runCampaignHour(aws, config, local('2026-11-21 00:00', SH), `${name}-0000`);
  await runCampaignHour(aws, config, local('2026-11-21 01:00', SH), `${name}-0100`);
}

const night = (config: Config, clients: AwsClients, runId: string, dir: string) =>
  runNightly({ clock: () => NIGHT_AT, runDate: RUN_DATE, runId, config, clients, source: directoryExportSource(dir), acceptDrop: false });

describe('the due index while a night writes', () => {
  it("an hour recorded while the night writes its profiles: the first-purchase thanks for the order the night brought still goes at 03:00, as without the overlap", { timeout: 300_000 }, async () => {
    const control = await scenario('overlap-control');
    await hoursBeforeTheNight(control, 'overlap-control');
    await night(control, aws.clients, 'overlap-control-night', await exportDir('overlap-control'));
    await runCampaignHour(aws, control, local('2026-11-21 02:00', SH), 'overlap-control-0200');
    expect(await thanksAfterTheNight(control, 'overlap-control')).toEqual(['sent']);

    const config = await scenario('overlap-raced');
    await hoursBeforeTheNight(config, 'overlap-raced');
    // The 02:00 hour runs and records itself just before the night's first profile write lands.
    let hour: unknown;
    const racing = clientsBefore(writesProfiles(config), async () => {
      hour = await runCampaignHour(aws, config, local('2026-11-21 02:00', SH), 'overlap-raced-0200');
    });
    await night(config, racing, 'overlap-raced-night', await exportDir('overlap-raced'));
    expect(hour).toBeDefined();
    // The night wrote c1 as of 01:00; its floor is there until an hour after the night re-indexes it.
    expect((await readDueIndexFloors(aws.clients.documents, tableNames(config).runs, NIGHT_AT)).map((floor) => floor.at)).toEqual([local('2026-11-21 01:00', SH)]);
    expect(await thanksAfterTheNight(config, 'overlap-raced')).toEqual(['sent']);
    expect(await readDueIndexFloors(aws.clients.documents, tableNames(config).runs, NIGHT_AT)).toEqual([]);
  });

  it('an attempt of the night that died after its profiles landed, retried: the retry rewrites nothing and keeps the older floor, and the thanks still goes', { timeout: 300_000 }, async () => {
    const config = await scenario('overlap-retried');
    const dir = await exportDir('overlap-retried');
    await hoursBeforeTheNight(config, 'overlap-retried');
    // The first attempt computes at 01:00; the 02:00 hour records itself while it writes; it dies right after (its lease freed).
    const dying = clientsBefore(
      writesProfiles(config),
      async () => void (await runCampaignHour(aws, config, local('2026-11-21 02:00', SH), 'overlap-retried-0200')),
      async () => {
        throw new Error('crash: the attempt died after its profiles landed');
      },
    );
    await expect(night(config, dying, 'overlap-retried-night', dir)).rejects.toThrow(/crash/);
    const written = await getProfile(aws.clients.documents, tableNames(config).profiles, 'c1');
    // The retry, under the same run id, computes at 02:00 and finds c1 written as it would write it.
    await night(config, aws.clients, 'overlap-retried-night', dir);
    expect(await getProfile(aws.clients.documents, tableNames(config).profiles, 'c1')).toEqual(written);
    expect((await readDueIndexFloors(aws.clients.documents, tableNames(config).runs, NIGHT_AT)).map((floor) => floor.at)).toEqual([local('2026-11-21 01:00', SH)]);
    expect(await thanksAfterTheNight(config, 'overlap-retried')).toEqual(['sent']);
  });

  it("a floor is cleared only by an hour that started after its writer's lease ended, and not when the writer noted it again since the hour read it", { timeout: 120_000 }, async () => {
    const config = await scenario('overlap-floors');
    const runs = tableNames(config).runs;
    const { documents } = aws.clients;
    const floors = async () => (await readDueIndexFloors(documents, runs, 0)).map(({ lease, at }) => ({ writer: lease.runDate, at }));
    const hourAt = (text: string) => local(`2026-11-21 ${text}`, SH);
    await runCampaignHour(aws, config, hourAt('00:00'), 'floors-0000');
    const lease = writeLeaseKey(RUN_DATE, 'floors-night', { kind: 'night' });
    const take = async (now: number): Promise<WriteLease> => {
      const outcome = await acquireWriteLease(documents, runs, lease, { holder: `writer-${now}`, now, durationMs: WRITE_LEASE_MS });
      if (!('acquired' in outcome)) throw new Error('lease not taken');
      return outcome.acquired;
    };

    // A writer holds its lease when the 01:00 hour starts, and ends while that hour reads the index.
    const writer = await take(hourAt('00:50'));
    await noteDueIndexFloor(documents, runs, lease, hourAt('00:00'));
    await runCampaignHour({ clients: clientsBefore(readsProfiles(config), async () => void (await releaseWriteLease(documents, runs, writer))) }, config, hourAt('01:00'), 'floors-0100');
    expect(await floors()).toEqual([{ writer: lease.runDate, at: hourAt('00:00') }]);
    // The 02:00 hour started after it ended: it read every value the writer wrote, and clears its floor.
    await runCampaignHour(aws, config, hourAt('02:00'), 'floors-0200');
    expect(await floors()).toEqual([]);

    // A retry of the writer: its first attempt died at 02:30 (the lease expires on its own), having computed at 02:00.
    await take(hourAt('02:30'));
    await noteDueIndexFloor(documents, runs, lease, hourAt('02:00'));
    // The 04:00 hour finds the lease ended; while it reads, the retry takes the lease and notes 03:00: the older floor stays, noted again.
    let retry: WriteLease | undefined;
    const retrying = clientsBefore(readsProfiles(config), async () => {
      retry = await take(hourAt('04:00'));
      await noteDueIndexFloor(documents, runs, lease, hourAt('03:00'));
    });
    await runCampaignHour({ clients: retrying }, config, hourAt('04:00'), 'floors-0400');
    // That hour may not clear it: the retry's values, computed at 03:00, came after its read.
    expect(await floors()).toEqual([{ writer: lease.runDate, at: hourAt('02:00') }]);
    if (retry === undefined) throw new Error('the retry did not run');
    await releaseWriteLease(documents, runs, retry);
    await runCampaignHour(aws, config, hourAt('05:00'), 'floors-0500');
    expect(await floors()).toEqual([]);
  });
  it("an hour judges a writer's lease on the clock it was taken on, not on its own simulated one", { timeout: 120_000 }, async () => {
    const config = await scenario('overlap-lease-clock');
    const runs = tableNames(config).runs;
    const { documents } = aws.clients;
    // On the emulators the CLI's nights take their leases on the real clock; its hours run a simulated one.
    const real = Date.now();
    const lastHour = Math.floor(real / HOUR) * HOUR - HOUR;
    await runCampaignHour(aws, config, lastHour, 'lease-clock-prev', { leaseClock: Date.now });
    const lease = writeLeaseKey(RUN_DATE, 'lease-clock-night', { kind: 'night' });
    const taken = await acquireWriteLease(documents, runs, lease, { holder: 'night-attempt', now: real, durationMs: WRITE_LEASE_MS });
    if (!('acquired' in taken)) throw new Error('lease not taken');
    await noteDueIndexFloor(documents, runs, lease, lastHour);
    // An operator runs the coming hour 55 minutes early (the CLI allows it): the night still writes.
    await runCampaignHour(aws, config, real + 55 * MINUTE, 'lease-clock-early', { leaseClock: Date.now });
    const left = await readDueIndexFloors(documents, runs, Date.now());
    expect(left.map(({ lease: { runDate }, writing }) => ({ writer: runDate, writing }))).toEqual([{ writer: lease.runDate, writing: true }]);
    await releaseWriteLease(documents, runs, taken.acquired);
  });
});
