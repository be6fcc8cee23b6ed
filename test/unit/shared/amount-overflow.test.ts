import { afterAll, describe, expect, it } from 'vitest';
import { ClienteleError, isUserFacing } from '#shared/errors.ts';
import { addMinor, AmountOverflowError } from '#shared/money.ts';
import type { ClientProfile, OrderLine } from '#shared/model.ts';
import { addShardFigures, emptyShardFigures } from '#shared/nightly/admission.ts';
import { ClientAggregator } from '#shared/tiering/aggregate.ts';
import { distribution } from '#shared/tiering/distribution.ts';
import { computeProfiles } from '#shared/tiering/profile.ts';
import { CUSTOMERS, NOW, read, removeExportDirs, RUN_DATE, config } from './exports/reading.ts';

afterAll(removeExportDirs);

/** Sums of minor units never go past 2^53: they stop with an error naming the sum, not a wrong total. */

const LIMIT = Number.MAX_SAFE_INTEGER;

describe('addMinor', () => {
  it('adds exactly up to 2^53 - 1 and refuses beyond, either way', () => {
    expect(addMinor(LIMIT - 1, 1, 'x')).toBe(LIMIT);
    expect(addMinor(-5, 3, 'x')).toBe(-2);
    expect(() => addMinor(LIMIT, 1, "an order's net")).toThrow(AmountOverflowError);
    expect(() => addMinor(-LIMIT, -1, 'x')).toThrow(AmountOverflowError);
  });

  it('is a user-facing ClienteleError that names what overflowed', () => {
    const error = (() => {
      try {
        addMinor(9e15, 9e15, "a client's lifetime spend");
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ClienteleError);
    expect(error).toMatchObject({ code: 'AMOUNT_OVERFLOW' });
    expect(isUserFacing(error)).toBe(true);
    expect((error as Error).message).toMatch(/^a client's lifetime spend is beyond 9007199254740991 minor units/);
  });
});

function line(orderId: string, lineTotalMinor: number, category?: string): OrderLine {
  return {
    orderId,
    customerId: 'C1',
    email: undefined,
    orderedAt: NOW - 3_600_000,
    sku: 'S',
    productName: undefined,
    category,
    quantity: 1,
    lineTotalMinor,
    refundedMinor: 0,
    status: 'paid',
  };
}

describe('the sums of the tiering stage', () => {
  it('refuses to add two line totals near 9e15 minor units into one order (they stopped the run with an unexpected error)', () => {
    const aggregator = new ClientAggregator({ now: NOW });
    aggregator.addOrderLine(line('O1', 9e15));
    expect(() => aggregator.addOrderLine(line('O1', 9e15))).toThrow(/^an order's net is beyond/);
  });

  it("refuses a client's spend over two such orders, and their total in one category", () => {
    const aggregator = new ClientAggregator({ now: NOW });
    aggregator.addOrderLine(line('O1', 5e15));
    aggregator.addOrderLine(line('O2', 5e15));
    expect(() => computeProfiles(aggregator.clients(), { runDate: RUN_DATE, config: config() })).toThrow(/^a client's lifetime spend is beyond/);
    const byCategory = new ClientAggregator({ now: NOW });
    byCategory.addOrderLine(line('O1', 5e15, 'bags'));
    expect(() => byCategory.addOrderLine(line('O2', 5e15, 'bags'))).toThrow(/^a client's spend in one category is beyond/);
  });

  it('refuses revenue totals past the limit', () => {
    const profile = { tier: 'VIC', stage: 'active', spend12mMinor: 5e15, orderCount: 3 } as ClientProfile;
    expect(() => distribution([profile, profile])).toThrow(/12-month revenue is beyond/);
  });

  it("refuses the shards' revenue figures added up past the limit (a sharded night's combine, before any write)", () => {
    const shard = { ...emptyShardFigures(), clients: 1, revenue12mMinor: 5e15 };
    expect(addShardFigures([shard, { ...shard, revenue12mMinor: 4e15 }])).toMatchObject({ clients: 2, revenue12mMinor: 9e15 });
    expect(() => addShardFigures([shard, shard])).toThrow(/^the 12-month revenue is beyond/);
    const erased = { ...emptyShardFigures(), erasedSinceLastNightRevenue12mMinor: 5e15 };
    expect(() => addShardFigures([erased, erased])).toThrow(/^the 12-month revenue of the clients erased since the last night is beyond/);
  });

  it('never gets there from an export read with the default exports.maxLineTotal: such lines are rejects', async () => {
    const { orders, result } = await read(
      {
        'customers.csv': CUSTOMERS,
        'orders.csv': 'order_id,customer_id,ordered_at,line_total\nO1,C1,2026-11-22T10:00:00Z,90000000000000\nO2,C1,2026-11-22T10:00:00Z,90000000000000\nO3,C1,2026-11-22T10:00:00Z,1\n',
      },
      { config: { maxRejectShare: 1 } },
    );
    expect(orders.map((o) => o.orderId)).toEqual(['O3']);
    expect(result.rejects.map((r) => [r.file.split('/').pop(), r.line])).toEqual([
      ['orders.csv', 2],
      ['orders.csv', 3],
    ]);
  });
});
