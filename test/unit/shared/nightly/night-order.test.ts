import { describe, expect, it } from 'vitest';
import { laterNightRefusal, type StoredNight } from '#shared/nightly/admission.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';

/** Nights run in order: a night is not admitted under a later night that has begun. */

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
