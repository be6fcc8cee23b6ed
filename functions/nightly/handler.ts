import { createAwsClients } from '#shared/aws/clients.ts';
import { configFromEnvironment, parseFunctionEnvironment, readSecret } from '#shared/environment.ts';
import { newRunId } from '#shared/log.ts';
import {
  combineWorkMeasures,
  finishFromWork,
  measureShardToWork,
  nightResultOf,
  parseNightlyEvent,
  planNight,
  prepareNight,
  repartitionToWork,
  writeShardFromWork,
  type CombineReceipt,
  type MeasureReceipt,
  type NightResult,
  type PreparedNight,
  type RepartitionReceipt,
  type WriteReceipt,
} from '#shared/nightly/distributed.ts';
import { runDateOf } from '#shared/nightly/run-date.ts';
import { applyNightlyV8Flags } from '#shared/nightly/node-options.ts';
import { nightContext, runNightly } from '#shared/nightly/run.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';
import { nightlyMetrics } from '#shared/observability/business-metrics.ts';
import { sendingDeadline } from '#shared/delivery/send-deadline.ts';
import { instrumented, observability, publishMetrics } from '#functions/observability.ts';

/**
 * Nightly run Lambda: parse the event, run the shared job (or one phase of it), return its result
 * (a completed night's NightResult: the summary itself is stored, shared/nightly/distributed.ts).
 *
 * Without a `phase` it runs the whole night in this invocation: the state machine of an unsharded
 * deployment sends the execution input, the 04:00 schedule's { scheduledTime } or a backfill's
 * { runDate }. With a `phase` it runs one step of a sharded night (shared/nightly/distributed.ts):
 * prepare (which lists the export and shares its files), repartition one reader's share, measure
 * or write one shard, combine, finish.
 *
 * The night comes from the event (runDateOf, shared/nightly/run-date.ts); this Lambda's clock only
 * decides it when the event names neither a runDate nor a scheduledTime, and times the run.
 *
 * Every log line of a night carries its run id as correlation_id, whichever phase wrote it; the
 * invocation that completes the night (single, or finish) publishes its figures as metrics.
 */

// Before anything is read: V8 flags NODE_OPTIONS cannot carry (node-options.ts).
applyNightlyV8Flags();

// The same schema the CDK construct types its variables with (shared/environment.ts).
const environment = parseFunctionEnvironment('nightly', process.env);
const config = configFromEnvironment(environment.CLIENTELE_CONFIG);
const clients = createAwsClients(config);
const observed = observability(environment);
const { logger, metrics, log } = observed;

type NightlyResult = NightResult | PreparedNight | RepartitionReceipt | MeasureReceipt | CombineReceipt | WriteReceipt;

/**
 * The night's figures, once it completed (a rerun counts itself only), and its small result: the
 * state machine carries what the function returns, the whole summary is stored.
 */
function completed(summary: NightlyRunSummary): NightResult {
  publishMetrics(metrics, nightlyMetrics(summary));
  return nightResultOf(summary);
}

export const handler = instrumented(observed, async (event: unknown, lambda): Promise<NightlyResult> => {
  const request = parseNightlyEvent(event);
  // The advisors' digests are paced sends at the end of the night: they stop before the Lambda would be killed mid-send.
  const deadline = lambda === undefined ? undefined : sendingDeadline(Date.now(), lambda.getRemainingTimeInMillis(), config.sender.maxSendRate);
  const until = deadline === undefined ? {} : { deadline };
  if (request.phase === 'single') {
    const runDate = runDateOf(request, config, Date.now());
    const runId = newRunId('nightly');
    logger.setCorrelationId(runId);
    const unsubscribeSecret = await readSecret(environment.UNSUBSCRIBE_SECRET_ARN);
    return completed(await runNightly({ runDate, runId, config, clients, log, clock: Date.now, acceptDrop: request.acceptDrop ?? false, unsubscribeSecret, ...until }));
  }
  if (request.phase === 'prepare') {
    const prepared = prepareNight(config, request, Date.now());
    logger.setCorrelationId(prepared.runId);
    const { runDate, runId } = prepared;
    const { readers } = await planNight(nightContext({ runDate, runId, config, clients, clock: Date.now, log: log.child({ phase: request.phase }) }), request.shards);
    return { ...prepared, readers };
  }
  logger.setCorrelationId(request.runId);

  const shard = 'shard' in request ? request.shard.index : undefined;
  const reader = 'reader' in request ? request.reader.index : undefined;
  const acceptDrop = request.phase === 'combine' && request.acceptDrop;
  // Only the phase that mails the digests signs links.
  const unsubscribeSecret = request.phase === 'finish' ? await readSecret(environment.UNSUBSCRIBE_SECRET_ARN) : undefined;
  const context = nightContext({
    runDate: request.runDate,
    runId: request.runId,
    config,
    clients,
    clock: Date.now,
    acceptDrop,
    log: log.child({ phase: request.phase, shard, reader }),
    ...(unsubscribeSecret === undefined ? {} : { unsubscribeSecret }),
    ...until,
  });
  switch (request.phase) {
    case 'repartition':
      return repartitionToWork(context, request);
    case 'measure':
      return measureShardToWork(context, request.shard);
    case 'combine':
      return combineWorkMeasures(context, request);
    case 'write':
      return writeShardFromWork(context, request.shard);
    case 'finish':
      return completed(await finishFromWork(context, request));
  }
});
