import { z } from 'zod';
import { CHURN_RISKS, STAGES, TIERS } from '#shared/model.ts';
import { isIsoDate } from '#shared/time.ts';

/**
 * The vocabulary campaigns are written in (issue 15): a trigger (the moment), timing (delay,
 * cut-off, once-per key), an audience filter and content (template per locale, offer per tier,
 * products to show). The three built-ins are this vocabulary too (schema.ts `campaignRules`).
 * Schemas only; what each word means in time is triggers.ts.
 */

const days = z.number().int().min(0).max(3650);
const leadDays = z.number().int().min(1).max(3650);

/** Names of seasons, segments and categories end up in ledger keys: no separators. */
const keyName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'must be 1-40 lower-case letters, digits or "-"');

/** "MM-DD": a day that comes back every year. */
const monthDay = z
  .string()
  .regex(/^\d{2}-\d{2}$/, 'must be a day of the year written MM-DD, e.g. "03-01"')
  // 2000 is a leap year: every real day of the year, Feb 29 included, is a date in it.
  .refine((value) => isIsoDate(`2000-${value}`), { message: 'must be a real day of the year' });

/** A season's name in an email, per template locale (as categoryNames): without one, English writes the name in words and Chinese leaves it out. */
const seasonNames = z.strictObject({ en: z.string().trim().min(1).max(60).optional(), 'zh-CN': z.string().trim().min(1).max(60).optional() });

/** A season of the brand's calendar: the season-starts trigger counts from its start day, every year; it runs until the next season starts. */
export const seasonSchema = z.strictObject({ name: keyName, starts: monthDay, names: seasonNames.optional() });
export type Season = z.infer<typeof seasonSchema>;

/** Triggers that start from an instant: without `daysAfter` the window opens at the instant itself. */
const afterInstant = { daysAfter: days.optional() };

export const triggerSchema = z.discriminatedUnion('on', [
  /** The client signed up. */
  z.strictObject({ on: z.literal('signed-up'), ...afterInstant }),
  /**
   * The client's first order. With `signedUpAtLeastHoursBefore`, only for a client who signed up at
   * least that many hours before it (the first order of a long-standing subscriber, whose sign-up
   * welcome had expired by then); a client without a sign-up date does not qualify.
   */
  z.strictObject({ on: z.literal('first-order'), ...afterInstant, signedUpAtLeastHoursBefore: z.number().positive().max(24 * 3650).optional() }),
  /** The earlier of sign-up and first order: a client is welcomed once, at the first contact (the built-in welcome). */
  z.strictObject({ on: z.literal('first-contact'), ...afterInstant }),
  /** The client's latest order, N local days later (a new order starts a new occasion). */
  z.strictObject({ on: z.literal('any-order'), daysAfter: days.default(0) }),
  /**
   * A replenishable product runs out, N local days before (the built-in replenishment): one with
   * replenish_days in the products export, or in a listed category. Without any cycle, the CLV
   * model's predicted next order stands in when `predictedFallback` (the built-in's behaviour).
   */
  z.strictObject({
    on: z.literal('product-runs-out'),
    daysBefore: leadDays.default(15),
    replenishableCategories: z.array(z.string().min(1, 'must be a category key')).default([]),
    predictedFallback: z.boolean().default(true),
  }),
  /**
   * N local days without an order; several steps (e.g. [120, 180, 365]) make one occasion each per
   * lapse, each window ending at the next step at the latest. A new order starts a new lapse.
   */
  z.strictObject({
    on: z.literal('no-order-for'),
    days: z
      .union([leadDays.transform((d) => [d]), z.array(leadDays).min(1)])
      .refine((steps) => steps.every((d, i) => i === 0 || d > (steps[i - 1] ?? 0)), { message: 'steps must be increasing' }),
  }),
  /**
   * The client's birthday, N local days before; a month-only birthday ("YYYY-MM", "--MM") counts from
   * the 1st. With `month: true`, the birthday month: from the 1st of the month (N days before it),
   * open through the month's last day unless the timing gives a cut-off, full dates and month-only
   * birthdays alike.
   */
  z.strictObject({ on: z.literal('birthday'), daysBefore: days.default(0), month: z.boolean().default(false) }),
  /** The nightly run saw the tier change (profile.tierChangedOn): up, down, either, and optionally only to these tiers. */
  z.strictObject({
    on: z.literal('tier-changed'),
    direction: z.enum(['up', 'down', 'any']).default('any'),
    to: z.array(z.enum(TIERS)).min(1, 'leave "to" out for any tier').optional(),
    daysAfter: days.default(0),
  }),
  /** The nightly run saw the client enter one of these stages (profile.stageEnteredOn). */
  z.strictObject({ on: z.literal('stage-entered'), stages: z.array(z.enum(STAGES)).min(1), daysAfter: days.default(0) }),
  /** The nightly run saw the client move into one of these RFM segments (profile.rfmSegmentEnteredOn). */
  z.strictObject({ on: z.literal('rfm-segment-entered'), segments: z.array(keyName).min(1), daysAfter: days.default(0) }),
  /**
   * A season of `campaigns.seasons` starts, N local days before; every season when none is named.
   * `boughtLastYear`: only for clients who bought in that season last year (a SKU last bought
   * between last year's start of it and last year's start of the next season, seasons.ts): the
   * other clients have no occasion at all, so the due index does not read the whole base the week
   * before each season.
   */
  z.strictObject({ on: z.literal('season-starts'), seasons: z.array(keyName).min(1).optional(), daysBefore: days.default(7), boughtLastYear: z.boolean().default(false) }),
  /** The CLV model's predicted next order (profile.clv.predictedNextOrderAt), N local days before. */
  z.strictObject({ on: z.literal('predicted-next-order'), daysBefore: leadDays.default(7) }),
]);
export type Trigger = z.infer<typeof triggerSchema>;
export type TriggerOn = Trigger['on'];

/**
 * What makes two occasions one, in the send ledger: 'occasion' is the trigger's own (once per
 * purchase for orders and run-outs, per lapse and step for no-order-for, per year for birthdays
 * and seasons, per change for tier, stage and segment moves, once ever for sign-up and first
 * order); the others widen or narrow it.
 */
export const ONCE_PER = ['occasion', 'ever', 'lapse', 'purchase', 'year', 'tier-change'] as const;
export type OncePer = (typeof ONCE_PER)[number];

export const timingSchema = z
  .strictObject({
    /** Hours after the trigger's moment (its instant, or local midnight of its day) the window opens. */
    delayHours: z.number().min(0).max(24 * 365).default(0),
    /** The window closes this many hours after the trigger's moment... */
    cutoffHours: z.number().positive().max(24 * 3650).optional(),
    /** ...or at local midnight this many days after the trigger's day. Default: see triggers.ts defaultCutoff. */
    cutoffDays: z.number().int().min(1).max(3650).optional(),
    /** Flag the occasion `late` past this many hours after the trigger's moment (the welcome's 24-hour promise). */
    lateAfterHours: z.number().positive().optional(),
    oncePer: z.enum(ONCE_PER).default('occasion'),
  })
  .refine((t) => t.cutoffHours === undefined || t.cutoffDays === undefined, { message: 'give cutoffHours or cutoffDays, not both', path: ['cutoffDays'] })
  // A window that opens at or after its cut-off is empty: the campaign would never send (the default cut-off: schema.ts reasonsNeverSent).
  .superRefine((t, ctx) => {
    if (t.cutoffHours !== undefined && t.cutoffHours <= t.delayHours) {
      ctx.addIssue({ code: 'custom', path: ['cutoffHours'], message: `cutoffHours must be more than delayHours (cutoffHours ${t.cutoffHours}, delayHours ${t.delayHours}): the window would be empty` });
    }
    if (t.cutoffDays !== undefined && t.cutoffDays * 24 <= t.delayHours) {
      ctx.addIssue({ code: 'custom', path: ['cutoffDays'], message: `cutoffDays must end after delayHours (cutoffDays ${t.cutoffDays} = ${t.cutoffDays * 24} hours, delayHours ${t.delayHours}): the window would be empty` });
    }
  });
export type Timing = z.infer<typeof timingSchema>;

/**
 * `required`: an email of this campaign is only worth sending with something to show: without
 * products from its source (no category to suggest, nothing bought last season...) the occasion
 * is not due, and no email goes.
 */
const required = { required: z.boolean().default(false) };

/**
 * Products an email shows: the trigger's own (the product running out, what the order bought),
 * the client's top category (their own products in it, most recent first), the first of
 * `categories` the client has never bought (products of it from the catalogue), the category
 * clients with their top category buy most that they never bought (cross-category), what the
 * client bought in the same season last year (last-season), or none.
 */
export const productsSchema = z.discriminatedUnion('from', [
  z.strictObject({ from: z.literal('trigger'), ...required }),
  z.strictObject({ from: z.literal('top-category'), ...required }),
  z.strictObject({ from: z.literal('unbought-category'), categories: z.array(z.string().min(1)).min(1, 'list the categories to suggest, in order of preference'), ...required }),
  /** A category the client never bought, the one clients with their top category buy most (the night's category affinity). */
  z.strictObject({ from: z.literal('cross-category'), ...required }),
  /**
   * The client's SKUs last bought in last year's run of the season in force on the occasion's day
   * (for a season-starts trigger: the season starting), most recent first; needs campaigns.seasons.
   */
  z.strictObject({ from: z.literal('last-season'), ...required }),
  z.strictObject({ from: z.literal('none') }),
]);
export type ProductsSource = z.infer<typeof productsSchema>;

/** Audience filters beyond tiers, stages and RFM segments (schema.ts audienceSchema). Each absent filter lets everyone through. */
export const audienceFilterFields = {
  /** BCP 47 prefixes: "zh" matches zh-CN and zh-TW, "en-US" only en-US. Clients without a locale match none. */
  locales: z.array(z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a BCP 47 locale or prefix, e.g. "zh" or "en-US"')).min(1).optional(),
  /** Only clients predicted to reach the next tier (true), or only the others with a prediction (false): a client without one meets neither. */
  rising: z.boolean().optional(),
  churnRisk: z.array(z.enum(CHURN_RISKS)).min(1).optional(),
  /** Clients who bought at least one of these categories. */
  boughtCategories: z.array(z.string().min(1)).min(1).optional(),
  /** Clients who bought none of these categories. */
  neverBoughtCategories: z.array(z.string().min(1)).min(1).optional(),
  /** Local calendar days since the last order, inclusive bounds; clients without an order match no range. */
  daysSinceLastOrder: z
    .strictObject({ min: days.optional(), max: days.optional() })
    .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, { message: 'min must not exceed max' })
    .optional(),
};
