import { describe, expect, it } from 'vitest';
import { nightsOfWindow, nightWindow, type NightStatus } from '#local/commands/status.ts';
import { lastNightDue } from '#shared/nightly/run-date.ts';
import { attemptOfExecution, localAttemptOf, type NightAttempt } from '#local/night-attempts.ts';
import { ExportError } from '#shared/exports/errors.ts';
import { NightRefusedError } from '#shared/nightly/admission.ts';
import { NightBusyError } from '#shared/nightly/write-lease.ts';

/** `clientele status`: the window of nights, its gaps, and the refused or failed attempts at them. */

const stored = (runDate: string): NightStatus => ({ runDate, status: 'completed', failures: [] });
const refused = (runDate: string, at: string): NightAttempt => ({ runDate, at, outcome: 'refused', reason: 'implausible', source: 'local run r' });
const ZONE = { timeZone: 'Asia/Shanghai' };

describe('nightWindow', () => {
  it('ends at the last night due, or at the newest stored night when it is later', () => {
    expect(nightWindow(['2026-11-20', '2026-11-18'], '2026-11-23', 7)).toEqual({ from: '2026-11-17', to: '2026-11-23' });
    expect(nightWindow(['2026-11-24'], '2026-11-23', 3)).toEqual({ from: '2026-11-22', to: '2026-11-24' });
  });
});

describe('lastNightDue', () => {
  it('yesterday\'s night from 04:30 brand time, the day before\'s until then', () => {
    expect(lastNightDue(Date.parse('2026-11-24T04:29:00+08:00'), 'Asia/Shanghai')).toBe('2026-11-22');
    expect(lastNightDue(Date.parse('2026-11-24T04:30:00+08:00'), 'Asia/Shanghai')).toBe('2026-11-23');
    expect(lastNightDue(Date.parse('2026-11-24T23:59:00+08:00'), 'Asia/Shanghai')).toBe('2026-11-23');
    expect(lastNightDue(Date.parse('2026-11-24T00:00:00+08:00'), 'Asia/Shanghai')).toBe('2026-11-22');
  });

  it('reads 04:30 on the wall clock when the clocks go back (Europe/Paris, 2026-10-25: 03:00 CEST becomes 02:00 CET)', () => {
    // 5.5 hours after midnight: 4.5 hours of elapsed time would make the night due at 03:30, before the 04:00 schedule.
    expect(lastNightDue(Date.parse('2026-10-25T03:40:00+01:00'), 'Europe/Paris')).toBe('2026-10-23');
    expect(lastNightDue(Date.parse('2026-10-25T04:29:00+01:00'), 'Europe/Paris')).toBe('2026-10-23');
    expect(lastNightDue(Date.parse('2026-10-25T04:30:00+01:00'), 'Europe/Paris')).toBe('2026-10-24');
  });

  it('reads 04:30 on the wall clock when the clocks go forward (Europe/Paris, 2026-03-29: 02:00 CET becomes 03:00 CEST)', () => {
    // 3.5 hours after midnight: 4.5 hours of elapsed time would make the night due only at 05:30.
    expect(lastNightDue(Date.parse('2026-03-29T04:29:00+02:00'), 'Europe/Paris')).toBe('2026-03-27');
    expect(lastNightDue(Date.parse('2026-03-29T04:30:00+02:00'), 'Europe/Paris')).toBe('2026-03-28');
    expect(lastNightDue(Date.parse('2026-03-29T04:45:00+02:00'), 'Europe/Paris')).toBe('2026-03-28');
  });
});

describe('nightsOfWindow', () => {
  const window = { from: '2026-11-18', to: '2026-11-24' };

  it('shows a due date with nothing stored as missing, and a night refused twice with its attempts', () => {
    const attempts = [refused('2026-11-23', '2026-11-23T20:00:00.000Z'), refused('2026-11-23', '2026-11-23T22:00:00.000Z')];
    const nights = nightsOfWindow(window, [stored('2026-11-22'), stored('2026-11-20')], attempts, false);
    expect(nights.map((n) => [n.runDate, n.status])).toEqual([
      ['2026-11-24', 'missing'],
      ['2026-11-23', 'missing'],
      ['2026-11-22', 'completed'],
      ['2026-11-21', 'missing'],
      ['2026-11-20', 'completed'],
    ]);
    expect(nights[1]).toMatchObject({ failures: ['no night stored: 2 attempt(s) refused, nothing written'], attempts: [attempts[1], attempts[0]] });
    expect(nights[3]?.failures).toEqual(['no night stored: never run, or refused before writing']);
  });

  it('leaves out the dates before the first night ever stored, unless an attempt was refused there', () => {
    expect(nightsOfWindow(window, [stored('2026-11-23')], [], false).map((n) => n.runDate)).toEqual(['2026-11-24', '2026-11-23']);
    expect(nightsOfWindow(window, [stored('2026-11-23')], [refused('2026-11-19', '2026-11-19T20:00:00.000Z')], false).map((n) => n.runDate)).toEqual([
      '2026-11-24',
      '2026-11-23',
      '2026-11-19',
    ]);
    // With a night stored before the window, every date of it counts.
    expect(nightsOfWindow(window, [], [], true)).toHaveLength(7);
    expect(nightsOfWindow(window, [], [], false)).toEqual([]);
  });

  it('keeps the refused attempts of a night completed later (with --accept-drop, say)', () => {
    const attempt = refused('2026-11-24', '2026-11-24T20:00:00.000Z');
    expect(nightsOfWindow(window, [stored('2026-11-24')], [attempt], false)).toEqual([{ ...stored('2026-11-24'), attempts: [attempt] }]);
  });
});

describe('localAttemptOf', () => {
  it('a local run refused by the admission checks is refused; any other error of the night is failed, with its message', () => {
    expect(localAttemptOf(new NightRefusedError('2026-11-20 refused, nothing written: out of order'))).toEqual({ outcome: 'refused', reason: '2026-11-20 refused, nothing written: out of order' });
    expect(localAttemptOf(ExportError.at('s3://b/exports/2026-11-20/orders.csv', 'is not valid CSV', { line: 3 }))).toEqual({
      outcome: 'failed',
      reason: 's3://b/exports/2026-11-20/orders.csv, line 3: is not valid CSV',
    });
    expect(localAttemptOf(new NightBusyError('2026-11-20 is being written by run nightly-x'))).toEqual({ outcome: 'failed', reason: '2026-11-20 is being written by run nightly-x' });
    // Not one of the suite's own: its name says what kind of failure it was.
    expect(localAttemptOf(new TypeError('x is undefined'))).toEqual({ outcome: 'failed', reason: 'TypeError: x is undefined' });
    expect(localAttemptOf(new Error('e'.repeat(600))).reason).toHaveLength(500);
  });
});

describe('attemptOfExecution', () => {
  it('a scheduled execution refused: the night before its scheduled time, the Lambda error\'s message', () => {
    const attempt = attemptOfExecution(
      {
        name: 'sched-1',
        status: 'FAILED',
        startedAt: '2026-11-23T20:00:04.000Z',
        input: JSON.stringify({ trigger: 'schedule', scheduledTime: '2026-11-23T20:00:00Z' }),
        error: 'NightRefusedError',
        cause: JSON.stringify({ errorType: 'NightRefusedError', errorMessage: '2026-11-23 refused, nothing written: clients fell 40%', trace: [] }),
      },
      ZONE,
    );
    expect(attempt).toEqual({ runDate: '2026-11-23', at: '2026-11-23T20:00:04.000Z', outcome: 'refused', reason: '2026-11-23 refused, nothing written: clients fell 40%', source: 'execution sched-1' });
  });

  it('a backfill that timed out, and one failed with another error', () => {
    expect(attemptOfExecution({ name: 'cli-1', status: 'TIMED_OUT', startedAt: '2026-11-25T02:00:00.000Z', input: '{"runDate":"2026-11-21"}', error: 'States.Timeout' }, ZONE)).toMatchObject({
      runDate: '2026-11-21',
      outcome: 'timed-out',
      reason: 'States.Timeout',
    });
    expect(
      attemptOfExecution({ name: 'cli-2', status: 'FAILED', startedAt: '2026-11-25T02:00:00.000Z', input: '{"runDate":"2026-11-21"}', error: 'ExportError', cause: '{"errorType":"ExportError","errorMessage":"no customers file"}' }, ZONE),
    ).toMatchObject({ outcome: 'failed', reason: 'ExportError: no customers file' });
    expect(attemptOfExecution({ name: 'x', status: 'FAILED', startedAt: '2026-11-25T02:00:00.000Z', input: 'not json' }, ZONE)).toBeUndefined();
  });

  it('an execution whose input was refused at once is listed too: under the night it names, else the night before its start', () => {
    const refusedInput = (input: unknown) =>
      attemptOfExecution(
        {
          name: 'typo',
          status: 'FAILED',
          startedAt: '2026-11-25T02:00:00.000Z',
          input: JSON.stringify(input),
          error: 'EVENT_INVALID',
          cause: JSON.stringify({ errorType: 'ClienteleError', errorMessage: 'Invalid nightly event: (event): Unrecognized key: "acceptdrop"' }),
        },
        ZONE,
      );
    expect(refusedInput({ runDate: '2026-11-21', acceptdrop: true })).toMatchObject({ runDate: '2026-11-21', outcome: 'failed', reason: expect.stringContaining('acceptdrop') });
    // The console's default input, or a date that does not read: the night before its start (10:00 in Shanghai on 11-25).
    expect(refusedInput({ Comment: 'Insert your JSON here' })).toMatchObject({ runDate: '2026-11-24', outcome: 'failed' });
    expect(refusedInput({ runDate: '2026-13-01' })).toMatchObject({ runDate: '2026-11-24', outcome: 'failed' });
    // A bad scheduledTime does not hide the night it names.
    expect(refusedInput({ runDate: '2026-11-21', scheduledTime: '2026-11-22' })).toMatchObject({ runDate: '2026-11-21', outcome: 'failed' });
  });
});
