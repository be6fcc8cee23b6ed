/**
 * The domain's data, as the rest of the code sees it once the exports have been validated.
 * Instants are epoch milliseconds; money is integer minor units of the brand currency.
 */

/**
 * The longest id (customer, order, SKU, advisor) kept, in UTF-8 bytes: 256 ASCII characters, 85
 * Chinese ones. Real ids are far shorter. An id is a DynamoDB key, and a client's id travels in the
 * clear in their unsubscribe link (shared/unsubscribe/token.ts), which must fit on the line of the
 * List-Unsubscribe header (998 characters): a 256-byte id makes a token of 395 characters.
 */
export const MAX_ID_BYTES = 256;

export const TIERS = ['VIC', 'Core', 'Potential', 'Entry', 'Prospect'] as const;
export type Tier = (typeof TIERS)[number];

const TIER_RANK: Record<Tier, number> = { Prospect: 0, Entry: 1, Potential: 2, Core: 3, VIC: 4 };

/** A tier's height: a move to a higher rank is an upgrade. */
export function tierRank(tier: Tier): number {
  return TIER_RANK[tier];
}

/** A move up between buyers' tiers: a first purchase (from Prospect) is the welcome's moment, not an upgrade. */
export function isTierUpgrade(from: Tier, to: Tier): boolean {
  return from !== 'Prospect' && tierRank(to) > tierRank(from);
}

export const STAGES = ['prospect', 'new', 'active', 'at-risk', 'sleeping', 'churned'] as const;
export type Stage = (typeof STAGES)[number];

export const ORDER_STATUSES = ['paid', 'refunded', 'cancelled'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** A client as the customers export describes them. */
export interface CustomerRecord {
  customerId: string;
  /** Trimmed and lower-cased. */
  email?: string;
  firstName?: string;
  lastName?: string;
  phone?: string;
  /** BCP 47, e.g. zh-CN, en-US. */
  locale?: string;
  /** IANA, e.g. Asia/Shanghai. */
  timeZone?: string;
  signedUpAt?: number;
  /** What the row says of email consent; absent when the row says nothing (no column, an empty cell): nothing changes then. */
  acceptsMarketing?: boolean;
  /** YYYY-MM-DD or MM-DD. */
  birthday?: string;
  advisorId?: string;
}

/** One line item of an order, amounts already converted to the brand currency. */
export interface OrderLine {
  orderId: string;
  /** Set by the generic format; Shopify names the client by email only. */
  customerId?: string;
  /** Trimmed and lower-cased. */
  email?: string;
  orderedAt: number;
  sku?: string;
  productName?: string;
  category?: string;
  quantity: number;
  /** Line total net of discounts, before refunds. */
  lineTotalMinor: number;
  /** Amount refunded on this line (0 when none). */
  refundedMinor: number;
  status: OrderStatus;
}

export interface ProductRecord {
  sku: string;
  name?: string;
  category?: string;
  /** Use-up cycle of one unit in days; undefined when not replenishable. */
  replenishDays?: number;
  season?: string;
  /** The product's page in the shop (http/https): the product block links to it. */
  url?: string;
  /** A picture of the product (http/https) for the product block. */
  imageUrl?: string;
  /** The shop price in integer minor units of `currency` (the row's, or the brand's). */
  priceMinor?: number;
  /** Set with priceMinor. */
  currency?: string;
}

/** The products export's use-up cycle of one unit, when it gives a usable one. */
export function catalogCycleDays(product: Pick<ProductRecord, 'replenishDays'> | undefined): number | undefined {
  const perUnit = product?.replenishDays;
  return perUnit !== undefined && Number.isFinite(perUnit) && perUnit > 0 ? perUnit : undefined;
}

/** A client advisor as the roster (advisors.csv|jsonl) describes them. Names and addresses never reach a log. */
export interface AdvisorRecord {
  advisorId: string;
  name?: string;
  /** Trimmed and lower-cased: where the digest goes, and the Reply-To of the notes in their name. */
  email?: string;
  /** BCP 47, e.g. zh-CN: the digest's language and the one their clients are matched on. */
  locale?: string;
  /** False: left the brand or on leave; their clients are handed over. Absent in the file: true. */
  active: boolean;
  /** The closing line under their name in a personal note, e.g. "Senior advisor, Shanghai Plaza 66". */
  signature?: string;
  store?: string;
}

/** A row that failed validation: skipped, and reported with its place and reason. */
export interface Reject {
  file: string;
  line: number;
  reason: string;
}

/** One distinct order of a client, with its lines' net amounts summed. */
export interface OrderFact {
  orderId: string;
  orderedAt: number;
  /** Net of refunds; 0 for a cancelled or fully refunded order. */
  netMinor: number;
  /** Every line cancelled or refunded in full (spend.ts lineTakenBack): not a purchase, even of value 0. */
  takenBack?: true;
}

/** A client's purchases of one SKU (lines with a positive net amount only). */
export interface SkuFact {
  sku: string;
  productName?: string;
  category?: string;
  purchases: { orderedAt: number; quantity: number }[];
}

/** Everything the exports say about one client, gathered from all files. */
export interface ClientFacts {
  customerId: string;
  customer?: CustomerRecord;
  email?: string;
  orders: OrderFact[];
  /** Lifetime net spend per category. */
  categorySpendMinor: Record<string, number>;
  skus: SkuFact[];
}

/** What the measures of a night read of a client (RFM, tier, CLV summary): no categories or SKUs. */
export type ClientOrders = Pick<ClientFacts, 'customerId' | 'customer' | 'orders'>;

export interface RfmScores {
  /** 1-5 each: 5 is the most recent, most frequent, highest spending quintile. */
  r: number;
  f: number;
  m: number;
  /** The named segment of the scores (config.rfmSegments); absent on profiles stored before segments. */
  segment?: string;
}

/** Last purchase of one SKU, which the replenishment campaign reads. */
export interface SkuPurchase {
  productName?: string;
  category?: string;
  /** ISO instant of the last purchase. */
  lastPurchasedAt: string;
  /** Units of the last stock-up: the purchase days closer together than the reminder's lead time, summed. */
  quantity: number;
  /** ISO instant of the last stock-up's first purchase, when that was on an earlier day than lastPurchasedAt. */
  stockUpFrom?: string;
  /**
   * ISO instant of the SKU's first purchase ever (firstPurchaseOf), which tells what the first order
   * bought once the SKU was bought again. Only when it is not `stockUpFrom ?? lastPurchasedAt`
   * (an earlier stock-up, or an earlier purchase the same day), so a SKU bought once keeps its shape.
   */
  firstPurchasedAt?: string;
  /** Number of distinct purchase days of this SKU. */
  purchases: number;
  /**
   * Days one unit lasts the client: the median over consecutive stock-ups of their gap over the
   * earlier one's units (2+ stock-ups), leaving out a stock-up begun in the reminder window of the
   * cycle then in force (the reminder answered: promptedByCycleInForce); absent when none is left.
   */
  personalCycleDays?: number;
}

/**
 * The SKU's first purchase ever: firstPurchasedAt, else the last stock-up's start (all the profile
 * says when the SKU was bought in one stock-up, or of a profile stored before firstPurchasedAt).
 */
export function firstPurchaseOf(purchase: Pick<SkuPurchase, 'firstPurchasedAt' | 'stockUpFrom' | 'lastPurchasedAt'>): string {
  return purchase.firstPurchasedAt ?? purchase.stockUpFrom ?? purchase.lastPurchasedAt;
}

export const CHURN_RISKS = ['low', 'medium', 'high'] as const;
export type ChurnRisk = (typeof CHURN_RISKS)[number];

/**
 * Predicted lifetime value (BG/NBD + Gamma-Gamma, refitted each night), rounded so that a
 * profile does not change every night for noise: probabilities to 2 decimals, purchases to 1,
 * money to whole currency units (still in minor units), the next order to the local day.
 */
export interface ClientClv {
  probabilityAlive: number;
  expectedPurchases90d: number;
  expectedPurchases365d: number;
  expectedAverageOrderValueMinor: number;
  /** Discounted 12-month value. */
  clv12mMinor: number;
  /** YYYY-MM-DD in the brand time zone; absent when the client is probably gone. */
  predictedNextOrderAt?: string;
  /** The unrounded 12-month prediction reaches the threshold of the tier above the client's (never for VICs or Prospects). */
  rising: boolean;
  /**
   * The unrounded 12-month prediction falls below the threshold of the client's own tier (VIC,
   * Core, Potential; never Entry): the advisors' "tier at risk". The stored clv12mMinor is rounded
   * (49,600 is kept as 50,000) and rewritten only on a 10% move, so it cannot tell. Absent on
   * profiles written before it: the book then compares the stored value.
   */
  belowTier?: boolean;
  churnRisk: ChurnRisk;
}

/**
 * The meaning of the profiles' stored fields as a night writes them: raised whenever a stored field
 * changes meaning, so that code of one format never reads profiles of another (the hourly sender
 * waits for the first night of its own format, shared/sender/profile-format.ts). Each completed
 * night records it (NightlyRunSummary.profileFormat); nights of versions before it recorded none.
 * 1: personalCycleDays is what one unit lasts (b3e97e7; before, the whole purchase's gap), and
 *    amounts are ISO 4217 minor units (2026-12-05; before, no decimals for IDR, HUF, COP...).
 */
export const PROFILE_FORMAT = 1;

/** The client profile stored in DynamoDB, one per client. */
export interface ClientProfile {
  customerId: string;
  email?: string;
  firstName?: string;
  lastName?: string;
  locale?: string;
  timeZone?: string;
  /** Consent to marketing email: true only once the client said yes; false or absent (never asked): no campaign email. */
  acceptsMarketing?: boolean;
  birthday?: string;
  advisorId?: string;
  /** ISO instant. */
  signedUpAt?: string;
  tier: Tier;
  stage: Stage;
  /** Trailing-12-month net spend, brand currency minor units. */
  spend12mMinor: number;
  lifetimeSpendMinor: number;
  currency: string;
  /** Distinct orders with a positive net amount. */
  orderCount: number;
  firstOrderAt?: string;
  lastOrderAt?: string;
  /** Median gap in days between the client's distinct order days, when there are 2+. */
  usualReorderGapDays?: number;
  /** Absent for prospects (no purchase to score). */
  rfm?: RfmScores;
  topCategory?: string;
  skus: Record<string, SkuPurchase>;
  /** Predicted lifetime value; absent for prospects and on nights the models could not be fitted. */
  clv?: ClientClv;
  /**
   * The last moves the nightly runs saw (shared/nightly/history.ts), for the campaign triggers that
   * need them: the run date (YYYY-MM-DD) and what the client moved from. Absent until a night sees
   * a move (a client first seen, or stored before these fields, has none).
   */
  previousTier?: Tier;
  tierChangedOn?: string;
  previousStage?: Stage;
  stageEnteredOn?: string;
  previousRfmSegment?: string;
  rfmSegmentEnteredOn?: string;
  /**
   * When the tier move (tierChangedOn) took the client back to a tier she had left at most
   * TIER_RETURN_DAYS before, or beyond it the way she came (a dip: a refund, a year-old order
   * leaving the 12-month window before the next one), the day she had left it: no tier change to
   * thank or warn about (history.ts).
   */
  tierReturnLeftOn?: string;
  /** The tiers the client left in the TIER_RETURN_DAYS before her last tier move, with the day each was last left (history.ts). */
  tiersLeftOn?: Partial<Record<Tier, string>>;
  /**
   * The first night (YYYY-MM-DD) whose full snapshot had this client in no file: no customer row,
   * no order line (the platform deleted or merged them). What we knew is kept, but nothing is sent
   * to them and no advisor is asked about them until an export has them again
   * (shared/nightly/absent.ts).
   */
  absentSince?: string;
}

/** The moves a profile records (ClientProfile's history fields). */
export const HISTORY_FIELDS = ['previousTier', 'tierChangedOn', 'tierReturnLeftOn', 'tiersLeftOn', 'previousStage', 'stageEnteredOn', 'previousRfmSegment', 'rfmSegmentEnteredOn'] as const;
export type ProfileHistory = Pick<ClientProfile, (typeof HISTORY_FIELDS)[number]>;

/** A tier or stage change, recorded with the run that saw it. */
export interface TierChange {
  customerId: string;
  runDate: string;
  fromTier?: Tier;
  toTier: Tier;
  fromStage?: Stage;
  toStage: Stage;
  spend12mMinor: number;
}

/** What the migration matrices read of a tier-history record. */
export type TierMove = Pick<TierChange, 'customerId' | 'runDate' | 'fromTier' | 'toTier'>;
