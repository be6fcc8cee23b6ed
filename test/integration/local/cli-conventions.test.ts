import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clienteleExit } from '#test/support/cli.ts';
import { scratchDir } from '#test/support/export-files.ts';

/** The conventions of the command line: --version, exit codes 2 (usage) and 1 (failure), one-line messages. */

const cwd = scratchDir('cli');

/** Runs bin/clientele.mjs in a folder with no .clientele/ config; never rejects. */
const clientele = (...args: string[]) => clienteleExit(args, { cwd });
const clienteleWith = (env: Record<string, string>, ...args: string[]) => clienteleExit(args, { cwd, env });

describe('clientele command line conventions', () => {
  it('--version prints the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const result = await clientele('--version');
    expect(result).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('exits 2 on usage errors: an unknown option, a bad value, a missing required option', async () => {
    for (const args of [['run', 'nightly', '--date', '2026-11-23', '--bogus'], ['run', 'nightly', '--date', '23/11/2026'], ['send-test', '--campaign', 'welcome']]) {
      const result = await clientele(...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/^error: /);
    }
  });

  it('exits 2 in one line on an option out of its bounds or empty, before any command code runs', async () => {
    const cases: [string[], RegExp][] = [
      [['run', 'nightly', '--date', '2026-11-23', '--shards', '101'], /option '--shards <n>' argument '101' is invalid\. expected a whole number from 1 to 100/],
      [['status', '--nights', '101'], /option '--nights <n>' argument '101' is invalid\. expected a whole number from 1 to 100/],
      [['status', '--hours', '400'], /option '--hours <n>' argument '400' is invalid\. expected a whole number from 1 to 336/],
      [['status', '--stack', ''], /option '--stack <name>' argument '' is invalid\. expected a value, not an empty string/],
      [['status', '--config', ''], /option '--config <file>' argument '' is invalid/],
      [['send-test', '--campaign', 'welcome', '--to', 'not-an-address'], /option '--to <address>' argument 'not-an-address' is invalid\. expected an email address/],
    ];
    for (const [args, message] of cases) {
      const result = await clientele(...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`^error: ${message.source}`));
      expect(result.stderr).not.toMatch(/ZodError|    at /);
    }
  });

  it('the demo refuses a night whose day has not begun before it starts anything: one line, exit 2', async () => {
    const result = await clientele('demo', '--date', '2099-11-23', '--state', join(cwd, 'future-demo'));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^clientele: --date 2099-11-23: the night of 2099-11-23 has not begun: it is \d{4}-\d\d-\d\d in Asia\/Shanghai\./);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('without a config or a stack, a command that needs AWS says so in one line and exits 2', async () => {
    const result = await clientele('run', 'nightly', '--date', '2026-11-23');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^clientele: run nightly needs AWS: pass --stack NAME .* or --config FILE .*\n$/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('exits 1 on a failure: an unreadable config file', async () => {
    const result = await clientele('report', '--date', '2026-11-23', '--config', join(cwd, 'missing.json'));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^clientele: Cannot read config file .*missing\.json/);
  });

  it('a config naming local emulators that are not running: one line on what to start, exit 1, no stack trace', async () => {
    // What the demo leaves behind once it has stopped.
    const file = join(cwd, 'stopped-emulators.json');
    await writeFile(file, JSON.stringify({ endpoints: { dynamodb: 'http://127.0.0.1:9', s3: 'http://127.0.0.1:9' } }));
    const result = await clientele('preview', '--campaign', 'welcome', '--customer', 'C1', '--config', file);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^clientele: The local emulators of config .* are not running .*clientele local up/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--stack without AWS credentials says so in one line (exit 2), reaching for no export or table', async () => {
    const noCredentials = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: 'clientele-test-no-such-profile', AWS_EC2_METADATA_DISABLED: 'true' };
    const result = await clienteleWith(noCredentials, 'status', '--stack', 'clientele-prod', '--region', 'eu-west-1');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.code).toBe(2);
  });
});
