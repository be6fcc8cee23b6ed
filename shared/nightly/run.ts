import { PutObjectCommand } from '@aws-sdk/client-s3';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { AwsClients } from '../aws/clients.ts';
import { applyClvToProfiles, assessClv, type ClvRunReport } from '../clv/profile-clv.ts';
import type { Config } from '../config.ts';
import { readExport, ExportError, type FileReport, type ReadResult } from '../exports/reader.ts';
import { s3ExportSource, type ExportSource } from '../exports/source.ts';
import { silentLog, type Log } from '../log.ts';
import type { ClientProfile, ProductRecord, Reject } from '../model.ts';
import { catalogKey, exportPrefix, reportPrefix, reportsBucket } from '../store/buckets.ts';
import { loadStoredStates, writeProfiles, writeTierChanges } from '../store/profile-store.ts';
import { tableNames } from '../store/tables.ts';
import type { CampaignHeadline } from '../reports/campaign-results.ts';
import { ClientAggregator } from '../tiering/aggregate.ts';
import { computeProfiles, runClock } from '../tiering/profile.ts';
import { writeCampaignResults } from './campaign-results.ts';
import { diffProfiles } from './diff.ts';
import { distribution, type Distribution } from './summary.ts';

/**
 * The nightly job: read the dated export, compute every client's profile, write only what
 * changed, record movements, and leave a report. Nothing is written until the whole export has
 * been read and accepted, so a broken export cannot half-update the base.
 */

export type NightlyStep = 'read' | 'compute' | 'load' | 'write';

export interface NightlyProgress {
  step: NightlyStep;
  done: number;
  total?: number;
}

export interface NightlyRunOptions {
  runDate: string;
  runId: string;
  config: Config;
  clients: AwsClients;
  /** Defaults to the dated prefix of the exports bucket. */
  source?: ExportSource;
  log?: Log;
  onProgress?: (progress: NightlyProgress) => void;
}

export interface NightlyRunSummary {
  job: 'nightly';
  runId: string;
  runDate: string;
  source: string;
  currency: string;
  startedAt: string;
  durationMs: number;
  timingsMs: { read: number; compute: number; load: number; write: number };
  input: {
    files: FileReport[];
    rows: number;
    rejected: number;
    rejectShare: number;
    /** The first rejects, for a quick look; the full list is in the rejects object. */
    sampleRejects: Reject[];
  };
  distribution: Distribution;
  /** The CLV models fitted tonight (parameters, fit quality), or why they were not. */
  clv: ClvRunReport;
  changes: {
    newClients: number;
    changedProfiles: number;
    unchangedProfiles: number;
    upgrades: number;
    downgrades: number;
    tierMovements: Record<string, number>;
    stageMovements: Record<string, number>;
  };
  written: { profiles: number; tierHistory: number; retries: number };
  /** Per campaign, all tiers, each window: sends, uplift and significance (the full results are in campaignResultsObject). */
  campaignResults: CampaignHeadline[];
  report: { summaryObject: string; rejectsObject?: string; campaignResultsObject: string };
}

export class NightlyRunError extends Error {
  override name = 'NightlyRunError';
}

export async function runNightly(options: NightlyRunOptions): Promise<NightlyRunSummary> {
  const { config, clients, runDate, runId } = options;
  const log = (options.log ?? silentLog).child({ runId, runDate, job: 'nightly' });
  const progress = options.onProgress ?? (() => undefined);
  const tables = tableNames(config);
  const started = Date.now();
  const source = options.source ?? s3ExportSource(clients.s3, config.storage.exportsBucket, exportPrefix(config, runDate));
  log.info('nightly run started', { source: source.describe() });

  // 1. Read and aggregate. Throws (before any write) on an unreadable file or too many rejects.
  const aggregator = new ClientAggregator({ now: runClock(runDate, config.timeZone).now });
  const products: ProductRecord[] = [];
  let read: ReadResult;
  try {
    read = await readExport(
      source,
      {
        customer: (record) => aggregator.addCustomer(record),
        order: (line) => aggregator.addOrderLine(line),
        product: (record) => products.push(record),
      },
      { config, onProgress: (bytes) => progress({ step: 'read', done: bytes }) },
    );
  } catch (error) {
    if (error instanceof ExportError) log.error('export rejected, nothing written', { file: error.file, error: error.message });
    throw error;
  }
  if (read.mode !== 'full') {
    throw new NightlyRunError(
      `${source.describe()} is an incremental export (_manifest.json); the nightly run needs a full snapshot.`,
    );
  }
  const readDone = Date.now();
  log.info('export read', { rows: read.rows, rejected: read.rejected, files: read.files.length, clients: aggregator.clientCount });

  // 2. Compute profiles (pure).
  progress({ step: 'compute', done: 0, total: aggregator.clientCount });
  // CLV: one fit on the whole base as of the run's clock, predictions stored on the profiles.
  const clv = assessClv(aggregator.clients(), { runDate, config });
  if (!clv.report.fitted) log.warn('clv models not fitted, profiles keep no clv tonight', { reason: clv.report.skippedReason });
  else if (clv.report.warnings.length > 0) log.warn('clv fit warnings', { warnings: clv.report.warnings });
  const profiles: ClientProfile[] = applyClvToProfiles(computeProfiles(aggregator.clients(), { runDate, config }), clv, config);
  progress({ step: 'compute', done: profiles.length, total: profiles.length });
  const computeDone = Date.now();

  // 3. Diff against the stored state.
  progress({ step: 'load', done: 0 });
  const stored = await loadStoredStates(clients.documents, tables.profiles);
  const diff = diffProfiles(profiles, stored, runDate);
  progress({ step: 'load', done: stored.size, total: stored.size });
  const loadDone = Date.now();
  log.info('profiles compared', { stored: stored.size, changed: diff.changed.length, movements: diff.tierChanges.length });

  // 4. Write what changed.
  const total = diff.changed.length + diff.tierChanges.length;
  let historyWritten = 0;
  const profileWrite = await writeProfiles(clients.documents, tables.profiles, diff.changed, {
    onProgress: (written) => progress({ step: 'write', done: written, total }),
  });
  const historyWrite = await writeTierChanges(clients.documents, tables.tierHistory, diff.tierChanges, {
    onProgress: (written) => {
      historyWritten = written;
      progress({ step: 'write', done: profileWrite.written + historyWritten, total });
    },
  });
  const writeDone = Date.now();

  // 5. Report: summary, rejects and campaign results next to each other under the run's report prefix.
  const campaignResults = await writeCampaignResults({ config, clients, runDate, orders: aggregator, log });
  const bucket = reportsBucket(config);
  const prefix = reportPrefix(config, 'nightly', runDate);
  const summaryKey = `${prefix}/summary.json`;
  const rejectsKey = read.rejected > 0 ? `${prefix}/rejects.jsonl` : undefined;
  const summary: NightlyRunSummary = {
    job: 'nightly',
    runId,
    runDate,
    source: source.describe(),
    currency: config.currency,
    startedAt: new Date(started).toISOString(),
    durationMs: 0,
    timingsMs: { read: readDone - started, compute: computeDone - readDone, load: loadDone - computeDone, write: writeDone - loadDone },
    input: {
      files: read.files,
      rows: read.rows,
      rejected: read.rejected,
      rejectShare: read.rows === 0 ? 0 : read.rejected / read.rows,
      sampleRejects: read.rejects.slice(0, 10),
    },
    distribution: distribution(profiles),
    clv: clv.report,
    changes: {
      newClients: diff.newClients,
      changedProfiles: diff.changed.length,
      unchangedProfiles: diff.unchanged,
      upgrades: diff.upgrades,
      downgrades: diff.downgrades,
      tierMovements: diff.tierMovements,
      stageMovements: diff.stageMovements,
    },
    written: { profiles: profileWrite.written, tierHistory: historyWrite.written, retries: profileWrite.retries + historyWrite.retries },
    campaignResults: campaignResults.headlines,
    report: {
      summaryObject: `s3://${bucket}/${summaryKey}`,
      ...(rejectsKey ? { rejectsObject: `s3://${bucket}/${rejectsKey}` } : {}),
      campaignResultsObject: campaignResults.object,
    },
  };
  if (rejectsKey) {
    await clients.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: rejectsKey,
        ContentType: 'application/x-ndjson',
        // The bucket's lifecycle expires objects with this tag after 30 days (they hold personal data).
        Tagging: 'retention=rejects',
        Body: read.rejects.map((r) => JSON.stringify(r)).join('\n') + '\n',
      }),
    );
  }
  if (products.length > 0) {
    // Last one wins per SKU, like customers; the campaign sender reads the cycles from here.
    const bySku = new Map(products.map((p) => [p.sku, p]));
    await clients.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: catalogKey(config), ContentType: 'application/json', Body: JSON.stringify([...bySku.values()]) }),
    );
  }
  summary.durationMs = Date.now() - started;
  await clients.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: summaryKey, ContentType: 'application/json', Body: JSON.stringify(summary, null, 2) }),
  );
  await clients.documents.send(new PutCommand({ TableName: tables.runs, Item: { ...summary, job: 'nightly', runDate } }));
  log.info('nightly run finished', {
    durationMs: summary.durationMs,
    written: summary.written,
    upgrades: diff.upgrades,
    downgrades: diff.downgrades,
  });
  return summary;
}
