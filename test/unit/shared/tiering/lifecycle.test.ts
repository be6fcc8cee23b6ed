import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lapseDepth, lapseDepthOfStage, medianGapDays, stageFor, type StageFacts } from '#shared/tiering/lifecycle.ts';
import { config } from './fixtures.ts';

const lifecycle = config().lifecycle; // new 30, sleeping 60, churned 180, default gap 45

function stage(facts: Partial<StageFacts>): string {
  return stageFor({ hasPurchased: true, daysSinceFirst: 400, daysSinceLast: 10, ...facts }, lifecycle);
}

describe('medianGapDays', () => {
  it('is undefined with fewer than two distinct days', () => {
    expect(medianGapDays([])).toBeUndefined();
    expect(medianGapDays(['2025-01-01', '2025-01-01'])).toBeUndefined();
  });

  it('takes the median of the gaps between sorted distinct days', () => {
    expect(medianGapDays(['2025-03-01', '2025-01-01', '2025-01-15', '2025-01-11', '2025-01-11'])).toBe(10); // gaps 10, 4, 45
    expect(medianGapDays(['2025-01-01', '2025-01-11', '2025-01-31', '2025-02-01'])).toBe(10); // gaps 10, 20, 1
  });

  it('rounds the mean of the two middle gaps half up', () => {
    expect(medianGapDays(['2025-01-01', '2025-01-11', '2025-01-22'])).toBe(11); // gaps 10, 11 → 10.5
    expect(medianGapDays(['2025-01-01', '2025-01-11', '2025-03-01'])).toBe(30); // gaps 10, 49 → 29.5
  });
});

describe('stageFor', () => {
  it('is prospect without a counted order, whatever the days', () => {
    expect(stage({ hasPurchased: false, daysSinceLast: 500, daysSinceFirst: 500 })).toBe('prospect');
  });

  it('is churned from churnedDays (179 sleeping, 180 churned)', () => {
    expect(stage({ daysSinceLast: 179 })).toBe('sleeping');
    expect(stage({ daysSinceLast: 180 })).toBe('churned');
  });

  it('is sleeping from sleepingDays (59 at-risk, 60 sleeping)', () => {
    expect(stage({ daysSinceLast: 59 })).toBe('at-risk');
    expect(stage({ daysSinceLast: 60 })).toBe('sleeping');
  });

  it('is new while the first order is less than newDays old (day 29 new, day 30 not)', () => {
    expect(stage({ daysSinceFirst: 29, daysSinceLast: 29 })).toBe('new');
    expect(stage({ daysSinceFirst: 30, daysSinceLast: 30 })).toBe('active');
    expect(stage({ daysSinceFirst: 0, daysSinceLast: 0 })).toBe('new');
  });

  it('checks sleeping and churned before new', () => {
    const short = { ...lifecycle, newDays: 365 };
    expect(stageFor({ hasPurchased: true, daysSinceFirst: 70, daysSinceLast: 70 }, short)).toBe('sleeping');
  });

  it('is at-risk strictly past the default gap for a single order day (45 active, 46 at-risk)', () => {
    expect(stage({ daysSinceLast: 45 })).toBe('active');
    expect(stage({ daysSinceLast: 46 })).toBe('at-risk');
  });

  it('is at-risk strictly past the personal gap when the client has one', () => {
    expect(stage({ daysSinceLast: 14, usualReorderGapDays: 14 })).toBe('active');
    expect(stage({ daysSinceLast: 15, usualReorderGapDays: 14 })).toBe('at-risk');
    // A slow re-buyer is not at risk at day 50, which the default gap would have said.
    expect(stage({ daysSinceLast: 50, usualReorderGapDays: 55 })).toBe('active');
  });

  it('follows configured thresholds', () => {
    const custom = { newDays: 7, sleepingDays: 30, churnedDays: 90, defaultReorderGapDays: 20 };
    const facts = { hasPurchased: true, daysSinceFirst: 100 };
    expect(stageFor({ ...facts, daysSinceLast: 20 }, custom)).toBe('active');
    expect(stageFor({ ...facts, daysSinceLast: 21 }, custom)).toBe('at-risk');
    expect(stageFor({ ...facts, daysSinceLast: 30 }, custom)).toBe('sleeping');
    expect(stageFor({ ...facts, daysSinceLast: 90 }, custom)).toBe('churned');
  });
});

describe('lapseDepth', () => {
  it('says what stageFor says of a buyer’s lapse, whatever the other facts', () => {
    fc.assert(
      fc.property(fc.nat({ max: 1_000 }), fc.nat({ max: 1_000 }), fc.option(fc.integer({ min: 1, max: 400 }), { nil: undefined }), (daysSinceLast, daysSinceFirst, gap) => {
        const facts: StageFacts = { hasPurchased: true, daysSinceFirst, daysSinceLast, ...(gap === undefined ? {} : { usualReorderGapDays: gap }) };
        expect(lapseDepth(daysSinceLast, lifecycle)).toBe(lapseDepthOfStage(stageFor(facts, lifecycle)));
      }),
    );
  });

  it('orders the stages: awake, then sleeping, then churned', () => {
    expect([lapseDepth(59, lifecycle), lapseDepth(60, lifecycle), lapseDepth(180, lifecycle)]).toEqual([0, 1, 2]);
    expect((['prospect', 'new', 'active', 'at-risk', 'sleeping', 'churned'] as const).map(lapseDepthOfStage)).toEqual([0, 0, 0, 0, 1, 2]);
  });
});
