/** Typed-array storage that grows in chunks, for the columnar client state (client-columns.ts). */

const CHUNK_BITS = 16;
const CHUNK_SIZE = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK_SIZE - 1;
const FIRST_CHUNK_SIZE = 256;

/**
 * A growable column of numbers stored in typed-array chunks of 64K entries: growth never
 * copies more than one chunk, and slack is at most one chunk. The first chunk starts small
 * and doubles, so that small aggregators (tests, small brands) stay small.
 */
type Chunk = Float64Array | Int32Array | Uint16Array | Uint8Array;

/** The element type: 'u16' and 'u8' for small values (2 and 1 bytes a row), the caller keeping them in range. */
export type ColumnKind = 'f64' | 'i32' | 'u16' | 'u8';

export class Column {
  private readonly chunks: Chunk[] = [];
  private size = 0;

  constructor(private readonly kind: ColumnKind) {}

  get length(): number {
    return this.size;
  }

  push(value: number): number {
    const index = this.size;
    const c = index >>> CHUNK_BITS;
    const offset = index & CHUNK_MASK;
    let chunk = this.chunks[c];
    if (chunk === undefined) {
      chunk = this.allocate(c === 0 ? FIRST_CHUNK_SIZE : CHUNK_SIZE);
      this.chunks.push(chunk);
    } else if (offset >= chunk.length) {
      const bigger = this.allocate(Math.min(chunk.length * 2, CHUNK_SIZE));
      bigger.set(chunk);
      this.chunks[c] = chunk = bigger;
    }
    chunk[offset] = value;
    this.size = index + 1;
    return index;
  }

  get(index: number): number {
    return (this.chunks[index >>> CHUNK_BITS] as Chunk)[index & CHUNK_MASK] as number;
  }

  set(index: number, value: number): void {
    (this.chunks[index >>> CHUNK_BITS] as Chunk)[index & CHUNK_MASK] = value;
  }

  /** The column's values in one array. */
  toFloat64Array(): Float64Array {
    const out = new Float64Array(this.size);
    let offset = 0;
    for (const chunk of this.chunks) {
      const take = Math.min(chunk.length, this.size - offset);
      out.set(take === chunk.length ? chunk : chunk.subarray(0, take), offset);
      offset += take;
    }
    return out;
  }

  private allocate(size: number): Chunk {
    switch (this.kind) {
      case 'f64':
        return new Float64Array(size);
      case 'i32':
        return new Int32Array(size);
      case 'u16':
        return new Uint16Array(size);
      case 'u8':
        return new Uint8Array(size);
    }
  }
}

/** The narrow element types a WideningColumn starts its chunks in, and their largest value. */
const NARROW_KINDS = { u16: 0xffff, u32: 0xffffffff } as const;

type NarrowChunk = Uint16Array | Uint32Array;

/**
 * Numbers at 2 or 4 bytes a row while they are whole and in range once divided by `scale`
 * (epoch milliseconds in whole seconds: scale 1000); any other value, exactly as given, makes
 * the chunk that holds it a Float64Array (8 bytes a row, as a 'f64' Column). For columns that
 * nearly always hold small whole numbers but must take any: interned ids, order numbers, times.
 * Unlike CompactColumn, an exception costs its chunk's widening, not a map entry, so a column
 * whose values are all wide (a brand's 13-digit order numbers) is never larger than a 'f64' one.
 */
export class WideningColumn {
  private readonly chunks: (NarrowChunk | Float64Array)[] = [];
  /** wide[c]: chunk c is a Float64Array of the values themselves. */
  private readonly wide: boolean[] = [];
  private size = 0;
  private readonly max: number;

  constructor(
    private readonly kind: keyof typeof NARROW_KINDS,
    private readonly scale: number = 1,
  ) {
    this.max = NARROW_KINDS[kind];
  }

  get length(): number {
    return this.size;
  }

  push(value: number): number {
    const index = this.size;
    const c = index >>> CHUNK_BITS;
    const offset = index & CHUNK_MASK;
    const chunk = this.chunks[c];
    if (chunk === undefined) {
      this.chunks.push(this.allocate(c === 0 ? FIRST_CHUNK_SIZE : CHUNK_SIZE));
      this.wide.push(false);
    } else if (offset >= chunk.length) {
      const bigger = this.wide[c] ? new Float64Array(Math.min(chunk.length * 2, CHUNK_SIZE)) : this.allocate(Math.min(chunk.length * 2, CHUNK_SIZE));
      bigger.set(chunk);
      this.chunks[c] = bigger;
    }
    this.size = index + 1;
    this.store(c, offset, value);
    return index;
  }

  get(index: number): number {
    const c = index >>> CHUNK_BITS;
    const stored = (this.chunks[c] as NarrowChunk | Float64Array)[index & CHUNK_MASK] as number;
    return this.wide[c] ? stored : stored * this.scale;
  }

  set(index: number, value: number): void {
    this.store(index >>> CHUNK_BITS, index & CHUNK_MASK, value);
  }

  private store(c: number, offset: number, value: number): void {
    if (!this.wide[c]) {
      const narrow = value / this.scale;
      // -0 would come back as 0; the product check refuses a quotient that rounded.
      if (Number.isInteger(narrow) && narrow >= 0 && narrow <= this.max && narrow * this.scale === value && !Object.is(value, -0)) {
        (this.chunks[c] as NarrowChunk)[offset] = narrow;
        return;
      }
      this.widen(c);
    }
    (this.chunks[c] as Float64Array)[offset] = value;
  }

  private widen(c: number): void {
    const narrow = this.chunks[c] as NarrowChunk;
    const wide = new Float64Array(narrow.length);
    for (let i = 0; i < narrow.length; i++) wide[i] = (narrow[i] as number) * this.scale;
    this.chunks[c] = wide;
    this.wide[c] = true;
  }

  private allocate(size: number): NarrowChunk {
    return this.kind === 'u16' ? new Uint16Array(size) : new Uint32Array(size);
  }
}

/** The values each compact kind stores itself, and the one that marks a row kept in the map. */
const COMPACT_RANGE = { u16: { min: 0, max: 0xfffe, inMap: 0xffff }, i32: { min: -0x7fffffff, max: 0x7fffffff, inMap: -0x80000000 } } as const;

/**
 * Whole numbers at 2 or 4 bytes a row, for columns that nearly always hold small ones (units
 * bought, minor units): a whole number in the kind's range is stored as it is; any other value
 * (a fraction, a huge amount, -0, NaN) is kept exactly in a map under its row.
 */
export class CompactColumn {
  private readonly rows: Column;
  private readonly others = new Map<number, number>();
  private readonly min: number;
  private readonly max: number;
  private readonly inMap: number;

  constructor(kind: keyof typeof COMPACT_RANGE) {
    this.rows = new Column(kind);
    ({ min: this.min, max: this.max, inMap: this.inMap } = COMPACT_RANGE[kind]);
  }

  push(value: number): number {
    if (this.fits(value)) return this.rows.push(value);
    const index = this.rows.push(this.inMap);
    this.others.set(index, value);
    return index;
  }

  get(index: number): number {
    const stored = this.rows.get(index);
    return stored === this.inMap ? (this.others.get(index) as number) : stored;
  }

  set(index: number, value: number): void {
    if (this.fits(value)) {
      if (this.rows.get(index) === this.inMap) this.others.delete(index);
      this.rows.set(index, value);
    } else {
      this.rows.set(index, this.inMap);
      this.others.set(index, value);
    }
  }

  /** Whether the row can store `value` itself (-0 would come back as 0). */
  private fits(value: number): boolean {
    return Number.isInteger(value) && value >= this.min && value <= this.max && !Object.is(value, -0);
  }
}
