import { join } from 'node:path';
import { Aws, Duration, Stack, TimeZone } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ContextAttribute, Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SCHEDULED_RUN_MAX_DELAY_MINUTES } from '#shared/sender/campaigns-event.ts';
import { CAMPAIGN_RUN_TIMEOUT_MINUTES } from '#shared/config.ts';
import { addressBookKey, bookPairsKey, catalogKey, categoryAffinityKey, incrementalPrefix, rosterKey } from '#shared/store/buckets.ts';
import { acknowledgeWildcardResource } from '#infra/nag.ts';
import { FUNCTIONS_DIR } from '#infra/paths.ts';
import type { Settings } from '#infra/settings.ts';
import type { Feedback } from './feedback.ts';
import { ClienteleFunction } from './function.ts';
import { deadLetterQueue } from './queues.ts';
import type { Storage } from './storage.ts';

/** Every hour on the hour, brand time (the 24 h welcome cannot wait for the night). */
export const CAMPAIGNS_CRON = { minute: '0', hour: '*' } as const;

export interface CampaignSenderProps {
  settings: Settings;
  storage: Storage;
  feedback: Feedback;
  /** CLIENTELE_CONFIG with the `sender` section filled, the unsubscribe URL included. */
  configJson: string;
  logRetention: RetentionDays;
}

/**
 * The hourly campaign run: functions/campaigns, invoked by EventBridge Scheduler in the brand's
 * time zone. It merges the day's incremental exports into the profiles (a sign-up at 10:00 is
 * welcomed the same day), picks who is due, claims each send in the ledger and sends through SES
 * as the configured identity with the feedback configuration set; every email carries the
 * feedback construct's one-click unsubscribe link, signed with its secret. A run starts at most
 * SCHEDULED_RUN_MAX_DELAY_MINUTES after its hour: the scheduler, Lambda's queue and the handler each
 * drop or refuse one older, and the queues say so (the alarms watch them).
 */
export class CampaignSender extends Construct {
  readonly sender: ClienteleFunction<'campaigns'>;
  readonly schedule: Schedule;
  /** Hourly invocations the scheduler could not deliver. */
  readonly deadLetters: Queue;
  /** Invocations Lambda took but that failed or were dropped: one record each, saying which (EventAgeExceeded, RetriesExhausted). */
  readonly invocationFailures: Queue;

  constructor(scope: Construct, id: string, props: CampaignSenderProps) {
    super(scope, id);
    const { settings, storage, feedback } = props;
    // How late an hourly run may start, at each step: the scheduler's delivery, Lambda's queue, the handler.
    const maxDelay = Duration.minutes(SCHEDULED_RUN_MAX_DELAY_MINUTES);

    this.invocationFailures = deadLetterQueue(this, 'InvocationFailures', 'hourly campaign invocations that failed or were dropped', 'lambda-on-failure');
    this.sender = new ClienteleFunction(this, 'Function', {
      name: 'campaigns',
      entry: join(FUNCTIONS_DIR, 'campaigns', 'handler.ts'),
      description: 'Hourly campaign run: select, apply consent/suppression/caps/quiet hours, claim in the ledger, send',
      environment: {
        CLIENTELE_CONFIG: props.configJson,
        UNSUBSCRIBE_SECRET_ARN: feedback.unsubscribeSecret.secretArn,
      },
      logRetention: props.logRetention,
      memorySize: 1024,
      readsExports: true,
      // Paced sending within the hour; the next run picks up whatever is left (the ledger dedupes).
      timeout: Duration.minutes(CAMPAIGN_RUN_TIMEOUT_MINUTES),
      // No Lambda-level retry of a failed run: the next hour reruns it, idempotently.
      asyncRetryAttempts: 0,
      // Throttled past the bound, the run is dropped (Lambda's default keeps it 6 hours) and recorded.
      asyncMaxEventAge: maxDelay,
      asyncOnFailure: this.invocationFailures,
    });
    // Profiles and runs are written too: incremental exports are merged in, each once (a runs marker).
    // The advisors' tasks: created and settled by the sender (one touch, shared/sender/advisor-tasks.ts).
    storage.grantTables(this.sender, { profiles: 'readWrite', runs: 'readWrite', sendLedger: 'readWrite', suppression: 'read', advisorTasks: 'readWrite', couponCodes: 'readWrite' });
    // The first indexed hour after a night deletes the floors its writers noted (shared/sender/run.ts).
    storage.grantClearDueIndexFloors(this.sender);
    storage.grantReadExports(this.sender, `${incrementalPrefix(storage.config)}/`);
    // The coupon pools the brand uploads, one CSV per campaign (shared/sender/coupons.ts).
    storage.grantReadExports(this.sender, `${storage.config.coupons.poolsPrefix}/`);
    // The product catalogue the nightly run leaves (replenishment cycles), and its category affinity (cross-category picks).
    storage.grantObject(this.sender, catalogKey(storage.config), 'read');
    storage.grantObject(this.sender, categoryAffinityKey(storage.config), 'read');
    // The advisors roster the nightly run keeps: personal notes go out in the advisor's name.
    storage.grantObject(this.sender, rosterKey(storage.config), 'read');
    // A Shopify increment's order under an address no row of it carries: the book says whose former address it is (ingest.ts linkFormerAddresses).
    storage.grantObject(this.sender, addressBookKey(storage.config), 'read');
    // A due client on the erasure list (a profile written while the erasure was recorded) is erased again,
    // her place in the advisors' book pairs of the last digests included (forget.ts eraseTraces).
    storage.grantEraseTraces(this.sender);
    storage.grantObject(this.sender, bookPairsKey(storage.config), 'read');
    storage.grantObject(this.sender, bookPairsKey(storage.config), 'write');
    feedback.unsubscribeSecret.grantRead(this.sender.role);

    feedback.grantSendEmail(this.sender, settings);
    // The run reads the account's quota and sending status first (GetAccount), to plan within them.
    this.sender.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['ses:GetAccount'], resources: ['*'] }));
    acknowledgeWildcardResource(
      this.sender.role,
      '*',
      'ses:GetAccount is an account-level action with no resource type: IAM only takes "*" for it. It reads the send quota and sending status, nothing else.',
    );
    const stack = Stack.of(this);

    // Its own scheduler role, so the one finding it carries can be acknowledged precisely.
    const scheduleRole = new Role(this, 'ScheduleRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } } }),
      description: 'EventBridge Scheduler: invoke the campaign sender hourly',
    });
    acknowledgeWildcardResource(
      scheduleRole,
      `${this.sender.fn.functionArn}:*`,
      'Invoking the campaign function\'s own versions/aliases (function ARN + ":*"), as CDK\'s LambdaInvoke target grants; no other function.',
    );

    this.deadLetters = deadLetterQueue(this, 'ScheduleDeadLetters', 'hourly campaign invocations the scheduler could not deliver', 'scheduler');
    this.schedule = new Schedule(this, 'Hourly', {
      description: `${stack.stackName}: campaign run, hourly in ${settings.config.timeZone}`,
      schedule: ScheduleExpression.cron({ ...CAMPAIGNS_CRON, timeZone: TimeZone.of(settings.config.timeZone) }),
      enabled: settings.schedulesEnabled,
      target: new LambdaInvoke(this.sender.fn, {
        role: scheduleRole,
        // `at`: the hour the run decides for, even when the invocation is retried or late.
        input: ScheduleTargetInput.fromObject({ trigger: 'schedule', at: ContextAttribute.scheduledTime }),
        retryAttempts: 3,
        // An hour late is the next run's job.
        maxEventAge: maxDelay,
        deadLetterQueue: this.deadLetters,
      }),
    });
  }
}
