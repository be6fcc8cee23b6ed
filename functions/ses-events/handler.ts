import type { EventBridgeEvent, SNSEvent } from 'aws-lambda';
import { createAwsClients } from '#shared/aws/clients.ts';
import { configFromEnvironment, parseFunctionEnvironment } from '#shared/environment.ts';
import { processSesFeedback, type SesFeedbackContext, type SesFeedbackSummary } from '#shared/feedback/ses-events.ts';
import { jsonLog } from '#shared/log.ts';
import { tableNames } from '#shared/store/tables.ts';

/**
 * SES feedback Lambda: SES configuration-set events (bounces, complaints) from SNS or EventBridge
 * into the suppression list. Unreadable messages are logged as errors, not thrown: retrying cannot
 * fix them. Storage failures are thrown, so Lambda retries (the writes are idempotent).
 */

const config = configFromEnvironment(parseFunctionEnvironment('ses-events', process.env).CLIENTELE_CONFIG);
const clients = createAwsClients(config);
const log = jsonLog({ write: (line) => console.log(line), fields: { function: 'ses-events' } });
const context: SesFeedbackContext = {
  documents: clients.documents,
  tables: tableNames(config),
  now: () => Date.now(),
  log,
};

export async function handler(event: SNSEvent | EventBridgeEvent<string, unknown>): Promise<SesFeedbackSummary> {
  const summary = await processSesFeedback(context, event);
  log.info('SES feedback processed', { ...summary, problems: summary.problems.length });
  return summary;
}
