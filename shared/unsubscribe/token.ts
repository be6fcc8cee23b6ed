import { createHmac, timingSafeEqual } from 'node:crypto';
import { MAX_ID_BYTES } from '#shared/model.ts';

/**
 * Unsubscribe tokens: `base64url(customerId) + '.' + base64url(HMAC-SHA256(key, 'unsubscribe:' + customerId)) + '.' + keyId`.
 * The link carries the client's id in the clear (it is not personal data on its own) and a signature
 * only the brand can make, so nobody can unsubscribe a client they do not hold a link for.
 *
 * Keys rotate (docs/deploy.md): the key id (unsubscribeKeyId, 8 characters derived from the key,
 * telling nothing of it) names the key a token was signed with, so the endpoint knows when a
 * token comes from a key it has not loaded yet and reloads its keys (keys.ts) instead of refusing
 * the link. Tokens made before key ids existed (two parts, no key id) are still in inboxes: they
 * are checked against every key the endpoint holds.
 */

const PURPOSE = 'unsubscribe:';
const KEY_ID_PURPOSE = 'clientele:unsubscribe-key-id';
const SIGNATURE_BYTES = 32;
const KEY_ID_BYTES = 6;
// The longest id the exports keep (model.ts), whose link still fits the List-Unsubscribe header;
// the bound also keeps a hostile token from making us hash megabytes.
const MAX_CUSTOMER_ID_BYTES = MAX_ID_BYTES;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const KEY_ID = /^[A-Za-z0-9_-]{8}$/;

function requireSecret(secret: string): void {
  if (secret.length === 0) throw new Error('The unsubscribe secret is empty');
}

function signature(customerId: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(`${PURPOSE}${customerId}`, 'utf8').digest();
}

/** The id of a signing key as tokens carry it: 8 base64url characters of an HMAC of a fixed label under the key. */
export function unsubscribeKeyId(secret: string): string {
  requireSecret(secret);
  return createHmac('sha256', secret).update(KEY_ID_PURPOSE, 'utf8').digest().subarray(0, KEY_ID_BYTES).toString('base64url');
}

export function signUnsubscribeToken(customerId: string, secret: string): string {
  requireSecret(secret);
  if (customerId.length === 0) throw new Error('Cannot sign an unsubscribe token for an empty customer id');
  if (Buffer.byteLength(customerId, 'utf8') > MAX_CUSTOMER_ID_BYTES) {
    throw new Error(`Customer id longer than ${MAX_CUSTOMER_ID_BYTES} bytes`);
  }
  const id = Buffer.from(customerId, 'utf8').toString('base64url');
  return `${id}.${signature(customerId, secret).toString('base64url')}.${unsubscribeKeyId(secret)}`;
}

/** What a well-formed token says, before any signature is checked. */
interface TokenParts {
  customerId: string;
  given: Buffer;
  /** Absent in tokens made before key ids. */
  keyId?: string;
}

function parseToken(token: string): TokenParts | undefined {
  const parts = token.split('.');
  if (parts.length !== 2 && parts.length !== 3) return undefined;
  const [idPart = '', signaturePart = '', keyId] = parts;
  if (!BASE64URL.test(idPart) || !BASE64URL.test(signaturePart)) return undefined;
  if (keyId !== undefined && !KEY_ID.test(keyId)) return undefined;
  const idBytes = Buffer.from(idPart, 'base64url');
  // Node's decoder ignores stray trailing bits: insist on the canonical form so one id has one token.
  if (idBytes.length === 0 || idBytes.length > MAX_CUSTOMER_ID_BYTES || idBytes.toString('base64url') !== idPart) return undefined;
  const customerId = idBytes.toString('utf8');
  if (Buffer.from(customerId, 'utf8').toString('base64url') !== idPart) return undefined; // not valid UTF-8
  const given = Buffer.from(signaturePart, 'base64url');
  if (given.length !== SIGNATURE_BYTES || given.toString('base64url') !== signaturePart) return undefined;
  return { customerId, given, ...(keyId !== undefined ? { keyId } : {}) };
}

/**
 * Whether the token is well formed but names a key none of `secrets` is, or (a token without a key
 * id) fails against all of them: the keys may have rotated since they were loaded, so a reload may
 * verify it. False for a malformed token: no reload can help that one.
 */
export function mayNeedNewerKeys(token: string, secrets: readonly string[]): boolean {
  const parts = parseToken(token);
  if (parts === undefined) return false;
  if (parts.keyId === undefined) return true;
  return !secrets.some((s) => unsubscribeKeyId(s) === parts.keyId);
}

/**
 * The customer id a token was signed for, or undefined when it is malformed, altered or signed with
 * another key. Several keys may be given (current first) so links keep working across a rotation;
 * a token with a key id is checked against that key only.
 */
export function verifyUnsubscribeToken(token: string, secret: string | readonly string[]): string | undefined {
  const secrets = typeof secret === 'string' ? [secret] : secret;
  for (const s of secrets) requireSecret(s);
  const parts = parseToken(token);
  if (parts === undefined) return undefined;
  const candidates = parts.keyId === undefined ? secrets : secrets.filter((s) => unsubscribeKeyId(s) === parts.keyId);
  let valid = false;
  // Check every candidate (no early exit) so timing does not tell which one matched.
  for (const s of candidates) valid = timingSafeEqual(parts.given, signature(parts.customerId, s)) || valid;
  return valid ? parts.customerId : undefined;
}

/**
 * The customer id a well-formed token names, its signature not checked: only for the log line of a
 * failed unsubscribe (the key may be what could not be read), so an operator can record that
 * client's no by hand (`clientele unsubscribe`). Never a reason to act on its own.
 */
export function claimedCustomerId(token: string): string | undefined {
  return parseToken(token)?.customerId;
}

/** The link put in an email and in its List-Unsubscribe header. */
export function unsubscribeUrl(baseUrl: string, customerId: string, secret: string): string {
  const url = new URL(baseUrl);
  url.searchParams.set('t', signUnsubscribeToken(customerId, secret));
  return url.toString();
}
