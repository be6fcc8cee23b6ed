import { normaliseEmail } from '#shared/email.ts';
import { basenameOf, classifyExportFile } from '#shared/exports/classify.ts';
import type { ExportHandlers } from '#shared/exports/types.ts';
import type { ExportSource } from '#shared/exports/source.ts';
import type { CustomerRecord, OrderLine } from '#shared/model.ts';

/**
 * Shards of a nightly run: the clients split by a hash of their key, each shard aggregated and
 * written by the same code as a single run, so a base too big for one process (or one Lambda)
 * is spread over several. Every shard reads the whole export and keeps only its own clients:
 * parsing is repeated per shard, memory (the per-client facts) is divided.
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
 * The most shards a run may be split into. Every shard parses the whole export (twice in AWS, see
 * distributed.ts), so the parsing grows with the count while only memory is divided: split as far
 * as memory needs, no further. 100 shards of a 2 GB Lambda each is far past any brand's base.
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

/** FNV-1a (32-bit) over the key's UTF-16 code units: fast, stable across processes and versions. */
export function shardOf(key: string, count: number): number {
  if (count === 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % count;
}

/** The key scheme of an export: by email when its orders are Shopify's (lines without customer ids). */
export async function shardKeySchemeOf(source: ExportSource): Promise<ShardKeyScheme> {
  const objects = await source.list();
  const shopifyOrders = objects.some(({ key }) => {
    const file = classifyExportFile(basenameOf(key));
    return file?.kind === 'orders' && file.format === 'shopify';
  });
  return shopifyOrders ? 'email' : 'customer-id';
}

export function customerShardKey(record: CustomerRecord, scheme: ShardKeyScheme): string {
  return scheme === 'email' && record.email ? normaliseEmail(record.email) : record.customerId;
}

export function orderLineShardKey(line: OrderLine, scheme: ShardKeyScheme): string {
  if (scheme === 'email' && line.email) return normaliseEmail(line.email);
  if (line.customerId !== undefined) return line.customerId;
  // A line the reader let through names a client one way or the other; the aggregator says which.
  return line.email ? normaliseEmail(line.email) : '';
}

/** The handlers with customers and order lines of other shards left out (products and the advisors roster are shared). */
export function shardHandlers(handlers: ExportHandlers, shard: ShardSpec, scheme: ShardKeyScheme): ExportHandlers {
  if (shard.count === 1) return handlers;
  return {
    customer: (record, at) => {
      if (shardOf(customerShardKey(record, scheme), shard.count) === shard.index) handlers.customer(record, at);
    },
    order: (line, at) => {
      if (shardOf(orderLineShardKey(line, scheme), shard.count) === shard.index) handlers.order(line, at);
    },
    product: (record, at) => handlers.product(record, at),
    advisor: (record, at) => handlers.advisor?.(record, at),
  };
}
