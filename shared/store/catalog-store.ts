import type { S3Client } from '@aws-sdk/client-s3';
import { readStoredJson, StoredObjectDamagedError, writeJsonObject } from '#shared/aws/s3-objects.ts';
import type { Config } from '#shared/config.ts';
import type { ProductRecord } from '#shared/model.ts';
import { addDays, isoDateSchema } from '#shared/time.ts';
import { emptyCategoryAffinity, type CategoryAffinity } from '#shared/segments/category-affinity.ts';
import { z } from 'zod';
import { EMPTY_CYCLE_HISTORY, historyFromCatalogue, type CycleHistory } from '#shared/tiering/cycle-history.ts';
import { catalogBeforeKey, catalogKey, categoryAffinityKey, cycleHistoryKey, reportsBucket } from './buckets.ts';

/**
 * The product catalogue: the products the last nightly run read, kept as one JSON object beside
 * the reports, so that the hourly sender and the digests know the replenishment cycles without
 * reading the export.
 */

/** Products by SKU, the last row of each SKU winning (like customers). */
export function catalogBySku(products: readonly ProductRecord[]): Map<string, ProductRecord> {
  return new Map(products.map((p) => [p.sku, p]));
}

/** The catalogue before the night of `runDate` stored its products (writeCatalog). */
interface CatalogBefore {
  runDate: string;
  products: ProductRecord[];
}

/**
 * Stores the night of `runDate`'s products, the last row of each SKU winning. The catalogue they
 * replace is kept first (catalogBeforeKey), once per night: a rerun of the night on an export
 * whose bad products file was taken out puts it back (nightCatalog, keepCatalogOfNight) and
 * leaves no trace of the bad one. Written before the catalogue: a night that dies between the two
 * writes has replaced nothing yet.
 */
export async function writeCatalog(s3: S3Client, config: Config, products: readonly ProductRecord[], runDate: string): Promise<void> {
  const bucket = reportsBucket(config);
  if ((await readCatalogBefore(s3, config))?.runDate !== runDate) {
    await writeJsonObject(s3, { bucket, key: catalogBeforeKey(config) }, { runDate, products: [...(await readCatalog(s3, config)).values()] } satisfies CatalogBefore);
  }
  await writeJsonObject(s3, { bucket, key: catalogKey(config) }, [...catalogBySku(products).values()]);
}

const productRecordSchema = z.looseObject({
  sku: z.string(),
  name: z.string().optional(),
  category: z.string().optional(),
  replenishDays: z.number().optional(),
  season: z.string().optional(),
  url: z.string().optional(),
  imageUrl: z.string().optional(),
  priceMinor: z.number().int().optional(),
  currency: z.string().optional(),
});
const catalogueSchema = z.array(productRecordSchema);
const catalogueBeforeSchema = z.looseObject({ runDate: isoDateSchema, products: catalogueSchema });

/** The stored catalogue by SKU; empty when no night has exported products. */
export async function readCatalog(s3: S3Client, config: Config): Promise<Map<string, ProductRecord>> {
  const products = await readStoredJson(s3, { bucket: reportsBucket(config), key: catalogKey(config) }, catalogueSchema, (object, problem) =>
    new StoredObjectDamagedError('product catalogue', object, problem, 'the nights, the campaign hours and the digests refuse until it is repaired. Put back a copy of it, or delete it: the next night with a products export stores it again (until then there is no catalogue: no cycle or product block from it).'),
  );
  return catalogBySku(products ?? []);
}

function readCatalogBefore(s3: S3Client, config: Config): Promise<CatalogBefore | undefined> {
  return readStoredJson(s3, { bucket: reportsBucket(config), key: catalogBeforeKey(config) }, catalogueBeforeSchema, (object, problem) =>
    new StoredObjectDamagedError('catalogue before-image', object, problem, 'nights that store products refuse until it is repaired. Put back a copy of it, or delete it: a corrected rerun of the night it names can then not put back the catalogue from before that night.'),
  );
}

/**
 * The catalogue the campaigns read after the night of `runDate` with `products`: them (the sender
 * reads them from the night on); without them, the one the night keeps: the stored one, unless an
 * earlier attempt of this night replaced it (then the one before that attempt, as a clean run of
 * the night would keep).
 */
export async function nightCatalog(s3: S3Client, config: Config, products: readonly ProductRecord[], runDate: string): Promise<Map<string, ProductRecord>> {
  if (products.length > 0) return catalogBySku(products);
  const before = await readCatalogBefore(s3, config);
  return before?.runDate === runDate ? catalogBySku(before.products) : readCatalog(s3, config);
}

/** Stores the night's catalogue: its products, else puts back the one an earlier attempt of the night replaced (nightCatalog). */
export async function keepCatalogOfNight(s3: S3Client, config: Config, products: readonly ProductRecord[], runDate: string): Promise<void> {
  if (products.length > 0) return writeCatalog(s3, config, products, runDate);
  const before = await readCatalogBefore(s3, config);
  if (before?.runDate === runDate) await writeJsonObject(s3, { bucket: reportsBucket(config), key: catalogKey(config) }, before.products);
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
  const stored = await readStoredJson(s3, { bucket: reportsBucket(config), key: cycleHistoryKey(config) }, cycleHistorySchema, (object, problem) =>
    new StoredObjectDamagedError('cycle history', object, problem, 'nights refuse until it is repaired. Put back a copy of it, or delete it: past stock-ups are then judged by the catalogue stored before tonight, and tonight\'s leads.'),
  );
  return stored ?? EMPTY_CYCLE_HISTORY;
}

/**
 * The cycle history the night of `runDate` judges by: the stored one; none stored yet but a
 * catalogue was (the first night of a version that keeps the history, upgraded from one before),
 * one begun the day before from the catalogue in force before tonight (historyFromCatalogue), the
 * same in every shard and in the finish. The catalogue is read before its before-image: shard 0
 * writes the image first, so either the image is tonight's (the catalogue before tonight's
 * products) or the catalogue read was not yet replaced.
 */
export async function readCycleHistoryOfNight(s3: S3Client, config: Config, runDate: string): Promise<CycleHistory> {
  const history = await readCycleHistory(s3, config);
  if (history !== EMPTY_CYCLE_HISTORY) return history;
  const stored = await readCatalog(s3, config);
  const before = await readCatalogBefore(s3, config);
  const catalogue = before?.runDate === runDate ? catalogBySku(before.products) : stored;
  return catalogue.size === 0 ? history : historyFromCatalogue(catalogue, addDays(runDate, -1));
}

export async function writeCycleHistory(s3: S3Client, config: Config, history: CycleHistory): Promise<void> {
  await writeJsonObject(s3, { bucket: reportsBucket(config), key: cycleHistoryKey(config) }, history);
}

/** Stores the night's category affinity (every shard's counts added up), for the sender's cross-category picks. */
export async function writeCategoryAffinity(s3: S3Client, config: Config, affinity: CategoryAffinity): Promise<void> {
  await writeJsonObject(s3, { bucket: reportsBucket(config), key: categoryAffinityKey(config) }, affinity);
}

const categoryAffinitySchema = z.looseObject({
  buyers: z.record(z.string(), z.number()),
  alsoBought: z.record(z.string(), z.record(z.string(), z.number())),
});

/** The stored category affinity; empty before the first night that wrote one. */
export async function readCategoryAffinity(s3: S3Client, config: Config): Promise<CategoryAffinity> {
  const stored = await readStoredJson(s3, { bucket: reportsBucket(config), key: categoryAffinityKey(config) }, categoryAffinitySchema, (object, problem) =>
    new StoredObjectDamagedError('category affinity', object, problem, 'the campaign hours refuse until it is repaired. Delete it (the next night writes it again; until then a cross-category suggestion takes the brand\'s most bought categories) or put back a copy of it.'),
  );
  return stored ?? emptyCategoryAffinity();
}
