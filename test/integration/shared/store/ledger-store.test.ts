import { beforeAll, describe, expect, it } from 'vitest';
import { DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import {
  claimHoursBetween,
  claimOccasion,
  occasionsClaimedBetween,
  getLedgerEntry,
  ledgerEntriesOf,
  recentSends,
  recordDecision,
  recordOutcome,
  staleClaims,
  type ClaimRequest,
} from '#shared/store/ledger-store.ts';
import { recordErasure } from '#shared/store/erasure-store.ts';
import { ensureTables, tableNames } from '#shared/store/tables.ts';
import { parseConfig } from '#shared/config.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { DAY, HOUR } from '#test/support/time.ts';

const aws = sharedAws();
let table: string;
let suppression: string;
const T0 = Date.parse('2026-11-23T10:15:00Z');

beforeAll(async () => {
  const tables = tableNames(await scenarioConfig(aws, 'ledger'));
  table = tables.sendLedger;
  suppression = tables.suppression;
});

const request = (customerId: string, occasionKey: string, overrides: Partial<ClaimRequest> = {}): ClaimRequest => ({
  customerId,
  occasionKey,
  campaignId: occasionKey.split(':')[0] ?? 'welcome',
  runId: 'run-a',
  now: T0,
  retentionDays: 400,
  ...overrides,
});

describe('send ledger', () => {
  it('the table expires entries through its TTL attribute (scenario tables keep it off: they live at past dates)', async () => {
    const config = parseConfig({ ...aws.config, storage: { ...aws.config.storage, tablePrefix: `${aws.scope}.ttl-` } });
    await ensureTables(aws.clients.dynamodb, config);
    const ttl = await aws.clients.dynamodb.send(new DescribeTimeToLiveCommand({ TableName: tableNames(config).sendLedger }));
    expect(ttl.TimeToLiveDescription).toMatchObject({ AttributeName: 'expiresAt', TimeToLiveStatus: 'ENABLED' });
    const scenario = await aws.clients.dynamodb.send(new DescribeTimeToLiveCommand({ TableName: table }));
    expect(scenario.TimeToLiveDescription?.TimeToLiveStatus).not.toBe('ENABLED');
  });

  it('a claim writes the whole entry, with expiresAt in epoch seconds and the index attributes', async () => {
    expect(await claimOccasion(aws.clients.documents, table, request('c-entry', 'welcome:2026-11-22', { tier: 'Core' }))).toBe('claimed');
    const entry = await getLedgerEntry(aws.clients.documents, table, { customerId: 'c-entry', occasionKey: 'welcome:2026-11-22' });
    expect(entry).toMatchObject({
      customerId: 'c-entry',
      occasionKey: 'welcome:2026-11-22',
      campaignId: 'welcome',
      status: 'claimed',
      runId: 'run-a',
      claimHour: '2026-11-23T10',
      claimedAt: T0,
      updatedAt: T0,
      tier: 'Core',
      expiresAt: Math.floor(T0 / 1000) + 400 * 86_400,
      customerOccasion: 'c-entry#welcome:2026-11-22',
    });
    // Seconds, not milliseconds: an ms value would put the expiry tens of thousands of years out.
    expect(entry?.expiresAt).toBeLessThan(T0 / 100);
    expect(entry?.expiresAt).toBeGreaterThan(T0 / 1000);
  });

  it('a claim guarded by the erasure list writes nothing once the client is on it, by id or by address', async () => {
    const guard = (customerId: string, email: string) => ({ unlessErased: { table: suppression, who: { customerId, email } } });
    // Not erased: claimed as without a guard, and taken the second time.
    expect(await claimOccasion(aws.clients.documents, table, request('c-guard', 'welcome', guard('c-guard', 'guard@example.com')))).toBe('claimed');
    expect(await claimOccasion(aws.clients.documents, table, request('c-guard', 'welcome', guard('c-guard', 'guard@example.com')))).toBe('already-claimed');
    await recordErasure(aws.clients.documents, suppression, { customerIds: ['c-gone'], emails: ['gone@example.com'] }, T0);
    expect(await claimOccasion(aws.clients.documents, table, request('c-gone', 'welcome', guard('c-gone', 'other@example.com')))).toBe('erased');
    expect(await recordDecision(aws.clients.documents, table, request('c-other-id', 'welcome', guard('c-other-id', 'Gone@Example.com')), 'held-out')).toBe('erased');
    expect(await getLedgerEntry(aws.clients.documents, table, { customerId: 'c-gone', occasionKey: 'welcome' })).toBeUndefined();
    expect(await getLedgerEntry(aws.clients.documents, table, { customerId: 'c-other-id', occasionKey: 'welcome' })).toBeUndefined();
  });

  it('a claim for a key that outlives its window carries no expiresAt: the TTL never deletes it', async () => {
    const key = { customerId: 'c-kept', occasionKey: 'welcome' };
    expect(await claimOccasion(aws.clients.documents, table, request(key.customerId, key.occasionKey, { retainAfter: T0 + HOUR, retainUntilErased: true }))).toBe('claimed');
    await recordOutcome(aws.clients.documents, table, key, 'run-a', { status: 'sent', messageId: 'm-kept', sentAt: T0 }, T0);
    const entry = await getLedgerEntry(aws.clients.documents, table, key);
    expect(entry?.status).toBe('sent');
    expect(entry).not.toHaveProperty('expiresAt');
  });

  it("keeps the occasion's trigger time through the claim and the sent outcome, and on a held-out decision", async () => {
    const triggerAt = T0 - 5 * HOUR;
    const sent = { customerId: 'c-trigger', occasionKey: 'welcome' };
    expect(await claimOccasion(aws.clients.documents, table, request(sent.customerId, sent.occasionKey, { triggerAt }))).toBe('claimed');
    await recordOutcome(aws.clients.documents, table, sent, 'run-a', { status: 'sent', messageId: 'm-1', sentAt: T0 }, T0);
    expect(await getLedgerEntry(aws.clients.documents, table, sent)).toMatchObject({ status: 'sent', sentAt: T0, triggerAt });
    const held = { customerId: 'c-trigger-held', occasionKey: 'welcome' };
    await recordDecision(aws.clients.documents, table, request(held.customerId, held.occasionKey, { triggerAt, reason: 'control-group' }), 'held-out');
    expect(await getLedgerEntry(aws.clients.documents, table, held)).toMatchObject({ status: 'held-out', claimedAt: T0, triggerAt });
    // Entries written without one (before the field existed) simply have none.
    await claimOccasion(aws.clients.documents, table, request('c-no-trigger', 'welcome'));
    expect(await getLedgerEntry(aws.clients.documents, table, { customerId: 'c-no-trigger', occasionKey: 'welcome' })).not.toHaveProperty('triggerAt');
  });

  it('of 10 concurrent claimers of one occasion, exactly one wins', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        claimOccasion(aws.clients.documents, table, request('c-race', 'winback:2026-11', { runId: `run-${i}`, now: T0 + i })),
      ),
    );
    expect(results.filter((r) => r === 'claimed')).toHaveLength(1);
    expect(results.filter((r) => r === 'already-claimed')).toHaveLength(9);
    const winner = results.indexOf('claimed');
    const entry = await getLedgerEntry(aws.clients.documents, table, { customerId: 'c-race', occasionKey: 'winback:2026-11' });
    expect(entry?.runId).toBe(`run-${winner}`);
  });

  it('two claimers in the same run with the same clock still get one winner', async () => {
    const results = await Promise.all([
      claimOccasion(aws.clients.documents, table, request('c-same-run', 'welcome:x')),
      claimOccasion(aws.clients.documents, table, request('c-same-run', 'welcome:x')),
    ]);
    expect(results.sort()).toEqual(['already-claimed', 'claimed']);
  });

  it('a claim after a send, a failure or a claim in progress is refused', async () => {
    const key = { customerId: 'c-sent', occasionKey: 'replenishment:SKU1:2026-12-01' };
    expect(await claimOccasion(aws.clients.documents, table, request(key.customerId, key.occasionKey))).toBe('claimed');
    // In progress (claimed, not yet resolved): a rerun of the hour must not send again.
    expect(await claimOccasion(aws.clients.documents, table, request(key.customerId, key.occasionKey, { runId: 'run-b' }))).toBe(
      'already-claimed',
    );
    expect(await recordOutcome(aws.clients.documents, table, key, 'run-a', { status: 'sent', messageId: 'm-1', sentAt: T0 + 10 }, T0 + 10)).toBe(
      'recorded',
    );
    expect(
      await claimOccasion(aws.clients.documents, table, request(key.customerId, key.occasionKey, { runId: 'run-c', now: T0 + DAY })),
    ).toBe('already-claimed');
    const entry = await getLedgerEntry(aws.clients.documents, table, key);
    expect(entry).toMatchObject({ status: 'sent', messageId: 'm-1', sentAt: T0 + 10, updatedAt: T0 + 10, runId: 'run-a' });

    const failedKey = { customerId: 'c-failed', occasionKey: 'welcome:1' };
    await claimOccasion(aws.clients.documents, table, request(failedKey.customerId, failedKey.occasionKey));
    expect(await recordOutcome(aws.clients.documents, table, failedKey, 'run-a', { status: 'failed', reason: 'MessageRejected' }, T0)).toBe('recorded');
    expect(await claimOccasion(aws.clients.documents, table, request(failedKey.customerId, failedKey.occasionKey, { runId: 'run-b' }))).toBe(
      'already-claimed',
    );
    expect(await getLedgerEntry(aws.clients.documents, table, failedKey)).toMatchObject({ status: 'failed', reason: 'MessageRejected' });
  });

  it('a waiting decision (deferred, capped) lets a later hour claim; a later claim replaces it', async () => {
    const key = { customerId: 'c-deferred', occasionKey: 'welcome:2026-11-23' };
    expect(
      await recordDecision(
        aws.clients.documents,
        table,
        request(key.customerId, key.occasionKey, { reason: 'quiet-hours', deferredUntil: T0 + 8 * HOUR }),
        'deferred',
      ),
    ).toBe('claimed');
    expect(await getLedgerEntry(aws.clients.documents, table, key)).toMatchObject({
      status: 'deferred',
      reason: 'quiet-hours',
      deferredUntil: T0 + 8 * HOUR,
    });
    // Re-deferred by the next hour: still fine.
    expect(
      await recordDecision(aws.clients.documents, table, request(key.customerId, key.occasionKey, { now: T0 + HOUR, reason: 'quiet-hours' }), 'deferred'),
    ).toBe('claimed');
    const later = request(key.customerId, key.occasionKey, { runId: 'run-later', now: T0 + 8 * HOUR });
    expect(await claimOccasion(aws.clients.documents, table, later)).toBe('claimed');
    const entry = await getLedgerEntry(aws.clients.documents, table, key);
    expect(entry).toMatchObject({ status: 'claimed', runId: 'run-later', claimedAt: T0 + 8 * HOUR, claimHour: '2026-11-23T18' });
    expect(entry?.reason).toBeUndefined();
    expect(entry?.deferredUntil).toBeUndefined();

    const capped = { customerId: 'c-capped', occasionKey: 'winback:2026-11' };
    expect(await recordDecision(aws.clients.documents, table, request(capped.customerId, capped.occasionKey, { reason: 'frequency-cap' }), 'capped')).toBe(
      'claimed',
    );
    expect(await claimOccasion(aws.clients.documents, table, request(capped.customerId, capped.occasionKey, { now: T0 + DAY }))).toBe('claimed');
  });

  it('a waiting decision never overwrites a claimed, sent or final entry', async () => {
    const key = { customerId: 'c-no-overwrite', occasionKey: 'welcome:1' };
    await claimOccasion(aws.clients.documents, table, request(key.customerId, key.occasionKey));
    expect(await recordDecision(aws.clients.documents, table, request(key.customerId, key.occasionKey, { runId: 'run-b' }), 'capped')).toBe(
      'already-claimed',
    );
    expect((await getLedgerEntry(aws.clients.documents, table, key))?.status).toBe('claimed');
    await recordOutcome(aws.clients.documents, table, key, 'run-a', { status: 'sent', messageId: 'm-2', sentAt: T0 }, T0);
    expect(await recordDecision(aws.clients.documents, table, request(key.customerId, key.occasionKey, { runId: 'run-b' }), 'deferred')).toBe(
      'already-claimed',
    );
    expect((await getLedgerEntry(aws.clients.documents, table, key))?.status).toBe('sent');
  });

  it('final decisions (held-out, suppressed, no-consent) block the occasion for good', async () => {
    for (const status of ['held-out', 'suppressed', 'no-consent'] as const) {
      const key = { customerId: `c-${status}`, occasionKey: 'welcome:1' };
      expect(await recordDecision(aws.clients.documents, table, request(key.customerId, key.occasionKey, { reason: status }), status)).toBe('claimed');
      expect(await claimOccasion(aws.clients.documents, table, request(key.customerId, key.occasionKey, { runId: 'run-b', now: T0 + DAY }))).toBe(
        'already-claimed',
      );
      expect(await recordDecision(aws.clients.documents, table, request(key.customerId, key.occasionKey, { runId: 'run-b' }), 'deferred')).toBe(
        'already-claimed',
      );
      expect(await getLedgerEntry(aws.clients.documents, table, key)).toMatchObject({ status, runId: 'run-a', reason: status });
      // Nobody can turn a decision into a send.
      expect(
        await recordOutcome(aws.clients.documents, table, key, 'run-a', { status: 'sent', messageId: 'm', sentAt: T0 }, T0),
      ).toBe('not-claimant');
    }
  });

  it('only the claimant records the outcome, once', async () => {
    const key = { customerId: 'c-outcome', occasionKey: 'welcome:1' };
    await claimOccasion(aws.clients.documents, table, request(key.customerId, key.occasionKey, { runId: 'run-owner' }));
    expect(await recordOutcome(aws.clients.documents, table, key, 'run-intruder', { status: 'sent', messageId: 'm-x', sentAt: T0 }, T0)).toBe(
      'not-claimant',
    );
    expect((await getLedgerEntry(aws.clients.documents, table, key))?.status).toBe('claimed');
    expect(await recordOutcome(aws.clients.documents, table, key, 'run-owner', { status: 'sent', messageId: 'm-ok', sentAt: T0 + 5 }, T0)).toBe(
      'recorded',
    );
    // A second, different outcome by the claimant itself is refused too: the first one stands.
    expect(await recordOutcome(aws.clients.documents, table, key, 'run-owner', { status: 'failed', reason: 'late' }, T0)).toBe('not-claimant');
    expect(await getLedgerEntry(aws.clients.documents, table, key)).toMatchObject({ status: 'sent', messageId: 'm-ok' });
    // No entry at all: nothing is created.
    const missing = { customerId: 'c-never-claimed', occasionKey: 'welcome:1' };
    expect(await recordOutcome(aws.clients.documents, table, missing, 'run-owner', { status: 'failed', reason: 'x' }, T0)).toBe('not-claimant');
    expect(await getLedgerEntry(aws.clients.documents, table, missing)).toBeUndefined();
  });

  it('a claim or outcome retried by the SDK after it landed still counts as ours', async () => {
    // Simulates a write that DynamoDB applied but whose response was lost: the same request is sent twice.
    const twice = {
      send: (async (command: Parameters<typeof aws.clients.documents.send>[0]) => {
        await aws.clients.documents.send(command);
        return aws.clients.documents.send(command);
      }) as typeof aws.clients.documents.send,
    };
    const key = { customerId: 'c-retried', occasionKey: 'welcome:1' };
    expect(await claimOccasion(twice, table, request(key.customerId, key.occasionKey))).toBe('claimed');
    expect(await recordOutcome(twice, table, key, 'run-a', { status: 'sent', messageId: 'm-r', sentAt: T0 }, T0)).toBe('recorded');
    expect(await getLedgerEntry(aws.clients.documents, table, key)).toMatchObject({ status: 'sent', messageId: 'm-r' });
  });

  it('a claimant may release an occasion SES did not take (deferred), and a later hour claims it', async () => {
    const key = { customerId: 'c-release', occasionKey: 'welcome:1' };
    await claimOccasion(aws.clients.documents, table, request(key.customerId, key.occasionKey));
    expect(
      await recordOutcome(aws.clients.documents, table, key, 'run-a', { status: 'deferred', reason: 'SendingPausedException', deferredUntil: T0 + HOUR }, T0),
    ).toBe('recorded');
    expect(await getLedgerEntry(aws.clients.documents, table, key)).toMatchObject({ status: 'deferred', deferredUntil: T0 + HOUR });
    expect(await claimOccasion(aws.clients.documents, table, request(key.customerId, key.occasionKey, { runId: 'run-b', now: T0 + HOUR }))).toBe(
      'claimed',
    );
  });

  it('lists a client’s sends within a window, across pages', async () => {
    const customerId = 'c-recent';
    const sentAt = [T0 - 40 * DAY, T0 - 10 * DAY, T0 - 3 * DAY, T0 - DAY];
    for (const [i, at] of sentAt.entries()) {
      const key = { customerId, occasionKey: `occasion:${i}` };
      await claimOccasion(aws.clients.documents, table, request(customerId, key.occasionKey, { now: at }));
      await recordOutcome(aws.clients.documents, table, key, 'run-a', { status: 'sent', messageId: `m-${i}`, sentAt: at }, at);
    }
    // Entries that are not sends never count.
    await claimOccasion(aws.clients.documents, table, request(customerId, 'occasion:claimed', { now: T0 - DAY }));
    await recordDecision(aws.clients.documents, table, request(customerId, 'occasion:held', { now: T0 - DAY }), 'held-out');
    await claimOccasion(aws.clients.documents, table, request(customerId, 'occasion:failed', { now: T0 - DAY }));
    await recordOutcome(aws.clients.documents, table, { customerId, occasionKey: 'occasion:failed' }, 'run-a', { status: 'failed', reason: 'x' }, T0);
    let pages = 0;
    const counting = {
      send: ((command: Parameters<typeof aws.clients.documents.send>[0]) => {
        pages++;
        return aws.clients.documents.send(command);
      }) as typeof aws.clients.documents.send,
    };
    // Pages of 2 (read before the filter): the sends are spread over 4 pages.
    const week = await recentSends(counting, table, customerId, T0 - 7 * DAY, { pageSize: 2 });
    expect(week.map((e) => e.messageId)).toEqual(['m-2', 'm-3']);
    expect(pages).toBeGreaterThanOrEqual(4);
    const month = await recentSends(aws.clients.documents, table, customerId, T0 - 30 * DAY);
    expect(month.map((e) => e.messageId)).toEqual(['m-1', 'm-2', 'm-3']);
    // The boundary is inclusive.
    expect((await recentSends(aws.clients.documents, table, customerId, T0 - 3 * DAY)).map((e) => e.messageId)).toEqual(['m-2', 'm-3']);
    expect(await recentSends(aws.clients.documents, table, 'c-nobody', 0)).toEqual([]);

    // Every entry of the client, whatever its status, by occasion key.
    const all = await ledgerEntriesOf(aws.clients.documents, table, customerId, { pageSize: 3 });
    expect(all.map((e) => `${e.occasionKey}=${e.status}`)).toEqual([
      'occasion:0=sent',
      'occasion:1=sent',
      'occasion:2=sent',
      'occasion:3=sent',
      'occasion:claimed=claimed',
      'occasion:failed=failed',
      'occasion:held=held-out',
    ]);
    expect(await ledgerEntriesOf(aws.clients.documents, table, 'c-nobody')).toEqual([]);
  });

  it('reports claims never resolved, by claim hour, without touching them', async () => {
    const base = Date.parse('2027-01-05T03:10:00Z');
    // Stale: claimed in hours 03 and 04 and never resolved.
    await claimOccasion(aws.clients.documents, table, request('c-stale-1', 'welcome:1', { runId: 'run-crashed', now: base }));
    await claimOccasion(aws.clients.documents, table, request('c-stale-2', 'winback:1', { runId: 'run-crashed', now: base + HOUR }));
    // Resolved ones in the same hours are not stale.
    await claimOccasion(aws.clients.documents, table, request('c-done', 'welcome:1', { runId: 'run-ok', now: base }));
    await recordOutcome(aws.clients.documents, table, { customerId: 'c-done', occasionKey: 'welcome:1' }, 'run-ok', {
      status: 'sent',
      messageId: 'm',
      sentAt: base,
    }, T0);
    await recordDecision(aws.clients.documents, table, request('c-capped-h', 'welcome:1', { now: base }), 'capped');
    // Too recent: a run may still be sending it.
    await claimOccasion(aws.clients.documents, table, request('c-fresh', 'welcome:1', { runId: 'run-now', now: base + HOUR + 50 * 60_000 }));
    // Another hour, not asked for.
    await claimOccasion(aws.clients.documents, table, request('c-other-hour', 'welcome:1', { now: base - 5 * HOUR }));

    const olderThan = base + HOUR + 30 * 60_000;
    const hours = claimHoursBetween(base, olderThan);
    expect(hours).toEqual(['2027-01-05T03', '2027-01-05T04']);
    const stale = await staleClaims(aws.clients.documents, table, olderThan, hours, { pageSize: 1 });
    expect(stale.map((e) => `${e.customerId}/${e.occasionKey}/${e.runId}`)).toEqual(['c-stale-1/welcome:1/run-crashed', 'c-stale-2/winback:1/run-crashed']);
    expect(stale.every((e) => e.status === 'claimed')).toBe(true);
    expect(await staleClaims(aws.clients.documents, table, olderThan, [])).toEqual([]);
    // Reporting changes nothing.
    expect((await getLedgerEntry(aws.clients.documents, table, { customerId: 'c-stale-1', occasionKey: 'welcome:1' }))?.status).toBe('claimed');
  });

  it('judges a claim by when it was written (claimWrittenAt), not by its run\u2019s hour; one without falls back to the hour', async () => {
    const hour = Date.parse('2027-01-09T03:00:00Z');
    // The 03:00 run started 50 minutes late: its claims are written at 03:50 and after.
    await claimOccasion(aws.clients.documents, table, request('c-late-run', 'welcome:1', { runId: 'run-late', now: hour, writtenAt: hour + 50 * 60_000 }));
    await claimOccasion(aws.clients.documents, table, request('c-early-write', 'welcome:1', { runId: 'run-dead', now: hour, writtenAt: hour + 5 * 60_000 }));
    await claimOccasion(aws.clients.documents, table, request('c-no-write-time', 'welcome:1', { runId: 'run-old', now: hour }));
    expect((await getLedgerEntry(aws.clients.documents, table, { customerId: 'c-late-run', occasionKey: 'welcome:1' }))?.claimWrittenAt).toBe(hour + 50 * 60_000);
    // The 04:00 run reports at 04:05: stale means written before 03:35.
    const olderThan = hour + 35 * 60_000;
    const stale = await staleClaims(aws.clients.documents, table, olderThan, claimHoursBetween(hour, olderThan));
    expect(stale.map((e) => e.customerId)).toEqual(['c-early-write', 'c-no-write-time']);
  });

  it('loads the occasions claimed or decided in a period, whatever their status, across pages and segments, with only what the results read', async () => {
    const from = Date.parse('2027-02-01T00:00:00Z');
    const to = from + 3 * DAY;
    const sendAt = async (customerId: string, now: number, extra: Partial<ClaimRequest> = {}) => {
      await claimOccasion(aws.clients.documents, table, request(customerId, 'welcome', { now, tier: 'Entry', ...extra }));
      await recordOutcome(aws.clients.documents, table, { customerId, occasionKey: 'welcome' }, 'run-a', { status: 'sent', messageId: `m-${customerId}`, sentAt: now }, T0);
    };
    await sendAt('p-first', from, { triggerAt: from - 2 * HOUR }); // the first instant counts
    await sendAt('p-sent', from + 30 * HOUR + 5 * 60_000);
    await recordDecision(aws.clients.documents, table, request('p-held', 'winback:x', { now: from + 2 * DAY, tier: 'Core', reason: 'control-group' }), 'held-out');
    // Other outcomes and a claim in flight count as due too; the instants outside do not.
    await recordDecision(aws.clients.documents, table, request('p-suppressed', 'welcome', { now: from + HOUR }), 'suppressed');
    await recordDecision(aws.clients.documents, table, request('p-capped', 'welcome', { now: from + HOUR }), 'capped');
    await claimOccasion(aws.clients.documents, table, request('p-claimed', 'welcome', { now: from + HOUR }));
    await sendAt('p-before', from - 1);
    await sendAt('p-at-end', to); // the end is exclusive
    await sendAt('p-end-hour', to - 60_000); // in the last hour

    const entries = await occasionsClaimedBetween(aws.clients.documents, table, from, to, { pageSize: 1, segments: 3 });
    expect(entries.map((e) => `${e.customerId}/${e.status}`)).toEqual([
      'p-first/sent',
      'p-capped/capped',
      'p-claimed/claimed',
      'p-suppressed/suppressed',
      'p-sent/sent',
      'p-held/held-out',
      'p-end-hour/sent',
    ]);
    expect(entries[0]).toEqual({
      customerId: 'p-first',
      occasionKey: 'welcome',
      campaignId: 'welcome',
      status: 'sent',
      claimedAt: from,
      sentAt: from,
      // One member per email (a reminder's companion products share it): campaign-results.ts oneEntryPerEmail.
      messageId: 'm-p-first',
      tier: 'Entry',
      triggerAt: from - 2 * HOUR,
      customerOccasion: 'p-first#welcome',
    });
    expect(entries[5]).toMatchObject({ campaignId: 'winback', occasionKey: 'winback:x', tier: 'Core', claimedAt: from + 2 * DAY });
    expect(entries[5]).not.toHaveProperty('sentAt');
    expect(await occasionsClaimedBetween(aws.clients.documents, table, to, to)).toEqual([]);
  });

  it('refuses incomplete requests before touching the table', async () => {
    await expect(claimOccasion(aws.clients.documents, table, request('', 'welcome:1'))).rejects.toThrow(/customerId/);
    await expect(claimOccasion(aws.clients.documents, table, request('c', ''))).rejects.toThrow(/occasionKey/);
    await expect(claimOccasion(aws.clients.documents, table, request('c', 'welcome:1', { retentionDays: 0 }))).rejects.toThrow(/retentionDays/);
    await expect(claimOccasion(aws.clients.documents, table, request('c', 'welcome:1', { now: Number.NaN }))).rejects.toThrow(/epoch/);
    await expect(
      recordOutcome(aws.clients.documents, table, { customerId: 'c', occasionKey: 'o' }, 'run-a', { status: 'sent', messageId: '', sentAt: T0 }, T0),
    ).rejects.toThrow(/message id/);
  });
});
