import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HISTORY_FIELDS, STAGES, TIERS, type ClientProfile } from '#shared/model.ts';
import { stateOf } from '#shared/nightly/base.ts';
import { diffProfiles, profileDigest } from '#shared/nightly/diff.ts';
import { carryHistory, movesTonight, TIER_RETURN_DAYS } from '#shared/nightly/history.ts';
import { addDays } from '#shared/time.ts';
import { mergeWithStored } from '#shared/nightly/merge.ts';
import { mergeIncrementOrders } from '#shared/sender/ingest.ts';
import { INCREMENTAL_DIGEST, lastNightOf, type ProfileItem } from '#shared/store/profile-store.ts';
import { clientProfile } from '#test/support/profiles.ts';

/** The moves a profile records for the triggers: tonight's from the base, earlier ones carried from the stored item, stable on a rerun. */

const tonight = (fields: Partial<ClientProfile>) => clientProfile({ tier: 'Core', stage: 'active', rfm: { r: 4, f: 4, m: 4, segment: 'loyal' }, ...fields });
const item = (p: ClientProfile, runDate = '2026-06-09'): ProfileItem => ({ ...p, digest: 'old', updatedRunDate: runDate });
const EARLIER = { previousTier: 'Entry' as const, tierChangedOn: '2026-05-01', previousStage: 'new' as const, stageEnteredOn: '2026-04-01', previousRfmSegment: 'new', rfmSegmentEnteredOn: '2026-05-02' };

describe('movesTonight', () => {
  it('records a tier, stage and segment move with the run date and what the client moved from', () => {
    expect(movesTonight({ tier: 'Potential', stage: 'new', rfmSegment: 'promising' }, tonight({}), '2026-06-10')).toEqual({
      previousTier: 'Potential',
      tierChangedOn: '2026-06-10',
      previousStage: 'new',
      stageEnteredOn: '2026-06-10',
      previousRfmSegment: 'promising',
      rfmSegmentEnteredOn: '2026-06-10',
    });
  });

  it('records nothing without a move, for a client the base does not hold, nor for a first segment', () => {
    expect(movesTonight({ tier: 'Core', stage: 'active', rfmSegment: 'loyal' }, tonight({}), '2026-06-10')).toEqual({});
    expect(movesTonight(undefined, tonight({}), '2026-06-10')).toEqual({});
    expect(movesTonight({ tier: 'Core', stage: 'active' }, tonight({}), '2026-06-10')).toEqual({});
  });
});

describe('carryHistory', () => {
  it('keeps the earlier moves tonight did not replace', () => {
    expect(carryHistory(tonight({ previousTier: 'Potential', tierChangedOn: '2026-06-10' }), EARLIER)).toMatchObject({ ...EARLIER, previousTier: 'Potential', tierChangedOn: '2026-06-10' });
    expect(carryHistory(tonight({ rfm: { r: 1, f: 1, m: 1 } }), EARLIER)).not.toHaveProperty('rfmSegmentEnteredOn');
  });
});

describe('carryHistory: a move back to the tier left days before', () => {
  const leftVic = { previousTier: 'VIC' as const, tierChangedOn: '2026-06-01' };
  const backToVic = (runDate: string) => tonight({ tier: 'VIC', previousTier: 'Core', tierChangedOn: runDate });

  it(`records the day she left it when at most ${TIER_RETURN_DAYS} days before, not after, nor for another tier`, () => {
    expect(carryHistory(backToVic('2026-06-05'), leftVic)).toMatchObject({ tier: 'VIC', previousTier: 'Core', tierChangedOn: '2026-06-05', tierReturnLeftOn: '2026-06-01' });
    expect(carryHistory(backToVic(addDays('2026-06-01', TIER_RETURN_DAYS)), leftVic)).toHaveProperty('tierReturnLeftOn', '2026-06-01');
    expect(carryHistory(backToVic(addDays('2026-06-01', TIER_RETURN_DAYS + 1)), leftVic)).not.toHaveProperty('tierReturnLeftOn');
    // Core → Potential on 06-01, then up to VIC: a move of its own.
    expect(carryHistory(backToVic('2026-06-05'), { previousTier: 'Core', tierChangedOn: '2026-06-01' })).not.toHaveProperty('tierReturnLeftOn');
    expect(carryHistory(backToVic('2026-06-05'), {})).not.toHaveProperty('tierReturnLeftOn');
  });

  it('keeps it with its move on the nights after, and drops it with the next move', () => {
    const returned = carryHistory(backToVic('2026-06-05'), leftVic);
    expect(carryHistory(tonight({ tier: 'VIC' }), returned)).toMatchObject({ previousTier: 'Core', tierChangedOn: '2026-06-05', tierReturnLeftOn: '2026-06-01' });
    // Down to Core on 07-20 (45 days after the return, the stored move VIC's from Core): a move of its own.
    expect(carryHistory(tonight({ tier: 'Core', previousTier: 'VIC', tierChangedOn: '2026-07-20' }), returned)).not.toHaveProperty('tierReturnLeftOn');
    // Down again on 06-09: back to Core, left on 06-05: a return too (a client hovering at a threshold).
    expect(carryHistory(tonight({ tier: 'Core', previousTier: 'VIC', tierChangedOn: '2026-06-09' }), returned)).toMatchObject({ tierReturnLeftOn: '2026-06-05' });
  });

  it('is a return after a dip of several moves: VIC down to Core, then Potential, then back to VIC within the days', () => {
    const core = carryHistory(tonight({ tier: 'Core', previousTier: 'VIC', tierChangedOn: '2026-06-01' }), { previousTier: 'Core', tierChangedOn: '2026-03-01' });
    const potential = carryHistory(tonight({ tier: 'Potential', previousTier: 'Core', tierChangedOn: '2026-06-05' }), core);
    expect(potential).toMatchObject({ tiersLeftOn: { VIC: '2026-06-01', Core: '2026-06-05' } });
    expect(potential).not.toHaveProperty('tierReturnLeftOn');
    // Up to Core: she held Core (and VIC) days ago; up to VIC: she left it 9 days before.
    expect(carryHistory(tonight({ tier: 'Core', previousTier: 'Potential', tierChangedOn: '2026-06-10' }), potential)).toHaveProperty('tierReturnLeftOn', '2026-06-05');
    const vic = carryHistory(tonight({ tier: 'VIC', previousTier: 'Potential', tierChangedOn: '2026-06-10' }), potential);
    expect(vic).toMatchObject({ tierReturnLeftOn: '2026-06-01', tiersLeftOn: { VIC: '2026-06-01', Core: '2026-06-05', Potential: '2026-06-10' } });
    // The tiers left are kept on the nights without a move, and forgotten past the days at the next move.
    const later = carryHistory(tonight({ tier: 'VIC' }), vic);
    expect(later.tiersLeftOn).toEqual(vic.tiersLeftOn);
    expect(carryHistory(tonight({ tier: 'Core', previousTier: 'VIC', tierChangedOn: '2026-08-01' }), later)).toMatchObject({ tiersLeftOn: { VIC: '2026-08-01' } });
  });

  it('is left out of the digest, as the other moves: no profile is written for it alone', () => {
    expect(profileDigest({ ...backToVic('2026-06-05'), tierReturnLeftOn: '2026-06-01', tiersLeftOn: { VIC: '2026-06-01' } })).toBe(profileDigest(backToVic('2026-06-05')));
  });
});

describe('a night with the history', () => {
  const runDate = '2026-06-10';

  it('writes the move on the profile, keeps the earlier ones; a rerun against the same base and image writes the same profile', () => {
    const before = item(tonight({ customerId: 'up', tier: 'Potential', ...EARLIER, previousTier: 'Entry', tierChangedOn: '2026-05-01' }));
    const night = () => {
      const diff = diffProfiles([tonight({ customerId: 'up' })], () => stateOf(before), runDate);
      return diff.changed.map((changed) => mergeWithStored(changed, before));
    };
    const [written] = night();
    expect(written).toMatchObject({ tier: 'Core', previousTier: 'Potential', tierChangedOn: runDate, previousStage: 'new', stageEnteredOn: '2026-04-01' });
    expect(night()).toEqual([written]);
  });

  it('writes nothing for the history alone: a profile whose only difference is its recorded moves is unchanged', () => {
    const stored = item(tonight({ customerId: 'same', ...EARLIER }));
    const digestOfTonight = diffProfiles([tonight({ customerId: 'same' })], () => undefined, runDate).changed[0]!.digest;
    const diff = diffProfiles([tonight({ customerId: 'same' })], () => ({ ...stateOf(stored), digest: digestOfTonight }), runDate);
    expect(diff.unchanged).toBe(1);
    expect(diff.changed).toEqual([]);
  });
});

describe('a night after increments', () => {
  const runDate = '2026-11-23';
  const tier = fc.constantFrom(...TIERS);
  const stage = fc.constantFrom(...STAGES);
  /** A profile as an increment computes it from its own orders (a buyer: it counts at least one). */
  const incrementOf = fc.record({ orders: fc.integer({ min: 1, max: 3 }), spend: fc.integer({ min: 1, max: 10_000_000 }), tier, stage: fc.constantFrom(...STAGES.filter((s) => s !== 'prospect')) }).map(
    ({ orders, spend, tier, stage }) => tonight({ customerId: 'c', tier, stage, orderCount: orders, spend12mMinor: spend, lifetimeSpendMinor: spend, rfm: undefined }),
  );
  /** What the hourly sender writes (shared/sender/ingest.ts): the merged profile, with the tier and stage the last night wrote. */
  const merged = (stored: ProfileItem | undefined, increment: ClientProfile): ProfileItem => ({
    ...(stored ? mergeIncrementOrders(stored, increment, { stockUpDays: 15, timeZone: 'Asia/Shanghai', answerDays: 15 }) : increment),
    digest: INCREMENTAL_DIGEST,
    updatedRunDate: runDate,
    lastNight: stored === undefined ? null : lastNightOf(stored),
  });
  const measured = (diff: ReturnType<typeof diffProfiles>) => {
    const { changed, unchanged: _unchanged, ...counts } = diff;
    return { ...counts, history: changed.map((p) => Object.fromEntries(HISTORY_FIELDS.map((field) => [field, p[field]]))) };
  };

  it('records the moves the night would without them, whatever the increments moved', () => {
    fc.assert(
      fc.property(tier, stage, fc.array(incrementOf, { minLength: 1, maxLength: 3 }), tier, stage, (nightTier, nightStage, increments, tierTonight, stageTonight) => {
        const night = item(tonight({ customerId: 'c', tier: nightTier, stage: nightStage, ...EARLIER }));
        const afterIncrements = increments.reduce<ProfileItem>((stored, increment) => merged(stored, increment), night);
        const computed = tonight({ customerId: 'c', tier: tierTonight, stage: stageTonight });
        expect(measured(diffProfiles([computed], () => stateOf(afterIncrements), runDate))).toEqual(measured(diffProfiles([computed], () => stateOf(night), runDate)));
      }),
    );
  });

  it('sees a client only increments have written as a new client with no move', () => {
    fc.assert(
      fc.property(fc.array(incrementOf, { minLength: 1, maxLength: 3 }), tier, stage, (increments, tierTonight, stageTonight) => {
        const created = increments.reduce<ProfileItem | undefined>((stored, increment) => merged(stored, increment), undefined) as ProfileItem;
        const computed = tonight({ customerId: 'c', tier: tierTonight, stage: stageTonight });
        const diff = diffProfiles([computed], () => stateOf(created), runDate);
        expect(measured(diff)).toEqual(measured(diffProfiles([computed], () => undefined, runDate)));
        expect(diff.newClients).toBe(1);
      }),
    );
  });

  it('moves a prospect who bought to their stage and leaves the move to the night: the stage move recorded before goes', () => {
    const prospect = item(tonight({ customerId: 'c', tier: 'Prospect', stage: 'prospect', ...EARLIER, previousStage: 'new', stageEnteredOn: '2026-11-20' }));
    const after = merged(prospect, tonight({ customerId: 'c', tier: 'Entry', stage: 'new', rfm: undefined }));
    expect(after).toMatchObject({ tier: 'Prospect', stage: 'new', lastNight: { tier: 'Prospect', stage: 'prospect' }, previousTier: EARLIER.previousTier, tierChangedOn: EARLIER.tierChangedOn });
    expect(after).not.toHaveProperty('stageEnteredOn');
    expect(after).not.toHaveProperty('previousStage');
    expect(diffProfiles([tonight({ customerId: 'c', tier: 'Entry', stage: 'new' })], () => stateOf(after), runDate).stageMovements).toEqual({ 'prospect→new': 1 });
  });
});
