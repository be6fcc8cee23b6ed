import { beforeAll, describe, expect, it } from 'vitest';
import { acquireWriteLease, releaseWriteLease, type WriteLease } from '#shared/store/write-leases.ts';
import { tableNames } from '#shared/store/tables.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';

const aws = sharedAws();
let table: string;
const T0 = Date.parse('2026-11-24T04:10:00Z');
const MINUTE = 60_000;
const key = { job: 'nightly-write-lease', runDate: '2026-11-23#run-1#0/2' };

beforeAll(async () => {
  table = tableNames(await scenarioConfig(aws, 'write-leases')).runs;
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
});
