import { normaliseEmail } from '#shared/email.ts';
import type { ExportFileClass } from '#shared/exports/classify.ts';
import type { CustomerRecord, OrderLine } from '#shared/model.ts';
import { fnv1a32 } from '#shared/text-hash.ts';

/**
 * Shards of a nightly run: the clients split by a hash of their key, each shard aggregated and
 * written by the same code as a single run, so a base too big for one process (or one Lambda)
 * is spread over several. The reading is divided too (shares.ts): reader r of R (N, or more when
 * N cannot share the files evenly) reads its share of the export's files and routes every
 * accepted record to the bucket of its client's shard;
 * shard b then reads bucket b, its own clients' records.
 *
 * The key must be known from every row on its own:
 *  - generic exports name the client by customer_id on each order line: the key is the id;
 *  - Shopify's order lines name the client by email only: the key is the normalised email of
 *    the customer record (its id when it has none), so a customer and their email-only lines
 *    meet in the same shard, where the aggregator links them as a single run does.
 */

export interface ShardSpec {
  /** 0-based. */
  index: number;
  count: number;
}

export const SINGLE_SHARD: ShardSpec = { index: 0, count: 1 };

/**
 * The most shards a run may be split into. Files are read whole, by one reader each, so past the
 * export's file count more shards divide memory but no longer the reading; and every shard
 * reads every reader's figures. 100 shards of a 2 GB Lambda each is far past any brand's base.
 */
export const MAX_SHARDS = 100;

/** Every shard of a run split into `count`. */
export function shardsOf(count: number): ShardSpec[] {
  return Array.from({ length: count }, (_, index) => ({ index, count }));
}

export type ShardKeyScheme = 'customer-id' | 'email';

export function isValidShard(shard: ShardSpec): boolean {
  return Number.isInteger(shard.count) && shard.count >= 1 && Number.isInteger(shard.index) && shard.index >= 0 && shard.index < shard.count;
}

/** The key's FNV-1a hash, modulo the count: stable across processes and versions. */
export function shardOf(key: string, count: number): number {
  if (count === 1) return 0;
  return fnv1a32(key) % count;
}

/** The key scheme of an export: by email when its orders are Shopify's (lines without customer ids). */
export function shardKeySchemeOf(files: readonly Pick<ExportFileClass, 'kind' | 'format'>[]): ShardKeyScheme {
  return files.some((file) => file.kind === 'orders' && file.format === 'shopify') ? 'email' : 'customer-id';
}

export function customerShardKey(record: Pick<CustomerRecord, 'customerId' | 'email'>, scheme: ShardKeyScheme): string {
  return scheme === 'email' && record.email ? normaliseEmail(record.email) : record.customerId;
}

/**
 * A customer row of an email-keyed export without a usable email (empty, or dropped as invalid):
 * its id decides its shard, so another row of the same customer that has an email may lie in
 * another shard (split-customers.ts). Point-of-sale customers, mostly.
 */
export function isKeyedByIdInEmailExport(record: Pick<CustomerRecord, 'email'>, scheme: ShardKeyScheme): boolean {
  return scheme === 'email' && !record.email;
}

export function orderLineShardKey(line: OrderLine, scheme: ShardKeyScheme): string {
  if (scheme === 'email' && line.email) return normaliseEmail(line.email);
  if (line.customerId !== undefined) return line.customerId;
  // A line the reader let through names a client one way or the other; the aggregator says which.
  return line.email ? normaliseEmail(line.email) : '';
}
