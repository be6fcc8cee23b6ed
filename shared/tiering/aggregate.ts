import { createHash } from 'node:crypto';
import type { ClientFacts, CustomerRecord, OrderFact, OrderLine, SkuFact } from '../model.ts';

/**
 * Streaming accumulation of the exports into one ClientFacts per client.
 *
 * Memory is the constraint here (10M order lines / 1M clients within 1 GB RSS), so each client
 * is a handful of flat number arrays rather than nested objects: orders as [at, net] pairs,
 * category spend as [categoryId, net] pairs and SKU purchases as [skuId, at, quantity]
 * triples, with SKU and category strings interned once per aggregator. ClientFacts objects
 * are only built, one at a time, when clients() is iterated.
 */

/** Emails are compared trimmed and lower-cased (the readers already do this; be defensive). */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Stable client id for a client known only by email: 'e-' + first 20 hex of sha256(email). */
export function emailIdentity(email: string): string {
  return `e-${createHash('sha256').update(normaliseEmail(email), 'utf8').digest('hex').slice(0, 20)}`;
}

/**
 * Net amount of one order line, in minor units, never negative:
 * - cancelled: 0 (nothing was paid);
 * - refunded with refundedMinor 0: 0 (exports mark a full refund by status alone);
 * - otherwise the line total minus what was refunded, a refund larger than the line counting
 *   as a full refund. A non-positive line total (the reader should reject it) counts as 0, so
 *   a bad row can never make spend negative.
 */
export function lineNetMinor(line: Pick<OrderLine, 'status' | 'lineTotalMinor' | 'refundedMinor'>): number {
  if (line.status === 'cancelled') return 0;
  if (line.status === 'refunded' && line.refundedMinor === 0) return 0;
  const total = line.lineTotalMinor;
  if (!(total > 0)) return 0;
  const refunded = Math.min(Math.max(line.refundedMinor, 0), total);
  return total - refunded;
}

// ---------------------------------------------------------------------------------------------
// Small flat arrays. push() on a V8 array grows its store by 50% + 16 slots, which for the
// typical client (a few orders) more than doubles its size; concat() allocates exactly. Below
// SMALL_ARRAY elements we copy (cheap), above it we push (amortised, for the rare huge client).

const SMALL_ARRAY = 96;

function append2(values: number[] | undefined, a: number, b: number): number[] {
  if (values === undefined) return [a, b];
  if (values.length >= SMALL_ARRAY) {
    values.push(a, b);
    return values;
  }
  return values.concat([a, b]);
}

function append3(values: number[] | undefined, a: number, b: number, c: number): number[] {
  if (values === undefined) return [a, b, c];
  if (values.length >= SMALL_ARRAY) {
    values.push(a, b, c);
    return values;
  }
  return values.concat([a, b, c]);
}

function appendString(values: string[] | undefined, value: string): string[] {
  if (values === undefined) return [value];
  if (values.length >= SMALL_ARRAY) {
    values.push(value);
    return values;
  }
  return values.concat([value]);
}

/** Clients with more orders than this get a Map from orderId to index instead of a linear scan. */
const ORDER_INDEX_FROM = 16;
/** How far back to look for an earlier row of the same SKU at the same instant to merge with. */
const SKU_MERGE_LOOKBACK = 8;

class Interner {
  private readonly ids = new Map<string, number>();
  readonly values: string[] = [];

  id(value: string): number {
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(value);
      this.ids.set(value, id);
    }
    return id;
  }
}

// ---------------------------------------------------------------------------------------------
// Customer records are kept packed into one string: an object with ten string properties
// costs ~400 bytes in V8, the packed string about a third of that. Records that cannot be
// packed losslessly (a separator inside a value, or a property the model does not know) are
// kept as they are.

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

type StoredCustomer = string | CustomerRecord;

function packCustomer(record: CustomerRecord): StoredCustomer {
  const parts: string[] = [record.acceptsMarketing ? '1' : '0', record.signedUpAt === undefined ? '' : `=${record.signedUpAt}`];
  for (const field of STRING_FIELDS) {
    const value = record[field];
    if (value !== undefined && value.includes(SEP)) return { ...record };
    parts.push(value === undefined ? '' : `=${value}`);
  }
  for (const key of Object.keys(record)) if (!KNOWN_FIELDS.has(key)) return { ...record };
  return parts.join(SEP);
}

function unpackCustomer(customerId: string, stored: StoredCustomer): CustomerRecord {
  if (typeof stored !== 'string') return { ...stored };
  const parts = stored.split(SEP);
  const record: CustomerRecord = { customerId, acceptsMarketing: parts[0] === '1' };
  const signedUp = parts[1];
  if (signedUp) record.signedUpAt = Number(signedUp.slice(1));
  STRING_FIELDS.forEach((field, i) => {
    const part = parts[i + 2];
    if (part) record[field] = part.slice(1);
  });
  return record;
}

function storedEmail(stored: StoredCustomer): string | undefined {
  if (typeof stored !== 'string') return stored.email;
  const part = stored.split(SEP, 3)[2]; // email is the first string field
  return part ? part.slice(1) : undefined;
}

// ---------------------------------------------------------------------------------------------

class ClientState {
  customer: StoredCustomer | undefined = undefined;
  /** Smallest email seen on this client's order lines (used when there is no customer record). */
  email: string | undefined = undefined;
  orderIds: string[] | undefined = undefined;
  orderIndex: Map<string, number> | undefined = undefined;
  /** [orderedAt (earliest line), netMinor] per order, aligned with orderIds. */
  orders: number[] | undefined = undefined;
  /** [categoryId, netMinor] per category with positive net spend. */
  categories: number[] | undefined = undefined;
  /** [skuId, orderedAt, quantity] per positive-net line (rows at one instant merged). */
  skus: number[] | undefined = undefined;
}

function findOrder(state: ClientState, orderId: string): number {
  if (state.orderIndex) return state.orderIndex.get(orderId) ?? -1;
  const ids = state.orderIds;
  if (!ids) return -1;
  for (let i = ids.length - 1; i >= 0; i--) if (ids[i] === orderId) return i;
  return -1;
}

function addOrder(state: ClientState, orderId: string, orderedAt: number, netMinor: number): void {
  const index = findOrder(state, orderId);
  if (index >= 0) {
    const orders = state.orders as number[];
    // The order's time is its earliest line's.
    if (orderedAt < (orders[2 * index] as number)) orders[2 * index] = orderedAt;
    orders[2 * index + 1] = (orders[2 * index + 1] as number) + netMinor;
    return;
  }
  state.orderIds = appendString(state.orderIds, orderId);
  state.orders = append2(state.orders, orderedAt, netMinor);
  const count = state.orderIds.length;
  if (state.orderIndex) state.orderIndex.set(orderId, count - 1);
  else if (count > ORDER_INDEX_FROM) state.orderIndex = new Map(state.orderIds.map((id, i) => [id, i]));
}

function addCategory(state: ClientState, categoryId: number, netMinor: number): void {
  const categories = state.categories;
  if (categories) {
    for (let i = 0; i < categories.length; i += 2) {
      if (categories[i] === categoryId) {
        categories[i + 1] = (categories[i + 1] as number) + netMinor;
        return;
      }
    }
  }
  state.categories = append2(categories, categoryId, netMinor);
}

function addSku(state: ClientState, skuId: number, orderedAt: number, quantity: number): void {
  const skus = state.skus;
  if (skus) {
    // Rows of one order usually arrive together: merge with a recent identical purchase.
    const stop = Math.max(0, skus.length - 3 * SKU_MERGE_LOOKBACK);
    for (let i = skus.length - 3; i >= stop; i -= 3) {
      if (skus[i] === skuId && skus[i + 1] === orderedAt) {
        skus[i + 2] = (skus[i + 2] as number) + quantity;
        return;
      }
    }
  }
  state.skus = append3(skus, skuId, orderedAt, quantity);
}

function mergeInto(target: ClientState, source: ClientState): void {
  if (source.email !== undefined && (target.email === undefined || source.email < target.email)) target.email = source.email;
  const ids = source.orderIds ?? [];
  const orders = source.orders ?? [];
  ids.forEach((id, i) => {
    addOrder(target, id, orders[2 * i] as number, orders[2 * i + 1] as number);
  });
  const categories = source.categories ?? [];
  for (let i = 0; i < categories.length; i += 2) addCategory(target, categories[i] as number, categories[i + 1] as number);
  const skus = source.skus ?? [];
  for (let i = 0; i < skus.length; i += 3) addSku(target, skus[i] as number, skus[i + 1] as number, skus[i + 2] as number);
}

/** A value attached to a SKU by its lines: the one on the latest line wins (ties: smallest). */
class LatestValue {
  readonly values: (string | undefined)[] = [];
  readonly at: number[] = [];

  offer(id: number, value: string | undefined, at: number): void {
    if (value === undefined || value === '') return;
    const current = this.values[id];
    const currentAt = this.at[id];
    if (current === undefined || currentAt === undefined || at > currentAt || (at === currentAt && value < current)) {
      this.values[id] = value;
      this.at[id] = at;
    }
  }
}

export interface ClientAggregatorOptions {
  /**
   * The run's clock (runClock().now). Lines at or after it have not happened yet for this run:
   * they are dropped on arrival (their client is still registered), so that lifetime category
   * spend, which ClientFacts only carries as totals, excludes them too. Without it everything
   * is kept and computeProfiles filters orders and SKU purchases by time itself.
   */
  now?: number;
}

export class ClientAggregator {
  private readonly now: number | undefined;
  private readonly states = new Map<string, ClientState>();
  /** Email-only lines whose email matched no customer when they arrived, by normalised email. */
  private readonly byEmailOnly = new Map<string, ClientState>();
  /** Normalised email → customerId, built on the first email-only line (unused by id-keyed exports). */
  private emailIndex: Map<string, string> | undefined = undefined;
  private emailIndexStale = false;
  private readonly skuNames = new Interner();
  private readonly categoryNames = new Interner();
  private readonly skuProductName = new LatestValue();
  private readonly skuCategory = new LatestValue();

  constructor(options: ClientAggregatorOptions = {}) {
    this.now = options.now;
  }

  /** A customer seen again (same customerId) replaces the earlier record: last one wins. */
  addCustomer(record: CustomerRecord): void {
    const state = this.stateFor(record.customerId);
    const replaced = state.customer !== undefined;
    state.customer = packCustomer(record);
    if (!this.emailIndex) return;
    // A replaced record may have changed email: rebuild the index lazily (rare).
    if (replaced) this.emailIndexStale = true;
    else if (record.email) this.indexEmail(normaliseEmail(record.email), record.customerId);
  }

  /**
   * The line's client: its customerId; else the customer with the same email (ties between
   * customers sharing an email: the smallest customerId, so input order never matters); else
   * emailIdentity(email). Email-only lines that arrive before their customer are merged into
   * it when clients() is read.
   */
  addOrderLine(line: OrderLine): void {
    const state = this.stateForLine(line);
    if (this.now !== undefined && !(line.orderedAt < this.now)) return;
    if (line.email) {
      const email = normaliseEmail(line.email);
      if (state.email === undefined || email < state.email) state.email = email;
    }
    const net = lineNetMinor(line);
    addOrder(state, line.orderId, line.orderedAt, net);
    if (net <= 0) return; // category spend and SKU purchases only count what was paid for
    if (line.category) addCategory(state, this.categoryNames.id(line.category), net);
    if (line.sku) {
      const skuId = this.skuNames.id(line.sku);
      this.skuProductName.offer(skuId, line.productName, line.orderedAt);
      this.skuCategory.offer(skuId, line.category, line.orderedAt);
      addSku(state, skuId, line.orderedAt, line.quantity);
    }
  }

  get clientCount(): number {
    let count = this.states.size;
    for (const email of this.byEmailOnly.keys()) {
      if (this.customerIdForEmail(email) === undefined && !this.states.has(emailIdentity(email))) count += 1;
    }
    return count;
  }

  /** Every client seen, customers without orders included, sorted by customerId. */
  *clients(): IterableIterator<ClientFacts> {
    this.settleEmailOnly();
    const ids = [...this.states.keys()].sort();
    for (const id of ids) {
      const state = this.states.get(id);
      if (state) yield this.factsOf(id, state);
    }
  }

  private stateFor(customerId: string): ClientState {
    let state = this.states.get(customerId);
    if (!state) {
      state = new ClientState();
      this.states.set(customerId, state);
    }
    return state;
  }

  private stateForLine(line: OrderLine): ClientState {
    if (line.customerId) return this.stateFor(line.customerId);
    if (!line.email) throw new TypeError(`Order line ${line.orderId} names no customerId and no email`);
    const email = normaliseEmail(line.email);
    const customerId = this.customerIdForEmail(email);
    if (customerId !== undefined) return this.stateFor(customerId);
    let state = this.byEmailOnly.get(email);
    if (!state) {
      state = new ClientState();
      state.email = email;
      this.byEmailOnly.set(email, state);
    }
    return state;
  }

  private indexEmail(email: string, customerId: string): void {
    const index = this.emailIndex as Map<string, string>;
    const current = index.get(email);
    if (current === undefined || customerId < current) index.set(email, customerId);
  }

  private customerIdForEmail(email: string): string | undefined {
    if (!this.emailIndex || this.emailIndexStale) {
      this.emailIndex = new Map();
      this.emailIndexStale = false;
      for (const [customerId, state] of this.states) {
        const stored = state.customer === undefined ? undefined : storedEmail(state.customer);
        if (stored) this.indexEmail(normaliseEmail(stored), customerId);
      }
    }
    return this.emailIndex.get(email);
  }

  /** Attaches each pending email-only client to its customer, or to its email identity. */
  private settleEmailOnly(): void {
    for (const [email, pending] of this.byEmailOnly) {
      const target = this.customerIdForEmail(email) ?? emailIdentity(email);
      mergeInto(this.stateFor(target), pending);
    }
    this.byEmailOnly.clear();
  }

  private factsOf(customerId: string, state: ClientState): ClientFacts {
    const customer = state.customer === undefined ? undefined : unpackCustomer(customerId, state.customer);
    const facts: ClientFacts = { customerId, orders: this.ordersOf(state), categorySpendMinor: this.categoriesOf(state), skus: this.skusOf(state) };
    if (customer) facts.customer = customer;
    const email = customer?.email ?? state.email;
    if (email !== undefined) facts.email = email;
    return facts;
  }

  private ordersOf(state: ClientState): OrderFact[] {
    const ids = state.orderIds ?? [];
    const orders = state.orders ?? [];
    const facts = ids.map((orderId, i) => ({ orderId, orderedAt: orders[2 * i] as number, netMinor: orders[2 * i + 1] as number }));
    return facts.sort((a, b) => a.orderedAt - b.orderedAt || (a.orderId < b.orderId ? -1 : a.orderId > b.orderId ? 1 : 0));
  }

  private categoriesOf(state: ClientState): Record<string, number> {
    const categories = state.categories ?? [];
    const entries: [string, number][] = [];
    for (let i = 0; i < categories.length; i += 2) {
      entries.push([this.categoryNames.values[categories[i] as number] as string, categories[i + 1] as number]);
    }
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries); // fromEntries defines own properties: a "__proto__" category is safe
  }

  private skusOf(state: ClientState): SkuFact[] {
    const skus = state.skus ?? [];
    const bySku = new Map<number, { orderedAt: number; quantity: number }[]>();
    for (let i = 0; i < skus.length; i += 3) {
      const skuId = skus[i] as number;
      let purchases = bySku.get(skuId);
      if (!purchases) bySku.set(skuId, (purchases = []));
      purchases.push({ orderedAt: skus[i + 1] as number, quantity: skus[i + 2] as number });
    }
    const facts: SkuFact[] = [];
    for (const [skuId, purchases] of bySku) {
      // Canonical form whatever the arrival order: by time, rows at the same instant merged.
      purchases.sort((a, b) => a.orderedAt - b.orderedAt);
      const merged: { orderedAt: number; quantity: number }[] = [];
      for (const purchase of purchases) {
        const last = merged[merged.length - 1];
        if (last && last.orderedAt === purchase.orderedAt) last.quantity += purchase.quantity;
        else merged.push(purchase);
      }
      const fact: SkuFact = { sku: this.skuNames.values[skuId] as string, purchases: merged };
      const productName = this.skuProductName.values[skuId];
      const category = this.skuCategory.values[skuId];
      if (productName !== undefined) fact.productName = productName;
      if (category !== undefined) fact.category = category;
      facts.push(fact);
    }
    return facts.sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
  }
}
