import { parseConfig, type Config, type ConfigInput } from '#shared/config.ts';
import type { CustomerRecord, OrderLine } from '#shared/model.ts';
import { parseTimestamp } from '#shared/time.ts';

/** Default configuration (USD, Asia/Shanghai) with overrides. */
export function config(overrides: Partial<ConfigInput> = {}): Config {
  return parseConfig(overrides);
}

/** Instant of a local wall-clock time ("2025-03-10T23:30") in `timeZone`, or of an ISO instant with offset. */
export function at(text: string, timeZone = 'Asia/Shanghai'): number {
  const instant = parseTimestamp(text, timeZone);
  if (instant === undefined) throw new Error(`bad timestamp ${text}`);
  return instant;
}

export function customer(customerId: string, fields: Partial<CustomerRecord> = {}): CustomerRecord {
  return { customerId, acceptsMarketing: false, ...fields };
}

export function line(fields: Partial<OrderLine> & Pick<OrderLine, 'orderId' | 'orderedAt'>): OrderLine {
  return { quantity: 1, lineTotalMinor: 10_000, refundedMinor: 0, status: 'paid', ...fields };
}
