import type { AwsClients } from '#shared/aws/clients.ts';
import { withNextDue, type DueIndexing } from '#shared/campaigns/due-index.ts';
import type { Config } from '#shared/config.ts';
import type { Log } from '#shared/log.ts';
import type { ClientClv, ProductRecord, TierChange } from '#shared/model.ts';
import { dueIndexingForWrites } from '#shared/store/due-index-store.ts';
import { deleteTierChanges, getTierChanges, writeTierChanges } from '#shared/store/history-store.ts';
import { writeBeforeImages, type BeforeImage } from '#shared/store/night-plans.ts';
import { deleteProfiles, getProfiles, markProfilesAbsent, writeProfiles, type ProfileItem } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { runClock } from '#shared/tiering/profile.ts';
import type { NightBase } from './base.ts';
import { stableStringify, type ProfileDiff } from './diff.ts';
import { mergedSinceSnapshot, withAbsence } from './absent.ts';
import { mergeWithStored } from './merge.ts';
import { writeLeaseKey, type LeasedWork } from './write-lease.ts';

/**
 * Writes what a night changed, in an order that a crash at any point followed by a rerun ends in
 * the state of one clean run:
 *  1. the before-images of every profile about to be written (night-plans.ts), before any write;
 *  2. the profiles: tonight's, merged with what the client told us before (merge.ts); profiles an
 *     earlier attempt of the night wrote and tonight does not change go back to their before-image
 *     (or away, if that attempt created them);
 *  3. the tier history: tonight's movements; an earlier attempt's movements that tonight does not
 *     make are deleted.
 * What an earlier attempt already wrote exactly as tonight would is not written again, so a rerun
 * of a night on the same export writes nothing. Every profile written carries its place in the
 * hourly sender's due index (nightDueIndexing); the unchanged ones keep theirs, and the floor the
 * writer noted keeps the hours reading them until an hour re-indexes them after the writer ends.
 */

export interface ApplyContext {
  config: Config;
  clients: Pick<AwsClients, 'documents' | 's3'>;
  runDate: string;
  runId: string;
  log: Log;
  onWritten?: (written: number) => void;
}

export interface AppliedNight {
  /** Items this attempt actually put or deleted (0 on a rerun that found everything in place). */
  profilesWritten: number;
  profilesRestored: number;
  /** Clients of the base in no file tonight that this attempt marked absent (0 on a rerun that found them marked). */
  absentMarked: number;
  historyWritten: number;
  historyDeleted: number;
  retries: number;
  /** Clients of the earlier attempts' plans this shard saw tonight (finishNight restores the others). */
  plannedHandled: string[];
}

/**
 * How the night's profiles enter the due index: with `catalog`, the catalogue the sender reads after
 * the night (nightCatalog; the stored one when not given), as of the sender's last indexed
 * run (shared/campaigns/due-index.ts). Before any indexed run, as of the night's clock (the sender's
 * first run reads every profile and indexes them anyway). That instant is noted as the floor of
 * `writer`, the write lease the writes are under (due-index-store.ts): call it before the first write.
 */
export function nightDueIndexing(context: Pick<ApplyContext, 'config' | 'clients' | 'runDate' | 'runId'>, writer: LeasedWork, catalog?: ReadonlyMap<string, ProductRecord>): Promise<DueIndexing> {
  const { config, clients, runDate, runId } = context;
  return dueIndexingForWrites(clients, config, catalog, runClock(runDate, config.timeZone).now, writeLeaseKey(runDate, runId, writer));
}

const sameClv = (a: ClientClv | undefined, b: ClientClv | undefined) => stableStringify(a ?? null) === stableStringify(b ?? null);

export async function applyNight(
  context: ApplyContext,
  shard: number,
  base: NightBase,
  diff: Pick<ProfileDiff, 'changed' | 'tierChanges'>,
  indexing: DueIndexing,
): Promise<AppliedNight> {
  const { config, clients, runDate, runId, log } = context;
  const tables = tableNames(config);

  // 1. Before-images: from an earlier attempt's plan, else the stored item (still as before the night).
  const needImage = diff.changed.filter((item) => !base.planned.has(item.customerId));
  const storedIds = needImage.filter((item) => base.stored.has(item.customerId)).map((item) => item.customerId);
  const fetched = new Map((await getProfiles(clients.documents, tables.profiles, storedIds)).map((item) => [item.customerId, item]));
  const newImages: BeforeImage[] = needImage.map((item) => ({ customerId: item.customerId, before: fetched.get(item.customerId) ?? null }));
  await writeBeforeImages(clients.s3, config, { runDate, runId, shard }, newImages);
  const imageOf = (customerId: string): ProfileItem | null => (base.planned.has(customerId) ? (base.planned.get(customerId) ?? null) : (fetched.get(customerId) ?? null));

  // 2. Profiles.
  const targets = diff.changed
    .map((item) => withNextDue(mergeWithStored(item, imageOf(item.customerId)), indexing))
    .filter((target) => {
      const now = base.stored.get(target.customerId);
      // Written exactly so by an earlier attempt of this night (and not marked absent since): nothing to do.
      return !(now && now.updatedRunDate === runDate && now.digest === target.digest && sameClv(now.clv, target.clv) && now.absentSince === undefined);
    });
  const changedIds = new Set(diff.changed.map((item) => item.customerId));
  const plannedHandled = [...base.planned.keys()];
  const toRestore = plannedHandled.filter((id) => !changedIds.has(id) && base.stored.get(id)?.updatedRunDate === runDate);
  const restoredItems = toRestore.flatMap((id) => base.planned.get(id) ?? []).map((item) => withNextDue(item, indexing));
  const toDelete = toRestore.filter((id) => !base.planned.get(id));
  const profileWrite = await writeProfiles(clients.documents, tables.profiles, [...targets, ...restoredItems], { onProgress: context.onWritten });
  const profileDelete = await deleteProfiles(clients.documents, tables.profiles, toDelete);
  // Clients of the base in no file tonight (absent.ts): marked, out of the due index.
  const absentMarked = await markProfilesAbsent(clients.documents, tables.profiles, base.absent.toMark, runDate);

  // 3. History: tonight's movements; an earlier attempt's that tonight does not make go.
  const tonight = new Map(diff.tierChanges.map((change) => [change.customerId, change]));
  const plannedKeys = plannedHandled.map((customerId) => ({ customerId, runDate }));
  const existing = plannedKeys.length > 0 ? await getTierChanges(clients.documents, tables.tierHistory, plannedKeys) : [];
  const alreadyWritten = new Set(existing.filter((row) => sameRow(row, tonight.get(row.customerId))).map((row) => row.customerId));
  const stale = plannedKeys.filter((key) => !tonight.has(key.customerId));
  const historyWrite = await writeTierChanges(
    clients.documents,
    tables.tierHistory,
    diff.tierChanges.filter((change) => !alreadyWritten.has(change.customerId)),
  );
  const historyDelete = await deleteTierChanges(clients.documents, tables.tierHistory, stale);

  const applied: AppliedNight = {
    profilesWritten: profileWrite.written - restoredItems.length,
    profilesRestored: restoredItems.length + profileDelete.written,
    absentMarked,
    historyWritten: historyWrite.written,
    historyDeleted: historyDelete.written,
    retries: profileWrite.retries + profileDelete.retries + historyWrite.retries + historyDelete.retries,
    plannedHandled,
  };
  log.info('night applied', { shard, ...applied, plannedHandled: plannedHandled.length, beforeImages: newImages.length });
  return applied;
}

function sameRow(stored: TierChange, tonight: TierChange | undefined): boolean {
  return tonight !== undefined && stableStringify(stored) === stableStringify(tonight);
}

/**
 * What finishNight puts back: clients of the earlier attempts' plans that no shard saw tonight (a
 * client the bad export had and the corrected one does not). Their profile returns to its
 * before-image, marked absent as tonight's export has them in no file (absent.ts), or goes if the
 * earlier attempt created it, and their movement of the night goes.
 * Those attempts are over: the finish holds a write lease no other run holds (write-lease.ts);
 * put back under one still writing, its writes would be undone.
 */
export async function restoreUnseen(context: ApplyContext, writer: LeasedWork, planned: ReadonlyMap<string, ProfileItem | null>, handled: ReadonlySet<string>): Promise<number> {
  const { config, clients, runDate } = context;
  const tables = tableNames(config);
  const unseen = [...planned.keys()].filter((id) => !handled.has(id));
  if (unseen.length === 0) return 0;
  const indexing = await nightDueIndexing(context, writer);
  // Absent from tonight's export, unless an increment dropped after its cut-off brought them (the snapshot may predate them).
  const broughtSince = mergedSinceSnapshot(runDate, config.timeZone);
  const restored = unseen
    .flatMap((id) => planned.get(id) ?? [])
    .map((item) => withNextDue(broughtSince(item) ? item : withAbsence(item, runDate), indexing));
  await writeProfiles(clients.documents, tables.profiles, restored);
  await deleteProfiles(clients.documents, tables.profiles, unseen.filter((id) => !planned.get(id)));
  await deleteTierChanges(clients.documents, tables.tierHistory, unseen.map((customerId) => ({ customerId, runDate })));
  context.log.info('clients of an earlier attempt not in tonight\'s export restored', { count: unseen.length });
  return unseen.length;
}
