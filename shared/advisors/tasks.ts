import type { DueOccasion } from '#shared/campaigns/due.ts';
import { isQuietTime } from '#shared/campaigns/policy.ts';
import type { QuietHours } from '#shared/campaigns/schema.ts';
import type { Tier } from '#shared/model.ts';
import { MS_PER_DAY } from '#shared/time.ts';

const MS_PER_MINUTE = 60_000;
const MS_PER_HOUR = 3_600_000;

/** The campaign id of the task emails in the send ledger. */
export const ADVISOR_TASK_CAMPAIGN = 'advisor-task';

/** The ledger key of the task email for an occasion: in the advisor's partition, naming the client. */
export function taskEmailLedgerKey(advisorId: string, occasion: Pick<DueOccasion, 'customerId' | 'occasionKey'>): { customerId: string; occasionKey: string } {
  return { customerId: `advisor#${advisorId}`, occasionKey: `${ADVISOR_TASK_CAMPAIGN}#${occasion.customerId}#${occasion.occasionKey}` };
}

/**
 * One touch, not two (issue 16): a personal occasion of a client whose advisor is active (a note
 * that would go out in the advisor's name, shared/sender/compose.ts noteAdvisor) first becomes a
 * task for the advisor, with the drafted note and three signed one-click links: "done" (they took
 * care of it themselves: no email), "snooze a week", "send the email for me". The email goes out
 * only when the advisor asks for it, or has not answered within config.advisors.taskWaitDays of
 * receiving the task (of the snooze's end, after a snooze), and at the latest a margin before the
 * occasion's window closes (latestNoteTime): the wait never makes the client miss the note. Pure: the task and the clock in, the
 * decision out; the store (shared/store/task-store.ts) keeps the task and every answer.
 */

export const TASK_ACTIONS = ['done', 'snooze', 'send'] as const;

/** The campaign id of the introduction tasks after a handover (handover.ts): not a campaign of the config. */
export const INTRODUCTION_CAMPAIGN = 'advisor-introduction';
export type TaskAction = (typeof TASK_ACTIONS)[number];

/**
 * open: waiting for the advisor; snoozed: the advisor asked for a week; send-requested: the
 * advisor asked us to send; done: the advisor took care of it (no email); emailed: the note went
 * out; unsent: it was to go out, but the client can no longer be emailed (no address, consent
 * withdrawn, suppressed): nothing more happens; reassigned: the client was handed to another
 * advisor before the note went out: this advisor's part ends (their links act no more), and the
 * new advisor gets a task of their own (shared/sender/advisor-tasks.ts); sending: the sender took
 * the task to send its note (before the SES call, so that no answer is recorded while the note
 * goes): the links act no more, and a later hour sends it if this one could not (the send ledger
 * never sends it twice).
 */
export type TaskStatus = 'open' | 'snoozed' | 'send-requested' | 'sending' | 'done' | 'emailed' | 'unsent' | 'reassigned';

/** Why the note went out: the advisor asked, or did not answer in time. */
export type EmailedBecause = 'advisor-asked' | 'no-answer';

export interface TaskEvent {
  at: number;
  event: 'created' | TaskAction | 'sending' | 'emailed' | 'unsent' | 'reassigned';
  because?: EmailedBecause;
  /** unsent: why the client could not be emailed. */
  reason?: string;
  /** reassigned: the client's advisor now. */
  to?: string;
}

export interface AdvisorTask {
  customerId: string;
  occasionKey: string;
  campaignId: string;
  advisorId: string;
  /** The client's tier when the task was given: the follow-through compares with the control group of the same campaign and tier. */
  tier?: Tier;
  /** When the task reached the advisor (the task email's claim). */
  createdAt: number;
  status: TaskStatus;
  /** Moves on with every answer: a link carries the version it was made for, so it acts at most once. */
  version: number;
  snoozedUntil?: number;
  /** When the occasion stops being due (the win-back's window): the task is pointless after it. */
  expiresAt: number;
  /**
   * The latest the note waits for the advisor (latestNoteTime), whatever the wait or a snooze
   * says: set on the tasks of campaign notes; an introduction has none (its wait fits its window).
   */
  sendBy?: number;
  /** An introduction given without a send link (the client could not be emailed then): its wait ends without an email, whatever the client's consent later. */
  withoutEmail?: true;
  /** Every step, oldest first: created, the advisor's answers, the email. */
  history: TaskEvent[];
}

/** How long "snooze a week" is. */
export const SNOOZE_MS = 7 * MS_PER_DAY;

export type TaskVerdict =
  | { action: 'send'; because: EmailedBecause }
  | { action: 'wait'; until: number }
  /** The advisor took care of it, or the note has gone already: nothing more to send. */
  | { action: 'skip'; status: 'done' | 'emailed' | 'unsent' | 'reassigned' };

/**
 * How long before the window closes the note goes at the latest: two of the sender's hourly runs,
 * so one late or failed run still leaves one before the close.
 */
export const NOTE_MARGIN_MS = 2 * MS_PER_HOUR;

/**
 * The latest time a note may wait for its advisor: the last instant from which the next
 * NOTE_MARGIN_MS are outside the client's quiet hours and end by the window's close
 * (`expiresAt`), so that an hourly run sends it before the occasion passes (a time in quiet hours
 * would only defer it to their end, which may be past the close). Never before `notBefore` (the
 * task's creation): a window too short for the margin sends the note as soon as it may go.
 */
export function latestNoteTime(expiresAt: number, timeZone: string, quietHours: QuietHours, notBefore: number): number {
  let latest = expiresAt - NOTE_MARGIN_MS;
  while (latest > notBefore) {
    const quiet = firstQuietMinute(latest, latest + NOTE_MARGIN_MS, timeZone, quietHours);
    if (quiet === undefined) return latest;
    // Every start from here back to `quiet - NOTE_MARGIN_MS` (exclusive) would reach into it.
    latest = quiet - NOTE_MARGIN_MS;
  }
  return notBefore;
}

/** The first instant in [from, to) in quiet hours, if any: the clock enters and leaves them on whole minutes. */
function firstQuietMinute(from: number, to: number, timeZone: string, quietHours: QuietHours): number | undefined {
  for (let instant = from; instant < to; instant = (Math.floor(instant / MS_PER_MINUTE) + 1) * MS_PER_MINUTE) {
    if (isQuietTime(instant, timeZone, quietHours)) return instant;
  }
  return undefined;
}

/**
 * When the note goes out unless the advisor answers: waitDays after the task reached them, or
 * after a snooze ended, but never past the task's sendBy.
 */
export function sendAfter(task: Pick<AdvisorTask, 'createdAt' | 'snoozedUntil' | 'sendBy'>, waitDays: number): number {
  const waitEnds = (task.snoozedUntil ?? task.createdAt) + waitDays * MS_PER_DAY;
  return task.sendBy === undefined ? waitEnds : Math.min(waitEnds, task.sendBy);
}

/** The wait-then-send rule: what the sender does with a task's occasion at `now`. */
export function taskVerdict(task: AdvisorTask, now: number, waitDays: number): TaskVerdict {
  switch (task.status) {
    case 'done':
    case 'emailed':
    case 'unsent':
    case 'reassigned':
      return { action: 'skip', status: task.status };
    case 'send-requested':
      return { action: 'send', because: 'advisor-asked' };
    case 'sending':
      return { action: 'send', because: sendingBecause(task) };
    case 'open':
    case 'snoozed': {
      const until = sendAfter(task, waitDays);
      return now >= until ? { action: 'send', because: 'no-answer' } : { action: 'wait', until };
    }
  }
}

/** Why a task taken for sending is sent: as its latest 'sending' step says. */
function sendingBecause(task: Pick<AdvisorTask, 'history'>): EmailedBecause {
  return [...task.history].reverse().find((event) => event.event === 'sending')?.because ?? 'no-answer';
}

/** A new task for an occasion, as it reaches its advisor at `now`; `sendBy`: see AdvisorTask. */
export function newTask(occasion: Pick<DueOccasion, 'customerId' | 'occasionKey' | 'campaignId' | 'expiresAt'>, advisorId: string, now: number, tier?: Tier, sendBy?: number): AdvisorTask {
  return {
    customerId: occasion.customerId,
    occasionKey: occasion.occasionKey,
    campaignId: occasion.campaignId,
    advisorId,
    ...(tier === undefined ? {} : { tier }),
    createdAt: now,
    status: 'open',
    version: 1,
    expiresAt: occasion.expiresAt,
    ...(sendBy === undefined ? {} : { sendBy }),
    history: [{ at: now, event: 'created' }],
  };
}

export type AnswerResult =
  | { outcome: 'recorded'; task: AdvisorTask }
  /** The link was made for an earlier state: it was used already, or another answer came first. */
  | { outcome: 'already-answered'; task: AdvisorTask }
  /** The task is settled (done, or the note went out) or its occasion has passed. */
  | { outcome: 'closed'; task: AdvisorTask };

/**
 * Whether a link made for `version` may still act: one made for the task as it is, or, once the
 * advisor snoozed it, the same email's "done" and "send" (a snooze is no answer to the client;
 * a second snooze from the same email is).
 */
function linkActs(task: AdvisorTask, action: TaskAction, version: number): boolean {
  return version === task.version || (task.status === 'snoozed' && action !== 'snooze' && version === task.version - 1);
}

/** The advisor's answer through a link made for `version`. Pure: the caller stores the task on 'recorded'. */
export function answerTask(task: AdvisorTask, action: TaskAction, version: number, now: number): AnswerResult {
  if (task.status === 'done' || task.status === 'sending' || task.status === 'emailed' || task.status === 'unsent' || task.status === 'reassigned' || now >= task.expiresAt) {
    return { outcome: 'closed', task };
  }
  if (!linkActs(task, action, version)) return { outcome: 'already-answered', task };
  const { snoozedUntil: _previous, ...rest } = task;
  const next: AdvisorTask = {
    ...rest,
    status: action === 'done' ? 'done' : action === 'snooze' ? 'snoozed' : 'send-requested',
    version: task.version + 1,
    ...(action === 'snooze' ? { snoozedUntil: now + SNOOZE_MS } : {}),
    history: [...task.history, { at: now, event: action }],
  };
  return { outcome: 'recorded', task: next };
}

/** The task taken by the sender for its note, before the SES call: no answer acts on it any more. */
export function sendingTask(task: AdvisorTask, because: EmailedBecause, now: number): AdvisorTask {
  return { ...task, status: 'sending', version: task.version + 1, history: [...task.history, { at: now, event: 'sending', because }] };
}

/**
 * The task once its note went out. A task the advisor marked done keeps its answer (a note sent
 * without being taken first, as the introductions are): the email is added to its history only.
 */
export function emailedTask(task: AdvisorTask, because: EmailedBecause, now: number): AdvisorTask {
  const history = [...task.history, { at: now, event: 'emailed' as const, because }];
  return { ...task, status: task.status === 'done' ? 'done' : 'emailed', version: task.version + 1, history };
}

/** The task once its note turned out impossible to send (`reason`: no address, no consent, suppressed). */
export function unsentTask(task: AdvisorTask, because: EmailedBecause, reason: string, now: number): AdvisorTask {
  return { ...task, status: 'unsent', version: task.version + 1, history: [...task.history, { at: now, event: 'unsent', because, reason }] };
}

/** The task once its client was handed to advisor `to` before the note went out: closed, with the handover in its history. */
export function reassignedTask(task: AdvisorTask, to: string, now: number): AdvisorTask {
  return { ...task, status: 'reassigned', version: task.version + 1, history: [...task.history, { at: now, event: 'reassigned', to }] };
}

/**
 * The task key of an occasion for `advisorId` after a handover (the occasion's first task, under
 * the occasion's own key, was another advisor's): one task per advisor and handover to them, so
 * the old advisor's links never act on the new advisor's task, and each task email has its own
 * ledger key. `round` counts the handovers to this advisor for the occasion: a client handed
 * A→B→A→B gets B's second task under round 2 (its first, closed 'reassigned', keeps its key).
 */
export function handedOverTaskKey(occasionKey: string, advisorId: string, round = 1): string {
  return round === 1 ? `${occasionKey}#to#${advisorId}` : `${occasionKey}#to#${advisorId}#${round}`;
}

/** Whether `taskOccasionKey` is a task of the occasion `occasionKey`: its first task or one after a handover. */
export function isTaskOfOccasion(taskOccasionKey: string, occasionKey: string): boolean {
  return taskOccasionKey === occasionKey || taskOccasionKey.startsWith(`${occasionKey}#to#`);
}

/** How an occasion ended without its advisor's task: its note went without it, or it can no longer go (the reason: OCCASION_ENDS_UNSENT). */
export type EndedWithoutTask = { emailed: true } | { unsent: string };

/**
 * How the occasion's send-ledger status says it ended, as the hour that wrote it closes its tasks
 * (shared/sender/advisor-tasks.ts closeTasksOfOccasion): 'sent' (the note went), or a final
 * decision that it cannot go; undefined while it may still go.
 */
export function occasionEndOf(ledgerStatus: string): EndedWithoutTask | undefined {
  if (ledgerStatus === 'sent') return { emailed: true };
  return OCCASION_ENDS_UNSENT.has(ledgerStatus) ? { unsent: ledgerStatus } : undefined;
}

/**
 * The send ledger's final statuses of an occasion whose note never went: no consent, suppressed,
 * its window closed, SES refused it for good (`failed`), or the lapse was mailed under another key
 * (`already-mailed`).
 */
export const OCCASION_ENDS_UNSENT: ReadonlySet<string> = new Set(['expired', 'no-consent', 'suppressed', 'failed', 'already-mailed']);

/** An unsettled task closed once its occasion ended without it: 'emailed', or 'unsent' with the reason. */
export function closedWithoutTask(task: AdvisorTask, end: EndedWithoutTask, now: number): AdvisorTask {
  const because = answeredBecause(task);
  return 'emailed' in end ? emailedTask(task, because, now) : unsentTask(task, because, end.unsent, now);
}

/** The advisor's part in a task closed without it: they had asked for the email, or left it to the wait. */
function answeredBecause(task: AdvisorTask): EmailedBecause {
  const verdict = taskVerdict(task, Number.POSITIVE_INFINITY, 0);
  return verdict.action === 'send' && verdict.because === 'advisor-asked' ? 'advisor-asked' : 'no-answer';
}

/**
 * The occasion keys a task may be of, most likely first: its own key (the occasion's first task),
 * then, for a key of the shape handedOverTaskKey gives for its advisor, the key before that suffix.
 * A key may itself hold '#' (a SKU, an order id): the caller checks the campaign of what it finds.
 */
export function occasionKeysOfTask(task: Pick<AdvisorTask, 'occasionKey' | 'advisorId'>): string[] {
  const marker = `#to#${task.advisorId}`;
  const at = task.occasionKey.lastIndexOf(marker);
  if (at <= 0) return [task.occasionKey];
  const rest = task.occasionKey.slice(at + marker.length);
  const handedOver = rest === '' || /^#[1-9][0-9]*$/.test(rest);
  return handedOver ? [task.occasionKey, task.occasionKey.slice(0, at)] : [task.occasionKey];
}
