import { HISTORY_FIELDS, type ClientProfile, type ProfileHistory, type Stage, type Tier } from '#shared/model.ts';

/**
 * The moves a profile records for the campaign triggers that need them (tier changed, stage
 * entered, RFM segment entered): a pure function of the client's state as of the last completed
 * night (the base, base.ts) and tonight's profile. A move tonight is dated with the run date and
 * names what the client moved from; no move keeps the recorded one. So a rerun of a night, which
 * measures against the same base, records exactly what one clean run would, and a night that
 * changes nothing changes no history (nor the profile's digest).
 *
 * A client the base does not hold (first seen, or an export before the base) has no history: the
 * night cannot tell a move from a first sight, and a first import must not look like every
 * client entering their stage at once. Segments likewise move only between two segments.
 */

/** What the history needs of the base's state of a client (StoredState satisfies it). */
export interface HistoryBefore {
  tier: Tier;
  stage: Stage;
  rfmSegment?: string;
  history?: ProfileHistory;
}

export function profileHistory(before: HistoryBefore | undefined, tonight: Pick<ClientProfile, 'tier' | 'stage' | 'rfm'>, runDate: string): ProfileHistory {
  if (before === undefined) return {};
  const kept = before.history ?? {};
  const history: ProfileHistory = {};
  if (before.tier !== tonight.tier) Object.assign(history, { previousTier: before.tier, tierChangedOn: runDate });
  else if (kept.previousTier !== undefined && kept.tierChangedOn !== undefined) Object.assign(history, { previousTier: kept.previousTier, tierChangedOn: kept.tierChangedOn });
  if (before.stage !== tonight.stage) Object.assign(history, { previousStage: before.stage, stageEnteredOn: runDate });
  else if (kept.previousStage !== undefined && kept.stageEnteredOn !== undefined) Object.assign(history, { previousStage: kept.previousStage, stageEnteredOn: kept.stageEnteredOn });
  const segment = tonight.rfm?.segment;
  if (segment !== undefined && before.rfmSegment !== undefined) {
    if (before.rfmSegment !== segment) Object.assign(history, { previousRfmSegment: before.rfmSegment, rfmSegmentEnteredOn: runDate });
    else if (kept.previousRfmSegment !== undefined && kept.rfmSegmentEnteredOn !== undefined) {
      Object.assign(history, { previousRfmSegment: kept.previousRfmSegment, rfmSegmentEnteredOn: kept.rfmSegmentEnteredOn });
    }
  }
  return history;
}

/** Tonight's profile with its history (the same object when it has none and needs none). */
export function withHistory<P extends ClientProfile>(tonight: P, before: HistoryBefore | undefined, runDate: string): P {
  const history = profileHistory(before, tonight, runDate);
  const stale = HISTORY_FIELDS.some((field) => tonight[field] !== undefined);
  if (!stale && Object.keys(history).length === 0) return tonight;
  const profile = { ...tonight };
  for (const field of HISTORY_FIELDS) delete profile[field];
  return { ...profile, ...history };
}

/** The history fields of a stored item, if any (for the base). */
export function historyOf(item: Partial<Record<(typeof HISTORY_FIELDS)[number], unknown>>): ProfileHistory | undefined {
  const history: Record<string, unknown> = {};
  for (const field of HISTORY_FIELDS) if (typeof item[field] === 'string') history[field] = item[field];
  return Object.keys(history).length === 0 ? undefined : (history as ProfileHistory);
}
