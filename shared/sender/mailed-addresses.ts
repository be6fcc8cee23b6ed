import type { DueOccasion } from '#shared/campaigns/due.ts';
import { normaliseEmail } from '#shared/email.ts';

/**
 * The addresses a run has mailed (or claimed an email to), per occasion key. Two customer ids may
 * share one address (a guest checkout later registered, a household): the ledger and the cap are
 * per client, so without this one inbox would get the same email twice in one hour (the same
 * welcome, the same product's reminder). Occasions of one campaign with other keys (another
 * product's run-out, another lapse) are other emails and still go. Addresses compare as the
 * exports match them (normaliseEmail). The first client in the run's order (compareDueClients)
 * gets the email; the others' same occasions are recorded 'already-mailed'.
 */
export class MailedAddresses {
  /** occasionKey → normalised address → the client it was mailed as. */
  private readonly byOccasion = new Map<string, Map<string, string>>();

  /** Notes an email of the occasion `occasionKey` to `email` for `customerId` (the first one noted stays). */
  note(occasionKey: string, email: string | undefined, customerId: string): void {
    if (!email) return;
    let mailed = this.byOccasion.get(occasionKey);
    if (mailed === undefined) this.byOccasion.set(occasionKey, (mailed = new Map()));
    const address = normaliseEmail(email);
    if (!mailed.has(address)) mailed.set(address, customerId);
  }

  /** The client the same occasion's email to this address went to this run, if one did (not `customerId` itself). */
  mailedAs(occasionKey: string, email: string | undefined, customerId: string): string | undefined {
    if (!email) return undefined;
    const other = this.byOccasion.get(occasionKey)?.get(normaliseEmail(email));
    return other === customerId ? undefined : other;
  }

  /** Of a client's due occasions, those this run already mailed to their address as another client, with the reason to record. */
  alreadyMailed<O extends Pick<DueOccasion, 'occasionKey'>>(profile: { customerId: string; email?: string | undefined }, due: readonly O[]): { occasion: O; reason: string }[] {
    return due.flatMap((occasion) => {
      const other = this.mailedAs(occasion.occasionKey, profile.email, profile.customerId);
      return other === undefined ? [] : [{ occasion, reason: sameAddressReason(other) }];
    });
  }
}

/** The ledger's reason for an occasion settled because its campaign's email went to the same address as another client. */
export function sameAddressReason(otherCustomerId: string): string {
  return `mailed in this run to the same address as client ${otherCustomerId}`;
}
