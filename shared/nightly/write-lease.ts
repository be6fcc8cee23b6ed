import { randomUUID } from 'node:crypto';
import type { RunKey } from '#shared/store/runs-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { acquireWriteLease, releaseWriteLease, type HeldLease } from '#shared/store/write-leases.ts';
import { NIGHTLY_TIMEOUT_MINUTES } from './node-options.ts';
import { NightlyRunError, type NightContext } from './run.ts';
import type { ShardSpec } from './shards.ts';

/**
 * One write attempt at a time per shard of a sharded night. Step Functions may invoke a shard's
 * write again while the first invocation still runs (a Lambda service error is retried, and the
 * invocation it hid may be alive), with the same run id. Two attempts at once would each measure
 * against what the other half-wrote and save that as the clients' state before the night
 * (apply.ts, night-plans.ts): a later rerun would then invent or lose movements. So the write takes
 * a lease on its shard in the runs table (write-leases.ts) before it loads the shard's base, and
 * frees it once its outcome is stored. An attempt that finds the lease held writes nothing and
 * fails, saying until when; the execution's redrive (or a new night) then finds the shard written.
 * A single run and `clientele run nightly --shards N` take none: each of their attempts has a run
 * id of its own.
 *
 * The lease lasts longer than the nightly function's timeout: no attempt in AWS outlives its
 * lease, and an attempt that died without freeing it (a timeout, DynamoDB unreachable) holds the
 * shard at most that long.
 */

export const SHARD_WRITE_LEASE_JOB = 'nightly-write-lease';
export const SHARD_WRITE_LEASE_MS = (NIGHTLY_TIMEOUT_MINUTES + 1) * 60_000;

/** The runs-table item of one shard's write lease: beside the night's item, one per run and shard. */
export function shardWriteLeaseKey(runDate: string, runId: string, shard: ShardSpec): RunKey {
  return { job: SHARD_WRITE_LEASE_JOB, runDate: `${runDate}#${runId}#${shard.index}/${shard.count}` };
}

/** Why an attempt may not write: another one holds the shard (or held it a moment ago). */
export function shardBusyMessage(run: { runId: string; shard: ShardSpec }, held: HeldLease | undefined): string {
  const shard = `shard ${run.shard.index}/${run.shard.count} of run ${run.runId}`;
  if (held === undefined) return `${shard} is being written by another attempt; this one wrote nothing: run the write again.`;
  return (
    `${shard} is being written by another attempt (${held.holder}, attempt ${held.attempt}, since ${new Date(held.acquiredAt).toISOString()}); this one wrote nothing. ` +
    `Let that attempt finish, then redrive the execution; if it died, its lease ends at ${new Date(held.expiresAt).toISOString()} and the write can run again from then.`
  );
}

/** Runs `write` holding the shard's write lease; fails with a NightlyRunError, before `write` starts, while another attempt holds it. */
export async function withShardWriteLease<T>(context: Pick<NightContext, 'config' | 'clients' | 'runDate' | 'runId' | 'clock' | 'log'>, shard: ShardSpec, write: () => Promise<T>): Promise<T> {
  const { config, clients, runDate, runId, log } = context;
  const table = tableNames(config).runs;
  const key = shardWriteLeaseKey(runDate, runId, shard);
  // Unique per attempt: the run id and shard are the same on every retry.
  const holder = `${runId}/${shard.index}/${randomUUID()}`;
  const outcome = await acquireWriteLease(clients.documents, table, key, { holder, now: context.clock(), durationMs: SHARD_WRITE_LEASE_MS });
  if (!('acquired' in outcome)) {
    log.error('shard write refused: another attempt holds the shard', { shard: shard.index, holder: outcome.heldBy?.holder, expiresAt: outcome.heldBy?.expiresAt });
    throw new NightlyRunError(shardBusyMessage({ runId, shard }, outcome.heldBy));
  }
  const lease = outcome.acquired;
  if (lease.attempt > 1) log.info('shard write lease taken again', { shard: shard.index, attempt: lease.attempt });
  try {
    return await write();
  } finally {
    // Freed on failure too, so that a retry need not wait for the lease to expire. A release that
    // fails (DynamoDB unreachable) leaves the lease to expire; the write's own error goes on.
    await releaseWriteLease(clients.documents, table, lease).then(
      (released) => {
        if (!released) log.error('shard write lease was taken over while this attempt wrote', { shard: shard.index });
      },
      (error: unknown) => log.warn('shard write lease not freed: it expires on its own', { shard: shard.index, expiresAt: lease.expiresAt, error: error instanceof Error ? error.message : String(error) }),
    );
  }
}
