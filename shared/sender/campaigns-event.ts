import { z } from 'zod';
import { ClienteleError } from '#shared/errors.ts';
import { issuesText } from '#shared/zod-issues.ts';

/**
 * The campaigns function's event. EventBridge Scheduler sends `{ trigger: 'schedule', at: <the
 * hour's scheduled time> }` every hour (infra/constructs/campaign-sender.ts); an operator invokes it
 * with `{ at?, dryRun? }` to run or rehearse an hour by hand. Any other key is refused: a rehearsal
 * with a mistyped flag (`dry_run`) would otherwise send the hour for real.
 */
export const campaignsEventSchema = z
  .strictObject({
    trigger: z.literal('schedule').optional(),
    at: z.iso.datetime({ offset: true }).optional(),
    dryRun: z.boolean().optional(),
  })
  .refine((event) => event.trigger === undefined || event.at !== undefined, {
    path: ['at'],
    message: 'a scheduled event carries the time it was scheduled for',
  });

export type CampaignsEvent = z.infer<typeof campaignsEventSchema>;

/** Validates the campaigns function's event; a malformed one is an EVENT_INVALID error naming each bad field, as the nightly's. */
export function parseCampaignsEvent(event: unknown): CampaignsEvent {
  const result = campaignsEventSchema.safeParse(event ?? {});
  if (result.success) return result.data;
  throw new ClienteleError('EVENT_INVALID', `Invalid campaigns event: ${issuesText(result.error, '(event)')}`, { cause: result.error });
}

/**
 * How long after its hour a scheduled run may still start. The scheduler and Lambda's queue each
 * drop an invocation older than this (the stack sets both), and the function refuses a scheduled
 * event whose hour began longer ago: such a run would decide quiet hours and cut-offs for its hour
 * but send now, hours late in the client's day. The next hour's run sends what is still due.
 */
export const SCHEDULED_RUN_MAX_DELAY_MINUTES = 50;

const MINUTE_MS = 60_000;

/** Why a scheduled event is too old to run at `now`, or undefined (manual events are never refused here). Pure. */
export function lateScheduledRunRefusal(event: CampaignsEvent, now: number): string | undefined {
  if (event.trigger !== 'schedule' || event.at === undefined) return undefined;
  const scheduledAt = Date.parse(event.at);
  const lateMinutes = Math.floor((now - scheduledAt) / MINUTE_MS);
  if (now - scheduledAt <= SCHEDULED_RUN_MAX_DELAY_MINUTES * MINUTE_MS) return undefined;
  return (
    `the scheduled run for ${new Date(scheduledAt).toISOString()} reached the function at ${new Date(now).toISOString()}, ` +
    `${lateMinutes} minutes after its hour (at most ${SCHEDULED_RUN_MAX_DELAY_MINUTES}): it would send now what it decided for its hour (quiet hours included); ` +
    'the next hourly run sends what is still due'
  );
}
