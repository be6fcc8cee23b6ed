import { Readable } from 'node:stream';
import { z } from 'zod';
import type { Config } from '#shared/config.ts';
import type { Reject } from '#shared/model.ts';
import { basenameOf, classifyExportFile, looksLikeExportFile, MANIFEST_NAME, type ExportFileClass } from './classify.ts';
import { decodedStream, readCsvRecords, readLines, streamError } from './decode.ts';
import { ExportError, HandlerFailure } from './errors.ts';
import { cleanCsvValue, cleanJsonValue } from './fields.ts';
import { genericCustomers, genericOrders, genericProducts } from './generic.ts';
import { shopifyCustomers, shopifyOrders } from './shopify.ts';
import type { ExportSource } from './source.ts';
import type { ExportHandlers, ExportKind, FileReport, ReadResult, RowContext, RowFormat, RowSink, RowValues } from './types.ts';

export { classifyExportFile, type ExportFileClass } from './classify.ts';
export { ExportError } from './errors.ts';
export type { ExportHandlers, FileReport, ReadResult } from './types.ts';

/** Rejects kept in memory (and so in the rejects object); the count goes on beyond. */
export const MAX_KEPT_REJECTS = 10_000;

/** Customers first (orders resolve Shopify emails against them), then products, then orders. */
const KIND_ORDER: readonly ExportKind[] = ['customers', 'products', 'orders'];

const FORMATS: Record<string, RowFormat> = {
  'generic/customers': genericCustomers,
  'generic/orders': genericOrders,
  'generic/products': genericProducts,
  'shopify/customers': shopifyCustomers,
  'shopify/orders': shopifyOrders,
};

const manifestSchema = z.looseObject({ mode: z.enum(['full', 'incremental']).default('full') });

/** A manifest is a few bytes; anything much larger is not one. */
const MAX_MANIFEST_BYTES = 64 * 1024;

export interface ReadOptions {
  config: Config;
  /** Raw (compressed) bytes read so far over the whole export. */
  onProgress?: (bytesRead: number) => void;
}

interface PlannedFile extends ExportFileClass {
  key: string;
  name: string;
}

/**
 * Reads every file of an export, in the order customers → products → orders (parts in name
 * order), validating each row and handing it to `handlers`. Throws an ExportError when a file
 * cannot be read as its format or when too many rows are rejected.
 */
export async function readExport(source: ExportSource, handlers: ExportHandlers, options: ReadOptions): Promise<ReadResult> {
  const { config } = options;
  const objects = await source.list().catch((error: unknown) => {
    throw ExportError.at(source.describe(), `cannot be listed: ${messageOf(error)}`, { cause: error });
  });

  const planned: PlannedFile[] = [];
  let manifestKey: string | undefined;
  for (const { key } of objects) {
    const name = basenameOf(key);
    if (name === MANIFEST_NAME) {
      manifestKey = key;
      continue;
    }
    const kind = classifyExportFile(name);
    if (kind) planned.push({ ...kind, key, name });
    else if (looksLikeExportFile(name)) {
      throw ExportError.at(
        source.location(key),
        'looks like an export file but its extension is not supported (expected .csv or .jsonl, optionally .gz)',
      );
    }
  }
  const mode = manifestKey === undefined ? 'full' : await readManifest(source, manifestKey);

  const has = (kind: ExportKind) => planned.some((file) => file.kind === kind);
  const missing = (['customers', 'orders'] as const).filter((kind) => !has(kind));
  // A full snapshot without customers or orders would silently downgrade every client.
  if (mode === 'full' ? missing.length > 0 : missing.length === 2) {
    throw ExportError.at(
      source.describe(),
      `no ${missing.join(' or ')} file found (expected customers*.csv|jsonl[.gz] and orders*.csv|jsonl[.gz], or Shopify's customers_export*.csv and orders_export*.csv)`,
    );
  }
  planned.sort(
    (a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || compare(a.name, b.name) || compare(a.key, b.key),
  );

  const rejects: Reject[] = [];
  const files: FileReport[] = [];
  let bytesRead = 0;
  const onBytes = options.onProgress
    ? (n: number) => {
        bytesRead += n;
        options.onProgress?.(bytesRead);
      }
    : () => undefined;

  for (const file of planned) {
    const location = source.location(file.key);
    const report: FileReport = { location, kind: file.kind, format: file.format, rows: 0, rejected: 0 };
    files.push(report);
    const context: RowContext = {
      config,
      handlers,
      reject(line, reason) {
        report.rejected += 1;
        if (rejects.length < MAX_KEPT_REJECTS) rejects.push({ file: location, line, reason });
      },
    };
    const format = FORMATS[`${file.format}/${file.kind}`] as RowFormat;
    const raw = await source.open(file.key).catch((error: unknown) => {
      throw ExportError.at(location, `cannot be opened: ${messageOf(error)}`, { cause: error });
    });
    const bytes = decodedStream(raw, location, onBytes);
    const sink = format.createSink(context);
    try {
      if (file.encoding === 'csv') await readCsvFile(bytes, location, format, sink, context.reject, report);
      else await readJsonlFile(bytes, location, format, sink, context.reject, report);
      sink.end();
    } catch (error) {
      bytes.destroy();
      // Also close the source at once (an S3 socket) rather than when the decoder next wakes up.
      if (raw instanceof Readable) raw.destroy();
      if (error instanceof HandlerFailure) throw error.original;
      const wrapped = streamError(error, location);
      if (wrapped instanceof ExportError) throw wrapped;
      throw ExportError.at(location, `could not be read: ${messageOf(error)}`, { cause: error });
    }
  }

  const rows = files.reduce((sum, f) => sum + f.rows, 0);
  const rejected = files.reduce((sum, f) => sum + f.rejected, 0);
  if (rows > 0 && rejected / rows > config.maxRejectShare) throw tooManyRejects(files, rows, rejected, config.maxRejectShare);
  return { files, rows, rejected, rejects, mode };
}

function tooManyRejects(files: FileReport[], rows: number, rejected: number, threshold: number): ExportError {
  const worst = files.filter((f) => f.rejected > 0).sort((a, b) => b.rejected - a.rejected);
  const listed = worst
    .slice(0, 3)
    .map((f) => `${f.location} (${f.rejected} of ${f.rows} rows)`)
    .join(', ');
  return new ExportError(
    worst[0]?.location ?? '',
    `${percent(rejected / rows)} of rows rejected (${rejected} of ${rows}), above the maxRejectShare threshold of ${percent(threshold)}; ` +
      `nothing was written. Worst files: ${listed}${worst.length > 3 ? `, and ${worst.length - 3} more` : ''}`,
  );
}

function percent(share: number): string {
  return `${(share * 100).toFixed(2).replace(/\.?0+$/, '')}%`;
}

/** Maps a CSV header onto a format's columns: names trimmed, exact match first, then any case. */
function headerIndexes(header: string[], format: RowFormat, location: string): { keys: string[]; indexes: number[] } {
  const names = header.map((name) => name.replace(/^\uFEFF/, '').trim());
  if (names.some((name) => name.includes('\uFFFD'))) throw ExportError.at(location, 'is not UTF-8 text (header has invalid characters)', { line: 1 });
  const lower = names.map((name) => name.toLowerCase());
  const keys: string[] = [];
  const indexes: number[] = [];
  for (const column of format.columns) {
    let index = names.indexOf(column);
    if (index === -1) index = lower.indexOf(column.toLowerCase());
    if (index !== -1) {
      keys.push(column);
      indexes.push(index);
    }
  }
  const missing = format.requiredColumns.filter((column) => !keys.includes(column));
  if (missing.length > 0) {
    const plural = missing.length > 1 ? 's' : '';
    throw ExportError.at(
      location,
      `missing required column${plural} ${missing.map((c) => `"${c}"`).join(', ')} for a ${format.format} ${format.kind} file` +
        `${describeHeader(names)}`,
      { line: 1 },
    );
  }
  return { keys, indexes };
}

const COLUMN_NAME_RE = /^[A-Za-z][A-Za-z0-9 _-]{0,39}$/;

/** The header's column names, to help spot a misspelling; anything not name-like is left out (it may be data). */
function describeHeader(names: string[]): string {
  const shown = names.filter((name) => COLUMN_NAME_RE.test(name)).slice(0, 12);
  return shown.length > 0 ? ` (columns found: ${shown.join(', ')}${names.length > shown.length ? ', ...' : ''})` : '';
}

type RejectRow = RowContext['reject'];

async function readCsvFile(
  bytes: ReturnType<typeof decodedStream>,
  location: string,
  format: RowFormat,
  sink: RowSink,
  reject: RejectRow,
  report: FileReport,
): Promise<void> {
  let keys: string[] = [];
  let indexes: number[] = [];
  let width = 0;
  let headerSeen = false;
  await readCsvRecords(bytes, (fields, line) => {
    if (!headerSeen) {
      headerSeen = true;
      if (isBlank(fields)) throw ExportError.at(location, 'first line is empty; expected a header row', { line });
      ({ keys, indexes } = headerIndexes(fields, format, location));
      width = fields.length;
      return;
    }
    if (isBlank(fields)) return;
    report.rows += 1;
    if (fields.length !== width) {
      // Probably an unquoted comma: the values would land in the wrong columns.
      reject(line, `row has ${fields.length} columns, the header has ${width}`);
      return;
    }
    const values: RowValues = {};
    for (let i = 0; i < keys.length; i++) values[keys[i] as string] = cleanCsvValue(fields[indexes[i] as number]);
    sink.row(values, line);
  });
  if (!headerSeen) throw ExportError.at(location, 'is empty; expected a CSV header row');
}

/** A record of empty or blank fields only: a blank line, or Shopify's ",,,,," filler. */
function isBlank(fields: string[]): boolean {
  for (const field of fields) if (field !== '' && field.trim() !== '') return false;
  return true;
}

const NOT_JSON = Symbol('not JSON');

async function readJsonlFile(
  bytes: ReturnType<typeof decodedStream>,
  location: string,
  format: RowFormat,
  sink: RowSink,
  reject: RejectRow,
  report: FileReport,
): Promise<void> {
  const keys = format.columns;
  let started = false;
  await readLines(bytes, (text, line) => {
    if (text.length === 0 || text.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = NOT_JSON;
    }
    const isObject = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
    if (!started) {
      // The first row decides whether this is JSONL at all; afterwards a bad line is one bad row.
      if (!isObject) throw ExportError.at(location, 'is not JSONL: the first line is not a JSON object', { line });
      started = true;
    }
    report.rows += 1;
    if (!isObject) {
      // Never quote the line or JSON.parse's message: both may contain personal data.
      reject(line, parsed === NOT_JSON ? 'invalid JSON' : 'not a JSON object');
      return;
    }
    const object = parsed as Record<string, unknown>;
    const values: RowValues = {};
    for (const key of keys) values[key] = cleanJsonValue(object[key]);
    sink.row(values, line);
  });
}

async function readManifest(source: ExportSource, key: string): Promise<'full' | 'incremental'> {
  const location = source.location(key);
  let text: string;
  try {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of (await source.open(key)) as AsyncIterable<Buffer | string>) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buffer.length;
      if (size > MAX_MANIFEST_BYTES) throw ExportError.at(location, `is larger than ${MAX_MANIFEST_BYTES} bytes; not a manifest`);
      chunks.push(buffer);
    }
    text = Buffer.concat(chunks).toString('utf8').replace(/^\uFEFF/, '');
  } catch (error) {
    if (error instanceof ExportError) throw error;
    throw ExportError.at(location, `cannot be read: ${messageOf(error)}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw ExportError.at(location, 'is not valid JSON');
  }
  const result = manifestSchema.safeParse(json);
  if (!result.success) throw ExportError.at(location, `is not a valid manifest: ${result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return result.data.mode;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
