import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { handleTaskLink, taskPage, type TaskLinkContext } from '#shared/unsubscribe/task-links.ts';
import { createAwsClients } from '#shared/aws/clients.ts';
import { configFromEnvironment, parseFunctionEnvironment, readUnsubscribeSecrets } from '#shared/environment.ts';
import { tableNames } from '#shared/store/tables.ts';
import { cachedKeys } from '#shared/unsubscribe/keys.ts';
import { pageLocale, parseUnsubscribeEvent } from '#shared/unsubscribe/request.ts';
import { FEEDBACK_ALERTS } from '#shared/alerts.ts';
import { instrumented, observability } from '#functions/observability.ts';

/**
 * Advisor-task Lambda (function URL): the one-click links of a task email. GET shows a page with
 * one button, POST records the advisor's answer on the task (shared/advisors/task-links.ts). The
 * signing keys are the unsubscribe links' (current and previous), read on the first request.
 */

const environment = parseFunctionEnvironment('advisor-task', process.env);
const config = configFromEnvironment(environment.CLIENTELE_CONFIG);
const clients = createAwsClients(config);
const observed = observability(environment, { function: 'advisor-task' });
const { log } = observed;
const context: TaskLinkContext = {
  documents: clients.documents,
  table: tableNames(config).advisorTasks,
  ledgerTable: tableNames(config).sendLedger,
  keys: cachedKeys(() => readUnsubscribeSecrets(environment.UNSUBSCRIBE_SECRET_ARN), { now: () => Date.now() }),
  now: () => Date.now(),
  brandName: config.brandName,
  retentionDays: config.sender.ledgerRetentionDays,
  taskWaitDays: config.advisors.taskWaitDays,
  timeZone: config.timeZone,
  log,
};

export const handler = instrumented(observed, async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  const request = parseUnsubscribeEvent(event);
  if (!request) {
    log.warn('advisor task: not a function URL request');
    return taskPage('bad-request', 'en', config.brandName);
  }
  try {
    return await handleTaskLink(context, request);
  } catch (error) {
    // A page, so the invocation succeeds and Lambda's Errors metric misses it: the alert field is what alarms.
    log.error('advisor task link failed', { alert: FEEDBACK_ALERTS.advisorTaskFailed.alert, error });
    return taskPage('error', pageLocale(request.acceptLanguage), config.brandName);
  }
});
