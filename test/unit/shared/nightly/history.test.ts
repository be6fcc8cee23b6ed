import { describe, expect, it } from 'vitest';
import type { ClientProfile } from '#shared/model.ts';
import { stateOf } from '#shared/nightly/base.ts';
import { diffProfiles } from '#shared/nightly/diff.ts';
import { profileHistory } from '#shared/nightly/history.ts';
import type { StoredState } from '#shared/store/profile-store.ts';
import { clientProfile } from '#test/support/profiles.ts';

/** The moves a profile records for the triggers: from the base, dated with the run, stable on a rerun. */

const tonight = (fields: Partial<ClientProfile>) => clientProfile({ tier: 'Core', stage: 'active', rfm: { r: 4, f: 4, m: 4, segment: 'loyal' }, ...fields });

describe('profileHistory', () => {
  it('records a tier, stage and segment move with the run date and what the client moved from', () => {
    const before = { tier: 'Potential' as const, stage: 'new' as const, rfmSegment: 'promising' };
    expect(profileHistory(before, tonight({}), '2026-06-10')).toEqual({
      previousTier: 'Potential',
      tierChangedOn: '2026-06-10',
      previousStage: 'new',
      stageEnteredOn: '2026-06-10',
      previousRfmSegment: 'promising',
      rfmSegmentEnteredOn: '2026-06-10',
    });
  });

  it('keeps the recorded moves on a night without one', () => {
    const history = { previousTier: 'Entry' as const, tierChangedOn: '2026-05-01', previousStage: 'new' as const, stageEnteredOn: '2026-04-01', previousRfmSegment: 'new', rfmSegmentEnteredOn: '2026-05-02' };
    expect(profileHistory({ tier: 'Core', stage: 'active', rfmSegment: 'loyal', history }, tonight({}), '2026-06-10')).toEqual(history);
  });

  it('records nothing for a client the base does not hold, nor a first segment', () => {
    expect(profileHistory(undefined, tonight({}), '2026-06-10')).toEqual({});
    expect(profileHistory({ tier: 'Core', stage: 'active' }, tonight({}), '2026-06-10')).toEqual({});
  });
});

describe('diffProfiles with the history', () => {
  const runDate = '2026-06-10';
  const stored = (p: ClientProfile): StoredState => stateOf({ ...p, digest: 'old', updatedRunDate: '2026-06-09' });

  it('writes the move on the profile; a rerun against the same base writes the same profile', () => {
    const before = tonight({ customerId: 'up', tier: 'Potential' });
    const base = new Map([['up', stored(before)]]);
    const first = diffProfiles([tonight({ customerId: 'up' })], (id) => base.get(id), runDate);
    expect(first.changed[0]).toMatchObject({ tier: 'Core', previousTier: 'Potential', tierChangedOn: runDate });
    const rerun = diffProfiles([tonight({ customerId: 'up' })], (id) => base.get(id), runDate);
    expect(rerun.changed).toEqual(first.changed);
  });

  it('carries the move to the next nights unchanged: no write when nothing else changed', () => {
    const written = diffProfiles([tonight({ customerId: 'up' })], () => stored(tonight({ customerId: 'up', tier: 'Potential' })), runDate).changed[0]!;
    const base = new Map([['up', stateOf(written)]]);
    const nextNight = diffProfiles([tonight({ customerId: 'up' })], (id) => base.get(id), '2026-06-11');
    expect(nextNight.changed).toEqual([]);
    expect(nextNight.unchanged).toBe(1);
  });

  it('leaves a profile without moves as it was (same digest as before the history existed)', () => {
    const same = tonight({ customerId: 'same' });
    const base = new Map([['same', { ...stored(same), digest: diffProfiles([same], () => undefined, runDate).changed[0]!.digest }]]);
    expect(diffProfiles([same], (id) => base.get(id), runDate).unchanged).toBe(1);
  });
});
