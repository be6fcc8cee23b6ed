import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { quintileCuts, quintileScores, RfmMeasureColumns, rfmReference, rfmReferenceOf, rfmScoreAgainst, rfmScores, type RfmInput } from '#shared/tiering/rfm.ts';

describe('quintileScores', () => {
  it('spreads ten distinct values over 1..5, two per score', () => {
    expect(quintileScores([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'higher')).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    expect(quintileScores([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'lower')).toEqual([5, 5, 4, 4, 3, 3, 2, 2, 1, 1]);
  });

  it('gives ties the same score, based on the values strictly worse', () => {
    // worse counts: 0, 0, 0, 3, 4 → 1 + floor(5w/5)
    expect(quintileScores([1, 1, 1, 2, 3], 'higher')).toEqual([1, 1, 1, 4, 5]);
    expect(quintileScores([7, 7, 7], 'higher')).toEqual([1, 1, 1]);
  });

  it('scores a single buyer 1 and nobody when empty', () => {
    expect(quintileScores([42], 'higher')).toEqual([1]);
    expect(quintileScores([], 'lower')).toEqual([]);
  });
});

describe('rfmScores', () => {
  it('scores recency by fewer days, frequency and monetary by more', () => {
    const buyers: RfmInput[] = [
      { daysSinceLast: 1, orderCount: 1, spend12mMinor: 100 },
      { daysSinceLast: 300, orderCount: 9, spend12mMinor: 0 },
    ];
    expect(rfmScores(buyers)).toEqual([
      { r: 3, f: 1, m: 3 },
      { r: 1, f: 3, m: 1 },
    ]);
  });

  const valuesArb = fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 60 });

  it('stays within 1..5, gives equal values equal scores and better values no lower scores (property)', () => {
    fc.assert(
      fc.property(valuesArb, fc.constantFrom<'higher' | 'lower'>('higher', 'lower'), (values, better) => {
        const scores = quintileScores(values, better);
        values.forEach((a, i) => {
          const si = scores[i] as number;
          expect(Number.isInteger(si) && si >= 1 && si <= 5).toBe(true);
          values.forEach((b, j) => {
            const sj = scores[j] as number;
            if (a === b) expect(si).toBe(sj);
            const aBetter = better === 'higher' ? a > b : a < b;
            if (aBetter) expect(si).toBeGreaterThanOrEqual(sj);
          });
        });
      }),
    );
  });

  it('does not depend on input order (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ daysSinceLast: fc.nat(400), orderCount: fc.integer({ min: 1, max: 8 }), spend12mMinor: fc.nat(1e7) }), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.infiniteStream(fc.double({ min: 0, max: 1, noNaN: true })),
        (buyers, random) => {
          const keys = buyers.map(() => random.next().value as number);
          const order = buyers.map((_, i) => i).sort((a, b) => (keys[a] as number) - (keys[b] as number));
          const shuffled = rfmScores(order.map((i) => buyers[i] as RfmInput));
          const direct = rfmScores(buyers);
          order.forEach((original, position) => expect(shuffled[position]).toEqual(direct[original]));
        },
      ),
    );
  });
});

describe('quintile cuts', () => {
  const direct = (values: readonly number[], better: 'higher' | 'lower') =>
    values.map((v) => {
      const worse = values.filter((w) => (better === 'higher' ? w < v : w > v)).length;
      return 1 + Math.floor((5 * worse) / values.length);
    });

  it('score exactly as the definition 1 + floor(5 × worse / count) does (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 200 }),
        fc.constantFrom<'higher' | 'lower'>('higher', 'lower'),
        (values, better) => {
          expect(quintileScores(values, better)).toEqual(direct(values, better));
        },
      ),
    );
  });

  it('merged from shards, score each shard like the whole base (property)', () => {
    const buyerArb = fc.record({
      daysSinceLast: fc.integer({ min: 0, max: 400 }),
      orderCount: fc.integer({ min: 1, max: 12 }),
      spend12mMinor: fc.integer({ min: 0, max: 10_000_000 }),
    });
    fc.assert(
      fc.property(fc.array(buyerArb, { minLength: 1, maxLength: 120 }), fc.integer({ min: 2, max: 5 }), (buyers, shards) => {
        const whole = rfmScores(buyers);
        const reference = rfmReference(buyers.filter((_, i) => i % shards === 0).concat(buyers.filter((_, i) => i % shards !== 0)));
        expect(buyers.map((b) => rfmScoreAgainst(reference, b))).toEqual(whole);
        expect(quintileCuts([], 'higher').cuts).toEqual([]);
      }),
    );
  });
});

describe('RfmMeasureColumns', () => {
  it('keeps every buyer added, across growth, and gives the reference rfmReference gives', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ daysSinceLast: fc.nat(4000), orderCount: fc.integer({ min: 1, max: 60 }), spend12mMinor: fc.integer({ min: -1e9, max: 1e9 }) }), { maxLength: 3000 }),
        (buyers: RfmInput[]) => {
          const columns = new RfmMeasureColumns();
          for (const buyer of buyers) columns.add(buyer);
          const { daysSinceLast, orderCount, spend12mMinor } = columns.columns();
          expect([...daysSinceLast]).toEqual(buyers.map((b) => b.daysSinceLast));
          expect([...orderCount]).toEqual(buyers.map((b) => b.orderCount));
          expect([...spend12mMinor]).toEqual(buyers.map((b) => b.spend12mMinor));
          expect(rfmReferenceOf(columns.columns())).toEqual(rfmReference(buyers));
        },
      ),
      { numRuns: 30 },
    );
  });
});
