import { z } from 'zod';
import type { Config } from '#shared/config.ts';
import { MAX_ID_BYTES, type AdvisorRecord, type CustomerRecord, type OrderLine, type OrderStatus, type ProductRecord } from '#shared/model.ts';
import { visibleText } from '#shared/display-text.ts';
import { convertMinor, parseAmount, parsePrice } from '#shared/money.ts';
import { localDate } from '#shared/time.ts';
import {
  ABOVE_MAX_LINE_TOTAL,
  birthday,
  currencyCode,
  currencyCodeOf,
  email,
  fastPathSink,
  flag,
  identifier,
  instantOf,
  keyIdentifier,
  lineQuantity,
  locale,
  longerThan,
  MAP_KEY,
  MAX_LINE_QUANTITY,
  MAX_TEXT_CHARS,
  maxLineTotalMinor,
  NO_RATE,
  optionalBoundedText,
  optionalKeyIdentifier,
  optionalKeyText,
  optionalText,
  orderTimeRange,
  positiveWholeNumberUpTo,
  rateFor,
  replenishDays,
  schemaSink,
  signUpRange,
  text,
  timestamp,
  timeZoneName,
  withinBytes,
  withinChars,
} from './fields.ts';
import type { RowFormat, RowValues } from './types.ts';

/**
 * The generic export format of exports.md: CSV columns and JSONL fields share these names.
 * `now` is the run's clock (ReadOptions.now): dates after it (give or take a day) are wrong.
 */

/** Fields that inform but decide neither identity nor money: an invalid one is dropped with a warning. */
const OPTIONAL_CUSTOMER_FIELDS: ReadonlySet<string> = new Set([
  'email',
  'first_name',
  'last_name',
  'phone',
  'locale',
  'time_zone',
  'signed_up_at',
  'accepts_marketing',
  'birthday',
  'advisor_id',
]);
/**
 * quantity counts units for replenishment only (line_total is the money): a bad one becomes the
 * default 1; but one above MAX_LINE_QUANTITY rejects the line (lineQuantity).
 */
const OPTIONAL_ORDER_FIELDS: ReadonlySet<string> = new Set(['sku', 'product_name', 'category', 'quantity']);
/** A bad `price` or `currency` is a reject (money is never guessed); a bad link only loses the link. */
const OPTIONAL_PRODUCT_FIELDS: ReadonlySet<string> = new Set(['name', 'category', 'replenish_days', 'season', 'url', 'image_url']);
/**
 * `active` is not among them: read wrongly it would hand an advisor's whole book over (or keep a
 * departed advisor's), so a row whose `active` cannot be read is a reject.
 */
const OPTIONAL_ADVISOR_FIELDS: ReadonlySet<string> = new Set(['name', 'email', 'locale', 'signature', 'store']);

/** A name or signature is printed in an email header or under a note: one line, of a sensible length, its visible text. */
const shortLine = (max: number) =>
  text
    .max(max, longerThan(max))
    .refine((value) => !/[\r\n\u0000-\u001f<>]/.test(value), 'contains a line break, a control character or < >')
    .transform(visibleText);

export function genericCustomerSchema(config: Config, now: number) {
  return z
    .object({
      customer_id: keyIdentifier,
      email: email.optional(),
      first_name: optionalBoundedText,
      last_name: optionalBoundedText,
      phone: optionalBoundedText,
      locale: locale.optional(),
      time_zone: timeZoneName.optional(),
      signed_up_at: timestamp(config.timeZone, signUpRange(now)).optional(),
      accepts_marketing: flag.optional(),
      // The run date is the local day before the clock's instant.
      birthday: birthday(localDate(now - 1, config.timeZone)).optional(),
      advisor_id: optionalKeyIdentifier,
    })
    .transform(
      (row): CustomerRecord => ({
        customerId: row.customer_id,
        email: row.email,
        firstName: row.first_name,
        lastName: row.last_name,
        phone: row.phone,
        locale: row.locale,
        timeZone: row.time_zone,
        signedUpAt: row.signed_up_at,
        acceptsMarketing: row.accepts_marketing,
        birthday: row.birthday,
        advisorId: row.advisor_id,
      }),
    );
}

const STATUSES = new Map<string, OrderStatus>([
  ['paid', 'paid'],
  ['refunded', 'refunded'],
  ['cancelled', 'cancelled'],
  ['canceled', 'cancelled'],
]);

const status = text.transform((value, ctx) => {
  const parsed = STATUSES.get(value.toLowerCase());
  if (parsed === undefined) {
    ctx.issues.push({ code: 'custom', message: 'unknown status (expected paid, refunded or cancelled)', input: value });
    return z.NEVER;
  }
  return parsed;
});

/** A generic order row whose fields each read: what the object-level rules (money, currency) see. */
interface OrderFields {
  order_id: string;
  customer_id: string;
  ordered_at: number;
  sku?: string | undefined;
  product_name?: string | undefined;
  category?: string | undefined;
  quantity?: number | undefined;
  line_total: string;
  currency?: string | undefined;
  status?: OrderStatus | undefined;
  refunded_amount?: string | undefined;
}

/** Why a row whose fields each read is still rejected: the field and the rule. */
interface OrderProblem {
  problem: string;
  input: unknown;
  field: keyof OrderFields;
}

const INVALID_AMOUNT = 'invalid amount (expected a decimal such as 129.90)';

/** The order line of a row whose fields each read, or the problem that rejects it. */
function orderLineOf(row: OrderFields, config: Config, maxLineTotal: number): OrderLine | OrderProblem {
  const currency = row.currency ?? config.currency;
  const rate = rateFor(config, currency);
  if (rate === undefined) return { problem: NO_RATE, input: currency, field: 'currency' };
  const lineTotal = parseAmount(row.line_total, currency);
  if (lineTotal === undefined || lineTotal < 0) {
    return { problem: lineTotal === undefined ? INVALID_AMOUNT : 'must not be negative', input: row.line_total, field: 'line_total' };
  }
  const lineStatus = row.status ?? 'paid';
  let refunded: number;
  if (row.refunded_amount !== undefined) {
    const parsed = parseAmount(row.refunded_amount, currency);
    if (parsed === undefined || parsed < 0) {
      return { problem: parsed === undefined ? INVALID_AMOUNT : 'must not be negative', input: row.refunded_amount, field: 'refunded_amount' };
    }
    // A refund can include shipping; a line cannot give back more than it cost.
    refunded = Math.min(parsed, lineTotal);
  } else {
    // "refunded" without an amount means the whole line was refunded.
    refunded = lineStatus === 'refunded' ? lineTotal : 0;
  }
  const lineTotalMinor = convertMinor(lineTotal, currency, config.currency, rate);
  if (lineTotalMinor > maxLineTotal) return { problem: ABOVE_MAX_LINE_TOTAL, input: row.line_total, field: 'line_total' };
  return {
    orderId: row.order_id,
    customerId: row.customer_id,
    email: undefined,
    orderedAt: row.ordered_at,
    sku: row.sku,
    productName: row.product_name,
    category: row.category,
    quantity: row.quantity ?? 1,
    lineTotalMinor,
    refundedMinor: convertMinor(refunded, currency, config.currency, rate),
    status: lineStatus,
  };
}

export function genericOrderSchema(config: Config, now: number) {
  const maxLineTotal = maxLineTotalMinor(config);
  return z
    .object({
      order_id: identifier,
      customer_id: keyIdentifier,
      ordered_at: timestamp(config.timeZone, orderTimeRange(now)),
      sku: optionalKeyIdentifier,
      product_name: optionalBoundedText,
      category: optionalKeyText,
      quantity: lineQuantity.optional(),
      line_total: text,
      currency: currencyCode.optional(),
      status: status.optional(),
      refunded_amount: optionalText,
    })
    .transform((row, ctx): OrderLine => {
      const line = orderLineOf(row, config, maxLineTotal);
      if ('problem' in line) {
        ctx.issues.push({ code: 'custom', message: line.problem, input: line.input, path: [line.field] });
        return z.NEVER;
      }
      return line;
    });
}

/** An optional text value as the schema takes it: a string, or absent; `false` for anything else. */
function optionalString(value: unknown): string | undefined | false {
  return value === undefined || typeof value === 'string' ? value : false;
}

/**
 * genericOrderSchema's reading of a row without zod, for the rows where every field is valid
 * (nearly all): the same checks through the same functions, and undefined as soon as one fails,
 * so that the schema reads that row and gives its reasons. Property-tested equal to the schema.
 */
export function genericOrderReader(config: Config, now: number): (values: RowValues) => OrderLine | undefined {
  const maxLineTotal = maxLineTotalMinor(config);
  const range = orderTimeRange(now);
  const { timeZone } = config;
  return (values) => {
    const { order_id, customer_id, ordered_at, line_total } = values;
    if (typeof order_id !== 'string' || typeof customer_id !== 'string' || typeof ordered_at !== 'string' || typeof line_total !== 'string') return undefined;
    const sku = optionalString(values.sku);
    const product_name = optionalString(values.product_name);
    const category = optionalString(values.category);
    const refunded_amount = optionalString(values.refunded_amount);
    const quantityText = optionalString(values.quantity);
    const currencyText = optionalString(values.currency);
    const statusText = optionalString(values.status);
    if (sku === false || product_name === false || category === false || refunded_amount === false || quantityText === false || currencyText === false || statusText === false) {
      return undefined;
    }
    if (!withinBytes(order_id, MAX_ID_BYTES) || !withinBytes(customer_id, MAX_ID_BYTES) || !withinBytes(sku, MAX_ID_BYTES)) return undefined;
    if (!withinChars(product_name, MAX_TEXT_CHARS) || !withinChars(category, MAX_TEXT_CHARS)) return undefined;
    const visibleCategory = visibleText(category);
    if (!MAP_KEY.within(customer_id) || !MAP_KEY.within(sku) || !MAP_KEY.within(visibleCategory)) return undefined;
    const orderedAt = instantOf(ordered_at, timeZone, range);
    if (typeof orderedAt !== 'number') return undefined;
    const quantity = quantityText === undefined ? undefined : positiveWholeNumberUpTo(quantityText, MAX_LINE_QUANTITY);
    if (quantityText !== undefined && quantity === undefined) return undefined;
    const currency = currencyText === undefined ? undefined : currencyCodeOf(currencyText);
    if (currencyText !== undefined && currency === undefined) return undefined;
    const lineStatus = statusText === undefined ? undefined : STATUSES.get(statusText.toLowerCase());
    if (statusText !== undefined && lineStatus === undefined) return undefined;
    const row: OrderFields = {
      order_id,
      customer_id,
      ordered_at: orderedAt,
      sku,
      product_name: visibleText(product_name),
      category: visibleCategory,
      quantity,
      line_total,
      currency,
      status: lineStatus,
      refunded_amount,
    };
    const line = orderLineOf(row, config, maxLineTotal);
    return 'problem' in line ? undefined : line;
  };
}

/** An http(s) link (a `javascript:` or `data:` one must never reach an email's href or src). */
const webLink = text.max(2000, longerThan(2000)).refine((value) => {
  if (!/^https?:\/\//i.test(value)) return false;
  return URL.canParse(value);
}, 'must be an http(s) URL');

/** The product's price, if given, in exact minor units of the row's currency (or the brand's). */
function productPrice(row: { price?: string | undefined; currency?: string | undefined }, config: Config, ctx: z.RefinementCtx): { priceMinor?: number; currency?: string } {
  if (row.price === undefined) {
    if (row.currency !== undefined) ctx.issues.push({ code: 'custom', message: 'currency without a price', input: row.currency, path: ['currency'] });
    return {};
  }
  const currency = row.currency ?? config.currency;
  const priceMinor = parsePrice(row.price, currency);
  if (priceMinor === undefined) {
    ctx.issues.push({ code: 'custom', message: `must be a plain decimal price with at most the currency's decimals, e.g. "1280" or "1280.50"`, input: row.price, path: ['price'] });
    return {};
  }
  return { priceMinor, currency };
}

export function genericProductSchema(config: Config) {
  return z
    .object({
      sku: keyIdentifier,
      name: optionalBoundedText,
      category: optionalKeyText,
      replenish_days: replenishDays.optional(),
      season: optionalBoundedText,
      url: webLink.optional(),
      image_url: webLink.optional(),
      price: optionalText,
      currency: currencyCode.optional(),
    })
    .transform((row, ctx): ProductRecord => ({
      sku: row.sku,
      name: row.name,
      category: row.category,
      replenishDays: row.replenish_days,
      season: row.season,
      ...(row.url === undefined ? {} : { url: row.url }),
      ...(row.image_url === undefined ? {} : { imageUrl: row.image_url }),
      ...productPrice(row, config, ctx),
    }));
}

export function genericAdvisorSchema() {
  return z
    .object({
      advisor_id: keyIdentifier,
      name: shortLine(100).optional(),
      email: email.optional(),
      locale: locale.optional(),
      active: flag.optional(),
      signature: shortLine(200).optional(),
      store: optionalKeyText,
    })
    .transform(
      (row): AdvisorRecord => ({
        advisorId: row.advisor_id,
        ...(row.name === undefined ? {} : { name: row.name }),
        ...(row.email === undefined ? {} : { email: row.email }),
        ...(row.locale === undefined ? {} : { locale: row.locale }),
        active: row.active ?? true,
        ...(row.signature === undefined ? {} : { signature: row.signature }),
        ...(row.store === undefined ? {} : { store: row.store }),
      }),
    );
}

export const genericCustomers: RowFormat = {
  kind: 'customers',
  format: 'generic',
  columns: [
    'customer_id',
    'email',
    'first_name',
    'last_name',
    'phone',
    'locale',
    'time_zone',
    'signed_up_at',
    'accepts_marketing',
    'birthday',
    'advisor_id',
  ],
  requiredColumns: ['customer_id'],
  createSink: (context) =>
    schemaSink(
      genericCustomerSchema(context.config, context.now),
      context,
      (record, line) => context.handlers.customer(record, context.at(line)),
      OPTIONAL_CUSTOMER_FIELDS,
    ),
};

export const genericOrders: RowFormat = {
  kind: 'orders',
  format: 'generic',
  columns: [
    'order_id',
    'customer_id',
    'ordered_at',
    'sku',
    'product_name',
    'category',
    'quantity',
    'line_total',
    'currency',
    'status',
    'refunded_amount',
  ],
  requiredColumns: ['order_id', 'customer_id', 'ordered_at', 'line_total'],
  createSink: (context) => {
    const emit = (order: OrderLine, line: number) => context.handlers.order(order, context.at(line));
    return fastPathSink(
      genericOrderReader(context.config, context.now),
      schemaSink(genericOrderSchema(context.config, context.now), context, emit, OPTIONAL_ORDER_FIELDS),
      emit,
    );
  },
};

export const genericProducts: RowFormat = {
  kind: 'products',
  format: 'generic',
  columns: ['sku', 'name', 'category', 'replenish_days', 'season', 'url', 'image_url', 'price', 'currency'],
  requiredColumns: ['sku'],
  createSink: (context) =>
    schemaSink(genericProductSchema(context.config), context, (record, line) => context.handlers.product(record, context.at(line)), OPTIONAL_PRODUCT_FIELDS),
};

export const genericAdvisors: RowFormat = {
  kind: 'advisors',
  format: 'generic',
  columns: ['advisor_id', 'name', 'email', 'locale', 'active', 'signature', 'store'],
  requiredColumns: ['advisor_id'],
  createSink: (context) =>
    schemaSink(genericAdvisorSchema(), context, (record, line) => context.handlers.advisor?.(record, context.at(line)), OPTIONAL_ADVISOR_FIELDS),
};
