import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { introductionKey } from '#shared/advisors/handover.ts';
import { advisorDigestLedgerKey, advisorDigestsOfNight, sendAdvisorDigests, type AdvisorDigestSummary } from '#shared/digests/advisor-digests.ts';
import { formatAdvisorDigestSummary } from '#local/format.ts';
import { getLedgerEntry } from '#shared/store/ledger-store.ts';
import { putRun } from '#shared/store/runs-store.ts';
import { writeRoster } from '#shared/store/roster-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { deleteTasks, getTask } from '#shared/store/task-store.ts';
import { advisorsConfig, runCampaignHour, UNSUBSCRIBE_SECRET } from '#test/support/campaign-runs.ts';
import { ledgerEntries, seedProfiles } from '#test/support/emulator-data.ts';
import { clienteleExit } from '#test/support/cli.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { at, DAY, HOUR } from '#test/support/time.ts';

/**
 * A rerun of the week's digests (an operator's `run advisor-digests`, a corrected export's night)
 * finds the digest sent: it gives the introductions the sent digest carried, recorded with its
 * ledger entry, and none the advisor never read about. Its dry run reads the same ledger entries.
 */
const aws = sharedAws();
const work = scratchDir('digest-rerun');
const ZONE = 'Asia/Shanghai';
const WEEK_48 = at('2026-11-23 02:30', ZONE);
const MARC = 'marc@digest-rerun.example.com';

describe('a rerun of the week\'s advisor digests', () => {
  it('gives introduction tasks only for the handovers the sent digest carried', { timeout: 120_000 }, async () => {
    const config = await advisorsConfig(aws, 'digest-rerun', { timeZone: ZONE });
    await writeRoster(aws.clients.s3, config, {
      runDate: '2026-11-15',
      advisors: [
        { advisorId: 'A01', name: 'Sophie Martin', email: 'sophie@digest-rerun.example.com', locale: 'en', active: true },
        { advisorId: 'A02', name: 'Marc Dubois', email: MARC, locale: 'en', active: true },
      ],
    });
    const client = (id: string, advisorId: string) =>
      profileItem(id, { tier: 'VIC', stage: 'active', advisorId, spend12mMinor: 7_000_000, lastOrderAt: '2026-11-01T02:00:00.000Z', firstOrderAt: '2025-02-01T02:00:00.000Z', orderCount: 8, locale: 'en' });
    const tasksTable = tableNames(config).advisorTasks;
    const introduction = (customerId: string) => getTask(aws.clients.documents, tasksTable, { customerId, occasionKey: introductionKey({ to: 'A02' }, '2026-W48') });
    const digests = (runDate: string, runId: string, now: number) => sendAdvisorDigests({ at: now, runDate, runId, config, clients: aws.clients, unsubscribeSecret: UNSUBSCRIBE_SECRET });
    await seedProfiles(aws, config, [client('dr-1', 'A01'), client('dr-2', 'A01')]);
    await digests('2026-11-16', 'w47', WEEK_48 - 7 * DAY);

    // Week 48: dr-1 is handed to A02; Marc's digest carries that one introduction, recorded with its ledger entry.
    await seedProfiles(aws, config, [client('dr-1', 'A02')]);
    const first = await digests('2026-11-23', 'w48', WEEK_48);
    expect(first.advisors.find((a) => a.advisorId === 'A02')).toMatchObject({ outcome: 'sent', introductions: 1, introductionTasks: 1 });
    const ledgerKey = advisorDigestLedgerKey('A02', '2026-11-23');
    const ledgerTable = tableNames(config).sendLedger;
    expect((await getLedgerEntry(aws.clients.documents, ledgerTable, ledgerKey))?.introduced).toEqual(['dr-1']);

    // dr-2 is handed over too, later that week, and the week's digests are run again.
    await seedProfiles(aws, config, [client('dr-2', 'A02')]);
    const rerun = await digests('2026-11-23', 'w48-rerun', WEEK_48 + 6 * HOUR);
    expect(rerun.advisors.find((a) => a.advisorId === 'A02')).toMatchObject({ outcome: 'already-sent', introductionTasks: 0 });
    expect(await introduction('dr-2')).toBeUndefined();
    expect(await introduction('dr-1')).toMatchObject({ advisorId: 'A02', status: 'open' });
    expect(await emailsTo(aws, MARC)).toHaveLength(1);

    // A run that sent the digest and stopped before giving its tasks: the rerun gives the carried one.
    await deleteTasks(aws.clients.documents, tasksTable, [{ customerId: 'dr-1', occasionKey: introductionKey({ to: 'A02' }, '2026-W48') }]);
    const recovering = await digests('2026-11-23', 'w48-recover', WEEK_48 + 7 * HOUR);
    expect(recovering.advisors.find((a) => a.advisorId === 'A02')).toMatchObject({ outcome: 'already-sent', introductionTasks: 1 });
    expect(await introduction('dr-2')).toBeUndefined();

    // An entry written before the list was kept: a rerun gives no introduction at all.
    await deleteTasks(aws.clients.documents, tasksTable, [{ customerId: 'dr-1', occasionKey: introductionKey({ to: 'A02' }, '2026-W48') }]);
    await aws.clients.documents.send(new UpdateCommand({ TableName: ledgerTable, Key: ledgerKey, UpdateExpression: 'REMOVE introduced' }));
    const legacy = await digests('2026-11-23', 'w48-legacy', WEEK_48 + 8 * HOUR);
    expect(legacy.advisors.find((a) => a.advisorId === 'A02')).toMatchObject({ outcome: 'already-sent', introductionTasks: 0 });
    expect(await introduction('dr-1')).toBeUndefined();

    // Days later, nothing goes to dr-2 in Marc's name.
    await runCampaignHour(aws, config, WEEK_48 + 4 * DAY + 8 * HOUR, 'dr-late');
    expect(await emailsTo(aws, 'dr-2@example.com')).toHaveLength(0);

    // dr-2's handover, seen only by the week's reruns, is introduced by next week's digest (the reruns kept the digest day's pairs).
    const next = await digests('2026-11-30', 'w49', WEEK_48 + 7 * DAY);
    expect(next.handovers).toBe(1);
    expect(next.advisors.find((a) => a.advisorId === 'A02')).toMatchObject({ outcome: 'sent', introductions: 1, introductionTasks: 1 });
    expect(await getTask(aws.clients.documents, tasksTable, { customerId: 'dr-2', occasionKey: introductionKey({ to: 'A02' }, '2026-W49') })).toMatchObject({ advisorId: 'A02', status: 'open' });
    expect((await getLedgerEntry(aws.clients.documents, ledgerTable, advisorDigestLedgerKey('A02', '2026-11-30')))?.introduced).toEqual(['dr-2']);
  });

  it('`run advisor-digests --dry-run` reads the week\'s ledger: a digest already sent is reported so, and the dry run writes nothing', { timeout: 120_000 }, async () => {
    const config = await advisorsConfig(aws, 'digest-dry-run', { timeZone: ZONE });
    const file = join(work, 'dry-run-config.json');
    await writeFile(file, JSON.stringify(config));
    await writeRoster(aws.clients.s3, config, {
      runDate: '2026-11-15',
      advisors: [{ advisorId: 'A01', name: 'Sophie Martin', email: 'sophie@digest-dry-run.example.com', locale: 'en', active: true }],
    });
    await seedProfiles(aws, config, [
      // A VIC gone quiet: a reason to call this week.
      profileItem('dd-1', { tier: 'VIC', stage: 'sleeping', advisorId: 'A01', spend12mMinor: 7_000_000, lastOrderAt: '2026-08-01T02:00:00.000Z', firstOrderAt: '2025-02-01T02:00:00.000Z', orderCount: 8, locale: 'en' }),
    ]);
    const dryRun = async () => {
      const { code, stdout, stderr } = await clienteleExit(['run', 'advisor-digests', '--date', '2026-11-23', '--dry-run', '--json', '--log-level', 'error', '--config', file]);
      expect(code, stderr).toBe(0);
      return JSON.parse(stdout) as AdvisorDigestSummary;
    };

    const before = await dryRun();
    expect(before.totals).toMatchObject({ 'dry-run': 1, 'already-sent': 0 });
    expect(await ledgerEntries(aws, config)).toEqual([]);

    // The night of Sunday 22 (the digest day): Monday 23 is in its digest week.
    await sendAdvisorDigests({ at: WEEK_48, runDate: '2026-11-22', runId: 'w47', config, clients: aws.clients });
    const after = await dryRun();
    expect(after.totals).toMatchObject({ 'dry-run': 0, 'already-sent': 1, sent: 0 });
    expect(after.advisors).toEqual([expect.objectContaining({ advisorId: 'A01', outcome: 'already-sent', reason: 'ledger: sent' })]);
    expect(after.books).toEqual([]);
    expect(formatAdvisorDigestSummary(after, config.currency)).toContain('0 to send (dry run), 0 with no client to contact, 1 already sent this week');
    expect(await emailsTo(aws, 'sophie@digest-dry-run.example.com')).toHaveLength(1);
  });

  it('`run advisor-digests --date` on a day that is not the digest day sends the digest week\'s digests not sent yet, and leaves next digest day\'s alone', { timeout: 120_000 }, async () => {
    const config = await advisorsConfig(aws, 'digest-midweek', { timeZone: ZONE });
    expect(config.reports.advisorDigestWeekday).toBe('sunday');
    const file = join(work, 'midweek-config.json');
    await writeFile(file, JSON.stringify(config));
    const sophie = 'sophie@digest-midweek.example.com';
    // Birthdays over the fortnight: each week has a client to call.
    const vic = (id: string, birthday: string) =>
      profileItem(id, { tier: 'VIC', stage: 'active', advisorId: 'A01', spend12mMinor: 7_000_000, birthday, lastOrderAt: '2026-11-01T02:00:00.000Z', firstOrderAt: '2025-02-01T02:00:00.000Z', orderCount: 8, locale: 'en' });
    await seedProfiles(aws, config, [vic('mw-1', '11-24'), vic('mw-2', '11-26'), vic('mw-3', '12-03'), vic('mw-4', '12-05')]);
    const night = (runDate: string, runId: string) => advisorDigestsOfNight({ runDate, runId, config, clients: aws.clients, at: at(`${runDate} 02:30`, ZONE) + DAY, unsubscribeSecret: UNSUBSCRIBE_SECRET });
    const manual = async (date: string) => {
      const { code, stdout, stderr } = await clienteleExit(['run', 'advisor-digests', '--date', date, '--json', '--log-level', 'error', '--config', file]);
      expect(code, stderr).toBe(0);
      return JSON.parse(stdout) as AdvisorDigestSummary;
    };
    // The digests of a date are made from its night's profiles: the nights of the week, completed.
    for (const runDate of ['2026-11-24', '2026-11-26']) await putRun(aws.clients.documents, tableNames(config).runs, { job: 'nightly', runDate, status: 'completed', runId: `night-${runDate}` });

    // Sunday 22: no roster yet, no digest. Tuesday 24, once the roster is in: the operator sends the week's digest.
    expect(await night('2026-11-22', 'sun-22')).toEqual({});
    await writeRoster(aws.clients.s3, config, { runDate: '2026-11-15', advisors: [{ advisorId: 'A01', name: 'Sophie Martin', email: sophie, locale: 'en', active: true }] });
    const tuesday = await manual('2026-11-24');
    expect(tuesday).toMatchObject({ runDate: '2026-11-24', digestDate: '2026-11-22', week: '2026-W47', totals: { sent: 1 } });
    expect(await getLedgerEntry(aws.clients.documents, tableNames(config).sendLedger, advisorDigestLedgerKey('A01', '2026-11-22'))).toMatchObject({ status: 'sent' });
    // Again on Thursday: that week's digest went already.
    expect((await manual('2026-11-26')).totals).toMatchObject({ sent: 0, 'already-sent': 1 });

    // Sunday 29's scheduled digest (the week of 30 Nov to 6 Dec) goes out as usual.
    const sunday29 = await night('2026-11-29', 'sun-29');
    expect(sunday29.advisorDigests).toMatchObject({ week: '2026-W48', totals: { sent: 1 } });
    const mails = await emailsTo(aws, sophie);
    expect(mails).toHaveLength(2);
    expect(mails[1]?.body.text).toContain('mw-3');
  });

  it('`run advisor-digests --date` refuses a date no night completed (a typo in the year, a failed night): nothing sent, nothing written', { timeout: 120_000 }, async () => {
    const config = await advisorsConfig(aws, 'digest-no-night', { timeZone: ZONE });
    const file = join(work, 'no-night-config.json');
    await writeFile(file, JSON.stringify(config));
    const sophie = 'sophie@digest-no-night.example.com';
    await writeRoster(aws.clients.s3, config, { runDate: '2026-11-15', advisors: [{ advisorId: 'A01', name: 'Sophie Martin', email: sophie, locale: 'en', active: true }] });
    await seedProfiles(aws, config, [
      profileItem('nn-1', { tier: 'VIC', stage: 'sleeping', advisorId: 'A01', spend12mMinor: 7_000_000, lastOrderAt: '2026-08-01T02:00:00.000Z', firstOrderAt: '2025-02-01T02:00:00.000Z', orderCount: 8, locale: 'en' }),
    ]);
    // A night still being written is not a completed one either.
    await putRun(aws.clients.documents, tableNames(config).runs, { job: 'nightly', runDate: '2026-11-22', status: 'writing', runId: 'night-writing' });
    for (const date of ['2099-11-22', '2025-11-23', '2026-11-22']) {
      const { code, stdout, stderr } = await clienteleExit(['run', 'advisor-digests', '--date', date, '--json', '--log-level', 'error', '--config', file]);
      expect(code, stderr).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toContain(`No completed nightly run is stored for ${date}`);
    }
    expect(await emailsTo(aws, sophie)).toEqual([]);
    expect(await ledgerEntries(aws, config)).toEqual([]);
  });
});
