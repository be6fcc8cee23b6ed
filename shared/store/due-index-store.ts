import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsClients } from '#shared/aws/clients.ts';
import { dueIndexing, type DueIndexing, type DueIndexState } from '#shared/campaigns/due-index.ts';
import type { ProductCatalog } from '#shared/campaigns/due.ts';
import type { Config } from '#shared/config.ts';
import { readCatalog } from './catalog-store.ts';
import { isConditionFailure } from './conditions.ts';
import { getRun, putRun } from './runs-store.ts';
import { tableNames } from './tables.ts';

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
  };
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
 */
export async function dueIndexingForWrites(
  clients: Pick<AwsClients, 'documents' | 's3'>,
  config: Config,
  catalog: ProductCatalog | undefined,
  fallbackAt: number,
): Promise<DueIndexing> {
  const state = await readDueIndexState(clients.documents, tableNames(config).runs);
  return dueIndexing(config, catalog ?? (await readCatalog(clients.s3, config)), state?.lastRunAt ?? fallbackAt);
}
