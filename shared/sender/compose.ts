import { isActiveAdvisor } from '#shared/advisors/roster.ts';
import type { Config } from '#shared/config.ts';
import type { DueOccasion } from '#shared/campaigns/due.ts';
import type { AdvisorRecord, ClientProfile } from '#shared/model.ts';
import { categoryDisplayName } from '#shared/templates/category-names.ts';
import { templateLocale, type TemplateLocale } from '#shared/templates/locale.ts';
import { isPersonalNote, renderEmail, type EmailContent, type TemplateData } from '#shared/templates/render.ts';
import { unsubscribeUrl } from '#shared/unsubscribe/token.ts';

/**
 * Turns a decided occasion into the email's content: template data from the profile and the
 * occasion (pure), then the rendered subject, HTML and text, and who it comes from.
 *
 * A personal note (a VIC client, or a personal-note offer) of a campaign the config marks
 * `personal` goes out in the name of the client's advisor when the roster has them active (named,
 * with an email): From "Advisor Name via Brand <brand address>" (the brand's verified identity
 * sends it), Reply-To the advisor, signed with their name and signature. Any other personal note
 * is the client care team's, from the brand: a note never promises an advisor nobody is.
 */

/** The active advisor a note goes out in the name of, if any (see above). Pure. */
export function noteAdvisor(
  profile: Pick<ClientProfile, 'tier' | 'advisorId'>,
  occasion: Pick<DueOccasion, 'campaignId' | 'details'>,
  config: Pick<Config, 'campaigns'>,
  advisors: ReadonlyMap<string, AdvisorRecord>,
): (AdvisorRecord & { name: string; email: string }) | undefined {
  const campaign = config.campaigns.campaigns.find((c) => c.id === occasion.campaignId);
  if (campaign?.personal !== true || !isPersonalNote(profile.tier, occasion.details.offer.kind) || profile.advisorId === undefined) return undefined;
  const advisor = advisors.get(profile.advisorId);
  return isActiveAdvisor(advisor) ? advisor : undefined;
}

/** A display name as a header may carry it: one line, no angle brackets or quotes (formatFromAddress quotes and encodes the rest). */
function headerName(name: string): string {
  return name.replace(/[\r\n<>"\\]+/g, ' ').replace(/\s+/g, ' ').trim();
}

/** From and Reply-To of a campaign email: the brand's, or "Advisor via Brand <brand address>" replying to the advisor. */
export function noteEnvelope(config: Pick<Config, 'brandName' | 'sender'>, advisor: Pick<AdvisorRecord, 'name' | 'email'> | undefined): { from: string; replyTo?: string } {
  if (advisor?.name === undefined || advisor.email === undefined) return { from: config.sender.fromAddress };
  return { from: `${headerName(advisor.name)} via ${headerName(config.brandName)} <${config.sender.fromAddress}>`, replyTo: advisor.email };
}

export function templateDataFor(
  profile: ClientProfile,
  occasion: DueOccasion,
  companions: readonly DueOccasion[],
  config: Config,
  unsubscribeLink: string,
  locale: TemplateLocale,
  advisor?: Pick<AdvisorRecord, 'advisorId' | 'name' | 'signature'>,
): TemplateData {
  const { details } = occasion;
  const recommendedCategory = details.recommendedCategory === undefined ? undefined : categoryDisplayName(details.recommendedCategory, locale, config.categoryNames);
  const products: TemplateData['products'] = [];
  if (occasion.kind === 'replenishment') {
    for (const o of [occasion, ...companions]) {
      const name = o.details.productName ?? o.details.sku;
      if (name) products.push({ name, ...(o.details.sku ? { sku: o.details.sku } : {}), ...(o.details.runOutDate ? { runOutDate: o.details.runOutDate } : {}) });
    }
  } else {
    for (const p of details.products ?? []) {
      const name = p.productName ?? p.sku;
      if (name) products.push({ name, sku: p.sku });
    }
  }
  return {
    brandName: config.brandName,
    ...(profile.firstName ? { firstName: profile.firstName } : {}),
    ...(profile.lastName ? { lastName: profile.lastName } : {}),
    tier: profile.tier,
    ...(advisor?.name === undefined ? {} : { advisor: { id: advisor.advisorId, name: advisor.name, ...(advisor.signature === undefined ? {} : { signature: advisor.signature }) } }),
    products,
    offer: details.offer,
    unsubscribeUrl: unsubscribeLink,
    ...(recommendedCategory ? { recommendedCategory } : {}),
    ...(config.sender.shopUrl ? { shopUrl: config.sender.shopUrl } : {}),
  };
}

export function unsubscribeLinkFor(config: Config, customerId: string, secret: string): string {
  return unsubscribeUrl(config.sender.unsubscribeBaseUrl, customerId, secret);
}

export async function composeEmail(
  profile: ClientProfile,
  occasion: DueOccasion,
  companions: readonly DueOccasion[],
  config: Config,
  secret: string,
  advisors: ReadonlyMap<string, AdvisorRecord> = new Map(),
): Promise<EmailContent & { unsubscribeUrl: string; from: string; replyTo?: string }> {
  const link = unsubscribeLinkFor(config, profile.customerId, secret);
  const locale = templateLocale(profile.locale);
  const advisor = noteAdvisor(profile, occasion, config, advisors);
  const data = templateDataFor(profile, occasion, companions, config, link, locale, advisor);
  const content = await renderEmail(occasion.template, locale, data);
  return { ...content, unsubscribeUrl: link, ...noteEnvelope(config, advisor) };
}
