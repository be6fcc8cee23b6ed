import { Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes } from '@aws-lambda-powertools/logger/types';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import type { FunctionEnvironment } from '#shared/environment.ts';
import { maskEmailsIn, maskEmailsInFields, type Log, type LogFields } from '#shared/log.ts';
import type { MetricGroup, MetricUnitName } from '#shared/observability/business-metrics.ts';

/**
 * The handlers' logs and metrics, on Powertools. shared/ knows nothing of it: it logs through the
 * `Log` interface of shared/log.ts, which this module implements on a Powertools Logger, so every
 * line also carries the service, `cold_start`, `function_request_id`, `function_name`,
 * `xray_trace_id` and, once the handler knows it, the run id as `correlation_id`. The messages and
 * fields are the shared code's own (masked addresses, pseudonyms: shared/log.ts), at the top level
 * of the JSON line, so the stack's metric filters on them (`$.alert`) keep matching.
 *
 * Metrics are the business figures of shared/observability/business-metrics.ts, written as EMF
 * records on stdout: CloudWatch turns them into metrics of POWERTOOLS_METRICS_NAMESPACE, with no
 * PutMetricData call and no permission.
 */

type PowertoolsEnvironment = Pick<FunctionEnvironment<'nightly'>, 'POWERTOOLS_SERVICE_NAME' | 'POWERTOOLS_METRICS_NAMESPACE' | 'POWERTOOLS_LOG_LEVEL'>;

export interface Observability {
  logger: Logger;
  metrics: Metrics;
  /** The `Log` the shared code takes, writing through `logger`. */
  log: Log;
}

/** One per function, built at init from the function's parsed environment (its defaults fill what the stack left out). */
export function observability(environment: PowertoolsEnvironment, fields: LogFields = {}): Observability {
  const logger = new Logger({
    serviceName: environment.POWERTOOLS_SERVICE_NAME,
    logLevel: environment.POWERTOOLS_LOG_LEVEL,
    persistentKeys: fields as LogAttributes,
  });
  const metrics = new Metrics({ namespace: environment.POWERTOOLS_METRICS_NAMESPACE, serviceName: environment.POWERTOOLS_SERVICE_NAME });
  return { logger, metrics, log: powertoolsLog(logger) };
}

/** shared/log.ts's `Log` on a Powertools Logger: a child adds its fields to every line it writes. */
export function powertoolsLog(logger: Logger, base: LogFields = {}): Log {
  // The fields are plain JSON-able values (or Errors, which Powertools formats); LogAttributes says so less loosely.
  // Email-shaped texts masked wherever they sit, as jsonLog does (shared/log.ts maskEmailsIn).
  const attributes = (fields?: LogFields) => maskEmailsInFields({ ...base, ...fields }) as LogAttributes;
  return {
    debug: (message, fields) => logger.debug(maskEmailsIn(message), attributes(fields)),
    info: (message, fields) => logger.info(maskEmailsIn(message), attributes(fields)),
    warn: (message, fields) => logger.warn(maskEmailsIn(message), attributes(fields)),
    error: (message, fields) => logger.error(maskEmailsIn(message), attributes(fields)),
    child: (fields) => powertoolsLog(logger, { ...base, ...fields }),
  };
}

const UNITS: Record<MetricUnitName, (typeof MetricUnit)[keyof typeof MetricUnit]> = {
  Count: MetricUnit.Count,
  Milliseconds: MetricUnit.Milliseconds,
  Percent: MetricUnit.Percent,
};

/**
 * Writes each group as one EMF record now: its dimensions on top of `service`, its metrics. EMF
 * gives every metric of a record the record's dimensions, hence one record per group rather than
 * the stored metrics of the whole invocation.
 */
export function publishMetrics(metrics: Metrics, groups: readonly MetricGroup[]): void {
  for (const group of groups) {
    if (group.metrics.length === 0) continue;
    for (const [name, value] of Object.entries(group.dimensions)) metrics.addDimension(name, value);
    for (const metric of group.metrics) metrics.addMetric(metric.name, UNITS[metric.unit], metric.value);
    metrics.publishStoredMetrics();
  }
}

/**
 * A plain async handler with Powertools' per-invocation work done around it (what the Middy
 * middlewares would do): the Lambda context into the logger (request id, cold start), then, however
 * the handler ends, any stored metric flushed and the invocation's keys (the correlation id) cleared.
 */
export function instrumented<E, R>(
  { logger, metrics }: Observability,
  handler: (event: E, context: Context | undefined) => Promise<R>,
): (event: E, context?: Context) => Promise<R> {
  return async (event, context) => {
    if (context) logger.addContext(context);
    try {
      return await handler(event, context);
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
      logger.resetKeys();
    }
  };
}
