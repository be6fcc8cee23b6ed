import type { ClientProfile } from '#shared/model.ts';
import { incrementalStamp } from '#shared/store/buckets.ts';
import type { UnkeptProfile } from '#shared/store/profile-store.ts';
import { runClock } from '#shared/tiering/profile.ts';
import { customerShardKey, shardKeySchemeOf, shardOf, type ShardSpec } from './shards.ts';

/**
 * Clients absent from a night's export. Nightly exports are full snapshots: a client of the base
 * that no file of tonight's has (no customer row, no order line) was deleted or merged on the
 * platform. What we knew of them is kept (exports.md: a missing client keeps what we know), but
 * their profile stops moving, so it would go on saying what it said on their last night (a VIC
 * "new" a year after their only order) and the campaigns would go on mailing them. So the night
 * marks them `absentSince` (the first night they were missing) and takes them out of the due
 * index; nothing is sent to a client so marked (campaigns/due.ts) and no advisor is asked about
 * them (advisors/book.ts, advisors/handover.ts) until a night or an increment has them again,
 * which clears the mark. Many clients missing at once is a broken export, not a cleanup: the
 * plausibility guard counts them (guards.ts).
 *
 * In a sharded night, each absent client is one shard's: the shard its key would send them to
 * (shards.ts), from the stored email where the export is keyed by email.
 */

/** Whether a stored client no file of tonight's has is this shard's to mark absent. */
export function absenceOwner(
  files: Parameters<typeof shardKeySchemeOf>[0],
  shard: ShardSpec,
): (profile: Pick<UnkeptProfile, 'customerId' | 'email'>) => boolean {
  const scheme = shardKeySchemeOf(files);
  if (shard.count === 1) return () => true;
  return (profile) => shardOf(customerShardKey(profile, scheme), shard.count) === shard.index;
}

/**
 * Whether an increment dropped after the night's cut-off (its clock: the end of its run date) has
 * merged into the profile: the snapshot may have been dumped before it, so a client it created, or
 * whose row it brought, is not absent from the platform for being absent from the snapshot.
 */
export function mergedSinceSnapshot(runDate: string, timeZone: string): (profile: Pick<UnkeptProfile, 'lastIncrement'>) => boolean {
  const cutoff = runClock(runDate, timeZone).now;
  return (profile) => {
    if (profile.lastIncrement === undefined) return false;
    const stamp = incrementalStamp(profile.lastIncrement, timeZone);
    return stamp !== undefined && stamp >= cutoff;
  };
}

/** Whether the nights found the client in no file before night `runDate` (a mark an earlier attempt of that night made is its own). Pure. */
export function absentBefore(profile: { absentSince?: string | undefined }, runDate: string): boolean {
  return profile.absentSince !== undefined && profile.absentSince < runDate;
}

/** The profile as a night that found it in no file writes it back: absent since that night, unless it already was. Pure. */
export function withAbsence<P extends ClientProfile>(profile: P, runDate: string): P {
  return profile.absentSince !== undefined ? profile : { ...profile, absentSince: runDate };
}

/** The clients one shard counted absent tonight, and those it counted back (AbsentTonight). */
export interface ShardAbsentClients {
  counted: string[];
  countedBack: string[];
}

/**
 * The clients the night found in no file, from every shard's count: one a shard counted and
 * another counted back (it holds them tonight by another key) is not. Undefined when a shard's
 * outcome, from an earlier version, lacks its count.
 */
export function absentClientsOf(shards: readonly (ShardAbsentClients | undefined)[]): ReadonlySet<string> | undefined {
  if (shards.some((shard) => shard === undefined)) return undefined;
  const absent = new Set(shards.flatMap((shard) => shard?.counted ?? []));
  for (const shard of shards) for (const id of shard?.countedBack ?? []) absent.delete(id);
  return absent;
}
