import { productNameOf, type ProductCatalog } from '#shared/campaigns/due.ts';
import { dictionaryFrom, ownEntry } from '#shared/dictionary.ts';
import type { ClientProfile, Tier } from '#shared/model.ts';
import { localDate, MS_PER_DAY } from '#shared/time.ts';
import { tallyBucket, tallyTasks, type TaskTally } from './follow-through.ts';
import { INTRODUCTION_CAMPAIGN, newTask, type AdvisorTask } from './tasks.ts';

/**
 * Handover (issue 16; domain.md: when an advisor leaves, the client is formally introduced to the
 * next one): a client whose advisor_id changed since the last weekly digest is introduced to the
 * new advisor in their digest, with the client's history. The platform owns advisor_id: a change
 * arrives with the export (after `clientele advisors plan`, or the brand's own reassignment), and
 * the digests compare this week's pairs with last week's. Pure.
 */

/** customerId → advisorId, the book pairs of one week. */
export type BookPairs = Record<string, string>;

/** What the digests keep between weeks: this week's pairs and the baseline they were compared with. */
export interface StoredBookPairs {
  /** ISO week of the digests that wrote them. */
  week: string;
  /** The pairs this week was compared with (kept, so a rerun of the week compares the same). */
  before: BookPairs;
  now: BookPairs;
  /**
   * The week's handovers that a digest carried but did not send (deferred: SES throttled, paused),
   * and no later night of the week sent: customerId → the advisor before. Next week's baseline keeps
   * that advisor, so the handover is still one and next week's digest introduces the client.
   */
  unintroduced?: BookPairs;
}

export interface Handover {
  customerId: string;
  from: string;
  to: string;
}

/**
 * The pairs `week` is compared with: last week's (with the advisor before for the handovers no
 * digest introduced), or (a rerun of the week) the same baseline as before; none on a first week.
 */
export function baselineFor(stored: StoredBookPairs | undefined, week: string): BookPairs | undefined {
  if (stored === undefined) return undefined;
  if (stored.week === week) return stored.before;
  if (stored.unintroduced === undefined) return stored.now;
  const baseline = dictionaryFrom(Object.entries(stored.now)); // keyed by customer ids: free text from the export
  for (const [customerId, from] of Object.entries(stored.unintroduced)) baseline[customerId] = from;
  return baseline;
}

/**
 * The pairs the digests keep after a run of `week`, from tonight's `pairs`. The week's first run
 * keeps tonight's pairs (and the baseline it compared with). A later run of the week (an operator's
 * rerun, a corrected export's night) keeps the pairs the week's digests were made with: a handover
 * seen only since is not introduced by a digest already sent, so it must still be one against next
 * week's baseline. Two exceptions take tonight's advisor: the handovers `introducedNow` (shown in a
 * digest this run sent) and clients the week had never seen (no handover to miss). The handovers
 * `deferredNow` (carried by a digest this run deferred) are kept as not introduced until a run of
 * the week introduces them (a night sending the deferred digests: its `pairs` are the week's own).
 */
export function pairsToKeep(stored: StoredBookPairs | undefined, week: string, pairs: BookPairs, introducedNow: readonly Handover[], deferredNow: readonly Handover[] = []): StoredBookPairs {
  if (stored === undefined || stored.week !== week) return { week, before: baselineFor(stored, week) ?? pairs, now: pairs, ...unintroducedAfter(undefined, introducedNow, deferredNow) };
  const now = dictionaryFrom(Object.entries(stored.now)); // keyed by customer ids: free text from the export
  for (const [customerId, advisorId] of Object.entries(pairs)) if (!Object.hasOwn(stored.now, customerId) && !Object.hasOwn(stored.before, customerId)) now[customerId] = advisorId;
  for (const handover of introducedNow) now[handover.customerId] = handover.to;
  return { week, before: stored.before, now, ...unintroducedAfter(stored.unintroduced, introducedNow, deferredNow) };
}

/**
 * The stored pairs without the clients of `customerIds` (an erasure), and how many of them they
 * named (0: nothing to change). A client left out is unknown to the next baseline, as a client
 * first assigned is: no handover is made of them.
 */
export function pairsWithout(stored: StoredBookPairs, customerIds: readonly string[]): { kept: StoredBookPairs; named: number } {
  const erased = new Set(customerIds);
  const lists = [stored.before, stored.now, stored.unintroduced ?? {}];
  const named = new Set(lists.flatMap((pairs) => Object.keys(pairs).filter((customerId) => erased.has(customerId)))).size;
  // Keyed by customer ids: free text from the export.
  const without = (pairs: BookPairs) => dictionaryFrom(Object.entries(pairs).filter(([customerId]) => !erased.has(customerId)));
  const unintroduced = without(stored.unintroduced ?? {});
  const kept = { week: stored.week, before: without(stored.before), now: without(stored.now), ...(Object.keys(unintroduced).length === 0 ? {} : { unintroduced }) };
  return { kept, named };
}

/**
 * The week's handovers not introduced after a run: those kept, and those whose digest this run
 * deferred (`deferredNow`), less those a digest of this run introduced. Absent when none.
 */
function unintroducedAfter(kept: BookPairs | undefined, introducedNow: readonly Handover[], deferredNow: readonly Handover[]): Pick<StoredBookPairs, 'unintroduced'> {
  const unintroduced = dictionaryFrom(Object.entries(kept ?? {}));
  for (const handover of deferredNow) unintroduced[handover.customerId] = handover.from;
  for (const handover of introducedNow) delete unintroduced[handover.customerId];
  return Object.keys(unintroduced).length === 0 ? {} : { unintroduced };
}

/** Clients whose advisor changed from one advisor to another; a first assignment is no handover. */
export function handoversBetween(before: BookPairs, now: BookPairs): Handover[] {
  const handovers: Handover[] = [];
  for (const [customerId, to] of Object.entries(now)) {
    const from = ownEntry(before, customerId);
    if (from !== undefined && from !== to) handovers.push({ customerId, from, to });
  }
  return handovers.sort((a, b) => (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0));
}

/** What the new advisor reads about a handed-over client beside the row's own figures. */
export interface HandoverHistory {
  from: string;
  /** The previous advisor's name, for the new one's eyes. */
  fromName?: string;
  /** What became of the client's tasks with the previous advisor. */
  pastTasks: PastTasksTally;
  /** Top categories, last purchases and the latest past tasks, one by one. */
  history?: ClientHistory;
  /** The introduction task's links and drafted email, when the new advisor has one (not on a dry run). */
  introduction?: IntroductionDraft;
}

/** The introduction as the new advisor's digest shows it: the drafted email and the task's links. */
export interface IntroductionDraft {
  /** Absent when the client cannot be emailed (no address, no consent, suppressed): the advisor introduces themselves in person. */
  email?: { subject: string; text: string };
  /** When the email goes out without an answer, as the advisor reads it. */
  sendAfter?: string;
  links: { done: string; snooze: string; send?: string };
}

/**
 * Handover complete (issue 16 point 5): each handover to an active advisor becomes an introduction
 * task in the new advisor's digest, with the three one-click links of a task (tasks.ts), and an
 * introduction email drafted in the new advisor's name. The sender (shared/sender/introductions.ts)
 * sends it when the advisor asks, or when they did nothing within advisors.taskWaitDays; "done"
 * means they introduced themselves in person. One introduction per client per handover: its key
 * holds the week the handover was seen in and the new advisor, and a rerun of the week compares
 * with the same baseline (baselineFor), so it finds the same key.
 */
export { INTRODUCTION_CAMPAIGN };

/** How long an introduction stays open to the links and the sender: long enough for a snooze and the wait after it. */
export const INTRODUCTION_OPEN_DAYS = 28;

/** The task key of the introduction of `handover` seen in the digests of ISO week `week`. */
export function introductionKey(handover: Pick<Handover, 'to'>, week: string): string {
  return `${INTRODUCTION_CAMPAIGN}#${week}#${handover.to}`;
}

/** Whether a task is an introduction (not a campaign occasion's). */
export function isIntroduction(task: Pick<AdvisorTask, 'campaignId'>): boolean {
  return task.campaignId === INTRODUCTION_CAMPAIGN;
}

/**
 * The introduction task of a handover, as it reaches the new advisor at `now` (their digest went
 * out). `withoutEmail`: the digest gave it without a send link ("introduce yourself by phone or in
 * store"), so no introduction may later go in the advisor's name.
 */
export function introductionTask(handover: Handover, week: string, tier: Tier, now: number, withoutEmail = false): AdvisorTask {
  const occasion = { customerId: handover.customerId, occasionKey: introductionKey(handover, week), campaignId: INTRODUCTION_CAMPAIGN, expiresAt: now + INTRODUCTION_OPEN_DAYS * MS_PER_DAY };
  const task = newTask(occasion, handover.to, now, tier);
  return withoutEmail ? { ...task, withoutEmail: true } : task;
}

/** Why an introduction given without a send link ends unsent: the advisor was told to introduce themselves in person. */
export const IN_PERSON_ONLY = 'in-person-only';

/** One of the client's past tasks, as the new advisor reads it. */
export interface PastTask {
  campaignId: string;
  /** Local date the task was given, YYYY-MM-DD (brand time zone). */
  date: string;
  /** The follow-through's bucket (the advisor's part), or 'unsent': its note never went (no consent, suppressed, its window closed, refused). */
  outcome: Exclude<keyof TaskTally, 'given'> | 'unsent';
}

/**
 * The client's tasks with the previous advisor, counted for the new one: the follow-through's
 * tally (the advisor's part: asked, or left to the wait) and, of those, the notes that never went
 * (`notSent`), so "sent by email" counts only notes that did.
 */
export interface PastTasksTally extends TaskTally {
  notSent: number;
}

export function pastTasksTally(tasks: readonly Pick<AdvisorTask, 'status' | 'history'>[]): PastTasksTally {
  return { ...tallyTasks(tasks), notSent: tasks.filter((task) => task.status === 'unsent').length };
}

/** One of the client's last purchases (the profile keeps the last purchase of each product). */
export interface RecentPurchase {
  name: string;
  /** Local date, YYYY-MM-DD. */
  date: string;
}

/** How many past tasks, purchases and categories the introduction shows: enough to start a conversation. */
export const HISTORY_ITEMS = 3;

/** What the new advisor reads about a client beyond the row's figures: top categories, last purchases, past tasks (newest first). */
export interface ClientHistory {
  topCategories: string[];
  lastPurchases: RecentPurchase[];
  pastTaskList: PastTask[];
}

/** The client's history from their profile and their tasks with the previous advisor. Pure. */
export function clientHistory(profile: Pick<ClientProfile, 'topCategory' | 'skus'>, pastTasks: readonly AdvisorTask[], timeZone: string, catalog?: ProductCatalog): ClientHistory {
  const purchases = Object.entries(profile.skus);
  // Categories by distinct purchase days, the profile's top category first.
  const daysByCategory = new Map<string, number>();
  for (const [, purchase] of purchases) if (purchase.category !== undefined) daysByCategory.set(purchase.category, (daysByCategory.get(purchase.category) ?? 0) + purchase.purchases);
  const ranked = [...daysByCategory].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0)).map(([category]) => category);
  const topCategories = [...new Set([...(profile.topCategory === undefined ? [] : [profile.topCategory]), ...ranked])].slice(0, HISTORY_ITEMS);
  const lastPurchases = purchases
    .map(([sku, purchase]) => ({ name: productNameOf(sku, purchase, catalog) ?? sku, at: Date.parse(purchase.lastPurchasedAt) }))
    .filter((p) => Number.isFinite(p.at))
    .sort((a, b) => b.at - a.at || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .slice(0, HISTORY_ITEMS)
    .map((p) => ({ name: p.name, date: localDate(p.at, timeZone) }));
  const pastTaskList = [...pastTasks]
    .sort((a, b) => b.createdAt - a.createdAt)
    .slice(0, HISTORY_ITEMS)
    .map((task) => ({ campaignId: task.campaignId, date: localDate(task.createdAt, timeZone), outcome: task.status === 'unsent' ? ('unsent' as const) : tallyBucket(task) }));
  return { topCategories, lastPurchases, pastTaskList };
}

/** Why a client cannot get an introduction email, if they cannot. Pure. */
export function unreachableBecause(profile: Pick<ClientProfile, 'email' | 'acceptsMarketing' | 'absentSince'> | undefined, suppressed: boolean): string | undefined {
  if (profile === undefined) return 'no-profile';
  // The exports no longer have them (shared/nightly/absent.ts).
  if (profile.absentSince !== undefined) return 'absent-from-export';
  if (profile.email === undefined || profile.email === '') return 'no-address';
  if (profile.acceptsMarketing !== true) return 'no-consent';
  return suppressed ? 'suppressed' : undefined;
}
