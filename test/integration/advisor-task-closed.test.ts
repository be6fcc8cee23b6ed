import { describe, expect, it } from 'vitest';
import { handedOverTaskKey } from '#shared/advisors/tasks.ts';
import type { Config } from '#shared/config.ts';
import { writeRoster } from '#shared/store/roster-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { replaceTask, tasksOfClient } from '#shared/store/task-store.ts';
import { handleTaskLink } from '#shared/unsubscribe/task-links.ts';
import { advisorsConfig, runCampaignHour } from '#test/support/campaign-runs.ts';
import { aroundDocuments } from '#test/support/crashing-clients.ts';
import { awsError, sesRefusing } from '#test/support/refusing-ses.ts';
import { seedProfiles } from '#test/support/emulator-data.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { at, DAY, HOUR, iso } from '#test/support/time.ts';
import { clientHistory } from '#shared/advisors/handover.ts';
import { ledgerEntries } from '#test/support/emulator-data.ts';
import { taskLinkContext, taskLinkToken } from '#test/support/task-links.ts';

/**
 * An advisor's task whose occasion ends without it: the note went from the client care team (the
 * advisor left the roster the night after the task), or the client can no longer be emailed (consent
 * withdrawn while the task waits). The task is closed with the occasion ('emailed', or 'unsent' with
 * the reason), so a later answer gets the "closed" page (409), never "recorded".
 */
const aws = sharedAws();
const ZONE = 'Asia/Shanghai';
const NOW = at('2026-11-23 10:00', ZONE);

/** Sophie (A01) on the roster and her sleeping VIC `<name>-1`, due the win-back. */
async function sophieAndHerVic(name: string): Promise<{ config: Config; sophie: { advisorId: string; name: string; email: string; locale: string }; vicId: string }> {
  const config = await advisorsConfig(aws, name);
  const sophie = { advisorId: 'A01', name: 'Sophie Martin', email: `sophie@${name}.example.com`, locale: 'en' };
  await writeRoster(aws.clients.s3, config, { runDate: '2026-11-22', advisors: [{ ...sophie, active: true }] });
  const vicId = `${name}-1`;
  const vic = profileItem(vicId, { tier: 'VIC', stage: 'sleeping', advisorId: 'A01', email: `${vicId}@example.com`, locale: 'en', timeZone: ZONE, firstOrderAt: '2025-01-10T10:00:00.000Z', lastOrderAt: iso(at('2026-09-24 12:00', ZONE)), orderCount: 6 });
  await seedProfiles(aws, config, [vic]);
  return { config, sophie, vicId };
}

describe('an advisor task whose occasion ends without it', () => {
  it('is closed as emailed once the note went from the care team after the advisor left: a later answer gets 409', { timeout: 120_000 }, async () => {
    const config = await advisorsConfig(aws, 'task-closed-left');
    const sophie = { advisorId: 'A01', name: 'Sophie Martin', email: 'sophie@task-closed-left.example.com', locale: 'en' };
    await writeRoster(aws.clients.s3, config, { runDate: '2026-11-22', advisors: [{ ...sophie, active: true }] });
    const vic = profileItem('tcl-1', { tier: 'VIC', stage: 'sleeping', advisorId: 'A01', email: 'tcl-1@example.com', locale: 'en', timeZone: ZONE, firstOrderAt: '2025-01-10T10:00:00.000Z', lastOrderAt: iso(at('2026-09-24 12:00', ZONE)), orderCount: 6 });
    await seedProfiles(aws, config, [vic]);
    await runCampaignHour(aws, config, NOW, 'h1');
    const [taskEmail] = await emailsTo(aws, sophie.email);
    expect(taskEmail).toBeDefined();

    // That night Sophie leaves the roster; the next morning's hours send the note from the care team.
    await writeRoster(aws.clients.s3, config, { runDate: '2026-11-23', advisors: [{ ...sophie, active: false }] });
    for (let h = 0; h < 4; h++) await runCampaignHour(aws, config, at('2026-11-24 10:00', ZONE) + h * HOUR, `h2-${h}`);
    const notes = await emailsTo(aws, 'tcl-1@example.com');
    expect(notes).toHaveLength(1);
    expect(notes[0]?.from).not.toContain('Sophie');

    const tasks = await tasksOfClient(aws.clients.documents, tableNames(config).advisorTasks, 'tcl-1');
    expect(tasks.map((t) => t.status)).toEqual(['emailed']);

    // Two days later, she presses "I took care of it" from her still-valid task email.
    const page = await handleTaskLink(taskLinkContext(aws, config, at('2026-11-25 11:00', ZONE)), { method: 'POST', token: taskLinkToken(taskEmail, 'I took care of it'), form: {} });
    const after = await tasksOfClient(aws.clients.documents, tableNames(config).advisorTasks, 'tcl-1');
    expect({ page: page.statusCode, status: after[0]?.status }).toEqual({ page: 409, status: 'emailed' });
  });

  it('is closed as unsent (no-consent) when the client withdraws consent while it waits: "Send the email for me" gets 409', { timeout: 120_000 }, async () => {
    const config = await advisorsConfig(aws, 'task-closed-consent');
    const sophie = { advisorId: 'A01', name: 'Sophie Martin', email: 'sophie@task-closed-consent.example.com', locale: 'en' };
    await writeRoster(aws.clients.s3, config, { runDate: '2026-11-22', advisors: [{ ...sophie, active: true }] });
    const vic = (acceptsMarketing: boolean) =>
      profileItem('tcc-1', { tier: 'VIC', stage: 'sleeping', advisorId: 'A01', email: 'tcc-1@example.com', acceptsMarketing, locale: 'en', timeZone: ZONE, firstOrderAt: '2025-01-10T10:00:00.000Z', lastOrderAt: iso(at('2026-09-24 12:00', ZONE)), orderCount: 6 });
    await seedProfiles(aws, config, [vic(true)]);
    await runCampaignHour(aws, config, NOW, 'h1');
    const [taskEmail] = await emailsTo(aws, sophie.email);
    expect(taskEmail).toBeDefined();
    // The client withdraws consent; the next hours record the occasion no-consent.
    await seedProfiles(aws, config, [vic(false)]);
    for (let h = 1; h <= 3; h++) await runCampaignHour(aws, config, NOW + h * HOUR, `h2-${h}`);
    const page = await handleTaskLink(taskLinkContext(aws, config, NOW + 5 * HOUR), { method: 'POST', token: taskLinkToken(taskEmail, 'Send the email for me'), form: {} });
    for (let h = 6; h <= 5 * 24; h += 6) await runCampaignHour(aws, config, NOW + h * HOUR, `h3-${h}`);
    const [task] = await tasksOfClient(aws.clients.documents, tableNames(config).advisorTasks, 'tcc-1');
    expect(await emailsTo(aws, 'tcc-1@example.com')).toEqual([]);
    // The task ended with the occasion: the page says closed, and the follow-through counts no note "sent at her request".
    expect({ page: page.statusCode, status: task?.status }).toEqual({ page: 409, status: 'unsent' });
    expect(task?.history.at(-1)).toMatchObject({ event: 'unsent', reason: 'no-consent', because: 'no-answer' });
  });

  it('is closed as unsent (failed) when SES refuses the note for good after the wait, not left taken: an answer gets 409 and the next advisor reads "not sent"', { timeout: 300_000 }, async () => {
    const { config, sophie, vicId } = await sophieAndHerVic('task-closed-refused');
    await runCampaignHour(aws, config, NOW, 'h1');
    const [taskEmail] = await emailsTo(aws, sophie.email);
    expect(taskEmail).toBeDefined();
    // Sophie does not answer; after the wait the hour takes the task and SES refuses the client's address for good.
    const ses = sesRefusing(aws.clients.ses, (command) => (JSON.stringify(command.input).includes(`${vicId}@example.com`) ? awsError('MessageRejected', 'Illegal address', 400) : undefined));
    for (let h = 0; h < 4; h++) await runCampaignHour({ clients: { ...aws.clients, ses } }, config, at('2026-11-26 10:00', ZONE) + h * HOUR, `h2-${h}`);
    expect(await emailsTo(aws, `${vicId}@example.com`)).toEqual([]);
    const tasksTable = tableNames(config).advisorTasks;
    const [task] = await tasksOfClient(aws.clients.documents, tasksTable, vicId);
    const entries = await ledgerEntries(aws, config);
    expect(entries.filter((entry) => entry.customerId === vicId && entry.occasionKey === task?.occasionKey).map((entry) => entry.status)).toEqual(['failed']);
    expect({ status: task?.status, last: task?.history.at(-1) }).toMatchObject({ status: 'unsent', last: { event: 'unsent', reason: 'failed', because: 'no-answer' } });

    const page = await handleTaskLink(taskLinkContext(aws, config, at('2026-11-27 11:00', ZONE)), { method: 'POST', token: taskLinkToken(taskEmail, 'Send the email for me'), form: {} });
    expect(page.statusCode).toBe(409);
    // Handed to another advisor later, the client's history says the note never went, not "sent after the wait".
    expect(clientHistory({ skus: {} }, task === undefined ? [] : [task], ZONE).pastTaskList.map((past) => past.outcome)).toEqual(['unsent']);
  });

  it('is closed by the answer when the hour that sent the note died before closing it: "I took care of it" gets 409, the task emailed', { timeout: 300_000 }, async () => {
    const { config, sophie, vicId } = await sophieAndHerVic('task-closed-crash');
    await runCampaignHour(aws, config, NOW, 'h1');
    const [taskEmail] = await emailsTo(aws, sophie.email);
    expect(taskEmail).toBeDefined();
    await writeRoster(aws.clients.s3, config, { runDate: '2026-11-23', advisors: [{ ...sophie, active: false }] });

    // The hour dies at its first write to the tasks table: the close, after SES took the care team's note.
    const tasksTable = tableNames(config).advisorTasks;
    let died = false;
    const dying = aroundDocuments(aws.clients, async (name, input, go) => {
      if (!died && input.TableName === tasksTable && /Put|Update|Delete|Write/.test(name)) {
        died = true;
        throw new Error('crash: the process died here');
      }
      return go();
    });
    await expect(runCampaignHour({ clients: dying }, config, at('2026-11-24 10:00', ZONE), 'h2-dies')).rejects.toThrow('crash');
    expect(died).toBe(true);
    // Later hours never meet the occasion again (its ledger entry is 'sent'): the task is still open.
    for (let h = 1; h < 4; h++) await runCampaignHour(aws, config, at('2026-11-24 10:00', ZONE) + h * HOUR, `h2-${h}`);
    expect(await emailsTo(aws, `${vicId}@example.com`)).toHaveLength(1);
    expect((await tasksOfClient(aws.clients.documents, tasksTable, vicId)).map((t) => t.status)).toEqual(['open']);

    // A scanner's GET says closed and changes nothing; her POST is refused and closes the task as the hour would have.
    const context = taskLinkContext(aws, config, at('2026-11-25 11:00', ZONE));
    const token = taskLinkToken(taskEmail, 'I took care of it');
    const looked = await handleTaskLink(context, { method: 'GET', token, form: {} });
    expect({ page: looked.statusCode, status: (await tasksOfClient(aws.clients.documents, tasksTable, vicId))[0]?.status }).toEqual({ page: 409, status: 'open' });
    const page = await handleTaskLink(context, { method: 'POST', token, form: {} });
    const [after] = await tasksOfClient(aws.clients.documents, tasksTable, vicId);
    expect({ page: page.statusCode, status: after?.status }).toEqual({ page: 409, status: 'emailed' });
    expect(after?.history.at(-1)).toMatchObject({ event: 'emailed', because: 'no-answer', at: at('2026-11-25 11:00', ZONE) });
  });

  it('is closed by the answer when an earlier version sent the note and left the task open (as before 7329bd4)', { timeout: 300_000 }, async () => {
    const { config, sophie, vicId } = await sophieAndHerVic('task-closed-earlier');
    await runCampaignHour(aws, config, NOW, 'h1');
    const [taskEmail] = await emailsTo(aws, sophie.email);
    const tasksTable = tableNames(config).advisorTasks;
    const [given] = await tasksOfClient(aws.clients.documents, tasksTable, vicId);
    expect(given?.status).toBe('open');
    await writeRoster(aws.clients.s3, config, { runDate: '2026-11-23', advisors: [{ ...sophie, active: false }] });
    for (let h = 0; h < 2; h++) await runCampaignHour(aws, config, at('2026-11-24 10:00', ZONE) + h * HOUR, `h2-${h}`);
    expect(await emailsTo(aws, `${vicId}@example.com`)).toHaveLength(1);
    // What a version that did not close tasks left: the note's ledger entry 'sent', the task as it was given.
    const [closed] = await tasksOfClient(aws.clients.documents, tasksTable, vicId);
    expect(await replaceTask(aws.clients.documents, tasksTable, given as NonNullable<typeof given>, closed?.version ?? 0, 400)).toBe('replaced');
    for (let h = 2; h < 4; h++) await runCampaignHour(aws, config, at('2026-11-24 10:00', ZONE) + h * HOUR, `h2-${h}`);

    const page = await handleTaskLink(taskLinkContext(aws, config, at('2026-11-25 11:00', ZONE)), { method: 'POST', token: taskLinkToken(taskEmail, 'Send the email for me'), form: {} });
    const [after] = await tasksOfClient(aws.clients.documents, tasksTable, vicId);
    expect(await emailsTo(aws, `${vicId}@example.com`)).toHaveLength(1);
    expect({ page: page.statusCode, status: after?.status }).toEqual({ page: 409, status: 'emailed' });
  });

  it('is closed by the answer under its handover key too: the new advisor\'s task, left open when the care team\'s note went', { timeout: 300_000 }, async () => {
    const { config, sophie, vicId } = await sophieAndHerVic('task-closed-handover');
    const marc = { advisorId: 'A02', name: 'Marc Dubois', email: 'marc@task-closed-handover.example.com', locale: 'en' };
    await writeRoster(aws.clients.s3, config, { runDate: '2026-11-22', advisors: [{ ...sophie, active: true }, { ...marc, active: true }] });
    await runCampaignHour(aws, config, NOW, 'h1');
    const tasksTable = tableNames(config).advisorTasks;
    const [first] = await tasksOfClient(aws.clients.documents, tasksTable, vicId);
    // Handed to Marc: Sophie's task closed 'reassigned', Marc's given under <occasion>#to#A02.
    const vic = profileItem(vicId, { tier: 'VIC', stage: 'sleeping', advisorId: 'A02', email: `${vicId}@example.com`, locale: 'en', timeZone: ZONE, firstOrderAt: '2025-01-10T10:00:00.000Z', lastOrderAt: iso(at('2026-09-24 12:00', ZONE)), orderCount: 6 });
    await seedProfiles(aws, config, [vic]);
    await runCampaignHour(aws, config, NOW + DAY, 'h2');
    const [marcsEmail] = await emailsTo(aws, marc.email);
    const marcsKey = handedOverTaskKey(first?.occasionKey ?? '', 'A02');
    const given = (await tasksOfClient(aws.clients.documents, tasksTable, vicId)).find((t) => t.occasionKey === marcsKey);
    expect(given).toMatchObject({ advisorId: 'A02', status: 'open' });

    // Marc leaves; the care team's note goes. What an hour that did not close tasks leaves: Marc's task as given.
    await writeRoster(aws.clients.s3, config, { runDate: '2026-11-24', advisors: [{ ...sophie, active: true }, { ...marc, active: false }] });
    for (let h = 1; h < 3; h++) await runCampaignHour(aws, config, NOW + DAY + h * HOUR, `h3-${h}`);
    expect(await emailsTo(aws, `${vicId}@example.com`)).toHaveLength(1);
    const closed = (await tasksOfClient(aws.clients.documents, tasksTable, vicId)).find((t) => t.occasionKey === marcsKey);
    expect(await replaceTask(aws.clients.documents, tasksTable, given as NonNullable<typeof given>, closed?.version ?? 0, 400)).toBe('replaced');

    const page = await handleTaskLink(taskLinkContext(aws, config, NOW + DAY + 4 * HOUR), { method: 'POST', token: taskLinkToken(marcsEmail, 'I took care of it'), form: {} });
    const after = await tasksOfClient(aws.clients.documents, tasksTable, vicId);
    expect({ page: page.statusCode, statuses: Object.fromEntries(after.map((t) => [t.advisorId, t.status])) }).toEqual({ page: 409, statuses: { A01: 'reassigned', A02: 'emailed' } });
  });
});
