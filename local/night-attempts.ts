import { z } from 'zod';
import type { AwsClients } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import { isUserFacing } from '#shared/errors.ts';
import { nightRequestSchema, runDateOf } from '#shared/nightly/run-date.ts';
import { putRun, recentRuns } from '#shared/store/runs-store.ts';
import { tableName } from '#shared/store/tables.ts';
import type { EndedExecution } from '#local/state-machine.ts';

/**
 * The attempts at a night that were refused or failed: a night refused before writing
 * (NightRefusedError: out of order, implausible against the last completed night), or failed
 * before its admission (an export rejected, another attempt writing the night) or during its run.
 * `clientele status` shows them beside the nights stored, so that a night refused twice is seen,
 * not just missing. Two sources:
 *  - the local CLI's own attempts (`clientele run nightly` without --stack): it records each one
 *    that throws in the runs table under the job below, as the Lambda does not;
 *  - with --stack, the state machine's executions that ended without success (Step Functions keeps
 *    them for 90 days), the schedule's included.
 */

/**
 * The runs-table job of the CLI's records of its refused and failed attempts; runDate `<night>#<ISO time>` keeps every
 * attempt. Named when only refusals were recorded; kept so that the records written then still show.
 */
export const LOCAL_ATTEMPT_JOB = 'nightly-refusal';

export interface NightAttempt {
  /** The night the attempt was for, YYYY-MM-DD. */
  runDate: string;
  /** ISO time of the attempt. */
  at: string;
  /** 'refused': nothing written, by the admission checks; 'failed': a local run that threw, or an execution that failed; 'timed-out', 'aborted': an execution that ended so. */
  outcome: 'refused' | 'failed' | 'timed-out' | 'aborted';
  reason: string;
  /** Where it is recorded: a local CLI run, or the stack's state machine (the execution's name). */
  source: string;
}

const localAttemptRecordSchema = z.object({
  runDate: z.string(),
  night: z.string(),
  at: z.string(),
  // Records written before failures were recorded are all refusals.
  outcome: z.enum(['refused', 'failed']).default('refused'),
  reason: z.string(),
  runId: z.string().optional(),
});

/**
 * How a local run's error reads as an attempt: 'refused' for the admission checks' refusal, 'failed' for anything
 * else; its reason the message the operator reads (with the error's name when it is not one of the suite's own).
 */
export function localAttemptOf(error: unknown): Pick<NightAttempt, 'outcome' | 'reason'> {
  if (isUserFacing(error)) return { outcome: error.code === 'NIGHT_REFUSED' ? 'refused' : 'failed', reason: error.message.slice(0, 500) };
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { outcome: 'failed', reason: reason.slice(0, 500) };
}

/** Records a local run's attempt at night `runDate` that threw (the CLI calls it with the run's error). */
export async function recordLocalAttempt(clients: Pick<AwsClients, 'documents'>, config: Config, attempt: { runDate: string; runId: string; at: number; error: unknown }): Promise<void> {
  const at = new Date(attempt.at).toISOString();
  const { outcome, reason } = localAttemptOf(attempt.error);
  await putRun(clients.documents, tableName(config, 'runs'), { job: LOCAL_ATTEMPT_JOB, runDate: `${attempt.runDate}#${at}`, night: attempt.runDate, at, runId: attempt.runId, outcome, reason });
}

/** The local runs' refused and failed attempts at the nights from `from` to `to` (inclusive). */
export async function recordedLocalAttempts(clients: Pick<AwsClients, 'documents'>, config: Config, from: string, to: string): Promise<NightAttempt[]> {
  // '~' sorts after every '#<time>' suffix of the last night.
  const items = await recentRuns(clients.documents, tableName(config, 'runs'), LOCAL_ATTEMPT_JOB, `${to}#~`, { limit: 200 });
  return items
    .map((item) => localAttemptRecordSchema.safeParse(item))
    .flatMap((parsed) => (parsed.success && parsed.data.night >= from ? [parsed.data] : []))
    .map((record) => ({ runDate: record.night, at: record.at, outcome: record.outcome, reason: record.reason, source: `local run${record.runId ? ` ${record.runId}` : ''}` }));
}

const lambdaCauseSchema = z.object({ errorType: z.string().optional(), errorMessage: z.string().optional() });

/** The Lambda error an execution's cause carries (a JSON string of { errorType, errorMessage }), or the cause as it is. */
function causeOf(execution: EndedExecution): { type?: string; message: string } {
  const cause = execution.cause ?? '';
  try {
    const parsed = lambdaCauseSchema.safeParse(JSON.parse(cause));
    if (parsed.success && parsed.data.errorMessage !== undefined) return { ...(parsed.data.errorType ? { type: parsed.data.errorType } : {}), message: parsed.data.errorMessage };
  } catch {
    // Not JSON: a Step Functions cause in plain words (a timeout, an abort).
  }
  return { message: cause };
}

/** The night an execution was for (its input's runDate, else the night before its scheduledTime or start), and how it ended. */
export function attemptOfExecution(execution: EndedExecution, config: Pick<Config, 'timeZone'>): NightAttempt | undefined {
  let input: unknown = {};
  try {
    input = JSON.parse(execution.input ?? '{}');
  } catch {
    return undefined;
  }
  // As leniently as an execution may be started: one whose input was refused (an unknown key, a bad
  // value) failed at once and is listed too, under the night it names when that reads, else the night before its start.
  // Each key on its own: a bad scheduledTime does not hide a good runDate.
  const named = nightRequestSchema.pick({ runDate: true }).loose().safeParse(input).data?.runDate;
  const scheduledTime = nightRequestSchema.pick({ scheduledTime: true }).loose().safeParse(input).data?.scheduledTime;
  const runDate = runDateOf({ ...(named === undefined ? {} : { runDate: named }), ...(scheduledTime === undefined ? {} : { scheduledTime }) }, config, Date.parse(execution.startedAt));
  const cause = causeOf(execution);
  const refused = execution.error === 'NightRefusedError' || cause.type === 'NightRefusedError';
  const outcome = refused ? 'refused' : execution.status === 'TIMED_OUT' ? 'timed-out' : execution.status === 'ABORTED' ? 'aborted' : 'failed';
  const reason = [refused ? undefined : execution.error, cause.message].filter((part) => part !== undefined && part !== '').join(': ');
  return { runDate, at: execution.startedAt, outcome, reason: reason.slice(0, 500) || 'no cause recorded', source: `execution ${execution.name}` };
}
