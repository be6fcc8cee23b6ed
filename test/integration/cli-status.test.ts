import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatStatus, gatherStatus, type StatusResult } from '#local/commands/status.ts';
import { generateExport } from '#local/generate/generate.ts';
import type { EndedExecution } from '#local/state-machine.ts';
import { configFromStackOutputs, loadTarget, type StackOutputs } from '#local/target.ts';
import { parseConfig, type Config } from '#shared/config.ts';
import { claimOccasion, recordDecision, recordOutcome } from '#shared/store/ledger-store.ts';
import { CAMPAIGNS_JOB } from '#shared/sender/run.ts';
import { runsItemOf } from '#shared/nightly/runs-item.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';
import { putRun } from '#shared/store/runs-store.ts';
import { tableName, tableNames } from '#shared/store/tables.ts';
import { clienteleExit } from '#test/support/cli.ts';
import { exportDir, scratchDir } from '#test/support/export-files.ts';
import { uploadExport } from '#test/support/emulator-data.ts';
import { namedStorageConfig, scenarioConfig, sharedAws } from '#test/support/local-aws.ts';

/**
 * `clientele status` against the emulators, through the code path of `--stack NAME`: a fake
 * stack's outputs name the emulators' bucket and tables (with a prefix of their own), over a
 * config that only names the endpoints.
 */

const HOUR = 3_600_000;
const NOW = Date.parse('2026-11-24T04:30:00Z'); // 12:30 in Shanghai
const shared = sharedAws();
const work = scratchDir('status');
/** The fake stack's storage on the shared emulators: its own table prefix and bucket. */
let aws: { config: Config; clients: typeof shared.clients };
let baseConfigFile: string;

/** What infra/stack.ts's outputs would say for a stack whose resources are the emulators'. */
function fakeStackOutputs(): StackOutputs {
  const { storage } = aws.config;
  return {
    DataBucket: storage.exportsBucket,
    ExportsLocation: `s3://${storage.exportsBucket}/${storage.exportsPrefix}/<YYYY-MM-DD>/`,
    ReportsLocation: `s3://${storage.exportsBucket}/${storage.reportsPrefix}/nightly/<YYYY-MM-DD>/`,
    Tables: Object.values(tableNames(aws.config)).join(', '),
    NightlyStateMachineArn: 'arn:aws:states:ap-east-1:123456789012:stateMachine:NightlyPipeline',
    ForgetFunctionName: 'fake-stack-forget',
    UnsubscribeUrl: 'https://abc.lambda-url.ap-east-1.on.aws/',
  };
}

beforeAll(async () => {
  aws = { config: await namedStorageConfig(shared, { tablePrefix: 'fake-stack-', exportsBucket: 'fake-stack-data' }), clients: shared.clients };
  // The base config names the endpoints only: the tables and bucket come from the stack's outputs.
  baseConfigFile = join(work, 'endpoints.json');
  await writeFile(baseConfigFile, JSON.stringify({ endpoints: aws.config.endpoints }));

  const { documents } = aws.clients;
  const runs = tableName(aws.config, 'runs');
  await putRun(documents, runs, {
    job: 'nightly',
    runDate: '2026-11-22',
    status: 'completed',
    runId: 'nightly-a',
    startedAt: '2026-11-22T18:00:05.000Z',
    durationMs: 61_000,
    distribution: { clients: 2000 },
    written: { profiles: 2000, tierHistory: 1800 },
    input: { rows: 9000, rejected: 12 },
    report: { summaryObject: 's3://fake-stack-data/reports/nightly/2026-11-22/summary.json', reportObject: 's3://fake-stack-data/reports/nightly/2026-11-22/report.html' },
  });
  await putRun(documents, runs, {
    job: 'nightly',
    runDate: '2026-11-23',
    status: 'completed',
    runId: 'nightly-b',
    startedAt: '2026-11-23T18:00:04.000Z',
    durationMs: 42_500,
    distribution: { clients: 2010 },
    written: { profiles: 37, tierHistory: 20 },
    input: { rows: 9050, rejected: 3 },
    report: { summaryObject: 's3://x/summary.json', reportError: 'S3 said no', teamEmail: { recipients: 3, sent: 1, failed: 1, unresolved: 1 } },
    // The last night of a digest week with more digests never sent than the runs item lists (runs-item.ts).
    advisorDigests: { week: '2026-W47', totals: { failed: 0, deferred: 0 }, unsent: ['ADV-1', 'ADV-2'] },
    listsCut: { lengths: { 'advisorDigests.unsent': 40 } },
  });
  // A night started and never completed.
  await putRun(documents, runs, { job: 'nightly', runDate: '2026-11-24', status: 'writing', runId: 'nightly-c', startedAt: '2026-11-24T18:00:03.000Z' });

  const ledger = tableName(aws.config, 'sendLedger');
  const claim = (customerId: string, campaignId: string, now: number) => ({
    customerId,
    occasionKey: `${campaignId}#1`,
    campaignId,
    runId: `campaigns-${now}`,
    now,
    retentionDays: 400,
  });
  const tenOClock = NOW - 2.5 * HOUR; // 02:00Z, 10:00 in Shanghai
  for (const id of ['C1', 'C2']) {
    await claimOccasion(documents, ledger, claim(id, 'welcome', tenOClock));
    await recordOutcome(documents, ledger, { customerId: id, occasionKey: 'welcome#1' }, `campaigns-${tenOClock}`, { status: 'sent', messageId: `m-${id}`, sentAt: tenOClock }, tenOClock);
  }
  await recordDecision(documents, ledger, claim('C3', 'winback', tenOClock), 'held-out');
  await recordDecision(documents, ledger, claim('C4', 'winback', NOW - 0.5 * HOUR), 'capped');
  // The team email's once-only entry: not a campaign occasion.
  await claimOccasion(documents, ledger, claim('team', 'nightly-report', tenOClock));
  // Older than the hours asked for.
  await recordDecision(documents, ledger, claim('C5', 'welcome', NOW - 30 * HOUR), 'held-out');
  // The sender's record of its 10:00 run (shared/sender/run.ts), and one outside the window.
  const counts = (due: number, sent: number, failed: number) => ({ due, sent, failed, 'held-out': 0, suppressed: 0, capped: 0, deferred: 0, expired: 0, alreadyClaimed: 0, left: 0 });
  for (const at of [tenOClock, NOW - 30 * HOUR]) {
    const iso = new Date(at).toISOString();
    await putRun(documents, runs, { job: CAMPAIGNS_JOB, runDate: `${iso}#campaigns-${at}`, runId: `campaigns-${at}`, at: iso, clientsDue: 3, campaigns: { welcome: counts(2, 2, 0), winback: counts(1, 0, 1) }, stopped: 'circuit-breaker', maybeSent: 0, staleClaims: 0, durationMs: 900 });
  }
});

describe('clientele status', () => {
  it('reads a stack\'s outputs into the config: tables, bucket, prefixes, region, state machine', () => {
    const { config, stack } = configFromStackOutputs(parseConfig({}), 'fake', fakeStackOutputs());
    expect(config.storage).toMatchObject({ tablePrefix: 'fake-stack-', exportsBucket: 'fake-stack-data', reportsBucket: 'fake-stack-data', exportsPrefix: 'exports', reportsPrefix: 'reports' });
    expect(config.endpoints.region).toBe('ap-east-1');
    expect(config.sender.unsubscribeBaseUrl).toBe('https://abc.lambda-url.ap-east-1.on.aws/');
    expect(stack).toMatchObject({ name: 'fake', region: 'ap-east-1', stateMachineArn: fakeStackOutputs().NightlyStateMachineArn, forgetFunctionName: 'fake-stack-forget' });
    expect(() => configFromStackOutputs(parseConfig({}), 'other', { DataBucket: 'b' })).toThrow(/does not have the outputs of a clientele stack/);
  });

  it('shows the last nights and the sender\'s last hours of a stack (fake outputs, emulators behind)', async () => {
    const describeStack = async (name: string) => {
      expect(name).toBe('clientele-fake');
      return fakeStackOutputs();
    };
    const target = await loadTarget('status', { stack: 'clientele-fake', config: baseConfigFile }, { describeStack });
    expect(target.source).toBe('stack clientele-fake');
    const status = await gatherStatus(target, aws.clients, NOW, { nights: 7, hours: 24 });

    expect(status.nights.map((n) => [n.runDate, n.status])).toEqual([['2026-11-24', 'writing'], ['2026-11-23', 'completed'], ['2026-11-22', 'completed']]);
    expect(status.nights[2]).toMatchObject({ durationMs: 61_000, clients: 2000, profilesWritten: 2000, rejects: 12, failures: [], report: 's3://fake-stack-data/reports/nightly/2026-11-22/report.html' });
    expect(status.nights[1]?.failures).toEqual([
      'report not written: S3 said no',
      'team email failed for 1 addresses',
      'team email not known sent to 1 addresses (an earlier attempt of the night claimed it and did not record it sent)',
      '40 advisor digests of 2026-W47 never sent: ADV-1, ADV-2, and 38 more (all listed in s3://x/summary.json)',
    ]);
    expect(status.nights[0]?.failures).toEqual(['not completed: it failed, or it is running now']);

    // Two hours with decisions; the team email's entry and the hour 30 hours ago left out.
    expect(status.sender.hours).toEqual([
      { hour: '2026-11-24T04:00:00.000Z', counts: expect.objectContaining({ capped: 1, sent: 0 }) },
      { hour: '2026-11-24T02:00:00.000Z', counts: expect.objectContaining({ sent: 2, 'held-out': 1, claimed: 0 }) },
    ]);

    const text = formatStatus(status);
    expect(text).toContain('times in Asia/Shanghai');
    expect(text).toMatch(/2026-11-22 {2}2026-11-23 02:00 \+08:00 +61\.0 s +2,000 +2,000 +12 {2}s3:\/\/fake-stack-data\/reports\/nightly\/2026-11-22\/report\.html/);
    expect(text).toContain('FAILURE: report not written: S3 said no');
    // The report opens from a presigned link (reports.linkExpiryHours) as well as its s3:// location.
    expect(status.nights[2]?.reportLink).toMatch(/fake-stack-data.*report\.html\?.*X-Amz-Expires=86400.*X-Amz-Signature=/);
    expect(text).toContain(`open: ${status.nights[2]?.reportLink}`);
    expect(text).toMatch(/2026-11-24 10:00 \+08:00 +2 +1 /);

    // The sender's runs in the window, and the hours without one (a missed start shows).
    expect(status.sender.runs).toEqual([{ at: new Date(NOW - 2.5 * HOUR).toISOString(), runId: `campaigns-${NOW - 2.5 * HOUR}`, due: 3, sent: 2, failed: 1, stopped: 'circuit-breaker', maybeSent: 0 }]);
    expect(status.sender.hoursWithoutRun).toHaveLength(22);
    expect(status.sender.hoursWithoutRun).not.toContain('2026-11-24T02:00:00.000Z');
    expect(text).toContain('run 2026-11-24 10:00 +08:00  due 3, sent 2, failed 1  STOPPED: circuit-breaker');
    expect(text).toMatch(/NO RUN in 22 hour\(s\): /);
  });

  it('`clientele status --json` through the command line, with a config file: the last nights due, stored or not', async () => {
    const configFile = join(work, 'config.json');
    await writeFile(configFile, JSON.stringify(aws.config));
    const { code, stdout, stderr } = await clienteleExit(['status', '--config', configFile, '--json', '--nights', '2'], { cwd: work });
    expect(code, stderr).toBe(0);
    const status = JSON.parse(stdout) as StatusResult;
    // The clock is today's: the two nights due before it have nothing stored (the last stored is 2026-11-24).
    expect(status.nights.map((n) => n.status)).toEqual(['missing', 'missing']);
    expect((status.nights[0]?.runDate ?? '') > '2026-11-24').toBe(true);
    expect(status.nights[0]?.failures).toEqual(['no night stored: never run, or refused before writing']);
    expect(status.timeZone).toBe('Asia/Shanghai');
  });

  it('shows the state machine\'s refused and failed executions with --stack: a night refused twice is a gap with its attempts', async () => {
    const target = await loadTarget('status', { stack: 'clientele-fake', config: baseConfigFile }, { describeStack: async () => fakeStackOutputs() });
    const cause = (message: string) => JSON.stringify({ errorType: 'NightRefusedError', errorMessage: message });
    const ended: EndedExecution[] = [
      { name: 'sched-21b', status: 'FAILED', startedAt: '2026-11-21T21:00:00.000Z', input: '{"runDate":"2026-11-21"}', error: 'NightRefusedError', cause: cause('2026-11-21 refused, nothing written: clients fell 40%') },
      { name: 'sched-21', status: 'FAILED', startedAt: '2026-11-21T20:00:04.000Z', input: JSON.stringify({ trigger: 'schedule', scheduledTime: '2026-11-21T20:00:00Z' }), error: 'NightRefusedError', cause: cause('2026-11-21 refused, nothing written: clients fell 40%') },
      { name: 'cli-23', status: 'TIMED_OUT', startedAt: '2026-11-23T20:00:04.000Z', input: '{"runDate":"2026-11-23"}', error: 'States.Timeout' },
    ];
    const asked: string[] = [];
    const listEnded = async (arn: string) => {
      asked.push(arn);
      return ended;
    };
    const status = await gatherStatus(target, aws.clients, NOW, { nights: 7, hours: 24 }, { kind: 'stack', stateMachineArn: 'arn:sm', listEnded });
    expect(asked).toEqual(['arn:sm']);
    expect(status.nights.map((n) => [n.runDate, n.status, n.attempts?.map((a) => a.outcome) ?? []])).toEqual([
      ['2026-11-24', 'writing', []],
      ['2026-11-23', 'completed', ['timed-out']],
      ['2026-11-22', 'completed', []],
      ['2026-11-21', 'missing', ['refused', 'refused']],
    ]);
    const text = formatStatus(status);
    expect(text).toMatch(/2026-11-21 {2}NO NIGHT STORED\n +FAILURE: no night stored: 2 attempt\(s\) refused, nothing written\n +REFUSED 2026-11-22 05:00 \+08:00 \(execution sched-21b\): 2026-11-21 refused, nothing written: clients fell 40%/);
    expect(text).toContain('TIMED-OUT 2026-11-24 04:00 +08:00 (execution cli-23): States.Timeout');

    // Credentials that may not list the executions: the nights stored are still shown, with why the attempts are not.
    const denied = async (): Promise<EndedExecution[]> => {
      throw Object.assign(new Error('not authorized to perform: states:ListExecutions'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    };
    const partial = await gatherStatus(target, aws.clients, NOW, { nights: 7, hours: 24 }, { kind: 'stack', stateMachineArn: 'arn:sm', listEnded: denied });
    expect(partial.nights.map((n) => n.runDate)).toEqual(['2026-11-24', '2026-11-23', '2026-11-22']);
    expect(formatStatus(partial)).toContain('(refused and failed attempts not shown: AWS denied an AWS call (AccessDeniedException: not authorized to perform: states:ListExecutions)');
  });

  it('counts a night due from 04:30 on the brand\'s wall clock on the days its clocks change (Europe/Paris)', async () => {
    const withNight = async (name: string, night: string) => {
      const config = await scenarioConfig(shared, name, { timeZone: 'Europe/Paris' });
      await putRun(shared.clients.documents, tableName(config, 'runs'), { job: 'nightly', runDate: night, status: 'completed', runId: `nightly-${night}` });
      return config;
    };
    const nightsAt = async (config: Config, now: string) =>
      (await gatherStatus({ config, source: 'config' }, shared.clients, Date.parse(now), { nights: 3, hours: 1 })).nights.map((n) => `${n.runDate} ${n.status}`);
    // 2026-10-25, clocks back at 03:00: at 03:40 the 04:00 schedule has not fired yet.
    const autumn = await withNight('status-dst-autumn', '2026-10-23');
    expect(await nightsAt(autumn, '2026-10-25T03:40:00+01:00')).toEqual(['2026-10-23 completed']);
    expect(await nightsAt(autumn, '2026-10-25T04:30:00+01:00')).toEqual(['2026-10-24 missing', '2026-10-23 completed']);
    // 2026-03-29, clocks forward at 02:00: at 04:45 the night of the 28th is 45 minutes overdue.
    const spring = await withNight('status-dst-spring', '2026-03-27');
    expect(await nightsAt(spring, '2026-03-29T04:45:00+02:00')).toEqual(['2026-03-28 missing', '2026-03-27 completed']);
  });

  it('`clientele run nightly` refused locally is recorded, and `clientele status` shows the night with its attempts', { timeout: 180_000 }, async () => {
    const config = await scenarioConfig(shared, 'status-refusal');
    const file = join(work, 'refusal-config.json');
    await writeFile(file, JSON.stringify(config));
    const dir = join(work, 'refusal-export');
    await generateExport({ customers: 30, seed: 3, asOf: '2026-11-20', timeZone: config.timeZone, roster: false }, dir);
    await uploadExport(shared, config, dir, '2026-11-20');
    // A later night is completed: the 20th may no longer be written (nights run in order).
    await putRun(shared.clients.documents, tableName(config, 'runs'), { job: 'nightly', runDate: '2026-11-22', status: 'completed', runId: 'later' });

    for (let attempt = 0; attempt < 2; attempt++) {
      const run = await clienteleExit(['run', 'nightly', '--date', '2026-11-20', '--config', file, '--log-level', 'error'], { cwd: work });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^clientele: 2026-11-20 refused, nothing written: the night of 2026-11-22 was completed after 2026-11-20/m);
    }

    const status = await gatherStatus({ config, source: 'config' }, shared.clients, Date.parse('2026-11-23T00:00:00Z'), { nights: 7, hours: 1 });
    expect(status.nights.map((n) => [n.runDate, n.status])).toEqual([['2026-11-22', 'completed'], ['2026-11-20', 'missing']]);
    expect(status.nights[1]?.attempts).toEqual([
      expect.objectContaining({ runDate: '2026-11-20', outcome: 'refused', reason: expect.stringMatching(/^2026-11-20 refused, nothing written/), source: expect.stringMatching(/^local run nightly-/) }),
      expect.objectContaining({ outcome: 'refused' }),
    ]);
  });

  it('`clientele run nightly` failed locally on its export is recorded too: status shows the failed attempt and why', { timeout: 120_000 }, async () => {
    const config = await scenarioConfig(shared, 'status-export-rejected');
    const file = join(work, 'rejected-config.json');
    await writeFile(file, JSON.stringify(config));
    await putRun(shared.clients.documents, tableName(config, 'runs'), { job: 'nightly', runDate: '2026-11-19', status: 'completed', runId: 'before' });
    const dir = await exportDir({
      'customers.csv': 'customer_id,email\nC1,c1@example.com\nC2,c2@example.com\n',
      // Ends inside a quoted field: truncated.
      'orders.csv': 'order_id,customer_id,ordered_at,line_total,product_name\nO1,C1,2026-11-19T10:00:00+08:00,100.00,cream\nO2,C2,2026-11-20T10:00:00+08:00,50.00,"half a na',
    });
    await uploadExport(shared, config, dir, '2026-11-20');

    const run = await clienteleExit(['run', 'nightly', '--date', '2026-11-20', '--config', file, '--log-level', 'error'], { cwd: work });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^clientele: .*orders\.csv, line 3: is not valid CSV/m);

    const status = await gatherStatus({ config, source: 'config' }, shared.clients, Date.parse('2026-11-21T00:00:00Z'), { nights: 7, hours: 1 });
    expect(status.nights.map((n) => [n.runDate, n.status])).toEqual([['2026-11-20', 'missing'], ['2026-11-19', 'completed']]);
    expect(status.nights[0]).toMatchObject({
      failures: ['no night stored: 1 attempt(s) failed, nothing written'],
      attempts: [expect.objectContaining({ outcome: 'failed', reason: expect.stringMatching(/orders\.csv, line 3: is not valid CSV/), source: expect.stringMatching(/^local run nightly-/) })],
    });
    expect(formatStatus(status)).toMatch(/FAILED .*\(local run nightly-[^)]*\): .*orders\.csv, line 3/);
  });

  it('a night whose runs item was reduced (no sample left) says how many digests never went and where they are listed', async () => {
    const config = await scenarioConfig(shared, 'status-reduced-item');
    const unsent = Array.from({ length: 40 }, (_, i) => `ADV-${i}`);
    // A roster of thousands of stores: the item is stored without its samples (runs-item.ts).
    const byStore = Object.fromEntries(Array.from({ length: 8000 }, (_, i) => [`store-with-a-long-name-${i}`, { tasks: { given: 1, done: 1, open: 0 }, bought: { clients: 1, bought: 0 } }]));
    const summary = {
      job: 'nightly', status: 'completed', runId: 'nightly-r', runDate: '2026-11-23', startedAt: '2026-11-23T18:00:04.000Z', durationMs: 1000,
      input: { files: [], rows: 10, rejected: 0, rejectShare: 0, sampleRejects: [] },
      distribution: { clients: 10 }, written: { profiles: 1, tierHistory: 0, retries: 0 },
      report: { summaryObject: 's3://x/reports/nightly/2026-11-23/summary.json', campaignResultsObject: 's3://x/c.json' },
      advisorDigests: { week: '2026-W47', advisors: [], unconfiguredAdvisors: { count: 0, ids: [] }, unsent, totals: { failed: 0, deferred: 0 } },
      advisorFollowThrough: { advisors: [], byStore, needsNewAdvisor: { count: 0, byStore: {}, customerIds: [] } },
    } as unknown as NightlyRunSummary;
    const item = runsItemOf(summary);
    expect(item.listsCut?.reduced).toBe(true);
    await putRun(shared.clients.documents, tableName(config, 'runs'), { ...item, job: 'nightly', runDate: '2026-11-23' });
    const status = await gatherStatus({ config, source: 'config' }, shared.clients, Date.parse('2026-11-24T04:30:00Z'), { nights: 2, hours: 1 });
    expect(status.nights.find((n) => n.runDate === '2026-11-23')?.failures).toContain(
      '40 advisor digests of 2026-W47 never sent: not named here (all listed in s3://x/reports/nightly/2026-11-23/summary.json)',
    );
  });
});
