import type { ExportEncoding, ExportFormat, ExportKind } from './types.ts';

export interface ExportFileClass {
  kind: ExportKind;
  format: ExportFormat;
  encoding: ExportEncoding;
}

// Matched on the lower-cased basename. Shopify's names also start with customers/orders, so
// they are tried first. A part suffix (-0001, _1, .part2, " 2"...) may sit before the extension,
// and so may " (1)" or "(1)", what a browser adds to a second download of the same name (read as a
// part: a download twice over is then caught as a twin, or by its shared lines).
const SHOPIFY_RE = /^(customers|orders)_export(?:[-_.\d][^/]*?)?(?: ?\(\d+\))?\.csv(?:\.gz)?$/;
const GENERIC_RE = /^(customers|orders|products|advisors)(?:[-_. (\d][^/]*?)?\.(csv|jsonl)(?:\.gz)?$/;
const EXPORT_LIKE_RE = /^(?:customers|orders|products|advisors)(?:[-_. (\d]|$)/;

/** The kind, format and encoding of an export file from its basename; undefined if not one. */
export function classifyExportFile(basename: string): ExportFileClass | undefined {
  const name = basename.toLowerCase();
  const shopify = SHOPIFY_RE.exec(name);
  if (shopify) return { kind: shopify[1] as ExportKind, format: 'shopify', encoding: 'csv' };
  const generic = GENERIC_RE.exec(name);
  if (generic) return { kind: generic[1] as ExportKind, format: 'generic', encoding: generic[2] as ExportEncoding };
  return undefined;
}

/**
 * True for a name that looks like an export file (customers..., orders..., products..., advisors...) whether
 * or not its extension is supported: such a file must not be skipped silently.
 */
export function looksLikeExportFile(basename: string): boolean {
  return EXPORT_LIKE_RE.test(basename.toLowerCase());
}

/**
 * The reading order of two export files' names (of one kind), which decides which row of a
 * customer listed twice wins: compared without their extensions, so that a name's base comes
 * before its parts and copies (customers.csv, then customers-2.csv; customers_export.csv, then
 * customers_export (1).csv), and with runs of digits compared as numbers (part 2 before part 10).
 * Names equal so (orders-01 and orders-1, orders.csv and orders.jsonl) are compared as they are.
 */
export function compareExportFileNames(a: string, b: string): number {
  return compareNaturally(a.replace(EXTENSION_RE, ''), b.replace(EXTENSION_RE, '')) || compareText(a, b);
}

const EXTENSION_RE = /(?:\.(?:csv|jsonl))?(?:\.gz)?$/i;
const DIGITS_OR_NOT_RE = /\d+|\D+/g;

/** `a` and `b` by their runs of digits (as numbers) and of other characters (as text), in turn. */
function compareNaturally(a: string, b: string): number {
  const x = a.match(DIGITS_OR_NOT_RE) ?? [];
  const y = b.match(DIGITS_OR_NOT_RE) ?? [];
  for (let i = 0; i < x.length && i < y.length; i++) {
    const p = x[i] as string;
    const q = y[i] as string;
    const order = isDigit(p) && isDigit(q) ? compareNumbers(p, q) : compareText(p, q);
    if (order !== 0) return order;
  }
  return x.length - y.length;
}

const isDigit = (text: string): boolean => text.charCodeAt(0) >= 0x30 && text.charCodeAt(0) <= 0x39;

/** Two runs of digits as the numbers they write, however long (leading zeros aside). */
function compareNumbers(p: string, q: string): number {
  const a = p.replace(/^0+(?=\d)/, '');
  const b = q.replace(/^0+(?=\d)/, '');
  return a.length - b.length || compareText(a, b);
}

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export const MANIFEST_NAME = '_manifest.json';

export function basenameOf(key: string): string {
  const slash = key.lastIndexOf('/');
  return slash === -1 ? key : key.slice(slash + 1);
}
