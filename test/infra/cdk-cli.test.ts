import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '#infra/paths.ts';

/**
 * The deploy path goes through the CDK CLI pinned in devDependencies (`npx cdk ...`), not only
 * through the app: the CLI must read the cloud assembly this aws-cdk-lib writes. Offline: no AWS
 * credentials or config, no Docker. One synthesis (cdk.json's app, bundling and cdk-nag included)
 * for the whole file; `ls` and `diff` then read that assembly.
 */

function offlineEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('AWS_') && !key.startsWith('CDK_')) env[key] = value;
  }
  return { ...env, AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', AWS_EC2_METADATA_DISABLED: 'true' };
}

/** The project's own CLI, as `npx cdk` resolves it. */
const CDK = join(PROJECT_ROOT, 'node_modules', '.bin', 'cdk');

function cdk(...args: string[]) {
  return spawnSync(CDK, args, { cwd: PROJECT_ROOT, env: offlineEnvironment(), encoding: 'utf8', timeout: 420_000 });
}

let outdir: string;
let synth: ReturnType<typeof cdk>;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'clientele-cdk-cli-'));
  synth = cdk('synth', '-q', '-o', outdir);
}, 420_000);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('the CDK CLI (devDependency)', () => {
  it('is the pinned version', () => {
    const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    const version = cdk('--version');
    expect(version.status).toBe(0);
    expect(version.stdout.trim().split(' ')[0]).toBe(pkg.devDependencies['aws-cdk']);
  });

  it('`cdk synth` runs the app of cdk.json and writes the stack offline', () => {
    expect(synth.stderr + synth.stdout).not.toMatch(/Validation failed|schema version|Error:/);
    expect(synth.status).toBe(0);
    const template = JSON.parse(readFileSync(join(outdir, 'Clientele-dev.template.json'), 'utf8')) as { Resources: Record<string, { Type: string }> };
    expect(Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function')).toHaveLength(6);
    expect(existsSync(join(outdir, 'manifest.json'))).toBe(true);
  });

  it('`cdk ls` reads the assembly and names the one stack', () => {
    const ls = cdk('ls', '--app', outdir);
    expect(ls.status).toBe(0);
    expect(ls.stdout.trim()).toBe('Clientele-dev');
  });

  it('`cdk diff --template` compares against a saved template without credentials', () => {
    const diff = cdk('diff', '--app', outdir, '--template', join(outdir, 'Clientele-dev.template.json'));
    expect(diff.status).toBe(0);
    expect(diff.stdout + diff.stderr).toContain('There were no differences');
  });
});
