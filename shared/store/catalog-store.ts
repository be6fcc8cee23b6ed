import type { S3Client } from '@aws-sdk/client-s3';
import { readObjectText, writeJsonObject } from '#shared/aws/s3-objects.ts';
import type { Config } from '#shared/config.ts';
import type { ProductRecord } from '#shared/model.ts';
import { emptyCategoryAffinity, type CategoryAffinity } from '#shared/segments/category-affinity.ts';
import { catalogKey, categoryAffinityKey, reportsBucket } from './buckets.ts';

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
