import { beforeAll, describe, expect, it } from 'vitest';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { FEEDBACK_ALERTS } from '#shared/alerts.ts';
import { forgetClient } from '#shared/forget/forget.ts';
import { getClientSuppression, getSuppression } from '#shared/store/suppression-store.ts';
import { tableNames, type TableNames } from '#shared/store/tables.ts';
import type { Config } from '#shared/config.ts';
import { parseFunctionEnvironment } from '#shared/environment.ts';
import { signUnsubscribeToken } from '#shared/unsubscribe/token.ts';
import { staticKeys } from '#shared/unsubscribe/keys.ts';
import { handleUnsubscribe } from '#shared/unsubscribe/unsubscribe.ts';
import { aroundDocuments } from '#test/support/crashing-clients.ts';
import { deployedRole } from '#test/support/deployed-role.ts';
import { scanTable, seedProfiles } from '#test/support/emulator-data.ts';
import { functionUrlEvent } from '#test/support/function-url.ts';
import { lambdaHarness } from '#test/support/lambda-handler.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { fakeSecretsExtension } from '#test/support/secrets-extension.ts';

const SECRET = 'handler-test-secret-0123456789abcdefgh';
const PREVIOUS = 'handler-previous-secret-0123456789abcd';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:unsubscribe-key';

const aws = sharedAws();
const role = deployedRole(aws, 'unsubscribe');
fakeSecretsExtension({ arn: SECRET_ARN, current: SECRET, previous: PREVIOUS }, { readBy: role });
let config: Config;
let tables: TableNames;
let handler: (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;
const lambda = lambdaHarness();

const suppressionCount = async (): Promise<number> => (await scanTable(aws, tables.suppression)).length;

beforeAll(async () => {
  config = await scenarioConfig(aws, 'unsubscribe', { brandName: 'Maison Test' });
  tables = tableNames(config);
  const client = (customerId: string) =>
    profileItem(customerId, { email: `${customerId}@Example.com`, tier: 'Potential', spend12mMinor: 150_000, lifetimeSpendMinor: 150_000, orderCount: 2 });
  await seedProfiles(aws, config, [client('c-100'), client('c-200')]);
  ({ handler } = await lambda.load(role.environment(config, { UNSUBSCRIBE_SECRET_ARN: SECRET_ARN }), () => import('#functions/unsubscribe/handler.ts')));
});

describe('unsubscribe function URL handler', () => {
  it('GET shows the confirmation page in the browser language', async () => {
    const response = await handler(functionUrlEvent('GET', signUnsubscribeToken('c-100', SECRET), { acceptLanguage: 'zh-CN,zh;q=0.9' }));
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['content-type']).toBe('text/html; charset=utf-8');
    expect(response.body).toContain('确认退订Maison Test的邮件？');
    expect(response.body).toContain('<form method="post"');
    expect(await suppressionCount()).toBe(0);
  });

  it('POST with a base64-encoded one-click body suppresses the client', async () => {
    const response = await handler(
      functionUrlEvent('POST', signUnsubscribeToken('c-100', SECRET), { body: 'List-Unsubscribe=One-Click', base64: true }),
    );
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('You are unsubscribed');
    const item = await getSuppression(aws.clients.documents, tables.suppression, 'c-100@example.com');
    expect(item).toMatchObject({ reason: 'unsubscribe', customerId: 'c-100', source: 'one-click' });
    expect(await getSuppression(aws.clients.documents, tables.suppression, 'c-200@example.com')).toBeUndefined();
    // A second POST is still 200 and keeps the first time.
    const again = await handler(functionUrlEvent('POST', signUnsubscribeToken('c-100', SECRET), { body: 'List-Unsubscribe=One-Click' }));
    expect(again.statusCode).toBe(200);
    expect((await getSuppression(aws.clients.documents, tables.suppression, 'c-100@example.com'))?.suppressedAt).toBe(item?.suppressedAt);
    // The address and the client's own no (kept against the id): two entries, each written once.
    expect(await getClientSuppression(aws.clients.documents, tables.suppression, 'c-100')).toMatchObject({ reason: 'unsubscribe', suppressedAt: item?.suppressedAt });
    expect(await suppressionCount()).toBe(2);
  });

  it('accepts a link signed with the previous secret', async () => {
    const response = await handler(functionUrlEvent('GET', signUnsubscribeToken('c-200', PREVIOUS)));
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('<form method="post"');
  });

  it('refuses forged, altered and missing tokens and writes nothing', async () => {
    const before = await suppressionCount();
    const [, signature] = signUnsubscribeToken('c-100', SECRET).split('.');
    const forged = `${Buffer.from('c-200').toString('base64url')}.${signature}`;
    const body = { body: 'List-Unsubscribe=One-Click' };
    expect((await handler(functionUrlEvent('POST', forged, body))).statusCode).toBe(403);
    expect((await handler(functionUrlEvent('POST', signUnsubscribeToken('c-200', 'attacker-secret-0123456789abcdefghij'), body))).statusCode).toBe(403);
    expect((await handler(functionUrlEvent('POST', '', body))).statusCode).toBe(400);
    expect((await handler(functionUrlEvent('POST', undefined, body))).statusCode).toBe(400);
    expect((await handler(functionUrlEvent('PUT', signUnsubscribeToken('c-200', SECRET), body))).statusCode).toBe(405);
    expect((await handler(functionUrlEvent('POST', signUnsubscribeToken('c-404', SECRET), body))).statusCode).toBe(404);
    expect(await suppressionCount()).toBe(before);
    expect(await getSuppression(aws.clients.documents, tables.suppression, 'c-200@example.com')).toBeUndefined();
  });

  it('answers 400 to an event that is not a function URL request', async () => {
    const response = await handler({ Records: [] } as unknown as APIGatewayProxyEventV2);
    expect(response.statusCode).toBe(400);
  });

  it('answers the error page when the key cannot be read, and logs the line the stack alarms on (the invocation succeeds: Lambda counts no error)', async () => {
    // The extension serves SECRET_ARN only: a handler naming another secret (deleted, renamed) reads none.
    const { handler: keyless } = await lambda.load(role.environment(config, { UNSUBSCRIBE_SECRET_ARN: `${SECRET_ARN}-gone` }), () => import('#functions/unsubscribe/handler.ts'));
    const response = await keyless(functionUrlEvent('POST', signUnsubscribeToken('c-200', SECRET), { body: 'List-Unsubscribe=One-Click' }));
    expect(response.statusCode).toBe(500);
    expect(response.body).toContain('Something went wrong');
    expect(await getSuppression(aws.clients.documents, tables.suppression, 'c-200@example.com')).toBeUndefined();
    expect(lambda.output.logs().filter((l) => l.message === 'unsubscribe failed')).toEqual([
      // The link's customer id, so the client's no can be recorded once the key is back (`clientele unsubscribe`).
      expect.objectContaining({ level: 'ERROR', alert: FEEDBACK_ALERTS.unsubscribeFailed.alert, method: 'POST', customerId: 'c-200' }),
    ]);
  });

  it("a forget that completes between the erasure check and the writes: the role may delete what the POST wrote, and nothing stays in clear", async () => {
    await seedProfiles(aws, config, [profileItem('c-race', { email: 'c-race@Example.com', tier: 'Core', orderCount: 2 })]);
    let forgotten = false;
    // The function's own calls go through its role; the forget (another function) runs with the test's clients.
    const racing = aroundDocuments(role.clients(config), async (name, input, go) => {
      if (!forgotten && input.TableName === tables.suppression && name === 'UpdateCommand') {
        forgotten = true;
        await forgetClient({ config, clients: aws.clients, request: { customerId: 'c-race' }, at: Date.now() });
      }
      return go();
    });
    const response = await handleUnsubscribe(
      { documents: racing.documents, tables, keys: staticKeys(SECRET), now: () => Date.now(), brandName: config.brandName },
      { method: 'POST', form: { 'List-Unsubscribe': 'One-Click' }, token: signUnsubscribeToken('c-race', SECRET) },
    );
    expect(forgotten).toBe(true);
    expect(response.statusCode).toBe(200);
    expect(await getClientSuppression(aws.clients.documents, tables.suppression, 'c-race')).toBeUndefined();
    expect(await getSuppression(aws.clients.documents, tables.suppression, 'c-race@example.com')).toBeUndefined();
  });

  it('never logs a full address', () => {
    expect(lambda.output.logs().length).toBeGreaterThan(0);
    for (const line of lambda.output.lines) expect(line).not.toMatch(/c-\d+@example\.com/i);
  });
});

describe('unsubscribe environment', () => {
  it('needs the key secret ARN and valid config JSON, and says which variable is wrong', () => {
    expect(() => parseFunctionEnvironment('unsubscribe', { CLIENTELE_CONFIG: '{}' })).toThrow(/UNSUBSCRIBE_SECRET_ARN/);
    expect(() => parseFunctionEnvironment('unsubscribe', { UNSUBSCRIBE_SECRET_ARN: SECRET_ARN })).toThrow(/CLIENTELE_CONFIG/);
    const environment = parseFunctionEnvironment('unsubscribe', { UNSUBSCRIBE_SECRET_ARN: SECRET_ARN, CLIENTELE_CONFIG: '{}' });
    expect(environment.UNSUBSCRIBE_SECRET_ARN).toBe(SECRET_ARN);
  });
});
