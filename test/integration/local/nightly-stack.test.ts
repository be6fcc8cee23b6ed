import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateExport } from '#local/generate/generate.ts';
import type { Config } from '#shared/config.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { tableNames } from '#shared/store/tables.ts';
import { clienteleExit } from '#test/support/cli.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { uploadExport } from '#test/support/emulator-data.ts';
import { fakeStack } from '#test/support/fake-stack.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';

/**
 * `clientele run nightly --date D --stack NAME` starts an execution of the stack's state machine,
 * follows it to its end and prints the night's summary. When the execution found the night already
 * completed from the same export, it wrote nothing (a rerun): the CLI says so, as a local run does,
 * and does not print the stored night as if it had just been written.
 *
 * Step Functions is faked over HTTP (AWS_ENDPOINT_URL_SFN): StartExecution runs what the nightly
 * function runs with that input (runNightly, run id nightly-<execution name>); DescribeExecution
 * answers SUCCEEDED with the start date and the output the deployed state machine gives (its Report
 * state: runDate, summaryObject, rejected, changes).
 */
const aws = sharedAws();
const stack = fakeStack();
const work = scratchDir('nightly-stack');
const NIGHT = '2026-11-23';
const STACK = 'Clientele-nightly-stack';
let config: Config;
let endpointsFile: string;
let sfn: Server;
let sfnUrl = '';
const executions = new Map<string, { startDate: number; output: string }>();

beforeAll(async () => {
  config = await scenarioConfig(aws, 'nightly-stack');
  const { storage } = config;
  stack.state.stacks[STACK] = {
    DataBucket: storage.exportsBucket,
    ExportsLocation: `s3://${storage.exportsBucket}/${storage.exportsPrefix}/<YYYY-MM-DD>/`,
    ReportsLocation: `s3://${storage.exportsBucket}/${storage.reportsPrefix}/nightly/<YYYY-MM-DD>/`,
    Tables: Object.values(tableNames(config)).join(', '),
    NightlyStateMachineArn: `arn:aws:states:ap-southeast-1:123456789012:stateMachine:${STACK}-nightly`,
    BrandTimeZone: config.timeZone,
  };
  endpointsFile = join(work, 'endpoints.json');
  await writeFile(endpointsFile, JSON.stringify({ endpoints: config.endpoints }));
  sfn = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      void (async () => {
        const target = String(request.headers['x-amz-target'] ?? '');
        const input = JSON.parse(body) as { stateMachineArn?: string; name?: string; input?: string; executionArn?: string };
        response.setHeader('content-type', 'application/x-amz-json-1.0');
        if (target.endsWith('.StartExecution')) {
          const executionArn = `${input.stateMachineArn?.replace(':stateMachine:', ':execution:')}:${input.name}`;
          const startDate = Date.now();
          const { runDate } = JSON.parse(input.input ?? '{}') as { runDate: string };
          const summary = await runNightly({ clock: Date.now, runDate, runId: `nightly-${input.name}`, config, clients: aws.clients });
          const output = { runDate: summary.runDate, summaryObject: summary.report.summaryObject, rejected: summary.input.rejected, changes: summary.changes };
          executions.set(executionArn, { startDate, output: JSON.stringify(output) });
          response.end(JSON.stringify({ executionArn, startDate: startDate / 1000 }));
          return;
        }
        if (target.endsWith('.DescribeExecution')) {
          const execution = executions.get(input.executionArn ?? '');
          const startDate = (execution?.startDate ?? Date.now()) / 1000;
          response.end(JSON.stringify({ executionArn: input.executionArn, stateMachineArn: 'arn:sm', status: 'SUCCEEDED', startDate, stopDate: Date.now() / 1000, input: '{}', output: execution?.output }));
          return;
        }
        response.statusCode = 400;
        response.end(JSON.stringify({ __type: 'UnknownOperationException', message: target }));
      })();
    });
  });
  await new Promise<void>((resolve) => sfn.listen(0, '127.0.0.1', resolve));
  sfnUrl = `http://127.0.0.1:${(sfn.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => sfn.close(() => resolve())));

describe('run nightly --stack', () => {
  it('prints the night the execution wrote; run again on the same export, says that it wrote nothing, as a local run does', { timeout: 180_000 }, async () => {
    const dir = join(work, 'export');
    await generateExport({ customers: 60, seed: 3, asOf: NIGHT, timeZone: config.timeZone, roster: false }, dir);
    await uploadExport(aws, config, dir, NIGHT);
    const env = { ...stack.env(), AWS_ENDPOINT_URL_SFN: sfnUrl };
    const run = (...args: string[]) => clienteleExit(['run', 'nightly', '--date', NIGHT, ...args, '--stack', STACK, '--config', endpointsFile, '--log-level', 'error'], { env });

    const first = await run();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).not.toMatch(/Already completed/);
    expect(first.stdout).toMatch(/^Written: 60 profiles/m);
    const firstRunId = /run id (nightly-cli-[^,)\s]+)/.exec(first.stdout)?.[1];
    expect(firstRunId).toBeDefined();

    const again = await run();
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`Already completed by run ${firstRunId} from this same export and configuration: nothing written \\(rerun nightly-cli-\\S+ recorded\\)`));

    const json = await run('--json');
    expect(json.code, json.stderr).toBe(0);
    const summary = JSON.parse(json.stdout) as { runId: string; rerun?: { runId: string; of: string } };
    expect(summary.runId).toBe(firstRunId);
    expect(summary.rerun).toMatchObject({ of: firstRunId, runId: expect.stringMatching(/^nightly-cli-/) });
    expect(summary.rerun?.runId).not.toBe(firstRunId);
  });
});
