import { describe, expect, it } from 'vitest';
import { classifySesError, isDailyQuotaExceeded, isTransportFailure, ledgerOutcomeOf, sesErrorOutcome } from '#shared/delivery/outcome.ts';

const socketError = (code: string, syscall: string | undefined, message: string, name = 'Error') =>
  Object.assign(new Error(message), { name, code, ...(syscall ? { syscall } : {}), $metadata: { attempts: 1, totalRetryDelay: 0 } });
const named = (name: string, message = name, status?: number) =>
  Object.assign(new Error(message), { name, ...(status !== undefined ? { $metadata: { httpStatusCode: status } } : {}) });

describe('certainly not sent, or maybe sent', () => {
  it('reads a refused connection, a DNS failure or a TLS failure as unreachable: nothing went out', () => {
    expect(classifySesError(socketError('ECONNREFUSED', 'connect', 'connect ECONNREFUSED 127.0.0.1:4566'))).toEqual({
      kind: 'unreachable',
      name: 'ECONNREFUSED',
      message: 'connect ECONNREFUSED 127.0.0.1:4566',
    });
    expect(classifySesError(socketError('ENOTFOUND', 'getaddrinfo', 'getaddrinfo ENOTFOUND email.us-east-1.amazonaws.com')).kind).toBe('unreachable');
    expect(classifySesError(socketError('EAI_AGAIN', 'getaddrinfo', 'getaddrinfo EAI_AGAIN email.us-east-1.amazonaws.com')).kind).toBe('unreachable');
    expect(classifySesError(socketError('CERT_HAS_EXPIRED', undefined, 'certificate has expired')).kind).toBe('unreachable');
  });

  it('reads a reset, a hang-up, a timeout after the request left or a 5xx as unknown: maybe sent', () => {
    expect(classifySesError(socketError('ECONNRESET', undefined, 'socket hang up', 'TimeoutError'))).toEqual({
      kind: 'unknown',
      name: 'TimeoutError',
      message: 'socket hang up (ECONNRESET)',
    });
    expect(classifySesError(named('InternalFailure', 'We encountered an internal error', 500)).kind).toBe('unknown');
    expect(classifySesError(named('SyntaxError', 'Unexpected token <', 503)).kind).toBe('unknown');
    expect(classifySesError(named('SomethingNew')).kind).toBe('unknown');
  });

  it('keeps the HTTP status of an answer in the reason: a 5xx the SDK could not read is more than "UnknownError"', () => {
    expect(sesErrorOutcome(named('Unknown', 'UnknownError', 500), 1)).toEqual({ status: 'maybe-sent', errorName: 'Unknown', reason: 'Unknown: UnknownError (HTTP 500)', attempts: 1 });
    expect(classifySesError(named('InternalFailure', 'Service returned 503', 503)).message).toBe('Service returned 503');
  });

  it('reads SES refusing the request (4xx, throttling) as not sent', () => {
    expect(classifySesError(named('TooManyRequestsException', 'Too many requests', 429)).kind).toBe('throttled');
    expect(classifySesError(named('MessageRejected', 'Illegal address', 400)).kind).toBe('recipient');
    // "not verified" names an identity: our From address in production (every message alike).
    expect(classifySesError(named('MessageRejected', 'Email address is not verified. The following identities failed the check in region US-EAST-1: hello@brand.com', 400))).toMatchObject({
      kind: 'account',
      message: expect.stringContaining('h***@brand.com'),
    });
  });

  it('turns each kind into an outcome and each outcome into a ledger record', () => {
    const unreachable = sesErrorOutcome(socketError('ECONNREFUSED', 'connect', 'connect ECONNREFUSED 127.0.0.1:1'), 3);
    expect(unreachable).toEqual({
      status: 'not-sent',
      retry: 'later',
      scope: 'connection',
      errorName: 'ECONNREFUSED',
      reason: 'unreachable after 3 attempts: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1',
      attempts: 3,
    });
    const maybe = sesErrorOutcome(socketError('ECONNRESET', undefined, 'socket hang up', 'TimeoutError'), 1);
    expect(maybe).toMatchObject({ status: 'maybe-sent', errorName: 'TimeoutError' });
    // Released (the claim handed back for a later hour), kept as maybe-sent, or failed for good.
    expect(ledgerOutcomeOf(unreachable, 1000, 5000)).toEqual({ status: 'deferred', reason: unreachable.reason, deferredUntil: 5000 });
    expect(ledgerOutcomeOf(maybe, 1000)).toEqual({ status: 'maybe-sent', reason: 'TimeoutError: socket hang up (ECONNRESET)' });
    expect(ledgerOutcomeOf(sesErrorOutcome(named('MessageRejected', 'Illegal address'), 1), 1000)).toEqual({ status: 'failed', reason: 'MessageRejected: Illegal address' });
    // A refused request is released for a later try, never settled 'failed' for good: fixed, it can go.
    const refused = sesErrorOutcome(named('BadRequestException', 'Configuration set <events> does not exist.', 400), 1);
    expect(refused).toEqual({
      status: 'not-sent',
      retry: 'later',
      scope: 'request',
      errorName: 'BadRequestException',
      reason: expect.stringMatching(/^BadRequestException: Configuration set <events> does not exist\. \(SES refused the request, not the recipient: looks like a request or configuration problem/),
      attempts: 1,
    });
    expect(ledgerOutcomeOf(refused, 1000, 5000)).toEqual({ status: 'deferred', reason: refused.reason, deferredUntil: 5000 });
    expect(isTransportFailure(unreachable)).toBe(true);
    expect(isTransportFailure(maybe)).toBe(true);
    expect(isTransportFailure(sesErrorOutcome(named('TooManyRequestsException'), 6))).toBe(false);
    expect(isTransportFailure({ status: 'sent', messageId: 'm', attempts: 1 })).toBe(false);
  });
});

describe('SES error classes', () => {
  it('tells throttling, recipient, account and unknown errors apart', () => {
    expect(classifySesError(named('TooManyRequestsException')).kind).toBe('throttled');
    expect(classifySesError(named('ThrottlingException')).kind).toBe('throttled');
    expect(classifySesError(named('LimitExceededException', 'Maximum sending rate exceeded.')).kind).toBe('throttled');
    expect(classifySesError(named('LimitExceededException', 'Daily message quota exceeded.')).kind).toBe('account');
    expect(classifySesError(named('SendingPausedException')).kind).toBe('account');
    // AWS documents the daily quota under a throttling error too (its name per API version): nothing more today, not a rate to wait out.
    for (const name of ['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'LimitExceededException']) {
      expect(classifySesError(named(name, 'Daily message quota exceeded.', 400)).kind, name).toBe('account');
      expect(isDailyQuotaExceeded(sesErrorOutcome(named(name, 'daily message quota exceeded', 400), 1)), name).toBe(true);
    }
    expect(isDailyQuotaExceeded(sesErrorOutcome(named('SendingPausedException'), 1))).toBe(false);
    expect(isDailyQuotaExceeded(sesErrorOutcome(named('ThrottlingException', 'Rate exceeded'), 6))).toBe(false);
    expect(classifySesError(named('AccountSuspendedException')).kind).toBe('account');
    expect(classifySesError(named('MailFromDomainNotVerifiedException')).kind).toBe('account');
    expect(classifySesError(named('NotFoundException', 'Configuration set does not exist')).kind).toBe('account');
    expect(classifySesError(named('MessageRejected')).kind).toBe('recipient');
    // A refusal of the request names no recipient: a deleted configuration set, a bad header or tag, as often as an address.
    expect(classifySesError(named('BadRequestException', 'Invalid email address')).kind).toBe('request');
    expect(classifySesError(named('InvalidParameterValue', 'Invalid tag value')).kind).toBe('request');
    expect(classifySesError(named('ValidationException', 'Value at tags failed to satisfy constraint')).kind).toBe('request');
    expect(classifySesError(Object.assign(named('SomethingNew'), { $metadata: { httpStatusCode: 400 } })).kind).toBe('request');
    expect(classifySesError(Object.assign(named('SomethingNew'), { $metadata: { httpStatusCode: 403 } })).kind).toBe('account');
    expect(classifySesError(Object.assign(named('InternalServiceErrorException'), { $metadata: { httpStatusCode: 500 } })).kind).toBe('unknown');
    expect(classifySesError(named('TimeoutError')).kind).toBe('unknown');
    expect(classifySesError('boom')).toEqual({ kind: 'unknown', name: 'UnknownError', message: 'boom' });
  });
});
