import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/** A function URL event as Lambda delivers it (payload format 2.0). */
export function functionUrlEvent(
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
