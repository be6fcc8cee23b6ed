import { INTRODUCTION_CAMPAIGN } from '#shared/advisors/tasks.ts';
import type { AdvisorRecord, ClientProfile } from '#shared/model.ts';
import type { Config } from '#shared/config.ts';
import { categoryDisplayName } from './category-names.ts';
import { templateLocale } from './locale.ts';
import { renderEmail, type EmailContent } from './render.ts';

/**
 * The introduction email after a handover (sources/advisor-introduction.ts), in the client's
 * language and the new advisor's name: a personal note (no offer), signed by the advisor, naming
 * the client's top category by its name (never a raw key). It goes to a client like any brand
 * email: the footer carries the brand's postal address. The digest shows it as a draft; the
 * sender sends it.
 */
export function renderIntroduction(
  profile: Pick<ClientProfile, 'locale' | 'firstName' | 'lastName' | 'tier' | 'topCategory'>,
  advisor: Pick<AdvisorRecord, 'advisorId' | 'signature'> & { name: string },
  config: Pick<Config, 'brandName' | 'categoryNames'> & { sender: Pick<Config['sender'], 'postalAddress'> },
  unsubscribeUrl: string,
): Promise<EmailContent> {
  const locale = templateLocale(profile.locale);
  const category = profile.topCategory === undefined ? undefined : categoryDisplayName(profile.topCategory, locale, config.categoryNames);
  return renderEmail(INTRODUCTION_CAMPAIGN, locale, {
    brandName: config.brandName,
    ...(config.sender.postalAddress ? { postalAddress: config.sender.postalAddress } : {}),
    ...(profile.firstName ? { firstName: profile.firstName } : {}),
    ...(profile.lastName ? { lastName: profile.lastName } : {}),
    tier: profile.tier,
    advisor: { id: advisor.advisorId, name: advisor.name, ...(advisor.signature === undefined ? {} : { signature: advisor.signature }) },
    products: [],
    // A note, never a promotion.
    offer: { kind: 'personal-note' },
    unsubscribeUrl,
    ...(category === undefined ? {} : { recommendedCategory: category }),
  });
}
