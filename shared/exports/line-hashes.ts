import { endianness } from 'node:os';
import { releasableArrayBuffer } from '#shared/releasable-memory.ts';
import type { OrderLine } from '#shared/model.ts';

/**
 * Finds the same order line in two different files (a part exported twice, overlapping parts)
 * without keeping the lines: each line is reduced to a 64-bit hash of its values, stored in
 * typed arrays (8 bytes a line: 10M lines are 80 MB, off the JS heap), sorted in chunks, and
 * the chunks of all files merged at the end.
 *
 * Shopify's orders are compared as orders instead (addOrder): an order is one group of rows, so
 * the same order in two groups, in one file or two, was read twice even when its rows differ (a
 * refund in between). Its key is hashed the same way, with its file and line kept beside it so
 * that the error can name both groups (16 bytes an order).
 *
 * False matches: the hash is two independent 32-bit multiplicative hashes, each finished with
 * MurmurHash3's mixer, used as one 64-bit value. For lines that are not crafted to collide, two
 * different lines share it with probability 2^-64, so with n lines in one part and m in the
 * others a false match happens with probability about n·m / 2^64: at 10M lines split in two
 * halves, 2.5e13 / 1.8e19 ≈ 1.4e-6 per night. We accept that: a false match fails the night
 * loudly (and a rerun fails the same way, so it would be seen and investigated), it never
 * corrupts anything.
 */

/** Each 64-bit entry is two 32-bit lanes; which one holds the high half depends on the platform. */
const HIGH = endianness() === 'LE' ? 1 : 0;
const LOW = 1 - HIGH;

/** Entries of a chunk once grown: 1M entries, 8 MB. Chunks start small so small exports stay small. */
const MAX_CHUNK = 1 << 20;
const FIRST_CHUNK = 1 << 10;

/**
 * An order entry's low lane: the top 12 bits of its key's second hash, then its place in its chunk
 * (below MAX_CHUNK), so that the native sort of the entries keeps where each one's file line and
 * full second hash are (OrderChunk.side). Equal keys still sort next to each other.
 */
const ORDINAL_BITS = 20;
const ORDINAL_MASK = (1 << ORDINAL_BITS) - 1;
const PREFIX_MASK = ~ORDINAL_MASK;

interface Chunk {
  /** The entries as 64-bit values, for the native sort. */
  values: BigUint64Array;
  /** The same memory as 32-bit lanes, for writing and comparing without BigInts. */
  lanes: Uint32Array;
  length: number;
  file: number;
}

/** An order's chunk: side[2 * ordinal] is the entry's full second hash, side[2 * ordinal + 1] its line. */
interface OrderChunk extends Chunk {
  side: Uint32Array;
}

/** Where an order read twice starts: the file (number) and line of the first row of its group. */
export interface OrderGroupAt {
  file: number;
  line: number;
}

/** Memory for `entries` hashes that goes back to the system when the read ends (releasable-memory.ts). */
function releasableBuffer(entries: number): ArrayBuffer {
  return releasableArrayBuffer(entries * 8);
}

function newChunk(capacity: number, file: number): Chunk {
  const values = new BigUint64Array(releasableBuffer(capacity), 0, capacity);
  return { values, lanes: new Uint32Array(values.buffer, 0, capacity * 2), length: 0, file };
}

function newOrderChunk(capacity: number, file: number): OrderChunk {
  return { ...newChunk(capacity, file), side: new Uint32Array(releasableBuffer(capacity), 0, capacity * 2) };
}

/**
 * The entries of sorted `chunks`, walked in order of the entries: a merge with a heap, O(entries
 * · log chunks), no extra memory beyond one cursor per chunk. Each call of the returned function
 * gives the chunk of the next entry (`positions[chunk]` is its place in it), or -1 once every
 * entry was walked. A cursor rather than a callback, so that the caller's loop keeps its state in
 * locals.
 */
function sortedWalk(chunks: readonly Chunk[], positions: Int32Array): () => number {
  // A binary min-heap of chunk indexes, ordered by each chunk's entry at its position.
  const heap = new Int32Array(chunks.length);
  let size = 0;
  const less = (x: number, y: number): boolean => {
    const cx = chunks[x] as Chunk;
    const cy = chunks[y] as Chunk;
    const px = (positions[x] as number) * 2;
    const py = (positions[y] as number) * 2;
    const hx = cx.lanes[px + HIGH] as number;
    const hy = cy.lanes[py + HIGH] as number;
    return hx !== hy ? hx < hy : (cx.lanes[px + LOW] as number) < (cy.lanes[py + LOW] as number);
  };
  const siftDown = (from: number): void => {
    let i = from;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= size) return;
      const right = left + 1;
      const smallest = right < size && less(heap[right] as number, heap[left] as number) ? right : left;
      if (!less(heap[smallest] as number, heap[i] as number)) return;
      const swap = heap[i] as number;
      heap[i] = heap[smallest] as number;
      heap[smallest] = swap;
      i = smallest;
    }
  };
  for (let c = 0; c < chunks.length; c++) if ((chunks[c] as Chunk).length > 0) heap[size++] = c;
  for (let i = (size >> 1) - 1; i >= 0; i--) siftDown(i);
  // The chunk of the entry handed out last: the next call moves past it first.
  let last = -1;
  return () => {
    if (last !== -1) {
      const next = (positions[last] as number) + 1;
      positions[last] = next;
      if (next === (chunks[last] as Chunk).length) heap[0] = heap[--size] as number;
      siftDown(0);
    }
    last = size > 0 ? (heap[0] as number) : -1;
    return last;
  };
}

/** The first `length` entries (two 32-bit lanes each) of a chunk's lanes, in memory of that size. */
function trimmed(lanes: Uint32Array, length: number): Uint32Array {
  const kept = new Uint32Array(releasableBuffer(length), 0, length * 2);
  kept.set(lanes.subarray(0, length * 2));
  return kept;
}

/** MurmurHash3's 32-bit finaliser: every input bit affects every output bit. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** What an absent field adds: no text gives it (a text adds its length + 0x100 last). */
const ABSENT = 0x1f;

export class OrderLineHashes {
  private readonly chunks: Chunk[] = [];
  private current: Chunk | undefined;
  private readonly orderChunks: OrderChunk[] = [];
  private currentOrders: OrderChunk | undefined;
  private file = -1;
  private a = 0;
  private b = 0;

  /** Starts collecting the lines of file number `file`. */
  startFile(file: number): void {
    this.endFile();
    this.file = file;
  }

  /**
   * Adds one order line as read (ids, instant, product, quantity, amounts in minor units of the
   * brand currency, status): the same line written another way (a UTC instant for an offset one,
   * "42.0" for "42.00", JSONL for CSV, quoted or not) hashes the same.
   */
  add(line: OrderLine): void {
    this.a = 0x811c9dc5; // FNV-1a
    this.b = 0x9e3779b9; // a different multiplier and a rotation: not a function of `a`
    this.text(line.orderId);
    this.text(line.customerId);
    this.text(line.email);
    this.number(line.orderedAt);
    this.text(line.sku);
    this.text(line.productName);
    this.text(line.category);
    this.number(line.quantity);
    this.number(line.lineTotalMinor);
    this.number(line.refundedMinor);
    this.text(line.status);
    let chunk = this.current;
    if (chunk === undefined || chunk.length === chunk.values.length) chunk = this.grow();
    const at = chunk.length * 2;
    chunk.lanes[at + HIGH] = mix(this.a);
    chunk.lanes[at + LOW] = mix(this.b);
    chunk.length += 1;
  }

  /**
   * Adds one Shopify order, read whole, by its key (OrderLine.orderId: its Id, else its Name),
   * with the line of the first row of its group.
   */
  addOrder(orderId: string, line: number): void {
    this.a = 0x811c9dc5;
    this.b = 0x9e3779b9;
    this.text(orderId);
    let chunk = this.currentOrders;
    if (chunk === undefined || chunk.length === chunk.values.length) chunk = this.growOrders();
    const ordinal = chunk.length;
    const second = mix(this.b);
    chunk.lanes[ordinal * 2 + HIGH] = mix(this.a);
    chunk.lanes[ordinal * 2 + LOW] = ((second & PREFIX_MASK) | ordinal) >>> 0;
    chunk.side[ordinal * 2] = second;
    chunk.side[ordinal * 2 + 1] = line;
    chunk.length += 1;
  }

  private code(code: number): void {
    this.a = Math.imul(this.a ^ code, 0x01000193);
    this.b = Math.imul((this.b << 5) | (this.b >>> 27), 0x5bd1e995) ^ code;
  }

  private text(value: string | undefined): void {
    if (value === undefined) return this.code(ABSENT);
    for (let i = 0; i < value.length; i++) this.code(value.charCodeAt(i));
    // The length separates the values: "ab","" and "a","b" differ.
    this.code(value.length + 0x100);
  }

  /** A whole number (instants, minor units and quantities are) as four 16-bit pieces, as text adds characters; any other in its shortest text. */
  private number(value: number): void {
    if (!Number.isSafeInteger(value)) return this.text(String(value));
    const low = value >>> 0;
    const high = Math.floor(value / 0x1_0000_0000) >>> 0;
    this.code(low & 0xffff);
    this.code(low >>> 16);
    this.code(high & 0xffff);
    this.code(high >>> 16);
  }

  /** Closes the current file's last chunks (of lines and of orders): trimmed to their length and sorted. */
  endFile(): void {
    const chunk = this.current;
    this.current = undefined;
    if (chunk !== undefined) {
      if (chunk.length === 0) this.chunks.pop();
      else {
        if (chunk.length < chunk.values.length) this.trim(chunk);
        chunk.values.sort();
      }
    }
    const orders = this.currentOrders;
    this.currentOrders = undefined;
    if (orders !== undefined) {
      if (orders.length < orders.values.length) {
        this.trim(orders);
        orders.side = trimmed(orders.side, orders.length);
      }
      orders.values.sort();
    }
  }

  private trim(chunk: Chunk): void {
    chunk.lanes = trimmed(chunk.lanes, chunk.length);
    chunk.values = new BigUint64Array(chunk.lanes.buffer, 0, chunk.length);
  }

  /** A pair of different files (file numbers, in order) that share a line, or undefined. */
  findSharedLine(): [number, number] | undefined {
    this.endFile();
    const chunks = this.chunks;
    const positions = new Int32Array(chunks.length);
    const next = sortedWalk(chunks, positions);
    // The run of equal entries being walked: its value and the file it was first seen in.
    let runHigh = -1;
    let runLow = -1;
    let runFile = -1;
    for (let c = next(); c !== -1; c = next()) {
      const chunk = chunks[c] as Chunk;
      const p = (positions[c] as number) * 2;
      const high = chunk.lanes[p + HIGH] as number;
      const low = chunk.lanes[p + LOW] as number;
      if (high === runHigh && low === runLow) {
        if (chunk.file !== runFile) return runFile < chunk.file ? [runFile, chunk.file] : [chunk.file, runFile];
      } else {
        runHigh = high;
        runLow = low;
        runFile = chunk.file;
      }
    }
    return undefined;
  }

  /**
   * Two groups of rows of one order (addOrder), in one file or two, earlier first (by file
   * number, then line), or undefined.
   */
  findRepeatedOrder(): [OrderGroupAt, OrderGroupAt] | undefined {
    this.endFile();
    const chunks = this.orderChunks;
    // The entries walked whose first 44 bits are the same: almost always one; its second hash tells a repeat.
    let runHigh = -1;
    let runPrefix = -1;
    const runChunks: number[] = [];
    const runOrdinals: number[] = [];
    const at = (c: number, ordinal: number): OrderGroupAt => {
      const chunk = chunks[c] as OrderChunk;
      return { file: chunk.file, line: chunk.side[ordinal * 2 + 1] as number };
    };
    const positions = new Int32Array(chunks.length);
    const next = sortedWalk(chunks, positions);
    for (let c = next(); c !== -1; c = next()) {
      const chunk = chunks[c] as OrderChunk;
      const p = (positions[c] as number) * 2;
      const high = chunk.lanes[p + HIGH] as number;
      const low = chunk.lanes[p + LOW] as number;
      const prefix = (low & PREFIX_MASK) >>> 0;
      const ordinal = low & ORDINAL_MASK;
      if (high !== runHigh || prefix !== runPrefix) {
        runHigh = high;
        runPrefix = prefix;
        runChunks.length = 0;
        runOrdinals.length = 0;
      }
      const second = chunk.side[ordinal * 2] as number;
      for (let i = 0; i < runChunks.length; i++) {
        const other = runChunks[i] as number;
        const otherOrdinal = runOrdinals[i] as number;
        if ((chunks[other] as OrderChunk).side[otherOrdinal * 2] !== second) continue;
        const pair = [at(other, otherOrdinal), at(c, ordinal)].sort((x, y) => x.file - y.file || x.line - y.line);
        return pair as [OrderGroupAt, OrderGroupAt];
      }
      runChunks.push(c);
      runOrdinals.push(ordinal);
    }
    return undefined;
  }

  /**
   * The sorted chunks as bytes, for a reader of part of the export to hand them to the one that
   * compares every file's (absorb). Closes the current file. Layout: u32 count of line chunks, u32
   * count of order chunks (an even number of u32s ahead: the entries start 8-byte aligned), then
   * per chunk (the lines', then the orders') u32 file number and u32 entries; then each line
   * chunk's entries (8 bytes each), then each order chunk's entries and their side (8 + 8 bytes
   * each), in this platform's order: the readers and the comparer are the same code on the same
   * kind of machine.
   */
  encode(): Uint8Array {
    this.endFile();
    const all = [...this.chunks, ...this.orderChunks];
    const head = new Uint32Array(2 + 2 * all.length);
    head[0] = this.chunks.length;
    head[1] = this.orderChunks.length;
    let size = head.byteLength;
    all.forEach((chunk, i) => {
      head[2 + 2 * i] = chunk.file;
      head[3 + 2 * i] = chunk.length;
      size += chunk.length * 8;
    });
    for (const chunk of this.orderChunks) size += chunk.length * 8;
    // Releasable too: a reader thread's hashes move to the thread that compares them (file-threads.ts).
    const out = new Uint8Array(releasableArrayBuffer(size), 0, size);
    out.set(new Uint8Array(head.buffer), 0);
    let offset = head.byteLength;
    const put = (lanes: Uint32Array, length: number) => {
      out.set(new Uint8Array(lanes.buffer, lanes.byteOffset, length * 8), offset);
      offset += length * 8;
    };
    for (const chunk of this.chunks) put(chunk.lanes, chunk.length);
    for (const chunk of this.orderChunks) {
      put(chunk.lanes, chunk.length);
      put(chunk.side, chunk.length);
    }
    return out;
  }

  /**
   * Adds the chunks another instance encoded (its file numbers kept). The bytes of encode(), as
   * they came from another thread, are used as they are; any others (a slice of a larger buffer,
   * maybe not 8-byte aligned) are copied into releasable memory.
   */
  absorb(bytes: Uint8Array): void {
    this.endFile();
    const asEncoded = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && (bytes.buffer as { resizable?: boolean }).resizable === true;
    const copy = asEncoded ? bytes : new Uint8Array(releasableArrayBuffer(bytes.byteLength), 0, bytes.byteLength);
    if (!asEncoded) copy.set(bytes);
    const counts = new Uint32Array(copy.buffer, 0, 2);
    const lineChunks = counts[0] as number;
    const orderChunks = counts[1] as number;
    const head = new Uint32Array(copy.buffer, 0, 2 + 2 * (lineChunks + orderChunks));
    let offset = head.byteLength;
    const take = (i: number): Chunk => {
      const length = head[3 + 2 * i] as number;
      const values = new BigUint64Array(copy.buffer, offset, length);
      offset += length * 8;
      return { values, lanes: new Uint32Array(copy.buffer, values.byteOffset, length * 2), length, file: head[2 + 2 * i] as number };
    };
    for (let i = 0; i < lineChunks; i++) this.chunks.push(take(i));
    for (let i = lineChunks; i < lineChunks + orderChunks; i++) {
      const chunk = take(i);
      this.orderChunks.push({ ...chunk, side: new Uint32Array(copy.buffer, offset, chunk.length * 2) });
      offset += chunk.length * 8;
    }
    if (offset !== copy.byteLength) throw new RangeError(`line hashes of ${copy.byteLength} bytes, ${offset} expected`);
  }

  private grow(): Chunk {
    const full = this.current;
    if (full !== undefined) full.values.sort();
    const chunk = newChunk(nextCapacity(full), this.file);
    this.chunks.push(chunk);
    this.current = chunk;
    return chunk;
  }

  private growOrders(): OrderChunk {
    const full = this.currentOrders;
    if (full !== undefined) full.values.sort();
    const chunk = newOrderChunk(nextCapacity(full), this.file);
    this.orderChunks.push(chunk);
    this.currentOrders = chunk;
    return chunk;
  }
}

/** A file's next chunk: twice its last one, up to MAX_CHUNK (which an order entry's ordinal must stay below). */
function nextCapacity(full: Chunk | undefined): number {
  return full === undefined ? FIRST_CHUNK : Math.min(full.values.length * 2, MAX_CHUNK);
}
