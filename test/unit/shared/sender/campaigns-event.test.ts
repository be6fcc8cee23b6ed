import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { campaignsEventSchema, lateScheduledRunRefusal, SCHEDULED_RUN_MAX_DELAY_MINUTES, type CampaignsEvent } from '#shared/sender/campaigns-event.ts';

/**
 * The campaigns function's event, and the bound on a scheduled run's lateness: a run that starts
 * hours after its hour decides quiet hours for that hour and sends now (a New York client mailed
 * at 01:36 by the 01:00 run started at 06:36 UTC), so a scheduled event older than the bound is refused.
 */

const MINUTE = 60_000;
const BOUND = SCHEDULED_RUN_MAX_DELAY_MINUTES * MINUTE;
const HOUR_AT = '2026-12-05T01:00:00Z';
const HOUR = Date.parse(HOUR_AT);
const scheduled = (at: string): CampaignsEvent => campaignsEventSchema.parse({ trigger: 'schedule', at });

describe('campaignsEventSchema', () => {
  it('reads the schedule\'s event and an operator\'s', () => {
    expect(campaignsEventSchema.parse({ trigger: 'schedule', at: HOUR_AT })).toEqual({ trigger: 'schedule', at: HOUR_AT });
    expect(campaignsEventSchema.parse({ at: '2026-12-05T09:00:00+08:00', dryRun: true })).toEqual({ at: '2026-12-05T09:00:00+08:00', dryRun: true });
    expect(campaignsEventSchema.parse({})).toEqual({});
  });

  it('refuses a scheduled event without its time, and any other trigger, naming the field', () => {
    const issues = (event: unknown) => campaignsEventSchema.safeParse(event).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues({ trigger: 'schedule' })).toEqual(['at: a scheduled event carries the time it was scheduled for']);
    expect(issues({ trigger: 'cron', at: HOUR_AT })).toEqual([expect.stringMatching(/^trigger: /)]);
    expect(issues({ trigger: 'schedule', at: '01:00' })).toEqual([expect.stringMatching(/^at: Invalid ISO datetime/)]);
  });

  it('refuses any other key, naming it: a rehearsal with a mistyped dryRun would otherwise send for real', () => {
    for (const key of ['dry_run', 'dryrun', 'dry-run']) {
      const error = campaignsEventSchema.safeParse({ at: HOUR_AT, [key]: true }).error;
      expect(error?.issues, key).toEqual([expect.objectContaining({ code: 'unrecognized_keys', keys: [key], message: `Unrecognized key: "${key}"` })]);
    }
  });
});

describe('lateScheduledRunRefusal', () => {
  it('lets a scheduled run start up to the bound after its hour, and refuses it after, saying when and why', () => {
    expect(SCHEDULED_RUN_MAX_DELAY_MINUTES).toBe(50);
    expect(lateScheduledRunRefusal(scheduled(HOUR_AT), HOUR)).toBeUndefined();
    expect(lateScheduledRunRefusal(scheduled(HOUR_AT), HOUR + BOUND)).toBeUndefined();
    expect(lateScheduledRunRefusal(scheduled(HOUR_AT), HOUR + BOUND + 1)).toBeDefined();
    // The tester's case: the 01:00 UTC run reaching the function at 06:36.
    expect(lateScheduledRunRefusal(scheduled(HOUR_AT), Date.parse('2026-12-05T06:36:00Z'))).toBe(
      'the scheduled run for 2026-12-05T01:00:00.000Z reached the function at 2026-12-05T06:36:00.000Z, 336 minutes after its hour (at most 50): ' +
        'it would send now what it decided for its hour (quiet hours included); the next hourly run sends what is still due',
    );
  });

  it('reads the hour in any offset the scheduler writes', () => {
    expect(lateScheduledRunRefusal(scheduled('2026-12-04T20:00:00-05:00'), HOUR + 49 * MINUTE)).toBeUndefined();
    expect(lateScheduledRunRefusal(scheduled('2026-12-04T20:00:00-05:00'), HOUR + 51 * MINUTE)).toMatch(/51 minutes after its hour/);
  });

  it('never refuses an operator\'s event, whatever its hour (a catch-up, a rehearsal)', () => {
    expect(lateScheduledRunRefusal(campaignsEventSchema.parse({ at: HOUR_AT }), HOUR + 30 * 24 * 60 * MINUTE)).toBeUndefined();
    expect(lateScheduledRunRefusal(campaignsEventSchema.parse({}), HOUR)).toBeUndefined();
  });

  it('refuses exactly the scheduled events older than the bound', () => {
    fc.assert(
      fc.property(fc.integer({ min: -3 * BOUND, max: 10 * BOUND }), fc.boolean(), fc.boolean(), (lateness, bySchedule, dryRun) => {
        const event = campaignsEventSchema.parse({ ...(bySchedule ? { trigger: 'schedule' } : {}), at: HOUR_AT, dryRun });
        expect(lateScheduledRunRefusal(event, HOUR + lateness) !== undefined).toBe(bySchedule && lateness > BOUND);
      }),
    );
  });
});
