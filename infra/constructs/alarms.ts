import { Annotations, Aws, Duration, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { FilterPattern, MetricFilter } from 'aws-cdk-lib/aws-logs';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { Settings } from '#infra/settings.ts';
import { METRIC_NAMES } from '#shared/observability/business-metrics.ts';
import type { SenderAlert } from '#shared/alerts.ts';
import { businessMetric } from './business-metrics.ts';
import { metricsNamespace, type ClienteleFunction } from './function.ts';

export interface AlarmsProps {
  settings: Settings;
  functions: readonly ClienteleFunction[];
  /** Dead-letter queues: any message in one is a run or an event that did not happen; `action` is what to do about it. */
  deadLetterQueues: ReadonlyArray<{ name: string; queue: IQueue; action: string }>;
  /**
   * Functions a schedule invokes asynchronously (the hourly sender): an invocation Lambda throttles
   * waits in its queue and starts late, one it drops never runs.
   */
  asyncInvoked?: readonly ClienteleFunction[];
  stateMachine?: IStateMachine;
  /**
   * Alarm when no night has completed for this long (the nightly function's NightlyCompleted
   * metric); unset when nothing starts nights on its own (schedules disabled).
   */
  nightsCompleteWithin?: Duration;
  /** Log lines to count and alarm on: each function's JSON lines whose `alert` field names the alert. */
  logAlerts?: ReadonlyArray<{ fn: ClienteleFunction; alert: SenderAlert }>;
}

/**
 * What should wake someone: a function error, anything in a dead-letter queue, the hourly sender
 * throttled or an invocation of it dropped, a failed or timed out nightly run, a day and more
 * without a completed night, SES reputation (bounce rate > 5%, complaint rate > 0.1% by default, where
 * SES starts reviewing an account), and the log lines the functions flag with an `alert` field (a
 * quarantined incremental export, an SES account that cannot send, a failed unsubscribe), counted by metric filters,
 * and the campaign sender's unresolved sends and advisors' task emails refused for good (its
 * UnresolvedSends and TaskEmailsRefused business metrics).
 * Every alarm notifies one SNS topic, mailed to alarmEmail.
 */
export class Alarms extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const { settings } = props;
    const stackName = Stack.of(this).stackName;

    this.topic = new Topic(this, 'Topic', { displayName: `${stackName} alarms`, enforceSSL: true });
    // The topic policy enforceSSL creates replaces SNS's default one: let this stack's alarms publish.
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:${stackName} *` },
        },
      }),
    );
    if (settings.alarmEmail) this.topic.addSubscription(new EmailSubscription(settings.alarmEmail));
    // Deployable without one (a topic others subscribe to), but a stack that alarms no one should say so at synth.
    else Annotations.of(this).addWarningV2('clientele:noAlarmEmail', 'alarmEmail is not set: every alarm goes to an SNS topic nobody is subscribed to (-c clientele:alarmEmail=ops@brand.com, or subscribe to the topic yourself)');
    const action = new SnsAction(this.topic);

    const alarm = (
      alarmId: string,
      title: string,
      description: string,
      metric: IMetric,
      threshold: number,
      operator: ComparisonOperator,
      // By default no data is no traffic (no sends, no runs, no errors): not an alarm.
      evaluation: { periods: number; missingData: TreatMissingData } = { periods: 1, missingData: TreatMissingData.NOT_BREACHING },
    ) => {
      const created = new Alarm(this, alarmId, {
        alarmName: `${stackName} ${title}`,
        alarmDescription: description,
        metric,
        threshold,
        comparisonOperator: operator,
        evaluationPeriods: evaluation.periods,
        treatMissingData: evaluation.missingData,
      });
      created.addAlarmAction(action);
      created.addOkAction(action);
      this.alarms.push(created);
      return created;
    };
    const atLeastOne = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
    const above = ComparisonOperator.GREATER_THAN_THRESHOLD;

    for (const fn of props.functions) {
      alarm(
        `${fn.name}Errors`,
        `${fn.name} function errors`,
        `The ${fn.name} function failed at least once in 5 minutes: see its log group ${fn.logGroup.logGroupName}.`,
        fn.fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        1,
        atLeastOne,
      );
    }

    for (const fn of props.asyncInvoked ?? []) {
      alarm(
        `${fn.name}Throttled`,
        `${fn.name} throttled`,
        `Lambda throttled the ${fn.name} function (the account's or the function's concurrency): its invocation waits in Lambda's queue and starts late, or is dropped once too old.`,
        fn.fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }),
        1,
        atLeastOne,
      );
      alarm(
        `${fn.name}InvocationsDropped`,
        `${fn.name} invocations dropped`,
        `Lambda dropped an invocation of the ${fn.name} function: it failed, or waited in Lambda's queue past its maximum age. Its record is in the function's on-failure queue.`,
        fn.fn.metric('AsyncEventsDropped', { period: Duration.minutes(5), statistic: 'Sum' }),
        1,
        atLeastOne,
      );
    }

    for (const { name, queue, action } of props.deadLetterQueues) {
      alarm(
        `${name}DeadLetters`,
        `${name} dead letters`,
        `Messages in the ${name} dead-letter queue: an invocation or event that was dropped. ${action}`,
        queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
        0,
        above,
      );
    }

    if (props.stateMachine) {
      alarm(
        'NightlyFailed',
        'nightly run failed',
        'A nightly execution failed: its error and cause name the failed step (a shard\'s error is in its child execution, the Map Run page). ' +
          'Refused before any write (an export that cannot be trusted, too many rejects, NIGHT_REFUSED): nothing was written. ' +
          'Stopped while writing (a shard\'s write, a Lambda timeout, an outage): part of the night may be written (`clientele status` lists the night with "FAILURE: not completed: it failed, or it is running now"; with --json, status "writing") and the next night is refused until it completes; a rerun writes only what is missing and ends where a clean night would. ' +
          'Fix the cause, then start the night again (docs/deploy.md, "Run or backfill a night"; "acceptDrop": true if a refused drop is real).',
        props.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
        1,
        atLeastOne,
      );
      alarm(
        'NightlyTimedOut',
        'nightly run timed out',
        'A nightly execution ran past its timeout.',
        props.stateMachine.metricTimedOut({ period: Duration.minutes(5), statistic: 'Sum' }),
        1,
        atLeastOne,
      );
    }

    if (props.nightsCompleteWithin) {
      const hours = props.nightsCompleteWithin.toHours();
      // Every hour without a completed night breaches, missing data included: the alarm fires once
      // the whole window has none, whatever the reason no night ran (a failure alarms sooner, on its own).
      alarm(
        'NoNightCompleted',
        'no night completed',
        `No night has completed in the last ${hours} hours (the nightly function's NightlyCompleted metric): the night failed (see "nightly run failed"), ` +
          'never started (the schedule disabled, its start in the NightlySchedule dead letters, the export missing), or is still running. ' +
          'Look at the state machine\'s executions, then start the night by hand (docs/deploy.md, "Run or backfill a night").',
        businessMetric(stackName, 'nightly', METRIC_NAMES.nightlyCompleted, { statistic: 'Sum', period: Duration.hours(1) }),
        1,
        ComparisonOperator.LESS_THAN_THRESHOLD,
        { periods: hours, missingData: TreatMissingData.BREACHING },
      );
    }

    for (const { fn, alert } of props.logAlerts ?? []) {
      const filter = new MetricFilter(this, `${alert.metricName}Filter`, {
        logGroup: fn.logGroup,
        filterPattern: FilterPattern.stringValue('$.alert', '=', alert.alert),
        metricNamespace: metricsNamespace(stackName),
        metricName: alert.metricName,
        metricValue: '1',
      });
      alarm(alert.metricName, alert.alert, alert.description, filter.metric({ statistic: 'Sum', period: Duration.hours(1) }), 1, atLeastOne);
    }

    // The sender's own figure, clearer than any Lambda metric: a claim never resolved or an email SES
    // may have taken is never resent, and waits for a person (the run's summary lists them).
    if (props.functions.some((fn) => fn.name === 'campaigns')) {
      alarm(
        'UnresolvedSends',
        'unresolved campaign sends',
        'A campaign run found stale send claims or emails SES may have taken (timeout, reset, 5xx): they are never resent. ' +
          'The campaigns log lines "stale send claims" and "emails SES may have taken" count them; the send ledger entries in status claimed or maybe-sent name them. Settle them by hand (README, After an outage).',
        businessMetric(stackName, 'campaigns', METRIC_NAMES.unresolvedSends, { statistic: 'Maximum', period: Duration.hours(1) }),
        1,
        atLeastOne,
      );
      // The run goes on (the note goes from the care team) and only its summary counts it: nobody reads that at night.
      alarm(
        'TaskEmailsRefused',
        'advisor task emails refused',
        'SES refused an advisor\'s task email for good (MessageRejected, or an advisor address the mailer cannot send to): the advisor never had the task, and their VIC\'s note went from the client care team instead. ' +
          'Every later note of that advisor\'s clients goes the same way until the address is fixed. ' +
          'The campaigns log line "advisor task email refused: the note goes from the client care team" names the advisor id and SES\'s reason; check that advisor\'s email in the roster of the export (a typo, a mailbox closed, the address on the SES account\'s suppression list) and fix it at the source.',
        businessMetric(stackName, 'campaigns', METRIC_NAMES.taskEmailsRefused, { statistic: 'Sum', period: Duration.hours(1) }),
        1,
        atLeastOne,
      );
    }

    // Account-wide SES reputation, as SES computes it for its reviews.
    const ses = (metricName: string) => new Metric({ namespace: 'AWS/SES', metricName, statistic: 'Maximum', period: Duration.hours(1) });
    alarm(
      'SesBounceRate',
      'SES bounce rate',
      `SES Reputation.BounceRate above ${settings.alarms.bounceRate}: clean the list before SES pauses sending.`,
      ses('Reputation.BounceRate'),
      settings.alarms.bounceRate,
      above,
    );
    alarm(
      'SesComplaintRate',
      'SES complaint rate',
      `SES Reputation.ComplaintRate above ${settings.alarms.complaintRate}: review frequency caps and consent before SES pauses sending.`,
      ses('Reputation.ComplaintRate'),
      settings.alarms.complaintRate,
      above,
    );
  }
}
