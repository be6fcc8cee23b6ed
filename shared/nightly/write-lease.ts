import { randomUUID } from 'node:crypto';
import type { AwsClients } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import { ClienteleError } from '#shared/errors.ts';
import type { Log } from '#shared/log.ts';
import type { RunKey } from '#shared/store/runs-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { acquireWriteLease, liveWriteLeases, releaseWriteLease, renewWriteLease, type HeldLease, type WriteLease } from '#shared/store/write-leases.ts';
import { NIGHTLY_TIMEOUT_MINUTES } from './node-options.ts';
import type { ShardSpec } from './shards.ts';

/**
 * One run writes a night at a time. Two attempts at once would each measure against what the
 * other half-wrote and save that as the clients' state before the night (apply.ts,
 * night-plans.ts), and the finish of one puts back the before-images of the other over its writes
 * (restoreUnseen): a night can end with none of its movements. Attempts overlap more often than
 * one would think: the state machine retries an ambiguous Lambda error (the invocation it hid may
 * still run), the scheduler retries a start, an operator runs the night again while it runs.
 *
 * So whatever writes a night holds a lease on it in the runs table (write-leases.ts), taken before
 * it reads the base it measures against and freed once its writes are done:
 *  - a night run in one process (runNightly, `clientele run nightly [--shards N]`): the whole night,
 *    from before it reads the export through its finish;
 *  - a sharded night in AWS (distributed.ts): each shard's write, and the finish.
 * Once it holds its own lease, an attempt reads every lease of the night still running and stands
 * back, writing nothing, if one belongs to another run (or, for the finish, to any other attempt).
 * Both take their lease before they read the other's, so of two attempts at once at least one sees
 * the other; both may, and both then fail without writing. Shards of one run write side by side.
 * An attempt that finds a lease held fails with NightBusyError, naming the holder and when its
 * lease ends. Before-images read by a finish are then only those of attempts no longer running.
 *
 * A lease lasts longer than the nightly function's timeout and is extended every quarter of that
 * while its attempt runs (a local run may take longer); an attempt that died without freeing it
 * (killed, a timeout, DynamoDB unreachable) holds the night at most that long.
 */

export const WRITE_LEASE_JOB = 'nightly-write-lease';
export const WRITE_LEASE_MS = (NIGHTLY_TIMEOUT_MINUTES + 1) * 60_000;
const RENEW_EVERY_MS = WRITE_LEASE_MS / 4;

/** What one lease covers: a whole night run in one process, one shard's write of a sharded night, or its finish. */
export type LeasedWork = { kind: 'night' } | { kind: 'shard'; shard: ShardSpec } | { kind: 'finish' };

/** A night, run or phase refused because another attempt writes the night: nothing was written. */
export class NightBusyError extends ClienteleError {
  override name = 'NightBusyError';
  constructor(message: string) {
    super('NIGHTLY_RUN_FAILED', message);
  }
}

const partOf = (work: LeasedWork): string => (work.kind === 'shard' ? `${work.shard.index}/${work.shard.count}` : work.kind);

/** The runs-table item of a lease: beside the night's item, one per run and what it covers (`<date>#<run id>#<part>`). */
export function writeLeaseKey(runDate: string, runId: string, work: LeasedWork): RunKey {
  return { job: WRITE_LEASE_JOB, runDate: `${runDate}#${runId}#${partOf(work)}` };
}

/** A lease of the night as read back: the run and the part it covers, from its key. */
export interface NightLease extends HeldLease {
  runId: string;
  /** 'night', 'finish' or a shard's 'i/N'. */
  part: string;
}

/** The run and part of a lease read back; undefined for a key writeLeaseKey did not make. */
export function nightLeaseOf(lease: WriteLease): NightLease | undefined {
  const { runDate: key } = lease.key;
  const first = key.indexOf('#');
  const last = key.lastIndexOf('#');
  if (first < 0 || last <= first) return undefined;
  return { runId: key.slice(first + 1, last), part: key.slice(last + 1), holder: lease.holder, attempt: lease.attempt, acquiredAt: lease.acquiredAt, expiresAt: lease.expiresAt };
}

const isShardPart = (part: string) => /^\d+\/\d+$/.test(part);

/**
 * The leases, of those running on the night, that forbid the attempt `mine` to write: any of
 * another run, and, unless both are shard writes of one run, any other of its own. Pure.
 */
export function conflictingLeases(mine: { runId: string; work: LeasedWork; holder: string }, running: readonly NightLease[]): NightLease[] {
  return running.filter((other) => other.holder !== mine.holder && (other.runId !== mine.runId || mine.work.kind !== 'shard' || !isShardPart(other.part)));
}

const at = (epochMs: number) => new Date(epochMs).toISOString();
const describePart = (part: string) => (part === 'night' ? 'the whole night' : part === 'finish' ? 'its finish' : `shard ${part}`);

/** Why an attempt may not write: another attempt holds its own lease (same run, same part), or held it a moment ago. */
export function sameLeaseBusyMessage(run: { runDate: string; runId: string; work: LeasedWork }, held: HeldLease | undefined): string {
  const { work } = run;
  const what = work.kind === 'shard' ? `shard ${partOf(work)} of run ${run.runId}` : work.kind === 'finish' ? `the finish of run ${run.runId} of ${run.runDate}` : `${run.runDate} (run ${run.runId})`;
  if (held === undefined) return `${what} is being written by another attempt; this one wrote nothing: run it again.`;
  const after = work.kind === 'night' ? 'Let that attempt finish (clientele status shows the night completed)' : 'Let that attempt finish, then redrive the execution';
  const again = work.kind === 'night' ? 'the night can run again from then' : 'the write can run again from then';
  return (
    `${what} is being written by another attempt (${held.holder}, attempt ${held.attempt}, since ${at(held.acquiredAt)}); this one wrote nothing. ` +
    `${after}; if it died, its lease ends at ${at(held.expiresAt)} and ${again}.`
  );
}

/** Why an attempt may not write: another run (or another attempt of its own, for a finish) is writing the night. */
export function nightBusyMessage(run: { runDate: string; runId: string }, other: NightLease): string {
  return (
    `${run.runDate} is being written by run ${other.runId} (${describePart(other.part)}, holder ${other.holder}, since ${at(other.acquiredAt)}, its lease ends at ${at(other.expiresAt)}); ` +
    `run ${run.runId} wrote nothing. Let run ${other.runId} finish: once it has completed the night (clientele status) nothing is left to do; ` +
    'if it stopped without completing it, run the night again once its lease has ended.'
  );
}

/** What a lease holder needs: the night, its run, the runs table, a clock and a log. */
export interface LeaseContext {
  config: Config;
  clients: Pick<AwsClients, 'documents'>;
  runDate: string;
  runId: string;
  /** Epoch ms. */
  clock: () => number;
  log: Log;
}

/** The lease as its attempt holds it. */
export interface HeldWriteLease {
  /**
   * Extends the lease before `step` writes; throws NightBusyError when it lapsed or another attempt
   * took it over, so that the step writes nothing.
   */
  confirm(step: 'write' | 'finish'): Promise<void>;
}

/**
 * Runs `write` holding the lease on `work`; fails with NightBusyError, before `write` starts,
 * while another attempt holds that lease or another run writes the night.
 */
export async function withWriteLease<T>(context: LeaseContext, work: LeasedWork, write: (lease: HeldWriteLease) => Promise<T>): Promise<T> {
  const { config, clients, runDate, runId, log } = context;
  const table = tableNames(config).runs;
  const part = partOf(work);
  // Unique per attempt: the run id and part are the same on every retry.
  const holder = `${runId}/${work.kind === 'shard' ? work.shard.index : work.kind}/${randomUUID()}`;
  const outcome = await acquireWriteLease(clients.documents, table, writeLeaseKey(runDate, runId, work), { holder, now: context.clock(), durationMs: WRITE_LEASE_MS });
  if (!('acquired' in outcome)) {
    log.error('write refused: another attempt holds its lease, nothing written', { part, holder: outcome.heldBy?.holder, expiresAt: outcome.heldBy?.expiresAt });
    throw new NightBusyError(sameLeaseBusyMessage({ runDate, runId, work }, outcome.heldBy));
  }
  let lease = outcome.acquired;
  if (lease.attempt > 1) log.info('write lease taken again', { part, attempt: lease.attempt });
  let renewal: NodeJS.Timeout | undefined;
  try {
    const running = await liveWriteLeases(clients.documents, table, WRITE_LEASE_JOB, `${runDate}#`, context.clock());
    const [other] = conflictingLeases({ runId, work, holder }, running.flatMap((held) => nightLeaseOf(held) ?? []));
    if (other !== undefined) {
      log.error('write refused: another run is writing the night, nothing written', { part, otherRunId: other.runId, otherPart: other.part, expiresAt: other.expiresAt });
      throw new NightBusyError(nightBusyMessage({ runDate, runId }, other));
    }
    let lapsed = false;
    const renew = async (): Promise<boolean> => {
      if (lapsed) return false;
      const renewed = await renewWriteLease(clients.documents, table, lease, { now: context.clock(), durationMs: WRITE_LEASE_MS });
      if (renewed) lease = renewed;
      else lapsed = true;
      return !lapsed;
    };
    renewal = setInterval(() => {
      // Said once: a lapsed lease stays lapsed, and the next confirm refuses.
      if (lapsed) return;
      renew().then(
        (held) => {
          if (!held) log.error('write lease lapsed or taken over while this attempt runs', { part, expiresAt: lease.expiresAt });
        },
        // Tried again at the next tick; the lease lasts four of them.
        (error: unknown) => log.warn('write lease not extended', { part, expiresAt: lease.expiresAt, error: error instanceof Error ? error.message : String(error) }),
      );
    }, RENEW_EVERY_MS);
    // The lease must not keep a finished process alive.
    renewal.unref();
    return await write({
      confirm: async (step) => {
        if (await renew()) return;
        log.error(`${step} refused: this attempt no longer holds its write lease, nothing written`, { part, expiresAt: lease.expiresAt });
        throw new NightBusyError(
          `${runDate}: the write lease of run ${runId} (${describePart(part)}) ended at ${at(lease.expiresAt)} or was taken over before its ${step}; this attempt stopped there. ` +
            'Another attempt may be writing the night: let it finish (clientele status), or run the night again once no lease is held.',
        );
      },
    });
  } finally {
    if (renewal !== undefined) clearInterval(renewal);
    // Freed on failure too, so that a retry need not wait for the lease to expire. A release that
    // fails (DynamoDB unreachable) leaves the lease to expire; the write's own error goes on.
    await releaseWriteLease(clients.documents, table, lease).then(
      (released) => {
        if (!released) log.error('write lease was taken over while this attempt wrote', { part });
      },
      (error: unknown) => log.warn('write lease not freed: it expires on its own', { part, expiresAt: lease.expiresAt, error: error instanceof Error ? error.message : String(error) }),
    );
  }
}
