import { describe, expect, it } from 'vitest';
import { handedOverTaskKey } from '#shared/advisors/tasks.ts';
import { writeRoster } from '#shared/store/roster-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { tasksOfClient } from '#shared/store/task-store.ts';
import { advisorsConfig, runCampaignHour } from '#test/support/campaign-runs.ts';
import { seedProfiles } from '#test/support/emulator-data.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { at, DAY, iso } from '#test/support/time.ts';

/**
 * A client handed over while their advisor's task is open: the note never goes out in the name of
 * an advisor who was not given the task. The old task is closed as reassigned, the new advisor gets
 * their own task and wait, and the note goes in their name only after it.
 */
const aws = sharedAws();
const ZONE = 'Asia/Shanghai';
const NOW = at('2026-11-23 10:00', ZONE);
const SOPHIE = 'sophie@task-handover.example.com';
const MARC = 'marc@task-handover.example.com';

describe('an open advisor task whose client is handed over', () => {
  it('is closed as reassigned and given to the new advisor, whose wait comes before the note', { timeout: 120_000 }, async () => {
    const config = await advisorsConfig(aws, 'task-handover');
    await writeRoster(aws.clients.s3, config, {
      runDate: '2026-11-22',
      advisors: [
        { advisorId: 'A01', name: 'Sophie Martin', email: SOPHIE, locale: 'en', active: true },
        { advisorId: 'A02', name: 'Marc Dubois', email: MARC, locale: 'en', active: true },
      ],
    });
    const lapsedVic = (advisorId: string) =>
      profileItem('th-1', { tier: 'VIC', stage: 'sleeping', advisorId, locale: 'en', timeZone: ZONE, firstOrderAt: '2025-01-10T10:00:00.000Z', lastOrderAt: iso(at('2026-09-24 12:00', ZONE)), orderCount: 6 });
    const tasks = async () => tasksOfClient(aws.clients.documents, tableNames(config).advisorTasks, 'th-1');
    await seedProfiles(aws, config, [lapsedVic('A01')]);
    await runCampaignHour(aws, config, NOW, 'th-1');
    expect(await emailsTo(aws, SOPHIE)).toHaveLength(1);
    const [first] = await tasks();
    expect(first).toMatchObject({ advisorId: 'A01', status: 'open', campaignId: 'winback' });

    // Handed to A02 before Sophie answered; her wait is over, but Marc never had the task.
    await seedProfiles(aws, config, [lapsedVic('A02')]);
    const handedOver = await runCampaignHour(aws, config, NOW + 4 * DAY, 'th-2');
    expect(handedOver.campaigns.winback?.sent ?? 0).toBe(0);
    expect(await emailsTo(aws, 'th-1@example.com')).toHaveLength(0);
    expect(await emailsTo(aws, MARC)).toHaveLength(1);
    const afterHandover = await tasks();
    const old = afterHandover.find((task) => task.occasionKey === first?.occasionKey);
    expect(old).toMatchObject({ advisorId: 'A01', status: 'reassigned' });
    expect(old?.history.at(-1)).toEqual({ at: NOW + 4 * DAY, event: 'reassigned', to: 'A02' });
    const marcsKey = handedOverTaskKey(first?.occasionKey ?? '', 'A02');
    expect(afterHandover.find((task) => task.occasionKey === marcsKey)).toMatchObject({ advisorId: 'A02', status: 'open', createdAt: NOW + 4 * DAY });

    // A rerun of the hour sends nothing more: Marc's task is waiting for him.
    await runCampaignHour(aws, config, NOW + 4 * DAY, 'th-2b');
    expect(await emailsTo(aws, MARC)).toHaveLength(1);
    expect(await emailsTo(aws, 'th-1@example.com')).toHaveLength(0);

    // Marc's own wait ends without an answer: the note goes in his name, and his task records it.
    await runCampaignHour(aws, config, NOW + 7 * DAY + 60_000, 'th-3');
    const [note] = await emailsTo(aws, 'th-1@example.com');
    expect(note?.from).toContain('Marc Dubois');
    expect(note?.replyTo).toEqual([MARC]);
    const settled = await tasks();
    expect(settled.find((task) => task.occasionKey === marcsKey)).toMatchObject({ status: 'emailed' });
    expect(settled.find((task) => task.occasionKey === first?.occasionKey)).toMatchObject({ status: 'reassigned' });
  });
});
