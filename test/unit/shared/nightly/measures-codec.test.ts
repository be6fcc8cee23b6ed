import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeMeasures, encodeMeasures, MeasuresCodecError } from '#shared/nightly/measures-codec.ts';
import type { ShardMeasures } from '#shared/nightly/run.ts';
import type { SkuLabelEntry } from '#shared/tiering/client-columns.ts';

/** Measures from plain arrays: rfm [daysSinceLast, orderCount, spend12mMinor], clv [frequency, recency, T, monetaryValue]. */
const measures = (rfm: number[][], clv: number[][], skuLabels: SkuLabelEntry[] = []): ShardMeasures => {
  const column = (values: number[] | undefined) => Float64Array.from(values ?? []);
  return {
    rfm: { daysSinceLast: column(rfm[0]), orderCount: column(rfm[1]), spend12mMinor: column(rfm[2]) },
    clv: { frequency: column(clv[0]), recency: column(clv[1]), T: column(clv[2]), monetaryValue: column(clv[3]) },
    skuLabels,
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
    // The header, a length per column and for the labels, and the labels' "[]".
    expect(bytes.byteLength).toBe(16 + 8 * 8 + 2);
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

  it('round-trips the SKU labels with their lines\' times, names in any script', () => {
    const original = measures([[1], [2], [3]], [[], [], [], []], [
      { sku: 'SKU-1', productName: { value: 'Night Cream 50ml', at: 1_793_498_400_000 }, category: { value: 'skincare', at: 1_793_498_400_000 } },
      { sku: '面霜-2', productName: { value: '晚霜 "限定" 🌙', at: 1_790_820_000_123 } },
      { sku: 'SKU-3', category: { value: 'fragrance', at: -1 } },
    ]);
    expect(decodeMeasures(encodeMeasures(original))).toEqual(original);
  });

  it('reads a copy inside a bigger buffer (as an SDK body may hand it)', () => {
    const original = measures([[1, 2], [3, 4], [5, 6]], [[7], [8], [9], [10]]);
    const encoded = encodeMeasures(original);
    const padded = new Uint8Array(encoded.byteLength + 5);
    padded.set(encoded, 3);
    expect(decodeMeasures(padded.subarray(3, 3 + encoded.byteLength))).toEqual(original);
  });

  it('refuses what is not a whole measures object', () => {
    const encoded = encodeMeasures(measures([[1], [2], [3]], [[], [], [], []], [{ sku: 'S1', productName: { value: 'Cream', at: 1 } }]));
    expect(() => decodeMeasures(new TextEncoder().encode('{"rfm":{}}'))).toThrow(MeasuresCodecError);
    expect(() => decodeMeasures(encoded.subarray(0, encoded.byteLength - 8))).toThrow(/truncated or corrupt/);
    expect(() => decodeMeasures(encoded.subarray(0, encoded.byteLength - 1))).toThrow(/truncated or corrupt/);
    // An object of the first format (no SKU labels), written before an upgrade.
    const otherVersion = encoded.slice();
    otherVersion[4] = 1;
    expect(() => decodeMeasures(otherVersion)).toThrow(/version 1, this code reads 2/);
    const notJson = encoded.slice();
    notJson[notJson.byteLength - 1] = 0x7b; // the labels' closing "]" as "{"
    expect(() => decodeMeasures(notJson)).toThrow(/SKU labels are not JSON/);
    const unlabelled = encodeMeasures(measures([[1], [2], [3]], [[], [], [], []], [{ sku: 'S1', productName: 'Cream' } as unknown as SkuLabelEntry]));
    expect(() => decodeMeasures(unlabelled)).toThrow(/not a list of SKUs with their labels/);
  });

  it('refuses columns of one group with different lengths, on both sides', () => {
    const broken = measures([[1, 2], [3], [5, 6]], [[], [], [], []]);
    expect(() => encodeMeasures(broken)).toThrow(/rfm columns differ/);
  });
});
