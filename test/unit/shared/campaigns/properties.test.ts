import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dueOccasions, endedOccasions, sendWindows } from '#shared/campaigns/due.ts';
import { controlDraw, decide, inControlGroup, isQuietTime, nextAllowedTime, type RecentSend } from '#shared/campaigns/policy.ts';
import { quietHoursSchema } from '#shared/campaigns/schema.ts';
import { STAGES, TIERS, type ClientProfile, type SkuPurchase } from '#shared/model.ts';
import { localHour } from '#shared/time.ts';
import { DAY, HOUR, iso } from '#test/support/time.ts';
import { CATALOG, context } from './fixtures.ts';

const ZONES = ['Asia/Shanghai', 'America/New_York', 'Europe/London', 'Asia/Kolkata', 'Australia/Lord_Howe', 'America/Santiago'] as const;
const START = Date.UTC(2025, 10, 1);
const END = Date.UTC(2027, 1, 1);

const wallTime = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 30, 59)).map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);

const contextArb = fc
  .record({
    quietHours: fc.oneof(fc.constant({ start: '21:00', end: '09:00' }), fc.record({ start: wallTime, end: wallTime }).filter((q) => quietHoursSchema.safeParse(q).success)),
    per24h: fc.integer({ min: 1, max: 3 }),
    extra7d: fc.integer({ min: 0, max: 4 }),
    controlShare: fc.constantFrom(0, 0.1, 0.5, 0.9),
    brandTimeZone: fc.constantFrom(...ZONES),
    priorities: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })),
    vicOnlyWinback: fc.boolean(),
  })
  .map((c) =>
    context(
      {
        policy: { quietHours: c.quietHours, frequencyCap: { per24h: c.per24h, per7d: c.per24h + c.extra7d }, controlShare: c.controlShare },
        campaigns: [
          { kind: 'welcome', priority: c.priorities[0] },
          { kind: 'replenishment', priority: c.priorities[1] },
          { kind: 'winback', priority: c.priorities[2], ...(c.vicOnlyWinback ? { audience: { tiers: ['VIC'] } } : {}) },
        ],
      },
      c.brandTimeZone,
    ),
  );

const nowArb = fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2026, 11, 31) });

/** Clients made to be due something often: instants near now. */
const clientArb = (now: number): fc.Arbitrary<ClientProfile> => {
  const near = fc.integer({ min: now - 100 * DAY, max: now + HOUR }).map(iso);
  const purchase: fc.Arbitrary<SkuPurchase> = fc.record({
    lastPurchasedAt: near,
    quantity: fc.integer({ min: 0, max: 3 }),
    purchases: fc.integer({ min: 1, max: 4 }),
    personalCycleDays: fc.option(fc.integer({ min: 1, max: 120 }), { nil: undefined }),
  });
  return fc
    .record({
      customerId: fc.string({ minLength: 1, maxLength: 8 }),
      acceptsMarketing: fc.integer({ min: 0, max: 9 }).map((n) => n < 8),
      tier: fc.constantFrom(...TIERS),
      stage: fc.constantFrom(...STAGES),
      timeZone: fc.option(fc.constantFrom(...ZONES, 'Not/AZone'), { nil: undefined }),
      signedUpAt: fc.option(near, { nil: undefined }),
      firstOrderAt: fc.option(near, { nil: undefined }),
      lastOrderAt: fc.option(near, { nil: undefined }),
      topCategory: fc.option(fc.constantFrom('skin', 'bags'), { nil: undefined }),
      skus: fc.dictionary(fc.constantFrom('CREAM', 'SERUM', 'MIST', 'BAG', 'OTHER'), purchase, { maxKeys: 4 }),
    })
    .map((fields) => {
      const client: ClientProfile = { spend12mMinor: 0, lifetimeSpendMinor: 0, currency: 'USD', orderCount: 1, customerId: fields.customerId, acceptsMarketing: fields.acceptsMarketing, tier: fields.tier, stage: fields.stage, skus: fields.skus };
      for (const key of ['timeZone', 'signedUpAt', 'firstOrderAt', 'lastOrderAt', 'topCategory'] as const) {
        const value = fields[key];
        if (value !== undefined) client[key] = value;
      }
      return client;
    });
};

const scenarioArb = fc.tuple(nowArb, contextArb).chain(([now, ctx]) =>
  fc.record({
    now: fc.constant(now),
    ctx: fc.constant(ctx),
    client: clientArb(now),
    suppressed: fc.boolean(),
    recentSends: fc.array<RecentSend>(
      fc.record({ campaignId: fc.constantFrom('welcome', 'replenishment', 'winback'), sentAt: fc.integer({ min: now - 8 * DAY, max: now }) }),
      { maxLength: 4 },
    ),
  }),
);

describe('campaign properties', () => {
  it('lists only occasions due now, with unique keys', () => {
    fc.assert(
      fc.property(scenarioArb, ({ now, ctx, client }) => {
        const due = dueOccasions(client, CATALOG, now, ctx);
        for (const o of due) {
          expect(o.dueAt).toBeLessThanOrEqual(now);
          expect(now).toBeLessThan(o.expiresAt);
          expect(o.customerId).toBe(client.customerId);
        }
        expect(new Set(due.map((o) => o.occasionKey)).size).toBe(due.length);
      }),
      { numRuns: 1000 },
    );
  });

  it('gives a client the exports no longer have no occasion and no send window, whatever else their profile says', () => {
    fc.assert(
      fc.property(scenarioArb, fc.constantFrom('2025-06-01', '2026-11-09'), ({ now, ctx, client }, absentSince) => {
        const absent = { ...client, absentSince };
        expect(dueOccasions(absent, CATALOG, now, ctx)).toEqual([]);
        expect(endedOccasions(absent, CATALOG, now - 400 * DAY, now, ctx)).toEqual([]);
        expect(sendWindows(absent, CATALOG, ctx, { from: now - 400 * DAY, to: now + 400 * DAY })).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('never sends twice to one client in one call, and never in quiet hours', () => {
    let sends = 0;
    fc.assert(
      fc.property(scenarioArb, ({ now, ctx, client, suppressed, recentSends }) => {
        const due = dueOccasions(client, CATALOG, now, ctx);
        const decided = decide({ profile: client, suppressed, recentSends }, due, now, ctx);
        expect(decided.map((d) => d.occasion)).toEqual(due);
        const going = decided.filter((d) => d.decision.outcome === 'send' || d.decision.outcome === 'held-out');
        expect(going.length).toBeLessThanOrEqual(1);
        const zone = client.timeZone !== undefined && client.timeZone !== 'Not/AZone' ? client.timeZone : ctx.brandTimeZone;
        for (const { occasion, decision } of decided) {
          if (decision.outcome === 'send') {
            sends++;
            expect(isQuietTime(now, zone, ctx.campaigns.policy.quietHours)).toBe(false);
            expect(client.acceptsMarketing && !suppressed).toBe(true);
            if (ctx.campaigns.policy.quietHours.start === '21:00' && ctx.campaigns.policy.quietHours.end === '09:00') {
              expect(localHour(now, zone)).toBeGreaterThanOrEqual(9);
              expect(localHour(now, zone)).toBeLessThan(21);
            }
          }
          if (decision.outcome === 'deferred') {
            expect(decision.until).toBeGreaterThan(now);
            expect(decision.until).toBe(nextAllowedTime(now, zone, ctx.campaigns.policy.quietHours));
          }
          if (decision.outcome === 'held-out') expect(inControlGroup(client.customerId, occasion.campaignId, ctx.campaigns.policy.controlShare)).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
    // The generator must actually reach the interesting case.
    expect(sends).toBeGreaterThan(20);
  });

  it('decides the same way every time (pure)', () => {
    fc.assert(
      fc.property(scenarioArb, ({ now, ctx, client, suppressed, recentSends }) => {
        const due = dueOccasions(client, CATALOG, now, ctx);
        expect(dueOccasions(client, CATALOG, now, ctx)).toEqual(due);
        expect(decide({ profile: client, suppressed, recentSends }, due, now, ctx)).toEqual(decide({ profile: client, suppressed, recentSends }, due, now, ctx));
      }),
      { numRuns: 300 },
    );
  });

  it('makes control membership a pure function of client, campaign and share', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.double({ min: 0, max: 1, noNaN: true }), (customerId, campaignId, s) => {
        const first = inControlGroup(customerId, campaignId, s);
        expect(inControlGroup(customerId, campaignId, s)).toBe(first);
        expect(first).toBe(controlDraw(customerId, campaignId) < s);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps a sent welcome, replenishment or win-back inside its send window across the hours', () => {
    // Walking a client hour by hour through a year: each occasion key is due over one contiguous window.
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), fc.integer({ min: START, max: END - 200 * DAY }), (zone, t0) => {
        // The three timed campaigns this property is about (the plays have their own).
        const ctx = context({ campaigns: [{ kind: 'welcome' }, { kind: 'replenishment' }, { kind: 'winback' }] }, zone);
        const client: ClientProfile = {
          customerId: 'walk',
          acceptsMarketing: true,
          tier: 'Core',
          stage: 'active',
          spend12mMinor: 0,
          lifetimeSpendMinor: 0,
          currency: 'USD',
          orderCount: 1,
          signedUpAt: iso(t0),
          firstOrderAt: iso(t0),
          lastOrderAt: iso(t0),
          skus: { SERUM: { lastPurchasedAt: iso(t0), quantity: 1, purchases: 1 } },
        };
        const seen = new Map<string, { first: number; last: number; count: number }>();
        for (let now = t0 - DAY; now < t0 + 100 * DAY; now += HOUR) {
          for (const o of dueOccasions(client, CATALOG, now, ctx)) {
            const s = seen.get(o.occasionKey) ?? { first: now, last: now, count: 0 };
            s.last = now;
            s.count++;
            seen.set(o.occasionKey, s);
          }
        }
        expect([...seen.keys()].sort()).toEqual(['replenishment#SERUM#' + iso(t0), 'welcome', 'winback#' + iso(t0)].sort());
        for (const s of seen.values()) expect(s.count).toBe((s.last - s.first) / HOUR + 1);
        expect(seen.get('welcome')?.count).toBe(72);
      }),
      { numRuns: 20 },
    );
  });
});
