import { describe, expect, it } from 'vitest';
import { UsageError } from '#local/errors.ts';
import { exitCodeOf, unreachableMessage } from '#local/program.ts';

/** How the CLI ends on an error: an outage of an AWS endpoint is one line, not a stack. */

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:47002'), { code: 'ECONNREFUSED', syscall: 'connect', errno: -111 });

describe('unreachableMessage', () => {
  it('says the endpoint could not be reached, with the socket error, and that a rerun resumes', () => {
    expect(unreachableMessage(refused())).toBe(
      'could not reach an AWS endpoint (ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:47002). Runs are idempotent: run the same command again once the endpoint answers; it resumes where this one stopped.',
    );
  });

  it('says the endpoint was lost mid-call for a reset or a timeout, also when wrapped (a shard of a sharded night)', () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', name: 'TimeoutError' });
    const wrapped = new Error('shard 0/2: socket hang up', { cause: reset });
    expect(unreachableMessage(wrapped)).toMatch(/^lost an AWS endpoint mid-call \(ECONNRESET: shard 0\/2: socket hang up\)\. Runs are idempotent/);
    const timeout = Object.assign(new Error('a request has exceeded the configured 10000 ms requestTimeout.'), { name: 'TimeoutError', code: 'ETIMEDOUT' });
    expect(unreachableMessage(timeout)).toMatch(/^lost an AWS endpoint mid-call \(ETIMEDOUT: /);
  });

  it('exits 1 for an outage, 2 for a usage error', () => {
    expect(exitCodeOf(refused())).toBe(1);
    expect(exitCodeOf(new UsageError('--at x: expected a date'))).toBe(2);
  });
});
