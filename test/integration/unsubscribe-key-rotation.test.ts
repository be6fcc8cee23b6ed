import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { startLocalAws, type LocalAws } from '#local/aws.ts';
import { getSuppression } from '#shared/store/suppression-store.ts';
import { tableNames, type TableNames } from '#shared/store/tables.ts';
import { signUnsubscribeToken } from '#shared/unsubscribe/token.ts';
import { captureLambdaOutput, type LambdaOutput } from '#test/functions/lambda-output.ts';

/**
 * A key rotation under a warm unsubscribe function: it loaded the keys before the rotation, and a
 * link signed with the new key arrives. It used to answer 403 until the container was recycled.
 */

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:unsubscribe-key-rotation';
const FIRST = 'first-key-0123456789abcdefghijklmnopqrs';
const SECOND = 'second-key-0123456789abcdefghijklmnopq';
/** What the Parameters and Secrets extension serves: AWSCURRENT, and AWSPREVIOUS once rotated. */
const secret: { current: string; previous?: string } = { current: FIRST };
let extensionRequests = 0;
let extension: Server;
let aws: LocalAws;
let tables: TableNames;
let handler: (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;
let output: LambdaOutput;

function request(method: 'GET' | 'POST', token: string): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: `t=${token}`,
    headers: { host: 'abc.lambda-url.us-east-1.on.aws', ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    queryStringParameters: { t: token },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abc',
      domainName: 'abc.lambda-url.us-east-1.on.aws',
      domainPrefix: 'abc',
      http: { method, path: '/', protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'test' },
      requestId: 'req',
      routeKey: '$default',
      stage: '$default',
      time: '01/Jun/2026:10:00:00 +0000',
      timeEpoch: 1_780_308_000_000,
    },
    ...(method === 'POST' ? { body: 'List-Unsubscribe=One-Click' } : {}),
    isBase64Encoded: false,
  };
}

beforeAll(async () => {
  aws = await startLocalAws({ services: ['dynamodb'], config: { storage: { tablePrefix: 'rotation-' } } });
  tables = tableNames(aws.config);
  for (const customerId of ['r-1', 'r-2', 'r-3']) {
    await aws.clients.documents.send(
      new PutCommand({
        TableName: tables.profiles,
        Item: { customerId, email: `${customerId}@rotation.example.com`, acceptsMarketing: true, tier: 'Entry', stage: 'active', spend12mMinor: 1, lifetimeSpendMinor: 1, currency: 'USD', orderCount: 1, skus: {}, digest: 'x', updatedRunDate: '2026-05-31' },
      }),
    );
  }
  extension = createServer((req, res) => {
    extensionRequests++;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const stage = url.searchParams.get('versionStage');
    const value = stage === 'AWSPREVIOUS' ? secret.previous : secret.current;
    const ok = url.searchParams.get('secretId') === SECRET_ARN && value !== undefined;
    res.writeHead(ok ? 200 : 400, { 'content-type': 'application/json' });
    res.end(JSON.stringify(ok ? { SecretString: value } : { message: "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS" }));
  });
  await new Promise<void>((resolve) => extension.listen(0, '127.0.0.1', resolve));
  const address = extension.address();
  vi.stubEnv('PARAMETERS_SECRETS_EXTENSION_HTTP_PORT', String(typeof address === 'object' && address ? address.port : 0));
  vi.stubEnv('AWS_SESSION_TOKEN', 'session');
  vi.stubEnv('CLIENTELE_CONFIG', JSON.stringify(aws.config));
  vi.stubEnv('UNSUBSCRIBE_SECRET_ARN', SECRET_ARN);
  // The handler's Powertools log lines go to stdout (CloudWatch in Lambda); keep the test output readable.
  output = captureLambdaOutput();
  ({ handler } = await import('#functions/unsubscribe/handler.ts'));
});

afterAll(async () => {
  vi.unstubAllEnvs();
  output?.restore();
  extension?.close();
  await aws?.stop();
});

describe('unsubscribe keys rotated under a warm function', () => {
  it('accepts a link signed with the new key, the previous key and an old link without a key id', async () => {
    // Warm: the keys are loaded (only AWSCURRENT exists yet).
    expect((await handler(request('GET', signUnsubscribeToken('r-1', FIRST)))).statusCode).toBe(200);

    // Rotation: put-secret-value moves FIRST to AWSPREVIOUS.
    secret.previous = FIRST;
    secret.current = SECOND;
    const before = extensionRequests;
    const response = await handler(request('POST', signUnsubscribeToken('r-1', SECOND)));
    expect(response.statusCode).toBe(200);
    expect(extensionRequests - before).toBe(2); // reloaded current and previous, once
    expect(await getSuppression(aws.clients.documents, tables.suppression, 'r-1@rotation.example.com')).toMatchObject({ reason: 'unsubscribe', customerId: 'r-1' });

    // Links signed before the rotation keep working, with a key id and without one.
    expect((await handler(request('POST', signUnsubscribeToken('r-2', FIRST)))).statusCode).toBe(200);
    const legacy = signUnsubscribeToken('r-3', FIRST).split('.').slice(0, 2).join('.');
    expect((await handler(request('POST', legacy))).statusCode).toBe(200);
    expect(await getSuppression(aws.clients.documents, tables.suppression, 'r-3@rotation.example.com')).toMatchObject({ customerId: 'r-3' });
  });

  it('refuses a forged key id without reloading the keys again within the minute', async () => {
    const before = extensionRequests;
    const [id, signature] = signUnsubscribeToken('r-1', 'attacker-key-0123456789abcdefghijklmn').split('.');
    for (let i = 0; i < 5; i++) expect((await handler(request('POST', `${id}.${signature}.AAAAAAAA`))).statusCode).toBe(403);
    expect(extensionRequests).toBe(before);
  });
});
