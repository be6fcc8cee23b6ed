import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tableNames } from '#shared/store/tables.ts';
import { generateExport } from '#local/generate/generate.ts';
import { parseConfig, type Config, type ConfigInput } from '#shared/config.ts';
import { createSesMailer } from '#shared/delivery/ses-mailer.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { advisorDigestLedgerKey, advisorDigestsOfNight, sendAdvisorDigests } from '#shared/digests/advisor-digests.ts';
import { recordErasure } from '#shared/store/erasure-store.ts';
import { getLedgerEntry } from '#shared/store/ledger-store.ts';
import { getProfile, scanProfiles } from '#shared/store/profile-store.ts';
import { deployedRole } from '#test/support/deployed-role.ts';
import { seedProfiles, uploadExport } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { addressedTo, awsError, maxSendRateExceeded, sesRefusing } from '#test/support/refusing-ses.ts';
import { emailsTo, type StoredEmail } from '#test/support/ses-store.ts';

/**
 * The advisors' weekly digests on the embedded AWS: a generated export, the nightly run on the
 * digest weekday (with what the nightly function's role allows), the emails read back from the SES
 * emulator; then reruns that must send nothing.
 */

// A Monday (the default digest weekday), and the Sunday before it.
const RUN_DATE = '2026-11-23';
const SUNDAY = '2026-11-22';
const WEDNESDAY = '2026-11-25';
const CUSTOMERS = 800;
// Below the smaller book's clients with a reason (A02's 3 in the generated base): both books are capped.
const MAX_ROWS = 2;
// The generator shares 800 clients between two advisors, A01 and A02.
const ADVISORS = { A01: 'en', A02: 'zh-CN' } as const;
const addressOf = (advisorId: string) => `${advisorId.toLowerCase()}@digest-advisors.example.com`;
/**
 * Every advisor address of this file: the only mail a night or a digest run of these configs can
 * send. A domain of its own: the SES emulator is shared by the files running beside this one.
 */
const toAnAdvisor = (address: string) => address.endsWith('@digest-advisors.example.com');

const aws = sharedAws();
const nightlyRole = deployedRole(aws, 'nightly');
const work = scratchDir('advisors');

function isolatedConfig(name: string, reports: ConfigInput['reports']): Promise<Config> {
  return scenarioConfig(aws, name, {
    sender: { ...aws.config.sender, maxSendRate: 500 },
    // These tests run the nights of Monday 2026-11-23 (and a Sunday and a Wednesday around it).
    reports: { advisorDigestWeekday: 'monday', ...reports },
  });
}

/** The numbered client cards of a digest's text part ("1. Lin Wang"). */
const cardsOf = (email: StoredEmail) => (email.body.text ?? '').split('\n').filter((line) => /^\d+\. /.test(line));

describe('advisor digests on the embedded AWS', () => {
  // A generated export and three nightly runs: more than the default minute on two busy cores.
  it('the Monday night mails each configured advisor with clients to contact once, in their language, capped; reruns of the week send nothing', { timeout: 240_000 }, async () => {
    const advisors = Object.fromEntries(Object.entries(ADVISORS).map(([id, locale]) => [id, { email: addressOf(id), name: `Advisor ${id}`, locale }]));
    const config = await isolatedConfig('digests', { advisors, advisorDigestMaxRows: MAX_ROWS });
    const dir = join(work, 'export');
    // The advisors of this test are the configuration's: no roster in the export (a roster's would win).
    await generateExport({ customers: CUSTOMERS, seed: 11, asOf: RUN_DATE, timeZone: config.timeZone, roster: false }, dir);
    for (const night of [SUNDAY, RUN_DATE]) await uploadExport(aws, config, dir, night);

    // Sunday is not the digest day: nothing is sent.
    const clients = nightlyRole.clients(config);
    const sunday = await runNightly({ clock: Date.now, runDate: SUNDAY, runId: 'sunday', config, clients });
    expect(sunday.advisorDigests).toBeUndefined();
    expect(await emailsTo(aws, toAnAdvisor)).toEqual([]);

    // What Monday's digests will hold, without sending: ids and reasons, no names or addresses.
    const preview = await sendAdvisorDigests({ at: Date.now(), runDate: RUN_DATE, runId: 'preview', config, clients: aws.clients, dryRun: true });
    expect(preview.totals.sent).toBe(0);
    expect(JSON.stringify(preview)).not.toMatch(/@example\.com/);

    const monday = await runNightly({ clock: Date.now, runDate: RUN_DATE, runId: 'monday', config, clients });
    const digests = monday.advisorDigests;
    expect(digests).toBeDefined();
    if (!digests) return;
    expect(digests.week).toBe('2026-W48');
    const sent = digests.advisors.filter((a) => a.outcome === 'sent');
    // Both books have more clients to contact than the cap in the generated base.
    expect(sent.map((a) => [a.advisorId, a.locale])).toEqual(Object.entries(ADVISORS));
    expect(sent.every((a) => a.withReasons > MAX_ROWS && a.rows === MAX_ROWS)).toBe(true);
    // The dry run saw the same books.
    expect(preview.books?.map((b) => [b.advisorId, b.rows.length])).toEqual(sent.map((a) => [a.advisorId, a.rows]));

    // Every advisor the profiles name is configured.
    const onProfiles = new Set<string>();
    for await (const p of scanProfiles(aws.clients.documents, tableNames(config).profiles)) if (p.advisorId) onProfiles.add(p.advisorId);
    expect([...onProfiles].sort()).toEqual(Object.keys(ADVISORS));
    expect(digests.unconfiguredAdvisors).toEqual({ count: 0, ids: [] });

    for (const result of digests.advisors) {
      const emails = await emailsTo(aws, addressOf(result.advisorId));
      if (result.outcome !== 'sent') {
        expect(result.rows, result.advisorId).toBe(0);
        expect(emails, result.advisorId).toEqual([]);
        continue;
      }
      expect(emails, result.advisorId).toHaveLength(1);
      const [email] = emails as [StoredEmail];
      expect(email.from).toBe(config.sender.fromAddress);
      // Staff email, not marketing: no List-Unsubscribe.
      expect(email.headers ?? []).toEqual([]);
      expect(result.rows).toBeLessThanOrEqual(MAX_ROWS);
      expect(cardsOf(email)).toHaveLength(result.rows);
      if (result.locale === 'zh-CN') {
        expect(email.subject).toMatch(/^您的客户名册（11月24日至30日）：\d 位客户待联系$/);
        if (result.withReasons > MAX_ROWS) expect(email.body.text).toContain(`列表仅显示前 ${MAX_ROWS} 位`);
      } else {
        expect(email.subject).toMatch(/^Your client book for 24–30 November: \d clients? to contact$/);
        if (result.withReasons > MAX_ROWS) expect(email.body.text).toContain(`the list stops at ${MAX_ROWS}`);
      }
      // The advisor sees their own clients' names and addresses: it is their book.
      const book = preview.books?.find((b) => b.advisorId === result.advisorId);
      for (const row of book?.rows ?? []) {
        const stored = await getProfile(aws.clients.documents, tableNames(config).profiles, row.customerId);
        expect(stored?.advisorId).toBe(result.advisorId);
        expect(['VIC', 'Core']).toContain(stored?.tier);
        expect(email.body.text).toContain(row.customerId);
        if (stored?.email) expect(email.body.text).toContain(stored.email);
      }
      const entry = await getLedgerEntry(aws.clients.documents, tableNames(config).sendLedger, advisorDigestLedgerKey(result.advisorId, RUN_DATE));
      expect(entry).toMatchObject({ status: 'sent', campaignId: 'advisor-digest', messageId: email.messageId });
    }

    // The night rerun (on the same export: it returns the night as completed), and the command
    // later in the same ISO week: nothing more goes out.
    const before = (await emailsTo(aws, toAnAdvisor)).length;
    const rerun = await runNightly({ clock: Date.now, runDate: RUN_DATE, runId: 'monday-again', config, clients });
    expect(rerun.rerun).toBeDefined();
    expect(rerun.advisorDigests?.totals).toMatchObject({ sent: sent.length });
    const wednesday = await sendAdvisorDigests({ at: Date.now(), runDate: WEDNESDAY, runId: 'wednesday', config, clients: aws.clients });
    expect(wednesday.totals.sent).toBe(0);
    expect(wednesday.advisors.filter((a) => a.outcome === 'already-sent').map((a) => a.advisorId)).toEqual(
      expect.arrayContaining(sent.map((a) => a.advisorId)),
    );
    expect((await emailsTo(aws, toAnAdvisor)).length).toBe(before);
  });

  it('a refused address fails for the week; a throttled send is released and goes on the next run, once; an unconfigured advisor is counted', async () => {
    const config = await isolatedConfig('digest-failures', {
      advisors: { R1: { email: 'refused@digest-advisors.example.com' }, T1: { email: 'throttled@digest-advisors.example.com', locale: 'zh-CN' } },
    });
    // One VIC each, with a birthday in the week after the run date.
    await seedProfiles(aws, config, [
      profileItem('r-vic', { tier: 'VIC', spend12mMinor: 6_000_000, advisorId: 'R1', birthday: '1980-11-25' }),
      profileItem('t-vic', { tier: 'VIC', spend12mMinor: 6_000_000, advisorId: 'T1', birthday: '11-26' }),
      profileItem('x-vic', { tier: 'VIC', spend12mMinor: 6_000_000, advisorId: 'X9', birthday: '11-26' }),
    ]);
    const refusing = sesRefusing(aws.clients.ses, (command) => {
      if (addressedTo(command, 'refused@digest-advisors.example.com')) return awsError('MessageRejected', 'Illegal address');
      if (addressedTo(command, 'throttled@digest-advisors.example.com')) return maxSendRateExceeded();
      return undefined;
    });
    const mailer = createSesMailer(refusing, { maxSendRate: 50, baseDelayMs: 1, maxAttempts: 2 });
    const first = await sendAdvisorDigests({ at: Date.now(), runDate: RUN_DATE, runId: 'failing', config, clients: aws.clients, mailer });
    expect(first.advisors.map((a) => [a.advisorId, a.outcome, a.rows])).toEqual([
      ['R1', 'failed', 1],
      ['T1', 'deferred', 1],
    ]);
    expect(first.advisors[0]?.reason).toContain('MessageRejected');
    expect(first.unconfiguredAdvisors).toEqual({ count: 1, ids: ['X9'] });

    const second = await sendAdvisorDigests({ at: Date.now(), runDate: RUN_DATE, runId: 'next', config, clients: aws.clients });
    expect(second.advisors.map((a) => [a.advisorId, a.outcome])).toEqual([
      ['R1', 'already-sent'],
      ['T1', 'sent'],
    ]);
    expect(second.advisors[0]?.reason).toBe('ledger: failed');
    expect(await emailsTo(aws, 'refused@digest-advisors.example.com')).toEqual([]);
    const [chinese] = await emailsTo(aws, 'throttled@digest-advisors.example.com');
    expect(chinese?.subject).toBe('您的客户名册（11月24日至30日）：1 位客户待联系');
    expect(chinese?.body.text).toContain('11月26日生日。致电送上生日祝福，并赠送正装产品及小样。');
  });

  it('a client on the erasure list (a forget under way, a profile written back) is in no digest, by id or by address', async () => {
    const config = await isolatedConfig('digest-erased', { advisors: { E1: { email: 'erased@digest-advisors.example.com', name: 'Advisor E1', locale: 'en' } } });
    // Three VICs of E1 with a birthday in the week: one stays; a forget has recorded the other two's hashes
    // (its first step) and not yet deleted their profiles (its last): one asked for by id, one by address.
    const vic = (id: string) => profileItem(id, { tier: 'VIC', spend12mMinor: 6_000_000, advisorId: 'E1', birthday: '11-26' });
    await seedProfiles(aws, config, [vic('e-keep'), vic('e-by-id'), vic('e-by-address')]);
    await recordErasure(aws.clients.documents, tableNames(config).suppression, { customerIds: ['e-by-id'], emails: ['e-by-address@example.com'] }, Date.now());

    const summary = await sendAdvisorDigests({ at: Date.now(), runDate: RUN_DATE, runId: 'erased', config, clients: aws.clients });
    expect(summary.advisors.map((a) => [a.advisorId, a.outcome, a.clients, a.rows])).toEqual([['E1', 'sent', 1, 1]]);
    const [digest] = await emailsTo(aws, 'erased@digest-advisors.example.com');
    expect(digest?.body.text).toContain('Client e-keep');
    expect(JSON.stringify(digest)).not.toMatch(/e-by-id|e-by-address/);
  });

  it('in the nightly run, a store failure is kept in the summary instead of failing the night, on the other nights of the week too', async () => {
    // Tables that were never created: the first query fails.
    const config = parseConfig({
      ...aws.config,
      storage: { ...aws.config.storage, tablePrefix: `${aws.scope}.missing-` },
      reports: { advisorDigestWeekday: 'monday', advisors: { A01: { email: 'a01@digest-advisors.example.com' } } },
    });
    const failed = await advisorDigestsOfNight({ at: Date.now(), runDate: RUN_DATE, runId: 'missing', config, clients: aws.clients });
    expect(failed.advisorDigests).toMatchObject({ week: '2026-W48', advisors: [], totals: { sent: 0 } });
    expect(failed.advisorDigests?.error).toMatch(/ResourceNotFound/);
    // Another night looks for the week's deferred digests in the ledger: it cannot either, and says so.
    const wednesday = await advisorDigestsOfNight({ at: Date.now(), runDate: WEDNESDAY, runId: 'wednesday', config, clients: aws.clients });
    expect(wednesday.advisorDigests).toMatchObject({ week: '2026-W48', digestDate: RUN_DATE, mode: 'pending', advisors: [] });
    expect(wednesday.advisorDigests?.error).toMatch(/ResourceNotFound/);
  });
});
