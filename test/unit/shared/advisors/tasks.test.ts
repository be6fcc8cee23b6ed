import { describe, expect, it } from 'vitest';
import { addTallies, tallyTasks } from '#shared/advisors/follow-through.ts';
import { answerTask, emailedTask, handedOverTaskKey, isTaskOfOccasion, newTask, reassignedTask, sendAfter, SNOOZE_MS, taskVerdict, type AdvisorTask } from '#shared/advisors/tasks.ts';
import { signTaskToken, verifyTaskToken, type TaskLink } from '#shared/unsubscribe/task-token.ts';
import { signUnsubscribeToken } from '#shared/unsubscribe/token.ts';

/** Issue 16 point 3: one touch. The wait-then-send rule and the answers, pure, with the clock as an argument. */

const DAY = 86_400_000;
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
