import type { Config } from '#shared/config.ts';
import type { AdvisorRecord, Tier } from '#shared/model.ts';
import { holdsBook } from './roster.ts';

/**
 * The book planner behind `clientele advisors plan`: a proposal of an advisor for every book client
 * (VIC, Core, rising Potential: book.ts isBookClient) who has no advisor holding a book (roster.ts holdsBook), for the brand to
 * review and load into its platform. The platform owns `advisor_id`: nothing here changes a
 * profile, and a client whose advisor holds a book keeps them (their pair counts towards the book).
 * Pure and deterministic: the same clients and roster, in any order, give the same plan.
 *
 * Clients are placed most valuable first, each with the advisor that
 *  1. speaks their language (the primary subtag of the locales: zh-CN and zh-Hans match), when one
 *     of those has room;
 *  2. then works in the store of the client's previous advisor (the export carries no store for a
 *     client: the one they knew is the only store we know of);
 *  3. then has the smallest book, books below bookSize.min filled first;
 *  4. then by advisor id.
 * No advisor is given a client past bookSize.max; a client no advisor has room for is listed as
 * unplaced, not forced into a book.
 */

export interface PlanClient {
  customerId: string;
  tier: Tier;
  locale?: string;
  /** The advisor the platform has on the client: active (kept), inactive or unknown (replaced), or none. */
  advisorId?: string;
  /** Highest first: the predicted 12-month value, else the 12-month spend (book.ts rankValueMinor). */
  rankValueMinor: number;
}

export interface PlanInput {
  /** Book clients only. */
  clients: readonly PlanClient[];
  /** Every advisor known (roster and config): only those who hold a book take clients. */
  advisors: ReadonlyMap<string, AdvisorRecord>;
  bookSize: Config['advisors']['bookSize'];
}

export interface Proposal {
  customerId: string;
  advisorId: string;
  /** Why this advisor, in words for the CSV (no personal data). */
  reason: string;
}

export interface AdvisorLoad {
  advisorId: string;
  /** Book clients already paired with them. */
  kept: number;
  /** Proposed by this plan. */
  proposed: number;
}

export interface BookPlan {
  proposals: Proposal[];
  /** Book clients without an active advisor that no advisor had room for. */
  unplaced: string[];
  books: AdvisorLoad[];
}

/** The primary language subtag, lower case: 'zh-CN' → 'zh'. */
export function languageOf(locale: string | undefined): string | undefined {
  const language = locale?.split(/[-_]/)[0]?.toLowerCase();
  return language === undefined || language === '' ? undefined : language;
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Why a client needs an advisor: none, one who left, one without an email, one the roster does not know. */
function placementCause(client: PlanClient, advisors: ReadonlyMap<string, AdvisorRecord>): string {
  if (client.advisorId === undefined) return 'no advisor';
  const advisor = advisors.get(client.advisorId);
  if (advisor === undefined) return `advisor ${client.advisorId} not in the roster`;
  return advisor.active ? `advisor ${client.advisorId} has no email` : `advisor ${client.advisorId} inactive`;
}

export function planBooks(input: PlanInput): BookPlan {
  const { min, max } = input.bookSize;
  const active = [...input.advisors.values()].filter(holdsBook).sort((a, b) => compareIds(a.advisorId, b.advisorId));
  const loads = new Map(active.map((a) => [a.advisorId, { advisorId: a.advisorId, kept: 0, proposed: 0 }]));
  const unassigned: PlanClient[] = [];
  for (const client of input.clients) {
    const load = client.advisorId === undefined ? undefined : loads.get(client.advisorId);
    if (load === undefined) unassigned.push(client);
    else load.kept++;
  }
  unassigned.sort((a, b) => b.rankValueMinor - a.rankValueMinor || compareIds(a.customerId, b.customerId));

  const proposals: Proposal[] = [];
  const unplaced: string[] = [];
  for (const client of unassigned) {
    const language = languageOf(client.locale);
    const previousStore = client.advisorId === undefined ? undefined : input.advisors.get(client.advisorId)?.store;
    const scored = active.flatMap((advisor) => {
      const load = loads.get(advisor.advisorId);
      if (load === undefined || load.kept + load.proposed >= max) return [];
      const size = load.kept + load.proposed;
      const languageMatch = language !== undefined && languageOf(advisor.locale) === language;
      const storeMatch = previousStore !== undefined && advisor.store === previousStore;
      const key = [language !== undefined && !languageMatch ? 1 : 0, previousStore !== undefined && !storeMatch ? 1 : 0, size >= min ? 1 : 0, size];
      return [{ advisor, load, size, languageMatch, storeMatch, key }];
    });
    scored.sort((a, b) => a.key.reduce((order, k, i) => order || k - (b.key[i] ?? 0), 0) || compareIds(a.advisor.advisorId, b.advisor.advisorId));
    const best = scored[0];
    if (best === undefined) {
      unplaced.push(client.customerId);
      continue;
    }
    best.load.proposed++;
    const reasons = [
      placementCause(client, input.advisors),
      ...(best.languageMatch ? [`same language (${language ?? ''})`] : language === undefined ? [] : ['no advisor with room speaks their language']),
      ...(best.storeMatch ? [`same store as before (${previousStore ?? ''})`] : []),
      `book ${best.size + 1} of ${min}-${max}`,
    ];
    proposals.push({ customerId: client.customerId, advisorId: best.advisor.advisorId, reason: reasons.join('; ') });
  }
  return { proposals, unplaced, books: [...loads.values()] };
}
