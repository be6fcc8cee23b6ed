import { Annotations, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { BaseEnvironmentInput } from '#shared/environment.ts';
import { tableNames } from '#shared/store/tables.ts';
import { Alarms } from './constructs/alarms.ts';
import { CampaignSender } from './constructs/campaign-sender.ts';
import { Feedback } from './constructs/feedback.ts';
import { ClienteleFunction } from './constructs/function.ts';
import { NightlyPipeline } from './constructs/nightly-pipeline.ts';
import { Storage } from './constructs/storage.ts';
import { FunctionCatalog } from './functions.ts';
import { compactConfig, deployedConfig, type DeployedNames, type Settings } from './settings.ts';

export interface ClienteleStackProps extends StackProps {
  settings: Settings;
  /** Where the handlers are; functions/ of this repository unless a test says otherwise. */
  functionsDir?: string;
}

/**
 * The whole suite in one stack, in the order data flows:
 * storage → feedback (suppression inputs) → campaign sender → nightly pipeline → alarms.
 */
export class ClienteleStack extends Stack {
  readonly settings: Settings;
  readonly catalog: FunctionCatalog;
  readonly storage: Storage;
  readonly feedback: Feedback;
  readonly campaignSender: CampaignSender;
  readonly nightlyPipeline: NightlyPipeline;
  readonly alarms: Alarms;
  /** Handlers of functions/ that no construct wires yet, deployed with no data access. */
  readonly unwired: ClienteleFunction[] = [];

  constructor(scope: Construct, id: string, props: ClienteleStackProps) {
    super(scope, id, { description: `clientele (${props.settings.stage}): client tiering and lifecycle campaigns`, ...props });
    const { settings } = props;
    this.settings = settings;
    this.catalog = new FunctionCatalog(props.functionsDir);
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
    const common = { catalog: this.catalog, storage: this.storage, configJson, logRetention };

    this.feedback = new Feedback(this, 'Feedback', { ...common, configurationSetName });
    // Only the sender's configuration names the unsubscribe URL (the unsubscribe function's own cannot: a cycle).
    const unsubscribeBaseUrl = this.feedback.unsubscribeUrl?.url;
    this.campaignSender = new CampaignSender(this, 'CampaignSender', {
      ...common,
      configJson: unsubscribeBaseUrl ? configJsonWith({ unsubscribeBaseUrl }) : configJson,
      settings,
      feedback: this.feedback,
    });
    this.nightlyPipeline = new NightlyPipeline(this, 'NightlyPipeline', { ...common, settings, feedback: this.feedback });

    // A new folder of functions/ is deployed at once, with only its logs, until a construct wires it.
    for (const name of this.catalog.undeployed()) {
      const environment: BaseEnvironmentInput = { CLIENTELE_CONFIG: configJson, POWERTOOLS_SERVICE_NAME: `clientele-${name}` };
      const fn = new ClienteleFunction(this, `Unwired-${name}`, {
        catalog: this.catalog,
        name,
        description: `functions/${name} (not wired yet: no data access, no trigger)`,
        environment,
        logRetention,
        timeout: Duration.seconds(30),
      });
      Annotations.of(fn).addInfo(`functions/${name} has no construct yet: deployed without permissions or trigger.`);
      this.unwired.push(fn);
    }

    this.alarms = new Alarms(this, 'Alarms', {
      settings,
      functions: this.functions,
      deadLetterQueues: [
        ...(this.nightlyPipeline.deadLetters ? [{ name: 'NightlySchedule', queue: this.nightlyPipeline.deadLetters }] : []),
        ...(this.campaignSender.deadLetters ? [{ name: 'CampaignSchedule', queue: this.campaignSender.deadLetters }] : []),
        ...(this.feedback.sesEventsDeadLetters ? [{ name: 'SesEvents', queue: this.feedback.sesEventsDeadLetters }] : []),
      ],
      ...(this.nightlyPipeline.stateMachine ? { stateMachine: this.nightlyPipeline.stateMachine } : {}),
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
    if (this.nightlyPipeline.stateMachine) {
      new CfnOutput(this, 'NightlyStateMachineArn', {
        value: this.nightlyPipeline.stateMachine.stateMachineArn,
        description: 'Start an execution with {"runDate":"YYYY-MM-DD"} to run (or backfill) a night',
      });
    }
    if (this.feedback.unsubscribeUrl) {
      new CfnOutput(this, 'UnsubscribeUrl', { value: this.feedback.unsubscribeUrl.url, description: 'One-click unsubscribe endpoint' });
    }
    new CfnOutput(this, 'ConfigurationSetName', {
      value: this.feedback.configurationSet.configurationSetName,
      description: 'SES configuration set every campaign email is sent with',
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn, description: 'Alarm notifications (subscribe more endpoints here)' });
  }

  /** Every deployed Lambda, wired or not. */
  get functions(): ClienteleFunction[] {
    return [
      this.nightlyPipeline.nightly,
      this.nightlyPipeline.clv,
      this.campaignSender.sender,
      this.feedback.unsubscribe,
      this.feedback.sesEvents,
      ...this.unwired,
    ].filter((fn): fn is ClienteleFunction => fn !== undefined);
  }
}
