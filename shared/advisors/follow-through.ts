import { FOLLOW_UP_PERIOD_DAYS } from '#shared/config.ts';
import { emptyDictionary, ownEntry } from '#shared/dictionary.ts';
import type { AdvisorRecord, OrderFact } from '#shared/model.ts';
import { countsAsPurchase } from '#shared/tiering/spend.ts';
import { MS_PER_DAY } from '#shared/time.ts';
import { INTRODUCTION_CAMPAIGN, type AdvisorTask } from './tasks.ts';

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
  /** The client was handed to another advisor before the note went out. */
  reassigned: number;
}

export function emptyTally(): TaskTally {
  return { given: 0, done: 0, asked: 0, snoozed: 0, left: 0, open: 0, reassigned: 0 };
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
    case 'reassigned':
      return 'reassigned';
    case 'sending':
    case 'emailed':
    case 'unsent':
      // The advisor's part is the same whether the note could go or not: they asked, or left it to the wait.
      return task.history.some((event) => (event.event === 'sending' || event.event === 'emailed' || event.event === 'unsent') && event.because === 'advisor-asked') ? 'asked' : 'left';
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

/**
 * Did a task help? (issue 16 point 6.) A client "bought" when they placed an order with a positive
 * net amount within BOUGHT_WITHIN_DAYS after the task reached the advisor, as the campaign results
 * count a conversion. The comparison is the campaigns' control group: clients of the same campaign
 * and the same tier who were held out (no task, no email) in the same period. It is randomised
 * (the control draw is a hash of client and campaign), so it is the honest "without a task", but
 * VIC control groups are small: the counts are shown beside every rate. Introductions have no
 * control group and stay out of the comparison; their outcomes are in the tallies.
 */
export const BOUGHT_WITHIN_DAYS = 30;

export interface BoughtTally {
  /** Clients followed to the end of their 30 days. */
  followed: number;
  /** Of those, how many bought within the 30 days. */
  bought: number;
  /** Clients whose 30 days have not ended yet: not counted above. */
  maturing: number;
}

/** What one shard (or a whole night) saw: per advisor, after their tasks; and the control group. Adds up across shards. */
export interface TaskFollowUps {
  byAdvisor: Record<string, BoughtTally>;
  control: BoughtTally;
}

/** A control-group decision of a campaign (the ledger's 'held-out' entry). */
export interface ControlDecision {
  customerId: string;
  campaignId: string;
  tier?: string;
  /** When the email would have gone (the held-out claim). */
  at: number;
}

export function emptyBought(): BoughtTally {
  return { followed: 0, bought: 0, maturing: 0 };
}

export function addBought(a: BoughtTally, b: BoughtTally): BoughtTally {
  return { followed: a.followed + b.followed, bought: a.bought + b.bought, maturing: a.maturing + b.maturing };
}

export function mergeFollowUps(parts: readonly TaskFollowUps[]): TaskFollowUps {
  const byAdvisor = emptyDictionary<BoughtTally>();
  let control = emptyBought();
  for (const part of parts) {
    for (const [advisorId, tally] of Object.entries(part.byAdvisor)) byAdvisor[advisorId] = addBought(byAdvisor[advisorId] ?? emptyBought(), tally);
    control = addBought(control, part.control);
  }
  return { byAdvisor, control };
}

/** Whether the orders hold a purchase (positive net amount) in (from, from + BOUGHT_WITHIN_DAYS days]. */
export function boughtWithin(orders: readonly Pick<OrderFact, 'orderedAt' | 'netMinor'>[], from: number): boolean {
  const until = from + BOUGHT_WITHIN_DAYS * MS_PER_DAY;
  return orders.some((order) => order.orderedAt > from && order.orderedAt <= until && countsAsPurchase(order));
}

/** The campaign and tier a control decision must share with a task to be its comparison. */
const comparableKey = (campaignId: string, tier: string | undefined) => `${campaignId}#${tier ?? ''}`;

/**
 * The period's tasks and control decisions of the clients `ordersOf` holds, followed for 30 days at
 * `now`. `tasks` are all the period's tasks (a shard holds only some of the clients, but the
 * campaigns and tiers compared come from every task, so the shards add up to the single run). Pure.
 */
export function followUpTasks(input: {
  tasks: readonly Pick<AdvisorTask, 'customerId' | 'campaignId' | 'tier' | 'advisorId' | 'createdAt'>[];
  controls: readonly ControlDecision[];
  ordersOf: (customerId: string) => readonly Pick<OrderFact, 'orderedAt' | 'netMinor'>[] | undefined;
  now: number;
}): TaskFollowUps {
  const { now } = input;
  const from = now - FOLLOW_UP_PERIOD_DAYS * MS_PER_DAY;
  const inPeriod = (at: number) => at >= from && at < now;
  const follow = (tally: BoughtTally, customerId: string, at: number): BoughtTally => {
    const orders = input.ordersOf(customerId);
    if (orders === undefined) return tally;
    if (at + BOUGHT_WITHIN_DAYS * MS_PER_DAY > now) return { ...tally, maturing: tally.maturing + 1 };
    return { ...tally, followed: tally.followed + 1, bought: tally.bought + (boughtWithin(orders, at) ? 1 : 0) };
  };
  const campaignTasks = input.tasks.filter((task) => task.campaignId !== INTRODUCTION_CAMPAIGN && inPeriod(task.createdAt));
  const comparable = new Set(campaignTasks.map((task) => comparableKey(task.campaignId, task.tier)));
  const byAdvisor = emptyDictionary<BoughtTally>();
  for (const task of campaignTasks) byAdvisor[task.advisorId] = follow(byAdvisor[task.advisorId] ?? emptyBought(), task.customerId, task.createdAt);
  let control = emptyBought();
  for (const decision of input.controls) {
    if (inPeriod(decision.at) && comparable.has(comparableKey(decision.campaignId, decision.tier))) control = follow(control, decision.customerId, decision.at);
  }
  return { byAdvisor, control };
}

/** The follow-through figures of a night: per advisor, per store and for the brand; the control group; the clients waiting for a new advisor. */
export interface AdvisorFollowThrough {
  /** The period of the task tallies (FOLLOW_THROUGH_DAYS). */
  days: number;
  boughtWithinDays: number;
  periodDays: number;
  advisors: { advisorId: string; store?: string; active: boolean; tasks: TaskTally; bought: BoughtTally }[];
  byStore: Record<string, { tasks: TaskTally; bought: BoughtTally }>;
  total: { tasks: TaskTally; bought: BoughtTally };
  control: BoughtTally;
  /**
   * Book clients whose advisor left (inactive in the roster) and whom the brand has not given a new
   * one yet: they get the client care team's notes meanwhile, never a promise of an advisor.
   * Listed by customer id (at most NEEDS_ADVISOR_LISTED), counted per store of the advisor who left.
   */
  needsNewAdvisor: { count: number; byStore: Record<string, number>; customerIds: string[] };
}

/** The store key of advisors without one. */
export const NO_STORE = '(no store)';
/** The period of the task tallies: the last four weekly digests. */
export const FOLLOW_THROUGH_DAYS = 28;
/** How many clients waiting for an advisor the report names (the count is always whole). */
export const NEEDS_ADVISOR_LISTED = 50;

/** The night's follow-through from the tasks of the last FOLLOW_THROUGH_DAYS days and the followed purchases. Pure. */
export function advisorFollowThrough(input: {
  /** Tasks given in the last FOLLOW_THROUGH_DAYS days. */
  recentTasks: readonly Pick<AdvisorTask, 'advisorId' | 'status' | 'history'>[];
  followUps: TaskFollowUps;
  advisors: ReadonlyMap<string, Pick<AdvisorRecord, 'advisorId' | 'store' | 'active'>>;
  /** Book clients whose advisor is inactive: customer id and that advisor. */
  orphans: readonly { customerId: string; advisorId: string }[];
}): AdvisorFollowThrough {
  const tasksBy = new Map<string, Pick<AdvisorTask, 'advisorId' | 'status' | 'history'>[]>();
  for (const task of input.recentTasks) tasksBy.set(task.advisorId, [...(tasksBy.get(task.advisorId) ?? []), task]);
  const ids = [...new Set([...[...input.advisors.values()].filter((a) => a.active).map((a) => a.advisorId), ...tasksBy.keys(), ...Object.keys(input.followUps.byAdvisor)])].sort();
  const advisors = ids.map((advisorId) => {
    const record = input.advisors.get(advisorId);
    return {
      advisorId,
      ...(record?.store === undefined ? {} : { store: record.store }),
      active: record?.active ?? false,
      tasks: tallyTasks(tasksBy.get(advisorId) ?? []),
      bought: ownEntry(input.followUps.byAdvisor, advisorId) ?? emptyBought(),
    };
  });
  const byStore: AdvisorFollowThrough['byStore'] = emptyDictionary();
  for (const advisor of advisors) {
    const store = advisor.store ?? NO_STORE;
    const sum = byStore[store] ?? { tasks: emptyTally(), bought: emptyBought() };
    byStore[store] = { tasks: addTallies([sum.tasks, advisor.tasks]), bought: addBought(sum.bought, advisor.bought) };
  }
  const needsByStore = emptyDictionary<number>();
  for (const orphan of input.orphans) {
    const store = input.advisors.get(orphan.advisorId)?.store ?? NO_STORE;
    needsByStore[store] = (needsByStore[store] ?? 0) + 1;
  }
  return {
    days: FOLLOW_THROUGH_DAYS,
    boughtWithinDays: BOUGHT_WITHIN_DAYS,
    periodDays: FOLLOW_UP_PERIOD_DAYS,
    advisors,
    byStore,
    total: { tasks: addTallies(advisors.map((a) => a.tasks)), bought: advisors.reduce((sum, a) => addBought(sum, a.bought), emptyBought()) },
    control: input.followUps.control,
    needsNewAdvisor: {
      count: input.orphans.length,
      byStore: needsByStore,
      customerIds: input.orphans.map((o) => o.customerId).sort().slice(0, NEEDS_ADVISOR_LISTED),
    },
  };
}
