import { listFolderObjects, readObjectText } from '#shared/aws/s3-objects.ts';
import type { AwsClients } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import { dictionaryFrom } from '#shared/dictionary.ts';
import { ExportIncompleteError, isBadExport } from '#shared/exports/errors.ts';
import { checkRejectShares, readExport, type ReadResult } from '#shared/exports/reader.ts';
import type { ExportHandlers } from '#shared/exports/types.ts';
import { normaliseEmail } from '#shared/email.ts';
import { MANIFEST_NAME } from '#shared/exports/classify.ts';
import { objectVersion, onlyObjects, recordedObject, s3ExportSource, writtenAfter, writtenBy, type ExportSource, type RecordedObject } from '#shared/exports/source.ts';
import type { Log } from '#shared/log.ts';
import { withNextDue, type DueIndexing } from '#shared/campaigns/due-index.ts';
import { firstPurchaseOf, type ClientFacts, type ClientProfile, type OrderLine, type ProductRecord } from '#shared/model.ts';
import { addMinor } from '#shared/money.ts';
import { NIGHTLY_JOB } from '#shared/nightly/summary.ts';
import { OrphanOrderLines, withRejectsPerFile, type UnknownCustomerRejects } from '#shared/nightly/unknown-customers.ts';
import { compareIncrements, incrementalPrefix, incrementalStamp, incrementalStampIsAmbiguous, incrementalStampLabel } from '#shared/store/buckets.ts';
import { AddressBookDamagedError, readAddressBook, type FormerAddress } from '#shared/store/address-book.ts';
import { addressesOf, asCreatedByEarlierIncrement, getProfiles, hourEmailsAfter, hourEmailsOf, INCREMENTAL_DIGEST, lastNightOf, nightEmailOf, putProfileIfUnchanged, type ProfileItem } from '#shared/store/profile-store.ts';
import { erasedAmong } from '#shared/store/erasure-store.ts';
import { eraseAgain } from '#shared/forget/forget.ts';
import { rosterAdvisorIds } from '#shared/store/roster-store.ts';
import { getRun, putRun, recentRuns, type RunKey } from '#shared/store/runs-store.ts';
import { forEachInFlight } from '#shared/store/in-flight.ts';
import { tableNames } from '#shared/store/tables.ts';
import { ClientAggregator } from '#shared/tiering/aggregate.ts';
import { emailIdentity } from '#shared/tiering/identity.ts';
import { computeProfiles, runClock, stockUpRuleOf, withFirstPurchase, withLaterPurchase, type StockUpRule } from '#shared/tiering/profile.ts';
import { addDays, isoInstant, localDate } from '#shared/time.ts';
import { SENDER_ALERTS } from '#shared/alerts.ts';
import { formerAddressOwners, takenAddresses, type HourClient, type OrphanAddress } from './hour-addresses.ts';
import type { CompletedNightFormat } from './profile-format.ts';
import { consentAfterIncrement, isAfterSnapshot, snapshotDumpedBy } from './increment-consent.ts';
import { factsWithOrders, needsRemerge, nightCutoff, nightSeen, ordersToCount, type CountedOrders, type NightMark } from './increment-orders.ts';

/**
 * Incremental exports: during the day the platform may drop the new sign-ups and orders under
 * <prefix>/incremental/<YYYY-MM-DDTHHmm>/ (brand time, or with its offset: YYYY-MM-DDTHHmm-0500,
 * with `_manifest.json` {"mode":"incremental"}). Every comparison goes by the instant the stamp
 * names (buckets.ts incrementalStamp), never by the name: in the hour the clocks go back, a later
 * drop may have an earlier name, or the same one.
 * The hourly sender merges each one once, so a client who signs up at 10:00 is welcomed that day;
 * a folder written again after it was merged (a second 01:30 when the clocks go back, in the same
 * folder) is merged again (droppedAgain); if a night undid its merge meanwhile, its drops as merged
 * are put back first (below), then the new drop is read.
 * The merge only moves facts forward (new client, later orders and purchases, contact details,
 * consent by time: increment-consent.ts, a prospect's stage once they bought); the next nightly
 * run recomputes every profile from the full snapshot and corrects the rest. Its moves are
 * measured against the tier and stage the last night wrote, which every item an increment writes
 * keeps (lastNight; null for a client it created, whom that night sees first): the night records
 * the same moves with increments or without.
 * Each order counts once (increment-orders.ts): one the last night counted, or an earlier
 * increment, adds nothing. An order line whose customer neither a customer row of the increment
 * nor a stored profile knows is a reject, as in the nightly run (unknown-customers.ts): it creates
 * no client, and counts towards its file's share of rejected rows.
 *
 * A night rewrites its clients from its snapshot, which leaves out the orders after its clock: the
 * orders an increment stamped after that merged before the night wrote would be lost until the
 * next night (and a win-back would go to a client who just ordered). So once a night has written,
 * the next hour merges those increments' orders again into the profiles the night rewrote
 * (needsRemerge; the profiles it did not rewrite still name the increment in lastIncrement), and
 * their consent as far as it is newer than the night's snapshot or a no (increment-consent.ts): a
 * night run late, or rerun, after an opt-out must not bring back its snapshot's older yes. The
 * night itself is untouched: a rerun of it ends where a clean run would, and a rerun of a
 * completed night writes nothing; the hour after either puts the orders and the opt-outs back.
 *
 * A folder that cannot be read as an export (a truncated gzip, a broken CSV, too many rejected
 * rows) is quarantined: reported in the summary and in a log line an alarm counts, marked in the
 * runs table so that no later run reads it again until it is written again (the fix, in place:
 * droppedAgain), and skipped; its rows wait for the nightly run, or the fix, and the hour's sends
 * go on. A dry run reports it without marking it. S3 or DynamoDB failing
 * (not the export's fault) still fails the run, and the next hour tries the folder again. So does
 * a folder still being written (exports.requireManifest, and no manifest listing its files yet).
 */

/**
 * How long after its stamp an increment may still lack its manifest (exports.requireManifest)
 * before it is quarantined: until then it holds back the later increments (they merge in stamp
 * order); past it, a drop that never finished stops holding back the day's others.
 */
export const INCOMPLETE_INCREMENT_WAIT_MS = 2 * 3_600_000;

/**
 * The most objects a folder's marker records (its listing, and each drop's: a few KB each of the
 * runs-table item, far below DynamoDB's 400 KB). A folder listing more, or drops past it, are
 * recorded by their newest write alone, as before objects were: a file then written in the same
 * second as the newest one read (or a multipart upload begun before it) is not told apart.
 */
export const MAX_RECORDED_OBJECTS = 100;

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
  /** Folders that could not be read, skipped until written again (a dry run only reports them). */
  quarantined: QuarantinedExport[];
  /** Folders merged before a night rewrote their clients, whose orders were merged again (clients: profiles moved forward). */
  remerged: { folder: string; clients: number }[];
  /** Folders whose clients' profiles changed while they were merged (a night writing): merged again by the next hour (clients: those left). */
  deferred: { folder: string; clients: number }[];
  /**
   * Order lines under an address a client of the increment left and another customer's row carries
   * now: given to neither and not rejected (the folder is not quarantined for them); the night
   * places them by time (hour-addresses.ts takenAddresses).
   */
  leftForNight: number;
}

/**
 * What the ingest did, and for the hour's decisions which clients it merged: each with the
 * increment their profile names once written (lastIncrement), also when the write met a night's
 * (the profile lost the merge). A night still writing may rewrite such a client from its snapshot
 * after the merge; the hour does not decide a client whose profile no longer names it (run.ts).
 */
export interface IngestResult {
  summary: IngestSummary;
  merged: ReadonlyMap<string, MergedIncrement>;
  /**
   * A dry run's profiles it would have written, by customer id (empty for a real run): it writes
   * none, so the hour's selection reads these in place of the stored ones, as the real hour would.
   */
  unwrittenByDryRun: ReadonlyMap<string, ProfileItem>;
}

/** The increment a client was merged from this hour: its label (lastIncrement) and its folder. */
export interface MergedIncrement {
  increment: string;
  folder: string;
}

/** A marker's nightSeen once an hour found a night still writing had undone its merge: no night's (nightSeen), so any later hour merges the folder again. */
const UNDONE_BY_NIGHT = 'undone-by-night';

/**
 * Marks merged folders whose merge a night still writing undid for some client (run.ts): the
 * next hour merges them again even if that night is still running then, as it does once a night
 * has written since (needsRemerge), and decides those clients on the profile it puts back.
 */
export async function markUndoneByNight(documents: AwsClients['documents'], runsTable: string, folders: Iterable<string>): Promise<void> {
  for (const folder of folders) {
    const marker = await getRun<IngestMarker>(documents, runsTable, { job: INGEST_JOB, runDate: folder });
    if (hasMergedDrops(marker)) await putRun(documents, runsTable, { ...marker, nightSeen: UNDONE_BY_NIGHT });
  }
}

/** The merged drops' night, stamp and list a marker records, to carry into a quarantined one. */
function mergedDropsOf(marker: IngestMarker | undefined): { nightSeen?: string; stampedAt?: string; drops?: MergedDrop[] } {
  if (marker === undefined) return {};
  return {
    ...(marker.nightSeen === undefined ? {} : { nightSeen: marker.nightSeen }),
    ...(marker.stampedAt === undefined ? {} : { stampedAt: marker.stampedAt }),
    ...(marker.drops === undefined ? {} : { drops: marker.drops }),
  };
}

/**
 * A drop of a folder as it was merged: the instant its stamp was read as, and when S3 said the
 * folder was last written as it was merged (ISO): its files are those written after the drop
 * before it, up to that write.
 */
export interface MergedDrop {
  stampedAt: string;
  lastWrite: string;
  /**
   * The objects it read, by version (absent on markers from before, and past MAX_RECORDED_OBJECTS):
   * put back after a night, exactly those are read, else the files written after the drop before, up to its write.
   */
  objects?: RecordedObject[];
}

/**
 * The merged drops a marker records, earliest first (pure): its list, or, on a marker written
 * before markers listed their drops, its one stamp and write as one drop (so read as then: a
 * folder merged twice by then is one drop, as of the later stamp). Empty when the marker holds no
 * merged drops or does not say when they were stamped and written (merged again as then: as of
 * the folder's stamp, all of it).
 */
export function mergedDropList(marker: IngestMarker | undefined): MergedDrop[] {
  if (!hasMergedDrops(marker)) return [];
  if (marker.drops !== undefined) return marker.drops;
  const lastWrite = marker.status === 'merged' ? marker.lastWrite : marker.mergedWrite;
  return marker.stampedAt === undefined || lastWrite === undefined ? [] : [{ stampedAt: marker.stampedAt, lastWrite }];
}

/**
 * A turn in which merged drops of a folder go back after a night: those stamped at one instant
 * (a producer writing a folder again stamps it the same), read as the files written after `after`
 * (absent: from the start) up to `until` (absent: the whole folder, a marker from before).
 */
export interface DropTurn {
  stampedAt?: number;
  after?: number;
  until?: number;
  /** The objects its drops read, when each recorded them: exactly those are read (not by time). */
  objects?: RecordedObject[];
}

/**
 * The turns of a folder's merged drops after a night, in stamp order (pure): one per instant its
 * drops were stamped at (the two passes of the hour the clocks go back), each reading only the
 * files its drops wrote. A marker from before lists one drop, or none known: one turn (the whole
 * folder up to its write, as then).
 */
export function dropTurns(marker: IngestMarker | undefined): DropTurn[] {
  if (!hasMergedDrops(marker)) return [];
  const drops = mergedDropList(marker);
  if (drops.length === 0) {
    const until = marker.status === 'merged' ? marker.lastWrite : marker.mergedWrite;
    return [until === undefined ? {} : { until: Date.parse(until) }];
  }
  const turns: DropTurn[] = [];
  for (const drop of drops) {
    const stampedAt = Date.parse(drop.stampedAt);
    const until = Date.parse(drop.lastWrite);
    const last = turns.at(-1);
    if (last?.stampedAt === stampedAt) {
      last.until = until;
      const objects = objectsOfTurns([last, drop]);
      if (objects === undefined) delete last.objects;
      else last.objects = objects;
    } else turns.push({ stampedAt, ...(last?.until === undefined ? {} : { after: last.until }), until, ...(drop.objects === undefined ? {} : { objects: drop.objects }) });
  }
  return turns;
}

/** The objects of drops or turns read together, when each recorded them (pure); else undefined: they are read by time. */
export function objectsOfTurns(turns: readonly { objects?: readonly RecordedObject[] }[]): RecordedObject[] | undefined {
  if (turns.length === 0 || turns.some((turn) => turn.objects === undefined)) return undefined;
  return turns.flatMap((turn) => turn.objects ?? []);
}

/**
 * How many of a folder's merged-drop turns go back in their own turn, before the folder's (pure):
 * those stamped before the instant its name reads as now (the first pass of the hour the clocks
 * go back, the folder since dropped into in the second), leading; the last of them only beside a
 * later drop (written since, or quarantined), else it keeps the folder's turn, as before.
 */
export function ownTurnCount(turns: readonly DropTurn[], folderStamp: number, laterDrop: boolean): number {
  let own = 0;
  while (own < turns.length && (turns[own]!.stampedAt ?? Number.POSITIVE_INFINITY) < folderStamp && (own < turns.length - 1 || laterDrop)) own++; // own < turns.length
  return own;
}

/** Whether a folder's marker holds drops merged before: merged, or a later drop of it quarantined since (mergedWrite). A night may undo them. */
function hasMergedDrops(marker: IngestMarker | undefined): marker is IngestMarker {
  return marker?.status === 'merged' || (marker?.status === 'quarantined' && marker.mergedWrite !== undefined);
}

/** The runs-table job of the markers of incremental exports (runDate: the export's folder). */
export const INGEST_JOB = 'ingest';

/** The runs-table marker of an incremental folder: merged, or quarantined; either way read again only once written again (droppedAgain), or, merged, undone by a night. */
export type IngestMarker = {
  job: typeof INGEST_JOB;
  runDate: string;
  runId: string;
  source: string;
} & (
  | {
      status: 'merged';
      rows: number;
      rejected: number;
      clients: number;
      /** The newest night when the folder was (last) merged (increment-orders.ts nightSeen): another night since may have undone it. */
      nightSeen?: string;
      /** The run that last merged its orders again after a night. */
      remergedBy?: string;
      /** When S3 said the folder was last written as it was merged (ISO; absent on markers from before): a later write is another drop (droppedAgain). */
      lastWrite?: string;
      /** The instant its stamp was read as (ISO; absent on markers from before): its last drop's. */
      stampedAt?: string;
      /**
       * Each drop merged, earliest first, with its own stamp and write (absent on markers from
       * before: one drop, stampedAt and lastWrite): a night undoing them has each merged again as of its own stamp (dropTurns).
       */
      drops?: MergedDrop[];
      /**
       * The folder's objects as its last merge listed them, by version: read by its drops, or (a marker
       * from before since merged again) taken as read. A listed object not among them is a new drop
       * (droppedAgain), whatever its write time. Absent on markers from before and past MAX_RECORDED_OBJECTS: by lastWrite, as then.
       */
      objects?: RecordedObject[];
    }
  | {
      status: 'quarantined';
      reason: string;
      quarantinedAt: string;
      /** When S3 said the folder was last written as it was quarantined (ISO; absent on markers from before): a later write is the fix (droppedAgain). */
      lastWrite?: string;
      /** A drop after a merged one quarantined: the merged marker's lastWrite, so that the fix is read, as that drop was, without the merged files. */
      mergedWrite?: string;
      /** With mergedWrite, the merged drops' newest night, stamp and list (as on the merged marker): a night undoing them still has them merged again. */
      nightSeen?: string;
      stampedAt?: string;
      drops?: MergedDrop[];
      /** The folder's objects as listed when quarantined (as on a merged marker): one not among them is the fix (droppedAgain). */
      objects?: RecordedObject[];
      /** With mergedWrite, the merged marker's objects: the fix is read without them. */
      mergedObjects?: RecordedObject[];
    }
);

/**
 * Whether a merged or quarantined folder has been written since (pure): a second drop into the
 * same folder (in the hour the clocks go back, a second pass stamped with the same local name; a
 * producer that writes it again; a file still uploading when the folder was read; an operator's
 * fix of a quarantined folder), to read as a new increment. A marker recording the folder's objects
 * tells by them: an object listed now that it does not record (a new key, or another ETag or write
 * of one), written in the same second as those read or earlier (a multipart upload's LastModified
 * is when it began). One recording none (from before, or a folder of too many objects) tells by
 * time: written after its lastWrite. Unknown for a marker from before markers recorded the write:
 * it is taken as merged or quarantined, as then. Objects deleted or expiring make nothing new.
 */
export function droppedAgain(marker: IngestMarker | undefined, lastWrite: number, objects?: readonly RecordedObject[]): boolean {
  if (marker?.objects !== undefined && objects !== undefined) return newObjects(objects, marker.objects).length > 0;
  if (marker?.lastWrite === undefined) return false;
  return lastWrite > Date.parse(marker.lastWrite);
}

/** The objects of `listed` that are none of `recorded` (another key, ETag or write), in listing order (pure). */
export function newObjects(listed: readonly RecordedObject[], recorded: readonly RecordedObject[]): RecordedObject[] {
  const known = new Set(recorded.map(objectVersion));
  return listed.filter((object) => !known.has(objectVersion(object)));
}

/**
 * Whether a folder's merged drops have a later drop beside them (pure): one written since, or one
 * quarantined. Merged again after a night, they are then merged as of the instant they were merged at.
 */
function hasLaterDrop(marker: IngestMarker | undefined, lastWrite: number, objects: readonly RecordedObject[]): boolean {
  return droppedAgain(marker, lastWrite, objects) || marker?.status === 'quarantined';
}

/**
 * Whether a stored profile has merged this increment already, or a later one (pure): its
 * lastIncrement, read as an instant (incrementalStamp; a name stored before stamps carried their
 * offset reads as it always did), is at or past this one's stamp. The same instant is the same
 * increment (a run died between writing the profile and marking the folder done), except for a
 * folder dropped again: that instant is the earlier drop's, and the new drop's rows are not old.
 */
export function hasMergedIncrement(lastIncrement: string | undefined, stamp: number, options: { droppedAgain: boolean; timeZone: string }): boolean {
  const merged = lastIncrement === undefined ? undefined : incrementalStamp(lastIncrement, options.timeZone);
  if (merged === undefined) return false;
  return options.droppedAgain ? merged > stamp : merged >= stamp;
}

/**
 * A stored profile with only an increment's explicit opt-out (pure), for a client a later increment
 * merged already (lastIncrement past this one's stamp): the folder is read out of order (it first
 * appeared after the later one merged, or was quarantined and fixed since). Its other fields and its
 * orders stay left to the later increment and the night; its no stands whatever the later one said,
 * as within one export (aggregate.ts laterCustomerRecord). Undefined when there is nothing to write.
 */
export function lateOptOut(stored: ProfileItem | undefined, acceptsMarketing: boolean | undefined, stamp: number, timeZone: string): ProfileItem | undefined {
  if (stored?.lastIncrement === undefined || acceptsMarketing !== false || stored.acceptsMarketing === false) return undefined;
  // Strictly later: the same instant is this increment's own merge (a run that died before marking the folder).
  const merged = incrementalStamp(stored.lastIncrement, timeZone);
  if (merged === undefined || merged <= stamp) return undefined;
  return { ...stored, acceptsMarketing: false };
}


/** What a customer row tells of a client besides consent: an increment's replace the stored ones. */
const CONTACT_FIELDS = ['email', 'firstName', 'lastName', 'locale', 'timeZone', 'birthday', 'advisorId', 'signedUpAt'] as const;

/**
 * A stored profile moved forward with what an increment says (pure): its contact details and its
 * orders (mergeIncrementOrders), which must be ones the profile has not counted (ordersToCount).
 * Consent is not the increment's to set alone: it follows time (consentAfterIncrement). `stockUps`
 * is the rule in the zone the merged profile keeps (stockUpRuleOf: the client's, else the brand's).
 */
export function mergeIncrement(stored: ClientProfile, increment: ClientProfile, stockUps: StockUpRule): ClientProfile {
  const merged = mergeIncrementOrders(stored, increment, stockUps);
  // Contact details: the increment is newer when it carries the customer row.
  for (const key of CONTACT_FIELDS) {
    if (increment[key] !== undefined) merged[key] = increment[key];
  }
  return merged;
}

/** Whether the increment's customer row says something of the client's contact details that the stored profile does not hold. Pure. */
export function contactDiffers(stored: ClientProfile, increment: ClientProfile): boolean {
  return CONTACT_FIELDS.some((key) => increment[key] !== undefined && increment[key] !== stored[key]);
}

/**
 * A stored profile moved forward with an increment's orders only (pure): what a merge after a
 * night (the first, or again) takes from an increment that cannot be ordered against the night's snapshot. The
 * contact details stay as the night wrote them: its snapshot may be the newer, and an older address
 * must not come back over it (one newer than the snapshot merges whole: mergeIncrement). Consent is the caller's
 * (consentAfterIncrement), and stays as stored here.
 */
export function mergeIncrementOrders(stored: ClientProfile, increment: ClientProfile, stockUps: StockUpRule): ClientProfile {
  const later = (a?: string, b?: string) => (a === undefined ? b : b === undefined ? a : a > b ? a : b);
  const earlier = (a?: string, b?: string) => (a === undefined ? b : b === undefined ? a : a < b ? a : b);
  // SKUs are free text from the export: a plain {} would take a new SKU named "toString" for a stored one.
  const merged: ClientProfile = { ...stored, skus: dictionaryFrom(Object.entries(stored.skus)) };
  if (increment.orderCount > 0) {
    merged.orderCount = stored.orderCount + increment.orderCount;
    merged.lifetimeSpendMinor = addMinor(stored.lifetimeSpendMinor, increment.lifetimeSpendMinor, "a client's lifetime spend");
    merged.spend12mMinor = addMinor(stored.spend12mMinor, increment.spend12mMinor, "a client's 12-month spend");
    const first = earlier(stored.firstOrderAt, increment.firstOrderAt);
    const last = later(stored.lastOrderAt, increment.lastOrderAt);
    if (first !== undefined) merged.firstOrderAt = first;
    if (last !== undefined) merged.lastOrderAt = last;
    if (stored.stage === 'prospect' && increment.stage !== 'prospect') {
      // A prospect who bought is a buyer from now on. The move itself is the night's to record
      // (against lastNight), and the stage move recorded before was into a stage they have left.
      merged.stage = increment.stage;
      delete merged.previousStage;
      delete merged.stageEnteredOn;
    }
    for (const [sku, purchase] of Object.entries(increment.skus)) {
      const before = merged.skus[sku];
      if (!before) merged.skus[sku] = purchase;
      else if (purchase.lastPurchasedAt > before.lastPurchasedAt) merged.skus[sku] = withLaterPurchase(sku, before, purchase, stockUps);
      // A late order, before the stored purchases: the night regroups its units; until then it is the SKU's first purchase (what firstOrderAt, moved to it above, bought).
      else {
        const first = firstPurchaseOf(purchase);
        if (Date.parse(first) < Date.parse(firstPurchaseOf(before))) merged.skus[sku] = withFirstPurchase(before, first);
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
  /** The nights as the hour read them (nightsOfHour); read here when not given. */
  nights?: HourNights;
  /** The stored catalogue: its cycles are in force before a client's own, as in the night (TieringContext.catalog). */
  catalog: ReadonlyMap<string, ProductRecord>;
}): Promise<IngestResult> {
  const { config, clients, at, runId, dryRun, log, catalog } = options;
  const tables = tableNames(config);
  const summary: IngestSummary = { exports: [], rows: 0, rejected: 0, newClients: 0, updatedClients: 0, quarantined: [], remerged: [], deferred: [], leftForNight: 0 };
  const merged = new Map<string, MergedIncrement>();
  // A dry run's later folders read its earlier folders' profiles as the real run would find them written.
  const unwrittenByDryRun = new Map<string, ProfileItem>();
  const base = `${incrementalPrefix(config)}/`;
  const runDate = localDate(at, config.timeZone);
  const nights = options.nights ?? (await nightsOfHour(clients.documents, tables.runs, runDate));
  const night = nights.newest;
  const lastCompleted = nights.lastCompleted?.runDate;
  const cutoff = night === undefined ? undefined : nightCutoff(night, config.timeZone);
  const snapshotBy = snapshotDumpedBy(night);
  // Each client's consent as this run first read it: what the newest night left, unless an earlier hour moved it since.
  const nightLeft = new Map<string, boolean | undefined>();
  // mergedDropsTurn: the index of a turn of a folder's merged drops apart from its own (dropTurns); ownTurns,
  // on the folder's own entry: how many of its merged drops' turns come apart, before it (below).
  // objects: the folder's objects as listed now, by version (droppedAgain; recorded on its marker).
  const increments: { folder: string; stamp: number; lastWrite: number; objects: RecordedObject[]; mergedDropsTurn?: number; ownTurns?: number }[] = [];
  for (const [folder, listing] of await listFolderObjects(clients.s3, config.storage.exportsBucket, base)) {
    const { lastWrite } = listing;
    const objects = listing.objects.map(({ name, etag, lastModified }) => recordedObject({ key: name, ...(etag === undefined ? {} : { etag }), ...(lastModified === undefined ? {} : { lastModified }) }));
    const stamp = incrementalStamp(folder, config.timeZone, lastWrite);
    if (stamp === undefined) {
      log.warn('ignoring an incremental folder whose name is not YYYY-MM-DDTHHmm (or YYYY-MM-DDTHHmm with its offset)', { folder });
      continue;
    }
    // A local name in the hour the clocks go back, merged in its first pass and dropped into again in its
    // second (merged, read now, or quarantined), now reads as the second: its first pass's drops, should a
    // night have undone them, merge again in their own turn (as of the first), before a folder stamped
    // between the two passes; the second pass's, merged, in the folder's own turn.
    let ownTurns = 0;
    if (stamp <= at && incrementalStampIsAmbiguous(folder, config.timeZone)) {
      const marker = await getRun<IngestMarker>(clients.documents, tables.runs, { job: INGEST_JOB, runDate: folder });
      const turns = dropTurns(marker);
      ownTurns = ownTurnCount(turns, stamp, hasLaterDrop(marker, lastWrite, objects));
      for (let turn = 0; turn < ownTurns; turn++) increments.push({ folder, stamp: turns[turn]!.stampedAt!, lastWrite, objects, mergedDropsTurn: turn }); // ownTurnCount: stamped
    }
    increments.push({ folder, stamp, lastWrite, objects, ...(ownTurns > 0 ? { ownTurns } : {}) });
  }

  const ordered = increments.sort(compareIncrements);
  // Folders whose merged drops this run has had the folder's own turn for (merged again after a night): a folder
  // written again since has its new drop read next.
  const remergedFirst = new Set<string>();
  for (let next = 0; next < ordered.length; next++) {
    const { folder, stamp: folderStamp, lastWrite, objects, mergedDropsTurn, ownTurns = 0 } = ordered[next]!; // next < ordered.length
    if (folderStamp > at) continue; // dropped after this run's clock
    // Quarantined or merged, and neither written again since nor (merged) undone by a night: not read again.
    const marker = await getRun<IngestMarker>(clients.documents, tables.runs, { job: INGEST_JOB, runDate: folder });
    const again = droppedAgain(marker, lastWrite, objects);
    // The merged drops this turn puts back, should a night have undone them: one turn of them apart, or, in the
    // folder's own turn, those left (the files written after the turns apart, up to the last merged drop's write).
    const turns = dropTurns(marker);
    const ownTurn = mergedDropsTurn === undefined ? undefined : turns[mergedDropsTurn];
    const rest = turns.slice(ownTurns);
    const restObjects = objectsOfTurns(rest);
    const dropsTurn: DropTurn | undefined =
      mergedDropsTurn !== undefined
        ? ownTurn
        : rest.length === 0
          ? undefined
          : { ...withoutObjects(rest.at(-1)), after: turns[ownTurns - 1]?.until, ...(restObjects === undefined ? {} : { objects: restObjects }) };
    // The turn that puts back the folder's last merged drops records this night on the marker (nightSeen): the
    // turns apart before it leave it, so that each sees the night still to put back.
    const lastTurn = mergedDropsTurn === undefined || mergedDropsTurn === turns.length - 1;
    const remerge = dropsTurn !== undefined && hasMergedDrops(marker) && !remergedFirst.has(folder) && needsRemerge(marker, folderStamp, night, config.timeZone);
    // No night undid them: a new drop is read in the folder's own turn.
    if (mergedDropsTurn !== undefined && !remerge) continue;
    if (marker && !again && !remerge) continue;
    // One a night undid puts its orders back (its drops as merged), written again since or not: a new drop
    // waits for that, or the night's older yes would stand over its opt-out. The folder is then read again
    // for the new drop, which merges as a new increment (it may create clients). Its marker, once merged
    // again, says so (nightSeen), so that a run dying in between does not merge the earlier drops twice.
    const newDrop = again && !remerge;
    if (remerge && again && mergedDropsTurn === undefined) {
      remergedFirst.add(folder);
      next--;
    }
    // Merging again a turn apart (its entry's stamp), or the drops of a folder written since (a new drop, read
    // next or quarantined): as of the instant they were merged at. Else as of the folder's stamp, as before.
    const besideLaterDrop = remerge && hasLaterDrop(marker, lastWrite, objects);
    const stamp = besideLaterDrop && dropsTurn?.stampedAt !== undefined ? dropsTurn.stampedAt : folderStamp;
    const label = incrementalStampLabel(folder, stamp, config.timeZone);
    // When the folder was last written as a drop of it was merged: a later drop is read without that drop's files.
    // A quarantined folder keeps it from the merged marker it replaced; one never merged has none.
    const mergedWrite = marker?.status === 'merged' ? marker.lastWrite : marker?.status === 'quarantined' ? marker.mergedWrite : undefined;
    // The objects its merged drops read (or took as read), by version, where the marker records them: a new drop is the others.
    const mergedObjects = marker?.status === 'merged' ? marker.objects : marker?.status === 'quarantined' && marker.mergedWrite !== undefined ? marker.mergedObjects : undefined;
    // Written again after a merge: a profile naming the folder's instant merged the earlier drop, not this one (hasMergedIncrement).
    // A quarantined folder never merged was read by no one: a profile naming its instant had this read's merge (a run that died before its marker).
    const afterMergedDrop = newDrop && mergedWrite !== undefined;
    if (newDrop && marker?.status === 'quarantined') {
      log.info('incremental export quarantined before, written again since: read again', { folder, quarantinedAt: marker.quarantinedAt, quarantinedBy: marker.runId, reason: marker.reason });
    }

    const folderSource = s3ExportSource(clients.s3, config.storage.exportsBucket, `${base}${folder}`);
    // A folder dropped again after a merge: its second drop alone. The first's files still there were merged as of
    // the first's stamp; read again as of the second's, an opt-out given between the two would be undone.
    // Merged again before a new drop is read: the drops as merged, without the new one's files.
    // Merged again after a night: the drops as merged alone, each turn's files (written after the turn before's
    // drops, up to its own drops' write), never a file written since, unchecked.
    const until = remerge ? dropsTurn?.until : undefined;
    const asMerged = until !== undefined;
    // The objects this read takes, as listed: a new drop's are those its merged drops did not read, by version
    // where the marker records them (whatever their write time: the same second, or a multipart upload begun
    // before), else by time (a marker from before); a first read's the folder as listed (not a file that
    // appears between this listing and the read). Merged again after a night: the drops' own (asMergedSource).
    const recordable = objects.length <= MAX_RECORDED_OBJECTS;
    const dropped = afterMergedDrop ? (mergedObjects === undefined ? writtenSince(objects, Date.parse(mergedWrite)) : newObjects(objects, mergedObjects)) : undefined;
    const readObjects =
      asMerged || remerge
        ? undefined
        : dropped === undefined
          ? objects
          : [...dropped, ...(await carriedManifest(clients, config, `${base}${folder}`, objects, dropped))];
    const source = asMerged ? asMergedSource(folderSource, { ...dropsTurn, until }) : readObjects !== undefined ? onlyObjects(folderSource, readObjects) : folderSource;
    let increment: IncrementRead;
    try {
      // Merged again after a night: drops merged before, checked then against their manifests (the folder's now may list another drop's files only).
      increment = await readIncrement({ source, config, clients, runDate, unwrittenByDryRun, mergedBefore: remerge, lastCompletedNight: lastCompleted, log });
    } catch (error) {
      // Increments merge in stamp order: a later one merged first would mark its clients past this
      // one (lastIncrement), and this one's orders for them would be skipped once it is whole.
      // A second drop still being written may not match a manifest yet (the first drop's, a file listed but not rewritten).
      if ((error instanceof ExportIncompleteError || (newDrop && isBadExport(error))) && at - stamp < INCOMPLETE_INCREMENT_WAIT_MS) {
        log.info('incremental export not whole yet (no manifest listing its files): it and the later ones left for a later hour', { folder, source: source.describe(), droppedAgain: newDrop });
        break;
      }
      if (!isBadExport(error)) throw error;
      if (asMerged && marker) {
        // The merged drops' files are no longer there as merged (a later drop rewrote them, or they expired): a new drop is read alone, next.
        // A turn apart before the last: the later drops still go back in theirs, which marks the folder.
        if (!lastTurn) {
          log.warn('incremental export merged before: drops of it cannot be merged again after the night (their files rewritten or gone), its later ones are', { folder, reason: error.message });
          continue;
        }
        log.warn(
          again
            ? 'incremental export written again since its merge: its earlier drops cannot be merged again after the night, its new drop is read alone'
            : 'incremental export merged before cannot be read back as merged after the night (its files rewritten or gone): left as it is',
          { folder, reason: error.message },
        );
        // This night is handled for them: not tried again every hour.
        if (!dryRun) await putRun(clients.documents, tables.runs, { ...marker, nightSeen: nightSeen(night) });
        continue;
      }
      const reason = error instanceof ExportIncompleteError ? `still not whole ${INCOMPLETE_INCREMENT_WAIT_MS / 3_600_000} hours after its stamp: ${error.message}` : error.message;
      // Nothing of the folder was written: the read comes before any profile write.
      summary.quarantined.push({ folder, reason });
      // A dry run marks nothing and raises no alarm (no alert field): the next real run will.
      log.error('incremental export quarantined: skipped, its rows wait for the nightly run', {
        ...(dryRun ? {} : { alert: SENDER_ALERTS.exportQuarantined.alert }),
        folder,
        source: source.describe(),
        reason,
        dryRun,
      });
      if (!dryRun) {
        const quarantined: IngestMarker = {
          job: INGEST_JOB,
          runDate: folder,
          runId,
          source: source.describe(),
          status: 'quarantined',
          reason,
          quarantinedAt: new Date(at).toISOString(),
          // The fix written into the folder is read by the next hour (droppedAgain).
          ...(Number.isFinite(lastWrite) ? { lastWrite: isoInstant(lastWrite) } : {}),
          // The fix is any object not listed now (droppedAgain).
          ...(recordable ? { objects } : {}),
          // The merged drops stay merged: a night undoing them has them merged again (hasMergedDrops).
          ...(mergedWrite === undefined ? {} : { mergedWrite, ...mergedDropsOf(marker), ...(mergedObjects === undefined ? {} : { mergedObjects }) }),
        };
        await putRun(clients.documents, tables.runs, quarantined);
      }
      continue;
    }
    const { read, stored, unknownCustomers } = increment;

    // The orders each client has not counted yet (increment-orders.ts).
    const countedIds = new Map<string, string[]>();
    const toMerge: ClientFacts[] = [];
    // Clients an earlier folder of this hour merged whose profile no longer names it: a night still
    // writing rewrote them since (an opt-out gone). Merged now, they would name this folder and the
    // hour would decide on the night's profile, and the next hour's merge of the earlier folder would
    // skip them: left unwritten, like a raced write (the hour does not decide them, run.ts).
    const undone: string[] = [];
    // Stamped before the newest night's cut-off, so older than its snapshot (dumped after): merged for
    // the first time after that night (the sender was down), it creates no client the snapshot lacks
    // (deleted or merged on the platform since). One stamped after the cut-off may be newer than the
    // snapshot: its new clients are created, as the night keeps them (absent.ts mergedSinceSnapshot).
    const olderThanNight = cutoff !== undefined && stamp < cutoff;
    let notCreated = 0;
    // Clients a later increment merged already whose row here says no: that alone is written (lateOptOut).
    const lateOptOuts: ProfileItem[] = [];
    for (const client of increment.clients) {
      const storedItem = stored.get(client.customerId);
      const earlier = merged.get(client.customerId);
      if (earlier !== undefined && storedItem?.lastIncrement !== earlier.increment) {
        undone.push(client.customerId);
        continue;
      }
      if (storedItem && !nightLeft.has(client.customerId)) nightLeft.set(client.customerId, storedItem.acceptsMarketing);
      // Merged already: a run died after writing profiles, before marking the folder done; or, merging
      // again after a night, a profile the night did not rewrite.
      if (hasMergedIncrement(storedItem?.lastIncrement, stamp, { droppedAgain: afterMergedDrop, timeZone: config.timeZone })) {
        // Merging again after a night, the folder was read in order before (its opt-out with it).
        const optOut = remerge ? undefined : lateOptOut(storedItem, client.customer?.acceptsMarketing, stamp, config.timeZone);
        if (optOut !== undefined) lateOptOuts.push(optOut);
        continue;
      }
      // Merging again puts orders back on profiles a night rewrote: it creates no one.
      if (remerge && storedItem === undefined) continue;
      if (olderThanNight && storedItem === undefined) {
        notCreated++;
        continue;
      }
      const orders = ordersToCount(client.orders, countedOf(storedItem, cutoff));
      countedIds.set(client.customerId, orders.map((order) => order.orderId));
      toMerge.push(factsWithOrders(client, orders));
    }
    const items: ProfileItem[] = [];
    const created = new Set<string>();
    // Stamped before the snapshot, the increment moves the orders only (the stored contact details stand).
    const ordersOnly = !isAfterSnapshot(stamp, snapshotBy);
    // The zone the merged profile keeps (mergeIncrement / mergeIncrementOrders): her stock-ups and cycle
    // are counted in her own days, the increment's lines and the merge alike, as the night and runOutDay count them.
    const keptTimeZone = (customerId: string, incrementZone: string | undefined): string | undefined => {
      const storedItem = stored.get(customerId);
      if (storedItem === undefined) return incrementZone;
      return ordersOnly ? storedItem.timeZone : (incrementZone ?? storedItem.timeZone);
    };
    const stockUpTimeZoneOf = (facts: ClientFacts) => keptTimeZone(facts.customerId, facts.customer?.timeZone);
    for (const merged of computeProfiles(toMerge, { runDate, config, stockUpTimeZoneOf, catalog })) {
      const storedItem = stored.get(merged.customerId);
      // mergeIncrementOrders adds the orders' amounts only when one of them is a purchase.
      const orderIds = merged.orderCount > 0 ? (countedIds.get(merged.customerId) ?? []) : [];
      const consent = consentAfterIncrement({
        stored: storedItem?.acceptsMarketing,
        nightLeft: nightLeft.get(merged.customerId),
        increment: merged.acceptsMarketing,
        stamp,
        snapshotBy,
      });
      // Merging again after a night: an increment newer than its snapshot (dropped after the night
      // began, or the earliest attempt of it that read the same export: snapshotDumpedBy) puts back its contact details too, which the night overwrote with the snapshot's
      // older ones; an older one cannot be ordered against the snapshot, whose details stand.
      const contactBack = remerge && isAfterSnapshot(stamp, snapshotBy) && storedItem !== undefined && contactDiffers(storedItem, merged);
      if (remerge && orderIds.length === 0 && consent === storedItem?.acceptsMarketing && !contactBack) continue; // nothing the night undid
      // RFM needs the whole base: a client first seen today is scored by the next nightly run.
      const { rfm: _unscored, ...fresh } = merged;
      // Merged again, or for the first time (the sender was down while the night ran): an increment
      // stamped before the night began may be older than its snapshot, whose details then stand.
      const stockUps = stockUpRuleOf(config, keptTimeZone(merged.customerId, merged.timeZone), catalog);
      const profile = storedItem === undefined ? fresh : ordersOnly ? mergeIncrementOrders(stripItem(storedItem), merged, stockUps) : mergeIncrement(stripItem(storedItem), merged, stockUps);
      if (consent !== undefined) profile.acceptsMarketing = consent;
      // A client the nights found in no file (shared/nightly/absent.ts) is back when an increment
      // newer than the newest night's snapshot has them; an older one may predate their deletion.
      if (profile.absentSince !== undefined && isAfterSnapshot(stamp, snapshotBy)) delete profile.absentSince;
      const incrementOrderIds = [...(storedItem?.incrementOrderIds ?? []), ...orderIds];
      if (storedItem === undefined) created.add(merged.customerId);
      const item: ProfileItem = {
        ...profile,
        digest: INCREMENTAL_DIGEST,
        updatedRunDate: storedItem?.updatedRunDate ?? runDate,
        lastIncrement: label,
        // What the next night measures its moves against (the merge may have moved the stage), and
        // for a client back from absence since when the nights lacked them (their lapse meanwhile is explained).
        lastNight: storedItem === undefined ? null : lastNightOf(storedItem),
        ...(incrementOrderIds.length > 0 ? { incrementOrderIds } : {}),
      };
      // An address the increment changed: the night's is kept, under which the client's orders still come (nightEmailOf).
      // A client an increment created (lastNight null) has no night's address yet: only one an earlier increment kept.
      const nightEmail = storedItem === undefined ? undefined : storedItem.lastNight === null ? storedItem.nightEmail : nightEmailOf(storedItem);
      if (nightEmail !== undefined && nightEmail !== item.email) item.nightEmail = nightEmail;
      // And the address she held since, which this increment replaces: her orders under it were counted to her (hourEmailsAfter).
      const hourEmails = storedItem === undefined ? [] : hourEmailsAfter(hourEmailsOf(storedItem), { before: storedItem.email, after: item.email, night: nightEmail });
      if (hourEmails.length > 0) item.hourEmails = hourEmails;
      items.push(withNextDue(item, options.indexing));
    }
    for (const optOut of lateOptOuts) items.push(withNextDue({ ...optOut, digest: INCREMENTAL_DIGEST }, options.indexing));
    const rejected = read.rejected + unknownCustomers.rejected;
    // Each client counted by the hour that writes them (a dry run: would write).
    const countWritten = (written: readonly ProfileItem[]) => {
      if (remerge) {
        summary.remerged.push({ folder, clients: written.length });
        return;
      }
      for (const item of written) {
        if (created.has(item.customerId)) summary.newClients++;
        else summary.updatedClients++;
      }
    };
    if (!remerge) {
      summary.exports.push(source.describe());
      summary.rows += read.rows;
      summary.rejected += rejected;
      summary.leftForNight += increment.leftForNight;
      if (increment.leftForNight > 0) {
        log.info('orders under an address a client left for another customer: neither\'s this hour, left for the night', { folder, lines: increment.leftForNight });
      }
      if (unknownCustomers.rejected > 0) {
        log.warn('orders for unknown customers rejected', { folder, customers: unknownCustomers.customerIds.length, lines: unknownCustomers.rejected });
      }
    }
    if (dryRun) {
      for (const item of items) unwrittenByDryRun.set(item.customerId, item);
      countWritten(items);
      continue;
    }
    // Each profile only if still as read: a night may be writing (its rewrite, its absence mark).
    // One that changed meanwhile is left, and so is the folder's marker: the next hour merges the
    // folder again, into what the night wrote (the clients merged now are skipped then: lastIncrement).
    const raced = await putProfilesIfUnchanged(clients.documents, tables.profiles, items, stored);
    // A raced one too: its profile is the night's, without what this increment says (an opt-out).
    // A late opt-out's profile still names the later increment.
    for (const item of items) merged.set(item.customerId, { increment: item.lastIncrement ?? label, folder });
    const left = new Set(raced);
    await eraseWrittenBackErased({ config, clients, log }, items.filter((item) => !left.has(item.customerId)));
    countWritten(items.filter((item) => !left.has(item.customerId)));
    if (raced.length > 0 || undone.length > 0) {
      // The next hour merges the earlier folder again (run.ts marks it), then this one, in stamp order.
      log.warn('profiles changed while the increment was merged (a night writing?): it and the later ones left for the next hour', { folder, clients: raced.length + undone.length });
      summary.deferred.push({ folder, clients: raced.length + undone.length });
      break;
    }
    // A turn apart before the folder's last merged drops: the marker is the last turn's to write.
    if (remerge && !lastTurn) {
      log.info('incremental export merged again after a night: the drops of one of its passes put back', { folder, stampedAt: isoInstant(stamp), clients: items.length });
      continue;
    }
    // Each drop with its own stamp and write, when the marker lists them (or, from before, records its one drop).
    const earlier = afterMergedDrop ? mergedDropList(marker) : [];
    const knownDrops = !afterMergedDrop || earlier.length > 0;
    // The objects it read, while the drops' records stay within bounds (past them: by time, as before).
    const recordedBefore = earlier.reduce((count, drop) => count + (drop.objects?.length ?? 0), 0);
    const dropObjects = readObjects !== undefined && recordedBefore + readObjects.length <= MAX_RECORDED_OBJECTS ? { objects: readObjects } : {};
    const drop: MergedDrop = { stampedAt: isoInstant(stamp), lastWrite: isoInstant(lastWrite), ...dropObjects };
    const written = Number.isFinite(lastWrite)
      ? { lastWrite: isoInstant(lastWrite), stampedAt: isoInstant(stamp), ...(knownDrops ? { drops: [...earlier, drop] } : {}), ...(recordable ? { objects } : {}) }
      : {};
    const done: IngestMarker =
      remerge && marker?.status === 'merged'
        ? { ...marker, nightSeen: nightSeen(night), remergedBy: runId }
        : remerge && marker?.status === 'quarantined'
          ? // Its merged drops put back; the quarantined drop waits for its fix as before.
            { ...marker, nightSeen: nightSeen(night) }
          : { job: INGEST_JOB, runDate: folder, runId, source: source.describe(), status: 'merged', rows: read.rows, rejected, clients: items.length, nightSeen: nightSeen(night), ...written };
    await putRun(clients.documents, tables.runs, done);
    if (remerge) log.info('incremental export merged again after a night: its orders put back', { folder, clients: items.length, night: nightSeen(night) });
    else log.info('incremental export merged', { folder, stampedAt: isoInstant(stamp), rows: read.rows, rejected, clients: items.length, droppedAgain: newDrop, notCreated, lateOptOuts: lateOptOuts.length });
  }
  return { summary, merged, unwrittenByDryRun };
}

/**
 * The increment's clients were looked up on the erasure list before its writes (readIncrement): a
 * forget that completed since, before these profiles were written, has them back. Any written
 * client now on the list (by id or address) is erased again (eraseAgain), as the hour does its due
 * clients. A forget recorded after this read deletes the profile itself (its profiles go last).
 */
async function eraseWrittenBackErased(context: { config: Config; clients: AwsClients; log: Log }, written: readonly ProfileItem[]): Promise<void> {
  const { config, clients, log } = context;
  const erased = await erasedAmong(clients.documents, tableNames(config).suppression, written);
  if (erased.size === 0) return;
  await eraseAgain({ config, clients, advisorIds: await rosterAdvisorIds(clients.s3, config) }, erased, written);
  log.warn('clients erased while the increment was merged: written back, erased again', { count: erased.size });
}

/** Puts each item if its stored profile is still the one read (putProfileIfUnchanged), a few at a time; returns the ids of those that changed meanwhile. */
async function putProfilesIfUnchanged(
  documents: AwsClients['documents'],
  table: string,
  items: readonly ProfileItem[],
  read: ReadonlyMap<string, ProfileItem>,
): Promise<string[]> {
  const raced: string[] = [];
  await forEachInFlight(items, 8, async (item) => {
    if (!(await putProfileIfUnchanged(documents, table, item, read.get(item.customerId)))) raced.push(item.customerId);
  });
  return raced;
}

/** The nights an hour goes by (nightsOfHour). */
export interface HourNights {
  /** The newest nightly run's runs-table item, finished or not: the last night that may have rewritten profiles. */
  newest: NightMark | undefined;
  /**
   * The last completed night and the profile format it recorded (shared/sender/profile-format.ts);
   * undefined before any. Its run date also reads an earlier version's increments (asCreatedByEarlierIncrement).
   */
  lastCompleted: CompletedNightFormat | undefined;
}

/**
 * The newest night up to `upToRunDate` and the last completed one: one read of the newest item,
 * and a second only while that night is being written (or stopped while writing). Nights are
 * written in order (shared/nightly/admission.ts), so the item before a night being written is a
 * completed one. Summaries of versions before nights were marked have no status: completed.
 */
export async function nightsOfHour(documents: AwsClients['documents'], table: string, upToRunDate: string): Promise<HourNights> {
  const newestOf = (upTo: string) =>
    recentRuns<RunKey & Partial<NightMark> & { profileFormat?: unknown }>(documents, table, NIGHTLY_JOB, upTo, {
      limit: 1,
      attributes: ['runId', 'status', 'startedAt', 'clockAt', 'snapshotBy', 'profileFormat'],
    });
  const completedOf = (item: RunKey & { profileFormat?: unknown }): CompletedNightFormat => ({
    runDate: item.runDate,
    ...(typeof item.profileFormat === 'number' ? { profileFormat: item.profileFormat } : {}),
  });
  const [night] = await newestOf(upToRunDate);
  if (night === undefined) return { newest: undefined, lastCompleted: undefined };
  const newest: NightMark = {
    runDate: night.runDate,
    runId: String(night.runId),
    status: String(night.status),
    ...(night.startedAt === undefined ? {} : { startedAt: night.startedAt }),
    ...(typeof night.clockAt === 'string' ? { clockAt: night.clockAt } : {}),
    ...(typeof night.snapshotBy === 'string' ? { snapshotBy: night.snapshotBy } : {}),
  };
  if (night.status !== 'writing') return { newest, lastCompleted: completedOf(night) };
  const [before] = await newestOf(addDays(night.runDate, -1));
  return { newest, lastCompleted: before === undefined ? undefined : completedOf(before) };
}

/**
 * A folder's files as one turn of its merged drops read them (dropTurns): the objects they recorded,
 * or, recording none, those written after the turn before's, up to its own drops' write.
 */
function asMergedSource(folder: ExportSource, turn: DropTurn & { until: number }): ExportSource {
  if (turn.objects !== undefined) return onlyObjects(folder, turn.objects);
  const upTo = writtenBy(folder, turn.until);
  return turn.after === undefined ? upTo : writtenAfter(upTo, turn.after);
}

/** The listed objects written after `since` (epoch ms): a new drop into a folder whose marker records no objects, as then (writtenAfter). */
function writtenSince(listed: readonly RecordedObject[], since: number): RecordedObject[] {
  return listed.filter((object) => object.lastModified !== undefined && object.lastModified > since);
}

function withoutObjects(turn: DropTurn | undefined): DropTurn {
  const { objects: _objects, ...rest } = turn ?? {};
  return rest;
}

/**
 * The folder's manifest for a new drop that did not write one, as a
 * one-element list: when it lists no files (its merged drops read it), it says only that the
 * folder is incremental, of this drop as of the earlier ones (else a drop of customers alone would
 * read as a full snapshot missing its orders). One that lists files defines the drop it came with:
 * not carried, the new drop is read by its own manifest, or as still being written until it has one.
 */
async function carriedManifest(
  clients: AwsClients,
  config: Config,
  prefix: string,
  listed: readonly RecordedObject[],
  dropped: readonly RecordedObject[],
): Promise<RecordedObject[]> {
  const manifest = listed.find((object) => object.key === MANIFEST_NAME);
  if (manifest === undefined || dropped.some((object) => object.key === MANIFEST_NAME)) return [];
  const text = await readObjectText(clients.s3, config.storage.exportsBucket, `${prefix}/${MANIFEST_NAME}`);
  let parsed: unknown;
  try {
    parsed = text === undefined ? undefined : JSON.parse(text);
  } catch {
    return [];
  }
  const listsNoFiles = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && !('files' in parsed);
  return listsNoFiles ? [manifest] : [];
}

/** What a stored profile has counted (increment-orders.ts); a client not stored has counted nothing. */
function countedOf(stored: ProfileItem | undefined, cutoff: number | undefined): CountedOrders {
  if (stored === undefined) return { ids: [] };
  return { ids: stored.incrementOrderIds ?? [], ...(cutoff === undefined ? {} : { cutoff }) };
}

interface IncrementRead {
  read: ReadResult;
  /** The increment's clients, without the erased and the unknown ones. */
  clients: ClientFacts[];
  /** The stored profiles of those clients (in a dry run, those its earlier folders would have written). */
  stored: Map<string, ProfileItem>;
  unknownCustomers: UnknownCustomerRejects;
  /** Order lines under an address a client of the increment left for another customer's row: neither's in the hour (hour-addresses.ts takenAddresses). */
  leftForNight: number;
}

/**
 * Reads an increment with its clients' stored profiles. Its order lines for customers neither its
 * customer rows nor a stored profile know are rejects, as in the nightly run, and count towards
 * their file's share of rejected rows; a Shopify line under a former address of one of its clients
 * is hers first, and one under an address a client of it left for another's row is neither's
 * (hour-addresses.ts). Throws an ExportError (the folder is quarantined) before
 * anything is written.
 */
async function readIncrement(context: {
  source: ExportSource;
  config: Config;
  clients: AwsClients;
  runDate: string;
  /** A dry run's profiles of earlier folders, taken as stored (empty for a real run). */
  unwrittenByDryRun: ReadonlyMap<string, ProfileItem>;
  /** Drops merged before (a merge again after a night), not held against the folder's manifest now (reader.ts ReadOptions.mergedBefore). */
  mergedBefore: boolean;
  /** The last completed night, for the profiles of an earlier version's increments (asCreatedByEarlierIncrement). */
  lastCompletedNight: string | undefined;
  log: Log;
}): Promise<IncrementRead> {
  const { source, config, clients, runDate, unwrittenByDryRun, mergedBefore, lastCompletedNight, log } = context;
  const { now } = runClock(runDate, config.timeZone);
  const aggregator = new ClientAggregator({ now });
  const orphans = new OrphanOrderLines();
  // The clients an email-only line went to by their row's address (hour-addresses.ts takenAddresses).
  const viaAddress = new Set<string>();
  const read = await readExport(
    source,
    {
      customer: (c) => aggregator.addCustomer(c),
      order: (line, at) => {
        orphans.noteUnlessKnown(line, at, aggregator);
        if (line.customerId === undefined && line.email !== undefined) {
          const holder = aggregator.customerWithEmail(normaliseEmail(line.email));
          if (holder !== undefined) viaAddress.add(holder);
        }
        aggregator.addOrderLine(line);
      },
      product: () => undefined,
    },
    // Reject shares are checked once the unknown customers' lines are counted.
    { config, now, checkRejectShares: false, mergedBefore },
  );
  // People who asked to be forgotten stay out, whatever an export says (erasure-store.ts); their lines are not "unknown".
  // The increment's clients looked up by id and address: the list itself only grows, and is not read whole every hour.
  const erased = await erasedAmong(clients.documents, tableNames(config).suppression, [...aggregator.customerKeys()]);
  if (erased.size > 0) aggregator.dropClients((id) => erased.has(id));
  const ours = new Set(aggregator.customerIds());
  // A client an earlier version's increment created is one no night has written (lastNight null), as it is to the night.
  const stored = new Map((await getProfiles(clients.documents, tableNames(config).profiles, [...ours])).map((item) => [item.customerId, asCreatedByEarlierIncrement(item, lastCompletedNight)]));
  for (const id of ours) {
    const unwritten = unwrittenByDryRun.get(id);
    if (unwritten !== undefined) stored.set(id, unwritten);
  }
  const hourClients = hourClientsOf(aggregator, ours, stored);
  // A row carrying an address another client of the increment held: its lines are left for the night (hour-addresses.ts).
  const taken = new Map([...takenAddresses(hourClients)].filter(([holder]) => viaAddress.has(holder)));
  const leftForNight = taken.size === 0 ? 0 : await withoutTakenLines(aggregator, taken, (handlers) => readExport(source, handlers, { config, now, checkRejectShares: false, mergedBefore }).then(() => undefined));
  // Lines under no row's address: a former address of a client of the increment, as the night reads them (hour-addresses.ts).
  const unknownToTheBase = (id: string) => ours.has(id) && !stored.has(id);
  const linked = await linkFormerAddresses({ aggregator, hourClients, isUnknown: unknownToTheBase, clients, config, log });
  const unknownCustomers = orphans.rejectsOf((id) => unknownToTheBase(id) && !linked.has(id));
  if (unknownCustomers.customerIds.length > 0) {
    const unknown = new Set(unknownCustomers.customerIds);
    aggregator.dropClients((id) => unknown.has(id));
  }
  checkRejectShares(withRejectsPerFile(read.files, unknownCustomers.perFile), config.maxRejectShare);
  return { read, clients: [...aggregator.clients()], stored, unknownCustomers, leftForNight };
}

/** The increment's clients with a customer row, with their row's address and their stored profile's (hour-addresses.ts). */
function hourClientsOf(aggregator: ClientAggregator, ours: ReadonlySet<string>, stored: ReadonlyMap<string, ProfileItem>): HourClient[] {
  const result: HourClient[] = [];
  for (const customerId of ours) {
    if (!aggregator.hasCustomerRecord(customerId)) continue;
    const item = stored.get(customerId);
    result.push({ customerId, rowEmail: aggregator.customerEmail(customerId), storedEmails: item === undefined ? [] : addressesOf(item) });
  }
  return result;
}

/**
 * Each holder rebuilt without the lines under the addresses `taken` names (read again: rare, a swap
 * or a newcomer on an address another client of the increment left); returns how many were left out.
 */
async function withoutTakenLines(aggregator: ClientAggregator, taken: ReadonlyMap<string, ReadonlySet<string>>, readAgain: (handlers: ExportHandlers) => Promise<void>): Promise<number> {
  const kept = new Map<string, OrderLine[]>([...taken.keys()].map((holder) => [holder, []]));
  let left = 0;
  await readAgain({
    customer: () => undefined,
    order: (line) => {
      if (line.customerId !== undefined) {
        kept.get(line.customerId)?.push(line);
        return;
      }
      if (line.email === undefined) return;
      const email = normaliseEmail(line.email);
      const holder = aggregator.customerWithEmail(email);
      const lines = holder === undefined ? undefined : kept.get(holder);
      if (holder === undefined || lines === undefined) return;
      if (taken.get(holder)?.has(email) === true) left += 1;
      else lines.push(line);
    },
    product: () => undefined,
  });
  for (const [holder, lines] of kept) aggregator.rebuildClient(holder, lines);
  return left;
}

/**
 * Gives the increment's orphan addresses (no row carries them, no stored profile is theirs) to the
 * client of the increment they are a former address of (formerAddressOwners): by the stored
 * profiles and the address book (one S3 read, only in an increment with such lines). Returns the identities linked.
 */
async function linkFormerAddresses(context: {
  aggregator: ClientAggregator;
  hourClients: readonly HourClient[];
  isUnknown: (customerId: string) => boolean;
  clients: AwsClients;
  config: Config;
  log: Log;
}): Promise<Set<string>> {
  const { aggregator, hourClients, isUnknown, clients, config, log } = context;
  const orphans: OrphanAddress[] = [];
  for (const email of aggregator.addressOnlyClients()) {
    const identity = emailIdentity(email);
    if (isUnknown(identity)) orphans.push({ identity, orderedAt: (aggregator.ordersOf(identity) ?? []).map((order) => order.orderedAt) });
  }
  const linked = new Set<string>();
  if (orphans.length === 0 || hourClients.length === 0) return linked;
  // Read whenever there are such lines, even ones the stored profiles place: an address the book gives another client too is neither's, as in the night.
  let book: FormerAddress[] = [];
  try {
    book = await readAddressBook(clients.s3, config);
  } catch (error) {
    if (!(error instanceof AddressBookDamagedError)) throw error;
    // The night refuses it and names it; the hour goes on without it (the lines only it would place are rejected, as before).
    log.warn('address book damaged: the increment is read without it', { error: error.message });
  }
  for (const [identity, customerId] of formerAddressOwners({ clients: hourClients, orphans, book, cutOff: (night) => runClock(night, config.timeZone).now })) {
    if (aggregator.linkFormerAddress(identity, customerId)) linked.add(identity);
  }
  return linked;
}

function stripItem(item: ProfileItem): ClientProfile {
  const { digest: _digest, updatedRunDate: _updated, lastIncrement: _merged, incrementOrderIds: _counted, lastNight: _night, nightEmail: _nightEmail, hourEmails: _hourEmails, nextDueAt: _indexed, nextDueDay: _indexedDay, ...profile } = item;
  return profile;
}
