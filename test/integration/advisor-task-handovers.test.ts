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
import { at, DAY, HOUR, iso } from '#test/support/time.ts';

/**
 * A client handed A -> B -> A -> B within the win-back's window (a plan loaded, reverted, loaded
 * again): on the last handover B's first task is already closed 'reassigned'. B gets a fresh task
 * (its own key, its own task email), and the note goes in B's name after B's wait, once.
 */
const aws = sharedAws();
const ZONE = 'Asia/Shanghai';
const NOW = at('2026-11-23 10:00', ZONE);
const SOPHIE = 'sophie@task-handovers.example.com';
const MARC = 'marc@task-handovers.example.com';
const CLIENT = 'ths-1@example.com';

describe('a client handed back and forth between two advisors', () => {
  it('gives the advisor handed the client again a fresh task, and the note goes once in their name', { timeout: 240_000 }, async () => {
    const config = await advisorsConfig(aws, 'task-handovers');
    await writeRoster(aws.clients.s3, config, {
      runDate: '2026-11-22',
      advisors: [
        { advisorId: 'A01', name: 'Sophie Martin', email: SOPHIE, locale: 'en', active: true },
        { advisorId: 'A02', name: 'Marc Dubois', email: MARC, locale: 'en', active: true },
      ],
    });
    const vic = (advisorId: string) =>
      profileItem('ths-1', { tier: 'VIC', stage: 'sleeping', advisorId, email: CLIENT, locale: 'en', timeZone: ZONE, firstOrderAt: '2025-01-10T10:00:00.000Z', lastOrderAt: iso(at('2026-09-24 12:00', ZONE)), orderCount: 6 });
    const tasks = async () => tasksOfClient(aws.clients.documents, tableNames(config).advisorTasks, 'ths-1');

    await seedProfiles(aws, config, [vic('A01')]);
    await runCampaignHour(aws, config, NOW, 'ths-h1');
    const [first] = await tasks();
    const occasionKey = first?.occasionKey ?? '';
    await seedProfiles(aws, config, [vic('A02')]);
    await runCampaignHour(aws, config, NOW + 1 * DAY, 'ths-h2');
    await seedProfiles(aws, config, [vic('A01')]);
    await runCampaignHour(aws, config, NOW + 2 * DAY, 'ths-h3');
    await seedProfiles(aws, config, [vic('A02')]);
    await runCampaignHour(aws, config, NOW + 3 * DAY, 'ths-h4');
    expect(await emailsTo(aws, SOPHIE)).toHaveLength(2);
    expect(await emailsTo(aws, MARC)).toHaveLength(2);
    const secondRound = handedOverTaskKey(occasionKey, 'A02', 2);
    expect(secondRound).toBe(`${occasionKey}#to#A02#2`);
    const statuses = Object.fromEntries((await tasks()).map((task) => [task.occasionKey, task.status]));
    expect(statuses).toEqual({
      [occasionKey]: 'reassigned',
      [handedOverTaskKey(occasionKey, 'A02')]: 'reassigned',
      [handedOverTaskKey(occasionKey, 'A01')]: 'reassigned',
      [secondRound]: 'open',
    });

    // A rerun of the hour gives nothing twice.
    await runCampaignHour(aws, config, NOW + 3 * DAY, 'ths-h4b');
    expect(await emailsTo(aws, MARC)).toHaveLength(2);

    // Hours go on past Marc's wait: the note goes in his name, once, and his second task records it.
    for (let h = 1; h <= 8 * 24; h += 6) await runCampaignHour(aws, config, NOW + 3 * DAY + h * HOUR, `ths-h5-${h}`);
    const notes = await emailsTo(aws, CLIENT);
    expect(notes).toHaveLength(1);
    expect(notes[0]?.from).toContain('Marc Dubois');
    expect(await emailsTo(aws, MARC)).toHaveLength(2);
    expect((await tasks()).find((task) => task.occasionKey === secondRound)).toMatchObject({ advisorId: 'A02', status: 'emailed' });
  });
});
