import { join } from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { FunctionUrlAuthType, InvokeMode, type FunctionUrl } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ConfigurationSet, EmailSendingEvent, EventDestination, SuppressionReasons } from 'aws-cdk-lib/aws-ses';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { LambdaSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledge } from '#infra/nag.ts';
import { FUNCTIONS_DIR } from '#infra/paths.ts';
import type { Settings } from '#infra/settings.ts';
import { ClienteleFunction } from './function.ts';
import { deadLetterQueue } from './queues.ts';
import type { Grantee, Storage } from './storage.ts';

export interface FeedbackProps {
  storage: Storage;
  /** CLIENTELE_CONFIG: the deployed configuration as JSON. */
  configJson: string;
  /** Decided by the stack, so the functions' configuration can name it without a reference. */
  configurationSetName: string;
  logRetention: RetentionDays;
}

/**
 * Everything that lands in the suppression list: the SES configuration set whose bounce and
 * complaint events reach functions/ses-events through SNS, and functions/unsubscribe behind a
 * public one-click URL, with the secret its links are signed with. Delivery events take the same
 * way: they store nothing, but the function logs each one with the client's id and the campaign,
 * which is how an operator tells whether a maybe-sent email went.
 */
export class Feedback extends Construct {
  readonly configurationSet: ConfigurationSet;
  readonly eventsTopic: Topic;
  /** The HMAC key of unsubscribe tokens: the sender signs with it, the unsubscribe function verifies. */
  readonly unsubscribeSecret: Secret;
  readonly unsubscribe: ClienteleFunction<'unsubscribe'>;
  readonly unsubscribeUrl: FunctionUrl;
  /** The advisors' task links (done, snooze a week, send the email for me), signed with the same key. */
  readonly advisorTask: ClienteleFunction<'advisor-task'>;
  readonly advisorTaskUrl: FunctionUrl;
  readonly sesEvents: ClienteleFunction<'ses-events'>;
  readonly sesEventsDeadLetters: Queue;

  constructor(scope: Construct, id: string, props: FeedbackProps) {
    super(scope, id);
    const { storage } = props;
    const stackName = Stack.of(this).stackName;

    this.configurationSet = new ConfigurationSet(this, 'ConfigurationSet', {
      configurationSetName: props.configurationSetName,
      // Per-configuration-set Reputation.* metrics, next to the account-wide ones the alarms watch.
      reputationMetrics: true,
      sendingEnabled: true,
      // SES's own account-level list as a second net under ours.
      suppressionReasons: SuppressionReasons.BOUNCES_AND_COMPLAINTS,
    });

    // SNS rather than EventBridge: the handler reads both; SNS keeps delivery retries per message.
    this.eventsTopic = new Topic(this, 'SesEvents', { displayName: `${stackName} SES bounces, complaints and deliveries`, enforceSSL: true });
    this.configurationSet.addEventDestination('ToFeedbackTopic', {
      destination: EventDestination.snsTopic(this.eventsTopic),
      // Deliveries: one invocation per email delivered, to log it (settling a maybe-sent email needs them).
      events: [EmailSendingEvent.BOUNCE, EmailSendingEvent.COMPLAINT, EmailSendingEvent.DELIVERY],
    });

    this.unsubscribeSecret = new Secret(this, 'UnsubscribeKey', {
      description: `${stackName}: HMAC key of one-click unsubscribe tokens`,
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
    });
    acknowledge(
      this.unsubscribeSecret,
      'SMG4',
      'An HMAC signing key, not a credential to a service: rotate it by hand (put-secret-value, docs/deploy.md); tokens name their key, and the unsubscribe function also accepts the AWSPREVIOUS version so links already in inboxes keep working.',
    );

    this.sesEventsDeadLetters = deadLetterQueue(this, 'SesEventsDeadLetters', 'failed SES event deliveries to the ses-events function', 'lambda');
    this.sesEvents = new ClienteleFunction(this, 'SesEventsFunction', {
      name: 'ses-events',
      entry: join(FUNCTIONS_DIR, 'ses-events', 'handler.ts'),
      description: 'SES bounces and complaints into the suppression list; deliveries logged',
      environment: { CLIENTELE_CONFIG: props.configJson },
      logRetention: props.logRetention,
      timeout: Duration.seconds(30),
      // A lost complaint means mailing a complainer again: keep what could not be processed.
      deadLetterQueue: this.sesEventsDeadLetters,
    });
    // Read too: a bounce or complaint of a client erased since the send is not stored (the erasure list is in the same table).
    storage.grantTables(this.sesEvents, { suppression: 'readWrite' });
    // And delete: an entry stored while the client's forget ran goes again, and only the hash stays.
    this.sesEvents.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['dynamodb:DeleteItem'], resources: [storage.tables.suppression.tableArn] }));
    this.eventsTopic.addSubscription(new LambdaSubscription(this.sesEvents.fn));

    this.unsubscribe = new ClienteleFunction(this, 'UnsubscribeFunction', {
      name: 'unsubscribe',
      entry: join(FUNCTIONS_DIR, 'unsubscribe', 'handler.ts'),
      description: 'One-click unsubscribe (RFC 8058) and its confirmation page',
      environment: {
        CLIENTELE_CONFIG: props.configJson,
        UNSUBSCRIBE_SECRET_ARN: this.unsubscribeSecret.secretArn,
      },
      logRetention: props.logRetention,
      timeout: Duration.seconds(10),
      // A token signed with a key the function does not hold makes it reload its keys (at most once a
      // minute): the extension must not answer that reload from a cache older than the rotation.
      secretsCacheTtl: Duration.minutes(1),
    });
    storage.grantTables(this.unsubscribe, { profiles: 'read', suppression: 'readWrite' });
    // And delete: an unsubscribe stored while the client's forget ran goes again, and only the hash stays.
    this.unsubscribe.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['dynamodb:DeleteItem'], resources: [storage.tables.suppression.tableArn] }));
    this.unsubscribeSecret.grantRead(this.unsubscribe.role);
    // Public on purpose: mailbox providers POST the List-Unsubscribe-Post request without
    // credentials (RFC 8058). Each request carries an HMAC-signed token the function verifies.
    this.unsubscribeUrl = this.unsubscribe.fn.addFunctionUrl({ authType: FunctionUrlAuthType.NONE, invokeMode: InvokeMode.BUFFERED });

    this.advisorTask = new ClienteleFunction(this, 'AdvisorTaskFunction', {
      name: 'advisor-task',
      entry: join(FUNCTIONS_DIR, 'advisor-task', 'handler.ts'),
      description: 'The one-click links of an advisor\'s task: done, snooze a week, send the email for me',
      environment: {
        CLIENTELE_CONFIG: props.configJson,
        UNSUBSCRIBE_SECRET_ARN: this.unsubscribeSecret.secretArn,
      },
      logRetention: props.logRetention,
      timeout: Duration.seconds(10),
      secretsCacheTtl: Duration.minutes(1),
    });
    storage.grantTables(this.advisorTask, { advisorTasks: 'readWrite' });
    // An answer reads its occasion's send-ledger entry: a task whose occasion ended without it is closed, not answered.
    this.advisorTask.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [storage.tables.sendLedger.tableArn] }));
    this.unsubscribeSecret.grantRead(this.advisorTask.role);
    // Public on purpose: advisors open the links from their mailbox. Each carries an HMAC-signed,
    // expiring token naming one task, and a link acts at most once (shared/advisors/task-links.ts).
    this.advisorTaskUrl = this.advisorTask.fn.addFunctionUrl({ authType: FunctionUrlAuthType.NONE, invokeMode: InvokeMode.BUFFERED });
  }

  /**
   * SendEmail as the configured identity, with this configuration set (bounces and complaints reach
   * the suppression list), from the configured address only.
   */
  grantSendEmail(grantee: Grantee, settings: Settings): void {
    const stack = Stack.of(this);
    grantee.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ses:SendEmail'],
        resources: [
          stack.formatArn({ service: 'ses', resource: 'identity', resourceName: settings.sesIdentity }),
          stack.formatArn({ service: 'ses', resource: 'configuration-set', resourceName: this.configurationSet.configurationSetName }),
        ],
        conditions: { StringEquals: { 'ses:FromAddress': settings.senderAddress } },
      }),
    );
  }
}
