import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeMeasures, encodeMeasures, MeasuresCodecError } from '#shared/nightly/measures-codec.ts';
import type { ShardMeasures } from '#shared/nightly/run.ts';

/** Measures from plain arrays: rfm [daysSinceLast, orderCount, spend12mMinor], clv [frequency, recency, T, monetaryValue]. */
const measures = (rfm: number[][], clv: number[][]): ShardMeasures => {
  const column = (values: number[] | undefined) => Float64Array.from(values ?? []);
  return {
    rfm: { daysSinceLast: column(rfm[0]), orderCount: column(rfm[1]), spend12mMinor: column(rfm[2]) },
    clv: { frequency: column(clv[0]), recency: column(clv[1]), T: column(clv[2]), monetaryValue: column(clv[3]) },
  };
};

describe('shard measures codec', () => {
  it('round-trips every column, values and order exact', () => {
    const original = measures(
      [
        [0, 3, 400.5],
        [1, 2, 17],
        [125_000, 0, 9_007_199_254_740_991],
      ],
      [
        [0, 4],
        [0, 51.285714285714285],
        [2.5, 60],
        [0, 1234.5678],
      ],
    );
    expect(decodeMeasures(encodeMeasures(original))).toEqual(original);
  });

  it('round-trips empty columns (a shard with no buyers, CLV disabled)', () => {
    const noBuyers = measures([[], [], []], [[], [], [], []]);
    const bytes = encodeMeasures(noBuyers);
    expect(bytes.byteLength).toBe(16 + 7 * 8);
    expect(decodeMeasures(bytes)).toEqual(noBuyers);
    const clvDisabled = measures([[1], [1], [100]], [[], [], [], []]);
    expect(decodeMeasures(encodeMeasures(clvDisabled))).toEqual(clvDisabled);
  });

  it('round-trips any finite doubles, and -0, NaN and infinities bit for bit', () => {
    const column = fc.array(fc.double(), { maxLength: 50 });
    fc.assert(
      fc.property(fc.tuple(column, column), fc.tuple(column, column), ([a, b], [c, d]) => {
        const n = Math.min(a.length, b.length);
        const m = Math.min(c.length, d.length);
        const original = measures([a.slice(0, n), b.slice(0, n), a.slice(0, n)], [c.slice(0, m), d.slice(0, m), c.slice(0, m), d.slice(0, m)]);
        const decoded = decodeMeasures(encodeMeasures(original));
        // toEqual treats -0 and 0 alike; Object.is per value does not.
        for (const group of ['rfm', 'clv'] as const) {
          for (const [name, values] of Object.entries(original[group])) {
            const back = (decoded[group] as Record<string, Float64Array>)[name] as Float64Array;
            expect(back.length).toBe(values.length);
            values.forEach((v, i) => expect(Object.is(back[i], v)).toBe(true));
          }
        }
      }),
    );
  });

  it('reads a copy inside a bigger buffer (as an SDK body may hand it)', () => {
    const original = measures([[1, 2], [3, 4], [5, 6]], [[7], [8], [9], [10]]);
    const encoded = encodeMeasures(original);
    const padded = new Uint8Array(encoded.byteLength + 5);
    padded.set(encoded, 3);
    expect(decodeMeasures(padded.subarray(3, 3 + encoded.byteLength))).toEqual(original);
  });

  it('refuses what is not a whole measures object', () => {
    const encoded = encodeMeasures(measures([[1], [2], [3]], [[], [], [], []]));
    expect(() => decodeMeasures(new TextEncoder().encode('{"rfm":{}}'))).toThrow(MeasuresCodecError);
    expect(() => decodeMeasures(encoded.subarray(0, encoded.byteLength - 8))).toThrow(/truncated or corrupt/);
    const otherVersion = encoded.slice();
    otherVersion[4] = 2;
    expect(() => decodeMeasures(otherVersion)).toThrow(/version 2/);
  });

  it('refuses columns of one group with different lengths, on both sides', () => {
    const broken = measures([[1, 2], [3], [5, 6]], [[], [], [], []]);
    expect(() => encodeMeasures(broken)).toThrow(/rfm columns differ/);
  });
});
