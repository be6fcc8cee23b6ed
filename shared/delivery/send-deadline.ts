import { SES_TIMEOUTS } from '#shared/aws/clients.ts';
import type { SesMailer } from './ses-mailer.ts';

/**
 * A run's deadline for sending: the last instant (epoch ms) an email's SES call may start. A Lambda
 * is killed at its timeout wherever it is; between a claim and SES's answer that leaves the email
 * `claimed` and unsent, which nobody resends. So a run stops claiming once the next email's pacing
 * wait would pass the deadline, and the deadline itself keeps, before the Lambda's end, room for
 * that last email and for the run to end normally (its summary, records and metrics).
 */

/**
 * After the last SES call starts: the call itself, to its bound (connect, then answer: SES_TIMEOUTS),
 * then the outcome's ledger writes and the run's end (the unresolved sends' query, the summary, the
 * runs table, metrics; the nightly's report and its team email after the digests). A throttled or
 * unreachable email's retries start by the deadline too, or not at all (the mailer's retryDeadline).
 */
export const AFTER_LAST_CALL_MS = SES_TIMEOUTS.connectionMs + SES_TIMEOUTS.answerMs + 25_000;

/**
 * The deadline of a run given `remainingMs` from `now` (a Lambda's getRemainingTimeInMillis()):
 * minus one paced send at `ratePerSecond` (an email that got its turn just before the deadline) and
 * what follows the last call (AFTER_LAST_CALL_MS).
 */
export function sendingDeadline(now: number, remainingMs: number, ratePerSecond: number): number {
  return now + remainingMs - Math.ceil(1000 / ratePerSecond) - AFTER_LAST_CALL_MS;
}

/** Whether an email whose SES call can start in `paceWaitMs` (the mailer's pacing) may be claimed at `now`: it starts by the deadline (none: no limit). */
export function mayClaimBefore(deadline: number | undefined, now: number, paceWaitMs: number): boolean {
  return deadline === undefined || now + paceWaitMs <= deadline;
}

/** The log and summary text of a run that stopped at its deadline. */
function deadlineMessage(deadline: number): string {
  return `The run's deadline (${new Date(deadline).toISOString()}) leaves no time for another email: the remaining ones wait for a later run`;
}

/**
 * Why the next email may not be claimed now (deadlineMessage): its SES call, after `mailer`'s
 * pacing wait, would start past the deadline. Undefined while it may, or without a deadline.
 */
export function deadlinePassed(deadline: number | undefined, mailer: Pick<SesMailer, 'nextCallInMs'>, now: number = Date.now()): string | undefined {
  if (deadline === undefined || mayClaimBefore(deadline, now, mailer.nextCallInMs?.() ?? 0)) return undefined;
  return deadlineMessage(deadline);
}
