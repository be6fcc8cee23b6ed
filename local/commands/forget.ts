import { z } from 'zod';
import { loadTarget, targetOptionsSchema } from '#local/target.ts';
import { destroyAwsClients } from '#shared/aws/clients.ts';
import { cliAwsClients } from '#local/aws-errors.ts';
import { forgetClient, parseForgetRequest } from '#shared/forget/forget.ts';
import { jsonLog } from '#shared/log.ts';

const optionsSchema = targetOptionsSchema.extend({
  customer: z.string().optional(),
  email: z.string().optional(),
  json: z.boolean(),
});

/** `clientele forget --customer ID | --email ADDRESS`: the right to erasure against the endpoints the config names. */
export async function forgetCommand(raw: unknown): Promise<void> {
  const options = optionsSchema.parse(raw);
  const request = parseForgetRequest({
    ...(options.customer !== undefined ? { customerId: options.customer } : {}),
    ...(options.email !== undefined ? { email: options.email } : {}),
  });
  const config = (await loadTarget('forget', options)).config;
  const clients = cliAwsClients(config);
  try {
    const result = await forgetClient({ config, clients, request, at: Date.now(), log: jsonLog({ level: 'warn' }) });
    process.stdout.write(
      options.json
        ? `${JSON.stringify(result)}\n`
        : `Erased: ${result.profiles} profile(s), ${result.historyRecords} tier-history record(s), ${result.ledgerEntries} send-ledger entr${result.ledgerEntries === 1 ? 'y' : 'ies'}; ` +
            `${result.erasureKeys} hashed erasure entr${result.erasureKeys === 1 ? 'y' : 'ies'} keep the person out of later exports and campaigns.\n`,
    );
  } finally {
    destroyAwsClients(clients);
  }
}
