import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchDeleteAll } from './batch-writer.ts';
import { isConditionFailure } from './conditions.ts';
import { isStoredErasure, type ErasureGuard } from './erasure-store.ts';
import type { LedgerView } from '#shared/campaigns/due-index.ts';
import { LEDGER_BY_HOUR_INDEX } from './tables.ts';
import { collectPages, paginate } from './paginate.ts';

/**
 * The send ledger: one item per (client, campaign occasion), so each occasion is mailed at most
 * once however often the hourly run is repeated or overlaps itself.
 *
 * The protocol, for the campaign sender:
 *  1. claimOccasion(...) before calling SES. Exactly one caller wins the conditional write; every
 *     other caller (a concurrent run, a rerun of the hour) gets 'already-claimed' and must not send.
 *  2. Send, then recordOutcome(...) with the same runId: 'sent' (with SES's message id), 'failed'
 *     (it cannot be sent), 'maybe-sent' (SES may have taken it: a timeout, a reset, a 5xx), or
 *     'deferred' when SES surely did not take the message (throttled, unreachable, sending paused)
 *     so that a later hour may claim it again.
 *  3. Decisions that need no SES call are written directly with recordDecision(...): final ones
 *     (held-out, suppressed, no-consent) block the occasion for good; waiting ones (capped,
 *     deferred) are re-evaluated by a later hour, which may claim over them.
 *  4. An occasion whose send window closed while it was waiting (or before any run decided it) is
 *     written 'expired' with the reason (recordExpiry): final, nothing is sent past a cut-off.
 *
 * A claim that is never resolved (a crash between claim and send) stays 'claimed': staleClaims()
 * reports it. It is never retried blindly, because SES may have sent it before the crash; nor is a
 * 'maybe-sent' entry.
 */

export const LEDGER_STATUSES = [
  'claimed',
  'sent',
  'failed',
  'maybe-sent',
  'held-out',
  'suppressed',
  'no-consent',
  'capped',
  'deferred',
  'expired',
  'advisor-handled',
  'already-mailed',
] as const;
export type LedgerStatus = (typeof LEDGER_STATUSES)[number];

/** Outcomes a later hour may re-evaluate: a claim may overwrite them. */
export const WAITING_STATUSES = ['deferred', 'capped'] as const satisfies readonly LedgerStatus[];
export type WaitingStatus = (typeof WAITING_STATUSES)[number];

/** Outcomes decided without calling SES, written in place of a claim. */
/** 'advisor-handled': the client's advisor took care of the occasion in person (shared/advisors/tasks.ts), so no email. */
/** 'already-mailed': an order-keyed occasion whose moment was mailed under another order key: a later order since refunded, or the same lapse's last order before its time moved (shared/sender/earlier-order.ts). */
export const FINAL_DECISIONS = ['held-out', 'suppressed', 'no-consent', 'advisor-handled', 'already-mailed'] as const satisfies readonly LedgerStatus[];
export type FinalDecision = (typeof FINAL_DECISIONS)[number];

/** The statuses a claim may write: 'claimed' (about to send), a decision that needs no SES call, or 'expired'. */
export type ClaimStatus = 'claimed' | FinalDecision | WaitingStatus | 'expired';

/** Whether a claim (or a decision) may be written over an entry in this status; undefined: no entry. */
export function isClaimable(status: LedgerStatus | undefined): boolean {
  return status === undefined || (WAITING_STATUSES as readonly LedgerStatus[]).includes(status);
}

/**
 * Whether no run acts on an occasion in this status again, whatever the clock: a claim may not
 * overwrite it, and no one releases it. A 'claimed' or 'maybe-sent' entry may be released by hand
 * for the next hour (README, "Settle the maybe-sent"), so it does not end the occasion.
 */
export function endsOccasion(status: LedgerStatus): boolean {
  return !isClaimable(status) && status !== 'claimed' && status !== 'maybe-sent';
}

/** A client's ledger entries as the due index weighs them (shared/campaigns/due-index.ts). */
export function ledgerViewOf(entries: readonly Pick<LedgerEntry, 'occasionKey' | 'status'>[]): LedgerView {
  return {
    closed: new Set(entries.filter((e) => endsOccasion(e.status)).map((e) => e.occasionKey)),
    recorded: new Set(entries.map((e) => e.occasionKey)),
  };
}

export interface LedgerKey {
  customerId: string;
  occasionKey: string;
}

export interface LedgerEntry extends LedgerKey {
  campaignId: string;
  status: LedgerStatus;
  /** The run that wrote the entry last through a claim; only it may record the outcome. */
  runId: string;
  /** UTC hour of the claim, e.g. '2026-11-23T10' (the byClaimHour index partition). */
  claimHour: string;
  /** Epoch ms: the clock of the hour the run decides for (its `at`), not when it wrote the claim. */
  claimedAt: number;
  /**
   * Epoch ms, the claiming run's real clock when it wrote the entry (ClaimRequest.writtenAt): a run
   * started late or sending long writes claims well past its hour. A claim is stale by this one
   * (staleClaims). Absent on entries of writers that pass none, and on entries from before.
   */
  claimWrittenAt?: number;
  /** Epoch ms. */
  updatedAt: number;
  sentAt?: number;
  messageId?: string;
  /**
   * The email the occasion was claimed for: the same on every occasion one email settles (a
   * replenishment reminder and the companion products it lists), so that the frequency cap counts
   * that email once (shared/sender/recent-emails.ts). Absent on decisions, and on entries written
   * before it existed.
   */
  emailId?: string;
  reason?: string;
  /** Epoch ms before which a deferred occasion should not be re-evaluated. */
  deferredUntil?: number;
  /**
   * An advisor's digest: the customer ids of the introductions it carried (with their task links),
   * so a rerun of the week gives tasks for those only. Absent on other entries and on digests
   * claimed before it existed.
   */
  introduced?: string[];
  /** Of `introduced`, those the digest carried without a send link (the client could not be emailed): their tasks never mail. */
  introducedWithoutEmail?: string[];
  tier?: string;
  /** Epoch ms: when the occasion started (DueOccasion.triggerAt), for the welcome's response-by-delay curve. */
  triggerAt?: number;
  /**
   * Epoch SECONDS: DynamoDB's TTL deletes the entry then (ledgerExpiresAt). Absent: kept until the
   * client is erased, for a key that no window bounds.
   */
  expiresAt?: number;
  /** `${customerId}#${occasionKey}`: the byClaimHour index sort key. */
  customerOccasion: string;
  /** Random per claim call: lets a claim retried by the SDK recognise its own earlier write. */
  claimToken: string;
  /** Random per recordOutcome call, for the same reason. */
  outcomeToken?: string;
}

export interface ClaimRequest extends LedgerKey {
  campaignId: string;
  runId: string;
  /** Epoch ms: the run's clock. */
  now: number;
  /** Epoch ms: the run's real clock as it writes the entry (LedgerEntry.claimWrittenAt). */
  writtenAt?: number;
  /** Days the entry is kept, from the later of `now` and `retainAfter`, before TTL removes it. */
  retentionDays: number;
  /**
   * Epoch ms the retention counts from when later than `now`: the close of the occasion's send
   * window, so that no entry goes while a later hour may still meet its window open.
   */
  retainAfter?: number;
  /**
   * Keep the entry until the client is erased (no TTL): its key is not one window's (once ever, or
   * a once-per key several windows share), and nothing bounds when the key's next window opens.
   */
  retainUntilErased?: boolean;
  tier?: string;
  /** Epoch ms: when the occasion started (DueOccasion.triggerAt). */
  triggerAt?: number;
  /** For a claim: the email it is for, shared by every occasion that email settles (LedgerEntry.emailId). */
  emailId?: string;
  /** Why a decision was taken (recordDecision), e.g. 'control-group', 'quiet-hours'. */
  reason?: string;
  /** For 'deferred': epoch ms before which a later hour should not re-evaluate. */
  deferredUntil?: number;
  /** For an advisor's digest: the introductions it carries (LedgerEntry.introduced). */
  introduced?: string[];
  /** For an advisor's digest: those of `introduced` it carried without a send link (LedgerEntry.introducedWithoutEmail). */
  introducedWithoutEmail?: string[];
  /**
   * Write only while the client is not on the erasure list (erasure-store.ts isStoredErasure),
   * checked just before: an erasure recorded before the write leaves it unwritten ('erased').
   */
  unlessErased?: ErasureGuard;
}

/** 'erased': the client is on the erasure list (ClaimRequest.unlessErased); nothing written. */
export type ClaimResult = 'claimed' | 'already-claimed' | 'erased';

export type Outcome =
  | { status: 'sent'; messageId: string; sentAt: number }
  | { status: 'failed'; reason: string }
  /** SES may have taken the message: kept, reported, never resent blindly. */
  | { status: 'maybe-sent'; reason: string }
  /** SES surely did not take the message (throttled, unreachable, paused): release the occasion for a later hour. */
  | { status: 'deferred'; reason: string; deferredUntil?: number };

/** 'not-claimant': the entry is not 'claimed' by this run (another run's claim, or already resolved). */
export type OutcomeResult = 'recorded' | 'not-claimant';

type DocumentSender = Pick<DynamoDBDocumentClient, 'send'>;

export interface QueryOptions {
  /** Items read per Query page (before the filter applies); DynamoDB's 1 MB pages otherwise. */
  pageSize?: number;
}

const SECONDS_PER_DAY = 86_400;

/** The UTC hour of an instant, as the byClaimHour index partitions it: '2026-11-23T10'. */
export function claimHourOf(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 13);
}

/** Every claim hour from `from` to `to` inclusive (epoch ms), oldest first. */
export function claimHoursBetween(from: number, to: number): string[] {
  const hours: string[] = [];
  const hourMs = 3_600_000;
  for (let t = Math.floor(from / hourMs) * hourMs; t <= to; t += hourMs) hours.push(claimHourOf(t));
  return hours;
}

/** Epoch seconds at which an entry written at `now` (epoch ms) expires. */
export function expiresAtFor(now: number, retentionDays: number): number {
  return Math.floor(now / 1000) + Math.round(retentionDays * SECONDS_PER_DAY);
}

/**
 * When DynamoDB's TTL may delete a claim's entry (epoch seconds), or undefined to keep it until
 * the client is erased. An entry that went while a window of its key could still open would let
 * a later hour send that occasion again.
 */
export function ledgerExpiresAt(request: Pick<ClaimRequest, 'now' | 'retentionDays' | 'retainAfter' | 'retainUntilErased'>): number | undefined {
  if (request.retainUntilErased) return undefined;
  return expiresAtFor(Math.max(request.now, request.retainAfter ?? request.now), request.retentionDays);
}

function validateKey(key: LedgerKey): void {
  if (!key.customerId) throw new Error('Ledger entry needs a customerId');
  if (!key.occasionKey) throw new Error('Ledger entry needs an occasionKey');
}


const WAITING_VALUES = WAITING_STATUSES.map((_, i) => `:waiting${i}`);
const WAITING_VALUE_MAP: Record<string, string> = Object.fromEntries(WAITING_STATUSES.map((status, i) => [`:waiting${i}`, status]));

/**
 * Claims an occasion (status 'claimed') or writes a decision in its place. Succeeds when no entry
 * exists or the existing one is waiting (deferred, capped); otherwise 'already-claimed'.
 * With a waiting status, 'claimed' means "written": the entry holds the occasion for no one.
 */
export async function claimOccasion(
  documents: DocumentSender,
  table: string,
  request: ClaimRequest,
  status: ClaimStatus = 'claimed',
): Promise<ClaimResult> {
  validateKey(request);
  if (!request.campaignId) throw new Error('Ledger entry needs a campaignId');
  if (!request.runId) throw new Error('Ledger entry needs a runId');
  if (!Number.isFinite(request.now)) throw new Error('Ledger claim time must be epoch milliseconds');
  if (request.writtenAt !== undefined && !Number.isFinite(request.writtenAt)) throw new Error('Ledger claim write time must be epoch milliseconds');
  if (request.retainAfter !== undefined && !Number.isFinite(request.retainAfter)) throw new Error('Ledger retainAfter must be epoch milliseconds');
  if (!(request.retentionDays > 0)) throw new Error('Ledger retentionDays must be positive');
  const item: LedgerEntry = {
    customerId: request.customerId,
    occasionKey: request.occasionKey,
    campaignId: request.campaignId,
    status,
    runId: request.runId,
    claimHour: claimHourOf(request.now),
    claimedAt: request.now,
    updatedAt: request.now,
    customerOccasion: `${request.customerId}#${request.occasionKey}`,
    claimToken: randomUUID(),
  };
  if (request.writtenAt !== undefined) item.claimWrittenAt = request.writtenAt;
  const expiresAt = ledgerExpiresAt(request);
  if (expiresAt !== undefined) item.expiresAt = expiresAt;
  if (request.tier !== undefined) item.tier = request.tier;
  if (request.triggerAt !== undefined) item.triggerAt = request.triggerAt;
  if (request.emailId !== undefined) item.emailId = request.emailId;
  if (request.reason !== undefined) item.reason = request.reason;
  if (request.deferredUntil !== undefined) item.deferredUntil = request.deferredUntil;
  if (request.introduced !== undefined) item.introduced = [...request.introduced];
  if (request.introducedWithoutEmail !== undefined) item.introducedWithoutEmail = [...request.introducedWithoutEmail];
  // Checked just before the write, by a consistent read: a transaction would make the two one, but
  // DynamoDB Local loses transactional writes when it is killed, which the fault tests do. An
  // erasure recorded between the two is caught at the run's end (the sender erases again).
  const guard = request.unlessErased;
  if (guard !== undefined && (await isStoredErasure(documents, guard.table, guard.who))) return 'erased';
  try {
    await documents.send(
      new PutCommand({
        TableName: table,
        Item: item,
        // isClaimable, as a condition. The last alternative makes the write idempotent: if the SDK
        // retries a Put that did land (a timeout after DynamoDB applied it), the retry sees its own
        // token instead of losing.
        ConditionExpression: `attribute_not_exists(customerId) OR #status IN (${WAITING_VALUES.join(', ')}) OR claimToken = :token`,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ...WAITING_VALUE_MAP, ':token': item.claimToken },
      }),
    );
    return 'claimed';
  } catch (error) {
    if (isConditionFailure(error)) return 'already-claimed';
    throw error;
  }
}

/**
 * Writes a decision that needs no SES call: final (held-out, suppressed, no-consent) or waiting
 * (capped, deferred). Same condition as a claim, so it never overwrites a claimed, sent or final entry.
 */
export function recordDecision(
  documents: DocumentSender,
  table: string,
  request: ClaimRequest,
  status: FinalDecision | WaitingStatus,
): Promise<ClaimResult> {
  return claimOccasion(documents, table, request, status);
}

/**
 * Writes 'expired' for an occasion whose send window closed while it waited (deferred, capped) or
 * before any run decided it (no entry), with the reason. Same condition as a claim: never over a
 * claimed, sent, maybe-sent or final entry.
 */
export function recordExpiry(documents: DocumentSender, table: string, request: ClaimRequest & { reason: string }): Promise<ClaimResult> {
  return claimOccasion(documents, table, request, 'expired');
}

/**
 * Records what happened to a claimed occasion. Only the claimant (same runId, entry still
 * 'claimed') can record; anything else is 'not-claimant' and changes nothing.
 */
export async function recordOutcome(
  documents: DocumentSender,
  table: string,
  key: LedgerKey,
  runId: string,
  outcome: Outcome,
  /** Epoch ms: the run's clock, written as updatedAt. */
  now: number,
): Promise<OutcomeResult> {
  validateKey(key);
  const token = randomUUID();
  const sets = ['#status = :status', 'updatedAt = :now', 'outcomeToken = :token'];
  const removes: string[] = [];
  const values: Record<string, unknown> = { ':status': outcome.status, ':now': now, ':token': token, ':claimed': 'claimed', ':runId': runId };
  switch (outcome.status) {
    case 'sent':
      if (!outcome.messageId) throw new Error('A sent outcome needs the SES message id');
      sets.push('messageId = :messageId', 'sentAt = :sentAt');
      values[':messageId'] = outcome.messageId;
      values[':sentAt'] = outcome.sentAt;
      break;
    case 'failed':
    case 'maybe-sent':
      sets.push('reason = :reason');
      values[':reason'] = outcome.reason;
      break;
    case 'deferred':
      sets.push('reason = :reason');
      values[':reason'] = outcome.reason;
      if (outcome.deferredUntil !== undefined) {
        sets.push('deferredUntil = :deferredUntil');
        values[':deferredUntil'] = outcome.deferredUntil;
      } else {
        removes.push('deferredUntil');
      }
      break;
  }
  try {
    await documents.send(
      new UpdateCommand({
        TableName: table,
        Key: { customerId: key.customerId, occasionKey: key.occasionKey },
        UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
        // attribute_exists: an update must never create an entry. The token alternative makes an
        // SDK retry of an update that did land succeed instead of reporting 'not-claimant'.
        ConditionExpression: 'attribute_exists(customerId) AND runId = :runId AND (#status = :claimed OR outcomeToken = :token)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: values,
      }),
    );
    return 'recorded';
  } catch (error) {
    if (isConditionFailure(error)) return 'not-claimant';
    throw error;
  }
}

export async function getLedgerEntry(documents: DocumentSender, table: string, key: LedgerKey): Promise<LedgerEntry | undefined> {
  validateKey(key);
  const output = await documents.send(
    new GetCommand({ TableName: table, Key: { customerId: key.customerId, occasionKey: key.occasionKey }, ConsistentRead: true }),
  );
  return output.Item as LedgerEntry | undefined;
}

/** Every ledger entry of one client, read consistently: a decision made a moment ago must count. */
export async function ledgerEntriesOf(
  documents: DocumentSender,
  table: string,
  customerId: string,
  options: QueryOptions & { filter?: { expression: string; names?: Record<string, string>; values: Record<string, unknown> } } = {},
): Promise<LedgerEntry[]> {
  if (!customerId) throw new Error('ledgerEntriesOf needs a customerId');
  const items = await collectPages<LedgerEntry>((startKey) =>
    documents.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'customerId = :customerId',
        ...(options.filter
          ? { FilterExpression: options.filter.expression, ExpressionAttributeNames: options.filter.names }
          : {}),
        ExpressionAttributeValues: { ':customerId': customerId, ...options.filter?.values },
        ConsistentRead: true,
        Limit: options.pageSize,
        ExclusiveStartKey: startKey,
      }),
    ),
  );
  return items;
}

/** The client's entries sent at or after `since` (epoch ms), oldest first: one per occasion, so an email listing several products has several (the frequency cap counts emails: shared/sender/recent-emails.ts). */
export async function recentSends(
  documents: DocumentSender,
  table: string,
  customerId: string,
  since: number,
  options: QueryOptions = {},
): Promise<LedgerEntry[]> {
  const entries = await ledgerEntriesOf(documents, table, customerId, {
    ...options,
    filter: { expression: '#status = :sent AND sentAt >= :since', names: { '#status': 'status' }, values: { ':sent': 'sent', ':since': since } },
  });
  return entries.sort((a, b) => (a.sentAt ?? 0) - (b.sentAt ?? 0));
}

/**
 * A claim written before :olderThan: by its real write time (claimWrittenAt), else (an entry
 * without one) by its run's hour. The hour alone would make a claim in flight in a run started
 * late, or sending long, look old to the next hour.
 */
const CLAIMED_BEFORE = '#status = :claimed AND (claimWrittenAt < :olderThan OR (attribute_not_exists(claimWrittenAt) AND claimedAt < :olderThan))';

/**
 * Entries still 'claimed' that were written before `olderThan` (epoch ms, CLAIMED_BEFORE), in the
 * given claim hours (see claimHoursBetween). A claim never resolved means a run died between claim
 * and send: report it for a human, never resend it blindly (SES may have sent it).
 */
export function staleClaims(
  documents: DocumentSender,
  table: string,
  olderThan: number,
  hours: readonly string[],
  options: QueryOptions = {},
): Promise<LedgerEntry[]> {
  return entriesClaimedIn(documents, table, hours, { expression: CLAIMED_BEFORE, values: { ':claimed': 'claimed', ':olderThan': olderThan } }, options);
}

/**
 * The sends nobody can settle without a person, in the given claim hours: stale claims (as
 * staleClaims) and 'maybe-sent' entries (SES may have taken the email: a timeout, a reset, a 5xx).
 */
export function unresolvedSends(
  documents: DocumentSender,
  table: string,
  staleBefore: number,
  hours: readonly string[],
  options: QueryOptions = {},
): Promise<LedgerEntry[]> {
  return entriesClaimedIn(
    documents,
    table,
    hours,
    {
      expression: `(${CLAIMED_BEFORE}) OR #status = :maybeSent`,
      values: { ':claimed': 'claimed', ':olderThan': staleBefore, ':maybeSent': 'maybe-sent' },
    },
    options,
  );
}

async function entriesClaimedIn(
  documents: DocumentSender,
  table: string,
  hours: readonly string[],
  filter: { expression: string; values: Record<string, unknown> },
  options: QueryOptions,
): Promise<LedgerEntry[]> {
  const entries: LedgerEntry[] = [];
  for (const hour of new Set(hours)) {
    const items = await collectPages<LedgerEntry>((startKey) =>
      documents.send(
        new QueryCommand({
          TableName: table,
          IndexName: LEDGER_BY_HOUR_INDEX,
          KeyConditionExpression: 'claimHour = :hour',
          FilterExpression: filter.expression,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':hour': hour, ...filter.values },
          Limit: options.pageSize,
          ExclusiveStartKey: startKey,
        }),
      ),
    );
    entries.push(...items);
  }
  return entries.sort((a, b) => a.claimedAt - b.claimedAt || a.customerOccasion.localeCompare(b.customerOccasion));
}

/** What the campaign results read of an occasion: who, which campaign, what became of it, when. */
export type ResultEntry = Pick<LedgerEntry, 'customerId' | 'occasionKey' | 'campaignId' | 'status' | 'claimedAt' | 'customerOccasion'> &
  Partial<Pick<LedgerEntry, 'sentAt' | 'messageId' | 'tier' | 'triggerAt'>>;

const RESULT_ATTRIBUTES = ['customerId', 'occasionKey', 'campaignId', 'status', 'claimedAt', 'customerOccasion', 'sentAt', 'messageId', 'tier', 'triggerAt'] as const;

export interface ScanOptions extends QueryOptions {
  /** Parallel scan segments. */
  segments?: number;
}

/**
 * The occasions claimed or decided in [from, to) (epoch ms), whatever became of them, oldest
 * first, with only the attributes the campaign results read: the 'sent' and 'held-out' ones are
 * the decisions the results follow, all of them together are what was due.
 *
 * A parallel Scan with a filter, not one Query per claim hour on the byClaimHour index: a
 * results period (~60 days) is ~1,460 claim hours, and as many requests a night, most of them
 * for empty hours, took 5-17 s on DynamoDB Local (the demo, the tests) whatever the ledger held.
 * The Scan reads the whole ledger instead (400 days by default, every outcome), which for a
 * large brand (5M entries of ~400 bytes) is ~2 GB and a few cents a night: the same order as the
 * profiles table the nightly run already scans in full (loadStoredStates).
 */
export async function occasionsClaimedBetween(
  documents: DocumentSender,
  table: string,
  from: number,
  to: number,
  options: ScanOptions = {},
): Promise<ResultEntry[]> {
  if (!(Number.isFinite(from) && Number.isFinite(to))) throw new Error('occasionsClaimedBetween needs epoch milliseconds');
  if (!(from < to)) return [];
  // Every attribute through a name: 'status' is a reserved word, and the list stays uniform.
  const names: Record<string, string> = Object.fromEntries(RESULT_ATTRIBUTES.map((name) => [`#${name}`, name]));
  const segments = options.segments ?? 4;
  const entries: ResultEntry[] = [];
  await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      const items = paginate<ResultEntry>((startKey) =>
        documents.send(
          new ScanCommand({
            TableName: table,
            Segment: segment,
            TotalSegments: segments,
            FilterExpression: '#claimedAt >= :from AND #claimedAt < :to',
            ProjectionExpression: Object.keys(names).join(', '),
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ':from': from, ':to': to },
            Limit: options.pageSize,
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      for await (const item of items) entries.push(item);
    }),
  );
  return entries.sort((a, b) => a.claimedAt - b.claimedAt || a.customerOccasion.localeCompare(b.customerOccasion));
}

/** Takes a client out of an advisor's digest entry's introductions (an erasure): the entry stays, without their id. */
export async function forgetIntroduced(documents: DocumentSender, table: string, entry: LedgerEntry, customerId: string): Promise<void> {
  const lists = (['introduced', 'introducedWithoutEmail'] as const).filter((name) => entry[name] !== undefined);
  await documents
    .send(
      new UpdateCommand({
        TableName: table,
        Key: { customerId: entry.customerId, occasionKey: entry.occasionKey },
        UpdateExpression: `SET ${lists.map((name) => `${name} = :${name}`).join(', ')}`,
        // Never creates an entry: one expired meanwhile stays gone.
        ConditionExpression: 'attribute_exists(occasionKey)',
        ExpressionAttributeValues: Object.fromEntries(lists.map((name) => [`:${name}`, (entry[name] ?? []).filter((id) => id !== customerId)])),
      }),
    )
    .catch((error: unknown) => {
      if (!isConditionFailure(error)) throw error;
    });
}

/** Deletes entries by key (an erasure). */
export async function deleteLedgerEntries(documents: DocumentSender, table: string, keys: readonly LedgerKey[]): Promise<void> {
  await batchDeleteAll(documents, table, keys.map((e) => ({ customerId: e.customerId, occasionKey: e.occasionKey })));
}

/** The ledger entries whose last claim or decision fell in one UTC hour ('2026-11-23T10'), through the byClaimHour index: who, which campaign, which status. */
export function ledgerStatusesOfHour(
  documents: Pick<DynamoDBDocumentClient, 'send'>,
  table: string,
  hour: string,
): Promise<Pick<LedgerEntry, 'customerId' | 'campaignId' | 'status'>[]> {
  return collectPages<Pick<LedgerEntry, 'customerId' | 'campaignId' | 'status'>>((startKey) =>
    documents.send(
      new QueryCommand({
        TableName: table,
        IndexName: LEDGER_BY_HOUR_INDEX,
        KeyConditionExpression: 'claimHour = :hour',
        ExpressionAttributeNames: { '#status': 'status' },
        ProjectionExpression: 'customerId, campaignId, #status',
        ExpressionAttributeValues: { ':hour': hour },
        ExclusiveStartKey: startKey,
      }),
    ),
  );
}
