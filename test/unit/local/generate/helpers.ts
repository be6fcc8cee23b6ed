import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { parseAmount } from '#shared/money.ts';
import { parseTimestamp } from '#shared/time.ts';

/**
 * A small reader of the generated files, independent of shared/exports, so the generator's
 * tests check the files themselves rather than one reader's view of them.
 */

export type Row = Record<string, string>;

export async function tempDir(name: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `clientele-gen-${name}-`));
}

export async function readText(path: string): Promise<string> {
  const bytes = await readFile(path);
  return (path.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
}

/** Rows as objects keyed by header; throws if any row has a different number of fields. */
export async function readCsv(path: string): Promise<Row[]> {
  return parse<Row>(await readText(path), { columns: true, skip_empty_lines: false, relax_column_count: false });
}

export async function sha256s(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) {
    out[name] = createHash('sha256').update(await readFile(join(dir, name))).digest('hex');
  }
  return out;
}

export interface GenericOrderLine {
  orderId: string;
  customerId: string;
  at: number;
  sku: string;
  quantity: number;
  totalMinor: number;
  refundedMinor: number;
  status: 'paid' | 'refunded' | 'cancelled';
}

const STATUSES = new Set(['paid', 'refunded', 'cancelled']);

/** Validates a generic order row the way a strict reader would; a string is the reject reason. */
export function validateGenericOrder(row: Row, currency: string): GenericOrderLine | string {
  if (!row.order_id) return 'missing order_id';
  if (!row.customer_id) return 'missing customer_id';
  const at = parseTimestamp(row.ordered_at ?? '', 'Asia/Shanghai');
  if (at === undefined) return 'bad ordered_at';
  const totalMinor = parseAmount(row.line_total ?? '', currency);
  if (totalMinor === undefined) return 'bad line_total';
  const refundedMinor = parseAmount(row.refunded_amount || '0', currency);
  if (refundedMinor === undefined) return 'bad refunded_amount';
  const quantity = Number(row.quantity || '1');
  if (!Number.isInteger(quantity) || quantity <= 0) return 'bad quantity';
  const status = row.status || 'paid';
  if (!STATUSES.has(status)) return 'unknown status';
  return {
    orderId: row.order_id,
    customerId: row.customer_id,
    at,
    sku: row.sku ?? '',
    quantity,
    totalMinor,
    refundedMinor,
    status: status as GenericOrderLine['status'],
  };
}

export function lineNet(line: GenericOrderLine): number {
  return line.status === 'paid' ? line.totalMinor - line.refundedMinor : 0;
}
