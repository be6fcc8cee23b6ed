import type { CustomerRecord } from '#shared/model.ts';

/**
 * Customer records kept packed into one string: an object with ten string properties costs ~400
 * bytes in V8, the packed string about a third of that. Records that cannot be packed losslessly
 * (a separator inside a value, or a property the model does not know) are kept as they are.
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
/**
 * First character of a record packed as UTF-8 bytes, one per character: V8 keeps a string with
 * any character past U+00FF (a Chinese name) at two bytes per character, which doubles the whole
 * record; its UTF-8 bytes as a one-byte string are about half that.
 */
const UTF8 = '\u0002';
const BEYOND_ONE_BYTE = /[^\u0000-\u00ff]/;
/** UTF-8 cannot carry a lone surrogate (a JSONL "\ud800"): records with any surrogate stay as they are. */
const SURROGATE = /[\ud800-\udfff]/;

/** A packed record never starts with UTF8 (it starts with the consent flag or a separator). */
function compact(packed: string): string {
  return BEYOND_ONE_BYTE.test(packed) && !SURROGATE.test(packed) ? UTF8 + Buffer.from(packed, 'utf8').toString('latin1') : packed;
}

function expanded(stored: string): string {
  return stored.startsWith(UTF8) ? Buffer.from(stored.slice(1), 'latin1').toString('utf8') : stored;
}

export type StoredCustomer = string | CustomerRecord;

export function packCustomer(record: CustomerRecord): StoredCustomer {
  const consent = record.acceptsMarketing === undefined ? '' : record.acceptsMarketing ? '1' : '0';
  const parts: string[] = [consent, record.signedUpAt === undefined ? '' : `=${record.signedUpAt}`];
  for (const field of STRING_FIELDS) {
    const value = record[field];
    if (value !== undefined && value.includes(SEP)) return { ...record };
    parts.push(value === undefined ? '' : `=${value}`);
  }
  for (const key of Object.keys(record)) if (!KNOWN_FIELDS.has(key)) return { ...record };
  return compact(parts.join(SEP));
}

export function unpackCustomer(customerId: string, stored: StoredCustomer): CustomerRecord {
  if (typeof stored !== 'string') return { ...stored };
  const parts = expanded(stored).split(SEP);
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

export function storedEmail(stored: StoredCustomer): string | undefined {
  if (typeof stored !== 'string') return stored.email;
  const part = expanded(stored).split(SEP, 3)[2]; // email is the first string field
  return part ? part.slice(1) : undefined;
}
