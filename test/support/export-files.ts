import { mkdtempSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll } from 'vitest';
import { parseConfig, type Config, type ConfigInput } from '#shared/config.ts';
import type { CustomerRecord, OrderLine, ProductRecord } from '#shared/model.ts';
import { readExport } from '#shared/exports/reader.ts';
import { directoryExportSource, type ExportSource } from '#shared/exports/source.ts';
import { runClock } from '#shared/tiering/profile.ts';
import type { ExportHandlers, ReadResult } from '#shared/exports/types.ts';

/** Export files for tests: written to temp folders or served from memory, and read back with the export reader. */

const dirs: string[] = [];

/** Writes `files` (name → content) into a fresh temp folder and returns its path. */
export async function exportDir(files: Record<string, string | Buffer>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'clientele-exports-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  return dir;
}

export async function removeExportDirs(): Promise<void> {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** The run's clock of the tests: the night of 2026-11-23 in Asia/Shanghai. */
export const TEST_NOW = runClock('2026-11-23', 'Asia/Shanghai').now;

export function testConfig(overrides: Partial<ConfigInput> = {}): Config {
  return parseConfig({ timeZone: 'Asia/Shanghai', currency: 'USD', maxRejectShare: 1, ...overrides });
}

export interface Collected {
  handlers: ExportHandlers;
  customers: CustomerRecord[];
  orders: OrderLine[];
  products: ProductRecord[];
  /** "customer:<id>", "order:<id>", "product:<sku>" in arrival order. */
  sequence: string[];
}

export function collector(): Collected {
  const collected: Collected = {
    customers: [],
    orders: [],
    products: [],
    sequence: [],
    handlers: {
      customer(record) {
        collected.customers.push(record);
        collected.sequence.push(`customer:${record.customerId}`);
      },
      order(line) {
        collected.orders.push(line);
        collected.sequence.push(`order:${line.orderId}`);
      },
      product(record) {
        collected.products.push(record);
        collected.sequence.push(`product:${record.sku}`);
      },
    },
  };
  return collected;
}

/** Reads a folder written by exportDir with the test config (and overrides). */
export async function readDir(
  dir: string,
  overrides: Partial<ConfigInput> = {},
): Promise<Collected & { result: ReadResult; config: Config }> {
  const collected = collector();
  const config = testConfig(overrides);
  const result = await readExport(directoryExportSource(dir), collected.handlers, { config, now: TEST_NOW });
  return { ...collected, result, config };
}

/** Writes the files and reads them. */
export async function readFiles(files: Record<string, string | Buffer>, overrides: Partial<ConfigInput> = {}) {
  return readDir(await exportDir(files), overrides);
}

/** An in-memory source listing its files in the given (possibly unsorted) order. */
export function memorySource(files: [string, string | Buffer][]): ExportSource {
  const contents = new Map(files);
  return {
    describe: () => 'memory://export/',
    location: (key) => `memory://export/${key}`,
    list: async () => files.map(([key, content]) => ({ key, size: Buffer.byteLength(content) })),
    open: async (key) => {
      const content = contents.get(key);
      if (content === undefined) throw new Error(`no such file ${key}`);
      // Small chunks, so that records and the gzip magic number straddle chunk boundaries.
      const buffer = Buffer.from(content);
      const chunks: Buffer[] = [];
      for (let i = 0; i < buffer.length; i += 7) chunks.push(buffer.subarray(i, i + 7));
      return Readable.from(chunks);
    },
  };
}

export const CUSTOMERS_CSV = 'customer_id,email\nC1,c1@example.com\n';

/** The columns of Shopify's customers_export.csv and orders_export.csv a night reads. */
export const SHOPIFY_CUSTOMERS_HEADER = ['Customer ID', 'First Name', 'Last Name', 'Email', 'Accepts Email Marketing'];
export const SHOPIFY_ORDERS_HEADER = ['Name', 'Email', 'Financial Status', 'Created at', 'Currency', 'Subtotal', 'Lineitem quantity', 'Lineitem name', 'Lineitem price', 'Lineitem sku'];

/** A paid one-line Shopify order placed on November `day` 2026 at 10:00 +08:00 (SHOPIFY_ORDERS_HEADER's columns), as the changed-address tests write them. */
export function shopifyNovemberOrder(name: string, email: string, day: string, amount: string, sku: string): string {
  return shopifyNovemberOrderRow(name, email, day, amount, sku).join(',');
}

/** shopifyNovemberOrder's cells, for `csv` and exportFolder. */
export function shopifyNovemberOrderRow(name: string, email: string, day: string, amount: string, sku: string): string[] {
  return [name, email, 'paid', `2026-11-${day} 10:00:00 +0800`, 'USD', amount, '1', sku, amount, sku];
}

/** An export folder `work/name` of these files, each written from its rows (`csv`). */
export async function exportFolder(work: string, name: string, files: Record<string, readonly (readonly (string | number)[])[]>): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  for (const [file, rows] of Object.entries(files)) await writeFile(join(dir, file), csv(rows));
  return dir;
}

/** A Shopify export folder `work/name`: one customers file and one orders file of these CSV lines under the headers above. */
export async function shopifyExportDir(work: string, name: string, customers: readonly string[], orders: readonly string[]): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'customers_export_1.csv'), [SHOPIFY_CUSTOMERS_HEADER.join(','), ...customers].join('\n') + '\n');
  await writeFile(join(dir, 'orders_export_1.csv'), [SHOPIFY_ORDERS_HEADER.join(','), ...orders].join('\n') + '\n');
  return dir;
}

/** Guards open: a base of a few clients moves a large share of them with one change. */
export const LENIENT_GUARDS = {
  maxRejectShare: 1,
  plausibility: { maxDropShare: 1, maxDowngradeShare: 1, maxUpgradeShare: 1, maxUnexplainedLapseShare: 1, maxConsentGivenBackShare: 1, maxAddressChangeShare: 1 },
} as const;

/** CSV text from rows of cells (quoted only when needed). */
export function csv(rows: readonly (readonly (string | number)[])[], eol = '\n'): string {
  return rows
    .map((row) =>
      row
        .map((cell) => {
          const text = String(cell);
          return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
        })
        .join(','),
    )
    .join(eol)
    .concat(eol);
}

/** A temp folder for one test file's generated exports, made now and removed after the file's tests. */
export function scratchDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `clientele-${name}-`));
  afterAll(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
