import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { access } from 'node:fs/promises';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { Option } from 'commander';
import { z } from 'zod';
import { ConfigError, loadConfig, parseConfig, type Config } from '#shared/config.ts';
import { configFromEnvironment } from '#shared/environment.ts';
import { ClienteleError } from '#shared/errors.ts';
import { tableNames } from '#shared/store/tables.ts';
import { UsageError } from '#local/errors.ts';
import { parseNonEmpty } from '#local/options.ts';
import { nameFailedCalls } from '#local/aws-errors.ts';

/**
 * Where a command that needs AWS goes: a deployed stack (`--stack NAME`, its CloudFormation
 * outputs: the configuration the campaign sender runs with, the state machine, the unsubscribe
 * key's secret), a config file (`--config FILE`), or the config of the local emulators that
 * `clientele local up` and the demo write. Never the defaults: a command without any of these
 * says so instead of trying whatever account the shell has.
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
  /** The campaign sender's CLIENTELE_CONFIG as deployed (infra/stack.ts); absent from stacks deployed before it was an output. */
  CampaignsConfig: z.string().min(2).optional(),
  UnsubscribeSecretArn: z.string().regex(/^arn:[^:]+:secretsmanager:[^:]+:\d*:secret:.+$/, 'expected a Secrets Manager secret ARN').optional(),
  UnsubscribeUrl: z.string().url().optional(),
  AdvisorTaskUrl: z.string().url().optional(),
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
  /** The secret holding the unsubscribe links' key, which the deployed functions sign with. */
  unsubscribeSecretArn?: string;
  /**
   * Whether the config is the one the deployed functions run with (the CampaignsConfig output).
   * Without it (a stack deployed before that output) the brand settings come from --config and
   * the sender's settings are unknown: the commands that send refuse.
   */
  deployedConfig: boolean;
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
      return new Option('--config <file>', `JSON configuration file (validated; default: ${LOCAL_CONFIG_FILE} when it exists)`).argParser(parseNonEmpty);
    case 'stack':
      return new Option('--stack <name>', 'a deployed clientele stack: its outputs give the configuration its functions run with, the state machine and the links\' key').argParser(parseNonEmpty);
    case 'profile':
      return new Option('--profile <name>', 'AWS profile of the shared config files (as AWS_PROFILE)').argParser(parseNonEmpty);
    case 'region':
      return new Option('--region <region>', "AWS region (default: the stack's, else the config's)").argParser(parseNonEmpty);
  }
}

const trimSlashes = (path: string) => path.replace(/^\/+|\/+$/g, '');

/**
 * The config of a deployed stack. A stack with the CampaignsConfig output gives the configuration
 * its campaign sender runs with, read by the same configFromEnvironment the Lambda uses (brand
 * settings, from address, send rate, configuration set, unsubscribe and advisor-task URLs), so the
 * CLI and the functions cannot drift apart; only `base.endpoints`' service endpoints (the
 * emulators, in tests) are kept from `base`. An older stack's outputs name only the storage and a
 * few URLs, laid over `base` (brand settings from --config); `stack.deployedConfig` then says the
 * sender's settings are unknown.
 */
export function configFromStackOutputs(base: Config, name: string, raw: StackOutputs, region?: string): { config: Config; stack: StackInfo } {
  const parsed = stackOutputsSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(outputs)'}: ${i.message}`).join('; ');
    throw new UsageError(`Stack ${name} does not have the outputs of a clientele stack (${problems}).`);
  }
  const outputs = parsed.data;
  const tables = outputs.Tables.split(',').map((t) => t.trim()).filter(Boolean);
  const runsTable = tables.find((t) => t.endsWith('runs'));
  const tablePrefix = runsTable?.slice(0, -'runs'.length) ?? '';
  const expected = Object.values(tableNames({ storage: { ...base.storage, tablePrefix } })).sort();
  if (!runsTable || JSON.stringify([...tables].sort()) !== JSON.stringify(expected)) {
    throw new UsageError(`Stack ${name}: its Tables output (${outputs.Tables}) is not the set of tables this version of clientele uses (${expected.join(', ')}).`);
  }
  const stackRegion = outputs.NightlyStateMachineArn.split(':')[3] ?? base.endpoints.region;
  const config = outputs.CampaignsConfig
    ? deployedConfigOf(name, outputs.CampaignsConfig, base, region)
    : legacyConfigOf(name, outputs, base, tablePrefix, region ?? stackRegion);
  return {
    config,
    stack: {
      name,
      region: region ?? stackRegion,
      stateMachineArn: outputs.NightlyStateMachineArn,
      deployedConfig: outputs.CampaignsConfig !== undefined,
      ...(outputs.ForgetFunctionName ? { forgetFunctionName: outputs.ForgetFunctionName } : {}),
      ...(outputs.UnsubscribeUrl ? { unsubscribeUrl: outputs.UnsubscribeUrl } : {}),
      ...(outputs.UnsubscribeSecretArn ? { unsubscribeSecretArn: outputs.UnsubscribeSecretArn } : {}),
    },
  };
}

/** The campaign sender's deployed configuration, with the emulator endpoints of `base` (tests) and `--region`. */
function deployedConfigOf(name: string, json: string, base: Config, region: string | undefined): Config {
  let deployed: Config;
  try {
    deployed = configFromEnvironment(json);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(`Stack ${name}: its CampaignsConfig output is not a configuration this version of clientele reads: ${error.message}`);
    throw error;
  }
  const { region: _baseRegion, ...serviceEndpoints } = base.endpoints;
  return parseConfig({ ...deployed, endpoints: { ...deployed.endpoints, ...serviceEndpoints, ...(region ? { region } : {}) } }, `configuration of stack ${name}`);
}

/** What a stack without the CampaignsConfig output tells: its storage and URLs over `base`. */
function legacyConfigOf(name: string, outputs: z.infer<typeof stackOutputsSchema>, base: Config, tablePrefix: string, region: string): Config {
  const exportsPrefix = trimSlashes(outputs.ExportsLocation.replace(/^s3:\/\/[^/]+\//, '').replace(/<YYYY-MM-DD>\/$/, ''));
  const reportsPrefix = trimSlashes(outputs.ReportsLocation.replace(/^s3:\/\/[^/]+\//, '').replace(/nightly\/<YYYY-MM-DD>\/$/, ''));
  return parseConfig(
    {
      ...base,
      ...(outputs.BrandTimeZone ? { timeZone: outputs.BrandTimeZone } : {}),
      storage: { ...base.storage, exportsBucket: outputs.DataBucket, reportsBucket: outputs.DataBucket, exportsPrefix, reportsPrefix, tablePrefix },
      endpoints: { ...base.endpoints, region },
      sender: {
        ...base.sender,
        ...(outputs.UnsubscribeUrl ? { unsubscribeBaseUrl: outputs.UnsubscribeUrl } : {}),
        ...(outputs.ConfigurationSetName ? { configurationSetName: outputs.ConfigurationSetName } : {}),
      },
      ...(outputs.AdvisorTaskUrl ? { advisors: { ...base.advisors, taskBaseUrl: outputs.AdvisorTaskUrl } } : {}),
    },
    `configuration of stack ${name}`,
  );
}

const describeStacksOutputSchema = z.object({
  Stacks: z
    .array(z.object({ StackStatus: z.string().optional(), Outputs: z.array(z.object({ OutputKey: z.string().optional(), OutputValue: z.string().optional() })).optional() }))
    .optional(),
});

/** DescribeStacks through the SDK (its answer checked like any outside input). */
export const describeStackWithSdk: DescribeStack = async (stackName, { region }) => {
  const client = nameFailedCalls(new CloudFormationClient(region ? { region } : {}));
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

/** Reads a secret's current value; injected by tests, Secrets Manager through the SDK otherwise. */
export type ReadStackSecret = (secretArn: string, options: { region: string }) => Promise<string>;

const secretValueSchema = z.object({ SecretString: z.string().min(1).optional() });

/** GetSecretValue (AWSCURRENT) through the SDK, as the deployed functions read the key through their extension. */
export const readSecretWithSdk: ReadStackSecret = async (secretArn, { region }) => {
  const client = nameFailedCalls(new SecretsManagerClient({ region }));
  try {
    const value = secretValueSchema.parse(await client.send(new GetSecretValueCommand({ SecretId: secretArn }))).SecretString;
    if (value === undefined) throw new ClienteleError('CONFIG_INVALID', `Secret ${secretArn} holds no secret string: it is not the unsubscribe key the stack creates.`);
    return value;
  } finally {
    client.destroy();
  }
};

/** The environment variable holding the unsubscribe links' key when the target is a config file. */
export const UNSUBSCRIBE_SECRET_VARIABLE = 'UNSUBSCRIBE_SECRET';

/**
 * The key the unsubscribe links (and the advisors' task links) are signed with. With --stack, the
 * stack's own (its UnsubscribeSecretArn output, read from Secrets Manager), so that the links of
 * an email the CLI sends verify at the deployed unsubscribe function; with a config file, the
 * UNSUBSCRIBE_SECRET environment variable (32+ characters), or undefined when it is not set.
 */
export async function unsubscribeKeyOf(command: string, target: Target, dependencies: { readSecret?: ReadStackSecret } = {}): Promise<string | undefined> {
  const { stack } = target;
  if (stack === undefined) {
    const secret = process.env[UNSUBSCRIBE_SECRET_VARIABLE];
    return secret !== undefined && secret.length >= 32 ? secret : undefined;
  }
  if (stack.unsubscribeSecretArn === undefined) {
    throw new UsageError(
      `${command} --stack ${stack.name}: the stack has no UnsubscribeSecretArn output (deployed by an earlier version of clientele), so the key its unsubscribe links are signed with is unknown here. Deploy the stack with this version, then run the command again.`,
    );
  }
  return (dependencies.readSecret ?? readSecretWithSdk)(stack.unsubscribeSecretArn, { region: stack.region });
}

/** The key of unsubscribeKeyOf, required: a command that signs links refuses without it. */
export async function requireUnsubscribeKey(command: string, target: Target, dependencies: { readSecret?: ReadStackSecret } = {}): Promise<string> {
  const secret = await unsubscribeKeyOf(command, target, dependencies);
  if (secret === undefined) throw new UsageError(`${command}: set ${UNSUBSCRIBE_SECRET_VARIABLE} (32+ characters): it signs the unsubscribe links of the emails.`);
  return secret;
}

/** The sender settings an email needs whose defaults are the handbook's examples (shared/config.ts), by config path. */
const EXAMPLE_SENDER_SETTINGS = {
  'sender.fromAddress': (config: Config) => config.sender.fromAddress,
  'sender.unsubscribeBaseUrl': (config: Config) => config.sender.unsubscribeBaseUrl,
  'advisors.taskBaseUrl': (config: Config) => config.advisors.taskBaseUrl,
} as const;

/** The settings of `config` that are still the examples the defaults hold (hello@example.com, ...). */
export function exampleSenderSettings(config: Config): string[] {
  const defaults = parseConfig({});
  return Object.entries(EXAMPLE_SENDER_SETTINGS).filter(([, read]) => read(config) === read(defaults)).map(([path]) => path);
}

/**
 * Before a command sends through real SES: the sender's settings must be the deployment's own. A
 * stack without the CampaignsConfig output leaves them unknown; a config file for AWS that leaves
 * the from address or a link's base URL at its example default would send broken emails. The
 * emulators (a config naming an SES endpoint) take the examples: the demo runs on them.
 */
export function refuseUnknownSenderSettings(command: string, target: Target): void {
  const { stack, config } = target;
  if (stack !== undefined && !stack.deployedConfig) {
    throw new UsageError(
      `${command} --stack ${stack.name}: the stack has no CampaignsConfig output (deployed by an earlier version of clientele), so the sender settings its functions run with (from address, unsubscribe and advisor-task URLs) are unknown here. Deploy the stack with this version, then run the command again.`,
    );
  }
  if (config.endpoints.ses !== undefined) return;
  const examples = exampleSenderSettings(config);
  if (examples.length > 0) {
    throw new UsageError(
      `${command}: ${examples.join(', ')} ${examples.length === 1 ? 'is' : 'are'} still the handbook's example value in the ${target.source}; an email sent with ${examples.length === 1 ? 'it' : 'them'} would go out wrong. ` +
        'Pass --stack NAME (the deployed settings), or set them in the config file.',
    );
  }
}

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
