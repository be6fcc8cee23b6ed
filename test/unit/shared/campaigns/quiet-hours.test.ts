import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isQuietTime, nextAllowedTime } from '#shared/campaigns/policy.ts';
import { quietHoursSchema, type QuietHours } from '#shared/campaigns/schema.ts';
import { parseConfig } from '#shared/config.ts';
import { localDate, localHour } from '#shared/time.ts';
import { DAY, HOUR, at } from '#test/support/time.ts';

const DEFAULT: QuietHours = { start: '21:00', end: '09:00' };
const SH = 'Asia/Shanghai';
const NY = 'America/New_York';
const LDN = 'Europe/London';

describe('quiet hours 21:00–09:00 in Asia/Shanghai', () => {
  it('sends at 20:59, defers 21:00 to 09:00 the next day', () => {
    expect(nextAllowedTime(at('2026-06-01T20:59', SH), SH, DEFAULT)).toBe(at('2026-06-01T20:59', SH));
    expect(nextAllowedTime(at('2026-06-01T20:59:59.999', SH), SH, DEFAULT)).toBe(at('2026-06-01T20:59:59.999', SH));
    expect(nextAllowedTime(at('2026-06-01T21:00', SH), SH, DEFAULT)).toBe(at('2026-06-02T09:00', SH));
    expect(nextAllowedTime(at('2026-06-01T23:59:59', SH), SH, DEFAULT)).toBe(at('2026-06-02T09:00', SH));
  });

  it('defers 00:00 and 08:59 to 09:00 the same day, and sends from 09:00', () => {
    expect(nextAllowedTime(at('2026-06-02T00:00', SH), SH, DEFAULT)).toBe(at('2026-06-02T09:00', SH));
    expect(nextAllowedTime(at('2026-06-02T08:59', SH), SH, DEFAULT)).toBe(at('2026-06-02T09:00', SH));
    expect(nextAllowedTime(at('2026-06-02T09:00', SH), SH, DEFAULT)).toBe(at('2026-06-02T09:00', SH));
  });

  it('rolls over the month and the year', () => {
    expect(nextAllowedTime(at('2026-12-31T22:00', SH), SH, DEFAULT)).toBe(at('2027-01-01T09:00', SH));
    expect(nextAllowedTime(at('2026-02-28T21:30', SH), SH, DEFAULT)).toBe(at('2026-03-01T09:00', SH));
  });

  it('judges the local clock, not UTC: 14:00 UTC is 22:00 in Shanghai', () => {
    expect(isQuietTime(Date.UTC(2026, 5, 1, 14), SH, DEFAULT)).toBe(true);
    expect(isQuietTime(Date.UTC(2026, 5, 1, 14), 'UTC', DEFAULT)).toBe(false);
  });
});

describe('quiet hours across DST in America/New_York', () => {
  it('defers the night before spring-forward (2026-03-08) to 09:00 EDT, an hour less later', () => {
    const evening = Date.UTC(2026, 2, 8, 3); // Mar 7 22:00 EST
    const until = nextAllowedTime(evening, NY, DEFAULT);
    expect(until).toBe(Date.UTC(2026, 2, 8, 13)); // Mar 8 09:00 EDT
    expect(until - evening).toBe(10 * HOUR);
    expect(localHour(until, NY)).toBe(9);
  });

  it('defers from inside and after the gap to the same 09:00 EDT', () => {
    expect(nextAllowedTime(Date.UTC(2026, 2, 8, 6, 59), NY, DEFAULT)).toBe(Date.UTC(2026, 2, 8, 13)); // 01:59 EST
    expect(nextAllowedTime(Date.UTC(2026, 2, 8, 7, 30), NY, DEFAULT)).toBe(Date.UTC(2026, 2, 8, 13)); // 03:30 EDT
    expect(nextAllowedTime(Date.UTC(2026, 2, 8, 12, 59), NY, DEFAULT)).toBe(Date.UTC(2026, 2, 8, 13)); // 08:59 EDT
    expect(nextAllowedTime(Date.UTC(2026, 2, 8, 13), NY, DEFAULT)).toBe(Date.UTC(2026, 2, 8, 13));
  });

  it('sends at 20:59 EDT and defers 21:00 EDT on the day of the change', () => {
    expect(nextAllowedTime(Date.UTC(2026, 2, 9, 0, 59), NY, DEFAULT)).toBe(Date.UTC(2026, 2, 9, 0, 59));
    expect(nextAllowedTime(Date.UTC(2026, 2, 9, 1), NY, DEFAULT)).toBe(Date.UTC(2026, 2, 9, 13));
  });

  it('defers the night before fall-back (2026-11-01) to 09:00 EST, an hour more later', () => {
    const evening = Date.UTC(2026, 10, 1, 2); // Oct 31 22:00 EDT
    const until = nextAllowedTime(evening, NY, DEFAULT);
    expect(until).toBe(Date.UTC(2026, 10, 1, 14)); // Nov 1 09:00 EST
    expect(until - evening).toBe(12 * HOUR);
  });

  it('defers both 01:30s of the repeated hour to the same 09:00 EST', () => {
    expect(nextAllowedTime(Date.UTC(2026, 10, 1, 5, 30), NY, DEFAULT)).toBe(Date.UTC(2026, 10, 1, 14)); // 01:30 EDT
    expect(nextAllowedTime(Date.UTC(2026, 10, 1, 6, 30), NY, DEFAULT)).toBe(Date.UTC(2026, 10, 1, 14)); // 01:30 EST
    expect(nextAllowedTime(Date.UTC(2026, 10, 2, 1, 59), NY, DEFAULT)).toBe(Date.UTC(2026, 10, 2, 1, 59)); // 20:59 EST
    expect(nextAllowedTime(Date.UTC(2026, 10, 2, 2), NY, DEFAULT)).toBe(Date.UTC(2026, 10, 2, 14)); // 21:00 EST
  });

  it('ends quiet hours whose end time falls in the gap when the clock jumps past it', () => {
    const early: QuietHours = { start: '22:00', end: '02:30' };
    // 02:30 does not exist on 2026-03-08: the clock goes from 01:59:59 EST to 03:00 EDT (07:00Z).
    expect(nextAllowedTime(Date.UTC(2026, 2, 8, 6), NY, early)).toBe(Date.UTC(2026, 2, 8, 7));
  });

  it('ends quiet hours whose end time happens twice at its next occurrence', () => {
    const early: QuietHours = { start: '22:00', end: '01:30' };
    expect(nextAllowedTime(Date.UTC(2026, 10, 1, 5, 15), NY, early)).toBe(Date.UTC(2026, 10, 1, 5, 30)); // 01:15 EDT → 01:30 EDT
    expect(nextAllowedTime(Date.UTC(2026, 10, 1, 6, 15), NY, early)).toBe(Date.UTC(2026, 10, 1, 6, 30)); // 01:15 EST → 01:30 EST
  });
});

describe('quiet hours across DST in Europe/London', () => {
  it('defers the night before BST starts (2026-03-29) to 09:00 BST', () => {
    expect(nextAllowedTime(Date.UTC(2026, 2, 28, 23), LDN, DEFAULT)).toBe(Date.UTC(2026, 2, 29, 8));
  });

  it('defers the night before BST ends (2026-10-25) to 09:00 GMT', () => {
    expect(nextAllowedTime(Date.UTC(2026, 9, 24, 20, 30), LDN, DEFAULT)).toBe(Date.UTC(2026, 9, 25, 9));
  });

  it('uses BST in summer: 20:59 BST sends, 21:00 BST waits', () => {
    expect(nextAllowedTime(Date.UTC(2026, 6, 1, 19, 59), LDN, DEFAULT)).toBe(Date.UTC(2026, 6, 1, 19, 59));
    expect(nextAllowedTime(Date.UTC(2026, 6, 1, 20), LDN, DEFAULT)).toBe(Date.UTC(2026, 6, 2, 8));
  });
});

describe('other quiet-hour shapes', () => {
  it('handles a window that does not wrap midnight', () => {
    const lunch: QuietHours = { start: '12:00', end: '14:00' };
    expect(nextAllowedTime(at('2026-06-01T11:59', SH), SH, lunch)).toBe(at('2026-06-01T11:59', SH));
    expect(nextAllowedTime(at('2026-06-01T12:00', SH), SH, lunch)).toBe(at('2026-06-01T14:00', SH));
    expect(nextAllowedTime(at('2026-06-01T13:59', SH), SH, lunch)).toBe(at('2026-06-01T14:00', SH));
    expect(nextAllowedTime(at('2026-06-01T22:00', SH), SH, lunch)).toBe(at('2026-06-01T22:00', SH));
  });

  it('has none when start equals end', () => {
    const none: QuietHours = { start: '09:00', end: '09:00' };
    for (let hour = 0; hour < 24; hour++) expect(isQuietTime(at('2026-06-01T00:00', SH) + hour * HOUR, SH, none)).toBe(false);
  });

  it('honours minutes and half-hour zones (Asia/Kolkata, +05:30)', () => {
    const q: QuietHours = { start: '21:30', end: '08:15' };
    const kolkata = 'Asia/Kolkata';
    expect(nextAllowedTime(at('2026-06-01T21:29', kolkata), kolkata, q)).toBe(at('2026-06-01T21:29', kolkata));
    expect(nextAllowedTime(at('2026-06-01T21:30', kolkata), kolkata, q)).toBe(at('2026-06-02T08:15', kolkata));
  });
});

describe('quiet hours next to odd DST changes (found by the property below)', () => {
  it('America/Santiago: the clock falls back at local midnight', () => {
    expect(nextAllowedTime(Date.UTC(2026, 3, 5, 0), 'America/Santiago', { start: '00:59', end: '00:07' })).toBe(Date.UTC(2026, 3, 5, 4, 7));
  });

  it('Pacific/Chatham: an end time that happens twice is met the first time', () => {
    expect(nextAllowedTime(Date.UTC(2026, 3, 4, 13, 21), 'Pacific/Chatham', { start: '00:00', end: '03:07' })).toBe(Date.UTC(2026, 3, 4, 13, 22));
  });

  it('Europe/London: from the repeated hour, the second 01:59', () => {
    expect(nextAllowedTime(Date.UTC(2026, 9, 25, 1), LDN, { start: '00:00', end: '01:59' })).toBe(Date.UTC(2026, 9, 25, 1, 59));
  });

  it('America/New_York: falling back before the start ends quiet hours at once', () => {
    // 01:56 EDT is quiet (01:07–24:00); at 06:00Z the clock shows 01:00 EST, before the start.
    expect(nextAllowedTime(Date.UTC(2026, 10, 1, 5, 56), NY, { start: '01:07', end: '00:00' })).toBe(Date.UTC(2026, 10, 1, 6));
  });

  it('America/New_York: an allowed window wholly inside the gap waits for the next day', () => {
    // 02:07–03:00 does not exist on 2026-03-08.
    expect(nextAllowedTime(Date.UTC(2026, 2, 8, 6, 59), NY, { start: '03:00', end: '02:07' })).toBe(Date.UTC(2026, 2, 9, 6, 7));
  });
});

describe('nextAllowedTime properties', () => {
  const ZONES = [SH, NY, LDN, 'UTC', 'Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Pacific/Chatham', 'America/Santiago', 'America/Havana'];
  const wallTime = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 45, 7, 59)).map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
  const instant = fc.oneof(
    fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2027, 0, 1) }),
    // Around the 2026 DST changes of the zones above, on the minute.
    fc
      .tuple(
        fc.constantFrom(Date.UTC(2026, 2, 8, 7), Date.UTC(2026, 10, 1, 6), Date.UTC(2026, 2, 29, 1), Date.UTC(2026, 9, 25, 1), Date.UTC(2026, 3, 5), Date.UTC(2026, 8, 6, 4), Date.UTC(2026, 2, 8, 5)),
        fc.integer({ min: -36 * 60, max: 36 * 60 }),
      )
      .map(([base, minutes]) => base + minutes * 60_000),
  );

  it('is the first instant at or after now outside quiet hours', () => {
    fc.assert(
      fc.property(instant, fc.constantFrom(...ZONES), wallTime, wallTime, (now, zone, start, end) => {
        const quietHours = { start, end };
        const until = nextAllowedTime(now, zone, quietHours);
        expect(until).toBeGreaterThanOrEqual(now);
        expect(until - now).toBeLessThan(2 * DAY);
        expect(isQuietTime(until, zone, quietHours)).toBe(false);
        if (until > now) {
          expect(isQuietTime(now, zone, quietHours)).toBe(true);
          expect(isQuietTime(until - 1, zone, quietHours)).toBe(true);
          // Nothing in between was allowed.
          for (let t = now; t < until; t += 10 * 60_000) expect(isQuietTime(t, zone, quietHours)).toBe(true);
        }
      }),
      { numRuns: Number(process.env.CAMPAIGN_RUNS ?? 2000) },
    );
  });

  it('defers the default 21:00–09:00 to a 09:00 local', () => {
    fc.assert(
      fc.property(instant, fc.constantFrom(SH, NY, LDN), (now, zone) => {
        const until = nextAllowedTime(now, zone, DEFAULT);
        if (until === now) {
          expect(localHour(now, zone)).toBeGreaterThanOrEqual(9);
          expect(localHour(now, zone)).toBeLessThan(21);
        } else {
          expect(new Date(until).toISOString()).toBe(new Date(at(`${localDate(until, zone)}T09:00`, zone)).toISOString());
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('quiet hours that leave no hour to send in', () => {
  const wallTimeOf = ([hour, minute]: [number, number]) => `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
  const wallTimeArb = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 1, 15, 30, 59)).map(wallTimeOf);

  it('are refused at load, naming the field and the hours (the hourly run sends at minute 0)', () => {
    for (const quietHours of [{ start: '21:00', end: '20:30' }, { start: '00:00', end: '23:59' }, { start: '00:30', end: '00:15' }]) {
      expect(() => parseConfig({ campaigns: { policy: { quietHours } } }), JSON.stringify(quietHours)).toThrow(
        new RegExp(`campaigns\\.policy\\.quietHours: quiet hours ${quietHours.start}-${quietHours.end} cover every whole hour`),
      );
    }
  });

  it('are accepted with one whole hour outside them, or none at all', () => {
    for (const quietHours of [DEFAULT, { start: '00:00', end: '23:00' }, { start: '20:30', end: '20:00' }, { start: '09:30', end: '09:00' }, { start: '23:01', end: '23:00' }, { start: '09:00', end: '09:00' }]) {
      expect(parseConfig({ campaigns: { policy: { quietHours } } }).campaigns.policy.quietHours).toEqual(quietHours);
    }
  });

  it('are refused exactly when every HH:00 of a day is quiet for the sender', () => {
    fc.assert(
      fc.property(wallTimeArb, wallTimeArb, (start, end) => {
        const quietHours = { start, end };
        const day = at('2026-06-02T00:00', SH);
        const someHourSends = Array.from({ length: 24 }, (_, hour) => day + hour * HOUR).some((instant) => !isQuietTime(instant, SH, quietHours));
        expect(quietHoursSchema.safeParse(quietHours).success).toBe(someHourSends);
      }),
    );
  });
});
