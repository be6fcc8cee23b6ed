import type { LocalEndpoints, SharedAws } from './local-aws.ts';

/**
 * What the SES emulator holds (GET /store). One emulator serves the whole run, so a test only
 * ever reads the emails to its own recipients, and only those sent since its file started (the
 * store grows with every file's emails).
 */

/** One email as aws-ses-v2-local stores it: no tags, no configuration set. */
export interface StoredEmail {
  messageId: string;
  from: string;
  /** ReplyToAddresses as sent (empty when none). */
  replyTo?: string[];
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { html?: string; text?: string };
  headers?: { name: string; value: string }[];
  at: number;
}

/** Whose emails to read: one address, several, or the addresses a predicate accepts (given lower case). */
export type Recipients = string | readonly string[] | ((address: string) => boolean);

type SesEndpoint = Pick<SharedAws, 'since'> & { endpoints: Pick<LocalEndpoints, 'ses'> };

function matcher(recipients: Recipients): (address: string) => boolean {
  if (typeof recipients === 'function') return (address) => recipients(address.toLowerCase());
  // Mailboxes and the suppression list ignore case; so does this filter.
  const wanted = new Set((typeof recipients === 'string' ? [recipients] : recipients).map((a) => a.toLowerCase()));
  return (address) => wanted.has(address.toLowerCase());
}

/** The emails the emulator holds for these recipients, in the order it received them. */
export async function emailsTo(aws: SesEndpoint, recipients: Recipients): Promise<StoredEmail[]> {
  const response = await fetch(`${aws.endpoints.ses}/store?since=${aws.since}`);
  if (!response.ok) throw new Error(`SES emulator store: HTTP ${response.status}`);
  const { emails } = (await response.json()) as { emails: StoredEmail[] };
  const wanted = matcher(recipients);
  return emails.filter((email) => email.destination.to.some(wanted));
}

/** How many emails the emulator holds for each of these addresses (0 for none). */
export async function emailCounts(aws: SesEndpoint, addresses: readonly string[]): Promise<Map<string, number>> {
  const byAddress = new Map<string, number>();
  for (const email of await emailsTo(aws, addresses)) {
    for (const to of new Set(email.destination.to.map((a) => a.toLowerCase()))) byAddress.set(to, (byAddress.get(to) ?? 0) + 1);
  }
  return new Map(addresses.map((address) => [address, byAddress.get(address.toLowerCase()) ?? 0]));
}
