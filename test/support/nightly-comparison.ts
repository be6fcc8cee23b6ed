import type { Config } from '#shared/config.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';
import { tableNames } from '#shared/store/tables.ts';
import { scanTable } from './emulator-data.ts';
import type { SharedAws } from './local-aws.ts';

/**
 * What two nightly runs of the same export must agree on, however they were split (one process,
 * worker threads, one Lambda invocation per phase and shard): the summary's figures and what the
 * tables hold.
 */

type Clients = Pick<SharedAws, 'clients'>;

async function scanSorted(aws: Clients, table: string, key: (item: Record<string, unknown>) => string): Promise<Record<string, unknown>[]> {
  const items = await scanTable(aws, table);
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
export async function storedState(aws: Clients, config: Config) {
  const tables = tableNames(config);
  return {
    profiles: await scanSorted(aws, tables.profiles, (i) => String(i.customerId)),
    history: await scanSorted(aws, tables.tierHistory, (i) => `${String(i.customerId)}#${String(i.runDate)}`),
  };
}
