import { describe, expect, it } from 'vitest';
import { PROFILE_FORMAT } from '#shared/model.ts';
import { formatHold } from '#shared/sender/profile-format.ts';
import { runsItemOf } from '#shared/nightly/runs-item.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';

describe('formatHold: an hour waits for the first night of this version', () => {
  it('holds after a night of a version that recorded no profile format (before this one), naming that night', () => {
    const held = formatHold({ runDate: '2026-11-22' });
    expect(held).toMatchObject({ reason: 'waiting-for-night', lastNight: '2026-11-22', format: PROFILE_FORMAT });
    expect(held).not.toHaveProperty('lastNightFormat');
    expect(held?.message).toContain('waiting for the first night of this version');
    expect(held?.message).toContain('2026-11-22');
    expect(held?.message).toContain('clientele run nightly --date 2026-11-22');
  });

  it('holds after a night of an older or a newer format (an upgrade, a rollback)', () => {
    expect(formatHold({ runDate: '2026-11-22', profileFormat: 1 }, 2)).toMatchObject({ lastNightFormat: 1, format: 2 });
    expect(formatHold({ runDate: '2026-11-22', profileFormat: 3 }, 2)).toMatchObject({ lastNightFormat: 3, format: 2 });
  });

  it('sends as usual once the last completed night is of this version', () => {
    expect(formatHold({ runDate: '2026-11-23', profileFormat: PROFILE_FORMAT })).toBeUndefined();
  });

  it('does not hold a deployment with no completed night (its profiles are all this version\'s)', () => {
    expect(formatHold(undefined)).toBeUndefined();
  });
});

describe('the night records its profile format in its runs item', () => {
  it('keeps profileFormat when the item is cut to fit', () => {
    const summary = {
      job: 'nightly',
      status: 'completed',
      runDate: '2026-11-23',
      profileFormat: PROFILE_FORMAT,
      input: { files: [], sampleRejects: [] },
    } as unknown as NightlyRunSummary; // only the fields runsItemOf reads
    expect(runsItemOf(summary).profileFormat).toBe(PROFILE_FORMAT);
  });
});
