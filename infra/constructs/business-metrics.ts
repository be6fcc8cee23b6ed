import { Duration } from 'aws-cdk-lib';
import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import type { FunctionName } from '#shared/environment.ts';
import { metricsNamespace, serviceName } from './function.ts';

/**
 * The functions' business metrics (shared/observability/business-metrics.ts, published as EMF by
 * functions/observability.ts) as CDK metrics, for the dashboard and the alarms: the stack's
 * namespace, the publishing function's `service` dimension, and the metric's own dimensions.
 */
export interface BusinessMetricOptions {
  dimensions?: Record<string, string>;
  statistic?: string;
  period?: Duration;
  label?: string;
}

export function businessMetric(stackName: string, fn: FunctionName, metricName: string, options: BusinessMetricOptions = {}): Metric {
  return new Metric({
    namespace: metricsNamespace(stackName),
    metricName,
    dimensionsMap: { service: serviceName(fn), ...options.dimensions },
    statistic: options.statistic ?? 'Sum',
    period: options.period ?? Duration.hours(1),
    ...(options.label ? { label: options.label } : {}),
  });
}
