/** Rejects kept in memory (and so in the rejects object); the count goes on beyond. */
export const MAX_KEPT_REJECTS = 10_000;
/** Warnings kept in memory, likewise. */
export const MAX_KEPT_WARNINGS = 10_000;

/** Appends `more` to `kept` while it holds fewer than `max`. */
export function keepUpTo<T>(kept: T[], more: readonly T[], max: number): void {
  if (kept.length < max) kept.push(...more.slice(0, max - kept.length));
}
