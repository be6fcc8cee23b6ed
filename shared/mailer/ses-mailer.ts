import { SendEmailCommand, type MessageHeader, type MessageTag, type SendEmailCommandOutput } from '@aws-sdk/client-sesv2';
import { maskEmail, silentLog, type Log } from '#shared/log.ts';
import { classifySesError } from './errors.ts';
import { burstFor, systemClock, TokenBucket, type Clock } from './token-bucket.ts';

/**
 * Sends campaign emails through SES v2 SendEmail (Simple content: subject, HTML and text in
 * UTF-8, custom headers), paced by a token bucket at the configured rate, retrying throttling
 * with exponential backoff and jitter. Failures are values: a rejected recipient is reported
 * (permanent) and the run goes on; an account-level refusal (sending paused, suspended, quota)
 * halts the mailer (haltRun, not permanent: nothing was sent, a later run may send it), which then
 * refuses every later send without calling SES.
 *
 * The mailer never resends after an error whose outcome is unknown (timeout, 5xx): SES has no
 * idempotency key, so such a message is reported with maybeSent = true and left to the ledger.
 */

export interface OutgoingEmail {
  to: string;
  /** 'hello@brand.com' or 'Maison <hello@brand.com>' (a non-ASCII name is encoded for SES). */
  from: string;
  subject: string;
  html: string;
  text: string;
  configurationSetName?: string;
  /** Message tags (campaign, tier...) for SES events; names and values are sanitised to [A-Za-z0-9_-]. */
  tags: Record<string, string>;
  /**
   * The one-click unsubscribe URL (RFC 8058): https, or http on a loopback host for the local demo.
   * Every email to a client carries one; only the brand's own operational emails (the nightly
   * report to the team's configured addresses) go without List-Unsubscribe headers.
   */
  listUnsubscribeUrl?: string;
  /** Optional mailto alternative, with or without the `mailto:` prefix. */
  listUnsubscribeMailto?: string;
}

export type SendResult = SendSuccess | SendFailure;

export interface SendSuccess {
  ok: true;
  messageId: string;
  /** SES calls made for this email (1 + throttled retries). */
  attempts: number;
}

export interface SendFailure {
  ok: false;
  /**
   * True: sending this message again will never help (rejected recipient, invalid address): record
   * it as failed. False for account-level refusals (haltRun): the message itself is fine and a
   * later run may send it once the account can send again.
   */
  permanent: boolean;
  reason: string;
  /** SES's error name, e.g. 'MessageRejected', or 'InvalidRecipient' / 'MailerHalted'. */
  errorName: string;
  /** The account cannot send this run (paused, suspended, quota, permissions): stop the run. Nothing was sent. */
  haltRun: boolean;
  /** SES may have taken the message (timeout, server error): record it, never resend blindly. */
  maybeSent: boolean;
  attempts: number;
}

export interface MailerOptions {
  /** Emails per second; at most the account's SES maximum send rate. */
  maxSendRate: number;
  /** SES calls per email when throttled (default 6). */
  maxAttempts?: number;
  /** First backoff delay in ms, doubled per retry (default 250). */
  baseDelayMs?: number;
  /** Longest backoff delay in ms (default 10 000). */
  maxDelayMs?: number;
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
  /** Most SES calls made within any 1 s window. */
  maxObservedRate: number;
  /** Why the mailer stopped sending, once an account-level error happened. */
  haltedBy?: string;
}

export interface SesMailer {
  send(email: OutgoingEmail): Promise<SendResult>;
  stats(): MailerStats;
}

/** What the mailer needs of an SESv2Client (tests wrap the real one). */
export interface SesSender {
  send(command: SendEmailCommand): Promise<SendEmailCommandOutput>;
}

export class InvalidEmailError extends Error {
  override name = 'InvalidEmailError';
}

const TAG_MAX = 256;

/** SES tag names and values: ASCII letters, digits, '_' and '-', at most 256 characters, not empty. */
export function sanitizeTag(value: string): string {
  const cleaned = value.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, TAG_MAX);
  return cleaned.length > 0 ? cleaned : '_';
}

export function emailTags(tags: Record<string, string>): MessageTag[] {
  const byName = new Map<string, string>();
  for (const [name, value] of Object.entries(tags)) byName.set(sanitizeTag(name), sanitizeTag(value));
  return [...byName].map(([Name, Value]) => ({ Name, Value }));
}

// Printable ASCII without spaces, one '@', a dotted domain: what SES takes (IDN domains must be punycode).
const ADDRESS = /^[!#-'*+\-./0-9=?A-Z^-~]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

export function isSendableAddress(address: string): boolean {
  return address.length <= 320 && ADDRESS.test(address);
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

function unsubscribeHttpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidEmailError('listUnsubscribeUrl is not a URL');
  }
  // RFC 8058 requires HTTPS for one-click; plain http only reaches a loopback emulator.
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) {
    throw new InvalidEmailError(`listUnsubscribeUrl must be https (RFC 8058), got ${url.protocol}`);
  }
  return url.href;
}

function unsubscribeMailto(value: string): string {
  const href = value.startsWith('mailto:') ? value : `mailto:${value}`;
  const address = href.slice('mailto:'.length).split('?')[0] ?? '';
  if (!isSendableAddress(address) || !PRINTABLE_ASCII.test(href) || /[<>,]/.test(href)) {
    throw new InvalidEmailError('listUnsubscribeMailto is not a usable mailto address');
  }
  return href;
}

/** The RFC 2369 / RFC 8058 headers: List-Unsubscribe (https first, then mailto) and List-Unsubscribe-Post. */
export function listUnsubscribeHeaders(url: string, mailto?: string): MessageHeader[] {
  const targets = [`<${unsubscribeHttpUrl(url)}>`, ...(mailto ? [`<${unsubscribeMailto(mailto)}>`] : [])];
  const value = targets.join(', ');
  // SES: printable ASCII, name + value at most 996 characters.
  if ('List-Unsubscribe'.length + value.length > 996) throw new InvalidEmailError('List-Unsubscribe header is too long');
  return [
    { Name: 'List-Unsubscribe', Value: value },
    { Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' },
  ];
}

/** RFC 2047 B-encoded words of at most 75 characters (45 bytes each), split between characters. */
function encodedWords(text: string): string {
  const words: string[] = [];
  let chunk = '';
  for (const char of text) {
    if (Buffer.byteLength(chunk + char, 'utf8') > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += char;
  }
  if (chunk) words.push(chunk);
  return words.map((word) => `=?UTF-8?B?${Buffer.from(word, 'utf8').toString('base64')}?=`).join(' ');
}

const NAME_SPECIALS = /[()<>[\]:;@\\,."]/;

/**
 * The From address, plain ('hello@brand.com') or with a display name ('Maison <hello@brand.com>').
 * SES wants a non-ASCII display name as an RFC 2047 encoded word, and specials quoted.
 */
export function formatFromAddress(from: string): string {
  const trimmed = from.trim();
  const match = /^(.*?)\s*<([^<>]+)>$/.exec(trimmed);
  const address = match ? (match[2] ?? '').trim() : trimmed;
  if (!isSendableAddress(address)) throw new InvalidEmailError('from is not a sendable address');
  const name = (match?.[1] ?? '').trim().replace(/^"(.*)"$/, '$1').replace(/[\r\n]+/g, ' ');
  if (name.length === 0) return address;
  if (!/^[\x20-\x7e]*$/.test(name)) return `${encodedWords(name)} <${address}>`;
  if (NAME_SPECIALS.test(name)) return `"${name.replace(/(["\\])/g, '\\$1')}" <${address}>`;
  return `${name} <${address}>`;
}

/** The SendEmail request for one email. Throws InvalidEmailError for content no recipient could get. */
export function sendEmailCommand(email: OutgoingEmail): SendEmailCommand {
  const from = formatFromAddress(email.from);
  // A subject is one line: a stray newline from a template would otherwise break the header.
  const subject = email.subject.replace(/\s*[\r\n]+\s*/g, ' ').trim();
  if (subject.length === 0) throw new InvalidEmailError('subject is empty');
  if (email.html.length === 0 && email.text.length === 0) throw new InvalidEmailError('both bodies are empty');
  const tags = emailTags(email.tags);
  return new SendEmailCommand({
    FromEmailAddress: from,
    Destination: { ToAddresses: [email.to.trim()] },
    Content: {
      Simple: {
        Subject: { Data: subject, Charset: 'UTF-8' },
        Body: {
          ...(email.html.length > 0 ? { Html: { Data: email.html, Charset: 'UTF-8' } } : {}),
          ...(email.text.length > 0 ? { Text: { Data: email.text, Charset: 'UTF-8' } } : {}),
        },
        ...(email.listUnsubscribeUrl ? { Headers: listUnsubscribeHeaders(email.listUnsubscribeUrl, email.listUnsubscribeMailto) } : {}),
      },
    },
    ...(tags.length > 0 ? { EmailTags: tags } : {}),
    ...(email.configurationSetName ? { ConfigurationSetName: email.configurationSetName } : {}),
  });
}

export function createSesMailer(ses: SesSender, options: MailerOptions): SesMailer {
  const maxAttempts = options.maxAttempts ?? 6;
  const baseDelay = options.baseDelayMs ?? 250;
  const maxDelay = options.maxDelayMs ?? 10_000;
  const random = options.random ?? Math.random;
  const log = options.log ?? silentLog;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError(`maxAttempts must be a whole number >= 1, got ${maxAttempts}`);
  const clock: Clock = { now: options.now ?? systemClock.now, sleep: options.sleep ?? systemClock.sleep };
  const bucket = new TokenBucket(options.maxSendRate, burstFor(options.maxSendRate), clock);

  const stats: MailerStats = { sent: 0, failed: 0, throttledRetries: 0, maxObservedRate: 0 };
  // SES call times within the last second, for maxObservedRate.
  const recentCalls: number[] = [];
  let halt: SendFailure | undefined;
  // Read through a function: other sends set it while this one awaits, which narrowing cannot see.
  const halted = (): SendFailure | undefined => halt;

  const observeCall = () => {
    const now = clock.now();
    recentCalls.push(now);
    while (recentCalls.length > 0 && (recentCalls[0] ?? now) <= now - 1000) recentCalls.shift();
    stats.maxObservedRate = Math.max(stats.maxObservedRate, recentCalls.length);
  };

  // Equal jitter: at least half the exponential delay, so retries of many throttled sends spread out.
  const backoff = (retry: number) => {
    const cap = Math.min(maxDelay, baseDelay * 2 ** (retry - 1));
    return clock.sleep(Math.round(cap / 2 + random() * (cap / 2)));
  };

  const fail = (failure: SendFailure, to: string): SendFailure => {
    stats.failed++;
    const level = failure.haltRun || failure.maybeSent ? 'error' : 'warn';
    log[level]('email not sent', {
      to: maskEmail(to),
      errorName: failure.errorName,
      reason: failure.reason,
      permanent: failure.permanent,
      haltRun: failure.haltRun,
      maybeSent: failure.maybeSent,
      attempts: failure.attempts,
    });
    return failure;
  };

  const send = async (email: OutgoingEmail): Promise<SendResult> => {
    const stopped = halted();
    if (stopped) return fail({ ...stopped, errorName: 'MailerHalted', reason: `not sent: ${stopped.reason}`, attempts: 0 }, email.to);
    if (!isSendableAddress(email.to.trim())) {
      return fail(
        { ok: false, permanent: true, reason: 'recipient address is not sendable', errorName: 'InvalidRecipient', haltRun: false, maybeSent: false, attempts: 0 },
        email.to,
      );
    }
    const command = sendEmailCommand(email);
    for (let attempt = 1; ; attempt++) {
      await bucket.take();
      // Another send may have halted the mailer while this one waited for its token.
      const stoppedMeanwhile = halted();
      if (stoppedMeanwhile) {
        return fail({ ...stoppedMeanwhile, errorName: 'MailerHalted', reason: `not sent: ${stoppedMeanwhile.reason}`, attempts: attempt - 1 }, email.to);
      }
      observeCall();
      try {
        const output = await ses.send(command);
        stats.sent++;
        // SES always returns an id; an empty one still means accepted, so it is reported as sent.
        return { ok: true, messageId: output.MessageId ?? '', attempts: attempt };
      } catch (error) {
        const { kind, name, message } = classifySesError(error);
        const reason = `${name}: ${message}`;
        if (kind === 'throttled') {
          if (attempt < maxAttempts) {
            stats.throttledRetries++;
            log.debug('throttled by SES, retrying', { to: maskEmail(email.to), attempt, errorName: name });
            await backoff(attempt);
            continue;
          }
          return fail({ ok: false, permanent: false, reason: `throttled ${attempt} times: ${reason}`, errorName: name, haltRun: false, maybeSent: false, attempts: attempt }, email.to);
        }
        if (kind === 'account') {
          // Not permanent for the message: it failed because of the account, so it can wait for a later run.
          const failure: SendFailure = { ok: false, permanent: false, reason, errorName: name, haltRun: true, maybeSent: false, attempts: attempt };
          halt ??= failure;
          stats.haltedBy ??= reason;
          return fail(failure, email.to);
        }
        if (kind === 'recipient') {
          return fail({ ok: false, permanent: true, reason, errorName: name, haltRun: false, maybeSent: false, attempts: attempt }, email.to);
        }
        return fail({ ok: false, permanent: false, reason, errorName: name, haltRun: false, maybeSent: true, attempts: attempt }, email.to);
      }
    }
  };

  return { send, stats: () => ({ ...stats }) };
}
