import type { AdvisorTask } from './tasks.ts';

/**
 * Follow-through (issue 16; domain.md: advisors' follow-through on their list is itself a
 * measure): what became of the tasks an advisor was given. Pure.
 */

export interface TaskTally {
  /** Tasks given in the period. */
  given: number;
  /** The advisor took care of it in person: no email. */
  done: number;
  /** The advisor asked us to send the note (sent, or about to be). */
  asked: number;
  /** Snoozed and not answered since. */
  snoozed: number;
  /** No answer within the wait: the note went out on its own. */
  left: number;
  /** Still waiting for an answer. */
  open: number;
}

export function emptyTally(): TaskTally {
  return { given: 0, done: 0, asked: 0, snoozed: 0, left: 0, open: 0 };
}

/** Which bucket of the tally a task is in now. */
export function tallyBucket(task: Pick<AdvisorTask, 'status' | 'history'>): Exclude<keyof TaskTally, 'given'> {
  switch (task.status) {
    case 'done':
      return 'done';
    case 'send-requested':
      return 'asked';
    case 'snoozed':
      return 'snoozed';
    case 'open':
      return 'open';
    case 'emailed':
    case 'unsent':
      // The advisor's part is the same whether the note could go or not: they asked, or left it to the wait.
      return task.history.some((event) => (event.event === 'emailed' || event.event === 'unsent') && event.because === 'advisor-asked') ? 'asked' : 'left';
  }
}

export function tallyTasks(tasks: readonly Pick<AdvisorTask, 'status' | 'history'>[]): TaskTally {
  const tally = emptyTally();
  for (const task of tasks) {
    tally.given++;
    tally[tallyBucket(task)]++;
  }
  return tally;
}

/** The tallies added up (per store, for the whole brand). */
export function addTallies(tallies: readonly TaskTally[]): TaskTally {
  const sum = emptyTally();
  for (const tally of tallies) for (const key of Object.keys(sum) as (keyof TaskTally)[]) sum[key] += tally[key];
  return sum;
}
