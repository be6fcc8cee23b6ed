import { z } from 'zod';
import type { AwsClients } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import { ClienteleError } from '#shared/errors.ts';
import { pseudonym, silentLog, type Log } from '#shared/log.ts';
import { deletePlainSuppression, recordErasure } from '#shared/store/erasure-store.ts';
import { deleteClientHistory } from '#shared/store/history-store.ts';
import { deleteLedgerEntriesOf } from '#shared/store/ledger-store.ts';
import { deleteProfiles, findProfilesByEmail, getProfile, type ProfileItem } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';

/**
 * The right to erasure (GDPR art. 17, China's PIPL art. 47): `clientele forget --customer ID |
 * --email ADDRESS`, or the same as the forget function's event. Deletes the client's profile, tier
 * history and send-ledger entries (and the plain address's own suppression entry), and keeps only
 * hashed erasure entries (erasure-store.ts): the next nights and the hourly ingest leave the person
 * out of the base whatever a later export says, so no campaign reaches them again.
 *
 * The erasure entries are written first: a request that stops half-way leaves the person out of
 * every later run, and running it again completes it.
 */

export const forgetRequestSchema = z
  .object({
    customerId: z.string().trim().min(1).optional(),
    email: z.string().trim().email('must be an email address').optional(),
  })
  .strict()
  .refine((request) => request.customerId !== undefined || request.email !== undefined, 'give a customerId or an email (or both)');

export type ForgetRequest = z.infer<typeof forgetRequestSchema>;

export interface ForgetResult {
  /** Pseudonyms of the request, for the record (never the id or address itself). */
  request: { customer?: string; email?: string };
  profiles: number;
  historyRecords: number;
  ledgerEntries: number;
  /** Hashed erasure entries now on the list (customer ids and addresses). */
  erasureKeys: number;
}

export interface ForgetOptions {
  config: Config;
  clients: Pick<AwsClients, 'documents'>;
  request: ForgetRequest;
  /** Epoch ms, the caller's clock: when the erasure was recorded. */
  at: number;
  log?: Log;
}

export class ForgetRequestError extends ClienteleError {
  override name = 'ForgetRequestError';
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** Parses an outside request (CLI options, a Lambda event) into a ForgetRequest. */
export function parseForgetRequest(input: unknown): ForgetRequest {
  const parsed = forgetRequestSchema.safeParse(input);
  if (!parsed.success) throw new ForgetRequestError(`Invalid erasure request: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(request)'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export async function forgetClient(options: ForgetOptions): Promise<ForgetResult> {
  const { config, clients, request, at } = options;
  const log = options.log ?? silentLog;
  const tables = tableNames(config);
  const profiles = new Map<string, ProfileItem>();
  if (request.customerId !== undefined) {
    const profile = await getProfile(clients.documents, tables.profiles, request.customerId);
    if (profile) profiles.set(profile.customerId, profile);
  }
  if (request.email !== undefined) {
    for (const profile of await findProfilesByEmail(clients.documents, tables.profiles, request.email)) profiles.set(profile.customerId, profile);
  }
  const customerIds = [...new Set([...(request.customerId ? [request.customerId] : []), ...profiles.keys()])];
  const emails = [...new Set([...(request.email ? [request.email] : []), ...[...profiles.values()].flatMap((p) => (p.email ? [p.email] : []))])];

  const keys = await recordErasure(clients.documents, tables.suppression, { customerIds, emails }, at);
  let historyRecords = 0;
  let ledgerEntries = 0;
  for (const customerId of customerIds) {
    historyRecords += await deleteClientHistory(clients.documents, tables.tierHistory, customerId);
    ledgerEntries += await deleteLedgerEntriesOf(clients.documents, tables.sendLedger, customerId);
  }
  await deleteProfiles(clients.documents, tables.profiles, profiles.keys());
  for (const email of emails) await deletePlainSuppression(clients.documents, tables.suppression, email);

  const result: ForgetResult = {
    request: {
      ...(request.customerId ? { customer: pseudonym(request.customerId) } : {}),
      ...(request.email ? { email: pseudonym(request.email.toLowerCase()) } : {}),
    },
    profiles: profiles.size,
    historyRecords,
    ledgerEntries,
    erasureKeys: keys.length,
  };
  log.info('client erased', { ...result });
  return result;
}
