import { z } from 'zod';
import { loadTarget, targetOptionsSchema } from '#local/target.ts';
import { createAwsClients, destroyAwsClients } from '#shared/aws/clients.ts';
import { jsonLog, newRunId } from '#shared/log.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { formatNightlySummary } from '#local/format.ts';
import { runNightlySharded } from '#local/nightly/sharded-run.ts';
import { terminalProgress } from '#local/progress.ts';

const optionsSchema = targetOptionsSchema.extend({
  date: z.string(),
  logLevel: z.enum(['debug', 'info', 'warn', 'error']),
  json: z.boolean(),
  shards: z.number().int().min(1).max(64),
  acceptDrop: z.boolean(),
});

/** `clientele run nightly --date D`: the nightly job against the endpoints the config names. */
export async function nightlyCommand(raw: unknown): Promise<void> {
  const options = optionsSchema.parse(raw);
  const config = (await loadTarget('run nightly', options)).config;
  const clients = createAwsClients(config);
  const runId = newRunId('nightly');
  const progress = terminalProgress();
  try {
    const run = { runDate: options.date, runId, config, clients, clock: Date.now, acceptDrop: options.acceptDrop, log: jsonLog({ level: options.logLevel }) };
    const summary =
      options.shards > 1
        ? await runNightlySharded({ ...run, shards: options.shards, workerLogLevel: options.logLevel })
        : await runNightly({ ...run, onProgress: (p) => progress.update(p) });
    progress.stop();
    process.stdout.write(options.json ? `${JSON.stringify(summary)}\n` : `${formatNightlySummary(summary)}\n`);
  } finally {
    progress.stop();
    destroyAwsClients(clients);
  }
}
