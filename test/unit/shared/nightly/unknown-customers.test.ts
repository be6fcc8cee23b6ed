import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FileReport } from '#shared/exports/reader.ts';
import type { OrderLine } from '#shared/model.ts';
import { emailIdentity } from '#shared/tiering/identity.ts';
import {
  addPerFile,
  noUnknownCustomers,
  OrphanOrderLines,
  UNKNOWN_CUSTOMER_REASON,
  withRejectsPerFile,
  type UnknownCustomerRejects,
} from '#shared/nightly/unknown-customers.ts';

/** The reader's position object: one per file, updated in place for every row. */
interface Cursor {
  file: string;
  line: number;
}

const everyone = () => true;

describe('OrphanOrderLines', () => {
  it('copies the position it is given: the reader moving its cursor on does not move the lines noted', () => {
    const orphans = new OrphanOrderLines();
    const at: Cursor = { file: 'exports/2026-03-01/orders-b.csv', line: 2 };
    orphans.note('c9', at);
    at.line = 3;
    orphans.note('c1', at);
    at.line = 7;
    orphans.note('c9', at);
    at.file = 'exports/2026-03-01/orders-a.csv';
    at.line = 4;
    orphans.note('c1', at);
    at.line = 999;

    expect(orphans.rejectsOf(everyone)).toEqual({
      customerIds: ['c1', 'c9'],
      perFile: { 'exports/2026-03-01/orders-b.csv': 3, 'exports/2026-03-01/orders-a.csv': 1 },
      rejected: 4,
      rejects: [
        { file: 'exports/2026-03-01/orders-a.csv', line: 4, reason: UNKNOWN_CUSTOMER_REASON },
        { file: 'exports/2026-03-01/orders-b.csv', line: 2, reason: UNKNOWN_CUSTOMER_REASON },
        { file: 'exports/2026-03-01/orders-b.csv', line: 3, reason: UNKNOWN_CUSTOMER_REASON },
        { file: 'exports/2026-03-01/orders-b.csv', line: 7, reason: UNKNOWN_CUSTOMER_REASON },
      ],
    });
  });

  it('counts the distinct customers noted', () => {
    const orphans = new OrphanOrderLines();
    expect(orphans.customers).toBe(0);
    orphans.note('a', { file: 'o.csv', line: 2 });
    orphans.note('a', { file: 'o.csv', line: 3 });
    orphans.note('b', { file: 'o.csv', line: 4 });
    expect(orphans.customers).toBe(2);
  });

  it('rejects nothing of the ids the base knows: only the ids the predicate picks are left out', () => {
    const orphans = new OrphanOrderLines();
    orphans.note('known', { file: 'o.csv', line: 2 });
    orphans.note('stranger', { file: 'o.csv', line: 3 });
    orphans.note('known', { file: 'p.csv', line: 5 });
    const result = orphans.rejectsOf((id) => id !== 'known');
    expect(result).toEqual({
      customerIds: ['stranger'],
      perFile: { 'o.csv': 1 },
      rejected: 1,
      rejects: [{ file: 'o.csv', line: 3, reason: UNKNOWN_CUSTOMER_REASON }],
    });
    expect(orphans.rejectsOf(() => false)).toEqual(noUnknownCustomers());
  });

  it('notes an order line whose customer no customer row read so far carries: by id, or for a Shopify line by its email identity', () => {
    const orphans = new OrphanOrderLines();
    const rows = { hasCustomerRecord: (id: string) => id === 'c-row', hasCustomerWithEmail: (email: string) => email === 'row@example.com' };
    const line = (fields: Partial<OrderLine>): OrderLine => ({ orderId: 'o', orderedAt: 0, quantity: 1, lineTotalMinor: 100, refundedMinor: 0, status: 'paid', ...fields });
    orphans.noteUnlessKnown(line({ customerId: 'c-row' }), { file: 'o.csv', line: 2 }, rows);
    orphans.noteUnlessKnown(line({ customerId: 'c-none' }), { file: 'o.csv', line: 3 }, rows);
    orphans.noteUnlessKnown(line({ email: 'row@example.com' }), { file: 'o.csv', line: 4 }, rows);
    orphans.noteUnlessKnown(line({ email: 'none@example.com' }), { file: 'o.csv', line: 5 }, rows);
    expect(orphans.rejectsOf(everyone).customerIds).toEqual(['c-none', emailIdentity('none@example.com')].sort());
  });

  it('has no rejects when nothing was noted', () => {
    expect(new OrphanOrderLines().rejectsOf(everyone)).toEqual(noUnknownCustomers());
  });

  it('keeps the first 10,000 rejects but counts every line', () => {
    const orphans = new OrphanOrderLines();
    const at: Cursor = { file: 'o.csv', line: 0 };
    for (let line = 2; line < 10_007; line++) {
      at.line = line;
      orphans.note(`c${line % 13}`, at);
    }
    const result = orphans.rejectsOf(everyone);
    expect(result.rejected).toBe(10_005);
    expect(result.perFile).toEqual({ 'o.csv': 10_005 });
    expect(result.rejects).toHaveLength(10_000);
    expect(result.customerIds).toHaveLength(13);
  });

  it('for any notes: counts per file are exact, ids are sorted and distinct, rejects sorted by file then line', () => {
    const note = fc.record({ customerId: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), file: fc.constantFrom('x/orders-1.csv', 'x/orders-2.csv', 'y/orders.csv.gz'), line: fc.integer({ min: 2, max: 500 }) });
    fc.assert(
      fc.property(fc.array(note, { maxLength: 60 }), fc.subarray(['a', 'b', 'c', 'd', 'e', 'f']), (notes, unknown) => {
        const orphans = new OrphanOrderLines();
        const at: Cursor = { file: '', line: 0 };
        for (const n of notes) {
          at.file = n.file;
          at.line = n.line;
          orphans.note(n.customerId, at);
        }
        const picked = notes.filter((n) => unknown.includes(n.customerId));
        const result = orphans.rejectsOf((id) => unknown.includes(id));

        const expectedPerFile: Record<string, number> = {};
        for (const n of picked) expectedPerFile[n.file] = (expectedPerFile[n.file] ?? 0) + 1;
        expect(result.perFile).toEqual(expectedPerFile);
        expect(result.rejected).toBe(picked.length);
        expect(result.customerIds).toEqual([...new Set(picked.map((n) => n.customerId))].sort());
        const byFileThenLine = picked
          .map((n) => ({ file: n.file, line: n.line, reason: UNKNOWN_CUSTOMER_REASON }))
          .sort((p, q) => (p.file < q.file ? -1 : p.file > q.file ? 1 : p.line - q.line));
        expect(result.rejects).toEqual(byFileThenLine);
      }),
    );
  });

  it('gives the same counts whether the lines are noted in one place or split by customer over shards and added up', () => {
    const note = fc.record({ customerId: fc.stringMatching(/^c[0-9]{1,2}$/), file: fc.constantFrom('orders-1.csv', 'orders-2.csv', 'orders-3.csv'), line: fc.integer({ min: 2, max: 10_000 }) });
    fc.assert(
      fc.property(fc.array(note, { maxLength: 80 }), fc.integer({ min: 1, max: 5 }), fc.func(fc.boolean()), (notes, shardCount, isUnknown) => {
        const shardOf = (customerId: string) => Number(customerId.slice(1)) % shardCount;
        const whole = new OrphanOrderLines();
        const shards = Array.from({ length: shardCount }, () => new OrphanOrderLines());
        const at: Cursor = { file: '', line: 0 };
        for (const n of notes) {
          at.file = n.file;
          at.line = n.line;
          whole.note(n.customerId, at);
          shards[shardOf(n.customerId)]?.note(n.customerId, at);
        }
        const all = whole.rejectsOf(isUnknown);
        const parts: UnknownCustomerRejects[] = shards.map((s) => s.rejectsOf(isUnknown));

        expect(addPerFile(parts.map((p) => p.perFile))).toEqual(all.perFile);
        expect(parts.reduce((sum, p) => sum + p.rejected, 0)).toBe(all.rejected);
        expect(parts.flatMap((p) => p.customerIds).sort()).toEqual(all.customerIds);
        expect(parts.reduce((sum, p) => sum + p.rejects.length, 0)).toBe(all.rejects.length);
      }),
    );
  });
});

describe('addPerFile', () => {
  it('adds the counts of the same file and keeps the files only one part has', () => {
    expect(addPerFile([{ 'a.csv': 2, 'b.csv': 1 }, {}, { 'a.csv': 3, 'c.csv': 4 }])).toEqual({ 'a.csv': 5, 'b.csv': 1, 'c.csv': 4 });
  });

  it('is empty for no parts and leaves its parts unchanged', () => {
    expect(addPerFile([])).toEqual({});
    const part = { 'a.csv': 2 };
    addPerFile([part, part]);
    expect(part).toEqual({ 'a.csv': 2 });
  });
});

describe('withRejectsPerFile', () => {
  type Report = Pick<FileReport, 'location' | 'rejected'> & { rows: number };
  const files: Report[] = [
    { location: 'exports/customers.csv', rejected: 0, rows: 100 },
    { location: 'exports/orders-1.csv', rejected: 3, rows: 500 },
    { location: 'exports/orders-2.csv', rejected: 0, rows: 400 },
  ];

  it('adds the rejects to the files they came from and leaves the other files as they were', () => {
    const before = structuredClone(files);
    const result = withRejectsPerFile(files, { 'exports/orders-1.csv': 7, 'exports/elsewhere.csv': 9 });
    expect(result).toEqual([
      { location: 'exports/customers.csv', rejected: 0, rows: 100 },
      { location: 'exports/orders-1.csv', rejected: 10, rows: 500 },
      { location: 'exports/orders-2.csv', rejected: 0, rows: 400 },
    ]);
    expect(result[0]).toBe(files[0]);
    expect(result[2]).toBe(files[2]);
    expect(files).toEqual(before);
  });

  it('changes nothing with no rejects', () => {
    expect(withRejectsPerFile(files, {})).toEqual(files);
    expect(withRejectsPerFile(files, { 'exports/orders-2.csv': 0 })).toEqual(files);
  });
});

describe('OrphanOrderLines past the kept rejects', () => {
  it('keeps the first 10,000 rejects by file and line, whatever the customer ids', () => {
    const orphans = new OrphanOrderLines();
    const at = { file: 's3://b/orders.csv', line: 0 };
    for (let line = 2; line <= 10_001; line += 1) {
      at.line = line;
      orphans.note('b', at);
    }
    at.line = 20_000;
    orphans.note('a', at);
    const { rejects, rejected } = orphans.rejectsOf(() => true);
    expect(rejected).toBe(10_001);
    expect(rejects).toHaveLength(10_000);
    expect(rejects.map((r) => r.line)).toEqual(Array.from({ length: 10_000 }, (_, k) => k + 2));
  });
});
