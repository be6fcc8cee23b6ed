import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { silentLog, type Log } from '#shared/log.ts';
import { claimOccasion, recordOutcome, type ClaimRequest, type LedgerKey } from '#shared/store/ledger-store.ts';
import { ledgerOutcomeOf, type NotSent, type SendOutcome } from './outcome.ts';
import type { OutgoingEmail } from './ses-email.ts';
import type { SesMailer } from './ses-mailer.ts';

/**
 * The one way the suite sends an email: claim it in the send ledger, send it through SES, record
 * the outcome. Every sender (the campaigns, the advisors' digests, the team email) goes through
 * these steps, so an email is sent at most once however often a run is repeated or overlaps:
 *
 *  1. claimEach: a conditional write per ledger key; exactly one run wins each key, every other
 *     run (a concurrent one, a rerun) finds it taken and must not send.
 *  2. deliverClaimed: send through the mailer, then record what became of it on every key the
 *     email settles: 'sent'; 'deferred' when nothing went out and a later run may try again;
 *     'failed' when it cannot be sent, or may have been (never resent blindly).
 *  3. releaseClaims: hand back keys a run won but will not send (another run owns the email).
 *
 * A step that fails between the claim and the SES call (a ledger read, composing) settles the
 * claims 'deferred' (deferUnsent), as nothing went out. A claim whose run died between steps 1 and 2
 * stays 'claimed': the ledger reports it as stale, and nobody resends it, because SES may have
 * taken it before the crash.
 */

export interface LedgerTable {
  documents: Pick<DynamoDBDocumentClient, 'send'>;
  table: string;
}

export interface ClaimResults {
  /** Won by this run: send, then record. */
  claimed: ClaimRequest[];
  /** Held by another run, or already settled: do not send. */
  taken: ClaimRequest[];
  /** Not written: the client is on the erasure list (ClaimRequest.unlessErased). The keys after the first such one are not tried. */
  erased: ClaimRequest[];
}

/** Whether SES took the email or may have (a ledger status or a delivery outcome): either way it is never sent again. */
export function mayHaveGone(status: string | undefined): boolean {
  return status === 'sent' || status === 'maybe-sent';
}

/**
 * Claims each key in order (step 1). A claim that fails hands back the keys won before it, and its
 * own in case it was written (no email goes), then throws: left 'claimed', they would never be sent.
 */
export async function claimEach(ledger: LedgerTable, requests: readonly ClaimRequest[]): Promise<ClaimResults> {
  const results: ClaimResults = { claimed: [], taken: [], erased: [] };
  for (const request of requests) {
    let result: Awaited<ReturnType<typeof claimOccasion>>;
    try {
      result = await claimOccasion(ledger.documents, ledger.table, request);
    } catch (error) {
      await releaseClaims(ledger, [...results.claimed, request], request.runId, 'claim-interrupted', request.now);
      throw error;
    }
    if (result === 'erased') {
      results.erased.push(request);
      break;
    }
    (result === 'claimed' ? results.claimed : results.taken).push(request);
  }
  return results;
}

export interface DeliverClaimedOptions {
  ledger: LedgerTable;
  /** The run holding the claims: only it may record their outcome. */
  runId: string;
  /** Epoch ms, the run's clock: the sent time recorded. */
  at: number;
  /** Every ledger key this email settles, all claimed by this run (a campaign email may settle several occasions). */
  claimed: readonly LedgerKey[];
  /** The email, or how to compose it (a failure to compose is an outcome: not sent, try later). */
  email: OutgoingEmail | (() => Promise<OutgoingEmail>);
  mailer: SesMailer;
  /** When an email that surely did not go out may be tried again (the ledger's deferredUntil); any later run when absent. */
  retryAt?: number;
  log?: Log;
}

export interface Delivery {
  outcome: SendOutcome;
  /** Keys whose outcome could not be recorded: this run no longer held their claim (the ledger changed under it). */
  notRecorded: LedgerKey[];
}

/** Sends a claimed email and records its outcome on every key it settles (step 2). */
export async function deliverClaimed(options: DeliverClaimedOptions): Promise<Delivery> {
  const email = await composed(options.email, options.log ?? silentLog);
  const outcome = 'status' in email ? email : await options.mailer.send(email);
  return { outcome, notRecorded: await recordDelivery(options, outcome) };
}

/** What settling claimed keys needs: the delivery's options without the email. */
export type SettleOptions = Omit<DeliverClaimedOptions, 'email' | 'mailer'>;

/**
 * Step 2 cut short: a step between the claim and SES failed (`errorName` says which). Nothing went
 * out, so the keys are recorded as for an email not composed: 'deferred', for a later run.
 */
export async function deferUnsent(options: SettleOptions, errorName: string, error: unknown): Promise<Delivery> {
  const outcome = notSentBefore(errorName, error, options.log ?? silentLog);
  return { outcome, notRecorded: await recordDelivery(options, outcome) };
}

async function recordDelivery(options: SettleOptions, outcome: SendOutcome): Promise<LedgerKey[]> {
  const { ledger, runId, at } = options;
  const log = options.log ?? silentLog;
  const notRecorded: LedgerKey[] = [];
  const record = ledgerOutcomeOf(outcome, at, options.retryAt);
  for (const key of options.claimed) {
    const recorded = await recordOutcome(ledger.documents, ledger.table, key, runId, record, at);
    if (recorded === 'not-claimant') {
      notRecorded.push(key);
      log.error('outcome not recorded: this run no longer holds the claim', { customerId: key.customerId, occasionKey: key.occasionKey, status: record.status });
    }
  }
  return notRecorded;
}

/** The email, or the outcome of failing to compose it: nothing went out, and a later run may try again. */
async function composed(email: DeliverClaimedOptions['email'], log: Log): Promise<OutgoingEmail | NotSent> {
  if (typeof email !== 'function') return email;
  try {
    return await email();
  } catch (error) {
    return notSentBefore('ComposeError', error, log);
  }
}

/** A step before the SES call failed: nothing went out, and a later run may try again. */
function notSentBefore(errorName: string, error: unknown, log: Log): NotSent {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  log.error('email not sent: a step before SES failed', { errorName, error: reason });
  return { status: 'not-sent', retry: 'later', scope: 'message', errorName, reason: `${errorName}: ${reason}`, attempts: 0 };
}

/** Hands back keys this run claimed but will not send, for a later run (step 3). */
export async function releaseClaims(ledger: LedgerTable, keys: readonly LedgerKey[], runId: string, reason: string, at: number): Promise<void> {
  for (const key of keys) await recordOutcome(ledger.documents, ledger.table, key, runId, { status: 'deferred', reason }, at);
}
