import type { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { readObjectText, writeJsonObject } from '#shared/aws/s3-objects.ts';
import type { Config } from '#shared/config.ts';
import { normaliseEmail } from '#shared/email.ts';
import { fnv1a32 } from '#shared/text-hash.ts';
import { emailHash } from '#shared/tiering/identity.ts';
import { addressBookKey, reportsBucket } from './buckets.ts';

/**
 * The address book: a Shopify client's former addresses, each tied to her customer id. Shopify's
 * orders name the client by the address they were placed with; once she changes it, her customer row
 * has the new one and only this book (after the first night, whose base still holds the old address)
 * says her earlier orders are hers. Addresses are kept hashed: sha256 of the normalised address
 * (whose first 20 hex are the email identity of tiering/identity.ts) and its FNV-1a (the shard it
 * falls to, shards.ts), never in clear. Written only by a night that completes (finishNight).
 */

export interface FormerAddress {
  /** sha256 hex of the normalised address. */
  sha256: string;
  /** fnv1a32 of the normalised address: shardOf without the address. */
  fnv: number;
  customerId: string;
  /** The night (YYYY-MM-DD) that first linked it. */
  seenOn: string;
}

const entrySchema = z.object({
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  fnv: z.number().int().nonnegative(),
  customerId: z.string().min(1),
  seenOn: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
});
const bookSchema = z.object({ version: z.literal(1), entries: z.array(entrySchema) });

/** An address as the book keys it. */
export function addressKeyOf(email: string): Pick<FormerAddress, 'sha256' | 'fnv'> {
  return { sha256: emailHash(email), fnv: fnv1a32(normaliseEmail(email)) };
}

/** The stored book; empty before the first night that kept an address. A damaged one fails the night (its links cannot be guessed). */
export async function readAddressBook(s3: S3Client, config: Config): Promise<FormerAddress[]> {
  const text = await readObjectText(s3, reportsBucket(config), addressBookKey(config));
  if (text === undefined) return [];
  return bookSchema.parse(JSON.parse(text)).entries;
}

export async function writeAddressBook(s3: S3Client, config: Config, entries: readonly FormerAddress[]): Promise<void> {
  await writeJsonObject(s3, { bucket: reportsBucket(config), key: addressBookKey(config) }, { version: 1, entries });
}

/** The book with tonight's links added (the first night that saw each kept), sorted. Pure. */
export function withLinks(book: readonly FormerAddress[], links: readonly Omit<FormerAddress, 'seenOn'>[], runDate: string): FormerAddress[] {
  const byKey = new Map(book.map((entry) => [`${entry.sha256}#${entry.customerId}`, entry]));
  for (const link of links) {
    const key = `${link.sha256}#${link.customerId}`;
    if (!byKey.has(key)) byKey.set(key, { ...link, seenOn: runDate });
  }
  return [...byKey.values()].sort((a, b) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0));
}

/** The book without these clients' entries, by id or by address (forget). Pure. */
export function withoutClients(book: readonly FormerAddress[], customerIds: ReadonlySet<string>, emails: readonly string[]): FormerAddress[] {
  const addresses = new Set(emails.map((email) => addressKeyOf(email).sha256));
  return book.filter((entry) => !customerIds.has(entry.customerId) && !addresses.has(entry.sha256));
}

/** Forget: the book without these clients' entries (by id, or by one of their addresses); written only when it changes. */
export async function forgetFormerAddresses(s3: S3Client, config: Config, customerIds: readonly string[], emails: readonly string[]): Promise<void> {
  const book = await readAddressBook(s3, config);
  const kept = withoutClients(book, new Set(customerIds), emails);
  if (kept.length !== book.length) await writeAddressBook(s3, config, kept);
}
