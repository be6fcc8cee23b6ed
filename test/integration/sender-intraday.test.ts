import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Config } from '#shared/config.ts';
import { processSesFeedback } from '#shared/feedback/ses-events.ts';
import { jsonLog } from '#shared/log.ts';
import { INGEST_JOB, type IngestMarker } from '#shared/sender/ingest.ts';
import { incrementalPrefix } from '#shared/store/buckets.ts';
import { ledgerEntriesOf } from '#shared/store/ledger-store.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { getRun, putRun } from '#shared/store/runs-store.ts';
import { suppress } from '#shared/store/suppression-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { staticKeys } from '#shared/unsubscribe/keys.ts';
import { signUnsubscribeToken } from '#shared/unsubscribe/token.ts';
import { handleUnsubscribe } from '#shared/unsubscribe/unsubscribe.ts';
import { campaignConfig, runCampaignHour as run, UNSUBSCRIBE_SECRET as SECRET } from '#test/support/campaign-runs.ts';
import { dropIncrement, seedProfiles } from '#test/support/emulator-data.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { bounceEvent, complaintEvent, snsEvent } from '#test/support/ses-events.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { HOUR, MINUTE, at as local, iso } from '#test/support/time.ts';

/**
 * The day between two nightly runs on the embedded AWS: consent as the incremental exports state it
 * (a column that is absent says nothing, a false always applies, a true never beats an unsubscribe
 * or a suppression), the unsubscribe link honoured by the next hourly run, a client's unsubscribe
 * or complaint still holding once the CRM gives them another address, and a bad incremental
 * folder quarantined while the hour's sends go on. Each scenario has its own tables and prefixes and
 * reads the SES store for its own addresses only.
 */

const aws = sharedAws();
const SH = 'Asia/Shanghai';
const AT = local('2026-11-23 10:00', SH);

/** A client whose welcome is due at AT (first order two hours before), at their own address. */
const welcomeDue = (id: string, fields: Parameters<typeof profileItem>[1] = {}) =>
  profileItem(id, { stage: 'new', firstOrderAt: iso(AT - 2 * HOUR), lastOrderAt: iso(AT - 2 * HOUR), ...fields });

const count = async (address: string) => (await emailsTo(aws, address)).length;
const statuses = async (config: Config, customerId: string) =>
  (await ledgerEntriesOf(aws.clients.documents, tableNames(config).sendLedger, customerId)).map((e) => e.status);
const storedConsent = async (config: Config, customerId: string) => (await getProfile(aws.clients.documents, tableNames(config).profiles, customerId))?.acceptsMarketing;

describe('consent from the intraday exports', () => {
  it('a customer_id,accepts_marketing=false row withdraws consent before the next hourly run; so does false in a full row', async () => {
    const config = await campaignConfig(aws, 'ci-false');
    await seedProfiles(aws, config, [welcomeDue('ci-optout'), welcomeDue('ci-full')]);
    await dropIncrement(aws, config, '2026-11-23T0930', { 'customers.csv': 'customer_id,accepts_marketing\nci-optout,false\n' });
    await dropIncrement(aws, config, '2026-11-23T0940', {
      'customers.csv': 'customer_id,email,first_name,locale,accepts_marketing\nci-full,ci-full@example.com,Lin,zh-CN,false\n',
    });

    const summary = await run(aws, config, AT, 'ci-false-1');
    expect(summary.ingested).toMatchObject({ updatedClients: 2, rejected: 0, quarantined: [] });
    expect(summary.campaigns.welcome).toMatchObject({ due: 2, sent: 0, 'no-consent': 2 });
    for (const id of ['ci-optout', 'ci-full']) {
      expect(await storedConsent(config, id), id).toBe(false);
      expect(await statuses(config, id), id).toEqual(['no-consent']);
      expect(await count(`${id}@example.com`), id).toBe(0);
    }
  });

  it('a row without the consent column changes nothing: the client is still mailed (at the new address)', async () => {
    const config = await campaignConfig(aws, 'ci-absent');
    await seedProfiles(aws, config, [welcomeDue('ci-keep'), welcomeDue('ci-keep-no', { acceptsMarketing: false })]);
    await dropIncrement(aws, config, '2026-11-23T0930', {
      'customers.csv': 'customer_id,email,first_name\nci-keep,ci-keep-new@example.com,Mei\nci-keep-no,ci-keep-no-new@example.com,Ann\n',
    });

    const summary = await run(aws, config, AT, 'ci-absent-1');
    expect(summary.campaigns.welcome).toMatchObject({ due: 2, sent: 1, 'no-consent': 1 });
    expect(await storedConsent(config, 'ci-keep')).toBe(true);
    expect(await storedConsent(config, 'ci-keep-no')).toBe(false);
    expect(await count('ci-keep-new@example.com')).toBe(1);
    expect(await count('ci-keep@example.com')).toBe(0);
    expect(await count('ci-keep-no-new@example.com')).toBe(0);
  });

  it('a later accepts_marketing=true does not undo an unsubscribe or a suppression, and the unsubscribe holds from the next hour', async () => {
    const config = await campaignConfig(aws, 'ci-true');
    const tables = tableNames(config);
    await seedProfiles(aws, config, [welcomeDue('ci-unsub'), welcomeDue('ci-bounced'), welcomeDue('ci-complained'), welcomeDue('ci-control')]);

    // 09:20: the client presses the one-click link of an earlier email.
    const unsubscribed = await handleUnsubscribe(
      { documents: aws.clients.documents, tables, keys: staticKeys(SECRET), now: () => AT - 40 * 60_000, brandName: 'Maison' },
      { method: 'POST', token: signUnsubscribeToken('ci-unsub', SECRET), form: { 'List-Unsubscribe': 'One-Click' } },
    );
    expect(unsubscribed.statusCode).toBe(200);
    // The unsubscribe puts the address on the suppression list; it does not touch the profile's
    // consent (the next nightly export would overwrite it): the suppression list is what holds.
    expect(await storedConsent(config, 'ci-unsub')).toBe(true);
    await suppress(aws.clients.documents, tables.suppression, { email: 'ci-bounced@example.com', reason: 'hard-bounce', at: AT - HOUR });
    await suppress(aws.clients.documents, tables.suppression, { email: 'ci-complained@example.com', reason: 'complaint', at: AT - HOUR });
    // 09:45: the platform says all four accept marketing.
    await dropIncrement(aws, config, '2026-11-23T0945', {
      'customers.csv': 'customer_id,accepts_marketing\nci-unsub,true\nci-bounced,true\nci-complained,true\nci-control,true\n',
    });

    const summary = await run(aws, config, AT, 'ci-true-1');
    expect(summary.ingested.updatedClients).toBe(4);
    expect(summary.campaigns.welcome).toMatchObject({ due: 4, sent: 1, suppressed: 3 });
    for (const id of ['ci-unsub', 'ci-bounced', 'ci-complained']) {
      expect(await storedConsent(config, id), id).toBe(true);
      expect(await statuses(config, id), id).toEqual(['suppressed']);
      expect(await count(`${id}@example.com`), id).toBe(0);
    }
    expect(await count('ci-control@example.com')).toBe(1);
  });

  it('an unsubscribe between two hourly runs holds at the next run, for an occasion that became due meanwhile', async () => {
    const config = await campaignConfig(aws, 'ci-hour');
    const tables = tableNames(config);
    // Signed up at 10:30 (an increment); unsubscribed at 10:40 from another brand email; the 11:00 run.
    await dropIncrement(aws, config, '2026-11-23T1030', {
      'customers.csv': 'customer_id,email,first_name,time_zone,signed_up_at,accepts_marketing\nci-new,ci-new@example.com,Mei,Asia/Shanghai,2026-11-23T10:30:00,true\n',
    });
    const first = await run(aws, config, local('2026-11-23 10:35', SH), 'ci-hour-1');
    expect(first.campaigns.welcome).toMatchObject({ due: 1, sent: 1 });
    await seedProfiles(aws, config, [welcomeDue('ci-later', { firstOrderAt: iso(local('2026-11-23 10:45', SH)), lastOrderAt: iso(local('2026-11-23 10:45', SH)) })]);
    await handleUnsubscribe(
      { documents: aws.clients.documents, tables, keys: staticKeys(SECRET), now: () => local('2026-11-23 10:50', SH), brandName: 'Maison' },
      { method: 'POST', token: signUnsubscribeToken('ci-later', SECRET), form: { 'List-Unsubscribe': 'One-Click' } },
    );
    const next = await run(aws, config, local('2026-11-23 11:00', SH), 'ci-hour-2');
    expect(next.campaigns.welcome).toMatchObject({ due: 1, sent: 0, suppressed: 1 });
    expect(await count('ci-later@example.com')).toBe(0);
  });

  it("an unsubscribe or a complaint is the client's no: it holds at the address the CRM gives them next; a hard bounce is the old address's only", async () => {
    const config = await campaignConfig(aws, 'ci-new-address');
    const tables = tableNames(config);
    const ids = ['ca-unsub', 'ca-complained', 'ca-bounced', 'ca-control'];
    await seedProfiles(aws, config, ids.map((id) => welcomeDue(id)));
    // 09:00: a one-click unsubscribe, a complaint and a hard bounce, each of an earlier email to the old address (SES tags carry the id).
    await handleUnsubscribe(
      { documents: aws.clients.documents, tables, keys: staticKeys(SECRET), now: () => AT - HOUR, brandName: 'Maison' },
      { method: 'POST', token: signUnsubscribeToken('ca-unsub', SECRET), form: { 'List-Unsubscribe': 'One-Click' } },
    );
    const feedback = { documents: aws.clients.documents, tables, now: () => AT - HOUR };
    await processSesFeedback(feedback, snsEvent(complaintEvent(['ca-complained@example.com'], { customerId: 'ca-complained' })));
    await processSesFeedback(feedback, snsEvent(bounceEvent(['ca-bounced@example.com'], 'Permanent', { customerId: 'ca-bounced' })));
    // 09:30: the CRM gives all four another address; the increment says nothing about consent.
    await dropIncrement(aws, config, '2026-11-23T0930', { 'customers.csv': `customer_id,email\n${ids.map((id) => `${id},${id}.new@example.com`).join('\n')}\n` });

    const summary = await run(aws, config, AT, 'ci-new-address-1');
    expect(summary.ingested.updatedClients).toBe(4);
    expect(summary.campaigns.welcome).toMatchObject({ due: 4, sent: 2, suppressed: 2 });
    for (const id of ['ca-unsub', 'ca-complained']) {
      expect(await statuses(config, id), id).toEqual(['suppressed']);
      expect(await count(`${id}.new@example.com`), id).toBe(0);
    }
    // A new address may work where the old one bounced.
    for (const id of ['ca-bounced', 'ca-control']) expect(await count(`${id}.new@example.com`), id).toBe(1);
  });
});

describe('a bad incremental folder', () => {
  const header = 'customer_id,email,first_name,time_zone,signed_up_at,accepts_marketing';
  const truncatedGzip = () => {
    const whole = gzipSync(`${header}\n${Array.from({ length: 200 }, (_, i) => `q-bad-${i},q-bad-${i}@example.com,X,Asia/Shanghai,2026-11-23T08:00:00,true`).join('\n')}\n`);
    return whole.subarray(0, Math.floor(whole.length / 2));
  };

  it('is quarantined: reported, logged for the alarm, marked not to be read again unless written again; the other folders and the sends go on', async () => {
    const config = await campaignConfig(aws, 'quarantine');
    await seedProfiles(aws, config, [welcomeDue('q-seeded')]);
    await dropIncrement(aws, config, '2026-11-23T0900', { 'customers.csv.gz': truncatedGzip() });
    await dropIncrement(aws, config, '2026-11-23T0930', { 'customers.csv': `${header}\nq-new,q-new@example.com,Mei,Asia/Shanghai,2026-11-23T09:30:00,true\n` });
    const lines: string[] = [];
    const log = jsonLog({ write: (line) => lines.push(line) });

    const summary = await run(aws, config, AT, 'quarantine-1', { log });
    expect(summary.ingested.quarantined).toEqual([{ folder: '2026-11-23T0900', reason: expect.stringMatching(/customers\.csv\.gz.*not a valid gzip file/) }]);
    expect(summary.ingested.exports).toEqual([expect.stringContaining('2026-11-23T0930')]);
    expect(summary.campaigns.welcome).toMatchObject({ due: 2, sent: 2 });
    expect(await count('q-new@example.com')).toBe(1);
    expect(await count('q-seeded@example.com')).toBe(1);
    expect(await count('q-bad-0@example.com')).toBe(0);
    const alerts = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.alert === 'export-quarantined');
    expect(alerts).toEqual([expect.objectContaining({ level: 'error', folder: '2026-11-23T0900', runId: 'quarantine-1' })]);
    expect(await getRun(aws.clients.documents, tableNames(config).runs, { job: INGEST_JOB, runDate: '2026-11-23T0900' })).toMatchObject({
      status: 'quarantined',
      runId: 'quarantine-1',
      reason: expect.stringContaining('gzip'),
    });

    // The next hour does not read it again.
    const next = await run(aws, config, AT + HOUR, 'quarantine-2');
    expect(next.ingested).toMatchObject({ exports: [], quarantined: [] });
  });

  // What the export-quarantined alarm and docs/deploy.md tell the operator: fix it at the source.
  it('written again since (the fix, in place) is read by the next hour: its opt-out holds before the welcome, and it is merged once', async () => {
    const config = await campaignConfig(aws, 'quarantine-fixed');
    const folder = '2026-11-23T0930';
    // A new client whose first order (10:20) makes the welcome due from the 11:00 hour.
    await seedProfiles(aws, config, [profileItem('qf-c', { stage: 'new', orderCount: 1, firstOrderAt: iso(AT + 20 * MINUTE), lastOrderAt: iso(AT + 20 * MINUTE) })]);
    const customers = gzipSync('customer_id,accepts_marketing\nqf-c,false\n');
    await dropIncrement(aws, config, folder, { 'customers.csv.gz': customers.subarray(0, Math.floor(customers.length / 2)) });
    const first = await run(aws, config, AT, 'quarantine-fixed-1');
    expect(first.ingested.quarantined.map((q) => q.folder)).toEqual([folder]);
    const quarantined = await getRun<IngestMarker>(aws.clients.documents, tableNames(config).runs, { job: INGEST_JOB, runDate: folder });
    expect(quarantined).toMatchObject({ status: 'quarantined', lastWrite: expect.any(String) });

    // S3 keeps a write's time to the second: the fix is a later write.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const orders = 'order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,currency,status,refunded_amount\nqf-o1,qf-c,2026-11-23T09:20:00+08:00,SKU-1,Bag,leather,1,80.00,USD,paid,\n';
    await dropIncrement(aws, config, folder, { 'customers.csv.gz': customers, 'orders.csv': orders });
    const lines: string[] = [];
    const next = await run(aws, config, AT + HOUR, 'quarantine-fixed-2', { log: jsonLog({ write: (line) => lines.push(line) }) });
    expect(next.ingested).toMatchObject({ exports: [expect.stringContaining(folder)], quarantined: [], updatedClients: 1 });
    const reread = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.message === 'incremental export quarantined before, written again since: read again');
    expect(reread).toEqual([expect.objectContaining({ folder, quarantinedBy: 'quarantine-fixed-1' })]);
    const profile = async () => getProfile(aws.clients.documents, tableNames(config).profiles, 'qf-c');
    expect(await profile()).toMatchObject({ acceptsMarketing: false, orderCount: 2, incrementOrderIds: ['qf-o1'] });
    expect(await count('qf-c@example.com')).toBe(0);
    expect(await getRun(aws.clients.documents, tableNames(config).runs, { job: INGEST_JOB, runDate: folder })).toMatchObject({ status: 'merged', runId: 'quarantine-fixed-2' });

    // A run that died between writing the profiles and marking the folder merged: the next hour reads it again and adds nothing.
    await putRun(aws.clients.documents, tableNames(config).runs, quarantined as IngestMarker); // read above
    const after = await run(aws, config, AT + 2 * HOUR, 'quarantine-fixed-3');
    expect(after.ingested).toMatchObject({ quarantined: [], newClients: 0, updatedClients: 0 });
    expect(await profile()).toMatchObject({ acceptsMarketing: false, orderCount: 2, incrementOrderIds: ['qf-o1'] });
    expect(await getRun(aws.clients.documents, tableNames(config).runs, { job: INGEST_JOB, runDate: folder })).toMatchObject({ status: 'merged' });
    // Merged: the hour after reads it no more.
    const last = await run(aws, config, AT + 3 * HOUR, 'quarantine-fixed-4');
    expect(last.ingested).toMatchObject({ exports: [], quarantined: [] });
  });

  // As within one export (aggregate.ts laterCustomerRecord): a no from any row stands, whatever a later row says.
  it('fixed in place after a later folder merged its clients: its opt-out holds that hour, and nothing else of it is merged', async () => {
    const config = await campaignConfig(aws, 'quarantine-fixed-late');
    // New clients whose first order (10:20) makes the welcome due from the 11:00 hour; qfl-r has said no.
    const newClient = (id: string, fields: Parameters<typeof profileItem>[1] = {}) =>
      profileItem(id, { stage: 'new', orderCount: 1, firstOrderAt: iso(AT + 20 * MINUTE), lastOrderAt: iso(AT + 20 * MINUTE), ...fields });
    await seedProfiles(aws, config, [newClient('qfl-c'), newClient('qfl-r', { acceptsMarketing: false })]);
    // 09:00: qfl-c opts out, qfl-r opts back in, with an order; the file arrives truncated.
    const customers = gzipSync('customer_id,first_name,accepts_marketing\nqfl-c,Lin,false\nqfl-r,Ana,true\n');
    const orders = 'order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,currency,status,refunded_amount\nqfl-o1,qfl-c,2026-11-23T08:50:00+08:00,SKU-1,Bag,leather,1,80.00,USD,paid,\n';
    await dropIncrement(aws, config, '2026-11-23T0900', { 'customers.csv.gz': customers.subarray(0, Math.floor(customers.length / 2)) });
    // 09:30: the next increment names both (new first names), saying nothing of consent.
    await dropIncrement(aws, config, '2026-11-23T0930', { 'customers.csv': 'customer_id,first_name\nqfl-c,Mei\nqfl-r,Rosa\n' });
    const first = await run(aws, config, AT, 'quarantine-fixed-late-1');
    expect(first.ingested.quarantined.map((q) => q.folder)).toEqual(['2026-11-23T0900']);

    await new Promise((resolve) => setTimeout(resolve, 1100));
    await dropIncrement(aws, config, '2026-11-23T0900', { 'customers.csv.gz': customers, 'orders.csv': orders });
    const next = await run(aws, config, AT + HOUR, 'quarantine-fixed-late-2');
    expect(next.ingested).toMatchObject({ quarantined: [], updatedClients: 1 });
    const profile = async (id: string) => getProfile(aws.clients.documents, tableNames(config).profiles, id);
    // The 09:00 no stands; its name and its order stay left to the 09:30 increment and the night.
    expect(await profile('qfl-c')).toMatchObject({ acceptsMarketing: false, firstName: 'Mei', orderCount: 1, lastIncrement: '2026-11-23T0930+0800' });
    expect(await count('qfl-c@example.com')).toBe(0);
    // Its yes is not applied over the no the profile holds.
    expect(await profile('qfl-r')).toMatchObject({ acceptsMarketing: false, firstName: 'Rosa' });
    expect(await count('qfl-r@example.com')).toBe(0);
  });

  it('written again still unreadable is quarantined again, with a new alert, and then left until written again', async () => {
    const config = await campaignConfig(aws, 'quarantine-still-bad');
    const folder = '2026-11-23T0900';
    await dropIncrement(aws, config, folder, { 'customers.csv.gz': truncatedGzip() });
    await run(aws, config, AT, 'quarantine-still-bad-1');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await dropIncrement(aws, config, folder, { 'customers.csv.gz': truncatedGzip() });
    // 11:00, 2 hours after its stamp: no longer taken as still being written.
    const lines: string[] = [];
    const next = await run(aws, config, AT + HOUR, 'quarantine-still-bad-2', { log: jsonLog({ write: (line) => lines.push(line) }) });
    expect(next.ingested.quarantined).toEqual([{ folder, reason: expect.stringContaining('gzip') }]);
    const alerts = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.alert === 'export-quarantined');
    expect(alerts).toEqual([expect.objectContaining({ folder, runId: 'quarantine-still-bad-2' })]);
    expect(await getRun(aws.clients.documents, tableNames(config).runs, { job: INGEST_JOB, runDate: folder })).toMatchObject({ status: 'quarantined', runId: 'quarantine-still-bad-2' });
    const later = await run(aws, config, AT + 2 * HOUR, 'quarantine-still-bad-3');
    expect(later.ingested).toMatchObject({ exports: [], quarantined: [] });
  });

  it('never fails a dry run, which reports it without marking it', async () => {
    const config = await campaignConfig(aws, 'quarantine-dry');
    await seedProfiles(aws, config, [welcomeDue('qd-seeded')]);
    await dropIncrement(aws, config, '2026-11-23T0900', { 'customers.csv.gz': truncatedGzip() });

    const lines: string[] = [];
    const dry = await run(aws, config, AT, 'quarantine-dry-1', { dryRun: true, log: jsonLog({ write: (line) => lines.push(line) }) });
    expect(dry.ingested.quarantined).toEqual([{ folder: '2026-11-23T0900', reason: expect.stringContaining('gzip') }]);
    // Reported, not alarmed: the alarm is for the real run that sets the folder aside.
    expect(lines.some((l) => l.includes('quarantined'))).toBe(true);
    expect(lines.some((l) => l.includes('"alert"'))).toBe(false);
    expect(dry.plan).toEqual([expect.objectContaining({ customerId: 'qd-seeded', outcome: 'send' })]);
    expect(await getRun(aws.clients.documents, tableNames(config).runs, { job: INGEST_JOB, runDate: '2026-11-23T0900' })).toBeUndefined();

    const real = await run(aws, config, AT, 'quarantine-dry-2');
    expect(real.ingested.quarantined.map((q) => q.folder)).toEqual(['2026-11-23T0900']);
    expect(real.campaigns.welcome).toMatchObject({ sent: 1 });
  });
});

describe('an incremental folder still being written (exports.requireManifest)', () => {
  it('is left for a later hour, neither merged nor quarantined, and merged once its manifest lists its files', async () => {
    const scenario = await campaignConfig(aws, 'manifest-wait');
    const config: Config = { ...scenario, exports: { ...scenario.exports, requireManifest: true } };
    const folder = '2026-11-23T0930';
    const customers = 'customer_id,email,first_name,time_zone,signed_up_at,accepts_marketing\nmw-new,mw-new@example.com,Mei,Asia/Shanghai,2026-11-23T09:30:00,true\n';
    const key = (name: string) => `${incrementalPrefix(config)}/${folder}/${name}`;
    const put = (name: string, body: string) => aws.clients.s3.send(new PutObjectCommand({ Bucket: config.storage.exportsBucket, Key: key(name), Body: body }));
    await put('customers.csv', customers);
    const lines: string[] = [];

    const first = await run(aws, config, AT, 'manifest-wait-1', { log: jsonLog({ write: (line) => lines.push(line) }) });
    expect(first.ingested).toMatchObject({ exports: [], quarantined: [] });
    expect(await getRun(aws.clients.documents, tableNames(config).runs, { job: INGEST_JOB, runDate: folder })).toBeUndefined();
    expect(await getProfile(aws.clients.documents, tableNames(config).profiles, 'mw-new')).toBeUndefined();
    expect(lines.some((l) => l.includes('"alert"'))).toBe(false);

    // The producer writes its manifest last.
    const sha256 = createHash('sha256').update(customers).digest('hex');
    await put('_manifest.json', JSON.stringify({ mode: 'incremental', files: [{ name: 'customers.csv', rows: 1, sha256 }] }));
    const next = await run(aws, config, AT + HOUR, 'manifest-wait-2');
    expect(next.ingested).toMatchObject({ exports: [expect.stringContaining(folder)], newClients: 1, quarantined: [] });
    expect(next.campaigns.welcome).toMatchObject({ sent: 1 });
    expect(await count('mw-new@example.com')).toBe(1);
  });
});

/**
 * README "After an outage", step 2: the dry run of the current hour before the real one. Two
 * increments piled up: 09:00 brings a new client, 10:00 an order of theirs (no customer row: the
 * client is known to the real run, which merges 09:00 first). The dry run writes no profile, yet
 * plans what the real run then does: nothing quarantined, the new client welcomed.
 */
describe('the dry run of the first hour after an outage, with increments piled up', () => {
  const hour = local('2026-11-23 11:00', SH);

  for (const { name, indexedHourBefore } of [
    { name: 'reading every profile (no due index yet)', indexedHourBefore: false },
    { name: 'through the due index', indexedHourBefore: true },
  ]) {
    // Each case its own client and address: the SES store is shared.
    const id = `piled-new-${indexedHourBefore ? 'index' : 'scan'}`;
    it(`reports what the real run then does, ${name}`, async () => {
      const config = await campaignConfig(aws, `piled-dry-${indexedHourBefore ? 'index' : 'scan'}`);
      await seedProfiles(aws, config, [profileItem('piled-old')]);
      // The last hour before the outage leaves the due index up to date.
      if (indexedHourBefore) await run(aws, config, local('2026-11-23 08:00', SH), 'piled-before');
      await dropIncrement(aws, config, '2026-11-23T0900', { 'customers.csv': `customer_id,email,accepts_marketing,time_zone\n${id},${id}@example.com,true,Asia/Shanghai\n` });
      await dropIncrement(aws, config, '2026-11-23T1000', { 'orders.csv': `order_id,customer_id,ordered_at,sku,line_total\n${id}-o1,${id},2026-11-23T09:40:00+08:00,SKU-1,120.00\n` });

      const dry = await run(aws, config, hour, 'piled-dry', { dryRun: true });
      expect(dry.ingested).toMatchObject({ quarantined: [], rejected: 0, newClients: 1, updatedClients: 1 });
      expect(dry.plan).toEqual([expect.objectContaining({ customerId: id, campaignId: 'welcome', outcome: 'send' })]);
      // It wrote nothing: the client is the real run's to create.
      expect(await getProfile(aws.clients.documents, tableNames(config).profiles, id)).toBeUndefined();

      const real = await run(aws, config, hour, 'piled-real');
      expect(real.ingested).toMatchObject({ quarantined: [], rejected: 0, newClients: 1, updatedClients: 1 });
      expect(real.campaigns.welcome?.sent).toBe(1);
      expect(await count(`${id}@example.com`)).toBe(1);
    });
  }
});
