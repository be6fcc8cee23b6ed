import { describe, expect, it } from 'vitest';
import { connectionFailureOf, httpStatusOf, isAwsOrConnectionError, systemErrorCode } from '#shared/aws/errors.ts';
import { ExportError } from '#shared/exports/errors.ts';

/** Errors as AWS SDK v3's NodeHttpHandler rejects with them (seen on Node 20 against a closed port, a bad host, a server that hangs up). */
const socketError = (code: string, syscall: string | undefined, message: string, name = 'Error') =>
  Object.assign(new Error(message), { name, code, ...(syscall ? { syscall } : {}), $metadata: { attempts: 1, totalRetryDelay: 0 } });

describe('connection failures', () => {
  it('says the request never left when the connection could not be made', () => {
    expect(connectionFailureOf(socketError('ECONNREFUSED', 'connect', 'connect ECONNREFUSED 127.0.0.1:1'))).toBe('not-connected');
    expect(connectionFailureOf(socketError('ENOTFOUND', 'getaddrinfo', 'getaddrinfo ENOTFOUND email.invalid'))).toBe('not-connected');
    expect(connectionFailureOf(socketError('EAI_AGAIN', 'getaddrinfo', 'getaddrinfo EAI_AGAIN email.us-east-1.amazonaws.com'))).toBe('not-connected');
    expect(connectionFailureOf(socketError('EHOSTUNREACH', 'connect', 'connect EHOSTUNREACH'))).toBe('not-connected');
    // A connect that timed out never carried the request either.
    expect(connectionFailureOf(socketError('ETIMEDOUT', 'connect', 'connect ETIMEDOUT 10.0.0.1:443', 'TimeoutError'))).toBe('not-connected');
    // TLS: certificate and handshake failures come before any HTTP byte.
    expect(connectionFailureOf(socketError('CERT_HAS_EXPIRED', undefined, 'certificate has expired'))).toBe('not-connected');
    expect(connectionFailureOf(socketError('ERR_TLS_CERT_ALTNAME_INVALID', undefined, "Hostname/IP does not match certificate's altnames"))).toBe('not-connected');
    expect(connectionFailureOf(socketError('UNABLE_TO_VERIFY_LEAF_SIGNATURE', undefined, 'unable to verify the first certificate'))).toBe('not-connected');
    expect(connectionFailureOf(socketError('ERR_SSL_WRONG_VERSION_NUMBER', undefined, 'wrong version number'))).toBe('not-connected');
    // The SDK's own connection timeout.
    const connectTimeout = Object.assign(
      new Error('@smithy/node-http-handler - the request socket did not establish a connection with the server within the configured timeout of 1000 ms.'),
      { name: 'TimeoutError' },
    );
    expect(connectionFailureOf(connectTimeout)).toBe('not-connected');
    // Happy eyeballs: one error per address, wrapped.
    expect(connectionFailureOf(new AggregateError([socketError('ECONNREFUSED', 'connect', 'a'), socketError('ECONNREFUSED', 'connect', 'b')]))).toBe('not-connected');
  });

  it('says the request may have left when the connection broke or timed out afterwards', () => {
    // NodeHttpHandler renames ECONNRESET, EPIPE and ETIMEDOUT to TimeoutError and keeps the code.
    expect(connectionFailureOf(socketError('ECONNRESET', undefined, 'socket hang up', 'TimeoutError'))).toBe('interrupted');
    expect(connectionFailureOf(socketError('ECONNRESET', 'read', 'read ECONNRESET', 'TimeoutError'))).toBe('interrupted');
    expect(connectionFailureOf(socketError('EPIPE', 'write', 'write EPIPE', 'TimeoutError'))).toBe('interrupted');
    expect(connectionFailureOf(Object.assign(new Error('a request has exceeded the configured 5000 ms requestTimeout.'), { name: 'TimeoutError', code: 'ETIMEDOUT' }))).toBe('interrupted');
    expect(connectionFailureOf(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }))).toBe('interrupted');
    // Anything ambiguous in a chain counts as interrupted.
    expect(connectionFailureOf(new AggregateError([socketError('ECONNREFUSED', 'connect', 'a'), socketError('ECONNRESET', 'read', 'b')]))).toBe('interrupted');
  });

  it('is not a connection failure when the service answered, or for anything else', () => {
    const answered = Object.assign(new Error('Unexpected token <'), { name: 'SyntaxError', $metadata: { httpStatusCode: 503, attempts: 1 } });
    expect(connectionFailureOf(answered)).toBeUndefined();
    expect(httpStatusOf(answered)).toBe(503);
    expect(connectionFailureOf(Object.assign(new Error('Daily message quota exceeded.'), { name: 'LimitExceededException', $metadata: { httpStatusCode: 400 } }))).toBeUndefined();
    expect(connectionFailureOf(new TypeError('x is undefined'))).toBeUndefined();
    expect(connectionFailureOf('boom')).toBeUndefined();
  });

  it('reads the socket code through causes but not our own error codes', () => {
    const refused = socketError('ECONNREFUSED', 'connect', 'connect ECONNREFUSED');
    expect(systemErrorCode(new Error('wrapped', { cause: refused }))).toBe('ECONNREFUSED');
    expect(systemErrorCode(ExportError.at('s3://b/x.csv', 'not gzip'))).toBeUndefined();
  });

  it('tells an export that S3 could not deliver from an export that is bad', () => {
    const unreachable = ExportError.at('s3://b/incremental/x', 'cannot be listed: connect ECONNREFUSED', { cause: socketError('ECONNREFUSED', 'connect', 'x') });
    const slowDown = ExportError.at('s3://b/incremental/x/a.csv', 'cannot be opened: SlowDown', {
      cause: Object.assign(new Error('SlowDown'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } }),
    });
    const truncated = ExportError.at('s3://b/incremental/x/a.csv.gz', 'is not a valid gzip file (unexpected end of file)', {
      cause: Object.assign(new Error('unexpected end of file'), { code: 'Z_BUF_ERROR', errno: -5 }),
    });
    expect(isAwsOrConnectionError(unreachable.cause)).toBe(true);
    expect(isAwsOrConnectionError(slowDown.cause)).toBe(true);
    expect(isAwsOrConnectionError(truncated.cause)).toBe(false);
    expect(isAwsOrConnectionError(undefined)).toBe(false);
  });
});
