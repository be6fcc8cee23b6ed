import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dueOccasions } from '#shared/campaigns/due.ts';
import { parseConfig, type Config } from '#shared/config.ts';
import { CHURN_RISKS, STAGES, TIERS, type ClientClv, type ClientProfile, type TierChange } from '#shared/model.ts';
import {
  BOOK_REASONS,
  birthdayBetween,
  birthdayIn,
  buildAdvisorBook,
  type AdvisorBookInput,
  type BookReason,
} from '#shared/advisors/book.ts';
import { runClock } from '#shared/tiering/profile.ts';
import { addDays } from '#shared/time.ts';
import { CATALOG } from '#test/unit/shared/campaigns/fixtures.ts';
import { clientProfile } from '#test/support/profiles.ts';
import { at, iso } from '#test/support/time.ts';

const CONFIG: Config = parseConfig({});
// A Monday; the nightly run of that date has the end of the day (Shanghai) as its clock.
const RUN_DATE = '2026-11-23';

const VIC_SPEND = 6_000_000;
const CORE_SPEND = 800_000;

function clv(fields: Partial<ClientClv> = {}): ClientClv {
  return {
    probabilityAlive: 0.9,
    expectedPurchases90d: 1,
    expectedPurchases365d: 4,
    expectedAverageOrderValueMinor: 200_000,
    clv12mMinor: 800_000,
    rising: false,
    churnRisk: 'low',
    ...fields,
  };
}

/** An active Core client of advisor A1 who ordered last week: nothing to say about them unless told. */
function client(customerId: string, fields: Partial<ClientProfile> = {}): ClientProfile {
  return clientProfile({
    customerId,
    email: `${customerId}@example.com`,
    firstName: `First ${customerId}`,
    lastName: `Last ${customerId}`,
    advisorId: 'A1',
    tier: 'Core',
    stage: 'active',
    spend12mMinor: CORE_SPEND,
    firstOrderAt: iso(at('2025-06-01T10:00')),
    lastOrderAt: iso(at('2026-11-16T10:00')),
    usualReorderGapDays: 40,
    ...fields,
  });
}

function book(profiles: ClientProfile[], overrides: Partial<AdvisorBookInput> = {}) {
  const runDate = overrides.runDate ?? RUN_DATE;
  return buildAdvisorBook({
    advisorId: 'A1',
    profiles,
    runDate,
    now: runClock(runDate, CONFIG.timeZone).now,
    config: CONFIG,
    catalog: CATALOG,
    recentTierChanges: [],
    ...overrides,
  });
}

const reasonsOf = (b: ReturnType<typeof book>, customerId: string): BookReason[] | undefined =>
  b.rows.find((r) => r.customerId === customerId)?.reasons;
const kindsOf = (b: ReturnType<typeof book>, customerId: string) => reasonsOf(b, customerId)?.map((r) => r.kind);

describe('birthdays', () => {
  it('celebrates Feb 29 on Feb 28 in a non-leap year, and on the day in a leap year', () => {
    expect(birthdayIn('1992-02-29', 2027)).toBe('2027-02-28');
    expect(birthdayIn('02-29', 2028)).toBe('2028-02-29');
    expect(birthdayIn('12-31', 2026)).toBe('2026-12-31');
    expect(birthdayIn('02-30', 2026)).toBeUndefined();
    expect(birthdayIn('13-01', 2026)).toBeUndefined();
    expect(birthdayIn('birthday', 2026)).toBeUndefined();
  });

  it('finds the birthday in a week across New Year, in either year', () => {
    expect(birthdayBetween('01-02', '2026-12-29', '2027-01-04')).toBe('2027-01-02');
    expect(birthdayBetween('1980-12-30', '2026-12-29', '2027-01-04')).toBe('2026-12-30');
    expect(birthdayBetween('1980-12-28', '2026-12-29', '2027-01-04')).toBeUndefined();
  });

  it('lists birthdays in the 7 days after the run date, both formats, first and last day included', () => {
    const b = book([
      client('today', { birthday: '1985-11-23' }), // the run date itself: already past when the digest is read
      client('first', { birthday: '1985-11-24' }),
      client('last', { birthday: '11-30' }),
      client('after', { birthday: '12-01' }),
    ]);
    expect(b.week).toEqual({ from: '2026-11-24', to: '2026-11-30' });
    expect(b.rows.map((r) => r.customerId).sort()).toEqual(['first', 'last']);
    expect(reasonsOf(b, 'first')).toEqual([{ kind: 'birthday', action: 'birthday-note', date: '2026-11-24' }]);
    expect(reasonsOf(b, 'last')).toEqual([{ kind: 'birthday', action: 'birthday-note', date: '2026-11-30' }]);
  });

  it('gives a VIC a birthday gift, and finds Feb 29 birthdays on Feb 28 of a non-leap year', () => {
    const b = book([client('leap', { tier: 'VIC', spend12mMinor: VIC_SPEND, birthday: '1992-02-29' })], { runDate: '2027-02-24' });
    expect(reasonsOf(b, 'leap')).toEqual([{ kind: 'birthday', action: 'birthday-gift', date: '2027-02-28' }]);
  });
});

describe('lapsed VICs and tiers at risk', () => {
  it('a sleeping or churned VIC, or one past their usual gap, is a lapsed VIC to call', () => {
    const b = book([
      client('sleeping', { tier: 'VIC', spend12mMinor: VIC_SPEND, stage: 'sleeping', lastOrderAt: iso(at('2026-09-01T10:00')) }),
      client('churned', { tier: 'VIC', spend12mMinor: VIC_SPEND, stage: 'churned', lastOrderAt: iso(at('2026-04-01T10:00')) }),
      client('late', { tier: 'VIC', spend12mMinor: VIC_SPEND, stage: 'at-risk', usualReorderGapDays: 30, lastOrderAt: iso(at('2026-10-01T10:00')) }),
    ]);
    expect(reasonsOf(b, 'sleeping')).toEqual([{ kind: 'lapsed-vic', action: 'personal-call', daysSinceLastOrder: 83 }]);
    expect(kindsOf(b, 'churned')).toEqual(['lapsed-vic']);
    expect(reasonsOf(b, 'late')).toEqual([{ kind: 'lapsed-vic', action: 'personal-call', daysSinceLastOrder: 53 }]);
  });

  it('a VIC at-risk only because the model finds them unlikely to be alive has their tier at risk', () => {
    const b = book([
      client('doubtful', {
        tier: 'VIC',
        spend12mMinor: VIC_SPEND,
        stage: 'at-risk',
        usualReorderGapDays: 60,
        clv: clv({ probabilityAlive: 0.2, churnRisk: 'high', clv12mMinor: 4_000_000 }),
      }),
    ]);
    expect(reasonsOf(b, 'doubtful')).toEqual([{ kind: 'tier-at-risk', action: 'private-appointment', basis: 'stage' }]);
  });

  it('a Core client: at risk by stage, or by a prediction below the Core threshold with a medium or high churn risk', () => {
    const b = book([
      client('sleeping', { stage: 'sleeping' }),
      client('medium', { clv: clv({ clv12mMinor: 300_000, churnRisk: 'medium' }) }),
      client('low-risk', { clv: clv({ clv12mMinor: 300_000, churnRisk: 'low' }) }),
      client('above', { clv: clv({ clv12mMinor: 500_000, churnRisk: 'high' }) }),
    ]);
    expect(reasonsOf(b, 'sleeping')).toEqual([{ kind: 'tier-at-risk', action: 'personal-recommendation', basis: 'stage' }]);
    expect(reasonsOf(b, 'medium')).toEqual([{ kind: 'tier-at-risk', action: 'personal-recommendation', basis: 'prediction' }]);
    // Exactly the threshold is still Core level, like the tiers.
    expect(b.rows.map((r) => r.customerId).sort()).toEqual(['medium', 'sleeping']);
  });

  it('judges the unrounded prediction the night kept (belowTier), not the rounded value stored', () => {
    const b = book([
      // Predicted 4,960: stored as 5,000 (two significant units), below the Core threshold all the same.
      client('rounded-up', { clv: clv({ clv12mMinor: 500_000, belowTier: true, churnRisk: 'medium' }) }),
      client('above', { clv: clv({ clv12mMinor: 490_000, belowTier: false, churnRisk: 'medium' }) }),
      // Written before the flag was kept: the stored value decides.
      client('older', { clv: clv({ clv12mMinor: 300_000, churnRisk: 'medium' }) }),
    ]);
    expect(reasonsOf(b, 'rounded-up')).toEqual([{ kind: 'tier-at-risk', action: 'personal-recommendation', basis: 'prediction' }]);
    expect(b.rows.map((r) => r.customerId).sort()).toEqual(['older', 'rounded-up']);
  });
});

describe('replenishment due', () => {
  // Night Cream lasts 90 days per unit; the reminder window is [run-out − 15 days, run-out).
  const cream = (purchasedOn: string) => ({ CREAM: { productName: 'Night Cream', lastPurchasedAt: iso(at(`${purchasedOn}T10:00`)), quantity: 1, purchases: 1 } });

  it('lists a reminder that becomes due this week or is due and not run out; not one run out or due later', () => {
    const b = book([
      client('becomes-due', { skus: cream(addDays('2026-11-27', 15 - 90)) }), // due on Friday of the week
      client('due-already', { skus: cream(addDays('2026-11-28', -90)) }), // runs out on Saturday
      client('run-out', { skus: cream(addDays('2026-11-24', -90)) }), // ran out when the week began
      client('later', { skus: cream(addDays('2026-12-01', 15 - 90)) }), // due the day after the week
    ]);
    expect(b.rows.map((r) => r.customerId).sort()).toEqual(['becomes-due', 'due-already']);
    expect(reasonsOf(b, 'becomes-due')).toEqual([
      { kind: 'replenishment-due', action: 'set-aside', items: [{ sku: 'CREAM', productName: 'Night Cream', runOutDate: '2026-12-12', predicted: false }] },
    ]);
    expect(reasonsOf(b, 'due-already')).toEqual([
      { kind: 'replenishment-due', action: 'set-aside', items: [{ sku: 'CREAM', productName: 'Night Cream', runOutDate: '2026-11-28', predicted: false }] },
    ]);
  });

  it('uses the predicted next order of a client whose consumables have no cycle, never for a bag', () => {
    const config = parseConfig({ campaigns: { campaigns: [{ kind: 'welcome' }, { kind: 'replenishment', replenishableCategories: ['fragrance'] }, { kind: 'winback' }] } });
    const perfumeBuyer = client('perfume', {
      skus: { PERFUME: { lastPurchasedAt: iso(at('2026-08-01T10:00')), quantity: 1, purchases: 1 } },
      clv: clv({ predictedNextOrderAt: '2026-12-05' }),
    });
    expect(reasonsOf(book([perfumeBuyer], { config }), 'perfume')).toEqual([
      { kind: 'replenishment-due', action: 'set-aside', items: [{ runOutDate: '2026-12-05', predicted: true }] },
    ]);
    const bagBuyer = client('bag', {
      skus: { BAG: { lastPurchasedAt: iso(at('2026-08-01T10:00')), quantity: 1, purchases: 2, personalCycleDays: 60 } },
      clv: clv({ predictedNextOrderAt: '2026-12-05' }),
    });
    expect(kindsOf(book([bagBuyer], { config }), 'bag') ?? []).not.toContain('replenishment-due');
  });

  it('whenever the sender would send a replenishment reminder at the clock, the book lists it', () => {
    const now = runClock(RUN_DATE, CONFIG.timeZone).now;
    const context = { campaigns: CONFIG.campaigns, brandTimeZone: CONFIG.timeZone };
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1, max: 3 }), (daysAgo, quantity) => {
        const c = client('c', { skus: { CREAM: { lastPurchasedAt: iso(at(`${addDays(RUN_DATE, -daysAgo)}T10:00`)), quantity, purchases: 1 } } });
        const sending = dueOccasions(c, CATALOG, now, context).some((o) => o.kind === 'replenishment');
        const listed = kindsOf(book([c]), 'c')?.includes('replenishment-due') ?? false;
        if (sending) expect(listed).toBe(true);
      }),
    );
  });
});

describe('newly rising', () => {
  const rising = clv({ rising: true, clv12mMinor: 5_500_000 });
  const change = (customerId: string, runDate: string, fromTier: TierChange['fromTier'], toTier: TierChange['toTier']): TierChange => ({
    customerId,
    runDate,
    ...(fromTier === undefined ? {} : { fromTier }),
    toTier,
    toStage: 'active',
    spend12mMinor: CORE_SPEND,
  });

  it('a rising client whose first order is within the new-client days, or who moved up a tier in the last 7 runs', () => {
    const b = book(
      [
        client('new', { clv: rising, firstOrderAt: iso(at('2026-11-10T10:00')), stage: 'new' }),
        client('old', { clv: rising }),
        client('upgraded', { clv: rising }),
        client('upgraded-long-ago', { clv: rising }),
        client('first-seen', { clv: rising }),
        client('downgraded', { clv: rising }),
        client('not-rising', { clv: clv(), firstOrderAt: iso(at('2026-11-10T10:00')), stage: 'new' }),
      ],
      {
        recentTierChanges: [
          change('upgraded', addDays(RUN_DATE, -6), 'Potential', 'Core'),
          change('upgraded-long-ago', addDays(RUN_DATE, -7), 'Potential', 'Core'),
          change('first-seen', RUN_DATE, undefined, 'Core'),
          change('downgraded', RUN_DATE, 'VIC', 'Core'),
          // Another advisor's client: ignored.
          change('someone-else', RUN_DATE, 'Potential', 'Core'),
        ],
      },
    );
    expect(reasonsOf(b, 'new')).toEqual([{ kind: 'newly-rising', action: 'introduce-and-invite', basis: 'first-order' }]);
    expect(reasonsOf(b, 'upgraded')).toEqual([{ kind: 'newly-rising', action: 'introduce-and-invite', basis: 'upgrade' }]);
    expect(b.rows.map((r) => r.customerId).sort()).toEqual(['new', 'upgraded']);
  });
});

describe('the book', () => {
  it('leaves out a client the exports no longer have, whatever their tier and reasons', () => {
    const gone = client('gone', { tier: 'VIC', spend12mMinor: VIC_SPEND, birthday: '11-25', absentSince: '2026-11-09' });
    const b = book([gone, client('here', { tier: 'VIC', spend12mMinor: VIC_SPEND, birthday: '11-25' })]);
    expect(b.clients).toBe(1);
    expect(b.rows.map((r) => r.customerId)).toEqual(['here']);
  });

  it('a rising Potential client is in the book (newly rising, their birthday), never for a falling tier', () => {
    const rising = client('rising', { tier: 'Potential', spend12mMinor: 300_000, stage: 'sleeping', birthday: '11-25', firstOrderAt: '2026-11-10T02:00:00.000Z', clv: clv({ clv12mMinor: 600_000, rising: true }) });
    const b = book([rising, client('flat', { tier: 'Potential', spend12mMinor: 300_000, birthday: '11-25' })]);
    expect(b.clients).toBe(1);
    expect(b.rows.map((r) => [r.customerId, r.tier, r.reasons.map((x) => x.kind)])).toEqual([['rising', 'Potential', ['birthday', 'newly-rising']]]);
  });

  it('lists only VIC and Core clients (and rising Potential ones), with their figures, ranked by predicted value and capped', () => {
    const birthday = '11-25';
    const b = book(
      [
        client('potential', { tier: 'Potential', spend12mMinor: 200_000, birthday }),
        client('entry', { tier: 'Entry', spend12mMinor: 10_000, birthday }),
        client('core-no-clv', { birthday, spend12mMinor: 900_000 }),
        client('core-clv', { birthday, clv: clv({ clv12mMinor: 1_200_000 }) }),
        client('vic', { tier: 'VIC', spend12mMinor: VIC_SPEND, birthday, clv: clv({ clv12mMinor: 7_000_000 }), topCategory: 'skincare' }),
        client('tie-b', { birthday, spend12mMinor: 600_000 }),
        client('tie-a', { birthday, spend12mMinor: 600_000 }),
        client('quiet', {}),
      ],
      { maxRows: 4 },
    );
    expect(b.clients).toBe(6);
    expect(b.withReasons).toBe(5);
    expect(b.rows.map((r) => r.customerId)).toEqual(['vic', 'core-clv', 'core-no-clv', 'tie-a']);
    expect(b.rows[0]).toEqual({
      customerId: 'vic',
      firstName: 'First vic',
      lastName: 'Last vic',
      email: 'vic@example.com',
      tier: 'VIC',
      stage: 'active',
      reasons: [{ kind: 'birthday', action: 'birthday-gift', date: '2026-11-25' }],
      spend12mMinor: VIC_SPEND,
      predicted12mMinor: 7_000_000,
      rankValueMinor: 7_000_000,
      lastOrderDate: '2026-11-16',
      topCategory: 'skincare',
    });
    expect(b.rows[2]).not.toHaveProperty('predicted12mMinor');
    expect(b.rows[2]?.rankValueMinor).toBe(900_000);
    expect(b.reasonCounts).toEqual({ handover: 0, 'lapsed-vic': 0, 'tier-at-risk': 0, birthday: 4, 'replenishment-due': 0, 'newly-rising': 0 });
  });

  it('dates the last order in the brand time zone', () => {
    // 23:30 in New York on the 20th is already the 21st in Shanghai.
    const b = book([client('late-night', { birthday: '11-26', lastOrderAt: '2026-11-21T04:30:00.000Z' })]);
    expect(b.rows[0]?.lastOrderDate).toBe('2026-11-21');
  });

  it('an advisor with no client needing a touch gets an empty book', () => {
    expect(book([client('quiet')])).toMatchObject({ clients: 1, withReasons: 0, rows: [] });
    expect(book([])).toMatchObject({ clients: 0, withReasons: 0, rows: [] });
  });
});

describe('properties', () => {
  const monthDay = fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 31 })).map(([m, d]) => `${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`);
  const clvArbitrary = fc.record({
    clv12mMinor: fc.integer({ min: 0, max: 10_000_000 }),
    rising: fc.boolean(),
    churnRisk: fc.constantFrom(...CHURN_RISKS),
    predictedNextOrderAt: fc.option(fc.integer({ min: -30, max: 60 }).map((d) => addDays(RUN_DATE, d)), { nil: undefined }),
  });
  const profileArbitrary = fc.record({
    id: fc.integer({ min: 0, max: 500 }),
    tier: fc.constantFrom(...TIERS),
    stage: fc.constantFrom(...STAGES),
    spend: fc.integer({ min: 0, max: 10_000_000 }),
    birthday: fc.option(monthDay, { nil: undefined }),
    clv: fc.option(clvArbitrary, { nil: undefined }),
    daysSinceFirst: fc.integer({ min: 0, max: 400 }),
    daysSinceLast: fc.integer({ min: 0, max: 400 }),
    creamDaysAgo: fc.option(fc.integer({ min: 0, max: 200 }), { nil: undefined }),
  });
  const books = fc.record({ profiles: fc.array(profileArbitrary, { maxLength: 40 }), maxRows: fc.integer({ min: 1, max: 12 }) });

  const toProfiles = (generated: (typeof profileArbitrary extends fc.Arbitrary<infer T> ? T : never)[]) => {
    const seen = new Set<number>();
    return generated
      .filter((p) => !seen.has(p.id) && (seen.add(p.id), true))
      .map((p) =>
        client(`c${String(p.id).padStart(3, '0')}`, {
          tier: p.tier,
          stage: p.stage,
          spend12mMinor: p.spend,
          ...(p.birthday === undefined ? {} : { birthday: p.birthday }),
          ...(p.clv === undefined ? {} : { clv: clv(p.clv) }),
          firstOrderAt: iso(at(`${addDays(RUN_DATE, -Math.max(p.daysSinceFirst, p.daysSinceLast))}T10:00`)),
          lastOrderAt: iso(at(`${addDays(RUN_DATE, -p.daysSinceLast)}T10:00`)),
          ...(p.creamDaysAgo === undefined
            ? {}
            : { skus: { CREAM: { lastPurchasedAt: iso(at(`${addDays(RUN_DATE, -p.creamDaysAgo)}T10:00`)), quantity: 1, purchases: 1 } } }),
        }),
      );
  };

  it('never more than maxRows; only VIC, Core and rising Potential; highest value first; every row with a reason', () => {
    fc.assert(
      fc.property(books, ({ profiles, maxRows }) => {
        const input = toProfiles(profiles);
        const b = book(input, { maxRows });
        expect(b.rows.length).toBeLessThanOrEqual(maxRows);
        expect(b.rows.length).toBe(Math.min(maxRows, b.withReasons));
        expect(b.withReasons).toBeLessThanOrEqual(b.clients);
        const inBook = (p: (typeof input)[number]) => p.tier === 'VIC' || p.tier === 'Core' || (p.tier === 'Potential' && p.clv?.rising === true);
        expect(b.clients).toBe(input.filter(inBook).length);
        for (const row of b.rows) {
          expect(['VIC', 'Core', 'Potential']).toContain(row.tier);
          if (row.tier === 'Potential') expect(row.reasons.map((r) => r.kind)).not.toContain('tier-at-risk');
          expect(row.reasons.length).toBeGreaterThanOrEqual(1);
          expect(row.rankValueMinor).toBe(row.predicted12mMinor ?? row.spend12mMinor);
          // One reason of each kind at most, in the documented order.
          const kinds = row.reasons.map((r) => BOOK_REASONS.indexOf(r.kind));
          expect(kinds).toEqual([...new Set(kinds)].sort((x, y) => x - y));
          if (row.reasons.some((r) => r.kind === 'lapsed-vic')) expect(row.tier).toBe('VIC');
        }
        for (let i = 1; i < b.rows.length; i++) {
          expect((b.rows[i - 1]?.rankValueMinor ?? 0) >= (b.rows[i]?.rankValueMinor ?? 0)).toBe(true);
        }
      }),
    );
  });

  it('does not depend on the order of the profiles', () => {
    fc.assert(
      fc.property(books, fc.nat(), ({ profiles, maxRows }, cut) => {
        const input = toProfiles(profiles);
        const at = input.length === 0 ? 0 : cut % input.length;
        const rotatedAndReversed = [...input.slice(at), ...input.slice(0, at)].reverse();
        expect(book(rotatedAndReversed, { maxRows })).toEqual(book(input, { maxRows }));
      }),
    );
  });
});

describe('newly rising and a return to a tier left days before (history.ts tierReturnLeftOn)', () => {
  it('does not list a client back in Core days after leaving it as "newly rising: just moved up to Core"', () => {
    const profile: ClientProfile = clientProfile({
      customerId: 'dip',
      email: 'dip@example.com',
      advisorId: 'A1',
      tier: 'Core',
      stage: 'active',
      spend12mMinor: 800_000,
      firstOrderAt: iso(at('2025-06-01T10:00')),
      lastOrderAt: iso(at('2026-11-19T10:00')),
      previousTier: 'Potential',
      tierChangedOn: addDays('2026-11-23', -4),
      tierReturnLeftOn: addDays('2026-11-23', -6),
      tiersLeftOn: { Core: addDays('2026-11-23', -6), Potential: addDays('2026-11-23', -4) },
      clv: { probabilityAlive: 0.9, expectedPurchases90d: 1, expectedPurchases365d: 4, expectedAverageOrderValueMinor: 200_000, clv12mMinor: 5_500_000, rising: true, churnRisk: 'low' },
    });
    const change = (runDate: string, fromTier: TierChange['fromTier'], toTier: TierChange['toTier']): TierChange => ({ customerId: 'dip', runDate, fromTier, toTier, toStage: 'active', spend12mMinor: 800_000 });
    const book = buildAdvisorBook({
      advisorId: 'A1',
      profiles: [profile],
      runDate: '2026-11-23',
      now: runClock('2026-11-23', parseConfig({}).timeZone).now,
      config: parseConfig({}),
      catalog: CATALOG,
      recentTierChanges: [change(addDays('2026-11-23', -6), 'Core', 'Potential'), change(addDays('2026-11-23', -4), 'Potential', 'Core')],
    });
    const reasons = book.rows.find((row) => row.customerId === 'dip')?.reasons ?? [];
    expect(reasons.filter((reason) => reason.kind === 'newly-rising' && reason.basis === 'upgrade')).toEqual([]);
  });
});
