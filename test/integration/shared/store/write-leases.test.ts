import { beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients, destroyAwsClients } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import { acquireWriteLease, liveWriteLeases, releaseWriteLease, renewWriteLease, type WriteLease } from '#shared/store/write-leases.ts';
import { tableNames } from '#shared/store/tables.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { loseOneDynamoDbAnswer } from '#test/support/lost-answers.ts';

const aws = sharedAws();
let config: Config;
let table: string;
const T0 = Date.parse('2026-11-24T04:10:00Z');
const MINUTE = 60_000;
const key = { job: 'nightly-write-lease', runDate: '2026-11-23#run-1#0/2' };

beforeAll(async () => {
  config = await scenarioConfig(aws, 'write-leases');
  table = tableNames(config).runs;
});

const acquire = (holder: string, now: number) => acquireWriteLease(aws.clients.documents, table, key, { holder, now, durationMs: 16 * MINUTE });

describe('write leases', () => {
  it('go to one holder at a time: another is told whose it is until it is freed or expires, and each taking counts as an attempt', async () => {
    const first = await acquire('a', T0);
    expect(first).toEqual({ acquired: { key, holder: 'a', attempt: 1, acquiredAt: T0, expiresAt: T0 + 16 * MINUTE } });
    // Two at once: exactly one is refused.
    const [b, c] = await Promise.all([acquire('b', T0 + MINUTE), acquire('c', T0 + MINUTE)]);
    expect(b).toEqual({ heldBy: { holder: 'a', attempt: 1, acquiredAt: T0, expiresAt: T0 + 16 * MINUTE } });
    expect(c).toEqual(b);
    // Freed by its holder: the next takes it at once.
    expect(await releaseWriteLease(aws.clients.documents, table, (first as { acquired: WriteLease }).acquired)).toBe(true);
    const d = await acquire('d', T0 + 2 * MINUTE);
    expect(d).toMatchObject({ acquired: { holder: 'd', attempt: 2 } });
    // Not freed (its attempt died): held until it expires, then taken over.
    expect(await acquire('e', T0 + 17 * MINUTE)).toMatchObject({ heldBy: { holder: 'd' } });
    const e = await acquire('e', T0 + 18 * MINUTE);
    expect(e).toMatchObject({ acquired: { holder: 'e', attempt: 3 } });
    // The dead attempt, come back, frees nothing it no longer holds.
    expect(await releaseWriteLease(aws.clients.documents, table, (d as { acquired: WriteLease }).acquired)).toBe(false);
    expect(await acquire('f', T0 + 19 * MINUTE)).toMatchObject({ heldBy: { holder: 'e' } });
  });

  it('are taken by a call whose answer was lost and retried by the SDK, once: its own lease, not another attempt\'s', async () => {
    const clients = createAwsClients(config);
    const lost = loseOneDynamoDbAnswer(clients, (command, input) => command === 'UpdateItemCommand' && String(input.UpdateExpression).includes('ADD attempts'));
    const lostKey = { job: 'nightly-write-lease', runDate: '2026-11-23#run-lost#night' };
    try {
      const outcome = await acquireWriteLease(clients.documents, table, lostKey, { holder: 'run-lost/night/1', now: T0, durationMs: 16 * MINUTE });
      expect(lost()).toBe(true);
      expect(outcome).toEqual({ acquired: { key: lostKey, holder: 'run-lost/night/1', attempt: 1, acquiredAt: T0, expiresAt: T0 + 16 * MINUTE } });
      // Another holder at the same instant is still refused.
      expect(await acquireWriteLease(aws.clients.documents, table, lostKey, { holder: 'other', now: T0, durationMs: 16 * MINUTE })).toMatchObject({ heldBy: { holder: 'run-lost/night/1' } });
    } finally {
      destroyAwsClients(clients);
    }
  });

  it('are extended only by their holder while they run, and read back by key prefix while they run', async () => {
    const night = (runId: string) => ({ job: 'nightly-write-lease', runDate: `2026-11-24#${runId}#night` });
    const take = async (runId: string, now: number) => {
      const outcome = await acquireWriteLease(aws.clients.documents, table, night(runId), { holder: `${runId}/h`, now, durationMs: 16 * MINUTE });
      return (outcome as { acquired: WriteLease }).acquired;
    };
    const a = await take('a', T0);
    const b = await take('b', T0);
    // Another night's: not among this night's.
    await acquireWriteLease(aws.clients.documents, table, { job: 'nightly-write-lease', runDate: '2026-11-25#c#night' }, { holder: 'c/h', now: T0, durationMs: 16 * MINUTE });
    const extended = await renewWriteLease(aws.clients.documents, table, a, { now: T0 + 10 * MINUTE, durationMs: 16 * MINUTE });
    expect(extended).toEqual({ ...a, expiresAt: T0 + 26 * MINUTE });
    // Lapsed: not extended, even by its holder (another attempt may have seen it ended).
    expect(await renewWriteLease(aws.clients.documents, table, b, { now: T0 + 17 * MINUTE, durationMs: 16 * MINUTE })).toBeUndefined();
    // Taken over since: not extended by the attempt that lost it.
    await acquireWriteLease(aws.clients.documents, table, night('b'), { holder: 'b/h2', now: T0 + 17 * MINUTE, durationMs: 16 * MINUTE });
    expect(await renewWriteLease(aws.clients.documents, table, b, { now: T0 + 18 * MINUTE, durationMs: 16 * MINUTE })).toBeUndefined();

    const running = await liveWriteLeases(aws.clients.documents, table, 'nightly-write-lease', '2026-11-24#', T0 + 18 * MINUTE);
    expect(running.map((lease) => [lease.key.runDate, lease.holder, lease.attempt]).sort()).toEqual([
      ['2026-11-24#a#night', 'a/h', 1],
      ['2026-11-24#b#night', 'b/h2', 2],
    ]);
    // Freed, or past its end: not running.
    expect(await releaseWriteLease(aws.clients.documents, table, extended as WriteLease)).toBe(true);
    expect((await liveWriteLeases(aws.clients.documents, table, 'nightly-write-lease', '2026-11-24#', T0 + 18 * MINUTE)).map((lease) => lease.holder)).toEqual(['b/h2']);
    expect(await liveWriteLeases(aws.clients.documents, table, 'nightly-write-lease', '2026-11-24#', T0 + 40 * MINUTE)).toEqual([]);
  });
});
