import type { ExportEncoding, ExportFormat, ExportKind } from './types.ts';

export interface ExportFileClass {
  kind: ExportKind;
  format: ExportFormat;
  encoding: ExportEncoding;
}

// Matched on the lower-cased basename. Shopify's names also start with customers/orders, so
// they are tried first. A part suffix (-0001, _1, .part2, " 2"...) may sit before the extension,
// and so may " (1)", what a browser adds to a second download of the same name (read as a part:
// a download twice over is then caught as a twin, or by its shared lines).
const SHOPIFY_RE = /^(customers|orders)_export(?:[-_.\d][^/]*?)?(?: \(\d+\))?\.csv(?:\.gz)?$/;
const GENERIC_RE = /^(customers|orders|products|advisors)(?:[-_. \d][^/]*?)?\.(csv|jsonl)(?:\.gz)?$/;
const EXPORT_LIKE_RE = /^(?:customers|orders|products|advisors)(?:[-_. \d]|$)/;

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

export const MANIFEST_NAME = '_manifest.json';

export function basenameOf(key: string): string {
  const slash = key.lastIndexOf('/');
  return slash === -1 ? key : key.slice(slash + 1);
}
