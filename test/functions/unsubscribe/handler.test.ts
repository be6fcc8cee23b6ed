import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { startLocalAws, type LocalAws } from '#local/aws.ts';
import { getSuppression } from '#shared/store/suppression-store.ts';
import { tableNames, type TableNames } from '#shared/store/tables.ts';
import { createServer, type Server } from 'node:http';
import { parseFunctionEnvironment } from '#shared/environment.ts';
import { signUnsubscribeToken } from '#shared/unsubscribe/token.ts';
import { captureLambdaOutput, type LambdaOutput } from '../lambda-output.ts';

const SECRET = 'handler-test-secret-0123456789abcdefgh';
const PREVIOUS = 'handler-previous-secret-0123456789abcd';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:unsubscribe-key';
let secretsExtension: Server;

let aws: LocalAws;
let tables: TableNames;
let handler: (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;
let output: LambdaOutput;

/** A function URL event as Lambda delivers it (payload format 2.0). */
function functionUrlEvent(
  method: 'GET' | 'POST' | 'PUT',
  token: string | undefined,
  options: { body?: string; base64?: boolean; acceptLanguage?: string } = {},
): APIGatewayProxyEventV2 {
  const query = token === undefined ? undefined : { t: token };
  const body = options.body === undefined ? undefined : options.base64 ? Buffer.from(options.body).toString('base64') : options.body;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: token === undefined ? '' : `t=${token}`,
    headers: {
      host: 'abc.lambda-url.us-east-1.on.aws',
      ...(options.body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
      ...(options.acceptLanguage ? { 'accept-language': options.acceptLanguage } : {}),
    },
    ...(query ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abc',
      domainName: 'abc.lambda-url.us-east-1.on.aws',
      domainPrefix: 'abc',
      http: { method, path: '/', protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'test' },
      requestId: 'req-1',
      routeKey: '$default',
      stage: '$default',
      time: '01/Jun/2026:10:00:00 +0000',
      timeEpoch: 1_780_308_000_000,
    },
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: options.base64 ?? false,
  };
}

async function suppressionCount(): Promise<number> {
  const scan = await aws.clients.documents.send(new ScanCommand({ TableName: tables.suppression, Select: 'COUNT' }));
  return scan.Count ?? 0;
}

beforeAll(async () => {
  aws = await startLocalAws({ services: ['dynamodb'] });
  tables = tableNames(aws.config);
  for (const customerId of ['c-100', 'c-200']) {
    await aws.clients.documents.send(
      new PutCommand({
        TableName: tables.profiles,
        Item: {
          customerId,
          email: `${customerId}@Example.com`,
          acceptsMarketing: true,
          tier: 'Potential',
          stage: 'active',
          spend12mMinor: 150_000,
          lifetimeSpendMinor: 150_000,
          currency: 'USD',
          orderCount: 2,
          skus: {},
          digest: 'x',
          updatedRunDate: '2026-05-31',
        },
      }),
    );
  }
  // The AWS Parameters and Secrets Lambda Extension is a local HTTP cache; no emulator ships one,
  // so a few lines stand in for it: current and previous versions of the signing key.
  secretsExtension = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const stage = url.searchParams.get('versionStage');
    const ok = url.pathname === '/secretsmanager/get' && url.searchParams.get('secretId') === SECRET_ARN && request.headers['x-aws-parameters-secrets-token'] === 'session';
    response.writeHead(ok ? 200 : 400, { 'content-type': 'application/json' });
    response.end(JSON.stringify(ok ? { SecretString: stage === 'AWSPREVIOUS' ? PREVIOUS : SECRET } : { message: 'bad request' }));
  });
  await new Promise<void>((resolve) => secretsExtension.listen(0, '127.0.0.1', resolve));
  const address = secretsExtension.address();
  vi.stubEnv('PARAMETERS_SECRETS_EXTENSION_HTTP_PORT', String(typeof address === 'object' && address ? address.port : 0));
  vi.stubEnv('AWS_SESSION_TOKEN', 'session');
  vi.stubEnv('CLIENTELE_CONFIG', JSON.stringify({ ...aws.config, brandName: 'Maison Test' }));
  vi.stubEnv('UNSUBSCRIBE_SECRET_ARN', SECRET_ARN);
  output = captureLambdaOutput();
  ({ handler } = await import('#functions/unsubscribe/handler.ts'));
});
afterAll(async () => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  secretsExtension?.close();
  await aws?.stop();
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
    expect(await suppressionCount()).toBe(1);
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

  it('never logs a full address', () => {
    expect(output.logs().length).toBeGreaterThan(0);
    for (const line of output.lines) expect(line).not.toMatch(/c-\d+@example\.com/i);
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
