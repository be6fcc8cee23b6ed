import { z } from 'zod';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { configFromEnvironment, parseFunctionEnvironment } from '../../shared/environment.ts';
import { jsonLog, newRunId } from '../../shared/log.ts';
import { runNightly, type NightlyRunSummary } from '../../shared/nightly/run.ts';
import { addDays, isIsoDate, localDate } from '../../shared/time.ts';

/**
 * Nightly run Lambda: parse the event, run the shared job, return its summary. The schedule fires
 * at 02:00 brand time without a date, meaning "yesterday's export"; a backfill passes runDate.
 */

const eventSchema = z
  .object({ runDate: z.string().refine(isIsoDate, 'runDate must be YYYY-MM-DD').optional() })
  .passthrough();

// The same schema the CDK construct types its variables with (shared/environment.ts).
const environment = parseFunctionEnvironment('nightly', process.env);
const config = configFromEnvironment(environment.CLIENTELE_CONFIG);
const clients = createAwsClients(config);

export async function handler(event: unknown): Promise<NightlyRunSummary> {
  const parsed = eventSchema.parse(event ?? {});
  const runDate = parsed.runDate ?? addDays(localDate(Date.now(), config.timeZone), -1);
  const runId = newRunId('nightly');
  return runNightly({ runDate, runId, config, clients, log: jsonLog({ level: 'info', write: (line) => console.log(line) }) });
}
