import type { S3Client } from '@aws-sdk/client-s3';
import { readObjectText, writeJsonObject } from '#shared/aws/s3-objects.ts';
import type { Config } from '#shared/config.ts';
import type { ProductRecord } from '#shared/model.ts';
import { isoDateSchema } from '#shared/time.ts';
import { emptyCategoryAffinity, type CategoryAffinity } from '#shared/segments/category-affinity.ts';
import { z } from 'zod';
import { EMPTY_CYCLE_HISTORY, type CycleHistory } from '#shared/tiering/cycle-history.ts';
import { catalogKey, categoryAffinityKey, cycleHistoryKey, reportsBucket } from './buckets.ts';

/**
 * The product catalogue: the products the last nightly run read, kept as one JSON object beside
 * the reports, so that the hourly sender and the digests know the replenishment cycles without
 * reading the export.
 */

/** Products by SKU, the last row of each SKU winning (like customers). */
export function catalogBySku(products: readonly ProductRecord[]): Map<string, ProductRecord> {
  return new Map(products.map((p) => [p.sku, p]));
}

/** Stores the night's products, the last row of each SKU winning. */
export async function writeCatalog(s3: S3Client, config: Config, products: readonly ProductRecord[]): Promise<void> {
  await writeJsonObject(s3, { bucket: reportsBucket(config), key: catalogKey(config) }, [...catalogBySku(products).values()]);
}

/** The stored catalogue by SKU; empty when no night has exported products. */
export async function readCatalog(s3: S3Client, config: Config): Promise<Map<string, ProductRecord>> {
  const text = await readObjectText(s3, reportsBucket(config), catalogKey(config));
  if (text === undefined) return new Map();
  // Our own object, written by writeCatalog.
  const products = JSON.parse(text || '[]') as ProductRecord[];
  return catalogBySku(products);
}

/** The catalogue the campaigns read after a night with `products`: them (the sender reads them from the night on), else the stored one. */
export async function nightCatalog(s3: S3Client, config: Config, products: readonly ProductRecord[]): Promise<Map<string, ProductRecord>> {
  return products.length > 0 ? catalogBySku(products) : readCatalog(s3, config);
}

/** A history's entries, one per night, oldest first: cyclesInForce reads them in that order. */
const nightsInOrder = <T extends z.ZodType>(value: T) =>
  z.array(z.tuple([isoDateSchema, value])).refine((entries) => entries.every((entry, i) => i === 0 || (entries[i - 1] as [string, unknown])[0] < entry[0]), 'nights must be in increasing date order');
const cycleHistorySchema = z.strictObject({
  skus: z.record(z.string(), nightsInOrder(z.number().positive().nullable())),
  answerDays: nightsInOrder(z.number().int().nonnegative()),
  stockUpDays: nightsInOrder(z.number().int().positive()).optional(),
});

/**
 * The stored cycle history (empty before the first night that wrote one: every stock-up is then
 * judged by tonight's catalogue). A damaged object fails the night with its key, rather than
 * re-judging every client's past against tonight's cycles.
 */
export async function readCycleHistory(s3: S3Client, config: Config): Promise<CycleHistory> {
  const bucket = reportsBucket(config);
  const key = cycleHistoryKey(config);
  const damaged = (problem: string) =>
    new Error(`The cycle history s3://${bucket}/${key} is damaged (${problem}): nights refuse until it is repaired. Put back a copy of it, or delete it: past stock-ups are then judged by tonight's catalogue and leads.`);
  const text = await readObjectText(s3, bucket, key);
  if (text === undefined) return EMPTY_CYCLE_HISTORY;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw damaged(`not JSON: ${(error as Error).message}`);
  }
  const result = cycleHistorySchema.safeParse(parsed);
  if (!result.success) throw damaged(result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).slice(0, 3).join('; '));
  return result.data;
}

export async function writeCycleHistory(s3: S3Client, config: Config, history: CycleHistory): Promise<void> {
  await writeJsonObject(s3, { bucket: reportsBucket(config), key: cycleHistoryKey(config) }, history);
}

/** Stores the night's category affinity (every shard's counts added up), for the sender's cross-category picks. */
export async function writeCategoryAffinity(s3: S3Client, config: Config, affinity: CategoryAffinity): Promise<void> {
  await writeJsonObject(s3, { bucket: reportsBucket(config), key: categoryAffinityKey(config) }, affinity);
}

/** The stored category affinity; empty before the first night that wrote one. */
export async function readCategoryAffinity(s3: S3Client, config: Config): Promise<CategoryAffinity> {
  const text = await readObjectText(s3, reportsBucket(config), categoryAffinityKey(config));
  // Our own object, written by writeCategoryAffinity.
  return text ? (JSON.parse(text) as CategoryAffinity) : emptyCategoryAffinity();
}
