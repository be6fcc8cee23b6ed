import type { Config } from '#shared/config.ts';
import type { CustomerRecord, OrderLine, ProductRecord, Reject } from '#shared/model.ts';

export type ExportKind = 'customers' | 'orders' | 'products';
export type ExportFormat = 'generic' | 'shopify';
export type ExportEncoding = 'csv' | 'jsonl';

/** Receive validated rows, in file order: all customers, then products, then orders. */
export interface ExportHandlers {
  customer(record: CustomerRecord): void;
  order(line: OrderLine): void;
  product(record: ProductRecord): void;
}

export interface FileReport {
  location: string;
  kind: ExportKind;
  format: ExportFormat;
  /** Data rows (headers and blank lines excluded), rejected ones included. */
  rows: number;
  rejected: number;
}

export interface ReadResult {
  files: FileReport[];
  rows: number;
  rejected: number;
  /** The first 10,000 rejects; `rejected` is the true count. */
  rejects: Reject[];
  mode: 'full' | 'incremental';
}

/**
 * One data row as a format module sees it: column name → trimmed value, undefined when empty or
 * absent. From JSONL, a value may also be a non-scalar JSON value (arrays, objects), which the
 * row schemas refuse.
 */
export type RowValues = Record<string, unknown>;

/** What a format module may do with a row: emit a model object or reject it. */
export interface RowContext {
  config: Config;
  handlers: ExportHandlers;
  reject(line: number, reason: string): void;
}

/** Consumes the rows of one file, in order. */
export interface RowSink {
  row(values: RowValues, line: number): void;
  /** End of file: flush anything buffered. */
  end(): void;
}

/** How to read one kind of file of one format. */
export interface RowFormat {
  kind: ExportKind;
  format: ExportFormat;
  /** Column (CSV) or field (JSONL) names the format reads, in canonical spelling. */
  columns: readonly string[];
  /** Columns a CSV header must have; a file without one cannot be read. */
  requiredColumns: readonly string[];
  createSink(context: RowContext): RowSink;
}
