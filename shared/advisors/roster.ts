import type { Config } from '#shared/config.ts';
import type { AdvisorRecord, Reject } from '#shared/model.ts';

/**
 * The advisors roster: who the `advisor_id` of the customers export refers to (name, email,
 * locale, store, signature, active). It comes with the nightly export as an optional
 * advisors.csv|jsonl (exports.md); the nightly run keeps the last good one as one JSON object
 * beside the product catalogue (shared/store/roster-store.ts), and the digests, the sender and the
 * planner read it from there. This module is the rules; the store reads and writes.
 *
 * A roster that is missing, empty, unreadable, wholly rejected or rejected past maxRejectShare is
 * not used: the last good roster stays (a bad file must never empty the books, nor hand every
 * client over as if their advisor had left), and the night's summary says why. Nor is one that
 * takes the whole team, or more than half of it and more than two, out of service at once
 * (departureRefusal): every row valid, it is as surely broken.
 *
 * An advisor listed in several rows (or parts) is one advisor when the rows agree on every field
 * they both give: each field is the last row's that gives it, as for customers. Rows that
 * disagree (active and not, two emails, two stores) are ambiguous, and a hand-kept roster is
 * where that happens: every row of that advisor is a reject naming its file and line, and the
 * advisor keeps their entry from the last good roster (none if it had none), while the rest of
 * tonight's roster is used. Read wrongly, one such row would hand a whole book over.
 *
 * Advisors named only in config.reports.advisors (the configuration before the roster existed)
 * are still known, as active advisors; the roster wins for an id both name.
 */

export interface StoredRoster {
  /** The run date of the night whose export carried this roster. */
  runDate: string;
  advisors: AdvisorRecord[];
  /**
   * The ids (nothing else) of the advisors an earlier stored roster listed and this one does not:
   * their ledger partitions may still name a client (a task email deferred before the client was
   * handed over), which forget must find. Accumulated, each id once, so bounded by the brand's
   * advisors. Absent when none, and on rosters stored before it was kept.
   */
  formerAdvisorIds?: string[];
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
  /** Advisors tonight's roster lists in rows that disagree: their rows rejected, their stored entry kept. Absent when none. */
  conflicting?: number;
}

/** A roster row as the export gave it, with its place (for the rejects). */
export interface RosterRow {
  record: AdvisorRecord;
  file: string;
  line: number;
}

/**
 * What tonight's roster gives: the advisors to store (use) or why the stored roster stays, and
 * in either case the rows rejected for disagreeing with another row of their advisor.
 */
export type RosterReading = ({ use: true; advisors: AdvisorRecord[] } | { use: false; reason: string }) & { rejects: Reject[]; conflicting: number };

/** What the roster rule needs of an export file's report (shared/exports/types.ts FileReport). */
export interface RosterFile {
  location: string;
  kind: string;
  rows: number;
  rejected: number;
  unusable?: string;
}

/** The fields a roster row can give besides its id; `active` always has a value (an empty cell reads as true). */
const ADVISOR_FIELDS = ['name', 'email', 'locale', 'active', 'signature', 'store'] as const;

/**
 * Tonight's rows as one record per advisor, in the order of their first row: rows of one id that
 * agree on every field they both give are merged, each field the last row's that gives it; the
 * ids whose rows disagree are left out and named in `rejects`, one per row, with the fields
 * they disagree on (never the values).
 */
export function mergeRosterRows(rows: readonly RosterRow[]): { advisors: AdvisorRecord[]; rejects: Reject[]; conflicting: string[] } {
  const byId = new Map<string, RosterRow[]>();
  for (const row of rows) {
    const same = byId.get(row.record.advisorId);
    if (same === undefined) byId.set(row.record.advisorId, [row]);
    else same.push(row);
  }
  const advisors: AdvisorRecord[] = [];
  const rejects: Reject[] = [];
  const conflicting: string[] = [];
  for (const [advisorId, same] of byId) {
    const disagreeing = ADVISOR_FIELDS.filter((field) => new Set(same.map((row) => row.record[field]).filter((value) => value !== undefined)).size > 1);
    if (disagreeing.length === 0) {
      advisors.push(same.map((row) => row.record).reduce(laterAdvisorRow));
      continue;
    }
    conflicting.push(advisorId);
    const places = same.map((row) => `${fileName(row.file)}:${row.line}`).join(', ');
    for (const row of same) {
      rejects.push({
        file: row.file,
        line: row.line,
        reason: `advisor listed in ${same.length} rows (${places}) that disagree on ${disagreeing.join(', ')}: all of them rejected, the advisor stays as the last good roster has them`,
      });
    }
  }
  return { advisors, rejects, conflicting };
}

/** Two agreeing rows of one advisor: the later row's fields, and the earlier's where it gives none (as laterCustomerRecord). */
function laterAdvisorRow(earlier: AdvisorRecord, later: AdvisorRecord): AdvisorRecord {
  const given = Object.fromEntries(Object.entries(later).filter(([, value]) => value !== undefined)) as Partial<AdvisorRecord>;
  return { ...earlier, ...given };
}

/** The last segment of a file's location (a path or an s3:// URL). */
function fileName(location: string): string {
  return location.slice(location.lastIndexOf('/') + 1);
}

/**
 * Whether tonight's roster files (any others in `files` are ignored) and the rows they gave can
 * replace the stored roster, and with what. Pure. Every part must be usable, give rows and stay
 * within the reject threshold: a roster is small, so a part with that many bad rows is a broken
 * file (the rows rejected for disagreeing with another row of their advisor are not counted:
 * that advisor alone keeps the stored entry, from `stored`).
 */
export function rosterOfNight(
  files: readonly RosterFile[],
  rows: readonly RosterRow[],
  maxRejectShare: number,
  stored?: StoredRoster,
  configuredIds: readonly string[] = [],
): RosterReading {
  const merged = mergeRosterRows(rows);
  const found = { rejects: merged.rejects, conflicting: merged.conflicting.length };
  const parts = files.filter((file) => file.kind === 'advisors');
  if (parts.length === 0) return { use: false, reason: 'no advisors file in the export', ...found };
  for (const part of parts) {
    if (part.unusable !== undefined) return { use: false, reason: `advisors file unusable: ${part.unusable}`, ...found };
    if (part.rejected > part.rows * maxRejectShare) {
      return { use: false, reason: `${part.location}: ${part.rejected} of ${part.rows} rows rejected, above maxRejectShare`, ...found };
    }
  }
  if (rows.length === 0) return { use: false, reason: 'the advisors file has no valid row', ...found };
  if (merged.advisors.length === 0) return { use: false, reason: 'every advisor of the file is listed in rows that disagree', ...found };
  const storedById = new Map((stored?.advisors ?? []).map((advisor) => [advisor.advisorId, advisor]));
  const kept = merged.conflicting.flatMap((advisorId) => storedById.get(advisorId) ?? []);
  const advisors = [...merged.advisors, ...kept].sort((a, b) => (a.advisorId < b.advisorId ? -1 : a.advisorId > b.advisorId ? 1 : 0));
  const refusal = departureRefusal(stored, advisors, configuredIds);
  if (refusal !== undefined) return { use: false, reason: refusal, ...found };
  return { use: true, advisors, ...found };
}

/**
 * More advisors than this may leave in one night only while at least half of the team stays: two
 * is what a small team really loses at once (one of four resigning, two leaving with a store that
 * closes), where a broken file takes nearly everyone.
 */
const MAX_DEPARTURES_AT_ONCE = 2;

/**
 * Why `advisors` may not replace `stored`, when it would take out of service (inactive, without an
 * email, or no longer listed: holdsBook) every advisor of `stored` who holds a book, or more than
 * half of them and more than MAX_DEPARTURES_AT_ONCE; undefined otherwise, and without a stored
 * roster or with nobody holding a book in it. An advisor `configuredIds` names (config.reports.advisors)
 * and tonight's roster does not list still holds a book (knownAdvisors): not leaving. Pure.
 *
 * Every row of such a roster can be valid (an `active` column mapped from another field, an
 * `email` column renamed), and used it would empty the books at once: the VICs' notes going from
 * the care team, no digest, every client listed as needing a new advisor. Nor is it what a brand
 * does in a night. A share of the team such as plausibility.maxDropShare (20%) would refuse one
 * advisor of four resigning, so the rule is in heads: a team of 4 may lose 1 or 2 a night, of 10
 * up to 5; the only advisor of a team of one leaving, or the last ones, is refused as "all".
 * Advisors who join tonight do not offset those who leave: a roster that swaps the whole team
 * looks like a file of another brand or store.
 */
export function departureRefusal(stored: StoredRoster | undefined, advisors: readonly AdvisorRecord[], configuredIds: readonly string[] = []): string | undefined {
  const tonight = new Map(advisors.map((advisor) => [advisor.advisorId, advisor]));
  const configured = new Set(configuredIds);
  const holding = (stored?.advisors ?? []).filter(holdsBook);
  const stays = (advisorId: string) => {
    const listed = tonight.get(advisorId);
    return listed === undefined ? configured.has(advisorId) : holdsBook(listed);
  };
  const leaving = holding.filter((advisor) => !stays(advisor.advisorId)).length;
  const all = holding.length > 0 && leaving === holding.length;
  if (!all && !(leaving > MAX_DEPARTURES_AT_ONCE && leaving * 2 > holding.length)) return undefined;
  // Counts only: the ids are for the roster file, not the summary.
  return (
    `tonight's roster takes ${leaving} of the ${holding.length} advisors holding a book out of service at once (inactive, without an email or not listed)` +
    `: ${all ? 'all of them' : `more than half and more than ${MAX_DEPARTURES_AT_ONCE}`}, which a broken file does, not a night's departures`
  );
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

/**
 * An advisor who holds a book: active and reachable (an email for their digest). One definition for
 * the digests (who gets one), the report's clients needing a new advisor (those of anyone else the
 * roster knows) and the planner (whose clients keep their advisor). A name is not needed for that:
 * without one, their clients' notes go from the client care team (isActiveAdvisor).
 */
export function holdsBook(advisor: AdvisorRecord | undefined): advisor is AdvisorRecord & { email: string } {
  return advisor !== undefined && advisor.active && advisor.email !== undefined;
}

/** How many advisors a roster names, and how many of them are active. */
export function counts(advisors: readonly AdvisorRecord[]): { advisors: number; active: number } {
  return { advisors: advisors.length, active: advisors.filter(isActiveAdvisor).length };
}

/**
 * The advisors out of the roster once `advisors` replaces `stored`: those it listed (or had kept
 * as former) that `advisors` does not list, sorted, each once. Pure.
 */
export function formerAdvisorIds(stored: StoredRoster | undefined, advisors: readonly Pick<AdvisorRecord, 'advisorId'>[]): string[] {
  const listed = new Set(advisors.map((advisor) => advisor.advisorId));
  const before = [...(stored?.formerAdvisorIds ?? []), ...(stored?.advisors ?? []).map((advisor) => advisor.advisorId)];
  return [...new Set(before)].filter((advisorId) => !listed.has(advisorId)).sort();
}
