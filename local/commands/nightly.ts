import { z } from 'zod';
import { loadTarget, targetOptionsSchema } from '#local/target.ts';
import { destroyAwsClients, type AwsClients } from '#shared/aws/clients.ts';
import { cliAwsClients } from '#local/aws-errors.ts';
import { reportLink } from '#shared/nightly/publish-report.ts';
import type { Config } from '#shared/config.ts';
import { jsonLog, newRunId } from '#shared/log.ts';
import { applyNightlyV8Flags } from '#shared/nightly/node-options.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { formatNightlySummary } from '#local/format.ts';
import { runNightlySharded } from '#local/nightly/sharded-run.ts';
import { terminalProgress } from '#local/progress.ts';
import { ExecutionFailedError, runNightInStateMachine, stepFunctionsWithSdk } from '#local/state-machine.ts';
import type { StackInfo, Target } from '#local/target.ts';
import { UsageError } from '#local/errors.ts';
import { getRun, recentRuns } from '#shared/store/runs-store.ts';
import { NIGHTLY_RERUN_JOB } from '#shared/nightly/repeat.ts';
import { wholeSummaryOf } from '#shared/nightly/runs-item.ts';
import { tableName } from '#shared/store/tables.ts';
import { NIGHTLY_JOB, type NightlyRunSummary } from '#shared/nightly/summary.ts';
import { MAX_SHARDS } from '#shared/nightly/shards.ts';
import { recordLocalAttempt } from '#local/night-attempts.ts';
import { connectionFailureOf } from '#shared/aws/errors.ts';

const optionsSchema = targetOptionsSchema.extend({
  date: z.string(),
  logLevel: z.enum(['debug', 'info', 'warn', 'error']),
  json: z.boolean(),
  shards: z.number().int().min(1).max(MAX_SHARDS),
  acceptDrop: z.boolean(),
});

/** `clientele run nightly --date D`: the nightly job against the endpoints the config names. */
export async function nightlyCommand(raw: unknown): Promise<void> {
  const options = optionsSchema.parse(raw);
  const target = await loadTarget('run nightly', options);
  if (target.stack) return nightlyInStack(target, target.stack, options);
  const config = target.config;
  // The night runs in this process, as in the nightly Lambda.
  applyNightlyV8Flags();
  const clients = cliAwsClients(config);
  const runId = newRunId('nightly');
  const progress = terminalProgress();
  try {
    // The unsubscribe key signs the introduction tasks' links in the advisors' digests; without it they go without links.
    const secret = process.env.UNSUBSCRIBE_SECRET;
    const run = {
      runDate: options.date,
      runId,
      config,
      clients,
      clock: Date.now,
      acceptDrop: options.acceptDrop,
      log: jsonLog({ level: options.logLevel }),
      ...(secret !== undefined && secret.length >= 32 ? { unsubscribeSecret: secret } : {}),
    };
    const summary = await (options.shards > 1
      ? runNightlySharded({ ...run, shards: options.shards, workerLogLevel: options.logLevel })
      : runNightly({ ...run, onProgress: (p) => progress.update(p) })
    ).catch(async (error: unknown) => {
      // A night refused or failed (its export rejected, another attempt writing it) often leaves nothing stored: this
      // record lets `clientele status` show the attempt and why. Best effort: a failure to record it must not replace
      // the error the operator needs to read, nor delay it when AWS is out of reach (the record would not get there).
      if (connectionFailureOf(error) === undefined) {
        await recordLocalAttempt(clients, config, { runDate: options.date, runId, at: Date.now(), error }).catch(() => undefined);
      }
      throw error;
    });
    progress.stop();
    await printSummary(summary, config, clients, options.json);
  } finally {
    progress.stop();
    destroyAwsClients(clients);
  }
}

/**
 * With --stack: the night runs in AWS as the schedule runs it (an execution of the stack's state
 * machine, sharded as the stack is set), followed until it ends; then its summary from the runs table.
 */
async function nightlyInStack(target: Target, stack: StackInfo, options: z.infer<typeof optionsSchema>): Promise<void> {
  if (options.shards > 1) throw new UsageError('--shards applies to a local run; with --stack the night is sharded as the stack is deployed (nightlyShards).');
  const sfn = stepFunctionsWithSdk(stack.region);
  const clients = cliAwsClients(target.config);
  const tty = process.stderr.isTTY === true;
  try {
    process.stderr.write(`Starting night ${options.date} on stack ${stack.name} (${stack.stateMachineArn})\n`);
    let lastLine = 0;
    const { name, startedAt } = await runNightInStateMachine(sfn, {
      stateMachineArn: stack.stateMachineArn,
      runDate: options.date,
      acceptDrop: options.acceptDrop,
      now: Date.now(),
      onProgress: (state, elapsed) => {
        if (tty) process.stderr.write(`\r  ${state.status.toLowerCase()}  ${elapsed} s   `);
        else if (elapsed - lastLine >= 60 || state.status !== 'RUNNING') {
          lastLine = elapsed;
          process.stderr.write(`  ${state.status.toLowerCase()}  ${elapsed} s\n`);
        }
      },
    });
    if (tty) process.stderr.write('\n');
    const runs = tableName(target.config, 'runs');
    const item = await getRun<NightlyRunSummary>(clients.documents, runs, { job: NIGHTLY_JOB, runDate: options.date });
    if (!item) throw new ExecutionFailedError(`Execution ${name} succeeded but the runs table of stack ${stack.name} holds no summary of ${options.date}.`);
    const stored = await wholeSummaryOf(clients.s3, item);
    const reruns = await recentRuns(clients.documents, runs, NIGHTLY_RERUN_JOB, `${options.date}#~`, { limit: 20 });
    const rerun = rerunOfExecution(stored, { name, startedAt }, reruns.filter((item) => item.runDate.startsWith(`${options.date}#`)));
    await printSummary(rerun ? { ...stored, rerun } : stored, target.config, clients, options.json);
  } finally {
    sfn.destroy();
    destroyAwsClients(clients);
  }
}

const rerunRecordSchema = z.object({ runId: z.string(), startedAt: z.string(), of: z.string() });

/**
 * Whether the execution that succeeded wrote the night stored, as the local run's summary says it (its `rerun`):
 * undefined when it did (the stored run started after the execution: both are AWS's clocks); else the rerun it
 * recorded beside the night (job nightly-rerun), found the night completed from the same export and wrote nothing.
 * The execution's output (the state machine's Report: runDate, summaryObject, rejected, changes) cannot tell: it is
 * the stored night's either way. Pure.
 */
export function rerunOfExecution(
  stored: Pick<NightlyRunSummary, 'runId' | 'startedAt'>,
  execution: { name: string; startedAt: number },
  rerunRecords: readonly unknown[],
): NightlyRunSummary['rerun'] {
  if (Date.parse(stored.startedAt) >= execution.startedAt) return undefined;
  const recorded = rerunRecords
    .flatMap((item) => {
      const record = rerunRecordSchema.safeParse(item);
      return record.success && record.data.of === stored.runId && Date.parse(record.data.startedAt) >= execution.startedAt ? [record.data] : [];
    })
    .sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0))[0];
  // Every rerun records itself; without its record, the attempt is named by its execution.
  return recorded ?? { runId: `execution ${execution.name}`, startedAt: new Date(execution.startedAt).toISOString(), of: stored.runId };
}

/** The summary, with a presigned link to its report (reports.linkExpiryHours) that opens without an AWS login. */
async function printSummary(summary: NightlyRunSummary, config: Config, clients: AwsClients, json: boolean): Promise<void> {
  const object = summary.report.reportObject;
  const link = object ? await reportLink(clients.s3, config, object, Date.now()) : undefined;
  if (json) process.stdout.write(`${JSON.stringify(link ? { ...summary, reportLink: link.url } : summary)}\n`);
  else process.stdout.write(`${formatNightlySummary(summary)}\n${link ? `Open the report (link valid ${config.reports.linkExpiryHours} h): ${link.url}\n` : ''}`);
}
