import { z } from 'zod';
import type { Config } from '#shared/config.ts';
import { addDays, isoDateSchema, localDate, zoneOffsetMs } from '#shared/time.ts';

/**
 * Which night a nightly run tiers. The night is an input, never the moment the code happens to
 * run: the 04:00 schedule says when it fired (EventBridge Scheduler's scheduled time, the same on
 * every retry of the delivery, and kept in the execution input, so a late start or a redrive of
 * the execution two days later still tiers the night it was scheduled for). In order:
 *
 *   1. runDate        given (a backfill, a rerun by hand): that night
 *   2. scheduledTime  given (the schedule): the day before it, in brand time
 *   3. neither        (an execution started with {}): the day before the handler's own clock
 */

/**
 * What the schedule or a person asks a whole night for. Any other key is refused: a mistyped
 * backfill ({ "rundate": ... }) would otherwise run the night before the clock and succeed.
 */
export const nightRequestSchema = z
  .strictObject({
    /** The schedule's own mark (infra/constructs/nightly-pipeline.ts); unread. */
    trigger: z.literal('schedule').optional(),
    runDate: isoDateSchema.optional(),
    /** <aws.scheduler.scheduled-time>, e.g. 2026-11-23T18:00:00Z. */
    scheduledTime: z.iso.datetime({ offset: true, error: 'must be an ISO date-time with an offset, e.g. 2026-11-23T18:00:00Z' }).optional(),
    /** An operator's explicit decision to write a night whose figures fail the plausibility checks (recorded in its summary). */
    acceptDrop: z.boolean().optional(),
  });

export type NightRequest = z.infer<typeof nightRequestSchema>;

/** The night before `instant`, in brand time: what a run started at 04:00 reads (the day's export). */
export function nightBefore(instant: number, config: Pick<Config, 'timeZone'>): string {
  return addDays(localDate(instant, config.timeZone), -1);
}

/**
 * Why the night of `runDate` may not run at `now` (epoch ms), or undefined: a night whose day has not
 * begun in brand time. Its export cannot be the day's, and once completed it would refuse every
 * earlier night (nights run in order), the scheduled ones included. Today's night may run (it is
 * replaced by the scheduled run after midnight). Pure: the clock is an argument.
 */
export function futureNightRefusal(runDate: string, now: number, config: Pick<Config, 'timeZone'>): string | undefined {
  const today = localDate(now, config.timeZone);
  if (runDate <= today) return undefined;
  return (
    `the night of ${runDate} has not begun: it is ${today} in ${config.timeZone}. Once completed it would hold back every ` +
    'earlier night, the scheduled ones included; run it when its day is over'
  );
}

/**
 * The night a request is for: its runDate, else the night before its scheduledTime, else the
 * night before `handlerNow` (epoch ms, the caller's clock). Pure: the clock is an argument.
 */
export function runDateOf(request: Pick<NightRequest, 'runDate' | 'scheduledTime'>, config: Pick<Config, 'timeZone'>, handlerNow: number): string {
  if (request.runDate !== undefined) return request.runDate;
  return nightBefore(request.scheduledTime !== undefined ? Date.parse(request.scheduledTime) : handlerNow, config);
}

/**
 * When a night counts as due, in minutes of the brand's wall clock the next day: the schedule
 * starts it at 04:00 brand time (infra/constructs/nightly-pipeline.ts, NIGHTLY_CRON), and it stores
 * its mark as soon as it is admitted; at 04:30, a date with nothing stored is a gap, not a night
 * about to start.
 */
const NIGHT_DUE_FROM_MINUTE = 4 * 60 + 30;

/**
 * The last night due at `now`: yesterday's (brand time) from 04:30 on the brand's wall clock, the
 * day before's until then. Read on the wall clock, not as hours since midnight: on the days the
 * clocks change, 04:30 is 3.5 or 5.5 hours after midnight. `clientele status` counts the gaps up to
 * it; the hourly sender holds the lapse occasions while the last completed night is older
 * (shared/sender/nights-behind.ts). Pure: the clock is an argument.
 */
export function lastNightDue(now: number, timeZone: string): string {
  const wall = new Date(now + zoneOffsetMs(now, timeZone));
  const today = wall.toISOString().slice(0, 10);
  const minute = wall.getUTCHours() * 60 + wall.getUTCMinutes();
  return addDays(today, minute >= NIGHT_DUE_FROM_MINUTE ? -1 : -2);
}
