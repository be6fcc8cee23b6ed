import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Column, CompactColumn } from '#shared/tiering/chunked-column.ts';

const anyNumber = fc.oneof(
  fc.integer({ min: -5, max: 70_000 }),
  fc.integer(),
  fc.double(), // fractions, -0, NaN, infinities
  fc.constantFrom(0xfffe, 0xffff, 0x7fffffff, -0x7fffffff, -0x80000000, 2 ** 31, Number.MAX_SAFE_INTEGER),
);

describe('compact columns', () => {
  for (const kind of ['u16', 'i32'] as const) {
    it(`give back every number exactly (${kind}), pushed or set over another`, () => {
      fc.assert(
        fc.property(fc.array(anyNumber, { minLength: 1, maxLength: 300 }), fc.array(fc.tuple(fc.nat(), anyNumber), { maxLength: 50 }), (pushed, sets) => {
          const column = new CompactColumn(kind);
          const expected = [...pushed];
          pushed.forEach((value, i) => expect(column.push(value)).toBe(i));
          for (const [at, value] of sets) {
            const index = at % expected.length;
            column.set(index, value);
            expected[index] = value;
          }
          expected.forEach((value, i) => expect(Object.is(column.get(i), value)).toBe(true));
        }),
        { numRuns: 300 },
      );
    });
  }

  it('gives a column back as one array, across its chunks', () => {
    for (const count of [0, 1, 300, 65_536, 140_000]) {
      const column = new Column('f64');
      for (let i = 0; i < count; i++) column.push(i * 1.5);
      expect(Array.from(column.toFloat64Array())).toEqual(Array.from({ length: count }, (_, i) => i * 1.5));
    }
  });
});
