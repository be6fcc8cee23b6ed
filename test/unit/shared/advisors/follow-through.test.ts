import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addTallies,
  advisorFollowThrough,
  boughtWithin,
  emptyBought,
  followUpTasks,
  mergeFollowUps,
  tallyTasks,
  type ControlDecision,
} from '#shared/advisors/follow-through.ts';
import { answerTask, emailedTask, newTask, unsentTask, type AdvisorTask } from '#shared/advisors/tasks.ts';
import { introductionTask } from '#shared/advisors/handover.ts';
import { MS_PER_DAY } from '#shared/time.ts';
import { PROTOTYPE_NAMES } from '#test/support/prototype-names.ts';

/** Issue 16 point 6: what became of the advisors' tasks, and who bought after them against the control group. Pure. */

const NOW = Date.parse('2026-12-01T00:00:00Z');
const day = (n: number) => NOW - n * MS_PER_DAY;
const task = (customerId: string, advisorId: string, createdAt: number, campaignId = 'winback', tier: AdvisorTask['tier'] = 'VIC') =>
  newTask({ customerId, occasionKey: `${campaignId}#${createdAt}`, campaignId, expiresAt: createdAt + 60 * MS_PER_DAY }, advisorId, createdAt, tier);

describe('task tallies', () => {
  it('put each task in one bucket: done, asked, snoozed, left (no answer, emailed or not), open', () => {
    const t = task('c1', 'A01', day(10));
    const tasks = [
      answerTask(t, 'done', 1, day(9)).task,
      emailedTask(answerTask(t, 'send', 1, day(9)).task, 'advisor-asked', day(9)),
      answerTask(t, 'snooze', 1, day(9)).task,
      emailedTask(t, 'no-answer', day(7)),
      unsentTask(t, 'no-answer', 'no-consent', day(7)),
      unsentTask(answerTask(t, 'send', 1, day(9)).task, 'advisor-asked', 'suppressed', day(8)),
      t,
    ];
    expect(tallyTasks(tasks)).toEqual({ given: 7, done: 1, asked: 2, snoozed: 1, left: 2, open: 1, reassigned: 0 });
  });

  it('add up: given is the sum of the buckets, and the sum of tallies is the tally of the union (property)', () => {
    const status = fc.constantFrom<'done' | 'snooze' | 'send' | 'emailed' | 'unsent' | 'open'>('done', 'snooze', 'send', 'emailed', 'unsent', 'open');
    fc.assert(
      fc.property(fc.array(fc.array(status, { maxLength: 12 }), { maxLength: 6 }), (groups) => {
        const t = task('c', 'A', day(10));
        const toTask = (s: string): AdvisorTask =>
          s === 'emailed' ? emailedTask(t, 'no-answer', day(5)) : s === 'unsent' ? unsentTask(t, 'no-answer', 'no-address', day(5)) : s === 'open' ? t : answerTask(t, s as 'done', 1, day(9)).task;
        const tallies = groups.map((g) => tallyTasks(g.map(toTask)));
        const sum = addTallies(tallies);
        expect(sum).toEqual(tallyTasks(groups.flat().map(toTask)));
        expect(sum.done + sum.asked + sum.snoozed + sum.left + sum.open).toBe(sum.given);
      }),
    );
  });
});

describe('bought after a task, against the control group', () => {
  it('counts a purchase with a positive net amount within 30 days after the task, not before, not a refund, not day 31', () => {
    expect(boughtWithin([{ orderedAt: day(40) + 5 * MS_PER_DAY, netMinor: 100 }], day(40))).toBe(true);
    expect(boughtWithin([{ orderedAt: day(41), netMinor: 100 }], day(40))).toBe(false);
    expect(boughtWithin([{ orderedAt: day(35), netMinor: 0 }], day(40))).toBe(false);
    expect(boughtWithin([{ orderedAt: day(40) + 31 * MS_PER_DAY, netMinor: 100 }], day(40))).toBe(false);
    expect(boughtWithin([{ orderedAt: day(10), netMinor: 100 }], day(40))).toBe(true);
  });

  it('follows tasks whose 30 days ended, counts the others as maturing, and compares with held-out clients of the same campaign and tier only', () => {
    const orders = new Map([
      ['bought', [{ orderedAt: day(50), netMinor: 5000 }]],
      ['idle', []],
      ['recent', []],
      ['ctl-bought', [{ orderedAt: day(45), netMinor: 5000 }]],
      ['ctl-idle', []],
      ['ctl-core', [{ orderedAt: day(45), netMinor: 5000 }]],
      ['intro', [{ orderedAt: day(45), netMinor: 5000 }]],
    ]);
    const tasks = [task('bought', 'A01', day(60)), task('idle', 'A01', day(60)), task('recent', 'A02', day(10)), introductionTask({ customerId: 'intro', from: 'A09', to: 'A02' }, '2026-W40', 'VIC', day(60))];
    const controls: ControlDecision[] = [
      { customerId: 'ctl-bought', campaignId: 'winback', tier: 'VIC', at: day(55) },
      { customerId: 'ctl-idle', campaignId: 'winback', tier: 'VIC', at: day(55) },
      // Another tier, another campaign, out of the period: not comparable.
      { customerId: 'ctl-core', campaignId: 'winback', tier: 'Core', at: day(55) },
      { customerId: 'ctl-bought', campaignId: 'welcome', tier: 'VIC', at: day(55) },
      { customerId: 'ctl-bought', campaignId: 'winback', tier: 'VIC', at: day(120) },
    ];
    const followUps = followUpTasks({ tasks, controls, ordersOf: (id) => orders.get(id), now: NOW });
    expect(followUps).toEqual({
      byAdvisor: { A01: { followed: 2, bought: 1, maturing: 0 }, A02: { followed: 0, bought: 0, maturing: 1 } },
      control: { followed: 2, bought: 1, maturing: 0 },
    });
  });

  it('adds up across shards to what one run counts (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ id: fc.integer({ min: 0, max: 20 }), advisor: fc.constantFrom('A01', 'A02'), age: fc.integer({ min: 0, max: 100 }), boughtAfter: fc.option(fc.integer({ min: 1, max: 40 })) }), { maxLength: 30 }),
        fc.integer({ min: 1, max: 4 }),
        (rows, shardCount) => {
          const tasks = rows.map((r) => task(`c${r.id}`, r.advisor, day(r.age)));
          const controls = rows.map((r) => ({ customerId: `k${r.id}`, campaignId: 'winback', tier: 'VIC', at: day(r.age) }));
          const ordersOf = (id: string) => {
            const row = rows.find((r) => `c${r.id}` === id || `k${r.id}` === id);
            return row?.boughtAfter ? [{ orderedAt: day(row.age) + row.boughtAfter * MS_PER_DAY, netMinor: 100 }] : [];
          };
          const whole = followUpTasks({ tasks, controls, ordersOf, now: NOW });
          const shardOf = (id: string) => Number(id.slice(1)) % shardCount;
          const parts = Array.from({ length: shardCount }, (_, shard) =>
            followUpTasks({ tasks, controls, ordersOf: (id) => (shardOf(id) === shard ? ordersOf(id) : undefined), now: NOW }),
          );
          expect(mergeFollowUps(parts)).toEqual(mergeFollowUps([whole]));
        },
      ),
    );
  });
});

describe('the night’s follow-through', () => {
  it('per advisor, per store and for the brand, with the clients waiting for a new advisor', () => {
    const advisors = new Map([
      ['A01', { advisorId: 'A01', store: 'Paris', active: true }],
      ['A02', { advisorId: 'A02', store: 'Shanghai', active: true }],
      ['A03', { advisorId: 'A03', store: 'Paris', active: false }],
    ]);
    const t = task('c1', 'A01', day(5));
    const result = advisorFollowThrough({
      recentTasks: [answerTask(t, 'done', 1, day(4)).task, t, task('c2', 'A03', day(20))],
      followUps: { byAdvisor: { A01: { followed: 4, bought: 1, maturing: 2 } }, control: { followed: 3, bought: 0, maturing: 0 } },
      advisors,
      orphans: [
        { customerId: 'c9', advisorId: 'A03' },
        { customerId: 'c8', advisorId: 'A03' },
      ],
    });
    expect(result.advisors.map((a) => [a.advisorId, a.tasks.given, a.bought.followed])).toEqual([
      ['A01', 2, 4],
      ['A02', 0, 0],
      ['A03', 1, 0],
    ]);
    expect(result.byStore.Paris?.tasks).toEqual({ given: 3, done: 1, asked: 0, snoozed: 0, left: 0, open: 2, reassigned: 0 });
    expect(result.byStore.Shanghai?.bought).toEqual(emptyBought());
    expect(result.total.tasks.given).toBe(3);
    expect(result.needsNewAdvisor).toEqual({ count: 2, byStore: { Paris: 2 }, customerIds: ['c8', 'c9'] });
  });

  it('counts advisors and stores named like Object.prototype members as any other, and leaves Object.prototype alone', () => {
    // Advisor ids and store names are free text from the roster.
    const prototypeBefore = Object.getOwnPropertyNames(Object.prototype);
    const tasks = PROTOTYPE_NAMES.map((name, i) => task(`c${i}`, name, day(40)));
    const ordersOf = (id: string) => (id === 'c0' ? [{ orderedAt: day(39), netMinor: 100 }] : []);
    // As a shard's part comes back: through JSON.
    const followUps = mergeFollowUps([JSON.parse(JSON.stringify(followUpTasks({ tasks, controls: [], ordersOf, now: NOW })))]);
    expect(Object.keys(followUps.byAdvisor).sort()).toEqual([...PROTOTYPE_NAMES].sort());
    expect(followUps.byAdvisor['__proto__']).toEqual({ followed: 1, bought: 1, maturing: 0 });
    expect(followUps.byAdvisor['constructor']).toEqual({ followed: 1, bought: 0, maturing: 0 });
    const advisors = new Map(PROTOTYPE_NAMES.map((name) => [name, { advisorId: name, store: name, active: name !== 'valueOf' }]));
    const result = advisorFollowThrough({ recentTasks: tasks, followUps, advisors, orphans: [{ customerId: 'c9', advisorId: 'valueOf' }] });
    for (const name of PROTOTYPE_NAMES) {
      expect(Object.hasOwn(result.byStore, name)).toBe(true);
      expect(result.byStore[name]?.tasks.given).toBe(1);
    }
    expect(result.advisors.find((a) => a.advisorId === 'toString')?.bought).toEqual({ followed: 1, bought: 0, maturing: 0 });
    expect(JSON.parse(JSON.stringify(result.needsNewAdvisor.byStore))).toEqual({ valueOf: 1 });
    // Nor does a store missing from the counts read one of Object.prototype's members.
    const empty = advisorFollowThrough({ recentTasks: [], followUps: { byAdvisor: {}, control: emptyBought() }, advisors: new Map([['toString', { advisorId: 'toString', active: true }]]), orphans: [] });
    expect(empty.advisors[0]?.bought).toEqual(emptyBought());
    expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(prototypeBefore);
  });
});
