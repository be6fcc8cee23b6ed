import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '#shared/config.ts';
import { plausibilityViolations, type LastNight, type NightFigures } from '#shared/nightly/guards.ts';

/** The configuration's defaults: 20 % drop, 5 % downgrades. */
const limits = parseConfig({}).plausibility;

const lastNight: LastNight = { runDate: '2026-03-01', clients: 10_000, orderLines: 50_000, revenue12mMinor: 800_000_000, buyers: 4_000 };

/** Tonight as last night was, nobody moving down. */
const unchanged = (last: NightFigures): NightFigures & { downgrades: number } => ({
  clients: last.clients,
  orderLines: last.orderLines,
  revenue12mMinor: last.revenue12mMinor,
  buyers: last.buyers,
  downgrades: 0,
});

const figures = fc.record({
  clients: fc.nat({ max: 10_000_000 }),
  orderLines: fc.nat({ max: 100_000_000 }),
  revenue12mMinor: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  buyers: fc.nat({ max: 10_000_000 }),
});
const runDate = fc.constantFrom('2026-01-31', '2026-02-28', '2026-03-01');

describe('plausibilityViolations', () => {
  it('uses the configured defaults of a 20 % drop and 5 % downgrades', () => {
    expect(limits).toEqual({ maxDropShare: 0.2, maxDowngradeShare: 0.05 });
  });

  it('finds nothing on a first night, however small tonight is and however many move down', () => {
    expect(plausibilityViolations({ clients: 0, orderLines: 0, revenue12mMinor: 0, buyers: 0, downgrades: 1_000 }, undefined, limits)).toEqual([]);
  });

  it('finds nothing when tonight is as last night was', () => {
    expect(plausibilityViolations(unchanged(lastNight), lastNight, limits)).toEqual([]);
  });

  it('fails a night whose clients fell by more than the allowed share, naming the figure and the last night', () => {
    const violations = plausibilityViolations({ ...unchanged(lastNight), clients: 7_000 }, lastNight, limits);
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
    const violations = plausibilityViolations({ ...unchanged(lastNight), orderLines: 25_000 }, lastNight, limits);
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({ check: 'orderLines', tonight: 25_000, lastNight: 50_000, limit: 0.2 });
    expect(violations[0]?.message).toBe('order lines fell by 50% since 2026-03-01 (25,000 against 50,000), more than the 20% allowed');
  });

  it('fails a night whose 12-month revenue fell by more than the allowed share, naming the figure and the last night', () => {
    const violations = plausibilityViolations({ ...unchanged(lastNight), revenue12mMinor: 600_000_000 }, lastNight, limits);
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({ check: 'revenue12m', tonight: 600_000_000, lastNight: 800_000_000, limit: 0.2 });
    expect(violations[0]?.message).toContain('12-month revenue fell by 25% since 2026-03-01');
  });

  it('writes a fall that is not a whole percentage with one decimal', () => {
    const [violation] = plausibilityViolations({ ...unchanged(lastNight), clients: 7_350 }, lastNight, limits);
    expect(violation?.message).toContain('clients fell by 26.5% since 2026-03-01 (7,350 against 10,000)');
  });

  it('reports every figure that fell, one violation each', () => {
    const tonight = { clients: 1, orderLines: 1, revenue12mMinor: 1, buyers: 1, downgrades: 0 };
    expect(plausibilityViolations(tonight, lastNight, limits).map((v) => v.check)).toEqual(['clients', 'orderLines', 'revenue12m']);
  });

  it('lets a fall of exactly the allowed share pass, and fails one line more', () => {
    expect(plausibilityViolations({ ...unchanged(lastNight), clients: 8_000, orderLines: 40_000, revenue12mMinor: 640_000_000 }, lastNight, limits)).toEqual([]);
    expect(plausibilityViolations({ ...unchanged(lastNight), orderLines: 39_999 }, lastNight, limits).map((v) => v.check)).toEqual(['orderLines']);
  });

  it('does not compare the buyers as a figure: fewer buyers alone is no violation', () => {
    expect(plausibilityViolations({ ...unchanged(lastNight), buyers: 1 }, lastNight, limits)).toEqual([]);
  });

  it('fails a night that would downgrade more than the allowed share of last night\u2019s buyers, and lets exactly that share pass', () => {
    expect(plausibilityViolations({ ...unchanged(lastNight), downgrades: 200 }, lastNight, limits)).toEqual([]);
    const violations = plausibilityViolations({ ...unchanged(lastNight), downgrades: 201 }, lastNight, limits);
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
    expect(plausibilityViolations({ clients: 0, orderLines: 0, revenue12mMinor: 0, buyers: 0, downgrades: 0 }, empty, limits)).toEqual([]);
    expect(plausibilityViolations({ clients: 0, orderLines: 0, revenue12mMinor: 0, buyers: 0, downgrades: 50 }, empty, limits)).toEqual([]);
    fc.assert(
      fc.property(figures, figures, fc.nat({ max: 1_000 }), (last, tonight, downgrades) => {
        for (const v of plausibilityViolations({ ...tonight, downgrades }, { ...last, runDate: '2026-03-01' }, limits)) {
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
          const violations = plausibilityViolations({ ...unchanged(last), orderLines }, last, limits);
          expect(violations.map((v) => v.check)).toEqual(['orderLines']);
          expect(violations[0]).toMatchObject({ tonight: orderLines, lastNight: last.orderLines, limit: limits.maxDropShare });
          expect(violations[0]?.message).toContain(`since ${date}`);
        },
      ),
    );
  });

  it('never fails a night whose figures all held or grew and that downgrades nobody', () => {
    fc.assert(
      fc.property(figures, figures, runDate, (last, growth, date) => {
        const tonight = {
          clients: last.clients + growth.clients,
          orderLines: last.orderLines + growth.orderLines,
          revenue12mMinor: last.revenue12mMinor + growth.revenue12mMinor,
          buyers: growth.buyers,
          downgrades: 0,
        };
        expect(plausibilityViolations(tonight, { ...last, runDate: date }, limits)).toEqual([]);
      }),
    );
  });
});

describe('plausibilityViolations at limits without an exact binary form', () => {
  const last = { runDate: '2026-03-01', clients: 100, orderLines: 100, revenue12mMinor: 100, buyers: 700 };
  it('lets a fall of exactly 45% pass when 45% is allowed (100 * (1 - 0.45) is not 55 in floating point)', () => {
    const tonight = { clients: 55, orderLines: 100, revenue12mMinor: 100, buyers: 700, downgrades: 0 };
    expect(plausibilityViolations(tonight, last, { maxDropShare: 0.45, maxDowngradeShare: 0.05 })).toEqual([]);
    expect(plausibilityViolations({ ...tonight, clients: 54 }, last, { maxDropShare: 0.45, maxDowngradeShare: 0.05 }).map((v) => v.check)).toEqual(['clients']);
  });
  it('lets exactly 70% of the buyers move down when 70% is allowed', () => {
    const tonight = { clients: 100, orderLines: 100, revenue12mMinor: 100, buyers: 700, downgrades: 490 };
    expect(plausibilityViolations(tonight, last, { maxDropShare: 0.2, maxDowngradeShare: 0.7 })).toEqual([]);
    expect(plausibilityViolations({ ...tonight, downgrades: 491 }, last, { maxDropShare: 0.2, maxDowngradeShare: 0.7 }).map((v) => v.check)).toEqual(['downgrades']);
  });
});
