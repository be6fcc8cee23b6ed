import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from './conditions.ts';
import { collectPages } from './paginate.ts';
import type { RunKey } from './runs-store.ts';

/**
 * Leases in the runs table: one writer at a time for one piece of a run, taken with a conditional
 * write. An item per piece ({ job, runDate } as any run item, the piece named in runDate): who
 * holds it, since when, until when, and how many attempts took it. A lease is free when no item
 * exists or its expiry has passed; its holder frees it by setting its expiry to 0 (the item stays,
 * with its attempt count: the runs table's readers query their own job only), and may extend it
 * while it still holds it (renewWriteLease).
 */

type DocumentSender = Pick<DynamoDBDocumentClient, 'send'>;

export interface WriteLease {
  key: RunKey;
  holder: string;
  /** 1 for the first attempt that took it, then 2, ... */
  attempt: number;
  /** Epoch ms. */
  acquiredAt: number;
  expiresAt: number;
}

/** The lease as another attempt holds it; undefined when the item was freed between the refusal and the read. */
export type HeldLease = Omit<WriteLease, 'key'>;

export type LeaseOutcome = { acquired: WriteLease } | { heldBy: HeldLease | undefined };

/**
 * Takes the lease at `key` for `holder` until now + durationMs, unless another holder's has not
 * expired; then says whose it is. A lease freed between the refusal and that read is tried once more.
 * Holders are unique per attempt (a run id and a random part), so a refusal by a lease of this holder
 * taken at this instant is this call's own write, retried by the SDK after its answer was lost.
 */
export async function acquireWriteLease(
  documents: DocumentSender,
  table: string,
  key: RunKey,
  request: { holder: string; now: number; durationMs: number },
): Promise<LeaseOutcome> {
  const expiresAt = request.now + request.durationMs;
  let heldBy: HeldLease | undefined;
  for (let tries = 0; tries < 2; tries++) {
    try {
      const output = await documents.send(
        new UpdateCommand({
          TableName: table,
          Key: { job: key.job, runDate: key.runDate },
          UpdateExpression: 'SET holder = :holder, acquiredAt = :now, expiresAt = :expiresAt ADD attempts :one',
          // Never taken, freed, or expired (its attempt died without freeing it).
          ConditionExpression: 'attribute_not_exists(job) OR expiresAt <= :now',
          ExpressionAttributeValues: { ':holder': request.holder, ':now': request.now, ':expiresAt': expiresAt, ':one': 1 },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const attempt = Number((output.Attributes as { attempts?: unknown } | undefined)?.attempts ?? 1);
      return { acquired: { key, holder: request.holder, attempt, acquiredAt: request.now, expiresAt } };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    heldBy = await heldLease(documents, table, key);
    // Our own write, applied but its answer lost: the SDK's retry of it was refused by the lease it took.
    if (heldBy?.holder === request.holder && heldBy.acquiredAt === request.now) return { acquired: { key, ...heldBy } };
    if (heldBy !== undefined && heldBy.expiresAt > request.now) break;
  }
  return { heldBy };
}

/**
 * Extends the lease to now + durationMs if `lease.holder` still holds it and it has not expired;
 * undefined otherwise (it lapsed, or another attempt took it over since).
 */
export async function renewWriteLease(documents: DocumentSender, table: string, lease: WriteLease, request: { now: number; durationMs: number }): Promise<WriteLease | undefined> {
  const expiresAt = request.now + request.durationMs;
  return (await setExpiryIfHeld(documents, table, lease, expiresAt, request.now)) ? { ...lease, expiresAt } : undefined;
}

/**
 * The leases of `job` whose key starts with `keyPrefix` and that have not expired at `now`, read
 * consistently: one taken just before this read is among them.
 */
export async function liveWriteLeases(documents: DocumentSender, table: string, job: string, keyPrefix: string, now: number): Promise<WriteLease[]> {
  const items = await collectPages<Record<string, unknown>>((startKey) =>
    documents.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: '#job = :job AND begins_with(#runDate, :prefix)',
        FilterExpression: 'expiresAt > :now',
        ExpressionAttributeNames: { '#job': 'job', '#runDate': 'runDate' },
        ExpressionAttributeValues: { ':job': job, ':prefix': keyPrefix, ':now': now },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    ),
  );
  return items.flatMap((item) => {
    const held = heldLeaseOf(item);
    return held === undefined ? [] : [{ key: { job, runDate: String(item.runDate) }, ...held }];
  });
}

/** Whether the lease at `key` is held at `now` (taken, neither freed nor expired), read consistently. */
export async function isWriteLeaseLive(documents: DocumentSender, table: string, key: RunKey, now: number): Promise<boolean> {
  const held = await heldLease(documents, table, key);
  return held !== undefined && held.expiresAt > now;
}

async function heldLease(documents: DocumentSender, table: string, key: RunKey): Promise<HeldLease | undefined> {
  const output = await documents.send(new GetCommand({ TableName: table, Key: { job: key.job, runDate: key.runDate }, ConsistentRead: true }));
  return output.Item === undefined ? undefined : heldLeaseOf(output.Item);
}

function heldLeaseOf(stored: Record<string, unknown>): HeldLease | undefined {
  const item = stored as Partial<Record<'holder' | 'attempts' | 'acquiredAt' | 'expiresAt', unknown>>;
  if (typeof item.holder !== 'string') return undefined;
  return { holder: item.holder, attempt: Number(item.attempts ?? 0), acquiredAt: Number(item.acquiredAt ?? 0), expiresAt: Number(item.expiresAt ?? 0) };
}

/** Frees the lease if `lease.holder` still holds it; false when another attempt has taken it over since. */
export async function releaseWriteLease(documents: DocumentSender, table: string, lease: WriteLease): Promise<boolean> {
  return setExpiryIfHeld(documents, table, lease, 0);
}

/** Sets the lease's expiry if `lease.holder` holds it (and, with `liveAt`, it has not expired by then); false otherwise. */
async function setExpiryIfHeld(documents: DocumentSender, table: string, lease: WriteLease, expiresAt: number, liveAt?: number): Promise<boolean> {
  try {
    await documents.send(
      new UpdateCommand({
        TableName: table,
        Key: { job: lease.key.job, runDate: lease.key.runDate },
        UpdateExpression: 'SET expiresAt = :expiresAt',
        ConditionExpression: liveAt === undefined ? 'holder = :holder' : 'holder = :holder AND expiresAt > :now',
        ExpressionAttributeValues: { ':holder': lease.holder, ':expiresAt': expiresAt, ...(liveAt === undefined ? {} : { ':now': liveAt }) },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}
