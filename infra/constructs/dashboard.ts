import { Duration, Stack } from 'aws-cdk-lib';
import {
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  SingleValueWidget,
  TextWidget,
  type IAlarm,
  type IMetric,
  type IWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { TIERS } from '#shared/model.ts';
import { CAMPAIGN_OUTCOME_METRICS, METRIC_NAMES } from '#shared/observability/business-metrics.ts';
import { businessMetric, type BusinessMetricOptions } from './business-metrics.ts';
import { metricsNamespace, serviceName, type ClienteleFunction } from './function.ts';

export interface OperationsDashboardProps {
  /** The configured campaign ids: the `campaign` dimension of the sender's metrics. */
  campaignIds: readonly string[];
  functions: readonly ClienteleFunction[];
  alarms: readonly IAlarm[];
  stateMachine?: IStateMachine;
}

const DAY = Duration.days(1);
const HOUR = Duration.hours(1);
const FULL = 24;
const HALF = 12;
const THIRD = 8;

/**
 * The stack's CloudWatch dashboard, named after the stack: the alarms' state, then the business
 * figures the functions publish (shared/observability/business-metrics.ts): the nights (completed,
 * failed, duration, rejects, clients per tier, movements), the campaigns (sent, held out,
 * suppressed, failed per campaign; unresolved sends), SES feedback (bounces, complaints and their
 * rates against the emails sent, beside SES's own reputation figures), and the functions' errors.
 */
export class OperationsDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;
    const nightly = (name: string, options: BusinessMetricOptions = {}) => businessMetric(stackName, 'nightly', name, { period: DAY, ...options });
    const sender = (name: string, options: BusinessMetricOptions = {}) => businessMetric(stackName, 'campaigns', name, options);
    const feedback = (name: string, options: BusinessMetricOptions = {}) => businessMetric(stackName, 'ses-events', name, options);

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: stackName,
      defaultInterval: Duration.days(14),
    });

    const rows: IWidget[][] = [];
    rows.push([
      new TextWidget({
        markdown: `# ${stackName}\nBusiness metrics in the \`${metricsNamespace(stackName)}\` namespace (EMF from the functions' logs); alarms notify the alarm topic. See docs/deploy.md, "Alarms" and "Dashboard".`,
        width: FULL,
        height: 2,
      }),
    ]);
    rows.push([new AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: FULL, height: Math.max(2, Math.ceil(props.alarms.length / 4) + 1) })]);

    // Nights.
    const nightRuns: IMetric[] = [nightly(METRIC_NAMES.nightlyCompleted, { label: 'completed' }), nightly(METRIC_NAMES.nightlyRepeated, { label: 'rerun, nothing written' })];
    if (props.stateMachine) {
      nightRuns.push(props.stateMachine.metricFailed({ period: DAY, statistic: 'Sum', label: 'failed' }), props.stateMachine.metricTimedOut({ period: DAY, statistic: 'Sum', label: 'timed out' }));
    }
    rows.push([
      new GraphWidget({ title: 'Nights', left: nightRuns, width: THIRD, statistic: 'Sum' }),
      new SingleValueWidget({
        title: 'Last night',
        metrics: [
          nightly(METRIC_NAMES.nightlyDuration, { statistic: 'Maximum', label: 'duration (ms)' }),
          nightly(METRIC_NAMES.rowsRead, { label: 'rows read' }),
          nightly(METRIC_NAMES.rowsRejected, { label: 'rows rejected' }),
          nightly(METRIC_NAMES.rejectShare, { statistic: 'Maximum', label: 'rejected (%)' }),
        ],
        width: THIRD,
        height: 6,
      }),
      new GraphWidget({
        title: 'Night duration (ms) and rejected rows',
        left: [nightly(METRIC_NAMES.nightlyDuration, { statistic: 'Maximum', label: 'duration' })],
        right: [nightly(METRIC_NAMES.rowsRejected, { label: 'rejected rows' })],
        width: THIRD,
      }),
    ]);
    rows.push([
      new GraphWidget({
        title: 'Clients per tier',
        left: TIERS.map((tier) => nightly(METRIC_NAMES.clients, { dimensions: { tier }, statistic: 'Maximum', label: tier })),
        stacked: true,
        width: HALF,
      }),
      new GraphWidget({
        title: 'Movements',
        left: [
          nightly(METRIC_NAMES.newClients, { label: 'new clients' }),
          nightly(METRIC_NAMES.upgrades, { label: 'upgrades' }),
          nightly(METRIC_NAMES.downgrades, { label: 'downgrades' }),
        ],
        right: [
          new MathExpression({
            expression: `SEARCH('{${metricsNamespace(stackName)},service,fromTier,toTier} MetricName="${METRIC_NAMES.tierMovements}"', 'Sum', 86400)`,
            period: DAY,
            usingMetrics: {},
          }),
        ],
        width: HALF,
      }),
    ]);

    // Campaigns.
    rows.push([
      new GraphWidget({
        title: 'Sends, all campaigns',
        left: [
          sender(METRIC_NAMES.emails, { label: 'emails SES took' }),
          sender(METRIC_NAMES.sent, { label: 'occasions sent' }),
          sender(METRIC_NAMES.failed, { label: 'occasions failed' }),
        ],
        right: [
          sender(METRIC_NAMES.unresolvedSends, { statistic: 'Maximum', label: 'unresolved (stale claims, maybe sent)' }),
          sender(METRIC_NAMES.heldWhileNightsBehind, { statistic: 'Maximum', label: 'held: nights behind' }),
        ],
        width: HALF,
      }),
      new GraphWidget({
        title: 'Sent per campaign',
        left: props.campaignIds.map((campaign) => sender(METRIC_NAMES.sent, { dimensions: { campaign }, label: campaign })),
        width: HALF,
      }),
    ]);
    const perCampaign = props.campaignIds.map(
      (campaign) =>
        new GraphWidget({
          title: `Campaign ${campaign}`,
          left: CAMPAIGN_OUTCOME_METRICS.map(([name, outcome]) => sender(name, { dimensions: { campaign }, label: outcome })),
          width: Math.max(THIRD, Math.floor(FULL / Math.max(1, props.campaignIds.length))),
        }),
    );
    for (let i = 0; i < perCampaign.length; i += 3) rows.push(perCampaign.slice(i, i + 3));

    // SES feedback.
    // Per email, not per occasion: a reminder listing three products is one email, with one chance to bounce.
    const emailsDaily = sender(METRIC_NAMES.emails, { period: DAY });
    // Ids are shared by the whole graph: `emails` is one metric, each numerator has its own id.
    const rate = (id: string, metric: Metric, label: string) =>
      new MathExpression({ expression: `100 * IF(emails > 0, ${id} / emails, 0)`, usingMetrics: { [id]: metric, emails: emailsDaily }, label, period: DAY });
    const reputation = (metricName: string) => new Metric({ namespace: 'AWS/SES', metricName, statistic: 'Maximum', period: DAY });
    rows.push([
      new GraphWidget({
        title: 'Bounces and complaints (recipients)',
        left: [
          feedback(METRIC_NAMES.bounces, { label: 'bounces (permanent)' }),
          feedback(METRIC_NAMES.softBounces, { label: 'soft bounces' }),
          feedback(METRIC_NAMES.complaints, { label: 'complaints' }),
          feedback(METRIC_NAMES.unreadableFeedback, { label: 'unreadable messages' }),
        ],
        width: HALF,
      }),
      new GraphWidget({
        title: 'Bounce and complaint rates (%, per day)',
        left: [
          rate('bounces', feedback(METRIC_NAMES.bounces, { period: DAY }), 'bounces / emails'),
          rate('complaints', feedback(METRIC_NAMES.complaints, { period: DAY }), 'complaints / emails'),
          new MathExpression({ expression: '100 * b', usingMetrics: { b: reputation('Reputation.BounceRate') }, label: 'SES reputation: bounce rate', period: DAY }),
          new MathExpression({ expression: '100 * c', usingMetrics: { c: reputation('Reputation.ComplaintRate') }, label: 'SES reputation: complaint rate', period: DAY }),
        ],
        width: HALF,
      }),
    ]);

    // Functions.
    rows.push([
      new GraphWidget({
        title: 'Function errors',
        left: props.functions.map((fn) => fn.fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum', label: serviceName(fn.name) })),
        width: HALF,
      }),
      new GraphWidget({
        title: 'Function duration (p99, ms)',
        left: props.functions.map((fn) => fn.fn.metricDuration({ period: HOUR, statistic: 'p99', label: serviceName(fn.name) })),
        width: HALF,
      }),
    ]);

    for (const row of rows) this.dashboard.addWidgets(...row);
  }
}
