import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Config } from '#shared/config.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';
import { tableNames } from '#shared/store/tables.ts';

/**
 * What two nightly runs of the same export must agree on, however they were split (one process,
 * worker threads, one Lambda invocation per phase and shard): the summary's figures and what the
 * tables hold.
 */

async function scanSorted(documents: DynamoDBDocumentClient, table: string, key: (item: Record<string, unknown>) => string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(new ScanCommand({ TableName: table, ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** The figures a run must agree on, whatever its shard count (not its timings or ids). */
export function comparable(summary: NightlyRunSummary) {
  return {
    distribution: summary.distribution,
    changes: summary.changes,
    written: { profiles: summary.written.profiles, tierHistory: summary.written.tierHistory },
    // Reject locations name each config's own export prefix; line and reason must agree.
    input: { rows: summary.input.rows, rejected: summary.input.rejected, sampleRejects: summary.input.sampleRejects.map((r) => `${r.line} ${r.reason}`) },
    clv: summary.clv,
  };
}

/** Every profile and tier movement a configuration's tables hold, in a stable order. */
export async function storedState(documents: DynamoDBDocumentClient, config: Config) {
  const tables = tableNames(config);
  return {
    profiles: await scanSorted(documents, tables.profiles, (i) => String(i.customerId)),
    history: await scanSorted(documents, tables.tierHistory, (i) => `${String(i.customerId)}#${String(i.runDate)}`),
  };
}
