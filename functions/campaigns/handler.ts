import { z } from 'zod';
import { createAwsClients } from '#shared/aws/clients.ts';
import { configFromEnvironment, parseFunctionEnvironment, readSecret } from '#shared/environment.ts';
import { jsonLog, newRunId } from '#shared/log.ts';
import { runCampaigns, type CampaignRunSummary } from '#shared/sender/run.ts';

/**
 * Hourly campaign sender Lambda: parse the event, run the shared sender, return its summary.
 * EventBridge Scheduler passes its scheduled time (<aws.scheduler.scheduled-time>) as `at`, so a
 * retried or late invocation still decides for the hour it was meant for.
 */

const eventSchema = z
  .object({
    at: z.iso.datetime({ offset: true }).optional(),
    dryRun: z.boolean().optional(),
  })
  .passthrough();

const environment = parseFunctionEnvironment('campaigns', process.env);
const config = configFromEnvironment(environment.CLIENTELE_CONFIG);
const clients = createAwsClients(config);
let secret: Promise<string> | undefined;

export async function handler(event: unknown): Promise<CampaignRunSummary> {
  const parsed = eventSchema.parse(event ?? {});
  // Read on the first invocation, not at init: the secrets extension may not serve yet then.
  secret ??= readSecret(environment.UNSUBSCRIBE_SECRET_ARN).catch((error: unknown) => {
    secret = undefined; // a failed read is retried by the next invocation
    throw error;
  });
  return runCampaigns({
    at: parsed.at ? Date.parse(parsed.at) : Date.now(),
    runId: newRunId('campaigns'),
    config,
    clients,
    unsubscribeSecret: await secret,
    dryRun: parsed.dryRun ?? false,
    log: jsonLog({ level: 'info', write: (line) => console.log(line) }),
  });
}
