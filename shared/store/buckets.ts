import type { Config } from '#shared/config.ts';
import { parseTimestamp } from '#shared/time.ts';

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

/** The name of the campaign results a nightly run writes beside its summary. */
export const CAMPAIGN_RESULTS_FILE = 'campaign-results.json';

/** The campaign results a nightly run writes beside its summary: <report prefix>/campaign-results.json. */
export function campaignResultsKey(config: Config, runDate: string): string {
  return `${reportPrefix(config, 'nightly', runDate)}/${CAMPAIGN_RESULTS_FILE}`;
}

/** The product catalogue the last nightly run read, for the campaign sender's replenishment cycles. */
export function catalogKey(config: Config): string {
  return config.storage.reportsPrefix ? `${config.storage.reportsPrefix}/catalog/products.json` : 'catalog/products.json';
}

/** What the clients of each top category buy besides it (shared/segments/category-affinity.ts), from the last nightly run. */
export function categoryAffinityKey(config: Config): string {
  return config.storage.reportsPrefix ? `${config.storage.reportsPrefix}/catalog/category-affinity.json` : 'catalog/category-affinity.json';
}

/** The last good advisors roster a nightly run read (shared/advisors/roster.ts), beside the catalogue. */
export function rosterKey(config: Config): string {
  return config.storage.reportsPrefix ? `${config.storage.reportsPrefix}/catalog/advisors.json` : 'catalog/advisors.json';
}

/** The advisors' book pairs of the last weekly digests, to tell a handover (shared/advisors/handover.ts). */
export function bookPairsKey(config: Config): string {
  return config.storage.reportsPrefix ? `${config.storage.reportsPrefix}/catalog/advisor-pairs.json` : 'catalog/advisor-pairs.json';
}

/** Incremental exports (sign-ups and orders during the day) go under <prefix>/incremental/<YYYY-MM-DDTHHmm>/. */
export function incrementalPrefix(config: Config): string {
  return config.storage.exportsPrefix ? `${config.storage.exportsPrefix}/incremental` : 'incremental';
}

/**
 * Intermediate objects of runs split over several invocations (a sharded night's measures, models
 * and outcomes): <reportsPrefix>/work/. The stack expires everything under it after a few days;
 * reports beside it are kept.
 */
export function workPrefix(config: Config): string {
  return config.storage.reportsPrefix ? `${config.storage.reportsPrefix}/work` : 'work';
}

/** One run's intermediate objects: <reportsPrefix>/work/<job>/<YYYY-MM-DD>/<runId>. */
export function runWorkPrefix(config: Config, job: string, runDate: string, runId: string): string {
  return `${workPrefix(config)}/${job}/${runDate}/${runId}`;
}

/** A campaign's coupon pool, uploaded by the brand in the exports bucket: <coupons.poolsPrefix>/<campaignId>.csv. */
export function couponPoolKey(config: Config, campaignId: string): string {
  return config.coupons.poolsPrefix ? `${config.coupons.poolsPrefix}/${campaignId}.csv` : `${campaignId}.csv`;
}

const INCREMENTAL_FOLDER_RE = /^(\d{4}-\d{2}-\d{2})T(\d{2})(\d{2})$/;

/** When an incremental folder (YYYY-MM-DDTHHmm, brand time) was dropped, or undefined for a name that is not a stamp. */
export function incrementalStamp(folder: string, timeZone: string): number | undefined {
  const m = INCREMENTAL_FOLDER_RE.exec(folder);
  return m ? parseTimestamp(`${m[1]}T${m[2]}:${m[3]}:00`, timeZone) : undefined;
}
