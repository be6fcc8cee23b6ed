import { clientTimeZone, nextOrderWindow, productNameOf, replenishmentWindow, type ProductCatalog, type ReminderWindow } from '#shared/campaigns/due.ts';
import { replenishmentCampaignOf, type ReplenishmentCampaign } from '#shared/campaigns/schema.ts';
import { birthdayIn } from '#shared/time.ts';
import type { Config } from '#shared/config.ts';
import { isTierUpgrade, type ClientProfile, type Stage, type Tier, type TierChange } from '#shared/model.ts';
import type { HandoverHistory } from './handover.ts';
import { tierThresholdsMinor } from '#shared/tiering/tiers.ts';
import { addDays, daysBetweenDates, localDate, startOfLocalDay } from '#shared/time.ts';

/**
 * An advisor's client book for the coming week (domain.md, "How each tier is treated": a VIC
 * advisor keeps a book of 30-50 clients and needs to know whom to call this week). Pure: the
 * advisor's profiles, the run date and the clock in, the rows of their weekly digest out.
 *
 * VIC and Core clients are listed, and rising Potential clients (predicted to reach Core: the
 * clients the business most wants a person to meet early), each with the reasons they need a
 * personal touch and a suggested action per reason; rows are ranked by predicted 12-month value (the stored CLV, else
 * the trailing-12-month spend) and capped. The rules, where the issue left room:
 *
 * - **The week** is the 7 local days (brand time zone) starting on the clock's day: for the nightly
 *   run of date D (clock = end of D) that is D+1 .. D+7, the days the advisor reads it in.
 * - **birthday**: the client's birthday (YYYY-MM-DD or MM-DD) falls in the week; Feb 29 is
 *   celebrated on Feb 28 in a non-leap year (time.ts addYears); a week across New Year looks in
 *   both years.
 * - **lapsed-vic**: a VIC sleeping or churned, or at-risk because they are past their usual reorder
 *   gap (not only because the model finds them unlikely to be alive: that is tier-at-risk).
 * - **tier-at-risk**: the profile has no order history, so "their 12-month spend will fall below the
 *   threshold as orders age out" is read from what it has: the stage is at-risk, sleeping or churned
 *   (no recent order: the trailing spend can only fall), or the predicted 12-month value is below
 *   the threshold of the client's tier with a medium or high churn risk. A lapsed VIC gets
 *   lapsed-vic instead (one reason, one action, for one fact).
 * - **replenishment-due**: a reminder of the replenishment campaign (shared/campaigns/due.ts, the
 *   same windows the sender uses: per SKU, or the predicted next order for a client with no product
 *   cycle) becomes due this week, or is already due and the product has not run out yet. The
 *   configured replenishment campaign's lead time is used even when the campaign is disabled (the
 *   advisor's call does not depend on the email); the built-in one when none is configured.
 * - **handover**: the client was handed over to this advisor since last week's digest (handover.ts):
 *   introduce yourself; the row carries the previous advisor, the birthday and what became of the
 *   client's tasks with them, beside its tier, top category and last order.
 * - **newly-rising**: clv.rising (predicted to reach the next tier: a Core client predicted at VIC
 *   level; VICs never rise) and new to it. The tier history does not record the rising flag, so
 *   "new" is: a tier upgrade recorded in the last 7 runs (the target of "rising" moved with it), or a
 *   first order within lifecycle.newDays (30) of the run date (a first prediction).
 */

/** The tiers an advisor's book holds: all their VIC and Core clients, and Potential clients who are rising. */
export const BOOK_TIERS = ['VIC', 'Core', 'Potential'] as const satisfies readonly Tier[];
export type BookTier = (typeof BOOK_TIERS)[number];

/** Reasons in the order a row lists them: the most urgent first. */
export const BOOK_REASONS = ['handover', 'lapsed-vic', 'tier-at-risk', 'birthday', 'replenishment-due', 'newly-rising'] as const;
export type BookReasonKind = (typeof BOOK_REASONS)[number];

/**
 * What the advisor could do; the templates say it in the advisor's language. VICs get recognition
 * and exclusive access rather than promotions, Core clients personal recommendations and events.
 */
export const SUGGESTED_ACTIONS = [
  /** Handed over from another advisor: introduce yourself, with what the client's history says. */
  'introduce-yourself',
  /** Lapsed VIC: call personally, no discount; news from their favourite category. */
  'personal-call',
  /** VIC at risk: invite to a private appointment or preview. */
  'private-appointment',
  /** Core at risk: a personal recommendation or an event invitation. */
  'personal-recommendation',
  /** VIC birthday: call with wishes; a full-size gift with samples. */
  'birthday-gift',
  /** Core birthday: a handwritten note with a sample kit. */
  'birthday-note',
  /** Replenishment: offer to set a replacement aside before it runs out. */
  'set-aside',
  /** Newly rising: introduce yourself and invite them to an event. */
  'introduce-and-invite',
] as const;
export type SuggestedAction = (typeof SUGGESTED_ACTIONS)[number];

export interface ReplenishmentItem {
  sku?: string;
  productName?: string;
  /** Local run-out day (or predicted next order day), YYYY-MM-DD. */
  runOutDate: string;
  /** True for the CLV model's predicted next order of a client with no product cycle. */
  predicted: boolean;
}

export type BookReason =
  | ({ kind: 'handover'; action: SuggestedAction; birthday?: string } & HandoverHistory)
  | { kind: 'lapsed-vic'; action: SuggestedAction; daysSinceLastOrder?: number }
  | { kind: 'tier-at-risk'; action: SuggestedAction; basis: 'stage' | 'prediction' }
  | { kind: 'birthday'; action: SuggestedAction; date: string }
  | { kind: 'replenishment-due'; action: SuggestedAction; items: ReplenishmentItem[] }
  | { kind: 'newly-rising'; action: SuggestedAction; basis: 'upgrade' | 'first-order' };

/** One client of the digest. The name and email are for the advisor's eyes: never log them. */
export interface BookRow {
  customerId: string;
  firstName?: string;
  lastName?: string;
  email?: string;
  tier: BookTier;
  stage: Stage;
  reasons: BookReason[];
  spend12mMinor: number;
  /** The stored 12-month CLV; absent on nights the models were not fitted. */
  predicted12mMinor?: number;
  /** What the rows are ranked by: predicted12mMinor, else spend12mMinor. */
  rankValueMinor: number;
  /** Local date (brand time zone) of the last order. */
  lastOrderDate?: string;
  topCategory?: string;
}

export interface AdvisorBook {
  advisorId: string;
  runDate: string;
  /** The local days the digest covers, inclusive. */
  week: { from: string; to: string };
  /** Book clients of the advisor that were looked at (isBookClient). */
  clients: number;
  /** Of those, how many have at least one reason (the introductions, the rows shown and those past the cap). */
  withReasons: number;
  /** Clients handed over to the advisor this week (a 'handover' reason), highest value first: each an introduction task, never capped. */
  introductions: BookRow[];
  /** The other clients with a reason: at most maxRows, highest value first. */
  rows: BookRow[];
  /** Rows shown per reason (introductions included). */
  reasonCounts: Record<BookReasonKind, number>;
}

export interface AdvisorBookInput {
  advisorId: string;
  /** The advisor's clients (any tier: those outside the book are ignored). */
  profiles: readonly ClientProfile[];
  /** The nightly run's date, YYYY-MM-DD in the brand time zone (the stages were computed for it). */
  runDate: string;
  /** Epoch ms: the week starts on this instant's local day. */
  now: number;
  config: Pick<Config, 'timeZone' | 'currency' | 'tiers' | 'lifecycle' | 'campaigns' | 'reports'>;
  /** The products export, for the replenishment cycles. */
  catalog: ProductCatalog;
  /** Tier changes of the advisor's clients in the last runs (others are ignored). */
  recentTierChanges: readonly TierChange[];
  /** Defaults to config.reports.advisorDigestMaxRows. */
  maxRows?: number;
  /** Clients handed over to this advisor since last week (handover.ts), with their history. */
  handovers?: ReadonlyMap<string, HandoverHistory>;
}

/** Runs whose tier history counts as "this week" for newly-rising. */
const RECENT_RUNS = 7;
const DAYS_IN_WEEK = 7;

type BookClient = ClientProfile & { tier: BookTier };

/** The run dates whose tier history counts as "this week" for newly-rising: the last 7 runs up to `runDate`. */
export function recentRunDates(runDate: string): { from: string; to: string } {
  return { from: addDays(runDate, 1 - RECENT_RUNS), to: runDate };
}

/**
 * A client an advisor's book holds: VIC or Core, or a rising Potential client (predicted to reach
 * Core); never one the exports no longer have (shared/nightly/absent.ts).
 */
export function isBookClient(profile: Pick<ClientProfile, 'tier' | 'clv' | 'absentSince'>): profile is BookClient {
  if (profile.absentSince !== undefined) return false;
  return profile.tier === 'VIC' || profile.tier === 'Core' || (profile.tier === 'Potential' && profile.clv?.rising === true);
}

/** Written in shared/time.ts (the birthday campaign trigger counts from it too). */
export { birthdayIn };

/** The birthday's day within [from, to] (local dates, at most a year apart), if it falls there. */
export function birthdayBetween(birthday: string, from: string, to: string): string | undefined {
  for (const year of new Set([Number(from.slice(0, 4)), Number(to.slice(0, 4))])) {
    const day = birthdayIn(birthday, year);
    if (day !== undefined && day >= from && day <= to) return day;
  }
  return undefined;
}

function localDateOf(iso: string | undefined, timeZone: string): string | undefined {
  if (iso === undefined) return undefined;
  const instant = Date.parse(iso);
  return Number.isFinite(instant) ? localDate(instant, timeZone) : undefined;
}

function isUpgrade(change: TierChange): boolean {
  return change.fromTier !== undefined && isTierUpgrade(change.fromTier, change.toTier);
}

interface RowContext {
  runDate: string;
  week: { from: string; to: string; startsAt: number; endsAt: number };
  brandTimeZone: string;
  lifecycle: Config['lifecycle'];
  thresholdOf: Record<BookTier, number>;
  campaign: ReplenishmentCampaign;
  catalog: ProductCatalog;
  upgradedThisWeek: ReadonlySet<string>;
  handovers: ReadonlyMap<string, HandoverHistory>;
}

/** Whether a reminder's send window [dueAt, expiresAt) meets the week [startsAt, endsAt). */
function meetsWeek(window: ReminderWindow, week: RowContext['week']): boolean {
  return window.dueAt < week.endsAt && window.expiresAt > week.startsAt;
}

function replenishmentItems(profile: ClientProfile, context: RowContext): ReplenishmentItem[] {
  const timeZone = clientTimeZone(profile, context.brandTimeZone);
  const items: ReplenishmentItem[] = [];
  for (const [sku, purchase] of Object.entries(profile.skus)) {
    const product = context.catalog.get(sku);
    const window = replenishmentWindow(context.campaign, purchase, product, timeZone);
    if (window === undefined || !meetsWeek(window, context.week)) continue;
    const productName = productNameOf(sku, purchase, context.catalog);
    items.push({ sku, ...(productName === undefined ? {} : { productName }), runOutDate: window.runOutDate, predicted: false });
  }
  const nextOrder = nextOrderWindow(context.campaign, profile, context.catalog, timeZone);
  if (nextOrder !== undefined && meetsWeek(nextOrder, context.week)) items.push({ runOutDate: nextOrder.runOutDate, predicted: true });
  const byKey = (item: ReplenishmentItem) => `${item.runOutDate}#${item.sku ?? ''}`;
  return items.sort((a, b) => (byKey(a) < byKey(b) ? -1 : byKey(a) > byKey(b) ? 1 : 0));
}

/** Every reason this client needs a personal touch this week, most urgent first. */
function reasonsFor(profile: BookClient, context: RowContext): BookReason[] {
  const reasons: BookReason[] = [];
  const handover = context.handovers.get(profile.customerId);
  if (handover !== undefined) reasons.push({ kind: 'handover', action: 'introduce-yourself', ...handover, ...(profile.birthday === undefined ? {} : { birthday: profile.birthday }) });
  const isVic = profile.tier === 'VIC';
  const lastOrderDate = localDateOf(profile.lastOrderAt, context.brandTimeZone);
  const daysSinceLastOrder = lastOrderDate === undefined ? undefined : daysBetweenDates(lastOrderDate, context.runDate);
  const usualGap = profile.usualReorderGapDays ?? context.lifecycle.defaultReorderGapDays;
  const gone = profile.stage === 'sleeping' || profile.stage === 'churned';
  const pastUsualGap = profile.stage === 'at-risk' && daysSinceLastOrder !== undefined && daysSinceLastOrder > usualGap;

  if (isVic && (gone || pastUsualGap)) {
    reasons.push({ kind: 'lapsed-vic', action: 'personal-call', ...(daysSinceLastOrder === undefined ? {} : { daysSinceLastOrder }) });
  } else if (profile.tier !== 'Potential') {
    // A rising Potential client is in the book for what they may become: a falling tier is no call for a person.
    const clv = profile.clv;
    // On the unrounded prediction (belowTier); a profile written before it kept only the rounded value.
    const predictedBelowTier = clv !== undefined && (clv.belowTier ?? clv.clv12mMinor < context.thresholdOf[profile.tier]) && clv.churnRisk !== 'low';
    if (gone || profile.stage === 'at-risk' || predictedBelowTier) {
      reasons.push({
        kind: 'tier-at-risk',
        action: isVic ? 'private-appointment' : 'personal-recommendation',
        basis: gone || profile.stage === 'at-risk' ? 'stage' : 'prediction',
      });
    }
  }

  const birthday = profile.birthday === undefined ? undefined : birthdayBetween(profile.birthday, context.week.from, context.week.to);
  if (birthday !== undefined) reasons.push({ kind: 'birthday', action: isVic ? 'birthday-gift' : 'birthday-note', date: birthday });

  const items = replenishmentItems(profile, context);
  if (items.length > 0) reasons.push({ kind: 'replenishment-due', action: 'set-aside', items });

  if (profile.clv?.rising === true) {
    const firstOrderDate = localDateOf(profile.firstOrderAt, context.brandTimeZone);
    const isNew = firstOrderDate !== undefined && daysBetweenDates(firstOrderDate, context.runDate) < context.lifecycle.newDays;
    // Back in a tier she held days ago is no move up to introduce (history.ts tierReturnLeftOn), as for the campaigns.
    if (context.upgradedThisWeek.has(profile.customerId) && profile.tierReturnLeftOn === undefined) reasons.push({ kind: 'newly-rising', action: 'introduce-and-invite', basis: 'upgrade' });
    else if (isNew) reasons.push({ kind: 'newly-rising', action: 'introduce-and-invite', basis: 'first-order' });
  }
  return reasons;
}

/** Highest value first; equal values by customer id, so the order never depends on the input's. */
export function compareBookRows(a: Pick<BookRow, 'rankValueMinor' | 'customerId'>, b: Pick<BookRow, 'rankValueMinor' | 'customerId'>): number {
  return b.rankValueMinor - a.rankValueMinor || (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0);
}

export function buildAdvisorBook(input: AdvisorBookInput): AdvisorBook {
  const { config, runDate, now } = input;
  const maxRows = input.maxRows ?? config.reports.advisorDigestMaxRows;
  if (!Number.isInteger(maxRows) || maxRows < 1) throw new RangeError(`maxRows must be a whole number >= 1, got ${maxRows}`);
  const brandTimeZone = config.timeZone;
  const from = localDate(now, brandTimeZone);
  const to = addDays(from, DAYS_IN_WEEK - 1);
  const thresholds = tierThresholdsMinor(config);
  const recentRuns = recentRunDates(runDate);
  const context: RowContext = {
    runDate,
    week: { from, to, startsAt: now, endsAt: startOfLocalDay(addDays(from, DAYS_IN_WEEK), brandTimeZone) },
    brandTimeZone,
    lifecycle: config.lifecycle,
    thresholdOf: { VIC: thresholds.vic, Core: thresholds.core, Potential: thresholds.potential },
    campaign: replenishmentCampaignOf(config.campaigns),
    catalog: input.catalog,
    handovers: input.handovers ?? new Map(),
    upgradedThisWeek: new Set(
      input.recentTierChanges.filter((c) => c.runDate >= recentRuns.from && c.runDate <= recentRuns.to && isUpgrade(c)).map((c) => c.customerId),
    ),
  };

  let clients = 0;
  const candidates: BookRow[] = [];
  for (const profile of input.profiles) {
    if (!isBookClient(profile)) continue;
    clients++;
    const reasons = reasonsFor(profile, context);
    if (reasons.length === 0) continue;
    const lastOrderDate = localDateOf(profile.lastOrderAt, brandTimeZone);
    const predicted = profile.clv?.clv12mMinor;
    candidates.push({
      customerId: profile.customerId,
      ...(profile.firstName === undefined ? {} : { firstName: profile.firstName }),
      ...(profile.lastName === undefined ? {} : { lastName: profile.lastName }),
      ...(profile.email === undefined ? {} : { email: profile.email }),
      tier: profile.tier,
      stage: profile.stage,
      reasons,
      spend12mMinor: profile.spend12mMinor,
      ...(predicted === undefined ? {} : { predicted12mMinor: predicted }),
      rankValueMinor: predicted ?? profile.spend12mMinor,
      ...(lastOrderDate === undefined ? {} : { lastOrderDate }),
      ...(profile.topCategory === undefined ? {} : { topCategory: profile.topCategory }),
    });
  }
  candidates.sort(compareBookRows);
  // An introduction is a task of its own, one per handover: never cut by the cap.
  const isHandedOver = (row: BookRow) => row.reasons.some((reason) => reason.kind === 'handover');
  const introductions = candidates.filter(isHandedOver);
  const rows = candidates.filter((row) => !isHandedOver(row)).slice(0, maxRows);
  const reasonCounts = Object.fromEntries(BOOK_REASONS.map((kind) => [kind, 0])) as Record<BookReasonKind, number>;
  for (const row of [...introductions, ...rows]) for (const reason of row.reasons) reasonCounts[reason.kind]++;
  return { advisorId: input.advisorId, runDate, week: { from, to }, clients, withReasons: candidates.length, introductions, rows, reasonCounts };
}
