import { z } from 'zod';
import type { Config } from '#shared/config.ts';
import type { CustomerRecord, OrderLine, OrderStatus } from '#shared/model.ts';
import { convertMinor, parseAmount } from '#shared/money.ts';
import { HandlerFailure } from './errors.ts';
import {
  allocateProportionally,
  currencyCode,
  email,
  flag,
  optionalText,
  positiveInteger,
  rateFor,
  reasonOf,
  schemaSink,
  text,
  timestamp,
} from './fields.ts';
import type { RowContext, RowFormat, RowSink, RowValues } from './types.ts';

/**
 * Shopify's standard CSV exports (customers_export.csv, orders_export.csv). Column names are
 * Shopify's, which also makes them the field names in reject reasons.
 */

// Newer Shopify exports prefix ids and phone numbers with an apostrophe so spreadsheets keep them as text.
const withoutApostrophe = (value: string): string => (value.charCodeAt(0) === 0x27 ? value.slice(1).trim() : value);

const ADVISOR_TAG = 'advisor:';

/** "VIP, advisor:A12" → "A12". */
function advisorFromTags(tags: string | undefined): string | undefined {
  if (tags === undefined || !tags.toLowerCase().includes(ADVISOR_TAG)) return undefined;
  for (const tag of tags.split(',')) {
    const trimmed = tag.trim();
    if (trimmed.length > ADVISOR_TAG.length && trimmed.slice(0, ADVISOR_TAG.length).toLowerCase() === ADVISOR_TAG) {
      const advisor = trimmed.slice(ADVISOR_TAG.length).trim();
      if (advisor !== '') return advisor;
    }
  }
  return undefined;
}

export function shopifyCustomerSchema() {
  return z
    .object({
      'Customer ID': text.transform(withoutApostrophe).pipe(z.string().min(1, 'required')),
      'First Name': optionalText,
      'Last Name': optionalText,
      Email: email.optional(),
      'Accepts Email Marketing': flag.optional(),
      // Name of the column in exports made before Shopify split email and SMS consent.
      'Accepts Marketing': flag.optional(),
      Phone: optionalText.transform((value) => (value === undefined ? undefined : withoutApostrophe(value) || undefined)),
      Tags: optionalText,
    })
    .transform(
      (row): CustomerRecord => ({
        customerId: row['Customer ID'],
        email: row.Email,
        firstName: row['First Name'],
        lastName: row['Last Name'],
        phone: row.Phone,
        locale: undefined,
        timeZone: undefined,
        signedUpAt: undefined,
        acceptsMarketing: row['Accepts Email Marketing'] ?? row['Accepts Marketing'],
        birthday: undefined,
        advisorId: advisorFromTags(row.Tags),
      }),
    );
}

export const shopifyCustomers: RowFormat = {
  kind: 'customers',
  format: 'shopify',
  columns: ['Customer ID', 'First Name', 'Last Name', 'Email', 'Accepts Email Marketing', 'Accepts Marketing', 'Phone', 'Tags'],
  requiredColumns: ['Customer ID'],
  createSink: (context) => schemaSink(shopifyCustomerSchema(), context, (record) => context.handlers.customer(record)),
};

/** How the order's Financial Status and Cancelled at translate into line statuses and refunds. */
type Settlement = 'paid' | 'refunded' | 'cancelled';

const SETTLEMENTS = new Map<string, Settlement>([
  ['refunded', 'refunded'],
  ['voided', 'cancelled'],
  // An authorization that expired was never paid.
  ['expired', 'cancelled'],
]);

/** The order-level columns, carried by the first line of each order only. */
interface OrderHead {
  orderId: string;
  email: string;
  orderedAt: number;
  currency: string;
  rate: string;
  discountMinor: number;
  /** Refunded Amount (order currency); only used when the order is not fully refunded. */
  refundedMinor: number;
  settlement: Settlement;
  cancelled: boolean;
}

function amount(value: string | undefined, currency: string, field: string, ctx: z.RefinementCtx): number | undefined {
  if (value === undefined) return 0;
  const parsed = parseAmount(value, currency);
  if (parsed === undefined || parsed < 0) {
    const message = parsed === undefined ? 'invalid amount (expected a decimal such as 129.90)' : 'must not be negative';
    ctx.addIssue({ code: 'custom', message, path: [field] });
    return undefined;
  }
  return parsed;
}

export function shopifyOrderHeadSchema(config: Config) {
  return z
    .object({
      Name: text,
      Id: optionalText,
      Email: email,
      'Financial Status': optionalText,
      'Created at': timestamp(config.timeZone),
      Currency: currencyCode.optional(),
      'Discount Amount': optionalText,
      'Refunded Amount': optionalText,
      'Cancelled at': optionalText,
    })
    .transform((row, ctx): OrderHead => {
      const currency = row.Currency ?? config.currency;
      const rate = rateFor(config, currency);
      if (rate === undefined) {
        ctx.addIssue({ code: 'custom', message: `no exchange rate configured for ${currency}`, path: ['Currency'] });
        return z.NEVER;
      }
      const discount = amount(row['Discount Amount'], currency, 'Discount Amount', ctx);
      const refunded = amount(row['Refunded Amount'], currency, 'Refunded Amount', ctx);
      if (discount === undefined || refunded === undefined) return z.NEVER;
      const status = row['Financial Status'];
      return {
        orderId: withoutApostrophe(row.Id ?? row.Name),
        email: row.Email,
        orderedAt: row['Created at'],
        currency,
        rate,
        discountMinor: discount,
        refundedMinor: refunded,
        // paid, pending, authorized, partially_paid, partially_refunded...: a sale.
        settlement: (status === undefined ? undefined : SETTLEMENTS.get(status.toLowerCase())) ?? 'paid',
        cancelled: row['Cancelled at'] !== undefined,
      };
    });
}

export const shopifyLineSchema = z.object({
  'Lineitem quantity': positiveInteger,
  'Lineitem price': text,
  'Lineitem sku': optionalText,
  'Lineitem name': optionalText,
});

interface PendingLine {
  line: number;
  quantity: number;
  grossMinor: number;
  sku: string | undefined;
  productName: string | undefined;
}

/** Lines of one order beyond this are rejected: it keeps the buffer bounded. */
export const MAX_LINES_PER_ORDER = 10_000;

/**
 * Groups contiguous rows by Name. The first row of an order gives the order-level columns; the
 * order's lines are buffered (one order at a time) because the discount and partial refunds are
 * order totals that must be split over all its lines.
 */
class ShopifyOrderSink implements RowSink {
  private readonly headSchema: ReturnType<typeof shopifyOrderHeadSchema>;
  private name: string | undefined;
  /** The current order's head, or why it is invalid (every line of the order is then rejected). */
  private head: OrderHead | string = '';
  private lines: PendingLine[] = [];

  constructor(private readonly context: RowContext) {
    this.headSchema = shopifyOrderHeadSchema(context.config);
  }

  row(values: RowValues, line: number): void {
    const name = values.Name;
    if (typeof name !== 'string') {
      this.context.reject(line, 'Name: required');
      return;
    }
    if (name !== this.name) {
      this.flush();
      this.name = name;
      const parsed = this.headSchema.safeParse(values);
      this.head = parsed.success ? parsed.data : reasonOf(parsed.error);
    }
    const head = this.head;
    if (typeof head === 'string') {
      this.context.reject(line, head);
      return;
    }
    if (this.lines.length >= MAX_LINES_PER_ORDER) {
      this.context.reject(line, `order has more than ${MAX_LINES_PER_ORDER} lines`);
      return;
    }
    const parsed = shopifyLineSchema.safeParse(values);
    if (!parsed.success) {
      this.context.reject(line, reasonOf(parsed.error));
      return;
    }
    const item = parsed.data;
    const price = parseAmount(item['Lineitem price'], head.currency);
    if (price === undefined || price < 0) {
      this.context.reject(line, `Lineitem price: ${price === undefined ? 'invalid amount (expected a decimal such as 129.90)' : 'must not be negative'}`);
      return;
    }
    const gross = price * item['Lineitem quantity'];
    if (!Number.isSafeInteger(gross)) {
      this.context.reject(line, 'Lineitem price x quantity is too large');
      return;
    }
    this.lines.push({
      line,
      quantity: item['Lineitem quantity'],
      grossMinor: gross,
      sku: item['Lineitem sku'],
      productName: item['Lineitem name'],
    });
  }

  end(): void {
    this.flush();
    this.name = undefined;
  }

  private flush(): void {
    const head = this.head;
    const lines = this.lines;
    if (lines.length === 0 || typeof head === 'string') {
      this.lines = [];
      return;
    }
    this.lines = [];
    const gross = lines.map((l) => l.grossMinor);
    let grossTotal = 0;
    for (const g of gross) grossTotal += g;
    // The discount may include shipping discounts: never take lines below zero.
    const discounts = allocateProportionally(Math.min(head.discountMinor, grossTotal), gross);
    const net = gross.map((g, i) => g - (discounts[i] as number));
    let refunds: number[];
    if (head.settlement === 'refunded') {
      refunds = net;
    } else {
      // Normally only partially_refunded orders carry a Refunded Amount; it may include shipping.
      let netTotal = 0;
      for (const n of net) netTotal += n;
      refunds = allocateProportionally(Math.min(head.refundedMinor, netTotal), net);
    }
    const status: OrderStatus = head.cancelled || head.settlement === 'cancelled' ? 'cancelled' : head.settlement;
    const config = this.context.config;
    for (let i = 0; i < lines.length; i++) {
      const pending = lines[i] as PendingLine;
      const order: OrderLine = {
        orderId: head.orderId,
        customerId: undefined,
        email: head.email,
        orderedAt: head.orderedAt,
        sku: pending.sku,
        productName: pending.productName,
        category: undefined,
        quantity: pending.quantity,
        lineTotalMinor: convertMinor(net[i] as number, head.currency, config.currency, head.rate),
        refundedMinor: convertMinor(refunds[i] as number, head.currency, config.currency, head.rate),
        status,
      };
      try {
        this.context.handlers.order(order);
      } catch (error) {
        throw new HandlerFailure(error);
      }
    }
  }
}

export const shopifyOrders: RowFormat = {
  kind: 'orders',
  format: 'shopify',
  columns: [
    'Name',
    'Id',
    'Email',
    'Financial Status',
    'Created at',
    'Currency',
    'Discount Amount',
    'Refunded Amount',
    'Cancelled at',
    'Lineitem quantity',
    'Lineitem name',
    'Lineitem price',
    'Lineitem sku',
  ],
  requiredColumns: ['Name', 'Email', 'Financial Status', 'Created at', 'Lineitem quantity', 'Lineitem price'],
  createSink: (context) => new ShopifyOrderSink(context),
};
