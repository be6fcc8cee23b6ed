import { ClienteleError } from '#shared/errors.ts';
import { z } from 'zod';
import type { SkuLabelEntry } from '#shared/tiering/client-columns.ts';
import type { ShardMeasures } from './run.ts';

/**
 * A shard's measures (ShardMeasures: seven Float64Array columns and the SKUs' labels) as one
 * binary object, so that a shard run in its own Lambda can hand them to the combine step through
 * S3. Binary rather than JSON for the columns: 56 bytes a client instead of ~150, and no float
 * printing or parsing of millions of values; the labels (one entry per SKU, few next to the
 * clients) are JSON after them.
 *
 * Layout, little-endian whatever the machine:
 *   bytes 0-3    magic "CLMS"
 *   bytes 4-7    format version (uint32, 2)
 *   bytes 8-11   column count (uint32, 7)
 *   bytes 12-15  zero (pads the lengths to 8-byte alignment)
 *   then         one uint64-sized slot per column: its length in values (uint32 + zero uint32)
 *   then         one uint64-sized slot: the SKU labels' length in bytes (uint32 + zero uint32)
 *   then         the columns' values (float64), in COLUMNS order, one after the other
 *   then         the SKU labels (SkuLabelEntry[]) as UTF-8 JSON
 */

const MAGIC = 'CLMS';
const VERSION = 2;
const HEADER_BYTES = 16;

/** The columns in the order they are stored: never reorder, add a version instead. */
const COLUMNS = [
  ['rfm', 'daysSinceLast'],
  ['rfm', 'orderCount'],
  ['rfm', 'spend12mMinor'],
  ['clv', 'frequency'],
  ['clv', 'recency'],
  ['clv', 'T'],
  ['clv', 'monetaryValue'],
] as const;

type Column = (typeof COLUMNS)[number];

export class MeasuresCodecError extends ClienteleError {
  override name = 'MeasuresCodecError';
  constructor(message: string, options?: ErrorOptions) {
    super('MEASURES_CORRUPT', message, options);
  }
}

function columnOf(measures: ShardMeasures, [group, name]: Column): Float64Array {
  // Each pair of COLUMNS names an existing column of its group; the index types cannot say so.
  return (measures[group] as Record<string, Float64Array>)[name] as Float64Array;
}

/** Where the columns' values start: after the header and a length slot per column and for the SKU labels. */
const DATA_START = HEADER_BYTES + 8 * (COLUMNS.length + 1);

export function encodeMeasures(measures: ShardMeasures): Uint8Array {
  const checked = checkedMeasures(measures);
  const columns = COLUMNS.map((column) => columnOf(checked, column));
  const labels = new TextEncoder().encode(JSON.stringify(checked.skuLabels));
  const values = columns.reduce((n, c) => n + c.length, 0);
  const bytes = new Uint8Array(DATA_START + 8 * values + labels.byteLength);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < MAGIC.length; i++) bytes[i] = MAGIC.charCodeAt(i);
  view.setUint32(4, VERSION, true);
  view.setUint32(8, COLUMNS.length, true);
  let offset = HEADER_BYTES;
  for (const column of columns) {
    view.setUint32(offset, column.length, true);
    offset += 8;
  }
  view.setUint32(offset, labels.byteLength, true);
  offset += 8;
  for (const column of columns) {
    for (const value of column) {
      view.setFloat64(offset, value, true);
      offset += 8;
    }
  }
  bytes.set(labels, offset);
  return bytes;
}

export function decodeMeasures(bytes: Uint8Array): ShardMeasures {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = String.fromCharCode(...bytes.subarray(0, MAGIC.length));
  if (bytes.byteLength < HEADER_BYTES || magic !== MAGIC) throw new MeasuresCodecError('not a shard measures object (no CLMS header)');
  const version = view.getUint32(4, true);
  if (version !== VERSION) throw new MeasuresCodecError(`shard measures format version ${version}, this code reads ${VERSION}`);
  const count = view.getUint32(8, true);
  if (count !== COLUMNS.length || bytes.byteLength < DATA_START) {
    throw new MeasuresCodecError(`shard measures hold ${count} columns, expected ${COLUMNS.length}`);
  }
  const lengths = COLUMNS.map((_, i) => view.getUint32(HEADER_BYTES + 8 * i, true));
  const labelBytes = view.getUint32(HEADER_BYTES + 8 * COLUMNS.length, true);
  const labelsStart = DATA_START + 8 * lengths.reduce((n, l) => n + l, 0);
  const expected = labelsStart + labelBytes;
  if (bytes.byteLength !== expected) {
    throw new MeasuresCodecError(`shard measures are ${bytes.byteLength} bytes, their header says ${expected} (truncated or corrupt)`);
  }
  let offset = DATA_START;
  const columns = lengths.map((length) => {
    const column = new Float64Array(length);
    for (let i = 0; i < length; i++, offset += 8) column[i] = view.getFloat64(offset, true);
    return column;
  });
  const [daysSinceLast, orderCount, spend12mMinor, frequency, recency, T, monetaryValue] = columns as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ];
  const skuLabels = skuLabelsOf(bytes.subarray(labelsStart, expected));
  return checkedMeasures({ rfm: { daysSinceLast, orderCount, spend12mMinor }, clv: { frequency, recency, T, monetaryValue }, skuLabels });
}

const timedLabelSchema = z.object({ value: z.string(), at: z.number().finite() });
const skuLabelsSchema = z.array(z.object({ sku: z.string(), productName: timedLabelSchema.optional(), category: timedLabelSchema.optional() }));

function skuLabelsOf(bytes: Uint8Array): SkuLabelEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new MeasuresCodecError(`shard measures: the SKU labels are not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const labels = skuLabelsSchema.safeParse(parsed);
  if (!labels.success) throw new MeasuresCodecError('shard measures: the SKU labels are not a list of SKUs with their labels');
  return labels.data;
}

/** measureShard fills each group's columns from one list: unequal lengths mean a broken writer or object. */
function checkedMeasures(measures: ShardMeasures): ShardMeasures {
  for (const group of ['rfm', 'clv'] as const) {
    const lengths = new Set(Object.values(measures[group]).map((column) => column.length));
    if (lengths.size > 1) throw new MeasuresCodecError(`shard measures: the ${group} columns differ in length (${[...lengths].join(', ')})`);
  }
  return measures;
}
