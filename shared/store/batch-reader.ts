import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Reads items by key with BatchGetItem, 100 keys a request, retrying the keys DynamoDB leaves
 * unprocessed (it does under load) with a growing pause, consistently: a decision made a moment
 * ago must count.
 */

export const BATCH_GET_LIMIT = 100;

export interface BatchGetOptions {
  /** Attributes to read (names, as in a ProjectionExpression); the whole item when absent. */
  attributes?: readonly string[];
  /** Rounds of retrying unprocessed keys before giving up. */
  maxAttempts?: number;
  /** First pause in ms, doubled each round. */
  baseDelayMs?: number;
}

type DocumentSender = Pick<DynamoDBDocumentClient, 'send'>;

/** The items that exist among `keys` (each key once: BatchGetItem refuses a request naming one twice). */
export async function batchGetAll<T = Record<string, unknown>>(
  documents: DocumentSender,
  table: string,
  keys: readonly Record<string, unknown>[],
  options: BatchGetOptions = {},
): Promise<T[]> {
  const maxAttempts = options.maxAttempts ?? 8;
  const baseDelayMs = options.baseDelayMs ?? 50;
  const names = options.attributes ? Object.fromEntries(options.attributes.map((name, i) => [`#a${i}`, name])) : undefined;
  const items: T[] = [];
  for (let start = 0; start < keys.length; start += BATCH_GET_LIMIT) {
    let pending: Record<string, unknown>[] = keys.slice(start, start + BATCH_GET_LIMIT);
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > maxAttempts) throw new Error(`${table}: ${pending.length} keys still unprocessed after ${maxAttempts} attempts`);
      if (attempt > 1) await sleep(baseDelayMs * 2 ** (attempt - 2));
      const output = await documents.send(
        new BatchGetCommand({
          RequestItems: {
            [table]: {
              Keys: pending,
              ConsistentRead: true,
              ...(names ? { ProjectionExpression: Object.keys(names).join(', '), ExpressionAttributeNames: names } : {}),
            },
          },
        }),
      );
      // The caller names the item type its table stores (DynamoDB returns them untyped).
      items.push(...((output.Responses?.[table] ?? []) as T[]));
      pending = output.UnprocessedKeys?.[table]?.Keys ?? [];
    }
  }
  return items;
}
