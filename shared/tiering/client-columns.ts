import type { OrderFact } from '#shared/model.ts';
import { addMinor } from '#shared/money.ts';
import { Column, CompactColumn, WideningColumn } from './chunked-column.ts';
import { CustomerRecords } from './customer-packing.ts';

/**
 * The columnar state of all clients of a night, for ClientAggregator (aggregate.ts).
 *
 * Memory is the constraint here (10M order lines / 1M clients within 1 GB RSS). Per-client JS
 * objects and arrays cost ~50 bytes of headers each plus growth slack, and small arrays grown one
 * push at a time churn the heap; so the state is columnar instead: every client is a slot number,
 * and its orders, category totals and SKU purchases are records in shared typed-array columns
 * (off the JS heap, grown in fixed chunks), chained per client by "next" links. SKU and category
 * strings are interned.
 */

const NONE = -1;

export class Interner {
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

/**
 * A value attached to a SKU by its lines: the one on the latest line wins (ties: smallest). The
 * order values are offered in never matters, so lines offered in parts give what they give at once.
 */
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

  /** The value with the time of the line that gave it. */
  labelOf(id: number): TimedLabel | undefined {
    const value = this.values[id];
    const at = this.at[id];
    return value === undefined || at === undefined ? undefined : { value, at };
  }
}

/** A SKU's product name or category, with the time of the line that gave it (orderedAt, epoch ms). */
export interface TimedLabel {
  value: string;
  at: number;
}

/** What the lines of a night (or of a shard of it) say a SKU is. */
export interface SkuLabelEntry {
  sku: string;
  productName?: TimedLabel;
  category?: TimedLabel;
}

/**
 * The SKUs of a night, interned (id ↔ SKU), and what their lines say each is: a product name and
 * a category, each the one on the latest line (LatestValue). A shard of a sharded night sees only
 * its clients' lines: every shard's entries() adopted together give the whole export's labels,
 * exactly those a single run finds.
 */
export class SkuLabels {
  private readonly skus = new Interner();
  private readonly productNames = new LatestValue();
  private readonly categories = new LatestValue();

  id(sku: string): number {
    return this.skus.id(sku);
  }

  sku(id: number): string {
    return this.skus.values[id] as string;
  }

  offer(id: number, productName: string | undefined, category: string | undefined, at: number): void {
    this.productNames.offer(id, productName, at);
    this.categories.offer(id, category, at);
  }

  productName(id: number): string | undefined {
    return this.productNames.values[id];
  }

  category(id: number): string | undefined {
    return this.categories.values[id];
  }

  /** Every SKU with a label, with the times that decide between shards. */
  entries(): SkuLabelEntry[] {
    const entries: SkuLabelEntry[] = [];
    this.skus.values.forEach((sku, id) => {
      const entry: SkuLabelEntry = { sku };
      const productName = this.productNames.labelOf(id);
      const category = this.categories.labelOf(id);
      if (productName !== undefined) entry.productName = productName;
      if (category !== undefined) entry.category = category;
      if (productName !== undefined || category !== undefined) entries.push(entry);
    });
    return entries;
  }

  /** Other lines' labels (another shard's entries()), offered as their lines would have been. */
  adopt(entries: readonly SkuLabelEntry[]): void {
    for (const { sku, productName, category } of entries) {
      const id = this.id(sku);
      if (productName !== undefined) this.productNames.offer(id, productName.value, productName.at);
      if (category !== undefined) this.categories.offer(id, category.value, category.at);
    }
  }
}

/**
 * Order ids, one per order record. Most platforms number their orders: an id written as a plain
 * decimal number (no sign, no leading zero, at most 15 digits, so exact as a double) is kept as
 * that number in a typed column (4 bytes below 2^32, else 8: WideningColumn; off the heap) instead
 * of a string (~32 bytes on the heap with its slot: 5M orders at 1M clients); any other id is kept
 * as it is. An id is compared through its key: the number, or the string itself.
 */
class OrderIds {
  private readonly numbers = new WideningColumn('u32');
  private readonly texts = new Map<number, string>();

  /** The id's key: its number when it is written as one exactly, else the id. */
  static keyOf(orderId: string): number | string {
    const length = orderId.length;
    if (length === 0 || length > 15) return orderId;
    const first = orderId.charCodeAt(0);
    if (first < 48 || first > 57 || (first === 48 && length > 1)) return orderId;
    for (let i = 1; i < length; i++) {
      const code = orderId.charCodeAt(i);
      if (code < 48 || code > 57) return orderId;
    }
    return Number(orderId);
  }

  push(key: number | string): number {
    if (typeof key === 'number') return this.numbers.push(key);
    const index = this.numbers.push(Number.NaN);
    this.texts.set(index, key);
    return index;
  }

  keyAt(index: number): number | string {
    const value = this.numbers.get(index);
    return Number.isNaN(value) ? (this.texts.get(index) as string) : value;
  }

  idAt(index: number): string {
    const value = this.numbers.get(index);
    return Number.isNaN(value) ? (this.texts.get(index) as string) : String(value);
  }

  matches(index: number, key: number | string): boolean {
    return typeof key === 'number' ? this.numbers.get(index) === key : this.texts.get(index) === key;
  }
}

/**
 * Clients with more orders than this get a Map from orderId to order instead of a list walk. A
 * Map costs ~1.2 KB for 30 orders: at 16, bucket 0 of 4 at 1M clients held 17,800 of them (~22 MB
 * of its heap, 7% of its clients); at 64, ~660. The walk it saves is short: a new order of a
 * client below the threshold compares at most this many ids, and lines of one order come one
 * after another (the head is checked first).
 */
export const ORDER_INDEX_FROM = 64;
export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The columnar state of all clients. A slot is one client; its records are chained newest
 * first. Orders: [orderedAt (earliest line), netMinor]; categories: [categoryId, netMinor]
 * (positive lines only); purchases: [skuId, order, quantity] (positive lines only). A
 * purchase points at its order, so its time is the order's time: lines of one order are one
 * purchase moment, even when an export stamps them a few seconds apart.
 */
export class ClientStore {
  readonly customers = new CustomerRecords();
  /**
   * Smallest (normalised) email seen on the slot's lines while its customer had none, by slot: a
   * Map, as most clients have a customer record with an email (an array would hold a million
   * empty places on the heap).
   */
  readonly emails = new Map<number, string>();
  /** 1 when the slot's customer record has an email (then line emails need not be kept). */
  readonly customerHasEmail = new Column('u8');
  private readonly orderHead = new Column('i32');
  private readonly orderCount = new Column('i32');
  private readonly categoryHead = new Column('i32');
  private readonly purchaseHead = new Column('i32');

  private readonly orderIds = new OrderIds();
  /** Epoch ms, 4 bytes a row while they are whole seconds (exports give seconds). */
  private readonly orderAt = new WideningColumn('u32', 1000);
  private readonly orderNet = new CompactColumn('i32');
  /** 1 when some line of the order was kept (not cancelled, not refunded in full). */
  private readonly orderKept = new Column('u8');
  private readonly orderNext = new Column('i32');
  /** Order key (OrderIds) → order, for clients with many orders. */
  private readonly orderIndexes = new Map<number, Map<number | string, number>>();

  private readonly categoryId = new WideningColumn('u16');
  private readonly categoryNet = new CompactColumn('i32');
  private readonly categoryNext = new Column('i32');

  private readonly purchaseSku = new WideningColumn('u16');
  private readonly purchaseOrder = new Column('i32');
  private readonly purchaseQuantity = new CompactColumn('u16');
  private readonly purchaseNext = new Column('i32');

  newSlot(): number {
    this.customers.reserve(this.orderHead.length);
    this.customerHasEmail.push(0);
    this.orderCount.push(0);
    this.categoryHead.push(NONE);
    this.purchaseHead.push(NONE);
    return this.orderHead.push(NONE);
  }

  offerEmail(slot: number, email: string): void {
    const current = this.emails.get(slot);
    if (current === undefined || email < current) this.emails.set(slot, email);
  }

  /** Adds a line's net to its order (created if new) and returns the order. */
  addToOrder(slot: number, orderId: string, orderedAt: number, netMinor: number, takenBack: boolean): number {
    const kept = takenBack ? 0 : 1;
    const key = OrderIds.keyOf(orderId);
    const existing = this.findOrder(slot, key);
    if (existing !== NONE) {
      this.combineOrder(existing, orderedAt, netMinor, kept);
      return existing;
    }
    const order = this.orderAt.push(orderedAt);
    this.orderNet.push(netMinor);
    this.orderKept.push(kept);
    this.orderNext.push(NONE);
    this.orderIds.push(key);
    this.linkOrder(slot, order);
    return order;
  }

  addCategory(slot: number, categoryId: number, netMinor: number): void {
    for (let c = this.categoryHead.get(slot); c !== NONE; c = this.categoryNext.get(c)) {
      if (this.categoryId.get(c) === categoryId) {
        this.categoryNet.set(c, addMinor(this.categoryNet.get(c), netMinor, "a client's spend in one category"));
        return;
      }
    }
    const c = this.categoryId.push(categoryId);
    this.categoryNet.push(netMinor);
    this.categoryNext.push(this.categoryHead.get(slot));
    this.categoryHead.set(slot, c);
  }

  addPurchase(slot: number, skuId: number, order: number, quantity: number): void {
    // Rows of one order usually arrive together: merge with the same SKU among this order's
    // latest records (anything missed here is merged when the facts are built).
    for (let p = this.purchaseHead.get(slot); p !== NONE && this.purchaseOrder.get(p) === order; p = this.purchaseNext.get(p)) {
      if (this.purchaseSku.get(p) === skuId) {
        this.purchaseQuantity.set(p, this.purchaseQuantity.get(p) + quantity);
        return;
      }
    }
    const p = this.purchaseSku.push(skuId);
    this.purchaseOrder.push(order);
    this.purchaseQuantity.push(quantity);
    this.purchaseNext.push(this.purchaseHead.get(slot));
    this.purchaseHead.set(slot, p);
  }

  /** Moves everything of slot `from` into slot `to`, combining orders both have. */
  merge(from: number, to: number): void {
    const email = this.emails.get(from);
    if (email !== undefined && this.customerHasEmail.get(to) === 0) this.offerEmail(to, email);
    const remap = new Map<number, number>();
    for (let o = this.orderHead.get(from); o !== NONE; ) {
      const next = this.orderNext.get(o);
      const existing = this.findOrder(to, this.orderIds.keyAt(o));
      if (existing === NONE) this.linkOrder(to, o);
      else {
        this.combineOrder(existing, this.orderAt.get(o), this.orderNet.get(o), this.orderKept.get(o));
        remap.set(o, existing);
      }
      o = next;
    }
    for (let c = this.categoryHead.get(from); c !== NONE; c = this.categoryNext.get(c)) {
      this.addCategory(to, this.categoryId.get(c), this.categoryNet.get(c));
    }
    for (let p = this.purchaseHead.get(from); p !== NONE; ) {
      const next = this.purchaseNext.get(p);
      const order = remap.get(this.purchaseOrder.get(p));
      if (order !== undefined) this.purchaseOrder.set(p, order);
      this.purchaseNext.set(p, this.purchaseHead.get(to));
      this.purchaseHead.set(to, p);
      p = next;
    }
    this.emails.delete(from);
    this.orderHead.set(from, NONE);
    this.orderCount.set(from, 0);
    this.orderIndexes.delete(from);
    this.categoryHead.set(from, NONE);
    this.purchaseHead.set(from, NONE);
  }

  orders(slot: number): OrderFact[] {
    const facts: OrderFact[] = [];
    for (let o = this.orderHead.get(slot); o !== NONE; o = this.orderNext.get(o)) {
      const fact: OrderFact = { orderId: this.orderIds.idAt(o), orderedAt: this.orderAt.get(o), netMinor: this.orderNet.get(o) };
      if (this.orderKept.get(o) === 0) fact.takenBack = true;
      facts.push(fact);
    }
    return facts.sort((a, b) => a.orderedAt - b.orderedAt || compareStrings(a.orderId, b.orderId));
  }

  categories(slot: number, names: readonly string[]): Record<string, number> {
    const entries: [string, number][] = [];
    for (let c = this.categoryHead.get(slot); c !== NONE; c = this.categoryNext.get(c)) {
      entries.push([names[this.categoryId.get(c)] as string, this.categoryNet.get(c)]);
    }
    entries.sort(([a], [b]) => compareStrings(a, b));
    return Object.fromEntries(entries); // own properties: a "__proto__" category is safe
  }

  /** Purchases by SKU id, each list sorted by time with purchases at the same instant merged. */
  purchases(slot: number): Map<number, { orderedAt: number; quantity: number }[]> {
    const bySku = new Map<number, { orderedAt: number; quantity: number }[]>();
    for (let p = this.purchaseHead.get(slot); p !== NONE; p = this.purchaseNext.get(p)) {
      const skuId = this.purchaseSku.get(p);
      let list = bySku.get(skuId);
      if (!list) bySku.set(skuId, (list = []));
      list.push({ orderedAt: this.orderAt.get(this.purchaseOrder.get(p)), quantity: this.purchaseQuantity.get(p) });
    }
    for (const [skuId, list] of bySku) {
      list.sort((a, b) => a.orderedAt - b.orderedAt);
      const merged: { orderedAt: number; quantity: number }[] = [];
      for (const purchase of list) {
        const last = merged[merged.length - 1];
        if (last && last.orderedAt === purchase.orderedAt) last.quantity += purchase.quantity;
        else merged.push(purchase);
      }
      bySku.set(skuId, merged);
    }
    return bySku;
  }

  private findOrder(slot: number, key: number | string): number {
    const head = this.orderHead.get(slot);
    if (head === NONE) return NONE;
    if (this.orderIds.matches(head, key)) return head; // rows of one order usually arrive together
    const index = this.orderIndexes.get(slot);
    if (index) return index.get(key) ?? NONE;
    for (let o = this.orderNext.get(head); o !== NONE; o = this.orderNext.get(o)) if (this.orderIds.matches(o, key)) return o;
    return NONE;
  }

  /** The order's time is its earliest line's; its net is the sum of its lines'. */
  private combineOrder(order: number, orderedAt: number, netMinor: number, kept: number): void {
    if (orderedAt < this.orderAt.get(order)) this.orderAt.set(order, orderedAt);
    if (kept === 1) this.orderKept.set(order, 1);
    this.orderNet.set(order, addMinor(this.orderNet.get(order), netMinor, "an order's net"));
  }

  private linkOrder(slot: number, order: number): void {
    this.orderNext.set(order, this.orderHead.get(slot));
    this.orderHead.set(slot, order);
    const count = this.orderCount.get(slot) + 1;
    this.orderCount.set(slot, count);
    const index = this.orderIndexes.get(slot);
    if (index) index.set(this.orderIds.keyAt(order), order);
    else if (count > ORDER_INDEX_FROM) {
      const built = new Map<number | string, number>();
      for (let o = order; o !== NONE; o = this.orderNext.get(o)) built.set(this.orderIds.keyAt(o), o);
      this.orderIndexes.set(slot, built);
    }
  }
}
