import { connectionFailureOf, httpStatusOf, systemErrorCode } from '#shared/aws/errors.ts';
import { maskEmail } from '#shared/log.ts';
import type { Outcome } from '#shared/store/ledger-store.ts';

/**
 * What became of an email handed to SES, and what the send ledger records of it: one reading of
 * SES's answers for every sender of the suite (campaigns, advisors' digests, the team email).
 */

/** SES took the email. */
export interface Sent {
  status: 'sent';
  messageId: string;
  /** SES calls made for this email (1 + throttled retries). */
  attempts: number;
}

/** Nothing went out, for certain. */
export interface NotSent {
  status: 'not-sent';
  /**
   * 'later': the email itself is fine and a later try may send it (throttled past the retries, SES
   * unreachable, the account paused, the request refused, the email not composed); 'never': it
   * cannot be sent as it is (a refused or unusable recipient).
   */
  retry: 'later' | 'never';
  /**
   * 'message': this email alone. 'account': every other send of this run would fail the same way
   * (paused, quota, identity): stop sending. 'connection': SES could not be reached (connection
   * refused, DNS, TLS): a transport failure, counted by the run's circuit breaker. 'request': SES
   * refused the request itself, saying nothing of the recipient (a deleted configuration set, a bad
   * header or tag): most likely every email alike, so the circuit breaker counts it too.
   */
  scope: 'message' | 'account' | 'connection' | 'request';
  /** SES's error name, e.g. 'MessageRejected', a socket error code ('ECONNREFUSED'), or ours: 'InvalidRecipient', 'InvalidEmail', 'MailerHalted'. */
  errorName: string;
  /** Why, starting with the error's name, any address in it masked: 'MessageRejected: Email address is not verified.' */
  reason: string;
  attempts: number;
}

/** SES may have taken it (a timeout or a reset after the request left, a server error): never resend it blindly. */
export interface MaybeSent {
  status: 'maybe-sent';
  errorName: string;
  reason: string;
  attempts: number;
}

export type SendOutcome = Sent | NotSent | MaybeSent;

/**
 * What an SES v2 SendEmail error means for the run. Decided by the error's name (the SDK sets it
 * to the service's error code) and HTTP status, so it works the same for the SDK's exception
 * classes and for plain errors.
 *
 * - throttled:   SES refused for rate; nothing was sent; retry after a pause.
 * - recipient:   SES rejected this message (MessageRejected); the others can go.
 * - request:     SES refused the request without naming the recipient (BadRequestException,
 *                InvalidParameterValue, ValidationException, any other 4xx): a configuration
 *                problem every email meets (the identity's default configuration set deleted, a
 *                header or tag) or, rarer, this one's address; nothing was sent; a later try may send it.
 * - account:     nothing will be sent this run (sending paused, account suspended, daily quota,
 *                identity or configuration set missing, no permission); nothing was sent.
 * - unreachable: the request never reached SES (connection refused, DNS, TLS, no connection
 *                within the timeout: shared/aws/errors.ts); nothing was sent; retry after a pause.
 * - unknown:     a server error (5xx), or the connection broke or timed out after the request
 *                left (reset, socket hang up), or an error we cannot read: SES may have taken it.
 */

export type SesErrorKind = 'throttled' | 'recipient' | 'request' | 'account' | 'unreachable' | 'unknown';

export interface SesErrorClass {
  kind: SesErrorKind;
  /** The error's name, e.g. 'MessageRejected'. */
  name: string;
  /** The error's message, with any email address in it masked. */
  message: string;
}

const THROTTLING = new Set(['TooManyRequestsException', 'ThrottlingException', 'Throttling', 'ThrottledException']);
const ACCOUNT = new Set([
  'SendingPausedException',
  'AccountSuspendedException',
  // Same sending identity for the whole run: every message would fail the same way.
  'MailFromDomainNotVerifiedException',
  // Configuration set or identity missing.
  'NotFoundException',
  'AccessDeniedException',
  'AccessDenied',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'ExpiredTokenException',
  'ExpiredToken',
]);
const RECIPIENT = new Set(['MessageRejected']);
/** SES's name for a request it will not take (SESv2, SES v1, the SDK's own validation): nothing in it says the recipient is to blame. */
const REQUEST = new Set(['BadRequestException', 'InvalidParameterValue', 'ValidationException']);
/**
 * MessageRejected "Email address is not verified" names an identity that failed the check: in
 * production that is our own From address (every message fails alike); in the sandbox it is the
 * recipient, but the sender does not mail clients from the sandbox (sending-plan.ts).
 */
const NOT_VERIFIED = /not verified/i;
/**
 * SES's words for the account's 24-hour quota spent. AWS documents them under a throttling error
 * (ThrottlingException, Throttling or TooManyRequestsException, per API version) as well as under
 * LimitExceededException: retrying would not help, nothing more goes today.
 */
const DAILY_QUOTA_EXCEEDED = /daily message quota exceeded/i;

const ADDRESS_IN_TEXT = /[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;

/** SES messages may quote the recipient ("... failed the check: jane@x.com"); reasons are logged and stored. */
export function redactEmails(text: string): string {
  return text.replace(ADDRESS_IN_TEXT, (address) => maskEmail(address) ?? '***');
}

export function classifySesError(error: unknown): SesErrorClass {
  const code = systemErrorCode(error);
  const errorName = error instanceof Error ? error.name : 'UnknownError';
  // A socket error is a plain Error: its code says more than its name.
  const name = errorName === 'Error' && code !== undefined ? code : errorName;
  const text = error instanceof Error ? error.message : String(error);
  const status = httpStatusOf(error);
  // A server error the SDK could not read (no SES error in its body) says only "UnknownError": its status is what the operator settling the maybe-sent needs.
  const withStatus = status !== undefined && status >= 500 && !text.includes(String(status)) ? `${text} (HTTP ${status})` : text;
  const message = redactEmails(code !== undefined && code !== name && !text.includes(code) ? `${withStatus} (${code})` : withStatus);
  const of = (kind: SesErrorKind): SesErrorClass => ({ kind, name, message });
  const connection = connectionFailureOf(error);
  if (connection === 'not-connected') return of('unreachable');
  if (connection === 'interrupted') return of('unknown');
  if (DAILY_QUOTA_EXCEEDED.test(message)) return of('account');
  if (THROTTLING.has(name)) return of('throttled');
  // LimitExceededException covers both the per-second rate (wait and retry) and the daily quota
  // (nothing more today, read above): only the message tells them apart.
  if (name === 'LimitExceededException') return of(/maximum sending rate exceeded/i.test(message) ? 'throttled' : 'account');
  if (ACCOUNT.has(name)) return of('account');
  if (name === 'MessageRejected' && NOT_VERIFIED.test(message)) return of('account');
  if (RECIPIENT.has(name)) return of('recipient');
  if (REQUEST.has(name)) return of('request');
  if (status === 429) return of('throttled');
  if (status === 401 || status === 403) return of('account');
  // Any other 4xx is SES refusing this request: nothing was sent, and nothing says the recipient is why.
  if (status !== undefined && status >= 400 && status < 500) return of('request');
  return of('unknown');
}

/**
 * The outcome of a SendEmail call that threw, after `attempts` calls. A throttling error is only an
 * outcome once the caller stops retrying it: nothing was sent, a later try may send it.
 */
export function sesErrorOutcome(error: unknown, attempts: number): NotSent | MaybeSent {
  const { kind, name, message } = classifySesError(error);
  const reason = `${name}: ${message}`;
  switch (kind) {
    case 'throttled':
      return { status: 'not-sent', retry: 'later', scope: 'message', errorName: name, reason: `throttled ${attempts} times: ${reason}`, attempts };
    case 'account':
      return { status: 'not-sent', retry: 'later', scope: 'account', errorName: name, reason, attempts };
    case 'recipient':
      return { status: 'not-sent', retry: 'never', scope: 'message', errorName: name, reason, attempts };
    case 'request':
      return {
        status: 'not-sent',
        retry: 'later',
        scope: 'request',
        errorName: name,
        reason: `${reason} (SES refused the request, not the recipient: looks like a request or configuration problem, e.g. the configuration set, a header or a tag)`,
        attempts,
      };
    case 'unreachable':
      return { status: 'not-sent', retry: 'later', scope: 'connection', errorName: name, reason: `unreachable after ${attempts} attempts: ${reason}`, attempts };
    case 'unknown':
      return { status: 'maybe-sent', errorName: name, reason, attempts };
  }
}

/** SES refused the account because its 24-hour quota is spent (an email refused after it halted the mailer included): nothing more goes today. */
export function isDailyQuotaExceeded(outcome: SendOutcome): boolean {
  return outcome.status === 'not-sent' && outcome.scope === 'account' && DAILY_QUOTA_EXCEEDED.test(outcome.reason);
}

/**
 * A failure of the way to SES rather than of this email: SES could not be reached, or the
 * connection broke (or SES failed) after the request left. The run's circuit breaker counts them.
 */
export function isTransportFailure(outcome: SendOutcome): boolean {
  return outcome.status === 'maybe-sent' || (outcome.status === 'not-sent' && outcome.scope === 'connection');
}

/**
 * What the send ledger records of an outcome, at the run's clock `at`: 'sent'; 'deferred' when
 * nothing went out and a later try may send it (from `retryAt` on, when given): the claim is
 * released; 'failed' when it cannot be sent; 'maybe-sent' when SES may have taken it (kept, reported,
 * never resent blindly).
 */
export function ledgerOutcomeOf(outcome: SendOutcome, at: number, retryAt?: number): Outcome {
  switch (outcome.status) {
    case 'sent':
      return { status: 'sent', messageId: outcome.messageId, sentAt: at };
    case 'not-sent':
      return outcome.retry === 'later'
        ? { status: 'deferred', reason: outcome.reason, ...(retryAt !== undefined ? { deferredUntil: retryAt } : {}) }
        : { status: 'failed', reason: outcome.reason };
    case 'maybe-sent':
      return { status: 'maybe-sent', reason: outcome.reason };
  }
}
