import { ClienteleError } from '#shared/errors.ts';

/**
 * How a call to AWS failed below the service: the request never reached the service, or it was
 * cut off after it left. AWS SDK v3 (NodeHttpHandler) rejects with Node's own socket errors, a
 * `code` such as 'ECONNREFUSED' and a `syscall`, with `$metadata` holding attempts but no
 * `httpStatusCode`; it renames ECONNRESET, EPIPE and ETIMEDOUT to name 'TimeoutError' (code kept),
 * and its own connection timeout is a 'TimeoutError' saying it "did not establish a connection".
 * A service's answer carries `$metadata.httpStatusCode` instead.
 *
 *   not-connected  no byte of the request reached the service: connection refused, no DNS answer,
 *                  no route, a TLS handshake or certificate failure, no connection within the
 *                  timeout. Whatever the call was, it did not happen.
 *   interrupted    the connection broke or timed out after the request may have left (reset,
 *                  socket hang up, broken pipe, a request timeout): it may or may not have happened.
 */

export type ConnectionFailure = 'not-connected' | 'interrupted';

/** Node system error codes raised before a request can leave: name resolution, routing, connecting. */
const NOT_CONNECTED_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NODATA',
  'EAI_NONAME',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
]);

/**
 * Certificate and handshake failures (Node's TLS and OpenSSL codes): the TLS session never came
 * up, so no HTTP request was written.
 */
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|HOSTNAME_MISMATCH$)/;

/** The syscalls of the connecting phase: the request cannot have been written yet. */
const CONNECT_SYSCALLS = new Set(['connect', 'getaddrinfo']);

const INTERRUPTED_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET']);

/** The SDK's own "never connected" timeout (@smithy/node-http-handler setConnectionTimeout). */
const CONNECT_TIMEOUT_MESSAGE = /did not establish a connection|without establishing a connection/i;

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null && name in value ? (value as Record<string, unknown>)[name] : undefined;
}

/** The error, its causes and, for an AggregateError (happy eyeballs: one per address), its errors. */
function chainOf(error: unknown): unknown[] {
  const seen: unknown[] = [];
  const queue: unknown[] = [error];
  while (queue.length > 0 && seen.length < 16) {
    const next = queue.shift();
    if (next === undefined || next === null || seen.includes(next)) continue;
    seen.push(next);
    queue.push(field(next, 'cause'));
    const errors = field(next, 'errors');
    if (Array.isArray(errors)) queue.push(...errors);
  }
  return seen;
}

/** The HTTP status of a service's answer, when the error is one. */
export function httpStatusOf(error: unknown): number | undefined {
  const status = field(field(error, '$metadata'), 'httpStatusCode');
  return typeof status === 'number' ? status : undefined;
}

/** The first Node system error code in the error's chain, e.g. 'ECONNREFUSED' (our own errors' codes are not). */
export function systemErrorCode(error: unknown): string | undefined {
  for (const link of chainOf(error)) {
    if (link instanceof ClienteleError) continue;
    const code = field(link, 'code');
    if (typeof code === 'string' && code.length > 0) return code;
  }
  return undefined;
}

/**
 * How the request failed on its way, or undefined when the error is not a connection failure (a
 * service's answer, or anything else). 'not-connected' only when every sign says so; anything
 * ambiguous is 'interrupted'.
 */
export function connectionFailureOf(error: unknown): ConnectionFailure | undefined {
  // A service answered: whatever it said, the connection worked.
  if (httpStatusOf(error) !== undefined) return undefined;
  let interrupted = false;
  let notConnected = false;
  for (const link of chainOf(error)) {
    const code = field(link, 'code');
    const syscall = field(link, 'syscall');
    const message = field(link, 'message');
    const name = field(link, 'name');
    if (typeof code === 'string' && (NOT_CONNECTED_CODES.has(code) || TLS_CODE.test(code))) notConnected = true;
    else if (typeof syscall === 'string' && CONNECT_SYSCALLS.has(syscall)) notConnected = true;
    else if (name === 'TimeoutError' && typeof message === 'string' && CONNECT_TIMEOUT_MESSAGE.test(message)) notConnected = true;
    else if (typeof code === 'string' && INTERRUPTED_CODES.has(code)) interrupted = true;
    else if (name === 'TimeoutError' || name === 'AbortError' || (typeof message === 'string' && /socket hang up/i.test(message))) interrupted = true;
  }
  if (interrupted) return 'interrupted';
  return notConnected ? 'not-connected' : undefined;
}

/** An answer from an AWS service, or a failure to reach it: not something wrong with our input. */
export function isAwsOrConnectionError(error: unknown): boolean {
  return chainOf(error).some((link) => httpStatusOf(link) !== undefined || connectionFailureOf(link) !== undefined);
}
