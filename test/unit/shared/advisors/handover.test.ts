import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildAdvisorBook } from '#shared/advisors/book.ts';
import { baselineFor, clientHistory, handoversBetween, introductionKey, introductionTask, isIntroduction, pairsToKeep, pairsWithout, pastTasksTally, unreachableBecause } from '#shared/advisors/handover.ts';
import { answerTask, newTask } from '#shared/advisors/tasks.ts';
import { parseConfig } from '#shared/config.ts';
import { runClock } from '#shared/tiering/profile.ts';
import { renderAdvisorDigest } from '#shared/templates/advisor-digest.ts';
import { clientProfile } from '#test/support/profiles.ts';
import { PROTOTYPE_NAMES } from '#test/support/prototype-names.ts';

/** Issue 16 point 5: handovers between two weeks' book pairs, and the introduction in the new advisor's book. */

describe('handovers', () => {
  it('are the clients whose advisor changed; a first assignment or a removal is none', () => {
    expect(handoversBetween({ c1: 'A01', c2: 'A01', c3: 'A02' }, { c1: 'A02', c2: 'A01', c4: 'A03' })).toEqual([{ customerId: 'c1', from: 'A01', to: 'A02' }]);
  });

  it('are told against last week, and a rerun of the week against the same baseline', () => {
    const stored = { week: '2026-W48', before: { c1: 'A01' }, now: { c1: 'A02' } };
    expect(baselineFor(stored, '2026-W48')).toEqual({ c1: 'A01' });
    expect(baselineFor(stored, '2026-W49')).toEqual({ c1: 'A02' });
    expect(baselineFor(undefined, '2026-W49')).toBeUndefined();
  });

  it('kept by the week\'s first run are tonight\'s, compared with last week\'s', () => {
    const last = { week: '2026-W47', before: { c1: 'A01' }, now: { c1: 'A01', c2: 'A01' } };
    expect(pairsToKeep(last, '2026-W48', { c1: 'A02', c2: 'A01' }, [])).toEqual({ week: '2026-W48', before: { c1: 'A01', c2: 'A01' }, now: { c1: 'A02', c2: 'A01' } });
    expect(pairsToKeep(undefined, '2026-W48', { c1: 'A02' }, [])).toEqual({ week: '2026-W48', before: { c1: 'A02' }, now: { c1: 'A02' } });
  });

  it('kept by a rerun of the week are the digest day\'s, but for the handovers the rerun introduced and clients new to the week', () => {
    const stored = { week: '2026-W48', before: { c1: 'A01', c2: 'A01' }, now: { c1: 'A02', c2: 'A01' } };
    // c2 handed over after the digests went out, c3 handed over and introduced by a digest the rerun sent, c4 new.
    const tonight = { c1: 'A02', c2: 'A03', c3: 'A03', c4: 'A04' };
    const kept = pairsToKeep({ ...stored, before: { ...stored.before, c3: 'A01' }, now: { ...stored.now, c3: 'A01' } }, '2026-W48', tonight, [{ customerId: 'c3', from: 'A01', to: 'A03' }]);
    expect(kept).toEqual({ week: '2026-W48', before: { c1: 'A01', c2: 'A01', c3: 'A01' }, now: { c1: 'A02', c2: 'A01', c3: 'A03', c4: 'A04' } });
    // Next week, c2's handover is still one: introduced then.
    expect(handoversBetween(baselineFor(kept, '2026-W49') ?? {}, tonight)).toEqual([{ customerId: 'c2', from: 'A01', to: 'A03' }]);
  });

  it('keep a handover whose digest was deferred as not introduced, until a run of the week introduces it', () => {
    const last = { week: '2026-W47', before: { c1: 'A01' }, now: { c1: 'A01', c2: 'A01' } };
    const tonight = { c1: 'A02', c2: 'A03' };
    // The digest day: A02's digest (c1's introduction) deferred, A03's (c2's) sent.
    const digestDay = pairsToKeep(last, '2026-W48', tonight, [{ customerId: 'c2', from: 'A01', to: 'A03' }], [{ customerId: 'c1', from: 'A01', to: 'A02' }]);
    expect(digestDay).toEqual({ week: '2026-W48', before: { c1: 'A01', c2: 'A01' }, now: tonight, unintroduced: { c1: 'A01' } });
    // Never sent that week: next week still compares c1 with A01, and only c1 is a handover.
    expect(handoversBetween(baselineFor(digestDay, '2026-W49') ?? {}, tonight)).toEqual([{ customerId: 'c1', from: 'A01', to: 'A02' }]);
    // A night of the week sends A02's digest: introduced, nothing left for next week.
    const sentLater = pairsToKeep(digestDay, '2026-W48', digestDay.now, [{ customerId: 'c1', from: 'A01', to: 'A02' }]);
    expect(sentLater).toEqual({ week: '2026-W48', before: digestDay.before, now: tonight });
    expect(handoversBetween(baselineFor(sentLater, '2026-W49') ?? {}, tonight)).toEqual([]);
  });

  it('leave out an erased client everywhere they are named, and say how many of the erased they named', () => {
    const stored = { week: '2026-W48', before: { c1: 'A01', c2: 'A01', c3: 'A01' }, now: { c1: 'A02', c2: 'A03', c3: 'A01' }, unintroduced: { c1: 'A01' } };
    expect(pairsWithout(stored, ['c1', 'zz'])).toEqual({ kept: { week: '2026-W48', before: { c2: 'A01', c3: 'A01' }, now: { c2: 'A03', c3: 'A01' } }, named: 1 });
    expect(pairsWithout(stored, ['c2'])).toEqual({ kept: { ...stored, before: { c1: 'A01', c3: 'A01' }, now: { c1: 'A02', c3: 'A01' } }, named: 1 });
    expect(pairsWithout(stored, ['zz']).named).toBe(0);
    // Ids named like Object.prototype members are ids like any other.
    const odd = JSON.parse('{"week":"2026-W48","before":{"__proto__":"A01","constructor":"A01"},"now":{"__proto__":"A02","constructor":"A01"}}');
    const { kept, named } = pairsWithout(odd, ['__proto__']);
    expect(named).toBe(1);
    expect(JSON.parse(JSON.stringify(kept))).toEqual({ week: '2026-W48', before: { constructor: 'A01' }, now: { constructor: 'A01' } });
    // The erased client is unknown to next week's baseline: no handover is made of them.
    expect(handoversBetween(baselineFor(pairsWithout(stored, ['c1']).kept, '2026-W49') ?? {}, { c1: 'A05', c2: 'A03' })).toEqual([]);
  });

  it('take customer ids named like Object.prototype members as any other', () => {
    // Customer ids are free text from the export; the pairs are stored as JSON and read back.
    const tonight = Object.fromEntries(PROTOTYPE_NAMES.map((id) => [id, 'A02']));
    // A first assignment, even of a client whose id a plain object already answers, is no handover.
    expect(handoversBetween({}, tonight)).toEqual([]);
    const lastWeek = JSON.parse(JSON.stringify({ week: '2026-W47', before: {}, now: Object.fromEntries(PROTOTYPE_NAMES.map((id) => [id, 'A01'])) }));
    expect(handoversBetween(baselineFor(lastWeek, '2026-W48') ?? {}, tonight)).toHaveLength(PROTOTYPE_NAMES.length);
    // A rerun of the week keeps the digest day's pairs and adds the clients new to the week.
    const digestDay = JSON.parse(JSON.stringify({ week: '2026-W48', before: {}, now: { toString: 'A01' } }));
    const kept = JSON.parse(JSON.stringify(pairsToKeep(digestDay, '2026-W48', tonight, [])));
    expect(kept.now).toEqual({ ...tonight, toString: 'A01' });
    expect(Object.keys(kept.now)).toContain('__proto__');
  });

  it('a handover no digest introduced is still one against next week\'s baseline, however often the week is rerun (property)', () => {
    const advisor = fc.constantFrom('A01', 'A02', 'A03');
    const pairsOf = fc.dictionary(fc.constantFrom('c1', 'c2', 'c3', 'c4', 'c5'), advisor);
    fc.assert(
      fc.property(pairsOf, pairsOf, fc.array(pairsOf, { maxLength: 3 }), (lastWeek, digestDay, reruns) => {
        let kept = pairsToKeep({ week: '2026-W47', before: lastWeek, now: lastWeek }, '2026-W48', digestDay, []);
        // Reruns whose digests were all sent already: they introduce nothing.
        for (const tonight of reruns) kept = pairsToKeep(kept, '2026-W48', tonight, []);
        expect(kept.before).toEqual(lastWeek);
        // Every client the week's digests were made with keeps the digest day's advisor (or none, as then).
        for (const customerId of Object.keys({ ...lastWeek, ...digestDay })) expect(kept.now[customerId]).toBe(digestDay[customerId]);
        // So whatever changed since the digest day is a handover next week.
        const latest = reruns.at(-1) ?? digestDay;
        const missed = handoversBetween(digestDay, latest).filter((h) => h.customerId in lastWeek || h.customerId in digestDay);
        expect(handoversBetween(baselineFor(kept, '2026-W49') ?? {}, latest)).toEqual(expect.arrayContaining(missed));
      }),
    );
  });

  it('put the client in the new advisor’s book first, with the previous advisor, the birthday and the past tasks; in both languages', async () => {
    const config = parseConfig({});
    const runDate = '2026-11-22';
    const profile = clientProfile({ customerId: 'c1', firstName: 'Lin', lastName: 'Wang', tier: 'VIC', stage: 'active', advisorId: 'A02', birthday: '1980-03-14', spend12mMinor: 6_000_000, topCategory: 'skincare' });
    const pastTasks = { given: 3, done: 2, asked: 1, snoozed: 0, left: 0, open: 0, reassigned: 0, notSent: 0 };
    const book = buildAdvisorBook({
      advisorId: 'A02', profiles: [profile], runDate, now: runClock(runDate, config.timeZone).now, config, catalog: new Map(), recentTierChanges: [],
      handovers: new Map([['c1', { from: 'A01', fromName: 'Sophie Martin', pastTasks }]]),
    });
    expect(book.rows).toEqual([]);
    expect(book.introductions[0]?.reasons[0]).toEqual({ kind: 'handover', action: 'introduce-yourself', from: 'A01', fromName: 'Sophie Martin', pastTasks, birthday: '1980-03-14' });
    expect(book.reasonCounts.handover).toBe(1);
    const en = await renderAdvisorDigest('en', { brandName: 'Maison', currency: 'USD', book, maxRows: 40, categoryNames: { skincare: { en: 'Skincare', 'zh-CN': '护肤' } } });
    expect(en.text).toContain('Handed over to you from Sophie Martin; birthday 14 March; with them: 3 tasks, 2 done in person, 1 note sent by email. Introduce yourself with a call or a personal note; they favour Skincare.');
    const zh = await renderAdvisorDigest('zh-CN', { brandName: 'Maison', currency: 'USD', book, maxRows: 40, categoryNames: { skincare: { en: 'Skincare', 'zh-CN': '护肤' } } });
    expect(zh.text).toContain('由Sophie Martin交接给您；生日 3月14日；此前共 3 项任务，亲自处理 2 项，邮件发送 1 封。请亲自致电或写信自我介绍；客户偏爱护肤。');
  });

  it('count a note that never went (no consent, suppressed, window closed, refused) apart from those sent by email; in both languages', async () => {
    const config = parseConfig({});
    const runDate = '2026-11-22';
    const profile = clientProfile({ customerId: 'c1', firstName: 'Lin', lastName: 'Wang', tier: 'VIC', stage: 'active', advisorId: 'A02', spend12mMinor: 6_000_000 });
    const asked = { customerId: 'c1', advisorId: 'A01', campaignId: 'winback', occasionKey: 'winback#1', createdAt: 0, expiresAt: 1, version: 2 };
    const tasks = [
      { ...asked, status: 'emailed' as const, history: [{ at: 0, event: 'created' as const }, { at: 1, event: 'emailed' as const, because: 'advisor-asked' as const }] },
      { ...asked, status: 'unsent' as const, history: [{ at: 0, event: 'created' as const }, { at: 1, event: 'unsent' as const, because: 'no-answer' as const, reason: 'failed' }] },
    ];
    const pastTasks = pastTasksTally(tasks);
    expect(pastTasks).toMatchObject({ given: 2, asked: 1, left: 1, notSent: 1 });
    const book = buildAdvisorBook({
      advisorId: 'A02', profiles: [profile], runDate, now: runClock(runDate, config.timeZone).now, config, catalog: new Map(), recentTierChanges: [],
      handovers: new Map([['c1', { from: 'A01', fromName: 'Sophie Martin', pastTasks }]]),
    });
    const en = await renderAdvisorDigest('en', { brandName: 'Maison', currency: 'USD', book, maxRows: 40 });
    expect(en.text).toContain('with them: 2 tasks, 0 done in person, 1 note sent by email, 1 that could not be sent.');
    const zh = await renderAdvisorDigest('zh-CN', { brandName: 'Maison', currency: 'USD', book, maxRows: 40 });
    expect(zh.text).toContain('此前共 2 项任务，亲自处理 0 项，邮件发送 1 封，未能发送 1 封。');
  });
});

describe('introductions', () => {
  it('tell the new advisor the client’s top categories, last purchases and latest tasks, newest first', () => {
    const profile = clientProfile({
      topCategory: 'skincare',
      skus: {
        A: { productName: 'Night Serum', category: 'skincare', lastPurchasedAt: '2026-11-01T02:00:00Z', quantity: 1, purchases: 3 },
        B: { productName: 'Rouge 12', category: 'makeup', lastPurchasedAt: '2026-09-10T02:00:00Z', quantity: 1, purchases: 5 },
        C: { category: 'fragrance', lastPurchasedAt: '2026-10-01T02:00:00Z', quantity: 1, purchases: 1 },
        D: { productName: 'Old Cream', category: 'skincare', lastPurchasedAt: '2025-01-01T02:00:00Z', quantity: 1, purchases: 1 },
      },
    });
    const old = newTask({ customerId: 'c1', occasionKey: 'winback#1', campaignId: 'winback', expiresAt: Date.parse('2026-07-01T00:00:00Z') }, 'A01', Date.parse('2026-06-01T00:00:00Z'));
    const recent = newTask({ customerId: 'c1', occasionKey: 'winback#2', campaignId: 'winback', expiresAt: Date.parse('2026-11-01T00:00:00Z') }, 'A01', Date.parse('2026-10-01T00:00:00Z'));
    expect(clientHistory(profile, [old, answerTask(recent, 'done', 1, Date.parse('2026-10-02T00:00:00Z')).task], 'Asia/Shanghai')).toEqual({
      topCategories: ['skincare', 'makeup', 'fragrance'],
      lastPurchases: [
        { name: 'Night Serum', date: '2026-11-01' },
        { name: 'C', date: '2026-10-01' },
        { name: 'Rouge 12', date: '2026-09-10' },
      ],
      pastTaskList: [
        { campaignId: 'winback', date: '2026-10-01', outcome: 'done' },
        { campaignId: 'winback', date: '2026-06-01', outcome: 'open' },
      ],
    });
  });

  it('name a last purchase the orders export gave no name for from the products export, else by its SKU', () => {
    const profile = clientProfile({
      skus: {
        'SK-1': { lastPurchasedAt: '2026-11-01T02:00:00Z', quantity: 1, purchases: 1 },
        'SK-2': { lastPurchasedAt: '2026-10-01T02:00:00Z', quantity: 1, purchases: 1 },
      },
    });
    const catalog = new Map([['SK-1', { sku: 'SK-1', name: 'Hydra Night Cream' }]]);
    expect(clientHistory(profile, [], 'Asia/Shanghai', catalog).lastPurchases).toEqual([
      { name: 'Hydra Night Cream', date: '2026-11-01' },
      { name: 'SK-2', date: '2026-10-01' },
    ]);
  });

  it('are one per client per handover: the key holds the week and the new advisor', () => {
    const handover = { customerId: 'c1', from: 'A01', to: 'A02' };
    const task = introductionTask(handover, '2026-W48', 'VIC', Date.parse('2026-11-23T00:00:00Z'));
    expect(task).toMatchObject({ customerId: 'c1', occasionKey: 'advisor-introduction#2026-W48#A02', campaignId: 'advisor-introduction', advisorId: 'A02', tier: 'VIC', status: 'open', version: 1 });
    expect(introductionKey(handover, '2026-W48')).toBe(task.occasionKey);
    expect(isIntroduction(task)).toBe(true);
    expect(task.withoutEmail).toBeUndefined();
  });

  it('given without a send link say so on the task, and keep it through the advisor\'s answers', () => {
    const task = introductionTask({ customerId: 'c1', from: 'A01', to: 'A02' }, '2026-W48', 'VIC', Date.parse('2026-11-23T00:00:00Z'), true);
    expect(task.withoutEmail).toBe(true);
    const snoozed = answerTask(task, 'snooze', 1, Date.parse('2026-11-24T00:00:00Z'));
    expect(snoozed).toMatchObject({ outcome: 'recorded', task: { status: 'snoozed', withoutEmail: true } });
  });

  it('go by email only to a client the exports still have, with an address, consent and no suppression', () => {
    expect(unreachableBecause(undefined, false)).toBe('no-profile');
    expect(unreachableBecause({ acceptsMarketing: true }, false)).toBe('no-address');
    expect(unreachableBecause({ email: 'a@example.com' }, false)).toBe('no-consent');
    expect(unreachableBecause({ email: 'a@example.com', acceptsMarketing: true }, true)).toBe('suppressed');
    expect(unreachableBecause({ email: 'a@example.com', acceptsMarketing: true }, false)).toBeUndefined();
    // A client the exports no longer have (deleted on the platform) gets nothing, consent or not.
    expect(unreachableBecause({ email: 'a@example.com', acceptsMarketing: true, absentSince: '2026-11-09' }, false)).toBe('absent-from-export');
  });
});
