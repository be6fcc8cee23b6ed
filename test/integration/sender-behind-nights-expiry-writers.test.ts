import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AwsClients } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignConfig, countsOf, runCampaignHour } from '#test/support/campaign-runs.ts';
import { dropIncrement, ledgerEntries } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { at } from '#test/support/time.ts';

/**
 * The expiry horizon (DueIndexState.expiryFrom) and the writers that read it: a night writer that
 * read expiryFrom computes its values keeping every window closed since it (keptClosedSince), so it
 * notes its floor as of a lookback after expiryFrom (dueIndexingForWrites): if the catch-up hour
 * clears expiryFrom while that writer still writes (the next night, started before the first hour
 * after the backfill), the hours after still read the values it wrote, which point at a window
 * closed days ago, and her next occasions (a birthday) go. And the catch-up hour keeps expiryFrom
 * when it left a client to the next hour (a night rewrote her after its ingest). Found by
 * attack-fixes38b: the client left the index for good; her held window was never recorded.
 */

const aws = sharedAws();
const work = scratchDir('sender-behind-nights-expiry-writers');

interface Client {
  id: string;
  name: string;
}
const ORDER_HEADER = 'order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,currency,status,refunded_amount';
// X and K last ordered on 2025-12-25: win-back windows from 02-23 to 03-25 00:00 (closed while held). Both born on 03-30.
const ORDERS = [
  'x-1,X,2025-12-25T10:00:00+08:00,BAG,Bag,leather-goods,1,2400.00,USD,paid,',
  'k-1,K,2025-12-25T10:00:00+08:00,BAG,Bag,leather-goods,1,2400.00,USD,paid,',
];

async function night(config: Config, runDate: string, runAt: number, clients: Client[], awsClients: AwsClients = aws.clients): Promise<void> {
  const dir = join(work, config.storage.exportsPrefix, runDate);
  await mkdir(dir, { recursive: true });
  const customers = ['customer_id,email,first_name,locale,time_zone,accepts_marketing,birthday', ...clients.map((c) => `${c.id},${c.id.toLowerCase()}@floor.example.com,${c.name},en,Asia/Shanghai,true,1990-03-30`)];
  await writeFile(join(dir, 'customers.csv'), `${customers.join('\n')}\n`);
  await writeFile(join(dir, 'orders.csv'), `${[ORDER_HEADER, ...ORDERS].join('\n')}\n`);
  await writeFile(join(dir, 'products.csv'), 'sku,name,category,replenish_days,price\nBAG,Bag,leather-goods,,2400\n');
  await runNightly({ clock: () => runAt, runDate, runId: `n-${runDate}`, config, clients: awsClients, source: directoryExportSource(dir) });
}

type DocumentCommand = { constructor: { name: string }; input: { TableName?: string; RequestItems?: Record<string, unknown> } };

/** The clients, with `before` run once ahead of the first command `matches` picks (as sender-due-index-night-overlap.test.ts). */
function clientsBefore(matches: (command: DocumentCommand) => boolean, before: () => Promise<void>): AwsClients {
  const send = aws.clients.documents.send.bind(aws.clients.documents);
  const documents = Object.create(aws.clients.documents) as AwsClients['documents'];
  let done = false;
  documents.send = (async (command: DocumentCommand, ...rest: unknown[]) => {
    if (!done && matches(command)) {
      done = true;
      await before();
    }
    // The document client's overloads cannot be spelled for a wrapper; it passes the call on as it came.
    return (send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
  }) as AwsClients['documents']['send'];
  return { ...aws.clients, documents };
}

const readsProfiles = (config: Config) => (command: DocumentCommand) =>
  (command.constructor.name === 'QueryCommand' || command.constructor.name === 'ScanCommand') && command.input.TableName === tableNames(config).profiles;

const writesProfiles = (config: Config) => (command: DocumentCommand) =>
  command.constructor.name === 'BatchWriteCommand' && Object.keys(command.input.RequestItems ?? {}).includes(tableNames(config).profiles);

/** Both last ordered on 2025-12-25 and were born on 03-30. */
const X_AND_K: Client[] = [
  { id: 'X', name: 'Ada' },
  { id: 'K', name: 'Kay' },
];

describe('the expiry horizon and the night writers', () => {
  it('a client the next night rewrites after the catch-up hour cleared expiryFrom stays in the index: her birthday goes', async () => {
    const config = await campaignConfig(aws, 'behind-expiry-floor', {
      campaigns: {
        policy: { controlShare: 0, quietHours: { start: '00:00', end: '00:00' } },
        campaigns: [{ kind: 'winback' }, { kind: 'custom', id: 'bday', trigger: { on: 'birthday' }, template: 'birthday', products: { from: 'none' } }],
      },
      sender: { expiryLookbackHours: 24 },
      plausibility: { maxUnexplainedLapseShare: 1, maxDropShare: 1, maxDowngradeShare: 1, maxUpgradeShare: 1 },
    });
    await night(config, '2026-03-18', at('2026-03-19 02:00'), X_AND_K);
    // The export stops; the hours run on the night of 03-18 (expiryFrom noted: 03-23 11:00).
    const first = await runCampaignHour(aws, config, at('2026-03-24 11:00'), 'hf-0324-11');
    expect(first.behind).toMatchObject({ lastNight: '2026-03-18' });
    const last = await runCampaignHour(aws, config, at('2026-03-27 05:00'), 'hf-0327-05');
    expect(last.behind).toMatchObject({ lastNight: '2026-03-18' });
    // The backfill catches up with the last night due (03-26).
    for (let day = 19; day <= 26; day++) await night(config, `2026-03-${day}`, at(`2026-03-27 06:${String(day).padStart(2, '0')}`), X_AND_K);
    // The next night (X changed her first name) starts at 02:00; the first hour after the backfill runs while it writes.
    let caughtUp: Awaited<ReturnType<typeof runCampaignHour>> | undefined;
    const renamed = [{ id: 'X', name: 'Eve' }, X_AND_K[1]!];
    await night(config, '2026-03-27', at('2026-03-28 02:00'), renamed, clientsBefore(writesProfiles(config), async () => {
      caughtUp = await runCampaignHour(aws, config, at('2026-03-28 02:05'), 'hf-0328-02');
    }));
    expect(caughtUp?.behind).toBeUndefined();
    // Both win-backs, closed while held, recorded expired once.
    expect(countsOf(caughtUp!, 'winback').expired).toBe(2);
    await runCampaignHour(aws, config, at('2026-03-28 03:00'), 'hf-0328-03');
    const x = await getProfile(aws.clients.documents, tableNames(config).profiles, 'X');
    await night(config, '2026-03-28', at('2026-03-29 02:00'), renamed);
    await runCampaignHour(aws, config, at('2026-03-29 10:00'), 'hf-0329-10');
    await night(config, '2026-03-29', at('2026-03-30 02:00'), renamed);
    const birthday = await runCampaignHour(aws, config, at('2026-03-30 10:00'), 'hf-0330-10');
    const decisions = (await ledgerEntries(aws, config)).map((e) => `${e.customerId} ${e.campaignId} ${e.status}`).sort();
    // As with the nights on time: both birthdays sent, both win-backs expired once.
    expect({ decisions, bdaySent: countsOf(birthday, 'bday').sent, xNextDueAt: x?.nextDueAt === undefined ? undefined : new Date(x.nextDueAt).toISOString() }).toEqual({
      decisions: ['K bday sent', 'K winback expired', 'X bday sent', 'X winback expired'],
      bdaySent: 2,
      xNextDueAt: new Date(at('2026-03-30 00:00')).toISOString(),
    });
  }, 400_000);

  it('a client the catch-up hour leaves to the next hour (a night rewrote her after its ingest) has her held window recorded expired all the same', async () => {
    const config = await campaignConfig(aws, 'behind-expiry-undone', {
      campaigns: { policy: { controlShare: 0, quietHours: { start: '00:00', end: '00:00' } }, campaigns: [{ kind: 'winback' }] },
      sender: { expiryLookbackHours: 24 },
      plausibility: { maxUnexplainedLapseShare: 1, maxDropShare: 1, maxDowngradeShare: 1, maxUpgradeShare: 1 },
    });
    await night(config, '2026-03-18', at('2026-03-19 02:00'), X_AND_K);
    await runCampaignHour(aws, config, at('2026-03-24 11:00'), 'hu-0324-11');
    await runCampaignHour(aws, config, at('2026-03-27 05:00'), 'hu-0327-05');
    for (let day = 19; day <= 26; day++) await night(config, `2026-03-${day}`, at(`2026-03-27 06:${String(day).padStart(2, '0')}`), X_AND_K);
    // X changes her first name through the site: an increment the first hour after the backfill merges.
    await dropIncrement(aws, config, '2026-03-28T0150', {
      'customers.csv': 'customer_id,email,first_name,locale,time_zone,accepts_marketing\nX,x@floor.example.com,Eve,en,Asia/Shanghai,true\n',
    });
    // The next night runs between that hour's ingest and its selection, and rewrites X from its snapshot (her old name).
    const caughtUp = await runCampaignHour({ clients: clientsBefore(readsProfiles(config), () => night(config, '2026-03-27', at('2026-03-28 02:00'), X_AND_K)) }, config, at('2026-03-28 02:05'), 'hu-0328-02');
    expect(caughtUp.behind).toBeUndefined();
    expect(caughtUp.undoneByNight).toBe(1);
    for (const hour of ['03:00', '04:00', '05:00']) await runCampaignHour(aws, config, at(`2026-03-28 ${hour}`), `hu-0328-${hour.slice(0, 2)}`);
    const decisions = (await ledgerEntries(aws, config)).map((e) => `${e.customerId} ${e.campaignId} ${e.status}`).sort();
    // As with the nights on time: both win-backs, closed while held, recorded expired.
    expect(decisions).toEqual(['K winback expired', 'X winback expired']);
  }, 400_000);
});
