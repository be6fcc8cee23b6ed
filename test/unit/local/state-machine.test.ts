import { describe, expect, it } from 'vitest';
import { rerunOfExecution } from '#local/commands/nightly.ts';
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
    // Step Functions' start of the execution (the CLI's clock only when its answer has none).
    expect(result.startedAt).toBe(base.now);
    const dated = fakeStepFunctions([{ status: 'SUCCEEDED', startDate: new Date('2026-11-24T03:04:06.500Z') }]);
    expect((await runNightInStateMachine(dated.sfn, { ...base, acceptDrop: false })).startedAt).toBe(Date.parse('2026-11-24T03:04:06.500Z'));

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

describe('rerunOfExecution: whether the execution that succeeded wrote the night stored', () => {
  const execution = { name: 'cli-2026-11-01-20261124T030405', startedAt: Date.parse('2026-11-24T03:04:05Z') };
  const stored = (startedAt: string) => ({ runId: 'nightly-first', startedAt });
  const rerun = (runId: string, startedAt: string, of = 'nightly-first') => ({ job: 'nightly-rerun', runDate: `2026-11-01#${runId}`, runId, startedAt, of });

  it('none when the night stored was run by the execution (it started after the execution did)', () => {
    expect(rerunOfExecution(stored('2026-11-24T03:04:06.000Z'), execution, [rerun('nightly-old', '2026-11-20T00:00:00.000Z')])).toBeUndefined();
  });

  it('the rerun the execution recorded when the night stored was run before it: not an older rerun, nor one of another run', () => {
    const records = [
      rerun('nightly-old', '2026-11-20T00:00:00.000Z'),
      rerun('nightly-this', '2026-11-24T03:04:07.000Z'),
      rerun('nightly-other', '2026-11-24T03:04:08.000Z', 'nightly-replaced'),
      { job: 'nightly-rerun', runDate: '2026-11-01#damaged' },
    ];
    expect(rerunOfExecution(stored('2026-11-23T20:00:00.000Z'), execution, records)).toEqual({ runId: 'nightly-this', startedAt: '2026-11-24T03:04:07.000Z', of: 'nightly-first' });
  });

  it('named by the execution when its rerun record is not found: it wrote nothing all the same', () => {
    expect(rerunOfExecution(stored('2026-11-23T20:00:00.000Z'), execution, [])).toEqual({
      runId: 'execution cli-2026-11-01-20261124T030405',
      startedAt: '2026-11-24T03:04:05.000Z',
      of: 'nightly-first',
    });
  });
});
