import type { S3Client } from '@aws-sdk/client-s3';
import { counts, formerAdvisorIds, rosterOfNight, type RosterFile, type RosterOutcome, type RosterRow, type StoredRoster } from '#shared/advisors/roster.ts';
import { readStoredJson, StoredObjectDamagedError, writeJsonObject } from '#shared/aws/s3-objects.ts';
import { z } from 'zod';
import { isoDateSchema } from '#shared/time.ts';
import type { Config } from '#shared/config.ts';
import type { Reject } from '#shared/model.ts';
import { pairsWithout, type StoredBookPairs } from '#shared/advisors/handover.ts';
import { bookPairsKey, reportsBucket, rosterKey } from './buckets.ts';

/** The last good advisors roster (shared/advisors/roster.ts), one JSON object beside the product catalogue. */

export async function writeRoster(s3: S3Client, config: Config, roster: StoredRoster): Promise<void> {
  await writeJsonObject(s3, { bucket: reportsBucket(config), key: rosterKey(config) }, roster);
}

const storedRosterSchema = z.looseObject({
  runDate: isoDateSchema,
  advisors: z.array(
    z.looseObject({
      advisorId: z.string(),
      name: z.string().optional(),
      email: z.string().optional(),
      locale: z.string().optional(),
      active: z.boolean(),
      signature: z.string().optional(),
      store: z.string().optional(),
    }),
  ),
  formerAdvisorIds: z.array(z.string()).optional(),
});

/** The stored roster; undefined when no night has carried a good one. */
export function readRoster(s3: S3Client, config: Config): Promise<StoredRoster | undefined> {
  return readStoredJson(s3, { bucket: reportsBucket(config), key: rosterKey(config) }, storedRosterSchema, (object, problem) =>
    new StoredObjectDamagedError(
      'advisors roster',
      object,
      problem,
      'the nights, the campaign hours, the digests and forget refuse until it is repaired. Put back a copy of it, or delete it: the next night stores the roster of its export (the advisors taken out of the file before are then no longer known: forget does not look in their ledgers).',
    ),
  );
}

/**
 * The ids of the stored roster's advisors and of those it no longer lists (none without one): a
 * former advisor's ledger partition may still name a client.
 */
export async function rosterAdvisorIds(s3: S3Client, config: Config): Promise<string[]> {
  const roster = await readRoster(s3, config);
  return [...(roster?.advisors ?? []).map((advisor) => advisor.advisorId), ...(roster?.formerAdvisorIds ?? [])];
}

/**
 * The nightly run's step (shard 0, after the night is admitted): tonight's roster stored when it
 * can be used (an advisor whose rows disagree keeping the stored entry; the ids of advisors it no
 * longer lists kept as former), else the last good one kept (also when tonight's would take the
 * whole team, or most of it, out of service at once: rosterOfNight). Returns what the summary reports, and the rows rejected for disagreeing.
 */
export async function settleRoster(
  s3: S3Client,
  config: Config,
  night: { runDate: string; files: readonly RosterFile[]; advisors: readonly RosterRow[] },
): Promise<{ outcome: RosterOutcome; rejects: Reject[] }> {
  const stored = await readRoster(s3, config);
  const reading = rosterOfNight(night.files, night.advisors, config.maxRejectShare, stored, Object.keys(config.reports.advisors));
  const conflicting = reading.conflicting > 0 ? { conflicting: reading.conflicting } : {};
  if (reading.use) {
    // An advisor taken out of the file is kept by id: forget still looks in their ledger partition.
    const former = formerAdvisorIds(stored, reading.advisors);
    await writeRoster(s3, config, { runDate: night.runDate, advisors: reading.advisors, ...(former.length > 0 ? { formerAdvisorIds: former } : {}) });
    return { outcome: { status: 'updated', since: night.runDate, ...counts(reading.advisors), ...conflicting }, rejects: reading.rejects };
  }
  if (stored === undefined) return { outcome: { status: 'none', reason: reading.reason, advisors: 0, active: 0, ...conflicting }, rejects: reading.rejects };
  return { outcome: { status: 'kept', reason: reading.reason, since: stored.runDate, ...counts(stored.advisors), ...conflicting }, rejects: reading.rejects };
}

const bookPairsSchema = z.record(z.string(), z.string());
const storedBookPairsSchema = z.looseObject({ week: z.string(), before: bookPairsSchema, now: bookPairsSchema, unintroduced: bookPairsSchema.optional() });

export function readBookPairs(s3: S3Client, config: Config): Promise<StoredBookPairs | undefined> {
  return readStoredJson(s3, { bucket: reportsBucket(config), key: bookPairsKey(config) }, storedBookPairsSchema, (object, problem) =>
    new StoredObjectDamagedError(
      'advisors\' book pairs',
      object,
      problem,
      'the weekly digests, forget and the erasures of the nights and hours refuse until it is repaired. Put back a copy of it, or delete it: the next digests compare with tonight\'s books (no handover is introduced that week).',
    ),
  );
}

export async function writeBookPairs(s3: S3Client, config: Config, pairs: StoredBookPairs): Promise<void> {
  await writeJsonObject(s3, { bucket: reportsBucket(config), key: bookPairsKey(config) }, pairs);
}

/**
 * An erasure (eraseTraces: forget, and the nights' and hours' erase-again): the stored pairs without
 * the clients of `customerIds` (their id beside their advisor's), written only when they named any.
 * Returns how many of them the pairs named. A plain read then write, no condition: a digest run, or
 * another erasure (a forget beside an hour's erase-again, two shards of a night), that read the
 * pairs before and writes them after may put them back, until the second weekly digests after
 * (the first keep the pairs they replace as their baseline).
 */
export async function forgetBookPairs(s3: S3Client, config: Config, customerIds: readonly string[]): Promise<number> {
  const stored = await readBookPairs(s3, config);
  if (stored === undefined) return 0;
  const { kept, named } = pairsWithout(stored, customerIds);
  if (named > 0) await writeBookPairs(s3, config, kept);
  return named;
}
