import { z } from 'zod';
import { ClienteleError } from '#shared/errors.ts';
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { nameFailedCalls } from '#local/aws-errors.ts';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * `clientele run nightly --stack NAME`: the night runs in AWS, as the 04:00 schedule runs it. The
 * CLI starts an execution of the stack's state machine with {"runDate", "acceptDrop"} and follows
 * it until it ends. The Step Functions calls are injected (tests); the SDK's client otherwise.
 */

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

export interface ExecutionState {
  status: ExecutionStatus;
  /** When Step Functions started the execution (its clock, as the nightly function's). */
  startDate?: Date;
  error?: string;
  cause?: string;
}

export interface StepFunctions {
  startExecution(input: { stateMachineArn: string; name: string; input: string }): Promise<{ executionArn: string }>;
  describeExecution(executionArn: string): Promise<ExecutionState>;
  destroy(): void;
}

const startOutputSchema = z.object({ executionArn: z.string().min(1) });
const describeOutputSchema = z.object({
  status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE']),
  startDate: z.date().optional(),
  error: z.string().optional(),
  cause: z.string().optional(),
});

/** Step Functions through the SDK (an answer from AWS is checked like any outside input). */
export function stepFunctionsWithSdk(region: string): StepFunctions {
  const client = nameFailedCalls(new SFNClient({ region }));
  return {
    startExecution: async (input) => startOutputSchema.parse(await client.send(new StartExecutionCommand(input))),
    describeExecution: async (executionArn) => describeOutputSchema.parse(await client.send(new DescribeExecutionCommand({ executionArn }))),
    destroy: () => client.destroy(),
  };
}

export class ExecutionFailedError extends ClienteleError {
  override name = 'ExecutionFailedError';
  constructor(message: string) {
    super('NIGHTLY_RUN_FAILED', message);
  }
}

export interface FollowOptions {
  stateMachineArn: string;
  runDate: string;
  acceptDrop: boolean;
  /** Epoch ms, for the execution's name (unique per start). */
  now: number;
  pollMs?: number;
  /** Called at each poll with the seconds since the start. */
  onProgress?: (state: ExecutionState, elapsedSeconds: number) => void;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Starts the night's execution and waits for its end; throws ExecutionFailedError unless it succeeded. `startedAt`
 * (epoch ms) is Step Functions' start of the execution, or `now` when its answer has none.
 */
export async function runNightInStateMachine(sfn: StepFunctions, options: FollowOptions): Promise<{ executionArn: string; name: string; startedAt: number }> {
  const name = `cli-${options.runDate}-${new Date(options.now).toISOString().replace(/[-:.]/g, '').slice(0, 15)}`;
  const input = JSON.stringify({ runDate: options.runDate, ...(options.acceptDrop ? { acceptDrop: true } : {}) });
  const { executionArn } = await sfn.startExecution({ stateMachineArn: options.stateMachineArn, name, input });
  const wait = options.sleep ?? ((ms: number) => sleep(ms));
  const started = Date.now();
  for (;;) {
    const state = await sfn.describeExecution(executionArn);
    options.onProgress?.(state, Math.round((Date.now() - started) / 1000));
    if (state.status === 'SUCCEEDED') return { executionArn, name, startedAt: state.startDate?.getTime() ?? options.now };
    if (state.status !== 'RUNNING') {
      throw new ExecutionFailedError(
        `Night ${options.runDate}: execution ${name} ${state.status.toLowerCase().replace('_', ' ')}` +
          `${state.error ? `: ${state.error}` : ''}${state.cause ? ` (${state.cause.slice(0, 500)})` : ''}. See ${executionArn}`,
      );
    }
    await wait(options.pollMs ?? 5000);
  }
}

/** An execution that ended without success: what `clientele status --stack` shows of a night refused or failed in AWS. */
export interface EndedExecution {
  name: string;
  status: Exclude<ExecutionStatus, 'RUNNING' | 'SUCCEEDED' | 'PENDING_REDRIVE'>;
  /** ISO time of the start. */
  startedAt: string;
  /** The execution's input: the schedule's { scheduledTime } or a backfill's { runDate }. */
  input?: string;
  error?: string;
  cause?: string;
}

/** The state machine's executions that ended without success since `since` (epoch ms), newest first; injected by tests. */
export type ListEndedExecutions = (stateMachineArn: string, since: number) => Promise<EndedExecution[]>;

const ENDED_WITHOUT_SUCCESS = ['FAILED', 'TIMED_OUT', 'ABORTED'] as const;
/** More than a status window's nights can hold: a night is tried at most a few times. */
const MAX_ENDED_PER_STATUS = 100;

const listOutputSchema = z.object({
  executions: z.array(z.object({ executionArn: z.string(), name: z.string(), startDate: z.date() })).optional(),
  nextToken: z.string().optional(),
});
const describeEndedSchema = z.object({ input: z.string().optional(), error: z.string().optional(), cause: z.string().optional() });

/** ListExecutions per status (newest first, stopping at `since`), then DescribeExecution for each one's input and error. */
export function endedExecutionsWithSdk(region: string): ListEndedExecutions {
  return async (stateMachineArn, since) => {
    const client = nameFailedCalls(new SFNClient({ region }));
    try {
      const ended: EndedExecution[] = [];
      for (const statusFilter of ENDED_WITHOUT_SUCCESS) {
        let nextToken: string | undefined;
        let seen = 0;
        do {
          const page = listOutputSchema.parse(await client.send(new ListExecutionsCommand({ stateMachineArn, statusFilter, maxResults: 50, ...(nextToken ? { nextToken } : {}) })));
          const recent = (page.executions ?? []).filter((e) => e.startDate.getTime() >= since);
          for (const execution of recent) {
            const described = describeEndedSchema.parse(await client.send(new DescribeExecutionCommand({ executionArn: execution.executionArn })));
            ended.push({ name: execution.name, status: statusFilter, startedAt: execution.startDate.toISOString(), ...described });
          }
          seen += page.executions?.length ?? 0;
          // Listed newest first: a page reaching back past `since` is the last one needed.
          nextToken = recent.length === (page.executions?.length ?? 0) && seen < MAX_ENDED_PER_STATUS ? page.nextToken : undefined;
        } while (nextToken);
      }
      return ended.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
    } finally {
      client.destroy();
    }
  };
}
