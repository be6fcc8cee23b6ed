import { describe, expect, it } from 'vitest';
import type { AwsClients } from '#shared/aws/clients.ts';
import { createSesMailer } from '#shared/delivery/ses-mailer.ts';
import { sendAdvisorDigests } from '#shared/digests/advisor-digests.ts';
import { forgetClient } from '#shared/forget/forget.ts';
import { readBookPairs, settleRoster, writeRoster } from '#shared/store/roster-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { advisorsConfig, runCampaignHour, UNSUBSCRIBE_SECRET } from '#test/support/campaign-runs.ts';
import { scanTable, seedProfiles } from '#test/support/emulator-data.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { addressedTo, maxSendRateExceeded, sesRefusing } from '#test/support/refusing-ses.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { at, DAY, HOUR, iso } from '#test/support/time.ts';

/**
 * Forget and the advisors' partitions of the send ledger: entries there that name the client (a
 * task email whose task was never written, the digest that introduced them to a new advisor) are
 * found through the advisor of the client's profile as well as through their tasks, and keep
 * nothing of them.
 */

const aws = sharedAws();
const ZONE = 'Asia/Shanghai';

const ledgerNaming = async (config: Parameters<typeof tableNames>[0], id: string) =>
  (await scanTable<Record<string, unknown>>(aws, tableNames(config).sendLedger)).filter((e) => JSON.stringify(e).includes(id));

/** A mailer whose SES throttles every email to `address` (its ledger entry stays 'deferred'), once, without retries. */
const throttledFor = (address: string) =>
  createSesMailer(sesRefusing(aws.clients.ses, (command) => (addressedTo(command, address) ? maxSendRateExceeded() : undefined)), { maxSendRate: 500, baseDelayMs: 1, maxAttempts: 1 });

describe('forget, in the advisors\' ledger', () => {
  it('deletes the task email of an hour that died before writing its task', { timeout: 120_000 }, async () => {
    const NOW = at('2026-11-23 10:00', ZONE);
    const config = await advisorsConfig(aws, 'forget-advisor-task-email');
    const tables = tableNames(config);
    await writeRoster(aws.clients.s3, config, { runDate: '2026-11-22', advisors: [{ advisorId: 'A01', name: 'Sophie Martin', email: 'sophie-fat@advisors.example.com', locale: 'en', active: true }] });
    await seedProfiles(aws, config, [
      profileItem('fa-gone', { tier: 'VIC', stage: 'sleeping', advisorId: 'A01', locale: 'en', timeZone: ZONE, firstOrderAt: '2025-01-10T10:00:00.000Z', lastOrderAt: iso(at('2026-09-24 12:00', ZONE)), orderCount: 6 }),
    ]);
    // The task email goes out first, the task is written after: the hour dies in between.
    const send = aws.clients.documents.send.bind(aws.clients.documents);
    const documents = Object.create(aws.clients.documents) as AwsClients['documents'];
    documents.send = ((command: { constructor: { name: string }; input: Record<string, unknown> }, ...rest: unknown[]) => {
      if (command.constructor.name === 'PutCommand' && command.input.TableName === tables.advisorTasks) return Promise.reject(new Error('crash: the process died here'));
      return (send as (...a: unknown[]) => Promise<unknown>)(command, ...rest);
    }) as AwsClients['documents']['send'];
    await expect(runCampaignHour({ clients: { ...aws.clients, documents } }, config, NOW, 'fat-dies')).rejects.toThrow(/crash/);
    expect(await emailsTo(aws, 'sophie-fat@advisors.example.com')).toHaveLength(1);
    expect(await ledgerNaming(config, 'fa-gone')).not.toEqual([]);

    expect(await forgetClient({ config, clients: aws.clients, request: { customerId: 'fa-gone' }, at: NOW + 600_000 })).toMatchObject({ profiles: 1, tasks: 0 });
    expect(await ledgerNaming(config, 'fa-gone')).toEqual([]);
  });

  it('takes them out of the introductions of the digest that handed them to a new advisor; the others stay', { timeout: 120_000 }, async () => {
    const WEEK_48 = at('2026-11-23 02:30', ZONE);
    const config = await advisorsConfig(aws, 'forget-advisor-digest', { timeZone: ZONE });
    await writeRoster(aws.clients.s3, config, {
      runDate: '2026-11-15',
      advisors: [
        { advisorId: 'A01', name: 'Sophie Martin', email: 'sophie@fad.example.com', locale: 'en', active: false },
        { advisorId: 'A03', name: 'Marc Dubois', email: 'marc@fad.example.com', locale: 'en', active: true },
      ],
    });
    const client = (id: string, advisorId: string) =>
      profileItem(id, { tier: 'VIC', stage: 'active', advisorId, spend12mMinor: 7_000_000, lastOrderAt: '2026-11-01T02:00:00.000Z', firstOrderAt: '2025-02-01T02:00:00.000Z', orderCount: 8 });
    await seedProfiles(aws, config, [client('fd-gone', 'A01'), client('fd-stays', 'A01')]);
    const digests = (runDate: string, runId: string, now: number) => sendAdvisorDigests({ at: now, runDate, runId, config, clients: aws.clients, unsubscribeSecret: UNSUBSCRIBE_SECRET });
    await digests('2026-11-16', 'w47', WEEK_48 - 7 * DAY);
    await seedProfiles(aws, config, [client('fd-gone', 'A03'), client('fd-stays', 'A03')]);
    expect((await digests('2026-11-23', 'w48', WEEK_48)).handovers).toBe(2);
    expect(await ledgerNaming(config, 'fd-gone')).not.toEqual([]);

    expect(await readBookPairs(aws.clients.s3, config)).toMatchObject({ before: { 'fd-gone': 'A01' }, now: { 'fd-gone': 'A03' } });

    expect(await forgetClient({ config, clients: aws.clients, request: { customerId: 'fd-gone' }, at: WEEK_48 + DAY })).toMatchObject({ profiles: 1, bookPairs: 1 });
    expect(await ledgerNaming(config, 'fd-gone')).toEqual([]);
    const [digest] = await ledgerNaming(config, 'fd-stays');
    expect(digest).toMatchObject({ customerId: 'advisor#A03', introduced: ['fd-stays'] });
    // The book pairs kept for next week's baseline name the other client alone.
    expect(await readBookPairs(aws.clients.s3, config)).toEqual({ week: '2026-W48', before: { 'fd-stays': 'A01' }, now: { 'fd-stays': 'A03' } });
    // Run again, the request finds nothing more there.
    expect(await forgetClient({ config, clients: aws.clients, request: { customerId: 'fd-gone' }, at: WEEK_48 + DAY + HOUR })).toMatchObject({ profiles: 0, bookPairs: 0 });
  });

  it("leaves the task emails about another client whose id starts with the forgotten one's and a '#' (vip, vip#2)", { timeout: 180_000 }, async () => {
    const NOW = at('2026-11-23 10:00', ZONE);
    const config = await advisorsConfig(aws, 'forget-advisor-id-prefix');
    const tables = tableNames(config);
    await writeRoster(aws.clients.s3, config, { runDate: '2026-11-22', advisors: [{ advisorId: 'A01', name: 'Sophie Martin', email: 'sophie-fip@advisors.example.com', locale: 'en', active: true }] });
    const vic = (id: string) =>
      profileItem(id, { tier: 'VIC', stage: 'sleeping', advisorId: 'A01', locale: 'en', timeZone: ZONE, firstOrderAt: '2025-01-10T10:00:00.000Z', lastOrderAt: iso(at('2026-09-24 12:00', ZONE)), orderCount: 6 });
    // The generic export takes any text as a customer id, '#' included.
    await seedProfiles(aws, config, [vic('vip'), vic('vip#2')]);
    await runCampaignHour(aws, config, NOW, 'fip-1');
    expect(await emailsTo(aws, 'sophie-fip@advisors.example.com')).toHaveLength(2);
    const taskEmails = async () =>
      (await scanTable<{ customerId: string; occasionKey: string }>(aws, tables.sendLedger)).filter((e) => e.customerId === 'advisor#A01' && e.occasionKey.startsWith('advisor-task#')).map((e) => e.occasionKey);
    expect(await taskEmails()).toHaveLength(2);

    await forgetClient({ config, clients: aws.clients, request: { customerId: 'vip' }, at: NOW + 600_000 });
    // Only vip#2's is left.
    expect(await taskEmails()).toEqual([expect.stringMatching(/^advisor-task#vip#2#[a-z]/)]);
  });

  it('deletes the task email a former advisor never had (deferred), after the client was handed to another advisor', { timeout: 120_000 }, async () => {
    const NOW = at('2026-11-23 10:00', ZONE);
    const config = await advisorsConfig(aws, 'forget-former-advisor');
    const sophie = 'sophie@forget-former-advisor.example.com';
    const marc = 'marc@forget-former-advisor.example.com';
    await writeRoster(aws.clients.s3, config, {
      runDate: '2026-11-22',
      advisors: [
        { advisorId: 'A01', name: 'Sophie Martin', email: sophie, locale: 'en', active: true },
        { advisorId: 'A02', name: 'Marc Dubois', email: marc, locale: 'en', active: true },
      ],
    });
    const vic = (advisorId: string) =>
      profileItem('ffa-gone', { tier: 'VIC', stage: 'sleeping', advisorId, locale: 'en', timeZone: ZONE, firstOrderAt: '2025-01-10T10:00:00.000Z', lastOrderAt: iso(at('2026-09-24 12:00', ZONE)), orderCount: 6 });
    await seedProfiles(aws, config, [vic('A01')]);
    // Sophie's task email is throttled: its entry stays 'deferred', and no task of hers is written.
    await runCampaignHour(aws, config, NOW, 'ffa-h1', { mailer: throttledFor(sophie) });
    expect(await emailsTo(aws, sophie)).toEqual([]);
    expect((await ledgerNaming(config, 'ffa-gone')).map((e) => [e.customerId, e.status])).toContainEqual(['advisor#A01', 'deferred']);
    // Handed to Marc, whose task email goes.
    await seedProfiles(aws, config, [vic('A02')]);
    await runCampaignHour(aws, config, NOW + DAY, 'ffa-h2');
    expect(await emailsTo(aws, marc)).toHaveLength(1);

    await forgetClient({ config, clients: aws.clients, request: { customerId: 'ffa-gone' }, at: NOW + DAY + HOUR });
    expect(await ledgerNaming(config, 'ffa-gone')).toEqual([]);
  });

  it('deletes the deferred task email of an advisor the next roster file no longer lists (taken out, her book handed over)', { timeout: 120_000 }, async () => {
    const NOW = at('2026-11-23 10:00', ZONE);
    const config = await advisorsConfig(aws, 'forget-advisor-out-of-roster');
    const sophie = 'sophie@forget-advisor-out-of-roster.example.com';
    const marc = 'marc@forget-advisor-out-of-roster.example.com';
    const marcRow = { advisorId: 'A02', name: 'Marc Dubois', email: marc, locale: 'en', active: true };
    await writeRoster(aws.clients.s3, config, { runDate: '2026-11-22', advisors: [{ advisorId: 'A01', name: 'Sophie Martin', email: sophie, locale: 'en', active: true }, marcRow] });
    const vic = (advisorId: string) =>
      profileItem('far-gone', { tier: 'VIC', stage: 'sleeping', advisorId, locale: 'en', timeZone: ZONE, firstOrderAt: '2025-01-10T10:00:00.000Z', lastOrderAt: iso(at('2026-09-24 12:00', ZONE)), orderCount: 6 });
    await seedProfiles(aws, config, [vic('A01')]);
    await runCampaignHour(aws, config, NOW, 'far-h1', { mailer: throttledFor(sophie) });
    expect((await ledgerNaming(config, 'far-gone')).map((e) => [e.customerId, e.status])).toContainEqual(['advisor#A01', 'deferred']);
    // That night's roster file lists Marc alone (the nightly run's roster step), and her book goes to him.
    const file = 's3://exports/2026-11-23/advisors.csv';
    const settled = await settleRoster(aws.clients.s3, config, { runDate: '2026-11-23', files: [{ location: file, kind: 'advisors', rows: 1, rejected: 0 }], advisors: [{ record: marcRow, file, line: 2 }] });
    expect(settled.outcome).toMatchObject({ status: 'updated', advisors: 1 });
    await seedProfiles(aws, config, [vic('A02')]);
    await runCampaignHour(aws, config, NOW + DAY, 'far-h2');
    expect(await emailsTo(aws, marc)).toHaveLength(1);

    await forgetClient({ config, clients: aws.clients, request: { customerId: 'far-gone' }, at: NOW + DAY + HOUR });
    expect(await ledgerNaming(config, 'far-gone')).toEqual([]);
  });
});
