import { GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dueDaysBetween, dueIndexFields, type DueIndexFields } from '#shared/campaigns/due-index.ts';
import { emptyDictionary } from '#shared/dictionary.ts';
import { normaliseEmail } from '#shared/email.ts';
import type { ClientClv, ClientProfile, RfmScores, Stage, Tier } from '#shared/model.ts';
import { PROFILES_BY_ADVISOR_INDEX, PROFILES_BY_NEXT_DUE_INDEX, PROFILES_BY_TIER_INDEX } from './tables.ts';
import { isConditionFailure } from './conditions.ts';
import { collectPages, paginate } from './paginate.ts';
import { batchGetAll } from './batch-reader.ts';
import { batchDeleteAll, batchPutAll, type BatchWriteOptions, type BatchWriteResult } from './batch-writer.ts';
import { forEachInFlight } from './in-flight.ts';
import { storedContactOf } from './stored-contact.ts';

/** What the diff needs of a stored profile: small enough to hold a million in memory. */
export interface StoredState {
  digest: string;
  /** The tier and stage the last night wrote (lastNightOf), which tonight's moves are measured against. */
  tier: Tier;
  stage: Stage;
  /** No night has written the client yet (an increment created them): tonight sees them first, with no move (history.ts). */
  unseenByNight?: true;
  /** The night that last wrote the item (or the day an intraday export created it). */
  updatedRunDate: string;
  /** The stored predictions, compared with a tolerance (see clvMateriallyChanged). */
  clv?: ClientClv;
  /** The stored RFM segment, for the night's segment movements. */
  rfmSegment?: string;
  /** The stored counted orders and last order (epoch ms), for the guard on orders that vanish (nightly/guards.ts). */
  orderCount?: number;
  lastOrderAt?: number;
  /** Set when a night found the client in no file of its export (absentSinceOf: marked, or brought back by an increment since). */
  absentSince?: string;
  /**
   * The stored address (hashed) and consent, one small integer (stored-contact.ts storedContactOf),
   * for the guards on addresses replaced and consent given back (nightly/guards.ts).
   */
  contact?: number;
  /** Tonight's write must rewrite the profile even if nothing changed (shared/nightly/base.ts: a shard's key that moved). */
  rewrite?: true;
}

/** What the night's scan reads of a stored profile besides its state: enough to tell, and mark, a client absent tonight. */
export interface UnkeptProfile {
  customerId: string;
  email?: string;
  digest: string;
  updatedRunDate: string;
  absentSince?: string;
  /** The last incremental export merged into the profile (ProfileItem.lastIncrement). */
  lastIncrement?: string;
  /** The address the last night stored, when an increment changed it since (ProfileItem.nightEmail). */
  nightEmail?: string;
  /** The addresses increments gave the client and replaced since the last night (ProfileItem.hourEmails). */
  hourEmails?: string[];
}

/** The absentSince field of a StoredState, or nothing. */
export function withAbsentSince(absentSince: string | undefined, intern: (value: string) => string = (value) => value): Pick<StoredState, 'absentSince'> {
  return absentSince === undefined ? {} : { absentSince: intern(absentSince) };
}

/** The guards' part of a StoredState from a stored item's fields. */
export function storedOrders(item: { orderCount?: unknown; lastOrderAt?: unknown }): Pick<StoredState, 'orderCount' | 'lastOrderAt'> {
  const lastOrderAt = typeof item.lastOrderAt === 'string' ? Date.parse(item.lastOrderAt) : Number.NaN;
  return {
    ...(typeof item.orderCount === 'number' ? { orderCount: item.orderCount } : {}),
    ...(Number.isFinite(lastOrderAt) ? { lastOrderAt } : {}),
  };
}

/** The digest of a profile an increment merged (shared/sender/ingest.ts): it matches no night's, so the next night rewrites it. */
export const INCREMENTAL_DIGEST = 'incremental';

/** The stored item: the profile plus bookkeeping, and its place in the due index (due-index.ts). */
export type ProfileItem = ClientProfile & DueIndexFields & {
  /** Digest of the profile content, compared by the next run to skip unchanged clients. */
  digest: string;
  /** Run date that last changed this profile. */
  updatedRunDate: string;
  /**
   * The last incremental export merged into this profile since the nightly run rewrote it, by its
   * stamp (buckets.ts incrementalStampLabel: with its offset, so that a later change of the brand's
   * zone does not move it; one stored without, before, is read in the brand's zone); compared by
   * the instant it names, never as a string.
   */
  lastIncrement?: string;
  /**
   * The orders incremental exports counted into this profile since the nightly run rewrote it, by
   * id (bounded: shared/sender/increment-orders.ts), so that an order sent again is not counted
   * twice. The night's write leaves it out: the night counts every order itself.
   */
  incrementOrderIds?: string[];
  /**
   * Set by increments only (shared/sender/ingest.ts), whose merge may move the profile's stage:
   * the tier and stage the last night wrote, which the next night measures its moves against; null
   * for a client no night has written yet (an increment created them). The night's write leaves it
   * out: its tier and stage are its own.
   */
  lastNight?: NightWritten | null;
  /**
   * Set by increments only (shared/sender/ingest.ts), whose customer rows may change the client's
   * address: the one the last night stored (nightEmailOf). The next night reads a Shopify client's
   * orders under it as hers (shared/nightly/former-addresses.ts), as under an address a night
   * stored: Shopify keeps on each order the address it was placed with. The night's write leaves it out.
   */
  nightEmail?: string;
  /**
   * Set by increments only (shared/sender/ingest.ts): the addresses an increment gave the client and
   * a later one replaced since the last night (neither nightEmail nor her current one), oldest first,
   * at most MAX_HOUR_EMAILS. Her orders placed under one of them were counted to her by the hour
   * that merged them: the next night reads them as hers, as under nightEmail, and forget finds her
   * by them. The night's write leaves it out.
   */
  hourEmails?: string[];
};

/** The address the last night stored for a profile: an earlier increment's record of it, else the profile's own. */
export function nightEmailOf(item: Pick<ProfileItem, 'email' | 'nightEmail'>): string | undefined {
  return item.nightEmail ?? item.email;
}

/**
 * How many addresses the hours keep between two nights (ProfileItem.hourEmails): a client who
 * changes hers more often in a day loses the oldest; her orders under it are rejected by the night
 * as an unknown customer's, as before hourEmails.
 */
export const MAX_HOUR_EMAILS = 10;

/** The addresses increments gave a profile and replaced since the last night; none on an item from before hourEmails. */
export function hourEmailsOf(item: { hourEmails?: unknown }): string[] {
  return Array.isArray(item.hourEmails) ? item.hourEmails.filter((email): email is string => typeof email === 'string') : [];
}

/**
 * The hourEmails of a profile an increment moves from address `before` to `after`: `before` joins
 * them unless it is the night's (kept as nightEmail); none is her address now or the night's.
 */
export function hourEmailsAfter(kept: readonly string[], change: { before: string | undefined; after: string | undefined; night: string | undefined }): string[] {
  const key = (email: string | undefined) => (email === undefined ? undefined : normaliseEmail(email));
  const [before, after, night] = [key(change.before), key(change.after), key(change.night)];
  const replaced = change.before !== undefined && before !== after && before !== night ? change.before : undefined;
  const joined = replaced === undefined ? [...kept] : [...kept.filter((email) => key(email) !== before), replaced];
  return joined.filter((email) => key(email) !== after && key(email) !== night).slice(-MAX_HOUR_EMAILS);
}

/** Every address a profile holds as the client's: hers now, the last night's, and those the hours replaced since. */
export function addressesOf(item: { email?: string | undefined; nightEmail?: string | undefined; hourEmails?: unknown }): string[] {
  return [item.email, item.nightEmail, ...hourEmailsOf(item)].filter((email): email is string => email !== undefined && email !== '');
}

/** A client's tier and stage as a night wrote them. */
export interface NightWritten {
  tier: Tier;
  stage: Stage;
  /** The night had marked the client absent (ClientProfile.absentSince) since this date, and an increment brought them back since. */
  absentSince?: string;
}

/**
 * The tier and stage the last night wrote on this item, with the absence mark it holds (a night's
 * mark leaves an earlier increment's lastNight in place), or null when no night has written it.
 */
export function lastNightOf(item: Pick<ProfileItem, 'tier' | 'stage' | 'lastNight' | 'absentSince'>): NightWritten | null {
  const night = item.lastNight !== undefined ? item.lastNight : { tier: item.tier, stage: item.stage };
  return night === null || item.absentSince === undefined ? night : { ...night, absentSince: item.absentSince };
}

/** Since when the nights found the client in no file: marked now, or until an increment brought them back since the last night. */
export function absentSinceOf(item: { absentSince?: unknown; lastNight?: unknown }): string | undefined {
  if (typeof item.absentSince === 'string') return item.absentSince;
  const night = item.lastNight as Partial<NightWritten> | null | undefined;
  return typeof night?.absentSince === 'string' ? night.absentSince : undefined;
}

/**
 * The item as this version reads it, given the last completed night (YYYY-MM-DD; undefined before
 * the first). An increment of a version before lastNight (before 2026-12-05) wrote the incremental
 * digest and no lastNight on every client it merged: onto one a night had written, it kept that
 * night's date (updatedRunDate); a client it created carries the day of its hour, later than the
 * last completed night. That one no night has written: lastNight null, as this version's increment
 * writes it (read as written by a night, the next night took it for one an earlier attempt of its
 * own wrote, whose before-image was gone, and was refused). This version's writers always set
 * lastNight on an increment's item, and a night's write carries the night's own digest. Pure.
 */
export function asCreatedByEarlierIncrement<T extends Pick<ProfileItem, 'digest' | 'updatedRunDate' | 'lastNight'>>(item: T, lastCompletedNight: string | undefined): T {
  if (item.digest !== INCREMENTAL_DIGEST || item.lastNight !== undefined) return item;
  if (lastCompletedNight !== undefined && item.updatedRunDate <= lastCompletedNight) return item;
  return { ...item, lastNight: null };
}

/** The part of a StoredState the moves read: the last night's tier and stage, or a client no night has seen. */
export function nightStateOf(item: Pick<ProfileItem, 'tier' | 'stage' | 'lastNight'>): Pick<StoredState, 'tier' | 'stage' | 'unseenByNight'> {
  const night = lastNightOf(item);
  return night === null ? { tier: item.tier, stage: item.stage, unseenByNight: true } : { tier: night.tier, stage: night.stage };
}

type DocumentSender = Pick<DynamoDBDocumentClient, 'send'>;

/** One shared string per distinct value (a base holds few distinct dates or segment names). */
function intern(known: Map<string, string>, value: string): string {
  const held = known.get(value);
  if (held !== undefined) return held;
  known.set(value, value);
  return value;
}

/** Reads every stored profile's digest, last night's tier and stage, predictions and RFM segment with a parallel scan. */
export async function loadStoredStates(
  client: DocumentSender,
  tableName: string,
  segments = 4,
  /** Keeps only these clients (a shard's): the others are read and dropped. */
  keep?: (customerId: string) => boolean,
  /** Shown every profile scanned: those not kept, and those kept (true: to be rewritten tonight, StoredState.rewrite). */
  visit?: { unkept(profile: UnkeptProfile): void; kept(profile: UnkeptProfile): boolean },
  /** The last completed night, for the items of earlier versions' increments (asCreatedByEarlierIncrement). */
  lastCompletedNight?: string,
): Promise<Map<string, StoredState>> {
  const states = new Map<string, StoredState>();
  // A base holds a few distinct run dates: one string each, not one per client.
  const dates = new Map<string, string>();
  const internDate = (value: unknown) => intern(dates, String(value));
  // Likewise the few segment names.
  const segmentNames = new Map<string, string>();
  await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      const items = paginate((startKey) =>
        client.send(
          new ScanCommand({
            TableName: tableName,
            Segment: segment,
            TotalSegments: segments,
            ProjectionExpression: 'customerId, digest, tier, stage, lastNight, clv, updatedRunDate, rfm, orderCount, lastOrderAt, absentSince, lastIncrement, #email, nightEmail, hourEmails, acceptsMarketing',
            ExpressionAttributeNames: { '#email': 'email' },
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      for await (const item of items) {
        const scanned = (): UnkeptProfile => ({
          customerId: String(item.customerId),
          digest: String(item.digest),
          updatedRunDate: String(item.updatedRunDate),
          ...(typeof item.email === 'string' ? { email: item.email } : {}),
          ...(typeof item.absentSince === 'string' ? { absentSince: item.absentSince } : {}),
          ...(typeof item.lastIncrement === 'string' ? { lastIncrement: item.lastIncrement } : {}),
          ...(typeof item.nightEmail === 'string' ? { nightEmail: item.nightEmail } : {}),
          ...(hourEmailsOf(item).length > 0 ? { hourEmails: hourEmailsOf(item) } : {}),
        });
        if (keep && !keep(String(item.customerId))) {
          visit?.unkept(scanned());
          continue;
        }
        const rewrite = visit?.kept(scanned()) === true;
        const segment = (item.rfm as RfmScores | undefined)?.segment;
        states.set(String(item.customerId), {
          digest: String(item.digest),
          ...nightStateOf(asCreatedByEarlierIncrement(item as Pick<ProfileItem, 'tier' | 'stage' | 'lastNight' | 'digest' | 'updatedRunDate'>, lastCompletedNight)),
          updatedRunDate: internDate(item.updatedRunDate),
          ...(item.clv ? { clv: item.clv as ClientClv } : {}),
          ...(typeof segment === 'string' ? { rfmSegment: intern(segmentNames, segment) } : {}),
          ...storedOrders(item),
          ...withAbsentSince(absentSinceOf(item), internDate),
          contact: storedContactOf(item),
          ...(rewrite ? { rewrite: true as const } : {}),
        });
      }
    }),
  );
  return states;
}

/**
 * Marks these profiles absent since `runDate` (ClientProfile.absentSince) and takes them out of the
 * due index, each only if it is still as the night's scan read it (same digest and night, not
 * already marked): a profile another shard or an increment rewrote meanwhile is its writer's.
 * Returns how many were marked.
 */
export async function markProfilesAbsent(client: DocumentSender, tableName: string, profiles: readonly UnkeptProfile[], runDate: string): Promise<number> {
  let marked = 0;
  // A few requests in flight: usually a handful of clients, after an accepted cleanup many.
  await forEachInFlight(profiles, 8, async (profile) => {
    try {
      await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { customerId: profile.customerId },
          UpdateExpression: 'SET absentSince = :night REMOVE nextDueAt, nextDueDay',
          ConditionExpression: 'attribute_not_exists(absentSince) AND digest = :digest AND updatedRunDate = :updated',
          ExpressionAttributeValues: { ':night': runDate, ':digest': profile.digest, ':updated': profile.updatedRunDate },
        }),
      );
      marked++;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  });
  return marked;
}

/** Every stored profile, page by page (a parallel scan would suit a bigger base; see the benchmark issue). */
export async function* scanProfiles(client: DocumentSender, tableName: string): AsyncGenerator<ProfileItem> {
  yield* paginate<ProfileItem>((startKey) => client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: startKey })));
}

/**
 * The profiles whose nextDueAt lies in [from, to], one query per UTC day of the byNextDue index
 * (projected whole: no second read). Profiles without a send window left are not in the index.
 */
export async function* queryDueProfiles(client: DocumentSender, tableName: string, from: number, to: number): AsyncGenerator<ProfileItem> {
  for (const day of dueDaysBetween(from, to)) {
    yield* paginate<ProfileItem>((startKey) =>
      client.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: PROFILES_BY_NEXT_DUE_INDEX,
          KeyConditionExpression: 'nextDueDay = :day AND nextDueAt BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':day': day, ':from': from, ':to': to },
          ExclusiveStartKey: startKey,
        }),
      ),
    );
  }
}

/**
 * Sets (or, for undefined, removes) a profile's place in the due index, only if the item is still
 * the one it was computed from (same digest, night, increment, absence mark, predicted next order, churn risk and
 * rising): a profile rewritten meanwhile carries its writer's value. Returns whether it was written.
 */
export async function updateNextDue(client: DocumentSender, tableName: string, item: ProfileItem, nextDueAt: number | undefined): Promise<boolean> {
  const fields = dueIndexFields(nextDueAt);
  // Attributes that may be absent: equal to the item's, or absent like it. The last increment, the
  // absence mark, the predicted next order (a window's trigger), and what an audience reads of the
  // prediction (churn risk, rising): the value may leave a window out of it.
  const same = stillAsRead(item, [
    [['lastIncrement'], item.lastIncrement],
    [['absentSince'], item.absentSince],
    [['clv', 'predictedNextOrderAt'], item.clv?.predictedNextOrderAt],
    [['clv', 'churnRisk'], item.clv?.churnRisk],
    [['clv', 'rising'], item.clv?.rising],
  ]);
  const values: Record<string, unknown> = { ...same.values };
  if (fields.nextDueAt !== undefined) {
    values[':at'] = fields.nextDueAt;
    values[':day'] = fields.nextDueDay;
  }
  try {
    await client.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { customerId: item.customerId },
        UpdateExpression: fields.nextDueAt === undefined ? 'REMOVE nextDueAt, nextDueDay' : 'SET nextDueAt = :at, nextDueDay = :day',
        ConditionExpression: same.condition,
        ExpressionAttributeNames: same.names,
        ExpressionAttributeValues: values,
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/**
 * Puts `item` only if the stored profile is still `read`, the one it was computed from (same
 * digest, night, last increment and absence mark), or, for `read` undefined, still absent: a
 * night or another run that wrote the profile meanwhile keeps what it wrote. Returns whether it
 * was written.
 */
export async function putProfileIfUnchanged(client: DocumentSender, tableName: string, item: ProfileItem, read: ProfileItem | undefined): Promise<boolean> {
  const same =
    read === undefined
      ? { condition: 'attribute_not_exists(customerId)' }
      : stillAsRead(read, [
          [['lastIncrement'], read.lastIncrement],
          [['absentSince'], read.absentSince],
        ]);
  try {
    await client.send(
      new PutCommand({
        TableName: tableName,
        Item: item,
        ConditionExpression: same.condition,
        ...('names' in same ? { ExpressionAttributeNames: same.names, ExpressionAttributeValues: same.values } : {}),
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** A condition that the stored profile is still `read`: its digest and night, and each optional attribute equal to the given value or absent like it. */
function stillAsRead(read: Pick<ProfileItem, 'digest' | 'updatedRunDate'>, optional: [path: string[], value: unknown][]) {
  const values: Record<string, unknown> = { ':digest': read.digest, ':updated': read.updatedRunDate };
  const conditions = ['digest = :digest', 'updatedRunDate = :updated'];
  const names: Record<string, string> = {};
  optional.forEach(([path, value], i) => {
    for (const part of path) names[`#${part}`] = part;
    const attribute = path.map((part) => `#${part}`).join('.');
    if (value === undefined) conditions.push(`attribute_not_exists(${attribute})`);
    else {
      conditions.push(`${attribute} = :same${i}`);
      values[`:same${i}`] = value;
    }
  });
  return { condition: conditions.join(' AND '), names, values };
}

export function writeProfiles(
  client: DocumentSender,
  tableName: string,
  items: Iterable<ProfileItem>,
  options?: BatchWriteOptions,
): Promise<BatchWriteResult> {
  return batchPutAll(client, tableName, items, options);
}

/** The stored items of these clients (those that exist), read consistently. */
export function getProfiles(client: DocumentSender, tableName: string, customerIds: readonly string[]): Promise<ProfileItem[]> {
  return batchGetAll<ProfileItem>(client, tableName, customerIds.map((customerId) => ({ customerId })));
}

/**
 * Those of these clients a night marked absent (in no file of its export) on or before `runDate`
 * and not brought back since: not among that night's clients. Reads two attributes of each.
 */
export async function absentOnNight(client: DocumentSender, tableName: string, customerIds: readonly string[], runDate: string): Promise<string[]> {
  const items = await batchGetAll<{ customerId: string; absentSince?: string }>(
    client,
    tableName,
    customerIds.map((customerId) => ({ customerId })),
    { attributes: ['customerId', 'absentSince'] },
  );
  return items.filter((item) => item.absentSince !== undefined && item.absentSince <= runDate).map((item) => item.customerId);
}

export function deleteProfiles(client: DocumentSender, tableName: string, customerIds: Iterable<string>, options?: BatchWriteOptions): Promise<BatchWriteResult> {
  return batchDeleteAll(client, tableName, [...customerIds].map((customerId) => ({ customerId })), options);
}

export async function getProfile(
  client: DocumentSender,
  tableName: string,
  customerId: string,
): Promise<ProfileItem | undefined> {
  const output = await client.send(new GetCommand({ TableName: tableName, Key: { customerId } }));
  return output.Item as ProfileItem | undefined;
}

async function queryIndex(
  client: DocumentSender,
  tableName: string,
  indexName: string,
  keyName: string,
  keyValue: string,
  limit: number,
): Promise<ProfileItem[]> {
  const items: ProfileItem[] = [];
  const pages = paginate<ProfileItem>((startKey) =>
    client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: indexName,
        KeyConditionExpression: '#k = :v',
        ExpressionAttributeNames: { '#k': keyName },
        ExpressionAttributeValues: { ':v': keyValue },
        ScanIndexForward: false,
        Limit: Math.min(limit - items.length, 1000),
        ExclusiveStartKey: startKey,
      }),
    ),
  );
  for await (const item of pages) {
    items.push(item);
    if (items.length >= limit) break; // stops the paging too
  }
  return items;
}

/** Clients of a tier, highest 12-month spend first. */
export function queryProfilesByTier(client: DocumentSender, tableName: string, tier: Tier, limit = 100) {
  return queryIndex(client, tableName, PROFILES_BY_TIER_INDEX, 'tier', tier, limit);
}

/** An advisor's client book, highest 12-month spend first. */
export function queryProfilesByAdvisor(client: DocumentSender, tableName: string, advisorId: string, limit = 100) {
  return queryIndex(client, tableName, PROFILES_BY_ADVISOR_INDEX, 'advisorId', advisorId, limit);
}

/**
 * Every client of an advisor whose 12-month spend is at least `minSpend12mMinor`, highest first,
 * unbounded: the byAdvisor index is sorted by spend, so asking from a tier's threshold up reads
 * the advisor's clients of that tier and above and nobody else.
 */
export function queryAdvisorClientsFrom(
  client: DocumentSender,
  tableName: string,
  advisorId: string,
  minSpend12mMinor: number,
): Promise<ProfileItem[]> {
  return collectPages<ProfileItem>((startKey) =>
    client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: PROFILES_BY_ADVISOR_INDEX,
        KeyConditionExpression: 'advisorId = :advisor AND spend12mMinor >= :min',
        ExpressionAttributeValues: { ':advisor': advisorId, ':min': minSpend12mMinor },
        ScanIndexForward: false,
        ExclusiveStartKey: startKey,
      }),
    ),
  );
}

/** Every client with an advisor and their advisor id: the (sparse) byAdvisor index, reading only the two ids. */
export async function scanAdvisorPairs(client: DocumentSender, tableName: string): Promise<Record<string, string>> {
  const pairs = emptyDictionary<string>(); // keyed by customer ids: free text from the export
  const items = paginate((startKey) =>
    client.send(
      new ScanCommand({ TableName: tableName, IndexName: PROFILES_BY_ADVISOR_INDEX, ProjectionExpression: 'customerId, advisorId', ExclusiveStartKey: startKey }),
    ),
  );
  for await (const item of items) pairs[String(item.customerId)] = String(item.advisorId);
  return pairs;
}

/**
 * The profiles whose address now (`email`) passes `holds`, by id and address only: a scan, for
 * addresses known only by a hash (forget, the address book's entries).
 */
export async function findProfilesHolding(client: DocumentSender, tableName: string, holds: (email: string) => boolean): Promise<Pick<ProfileItem, 'customerId' | 'email'>[]> {
  const found: Pick<ProfileItem, 'customerId' | 'email'>[] = [];
  const pages = paginate<Pick<ProfileItem, 'customerId' | 'email'>>((startKey) =>
    client.send(new ScanCommand({ TableName: tableName, ProjectionExpression: 'customerId, #email', ExpressionAttributeNames: { '#email': 'email' }, ExclusiveStartKey: startKey })),
  );
  for await (const item of pages) if (typeof item.email === 'string' && holds(item.email)) found.push(item);
  return found;
}

/** The profiles holding this address (a scan: erasure requests are rare, and no index keeps emails). */
export async function findProfilesByEmail(client: DocumentSender, tableName: string, email: string): Promise<ProfileItem[]> {
  return collectPages<ProfileItem>((startKey) =>
    client.send(
      new ScanCommand({
        TableName: tableName,
        // The address the last night stored too (nightEmail, when an increment changed it since), and
        // those increments gave and replaced since (hourEmails): they are the client's as much.
        FilterExpression: 'email = :email OR nightEmail = :email OR contains(hourEmails, :email)',
        ExpressionAttributeValues: { ':email': normaliseEmail(email) },
        ExclusiveStartKey: startKey,
      }),
    ),
  );
}
