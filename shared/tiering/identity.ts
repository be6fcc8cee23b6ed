import { createHash } from 'node:crypto';
import { normaliseEmail } from '#shared/email.ts';

/** Stable client id for a client known only by email: 'e-' + first 20 hex of sha256(email). */
export function emailIdentity(email: string): string {
  return `e-${createHash('sha256').update(normaliseEmail(email), 'utf8').digest('hex').slice(0, 20)}`;
}
