import type { TaskTally } from './follow-through.ts';

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
}

export interface Handover {
  customerId: string;
  from: string;
  to: string;
}

/** The pairs `week` is compared with: last week's, or (a rerun of the week) the same baseline as before; none on a first week. */
export function baselineFor(stored: StoredBookPairs | undefined, week: string): BookPairs | undefined {
  if (stored === undefined) return undefined;
  return stored.week === week ? stored.before : stored.now;
}

/** Clients whose advisor changed from one advisor to another; a first assignment is no handover. */
export function handoversBetween(before: BookPairs, now: BookPairs): Handover[] {
  const handovers: Handover[] = [];
  for (const [customerId, to] of Object.entries(now)) {
    const from = before[customerId];
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
  pastTasks: TaskTally;
}
