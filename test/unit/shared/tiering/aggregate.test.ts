import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClientAggregator, laterCustomerRecord } from '#shared/tiering/aggregate.ts';
import { packCustomer } from '#shared/tiering/customer-packing.ts';
import { ORDER_INDEX_FROM, type SkuLabelEntry } from '#shared/tiering/client-columns.ts';
import { emailIdentity } from '#shared/tiering/identity.ts';
import { lineNetMinor } from '#shared/tiering/spend.ts';
import type { ClientFacts, CustomerRecord } from '#shared/model.ts';
import { at } from '#test/support/time.ts';
import { customer, line } from './fixtures.ts';

const T = at('2025-03-01T10:00');

function all(aggregator: ClientAggregator): ClientFacts[] {
  return [...aggregator.clients()];
}

function only(aggregator: ClientAggregator): ClientFacts {
  const clients = all(aggregator);
  expect(clients).toHaveLength(1);
  return clients[0] as ClientFacts;
}

describe('emailIdentity', () => {
  it('is e- and the first 20 hex digits of sha256 of the normalised email', () => {
    const expected = `e-${createHash('sha256').update('ann@example.com').digest('hex').slice(0, 20)}`;
    expect(emailIdentity('ann@example.com')).toBe(expected);
    expect(emailIdentity('  Ann@Example.COM ')).toBe(expected);
    expect(expected).toMatch(/^e-[0-9a-f]{20}$/);
  });

  it('differs between emails', () => {
    expect(emailIdentity('a@x.com')).not.toBe(emailIdentity('b@x.com'));
  });
});

describe('lineNetMinor', () => {
  const base = { lineTotalMinor: 10_000, refundedMinor: 0 };
  it('is the line total when paid and not refunded', () => {
    expect(lineNetMinor({ ...base, status: 'paid' })).toBe(10_000);
  });
  it('is 0 when cancelled, whatever the amounts', () => {
    expect(lineNetMinor({ ...base, status: 'cancelled' })).toBe(0);
    expect(lineNetMinor({ lineTotalMinor: 10_000, refundedMinor: 2_000, status: 'cancelled' })).toBe(0);
  });
  it('is 0 when refunded with refundedMinor 0 (a full refund)', () => {
    expect(lineNetMinor({ ...base, status: 'refunded' })).toBe(0);
  });
  it('subtracts a partial refund, with status refunded or paid', () => {
    expect(lineNetMinor({ lineTotalMinor: 10_000, refundedMinor: 2_500, status: 'refunded' })).toBe(7_500);
    expect(lineNetMinor({ lineTotalMinor: 10_000, refundedMinor: 2_500, status: 'paid' })).toBe(7_500);
  });
  it('treats a refund of the whole line or more as a full refund', () => {
    expect(lineNetMinor({ lineTotalMinor: 10_000, refundedMinor: 10_000, status: 'refunded' })).toBe(0);
    expect(lineNetMinor({ lineTotalMinor: 10_000, refundedMinor: 12_000, status: 'refunded' })).toBe(0);
  });
  it('never goes negative on malformed amounts', () => {
    expect(lineNetMinor({ lineTotalMinor: -500, refundedMinor: 0, status: 'paid' })).toBe(0);
    expect(lineNetMinor({ lineTotalMinor: 500, refundedMinor: -100, status: 'paid' })).toBe(500);
  });
});

describe('ClientAggregator', () => {
  it('lists customers without orders (prospects) and clients without records, sorted by customerId', () => {
    const aggregator = new ClientAggregator();
    aggregator.addCustomer(customer('c2'));
    aggregator.addCustomer(customer('c10'));
    aggregator.addOrderLine(line({ orderId: 'o1', customerId: 'c1', orderedAt: T }));
    expect(aggregator.clientCount).toBe(3);
    const clients = all(aggregator);
    expect(clients.map((c) => c.customerId)).toEqual(['c1', 'c10', 'c2']);
    expect(clients[1]).toEqual({ customerId: 'c10', customer: customer('c10'), orders: [], categorySpendMinor: {}, skus: [] });
    expect(clients[0]?.customer).toBeUndefined();
  });

  it('gives a client dropped between two lines of the same order a new slot, not the one it left', () => {
    const aggregator = new ClientAggregator();
    aggregator.addOrderLine(line({ orderId: 'o1', customerId: 'c1', orderedAt: T, lineTotalMinor: 100 }));
    expect(aggregator.dropClients((id) => id === 'c1')).toBe(1);
    aggregator.addOrderLine(line({ orderId: 'o1', customerId: 'c1', orderedAt: T, lineTotalMinor: 200 }));
    expect(only(aggregator).orders.map((order) => order.netMinor)).toEqual([200]);
  });

  it('rebuilds a customer from their record and the lines given only (an address another client left), as if only those had been read', () => {
    const lines = [
      line({ orderId: 'o1', email: 'a@example.com', orderedAt: T, lineTotalMinor: 100, sku: 'S1', category: 'Bags' }),
      line({ orderId: 'o2', email: 'A@example.com ', orderedAt: T + 1000, lineTotalMinor: 200, sku: 'S2', category: 'Soap' }),
    ];
    const rebuilt = new ClientAggregator();
    rebuilt.addCustomer(customer('c1', { email: 'a@example.com', firstName: 'Bo' }));
    for (const l of lines) rebuilt.addOrderLine(l);
    expect(rebuilt.customerWithEmail('a@example.com')).toBe('c1');
    rebuilt.rebuildClient('c1', [lines[1] as (typeof lines)[number]]);
    const fresh = new ClientAggregator();
    fresh.addCustomer(customer('c1', { email: 'a@example.com', firstName: 'Bo' }));
    fresh.addOrderLine(lines[1] as (typeof lines)[number]);
    expect(all(rebuilt)).toEqual(all(fresh));
    expect(rebuilt.customerWithEmail('a@example.com')).toBe('c1');
  });

  it('says whether a customer row named a client, before and after its lines and once it is dropped', () => {
    const aggregator = new ClientAggregator();
    aggregator.addCustomer(customer('c1'));
    expect(aggregator.hasCustomerRecord('c1')).toBe(true);
    aggregator.addOrderLine(line({ orderId: 'o1', customerId: 'c1', orderedAt: T }));
    expect(aggregator.hasCustomerRecord('c2')).toBe(false);
    aggregator.addOrderLine(line({ orderId: 'o2', customerId: 'c2', orderedAt: T }));
    expect(aggregator.hasCustomerRecord('c2')).toBe(false);
    expect(aggregator.hasCustomerRecord('c1')).toBe(true);
    aggregator.dropClients((id) => id === 'c1');
    expect(aggregator.hasCustomerRecord('c1')).toBe(false);
    expect(all(aggregator).map((client) => client.customerId)).toEqual(['c2']);
  });

  it('merges a customer seen twice: the later row wins field by field, an empty field keeps the earlier value', () => {
    const aggregator = new ClientAggregator();
    aggregator.addCustomer({ customerId: 'c1', firstName: 'Ann', email: 'ann@x.com', locale: 'en' });
    aggregator.addCustomer({ customerId: 'c1', firstName: 'Anna', acceptsMarketing: true });
    expect(aggregator.clientCount).toBe(1);
    expect(only(aggregator).customer).toEqual({ customerId: 'c1', firstName: 'Anna', email: 'ann@x.com', locale: 'en', acceptsMarketing: true });
    expect(only(aggregator).email).toBe('ann@x.com');
  });

  it('keeps an explicit consent false of any row of the night, whatever a later row says or leaves out', () => {
    for (const later of [{}, { acceptsMarketing: true }]) {
      const whole = new ClientAggregator();
      const first: CustomerRecord = { customerId: 'c1', acceptsMarketing: false };
      const second: CustomerRecord = { customerId: 'c1', firstName: 'Ann', ...later };
      whole.addCustomer(first);
      whole.addCustomer(second);
      expect(only(whole).customer).toEqual({ customerId: 'c1', firstName: 'Ann', acceptsMarketing: false });
      // A sharded night's bucket hands the same rows on packed.
      const packed = new ClientAggregator();
      packed.addPackedCustomer('c1', packCustomer(first) as string);
      packed.addPackedCustomer('c1', packCustomer(second) as string);
      expect(only(packed).customer).toEqual(only(whole).customer);
    }
    const withdrawn = new ClientAggregator();
    withdrawn.addCustomer({ customerId: 'c1', acceptsMarketing: true });
    withdrawn.addCustomer({ customerId: 'c1', acceptsMarketing: false });
    expect(only(withdrawn).customer?.acceptsMarketing).toBe(false);
  });

  it('laterCustomerRecord: each field is the later row\'s when given, else the earlier one\'s; consent false from either stands', () => {
    const record = fc.record(
      {
        email: fc.constantFrom('a@x.com', 'b@x.com'),
        firstName: fc.constantFrom('Ann', 'Bo'),
        locale: fc.constantFrom('en', 'zh-CN'),
        signedUpAt: fc.integer({ min: 0, max: 1e12 }),
        acceptsMarketing: fc.boolean(),
        advisorId: fc.constantFrom('A01', 'A02'),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(record, record, (earlier, later) => {
        const merged = laterCustomerRecord({ customerId: 'c1', ...earlier }, { customerId: 'c1', ...later });
        for (const field of ['email', 'firstName', 'locale', 'signedUpAt', 'advisorId'] as const) expect(merged[field]).toBe(later[field] ?? earlier[field]);
        const saidNo = earlier.acceptsMarketing === false || later.acceptsMarketing === false;
        expect(merged.acceptsMarketing).toBe(saidNo ? false : (later.acceptsMarketing ?? earlier.acceptsMarketing));
      }),
    );
  });

  it('gives back customer records exactly as added', () => {
    const full = customer('c1', {
      email: 'ann@x.com',
      firstName: 'Ann',
      lastName: 'Lee',
      phone: '+86 138 0000 0000',
      locale: 'zh-CN',
      timeZone: 'Asia/Shanghai',
      signedUpAt: at('2024-01-02T03:04:05.678Z'),
      acceptsMarketing: true,
      birthday: '05-17',
      advisorId: 'adv-7',
    });
    const odd = customer('c2', { firstName: 'a\u001fb', lastName: '' });
    const aggregator = new ClientAggregator();
    aggregator.addCustomer(full);
    aggregator.addCustomer(odd);
    const [first, second] = all(aggregator);
    expect(first?.customer).toEqual(full);
    expect(second?.customer).toEqual(odd);
    expect(first?.email).toBe('ann@x.com');
  });

  it('sums the lines of one order spread over calls into one order timed by its earliest line', () => {
    const aggregator = new ClientAggregator();
    aggregator.addOrderLine(line({ orderId: 'o1', customerId: 'c1', orderedAt: T + 60_000, lineTotalMinor: 3_000 }));
    aggregator.addOrderLine(line({ orderId: 'o2', customerId: 'c1', orderedAt: T + 86_400_000, lineTotalMinor: 500 }));
    aggregator.addOrderLine(line({ orderId: 'o1', customerId: 'c1', orderedAt: T, lineTotalMinor: 2_000, refundedMinor: 500 }));
    aggregator.addOrderLine(line({ orderId: 'o1', customerId: 'c1', orderedAt: T, lineTotalMinor: 9_000, status: 'cancelled' }));
    expect(only(aggregator).orders).toEqual([
      { orderId: 'o1', orderedAt: T, netMinor: 4_500 },
      { orderId: 'o2', orderedAt: T + 86_400_000, netMinor: 500 },
    ]);
  });

  it('keeps the same orderId of two clients as two orders', () => {
    const aggregator = new ClientAggregator();
    aggregator.addOrderLine(line({ orderId: 'o1', customerId: 'c1', orderedAt: T }));
    aggregator.addOrderLine(line({ orderId: 'o1', customerId: 'c2', orderedAt: T }));
    expect(all(aggregator).map((c) => c.orders.length)).toEqual([1, 1]);
  });

  it('keeps cancelled and fully refunded orders with a 0 net, but no category spend or SKU purchase', () => {
    const aggregator = new ClientAggregator();
    aggregator.addOrderLine(line({ orderId: 'o1', customerId: 'c1', orderedAt: T, status: 'cancelled', sku: 'S1', category: 'skin' }));
    aggregator.addOrderLine(line({ orderId: 'o2', customerId: 'c1', orderedAt: T, status: 'refunded', sku: 'S1', category: 'skin' }));
    const facts = only(aggregator);
    expect(facts.orders.map((o) => o.netMinor)).toEqual([0, 0]);
    expect(facts.categorySpendMinor).toEqual({});
    expect(facts.skus).toEqual([]);
  });

  it('handles clients with many orders (indexed lookup) the same way', () => {
    const aggregator = new ClientAggregator();
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < ORDER_INDEX_FROM + 36; i++) aggregator.addOrderLine(line({ orderId: `o${i}`, customerId: 'big', orderedAt: T + i, lineTotalMinor: 100 }));
    }
    const facts = only(aggregator);
    expect(facts.orders).toHaveLength(ORDER_INDEX_FROM + 36);
    expect(facts.orders.every((o) => o.netMinor === 200)).toBe(true);
  });

  it('keeps order ids exactly, numbered or not, and never mixes a number with a look-alike', () => {
    // Plain numbers are stored as numbers; these must come back as written and stay distinct.
    const ids = ['7', '007', '0', '00', '123456789012345', '1234567890123456', '9007199254740993', '-1', '1e3', '12.0', ' 12', 'ORD-7', ''];
    for (const lots of [false, true]) {
      const aggregator = new ClientAggregator();
      const filler = lots ? ORDER_INDEX_FROM + 24 : 0; // past the per-client index threshold
      for (let i = 0; i < filler; i++) aggregator.addOrderLine(line({ orderId: `f${i}`, customerId: 'c1', orderedAt: T + i, lineTotalMinor: 1 }));
      for (const [i, orderId] of ids.entries()) {
        aggregator.addOrderLine(line({ orderId, customerId: 'c1', orderedAt: T + 1_000 + i, lineTotalMinor: 100 }));
        aggregator.addOrderLine(line({ orderId: 'other', customerId: 'c1', orderedAt: T, lineTotalMinor: 1 }));
        aggregator.addOrderLine(line({ orderId, customerId: 'c1', orderedAt: T + 1_000 + i, lineTotalMinor: 10 }));
      }
      const orders = only(aggregator).orders.filter((o) => ids.includes(o.orderId));
      expect(orders.map((o) => o.orderId).sort()).toEqual([...ids].sort());
      expect(orders.every((o) => o.netMinor === 110)).toBe(true);
    }
  });

  describe('email-only (Shopify-style) lines', () => {
    it('attach to the customer with that email, case- and space-insensitively', () => {
      const aggregator = new ClientAggregator();
      aggregator.addCustomer(customer('c1', { email: 'ann@example.com' }));
      aggregator.addOrderLine(line({ orderId: '#1001', email: '  Ann@Example.com', orderedAt: T }));
      aggregator.addOrderLine(line({ orderId: '#1002', customerId: 'c1', orderedAt: T + 1 }));
      const facts = only(aggregator);
      expect(facts.customerId).toBe('c1');
      expect(facts.orders.map((o) => o.orderId)).toEqual(['#1001', '#1002']);
    });

    it('become an email-identity client when no customer has the email, merged by normalised email', () => {
      const aggregator = new ClientAggregator();
      aggregator.addOrderLine(line({ orderId: '#1', email: 'bob@example.com', orderedAt: T }));
      aggregator.addOrderLine(line({ orderId: '#2', email: 'BOB@example.com', orderedAt: T + 1 }));
      expect(aggregator.clientCount).toBe(1);
      const facts = only(aggregator);
      expect(facts.customerId).toBe(emailIdentity('bob@example.com'));
      expect(facts.email).toBe('bob@example.com');
      expect(facts.customer).toBeUndefined();
      expect(facts.orders).toHaveLength(2);
    });

    it('merge lines that name the email identity as customerId with the email-only ones', () => {
      const aggregator = new ClientAggregator();
      aggregator.addOrderLine(line({ orderId: '#1', email: 'bob@example.com', orderedAt: T }));
      aggregator.addOrderLine(line({ orderId: '#2', customerId: emailIdentity('bob@example.com'), orderedAt: T }));
      expect(aggregator.clientCount).toBe(1);
      expect(only(aggregator).orders).toHaveLength(2);
    });

    it('still find their customer when the customer arrives after the lines', () => {
      const aggregator = new ClientAggregator();
      aggregator.addOrderLine(line({ orderId: '#1', email: 'ann@example.com', orderedAt: T, lineTotalMinor: 100 }));
      aggregator.addCustomer(customer('c1', { email: 'ann@example.com' }));
      aggregator.addOrderLine(line({ orderId: '#1', email: 'ann@example.com', orderedAt: T, lineTotalMinor: 200 }));
      expect(aggregator.clientCount).toBe(1);
      const facts = only(aggregator);
      expect(facts.customerId).toBe('c1');
      expect(facts.orders).toEqual([{ orderId: '#1', orderedAt: T, netMinor: 300 }]);
    });

    it('go to the smallest customerId when customers share an email, whatever their order', () => {
      for (const ids of [
        ['c2', 'c1'],
        ['c1', 'c2'],
      ]) {
        const aggregator = new ClientAggregator();
        for (const id of ids) aggregator.addCustomer(customer(id, { email: 'shared@x.com' }));
        aggregator.addOrderLine(line({ orderId: '#1', email: 'shared@x.com', orderedAt: T }));
        expect(all(aggregator).find((c) => c.orders.length > 0)?.customerId).toBe('c1');
      }
    });

    it('follow a customer whose record changed email', () => {
      const aggregator = new ClientAggregator();
      aggregator.addCustomer(customer('c1', { email: 'old@x.com' }));
      aggregator.addOrderLine(line({ orderId: '#1', email: 'old@x.com', orderedAt: T }));
      aggregator.addCustomer(customer('c1', { email: 'new@x.com' }));
      aggregator.addOrderLine(line({ orderId: '#2', email: 'new@x.com', orderedAt: T }));
      aggregator.addOrderLine(line({ orderId: '#3', email: 'old@x.com', orderedAt: T }));
      const clients = all(aggregator);
      expect(clients.map((c) => [c.customerId, c.orders.map((o) => o.orderId)])).toEqual([
        ['c1', ['#1', '#2']],
        [emailIdentity('old@x.com'), ['#3']],
      ]);
    });

    it('refuse a line with neither customerId nor email', () => {
      expect(() => new ClientAggregator().addOrderLine(line({ orderId: '#1', orderedAt: T }))).toThrow(TypeError);
    });
  });

  it('sums lifetime net spend per category, positive lines only, categories sorted', () => {
    const aggregator = new ClientAggregator();
    aggregator.addOrderLine(line({ orderId: 'o1', customerId: 'c1', orderedAt: T, category: 'skin', lineTotalMinor: 1_000 }));
    aggregator.addOrderLine(line({ orderId: 'o1', customerId: 'c1', orderedAt: T, category: 'fragrance', lineTotalMinor: 700 }));
    aggregator.addOrderLine(line({ orderId: 'o2', customerId: 'c1', orderedAt: T, category: 'skin', lineTotalMinor: 1_000, refundedMinor: 400 }));
    aggregator.addOrderLine(line({ orderId: 'o3', customerId: 'c1', orderedAt: T, category: 'makeup', status: 'cancelled' }));
    aggregator.addOrderLine(line({ orderId: 'o4', customerId: 'c1', orderedAt: T, lineTotalMinor: 50 }));
    const facts = only(aggregator);
    expect(facts.categorySpendMinor).toEqual({ fragrance: 700, skin: 1_600 });
    expect(Object.keys(facts.categorySpendMinor)).toEqual(['fragrance', 'skin']);
  });

  it('collects SKU purchases of positive lines, merging rows at the same instant, with the latest name', () => {
    const aggregator = new ClientAggregator();
    const day = 86_400_000;
    aggregator.addOrderLine(line({ orderId: 'o1', customerId: 'c1', orderedAt: T, sku: 'CREAM', productName: 'Cream', category: 'skin', quantity: 1 }));
    aggregator.addOrderLine(line({ orderId: 'o1', customerId: 'c1', orderedAt: T, sku: 'CREAM', quantity: 2 }));
    aggregator.addOrderLine(line({ orderId: 'o2', customerId: 'c2', orderedAt: T + 5 * day, sku: 'CREAM', productName: 'Cream 50ml', quantity: 1 }));
    aggregator.addOrderLine(line({ orderId: 'o3', customerId: 'c1', orderedAt: T + 30 * day, sku: 'CREAM', quantity: 1, status: 'refunded' }));
    aggregator.addOrderLine(line({ orderId: 'o3', customerId: 'c1', orderedAt: T - 30 * day, sku: 'SERUM', quantity: 4 }));
    const [c1] = all(aggregator);
    expect(c1?.skus).toEqual([
      { sku: 'CREAM', productName: 'Cream 50ml', category: 'skin', purchases: [{ orderedAt: T, quantity: 3 }] },
      { sku: 'SERUM', purchases: [{ orderedAt: T - 30 * day, quantity: 4 }] },
    ]);
  });

  it("gives each SKU the whole night's labels when its lines are read in parts, each part adopting the others' (a sharded night)", () => {
    const day = 86_400_000;
    const lineArb = fc.record({
      customerId: fc.constantFrom('c1', 'c2', 'c3', 'c4'),
      sku: fc.constantFrom('S1', 'S2', 'S3'),
      productName: fc.constantFrom(undefined, '', 'Cream', 'Cream 50ml', 'Serum'),
      category: fc.constantFrom(undefined, '', 'skin', 'care'),
      // Few distinct times: many lines of one SKU at the same time.
      day: fc.integer({ min: 0, max: 3 }),
      part: fc.integer({ min: 0, max: 2 }),
    });
    fc.assert(
      fc.property(fc.array(lineArb, { maxLength: 30 }), (lines) => {
        const whole = new ClientAggregator();
        const parts = [new ClientAggregator(), new ClientAggregator(), new ClientAggregator()];
        lines.forEach((l, i) => {
          const orderLine = line({ orderId: `o${i}`, customerId: l.customerId, orderedAt: T + l.day * day, sku: l.sku, quantity: 1 });
          if (l.productName !== undefined) orderLine.productName = l.productName;
          if (l.category !== undefined) orderLine.category = l.category;
          whole.addOrderLine(orderLine);
          parts[l.part]?.addOrderLine(orderLine);
        });
        const entries = parts.map((part) => part.skuLabelEntries());
        for (const part of parts) for (const other of entries) part.adoptSkuLabels(other);
        const labelsOf = (aggregator: ClientAggregator) =>
          Object.fromEntries(all(aggregator).flatMap((client) => client.skus.map((sku) => [`${client.customerId}/${sku.sku}`, [sku.productName, sku.category]])));
        expect(Object.assign({}, ...parts.map(labelsOf))).toEqual(labelsOf(whole));
        const bySku = (entries: SkuLabelEntry[] | undefined) => entries?.sort((x, y) => x.sku.localeCompare(y.sku));
        expect(bySku(parts[0]?.skuLabelEntries())).toEqual(bySku(whole.skuLabelEntries()));
      }),
    );
  });

  it('with a clock, drops lines at or after now but still registers their client', () => {
    const now = at('2025-03-11T00:00');
    const aggregator = new ClientAggregator({ now });
    aggregator.addOrderLine(line({ orderId: 'o1', customerId: 'c1', orderedAt: now - 1, category: 'skin', sku: 'S' }));
    aggregator.addOrderLine(line({ orderId: 'o2', customerId: 'c1', orderedAt: now, category: 'bags', sku: 'B', lineTotalMinor: 99_999 }));
    aggregator.addOrderLine(line({ orderId: 'o3', customerId: 'c2', orderedAt: now + 1 }));
    const [c1, c2] = all(aggregator);
    expect(c1?.orders.map((o) => o.orderId)).toEqual(['o1']);
    expect(c1?.categorySpendMinor).toEqual({ skin: 10_000 });
    expect(c1?.skus.map((s) => s.sku)).toEqual(['S']);
    expect(c2).toEqual({ customerId: 'c2', orders: [], categorySpendMinor: {}, skus: [] });
  });

  it("looks up one client's orders as clients() gives them, email-only lines merged, unknown clients undefined", () => {
    const aggregator = new ClientAggregator();
    aggregator.addOrderLine(line({ orderId: '#2', email: 'Ann@example.com', orderedAt: T + 1000, lineTotalMinor: 500 }));
    aggregator.addCustomer(customer('c1', { email: 'ann@example.com' }));
    aggregator.addOrderLine(line({ orderId: '#1', customerId: 'c1', orderedAt: T, lineTotalMinor: 100, status: 'refunded' }));
    aggregator.addCustomer(customer('c2'));
    aggregator.addOrderLine(line({ orderId: '#3', email: 'bob@example.com', orderedAt: T }));
    expect(aggregator.ordersOf('c1')).toEqual([
      { orderId: '#1', orderedAt: T, netMinor: 0, takenBack: true },
      { orderId: '#2', orderedAt: T + 1000, netMinor: 500 },
    ]);
    expect(aggregator.ordersOf('c2')).toEqual([]);
    expect(aggregator.ordersOf(emailIdentity('bob@example.com'))).toHaveLength(1);
    expect(aggregator.ordersOf('nobody')).toBeUndefined();
    for (const facts of aggregator.clients()) expect(aggregator.ordersOf(facts.customerId)).toEqual(facts.orders);
  });

  it('can be read twice with the same result', () => {
    const aggregator = new ClientAggregator();
    aggregator.addCustomer(customer('c1', { email: 'a@x.com' }));
    aggregator.addOrderLine(line({ orderId: 'o1', email: 'a@x.com', orderedAt: T, sku: 'S', category: 'k' }));
    aggregator.addOrderLine(line({ orderId: 'o2', email: 'z@x.com', orderedAt: T }));
    expect(all(aggregator)).toEqual(all(aggregator));
    expect(aggregator.clientCount).toBe(2);
  });
});

describe('ClientAggregator at volume', () => {
  it('keeps every record across storage chunk boundaries', () => {
    const aggregator = new ClientAggregator();
    const clients = 3_000;
    const ordersPerClient = 25; // 75,000 orders and purchases: more than one 65,536-record chunk
    for (let o = 0; o < ordersPerClient; o++) {
      for (let c = 0; c < clients; c++) {
        aggregator.addOrderLine(line({ orderId: `o${o}`, customerId: `c${c}`, orderedAt: T + o * 1_000, lineTotalMinor: c + 1, sku: `S${o % 3}`, category: `k${o % 2}` }));
      }
    }
    expect(aggregator.clientCount).toBe(clients);
    let count = 0;
    for (const facts of aggregator.clients()) {
      const c = Number(facts.customerId.slice(1));
      expect(facts.orders).toHaveLength(ordersPerClient);
      expect(facts.orders.every((o) => o.netMinor === c + 1)).toBe(true);
      expect(facts.categorySpendMinor).toEqual({ k0: 13 * (c + 1), k1: 12 * (c + 1) });
      expect(facts.skus.map((s) => s.purchases.length)).toEqual([9, 8, 8]);
      count += 1;
    }
    expect(count).toBe(clients);
  });
});

describe('ClientAggregator merging email-only lines into a customer who arrives later', () => {
  it('combines an order both hold and times its purchases by the combined order', () => {
    const aggregator = new ClientAggregator();
    aggregator.addOrderLine(line({ orderId: '#1', email: 'ann@x.com', orderedAt: T + 5_000, sku: 'A', quantity: 2, category: 'skin' }));
    aggregator.addCustomer(customer('c1', { email: 'ann@x.com' }));
    aggregator.addOrderLine(line({ orderId: '#1', customerId: 'c1', orderedAt: T, sku: 'A', quantity: 1, category: 'skin' }));
    aggregator.addOrderLine(line({ orderId: '#2', customerId: 'c1', orderedAt: T + 9_000, sku: 'B' }));
    const facts = only(aggregator);
    expect(facts.orders).toEqual([
      { orderId: '#1', orderedAt: T, netMinor: 20_000 },
      { orderId: '#2', orderedAt: T + 9_000, netMinor: 10_000 },
    ]);
    expect(facts.skus).toEqual([
      { sku: 'A', category: 'skin', purchases: [{ orderedAt: T, quantity: 3 }] },
      { sku: 'B', purchases: [{ orderedAt: T + 9_000, quantity: 1 }] },
    ]);
    expect(facts.categorySpendMinor).toEqual({ skin: 20_000 });
  });
});

describe('ClientAggregator fed packed customer records', () => {
  const emails = fc.option(fc.constantFrom('a@x.com', ' A@X.com', 'b@x.com', 'c@y.cn', ''), { nil: undefined });
  const step = fc.oneof(
    fc.record({
      kind: fc.constant('customer' as const),
      customerId: fc.constantFrom('c1', 'c2', 'c3'),
      email: emails,
      // A lone surrogate cannot be packed: that record goes whole.
      firstName: fc.option(fc.constantFrom('敏', 'Zoë', '\ud800', ''), { nil: undefined }),
      signedUpAt: fc.option(fc.integer({ min: 0, max: 4e12 }), { nil: undefined }),
    }),
    fc.record({ kind: fc.constant('line' as const), customerId: fc.option(fc.constantFrom('c1', 'c2', 'c4'), { nil: undefined }), email: fc.constantFrom('a@x.com', 'b@x.com', 'd@z.com'), orderId: fc.constantFrom('#1', '#2', '#3') }),
  );

  it('ends with the clients of the records added whole, email index and last-one-wins included', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 25 }), (steps) => {
        const whole = new ClientAggregator();
        const packed = new ClientAggregator();
        for (const { kind, ...fields } of steps) {
          if (kind === 'customer') {
            const record = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as CustomerRecord;
            whole.addCustomer(record);
            const text = packCustomer(record);
            if (text === undefined) packed.addCustomer(record);
            else packed.addPackedCustomer(record.customerId, text);
          } else {
            const { customerId, email, orderId } = fields as { customerId?: string; email: string; orderId: string };
            const order = line({ orderId, email, orderedAt: T, ...(customerId === undefined ? {} : { customerId }) });
            whole.addOrderLine(order);
            packed.addOrderLine(order);
          }
        }
        expect(all(packed)).toEqual(all(whole));
        for (const id of ['c1', 'c2', 'c3', 'c4']) expect(packed.hasCustomerRecord(id)).toBe(whole.hasCustomerRecord(id));
      }),
      { numRuns: 300 },
    );
  });
});
