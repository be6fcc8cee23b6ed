import { z } from 'zod';
import type { Config } from '#shared/config.ts';
import { addDays, isIsoDate, localDate } from '#shared/time.ts';

/**
 * Which night a nightly run tiers. The night is an input, never the moment the code happens to
 * run: the 02:00 schedule says when it fired (EventBridge Scheduler's scheduled time, the same on
 * every retry of the delivery, and kept in the execution input, so a late start or a redrive of
 * the execution two days later still tiers the night it was scheduled for). In order:
 *
 *   1. runDate        given (a backfill, a rerun by hand): that night
 *   2. scheduledTime  given (the schedule): the day before it, in brand time
 *   3. neither        (an execution started with {}): the day before the handler's own clock
 */

export const runDateSchema = z.string().refine(isIsoDate, 'must be a date, YYYY-MM-DD');

/** What the schedule or a person asks a whole night for; other keys (`trigger`) are kept, unread. */
export const nightRequestSchema = z
  .object({
    runDate: runDateSchema.optional(),
    /** <aws.scheduler.scheduled-time>, e.g. 2026-11-23T18:00:00Z. */
    scheduledTime: z.iso.datetime({ offset: true, error: 'must be an ISO date-time with an offset, e.g. 2026-11-23T18:00:00Z' }).optional(),
    /** An operator's explicit decision to write a night whose figures fail the plausibility checks (recorded in its summary). */
    acceptDrop: z.boolean().optional(),
  })
  .passthrough();

export type NightRequest = z.infer<typeof nightRequestSchema>;

/** The night before `instant`, in brand time: what a run started at 02:00 reads (the day's export). */
export function nightBefore(instant: number, config: Pick<Config, 'timeZone'>): string {
  return addDays(localDate(instant, config.timeZone), -1);
}

/**
 * The night a request is for: its runDate, else the night before its scheduledTime, else the
 * night before `handlerNow` (epoch ms, the caller's clock). Pure: the clock is an argument.
 */
export function runDateOf(request: Pick<NightRequest, 'runDate' | 'scheduledTime'>, config: Pick<Config, 'timeZone'>, handlerNow: number): string {
  if (request.runDate !== undefined) return request.runDate;
  return nightBefore(request.scheduledTime !== undefined ? Date.parse(request.scheduledTime) : handlerNow, config);
}
