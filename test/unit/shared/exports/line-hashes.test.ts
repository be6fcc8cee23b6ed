import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OrderLineHashes } from '#shared/exports/line-hashes.ts';
import type { OrderLine } from '#shared/model.ts';

/** The 64-bit line hashes that find an order line repeated across parts, in chunks many times over. */

const T = Date.UTC(2026, 10, 22, 10);
const order = (fields: Partial<OrderLine>): OrderLine => ({ orderId: 'O1', customerId: 'C1', orderedAt: T, quantity: 1, lineTotalMinor: 1000, refundedMinor: 0, status: 'paid', ...fields });
const lineOf = (file: number, i: number): OrderLine => order({ orderId: `O${file}-${i}`, lineTotalMinor: i % 97, ...(i % 3 === 0 ? {} : { sku: `S${i}` }) });

function index(files: OrderLine[][]): OrderLineHashes {
  const hashes = new OrderLineHashes();
  files.forEach((lines, file) => {
    hashes.startFile(file);
    for (const line of lines) hashes.add(line);
  });
  return hashes;
}

describe('OrderLineHashes', () => {
  it('finds one line shared by two of many files, whatever the chunks (files of up to 20,000 lines)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 20_000 }), { minLength: 2, maxLength: 6 }),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        (sizes, a, b, at) => {
          const files = sizes.map((size, file) => Array.from({ length: size }, (_, i) => lineOf(file, i)));
          expect(index(files).findSharedLine()).toBeUndefined();
          const from = a % files.length;
          const to = (from + 1 + (b % (files.length - 1))) % files.length;
          const source = files[from] as OrderLine[];
          const target = files[to] as OrderLine[];
          target[at % target.length] = { ...(source[(at * 7) % source.length] as OrderLine) };
          expect(index(files).findSharedLine()).toEqual([Math.min(from, to), Math.max(from, to)]);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('allows a line repeated within one file, across its chunks too', () => {
    const lines = Array.from({ length: 5000 }, (_, i) => lineOf(0, i));
    lines.push(...lines.slice(0, 10));
    expect(index([lines, [lineOf(1, 1)]]).findSharedLine()).toBeUndefined();
  });

  it('tells absent values from empty ones and values apart at their boundaries', () => {
    const hashes = new OrderLineHashes();
    hashes.startFile(0);
    hashes.add(order({ sku: 'xy' }));
    hashes.add(order({ sku: 'x', productName: 'y' }));
    hashes.add(order({ lineTotalMinor: 2 ** 32 + 5 }));
    hashes.startFile(1);
    hashes.add(order({ sku: 'x' }));
    hashes.add(order({ sku: 'xy', productName: '' }));
    hashes.add(order({ productName: 'xy' }));
    hashes.add(order({ lineTotalMinor: 5 }));
    hashes.add(order({ sku: 'xy', customerId: undefined, email: 'C1' }));
    expect(hashes.findSharedLine()).toBeUndefined();
    hashes.startFile(2);
    hashes.add(order({ sku: 'x', productName: 'y' }));
    expect(hashes.findSharedLine()).toEqual([0, 2]);
  });

  it('finds the same shared line when the files were hashed by different readers and their chunks absorbed by one', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5_000 }), { minLength: 2, maxLength: 5 }),
        fc.array(fc.nat({ max: 2 }), { minLength: 5, maxLength: 5 }),
        fc.boolean(),
        fc.nat(),
        (sizes, readerOf, share, at) => {
          const files = sizes.map((size, file) => Array.from({ length: size }, (_, i) => lineOf(file, i)));
          if (share) (files[files.length - 1] as OrderLine[])[0] = { ...((files[0] as OrderLine[])[at % (sizes[0] as number)] as OrderLine) };
          // Each reader hashes its own files under their numbers in the whole export.
          const readers = [0, 1, 2].map((reader) => {
            const hashes = new OrderLineHashes();
            files.forEach((lines, file) => {
              if (readerOf[file] !== reader) return;
              hashes.startFile(file);
              for (const line of lines) hashes.add(line);
            });
            return hashes.encode();
          });
          const combined = new OrderLineHashes();
          // Unaligned, as a slice of a larger download may be.
          for (const bytes of readers) combined.absorb(new Uint8Array([0, ...bytes]).subarray(1));
          expect(combined.findSharedLine()).toEqual(index(files).findSharedLine());
          expect(combined.findSharedLine()).toEqual(share ? [0, files.length - 1] : undefined);
        },
      ),
      { numRuns: 30 },
    );
  });
});
