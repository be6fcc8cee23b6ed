import { z } from 'zod';
import { ClienteleError } from '#shared/errors.ts';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { nameFailedCalls } from '#local/aws-errors.ts';

/**
 * `clientele run nightly --stack NAME`: the night runs in AWS, as the 04:00 schedule runs it. The
 * CLI starts an execution of the stack's state machine with {"runDate", "acceptDrop"} and follows
 * it until it ends. The Step Functions calls are injected (tests); the SDK's client otherwise.
 */

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

export interface ExecutionState {
  status: ExecutionStatus;
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

/** Starts the night's execution and waits for its end; throws ExecutionFailedError unless it succeeded. */
export async function runNightInStateMachine(sfn: StepFunctions, options: FollowOptions): Promise<{ executionArn: string; name: string }> {
  const name = `cli-${options.runDate}-${new Date(options.now).toISOString().replace(/[-:.]/g, '').slice(0, 15)}`;
  const input = JSON.stringify({ runDate: options.runDate, ...(options.acceptDrop ? { acceptDrop: true } : {}) });
  const { executionArn } = await sfn.startExecution({ stateMachineArn: options.stateMachineArn, name, input });
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const started = Date.now();
  for (;;) {
    const state = await sfn.describeExecution(executionArn);
    options.onProgress?.(state, Math.round((Date.now() - started) / 1000));
    if (state.status === 'SUCCEEDED') return { executionArn, name };
    if (state.status !== 'RUNNING') {
      throw new ExecutionFailedError(
        `Night ${options.runDate}: execution ${name} ${state.status.toLowerCase().replace('_', ' ')}` +
          `${state.error ? `: ${state.error}` : ''}${state.cause ? ` (${state.cause.slice(0, 500)})` : ''}. See ${executionArn}`,
      );
    }
    await sleep(options.pollMs ?? 5000);
  }
}
