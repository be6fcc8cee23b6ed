import { beforeAll, describe, expect, it } from 'vitest';
import { newTask } from '#shared/advisors/tasks.ts';
import type { Config } from '#shared/config.ts';
import type { ForgetResult } from '#shared/forget/forget.ts';
import { writeTierChanges } from '#shared/store/history-store.ts';
import { claimOccasion } from '#shared/store/ledger-store.ts';
import { suppress } from '#shared/store/suppression-store.ts';
import { tableNames, type TableNames } from '#shared/store/tables.ts';
import { createTask } from '#shared/store/task-store.ts';
import { deployedRole } from '#test/support/deployed-role.ts';
import { scanTable, seedProfiles } from '#test/support/emulator-data.ts';
import { lambdaHarness } from '#test/support/lambda-handler.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { HOUR, at } from '#test/support/time.ts';

/**
 * The right-to-erasure Lambda handler as an operator invokes it ({ customerId } or { email }),
 * with what the stack's role for it allows: every trace of the client goes (profile, tier history,
 * send-ledger entries, advisor tasks and their task emails, plain suppression entries), an erasure
 * entry stays.
 */

const AT = at('2026-11-23 10:00', 'Asia/Shanghai');

const aws = sharedAws();
const role = deployedRole(aws, 'forget');
const lambda = lambdaHarness();
let config: Config;
let tables: TableNames;
let handler: (event: unknown) => Promise<ForgetResult>;

/**
 * Everything the tables hold that names the client in clear. The ids have a letter no hex digit is
 * ('x'): a lease holder's random UUID once held "f03" and failed the search.
 */
async function tracesOf(customerId: string, email: string): Promise<unknown[]> {
  const items = await Promise.all(Object.values(tables).map((table) => scanTable(aws, table)));
  return items.flat().filter((item) => JSON.stringify(item).includes(customerId) || JSON.stringify(item).includes(email));
}

beforeAll(async () => {
  config = await scenarioConfig(aws, 'forget');
  tables = tableNames(config);
  ({ handler } = await lambda.load(role.environment(config), () => import('#functions/forget/handler.ts')));
});

describe('forget handler', () => {
  it('erases a client by id: every trace of them goes, an erasure entry stays; a second request deletes nothing', async () => {
    await seedProfiles(aws, config, [profileItem('fx1', { email: 'fx1@example.com' })]);
    await writeTierChanges(aws.clients.documents, tables.tierHistory, [{ customerId: 'fx1', runDate: '2026-11-22', toTier: 'Core', toStage: 'active', spend12mMinor: 600_000 }]);
    await claimOccasion(aws.clients.documents, tables.sendLedger, { customerId: 'fx1', occasionKey: 'winback#2026-11', campaignId: 'winback', runId: 'r1', now: AT, retentionDays: 400 });
    await createTask(aws.clients.documents, tables.advisorTasks, newTask({ customerId: 'fx1', occasionKey: 'winback#2026-11', campaignId: 'winback', expiresAt: AT + 720 * HOUR }, 'A01', AT, 'VIC'), 400);
    await claimOccasion(aws.clients.documents, tables.sendLedger, { customerId: 'advisor#A01', occasionKey: 'advisor-task#fx1#winback#2026-11', campaignId: 'advisor-task', runId: 'r1', now: AT, retentionDays: 400 });
    await suppress(aws.clients.documents, tables.suppression, { email: 'old-fx1@example.com', reason: 'hard-bounce', at: AT, customerId: 'fx1', source: 'ses-bounce:x' });

    expect(await handler({ customerId: 'fx1' })).toMatchObject({ profiles: 1, historyRecords: 1, ledgerEntries: 2, tasks: 1, suppressionEntries: 1, erasureKeys: 3 });
    expect(await tracesOf('fx1', 'fx1@example.com')).toEqual([]);
    expect(await handler({ customerId: 'fx1' })).toMatchObject({ profiles: 0, historyRecords: 0, ledgerEntries: 0, tasks: 0, suppressionEntries: 0 });
  });

  it('erases by address every client holding it', async () => {
    await seedProfiles(aws, config, [profileItem('fx2', { email: 'shared@example.com' }), profileItem('fx3', { email: 'shared@example.com' })]);
    expect(await handler({ email: 'shared@example.com' })).toMatchObject({ profiles: 2 });
    expect(await tracesOf('fx2', 'shared@example.com')).toEqual([]);
    expect(await tracesOf('fx3', 'shared@example.com')).toEqual([]);
  });

  it('refuses an id past the exports\' bound as a bad request, before writing anything (not a DynamoDB error half-way)', async () => {
    const before = await scanTable(aws, tables.suppression);
    await expect(handler({ customerId: 'X'.repeat(3000) })).rejects.toMatchObject({ name: 'ForgetRequestError', message: expect.stringMatching(/customerId: longer than 256 bytes/) });
    expect(await scanTable(aws, tables.suppression)).toEqual(before);
  });
});
