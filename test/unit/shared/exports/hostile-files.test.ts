import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { CUSTOMERS, failure, read, removeExportDirs } from './reading.ts';

/** Hostile files the reader handles, each read as the night reads it. */

afterAll(removeExportDirs);

const H = 'order_id,customer_id,ordered_at,line_total';
const ORDER = `${H}\nO1,C1,2026-11-22T10:00:00Z,10.00\n`;
/** Enough good lines that a few rejects stay under the 5% share. */
const FILLER = Array.from({ length: 200 }, (_, i) => `P${i},C1,2026-11-22T10:00:00Z,1.00`).join('\n') + '\n';

describe('files the night must refuse, naming the file', () => {
  it('a customers file in UTF-16 with its BOM: binary, line 1', async () => {
    const { error, dir } = await failure({ 'customers.csv': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(CUSTOMERS, 'utf16le')]), 'orders.csv': ORDER });
    expect(error.message).toBe(`${dir}/customers.csv, line 1: is not a UTF-8 text file (it contains binary data: a NUL byte)`);
  });

  it('a required column renamed (line_amount): missing, named', async () => {
    const { error } = await failure({ 'customers.csv': CUSTOMERS, 'orders.csv': ORDER.replace('line_total', 'line_amount') });
    expect(error.message).toMatch(/orders\.csv, line 1: missing required column "line_total"/);
  });

  it('a header whose first name starts with a zero-width space: the column is missing, named', async () => {
    const { error } = await failure({ 'customers.csv': '\u200bcustomer_id,email\nC1,c1@example.com\n', 'orders.csv': ORDER });
    expect(error.message).toMatch(/customers\.csv, line 1: missing required column "customer_id"/);
  });

  it('an empty gzip, and a gzip of the header only: no data rows', async () => {
    for (const body of [Buffer.alloc(0), Buffer.from(`${H}\n`)]) {
      const { error } = await failure({ 'customers.csv': CUSTOMERS, 'orders.csv.gz': gzipSync(body) });
      expect(error.message).toMatch(/orders\.csv\.gz: has no data rows/);
    }
  });
});

describe('values read as rejects or as written', () => {
  it('thousands separators and a comma decimal are rejects, listed with their line; a sign, a trailing point and spaces read', async () => {
    const r = await read({
      'customers.csv': CUSTOMERS,
      'orders.csv': `${H}\nO1,C1,2026-11-22T10:00:00Z,"1,280.00"\nO2,C1,2026-11-22T10:00:00Z,"12,50"\nO4,C1,2026-11-22T10:00:00Z,+12\nO5,C1,2026-11-22T10:00:00Z,12.\nO7,C1,2026-11-22T10:00:00Z, 12.00 \n` + FILLER,
    });
    expect(r.result.rejects?.map((x) => x.line)).toEqual([2, 3]);
    expect(r.orders.filter((o) => o.orderId.startsWith('O')).map((o) => [o.orderId, o.lineTotalMinor])).toEqual([
      ['O4', 1200],
      ['O5', 1200],
      ['O7', 1200],
    ]);
  });

  it('a line total with more decimals than the currency has is rounded half to even, without a reject or warning (noted: prices are refused in that case)', async () => {
    const r = await read({ 'customers.csv': CUSTOMERS, 'orders.csv': `${H}\nO3,C1,2026-11-22T10:00:00Z,12.345\n` });
    expect(r.orders.map((o) => o.lineTotalMinor)).toEqual([1234]);
    expect(r.result.rejects ?? []).toEqual([]);
  });

  it('timestamps: a date alone, a space, an hour-only offset read; epoch seconds and day/month/year are rejects', async () => {
    const r = await read({
      'customers.csv': CUSTOMERS,
      'orders.csv': `${H}\nO1,C1,2026-11-22,10.00\nO2,C1,2026-11-22 10:00,10.00\nO3,C1,2026-11-22T10:00:00+08,10.00\nO4,C1,1764000000,10.00\nO6,C1,22/11/2026 10:00,10.00\n` + FILLER,
    });
    expect(r.result.rejects?.map((x) => `${x.line} ${x.reason}`)).toEqual(['5 ordered_at: invalid timestamp (expected ISO 8601)', '6 ordered_at: invalid timestamp (expected ISO 8601)']);
    expect(r.orders.filter((o) => o.orderId.startsWith('O')).map((o) => o.orderId)).toEqual(['O1', 'O2', 'O3']);
  });

  it('replenish_days 0, negative, decimal, in exponent form or above ten years: the field dropped with a warning, the product kept', async () => {
    const r = await read({ 'customers.csv': CUSTOMERS, 'orders.csv': ORDER, 'products.csv': 'sku,replenish_days\nA,0\nB,-5\nD,30.5\nE,1e3\nC,10000\nF,3650\n' });
    expect(r.products.map((p) => [p.sku, p.replenishDays ?? null])).toEqual([
      ['A', null],
      ['B', null],
      ['D', null],
      ['E', null],
      ['C', null],
      ['F', 3650],
    ]);
  });
});

describe('a file that is not what its name says', () => {
  it('orders.csv.gz holding plain text, and orders.csv holding gzip bytes: each read by what it holds (the gzip magic), not by its name', async () => {
    const variants: Record<string, string | Buffer>[] = [{ 'orders.csv.gz': ORDER }, { 'orders.csv': gzipSync(Buffer.from(ORDER)) }];
    for (const files of variants) {
      const r = await read({ 'customers.csv': CUSTOMERS, ...files });
      expect(r.orders.map((o) => [o.orderId, o.lineTotalMinor])).toEqual([['O1', 1000]]);
    }
  });

  it('a JSONL customers file with a BOM and CRLF line ends reads', async () => {
    const r = await read({ 'customers.jsonl': '\ufeff{"customer_id":"C1","email":"c1@example.com"}\r\n{"customer_id":"C2"}\r\n', 'orders.csv': ORDER });
    expect(r.customers.map((c) => c.customerId)).toEqual(['C1', 'C2']);
  });
});
