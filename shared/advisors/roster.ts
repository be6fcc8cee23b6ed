import type { Config } from '#shared/config.ts';
import type { AdvisorRecord } from '#shared/model.ts';

/**
 * The advisors roster: who the `advisor_id` of the customers export refers to (name, email,
 * locale, store, signature, active). It comes with the nightly export as an optional
 * advisors.csv|jsonl (exports.md); the nightly run keeps the last good one as one JSON object
 * beside the product catalogue (shared/store/roster-store.ts), and the digests, the sender and the
 * planner read it from there. This module is the rules; the store reads and writes.
 *
 * A roster that is missing, empty, unreadable, wholly rejected or rejected past maxRejectShare is
 * not used: the last good roster stays (a bad file must never empty the books, nor hand every
 * client over as if their advisor had left), and the night's summary says why.
 *
 * Advisors named only in config.reports.advisors (the configuration before the roster existed)
 * are still known, as active advisors; the roster wins for an id both name.
 */

export interface StoredRoster {
  /** The run date of the night whose export carried this roster. */
  runDate: string;
  advisors: AdvisorRecord[];
}

/** What the night did with the roster, for its summary and log (no names, no addresses). */
export interface RosterOutcome {
  /** updated: tonight's roster is stored; kept: the last good one stays; none: there is none at all. */
  status: 'updated' | 'kept' | 'none';
  /** Why tonight's roster was not used (kept, none). */
  reason?: string;
  /** The run date of the roster now in use. */
  since?: string;
  advisors: number;
  active: number;
}

export type RosterReading = { use: true; advisors: AdvisorRecord[] } | { use: false; reason: string };

/** What the roster rule needs of an export file's report (shared/exports/types.ts FileReport). */
export interface RosterFile {
  location: string;
  kind: string;
  rows: number;
  rejected: number;
  unusable?: string;
}

/** Advisors by id, the last row of an id winning (like customers). */
export function advisorsById(advisors: readonly AdvisorRecord[]): Map<string, AdvisorRecord> {
  return new Map(advisors.map((a) => [a.advisorId, a]));
}

/**
 * Whether tonight's roster files (any others in `files` are ignored) and the rows they gave can
 * replace the stored roster. Pure. Every part must be usable, give rows and stay within the
 * reject threshold: a roster is small, so a part with that many bad rows is a broken file.
 */
export function rosterOfNight(files: readonly RosterFile[], records: readonly AdvisorRecord[], maxRejectShare: number): RosterReading {
  const parts = files.filter((file) => file.kind === 'advisors');
  if (parts.length === 0) return { use: false, reason: 'no advisors file in the export' };
  for (const part of parts) {
    if (part.unusable !== undefined) return { use: false, reason: `advisors file unusable: ${part.unusable}` };
    if (part.rejected > part.rows * maxRejectShare) {
      return { use: false, reason: `${part.location}: ${part.rejected} of ${part.rows} rows rejected, above maxRejectShare` };
    }
  }
  if (records.length === 0) return { use: false, reason: 'the advisors file has no valid row' };
  return { use: true, advisors: [...advisorsById(records).values()].sort((a, b) => (a.advisorId < b.advisorId ? -1 : a.advisorId > b.advisorId ? 1 : 0)) };
}

/** The advisors the suite knows: the roster's, and those only the configuration names (as active). */
export function knownAdvisors(roster: StoredRoster | undefined, config: Pick<Config, 'reports'>): Map<string, AdvisorRecord> {
  const known = new Map<string, AdvisorRecord>();
  for (const [advisorId, advisor] of Object.entries(config.reports.advisors)) {
    known.set(advisorId, { advisorId, email: advisor.email, locale: advisor.locale, active: true, ...(advisor.name === undefined ? {} : { name: advisor.name }) });
  }
  for (const advisor of roster?.advisors ?? []) known.set(advisor.advisorId, advisor);
  return known;
}

/**
 * An advisor a client can be told is theirs: active, named (a note that claims to be personal
 * comes from a real, named person) and reachable (the Reply-To of their notes, their digest).
 */
export function isActiveAdvisor(advisor: AdvisorRecord | undefined): advisor is AdvisorRecord & { name: string; email: string } {
  return advisor !== undefined && advisor.active && advisor.name !== undefined && advisor.email !== undefined;
}

/** How many advisors a roster names, and how many of them are active. */
export function counts(advisors: readonly AdvisorRecord[]): { advisors: number; active: number } {
  return { advisors: advisors.length, active: advisors.filter(isActiveAdvisor).length };
}
