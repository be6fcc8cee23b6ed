import { isTierUpgrade, TIERS, type Tier, type TierMove } from '#shared/model.ts';
import { tierRank } from '#shared/tiering/tiers.ts';

/**
 * Tier migration matrices: where tonight's clients were at the start of a window (a row per
 * tier, plus 'new' for clients the base did not hold yet) against their tier now (a column per
 * tier). Pure: built from tier-history records and tonight's tier counts.
 *
 * Only clients who changed appear in the tier history, so the matrix is assembled in two parts:
 * - movers (clients with a record in the window): from = the fromTier of their earliest record
 *   in the window (their tier when the window opened, since nothing changed before it), to = the
 *   toTier of their latest record (their tier now). A client who went Core → VIC → Core is a
 *   mover on the diagonal.
 * - everyone else kept their tier: the diagonal is tonight's count of the tier minus the movers
 *   who arrived in it from elsewhere (which also counts the movers who came back).
 */

export type MigrationOrigin = Tier | 'new';
export const MIGRATION_ORIGINS: readonly MigrationOrigin[] = ['new', ...TIERS];


export interface TierMatrix {
  /** counts[from][to]: clients who were in `from` (or new) when the window opened and are in `to` now. */
  counts: Record<MigrationOrigin, Record<Tier, number>>;
  /** Clients whose tier now differs from their tier at the start (new clients included). */
  moved: number;
  /** Clients in the matrix: tonight's clients, as far as the tier history and the counts agree. */
  total: number;
}

function emptyCounts(): Record<MigrationOrigin, Record<Tier, number>> {
  return Object.fromEntries(MIGRATION_ORIGINS.map((from) => [from, Object.fromEntries(TIERS.map((to) => [to, 0]))])) as Record<
    MigrationOrigin,
    Record<Tier, number>
  >;
}

/** Folds tier-history records into each client's first origin and latest tier; records may come in any order. */
export class MigrationAccumulator {
  private readonly clients = new Map<string, { fromDate: string; from: MigrationOrigin; toDate: string; to: Tier }>();

  add(move: TierMove): void {
    const from: MigrationOrigin = move.fromTier ?? 'new';
    const known = this.clients.get(move.customerId);
    if (!known) {
      this.clients.set(move.customerId, { fromDate: move.runDate, from, toDate: move.runDate, to: move.toTier });
      return;
    }
    if (move.runDate < known.fromDate) {
      known.fromDate = move.runDate;
      known.from = from;
    }
    if (move.runDate >= known.toDate) {
      known.toDate = move.runDate;
      known.to = move.toTier;
    }
  }

  get movers(): number {
    return this.clients.size;
  }

  /** The clients with a record folded in. */
  moverIds(): string[] {
    return [...this.clients.keys()];
  }

  /** Forgets these clients' records: clients not among tonight's (absent from its export) are not in its matrix. */
  leaveOut(customerIds: Iterable<string>): void {
    for (const id of customerIds) this.clients.delete(id);
  }

  /**
   * The matrix, given tonight's clients per tier. Movers who are not among tonight's clients must
   * have been left out (leaveOut), or they push the stayers off the diagonal. The diagonal cannot
   * go below 0: when the history and the counts still disagree, the movers are trusted and the
   * diagonal is clamped.
   */
  matrix(currentTiers: Record<Tier, number>): TierMatrix {
    const counts = emptyCounts();
    let moved = 0;
    for (const { from, to } of this.clients.values()) {
      if (from === to) continue;
      counts[from][to]++;
      moved++;
    }
    let total = moved;
    for (const tier of TIERS) {
      const arrived = MIGRATION_ORIGINS.reduce((sum, from) => (from === tier ? sum : sum + counts[from][tier]), 0);
      counts[tier][tier] = Math.max(0, currentTiers[tier] - arrived);
      total += counts[tier][tier];
    }
    return { counts, moved, total };
  }
}

/** The matrix of a set of tier-history records against tonight's clients per tier. */
export function tierMigration(moves: Iterable<TierMove>, currentTiers: Record<Tier, number>): TierMatrix {
  const accumulator = new MigrationAccumulator();
  for (const move of moves) accumulator.add(move);
  return accumulator.matrix(currentTiers);
}

/**
 * A matrix read as a sentence: how many went up, down, arrived new, stayed, and the known
 * prospects who bought for the first time, apart: as the summary's upgrades count them (isTierUpgrade),
 * a first purchase is no move up.
 */
export function movementCounts(matrix: TierMatrix): { up: number; down: number; arrived: number; firstPurchases: number; unchanged: number } {
  let up = 0;
  let down = 0;
  let arrived = 0;
  let firstPurchases = 0;
  for (const from of MIGRATION_ORIGINS) {
    for (const to of TIERS) {
      const n = matrix.counts[from][to];
      if (from === 'new') arrived += n;
      else if (isTierUpgrade(from, to)) up += n;
      else if (tierRank(to) > tierRank(from)) firstPurchases += n;
      else if (tierRank(to) < tierRank(from)) down += n;
    }
  }
  return { up, down, arrived, firstPurchases, unchanged: matrix.total - matrix.moved };
}
