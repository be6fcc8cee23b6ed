import { beforeAll, describe, expect, it } from 'vitest';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { newTask } from '#shared/advisors/tasks.ts';
import { FEEDBACK_ALERTS } from '#shared/alerts.ts';
import type { Config } from '#shared/config.ts';
import { tableNames, type TableNames } from '#shared/store/tables.ts';
import { createTask, getTask } from '#shared/store/task-store.ts';
import { signTaskToken } from '#shared/unsubscribe/task-token.ts';
import { deployedRole } from '#test/support/deployed-role.ts';
import { functionUrlEvent } from '#test/support/function-url.ts';
import { lambdaHarness } from '#test/support/lambda-handler.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { fakeSecretsExtension } from '#test/support/secrets-extension.ts';
import { DAY } from '#test/support/time.ts';

/**
 * The advisor-task function URL handler as an advisor's click reaches it: the signing keys through
 * the secrets extension, the task in its table, with what the stack's role for it allows.
 */

const SECRET = 'advisor-task-handler-secret-0123456789ab';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:unsubscribe-key';
const TASK = { customerId: 'c-task', occasionKey: 'winback#2026-11' };

const aws = sharedAws();
const role = deployedRole(aws, 'advisor-task');
fakeSecretsExtension({ arn: SECRET_ARN, current: SECRET }, { readBy: role });
const lambda = lambdaHarness();
let config: Config;
let tables: TableNames;
let handler: (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

beforeAll(async () => {
  config = await scenarioConfig(aws, 'advisor-task');
  tables = tableNames(config);
  const now = Date.now();
  await createTask(aws.clients.documents, tables.advisorTasks, newTask({ ...TASK, campaignId: 'winback', expiresAt: now + 30 * DAY }, 'A01', now, 'VIC'), 400);
  ({ handler } = await lambda.load(role.environment(config, { UNSUBSCRIBE_SECRET_ARN: SECRET_ARN }), () => import('#functions/advisor-task/handler.ts')));
});

describe('advisor-task function URL handler', () => {
  it('GET asks and changes nothing; POST records the answer once', async () => {
    const token = signTaskToken({ ...TASK, action: 'done', version: 1, expiresAt: Date.now() + DAY }, SECRET);
    expect((await handler(functionUrlEvent('GET', token))).statusCode).toBe(200);
    expect(await getTask(aws.clients.documents, tables.advisorTasks, TASK)).toMatchObject({ status: 'open', version: 1 });
    expect((await handler(functionUrlEvent('POST', token))).statusCode).toBe(200);
    expect(await getTask(aws.clients.documents, tables.advisorTasks, TASK)).toMatchObject({ status: 'done', version: 2 });
    expect((await handler(functionUrlEvent('POST', token))).statusCode).toBe(409);
  });

  it('answers the error page when the key cannot be read, and logs the line the stack alarms on (the invocation succeeds: Lambda counts no error)', async () => {
    // The extension serves SECRET_ARN only: a handler naming another secret (deleted, renamed) reads none.
    const { handler: keyless } = await lambda.load(role.environment(config, { UNSUBSCRIBE_SECRET_ARN: `${SECRET_ARN}-gone` }), () => import('#functions/advisor-task/handler.ts'));
    const token = signTaskToken({ ...TASK, action: 'done', version: 2, expiresAt: Date.now() + DAY }, SECRET);
    expect((await keyless(functionUrlEvent('POST', token))).statusCode).toBe(500);
    expect(lambda.output.logs().filter((l) => l.message === 'advisor task link failed')).toEqual([
      expect.objectContaining({ level: 'ERROR', alert: FEEDBACK_ALERTS.advisorTaskFailed.alert }),
    ]);
  });
});
