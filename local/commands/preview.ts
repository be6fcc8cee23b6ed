import { z } from 'zod';
import { loadTarget, targetOptionsSchema } from '#local/target.ts';
import { destroyAwsClients, type AwsClients } from '#shared/aws/clients.ts';
import { cliAwsClients } from '#local/aws-errors.ts';
import type { DueOccasion } from '#shared/campaigns/due.ts';
import { campaignWaitsFor } from '#shared/campaigns/schema.ts';
import { knownAdvisors } from '#shared/advisors/roster.ts';
import type { Config } from '#shared/config.ts';
import { TIERS, type ClientProfile } from '#shared/model.ts';
import { readRoster } from '#shared/store/roster-store.ts';
import { composeEmail } from '#shared/sender/compose.ts';
import { MADE_UP_CUSTOMER_ID, madeUpClient, occasionToShow, sampleCouponCode } from '#shared/sender/test-email.ts';
import { readCatalog, readCategoryAffinity } from '#shared/store/catalog-store.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { tableName } from '#shared/store/tables.ts';
import { TEMPLATE_LOCALES, templateLocale } from '#shared/templates/locale.ts';
import { UsageError } from '#local/errors.ts';
import { parseInstant } from './campaigns.ts';

/** The options preview and send-test share: which campaign, for whom, when. */
export const emailChoiceSchema = targetOptionsSchema.extend({
  campaign: z.string(),
  customer: z.string().optional(),
  locale: z.enum(TEMPLATE_LOCALES).optional(),
  tier: z.enum(TIERS).default('Core'),
  at: z.string().optional(),
});
export type EmailChoice = z.infer<typeof emailChoiceSchema>;

const optionsSchema = emailChoiceSchema.extend({ format: z.enum(['text', 'html']) });

export interface ChosenEmail {
  profile: ClientProfile;
  occasion: DueOccasion;
  /** Whether the client is the made-up one (no --customer). */
  madeUp: boolean;
  email: Awaited<ReturnType<typeof composeEmail>>;
}

/**
 * The email a campaign sends a client, rendered exactly as the sender would: the stored profile
 * (--customer, its locale unless --locale says otherwise) or a made-up client (--locale, --tier).
 * When the campaign is not due for them at --at, the occasion is taken at the first moment it
 * would be. A code from a pool or a scheme shows as TEST-CODE: a preview never uses up a code.
 */
export async function chooseEmail(options: EmailChoice, config: Config, clients: AwsClients, unsubscribeSecret: string, purpose: 'preview' | 'test' = 'preview'): Promise<ChosenEmail> {
  const campaign = config.campaigns.campaigns.find((c) => c.id === options.campaign);
  if (!campaign) throw new UsageError(`No campaign "${options.campaign}"; known: ${config.campaigns.campaigns.map((c) => c.id).join(', ')}`);
  // A campaign that cannot send under this configuration (the seasonal play without seasons) has nothing to show: say why.
  const waiting = campaignWaitsFor(campaign, config.campaigns);
  if (waiting !== undefined) throw new UsageError(`Campaign ${campaign.id} ${waiting}.`);
  const at = options.at ? parseInstant(options.at, config.timeZone) : Date.now();
  const catalog = await readCatalog(clients.s3, config);
  let profile: ClientProfile;
  if (options.customer !== undefined) {
    const stored = await getProfile(clients.documents, tableName(config, 'profiles'), options.customer);
    if (!stored) throw new UsageError(`No stored profile for customer ${options.customer} (run the nightly job first, or leave out --customer for a made-up client).`);
    profile = options.locale === undefined ? stored : { ...stored, locale: options.locale };
  } else {
    profile = madeUpClient(campaign, catalog, at, options.locale ?? 'en', options.tier);
  }
  const occasion = occasionToShow(profile, campaign, catalog, config, at, await readCategoryAffinity(clients.s3, config));
  if (!occasion) {
    throw new UsageError(
      options.customer !== undefined
        ? `Campaign ${campaign.id} can never apply to customer ${options.customer} (e.g. no replenishable product, no order).`
        : `Campaign ${campaign.id} can never apply to a made-up client: the stored catalogue has no product it could show (e.g. no replenishable product; run a night with a products export).`,
    );
  }
  const advisors = knownAdvisors(await readRoster(clients.s3, config), config);
  // A test email's unsubscribe link names the made-up client: clicked by whoever gets the test, it suppresses nobody.
  const addressee = purpose === 'test' ? { ...profile, customerId: MADE_UP_CUSTOMER_ID } : profile;
  const couponCode = sampleCouponCode(occasion.details.offer, config.coupons);
  const email = await composeEmail(addressee, occasion, [], config, unsubscribeSecret, advisors, { catalog, ...(couponCode === undefined ? {} : { couponCode }) });
  return { profile, occasion, madeUp: options.customer === undefined, email };
}

/**
 * `clientele preview --campaign C [--customer ID | --locale L --tier T]`: the email that client (or
 * a made-up one) would get, printed with its headers.
 */
export async function previewCommand(raw: unknown): Promise<void> {
  const options = optionsSchema.parse(raw);
  const config = (await loadTarget('preview', options)).config;
  const clients = cliAwsClients(config);
  try {
    const secret = process.env.UNSUBSCRIBE_SECRET ?? 'preview-only-secret-not-used-for-sending!';
    const { profile, email } = await chooseEmail(options, config, clients, secret);
    const body = options.format === 'html' ? email.html : email.text;
    const replyTo = email.replyTo === undefined ? '' : `Reply-To: ${email.replyTo}\n`;
    const to = profile.email ?? `(a made-up ${profile.tier} client, ${templateLocale(profile.locale)})`;
    process.stdout.write(`From: ${email.from}\n${replyTo}Subject: ${email.subject}\nTo: ${to}\nList-Unsubscribe: <${email.unsubscribeUrl}>\n\n${body}\n`);
  } finally {
    destroyAwsClients(clients);
  }
}
