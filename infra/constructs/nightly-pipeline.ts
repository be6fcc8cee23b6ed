import { Annotations, Duration, RemovalPolicy, Stack, TimeZone } from 'aws-cdk-lib';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ContextAttribute, Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import {
  Choice,
  Condition,
  DefinitionBody,
  Fail,
  JsonPath,
  LogLevel,
  Pass,
  StateMachine,
  StateMachineType,
  TaskInput,
  Timeout,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { ClvEnvironmentInput, NightlyEnvironmentInput } from '../../shared/environment.ts';
import { catalogKey } from '../../shared/store/buckets.ts';
import type { FunctionCatalog } from '../functions.ts';
import { acknowledge, acknowledgeWildcardResource } from '../nag.ts';
import type { Settings } from '../settings.ts';
import { ClienteleFunction } from './function.ts';
import { deadLetterQueue } from './queues.ts';
import type { Storage } from './storage.ts';

/** 02:00 brand time: the platform's export of the day before has landed. */
export const NIGHTLY_CRON = { minute: '0', hour: '2' } as const;

export interface NightlyPipelineProps {
  catalog: FunctionCatalog;
  settings: Settings;
  storage: Storage;
  configJson: string;
  logRetention: RetentionDays;
}

/**
 * The nightly run as a Step Functions state machine started at 02:00 brand time:
 *
 *   Run nightly job (read export, tier, write changes, write report)
 *     → [CLV requested?] → Predict CLV        (only when functions/clv exists)
 *     → Report (the run's summary location and counts as the execution's output)
 *   any failure → Nightly run failed (Fail, counted by the ExecutionsFailed alarm)
 *
 * Input: {} for "yesterday in brand time", or { "runDate": "YYYY-MM-DD" } for a backfill;
 * { "skipClv": true } skips the CLV step. Fanning out past one Lambda means replacing the
 * "Run nightly job" task with a Distributed Map over export shards (each shard the same code);
 * the states around it stay as they are.
 */
export class NightlyPipeline extends Construct {
  readonly nightly?: ClienteleFunction;
  readonly clv?: ClienteleFunction;
  readonly stateMachine?: StateMachine;
  readonly schedule?: Schedule;
  readonly deadLetters?: Queue;

  constructor(scope: Construct, id: string, props: NightlyPipelineProps) {
    super(scope, id);
    const { catalog, settings, storage } = props;
    if (!catalog.has('nightly')) {
      Annotations.of(this).addInfo('functions/nightly/handler.ts not found: the nightly pipeline is not deployed.');
      return;
    }
    const stack = Stack.of(this);

    const nightlyEnvironment: NightlyEnvironmentInput = {
      CLIENTELE_CONFIG: props.configJson,
      POWERTOOLS_SERVICE_NAME: 'clientele-nightly',
    };
    this.nightly = new ClienteleFunction(this, 'NightlyFunction', {
      catalog,
      name: 'nightly',
      description: 'Nightly run: read the dated export, tier, write what changed, write the report',
      environment: nightlyEnvironment,
      logRetention: props.logRetention,
      // Streams the export with bounded memory; more memory is also more CPU for the aggregation.
      memorySize: 2048,
      timeout: Duration.minutes(15),
    });
    storage.grantReadExports(this.nightly);
    storage.grantWriteReports(this.nightly, 'nightly');
    // The product catalogue, for the campaign sender's replenishment cycles.
    storage.grantObject(this.nightly, catalogKey(storage.config), 'write');
    // The send ledger, read only: the campaign results follow the period's sent and held-out decisions.
    storage.grantTables(this.nightly, { profiles: 'readWrite', tierHistory: 'readWrite', runs: 'readWrite', sendLedger: 'read' });

    if (catalog.has('clv')) {
      const clvEnvironment: ClvEnvironmentInput = { CLIENTELE_CONFIG: props.configJson, POWERTOOLS_SERVICE_NAME: 'clientele-clv' };
      this.clv = new ClienteleFunction(this, 'ClvFunction', {
        catalog,
        name: 'clv',
        description: 'Predicted CLV and next order date for every profile (BG/NBD + Gamma-Gamma)',
        environment: clvEnvironment,
        logRetention: props.logRetention,
        memorySize: 3008,
        timeout: Duration.minutes(15),
      });
      storage.grantTables(this.clv, { profiles: 'readWrite', runs: 'readWrite' });
    }

    // ---- the state machine ----
    const failed = Fail.jsonPath(this, 'Nightly run failed', {
      comment: 'The error of the failed step; nothing after it ran.',
      errorPath: JsonPath.stringAt('$.error.Error'),
      causePath: JsonPath.stringAt('$.error.Cause'),
    });
    const invoke = (stepId: string, fn: ClienteleFunction, payload: TaskInput, resultPath: string): LambdaInvoke => {
      const task = LambdaInvoke.jsonPath(this, stepId, {
        lambdaFunction: fn.fn,
        payload,
        // The function's return value only, not the Lambda response envelope.
        resultSelector: { 'summary.$': '$.Payload' },
        resultPath,
        taskTimeout: Timeout.duration(Duration.minutes(16)),
        // Lambda service errors are retried by default; add throttling. A failed run is not
        // retried: a broken export fails the same way again, and the alarm says so at once.
        retryOnServiceExceptions: true,
      });
      task.addRetry({ errors: ['Lambda.TooManyRequestsException'], interval: Duration.seconds(30), maxAttempts: 4, backoffRate: 2 });
      task.addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' });
      return task;
    };

    // The nightly function takes the execution input as it is: {} or { runDate }.
    const run = invoke('Run nightly job', this.nightly, TaskInput.fromJsonPathAt('$'), '$.nightly');

    // NightlyRunSummary (shared/nightly/run.ts): the report is already in S3; surface where and what.
    const report = Pass.jsonPath(this, 'Report', {
      comment: 'The nightly function wrote the summary (and rejects) to the reports prefix; this is the execution output.',
      parameters: {
        'runDate.$': '$.nightly.summary.runDate',
        'summaryObject.$': '$.nightly.summary.report.summaryObject',
        'rejected.$': '$.nightly.summary.input.rejected',
        'changes.$': '$.nightly.summary.changes',
      },
    });

    if (this.clv) {
      const clv = invoke(
        'Predict CLV',
        this.clv,
        TaskInput.fromObject({ runDate: JsonPath.stringAt('$.nightly.summary.runDate') }),
        '$.clv',
      );
      clv.next(report);
      const wantClv = Choice.jsonPath(this, 'CLV requested?')
        .when(Condition.and(Condition.isPresent('$.skipClv'), Condition.booleanEquals('$.skipClv', true)), report)
        .otherwise(clv);
      run.next(wantClv);
    } else {
      // No functions/clv yet: the run goes straight to its report.
      run.next(report);
    }

    const logs = new LogGroup(this, 'StateMachineLogs', {
      // The vended-logs prefix keeps the CloudWatch Logs resource policy small.
      logGroupName: `/aws/vendedlogs/states/${stack.stackName}-nightly`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineName: `${stack.stackName}-nightly`,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(run),
      timeout: Duration.hours(3),
      tracingEnabled: true,
      // ALL events, without execution data: summaries carry sample rejects (raw rows).
      logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: false },
    });
    const role = this.stateMachine.role;
    acknowledge(
      role,
      'IAM5[Resource::*]',
      'X-Ray (PutTraceSegments, GetSamplingRules...) and CloudWatch Logs vended delivery (CreateLogDelivery...) support no resource-level permissions.',
    );
    for (const fn of [this.nightly, this.clv]) {
      if (!fn) continue;
      acknowledgeWildcardResource(
        role,
        `${fn.fn.functionArn}:*`,
        'Invoking the function\'s own versions/aliases (function ARN + ":*"), as CDK\'s LambdaInvoke grants; no other function.',
      );
    }

    this.deadLetters = deadLetterQueue(this, 'ScheduleDeadLetters', 'nightly starts the scheduler could not deliver', 'scheduler');
    this.schedule = new Schedule(this, 'Nightly', {
      description: `${stack.stackName}: nightly run at 02:00 ${settings.config.timeZone}`,
      schedule: ScheduleExpression.cron({ ...NIGHTLY_CRON, timeZone: TimeZone.of(settings.config.timeZone) }),
      enabled: settings.schedulesEnabled,
      target: new StepFunctionsStartExecution(this.stateMachine, {
        // No runDate: the function runs "yesterday in brand time".
        input: ScheduleTargetInput.fromObject({ trigger: 'schedule', scheduledTime: ContextAttribute.scheduledTime }),
        retryAttempts: 5,
        maxEventAge: Duration.hours(6),
        deadLetterQueue: this.deadLetters,
      }),
    });
  }
}
