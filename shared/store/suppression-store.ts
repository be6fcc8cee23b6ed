import { randomUUID } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { normaliseEmail } from '#shared/email.ts';
import { batchGetAll, type BatchGetOptions } from './batch-reader.ts';
import { isConditionFailure } from './conditions.ts';

/**
 * The suppression list: addresses never to mail again, keyed by normalised email, and the clients
 * who said no themselves, keyed 'customer:<id>'. An unsubscribe or a complaint is the client's no,
 * not only their address's: the CRM may give them another address, so it is recorded against the
 * id as well (suppressClient), and every mailing path asks about both (suppressedAmong,
 * isClientSuppressed). A hard bounce is about the address alone: a new address may work. Writes
 * are idempotent (a redelivered bounce or a second unsubscribe changes nothing), keep the first
 * suppression time, and a complaint is final: once an address (or a client) complained its reason
 * stays 'complaint' whatever comes later, and a complaint overrides a weaker earlier reason.
 */

export const SUPPRESSION_REASONS = ['unsubscribe', 'hard-bounce', 'complaint'] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

/** The reasons that are the client's own no, kept against their customer id too. */
export const CLIENT_REFUSALS = ['unsubscribe', 'complaint'] as const satisfies readonly SuppressionReason[];
export type ClientRefusal = (typeof CLIENT_REFUSALS)[number];

/** Prefix of a client's own entry. Never an address (the export's rule allows no ':' in one), never an erasure ('erased:'). */
export const CUSTOMER_KEY_PREFIX = 'customer:';

/** The key of a client's own no (suppressClient). */
export function customerSuppressionKey(customerId: string): string {
  const id = customerId.trim();
  if (id.length === 0) throw new Error('Cannot look up or suppress an empty customer id');
  return `${CUSTOMER_KEY_PREFIX}${id}`;
}

export interface Suppression {
  email: string;
  reason: SuppressionReason;
  /** Epoch ms of the event; the clock of whoever saw it (the request, the SES event). */
  at: number;
  customerId?: string;
  /** Where it came from, e.g. 'one-click', 'confirmation-page', 'ses:<feedbackId>'. */
  source?: string;
  /** The feedback this is (an SES bounce's or complaint's own id): recorded on the entry, so its redelivery is told apart from another feedback. */
  feedbackId?: string;
  /**
   * With a feedbackId: this delivery of it (the same on every try of the same delivery, another for a
   * redelivery), so that a retry of a write that applied is not taken for a redelivery. A new one when absent.
   */
  attempt?: string;
}

/** The stored item. */
export interface SuppressionItem {
  /** The normalised address, or a client's own key (customerSuppressionKey). */
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
  /** The feedback ids recorded (Suppression.feedbackId), MAX_FEEDBACK_IDS at most; then they move to feedbackIdsBefore. */
  feedbackIds?: Set<string>;
  /** The generation of feedbackIds before the current one: with it, at least the last MAX_FEEDBACK_IDS ids are known. */
  feedbackIdsBefore?: Set<string>;
}

export interface SuppressResult {
  /** False when the address (or the client) was already suppressed (for whatever reason). */
  created: boolean;
  /** True when the entry already recorded this write's feedbackId: the same feedback delivered again. */
  feedbackSeen: boolean;
  item: SuppressionItem;
}

/**
 * How many feedback ids an entry's set holds: a suppressed address is not mailed again, so a few
 * cover the feedbacks of the emails in flight when it was suppressed. One past it moves the set to
 * feedbackIdsBefore (replacing the generation there) and starts it again with that id: the newest
 * MAX_FEEDBACK_IDS ids at least are always known, as redeliveries come within hours, of the newest.
 */
export const MAX_FEEDBACK_IDS = 10;

/** How an UpdateItem records a feedback id: added while the set has room, or a new generation when full. */
export type FeedbackIdWrite = 'add' | 'restart';

/**
 * The attribute recording, for each feedback id of an entry, the delivery attempt that first wrote it
 * (FeedbackIdWriteResult): a string set of [feedbackId, attempt] pairs (feedbackWriteOf). Per id, not
 * the entry's last writer: an invocation Lambda runs again after another delivery wrote its own
 * feedback to the same entry still finds its own write. A set rather than a map: ADD creates it on an
 * entry that has none (a new one, or one written before it was kept) in the same single UpdateItem,
 * where a map's element cannot be set before the map exists. Its generations follow feedbackIds'
 * (FEEDBACK_WRITES_BEFORE beside feedbackIdsBefore), so it is bounded as they are.
 */
export const FEEDBACK_WRITES = 'feedbackWrites';

/** FEEDBACK_WRITES of the generation before (feedbackIdsBefore's). */
export const FEEDBACK_WRITES_BEFORE = 'feedbackWritesBefore';

/**
 * Written by earlier versions instead of FEEDBACK_WRITES, no longer: the attempt that last recorded a
 * new feedback id on the entry. Read only for an id that has no pair (recorded before pairs were kept):
 * an attempt writes one feedback, so an entry naming it as the last writer recorded its id then.
 */
export const FEEDBACK_WRITE = 'feedbackWrite';

/**
 * On an address's or a client's entry: the attempt whose write created it, kept for good (a write
 * onto an existing entry leaves it as it is, or sets it to the entry's suppressedAt, never an attempt,
 * when it has none), so a retry that finds its own write knows whether the entry was new.
 */
export const FEEDBACK_WRITE_CREATED = 'feedbackWriteCreated';

/** One element of FEEDBACK_WRITES: a feedback id and the attempt that first wrote it (JSON: either may hold any character). */
export function feedbackWriteOf(feedbackId: string, attempt: string): string {
  return JSON.stringify([feedbackId, attempt]);
}

/** The pairs an entry keeps (FEEDBACK_WRITES of both generations), feedback id to the attempt that first wrote it. */
export function feedbackWritesOf(entry: Record<string, unknown> | undefined): Map<string, string> {
  const writes = new Map<string, string>();
  for (const attribute of [FEEDBACK_WRITES_BEFORE, FEEDBACK_WRITES]) {
    const pairs = entry?.[attribute];
    if (!(pairs instanceof Set)) continue;
    for (const pair of pairs) {
      const parsed = typeof pair === 'string' ? parsedPair(pair) : undefined;
      if (parsed !== undefined) writes.set(parsed[0], parsed[1]);
    }
  }
  return writes;
}

/** A FEEDBACK_WRITES element read back; undefined for one that is not a pair (never written so: nothing to fail an event over). */
function parsedPair(pair: string): [string, string] | undefined {
  try {
    const parsed: unknown = JSON.parse(pair);
    return Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && typeof parsed[1] === 'string' ? [parsed[0], parsed[1]] : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `attempt` is the delivery that first recorded `feedbackId` on `entry` (which records it). */
function recordedBy(entry: Record<string, unknown>, feedbackId: string, attempt: string): boolean {
  const first = feedbackWritesOf(entry).get(feedbackId);
  // No pair: recorded by an earlier version, which named only the entry's last writer.
  return first === undefined ? entry[FEEDBACK_WRITE] === attempt : first === attempt;
}

/**
 * The clauses of an UpdateItem that records `feedbackId` on an entry (of this table: an address's, a
 * client's, an erasure's), for the delivery attempt `attempt`. Its condition holds only while the entry
 * records the id nowhere: a redelivery writes nothing, and the SDK's retry of a write applied but whose
 * answer was lost is refused too, with the entry (ReturnValuesOnConditionCheckFailure) naming the attempt.
 */
export function feedbackIdClauses(write: FeedbackIdWrite, feedbackId: string, attempt: string): { set: string[]; add: string[]; condition: string; values: Record<string, unknown> } {
  const unrecorded = 'NOT contains(feedbackIds, :feedbackId) AND NOT contains(feedbackIdsBefore, :feedbackId)';
  const values = { ':feedbackIds': new Set([feedbackId]), ':feedbackId': feedbackId, ':feedbackWrites': new Set([feedbackWriteOf(feedbackId, attempt)]) };
  if (write === 'restart') {
    // Full: the ids and their writes move to the one generation before (replaced) and both start again. An entry
    // written before writes were kept has none to move: the new pair stands in (a set cannot be empty; it is the same pair).
    return {
      set: [
        'feedbackIdsBefore = feedbackIds',
        'feedbackIds = :feedbackIds',
        `${FEEDBACK_WRITES_BEFORE} = if_not_exists(${FEEDBACK_WRITES}, :feedbackWrites)`,
        `${FEEDBACK_WRITES} = :feedbackWrites`,
      ],
      add: [],
      condition: unrecorded,
      values,
    };
  }
  return {
    set: [],
    add: ['feedbackIds :feedbackIds', `${FEEDBACK_WRITES} :feedbackWrites`],
    condition: `(attribute_not_exists(feedbackIds) OR size(feedbackIds) < :maxFeedbackIds) AND ${unrecorded}`,
    values: { ...values, ':maxFeedbackIds': MAX_FEEDBACK_IDS },
  };
}

/** What became of an update that records a feedback id (sendRecordingFeedbackId). */
export type FeedbackIdWriteResult<T> =
  /** Written now: the entry did not record the id. */
  | { kind: 'written'; output: T }
  /**
   * Recorded already by this same attempt: its earlier write applied, its answer lost (the SDK sent it
   * again), or the invocation failed after it and Lambda runs it again. Not a redelivery: the entry as it stands.
   */
  | { kind: 'own'; entry: Record<string, unknown> }
  /** Recorded already by another delivery of the same feedback: a redelivery, nothing written. */
  | { kind: 'seen'; entry: Record<string, unknown> }
  /** The condition failed without an entry: one the update requires to exist is gone. */
  | { kind: 'absent' };

/** The entry a conditional write was refused on (ReturnValuesOnConditionCheckFailure ALL_OLD), unmarshalled; undefined when there is none. */
function refusedEntry(error: unknown): Record<string, unknown> | undefined {
  const item = (error as { Item?: Record<string, AttributeValue> }).Item;
  return item === undefined ? undefined : unmarshall(item);
}

/**
 * Sends an update that records a feedback id for the delivery attempt `attempt` (its UpdateItem sets
 * feedbackIdClauses and ReturnValuesOnConditionCheckFailure ALL_OLD): as an add, then, when the set is
 * full without it, as a new generation. An entry that records the id already is not written again.
 */
export async function sendRecordingFeedbackId<T>(send: (write: FeedbackIdWrite) => Promise<T>, feedbackId: string, attempt: string): Promise<FeedbackIdWriteResult<T>> {
  for (const write of ['add', 'restart'] as const) {
    try {
      return { kind: 'written', output: await send(write) };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const entry = refusedEntry(error);
      if (entry === undefined) return { kind: 'absent' };
      if (recordsFeedbackId(entry as Pick<SuppressionItem, 'feedbackIds' | 'feedbackIdsBefore'>, feedbackId)) return { kind: recordedBy(entry, feedbackId, attempt) ? 'own' : 'seen', entry };
      // Not recorded: the set was full ('add'); a new generation follows.
    }
  }
  throw new Error('A feedback id was refused as a new generation though its entry does not record it');
}

/** Whether an entry, as it was before a write, had recorded `feedbackId` (in either generation). */
export function recordsFeedbackId(entry: Pick<SuppressionItem, 'feedbackIds' | 'feedbackIdsBefore'> | undefined, feedbackId: string): boolean {
  return (entry?.feedbackIds?.has(feedbackId) ?? false) || (entry?.feedbackIdsBefore?.has(feedbackId) ?? false);
}

/** An UpdateExpression from its SET and ADD clauses (either may be empty). */
export function updateExpression(set: readonly string[], add: readonly string[]): string {
  return [...(set.length > 0 ? [`SET ${set.join(', ')}`] : []), ...(add.length > 0 ? [`ADD ${add.join(', ')}`] : [])].join(' ');
}

type DocumentSender = Pick<DynamoDBDocumentClient, 'send'>;

function requireEmail(email: string): string {
  const normalised = normaliseEmail(email);
  if (normalised.length === 0) throw new Error('Cannot look up or suppress an empty email address');
  return normalised;
}

/** Suppresses an address (an unsubscribe, a hard bounce, a complaint of whoever had it). */
export async function suppress(documents: DocumentSender, tableName: string, suppression: Suppression): Promise<SuppressResult> {
  return writeSuppression(documents, tableName, requireEmail(suppression.email), suppression);
}

/** A client's own no: their customer id, whatever address they have now or later. */
export interface ClientSuppression extends Omit<Suppression, 'email' | 'reason' | 'customerId'> {
  customerId: string;
  reason: ClientRefusal;
}

/** Records a client's unsubscribe or complaint against their customer id (beside their address's entry, which suppress writes). */
export async function suppressClient(documents: DocumentSender, tableName: string, suppression: ClientSuppression): Promise<SuppressResult> {
  if (!CLIENT_REFUSALS.includes(suppression.reason)) throw new Error(`A ${String(suppression.reason)} is about an address, not a client`);
  return writeSuppression(documents, tableName, customerSuppressionKey(suppression.customerId), suppression);
}

/** One UpdateItem on the entry `key` (an address, or a client's own key); two when its feedback ids are full. */
async function writeSuppression(documents: DocumentSender, tableName: string, key: string, suppression: Omit<Suppression, 'email'>): Promise<SuppressResult> {
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
  const { feedbackId } = suppression;
  const attempt = suppression.attempt ?? randomUUID();
  const update = (write: FeedbackIdWrite | undefined) => {
    const clauses = write === undefined || feedbackId === undefined ? undefined : feedbackIdClauses(write, feedbackId, attempt);
    // Names this attempt as the entry's creator, or not (the entry's suppressedAt then), unless one is named already: read when
    // its answer was lost, or when Lambda runs its invocation again, whatever other feedbacks were written to the entry since.
    const created = clauses === undefined ? [] : [`${FEEDBACK_WRITE_CREATED} = if_not_exists(${FEEDBACK_WRITE_CREATED}, if_not_exists(suppressedAt, :attempt))`];
    return new UpdateCommand({
      TableName: tableName,
      Key: { email: key },
      UpdateExpression: updateExpression([...sets, ...created, ...(clauses?.set ?? [])], ['reasons :reasons', ...(clauses?.add ?? [])]),
      ...(clauses === undefined ? {} : { ConditionExpression: clauses.condition, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const }),
      ExpressionAttributeNames: { '#reason': 'reason', ...(suppression.source ? { '#source': 'source' } : {}) },
      ExpressionAttributeValues: {
        ':reason': suppression.reason,
        ':at': suppression.at,
        ':reasons': new Set([suppression.reason]),
        ...(suppression.customerId ? { ':customerId': suppression.customerId } : {}),
        ...(suppression.source ? { ':source': suppression.source } : {}),
        ...(clauses === undefined ? {} : { ...clauses.values, ':attempt': attempt }),
      },
      // ALL_OLD tells whether the item existed; the new item follows from it and the input.
      ReturnValues: 'ALL_OLD',
    });
  };
  if (feedbackId === undefined) {
    const old = (await documents.send(update(undefined))).Attributes as SuppressionItem | undefined;
    return { created: old === undefined, feedbackSeen: false, item: entryAfter(key, old, suppression) };
  }
  const result = await sendRecordingFeedbackId((write) => documents.send(update(write)), feedbackId, attempt);
  switch (result.kind) {
    case 'written': {
      const old = result.output.Attributes as SuppressionItem | undefined;
      return { created: old === undefined, feedbackSeen: false, item: entryAfter(key, old, suppression) };
    }
    case 'own':
      // This attempt's write stands already (its answer was lost): what its answer said, from what the write recorded.
      return { created: result.entry[FEEDBACK_WRITE_CREATED] === attempt, feedbackSeen: false, item: entryAfter(key, result.entry as unknown as SuppressionItem, suppression) };
    case 'seen':
      return { created: false, feedbackSeen: true, item: entryAfter(key, result.entry as unknown as SuppressionItem, suppression) };
    case 'absent':
      // No condition here requires the entry: only a refusal without it would lead here.
      throw new Error(`A suppression write was refused without an entry (${suppression.reason})`);
  }
}

/** The entry once `suppression` is written over `old` (the entry before the write, or as it stands when it holds the write already). */
function entryAfter(key: string, old: SuppressionItem | undefined, suppression: Omit<Suppression, 'email'>): SuppressionItem {
  const complaint = suppression.reason === 'complaint';
  const item: SuppressionItem = {
    email: key,
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
  const { feedbackId } = suppression;
  const recorded = feedbackId !== undefined && recordsFeedbackId(old, feedbackId);
  const restarted = feedbackId !== undefined && !recorded && old?.feedbackIds !== undefined && old.feedbackIds.size >= MAX_FEEDBACK_IDS;
  const feedbackIds = feedbackId === undefined || recorded ? old?.feedbackIds : new Set([...(restarted ? [] : (old?.feedbackIds ?? [])), feedbackId]);
  if (feedbackIds !== undefined) item.feedbackIds = feedbackIds;
  const feedbackIdsBefore = restarted ? old?.feedbackIds : old?.feedbackIdsBefore;
  if (feedbackIdsBefore !== undefined) item.feedbackIdsBefore = feedbackIdsBefore;
  return item;
}

export async function getSuppression(
  documents: DocumentSender,
  tableName: string,
  email: string,
): Promise<SuppressionItem | undefined> {
  const output = await documents.send(
    new GetCommand({ TableName: tableName, Key: { email: requireEmail(email) }, ConsistentRead: true }),
  );
  return entryOf(output.Item);
}

/** A stored entry as a SuppressionItem: without the attempts that wrote its feedback ids (FEEDBACK_WRITES...), which only their retries read. */
function entryOf(stored: Record<string, unknown> | undefined): SuppressionItem | undefined {
  if (stored === undefined) return undefined;
  const { [FEEDBACK_WRITES]: _writes, [FEEDBACK_WRITES_BEFORE]: _writesBefore, [FEEDBACK_WRITE]: _write, [FEEDBACK_WRITE_CREATED]: _created, ...entry } = stored;
  return entry as unknown as SuppressionItem;
}

/** A client's own no (suppressClient), when they said it. */
export async function getClientSuppression(documents: DocumentSender, tableName: string, customerId: string): Promise<SuppressionItem | undefined> {
  const output = await documents.send(new GetCommand({ TableName: tableName, Key: { email: customerSuppressionKey(customerId) }, ConsistentRead: true }));
  return entryOf(output.Item);
}

/**
 * The ids among `clients` not to mail: their address is suppressed (for any reason), or they said
 * no themselves (suppressClient) under whatever address. BatchGetItem, consistent: a decision made
 * a moment ago counts.
 */
export async function suppressedAmong(
  documents: DocumentSender,
  tableName: string,
  clients: readonly { customerId: string; email?: string | undefined }[],
  options: Pick<BatchGetOptions, 'maxAttempts' | 'baseDelayMs'> = {},
): Promise<Set<string>> {
  // BatchGetItem rejects a request that names the same key twice: one key, every client it answers for.
  const idsOfKey = new Map<string, string[]>();
  const add = (key: string, customerId: string) => idsOfKey.set(key, [...(idsOfKey.get(key) ?? []), customerId]);
  for (const { customerId, email } of clients) {
    add(customerSuppressionKey(customerId), customerId);
    const address = normaliseEmail(email ?? '');
    if (address.length > 0) add(address, customerId);
  }
  const items = await batchGetAll<{ email: string }>(documents, tableName, [...idsOfKey.keys()].map((email) => ({ email })), { ...options, attributes: ['email'] });
  return new Set(items.flatMap((item) => idsOfKey.get(String(item.email)) ?? []));
}

/** Whether one client may not be mailed (suppressedAmong). */
export async function isClientSuppressed(documents: DocumentSender, tableName: string, client: { customerId: string; email?: string | undefined }): Promise<boolean> {
  return (await suppressedAmong(documents, tableName, [client])).size > 0;
}
