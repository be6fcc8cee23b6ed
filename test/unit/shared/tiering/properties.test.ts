import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tierRank, type ClientProfile, type CustomerRecord, type OrderLine } from '#shared/model.ts';
import { ClientAggregator } from '#shared/tiering/aggregate.ts';
import { DEFAULT_RFM_SEGMENTS, rfmSegmentOf } from '#shared/segments/rfm-segments.ts';
import { computeProfiles, rfmMeasures, runClock, streamProfiles, type ClientTierMeasure, type TieringContext } from '#shared/tiering/profile.ts';
import { tierFor, tierThresholdsMinor } from '#shared/tiering/tiers.ts';
import { addDays, localDate } from '#shared/time.ts';
import { config } from './fixtures.ts';

const RUN = '2025-06-15';
const CONFIG = config();
const { now, windowStart } = runClock(RUN, CONFIG.timeZone);
const DAY = 86_400_000;

const instantArb = fc.oneof(
  fc.constantFrom(windowStart, windowStart - 1, now - 1, now, now + 1),
  fc.integer({ min: windowStart - 200 * DAY, max: now + 2 * DAY }),
);

const customerArb = (customerId: string): fc.Arbitrary<CustomerRecord> =>
  fc.record(
    {
      customerId: fc.constant(customerId),
      email: fc.constantFrom('ann@x.com', 'bob@x.com', 'cat@x.com'),
      firstName: fc.constantFrom('Ann', 'Bob'),
      acceptsMarketing: fc.boolean(),
      signedUpAt: fc.integer({ min: windowStart - 400 * DAY, max: now }),
    },
    { requiredKeys: ['customerId', 'acceptsMarketing'] },
  );

const customersArb = fc.uniqueArray(fc.constantFrom('c1', 'c2', 'c3', 'c4', 'c5', 'c6'), { maxLength: 6 }).chain((ids) => fc.tuple(...ids.map(customerArb)));

const lineArb = (timeOf: (orderId: string) => number | undefined): fc.Arbitrary<OrderLine> =>
  fc
    .record(
      {
        orderId: fc.constantFrom('o1', 'o2', 'o3', 'o4', 'o5', 'o6', 'o7', 'o8'),
        who: fc.oneof(
          fc.record({ customerId: fc.constantFrom('c1', 'c2', 'c3', 'c7', 'c8') }),
          fc.record({ email: fc.constantFrom('ann@x.com', ' Ann@X.com', 'bob@x.com', 'dan@x.com', 'DAN@x.com') }),
        ),
        orderedAt: instantArb,
        sku: fc.constantFrom('A', 'B', 'C'),
        productName: fc.constantFrom('Alpha', 'Beta'),
        category: fc.constantFrom('skin', 'bags', 'scent'),
        quantity: fc.integer({ min: 1, max: 3 }),
        lineTotalMinor: fc.oneof(fc.integer({ min: 0, max: 2_000_000 }), fc.constantFrom(5_000_000, 4_999_999)),
        refundedMinor: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2_500_000 })),
        status: fc.constantFrom<OrderLine['status']>('paid', 'paid', 'refunded', 'cancelled'),
      },
      { requiredKeys: ['orderId', 'who', 'orderedAt', 'quantity', 'lineTotalMinor', 'refundedMinor', 'status'] },
    )
    .map(({ who, ...rest }) => {
      const orderedAt = timeOf(rest.orderId) ?? rest.orderedAt;
      return { ...rest, ...who, orderedAt };
    });

/** Deterministic Fisher-Yates shuffle from a seed. */
function shuffle<T>(items: readonly T[], seed: number): T[] {
  const result = [...items];
  let state = seed >>> 0 || 1;
  for (let i = result.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    const j = state % (i + 1);
    [result[i], result[j]] = [result[j] as T, result[i] as T];
  }
  return result;
}

function run(customers: readonly CustomerRecord[], lines: readonly OrderLine[], linesFirst = false): ClientProfile[] {
  const aggregator = new ClientAggregator();
  if (linesFirst) for (const line of lines) aggregator.addOrderLine(line);
  for (const record of customers) aggregator.addCustomer(record);
  if (!linesFirst) for (const line of lines) aggregator.addOrderLine(line);
  return computeProfiles(aggregator.clients(), { runDate: RUN, config: CONFIG });
}

/** The net rule restated independently of the code under test. */
function expectedNet(line: OrderLine): number {
  if (line.status === 'cancelled') return 0;
  if (line.status === 'refunded' && line.refundedMinor === 0) return 0;
  return line.lineTotalMinor - Math.min(line.refundedMinor, line.lineTotalMinor);
}

describe('tiering properties', () => {
  it('permuting customers and order lines changes no profile', () => {
    fc.assert(
      fc.property(customersArb, fc.array(lineArb(() => undefined), { maxLength: 40 }), fc.integer(), fc.integer(), (customers, lines, seedA, seedB) => {
        const expected = run(customers, lines);
        expect(run(shuffle(customers, seedA), shuffle(lines, seedB))).toEqual(expected);
        // Email-only lines that arrive before their customer end up in the same place.
        expect(run(shuffle(customers, seedB), shuffle(lines, seedA), true)).toEqual(expected);
      }),
    );
  });

  it('streamed profiles, measured on the orders alone, are the profiles computed at once', () => {
    fc.assert(
      fc.property(customersArb, fc.array(lineArb(() => undefined), { maxLength: 40 }), (customers, lines) => {
        const aggregator = new ClientAggregator();
        for (const record of customers) aggregator.addCustomer(record);
        for (const line of lines) aggregator.addOrderLine(line);
        const context = { runDate: RUN, config: CONFIG };
        expect([...aggregator.clientOrders()]).toEqual([...aggregator.clients()].map(({ customerId, customer, orders }) => ({ customerId, ...(customer ? { customer } : {}), orders })));
        const streamed = [...streamProfiles(() => aggregator.clients(), context, { measureSource: () => aggregator.clientOrders() })];
        expect(streamed).toEqual(computeProfiles(aggregator.clients(), context));
      }),
    );
  });

  it('spend12m over all clients is the sum of in-window line nets, lifetime the sum before now', () => {
    const timesArb = fc.array(instantArb, { minLength: 8, maxLength: 8 });
    fc.assert(
      fc.property(
        customersArb,
        timesArb.chain((times) => {
          // Every line of an order shares the order's time, so the order rule and the line sum agree.
          const timeOf = (orderId: string): number | undefined => times[Number(orderId.slice(1)) - 1];
          return fc.array(lineArb(timeOf), { maxLength: 40 });
        }),
        (customers, lines) => {
          const profiles = run(customers, lines);
          const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
          const inWindow = lines.filter((l) => l.orderedAt >= windowStart && l.orderedAt < now);
          expect(sum(profiles.map((p) => p.spend12mMinor))).toBe(sum(inWindow.map(expectedNet)));
          const beforeNow = lines.filter((l) => l.orderedAt < now);
          expect(sum(profiles.map((p) => p.lifetimeSpendMinor))).toBe(sum(beforeNow.map(expectedNet)));
        },
      ),
    );
  });

  it('the guards\u2019 measures with the last night\u2019s date add what left the window since, and the tier those orders still gave; nothing else changes', () => {
    const timesArb = fc.array(instantArb, { minLength: 8, maxLength: 8 });
    fc.assert(
      fc.property(
        customersArb,
        timesArb.chain((times) => fc.array(lineArb((orderId) => times[Number(orderId.slice(1)) - 1]), { maxLength: 40 })),
        fc.integer({ min: -2, max: 400 }),
        (customers, lines, daysBefore) => {
          const aggregator = new ClientAggregator();
          for (const record of customers) aggregator.addCustomer(record);
          for (const line of lines) aggregator.addOrderLine(line);
          const lastNight = addDays(RUN, -daysBefore);
          const measured = (context: TieringContext) => {
            const measures: ClientTierMeasure[] = [];
            rfmMeasures(aggregator.clientOrders(), context, (measure) => measures.push(measure));
            return measures;
          };
          const plain = measured({ runDate: RUN, config: CONFIG });
          const withLast = measured({ runDate: RUN, config: CONFIG, lastNight });
          expect(withLast.map(({ spendLeftWindowMinor: _left, tierInLastNightsWindow: _tier, ...rest }) => rest)).toEqual(plain);
          const lastWindowStart = runClock(lastNight, CONFIG.timeZone).windowStart;
          for (const measure of withLast) {
            const facts = [...aggregator.clientOrders()].find((client) => client.customerId === measure.customerId);
            const left = (facts?.orders ?? []).filter((order) => order.orderedAt >= lastWindowStart && order.orderedAt < windowStart);
            if (daysBefore <= 0 || left.length === 0) expect(measure.spendLeftWindowMinor).toBeUndefined();
            else expect(measure.spendLeftWindowMinor).toBe(left.reduce((sum, order) => sum + order.netMinor, 0));
            const then = tierFor(measure.spend12mMinor + (measure.spendLeftWindowMinor ?? 0), measure.orderCount > 0, tierThresholdsMinor(CONFIG));
            expect(measure.tierInLastNightsWindow ?? measure.tier).toBe(then);
            expect(tierRank(then)).toBeGreaterThanOrEqual(tierRank(measure.tier));
          }
        },
      ),
    );
  });

  it('profiles are internally consistent', () => {
    fc.assert(
      fc.property(customersArb, fc.array(lineArb(() => undefined), { maxLength: 40 }), (customers, lines) => {
        const profiles = run(customers, lines);
        expect(profiles.map((p) => p.customerId)).toEqual(profiles.map((p) => p.customerId).sort());
        for (const p of profiles) {
          const buyer = p.orderCount > 0;
          expect(p.tier === 'Prospect').toBe(!buyer);
          expect(p.stage === 'prospect').toBe(!buyer);
          expect(p.rfm !== undefined).toBe(buyer);
          for (const score of [p.rfm?.r, p.rfm?.f, p.rfm?.m].filter((x) => x !== undefined)) expect(score >= 1 && score <= 5 && Number.isInteger(score)).toBe(true);
          // Every buyer is in exactly the segment the default map names for their scores.
          if (p.rfm) expect(p.rfm.segment).toBe(rfmSegmentOf(p.rfm, DEFAULT_RFM_SEGMENTS));
          expect(p.spend12mMinor).toBeLessThanOrEqual(p.lifetimeSpendMinor);
          expect(p.spend12mMinor).toBeGreaterThanOrEqual(0);
          expect(Number.isInteger(p.lifetimeSpendMinor)).toBe(true);
          expect(p.firstOrderAt === undefined).toBe(!buyer);
          if (p.firstOrderAt && p.lastOrderAt) expect(p.firstOrderAt <= p.lastOrderAt).toBe(true);
          expect(Object.keys(p.skus).length > 0 ? buyer : true).toBe(true);
        }
        // Buyers with equal measures get equal scores.
        const buyers = profiles.filter((p) => p.rfm);
        const lastDay = (p: ClientProfile): string => localDate(Date.parse(p.lastOrderAt ?? ''), CONFIG.timeZone);
        for (const a of buyers) {
          for (const b of buyers) {
            if (lastDay(a) === lastDay(b)) expect(a.rfm?.r).toBe(b.rfm?.r);
            if (a.orderCount === b.orderCount) expect(a.rfm?.f).toBe(b.rfm?.f);
            if (a.spend12mMinor === b.spend12mMinor) expect(a.rfm?.m).toBe(b.rfm?.m);
          }
        }
      }),
    );
  });
});
