import type { Config } from '#shared/config.ts';
import type { DueOccasion } from '#shared/campaigns/due.ts';
import type { ClientProfile } from '#shared/model.ts';
import { categoryDisplayName } from '#shared/templates/category-names.ts';
import { templateLocale, type TemplateLocale } from '#shared/templates/locale.ts';
import { renderEmail, type EmailContent, type TemplateData } from '#shared/templates/render.ts';
import { unsubscribeUrl } from '#shared/unsubscribe/token.ts';

/**
 * Turns a decided occasion into the email's content: template data from the profile and the
 * occasion (pure), then the rendered subject, HTML and text.
 */

export function templateDataFor(
  profile: ClientProfile,
  occasion: DueOccasion,
  companions: readonly DueOccasion[],
  config: Config,
  unsubscribeLink: string,
  locale: TemplateLocale,
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
    ...(profile.advisorId ? { advisor: { id: profile.advisorId } } : {}),
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

export function composeEmail(
  profile: ClientProfile,
  occasion: DueOccasion,
  companions: readonly DueOccasion[],
  config: Config,
  secret: string,
): Promise<EmailContent & { unsubscribeUrl: string }> {
  const link = unsubscribeLinkFor(config, profile.customerId, secret);
  const locale = templateLocale(profile.locale);
  const data = templateDataFor(profile, occasion, companions, config, link, locale);
  return renderEmail(occasion.template, locale, data).then((content) => ({ ...content, unsubscribeUrl: link }));
}
