import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Column, CompactColumn, WideningColumn } from '#shared/tiering/chunked-column.ts';

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

describe('widening columns', () => {
  // Epoch milliseconds, mostly whole seconds, some not (and the odd value no time has).
  const epochMs = fc.oneof(
    fc.integer({ min: 0, max: 4_000_000_000 }).map((seconds) => seconds * 1000),
    fc.integer({ min: 0, max: 5_000_000_000_000 }),
    anyNumber,
  );
  const cases = [
    { kind: 'u16', scale: 1, values: anyNumber },
    { kind: 'u32', scale: 1, values: anyNumber },
    { kind: 'u32', scale: 1000, values: epochMs },
  ] as const;
  for (const { kind, scale, values } of cases) {
    it(`give back every number exactly (${kind}, scale ${scale}), pushed or set over another, across chunks`, () => {
      fc.assert(
        fc.property(fc.array(values, { minLength: 1, maxLength: 300 }), fc.array(fc.tuple(fc.nat(), values), { maxLength: 50 }), fc.nat({ max: 70_000 }), (pushed, sets, before) => {
          const column = new WideningColumn(kind, scale);
          // Whole chunks of narrow values first, so that widening happens past the first chunk too.
          const expected: number[] = Array.from({ length: before }, (_, i) => (i % 1000) * scale);
          for (const value of expected) column.push(value);
          for (const value of pushed) {
            expect(column.push(value)).toBe(expected.length);
            expected.push(value);
          }
          for (const [at, value] of sets) {
            const index = at % expected.length;
            column.set(index, value);
            expected[index] = value;
          }
          expect(column.length).toBe(expected.length);
          const wrong = expected.findIndex((value, i) => !Object.is(column.get(i), value));
          expect(wrong === -1 ? undefined : { at: wrong, expected: expected[wrong], got: column.get(wrong) }).toBeUndefined();
        }),
        { numRuns: 40 },
      );
    });
  }
});
