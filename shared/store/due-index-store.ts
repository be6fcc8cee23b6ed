import { DeleteCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsClients } from '#shared/aws/clients.ts';
import { dueIndexing, keptClosedSince, type DueIndexing, type DueIndexState } from '#shared/campaigns/due-index.ts';
import type { ProductCatalog } from '#shared/campaigns/due.ts';
import type { Config } from '#shared/config.ts';
import { readCatalog } from './catalog-store.ts';
import { isConditionFailure } from './conditions.ts';
import { collectPages } from './paginate.ts';
import { getRun, putRun, type RunKey } from './runs-store.ts';
import { tableNames } from './tables.ts';
import { isWriteLeaseLive } from './write-leases.ts';

/**
 * Where the due index stands (shared/campaigns/due-index.ts): one item of the runs table, written
 * by the hourly sender after a run that brought the index up to date, read by the sender, the
 * nightly run and the intraday ingest (they compute the values they write at its lastRunAt).
 */

type DocumentSender = Pick<DynamoDBDocumentClient, 'send'>;

/** The state's key in the runs table. */
export const DUE_INDEX_STATE_KEY = { job: 'due-index', runDate: 'state' } as const;

/** The index's state, read consistently; undefined before the first indexed run. */
export async function readDueIndexState(documents: DocumentSender, runsTable: string): Promise<DueIndexState | undefined> {
  const item = await getRun<typeof DUE_INDEX_STATE_KEY & Partial<DueIndexState>>(documents, runsTable, DUE_INDEX_STATE_KEY);
  if (item === undefined || typeof item.lastRunAt !== 'number' || typeof item.fingerprint !== 'string') return undefined;
  return {
    lastRunAt: item.lastRunAt,
    fingerprint: item.fingerprint,
    ...(typeof item.reindexedUpTo === 'number' ? { reindexedUpTo: item.reindexedUpTo } : {}),
    ...(typeof item.rebuildingUnder === 'string' ? { rebuildingUnder: item.rebuildingUnder } : {}),
    ...(typeof item.expiryFrom === 'number' ? { expiryFrom: item.expiryFrom } : {}),
  };
}

/**
 * Notes, before an hour behind the nights changes any value, the instant from which it leaves
 * windows that closed unrecorded (DueIndexState.expiryFrom), keeping an earlier one.
 */
export async function noteExpiryFrom(documents: DocumentSender, runsTable: string, from: number): Promise<void> {
  try {
    await documents.send(
      new UpdateCommand({
        TableName: runsTable,
        Key: DUE_INDEX_STATE_KEY,
        UpdateExpression: 'SET expiryFrom = :from',
        ConditionExpression: 'attribute_not_exists(expiryFrom) OR expiryFrom > :from',
        ExpressionAttributeValues: { ':from': from },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

/** Clears expiryFrom once an hour recorded every window closed since it, unless another hour noted an earlier one since it was read. */
export async function clearExpiryFrom(documents: DocumentSender, runsTable: string, read: number): Promise<void> {
  try {
    await documents.send(
      new UpdateCommand({ TableName: runsTable, Key: DUE_INDEX_STATE_KEY, UpdateExpression: 'REMOVE expiryFrom', ConditionExpression: 'expiryFrom = :read', ExpressionAttributeValues: { ':read': read } }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

/**
 * Notes, before a run changes any value, the instant it re-indexes at (kept when a later run
 * already noted a later one), and for a full scan rebuilding the index the fingerprint it writes
 * under (DueIndexState.rebuildingUnder), until recordDueIndexState.
 */
export async function noteReindexing(documents: DocumentSender, runsTable: string, at: number, rebuildingUnder?: string): Promise<void> {
  if (rebuildingUnder === undefined) await updateUnlessLater(documents, runsTable, 'reindexedUpTo', 'SET reindexedUpTo = :at', { ':at': at });
  else await updateUnlessLater(documents, runsTable, 'reindexedUpTo', 'SET reindexedUpTo = :at, rebuildingUnder = :fingerprint', { ':at': at, ':fingerprint': rebuildingUnder });
}

/**
 * Records a run that brought the index up to date, unless a later run already did (its state
 * stays) or a rebuild under another fingerprint has begun since (its values are not this run's).
 * Returns whether it was written.
 */
export async function recordDueIndexState(documents: DocumentSender, runsTable: string, state: Pick<DueIndexState, 'lastRunAt' | 'fingerprint'>): Promise<boolean> {
  return updateUnlessLater(documents, runsTable, 'lastRunAt', 'SET lastRunAt = :at, fingerprint = :fingerprint REMOVE rebuildingUnder', { ':at': state.lastRunAt, ':fingerprint': state.fingerprint }, 'AND (attribute_not_exists(rebuildingUnder) OR rebuildingUnder = :fingerprint)');
}

async function updateUnlessLater(documents: DocumentSender, runsTable: string, attribute: 'lastRunAt' | 'reindexedUpTo', update: string, values: Record<string, unknown>, alsoRequired = ''): Promise<boolean> {
  try {
    await documents.send(
      new UpdateCommand({
        TableName: runsTable,
        Key: DUE_INDEX_STATE_KEY,
        UpdateExpression: update,
        ConditionExpression: `(attribute_not_exists(${attribute}) OR ${attribute} <= :at) ${alsoRequired}`.trim(),
        ExpressionAttributeValues: values,
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/**
 * The floors of the night writers (why: shared/campaigns/due-index.ts): one runs-table item per
 * writer, keyed by the key of the write lease it writes under (shared/nightly/write-lease.ts), with
 * the oldest instant its attempts computed their values at and how many times it was noted. An hour
 * deletes one only as it read it (notes unchanged): a retry noting it again since keeps it.
 */
export const DUE_INDEX_FLOOR_JOB = 'due-index-floor';

/** A night writer's floor, as an hour read it. */
export interface DueIndexFloor {
  /** The write lease the writer holds while it writes (its key in the runs table). */
  lease: RunKey;
  /** Epoch ms: the oldest instant the writer's attempts computed the values they write at. */
  at: number;
  /** How many times it was noted: a clear applies only to the floor as read. */
  notes: number;
  /** Whether the writer's lease was live when read (just after the floor): if not, its writes had all landed. */
  writing: boolean;
}

/**
 * Notes that the writer holding `lease` writes profiles whose values are computed at `at`, keeping
 * an older instant an earlier attempt noted. Called after reading the state, before the first write.
 */
export async function noteDueIndexFloor(documents: DocumentSender, runsTable: string, lease: RunKey, at: number): Promise<void> {
  const key = { job: DUE_INDEX_FLOOR_JOB, runDate: lease.runDate };
  // Two tries at most: the second only when an hour cleared the floor between the two writes.
  for (let tries = 0; tries < 2; tries++) {
    try {
      await documents.send(
        new UpdateCommand({
          TableName: runsTable,
          Key: key,
          UpdateExpression: 'SET #at = :at, leaseJob = :leaseJob ADD notes :one',
          ConditionExpression: 'attribute_not_exists(#at) OR #at >= :at',
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: { ':at': at, ':leaseJob': lease.job, ':one': 1 },
        }),
      );
      return;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    // An older floor stands: counted noted again, so that an hour that read it before this writer began does not clear it.
    try {
      await documents.send(
        new UpdateCommand({
          TableName: runsTable,
          Key: key,
          UpdateExpression: 'ADD notes :one',
          ConditionExpression: '#at < :at',
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: { ':at': at, ':one': 1 },
        }),
      );
      return;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }
  throw new Error(`the due index floor of ${lease.runDate} could not be noted: it changed between each of two tries`);
}

/** Every floor, read consistently, each with whether its writer's lease is live at `now` (read after the floors). */
export async function readDueIndexFloors(documents: DocumentSender, runsTable: string, now: number): Promise<DueIndexFloor[]> {
  const items = await collectPages<Record<string, unknown>>((startKey) =>
    documents.send(
      new QueryCommand({
        TableName: runsTable,
        KeyConditionExpression: '#job = :job',
        ExpressionAttributeNames: { '#job': 'job' },
        ExpressionAttributeValues: { ':job': DUE_INDEX_FLOOR_JOB },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    ),
  );
  const floors: DueIndexFloor[] = [];
  for (const item of items) {
    if (typeof item.at !== 'number' || typeof item.leaseJob !== 'string') continue;
    const lease = { job: item.leaseJob, runDate: String(item.runDate) };
    floors.push({ lease, at: item.at, notes: Number(item.notes ?? 0), writing: await isWriteLeaseLive(documents, runsTable, lease, now) });
  }
  return floors;
}

/** Deletes these floors, each only if no writer noted it since it was read. Returns how many went. */
export async function clearDueIndexFloors(documents: DocumentSender, runsTable: string, floors: readonly DueIndexFloor[]): Promise<number> {
  let cleared = 0;
  for (const floor of floors) {
    try {
      await documents.send(
        new DeleteCommand({
          TableName: runsTable,
          Key: { job: DUE_INDEX_FLOOR_JOB, runDate: floor.lease.runDate },
          ConditionExpression: 'notes = :notes',
          ExpressionAttributeValues: { ':notes': floor.notes },
        }),
      );
      cleared++;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }
  return cleared;
}

/** The runs-table item of when each campaign was first run enabled (shared/sender/expiry.ts campaignsEnabledSince). */
const CAMPAIGNS_ENABLED_KEY = { job: 'campaigns-enabled', runDate: 'state' } as const;

/** When each enabled campaign was first run enabled, by id (epoch ms); undefined before any hour recorded it. */
export async function readCampaignsEnabledSince(documents: DocumentSender, runsTable: string): Promise<Record<string, number> | undefined> {
  const item = await getRun<typeof CAMPAIGNS_ENABLED_KEY & { since?: unknown }>(documents, runsTable, CAMPAIGNS_ENABLED_KEY);
  const since = item?.since;
  if (since === null || typeof since !== 'object') return undefined;
  return Object.fromEntries(Object.entries(since).filter((entry): entry is [string, number] => typeof entry[1] === 'number'));
}

/** Records the campaigns enabled now and since when (a campaign turned off leaves it, and is enabled anew when turned back on). */
export async function recordCampaignsEnabledSince(documents: DocumentSender, runsTable: string, since: Readonly<Record<string, number>>): Promise<void> {
  await putRun(documents, runsTable, { ...CAMPAIGNS_ENABLED_KEY, since: { ...since } });
}

/**
 * How profiles written outside the sender (the nightly run, seeded data) enter the index: as of the
 * sender's last indexed run, with `catalog` (the stored catalogue when absent). Before any indexed
 * run, as of `fallbackAt`: the sender's first run reads every profile and indexes it anyway.
 * A night writer gives the key of the write lease it holds: the instant is noted as its floor
 * before it returns (so before the writer's first write); data seeded with no hour running gives none.
 */
export async function dueIndexingForWrites(
  clients: Pick<AwsClients, 'documents' | 's3'>,
  config: Config,
  catalog: ProductCatalog | undefined,
  fallbackAt: number,
  writerLease: RunKey | undefined,
): Promise<DueIndexing> {
  const runsTable = tableNames(config).runs;
  const state = await readDueIndexState(clients.documents, runsTable);
  const indexedAt = state?.lastRunAt ?? fallbackAt;
  const indexing = dueIndexing(config, catalog ?? (await readCatalog(clients.s3, config)), indexedAt, state?.expiryFrom);
  // Values that keep the windows closed since expiryFrom are as old as values computed a lookback
  // after it: the hours read from there while the writer writes, though an hour clears expiryFrom meanwhile.
  if (writerLease !== undefined) await noteDueIndexFloor(clients.documents, runsTable, writerLease, keptClosedSince(indexing) + indexing.lookbackMs);
  return indexing;
}
