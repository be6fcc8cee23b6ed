import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { ExportIncompleteError } from '#shared/exports/errors.ts';
import { CUSTOMERS, failure, orders, read, removeExportDirs } from './reading.ts';

afterAll(removeExportDirs);

/** _manifest.json may list the export's files with their data rows and sha256; then every file is checked against it. */

const sha256 = (content: string | Buffer) => createHash('sha256').update(content).digest('hex');
const ORDERS_GZ = gzipSync(orders(3));

function manifest(files: { name: string; rows: number; sha256: string }[], mode = 'full'): string {
  return JSON.stringify({ mode, generatedAt: '2026-11-24T02:00:00+08:00', files });
}

const listed = () => [
  { name: 'customers.csv', rows: 2, sha256: sha256(CUSTOMERS) },
  { name: 'orders-0001.csv.gz', rows: 3, sha256: sha256(ORDERS_GZ) },
];

describe('a manifest that lists the files', () => {
  it('reads an export that matches it (hex in any case, unknown keys allowed)', async () => {
    const files = listed().map((f, i) => (i === 0 ? { ...f, sha256: f.sha256.toUpperCase(), producer: 'x' } : f));
    const { result } = await read({ '_manifest.json': manifest(files), 'customers.csv': CUSTOMERS, 'orders-0001.csv.gz': ORDERS_GZ });
    expect(result).toMatchObject({ mode: 'full', rows: 5, rejected: 0 });
  });

  it('keeps the mode working, with or without files', async () => {
    const { result } = await read({
      '_manifest.json': manifest([{ name: 'orders-0001.csv.gz', rows: 3, sha256: sha256(ORDERS_GZ) }], 'incremental'),
      'orders-0001.csv.gz': ORDERS_GZ,
    });
    expect(result.mode).toBe('incremental');
    expect((await read({ '_manifest.json': '{"mode":"incremental"}', 'orders.csv': orders(1) })).result.mode).toBe('incremental');
  });

  it('fails when a listed file is missing', async () => {
    const files = [...listed(), { name: 'orders-0002.csv.gz', rows: 3, sha256: sha256(ORDERS_GZ) }];
    const { error, dir, received } = await failure({ '_manifest.json': manifest(files), 'customers.csv': CUSTOMERS, 'orders-0002.csv.gz': ORDERS_GZ });
    expect(error.file).toBe(`${dir}/orders-0001.csv.gz`);
    expect(error.message).toBe(`${dir}/orders-0001.csv.gz: is listed in the manifest but is not in the export (_manifest.json)`);
    expect(received.customers).toEqual([]); // before any row was handed over
  });

  it('fails when an export file is there but not listed, before reading anything', async () => {
    const { error, dir, received } = await failure({
      '_manifest.json': manifest(listed()),
      'customers.csv': CUSTOMERS,
      'orders-0001.csv.gz': ORDERS_GZ,
      'orders-0002.csv': orders(1, 50),
    });
    expect(error.file).toBe(`${dir}/orders-0002.csv`);
    expect(error.message).toBe(`${dir}/orders-0002.csv: is not listed in _manifest.json, which lists every file of the export: a stray or late file?`);
    expect(received.customers).toEqual([]);
  });

  it('fails on a row count that differs (a file cut at a record end)', async () => {
    const cut = orders(3).split('\n').slice(0, 3).join('\n').concat('\n');
    const files = [listed()[0] as { name: string; rows: number; sha256: string }, { name: 'orders.csv', rows: 3, sha256: sha256(orders(3)) }];
    const { error, dir } = await failure({ '_manifest.json': manifest(files), 'customers.csv': CUSTOMERS, 'orders.csv': cut });
    expect(error.message).toBe(`${dir}/orders.csv: has 2 data rows, _manifest.json says 3: truncated, or not the file the manifest describes`);
  });

  it('fails on a sha256 that differs, though the rows count the same', async () => {
    const changed = orders(3).replace('10.00', '99.00');
    const files = [listed()[0] as { name: string; rows: number; sha256: string }, { name: 'orders.csv', rows: 3, sha256: sha256(orders(3)) }];
    const { error, dir } = await failure({ '_manifest.json': manifest(files), 'customers.csv': CUSTOMERS, 'orders.csv': changed });
    expect(error.message).toBe(`${dir}/orders.csv: does not match its sha256 in _manifest.json: changed or damaged since the manifest was written`);
  });

  it('reads a file without a final line ending when it lists it: its rows and sha256 prove it whole; one cut short still fails', async () => {
    const whole = orders(3).slice(0, -1); // as a platform that writes no final line ending gives it
    const files = [listed()[0] as { name: string; rows: number; sha256: string }, { name: 'orders.csv', rows: 3, sha256: sha256(whole) }];
    const { result } = await read({ '_manifest.json': manifest(files), 'customers.csv': CUSTOMERS, 'orders.csv': whole });
    expect(result).toMatchObject({ rows: 5, rejected: 0 });
    const { error } = await failure({ '_manifest.json': manifest(files), 'customers.csv': CUSTOMERS, 'orders.csv': whole.slice(0, -3) });
    expect(error.message).toContain('does not match its sha256');
  });

  it('catches a last field changed to another valid value, which the CSV alone cannot tell', async () => {
    const whole = orders(3);
    const cut = `${whole.slice(0, whole.length - 4)}\n`; // "10.00\n" → "10\n" (a cut, its line ending put back)
    const files = [listed()[0] as { name: string; rows: number; sha256: string }, { name: 'orders.csv', rows: 3, sha256: sha256(whole) }];
    const { error } = await failure({ '_manifest.json': manifest(files), 'customers.csv': CUSTOMERS, 'orders.csv': cut });
    expect(error.message).toContain('does not match its sha256');
  });

  it.each([
    ['a mode that is not one', '{"mode":"partial"}', 'mode: must be "full" or "incremental"'],
    ['files that is not a list', '{"files":{}}', 'files: must be a list of { name, rows, sha256 }'],
    ['a bad sha256', JSON.stringify({ files: [{ name: 'orders.csv', rows: 1, sha256: 'abc' }] }), 'files.0.sha256: must be 64 hexadecimal digits'],
    ['a negative row count', JSON.stringify({ files: [{ name: 'orders.csv', rows: -1, sha256: 'a'.repeat(64) }] }), 'files.0.rows: must not be negative'],
    ['a name with a folder', JSON.stringify({ files: [{ name: 'x/orders.csv', rows: 1, sha256: 'a'.repeat(64) }] }), 'files.0.name: must be a file name without a folder'],
    [
      'a file listed twice',
      JSON.stringify({ files: [1, 2].map(() => ({ name: 'orders.csv', rows: 1, sha256: 'a'.repeat(64) })) }),
      'files.1.name: lists the same file twice',
    ],
  ])('refuses %s', async (_, text, problem) => {
    const { error, dir } = await failure({ '_manifest.json': text, 'customers.csv': CUSTOMERS, 'orders.csv': orders(1) });
    expect(error.file).toBe(`${dir}/_manifest.json`);
    expect(error.message).toBe(`${dir}/_manifest.json: is not a valid manifest: ${problem}`);
  });

  it('refuses a listed name that is not an export file', async () => {
    const files = [...listed(), { name: 'notes.txt', rows: 1, sha256: 'a'.repeat(64) }];
    const { error, dir } = await failure({ '_manifest.json': manifest(files), 'customers.csv': CUSTOMERS, 'orders-0001.csv.gz': ORDERS_GZ, 'notes.txt': 'hi' });
    expect(error.message).toBe(`${dir}/notes.txt: is listed in the manifest but is not an export file name (_manifest.json)`);
  });
});

describe('exports.requireManifest: the producer writes the manifest last', () => {
  const required = { config: { exports: { requireManifest: true } } };

  it('reads an export whose manifest lists its files', async () => {
    const { result } = await read({ '_manifest.json': manifest(listed()), 'customers.csv': CUSTOMERS, 'orders-0001.csv.gz': ORDERS_GZ }, required);
    expect(result).toMatchObject({ mode: 'full', rows: 5 });
  });

  it('fails an export without a manifest, naming the folder, before reading anything (still being written)', async () => {
    const { error, dir, received } = await failure({ 'customers.csv': CUSTOMERS, 'orders-0001.csv.gz': ORDERS_GZ }, required);
    expect(error.file).toBe(dir);
    // Its own class: the hourly intraday ingest waits for such a folder instead of setting it aside.
    expect(error).toBeInstanceOf(ExportIncompleteError);
    expect(error.message).toBe(
      `${dir}: has no _manifest.json, and exports.requireManifest says the producer writes one last, listing every file: ` +
        'the export may still be being written. Rerun once the manifest is there',
    );
    expect(received.customers).toEqual([]);
    // An export that has not started arriving says the same, rather than "no customers file".
    expect((await failure({}, required)).error.message).toMatch(/: has no _manifest\.json, and exports\.requireManifest/);
  });

  it('fails a manifest that lists no files, naming it: it cannot say the export is whole', async () => {
    const { error, dir } = await failure({ '_manifest.json': '{"mode":"full"}', 'customers.csv': CUSTOMERS, 'orders.csv': orders(1) }, required);
    expect(error.message).toMatch(new RegExp(`^${dir}/_manifest\\.json: lists no files, and exports\\.requireManifest says`));
  });

  it("does not hold back an increment's drops read again after a later drop replaced their manifest (mergedBefore): they read as incremental", async () => {
    const { result } = await read({ 'customers.csv': CUSTOMERS }, { ...required, mergedBefore: true });
    expect(result).toMatchObject({ mode: 'incremental', rows: 2 });
    // The folder's manifest now, a later drop's listing only its own files, is not held against them: they were checked at their merge.
    const later = JSON.stringify({ mode: 'incremental', files: [{ name: 'customers-2.csv', rows: 1, sha256: '0'.repeat(64) }] });
    const again = await read({ '_manifest.json': later, 'customers.csv': CUSTOMERS }, { ...required, mergedBefore: true });
    expect(again.result).toMatchObject({ mode: 'incremental', rows: 2 });
    // Read as a new export, that manifest refuses the file.
    const { error } = await failure({ '_manifest.json': later, 'customers.csv': CUSTOMERS }, required);
    expect(error.message).toMatch(/customers\.csv: is not listed in _manifest\.json/);
  });

  it('is off by default: an export without a manifest is read', async () => {
    expect((await read({ 'customers.csv': CUSTOMERS, 'orders.csv': orders(1) })).result.rows).toBe(3);
  });
});
