import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { laterNightRefusal, snapshotBoundOf, writerStanding, type StoredNight } from '#shared/nightly/admission.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';

/**
 * Nights run in order: a night is not admitted under a later night that has begun, and a run's
 * admission stands only while the night's runs-table item is its own `writing` mark and no later
 * night has begun (what an old execution, redriven, finds out at its write and finish).
 */

const NIGHT = '2026-11-23';
const NEXT = '2026-11-24';

const writing = (runDate: string, runId: string): StoredNight => ({ job: 'nightly', runDate, status: 'writing', runId, startedAt: '2026-11-24T20:00:00.000Z' });
// Only the fields the order rules read; a stored summary has many more.
const completed = (runDate: string, runId: string): StoredNight => ({ job: 'nightly', runDate, status: 'completed', runId }) as unknown as NightlyRunSummary;

describe('laterNightRefusal', () => {
  it('admits a night no later night has begun', () => {
    expect(laterNightRefusal(NIGHT, [])).toBeUndefined();
  });

  it('refuses a night after which a later one completed', () => {
    expect(laterNightRefusal(NIGHT, [completed(NEXT, 'r3')])).toMatch(/the night of 2026-11-24 was completed after 2026-11-23: .*back in time/);
  });

  it('refuses a night whose next night is being written or stopped while writing, naming its run and saying to finish it first', () => {
    const refusal = laterNightRefusal(NIGHT, [writing(NEXT, 'r3-crashed')]);
    expect(refusal).toMatch(/the night of 2026-11-24 is being written or stopped while writing \(run r3-crashed, started 2026-11-24T20:00:00.000Z\)/);
    expect(refusal).toMatch(/Finish 2026-11-24 first \(rerun it: clientele run nightly --date 2026-11-24\)/);
    expect(refusal).toMatch(/restore a backup from before 2026-11-24 and run the nights from 2026-11-23 onward in order/);
  });
});

describe('writerStanding', () => {
  it('lets the run whose writing mark the night holds write, when no later night has begun', () => {
    expect(writerStanding(NIGHT, 'e1', writing(NIGHT, 'e1'), [])).toEqual({ kind: 'writer' });
  });

  it('refuses an old run once a later night completed, naming that night, even if the mark is still its own', () => {
    const standing = writerStanding(NIGHT, 'e1', writing(NIGHT, 'e1'), [completed(NEXT, 'r3')]);
    expect(standing).toMatchObject({ kind: 'refused', reason: expect.stringMatching(/the night of 2026-11-24 was completed after run e1 was admitted to write 2026-11-23/) });
  });

  it('refuses a run whose night another run completed or began writing since, naming that run', () => {
    expect(writerStanding(NIGHT, 'e1', completed(NIGHT, 'e2'), [])).toMatchObject({ kind: 'refused', reason: expect.stringMatching(/run e2 completed 2026-11-23 after run e1 began it/) });
    expect(writerStanding(NIGHT, 'e1', writing(NIGHT, 'e2'), [])).toMatchObject({ kind: 'refused', reason: expect.stringMatching(/run e2 began writing 2026-11-23 after run e1/) });
  });

  it('refuses a run of a night with no mark at all', () => {
    expect(writerStanding(NIGHT, 'e1', undefined, [])).toMatchObject({ kind: 'refused', reason: expect.stringMatching(/holds no mark for 2026-11-23/) });
  });

  it('hands back the summary of a night the run completed itself', () => {
    const own = completed(NIGHT, 'e1');
    expect(writerStanding(NIGHT, 'e1', own, [])).toEqual({ kind: 'completed', summary: own });
  });

  it('lets a run write only while its own writing mark stands and nothing later has begun', () => {
    const runId = fc.constantFrom('e1', 'e2');
    const night = (date: string) => fc.tuple(fc.constantFrom('writing', 'completed'), runId).map(([status, id]) => (status === 'writing' ? writing(date, id) : completed(date, id)));
    fc.assert(
      fc.property(fc.option(night(NIGHT), { nil: undefined }), fc.array(night(NEXT), { maxLength: 2 }), (own, later) => {
        const standing = writerStanding(NIGHT, 'e1', own, later);
        const ours = later.length === 0 && own?.runId === 'e1';
        expect(standing.kind === 'writer').toBe(ours && own?.status === 'writing');
        expect(standing.kind === 'completed').toBe(ours && own?.status === 'completed');
        // A refusal names what stands in the way: the later night, else the run that holds the night.
        if (standing.kind === 'refused' && later[0]) expect(standing.reason).toContain(`night of ${NEXT}`);
        if (standing.kind === 'refused' && !later[0] && own) expect(standing.reason).toContain(`run ${own.runId}`);
      }),
    );
  });
});

describe('snapshotBoundOf: by when the snapshot an attempt reads was dumped', () => {
  const FIRST = Date.parse('2026-11-23T18:00:00.000Z');
  const SECOND = Date.parse('2026-11-24T03:30:00.000Z');
  const THIRD = Date.parse('2026-11-24T05:00:00.000Z');
  const mark = (fingerprint: string | undefined, startedAt: number, snapshotBy?: number): StoredNight => ({
    job: 'nightly', runDate: NIGHT, status: 'writing', runId: 'r', startedAt: new Date(startedAt).toISOString(),
    ...(fingerprint === undefined ? {} : { fingerprint }),
    ...(snapshotBy === undefined ? {} : { snapshotBy: new Date(snapshotBy).toISOString() }),
  });
  // Only the fields the bound reads.
  const summary = (fingerprint: string, startedAt: number, snapshotBy?: number): StoredNight =>
    ({ job: 'nightly', runDate: NIGHT, status: 'completed', runId: 'r', startedAt: new Date(startedAt).toISOString(), input: { fingerprint }, ...(snapshotBy === undefined ? {} : { snapshotBy: new Date(snapshotBy).toISOString() }) }) as unknown as NightlyRunSummary;

  it('a first attempt: its own start', () => {
    expect(snapshotBoundOf(undefined, 'x', SECOND)).toBe(SECOND);
  });

  it('after an attempt that read the same input (dead while writing, or completed and rerun in full): that attempt\u2019s start', () => {
    expect(snapshotBoundOf(mark('x', FIRST), 'x', SECOND)).toBe(FIRST);
    expect(snapshotBoundOf(summary('x', FIRST), 'x', SECOND)).toBe(FIRST);
  });

  it('a row of attempts on the same input: the earliest start, which each attempt carries', () => {
    expect(snapshotBoundOf(mark('x', SECOND, FIRST), 'x', THIRD)).toBe(FIRST);
    expect(snapshotBoundOf(summary('x', SECOND, FIRST), 'x', THIRD)).toBe(FIRST);
  });

  it('a corrected or re-dumped export (another input), or an attempt that recorded none: its own start again', () => {
    expect(snapshotBoundOf(mark('y', SECOND, FIRST), 'x', THIRD)).toBe(THIRD);
    expect(snapshotBoundOf(summary('y', FIRST), 'x', THIRD)).toBe(THIRD);
    expect(snapshotBoundOf(mark(undefined, FIRST), 'x', THIRD)).toBe(THIRD);
  });

  it('never after the attempt\u2019s own start', () => {
    expect(snapshotBoundOf(mark('x', THIRD), 'x', SECOND)).toBe(SECOND);
  });
});
