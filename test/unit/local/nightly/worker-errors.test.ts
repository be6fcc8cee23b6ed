import { describe, expect, it } from 'vitest';
import { awsRefusalMessage, recordAwsCall } from '#local/aws-errors.ts';
import { localAttemptOf } from '#local/night-attempts.ts';
import { errorFromWorker, workerErrorOf } from '#local/nightly/worker-errors.ts';
import { exitCodeOf, unreachableMessage } from '#local/program.ts';
import { connectionFailureOf } from '#shared/aws/errors.ts';
import { isUserFacing } from '#shared/errors.ts';
import { ExportError } from '#shared/exports/errors.ts';
import { NightRefusedError } from '#shared/nightly/admission.ts';

/**
 * A shard worker's error as the parent of `clientele run nightly --shards N` rethrows it: what the
 * CLI reads to print it (user-facing or not, an AWS refusal, an outage) survives the thread.
 */

const SHARD = { index: 1, count: 2 };
/** What the parent gets: the worker's message after the structured clone of postMessage. */
const acrossThreads = (error: unknown) => errorFromWorker(structuredClone(workerErrorOf(error)), SHARD);

describe('errorFromWorker(workerErrorOf(error))', () => {
  it('an export rejected in a worker is the same user-facing error, its message as a single run prints it', () => {
    const original = ExportError.at('s3://b/exports/2026-11-23/orders.csv', 'is not valid CSV: a quoted field is still open', { line: 3 });
    const rethrown = acrossThreads(original);
    expect(isUserFacing(rethrown)).toBe(true);
    expect(rethrown).toMatchObject({ name: 'ExportError', code: 'EXPORT_REJECTED', message: original.message });
    expect(exitCodeOf(rethrown)).toBe(1);
    // Where it was thrown, for a bug report: the worker's stack, under the shard.
    expect(rethrown.stack).toMatch(/^shard 1\/2: ExportError: s3:\/\/b\/exports\/2026-11-23\/orders\.csv, line 3/);
  });

  it('a write refused in a worker is still a refusal (recorded as such for status)', () => {
    expect(localAttemptOf(acrossThreads(new NightRefusedError('2026-11-23 refused, nothing written: out of order')))).toEqual({
      outcome: 'refused',
      reason: '2026-11-23 refused, nothing written: out of order',
    });
  });

  it('an AWS refusal in a worker names its call and resource, as in a single run', () => {
    const denied = Object.assign(new Error('not authorized to perform: dynamodb:BatchWriteItem'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    recordAwsCall(denied, { operation: 'DynamoDB BatchWriteItem', resource: 'p-profiles' });
    const rethrown = acrossThreads(new Error('write failed', { cause: denied }));
    expect(awsRefusalMessage(rethrown)).toBe(awsRefusalMessage(denied));
    expect(awsRefusalMessage(rethrown)).toMatch(/^AWS denied DynamoDB BatchWriteItem on p-profiles \(AccessDeniedException: /);
  });

  it('an endpoint out of reach in a worker is an outage, not a bug', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:47002'), { code: 'ECONNREFUSED', syscall: 'connect' });
    const rethrown = acrossThreads(refused);
    expect(connectionFailureOf(rethrown)).toBe('not-connected');
    expect(unreachableMessage(rethrown)).toMatch(/^could not reach an AWS endpoint \(ECONNREFUSED: shard 1\/2: connect ECONNREFUSED 127\.0\.0\.1:47002\)/);
  });

  it('a bug in a worker stays one: not user-facing, named by its shard, with the worker\'s stack', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'tier')");
    const rethrown = acrossThreads(bug);
    expect(isUserFacing(rethrown)).toBe(false);
    expect(awsRefusalMessage(rethrown)).toBeUndefined();
    expect(connectionFailureOf(rethrown)).toBeUndefined();
    expect(rethrown.message).toBe("shard 1/2: Cannot read properties of undefined (reading 'tier')");
    expect(rethrown.stack).toContain(bug.stack?.split('\n')[1]);
  });
});
