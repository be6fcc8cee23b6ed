import { createHash } from 'node:crypto';
import type { AwsClients } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import type { FileReport } from '#shared/exports/reader.ts';
import type { Log } from '#shared/log.ts';
import { PROFILE_FORMAT } from '#shared/model.ts';
import { getRun, putRun } from '#shared/store/runs-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { compareStrings } from '#shared/tiering/client-columns.ts';
import { stableStringify } from './diff.ts';
import { nightRules, type NightRules } from './guards.ts';
import { wholeSummaryOf } from './runs-item.ts';
import { NIGHTLY_JOB, type NightlyRunSummary } from './summary.ts';

/**
 * A rerun of a completed night on the same export. The night's writes are idempotent, so
 * recomputing it would end in the same tables; but its summary, report and movements are what
 * the team read the morning after, and a rerun (a redriven execution, an operator checking) must
 * leave them as first computed. So a night whose export and configuration are exactly those of
 * its completed run writes nothing, returns that run's summary, and is recorded beside it in the
 * runs table (job "nightly-rerun"). A corrected export, or a changed configuration, runs in full,
 * and so does a night another version completed (its profiles are in that version's format,
 * shared/model.ts PROFILE_FORMAT): rerunning the last night is how an upgrade gets its first one.
 */

export const NIGHTLY_RERUN_JOB = 'nightly-rerun';

/** The export's files (location and sha256 of their bytes) and the configuration's rules, as one hash. */
export function nightFingerprint(files: readonly Pick<FileReport, 'location' | 'sha256'>[], config: Config): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort((a, b) => compareStrings(a.location, b.location))) {
    hash.update(`${file.location}\n${file.sha256}\n`);
  }
  hash.update(computedFrom(config));
  return hash.digest('hex');
}

/**
 * The configuration a night computes from, as text: not where it keeps things, the tables,
 * buckets and endpoints (a restarted emulator, a renamed prefix), which change no result. Keys
 * sorted: the same rules written in another order are the same rules.
 */
function computedFrom(config: Config): string {
  const { storage: _storage, endpoints: _endpoints, ...rules } = config;
  return stableStringify(rules);
}

/**
 * What a sharded night was planned under (plan.json, models.json): each later phase, a separate
 * invocation that reads the configuration then in force, refuses another one (distributed.ts).
 */
export interface PlannedConfig {
  /** sha256 of the configuration as nightFingerprint hashes it. */
  fingerprint: string;
  /** To name what changed. */
  rules: NightRules;
}

export function plannedConfigOf(config: Config): PlannedConfig {
  return { fingerprint: createHash('sha256').update(computedFrom(config)).digest('hex'), rules: nightRules(config) };
}

interface RepeatContext {
  config: Config;
  clients: Pick<AwsClients, 'documents' | 's3'>;
  runDate: string;
  runId: string;
  log: Log;
}

/**
 * The completed summary of this night when it was computed from the same fingerprint and its
 * follow-through, report and digests came out whole; undefined otherwise (not completed, another
 * export or configuration, or an advisors' follow-through, report, team email or advisor digest
 * that failed and deserves another try: the full rerun sends only what the ledger does not hold as sent).
 */
export async function completedRunOf(context: RepeatContext, fingerprint: string): Promise<NightlyRunSummary | undefined> {
  const stored = await getRun<NightlyRunSummary & { status?: string }>(context.clients.documents, tableNames(context.config).runs, {
    job: NIGHTLY_JOB,
    runDate: context.runDate,
  });
  if (!stored || stored.status !== 'completed' || stored.input.fingerprint !== fingerprint) return undefined;
  // Written by another version, its profiles are in that version's format: run again in full, it rewrites them in this one's (profile-format.ts).
  if (stored.profileFormat !== PROFILE_FORMAT) return undefined;
  if (stored.report.reportError !== undefined || (stored.report.teamEmail?.failed ?? 0) > 0) return undefined;
  if (stored.advisorFollowThroughError !== undefined) return undefined;
  const digests = stored.advisorDigests;
  if (digests && (digests.error !== undefined || digests.totals.failed > 0 || digests.totals.deferred > 0)) return undefined;
  return wholeSummaryOf(context.clients.s3, stored);
}

/** Records the rerun beside the night it repeated and returns that night's summary, marked. */
export async function recordRerun(context: RepeatContext, completed: NightlyRunSummary, startedAt: number): Promise<NightlyRunSummary> {
  const rerun = { runId: context.runId, startedAt: new Date(startedAt).toISOString(), of: completed.runId };
  await putRun(context.clients.documents, tableNames(context.config).runs, {
    job: NIGHTLY_RERUN_JOB,
    // Sorted by night, one item per attempt.
    runDate: `${context.runDate}#${context.runId}`,
    ...rerun,
    fingerprint: completed.input.fingerprint,
  });
  context.log.info('night already completed from this export and configuration: nothing written', { of: completed.runId });
  return { ...completed, rerun };
}
