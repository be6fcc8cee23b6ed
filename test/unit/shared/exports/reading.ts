import { Readable } from 'node:stream';
import { expect } from 'vitest';
import { parseConfig, type Config, type ConfigInput } from '#shared/config.ts';
import { ExportError, readExport, type ReadOptions } from '#shared/exports/reader.ts';
import { directoryExportSource, type ExportSource } from '#shared/exports/source.ts';
import type { ExportHandlers, ReadResult } from '#shared/exports/types.ts';
import type { AdvisorRecord, CustomerRecord, OrderLine, ProductRecord } from '#shared/model.ts';
import { runClock } from '#shared/tiering/profile.ts';
import { csv, exportDir, removeExportDirs } from '#test/support/export-files.ts';

/** Fixtures for the reader's guards: small export folders written to the temp folder, read with a fixed clock. */

export const RUN_DATE = '2026-11-23';
export const TIME_ZONE = 'Asia/Shanghai';
/** The run's clock: the start of 2026-11-24 in Shanghai, 2026-11-23T16:00Z. */
export const NOW = runClock(RUN_DATE, TIME_ZONE).now;

// Temp folders and CSV text as the other export tests make them.
export { csv, exportDir, removeExportDirs };

export function config(overrides: Partial<ConfigInput> = {}): Config {
  return parseConfig({ timeZone: TIME_ZONE, currency: 'USD', ...overrides });
}

export interface Received {
  handlers: ExportHandlers;
  customers: CustomerRecord[];
  orders: OrderLine[];
  products: ProductRecord[];
  advisors: AdvisorRecord[];
  /** "kind file:line" of every row handed over, copied from the position argument. */
  positions: string[];
}

export function receiver(): Received {
  const received: Received = {
    customers: [],
    orders: [],
    products: [],
    advisors: [],
    positions: [],
    handlers: {
      customer(record, at) {
        received.customers.push(record);
        received.positions.push(`customer ${at.file.split('/').pop() ?? ''}:${at.line}`);
      },
      order(line, at) {
        received.orders.push(line);
        received.positions.push(`order ${at.file.split('/').pop() ?? ''}:${at.line}`);
      },
      product(record, at) {
        received.products.push(record);
        received.positions.push(`product ${at.file.split('/').pop() ?? ''}:${at.line}`);
      },
      advisor(record, at) {
        received.advisors.push(record);
        received.positions.push(`advisor ${at.file.split('/').pop() ?? ''}:${at.line}`);
      },
    },
  };
  return received;
}

type Options = Partial<Omit<ReadOptions, 'config'>> & { config?: Partial<ConfigInput> };

export async function readSource(source: ExportSource, options: Options = {}): Promise<Received & { result: ReadResult }> {
  const received = receiver();
  const { config: overrides, ...rest } = options;
  const result = await readExport(source, received.handlers, { now: NOW, ...rest, config: config(overrides) });
  return { ...received, result };
}

/** Writes the files and reads them. */
export async function read(files: Record<string, string | Buffer>, options: Options = {}): Promise<Received & { result: ReadResult; dir: string }> {
  const dir = await exportDir(files);
  return { ...(await readSource(directoryExportSource(dir), options)), dir };
}

/** Writes the files, reads them, and returns the ExportError the reader must throw. */
export async function failure(files: Record<string, string | Buffer>, options: Options = {}): Promise<{ error: ExportError; dir: string; received: Received }> {
  const dir = await exportDir(files);
  const received = receiver();
  const { config: overrides, ...rest } = options;
  const error = await readExport(directoryExportSource(dir), received.handlers, { now: NOW, ...rest, config: config(overrides) }).then(
    () => new Error('expected an ExportError, the export was read'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ExportError);
  return { error: error as ExportError, dir, received };
}

export const CUSTOMERS = 'customer_id,email\nC1,c1@example.com\nC2,c2@example.com\n';
export const ORDER_HEADER = ['order_id', 'customer_id', 'ordered_at', 'line_total'] as const;

/** An orders CSV of `count` distinct lines, numbered from `from`. */
export function orders(count: number, from = 1): string {
  return csv([ORDER_HEADER, ...Array.from({ length: count }, (_, i) => [`O${from + i}`, 'C1', '2026-11-22T10:00:00Z', '10.00'])]);
}

/** An in-memory export (files in the given order), arriving in chunks of `chunkSize` bytes. */
export function memorySource(files: Record<string, string | Buffer>, chunkSize = 64 * 1024): ExportSource {
  const contents = new Map(Object.entries(files).map(([key, content]) => [key, Buffer.from(content)]));
  return {
    describe: () => 'memory://export/',
    location: (key) => `memory://export/${key}`,
    list: async () => [...contents].map(([key, content]) => ({ key, size: content.length })),
    open: async (key) => {
      const content = contents.get(key);
      if (content === undefined) throw new Error(`no such file ${key}`);
      const chunks: Buffer[] = [];
      for (let i = 0; i < content.length; i += chunkSize) chunks.push(content.subarray(i, i + chunkSize));
      return Readable.from(chunks);
    },
  };
}

/** The reading paths a file must agree on: whole, in small chunks (`chunk` bytes), and in blocks by two worker threads. */
export function readingPaths(chunk: number) {
  return [
    { name: 'whole file', threads: 0, chunk: 64 * 1024 },
    { name: `chunks of ${chunk} bytes`, threads: 0, chunk },
    { name: 'blocks in worker threads', threads: 2, chunk: 64 * 1024 },
  ] as const;
}

export type ReadingPath = ReturnType<typeof readingPaths>[number];
