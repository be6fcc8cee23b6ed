import { createHash } from 'node:crypto';
import { normaliseEmail } from '#shared/email.ts';

/** sha256 (hex) of an address as normalised (normaliseEmail): what a client known only by it is named from. */
export function emailHash(email: string): string {
  return createHash('sha256').update(normaliseEmail(email), 'utf8').digest('hex');
}

/** The client id of an address whose emailHash is `sha256`: 'e-' + its first 20 hex. */
export function emailIdentityOfHash(sha256: string): string {
  return `e-${sha256.slice(0, 20)}`;
}

/** Stable client id for a client known only by email: 'e-' + first 20 hex of sha256(email). */
export function emailIdentity(email: string): string {
  return emailIdentityOfHash(emailHash(email));
}
