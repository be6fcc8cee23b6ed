import { BOUGHT_WITHIN_DAYS, type AdvisorFollowThrough, type BoughtTally, type TaskTally } from '#shared/advisors/follow-through.ts';

/**
 * The advisors' follow-through in words, for the nightly report and the team email (both in
 * English, by customer and advisor id only). Pure.
 */

/** Below this many clients on either side, the comparison is flagged as a small sample. */
export const SMALL_SAMPLE = 30;

const count = (value: number) => value.toLocaleString('en-US');
const rate = (tally: BoughtTally) => (tally.followed === 0 ? '' : ` (${Math.round((100 * tally.bought) / tally.followed)}%)`);

export function taskTallyText(tasks: TaskTally): string {
  return `${count(tasks.given)} given · ${count(tasks.done)} done in person · ${count(tasks.asked)} sent at their request · ${count(tasks.snoozed)} snoozed · ${count(tasks.left)} sent after the wait · ${count(tasks.open)} open${tasks.reassigned > 0 ? ` · ${count(tasks.reassigned)} handed over` : ''}`;
}

/** "4 of 10 (40%)", or "none followed yet" with the maturing count. */
export function boughtText(tally: BoughtTally): string {
  const maturing = tally.maturing > 0 ? `, ${count(tally.maturing)} more still inside the ${BOUGHT_WITHIN_DAYS} days` : '';
  if (tally.followed === 0) return `none followed to the end yet${maturing}`;
  return `${count(tally.bought)} of ${count(tally.followed)}${rate(tally)}${maturing}`;
}

/** The comparison in one line: after a task against the control group, with the small-sample warning. */
export function comparisonText(followThrough: AdvisorFollowThrough): string {
  const { total, control, boughtWithinDays } = followThrough;
  const small = total.bought.followed < SMALL_SAMPLE || control.followed < SMALL_SAMPLE ? ' Small samples: a hint, not a verdict.' : '';
  return (
    `Bought within ${boughtWithinDays} days: after an advisor's task ${boughtText(total.bought)}; ` +
    `comparable clients without a task (held out by the control group of the same campaign and tier) ${boughtText(control)}.${small}`
  );
}

/** The clients waiting for a new advisor, per store of the advisor who left; undefined when none. */
export function needsAdvisorText(followThrough: AdvisorFollowThrough): string | undefined {
  const { needsNewAdvisor } = followThrough;
  if (needsNewAdvisor.count === 0) return undefined;
  const stores = Object.entries(needsNewAdvisor.byStore)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([store, n]) => `${store} ${count(n)}`)
    .join(', ');
  const more = needsNewAdvisor.count > needsNewAdvisor.customerIds.length ? `, and ${count(needsNewAdvisor.count - needsNewAdvisor.customerIds.length)} more` : '';
  return `${count(needsNewAdvisor.count)} (${stores}): ${needsNewAdvisor.customerIds.join(', ')}${more}`;
}
