import { describe, expect, it } from 'vitest';
import type { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { BatchWriteError, batchPutAll } from '#shared/store/batch-writer.ts';

// DynamoDB Local never throttles nor returns UnprocessedItems, so these two behaviours are driven
// by a scripted sender; the happy path against DynamoDB Local is in the nightly integration test.

type Request = { PutRequest: { Item: Record<string, unknown> } };

function scriptedSender(script: (call: number, requests: Request[]) => { unprocessed?: Request[]; error?: string }) {
  const calls: Request[][] = [];
  const received = new Set<unknown>();
  return {
    calls,
    received,
    send: async (command: BatchWriteCommand) => {
      const requests = (command.input.RequestItems?.table ?? []) as Request[];
      calls.push(requests);
      const outcome = script(calls.length, requests);
      if (outcome.error) {
        const error = new Error('slow down');
        error.name = outcome.error;
        throw error;
      }
      const unprocessed = outcome.unprocessed ?? [];
      for (const r of requests) if (!unprocessed.includes(r)) received.add(r.PutRequest.Item.id);
      return { UnprocessedItems: unprocessed.length ? { table: unprocessed } : {}, $metadata: {} };
    },
  };
}

const items = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i }));
const noWait = { sleep: async () => undefined, random: () => 0.5 };

describe('batchPutAll', () => {
  it('writes in batches of 25', async () => {
    const sender = scriptedSender(() => ({}));
    const result = await batchPutAll(sender as never, 'table', items(60), noWait);
    expect(result).toEqual({ written: 60, retries: 0 });
    expect(sender.calls.map((c) => c.length).sort((a, b) => a - b)).toEqual([10, 25, 25]);
  });

  it('resends unprocessed items until they are written, with growing back-off', async () => {
    const delays: number[] = [];
    const sender = scriptedSender((call, requests) => (call <= 3 ? { unprocessed: requests.slice(0, 5) } : {}));
    const result = await batchPutAll(sender as never, 'table', items(25), {
      concurrency: 1,
      sleep: async (ms) => void delays.push(ms),
      random: () => 1,
      baseDelayMs: 10,
    });
    expect(result.written).toBe(25);
    expect(result.retries).toBe(3);
    expect(sender.received.size).toBe(25);
    expect(delays).toEqual([20, 40, 80]);
  });

  it('backs off on throttling errors and loses nothing', async () => {
    const sender = scriptedSender((call) => (call % 2 === 1 ? { error: 'ProvisionedThroughputExceededException' } : {}));
    const result = await batchPutAll(sender as never, 'table', items(100), { ...noWait, concurrency: 1 });
    expect(result.written).toBe(100);
    expect(result.retries).toBe(4);
    expect(sender.received.size).toBe(100);
  });

  it('fails the run when items stay unprocessed, and rethrows other errors', async () => {
    const stuck = scriptedSender((_, requests) => ({ unprocessed: requests }));
    await expect(batchPutAll(stuck as never, 'table', items(3), { ...noWait, maxAttempts: 4 })).rejects.toThrow(BatchWriteError);
    const broken = scriptedSender(() => ({ error: 'ValidationException' }));
    await expect(batchPutAll(broken as never, 'table', items(3), noWait)).rejects.toThrow('slow down');
  });
});
