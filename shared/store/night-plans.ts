import { gunzipSync, gzipSync } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import { listFolders, listObjects, readObjectBytes, writeObject } from '#shared/aws/s3-objects.ts';
import type { Config } from '#shared/config.ts';
import { ClienteleError } from '#shared/errors.ts';
import { reportPrefix, reportsBucket } from './buckets.ts';
import type { ProfileItem } from './profile-store.ts';

/**
 * What a nightly attempt is about to change, written before its first DynamoDB write: for every
 * profile it will write, the item as it was before the night (or null for a client the base did
 * not hold). A later attempt of the same night (after a crash, or on a corrected export) reads
 * them back, so it measures movements against the last completed night rather than against what
 * a half-finished attempt left, and can put back what it no longer changes.
 *
 * Objects: <reports>/nightly/<date>/attempts/<runId>/before-s<shard>-<part>.jsonl.gz, one JSON
 * line per profile. They hold personal data: tagged for the bucket's expiry of rejects
 * (retention.rejectsDays, 30 by default), so a crashed night can be rerun exactly only until then
 * (missingBeforeImages).
 * An object is never replaced: a retry of a shard's write keeps its run id (a Step Functions retry
 * or redrive), and its parts are numbered after those its earlier attempts left. Replacing one
 * would lose the before-images of clients those attempts may already have written.
 */

/** A before-image object that cannot be read back whole: the night cannot tell what its clients held before it. */
export class BeforeImageError extends ClienteleError {
  override name = 'BeforeImageError';
  constructor(message: string, options?: ErrorOptions) {
    super('NIGHTLY_RUN_FAILED', message, options);
  }
}

/**
 * The refusal of a rerun that finds profiles an earlier attempt of the night wrote (`written`, this
 * shard's or the night's) but not the before-images it saved for them: expired with the rejects.
 * Measured against what that attempt left, the rerun would lose their movements of the night.
 */
export function missingBeforeImages(config: Config, runDate: string, written: number): BeforeImageError {
  return new BeforeImageError(
    `${runDate} refused, nothing written: an earlier attempt of this night wrote ${written} client profile(s) whose before-images are gone ` +
      `from s3://${reportsBucket(config)}/${attemptsPrefix(config, runDate)} (they expire with the rejects, after retention.rejectsDays). Without them the night cannot tell ` +
      'what those clients held before it, and a rerun would measure against what that attempt left and lose their movements of the night. ' +
      'Restore the profiles and tier-history tables to a moment before the night (point-in-time recovery, up to 35 days back), then run the night again.',
  );
}

export interface BeforeImage {
  customerId: string;
  /** The stored item before the night; null when the night created it. */
  before: ProfileItem | null;
}

/** Lines per object: keeps each object (and the memory to build it) bounded. */
export const PLAN_PART_ENTRIES = 10_000;

function attemptsPrefix(config: Config, runDate: string): string {
  return `${reportPrefix(config, 'nightly', runDate)}/attempts/`;
}

/**
 * The part number after the highest one of `shard` among `names` (a run's objects): where a new
 * attempt of that shard's write numbers its parts from.
 */
export function nextImagePart(names: readonly string[], shard: number): number {
  const pattern = new RegExp(`^before-s${shard}-(\\d+)\\.jsonl\\.gz$`);
  let next = 0;
  for (const name of names) {
    const part = pattern.exec(name)?.[1];
    if (part !== undefined) next = Math.max(next, Number(part) + 1);
  }
  return next;
}

/**
 * Writes one attempt's before-images of one shard, as new objects after those the run's earlier
 * attempts of the shard left (never over them); returns the objects written. Two attempts of a
 * night must not write at once (each holds a write lease: shared/nightly/write-lease.ts).
 */
export async function writeBeforeImages(
  s3: S3Client,
  config: Config,
  run: { runDate: string; runId: string; shard: number },
  images: readonly BeforeImage[],
): Promise<string[]> {
  if (images.length === 0) return [];
  const bucket = reportsBucket(config);
  const folder = `${attemptsPrefix(config, run.runDate)}${run.runId}/`;
  const first = nextImagePart((await listObjects(s3, bucket, folder)).map((object) => object.name), run.shard);
  const objects: string[] = [];
  for (let start = 0, part = first; start < images.length; start += PLAN_PART_ENTRIES, part++) {
    const lines = images.slice(start, start + PLAN_PART_ENTRIES).map((image) => JSON.stringify(image));
    objects.push(
      await writeObject(s3, {
        bucket,
        key: `${folder}before-s${run.shard}-${part}.jsonl.gz`,
        body: gzipSync(`${lines.join('\n')}\n`),
        contentType: 'application/gzip',
        tagging: 'retention=rejects',
      }),
    );
  }
  return objects;
}

/**
 * The before-images earlier attempts of the night wrote, for the clients `keep` selects (a
 * shard's). Every attempt wrote the same pre-night state for a client, so the first one read wins.
 */
export async function readBeforeImages(
  s3: S3Client,
  config: Config,
  runDate: string,
  options: { keep?: (customerId: string) => boolean; exceptRunId?: string } = {},
): Promise<Map<string, ProfileItem | null>> {
  const bucket = reportsBucket(config);
  const prefix = attemptsPrefix(config, runDate);
  const keep = options.keep ?? (() => true);
  const images = new Map<string, ProfileItem | null>();
  for (const attempt of await listAttempts(s3, config, runDate)) {
    if (attempt === options.exceptRunId) continue;
    for (const object of await listObjects(s3, bucket, `${prefix}${attempt}/`)) {
      const key = `${prefix}${attempt}/${object.name}`;
      const bytes = await readObjectBytes(s3, bucket, key);
      if (!bytes) continue;
      for (const image of imagesOf(bytes, `s3://${bucket}/${key}`)) {
        if (keep(image.customerId) && !images.has(image.customerId)) images.set(image.customerId, image.before);
      }
    }
  }
  return images;
}

/**
 * The images of one object, as writeBeforeImages wrote them: gzip whole, every line a JSON image.
 * Anything else (cut short, overwritten by something else) is a BeforeImageError naming the object:
 * without it the night cannot tell what its clients held before it, so it does not guess.
 */
export function imagesOf(bytes: Uint8Array, location: string): BeforeImage[] {
  const unreadable = (why: string, cause?: unknown) =>
    new BeforeImageError(
      `${location}: truncated or not ours (${why}). It holds what an earlier attempt of this night found before writing, and nothing else does: ` +
        'restore the profiles and tier-history tables to a moment before the night (point-in-time recovery), then run the night again.',
      cause === undefined ? undefined : { cause },
    );
  let text: string;
  try {
    text = gunzipSync(bytes).toString('utf8');
  } catch (error) {
    throw unreadable(`not whole gzip: ${error instanceof Error ? error.message : String(error)}`, error);
  }
  // writeBeforeImages writes no empty object and ends every line, the last one too.
  if (text === '') throw unreadable('it holds no image');
  if (!text.endsWith('\n')) throw unreadable('its last line is cut');
  const images: BeforeImage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length - 1; i++) {
    let image: unknown;
    try {
      image = JSON.parse(lines[i] as string);
    } catch (error) {
      throw unreadable(`line ${i + 1} is not JSON: ${error instanceof Error ? error.message : String(error)}`, error);
    }
    if (!isBeforeImage(image)) throw unreadable(`line ${i + 1} is not a before-image`);
    images.push(image);
  }
  return images;
}

/** Our own lines: checked to be images of the client they name, not their whole item's shape. */
function isBeforeImage(value: unknown): value is BeforeImage {
  if (typeof value !== 'object' || value === null) return false;
  const { customerId, before } = value as Partial<BeforeImage>;
  if (typeof customerId !== 'string' || customerId === '') return false;
  return before === null || (typeof before === 'object' && before.customerId === customerId);
}

/** The run ids of the night's earlier attempts that wrote a plan. */
async function listAttempts(s3: S3Client, config: Config, runDate: string): Promise<string[]> {
  return (await listFolders(s3, reportsBucket(config), attemptsPrefix(config, runDate))).sort();
}
