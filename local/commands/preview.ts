import { z } from 'zod';
import { loadTarget, targetOptionsSchema } from '#local/target.ts';
import { createAwsClients, destroyAwsClients } from '#shared/aws/clients.ts';
import { dueOccasions, type DueOccasion } from '#shared/campaigns/due.ts';
import { knownAdvisors } from '#shared/advisors/roster.ts';
import { readRoster } from '#shared/store/roster-store.ts';
import { composeEmail } from '#shared/sender/compose.ts';
import { readCatalog } from '#shared/store/catalog-store.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { tableName } from '#shared/store/tables.ts';
import { UsageError } from '#local/errors.ts';
import { parseInstant } from './campaigns.ts';

const optionsSchema = targetOptionsSchema.extend({
  campaign: z.string(),
  customer: z.string(),
  at: z.string().optional(),
  format: z.enum(['text', 'html']),
});

/**
 * `clientele preview --campaign C --customer ID`: the email that client would get, rendered from
 * the stored profile. When the campaign is not due for them now, a representative occasion is
 * built at the moment it would be (so any email can be proofread).
 */
export async function previewCommand(raw: unknown): Promise<void> {
  const options = optionsSchema.parse(raw);
  const config = (await loadTarget('preview', options)).config;
  const campaign = config.campaigns.campaigns.find((c) => c.id === options.campaign);
  if (!campaign) throw new UsageError(`No campaign "${options.campaign}"; known: ${config.campaigns.campaigns.map((c) => c.id).join(', ')}`);
  const clients = createAwsClients(config);
  try {
    const profile = await getProfile(clients.documents, tableName(config, 'profiles'), options.customer);
    if (!profile) throw new UsageError(`No stored profile for customer ${options.customer} (run the nightly job first).`);
    const catalog = await readCatalog(clients.s3, config);
    const context = { campaigns: { ...config.campaigns, campaigns: [{ ...campaign, enabled: true }] }, brandTimeZone: config.timeZone };
    const at = options.at ? parseInstant(options.at) : Date.now();
    let occasion: DueOccasion | undefined = dueOccasions(profile, catalog, at, context)[0];
    if (!occasion) occasion = representativeOccasion(profile, catalog, context, at);
    if (!occasion) throw new UsageError(`Campaign ${campaign.id} can never apply to customer ${options.customer} (e.g. no replenishable product, no order).`);
    const secret = process.env.UNSUBSCRIBE_SECRET ?? 'preview-only-secret-not-used-for-sending!';
    const advisors = knownAdvisors(await readRoster(clients.s3, config), config);
    const email = await composeEmail(profile, occasion, [], config, secret, advisors);
    const body = options.format === 'html' ? email.html : email.text;
    const replyTo = email.replyTo === undefined ? '' : `Reply-To: ${email.replyTo}\n`;
    process.stdout.write(`From: ${email.from}\n${replyTo}Subject: ${email.subject}\nTo: ${profile.email ?? '(no email)'}\nList-Unsubscribe: <${email.unsubscribeUrl}>\n\n${body}\n`);
  } finally {
    destroyAwsClients(clients);
  }
}

/** The occasion as it would be on the first day it falls due within the next two years. */
function representativeOccasion(
  profile: Parameters<typeof dueOccasions>[0],
  catalog: Parameters<typeof dueOccasions>[1],
  context: Parameters<typeof dueOccasions>[3],
  from: number,
): DueOccasion | undefined {
  const candidates = [profile.signedUpAt, profile.firstOrderAt].flatMap((t) => (t ? [Date.parse(t) + 3_600_000] : []));
  for (const at of candidates) {
    const found = dueOccasions(profile, catalog, at, context)[0];
    if (found) return found;
  }
  for (let day = 0; day < 730; day++) {
    const found = dueOccasions(profile, catalog, from + day * 86_400_000, context)[0];
    if (found) return found;
  }
  return undefined;
}
