import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '#shared/config.ts';
import { addShardFigures, emptyShardFigures, type ShardFigures } from '#shared/nightly/admission.ts';
import {
  catalogueViolations,
  MIN_CLIENTS_MOVED,
  nightRules,
  plausibilityViolations,
  ruleChanges,
  unexplainedLapse,
  withAbsentBeforeMarking,
  type LapseClock,
  type LastNight,
  type NightFigures,
  type NightMoves,
  type OrdersBefore,
  type OrdersTonight,
} from '#shared/nightly/guards.ts';
import { lapseDepth } from '#shared/tiering/lifecycle.ts';

/** The configuration's defaults: 20 % drop, 5 % downgrades, 5 % upgrades, 2 % unexplained lapses. */
const limits = parseConfig({}).plausibility;

const lastNight: LastNight = { runDate: '2026-03-01', clients: 10_000, orderLines: 50_000, revenue12mMinor: 800_000_000, buyers: 4_000 };

/** Tonight as last night was, nobody moving. */
const unchanged = (last: NightFigures): NightFigures & NightMoves => ({
  clients: last.clients,
  orderLines: last.orderLines,
  revenue12mMinor: last.revenue12mMinor,
  buyers: last.buyers,
  downgrades: 0,
  upgrades: 0,
  unexplainedLapses: 0,
  newlyAbsent: 0,
});

const figures = fc.record({
  clients: fc.nat({ max: 10_000_000 }),
  orderLines: fc.nat({ max: 100_000_000 }),
  revenue12mMinor: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  buyers: fc.nat({ max: 10_000_000 }),
});
const runDate = fc.constantFrom('2026-01-31', '2026-02-28', '2026-03-01');

describe('plausibilityViolations', () => {
  it('uses the configured defaults of a 20 % drop, 5 % downgrades, 5 % upgrades, 2 % unexplained lapses, 2 % newly absent clients, 2 % consent given back, 5 % addresses changed', () => {
    expect(limits).toEqual({
      maxDropShare: 0.2,
      maxDowngradeShare: 0.05,
      maxUpgradeShare: 0.05,
      maxUnexplainedLapseShare: 0.02,
      maxNewlyAbsentShare: 0.02,
      maxConsentGivenBackShare: 0.02,
      maxAddressChangeShare: 0.05,
    });
  });

  it('finds nothing on a first night, however small tonight is and however many move down', () => {
    expect(plausibilityViolations({ clients: 0, orderLines: 0, revenue12mMinor: 0, buyers: 0, downgrades: 1_000, upgrades: 0, unexplainedLapses: 0, newlyAbsent: 0 }, undefined, limits, 'USD')).toEqual([]);
  });

  it('finds nothing when tonight is as last night was', () => {
    expect(plausibilityViolations(unchanged(lastNight), lastNight, limits, 'USD')).toEqual([]);
  });

  it('fails a night whose clients fell by more than the allowed share, naming the figure and the last night', () => {
    const violations = plausibilityViolations({ ...unchanged(lastNight), clients: 7_000 }, lastNight, limits, 'USD');
    expect(violations).toEqual([
      {
        check: 'clients',
        tonight: 7_000,
        lastNight: 10_000,
        limit: 0.2,
        message: 'clients fell by 30% since 2026-03-01 (7,000 against 10,000), more than the 20% allowed',
      },
    ]);
  });

  it('fails a night whose order lines fell by more than the allowed share, naming the figure and the last night', () => {
    const violations = plausibilityViolations({ ...unchanged(lastNight), orderLines: 25_000 }, lastNight, limits, 'USD');
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({ check: 'orderLines', tonight: 25_000, lastNight: 50_000, limit: 0.2 });
    expect(violations[0]?.message).toBe('order lines fell by 50% since 2026-03-01 (25,000 against 50,000), more than the 20% allowed');
  });

  it('fails a night whose 12-month revenue fell by more than the allowed share, naming the figure and the last night', () => {
    const violations = plausibilityViolations({ ...unchanged(lastNight), revenue12mMinor: 600_000_000 }, lastNight, limits, 'USD');
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({ check: 'revenue12m', tonight: 600_000_000, lastNight: 800_000_000, limit: 0.2 });
    expect(violations[0]?.message).toContain('12-month revenue fell by 25% since 2026-03-01 (USD 6,000,000.00 against USD 8,000,000.00)');
    // In the brand's currency, as every screen shows money: a yen has no minor unit.
    const [yen] = plausibilityViolations({ ...unchanged(lastNight), revenue12mMinor: 600_000_000 }, lastNight, limits, 'JPY');
    expect(yen?.message).toContain('(JPY 600,000,000 against JPY 800,000,000)');
  });

  it('leaves the clients erased since the last night out of its figures: a forget alone passes, a real drop besides it still fails', () => {
    // One big client forgotten since: 1 client, a quarter of the revenue, 1 buyer. Their lines stay in the export.
    const erased = { erasedSinceLastNight: 1, erasedSinceLastNightRevenue12mMinor: 200_000_000, erasedSinceLastNightBuyers: 1 };
    const withoutThem = { ...unchanged(lastNight), clients: 9_999, revenue12mMinor: 600_000_000, buyers: 3_999 };
    expect(plausibilityViolations(withoutThem, lastNight, limits, 'USD').map((v) => v.check)).toEqual(['revenue12m']);
    expect(plausibilityViolations({ ...withoutThem, ...erased }, lastNight, limits, 'USD')).toEqual([]);

    const violations = plausibilityViolations({ ...withoutThem, ...erased, revenue12mMinor: 400_000_000 }, lastNight, limits, 'USD');
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({ check: 'revenue12m', tonight: 400_000_000, lastNight: 600_000_000 });
    expect(violations[0]?.message).toBe(
      '12-month revenue fell by 33.33% since 2026-03-01 (USD 4,000,000.00 against USD 6,000,000.00, its 1 client(s) erased since left out), more than the 20% allowed',
    );
  });

  it('counts the orders that left the 12-month window since the last night in tonight\u2019s revenue: time passing alone passes, a real drop besides it still fails', () => {
    // A sale day a year ago was a quarter of the revenue: it left the window tonight.
    const saleDayGone = { ...unchanged(lastNight), revenue12mMinor: 600_000_000, revenueLeftWindowMinor: 200_000_000 };
    expect(plausibilityViolations(saleDayGone, lastNight, limits, 'USD')).toEqual([]);
    const violations = plausibilityViolations({ ...saleDayGone, revenue12mMinor: 400_000_000 }, lastNight, limits, 'USD');
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({ check: 'revenue12m', tonight: 600_000_000, lastNight: 800_000_000 });
    expect(violations[0]?.message).toBe(
      '12-month revenue fell by 25% since 2026-03-01 (USD 6,000,000.00 counting the USD 2,000,000.00 of orders that left the 12-month window since then against USD 8,000,000.00), more than the 20% allowed',
    );
  });

  it('writes a fall that is not a whole percentage with one decimal', () => {
    const [violation] = plausibilityViolations({ ...unchanged(lastNight), clients: 7_350 }, lastNight, limits, 'USD');
    expect(violation?.message).toContain('clients fell by 26.5% since 2026-03-01 (7,350 against 10,000)');
  });

  it('reports every figure that fell, one violation each', () => {
    const tonight = { clients: 1, orderLines: 1, revenue12mMinor: 1, buyers: 1, downgrades: 0, upgrades: 0, unexplainedLapses: 0, newlyAbsent: 0 };
    expect(plausibilityViolations(tonight, lastNight, limits, 'USD').map((v) => v.check)).toEqual(['clients', 'orderLines', 'revenue12m']);
  });

  it('lets a fall of exactly the allowed share pass, and fails one line more', () => {
    expect(plausibilityViolations({ ...unchanged(lastNight), clients: 8_000, orderLines: 40_000, revenue12mMinor: 640_000_000 }, lastNight, limits, 'USD')).toEqual([]);
    expect(plausibilityViolations({ ...unchanged(lastNight), orderLines: 39_999 }, lastNight, limits, 'USD').map((v) => v.check)).toEqual(['orderLines']);
  });

  it('does not compare the buyers as a figure: fewer buyers alone is no violation', () => {
    expect(plausibilityViolations({ ...unchanged(lastNight), buyers: 1 }, lastNight, limits, 'USD')).toEqual([]);
  });

  it('fails a night that would downgrade more than the allowed share of last night\u2019s buyers, and lets exactly that share pass', () => {
    expect(plausibilityViolations({ ...unchanged(lastNight), downgrades: 200 }, lastNight, limits, 'USD')).toEqual([]);
    const violations = plausibilityViolations({ ...unchanged(lastNight), downgrades: 201 }, lastNight, limits, 'USD');
    expect(violations).toEqual([
      {
        check: 'downgrades',
        tonight: 201,
        lastNight: 4_000,
        limit: 0.05,
        message: '201 clients would move down a tier, 5.03% of the 4,000 buyers of 2026-03-01, more than the 5% allowed',
      },
    ]);
  });

  it('never divides by a last night\u2019s zero: figures of 0 are not compared and the messages hold no NaN or Infinity', () => {
    const empty: LastNight = { runDate: '2026-03-01', clients: 0, orderLines: 0, revenue12mMinor: 0, buyers: 0 };
    expect(plausibilityViolations({ clients: 0, orderLines: 0, revenue12mMinor: 0, buyers: 0, downgrades: 0, upgrades: 0, unexplainedLapses: 0, newlyAbsent: 0 }, empty, limits, 'USD')).toEqual([]);
    expect(plausibilityViolations({ clients: 0, orderLines: 0, revenue12mMinor: 0, buyers: 0, downgrades: 50, upgrades: 0, unexplainedLapses: 0, newlyAbsent: 0 }, empty, limits, 'USD')).toEqual([]);
    fc.assert(
      fc.property(figures, figures, fc.nat({ max: 1_000 }), fc.nat({ max: 1_000 }), fc.nat({ max: 1_000 }), (last, tonight, downgrades, upgrades, unexplainedLapses) => {
        for (const v of plausibilityViolations({ ...tonight, downgrades, upgrades, unexplainedLapses, newlyAbsent: 0 }, { ...last, runDate: '2026-03-01' }, limits, 'USD')) {
          expect(v.message).not.toMatch(/NaN|Infinity/);
          expect(v.lastNight).toBeGreaterThan(0);
        }
      }),
    );
  });

  it('always fails the run when more than the allowed share of order lines was removed', () => {
    fc.assert(
      fc.property(
        figures.filter((f) => f.orderLines >= 1),
        runDate,
        fc.double({ min: limits.maxDropShare, max: 1, minExcluded: true, noNaN: true }),
        (figuresOfLast, date, share) => {
          const last: LastNight = { ...figuresOfLast, runDate: date };
          const orderLines = Math.floor(last.orderLines * (1 - share));
          fc.pre(orderLines < last.orderLines * (1 - limits.maxDropShare));
          const violations = plausibilityViolations({ ...unchanged(last), orderLines }, last, limits, 'USD');
          expect(violations.map((v) => v.check)).toEqual(['orderLines']);
          expect(violations[0]).toMatchObject({ tonight: orderLines, lastNight: last.orderLines, limit: limits.maxDropShare });
          expect(violations[0]?.message).toContain(`since ${date}`);
        },
      ),
    );
  });

  it('never fails a night whose figures all held or grew and that moves nobody', () => {
    fc.assert(
      fc.property(figures, figures, runDate, (last, growth, date) => {
        const tonight = {
          clients: last.clients + growth.clients,
          orderLines: last.orderLines + growth.orderLines,
          revenue12mMinor: last.revenue12mMinor + growth.revenue12mMinor,
          buyers: growth.buyers,
          downgrades: 0,
          upgrades: 0,
          unexplainedLapses: 0,
          newlyAbsent: 0,
        };
        expect(plausibilityViolations(tonight, { ...last, runDate: date }, limits, 'USD')).toEqual([]);
      }),
    );
  });
});

describe('plausibilityViolations at limits without an exact binary form', () => {
  const last = { runDate: '2026-03-01', clients: 100, orderLines: 100, revenue12mMinor: 100, buyers: 700 };
  it('lets a fall of exactly 45% pass when 45% is allowed (100 * (1 - 0.45) is not 55 in floating point)', () => {
    const tonight = { clients: 55, orderLines: 100, revenue12mMinor: 100, buyers: 700, downgrades: 0, upgrades: 0, unexplainedLapses: 0, newlyAbsent: 0 };
    expect(plausibilityViolations(tonight, last, { ...limits, maxDropShare: 0.45 }, 'USD')).toEqual([]);
    expect(plausibilityViolations({ ...tonight, clients: 54 }, last, { ...limits, maxDropShare: 0.45 }, 'USD').map((v) => v.check)).toEqual(['clients']);
  });
  it('lets exactly 70% of the buyers move down when 70% is allowed', () => {
    const tonight = { clients: 100, orderLines: 100, revenue12mMinor: 100, buyers: 700, downgrades: 490, upgrades: 0, unexplainedLapses: 0, newlyAbsent: 0 };
    expect(plausibilityViolations(tonight, last, { ...limits, maxDowngradeShare: 0.7 }, 'USD')).toEqual([]);
    expect(plausibilityViolations({ ...tonight, downgrades: 491 }, last, { ...limits, maxDowngradeShare: 0.7 }, 'USD').map((v) => v.check)).toEqual(['downgrades']);
  });
});

describe('unexplainedLapse', () => {
  const lifecycle = parseConfig({}).lifecycle;
  const day = 86_400_000;
  /** Tonight's clock: 2026-11-21 00:00 UTC; the last completed night one day before. */
  const now = Date.parse('2026-11-21T00:00:00Z');
  const clock: LapseClock = { runDate: '2026-11-20', now, daysSinceLastNight: 1, lifecycle };
  const lastOrderAt = now - 10 * day;
  const before: OrdersBefore = { stage: 'active', orderCount: 6, lastOrderAt };
  const same: OrdersTonight = { orderCount: 6, lastOrderAt, daysSinceLast: 10 };
  /** The stage the stored state held for `daysSinceLast` days last night, as far as lapses go. */
  const stageAt = (daysSinceLast: number): OrdersBefore['stage'] => (['active', 'sleeping', 'churned'] as const)[lapseDepth(daysSinceLast, lifecycle)];

  it('counts a buyer whose latest orders vanished: the last order earlier, or gone', () => {
    expect(unexplainedLapse(before, { orderCount: 5, lastOrderAt: lastOrderAt - 61 * day, daysSinceLast: 71 }, clock)).toBe(true);
    expect(unexplainedLapse(before, { orderCount: 0 }, clock)).toBe(true);
  });

  it('counts a buyer with fewer orders counted, the last one unchanged (an older order vanished)', () => {
    expect(unexplainedLapse(before, { ...same, orderCount: 5 }, clock)).toBe(true);
  });

  it('does not count the same orders a day later, a new order, or a prospect', () => {
    expect(unexplainedLapse(before, { ...same, daysSinceLast: 11 }, clock)).toBe(false);
    expect(unexplainedLapse(before, { orderCount: 7, lastOrderAt: now - day, daysSinceLast: 1 }, clock)).toBe(false);
    expect(unexplainedLapse({ stage: 'prospect', orderCount: 0 }, { orderCount: 0 }, clock)).toBe(false);
  });

  it('does not count an order past tonight\u2019s clock that an intraday increment merged into the stored profile', () => {
    expect(unexplainedLapse({ stage: 'active', orderCount: 7, lastOrderAt: now + 3_600_000 }, same, clock)).toBe(false);
  });

  it('counts a move to sleeping that the last night should have seen already (the stage rules changed), not one the day explains', () => {
    const sixtyDays = { orderCount: 6, lastOrderAt: now - 61 * day, daysSinceLast: 61 };
    // 60 days without an order last night, 61 tonight: sleeping since tonight.
    expect(unexplainedLapse({ stage: 'at-risk', orderCount: 6, lastOrderAt: now - 61 * day }, { ...sixtyDays, daysSinceLast: 60 }, clock)).toBe(false);
    // Sleeping from 30 days on: 60 days last night were sleeping already, and that night said at-risk.
    const lowered = { ...clock, lifecycle: { ...lifecycle, sleepingDays: 30 } };
    expect(unexplainedLapse({ stage: 'at-risk', orderCount: 6, lastOrderAt: now - 61 * day }, sixtyDays, lowered)).toBe(true);
  });

  it('does not count the lapse of a client back after nights that lacked them (their stage stood still), but still counts their lost orders', () => {
    // Active when the exports last had them, 70 days without an order tonight: time explains it.
    const returning: OrdersBefore = { stage: 'active', orderCount: 6, lastOrderAt: now - 70 * day, absentSince: '2026-11-01' };
    expect(unexplainedLapse(returning, { orderCount: 6, lastOrderAt: now - 70 * day, daysSinceLast: 70 }, clock)).toBe(false);
    expect(unexplainedLapse(returning, { orderCount: 5, lastOrderAt: now - 70 * day, daysSinceLast: 70 }, clock)).toBe(true);
    // A mark an earlier attempt of this same night made is no absence before it: the lapse counts.
    expect(unexplainedLapse({ ...returning, absentSince: clock.runDate }, { orderCount: 6, lastOrderAt: now - 70 * day, daysSinceLast: 70 }, clock)).toBe(true);
  });

  it('never counts a buyer whose orders are as last night\u2019s, whose stage the rules gave last night, however many days passed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000 }), fc.integer({ min: 0, max: 400 }), fc.integer({ min: 1, max: 50 }), (daysLastNight, passed, orders) => {
        const at = now - (daysLastNight + passed) * day;
        const stored: OrdersBefore = { stage: stageAt(daysLastNight), orderCount: orders, lastOrderAt: at };
        const tonight: OrdersTonight = { orderCount: orders, lastOrderAt: at, daysSinceLast: daysLastNight + passed };
        expect(unexplainedLapse(stored, tonight, { ...clock, daysSinceLastNight: passed })).toBe(false);
      }),
    );
  });

  it('always counts a buyer whose last order moved earlier or whose order count fell', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 400 * day }), fc.integer({ min: 0, max: 400 * day }), fc.integer({ min: 1, max: 50 }), fc.boolean(), (earlier, age, orders, countFalls) => {
        const stored: OrdersBefore = { stage: 'active', orderCount: orders, lastOrderAt: now - 1 - age };
        const tonight: OrdersTonight = countFalls ? { orderCount: orders - 1, lastOrderAt: now - 1 - age } : { orderCount: orders, lastOrderAt: now - 1 - age - earlier };
        expect(unexplainedLapse(stored, tonight, clock)).toBe(true);
      }),
    );
  });
});

describe('plausibilityViolations on unexplained lapses', () => {
  it('fails a night whose buyers lapse beyond what time explains for more than the allowed share, and lets exactly that share pass', () => {
    expect(plausibilityViolations({ ...unchanged(lastNight), unexplainedLapses: 80 }, lastNight, limits, 'USD')).toEqual([]);
    expect(plausibilityViolations({ ...unchanged(lastNight), unexplainedLapses: 81 }, lastNight, limits, 'USD')).toEqual([
      {
        check: 'unexplainedLapses',
        tonight: 81,
        lastNight: 4_000,
        limit: 0.02,
        message:
          '81 clients would lose orders or lapse further than the days since 2026-03-01 explain (an earlier last order, fewer orders, or sleeping or churned sooner), ' +
          '2.02% of the 4,000 buyers of 2026-03-01, more than the 2% allowed',
      },
    ]);
  });
});

describe('plausibilityViolations on clients absent from the export', () => {
  it('fails a night whose export has more than the allowed share of last night\u2019s clients in no file, counted against all its clients', () => {
    // 2% of the 10,000 clients (not of the 4,000 buyers: a prospect can vanish too).
    expect(plausibilityViolations({ ...unchanged(lastNight), newlyAbsent: 200 }, lastNight, limits, 'USD')).toEqual([]);
    expect(plausibilityViolations({ ...unchanged(lastNight), newlyAbsent: 201 }, lastNight, limits, 'USD')).toEqual([
      {
        check: 'newlyAbsent',
        tonight: 201,
        lastNight: 10_000,
        limit: 0.02,
        message: "201 clients are in no file of tonight's export (no customer row, no order line), 2.01% of the 10,000 clients of 2026-03-01, more than the 2% allowed",
      },
    ]);
  });

  it('ignores the clients missing since an earlier night: only tonight\u2019s new absences are a sign of a broken export', () => {
    expect(plausibilityViolations({ ...unchanged(lastNight), newlyAbsent: 0, stillAbsent: 9_000 }, lastNight, limits, 'USD')).toEqual([]);
  });
});

describe('plausibilityViolations on contact details', () => {
  it('fails a night that would give consent back to more than the allowed share of last night\u2019s clients, counted against all its clients', () => {
    expect(plausibilityViolations({ ...unchanged(lastNight), consentGivenBack: 200 }, lastNight, limits, 'USD')).toEqual([]);
    expect(plausibilityViolations({ ...unchanged(lastNight), consentGivenBack: 201 }, lastNight, limits, 'USD')).toEqual([
      {
        check: 'consentGivenBack',
        tonight: 201,
        lastNight: 10_000,
        limit: 0.02,
        message:
          "201 clients would be given marketing consent by tonight's customers rows though their profile holds none (a no, or never a yes), " +
          '2.01% of the 10,000 clients of 2026-03-01, more than the 2% allowed',
      },
    ]);
  });

  it('fails a night that would replace the addresses of more than the allowed share of last night\u2019s clients', () => {
    expect(plausibilityViolations({ ...unchanged(lastNight), addressesChanged: 500 }, lastNight, limits, 'USD')).toEqual([]);
    expect(plausibilityViolations({ ...unchanged(lastNight), addressesChanged: 10_000 }, lastNight, limits, 'USD')).toEqual([
      {
        check: 'addressesChanged',
        tonight: 10_000,
        lastNight: 10_000,
        limit: 0.05,
        message:
          "10,000 clients would have their stored email address replaced by another by tonight's customers rows (their emails would go to it), " +
          '100% of the 10,000 clients of 2026-03-01, more than the 5% allowed',
      },
    ]);
  });

  it('reads figures of an earlier version, without the contact moves, as none', () => {
    const { consentGivenBack: _c, addressesChanged: _a, ...earlier } = { ...unchanged(lastNight), consentGivenBack: 0, addressesChanged: 0 };
    expect(plausibilityViolations(earlier, lastNight, limits, 'USD')).toEqual([]);
  });

  it('leaves the clients erased since the last night out of the clients the moves are counted against', () => {
    const erased = { erasedSinceLastNight: 5_000, erasedSinceLastNightRevenue12mMinor: 0, erasedSinceLastNightBuyers: 0 };
    expect(plausibilityViolations({ ...unchanged(lastNight), clients: 5_000, addressesChanged: 251, ...erased }, lastNight, limits, 'USD').map((v) => [v.check, v.lastNight])).toEqual([
      ['addressesChanged', 5_000],
    ]);
  });
});

describe('plausibilityViolations in a small base', () => {
  const small: LastNight = { runDate: '2026-03-21', clients: 30, orderLines: 30, revenue12mMinor: 1_500_000, buyers: 30 };
  const moves = ['downgrades', 'upgrades', 'unexplainedLapses', 'newlyAbsent', 'consentGivenBack', 'addressesChanged'] as const;

  it('refuses no move of fewer than ten clients, whatever their share (two repeat purchases among 30 buyers, one refund)', () => {
    expect(MIN_CLIENTS_MOVED).toBe(10);
    expect(plausibilityViolations({ ...unchanged(small), upgrades: 2 }, small, limits, 'USD')).toEqual([]);
    expect(plausibilityViolations({ ...unchanged(small), unexplainedLapses: 1 }, small, limits, 'USD')).toEqual([]);
    for (const move of moves) expect(plausibilityViolations({ ...unchanged(small), [move]: MIN_CLIENTS_MOVED - 1 }, small, limits, 'USD'), move).toEqual([]);
  });

  it('refuses every move of ten clients or more above its share, as in a large base', () => {
    for (const move of moves) {
      expect(plausibilityViolations({ ...unchanged(small), [move]: MIN_CLIENTS_MOVED }, small, limits, 'USD').map((v) => [v.check, v.tonight]), move).toEqual([[move, MIN_CLIENTS_MOVED]]);
    }
  });

  it('still refuses a fall of the figures however small the base (the floor is for the moves)', () => {
    expect(plausibilityViolations({ ...unchanged(small), clients: 20 }, small, limits, 'USD').map((v) => v.check)).toEqual(['clients']);
  });
});

describe('addShardFigures and the contact moves', () => {
  it('adds up each shard\u2019s counts, a shard\u2019s figures of an earlier version counting none', () => {
    const shard = (consentGivenBack: number, addressesChanged: number): ShardFigures => ({ ...emptyShardFigures(), consentGivenBack, addressesChanged });
    const { consentGivenBack: _c, addressesChanged: _a, ...earlier } = shard(0, 0);
    expect(addShardFigures([shard(3, 1), shard(4, 0), earlier as ShardFigures])).toMatchObject({ consentGivenBack: 7, addressesChanged: 1 });
  });
});

describe('withAbsentBeforeMarking: after a last night of a version before absence marks', () => {
  const before: LastNight = { ...lastNight, beforeAbsenceMarks: true };
  it('counts as newly absent only the clients of that night tonight lacks; the others it never marked are marked, not counted', () => {
    // 10,000 clients last night; 9,950 of them tonight; 450 unmarked in no file: 50 lost tonight, 400 missing before.
    const tonight = withAbsentBeforeMarking({ ...unchanged(lastNight), clients: 9_950, newlyAbsent: 450, seenBefore: 9_950 }, before);
    expect(tonight).toMatchObject({ newlyAbsent: 50, absentBeforeMarking: 400 });
    expect(plausibilityViolations(tonight, before, limits, 'USD')).toEqual([]);
  });

  it('still refuses an export that lost more than the allowed share that night', () => {
    const tonight = withAbsentBeforeMarking({ ...unchanged(lastNight), clients: 9_700, newlyAbsent: 700, seenBefore: 9_700 }, before);
    expect(tonight).toMatchObject({ newlyAbsent: 300, absentBeforeMarking: 400 });
    expect(plausibilityViolations(tonight, before, limits, 'USD').map((v) => v.check)).toEqual(['newlyAbsent']);
  });

  it('changes nothing after a night of a version that marks, nor when a shard\'s figures do not say who was seen before', () => {
    const figures = { ...unchanged(lastNight), newlyAbsent: 450, seenBefore: 9_950 };
    expect(withAbsentBeforeMarking(figures, lastNight)).toBe(figures);
    const { seenBefore: _unknown, ...older } = figures;
    expect(withAbsentBeforeMarking(older, before)).toBe(older);
    expect(withAbsentBeforeMarking(figures, undefined)).toBe(figures);
  });
});

describe('plausibilityViolations on upgrades', () => {
  it('fails a night that would move up more than the allowed share of last night\u2019s buyers, as it does with downgrades', () => {
    expect(plausibilityViolations({ ...unchanged(lastNight), upgrades: 200 }, lastNight, limits, 'USD')).toEqual([]);
    expect(plausibilityViolations({ ...unchanged(lastNight), upgrades: 201 }, lastNight, limits, 'USD')).toEqual([
      {
        check: 'upgrades',
        tonight: 201,
        lastNight: 4_000,
        limit: 0.05,
        message: '201 clients would move up a tier, 5.03% of the 4,000 buyers of 2026-03-01, more than the 5% allowed',
      },
    ]);
  });

  it('treats both directions alike: the same count fails or passes whichever way the clients move', () => {
    const symmetric = { ...limits, maxUpgradeShare: limits.maxDowngradeShare };
    fc.assert(
      fc.property(figures.filter((f) => f.buyers > 0), fc.nat({ max: 10_000_000 }), (figuresOfLast, moved) => {
        const last = { ...figuresOfLast, runDate: '2026-03-01' };
        const down = plausibilityViolations({ ...unchanged(last), downgrades: moved }, last, symmetric, 'USD');
        const up = plausibilityViolations({ ...unchanged(last), upgrades: moved }, last, symmetric, 'USD');
        expect(up.map((v) => v.check === 'upgrades')).toEqual(down.map((v) => v.check === 'downgrades'));
      }),
    );
  });
});

describe('ruleChanges', () => {
  const rules = nightRules(parseConfig({}));

  it('finds nothing between the same rules, and ignores the rest of the configuration', () => {
    expect(ruleChanges(rules, nightRules(parseConfig({ maxRejectShare: 0.1, plausibility: { maxDropShare: 0.5 } })))).toEqual([]);
  });

  it('names each value that changed, with what it was and is, a rate added or removed as none', () => {
    const edited = nightRules(parseConfig({ currency: 'EUR', exchangeRates: { CNY: '0.13' }, tiers: { vic: '40000', core: '3000', potential: '1000' }, lifecycle: { sleepingDays: 30 } }));
    expect(ruleChanges(rules, edited)).toEqual(['currency USD → EUR', 'exchangeRates.CNY none → 0.13', 'tiers.vic 50000 → 40000', 'tiers.core 5000 → 3000', 'lifecycle.sleepingDays 60 → 30']);
    expect(ruleChanges(edited, rules)).toContain('exchangeRates.CNY 0.13 → none');
  });
});

describe('catalogueViolations', () => {
  it('refuses a catalogue falling by more than maxDropShare, naming what it was and what it would be', () => {
    expect(catalogueViolations({ productSkus: 32, storedSkus: 40 }, limits)).toEqual([]);
    expect(catalogueViolations({ productSkus: 50, storedSkus: 40 }, limits)).toEqual([]);
    expect(catalogueViolations({ productSkus: 2, storedSkus: 0 }, limits)).toEqual([]);
    expect(catalogueViolations({ productSkus: 31, storedSkus: 40 }, limits)).toEqual([
      { check: 'catalogue', tonight: 31, lastNight: 40, limit: 0.2, message: 'the products catalogue would fall by 22.5% (was 40 SKUs, now 31), more than the 20% allowed' },
    ]);
  });
});

describe('catalogueViolations and the SKUs with a cycle', () => {
  it('refuses products whose SKUs with a replenishment cycle fall by more than maxDropShare (a renamed replenish_days column), once the SKUs themselves passed', () => {
    expect(catalogueViolations({ productSkus: 40, storedSkus: 40, productCycleSkus: 0, storedCycleSkus: 30 }, limits)).toEqual([
      {
        check: 'catalogue-cycles',
        tonight: 0,
        lastNight: 30,
        limit: 0.2,
        message: 'the products with a replenishment cycle (replenish_days) would fall by 100% (were 30 SKUs, now 0), more than the 20% allowed',
      },
    ]);
    expect(catalogueViolations({ productSkus: 40, storedSkus: 40, productCycleSkus: 24, storedCycleSkus: 30 }, limits)).toEqual([]);
    // A catalogue that had none, or figures of an earlier version: not compared.
    expect(catalogueViolations({ productSkus: 40, storedSkus: 40, productCycleSkus: 0, storedCycleSkus: 0 }, limits)).toEqual([]);
    expect(catalogueViolations({ productSkus: 40, storedSkus: 40 }, limits)).toEqual([]);
    // Lost with their SKUs: the catalogue's refusal alone.
    expect(catalogueViolations({ productSkus: 2, storedSkus: 40, productCycleSkus: 2, storedCycleSkus: 40 }, limits).map((v) => v.check)).toEqual(['catalogue']);
  });
});

describe('addShardFigures and the products count', () => {
  const shard = (productSkus: number | undefined): ShardFigures => {
    const { productSkus: _none, ...figures } = emptyShardFigures();
    return { ...figures, clients: 10, ...(productSkus === undefined ? {} : { productSkus }) };
  };
  it('takes the largest SKU count (every shard reads the products), and none when a shard\'s figures predate it', () => {
    expect(addShardFigures([shard(40), shard(40)])).toMatchObject({ clients: 20, productSkus: 40 });
    const mixed = addShardFigures([shard(40), shard(undefined)]);
    expect(mixed.clients).toBe(20);
    expect(mixed.productSkus).toBeUndefined();
  });
  it('adds up the clients seen before, and has none when a shard\'s figures predate the count', () => {
    expect(addShardFigures([{ ...shard(1), seenBefore: 3 }, { ...shard(1), seenBefore: 4 }])).toMatchObject({ seenBefore: 7 });
    const { seenBefore: _none, ...older } = shard(1);
    expect(addShardFigures([{ ...shard(1), seenBefore: 3 }, older]).seenBefore).toBeUndefined();
  });
  it('adds up the revenue that left the window, a shard\'s figures of an earlier version (an upgrade mid-night) counting none', () => {
    expect(addShardFigures([{ ...shard(1), revenueLeftWindowMinor: 300 }, { ...shard(1), revenueLeftWindowMinor: 200 }]).revenueLeftWindowMinor).toBe(500);
    const { revenueLeftWindowMinor: _none, ...older } = shard(1);
    expect(addShardFigures([{ ...shard(1), revenueLeftWindowMinor: 300 }, older as ShardFigures]).revenueLeftWindowMinor).toBe(300);
  });
});
