import { describe, expect, it } from 'vitest';
import { handleTaskLink } from '#shared/unsubscribe/task-links.ts';
import { writeRoster } from '#shared/store/roster-store.ts';
import { ledgerEntriesOf } from '#shared/store/ledger-store.ts';
import { getTask } from '#shared/store/task-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { advisorsConfig, runCampaignHour } from '#test/support/campaign-runs.ts';
import { seedProfiles } from '#test/support/emulator-data.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { at, DAY, HOUR, iso } from '#test/support/time.ts';
import { taskLinkContext, taskLinkToken } from '#test/support/task-links.ts';

/**
 * A VIC's first-purchase thanks (72 h window) is first the advisor's task. With the default wait
 * (3 days) the unanswered note used to be due after the window had closed: the ledger ended
 * 'expired' and the client got nothing. Now it goes before the close, outside the client's quiet
 * hours (21:00–09:00), at the time the task email states; a snooze does not take it further.
 */

const aws = sharedAws();
const ZONE = 'Asia/Shanghai';

describe('an unanswered note goes before its occasion’s window closes', () => {
  it('first-purchase thanks: no answer, or a snooze, still reach the client the evening before the close', { timeout: 300_000 }, async () => {
    const config = await advisorsConfig(aws, 'advisor-note-window', { campaigns: { policy: { controlShare: 0 }, campaigns: [{ kind: 'welcome' }, { kind: 'first-purchase-thanks' }] } });
    await writeRoster(aws.clients.s3, config, { runDate: '2026-11-22', advisors: [{ advisorId: 'A01', name: 'Sophie Martin', email: 'sophie@advisors.example.com', locale: 'en', active: true }] });
    const firstOrder = at('2026-11-23 09:30', ZONE);
    const vic = (id: string) =>
      profileItem(id, { tier: 'VIC', stage: 'new', advisorId: 'A01', locale: 'en', timeZone: ZONE, signedUpAt: iso(firstOrder - 400 * DAY), firstOrderAt: iso(firstOrder), lastOrderAt: iso(firstOrder), orderCount: 1, spend12mMinor: 6_000_000 });
    await seedProfiles(aws, config, [vic('thanks-silent'), vic('thanks-snoozed')]);

    const start = at('2026-11-23 10:00', ZONE);
    await runCampaignHour(aws, config, start, 'window-0');
    const taskEmails = await emailsTo(aws, 'sophie@advisors.example.com');
    expect(taskEmails).toHaveLength(2);
    // The wait (3 days: 26 November at 10:00) would end after the close (09:30); 07:30 is in quiet hours: 19:00 the day before.
    for (const email of taskEmails) expect(email.body.text).toMatch(/If you do nothing by 25 November 2026 at 19:00, the note goes out in your name\./);

    // "Snooze a week" two hours later: recorded, and the page says the note cannot wait the week.
    const snoozeTask = taskEmails.find((e) => e.body.text?.includes('thanks-snoozed'));
    const context = taskLinkContext(aws, config, start + 2 * HOUR);
    const snoozed = await handleTaskLink(context, { method: 'POST', token: taskLinkToken(snoozeTask, 'Snooze a week'), form: {} });
    expect(snoozed.statusCode).toBe(200);
    expect(snoozed.body).toContain('The occasion passes soon, so the note cannot wait the whole week: unless you answer before, it goes out in your name on 25 November 2026 at 19:00.');

    // Every hour up to the close: the notes wait, then both go in the 19:00 run, once.
    const sentAt: Record<string, number> = {};
    for (let hour = 1; hour <= 72; hour++) {
      const now = start + hour * HOUR;
      const summary = await runCampaignHour(aws, config, now, `window-${hour}`);
      const counts = summary.campaigns['first-purchase-thanks'];
      expect(counts?.expired ?? 0).toBe(0);
      for (const id of ['thanks-silent', 'thanks-snoozed']) {
        if (sentAt[id] === undefined && (await emailsTo(aws, `${id}@example.com`)).length > 0) sentAt[id] = now;
      }
    }
    for (const id of ['thanks-silent', 'thanks-snoozed']) {
      expect(sentAt[id]).toBe(at('2026-11-25 19:00', ZONE));
      const mails = await emailsTo(aws, `${id}@example.com`);
      expect(mails).toHaveLength(1);
      expect(mails[0]?.from).toBe('Sophie Martin via Clientele Demo Brand <hello@maison.example.com>');
      const [entry] = (await ledgerEntriesOf(aws.clients.documents, tableNames(config).sendLedger, id)).filter((e) => e.campaignId === 'first-purchase-thanks');
      expect(entry?.status).toBe('sent');
      const task = await getTask(aws.clients.documents, tableNames(config).advisorTasks, { customerId: id, occasionKey: entry?.occasionKey ?? '' });
      expect(task?.status).toBe('emailed');
      expect(task?.history.at(-1)).toMatchObject({ event: 'emailed', because: 'no-answer' });
    }
  });
});
