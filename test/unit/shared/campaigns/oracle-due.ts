/**
 * The oracle: shared/campaigns/due.ts as it was before the trigger vocabulary (commit b70a7a0),
 * kept to check that the built-ins in the vocabulary give the same occasions (vocabulary.test.ts).
 * Since: the replenishment run-out counts from the last stock-up's first day, its cycle per unit
 * (replenishmentCycle, replenishmentWindow); the win-back is judged by the higher of the tier the
 * client held when it came due and the tier they hold now (lapseTier).
 */
import { tierRank, type ChurnRisk, type ClientProfile, type ProductRecord, type SkuPurchase, type Tier } from '#shared/model.ts';
import { addDays, daysBetweenDates, isIsoDate, isValidTimeZone, localDate, startOfLocalDay } from '#shared/time.ts';
import type {
  CampaignDefinition,
  CampaignKind,
  CampaignsConfig,
  Offer,
  ReplenishmentCampaign,
  WelcomeCampaign,
  WinbackCampaign,
} from '#shared/campaigns/schema.ts';

/**
 * Who is due which campaign at `now`: pure timing, from the stored profile and the products
 * export. Audience, consent, caps, quiet hours and the control group are decided afterwards
 * (policy.ts `decide`). Every "N days" is counted in local calendar days of the client's time
 * zone (the brand's when the client has none), from local midnight.
 */

const MS_PER_HOUR = 3_600_000;
/** Products of the top category a win-back email shows. */
const WINBACK_PRODUCTS = 3;

/** The products export, by SKU. A Map<string, ProductRecord> satisfies it. */
export interface ProductCatalog {
  get(sku: string): ProductRecord | undefined;
}

export interface CampaignContext {
  campaigns: CampaignsConfig;
  /** IANA zone of the brand: used for clients whose own zone is unknown. */
  brandTimeZone: string;
}

/** Per-kind facts the sender, the templates and the reports use. Absent fields are left out, never undefined. */
export interface OccasionDetails {
  /** The offer for the client's tier (a copy: safe to change). */
  offer: Offer;
  /** Welcome: hours from the trigger to now; above timing.targetHours the welcome is late. */
  hoursSinceTrigger?: number;
  late?: boolean;
  /** Welcome: whether sign-up or the first order started it (the earlier of the two). */
  welcomeTrigger?: 'sign-up' | 'first-order';
  /** Replenishment: the product running out. */
  sku?: string;
  productName?: string;
  category?: string;
  lastPurchasedAt?: string;
  quantity?: number;
  /** Replenishment: days one purchase lasts, and where that came from ('predicted': the CLV model's next order, no cycle). */
  cycleDays?: number;
  cycleSource?: 'personal' | 'catalog' | 'predicted';
  /** Replenishment: predicted local run-out day, YYYY-MM-DD. */
  runOutDate?: string;
  /** Win-back: local calendar days since the last order. */
  daysSinceLastOrder?: number;
  lastOrderAt?: string;
  /** Win-back: the client's own top category, and their products in it, most recent first. */
  recommendedCategory?: string;
  products?: { sku: string; productName?: string }[];
}

export interface DueOccasion {
  campaignId: string;
  kind: CampaignKind;
  customerId: string;
  /**
   * Unique per campaign occasion; the sender's exactly-once ledger is keyed by customerId +
   * occasionKey: '<campaignId>' (welcome), '<campaignId>#<sku>#<lastPurchasedAt>' (replenishment),
   * '<campaignId>#<lastOrderAt>' (win-back). With the built-in ids: 'welcome',
   * 'replenishment#SKU#2026-01-02T03:04:05.000Z', 'winback#2026-01-02T03:04:05.000Z'.
   */
  occasionKey: string;
  /** When the occasion started: sign-up/first order; local midnight of run-out − N days; local midnight of last order + N days. */
  triggerAt: number;
  /** Send window [dueAt, expiresAt). */
  dueAt: number;
  expiresAt: number;
  /** Lower goes first (from the campaign). */
  priority: number;
  /** Template id of the campaign. */
  template: string;
  details: OccasionDetails;
  /** The win-back's tier when the client held a higher one when it came due. */
  tier?: Tier;
}

/** The client's IANA zone, or the brand's when it is missing or unknown to the platform. */
export function clientTimeZone(profile: Pick<ClientProfile, 'timeZone'>, brandTimeZone: string): string {
  const zone = profile.timeZone;
  return zone !== undefined && zone !== '' && isValidTimeZone(zone) ? zone : brandTimeZone;
}

/** Epoch ms of a stored ISO instant, undefined when absent or unreadable. */
function instantOf(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : undefined;
}

function offerFor(campaign: CampaignDefinition, profile: ClientProfile): Offer {
  return { ...(campaign.offers[profile.tier] ?? campaign.offers.default) };
}

function occasion(
  campaign: CampaignDefinition,
  profile: ClientProfile,
  fields: Pick<DueOccasion, 'occasionKey' | 'triggerAt' | 'dueAt' | 'expiresAt'>,
  details: Omit<OccasionDetails, 'offer'>,
): DueOccasion {
  return {
    campaignId: campaign.id,
    kind: campaign.kind,
    customerId: profile.customerId,
    ...fields,
    priority: campaign.priority,
    template: campaign.template as string, // the built-ins' form
    details: { offer: offerFor(campaign, profile), ...details },
  };
}

/** The welcome's send window: [triggerAt, expiresAt), from the earlier of sign-up and first order to the cut-off. */
export function welcomeWindow(
  campaign: WelcomeCampaign,
  profile: ClientProfile,
): { triggerAt: number; expiresAt: number; welcomeTrigger: 'sign-up' | 'first-order' } | undefined {
  const signedUp = instantOf(profile.signedUpAt);
  const firstOrder = instantOf(profile.firstOrderAt);
  let triggerAt: number;
  let welcomeTrigger: 'sign-up' | 'first-order';
  if (signedUp !== undefined && (firstOrder === undefined || signedUp <= firstOrder)) {
    triggerAt = signedUp;
    welcomeTrigger = 'sign-up';
  } else if (firstOrder !== undefined) {
    triggerAt = firstOrder;
    welcomeTrigger = 'first-order';
  } else {
    return undefined;
  }
  return { triggerAt, expiresAt: triggerAt + campaign.timing.cutoffHours * MS_PER_HOUR, welcomeTrigger };
}

/**
 * Welcome: the trigger is the earlier of sign-up and first order, so a client is welcomed once,
 * at their first contact. Due from the trigger until trigger + cutoffHours (exclusive); sends
 * after targetHours are flagged late. A client whose first contact is older than the cut-off
 * (an existing client, or a prospect who signed up long before buying) is never welcomed.
 */
export function welcomeOccasion(campaign: WelcomeCampaign, profile: ClientProfile, now: number): DueOccasion | undefined {
  const window = welcomeWindow(campaign, profile);
  if (window === undefined) return undefined;
  const { triggerAt, expiresAt, welcomeTrigger } = window;
  if (now < triggerAt || now >= expiresAt) return undefined;
  const hoursSinceTrigger = (now - triggerAt) / MS_PER_HOUR;
  return occasion(
    campaign,
    profile,
    { occasionKey: campaign.id, triggerAt, dueAt: triggerAt, expiresAt },
    { hoursSinceTrigger, late: hoursSinceTrigger > campaign.timing.targetHours, welcomeTrigger },
  );
}

/**
 * Days one purchase of this SKU lasts, for a replenishable product only: one with a catalog
 * cycle (replenish_days) or in a category the campaign lists as replenishable. A coat or a bag
 * bought twice has a gap between purchases, not a use-up cycle, and gets no reminder.
 * For a replenishable product a personal cycle (median gap between the client's purchase days,
 * 2+ days) wins and is used as is: it is measured between whole purchases, so it already
 * reflects the quantity the client usually buys. The catalog cycle is per unit and is stretched
 * by the quantity of the last purchase. A listed category without a catalog cycle needs the
 * personal one: with a single purchase there is nothing to time the reminder by.
 */
export function replenishmentCycle(
  purchase: SkuPurchase,
  product: ProductRecord | undefined,
  replenishableCategories: readonly string[] = [],
): { days: number; source: 'personal' | 'catalog' } | undefined {
  if (!isReplenishable(purchase, product, replenishableCategories)) return undefined;
  // A quantity of 0 can only come from bad data; count it as one unit.
  const quantity = Math.max(1, purchase.quantity);
  const personal = purchase.personalCycleDays;
  if (purchase.purchases >= 2 && personal !== undefined && Number.isFinite(personal) && personal > 0) {
    return { days: Math.round(personal * quantity), source: 'personal' };
  }
  const perUnit = catalogCycleDays(product);
  if (perUnit === undefined) return undefined;
  return { days: Math.round(perUnit * quantity), source: 'catalog' };
}

/** The products export's use-up cycle of one unit, when it gives a usable one. */
function catalogCycleDays(product: ProductRecord | undefined): number | undefined {
  const perUnit = product?.replenishDays;
  return perUnit !== undefined && Number.isFinite(perUnit) && perUnit > 0 ? perUnit : undefined;
}

/** A consumable: a catalog cycle (replenish_days), or a category the campaign lists as replenishable. */
export function isReplenishable(purchase: SkuPurchase, product: ProductRecord | undefined, replenishableCategories: readonly string[]): boolean {
  if (catalogCycleDays(product) !== undefined) return true;
  const category = purchase.category ?? product?.category;
  return category !== undefined && replenishableCategories.includes(category);
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

/**
 * When the reminder for one SKU purchase is due, whatever the clock: run-out = local day of the
 * last purchase + cycle (replenishmentCycle). Undefined without a cycle, or when the product lasts
 * no longer than the lead time (the reminder would be due the day it was bought).
 */
export function replenishmentWindow(
  campaign: ReplenishmentCampaign,
  purchase: SkuPurchase,
  product: ProductRecord | undefined,
  timeZone: string,
): (ReminderWindow & { cycle: { days: number; source: 'personal' | 'catalog' } }) | undefined {
  const purchasedAt = instantOf(purchase.lastPurchasedAt);
  if (purchasedAt === undefined) return undefined;
  const cycle = replenishmentCycle(purchase, product, campaign.replenishableCategories);
  if (cycle === undefined || cycle.days <= campaign.timing.daysBeforeRunOut) return undefined;
  const lastDay = localDate(purchasedAt, timeZone);
  const from = instantOf(purchase.stockUpFrom);
  const runOutDate = addDays(from === undefined ? lastDay : localDate(from, timeZone), cycle.days);
  if (addDays(runOutDate, -campaign.timing.daysBeforeRunOut) <= lastDay) return undefined;
  return { ...reminderWindow(campaign, runOutDate, timeZone), cycle };
}

/**
 * Replenishment of one SKU: due from local midnight of (run-out − daysBeforeRunOut) until local
 * midnight of the run-out day (replenishmentWindow). One reminder per purchase: the key holds
 * lastPurchasedAt. "Already repurchased" needs no extra rule: the profile keeps only the last
 * purchase, so a repurchase moves lastPurchasedAt, which moves the run-out and changes the key; a
 * reminder keyed on the old purchase can never be produced again.
 */
export function replenishmentOccasion(
  campaign: ReplenishmentCampaign,
  profile: ClientProfile,
  sku: string,
  purchase: SkuPurchase,
  catalog: ProductCatalog,
  now: number,
  timeZone: string,
): DueOccasion | undefined {
  const product = catalog.get(sku);
  const window = replenishmentWindow(campaign, purchase, product, timeZone);
  if (window === undefined) return undefined;
  const { dueAt, expiresAt, runOutDate, cycle } = window;
  if (now < dueAt || now >= expiresAt) return undefined;
  const productName = purchase.productName ?? product?.name;
  const category = purchase.category ?? product?.category;
  return occasion(
    campaign,
    profile,
    { occasionKey: `${campaign.id}#${sku}#${purchase.lastPurchasedAt}`, triggerAt: dueAt, dueAt, expiresAt },
    {
      sku,
      ...(productName === undefined ? {} : { productName }),
      ...(category === undefined ? {} : { category }),
      lastPurchasedAt: purchase.lastPurchasedAt,
      quantity: purchase.quantity,
      cycleDays: cycle.days,
      cycleSource: cycle.source,
      runOutDate,
    },
  );
}

/**
 * When the reminder of a client whose consumables have no known cycle is due: the CLV model's
 * predicted next order date (profile.clv.predictedNextOrderAt, local YYYY-MM-DD, anchored at the
 * last purchase) stands in for the run-out day. That is a product of a listed replenishable
 * category bought once, with no replenish_days. Undefined when the client bought no replenishable
 * product (a bag or a coat runs out of nothing), when any SKU has a cycle (the per-SKU reminders
 * cover the client), without a prediction, without a last order, or when the window would open
 * on or before the last order's local day (a prediction not yet refitted after an order).
 */
export function nextOrderWindow(
  campaign: ReplenishmentCampaign,
  profile: ClientProfile,
  catalog: ProductCatalog,
  timeZone: string,
): ReminderWindow | undefined {
  const predicted = profile.clv?.predictedNextOrderAt;
  if (predicted === undefined || !isIsoDate(predicted)) return undefined;
  const lastOrder = instantOf(profile.lastOrderAt);
  if (lastOrder === undefined || daysBetweenDates(localDate(lastOrder, timeZone), predicted) <= campaign.timing.daysBeforeRunOut) return undefined;
  const skus = Object.entries(profile.skus);
  if (!skus.some(([sku, purchase]) => isReplenishable(purchase, catalog.get(sku), campaign.replenishableCategories))) return undefined;
  if (skus.some(([sku, purchase]) => replenishmentCycle(purchase, catalog.get(sku), campaign.replenishableCategories) !== undefined)) return undefined;
  return reminderWindow(campaign, predicted, timeZone);
}

/**
 * Replenishment without any product cycle (nextOrderWindow): due from local midnight of
 * (predicted − daysBeforeRunOut) until local midnight of the predicted day, keyed
 * '<campaignId>#next-order#<lastOrderAt>' (one reminder per last order, wherever a refit moves
 * the predicted day). The email shows the client's most recently bought replenishable product.
 */
export function nextOrderOccasion(
  campaign: ReplenishmentCampaign,
  profile: ClientProfile,
  catalog: ProductCatalog,
  now: number,
  timeZone: string,
): DueOccasion | undefined {
  const window = nextOrderWindow(campaign, profile, catalog, timeZone);
  if (window === undefined) return undefined;
  const { dueAt, expiresAt, runOutDate: predicted } = window;
  if (now < dueAt || now >= expiresAt) return undefined;
  const skus = Object.entries(profile.skus);
  const latest = skus
    .filter(([sku, p]) => instantOf(p.lastPurchasedAt) !== undefined && isReplenishable(p, catalog.get(sku), campaign.replenishableCategories))
    .sort(([skuA, a], [skuB, b]) => (instantOf(b.lastPurchasedAt) ?? 0) - (instantOf(a.lastPurchasedAt) ?? 0) || (skuA < skuB ? -1 : skuA > skuB ? 1 : 0))[0];
  const product = latest === undefined ? undefined : { sku: latest[0], purchase: latest[1], record: catalog.get(latest[0]) };
  const productName = product?.purchase.productName ?? product?.record?.name;
  const category = product?.purchase.category ?? product?.record?.category;
  return occasion(
    campaign,
    profile,
    { occasionKey: `${campaign.id}#next-order#${profile.lastOrderAt}`, triggerAt: dueAt, dueAt, expiresAt },
    {
      ...(product === undefined ? {} : { sku: product.sku, lastPurchasedAt: product.purchase.lastPurchasedAt, quantity: product.purchase.quantity }),
      ...(productName === undefined ? {} : { productName }),
      ...(category === undefined ? {} : { category }),
      cycleSource: 'predicted',
      runOutDate: predicted,
    },
  );
}

/** The win-back's send window: local midnight of (last order + afterDays) to local midnight of (last order + afterDays + windowDays). */
export function winbackWindow(campaign: WinbackCampaign, profile: ClientProfile, timeZone: string): { dueAt: number; expiresAt: number } | undefined {
  const lastOrder = instantOf(profile.lastOrderAt);
  if (lastOrder === undefined) return undefined;
  const lastDate = localDate(lastOrder, timeZone);
  const { afterDays, windowDays } = campaign.timing;
  return {
    dueAt: startOfLocalDay(addDays(lastDate, afterDays), timeZone),
    expiresAt: startOfLocalDay(addDays(lastDate, afterDays + windowDays), timeZone),
  };
}

/**
 * Win-back: due once the client has gone afterDays local calendar days without an order (day 60
 * due, day 59 not), for windowDays days (winbackWindow). Once per lapse: the key holds
 * lastOrderAt, and a new order starts a new lapse. The offer follows the tier; the products come
 * from the client's own top category.
 */
export function winbackOccasion(campaign: WinbackCampaign, profile: ClientProfile, now: number, timeZone: string, brandTimeZone: string): DueOccasion | undefined {
  const window = winbackWindow(campaign, profile, timeZone);
  const lastOrder = instantOf(profile.lastOrderAt);
  if (window === undefined || lastOrder === undefined || profile.lastOrderAt === undefined) return undefined;
  if (now < window.dueAt || now >= window.expiresAt) return undefined;
  const days = daysBetweenDates(localDate(lastOrder, timeZone), localDate(now, timeZone));
  const category = profile.topCategory;
  const products =
    category === undefined
      ? []
      : Object.entries(profile.skus)
          .filter(([, p]) => p.category === category)
          .sort(([skuA, a], [skuB, b]) => (instantOf(b.lastPurchasedAt) ?? 0) - (instantOf(a.lastPurchasedAt) ?? 0) || (skuA < skuB ? -1 : skuA > skuB ? 1 : 0))
          .slice(0, WINBACK_PRODUCTS)
          .map(([sku, p]) => (p.productName === undefined ? { sku } : { sku, productName: p.productName }));
  const tier = lapseTier(profile, window.dueAt, brandTimeZone);
  const judged = tier === undefined ? profile : { ...profile, tier };
  const found = occasion(
    campaign,
    judged,
    { occasionKey: `${campaign.id}#${profile.lastOrderAt}`, triggerAt: window.dueAt, dueAt: window.dueAt, expiresAt: window.expiresAt },
    {
      daysSinceLastOrder: days,
      lastOrderAt: profile.lastOrderAt,
      ...(category === undefined ? {} : { recommendedCategory: category }),
      ...(products.length === 0 ? {} : { products }),
    },
  );
  return tier === undefined ? found : { ...found, tier };
}

/**
 * The tier held when a lapse's window opened, when higher than the profile's: the last move's
 * night (its run date, ended in the brand's zone) came after, and it was a move down.
 */
function lapseTier(profile: ClientProfile, dueAt: number, brandTimeZone: string): Tier | undefined {
  const { previousTier: from, tierChangedOn: on } = profile;
  if (from === undefined || on === undefined || !isIsoDate(on) || tierRank(from) <= tierRank(profile.tier)) return undefined;
  return startOfLocalDay(addDays(on, 1), brandTimeZone) > dueAt ? from : undefined;
}

/** Sort order of occasions: priority, then the window closing first, then the oldest due, then ids (deterministic). */
export function compareOccasions(a: DueOccasion, b: DueOccasion): number {
  return (
    a.priority - b.priority ||
    (a.expiresAt === b.expiresAt ? 0 : a.expiresAt - b.expiresAt) ||
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

/** One send window [dueAt, expiresAt) of a client, and the occasion as it is at a given instant (undefined outside the window). */
interface OccasionWindow {
  dueAt: number;
  expiresAt: number;
  at: (now: number) => DueOccasion | undefined;
}

/**
 * Every send window the client's profile defines, whatever the clock. One list for dueOccasions,
 * endedOccasions and the due index (sendWindows), so all see the same windows.
 */
function occasionWindows(
  profile: ClientProfile,
  catalog: ProductCatalog,
  context: CampaignContext,
): OccasionWindow[] {
  const timeZone = clientTimeZone(profile, context.brandTimeZone);
  const windows: OccasionWindow[] = [];
  for (const campaign of context.campaigns.campaigns) {
    if (!campaign.enabled) continue;
    switch (campaign.kind) {
      case 'welcome': {
        const window = welcomeWindow(campaign, profile);
        if (window) windows.push({ dueAt: window.triggerAt, expiresAt: window.expiresAt, at: (now) => welcomeOccasion(campaign, profile, now) });
        break;
      }
      case 'replenishment': {
        for (const [sku, purchase] of Object.entries(profile.skus)) {
          const window = replenishmentWindow(campaign, purchase, catalog.get(sku), timeZone);
          if (window) windows.push({ dueAt: window.dueAt, expiresAt: window.expiresAt, at: (now) => replenishmentOccasion(campaign, profile, sku, purchase, catalog, now, timeZone) });
        }
        const reorder = nextOrderWindow(campaign, profile, catalog, timeZone);
        if (reorder) windows.push({ dueAt: reorder.dueAt, expiresAt: reorder.expiresAt, at: (now) => nextOrderOccasion(campaign, profile, catalog, now, timeZone) });
        break;
      }
      case 'winback': {
        const window = winbackWindow(campaign, profile, timeZone);
        if (window) windows.push({ dueAt: window.dueAt, expiresAt: window.expiresAt, at: (now) => winbackOccasion(campaign, profile, now, timeZone, context.brandTimeZone) });
        break;
      }
    }
  }
  return windows;
}

/**
 * Every occasion of every enabled campaign that is due for this client at `now` (dueAt <= now <
 * expiresAt), sorted by compareOccasions. Occasions already in the sender's ledger are still
 * listed: the sender drops them before calling decide.
 */
export function dueOccasions(profile: ClientProfile, catalog: ProductCatalog, now: number, context: CampaignContext): DueOccasion[] {
  const due: DueOccasion[] = [];
  for (const window of occasionWindows(profile, catalog, context)) {
    const found = window.at(now);
    if (found) due.push(found);
  }
  return due.sort(compareOccasions);
}

/**
 * The occasions whose send window closed in (from, to] (epoch ms), each as it was in the last
 * millisecond it was due, sorted by compareOccasions: the sender records 'expired' for those its
 * ledger left waiting (released after a failed send, capped, deferred) or never decided.
 */
export function endedOccasions(profile: ClientProfile, catalog: ProductCatalog, from: number, to: number, context: CampaignContext): DueOccasion[] {
  const ended: DueOccasion[] = [];
  for (const window of occasionWindows(profile, catalog, context)) {
    if (!(window.expiresAt > from && window.expiresAt <= to)) continue;
    const found = window.at(window.expiresAt - 1);
    if (found) ended.push(found);
  }
  return ended.sort(compareOccasions);
}

/** Every send window [dueAt, expiresAt) of the client's enabled campaigns, whatever the clock (the due index is computed from them). */
export function sendWindows(profile: ClientProfile, catalog: ProductCatalog, context: CampaignContext): { dueAt: number; expiresAt: number }[] {
  return occasionWindows(profile, catalog, context).map(({ dueAt, expiresAt }) => ({ dueAt, expiresAt }));
}
