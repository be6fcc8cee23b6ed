import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { access } from 'node:fs/promises';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { Option } from 'commander';
import { z } from 'zod';
import { loadConfig, parseConfig, type Config } from '#shared/config.ts';
import { ClienteleError } from '#shared/errors.ts';
import { tableNames } from '#shared/store/tables.ts';
import { UsageError } from '#local/errors.ts';

/**
 * Where a command that needs AWS goes: a deployed stack (`--stack NAME`, its CloudFormation
 * outputs naming the bucket, tables and state machine), a config file (`--config FILE`), or the
 * config of the local emulators that `clientele local up` and the demo write. Never the defaults:
 * a command without any of these says so instead of trying whatever account the shell has.
 */

/** Written by `clientele local up` and `clientele demo`; used when neither --config nor --stack is given. */
export const LOCAL_CONFIG_FILE = '.clientele/local-config.json';

export interface TargetOptions {
  config?: string | undefined;
  stack?: string | undefined;
  profile?: string | undefined;
  region?: string | undefined;
}

export const targetOptionsSchema = z.object({
  config: z.string().optional(),
  stack: z.string().min(1).optional(),
  profile: z.string().min(1).optional(),
  region: z.string().min(1).optional(),
});

/** The stack's outputs by OutputKey (what DescribeStacks returns, flattened). */
export type StackOutputs = Record<string, string>;

/** Reads a stack's outputs; injected by tests, the SDK's CloudFormation client otherwise. */
export type DescribeStack = (stackName: string, options: { region?: string | undefined }) => Promise<StackOutputs>;

/** What `--stack` needs among infra/stack.ts's outputs. */
const stackOutputsSchema = z.object({
  DataBucket: z.string().min(3),
  ExportsLocation: z.string().regex(/^s3:\/\/[^/]+\/.*<YYYY-MM-DD>\/$/, 'expected s3://bucket/prefix/<YYYY-MM-DD>/'),
  ReportsLocation: z.string().regex(/^s3:\/\/[^/]+\/.*nightly\/<YYYY-MM-DD>\/$/, 'expected s3://bucket/prefix/nightly/<YYYY-MM-DD>/'),
  Tables: z.string().min(1),
  NightlyStateMachineArn: z.string().regex(/^arn:[^:]+:states:[^:]+:\d*:stateMachine:.+$/, 'expected a Step Functions state machine ARN'),
  ForgetFunctionName: z.string().min(1).optional(),
  UnsubscribeUrl: z.string().url().optional(),
  ConfigurationSetName: z.string().min(1).optional(),
  AlarmTopicArn: z.string().optional(),
  BrandTimeZone: z.string().min(1).optional(),
});

/** What a deployed stack names, beside the config built from it. */
export interface StackInfo {
  name: string;
  region: string;
  stateMachineArn: string;
  forgetFunctionName?: string;
  unsubscribeUrl?: string;
}

export interface Target {
  config: Config;
  /** For the messages: 'stack NAME', 'config FILE'. */
  source: string;
  stack?: StackInfo;
}

/** The options every command that needs AWS takes: --config, --stack, --profile, --region. */
export function targetOption(name: 'config' | 'stack' | 'profile' | 'region'): Option {
  switch (name) {
    case 'config':
      return new Option('--config <file>', `JSON configuration file (validated; default: ${LOCAL_CONFIG_FILE} when it exists)`);
    case 'stack':
      return new Option('--stack <name>', 'a deployed clientele stack: its outputs name the bucket, tables and state machine (brand settings from --config)');
    case 'profile':
      return new Option('--profile <name>', 'AWS profile of the shared config files (as AWS_PROFILE)');
    case 'region':
      return new Option('--region <region>', "AWS region (default: the stack's, else the config's)");
  }
}

const trimSlashes = (path: string) => path.replace(/^\/+|\/+$/g, '');

/** The config a deployed stack's outputs describe, over a base config (brand settings, endpoints for tests). */
export function configFromStackOutputs(base: Config, name: string, raw: StackOutputs, region?: string): { config: Config; stack: StackInfo } {
  const parsed = stackOutputsSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(outputs)'}: ${i.message}`).join('; ');
    throw new UsageError(`Stack ${name} does not have the outputs of a clientele stack (${problems}).`);
  }
  const outputs = parsed.data;
  const exportsPrefix = trimSlashes(outputs.ExportsLocation.replace(/^s3:\/\/[^/]+\//, '').replace(/<YYYY-MM-DD>\/$/, ''));
  const reportsPrefix = trimSlashes(outputs.ReportsLocation.replace(/^s3:\/\/[^/]+\//, '').replace(/nightly\/<YYYY-MM-DD>\/$/, ''));
  const tables = outputs.Tables.split(',').map((t) => t.trim()).filter(Boolean);
  const runsTable = tables.find((t) => t.endsWith('runs'));
  const tablePrefix = runsTable?.slice(0, -'runs'.length) ?? '';
  const expected = Object.values(tableNames({ storage: { ...base.storage, tablePrefix } })).sort();
  if (!runsTable || JSON.stringify([...tables].sort()) !== JSON.stringify(expected)) {
    throw new UsageError(`Stack ${name}: its Tables output (${outputs.Tables}) is not the set of tables this version of clientele uses (${expected.join(', ')}).`);
  }
  const stackRegion = outputs.NightlyStateMachineArn.split(':')[3] ?? base.endpoints.region;
  const config = parseConfig(
    {
      ...base,
      ...(outputs.BrandTimeZone ? { timeZone: outputs.BrandTimeZone } : {}),
      storage: { ...base.storage, exportsBucket: outputs.DataBucket, reportsBucket: outputs.DataBucket, exportsPrefix, reportsPrefix, tablePrefix },
      endpoints: { ...base.endpoints, region: region ?? stackRegion },
      sender: {
        ...base.sender,
        ...(outputs.UnsubscribeUrl ? { unsubscribeBaseUrl: outputs.UnsubscribeUrl } : {}),
        ...(outputs.ConfigurationSetName ? { configurationSetName: outputs.ConfigurationSetName } : {}),
      },
    },
    `configuration of stack ${name}`,
  );
  return {
    config,
    stack: {
      name,
      region: region ?? stackRegion,
      stateMachineArn: outputs.NightlyStateMachineArn,
      ...(outputs.ForgetFunctionName ? { forgetFunctionName: outputs.ForgetFunctionName } : {}),
      ...(outputs.UnsubscribeUrl ? { unsubscribeUrl: outputs.UnsubscribeUrl } : {}),
    },
  };
}

const describeStacksOutputSchema = z.object({
  Stacks: z
    .array(z.object({ StackStatus: z.string().optional(), Outputs: z.array(z.object({ OutputKey: z.string().optional(), OutputValue: z.string().optional() })).optional() }))
    .optional(),
});

/** DescribeStacks through the SDK (its answer checked like any outside input). */
export const describeStackWithSdk: DescribeStack = async (stackName, { region }) => {
  const client = new CloudFormationClient(region ? { region } : {});
  try {
    const output = describeStacksOutputSchema.parse(await client.send(new DescribeStacksCommand({ StackName: stackName })));
    const stack = output.Stacks?.[0];
    if (!stack) throw new UsageError(`No stack named ${stackName}.`);
    return Object.fromEntries((stack.Outputs ?? []).flatMap((o) => (o.OutputKey && o.OutputValue !== undefined ? [[o.OutputKey, o.OutputValue]] : [])));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const name = (error as Error)?.name ?? '';
    if (name === 'ValidationError') throw new UsageError(`No stack named ${stackName}${region ? ` in ${region}` : ''}: ${(error as Error).message}`);
    if (name === 'CredentialsProviderError') throw new UsageError(`No AWS credentials to read stack ${stackName}: pass --profile NAME or set the AWS_* environment.`);
    throw error;
  } finally {
    client.destroy();
  }
};

export interface LoadTargetDependencies {
  describeStack?: DescribeStack;
  /** Where to look for the local config (default: the working directory). */
  cwd?: string;
  /** Whether to check that local emulator endpoints answer (default true). */
  probeLocalEndpoints?: boolean;
}

/** The config of a command that needs AWS (`command` names it in the messages). */
export async function loadTarget(command: string, options: TargetOptions, dependencies: LoadTargetDependencies = {}): Promise<Target> {
  // The SDK's default credential chain reads AWS_PROFILE when it builds the clients.
  if (options.profile) process.env.AWS_PROFILE = options.profile;
  let target: Target;
  if (options.stack) {
    const base = await loadConfig(options.config);
    const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    const outputs = await (dependencies.describeStack ?? describeStackWithSdk)(options.stack, { region });
    const built = configFromStackOutputs(base, options.stack, outputs, options.region);
    target = { config: built.config, source: `stack ${options.stack}`, stack: built.stack };
  } else {
    const local = resolve(dependencies.cwd ?? process.cwd(), LOCAL_CONFIG_FILE);
    const file = options.config ?? ((await access(local).then(() => true, () => false)) ? local : undefined);
    if (!file) {
      throw new UsageError(
        `${command} needs AWS: pass --stack NAME (a deployed stack) or --config FILE (e.g. ${LOCAL_CONFIG_FILE}, written by \`clientele local up\` or the demo).`,
      );
    }
    const config = await loadConfig(file);
    target = { config: options.region ? parseConfig({ ...config, endpoints: { ...config.endpoints, region: options.region } }) : config, source: `config ${file}` };
  }
  if (dependencies.probeLocalEndpoints !== false) await requireLocalEndpoints(target);
  return target;
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

function answers(url: URL, timeoutMs = 1500): Promise<boolean> {
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  return new Promise((resolveAnswer) => {
    const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolveAnswer(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * A config naming emulators on this machine (the demo's, `local up`'s) whose emulators are not
 * running fails here in one line, with what to do, rather than with the SDK's connection error.
 */
export async function requireLocalEndpoints(target: Target): Promise<void> {
  const { endpoints } = target.config;
  for (const [service, value] of [['DynamoDB', endpoints.dynamodb], ['S3', endpoints.s3]] as const) {
    if (!value) continue;
    const url = new URL(value);
    if (!LOCAL_HOSTS.has(url.hostname)) continue;
    if (await answers(url)) continue;
    throw new ClienteleError(
      'EMULATORS_DOWN',
      `The local emulators of ${target.source} are not running (${service} at ${value} does not answer): ` +
        'start them with `npx clientele local up` (add `--state .clientele/demo` for the data of the last demo), or run the demo with --keep-running.',
    );
  }
}
