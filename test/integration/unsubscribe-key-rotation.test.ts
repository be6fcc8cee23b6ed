import { beforeAll, describe, expect, it } from 'vitest';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { getSuppression } from '#shared/store/suppression-store.ts';
import { tableNames, type TableNames } from '#shared/store/tables.ts';
import { signUnsubscribeToken } from '#shared/unsubscribe/token.ts';
import { seedProfiles } from '#test/support/emulator-data.ts';
import { functionUrlEvent } from '#test/support/function-url.ts';
import { lambdaHarness } from '#test/support/lambda-handler.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { fakeSecretsExtension, type SecretVersions } from '#test/support/secrets-extension.ts';

/**
 * A key rotation under a warm unsubscribe function: it loaded the keys before the rotation, and a
 * link signed with the new key arrives. It used to answer 403 until the container was recycled.
 */

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:unsubscribe-key-rotation';
const FIRST = 'first-key-0123456789abcdefghijklmnopqrs';
const SECOND = 'second-key-0123456789abcdefghijklmnopq';
/** What the Parameters and Secrets extension serves: AWSCURRENT, and AWSPREVIOUS once rotated (read at each request). */
const secret: SecretVersions = { arn: SECRET_ARN, current: FIRST };
const aws = sharedAws();
const extension = fakeSecretsExtension(secret);
const lambda = lambdaHarness();
let tables: TableNames;
let handler: (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

const request = (method: 'GET' | 'POST', token: string): APIGatewayProxyEventV2 =>
  functionUrlEvent(method, token, method === 'POST' ? { body: 'List-Unsubscribe=One-Click' } : {});

beforeAll(async () => {
  const config = await scenarioConfig(aws, 'rotation');
  tables = tableNames(config);
  await seedProfiles(aws, config, ['r-1', 'r-2', 'r-3'].map((customerId) => profileItem(customerId, { email: `${customerId}@rotation.example.com` })));
  ({ handler } = await lambda.load({ CLIENTELE_CONFIG: JSON.stringify(config), UNSUBSCRIBE_SECRET_ARN: SECRET_ARN }, () => import('#functions/unsubscribe/handler.ts')));
});

describe('unsubscribe keys rotated under a warm function', () => {
  it('accepts a link signed with the new key, the previous key and an old link without a key id', async () => {
    // Warm: the keys are loaded (only AWSCURRENT exists yet).
    expect((await handler(request('GET', signUnsubscribeToken('r-1', FIRST)))).statusCode).toBe(200);

    // Rotation: put-secret-value moves FIRST to AWSPREVIOUS.
    secret.previous = FIRST;
    secret.current = SECOND;
    const before = extension.reads();
    const response = await handler(request('POST', signUnsubscribeToken('r-1', SECOND)));
    expect(response.statusCode).toBe(200);
    expect(extension.reads() - before).toBe(2); // reloaded current and previous, once
    expect(await getSuppression(aws.clients.documents, tables.suppression, 'r-1@rotation.example.com')).toMatchObject({ reason: 'unsubscribe', customerId: 'r-1' });

    // Links signed before the rotation keep working, with a key id and without one.
    expect((await handler(request('POST', signUnsubscribeToken('r-2', FIRST)))).statusCode).toBe(200);
    const legacy = signUnsubscribeToken('r-3', FIRST).split('.').slice(0, 2).join('.');
    expect((await handler(request('POST', legacy))).statusCode).toBe(200);
    expect(await getSuppression(aws.clients.documents, tables.suppression, 'r-3@rotation.example.com')).toMatchObject({ customerId: 'r-3' });
  });

  it('refuses a forged key id without reloading the keys again within the minute', async () => {
    const before = extension.reads();
    const [id, signature] = signUnsubscribeToken('r-1', 'attacker-key-0123456789abcdefghijklmn').split('.');
    for (let i = 0; i < 5; i++) expect((await handler(request('POST', `${id}.${signature}.AAAAAAAA`))).statusCode).toBe(403);
    expect(extension.reads()).toBe(before);
  });
});
