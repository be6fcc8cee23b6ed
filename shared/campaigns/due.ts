import { tierRank, type ChurnRisk, type ClientProfile, type ProductRecord, type SkuPurchase, type Tier } from '#shared/model.ts';
import { templateLocale } from '#shared/locale.ts';
import { addDays, daysBetweenDates, isIsoDate, localDate, startOfLocalDay, timeZoneOr } from '#shared/time.ts';
import { categoriesBought, crossCategoryPick, skuCategory, type CategoryAffinity } from '#shared/segments/category-affinity.ts';
import { campaignRules, type CampaignRules } from './schema.ts';
import type { CampaignDefinition, CampaignKind, CampaignsConfig, GradedOffer, Offer, ReplenishmentCampaign, WelcomeCampaign } from './schema.ts';
import { boughtInWindow, lastYearWindow } from './seasons.ts';
import {
  instantOf,
  momentWindow,
  onceKey,
  predictedRunOutDay,
  productNameOf,
  productRef,
  runOutDay,
  triggerMoments,
  type InstantRange,
  type Moment,
  type ProductCatalog,
  type TriggerContext,
  type TriggerDetails,
} from './triggers.ts';

export { isReplenishable, productNameOf, replenishmentCycle, type ProductCatalog } from './triggers.ts';

/**
 * Who is due which campaign at `now`: pure timing, from the stored profile and the products
 * export, driven by each campaign's rules in the trigger vocabulary (schema.ts campaignRules, triggers.ts).
 * Audience, consent, caps, quiet hours and the control group are decided afterwards (policy.ts
 * `decide`). Every "N days" is counted in local calendar days of the client's time zone (the
 * brand's when the client has none), from local midnight.
 */

const MS_PER_HOUR = 3_600_000;
/** Products of a category an email shows. */
const CATEGORY_PRODUCTS = 3;
/** The products sources whose list (not its names) comes from the profile and the trigger alone: the due index may take an empty one for good. */
const PROFILE_PRODUCT_SOURCES: ReadonlySet<CampaignRules['products']['from']> = new Set(['trigger', 'top-category', 'last-season']);

export interface CampaignContext {
  campaigns: CampaignsConfig;
  /** IANA zone of the brand: used for clients whose own zone is unknown. */
  brandTimeZone: string;
  /** The last night's category affinity, for the cross-category products; without it they show none. */
  categoryAffinity?: CategoryAffinity;
  /**
   * The products export, for an audience's bought / never-bought categories (decide): Shopify's
   * order lines carry no category, so without it such an audience would read only the lines'.
   */
  catalog?: ProductCatalog;
}

/** The trigger's facts (triggers.ts TriggerDetails) and the offer. Absent fields are left out, never undefined. */
export interface OccasionDetails extends TriggerDetails {
  /** The offer for the client's tier (a copy: safe to change). */
  offer: Offer;
}

export interface DueOccasion {
  campaignId: string;
  kind: CampaignKind;
  customerId: string;
  /**
   * The once-per key: unique per campaign occasion; the sender's exactly-once ledger is keyed by
   * customerId + occasionKey. The built-ins: 'welcome', 'replenishment#SKU#2026-01-02T03:04:05.000Z'
   * (or 'replenishment#next-order#<lastOrderAt>' at the predicted next order), 'winback#2026-01-02T03:04:05.000Z'.
   */
  occasionKey: string;
  /** When the occasion started: the trigger's instant, or local midnight of its day (run-out − N days, last order + N days...). */
  triggerAt: number;
  /** Send window [dueAt, expiresAt). */
  dueAt: number;
  expiresAt: number;
  /**
   * Whether the key is not this window's alone: once ever (the welcome), a timing's oncePer
   * shared by several windows (ever, lapse, purchase, year, tier-change), or a key whose window
   * moves (the next-order fallback, when a refit moves the prediction). Nothing bounds when such
   * a key's next window opens, so the ledger keeps its entry until the client is erased.
   */
  keyOutlivesWindow: boolean;
  /** Lower goes first (from the campaign). */
  priority: number;
  /** Template id of the campaign, for the client's template locale. */
  template: string;
  details: OccasionDetails;
  /**
   * The tier the occasion is judged by (offer, audience, advisor's note) when it is not the
   * profile's: a lapse's step keeps the one the client held when it came due when it is higher
   * than the tier of the hour (lapseTier). Absent: the profile's tier.
   */
  tier?: Tier;
}

/** The client's IANA zone, or the brand's when it is missing or unknown to the platform. */
export function clientTimeZone(profile: Pick<ClientProfile, 'timeZone'>, brandTimeZone: string): string {
  return timeZoneOr(profile.timeZone, brandTimeZone);
}

const DAYS_PER_YEAR = 365;

/**
 * The tier the client held at `at`: the profile's, unless the night that recorded their last move
 * (tierChangedOn, a run date of the brand) is as of a later instant (its clock, the end of its
 * run date in the brand's zone: tiering/profile.ts runClock), when it is the tier they moved from.
 * The profile keeps one move: after two moves since `at` it is the middle tier. Pure.
 */
export function tierHeldAt(profile: Pick<ClientProfile, 'tier' | 'previousTier' | 'tierChangedOn'>, at: number, brandTimeZone: string): Tier {
  const { tier, previousTier, tierChangedOn } = profile;
  if (previousTier === undefined || tierChangedOn === undefined || !isIsoDate(tierChangedOn)) return tier;
  return startOfLocalDay(addDays(tierChangedOn, 1), brandTimeZone) > at ? previousTier : tier;
}

/**
 * The tier a window's occasions are judged by, when it is not the profile's (DueOccasion.tier).
 * A step of a lapse (no-order-for: the win-back, the recall's steps) is judged by the higher
 * (tierRank) of the tier the client held when it came due and the tier they hold now. Without an
 * order, the nights during its window only see orders leave the 12 months (the recall's 365-day
 * step opens on the last day the last order counts), and judging it by tonight's lower tier would
 * undo what an earlier hour decided for it (a VIC's note given to their advisor as a task, then a
 * discount from the client care team). A move up since it came due (a lowered threshold, an older
 * order exported late) counts: a VIC is never sent a discount. A move recorded before the step
 * came due (a refund) counts. Other triggers are judged by the tier of the hour.
 */
function lapseTier(rules: CampaignRules, profile: ClientProfile, dueAt: number, brandTimeZone: string): Tier | undefined {
  if (rules.trigger.on !== 'no-order-for') return undefined;
  const held = tierHeldAt(profile, dueAt, brandTimeZone);
  return tierRank(held) > tierRank(profile.tier) ? held : undefined;
}

/** The profile as an occasion (or a send window) is judged: with the tier it is judged by (DueOccasion.tier). */
export function judgedProfile<P extends Pick<ClientProfile, 'tier'>>(profile: P, occasion: { tier?: Tier }): P {
  return occasion.tier === undefined || occasion.tier === profile.tier ? profile : { ...profile, tier: occasion.tier };
}

/** How often the client used to buy: orders per year over their buying life (first to last order, a year at least); undefined without orders. */
export function ordersPerYear(profile: Pick<ClientProfile, 'orderCount' | 'firstOrderAt' | 'lastOrderAt'>): number | undefined {
  const first = instantOf(profile.firstOrderAt);
  const last = instantOf(profile.lastOrderAt);
  if (first === undefined || last === undefined || profile.orderCount <= 0) return undefined;
  const lifeDays = Math.max(DAYS_PER_YEAR, (last - first) / (24 * MS_PER_HOUR));
  return (profile.orderCount * DAYS_PER_YEAR) / lifeDays;
}

/** Whether the client meets every condition of a graded step at `now` (a condition the profile has no data for is not met). */
function meetsGrade(grade: GradedOffer, profile: ClientProfile, now: number, timeZone: string): boolean {
  if (grade.minOrders !== undefined && profile.orderCount < grade.minOrders) return false;
  if (grade.minOrdersPerYear !== undefined && (ordersPerYear(profile) ?? 0) < grade.minOrdersPerYear) return false;
  if (grade.minDaysSinceLastOrder !== undefined) {
    const last = instantOf(profile.lastOrderAt);
    if (last === undefined || daysBetweenDates(localDate(last, timeZone), localDate(now, timeZone)) < grade.minDaysSinceLastOrder) return false;
  }
  return true;
}

/**
 * The offer for the client at `now`: their tier's when the campaign names it, else the first
 * graded step they meet, else the default; one limited to some categories (`forCategories`) only
 * when a product of the occasion is of one of them, else no offer.
 */
export function offerFor(
  campaign: Pick<CampaignDefinition, 'offers'>,
  profile: ClientProfile,
  now: number,
  timeZone: string,
  occasionCategories: () => ReadonlySet<string> = () => new Set(),
): Offer {
  const { offers } = campaign;
  const offer = offers[profile.tier] ?? offers.graded?.find((grade) => meetsGrade(grade, profile, now, timeZone))?.offer ?? offers.default;
  if (offer.forCategories !== undefined) {
    const categories = occasionCategories();
    if (!offer.forCategories.some((category) => categories.has(category))) return { kind: 'none' };
  }
  return { ...offer };
}

/** The categories of an occasion's products: the trigger's and those the email shows (the profile's, else the catalogue's). */
function categoriesOf(products: readonly { sku: string }[], category: string | undefined, profile: ClientProfile, catalog: ProductCatalog): Set<string> {
  const categories = new Set<string>(category === undefined ? [] : [category]);
  for (const { sku } of products) {
    const found = skuCategory(profile, sku, catalog);
    if (found !== undefined) categories.add(found);
  }
  return categories;
}

/** The campaign's template for the client: one for all, or the one of their template locale (English for the others). */
export function templateFor(campaign: CampaignDefinition, profile: Pick<ClientProfile, 'locale'>): string {
  const template = campaign.template;
  if (typeof template === 'string') return template;
  return (templateLocale(profile.locale) === 'zh-CN' ? template['zh-CN'] : undefined) ?? template.en;
}

/** A category to suggest with a few of its products from the catalogue (by SKU, so the choice is stable). */
function categorySuggestion(category: string | undefined, catalog: ProductCatalog): Pick<TriggerDetails, 'recommendedCategory' | 'products'> {
  if (category === undefined) return {};
  const products = [...(catalog.values?.() ?? [])]
    .filter((product) => product.category === category)
    .sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0))
    .slice(0, CATEGORY_PRODUCTS)
    .map((product) => (product.name === undefined ? { sku: product.sku } : { sku: product.sku, productName: product.name }));
  return { recommendedCategory: category, ...(products.length === 0 ? {} : { products }) };
}

/** What the email shows, per the campaign's products source. */
function productDetails(rules: CampaignRules, moment: Moment, profile: ClientProfile, context: TriggerContext & Pick<CampaignContext, 'categoryAffinity'>): Pick<TriggerDetails, 'recommendedCategory' | 'products' | 'lastSeason'> {
  const { catalog } = context;
  switch (rules.products.from) {
    case 'none':
      return {};
    case 'trigger':
      return moment.products === undefined || moment.products.length === 0 ? {} : { products: moment.products };
    case 'top-category': {
      const category = profile.topCategory;
      if (category === undefined) return {};
      // The client's own SKUs in it, most recent first.
      const products = Object.entries(profile.skus)
        .filter(([, p]) => p.category === category)
        .sort(([skuA, a], [skuB, b]) => (instantOf(b.lastPurchasedAt) ?? 0) - (instantOf(a.lastPurchasedAt) ?? 0) || (skuA < skuB ? -1 : skuA > skuB ? 1 : 0))
        .slice(0, CATEGORY_PRODUCTS)
        .map(([sku, p]) => productRef(sku, productNameOf(sku, p, catalog)));
      return { recommendedCategory: category, ...(products.length === 0 ? {} : { products }) };
    }
    case 'unbought-category': {
      const bought = categoriesBought(profile, catalog);
      return categorySuggestion(
        rules.products.categories.find((c) => !bought.has(c)),
        catalog,
      );
    }
    case 'cross-category':
      if (context.categoryAffinity === undefined) return {};
      return categorySuggestion(crossCategoryPick(profile.topCategory, categoriesBought(profile, catalog), context.categoryAffinity), catalog);
    case 'last-season': {
      const window = lastYearWindow(context.seasons, moment.occasionDay);
      if (window === undefined) return {};
      const products = boughtInWindow(profile, window, context.timeZone)
        .slice(0, CATEGORY_PRODUCTS)
        .map((bought) => productRef(bought.sku, productNameOf(bought.sku, bought, catalog)));
      return { lastSeason: window.season, ...(products.length === 0 ? {} : { products }) };
    }
  }
}

/**
 * Sort order of occasions: priority, then the window that closes first (of two at one priority, the
 * one that can still wait yields the hour), then the oldest due, then ids (deterministic). Windows
 * open without end compare equal on their close (Infinity - Infinity is NaN, falsy).
 */
export function compareOccasions(a: DueOccasion, b: DueOccasion): number {
  return (
    a.priority - b.priority ||
    a.expiresAt - b.expiresAt ||
    a.dueAt - b.dueAt ||
    (a.campaignId < b.campaignId ? -1 : a.campaignId > b.campaignId ? 1 : 0) ||
    (a.occasionKey < b.occasionKey ? -1 : a.occasionKey > b.occasionKey ? 1 : 0)
  );
}

const CHURN_RISK_RANK: Record<ChurnRisk, number> = { high: 0, medium: 1, low: 2 };

/**
 * The order the sender serves due clients in, so that a run cut short (a halted mailer, the
 * Lambda's time limit) has served the ones that matter most: the most urgent campaign first
 * (the lowest priority among the client's due occasions: a welcome is not delayed by win-backs),
 * then the highest churn risk, then the highest predicted 12-month value, then customerId.
 * Clients without a prediction come after those with one, at equal priority.
 */
export function compareDueClients(
  a: { profile: Pick<ClientProfile, 'customerId' | 'clv'>; due: readonly Pick<DueOccasion, 'priority'>[] },
  b: { profile: Pick<ClientProfile, 'customerId' | 'clv'>; due: readonly Pick<DueOccasion, 'priority'>[] },
): number {
  const urgency = (c: typeof a) => Math.min(...c.due.map((o) => o.priority));
  const risk = (c: typeof a) => (c.profile.clv ? CHURN_RISK_RANK[c.profile.clv.churnRisk] : 3);
  const value = (c: typeof a) => c.profile.clv?.clv12mMinor ?? 0;
  const idA = a.profile.customerId;
  const idB = b.profile.customerId;
  return urgency(a) - urgency(b) || risk(a) - risk(b) || value(b) - value(a) || (idA < idB ? -1 : idA > idB ? 1 : 0);
}

/** One send window of a client, and the occasion as it is at a given instant (undefined outside the window). */
interface OccasionWindow extends SendWindow {
  at: (now: number) => DueOccasion | undefined;
}

/** What the windows of a client need besides the profile: the trigger's context, the affinity, the brand's zone (the nights' run dates). */
type WindowContext = TriggerContext & Pick<CampaignContext, 'categoryAffinity' | 'brandTimeZone'>;

/** The send windows of one campaign for the client (yearly triggers: the occurrences the range touches). */
function campaignWindows(campaign: CampaignDefinition, profile: ClientProfile, triggerContext: WindowContext): OccasionWindow[] {
  const rules = campaignRules(campaign);
  const { trigger, timing } = rules;
  const { timeZone } = triggerContext;
  const windows: OccasionWindow[] = [];
  for (const moment of triggerMoments(trigger, profile, triggerContext)) {
    const window = momentWindow(moment, trigger, timing, timeZone);
    if (window === undefined) continue;
    const occasionKey = onceKey(campaign.id, moment, timing, profile);
    const keyOutlivesWindow = timing.oncePer !== 'occasion' || moment.naturalKey === '' || moment.movesUnderKey === true;
    const { triggerAt, dueAt, expiresAt } = window;
    const tier = lapseTier(rules, profile, dueAt, triggerContext.brandTimeZone);
    const judged = tier === undefined ? profile : { ...profile, tier };
    windows.push({
      dueAt,
      expiresAt,
      occasionKey,
      campaign,
      ...(tier === undefined ? {} : { tier }),
      // What is shown does not depend on the clock. Only products drawn from the profile and the
      // trigger count: the catalogue (unbought-category) may gain a product, and the last night's
      // affinity (cross-category) may change, both with no profile rewritten.
      inert: () =>
        PROFILE_PRODUCT_SOURCES.has(rules.products.from) && rules.products.from !== 'none' && rules.products.required && (productDetails(rules, moment, profile, triggerContext).products ?? []).length === 0,
      at: (now) => {
        if (now < dueAt || now >= expiresAt) return undefined;
        const shown = productDetails(rules, moment, profile, triggerContext);
        // Nothing to show where the campaign needs it (no category to suggest, nothing bought last season): no email.
        if (rules.products.from !== 'none' && rules.products.required && (shown.products ?? []).length === 0) return undefined;
        const hoursSinceTrigger = (now - triggerAt) / MS_PER_HOUR;
        const late = timing.lateAfterHours === undefined ? {} : { hoursSinceTrigger, late: hoursSinceTrigger > timing.lateAfterHours };
        const categories = () => categoriesOf([...(moment.products ?? []), ...(shown.products ?? [])], moment.details.category, profile, triggerContext.catalog);
        return {
          campaignId: campaign.id,
          kind: campaign.kind,
          customerId: profile.customerId,
          occasionKey,
          triggerAt,
          dueAt,
          expiresAt,
          keyOutlivesWindow,
          priority: campaign.priority,
          template: templateFor(campaign, profile),
          details: { offer: offerFor(campaign, judged, now, timeZone, categories), ...late, ...moment.details, ...moment.detailsAt?.(now), ...shown },
          ...(tier === undefined ? {} : { tier }),
        };
      },
    });
  }
  return windows;
}

/**
 * Every send window the client's profile defines, whatever the clock (yearly triggers: those of
 * the years the range touches); none for a client absent from the exports. One list for dueOccasions, endedOccasions and the due index
 * (sendWindows), so all see the same windows.
 */
function occasionWindows(profile: ClientProfile, catalog: ProductCatalog, context: CampaignContext, range: InstantRange | undefined): OccasionWindow[] {
  // A client the exports no longer have (shared/nightly/absent.ts) is mailed nothing, and is out of the due index.
  if (profile.absentSince !== undefined) return [];
  const triggerContext: WindowContext = {
    catalog,
    seasons: context.campaigns.seasons,
    timeZone: clientTimeZone(profile, context.brandTimeZone),
    brandTimeZone: context.brandTimeZone,
    ...(range ? { range } : {}),
    ...(context.categoryAffinity ? { categoryAffinity: context.categoryAffinity } : {}),
  };
  return context.campaigns.campaigns.flatMap((campaign) => (campaign.enabled ? campaignWindows(campaign, profile, triggerContext) : []));
}

/**
 * The occasions in order (compareOccasions), one per once-per key: a key is one occasion of the
 * ledger, and of its windows the one due first stands for it, however soon the others close.
 */
function onePerKey(occasions: DueOccasion[]): DueOccasion[] {
  const seen = new Set<string>();
  return occasions
    .sort((a, b) => a.dueAt - b.dueAt || compareOccasions(a, b))
    .filter((o) => {
      if (seen.has(o.occasionKey)) return false;
      seen.add(o.occasionKey);
      return true;
    })
    .sort(compareOccasions);
}

/**
 * Every occasion of every enabled campaign that is due for this client at `now` (dueAt <= now <
 * expiresAt), sorted by compareOccasions, one per once-per key. Occasions already in the sender's
 * ledger are still listed: the sender drops them before calling decide.
 */
export function dueOccasions(profile: ClientProfile, catalog: ProductCatalog, now: number, context: CampaignContext): DueOccasion[] {
  const due: DueOccasion[] = [];
  for (const window of occasionWindows(profile, catalog, context, { from: now, to: now })) {
    const found = window.at(now);
    if (found) due.push(found);
  }
  return onePerKey(due);
}

/**
 * The occasions whose send window closed in (from, to] (epoch ms), each as it was in the last
 * millisecond it was due, sorted by compareOccasions: the sender records 'expired' for those its
 * ledger left waiting (released after a failed send, capped, deferred) or never decided.
 */
export function endedOccasions(profile: ClientProfile, catalog: ProductCatalog, from: number, to: number, context: CampaignContext): DueOccasion[] {
  const ended: DueOccasion[] = [];
  for (const window of occasionWindows(profile, catalog, context, { from, to })) {
    if (!(window.expiresAt > from && window.expiresAt <= to)) continue;
    const found = window.at(window.expiresAt - 1);
    if (found) ended.push(found);
  }
  return onePerKey(ended);
}

/** One send window [dueAt, expiresAt) of a client, with what the due index weighs (due-index.ts nextDueAt). */
export interface SendWindow {
  dueAt: number;
  expiresAt: number;
  /** The once-per key of its occasion: the send ledger's key. */
  occasionKey: string;
  campaign: CampaignDefinition;
  /** The tier its occasions are judged by when it is not the profile's (DueOccasion.tier). */
  tier?: Tier;
  /**
   * Whether the window gives no occasion at any instant: its campaign needs products to show and
   * none can be, from the profile and the trigger (never so for products from the catalogue or
   * the affinity). A function: worked out only for the windows the index still weighs.
   */
  inert: () => boolean;
}

/**
 * Every send window [dueAt, expiresAt) of the client's enabled campaigns, whatever the clock (the
 * due index is computed from them). Yearly triggers (birthday, season) recur without end: they
 * give the occurrences of the years `range` touches (from `range.from` a few years on when
 * `range.to` is infinite), none without a range.
 */
export function sendWindows(profile: ClientProfile, catalog: ProductCatalog, context: CampaignContext, range?: InstantRange): SendWindow[] {
  return occasionWindows(profile, catalog, context, range);
}

/** The send window of one reminder: [dueAt, expiresAt), ending at local midnight of the run-out day. */
export interface ReminderWindow {
  /** Predicted local run-out day, YYYY-MM-DD. */
  runOutDate: string;
  /** Local midnight of (run-out − daysBeforeRunOut). */
  dueAt: number;
  /** Local midnight of the run-out day (a "runs out soon" email on or after the day is wrong). */
  expiresAt: number;
}

function reminderWindow(campaign: ReplenishmentCampaign, runOutDate: string, timeZone: string): ReminderWindow {
  return {
    runOutDate,
    dueAt: startOfLocalDay(addDays(runOutDate, -campaign.timing.daysBeforeRunOut), timeZone),
    expiresAt: startOfLocalDay(runOutDate, timeZone),
  };
}

/** The replenishment's window for one SKU purchase, whatever the clock (the advisors' digests read it): triggers.ts runOutDay. */
export function replenishmentWindow(
  campaign: ReplenishmentCampaign,
  purchase: SkuPurchase,
  product: ProductRecord | undefined,
  timeZone: string,
): (ReminderWindow & { cycle: { days: number; source: 'personal' | 'catalog' } }) | undefined {
  const found = runOutDay({ daysBefore: campaign.timing.daysBeforeRunOut, replenishableCategories: campaign.replenishableCategories }, purchase, product, timeZone);
  return found === undefined ? undefined : { ...reminderWindow(campaign, found.runOutDate, timeZone), cycle: found.cycle };
}

/** The replenishment's window at the predicted next order of a client whose consumables have no cycle (triggers.ts predictedRunOutDay). */
export function nextOrderWindow(campaign: ReplenishmentCampaign, profile: ClientProfile, catalog: ProductCatalog, timeZone: string): ReminderWindow | undefined {
  const predicted = predictedRunOutDay({ daysBefore: campaign.timing.daysBeforeRunOut, replenishableCategories: campaign.replenishableCategories }, profile, catalog, timeZone);
  return predicted === undefined ? undefined : reminderWindow(campaign, predicted, timeZone);
}

/** The one occasion of a single campaign due at `now` whose key passes `pick` (the built-ins' entry points below). */
function campaignOccasion(campaign: CampaignDefinition, profile: ClientProfile, catalog: ProductCatalog, now: number, timeZone: string, pick: (key: string) => boolean): DueOccasion | undefined {
  // The built-ins have no yearly trigger: no seasons needed; nor a lapse (the brand's zone reads the tier of a lapse's step).
  return campaignWindows(campaign, profile, { catalog, seasons: [], timeZone, brandTimeZone: timeZone, range: { from: now, to: now } })
    .filter((w) => pick(w.occasionKey))
    .map((w) => w.at(now))
    .find((o) => o !== undefined);
}

/** The welcome due at `now`, if any (the earlier of sign-up and first order, until the cut-off: instants, whatever the zone). */
export function welcomeOccasion(campaign: WelcomeCampaign, profile: ClientProfile, now: number): DueOccasion | undefined {
  return campaignOccasion(campaign, profile, new Map(), now, 'UTC', () => true);
}

/** The replenishment at the predicted next order due at `now`, if any (nextOrderWindow). */
export function nextOrderOccasion(campaign: ReplenishmentCampaign, profile: ClientProfile, catalog: ProductCatalog, now: number, timeZone: string): DueOccasion | undefined {
  return campaignOccasion(campaign, profile, catalog, now, timeZone, (key) => key.startsWith(`${campaign.id}#next-order#`));
}
