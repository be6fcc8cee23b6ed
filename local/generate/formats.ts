import { formatMinor } from '#shared/money.ts';
import type { Product } from './catalogue.ts';
import { csvField } from './csv.ts';
import type { GenClient, GenLine, GenOrder } from './clients.ts';
import { DAY_MS } from './clock.ts';
import type { Clocks, ZoneClock } from './clock.ts';

/**
 * The two export formats of ../shared/exports.md, written from the same generated clients.
 * Each writer turns a client (or a deliberately malformed order) into CSV rows; generate.ts
 * owns the files and streams.
 */

export type MalformedKind =
  | 'bad-timestamp'
  | 'non-numeric-amount'
  | 'missing-customer-id'
  | 'missing-order-id'
  | 'negative-quantity'
  | 'unknown-status';

/** One bad row: an extra one-line order of a real client with one field broken. */
export interface MalformedOrder {
  kind: MalformedKind;
  client: GenClient;
  orderedAt: number;
  product: Product;
  /** Picks among the ways a kind can be broken. */
  variant: number;
}

export interface FormatWriter {
  readonly customersFile: string;
  readonly customersHeader: readonly string[];
  readonly ordersHeader: readonly string[];
  /** Kinds this format can express, used in turn. */
  readonly malformedKinds: readonly MalformedKind[];
  /** parts === 1: the single-file name; otherwise part (1-based) of parts. */
  ordersFile(part: number, parts: number): string;
  customerRow(client: GenClient): string[];
  /** The order's CSV lines, ready to write (built as text: these are most of the bytes). */
  orderText(client: GenClient, order: GenOrder, orderNumber: number): string;
  malformedRow(bad: MalformedOrder, orderNumber: number): string[];
}

export interface WriterContext {
  currency: string;
  brandTimeZone: string;
  clocks: Clocks;
  endMs: number;
}

const productTexts = new WeakMap<Product, string>();

/** "sku,name,category" of a product, quoted as needed, computed once per product. */
function productFields(product: Product): string {
  let text = productTexts.get(product);
  if (text === undefined) {
    text = `${csvField(product.sku)},${csvField(product.name)},${csvField(product.category)}`;
    productTexts.set(product, text);
  }
  return text;
}

function orderNet(order: GenOrder): { subtotal: number; discount: number; refunded: number } {
  let subtotal = 0;
  let discount = 0;
  let refunded = 0;
  for (const line of order.lines) {
    subtotal += line.totalMinor;
    discount += line.discountMinor;
    refunded += line.refundedMinor;
  }
  return { subtotal, discount, refunded };
}

/** Lifetime net spend and the number of orders that were not cancelled. */
export function clientTotals(client: GenClient): { spentMinor: number; orders: number } {
  let spentMinor = 0;
  let orders = 0;
  for (const order of client.orders) {
    if (order.status === 'cancelled') continue;
    orders += 1;
    if (order.status === 'refunded') continue;
    const { subtotal, refunded } = orderNet(order);
    spentMinor += subtotal - refunded;
  }
  return { spentMinor, orders };
}

function badTimestamp(bad: MalformedOrder, clock: ZoneClock, shopify: boolean): string {
  const year = clock.iso(bad.orderedAt).slice(0, 4);
  switch (bad.variant % 3) {
    case 0:
      return shopify ? `${year}-02-30 14:03:11 +0800` : `${year}-02-30T14:03:11+08:00`;
    case 1:
      return `31/12/${year} 14:03`;
    default:
      return shopify ? `${year}-11-12 25:61:00 +0800` : 'yesterday';
  }
}

function badAmount(bad: MalformedOrder, currency: string): string {
  // A locale-formatted decimal comma ("48,00") or a placeholder: both real export bugs.
  return bad.variant % 2 === 0 ? formatMinor(bad.product.priceMinor, currency).replace('.', ',') : 'N/A';
}

export class GenericWriter implements FormatWriter {
  readonly customersFile = 'customers.csv';
  readonly customersHeader = [
    'customer_id', 'email', 'first_name', 'last_name', 'phone', 'locale', 'time_zone',
    'signed_up_at', 'accepts_marketing', 'birthday', 'advisor_id',
  ] as const;
  readonly ordersHeader = [
    'order_id', 'customer_id', 'ordered_at', 'sku', 'product_name', 'category', 'quantity',
    'line_total', 'currency', 'status', 'refunded_amount',
  ] as const;
  readonly malformedKinds: readonly MalformedKind[] = [
    'bad-timestamp', 'non-numeric-amount', 'missing-customer-id', 'missing-order-id', 'negative-quantity', 'unknown-status',
  ];

  constructor(private readonly ctx: WriterContext) {}

  ordersFile(part: number, parts: number): string {
    return parts === 1 ? 'orders.csv' : `orders-${String(part).padStart(4, '0')}.csv`;
  }

  customerRow(client: GenClient): string[] {
    const clock = this.ctx.clocks.get(client.timeZone);
    return [
      client.customerId,
      client.person.email,
      client.person.firstName,
      client.person.lastName,
      client.person.phone,
      client.locale,
      client.timeZone,
      clock.iso(client.signedUpAt),
      client.acceptsMarketing ? 'true' : 'false',
      client.birthday,
      client.advisorId,
    ];
  }

  orderText(client: GenClient, order: GenOrder, orderNumber: number): string {
    const { currency } = this.ctx;
    const head = `${orderNumber},${csvField(client.customerId)},${this.ctx.clocks.get(client.timeZone).iso(order.orderedAt)},`;
    const tail = `,${currency},${order.status},`;
    let text = '';
    for (const line of order.lines) {
      text += `${head}${productFields(line.product)},${line.quantity},${formatMinor(line.totalMinor, currency)}${tail}${formatMinor(line.refundedMinor, currency)}\n`;
    }
    return text;
  }

  malformedRow(bad: MalformedOrder, orderNumber: number): string[] {
    const { currency } = this.ctx;
    const clock = this.ctx.clocks.get(bad.client.timeZone);
    const row = [
      String(orderNumber),
      bad.client.customerId,
      clock.iso(bad.orderedAt),
      bad.product.sku,
      bad.product.name,
      bad.product.category,
      '1',
      formatMinor(bad.product.priceMinor, currency),
      currency,
      'paid',
      formatMinor(0, currency),
    ];
    switch (bad.kind) {
      case 'bad-timestamp':
        row[2] = badTimestamp(bad, clock, false);
        break;
      case 'non-numeric-amount':
        row[7] = badAmount(bad, currency);
        break;
      case 'missing-customer-id':
        row[1] = '';
        break;
      case 'missing-order-id':
        row[0] = '';
        break;
      case 'negative-quantity':
        row[6] = '-1';
        break;
      case 'unknown-status':
        row[9] = bad.variant % 2 === 0 ? 'pending' : 'on_hold';
        break;
    }
    return row;
  }
}

const SHOPIFY_ORDER_ID_BASE = 4_800_000_000_000;

export class ShopifyWriter implements FormatWriter {
  readonly customersFile = 'customers_export.csv';
  readonly customersHeader = [
    'Customer ID', 'First Name', 'Last Name', 'Email', 'Accepts Email Marketing', 'Default Address Company',
    'Default Address Address1', 'Default Address City', 'Default Address Country Code', 'Default Address Zip',
    'Phone', 'Total Spent', 'Total Orders', 'Note', 'Tax Exempt', 'Tags',
  ] as const;
  readonly ordersHeader = [
    'Name', 'Email', 'Financial Status', 'Paid at', 'Fulfillment Status', 'Fulfilled at', 'Currency', 'Subtotal',
    'Shipping', 'Taxes', 'Total', 'Discount Code', 'Discount Amount', 'Shipping Method', 'Created at',
    'Lineitem quantity', 'Lineitem name', 'Lineitem price', 'Lineitem sku', 'Billing Name', 'Cancelled at',
    'Refunded Amount', 'Id',
  ] as const;
  readonly malformedKinds: readonly MalformedKind[] = ['bad-timestamp', 'non-numeric-amount'];
  private readonly clock: ZoneClock;

  constructor(private readonly ctx: WriterContext) {
    // Shopify writes every timestamp in the shop's time zone.
    this.clock = ctx.clocks.get(ctx.brandTimeZone);
  }

  ordersFile(part: number, parts: number): string {
    return parts === 1 ? 'orders_export.csv' : `orders_export_${part}.csv`;
  }

  customerRow(client: GenClient): string[] {
    const { spentMinor, orders } = clientTotals(client);
    const p = client.person;
    return [
      client.customerId,
      p.firstName,
      p.lastName,
      p.email,
      client.acceptsMarketing ? 'yes' : 'no',
      '',
      p.address1,
      p.addressCity,
      p.countryCode,
      p.addressZip,
      p.phone,
      formatMinor(spentMinor, this.ctx.currency),
      String(orders),
      client.note,
      'no',
      client.tags.join(', '),
    ];
  }

  private billingName(client: GenClient): string {
    const p = client.person;
    return client.market === 'CN' ? `${p.lastName}${p.firstName}` : `${p.firstName} ${p.lastName}`;
  }

  orderText(client: GenClient, order: GenOrder, orderNumber: number): string {
    const { currency, endMs } = this.ctx;
    const money = (minor: number): string => formatMinor(minor, currency);
    const { subtotal, discount, refunded } = orderNet(order);
    const created = order.orderedAt;
    const voided = order.status === 'cancelled';
    // Shipped a day or so later (derived from the timestamp: no extra random draws needed).
    const fulfilledAt = created + DAY_MS * 0.8 + ((created / 1000) % 97) * 3_600_000 * 0.5;
    const fulfilled = !voided && fulfilledAt < endMs;
    const financial = voided ? 'voided' : order.status === 'refunded' ? 'refunded' : order.partiallyRefunded ? 'partially_refunded' : 'paid';
    const name = `#${orderNumber}`;
    const lineItem = (line: GenLine): string =>
      `${line.quantity},${csvField(line.product.name)},${money(line.unitMinor)},${csvField(line.product.sku)}`;
    const [first, ...rest] = order.lines;
    if (!first) return '';
    const createdText = this.clock.shopify(created);
    let text =
      `${name},${csvField(client.person.email)},${financial},${voided ? '' : createdText},` +
      `${fulfilled ? 'fulfilled' : 'unfulfilled'},${fulfilled ? this.clock.shopify(Math.floor(fulfilledAt / 1000) * 1000) : ''},` +
      // Free shipping and tax-inclusive prices: Subtotal = Total = the order's net before refunds.
      `${currency},${money(subtotal)},${money(0)},${money(0)},${money(subtotal)},${csvField(order.discountCode)},${money(discount)},` +
      `${order.express ? 'Express' : 'Standard'},${createdText},${lineItem(first)},${csvField(this.billingName(client))},` +
      `${order.cancelledAt === undefined ? '' : this.clock.shopify(order.cancelledAt)},${money(refunded)},${SHOPIFY_ORDER_ID_BASE + orderNumber}\n`;
    // Following lines of the order: Name and the Lineitem columns only.
    for (const line of rest) text += `${name},,,,,,,,,,,,,,,${lineItem(line)},,,,\n`;
    return text;
  }

  malformedRow(bad: MalformedOrder, orderNumber: number): string[] {
    const { currency } = this.ctx;
    const price = formatMinor(bad.product.priceMinor, currency);
    const created = this.clock.shopify(bad.orderedAt);
    const row = [
      `#${orderNumber}`, bad.client.person.email, 'paid', created, 'unfulfilled', '', currency, price,
      formatMinor(0, currency), formatMinor(0, currency), price, '', formatMinor(0, currency), 'Standard', created,
      '1', bad.product.name, price, bad.product.sku, this.billingName(bad.client), '', formatMinor(0, currency),
      String(SHOPIFY_ORDER_ID_BASE + orderNumber),
    ];
    if (bad.kind === 'bad-timestamp') {
      const text = badTimestamp(bad, this.clock, true);
      row[3] = text;
      row[14] = text;
    } else {
      // Every amount of the row, so a reader using Subtotal/Total rejects it as surely as one using the line price.
      const text = badAmount(bad, currency);
      row[7] = text;
      row[10] = text;
      row[17] = text;
    }
    return row;
  }
}
