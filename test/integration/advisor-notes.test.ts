import { describe, expect, it } from 'vitest';
import { handleTaskLink } from '#shared/unsubscribe/task-links.ts';
import { writeRoster } from '#shared/store/roster-store.ts';
import { noteBody } from '#shared/templates/advisor-digest.ts';
import type { Config } from '#shared/config.ts';
import { sendAdvisorDigests } from '#shared/digests/advisor-digests.ts';
import { getLedgerEntry } from '#shared/store/ledger-store.ts';
import { getTask } from '#shared/store/task-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { advisorsConfig, runCampaignHour } from '#test/support/campaign-runs.ts';
import { seedCatalog, seedProfiles } from '#test/support/emulator-data.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { at, DAY, HOUR, iso } from '#test/support/time.ts';
import { taskLinkContext, taskLinkToken } from '#test/support/task-links.ts';

/**
 * Issue 16 points 2 and 3 on the embedded AWS. A VIC's win-back whose advisor is active is first
 * the advisor's task (an email with the drafted note and three signed links); the client's note
 * then goes out in the advisor's name (From "Advisor via Brand <brand address>", Reply-To the
 * advisor, as the SES emulator stores them) only when the advisor asks for it or does not answer
 * within advisors.taskWaitDays; "done" means no email. A VIC whose advisor left gets the client
 * care team's note at once. The links refuse forged and expired tokens and act only once.
 */

const aws = sharedAws();
const ZONE = 'Asia/Shanghai';
const NOW = at('2026-11-23 10:00', ZONE);

/** The text of RFC 2047 B-encoded words in a From header. */
const decoded = (header: string) =>
  header.replace(/\?=\s+=\?/g, '?==?').replace(/=\?UTF-8\?B\?([A-Za-z0-9+/=]+)\?=/g, (_, b64: string) => Buffer.from(b64, 'base64').toString('utf8'));

const post = (token: string) => ({ method: 'POST', token, form: {} });

describe('one touch: the advisor’s task first, then the note in their name', () => {
  it('task emails, answers through the links (forged, replayed, expired refused), wait-then-send, From and Reply-To in the SES store', { timeout: 120_000 }, async () => {
    const config = await advisorsConfig(aws, 'advisor-notes');
    await writeRoster(aws.clients.s3, config, {
      runDate: '2026-11-22',
      advisors: [
        { advisorId: 'A01', name: 'Sophie Martin', email: 'sophie@advisors.example.com', locale: 'en', active: true, signature: 'Senior advisor, Rue Cambon' },
        { advisorId: 'A02', name: '王芳', email: 'wang.fang@advisors.example.com', locale: 'zh-CN', active: true },
        { advisorId: 'A03', name: 'Left Already', email: 'left@advisors.example.com', active: false },
      ],
    });
    // VICs 60 days past their last order: the win-back's day.
    const lapsedVic = (id: string, advisorId: string, locale: string) =>
      profileItem(id, { tier: 'VIC', stage: 'sleeping', advisorId, locale, timeZone: ZONE, firstOrderAt: '2025-01-10T10:00:00.000Z', lastOrderAt: iso(at('2026-09-24 12:00', ZONE)), orderCount: 6 });
    await seedProfiles(aws, config, [lapsedVic('note-en', 'A01', 'en'), lapsedVic('note-zh', 'A02', 'zh-CN'), lapsedVic('note-left', 'A03', 'en'), lapsedVic('note-done', 'A01', 'en')]);
    const tasks = tableNames(config).advisorTasks;
    const clientMail = async (id: string) => emailsTo(aws, `${id}@example.com`);

    // Hour 1: the advisors get their tasks; only the client whose advisor left gets a note, from the care team.
    const first = await runCampaignHour(aws, config, NOW, 'notes-1');
    expect(first.campaigns.winback).toMatchObject({ due: 4, sent: 1, deferred: 3 });
    const [left] = await clientMail('note-left');
    expect(left?.from).toBe('hello@maison.example.com');
    expect(left?.replyTo ?? []).toEqual([]);
    expect(left?.body.text).toContain('The Clientele Demo Brand client care team');
    expect(left?.body.text).not.toMatch(/personal advisor|Left Already/);
    for (const id of ['note-en', 'note-zh', 'note-done']) expect(await clientMail(id)).toEqual([]);
    const sophieTasks = await emailsTo(aws, 'sophie@advisors.example.com');
    const [fangTask] = await emailsTo(aws, 'wang.fang@advisors.example.com');
    expect(sophieTasks).toHaveLength(2);
    const enTask = sophieTasks.find((e) => e.body.text?.includes('note-en'));
    const doneTask = sophieTasks.find((e) => e.body.text?.includes('note-done'));
    expect(enTask?.body.text).toContain('> Warm regards,\n> Sophie Martin\n> Senior advisor, Rue Cambon');
    expect(enTask?.body.text).toMatch(/If you do nothing by 26 November 2026 at 10:00, the note goes out in your name\./);
    expect(fangTask?.subject).toMatch(/^以您的名义为Client note-zh准备的问候/);
    expect(fangTask?.body.text).toContain('> 此致\n> 王芳');

    // The links: a GET only asks; a forged, an expired and a replayed link change nothing.
    const sendZh = taskLinkToken(fangTask, '请代我发送邮件');
    const context = taskLinkContext(aws, config, () => NOW + HOUR / 2);
    expect((await handleTaskLink(context, { method: 'GET', token: sendZh, form: {} })).statusCode).toBe(200);
    const forged = `${sendZh.slice(0, 10)}${sendZh[10] === 'A' ? 'B' : 'A'}${sendZh.slice(11)}`;
    expect((await handleTaskLink(context, post(forged))).statusCode).toBe(403);
    expect((await handleTaskLink(taskLinkContext(aws, config, () => NOW + 15 * DAY), post(sendZh))).statusCode).toBe(410);
    expect((await handleTaskLink(context, post(sendZh))).statusCode).toBe(200);
    const replay = await handleTaskLink(context, post(sendZh));
    expect(replay.statusCode).toBe(409);
    expect((await handleTaskLink(context, post(taskLinkToken(doneTask, 'I took care of it')))).statusCode).toBe(200);

    // Hour 2: the note the advisor asked for goes out in her name; "done" is recorded, nothing sent; the third still waits.
    const second = await runCampaignHour(aws, config, NOW + HOUR, 'notes-2');
    expect(second.campaigns.winback).toMatchObject({ sent: 1, 'advisor-handled': 1, deferred: 1 });
    const [zh] = await clientMail('note-zh');
    expect(zh?.from).toMatch(/^=\?UTF-8\?B\?/);
    expect(decoded(zh?.from ?? '')).toBe('王芳 via Clientele Demo Brand <hello@maison.example.com>');
    expect(zh?.replyTo).toEqual(['wang.fang@advisors.example.com']);
    expect(zh?.body.text).toContain('此致\n王芳\nClientele Demo Brand专属顾问');
    expect(await clientMail('note-done')).toEqual([]);
    expect(await clientMail('note-en')).toEqual([]);

    // Three days after the task: no answer from Sophie, the note goes out in her name.
    const late = await runCampaignHour(aws, config, NOW + 3 * DAY, 'notes-3');
    expect(late.campaigns.winback).toMatchObject({ sent: 1 });
    const [en] = await clientMail('note-en');
    expect(en?.from).toBe('Sophie Martin via Clientele Demo Brand <hello@maison.example.com>');
    expect(en?.replyTo).toEqual(['sophie@advisors.example.com']);
    expect(en?.body.text).toContain('Warm regards,\nSophie Martin\nSenior advisor, Rue Cambon\nClientele Demo Brand');

    // Every outcome recorded on the tasks and in the ledger; a rerun sends nothing more.
    const again = await runCampaignHour(aws, config, NOW + 3 * DAY, 'notes-3b');
    expect(again.campaigns.winback?.sent).toBe(0);
    const taskOf = async (id: string) => {
      const ledger = await getLedgerEntry(aws.clients.documents, tableNames(config).sendLedger, { customerId: id, occasionKey: occasionKeyOf(await clientOccasions(config, id)) });
      return { ledger, task: await getTask(aws.clients.documents, tasks, { customerId: id, occasionKey: ledger?.occasionKey ?? '' }) };
    };
    const zhState = await taskOf('note-zh');
    expect(zhState.ledger?.status).toBe('sent');
    expect(zhState.task?.history.map((e) => [e.event, e.because])).toEqual([['created', undefined], ['send', undefined], ['sending', 'advisor-asked'], ['emailed', 'advisor-asked']]);
    const enState = await taskOf('note-en');
    expect(enState.task?.history.map((e) => [e.event, e.because])).toEqual([['created', undefined], ['sending', 'no-answer'], ['emailed', 'no-answer']]);
    const doneState = await taskOf('note-done');
    expect(doneState.ledger?.status).toBe('advisor-handled');
    expect(doneState.task?.status).toBe('done');
    for (const id of ['note-en', 'note-zh', 'note-done', 'note-left']) expect((await clientMail(id)).length).toBeLessThanOrEqual(1);
    expect(await emailsTo(aws, 'sophie@advisors.example.com')).toHaveLength(2);

    // Follow-through in the digests (point 6): per advisor, and added up.
    const digests = await sendAdvisorDigests({ at: NOW + 3 * DAY, runDate: '2026-11-26', runId: 'digest-preview', config, clients: aws.clients, dryRun: true });
    expect(digests.advisors.map((a) => [a.advisorId, a.followThrough])).toEqual([
      ['A01', { given: 2, done: 1, asked: 0, snoozed: 0, left: 1, open: 0, reassigned: 0 }],
      ['A02', { given: 1, done: 0, asked: 1, snoozed: 0, left: 0, open: 0, reassigned: 0 }],
    ]);
    expect(digests.followThrough?.total).toEqual({ given: 3, done: 1, asked: 1, snoozed: 0, left: 1, open: 0, reassigned: 0 });
  });
});

describe('the note drafted in the advisor’s name is the note the client gets', () => {
  it('with the products export’s prices and links, and every product the reminder lists', { timeout: 120_000 }, async () => {
    // Replenishment marked personal: a VIC's reminder of two products running out together is one note (a winner and its companion).
    const config = await advisorsConfig(aws, 'advisor-note-draft', {
      campaigns: { policy: { controlShare: 0 }, campaigns: [{ kind: 'winback' }, { kind: 'replenishment', personal: true }] },
    });
    const sophie = { advisorId: 'A01', name: 'Sophie Martin', email: 'sophie@note-draft.example.com', locale: 'en', active: true };
    await writeRoster(aws.clients.s3, config, { runDate: '2026-11-22', advisors: [sophie] });
    await seedCatalog(aws, config, [
      { sku: 'LG-1', name: 'Card Holder', category: 'leather-goods', url: 'https://shop.example.com/card-holder', priceMinor: 12000, currency: 'USD' },
      { sku: 'SC-1', name: 'Night Cream', category: 'skincare', replenishDays: 30, url: 'https://shop.example.com/night-cream', priceMinor: 9000, currency: 'USD' },
      { sku: 'SC-2', name: 'Day Serum', category: 'skincare', replenishDays: 30, url: 'https://shop.example.com/day-serum', priceMinor: 11000, currency: 'USD' },
    ]);
    const lastOrderAt = iso(at('2026-09-24 12:00', ZONE));
    const stockedUp = iso(at('2026-10-29 12:00', ZONE)); // 30 days' cycle: runs out 28 November, within the reminder's lead
    const vic = { tier: 'VIC' as const, advisorId: 'A01', locale: 'en', timeZone: ZONE, firstOrderAt: '2025-01-10T10:00:00.000Z', orderCount: 6 };
    const bought = (at: string) => ({ lastPurchasedAt: at, quantity: 1, purchases: 1 });
    await seedProfiles(aws, config, [
      // No product_name in the orders export: the name comes from the products export.
      profileItem('draft-winback', { ...vic, stage: 'sleeping', lastOrderAt, topCategory: 'leather-goods', skus: { 'LG-1': { ...bought(lastOrderAt), category: 'leather-goods' } } }),
      profileItem('draft-refill', { ...vic, stage: 'active', lastOrderAt: stockedUp, skus: { 'SC-1': { ...bought(stockedUp), category: 'skincare' }, 'SC-2': { ...bought(stockedUp), category: 'skincare' } } }),
    ]);

    await runCampaignHour(aws, config, NOW, 'draft-1');
    const tasks = await emailsTo(aws, sophie.email);
    expect(tasks).toHaveLength(2);
    const context = taskLinkContext(aws, config, () => NOW + HOUR / 2);
    for (const task of tasks) expect((await handleTaskLink(context, post(taskLinkToken(task, 'Send the email for me')))).statusCode).toBe(200);
    await runCampaignHour(aws, config, NOW + HOUR, 'draft-2');

    for (const [id, shown] of [
      ['draft-winback', ['Card Holder, $120.00', 'https://shop.example.com/card-holder']],
      ['draft-refill', ['Night Cream', '$90.00', 'https://shop.example.com/night-cream', 'Day Serum', '$110.00', 'https://shop.example.com/day-serum']],
    ] as const) {
      const [note] = await emailsTo(aws, `${id}@example.com`);
      const task = tasks.find((t) => t.body.text?.includes(id));
      const sent = noteBody(note?.body.text ?? '');
      // The draft quotes the note line by line ("> ").
      const draft = (task?.body.text ?? '').split('\n').filter((line) => line.startsWith('>')).map((line) => line.replace(/^> ?/, '')).join('\n');
      for (const text of shown) expect(sent, id).toContain(text);
      expect(draft, id).toBe(sent);
    }
  });
});

/** The client's win-back ledger entries (one occasion each here). */
async function clientOccasions(config: Config, customerId: string): Promise<string[]> {
  const { ledgerEntriesOf } = await import('#shared/store/ledger-store.ts');
  return (await ledgerEntriesOf(aws.clients.documents, tableNames(config).sendLedger, customerId)).map((e) => e.occasionKey).filter((k) => k.startsWith('winback#'));
}
function occasionKeyOf(keys: string[]): string {
  expect(keys).toHaveLength(1);
  return keys[0] ?? '';
}
