import { z } from 'zod';
import { loadTarget, refuseUnknownSenderSettings, requireUnsubscribeKey, targetOptionsSchema } from '#local/target.ts';
import { destroyAwsClients } from '#shared/aws/clients.ts';
import { cliAwsClients } from '#local/aws-errors.ts';
import { jsonLog, newRunId } from '#shared/log.ts';
import { campaignRunFailure, hourRefusal, realClockFor, runCampaigns } from '#shared/sender/run.ts';
import { parseTimestamp } from '#shared/time.ts';
import { formatCampaignSummary } from '#local/format.ts';
import { UsageError } from '#local/errors.ts';

const optionsSchema = targetOptionsSchema.extend({
  at: z.string(),
  logLevel: z.enum(['debug', 'info', 'warn', 'error']),
  json: z.boolean(),
  dryRun: z.boolean(),
});

/** An ISO date and time (`--at`, `--until`); without an offset it is read in the brand's time zone, as the exports' are. */
export function parseInstant(value: string, timeZone: string, option = '--at'): number {
  const instant = /^\d{4}-\d{2}-\d{2}T/.test(value) ? parseTimestamp(value, timeZone) : undefined;
  if (instant === undefined) throw new UsageError(`${option} ${value}: expected a real date and time such as 2026-11-23T10:00:00+08:00 (without an offset: ${timeZone})`);
  return instant;
}

/** `clientele run campaigns --at ISO-TIME`: one hour of the campaign sender. */
export async function campaignsCommand(raw: unknown): Promise<void> {
  const options = optionsSchema.parse(raw);
  const target = await loadTarget('run campaigns', options);
  const { config } = target;
  const at = parseInstant(options.at, config.timeZone);
  if (!options.dryRun) refuseUnknownSenderSettings('run campaigns', target);
  const runMode = { dryRun: options.dryRun, emulated: config.endpoints.ses !== undefined };
  const refusal = hourRefusal(at, Date.now(), runMode);
  if (refusal !== undefined) throw new UsageError(`--at ${options.at}: ${refusal}.`);
  const secret = await requireUnsubscribeKey('run campaigns', target);
  const clients = cliAwsClients(config);
  try {
    const summary = await runCampaigns({
      at,
      runId: newRunId('campaigns'),
      config,
      clients,
      unsubscribeSecret: secret,
      dryRun: options.dryRun,
      log: jsonLog({ level: options.logLevel }),
      realClock: realClockFor(runMode),
      // Nights take their write leases on the real clock, whatever hour this run decides for.
      leaseClock: Date.now,
    });
    process.stdout.write(options.json ? `${JSON.stringify(summary)}\n` : `${formatCampaignSummary(summary, config.timeZone)}\n`);
    // A run stopped by the circuit breaker or an SES refusal exits 1, after its summary.
    const failure = campaignRunFailure(summary);
    if (failure) throw failure;
  } finally {
    destroyAwsClients(clients);
  }
}
