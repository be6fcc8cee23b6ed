import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateExport } from '#local/generate/generate.ts';
import type { GenerateOptions } from '#local/generate/generate.ts';
import { Rng } from '#local/generate/random.ts';
import { csvRow } from '#local/generate/csv.ts';
import { addDays, parseTimestamp, startOfLocalDay } from '#shared/time.ts';
import { readCsv, readText, sha256s, tempDir, validateGenericOrder } from './helpers.ts';

/** Determinism, file layout (formats, parts, gzip), options and validation. */

const BASE: GenerateOptions = { customers: 1500, seed: 7, asOf: '2026-11-22' };

let root: string;
let counter = 0;
const out = (): string => join(root, `run-${++counter}`);

beforeAll(async () => {
  root = await tempDir('files');
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('Rng', () => {
  it('is a pure function of (seed, index, stream)', () => {
    const draw = (seed: number, index: number, stream: number): number[] => {
      const rng = new Rng(seed, index, stream);
      return Array.from({ length: 5 }, () => rng.nextU32());
    };
    expect(draw(1, 2, 3)).toEqual(draw(1, 2, 3));
    expect(draw(1, 2, 3)).not.toEqual(draw(1, 3, 3));
    expect(draw(1, 2, 3)).not.toEqual(draw(2, 2, 3));
    expect(draw(1, 2, 3)).not.toEqual(draw(1, 2, 4));
    const rng = new Rng(42);
    let sum = 0;
    let outside = 0;
    for (let i = 0; i < 10_000; i++) {
      const x = rng.float();
      if (!(x >= 0 && x < 1)) outside += 1;
      sum += x;
    }
    expect(outside).toBe(0);
    expect(sum / 10_000).toBeGreaterThan(0.48);
    expect(sum / 10_000).toBeLessThan(0.52);
  });
});

describe('csvRow', () => {
  it('quotes only fields that need it (RFC 4180)', () => {
    expect(csvRow(['a', 'b,c', 'say "hi"', 'two\nlines', ''])).toBe('a,"b,c","say ""hi""","two\nlines",\n');
  });
});

describe('generateExport', () => {
  it('is deterministic: the same seed gives byte-identical files, another seed different ones', async () => {
    const a = out();
    const b = out();
    const c = out();
    const first = await generateExport(BASE, a);
    const second = await generateExport(BASE, b);
    const other = await generateExport({ ...BASE, seed: 8 }, c);
    expect(second).toEqual(first);
    const hashes = await sha256s(a);
    expect(Object.keys(hashes).sort()).toEqual(['advisors.csv', 'customers.csv', 'orders.csv', 'products.csv']);
    expect(await sha256s(b)).toEqual(hashes);
    const otherHashes = await sha256s(c);
    expect(otherHashes['customers.csv']).not.toBe(hashes['customers.csv']);
    expect(otherHashes['orders.csv']).not.toBe(hashes['orders.csv']);
    // The catalogue does not depend on the seed.
    expect(otherHashes['products.csv']).toBe(hashes['products.csv']);
    // The roster depends on the number of clients only.
    expect(otherHashes['advisors.csv']).toBe(hashes['advisors.csv']);
    expect(other.orders).not.toBe(first.orders);
  });

  it('is deterministic for Shopify, gzip and parts too, and writes reproducible gzip headers', async () => {
    const options: GenerateOptions = { ...BASE, customers: 600, format: 'shopify', gzip: true, orderParts: 3 };
    const a = out();
    const b = out();
    const summary = await generateExport(options, a);
    await generateExport(options, b);
    expect(summary.files).toEqual(['customers_export.csv.gz', 'orders_export_1.csv.gz', 'orders_export_2.csv.gz', 'orders_export_3.csv.gz']);
    expect((await readdir(a)).sort()).toEqual([...summary.files].sort());
    expect(await sha256s(b)).toEqual(await sha256s(a));
    const bytes = await readFile(join(a, 'customers_export.csv.gz'));
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
    // No mtime, no file name.
    expect(bytes.readUInt32LE(4)).toBe(0);
    expect(bytes[3]).toBe(0);
  });

  it('splits orders into parts of whole clients without changing the data', async () => {
    const single = out();
    const parted = out();
    const one = await generateExport({ ...BASE, customers: 800 }, single);
    const many = await generateExport({ ...BASE, customers: 800, orderParts: 4, gzip: true }, parted);
    expect(many.files).toEqual([
      'customers.csv.gz', 'orders-0001.csv.gz', 'orders-0002.csv.gz', 'orders-0003.csv.gz', 'orders-0004.csv.gz', 'products.csv.gz', 'advisors.csv.gz',
    ]);
    expect(many.orderLines).toBe(one.orderLines);
    const whole = (await readText(join(single, 'orders.csv'))).split('\n').filter((l) => l !== '');
    const header = whole[0];
    const joined: string[] = [];
    const sizes: number[] = [];
    const partClients: Set<string>[] = [];
    for (const name of many.files.filter((f) => f.startsWith('orders-'))) {
      const text = (await readText(join(parted, name))).split('\n').filter((l) => l !== '');
      expect(text[0]).toBe(header);
      sizes.push(text.length - 1);
      joined.push(...text.slice(1));
      partClients.push(new Set((await readCsv(join(parted, name))).map((r) => r.customer_id ?? '')));
    }
    // The same rows, shared out in blocks of clients, parts of comparable size.
    expect([...joined].sort()).toEqual(whole.slice(1).sort());
    expect(Math.max(...sizes) / Math.min(...sizes)).toBeLessThan(2);
    // A client's orders are never split across parts.
    for (let i = 0; i < partClients.length; i++) {
      for (let j = i + 1; j < partClients.length; j++) {
        const shared = [...(partClients[i] ?? [])].filter((id) => id !== '' && partClients[j]?.has(id));
        expect(shared).toEqual([]);
      }
    }
    expect(await readText(join(parted, 'customers.csv.gz'))).toBe(await readText(join(single, 'customers.csv')));
  });

  it('starts every Shopify part with the first line of an order', async () => {
    const dir = out();
    const summary = await generateExport({ ...BASE, customers: 400, format: 'shopify', orderParts: 3 }, dir);
    let rows = 0;
    for (const name of summary.files.filter((f) => f.startsWith('orders_export_'))) {
      const part = await readCsv(join(dir, name));
      expect(part[0]?.Email).not.toBe('');
      rows += part.length;
    }
    expect(rows).toBe(summary.orderLines + summary.malformedRows);
  });

  it('writes exactly the requested number of malformed rows, and none when disabled', async () => {
    const count = async (options: GenerateOptions): Promise<{ rejected: number; reported: number }> => {
      const dir = out();
      const summary = await generateExport(options, dir);
      const rows = await readCsv(join(dir, 'orders.csv'));
      return { rejected: rows.filter((r) => typeof validateGenericOrder(r, 'USD') === 'string').length, reported: summary.malformedRows };
    };
    expect(await count({ ...BASE, customers: 300, malformedRows: 7 })).toEqual({ rejected: 7, reported: 7 });
    expect(await count({ ...BASE, customers: 300, malformedRows: 0 })).toEqual({ rejected: 0, reported: 0 });
    const small = await count({ ...BASE, customers: 100 });
    expect(small.reported).toBeGreaterThanOrEqual(3);
    expect(small.rejected).toBe(small.reported);
  });

  it('follows linesPerClient roughly', async () => {
    const dense = await generateExport({ ...BASE, customers: 1000, linesPerClient: 20 }, out());
    const sparse = await generateExport({ ...BASE, customers: 1000, linesPerClient: 5 }, out());
    expect(dense.expected.meanLinesPerBuyer).toBeGreaterThan(14);
    expect(dense.expected.meanLinesPerBuyer).toBeLessThan(30);
    expect(sparse.expected.meanLinesPerBuyer).toBeGreaterThan(3);
    expect(sparse.expected.meanLinesPerBuyer).toBeLessThan(8);
  });

  it('prices in the export currency and leans to the brand market', async () => {
    const dir = out();
    const summary = await generateExport({ ...BASE, customers: 500, timeZone: 'America/New_York', currency: 'CNY' }, dir);
    expect(summary.expected.thresholdsMinor.vic).toBe(360_000 * 100);
    const customers = await readCsv(join(dir, 'customers.csv'));
    const us = customers.filter((c) => c.locale === 'en-US').length;
    expect(us / customers.length).toBeGreaterThan(0.6);
    const orders = await readCsv(join(dir, 'orders.csv'));
    expect(new Set(orders.map((o) => o.currency))).toEqual(new Set(['CNY']));
    const cream = orders.find((o) => o.sku === 'SK-CRM-01' && o.quantity === '1' && o.line_total?.endsWith('0.00'));
    expect(Number(cream?.line_total)).toBeGreaterThan(2500);
    // Orders end at midnight after asOf in the brand zone.
    const end = Date.parse('2026-11-23T00:00:00-05:00');
    const late = orders.filter((o) => {
      const line = validateGenericOrder(o, 'CNY');
      return typeof line !== 'string' && line.at >= end;
    });
    expect(late).toEqual([]);
  });

  it('handles tiny exports: no clients, fewer clients than parts', async () => {
    const empty = out();
    const none = await generateExport({ ...BASE, customers: 0 }, empty);
    expect(none).toMatchObject({ customers: 0, orders: 0, orderLines: 0, malformedRows: 0 });
    expect((await readText(join(empty, 'customers.csv'))).trim().split('\n')).toHaveLength(1);
    expect((await readText(join(empty, 'orders.csv'))).trim().split('\n')).toHaveLength(1);
    const few = out();
    const two = await generateExport({ ...BASE, customers: 2, orderParts: 4, malformedRows: 1 }, few);
    expect(two.files.filter((f) => f.startsWith('orders-'))).toHaveLength(4);
    expect(two.malformedRows).toBe(1);
  });

  it('reports progress', async () => {
    const seen: [number, number][] = [];
    await generateExport({ ...BASE, customers: 50, onProgress: (done, total) => seen.push([done, total]) }, out());
    expect(seen.at(-1)).toEqual([50, 50]);
  });

  it('rejects invalid options', async () => {
    const dir = out();
    await expect(generateExport({ ...BASE, asOf: '2026-13-01' }, dir)).rejects.toThrow(/asOf/);
    await expect(generateExport({ ...BASE, customers: -1 }, dir)).rejects.toThrow(/customers/);
    await expect(generateExport({ ...BASE, customers: 1.5 }, dir)).rejects.toThrow(/customers/);
    await expect(generateExport({ ...BASE, timeZone: 'Mars/Olympus' }, dir)).rejects.toThrow(/time zone/);
    await expect(generateExport({ ...BASE, currency: 'usd' }, dir)).rejects.toThrow(/currency/);
    await expect(generateExport({ ...BASE, orderParts: 0 }, dir)).rejects.toThrow(/orderParts/);
    await expect(generateExport({ ...BASE, malformedRows: -2 }, dir)).rejects.toThrow(/malformedRows/);
    await expect(generateExport({ ...BASE, linesPerClient: 0 }, dir)).rejects.toThrow(/linesPerClient/);
    await expect(generateExport({ ...BASE, cutAt: '2026-11-23' }, dir)).rejects.toThrow(/cutAt/);
    await expect(generateExport({ ...BASE, cutAt: '2026-11' }, dir)).rejects.toThrow(/cutAt/);
  });

  it('cut at an earlier day: the same world as it stood then, with the same ids (a night before sees its past)', async () => {
    const whole = out();
    const cut = out();
    const cutAt = '2026-11-12';
    const cutEnd = startOfLocalDay(addDays(cutAt, 1), 'Asia/Shanghai');
    await generateExport(BASE, whole);
    const summary = await generateExport({ ...BASE, cutAt }, cut);
    const wholeOrders = await readCsv(join(whole, 'orders.csv'));
    const cutOrders = await readCsv(join(cut, 'orders.csv'));
    const placedBy = (row: Record<string, string>) => {
      const at = parseTimestamp(row.ordered_at ?? '', 'Asia/Shanghai');
      return at === undefined || at < cutEnd;
    };
    const lineKey = (row: Record<string, string>) => JSON.stringify(row);
    const wholeCustomers = await readCsv(join(whole, 'customers.csv'));
    const cutCustomers = await readCsv(join(cut, 'customers.csv'));
    const kept = new Set(cutCustomers.map((c) => c.customer_id));
    // Exactly the lines placed by the end of the cut day, same ids and fields (malformed rows
    // without a customer id follow their client, whom the file does not name).
    const expectedLines = wholeOrders.filter((row) => (kept.has(row.customer_id ?? '') || row.customer_id === '') && placedBy(row));
    const removedLater = wholeOrders.filter((row) => kept.has(row.customer_id ?? '') && !placedBy(row)).length;
    const expectedKeys = new Set(expectedLines.map(lineKey));
    const cutKeys = new Set(cutOrders.map(lineKey));
    expect(cutOrders.map(lineKey).filter((k) => !expectedKeys.has(k))).toEqual([]);
    expect(expectedLines.filter((row) => !cutKeys.has(lineKey(row)) && row.customer_id !== '')).toEqual([]);
    expect(removedLater).toBeGreaterThan(0); // the cut did remove later orders
    // Clients: those signed up or ordering by then, the same rows.
    expect(cutCustomers.length).toBeLessThan(wholeCustomers.length);
    const wholeById = new Map(wholeCustomers.map((c) => [c.customer_id, c]));
    for (const c of cutCustomers) expect(c).toEqual(wholeById.get(c.customer_id));
    for (const c of wholeCustomers) {
      if (kept.has(c.customer_id ?? '')) continue;
      expect(parseTimestamp(c.signed_up_at ?? '', 'Asia/Shanghai')).toBeGreaterThanOrEqual(cutEnd);
    }
    expect(summary.customers).toBe(cutCustomers.length);
    expect(summary.expected.windowEnd).toBe(new Date(cutEnd).toISOString());
  });
});
