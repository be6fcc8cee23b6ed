import { describe, expect, it } from 'vitest';
import { newTask, answerTask } from '#shared/advisors/tasks.ts';
import { sendAdvisorDigests } from '#shared/digests/advisor-digests.ts';
import { writeRoster } from '#shared/store/roster-store.ts';
import { createTask } from '#shared/store/task-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { seedProfiles } from '#test/support/emulator-data.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { emailsTo } from '#test/support/ses-store.ts';

/**
 * Issue 16 point 5 on the embedded AWS: a client whose advisor changed between two weekly digests
 * is introduced to the new advisor in their digest, with the previous advisor and what became of
 * the client's tasks with them; a rerun of the week compares with the same baseline and sends nothing twice.
 */

const aws = sharedAws();

describe('handover in the weekly digest', () => {
  it('introduces the client to the new advisor, with their history, once', { timeout: 60_000 }, async () => {
    const config = await scenarioConfig(aws, 'handover', { sender: { ...aws.config.sender, maxSendRate: 500 } });
    await writeRoster(aws.clients.s3, config, {
      runDate: '2026-11-15',
      advisors: [
        { advisorId: 'A01', name: 'Sophie Martin', email: 'sophie@handover.example.com', locale: 'en', active: false, store: 'Paris' },
        { advisorId: 'A02', name: '王芳', email: 'fang@handover.example.com', locale: 'zh-CN', active: true, store: 'Shanghai' },
      ],
    });
    const client = (advisorId: string) =>
      profileItem('ho-1', { tier: 'VIC', stage: 'active', advisorId, spend12mMinor: 7_000_000, birthday: '03-14', lastOrderAt: '2026-11-01T02:00:00.000Z', firstOrderAt: '2025-02-01T02:00:00.000Z', orderCount: 8 });
    await seedProfiles(aws, config, [client('A01')]);
    // A task the client had with the previous advisor, taken care of in person.
    const task = newTask({ customerId: 'ho-1', occasionKey: 'winback#2026-10-01', campaignId: 'winback', expiresAt: Date.parse('2026-11-30T00:00:00Z') }, 'A01', Date.parse('2026-10-01T02:00:00Z'));
    const done = answerTask(task, 'done', 1, Date.parse('2026-10-02T02:00:00Z'));
    await createTask(aws.clients.documents, tableNames(config).advisorTasks, done.task, 400);

    // Week 47: the pairs are recorded; no baseline yet, no handover.
    const first = await sendAdvisorDigests({ at: Date.now(), runDate: '2026-11-16', runId: 'w47', config, clients: aws.clients });
    expect(first.handovers).toBe(0);

    // The brand moved the client to A02 (after `clientele advisors plan`): the next week's digest introduces them.
    await seedProfiles(aws, config, [client('A02')]);
    const second = await sendAdvisorDigests({ at: Date.now(), runDate: '2026-11-23', runId: 'w48', config, clients: aws.clients });
    expect(second.handovers).toBe(1);
    expect(second.advisors.map((a) => [a.advisorId, a.outcome, a.reasonCounts.handover])).toEqual([['A02', 'sent', 1]]);
    const [digest] = await emailsTo(aws, 'fang@handover.example.com');
    expect(digest?.body.text).toContain('由Sophie Martin交接给您；生日 3月14日；此前共 1 项任务，亲自处理 1 项，邮件发送 0 封。请亲自致电或写信自我介绍');

    // A rerun of the week: the same baseline, the digest already sent.
    const rerun = await sendAdvisorDigests({ at: Date.now(), runDate: '2026-11-23', runId: 'w48-rerun', config, clients: aws.clients });
    expect(rerun.handovers).toBe(1);
    expect(rerun.totals).toMatchObject({ sent: 0, 'already-sent': 1 });
    expect(await emailsTo(aws, 'fang@handover.example.com')).toHaveLength(1);
  });
});
