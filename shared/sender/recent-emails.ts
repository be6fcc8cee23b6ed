import type { RecentSend } from '#shared/campaigns/policy.ts';
import type { LedgerEntry } from '#shared/store/ledger-store.ts';
import { MS_PER_DAY } from '#shared/time.ts';

/**
 * What the frequency cap counts of a client's ledger: emails, not ledger entries. One email may
 * settle several occasions (a replenishment reminder lists its companion products, each with its
 * own entry), and it is one email in the client's inbox, so it counts once toward the 24-hour and
 * the 7-day caps whatever number of occasions it settles. Pure.
 */

/** Counts toward the frequency cap: sent, in flight (another run is sending it now), or maybe sent. */
const MAY_HAVE_GONE: ReadonlySet<LedgerEntry['status']> = new Set(['sent', 'claimed', 'maybe-sent']);

type CountedEntry = Pick<LedgerEntry, 'campaignId' | 'status' | 'runId' | 'claimedAt'> & Partial<Pick<LedgerEntry, 'sentAt' | 'emailId'>>;

/**
 * The email an entry belongs to. A claim written since emails carry an id says it. An older one
 * does not: its run claimed every occasion of the email at the run's clock, and a run sends a
 * client at most one email per campaign (decide lets one occasion through per client and hour),
 * so the run, the campaign and the claim time name the email.
 */
export function emailOf(entry: CountedEntry): string {
  return entry.emailId !== undefined ? `email:${entry.emailId}` : `claim:${entry.runId}#${entry.campaignId}#${entry.claimedAt}`;
}

/**
 * The client's emails that may have gone within the 7 days before `at`, one per email, for
 * decide(). An email counts from the latest time one of its occasions records (sent, or claimed
 * when SES has not answered yet): better one email fewer than one too many.
 */
export function recentEmails(entries: readonly CountedEntry[], at: number): RecentSend[] {
  const byEmail = new Map<string, RecentSend>();
  for (const entry of entries) {
    if (!MAY_HAVE_GONE.has(entry.status)) continue;
    const sentAt = entry.sentAt ?? entry.claimedAt;
    const email = emailOf(entry);
    const known = byEmail.get(email);
    if (known === undefined || sentAt > known.sentAt) byEmail.set(email, { campaignId: entry.campaignId, sentAt });
  }
  return [...byEmail.values()].filter((email) => email.sentAt > at - 7 * MS_PER_DAY);
}

/**
 * The client's entries of other emails than `emailId`, the one a run deciding the hour `at` has
 * just claimed, as the frequency cap counts them then. Two runs of different hours at once (an
 * hour started late beside the next one, a backfill) each read the client's emails before
 * deciding, so each may let one through the cap; read again once an email is claimed, any other
 * email that may have gone counts. Not a claim of another run of the same hour still in flight:
 * such runs decide the same email, and the claims of its occasions settle which run sends it (a
 * loser's companion claim is released at once). Two counted at the same instant both yield, and
 * a later hour sends one: an email late rather than one too many.
 */
export function entriesOfOtherEmails<Entry extends CountedEntry>(entries: readonly Entry[], emailId: string, at: number): Entry[] {
  const ours = `email:${emailId}`;
  return entries.filter((entry) => emailOf(entry) !== ours && !(entry.status === 'claimed' && entry.claimedAt === at));
}
