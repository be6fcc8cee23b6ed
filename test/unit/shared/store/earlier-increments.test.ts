import { describe, expect, it } from 'vitest';
import { asCreatedByEarlierIncrement, INCREMENTAL_DIGEST, nightStateOf } from '#shared/store/profile-store.ts';

/** Items of a version before lastNight (shared/sender/ingest.ts at 679125d): the incremental digest and no lastNight. */
describe('asCreatedByEarlierIncrement', () => {
  const item = { digest: INCREMENTAL_DIGEST, tier: 'Entry' as const, stage: 'new' as const };

  it('reads a client that version created after the last completed night as one no night has written', () => {
    expect(nightStateOf(asCreatedByEarlierIncrement({ ...item, updatedRunDate: '2026-11-23' }, '2026-11-22'))).toEqual({ tier: 'Entry', stage: 'new', unseenByNight: true });
    // No night completed yet: no night wrote it.
    expect(asCreatedByEarlierIncrement({ ...item, updatedRunDate: '2026-11-23' }, undefined)).toMatchObject({ lastNight: null });
  });

  it('reads one that version merged onto a client a night wrote (the night\'s date kept) as that night left it', () => {
    const merged = { ...item, updatedRunDate: '2026-11-22' };
    expect(asCreatedByEarlierIncrement(merged, '2026-11-22')).toBe(merged);
    expect(nightStateOf(asCreatedByEarlierIncrement({ ...item, updatedRunDate: '2026-11-20' }, '2026-11-22'))).toEqual({ tier: 'Entry', stage: 'new' });
  });

  it('leaves the items this version writes as they are', () => {
    const night = { ...item, digest: 'abc', updatedRunDate: '2026-11-23' };
    expect(asCreatedByEarlierIncrement(night, '2026-11-22')).toBe(night);
    const hour = { ...item, updatedRunDate: '2026-11-23', lastNight: { tier: 'Core' as const, stage: 'active' as const } };
    expect(asCreatedByEarlierIncrement(hour, '2026-11-22')).toBe(hour);
    const created = { ...item, updatedRunDate: '2026-11-20', lastNight: null };
    expect(asCreatedByEarlierIncrement(created, '2026-11-22')).toBe(created);
  });
});
