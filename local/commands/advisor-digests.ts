import { z } from 'zod';
import { loadTarget, targetOptionsSchema } from '#local/target.ts';
import { createAwsClients, destroyAwsClients } from '#shared/aws/clients.ts';
import { jsonLog, newRunId } from '#shared/log.ts';
import { sendAdvisorDigests } from '#shared/digests/advisor-digests.ts';
import { formatAdvisorDigestSummary } from '#local/format.ts';

const optionsSchema = targetOptionsSchema.extend({
  date: z.string(),
  logLevel: z.enum(['debug', 'info', 'warn', 'error']),
  json: z.boolean(),
  dryRun: z.boolean(),
});

/**
 * `clientele run advisor-digests --date D`: the advisors' weekly digests from the profiles the
 * nightly run of D stored, whatever the weekday (the nightly run sends them on its own on the
 * configured one). Sends at most once per advisor and ISO week, like the nightly call.
 */
export async function advisorDigestsCommand(raw: unknown): Promise<void> {
  const options = optionsSchema.parse(raw);
  const config = (await loadTarget('run advisor-digests', options)).config;
  const clients = createAwsClients(config);
  try {
    const summary = await sendAdvisorDigests({
      runDate: options.date,
      runId: newRunId('advisor-digests'),
      at: Date.now(),
      config,
      clients,
      dryRun: options.dryRun,
      log: jsonLog({ level: options.logLevel }),
    });
    process.stdout.write(options.json ? `${JSON.stringify(summary)}\n` : `${formatAdvisorDigestSummary(summary, config.currency)}\n`);
  } finally {
    destroyAwsClients(clients);
  }
}
