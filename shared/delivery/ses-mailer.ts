import { maskEmail, silentLog, type Log } from '#shared/log.ts';
import { classifySesError, sesErrorOutcome, type NotSent, type SendOutcome } from './outcome.ts';
import { InvalidEmailError, isSendableAddress, sendEmailCommand, type OutgoingEmail, type SesSender } from './ses-email.ts';
import { burstFor, systemClock, TokenBucket, type Clock } from './token-bucket.ts';

/**
 * Sends emails through SES v2 SendEmail, paced by a token bucket at the configured rate, retrying
 * throttling, and an SES that could not be reached (connection refused, DNS, TLS: nothing was
 * sent), with exponential backoff and jitter. Every outcome is a value (outcome.ts): a refused
 * recipient fails alone and the run goes on; an account-level refusal (sending paused, suspended,
 * quota) halts the mailer, which then refuses every later send without calling SES.
 *
 * The mailer never resends after an error whose outcome is unknown (timeout, 5xx): SES has no
 * idempotency key, so such a message is 'maybe-sent' and left to the ledger.
 */

export interface MailerOptions {
  /** Emails per second; at most the account's SES maximum send rate. */
  maxSendRate: number;
  /** SES calls per email when throttled (default 6). */
  maxAttempts?: number;
  /** SES calls per email while SES cannot be reached (default 3); then the email is released for later. */
  connectAttempts?: number;
  /** First backoff delay in ms, doubled per retry (default 250). */
  baseDelayMs?: number;
  /** Longest backoff delay in ms (default 10 000). */
  maxDelayMs?: number;
  /**
   * The last instant (epoch ms, real clock) a retried SES call may start: the run's deadline
   * (send-deadline.ts). A throttled or unreachable email whose retry (its pause, its pacing wait)
   * would start later is given back, not sent, for a later run: past the deadline the Lambda may be
   * killed before SES answers, leaving the email claimed and unsent. None: no limit.
   */
  retryDeadline?: number;
  /** Injected so tests run without real waiting; used by the pacing and the backoff. */
  sleep?: (ms: number) => Promise<void>;
  /** Milliseconds on a monotonic scale (performance.now() by default). */
  now?: () => number;
  random?: () => number;
  log?: Log;
}

export interface MailerStats {
  sent: number;
  /** Emails that ended in a failure (any kind). */
  failed: number;
  /** SES calls that were throttled and retried. */
  throttledRetries: number;
  /** SES calls that could not reach SES and were retried. */
  unreachableRetries: number;
  /** Most SES calls made within any 1 s window. */
  maxObservedRate: number;
  /** Why the mailer stopped sending, once an account-level error happened. */
  haltedBy?: string;
}

export interface SesMailer {
  send(email: OutgoingEmail): Promise<SendOutcome>;
  stats(): MailerStats;
  /** Ms until a send now would call SES (its pacing wait); absent: no pacing (0). Read before a claim, against the run's deadline. */
  nextCallInMs?(): number;
}

export function createSesMailer(ses: SesSender, options: MailerOptions): SesMailer {
  const maxAttempts = options.maxAttempts ?? 6;
  const connectAttempts = options.connectAttempts ?? 3;
  const baseDelay = options.baseDelayMs ?? 250;
  const maxDelay = options.maxDelayMs ?? 10_000;
  const random = options.random ?? Math.random;
  const log = options.log ?? silentLog;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError(`maxAttempts must be a whole number >= 1, got ${maxAttempts}`);
  if (!Number.isInteger(connectAttempts) || connectAttempts < 1) throw new RangeError(`connectAttempts must be a whole number >= 1, got ${connectAttempts}`);
  const clock: Clock = { now: options.now ?? systemClock.now, sleep: options.sleep ?? systemClock.sleep };
  const bucket = new TokenBucket(options.maxSendRate, burstFor(options.maxSendRate), clock);
  // The deadline on the mailer's own (monotonic) clock, read once.
  const retryUntil = options.retryDeadline === undefined ? undefined : clock.now() + (options.retryDeadline - Date.now());

  const stats: MailerStats = { sent: 0, failed: 0, throttledRetries: 0, unreachableRetries: 0, maxObservedRate: 0 };
  // SES call times within the last second, for maxObservedRate.
  const recentCalls: number[] = [];
  let halt: NotSent | undefined;
  // Read through a function: other sends set it while this one awaits, which narrowing cannot see.
  const halted = (): NotSent | undefined => halt;

  const observeCall = () => {
    const now = clock.now();
    recentCalls.push(now);
    while (recentCalls.length > 0 && (recentCalls[0] ?? now) <= now - 1000) recentCalls.shift();
    stats.maxObservedRate = Math.max(stats.maxObservedRate, recentCalls.length);
  };

  // Equal jitter: at least half the exponential delay, so retries of many throttled sends spread out.
  const backoffMs = (retry: number) => {
    const cap = Math.min(maxDelay, baseDelay * 2 ** (retry - 1));
    return Math.round(cap / 2 + random() * (cap / 2));
  };
  const retryStartsInTime = (pauseMs: number) => retryUntil === undefined || clock.now() + pauseMs + bucket.waitMs() <= retryUntil;

  const fail = <T extends Exclude<SendOutcome, { status: 'sent' }>>(outcome: T, to: string): T => {
    stats.failed++;
    // A refused request is ours to fix (a configuration set, a header), as an account refusal is.
    const level = outcome.status === 'maybe-sent' || (outcome.status === 'not-sent' && (outcome.scope === 'account' || outcome.scope === 'request')) ? 'error' : 'warn';
    log[level]('email not sent', {
      to: maskEmail(to),
      status: outcome.status,
      ...(outcome.status === 'not-sent' ? { retry: outcome.retry, scope: outcome.scope } : {}),
      errorName: outcome.errorName,
      reason: outcome.reason,
      attempts: outcome.attempts,
    });
    return outcome;
  };

  /** A send refused because an earlier one halted the mailer: nothing went out, a later run may send it. */
  const refusedAfterHalt = (stopped: NotSent, attempts: number, to: string): NotSent =>
    fail({ ...stopped, errorName: 'MailerHalted', reason: `MailerHalted: not sent, ${stopped.reason}`, attempts }, to);

  const send = async (email: OutgoingEmail): Promise<SendOutcome> => {
    const stopped = halted();
    if (stopped) return refusedAfterHalt(stopped, 0, email.to);
    const to = email.to.trim();
    if (!isSendableAddress(to)) {
      const reason = to.length === 0 ? 'InvalidRecipient: no recipient address' : 'InvalidRecipient: recipient address is not sendable';
      return fail({ status: 'not-sent', retry: 'never', scope: 'message', errorName: 'InvalidRecipient', reason, attempts: 0 }, email.to);
    }
    let command: ReturnType<typeof sendEmailCommand>;
    try {
      command = sendEmailCommand(email);
    } catch (error) {
      if (!(error instanceof InvalidEmailError)) throw error;
      // Our content or settings (a template, the From address), not the recipient: fixed, it can go later.
      return fail({ status: 'not-sent', retry: 'later', scope: 'message', errorName: 'InvalidEmail', reason: `InvalidEmail: ${error.message}`, attempts: 0 }, email.to);
    }
    for (let attempt = 1; ; attempt++) {
      await bucket.take();
      // Another send may have halted the mailer while this one waited for its token.
      const stoppedMeanwhile = halted();
      if (stoppedMeanwhile) return refusedAfterHalt(stoppedMeanwhile, attempt - 1, email.to);
      observeCall();
      try {
        const output = await ses.send(command);
        stats.sent++;
        // SES always returns an id; an empty one still means accepted, so it is reported as sent.
        return { status: 'sent', messageId: output.MessageId ?? '', attempts: attempt };
      } catch (error) {
        const { kind, name } = classifySesError(error);
        // Throttled, or SES not reached: nothing was sent, so the same email may be tried again after a pause.
        const retryable = (kind === 'throttled' && attempt < maxAttempts) || (kind === 'unreachable' && attempt < connectAttempts);
        const pause = retryable ? backoffMs(attempt) : 0;
        if (retryable && retryStartsInTime(pause)) {
          if (kind === 'throttled') stats.throttledRetries++;
          else stats.unreachableRetries++;
          log.debug(kind === 'throttled' ? 'throttled by SES, retrying' : 'SES unreachable, retrying', { to: maskEmail(email.to), attempt, errorName: name });
          await clock.sleep(pause);
          continue;
        }
        const outcome = sesErrorOutcome(error, attempt);
        if (retryable && outcome.status === 'not-sent') return fail({ ...outcome, reason: `${outcome.reason} (not retried: the run's deadline is near)` }, email.to);
        if (outcome.status === 'not-sent' && outcome.scope === 'account') {
          halt ??= outcome;
          stats.haltedBy ??= outcome.reason;
        }
        return fail(outcome, email.to);
      }
    }
  };

  return { send, stats: () => ({ ...stats }), nextCallInMs: () => bucket.waitMs() };
}
