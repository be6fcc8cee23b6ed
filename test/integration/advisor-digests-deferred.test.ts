import { describe, expect, it } from 'vitest';
import { advisorDigestLedgerKey, advisorDigestsOfNight } from '#shared/digests/advisor-digests.ts';
import { createSesMailer } from '#shared/delivery/ses-mailer.ts';
import { jsonLog } from '#shared/log.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { getLedgerEntry } from '#shared/store/ledger-store.ts';
import { PROFILES_BY_ADVISOR_INDEX, tableNames } from '#shared/store/tables.ts';
import { gatherStatus } from '#local/commands/status.ts';
import { aroundDocuments } from '#test/support/crashing-clients.ts';
import { seedProfiles, uploadExport } from '#test/support/emulator-data.ts';
import { exportDir } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { maxSendRateExceeded, sesRefusing } from '#test/support/refusing-ses.ts';
import { emailsTo } from '#test/support/ses-store.ts';

/**
 * A digest SES throttles on its weekday (the default Sunday) is deferred: `clientele status` lists
 * it, the next nights of its digest week (Monday to Saturday, under Sunday's ISO week key) send it
 * once, and the last of them reports one still not sent. Digests stopped on their day by a store
 * error before they were claimed are alarmed and run again by the next night of the week.
 */
const aws = sharedAws();

const SUNDAY = '2026-11-22';
const MONDAY = '2026-11-23';
const TUESDAY = '2026-11-24';
/** The clock `clientele status` reads these nights at: Wednesday noon in Shanghai, Tuesday's night the last one due. */
const STATUS_NOW = Date.parse('2026-11-25T04:00:00Z');
const SATURDAY = '2026-11-28';

const throttledSes = sesRefusing(aws.clients.ses, () => maxSendRateExceeded());

describe('a deferred advisor digest', () => {
  it('is listed by status on its night and sent by the next night of its digest week, once', { timeout: 240_000 }, async () => {
    const config = await scenarioConfig(aws, 'digest-deferred-retried');
    const address = 'sophie@digest-deferred-retried.example.com';
    const customers = 'customer_id,email,first_name,birthday,advisor_id,accepts_marketing\nvd1,vd1@example.com,Lin,1980-11-25,A01,true\n';
    const orders = 'order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,currency,status\no1,vd1,2026-10-01T10:00:00+08:00,S,P,c,1,60000.00,USD,paid\n';
    const advisors = `advisor_id,name,email,locale,active\nA01,Sophie Martin,${address},en,true\n`;
    for (const date of [SUNDAY, MONDAY, TUESDAY]) {
      await uploadExport(aws, config, await exportDir({ 'customers.csv': customers, 'orders.csv': orders, 'advisors.csv': advisors }), date);
    }

    const sunday = await runNightly({ clock: Date.now, runDate: SUNDAY, runId: 'sun', config, clients: { ...aws.clients, ses: throttledSes } });
    expect(sunday.advisorDigests).toMatchObject({ week: '2026-W47', mode: 'all', totals: { deferred: 1, sent: 0 } });
    const status = await gatherStatus({ config, source: 'test' }, aws.clients, STATUS_NOW, { nights: 3, hours: 1 });
    expect(status.nights.find((n) => n.runDate === SUNDAY)?.failures).toEqual([expect.stringMatching(/^1 advisor digests deferred/)]);

    // Monday is another ISO week and not the digest day: it sends Sunday's deferred digest, under Sunday's key, with Monday's book.
    const monday = await runNightly({ clock: Date.now, runDate: MONDAY, runId: 'mon', config, clients: aws.clients });
    expect(monday.advisorDigests).toMatchObject({ runDate: MONDAY, digestDate: SUNDAY, week: '2026-W47', mode: 'pending', totals: { sent: 1, deferred: 0 } });
    const emails = await emailsTo(aws, address);
    expect(emails).toHaveLength(1);
    expect(emails[0]?.subject).toMatch(/^Your client book for 24–30 November/);
    const entry = await getLedgerEntry(aws.clients.documents, tableNames(config).sendLedger, advisorDigestLedgerKey('A01', SUNDAY));
    expect(entry).toMatchObject({ status: 'sent', runId: 'mon', messageId: emails[0]?.messageId });

    // Tuesday: nothing pending, nothing sent.
    const tuesday = await runNightly({ clock: Date.now, runDate: TUESDAY, runId: 'tue', config, clients: aws.clients });
    expect(tuesday.advisorDigests).toBeUndefined();
    expect(await emailsTo(aws, address)).toHaveLength(1);
    const after = await gatherStatus({ config, source: 'test' }, aws.clients, STATUS_NOW, { nights: 3, hours: 1 });
    expect(after.nights.filter((n) => n.runDate !== SUNDAY).map((n) => [n.runDate, n.failures])).toEqual([
      [TUESDAY, []],
      [MONDAY, []],
    ]);
  });

  it('left by the night\'s deadline, they are deferred, not claimed, and the next night sends them, each once', { timeout: 240_000 }, async () => {
    const config = await scenarioConfig(aws, 'digest-deadline', {
      reports: { advisors: { D1: { email: 'd1@digest-deadline.example.com' }, D2: { email: 'd2@digest-deadline.example.com' } } },
    });
    await seedProfiles(aws, config, [
      profileItem('d1-vic', { tier: 'VIC', spend12mMinor: 6_000_000, advisorId: 'D1', birthday: '11-26' }),
      profileItem('d2-vic', { tier: 'VIC', spend12mMinor: 6_000_000, advisorId: 'D2', birthday: '11-26' }),
    ]);
    // The emulator's mailer, whose second digest would wait an hour for its pacing turn: past the deadline.
    const mailer = createSesMailer(aws.clients.ses, { maxSendRate: 50 });
    const paced = { ...mailer, nextCallInMs: () => (mailer.stats().sent >= 1 ? 3_600_000 : 0) };
    const lines: Record<string, unknown>[] = [];
    const log = jsonLog({ write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    const ledgerEntry = (advisorId: string) => getLedgerEntry(aws.clients.documents, tableNames(config).sendLedger, advisorDigestLedgerKey(advisorId, SUNDAY));

    const sunday = (await advisorDigestsOfNight({ at: Date.now(), runDate: SUNDAY, runId: 'dl-sun', config, clients: aws.clients, mailer: paced, log, deadline: Date.now() + 600_000 }))
      .advisorDigests;
    expect(sunday?.totals).toMatchObject({ sent: 1, deferred: 1 });
    expect(sunday?.advisors.find((a) => a.advisorId === 'D2')).toMatchObject({ outcome: 'deferred', reason: expect.stringMatching(/deadline/) });
    // Not 'claimed' (a kill would have left it so, never resent): deferred, which the next nights look for.
    expect(await ledgerEntry('D2')).toMatchObject({ status: 'deferred', reason: expect.stringMatching(/deadline/) });
    expect(lines.filter((l) => l.alert === 'advisor-digest-not-sent')).toEqual([expect.objectContaining({ level: 'warn', advisorId: 'D2', retry: 'the nights until 2026-11-28' })]);
    expect(await emailsTo(aws, 'd2@digest-deadline.example.com')).toEqual([]);

    // Monday, without a deadline: the pending digest goes, under Sunday's key; D1's is not sent again.
    const monday = (await advisorDigestsOfNight({ at: Date.now(), runDate: MONDAY, runId: 'dl-mon', config, clients: aws.clients })).advisorDigests;
    expect(monday).toMatchObject({ mode: 'pending', week: '2026-W47', totals: { sent: 1 } });
    expect(await ledgerEntry('D2')).toMatchObject({ status: 'sent', runId: 'dl-mon' });
    expect(await emailsTo(aws, 'd1@digest-deadline.example.com')).toHaveLength(1);
    expect(await emailsTo(aws, 'd2@digest-deadline.example.com')).toHaveLength(1);
  });

  it('still deferred on the last night of its digest week, it is reported as not sent', async () => {
    const config = await scenarioConfig(aws, 'digest-deferred-lost', {
      reports: { advisors: { T1: { email: 't1@digest-deferred-lost.example.com' }, S1: { email: 's1@digest-deferred-lost.example.com' } } },
    });
    await seedProfiles(aws, config, [
      profileItem('t-vic', { tier: 'VIC', spend12mMinor: 6_000_000, advisorId: 'T1', birthday: '11-26' }),
      profileItem('s-vic', { tier: 'VIC', spend12mMinor: 6_000_000, advisorId: 'S1', birthday: '11-26' }),
    ]);
    const throttled = createSesMailer(throttledSes, { maxSendRate: 50, baseDelayMs: 1, maxAttempts: 2 });
    const night = (runDate: string) => advisorDigestsOfNight({ at: Date.now(), runDate, runId: `n-${runDate}`, config, clients: aws.clients, mailer: throttled });

    expect((await night(SUNDAY)).advisorDigests?.totals).toMatchObject({ deferred: 2, sent: 0 });
    // Monday still throttled: deferred again, still pending.
    const monday = (await night(MONDAY)).advisorDigests;
    expect(monday).toMatchObject({ mode: 'pending', week: '2026-W47', totals: { deferred: 2 } });
    expect(monday?.unsent).toBeUndefined();
    // Saturday, the last night: still throttled, both reported as never sent this week.
    const saturday = (await night(SATURDAY)).advisorDigests;
    expect(saturday).toMatchObject({ mode: 'pending', week: '2026-W47', unsent: ['S1', 'T1'] });
    expect(await emailsTo(aws, (to) => to.endsWith('@digest-deferred-lost.example.com'))).toEqual([]);
    // The next Sunday starts the next digest week: last week's digests are no longer looked for.
    expect((await advisorDigestsOfNight({ at: Date.now(), runDate: '2026-11-29', runId: 'next-sunday', config, clients: aws.clients, mailer: throttled })).advisorDigests).toMatchObject({
      week: '2026-W48',
      mode: 'all',
    });
  });

  it('stopped on the digest day by a transient store error, they are alarmed and the next night sends those not claimed, once', { timeout: 240_000 }, async () => {
    const config = await scenarioConfig(aws, 'digest-stopped-retried');
    const [sophie, fang] = ['sophie@digest-stopped-retried.example.com', 'fang@digest-stopped-retried.example.com'];
    const customers = 'customer_id,email,first_name,birthday,advisor_id,accepts_marketing\nvs1,vs1@example.com,Lin,1980-11-25,A01,true\nvs2,vs2@example.com,Wei,1981-11-26,A02,true\n';
    const orders =
      'order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,currency,status\no1,vs1,2026-10-01T10:00:00+08:00,S,P,c,1,60000.00,USD,paid\no2,vs2,2026-10-01T10:00:00+08:00,S,P,c,1,60000.00,USD,paid\n';
    const advisors = `advisor_id,name,email,locale,active\nA01,Sophie Martin,${sophie},en,true\nA02,Fang Li,${fang},en,true\n`;
    for (const date of [SUNDAY, MONDAY, TUESDAY]) {
      await uploadExport(aws, config, await exportDir({ 'customers.csv': customers, 'orders.csv': orders, 'advisors.csv': advisors }), date);
    }
    // Sunday: A01's digest goes out, then reading A02's book fails once, past the SDK's retries.
    let failed = false;
    const blip = aroundDocuments(aws.clients, (name, input, go) => {
      const query = input as { IndexName?: string; ExpressionAttributeValues?: Record<string, unknown> };
      if (!failed && name === 'QueryCommand' && query.IndexName === PROFILES_BY_ADVISOR_INDEX && query.ExpressionAttributeValues?.[':advisor'] === 'A02') {
        failed = true;
        return Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { code: 'ECONNREFUSED' }));
      }
      return go();
    });
    const lines: Record<string, unknown>[] = [];
    const log = jsonLog({ write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });

    const sunday = await runNightly({ clock: Date.now, runDate: SUNDAY, runId: 'stop-sun', config, clients: blip, log });
    expect(failed).toBe(true);
    expect(sunday.status).toBe('completed');
    expect(sunday.advisorDigests).toMatchObject({ week: '2026-W47', mode: 'all', error: expect.stringMatching(/ECONNREFUSED/) });
    expect(lines.filter((l) => l.alert === 'advisor-digest-not-sent')).toEqual([
      expect.objectContaining({ level: 'error', week: '2026-W47', error: expect.stringMatching(/ECONNREFUSED/), retry: 'the nights until 2026-11-28' }),
    ]);
    expect(await emailsTo(aws, sophie)).toHaveLength(1);
    expect(await emailsTo(aws, fang)).toEqual([]);

    // Monday runs Sunday's digests whole again, under Sunday's key: A02's goes out, A01's claim holds.
    const monday = await runNightly({ clock: Date.now, runDate: MONDAY, runId: 'stop-mon', config, clients: aws.clients });
    expect(monday.advisorDigests).toMatchObject({ runDate: MONDAY, digestDate: SUNDAY, week: '2026-W47', mode: 'all', totals: { sent: 1, 'already-sent': 1 } });
    expect(monday.advisorDigests?.error).toBeUndefined();
    expect(await emailsTo(aws, sophie)).toHaveLength(1);
    expect(await emailsTo(aws, fang)).toHaveLength(1);
    expect(await getLedgerEntry(aws.clients.documents, tableNames(config).sendLedger, advisorDigestLedgerKey('A02', SUNDAY))).toMatchObject({ status: 'sent', runId: 'stop-mon' });

    // Tuesday: the week's digests ran whole on Monday, nothing is pending.
    const tuesday = await runNightly({ clock: Date.now, runDate: TUESDAY, runId: 'stop-tue', config, clients: aws.clients });
    expect(tuesday.advisorDigests).toBeUndefined();
    expect(await emailsTo(aws, [sophie, fang])).toHaveLength(2);
  });

  it('whose digest day\'s night failed, are sent whole by the next night of the week that completes, once', { timeout: 300_000 }, async () => {
    const config = await scenarioConfig(aws, 'digest-day-failed');
    const address = 'sophie@digest-day-failed.example.com';
    const customers = 'customer_id,email,first_name,birthday,advisor_id,accepts_marketing\nvf1,vf1@example.com,Lin,1980-11-27,A01,true\n';
    const orders = 'order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,currency,status\no1,vf1,2026-10-01T10:00:00+08:00,S,P,c,1,60000.00,USD,paid\n';
    const advisors = `advisor_id,name,email,locale,active\nA01,Sophie Martin,${address},en,true\n`;
    // The Saturday before is a good night (no digest day); Sunday's customers file has a header only: the night is refused.
    await uploadExport(aws, config, await exportDir({ 'customers.csv': customers, 'orders.csv': orders, 'advisors.csv': advisors }), '2026-11-21');
    // The suite's first night, after the digest day of 15 November: no digest of that week was due.
    const saturday = await runNightly({ clock: Date.now, runDate: '2026-11-21', runId: 'fail-sat0', config, clients: aws.clients });
    expect(saturday.advisorDigests).toBeUndefined();
    await uploadExport(aws, config, await exportDir({ 'customers.csv': 'customer_id,email\n', 'orders.csv': orders, 'advisors.csv': advisors }), SUNDAY);
    await expect(runNightly({ clock: Date.now, runDate: SUNDAY, runId: 'fail-sun', config, clients: aws.clients })).rejects.toThrow();
    expect(await emailsTo(aws, address)).toEqual([]);

    // Monday completes: no night of the week ran the digests whole, so it runs them, under Sunday's key.
    for (const date of [MONDAY, TUESDAY]) await uploadExport(aws, config, await exportDir({ 'customers.csv': customers, 'orders.csv': orders, 'advisors.csv': advisors }), date);
    const monday = await runNightly({ clock: Date.now, runDate: MONDAY, runId: 'fail-mon', config, clients: aws.clients });
    expect(monday.advisorDigests).toMatchObject({ runDate: MONDAY, digestDate: SUNDAY, week: '2026-W47', mode: 'all', totals: { sent: 1 } });
    expect(await emailsTo(aws, address)).toHaveLength(1);
    expect(await getLedgerEntry(aws.clients.documents, tableNames(config).sendLedger, advisorDigestLedgerKey('A01', SUNDAY))).toMatchObject({ status: 'sent', runId: 'fail-mon' });

    // Tuesday: Monday ran them whole, nothing is pending.
    const tuesday = await runNightly({ clock: Date.now, runDate: TUESDAY, runId: 'fail-tue', config, clients: aws.clients });
    expect(tuesday.advisorDigests).toBeUndefined();
    expect(await emailsTo(aws, address)).toHaveLength(1);
  });
});
