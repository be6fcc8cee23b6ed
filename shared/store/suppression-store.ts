import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { normaliseEmail } from '#shared/email.ts';
import { batchGetAll, type BatchGetOptions } from './batch-reader.ts';

/**
 * The suppression list: addresses never to mail again, keyed by normalised email. Writes are
 * idempotent (a redelivered bounce or a second unsubscribe changes nothing), keep the first
 * suppression time, and a complaint is final: once an address complained its reason stays
 * 'complaint' whatever comes later, and a complaint overrides a weaker earlier reason.
 */

export const SUPPRESSION_REASONS = ['unsubscribe', 'hard-bounce', 'complaint'] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

export interface Suppression {
  email: string;
  reason: SuppressionReason;
  /** Epoch ms of the event; the clock of whoever saw it (the request, the SES event). */
  at: number;
  customerId?: string;
  /** Where it came from, e.g. 'one-click', 'confirmation-page', 'ses:<feedbackId>'. */
  source?: string;
}

/** The stored item. */
export interface SuppressionItem {
  email: string;
  /** The reason that counts: the first one, unless a complaint came later. */
  reason: SuppressionReason;
  /** Epoch ms of the first suppression. */
  suppressedAt: number;
  /** Every reason seen for this address, for the record. */
  reasons: Set<SuppressionReason>;
  /** Epoch ms of the first complaint, when there was one. */
  complainedAt?: number;
  customerId?: string;
  source?: string;
}

export interface SuppressResult {
  /** False when the address was already suppressed (for whatever reason). */
  created: boolean;
  item: SuppressionItem;
}

type DocumentSender = Pick<DynamoDBDocumentClient, 'send'>;

function requireEmail(email: string): string {
  const normalised = normaliseEmail(email);
  if (normalised.length === 0) throw new Error('Cannot look up or suppress an empty email address');
  return normalised;
}

export async function suppress(documents: DocumentSender, tableName: string, suppression: Suppression): Promise<SuppressResult> {
  const email = requireEmail(suppression.email);
  if (!SUPPRESSION_REASONS.includes(suppression.reason)) throw new Error(`Unknown suppression reason ${String(suppression.reason)}`);
  if (!Number.isFinite(suppression.at)) throw new Error('Suppression time must be epoch milliseconds');
  const complaint = suppression.reason === 'complaint';
  // One UpdateItem does it all atomically: if_not_exists keeps the first values; only a complaint
  // may set the reason over an existing one. ADD on a string set is a no-op when the reason is known.
  const sets = [
    complaint ? '#reason = :reason' : '#reason = if_not_exists(#reason, :reason)',
    'suppressedAt = if_not_exists(suppressedAt, :at)',
    ...(complaint ? ['complainedAt = if_not_exists(complainedAt, :at)'] : []),
    ...(suppression.customerId ? ['customerId = if_not_exists(customerId, :customerId)'] : []),
    ...(suppression.source ? ['#source = if_not_exists(#source, :source)'] : []),
  ];
  const output = await documents.send(
    new UpdateCommand({
      TableName: tableName,
      Key: { email },
      UpdateExpression: `SET ${sets.join(', ')} ADD reasons :reasons`,
      ExpressionAttributeNames: { '#reason': 'reason', ...(suppression.source ? { '#source': 'source' } : {}) },
      ExpressionAttributeValues: {
        ':reason': suppression.reason,
        ':at': suppression.at,
        ':reasons': new Set([suppression.reason]),
        ...(suppression.customerId ? { ':customerId': suppression.customerId } : {}),
        ...(suppression.source ? { ':source': suppression.source } : {}),
      },
      // ALL_OLD tells whether the item existed; the new item follows from it and the input.
      ReturnValues: 'ALL_OLD',
    }),
  );
  const old = output.Attributes as SuppressionItem | undefined;
  const item: SuppressionItem = {
    email,
    reason: complaint ? 'complaint' : (old?.reason ?? suppression.reason),
    suppressedAt: old?.suppressedAt ?? suppression.at,
    reasons: new Set([...(old?.reasons ?? []), suppression.reason]),
  };
  const complainedAt = old?.complainedAt ?? (complaint ? suppression.at : undefined);
  if (complainedAt !== undefined) item.complainedAt = complainedAt;
  const customerId = old?.customerId ?? suppression.customerId;
  if (customerId !== undefined) item.customerId = customerId;
  const source = old?.source ?? suppression.source;
  if (source !== undefined) item.source = source;
  return { created: old === undefined, item };
}

export async function getSuppression(
  documents: DocumentSender,
  tableName: string,
  email: string,
): Promise<SuppressionItem | undefined> {
  const output = await documents.send(
    new GetCommand({ TableName: tableName, Key: { email: requireEmail(email) }, ConsistentRead: true }),
  );
  return output.Item as SuppressionItem | undefined;
}

export async function isSuppressed(documents: DocumentSender, tableName: string, email: string): Promise<boolean> {
  const output = await documents.send(
    new GetCommand({
      TableName: tableName,
      Key: { email: requireEmail(email) },
      ProjectionExpression: 'email',
      ConsistentRead: true,
    }),
  );
  return output.Item !== undefined;
}

/** The suppressed addresses among `emails` (normalised), read with BatchGetItem. */
export async function loadSuppressed(
  documents: DocumentSender,
  tableName: string,
  emails: Iterable<string>,
  options: Pick<BatchGetOptions, 'maxAttempts' | 'baseDelayMs'> = {},
): Promise<Set<string>> {
  // BatchGetItem rejects a request that names the same key twice.
  const unique = [...new Set([...emails].map(normaliseEmail).filter((e) => e.length > 0))];
  const items = await batchGetAll<{ email: string }>(documents, tableName, unique.map((email) => ({ email })), { ...options, attributes: ['email'] });
  return new Set(items.map((item) => String(item.email)));
}
