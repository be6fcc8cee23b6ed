import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  dueDay,
  dueDaysBetween,
  dueIndexQueryFrom,
  dueSelection,
  longestWindowMs,
  nextDueAt,
  withNextDue,
  type DueIndexing,
} from '#shared/campaigns/due-index.ts';
import { dueOccasions, endedOccasions, sendWindows, type CampaignContext } from '#shared/campaigns/due.ts';
import { TIERS, type ClientProfile, type SkuPurchase } from '#shared/model.ts';
import { expirySince } from '#shared/sender/expiry.ts';
import { DAY, HOUR, iso } from '#test/support/time.ts';
import { CATALOG, context } from './fixtures.ts';

/**
 * The due index finds every client the hourly run must see: whoever has an occasion due at h, or
 * one whose window closed since the run's expiry start (the expiry lookback, or back to the last
 * indexed run r after a longer outage), holds a nextDueAt (computed at r <= h) inside the range the
 * run at h reads; and a value the run does not read is still right at h, so the index stays
 * correct from run to run.
 */

const ZONES = ['Asia/Shanghai', 'America/New_York', 'Europe/London', 'Asia/Kolkata', 'Australia/Lord_Howe', 'America/Santiago'] as const;

const contextArb: fc.Arbitrary<CampaignContext> = fc
  .record({
    cutoffHours: fc.integer({ min: 1, max: 240 }),
    daysBeforeRunOut: fc.integer({ min: 1, max: 40 }),
    afterDays: fc.integer({ min: 1, max: 90 }),
    windowDays: fc.integer({ min: 1, max: 45 }),
    enabled: fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()),
    zone: fc.constantFrom(...ZONES),
  })
  .map((c) =>
    context(
      {
        campaigns: [
          { kind: 'welcome', enabled: c.enabled[0], timing: { targetHours: 1, cutoffHours: c.cutoffHours } },
          { kind: 'replenishment', enabled: c.enabled[1], timing: { daysBeforeRunOut: c.daysBeforeRunOut } },
          { kind: 'winback', enabled: c.enabled[2], timing: { afterDays: c.afterDays, windowDays: c.windowDays } },
        ],
      },
      c.zone,
    ),
  );

/** Clients with instants around `now`, so that windows open, close and lie ahead of it. */
function clientArb(now: number): fc.Arbitrary<ClientProfile> {
  const near = fc.integer({ min: now - 150 * DAY, max: now + 10 * DAY }).map(iso);
  const purchase: fc.Arbitrary<SkuPurchase> = fc.record({
    lastPurchasedAt: near,
    quantity: fc.integer({ min: 0, max: 3 }),
    purchases: fc.integer({ min: 1, max: 4 }),
    personalCycleDays: fc.option(fc.integer({ min: 1, max: 120 }), { nil: undefined }),
  });
  const predicted = fc.integer({ min: now - 60 * DAY, max: now + 60 * DAY }).map((t) => iso(t).slice(0, 10));
  return fc
    .record({
      tier: fc.constantFrom(...TIERS),
      timeZone: fc.option(fc.constantFrom(...ZONES, 'Not/AZone'), { nil: undefined }),
      signedUpAt: fc.option(near, { nil: undefined }),
      firstOrderAt: fc.option(near, { nil: undefined }),
      lastOrderAt: fc.option(near, { nil: undefined }),
      predictedNextOrderAt: fc.option(predicted, { nil: undefined }),
      skus: fc.dictionary(fc.constantFrom('CREAM', 'SERUM', 'MIST', 'BAG', 'OTHER'), purchase, { maxKeys: 3 }),
    })
    .map((fields) => {
      const client: ClientProfile = { customerId: 'c1', acceptsMarketing: true, tier: fields.tier, stage: 'active', spend12mMinor: 0, lifetimeSpendMinor: 0, currency: 'USD', orderCount: 1, skus: fields.skus };
      for (const key of ['timeZone', 'signedUpAt', 'firstOrderAt', 'lastOrderAt'] as const) {
        const value = fields[key];
        if (value !== undefined) client[key] = value;
      }
      if (fields.predictedNextOrderAt !== undefined) {
        client.clv = { probabilityAlive: 0.8, expectedPurchases90d: 1, expectedPurchases365d: 3, expectedAverageOrderValueMinor: 10_000, clv12mMinor: 30_000, rising: false, churnRisk: 'low', predictedNextOrderAt: fields.predictedNextOrderAt };
      }
      return client;
    });
}

/** A client, the configuration, the last indexed run r and a later run h (up to 12 days on). */
const scenarioArb = fc
  .tuple(fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2026, 11, 31) }), contextArb)
  .chain(([r, ctx]) =>
    fc.record({
      r: fc.constant(r),
      ctx: fc.constant(ctx),
      h: fc.integer({ min: r, max: r + 12 * DAY }),
      lookbackHours: fc.integer({ min: 1, max: 24 * 31 }),
      client: clientArb(r),
    }),
  );

const indexingAt = (ctx: CampaignContext, lookbackHours: number, indexedAt: number): DueIndexing => ({ catalog: CATALOG, context: ctx, lookbackMs: lookbackHours * HOUR, indexedAt });

describe('the due index', () => {
  it('holds every client due (or just expired, however long the outage since r) at h inside the range the run at h reads, whatever earlier indexed run computed it', () => {
    let neededCases = 0;
    fc.assert(
      fc.property(scenarioArb, ({ r, h, ctx, lookbackHours, client }) => {
        const lookbackMs = lookbackHours * HOUR;
        const endedSince = expirySince(h, lookbackMs, r, 400 * DAY);
        const needed = dueOccasions(client, CATALOG, h, ctx).length > 0 || endedOccasions(client, CATALOG, endedSince, h, ctx).length > 0;
        if (!needed) return;
        neededCases++;
        const value = nextDueAt(client, indexingAt(ctx, lookbackHours, r));
        expect(value).toBeDefined();
        const from = dueIndexQueryFrom(r, ctx.campaigns, lookbackMs);
        expect(value).toBeGreaterThanOrEqual(from);
        expect(value).toBeLessThanOrEqual(h);
        // The partition of that value is among the days the run queries.
        expect(dueDaysBetween(from, h)).toContain(dueDay(value as number));
      }),
      { numRuns: 3000 },
    );
    // The generator must make the property bite: about a fifth of the scenarios have something to send or expire.
    expect(neededCases).toBeGreaterThan(300);
  });

  it('a value the run at h does not read (ahead of h, or absent) is already the value as of h: nothing goes stale unread', () => {
    fc.assert(
      fc.property(scenarioArb, ({ r, h, ctx, lookbackHours, client }) => {
        const atR = nextDueAt(client, indexingAt(ctx, lookbackHours, r));
        const atH = nextDueAt(client, indexingAt(ctx, lookbackHours, h));
        if (atR === undefined) expect(atH).toBeUndefined();
        else if (atR > h) expect(atH).toBe(atR);
        else expect(atR).toBeGreaterThanOrEqual(dueIndexQueryFrom(r, ctx.campaigns, lookbackHours * HOUR));
      }),
      { numRuns: 3000 },
    );
  });

  it('no send window is longer than longestWindowMs (the query range rests on it)', () => {
    fc.assert(
      fc.property(scenarioArb, ({ ctx, client }) => {
        for (const window of sendWindows(client, CATALOG, ctx)) expect(window.expiresAt - window.dueAt).toBeLessThanOrEqual(longestWindowMs(ctx.campaigns));
      }),
      { numRuns: 3000 },
    );
  });

  it('queries every UTC day between two instants, both ends included', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2027, 0, 1) }), fc.integer({ min: 0, max: 40 * DAY }), fc.double({ min: 0, max: 1, noNaN: true }), (from, span, share) => {
        const days = dueDaysBetween(from, from + span);
        expect(days[0]).toBe(dueDay(from));
        expect(days.at(-1)).toBe(dueDay(from + span));
        expect(days).toContain(dueDay(from + Math.floor(span * share)));
        expect(new Set(days).size).toBe(days.length);
      }),
    );
  });

  it('leaves a client with nothing left to send out of the index, and drops stale attributes', () => {
    const ctx = context();
    const long = Date.UTC(2026, 0, 1);
    const client: ClientProfile = { customerId: 'gone', tier: 'Entry', stage: 'churned', spend12mMinor: 0, lifetimeSpendMinor: 0, currency: 'USD', orderCount: 1, skus: {}, firstOrderAt: iso(long), lastOrderAt: iso(long) };
    // Past every window of the built-ins, the recall's last step (365 days, open 30) included.
    const later = indexingAt(ctx, 72, long + 400 * DAY);
    expect(withNextDue({ ...client, nextDueAt: 1, nextDueDay: '1970-01-01' }, later)).toEqual(client);
    const early = indexingAt(ctx, 72, long);
    // The welcome (first order) is the earliest window still open.
    expect(withNextDue(client, early)).toEqual({ ...client, nextDueAt: long, nextDueDay: '2026-01-01' });
  });

  it('is read from the last indexed run on; a first run, a changed configuration or catalogue, an unfinished rebuild and a backfill read every profile', () => {
    const { campaigns } = context();
    const state = { lastRunAt: Date.UTC(2026, 5, 1, 10), fingerprint: 'f1' };
    const lookback = 72 * HOUR;
    expect(dueSelection(undefined, 'f1', state.lastRunAt, campaigns, lookback, [])).toEqual({ mode: 'full-scan', reason: 'no-index-yet', reindex: true });
    expect(dueSelection(state, 'f2', state.lastRunAt + HOUR, campaigns, lookback, [])).toEqual({ mode: 'full-scan', reason: 'configuration-or-catalogue-changed', reindex: true });
    expect(dueSelection(state, 'f1', state.lastRunAt - HOUR, campaigns, lookback, [])).toEqual({ mode: 'full-scan', reason: 'earlier-than-last-indexed-run', reindex: false });
    // A run at 14:00 died half-way through re-indexing: 12:00 cannot trust the index, 14:00 again can.
    const died = { ...state, reindexedUpTo: state.lastRunAt + 4 * HOUR };
    expect(dueSelection(died, 'f1', state.lastRunAt + 2 * HOUR, campaigns, lookback, [])).toMatchObject({ mode: 'full-scan', reason: 'earlier-than-last-indexed-run' });
    expect(dueSelection(died, 'f1', state.lastRunAt + 4 * HOUR, campaigns, lookback, [])).toMatchObject({ mode: 'index', from: state.lastRunAt - longestWindowMs(campaigns) - lookback });
    // A rebuild under f2 died half-way, some values written under it: neither f2 nor f1 (a rollback) may trust the index.
    const rebuildDied = { ...died, rebuildingUnder: 'f2' };
    for (const fingerprint of ['f1', 'f2']) {
      expect(dueSelection(rebuildDied, fingerprint, state.lastRunAt + 5 * HOUR, campaigns, lookback, [])).toEqual({ mode: 'full-scan', reason: 'rebuild-unfinished', reindex: true });
    }
    expect(dueSelection(state, 'f1', state.lastRunAt + HOUR, campaigns, lookback, [])).toEqual({
      mode: 'index',
      from: state.lastRunAt - longestWindowMs(campaigns) - lookback,
      to: state.lastRunAt + HOUR,
    });
    // Built-in timing: the birthday month (at most 31 days, +1 for a DST day) is the longest window, the win-back's 30 days next.
    expect(longestWindowMs(campaigns)).toBe(32 * DAY);
    expect(longestWindowMs(context({ campaigns: [{ kind: 'welcome' }, { kind: 'replenishment' }, { kind: 'winback' }] }).campaigns)).toBe(31 * DAY);
  });

  it("is read from the oldest night writer's floor when one is older than the last indexed run", () => {
    const { campaigns } = context();
    const state = { lastRunAt: Date.UTC(2026, 5, 1, 10), fingerprint: 'f1' };
    const lookback = 72 * HOUR;
    const span = longestWindowMs(campaigns) + lookback;
    const at = state.lastRunAt + HOUR;
    // A night read lastRunAt at 08:00 and 09:00 (two writers), the hours recorded 10:00 while it wrote.
    expect(dueSelection(state, 'f1', at, campaigns, lookback, [state.lastRunAt - HOUR, state.lastRunAt - 2 * HOUR])).toEqual({ mode: 'index', from: state.lastRunAt - 2 * HOUR - span, to: at });
    // A floor noted at the last indexed run (or later) reads nothing more.
    expect(dueSelection(state, 'f1', at, campaigns, lookback, [state.lastRunAt])).toEqual({ mode: 'index', from: state.lastRunAt - span, to: at });
    // Floors change nothing of when every profile is read.
    expect(dueSelection(state, 'f1', state.lastRunAt - HOUR, campaigns, lookback, [state.lastRunAt - 3 * HOUR])).toEqual({ mode: 'full-scan', reason: 'earlier-than-last-indexed-run', reindex: false });
    expect(dueSelection(state, 'f2', at, campaigns, lookback, [state.lastRunAt - 3 * HOUR])).toEqual({ mode: 'full-scan', reason: 'configuration-or-catalogue-changed', reindex: true });
  });
});
