import type { Config } from '#shared/config.ts';
import type { AwsClients } from '#shared/aws/clients.ts';
import { readBeforeImages } from '#shared/store/night-plans.ts';
import { lastCompletedNightBefore } from './admission.ts';
import { loadStoredStates, nightStateOf, storedOrders, type ProfileItem, type StoredState } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';

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
}

/** The state of a stored item that the diff compares. */
export function stateOf(item: ProfileItem): StoredState {
  return {
    digest: item.digest,
    ...nightStateOf(item),
    updatedRunDate: item.updatedRunDate,
    ...(item.clv ? { clv: item.clv } : {}),
    ...(item.rfm?.segment !== undefined ? { rfmSegment: item.rfm.segment } : {}),
    ...storedOrders(item),
  };
}

/** A client's state as of the last completed night; undefined when the base did not hold them. */
export function beforeState(base: NightBase, customerId: string): StoredState | undefined {
  if (base.planned.has(customerId)) {
    const image = base.planned.get(customerId);
    return image ? stateOf(image) : undefined;
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
  keep?: (customerId: string) => boolean,
): Promise<NightBase> {
  const { config, clients, runDate } = context;
  const [stored, planned, lastNight] = await Promise.all([
    loadStoredStates(clients.documents, tableNames(config).profiles, 4, keep),
    readBeforeImages(clients.s3, config, runDate, keep ? { keep } : {}),
    lastCompletedNightBefore(context, runDate),
  ]);
  return { stored, planned, ...(lastNight === undefined ? {} : { lastNight }) };
}
