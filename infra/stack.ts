import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { FEEDBACK_ALERTS, NIGHTLY_ALERTS, SENDER_ALERTS } from '#shared/alerts.ts';
import { tableNames } from '#shared/store/tables.ts';
import { Alarms } from './constructs/alarms.ts';
import { CampaignSender } from './constructs/campaign-sender.ts';
import { OperationsDashboard } from './constructs/dashboard.ts';
import { Erasure, FORGET_COMMAND } from './constructs/erasure.ts';
import { Feedback } from './constructs/feedback.ts';
import type { ClienteleFunction } from './constructs/function.ts';
import { NightlyPipeline } from './constructs/nightly-pipeline.ts';
import { Storage } from './constructs/storage.ts';
import { compactConfig, deployedConfig, type DeployedNames, type Settings } from './settings.ts';

export interface ClienteleStackProps extends StackProps {
  settings: Settings;
}

/**
 * The whole suite in one stack, built in the order data flows:
 *   storage          the exports + reports bucket and the seven tables (shared/store/tables.ts)
 *   feedback         the SES configuration set → SNS → functions/ses-events (bounces, complaints; deliveries
 *                    logged), and functions/unsubscribe behind its public URL: what lands in the suppression list
 *   campaign sender  functions/campaigns, hourly (EventBridge Scheduler)
 *   nightly pipeline functions/nightly in a Step Functions state machine, at 04:00 (EventBridge Scheduler)
 *   erasure          functions/forget, invoked by hand: the right to erasure
 *   alarms           every function's errors, the dead-letter queues, the sender throttled or dropped, failed nights,
 *                    no night completed for a day and more, SES reputation,
 *                    the sender's alert log lines (a quarantined export, an account that cannot send),
 *                    its unresolved sends and refused task emails, the feedback functions' alert log lines (a failed unsubscribe or
 *                    task link, an unreadable SES event)
 *   dashboard        the alarms and the business metrics the functions publish (EMF)
 * Six Lambdas, one per folder of functions/.
 */
export class ClienteleStack extends Stack {
  readonly settings: Settings;
  readonly storage: Storage;
  readonly feedback: Feedback;
  readonly campaignSender: CampaignSender;
  readonly nightlyPipeline: NightlyPipeline;
  readonly erasure: Erasure;
  readonly alarms: Alarms;
  readonly dashboard: OperationsDashboard;

  constructor(scope: Construct, id: string, props: ClienteleStackProps) {
    super(scope, id, { description: `clientele (${props.settings.stage}): client tiering and lifecycle campaigns`, ...props });
    const { settings } = props;
    this.settings = settings;
    const logRetention = settings.retention.logDays as RetentionDays;

    // Bucket and tables; tables are named `<stack>-<suffix>`, i.e. tableName(config, id) with this prefix.
    this.storage = new Storage(this, 'Storage', { settings, tablePrefix: `${this.stackName}-` });
    // What every function reads as CLIENTELE_CONFIG: the brand's settings with the deployed names
    // (CloudFormation tokens until deploy), written compactly to stay within Lambda's 4 KB.
    const configurationSetName = `${this.stackName}-campaigns`;
    const names: DeployedNames = {
      bucketName: this.storage.bucket.bucketName,
      tablePrefix: this.storage.config.storage.tablePrefix,
      region: this.region,
      configurationSetName,
    };
    const configJsonWith = (extra: Partial<DeployedNames> = {}) =>
      this.toJsonString(compactConfig(deployedConfig(settings, { ...names, ...extra })));
    const configJson = configJsonWith();
    const common = { storage: this.storage, configJson, logRetention };

    this.feedback = new Feedback(this, 'Feedback', { ...common, configurationSetName });
    // Only the functions that mail links (the sender, and the nightly's digests and team email) name
    // the unsubscribe and task URLs (the feedback functions' own configuration cannot: a cycle).
    const campaignsConfigJson = configJsonWith({ unsubscribeBaseUrl: this.feedback.unsubscribeUrl.url, advisorTaskBaseUrl: this.feedback.advisorTaskUrl.url });
    this.campaignSender = new CampaignSender(this, 'CampaignSender', {
      ...common,
      configJson: campaignsConfigJson,
      settings,
      feedback: this.feedback,
    });
    this.nightlyPipeline = new NightlyPipeline(this, 'NightlyPipeline', { ...common, configJson: campaignsConfigJson, settings, feedback: this.feedback });
    this.erasure = new Erasure(this, 'Erasure', common);

    this.alarms = new Alarms(this, 'Alarms', {
      settings,
      functions: this.functions,
      deadLetterQueues: [
        { name: 'NightlySchedule', queue: this.nightlyPipeline.deadLetters, action: 'The message names the error; start the night by hand (docs/deploy.md).' },
        { name: 'CampaignSchedule', queue: this.campaignSender.deadLetters, action: 'The message names the error; the next hourly run sends what is still due.' },
        {
          name: 'CampaignInvocations',
          queue: this.campaignSender.invocationFailures,
          action:
            'Each record says why (requestContext.condition: EventAgeExceeded, throttled past 50 minutes; RetriesExhausted, the run failed: see its errors alarm). ' +
            'Nothing to replay: the next hourly run sends what is still due. Purge the queue once read.',
        },
        { name: 'SesEvents', queue: this.feedback.sesEventsDeadLetters, action: 'Fix the cause (the function\'s log group), then replay the messages into the function (docs/deploy.md).' },
      ],
      asyncInvoked: [this.campaignSender.sender],
      stateMachine: this.nightlyPipeline.stateMachine,
      // A stack whose schedules are disabled starts no night on its own: nothing to miss.
      ...(settings.schedulesEnabled ? { nightsCompleteWithin: this.nightlyPipeline.longestGapBetweenNights } : {}),
      logAlerts: [
        ...Object.values(SENDER_ALERTS).map((alert) => ({ fn: this.campaignSender.sender, alert })),
        ...Object.values(NIGHTLY_ALERTS).map((alert) => ({ fn: this.nightlyPipeline.nightly, alert })),
        { fn: this.feedback.unsubscribe, alert: FEEDBACK_ALERTS.unsubscribeFailed },
        { fn: this.feedback.advisorTask, alert: FEEDBACK_ALERTS.advisorTaskFailed },
        { fn: this.feedback.sesEvents, alert: FEEDBACK_ALERTS.sesFeedbackUnreadable },
      ],
    });

    this.dashboard = new OperationsDashboard(this, 'Dashboard', {
      campaignIds: this.storage.config.campaigns.campaigns.map((campaign) => campaign.id),
      functions: this.functions,
      alarms: this.alarms.alarms,
      stateMachine: this.nightlyPipeline.stateMachine,
    });

    // What an operator needs (`aws cloudformation describe-stacks --stack-name <stack>`).
    new CfnOutput(this, 'DataBucket', { value: this.storage.bucket.bucketName, description: 'Exports in, reports out' });
    new CfnOutput(this, 'ExportsLocation', {
      value: `s3://${this.storage.bucket.bucketName}/${this.storage.config.storage.exportsPrefix}/<YYYY-MM-DD>/`,
      description: 'Where the commerce platform drops each night\'s export',
    });
    new CfnOutput(this, 'ReportsLocation', {
      value: `s3://${this.storage.bucket.bucketName}/${this.storage.config.storage.reportsPrefix}/nightly/<YYYY-MM-DD>/`,
      description: 'summary.json (and rejects.jsonl) of each nightly run',
    });
    new CfnOutput(this, 'Tables', { value: Object.values(tableNames(this.storage.config)).join(', ') });
    new CfnOutput(this, 'ConfigurationSetName', {
      value: this.feedback.configurationSet.configurationSetName,
      description: 'SES configuration set every campaign email is sent with',
    });
    new CfnOutput(this, 'UnsubscribeUrl', { value: this.feedback.unsubscribeUrl.url, description: 'One-click unsubscribe endpoint' });
    // `clientele ... --stack` reads the sender's configuration and key from these: the settings the functions run with.
    new CfnOutput(this, 'CampaignsConfig', { value: campaignsConfigJson, description: 'The campaign sender\'s CLIENTELE_CONFIG, as deployed' });
    new CfnOutput(this, 'UnsubscribeSecretArn', { value: this.feedback.unsubscribeSecret.secretArn, description: 'The key the unsubscribe and advisor-task links are signed with' });
    new CfnOutput(this, 'AdvisorTaskUrl', { value: this.feedback.advisorTaskUrl.url, description: 'The one-click links of the advisors\' task emails' });
    new CfnOutput(this, 'NightlyStateMachineArn', {
      value: this.nightlyPipeline.stateMachine.stateMachineArn,
      description: 'Start an execution with {"runDate":"YYYY-MM-DD"} to run (or backfill) a night; the 04:00 schedule runs the night before its scheduled time',
    });
    new CfnOutput(this, 'SesEventsFunctionName', {
      value: this.feedback.sesEvents.fn.functionName,
      description: 'SES feedback: its log group has a line per delivery, bounce and complaint, with the client\'s id (settling a maybe-sent email)',
    });
    new CfnOutput(this, 'SesEventsDeadLettersUrl', {
      value: this.feedback.sesEventsDeadLetters.queueUrl,
      description: 'SES events the ses-events function could not process: replay each into the function once fixed (docs/deploy.md)',
    });
    new CfnOutput(this, 'CampaignsFunctionName', {
      value: this.campaignSender.sender.fn.functionName,
      description: 'The hourly campaign sender: invoke it for the current hour to catch up after an outage (README: After an outage)',
    });
    new CfnOutput(this, 'ForgetFunctionName', {
      value: this.erasure.forget.fn.functionName,
      description: `Right to erasure: ${FORGET_COMMAND} (or {"email":"..."})`,
    });
    new CfnOutput(this, 'DashboardName', {
      value: this.dashboard.dashboard.dashboardName,
      description: 'CloudWatch dashboard: alarms, nights, campaigns, bounces and complaints',
    });
    new CfnOutput(this, 'BrandTimeZone', {
      value: this.storage.config.timeZone,
      description: 'The brand time zone the runs are dated in (`clientele status --stack` prints times in it)',
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn, description: 'Alarm notifications (subscribe more endpoints here)' });
  }

  /** Every Lambda of the stack, one per folder of functions/. */
  get functions(): ClienteleFunction[] {
    return [this.feedback.sesEvents, this.feedback.unsubscribe, this.feedback.advisorTask, this.campaignSender.sender, this.nightlyPipeline.nightly, this.erasure.forget];
  }
}
