import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { paginate } from './paginate.ts';

/**
 * The runs table: one item per job run, keyed by job and run date (a nightly summary per night,
 * a marker per merged incremental export). The items' shapes belong to the jobs that write them:
 * each reader names the type it stored, as with any DynamoDB item.
 */

/** The key of a runs-table item. `runDate` is a date for nightly runs, an export folder for ingest markers. */
export interface RunKey {
  job: string;
  runDate: string;
}

export type RunItem = RunKey & Record<string, unknown>;

type DocumentSender = Pick<DynamoDBDocumentClient, 'send'>;

/** Writes (or replaces) a run's item. */
export async function putRun(documents: DocumentSender, table: string, item: RunItem): Promise<void> {
  await documents.send(new PutCommand({ TableName: table, Item: item }));
}

/** One run's item, read consistently (a rerun must see the run that just finished), or undefined. */
export async function getRun<T extends RunKey>(documents: DocumentSender, table: string, key: RunKey): Promise<T | undefined> {
  const output = await documents.send(new GetCommand({ TableName: table, Key: { job: key.job, runDate: key.runDate }, ConsistentRead: true }));
  return output.Item as T | undefined;
}

export interface RecentRunsOptions {
  /** At most this many items, newest first. */
  limit: number;
  /** Top-level attributes (or dotted paths one level deep, e.g. 'input.rejected') to read; all when absent. */
  attributes?: readonly string[];
}

/** The job's runs up to `upToRunDate` (inclusive), newest first. */
export async function recentRuns<T extends RunKey>(
  documents: DocumentSender,
  table: string,
  job: string,
  upToRunDate: string,
  options: RecentRunsOptions,
): Promise<T[]> {
  const names: Record<string, string> = { '#job': 'job', '#runDate': 'runDate' };
  let projection: string | undefined;
  if (options.attributes) {
    const paths = ['runDate', ...options.attributes].map((path) =>
      path
        .split('.')
        .map((part) => {
          const name = `#${part.replace(/[^A-Za-z0-9_]/g, '_')}`;
          names[name] = part;
          return name;
        })
        .join('.'),
    );
    projection = [...new Set(paths)].join(', ');
  }
  const items: T[] = [];
  const pages = paginate<T>((startKey) =>
    documents.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: '#job = :job AND #runDate <= :runDate',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':job': job, ':runDate': upToRunDate },
        ...(projection ? { ProjectionExpression: projection } : {}),
        ScanIndexForward: false,
        Limit: options.limit,
        ExclusiveStartKey: startKey,
      }),
    ),
  );
  for await (const item of pages) {
    items.push(item);
    if (items.length >= options.limit) break; // stops the paging too
  }
  return items;
}

/** The job's runs after `runDate` (exclusive), oldest first, at most `limit`. */
export async function runsAfter<T extends RunKey>(documents: DocumentSender, table: string, job: string, runDate: string, limit: number): Promise<T[]> {
  const output = await documents.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: '#job = :job AND #runDate > :runDate',
      ExpressionAttributeNames: { '#job': 'job', '#runDate': 'runDate' },
      ExpressionAttributeValues: { ':job': job, ':runDate': runDate },
      Limit: limit,
      ConsistentRead: true,
    }),
  );
  return (output.Items ?? []) as T[];
}
