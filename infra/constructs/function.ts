import { join } from 'node:path';
import { Duration, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, type IDestination, ParamsAndSecretsLayerVersion, ParamsAndSecretsLogLevel, ParamsAndSecretsVersions, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FILE_THREADS_WORKER_BUNDLE } from '#shared/exports/file-threads.ts';
import { lambdaEnvironment, type FunctionEnvironmentInput, type FunctionName } from '#shared/environment.ts';
import { ESBUILD_TARGET, EXTERNAL_MODULES, FILE_THREADS_WORKER_ENTRY, MAIN_FIELDS, REQUIRE_BANNER } from '#infra/bundling.ts';
import { PROJECT_ROOT } from '#infra/paths.ts';

/** The newest Node.js runtime this aws-cdk-lib knows (cdk-nag L1 checks for the latest). */
export const RUNTIME = Runtime.NODEJS_24_X;
/** Tag naming the functions/ folder a Lambda (and its role and log group) was built from. */
export const FUNCTION_TAG = 'clientele:function';

/** The Powertools service of a function: its log lines' `service` and its metrics' `service` dimension. */
export function serviceName(name: FunctionName): string {
  return `clientele-${name}`;
}

/**
 * The namespace of a stack's metrics, the functions' own (EMF, POWERTOOLS_METRICS_NAMESPACE) and
 * those its metric filters derive from the logs: one per stack, so two stages in one account do not mix.
 */
export function metricsNamespace(stackName: string): string {
  return `Clientele/${stackName}`;
}

/** Lambda caps a function's variables (names + values) at 4 KB; CLIENTELE_CONFIG is most of it. */
const LAMBDA_ENVIRONMENT_LIMIT = 4096;
/** What a token (bucket name, ARN, function URL) may resolve to, at most, for the estimate. */
const TOKEN_ALLOWANCE = 128;
/** The variables the Parameters and Secrets extension layer adds. */
const EXTENSION_VARIABLES_ALLOWANCE = 400;

/**
 * A function reads a secret by the ARN in one of its variables (readSecret(environment.X_SECRET_ARN),
 * shared/environment.ts), through the Parameters and Secrets extension: a variable so named is what
 * gives it the layer. Its construct still grants the read on the secret.
 */
function readsSecrets(environment: Readonly<Record<string, string>>): boolean {
  return Object.keys(environment).some((name) => name.endsWith('_SECRET_ARN'));
}

/** Fails the synth, not the deploy, when a function's environment cannot fit Lambda's limit. */
function assertEnvironmentFits(name: string, environment: Record<string, string>, withExtension: boolean): void {
  let size = withExtension ? EXTENSION_VARIABLES_ALLOWANCE : 0;
  for (const [key, value] of Object.entries(environment)) {
    const tokens = value.match(/\$\{Token\[[^\]]+\]\}/g) ?? [];
    size += key.length + value.length + tokens.reduce((sum, token) => sum + TOKEN_ALLOWANCE - token.length, 0);
  }
  if (size > LAMBDA_ENVIRONMENT_LIMIT) {
    throw new Error(
      `functions/${name}: its environment would take about ${size} bytes, over Lambda's 4 KB limit. ` +
        'CLIENTELE_CONFIG carries the brand configuration: trim it (campaigns, exchange rates) or move it out of the environment.',
    );
  }
}

export interface ClienteleFunctionProps<N extends FunctionName> {
  /** Folder under functions/: names the Lambda's tag, role and alarms, and picks its environment schema. */
  name: N;
  /** The handler file bundled, e.g. join(FUNCTIONS_DIR, 'nightly', 'handler.ts'). */
  entry: string;
  description: string;
  /**
   * The variables the function's own schema declares (shared/environment.ts, z.input: defaults may
   * be left out), so a variable renamed in the schema fails `tsc` here, not the handler at run time.
   */
  environment: FunctionEnvironmentInput<N>;
  logRetention: RetentionDays;
  memorySize?: number;
  timeout?: Duration;
  /** Node options besides --enable-source-maps (NODE_OPTIONS), e.g. the nightly run's GC sizes. */
  nodeOptions?: readonly string[];
  /** How long the Parameters and Secrets extension keeps a secret before reading it again (its default: 5 minutes). */
  secretsCacheTtl?: Duration;
  /** Where failed asynchronous invocations go (functions invoked by SNS or the scheduler). */
  deadLetterQueue?: IQueue;
  /** Lambda's own retries of a failed asynchronous invocation (default 2). */
  asyncRetryAttempts?: number;
  /** How long an asynchronous invocation may wait in Lambda's queue (throttled, or between retries) before it is dropped (default 6 hours). */
  asyncMaxEventAge?: Duration;
  /** Where an asynchronous invocation that failed or was dropped goes, as a record that says which (Lambda's on-failure destination). */
  asyncOnFailure?: IQueue;
  /**
   * The function reads exports: the worker that parses orders files in threads
   * (shared/exports/file-threads-worker.ts) is bundled beside its handler, where
   * fileThreadsWorkerUrl finds it.
   */
  readsExports?: boolean;
}


/**
 * A queue as Lambda's on-failure destination, granting the function only the sqs:SendMessage Lambda
 * sends with (CDK's SqsDestination also grants GetQueueAttributes and GetQueueUrl).
 */
function queueDestination(queue: IQueue): IDestination {
  return {
    bind: (_scope, fn) => {
      queue.grant(fn, 'sqs:SendMessage');
      return { destination: queue.queueArn };
    },
  };
}

/**
 * The shell command that bundles the orders worker beside the handler, with the handler's own
 * esbuild options, run after the handler's bundling (as CDK runs esbuild: npx from the project).
 */
function fileThreadsWorkerBundling(inputDir: string, outputDir: string): string {
  const quote = (value: string) => `'${value.replaceAll("'", `'"'"'`)}'`;
  return [
    'npx --no-install esbuild --bundle',
    quote(join(inputDir, ...FILE_THREADS_WORKER_ENTRY)),
    quote(`--outfile=${join(outputDir, FILE_THREADS_WORKER_BUNDLE)}`),
    '--platform=node --format=esm',
    `--target=${ESBUILD_TARGET}`,
    `--main-fields=${MAIN_FIELDS.join(',')}`,
    ...EXTERNAL_MODULES.map((module) => quote(`--external:${module}`)),
    '--minify --sourcemap',
    quote(`--banner:js=${REQUIRE_BANNER}`),
  ].join(' ');
}

/**
 * One handler of functions/ as a Lambda: bundled by the local esbuild (no Docker) as ESM for the
 * latest Node runtime on arm64, AWS SDK v3 left to the runtime, Powertools bundled. Its role starts
 * empty: the logs of its own log group only; every other permission is granted by its construct.
 */
export class ClienteleFunction<N extends FunctionName = FunctionName> extends Construct {
  readonly fn: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;
  readonly name: N;

  constructor(scope: Construct, id: string, props: ClienteleFunctionProps<N>) {
    super(scope, id);
    this.name = props.name;

    // An explicit log group and role: retention without the LogRetention custom resource, and no
    // AWS managed policy (AWSLambdaBasicExecutionRole writes to any log group).
    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `clientele ${props.name} function`,
    });
    this.logGroup.grantWrite(this.role);

    // Powertools: the service and namespace are the stack's, whatever the construct passes; the log level may be raised per function.
    const environment = lambdaEnvironment({
      NODE_OPTIONS: ['--enable-source-maps', ...(props.nodeOptions ?? [])].join(' '),
      POWERTOOLS_LOG_LEVEL: 'INFO',
      ...props.environment,
      POWERTOOLS_SERVICE_NAME: serviceName(props.name),
      POWERTOOLS_METRICS_NAMESPACE: metricsNamespace(Stack.of(this).stackName),
    });
    const withExtension = readsSecrets(environment);
    assertEnvironmentFits(props.name, environment, withExtension);

    this.fn = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      runtime: RUNTIME,
      architecture: Architecture.ARM_64,
      description: props.description,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(30),
      role: this.role,
      logGroup: this.logGroup,
      environment,
      ...(props.deadLetterQueue ? { deadLetterQueue: props.deadLetterQueue } : {}),
      ...(props.asyncRetryAttempts !== undefined ? { retryAttempts: props.asyncRetryAttempts } : {}),
      ...(props.asyncMaxEventAge ? { maxEventAge: props.asyncMaxEventAge } : {}),
      ...(props.asyncOnFailure ? { onFailure: queueDestination(props.asyncOnFailure) } : {}),
      ...(withExtension
        ? {
            paramsAndSecrets: ParamsAndSecretsLayerVersion.fromVersion(ParamsAndSecretsVersions.V1_0_103, {
              cacheSize: 10,
              logLevel: ParamsAndSecretsLogLevel.WARN,
              ...(props.secretsCacheTtl ? { secretsManagerTtl: props.secretsCacheTtl } : {}),
            }),
          }
        : {}),
      bundling: {
        format: OutputFormat.ESM,
        target: ESBUILD_TARGET,
        mainFields: MAIN_FIELDS,
        banner: REQUIRE_BANNER,
        externalModules: EXTERNAL_MODULES,
        minify: true,
        sourceMap: true,
        forceDockerBundling: false,
        ...(props.readsExports
          ? {
              commandHooks: {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling: (inputDir: string, outputDir: string) => [fileThreadsWorkerBundling(inputDir, outputDir)],
              },
            }
          : {}),
      },
    });
    // Which folder of functions/ this is, on the function, its role and its logs (and for cost reports).
    Tags.of(this).add(FUNCTION_TAG, props.name);
  }
}
