import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseConfig } from '#shared/config.ts';
import { decideSesEvent } from '#shared/feedback/ses-events.ts';
import { FUNCTION_ENVIRONMENTS, parseFunctionEnvironment, type FunctionName } from '#shared/environment.ts';
import { nightResultOf, parseNightlyEvent, type NightResult } from '#shared/nightly/distributed.ts';
import { runDateOf } from '#shared/nightly/run-date.ts';
import { FORGET_COMMAND } from '#infra/constructs/erasure.ts';
import { NIGHTLY_CRON } from '#infra/constructs/nightly-pipeline.ts';
import { PROJECT_ROOT } from '#infra/paths.ts';
import { campaignsEventSchema, lateScheduledRunRefusal, SCHEDULED_RUN_MAX_DELAY_MINUTES } from '#shared/sender/campaigns-event.ts';
import { FEEDBACK_ALERTS, NIGHTLY_ALERTS, SENDER_ALERTS } from '#shared/alerts.ts';
import { NIGHT_NOT_COMPLETED } from '#local/commands/status.ts';
import { TIERS } from '#shared/model.ts';
import { CAMPAIGN_OUTCOME_METRICS, METRIC_NAMES } from '#shared/observability/business-metrics.ts';
import { TABLES, createTableInput, tableNames, type TableId } from '#shared/store/tables.ts';
import { profiles, RUN_DATE, summary } from '#test/support/nightly-reports.ts';
import { allowedPairs, logicalId, statementsFor, synthesize, type Synthesized } from './helpers.ts';

/**
 * The whole stack as it is deployed: the four handlers of functions/, with a configuration that
 * turns on everything optional (team email, advisors' digests, alarm e-mail). Synthesized once
 * (bundling, cdk-nag and all) for every assertion below.
 */

const TIME_ZONE = 'America/New_York';
let synth: Synthesized;
let labels: Map<string, string>;

type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string };
const resourcesOf = (type: string): [string, Resource][] =>
  Object.entries(synth.json.Resources).filter((entry): entry is [string, Resource] => entry[1].Type === type);

/** Resolves the few intrinsics a function environment holds into plausible deployed values. */
function resolveValue(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if ('Fn::Join' in v) {
    const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(resolveValue).join(separator);
  }
  if ('Ref' in v) return v.Ref === 'AWS::Region' ? 'us-east-1' : `deployed-${String(v.Ref).toLowerCase()}`;
  if ('Fn::GetAtt' in v) {
    const [id, attribute] = v['Fn::GetAtt'] as [string, string];
    return attribute === 'FunctionUrl' ? 'https://abc123.lambda-url.us-east-1.on.aws/' : `deployed-${id}-${attribute}`;
  }
  throw new Error(`unexpected intrinsic ${JSON.stringify(value)}`);
}

function functionEnvironment(name: string): Record<string, string> {
  const fn = synth.stack.functions.find((f) => f.name === name);
  if (!fn) throw new Error(`no function ${name}`);
  const resource = synth.json.Resources[logicalId(fn.fn)] as Resource;
  const variables = (resource.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
  return Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, resolveValue(v)]));
}

function roleOf(name: string): string {
  const fn = synth.stack.functions.find((f) => f.name === name);
  if (!fn) throw new Error(`no function ${name}`);
  return logicalId(fn.role);
}

const READ = ['dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan'];
const WRITE = ['dynamodb:BatchWriteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];
const tableRead = (id: TableId) =>
  [`<table:${id}>`, ...TABLES[id].indexes.map((i) => `<table:${id}>/index/${i.indexName}`)].flatMap((r) => READ.map((a) => `${a} ${r}`));
const tableWrite = (id: TableId) => WRITE.map((a) => `${a} <table:${id}>`);
const ownLogs = (name: string) => [`logs:CreateLogStream <logs:${name}>`, `logs:PutLogEvents <logs:${name}>`];
/** What eraseTraces (shared/forget/forget.ts) calls: forget, and the nightly run and the sender when they meet an erased client with a profile. */
const ERASE_TRACES = [
  'dynamodb:Query <table:tierHistory>',
  'dynamodb:BatchWriteItem <table:tierHistory>',
  'dynamodb:Query <table:sendLedger>',
  'dynamodb:UpdateItem <table:sendLedger>',
  'dynamodb:BatchWriteItem <table:sendLedger>',
  'dynamodb:Query <table:advisorTasks>',
  'dynamodb:BatchWriteItem <table:advisorTasks>',
  'dynamodb:DeleteItem <table:suppression>',
  // Of the erasure entries alone (a condition on the key: the feedback ids of a deleted entry move there).
  'dynamodb:UpdateItem <table:suppression>',
  'dynamodb:BatchWriteItem <table:profiles>',
  'dynamodb:Scan <table:couponCodes>',
  'dynamodb:GetItem <table:couponCodes>',
  'dynamodb:UpdateItem <table:couponCodes>',
  'dynamodb:DeleteItem <table:couponCodes>',
];
/** The pairs a role's policies should allow, as allowedPairs lists them: sorted, each once. */
const expectedPairs = (...pairs: string[]) => [...new Set(pairs)].sort();
/** What the nightly function may do in an unsharded deployment (a sharded one adds its work prefix). */
const NIGHTLY_SINGLE_RUN = [
  ...ownLogs('nightly'),
  's3:ListBucket <bucket>',
  's3:GetObject <bucket>/exports/*',
  's3:GetObject <bucket>/reports/nightly/*/campaign-results.json',
  // A rerun of a night reads the before-images its earlier attempts saved.
  's3:GetObject <bucket>/reports/nightly/*/attempts/*',
  's3:PutObject <bucket>/reports/nightly/*',
  's3:PutObjectTagging <bucket>/reports/nightly/*',
  's3:PutObject <bucket>/reports/catalog/products.json',
  // What each category's clients buy besides it: the sender's cross-category picks.
  's3:PutObject <bucket>/reports/catalog/category-affinity.json',
  // The catalogue a night's products replaced: a rerun of that night without products puts it back.
  's3:GetObject <bucket>/reports/catalog/products-before.json',
  's3:PutObject <bucket>/reports/catalog/products-before.json',
  // What timed the run-out reminders night by night: a past stock-up is judged by its own night's cycles.
  's3:GetObject <bucket>/reports/catalog/cycle-history.json',
  's3:PutObject <bucket>/reports/catalog/cycle-history.json',
  // The team email's presigned link to the night's report opens with this role's permissions.
  's3:GetObject <bucket>/reports/nightly/*/report.html',
  // A rerun of a completed night returns its whole summary (the runs table keeps a sample of its lists).
  's3:GetObject <bucket>/reports/nightly/*/summary.json',
  // The last good advisors roster (issue 16): written from the export's roster, read when tonight's is not used.
  's3:GetObject <bucket>/reports/catalog/advisors.json',
  's3:PutObject <bucket>/reports/catalog/advisors.json',
  // The digests' book pairs of last week: handovers; an erased client the night erases again leaves them.
  's3:GetObject <bucket>/reports/catalog/advisor-pairs.json',
  's3:PutObject <bucket>/reports/catalog/advisor-pairs.json',
  // Former Shopify addresses, hashed: read with the base, written by a night that completes.
  's3:GetObject <bucket>/reports/state/address-book.json',
  's3:PutObject <bucket>/reports/state/address-book.json',
  ...tableRead('profiles'),
  ...tableWrite('profiles'),
  ...tableRead('tierHistory'),
  ...tableWrite('tierHistory'),
  ...tableRead('runs'),
  ...tableWrite('runs'),
  ...tableRead('sendLedger'),
  // The erasure list: people who asked to be forgotten stay out of the base.
  ...tableRead('suppression'),
  // The advisors' weekly digests, whether the config or the export's roster names the advisors:
  // claimed in the ledger, with the catalogue's replenishment cycles.
  ...tableWrite('sendLedger'),
  's3:GetObject <bucket>/reports/catalog/products.json',
  // The digests' follow-through on the advisors' tasks, and the handovers' introduction tasks they give.
  ...tableRead('advisorTasks'),
  ...tableWrite('advisorTasks'),
  // The unsubscribe key signs the introduction tasks' one-click links.
  'secretsmanager:DescribeSecret <secret>',
  'secretsmanager:GetSecretValue <secret>',
  // An erased client met with a profile is erased again.
  ...ERASE_TRACES,
];

/** The report's summary email and the digests: one grant, as the stack's identity. */
const sendsAs = (identity: string) => [
  'ses:SendEmail arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:configuration-set/<configuration-set>',
  `ses:SendEmail arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/${identity}`,
];

/** Readable names for the logical ids allowedPairs prints: <bucket>, <table:profiles>, <function:nightly>... */
function labelsOf({ stack }: Synthesized): Map<string, string> {
  const labels = new Map<string, string>([
    [logicalId(stack.storage.bucket), 'bucket'],
    [logicalId(stack.feedback.unsubscribeSecret), 'secret'],
    [logicalId(stack.feedback.configurationSet), 'configuration-set'],
  ]);
  for (const id of Object.keys(TABLES) as TableId[]) labels.set(logicalId(stack.storage.tables[id]), `table:${id}`);
  for (const fn of stack.functions) {
    labels.set(logicalId(fn.logGroup), `logs:${fn.name}`);
    labels.set(logicalId(fn.fn), `function:${fn.name}`);
  }
  const queues = [stack.nightlyPipeline.deadLetters, stack.campaignSender.deadLetters, stack.campaignSender.invocationFailures, stack.feedback.sesEventsDeadLetters];
  for (const queue of queues) labels.set(logicalId(queue), `dlq:${queue.node.id}`);
  labels.set(logicalId(stack.nightlyPipeline.stateMachine), 'state-machine');
  return labels;
}

type Definition = { StartAt: string; States: Record<string, Record<string, unknown>> };

/** The nightly state machine's ASL, with every intrinsic (ARNs) replaced by "ARN". */
function nightlyDefinition({ json }: Synthesized): Definition {
  const machines = Object.values(json.Resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  expect(machines).toHaveLength(1);
  const parts = (machines[0]?.Properties?.DefinitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'ARN')).join('')) as Definition;
}

/** A value at a state machine's plain JSONPath ("$.a.b"). */
const valueAt = (value: unknown, path: string): unknown =>
  path === '$' ? value : path.replace(/^\$\./, '').split('.').reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], value);

/**
 * The execution's output (the Report state's) once `task` returned `result`: the task's
 * ResultSelector and ResultPath, then Report's Parameters. A path that finds nothing fails the
 * execution in Step Functions: here it is undefined.
 */
function reportAfter(definition: Definition, task: string, result: NightResult): Record<string, unknown> {
  const state = definition.States[task] ?? {};
  const selected = Object.fromEntries(Object.entries(state.ResultSelector as Record<string, string>).map(([key, path]) => [key.replace(/\.\$$/, ''), valueAt({ Payload: result }, path)]));
  expect(state.ResultPath).toBe('$.nightly');
  const parameters = definition.States.Report?.Parameters as Record<string, string>;
  return Object.fromEntries(Object.entries(parameters).map(([key, path]) => [key.replace(/\.\$$/, ''), valueAt({ nightly: selected }, path)]));
}

/** What the Report state outputs for a night: where its summary is, and its counts. */
function expectedReport(result: NightResult): Record<string, unknown> {
  return { runDate: result.runDate, summaryObject: result.summaryObject, rejected: result.rejected, changes: result.changes };
}

/** The states from StartAt, following Next, until one ends or fails. */
function mainPath(definition: Definition): string[] {
  const path: string[] = [];
  for (let id: string | undefined = definition.StartAt; id && !path.includes(id); ) {
    path.push(id);
    const state = definition.States[id];
    id = (state?.Next ?? state?.Default) as string | undefined;
  }
  return path;
}

beforeAll(() => {
  synth = synthesize({
    stage: 'prod',
    config: {
      brandName: 'Maison Test',
      timeZone: TIME_ZONE,
      storage: { exportsPrefix: 'exports', reportsPrefix: 'reports' },
      // A team address and an advisor: the nightly run mails the report's summary and the weekly digests.
      reports: { teamAddresses: ['crm@maison.example'], advisors: { A01: { email: 'sophie@maison.example' } } },
    },
    senderAddress: 'hello@mail.maison.example',
    sesIdentity: 'maison.example',
    sendRatePerSecond: 7,
    alarmEmail: 'ops@maison.example',
    alarms: { bounceRate: 0.04, complaintRate: 0.0008 },
  });
  labels = labelsOf(synth);
}, 240_000);

afterAll(() => synth?.cleanup());

describe('functions', () => {
  it('deploys one Lambda per function of the suite, each with its own environment schema', () => {
    const names = synth.stack.functions.map((f) => f.name).sort();
    expect(names).toEqual(['advisor-task', 'campaigns', 'forget', 'nightly', 'ses-events', 'unsubscribe']);
    expect(names).toEqual(Object.keys(FUNCTION_ENVIRONMENTS).sort());
    synth.template.resourceCountIs('AWS::Lambda::Function', 6);
  });

  it('runs every function on the latest Node runtime, arm64, as a bundled ESM handler', () => {
    for (const [, fn] of resourcesOf('AWS::Lambda::Function')) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler' });
    }
  });

  it('gives each function the environment its handler schema requires', () => {
    for (const name of Object.keys(FUNCTION_ENVIRONMENTS) as FunctionName[]) {
      expect(() => parseFunctionEnvironment(name, functionEnvironment(name)), name).not.toThrow();
    }
  });

  it('fills the campaign sender\'s sending settings', () => {
    const sender = (parseConfig(JSON.parse(functionEnvironment('campaigns').CLIENTELE_CONFIG ?? '')) as { sender?: Record<string, unknown> }).sender;
    expect(sender).toMatchObject({
      fromAddress: 'hello@mail.maison.example',
      maxSendRate: 7,
      configurationSetName: 'Clientele-prod-campaigns',
      unsubscribeBaseUrl: 'https://abc123.lambda-url.us-east-1.on.aws/',
    });
    // The nightly mails links too (the digests' task links, the team email): the same URLs.
    const nightly = parseConfig(JSON.parse(functionEnvironment('nightly').CLIENTELE_CONFIG ?? '')) as { sender?: Record<string, unknown>; advisors?: Record<string, unknown> };
    const campaigns = parseConfig(JSON.parse(functionEnvironment('campaigns').CLIENTELE_CONFIG ?? '')) as { advisors?: Record<string, unknown> };
    expect(nightly.sender?.unsubscribeBaseUrl).toBe(sender?.unsubscribeBaseUrl);
    expect(nightly.advisors?.taskBaseUrl).toBe(campaigns.advisors?.taskBaseUrl);
    expect(nightly.advisors?.taskBaseUrl).not.toBe('https://advisor-tasks.example.com/');
    expect(nightly.sender?.configurationSetName).toBe('Clientele-prod-campaigns');
    // The feedback functions' own configuration cannot name them (a cycle).
    const unsubscribe = (parseConfig(JSON.parse(functionEnvironment('unsubscribe').CLIENTELE_CONFIG ?? '')) as { sender?: Record<string, unknown> }).sender;
    expect(unsubscribe?.unsubscribeBaseUrl).not.toBe(sender?.unsubscribeBaseUrl);
  });

  it('outputs the campaign sender\'s configuration and key ARN as deployed: what `clientele --stack` reads', () => {
    const outputs = synth.template.findOutputs('*') as Record<string, { Value: unknown }>;
    const environment = functionEnvironment('campaigns');
    expect(resolveValue(outputs.CampaignsConfig?.Value)).toBe(environment.CLIENTELE_CONFIG);
    expect(resolveValue(outputs.UnsubscribeSecretArn?.Value)).toBe(environment.UNSUBSCRIBE_SECRET_ARN);
  });

  it('keeps secrets out of the environment: the unsubscribe key travels as an ARN', () => {
    for (const [, fn] of resourcesOf('AWS::Lambda::Function')) {
      const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(Object.keys(variables)).not.toContain('UNSUBSCRIBE_SECRET');
      // Neither a resolved value nor a CloudFormation dynamic reference to one.
      expect(JSON.stringify(variables)).not.toMatch(/resolve:secretsmanager|SecretString/);
    }
    expect(functionEnvironment('unsubscribe').UNSUBSCRIBE_SECRET_ARN).toBe(`deployed-${logicalId(synth.stack.feedback.unsubscribeSecret).toLowerCase()}`);
  });

  it('gives the Parameters and Secrets extension, and the read of that secret, to every function whose environment names a secret ARN, and to no other', () => {
    const template = synth.json as Synthesized['json'] & { Mappings: Record<string, Record<string, Record<string, string>>> };
    const secretsByFunction = Object.fromEntries(
      synth.stack.functions.map((fn) => {
        const properties = (template.Resources[logicalId(fn.fn)] as Resource).Properties;
        const variables = (properties.Environment as { Variables: Record<string, unknown> }).Variables;
        // Layers resolved through the template's region mapping (us-east-1 stands for any region).
        const layers = ((properties.Layers as { 'Fn::FindInMap': [string, unknown, string] }[] | undefined) ?? []).map(
          ({ 'Fn::FindInMap': [map, , key] }) => template.Mappings[map]?.['us-east-1']?.[key] ?? '',
        );
        const named = Object.entries(variables)
          .filter(([name]) => name.endsWith('_SECRET_ARN'))
          .map(([name, value]) => `${name}=${labels.get(String((value as { Ref?: string }).Ref)) ?? JSON.stringify(value)}`);
        const readable = allowedPairs(synth.json, roleOf(fn.name), labels)
          .filter((pair) => pair.startsWith('secretsmanager:GetSecretValue '))
          .map((pair) => pair.slice('secretsmanager:GetSecretValue '.length));
        return [fn.name, { named, readable, extension: layers.some((arn) => /:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:/.test(arn)) }];
      }),
    );
    // The handlers read the unsubscribe key by that variable, through the extension's local port (shared/environment.ts readSecret).
    const reader = { named: ['UNSUBSCRIBE_SECRET_ARN=secret'], readable: ['<secret>'], extension: true };
    const none = { named: [], readable: [], extension: false };
    expect(secretsByFunction).toEqual({ campaigns: reader, nightly: reader, unsubscribe: reader, 'advisor-task': reader, 'ses-events': none, forget: none });
    for (const [name, secrets] of Object.entries(secretsByFunction)) {
      expect(secrets.extension, name).toBe(secrets.named.length > 0);
      expect(secrets.readable.map((r) => r.replace(/^<|>$/g, '')).sort(), name).toEqual(secrets.named.map((n) => n.split('=')[1]).sort());
    }
  });

  it('configures Powertools in every function: its own service, the stack\'s metrics namespace, INFO logs', () => {
    for (const fn of synth.stack.functions) {
      expect(functionEnvironment(fn.name), fn.name).toMatchObject({
        POWERTOOLS_SERVICE_NAME: `clientele-${fn.name}`,
        POWERTOOLS_METRICS_NAMESPACE: 'Clientele/Clientele-prod',
        POWERTOOLS_LOG_LEVEL: 'INFO',
      });
    }
  });

  it('lets the unsubscribe function reload its keys a minute after a rotation: its secrets extension caches for 60 s', () => {
    expect(functionEnvironment('unsubscribe').SECRETS_MANAGER_TTL).toBe('60');
  });

  it('hands every function a CLIENTELE_CONFIG whose tableName() is the deployed table and whose region is the stack\'s', () => {
    const deployedNames = Object.fromEntries(
      (Object.keys(TABLES) as TableId[]).map((id) => [id, synth.json.Resources[logicalId(synth.stack.storage.tables[id])]?.Properties?.TableName]),
    );
    for (const fn of synth.stack.functions) {
      const config = parseConfig(JSON.parse(functionEnvironment(fn.name).CLIENTELE_CONFIG ?? ''));
      expect(tableNames(config), fn.name).toEqual(deployedNames);
      expect(config.timeZone).toBe(TIME_ZONE);
      expect(config.brandName).toBe('Maison Test');
      expect(config.endpoints).toEqual({ region: 'us-east-1' });
      expect(config.storage.exportsBucket).toBe(`deployed-${logicalId(synth.stack.storage.bucket).toLowerCase()}`);
    }
  });
});

describe('schedules', () => {
  it('starts the nightly state machine at 04:00 and the campaign sender hourly, both in the brand time zone', () => {
    const schedules = resourcesOf('AWS::Scheduler::Schedule').map(([, s]) => s.Properties);
    expect(schedules).toHaveLength(2);
    const nightly = schedules.find((s) => s.ScheduleExpression === 'cron(0 4 * * ? *)');
    const hourly = schedules.find((s) => s.ScheduleExpression === 'cron(0 * * * ? *)');
    expect(nightly?.ScheduleExpressionTimezone).toBe(TIME_ZONE);
    expect(hourly?.ScheduleExpressionTimezone).toBe(TIME_ZONE);
    expect(nightly?.Target).toMatchObject({ Arn: { Ref: logicalId(synth.stack.nightlyPipeline.stateMachine) } });
    expect(hourly?.Target).toMatchObject({ Arn: { 'Fn::GetAtt': [logicalId(synth.stack.campaignSender.sender.fn), 'Arn'] } });
  });

  it('starts the night at an hour every time zone has every day: the scheduler skips one a spring-forward day lacks', () => {
    // Zones whose clocks change at 00:00, 01:00, 02:00, 02:30 (Lord Howe), 03:00 (eastern Europe) or in the evening (Nuuk).
    const zones = ['Europe/Paris', 'Europe/London', 'America/New_York', 'Europe/Athens', 'Europe/Helsinki', 'Australia/Lord_Howe', 'Pacific/Auckland', 'Antarctica/Troll', 'America/Santiago', 'America/Havana', 'Africa/Cairo', 'Asia/Jerusalem', 'America/Nuuk', 'Atlantic/Azores', 'Asia/Shanghai'];
    const hour = Number(NIGHTLY_CRON.hour);
    for (const timeZone of zones) {
      const format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
      const days = new Set<string>();
      const daysWithTheHour = new Set<string>();
      // Every quarter of an hour of 2026: the local days, and those on which the schedule's time occurs.
      for (let t = Date.UTC(2026, 0, 2); t < Date.UTC(2026, 11, 30); t += 15 * 60_000) {
        const parts = Object.fromEntries(format.formatToParts(t).map((p) => [p.type, p.value]));
        const day = `${parts.year}-${parts.month}-${parts.day}`;
        days.add(day);
        if (Number(parts.hour) === hour && parts.minute === '00') daysWithTheHour.add(day);
      }
      // The first and last days are cut by the range.
      expect([...days].slice(1, -1).filter((day) => !daysWithTheHour.has(day)), timeZone).toEqual([]);
    }
  });

  it('hands each run the time it was scheduled for, which decides its night or hour however late it starts', () => {
    const schedules = resourcesOf('AWS::Scheduler::Schedule').map(([, s]) => s.Properties);
    const inputOf = (cron: string) => (schedules.find((s) => s.ScheduleExpression === cron)?.Target as { Input: string }).Input;
    const placeholder = '<aws.scheduler.scheduled-time>';
    expect(JSON.parse(inputOf('cron(0 4 * * ? *)'))).toEqual({ trigger: 'schedule', scheduledTime: placeholder });
    expect(JSON.parse(inputOf('cron(0 * * * ? *)'))).toEqual({ trigger: 'schedule', at: placeholder });
    // The scheduler fills in the 04:00 New York time of 2026-11-24, in UTC; the state machine passes
    // the input on; the nightly function reads it days later and still tiers the night of the 23rd.
    const request = parseNightlyEvent(JSON.parse(inputOf('cron(0 4 * * ? *)').replace(placeholder, '2026-11-24T09:00:00Z')));
    expect(request.phase).toBe('single');
    if (request.phase === 'single') expect(runDateOf(request, { timeZone: TIME_ZONE }, Date.parse('2026-11-27T12:00:00Z'))).toBe('2026-11-23');
  });

  it('retries each target and sends what still fails to a dead-letter queue', () => {
    for (const [, schedule] of resourcesOf('AWS::Scheduler::Schedule')) {
      const target = schedule.Properties.Target as Record<string, { MaximumRetryAttempts?: number; Arn?: unknown }>;
      expect(target.RetryPolicy?.MaximumRetryAttempts).toBeGreaterThan(0);
      expect(JSON.stringify(target.DeadLetterConfig?.Arn)).toMatch(/ScheduleDeadLetters/);
      expect(schedule.Properties.State).toBe('ENABLED');
    }
  });

  it('can deploy the schedules disabled, without the alarm on nights that never come', () => {
    const disabled = synthesize({ schedulesEnabled: false }, { 'aws:cdk:bundling-stacks': [] });
    try {
      for (const [, s] of Object.entries(disabled.json.Resources).filter(([, r]) => r.Type === 'AWS::Scheduler::Schedule')) {
        expect(s.Properties?.State).toBe('DISABLED');
      }
      const alarms = Object.values(disabled.json.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
      expect(alarms.filter((a) => a.Properties?.MetricName === METRIC_NAMES.nightlyCompleted)).toEqual([]);
    } finally {
      disabled.cleanup();
    }
  });
});

describe('hourly campaign run, late or lost', () => {
  const hourlyTarget = () =>
    resourcesOf('AWS::Scheduler::Schedule').map(([, s]) => s.Properties).find((s) => s.ScheduleExpression === 'cron(0 * * * ? *)')?.Target as {
      Input: string;
      RetryPolicy: { MaximumEventAgeInSeconds: number };
    };
  const maxDelaySeconds = SCHEDULED_RUN_MAX_DELAY_MINUTES * 60;

  it('drops an hourly invocation once it is 50 minutes old, at the scheduler and in Lambda\'s queue, recording it in the on-failure queue', () => {
    expect(hourlyTarget().RetryPolicy.MaximumEventAgeInSeconds).toBe(maxDelaySeconds);
    const sender = synth.stack.campaignSender;
    expect(resourcesOf('AWS::Lambda::EventInvokeConfig').map(([, c]) => c.Properties)).toContainEqual({
      FunctionName: { Ref: logicalId(sender.sender.fn) },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 0,
      // Lambda's default is 6 hours: a throttled run would start hours late.
      MaximumEventAgeInSeconds: maxDelaySeconds,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(sender.invocationFailures), 'Arn'] } } },
    });
    synth.template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 14 * 86_400, SqsManagedSseEnabled: true });
  });

  it('hands the function the event its handler reads as the schedule\'s, refused once its hour is more than 50 minutes past', () => {
    const hour = '2026-12-05T06:00:00Z';
    const event = campaignsEventSchema.parse(JSON.parse(hourlyTarget().Input.replace('<aws.scheduler.scheduled-time>', hour)));
    expect(event).toEqual({ trigger: 'schedule', at: hour });
    expect(lateScheduledRunRefusal(event, Date.parse(hour) + maxDelaySeconds * 1000)).toBeUndefined();
    expect(lateScheduledRunRefusal(event, Date.parse(hour) + maxDelaySeconds * 1000 + 60_000)).toMatch(/51 minutes after its hour/);
  });

  it('alarms when Lambda throttles the campaigns function, drops one of its invocations, or records one in its on-failure queue', () => {
    const fn = { Name: 'FunctionName', Value: { Ref: logicalId(synth.stack.campaignSender.sender.fn) } };
    const alarms = resourcesOf('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    for (const metric of ['Throttles', 'AsyncEventsDropped']) {
      expect(alarms.filter((a) => a.Namespace === 'AWS/Lambda' && a.MetricName === metric)).toEqual([
        expect.objectContaining({ Dimensions: [fn], Statistic: 'Sum', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' }),
      ]);
    }
    const queue = { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(synth.stack.campaignSender.invocationFailures), 'QueueName'] } };
    expect(alarms.filter((a) => JSON.stringify(a.Dimensions) === JSON.stringify([queue]))).toEqual([
      expect.objectContaining({
        AlarmName: 'Clientele-prod CampaignInvocations dead letters',
        AlarmDescription: expect.stringContaining('EventAgeExceeded'),
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      }),
    ]);
  });
});

describe('nightly state machine', () => {
  it('runs the job, then the report, and fails visibly', () => {
    const [[, machine]] = resourcesOf('AWS::StepFunctions::StateMachine') as [[string, Resource]];
    const definition = nightlyDefinition(synth);
    expect(definition.StartAt).toBe('Run nightly job');
    // One shard (the default): the whole night in one task, no Distributed Map.
    expect(Object.values(definition.States).filter((state) => state.Type === 'Map')).toEqual([]);
    const { States: states } = definition;
    expect(mainPath(definition)).toEqual(['Run nightly job', 'Report']);
    expect(Object.keys(states).sort()).toEqual(['Nightly run failed', 'Report', 'Run nightly job']);
    // The execution input as it is: the schedule's scheduledTime, or a backfill's runDate.
    expect(states['Run nightly job']).toMatchObject({ Type: 'Task', Next: 'Report', Parameters: { 'Payload.$': '$' } });
    expect(states.Report).toMatchObject({ Type: 'Pass', End: true });
    expect(states['Nightly run failed']).toMatchObject({ Type: 'Fail' });
    expect(states['Run nightly job']?.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Nightly run failed' }]);
    // A Lambda service error may hide an invocation that still runs: its retry, finding the night
    // held (NightBusyError), is retried until the first has finished or its 16-minute lease has ended.
    expect(states['Run nightly job']?.Retry).toContainEqual(expect.objectContaining({ ErrorEquals: expect.arrayContaining(['Lambda.ServiceException', 'Lambda.SdkClientException']), MaxAttempts: 6 }));
    expect(states['Run nightly job']?.Retry).toContainEqual({ ErrorEquals: ['NightBusyError'], IntervalSeconds: 120, MaxAttempts: 4, BackoffRate: 2 });
    expect(machine.Properties).toMatchObject({
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
    });
  });

  it('reports from the night\'s result the function returns (small: the summary itself is stored), where its summary is and its counts', () => {
    const result = nightResultOf(summary(RUN_DATE, profiles(20)));
    expect(reportAfter(nightlyDefinition(synth), 'Run nightly job', result)).toEqual(expectedReport(result));
  });

  it('may invoke only the nightly function', () => {
    const role = logicalId(synth.stack.nightlyPipeline.stateMachine.role);
    const invokes = allowedPairs(synth.json, role, labels).filter((p) => p.startsWith('lambda:'));
    expect(invokes).toEqual(['lambda:InvokeFunction <function:nightly>', 'lambda:InvokeFunction <function:nightly>:*']);
    // The only '*' resources: X-Ray and log delivery, which have no resource-level permissions.
    const star = allowedPairs(synth.json, role, labels).filter((p) => p.endsWith(' *'));
    expect(star.every((p) => /^(xray|logs):/.test(p))).toBe(true);
  });
});

describe('sharded nightly state machine (-c clientele:nightlyShards=4)', () => {
  let sharded: Synthesized;
  let shardedLabels: Map<string, string>;
  let definition: Definition;
  beforeAll(() => {
    // No bundling: the wiring is what is tested here (cdk-nag still runs in app.synth()).
    sharded = synthesize({}, { 'clientele:nightlyShards': '4', 'aws:cdk:bundling-stacks': [] });
    shardedLabels = labelsOf(sharded);
    definition = nightlyDefinition(sharded);
  }, 240_000);
  afterAll(() => sharded?.cleanup());

  it('prepares, repartitions the shares, measures the shards, combines, writes the shards, finishes, then reports', () => {
    expect(mainPath(definition)).toEqual(['Prepare night', 'Repartition shares', 'Measure shards', 'Combine measures', 'Write shards', 'Finish night', 'Report']);
    const { States: states } = definition;
    expect(states['Prepare night']).toMatchObject({
      Type: 'Task',
      Parameters: { Payload: { phase: 'prepare', shards: 4, 'request.$': '$' } },
      ResultPath: '$.run',
    });
    expect(states['Combine measures']).toMatchObject({ Parameters: { Payload: { phase: 'combine', 'runDate.$': '$.run.runDate', 'runId.$': '$.run.runId', shards: 4 } } });
    // Finish leaves the summary where the single task does, for the report.
    expect(states['Finish night']).toMatchObject({
      Parameters: { Payload: { phase: 'finish', 'runDate.$': '$.run.runDate', 'runId.$': '$.run.runId', 'startedAt.$': '$.run.startedAt', shards: 4 } },
      ResultPath: '$.nightly',
    });
    for (const task of ['Prepare night', 'Repartition shares', 'Measure shards', 'Combine measures', 'Write shards', 'Finish night']) {
      expect(states[task]?.Catch, task).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Nightly run failed' }]);
    }
  });

  it('reports from the night\'s result finish returns, as the single task\'s', () => {
    const result = nightResultOf(summary(RUN_DATE, profiles(20), { shards: 4 }));
    expect(reportAfter(definition, 'Finish night', result)).toEqual(expectedReport(result));
  });

  it('runs each reader and shard as a child execution of a Distributed Map, all at once (up to 8 readers, the 4 shards), none tolerated to fail', () => {
    // Prepare's readers (4, or up to 8 when 4 could not share the files evenly) and shards.
    expect(definition.States['Prepare night']).toMatchObject({ ResultSelector: { 'shards.$': '$.Payload.shards', 'readers.$': '$.Payload.readers' } });
    for (const [map, phase, task, items] of [
      ['Repartition shares', 'repartition', 'Repartition share', { MaxConcurrency: 8, ItemsPath: '$.run.readers', ItemSelector: { phase: 'repartition', 'runDate.$': '$.run.runDate', 'runId.$': '$.run.runId', shards: 4, 'reader.$': '$$.Map.Item.Value' } }],
      ['Measure shards', 'measure', 'Measure shard', { MaxConcurrency: 4, ItemsPath: '$.run.shards', ItemSelector: { phase: 'measure', 'runDate.$': '$.run.runDate', 'runId.$': '$.run.runId', 'shard.$': '$$.Map.Item.Value' } }],
      ['Write shards', 'write', 'Write shard', { MaxConcurrency: 4, ItemsPath: '$.run.shards', ItemSelector: { phase: 'write', 'runDate.$': '$.run.runDate', 'runId.$': '$.run.runId', 'shard.$': '$$.Map.Item.Value' } }],
    ] as const) {
      const state = definition.States[map] as Record<string, unknown> & { ItemProcessor: Definition & { ProcessorConfig: unknown } };
      expect(state).toMatchObject({ Type: 'Map', ...items, ResultPath: null });
      expect(Object.keys(state.ItemSelector as object).sort(), phase).toEqual(Object.keys(items.ItemSelector).sort());
      expect(state.ToleratedFailurePercentage ?? 0).toBe(0);
      expect(state.ToleratedFailureCount ?? 0).toBe(0);
      // STANDARD children: a shard may take up to Lambda's 15 minutes (EXPRESS children stop at 5).
      expect(state.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
      expect(state.ItemProcessor.StartAt).toBe(task);
      expect(state.ItemProcessor.States[task]).toMatchObject({ Type: 'Task', End: true, Parameters: { 'Payload.$': '$' } });
      expect((state.ItemProcessor.States[task]?.Retry as unknown[]).length).toBeGreaterThan(0);
      if (phase === 'write') expect(state.ItemProcessor.States[task]?.Retry).toContainEqual(expect.objectContaining({ ErrorEquals: ['NightBusyError'] }));
    }
  });

  it('lets the state machine invoke the nightly function only, and start, watch and redrive only its own executions', () => {
    const pairs = allowedPairs(sharded.json, logicalId(sharded.stack.nightlyPipeline.stateMachine.role), shardedLabels);
    expect(pairs.filter((p) => p.startsWith('lambda:'))).toEqual(['lambda:InvokeFunction <function:nightly>', 'lambda:InvokeFunction <function:nightly>:*']);
    // The state machine's name, cut from its ARN: its own executions and map runs, no other machine's.
    const name = JSON.stringify({ 'Fn::Select': [6, { 'Fn::Split': [':', { Ref: logicalId(sharded.stack.nightlyPipeline.stateMachine) }] }] });
    const execution = `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${name}`;
    expect(pairs.filter((p) => p.startsWith('states:'))).toEqual([
      `states:DescribeExecution ${execution}:*`,
      `states:RedriveExecution ${execution}/MeasureShards:*`,
      `states:RedriveExecution ${execution}/RepartitionShares:*`,
      `states:RedriveExecution ${execution}/WriteShards:*`,
      'states:StartExecution <state-machine>',
      `states:StopExecution ${execution}:*`,
    ]);
  });

  it('lets the nightly function read and write its work prefix, on top of what a single run needs', () => {
    const role = logicalId(sharded.stack.nightlyPipeline.nightly.role);
    expect(allowedPairs(sharded.json, role, shardedLabels)).toEqual(
      expectedPairs(...NIGHTLY_SINGLE_RUN, ...sendsAs('mail.example.com'), 's3:GetObject <bucket>/reports/work/nightly/*', 's3:PutObject <bucket>/reports/work/nightly/*'),
    );
    const lists = statementsFor(sharded.json, role, 's3:ListBucket').map((s) => s.Condition);
    expect(lists).toEqual(
      expect.arrayContaining([{ StringLike: { 's3:prefix': ['exports/*'] } }, { StringLike: { 's3:prefix': ['reports/work/nightly/*'] } }]),
    );
  });

  it('passes cdk-nag with the Distributed Map grants acknowledged', () => {
    const result = new AwsSolutionsChecks(sharded.app).validateScope(sharded.app);
    expect(result.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
  });
});

describe('least privilege', () => {
  it('nightly: reads exports, writes its reports and the catalogue\'s category affinity, reads its campaign results and the send ledger, reads and writes profiles, tier history and runs, keeps the advisors roster, mails the team and the advisors (claimed in the ledger), gives introduction tasks signed with the unsubscribe key, erases an erased client again', () => {
    const pairs = allowedPairs(synth.json, roleOf('nightly'), labels);
    expect(pairs).toEqual(expectedPairs(...NIGHTLY_SINGLE_RUN, ...sendsAs('maison.example')));
    const lists = statementsFor(synth.json, roleOf('nightly'), 's3:ListBucket').map((s) => s.Condition);
    expect(lists).toEqual([
      { StringLike: { 's3:prefix': ['exports/*'] } },
      // The catalogue's before-image: a first night with products finds none, a 404, not a 403.
      { StringLike: { 's3:prefix': ['reports/catalog/products-before.json'] } },
      // The cycle history: a first night without one is a 404, not a 403.
      { StringLike: { 's3:prefix': ['reports/catalog/cycle-history.json'] } },
      // The stored roster, read when tonight's is not used: a first night without one is a 404, not a 403.
      { StringLike: { 's3:prefix': ['reports/catalog/advisors.json'] } },
      { StringLike: { 's3:prefix': ['reports/catalog/advisor-pairs.json'] } },
      // The address book: a base without one yet is a 404, not a 403.
      { StringLike: { 's3:prefix': ['reports/state/address-book.json'] } },
      // The attempts of a night are listed to find their before-images.
      { StringLike: { 's3:prefix': ['reports/nightly/*'] } },
      { StringLike: { 's3:prefix': ['reports/catalog/products.json'] } },
      // A night without campaign results is then a 404 the report handles, not a 403.
      { StringLike: { 's3:prefix': ['reports/nightly/*/campaign-results.json'] } },
      { StringLike: { 's3:prefix': ['reports/nightly/*/summary.json'] } },
      { StringLike: { 's3:prefix': ['reports/nightly/*/report.html'] } },
    ]);
    expect(statementsFor(synth.json, roleOf('nightly'), 'ses:SendEmail')).toHaveLength(1);
    const [send] = statementsFor(synth.json, roleOf('nightly'), 'ses:SendEmail');
    expect(send?.Condition).toEqual({ StringEquals: { 'ses:FromAddress': 'hello@mail.maison.example' } });
  });

  it('forget: finds the client\'s profiles and suppression entries, records the erasure, erases their traces in every table that holds them, their former addresses in the address book and their place in the advisors\' book pairs, reads the roster, nothing else', () => {
    expect(allowedPairs(synth.json, roleOf('forget'), labels)).toEqual(
      expectedPairs(
        ...ownLogs('forget'),
        ...tableRead('profiles'),
        ...tableRead('suppression'),
        ...tableWrite('suppression'),
        ...ERASE_TRACES,
        's3:ListBucket <bucket>',
        's3:GetObject <bucket>/reports/state/address-book.json',
        's3:PutObject <bucket>/reports/state/address-book.json',
        // The stored roster: every advisor's ledger partition, a former advisor's too, may name the client.
        's3:GetObject <bucket>/reports/catalog/advisors.json',
        // The advisors' book pairs of the last digests name the client beside their advisor.
        's3:GetObject <bucket>/reports/catalog/advisor-pairs.json',
        's3:PutObject <bucket>/reports/catalog/advisor-pairs.json',
        // The address book's lease, which a night's finish takes too (address-book.ts editAddressBook).
        'dynamodb:GetItem <table:runs>',
        'dynamodb:UpdateItem <table:runs>',
      ),
    );
    expect(statementsFor(synth.json, roleOf('forget'), 's3:ListBucket').map((s) => s.Condition)).toEqual([{ StringLike: { 's3:prefix': ['reports/state/address-book.json'] } }, { StringLike: { 's3:prefix': ['reports/catalog/advisors.json'] } }, { StringLike: { 's3:prefix': ['reports/catalog/advisor-pairs.json'] } }]);
    const runsTable = statementsFor(synth.json, roleOf('forget'), 'dynamodb:UpdateItem').filter((s) => /runs/i.test(JSON.stringify(s.Resource)));
    expect(runsTable.map((s) => s.Condition)).toEqual([{ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['address-book-lease'] } }]);
  });

  it('unsubscribe: reads profiles and its secret, reads, writes and deletes in the suppression list', () => {
    expect(allowedPairs(synth.json, roleOf('unsubscribe'), labels)).toEqual(
      [
        ...ownLogs('unsubscribe'),
        ...tableRead('profiles'),
        ...tableRead('suppression'),
        ...tableWrite('suppression'),
        // What it stored while the client's forget ran (recordUnsubscribe): only the hash stays.
        'dynamodb:DeleteItem <table:suppression>',
        'secretsmanager:DescribeSecret <secret>',
        'secretsmanager:GetSecretValue <secret>',
      ].sort(),
    );
  });

  it('advisor-task: reads its secret, reads and writes the advisors\' tasks, reads a send-ledger entry, nothing else', () => {
    expect(allowedPairs(synth.json, roleOf('advisor-task'), labels)).toEqual(
      [
        ...ownLogs('advisor-task'),
        ...tableRead('advisorTasks'),
        ...tableWrite('advisorTasks'),
        // The occasion's entry: a task whose occasion ended without it is closed, not answered.
        'dynamodb:GetItem <table:sendLedger>',
        'secretsmanager:DescribeSecret <secret>',
        'secretsmanager:GetSecretValue <secret>',
      ].sort(),
    );
  });

  it('ses-events: reads (the erasures), writes and deletes in the suppression list, and its dead letters, nothing else', () => {
    expect(allowedPairs(synth.json, roleOf('ses-events'), labels)).toEqual(
      [...ownLogs('ses-events'), ...tableRead('suppression'), ...tableWrite('suppression'), 'dynamodb:DeleteItem <table:suppression>', 'sqs:SendMessage <dlq:SesEventsDeadLetters>'].sort(),
    );
  });

  it('the nightly and campaigns functions update only erasure entries of the suppression table (their keys begin with erased:)', () => {
    for (const name of ['nightly', 'campaigns']) {
      const updates = statementsFor(synth.json, roleOf(name), 'dynamodb:UpdateItem').filter((s) => /suppression/i.test(JSON.stringify(s.Resource)));
      expect(updates.map((s) => s.Condition), name).toEqual([{ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['erased:*'] } }]);
    }
  });

  it('campaigns: merges incremental exports, reads the catalogue, its category affinity, the address book and suppression, claims in the ledger, sends as its identity, erases an erased client again (her place in the advisors\' book pairs included)', () => {
    const pairs = allowedPairs(synth.json, roleOf('campaigns'), labels);
    const ses = pairs.filter((p) => p.startsWith('ses:'));
    expect(pairs.filter((p) => !p.startsWith('ses:'))).toEqual(
      expectedPairs(
        ...ownLogs('campaigns'),
        's3:ListBucket <bucket>',
        's3:GetObject <bucket>/exports/incremental/*',
        // The coupon pools the brand uploads, one CSV per campaign; their codes claimed in the coupon-codes table.
        's3:GetObject <bucket>/coupon-pools/*',
        's3:GetObject <bucket>/reports/catalog/products.json',
        // The nightly run's category affinity: cross-category picks.
        's3:GetObject <bucket>/reports/catalog/category-affinity.json',
        // The advisors roster: personal notes in the advisor's name, their tasks first.
        's3:GetObject <bucket>/reports/catalog/advisors.json',
        // The address book: a Shopify increment's order under a client's former address.
        's3:GetObject <bucket>/reports/state/address-book.json',
        ...tableRead('advisorTasks'),
        ...tableWrite('advisorTasks'),
        ...tableRead('couponCodes'),
        ...tableWrite('couponCodes'),
        ...tableRead('profiles'),
        ...tableWrite('profiles'),
        ...tableRead('runs'),
        ...tableWrite('runs'),
        // The night writers' due-index floors, deleted by the first hour after them (the condition below).
        'dynamodb:DeleteItem <table:runs>',
        ...tableRead('sendLedger'),
        ...tableWrite('sendLedger'),
        ...tableRead('suppression'),
        'secretsmanager:DescribeSecret <secret>',
        'secretsmanager:GetSecretValue <secret>',
        // Lambda records a failed or dropped invocation in its on-failure queue, as the function.
        'sqs:SendMessage <dlq:InvocationFailures>',
        // A due client on the erasure list is erased again, her id taken out of the advisors' book pairs too.
        ...ERASE_TRACES,
        's3:GetObject <bucket>/reports/catalog/advisor-pairs.json',
        's3:PutObject <bucket>/reports/catalog/advisor-pairs.json',
      ),
    );
    const lists = statementsFor(synth.json, roleOf('campaigns'), 's3:ListBucket').map((s) => s.Condition);
    expect(lists).toEqual(
      expect.arrayContaining([
        { StringLike: { 's3:prefix': ['exports/incremental/*'] } },
        // A pool not uploaded yet is a 404 (no code: the emails wait), not a 403.
        { StringLike: { 's3:prefix': ['coupon-pools/*'] } },
        // Listing the exact key turns a catalogue not written yet into a 404, not a 403.
        { StringLike: { 's3:prefix': ['reports/catalog/products.json'] } },
        // The same for the category affinity, before the first night writes it.
        { StringLike: { 's3:prefix': ['reports/catalog/category-affinity.json'] } },
        // And for the address book, before a Shopify night writes it.
        { StringLike: { 's3:prefix': ['reports/state/address-book.json'] } },
        // And for the book pairs, before the first digests write them.
        { StringLike: { 's3:prefix': ['reports/catalog/advisor-pairs.json'] } },
      ]),
    );
    // Of the runs table, it deletes the floors only.
    const runsDeletes = statementsFor(synth.json, roleOf('campaigns'), 'dynamodb:DeleteItem').filter((s) => /runs/i.test(JSON.stringify(s.Resource)));
    expect(runsDeletes.map((s) => s.Condition)).toEqual([{ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['due-index-floor'] } }]);
    expect(ses).toEqual([
      // The send quota and sending status, read before each run: an account-level action, no resource type.
      'ses:GetAccount *',
      'ses:SendEmail arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:configuration-set/<configuration-set>',
      'ses:SendEmail arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/maison.example',
    ]);
    const [send] = statementsFor(synth.json, roleOf('campaigns'), 'ses:SendEmail');
    expect(send?.Condition).toEqual({ StringEquals: { 'ses:FromAddress': 'hello@mail.maison.example' } });
  });

  it('grants no function a wildcard action or a bare "*" resource (but the one action that has no resource), and no AWS managed policy', () => {
    // Actions IAM only grants on "*": they name no resource.
    const accountLevel = new Set(['campaigns: ses:GetAccount *']);
    for (const fn of synth.stack.functions) {
      for (const pair of allowedPairs(synth.json, roleOf(fn.name), labels)) {
        const [action, resource] = pair.split(' ');
        expect(action, `${fn.name}: ${pair}`).not.toContain('*');
        if (!accountLevel.has(`${fn.name}: ${pair}`)) expect(resource, `${fn.name}: ${pair}`).not.toBe('*');
      }
    }
    for (const [, role] of resourcesOf('AWS::IAM::Role')) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });
});

describe('storage', () => {
  it('builds every table from TABLES: keys, attribute types and indexes as the code and the emulator use them', () => {
    const tables = resourcesOf('AWS::DynamoDB::Table');
    expect(tables).toHaveLength(Object.keys(TABLES).length);
    for (const id of Object.keys(TABLES) as TableId[]) {
      const resource = synth.json.Resources[logicalId(synth.stack.storage.tables[id])] as Resource;
      const name = `Clientele-prod-${TABLES[id].suffix}`;
      const expected = createTableInput(TABLES[id], name);
      const props = resource.Properties;
      expect(props.TableName).toBe(name);
      expect(props.KeySchema).toEqual(expected.KeySchema);
      expect(props.AttributeDefinitions).toEqual(expect.arrayContaining(expected.AttributeDefinitions ?? []));
      expect((props.AttributeDefinitions as unknown[]).length).toBe(expected.AttributeDefinitions?.length);
      const indexes = ((props.GlobalSecondaryIndexes as Record<string, unknown>[] | undefined) ?? []).map((i) => ({
        IndexName: i.IndexName,
        KeySchema: i.KeySchema,
        Projection: i.Projection,
      }));
      expect(indexes).toEqual(expected.GlobalSecondaryIndexes ?? []);
      expect(props.BillingMode).toBe('PAY_PER_REQUEST');
      expect(props.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(props.DeletionProtectionEnabled, `${id} deletion protection in prod`).toBe(true);
      expect(resource.DeletionPolicy).toBe('Retain');
    }
  });

  it('expires send-ledger items on their TTL attribute, and only there', () => {
    for (const id of Object.keys(TABLES) as TableId[]) {
      const props = (synth.json.Resources[logicalId(synth.stack.storage.tables[id])] as Resource).Properties;
      const ttl = (TABLES[id] as { timeToLiveAttribute?: string }).timeToLiveAttribute;
      expect(props.TimeToLiveSpecification).toEqual(ttl ? { AttributeName: ttl, Enabled: true } : undefined);
    }
    expect(TABLES.sendLedger.timeToLiveAttribute).toBe('expiresAt');
  });

  it('keeps the data bucket private, encrypted, TLS-only, logged, and expires old exports and rejects', () => {
    const bucket = synth.json.Resources[logicalId(synth.stack.storage.bucket)] as Resource;
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: { DestinationBucketName: { Ref: logicalId(synth.stack.storage.accessLogs) } },
    });
    const rules = (bucket.Properties.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Id: 'ExpireOldExports', Prefix: 'exports/', ExpirationInDays: 90 }),
        expect.objectContaining({ Id: 'ExpireRejects', Prefix: 'reports/', ExpirationInDays: 30, TagFilters: [{ Key: 'retention', Value: 'rejects' }] }),
        expect.objectContaining({ Id: 'ExpireWork', Prefix: 'reports/work/', ExpirationInDays: 7 }),
      ]),
    );
    synth.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId(synth.stack.storage.bucket) },
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });
});

describe('feedback', () => {
  it('feeds SES bounces, complaints and deliveries of the configuration set to the ses-events function', () => {
    // Deliveries store nothing: the function logs them, which is how a maybe-sent email is settled (README).
    synth.template.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
      EventDestination: {
        Enabled: true,
        MatchingEventTypes: ['bounce', 'complaint', 'delivery'],
        SnsDestination: { TopicARN: { Ref: logicalId(synth.stack.feedback.eventsTopic) } },
      },
    });
    expect(decideSesEvent({ eventType: 'Delivery', delivery: {}, mail: { tags: { campaign: ['welcome'], customerId: ['C1'] } } }, 0)).toMatchObject({
      kind: 'delivered',
      customerId: 'C1',
      campaign: 'welcome',
    });
    synth.template.hasOutput('SesEventsFunctionName', { Value: { Ref: logicalId(synth.stack.feedback.sesEvents.fn) } });
    synth.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      TopicArn: { Ref: logicalId(synth.stack.feedback.eventsTopic) },
      Endpoint: { 'Fn::GetAtt': [logicalId(synth.stack.feedback.sesEvents.fn), 'Arn'] },
    });
  });

  it('names the ses-events function\'s dead-letter queue in an output, for the replay docs/deploy.md gives (SQS\'s redrive cannot reach a Lambda)', () => {
    const queue = logicalId(synth.stack.feedback.sesEventsDeadLetters);
    synth.template.hasOutput('SesEventsDeadLettersUrl', { Value: { Ref: queue } });
    synth.template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: Match.absent(),
      DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [queue, 'Arn'] } },
      Role: { 'Fn::GetAtt': [logicalId(synth.stack.feedback.sesEvents.role), 'Arn'] },
    });
    const alarm = resourcesOf('AWS::CloudWatch::Alarm').find(([, a]) => a.Properties.AlarmName === 'Clientele-prod SesEvents dead letters');
    expect(alarm?.[1].Properties.AlarmDescription).toContain('replay the messages into the function (docs/deploy.md)');
  });

  it('publishes the unsubscribe function at a public URL (the token is the credential)', () => {
    synth.template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      TargetFunctionArn: { 'Fn::GetAtt': [logicalId(synth.stack.feedback.unsubscribe.fn), 'Arn'] },
    });
  });
});

describe('erasure', () => {
  it('gives the operator one erasure command, in the ForgetFunctionName output and the README, that AWS CLI v2 runs as written', () => {
    // CLI v2 reads --payload as base64 unless told it is raw: without the flag the call fails and erases no one.
    expect(FORGET_COMMAND).toMatch(/^aws lambda invoke --function-name <ForgetFunctionName> --cli-binary-format raw-in-base64-out --cli-read-timeout 300 --payload '\{/);
    // The CLI waits for the answer as long as the function may run (by default it calls again after 60 s).
    const forget = resourcesOf('AWS::Lambda::Function').find(([id]) => id === logicalId(synth.stack.erasure.forget.fn));
    expect(forget?.[1].Properties.Timeout).toBe(300);
    const outputs = synth.template.findOutputs('ForgetFunctionName') as Record<string, { Value: unknown; Description?: string }>;
    expect(outputs.ForgetFunctionName).toMatchObject({ Value: { Ref: logicalId(synth.stack.erasure.forget.fn) } });
    expect(outputs.ForgetFunctionName?.Description).toContain(FORGET_COMMAND);
    const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
    expect(readme.split('\n')).toContain(FORGET_COMMAND);
    // Every other invoke with a raw JSON payload the docs give carries the flag too, on however many lines.
    for (const file of ['README.md', join('docs', 'deploy.md')]) {
      const text = readFileSync(join(PROJECT_ROOT, file), 'utf8').replace(/\\\n/g, ' ').replace(/\s+/g, ' ');
      const invokes = [...text.matchAll(/aws lambda invoke ((?:(?!aws lambda invoke).)*?)--payload '/g)].map((m) => m[0]);
      expect(invokes.length, file).toBeGreaterThan(0);
      for (const invoke of invokes) expect(invoke, file).toContain('--cli-binary-format raw-in-base64-out');
    }
  });
});

describe('alarms', () => {
  const alarms = () => resourcesOf('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);

  it('lists every alarm on a log line in the operator\'s alarm table (docs/deploy.md), under the name the stack gives it', () => {
    const deployDoc = readFileSync(join(PROJECT_ROOT, 'docs', 'deploy.md'), 'utf8');
    const rows = deployDoc.split('\n').filter((line) => line.startsWith('| `<stack> '));
    for (const { alert } of [...Object.values(SENDER_ALERTS), ...Object.values(NIGHTLY_ALERTS), ...Object.values(FEEDBACK_ALERTS)]) {
      expect(rows.some((row) => row.startsWith(`| \`<stack> ${alert}\``)), alert).toBe(true);
      expect(alarms().some((a) => a.AlarmName === `${synth.stack.stackName} ${alert}`), alert).toBe(true);
    }
  });

  it('mails the alarms to alarmEmail, and warns at synth when nobody would receive them', () => {
    synth.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@maison.example' });
    expect(Annotations.fromStack(synth.stack).findWarning('*', Match.stringLikeRegexp('alarmEmail'))).toEqual([]);
    const unwatched = synthesize({ alarmEmail: undefined }, { 'aws:cdk:bundling-stacks': [] });
    try {
      expect(Object.values(unwatched.json.Resources).filter((r) => r.Type === 'AWS::SNS::Subscription' && r.Properties?.Protocol === 'email')).toEqual([]);
      const warnings = Annotations.fromStack(unwatched.stack).findWarning('*', Match.stringLikeRegexp('alarmEmail is not set'));
      expect(warnings).toHaveLength(1);
    } finally {
      unwatched.cleanup();
    }
  });

  it('alarms on every function\'s errors, every dead-letter queue and nightly failures', () => {
    const byMetric = (namespace: string, metric: string) => alarms().filter((a) => a.Namespace === namespace && a.MetricName === metric);
    expect(byMetric('AWS/Lambda', 'Errors')).toHaveLength(synth.stack.functions.length);
    const queues = byMetric('AWS/SQS', 'ApproximateNumberOfMessagesVisible');
    expect(queues).toHaveLength(4);
    for (const q of queues) expect(q).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    expect(byMetric('AWS/States', 'ExecutionsFailed')).toEqual([
      expect.objectContaining({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', Statistic: 'Sum' }),
    ]);
  });

  it('tells whoever a failed night wakes that it may have stopped mid-write, what to look at, and that a rerun ends where a clean night would', () => {
    const failed = alarms().find((a) => a.AlarmName === 'Clientele-prod nightly run failed');
    const description = String(failed?.AlarmDescription);
    // The same Fail state follows a refused export (nothing written) and a shard or a timeout mid-write (part written).
    expect(description).not.toMatch(/(^|\. )Nothing was written/);
    expect(description).toContain('Refused before any write');
    expect(description).toContain('part of the night may be written');
    // What `clientele status` prints for such a night (its text output; --json says "writing").
    expect(description).toContain(`"FAILURE: ${NIGHT_NOT_COMPLETED}"`);
    expect(description).toContain('a rerun writes only what is missing and ends where a clean night would');
    expect(description).toContain('Run or backfill a night');
    expect(description.length).toBeLessThanOrEqual(1024);
  });

  it('alarms when no night has completed for 28 hours (starts 23 to 25 h apart, 3 h to run), an hour without data counting as one without a night', () => {
    expect(synth.stack.nightlyPipeline.longestGapBetweenNights.toHours()).toBe(28);
    expect(alarms().filter((a) => a.MetricName === METRIC_NAMES.nightlyCompleted)).toEqual([
      expect.objectContaining({
        AlarmName: 'Clientele-prod no night completed',
        Namespace: 'Clientele/Clientele-prod',
        Dimensions: [{ Name: 'service', Value: 'clientele-nightly' }],
        Statistic: 'Sum',
        Period: 3600,
        EvaluationPeriods: 28,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
      }),
    ]);
    // Every other alarm reads no data as no traffic.
    const others = alarms().filter((a) => a.MetricName !== METRIC_NAMES.nightlyCompleted);
    expect(new Set(others.map((a) => a.TreatMissingData))).toEqual(new Set(['notBreaching']));
  });

  it('alarms on SES bounce and complaint rates at the configured thresholds', () => {
    expect(alarms().filter((a) => a.Namespace === 'AWS/SES')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ MetricName: 'Reputation.BounceRate', Threshold: 0.04, ComparisonOperator: 'GreaterThanThreshold' }),
        expect.objectContaining({ MetricName: 'Reputation.ComplaintRate', Threshold: 0.0008, ComparisonOperator: 'GreaterThanThreshold' }),
      ]),
    );
  });

  it('counts the sender\'s, the nightly run\'s and the feedback functions\' alert log lines (a quarantined export, an account that cannot send, a digest not sent, a failed unsubscribe) and alarms on the first one', () => {
    const logsOf = (fn: { logGroup: IConstruct }) => ({ Ref: logicalId(fn.logGroup) });
    const { feedback } = synth.stack;
    const namespace = `Clientele/${synth.stack.stackName}`;
    const filters = resourcesOf('AWS::Logs::MetricFilter').map(([, f]) => f.Properties);
    const counted = [
      ...Object.values(SENDER_ALERTS).map((alert) => ({ alert, logs: logsOf(synth.stack.campaignSender.sender) })),
      ...Object.values(NIGHTLY_ALERTS).map((alert) => ({ alert, logs: logsOf(synth.stack.nightlyPipeline.nightly) })),
      // Failures the functions answer with a page or skip (the invocation succeeds): Lambda's Errors never sees them.
      { alert: FEEDBACK_ALERTS.unsubscribeFailed, logs: logsOf(feedback.unsubscribe) },
      { alert: FEEDBACK_ALERTS.advisorTaskFailed, logs: logsOf(feedback.advisorTask) },
      { alert: FEEDBACK_ALERTS.sesFeedbackUnreadable, logs: logsOf(feedback.sesEvents) },
    ];
    expect(filters).toEqual(
      counted.map(({ alert, logs }) =>
        expect.objectContaining({
          LogGroupName: logs,
          FilterPattern: `{ $.alert = "${alert.alert}" }`,
          MetricTransformations: [expect.objectContaining({ MetricNamespace: namespace, MetricName: alert.metricName, MetricValue: '1' })],
        }),
      ),
    );
    for (const { alert } of counted) {
      expect(alarms().filter((a) => a.Namespace === namespace && a.MetricName === alert.metricName)).toEqual([
        expect.objectContaining({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', Statistic: 'Sum', Period: 3600, AlarmDescription: alert.description }),
      ]);
    }
  });

  it('alarms on the sender\'s unresolved sends, a business metric of its own', () => {
    expect(alarms().filter((a) => a.MetricName === METRIC_NAMES.unresolvedSends)).toEqual([
      expect.objectContaining({
        Namespace: 'Clientele/Clientele-prod',
        Dimensions: [{ Name: 'service', Value: 'clientele-campaigns' }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Statistic: 'Maximum',
        Period: 3600,
      }),
    ]);
  });

  it("alarms on an advisor's task email refused for good, a business metric of the sender's", () => {
    expect(alarms().filter((a) => a.MetricName === METRIC_NAMES.taskEmailsRefused)).toEqual([
      expect.objectContaining({
        AlarmName: 'Clientele-prod advisor task emails refused',
        Namespace: 'Clientele/Clientele-prod',
        Dimensions: [{ Name: 'service', Value: 'clientele-campaigns' }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Statistic: 'Sum',
        Period: 3600,
        AlarmDescription: expect.stringContaining('advisor task email refused: the note goes from the client care team'),
      }),
    ]);
  });

  it('sends every alarm to the alarm topic, mailed to the alarm e-mail, which CloudWatch may publish to', () => {
    const topic = { Ref: logicalId(synth.stack.alarms.topic) };
    for (const alarm of alarms()) expect(alarm.AlarmActions).toEqual([topic]);
    synth.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@maison.example', TopicArn: topic });
    synth.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' } })]) },
    });
  });
});

describe('dashboard', () => {
  /** The dashboard body with its intrinsics (the region, the alarms' ARNs) flattened to "<ref>". */
  const body = (): { widgets: { properties: Record<string, unknown> }[] } => {
    const [[, dashboard] = []] = resourcesOf('AWS::CloudWatch::Dashboard');
    const parts = (dashboard?.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : '<ref>')).join('')) as { widgets: { properties: Record<string, unknown> }[] };
  };
  const metricsOf = (title: string): unknown[][] =>
    (body().widgets.find((w) => w.properties.title === title)?.properties.metrics as unknown[][] | undefined) ?? [];

  it('is one dashboard named after the stack, and a stack output names it', () => {
    synth.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    synth.template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'Clientele-prod' });
    synth.template.hasOutput('DashboardName', { Value: { Ref: logicalId(synth.stack.dashboard.dashboard) } });
  });

  it('shows every alarm\'s state', () => {
    const alarmsWidget = body().widgets.find((w) => w.properties.title === 'Alarms');
    expect((alarmsWidget?.properties.alarms as unknown[]).length).toBe(synth.stack.alarms.alarms.length);
  });

  /** A graph metric as [namespace, name, dimensions], whatever the order CDK writes the dimensions in. */
  const described = (m: unknown[]) => {
    const strings = m.filter((x): x is string => typeof x === 'string');
    const dimensions: Record<string, string> = {};
    for (let i = 2; i + 1 < strings.length; i += 2) dimensions[strings[i] as string] = strings[i + 1] as string;
    return [strings[0], strings[1], dimensions];
  };

  it('charts the clients per tier, the nights, the sends per campaign and outcome, bounces and complaints, from the functions\' metrics', () => {
    const namespace = 'Clientele/Clientele-prod';
    expect(metricsOf('Clients per tier').map(described)).toEqual(
      TIERS.map((tier) => [namespace, METRIC_NAMES.clients, { service: 'clientele-nightly', tier }]),
    );
    expect(metricsOf('Nights').map((m) => m[1])).toEqual([METRIC_NAMES.nightlyCompleted, METRIC_NAMES.nightlyRepeated, 'ExecutionsFailed', 'ExecutionsTimedOut']);
    for (const campaign of ['welcome', 'replenishment', 'winback']) {
      expect(metricsOf(`Campaign ${campaign}`).map(described)).toEqual(
        CAMPAIGN_OUTCOME_METRICS.map(([name]) => [namespace, name, { service: 'clientele-campaigns', campaign }]),
      );
    }
    expect(metricsOf('Bounces and complaints (recipients)').map(described)).toEqual(
      [METRIC_NAMES.bounces, METRIC_NAMES.softBounces, METRIC_NAMES.complaints, METRIC_NAMES.unreadableFeedback].map((name) => [namespace, name, { service: 'clientele-ses-events' }]),
    );
    const rates = JSON.stringify(metricsOf('Bounce and complaint rates (%, per day)'));
    // Per email (Emails), not per occasion (Sent): a reminder listing three products is one email.
    for (const id of ['bounces', 'complaints']) expect(rates).toContain(`100 * IF(emails > 0, ${id} / emails, 0)`);
    expect(rates).toContain(JSON.stringify(METRIC_NAMES.emails));
    expect(metricsOf('Sends, all campaigns').map((m) => m[1])).toEqual([METRIC_NAMES.emails, METRIC_NAMES.sent, METRIC_NAMES.failed, METRIC_NAMES.unresolvedSends, METRIC_NAMES.heldWhileNightsBehind]);
  });
});

describe('cdk-nag', () => {
  it('finds nothing unacknowledged in the AWS Solutions pack', () => {
    // app.synth() in beforeAll already ran the plugin (it throws on a finding); this names them if any.
    const result = new AwsSolutionsChecks(synth.app).validateScope(synth.app);
    expect(result.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
  });
});
