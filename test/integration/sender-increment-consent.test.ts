import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it, vi } from 'vitest';
import { formatCampaignSummary } from '#local/format.ts';
import type { AwsClients } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import { sesAccountReader, type SesAccountReader } from '#shared/delivery/ses-account.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { INGEST_JOB, type IngestMarker } from '#shared/sender/ingest.ts';
import { ledgerEntriesOf } from '#shared/store/ledger-store.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { getRun, putRun } from '#shared/store/runs-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignConfig, runCampaignHour } from '#test/support/campaign-runs.ts';
import { dropIncrement, seedProfiles } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { at as local } from '#test/support/time.ts';

/**
 * Consent from an increment against a night that writes after it, on the embedded AWS. The night of
 * 11-22 reads a snapshot dumped at 01:00 on 11-23; at 09:30 an increment changes the client's
 * consent, and the 10:00 hour merges it. When the night runs on time (02:00) the increment is
 * newer than its snapshot and stands. When the night runs late (11:00, the scheduled one having
 * failed) or is rerun after the increment, it writes the snapshot's older word: the hour after it
 * puts a withdrawal back, and never lets an increment's yes beat the snapshot's no. New contact
 * details follow the same clock: put back after a night that began before they were dropped, and
never merged over a night's snapshot from an increment dropped before it began (merged again, or
for the first time once the sender is back from an outage).
 * A night still writing while an hour merges an opt-out may write its snapshot's yes back before
 * the hour decides: the hour then decides nothing for that client, and the next hour does; so
 * too when it writes between two increments the hour merges (the second is not merged over it).
 */

const aws = sharedAws();
const SH = 'Asia/Shanghai';
const work = scratchDir('increment-consent');

/** The snapshot of night 11-22, dumped at 01:00 on 11-23: the client's consent then, and their first order the evening before. */
async function snapshot(name: string, id: string, consent: boolean, firstName = 'Lin'): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'customers.csv'), `customer_id,email,first_name,accepts_marketing,time_zone\n${id},${id}@example.com,${firstName},${consent},Asia/Shanghai\n`);
  await writeFile(join(dir, 'orders.csv'), `order_id,customer_id,ordered_at,sku,line_total\n${id}-o1,${id},2026-11-22T20:00:00+08:00,SKU-1,120.00\n`);
  return dir;
}

/** A consenting prospect, as an earlier night left them. */
async function scenario(name: string, id: string) {
  const config = await campaignConfig(aws, name);
  const tables = tableNames(config);
  await seedProfiles(aws, config, [profileItem(id, { stage: 'prospect', tier: 'Prospect', orderCount: 0, spend12mMinor: 0, lifetimeSpendMinor: 0 })]);
  return {
    config,
    night: (dir: string, at: string, runId: string) => runNightly({ clock: () => local(at, SH), runDate: '2026-11-22', runId, config, clients: aws.clients, source: directoryExportSource(dir) }),
    hour: (at: string, runId: string) => runCampaignHour(aws, config, local(at, SH), runId),
    consent: async () => (await getProfile(aws.clients.documents, tables.profiles, id))?.acceptsMarketing,
    ledger: async () => (await ledgerEntriesOf(aws.clients.documents, tables.sendLedger, id)).map((entry) => [entry.campaignId, entry.status]),
    emails: async () => (await emailsTo(aws, `${id}@example.com`)).map((email) => email.subject),
  };
}

describe('an opt-out in an increment, then the night of the day before', () => {
  it('on time (02:00, before the increment): the opt-out stands, no email', { timeout: 180_000 }, async () => {
    const s = await scenario('consent-night-on-time', 'ct-1');
    const dir = await snapshot('on-time', 'ct-1', true);
    await s.night(dir, '2026-11-23 02:00', 'ct-night');
    await dropIncrement(aws, s.config, '2026-11-23T0930', { 'customers.csv': 'customer_id,accepts_marketing\nct-1,false\n' });
    await s.hour('2026-11-23 10:00', 'ct-10');
    expect(await s.consent()).toBe(false);
    const h12 = await s.hour('2026-11-23 12:00', 'ct-12');
    expect(h12.ingested.remerged).toEqual([]);
    expect(await s.consent()).toBe(false);
    expect(await s.emails()).toEqual([]);
  });

  it('late (11:00, the scheduled night failed): the next hour puts the opt-out back before it sends', { timeout: 180_000 }, async () => {
    const s = await scenario('consent-night-late', 'cl-1');
    const dir = await snapshot('late', 'cl-1', true);
    await dropIncrement(aws, s.config, '2026-11-23T0930', { 'customers.csv': 'customer_id,accepts_marketing\ncl-1,false\n' });
    await s.hour('2026-11-23 10:00', 'cl-10');
    expect(await s.consent()).toBe(false);
    await s.night(dir, '2026-11-23 11:00', 'cl-night');
    // The night writes its snapshot's older yes; nothing is sent before the next hour merges.
    expect(await s.consent()).toBe(true);
    const h12 = await s.hour('2026-11-23 12:00', 'cl-12');
    expect(h12.ingested.remerged).toEqual([{ folder: '2026-11-23T0930', clients: 1 }]);
    expect(await s.consent()).toBe(false);
    expect(await s.ledger()).toEqual([['welcome', 'no-consent']]);
    expect(await s.emails()).toEqual([]);
  });

  // The folder's first drop merged again (its opt-out put back), then its new drop as a new increment.
  describe('late, and the folder written again before the next hour', () => {
    const folder = '2026-11-23T0930';
    const writtenAgain = async (s: Awaited<ReturnType<typeof scenario>>, id: string, files: Record<string, string | Buffer>) => {
      await dropIncrement(aws, s.config, folder, { 'customers.csv': `customer_id,accepts_marketing\n${id},false\n` });
      await s.hour('2026-11-23 10:00', `${id}-10`);
      await s.night(await snapshot(`again-${id}`, id, true), '2026-11-23 11:00', `${id}-night`);
      expect(await s.consent()).toBe(true);
      // S3 keeps a write's time to the second: the new drop is a later write.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await dropIncrement(aws, s.config, folder, files);
    };
    const profile = async (s: Awaited<ReturnType<typeof scenario>>, id: string) => getProfile(aws.clients.documents, tableNames(s.config).profiles, id);
    // The new drop: an order of the morning.
    const secondOrder = (id: string) => `order_id,customer_id,ordered_at,sku,line_total\n${id}-o2,${id},2026-11-23T09:25:00+08:00,SKU-2,40.00\n`;

    it('readable: both drops merged by the next hour, the opt-out stands, the order counts once', { timeout: 180_000 }, async () => {
      const s = await scenario('consent-late-again', 'la-1');
      await writtenAgain(s, 'la-1', { 'orders-0002.csv': secondOrder('la-1') });
      // A dry run of that hour plans from both, as the real run merges them, and writes nothing.
      const dry = await runCampaignHour(aws, s.config, local('2026-11-23 12:00', SH), 'la-1-dry', { dryRun: true });
      expect(dry.ingested).toMatchObject({ remerged: [{ folder, clients: 1 }], exports: [expect.stringContaining(folder)] });
      expect(dry.plan).toEqual([expect.objectContaining({ customerId: 'la-1', campaignId: 'welcome', outcome: 'no-consent' })]);
      expect(await s.consent()).toBe(true);
      const h12 = await s.hour('2026-11-23 12:00', 'la-1-12');
      expect(h12.ingested).toMatchObject({ remerged: [{ folder, clients: 1 }], exports: [expect.stringContaining(folder)], quarantined: [] });
      expect(await profile(s, 'la-1')).toMatchObject({ acceptsMarketing: false, orderCount: 2, incrementOrderIds: ['la-1-o2'] });
      expect(await s.ledger()).toEqual([['welcome', 'no-consent']]);
      expect(await s.emails()).toEqual([]);
    });

    it('quarantined, then fixed in place: the first drop is merged again at once, the fix merges the new drop only, even after a run died between', { timeout: 180_000 }, async () => {
      const s = await scenario('consent-late-again-bad', 'lq-1');
      const second = gzipSync(secondOrder('lq-1'));
      await writtenAgain(s, 'lq-1', { 'orders-0002.csv.gz': second.subarray(0, Math.floor(second.length / 2)) });
      const undone = await getRun<IngestMarker>(aws.clients.documents, tableNames(s.config).runs, { job: INGEST_JOB, runDate: folder });
      const h12 = await s.hour('2026-11-23 12:00', 'lq-1-12');
      expect(h12.ingested).toMatchObject({ remerged: [{ folder, clients: 1 }], quarantined: [{ folder }] });
      expect(await profile(s, 'lq-1')).toMatchObject({ acceptsMarketing: false, orderCount: 1 });
      expect(await s.ledger()).toEqual([['welcome', 'no-consent']]);
      expect(await s.emails()).toEqual([]);

      // A run that died after putting the first drop back, before marking it: the fix's hour puts it back again, which changes nothing.
      await putRun(aws.clients.documents, tableNames(s.config).runs, undone as IngestMarker); // read above
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await dropIncrement(aws, s.config, folder, { 'orders-0002.csv.gz': second });
      const h13 = await s.hour('2026-11-23 13:00', 'lq-1-13');
      expect(h13.ingested).toMatchObject({ remerged: [{ folder, clients: 0 }], exports: [expect.stringContaining(folder)], quarantined: [] });
      expect(await profile(s, 'lq-1')).toMatchObject({ acceptsMarketing: false, orderCount: 2, incrementOrderIds: ['lq-1-o2'] });
      expect(await s.emails()).toEqual([]);
      // Both drops merged: the next hour reads the folder no more.
      const h14 = await s.hour('2026-11-23 14:00', 'lq-1-14');
      expect(h14.ingested).toMatchObject({ exports: [], remerged: [], quarantined: [] });
    });
  });

  it('rerun on a corrected export after the increment: the opt-out is put back again', { timeout: 180_000 }, async () => {
    const s = await scenario('consent-night-rerun', 'cr-1');
    await s.night(await snapshot('rerun', 'cr-1', true), '2026-11-23 02:00', 'cr-night');
    await dropIncrement(aws, s.config, '2026-11-23T0930', { 'customers.csv': 'customer_id,accepts_marketing\ncr-1,false\n' });
    await s.hour('2026-11-23 10:00', 'cr-10');
    expect(await s.consent()).toBe(false);
    // The same snapshot with a name corrected: it replaces the night and rewrites the client.
    await s.night(await snapshot('rerun-corrected', 'cr-1', true, 'Lina'), '2026-11-23 11:00', 'cr-night-2');
    expect(await s.consent()).toBe(true);
    const h12 = await s.hour('2026-11-23 12:00', 'cr-12');
    expect(h12.ingested.remerged).toEqual([{ folder: '2026-11-23T0930', clients: 1 }]);
    expect(await s.consent()).toBe(false);
    expect(await s.emails()).toEqual([]);
  });
});

/** A promise and the function that settles it: the two sides of a pause. */
function gate(): { reached: Promise<void>; reach: () => void } {
  let reach!: () => void;
  const reached = new Promise<void>((resolve) => (reach = resolve));
  return { reached, reach };
}

/**
 * The clients of a night paused twice: its first batch write to the profiles table waits for
 * `atWrites.release` once it has called `atWrites.paused` (just before its writes), and, with
 * `atEnd`, its runs-table item marking it completed waits for `atEnd` (still running meanwhile).
 */
function pausedNight(clients: AwsClients, tables: { profiles: string; runs: string }, atWrites: { paused: () => void; release: Promise<void> }, atEnd?: Promise<void>): AwsClients {
  const send = clients.documents.send.bind(clients.documents);
  const documents = Object.create(clients.documents) as AwsClients['documents'];
  let met = false;
  type Command = { constructor: { name: string }; input: { RequestItems?: Record<string, unknown>; TableName?: string; Item?: { status?: unknown } } };
  documents.send = (async (command: Command, ...rest: unknown[]) => {
    if (!met && command.constructor.name === 'BatchWriteCommand' && command.input.RequestItems?.[tables.profiles] !== undefined) {
      met = true;
      atWrites.paused();
      await atWrites.release;
    }
    if (atEnd && command.constructor.name === 'PutCommand' && command.input.TableName === tables.runs && command.input.Item?.status === 'completed') await atEnd;
    return (send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
  }) as AwsClients['documents']['send'];
  return { ...clients, documents };
}

/**
 * The scheduled night failed: rerun at 11:00 on its 01:00 snapshot (the client's yes), paused just
 * before its profile writes (`writing` settles there) until `goOn()`; with `holdEnd`, its completion
 * is held too until `end()` (still running meanwhile).
 */
async function lateNight(s: Awaited<ReturnType<typeof scenario>>, id: string, holdEnd = false) {
  const atWrites = gate();
  const goesOn = gate();
  const ends = gate();
  const night = runNightly({
    clock: () => local('2026-11-23 11:00', SH),
    runDate: '2026-11-22',
    runId: `${id}-night`,
    config: s.config,
    clients: pausedNight(aws.clients, tableNames(s.config), { paused: atWrites.reach, release: goesOn.reached }, holdEnd ? ends.reached : undefined),
    source: directoryExportSource(await snapshot(`overlap-${id}`, id, true)),
  });
  return { night, writing: atWrites.reached, goOn: goesOn.reach, end: ends.reach };
}

describe('an opt-out merged by an hour while a late night is still writing', () => {
  for (const runningAt13 of [false, true]) {
    const when = runningAt13 ? 'the night still running at the next hour' : 'the night done by the next hour';
    it(`the night writes the snapshot\u2019s yes between the hour\u2019s merge and its decisions: the hour decides nothing for the client, the next one records the opt-out (${when})`, { timeout: 180_000 }, async () => {
      const id = runningAt13 ? 'cr-1' : 'co-1';
      const s = await scenario(runningAt13 ? 'consent-night-overlap-running' : 'consent-night-overlap', id);
      const late = await lateNight(s, id, runningAt13);
      await late.writing;
      // Dropped after the night began: newer than its snapshot, the no applies.
      await dropIncrement(aws, s.config, '2026-11-23T1115', { 'customers.csv': `customer_id,accepts_marketing\n${id},false\n` });
      // The 12:00 hour merges the opt-out, then (reading the SES account, before selecting) waits while the night writes.
      const hourMerged = gate();
      const hourGoesOn = gate();
      const account = sesAccountReader(aws.clients.ses);
      const accountReader: SesAccountReader = {
        read: async () => {
          hourMerged.reach();
          await hourGoesOn.reached;
          return account.read();
        },
      };
      const hour = runCampaignHour(aws, s.config, local('2026-11-23 12:00', SH), `${id}-12`, { accountReader });
      await hourMerged.reached;
      expect(await s.consent()).toBe(false);
      late.goOn();
      // Its profiles written (the snapshot's yes), the night ends now, or only after the 13:00 hour.
      if (runningAt13) await vi.waitFor(async () => expect(await s.consent()).toBe(true), { timeout: 60_000, interval: 100 });
      else await late.night;
      expect(await s.consent()).toBe(true);
      hourGoesOn.reach();
      const h12 = await hour;
      expect(await s.emails()).toEqual([]);
      expect(await s.ledger()).toEqual([]);
      expect(h12.undoneByNight).toBe(1);
      expect(formatCampaignSummary(h12, 'Asia/Shanghai')).toContain('NOTE: 1 clients merged this hour were rewritten by a night still writing: not decided now');
      // The next hour merges the opt-out again into what the night wrote (its folder marked undone by
      // the 12:00 hour, so also while the night is still running), and decides.
      const h13 = await s.hour('2026-11-23 13:00', `${id}-13`);
      expect(h13.ingested.remerged).toEqual([{ folder: '2026-11-23T1115', clients: 1 }]);
      expect(h13.undoneByNight).toBeUndefined();
      expect(await s.consent()).toBe(false);
      expect(await s.ledger()).toEqual([['welcome', 'no-consent']]);
      expect(await s.emails()).toEqual([]);
      late.end();
      await late.night;
    });
  }

  it('two increments in one hour, the night writing between them: the first one\u2019s opt-out is not lost to the second\u2019s merge', { timeout: 180_000 }, async () => {
    const id = 'c2f-1';
    const s = await scenario('consent-night-between-folders', id);
    const tables = tableNames(s.config);
    const late = await lateNight(s, id);
    await late.writing;
    await dropIncrement(aws, s.config, '2026-11-23T1115', { 'customers.csv': `customer_id,accepts_marketing\n${id},false\n` });
    await dropIncrement(aws, s.config, '2026-11-23T1130', { 'customers.csv': `customer_id,first_name\n${id},Lina\n` });
    // The 12:00 hour waits once it has marked the opt-out's folder merged; the night writes its yes meanwhile.
    const firstMerged = gate();
    const hourGoesOn = gate();
    const send = aws.clients.documents.send.bind(aws.clients.documents) as (...args: unknown[]) => Promise<unknown>;
    const documents = Object.create(aws.clients.documents) as AwsClients['documents'];
    type Command = { constructor: { name: string }; input: { TableName?: string; Item?: { runDate?: unknown; status?: unknown } } };
    documents.send = (async (command: Command, ...rest: unknown[]) => {
      const result = await send(command, ...rest);
      const { TableName, Item } = command.input;
      if (command.constructor.name === 'PutCommand' && TableName === tables.runs && Item?.runDate === '2026-11-23T1115' && Item.status === 'merged') {
        firstMerged.reach();
        await hourGoesOn.reached;
      }
      return result;
    }) as AwsClients['documents']['send'];
    const hour = runCampaignHour({ clients: { ...aws.clients, documents } }, s.config, local('2026-11-23 12:00', SH), `${id}-12`);
    await firstMerged.reached;
    expect(await s.consent()).toBe(false);
    late.goOn();
    await late.night;
    expect(await s.consent()).toBe(true);
    hourGoesOn.reach();
    const h12 = await hour;
    // The second folder is not merged into the night's profile: the client is not decided, both folders wait.
    expect(await s.emails()).toEqual([]);
    expect(await s.ledger()).toEqual([]);
    expect(h12.undoneByNight).toBe(1);
    expect(h12.ingested.deferred).toEqual([{ folder: '2026-11-23T1130', clients: 1 }]);
    // The next hour merges the opt-out again, then the name change, and decides.
    const h13 = await s.hour('2026-11-23 13:00', `${id}-13`);
    expect(h13.ingested.remerged).toEqual([{ folder: '2026-11-23T1115', clients: 1 }]);
    expect(h13.undoneByNight).toBeUndefined();
    expect(await s.consent()).toBe(false);
    expect((await getProfile(aws.clients.documents, tables.profiles, id))?.firstName).toBe('Lina');
    expect(await s.ledger()).toEqual([['welcome', 'no-consent']]);
    expect(await s.emails()).toEqual([]);
  });
});

describe('an opt-in in an increment, then the night of the day before', () => {
  it('on time: the later yes stands', { timeout: 180_000 }, async () => {
    const s = await scenario('consent-yes-on-time', 'yt-1');
    await s.night(await snapshot('yes-on-time', 'yt-1', false), '2026-11-23 02:00', 'yt-night');
    expect(await s.consent()).toBe(false);
    await dropIncrement(aws, s.config, '2026-11-23T0930', { 'customers.csv': 'customer_id,accepts_marketing\nyt-1,true\n' });
    await s.hour('2026-11-23 10:00', 'yt-10');
    expect(await s.consent()).toBe(true);
  });

  it('late: the snapshot\u2019s no stands (which came last cannot be told), no email', { timeout: 180_000 }, async () => {
    const s = await scenario('consent-yes-late', 'yl-1');
    await dropIncrement(aws, s.config, '2026-11-23T0930', { 'customers.csv': 'customer_id,accepts_marketing\nyl-1,true\n' });
    await s.hour('2026-11-23 10:00', 'yl-10');
    expect(await s.consent()).toBe(true);
    await s.night(await snapshot('yes-late', 'yl-1', false), '2026-11-23 11:00', 'yl-night');
    expect(await s.consent()).toBe(false);
    await s.hour('2026-11-23 12:00', 'yl-12');
    expect(await s.consent()).toBe(false);
    expect(await s.emails()).toEqual([]);
  });

  it('a no at 09:30, a yes at 10:30, then a late night whose snapshot says yes: yes (the latest word, whenever the snapshot was dumped)', { timeout: 180_000 }, async () => {
    const s = await scenario('consent-no-yes-late', 'ny-1');
    await dropIncrement(aws, s.config, '2026-11-23T0930', { 'customers.csv': 'customer_id,accepts_marketing\nny-1,false\n' });
    await s.hour('2026-11-23 10:00', 'ny-10');
    expect(await s.consent()).toBe(false);
    await dropIncrement(aws, s.config, '2026-11-23T1030', { 'customers.csv': 'customer_id,accepts_marketing\nny-1,true\n' });
    await s.night(await snapshot('no-yes-late', 'ny-1', true), '2026-11-23 11:00', 'ny-night');
    const h12 = await s.hour('2026-11-23 12:00', 'ny-12');
    // The 09:30 no is put back, then the 10:30 yes (merged for the first time) follows it.
    expect(h12.ingested).toMatchObject({ updatedClients: 1, remerged: [{ folder: '2026-11-23T0930', clients: 1 }] });
    expect(await s.consent()).toBe(true);
  });
});

describe('new contact details in an increment, then the night of the day before', () => {
  const contact = (s: { config: Config }, id: string) => getProfile(aws.clients.documents, tableNames(s.config).profiles, id);
  const newRow = (id: string) => ({ 'customers.csv': `customer_id,email,first_name\n${id},${id}.new@example.com,Mei\n` });

  it('dropped after the night began (a long night): the hour after the night puts the new address and name back over the snapshot\u2019s', { timeout: 180_000 }, async () => {
    const s = await scenario('contact-after-start', 'ca-1');
    await dropIncrement(aws, s.config, '2026-11-23T0230', newRow('ca-1'));
    await s.hour('2026-11-23 03:00', 'ca-03');
    expect(await contact(s, 'ca-1')).toMatchObject({ email: 'ca-1.new@example.com', firstName: 'Mei' });
    // The night began at 02:00 and writes at the end: its snapshot, dumped before it began, has the old details.
    await s.night(await snapshot('contact-after-start', 'ca-1', true), '2026-11-23 02:00', 'ca-night');
    expect(await contact(s, 'ca-1')).toMatchObject({ email: 'ca-1@example.com', firstName: 'Lin' });
    const h04 = await s.hour('2026-11-23 04:00', 'ca-04');
    expect(h04.ingested.remerged).toEqual([{ folder: '2026-11-23T0230', clients: 1 }]);
    expect(await contact(s, 'ca-1')).toMatchObject({ email: 'ca-1.new@example.com', firstName: 'Mei' });
  });

  it('dropped before a late night began: the snapshot may be the newer, its details stand', { timeout: 180_000 }, async () => {
    const s = await scenario('contact-late', 'cl-1');
    await dropIncrement(aws, s.config, '2026-11-23T0930', newRow('cl-1'));
    await s.hour('2026-11-23 10:00', 'cl-10');
    await s.night(await snapshot('contact-late', 'cl-1', true), '2026-11-23 11:00', 'cl-night');
    const h12 = await s.hour('2026-11-23 12:00', 'cl-12');
    expect(h12.ingested.remerged).toEqual([{ folder: '2026-11-23T0930', clients: 0 }]);
    expect(await contact(s, 'cl-1')).toMatchObject({ email: 'cl-1@example.com', firstName: 'Lin' });
  });

  it('dropped the day before a night that ran while the sender was down, merged for the first time after it: the snapshot\u2019s newer details stand', { timeout: 180_000 }, async () => {
    const s = await scenario('contact-outage', 'co-1');
    await dropIncrement(aws, s.config, '2026-11-22T1000', { 'customers.csv': 'customer_id,email,first_name\nco-1,co-1.old@example.com,Old\n' });
    // No hour runs on 11-22; the night runs on time, on a snapshot (dumped at 01:00) with the details as they now are.
    await s.night(await snapshot('contact-outage', 'co-1', true, 'Mei'), '2026-11-23 02:00', 'co-night');
    const h10 = await s.hour('2026-11-23 10:00', 'co-10');
    expect(h10.ingested).toMatchObject({ exports: [expect.stringContaining('2026-11-22T1000')], updatedClients: 1, remerged: [] });
    expect(await contact(s, 'co-1')).toMatchObject({ email: 'co-1@example.com', firstName: 'Mei', lastIncrement: expect.stringContaining('2026-11-22T1000') });
    expect(await emailsTo(aws, 'co-1.old@example.com')).toEqual([]);
  });
});
