import { beforeAll, describe, expect, it } from 'vitest';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import {
  getSuppression,
  isSuppressed,
  loadSuppressed,
  suppress,
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
    expect(await isSuppressed(aws.clients.documents, table, 'NORM@example.com  ')).toBe(true);
    expect(await isSuppressed(aws.clients.documents, table, 'other@example.com')).toBe(false);
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
    await expect(isSuppressed(aws.clients.documents, table, '')).rejects.toThrow(/empty email/);
  });

  it('loads the suppressed addresses among many with BatchGet, 100 keys a request', async () => {
    const emails = Array.from({ length: 250 }, (_, i) => `bulk${i}@example.com`);
    const suppressedOnes = emails.filter((_, i) => i % 7 === 0);
    for (const email of suppressedOnes) await suppress(aws.clients.documents, table, { email, reason: 'hard-bounce', at: T0 });
    // Mixed case, duplicates and blanks in the input are fine.
    const input = [...emails.map((e, i) => (i % 2 ? e.toUpperCase() : e)), emails[0] ?? '', '  ', ''];
    const sent: number[] = [];
    const counting = {
      send: ((command: { input: { RequestItems?: Record<string, { Keys?: unknown[] }> } }) => {
        sent.push(command.input.RequestItems?.[table]?.Keys?.length ?? 0);
        return aws.clients.documents.send(command as never);
      }) as typeof aws.clients.documents.send,
    };
    const found = await loadSuppressed(counting, table, input);
    expect([...found].sort()).toEqual([...suppressedOnes].sort());
    expect(sent).toEqual([100, 100, 50]);
    expect(await loadSuppressed(aws.clients.documents, table, [])).toEqual(new Set());
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
    expect(await loadSuppressed(flaky, table, ['retry@example.com', 'no@example.com'], { baseDelayMs: 1 })).toEqual(
      new Set(['retry@example.com']),
    );
    expect(calls).toBe(2);
    const stuck = {
      send: (async (command: { input: { RequestItems: Record<string, unknown> } }) => ({
        Responses: {},
        UnprocessedKeys: command.input.RequestItems,
      })) as unknown as typeof aws.clients.documents.send,
    };
    await expect(loadSuppressed(stuck, table, ['a@example.com'], { maxAttempts: 3, baseDelayMs: 1 })).rejects.toThrow(
      /1 keys still unprocessed after 3 attempts/,
    );
  });

  it('stores one item per address', async () => {
    const scan = await aws.clients.documents.send(new ScanCommand({ TableName: table, ProjectionExpression: 'email' }));
    const emails = (scan.Items ?? []).map((i) => String(i.email));
    expect(new Set(emails).size).toBe(emails.length);
  });
});
