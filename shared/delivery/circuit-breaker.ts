import { isTransportFailure, type SendOutcome } from './outcome.ts';

/**
 * The run's circuit breaker: after `threshold` emails in a row whose send failed on the way to SES
 * (unreachable, or maybe sent: a timeout, a reset, a 5xx) or whose request SES refused without
 * naming the recipient (a bad request: a configuration problem every email meets), the run stops
 * sending and leaves the rest for a later hour instead of failing through the whole list. Pure:
 * the run folds each outcome into the state.
 *
 * Any other outcome that reached SES and was answered (sent, rejected, throttled past the retries)
 * closes the streak, so one address SES refuses as a bad request cannot stop a run alone; one
 * decided without calling SES (an unusable address, an email not composed, a halted mailer:
 * attempts 0) says nothing about the way to SES and leaves it as it is.
 */

export interface BreakerState {
  /** Transport failures and refused requests in a row. */
  consecutive: number;
  /** Once open, it stays open for the rest of the run. */
  open: boolean;
  /** The last such failure's reason, for the report. */
  lastFailure?: string;
}

export const CLOSED_BREAKER: BreakerState = { consecutive: 0, open: false };

export function afterOutcome(state: BreakerState, outcome: SendOutcome, threshold: number): BreakerState {
  if (!Number.isInteger(threshold) || threshold < 1) throw new RangeError(`circuit breaker threshold must be a whole number >= 1, got ${threshold}`);
  if (state.open) return state;
  if (isTransportFailure(outcome) || (outcome.status === 'not-sent' && outcome.scope === 'request')) {
    const consecutive = state.consecutive + 1;
    const reason = outcome.status === 'sent' ? undefined : outcome.reason;
    return { consecutive, open: consecutive >= threshold, ...(reason !== undefined ? { lastFailure: reason } : {}) };
  }
  if (outcome.attempts === 0) return state;
  return CLOSED_BREAKER;
}
