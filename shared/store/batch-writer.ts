import { BatchWriteCommand, type BatchWriteCommandOutput, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ClienteleError } from '#shared/errors.ts';
import { forEachInFlight } from './in-flight.ts';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Writes items with BatchWriteItem (25 per request), several requests in flight, resending
 * unprocessed items and backing off on throttling, so a large night completes instead of
 * silently dropping what DynamoDB pushed back.
 */

export const BATCH_SIZE = 25;

const THROTTLING_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TransactionConflictException',
]);

export interface BatchWriteOptions {
  /** Requests in flight at once. */
  concurrency?: number;
  /** Attempts per batch before the run fails. */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Injected so tests run without real waiting. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  onProgress?: (written: number) => void;
}

export interface BatchWriteResult {
  written: number;
  /** Requests that came back with unprocessed items or a throttling error, then were resent. */
  retries: number;
}

export class BatchWriteError extends ClienteleError {
  override name = 'BatchWriteError';
  constructor(message: string, options?: ErrorOptions) {
    super('BATCH_WRITE_FAILED', message, options);
  }
}

type DocumentSender = Pick<DynamoDBDocumentClient, 'send'>;

function isThrottling(error: unknown): boolean {
  return error instanceof Error && THROTTLING_ERRORS.has(error.name);
}

/** One request of a batch: put an item, or delete the item with this key. */
export type WriteRequest = { put: object } | { delete: Record<string, unknown> };

type DynamoWriteRequest = { PutRequest: { Item: Record<string, unknown> } } | { DeleteRequest: { Key: Record<string, unknown> } };

function dynamoRequest(request: WriteRequest): DynamoWriteRequest {
  // Items are plain objects of the table's shape; the document client marshals them.
  return 'put' in request ? { PutRequest: { Item: request.put as Record<string, unknown> } } : { DeleteRequest: { Key: request.delete } };
}

/** Puts every item (see batchWriteAll). */
export function batchPutAll<T extends object>(
  client: DocumentSender,
  tableName: string,
  items: Iterable<T>,
  options: BatchWriteOptions = {},
): Promise<BatchWriteResult> {
  return batchWriteAll(client, tableName, mapIterable(items, (item) => ({ put: item })), options);
}

/** Deletes the items with these keys (see batchWriteAll). */
export function batchDeleteAll(
  client: DocumentSender,
  tableName: string,
  keys: Iterable<Record<string, unknown>>,
  options: BatchWriteOptions = {},
): Promise<BatchWriteResult> {
  return batchWriteAll(client, tableName, mapIterable(keys, (key) => ({ delete: key })), options);
}

/** Puts and deletes with BatchWriteItem, 25 a request, several in flight, unprocessed ones resent. */
export async function batchWriteAll(
  client: DocumentSender,
  tableName: string,
  requests: Iterable<WriteRequest>,
  options: BatchWriteOptions = {},
): Promise<BatchWriteResult> {
  const concurrency = options.concurrency ?? 8;
  const maxAttempts = options.maxAttempts ?? 12;
  const baseDelay = options.baseDelayMs ?? 50;
  const maxDelay = options.maxDelayMs ?? 5_000;
  const pause = options.sleep ?? ((ms: number) => sleep(ms));
  const random = options.random ?? Math.random;
  const result: BatchWriteResult = { written: 0, retries: 0 };

  const backoff = (attempt: number) => pause(Math.floor(random() * Math.min(maxDelay, baseDelay * 2 ** attempt)));

  const writeBatch = async (batch: WriteRequest[]) => {
    let pending: DynamoWriteRequest[] = batch.map(dynamoRequest);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= maxAttempts) {
        throw new BatchWriteError(
          `${pending.length} items to ${tableName} were still unprocessed after ${maxAttempts} attempts`,
        );
      }
      if (attempt > 0) {
        result.retries++;
        await backoff(attempt);
      }
      let output: BatchWriteCommandOutput;
      try {
        output = await client.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
      } catch (error) {
        if (isThrottling(error)) continue;
        throw error;
      }
      const unprocessed = output.UnprocessedItems?.[tableName] ?? [];
      const done = pending.length - unprocessed.length;
      result.written += done;
      if (done > 0) options.onProgress?.(result.written);
      pending = unprocessed.flatMap((request): DynamoWriteRequest[] =>
        request.PutRequest?.Item
          ? [{ PutRequest: { Item: request.PutRequest.Item } }]
          : request.DeleteRequest?.Key
            ? [{ DeleteRequest: { Key: request.DeleteRequest.Key } }]
            : [],
      );
    }
  };

  await forEachInFlight(batches(requests), concurrency, writeBatch);
  return result;
}

function* mapIterable<T, U>(items: Iterable<T>, map: (item: T) => U): Generator<U> {
  for (const item of items) yield map(item);
}

function* batches<T>(items: Iterable<T>): Generator<T[]> {
  let batch: T[] = [];
  for (const item of items) {
    batch.push(item);
    if (batch.length === BATCH_SIZE) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
