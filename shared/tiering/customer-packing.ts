import type { CustomerRecord } from '#shared/model.ts';
import { Column, WideningColumn } from './chunked-column.ts';

/**
 * Customer records kept packed, off the JS heap: each record is one string of its fields joined
 * by a separator, stored as UTF-8 bytes in shared byte chunks (~110 bytes for a typical record).
 * An object with ten string properties costs ~400 bytes of heap, a packed string ~150 bytes,
 * and a heap the collector must walk and keep room beside; the bytes cost their length only.
 * Records that cannot be packed losslessly (a separator inside a value, a lone surrogate, which
 * UTF-8 cannot carry, a property the model does not know, or a record larger than a chunk) are
 * kept as they are. A sharded night's readers pack each customer once (packCustomer) and its
 * bucket hands the packed text on (setPacked): a bucket's read then neither rebuilds the record
 * objects nor packs them again.
 */

const STRING_FIELDS = [
  'email',
  'firstName',
  'lastName',
  'phone',
  'locale',
  'timeZone',
  'birthday',
  'advisorId',
] as const satisfies readonly (keyof CustomerRecord)[];
type StringField = (typeof STRING_FIELDS)[number];
const KNOWN_FIELDS: ReadonlySet<string> = new Set<string>([
  'customerId',
  'signedUpAt',
  'acceptsMarketing',
  ...STRING_FIELDS,
]);
// Compile-time guard: a field added to CustomerRecord must be added to the packing above.
type UnpackedField = Exclude<keyof CustomerRecord, StringField | 'customerId' | 'signedUpAt' | 'acceptsMarketing'>;
const allFieldsPacked: [UnpackedField] extends [never] ? true : false = true;
void allFieldsPacked;

const SEP = '\u001f';
/** With the u flag a surrogate pair is one code point: this matches lone surrogates only. */
const LONE_SURROGATE = /[\ud800-\udfff]/u;

/** The record as one string (consent, sign-up, then the string fields; not its customerId), or undefined when it cannot be packed losslessly. */
export function packCustomer(record: CustomerRecord): string | undefined {
  const consent = record.acceptsMarketing === undefined ? '' : record.acceptsMarketing ? '1' : '0';
  const parts: string[] = [consent, record.signedUpAt === undefined ? '' : `=${record.signedUpAt}`];
  for (const field of STRING_FIELDS) {
    const value = record[field];
    if (value !== undefined && value.includes(SEP)) return undefined;
    parts.push(value === undefined ? '' : `=${value}`);
  }
  for (const key of Object.keys(record)) if (!KNOWN_FIELDS.has(key)) return undefined;
  const text = parts.join(SEP);
  return LONE_SURROGATE.test(text) ? undefined : text;
}

/** The record packCustomer packed, as it was. */
export function unpackCustomer(customerId: string, text: string): CustomerRecord {
  const parts = text.split(SEP);
  const record: CustomerRecord = { customerId };
  if (parts[0] !== '') record.acceptsMarketing = parts[0] === '1';
  const signedUp = parts[1];
  if (signedUp) record.signedUpAt = Number(signedUp.slice(1));
  STRING_FIELDS.forEach((field, i) => {
    const part = parts[i + 2];
    if (part) record[field] = part.slice(1);
  });
  return record;
}

/** The email of a record packCustomer packed (the first string field), without unpacking the rest. */
export function packedEmail(text: string): string | undefined {
  const afterConsent = text.indexOf(SEP);
  const afterSignUp = text.indexOf(SEP, afterConsent + 1);
  const afterEmail = text.indexOf(SEP, afterSignUp + 1);
  // A field is '' when absent, '=' and its value when present.
  return text[afterSignUp + 1] === '=' ? text.slice(afterSignUp + 2, afterEmail === -1 ? undefined : afterEmail) : undefined;
}

/** Byte chunks of 1 MB once grown; the first starts small and doubles, so small aggregators stay small. */
const MAX_CHUNK_BYTES = 1 << 20;
const FIRST_CHUNK_BYTES = 4096;
/** Length column values that are not byte counts. */
const ABSENT = -1;
const AS_OBJECT = -2;

/** The customer record of each client slot (0, 1, 2, ...), packed as above. */
export class CustomerRecords {
  private readonly chunks: Buffer[] = [];
  /** Bytes used in the last chunk. */
  private used = 0;
  /** Per slot: the record's start, as chunk index × MAX_CHUNK_BYTES + offset. */
  private readonly start = new WideningColumn('u32');
  /** Per slot: the record's length in bytes, or ABSENT / AS_OBJECT. */
  private readonly length = new Column('i32');
  private readonly objects = new Map<number, CustomerRecord>();

  /** Adds slots up to `slot` (without a record). */
  reserve(slot: number): void {
    while (this.length.length <= slot) {
      this.start.push(0);
      this.length.push(ABSENT);
    }
  }

  has(slot: number): boolean {
    return slot < this.length.length && this.length.get(slot) !== ABSENT;
  }

  /** Stores the slot's record, replacing any earlier one (its bytes stay unused: a customer listed twice is rare; the aggregator merges the two first). */
  set(slot: number, record: CustomerRecord): void {
    const text = packCustomer(record);
    if (text === undefined) this.setObject(slot, record);
    else this.setPacked(slot, record.customerId, text);
  }

  /** As set, with the record as packCustomer packed it. */
  setPacked(slot: number, customerId: string, text: string): void {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > MAX_CHUNK_BYTES) return this.setObject(slot, unpackCustomer(customerId, text));
    this.reserve(slot);
    this.objects.delete(slot);
    const chunk = this.room(bytes);
    chunk.write(text, this.used, 'utf8');
    this.start.set(slot, (this.chunks.length - 1) * MAX_CHUNK_BYTES + this.used);
    this.length.set(slot, bytes);
    this.used += bytes;
  }

  private setObject(slot: number, record: CustomerRecord): void {
    this.reserve(slot);
    this.objects.set(slot, { ...record });
    this.length.set(slot, AS_OBJECT);
  }

  /** The slot's record (a fresh object), or undefined when it has none. */
  get(slot: number, customerId: string): CustomerRecord | undefined {
    const text = this.textOf(slot);
    if (text !== undefined) return unpackCustomer(customerId, text);
    const object = this.objects.get(slot);
    return object === undefined ? undefined : { ...object };
  }

  /** The email of the slot's record, if it has one. */
  email(slot: number): string | undefined {
    const text = this.textOf(slot);
    return text === undefined ? this.objects.get(slot)?.email : packedEmail(text);
  }

  private textOf(slot: number): string | undefined {
    if (slot >= this.length.length) return undefined;
    const bytes = this.length.get(slot);
    if (bytes < 0) return undefined;
    const start = this.start.get(slot);
    const chunk = this.chunks[Math.floor(start / MAX_CHUNK_BYTES)] as Buffer;
    const offset = start % MAX_CHUNK_BYTES;
    return chunk.toString('utf8', offset, offset + bytes);
  }

  /** The last chunk, with room for `bytes` more (a new chunk, or the first one grown). */
  private room(bytes: number): Buffer {
    const last = this.chunks[this.chunks.length - 1];
    if (last !== undefined && this.used + bytes <= last.length) return last;
    if (last !== undefined && this.chunks.length === 1 && last.length < MAX_CHUNK_BYTES) {
      let size = last.length * 2;
      while (size < this.used + bytes) size *= 2;
      size = Math.min(size, MAX_CHUNK_BYTES);
      if (this.used + bytes <= size) {
        const bigger = Buffer.alloc(size);
        last.copy(bigger, 0, 0, this.used);
        this.chunks[0] = bigger;
        return bigger;
      }
    }
    const chunk = Buffer.alloc(this.chunks.length === 0 ? Math.max(FIRST_CHUNK_BYTES, bytes) : MAX_CHUNK_BYTES);
    this.chunks.push(chunk);
    this.used = 0;
    return chunk;
  }
}
