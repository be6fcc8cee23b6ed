import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dueDay, dueDaysBetween, dueIndexQueryFrom, longestWindowMs, nextDueAt } from '#shared/campaigns/due-index.ts';
import { clientTimeZone, dueOccasions, endedOccasions, nextOrderWindow, replenishmentWindow, sendWindows, type CampaignContext, type DueOccasion } from '#shared/campaigns/due.ts';
import type { ReplenishmentCampaign } from '#shared/campaigns/schema.ts';
import { expirySince } from '#shared/sender/expiry.ts';
import { DAY, HOUR } from '#test/support/time.ts';
import { CATALOG, context } from './fixtures.ts';
import * as oracle from './oracle-due.ts';
import { customContextArb, fullClientArb, ZONES } from './vocabulary-arbitraries.ts';

/**
 * The vocabulary's rules as properties: the built-ins written in it give exactly the occasions the
 * functions before it gave (oracle-due.ts); a campaign never fires twice for one once-per key and
 * never outside its window across a run of hourly evaluations; and the due index finds every
 * client a vocabulary campaign needs, yearly triggers included.
 */

const builtInContextArb: fc.Arbitrary<CampaignContext> = fc
  .record({
    cutoffHours: fc.integer({ min: 1, max: 240 }),
    targetHours: fc.integer({ min: 1, max: 24 }),
    daysBeforeRunOut: fc.integer({ min: 1, max: 40 }),
    afterDays: fc.integer({ min: 1, max: 90 }),
    windowDays: fc.integer({ min: 1, max: 45 }),
    listed: fc.constantFrom([], ['fragrance'], ['fragrance', 'bags']),
    enabled: fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()),
    zone: fc.constantFrom(...ZONES),
  })
  .map((c) =>
    context(
      {
        campaigns: [
          { kind: 'welcome', enabled: c.enabled[0], timing: { targetHours: Math.min(c.targetHours, c.cutoffHours), cutoffHours: c.cutoffHours } },
          { kind: 'replenishment', enabled: c.enabled[1], replenishableCategories: [...c.listed], timing: { daysBeforeRunOut: c.daysBeforeRunOut } },
          { kind: 'winback', enabled: c.enabled[2], timing: { afterDays: c.afterDays, windowDays: c.windowDays } },
        ],
      },
      c.zone,
    ),
  );

const START = Date.UTC(2026, 0, 1);
const END = Date.UTC(2026, 11, 31);

const bounds = ({ dueAt, expiresAt }: { dueAt: number; expiresAt: number }) => ({ dueAt, expiresAt });
/** An occasion without what the functions before the vocabulary did not give: whether its key outlives the window. */
const withoutKeyLife = ({ keyOutlivesWindow: _, ...occasion }: DueOccasion) => occasion;
const byWindow = (a: { dueAt: number; expiresAt: number }, b: { dueAt: number; expiresAt: number }) => a.dueAt - b.dueAt || a.expiresAt - b.expiresAt;

describe('the built-ins in the vocabulary', () => {
  it('give the occasions, ended occasions and windows the functions before the vocabulary gave, on random clients', () => {
    let dueCases = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: START, max: END }).chain((now) => fc.record({ now: fc.constant(now), ctx: builtInContextArb, client: fullClientArb(now), lookbackHours: fc.integer({ min: 1, max: 24 * 31 }) })),
        ({ now, ctx, client, lookbackHours }) => {
          const due = dueOccasions(client, CATALOG, now, ctx);
          if (due.length > 0) dueCases++;
          expect(due.map(withoutKeyLife)).toEqual(oracle.dueOccasions(client, CATALOG, now, ctx));
          const from = now - lookbackHours * HOUR;
          const ended = endedOccasions(client, CATALOG, from, now, ctx);
          expect(ended.map(withoutKeyLife)).toEqual(oracle.endedOccasions(client, CATALOG, from, now, ctx));
          // Of the built-ins, only the welcome's key (once ever) and the next-order reminder's (a refit moves its window) outlive their window.
          for (const occasion of [...due, ...ended]) expect(occasion.keyOutlivesWindow).toBe(occasion.occasionKey === 'welcome' || occasion.details.cycleSource === 'predicted');
          expect(sendWindows(client, CATALOG, ctx).map(bounds).sort(byWindow)).toEqual(oracle.sendWindows(client, CATALOG, ctx).sort(byWindow));
          expect(longestWindowMs(ctx.campaigns)).toBe(oracleLongestWindowMs(ctx));
          // The advisors' digests read the replenishment's windows whatever the clock.
          const replenishment = ctx.campaigns.campaigns[1] as ReplenishmentCampaign;
          const zone = clientTimeZone(client, ctx.brandTimeZone);
          for (const [sku, purchase] of Object.entries(client.skus)) {
            expect(replenishmentWindow(replenishment, purchase, CATALOG.get(sku), zone)).toEqual(oracle.replenishmentWindow(replenishment, purchase, CATALOG.get(sku), zone));
          }
          expect(nextOrderWindow(replenishment, client, CATALOG, zone)).toEqual(oracle.nextOrderWindow(replenishment, client, CATALOG, zone));
        },
      ),
      { numRuns: 3000 },
    );
    // The generator must make the property bite: a few percent of the cases have something due.
    expect(dueCases).toBeGreaterThan(50);
  });
});

/** The bound due-index.ts computed before the vocabulary. */
function oracleLongestWindowMs(ctx: CampaignContext): number {
  let longest = 0;
  for (const c of ctx.campaigns.campaigns) {
    if (!c.enabled) continue;
    if (c.kind === 'welcome') longest = Math.max(longest, c.timing.cutoffHours * HOUR);
    if (c.kind === 'replenishment') longest = Math.max(longest, (c.timing.daysBeforeRunOut + 1) * DAY);
    if (c.kind === 'winback') longest = Math.max(longest, (c.timing.windowDays + 1) * DAY);
  }
  return longest;
}

describe('vocabulary campaigns over a run of hourly evaluations', () => {
  it('never fire twice for one once-per key, never outside their window, and one key names one window', () => {
    let sends = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: START, max: END }).chain((start) => fc.record({ start: fc.constant(start), ctx: customContextArb, client: fullClientArb(start + 20 * DAY) })),
        ({ start, ctx, client }) => {
          // The sender's ledger: a key sent is settled for good.
          const sent = new Map<string, DueOccasion>();
          const windowOf = new Map<string, string>();
          for (let h = start; h < start + 30 * DAY; h += HOUR) {
            const due = dueOccasions(client, CATALOG, h, ctx);
            expect(new Set(due.map((o) => o.occasionKey)).size).toBe(due.length);
            for (const occasion of due) {
              expect(occasion.dueAt).toBeLessThanOrEqual(h);
              expect(h).toBeLessThan(occasion.expiresAt);
              expect(occasion.occasionKey === occasion.campaignId || occasion.occasionKey.startsWith(`${occasion.campaignId}#`)).toBe(true);
              const campaign = ctx.campaigns.campaigns.find((c) => c.id === occasion.campaignId);
              // The ledger keeps for good the entry of a key other windows may share (a widened
              // once-per, the trigger's own once ever, the next order a refit moves): nothing bounds when the next one opens.
              if (campaign?.kind === 'custom') {
                const nextOrder = occasion.occasionKey.startsWith(`${campaign.id}#next-order#`);
                expect(occasion.keyOutlivesWindow).toBe(campaign.timing.oncePer !== 'occasion' || occasion.occasionKey === campaign.id || nextOrder);
              }
              // With the trigger's own key that names its moment, a key is one window: it cannot come back later under the same name.
              if (!occasion.keyOutlivesWindow) {
                const window = `${occasion.dueAt}/${occasion.expiresAt}`;
                expect(windowOf.get(occasion.occasionKey) ?? window).toBe(window);
                windowOf.set(occasion.occasionKey, window);
              }
              if (!sent.has(occasion.occasionKey)) {
                sent.set(occasion.occasionKey, occasion);
                sends++;
              }
            }
          }
          // What each once-per key promises, for a client whose profile does not change.
          for (const campaign of ctx.campaigns.campaigns) {
            if (campaign.kind !== 'custom') continue;
            const ofCampaign = [...sent.values()].filter((o) => o.campaignId === campaign.id);
            if (['ever', 'lapse', 'tier-change'].includes(campaign.timing.oncePer)) expect(ofCampaign.length).toBeLessThanOrEqual(1);
            if (campaign.timing.oncePer === 'year') expect(ofCampaign.length).toBeLessThanOrEqual(2); // 30 days touch at most two years
          }
        },
      ),
      { numRuns: 80 },
    );
    expect(sends).toBeGreaterThan(10);
  });

  it('are found by the due index: whoever is due (or just expired, however long the outage since r) at h holds a nextDueAt inside the range the run at h reads', () => {
    let neededCases = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: START, max: END }).chain((r) =>
          fc.record({
            r: fc.constant(r),
            ctx: customContextArb,
            h: fc.integer({ min: r, max: r + 40 * DAY }),
            lookbackHours: fc.integer({ min: 1, max: 24 * 31 }),
            client: fullClientArb(r),
          }),
        ),
        ({ r, h, ctx, lookbackHours, client }) => {
          const lookbackMs = lookbackHours * HOUR;
          for (const window of sendWindows(client, CATALOG, ctx, { from: r - 400 * DAY, to: h + 400 * DAY })) {
            expect(window.expiresAt - window.dueAt).toBeLessThanOrEqual(longestWindowMs(ctx.campaigns));
          }
          // Ended since the run's expiry start: the lookback, or back to r after a longer outage.
          const needed = dueOccasions(client, CATALOG, h, ctx).length > 0 || endedOccasions(client, CATALOG, expirySince(h, lookbackMs, r, 400 * DAY), h, ctx).length > 0;
          const atR = nextDueAt(client, { catalog: CATALOG, context: ctx, lookbackMs, indexedAt: r });
          const atH = nextDueAt(client, { catalog: CATALOG, context: ctx, lookbackMs, indexedAt: h });
          // A value the run at h does not read is already the value as of h.
          if (atR === undefined) expect(atH).toBeUndefined();
          else if (atR > h) expect(atH).toBe(atR);
          if (!needed) return;
          neededCases++;
          // In the range the run at h reads, and in one of the index partitions it queries.
          const from = dueIndexQueryFrom(r, ctx.campaigns, lookbackMs);
          const read = atR !== undefined && atR >= from && atR <= h && dueDaysBetween(from, h).includes(dueDay(atR));
          expect(read, `nextDueAt ${atR} read by the run at ${h} (from ${from})`).toBe(true);
        },
      ),
      { numRuns: 3000 },
    );
    expect(neededCases).toBeGreaterThan(300);
  });
});
