import { describe, expect, it } from 'vitest';
import { createAwsClients, destroyAwsClients } from '#shared/aws/clients.ts';
import type { Tier } from '#shared/model.ts';
import { writeRoster } from '#shared/store/roster-store.ts';
import { ledgerEntriesOf } from '#shared/store/ledger-store.ts';
import { jsonLog } from '#shared/log.ts';
import { recordTaskEmailed, takeTaskForSending } from '#shared/sender/advisor-tasks.ts';
import { allTasks, getTask } from '#shared/store/task-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { handleTaskLink } from '#shared/unsubscribe/task-links.ts';
import { advisorsConfig, runCampaignHour } from '#test/support/campaign-runs.ts';
import { seedProfiles } from '#test/support/emulator-data.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { loseOneDynamoDbAnswer } from '#test/support/lost-answers.ts';
import { clientProfile, profileItem } from '#test/support/profiles.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { at, DAY, HOUR, iso } from '#test/support/time.ts';
import { taskLinkContext, taskLinkToken } from '#test/support/task-links.ts';

/**
 * The advisor's answer stands whatever happens to the task afterwards: "I took care of it" means
 * no email to the client, even when the advisor leaves the roster or the client stops qualifying
 * for a personal note before an hour records the answer; and no answer is told "recorded" while
 * the note goes: the sender takes the task before the SES call.
 */

const aws = sharedAws();
const ZONE = 'Asia/Shanghai';
const NOW = at('2026-11-23 10:00', ZONE);

/** A VIC 60 days past their last order: the win-back's day, a personal note of advisor A01. */
const lapsedVic = (id: string, tier: Tier = 'VIC') =>
  profileItem(id, { tier, stage: 'sleeping', advisorId: 'A01', locale: 'en', timeZone: ZONE, firstOrderAt: '2025-01-10T10:00:00.000Z', lastOrderAt: iso(at('2026-09-24 12:00', ZONE)), orderCount: 6 });

describe('“I took care of it” stands', () => {
  it('after the advisor left, or the client stopped qualifying, before an hour recorded it', { timeout: 120_000 }, async () => {
    const config = await advisorsConfig(aws, 'advisor-task-answers-done');
    const sophie = { advisorId: 'A01', name: 'Sophie Martin', email: 'sophie@answers.example.com', locale: 'en', store: 'Paris' };
    await writeRoster(aws.clients.s3, config, { runDate: '2026-11-22', advisors: [{ ...sophie, active: true }] });
    await seedProfiles(aws, config, [lapsedVic('done-left'), lapsedVic('done-core')]);
    await runCampaignHour(aws, config, NOW, 'done-1');
    const taskEmails = await emailsTo(aws, sophie.email);
    expect(taskEmails).toHaveLength(2);

    // 20:40: Sophie called both clients and presses "I took care of it"; the client's quiet hours start at 21:00.
    const clicked = at('2026-11-23 20:40', ZONE);
    for (const id of ['done-left', 'done-core']) {
      const page = await handleTaskLink(taskLinkContext(aws, config, clicked), { method: 'POST', token: taskLinkToken(taskEmails.find((e) => e.body.text?.includes(id)), 'I took care of it'), form: {} });
      expect(page.statusCode).toBe(200);
    }
    for (let h = 21; h <= 23; h++) await runCampaignHour(aws, config, at(`2026-11-23 ${h}:00`, ZONE), `done-night-${h}`);
    // That night Sophie leaves the roster, and one client drops to Core (no personal note any more).
    await writeRoster(aws.clients.s3, config, { runDate: '2026-11-23', advisors: [{ ...sophie, active: false }] });
    await seedProfiles(aws, config, [lapsedVic('done-core', 'Core')]);
    for (let h = 0; h <= 10; h++) await runCampaignHour(aws, config, at('2026-11-24 00:00', ZONE) + h * HOUR, `done-morning-${h}`);

    for (const id of ['done-left', 'done-core']) {
      expect(await emailsTo(aws, `${id}@example.com`)).toEqual([]);
      const entries = (await ledgerEntriesOf(aws.clients.documents, tableNames(config).sendLedger, id)).filter((e) => e.campaignId === 'winback');
      expect(entries.map((e) => e.status)).toEqual(['advisor-handled']);
    }
    expect((await allTasks(aws.clients.documents, tableNames(config).advisorTasks)).map((t) => t.status)).toEqual(['done', 'done']);
  });

  it('after the brand deployed the campaign no longer personal: no care-team note; a task left open is closed with the note', { timeout: 120_000 }, async () => {
    const personal = await advisorsConfig(aws, 'advisor-task-answers-unmarked', { campaigns: { policy: { controlShare: 0 }, campaigns: [{ kind: 'winback' }] } as never });
    const notPersonal = await advisorsConfig(aws, 'advisor-task-answers-unmarked', { campaigns: { policy: { controlShare: 0 }, campaigns: [{ kind: 'winback', personal: false }] } as never });
    const sophie = { advisorId: 'A01', name: 'Sophie Martin', email: 'sophie@unmarked.example.com', locale: 'en' };
    await writeRoster(aws.clients.s3, personal, { runDate: '2026-11-22', advisors: [{ ...sophie, active: true }] });
    await seedProfiles(aws, personal, [lapsedVic('unmarked-done'), lapsedVic('unmarked-open')]);
    await runCampaignHour(aws, personal, NOW, 'unmarked-1');
    const taskEmails = await emailsTo(aws, sophie.email);
    expect(taskEmails).toHaveLength(2);
    const done = await handleTaskLink(taskLinkContext(aws, personal, NOW + HOUR), { method: 'POST', token: taskLinkToken(taskEmails.find((e) => e.body.text?.includes('unmarked-done')), 'I took care of it'), form: {} });
    expect(done.statusCode).toBe(200);

    // The brand's new configuration: the win-back's notes are the care team's from now on.
    for (let h = 2; h < 8; h++) await runCampaignHour(aws, notPersonal, NOW + h * HOUR, `unmarked-${h}`);
    expect(await emailsTo(aws, 'unmarked-done@example.com')).toEqual([]);
    const ledger = (id: string) => ledgerEntriesOf(aws.clients.documents, tableNames(personal).sendLedger, id);
    expect((await ledger('unmarked-done')).filter((e) => e.campaignId === 'winback').map((e) => e.status)).toEqual(['advisor-handled']);
    // The unanswered one goes from the care team, and its task is closed with it.
    const notes = await emailsTo(aws, 'unmarked-open@example.com');
    expect(notes.map((n) => n.from)).toEqual([expect.not.stringContaining('Sophie')]);
    const tasks = await allTasks(aws.clients.documents, tableNames(personal).advisorTasks);
    expect(Object.fromEntries(tasks.map((t) => [t.customerId, t.status]))).toEqual({ 'unmarked-done': 'done', 'unmarked-open': 'emailed' });
  });

  it('an answer while the note is being sent finds the task closed; one just before the take wins; a done is never overwritten', { timeout: 120_000 }, async () => {
    const config = await advisorsConfig(aws, 'advisor-task-answers-race');
    await writeRoster(aws.clients.s3, config, { runDate: '2026-11-22', advisors: [{ advisorId: 'A01', name: 'Sophie Martin', email: 'sophie@race.example.com', locale: 'en', active: true }] });
    await seedProfiles(aws, config, [lapsedVic('race-sending'), lapsedVic('race-before')]);
    await runCampaignHour(aws, config, NOW, 'race-1');
    const taskEmails = await emailsTo(aws, 'sophie@race.example.com');
    const doneToken = (id: string) => taskLinkToken(taskEmails.find((e) => e.body.text?.includes(id)), 'I took care of it');
    const tasks = tableNames(config).advisorTasks;
    const late = NOW + 3 * DAY;

    // "I took care of it" just before the sender takes the task (after the gate read it): the answer wins, no email.
    const before = await getTask(aws.clients.documents, tasks, { customerId: 'race-before', occasionKey: (await allTasks(aws.clients.documents, tasks)).find((t) => t.customerId === 'race-before')?.occasionKey ?? '' });
    if (before === undefined) throw new Error('no task for race-before');
    expect((await handleTaskLink(taskLinkContext(aws, config, late), { method: 'POST', token: doneToken('race-before'), form: {} })).statusCode).toBe(200);
    const profile = clientProfile({ customerId: 'race-before', tier: 'VIC', timeZone: ZONE });
    expect(await takeTaskForSending({ config, clients: aws.clients, at: late }, profile, { outcome: 'send', because: 'no-answer', task: before })).toEqual({ outcome: 'advisor-handled' });

    // "I took care of it" while the hour sends the other note (after its claim, before SES): closed, and said so.
    let page: { statusCode?: number; body?: string } | undefined;
    const summary = await runCampaignHour(aws, config, late, 'race-2', {
      afterClaim: async ({ customerId }) => {
        if (customerId === 'race-sending') page = await handleTaskLink(taskLinkContext(aws, config, late), { method: 'POST', token: doneToken('race-sending'), form: {} });
      },
    });
    expect(summary.campaigns.winback).toMatchObject({ sent: 1, 'advisor-handled': 1 });
    expect(page?.statusCode).toBe(409);
    expect(page?.body).toContain('This task is closed');
    expect(await emailsTo(aws, 'race-sending@example.com')).toHaveLength(1);
    expect(await emailsTo(aws, 'race-before@example.com')).toEqual([]);
    const byClient = new Map((await allTasks(aws.clients.documents, tasks)).map((t) => [t.customerId, t]));
    expect(byClient.get('race-sending')?.history.map((e) => [e.event, e.because])).toEqual([['created', undefined], ['sending', 'no-answer'], ['emailed', 'no-answer']]);
    expect(byClient.get('race-before')?.status).toBe('done');

    // A note that went without being taken (as an introduction does) after a "done": the answer is kept, with a warning.
    const lines: string[] = [];
    await recordTaskEmailed({ config, clients: aws.clients, at: late + HOUR, log: jsonLog({ write: (line) => lines.push(line) }) }, before, 'no-answer');
    const kept = await getTask(aws.clients.documents, tasks, before);
    expect(kept?.status).toBe('done');
    expect(kept?.history.map((e) => e.event)).toEqual(['created', 'done', 'emailed']);
    expect(lines.map((line) => JSON.parse(line).message)).toEqual(['advisor task: the note went out after the advisor answered done']);
  });
});

describe('an answer whose write DynamoDB applied but whose reply was lost', () => {
  it('is told recorded, not already answered, when the SDK\'s retry is refused by the answer itself', { timeout: 120_000 }, async () => {
    const config = await advisorsConfig(aws, 'advisor-task-answers-lost-reply');
    const sophie = { advisorId: 'A01', name: 'Sophie Martin', email: 'sophie@lost-reply.example.com', locale: 'en', store: 'Paris' };
    await writeRoster(aws.clients.s3, config, { runDate: '2026-11-22', advisors: [{ ...sophie, active: true }] });
    await seedProfiles(aws, config, [lapsedVic('lost-reply')]);
    await runCampaignHour(aws, config, NOW, 'lost-reply-1');
    const taskEmail = (await emailsTo(aws, sophie.email))[0];
    const clients = createAwsClients(config);
    const lost = loseOneDynamoDbAnswer(clients, (command) => command === 'PutItemCommand');
    try {
      const page = await handleTaskLink({ ...taskLinkContext(aws, config, NOW + 10 * HOUR), documents: clients.documents }, { method: 'POST', token: taskLinkToken(taskEmail, 'I took care of it'), form: {} });
      expect(lost()).toBe(true);
      expect(page.statusCode).toBe(200);
      expect(page.body).not.toContain('Already answered');
    } finally {
      destroyAwsClients(clients);
    }
    expect((await allTasks(aws.clients.documents, tableNames(config).advisorTasks)).map((task) => task.status)).toEqual(['done']);
    // The same link pressed again: the answer stands, and says so.
    const again = await handleTaskLink(taskLinkContext(aws, config, NOW + 11 * HOUR), { method: 'POST', token: taskLinkToken(taskEmail, 'I took care of it'), form: {} });
    expect(again.statusCode).not.toBe(200);
  });
});
