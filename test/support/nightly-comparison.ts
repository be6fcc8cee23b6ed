import { parseS3Url, readObjectText } from '#shared/aws/s3-objects.ts';
import type { Config } from '#shared/config.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';
import { readCategoryAffinity } from '#shared/store/catalog-store.ts';
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
    // The roster reaches shard 0 whole, whichever reader read it.
    roster: summary.roster,
  };
}

/** Every profile and tier movement a configuration's tables hold, in a stable order, and the category affinity it stored. */
export async function storedState(aws: Clients, config: Config) {
  const tables = tableNames(config);
  return {
    profiles: await scanSorted(aws, tables.profiles, (i) => String(i.customerId)),
    history: await scanSorted(aws, tables.tierHistory, (i) => `${String(i.customerId)}#${String(i.runDate)}`),
    categoryAffinity: await readCategoryAffinity(aws.clients.s3, config),
  };
}

/**
 * The rows of a run's rejects and warnings objects, each naming its file by basename (each
 * configuration reads its own export prefix): where and why, as the reader found them.
 */
export async function rowObjects(aws: Clients, summary: NightlyRunSummary) {
  const rows = async (object: string | undefined) => {
    if (object === undefined) return [];
    const { bucket, prefix } = parseS3Url(object);
    const text = (await readObjectText(aws.clients.s3, bucket, prefix)) ?? '';
    return text
      .trim()
      .split('\n')
      .map((line) => {
        const row = JSON.parse(line) as { file: string };
        return { ...row, file: row.file.slice(row.file.lastIndexOf('/') + 1) };
      });
  };
  return { rejects: await rows(summary.report.rejectsObject), warnings: await rows(summary.report.warningsObject) };
}
