import type { z } from 'zod';
import type { productsSchema, timingSchema, triggerSchema } from './vocabulary.ts';

/**
 * The plays of domain.md ("Other moments the reports name"), shipped as built-ins: each is a
 * campaign of the vocabulary with a fixed id, on by default. `{ "kind": "<play id>" }` in the
 * config gives it; fields written beside `kind` replace the preset's fields of the same name
 * (whole fields: `"timing": { ... }` replaces the preset's timing). `campaigns.turnedOff` turns any
 * campaign off by id without listing the others. The parsed campaign is a custom campaign with
 * `play` set, read by the same engine as any other (rules.ts, triggers.ts).
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
  offers?: Record<string, Record<string, unknown>>;
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
      // After the welcome (1), before the run-out reminder (2 as well, but listed later) and the
      // win-back: the moment passes within days, a reminder or win-back can wait an hour.
      priority: 2,
      personal: true,
    }),
  },
  birthday: {
    description: "The birthday month, from its 1st in the client's zone, once a year: a gift matched to the tier (VIC: a note from their advisor; Core: a gift with their next order; others: a voucher).",
    preset: () => ({
      // The month, not the day: a full date and a month-only birthday alike, open through the month.
      trigger: { on: 'birthday', month: true },
      template: 'birthday',
      offers: {
        // The voucher carries a code of the brand's scheme when the config sets one (coupons.scheme), else the discount alone.
        default: { kind: 'coupon', discountPercent: 10, couponFrom: { from: 'brand-scheme' } },
        Core: { kind: 'gift-with-order' },
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
} as const satisfies Record<string, Play>;

export type PlayId = keyof typeof PLAYS;
export const PLAY_IDS = Object.keys(PLAYS) as PlayId[];

export function isPlayId(value: unknown): value is PlayId {
  return typeof value === 'string' && Object.hasOwn(PLAYS, value);
}
