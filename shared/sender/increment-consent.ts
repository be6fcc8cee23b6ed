import { nightStartedAt, type NightMark } from './increment-orders.ts';

/**
 * The consent a stored profile holds once an increment's customer row is merged (pure). Consent
 * follows time: the latest word the platform gave stands, and a no stands whenever which word
 * came last cannot be told.
 *
 * An increment's folder stamp says when it was dropped. A night's snapshot carries no time of its
 * own: it was dumped after the night's cut-off and before the night began (it read it), and a night
 * may begin hours late, or be rerun: on the export an earlier attempt read, before that attempt
 * began (snapshotDumpedBy). So an increment stamped after that is newer than that night's snapshot,
 * and its yes or no applies. One stamped before cannot be ordered
 * against the snapshot: its no applies (a yes the night wrote from an older snapshot must not come
 * back over it), and its yes applies only where the night left no no (a no the snapshot may have
 * given later must not be undone; the next night's snapshot brings the yes if it still holds).
 */

export interface ConsentMerge {
  /** What the stored profile holds now. */
  stored: boolean | undefined;
  /** What the newest night left on the profile (its snapshot's word, or the consent it kept): the profile as this hour first read it. */
  nightLeft: boolean | undefined;
  /** The increment row's accepts_marketing; undefined when the column is absent or the cell empty (it says nothing). */
  increment: boolean | undefined;
  /** When the increment was dropped (its folder's stamp). */
  stamp: number;
  /** snapshotDumpedBy of the newest night: undefined when no night has written. */
  snapshotBy: number | undefined;
}

/**
 * The instant by which the newest night's snapshot was dumped: the bound the night recorded
 * (snapshotBy: the start of the earliest of its attempts in a row that read the same input, since
 * a rerun on the export an attempt read before reads no newer snapshot), else its start (its latest
 * attempt's: items written before). Infinity when its item has neither readable (no increment is
 * then known newer); undefined when there is no night.
 */
export function snapshotDumpedBy(night: NightMark | undefined): number | undefined {
  if (night === undefined) return undefined;
  const started = nightStartedAt(night);
  const recorded = night.snapshotBy === undefined ? Number.NaN : Date.parse(night.snapshotBy);
  if (!Number.isFinite(recorded)) return started ?? Number.POSITIVE_INFINITY;
  return started === undefined ? recorded : Math.min(recorded, started);
}

/** Whether an increment stamped `stamp` is known to be newer than the newest night's snapshot (snapshotDumpedBy). Pure. */
export function isAfterSnapshot(stamp: number, snapshotBy: number | undefined): boolean {
  return snapshotBy === undefined || stamp > snapshotBy;
}

export function consentAfterIncrement(merge: ConsentMerge): boolean | undefined {
  const { stored, nightLeft, increment, stamp, snapshotBy } = merge;
  if (increment === undefined) return stored;
  if (isAfterSnapshot(stamp, snapshotBy)) return increment;
  // Not known to be newer than the snapshot: a no from either stands.
  return nightLeft === false ? false : increment;
}
