import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TierChange, TierMove } from '#shared/model.ts';
import { batchGetAll } from './batch-reader.ts';
import { batchDeleteAll, batchPutAll, type BatchWriteOptions, type BatchWriteResult } from './batch-writer.ts';
import { collectPages, paginate } from './paginate.ts';
import { HISTORY_BY_RUN_DATE_INDEX } from './tables.ts';

/**
 * The tier history: one record per tier or stage change of a client, keyed by client and the run
 * date that saw it (byRunDate indexes them by night, for the report's migration matrices).
 */

type DocumentSender = Pick<DynamoDBDocumentClient, 'send'>;

export function writeTierChanges(
  client: DocumentSender,
  tableName: string,
  changes: Iterable<TierChange>,
  options?: BatchWriteOptions,
): Promise<BatchWriteResult> {
  return batchPutAll(client, tableName, changes, options);
}

/** A client's tier and stage changes recorded by the runs from `fromRunDate` to `toRunDate`, inclusive. */
export function tierChangesBetween(
  client: DocumentSender,
  tableName: string,
  customerId: string,
  fromRunDate: string,
  toRunDate: string,
): Promise<TierChange[]> {
  return collectPages<TierChange>((startKey) =>
    client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'customerId = :customer AND runDate BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':customer': customerId, ':from': fromRunDate, ':to': toRunDate },
        ExclusiveStartKey: startKey,
      }),
    ),
  );
}

/** Every tier-history record of one run date (the byRunDate index), with only what the matrix needs. */
export function tierMovesOf(documents: DocumentSender, table: string, runDate: string): AsyncGenerator<TierMove> {
  return paginate<TierMove>((startKey) =>
    documents.send(
      new QueryCommand({
        TableName: table,
        IndexName: HISTORY_BY_RUN_DATE_INDEX,
        KeyConditionExpression: '#runDate = :runDate',
        ExpressionAttributeNames: { '#runDate': 'runDate', '#id': 'customerId', '#from': 'fromTier', '#to': 'toTier' },
        ExpressionAttributeValues: { ':runDate': runDate },
        ProjectionExpression: '#id, #runDate, #from, #to',
        ExclusiveStartKey: startKey,
      }),
    ),
  );
}

/** Every record one night wrote (the byRunDate index projects whole records). */
export function tierChangesOfRun(documents: DocumentSender, table: string, runDate: string): AsyncGenerator<TierChange> {
  return paginate<TierChange>((startKey) =>
    documents.send(
      new QueryCommand({
        TableName: table,
        IndexName: HISTORY_BY_RUN_DATE_INDEX,
        KeyConditionExpression: '#runDate = :runDate',
        ExpressionAttributeNames: { '#runDate': 'runDate' },
        ExpressionAttributeValues: { ':runDate': runDate },
        ExclusiveStartKey: startKey,
      }),
    ),
  );
}

/** Deletes a client's records of the given run dates. */
export function deleteTierChanges(documents: DocumentSender, table: string, keys: Iterable<Pick<TierChange, 'customerId' | 'runDate'>>, options?: BatchWriteOptions): Promise<BatchWriteResult> {
  return batchDeleteAll(documents, table, [...keys].map(({ customerId, runDate }) => ({ customerId, runDate })), options);
}

/** The records with these keys (those that exist), read consistently. */
export function getTierChanges(documents: DocumentSender, table: string, keys: readonly Pick<TierChange, 'customerId' | 'runDate'>[]): Promise<TierChange[]> {
  return batchGetAll<TierChange>(documents, table, keys.map(({ customerId, runDate }) => ({ customerId, runDate })));
}

/** Deletes every record of a client (an erasure): returns how many there were. */
export async function deleteClientHistory(documents: DocumentSender, table: string, customerId: string): Promise<number> {
  const rows = await collectPages<TierChange>((startKey) =>
    documents.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'customerId = :customer',
        ExpressionAttributeValues: { ':customer': customerId },
        ProjectionExpression: 'customerId, runDate',
        ExclusiveStartKey: startKey,
      }),
    ),
  );
  await deleteTierChanges(documents, table, rows);
  return rows.length;
}
