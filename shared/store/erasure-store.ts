import { createHash, randomUUID } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { normaliseEmail } from '#shared/email.ts';
import { batchGetAll } from './batch-reader.ts';
import { isConditionFailure } from './conditions.ts';
import { paginate } from './paginate.ts';
import {
  CUSTOMER_KEY_PREFIX,
  customerSuppressionKey,
  FEEDBACK_WRITES,
  FEEDBACK_WRITES_BEFORE,
  feedbackIdClauses,
  feedbackWritesOf,
  sendRecordingFeedbackId,
  updateExpression,
  type FeedbackIdWrite,
  type SuppressionItem,
} from './suppression-store.ts';

/**
 * The erasure list (right to erasure: GDPR, China's PIPL): who asked to be forgotten, kept only
 * as hashes, so that a later export cannot bring the person back into the base or into campaigns
 * without the list itself holding their id or address. Its entries live in the suppression table
 * (keyed 'erased:<kind>:<sha256>', never a plain address), beside the unsubscribes and bounces.
 */

export type ErasedKind = 'customer' | 'email';

export interface Erasures {
  /** The hashed keys of every erasure: test a client with isErased. */
  keys: ReadonlySet<string>;
  /** When each key was first recorded (epoch ms; absent in lists built without times): test a client with erasedSince. */
  recordedAt?: ReadonlyMap<string, number>;
}

type DocumentSender = Pick<DynamoDBDocumentClient, 'send'>;

/** What every erasure entry's key begins with (the deployed roles that update them are held to it). */
export const ERASURE_KEY_PREFIX = 'erased:';
// A fixed context string: the same value hashes the same in every brand's table, and a hash here
// cannot be mistaken for a hash made for another purpose.
const CONTEXT = 'clientele-erasure-v1:';

/** The key of an erased customer id or email address. */
export function erasedKey(kind: ErasedKind, value: string): string {
  const normalised = kind === 'email' ? normaliseEmail(value) : value.trim();
  return `${ERASURE_KEY_PREFIX}${kind}:${createHash('sha256').update(CONTEXT + normalised).digest('hex')}`;
}

/** The keys a client is erased under: their id, and their address when they have one. */
function erasureKeysOf(who: { customerId?: string | undefined; email?: string | undefined }): string[] {
  return [
    ...(who.customerId === undefined ? [] : [erasedKey('customer', who.customerId)]),
    ...(who.email === undefined || normaliseEmail(who.email) === '' ? [] : [erasedKey('email', who.email)]),
  ];
}

/** The client a write is about, who must not be on the erasure list (a ledger claim's ClaimRequest.unlessErased). */
export interface ErasureGuard {
  /** The suppression table, where the erasure entries live. */
  table: string;
  who: { customerId: string; email?: string | undefined };
}

/** Whether a client (by id, or by email when known) was erased. */
export function isErased(erasures: Erasures, customerId: string, email?: string): boolean {
  if (erasures.keys.size === 0) return false;
  return erasureKeysOf({ customerId, email }).some((key) => erasures.keys.has(key));
}

/** Whether a client (by id, or by email when known) was erased at or after `since` (epoch ms): by any of their keys recorded since. */
export function erasedSince(erasures: Erasures, since: number, customerId: string, email?: string): boolean {
  return erasureKeysOf({ customerId, email }).some((key) => (erasures.recordedAt?.get(key) ?? -Infinity) >= since);
}

export const NO_ERASURES: Erasures = { keys: new Set() };

/**
 * Records the erasure of a customer id and each of its addresses, and of `keys` already made (an
 * address the caller holds only as its erasure key: the address book's); idempotent. Returns the keys written.
 */
export async function recordErasure(
  documents: DocumentSender,
  table: string,
  erased: { customerIds: readonly string[]; emails: readonly string[]; keys?: readonly string[] },
  at: number,
): Promise<string[]> {
  const keys = [
    ...new Set([...erased.customerIds.map((id) => erasedKey('customer', id)), ...erased.emails.map((email) => erasedKey('email', email)), ...(erased.keys ?? [])]),
  ];
  for (const key of keys) {
    await documents.send(
      new PutCommand({
        TableName: table,
        Item: { email: key, reason: 'erased', suppressedAt: at },
        // The first erasure's time is kept: a repeated request changes nothing.
        ConditionExpression: 'attribute_not_exists(email)',
      }),
    ).catch((error: unknown) => {
      if (!isConditionFailure(error)) throw error;
    });
  }
  return keys;
}

/**
 * Before a plain entry goes (an address's, or a client's own): the SES feedback ids it recorded
 * move to the erasure entry that replaces it, so a bounce or complaint SNS delivers again after the
 * forget is still told apart from a new one (shared/feedback/ses-events.ts). The entry's source
 * too, for an entry stored before entries kept ids (its first feedback's). Idempotent.
 */
export async function keepFeedbackIdsOnErasure(documents: DocumentSender, table: string, plainKey: string, erasure: string): Promise<void> {
  const output = await documents.send(
    new GetCommand({
      TableName: table,
      Key: { email: plainKey },
      ConsistentRead: true,
      ProjectionExpression: `feedbackIds, feedbackIdsBefore, ${FEEDBACK_WRITES}, ${FEEDBACK_WRITES_BEFORE}, #source, customerId`,
      ExpressionAttributeNames: { '#source': 'source' },
    }),
  );
  const entry = output.Item as Partial<SuppressionItem> | undefined;
  // Each id under the delivery that first wrote it, when the entry says: Lambda running that invocation again after the forget finds its own write.
  const writes = feedbackWritesOf(output.Item);
  const ids = new Set([...(entry?.feedbackIdsBefore ?? []), ...(entry?.source?.startsWith(SES_FEEDBACK_SOURCE) ? [entry.source] : []), ...(entry?.feedbackIds ?? [])]);
  // The client the entry names too: a feedback is looked up by its recipient and its client (an address erased with its client by id only has no entry of its own).
  const erasures = [...new Set([erasure, ...(entry?.customerId === undefined ? [] : [erasedKey('customer', entry.customerId)])])];
  for (const id of ids) await noteFeedbackOnErasures(documents, table, erasures, id, writes.get(id));
}

/** What an entry's source begins with when SES feedback wrote it ('ses-bounce:<id>', 'ses-complaint:<id>'). */
const SES_FEEDBACK_SOURCE = 'ses-';

/** Removes an address's own suppression entry (plain address): after an erasure only the hash remains. Whether there was one. */
export async function deletePlainSuppression(documents: DocumentSender, table: string, email: string): Promise<boolean> {
  const output = await documents.send(new DeleteCommand({ TableName: table, Key: { email: normaliseEmail(email) }, ReturnValues: 'ALL_OLD' }));
  return output.Attributes !== undefined;
}

/** Removes a client's own no kept against their id (suppression-store.ts suppressClient): after an erasure only the id's hash remains. Whether there was one. */
export async function deleteClientSuppression(documents: DocumentSender, table: string, customerId: string): Promise<boolean> {
  const output = await documents.send(new DeleteCommand({ TableName: table, Key: { email: customerSuppressionKey(customerId) }, ReturnValues: 'ALL_OLD' }));
  return output.Attributes !== undefined;
}

/** Every erasure and when it was recorded (a scan of the suppression table reading only erased keys). */
export async function loadErasures(documents: DocumentSender, table: string): Promise<Erasures> {
  const keys = new Set<string>();
  const recordedAt = new Map<string, number>();
  const items = paginate((startKey) =>
    documents.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: 'begins_with(email, :prefix)',
        ExpressionAttributeValues: { ':prefix': ERASURE_KEY_PREFIX },
        ProjectionExpression: 'email, suppressedAt',
        ExclusiveStartKey: startKey,
      }),
    ),
  );
  for await (const item of items) {
    keys.add(String(item.email));
    if (typeof item.suppressedAt === 'number') recordedAt.set(String(item.email), item.suppressedAt);
  }
  return { keys, recordedAt };
}

/**
 * The ids among `candidates` whose id or address is on the erasure list: a BatchGetItem of their
 * keys, for a caller holding a few clients (the hour's due clients) rather than the whole list.
 */
export async function erasedAmong(
  documents: DocumentSender,
  table: string,
  candidates: readonly { customerId: string; email?: string | undefined }[],
): Promise<Set<string>> {
  const idsOfKey = new Map<string, string[]>();
  for (const candidate of candidates) {
    for (const key of erasureKeysOf(candidate)) idsOfKey.set(key, [...(idsOfKey.get(key) ?? []), candidate.customerId]);
  }
  const found = await storedErasureKeys(documents, table, [...idsOfKey.keys()]);
  return new Set(found.flatMap((key) => idsOfKey.get(key) ?? []));
}

/** Whether an address, or a customer id, is on the erasure list (stored, not a loaded list: for one event or one write; a consistent read). */
export async function isStoredErasure(documents: DocumentSender, table: string, who: { customerId?: string | undefined; email?: string | undefined }): Promise<boolean> {
  return (await storedErasureKeysOf(documents, table, who)).length > 0;
}

/** The erasure entries stored for an address or a customer id (none: not erased). */
export async function storedErasureKeysOf(documents: DocumentSender, table: string, who: { customerId?: string | undefined; email?: string | undefined }): Promise<string[]> {
  return storedErasureKeys(documents, table, erasureKeysOf(who));
}

/**
 * Records an SES feedback's id on erasure entries (an erased recipient's bounce or complaint: nothing
 * is stored in clear, so the hashed entries keep the id, as an address's entry does, and SNS's
 * redelivery of it is told apart). Whether one of them had recorded it already, under another
 * delivery than `attempt` (suppression-store.ts Suppression.attempt: one recorded by this very
 * delivery is its own write, retried). An entry no longer there is left absent (never created here).
 */
export async function noteFeedbackOnErasures(documents: DocumentSender, table: string, keys: readonly string[], feedbackId: string, attempt: string = randomUUID()): Promise<boolean> {
  let seen = false;
  for (const key of keys) {
    const update = (write: FeedbackIdWrite) => {
      const clauses = feedbackIdClauses(write, feedbackId, attempt);
      return new UpdateCommand({
        TableName: table,
        Key: { email: key },
        UpdateExpression: updateExpression(clauses.set, clauses.add),
        ConditionExpression: `attribute_exists(email) AND (${clauses.condition})`,
        ExpressionAttributeValues: clauses.values,
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
    };
    const result = await sendRecordingFeedbackId((write) => documents.send(update(write)), feedbackId, attempt);
    if (result.kind === 'seen') seen = true;
  }
  return seen;
}

/** The erasure keys among `keys` the table holds (BatchGetItem: keys only). */
async function storedErasureKeys(documents: DocumentSender, table: string, keys: readonly string[]): Promise<string[]> {
  const found = await batchGetAll<{ email: string }>(documents, table, keys.map((email) => ({ email })), { attributes: ['email'] });
  return found.map((item) => String(item.email));
}

/**
 * Takes a client's id off an address's plain entry, which stays (forget, for an address another
 * client holds now: it still suppresses the address, and no longer names her). Whether it named them.
 */
export async function unlinkPlainSuppression(documents: DocumentSender, table: string, email: string, customerId: string): Promise<boolean> {
  try {
    await documents.send(
      new UpdateCommand({
        TableName: table,
        Key: { email: normaliseEmail(email) },
        UpdateExpression: 'REMOVE customerId',
        ConditionExpression: 'customerId = :id',
        ExpressionAttributeValues: { ':id': customerId },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** A plain suppression entry's address and the client it names. */
export interface PlainSuppressionLink {
  email: string;
  customerId: string;
}

/**
 * The plain suppression entries that name one of these clients (an unsubscribe or a bounce of any
 * of their addresses, the earlier ones included): a scan, as erasures are rare and no index keeps
 * customer ids. Returns their addresses with the client each names (not the clients' own entries,
 * which deleteClientSuppression finds by id).
 */
export async function plainSuppressionsOf(documents: DocumentSender, table: string, customerIds: readonly string[]): Promise<PlainSuppressionLink[]> {
  const links: PlainSuppressionLink[] = [];
  // A FilterExpression's IN takes at most 100 operands.
  for (let start = 0; start < customerIds.length; start += 100) {
    const ids = customerIds.slice(start, start + 100);
    const values = Object.fromEntries(ids.map((id, i) => [`:c${i}`, id]));
    const items = paginate((startKey) =>
      documents.send(
        new ScanCommand({
          TableName: table,
          FilterExpression: `customerId IN (${Object.keys(values).join(', ')}) AND NOT begins_with(email, :prefix) AND NOT begins_with(email, :customerPrefix)`,
          ExpressionAttributeValues: { ...values, ':prefix': ERASURE_KEY_PREFIX, ':customerPrefix': CUSTOMER_KEY_PREFIX },
          ProjectionExpression: 'email, customerId',
          ExclusiveStartKey: startKey,
        }),
      ),
    );
    for await (const item of items) links.push({ email: String(item.email), customerId: String(item.customerId) });
  }
  return links;
}
