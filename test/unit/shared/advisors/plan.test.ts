import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { languageOf, planBooks, type PlanClient, type PlanInput } from '#shared/advisors/plan.ts';
import { digestAdvisors } from '#shared/digests/advisor-digests.ts';
import type { AdvisorRecord } from '#shared/model.ts';

/** Issue 16 point 4: `clientele advisors plan`, the pure planner. */

const advisor = (advisorId: string, fields: Partial<AdvisorRecord> = {}): AdvisorRecord => ({
  advisorId,
  name: `Advisor ${advisorId}`,
  email: `${advisorId.toLowerCase()}@brand.example.com`,
  active: true,
  ...fields,
});
const client = (customerId: string, fields: Partial<PlanClient> = {}): PlanClient => ({ customerId, tier: 'Core', rankValueMinor: 100, ...fields });
const roster = (...advisors: AdvisorRecord[]) => new Map(advisors.map((a) => [a.advisorId, a]));

describe('planBooks', () => {
  it('keeps existing pairs, matches language, then the previous advisor’s store, then fills the smallest book', () => {
    const advisors = roster(
      advisor('EN1', { locale: 'en', store: 'Paris' }),
      advisor('EN2', { locale: 'en-GB', store: 'London' }),
      advisor('ZH1', { locale: 'zh-CN', store: 'Shanghai' }),
      advisor('OLD', { locale: 'en', store: 'London', active: false }),
    );
    const plan = planBooks({
      advisors,
      bookSize: { min: 2, max: 3 },
      clients: [
        client('kept', { advisorId: 'EN1', locale: 'en' }),
        client('zh', { locale: 'zh-Hans-CN', rankValueMinor: 900 }),
        client('left', { advisorId: 'OLD', locale: 'en-US', rankValueMinor: 500 }),
        client('ghost', { advisorId: 'X9', rankValueMinor: 50 }),
      ],
    });
    expect(plan.proposals).toEqual([
      { customerId: 'zh', advisorId: 'ZH1', reason: 'no advisor; same language (zh); book 1 of 2-3' },
      { customerId: 'left', advisorId: 'EN2', reason: 'advisor OLD inactive; same language (en); same store as before (London); book 1 of 2-3' },
      // No language, no store: the smallest book below min (one client in each: EN1 first by id).
      { customerId: 'ghost', advisorId: 'EN1', reason: 'advisor X9 not in the roster; book 2 of 2-3' },
    ]);
    expect(plan.books).toEqual([
      { advisorId: 'EN1', kept: 1, proposed: 1 },
      { advisorId: 'EN2', kept: 0, proposed: 1 },
      { advisorId: 'ZH1', kept: 0, proposed: 1 },
    ]);
    expect(plan.unplaced).toEqual([]);
  });

  it('keeps the book of an advisor the digests mail (active, with an email) though the roster gave no name; moves one without an email', () => {
    const { name: _name, ...nameless } = advisor('A01', { locale: 'en' });
    const { email: _email, ...unreachable } = advisor('A03', { locale: 'en' });
    const advisors = roster(nameless, advisor('A02', { locale: 'en' }), unreachable);
    expect(digestAdvisors(advisors).map(([id]) => id)).toEqual(['A01', 'A02']);
    const clients = [...Array.from({ length: 3 }, (_, i) => client(`c${i}`, { tier: 'VIC', locale: 'en', advisorId: 'A01', rankValueMinor: 1_000 - i })), client('u', { locale: 'en', advisorId: 'A03' })];
    const plan = planBooks({ clients, advisors, bookSize: { min: 30, max: 50 } });
    expect(plan.proposals).toEqual([{ customerId: 'u', advisorId: 'A02', reason: 'advisor A03 has no email; same language (en); book 1 of 30-50' }]);
    expect(plan.books).toEqual([
      { advisorId: 'A01', kept: 3, proposed: 0 },
      { advisorId: 'A02', kept: 0, proposed: 1 },
    ]);
  });

  it('never fills a book past max: a language match with no room gives way, and with no room anywhere the client is unplaced', () => {
    const advisors = roster(advisor('ZH1', { locale: 'zh-CN' }), advisor('EN1', { locale: 'en' }));
    const plan = planBooks({ advisors, bookSize: { min: 1, max: 1 }, clients: [client('a', { locale: 'zh-CN', rankValueMinor: 3 }), client('b', { locale: 'zh-CN', rankValueMinor: 2 }), client('c', { locale: 'zh-CN', rankValueMinor: 1 })] });
    expect(plan.proposals.map((p) => [p.customerId, p.advisorId])).toEqual([
      ['a', 'ZH1'],
      ['b', 'EN1'],
    ]);
    expect(plan.proposals[1]?.reason).toContain('no advisor with room speaks their language');
    expect(plan.unplaced).toEqual(['c']);
  });

  it('fills the books below min before any other', () => {
    const advisors = roster(advisor('A1'), advisor('A2'));
    const clients = [...Array.from({ length: 3 }, (_, i) => client(`k${i}`, { advisorId: 'A1' })), ...Array.from({ length: 4 }, (_, i) => client(`n${i}`))];
    const plan = planBooks({ advisors, bookSize: { min: 3, max: 10 }, clients });
    // A2 is brought up to 3 first; then the smaller book, alternating.
    expect(plan.proposals.map((p) => p.advisorId)).toEqual(['A2', 'A2', 'A2', 'A1']);
  });

  it('reads the primary language of a locale', () => {
    expect([languageOf('zh-Hans-CN'), languageOf('ZH_cn'), languageOf('en'), languageOf(undefined), languageOf('')]).toEqual(['zh', 'zh', 'en', undefined, undefined]);
  });
});

const ADVISOR_IDS = ['A0', 'A1', 'A2', 'A3', 'A4', 'A5'];
const plans = fc
  .record({
    advisors: fc.uniqueArray(
      fc.record({
        advisorId: fc.constantFrom(...ADVISOR_IDS),
        locale: fc.option(fc.constantFrom('en', 'en-GB', 'zh-CN', 'fr'), { nil: undefined }),
        store: fc.option(fc.constantFrom('Paris', 'Shanghai'), { nil: undefined }),
        active: fc.boolean(),
      }),
      { selector: (a) => a.advisorId, minLength: 1, maxLength: 6 },
    ),
    clients: fc.array(
      fc.record({
        locale: fc.option(fc.constantFrom('en-US', 'zh-CN', 'zh-Hans', 'fr', 'de'), { nil: undefined }),
        advisorId: fc.option(fc.constantFrom(...ADVISOR_IDS, 'X9'), { nil: undefined }),
        rankValueMinor: fc.integer({ min: 0, max: 1000 }),
        tier: fc.constantFrom('VIC' as const, 'Core' as const, 'Potential' as const),
      }),
      { maxLength: 80 },
    ),
    min: fc.integer({ min: 1, max: 8 }),
    extra: fc.integer({ min: 0, max: 8 }),
    seed: fc.integer(),
  })
  .map(({ advisors, clients, min, extra, seed }) => {
    const input: PlanInput = {
      advisors: roster(...advisors.map((a) => advisor(a.advisorId, { active: a.active, ...(a.locale ? { locale: a.locale } : {}), ...(a.store ? { store: a.store } : {}) }))),
      clients: clients.map((c, i) => client(`c${String(i).padStart(3, '0')}`, { ...c, ...(c.locale ? {} : { locale: undefined }), ...(c.advisorId ? {} : { advisorId: undefined }) })),
      bookSize: { min, max: min + extra },
    };
    return { input, seed };
  });

describe('planBooks properties', () => {
  it('keeps every existing pair, places each other client at most once, never past max, and only leaves clients out when every book is full', () => {
    fc.assert(
      fc.property(plans, ({ input }) => {
        const plan = planBooks(input);
        const activeIds = new Set([...input.advisors.values()].filter((a) => a.active).map((a) => a.advisorId));
        const paired = input.clients.filter((c) => c.advisorId !== undefined && activeIds.has(c.advisorId)).map((c) => c.customerId);
        const placed = plan.proposals.map((p) => p.customerId);
        for (const id of paired) expect(placed).not.toContain(id);
        expect(new Set([...placed, ...plan.unplaced]).size).toBe(placed.length + plan.unplaced.length);
        expect(placed.length + plan.unplaced.length + paired.length).toBe(input.clients.length);
        for (const proposal of plan.proposals) expect(activeIds.has(proposal.advisorId)).toBe(true);
        for (const book of plan.books) {
          if (book.proposed > 0) expect(book.kept + book.proposed).toBeLessThanOrEqual(input.bookSize.max);
        }
        if (plan.unplaced.length > 0) for (const book of plan.books) expect(book.kept + book.proposed).toBeGreaterThanOrEqual(input.bookSize.max);
      }),
    );
  });

  it('matches the client’s language whenever an advisor speaking it had room: a mismatch only when all of them are full', () => {
    fc.assert(
      fc.property(plans, ({ input }) => {
        const plan = planBooks(input);
        const total = new Map(plan.books.map((b) => [b.advisorId, b.kept + b.proposed]));
        const byId = new Map(input.clients.map((c) => [c.customerId, c]));
        for (const proposal of plan.proposals) {
          const language = languageOf(byId.get(proposal.customerId)?.locale);
          if (language === undefined || languageOf(input.advisors.get(proposal.advisorId)?.locale) === language) continue;
          const speakers = plan.books.filter((b) => languageOf(input.advisors.get(b.advisorId)?.locale) === language);
          for (const speaker of speakers) expect(total.get(speaker.advisorId)).toBeGreaterThanOrEqual(input.bookSize.max);
        }
      }),
    );
  });

  it('is deterministic: the same clients and roster in any order give the same plan', () => {
    fc.assert(
      fc.property(plans, ({ input, seed }) => {
        const shuffle = <T>(items: readonly T[]) => items.map((item, i) => ({ item, k: Math.sin(seed + i) })).sort((a, b) => a.k - b.k).map((x) => x.item);
        const shuffled: PlanInput = { ...input, clients: shuffle(input.clients), advisors: new Map(shuffle([...input.advisors])) };
        expect(planBooks(shuffled)).toEqual(planBooks(input));
      }),
    );
  });
});
