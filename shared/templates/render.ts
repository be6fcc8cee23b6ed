import { Liquid } from 'liquidjs';
import { z } from 'zod';
import { couponCode } from '#shared/campaigns/coupon-codes.ts';
import { OFFER_KINDS, type OfferKind } from '#shared/campaigns/schema.ts';
import { shortenedText, visibleText } from '#shared/display-text.ts';
import { ClienteleError } from '#shared/errors.ts';
import { currencyExponent, formatMinor } from '#shared/money.ts';
import { TEMPLATE_CATALOG, type TemplateCatalog } from './catalog.ts';
import { isTemplateLocale, type TemplateLocale } from './locale.ts';
import type { LocaleSources } from './sources/types.ts';
import { issuesText } from '#shared/zod-issues.ts';

/**
 * Renders a campaign email (subject, HTML, text) from the Liquid sources of catalog.ts.
 * HTML is rendered with every output escaped; subject and text without escaping. Variables are
 * strict, so a typo in a template fails the render instead of sending a blank.
 */

export interface EmailContent {
  subject: string;
  html: string;
  text: string;
}

export type { OfferKind };

export interface TemplateData {
  brandName: string;
  firstName?: string;
  lastName?: string;
  tier: string;
  /** The tier as the email names it in its locale (tier-names.ts); the tier key when absent. */
  tierName?: string;
  /**
   * The advisor the note goes out in the name of: only for a personal note of a personal campaign
   * to a client whose advisor is active (shared/sender/compose.ts noteSender). Without it a
   * personal note is signed by the client care team: never a promise of an advisor.
   */
  advisor?: { id: string; name: string; signature?: string };
  /** Picture, price and link when the products export gives them (the links already carry their UTM parameters). */
  products: { name: string; sku?: string; runOutDate?: string; url?: string; imageUrl?: string; price?: { minor: number; currency: string } }[];
  offer: {
    kind: OfferKind;
    couponCode?: string;
    discountPercent?: number;
    freeShipping?: boolean;
    /** A sample of something new alongside a coupon (the replenishment offer); implied by kind 'sample'. */
    sample?: boolean;
  };
  unsubscribeUrl: string;
  recommendedCategory?: string;
  /**
   * The categories of the products shown, as the email names them (config.categoryNames), with the
   * brand's care and use tips for each when the config gives them (config.categoryCare).
   */
  categories?: { name?: string; care?: string }[];
  /** The client's own top category, in the email's language (what a cross-category suggestion starts from). */
  favouriteCategory?: string;
  /** The season an email is about (season starts, last season's picks), in the email's language, and the local day it starts (YYYY-MM-DD). */
  seasonName?: string;
  seasonStartDate?: string;
  /** Local days since the last order (a lapse's step). */
  daysSinceLastOrder?: number;
  /** Where the call-to-action button leads (with its UTM parameters); no button when absent. */
  shopUrl?: string;
  /** The brand's postal address, one line each, in the footer (CAN-SPAM). */
  postalAddress?: string[];
}

export class TemplateError extends ClienteleError {
  override name = 'TemplateError';
  constructor(message: string, options?: ErrorOptions) {
    super('TEMPLATE_INVALID', message, options);
  }
}

// Escaping does not make a `javascript:` URL safe in an href: only http(s) links are accepted.
const webUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
/**
 * Past this a first or last name is not a name (a form filled with anything; the exports keep 500
 * characters): the email greets the client as it greets one without a name.
 */
export const MAX_SHOWN_NAME_CHARS = 100;
/** Longer product names, categories and seasons are shortened to this, an ellipsis included. */
export const MAX_SHOWN_TEXT_CHARS = 200;

/**
 * Whatever the exports keep must make a mailable email, so no length is refused here: shown text
 * is its visible text (display-text.ts, for what was stored before the exports removed control and
 * invisible characters), absent when nothing is visible, shortened past MAX_SHOWN_TEXT_CHARS.
 */
const shownText = z
  .string()
  .optional()
  .transform((value) => shortenedText(visibleText(value), MAX_SHOWN_TEXT_CHARS));
/** A name: its visible text, or absent (also past MAX_SHOWN_NAME_CHARS). */
const shownName = z
  .string()
  .optional()
  .transform((value) => {
    const name = visibleText(value);
    return name !== undefined && name.length <= MAX_SHOWN_NAME_CHARS ? name : undefined;
  });

/** Categories an email names (each with its care tip, up to 600 characters): the composer shows the first ones of its products. */
export const MAX_SHOWN_CATEGORIES = 10;

const templateDataSchema = z.object({
  brandName: z.string().trim().min(1).max(100),
  firstName: shownName,
  lastName: shownName,
  tier: z.string().min(1),
  tierName: shownText,
  advisor: z.object({ id: z.string().min(1), name: z.string().trim().min(1).max(200), signature: shownText }).optional(),
  products: z.array(
    z.object({
      // A product without a visible name is shown by its SKU, or not at all.
      name: shownText,
      sku: z.string().optional(),
      runOutDate: z.string().optional(),
      url: webUrl.optional(),
      imageUrl: webUrl.optional(),
      price: z.object({ minor: z.number().int().nonnegative(), currency: z.string().regex(/^[A-Z]{3}$/) }).optional(),
    }),
  ),
  offer: z.object({
    kind: z.enum(OFFER_KINDS),
    couponCode: couponCode.optional(),
    discountPercent: z.number().positive().max(100).optional(),
    freeShipping: z.boolean().optional(),
    sample: z.boolean().optional(),
  }),
  unsubscribeUrl: webUrl,
  recommendedCategory: shownText,
  categories: z.array(z.object({ name: shownText, care: z.string().trim().max(600).optional() })).max(MAX_SHOWN_CATEGORIES).optional(),
  favouriteCategory: shownText,
  seasonName: shownText,
  seasonStartDate: z.iso.date().optional(),
  daysSinceLastOrder: z.number().int().nonnegative().optional(),
  shopUrl: webUrl.optional(),
  postalAddress: z.array(z.string().trim().min(1).max(120)).max(6).optional(),
});

/** What the templates see: every variable defined (null when absent), so strict mode only flags typos. */
export interface TemplateView {
  locale: TemplateLocale;
  lang: string;
  fontFamily: string;
  brandName: string;
  firstName: string | null;
  lastName: string | null;
  tier: string;
  tierName: string;
  isVic: boolean;
  /** A note from the advisor rather than a promotion: VIC clients, or offer kind 'personal-note'. */
  personal: boolean;
  /** A personal note in the advisor's name (signed by them); a personal note without one is the client care team's. */
  fromAdvisor: boolean;
  advisorName: string | null;
  advisorSignature: string | null;
  products: { name: string; sku: string | null; runOutDate: string | null; url: string | null; imageUrl: string | null; price: string | null }[];
  /** The first product (the one running out, for replenishment). */
  productName: string | null;
  runOutDate: string | null;
  offerKind: OfferKind;
  showCoupon: boolean;
  couponCode: string | null;
  discountPercent: number | null;
  freeShipping: boolean;
  sample: boolean;
  /** A gift comes with the next order (no code, no discount); never in a personal note. */
  giftWithOrder: boolean;
  unsubscribeUrl: string;
  shopUrl: string | null;
  recommendedCategory: string | null;
  /** Categories with a name or a care tip, in the order of the products (empty when none). */
  categories: { name: string | null; care: string | null }[];
  /** Whether any category has a care tip. */
  hasCare: boolean;
  /** The named categories in one phrase of the locale ("Skincare and Makeup", "护肤、彩妆"); null when none is named. */
  categoryList: string | null;
  favouriteCategory: string | null;
  seasonName: string | null;
  /** "1 September" / "9月1日". */
  seasonStartDate: string | null;
  daysSinceLastOrder: number | null;
  /** Empty when the config gives none. */
  postalAddress: string[];
}

/** Font stacks per locale: Chinese needs its own faces first, or clients fall back to a serif. */
export const FONT_FAMILY: Record<TemplateLocale, string> = {
  en: 'Helvetica,Arial,sans-serif',
  'zh-CN': 'PingFang SC,Hiragino Sans GB,Microsoft YaHei,Helvetica,Arial,sans-serif',
};

/** "2026-03-14" (or an ISO instant's date part) → "14 March" / "3月14日"; anything else as given. */
export function formatRunOutDate(value: string, locale: TemplateLocale): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:$|T)/.exec(value.trim());
  if (!match) return value;
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  if (Number.isNaN(date.getTime())) return value;
  const intlLocale = locale === 'zh-CN' ? 'zh-CN' : 'en-GB';
  return new Intl.DateTimeFormat(intlLocale, { day: 'numeric', month: 'long', timeZone: 'UTC' }).format(date);
}

/**
 * A price for people, in the email's language: "$1,280.00" / "US$1,280.00"; exact (Intl formats
 * the decimal string, no float). The fraction digits are the ISO minor units money.ts stores
 * amounts in: Intl's own would show 4990.50 HUF as "HUF 4,991".
 */
export function formatPrice(minor: number, currency: string, locale: TemplateLocale): string {
  const digits = currencyExponent(currency);
  const format = new Intl.NumberFormat(locale === 'zh-CN' ? 'zh-CN' : 'en-US', {
    style: 'currency',
    currency,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  // Intl.NumberFormat reads a decimal string exactly (ECMA-402 "Intl.NumberFormat v3").
  return format.format(formatMinor(minor, currency) as unknown as number);
}

/** A note rather than a promotion: VIC clients (recognition, never a discount), or a personal-note offer. */
export function isPersonalNote(tier: string, offerKind: OfferKind): boolean {
  return tier === 'VIC' || offerKind === 'personal-note';
}

/** Whether the email shows the offer's coupon: VIC clients are never sent a discount (recognition, not promotion; domain.md). */
export function showsCoupon(tier: string, offerKind: OfferKind): boolean {
  return !isPersonalNote(tier, offerKind) && (offerKind === 'coupon' || offerKind === 'free-shipping-coupon');
}

export function templateView(locale: TemplateLocale, input: TemplateData): TemplateView {
  const parsed = templateDataSchema.safeParse(input);
  if (!parsed.success) {
    throw new TemplateError(`Invalid template data: ${issuesText(parsed.error)}`);
  }
  const data = parsed.data;
  const categories = (data.categories ?? []).flatMap((c) => (c.name === undefined && !c.care ? [] : [{ name: c.name ?? null, care: c.care ? c.care : null }]));
  const isVic = data.tier === 'VIC';
  const personal = isPersonalNote(data.tier, data.offer.kind);
  const showCoupon = showsCoupon(data.tier, data.offer.kind);
  const products = data.products.flatMap((p) => {
    const name = p.name ?? shortenedText(visibleText(p.sku), MAX_SHOWN_TEXT_CHARS);
    if (name === undefined) return [];
    return [
      {
        name,
        sku: p.sku ?? null,
        runOutDate: p.runOutDate ? formatRunOutDate(p.runOutDate, locale) : null,
        url: p.url ?? null,
        imageUrl: p.imageUrl ?? null,
        price: p.price ? formatPrice(p.price.minor, p.price.currency, locale) : null,
      },
    ];
  });
  return {
    locale,
    lang: locale === 'zh-CN' ? 'zh-CN' : 'en',
    fontFamily: FONT_FAMILY[locale],
    brandName: data.brandName,
    firstName: data.firstName ?? null,
    lastName: data.lastName ?? null,
    tier: data.tier,
    tierName: data.tierName ?? data.tier,
    isVic,
    personal,
    fromAdvisor: personal && data.advisor !== undefined,
    advisorName: personal ? (data.advisor?.name ?? null) : null,
    advisorSignature: personal ? (data.advisor?.signature ?? null) : null,
    products,
    productName: products[0]?.name ?? null,
    runOutDate: products[0]?.runOutDate ?? null,
    offerKind: data.offer.kind,
    showCoupon,
    couponCode: showCoupon ? (data.offer.couponCode ?? null) : null,
    discountPercent: showCoupon ? (data.offer.discountPercent ?? null) : null,
    freeShipping: showCoupon && (data.offer.kind === 'free-shipping-coupon' || data.offer.freeShipping === true),
    sample: data.offer.kind === 'sample' || data.offer.sample === true,
    giftWithOrder: !personal && data.offer.kind === 'gift-with-order',
    unsubscribeUrl: data.unsubscribeUrl,
    shopUrl: data.shopUrl ?? null,
    recommendedCategory: data.recommendedCategory ?? null,
    categories,
    hasCare: categories.some((c) => c.care !== null),
    categoryList: listOf(
      categories.flatMap((c) => (c.name === null ? [] : [c.name])),
      locale,
    ),
    favouriteCategory: data.favouriteCategory ?? null,
    seasonName: data.seasonName ?? null,
    seasonStartDate: data.seasonStartDate ? formatRunOutDate(data.seasonStartDate, locale) : null,
    daysSinceLastOrder: data.daysSinceLastOrder ?? null,
    postalAddress: data.postalAddress ?? [],
  };
}

/** Names in one phrase: "A, B and C" in English, "A、B、C" in Chinese; null for none. */
function listOf(names: readonly string[], locale: TemplateLocale): string | null {
  if (names.length === 0) return null;
  if (locale === 'zh-CN') return names.join('、');
  return names.length === 1 ? (names[0] as string) : `${names.slice(0, -1).join(', ')} and ${names.at(-1) as string}`;
}

const oneLine = (value: string) => value.replace(/\s+/g, ' ').trim();

/** Liquid tags leave blank lines and trailing spaces behind; a text email should not show them. */
function tidyText(value: string): string {
  return `${value
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
}

function tidyHtml(value: string): string {
  return `${value.replace(/\n\s*\n+/g, '\n').trim()}\n`;
}

/**
 * Renders one email (subject, preheader, HTML, text) from named Liquid templates: the HTML engine
 * escapes every output, the text engine none; variables and filters are strict, so a typo fails
 * the render instead of sending a blank. `<key>/subject`, `/preheader` and `/text` are looked up
 * in `textTemplates`, `<key>/html` in `htmlTemplates`.
 */
export type RenderParts = (key: string, view: object) => Promise<EmailContent>;

export function createPartsRenderer(htmlTemplates: Record<string, string>, textTemplates: Record<string, string>): RenderParts {
  const strict = { strictVariables: true, strictFilters: true, ownPropertyOnly: true, cache: true } as const;
  const html = new Liquid({ ...strict, templates: htmlTemplates, outputEscape: 'escape' });
  const text = new Liquid({ ...strict, templates: textTemplates });

  const render = async (engine: Liquid, name: string, view: object, part: string): Promise<string> => {
    try {
      return String(await engine.renderFile(name, view));
    } catch (error) {
      throw new TemplateError(`Template ${name} (${part}) failed to render: ${(error as Error).message}`, { cause: error });
    }
  };

  return async (key, view) => {
    const subject = oneLine(await render(text, `${key}/subject`, view, 'subject'));
    const preheader = oneLine(await render(text, `${key}/preheader`, view, 'preheader'));
    const full = { ...view, subject, preheader };
    const [htmlBody, textBody] = await Promise.all([
      render(html, `${key}/html`, full, 'html'),
      render(text, `${key}/text`, full, 'text'),
    ]);
    return { subject, html: tidyHtml(htmlBody), text: tidyText(textBody) };
  };
}

/** Registers one email's sources under `key`, the names createPartsRenderer looks up. */
export function addSources(htmlTemplates: Record<string, string>, textTemplates: Record<string, string>, key: string, sources: LocaleSources): void {
  htmlTemplates[`${key}/html`] = sources.html;
  textTemplates[`${key}/text`] = sources.text;
  textTemplates[`${key}/subject`] = sources.subject;
  textTemplates[`${key}/preheader`] = sources.preheader;
}

export type RenderEmail = (template: string, locale: TemplateLocale, data: TemplateData) => Promise<EmailContent>;

/** A renderer over a catalog; renderEmail below uses the built-in one (tests pass their own). */
export function createTemplateRenderer(catalog: TemplateCatalog = TEMPLATE_CATALOG): RenderEmail {
  const htmlTemplates: Record<string, string> = { ...catalog.htmlPartials };
  const textTemplates: Record<string, string> = { ...catalog.textPartials };
  for (const [campaign, locales] of Object.entries(catalog.campaigns)) {
    for (const [locale, sources] of Object.entries(locales)) {
      if (!sources) continue;
      addSources(htmlTemplates, textTemplates, `campaign/${campaign}/${locale}`, sources);
    }
  }
  const renderParts = createPartsRenderer(htmlTemplates, textTemplates);

  return async (template, locale, data) => {
    const known = Object.keys(catalog.campaigns);
    if (!Object.hasOwn(catalog.campaigns, template)) {
      throw new TemplateError(`Unknown template "${template}"; known templates: ${known.join(', ')}`);
    }
    const locales = catalog.campaigns[template] ?? {};
    if (!isTemplateLocale(locale) || !locales[locale]) {
      throw new TemplateError(
        `Template "${template}" has no locale "${String(locale)}"; available: ${Object.keys(locales).join(', ')}`,
      );
    }
    return renderParts(`campaign/${template}/${locale}`, templateView(locale, data));
  };
}

const defaultRenderer = createTemplateRenderer();

/** Renders one campaign email: `template` is 'welcome' | 'replenishment' | 'winback'. */
export function renderEmail(template: string, locale: TemplateLocale, data: TemplateData): Promise<EmailContent> {
  return defaultRenderer(template, locale, data);
}
