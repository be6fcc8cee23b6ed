import { isActiveAdvisor } from '#shared/advisors/roster.ts';
import type { Config } from '#shared/config.ts';
import { judgedProfile, type DueOccasion } from '#shared/campaigns/due.ts';
import { firstOrderProducts, type ProductCatalog } from '#shared/campaigns/triggers.ts';
import type { AdvisorRecord, ClientProfile, ProductRecord } from '#shared/model.ts';
import { utmContent, withUtm } from '#shared/templates/utm.ts';
import { skuCategory } from '#shared/segments/category-affinity.ts';
import { categoryDisplayName } from '#shared/templates/category-names.ts';
import { templateLocale, type TemplateLocale } from '#shared/templates/locale.ts';
import { tierDisplayName } from '#shared/templates/tier-names.ts';
import { isPersonalNote, MAX_SHOWN_CATEGORIES, renderEmail, type EmailContent, type TemplateData } from '#shared/templates/render.ts';
import { unsubscribeUrl } from '#shared/unsubscribe/token.ts';
import { ownEntry } from '#shared/dictionary.ts';

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

/** What an email adds to the occasion: the products export (pictures, prices, links) and the occasion's own coupon code. */
export interface EmailExtras {
  catalog?: ReadonlyMap<string, ProductRecord>;
  /** Drawn from the campaign's pool or generated (shared/sender/coupons.ts); replaces the offer's fixed code. */
  couponCode?: string;
}

/** How many products a welcome shows of the client's first order. */
const WELCOME_PRODUCTS = 3;

/** The products an email shows: the run-out ones, the win-back's picks, or what a welcome's first order bought. */
function occasionProducts(profile: ClientProfile, occasion: DueOccasion, companions: readonly DueOccasion[], catalog: ProductCatalog | undefined): { sku?: string; name: string; runOutDate?: string }[] {
  if (occasion.kind === 'replenishment') {
    return [occasion, ...companions].flatMap((o) => {
      const name = o.details.productName ?? o.details.sku;
      return name ? [{ name, ...(o.details.sku ? { sku: o.details.sku } : {}), ...(o.details.runOutDate ? { runOutDate: o.details.runOutDate } : {}) }] : [];
    });
  }
  if (occasion.kind === 'welcome') {
    // The first order's SKUs as first-purchase-thanks picks them: a welcome held (quiet hours) past a
    // second order still thanks for the first, so it never lists what only the later order bought.
    return firstOrderProducts(profile, catalog)
      .slice(0, WELCOME_PRODUCTS)
      .map(({ sku, productName }) => ({ sku, name: productName ?? sku }));
  }
  return (occasion.details.products ?? []).map((p) => ({ sku: p.sku, name: p.productName ?? p.sku }));
}

/**
 * The categories of the products shown, each once in their order, named for the locale, with the
 * brand's care tip when the config has one; the first MAX_SHOWN_CATEGORIES of them (a reminder for
 * a dozen products running out together names the first ten categories, and still goes).
 */
function shownCategories(
  products: readonly { sku?: string }[],
  profile: ClientProfile,
  config: Pick<Config, 'categoryNames' | 'categoryCare'>,
  locale: TemplateLocale,
  catalog: ReadonlyMap<string, ProductRecord> | undefined,
): NonNullable<TemplateData['categories']> {
  const keys = new Set<string>();
  for (const { sku } of products) {
    const key = sku === undefined ? undefined : skuCategory(profile, sku, catalog);
    if (key !== undefined) keys.add(key);
  }
  return [...keys].flatMap((key) => {
    const name = categoryDisplayName(key, locale, config.categoryNames);
    const care = ownEntry(config.categoryCare, key)?.[locale];
    return name === undefined && care === undefined ? [] : [{ ...(name === undefined ? {} : { name }), ...(care === undefined ? {} : { care }) }];
  }).slice(0, MAX_SHOWN_CATEGORIES);
}

export function templateDataFor(
  profile: ClientProfile,
  occasion: DueOccasion,
  companions: readonly DueOccasion[],
  config: Config,
  unsubscribeLink: string,
  locale: TemplateLocale,
  advisor?: Pick<AdvisorRecord, 'advisorId' | 'name' | 'signature'>,
  extras: EmailExtras = {},
): TemplateData {
  const { details } = occasion;
  const recommendedCategory = details.recommendedCategory === undefined ? undefined : categoryDisplayName(details.recommendedCategory, locale, config.categoryNames);
  // Every shop link credits the campaign and the occasion; the unsubscribe link is no shop link.
  const tags = { source: config.sender.utmSource, campaign: occasion.campaignId, content: utmContent(occasion.occasionKey) };
  const products: TemplateData['products'] = occasionProducts(profile, occasion, companions, extras.catalog).map((product) => {
    const record = product.sku === undefined ? undefined : extras.catalog?.get(product.sku);
    return {
      ...product,
      ...(record?.url === undefined ? {} : { url: withUtm(record.url, tags) }),
      ...(record?.imageUrl === undefined ? {} : { imageUrl: record.imageUrl }),
      ...(record?.priceMinor === undefined || record.currency === undefined ? {} : { price: { minor: record.priceMinor, currency: record.currency } }),
    };
  });
  const categories = shownCategories(products, profile, config, locale, extras.catalog);
  const { couponFrom: _source, forCategories: _categories, ...offer } = details.offer;
  const favouriteCategory = profile.topCategory === undefined ? undefined : categoryDisplayName(profile.topCategory, locale, config.categoryNames);
  const season = details.season ?? details.lastSeason;
  // A season is named as a category is: the config's name for the locale, never a raw key.
  const seasonName = season === undefined ? undefined : categoryDisplayName(season, locale, Object.fromEntries(config.campaigns.seasons.map((s) => [s.name, s.names ?? {}])));
  return {
    brandName: config.brandName,
    ...(profile.firstName ? { firstName: profile.firstName } : {}),
    ...(profile.lastName ? { lastName: profile.lastName } : {}),
    tier: profile.tier,
    tierName: tierDisplayName(profile.tier, locale, config.tierNames),
    ...(advisor?.name === undefined ? {} : { advisor: { id: advisor.advisorId, name: advisor.name, ...(advisor.signature === undefined ? {} : { signature: advisor.signature }) } }),
    products,
    offer: extras.couponCode === undefined ? offer : { ...offer, couponCode: extras.couponCode },
    unsubscribeUrl: unsubscribeLink,
    ...(recommendedCategory ? { recommendedCategory } : {}),
    ...(favouriteCategory ? { favouriteCategory } : {}),
    ...(seasonName ? { seasonName } : {}),
    ...(details.seasonStartDate === undefined ? {} : { seasonStartDate: details.seasonStartDate }),
    ...(details.daysSinceLastOrder === undefined ? {} : { daysSinceLastOrder: details.daysSinceLastOrder }),
    ...(categories.length === 0 ? {} : { categories }),
    ...(config.sender.shopUrl ? { shopUrl: withUtm(config.sender.shopUrl, tags) } : {}),
    ...(config.sender.postalAddress ? { postalAddress: config.sender.postalAddress } : {}),
  };
}

export function unsubscribeLinkFor(config: Config, customerId: string, secret: string): string {
  return unsubscribeUrl(config.sender.unsubscribeBaseUrl, customerId, secret);
}

/** What the sender composes a client's email with besides the profile and the occasions: the run's config, unsubscribe secret, roster and products export. */
export interface ClientEmailInputs {
  config: Config;
  unsubscribeSecret: string;
  advisors: ReadonlyMap<string, AdvisorRecord>;
  catalog: ReadonlyMap<string, ProductRecord>;
}

/**
 * The client's email for an occasion and the companions it settles, as the sender sends it: one
 * composition for the email itself (run.ts) and for the note an advisor's task email shows as
 * drafted in their name (advisor-tasks.ts), so the advisor reads what the client will get.
 * `withoutAdvisor`: from the client care team (the advisor never had the task). `couponCode`: the
 * occasion's code, drawn just before the send (shared/sender/coupons.ts).
 */
export function composeClientEmail(
  inputs: ClientEmailInputs,
  profile: ClientProfile,
  occasion: DueOccasion,
  companions: readonly DueOccasion[],
  options: { withoutAdvisor?: boolean; couponCode?: string } = {},
): ReturnType<typeof composeEmail> {
  const advisors = options.withoutAdvisor === true ? new Map<string, AdvisorRecord>() : inputs.advisors;
  return composeEmail(profile, occasion, companions, inputs.config, inputs.unsubscribeSecret, advisors, {
    catalog: inputs.catalog,
    ...(options.couponCode === undefined ? {} : { couponCode: options.couponCode }),
  });
}

export async function composeEmail(
  profile: ClientProfile,
  occasion: DueOccasion,
  companions: readonly DueOccasion[],
  config: Config,
  secret: string,
  advisors: ReadonlyMap<string, AdvisorRecord> = new Map(),
  extras: EmailExtras = {},
): Promise<EmailContent & { unsubscribeUrl: string; from: string; replyTo?: string }> {
  const link = unsubscribeLinkFor(config, profile.customerId, secret);
  const locale = templateLocale(profile.locale);
  // By the tier the occasion is judged by (a lapse's step: the higher of the one held when it came
  // due and the one of the hour), as the sender decided it.
  const judged = judgedProfile(profile, occasion);
  const advisor = noteAdvisor(judged, occasion, config, advisors);
  const data = templateDataFor(judged, occasion, companions, config, link, locale, advisor, extras);
  const content = await renderEmail(occasion.template, locale, data);
  return { ...content, unsubscribeUrl: link, ...noteEnvelope(config, advisor) };
}
