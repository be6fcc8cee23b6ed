import { describe, expect, it } from 'vitest';
import { introductionKey } from '#shared/advisors/handover.ts';
import { createSesMailer } from '#shared/delivery/ses-mailer.ts';
import { advisorDigestLedgerKey, advisorDigestsOfNight, digestNightOf, sendAdvisorDigests } from '#shared/digests/advisor-digests.ts';
import { getLedgerEntry } from '#shared/store/ledger-store.ts';
import { readBookPairs, writeRoster } from '#shared/store/roster-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { getTask } from '#shared/store/task-store.ts';
import { runClock } from '#shared/tiering/profile.ts';
import { advisorsConfig, UNSUBSCRIBE_SECRET } from '#test/support/campaign-runs.ts';
import { seedProfiles } from '#test/support/emulator-data.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { maxSendRateExceeded, sesRefusing } from '#test/support/refusing-ses.ts';
import { emailsTo } from '#test/support/ses-store.ts';

/**
 * The advisors' weekly digests across ISO week 2020-W53 (2020-12-28..2021-01-03,
 * the shape 2026-W53 will have) and into 2021-W01: one digest per advisor and digest week, keyed on
 * the digest day's ISO week, whatever the weekday; a handover seen in W53 introduced once, under
 * W53's key; digests deferred on the digest day sent by the nights after it, across the new year.
 */
const aws = sharedAws();
const ZONE = 'Asia/Shanghai';
/** The night's clock of a run date: the start of the next local day (the digests are claimed then). */
const clockOf = (runDate: string) => runClock(runDate, ZONE).now;
/**
 * The emulator's DynamoDB expires items by the machine's clock (2026): ledger entries and tasks of
 * 2020 kept the default 400 days would vanish mid-test (a digest then sent twice). Ten years.
 */
const LONG_RETENTION = { sender: { ...aws.config.sender, maxSendRate: 500, fromAddress: 'hello@maison.example.com', ledgerRetentionDays: 3650 } };

const vic = (id: string, advisorId: string, extra: Parameters<typeof profileItem>[1] = {}) =>
  profileItem(id, {
    tier: 'VIC',
    stage: 'active',
    advisorId,
    spend12mMinor: 7_000_000,
    lastOrderAt: '2020-12-01T02:00:00.000Z',
    firstOrderAt: '2019-02-01T02:00:00.000Z',
    orderCount: 8,
    locale: 'en',
    ...extra,
  });

describe('advisor digests across 2020-W53 (Sunday digests)', () => {
  it('W52, W53 and W01 each mail one digest per advisor; a W53 handover is introduced once under 2020-W53; a late rerun of W53 sends nothing', { timeout: 180_000 }, async () => {
    const config = await advisorsConfig(aws, 'ye39-sunday', { timeZone: ZONE, ...LONG_RETENTION });
    const sophie = 'sophie@ye39-sunday.example.com';
    const marc = 'marc@ye39-sunday.example.com';
    await writeRoster(aws.clients.s3, config, {
      runDate: '2020-12-20',
      advisors: [
        { advisorId: 'A01', name: 'Sophie Martin', email: sophie, locale: 'en', active: true },
        { advisorId: 'A02', name: 'Marc Dubois', email: marc, locale: 'en', active: true },
      ],
    });
    // Birthdays on both sides of the new year: the book of Sunday 2020-12-27 covers 12-28..01-03.
    await seedProfiles(aws, config, [vic('ye-ny', 'A01', { birthday: '1980-01-01' }), vic('ye-eve', 'A01', { birthday: '12-31' }), vic('ye-b', 'A02', { birthday: '1975-01-05' })]);
    const digests = (runDate: string, runId: string, digestDate = runDate) =>
      sendAdvisorDigests({ at: clockOf(runDate), runDate, digestDate, runId, config, clients: aws.clients, unsubscribeSecret: UNSUBSCRIBE_SECRET, dryRun: false });

    const w52 = await digests('2020-12-27', 'w52');
    expect(w52.week).toBe('2020-W52');
    expect(w52.advisors.map((a) => [a.advisorId, a.outcome, a.reasonCounts.birthday])).toEqual([
      ['A01', 'sent', 2],
      ['A02', 'no-rows', 0],
    ]);

    // In W53 the brand hands ye-ny to Marc; ye-b's birthday (01-05) is in the week after Sunday 2021-01-03.
    await seedProfiles(aws, config, [vic('ye-ny', 'A02', { birthday: '1980-01-01' })]);
    const w53 = await digests('2021-01-03', 'w53');
    expect(w53.week).toBe('2020-W53');
    expect(w53.handovers).toBe(1);
    expect(w53.advisors.find((a) => a.advisorId === 'A02')).toMatchObject({ outcome: 'sent', introductions: 1, introductionTasks: 1 });
    const task = await getTask(aws.clients.documents, tableNames(config).advisorTasks, { customerId: 'ye-ny', occasionKey: introductionKey({ to: 'A02' }, '2020-W53') });
    expect(task?.status).toBe('open');
    expect(await getLedgerEntry(aws.clients.documents, tableNames(config).sendLedger, advisorDigestLedgerKey('A02', '2021-01-03'))).toMatchObject({ status: 'sent', occasionKey: 'advisor-digest#2020-W53' });

    // The next week: 2021-W01, no handover again.
    const w01 = await digests('2021-01-10', 'w01');
    expect(w01.week).toBe('2021-W01');
    expect(w01.handovers ?? 0).toBe(0);
    expect((await readBookPairs(aws.clients.s3, config))?.week).toBe('2021-W01');

    // An operator's `run advisor-digests --date 2021-01-05` after W01's: W53's digest week (Sunday 2021-01-03), all already sent, the pairs left alone.
    const late = await digests('2021-01-05', 'w53-late', digestNightOf('2021-01-05', 'sunday').digestDate);
    expect(late.week).toBe('2020-W53');
    expect(late.handovers ?? 0).toBe(0);
    expect(late.totals.sent).toBe(0);
    expect((await readBookPairs(aws.clients.s3, config))?.week).toBe('2021-W01');

    // Sophie: W52 only (both birthdays; nobody to contact after). Marc: W53 only (the introduction and ye-b's birthday; nothing in W01's week).
    const subjects = async (address: string) => (await emailsTo(aws, address)).map((m) => m.subject);
    expect(await subjects(sophie)).toEqual(['Your client book for 28 December – 3 January: 2 clients to contact']);
    expect(await subjects(marc)).toEqual([expect.stringMatching(/^Your client book for 4–10 January/)]);
  });
});

describe('a digest deferred on its day, sent by a night of its week in the new year', () => {
  const throttledSes = sesRefusing(aws.clients.ses, () => maxSendRateExceeded());
  const throttled = createSesMailer(throttledSes, { maxSendRate: 50, baseDelayMs: 1, maxAttempts: 2 });

  it('Monday digests: deferred on Monday 2020-12-28 (W53), sent on Sunday 2021-01-03 (the last night of its week) under 2020-W53; Monday 2021-01-04 sends W01 apart', { timeout: 120_000 }, async () => {
    const config = await advisorsConfig(aws, 'ye39-monday', { timeZone: ZONE, ...LONG_RETENTION, reports: { advisorDigestWeekday: 'monday', advisors: { M1: { email: 'm1@ye39-monday.example.com' } } } });
    await seedProfiles(aws, config, [vic('ym-1', 'M1', { birthday: '01-02' }), vic('ym-2', 'M1', { birthday: '01-06' })]);
    const night = (runDate: string, mailer?: typeof throttled) =>
      advisorDigestsOfNight({ at: clockOf(runDate), runDate, runId: `m-${runDate}`, config, clients: aws.clients, ...(mailer === undefined ? {} : { mailer }) });

    expect((await night('2020-12-28', throttled)).advisorDigests).toMatchObject({ week: '2020-W53', mode: 'all', totals: { deferred: 1 } });
    expect((await night('2021-01-02', throttled)).advisorDigests).toMatchObject({ week: '2020-W53', mode: 'pending', totals: { deferred: 1 } });
    const sunday = (await night('2021-01-03')).advisorDigests;
    expect(sunday).toMatchObject({ digestDate: '2020-12-28', week: '2020-W53', mode: 'pending', totals: { sent: 1 } });
    expect(sunday?.unsent).toBeUndefined();
    const monday = (await night('2021-01-04')).advisorDigests;
    expect(monday).toMatchObject({ digestDate: '2021-01-04', week: '2021-W01', mode: 'all', totals: { sent: 1 } });
    expect(await emailsTo(aws, 'm1@ye39-monday.example.com')).toHaveLength(2);
    // Rerunning those nights sends nothing more.
    expect((await night('2021-01-03')).advisorDigests).toBeUndefined();
    expect((await night('2021-01-04')).advisorDigests?.totals.sent ?? 0).toBe(0);
    expect(await emailsTo(aws, 'm1@ye39-monday.example.com')).toHaveLength(2);
  });

  it('Friday digests: the digest day is 2021-01-01 (a Friday of 2020-W53): deferred, then sent on 2021-01-02 under 2020-W53, once; 2021-01-08 is 2021-W01', { timeout: 120_000 }, async () => {
    const config = await advisorsConfig(aws, 'ye39-friday', { timeZone: ZONE, ...LONG_RETENTION, reports: { advisorDigestWeekday: 'friday', advisors: { F1: { email: 'f1@ye39-friday.example.com' } } } });
    // One birthday in each book: 12-26..01-01, 01-02..01-08, 01-09..01-15.
    await seedProfiles(aws, config, [vic('yf-0', 'F1', { birthday: '12-30' }), vic('yf-1', 'F1', { birthday: '01-05' }), vic('yf-2', 'F1', { birthday: '01-10' })]);
    const night = (runDate: string, mailer?: typeof throttled) =>
      advisorDigestsOfNight({ at: clockOf(runDate), runDate, runId: `f-${runDate}`, config, clients: aws.clients, ...(mailer === undefined ? {} : { mailer }) });

    expect((await night('2020-12-25')).advisorDigests).toMatchObject({ week: '2020-W52', mode: 'all', totals: { sent: 1 } });
    expect((await night('2021-01-01', throttled)).advisorDigests).toMatchObject({ week: '2020-W53', mode: 'all', totals: { deferred: 1 } });
    expect((await night('2021-01-02')).advisorDigests).toMatchObject({ digestDate: '2021-01-01', week: '2020-W53', mode: 'pending', totals: { sent: 1 } });
    expect((await night('2021-01-03')).advisorDigests).toBeUndefined();
    expect((await night('2021-01-08')).advisorDigests).toMatchObject({ week: '2021-W01', mode: 'all', totals: { sent: 1 } });
    expect(await emailsTo(aws, 'f1@ye39-friday.example.com')).toHaveLength(3);
  });

  it('Sunday digests: the night of Sunday 2021-01-03 missed; Monday 2021-01-04 runs W53\'s digests whole, under 2020-W53, and Sunday 2021-01-10 W01\'s', { timeout: 120_000 }, async () => {
    const config = await advisorsConfig(aws, 'ye39-missed', { timeZone: ZONE, ...LONG_RETENTION, reports: { advisors: { S1: { email: 's1@ye39-missed.example.com' } } } });
    await seedProfiles(aws, config, [vic('ys-1', 'S1', { birthday: '01-06' }), vic('ys-2', 'S1', { birthday: '01-12' })]);
    const night = (runDate: string, earlier?: { nights: never[]; digestDayDue: boolean }) =>
      advisorDigestsOfNight({
        at: clockOf(runDate),
        runDate,
        runId: `s-${runDate}`,
        config,
        clients: aws.clients,
        ...(earlier === undefined ? {} : { earlierDigestRuns: () => Promise.resolve(earlier) }),
      });
    const monday = (await night('2021-01-04', { nights: [], digestDayDue: true })).advisorDigests;
    expect(monday).toMatchObject({ digestDate: '2021-01-03', week: '2020-W53', mode: 'all', totals: { sent: 1 } });
    const next = (await night('2021-01-10')).advisorDigests;
    expect(next).toMatchObject({ digestDate: '2021-01-10', week: '2021-W01', mode: 'all', totals: { sent: 1 } });
    expect(await emailsTo(aws, 's1@ye39-missed.example.com')).toHaveLength(2);
  });

  it('a W53 handover carried by a digest deferred on Sunday 2021-01-03 is introduced by Monday 2021-01-04\'s night under 2020-W53, once, and not again in W01', { timeout: 120_000 }, async () => {
    const config = await advisorsConfig(aws, 'ye39-handover-deferred', { timeZone: ZONE, ...LONG_RETENTION });
    const marc = 'marc@ye39-handover-deferred.example.com';
    await writeRoster(aws.clients.s3, config, {
      runDate: '2020-12-20',
      advisors: [
        { advisorId: 'A01', name: 'Sophie Martin', email: 'sophie@ye39-handover-deferred.example.com', locale: 'en', active: true },
        { advisorId: 'A02', name: 'Marc Dubois', email: marc, locale: 'en', active: true },
      ],
    });
    await seedProfiles(aws, config, [vic('hd-1', 'A01'), vic('hd-2', 'A02', { birthday: '01-06' })]);
    const night = (runDate: string, mailer?: typeof throttled) =>
      advisorDigestsOfNight({ at: clockOf(runDate), runDate, runId: `hd-${runDate}`, config, clients: aws.clients, unsubscribeSecret: UNSUBSCRIBE_SECRET, ...(mailer === undefined ? {} : { mailer }) });
    await night('2020-12-27');
    await seedProfiles(aws, config, [vic('hd-1', 'A02')]);
    expect((await night('2021-01-03', throttled)).advisorDigests).toMatchObject({ week: '2020-W53', handovers: 1, totals: { deferred: 1 } });
    const monday = (await night('2021-01-04')).advisorDigests;
    expect(monday).toMatchObject({ digestDate: '2021-01-03', week: '2020-W53', mode: 'pending', totals: { sent: 1, introductionTasks: 1 } });
    const task = await getTask(aws.clients.documents, tableNames(config).advisorTasks, { customerId: 'hd-1', occasionKey: introductionKey({ to: 'A02' }, '2020-W53') });
    expect(task?.advisorId).toBe('A02');
    const w01 = (await night('2021-01-10')).advisorDigests;
    expect(w01?.week).toBe('2021-W01');
    expect(w01?.handovers ?? 0).toBe(0);
    expect((await emailsTo(aws, marc)).filter((m) => (m.body.text ?? '').includes('handed over to you'))).toHaveLength(1);
  });
});
