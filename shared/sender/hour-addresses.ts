import { normaliseEmail } from '#shared/email.ts';
import { timingOf, type FormerAddress } from '#shared/store/address-book.ts';
import { emailIdentity, emailIdentityOfHash } from '#shared/tiering/identity.ts';

/**
 * Whose a Shopify increment's order is when its address is not the one a customer row of the
 * increment carries (README, "What an incremental export changes"). Shopify keeps on each order the
 * address it was placed with; the night gives an order under a client's former address to her
 * (nightly/former-addresses.ts), and the hour does the same from what it reads anyway: the stored
 * profiles of the increment's clients (their email, nightEmail and hourEmails) and, only when some
 * lines are still nobody's, the address book. Pure: the ingest (ingest.ts readIncrement) reads,
 * these decide.
 *
 * The hour sees only the clients of the increment: a former holder of an address with no row in it
 * is not seen (the profiles have no index by address; the night, which reads them all, corrects).
 */

/** A client with a customer row in the increment (not forgotten): her row's address and her stored profile's. */
export interface HourClient {
  customerId: string;
  /** The row's address, if it carries one. */
  rowEmail: string | undefined;
  /** Her stored profile's addresses (profile-store.ts addressesOf); none for a client the increment creates. */
  storedEmails: readonly string[];
}

/**
 * Addresses a customer row carries that another client of the increment held by her stored profile
 * and left (her row carries another address): Shopify gave it to another customer (a swap, or a
 * newcomer). Holder → those
 * addresses, normalised. The night splits such an address's orders by time and rejects those it
 * cannot place (AMBIGUOUS_ADDRESS_REASON); the hour cannot tell them apart, so it gives them to
 * neither and leaves them for the night (not a reject: the folder is not quarantined for them).
 */
export function takenAddresses(clients: readonly HourClient[]): Map<string, Set<string>> {
  const heldBefore = new Map<string, Set<string>>();
  for (const client of clients) {
    // As the night (former-addresses.ts splitTaken): only a client whose row carries another address left hers;
    // one whose row has none keeps her stored one, and two rows with one address go to one of them as before.
    if (client.rowEmail === undefined) continue;
    const now = normaliseEmail(client.rowEmail);
    for (const email of client.storedEmails) {
      const normalised = normaliseEmail(email);
      if (normalised === now) continue;
      heldBefore.set(normalised, (heldBefore.get(normalised) ?? new Set()).add(client.customerId));
    }
  }
  const taken = new Map<string, Set<string>>();
  for (const client of clients) {
    if (client.rowEmail === undefined) continue;
    const normalised = normaliseEmail(client.rowEmail);
    const others = [...(heldBefore.get(normalised) ?? [])].filter((id) => id !== client.customerId);
    if (others.length > 0) taken.set(client.customerId, (taken.get(client.customerId) ?? new Set()).add(normalised));
  }
  return taken;
}

/** Lines under an address no customer row of the increment carries: its email identity (tiering/identity.ts) and their order times. */
export interface OrphanAddress {
  identity: string;
  orderedAt: readonly number[];
}

/** Which entries of the address book are needed: the book's own fields. */
export type BookEntry = Pick<FormerAddress, 'sha256' | 'customerId' | 'seenOn' | 'hersBefore'>;

/**
 * Each orphan address given to the one client of the increment it is a former address of:
 * identity → customer id. As the night: an address two clients claim (by their stored profiles
 * or the book) is linked to neither; a client with no row in the increment receives nothing here
 * (her profile is not read; her claim still makes the address contested). By her stored profile
 * the address is hers whatever the time, as the night reads its base; by the book alone, only
 * orders placed before the cut-off of the last night that had it as hers (timingOf(entry).hersBefore):
 * one placed later is another customer's who holds it now, unseen by the hour. Lines no client
 * takes stay unknown (rejected, as before).
 */
export function formerAddressOwners(input: {
  clients: readonly HourClient[];
  orphans: readonly OrphanAddress[];
  book: readonly BookEntry[];
  /** A night's cut-off (runClock(night).now). */
  cutOff: (night: string) => number;
}): Map<string, string> {
  const { clients, orphans, book, cutOff } = input;
  const wanted = new Set(orphans.map((orphan) => orphan.identity));
  const byStore = new Map<string, Set<string>>();
  const withRow = new Set<string>();
  for (const client of clients) {
    withRow.add(client.customerId);
    const now = client.rowEmail === undefined ? undefined : emailIdentity(client.rowEmail);
    for (const email of client.storedEmails) {
      const identity = emailIdentity(email);
      // Her row carries it still: nothing moved (its lines are hers by the row, never orphans).
      if (!wanted.has(identity) || identity === now) continue;
      byStore.set(identity, (byStore.get(identity) ?? new Set()).add(client.customerId));
    }
  }
  const byBook = new Map<string, BookEntry[]>();
  for (const entry of book) {
    const identity = emailIdentityOfHash(entry.sha256);
    if (wanted.has(identity)) byBook.set(identity, [...(byBook.get(identity) ?? []), entry]);
  }
  const owners = new Map<string, string>();
  for (const { identity, orderedAt } of orphans) {
    const stored = byStore.get(identity) ?? new Set<string>();
    const entries = byBook.get(identity) ?? [];
    const claimants = new Set([...stored, ...entries.map((entry) => entry.customerId)]);
    if (claimants.size !== 1) continue;
    const [customerId] = [...claimants] as [string];
    if (!withRow.has(customerId)) continue;
    if (!stored.has(customerId)) {
      const entry = entries[0] as BookEntry;
      const hersBefore = cutOff(timingOf(entry).hersBefore);
      if (!orderedAt.every((at) => at < hersBefore)) continue;
    }
    owners.set(identity, customerId);
  }
  return owners;
}
