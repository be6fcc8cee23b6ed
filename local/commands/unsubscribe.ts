import { z } from 'zod';
import { loadTarget, targetOptionsSchema } from '#local/target.ts';
import { cliAwsClients } from '#local/aws-errors.ts';
import { formatUnsubscribeResult, type UnsubscribeResult } from '#local/format.ts';
import { destroyAwsClients } from '#shared/aws/clients.ts';
import { jsonLog } from '#shared/log.ts';
import { isStoredErasure } from '#shared/store/erasure-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { recordUnsubscribe, unsubscribingClient } from '#shared/unsubscribe/unsubscribe.ts';

const optionsSchema = targetOptionsSchema.extend({
  customer: z.string().trim().min(1, 'needs a customer id'),
  json: z.boolean(),
});

/** Where an operator's unsubscribe comes from, in the suppression entry (the link's are 'one-click', 'confirmation-page', 'post'). */
export const OPERATOR_SOURCE = 'operator';

/**
 * `clientele unsubscribe --customer ID`: records a client's no as their link's one-click POST
 * would (their own entry and their address's), for a no that reached the brand another way (a
 * reply, a call, a store visit) or a link that failed (the `unsubscribe failed` log line names the
 * link's customer id). An erased client gets nothing stored in clear; a customer id with no stored
 * profile still gets the no kept against it, and the report says so (a typo shows).
 */
export async function unsubscribeCommand(raw: unknown): Promise<void> {
  const options = optionsSchema.parse(raw);
  const config = (await loadTarget('unsubscribe', options)).config;
  const clients = cliAwsClients(config);
  const context = { documents: clients.documents, tables: tableNames(config) };
  try {
    const client = await unsubscribingClient(context, options.customer);
    // No profile may be an erased client's (the forget deleted it): their id is kept only hashed.
    const erased = client.kind === 'erased' || (client.kind === 'unknown' && (await isStoredErasure(context.documents, context.tables.suppression, { customerId: options.customer })));
    let result: UnsubscribeResult;
    if (erased) {
      result = { customerId: options.customer, outcome: 'erased' };
    } else {
      const email = client.kind === 'client' ? client.email : '';
      const log = jsonLog({ level: 'warn' });
      const outcome = await recordUnsubscribe(context, { customerId: options.customer, email, at: Date.now(), source: OPERATOR_SOURCE }, log);
      result = outcome === 'erased' ? { customerId: options.customer, outcome } : { customerId: options.customer, outcome, storedProfile: client.kind === 'client', address: email.length > 0 };
    }
    process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : `${formatUnsubscribeResult(result)}\n`);
  } finally {
    destroyAwsClients(clients);
  }
}
