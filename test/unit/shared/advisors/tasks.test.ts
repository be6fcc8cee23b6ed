import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addTallies, tallyTasks } from '#shared/advisors/follow-through.ts';
import {
  answerTask,
  closedWithoutTask,
  emailedTask,
  handedOverTaskKey,
  isTaskOfOccasion,
  latestNoteTime,
  newTask,
  NOTE_MARGIN_MS,
  occasionEndOf,
  occasionKeysOfTask,
  reassignedTask,
  sendAfter,
  sendingTask,
  SNOOZE_MS,
  taskVerdict,
  type AdvisorTask,
} from '#shared/advisors/tasks.ts';
import { isQuietTime } from '#shared/campaigns/policy.ts';
import { at } from '#test/support/time.ts';
import { signTaskToken, verifyTaskToken, type TaskLink } from '#shared/unsubscribe/task-token.ts';
import { signUnsubscribeToken } from '#shared/unsubscribe/token.ts';

/** Issue 16 point 3: one touch. The wait-then-send rule and the answers, pure, with the clock as an argument. */

const DAY = 86_400_000;
const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-23T02:00:00Z');
const occasion = { customerId: 'c1', occasionKey: 'winback#2026-11-23', campaignId: 'winback', expiresAt: T0 + 30 * DAY };
const task = (fields: Partial<AdvisorTask> = {}): AdvisorTask => ({ ...newTask(occasion, 'A01', T0), ...fields });

describe('the wait-then-send rule', () => {
  it('waits taskWaitDays after the task reached the advisor, then sends for want of an answer', () => {
    expect(taskVerdict(task(), T0, 3)).toEqual({ action: 'wait', until: T0 + 3 * DAY });
    expect(taskVerdict(task(), T0 + 3 * DAY - 1, 3)).toEqual({ action: 'wait', until: T0 + 3 * DAY });
    expect(taskVerdict(task(), T0 + 3 * DAY, 3)).toEqual({ action: 'send', because: 'no-answer' });
    // No wait configured: the note goes at once, the advisor told all the same.
    expect(taskVerdict(task(), T0, 0)).toEqual({ action: 'send', because: 'no-answer' });
  });

  it('sends at once when the advisor asks, never when they took care of it, and not twice', () => {
    expect(taskVerdict(task({ status: 'send-requested' }), T0 + 1, 3)).toEqual({ action: 'send', because: 'advisor-asked' });
    expect(taskVerdict(task({ status: 'done' }), T0 + 99 * DAY, 3)).toEqual({ action: 'skip', status: 'done' });
    expect(taskVerdict(task({ status: 'emailed' }), T0 + 99 * DAY, 3)).toEqual({ action: 'skip', status: 'emailed' });
  });

  it('a snooze moves the wait to a week later', () => {
    const snoozed = answerTask(task(), 'snooze', 1, T0 + DAY);
    expect(snoozed.outcome).toBe('recorded');
    const after = snoozed.task;
    expect(after).toMatchObject({ status: 'snoozed', version: 2, snoozedUntil: T0 + DAY + SNOOZE_MS });
    expect(sendAfter(after, 3)).toBe(T0 + DAY + SNOOZE_MS + 3 * DAY);
    expect(taskVerdict(after, T0 + 4 * DAY, 3)).toEqual({ action: 'wait', until: T0 + 11 * DAY });
    expect(taskVerdict(after, T0 + 11 * DAY, 3)).toEqual({ action: 'send', because: 'no-answer' });
  });
});

describe('the wait bounded by the occasion’s window', () => {
  const ZONE = 'Asia/Shanghai';
  const QUIET = { start: '21:00', end: '09:00' };
  // A VIC's first-purchase thanks: the order at 09:30, the task given at 10:00, the 72 h window closing at 09:30 three days on.
  const given = at('2026-11-23 10:00', ZONE);
  const closes = at('2026-11-26 09:30', ZONE);
  const thanks = { customerId: 'vic', occasionKey: 'first-purchase-thanks#o1', campaignId: 'first-purchase-thanks', expiresAt: closes };

  it('goes before the close, outside quiet hours: the evening before when the margin would fall in the night', () => {
    const sendBy = latestNoteTime(closes, ZONE, QUIET, given);
    // 07:30 on the last day is quiet, and 09:00–09:30 is too short for two hourly runs: 19:00 the day before (19:00–21:00 free).
    expect(sendBy).toBe(at('2026-11-25 19:00', ZONE));
    const task = newTask(thanks, 'A01', given, 'VIC', sendBy);
    // The 3-day wait would end on 26 November at 10:00, after the close: the note goes at sendBy instead.
    expect(taskVerdict(task, given, 3)).toEqual({ action: 'wait', until: sendBy });
    expect(taskVerdict(task, sendBy, 3)).toEqual({ action: 'send', because: 'no-answer' });
  });

  it('a snooze never takes the note past it', () => {
    const sendBy = latestNoteTime(closes, ZONE, QUIET, given);
    const snoozed = answerTask(newTask(thanks, 'A01', given, 'VIC', sendBy), 'snooze', 1, given + HOUR).task;
    expect(sendAfter(snoozed, 3)).toBe(sendBy);
    expect(taskVerdict(snoozed, sendBy, 3)).toEqual({ action: 'send', because: 'no-answer' });
  });

  it('the margin alone without quiet hours; the wait when it ends first; at once when the window is shorter than the margin', () => {
    expect(latestNoteTime(closes, ZONE, { start: '00:00', end: '00:00' }, given)).toBe(closes - NOTE_MARGIN_MS);
    const winback = { ...thanks, expiresAt: given + 30 * DAY };
    const sendBy = latestNoteTime(winback.expiresAt, ZONE, QUIET, given);
    expect(sendAfter(newTask(winback, 'A01', given, 'VIC', sendBy), 3)).toBe(given + 3 * DAY);
    expect(latestNoteTime(given + HOUR, ZONE, QUIET, given)).toBe(given);
  });

  it('introductions (no sendBy) keep the plain wait', () => {
    expect(sendAfter({ createdAt: T0 }, 3)).toBe(T0 + 3 * DAY);
  });

  const ZONES = ['Asia/Shanghai', 'Europe/Paris', 'America/New_York', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'America/Santiago', 'Pacific/Chatham'];
  const wallTime = fc.integer({ min: 0, max: 24 * 60 - 1 }).map((m) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`);
  const minutesOf = (time: string) => Number(time.slice(0, 2)) * 60 + Number(time.slice(3));
  // Quiet hours of at most 20 h a day (or none): a window of two days or more always has room for the margin.
  const quietHours = fc.tuple(wallTime, wallTime).filter(([start, end]) => (minutesOf(end) - minutesOf(start) + 24 * 60) % (24 * 60) <= 20 * 60).map(([start, end]) => ({ start, end }));

  it('property: for any window, wait, snooze and quiet hours, an hourly run sends the unanswered note before the window closes', () => {
    fc.assert(
      fc.property(
        fc.record({
          given: fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2027-12-31T00:00:00Z') }),
          windowMs: fc.integer({ min: 2 * DAY, max: 40 * DAY }),
          waitDays: fc.integer({ min: 0, max: 30 }),
          snoozeAt: fc.option(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true })),
          runPhase: fc.integer({ min: 0, max: HOUR - 1 }),
          zone: fc.constantFrom(...ZONES),
          quiet: quietHours,
        }),
        ({ given: createdAt, windowMs, waitDays, snoozeAt, runPhase, zone, quiet }) => {
          const expiresAt = createdAt + windowMs;
          const sendBy = latestNoteTime(expiresAt, zone, quiet, createdAt);
          expect(sendBy).toBeGreaterThanOrEqual(createdAt);
          expect(sendBy).toBeLessThanOrEqual(expiresAt - NOTE_MARGIN_MS);
          let task = newTask({ ...thanks, expiresAt }, 'A01', createdAt, 'VIC', sendBy);
          // The advisor snoozes while the note still waits (before its time), at any moment of the wait.
          let answeredAt = createdAt;
          if (snoozeAt !== null) {
            answeredAt = createdAt + Math.floor(snoozeAt * (sendAfter(task, waitDays) - createdAt));
            const answer = answerTask(task, 'snooze', 1, answeredAt);
            expect(answer.outcome).toBe('recorded');
            task = answer.task;
          }
          const due = sendAfter(task, waitDays);
          expect(due).toBeLessThanOrEqual(sendBy);
          // The hourly runs after the answer: the first one at or after `due` outside quiet hours sends the note.
          let run = createdAt - ((createdAt - runPhase) % HOUR) + HOUR;
          while (run < Math.max(due, answeredAt) || isQuietTime(run, zone, quiet)) run += HOUR;
          expect(taskVerdict(task, run, waitDays)).toEqual({ action: 'send', because: 'no-answer' });
          expect(run).toBeLessThan(expiresAt);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('answers through the links', () => {
  it('records each answer in the history and moves the version on', () => {
    const done = answerTask(task(), 'done', 1, T0 + 5);
    expect(done).toMatchObject({ outcome: 'recorded', task: { status: 'done', version: 2 } });
    expect(done.task.history.map((e) => e.event)).toEqual(['created', 'done']);
    expect(emailedTask(task({ status: 'send-requested', version: 2 }), 'advisor-asked', T0 + 9).history.at(-1)).toEqual({ at: T0 + 9, event: 'emailed', because: 'advisor-asked' });
  });

  it('a replayed link changes nothing: the same link twice, or another of the same email once one answered', () => {
    const sent = answerTask(task(), 'send', 1, T0 + 5).task;
    expect(answerTask(sent, 'send', 1, T0 + 6).outcome).toBe('already-answered');
    expect(answerTask(sent, 'done', 1, T0 + 6).outcome).toBe('already-answered');
    const snoozed = answerTask(task(), 'snooze', 1, T0 + 5).task;
    // After a snooze the email's "done" and "send" still act; its snooze link does not snooze again.
    expect(answerTask(snoozed, 'snooze', 1, T0 + 6).outcome).toBe('already-answered');
    expect(answerTask(snoozed, 'done', 1, T0 + 6)).toMatchObject({ outcome: 'recorded', task: { status: 'done', version: 3 } });
  });

  it('a settled task, or one whose occasion has passed, is closed', () => {
    expect(answerTask(task({ status: 'done' }), 'send', 1, T0).outcome).toBe('closed');
    expect(answerTask(task({ status: 'emailed' }), 'done', 1, T0).outcome).toBe('closed');
    expect(answerTask(task(), 'done', 1, occasion.expiresAt).outcome).toBe('closed');
  });
});

describe('a task taken for its note', () => {
  it('closes the links, is sent for the same reason by a later hour, and counts as the advisor left it or asked', () => {
    const taken = sendingTask(task({ version: 2, status: 'send-requested' }), 'advisor-asked', T0 + 3 * DAY);
    expect(taken).toMatchObject({ status: 'sending', version: 3 });
    for (const action of ['done', 'snooze', 'send'] as const) expect(answerTask(taken, action, 3, T0 + 3 * DAY + 1).outcome).toBe('closed');
    expect(taskVerdict(taken, T0 + 3 * DAY + HOUR, 3)).toEqual({ action: 'send', because: 'advisor-asked' });
    expect(tallyTasks([taken, sendingTask(task(), 'no-answer', T0 + 3 * DAY)])).toMatchObject({ asked: 1, left: 1 });
    expect(emailedTask(taken, 'advisor-asked', T0 + 3 * DAY + 5)).toMatchObject({ status: 'emailed', version: 4 });
  });

  it('a done answer is never overwritten by the email: it keeps its status, the email in its history', () => {
    const done = answerTask(task(), 'done', 1, T0 + DAY).task;
    const after = emailedTask(done, 'no-answer', T0 + 3 * DAY);
    expect(after.status).toBe('done');
    expect(after.history.map((e) => e.event)).toEqual(['created', 'done', 'emailed']);
  });
});

describe('a task whose client was handed over', () => {
  it('is closed: its links act no more, the sender skips it, and its history says to whom', () => {
    const handed = reassignedTask(answerTask(task(), 'send', 1, T0 + 1).task, 'A02', T0 + DAY);
    expect(handed).toMatchObject({ status: 'reassigned', version: 3 });
    expect(handed.history.at(-1)).toEqual({ at: T0 + DAY, event: 'reassigned', to: 'A02' });
    expect(taskVerdict(handed, T0 + 30 * DAY, 3)).toEqual({ action: 'skip', status: 'reassigned' });
    for (const action of ['done', 'snooze', 'send'] as const) expect(answerTask(handed, action, handed.version, T0 + DAY + 1).outcome).toBe('closed');
    expect(tallyTasks([handed])).toMatchObject({ given: 1, reassigned: 1 });
  });

  it("the new advisor's task key belongs to the occasion and no other", () => {
    const key = handedOverTaskKey('winback#2026-11-23', 'A02');
    expect(isTaskOfOccasion(key, 'winback#2026-11-23')).toBe(true);
    expect(isTaskOfOccasion('winback#2026-11-23', 'winback#2026-11-23')).toBe(true);
    expect(isTaskOfOccasion(key, 'winback#2026-11-2')).toBe(false);
  });
});

describe('task link tokens', () => {
  const SECRET = 'k'.repeat(40);
  const link: TaskLink = { customerId: 'c1', occasionKey: 'winback#2026-11-23', action: 'send', version: 1, expiresAt: T0 + 14 * DAY };

  it('verifies what it signed, until it expires; a newer key still verifies with the old one held', () => {
    const token = signTaskToken(link, SECRET);
    expect(verifyTaskToken(token, [SECRET], T0)).toEqual({ valid: true, link });
    expect(verifyTaskToken(token, ['n'.repeat(40), SECRET], T0)).toEqual({ valid: true, link });
    expect(verifyTaskToken(token, [SECRET], link.expiresAt)).toEqual({ valid: false, reason: 'expired' });
  });

  it('refuses a forged, altered or foreign token', () => {
    const token = signTaskToken(link, SECRET);
    const [payload = '', signature = '', keyId = ''] = token.split('.');
    // Another key: not ours.
    expect(verifyTaskToken(signTaskToken(link, 'x'.repeat(40)), [SECRET], T0)).toMatchObject({ valid: false, reason: 'forged' });
    // The action changed to "done", the signature kept.
    const altered = Buffer.from(JSON.stringify({ c: 'c1', o: link.occasionKey, a: 'done', v: 1, e: link.expiresAt })).toString('base64url');
    expect(verifyTaskToken(`${altered}.${signature}.${keyId}`, [SECRET], T0)).toMatchObject({ valid: false, reason: 'forged' });
    // A later expiry, the signature kept.
    const longer = Buffer.from(JSON.stringify({ c: 'c1', o: link.occasionKey, a: 'send', v: 1, e: link.expiresAt * 2 })).toString('base64url');
    expect(verifyTaskToken(`${longer}.${signature}.${keyId}`, [SECRET], T0).valid).toBe(false);
    // An unsubscribe token of the same key is not a task token.
    expect(verifyTaskToken(signUnsubscribeToken('c1', SECRET), [SECRET], T0).valid).toBe(false);
    for (const bad of ['', 'a.b', `${payload}.${signature}`, `${payload}!.${signature}.${keyId}`, `${payload}.${signature}x.${keyId}`]) expect(verifyTaskToken(bad, [SECRET], T0).valid).toBe(false);
  });
});

describe('follow-through (issue 16 point 6)', () => {
  it('counts what became of the tasks: done, asked, snoozed, left to the email, open', () => {
    const base = task();
    const tasks = [
      answerTask(base, 'done', 1, T0 + 1).task,
      emailedTask(answerTask(base, 'send', 1, T0 + 1).task, 'advisor-asked', T0 + 2),
      answerTask(base, 'send', 1, T0 + 1).task,
      answerTask(base, 'snooze', 1, T0 + 1).task,
      emailedTask(base, 'no-answer', T0 + 3 * DAY),
      base,
    ];
    expect(tallyTasks(tasks)).toEqual({ given: 6, done: 1, asked: 2, snoozed: 1, left: 1, open: 1, reassigned: 0 });
    expect(addTallies([tallyTasks(tasks), tallyTasks([base])])).toEqual({ given: 7, done: 1, asked: 2, snoozed: 1, left: 1, open: 2, reassigned: 0 });
  });
});

describe('a task whose occasion ended without it', () => {
  it('finds its occasion key: its own, and the key before a handover suffix for its advisor, whatever # the key holds', () => {
    expect(occasionKeysOfTask({ occasionKey: 'winback#2026-09-24', advisorId: 'A01' })).toEqual(['winback#2026-09-24']);
    expect(occasionKeysOfTask({ occasionKey: handedOverTaskKey('winback#2026-09-24', 'B02'), advisorId: 'B02' })).toEqual(['winback#2026-09-24#to#B02', 'winback#2026-09-24']);
    expect(occasionKeysOfTask({ occasionKey: handedOverTaskKey('replenish#SKU#to#A01', 'A01', 3), advisorId: 'A01' })).toEqual(['replenish#SKU#to#A01#to#A01#3', 'replenish#SKU#to#A01']);
    // Another advisor's suffix, or one that is no round: the key is the occasion's own.
    expect(occasionKeysOfTask({ occasionKey: 'replenish#SKU#to#A01', advisorId: 'A0' })).toEqual(['replenish#SKU#to#A01']);
    expect(occasionKeysOfTask({ occasionKey: 'replenish#SKU#to#A01#x', advisorId: 'A01' })).toEqual(['replenish#SKU#to#A01#x']);
  });

  it('reads the ledger as the hour closes: sent is emailed, a final no (refused for good, mailed under another key included) is unsent with its reason, anything else leaves it', () => {
    expect(occasionEndOf('sent')).toEqual({ emailed: true });
    for (const status of ['expired', 'no-consent', 'suppressed', 'failed', 'already-mailed']) expect(occasionEndOf(status)).toEqual({ unsent: status });
    for (const status of ['claimed', 'maybe-sent', 'deferred', 'capped', 'advisor-handled']) expect(occasionEndOf(status)).toBeUndefined();
  });

  it('is closed keeping the advisor\'s part: asked for the email, or left it to the wait', () => {
    const NOW = at('2026-11-23 10:00', 'Asia/Shanghai');
    const task = newTask({ customerId: 'c1', occasionKey: 'winback#1', campaignId: 'winback', expiresAt: NOW + 10 * DAY }, 'A01', NOW);
    const asked = answerTask(task, 'send', 1, NOW + HOUR);
    expect(asked.outcome).toBe('recorded');
    expect(closedWithoutTask(asked.task, { emailed: true }, NOW + 2 * HOUR)).toMatchObject({ status: 'emailed', version: 3, history: [{ event: 'created' }, { event: 'send' }, { event: 'emailed', because: 'advisor-asked' }] });
    expect(closedWithoutTask(task, { unsent: 'no-consent' }, NOW + 2 * HOUR)).toMatchObject({ status: 'unsent', version: 2, history: [{ event: 'created' }, { event: 'unsent', because: 'no-answer', reason: 'no-consent' }] });
  });
});
