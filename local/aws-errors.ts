import { createAwsClients, type AwsClients } from '#shared/aws/clients.ts';
import { httpStatusOf } from '#shared/aws/errors.ts';
import type { Config } from '#shared/config.ts';

/**
 * What the CLI prints when AWS refuses a call for a reason the operator fixes (expired or missing
 * credentials, a permission the role lacks, a table or stack that does not exist): one line naming
 * the call and its resource, instead of the SDK's stack trace. The SDK's errors name neither (a
 * DynamoDB ResourceNotFoundException says "Requested resource not found"), so each client of the
 * CLI records on a failed call's error which operation on which resource it was.
 */

/** The call an error came from. */
export interface AwsCall {
  /** 'DynamoDB Query', 'CloudFormation DescribeStacks'... */
  operation: string;
  /** The table, bucket/key, stack, secret or state machine the call named, when it named one. */
  resource?: string;
}

const callOfError = new WeakMap<object, AwsCall>();

/** The input fields that name what a call acts on, most specific first. */
const RESOURCE_FIELDS = ['TableName', 'Bucket', 'StackName', 'SecretId', 'stateMachineArn', 'executionArn', 'FunctionName'] as const;

function resourceOf(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const fields = input as Record<string, unknown>;
  for (const field of RESOURCE_FIELDS) {
    const value = fields[field];
    if (typeof value !== 'string' || value === '') continue;
    const key = field === 'Bucket' && typeof fields.Key === 'string' ? `/${fields.Key}` : '';
    return field === 'Bucket' ? `s3://${value}${key}` : value;
  }
  return undefined;
}

/** 'DynamoDBClient' + 'QueryCommand' → 'DynamoDB Query'. */
function operationName(clientName: unknown, commandName: unknown): string {
  const service = typeof clientName === 'string' ? clientName.replace(/Client$/, '') : 'AWS';
  const command = typeof commandName === 'string' ? commandName.replace(/Command$/, '') : 'call';
  return `${service} ${command}`;
}

/**
 * The SDK types each client's middleware stack by its own service's inputs and outputs; this
 * middleware reads only the input's resource fields and passes every answer through untouched, so
 * it fits any service: `any` here stands for "whichever service's types", checked by the SDK.
 */
type AnyHandler = (args: any) => Promise<any>;

interface NameableClient {
  middlewareStack: {
    add(
      middleware: (next: AnyHandler, context: { clientName?: string; commandName?: string }) => AnyHandler,
      options: { step: 'initialize'; name: string; override: boolean },
    ): void;
  };
}

/** Makes a client's failed calls carry their operation and resource (awsCallOf). */
export function nameFailedCalls<Client extends NameableClient>(client: Client): Client {
  client.middlewareStack.add(
    (next, context) => async (args: { input: unknown }) => {
      try {
        return await next(args);
      } catch (error) {
        if (typeof error === 'object' && error !== null && !callOfError.has(error)) {
          const resource = resourceOf(args.input);
          callOfError.set(error, { operation: operationName(context.clientName, context.commandName), ...(resource === undefined ? {} : { resource }) });
        }
        throw error;
      }
    },
    { step: 'initialize', name: 'clienteleNameFailedCalls', override: true },
  );
  return client;
}

/** createAwsClients, each client naming its failed calls (the document client shares the DynamoDB client's stack). */
export function cliAwsClients(config: Config): AwsClients {
  const clients = createAwsClients(config);
  nameFailedCalls(clients.s3);
  nameFailedCalls(clients.dynamodb);
  nameFailedCalls(clients.ses);
  return clients;
}

/** Records the call an error came from, for an error rebuilt elsewhere than its client (a shard worker's, in the parent thread). */
export function recordAwsCall(error: object, call: AwsCall): void {
  callOfError.set(error, call);
}

/** The call a failed SDK call's error came from, when its client names them. */
export function awsCallOf(error: unknown): AwsCall | undefined {
  return typeof error === 'object' && error !== null ? callOfError.get(error) : undefined;
}

/** Error names (AWS codes) by what the operator does about them. */
const EXPIRED_OR_INVALID_CREDENTIALS = new Set([
  'ExpiredToken',
  'ExpiredTokenException',
  'RequestExpired',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'InvalidAccessKeyId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'TokenRefreshRequired',
  'InvalidToken',
]);
const NO_CREDENTIALS = new Set(['CredentialsProviderError', 'CredentialsError']);
const DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'AuthorizationError', 'NotAuthorized']);
const NOT_FOUND = new Set(['ResourceNotFoundException', 'NoSuchBucket', 'StateMachineDoesNotExist', 'ExecutionDoesNotExist', 'NotFound']);

export type AwsRefusal = 'credentials' | 'no-credentials' | 'denied' | 'not-found';

/** Why AWS refused a call, when it is one of the reasons the operator fixes; undefined otherwise (a bug, an outage). */
export function awsRefusalOf(error: unknown): AwsRefusal | undefined {
  const name = error instanceof Error ? error.name : undefined;
  if (name === undefined) return undefined;
  if (NO_CREDENTIALS.has(name)) return 'no-credentials';
  // The rest are a service's answers: they carry its HTTP status.
  if (httpStatusOf(error) === undefined) return undefined;
  if (EXPIRED_OR_INVALID_CREDENTIALS.has(name)) return 'credentials';
  if (DENIED.has(name)) return 'denied';
  if (NOT_FOUND.has(name)) return 'not-found';
  return undefined;
}

/** The error or the first of its causes that is an AWS refusal. */
function refusalIn(error: unknown): { error: Error; refusal: AwsRefusal } | undefined {
  let link: unknown = error;
  for (let depth = 0; depth < 8 && link instanceof Error; depth++, link = link.cause) {
    const refusal = awsRefusalOf(link);
    if (refusal !== undefined) return { error: link, refusal };
  }
  return undefined;
}

/**
 * The one line for an AWS refusal, e.g. "DynamoDB Query on clientele-x-runs: not found
 * (ResourceNotFoundException: ...). Check that ...". Undefined when the error is not one.
 */
export function awsRefusalMessage(error: unknown): string | undefined {
  const found = refusalIn(error);
  if (found === undefined) return undefined;
  const call = awsCallOf(found.error);
  const what = call === undefined ? 'an AWS call' : `${call.operation}${call.resource === undefined ? '' : ` on ${call.resource}`}`;
  const detail = `${found.error.name}: ${found.error.message}`;
  switch (found.refusal) {
    case 'no-credentials':
      return `No AWS credentials for ${what} (${detail}). Pass --profile NAME or set the AWS_* environment, then run the command again.`;
    case 'credentials':
      return `AWS refused the credentials for ${what}: expired or invalid (${detail}). Sign in again (e.g. \`aws sso login\`) or pass --profile NAME, then run the command again.`;
    case 'denied':
      return `AWS denied ${what} (${detail}): the credentials in use lack that permission. Use a profile or role that has it (--profile NAME).`;
    case 'not-found':
      return `${what}: not found (${detail}). Check that --stack, or the config's storage (table prefix, bucket) and region, name this deployment.`;
  }
}
