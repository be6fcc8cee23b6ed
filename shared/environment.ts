import { z } from 'zod';
import { ConfigError, parseConfig, type Config } from './config.ts';
import { ClienteleError } from './errors.ts';
import { issuesText } from '#shared/zod-issues.ts';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Each Lambda's environment, one zod schema per function. The CDK construct that deploys a
 * function types the variables it sets with `z.input<...>` and the handler reads them with
 * `parseFunctionEnvironment` (`z.infer<...>`), so a renamed or missing variable fails `tsc`,
 * not the first run at 2 a.m.
 *
 * Secrets never travel as plain variables: a function gets the secret's ARN and reads the value
 * through the AWS Parameters and Secrets Lambda Extension (`readSecret`), which the stack attaches.
 */

const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

/** Every function: the suite's configuration, with the deployed bucket and table names filled in. */
const baseEnvironment = {
  /** The suite's configuration as JSON, parsed with parseConfig. Required: defaults would point at no real table. */
  CLIENTELE_CONFIG: z.string().min(2, 'CLIENTELE_CONFIG must hold the suite configuration as JSON'),
  /** Read by Powertools Logger and Metrics when a handler uses them. */
  POWERTOOLS_SERVICE_NAME: z.string().min(1).default('clientele'),
  POWERTOOLS_METRICS_NAMESPACE: z.string().min(1).default('Clientele'),
  POWERTOOLS_LOG_LEVEL: z.enum(LOG_LEVELS).default('INFO'),
};

/** ARN of the Secrets Manager secret holding the unsubscribe-token HMAC key (AWSCURRENT, AWSPREVIOUS while rotating). */
const unsubscribeSecretArn = z.string().min(1, 'UNSUBSCRIBE_SECRET_ARN must name the unsubscribe key secret');

/** The nightly run: the unsubscribe key signs the introduction tasks' one-click links in the advisors' digests. */
export const nightlyEnvironmentSchema = z.object({ ...baseEnvironment, UNSUBSCRIBE_SECRET_ARN: unsubscribeSecretArn });

export const sesEventsEnvironmentSchema = z.object({ ...baseEnvironment });

/** The right-to-erasure function: invoked by hand (aws lambda invoke) with { customerId } or { email }. */
export const forgetEnvironmentSchema = z.object({ ...baseEnvironment });

export const unsubscribeEnvironmentSchema = z.object({
  ...baseEnvironment,
  UNSUBSCRIBE_SECRET_ARN: unsubscribeSecretArn,
});

/** The advisors' task links (functions/advisor-task): verified with the unsubscribe links' key, under a purpose of their own. */
export const advisorTaskEnvironmentSchema = z.object({
  ...baseEnvironment,
  UNSUBSCRIBE_SECRET_ARN: unsubscribeSecretArn,
});

/**
 * The campaign sender. Its sending settings (from address, configuration set, send rate, the
 * unsubscribe function's URL) travel in CLIENTELE_CONFIG's `sender` section, filled by the stack.
 */
export const campaignsEnvironmentSchema = z.object({
  ...baseEnvironment,
  UNSUBSCRIBE_SECRET_ARN: unsubscribeSecretArn,
});

/** One schema per folder of functions/: the stack deploys exactly these Lambdas. */
export const FUNCTION_ENVIRONMENTS = {
  nightly: nightlyEnvironmentSchema,
  'ses-events': sesEventsEnvironmentSchema,
  unsubscribe: unsubscribeEnvironmentSchema,
  'advisor-task': advisorTaskEnvironmentSchema,
  campaigns: campaignsEnvironmentSchema,
  forget: forgetEnvironmentSchema,
} as const;

export type FunctionName = keyof typeof FUNCTION_ENVIRONMENTS;
/** What the stack sets (defaults may be left out). */
export type FunctionEnvironmentInput<N extends FunctionName> = z.input<(typeof FUNCTION_ENVIRONMENTS)[N]>;
/** What the handler reads. */
export type FunctionEnvironment<N extends FunctionName> = z.infer<(typeof FUNCTION_ENVIRONMENTS)[N]>;

/** Parses a function's environment, with one message naming every bad variable (never its value). */
export function parseFunctionEnvironment<N extends FunctionName>(
  name: N,
  env: Record<string, string | undefined>,
): FunctionEnvironment<N> {
  const schema: z.ZodType = FUNCTION_ENVIRONMENTS[name];
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(`Invalid ${name} function environment: ${issuesText(parsed.error)}`);
  }
  // Indexing the map by a generic N loses the pairing TypeScript would need; the map keeps it.
  return parsed.data as FunctionEnvironment<N>;
}

/** The deployed configuration carried by CLIENTELE_CONFIG. */
export function configFromEnvironment(json: string): Config {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (error) {
    throw new ConfigError(`CLIENTELE_CONFIG is not valid JSON: ${(error as Error).message}`);
  }
  return parseConfig(data, 'CLIENTELE_CONFIG');
}

export interface ReadSecretOptions {
  /** AWSCURRENT by default; AWSPREVIOUS is the key before the last rotation. */
  versionStage?: 'AWSCURRENT' | 'AWSPREVIOUS';
  /** The extension's port; the layer sets PARAMETERS_SECRETS_EXTENSION_HTTP_PORT. */
  port?: number;
  /** Authenticates the call to the extension; Lambda sets AWS_SESSION_TOKEN. */
  sessionToken?: string;
  /** Attempts while the extension is still starting (it answers 400 "not ready" early in a cold start). */
  attempts?: number;
  fetch?: typeof fetch;
}

export class SecretError extends ClienteleError {
  override name = 'SecretError';
  constructor(
    message: string,
    /** The extension's HTTP status, when it answered. */
    readonly status?: number,
  ) {
    super('SECRET_UNREADABLE', message);
  }
}

const secretResponseSchema = z.object({ SecretString: z.string() });

/**
 * Reads a secret string through the AWS Parameters and Secrets Lambda Extension (a local HTTP
 * cache on port 2773), so no Secrets Manager SDK client is bundled. Call it from the handler
 * (first invocation, then memoise): during the init phase the extension may not serve yet.
 */
export async function readSecret(secretId: string, options: ReadSecretOptions = {}): Promise<string> {
  const port = options.port ?? Number(process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT ?? 2773);
  const token = options.sessionToken ?? process.env.AWS_SESSION_TOKEN ?? '';
  const doFetch = options.fetch ?? fetch;
  const attempts = Math.max(1, options.attempts ?? 5);
  const query = new URLSearchParams({ secretId, versionStage: options.versionStage ?? 'AWSCURRENT' });
  const url = `http://localhost:${port}/secretsmanager/get?${query.toString()}`;
  let last: SecretError | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const response = await doFetch(url, { headers: { 'X-Aws-Parameters-Secrets-Token': token } });
    const body = await response.text();
    if (response.ok) {
      const parsed = secretResponseSchema.safeParse(JSON.parse(body));
      if (!parsed.success) throw new SecretError(`Secret ${secretId} has no SecretString`);
      return parsed.data.SecretString;
    }
    // The body may echo the request, never the secret; keep it short in the message anyway.
    last = new SecretError(`Reading secret ${secretId} failed (${response.status}): ${body.slice(0, 200)}`, response.status);
    const starting = response.status === 400 && /not ready/i.test(body);
    if (!starting) break;
    await sleep(50 * attempt);
  }
  throw last ?? new SecretError(`Reading secret ${secretId} failed`);
}

/**
 * The unsubscribe-token keys, current first, then the previous one while a rotation's links are
 * still in inboxes. A secret never rotated has no AWSPREVIOUS version: that is not an error.
 */
export async function readUnsubscribeSecrets(secretArn: string, options: Omit<ReadSecretOptions, 'versionStage'> = {}): Promise<string[]> {
  const current = await readSecret(secretArn, options);
  try {
    return [current, await readSecret(secretArn, { ...options, versionStage: 'AWSPREVIOUS', attempts: 1 })];
  } catch (error) {
    if (error instanceof SecretError && error.status !== undefined && error.status >= 400 && error.status < 500) return [current];
    throw error;
  }
}

/** Keeps only the variables that are set (Lambda takes strings, z.input leaves defaults optional). */
export function lambdaEnvironment(environment: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(Object.entries(environment).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
