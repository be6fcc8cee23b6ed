import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createAwsClients } from '#shared/aws/clients.ts';
import { configFromEnvironment, parseFunctionEnvironment, readUnsubscribeSecrets } from '#shared/environment.ts';
import { tableNames } from '#shared/store/tables.ts';
import { pageLocale, parseUnsubscribeEvent } from '#shared/unsubscribe/request.ts';
import { cachedKeys } from '#shared/unsubscribe/keys.ts';
import { claimedCustomerId } from '#shared/unsubscribe/token.ts';
import { handleUnsubscribe, pageResponse, type UnsubscribeContext } from '#shared/unsubscribe/unsubscribe.ts';
import { FEEDBACK_ALERTS } from '#shared/alerts.ts';
import { instrumented, observability } from '#functions/observability.ts';

/**
 * Unsubscribe Lambda (function URL): GET shows the confirmation page, POST (RFC 8058 one-click or
 * the page's button) suppresses the client's address. Config and clients are built once per cold
 * start; the signing keys (current and previous) come from Secrets Manager on the first request,
 * and again when a token names a key the function does not hold (a rotation since), at most once a
 * minute.
 */

const environment = parseFunctionEnvironment('unsubscribe', process.env);
const config = configFromEnvironment(environment.CLIENTELE_CONFIG);
const clients = createAwsClients(config);
const observed = observability(environment, { function: 'unsubscribe' });
const { log } = observed;
const context: UnsubscribeContext = {
  documents: clients.documents,
  tables: tableNames(config),
  // Read on the first request, not at init: the secrets extension may not serve yet then.
  keys: cachedKeys(() => readUnsubscribeSecrets(environment.UNSUBSCRIBE_SECRET_ARN), { now: () => Date.now() }),
  now: () => Date.now(),
  brandName: config.brandName,
  log,
};

export const handler = instrumented(observed, async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  const request = parseUnsubscribeEvent(event);
  if (!request) {
    log.warn('unsubscribe: not a function URL request');
    return pageResponse('bad-request', 'en', config.brandName);
  }
  try {
    return await handleUnsubscribe(context, request);
  } catch (error) {
    // A page rather than the function URL's bare 502; the mailbox provider may retry the POST.
    // The invocation succeeds, so Lambda's Errors metric misses it: the alert field is what alarms.
    // The link's customer id (as it names it: the key may be what failed) lets an operator record a
    // POST's no once the cause is fixed (`clientele unsubscribe`): a person rarely clicks twice.
    const customerId = claimedCustomerId(request.token?.trim() ?? '');
    log.error('unsubscribe failed', { alert: FEEDBACK_ALERTS.unsubscribeFailed.alert, method: request.method, ...(customerId !== undefined ? { customerId } : {}), error });
    return pageResponse('error', pageLocale(request.acceptLanguage), config.brandName);
  }
});
