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

/**
 * An export split between 3 readers: 2 to 5 files of 1 to 5,000 entries, each file's reader, whether
 * the last file repeats an entry of the first, and which one.
 */
const SPLIT_BETWEEN_READERS = [
  fc.array(fc.integer({ min: 1, max: 5_000 }), { minLength: 2, maxLength: 5 }),
  fc.array(fc.nat({ max: 2 }), { minLength: 5, maxLength: 5 }),
  fc.boolean(),
  fc.nat(),
] as const;

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
        ...SPLIT_BETWEEN_READERS,
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

  describe('orders (Shopify: an order is one group of rows)', () => {
    /** Each file's orders with the line of their group, `O<file>-<i>` from line 2 + 3i. */
    const ordersOf = (sizes: number[]): [string, number][][] => sizes.map((size, file) => Array.from({ length: size }, (_, i) => [`O${file}-${i}`, 2 + 3 * i]));

    function indexOrders(files: [string, number][][], hashes = new OrderLineHashes(), only?: (file: number) => boolean): OrderLineHashes {
      files.forEach((orders, file) => {
        if (only !== undefined && !only(file)) return;
        hashes.startFile(file);
        for (const [orderId, line] of orders) hashes.addOrder(orderId, line);
      });
      return hashes;
    }

    it('finds one order read in two groups, in one file or two, with the file and line of each, whatever the chunks', () => {
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 1, max: 20_000 }), { minLength: 1, maxLength: 4 }),
          fc.nat(),
          fc.nat(),
          fc.nat(),
          fc.nat(),
          (sizes, a, b, i, j) => {
            const files = ordersOf(sizes);
            expect(indexOrders(files).findRepeatedOrder()).toBeUndefined();
            const from = a % files.length;
            const to = b % files.length;
            const source = files[from] as [string, number][];
            const target = files[to] as [string, number][];
            const original = i % source.length;
            const copy = j % target.length;
            if (from === to && original === copy) return;
            const orderId = (source[original] as [string, number])[0];
            target[copy] = [orderId, (target[copy] as [string, number])[1]];
            const expected = [
              { file: from, line: 2 + 3 * original },
              { file: to, line: 2 + 3 * copy },
            ].sort((x, y) => x.file - y.file || x.line - y.line);
            expect(indexOrders(files).findRepeatedOrder()).toEqual(expected);
          },
        ),
        { numRuns: 25 },
      );
    });

    it('tells keys apart at every character, and keeps them apart from the lines', () => {
      const hashes = new OrderLineHashes();
      hashes.startFile(0);
      for (const id of ['#1001', '#10010', '1001', '#1002', '']) hashes.addOrder(id, 2);
      hashes.add(order({ orderId: '#1001' }));
      hashes.startFile(1);
      hashes.add(order({ orderId: '#1001' }));
      expect(hashes.findRepeatedOrder()).toBeUndefined();
      hashes.addOrder('#10010', 9);
      expect(hashes.findRepeatedOrder()).toEqual([
        { file: 0, line: 2 },
        { file: 1, line: 9 },
      ]);
    });

    it('finds the same repeat when the files were read by different readers and their chunks absorbed by one', () => {
      fc.assert(
        fc.property(
          ...SPLIT_BETWEEN_READERS,
          (sizes, readerOf, repeat, at) => {
            const files = ordersOf(sizes);
            const last = files[files.length - 1] as [string, number][];
            if (repeat) last[0] = [((files[0] as [string, number][])[at % (sizes[0] as number)] as [string, number])[0], 2];
            // Each reader hashes its own files under their numbers in the whole export.
            const readers = [0, 1, 2].map((reader) => indexOrders(files, new OrderLineHashes(), (file) => readerOf[file] === reader).encode());
            const combined = new OrderLineHashes();
            for (const bytes of readers) combined.absorb(new Uint8Array([0, ...bytes]).subarray(1));
            expect(combined.findRepeatedOrder()).toEqual(indexOrders(files).findRepeatedOrder());
            expect(combined.findRepeatedOrder()).toEqual(repeat ? [{ file: 0, line: 2 + 3 * (at % (sizes[0] as number)) }, { file: files.length - 1, line: 2 }] : undefined);
          },
        ),
        { numRuns: 30 },
      );
    });

    it('encodes lines and orders side by side', () => {
      const hashes = new OrderLineHashes();
      hashes.startFile(0);
      hashes.add(order({ orderId: 'A' }));
      hashes.addOrder('#1', 2);
      hashes.startFile(1);
      hashes.add(order({ orderId: 'A' }));
      hashes.addOrder('#1', 7);
      const combined = new OrderLineHashes();
      combined.absorb(hashes.encode());
      expect(combined.findSharedLine()).toEqual([0, 1]);
      expect(combined.findRepeatedOrder()).toEqual([
        { file: 0, line: 2 },
        { file: 1, line: 7 },
      ]);
    });
  });
});
