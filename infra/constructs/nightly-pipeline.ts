import { join } from 'node:path';
import { Duration, RemovalPolicy, Stack, TimeZone, type IResolvable } from 'aws-cdk-lib';
import { Policy } from 'aws-cdk-lib/aws-iam';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ContextAttribute, Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import {
  Chain,
  DefinitionBody,
  DistributedMap,
  Fail,
  JsonPath,
  LogLevel,
  Pass,
  StateMachine,
  StateMachineType,
  TaskInput,
  Timeout,
  type TaskStateBase,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type {
  CombineEventInput,
  FinishEventInput,
  MeasureEventInput,
  PrepareEventInput,
  RepartitionEventInput,
  WriteEventInput,
} from '#shared/nightly/distributed.ts';
import { NIGHTLY_MEMORY_MB, NIGHTLY_TIMEOUT_MINUTES, nightlyNodeOptions } from '#shared/nightly/node-options.ts';
import { REPORT_FILE } from '#shared/reports/nightly-report.ts';
import { addressBookKey, bookPairsKey, CAMPAIGN_RESULTS_FILE, catalogBeforeKey, catalogKey, categoryAffinityKey, cycleHistoryKey, reportPrefix, rosterKey, SUMMARY_FILE } from '#shared/store/buckets.ts';
import { acknowledge, acknowledgeWildcardResource } from '#infra/nag.ts';
import { FUNCTIONS_DIR } from '#infra/paths.ts';
import type { Settings } from '#infra/settings.ts';
import type { Feedback } from './feedback.ts';
import { ClienteleFunction } from './function.ts';
import { deadLetterQueue } from './queues.ts';
import type { Storage } from './storage.ts';

/**
 * 04:00 brand time: the platform's export of the day before has landed, and it is an hour every
 * time zone has every day. Clocks change between 00:00 and 04:00 local (02:00 in the US and western
 * Europe, 03:00 in eastern Europe), and EventBridge Scheduler skips a cron time that a
 * spring-forward day lacks: at 02:00 or 03:00 the night would silently not run once a year.
 */
export const NIGHTLY_CRON = { minute: '0', hour: '4' } as const;

/** How long one nightly execution may run, every phase of a sharded night included. */
const EXECUTION_TIMEOUT = Duration.hours(3);

export interface NightlyPipelineProps {
  settings: Settings;
  storage: Storage;
  configJson: string;
  logRetention: RetentionDays;
  /** The SES configuration set the nightly report's team email and the advisors' digests go through. */
  feedback: Feedback;
}

/** A Lambda task of the state machine; resultSelector picks from the Lambda response ($.Payload is the return value). */
type LambdaStep = (stepId: string, fn: ClienteleFunction<'nightly'>, payload: TaskInput, resultPath: string, resultSelector?: Record<string, string>) => TaskStateBase;

/** A phase's event as the state machine builds it: each field a value or a JSONPath into the state. */
type PhasePayload<Event> = { [Key in keyof Event]-?: Event[Key] | IResolvable };

/**
 * The nightly run as a Step Functions state machine started at 04:00 brand time. One shard
 * (nightlyShards 1, the default):
 *
 *   Run nightly job (read export, tier, write changes, write report)
 *
 * N shards (the clients split by a hash of their id, shared/nightly/distributed.ts):
 *
 *   Prepare night (run date, run id, shard list [0..N-1]; the export listed, its files shared between N readers)
 *     → Repartition shares (Distributed Map, N at once: read a share of the files, route each record to its shard's bucket)
 *     → Measure shards (Distributed Map, N at once: read the shard's bucket, store its measures)
 *     → Combine measures (duplicate parts checked over every file; RFM cuts and the CLV fit over every shard)
 *     → Write shards (Distributed Map, N at once: read the bucket again, score, write what changed)
 *     → Finish night (summary object, runs table)
 *
 * then, either way:
 *     → Report (the run's summary location and counts as the execution's output)
 *   any failure → Nightly run failed (Fail, counted by the ExecutionsFailed alarm)
 *
 * The nightly function does everything a night needs, the CLV fit and predictions included
 * (shared/nightly/run.ts); the state machine only shards it and reports.
 *
 * Input: the schedule's { "trigger": "schedule", "scheduledTime": "<ISO time>" }, whose night is
 * the day before scheduledTime in brand time (so a retried, late or redriven start runs the same
 * night); { "runDate": "YYYY-MM-DD" } for a backfill; {} for the night before the function's own
 * clock (shared/nightly/run-date.ts). One shard keeps the single task rather than the phased flow
 * with one item: the phases read the export, then its bucket twice (measure, then write); a single
 * run reads the export once.
 */
export class NightlyPipeline extends Construct {
  readonly nightly: ClienteleFunction<'nightly'>;
  readonly stateMachine: StateMachine;
  readonly schedule: Schedule;
  readonly deadLetters: Queue;
  /**
   * The longest time between two completed nights when all is well: the 04:00 starts are 23 to 25
   * hours apart (clock changes), and a night may end up to its execution timeout after its start.
   */
  readonly longestGapBetweenNights = Duration.hours(25 + EXECUTION_TIMEOUT.toHours());

  constructor(scope: Construct, id: string, props: NightlyPipelineProps) {
    super(scope, id);
    const { settings, storage } = props;
    const stack = Stack.of(this);

    this.nightly = new ClienteleFunction(this, 'NightlyFunction', {
      name: 'nightly',
      entry: join(FUNCTIONS_DIR, 'nightly', 'handler.ts'),
      description: 'Nightly run: read the dated export, tier, write what changed, write the report',
      // The unsubscribe key signs the one-click links of the introduction tasks in the advisors' digests.
      environment: { CLIENTELE_CONFIG: props.configJson, UNSUBSCRIBE_SECRET_ARN: props.feedback.unsubscribeSecret.secretArn },
      logRetention: props.logRetention,
      memorySize: NIGHTLY_MEMORY_MB,
      nodeOptions: nightlyNodeOptions(NIGHTLY_MEMORY_MB),
      readsExports: true,
      timeout: Duration.minutes(NIGHTLY_TIMEOUT_MINUTES),
    });
    storage.grantReadExports(this.nightly);
    storage.grantWriteReports(this.nightly, 'nightly');
    // The product catalogue, for the campaign sender's replenishment cycles, and what each category's clients buy besides it, for its cross-category picks.
    storage.grantObject(this.nightly, catalogKey(storage.config), 'write');
    storage.grantObject(this.nightly, categoryAffinityKey(storage.config), 'write');
    // The catalogue a night's products replaced, which a rerun of that night without products puts back (catalog-store.ts).
    storage.grantObject(this.nightly, catalogBeforeKey(storage.config), 'write');
    storage.grantObject(this.nightly, catalogBeforeKey(storage.config), 'read');
    // What timed the run-out reminders night by night: a past stock-up is judged by its own night's cycles (cycle-history.ts).
    storage.grantObject(this.nightly, cycleHistoryKey(storage.config), 'write');
    storage.grantObject(this.nightly, cycleHistoryKey(storage.config), 'read');
    // The send ledger: read by the campaign results (the period's sent and held-out decisions), and
    // written when the run mails the advisors' weekly digests (claimed once a week,
    // shared/digests/advisor-digests.ts), which also read the catalogue's replenishment cycles.
    // Advisors come from the config or from the export's advisors roster, which only the run sees: the
    // digests may go out any week, and the run keeps the last good roster (shared/advisors/roster.ts).
    storage.grantObject(this.nightly, rosterKey(storage.config), 'write');
    storage.grantObject(this.nightly, rosterKey(storage.config), 'read');
    // Last week's book pairs: a client whose advisor changed is introduced to the new one (handover);
    // an erased client the night erases again leaves them (forget.ts eraseTraces).
    storage.grantObject(this.nightly, bookPairsKey(storage.config), 'write');
    storage.grantObject(this.nightly, bookPairsKey(storage.config), 'read');
    // Former Shopify addresses (address-book.ts): read by every phase that loads a base, written by finish.
    storage.grantObject(this.nightly, addressBookKey(storage.config), 'write');
    storage.grantObject(this.nightly, addressBookKey(storage.config), 'read');
    // The suppression table holds the erasures: people who asked to be forgotten stay out of the base.
    storage.grantTables(this.nightly, {
      profiles: 'readWrite',
      tierHistory: 'readWrite',
      runs: 'readWrite',
      sendLedger: 'readWrite',
      suppression: 'read',
      // The digests' follow-through (what became of each advisor's tasks), and the handovers' introduction tasks.
      advisorTasks: 'readWrite',
    });
    // An erased client the night meets with a profile (a forget that stopped halfway, a race) is erased again.
    storage.grantEraseTraces(this.nightly);
    props.feedback.unsubscribeSecret.grantRead(this.nightly.role);
    // A rerun of a night reads the before-images its earlier attempts saved.
    storage.grantReadAttempts(this.nightly, 'nightly');
    storage.grantObject(this.nightly, catalogKey(storage.config), 'read');
    // One file name under every night's dated report prefix, read-only (acknowledged: the wildcard is the night's date).
    const readEveryNights = (file: string, why: string) => {
      const key = `${reportPrefix(storage.config, 'nightly', '*')}/${file}`;
      storage.grantObject(this.nightly, key, 'read');
      acknowledgeWildcardResource(this.nightly.role, storage.bucket.arnForObjects(key), `Each night's ${file} sits under its dated report prefix: read-only, that one file name, ${why}.`);
    };
    // The nightly report reads the night's campaign results (listing it too: a night without any is a 404, not a 403).
    readEveryNights(CAMPAIGN_RESULTS_FILE, "for the nightly report's campaign results");
    // A rerun of a completed night returns its whole summary: the runs table keeps a sample of its lists (shared/nightly/runs-item.ts).
    readEveryNights(SUMMARY_FILE, 'for a rerun that returns the whole summary');
    // The team email's link to the night's report.html is presigned with this role's credentials: it opens only what the role may read.
    readEveryNights(REPORT_FILE, 'for the presigned link the team email carries');
    // SES only for the mail the run sends: the report's summary to the team, the advisors' digests.
    props.feedback.grantSendEmail(this.nightly, settings);
    const shards = settings.nightlyShards;
    // The phases of a sharded night hand their measures, models and outcomes over through S3.
    if (shards > 1) storage.grantWork(this.nightly, 'nightly');

    // ---- the state machine ----
    const failed = Fail.jsonPath(this, 'Nightly run failed', {
      comment: 'The error of the failed step; nothing after it ran.',
      errorPath: JsonPath.stringAt('$.error.Error'),
      causePath: JsonPath.stringAt('$.error.Cause'),
    });
    // Retried, not caught: the tasks inside a Distributed Map, whose child executions cannot reach `failed`.
    const lambdaTask: LambdaStep = (
      stepId,
      fn,
      payload,
      resultPath,
      // The function's return value only, not the Lambda response envelope.
      resultSelector = { 'summary.$': '$.Payload' },
    ) => {
      const task = LambdaInvoke.jsonPath(this, stepId, {
        lambdaFunction: fn.fn,
        payload,
        resultSelector,
        resultPath,
        taskTimeout: Timeout.duration(Duration.minutes(16)),
        // Lambda service errors are retried by default; add throttling. A failed run is not
        // retried: a broken export fails the same way again, and the alarm says so at once. Only a
        // refusal because another attempt writes the night is (below).
        retryOnServiceExceptions: true,
      });
      task.addRetry({ errors: ['Lambda.TooManyRequestsException'], interval: Duration.seconds(30), maxAttempts: 4, backoffRate: 2 });
      // A retried service error may have hidden an invocation that still runs and holds the night's
      // write lease (shared/nightly/write-lease.ts): the retry, refused, waits for it to finish (or
      // for its lease to end: 16 minutes at most), then finds the night written or writes it.
      task.addRetry({ errors: ['NightBusyError'], interval: Duration.minutes(2), maxAttempts: 4, backoffRate: 2 });
      return task;
    };
    // Retried, and caught by the failure state.
    const invoke: LambdaStep = (...args) => lambdaTask(...args).addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' });

    // One shard: the nightly function takes the execution input as it is (the schedule's, { runDate } or {}) and runs the whole night.
    const night =
      shards > 1
        ? this.shardedNight(shards, this.nightly, { lambdaTask, invoke, failed })
        : Chain.start(invoke('Run nightly job', this.nightly, TaskInput.fromJsonPathAt('$'), '$.nightly'));

    // NightResult (shared/nightly/distributed.ts), not the summary: the report is already in S3; surface where and what.
    const report = Pass.jsonPath(this, 'Report', {
      comment: 'The nightly function wrote the summary (and rejects) to the reports prefix; this is the execution output.',
      parameters: {
        'runDate.$': '$.nightly.summary.runDate',
        'summaryObject.$': '$.nightly.summary.summaryObject',
        'rejected.$': '$.nightly.summary.rejected',
        'changes.$': '$.nightly.summary.changes',
      },
    });
    night.next(report);

    const logs = new LogGroup(this, 'StateMachineLogs', {
      // The vended-logs prefix keeps the CloudWatch Logs resource policy small.
      logGroupName: `/aws/vendedlogs/states/${stack.stackName}-nightly`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineName: `${stack.stackName}-nightly`,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(night),
      timeout: EXECUTION_TIMEOUT,
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
    if (shards > 1) acknowledgeDistributedMapPolicy(this.stateMachine);
    acknowledgeWildcardResource(
      role,
      `${this.nightly.fn.functionArn}:*`,
      'Invoking the nightly function\'s own versions/aliases (function ARN + ":*"), as CDK\'s LambdaInvoke grants; no other function.',
    );

    this.deadLetters = deadLetterQueue(this, 'ScheduleDeadLetters', 'nightly starts the scheduler could not deliver', 'scheduler');
    this.schedule = new Schedule(this, 'Nightly', {
      description: `${stack.stackName}: nightly run at 04:00 ${settings.config.timeZone}`,
      schedule: ScheduleExpression.cron({ ...NIGHTLY_CRON, timeZone: TimeZone.of(settings.config.timeZone) }),
      enabled: settings.schedulesEnabled,
      target: new StepFunctionsStartExecution(this.stateMachine, {
        // No runDate: the night is the day before scheduledTime in brand time, whenever the execution
        // actually starts or is redriven (a retried delivery carries the same scheduledTime).
        input: ScheduleTargetInput.fromObject({ trigger: 'schedule', scheduledTime: ContextAttribute.scheduledTime }),
        retryAttempts: 5,
        maxEventAge: Duration.hours(6),
        deadLetterQueue: this.deadLetters,
      }),
    });
  }

  /**
   * Prepare → Repartition shares → Measure shards → Combine measures → Write shards → Finish
   * night: the phases of shared/nightly/distributed.ts, each reader's repartition and each
   * shard's measure and write a child execution of a Distributed Map. Ends with the night's NightResult under $.nightly, as the single task leaves it.
   */
  private shardedNight(
    shards: number,
    nightly: ClienteleFunction<'nightly'>,
    steps: { lambdaTask: LambdaStep; invoke: LambdaStep; failed: Fail },
  ): Chain {
    const { lambdaTask, invoke, failed } = steps;
    const run = { runDate: JsonPath.stringAt('$.run.runDate'), runId: JsonPath.stringAt('$.run.runId') };

    const prepare = invoke(
      'Prepare night',
      nightly,
      // The execution input: the schedule's scheduledTime, or a backfill's runDate (shared/nightly/run-date.ts).
      TaskInput.fromObject({ phase: 'prepare', shards, request: JsonPath.objectAt('$') } satisfies PhasePayload<PrepareEventInput>),
      '$.run',
      // PreparedNight (shared/nightly/distributed.ts): what every later state reads.
      {
        'runDate.$': '$.Payload.runDate',
        'runId.$': '$.Payload.runId',
        'startedAt.$': '$.Payload.startedAt',
        'acceptDrop.$': '$.Payload.acceptDrop',
        'shards.$': '$.Payload.shards',
        'readers.$': '$.Payload.readers',
      },
    );

    // Each item (a ShardSpec of prepare's lists) becomes that shard's, or that reader's, event.
    const item = JsonPath.objectAt('$$.Map.Item.Value');
    const overItems = (
      id: string,
      label: string,
      taskId: string,
      items: { path: '$.run.shards' | '$.run.readers'; most: number },
      itemSelector: PhasePayload<RepartitionEventInput> | PhasePayload<MeasureEventInput> | PhasePayload<WriteEventInput>,
    ): DistributedMap => {
      const map = DistributedMap.jsonPath(this, id, {
        comment: 'One child execution per item; any failed item fails the night (no tolerated failures).',
        itemsPath: JsonPath.stringAt(items.path),
        itemSelector,
        maxConcurrency: items.most,
        // Names the map runs, and narrows the redrive permission CDK grants to them.
        label,
        // Each shard stored its result in S3; the state keeps its input (the run) and nothing else.
        resultPath: JsonPath.DISCARD,
      });
      // Children run up to 15 minutes each: STANDARD child executions (the default; EXPRESS stop at 5).
      map.itemProcessor(lambdaTask(taskId, nightly, TaskInput.fromJsonPathAt('$'), '$', { 'receipt.$': '$.Payload' }));
      return map.addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' });
    };

    const byShard = { path: '$.run.shards', most: shards } as const;
    const combine = invoke(
      'Combine measures',
      nightly,
      TaskInput.fromObject({
        phase: 'combine',
        ...run,
        shards,
        startedAt: JsonPath.numberAt('$.run.startedAt'),
        acceptDrop: JsonPath.objectAt('$.run.acceptDrop'),
      } satisfies PhasePayload<CombineEventInput>),
      '$.combine',
    );
    const finish = invoke(
      'Finish night',
      nightly,
      TaskInput.fromObject({ phase: 'finish', ...run, startedAt: JsonPath.numberAt('$.run.startedAt'), shards } satisfies PhasePayload<FinishEventInput>),
      '$.nightly',
    );
    return Chain.start(prepare)
      // Reader r of R: prepare shared the files between R readers, N or up to 2N (shares.ts).
      .next(overItems('Repartition shares', 'RepartitionShares', 'Repartition share', { path: '$.run.readers', most: 2 * shards }, { phase: 'repartition', ...run, shards, reader: item }))
      .next(overItems('Measure shards', 'MeasureShards', 'Measure shard', byShard, { phase: 'measure', ...run, shard: item }))
      .next(combine)
      .next(overItems('Write shards', 'WriteShards', 'Write shard', byShard, { phase: 'write', ...run, shard: item }))
      .next(finish);
  }
}

/**
 * CDK grants a state machine with a Distributed Map the right to run its own child executions
 * (the DistributedMapPolicy beside its role): start this state machine, describe and stop its
 * executions, redrive the labelled map runs. Execution names are made at run time, hence the
 * wildcards, each confined to this state machine's executions.
 */
function acknowledgeDistributedMapPolicy(stateMachine: StateMachine): void {
  const policy = stateMachine.node.tryFindChild('DistributedMapPolicy');
  if (!(policy instanceof Policy)) throw new Error('aws-cdk-lib no longer adds a DistributedMapPolicy: review the Distributed Map grants');
  const statements = (policy.document.toJSON() as { Statement: { Action: string | string[]; Resource: string | string[] }[] }).Statement;
  for (const statement of statements) {
    const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
    for (const resource of resources.filter((r) => r.includes('*'))) {
      acknowledgeWildcardResource(
        policy,
        resource,
        `${[statement.Action].flat().join(', ')} on this state machine's own executions (Distributed Map child executions and map runs, named at run time), as CDK grants.`,
      );
    }
  }
}
