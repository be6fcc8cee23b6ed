import { z } from 'zod';
import type { Config } from '#shared/config.ts';
import { MAX_ID_BYTES, type CustomerRecord, type OrderLine, type OrderStatus } from '#shared/model.ts';
import { addMinor, convertMinor, parseAmount } from '#shared/money.ts';
import { visibleText } from '#shared/display-text.ts';
import { normaliseEmail } from '#shared/email.ts';
import { HandlerFailure } from './errors.ts';
import {
  ABOVE_MAX_LINE_TOTAL,
  allocateProportionally,
  currencyCode,
  email,
  flag,
  ID_BOUND,
  identifier,
  maxLineTotalMinor,
  NO_RATE,
  keptWithin,
  lineQuantity,
  MAP_KEY,
  optionalBoundedText,
  optionalIdentifier,
  optionalText,
  type DroppedField,
  orderTimeRange,
  rateFor,
  reasonOf,
  schemaSink,
  text,
  TEXT_BOUND,
  timestamp,
} from './fields.ts';
import type { RowContext, RowFormat, RowSink, RowValues } from './types.ts';

/**
 * Shopify's standard CSV exports (customers_export.csv, orders_export.csv). Column names are
 * Shopify's, which also makes them the field names in reject reasons.
 */

// Newer Shopify exports prefix ids and phone numbers with an apostrophe so spreadsheets keep them as text.
const withoutApostrophe = (value: string): string => (value.charCodeAt(0) === 0x27 ? value.slice(1).trim() : value);

/**
 * Shopify's ids (customers and orders) are whole numbers; a spreadsheet that saved the file may
 * have rewritten them (6.54321E+12, one value for many), which would merge different clients or orders.
 */
const isShopifyId = (id: string): boolean => /^\d+$/.test(id);
/**
 * What a spreadsheet writes for a long whole number: 6.54321E+12, 6543210000003.0,
 * 6,543,210,000,003. A Customer ID is refused only then (other tools that write Shopify's format
 * may use ids of their own), an order's Id whenever it is not a whole number.
 */
const isSpreadsheetNumber = (id: string): boolean => /^(?:\d+(?:\.\d*)?[eE][+-]?\d+|\d+\.\d*|\d{1,3}(?:,\d{3})+)$/.test(id);
const NOT_A_SHOPIFY_ID = 'not a whole number as Shopify writes it (a spreadsheet may have rewritten it, e.g. in scientific notation)';

const ADVISOR_TAG = 'advisor:';

/**
 * "VIP, advisor:A12" → ["A12"]: every distinct advisor the tags name, in their order. More than one
 * is ambiguous (a tag added without removing the old one, two stores' tags): which advisor holds
 * the client cannot be told, so the caller drops the tag with a warning rather than take the first.
 */
function advisorsFromTags(tags: string | undefined): string[] {
  if (tags === undefined || !tags.toLowerCase().includes(ADVISOR_TAG)) return [];
  const advisors = new Set<string>();
  for (const tag of tags.split(',')) {
    const trimmed = tag.trim();
    if (trimmed.length > ADVISOR_TAG.length && trimmed.slice(0, ADVISOR_TAG.length).toLowerCase() === ADVISOR_TAG) {
      const advisor = trimmed.slice(ADVISOR_TAG.length).trim();
      if (advisor !== '') advisors.add(advisor);
    }
  }
  return [...advisors];
}

export function shopifyCustomerSchema() {
  return z
    .object({
      'Customer ID': identifier.transform(withoutApostrophe).pipe(z.string().min(1, 'required').refine((id) => !isSpreadsheetNumber(id), NOT_A_SHOPIFY_ID).refine(MAP_KEY.within, MAP_KEY.reason)),
      'First Name': optionalBoundedText,
      'Last Name': optionalBoundedText,
      Email: email.optional(),
      'Accepts Email Marketing': flag.optional(),
      // Name of the column in exports made before Shopify split email and SMS consent.
      'Accepts Marketing': flag.optional(),
      Phone: optionalBoundedText.transform((value) => (value === undefined ? undefined : withoutApostrophe(value) || undefined)),
      // Read as the advisor its tag names (an id), the only use of Tags.
      Tags: optionalText.transform((tags, ctx) => {
        const advisors = advisorsFromTags(tags);
        if (advisors.length > 1) {
          // Dropped like any invalid optional field: the stored advisor stays (merge.ts KEPT_FIELDS). No ids in the message.
          ctx.issues.push({ code: 'custom', message: `its tags name ${advisors.length} advisors: which one holds the client cannot be told`, input: tags });
          return z.NEVER;
        }
        const advisor = advisors[0];
        const broken = !ID_BOUND.within(advisor) ? ID_BOUND : !MAP_KEY.within(advisor) ? MAP_KEY : undefined;
        if (broken === undefined) return advisor;
        ctx.issues.push({ code: 'custom', message: `its advisor tag is ${broken.reason}`, input: tags });
        return z.NEVER;
      }),
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
        advisorId: row.Tags,
      }),
    );
}

/** Everything but the id: an invalid one is dropped with a warning, the client kept. */
const OPTIONAL_CUSTOMER_FIELDS: ReadonlySet<string> = new Set([
  'First Name',
  'Last Name',
  'Email',
  'Accepts Email Marketing',
  'Accepts Marketing',
  'Phone',
  'Tags',
]);

export const shopifyCustomers: RowFormat = {
  kind: 'customers',
  format: 'shopify',
  columns: ['Customer ID', 'First Name', 'Last Name', 'Email', 'Accepts Email Marketing', 'Accepts Marketing', 'Phone', 'Tags'],
  requiredColumns: ['Customer ID'],
  createSink: (context) =>
    schemaSink(shopifyCustomerSchema(), context, (record, line) => context.handlers.customer(record, context.at(line)), OPTIONAL_CUSTOMER_FIELDS),
};

/** How the order's Financial Status and Cancelled at translate into line statuses and refunds. */
type Settlement = 'paid' | 'refunded' | 'cancelled';

/** Every Financial Status Shopify writes; any other value is not an order we can read. */
const SETTLEMENTS = new Map<string, Settlement>([
  // A sale: paid, or being paid.
  ['paid', 'paid'],
  ['partially_paid', 'paid'],
  ['pending', 'paid'],
  ['authorized', 'paid'],
  // A sale with part given back (Refunded Amount says how much).
  ['partially_refunded', 'paid'],
  ['refunded', 'refunded'],
  ['voided', 'cancelled'],
  // An authorization that expired was never paid.
  ['expired', 'cancelled'],
]);

const UNKNOWN_SETTLEMENT = `unknown status (expected ${[...SETTLEMENTS.keys()].join(', ')})`;

/** The one status that says part of the order was given back: how much is only in Refunded Amount. */
const PARTIALLY_REFUNDED = 'partially_refunded';
const REFUND_UNSTATED = `required when Financial Status is ${PARTIALLY_REFUNDED} (how much was given back cannot be guessed)`;

/**
 * Financial Status, on an order's first line, as what the order counts for. Read as a sale, an
 * order Shopify says nothing of (or something new of) would count as revenue: it is refused.
 */
const financialStatus = z
  .string({ error: (issue) => (issue.input === undefined ? 'required on the first line of an order' : 'must be text') })
  .transform((value, ctx) => {
    const status = value.toLowerCase();
    const settlement = SETTLEMENTS.get(status);
    if (settlement === undefined) {
      ctx.issues.push({ code: 'custom', message: UNKNOWN_SETTLEMENT, input: value });
      return z.NEVER;
    }
    return { settlement, partlyRefunded: status === PARTIALLY_REFUNDED };
  });

/** The order-level columns, carried by the first line of each order only. */
interface OrderHead {
  orderId: string;
  email: string;
  orderedAt: number;
  currency: string;
  rate: string;
  /** Subtotal (order currency): the lines after product discounts, before shipping and taxes. */
  subtotalMinor: number;
  discountMinor: number;
  /** Refunded Amount (order currency); only used when the order is not fully refunded. */
  refundedMinor: number;
  settlement: Settlement;
  cancelled: boolean;
}

/**
 * Id, which keys the order: a whole number as Shopify writes it (an apostrophe aside). A
 * spreadsheet rewrites Shopify's 13-digit ids as 5.12346E+12, one key for many orders, which
 * would be read as one: such an Id rejects the order rather than merge it with others.
 */
const orderIdColumn = optionalIdentifier
  .transform((id) => (id === undefined ? undefined : withoutApostrophe(id)))
  .refine((id) => id === undefined || isShopifyId(id), NOT_A_SHOPIFY_ID);

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

export function shopifyOrderHeadSchema(config: Config, now: number) {
  return z
    .object({
      Name: identifier,
      Id: orderIdColumn,
      Email: email,
      'Financial Status': financialStatus,
      'Created at': timestamp(config.timeZone, orderTimeRange(now)),
      Currency: currencyCode.optional(),
      Subtotal: text,
      'Discount Amount': optionalText,
      'Refunded Amount': optionalText,
      // A time, as Shopify writes it: anything else ("null", "N/A", "false", a date that does not exist) is not
      // read as a cancellation, which would count a paid order as nothing; the order is a reject instead.
      'Cancelled at': timestamp(config.timeZone, orderTimeRange(now)).optional(),
    })
    .transform((row, ctx): OrderHead => {
      // Read as nothing refunded, an unknown part given back would count as spend.
      if (row['Financial Status'].partlyRefunded && row['Refunded Amount'] === undefined) {
        ctx.addIssue({ code: 'custom', message: REFUND_UNSTATED, path: ['Refunded Amount'] });
        return z.NEVER;
      }
      const currency = row.Currency ?? config.currency;
      const rate = rateFor(config, currency);
      if (rate === undefined) {
        ctx.addIssue({ code: 'custom', message: NO_RATE, path: ['Currency'] });
        return z.NEVER;
      }
      const subtotal = amount(row.Subtotal, currency, 'Subtotal', ctx);
      const discount = amount(row['Discount Amount'], currency, 'Discount Amount', ctx);
      const refunded = amount(row['Refunded Amount'], currency, 'Refunded Amount', ctx);
      if (subtotal === undefined || discount === undefined || refunded === undefined) return z.NEVER;
      return {
        orderId: row.Id ?? withoutApostrophe(row.Name),
        email: row.Email,
        orderedAt: row['Created at'],
        currency,
        rate,
        subtotalMinor: subtotal,
        discountMinor: discount,
        refundedMinor: refunded,
        settlement: row['Financial Status'].settlement,
        cancelled: row['Cancelled at'] !== undefined,
      };
    });
}

export const shopifyLineSchema = z.object({
  'Lineitem quantity': lineQuantity,
  'Lineitem price': text,
  // Checked apart (keptWithin): a line whose SKU or name is too long, or whose SKU cannot key a map, keeps its money.
  'Lineitem sku': optionalText,
  'Lineitem name': optionalText,
});

interface PendingLine {
  line: number;
  quantity: number;
  grossMinor: number;
  sku: string | undefined;
  productName: string | undefined;
  /** Optional fields dropped, warned of once the order is read whole. */
  dropped: DroppedField[];
}

/** Lines of one order beyond this are rejected: it keeps the buffer bounded. */
export const MAX_LINES_PER_ORDER = 10_000;

/** Columns only an order's first row carries: a row with any of them starts an order. */
const HEAD_COLUMNS = ['Created at', 'Financial Status', 'Subtotal'] as const;

function isHeadRow(values: RowValues): boolean {
  for (const column of HEAD_COLUMNS) if (values[column] !== undefined) return true;
  return false;
}

/** A head row may leave the line-item columns empty when its order's lines follow on their own rows. */
function hasLineItem(values: RowValues): boolean {
  return values['Lineitem quantity'] !== undefined || values['Lineitem price'] !== undefined;
}

const WITHOUT_HEAD = "order line without its order's first row (the order-level columns are empty: lost or reordered rows?)";
const NOT_ADDING_UP = 'line items do not add up to the subtotal (Lineitem price x quantity, less at most Discount Amount): lost or extra lines?';

/**
 * Groups contiguous rows by Name. The first row of an order gives the order-level columns; the
 * order's lines are buffered (one order at a time) because the discount and partial refunds are
 * order totals that must be split over all its lines, and because an order is only believed
 * whole: its lines must add up to its Subtotal, and one rejected line rejects the rest.
 */
class ShopifyOrderSink implements RowSink {
  private readonly headSchema: ReturnType<typeof shopifyOrderHeadSchema>;
  private readonly maxLineTotal: number;
  private name: string | undefined;
  /** The current order's head, or why its rows are rejected (an invalid head, or none). */
  private head: OrderHead | string = '';
  private headLine = 0;
  private lines: PendingLine[] = [];
  /** The first rejected line of the current order, if any. */
  private rejectedLine: number | undefined;

  constructor(private readonly context: RowContext) {
    this.headSchema = shopifyOrderHeadSchema(context.config, context.now);
    this.maxLineTotal = maxLineTotalMinor(context.config);
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
      this.headLine = line;
      this.rejectedLine = undefined;
      if (!isHeadRow(values)) {
        this.head = WITHOUT_HEAD;
      } else {
        const parsed = this.headSchema.safeParse(values);
        this.head = parsed.success ? parsed.data : reasonOf(parsed.error);
      }
      // The order's first row without a line item: its lines follow.
      if (typeof this.head !== 'string' && !hasLineItem(values)) return;
    }
    const head = this.head;
    if (typeof head === 'string') {
      this.context.reject(line, head);
      return;
    }
    // A later line naming another client: two orders under one Name, or rows mixed up. Whose it is cannot be told.
    if (line !== this.headLine && typeof values.Email === 'string' && normaliseEmail(values.Email) !== head.email) {
      this.rejectLine(line, "Email: not the email of its order's first line");
      return;
    }
    if (this.lines.length >= MAX_LINES_PER_ORDER) {
      this.rejectLine(line, `order has more than ${MAX_LINES_PER_ORDER} lines`);
      return;
    }
    const parsed = shopifyLineSchema.safeParse(values);
    if (!parsed.success) {
      this.rejectLine(line, reasonOf(parsed.error));
      return;
    }
    const item = parsed.data;
    const price = parseAmount(item['Lineitem price'], head.currency);
    if (price === undefined || price < 0) {
      this.rejectLine(line, `Lineitem price: ${price === undefined ? 'invalid amount (expected a decimal such as 129.90)' : 'must not be negative'}`);
      return;
    }
    const gross = price * item['Lineitem quantity'];
    if (!Number.isSafeInteger(gross)) {
      this.rejectLine(line, 'Lineitem price x quantity is too large');
      return;
    }
    const dropped: DroppedField[] = [];
    this.lines.push({
      line,
      quantity: item['Lineitem quantity'],
      grossMinor: gross,
      sku: keptWithin(keptWithin(item['Lineitem sku'], ID_BOUND, 'Lineitem sku', dropped), MAP_KEY, 'Lineitem sku', dropped),
      productName: visibleText(keptWithin(item['Lineitem name'], TEXT_BOUND, 'Lineitem name', dropped)),
      dropped,
    });
  }

  end(): void {
    this.flush();
    this.name = undefined;
  }

  private rejectLine(line: number, reason: string): void {
    this.rejectedLine ??= line;
    this.context.reject(line, reason);
  }

  private rejectAll(lines: readonly PendingLine[], reason: string): void {
    for (const pending of lines) this.context.reject(pending.line, reason);
  }

  private flush(): void {
    const head = this.head;
    const lines = this.lines;
    this.lines = [];
    if (typeof head === 'string') return;
    if (lines.length === 0) {
      if (this.rejectedLine === undefined) this.context.reject(this.headLine, 'order has no line items');
      return;
    }
    // Part of an order is worse than none: its spend would look real.
    if (this.rejectedLine !== undefined) {
      this.rejectAll(lines, `another line of the order (line ${this.rejectedLine}) was rejected, so the order is not read whole`);
      return;
    }
    let grossTotal = 0;
    for (const pending of lines) grossTotal = addMinor(grossTotal, pending.grossMinor, "an order's line items");
    // Subtotal = lines less the product discounts; Discount Amount may also hold a shipping
    // discount, so the lines' own discount is what separates them from the Subtotal, and it
    // must lie between nothing and Discount Amount, give or take a minor unit per line (rounding).
    const productDiscount = grossTotal - head.subtotalMinor;
    const rounding = lines.length;
    if (productDiscount < -rounding || productDiscount > head.discountMinor + rounding) {
      this.rejectAll(lines, NOT_ADDING_UP);
      return;
    }
    const gross = lines.map((l) => l.grossMinor);
    const discounts = allocateProportionally(Math.min(Math.max(productDiscount, 0), grossTotal), gross);
    const net = gross.map((g, i) => g - (discounts[i] as number));
    let refunds: number[];
    if (head.settlement === 'refunded') {
      refunds = net;
    } else {
      // Normally only partially_refunded orders carry a Refunded Amount; it may include shipping.
      let netTotal = 0;
      for (const n of net) netTotal = addMinor(netTotal, n, "an order's net");
      refunds = allocateProportionally(Math.min(head.refundedMinor, netTotal), net);
    }
    const config = this.context.config;
    const lineTotals = net.map((n) => convertMinor(n, head.currency, config.currency, head.rate));
    const tooLarge = lineTotals.findIndex((total) => total > this.maxLineTotal);
    if (tooLarge !== -1) {
      const first = (lines[tooLarge] as PendingLine).line;
      for (let i = 0; i < lines.length; i++) {
        const pending = lines[i] as PendingLine;
        const total = lineTotals[i] as number;
        this.context.reject(
          pending.line,
          total > this.maxLineTotal ? `Lineitem price x quantity: ${ABOVE_MAX_LINE_TOTAL}` : `another line of the order (line ${first}) was rejected, so the order is not read whole`,
        );
      }
      return;
    }
    const status: OrderStatus = head.cancelled || head.settlement === 'cancelled' ? 'cancelled' : head.settlement;
    // Its one group of rows: a second group of the same order (overlapping exports) fails the read.
    this.context.orderRead?.(head.orderId, this.headLine);
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
        lineTotalMinor: lineTotals[i] as number,
        refundedMinor: convertMinor(refunds[i] as number, head.currency, config.currency, head.rate),
        status,
      };
      for (const { field, reason } of pending.dropped) this.context.warn(pending.line, field, reason);
      try {
        this.context.handlers.order(order, this.context.at(pending.line));
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
    'Subtotal',
    'Discount Amount',
    'Refunded Amount',
    'Cancelled at',
    'Lineitem quantity',
    'Lineitem name',
    'Lineitem price',
    'Lineitem sku',
  ],
  // Subtotal too: Shopify's standard export always has it, and without it an order that lost
  // lines (a broken export) could not be told from a smaller order.
  requiredColumns: ['Name', 'Email', 'Financial Status', 'Created at', 'Subtotal', 'Lineitem quantity', 'Lineitem price'],
  createSink: (context) => new ShopifyOrderSink(context),
};
