import fc from 'fast-check';
import type { CampaignContext } from '#shared/campaigns/due.ts';
import { campaignsConfigSchema, type CampaignDefinitionInput } from '#shared/campaigns/schema.ts';
import { ONCE_PER } from '#shared/campaigns/vocabulary.ts';
import { CHURN_RISKS, STAGES, TIERS, type ClientProfile, type SkuPurchase } from '#shared/model.ts';
import { DAY, iso } from '#test/support/time.ts';
import { context } from './fixtures.ts';

/** Generators of vocabulary campaigns and of clients with every field a trigger reads, around an instant. */

export const ZONES = ['Asia/Shanghai', 'America/New_York', 'Europe/London', 'Asia/Kolkata', 'Australia/Lord_Howe', 'America/Santiago'] as const;
export const SEASONS = [
  { name: 'spring', starts: '03-01' },
  { name: 'autumn', starts: '09-01' },
];
const SEGMENTS = ['champions', 'loyal', 'at-risk', 'lost', 'new'] as const;

export const triggerArb = fc.oneof(
  fc.record({ on: fc.constantFrom('signed-up', 'first-order', 'first-contact'), daysAfter: fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }) }),
  fc.record({ on: fc.constant('any-order'), daysAfter: fc.integer({ min: 0, max: 30 }) }),
  fc.record({ on: fc.constant('product-runs-out'), daysBefore: fc.integer({ min: 1, max: 20 }), replenishableCategories: fc.constantFrom([], ['fragrance']), predictedFallback: fc.boolean() }),
  fc.record({ on: fc.constant('no-order-for'), days: fc.uniqueArray(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 3 }).map((d) => d.sort((a, b) => a - b)) }),
  fc.record({ on: fc.constant('birthday'), daysBefore: fc.integer({ min: 0, max: 30 }) }),
  // The birthday month (the birthday play) and the first order of a long-standing subscriber (first-purchase-thanks).
  fc.record({ on: fc.constant('birthday'), daysBefore: fc.integer({ min: 0, max: 10 }), month: fc.constant(true) }),
  fc.record({ on: fc.constant('first-order'), daysAfter: fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }), signedUpAtLeastHoursBefore: fc.constantFrom(1, 72, 24 * 30) }),
  fc.record({ on: fc.constant('tier-changed'), direction: fc.constantFrom('up', 'down', 'any'), daysAfter: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ on: fc.constant('stage-entered'), stages: fc.subarray([...STAGES], { minLength: 1 }), daysAfter: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ on: fc.constant('rfm-segment-entered'), segments: fc.subarray([...SEGMENTS], { minLength: 1 }), daysAfter: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ on: fc.constant('season-starts'), daysBefore: fc.integer({ min: 0, max: 20 }) }),
  fc.record({ on: fc.constant('predicted-next-order'), daysBefore: fc.integer({ min: 1, max: 14 }) }),
);

const timingArb = fc
  .record({
    delayHours: fc.constantFrom(0, 0, 9, 30),
    cutoff: fc.oneof(fc.constant({}), fc.integer({ min: 31, max: 200 }).map((h) => ({ cutoffHours: h })), fc.integer({ min: 2, max: 40 }).map((d) => ({ cutoffDays: d }))),
    oncePer: fc.constantFrom(...ONCE_PER),
  })
  .map(({ delayHours, cutoff, oncePer }) => ({ delayHours, ...cutoff, oncePer }));

/** One to three custom campaigns (ids c0, c1, c2). */
export const customContextArb: fc.Arbitrary<CampaignContext> = fc
  .record({
    campaigns: fc.array(fc.record({ trigger: triggerArb, timing: timingArb, priority: fc.integer({ min: 0, max: 5 }) }), { minLength: 1, maxLength: 3 }),
    zone: fc.constantFrom(...ZONES),
  })
  .map(({ campaigns, zone }) => ({
    input: { seasons: SEASONS, campaigns: campaigns.map((c, i) => ({ id: `c${i}`, template: 'winback', ...c }) as CampaignDefinitionInput) },
    zone,
  }))
  // Leave out what the configuration refuses (a delay past the trigger's default cut-off: reasonsNeverSent).
  .filter(({ input }) => campaignsConfigSchema.safeParse(input).success)
  .map(({ input, zone }) => context(input, zone));

/** Clients with instants and days around `now`, so that windows open, close and lie ahead of it. */
export function fullClientArb(now: number): fc.Arbitrary<ClientProfile> {
  const near = fc.integer({ min: now - 400 * DAY, max: now + 10 * DAY }).map(iso);
  const nearDay = fc.integer({ min: now - 60 * DAY, max: now + 5 * DAY }).map((t) => iso(t).slice(0, 10));
  const purchase: fc.Arbitrary<SkuPurchase> = fc.record({
    lastPurchasedAt: near,
    quantity: fc.integer({ min: 0, max: 3 }),
    purchases: fc.integer({ min: 1, max: 4 }),
    personalCycleDays: fc.option(fc.integer({ min: 1, max: 120 }), { nil: undefined }),
  });
  const birthday = fc.oneof(
    fc.integer({ min: Date.UTC(1960, 0, 1), max: Date.UTC(2005, 11, 31) }).map((t) => iso(t).slice(0, 10)),
    fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2000, 11, 31) }).map((t) => iso(t).slice(5, 10)),
    fc.integer({ min: 1, max: 12 }).map((m) => `--${String(m).padStart(2, '0')}`),
    fc.integer({ min: 1, max: 12 }).map((m) => `1990-${String(m).padStart(2, '0')}`),
  );
  return fc
    .record({
      tier: fc.constantFrom(...TIERS),
      stage: fc.constantFrom(...STAGES),
      timeZone: fc.option(fc.constantFrom(...ZONES, 'Not/AZone'), { nil: undefined }),
      signedUpAt: fc.option(near, { nil: undefined }),
      firstOrderAt: fc.option(near, { nil: undefined }),
      lastOrderAt: fc.option(near, { nil: undefined }),
      birthday: fc.option(birthday, { nil: undefined }),
      predictedNextOrderAt: fc.option(nearDay, { nil: undefined }),
      previousTier: fc.option(fc.constantFrom(...TIERS), { nil: undefined }),
      tierChangedOn: nearDay,
      stageEnteredOn: fc.option(nearDay, { nil: undefined }),
      segment: fc.option(fc.constantFrom(...SEGMENTS), { nil: undefined }),
      rfmSegmentEnteredOn: fc.option(nearDay, { nil: undefined }),
      churnRisk: fc.constantFrom(...CHURN_RISKS),
      skus: fc.dictionary(fc.constantFrom('CREAM', 'SERUM', 'MIST', 'BAG', 'PERFUME', 'OTHER'), purchase, { maxKeys: 3 }),
    })
    .map((f) => {
      const { timeZone, signedUpAt, firstOrderAt, lastOrderAt, birthday, stageEnteredOn, rfmSegmentEnteredOn } = f;
      // Absent fields are left out, as the store gives them.
      const optional = Object.fromEntries(Object.entries({ timeZone, signedUpAt, firstOrderAt, lastOrderAt, birthday, stageEnteredOn, rfmSegmentEnteredOn }).filter(([, v]) => v !== undefined));
      const client: ClientProfile = { customerId: 'c1', acceptsMarketing: true, tier: f.tier, stage: f.stage, spend12mMinor: 0, lifetimeSpendMinor: 0, currency: 'USD', orderCount: 1, skus: f.skus, ...optional };
      if (f.previousTier !== undefined) Object.assign(client, { previousTier: f.previousTier, tierChangedOn: f.tierChangedOn });
      if (f.segment !== undefined) client.rfm = { r: 3, f: 3, m: 3, segment: f.segment };
      client.clv = {
        probabilityAlive: 0.8,
        expectedPurchases90d: 1,
        expectedPurchases365d: 3,
        expectedAverageOrderValueMinor: 10_000,
        clv12mMinor: 30_000,
        rising: false,
        churnRisk: f.churnRisk,
        ...(f.predictedNextOrderAt === undefined ? {} : { predictedNextOrderAt: f.predictedNextOrderAt }),
      };
      return client;
    });
}
