import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExportError } from '#shared/exports/reader.ts';
import type { OrderLine } from '#shared/model.ts';
import { ClientAggregator } from '#shared/tiering/aggregate.ts';
import { computeProfiles } from '#shared/tiering/profile.ts';
import { config, csv, memorySource, NOW, readSource, RUN_DATE } from './reading.ts';

/**
 * Properties of the reader over generated exports: how the rows are laid out over files never
 * changes what the handlers receive, and a file cut short either fails or loses whole records.
 */

const CUSTOMERS = 'customer_id\nC1\nC2\nC3\n';
const HEADER = ['order_id', 'customer_id', 'ordered_at', 'sku', 'product_name', 'quantity', 'status', 'line_total'] as const;
type Row = readonly string[];

/** Order lines, each row distinct (its sku carries its index): the same line in two parts would rightly fail. */
const rowsArbitrary = fc
  .array(
    fc.record({
      order: fc.integer({ min: 1, max: 8 }),
      customer: fc.constantFrom('C1', 'C2', 'C3'),
      day: fc.integer({ min: 1, max: 22 }),
      // Names with the characters CSV must quote.
      name: fc.constantFrom('Serum', 'Silk "No. 5"', 'Scarf, wool', 'Two\nlines', '丝巾', ''),
      quantity: fc.integer({ min: 1, max: 3 }),
      status: fc.constantFrom('paid', 'refunded', 'cancelled'),
      cents: fc.integer({ min: 0, max: 99_999 }),
    }),
    { minLength: 1, maxLength: 25 },
  )
  .map((lines) =>
    lines.map((l, i): Row => [
      `O${l.order}`,
      l.customer,
      `2026-11-${String(l.day).padStart(2, '0')}T10:00:00+08:00`,
      `SKU-${i}`,
      l.name,
      String(l.quantity),
      l.status,
      (l.cents / 100).toFixed(2),
    ]),
  );

/** A multiset of order lines, comparable with toEqual. */
function canonical(orders: readonly OrderLine[]): string[] {
  return orders.map((o) => JSON.stringify(o)).sort();
}

/** The figures the tiering takes from the orders, per client. */
function totals(orders: readonly OrderLine[]): Record<string, [number, number, number]> {
  const aggregator = new ClientAggregator({ now: NOW });
  for (const line of orders) aggregator.addOrderLine(line);
  const profiles = computeProfiles(aggregator.clients(), { runDate: RUN_DATE, config: config() });
  return Object.fromEntries(profiles.map((p) => [p.customerId, [p.lifetimeSpendMinor, p.spend12mMinor, p.orderCount]]));
}

async function readOrders(files: Record<string, string>) {
  return readSource(memorySource({ 'customers.csv': CUSTOMERS, ...files }, 13));
}

describe('the layout of order rows over files', () => {
  it('permuting the rows of an orders file changes neither what the handlers receive (as a multiset) nor the totals', async () => {
    await fc.assert(
      fc.asyncProperty(
        rowsArbitrary.chain((rows) => fc.tuple(fc.constant(rows), fc.shuffledSubarray(rows, { minLength: rows.length, maxLength: rows.length }))),
        async ([rows, permuted]) => {
          const a = await readOrders({ 'orders.csv': csv([HEADER, ...rows]) });
          const b = await readOrders({ 'orders.csv': csv([HEADER, ...permuted]) });
          expect(canonical(b.orders)).toEqual(canonical(a.orders));
          expect(totals(b.orders)).toEqual(totals(a.orders));
          expect(b.result.files.find((f) => f.kind === 'orders')?.rows).toBe(rows.length);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('re-splitting an orders file into 1-5 parts at row boundaries changes neither what the handlers receive nor the totals', async () => {
    await fc.assert(
      fc.asyncProperty(
        rowsArbitrary.chain((rows) =>
          fc.tuple(
            fc.constant(rows),
            // Cut points between rows: every part keeps at least one row (a part without data rows fails).
            fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, rows.length - 1) }), { maxLength: Math.min(4, rows.length - 1) }),
            fc.boolean(),
          ),
        ),
        async ([rows, cuts, jsonl]) => {
          const whole = await readOrders({ 'orders.csv': csv([HEADER, ...rows]) });
          const bounds = [0, ...[...cuts].sort((x, y) => x - y), rows.length];
          const parts: Record<string, string> = {};
          for (let p = 0; p + 1 < bounds.length; p++) {
            const slice = rows.slice(bounds[p], bounds[p + 1]);
            // Parts may even come in different encodings of the same format.
            if (jsonl && p % 2 === 1) {
              parts[`orders-${p}.jsonl`] = slice.map((row) => JSON.stringify(Object.fromEntries(HEADER.map((h, i) => [h, row[i]])))).join('\n');
            } else {
              parts[`orders-${p}.csv`] = csv([HEADER, ...slice]);
            }
          }
          const split = await readOrders(parts);
          expect(canonical(split.orders)).toEqual(canonical(whole.orders));
          expect(totals(split.orders)).toEqual(totals(whole.orders));
          expect(split.result.files).toHaveLength(1 + bounds.length - 1);
        },
      ),
      { numRuns: 60 },
    );
  });
});

/** Reads `text` cut `k` bytes short as orders file `name`: the error, or the orders received. */
async function readCut(name: string, text: string, k: number): Promise<ExportError | OrderLine[]> {
  const bytes = Buffer.from(text);
  const cut = bytes.subarray(0, bytes.length - k);
  try {
    return (await readSource(memorySource({ 'customers.csv': CUSTOMERS, [name]: cut }, 13), { config: { maxRejectShare: 1 } })).orders;
  } catch (error) {
    expect(error).toBeInstanceOf(ExportError);
    expect((error as ExportError).file).toBe(`memory://export/${name}`);
    return error as ExportError;
  }
}

const quoteAll = (rows: readonly Row[]) => rows.map((row) => row.map((cell) => `"${cell.replace(/"/g, '""')}"`).join(',')).join('\n').concat('\n');

describe('a file cut short', () => {
  it('with every CSV field quoted: fails as truncated (or unreadable), or loses whole records only', async () => {
    await fc.assert(
      fc.asyncProperty(
        rowsArbitrary.chain((rows) => fc.tuple(fc.constant(rows), fc.integer({ min: 1, max: quoteAll([HEADER, ...rows]).length }))),
        async ([rows, k]) => {
          const text = quoteAll([HEADER, ...rows]);
          if (k >= Buffer.byteLength(text)) return;
          const full = (await readOrders({ 'orders.csv': text })).orders;
          const got = await readCut('orders.csv', text, k);
          if (got instanceof ExportError) return;
          expect(got.length).toBeLessThan(full.length + 1);
          expect(got).toEqual(full.slice(0, got.length));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('JSONL: fails as truncated, or loses whole records only', async () => {
    await fc.assert(
      fc.asyncProperty(rowsArbitrary, fc.nat(), async (rows, seed) => {
        const text = rows.map((row) => JSON.stringify(Object.fromEntries(HEADER.map((h, i) => [h, row[i]])))).join('\n').concat('\n');
        const k = 1 + (seed % (Buffer.byteLength(text) - 1));
        const full = (await readOrders({ 'orders.jsonl': text })).orders;
        const got = await readCut('orders.jsonl', text, k);
        if (got instanceof ExportError) return;
        expect(got).toEqual(full.slice(0, got.length));
      }),
      { numRuns: 100 },
    );
  });

  it('with unquoted CSV fields: the same, except that a cut inside the last field of the last record cannot be seen (the manifest\'s sha256 catches it)', async () => {
    await fc.assert(
      fc.asyncProperty(rowsArbitrary, fc.nat(), async (rows, seed) => {
        const text = csv([HEADER, ...rows]);
        const k = 1 + (seed % (Buffer.byteLength(text) - 1));
        const full = (await readOrders({ 'orders.csv': text })).orders;
        const got = await readCut('orders.csv', text, k);
        if (got instanceof ExportError) return;
        const whole = got.slice(0, -1);
        expect(whole).toEqual(full.slice(0, whole.length));
        const last = got[got.length - 1];
        if (last === undefined) return;
        const original = full[got.length - 1] as OrderLine;
        // Whole, or its last field (line_total) cut short: every other value as in the file.
        expect({ ...last, lineTotalMinor: 0, refundedMinor: 0 }).toEqual({ ...original, lineTotalMinor: 0, refundedMinor: 0 });
        if (last.lineTotalMinor !== original.lineTotalMinor) {
          const cutText = Buffer.from(text).subarray(0, Buffer.byteLength(text) - k).toString();
          expect(cutText.endsWith('\n')).toBe(false);
          expect(HEADER[HEADER.length - 1]).toBe('line_total');
        }
      }),
      { numRuns: 100 },
    );
  });
});
