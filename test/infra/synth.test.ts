import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_TAG } from '#infra/constructs/function.ts';
import { parseConfig } from '#shared/config.ts';
import type { FromFileThread, ThreadedFileRead, ToFileThread } from '#shared/exports/file-threads.ts';
import { FUNCTIONS_DIR, PROJECT_ROOT } from '#infra/paths.ts';

/**
 * `npm run synth` as a fresh clone runs it: no AWS credentials or config, no Docker, no CDK CLI,
 * the real functions/ and cdk.json. One synthesis for the whole file.
 */

/** The environment minus anything that could hand the SDK or the CDK credentials. */
function offlineEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('AWS_') && !key.startsWith('CDK_')) env[key] = value;
  }
  return { ...env, AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', AWS_EC2_METADATA_DISABLED: 'true' };
}

function runSynth(...args: string[]) {
  return spawnSync('npm', ['run', '--silent', 'synth', '--', ...args], {
    cwd: PROJECT_ROOT,
    env: offlineEnvironment(),
    encoding: 'utf8',
    timeout: 240_000,
  });
}

const ORDERS_CSV = 'order_id,customer_id,ordered_at,line_total\nO1,C1,2026-11-02T10:00:00Z,10.00\nO2,C1,2026-11-03T10:00:00Z,5.00\nO3,C2,not a date,1.00\nO4,C2,2026-11-04T10:00:00Z,2.50\n';

/** Drives a bundled orders worker through its protocol (shared/exports/file-threads.ts) on ORDERS_CSV. */
function readWithBundledWorker(file: string): Promise<{ lines: number; report: ThreadedFileRead['report'] }> {
  const worker = new Worker(file, { execArgv: [] });
  let lines = 0;
  const send = (message: ToFileThread) => worker.postMessage(message);
  let sent = false;
  return new Promise<{ lines: number; report: ThreadedFileRead['report'] }>((resolve, reject) => {
    worker.on('error', reject);
    worker.on('message', (message: FromFileThread) => {
      if (message.type === 'more') {
        if (!sent) send({ type: 'bytes', bytes: new Uint8Array(Buffer.from(ORDERS_CSV)) });
        else send({ type: 'end' });
        sent = true;
      } else if (message.type === 'orders') lines += message.batch.count;
      else if (message.type === 'done') resolve({ lines, report: message.read.report });
      else if (message.type === 'failed') reject(new Error(JSON.stringify(message.failure)));
    });
    send({
      type: 'read',
      job: {
        file: { key: 'orders.csv', name: 'orders.csv', kind: 'orders', format: 'generic', encoding: 'csv', listed: undefined },
        fileIndex: 0,
        location: 'orders.csv',
        config: parseConfig({ timeZone: 'UTC' }),
        now: Date.parse('2026-11-24T00:00:00Z'),
        hashLines: true,
      },
    });
  }).finally(() => void worker.terminate());
}

type Template = { Resources: Record<string, { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string }> };

let outdir: string;
let result: ReturnType<typeof runSynth>;
let template: Template;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'clientele-synth-'));
  result = runSynth('-o', outdir);
  const file = join(outdir, 'Clientele-dev.template.json');
  template = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Template) : { Resources: {} };
}, 240_000);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const resources = (type: string) => Object.values(template.Resources).filter((r) => r.Type === type);

describe('npm run synth', () => {
  it('synthesizes offline with cdk-nag passing', () => {
    expect(result.stderr + result.stdout).not.toMatch(/Validation failed|Error:/);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/Synthesized Clientele-dev: .*Clientele-dev\.template\.json .*no unacknowledged findings/);
  });

  it('deploys each folder of functions/ as one Lambda, and nothing else', () => {
    const deployed = resources('AWS::Lambda::Function')
      .map((fn) => (fn.Properties.Tags as { Key: string; Value: string }[]).find((t) => t.Key === FUNCTION_TAG)?.Value)
      .sort();
    const folders = readdirSync(FUNCTIONS_DIR, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
    expect(deployed).toEqual(folders);
    expect(deployed).toEqual(['advisor-task', 'campaigns', 'forget', 'nightly', 'ses-events', 'unsubscribe']);
  });

  it('bundles each handler with esbuild as ESM, leaving the AWS SDK to the runtime', () => {
    for (const fn of resources('AWS::Lambda::Function')) {
      const key = String((fn.Properties.Code as { S3Key: unknown }).S3Key);
      const bundle = join(outdir, `asset.${key.replace(/\.zip$/, '')}`, 'index.mjs');
      expect(existsSync(bundle), bundle).toBe(true);
      const code = readFileSync(bundle, 'utf8');
      expect(code).toMatch(/from\s*"@aws-sdk\/client-dynamodb"/);
      // The SDK's own implementation is not in the bundle.
      expect(code).not.toMatch(/class DynamoDBClient\b/);
    }
  });

  it('bundles the orders worker beside the handlers that read exports, and it reads an orders file on its own', async () => {
    const readers = resources('AWS::Lambda::Function').filter((fn) =>
      (fn.Properties.Tags as { Key: string; Value: string }[]).some((t) => t.Key === FUNCTION_TAG && ['nightly', 'campaigns'].includes(t.Value)),
    );
    expect(readers).toHaveLength(2);
    for (const fn of readers) {
      const dir = join(outdir, `asset.${String((fn.Properties.Code as { S3Key: unknown }).S3Key).replace(/\.zip$/, '')}`);
      expect(readFileSync(join(dir, 'index.mjs'), 'utf8')).toContain('file-threads-worker.mjs');
      // Run from the synthesized folder, away from the project's node_modules: the bundle must stand alone.
      const read = await readWithBundledWorker(join(dir, 'file-threads-worker.mjs'));
      expect(read.lines).toBe(3);
      expect(read.report).toMatchObject({ rows: 4, rejected: 1, bytes: ORDERS_CSV.length });
    }
  }, 60_000);

  it('uses the cdk.json defaults: dev stage, 5% / 0.1% SES alarms, tables kept but not deletion-protected', () => {
    const ses = resources('AWS::CloudWatch::Alarm').filter((a) => a.Properties.Namespace === 'AWS/SES');
    expect(ses.map((a) => [a.Properties.MetricName, a.Properties.Threshold]).sort()).toEqual([
      ['Reputation.BounceRate', 0.05],
      ['Reputation.ComplaintRate', 0.001],
    ]);
    for (const table of resources('AWS::DynamoDB::Table')) {
      expect(table.Properties.DeletionProtectionEnabled).toBe(false);
      expect(table.DeletionPolicy).toBe('Retain');
    }
  });

  it('without advisors or team addresses in the config, the nightly function may still mail the advisors the export\'s roster names, as its identity only', () => {
    const nightly = resources('AWS::Lambda::Function').find((fn) =>
      (fn.Properties.Tags as { Key: string; Value: string }[]).some((t) => t.Key === FUNCTION_TAG && t.Value === 'nightly'),
    );
    const [role] = (nightly?.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'];
    // Its inline policy, and the managed one CDK moves statements to once the inline one is full.
    const actions = [...resources('AWS::IAM::Policy'), ...resources('AWS::IAM::ManagedPolicy')]
      .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(`"Ref":"${role}"`))
      .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement.flatMap((st) => st.Action));
    expect(actions).toContain('dynamodb:PutItem');
    // The roster comes with the export (issue 16): only the run knows whether there are advisors to mail.
    expect(actions.filter((action) => action.startsWith('ses:'))).toEqual(['ses:SendEmail']);
  });

  it('stops at a bad setting with a message naming it, before building anything', () => {
    const bad = runSynth('-c', 'clientele:timeZone=Mars/Phobos', '-o', join(outdir, 'bad'));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('-c clientele:timeZone: must be an IANA time zone');
    expect(existsSync(join(outdir, 'bad', 'manifest.json'))).toBe(false);
  });

  it('stops at a mistyped override rather than deploying without it (alarmsEmail for alarmEmail)', () => {
    const typo = runSynth('-c', 'clientele:alarmsEmail=ops@example.com', '-c', 'clientele:stage=prod', '-o', join(outdir, 'typo'));
    expect(typo.status).toBe(1);
    expect(typo.stderr).toContain('-c clientele:alarmsEmail: not a setting that -c can override');
    expect(typo.stderr).toContain('alarmEmail, schedulesEnabled, nightlyShards)');
    expect(existsSync(join(outdir, 'typo', 'manifest.json'))).toBe(false);
  });
});
