import { TEMPLATE_NAMES } from './template-names.ts';
import { z } from 'zod';
import { isTierUpgrade, STAGES, TIERS, tierRank, type Tier } from '#shared/model.ts';
import { couponCode, couponSourceSchema } from './coupon-codes.ts';
import { PLAY_IDS, PLAYS, type PlayId } from './plays.ts';
import { defaultCutoff, windowBoundMs } from './triggers.ts';
import { audienceFilterFields, productsSchema, seasonSchema, timingSchema, triggerSchema, type ProductsSource, type Timing, type Trigger } from './vocabulary.ts';

/**
 * Campaigns are data: which moments trigger an email, for whom, when, with which template and
 * offer, and the sending policy (frequency cap, quiet hours, control group) around them.
 * `campaignsConfigSchema.parse({})` gives the built-ins of the handbook (domain.md): the three
 * timed campaigns (welcome, replenishment, win-back) and the plays of plays.ts. A campaign is
 * written in the vocabulary of vocabulary.ts (a `trigger`, `timing`, `audience`, `template`,
 * `offers`, `products`: kind 'custom', the default); the three keep their older form (kind welcome
 * / replenishment / winback with their timing fields), which campaignRules (below) reads as the same
 * vocabulary; a play is a custom campaign preset, written `{ "kind": "<play id>" }`.
 */

/** The built-in kinds, in their older form. */
export const CAMPAIGN_KINDS = ['welcome', 'replenishment', 'winback'] as const;
export type BuiltInKind = (typeof CAMPAIGN_KINDS)[number];
/** 'custom': a campaign written in the vocabulary. */
export type CampaignKind = BuiltInKind | 'custom';

/** The offers a campaign makes, and the kinds the templates render (shared/templates/render.ts reads them from here). */
export const OFFER_KINDS = ['personal-note', 'coupon', 'free-shipping-coupon', 'sample', 'gift-with-order', 'none'] as const;
export type OfferKind = (typeof OFFER_KINDS)[number];

/** "HH:MM", 24-hour clock. */
const wallTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a 24-hour time written HH:MM, e.g. "21:00"');

/**
 * The share of clients a control group holds out, from 0 (nobody) to below 1: holding out everybody
 * would send no email and leave the results no sent group to compare with.
 */
const share = z
  .number()
  .min(0)
  .lt(1, 'must be below 1: a control share of 1 holds out every client, so no email goes and the results have no sent group; to stop a campaign, set its `enabled: false`');

/**
 * Campaign ids end up in ledger keys ("<id>#<sku>#<instant>") and in the control-group hash
 * ("<customerId>:<id>"), so they may not contain the separators.
 */
const campaignId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be 1-64 lower-case letters, digits or "-", starting with a letter or digit');

export const offerSchema = z
  .strictObject({
    kind: z.enum(OFFER_KINDS),
    /** Same rule as the templates, so a bad code fails when the config is read, not at render time. */
    couponCode: couponCode.optional(),
    discountPercent: z.number().positive().max(100).optional(),
    freeShipping: z.boolean().optional(),
    /** A sample of something new alongside a coupon (the replenishment offer); implied by kind 'sample'. */
    sample: z.boolean().optional(),
    /** A code of its own for each occasion instead of the fixed couponCode: drawn from the campaign's pool, or generated (coupon-codes.ts). */
    couponFrom: couponSourceSchema.optional(),
    /**
     * Given only when a product of the occasion (the trigger's, or those the email shows) is of one
     * of these categories; otherwise the email carries no offer (e.g. a sample for beauty buyers).
     */
    forCategories: z.array(z.string().min(1, 'must be a category key')).min(1, 'leave forCategories out for every client').optional(),
  })
  .superRefine((o, ctx) => {
    // The templates show a code, a discount or free shipping only in a coupon offer (render.ts
    // showsCoupon): in another kind they would load and silently not be made. A note is
    // recognition, not promotion; a gift comes with the next order as it is; a sample or no offer
    // carries no code either.
    if (o.kind === 'coupon' || o.kind === 'free-shipping-coupon') return;
    if (o.couponCode === undefined && o.couponFrom === undefined && o.discountPercent === undefined && !o.freeShipping) return;
    ctx.addIssue({ code: 'custom', message: `a ${o.kind} offer carries no coupon, discount or free shipping (the email would not show them): make it a coupon or free-shipping-coupon offer` });
  })
  .refine((o) => o.couponCode === undefined || o.couponFrom === undefined, {
    message: 'an offer has either a fixed couponCode or a couponFrom, not both',
    path: ['couponFrom'],
  });
export type Offer = z.infer<typeof offerSchema>;

/**
 * One step of a graded offer: the offer for a client who meets every condition it sets, read on
 * the profile at the decision. `minOrders`: orders counted on the profile; `minOrdersPerYear`:
 * how often the client used to buy, their orders over their buying life (first to last order,
 * one year at least, so a burst of orders in a month is not "30 a year"); `minDaysSinceLastOrder`:
 * local days since the last order (a later recall step).
 */
export const gradedOfferSchema = z
  .strictObject({
    minOrders: z.number().int().min(1).optional(),
    minOrdersPerYear: z.number().positive().max(365).optional(),
    minDaysSinceLastOrder: z.number().int().min(0).max(3650).optional(),
    offer: offerSchema,
  })
  .refine((g) => g.minOrders !== undefined || g.minOrdersPerYear !== undefined || g.minDaysSinceLastOrder !== undefined, {
    message: 'a graded offer needs a condition: minOrders, minOrdersPerYear or minDaysSinceLastOrder',
  });
export type GradedOffer = z.infer<typeof gradedOfferSchema>;

/**
 * One offer per tier, `default` for the tiers not named. `graded`: offers by how the client used
 * to buy, for the tiers not named: the first step whose conditions the client meets, else the
 * default (due.ts offerFor). A tier named keeps its own offer (a VIC's note is never graded into a discount).
 */
export const offersSchema = z.strictObject({
  default: offerSchema,
  VIC: offerSchema.optional(),
  Core: offerSchema.optional(),
  Potential: offerSchema.optional(),
  Entry: offerSchema.optional(),
  Prospect: offerSchema.optional(),
  graded: z.array(gradedOfferSchema).min(1, 'leave "graded" out for one offer').max(10).optional(),
}).superRefine((offers, ctx) => {
  const vic = offers.VIC;
  // The templates render every VIC email as a note and never show a VIC a coupon (render.ts showsCoupon): such an offer would load and silently not be made.
  if (vic !== undefined && (vic.kind === 'coupon' || vic.kind === 'free-shipping-coupon' || vic.couponCode !== undefined || vic.couponFrom !== undefined || vic.discountPercent !== undefined || vic.freeShipping)) {
    ctx.addIssue({ code: 'custom', path: ['VIC'], message: 'a VIC is never shown a coupon, discount or free shipping (their email is a note: recognition, not promotion): give VIC a personal-note offer, or leave VIC out' });
  }
});
export type Offers = z.infer<typeof offersSchema>;
/** Every offer a campaign may make (the tiers', the default, the graded steps'). */
export function offersOf(offers: Offers): Offer[] {
  const { graded, ...byTier } = offers;
  return [...Object.values(byTier).filter((o): o is Offer => o !== undefined), ...(graded ?? []).map((g) => g.offer)];
}

export const audienceSchema = z.strictObject({
  tiers: z
    .array(z.enum(TIERS))
    .min(1, 'an audience needs at least one tier (disable the campaign instead)')
    .default(() => [...TIERS]),
  stages: z
    .array(z.enum(STAGES))
    .min(1, 'an audience needs at least one stage (disable the campaign instead)')
    .default(() => [...STAGES]),
  /**
   * Only buyers in these RFM segments (config.rfmSegments; checked there). Absent: everyone,
   * clients without a segment (no counted order) included.
   */
  rfmSegments: z.array(z.string().min(1)).min(1, 'an audience needs at least one segment (leave it out for every client)').optional(),
  ...audienceFilterFields,
});
export type Audience = z.infer<typeof audienceSchema>;

const VIC_NOTE: Offer = { kind: 'personal-note' };

// Built-in offers (domain.md): VIC clients get a note from their advisor, never a discount.
const WELCOME_OFFERS: Offers = { default: { kind: 'sample' }, VIC: VIC_NOTE };
const REPLENISHMENT_OFFERS: Offers = { default: { kind: 'coupon', discountPercent: 10, sample: true }, VIC: VIC_NOTE };
const WINBACK_OFFERS: Offers = {
  default: { kind: 'free-shipping-coupon', freeShipping: true, discountPercent: 15 },
  VIC: VIC_NOTE,
};

/**
 * A campaign template of the catalogue (shared/templates/catalog.ts): a typo would load and then
 * fail every email of the campaign at send time (and, for a campaign of high priority, keep the
 * lower ones from the client's hour).
 */
const templateId = z.enum(TEMPLATE_NAMES, { error: `must be one of the catalogue's templates (${TEMPLATE_NAMES.join(', ')})` });

/** Fields every built-in has; `kind` decides the defaults and the timing. */
function common<K extends BuiltInKind>(kind: K, priority: number, offers: Offers) {
  return {
    kind: z.literal(kind),
    id: campaignId.default(kind),
    ...everyCampaign(priority),
    /** Template of the catalogue (shared/templates); the built-ins use their kind. */
    template: templateId.default(kind),
    offers: offersSchema.default(() => structuredClone(offers)),
    /**
     * Its personal notes (VIC clients, personal-note offers) go out in the name of the client's
     * active advisor: From "Advisor via Brand", Reply-To the advisor, signed by them. Without an
     * active advisor, or for a campaign not marked, a personal note is the client care team's.
     * The win-back's VIC note is personal by default.
     */
    personal: z.boolean().default(kind === 'winback'),
  };
}

/** Fields of every campaign, built-in or custom. */
function everyCampaign(priority: number) {
  return {
    enabled: z.boolean().default(true),
    /** Lower goes first when several campaigns are due for one client in the same hour. */
    priority: z.number().int().min(0).default(priority),
    audience: audienceSchema.prefault({}),
    /** Overrides policy.controlShare for this campaign. */
    controlShare: share.optional(),
  };
}


/** A campaign written in the vocabulary (vocabulary.ts). */
export const customCampaignSchema = z.strictObject({
  kind: z.literal('custom').default('custom'),
  /** Required: the id keys the ledger and the control group. */
  id: campaignId,
  ...everyCampaign(5),
  trigger: triggerSchema,
  timing: timingSchema.prefault({}),
  /** One template for everyone, or one per template locale (`en` also serves the locales without their own). */
  template: z.union([templateId, z.strictObject({ en: templateId, 'zh-CN': templateId.optional() })], {
    error: `must be one of the catalogue's templates (${TEMPLATE_NAMES.join(', ')}), or one per locale: { "en": ..., "zh-CN": ... }`,
  }),
  offers: offersSchema.default(() => ({ default: { kind: 'none' as const } })),
  /** Default: the trigger's own products for orders and run-outs, the top category for no-order-for, else none (campaignRules). */
  products: productsSchema.optional(),
  personal: z.boolean().default(false),
  /** The built-in play this campaign is (plays.ts), when it is one. */
  play: z.enum(PLAY_IDS as [PlayId, ...PlayId[]]).optional(),
});

/**
 * `{ "kind": "<play id>", ...fields }`: the play's preset with the fields written beside `kind`
 * replacing the preset's, parsed as a custom campaign (its issues keep their paths, so an error
 * still names the campaign and the field).
 */
function playCampaignSchema<Id extends PlayId>(play: Id) {
  return z.looseObject({ kind: z.literal(play) }).transform((input, ctx) => {
    const { kind: _kind, ...fields } = input;
    const parsed = customCampaignSchema.safeParse({ ...PLAYS[play].preset(), id: play, ...fields, kind: 'custom', play });
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: [...issue.path], input: issue.input });
    return z.NEVER;
  });
}

export const welcomeCampaignSchema = z.strictObject({
  ...common('welcome', 1, WELCOME_OFFERS),
  timing: z
    .strictObject({
      /** The promise: welcomed within this many hours of sign-up or first order. Later sends are flagged late. */
      targetHours: z.number().positive().default(24),
      /** Past this many hours a welcome is not sent at all: it has lost most of its value. */
      cutoffHours: z.number().positive().default(72),
    })
    .refine((t) => t.cutoffHours >= t.targetHours, { message: 'cutoffHours must be at least targetHours' })
    .prefault({}),
});

export const replenishmentCampaignSchema = z.strictObject({
  ...common('replenishment', 2, REPLENISHMENT_OFFERS),
  /**
   * Categories whose products are consumables even when the products export gives them no
   * replenish_days (e.g. "fragrance"). Only these and products with replenish_days get reminders:
   * a coat bought twice has a personal gap, not a use-up cycle.
   */
  replenishableCategories: z.array(z.string().min(1, 'must be a category key')).default([]),
  timing: z
    .strictObject({
      /** Local calendar days before the predicted run-out day on which the reminder becomes due. */
      daysBeforeRunOut: z.number().int().min(1).default(15),
    })
    .prefault({}),
});

export const winbackCampaignSchema = z.strictObject({
  ...common('winback', 3, WINBACK_OFFERS),
  timing: z
    .strictObject({
      /** Local calendar days without an order at which the win-back becomes due. */
      afterDays: z.number().int().min(1).default(60),
      /**
       * Days the occasion stays due after that (missed hours, caps, quiet hours). Past it we stop
       * trying: a client lapsed long before the campaign started is not "at 60 days".
       */
      windowDays: z.number().int().min(1).default(30),
    })
    .prefault({}),
});

export const campaignDefinitionSchema = z.discriminatedUnion('kind', [
  welcomeCampaignSchema,
  replenishmentCampaignSchema,
  winbackCampaignSchema,
  customCampaignSchema,
  ...PLAY_IDS.map(playCampaignSchema),
]);
export type CampaignDefinition = z.infer<typeof campaignDefinitionSchema>;
export type CampaignDefinitionInput = z.input<typeof campaignDefinitionSchema>;
export type WelcomeCampaign = z.infer<typeof welcomeCampaignSchema>;
export type ReplenishmentCampaign = z.infer<typeof replenishmentCampaignSchema>;

/** The configured replenishment campaign, else its defaults (the advisors' book and the stock-ups time by it even when it is not configured). */
export function replenishmentCampaignOf(campaigns: { campaigns: readonly { kind: string }[] }): ReplenishmentCampaign {
  const configured = campaigns.campaigns.find((c): c is ReplenishmentCampaign => c.kind === 'replenishment');
  return configured ?? replenishmentCampaignSchema.parse({ kind: 'replenishment' });
}

/** The replenishment reminder's lead time (days before the run-out), as configured or by default: purchases closer together are one stock-up. */
export function replenishmentLeadDays(campaigns: { campaigns: readonly { kind: string }[] }): number {
  return replenishmentCampaignOf(campaigns).timing.daysBeforeRunOut;
}
export type WinbackCampaign = z.infer<typeof winbackCampaignSchema>;
export type CustomCampaign = z.infer<typeof customCampaignSchema>;

/** Minutes past local midnight of an "HH:MM" wall time. */
export function minutesOfWallTime(wallTime: string): number {
  const [hours, minutes] = wallTime.split(':');
  return Number(hours) * 60 + Number(minutes);
}

/** Whether the local minute of the day (0-1439) is within quiet hours: start inclusive, end exclusive, start > end wraps midnight, start = end is none. */
export function isQuietMinute(minuteOfDay: number, quietHours: { start: string; end: string }): boolean {
  const start = minutesOfWallTime(quietHours.start);
  const end = minutesOfWallTime(quietHours.end);
  if (start === end) return false;
  return start < end ? minuteOfDay >= start && minuteOfDay < end : minuteOfDay >= start || minuteOfDay < end;
}

const HOURS_OF_DAY = Array.from({ length: 24 }, (_, hour) => hour);

export const quietHoursSchema = z
  .strictObject({
    /** Local time quiet hours start (inclusive). When start > end the window wraps midnight; start = end means none. */
    start: wallTime.default('21:00'),
    /** Local time quiet hours end (exclusive): the first minute a deferred email may go. */
    end: wallTime.default('09:00'),
  })
  // The hourly run sends at minute 0: quiet hours over every HH:00 (21:00-20:30) defer every email for ever.
  .refine((q) => HOURS_OF_DAY.some((hour) => !isQuietMinute(hour * 60, q)), {
    error: (issue) => {
      const q = issue.input as { start: string; end: string };
      return `quiet hours ${q.start}-${q.end} cover every whole hour (00:00 to 23:00), and the hourly run sends at minute 0: no email would ever go; leave at least one HH:00 outside them`;
    },
  });
export type QuietHours = z.infer<typeof quietHoursSchema>;

export const policySchema = z.strictObject({
  frequencyCap: z
    .strictObject({
      /** Marketing emails per client in any rolling 24 hours. */
      per24h: z.number().int().min(1).default(1),
      /** Marketing emails per client in any rolling 7 days. */
      per7d: z.number().int().min(1).default(3),
    })
    .refine((c) => c.per7d >= c.per24h, { message: 'per7d must be at least per24h' })
    .prefault({}),
  quietHours: quietHoursSchema.prefault({}),
  /** Share of clients held out of each campaign to measure its effect. */
  controlShare: share.default(0.1),
});
export type CampaignPolicy = z.infer<typeof policySchema>;

/** The built-in campaigns (the three timed ones, then every play) with every default filled in (fresh objects on every call). */
export function brandDefaultCampaigns(): CampaignDefinition[] {
  return [...CAMPAIGN_KINDS, ...PLAY_IDS].map((kind) => campaignDefinitionSchema.parse({ kind }));
}

export const campaignsConfigSchema = z.strictObject({
  policy: policySchema.prefault({}),
  /** The brand's seasons, for the season-starts trigger: a name and the day each starts, every year. */
  seasons: z
    .array(seasonSchema)
    .default([])
    .superRefine((seasons, ctx) => {
      const seen = new Set<string>();
      // A season lasts until the next one starts: two starting the same day leave one of them no day
      // at all (its emails and its "last season" products). 29 February starts on the 28th in other years.
      const startsOn = new Map<string, string>();
      seasons.forEach((season, index) => {
        if (seen.has(season.name)) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `duplicate season "${season.name}"` });
        seen.add(season.name);
        const day = season.starts === '02-29' ? '02-28' : season.starts;
        const other = startsOn.get(day);
        if (other !== undefined) {
          ctx.addIssue({ code: 'custom', path: [index, 'starts'], message: `season "${season.name}" starts on ${season.starts}, as "${other}" does (29 February counts as the 28th): one of them would never last a day` });
        }
        startsOn.set(day, season.name);
      });
    }),
  /** The full list: listing campaigns replaces the built-ins, so list every one you keep (or use turnedOff). */
  campaigns: z
    .array(campaignDefinitionSchema)
    .superRefine((campaigns, ctx) => {
      const seen = new Set<string>();
      campaigns.forEach((campaign, index) => {
        // Ids key the ledger and the control group: two campaigns sharing one would silence each other.
        if (seen.has(campaign.id)) ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `duplicate campaign id "${campaign.id}"` });
        seen.add(campaign.id);
      });
    })
    .default(brandDefaultCampaigns),
  /** Ids of campaigns to turn off (built-in or listed) without listing the others: the same as their `enabled: false`. */
  turnedOff: z.array(campaignId).default([]),
})
  .superRefine((config, ctx) => {
    const ids = new Set(config.campaigns.map((campaign) => campaign.id));
    config.turnedOff.forEach((id, index) => {
      // A typo here would leave on a campaign the brand meant to stop.
      if (!ids.has(id)) ctx.addIssue({ code: 'custom', path: ['turnedOff', index], message: `no campaign "${id}" to turn off (campaigns: ${[...ids].join(', ')})` });
    });
    config.campaigns.forEach((campaign, index) => {
      for (const issue of reasonsNeverSent(campaign)) ctx.addIssue({ code: 'custom', path: ['campaigns', index, ...issue.path], message: issue.message });
    });
    // A season-starts trigger naming a season the calendar lacks would quietly never fire.
    const seasons = new Set(config.seasons.map((season) => season.name));
    config.campaigns.forEach((campaign, index) => {
      // A built-in play without seasons (the seasonal one) is not the brand's mistake: it waits for them (campaignWaitsFor).
      if (campaign.kind !== 'custom' || (campaign.play !== undefined && seasons.size === 0 && !namesSeasons(campaign))) return;
      // Last season's products need a calendar to find last season in.
      if (campaign.products?.from === 'last-season' && seasons.size === 0) {
        ctx.addIssue({ code: 'custom', path: ['campaigns', index, 'products', 'from'], message: `campaign "${campaign.id}": products from last season need campaigns.seasons` });
      }
      if (campaign.trigger.on !== 'season-starts') return;
      if (seasons.size === 0) {
        ctx.addIssue({ code: 'custom', path: ['campaigns', index, 'trigger'], message: `campaign "${campaign.id}": campaigns.seasons defines no season` });
        return;
      }
      campaign.trigger.seasons?.forEach((name, j) => {
        if (!seasons.has(name)) {
          ctx.addIssue({ code: 'custom', path: ['campaigns', index, 'trigger', 'seasons', j], message: `campaign "${campaign.id}": no season "${name}" in campaigns.seasons` });
        }
      });
    });
  })
  .transform(({ turnedOff, ...config }) => {
    if (turnedOff.length === 0) return config;
    const off = new Set(turnedOff);
    return { ...config, campaigns: config.campaigns.map((campaign) => (off.has(campaign.id) ? { ...campaign, enabled: false } : campaign)) };
  });
export type CampaignsConfig = z.infer<typeof campaignsConfigSchema>;

const HOURS_PER_DAY = 24;
const MS_PER_DAY = 86_400_000;

/**
 * Why a campaign would load and never send anything, whatever the clients: its trigger only fires
 * for clients its audience leaves out, or its delay opens the window after the cut-off closes it.
 * Each reason with the path of the field to change, inside the campaign. Empty when none.
 */
export function reasonsNeverSent(campaign: CampaignDefinition): { path: string[]; message: string }[] {
  const { trigger, timing } = campaignRules(campaign);
  const audience = campaign.audience;
  const reasons: { path: string[]; message: string }[] = [];
  const nobody = (path: string[], message: string) => reasons.push({ path, message: `${message}: nobody would ever get it` });
  switch (trigger.on) {
    case 'tier-changed': {
      // The trigger reads the tier the client moved to, and the audience the same tier.
      const landing = tiersLandedOn(trigger.direction, trigger.to);
      if (landing.length === 0) {
        nobody(['trigger', 'to'], `the trigger (tier-changed ${trigger.direction} to ${(trigger.to ?? []).join(', ')}) names only a tier no client moves ${trigger.direction} to`);
      } else if (!landing.some((tier) => audience.tiers.includes(tier))) {
        nobody(['audience', 'tiers'], `the trigger (tier-changed ${trigger.direction}) fires for clients now ${landing.join(', ')}, the audience takes only ${audience.tiers.join(', ')}`);
      }
      break;
    }
    case 'stage-entered':
      if (!trigger.stages.some((stage) => audience.stages.includes(stage))) {
        nobody(['audience', 'stages'], `the trigger (stage-entered) fires for clients now ${trigger.stages.join(', ')}, the audience takes only ${audience.stages.join(', ')}`);
      }
      break;
    case 'rfm-segment-entered':
      if (audience.rfmSegments !== undefined && !trigger.segments.some((segment) => audience.rfmSegments?.includes(segment))) {
        nobody(['audience', 'rfmSegments'], `the trigger (rfm-segment-entered) fires for clients now in ${trigger.segments.join(', ')}, the audience takes only ${audience.rfmSegments.join(', ')}`);
      }
      break;
    case 'no-order-for': {
      const range = audience.daysSinceLastOrder;
      const firstStep = trigger.days[0] ?? 0;
      const lastStep = trigger.days[trigger.days.length - 1] ?? 0;
      // Days since the last order while a step's window is open: from the step to the step plus the cut-off (in whole days, rounded up).
      const latest = lastStep + Math.ceil(windowBoundMs(trigger, timing) / MS_PER_DAY);
      if (range?.max !== undefined && range.max < firstStep) {
        nobody(['audience', 'daysSinceLastOrder', 'max'], `the trigger (no-order-for ${firstStep} days) fires from ${firstStep} days without an order, the audience takes at most ${range.max}`);
      } else if (range?.min !== undefined && range.min > latest) {
        nobody(['audience', 'daysSinceLastOrder', 'min'], `the trigger (no-order-for ${trigger.days.join(', ')} days) is over by ${latest} days without an order, the audience takes at least ${range.min}`);
      }
      break;
    }
    default:
      break;
  }
  // An explicit cut-off is checked against the delay by timingSchema; the default one only here, where the trigger is known.
  if (timing.cutoffHours === undefined && timing.cutoffDays === undefined) {
    const cutoff = defaultCutoff(trigger);
    const cutoffHours = 'hours' in cutoff ? cutoff.hours : cutoff.days * HOURS_PER_DAY;
    if (timing.delayHours >= cutoffHours) {
      const written = 'hours' in cutoff ? `${cutoff.hours} hours` : `${cutoff.days} days (${cutoffHours} hours)`;
      reasons.push({
        path: ['timing', 'delayHours'],
        message: `delayHours ${timing.delayHours} opens the window at or after the ${trigger.on} trigger's default cut-off of ${written}: no email would ever go; shorten the delay or give a later cutoffHours / cutoffDays`,
      });
    }
  }
  return reasons;
}

/** The tiers a tier-changed trigger can fire for: `to` (every tier when absent), less those no move in its direction reaches (up: Prospect, and Entry, reached only by a first purchase). */
function tiersLandedOn(direction: 'up' | 'down' | 'any', to: readonly Tier[] | undefined): Tier[] {
  const reached = (tier: Tier) => TIERS.some((from) => (direction === 'up' ? isTierUpgrade(from, tier) : tierRank(tier) < tierRank(from)));
  return (to ?? TIERS).filter((tier) => direction === 'any' || reached(tier));
}

function namesSeasons(campaign: CustomCampaign): boolean {
  return campaign.trigger.on === 'season-starts' && campaign.trigger.seasons !== undefined;
}

/**
 * Why an enabled campaign cannot send anything under this configuration, for the lists of
 * campaigns (the report): a campaign on the brand's seasons with no season set (the built-in
 * seasonal play until the brand sets campaigns.seasons). Undefined when it can.
 */
export function campaignWaitsFor(campaign: CampaignDefinition, config: Pick<CampaignsConfig, 'seasons'>): string | undefined {
  if (campaign.kind !== 'custom' || !campaign.enabled || config.seasons.length > 0) return undefined;
  if (campaign.trigger.on === 'season-starts' || campaign.products?.from === 'last-season') return 'waits for campaigns.seasons: no season is set, so it sends nothing';
  return undefined;
}
export type CampaignsConfigInput = z.input<typeof campaignsConfigSchema>;

/**
 * Every campaign in the vocabulary: a custom campaign is written in it; the three built-ins, in
 * their older form, are read as the same words with the same windows, keys and details:
 * - welcome = first-contact, cut-off `cutoffHours`, late past `targetHours`, once ever ('welcome');
 * - replenishment = product-runs-out `daysBeforeRunOut` days before, until the run-out day, once per
 *   purchase ('replenishment#<sku>#<lastPurchasedAt>'), the predicted next order standing in when no
 *   product has a cycle ('replenishment#next-order#<lastOrderAt>'); its email shows the product through the
 *   occasion's sku (shared/sender/compose.ts), so no product list;
 * - win-back = no-order-for `afterDays`, open `windowDays` days, once per lapse
 *   ('winback#<lastOrderAt>'), showing the client's top category.
 */
export interface CampaignRules {
  trigger: Trigger;
  timing: Timing;
  products: ProductsSource;
}

const rulesOf = new WeakMap<CampaignDefinition, CampaignRules>();

/**
 * The longest lead of the configured run-out reminders: the built-in replenishment's (as configured,
 * else its default) and any campaign's on `product-runs-out` (an advisor's call 30 days before, say).
 * A stock-up begun that close to a run-out may be one of them answered, and teaches no cycle
 * (shared/tiering/profile.ts, promptedByCycleInForce); counted on every configured campaign, enabled
 * or not, so that switching one off does not re-judge a client's past.
 */
export function runOutReminderLeadDays(campaigns: { campaigns: readonly CampaignDefinition[] }): number {
  let lead = replenishmentLeadDays(campaigns);
  for (const campaign of campaigns.campaigns) {
    const { trigger } = campaignRules(campaign);
    if (trigger.on === 'product-runs-out') lead = Math.max(lead, trigger.daysBefore);
  }
  return lead;
}

/** The campaign's rules (computed once per parsed campaign object). */
export function campaignRules(campaign: CampaignDefinition): CampaignRules {
  let rules = rulesOf.get(campaign);
  if (rules === undefined) {
    rules = rulesFor(campaign);
    rulesOf.set(campaign, rules);
  }
  return rules;
}

function rulesFor(campaign: CampaignDefinition): CampaignRules {
  switch (campaign.kind) {
    case 'welcome':
      return {
        trigger: { on: 'first-contact' },
        timing: { delayHours: 0, cutoffHours: campaign.timing.cutoffHours, lateAfterHours: campaign.timing.targetHours, oncePer: 'occasion' },
        products: { from: 'none' },
      };
    case 'replenishment':
      return {
        trigger: { on: 'product-runs-out', daysBefore: campaign.timing.daysBeforeRunOut, replenishableCategories: campaign.replenishableCategories, predictedFallback: true },
        timing: { delayHours: 0, oncePer: 'occasion' },
        products: { from: 'none' },
      };
    case 'winback':
      return {
        trigger: { on: 'no-order-for', days: [campaign.timing.afterDays] },
        timing: { delayHours: 0, cutoffDays: campaign.timing.windowDays, oncePer: 'occasion' },
        products: { from: 'top-category', required: false },
      };
    case 'custom':
      return { trigger: campaign.trigger, timing: campaign.timing, products: campaign.products ?? defaultProducts(campaign.trigger) };
  }
}

/** What an email shows when the campaign does not say: what the trigger bought or runs out of, the top category after a lapse. */
function defaultProducts(trigger: Trigger): ProductsSource {
  switch (trigger.on) {
    case 'first-order':
    case 'any-order':
    case 'product-runs-out':
      return { from: 'trigger', required: false };
    case 'no-order-for':
      return { from: 'top-category', required: false };
    default:
      return { from: 'none' };
  }
}
