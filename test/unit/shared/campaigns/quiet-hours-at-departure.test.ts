import { describe, expect, it } from 'vitest';
import { dueOccasions } from '#shared/campaigns/due.ts';
import { decide, DEPARTURE_ALLOWANCE_MS, quietHoursAtDeparture } from '#shared/campaigns/policy.ts';
import { campaignsEventSchema, lateScheduledRunRefusal, SCHEDULED_RUN_MAX_DELAY_MINUTES } from '#shared/sender/campaigns-event.ts';
import { clientProfile } from '#test/support/profiles.ts';
import { DAY, MINUTE, at } from '#test/support/time.ts';
import { context } from './fixtures.ts';

/**
 * An hour is decided at its own instant, but its emails leave when the run sends them: a scheduled
 * run may start up to 50 minutes late, and an on-time one may still be sending well past its hour.
 * The schedule fires on the brand's hours, so a client in a half-hour zone sees the brand's 23:00
 * (Shanghai) at 20:30 (Kolkata): quiet hours begin while the run goes on.
 */

const BRAND = 'Asia/Shanghai';
const KOLKATA = 'Asia/Kolkata';
const HOUR_AT = at('2026-06-01T23:00:00+08:00'); // 20:30 in Kolkata
const ctx = context({ policy: { controlShare: 0 } }, BRAND);

/** A consenting Kolkata client whose win-back is due (last order 70 days ago), no recent email. */
const kolkataClient = clientProfile({
  customerId: 'kol-1',
  timeZone: KOLKATA,
  stage: 'sleeping',
  lastOrderAt: new Date(HOUR_AT - 70 * DAY).toISOString(),
  firstOrderAt: new Date(HOUR_AT - 200 * DAY).toISOString(),
});

describe('quiet hours at the moment the email leaves', () => {
  it('the 23:00 (Shanghai) run accepted 40 minutes late does not mail a Kolkata client at 21:10 local', () => {
    const reachedFunction = HOUR_AT + 40 * MINUTE;
    const event = campaignsEventSchema.parse({ trigger: 'schedule', at: '2026-06-01T23:00:00+08:00' });
    expect(lateScheduledRunRefusal(event, reachedFunction)).toBeUndefined(); // accepted

    const due = dueOccasions(kolkataClient, new Map(), HOUR_AT, ctx);
    expect(due.map((o) => o.campaignId)).toContain('winback');
    // The hour's decision, at 20:30 local: not quiet.
    const sends = decide({ profile: kolkataClient, suppressed: false, recentSends: [] }, due, HOUR_AT, ctx).filter((d) => d.decision.outcome === 'send');
    expect(sends).toHaveLength(1);

    // The email would leave at 21:10 local: deferred to 09:00 the next morning, as decide() defers.
    expect(quietHoursAtDeparture(kolkataClient, reachedFunction, ctx)).toEqual({ outcome: 'deferred', until: at('2026-06-02T09:00', KOLKATA), reason: 'quiet-hours' });
  });

  it('lets an on-time email go, and holds one whose run is still sending when the quiet hours begin', () => {
    expect(quietHoursAtDeparture(kolkataClient, HOUR_AT, ctx)).toBeUndefined(); // 20:30
    expect(quietHoursAtDeparture(kolkataClient, HOUR_AT + 20 * MINUTE, ctx)).toBeUndefined(); // 20:50
    expect(quietHoursAtDeparture(kolkataClient, HOUR_AT + 31 * MINUTE, ctx)).toMatchObject({ outcome: 'deferred', reason: 'quiet-hours' }); // 21:01
  });

  it('holds an email when the quiet hours begin within the allowance for reaching SES', () => {
    const nineOClockKolkata = at('2026-06-01T21:00', KOLKATA);
    expect(quietHoursAtDeparture(kolkataClient, nineOClockKolkata - DEPARTURE_ALLOWANCE_MS - 1, ctx)).toBeUndefined();
    expect(quietHoursAtDeparture(kolkataClient, nineOClockKolkata - DEPARTURE_ALLOWANCE_MS, ctx)).toEqual({
      outcome: 'deferred',
      until: at('2026-06-02T09:00', KOLKATA),
      reason: 'quiet-hours',
    });
  });

  it('holds an email an early run would send before the quiet hours end, until they do', () => {
    // An operator's run of the 09:00 hour started at 08:30: its emails leave in quiet hours.
    const earlyDeparture = at('2026-06-02T08:30', KOLKATA);
    expect(quietHoursAtDeparture(kolkataClient, earlyDeparture, ctx)).toEqual({ outcome: 'deferred', until: at('2026-06-02T09:00', KOLKATA), reason: 'quiet-hours' });
  });

  it('never lets an email leave in quiet hours over the whole span a scheduled run may send in', () => {
    // From the hour to 50 minutes late plus a 15-minute run, minute by minute, every zone offset kind.
    const quiet = ctx.campaigns.policy.quietHours;
    for (const timeZone of [KOLKATA, 'Asia/Kathmandu', 'Australia/Adelaide', 'Asia/Shanghai', 'America/St_Johns']) {
      const profile = { ...kolkataClient, timeZone };
      for (let departure = HOUR_AT; departure <= HOUR_AT + (SCHEDULED_RUN_MAX_DELAY_MINUTES + 15) * MINUTE; departure += 30_000) {
        const held = quietHoursAtDeparture(profile, departure, ctx);
        if (held === undefined) {
          // Going: no quiet minute from now until SES has it.
          const local = (instant: number) => new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(instant);
          for (const instant of [departure, departure + DEPARTURE_ALLOWANCE_MS]) {
            const time = local(instant);
            expect(time >= quiet.end && time < quiet.start, `${timeZone} ${time}`).toBe(true);
          }
        } else {
          expect(held.until).toBeGreaterThan(departure);
        }
      }
    }
  });
});
