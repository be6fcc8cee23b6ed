import type { EventBridgeEvent, SNSEvent } from 'aws-lambda';
import { createAwsClients } from '#shared/aws/clients.ts';
import { configFromEnvironment, parseFunctionEnvironment } from '#shared/environment.ts';
import { processSesFeedback, type SesFeedbackContext, type SesFeedbackSummary } from '#shared/feedback/ses-events.ts';
import { sesFeedbackMetrics } from '#shared/observability/business-metrics.ts';
import { tableNames } from '#shared/store/tables.ts';
import { instrumented, observability, publishMetrics } from '#functions/observability.ts';

/**
 * SES feedback Lambda: SES configuration-set events (bounces, complaints) from SNS or EventBridge
 * into the suppression list. Unreadable messages are logged as errors, not thrown: retrying cannot
 * fix them. Storage failures are thrown, so Lambda retries (the writes are idempotent). Each batch
 * publishes its bounces and complaints (functions/observability.ts).
 */

const environment = parseFunctionEnvironment('ses-events', process.env);
const config = configFromEnvironment(environment.CLIENTELE_CONFIG);
const clients = createAwsClients(config);
const observed = observability(environment, { function: 'ses-events' });
const { metrics, log } = observed;
const context: SesFeedbackContext = {
  documents: clients.documents,
  tables: tableNames(config),
  now: () => Date.now(),
  log,
};

export const handler = instrumented(observed, async (event: SNSEvent | EventBridgeEvent<string, unknown>, invocation): Promise<SesFeedbackSummary> => {
  // The request id names this delivery: Lambda keeps it when it runs a failed invocation again, whose counts were never published.
  const summary = await processSesFeedback(invocation === undefined ? context : { ...context, attempt: invocation.awsRequestId }, event);
  log.info('SES feedback processed', { ...summary, problems: summary.problems.length });
  publishMetrics(metrics, sesFeedbackMetrics(summary));
  return summary;
});
