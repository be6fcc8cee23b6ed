import { createAwsClients } from '#shared/aws/clients.ts';
import { configFromEnvironment, parseFunctionEnvironment, readSecret } from '#shared/environment.ts';
import { newRunId } from '#shared/log.ts';
import { campaignMetrics } from '#shared/observability/business-metrics.ts';
import { ClienteleError } from '#shared/errors.ts';
import { sendingDeadline } from '#shared/delivery/send-deadline.ts';
import { lateScheduledRunRefusal, parseCampaignsEvent } from '#shared/sender/campaigns-event.ts';
import { campaignRunFailure, hourRefusal, realClockFor, runCampaigns, type CampaignRunSummary } from '#shared/sender/run.ts';
import { instrumented, observability, publishMetrics } from '#functions/observability.ts';

/**
 * Hourly campaign sender Lambda: parse the event, run the shared sender, return its summary.
 * EventBridge Scheduler passes its scheduled time (<aws.scheduler.scheduled-time>) as `at`, so a
 * retried or late invocation still decides for the hour it was meant for (each email is checked
 * again against the client's quiet hours when it leaves, on the real clock); one that arrives more
 * than SCHEDULED_RUN_MAX_DELAY_MINUTES after that hour is refused (logged, then thrown: the
 * function's error alarm, its on-failure queue), and the next hour's run takes over. A run that stopped
 * sending (circuit breaker, SES refusing the account) logs its summary and then fails, which
 * raises the function's error alarm. The run is given a deadline from the Lambda's remaining time
 * (send-deadline.ts): it stops claiming before Lambda would kill it mid-send, and what it could not
 * send stays due for the next hour. Its log lines carry the run id as correlation_id; a run that
 * is not a dry run publishes its per-campaign figures (functions/observability.ts).
 */

const environment = parseFunctionEnvironment('campaigns', process.env);
const config = configFromEnvironment(environment.CLIENTELE_CONFIG);
const clients = createAwsClients(config);
const observed = observability(environment);
const { logger, metrics, log } = observed;

export const handler = instrumented(observed, async (event: unknown, context): Promise<CampaignRunSummary> => {
  const parsed = parseCampaignsEvent(event);
  const runId = newRunId('campaigns');
  logger.setCorrelationId(runId);
  const now = Date.now();
  // Invoked without a Lambda context (a local harness): no deadline.
  const deadline = context === undefined ? undefined : sendingDeadline(now, context.getRemainingTimeInMillis(), config.sender.maxSendRate);
  const tooLate = lateScheduledRunRefusal(parsed, now);
  if (tooLate !== undefined) {
    log.error('scheduled campaign run refused: it started too late', { at: parsed.at, reason: tooLate });
    throw new ClienteleError('EVENT_TOO_LATE', `Scheduled campaigns event refused: ${tooLate}`);
  }
  // Read every invocation (the extension caches it for minutes), never at init: links are signed
  // with the key current now, so a warm function does not go on signing with a rotated-out key.
  const unsubscribeSecret = await readSecret(environment.UNSUBSCRIBE_SECRET_ARN);
  const at = parsed.at ? Date.parse(parsed.at) : now;
  const runMode = { dryRun: parsed.dryRun ?? false, emulated: config.endpoints.ses !== undefined };
  const refusal = hourRefusal(at, now, runMode);
  if (refusal !== undefined) throw new ClienteleError('EVENT_INVALID', `Invalid campaigns event: at: ${refusal}`);
  const summary = await runCampaigns({
    at,
    runId,
    config,
    clients,
    unsubscribeSecret,
    dryRun: runMode.dryRun,
    log,
    // Decided for the hour, its emails leave on the real clock: quiet hours are checked again then.
    realClock: realClockFor(runMode),
    // Nights take their write leases on the real clock, whatever hour this run decides for.
    leaseClock: Date.now,
    ...(deadline === undefined ? {} : { deadline }),
  });
  publishMetrics(metrics, campaignMetrics(summary));
  const failure = campaignRunFailure(summary);
  if (failure) {
    log.error('campaign run stopped sending', { summary });
    throw failure;
  }
  return summary;
});
