import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocateProportionally } from '#shared/exports/fields.ts';

describe('allocateProportionally', () => {
  it('splits by largest remainder, ties to the earlier line', () => {
    expect(allocateProportionally(1000, [1000, 1000, 1000])).toEqual([334, 333, 333]);
    expect(allocateProportionally(100, [1, 2, 3, 4])).toEqual([10, 20, 30, 40]);
    expect(allocateProportionally(10, [3, 3, 1])).toEqual([4, 4, 2]);
  });

  it('gives nothing when there is nothing to allocate or no weight', () => {
    expect(allocateProportionally(0, [5, 5])).toEqual([0, 0]);
    expect(allocateProportionally(7, [0, 0])).toEqual([0, 0]);
    expect(allocateProportionally(7, [])).toEqual([]);
  });

  it('never gives a share to a zero weight', () => {
    expect(allocateProportionally(7, [0, 3, 0, 4])).toEqual([0, 3, 0, 4]);
  });

  it('shares sum exactly to the total and stay within one unit of the exact share (also past 2^53)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
        fc.array(fc.oneof(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 2 ** 40 })), { minLength: 1, maxLength: 12 }),
        (total, weights) => {
          const sum = weights.reduce((a, b) => a + b, 0);
          const cap = Math.min(total, sum);
          const shares = allocateProportionally(cap, weights);
          expect(shares.reduce((a, b) => a + b, 0)).toBe(sum === 0 ? 0 : cap);
          weights.forEach((weight, i) => {
            const exact = sum === 0 ? 0 : (cap * weight) / sum;
            expect(Math.abs((shares[i] as number) - exact)).toBeLessThanOrEqual(1.000001 + exact * 1e-12);
          });
        },
      ),
    );
  });
});
