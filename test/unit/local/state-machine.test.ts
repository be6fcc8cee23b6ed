import { describe, expect, it } from 'vitest';
import { ExecutionFailedError, runNightInStateMachine, type ExecutionState, type StepFunctions } from '#local/state-machine.ts';

/** A Step Functions double: answers the given states in turn, records what it was asked. */
function fakeStepFunctions(states: ExecutionState[]) {
  const started: { stateMachineArn: string; name: string; input: string }[] = [];
  let polls = 0;
  const sfn: StepFunctions = {
    startExecution: async (input) => {
      started.push(input);
      return { executionArn: `arn:aws:states:ap-east-1:1:execution:sm:${input.name}` };
    },
    describeExecution: async () => states[Math.min(polls++, states.length - 1)] as ExecutionState,
    destroy: () => undefined,
  };
  return { sfn, started, polls: () => polls };
}

const base = { stateMachineArn: 'arn:aws:states:ap-east-1:1:stateMachine:sm', runDate: '2026-11-01', now: Date.parse('2026-11-24T03:04:05Z'), sleep: async () => undefined };

describe('run nightly --stack: the state machine execution', () => {
  it('starts the night with its runDate (acceptDrop only when asked) and follows it to the end', async () => {
    const fake = fakeStepFunctions([{ status: 'RUNNING' }, { status: 'RUNNING' }, { status: 'SUCCEEDED' }]);
    const seen: string[] = [];
    const result = await runNightInStateMachine(fake.sfn, { ...base, acceptDrop: false, onProgress: (s) => seen.push(s.status) });
    expect(fake.started).toEqual([{ stateMachineArn: base.stateMachineArn, name: 'cli-2026-11-01-20261124T030405', input: '{"runDate":"2026-11-01"}' }]);
    expect(seen).toEqual(['RUNNING', 'RUNNING', 'SUCCEEDED']);
    expect(result.name).toBe('cli-2026-11-01-20261124T030405');

    const accepting = fakeStepFunctions([{ status: 'SUCCEEDED' }]);
    await runNightInStateMachine(accepting.sfn, { ...base, acceptDrop: true });
    expect(accepting.started[0]?.input).toBe('{"runDate":"2026-11-01","acceptDrop":true}');
  });

  it('a failed execution fails the command with its error and cause', async () => {
    const fake = fakeStepFunctions([{ status: 'RUNNING' }, { status: 'FAILED', error: 'NIGHT_REFUSED', cause: 'clients down 40%' }]);
    const run = runNightInStateMachine(fake.sfn, { ...base, acceptDrop: false });
    await expect(run).rejects.toThrow(ExecutionFailedError);
    await expect(runNightInStateMachine(fakeStepFunctions([{ status: 'TIMED_OUT' }]).sfn, { ...base, acceptDrop: false })).rejects.toThrow(/timed out/);
    await expect(runNightInStateMachine(fakeStepFunctions([{ status: 'FAILED', error: 'NIGHT_REFUSED', cause: 'clients down 40%' }]).sfn, { ...base, acceptDrop: false })).rejects.toThrow(
      /Night 2026-11-01: execution cli-2026-11-01-\S+ failed: NIGHT_REFUSED \(clients down 40%\)/,
    );
  });
});
