import { beforeAll, describe, expect, it } from 'vitest';
import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import {
  feedbackWritesOf,
  getClientSuppression,
  getSuppression,
  isClientSuppressed,
  MAX_FEEDBACK_IDS,
  suppress,
  suppressClient,
  suppressedAmong,
} from '#shared/store/suppression-store.ts';
import { normaliseEmail } from '#shared/email.ts';
import { tableNames } from '#shared/store/tables.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';

const aws = sharedAws();
let table: string;
const T0 = Date.parse('2026-05-01T08:00:00Z');

beforeAll(async () => {
  table = tableNames(await scenarioConfig(aws, 'suppression')).suppression;
});

describe('suppression store', () => {
  it('normalises addresses', async () => {
    expect(normaliseEmail('  Jane.Doe@Example.COM ')).toBe('jane.doe@example.com');
    const result = await suppress(aws.clients.documents, table, { email: ' Norm@Example.com', reason: 'unsubscribe', at: T0 });
    expect(result.created).toBe(true);
    expect(result.item.email).toBe('norm@example.com');
    expect(await isClientSuppressed(aws.clients.documents, table, { customerId: 'c-norm', email: 'NORM@example.com  ' })).toBe(true);
    expect(await isClientSuppressed(aws.clients.documents, table, { customerId: 'c-norm', email: 'other@example.com' })).toBe(false);
  });

  it('is idempotent and keeps the first suppression time, reason, client and source', async () => {
    const first = await suppress(aws.clients.documents, table, {
      email: 'idem@example.com',
      reason: 'unsubscribe',
      at: T0,
      customerId: 'c1',
      source: 'one-click',
    });
    const again = await suppress(aws.clients.documents, table, {
      email: 'idem@example.com',
      reason: 'unsubscribe',
      at: T0 + 60_000,
      customerId: 'c9',
      source: 'confirmation-page',
    });
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    const stored = await getSuppression(aws.clients.documents, table, 'idem@example.com');
    expect(stored).toEqual({
      email: 'idem@example.com',
      reason: 'unsubscribe',
      suppressedAt: T0,
      reasons: new Set(['unsubscribe']),
      customerId: 'c1',
      source: 'one-click',
    });
    expect(again.item).toEqual(stored);
  });

  it('a later hard bounce does not change an unsubscribe, but is recorded among the reasons', async () => {
    await suppress(aws.clients.documents, table, { email: 'u-then-b@example.com', reason: 'unsubscribe', at: T0 });
    const bounce = await suppress(aws.clients.documents, table, { email: 'u-then-b@example.com', reason: 'hard-bounce', at: T0 + 1 });
    expect(bounce.item.reason).toBe('unsubscribe');
    const stored = await getSuppression(aws.clients.documents, table, 'u-then-b@example.com');
    expect(stored?.reason).toBe('unsubscribe');
    expect(stored?.suppressedAt).toBe(T0);
    expect(stored?.reasons).toEqual(new Set(['unsubscribe', 'hard-bounce']));
  });

  it('a complaint is final: later unsubscribes and bounces do not overwrite it', async () => {
    await suppress(aws.clients.documents, table, { email: 'angry@example.com', reason: 'complaint', at: T0, source: 'ses:f1' });
    await suppress(aws.clients.documents, table, { email: 'angry@example.com', reason: 'unsubscribe', at: T0 + 1000, customerId: 'c7' });
    await suppress(aws.clients.documents, table, { email: 'angry@example.com', reason: 'hard-bounce', at: T0 + 2000 });
    const stored = await getSuppression(aws.clients.documents, table, 'angry@example.com');
    expect(stored).toMatchObject({ reason: 'complaint', suppressedAt: T0, complainedAt: T0, source: 'ses:f1', customerId: 'c7' });
  });

  it('a complaint overrides an earlier weaker reason, keeping the first suppression time', async () => {
    await suppress(aws.clients.documents, table, { email: 'b-then-c@example.com', reason: 'hard-bounce', at: T0 });
    const result = await suppress(aws.clients.documents, table, { email: 'b-then-c@example.com', reason: 'complaint', at: T0 + 5000 });
    expect(result.created).toBe(false);
    expect(result.item).toMatchObject({ reason: 'complaint', suppressedAt: T0, complainedAt: T0 + 5000 });
    expect(await getSuppression(aws.clients.documents, table, 'b-then-c@example.com')).toEqual(result.item);
    // And a redelivered complaint keeps the first complaint time.
    await suppress(aws.clients.documents, table, { email: 'b-then-c@example.com', reason: 'complaint', at: T0 + 9000 });
    expect((await getSuppression(aws.clients.documents, table, 'b-then-c@example.com'))?.complainedAt).toBe(T0 + 5000);
  });

  it('records the feedback ids it is given, tells a feedback seen before, and keeps at most MAX_FEEDBACK_IDS of them', async () => {
    const email = 'feedbacks@example.com';
    const bounce = (feedbackId: string) => suppress(aws.clients.documents, table, { email, reason: 'hard-bounce', at: T0, source: `ses-bounce:${feedbackId}`, feedbackId });
    await suppress(aws.clients.documents, table, { email, reason: 'unsubscribe', at: T0, source: 'one-click' });
    expect(await bounce('fb-1')).toMatchObject({ created: false, feedbackSeen: false });
    expect(await bounce('fb-1')).toMatchObject({ created: false, feedbackSeen: true });
    for (let i = 2; i <= MAX_FEEDBACK_IDS; i++) expect((await bounce(`fb-${i}`)).feedbackSeen).toBe(false);
    // Full: one seen already is still told; one more starts a new generation with it alone, the full one kept before it.
    expect((await bounce('fb-1')).feedbackSeen).toBe(true);
    const past = await bounce('fb-past');
    expect(past.feedbackSeen).toBe(false);
    const full = new Set(Array.from({ length: MAX_FEEDBACK_IDS }, (_, i) => `fb-${i + 1}`));
    const stored = await getSuppression(aws.clients.documents, table, email);
    expect(stored).toMatchObject({ reason: 'unsubscribe', source: 'one-click', feedbackIds: new Set(['fb-past']), feedbackIdsBefore: full });
    expect(past.item).toEqual(stored);
    expect((await bounce('fb-past')).feedbackSeen).toBe(true);
    // The newest ids before the new generation are still known: a redelivery of the 10th, right after the 11th, is one.
    expect((await bounce(`fb-${MAX_FEEDBACK_IDS}`)).feedbackSeen).toBe(true);
    // The next generation, once full, replaces the one before: the oldest ids go, the newest stay known.
    for (let i = 1; i <= MAX_FEEDBACK_IDS; i++) expect((await bounce(`fb-next-${i}`)).feedbackSeen).toBe(false);
    const kept = await getSuppression(aws.clients.documents, table, email);
    expect(kept?.feedbackIdsBefore?.has('fb-1')).toBe(false);
    expect((await bounce(`fb-next-${MAX_FEEDBACK_IDS - 1}`)).feedbackSeen).toBe(true);
    expect((await bounce(`fb-next-${MAX_FEEDBACK_IDS}`)).feedbackSeen).toBe(true);
    // A write without a feedback id records none.
    await suppress(aws.clients.documents, table, { email: 'no-feedback@example.com', reason: 'hard-bounce', at: T0, source: 'ses-bounce:unknown' });
    expect(await getSuppression(aws.clients.documents, table, 'no-feedback@example.com')).not.toHaveProperty('feedbackIds');
  });

  it('keeps, per feedback id, the attempt that first wrote it, in the generations of the ids: a retry finds its own write whatever came since', async () => {
    const email = 'writes@example.com';
    const bounce = (n: number | string, attempt: string) =>
      suppress(aws.clients.documents, table, { email, reason: 'hard-bounce', at: T0, source: `ses-bounce:fb-${n}`, feedbackId: `fb-${n}`, attempt });
    expect(await bounce(1, 'a-1')).toMatchObject({ created: true, feedbackSeen: false });
    for (let n = 2; n <= MAX_FEEDBACK_IDS; n++) expect(await bounce(n, `a-${n}`)).toMatchObject({ created: false, feedbackSeen: false });
    // One more starts a new generation: the first ones' writes move with their ids.
    expect(await bounce('next', 'a-next')).toMatchObject({ created: false, feedbackSeen: false });
    // Each attempt run again finds its own write (the first one created the entry); another delivery is a redelivery.
    expect(await bounce(1, 'a-1')).toMatchObject({ created: true, feedbackSeen: false });
    expect(await bounce(MAX_FEEDBACK_IDS, `a-${MAX_FEEDBACK_IDS}`)).toMatchObject({ created: false, feedbackSeen: false });
    expect(await bounce('next', 'a-next')).toMatchObject({ created: false, feedbackSeen: false });
    expect(await bounce(1, 'a-other')).toMatchObject({ created: false, feedbackSeen: true });
    // Bounded as the ids are: another full generation replaces the one before, writes and all.
    for (let n = 1; n < MAX_FEEDBACK_IDS; n++) await bounce(`later-${n}`, `a-later-${n}`);
    await bounce('last', 'a-last');
    const raw = (await aws.clients.documents.send(new GetCommand({ TableName: table, Key: { email }, ConsistentRead: true }))).Item;
    expect(raw?.feedbackWrites).toEqual(new Set([JSON.stringify(['fb-last', 'a-last'])]));
    expect((raw?.feedbackWritesBefore as Set<string>).size).toBe(MAX_FEEDBACK_IDS);
    expect(feedbackWritesOf(raw).get('fb-1')).toBeUndefined();
    expect(feedbackWritesOf(raw).get('fb-next')).toBe('a-next');
    expect(raw?.feedbackWriteCreated).toBe('a-1');
    // Read back without the bookkeeping.
    expect(Object.keys((await getSuppression(aws.clients.documents, table, email)) ?? {}).filter((key) => key.startsWith('feedbackWrite'))).toEqual([]);
  });

  it('reads entries written before the writes were kept per id (the last writer only): their retry, their redelivery, a new feedback, a new generation', async () => {
    const email = 'written-before@example.com';
    // As the earlier version left it: feedbackWrite names the last attempt that recorded an id, feedbackWriteCreated whether it created the entry.
    await aws.clients.documents.send(
      new PutCommand({
        TableName: table,
        Item: { email, reason: 'hard-bounce', suppressedAt: T0, reasons: new Set(['hard-bounce']), source: 'ses-bounce:fb-old-1', feedbackIds: new Set(['fb-old-1']), feedbackWrite: 'old-1', feedbackWriteCreated: 'old-1' },
      }),
    );
    const bounce = (id: string, attempt: string) => suppress(aws.clients.documents, table, { email, reason: 'hard-bounce', at: T0, source: `ses-bounce:${id}`, feedbackId: id, attempt });
    expect(await bounce('fb-old-1', 'old-1')).toMatchObject({ created: true, feedbackSeen: false });
    expect(await bounce('fb-old-1', 'another')).toMatchObject({ created: false, feedbackSeen: true });
    // A new feedback written now: the old id's retry still finds its own write (the last-writer attribute is no longer overwritten).
    expect(await bounce('fb-new-1', 'new-1')).toMatchObject({ created: false, feedbackSeen: false });
    expect(await bounce('fb-old-1', 'old-1')).toMatchObject({ created: true, feedbackSeen: false });
    expect(await bounce('fb-new-1', 'new-1')).toMatchObject({ created: false, feedbackSeen: false });
    // Full, then one more: the new generation starts although the entry kept no writes for its oldest id.
    for (let n = 2; n < MAX_FEEDBACK_IDS; n++) await bounce(`fb-new-${n}`, `new-${n}`);
    expect(await bounce('fb-newest', 'newest')).toMatchObject({ created: false, feedbackSeen: false });
    expect(await bounce('fb-newest', 'newest')).toMatchObject({ created: false, feedbackSeen: false });
    expect(await bounce('fb-old-1', 'old-1')).toMatchObject({ created: true, feedbackSeen: false });
    expect(await bounce('fb-new-2', 'new-2')).toMatchObject({ created: false, feedbackSeen: false });
    expect(await bounce('fb-new-2', 'another')).toMatchObject({ feedbackSeen: true });
    expect(await getSuppression(aws.clients.documents, table, email)).toMatchObject({ feedbackIds: new Set(['fb-newest']), source: 'ses-bounce:fb-old-1' });
  });

  it('concurrent suppressions of one address create it once', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        suppress(aws.clients.documents, table, { email: 'race@example.com', reason: 'unsubscribe', at: T0 + i }),
      ),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
  });

  it('refuses an empty address and an unknown reason', async () => {
    await expect(suppress(aws.clients.documents, table, { email: '  ', reason: 'unsubscribe', at: T0 })).rejects.toThrow(/empty email/);
    await expect(
      suppress(aws.clients.documents, table, { email: 'x@example.com', reason: 'spam' as 'complaint', at: T0 }),
    ).rejects.toThrow(/Unknown suppression reason/);
    await expect(suppressClient(aws.clients.documents, table, { customerId: ' ', reason: 'unsubscribe', at: T0 })).rejects.toThrow(/empty customer id/);
  });

  it('finds the suppressed clients among many with BatchGet (an id and an address each), 100 keys a request', async () => {
    const emails = Array.from({ length: 125 }, (_, i) => `bulk${i}@example.com`);
    const suppressedOnes = emails.filter((_, i) => i % 7 === 0);
    for (const email of suppressedOnes) await suppress(aws.clients.documents, table, { email, reason: 'hard-bounce', at: T0 });
    // Mixed case, a client twice, a second client at the same address and blank addresses are fine.
    const input = [
      ...emails.map((e, i) => ({ customerId: `bulk-${i}`, email: i % 2 ? e.toUpperCase() : e })),
      { customerId: 'bulk-0', email: emails[0] },
      { customerId: 'bulk-0-again', email: emails[0] },
      { customerId: 'bulk-blank', email: '  ' },
      { customerId: 'bulk-none' },
    ];
    const sent: number[] = [];
    const counting = {
      send: ((command: { input: { RequestItems?: Record<string, { Keys?: unknown[] }> } }) => {
        sent.push(command.input.RequestItems?.[table]?.Keys?.length ?? 0);
        return aws.clients.documents.send(command as never);
      }) as typeof aws.clients.documents.send,
    };
    const found = await suppressedAmong(counting, table, input);
    expect([...found].sort()).toEqual([...emails.flatMap((_, i) => (i % 7 === 0 ? [`bulk-${i}`] : [])), 'bulk-0-again'].sort());
    // 125 ids, 125 addresses, 3 more ids: 253 keys.
    expect(sent).toEqual([100, 100, 53]);
    expect(await suppressedAmong(aws.clients.documents, table, [])).toEqual(new Set());
  });

  it('retries unprocessed keys and gives up after the last attempt', async () => {
    await suppress(aws.clients.documents, table, { email: 'retry@example.com', reason: 'complaint', at: T0 });
    let calls = 0;
    // First answer: nothing processed (as DynamoDB does under throttling); then the real thing.
    const flaky = {
      send: (async (command: { input: { RequestItems: Record<string, { Keys: Record<string, unknown>[] }> } }) => {
        calls++;
        if (calls === 1) return { Responses: { [table]: [] }, UnprocessedKeys: command.input.RequestItems };
        return aws.clients.documents.send(command as never);
      }) as unknown as typeof aws.clients.documents.send,
    };
    expect(await suppressedAmong(flaky, table, [{ customerId: 'c-retry', email: 'retry@example.com' }, { customerId: 'c-no', email: 'no@example.com' }], { baseDelayMs: 1 })).toEqual(
      new Set(['c-retry']),
    );
    expect(calls).toBe(2);
    const stuck = {
      send: (async (command: { input: { RequestItems: Record<string, unknown> } }) => ({
        Responses: {},
        UnprocessedKeys: command.input.RequestItems,
      })) as unknown as typeof aws.clients.documents.send,
    };
    await expect(suppressedAmong(stuck, table, [{ customerId: 'c-a', email: 'a@example.com' }], { maxAttempts: 3, baseDelayMs: 1 })).rejects.toThrow(
      /2 keys still unprocessed after 3 attempts/,
    );
  });

  it("keeps a client's own no against their id: it holds at any address, and a complaint stays final", async () => {
    const first = await suppressClient(aws.clients.documents, table, { customerId: 'Cx-1', reason: 'unsubscribe', at: T0, source: 'one-click' });
    expect(first).toEqual({
      created: true,
      feedbackSeen: false,
      item: { email: 'customer:Cx-1', reason: 'unsubscribe', suppressedAt: T0, reasons: new Set(['unsubscribe']), customerId: 'Cx-1', source: 'one-click' },
    });
    // Ids are kept as they are (not lower-cased like addresses).
    expect(await getClientSuppression(aws.clients.documents, table, 'Cx-1')).toEqual(first.item);
    expect(await getClientSuppression(aws.clients.documents, table, 'cx-1')).toBeUndefined();
    expect(await isClientSuppressed(aws.clients.documents, table, { customerId: 'Cx-1', email: 'any-new@example.com' })).toBe(true);
    expect(await isClientSuppressed(aws.clients.documents, table, { customerId: 'Cx-1' })).toBe(true);
    expect(await isClientSuppressed(aws.clients.documents, table, { customerId: 'Cx-2', email: 'any-new@example.com' })).toBe(false);
    await suppressClient(aws.clients.documents, table, { customerId: 'Cx-1', reason: 'complaint', at: T0 + 1000 });
    await suppressClient(aws.clients.documents, table, { customerId: 'Cx-1', reason: 'unsubscribe', at: T0 + 2000 });
    expect(await getClientSuppression(aws.clients.documents, table, 'Cx-1')).toMatchObject({ reason: 'complaint', suppressedAt: T0, complainedAt: T0 + 1000 });
    // A hard bounce is about the address, never the client.
    await expect(suppressClient(aws.clients.documents, table, { customerId: 'Cx-3', reason: 'hard-bounce' as 'complaint', at: T0 })).rejects.toThrow(/about an address/);
    expect(await getClientSuppression(aws.clients.documents, table, 'Cx-3')).toBeUndefined();
  });

  it('stores one item per address', async () => {
    const scan = await aws.clients.documents.send(new ScanCommand({ TableName: table, ProjectionExpression: 'email' }));
    const emails = (scan.Items ?? []).map((i) => String(i.email));
    expect(new Set(emails).size).toBe(emails.length);
  });
});
