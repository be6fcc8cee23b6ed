import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { campaignsConfigSchema, reasonsNeverSent } from '#shared/campaigns/schema.ts';
import { momentWindow, type Moment } from '#shared/campaigns/triggers.ts';
import { timingSchema, triggerSchema } from '#shared/campaigns/vocabulary.ts';
import { parseConfig } from '#shared/config.ts';
import { at } from '#test/support/time.ts';
import { triggerArb } from './vocabulary-arbitraries.ts';

/** Campaigns the configuration used to accept and that then mailed nobody, ever: refused at load, naming the field. */

const SH = 'Asia/Shanghai';
const load = (campaign: Record<string, unknown>) => () => parseConfig({ campaigns: { campaigns: [{ id: 'test', template: 'welcome', ...campaign }] } });

describe('a trigger and an audience that contradict each other', () => {
  it('refuses a tier-changed trigger to tiers the audience leaves out', () => {
    expect(load({ trigger: { on: 'tier-changed', to: ['VIC'] }, audience: { tiers: ['Entry'] } })).toThrow(
      /campaign "test" at campaigns\.campaigns\.0\.audience\.tiers: the trigger \(tier-changed any\) fires for clients now VIC, the audience takes only Entry: nobody would ever get it/,
    );
    // Nobody moves up to the lowest tier, or down to the highest.
    expect(load({ trigger: { on: 'tier-changed', direction: 'up' }, audience: { tiers: ['Prospect'] } })).toThrow(/audience\.tiers: .*fires for clients now VIC, Core, Potential, the audience/);
    expect(load({ trigger: { on: 'tier-changed', direction: 'down' }, audience: { tiers: ['VIC'] } })).toThrow(/audience\.tiers: /);
    expect(load({ trigger: { on: 'tier-changed', direction: 'up', to: ['Prospect'] } })).toThrow(/campaigns\.0\.trigger\.to: .*names only a tier no client moves up to/);
    // Entry is reached up only from Prospect: a first purchase, not an upgrade.
    expect(load({ trigger: { on: 'tier-changed', direction: 'up', to: ['Entry'] } })).toThrow(/campaigns\.0\.trigger\.to: .*names only a tier no client moves up to/);
  });

  it('refuses a stage-entered or rfm-segment-entered trigger the audience leaves out', () => {
    expect(load({ trigger: { on: 'stage-entered', stages: ['sleeping'] }, audience: { stages: ['active'] } })).toThrow(
      /campaigns\.0\.audience\.stages: the trigger \(stage-entered\) fires for clients now sleeping, the audience takes only active: nobody would ever get it/,
    );
    const config = (audience: Record<string, unknown>) => () =>
      parseConfig({
        rfmSegments: [{ name: 'champions', recency: [4, 5], frequency: [4, 5] }, { name: 'lost', recency: [1, 1] }],
        campaigns: { campaigns: [{ id: 'test', template: 'welcome', trigger: { on: 'rfm-segment-entered', segments: ['lost'] }, audience }] },
      });
    expect(config({ rfmSegments: ['champions'] })).toThrow(/campaigns\.0\.audience\.rfmSegments: the trigger \(rfm-segment-entered\) fires for clients now in lost/);
  });

  it('refuses a lapse the days-since-last-order range never meets', () => {
    expect(load({ trigger: { on: 'no-order-for', days: 90 }, audience: { daysSinceLastOrder: { max: 30 } } })).toThrow(
      /campaigns\.0\.audience\.daysSinceLastOrder\.max: the trigger \(no-order-for 90 days\) fires from 90 days without an order, the audience takes at most 30/,
    );
    // The last step's window (30 days by default) is over before 200 days.
    expect(load({ trigger: { on: 'no-order-for', days: [90, 120] }, audience: { daysSinceLastOrder: { min: 200 } } })).toThrow(/daysSinceLastOrder\.min: .*is over by 151 days/);
    // The built-in win-back too: read as no-order-for 60 days.
    expect(() => parseConfig({ campaigns: { campaigns: [{ kind: 'winback', audience: { daysSinceLastOrder: { max: 59 } } }] } })).toThrow(
      /campaign "winback" at campaigns\.campaigns\.0\.audience\.daysSinceLastOrder\.max/,
    );
  });

  it('accepts a trigger and an audience that share someone', () => {
    const accepted: Record<string, unknown>[] = [
      { trigger: { on: 'tier-changed', to: ['VIC', 'Core'] }, audience: { tiers: ['Core'] } },
      { trigger: { on: 'tier-changed', direction: 'up' }, audience: { tiers: ['Entry', 'Potential'] } },
      { trigger: { on: 'stage-entered', stages: ['sleeping', 'at-risk'] }, audience: { stages: ['at-risk'] } },
      { trigger: { on: 'no-order-for', days: 90 }, audience: { daysSinceLastOrder: { min: 100, max: 90 + 30 } } },
      { trigger: { on: 'no-order-for', days: [60, 120] }, audience: { daysSinceLastOrder: { max: 60 } } },
    ];
    for (const campaign of accepted) expect(load(campaign), JSON.stringify(campaign)).not.toThrow();
  });
});

describe('a delay past the cut-off', () => {
  it("refuses a delay at or past the trigger's default cut-off, with the numbers", () => {
    expect(load({ trigger: { on: 'signed-up' }, timing: { delayHours: 96 } })).toThrow(
      /campaigns\.0\.timing\.delayHours: delayHours 96 opens the window at or after the signed-up trigger's default cut-off of 72 hours: no email would ever go/,
    );
    expect(load({ trigger: { on: 'tier-changed', direction: 'up' }, timing: { delayHours: 240 } })).toThrow(/delayHours 240 .* tier-changed trigger's default cut-off of 7 days \(168 hours\)/);
    expect(load({ trigger: { on: 'birthday' }, timing: { delayHours: 30 } })).toThrow(/delayHours 30 .* birthday trigger's default cut-off of 1 days \(24 hours\)/);
    expect(load({ trigger: { on: 'signed-up' }, timing: { delayHours: 72 } })).toThrow(/timing\.delayHours/);
  });

  it('refuses an explicit cut-off at or before the delay, with the numbers', () => {
    expect(load({ trigger: { on: 'signed-up' }, timing: { delayHours: 96, cutoffHours: 96 } })).toThrow(/timing\.cutoffHours: cutoffHours must be more than delayHours \(cutoffHours 96, delayHours 96\)/);
    expect(load({ trigger: { on: 'tier-changed' }, timing: { delayHours: 240, cutoffDays: 10 } })).toThrow(/timing\.cutoffDays: cutoffDays must end after delayHours \(cutoffDays 10 = 240 hours, delayHours 240\)/);
  });

  it('accepts a delay under the cut-off, default or its own', () => {
    for (const campaign of [
      { trigger: { on: 'signed-up' }, timing: { delayHours: 71 } },
      { trigger: { on: 'signed-up' }, timing: { delayHours: 96, cutoffHours: 120 } },
      { trigger: { on: 'tier-changed', direction: 'up' }, timing: { delayHours: 167 } },
      { trigger: { on: 'birthday', daysBefore: 2 }, timing: { delayHours: 30 } },
    ]) {
      expect(load(campaign), JSON.stringify(campaign)).not.toThrow();
    }
  });

  it('refuses the delay exactly when no moment of the trigger has a send window', () => {
    const instant = at('2026-03-02T10:00', SH);
    fc.assert(
      fc.property(triggerArb, fc.integer({ min: 0, max: 24 * 40 }), (rawTrigger, delayHours) => {
        const trigger = triggerSchema.parse(rawTrigger);
        const timing = timingSchema.parse({ delayHours });
        // The birthday month ends at the next month's 1st (the moment's own expiry), not at a count of days.
        fc.pre(!(trigger.on === 'birthday' && trigger.month));
        const atInstant = (trigger.on === 'signed-up' || trigger.on === 'first-order' || trigger.on === 'first-contact') && trigger.daysAfter === undefined;
        const moment: Moment = atInstant ? { instant, naturalKey: '', occasionDay: '2026-03-02', details: {} } : { day: '2026-03-02', naturalKey: '', occasionDay: '2026-03-02', details: {} };
        const hasWindow = momentWindow(moment, trigger, timing, SH) !== undefined;
        const parsed = campaignsConfigSchema.safeParse({ seasons: [{ name: 'spring', starts: '03-01' }], campaigns: [{ id: 'test', template: 'welcome', trigger: rawTrigger, timing: { delayHours } }] });
        const refusedForDelay = !parsed.success && parsed.error.issues.some((issue) => issue.path.join('.') === 'campaigns.0.timing.delayHours');
        expect(refusedForDelay).toBe(!hasWindow);
      }),
    );
  });
});

describe('reasonsNeverSent', () => {
  it('finds nothing in the built-ins', () => {
    for (const campaign of campaignsConfigSchema.parse({}).campaigns) expect(reasonsNeverSent(campaign), campaign.id).toEqual([]);
  });
});

describe('a VIC offer the emails never make', () => {
  it('refuses a coupon, discount or free shipping for VIC clients, like a personal note carrying one', () => {
    for (const VIC of [{ kind: 'coupon', discountPercent: 30 }, { kind: 'free-shipping-coupon', freeShipping: true }, { kind: 'sample', couponCode: 'VIC10' }, { kind: 'none', discountPercent: 5 }]) {
      expect(() => parseConfig({ campaigns: { campaigns: [{ kind: 'winback', offers: { default: { kind: 'coupon', discountPercent: 10 }, VIC } }] } }), JSON.stringify(VIC)).toThrow(
        /campaign "winback" at campaigns\.campaigns\.0\.offers\.VIC: a VIC is never shown a coupon, discount or free shipping/,
      );
    }
  });

  it('accepts a note, a sample or none for VIC, and a coupon by default for the other tiers', () => {
    for (const VIC of [{ kind: 'personal-note' }, { kind: 'sample' }, { kind: 'none' }]) {
      expect(() => parseConfig({ campaigns: { campaigns: [{ kind: 'winback', offers: { default: { kind: 'coupon', discountPercent: 10 }, VIC } }] } })).not.toThrow();
    }
  });
});

describe('seasons that never last a day', () => {
  it('refuses two seasons starting the same day (29 February counting as the 28th), naming both', () => {
    for (const [seasons, message] of [
      [[{ name: 'spring', starts: '03-01' }, { name: 'launch', starts: '03-01' }], /season "launch" starts on 03-01, as "spring" does/],
      [[{ name: 'leap', starts: '02-29' }, { name: 'late-winter', starts: '02-28' }], /season "late-winter" starts on 02-28, as "leap" does/],
    ] as const) {
      expect(() => parseConfig({ campaigns: { seasons } })).toThrow(message);
    }
    expect(() => parseConfig({ campaigns: { seasons: [{ name: 'spring', starts: '03-01' }, { name: 'summer', starts: '06-01' }] } })).not.toThrow();
  });
});
