import type { z } from 'zod';
import type { productsSchema, timingSchema, triggerSchema } from './vocabulary.ts';

/**
 * The plays of domain.md ("Other moments the reports name"), shipped as built-ins: each is a
 * campaign of the vocabulary with a fixed id, on by default. `{ "kind": "<play id>" }` in the
 * config gives it; fields written beside `kind` replace the preset's fields of the same name
 * (whole fields: `"timing": { ... }` replaces the preset's timing). `campaigns.turnedOff` turns any
 * campaign off by id without listing the others. The parsed campaign is a custom campaign with
 * `play` set, read by the same engine as any other (schema.ts campaignRules, triggers.ts).
 *
 * Priorities (lower first when several are due for one client in the same hour; welcome 1,
 * replenishment 2, win-back 3, custom 5) are chosen per play below, with the reason.
 */

/** What a preset says: the fields of a custom campaign (schema.ts customCampaignSchema) but its kind, id and play, which schema.ts fills. */
export interface PlayPreset {
  trigger: z.input<typeof triggerSchema>;
  timing?: z.input<typeof timingSchema>;
  // Audience and offers are schema.ts's, which imports this file: typed loosely here, checked by
  // parsing every play (test/unit/shared/campaigns/schema.test.ts).
  audience?: Record<string, unknown>;
  template: string | { en: string; 'zh-CN'?: string };
  offers?: Record<string, Record<string, unknown> | readonly Record<string, unknown>[]>;
  products?: z.input<typeof productsSchema>;
  priority?: number;
  personal?: boolean;
}

export interface Play {
  /** One line for the config check and the docs: what the play does and when. */
  description: string;
  /** A fresh preset on every call (parsing fills defaults into the objects it is given). */
  preset: () => PlayPreset;
}

export const PLAYS = {
  'tier-upgrade-thanks': {
    description: 'The day after a client moves up a tier: a thank-you, recognition rather than a discount (VIC: a note from their advisor).',
    preset: () => ({
      // Entry is where a first order lands: that moment is the welcome's, not a thank-you's.
      trigger: { on: 'tier-changed', direction: 'up', to: ['Potential', 'Core', 'VIC'], daysAfter: 1 },
      // Open a week: a capped or quiet-hours day still gets it, a thank-you a month late does not read as one.
      timing: { cutoffDays: 7 },
      template: 'tier-upgrade-thanks',
      offers: { default: { kind: 'none' }, VIC: { kind: 'personal-note' } },
      products: { from: 'none' },
      // After the welcome (1), beside the run-out reminder (2 as well: of the two, the window that
      // closes first goes first) and before the win-back: the moment passes within days.
      priority: 2,
      personal: true,
    }),
  },
  birthday: {
    description: "The birthday month, from its 1st in the client's zone, once a year: a gift matched to the tier (VIC: a note from their advisor; Core: a gift with their next order; Potential: a sample kit with their next order; others: a voucher).",
    preset: () => ({
      // The month, not the day: a full date and a month-only birthday alike, open through the month.
      trigger: { on: 'birthday', month: true },
      template: 'birthday',
      offers: {
        // The voucher carries a code of the brand's scheme when the config sets one (coupons.scheme), else the discount alone.
        default: { kind: 'coupon', discountPercent: 10, couponFrom: { from: 'brand-scheme' } },
        Core: { kind: 'gift-with-order' },
        // domain.md: "Potential: sample kit". No code is drawn for it.
        Potential: { kind: 'sample' },
        VIC: { kind: 'personal-note' },
      },
      products: { from: 'none' },
      // Last of the built-ins: the window is a whole month, so a day given to a more urgent email
      // (a welcome, a run-out, a win-back) costs the birthday nothing.
      priority: 6,
      personal: true,
    }),
  },
  'first-order-care': {
    description: 'Seven days after the first order: care and use tips for what it bought (categoryCare per category), and a sample when it bought a beauty category.',
    preset: () => ({
      // From local midnight 7 days after the first order, open a week (the default of a day after an instant).
      trigger: { on: 'first-order', daysAfter: 7 },
      template: 'first-order-care',
      offers: {
        // The sample is for beauty buyers: a brand names its own categories with offers.default.forCategories.
        default: { kind: 'sample', forCategories: ['skincare', 'makeup', 'fragrance', 'bodycare', 'suncare', 'haircare', 'beauty'] },
        VIC: { kind: 'personal-note' },
      },
      products: { from: 'trigger' },
      // After the welcome, the run-out reminders and the win-back (4): useful, but open a week.
      priority: 4,
      personal: true,
    }),
  },
  'first-purchase-thanks': {
    description: "The first order of a client who signed up at least 72 hours before it (the welcome's cut-off, so it went to the sign-up and had expired): a thank-you within 24 hours, not past 72.",
    preset: () => ({
      // 72 = the welcome's cutoffHours: a client is welcomed at the sign-up or thanked at the first order, never both.
      trigger: { on: 'first-order', signedUpAtLeastHoursBefore: 72 },
      timing: { lateAfterHours: 24, cutoffHours: 72 },
      template: 'first-purchase-thanks',
      // Like the welcome's: a sample, a note for a VIC.
      offers: { default: { kind: 'sample' }, VIC: { kind: 'personal-note' } },
      products: { from: 'trigger' },
      // The welcome's priority: the same 24-hour promise, and the two never meet for one client.
      priority: 1,
      personal: true,
    }),
  },
  seasonal: {
    description:
      "7 days before a season of campaigns.seasons starts, to clients who bought in it last year: what they chose then, and the new season's date (VIC: a note from their advisor). Waits for the brand's seasons: none by default.",
    preset: () => ({
      // Only last year's buyers of the season have an occasion at all: the due index does not read the whole base each season.
      trigger: { on: 'season-starts', daysBefore: 7, boughtLastYear: true },
      template: 'seasonal',
      offers: { default: { kind: 'none' }, VIC: { kind: 'personal-note' } },
      // Its point is what they chose last season: without it, no email.
      products: { from: 'last-season', required: true },
      // Bound to a date (open the 8 days up to the season's first day): before the recall and
      // the cross-category suggestion, whose windows are longer and can wait a day under the cap.
      priority: 4,
      personal: true,
    }),
  },
  recall: {
    description:
      'After the 60-day win-back, at 120, 180 and 365 days without an order (each step once per lapse): picks from their top category, the offer graded by how often they used to buy (VIC: a note from their advisor, no discount).',
    preset: () => ({
      // Each step open 30 days at most, and never into the next step; the 60-day win-back's window
      // ends at day 89, so one lapse gets the win-back, then at most one email per step, a month apart at least.
      trigger: { on: 'no-order-for', days: [120, 180, 365] },
      timing: { cutoffDays: 30 },
      template: 'recall',
      offers: {
        // A one-off buyer gets what the win-back offered (never less a month later); a client who
        // used to buy often is worth more. Not raised with the step: a ladder of discounts
        // teaches clients to wait for the next one; the email says how long it has been instead.
        default: { kind: 'free-shipping-coupon', freeShipping: true, discountPercent: 15 },
        VIC: { kind: 'personal-note' },
        graded: [
          { minOrders: 4, minOrdersPerYear: 3, offer: { kind: 'free-shipping-coupon', freeShipping: true, discountPercent: 25 } },
          { minOrders: 2, offer: { kind: 'free-shipping-coupon', freeShipping: true, discountPercent: 20 } },
        ],
      },
      products: { from: 'top-category' },
      // After the win-back (3) and the seasonal reminder (4): its window is a month long.
      priority: 5,
      personal: true,
    }),
  },
  'cross-category': {
    description:
      'For Potential and Entry clients, 21 days after their latest order (once per order): a category they have not bought, the one clients with their top category buy most, with a coupon. No email without a category to show.',
    preset: () => ({
      // Three weeks: the order has arrived and been tried (first-order care is at 7 days), well
      // before the 60-day win-back; a client who orders again first is not pitched, the moment
      // moves to the new order.
      trigger: { on: 'any-order', daysAfter: 21 },
      timing: { cutoffDays: 7 },
      audience: { tiers: ['Potential', 'Entry'] },
      template: 'cross-category',
      offers: { default: { kind: 'coupon', discountPercent: 10 } },
      // No category (no affinity yet, or the client bought every category): no email.
      products: { from: 'cross-category', required: true },
      // The least urgent of the built-ins: a suggestion, open a week, waits behind anything else due.
      priority: 6,
    }),
  },
} as const satisfies Record<string, Play>;

export type PlayId = keyof typeof PLAYS;
export const PLAY_IDS = Object.keys(PLAYS) as PlayId[];

export function isPlayId(value: unknown): value is PlayId {
  return typeof value === 'string' && Object.hasOwn(PLAYS, value);
}
