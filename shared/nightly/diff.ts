import { createHash } from 'node:crypto';
import { isTierUpgrade, type ClientClv, type ClientProfile, type Stage, type Tier, type TierChange } from '#shared/model.ts';
import { daysBetweenDates } from '#shared/time.ts';
import { tierRank } from '#shared/tiering/tiers.ts';
import { seenByNight, withMovesTonight } from './history.ts';
import type { ProfileItem, StoredState } from '#shared/store/profile-store.ts';

/**
 * Compares tonight's profiles with the base (each client's state as of the last completed night,
 * base.ts), so a run writes only what changed and records every tier or stage movement. Pure: the
 * base is passed in.
 */

/** JSON with object keys sorted, so equal content always gives equal text. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
}

/**
 * Digest of everything but the predictions and the history: the model is refitted every night and
 * the clients' ages grow, so predictions drift a little for everyone; they are compared with a
 * tolerance instead. The history (history.ts) follows a move of tier, stage or segment, which the
 * digest already sees, and is carried from the stored item when the profile is written.
 */
export function profileDigest(profile: ClientProfile): string {
  const { clv: _predictions, previousTier: _t, tierChangedOn: _tOn, tierReturnLeftOn: _tBack, tiersLeftOn: _tLeft, previousStage: _s, stageEnteredOn: _sOn, previousRfmSegment: _r, rfmSegmentEnteredOn: _rOn, ...facts } = profile;
  return createHash('sha1').update(stableStringify(facts)).digest('base64url');
}

/**
 * A stored next order date is kept until tonight's is more than this many days away from it: each
 * refit moves many predicted dates by a day (seen in the benchmark: a 1% change of the base
 * rewrote a quarter of the profiles for that alone), and a reminder sent a day or two off its
 * ideal date is not worth a write; the stored date never drifts further than this.
 */
export const NEXT_ORDER_TOLERANCE_DAYS = 3;

function nextOrderMoved(before: string | undefined, after: string | undefined): boolean {
  if (before === undefined || after === undefined) return before !== after;
  return Math.abs(daysBetweenDates(before, after)) > NEXT_ORDER_TOLERANCE_DAYS;
}

/** Differences in the predictions that matter to a marketer or a campaign decision. */
export function clvMateriallyChanged(before: ClientClv | undefined, after: ClientClv | undefined): boolean {
  if (before === undefined || after === undefined) return before !== after;
  // A profile written before belowTier was kept counts as false: only a client now below is rewritten for it.
  if (before.churnRisk !== after.churnRisk || before.rising !== after.rising || (before.belowTier ?? false) !== (after.belowTier ?? false)) return true;
  if (nextOrderMoved(before.predictedNextOrderAt, after.predictedNextOrderAt)) return true;
  if (Math.abs(before.probabilityAlive - after.probabilityAlive) >= 0.05) return true;
  if (Math.abs(before.expectedPurchases365d - after.expectedPurchases365d) >= 0.5) return true;
  const value = Math.max(Math.abs(before.clv12mMinor), Math.abs(after.clv12mMinor));
  return value > 0 && Math.abs(before.clv12mMinor - after.clv12mMinor) / value >= 0.1;
}

export interface ProfileDiff {
  changed: ProfileItem[];
  tierChanges: TierChange[];
  unchanged: number;
  newClients: number;
  /** Existing clients' tier moves, e.g. { "Core→VIC": 3 }. */
  tierMovements: Record<string, number>;
  /** Existing clients' stage moves, e.g. { "active→sleeping": 40 }. */
  stageMovements: Record<string, number>;
  /** Existing buyers' RFM segment moves, e.g. { "loyal→at-risk": 12 }. */
  rfmSegmentMovements: Record<string, number>;
  /** Existing buyers' moves up a tier (isTierUpgrade: a first purchase, from Prospect, is not one; tierMovements has it). */
  upgrades: number;
  downgrades: number;
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/** A client's state as of the last completed night; undefined for a client the base did not hold. */
export type BeforeLookup = (customerId: string) => StoredState | undefined;

export function diffProfiles(profiles: Iterable<ClientProfile>, before: BeforeLookup, runDate: string): ProfileDiff {
  const diff: ProfileDiff = {
    changed: [],
    tierChanges: [],
    unchanged: 0,
    newClients: 0,
    tierMovements: {},
    stageMovements: {},
    rfmSegmentMovements: {},
    upgrades: 0,
    downgrades: 0,
  };
  for (const computed of profiles) {
    const was = before(computed.customerId);
    // Moves and first sights are measured against the last night (history.ts): a client an increment created is new tonight.
    const seen = seenByNight(was);
    // Tonight's moves, for the triggers that read them: the same on a rerun of the night.
    const profile = withMovesTonight(computed, seen, runDate);
    const digest = profileDigest(profile);
    // A client marked absent is back: the mark goes, whatever else changed (absent.ts).
    if (was?.digest === digest && !clvMateriallyChanged(was.clv, profile.clv) && was.absentSince === undefined && was.rewrite === undefined) {
      diff.unchanged++;
      continue;
    }
    diff.changed.push({ ...profile, digest, updatedRunDate: runDate });
    if (!seen) diff.newClients++;
    // Moves between two segments only: a first purchase (or a profile stored before segments) has none to move from.
    const segment = profile.rfm?.segment;
    if (seen?.rfmSegment !== undefined && segment !== undefined && seen.rfmSegment !== segment) {
      bump(diff.rfmSegmentMovements, `${seen.rfmSegment}→${segment}`);
    }
    const tierMoved = seen?.tier !== profile.tier;
    const stageMoved = seen?.stage !== profile.stage;
    if (!tierMoved && !stageMoved) continue;
    diff.tierChanges.push(tierChange(profile, seen?.tier, seen?.stage, runDate));
    if (!seen) continue;
    if (tierMoved) {
      bump(diff.tierMovements, `${seen.tier}→${profile.tier}`);
      // As the plausibility guard counts them (run.ts measureShard): a first purchase, from Prospect, is neither.
      if (isTierUpgrade(seen.tier, profile.tier)) diff.upgrades++;
      else if (tierRank(profile.tier) < tierRank(seen.tier)) diff.downgrades++;
    }
    if (stageMoved) bump(diff.stageMovements, `${seen.stage}→${profile.stage}`);
  }
  return diff;
}

function tierChange(profile: ClientProfile, fromTier: Tier | undefined, fromStage: Stage | undefined, runDate: string): TierChange {
  return {
    customerId: profile.customerId,
    runDate,
    ...(fromTier ? { fromTier } : {}),
    toTier: profile.tier,
    ...(fromStage ? { fromStage } : {}),
    toStage: profile.stage,
    spend12mMinor: profile.spend12mMinor,
  };
}
