import { createHash } from 'node:crypto';
import { DeleteCommand, PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { normaliseEmail } from '#shared/email.ts';
import { isConditionFailure } from './conditions.ts';
import { paginate } from './paginate.ts';

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
}

type DocumentSender = Pick<DynamoDBDocumentClient, 'send'>;

const PREFIX = 'erased:';
// A fixed context string: the same value hashes the same in every brand's table, and a hash here
// cannot be mistaken for a hash made for another purpose.
const CONTEXT = 'clientele-erasure-v1:';

/** The key of an erased customer id or email address. */
export function erasedKey(kind: ErasedKind, value: string): string {
  const normalised = kind === 'email' ? normaliseEmail(value) : value.trim();
  return `${PREFIX}${kind}:${createHash('sha256').update(CONTEXT + normalised).digest('hex')}`;
}

/** Whether a client (by id, or by email when known) was erased. */
export function isErased(erasures: Erasures, customerId: string, email?: string): boolean {
  if (erasures.keys.size === 0) return false;
  return erasures.keys.has(erasedKey('customer', customerId)) || (email !== undefined && erasures.keys.has(erasedKey('email', email)));
}

export const NO_ERASURES: Erasures = { keys: new Set() };

/** Records the erasure of a customer id and each of its addresses; idempotent. Returns the keys written. */
export async function recordErasure(
  documents: DocumentSender,
  table: string,
  erased: { customerIds: readonly string[]; emails: readonly string[] },
  at: number,
): Promise<string[]> {
  const keys = [...new Set([...erased.customerIds.map((id) => erasedKey('customer', id)), ...erased.emails.map((email) => erasedKey('email', email))])];
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

/** Removes an address's own suppression entry (plain address): after an erasure only the hash remains. */
export async function deletePlainSuppression(documents: DocumentSender, table: string, email: string): Promise<void> {
  await documents.send(new DeleteCommand({ TableName: table, Key: { email: normaliseEmail(email) } }));
}

/** Every erasure (a scan of the suppression table reading only erased keys). */
export async function loadErasures(documents: DocumentSender, table: string): Promise<Erasures> {
  const keys = new Set<string>();
  const items = paginate((startKey) =>
    documents.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: 'begins_with(email, :prefix)',
        ExpressionAttributeValues: { ':prefix': PREFIX },
        ProjectionExpression: 'email',
        ExclusiveStartKey: startKey,
      }),
    ),
  );
  for await (const item of items) keys.add(String(item.email));
  return { keys };
}
