import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clienteleExit } from '#test/support/cli.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { fakeStack } from '#test/support/fake-stack.ts';
import { sharedAws } from '#test/support/local-aws.ts';

/**
 * AWS refusing a call for a reason the operator fixes (expired credentials, a missing permission,
 * a table that does not exist) ends the CLI with one line naming the call and its resource, exit
 * 1, never a stack trace. CloudFormation and Secrets Manager answer from a fake (no emulator);
 * DynamoDB is the emulator.
 */

const aws = sharedAws();
const stack = fakeStack();
const work = scratchDir('cli-aws-errors');
const SECRET_ARN = 'arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:Clientele-prod-unsubscribe-AbCdEf';

const oneLine = (stderr: string) => {
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).not.toMatch(/unexpected error|    at /);
};

describe('AWS refusals from the command line', () => {
  it('an expired token or a denied DescribeStacks: one line naming the call and the stack, exit 1', async () => {
    stack.state.cloudFormationError = { code: 'ExpiredToken', message: 'The security token included in the request is expired', status: 403 };
    const expired = await clienteleExit(['status', '--stack', 'Clientele-prod'], { cwd: work, env: stack.env() });
    expect(expired.code).toBe(1);
    expect(expired.stderr).toMatch(
      /^clientele: AWS refused the credentials for CloudFormation DescribeStacks on Clientele-prod: expired or invalid \(ExpiredToken: The security token included in the request is expired\)\. Sign in again/,
    );
    oneLine(expired.stderr);

    stack.state.cloudFormationError = { code: 'AccessDenied', message: 'User: arn:aws:sts::123456789012:assumed-role/ops/alice is not authorized to perform: cloudformation:DescribeStacks', status: 403 };
    const denied = await clienteleExit(['status', '--stack', 'Clientele-prod'], { cwd: work, env: stack.env() });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/^clientele: AWS denied CloudFormation DescribeStacks on Clientele-prod \(AccessDenied: User: .* is not authorized to perform: cloudformation:DescribeStacks\): the credentials in use lack that permission/);
    oneLine(denied.stderr);
    delete stack.state.cloudFormationError;
  });

  it('a denied GetSecretValue names the secret', async () => {
    const config = { endpoints: aws.config.endpoints };
    const file = join(work, 'endpoints.json');
    await writeFile(file, JSON.stringify(config));
    stack.state.stacks['Clientele-prod'] = {
      DataBucket: 'bucket',
      ExportsLocation: 's3://bucket/exports/<YYYY-MM-DD>/',
      ReportsLocation: 's3://bucket/reports/nightly/<YYYY-MM-DD>/',
      Tables: ['profiles', 'tier-history', 'send-ledger', 'suppression', 'runs', 'advisor-tasks', 'coupon-codes'].map((t) => `Clientele-prod-${t}`).join(', '),
      NightlyStateMachineArn: 'arn:aws:states:ap-southeast-1:123456789012:stateMachine:n',
      CampaignsConfig: JSON.stringify({ storage: { tablePrefix: 'Clientele-prod-', exportsBucket: 'bucket' }, endpoints: { region: 'ap-southeast-1' } }),
      UnsubscribeSecretArn: SECRET_ARN,
    };
    stack.state.secretsError = { code: 'AccessDeniedException', message: 'not authorized to perform: secretsmanager:GetSecretValue', status: 400 };
    const result = await clienteleExit(['run', 'campaigns', '--at', '2026-11-23T10:00:00+08:00', '--dry-run', '--stack', 'Clientele-prod', '--config', file], { cwd: work, env: stack.env() });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^clientele: AWS denied SecretsManager GetSecretValue on ${SECRET_ARN} \\(AccessDeniedException: `));
    oneLine(result.stderr);
  });

  it('a table prefix naming no table: one line naming the table, exit 1', async () => {
    const file = join(work, 'wrong-prefix.json');
    await writeFile(file, JSON.stringify({ endpoints: aws.config.endpoints, storage: { tablePrefix: 'no-such-prefix-' } }));
    const result = await clienteleExit(['status', '--config', file], { cwd: work });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^clientele: DynamoDB Query on no-such-prefix-runs: not found \(ResourceNotFoundException: .*\)\. Check that --stack, or the config's storage/);
    oneLine(result.stderr);
  });
});
