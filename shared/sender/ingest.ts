import { listFolders } from '#shared/aws/s3-objects.ts';
import type { AwsClients } from '#shared/aws/clients.ts';
import { isAwsOrConnectionError } from '#shared/aws/errors.ts';
import type { Config } from '#shared/config.ts';
import { ExportError, ExportIncompleteError } from '#shared/exports/errors.ts';
import { readExport, type ReadResult } from '#shared/exports/reader.ts';
import { s3ExportSource } from '#shared/exports/source.ts';
import type { Log } from '#shared/log.ts';
import { withNextDue, type DueIndexing } from '#shared/campaigns/due-index.ts';
import type { ClientProfile } from '#shared/model.ts';
import { addMinor } from '#shared/money.ts';
import { incrementalPrefix } from '#shared/store/buckets.ts';
import { getProfile, writeProfiles, type ProfileItem } from '#shared/store/profile-store.ts';
import { isErased, loadErasures } from '#shared/store/erasure-store.ts';
import { getRun, putRun } from '#shared/store/runs-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { ClientAggregator } from '#shared/tiering/aggregate.ts';
import { computeProfiles, runClock } from '#shared/tiering/profile.ts';
import { localDate, parseTimestamp } from '#shared/time.ts';
import { SENDER_ALERTS } from './alerts.ts';

/**
 * Incremental exports: during the day the platform may drop the new sign-ups and orders under
 * <prefix>/incremental/<YYYY-MM-DDTHHmm>/ (brand time, with `_manifest.json` {"mode":"incremental"}).
 * The hourly sender merges each one once, so a client who signs up at 10:00 is welcomed that day.
 * The merge only moves facts forward (new client, later orders and purchases, contact details);
 * the next nightly run recomputes every profile from the full snapshot and corrects the rest.
 *
 * A folder that cannot be read as an export (a truncated gzip, a broken CSV, too many rejected
 * rows) is quarantined: reported in the summary and in a log line an alarm counts, marked in the
 * runs table so that no later run reads it again, and skipped; its rows wait for the nightly run,
 * and the hour's sends go on. A dry run reports it without marking it. S3 or DynamoDB failing
 * (not the export's fault) still fails the run, and the next hour tries the folder again. So does
 * a folder still being written (exports.requireManifest, and no manifest listing its files yet).
 */

export interface QuarantinedExport {
  folder: string;
  /** Why it could not be read: the reader's message, naming the file (and line) at fault. */
  reason: string;
}

export interface IngestSummary {
  exports: string[];
  rows: number;
  rejected: number;
  newClients: number;
  updatedClients: number;
  /** Folders that could not be read, skipped for good (a dry run only reports them). */
  quarantined: QuarantinedExport[];
}

/** The runs-table job of the markers of incremental exports (runDate: the export's folder). */
export const INGEST_JOB = 'ingest';

/** The runs-table marker of an incremental folder: merged, or quarantined; either way never read again. */
export type IngestMarker = {
  job: typeof INGEST_JOB;
  runDate: string;
  runId: string;
  source: string;
} & ({ status: 'merged'; rows: number; rejected: number; clients: number } | { status: 'quarantined'; reason: string; quarantinedAt: string });

/** Whether a folder's read failed because of the export itself (quarantine it) rather than S3 failing on the way (fail the run). */
export function isBadExport(error: unknown): error is ExportError {
  return error instanceof ExportError && !isAwsOrConnectionError(error.cause);
}

/** Marks a profile the nightly run must rewrite: its content no longer matches any nightly digest. */
export const INCREMENTAL_DIGEST = 'incremental';

const FOLDER_RE = /^(\d{4}-\d{2}-\d{2})T(\d{2})(\d{2})$/;

/** When an incremental folder was dropped (brand time), or undefined for a name that is not a stamp. */
export function incrementalStamp(folder: string, timeZone: string): number | undefined {
  const m = FOLDER_RE.exec(folder);
  return m ? parseTimestamp(`${m[1]}T${m[2]}:${m[3]}:00`, timeZone) : undefined;
}

/** A stored profile moved forward with what an increment says (pure). */
export function mergeIncrement(stored: ClientProfile, increment: ClientProfile): ClientProfile {
  const later = (a?: string, b?: string) => (a === undefined ? b : b === undefined ? a : a > b ? a : b);
  const earlier = (a?: string, b?: string) => (a === undefined ? b : b === undefined ? a : a < b ? a : b);
  const merged: ClientProfile = { ...stored, skus: { ...stored.skus } };
  // Contact details and consent: the increment is newer when it carries the customer row.
  for (const key of ['email', 'firstName', 'lastName', 'locale', 'timeZone', 'birthday', 'advisorId', 'signedUpAt'] as const) {
    if (increment[key] !== undefined) merged[key] = increment[key];
  }
  // Consent moves only when the increment's row says so: an absent or empty column changes nothing.
  if (increment.acceptsMarketing !== undefined) merged.acceptsMarketing = increment.acceptsMarketing;
  if (increment.orderCount > 0) {
    merged.orderCount = stored.orderCount + increment.orderCount;
    merged.lifetimeSpendMinor = addMinor(stored.lifetimeSpendMinor, increment.lifetimeSpendMinor, "a client's lifetime spend");
    merged.spend12mMinor = addMinor(stored.spend12mMinor, increment.spend12mMinor, "a client's 12-month spend");
    const first = earlier(stored.firstOrderAt, increment.firstOrderAt);
    const last = later(stored.lastOrderAt, increment.lastOrderAt);
    if (first !== undefined) merged.firstOrderAt = first;
    if (last !== undefined) merged.lastOrderAt = last;
    if (stored.stage === 'prospect') merged.stage = increment.stage;
    for (const [sku, purchase] of Object.entries(increment.skus)) {
      const before = merged.skus[sku];
      if (!before || purchase.lastPurchasedAt > before.lastPurchasedAt) {
        merged.skus[sku] = { ...before, ...purchase, purchases: (before?.purchases ?? 0) + purchase.purchases };
      }
    }
  }
  return merged;
}

export async function ingestIncrementalExports(options: {
  config: Config;
  clients: AwsClients;
  at: number;
  runId: string;
  dryRun: boolean;
  log: Log;
  /** How the merged profiles enter the due index (the sender's, as of its last indexed run). */
  indexing: DueIndexing;
}): Promise<IngestSummary> {
  const { config, clients, at, runId, dryRun, log } = options;
  const tables = tableNames(config);
  const summary: IngestSummary = { exports: [], rows: 0, rejected: 0, newClients: 0, updatedClients: 0, quarantined: [] };
  const base = `${incrementalPrefix(config)}/`;
  const erasures = await loadErasures(clients.documents, tables.suppression);
  const folders = await listFolders(clients.s3, config.storage.exportsBucket, base);

  for (const folder of folders.sort()) {
    const stamp = incrementalStamp(folder, config.timeZone);
    if (stamp === undefined) {
      log.warn('ignoring an incremental folder whose name is not YYYY-MM-DDTHHmm', { folder });
      continue;
    }
    if (stamp > at) continue; // dropped after this run's clock
    // Merged or quarantined already: never read again.
    if (await getRun(clients.documents, tables.runs, { job: INGEST_JOB, runDate: folder })) continue;

    const source = s3ExportSource(clients.s3, config.storage.exportsBucket, `${base}${folder}`);
    const { now } = runClock(localDate(at, config.timeZone), config.timeZone);
    const aggregator = new ClientAggregator({ now });
    let read: ReadResult;
    try {
      read = await readExport(
        source,
        { customer: (c) => aggregator.addCustomer(c), order: (o) => aggregator.addOrderLine(o), product: () => undefined },
        { config, now },
      );
    } catch (error) {
      if (error instanceof ExportIncompleteError) {
        log.info('incremental export not whole yet (no manifest listing its files): left for a later hour', { folder, source: source.describe() });
        continue;
      }
      if (!isBadExport(error)) throw error;
      // Nothing of the folder was written: the read comes before any profile write.
      summary.quarantined.push({ folder, reason: error.message });
      // A dry run marks nothing and raises no alarm (no alert field): the next real run will.
      log.error('incremental export quarantined: skipped, its rows wait for the nightly run', {
        ...(dryRun ? {} : { alert: SENDER_ALERTS.exportQuarantined.alert }),
        folder,
        source: source.describe(),
        reason: error.message,
        dryRun,
      });
      if (!dryRun) {
        const marker: IngestMarker = { job: INGEST_JOB, runDate: folder, runId, source: source.describe(), status: 'quarantined', reason: error.message, quarantinedAt: new Date(at).toISOString() };
        await putRun(clients.documents, tables.runs, marker);
      }
      continue;
    }
    const increments = computeProfiles(aggregator.clients(), { runDate: localDate(at, config.timeZone), config });
    const items: ProfileItem[] = [];
    for (const increment of increments) {
      // People who asked to be forgotten stay out, whatever an export says (erasure-store.ts).
      if (isErased(erasures, increment.customerId, increment.email)) continue;
      const stored = await getProfile(clients.documents, tables.profiles, increment.customerId);
      // Already merged (a run died after writing profiles, before marking the folder done).
      if (stored?.lastIncrement !== undefined && stored.lastIncrement >= folder) continue;
      // RFM needs the whole base: a client first seen today is scored by the next nightly run.
      const { rfm: _unscored, ...fresh } = increment;
      const profile = stored ? mergeIncrement(stripItem(stored), increment) : fresh;
      if (stored) summary.updatedClients++;
      else summary.newClients++;
      const item: ProfileItem = {
        ...profile,
        digest: INCREMENTAL_DIGEST,
        updatedRunDate: stored?.updatedRunDate ?? localDate(at, config.timeZone),
        lastIncrement: folder,
      };
      items.push(withNextDue(item, options.indexing));
    }
    summary.exports.push(source.describe());
    summary.rows += read.rows;
    summary.rejected += read.rejected;
    if (dryRun) continue;
    await writeProfiles(clients.documents, tables.profiles, items);
    const marker: IngestMarker = { job: INGEST_JOB, runDate: folder, runId, source: source.describe(), status: 'merged', rows: read.rows, rejected: read.rejected, clients: items.length };
    await putRun(clients.documents, tables.runs, marker);
    log.info('incremental export merged', { folder, rows: read.rows, rejected: read.rejected, clients: items.length });
  }
  return summary;
}

function stripItem(item: ProfileItem): ClientProfile {
  const { digest: _digest, updatedRunDate: _updated, lastIncrement: _merged, nextDueAt: _indexed, nextDueDay: _indexedDay, ...profile } = item;
  return profile;
}
