import { ORDER_STATUSES, type OrderLine, type OrderStatus } from '#shared/model.ts';

/**
 * Order lines in batches that cross between threads cheaply: the numbers in typed arrays (whose
 * memory is moved, not copied), the texts in one array of strings, a text the same as the
 * previous line's in the same field given once (the lines of an order repeat its id, client and
 * email). A lookup of every text in a map was measured to cost the reading threads more than
 * copying the repeats costs the aggregating one. The worker threads that read the orders files
 * (file-threads.ts) write them, and so does a sharded night's repartition for its buckets
 * (shared/nightly/bucket-chunks.ts); the thread that aggregates reads them back as the same
 * OrderLine objects the format modules built.
 */

/** Lines per batch: large enough that a message costs little per line, small enough to start aggregating early. */
export const ORDER_BATCH_LINES = 4096;

/** Per line: orderedAt, quantity, lineTotalMinor, refundedMinor. */
const NUMBERS = 4;
/** Per line: orderId, customerId, email, sku, productName, category. */
const TEXTS = 6;
/** The first of the product's text fields (sku, productName, category). */
const FIRST_PRODUCT_TEXT = 3;
const ABSENT = -1;

const STATUS_CODES = new Map<OrderStatus, number>(ORDER_STATUSES.map((status, code) => [status, code]));

export interface OrderLineBatch {
  count: number;
  /** The physical line each order line was read from. */
  lines: Uint32Array;
  numbers: Float64Array;
  /** Index of each line's status in ORDER_STATUSES. */
  statuses: Uint8Array;
  /** Per line and text field, its index in `texts`, or -1 when the field is absent. */
  textRefs: Int32Array;
  /** The batch's distinct texts. */
  texts: string[];
}

/** The memory of a batch's typed arrays, to hand to postMessage's transfer list. */
export function batchTransferList(batch: OrderLineBatch): ArrayBuffer[] {
  return [batch.lines.buffer, batch.numbers.buffer, batch.statuses.buffer, batch.textRefs.buffer] as ArrayBuffer[];
}

export interface OrderLineBatchOptions {
  /**
   * Each distinct text of the product fields (sku, product name, category) given once per batch,
   * found again through a map, rather than once per run of equal lines. For batches stored and
   * read back (a sharded night's buckets): an export names few products on many lines, so their
   * texts were most of a batch's strings, and a bucket's reading spent its time creating them and
   * hashing each copy again in the aggregator's maps. The reading threads do without: there the
   * map cost more than the copies (see above).
   */
  productTextsOnce?: boolean;
}

/** Collects order lines into batches of at most `capacity` lines (ORDER_BATCH_LINES unless told). */
export class OrderLineBatchWriter {
  private batch: OrderLineBatch;
  /** Per text field, the previous line's text and its index in the batch's texts. */
  private readonly previousText: (string | undefined)[] = new Array<string | undefined>(TEXTS).fill(undefined);
  private readonly previousRef = new Int32Array(TEXTS).fill(ABSENT);
  /** With productTextsOnce: the batch's product texts and their index in its texts. */
  private readonly productTexts: Map<string, number> | undefined;

  constructor(
    private readonly capacity: number = ORDER_BATCH_LINES,
    options: OrderLineBatchOptions = {},
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`an order line batch holds at least one line, not ${capacity}`);
    this.batch = emptyBatch(capacity);
    if (options.productTextsOnce) this.productTexts = new Map();
  }

  get size(): number {
    return this.batch.count;
  }

  get full(): boolean {
    return this.batch.count === this.capacity;
  }

  /** Adds one line; the caller takes the batch once it is full. */
  add(order: OrderLine, line: number): void {
    const batch = this.batch;
    const i = batch.count;
    if (i === this.capacity) throw new RangeError('order line batch is full: take() it first');
    const status = STATUS_CODES.get(order.status);
    if (status === undefined) throw new TypeError(`unknown order status ${String(order.status)}`);
    batch.lines[i] = line;
    const n = i * NUMBERS;
    batch.numbers[n] = order.orderedAt;
    batch.numbers[n + 1] = order.quantity;
    batch.numbers[n + 2] = order.lineTotalMinor;
    batch.numbers[n + 3] = order.refundedMinor;
    batch.statuses[i] = status;
    const t = i * TEXTS;
    batch.textRefs[t] = this.textRef(0, order.orderId);
    batch.textRefs[t + 1] = this.textRef(1, order.customerId);
    batch.textRefs[t + 2] = this.textRef(2, order.email);
    batch.textRefs[t + 3] = this.textRef(3, order.sku);
    batch.textRefs[t + 4] = this.textRef(4, order.productName);
    batch.textRefs[t + 5] = this.textRef(5, order.category);
    batch.count = i + 1;
  }

  /** The lines added since the last take (undefined when none), trimmed to their count; a new batch starts. */
  take(): OrderLineBatch | undefined {
    const batch = this.batch;
    if (batch.count === 0) return undefined;
    this.batch = emptyBatch(this.capacity);
    this.previousText.fill(undefined);
    this.previousRef.fill(ABSENT);
    this.productTexts?.clear();
    if (batch.count === this.capacity) return batch;
    const { count } = batch;
    return {
      count,
      lines: batch.lines.slice(0, count),
      numbers: batch.numbers.slice(0, count * NUMBERS),
      statuses: batch.statuses.slice(0, count),
      textRefs: batch.textRefs.slice(0, count * TEXTS),
      texts: batch.texts,
    };
  }

  private textRef(field: number, text: string | undefined): number {
    if (text === undefined) return ABSENT;
    if (text === this.previousText[field]) return this.previousRef[field] as number;
    const ref = field >= FIRST_PRODUCT_TEXT && this.productTexts !== undefined ? this.productTextRef(text) : this.batch.texts.push(text) - 1;
    this.previousText[field] = text;
    this.previousRef[field] = ref;
    return ref;
  }

  private productTextRef(text: string): number {
    const texts = this.productTexts as Map<string, number>;
    let ref = texts.get(text);
    if (ref === undefined) {
      ref = this.batch.texts.push(text) - 1;
      texts.set(text, ref);
    }
    return ref;
  }
}

/** Whether `value` (a batch read back from bytes) has a batch's shape: its arrays as long as its count says. */
export function isOrderLineBatch(value: unknown): value is OrderLineBatch {
  if (typeof value !== 'object' || value === null) return false;
  const batch = value as Partial<OrderLineBatch>;
  const count = batch.count;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) return false;
  if (!(batch.lines instanceof Uint32Array && batch.numbers instanceof Float64Array && batch.statuses instanceof Uint8Array && batch.textRefs instanceof Int32Array)) return false;
  if (batch.lines.length < count || batch.numbers.length < count * NUMBERS || batch.statuses.length < count || batch.textRefs.length < count * TEXTS) return false;
  if (!Array.isArray(batch.texts) || !batch.texts.every((text) => typeof text === 'string')) return false;
  // Every reference points at a text of the batch (or at none where a field may be absent).
  const texts = batch.texts.length;
  for (let i = 0; i < count * TEXTS; i++) {
    const ref = batch.textRefs[i] as number;
    if (ref >= texts || ref < ABSENT || (ref === ABSENT && i % TEXTS === 0)) return false;
  }
  return batch.statuses.subarray(0, count).every((status) => status < ORDER_STATUSES.length);
}

/** Calls `visit` with every line of the batch, in order, as the OrderLine that was added. */
export function forEachOrderLine(batch: OrderLineBatch, visit: (order: OrderLine, line: number) => void): void {
  const { numbers, textRefs, texts, statuses, lines } = batch;
  const text = (ref: number): string | undefined => (ref === ABSENT ? undefined : texts[ref]);
  for (let i = 0; i < batch.count; i++) {
    const n = i * NUMBERS;
    const t = i * TEXTS;
    const order: OrderLine = {
      orderId: texts[textRefs[t] as number] as string,
      customerId: text(textRefs[t + 1] as number),
      email: text(textRefs[t + 2] as number),
      orderedAt: numbers[n] as number,
      sku: text(textRefs[t + 3] as number),
      productName: text(textRefs[t + 4] as number),
      category: text(textRefs[t + 5] as number),
      quantity: numbers[n + 1] as number,
      lineTotalMinor: numbers[n + 2] as number,
      refundedMinor: numbers[n + 3] as number,
      status: ORDER_STATUSES[statuses[i] as number] as OrderStatus,
    };
    visit(order, lines[i] as number);
  }
}

function emptyBatch(capacity: number): OrderLineBatch {
  return {
    count: 0,
    lines: new Uint32Array(capacity),
    numbers: new Float64Array(capacity * NUMBERS),
    statuses: new Uint8Array(capacity),
    textRefs: new Int32Array(capacity * TEXTS),
    texts: [],
  };
}
