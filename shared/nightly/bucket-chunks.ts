import { createHash } from 'node:crypto';
import { deserialize, serialize } from 'node:v8';
import { forEachOrderLine, isOrderLineBatch, OrderLineBatchWriter } from '#shared/exports/order-line-batch.ts';
import type { ExportKind } from '#shared/exports/types.ts';
import type { AdvisorRecord, CustomerRecord, OrderLine, ProductRecord } from '#shared/model.ts';
import { packCustomer, unpackCustomer } from '#shared/tiering/customer-packing.ts';
import { NightlyRunError } from './run.ts';
import type { WorkStore } from './work-store.ts';

/**
 * The objects of a sharded night's buckets (shares.ts): the records one reader accepted from one
 * file for one bucket, in the file's line order, each with its line.
 *
 * A chunk is a run of frames, each a little-endian u32 byte length and then one batch as V8's
 * serializer writes it (node:v8, the structured clone that postMessage uses): typed arrays go as
 * their bytes and strings as they are, so reading a chunk back parses no text. Order lines, most
 * of an export, travel as OrderLineBatch (the reader threads' batches: numbers in typed arrays,
 * an order's repeated texts once); customers as { lines, customerIds, records }, each record
 * packed by packCustomer (customer-packing.ts: one string, which the bucket's aggregator stores as
 * it is) or, when it cannot be, the record; products and advisors as { lines, records }.
 * JSON lines were measured at 1M clients to spend more than half of a bucket's reading in decoding
 * text. The serializer's format is Node's own: the same deployment writes and reads a night's
 * chunks, which expire with the run's work objects.
 */

/** One object of a bucket: records of one file, from its reader. */
export interface BucketChunk {
  /** The file's index in the plan. */
  file: number;
  key: string;
  records: number;
  /** The chunk's bytes as written, hex sha256 (chunkSha256): a changed byte may still parse, into another amount. */
  sha256: string;
}

/** What BucketChunk.sha256 holds: ~1.4 GB/s on one core, a fraction of a second per shard at 1M clients. */
export function chunkSha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A file of the plan as the writer files its records. */
export interface BucketFile {
  index: number;
  name: string;
  kind: ExportKind;
}

type OtherRecord = ProductRecord | AdvisorRecord;

/** Products' and advisors' records in a frame, each with its line. */
interface RecordBatch {
  lines: number[];
  records: OtherRecord[];
}

/**
 * Customers in a frame, each with its line and id: packed (packCustomer) when it can be, which a
 * bucket's read hands on without building the record (V8's deserializer builds an object with
 * its properties one by one; the aggregator would then pack it again).
 */
interface CustomerBatch {
  lines: number[];
  customerIds: string[];
  records: (string | CustomerRecord)[];
}

/** What reading a chunk calls: each record with its line; a packed customer with its id, if taken so (else unpacked, as a record). */
export interface ChunkVisitor {
  record(record: unknown, line: number): void;
  packedCustomer?(customerId: string, packed: string, line: number): void;
}

/** The frame's length before it. */
const LENGTH_BYTES = 4;

/**
 * Records are written in chunks of at most about this many bytes per bucket and file: ~4 MB
 * buffered over all buckets of a file, however many (and at least 256 KB a chunk, so that 100
 * buckets still make few objects). Measured at 1M clients on 4 shards (bench export, 2 cores,
 * 3 interleaved runs, CHUNKS_AHEAD 4): 1 MB chunks instead of 4 MB took a reader's peak RSS from
 * 351-377 MB to 326-358 MB and its bucket's from 345-350 MB to 338-347 MB, in the same time.
 * More objects cost little: a 1M night on 4 shards stores ~780 (778 in the work directory), each
 * read twice (measure, write), under $0.01 a night.
 */
export function chunkBytesFor(buckets: number): number {
  return Math.min(1 << 20, Math.max(256 << 10, Math.floor((4 << 20) / buckets)));
}

/** Records per frame: a frame of order lines is ~100 to 150 bytes a line, so a chunk holds several. */
export function frameRecordsFor(chunkBytes: number): number {
  return Math.min(4096, Math.max(64, Math.floor(chunkBytes / 1024)));
}

/** What one file has buffered for one bucket. */
class BucketOfFile {
  orders: OrderLineBatchWriter | undefined;
  others: RecordBatch = { lines: [], records: [] };
  customers: CustomerBatch = { lines: [], customerIds: [], records: [] };
  frames: Uint8Array[] = [];
  frameBytes = 0;
  /** Records in `frames`. */
  framedRecords = 0;
  chunk = 0;
}

/**
 * Files each bucket's records of every file in chunks, as the reader hands them over. Rows of
 * several files may come interleaved (the orders parts read in threads): each file keeps its own
 * batches and chunks, numbered from 0, so a bucket's chunks of one file are its rows in order.
 */
export class BucketWriter {
  private readonly files = new Map<number, { file: BucketFile; buckets: BucketOfFile[] }>();
  readonly chunks: BucketChunk[][];
  private readonly writes: Promise<unknown>[] = [];
  private failure: unknown;
  /**
   * Bodies whose PUT has settled, for the next chunks: a chunk's frames are copied into one. A
   * fresh 4 MB buffer per chunk cost its pages' first touch: at 1M clients a share's 60 chunks
   * took 0.5 to 0.8 s of the main thread to gather (Buffer.concat), ~0.09 s into bodies reused.
   */
  private readonly spareBodies: Buffer[] = [];

  constructor(
    private readonly store: WorkStore,
    private readonly reader: number,
    private readonly buckets: number,
    private readonly chunkBytes: number,
    private readonly frameRecords: number = frameRecordsFor(chunkBytes),
  ) {
    this.chunks = Array.from({ length: buckets }, () => []);
  }

  order(file: BucketFile, bucket: number, line: OrderLine, lineNumber: number): void {
    const state = this.bucketOf(file, bucket);
    state.orders ??= new OrderLineBatchWriter(this.frameRecords, { productTextsOnce: true });
    state.orders.add(line, lineNumber);
    if (state.orders.full) this.seal(file, bucket, state);
  }

  customer(file: BucketFile, bucket: number, record: CustomerRecord, lineNumber: number): void {
    const state = this.bucketOf(file, bucket);
    const { customers } = state;
    customers.lines.push(lineNumber);
    customers.customerIds.push(record.customerId);
    customers.records.push(packCustomer(record) ?? record);
    if (customers.lines.length >= this.frameRecords) this.seal(file, bucket, state);
  }

  record(file: BucketFile, bucket: number, record: OtherRecord, lineNumber: number): void {
    const state = this.bucketOf(file, bucket);
    state.others.lines.push(lineNumber);
    state.others.records.push(record);
    if (state.others.lines.length >= this.frameRecords) this.seal(file, bucket, state);
  }

  /** Every chunk written, each bucket's in file and chunk order; the first failed write's error, if any. */
  async finish(): Promise<BucketChunk[][]> {
    for (const { file, buckets } of this.files.values()) {
      buckets.forEach((state, bucket) => {
        this.seal(file, bucket, state);
        this.flush(file, bucket, state);
      });
    }
    await Promise.all(this.writes);
    this.spareBodies.length = 0;
    if (this.failure !== undefined) throw this.failure;
    // Files flush as their rows come, interleaved: stable, so each file's chunks keep their order.
    for (const list of this.chunks) list.sort((x, y) => x.file - y.file);
    return this.chunks;
  }

  /** After a failed read: waits for the chunks already being written, so that none lands behind a retry. */
  async abandon(): Promise<void> {
    await Promise.allSettled(this.writes);
  }

  private bucketOf(file: BucketFile, bucket: number): BucketOfFile {
    let entry = this.files.get(file.index);
    if (entry === undefined) {
      entry = { file, buckets: Array.from({ length: this.buckets }, () => new BucketOfFile()) };
      this.files.set(file.index, entry);
    }
    const state = entry.buckets[bucket];
    if (state === undefined) throw new RangeError(`bucket ${bucket} of ${this.buckets}`);
    return state;
  }

  /** The open batch becomes a frame; a chunk is written once its frames fill it. */
  private seal(file: BucketFile, bucket: number, state: BucketOfFile): void {
    let payload: Buffer | undefined;
    let records = 0;
    const orders = state.orders?.take();
    if (orders) {
      payload = serialize(orders);
      records = orders.count;
    } else if (state.customers.lines.length > 0) {
      payload = serialize(state.customers);
      records = state.customers.lines.length;
      state.customers = { lines: [], customerIds: [], records: [] };
    } else if (state.others.lines.length > 0) {
      payload = serialize(state.others);
      records = state.others.lines.length;
      state.others = { lines: [], records: [] };
    }
    if (payload === undefined) return;
    const length = Buffer.allocUnsafe(LENGTH_BYTES);
    length.writeUInt32LE(payload.length);
    state.frames.push(length, payload);
    state.frameBytes += LENGTH_BYTES + payload.length;
    state.framedRecords += records;
    if (state.frameBytes >= this.chunkBytes) this.flush(file, bucket, state);
  }

  private flush(file: BucketFile, bucket: number, state: BucketOfFile): void {
    if (state.framedRecords === 0) return;
    const key = chunkKey(bucket, this.reader, file.name, state.chunk);
    state.chunk += 1;
    const buffer = this.bodyOf(state.frameBytes);
    let at = 0;
    for (const frame of state.frames) {
      buffer.set(frame, at);
      at += frame.length;
    }
    const body = buffer.subarray(0, at);
    (this.chunks[bucket] as BucketChunk[]).push({ file: file.index, key, records: state.framedRecords, sha256: chunkSha256(body) });
    state.frames = [];
    state.frameBytes = 0;
    state.framedRecords = 0;
    // The handlers that fill the batches are synchronous: the writes go on while reading does,
    // their errors kept for finish (an unhandled rejection would end the process). The body is
    // reused once its PUT has settled, as the store's contract allows.
    this.writes.push(
      this.store
        .put(key, body, 'application/octet-stream')
        .catch((error: unknown) => {
          this.failure ??= error;
        })
        .finally(() => this.spareBodies.push(buffer)),
    );
  }

  /** A buffer of at least `bytes`: a spare one if it is large enough, else a new one with room for a chunk's last frame. */
  private bodyOf(bytes: number): Buffer {
    const spare = this.spareBodies.pop();
    if (spare !== undefined && spare.length >= bytes) return spare;
    return Buffer.allocUnsafe(Math.max(bytes, this.chunkBytes + (this.chunkBytes >> 2)));
  }
}

/** The file's whole name: one reader may get customers.csv and customers.csv.gz, two files of the plan. */
function chunkKey(bucket: number, reader: number, name: string, chunk: number): string {
  return `bucket-${bucket}/from-${reader}/${name}.${String(chunk).padStart(5, '0')}.bin`;
}

/**
 * Hands the visitor every record of a chunk of a `kind` file and its line, in order (packed
 * customers packed, if it takes them so); the count. A chunk that is not frames of batches of
 * that kind (truncated, or not ours) is a NightlyRunError.
 */
export function forEachChunkRecord(bytes: Uint8Array, kind: ExportKind, { record: visit, packedCustomer }: ChunkVisitor): number {
  const malformed = (at: number, why: string) => new NightlyRunError(`a bucket chunk has a malformed frame at byte ${at}: ${why}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let count = 0;
  let at = 0;
  while (at < bytes.length) {
    if (at + LENGTH_BYTES > bytes.length) throw malformed(at, 'its length is cut');
    const length = view.getUint32(at, true);
    const start = at + LENGTH_BYTES;
    if (length === 0 || start + length > bytes.length) throw malformed(at, `it claims ${length} bytes, ${bytes.length - start} are left`);
    let batch: unknown;
    try {
      batch = deserialize(bytes.subarray(start, start + length));
    } catch (error) {
      throw malformed(at, error instanceof Error ? error.message : String(error));
    }
    if (kind === 'orders') {
      if (!isOrderLineBatch(batch)) throw malformed(at, 'not a batch of order lines');
      forEachOrderLine(batch, visit);
      count += batch.count;
    } else if (kind === 'customers') {
      if (!isCustomerBatch(batch)) throw malformed(at, 'not a batch of customers records');
      const { lines, customerIds, records } = batch;
      for (let i = 0; i < lines.length; i++) {
        const record = records[i] as string | CustomerRecord;
        const line = lines[i] as number;
        if (typeof record !== 'string') visit(record, line);
        else if (packedCustomer) packedCustomer(customerIds[i] as string, record, line);
        else visit(unpackCustomer(customerIds[i] as string, record), line);
      }
      count += lines.length;
    } else {
      if (!isRecordBatch(batch)) throw malformed(at, `not a batch of ${kind} records`);
      for (let i = 0; i < batch.lines.length; i++) visit(batch.records[i], batch.lines[i] as number);
      count += batch.lines.length;
    }
    at = start + length;
  }
  return count;
}

const isLines = (lines: unknown): lines is number[] => Array.isArray(lines) && lines.every((line) => Number.isInteger(line) && line > 0);

function isCustomerBatch(value: unknown): value is CustomerBatch {
  if (typeof value !== 'object' || value === null) return false;
  const { lines, customerIds, records } = value as Partial<CustomerBatch>;
  if (!(isLines(lines) && Array.isArray(customerIds) && Array.isArray(records) && customerIds.length === lines.length && records.length === lines.length)) return false;
  // A record given whole is its own customer's.
  return records.every((record, i) => typeof customerIds[i] === 'string' && (typeof record === 'string' || (typeof record === 'object' && record !== null && record.customerId === customerIds[i])));
}

function isRecordBatch(value: unknown): value is RecordBatch {
  if (typeof value !== 'object' || value === null) return false;
  const { lines, records } = value as Partial<RecordBatch>;
  return isLines(lines) && Array.isArray(records) && lines.length === records.length && records.every((record) => typeof record === 'object' && record !== null);
}
