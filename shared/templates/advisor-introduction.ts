import { INTRODUCTION_CAMPAIGN } from '#shared/advisors/tasks.ts';
import type { AdvisorRecord, ClientProfile } from '#shared/model.ts';
import { templateLocale } from './locale.ts';
import { renderEmail, type EmailContent } from './render.ts';

/**
 * The introduction email after a handover (sources/advisor-introduction.ts), in the client's
 * language and the new advisor's name: a personal note (no offer), signed by the advisor, naming
 * the client's top category. The digest shows it as a draft; the sender sends it.
 */
export function renderIntroduction(
  profile: Pick<ClientProfile, 'locale' | 'firstName' | 'lastName' | 'tier' | 'topCategory'>,
  advisor: Pick<AdvisorRecord, 'advisorId' | 'signature'> & { name: string },
  brandName: string,
  unsubscribeUrl: string,
): Promise<EmailContent> {
  return renderEmail(INTRODUCTION_CAMPAIGN, templateLocale(profile.locale), {
    brandName,
    ...(profile.firstName ? { firstName: profile.firstName } : {}),
    ...(profile.lastName ? { lastName: profile.lastName } : {}),
    tier: profile.tier,
    advisor: { id: advisor.advisorId, name: advisor.name, ...(advisor.signature === undefined ? {} : { signature: advisor.signature }) },
    products: [],
    // A note, never a promotion.
    offer: { kind: 'personal-note' },
    unsubscribeUrl,
    ...(profile.topCategory === undefined ? {} : { recommendedCategory: profile.topCategory }),
  });
}
