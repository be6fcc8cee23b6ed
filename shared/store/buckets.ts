import type { Config } from '#shared/config.ts';
import { parseTimestamp, zonedWallClock, zonedWallTimeInstants } from '#shared/time.ts';

/** Reports (run summaries, rejects) live in their own bucket when configured, else beside the exports. */
export function reportsBucket(config: Config): string {
  return config.storage.reportsBucket ?? config.storage.exportsBucket;
}

/** The dated prefix a night's export is dropped under: <prefix>/<YYYY-MM-DD>. */
export function exportPrefix(config: Config, runDate: string): string {
  return config.storage.exportsPrefix ? `${config.storage.exportsPrefix}/${runDate}` : runDate;
}

/** Where a run's report objects go: <reportsPrefix>/<job>/<YYYY-MM-DD>/. */
export function reportPrefix(config: Config, job: string, runDate: string): string {
  const base = config.storage.reportsPrefix ? `${config.storage.reportsPrefix}/` : '';
  return `${base}${job}/${runDate}`;
}

/** The name of a nightly run's whole summary, beside its report (its runs-table item keeps a sample of its lists). */
export const SUMMARY_FILE = 'summary.json';

/** The name of the campaign results a nightly run writes beside its summary. */
export const CAMPAIGN_RESULTS_FILE = 'campaign-results.json';

/** `path` under the configuration's reports prefix, when it has one. */
function underReportsPrefix(config: Config, path: string): string {
  return config.storage.reportsPrefix ? `${config.storage.reportsPrefix}/${path}` : path;
}

/** The campaign results a nightly run writes beside its summary: <report prefix>/campaign-results.json. */
export function campaignResultsKey(config: Config, runDate: string): string {
  return `${reportPrefix(config, 'nightly', runDate)}/${CAMPAIGN_RESULTS_FILE}`;
}

/** The product catalogue the last nightly run read, for the campaign sender's replenishment cycles. */
export function catalogKey(config: Config): string {
  return underReportsPrefix(config, 'catalog/products.json');
}

/** The catalogue as it was before the last night that stored products replaced it (catalog-store.ts writeCatalog), for a rerun of that night without them. */
export function catalogBeforeKey(config: Config): string {
  return underReportsPrefix(config, 'catalog/products-before.json');
}

/** What timed the run-out reminders night by night (shared/tiering/cycle-history.ts): read and written by the nights. */
export function cycleHistoryKey(config: Config): string {
  return underReportsPrefix(config, 'catalog/cycle-history.json');
}

/** What the clients of each top category buy besides it (shared/segments/category-affinity.ts), from the last nightly run. */
export function categoryAffinityKey(config: Config): string {
  return underReportsPrefix(config, 'catalog/category-affinity.json');
}

/** The last good advisors roster a nightly run read (shared/advisors/roster.ts), beside the catalogue. */
export function rosterKey(config: Config): string {
  return underReportsPrefix(config, 'catalog/advisors.json');
}

/** The advisors' book pairs of the last weekly digests, to tell a handover (shared/advisors/handover.ts). */
export function bookPairsKey(config: Config): string {
  return underReportsPrefix(config, 'catalog/advisor-pairs.json');
}

/** Former Shopify addresses, hashed, with their clients' ids (address-book.ts): kept, like the catalogue. */
export function addressBookKey(config: Config): string {
  return underReportsPrefix(config, 'state/address-book.json');
}

/** Incremental exports (sign-ups and orders during the day) go under <prefix>/incremental/<stamp>/ (incrementalStamp). */
export function incrementalPrefix(config: Config): string {
  return config.storage.exportsPrefix ? `${config.storage.exportsPrefix}/incremental` : 'incremental';
}

/**
 * Intermediate objects of runs split over several invocations (a sharded night's measures, models
 * and outcomes): <reportsPrefix>/work/. The stack expires everything under it after a few days;
 * reports beside it are kept.
 */
export function workPrefix(config: Config): string {
  return underReportsPrefix(config, 'work');
}

/** One run's intermediate objects: <reportsPrefix>/work/<job>/<YYYY-MM-DD>/<runId>. */
export function runWorkPrefix(config: Config, job: string, runDate: string, runId: string): string {
  return `${workPrefix(config)}/${job}/${runDate}/${runId}`;
}

/** A campaign's coupon pool, uploaded by the brand in the exports bucket: <coupons.poolsPrefix>/<campaignId>.csv. */
export function couponPoolKey(config: Config, campaignId: string): string {
  return config.coupons.poolsPrefix ? `${config.coupons.poolsPrefix}/${campaignId}.csv` : `${campaignId}.csv`;
}

/**
 * An incremental folder's stamp: YYYY-MM-DDTHHmm, brand time, or with its offset (Z, or ±HHMM as
 * in 2026-11-01T0130-0500), which says the instant even in the hour the clocks go back.
 */
const INCREMENTAL_FOLDER_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})(\d{2})(Z|[+-]\d{4})?$/;

/**
 * How far ahead of S3's clock the platform's may run when it stamps a folder: a folder is written
 * after its stamp, so a reading of its stamp later than its newest object (by more than this) is
 * not its own.
 */
export const STAMP_CLOCK_ALLOWANCE_MS = 5 * 60_000;

/**
 * The instant an incremental folder's stamp names (the one thing every comparison of increments
 * goes by: the order they merge in, a profile's lastIncrement, the wait for a manifest, the nights),
 * or undefined for a name that is not a stamp.
 *
 * A stamp with its offset names one instant. A local stamp is brand time, and names one instant
 * too, except in the hour the clocks go back, which happens twice (01:30 is 05:30Z, then 06:30Z in
 * New York on 2026-11-01). There `writtenAt`, when S3 says the folder was last written (its
 * newest object's LastModified: the manifest, written last), tells them apart: a folder is not
 * written before its stamp, so it is the later reading not after that write (within
 * STAMP_CLOCK_ALLOWANCE_MS). Without it (a name stored on a profile before stamps carried their
 * offset), or when both readings are after it, the earlier one: as local stamps were always read.
 */
export function incrementalStamp(folder: string, timeZone: string, writtenAt?: number): number | undefined {
  const m = INCREMENTAL_FOLDER_RE.exec(folder);
  if (!m) return undefined;
  const [, year, month, day, hour, minute, offset] = m;
  const wall = `${year}-${month}-${day}T${hour}:${minute}:00`;
  if (offset !== undefined) return parseTimestamp(offset === 'Z' ? `${wall}Z` : `${wall}${offset.slice(0, 3)}:${offset.slice(3)}`, timeZone);
  const earliest = parseTimestamp(wall, timeZone); // validates the date, and reads a skipped time as today
  if (earliest === undefined || writtenAt === undefined) return earliest;
  const readings = zonedWallTimeInstants(Number(year), Number(month), Number(day), Number(hour), Number(minute), timeZone);
  const possible = readings.filter((instant) => instant <= writtenAt + STAMP_CLOCK_ALLOWANCE_MS);
  return possible.at(-1) ?? earliest;
}

/** Whether a folder's name reads as two instants (a local stamp in the hour the clocks go back): which one is its stamp depends on its write. */
export function incrementalStampIsAmbiguous(folder: string, timeZone: string): boolean {
  const m = INCREMENTAL_FOLDER_RE.exec(folder);
  if (!m || m[6] !== undefined || incrementalStamp(folder, timeZone) === undefined) return false;
  const [, year, month, day, hour, minute] = m;
  return zonedWallTimeInstants(Number(year), Number(month), Number(day), Number(hour), Number(minute), timeZone).length > 1;
}

/**
 * How a profile names the increment last merged into it (lastIncrement): the folder's name when
 * it carries its offset, else the stamp with its offset (2026-11-01T0130-0500), so that
 * incrementalStamp reads it back as the same instant with no S3 to ask, and under whatever zone
 * the brand has then: a name without one would be read in that zone (a brand moved from
 * Asia/Shanghai to America/New_York would read 10:00 as 15:00Z, not 02:00Z, and skip the
 * increments of the 13 hours between as merged already).
 */
export function incrementalStampLabel(folder: string, stamp: number, timeZone: string): string {
  if (INCREMENTAL_FOLDER_RE.exec(folder)?.[6] !== undefined && incrementalStamp(folder, timeZone) === stamp) return folder;
  const { date, time, offset } = zonedWallClock(stamp, timeZone);
  return `${date}T${time.replace(':', '')}${offset.replace(':', '')}`;
}

/** Increments in the order they merge: by the instant of their stamps (incrementalStamp), then by name. */
export function compareIncrements(a: { folder: string; stamp: number }, b: { folder: string; stamp: number }): number {
  return a.stamp - b.stamp || (a.folder < b.folder ? -1 : a.folder > b.folder ? 1 : 0);
}
