import { z } from 'zod';
import { loadTarget, targetOptionsSchema } from '#local/target.ts';
import { destroyAwsClients } from '#shared/aws/clients.ts';
import { cliAwsClients } from '#local/aws-errors.ts';
import { forgetClient, parseForgetRequest } from '#shared/forget/forget.ts';
import { jsonLog } from '#shared/log.ts';
import { erasedNothingStored, formatForgetResult } from '#local/format.ts';

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
    const nothingStoredMatched = erasedNothingStored(result);
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ ...result, nothingStoredMatched })}\n`);
      // stdout stays one JSON object; the operator still sees that nothing matched.
      if (nothingStoredMatched) process.stderr.write(`clientele: ${formatForgetResult(result, request)}\n`);
    } else {
      process.stdout.write(`${formatForgetResult(result, request)}\n`);
    }
  } finally {
    destroyAwsClients(clients);
  }
}
