/**
 * The client's id in an email's SES message tags, so that a bounce or complaint names the client
 * it came from (feedback/ses-events.ts) and forget finds it by that id. SES tag values take only
 * ASCII letters, digits, '_' and '-', at most 256 characters, and the exports accept any id up to
 * 256 bytes of UTF-8 ('C.001', '客户001'), so:
 * - an id made only of those characters (and at most 256 long) travels as it is, under
 *   `customerId`, as every email did before this encoding;
 * - any other id travels as base64url of its UTF-8 bytes, split in parts of at most 256
 *   characters, tagged `customerIdB64_1of2`, `customerIdB64_2of2` (or `customerIdB64_1of1`).
 * Pure, and reversible: each id has one form, and a form decodes to one id or to a problem, never
 * to a guess. Emails sent before this encoding carried other ids rewritten (`C.001` as `C_001`):
 * their `customerId` tag reads as that rewritten id (README, Forgetting a client).
 */

export const CUSTOMER_ID_TAG = 'customerId';

const ENCODED_PREFIX = 'customerIdB64_';
const ENCODED_TAG = /^customerIdB64_([1-9][0-9]{0,2})of([1-9][0-9]{0,2})$/;
const TAG_VALUE_MAX = 256;
const TAG_SAFE = /^[A-Za-z0-9_-]+$/;
/** With the u flag a surrogate pair is one code point: this matches lone surrogates only, which UTF-8 cannot carry. */
const LONE_SURROGATE = /[\ud800-\udfff]/u;

/** Whether SES takes the value as a tag value as it is. */
export function isTagSafe(value: string): boolean {
  return value.length <= TAG_VALUE_MAX && TAG_SAFE.test(value);
}

/**
 * The tags (name → value, every one tag-safe) that carry `customerId`. None for an empty id, or for
 * one holding a lone surrogate (no export can produce it): a tag naming another id would be worse
 * than none.
 */
export function customerIdTags(customerId: string): Record<string, string> {
  if (customerId.length === 0 || LONE_SURROGATE.test(customerId)) return {};
  if (isTagSafe(customerId)) return { [CUSTOMER_ID_TAG]: customerId };
  const encoded = Buffer.from(customerId, 'utf8').toString('base64url');
  const count = Math.ceil(encoded.length / TAG_VALUE_MAX);
  const tags: Record<string, string> = {};
  for (let part = 1; part <= count; part++) {
    tags[`${ENCODED_PREFIX}${part}of${count}`] = encoded.slice((part - 1) * TAG_VALUE_MAX, part * TAG_VALUE_MAX);
  }
  return tags;
}

/** What an event's tags say of the client: their id, no id (an email without one), or why they cannot be read. */
export type TaggedCustomerId = { kind: 'id'; customerId: string } | { kind: 'none' } | { kind: 'undecodable'; problem: string };

/**
 * The client's id from an SES event's `mail.tags` (each tag a list of values, as SES sends them).
 * Problems name the tags only, never their values.
 */
export function customerIdFromTags(tags: Readonly<Record<string, readonly string[]>> | undefined): TaggedCustomerId {
  const plain = tags?.[CUSTOMER_ID_TAG]?.[0];
  const parts = Object.entries(tags ?? {}).filter(([name]) => name.startsWith(ENCODED_PREFIX));
  if (parts.length === 0) {
    if (plain === undefined || plain === '') return { kind: 'none' };
    return isTagSafe(plain) ? { kind: 'id', customerId: plain } : { kind: 'undecodable', problem: `${CUSTOMER_ID_TAG} tag is not a value SES takes` };
  }
  if (plain !== undefined) return { kind: 'undecodable', problem: `both ${CUSTOMER_ID_TAG} and ${ENCODED_PREFIX}* tags` };
  return decodeParts(parts);
}

function decodeParts(parts: readonly [string, readonly string[]][]): TaggedCustomerId {
  const undecodable = (why: string): TaggedCustomerId => ({ kind: 'undecodable', problem: `${ENCODED_PREFIX}* tags: ${why}` });
  const values: string[] = [];
  let count: number | undefined;
  for (const [name, tagValues] of parts) {
    const match = ENCODED_TAG.exec(name);
    if (!match) return undecodable('a tag name is not <part>of<count>');
    const part = Number(match[1]);
    const total = Number(match[2]);
    if (count !== undefined && total !== count) return undecodable('parts disagree on their count');
    count = total;
    if (part > total) return undecodable('a part number is past the count');
    values[part - 1] = tagValues[0] ?? '';
  }
  if (count === undefined || parts.length !== count) return undecodable('a part is missing');
  // Every part but the last is full: a shorter one means a part was cut.
  if (values.some((value, i) => !TAG_SAFE.test(value) || value.length > TAG_VALUE_MAX || (i < values.length - 1 && value.length !== TAG_VALUE_MAX))) {
    return undecodable('a part is not a full base64url part');
  }
  const encoded = values.join('');
  const bytes = Buffer.from(encoded, 'base64url');
  // Node's decoder ignores stray trailing bits: insist on the canonical form, as the encoder writes it.
  if (bytes.length === 0 || bytes.toString('base64url') !== encoded) return undecodable('not canonical base64url');
  const customerId = bytes.toString('utf8');
  if (Buffer.from(customerId, 'utf8').toString('base64url') !== encoded) return undecodable('not UTF-8');
  return { kind: 'id', customerId };
}
