import { z } from 'zod';
import type { Config } from '#shared/config.ts';
import type { CustomerRecord, OrderLine, OrderStatus, ProductRecord } from '#shared/model.ts';
import { convertMinor, parseAmount } from '#shared/money.ts';
import { localDate } from '#shared/time.ts';
import {
  ABOVE_MAX_LINE_TOTAL,
  birthday,
  currencyCode,
  email,
  flag,
  locale,
  maxLineTotalMinor,
  NO_RATE,
  optionalText,
  orderTimeRange,
  positiveInteger,
  rateFor,
  schemaSink,
  signUpRange,
  text,
  timestamp,
  timeZoneName,
} from './fields.ts';
import type { RowFormat } from './types.ts';

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
/** quantity counts units for replenishment only (line_total is the money): a bad one becomes the default 1. */
const OPTIONAL_ORDER_FIELDS: ReadonlySet<string> = new Set(['sku', 'product_name', 'category', 'quantity']);
const OPTIONAL_PRODUCT_FIELDS: ReadonlySet<string> = new Set(['name', 'category', 'replenish_days', 'season']);

export function genericCustomerSchema(config: Config, now: number) {
  return z
    .object({
      customer_id: text,
      email: email.optional(),
      first_name: optionalText,
      last_name: optionalText,
      phone: optionalText,
      locale: locale.optional(),
      time_zone: timeZoneName.optional(),
      signed_up_at: timestamp(config.timeZone, signUpRange(now)).optional(),
      accepts_marketing: flag.optional(),
      // The run date is the local day before the clock's instant.
      birthday: birthday(localDate(now - 1, config.timeZone)).optional(),
      advisor_id: optionalText,
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

export function genericOrderSchema(config: Config, now: number) {
  const maxLineTotal = maxLineTotalMinor(config);
  return z
    .object({
      order_id: text,
      customer_id: text,
      ordered_at: timestamp(config.timeZone, orderTimeRange(now)),
      sku: optionalText,
      product_name: optionalText,
      category: optionalText,
      quantity: positiveInteger.optional(),
      line_total: text,
      currency: currencyCode.optional(),
      status: status.optional(),
      refunded_amount: optionalText,
    })
    .transform((row, ctx): OrderLine => {
      const currency = row.currency ?? config.currency;
      const rate = rateFor(config, currency);
      if (rate === undefined) {
        ctx.issues.push({ code: 'custom', message: NO_RATE, input: currency, path: ['currency'] });
        return z.NEVER;
      }
      const lineTotal = parseAmount(row.line_total, currency);
      if (lineTotal === undefined || lineTotal < 0) {
        const message = lineTotal === undefined ? 'invalid amount (expected a decimal such as 129.90)' : 'must not be negative';
        ctx.issues.push({ code: 'custom', message, input: row.line_total, path: ['line_total'] });
        return z.NEVER;
      }
      const lineStatus = row.status ?? 'paid';
      let refunded: number;
      if (row.refunded_amount !== undefined) {
        const parsed = parseAmount(row.refunded_amount, currency);
        if (parsed === undefined || parsed < 0) {
          const message = parsed === undefined ? 'invalid amount (expected a decimal such as 129.90)' : 'must not be negative';
          ctx.issues.push({ code: 'custom', message, input: row.refunded_amount, path: ['refunded_amount'] });
          return z.NEVER;
        }
        // A refund can include shipping; a line cannot give back more than it cost.
        refunded = Math.min(parsed, lineTotal);
      } else {
        // "refunded" without an amount means the whole line was refunded.
        refunded = lineStatus === 'refunded' ? lineTotal : 0;
      }
      const lineTotalMinor = convertMinor(lineTotal, currency, config.currency, rate);
      if (lineTotalMinor > maxLineTotal) {
        ctx.issues.push({ code: 'custom', message: ABOVE_MAX_LINE_TOTAL, input: row.line_total, path: ['line_total'] });
        return z.NEVER;
      }
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
    });
}

export function genericProductSchema() {
  return z
    .object({
      sku: text,
      name: optionalText,
      category: optionalText,
      replenish_days: positiveInteger.optional(),
      season: optionalText,
    })
    .transform(
      (row): ProductRecord => ({
        sku: row.sku,
        name: row.name,
        category: row.category,
        replenishDays: row.replenish_days,
        season: row.season,
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
  createSink: (context) =>
    schemaSink(
      genericOrderSchema(context.config, context.now),
      context,
      (order, line) => context.handlers.order(order, context.at(line)),
      OPTIONAL_ORDER_FIELDS,
    ),
};

export const genericProducts: RowFormat = {
  kind: 'products',
  format: 'generic',
  columns: ['sku', 'name', 'category', 'replenish_days', 'season'],
  requiredColumns: ['sku'],
  createSink: (context) =>
    schemaSink(genericProductSchema(), context, (record, line) => context.handlers.product(record, context.at(line)), OPTIONAL_PRODUCT_FIELDS),
};
