import { HISTORY_FIELDS, tierRank, type ClientProfile, type ProfileHistory, type Stage, type Tier } from '#shared/model.ts';
import { daysBetweenDates, isIsoDate } from '#shared/time.ts';

/**
 * The moves a profile records for the campaign triggers that need them (tier changed, stage
 * entered, RFM segment entered). Pure, in two steps of the night:
 *  - movesTonight (diff.ts): tonight's moves against the client's state as of the last completed
 *    night (the base, base.ts, which the night holds anyway): dated with the run date, naming what
 *    the client moved from;
 *  - carryHistory (merge.ts): the moves of earlier nights, from the item as it was before the night
 *    (the before-image), for the profiles the night writes. An unwritten profile keeps its own.
 * Both read what the night measures against, so a rerun of a night records exactly what one clean
 * run would. The history is not part of the profile's digest (diff.ts): nothing is written for it
 * alone, and the base holds none of it in memory.
 *
 * A client the base does not hold (first seen) has no move: the night cannot tell a move from a
 * first sight, and a first import must not look like every client entering their stage at once.
 * Nor does a client only increments have written (seenByNight): the night sees them first. Segments
 * likewise move only between two segments.
 *
 * The base's tier and stage are the last night's, not what an increment left on the item (its merge
 * moves a prospect who bought to their new stage: shared/sender/ingest.ts), so a night records the
 * same moves whether or not the hourly sender merged increments that day.
 */

/** What the moves need of the base's state of a client (StoredState satisfies it). */
export interface MoveBefore {
  /** As the last night wrote them. */
  tier: Tier;
  stage: Stage;
  rfmSegment?: string;
  /** No night has written the client yet: an increment created them. */
  unseenByNight?: true;
}

/** The base's state a client's moves are measured against: none for a client no night has written yet. */
export function seenByNight<S extends MoveBefore>(state: S | undefined): S | undefined {
  return state?.unseenByNight ? undefined : state;
}

/** The pairs of history fields: a move's date and what it moved from, written together. */
const MOVES = [
  ['tierChangedOn', 'previousTier'],
  ['stageEnteredOn', 'previousStage'],
  ['rfmSegmentEnteredOn', 'previousRfmSegment'],
] as const;

export function movesTonight(base: MoveBefore | undefined, tonight: Pick<ClientProfile, 'tier' | 'stage' | 'rfm'>, runDate: string): ProfileHistory {
  const before = seenByNight(base);
  if (before === undefined) return {};
  const moves: ProfileHistory = {};
  if (before.tier !== tonight.tier) Object.assign(moves, { previousTier: before.tier, tierChangedOn: runDate });
  if (before.stage !== tonight.stage) Object.assign(moves, { previousStage: before.stage, stageEnteredOn: runDate });
  const segment = tonight.rfm?.segment;
  if (segment !== undefined && before.rfmSegment !== undefined && before.rfmSegment !== segment) {
    Object.assign(moves, { previousRfmSegment: before.rfmSegment, rfmSegmentEnteredOn: runDate });
  }
  return moves;
}

/** Tonight's profile with tonight's moves only (the same object when there are none and it carries none). */
export function withMovesTonight<P extends ClientProfile>(tonight: P, before: MoveBefore | undefined, runDate: string): P {
  const moves = movesTonight(before, tonight, runDate);
  const stale = HISTORY_FIELDS.some((field) => tonight[field] !== undefined);
  if (!stale && Object.keys(moves).length === 0) return tonight;
  const profile = { ...tonight };
  for (const field of HISTORY_FIELDS) delete profile[field];
  return { ...profile, ...moves };
}

/**
 * How many days after leaving a tier a move back to it is a return, not a tier change: a dip of a
 * few days or weeks (a refund, then a new order; a VIC's year-old order leaving the 12-month window
 * days before her next one) is no upgrade to thank her for, and a client hovering at a threshold is
 * not thanked and warned in turn. A month: past it, reaching the tier again is a move of its own.
 */
export const TIER_RETURN_DAYS = 30;

/**
 * The profile the night writes, with each earlier move the item before the night recorded and
 * tonight did not replace. A segment move is dropped with the segment (a client with no counted
 * order left). The tiers left in the last TIER_RETURN_DAYS are kept with the day each was last left
 * (tiersLeftOn); tonight's tier move to a tier she held, or one beyond it, within them is a return,
 * recorded with the day she left it (tierReturnLeftOn); a carried tier move keeps its own.
 */
export function carryHistory<P extends ClientProfile>(tonight: P, before: ProfileHistory | null | undefined): P {
  if (!before) return tonight;
  const carried: ProfileHistory = {};
  for (const [date, from] of MOVES) {
    if (tonight[date] !== undefined || before[date] === undefined || before[from] === undefined) continue;
    if (date === 'rfmSegmentEnteredOn' && tonight.rfm?.segment === undefined) continue;
    Object.assign(carried, { [date]: before[date], [from]: before[from] });
    if (date === 'tierChangedOn' && before.tierReturnLeftOn !== undefined) carried.tierReturnLeftOn = before.tierReturnLeftOn;
  }
  Object.assign(carried, tierMoveTonight(tonight, before) ?? (before.tiersLeftOn === undefined ? {} : { tiersLeftOn: before.tiersLeftOn }));
  return Object.keys(carried).length === 0 ? tonight : { ...tonight, ...carried };
}

/**
 * Tonight's tier move against the tiers the client left lately: the tiers left in the
 * TIER_RETURN_DAYS before it and the one it leaves, and when it takes her back up to a tier she
 * held or beyond (down: to one she held or below), the day she last left it. Undefined without a
 * move tonight. An item from before tiersLeftOn knows the tier its last move left.
 */
function tierMoveTonight(tonight: Pick<ClientProfile, 'tier' | 'previousTier' | 'tierChangedOn'>, before: ProfileHistory): Pick<ProfileHistory, 'tiersLeftOn' | 'tierReturnLeftOn'> | undefined {
  const { tierChangedOn: movedOn, previousTier: from, tier: to } = tonight;
  if (movedOn === undefined || from === undefined || !isIsoDate(movedOn)) return undefined;
  const stored = before.tiersLeftOn ?? (before.previousTier !== undefined && before.tierChangedOn !== undefined ? { [before.previousTier]: before.tierChangedOn } : {});
  const recent = (Object.entries(stored) as [Tier, string][]).filter(([, on]) => isIsoDate(on) && on < movedOn && daysBetweenDates(on, movedOn) <= TIER_RETURN_DAYS);
  const up = tierRank(to) > tierRank(from);
  const back = recent
    .filter(([tier]) => (up ? tierRank(tier) >= tierRank(to) : tierRank(tier) <= tierRank(to)))
    .map(([, on]) => on)
    .sort()
    .at(-1);
  return { tiersLeftOn: { ...Object.fromEntries(recent), [from]: movedOn }, ...(back === undefined ? {} : { tierReturnLeftOn: back }) };
}
