import type { S3Client } from '@aws-sdk/client-s3';
import { parseS3Url, readStoredJson, StoredObjectDamagedError } from '#shared/aws/s3-objects.ts';
import { z } from 'zod';
import type { NightlyRunSummary } from './summary.ts';

/**
 * A completed night's runs-table item. DynamoDB refuses an item past 400 KB, and parts of the
 * summary grow with the brand's data (a file per export part, an entry per advisor), so the item
 * keeps every figure but only a sample of those lists: the whole summary is summary.json
 * (report.summaryObject), as NightResult does for Step Functions (distributed.ts). A night that
 * failed at this last write would stay marked as being written and refuse every later night.
 */

/** Entries each growing list keeps in the runs item: enough for `clientele status` and a quick look. */
export const LISTED_IN_RUNS_ITEM = 20;

/** Serialized size past which the item is reduced further: well under DynamoDB's 400 KB, whose count of an item differs a little from JSON's. */
export const MAX_RUNS_ITEM_BYTES = 350_000;

/** JSON's size of a value, in bytes: close to what DynamoDB counts for an item. */
export function serializedBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/**
 * The runs item of a summary: its growing lists cut to LISTED_IN_RUNS_ITEM entries, their full
 * lengths in `listsCut`; past MAX_RUNS_ITEM_BYTES still (a roster's thousands of stores, long
 * reject reasons), without the samples and the per-store figures (`listsCut.reduced`). Pure.
 */
export function runsItemOf(summary: NightlyRunSummary): NightlyRunSummary {
  const item = cutLists(summary, LISTED_IN_RUNS_ITEM, false);
  return serializedBytes(item) <= MAX_RUNS_ITEM_BYTES ? item : cutLists(summary, 0, true);
}

function cutLists(summary: NightlyRunSummary, keep: number, reduced: boolean): NightlyRunSummary {
  const lengths: Record<string, number> = {};
  const sample = <T>(path: string, list: readonly T[]): T[] => {
    if (list.length > keep) lengths[path] = list.length;
    return list.slice(0, keep);
  };
  const byStore = <T>(path: string, stores: Record<string, T>): Record<string, T> => {
    if (!reduced) return stores;
    const count = Object.keys(stores).length;
    if (count > 0) lengths[path] = count;
    return {};
  };
  const { rerun: _rerun, listsCut: _cut, ...rest } = summary; // a rerun's mark is never stored (summary.ts)
  const item: NightlyRunSummary = {
    ...rest,
    input: { ...summary.input, files: sample('input.files', summary.input.files), sampleRejects: sample('input.sampleRejects', summary.input.sampleRejects) },
  };
  const followThrough = summary.advisorFollowThrough;
  if (followThrough) {
    item.advisorFollowThrough = {
      ...followThrough,
      advisors: sample('advisorFollowThrough.advisors', followThrough.advisors),
      byStore: byStore('advisorFollowThrough.byStore', followThrough.byStore),
      needsNewAdvisor: { ...followThrough.needsNewAdvisor, customerIds: sample('advisorFollowThrough.needsNewAdvisor.customerIds', followThrough.needsNewAdvisor.customerIds) },
    };
  }
  const digests = summary.advisorDigests;
  if (digests) {
    item.advisorDigests = {
      ...digests,
      advisors: sample('advisorDigests.advisors', digests.advisors),
      unconfiguredAdvisors: { ...digests.unconfiguredAdvisors, ids: sample('advisorDigests.unconfiguredAdvisors.ids', digests.unconfiguredAdvisors.ids) },
      ...(digests.unsent ? { unsent: sample('advisorDigests.unsent', digests.unsent) } : {}),
      ...(digests.books ? { books: sample('advisorDigests.books', digests.books) } : {}),
      ...(digests.followThrough ? { followThrough: { ...digests.followThrough, byStore: byStore('advisorDigests.followThrough.byStore', digests.followThrough.byStore) } } : {}),
    };
  }
  if (Object.keys(lengths).length > 0 || reduced) item.listsCut = { lengths, ...(reduced ? { reduced: true } : {}) };
  return item;
}

/** What tells summary.json for a night's summary: the whole type is ours, written from it by finishNight. */
const wholeSummarySchema = z.looseObject({ job: z.literal('nightly'), runId: z.string(), runDate: z.string() });

/**
 * The whole summary of a night from its runs item: the item itself when nothing was cut (and
 * items written before lists were cut), else summary.json. Should that object be gone or not the
 * night's summary (a hand edit, a bad restore), the item is still a summary, with samples: better
 * shown than a failure.
 */
export async function wholeSummaryOf(s3: S3Client, stored: NightlyRunSummary): Promise<NightlyRunSummary> {
  if (stored.listsCut === undefined) return stored;
  const { bucket, prefix: key } = parseS3Url(stored.report.summaryObject);
  let whole: z.output<typeof wholeSummarySchema> | undefined;
  try {
    whole = await readStoredJson(s3, { bucket, key }, wholeSummarySchema, (object, problem) => new StoredObjectDamagedError('night summary', object, problem, 'its runs item is shown instead.'));
  } catch (error) {
    if (error instanceof StoredObjectDamagedError) return stored;
    throw error;
  }
  // Checked as a night's summary above; the rest of it is this very type, written just before the item.
  return whole === undefined ? stored : (whole as unknown as NightlyRunSummary);
}
