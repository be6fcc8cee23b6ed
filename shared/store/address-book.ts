import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { readStoredJson, writeJsonObject } from '#shared/aws/s3-objects.ts';
import type { Config } from '#shared/config.ts';
import { normaliseEmail } from '#shared/email.ts';
import { fnv1a32 } from '#shared/text-hash.ts';
import { isoDateSchema } from '#shared/time.ts';
import { emailHash } from '#shared/tiering/identity.ts';
import { ClienteleError } from '#shared/errors.ts';
import { addressBookKey, reportsBucket } from './buckets.ts';
import { ERASURE_KEY_PREFIX, erasedKey } from './erasure-store.ts';
import type { RunKey } from './runs-store.ts';
import { tableNames } from './tables.ts';
import { acquireWriteLease, releaseWriteLease, renewWriteLease } from './write-leases.ts';

/**
 * The address book: a Shopify client's former addresses, each tied to her customer id. Shopify's
 * orders name the client by the address they were placed with; once she changes it, her customer row
 * has the new one and only this book (after the first night, whose base still holds the old address)
 * says her earlier orders are hers. Addresses are kept hashed: sha256 of the normalised address
 * (whose first 20 hex are the email identity of tiering/identity.ts) and its FNV-1a (the shard it
 * falls to, shards.ts), never in clear. Written only by a night that completes (finishNight) and by
 * forget, each holding the book's lease (editAddressBook): one S3 object rewritten whole, so two
 * writers at once would lose the first one's change.
 *
 * Each entry also keeps the address's erasure key (erasure-store.ts erasedKey, salted), made where
 * the night links it with the address in clear: forget cannot make it from the plain sha256, and
 * records it so that her former address signing up again stays out too.
 */

export interface FormerAddress {
  /** sha256 hex of the normalised address. */
  sha256: string;
  /** fnv1a32 of the normalised address: shardOf without the address. */
  fnv: number;
  customerId: string;
  /** The night (YYYY-MM-DD) that first linked it: by then she had left it, so an order under it placed after that night's cut-off is not hers. */
  seenOn: string;
  /** The address's erasure key, which forget records with her id. Absent in entries a night wrote before entries kept it, until a night links the address again. */
  erasureKey?: string;
  /**
   * The last night (YYYY-MM-DD) before whose cut-off every order under it is hers, when earlier than
   * seenOn: a link made while another customer already held the address (the last completed night,
   * which stored it as hers). Absent: seenOn (a link made while no customer row carried it, and
   * every entry of a book written before the field was).
   */
  hersBefore?: string;
}

/** The nights that bound her orders under a former address (FormerAddress.seenOn, hersBefore). */
export interface FormerTiming {
  hersBefore: string;
  seenOn: string;
}

export function timingOf(entry: Pick<FormerAddress, 'seenOn' | 'hersBefore'>): FormerTiming {
  return { hersBefore: entry.hersBefore ?? entry.seenOn, seenOn: entry.seenOn };
}

const entrySchema = z.object({
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  fnv: z.number().int().nonnegative(),
  customerId: z.string().min(1),
  seenOn: isoDateSchema,
  hersBefore: isoDateSchema.optional(),
  erasureKey: z.string().regex(new RegExp(`^${ERASURE_KEY_PREFIX}email:[0-9a-f]{64}$`)).optional(),
});
const bookSchema = z.object({ version: z.literal(1), entries: z.array(entrySchema) });

/** An address as the book keys it. */
export function addressKeyOf(email: string): Pick<FormerAddress, 'sha256' | 'fnv'> {
  return { sha256: emailHash(email), fnv: fnv1a32(normaliseEmail(email)) };
}

/** A night's link for the book (an entry but its night); `heldByAnother` when another customer holds the address now (former-addresses.ts). */
export type BookLink = Omit<FormerAddress, 'seenOn'> & { heldByAnother?: true };

/** A link made with the address in clear (a night's): its keys, and the erasure key forget records for it. */
export function formerLinkOf(email: string, customerId: string): Omit<FormerAddress, 'seenOn'> {
  return { ...addressKeyOf(email), customerId, erasureKey: erasedKey('email', email) };
}

/** The stored book cannot be read back (a hand edit, a bad restore): its links cannot be guessed. */
export class AddressBookDamagedError extends ClienteleError {
  override name = 'AddressBookDamagedError';
  constructor(object: string, problem: string) {
    super(
      'NIGHTLY_RUN_FAILED',
      `The address book ${object} is damaged (${problem}): nights refuse until it is repaired. Put back a copy of it (or fix its JSON by hand: ` +
        '{"version":1,"entries":[{"sha256","fnv","customerId","seenOn"}]}), then run the night again. Deleting it instead loses the links ' +
        "it kept: a client whose former address only the book tied to her has her orders under it read as nobody's.",
    );
  }
}

/** The stored book; empty before the first night that kept an address. A damaged one fails the night (AddressBookDamagedError). */
export async function readAddressBook(s3: S3Client, config: Config): Promise<FormerAddress[]> {
  const stored = await readStoredJson(s3, { bucket: reportsBucket(config), key: addressBookKey(config) }, bookSchema, (object, problem) => new AddressBookDamagedError(object, problem));
  return stored?.entries ?? [];
}

async function writeAddressBook(s3: S3Client, config: Config, entries: readonly FormerAddress[]): Promise<void> {
  await writeJsonObject(s3, { bucket: reportsBucket(config), key: addressBookKey(config) }, { version: 1, entries });
}

/** The book's lease in the runs table (write-leases.ts), under a job of its own. */
export const ADDRESS_BOOK_LEASE: RunKey = { job: 'address-book-lease', runDate: 'address-book' };

/** Another writer held the book's lease for longer than a writer waits: nothing was changed. */
export class AddressBookBusyError extends ClienteleError {
  override name = 'AddressBookBusyError';
  constructor(holder: string, expiresAt: number) {
    super(
      'STATE_BUSY',
      `The address book is being written by ${holder} (its lease ends at ${new Date(expiresAt).toISOString()}); this attempt changed nothing in it: run it again.`,
    );
  }
}

export interface AddressBookLeaseOptions {
  /** How long a lease lasts: a holder that dies frees the book after it. */
  leaseMs?: number;
  /** How long a writer waits for another's lease before it gives up (AddressBookBusyError). */
  waitMs?: number;
  /** Epoch ms. The real time, not a night's clock: the lease orders processes. */
  now?: () => number;
}

/**
 * Reads the book, edits it and writes it back, holding its lease meanwhile: a night's finish and a
 * forget at the same instant would each rewrite the whole object from what they read, and the
 * later write would drop the other's change (a client's new link, and with it her old orders the
 * next night; or an erased client's entry put back). `edit` returns the book to write, or undefined
 * when nothing changes. A writer waits for another's lease (held for a read and a write of one
 * object) up to `waitMs`, then fails having changed nothing.
 */
export async function editAddressBook(
  clients: { s3: S3Client; documents: Pick<DynamoDBDocumentClient, 'send'> },
  config: Config,
  edit: (book: FormerAddress[]) => Promise<FormerAddress[] | undefined> | FormerAddress[] | undefined,
  options: AddressBookLeaseOptions = {},
): Promise<void> {
  const { leaseMs = 60_000, waitMs = 2 * leaseMs, now = Date.now } = options;
  const table = tableNames(config).runs;
  const holder = `address-book/${randomUUID()}`;
  const giveUpAt = now() + waitMs;
  for (;;) {
    const outcome = await acquireWriteLease(clients.documents, table, ADDRESS_BOOK_LEASE, { holder, now: now(), durationMs: leaseMs });
    if ('acquired' in outcome) {
      let lease = outcome.acquired;
      try {
        const book = await readAddressBook(clients.s3, config);
        const next = await edit(book);
        if (next === undefined) return;
        // Still ours before the write: a lease that lapsed meanwhile (a stalled process) may be another's now.
        const renewed = await renewWriteLease(clients.documents, table, lease, { now: now(), durationMs: leaseMs });
        if (renewed === undefined) throw new AddressBookBusyError(holder, lease.expiresAt);
        lease = renewed;
        await writeAddressBook(clients.s3, config, next);
        return;
      } finally {
        await releaseWriteLease(clients.documents, table, lease);
      }
    }
    const held = outcome.heldBy;
    if (now() >= giveUpAt) throw new AddressBookBusyError(held?.holder ?? 'another writer', held?.expiresAt ?? now());
    await sleep(Math.min(250, Math.max(1, giveUpAt - now())));
  }
}

/**
 * The book as night `runDate` reads it: without the entries that night, or a later one, made. Nights
 * run in order, so those come from an earlier attempt of this night (a rerun on a corrected export
 * replaces it, and a rerun after a crash makes the same links again), or from a later night that is
 * being redone after a restore: neither is knowledge from before tonight. Pure.
 */
export function bookBefore(book: readonly FormerAddress[], runDate: string): FormerAddress[] {
  return book.filter((entry) => entry.seenOn < runDate);
}

/**
 * The book with tonight's links in place of those an earlier attempt of the night made (bookBefore):
 * an entry of an earlier night is kept with its nights (the first night that saw it), one of tonight's
 * links is added with tonight's. Sorted. Pure.
 */
export function withLinks(book: readonly FormerAddress[], links: readonly BookLink[], runDate: string): FormerAddress[] {
  const byKey = new Map(bookBefore(book, runDate).map((entry) => [`${entry.sha256}#${entry.customerId}`, entry]));
  for (const { heldByAnother, ...link } of links) {
    const key = `${link.sha256}#${link.customerId}`;
    const entry = byKey.get(key);
    if (entry === undefined) byKey.set(key, { ...link, seenOn: runDate });
    // Another customer holds the address now: forgetting her must not erase him, so the entry keeps no erasure key.
    else if (heldByAnother === true && entry.erasureKey !== undefined) {
      const { erasureKey: _dropped, ...kept } = entry;
      byKey.set(key, kept);
    }
    // An entry from before entries kept the erasure key gets it from the first night that links its address again.
    else if (entry.erasureKey === undefined && link.erasureKey !== undefined) byKey.set(key, { ...entry, erasureKey: link.erasureKey });
  }
  return [...byKey.values()].sort((a, b) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0));
}

/** Whether two books (each sorted, as withLinks returns it) hold the same entries, every field alike. Pure. */
export function sameBook(a: readonly FormerAddress[], b: readonly FormerAddress[]): boolean {
  const fields = (e: FormerAddress) => [e.sha256, e.fnv, e.customerId, e.seenOn, e.hersBefore ?? '', e.erasureKey ?? ''].join(' ');
  return a.length === b.length && a.every((entry, i) => b[i] !== undefined && fields(entry) === fields(b[i]));
}

/** The book without these clients' entries, by id or by address (forget). Pure. */
export function withoutClients(book: readonly FormerAddress[], customerIds: ReadonlySet<string>, emails: readonly string[]): FormerAddress[] {
  const addresses = new Set(emails.map((email) => addressKeyOf(email).sha256));
  return book.filter((entry) => !customerIds.has(entry.customerId) && !addresses.has(entry.sha256));
}

/**
 * Forget: the book without these clients' entries (by id, or by one of their addresses); written
 * only when it changes. `beforeRemoving` gets the entries that go before the book is written (forget
 * records their erasure keys: a request that stops between still has them). Returns those entries.
 */
export async function forgetFormerAddresses(
  clients: { s3: S3Client; documents: Pick<DynamoDBDocumentClient, 'send'> },
  config: Config,
  customerIds: readonly string[],
  emails: readonly string[],
  options?: AddressBookLeaseOptions & { beforeRemoving?: (removed: readonly FormerAddress[]) => Promise<void> },
): Promise<FormerAddress[]> {
  let removed: FormerAddress[] = [];
  await editAddressBook(
    clients,
    config,
    async (book) => {
      const kept = withoutClients(book, new Set(customerIds), emails);
      removed = book.filter((entry) => !kept.includes(entry));
      if (removed.length === 0) return undefined;
      await options?.beforeRemoving?.(removed);
      return kept;
    },
    options,
  );
  return removed;
}
