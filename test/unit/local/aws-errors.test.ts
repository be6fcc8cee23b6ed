import { describe, expect, it } from 'vitest';
import { awsCallOf, awsRefusalMessage, awsRefusalOf, nameFailedCalls } from '#local/aws-errors.ts';
import { exitCodeOf } from '#local/program.ts';
import { parseIntBetween, parseNonEmpty } from '#local/options.ts';

/** How the CLI words AWS refusing a call: which call, on what, and what to do. */

const answer = (name: string, message: string, status: number) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

/** Runs one call through the middleware nameFailedCalls adds, the call failing with `error`. */
async function failedCall(error: Error, context: { clientName: string; commandName: string }, input: Record<string, unknown>): Promise<unknown> {
  let middleware: ((next: (args: unknown) => Promise<unknown>, ctx: typeof context) => (args: { input: unknown }) => Promise<unknown>) | undefined;
  nameFailedCalls({ middlewareStack: { add: (m) => (middleware = m) } });
  const next = () => Promise.reject(error);
  return middleware?.(next, context)({ input }).catch((e: unknown) => e);
}

describe('nameFailedCalls', () => {
  it('records the operation and the resource the failed call named: a table, a bucket and key, a stack, a secret', async () => {
    const cases: [string, string, Record<string, unknown>, string | undefined][] = [
      ['DynamoDBClient', 'QueryCommand', { TableName: 'p-runs' }, 'p-runs'],
      ['S3Client', 'GetObjectCommand', { Bucket: 'data', Key: 'reports/x.json' }, 's3://data/reports/x.json'],
      ['CloudFormationClient', 'DescribeStacksCommand', { StackName: 'Clientele-prod' }, 'Clientele-prod'],
      ['SecretsManagerClient', 'GetSecretValueCommand', { SecretId: 'arn:aws:secretsmanager:x' }, 'arn:aws:secretsmanager:x'],
      ['SESv2Client', 'GetAccountCommand', {}, undefined],
    ];
    for (const [clientName, commandName, input, resource] of cases) {
      const error = await failedCall(new Error('no'), { clientName, commandName }, input);
      expect(awsCallOf(error)).toEqual({ operation: `${clientName.replace(/Client$/, '')} ${commandName.replace(/Command$/, '')}`, ...(resource ? { resource } : {}) });
    }
  });
});

describe('awsRefusalMessage', () => {
  it('an expired token: sign in again; a denial: the permission; a missing table: names it; exit 1', async () => {
    const expired = await failedCall(answer('ExpiredTokenException', 'The security token included in the request is expired', 400), { clientName: 'DynamoDBClient', commandName: 'QueryCommand' }, { TableName: 'p-runs' });
    expect(awsRefusalMessage(expired)).toBe(
      'AWS refused the credentials for DynamoDB Query on p-runs: expired or invalid (ExpiredTokenException: The security token included in the request is expired). Sign in again (e.g. `aws sso login`) or pass --profile NAME, then run the command again.',
    );
    const denied = await failedCall(answer('AccessDeniedException', 'not authorized to perform: dynamodb:Query', 400), { clientName: 'DynamoDBClient', commandName: 'QueryCommand' }, { TableName: 'p-runs' });
    expect(awsRefusalMessage(denied)).toMatch(/^AWS denied DynamoDB Query on p-runs \(AccessDeniedException: not authorized to perform: dynamodb:Query\): the credentials in use lack that permission/);
    const missing = await failedCall(answer('ResourceNotFoundException', 'Requested resource not found', 400), { clientName: 'DynamoDBClient', commandName: 'QueryCommand' }, { TableName: 'p-runs' });
    expect(awsRefusalMessage(missing)).toMatch(/^DynamoDB Query on p-runs: not found \(ResourceNotFoundException: Requested resource not found\)\. Check that --stack/);
    expect(exitCodeOf(missing)).toBe(1);
  });

  it('finds the refusal behind a wrapping error; leaves a throttle, a server error or a bug to the stack trace', () => {
    expect(awsRefusalOf(new Error('shard 0/2 failed', { cause: answer('AccessDenied', 'denied', 403) }))).toBeUndefined();
    expect(awsRefusalMessage(new Error('shard 0/2 failed', { cause: answer('AccessDenied', 'denied', 403) }))).toMatch(/^AWS denied an AWS call \(AccessDenied: denied\)/);
    expect(awsRefusalMessage(answer('ProvisionedThroughputExceededException', 'slow down', 400))).toBeUndefined();
    expect(awsRefusalMessage(answer('InternalServerError', 'oops', 500))).toBeUndefined();
    // A name alone, without a service's answer, is not AWS refusing anything.
    expect(awsRefusalMessage(Object.assign(new Error('x'), { name: 'AccessDenied' }))).toBeUndefined();
    expect(awsRefusalMessage(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }))).toMatch(/^No AWS credentials for an AWS call/);
  });
});

describe('option parsers', () => {
  it('parseIntBetween takes whole numbers within its bounds; parseNonEmpty refuses an empty value', () => {
    const shards = parseIntBetween(1, 100);
    expect(shards('1')).toBe(1);
    expect(shards('100')).toBe(100);
    for (const bad of ['0', '101', '2.5', '', ' ', 'x']) expect(() => shards(bad), bad).toThrow('expected a whole number from 1 to 100');
    expect(parseNonEmpty('Clientele-prod')).toBe('Clientele-prod');
    expect(() => parseNonEmpty('')).toThrow('expected a value, not an empty string');
  });
});
