import type { Config } from '#shared/config.ts';
import type { AdvisorRecord, CustomerRecord, OrderLine, ProductRecord, Reject } from '#shared/model.ts';

export type ExportKind = 'customers' | 'orders' | 'products' | 'advisors';
export type ExportFormat = 'generic' | 'shopify';
export type ExportEncoding = 'csv' | 'jsonl';

/** Where a row came from: the file's location and the physical line the row starts on. */
export interface RowPosition {
  readonly file: string;
  readonly line: number;
}

/**
 * Receive validated rows: all customers, then products, then advisors, then orders; each file's
 * rows in order. Orders files read in worker threads (ReadOptions.threads) hand over their lines
 * interleaved, each file's still in order: nothing a handler builds may depend on the order of
 * lines across files. `at` is one object per file, updated for every row: read it during the
 * call, copy what you keep.
 */
export interface ExportHandlers {
  customer(record: CustomerRecord, at: RowPosition): void;
  order(line: OrderLine, at: RowPosition): void;
  product(record: ProductRecord, at: RowPosition): void;
  /**
   * The roster's rows, handed over only once their whole file has been read: a roster file that
   * cannot be read gives none (its FileReport says why) rather than failing the export.
   */
  advisor?(record: AdvisorRecord, at: RowPosition): void;
}

export interface FileReport {
  location: string;
  kind: ExportKind;
  format: ExportFormat;
  /**
   * Data rows (headers and blank lines excluded), rejected ones included; a rejected record over
   * several lines counts as one row per line (see spannedLines).
   */
  rows: number;
  rejected: number;
  /**
   * The lines past the first of rejected records that span several (a quoted line break, or a quote
   * opened and not closed): counted as rows and rejects for the reject share, so that lines a broken
   * quote swallowed do not hide under it, but not records: rows less these are the file's records,
   * which a manifest counts. Absent when none (and in reports of earlier versions).
   */
  spannedLines?: number;
  /** Optional fields dropped from rows that were kept (see FieldWarning). */
  warnings: number;
  /** sha256 of the file's bytes as stored (compressed, for a .gz), lowercase hex. */
  sha256: string;
  /** Size of the file as stored. */
  bytes: number;
  /**
   * Advisors files only: why the file could not be used (empty, truncated, not its format). The
   * roster is optional and the last good one stays in use (shared/advisors/roster.ts), so such a
   * file is reported here instead of failing the export.
   */
  unusable?: string;
}

/** An optional field the reader dropped, keeping the rest of its row. Never carries the value. */
export interface FieldWarning {
  file: string;
  line: number;
  /** The column (CSV) or field (JSONL) name, in the format's spelling. */
  field: string;
  reason: string;
}

export interface ReadResult {
  files: FileReport[];
  rows: number;
  rejected: number;
  /** The first 10,000 rejects; `rejected` is the true count. */
  rejects: Reject[];
  /** Fields dropped with a warning, over all files. */
  warned: number;
  /** The first 10,000 warnings; `warned` is the true count. */
  warnings: FieldWarning[];
  mode: 'full' | 'incremental';
}

/**
 * One data row as a format module sees it: column name → trimmed value, undefined when empty or
 * absent. From JSONL, a value may also be a non-scalar JSON value (arrays, objects), which the
 * row schemas refuse.
 */
export type RowValues = Record<string, unknown>;

/** What a format module may do with a row: emit a model object, reject it, or drop a field of it. */
export interface RowContext {
  config: Config;
  /** The run's clock (ReadOptions.now), epoch ms. */
  now: number;
  handlers: ExportHandlers;
  /** The position to hand to a handler for the row on `line` (one object per file, updated). */
  at(line: number): RowPosition;
  reject(line: number, reason: string): void;
  /** An optional field was invalid and is dropped; the row goes on without it. */
  warn(line: number, field: string, reason: string): void;
  /**
   * For a format whose order spans a group of rows (Shopify's): the order keyed `orderId`, its
   * group starting on `line`, was read whole and handed over. Set when the reader checks that no
   * order is read twice (checkNoSharedLines).
   */
  orderRead?(orderId: string, line: number): void;
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
