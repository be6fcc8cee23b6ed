import { describe, expect, it } from 'vitest';
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AwsClients } from '#shared/aws/clients.ts';
import type { CampaignsConfigInput } from '#shared/campaigns/schema.ts';
import type { Config } from '#shared/config.ts';
import { DUE_INDEX_STATE_KEY } from '#shared/store/due-index-store.ts';
import { ledgerEntriesOf } from '#shared/store/ledger-store.ts';
import { suppress } from '#shared/store/suppression-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignConfig, runCampaignHour as run } from '#test/support/campaign-runs.ts';
import { ledgerEntries, seedProfiles } from '#test/support/emulator-data.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { DAY, at as local, iso } from '#test/support/time.ts';

/**
 * An outage longer than the expiry lookback (sender.expiryLookbackHours, 72 h) loses no occasion
 * without a record: the first run after it records 'expired' every window that closed since the
 * last run, through the due index and reading every profile alike, back to the ledger's retention
 * at most. A run that dies after re-indexing a client leaves nothing for the rerun to miss.
 */

const aws = sharedAws();
const SH = 'Asia/Shanghai';
/** The last run before the outage: the morning before the birthday. */
const LAST_RUN = local('2026-11-20 09:00', SH);
const birthdayDay = { policy: { controlShare: 0 }, campaigns: [{ id: 'bday', trigger: { on: 'birthday', daysBefore: 0 }, template: 'birthday', offers: { default: { kind: 'none' } } }] } as CampaignsConfigInput;

const client = (customerId: string, birthday: string) =>
  profileItem(customerId, { birthday, firstOrderAt: iso(local('2026-01-10 10:00', SH)), lastOrderAt: iso(local('2026-10-10 10:00', SH)) });

const ledger = async (config: Config) => (await ledgerEntries(aws, config)).map((e) => ({ customerId: e.customerId, status: e.status, reason: e.reason })).sort((a, b) => (a.customerId < b.customerId ? -1 : 1));

async function resume(config: Config, at: number, runId: string, mode: 'index' | 'full-scan') {
  // Reading every profile without the index's state: the last run is the runs table's record.
  if (mode === 'full-scan') await aws.clients.documents.send(new DeleteCommand({ TableName: tableNames(config).runs, Key: DUE_INDEX_STATE_KEY }));
  return run(aws, config, at, runId);
}

describe('the first run after an outage records every window that closed since the last run', () => {
  for (const mode of ['index', 'full-scan'] as const) {
    for (const outageDays of [2, 5, 10]) {
      it(`${mode}: a one-day birthday window on the first day of a ${outageDays}-day outage is recorded expired`, async () => {
        const name = `outage-${mode}-${outageDays}`;
        const config = await campaignConfig(aws, name, { campaigns: birthdayDay });
        await seedProfiles(aws, config, [client(`${name}-b`, '1990-11-21')]);
        expect((await run(aws, config, LAST_RUN, `${name}-0`)).clientsDue).toBe(0);
        const after = await resume(config, LAST_RUN + outageDays * DAY, `${name}-1`, mode);
        expect(after.campaigns.bday?.expired).toBe(1);
        expect(await ledger(config)).toEqual([{ customerId: `${name}-b`, status: 'expired', reason: 'bday window closed at 2026-11-21T16:00:00.000Z before any run decided it' }]);
        // Recorded once: the next hour finds it settled.
        const next = await run(aws, config, LAST_RUN + outageDays * DAY + 3_600_000, `${name}-2`);
        expect(next.campaigns.bday).toMatchObject({ expired: 0, alreadyClaimed: 0 });
      }, 60_000);
    }

    it(`${mode}: an outage longer than the ledger retention records the windows closed within it, not before`, async () => {
      const name = `outage-retention-${mode}`;
      // The shortest retention the config accepts with the default conversion windows.
      const config = await campaignConfig(aws, name, { campaigns: birthdayDay, sender: { ledgerRetentionDays: 91 } });
      // Resumed 120 days later: one birthday 115 days back (its entry would be past the retention), one 59 days back.
      await seedProfiles(aws, config, [client(`${name}-early`, '1990-11-25'), client(`${name}-late`, '1991-01-20')]);
      await run(aws, config, LAST_RUN, `${name}-0`);
      const after = await resume(config, LAST_RUN + 120 * DAY, `${name}-1`, mode);
      expect(after.campaigns.bday?.expired).toBe(1);
      expect((await ledger(config)).map((e) => [e.customerId, e.status])).toEqual([[`${name}-late`, 'expired']]);
    }, 60_000);
  }

  it('records the welcome of a client who unsubscribed during the outage as no lost email, as it does one without consent', async () => {
    const config = await campaignConfig(aws, 'outage-suppressed');
    await seedProfiles(aws, config, [client('outage-suppressed-base', '1990-03-01')]);
    await run(aws, config, LAST_RUN, 'outage-suppressed-0');
    // During the outage three clients sign up; one unsubscribes right away, one gave no consent.
    const signUp = LAST_RUN + 2 * 3_600_000;
    const prospect = (id: string, fields = {}) => profileItem(id, { stage: 'prospect', tier: 'Prospect', orderCount: 0, signedUpAt: iso(signUp), ...fields });
    await seedProfiles(aws, config, [prospect('outage-ok'), prospect('outage-unsub'), prospect('outage-noconsent', { acceptsMarketing: false })]);
    await suppress(aws.clients.documents, tableNames(config).suppression, { email: 'outage-unsub@example.com', reason: 'unsubscribe', at: signUp + 3_600_000 });

    // Back 4 days later: every welcome window closed meanwhile; only the one a run would have sent was lost.
    const after = await run(aws, config, LAST_RUN + 4 * DAY, 'outage-suppressed-1');
    expect(after.campaigns.welcome?.expired).toBe(1);
    const statusOf = async (id: string) => (await ledgerEntriesOf(aws.clients.documents, tableNames(config).sendLedger, id)).map((e) => `${e.status}: ${e.reason ?? ''}`);
    expect(await statusOf('outage-ok')).toEqual([expect.stringMatching(/^expired: welcome window closed at .* before any run decided it$/)]);
    expect(await statusOf('outage-unsub')).toEqual([]);
    expect(await statusOf('outage-noconsent')).toEqual([]);
  }, 60_000);

  it('a run that dies right after re-indexing a client has already recorded what the new value leaves out: the rerun ends as a clean run', async () => {
    const config = await campaignConfig(aws, 'outage-crash', { campaigns: birthdayDay });
    await seedProfiles(aws, config, [client('outage-crash-b', '1990-11-21')]);
    await run(aws, config, LAST_RUN, 'oc-0');
    const at = LAST_RUN + 5 * DAY;
    await expect(run({ clients: diesAfterFirstIndexUpdate(aws.clients, tableNames(config).profiles) }, config, at, 'oc-1')).rejects.toThrow(/the process died here/);
    const rerun = await run(aws, config, at, 'oc-1-rerun');
    expect(rerun.selection.mode).toBe('index');
    expect(await ledger(config)).toEqual([{ customerId: 'outage-crash-b', status: 'expired', reason: 'bday window closed at 2026-11-21T16:00:00.000Z before any run decided it' }]);
  }, 60_000);
});

describe('a campaign added or turned back on', () => {
  const T0 = local('2026-11-20 10:00', SH);
  // Once ever, 7 days after the latest order, open a week: a false 'expired' would settle it for good.
  const nudge = { id: 'nudge', trigger: { on: 'any-order', daysAfter: 7 }, timing: { oncePer: 'ever' }, template: 'cross-category' };
  const campaigns = (withNudge: boolean) => ({ policy: { controlShare: 0 }, campaigns: [{ kind: 'welcome' }, { ...nudge, enabled: withNudge }] }) as CampaignsConfigInput;
  const ordered = (customerId: string, lastOrder: number) => profileItem(customerId, { firstOrderAt: iso(T0 - 300 * DAY), lastOrderAt: iso(lastOrder), orderCount: 3 });
  const nudgeEntries = async (config: Config) => (await ledgerEntries(aws, config)).filter((e) => e.campaignId === 'nudge').map((e) => `${e.customerId} ${e.status}`).sort();

  it('records no window that closed before it ran as expired, and a once-ever key stays free for the next window', async () => {
    const before = await campaignConfig(aws, 'added-campaign', { campaigns: campaigns(false) });
    // Last order 16 days ago: the nudge's week closed two days before the brand adds it.
    await seedProfiles(aws, before, [ordered('added-1', T0 - 16 * DAY)]);
    await run(aws, before, T0, 'added-0');
    const added = await campaignConfig(aws, 'added-campaign', { campaigns: campaigns(true) });
    const first = await run(aws, added, T0 + 3_600_000, 'added-1');
    expect(first.campaigns.nudge?.expired ?? 0).toBe(0);
    expect(await nudgeEntries(added)).toEqual([]);

    // Turned off; a client's week opens and closes meanwhile; turned back on within the lookback: not expired either.
    await run(aws, before, T0 + 2 * 3_600_000, 'added-2');
    await seedProfiles(aws, added, [ordered('added-2', T0 - 13 * DAY)]);
    const back = await run(aws, added, T0 + 2 * DAY, 'added-3');
    expect(back.campaigns.nudge?.expired ?? 0).toBe(0);

    // The first client orders again: the nudge of that order goes, once.
    const reordered = T0 + 2 * DAY;
    await seedProfiles(aws, added, [ordered('added-1', reordered)]);
    let sent = 0;
    for (let at = reordered + 7 * DAY + 12 * 3_600_000; at < reordered + 9 * DAY; at += 6 * 3_600_000) sent += (await run(aws, added, at, `added-${at}`)).campaigns.nudge?.sent ?? 0;
    expect(sent).toBe(1);
    expect(await nudgeEntries(added)).toEqual(['added-1 sent']);
  }, 120_000);
});

/** The clients, with the process dying once a profile's index value has been written: every later call fails. */
function diesAfterFirstIndexUpdate(clients: AwsClients, profilesTable: string): AwsClients {
  let dead = false;
  const send = clients.documents.send.bind(clients.documents) as (...args: unknown[]) => Promise<unknown>;
  const documents = Object.create(clients.documents) as AwsClients['documents'];
  documents.send = (async (command: unknown, ...rest: unknown[]) => {
    if (dead) throw new Error('crash: the process died here');
    const output = await send(command, ...rest);
    if (command instanceof UpdateCommand && command.input.TableName === profilesTable) dead = true;
    return output;
  }) as AwsClients['documents']['send'];
  return { ...clients, documents };
}
