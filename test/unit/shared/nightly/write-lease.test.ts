import { describe, expect, it } from 'vitest';
import { conflictingLeases, nightBusyMessage, nightLeaseOf, sameLeaseBusyMessage, writeLeaseKey, WRITE_LEASE_JOB, type LeasedWork, type NightLease } from '#shared/nightly/write-lease.ts';

/**
 * One run writes a night at a time: which running leases stand in the way of an attempt, and what
 * the attempt that stands back is told.
 */

const NIGHT = '2026-11-23';
const T0 = Date.parse('2026-11-24T04:10:00Z');
const MINUTE = 60_000;

const lease = (runId: string, part: string, holder = `${runId}/${part}/x`): NightLease => ({ runId, part, holder, attempt: 1, acquiredAt: T0, expiresAt: T0 + 16 * MINUTE });
const night: LeasedWork = { kind: 'night' };
const finish: LeasedWork = { kind: 'finish' };
const shard = (index: number, count: number): LeasedWork => ({ kind: 'shard', shard: { index, count } });

describe('write lease keys', () => {
  it('name the night, the run and what the lease covers, and read back as such', () => {
    expect(writeLeaseKey(NIGHT, 'nightly-1a2b', night)).toEqual({ job: WRITE_LEASE_JOB, runDate: '2026-11-23#nightly-1a2b#night' });
    expect(writeLeaseKey(NIGHT, 'e1', shard(1, 4))).toEqual({ job: WRITE_LEASE_JOB, runDate: '2026-11-23#e1#1/4' });
    const key = writeLeaseKey(NIGHT, 'e1', finish);
    expect(nightLeaseOf({ key, holder: 'h', attempt: 2, acquiredAt: T0, expiresAt: T0 + MINUTE })).toEqual({ runId: 'e1', part: 'finish', holder: 'h', attempt: 2, acquiredAt: T0, expiresAt: T0 + MINUTE });
    expect(nightLeaseOf({ key: { job: WRITE_LEASE_JOB, runDate: 'not-ours' }, holder: 'h', attempt: 1, acquiredAt: T0, expiresAt: T0 })).toBeUndefined();
  });
});

describe('conflictingLeases', () => {
  it('lets an attempt write when it holds the only running lease of the night', () => {
    const mine = lease('a', 'night', 'mine');
    expect(conflictingLeases({ runId: 'a', work: night, holder: 'mine' }, [mine])).toEqual([]);
  });

  it('stands back for any lease of another run, whatever each covers', () => {
    for (const work of [night, finish, shard(0, 2)]) {
      for (const part of ['night', 'finish', '1/2', '0/3']) {
        const other = lease('b', part);
        expect(conflictingLeases({ runId: 'a', work, holder: 'mine' }, [lease('a', 'x', 'mine'), other])).toEqual([other]);
      }
    }
  });

  it('lets the shards of one run write side by side, but not beside its finish or its whole-night run', () => {
    const siblings = [lease('a', '1/3'), lease('a', '2/3')];
    expect(conflictingLeases({ runId: 'a', work: shard(0, 3), holder: 'mine' }, siblings)).toEqual([]);
    expect(conflictingLeases({ runId: 'a', work: finish, holder: 'mine' }, siblings)).toEqual(siblings);
    expect(conflictingLeases({ runId: 'a', work: shard(0, 3), holder: 'mine' }, [lease('a', 'finish')])).toHaveLength(1);
    expect(conflictingLeases({ runId: 'a', work: night, holder: 'mine' }, [lease('a', '0/1')])).toHaveLength(1);
  });
});

describe('what an attempt that stands back is told', () => {
  it('names the other run, what it writes, who holds it, since and until when, and says nothing was written', () => {
    expect(nightBusyMessage({ runDate: NIGHT, runId: 'b' }, lease('a', 'night', 'a/night/uuid'))).toBe(
      '2026-11-23 is being written by run a (the whole night, holder a/night/uuid, since 2026-11-24T04:10:00.000Z, its lease ends at 2026-11-24T04:26:00.000Z); ' +
        'run b wrote nothing. Let run a finish: once it has completed the night (clientele status) nothing is left to do; ' +
        'if it stopped without completing it, run the night again once its lease has ended.',
    );
    expect(nightBusyMessage({ runDate: NIGHT, runId: 'b' }, lease('a', '1/2'))).toMatch(/^2026-11-23 is being written by run a \(shard 1\/2, /);
    expect(nightBusyMessage({ runDate: NIGHT, runId: 'b' }, lease('a', 'finish'))).toMatch(/^2026-11-23 is being written by run a \(its finish, /);
  });

  it('tells a second attempt of the same run and part who holds it, or to try again when it was freed meanwhile', () => {
    const held = { holder: 'a/night/uuid', attempt: 1, acquiredAt: T0, expiresAt: T0 + 16 * MINUTE };
    expect(sameLeaseBusyMessage({ runDate: NIGHT, runId: 'a', work: night }, held)).toBe(
      '2026-11-23 (run a) is being written by another attempt (a/night/uuid, attempt 1, since 2026-11-24T04:10:00.000Z); this one wrote nothing. ' +
        'Let that attempt finish (clientele status shows the night completed); if it died, its lease ends at 2026-11-24T04:26:00.000Z and the night can run again from then.',
    );
    expect(sameLeaseBusyMessage({ runDate: NIGHT, runId: 'a', work: shard(0, 2) }, held)).toMatch(
      /^shard 0\/2 of run a is being written by another attempt \(.*\); this one wrote nothing\. Let that attempt finish, then redrive the execution; if it died, its lease ends at /,
    );
    expect(sameLeaseBusyMessage({ runDate: NIGHT, runId: 'a', work: finish }, undefined)).toBe('the finish of run a of 2026-11-23 is being written by another attempt; this one wrote nothing: run it again.');
  });
});
