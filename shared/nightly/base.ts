import type { Config } from '#shared/config.ts';
import type { AwsClients } from '#shared/aws/clients.ts';
import { readBeforeImages } from '#shared/store/night-plans.ts';
import { lastCompletedNightBefore } from './admission.ts';
import { absentSinceOf, asCreatedByEarlierIncrement, INCREMENTAL_DIGEST, loadStoredStates, nightStateOf, storedOrders, withAbsentSince, type ProfileItem, type StoredState, type UnkeptProfile } from '#shared/store/profile-store.ts';
import { storedContactOf } from '#shared/store/stored-contact.ts';
import { tableNames } from '#shared/store/tables.ts';
import { absentBefore, mergedSinceSnapshot } from './absent.ts';

/**
 * A night's base: every client's state as of the last completed night, which tonight's
 * movements are measured against. Usually that is what DynamoDB holds, with the tier and stage the
 * last night wrote rather than those an increment left (lastNightOf); for a client an earlier
 * attempt of this same night already wrote (a crash, then a rerun; or a rerun on a corrected
 * export) it is the before-image that attempt saved (shared/store/night-plans.ts), so that a
 * rerun measures exactly what one clean run would have.
 */
export interface NightBase {
  /** What DynamoDB holds now, by client. */
  stored: ReadonlyMap<string, StoredState>;
  /** Before-images saved by earlier attempts of this night: the item before the night, or null for a client it created. */
  planned: ReadonlyMap<string, ProfileItem | null>;
  /** The last completed night (YYYY-MM-DD) the base holds the state of; absent before the first. */
  lastNight?: string;
  /** When that night's run began (epoch ms): a client erased since is in its figures, not in tonight's (ErasedSinceLastNight). */
  lastNightStartedAt?: number;
  /** The shard's clients of the base that no file of tonight's has (absent.ts). */
  absent: AbsentTonight;
  /**
   * Of those, the ones on the erasure list: a profile a night wrote back while their erasure was
   * being recorded, or a restore from a backup, would otherwise stay (marked absent, out of the
   * due index where the sender erases again). The night erases them again (purgeErased).
   */
  erasedStored: string[];
  /** Clients of the base whose stored key and tonight's rows fall to different shards (split-customers.ts, KeyMoved). */
  keyMoved: KeyMoved;
  /**
   * The shard's profiles an earlier attempt of this night wrote whose before-images are gone
   * (expired with the rejects): the night is refused before any write (missingBeforeImages).
   */
  writtenWithoutImage: number;
}

/**
 * The base's clients one shard meets across shards: those it holds tonight whose stored key (the
 * email, in an export keyed by email) sends them to another shard, and those it owns by the
 * stored key but does not hold tonight. Only clients whose key moved, the absent and the erased:
 * a client held where the stored key sends them is in neither list.
 */
export interface KeyMoved {
  held: string[];
  left: string[];
}

/** Clients of the base in no file of tonight's export, as one shard counts them (absent.ts). */
export interface AbsentTonight {
  /** To mark absent (markProfilesAbsent): not marked yet, and not written by an attempt of this night (finishNight puts those back, marked). */
  toMark: UnkeptProfile[];
  /** Missing tonight for the first time, and missing still: the guards' and the summary's counts. */
  newly: number;
  still: number;
  /** The clients counted in `newly` and `still` by this shard (the report leaves them out of its tier migrations). */
  customerIds: string[];
  /** Clients another shard counts absent that this one holds tonight by another key (ShardClients.owns): counted back. */
  countedBack: string[];
}

/** Which clients are the shard's: those tonight's export gave it, and the absent ones it owns (absent.ts absenceOwner). */
export interface ShardClients {
  ours: (customerId: string) => boolean;
  owns: (profile: Pick<UnkeptProfile, 'customerId' | 'email'>) => boolean;
  /** On the erasure list: one of these the shard owns and the export lacks is erased again, not marked absent (NightBase.erasedStored). */
  erased: (profile: Pick<UnkeptProfile, 'customerId' | 'email'>) => boolean;
  /** Shown every profile of the base, held or not (former-addresses.ts). */
  seen?: (profile: UnkeptProfile) => void;
}

/** Whether a stored profile was last written by an attempt of night `runDate` (an increment's merge keeps the night it merged onto). */
export function writtenByNight(profile: Pick<StoredState, 'digest' | 'updatedRunDate'>, runDate: string): boolean {
  return profile.updatedRunDate === runDate && profile.digest !== INCREMENTAL_DIGEST;
}

/**
 * Whether an attempt of night `runDate` wrote the profile, also when an hour merged an increment
 * onto it since: the merge keeps the night's date and its tier and stage (lastNight), where a client
 * an increment created that day carries the date but no night's state (unseenByNight).
 */
function touchedByNightAttempt(profile: Pick<StoredState, 'digest' | 'updatedRunDate' | 'unseenByNight'>, runDate: string): boolean {
  return writtenByNight(profile, runDate) || (profile.updatedRunDate === runDate && profile.unseenByNight !== true);
}

/** The state of a stored item that the diff compares; lastCompletedNight reads an earlier version's increment (asCreatedByEarlierIncrement). */
export function stateOf(item: ProfileItem, lastCompletedNight?: string): StoredState {
  return {
    digest: item.digest,
    ...nightStateOf(asCreatedByEarlierIncrement(item, lastCompletedNight)),
    updatedRunDate: item.updatedRunDate,
    ...(item.clv ? { clv: item.clv } : {}),
    ...(item.rfm?.segment !== undefined ? { rfmSegment: item.rfm.segment } : {}),
    ...storedOrders(item),
    ...withAbsentSince(absentSinceOf(item)),
    contact: storedContactOf(item),
  };
}

/**
 * A client's state as of the last completed night; undefined when the base did not hold them. A
 * profile to be rewritten tonight whatever changed (StoredState.rewrite) says so from either.
 */
export function beforeState(base: NightBase, customerId: string): StoredState | undefined {
  if (base.planned.has(customerId)) {
    const image = base.planned.get(customerId);
    if (!image) return undefined;
    const state = stateOf(image, base.lastNight);
    return base.stored.get(customerId)?.rewrite ? { ...state, rewrite: true } : state;
  }
  return base.stored.get(customerId);
}

/** Every client of the base, held before the night or touched by an earlier attempt of it. */
export function* baseClients(base: NightBase): Generator<string> {
  yield* base.stored.keys();
  for (const id of base.planned.keys()) if (!base.stored.has(id)) yield id;
}

export async function loadNightBase(
  context: { config: Config; clients: Pick<AwsClients, 'documents' | 's3'>; runDate: string },
  shard: ShardClients,
): Promise<NightBase> {
  const { config, clients, runDate } = context;
  const absent: AbsentTonight = { toMark: [], newly: 0, still: 0, customerIds: [], countedBack: [] };
  const erasedStored: string[] = [];
  const keyMoved: KeyMoved = { held: [], left: [] };
  const seenSinceSnapshot = mergedSinceSnapshot(runDate, config.timeZone);
  // Missing since an earlier night, or newly: one an earlier attempt of this night marked is new tonight.
  const tally = (profile: { customerId: string; absentSince?: string | undefined }, by: 1 | -1) => {
    if (absentBefore(profile, runDate)) absent.still += by;
    else absent.newly += by;
    (by === 1 ? absent.customerIds : absent.countedBack).push(profile.customerId);
  };
  const visit = {
    unkept(profile: UnkeptProfile): void {
      shard.seen?.(profile);
      if (!shard.owns(profile)) return;
      keyMoved.left.push(profile.customerId);
      if (shard.erased(profile)) {
        erasedStored.push(profile.customerId);
        return;
      }
      if (seenSinceSnapshot(profile)) return;
      // One an attempt of this night wrote is finishNight's to put back (restoreUnseen), marked
      // unless its before-image says otherwise: counted from that image, below.
      if (writtenByNight(profile, runDate)) {
        writtenTonight.add(profile.customerId);
        return;
      }
      tally(profile, 1);
      if (profile.absentSince === undefined) absent.toMark.push(profile);
    },
    /**
     * A client of ours whom another shard owns by the stored key (an export keyed by email whose
     * row for them has another email, or none, tonight): that shard counts them absent and may
     * mark them. Counted back here, so the shards add up to the truth, and rewritten tonight
     * whatever changed: a mark made before the write is overwritten by it, one tried after it
     * fails its condition, and a shard that scans after it leaves a profile written tonight alone.
     */
    kept(profile: UnkeptProfile): boolean {
      shard.seen?.(profile);
      if (shard.owns(profile)) return false;
      keyMoved.held.push(profile.customerId);
      if (seenSinceSnapshot(profile)) return false;
      tally(profile, -1);
      return true;
    },
  };
  const writtenTonight = new Set<string>();
  // First: the scan reads an earlier version's increments by it (asCreatedByEarlierIncrement).
  const lastNight = await lastCompletedNightBefore(context, runDate);
  const [stored, planned] = await Promise.all([
    loadStoredStates(clients.documents, tableNames(config).profiles, 4, shard.ours, visit, lastNight?.runDate),
    readBeforeImages(clients.s3, config, runDate, { keep: shard.ours }),
  ]);
  // An earlier attempt saved every profile's image before writing it: one written without an image
  // to be found is one whose image expired (night-plans.ts missingBeforeImages).
  let writtenWithoutImage = 0;
  for (const [id, state] of stored) if (touchedByNightAttempt(state, runDate) && !planned.has(id)) writtenWithoutImage++;
  // Only after a rerun on an export that lacks clients an earlier attempt wrote: as their image was.
  if (writtenTonight.size > 0) {
    const images = await readBeforeImages(clients.s3, config, runDate, { keep: (id) => writtenTonight.has(id) });
    writtenWithoutImage += writtenTonight.size - images.size;
    for (const image of images.values()) {
      // Created by that attempt (no image): not a client of the base.
      if (image !== null && !seenSinceSnapshot(image)) tally(image, 1);
    }
  }
  return { stored, planned, ...(lastNight === undefined ? {} : { lastNight: lastNight.runDate, lastNightStartedAt: lastNight.startedAt }), absent, erasedStored, keyMoved, writtenWithoutImage };
}
