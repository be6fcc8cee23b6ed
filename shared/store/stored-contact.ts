import { normaliseEmail } from '#shared/email.ts';
import { fnv1a32 } from '#shared/text-hash.ts';

/**
 * A client's address and consent as the last night stored them, packed into one small integer of
 * the night's base (StoredState.contact): the guards compare tonight's customer rows with it
 * (nightly/guards.ts consentGivenBack, addressesChanged). A base holds a million of these, so
 * neither string is kept: a 28-bit hash of the normalised address, and the consent in 2 bits.
 * The value stays below 2^30, a small integer V8 stores in the object itself (no heap number).
 * Two different addresses share a hash once in 2^28: that client's change is not counted, which
 * only makes a share a hair smaller. Pure.
 */

const CONSENT_BITS = 2;
const CONSENT_NONE = 0;
const CONSENT_NO = 1;
const CONSENT_YES = 2;
/** Hashes 1 … 2^28 - 1; 0 is "no address to compare". */
const HASH_RANGE = 2 ** 28 - 1;

/** The address's hash (never 0). */
function addressHash(email: string): number {
  return 1 + (fnv1a32(normaliseEmail(email)) % HASH_RANGE);
}

/**
 * The packed contact of a stored profile item. The address is the item's own unless an hourly
 * increment changed it since the last night (nightEmail set): then tonight's export agreeing with
 * either the night's address or the hour's is no change of tonight's, and the address is not
 * compared (hash 0). Consent is the stored one (an hour's opt-in or opt-out included: the night
 * measures what tonight's export would change on what the profile holds).
 */
export function storedContactOf(item: { email?: unknown; nightEmail?: unknown; acceptsMarketing?: unknown }): number {
  const email = typeof item.email === 'string' && item.email.trim() !== '' ? item.email : undefined;
  const hourChanged = typeof item.nightEmail === 'string' && (email === undefined || normaliseEmail(item.nightEmail) !== normaliseEmail(email));
  const hash = email === undefined || hourChanged ? 0 : addressHash(email);
  const consent = item.acceptsMarketing === true ? CONSENT_YES : item.acceptsMarketing === false ? CONSENT_NO : CONSENT_NONE;
  return hash * 2 ** CONSENT_BITS + consent;
}

/** What tonight's customer row would change of a client of the base (undefined: no row, or a field left empty, which keeps the stored value). */
export interface ContactTonight {
  email?: string | undefined;
  acceptsMarketing?: boolean | undefined;
}

/**
 * Whether tonight's row replaces the client's stored address with another (normalised: case and
 * spaces are no change; a client with no address before who gets one is not a change either), and
 * whether it gives consent to a client whose profile holds none (a no, or never a yes). Pure.
 */
export function contactMoves(stored: number | undefined, tonight: ContactTonight): { addressChanged: boolean; consentGivenBack: boolean } {
  if (stored === undefined) return { addressChanged: false, consentGivenBack: false };
  const hash = Math.floor(stored / 2 ** CONSENT_BITS);
  const consent = stored % 2 ** CONSENT_BITS;
  const email = tonight.email !== undefined && tonight.email.trim() !== '' ? tonight.email : undefined;
  return {
    addressChanged: hash !== 0 && email !== undefined && addressHash(email) !== hash,
    consentGivenBack: tonight.acceptsMarketing === true && consent !== CONSENT_YES,
  };
}
