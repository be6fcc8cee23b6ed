import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { App, Stack } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ConfigError } from '#shared/config.ts';
import { parseFunctionEnvironment, type FunctionEnvironmentInput } from '#shared/environment.ts';
import { ClienteleFunction } from '#infra/constructs/function.ts';
import { FUNCTIONS_DIR } from '#infra/paths.ts';

/**
 * A function's environment has one schema (shared/environment.ts), read by the handler and
 * typing what its construct sets. The lines marked @ts-expect-error are the compile-time half:
 * `npm test` runs tsc first, and tsc fails if any of them stops being an error (a construct that
 * could set a misnamed or missing variable again).
 */

const CONFIG = '{"timeZone":"Asia/Shanghai"}';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:key-AbCdEf';
const common = { description: 'type test', logRetention: RetentionDays.ONE_DAY };
const entry = (name: string) => join(FUNCTIONS_DIR, name, 'handler.ts');

/** Never called: these constructs only have to compile, or fail to, where marked. */
export const mistakes = {
  misnamed: (scope: Stack) =>
    new ClienteleFunction(scope, 'Unsubscribe', {
      ...common,
      name: 'unsubscribe',
      entry: entry('unsubscribe'),
      environment: {
        CLIENTELE_CONFIG: CONFIG,
        // @ts-expect-error the unsubscribe schema names it UNSUBSCRIBE_SECRET_ARN
        UNSUBSCRIBE_SECRET: SECRET_ARN,
      },
    }),
  missing: (scope: Stack) =>
    new ClienteleFunction(scope, 'Campaigns', {
      ...common,
      name: 'campaigns',
      entry: entry('campaigns'),
      // @ts-expect-error the campaigns schema requires UNSUBSCRIBE_SECRET_ARN
      environment: { CLIENTELE_CONFIG: CONFIG },
    }),
  otherFunctionsVariable: (scope: Stack) =>
    new ClienteleFunction(scope, 'Erasure', {
      ...common,
      name: 'forget',
      entry: entry('forget'),
      // @ts-expect-error the erasure function reads no unsubscribe key: its schema has no such variable
      environment: { CLIENTELE_CONFIG: CONFIG, UNSUBSCRIBE_SECRET_ARN: SECRET_ARN },
    }),
  looseRecord: (scope: Stack, variables: Record<string, string>) =>
    new ClienteleFunction(scope, 'SesEvents', {
      ...common,
      name: 'ses-events',
      entry: entry('ses-events'),
      // @ts-expect-error a loose record proves nothing about CLIENTELE_CONFIG
      environment: variables,
    }),
  wrongType: (): FunctionEnvironmentInput<'nightly'> => ({
    CLIENTELE_CONFIG: CONFIG,
    // @ts-expect-error POWERTOOLS_LOG_LEVEL is one of DEBUG, INFO, WARN, ERROR
    POWERTOOLS_LOG_LEVEL: 'VERBOSE',
  }),
};

describe('function environments, typed by their schemas', () => {
  it('builds a function whose environment its schema accepts', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Types');
    const fn = new ClienteleFunction(stack, 'Unsubscribe', {
      ...common,
      name: 'unsubscribe',
      entry: entry('unsubscribe'),
      environment: { CLIENTELE_CONFIG: CONFIG, UNSUBSCRIBE_SECRET_ARN: SECRET_ARN },
    });
    expect(fn.name).toBe('unsubscribe');
  });

  it('fails the handler, naming the variable, when the environment it gets is not its schema\'s', () => {
    expect(() => parseFunctionEnvironment('unsubscribe', { CLIENTELE_CONFIG: CONFIG, UNSUBSCRIBE_SECRET: SECRET_ARN })).toThrow(ConfigError);
    expect(() => parseFunctionEnvironment('unsubscribe', { CLIENTELE_CONFIG: CONFIG, UNSUBSCRIBE_SECRET: SECRET_ARN })).toThrow(/UNSUBSCRIBE_SECRET_ARN/);
  });
});
