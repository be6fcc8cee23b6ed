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
} as const satisfies Record<string, Play>;

export type PlayId = keyof typeof PLAYS;
export const PLAY_IDS = Object.keys(PLAYS) as PlayId[];

export function isPlayId(value: unknown): value is PlayId {
  return typeof value === 'string' && Object.hasOwn(PLAYS, value);
}
