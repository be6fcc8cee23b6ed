import type { ClientFacts, ClientOrders, CustomerRecord, OrderFact, OrderLine, SkuFact } from '#shared/model.ts';
import { normaliseEmail } from '#shared/email.ts';
import { ClientStore, compareStrings, Interner, SkuLabels, type SkuLabelEntry } from './client-columns.ts';
import { packedEmail, unpackCustomer } from './customer-packing.ts';
import { emailIdentity } from './identity.ts';
import { lineNetMinor, lineTakenBack } from './spend.ts';

/**
 * Streaming accumulation of the exports into one ClientFacts per client, and the identity rules
 * that decide whose an order line is (its customerId, else the customer with its email, else an
 * identity made from the email). The state lives in columns (client-columns.ts); ClientFacts
 * objects are only built, one at a time, when clients() is iterated.
 */

export interface ClientAggregatorOptions {
  /**
   * The run's clock (runClock().now). Lines at or after it have not happened yet for this run:
   * they are dropped on arrival (their client is still registered), so that lifetime category
   * spend, which ClientFacts only carries as totals, excludes them too. Without it everything
   * is kept and computeProfiles filters orders and SKU purchases by time itself.
   */
  now?: number;
}

/**
 * A customer listed twice in one night (two rows, or two parts): the later row wins field by
 * field, and a field it leaves empty keeps the earlier row's, as an empty field keeps what the
 * base knows (exports.md). Consent is the exception: an explicit false from any row stands,
 * whatever a later row says, so that no one who said no tonight is mailed on a row's order. Pure.
 */
export function laterCustomerRecord(earlier: CustomerRecord, later: CustomerRecord): CustomerRecord {
  const given = Object.fromEntries(Object.entries(later).filter(([, value]) => value !== undefined)) as Partial<CustomerRecord>;
  const merged: CustomerRecord = { ...earlier, ...given };
  if (earlier.acceptsMarketing === false) merged.acceptsMarketing = false;
  return merged;
}

export class ClientAggregator {
  private readonly now: number | undefined;
  private readonly store = new ClientStore();
  /** customerId → slot. */
  private readonly slots = new Map<string, number>();
  /** The last client looked up and its slot: an order's lines come one after another, naming the same client. */
  private lastCustomerId: string | undefined;
  private lastSlot = 0;
  /** Email-only lines whose email matched no customer when they arrived: normalised email → slot. */
  private readonly pendingByEmail = new Map<string, number>();
  /** Normalised email → customerId, built on the first email-only line (unused by id-keyed exports). */
  private emailIndex: Map<string, string> | undefined = undefined;
  private emailIndexStale = false;
  private readonly categoryNames = new Interner();
  private readonly skuLabels = new SkuLabels();
  /**
   * Every client's id, sorted: kept between the passes over the clients (the measures, then the
   * profiles) rather than sorted again, and cleared when a client comes or goes.
   */
  private sortedIds: string[] | undefined;

  constructor(options: ClientAggregatorOptions = {}) {
    this.now = options.now;
  }

  /** A customer seen again (same customerId) is merged into the earlier record: laterCustomerRecord. */
  addCustomer(record: CustomerRecord): void {
    const merged = this.withEarlierRecord(record);
    const slot = this.customerSlot(merged.customerId, merged.email);
    this.store.customers.set(slot, merged);
  }

  /** As addCustomer, with the record as packCustomer packed it (a sharded night's bucket). */
  addPackedCustomer(customerId: string, packed: string): void {
    // Rare: the earlier record is unpacked to merge the two (addCustomer).
    if (this.hasCustomerRecord(customerId)) return this.addCustomer(unpackCustomer(customerId, packed));
    const slot = this.customerSlot(customerId, packedEmail(packed));
    this.store.customers.setPacked(slot, customerId, packed);
  }

  /** The record of a customer already added, if any. */
  private earlierRecord(customerId: string): CustomerRecord | undefined {
    const slot = this.knownSlot(customerId);
    return slot === undefined ? undefined : this.store.customers.get(slot, customerId);
  }

  private withEarlierRecord(record: CustomerRecord): CustomerRecord {
    const earlier = this.earlierRecord(record.customerId);
    return earlier === undefined ? record : laterCustomerRecord(earlier, record);
  }

  /** The slot of a customer record about to be stored, its email noted as the one shown. */
  private customerSlot(customerId: string, email: string | undefined): number {
    const slot = this.slotFor(customerId);
    const replaced = this.store.customers.has(slot);
    this.store.customerHasEmail.set(slot, email ? 1 : 0);
    if (email) this.store.emails.delete(slot); // the record's email is the one shown
    if (this.emailIndex) {
      // A replaced record may have changed email: rebuild the index lazily (rare).
      if (replaced) this.emailIndexStale = true;
      else if (email) this.indexEmail(normaliseEmail(email), customerId);
    }
    return slot;
  }

  /**
   * The line's client: its customerId; else the customer with the same email (ties between
   * customers sharing an email: the smallest customerId, so input order never matters); else
   * emailIdentity(email). Email-only lines that arrive before their customer are merged into
   * it when clients() is read.
   */
  addOrderLine(line: OrderLine): void {
    const slot = this.slotForLine(line);
    if (this.now !== undefined && !(line.orderedAt < this.now)) return;
    if (line.email && this.store.customerHasEmail.get(slot) === 0) this.store.offerEmail(slot, normaliseEmail(line.email));
    const net = lineNetMinor(line);
    const order = this.store.addToOrder(slot, line.orderId, line.orderedAt, net, lineTakenBack(line));
    if (net <= 0) return; // category spend and SKU purchases only count what was paid for
    if (line.category) this.store.addCategory(slot, this.categoryNames.id(line.category), net);
    if (line.sku) {
      const skuId = this.skuLabels.id(line.sku);
      this.skuLabels.offer(skuId, line.productName, line.category, line.orderedAt);
      this.store.addPurchase(slot, skuId, order, line.quantity);
    }
  }

  /** Each SKU's product name and category from the lines added, with their lines' times (SkuLabels). */
  skuLabelEntries(): SkuLabelEntry[] {
    return this.skuLabels.entries();
  }

  /**
   * Labels from lines this aggregator was not given (a sharded night's other shards): a SKU's
   * facts then carry the name and category of the latest line of them all, as in one process.
   */
  adoptSkuLabels(entries: readonly SkuLabelEntry[]): void {
    this.skuLabels.adopt(entries);
  }

  get clientCount(): number {
    let count = this.slots.size;
    for (const email of this.pendingByEmail.keys()) {
      if (this.customerIdForEmail(email) === undefined && !this.slots.has(emailIdentity(email))) count += 1;
    }
    return count;
  }

  /** Every client seen, customers without orders included, sorted by customerId. */
  *clients(): IterableIterator<ClientFacts> {
    for (const [id, slot] of this.slotsById()) yield this.factsOf(id, slot);
  }

  /**
   * Every client as clients() yields them, in the same order, with their orders only: the
   * measures' pass (RFM, tier, CLV summaries) costs less than half as much without the
   * categories and SKU purchases it never reads.
   */
  *clientOrders(): IterableIterator<ClientOrders> {
    for (const [id, slot] of this.slotsById()) yield this.ordersOfSlot(id, slot);
  }

  /** One client as clientOrders() gives them, or undefined for a client the export does not name. */
  clientOrdersOf(customerId: string): ClientOrders | undefined {
    this.settlePending();
    const slot = this.slots.get(customerId);
    return slot === undefined ? undefined : this.ordersOfSlot(customerId, slot);
  }

  private ordersOfSlot(customerId: string, slot: number): ClientOrders {
    const customer = this.store.customers.get(slot, customerId);
    const client: ClientOrders = { customerId, orders: this.store.orders(slot) };
    if (customer !== undefined) client.customer = customer;
    return client;
  }

  /** Every client's id and slot, pending email-only lines settled, sorted by customerId. */
  private *slotsById(): IterableIterator<[string, number]> {
    this.settlePending();
    if (this.sortedIds === undefined) {
      // Sized once: an array grown by spreading a million keys leaves ~2x its size of garbage.
      const ids = new Array<string>(this.slots.size);
      let i = 0;
      for (const id of this.slots.keys()) ids[i++] = id;
      this.sortedIds = ids.sort();
    }
    for (const id of this.sortedIds) {
      const slot = this.slots.get(id);
      if (slot !== undefined) yield [id, slot];
    }
  }

  /**
   * Leaves out the clients `remove` picks, by id and email (the customer record's, else their
   * lines'): they are gone from clients() as if the export never named them. Returns how many.
   */
  dropClients(remove: (customerId: string, email: string | undefined) => boolean): number {
    this.settlePending();
    let dropped = 0;
    for (const [customerId, slot] of [...this.slots]) {
      if (!remove(customerId, this.emailOfSlot(slot))) continue;
      this.slots.delete(customerId);
      this.sortedIds = undefined;
      this.lastCustomerId = undefined;
      dropped += 1;
    }
    if (dropped > 0) this.emailIndexStale = true;
    return dropped;
  }

  /** Every client's id and email as dropClients is handed them (unsorted): to look a few clients up before dropping some. */
  *customerKeys(): IterableIterator<{ customerId: string; email: string | undefined }> {
    this.settlePending();
    for (const [customerId, slot] of this.slots) yield { customerId, email: this.emailOfSlot(slot) };
  }

  /** A client's email: the customer record's, else their lines'. */
  private emailOfSlot(slot: number): string | undefined {
    return this.store.customers.email(slot) ?? this.store.emails.get(slot);
  }

  /**
   * Moves the lines of the client known only by an address (`from`, its email identity: no
   * customer row) into customer `customerId`'s: a former address of theirs. Returns whether there were any.
   */
  linkFormerAddress(from: string, customerId: string): boolean {
    this.settlePending();
    const slot = this.slots.get(from);
    if (slot === undefined || this.store.customers.has(slot) || from === customerId) return false;
    const to = this.slots.get(customerId);
    if (to === undefined) return false;
    this.store.merge(slot, to);
    this.slots.delete(from);
    this.sortedIds = undefined;
    this.lastCustomerId = undefined;
    return true;
  }

  /**
   * Customer `customerId` again from their customer record and `lines` only: lines that went to
   * them by their address and are not theirs are left out (an address another client left:
   * former-addresses.ts). The lines are added as theirs, by id.
   */
  rebuildClient(customerId: string, lines: Iterable<OrderLine>): void {
    this.settlePending();
    const slot = this.slots.get(customerId);
    const record = slot === undefined ? undefined : this.store.customers.get(slot, customerId);
    if (record === undefined) return;
    // The old slot's records stay in the columns, unreachable: a rare case, not worth compacting.
    this.slots.delete(customerId);
    this.sortedIds = undefined;
    this.lastCustomerId = undefined;
    this.emailIndexStale = true;
    this.addCustomer(record);
    for (const line of lines) this.addOrderLine({ ...line, customerId });
  }

  /** The customer whose row carries this normalised address (the one its lines go to), if any. */
  customerWithEmail(normalisedEmail: string): string | undefined {
    return this.customerIdForEmail(normalisedEmail);
  }

  /** The addresses of the clients known by address only (no customer row), normalised. */
  *addressOnlyClients(): IterableIterator<string> {
    this.settlePending();
    for (const [customerId, slot] of this.slots) {
      if (this.store.customers.has(slot)) continue;
      const email = this.store.emails.get(slot);
      if (email !== undefined && emailIdentity(email) === customerId) yield email;
    }
  }

  /** The email tonight's customer row gives the client, if any. */
  customerEmail(customerId: string): string | undefined {
    const slot = this.slots.get(customerId);
    return slot === undefined ? undefined : this.store.customers.email(slot);
  }

  /** Whether a customer row of the export carries this email (case and spaces aside). */
  hasCustomerWithEmail(email: string): boolean {
    return this.customerIdForEmail(normaliseEmail(email)) !== undefined;
  }

  /** Whether a customer row of the export named this customerId (orders alone do not count). */
  hasCustomerRecord(customerId: string): boolean {
    // Asked for each order line before it is added: the slot found is the line's.
    const slot = this.knownSlot(customerId);
    return slot !== undefined && this.store.customers.has(slot);
  }

  /** Every client's id, as clients() would yield them but without building their facts (unsorted). */
  *customerIds(): IterableIterator<string> {
    this.settlePending();
    yield* this.slots.keys();
  }

  /**
   * One client's orders, exactly as clients() gives them, or undefined for a client the export
   * does not name: a lookup for the few clients a report follows, without building every client.
   */
  ordersOf(customerId: string): OrderFact[] | undefined {
    this.settlePending();
    const slot = this.slots.get(customerId);
    return slot === undefined ? undefined : this.store.orders(slot);
  }

  /** The client's slot if it has one, kept as the last looked up. */
  private knownSlot(customerId: string): number | undefined {
    if (customerId === this.lastCustomerId) return this.lastSlot;
    const slot = this.slots.get(customerId);
    if (slot !== undefined) {
      this.lastCustomerId = customerId;
      this.lastSlot = slot;
    }
    return slot;
  }

  private slotFor(customerId: string): number {
    const known = this.knownSlot(customerId);
    if (known !== undefined) return known;
    const slot = this.store.newSlot();
    this.slots.set(customerId, slot);
    this.sortedIds = undefined;
    this.lastCustomerId = customerId;
    this.lastSlot = slot;
    return slot;
  }

  private slotForLine(line: OrderLine): number {
    if (line.customerId) return this.slotFor(line.customerId);
    if (!line.email) throw new TypeError(`Order line ${line.orderId} names no customerId and no email`);
    const email = normaliseEmail(line.email);
    const customerId = this.customerIdForEmail(email);
    if (customerId !== undefined) return this.slotFor(customerId);
    let slot = this.pendingByEmail.get(email);
    if (slot === undefined) {
      slot = this.store.newSlot();
      this.store.emails.set(slot, email);
      this.pendingByEmail.set(email, slot);
    }
    return slot;
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
      for (const [customerId, slot] of this.slots) {
        const storedAddress = this.store.customers.email(slot);
        if (storedAddress) this.indexEmail(normaliseEmail(storedAddress), customerId);
      }
    }
    return this.emailIndex.get(email);
  }

  /** Attaches each pending email-only client to its customer, or to its email identity. */
  private settlePending(): void {
    for (const [email, slot] of this.pendingByEmail) {
      const target = this.customerIdForEmail(email) ?? emailIdentity(email);
      this.store.merge(slot, this.slotFor(target));
    }
    this.pendingByEmail.clear();
  }

  private factsOf(customerId: string, slot: number): ClientFacts {
    const customer = this.store.customers.get(slot, customerId);
    const skus: SkuFact[] = [];
    for (const [skuId, purchases] of this.store.purchases(slot)) {
      const fact: SkuFact = { sku: this.skuLabels.sku(skuId), purchases };
      const productName = this.skuLabels.productName(skuId);
      const category = this.skuLabels.category(skuId);
      if (productName !== undefined) fact.productName = productName;
      if (category !== undefined) fact.category = category;
      skus.push(fact);
    }
    skus.sort((a, b) => compareStrings(a.sku, b.sku));
    const facts: ClientFacts = {
      customerId,
      orders: this.store.orders(slot),
      categorySpendMinor: this.store.categories(slot, this.categoryNames.values),
      skus,
    };
    if (customer) facts.customer = customer;
    const email = customer?.email ?? this.store.emails.get(slot);
    if (email !== undefined) facts.email = email;
    return facts;
  }
}
