import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Unsubscribe tokens: `base64url(customerId) + '.' + base64url(HMAC-SHA256(secret, 'unsubscribe:' + customerId))`.
 * The link carries the client's id in the clear (it is not personal data on its own) and a signature
 * only the brand can make, so nobody can unsubscribe a client they do not hold a link for.
 */

const PURPOSE = 'unsubscribe:';
const SIGNATURE_BYTES = 32;
// Customer ids are short; a bound keeps a hostile token from making us hash megabytes.
const MAX_CUSTOMER_ID_BYTES = 256;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

function requireSecret(secret: string): void {
  if (secret.length === 0) throw new Error('The unsubscribe secret is empty');
}

function signature(customerId: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(`${PURPOSE}${customerId}`, 'utf8').digest();
}

export function signUnsubscribeToken(customerId: string, secret: string): string {
  requireSecret(secret);
  if (customerId.length === 0) throw new Error('Cannot sign an unsubscribe token for an empty customer id');
  if (Buffer.byteLength(customerId, 'utf8') > MAX_CUSTOMER_ID_BYTES) {
    throw new Error(`Customer id longer than ${MAX_CUSTOMER_ID_BYTES} bytes`);
  }
  const id = Buffer.from(customerId, 'utf8').toString('base64url');
  return `${id}.${signature(customerId, secret).toString('base64url')}`;
}

/**
 * The customer id a token was signed for, or undefined when it is malformed, altered or signed with
 * another secret. Several secrets may be given (current first) so links keep working across a rotation.
 */
export function verifyUnsubscribeToken(token: string, secret: string | readonly string[]): string | undefined {
  const secrets = typeof secret === 'string' ? [secret] : secret;
  for (const s of secrets) requireSecret(s);
  const parts = token.split('.');
  if (parts.length !== 2) return undefined;
  const [idPart = '', signaturePart = ''] = parts;
  if (!BASE64URL.test(idPart) || !BASE64URL.test(signaturePart)) return undefined;
  const idBytes = Buffer.from(idPart, 'base64url');
  // Node's decoder ignores stray trailing bits: insist on the canonical form so one id has one token.
  if (idBytes.length === 0 || idBytes.length > MAX_CUSTOMER_ID_BYTES || idBytes.toString('base64url') !== idPart) return undefined;
  const customerId = idBytes.toString('utf8');
  if (Buffer.from(customerId, 'utf8').toString('base64url') !== idPart) return undefined; // not valid UTF-8
  const given = Buffer.from(signaturePart, 'base64url');
  if (given.length !== SIGNATURE_BYTES || given.toString('base64url') !== signaturePart) return undefined;
  let valid = false;
  // Check every secret (no early exit) so timing does not tell which one matched.
  for (const s of secrets) valid = timingSafeEqual(given, signature(customerId, s)) || valid;
  return valid ? customerId : undefined;
}

/** The link put in an email and in its List-Unsubscribe header. */
export function unsubscribeUrl(baseUrl: string, customerId: string, secret: string): string {
  const url = new URL(baseUrl);
  url.searchParams.set('t', signUnsubscribeToken(customerId, secret));
  return url.toString();
}
