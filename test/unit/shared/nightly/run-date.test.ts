import { describe, expect, it } from 'vitest';
import { ClienteleError } from '#shared/errors.ts';
import { parseNightlyEvent, prepareNight, prepareEventSchema } from '#shared/nightly/distributed.ts';
import { futureNightRefusal, nightRequestSchema, runDateOf } from '#shared/nightly/run-date.ts';
import { parseConfig } from '#shared/config.ts';
import type { AwsClients } from '#shared/aws/clients.ts';
import { NightRefusedError } from '#shared/nightly/admission.ts';
import { nightContext } from '#shared/nightly/run.ts';

/** Which night a run tiers: runDate, else the night before scheduledTime, else the night before the handler's clock. */

const shanghai = { timeZone: 'Asia/Shanghai' };
const newYork = { timeZone: 'America/New_York' };
/** The 02:00 Shanghai schedule of the night of 2026-11-23, as EventBridge Scheduler writes it (UTC). */
const SCHEDULED = '2026-11-23T18:00:00Z';
/** Two days later, in the afternoon: a redrive, or an execution started very late. */
const LATER = Date.parse('2026-11-26T07:30:00Z');

describe('runDateOf', () => {
  it('takes the night before the schedule\'s time, in brand time, whenever the handler runs', () => {
    expect(runDateOf({ scheduledTime: SCHEDULED }, shanghai, Date.parse(SCHEDULED))).toBe('2026-11-23');
    // A retry a minute later, a late start, a redrive two days later: the same night.
    for (const handlerNow of [Date.parse(SCHEDULED) + 60_000, Date.parse('2026-11-24T01:59:00Z'), LATER]) {
      expect(runDateOf({ scheduledTime: SCHEDULED }, shanghai, handlerNow)).toBe('2026-11-23');
    }
  });

  it('reads the scheduled time in the brand\'s zone, whatever offset it is written with', () => {
    // 02:00 in New York on 2026-11-24 is 07:00 UTC.
    expect(runDateOf({ scheduledTime: '2026-11-24T07:00:00Z' }, newYork, LATER)).toBe('2026-11-23');
    expect(runDateOf({ scheduledTime: '2026-11-24T02:00:00-05:00' }, newYork, LATER)).toBe('2026-11-23');
    // The Shanghai schedule's instant is still the 23rd in UTC: the brand's zone decides, not UTC.
    expect(runDateOf({ scheduledTime: SCHEDULED }, { timeZone: 'UTC' }, LATER)).toBe('2026-11-22');
    expect(runDateOf({ scheduledTime: '2026-11-24T02:00:00+08:00' }, shanghai, LATER)).toBe('2026-11-23');
  });

  it('keeps 02:00 brand time on the right night across a DST change', () => {
    // New York leaves DST on 2026-11-01 at 02:00: 02:00 EST that morning is 07:00 UTC, the day before 06:00 UTC.
    expect(runDateOf({ scheduledTime: '2026-11-01T07:00:00Z' }, newYork, LATER)).toBe('2026-10-31');
    expect(runDateOf({ scheduledTime: '2026-10-31T06:00:00Z' }, newYork, LATER)).toBe('2026-10-30');
  });

  it('lets a runDate win over the schedule and the clock (a backfill)', () => {
    expect(runDateOf({ runDate: '2026-11-01', scheduledTime: SCHEDULED }, shanghai, LATER)).toBe('2026-11-01');
    expect(runDateOf({ runDate: '2026-11-01' }, shanghai, LATER)).toBe('2026-11-01');
  });

  it('falls back to the night before the handler\'s clock when the request names neither', () => {
    expect(runDateOf({}, shanghai, LATER)).toBe('2026-11-25');
    // 07:30 UTC on the 26th is still 02:30 on the 26th in New York.
    expect(runDateOf({}, newYork, LATER)).toBe('2026-11-25');
    expect(runDateOf({}, newYork, Date.parse('2026-11-26T03:00:00Z'))).toBe('2026-11-24');
  });
});

describe('futureNightRefusal', () => {
  /** 2026-11-23T17:00Z: already the 24th in Shanghai (01:00), still the 23rd in New York (12:00). */
  const NOW = Date.parse('2026-11-23T17:00:00Z');

  it('lets past nights and today\'s run, in brand time', () => {
    for (const night of ['2020-01-01', '2026-11-22', '2026-11-23', '2026-11-24']) expect(futureNightRefusal(night, NOW, shanghai), night).toBeUndefined();
    expect(futureNightRefusal('2026-11-23', NOW, newYork)).toBeUndefined();
  });

  it('refuses a night whose day has not begun in the brand\'s zone, saying what day it is there', () => {
    expect(futureNightRefusal('2026-11-25', NOW, shanghai)).toBe(
      'the night of 2026-11-25 has not begun: it is 2026-11-24 in Asia/Shanghai. Once completed it would hold back every earlier night, ' +
        'the scheduled ones included; run it when its day is over',
    );
    // The same instant and night, another brand: New York is still on the 23rd.
    expect(futureNightRefusal('2026-11-24', NOW, newYork)).toMatch(/^the night of 2026-11-24 has not begun: it is 2026-11-23 in America\/New_York/);
    expect(futureNightRefusal('2027-11-23', NOW, shanghai)).toBeDefined();
  });

  it('is checked by every phase\'s context, before anything is read (CLI, sharded run, Lambda)', () => {
    const options = { runId: 'r', config: parseConfig({}), clients: {} as AwsClients, clock: () => NOW };
    const refused = () => nightContext({ ...options, runDate: '2027-11-23' });
    expect(refused).toThrow(NightRefusedError);
    expect(refused).toThrow(/^2027-11-23 refused, nothing read or written: the night of 2027-11-23 has not begun/);
    expect(nightContext({ ...options, runDate: '2026-11-22' }).runDate).toBe('2026-11-22');
  });
});

describe('the nightly request at the edge', () => {
  it('accepts the schedule\'s input as the state machine passes it on', () => {
    expect(nightRequestSchema.parse({ trigger: 'schedule', scheduledTime: SCHEDULED })).toEqual({ trigger: 'schedule', scheduledTime: SCHEDULED });
    for (const time of ['2026-11-24T02:00:00+08:00', '2026-11-23T18:00:00.000Z']) expect(nightRequestSchema.parse({ scheduledTime: time }).scheduledTime).toBe(time);
  });

  it('refuses a scheduled time that is not an ISO date-time with an offset, naming it', () => {
    for (const bad of ['2026-11-24', '2026-11-24T02:00:00', '2026-11-24 02:00:00Z', '2026-02-31T02:00:00Z', 'yesterday', 1795456800000]) {
      expect(() => parseNightlyEvent({ trigger: 'schedule', scheduledTime: bad }), String(bad)).toThrow(
        /^Invalid nightly event: scheduledTime: must be an ISO date-time with an offset/,
      );
    }
    try {
      parseNightlyEvent({ phase: 'prepare', shards: 2, request: { scheduledTime: 'tonight' } });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ClienteleError);
      expect(error).toMatchObject({ code: 'EVENT_INVALID', message: expect.stringContaining('request.scheduledTime: must be an ISO date-time') });
    }
    expect(() => parseNightlyEvent({ runDate: '2026-11-31' })).toThrow(/runDate: must be a date, YYYY-MM-DD/);
  });

  it('refuses an unknown key, naming it, rather than running the night before the clock', () => {
    for (const key of ['rundate', 'run_date', 'date']) {
      expect(() => parseNightlyEvent({ [key]: '2026-11-01' }), key).toThrow(new RegExp(`^Invalid nightly event: \\(event\\): Unrecognized key: "${key}"`));
      expect(() => parseNightlyEvent({ phase: 'prepare', shards: 2, request: { [key]: '2026-11-01' } }), key).toThrow(
        new RegExp(`^Invalid nightly event: request: Unrecognized key: "${key}"`),
      );
    }
    expect(() => parseNightlyEvent({ trigger: 'manual' })).toThrow(/trigger: Invalid input: expected "schedule"/);
    // What the stack and the CLI send still passes: the schedule's input (stack.test.ts), `run nightly --stack`'s, {}.
    expect(parseNightlyEvent({ runDate: '2026-11-01', acceptDrop: true })).toEqual({ runDate: '2026-11-01', acceptDrop: true, phase: 'single' });
    expect(parseNightlyEvent({})).toEqual({ phase: 'single' });
    expect(parseNightlyEvent(undefined)).toEqual({ phase: 'single' });
  });

  it('gives a whole-night event and the sharded prepare the same night', () => {
    const single = parseNightlyEvent({ trigger: 'schedule', scheduledTime: SCHEDULED });
    expect(single.phase).toBe('single');
    if (single.phase !== 'single') return;
    const prepared = prepareNight(shanghai, prepareEventSchema.parse({ phase: 'prepare', shards: 3, request: { trigger: 'schedule', scheduledTime: SCHEDULED } }), LATER);
    expect(prepared.runDate).toBe(runDateOf(single, shanghai, LATER));
    expect(prepared).toMatchObject({ runDate: '2026-11-23', startedAt: LATER, shards: [{ index: 0, count: 3 }, { index: 1, count: 3 }, { index: 2, count: 3 }] });
    // No request at all (an execution started by hand with {}): the handler's clock decides.
    expect(prepareNight(shanghai, prepareEventSchema.parse({ phase: 'prepare', shards: 1 }), LATER).runDate).toBe('2026-11-25');
  });
});
