import { PROFILE_FORMAT } from '#shared/model.ts';

/**
 * After an upgrade (or a rollback) the profiles stay as the last completed night wrote them until
 * a night of this version rewrites them: read in this version's meaning, a field whose meaning
 * changed decides emails no version would send (an older personalCycleDays was the whole
 * purchase's gap; read per unit, a quantity of 2 halves the wait) and uses up the occasion's real
 * key. Nothing on a profile says which meaning it holds, and a night leaves unchanged profiles
 * unwritten, so the format is the night's: each completed night records PROFILE_FORMAT
 * (NightlyRunSummary.profileFormat), and an hour whose last completed night recorded another one
 * (or none: a version before it was recorded) decides and sends nothing until a night of this
 * version completes. A deployment with no completed night has nothing of another format to read.
 */

/** The last completed night as the hour read it: its run date and the format it recorded (absent: none). */
export interface CompletedNightFormat {
  runDate: string;
  profileFormat?: number;
}

/** Why an hour decides no occasion: the profiles are another version's. */
export interface FormatHold {
  reason: 'waiting-for-night';
  /** The last completed night's run date. */
  lastNight: string;
  /** The format it recorded; absent when it recorded none (a version before formats were recorded). */
  lastNightFormat?: number;
  /** This version's (PROFILE_FORMAT). */
  format: number;
  /** One sentence for the log line, the summary and the CLI. */
  message: string;
}

/** Whether the hour must wait for a night of this version, given the last completed night (undefined: none yet). Pure. */
export function formatHold(lastCompleted: CompletedNightFormat | undefined, format: number = PROFILE_FORMAT): FormatHold | undefined {
  if (lastCompleted === undefined || lastCompleted.profileFormat === format) return undefined;
  const recorded = lastCompleted.profileFormat;
  const written = recorded === undefined ? 'by a version that recorded no profile format (before this one)' : `in profile format ${recorded}`;
  return {
    reason: 'waiting-for-night',
    lastNight: lastCompleted.runDate,
    ...(recorded === undefined ? {} : { lastNightFormat: recorded }),
    format,
    message:
      `waiting for the first night of this version: the last completed night (${lastCompleted.runDate}) wrote the profiles ${written}, ` +
      `this version reads format ${format}; no campaign occasion is decided or sent until a night of this version completes ` +
      `(run it now with \`clientele run nightly --date ${lastCompleted.runDate}\`, or wait for the scheduled one); increments are still merged`,
  };
}
