import { parseConfig, type Config, type ConfigInput } from '#shared/config.ts';
import type { CustomerRecord, OrderLine } from '#shared/model.ts';

/** Default configuration (USD, Asia/Shanghai) with overrides. */
export function config(overrides: Partial<ConfigInput> = {}): Config {
  return parseConfig(overrides);
}

export function customer(customerId: string, fields: Partial<CustomerRecord> = {}): CustomerRecord {
  return { customerId, acceptsMarketing: false, ...fields };
}

export function line(fields: Partial<OrderLine> & Pick<OrderLine, 'orderId' | 'orderedAt'>): OrderLine {
  return { quantity: 1, lineTotalMinor: 10_000, refundedMinor: 0, status: 'paid', ...fields };
}
