import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dueDay, dueDaysBetween, dueIndexQueryFrom, nextDueAt, type DueIndexing, type LedgerView } from '#shared/campaigns/due-index.ts';
import { clientTimeZone, dueOccasions, endedOccasions, judgedProfile, sendWindows, type CampaignContext } from '#shared/campaigns/due.ts';
import { inAudience } from '#shared/campaigns/policy.ts';
import { campaignsConfigSchema, type CampaignDefinitionInput } from '#shared/campaigns/schema.ts';
import { TIERS, type ClientProfile } from '#shared/model.ts';
import type { CategoryAffinity } from '#shared/segments/category-affinity.ts';
import { expiryReason, expirySince } from '#shared/sender/expiry.ts';
import { LEDGER_STATUSES, isClaimable, ledgerViewOf, type LedgerStatus } from '#shared/store/ledger-store.ts';
import { DAY, HOUR, iso } from '#test/support/time.ts';
import { CATALOG, context } from './fixtures.ts';
import { fullClientArb, SEASONS, ZONES } from './vocabulary-arbitraries.ts';

/**
 * The due index given the client's send ledger (due-index.ts): an hourly run that read the ledger
 * leaves out of the client's value the windows no later run acts on (an occasion the ledger ends,
 * one out of the audience for the rest of its window with no entry, one with nothing to show).
 * Whatever the ledger holds at the run r that computed the value, and whatever a person releases
 * by hand before the run h (a maybe-sent or stale claim set back to deferred), the run at h reads
 * every client it has something to do for: an occasion to decide or an expiry to record.
 */

const START = Date.UTC(2026, 0, 1);
const END = Date.UTC(2026, 11, 31);

/** The affinity the sender reads (the last night's); the index never weighs it. */
const AFFINITY: CategoryAffinity = { buyers: { skin: 30, bags: 25 }, alsoBought: { skin: { fragrance: 9, bags: 4 }, bags: { skin: 12 } } };

const triggerArb = fc.oneof(
  fc.record({ on: fc.constantFrom('signed-up', 'first-order'), daysAfter: fc.integer({ min: 0, max: 10 }) }),
  fc.record({ on: fc.constant('any-order'), daysAfter: fc.integer({ min: 0, max: 30 }) }),
  fc.record({ on: fc.constant('product-runs-out'), daysBefore: fc.integer({ min: 1, max: 20 }), replenishableCategories: fc.constantFrom([], ['fragrance']), predictedFallback: fc.boolean() }),
  fc.record({ on: fc.constant('no-order-for'), days: fc.uniqueArray(fc.integer({ min: 1, max: 120 }), { minLength: 1, maxLength: 3 }).map((d) => d.sort((a, b) => a - b)) }),
  fc.record({ on: fc.constant('season-starts'), daysBefore: fc.integer({ min: 0, max: 20 }), boughtLastYear: fc.boolean() }),
  fc.record({ on: fc.constant('birthday'), daysBefore: fc.integer({ min: 0, max: 30 }) }),
);

const productsArb = fc.oneof(
  fc.constant({ from: 'none' as const }),
  fc.record({ from: fc.constantFrom('trigger', 'top-category', 'cross-category', 'last-season'), required: fc.boolean() }),
  fc.record({ from: fc.constant('unbought-category' as const), categories: fc.constantFrom(['skin'], ['bags', 'fragrance']), required: fc.boolean() }),
);

/** Audiences that hold for some clients and instants and not for others (or for all): tiers, and a range of days since the last order. */
const daysRangeArb = fc.oneof(
  fc.record({ min: fc.integer({ min: 0, max: 90 }) }),
  fc.record({ max: fc.integer({ min: 0, max: 90 }) }),
  fc.tuple(fc.integer({ min: 0, max: 90 }), fc.integer({ min: 0, max: 30 })).map(([min, span]) => ({ min, max: min + span })),
);
const audienceArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant({}) },
  { weight: 1, arbitrary: fc.record({ tiers: fc.subarray([...TIERS], { minLength: 1 }) }) },
  { weight: 1, arbitrary: fc.record({ daysSinceLastOrder: daysRangeArb }) },
  { weight: 1, arbitrary: fc.record({ tiers: fc.subarray([...TIERS], { minLength: 1 }), daysSinceLastOrder: daysRangeArb }) },
);

const contextArb: fc.Arbitrary<CampaignContext> = fc
  .record({
    campaigns: fc.array(
      fc.record({
        trigger: triggerArb,
        timing: fc.record({ cutoffDays: fc.integer({ min: 2, max: 30 }) }),
        audience: audienceArb,
        products: productsArb,
        priority: fc.integer({ min: 0, max: 5 }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    zone: fc.constantFrom(...ZONES),
  })
  .map(({ campaigns, zone }) => ({ input: { seasons: SEASONS, campaigns: campaigns.map((c, i) => ({ id: `c${i}`, template: 'winback', ...c }) as CampaignDefinitionInput) }, zone }))
  // Leave out what the configuration refuses (an audience the trigger never meets: reasonsNeverSent).
  .filter(({ input }) => campaignsConfigSchema.safeParse(input).success)
  .map(({ input, zone }) => context(input, zone));

/** Clients with a top category, and SKU categories a top-category email can show. */
function clientArb(now: number): fc.Arbitrary<ClientProfile> {
  return fc.tuple(fullClientArb(now), fc.option(fc.constantFrom('skin', 'bags'), { nil: undefined }), fc.boolean()).map(([client, topCategory, categorised]) => {
    const skus = categorised ? Object.fromEntries(Object.entries(client.skus).map(([sku, p]) => [sku, { ...p, ...(CATALOG.get(sku)?.category ? { category: CATALOG.get(sku)?.category } : {}) }])) : client.skus;
    return { ...client, skus, ...(topCategory === undefined ? {} : { topCategory }) };
  });
}

const statusArb: fc.Arbitrary<LedgerStatus | undefined> = fc.option(fc.constantFrom(...LEDGER_STATUSES), { nil: undefined, freq: 2 });

const scenarioArb = fc.integer({ min: START, max: END }).chain((r) =>
  fc.record({
    r: fc.constant(r),
    ctx: contextArb,
    // Mostly within a few days of r (more windows still open at h), up to 40 days on.
    h: fc.oneof(fc.integer({ min: r, max: r + 3 * DAY }), fc.integer({ min: r, max: r + 40 * DAY })),
    lookbackHours: fc.integer({ min: 1, max: 24 * 10 }),
    client: clientArb(r),
    // The ledger at r, by the client's occasion keys in order, and which of them a person releases before h.
    statuses: fc.array(statusArb, { minLength: 12, maxLength: 12 }),
    released: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
  }),
);

/**
 * The ledger at r and at h. At r it holds entries of the windows opened by then (a run writes one
 * only for an occasion due or ended). Until a run reads the client again, only a person changes it:
 * a maybe-sent or stale claim set back to deferred.
 */
function ledgers(client: ClientProfile, ctx: CampaignContext, r: number, statuses: readonly (LedgerStatus | undefined)[], released: readonly boolean[]) {
  const opened = sendWindows(client, CATALOG, ctx, { from: r - 400 * DAY, to: r }).filter((w) => w.dueAt <= r);
  const keys = [...new Set(opened.map((w) => w.occasionKey))].sort();
  const atR = new Map<string, LedgerStatus>();
  const atH = new Map<string, LedgerStatus>();
  keys.forEach((key, i) => {
    const status = statuses[i % statuses.length];
    if (status === undefined) return;
    atR.set(key, status);
    atH.set(key, released[i % released.length] && (status === 'maybe-sent' || status === 'claimed') ? 'deferred' : status);
  });
  return { atR, atH };
}

const view = (ledger: ReadonlyMap<string, LedgerStatus>): LedgerView => ledgerViewOf([...ledger].map(([occasionKey, status]) => ({ occasionKey, status })));

/** Whether the hourly run at h (the last indexed run r) has something to do for the client: an occasion to decide (not settled, in its audience) or an expiry to record. */
function runNeeds(client: ClientProfile, ctx: CampaignContext, r: number, h: number, lookbackMs: number, ledger: ReadonlyMap<string, LedgerStatus>): boolean {
  const senderContext = { ...ctx, categoryAffinity: AFFINITY };
  const zone = clientTimeZone(client, ctx.brandTimeZone);
  const campaignOf = (id: string) => ctx.campaigns.campaigns.find((c) => c.id === id);
  const decides = dueOccasions(client, CATALOG, h, senderContext).some((o) => {
    const campaign = campaignOf(o.campaignId);
    // By the tier the occasion is judged by (a lapse's step: the higher of the one held when it came due and the one of the hour), as the hour asks.
    return isClaimable(ledger.get(o.occasionKey)) && campaign !== undefined && inAudience(campaign, judgedProfile(client, o), h, zone, CATALOG);
  });
  if (decides) return true;
  return endedOccasions(client, CATALOG, expirySince(h, lookbackMs, r, 400 * DAY), h, senderContext).some((o) => {
    const status = ledger.get(o.occasionKey);
    return expiryReason(o, status === undefined ? undefined : { status }, client, false, ctx.campaigns, ctx.brandTimeZone, CATALOG) !== undefined;
  });
}

const indexingAt = (ctx: CampaignContext, lookbackMs: number, indexedAt: number): DueIndexing => ({ catalog: CATALOG, context: ctx, lookbackMs, indexedAt });

describe('the due index given the send ledger', () => {
  it('holds every client the run at h has something to do for inside the range it reads, whatever the ledger held at r and was released since', () => {
    let neededCases = 0;
    let leftOut = 0;
    fc.assert(
      fc.property(scenarioArb, ({ r, h, ctx, lookbackHours, client, statuses, released }) => {
        const lookbackMs = lookbackHours * HOUR;
        const { atR, atH } = ledgers(client, ctx, r, statuses, released);
        const withLedger = nextDueAt(client, indexingAt(ctx, lookbackMs, r), view(atR));
        const without = nextDueAt(client, indexingAt(ctx, lookbackMs, r));
        // The ledger only ever leaves windows out.
        if (without === undefined) expect(withLedger).toBeUndefined();
        else if (withLedger !== undefined) expect(withLedger).toBeGreaterThanOrEqual(without);
        if (withLedger !== without) leftOut++;
        if (!runNeeds(client, ctx, r, h, lookbackMs, atH)) return;
        neededCases++;
        const from = dueIndexQueryFrom(r, ctx.campaigns, lookbackMs);
        for (const value of [withLedger, without]) {
          const read = value !== undefined && value >= from && value <= h && dueDaysBetween(from, h).includes(dueDay(value));
          expect(read, `nextDueAt ${value} read by the run at ${iso(h)} (from ${iso(from)})`).toBe(true);
        }
      }),
      { numRuns: 4000 },
    );
    // The generator must make both halves bite: clients the run needs (about 4%), and values the ledger, the audience or the products change (about 20%).
    expect(neededCases).toBeGreaterThan(100);
    expect(leftOut).toBeGreaterThan(400);
  });

  it('a value the run at h does not read is already the value as of h, under the same ledger', () => {
    fc.assert(
      fc.property(scenarioArb, ({ r, h, ctx, lookbackHours, client, statuses, released }) => {
        const lookbackMs = lookbackHours * HOUR;
        const ledger = view(ledgers(client, ctx, r, statuses, released).atR);
        const atR = nextDueAt(client, indexingAt(ctx, lookbackMs, r), ledger);
        const atH = nextDueAt(client, indexingAt(ctx, lookbackMs, h), ledger);
        if (atR === undefined) expect(atH).toBeUndefined();
        else if (atR > h) expect(atH).toBe(atR);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('what the ledger leaves in the index', () => {
  const ctx = context({ campaigns: [{ kind: 'welcome' }, { kind: 'cross-category' }] });
  const signedUp = Date.UTC(2026, 5, 1, 2);
  const client: ClientProfile = { customerId: 'c1', acceptsMarketing: true, tier: 'Prospect', stage: 'prospect', spend12mMinor: 0, lifetimeSpendMinor: 0, currency: 'USD', orderCount: 0, skus: {}, signedUpAt: iso(signedUp) };
  const at = signedUp + 5 * HOUR;
  const indexing = indexingAt(ctx, 72 * HOUR, at);
  const ledger = (status: LedgerStatus) => ledgerViewOf([{ occasionKey: 'welcome', status }]);

  it('drops a welcome the ledger ends and keeps one a person may release or a later hour retries', () => {
    expect(nextDueAt(client, indexing)).toBe(signedUp);
    for (const status of ['sent', 'failed', 'held-out', 'suppressed', 'no-consent', 'expired', 'advisor-handled'] as const) expect(nextDueAt(client, indexing, ledger(status)), status).toBeUndefined();
    for (const status of ['claimed', 'maybe-sent', 'deferred', 'capped'] as const) expect(nextDueAt(client, indexing, ledger(status)), status).toBe(signedUp);
  });

  it('drops a cross-category week out of the audience (a VIC), keeps it for a client in it whatever the affinity', () => {
    const ordered = Date.UTC(2026, 4, 1);
    const buyer = (tier: ClientProfile['tier']): ClientProfile => ({ ...client, tier, stage: 'active', orderCount: 1, firstOrderAt: iso(ordered), lastOrderAt: iso(ordered), signedUpAt: iso(ordered), topCategory: 'skin' });
    const inWeek = indexingAt(ctx, 72 * HOUR, ordered + 23 * DAY);
    expect(nextDueAt(buyer('VIC'), inWeek, ledgerViewOf([]))).toBeUndefined();
    expect(nextDueAt(buyer('VIC'), inWeek)).toBeDefined();
    expect(nextDueAt(buyer('Entry'), inWeek, ledgerViewOf([]))).toBeDefined();
  });
});
