import { describe, expect, it } from 'vitest';
import { introductionKey, introductionTask } from '#shared/advisors/handover.ts';
import { newTask, answerTask } from '#shared/advisors/tasks.ts';
import { createSesMailer } from '#shared/delivery/ses-mailer.ts';
import { advisorDigestsOfNight, digestNightOf, sendAdvisorDigests } from '#shared/digests/advisor-digests.ts';
import { campaignRunFailure } from '#shared/sender/run.ts';
import { getLedgerEntry } from '#shared/store/ledger-store.ts';
import { writeRoster } from '#shared/store/roster-store.ts';
import { createTask, deleteTasks, getTask } from '#shared/store/task-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { addDays } from '#shared/time.ts';
import { staticKeys } from '#shared/unsubscribe/keys.ts';
import { handleTaskLink } from '#shared/unsubscribe/task-links.ts';
import { signTaskToken } from '#shared/unsubscribe/task-token.ts';
import { signUnsubscribeToken } from '#shared/unsubscribe/token.ts';
import { handleUnsubscribe } from '#shared/unsubscribe/unsubscribe.ts';
import { advisorsConfig, runCampaignHour, UNSUBSCRIBE_SECRET } from '#test/support/campaign-runs.ts';
import { seedProfiles } from '#test/support/emulator-data.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { addressedTo, configurationSetMissing, maxSendRateExceeded, sesRefusing, sesRefusingEveryCall } from '#test/support/refusing-ses.ts';
import { emailsTo, type StoredEmail } from '#test/support/ses-store.ts';
import { at, DAY, HOUR, MINUTE } from '#test/support/time.ts';
import { taskLinkContext } from '#test/support/task-links.ts';

/**
 * Issue 16 point 5 on the embedded AWS: a client whose advisor changed between two weekly digests
 * is introduced to the new advisor: an introduction task in their digest (the client's history,
 * the drafted email, signed links), then the introduction email in the new advisor's name (From
 * "Advisor via Brand <brand address>", Reply-To the advisor, as the SES emulator stores it) when
 * the advisor asks for it or after advisors.taskWaitDays; "done" sends nothing; a client who
 * cannot be emailed gets no send link. A rerun of the week or the hour gives and sends nothing twice.
 */

const aws = sharedAws();
const ZONE = 'Asia/Shanghai';
const WEEK_48 = at('2026-11-23 02:30', ZONE);

const decoded = (header: string) =>
  header.replace(/\?=\s+=\?/g, '?==?').replace(/=\?UTF-8\?B\?([A-Za-z0-9+/=]+)\?=/g, (_, b64: string) => Buffer.from(b64, 'base64').toString('utf8'));

/** The token of the link on the line after `label` (the digest's text lists "<label>: <url>" per introduction, in client order). */
function tokensOf(email: StoredEmail | undefined, label: string): string[] {
  return (email?.body.text ?? '')
    .split('\n')
    .filter((l) => l.trim().startsWith(label))
    .map((line) => new URL(line.slice(line.indexOf('http'))).searchParams.get('t') ?? '');
}

const post = (token: string) => ({ method: 'POST', token, form: {} });

describe('handover: the introduction task and email', () => {
  it('introduces each handed-over client through the new advisor, once', { timeout: 120_000 }, async () => {
    const config = await advisorsConfig(aws, 'handover', { timeZone: ZONE });
    await writeRoster(aws.clients.s3, config, {
      runDate: '2026-11-15',
      advisors: [
        { advisorId: 'A01', name: 'Sophie Martin', email: 'sophie@handover.example.com', locale: 'en', active: false, store: 'Paris' },
        { advisorId: 'A02', name: '王芳', email: 'fang@handover.example.com', locale: 'zh-CN', active: true, store: 'Shanghai' },
        { advisorId: 'A03', name: 'Marc Dubois', email: 'marc@handover.example.com', locale: 'en', active: true, store: 'Paris', signature: 'Senior advisor, Rue Cambon' },
      ],
    });
    const client = (id: string, advisorId: string, extra: Parameters<typeof profileItem>[1] = {}) =>
      profileItem(id, {
        tier: 'VIC',
        stage: 'active',
        advisorId,
        spend12mMinor: 7_000_000,
        birthday: '03-14',
        lastOrderAt: '2026-11-01T02:00:00.000Z',
        firstOrderAt: '2025-02-01T02:00:00.000Z',
        orderCount: 8,
        topCategory: 'skincare',
        skus: {
          'SK-1': { productName: 'Night Serum', category: 'skincare', lastPurchasedAt: '2026-11-01T02:00:00.000Z', quantity: 1, purchases: 4 },
          'MU-2': { productName: 'Rouge 12', category: 'makeup', lastPurchasedAt: '2026-09-10T02:00:00.000Z', quantity: 1, purchases: 2 },
        },
        ...extra,
      });
    const week47 = [client('ho-zh', 'A01', { locale: 'zh-CN', firstName: '琳' }), client('ho-en', 'A01', { locale: 'en' }), client('ho-nomail', 'A01', { acceptsMarketing: false })];
    await seedProfiles(aws, config, week47);
    // A task the first client had with the previous advisor, taken care of in person.
    const task = newTask({ customerId: 'ho-zh', occasionKey: 'winback#2026-10-01', campaignId: 'winback', expiresAt: Date.parse('2026-11-30T00:00:00Z') }, 'A01', Date.parse('2026-10-01T02:00:00Z'));
    await createTask(aws.clients.documents, tableNames(config).advisorTasks, answerTask(task, 'done', 1, Date.parse('2026-10-02T02:00:00Z')).task, 400);
    const digestsOfWeek = (runDate: string, runId: string, now: number) =>
      sendAdvisorDigests({ at: now, runDate, runId, config, clients: aws.clients, unsubscribeSecret: UNSUBSCRIBE_SECRET });

    // Week 47: the pairs are recorded; no baseline yet, no handover.
    expect((await digestsOfWeek('2026-11-16', 'w47', WEEK_48 - 7 * DAY)).handovers).toBe(0);

    // The brand moved the clients (after `clientele advisors plan`): the next week's digests introduce them.
    await seedProfiles(aws, config, [client('ho-zh', 'A02', { locale: 'zh-CN', firstName: '琳' }), client('ho-en', 'A03', { locale: 'en' }), client('ho-nomail', 'A03', { acceptsMarketing: false })]);
    const week = await digestsOfWeek('2026-11-23', 'w48', WEEK_48);
    expect(week.handovers).toBe(3);
    expect(week.advisors.map((a) => [a.advisorId, a.outcome, a.introductions, a.introductionTasks])).toEqual([
      ['A02', 'sent', 1, 1],
      ['A03', 'sent', 2, 2],
    ]);
    const [fangDigest] = await emailsTo(aws, 'fang@handover.example.com');
    const fangText = fangDigest?.body.text ?? '';
    expect(fangText).toContain('1 位客户已交接给您，请自我介绍');
    expect(fangText).toContain('由Sophie Martin交接给您；生日 3月14日；此前共 1 项任务，亲自处理 1 项，邮件发送 0 封。');
    expect(fangText).toContain('偏爱：skincare、makeup。');
    expect(fangText).toContain('最近购买：Night Serum（2026年11月1日）；Rouge 12（2026年9月10日）。');
    expect(fangText).toContain('此前与Sophie Martin的最近任务：2026年10月1日回购问候，亲自处理。');
    expect(fangText).toContain('以您的名义起草的自我介绍：琳，您在Clientele Demo Brand的新专属顾问');
    expect(fangText).toContain('> 我是王芳，今后将由我担任您在Clientele Demo Brand的专属顾问。');
    expect(fangText).toMatch(/如您在2026年11月26日 02:30前未作选择，这封自我介绍将以您的名义发出。/);
    const [marcDigest] = await emailsTo(aws, 'marc@handover.example.com');
    const marcText = marcDigest?.body.text ?? '';
    expect(marcText).toContain('2 clients were handed over to you: introduce yourself');
    expect(marcText).toContain('We cannot email this client (no address, or no consent to email)');
    // Two "done" and "snooze" links, one "send" (the client without consent has none); client order by value, then id.
    expect(tokensOf(marcDigest, 'I introduced myself')).toHaveLength(2);
    expect(tokensOf(marcDigest, 'Send the introduction for me')).toHaveLength(1);

    // The first hour: nobody answered yet, every introduction waits.
    const tasks = tableNames(config).advisorTasks;
    const hour1 = await runCampaignHour(aws, config, WEEK_48 + HOUR, 'intro-1');
    expect(hour1.introductions).toMatchObject({ waiting: 3, sent: 0 });

    // 王芳 asks us to send hers; Marc met the client without consent in store.
    const context = taskLinkContext(aws, config, WEEK_48 + 2 * HOUR);
    const [sendZh] = tokensOf(fangDigest, '请代我发送自我介绍');
    expect((await handleTaskLink(context, post(sendZh ?? ''))).statusCode).toBe(200);
    const marcDone = tokensOf(marcDigest, 'I introduced myself');
    const nomailKey = { customerId: 'ho-nomail', occasionKey: introductionKey({ to: 'A03' }, week.week) };
    const nomailDone = marcDone.find((token) => Buffer.from(token.split('.')[0] ?? '', 'base64url').toString().includes('ho-nomail'));
    expect((await handleTaskLink(context, post(nomailDone ?? ''))).statusCode).toBe(200);

    // 05:30 in Shanghai: it is night where the client lives, the introduction waits for the morning.
    const night = await runCampaignHour(aws, config, WEEK_48 + 3 * HOUR, 'intro-2-night');
    expect(night.introductions).toMatchObject({ sent: 0, waiting: 1, 'quiet-hours': 1 });
    expect(await emailsTo(aws, 'ho-zh@example.com')).toEqual([]);
    const hour2 = await runCampaignHour(aws, config, WEEK_48 + 7 * HOUR, 'intro-2');
    expect(hour2.introductions).toMatchObject({ sent: 1, waiting: 1, 'quiet-hours': 0 });
    const [zh] = await emailsTo(aws, 'ho-zh@example.com');
    expect(decoded(zh?.from ?? '')).toBe('王芳 via Clientele Demo Brand <hello@maison.example.com>');
    expect(zh?.replyTo).toEqual(['fang@handover.example.com']);
    expect(zh?.subject).toBe('琳，您在Clientele Demo Brand的新专属顾问');
    expect(zh?.body.text).toContain('此致\n王芳\nClientele Demo Brand专属顾问');

    // Three days after the digest, Marc has not answered for the other client: it goes in his name.
    const late = await runCampaignHour(aws, config, WEEK_48 + 3 * DAY + 7 * HOUR, 'intro-3');
    expect(late.introductions).toMatchObject({ sent: 1, waiting: 0 });
    const [en] = await emailsTo(aws, 'ho-en@example.com');
    expect(en?.from).toBe('Marc Dubois via Clientele Demo Brand <hello@maison.example.com>');
    expect(en?.replyTo).toEqual(['marc@handover.example.com']);
    expect(en?.subject).toBe('Client ho-en, your new advisor at Clientele Demo Brand');
    expect(en?.body.text).toContain('I am Marc Dubois, and from now on I will be your personal advisor at Clientele Demo Brand.');
    expect(en?.body.text).toContain('Warm regards,\nMarc Dubois\nSenior advisor, Rue Cambon\nClientele Demo Brand');
    expect(await emailsTo(aws, 'ho-nomail@example.com')).toEqual([]);

    // Reruns: the same hour sends nothing more; the week's digests give no second introduction.
    const again = await runCampaignHour(aws, config, WEEK_48 + 3 * DAY + 7 * HOUR, 'intro-3b');
    expect(again.introductions?.sent).toBe(0);
    const rerun = await digestsOfWeek('2026-11-23', 'w48-rerun', WEEK_48 + 3 * DAY);
    expect(rerun.handovers).toBe(3);
    expect(rerun.totals).toMatchObject({ sent: 0, 'already-sent': 2, introductionTasks: 0 });
    for (const address of ['ho-zh@example.com', 'ho-en@example.com', 'fang@handover.example.com', 'marc@handover.example.com']) expect(await emailsTo(aws, address)).toHaveLength(1);

    // Every outcome on the tasks, and the emails in the ledger.
    const history = async (customerId: string, to: string) =>
      (await getTask(aws.clients.documents, tasks, { customerId, occasionKey: introductionKey({ to }, week.week) }))?.history.map((e) => [e.event, e.because]);
    expect(await history('ho-zh', 'A02')).toEqual([['created', undefined], ['send', undefined], ['sending', 'advisor-asked'], ['emailed', 'advisor-asked']]);
    expect(await history('ho-en', 'A03')).toEqual([['created', undefined], ['sending', 'no-answer'], ['emailed', 'no-answer']]);
    expect((await getTask(aws.clients.documents, tasks, nomailKey))?.status).toBe('done');
    const ledger = await getLedgerEntry(aws.clients.documents, tableNames(config).sendLedger, { customerId: 'ho-en', occasionKey: introductionKey({ to: 'A03' }, week.week) });
    expect(ledger).toMatchObject({ status: 'sent', campaignId: 'advisor-introduction' });
  });
});

describe('handover: a client who said no', () => {
  it('unsubscribed under an earlier address: the introduction is not sent to the new one, the task ends unsent', async () => {
    const config = await advisorsConfig(aws, 'handover-said-no', { timeZone: ZONE });
    const tables = tableNames(config);
    const atTen = at('2026-11-24 10:00', ZONE);
    await writeRoster(aws.clients.s3, config, {
      runDate: '2026-11-15',
      advisors: [{ advisorId: 'A02', name: 'Marc Dubois', email: 'marc@said-no.example.com', locale: 'en', active: true, store: 'Paris' }],
    });
    const vic = (email: string) => profileItem('hs-moved', { tier: 'VIC', advisorId: 'A02', locale: 'en', email });
    await seedProfiles(aws, config, [vic('hs-moved@example.com')]);
    // The client unsubscribes from an earlier email; the CRM then gives them another address.
    const unsubscribed = await handleUnsubscribe(
      { documents: aws.clients.documents, tables, keys: staticKeys(UNSUBSCRIBE_SECRET), now: () => atTen - 3 * HOUR, brandName: 'Maison' },
      { method: 'POST', token: signUnsubscribeToken('hs-moved', UNSUBSCRIBE_SECRET), form: { 'List-Unsubscribe': 'One-Click' } },
    );
    expect(unsubscribed.statusCode).toBe(200);
    await seedProfiles(aws, config, [vic('hs-moved.new@example.com')]);
    // The new advisor asked us to send the introduction.
    const task = introductionTask({ customerId: 'hs-moved', from: 'A01', to: 'A02' }, '2026-W48', 'VIC', atTen - 2 * HOUR);
    const asked = answerTask(task, 'send', 1, atTen - HOUR);
    if (asked.outcome !== 'recorded') throw new Error('answer not recorded');
    await createTask(aws.clients.documents, tables.advisorTasks, asked.task, 400);

    const hour = await runCampaignHour(aws, config, atTen, 'said-no-1');
    expect(hour.introductions).toMatchObject({ sent: 0, unsent: 1 });
    expect(await emailsTo(aws, 'hs-moved.new@example.com')).toEqual([]);
    const stored = await getTask(aws.clients.documents, tables.advisorTasks, task);
    expect(stored?.status).toBe('unsent');
    expect(stored?.history.at(-1)).toMatchObject({ event: 'unsent', reason: 'suppressed' });
  });
});

describe('handover: quiet hours when the introduction leaves', () => {
  it('the 23:00 (Shanghai) run started 40 minutes late holds a Kolkata client\'s introduction (21:10 local) until the morning', async () => {
    const config = await advisorsConfig(aws, 'handover-late-run', { timeZone: ZONE });
    const tables = tableNames(config);
    const kolkata = 'Asia/Kolkata';
    const brandHour = at('2026-11-24 23:00', ZONE); // 20:30 in Kolkata: not quiet at the hour
    await writeRoster(aws.clients.s3, config, {
      runDate: '2026-11-15',
      advisors: [{ advisorId: 'A02', name: 'Marc Dubois', email: 'marc@late-run.example.com', locale: 'en', active: true, store: 'Paris' }],
    });
    await seedProfiles(aws, config, [profileItem('hl-kol', { tier: 'VIC', advisorId: 'A02', locale: 'en', timeZone: kolkata })]);
    // The new advisor asked us to send the introduction.
    const task = introductionTask({ customerId: 'hl-kol', from: 'A01', to: 'A02' }, '2026-W48', 'VIC', brandHour - 2 * HOUR);
    const asked = answerTask(task, 'send', 1, brandHour - HOUR);
    if (asked.outcome !== 'recorded') throw new Error('answer not recorded');
    await createTask(aws.clients.documents, tables.advisorTasks, asked.task, 400);

    const late = await runCampaignHour(aws, config, brandHour, 'late-run-1', { realClock: () => brandHour + 40 * MINUTE });
    expect(late.introductions).toMatchObject({ sent: 0, 'quiet-hours': 1 });
    expect(await emailsTo(aws, 'hl-kol@example.com')).toEqual([]);
    expect((await getTask(aws.clients.documents, tables.advisorTasks, task))?.status).toBe('send-requested');

    const morning = at('2026-11-25 12:00', ZONE); // 09:30 in Kolkata
    const next = await runCampaignHour(aws, config, morning, 'late-run-2', { realClock: () => morning });
    expect(next.introductions).toMatchObject({ sent: 1, 'quiet-hours': 0 });
    expect(await emailsTo(aws, 'hl-kol@example.com')).toHaveLength(1);
  });
});

describe('handover: a client handed over again before their introduction went', () => {
  it('closes the introduction as reassigned once, instead of counting it every hour until it expires', async () => {
    const config = await advisorsConfig(aws, 'handover-again', { timeZone: ZONE });
    const tables = tableNames(config);
    const atTen = at('2026-11-24 10:00', ZONE);
    await writeRoster(aws.clients.s3, config, {
      runDate: '2026-11-15',
      advisors: [
        { advisorId: 'A02', name: 'Marc Dubois', email: 'marc@handover-again.example.com', locale: 'en', active: true, store: 'Paris' },
        { advisorId: 'A03', name: 'Lea Wang', email: 'lea@handover-again.example.com', locale: 'en', active: true, store: 'Paris' },
      ],
    });
    // Introduced to A02 by this week's digest, who asked us to send it; the brand then gave the client to A03.
    const task = introductionTask({ customerId: 'ha-moved', from: 'A01', to: 'A02' }, '2026-W48', 'VIC', atTen - 2 * HOUR);
    const asked = answerTask(task, 'send', 1, atTen - HOUR);
    if (asked.outcome !== 'recorded') throw new Error('answer not recorded');
    await createTask(aws.clients.documents, tables.advisorTasks, asked.task, 400);
    await seedProfiles(aws, config, [profileItem('ha-moved', { tier: 'VIC', advisorId: 'A03', locale: 'en', email: 'ha-moved@example.com' })]);

    const dryRun = await runCampaignHour(aws, config, atTen, 'again-dry', { dryRun: true });
    expect(dryRun.introductions).toMatchObject({ reassigned: 1 });
    expect((await getTask(aws.clients.documents, tables.advisorTasks, task))?.status).toBe('send-requested');
    const hour = await runCampaignHour(aws, config, atTen, 'again-1');
    expect(hour.introductions).toMatchObject({ sent: 0, reassigned: 1 });
    const stored = await getTask(aws.clients.documents, tables.advisorTasks, task);
    expect(stored?.status).toBe('reassigned');
    expect(stored?.history.at(-1)).toEqual({ at: atTen, event: 'reassigned', to: 'A03' });
    // The hours after pass it by; nothing goes in A02's name.
    const next = await runCampaignHour(aws, config, atTen + HOUR, 'again-2');
    expect(next.introductions).toMatchObject({ sent: 0, reassigned: 0 });
    expect(await emailsTo(aws, 'ha-moved@example.com')).toEqual([]);
  });
});

describe('handover: a client who could not be emailed when the digest introduced them', () => {
  it('is never mailed an introduction in the advisor\'s name, though their consent came later: the wait ends with the task unsent', { timeout: 120_000 }, async () => {
    const config = await advisorsConfig(aws, 'handover-in-person', { timeZone: ZONE });
    const tables = tableNames(config);
    const marc = 'marc@in-person.example.com';
    await writeRoster(aws.clients.s3, config, {
      runDate: '2026-11-15',
      advisors: [
        { advisorId: 'A01', name: 'Sophie Martin', email: 'sophie@in-person.example.com', locale: 'en', active: true },
        { advisorId: 'A02', name: 'Marc Dubois', email: marc, locale: 'en', active: true },
      ],
    });
    const client = (advisorId: string, acceptsMarketing: boolean) =>
      profileItem('hp-1', { tier: 'VIC', stage: 'active', advisorId, acceptsMarketing, spend12mMinor: 7_000_000, lastOrderAt: '2026-11-01T02:00:00.000Z', firstOrderAt: '2025-02-01T02:00:00.000Z', orderCount: 8, locale: 'en', timeZone: ZONE });
    const digests = (runDate: string, runId: string, now: number) => sendAdvisorDigests({ at: now, runDate, runId, config, clients: aws.clients, unsubscribeSecret: UNSUBSCRIBE_SECRET });
    await seedProfiles(aws, config, [client('A01', false)]);
    await digests('2026-11-16', 'w47', WEEK_48 - 7 * DAY);
    await seedProfiles(aws, config, [client('A02', false)]);
    const week = await digests('2026-11-23', 'w48', WEEK_48);
    expect(week.advisors.find((a) => a.advisorId === 'A02')).toMatchObject({ outcome: 'sent', introductionTasks: 1 });
    const [digest] = await emailsTo(aws, marc);
    expect(digest?.body.text).toContain('We cannot email this client');
    expect(tokensOf(digest, 'Send the introduction for me')).toEqual([]);
    const ledgerKey = { customerId: 'advisor#A02', occasionKey: 'advisor-digest#2026-W48' };
    expect(await getLedgerEntry(aws.clients.documents, tables.sendLedger, ledgerKey)).toMatchObject({ introduced: ['hp-1'], introducedWithoutEmail: ['hp-1'] });
    const key = { customerId: 'hp-1', occasionKey: introductionKey({ to: 'A02' }, week.week) };
    expect(await getTask(aws.clients.documents, tables.advisorTasks, key)).toMatchObject({ status: 'open', withoutEmail: true });

    // The next export brings the client's consent; Marc has not answered. Three days after the digest, nothing goes in his name.
    await seedProfiles(aws, config, [client('A02', true)]);
    const late = await runCampaignHour(aws, config, WEEK_48 + 3 * DAY + 8 * HOUR, 'in-person-late');
    expect(late.introductions).toMatchObject({ sent: 0, 'in-person': 1, unsent: 0 });
    expect(await emailsTo(aws, 'hp-1@example.com')).toEqual([]);
    const stored = await getTask(aws.clients.documents, tables.advisorTasks, key);
    expect(stored?.status).toBe('unsent');
    expect(stored?.history.map((e) => [e.event, e.because, e.reason])).toEqual([['created', undefined, undefined], ['unsent', 'no-answer', 'in-person-only']]);
    expect(await getLedgerEntry(aws.clients.documents, tables.sendLedger, key)).toBeUndefined();

    // A later hour leaves the closed task alone.
    const after = await runCampaignHour(aws, config, WEEK_48 + 4 * DAY + 8 * HOUR, 'in-person-after');
    expect(after.introductions).toMatchObject({ sent: 0, 'in-person': 0 });
    expect(await emailsTo(aws, 'hp-1@example.com')).toEqual([]);
  });

  it('a rerun that gives the task after the digest went out gives it without email too, as the sent digest carried it', { timeout: 120_000 }, async () => {
    const config = await advisorsConfig(aws, 'handover-in-person-rerun', { timeZone: ZONE });
    const tables = tableNames(config);
    await writeRoster(aws.clients.s3, config, {
      runDate: '2026-11-15',
      advisors: [
        { advisorId: 'A01', name: 'Sophie Martin', email: 'sophie@in-person-rerun.example.com', locale: 'en', active: true },
        { advisorId: 'A02', name: 'Marc Dubois', email: 'marc@in-person-rerun.example.com', locale: 'en', active: true },
      ],
    });
    const client = (advisorId: string, acceptsMarketing: boolean) =>
      profileItem('hr-1', { tier: 'VIC', stage: 'active', advisorId, acceptsMarketing, spend12mMinor: 7_000_000, lastOrderAt: '2026-11-01T02:00:00.000Z', firstOrderAt: '2025-02-01T02:00:00.000Z', orderCount: 8, locale: 'en', timeZone: ZONE });
    const digests = (runDate: string, runId: string, now: number) => sendAdvisorDigests({ at: now, runDate, runId, config, clients: aws.clients, unsubscribeSecret: UNSUBSCRIBE_SECRET });
    await seedProfiles(aws, config, [client('A01', false)]);
    await digests('2026-11-16', 'w47', WEEK_48 - 7 * DAY);
    await seedProfiles(aws, config, [client('A02', false)]);
    await digests('2026-11-23', 'w48', WEEK_48);
    // The run stopped after the digest went out and before the task was written; consent arrived meanwhile.
    const key = { customerId: 'hr-1', occasionKey: introductionKey({ to: 'A02' }, '2026-W48') };
    await deleteTasks(aws.clients.documents, tables.advisorTasks, [key]);
    await seedProfiles(aws, config, [client('A02', true)]);
    const rerun = await digests('2026-11-23', 'w48-rerun', WEEK_48 + HOUR);
    expect(rerun.advisors.find((a) => a.advisorId === 'A02')).toMatchObject({ outcome: 'already-sent', introductionTasks: 1 });
    expect(await getTask(aws.clients.documents, tables.advisorTasks, key)).toMatchObject({ status: 'open', withoutEmail: true });
  });
});

describe('handover: an answer given while the hour sends the introductions', () => {
  it('"I introduced myself" recorded while another introduction goes out: that client gets no email, the task stays done', { timeout: 120_000 }, async () => {
    const config = await advisorsConfig(aws, 'handover-answer-while-sending', { timeZone: ZONE });
    const tables = tableNames(config);
    const now = at('2026-11-27 11:00', ZONE);
    await writeRoster(aws.clients.s3, config, { runDate: '2026-11-22', advisors: [{ advisorId: 'A02', name: 'Marc Dubois', email: 'marc@answer-while-sending.example.com', locale: 'en', active: true }] });
    const ids = ['hw-1', 'hw-2'];
    await seedProfiles(aws, config, ids.map((id) => profileItem(id, { tier: 'VIC', advisorId: 'A02', locale: 'en', timeZone: ZONE })));
    // Both given with the digest 4 days ago and unanswered: both due this hour (taskWaitDays 3).
    const given = now - 4 * DAY;
    const tasks = ids.map((id) => introductionTask({ customerId: id, from: 'A01', to: 'A02' }, '2026-W48', 'VIC', given));
    for (const task of tasks) await createTask(aws.clients.documents, tables.advisorTasks, task, 400);

    const ses = createSesMailer(aws.clients.ses, { maxSendRate: 500 });
    let answered: { customerId: string; statusCode: number } | undefined;
    const mailer = {
      stats: () => ses.stats(),
      send: async (email: Parameters<typeof ses.send>[0]) => {
        if (answered === undefined) {
          // While the first introduction goes out, Marc presses "I introduced myself" for the other client.
          const other = tasks.find((task) => `${task.customerId}@example.com` !== email.to);
          if (other === undefined) throw new Error('no other introduction');
          const token = signTaskToken({ customerId: other.customerId, occasionKey: other.occasionKey, action: 'done', version: 1, expiresAt: given + 14 * DAY }, UNSUBSCRIBE_SECRET);
          const page = await handleTaskLink(taskLinkContext(aws, config, now), post(token));
          answered = { customerId: other.customerId, statusCode: page.statusCode };
        }
        return ses.send(email);
      },
    };
    const hour = await runCampaignHour(aws, config, now, 'answer-while-sending', { mailer });
    expect(answered?.statusCode).toBe(200);
    expect(hour.introductions).toMatchObject({ sent: 1 });
    const doneBy = answered?.customerId ?? '';
    const mailedTo = ids.find((id) => id !== doneBy) ?? '';
    expect(await emailsTo(aws, `${doneBy}@example.com`)).toEqual([]);
    expect(await emailsTo(aws, `${mailedTo}@example.com`)).toHaveLength(1);
    const history = async (customerId: string) => (await getTask(aws.clients.documents, tables.advisorTasks, { customerId, occasionKey: introductionKey({ to: 'A02' }, '2026-W48') }))?.history.map((e) => [e.event, e.because]);
    expect(await history(doneBy)).toEqual([['created', undefined], ['done', undefined]]);
    expect(await history(mailedTo)).toEqual([['created', undefined], ['sending', 'no-answer'], ['emailed', 'no-answer']]);
  });

  it('"I introduced myself" pressed while that very introduction goes out: the page says it is closed, not "recorded"', { timeout: 120_000 }, async () => {
    const config = await advisorsConfig(aws, 'handover-answer-same', { timeZone: ZONE });
    const tables = tableNames(config);
    const now = at('2026-11-27 11:00', ZONE);
    await writeRoster(aws.clients.s3, config, { runDate: '2026-11-22', advisors: [{ advisorId: 'A02', name: 'Marc Dubois', email: 'marc@answer-same.example.com', locale: 'en', active: true }] });
    await seedProfiles(aws, config, [profileItem('hs-1', { tier: 'VIC', advisorId: 'A02', locale: 'en', timeZone: ZONE })]);
    const given = now - 4 * DAY;
    const task = introductionTask({ customerId: 'hs-1', from: 'A01', to: 'A02' }, '2026-W48', 'VIC', given);
    await createTask(aws.clients.documents, tables.advisorTasks, task, 400);

    const ses = createSesMailer(aws.clients.ses, { maxSendRate: 500 });
    let statusCode: number | undefined;
    const mailer = {
      stats: () => ses.stats(),
      send: async (email: Parameters<typeof ses.send>[0]) => {
        const token = signTaskToken({ customerId: task.customerId, occasionKey: task.occasionKey, action: 'done', version: 1, expiresAt: given + 14 * DAY }, UNSUBSCRIBE_SECRET);
        statusCode ??= (await handleTaskLink(taskLinkContext(aws, config, now), post(token))).statusCode;
        return ses.send(email);
      },
    };
    const hour = await runCampaignHour(aws, config, now, 'answer-same', { mailer });
    expect(statusCode).toBe(409);
    expect(hour.introductions).toMatchObject({ sent: 1 });
    expect(await emailsTo(aws, 'hs-1@example.com')).toHaveLength(1);
    const stored = await getTask(aws.clients.documents, tables.advisorTasks, task);
    expect(stored?.status).toBe('emailed');
    expect(stored?.history.map((e) => e.event)).toEqual(['created', 'sending', 'emailed']);
  });
});

describe('handover: introductions whose request SES refuses (not the recipient: a configuration problem)', () => {
  it('feed the run’s circuit breaker as a campaign email does: the run stops and fails, the rest wait for a later hour', async () => {
    const config = await advisorsConfig(aws, 'handover-bad-request', { timeZone: ZONE, sender: { ...aws.config.sender, maxSendRate: 500, fromAddress: 'hello@maison.example.com', circuitBreakerFailures: 2 } });
    const tables = tableNames(config);
    const atTen = at('2026-11-24 10:00', ZONE);
    await writeRoster(aws.clients.s3, config, {
      runDate: '2026-11-15',
      advisors: [{ advisorId: 'A02', name: 'Marc Dubois', email: 'marc@bad-request.example.com', locale: 'en', active: true, store: 'Paris' }],
    });
    const ids = ['hb-1', 'hb-2', 'hb-3'];
    await seedProfiles(aws, config, ids.map((id) => profileItem(id, { tier: 'VIC', advisorId: 'A02', locale: 'en' })));
    // The new advisor asked us to send each introduction.
    for (const customerId of ids) {
      const asked = answerTask(introductionTask({ customerId, from: 'A01', to: 'A02' }, '2026-W48', 'VIC', atTen - 2 * HOUR), 'send', 1, atTen - HOUR);
      if (asked.outcome !== 'recorded') throw new Error('answer not recorded');
      await createTask(aws.clients.documents, tables.advisorTasks, asked.task, 400);
    }
    const ses = sesRefusingEveryCall(aws.clients.ses, configurationSetMissing);

    const hour = await runCampaignHour({ clients: { ...aws.clients, ses } }, config, atTen, 'bad-request-1');
    expect(hour.clientsDue).toBe(0);
    expect(hour.introductions).toMatchObject({ sent: 0, deferred: 2 });
    expect(hour.stopped).toEqual({ reason: 'circuit-breaker', message: expect.stringContaining('last: BadRequestException: Configuration set <clientele-prod-events> does not exist.') });
    expect(campaignRunFailure(hour)).toMatchObject({ code: 'CAMPAIGN_RUN_HALTED' });

    const next = await runCampaignHour(aws, config, atTen + HOUR, 'bad-request-2');
    expect(next.stopped).toBeUndefined();
    expect(await emailsTo(aws, ids.map((id) => `${id}@example.com`))).toHaveLength(3);
  });
});

describe('handover: a handover whose new advisor\'s digest stays deferred all its week', () => {
  it('is introduced by the next week\'s digest', { timeout: 240_000 }, async () => {
    const zone = 'Asia/Shanghai';
    const fang = 'fang@handover-deferred-week.example.com';
    const config = await advisorsConfig(aws, 'handover-deferred-week', { timeZone: zone });
    await writeRoster(aws.clients.s3, config, {
      runDate: '2026-11-15',
      advisors: [
        { advisorId: 'A01', name: 'Sophie Martin', email: 'sophie@handover-deferred-week.example.com', locale: 'en', active: true },
        { advisorId: 'A02', name: 'Fang Li', email: fang, locale: 'en', active: true },
      ],
    });
    const client = (advisorId: string) =>
      profileItem('hdw-c', { tier: 'VIC', stage: 'active', advisorId, spend12mMinor: 7_000_000, birthday: '03-14', lastOrderAt: '2026-11-01T02:00:00.000Z', firstOrderAt: '2025-02-01T02:00:00.000Z', orderCount: 8, email: 'hdw-c@example.com', timeZone: zone });
    // A02 has a client of their own with a birthday each week: they always have a digest.
    const own = (birthday: string) => profileItem('hdw-own', { tier: 'VIC', stage: 'active', advisorId: 'A02', spend12mMinor: 6_000_000, birthday, lastOrderAt: '2026-11-01T02:00:00.000Z', firstOrderAt: '2025-02-01T02:00:00.000Z', orderCount: 8, timeZone: zone });
    const throttledForFang = sesRefusing(aws.clients.ses, (command) => (addressedTo(command, fang) ? maxSendRateExceeded() : undefined));
    const throttled = createSesMailer(throttledForFang, { maxSendRate: 50, baseDelayMs: 1, maxAttempts: 2 });
    const night = (runDate: string, mailer?: ReturnType<typeof createSesMailer>) =>
      advisorDigestsOfNight({ at: Date.parse(`${addDays(runDate, 1)}T00:00:00+08:00`) + 2.5 * HOUR, runDate, runId: `hdw-${runDate}`, config, clients: aws.clients, unsubscribeSecret: UNSUBSCRIBE_SECRET, ...(mailer ? { mailer } : {}) });

    // Week 47: the client is A01's.
    await seedProfiles(aws, config, [client('A01'), own('11-17')]);
    await night('2026-11-15');
    const fangBefore = (await emailsTo(aws, fang)).length;

    // Handed to A02; A02's week-48 digest (carrying the introduction) throttled on the digest day and the 6 nights after.
    await seedProfiles(aws, config, [client('A02'), own('11-24')]);
    const sunday = (await night('2026-11-22', throttled)).advisorDigests;
    expect(sunday?.handovers).toBe(1);
    expect(sunday?.advisors.find((a) => a.advisorId === 'A02')).toMatchObject({ outcome: 'deferred', introductions: 1 });
    for (let d = 1; d <= 6; d++) await night(addDays('2026-11-22', d), throttled);
    expect(await emailsTo(aws, fang)).toHaveLength(fangBefore);

    // Week 49: SES works again; no digest ever showed A02 the handover, so this one does, with its task.
    await seedProfiles(aws, config, [client('A02'), own('12-01')]);
    const next = (await night('2026-11-29')).advisorDigests;
    expect(next?.handovers).toBe(1);
    expect(next?.advisors.find((a) => a.advisorId === 'A02')).toMatchObject({ outcome: 'sent', introductions: 1, introductionTasks: 1 });
    // Introduced: week 50 sees no handover any more.
    const after = (await night('2026-12-06')).advisorDigests;
    expect(after?.handovers).toBe(0);
  });
});

describe('handover: a dry run of the digests', () => {
  it('shows the handover without the previous advisor\'s name and the client\'s birthday without its year', { timeout: 120_000 }, async () => {
    const zone = 'Asia/Shanghai';
    const config = await advisorsConfig(aws, 'handover-dry-run', { timeZone: zone });
    await writeRoster(aws.clients.s3, config, {
      runDate: '2026-11-15',
      advisors: [
        { advisorId: 'A01', name: 'Sophie Martin', email: 'sophie@handover-dry-run.example.com', locale: 'en', active: true },
        { advisorId: 'A02', name: 'Fang Li', email: 'fang@handover-dry-run.example.com', locale: 'en', active: true },
      ],
    });
    const client = (advisorId: string) =>
      profileItem('hdr-c', { tier: 'VIC', stage: 'active', advisorId, firstName: 'Lin', lastName: 'Wei', spend12mMinor: 7_000_000, birthday: '1980-03-14', lastOrderAt: '2026-11-01T02:00:00.000Z', firstOrderAt: '2025-02-01T02:00:00.000Z', orderCount: 8, email: 'hdr-c@example.com', timeZone: zone });
    await seedProfiles(aws, config, [client('A01')]);
    await sendAdvisorDigests({ runDate: '2026-11-15', runId: 'hdr-w47', at: Date.parse('2026-11-16T02:30:00+08:00'), config, clients: aws.clients });
    await seedProfiles(aws, config, [client('A02')]);
    const dry = await sendAdvisorDigests({ runDate: '2026-11-22', runId: 'hdr-dry', dryRun: true, at: Date.parse('2026-11-23T02:30:00+08:00'), config, clients: aws.clients });
    const printed = JSON.stringify(dry.books);
    expect(printed).not.toMatch(/Sophie|Martin|Lin|Wei|1980|@/);
    const [row] = dry.books?.find((book) => book.advisorId === 'A02')?.rows ?? [];
    expect(row?.reasons[0]).toMatchObject({ kind: 'handover', from: 'A01', birthday: '03-14' });
  });
});

describe('handover: `run advisor-digests --date` of an older week', () => {
  it('leaves the current week\'s pairs alone: next week\'s digest still introduces the client handed over since', { timeout: 240_000 }, async () => {
    const zone = 'Asia/Shanghai';
    const config = await advisorsConfig(aws, 'handover-older-week', { timeZone: zone });
    await writeRoster(aws.clients.s3, config, {
      runDate: '2026-11-01',
      advisors: [
        { advisorId: 'A01', name: 'Sophie Martin', email: 'sophie@handover-older-week.example.com', locale: 'en', active: true },
        { advisorId: 'A02', name: 'Fang Li', email: 'fang@handover-older-week.example.com', locale: 'en', active: true },
      ],
    });
    const client = (advisorId: string) =>
      profileItem('how-c', { tier: 'VIC', stage: 'active', advisorId, spend12mMinor: 7_000_000, birthday: '03-14', lastOrderAt: '2026-11-01T02:00:00.000Z', firstOrderAt: '2025-02-01T02:00:00.000Z', orderCount: 8, email: 'how-c@example.com', timeZone: zone });
    // A02 has a client of their own with a birthday each week: a digest every week.
    const own = (birthday: string) => profileItem('how-own', { tier: 'VIC', stage: 'active', advisorId: 'A02', spend12mMinor: 6_000_000, birthday, lastOrderAt: '2026-11-01T02:00:00.000Z', firstOrderAt: '2025-02-01T02:00:00.000Z', orderCount: 8, timeZone: zone });
    const clockOf = (runDate: string) => Date.parse(`${addDays(runDate, 1)}T02:30:00+08:00`);
    const night = (runDate: string) => advisorDigestsOfNight({ at: clockOf(runDate), runDate, runId: `how-${runDate}`, config, clients: aws.clients, unsubscribeSecret: UNSUBSCRIBE_SECRET });
    for (const sunday of ['2026-11-08', '2026-11-15', '2026-11-22']) {
      await seedProfiles(aws, config, [client('A01'), own(addDays(sunday, 2).slice(5))]);
      await night(sunday);
    }
    // Monday night: handed to A02. Wednesday: the operator's `clientele run advisor-digests --date 2026-11-10` (week 45's, all sent).
    await seedProfiles(aws, config, [client('A02')]);
    const date = '2026-11-10';
    const cli = await sendAdvisorDigests({ runDate: date, digestDate: digestNightOf(date, config.reports.advisorDigestWeekday).digestDate, runId: 'how-cli', at: Date.parse('2026-11-25T10:00:00+08:00'), config, clients: aws.clients, unsubscribeSecret: UNSUBSCRIBE_SECRET });
    expect(cli.totals.sent).toBe(0);
    expect(cli.handovers).toBe(0);

    await seedProfiles(aws, config, [client('A02'), own('12-01')]);
    const next = (await night('2026-11-29')).advisorDigests;
    expect(next?.handovers).toBe(1);
    expect(next?.advisors.find((a) => a.advisorId === 'A02')).toMatchObject({ outcome: 'sent', introductions: 1 });
  });
});
