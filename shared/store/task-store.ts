import { isDeepStrictEqual } from 'node:util';
import { GetCommand, PutCommand, QueryCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AdvisorTask } from '#shared/advisors/tasks.ts';
import { batchDeleteAll } from './batch-writer.ts';
import { isConditionFailure } from './conditions.ts';
import { expiresAtFor } from './ledger-store.ts';
import { collectPages } from './paginate.ts';
import { TASKS_BY_ADVISOR_INDEX } from './tables.ts';

/**
 * The advisors' tasks (shared/advisors/tasks.ts), one item per (client, occasion) in the
 * advisorTasks table. Every write is conditional, so two runs (or a run and a click) never
 * overwrite each other: a task is created once, and a change applies only to the version it was
 * computed from. Items expire with the send ledger's retention (retainUntil, epoch seconds).
 */

type DocumentSender = Pick<DynamoDBDocumentClient, 'send'>;

export interface TaskKey {
  customerId: string;
  occasionKey: string;
}

type TaskItem = AdvisorTask & { retainUntil: number };

export async function getTask(documents: DocumentSender, table: string, key: TaskKey): Promise<AdvisorTask | undefined> {
  const result = await documents.send(new GetCommand({ TableName: table, Key: { customerId: key.customerId, occasionKey: key.occasionKey }, ConsistentRead: true }));
  if (result.Item === undefined) return undefined;
  const { retainUntil: _retention, ...task } = result.Item as TaskItem;
  return task;
}

/** Writes a new task unless one exists for its occasion; the stored one either way. */
export async function createTask(documents: DocumentSender, table: string, task: AdvisorTask, retentionDays: number): Promise<{ created: boolean; task: AdvisorTask }> {
  try {
    const item: TaskItem = { ...task, retainUntil: expiresAtFor(task.createdAt, retentionDays) };
    await documents.send(new PutCommand({ TableName: table, Item: item, ConditionExpression: 'attribute_not_exists(customerId)' }));
    return { created: true, task };
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    const stored = await getTask(documents, table, task);
    if (stored === undefined) throw error;
    return { created: false, task: stored };
  }
}

/**
 * Replaces a task with `next`, computed from the stored version `fromVersion`: 'stale' when it
 * moved on meanwhile (another answer, the sender), and nothing is written. A refusal by `next`
 * itself is this write, applied with its answer lost and retried by the SDK: replaced.
 */
export async function replaceTask(documents: DocumentSender, table: string, next: AdvisorTask, fromVersion: number, retentionDays: number): Promise<'replaced' | 'stale'> {
  try {
    const item: TaskItem = { ...next, retainUntil: expiresAtFor(next.createdAt, retentionDays) };
    await documents.send(new PutCommand({ TableName: table, Item: item, ConditionExpression: 'version = :from', ExpressionAttributeValues: { ':from': fromVersion } }));
    return 'replaced';
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    // Its version and history (the answer with its instant, last) are this write's alone.
    const stored = await getTask(documents, table, next);
    return stored?.version === next.version && isDeepStrictEqual(stored.history, next.history) ? 'replaced' : 'stale';
  }
}

/** An advisor's tasks given in [from, to) (epoch ms), oldest first: the byAdvisor index. */
export async function tasksOfAdvisor(documents: DocumentSender, table: string, advisorId: string, from: number, to: number): Promise<AdvisorTask[]> {
  const items = await collectPages<TaskItem>((startKey) =>
    documents.send(
      new QueryCommand({
        TableName: table,
        IndexName: TASKS_BY_ADVISOR_INDEX,
        KeyConditionExpression: 'advisorId = :advisor AND createdAt BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':advisor': advisorId, ':from': from, ':to': to - 1 },
        ExclusiveStartKey: startKey,
      }),
    ),
  );
  return items.map(({ retainUntil: _retention, ...task }) => task);
}

/**
 * Every task (a scan: the digests read per advisor). The night's follow-through reads it once per
 * shard and once more, as its figures count the tasks of advisors no longer on the roster too: a
 * cost that grows with the tasks kept (README, "What one run costs in AWS").
 */
export async function allTasks(documents: DocumentSender, table: string): Promise<AdvisorTask[]> {
  const items = await collectPages<TaskItem>((startKey) => documents.send(new ScanCommand({ TableName: table, ExclusiveStartKey: startKey })));
  return items.map(({ retainUntil: _retention, ...task }) => task);
}

/** Every task of a client, over all their occasions. */
export async function tasksOfClient(documents: DocumentSender, table: string, customerId: string): Promise<AdvisorTask[]> {
  const items = await collectPages<TaskItem>((startKey) =>
    documents.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'customerId = :c', ExpressionAttributeValues: { ':c': customerId }, ExclusiveStartKey: startKey })),
  );
  return items.map(({ retainUntil: _retention, ...task }) => task);
}

/** Deletes tasks by key (an erasure). */
export async function deleteTasks(documents: DocumentSender, table: string, keys: readonly TaskKey[]): Promise<void> {
  await batchDeleteAll(documents, table, keys.map(({ customerId, occasionKey }) => ({ customerId, occasionKey })));
}
