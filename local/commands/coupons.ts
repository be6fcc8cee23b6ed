import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import { cliAwsClients } from '#local/aws-errors.ts';
import { UsageError } from '#local/errors.ts';
import { loadTarget, targetOptionsSchema } from '#local/target.ts';
import { destroyAwsClients } from '#shared/aws/clients.ts';
import { codesGiven, type GivenCode } from '#shared/store/coupon-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { startOfLocalDay } from '#shared/time.ts';

const optionsSchema = targetOptionsSchema.extend({
  campaign: z.string(),
  since: z.string().optional(),
  out: z.string().optional(),
});

/** The codes as the CSV a shop imports: one code a line, with when it was given (UTC). */
export function givenCodesCsv(campaignId: string, codes: readonly GivenCode[]): string {
  return ['code,campaign_id,given_at', ...codes.map((given) => `${given.code},${campaignId},${new Date(given.givenAt).toISOString()}`)].join('\n') + '\n';
}

/**
 * `clientele coupons issued --campaign C [--since D] [--out F]`: the codes the sender gave for a
 * campaign (a pool's drawn codes, a scheme's generated ones), for the shop to import. Nothing else
 * knows a scheme's codes.
 */
export async function couponsIssuedCommand(raw: unknown): Promise<void> {
  const options = optionsSchema.parse(raw);
  const config = (await loadTarget('coupons issued', options)).config;
  const ids = config.campaigns.campaigns.map((campaign) => campaign.id);
  if (!ids.includes(options.campaign)) throw new UsageError(`--campaign ${options.campaign}: no such campaign in the config (${ids.join(', ')})`);
  const clients = cliAwsClients(config);
  try {
    const since = options.since === undefined ? 0 : startOfLocalDay(options.since, config.timeZone);
    const codes = await codesGiven({ documents: clients.documents, table: tableNames(config).couponCodes }, options.campaign, since);
    const csv = givenCodesCsv(options.campaign, codes);
    if (options.out === undefined) {
      process.stdout.write(csv);
      return;
    }
    const path = resolve(options.out);
    await writeFile(path, csv, 'utf8');
    process.stdout.write(`${path}\n`);
    process.stderr.write(`clientele: ${codes.length} codes of ${options.campaign} given${options.since ? ` since ${options.since}` : ''}\n`);
  } finally {
    destroyAwsClients(clients);
  }
}
