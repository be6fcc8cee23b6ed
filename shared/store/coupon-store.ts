import { createHash } from 'node:crypto';
import { DeleteCommand, GetCommand, QueryCommand, ScanCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { paginate } from './paginate.ts';

/**
 * The coupon-codes table: which codes of a campaign's pool are taken, and by which occasion.
 * Per campaign (partition key) two kinds of item:
 *   `code#<code>`  the code is taken (claimedFor: the occasion's hash, claimedAt, runId);
 *   `for#<hash>`   the occasion's code, so that a retry or a rerun sends the same one (clientRef:
 *                  a hash of the client's id, by which forget finds it; absent on items written
 *                  before, which forget finds through the send ledger).
 * Both are written in one transaction, each only if absent: a code is never given twice (two runs
 * racing for it: one transaction fails and that run takes the next code), and an occasion never
 * gets two. The occasion is a hash of the client and the occasion key: no client id in this table.
 * A code is taken under its capital letters (codeKey): shops take `save-1` for `SAVE-1`, so the
 * two are one code however the pool file spells it from one upload to the next. Items written
 * before keep the code's own spelling; the taken set reads both as one.
 */

type DocumentSender = Pick<DynamoDBDocumentClient, 'send'>;

const CODE_PREFIX = 'code#';
const FOR_PREFIX = 'for#';

export interface CouponTable {
  documents: DocumentSender;
  table: string;
}

/** A code as shops compare it (case aside): what the table's code items are keyed by. */
export function sameCode(code: string): string {
  return code.toUpperCase();
}

/** The hash an occasion is known by in the table. */
export function occasionRef(customerId: string, occasionKey: string): string {
  return createHash('sha256').update(`${customerId}\n${occasionKey}`, 'utf8').digest('base64url');
}

/** The hash a client's occasions carry (clientRef), so that forget finds every one of them. */
export function clientRef(customerId: string): string {
  return createHash('sha256').update(`client\n${customerId}`, 'utf8').digest('base64url');
}

/** The occasions of these clients that hold a code (campaign and occasion hash): a scan, as erasures are rare and no index keeps clientRef. */
export async function occasionsOfClients(coupons: CouponTable, customerIds: readonly string[]): Promise<{ campaignId: string; ref: string }[]> {
  const found: { campaignId: string; ref: string }[] = [];
  // A FilterExpression's IN takes at most 100 operands.
  for (let start = 0; start < customerIds.length; start += 100) {
    const values = Object.fromEntries(customerIds.slice(start, start + 100).map((id, i) => [`:c${i}`, clientRef(id)]));
    const items = paginate((startKey) =>
      coupons.documents.send(
        new ScanCommand({
          TableName: coupons.table,
          FilterExpression: `clientRef IN (${Object.keys(values).join(', ')}) AND begins_with(entry, :prefix)`,
          ExpressionAttributeValues: { ...values, ':prefix': FOR_PREFIX },
          ProjectionExpression: 'campaignId, entry',
          ExclusiveStartKey: startKey,
        }),
      ),
    );
    for await (const item of items) found.push({ campaignId: String(item.campaignId), ref: String(item.entry).slice(FOR_PREFIX.length) });
  }
  return found;
}

/** The code already drawn for the occasion, if any. */
export async function codeDrawnFor(coupons: CouponTable, campaignId: string, ref: string): Promise<string | undefined> {
  const { Item } = await coupons.documents.send(new GetCommand({ TableName: coupons.table, Key: { campaignId, entry: `${FOR_PREFIX}${ref}` }, ConsistentRead: true }));
  return typeof Item?.code === 'string' ? Item.code : undefined;
}

/** The campaign's code items, a page at a time, read consistently: the code as keyed and when it was taken. */
async function* codeItems(coupons: CouponTable, campaignId: string): AsyncGenerator<{ code: string; claimedAt?: number }> {
  let start: Record<string, unknown> | undefined;
  do {
    const page = await coupons.documents.send(
      new QueryCommand({
        TableName: coupons.table,
        KeyConditionExpression: 'campaignId = :campaign AND begins_with(entry, :prefix)',
        ExpressionAttributeValues: { ':campaign': campaignId, ':prefix': CODE_PREFIX },
        ProjectionExpression: 'entry, claimedAt',
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      if (typeof item.entry !== 'string') continue;
      yield { code: item.entry.slice(CODE_PREFIX.length), ...(typeof item.claimedAt === 'number' ? { claimedAt: item.claimedAt } : {}) };
    }
    start = page.LastEvaluatedKey;
  } while (start);
}

/** Every taken code of the campaign, case aside (sameCode). */
export async function takenCodes(coupons: CouponTable, campaignId: string): Promise<Set<string>> {
  const taken = new Set<string>();
  for await (const item of codeItems(coupons, campaignId)) taken.add(sameCode(item.code));
  return taken;
}

/** A code given to an occasion: the code (as keyed, sameCode) and when (epoch ms). */
export interface GivenCode {
  code: string;
  givenAt: number;
}

/**
 * The codes of the campaign given since `since` (epoch ms; every one without), oldest first: what
 * the shop must accept (a scheme's codes exist nowhere else). Erased clients' codes included: the
 * code stays theirs to use.
 */
export async function codesGiven(coupons: CouponTable, campaignId: string, since = 0): Promise<GivenCode[]> {
  const given: GivenCode[] = [];
  for await (const item of codeItems(coupons, campaignId)) {
    if (item.claimedAt !== undefined && item.claimedAt >= since) given.push({ code: item.code, givenAt: item.claimedAt });
  }
  return given.sort((a, b) => a.givenAt - b.givenAt || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
}

/**
 * Forgets which occasion a code went to (an erasure): the occasion's item goes, and the code's
 * item loses its claimedFor but stays, so the code is never given again. The code's item first:
 * a request that stops in between finds the occasion's item again. True when there was one.
 */
export async function forgetOccasionCode(coupons: CouponTable, campaignId: string, ref: string): Promise<boolean> {
  const code = await codeDrawnFor(coupons, campaignId, ref);
  if (code === undefined) return false;
  // Keyed by its capitals, or (taken before codes were) by its own spelling.
  for (const spelling of new Set([sameCode(code), code])) {
    await coupons.documents
      .send(
        new UpdateCommand({
          TableName: coupons.table,
          Key: { campaignId, entry: `${CODE_PREFIX}${spelling}` },
          UpdateExpression: 'REMOVE claimedFor',
          // Never creates an item: a code item already gone (or never keyed so) stays gone.
          ConditionExpression: 'attribute_exists(entry) AND claimedFor = :ref',
          ExpressionAttributeValues: { ':ref': ref },
        }),
      )
      .catch((error: unknown) => {
        if (!(error instanceof Error && error.name === 'ConditionalCheckFailedException')) throw error;
      });
  }
  await coupons.documents.send(new DeleteCommand({ TableName: coupons.table, Key: { campaignId, entry: `${FOR_PREFIX}${ref}` } }));
  return true;
}

/**
 * 'conflict': another transaction touched one of the two items at that moment (another run
 * drawing the same code, or for the same occasion): DynamoDB cancels it without checking the
 * conditions, and the SDK does not retry it. Neither item was written; the caller looks again.
 */
export type TakeResult = 'taken' | 'code-gone' | 'occasion-has-code' | 'conflict';

/** Takes `code` (keyed by sameCode, kept as spelt) for the client's occasion: both items or neither. */
export async function takeCode(
  coupons: CouponTable,
  campaignId: string,
  code: string,
  occasion: { customerId: string; occasionKey: string },
  at: number,
  runId: string,
): Promise<TakeResult> {
  const ref = occasionRef(occasion.customerId, occasion.occasionKey);
  try {
    await coupons.documents.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: coupons.table,
              Item: { campaignId, entry: `${CODE_PREFIX}${sameCode(code)}`, claimedFor: ref, claimedAt: at, runId },
              ConditionExpression: 'attribute_not_exists(entry)',
            },
          },
          {
            Put: {
              TableName: coupons.table,
              Item: { campaignId, entry: `${FOR_PREFIX}${ref}`, code, claimedAt: at, runId, clientRef: clientRef(occasion.customerId) },
              ConditionExpression: 'attribute_not_exists(entry)',
            },
          },
        ],
      }),
    );
    return 'taken';
  } catch (error) {
    const reasons = cancellationReasons(error);
    if (reasons === undefined) throw error;
    if (reasons[1] === 'ConditionalCheckFailed') return 'occasion-has-code';
    if (reasons[0] === 'ConditionalCheckFailed') return 'code-gone';
    if (reasons.includes('TransactionConflict')) return 'conflict';
    throw error;
  }
}

/** The per-item reasons of a cancelled transaction; undefined for any other error. */
function cancellationReasons(error: unknown): (string | undefined)[] | undefined {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return undefined;
  const reasons = (error as Error & { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
  return (reasons ?? []).map((r) => r.Code);
}
