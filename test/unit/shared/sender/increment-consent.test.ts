import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { consentAfterIncrement, snapshotDumpedBy, type ConsentMerge } from '#shared/sender/increment-consent.ts';
import type { NightMark } from '#shared/sender/increment-orders.ts';
import { at as local, HOUR } from '#test/support/time.ts';

const SH = 'Asia/Shanghai';
/** Night 11-22 begun at 02:00 on 11-23 (on time), or at 11:00 (late, or rerun). */
const ON_TIME = local('2026-11-23 02:00', SH);
const LATE = local('2026-11-23 11:00', SH);
const AT_0930 = local('2026-11-23 09:30', SH);

const merge = (fields: Partial<ConsentMerge>): ConsentMerge => ({ stored: true, nightLeft: true, increment: undefined, stamp: AT_0930, snapshotBy: undefined, ...fields });

describe('consent in an increment, with no night to weigh it against', () => {
  const cases: { row: string; increment: boolean | undefined; before: boolean | undefined; after: boolean | undefined }[] = [
    // customer_id,accepts_marketing with false: applies, whatever other column is absent.
    { row: 'false', increment: false, before: true, after: false },
    { row: 'true', increment: true, before: false, after: true },
    // No accepts_marketing column (or an empty cell): consent never moves.
    { row: 'no consent column', increment: undefined, before: true, after: true },
    { row: 'no consent column, consent withdrawn before', increment: undefined, before: false, after: false },
    { row: 'no consent column, never asked before', increment: undefined, before: undefined, after: undefined },
  ];
  it.each(cases)('$row: $before -> $after', ({ increment, before, after }) => {
    expect(consentAfterIncrement(merge({ stored: before, nightLeft: before, increment }))).toBe(after);
  });
});

describe('consent in an increment against the newest night', () => {
  it('an increment newer than the night (begun before it was dropped): its word applies, yes or no', () => {
    expect(consentAfterIncrement(merge({ increment: false, snapshotBy: ON_TIME }))).toBe(false);
    expect(consentAfterIncrement(merge({ stored: false, nightLeft: false, increment: true, snapshotBy: ON_TIME }))).toBe(true);
  });

  it('a night begun after the increment: the increment\u2019s no applies over the snapshot\u2019s yes', () => {
    expect(consentAfterIncrement(merge({ stored: true, nightLeft: true, increment: false, snapshotBy: LATE }))).toBe(false);
  });

  it('a night begun after the increment: the increment\u2019s yes does not undo the snapshot\u2019s no', () => {
    expect(consentAfterIncrement(merge({ stored: false, nightLeft: false, increment: true, snapshotBy: LATE }))).toBe(false);
  });

  it('a no, then a yes, both before a late night whose snapshot says yes: yes (the latest word is yes whenever the snapshot was dumped)', () => {
    const first = consentAfterIncrement(merge({ increment: false, snapshotBy: LATE }));
    expect(first).toBe(false);
    expect(consentAfterIncrement(merge({ stored: first, increment: true, stamp: AT_0930 + HOUR, snapshotBy: LATE }))).toBe(true);
  });

  it('an increment stamped the instant the night began: a no from either stands', () => {
    expect(consentAfterIncrement(merge({ stored: false, nightLeft: false, increment: true, stamp: LATE, snapshotBy: LATE }))).toBe(false);
  });

  it('the snapshot is dumped by the night\u2019s start; a night with no readable start has every increment not known newer', () => {
    const night: NightMark = { runDate: '2026-11-22', runId: 'n', status: 'completed', startedAt: new Date(LATE).toISOString() };
    expect(snapshotDumpedBy(night)).toBe(LATE);
    expect(snapshotDumpedBy({ ...night, startedAt: 'soon' })).toBe(Number.POSITIVE_INFINITY);
    expect(snapshotDumpedBy(undefined)).toBeUndefined();
  });

  it('a rerun on the export an earlier attempt read: the snapshot is dumped by that attempt\u2019s start (snapshotBy), never later than the night\u2019s own', () => {
    const night: NightMark = { runDate: '2026-11-22', runId: 'n-again', status: 'completed', startedAt: new Date(LATE).toISOString(), snapshotBy: new Date(ON_TIME).toISOString() };
    expect(snapshotDumpedBy(night)).toBe(ON_TIME);
    expect(snapshotDumpedBy({ ...night, status: 'writing' })).toBe(ON_TIME);
    // Unreadable, or (not as the gate writes it) after the start: the start bounds it.
    expect(snapshotDumpedBy({ ...night, snapshotBy: 'soon' })).toBe(LATE);
    expect(snapshotDumpedBy({ ...night, snapshotBy: new Date(LATE + HOUR).toISOString() })).toBe(LATE);
    expect(snapshotDumpedBy({ ...night, startedAt: 'soon' })).toBe(ON_TIME);
    // So an increment dropped between the two is newer than the snapshot: its yes applies over the night's no.
    expect(consentAfterIncrement(merge({ stored: false, nightLeft: false, increment: true, snapshotBy: snapshotDumpedBy(night) }))).toBe(true);
  });
});

/**
 * The model: a night's snapshot dumped at some unknown instant between its cut-off (0) and its
 * start; increments at known stamps from the cut-off on. The hour after the night folds the
 * increments, in stamp order, over what the night wrote. The truth, for one dump instant, is the
 * latest explicit word by time, a no winning a tie.
 */
type Word = boolean | undefined;
interface Timeline {
  start: number;
  snapshot: Word;
  increments: { stamp: number; word: Word }[];
}

const word = fc.constantFrom<Word>(true, false, undefined);
const timeline: fc.Arbitrary<Timeline> = fc.record({
  start: fc.integer({ min: 0, max: 100 }),
  snapshot: word,
  increments: fc.uniqueArray(fc.record({ stamp: fc.integer({ min: 0, max: 200 }), word }), { selector: (i) => i.stamp, maxLength: 6 }).map((list) => [...list].sort((a, b) => a.stamp - b.stamp)),
});

/** What the hours leave once they merged every increment over `nightWrote`. */
function folded(t: Timeline, nightWrote: Word): Word {
  let consent = nightWrote;
  for (const { stamp, word: increment } of t.increments) consent = consentAfterIncrement({ stored: consent, nightLeft: nightWrote, increment, stamp, snapshotBy: t.start });
  return consent;
}

/** The latest explicit word when the snapshot was dumped at `dumpedAt` (a no wins a tie); `prior` is older than all. */
function latestWord(t: Timeline, dumpedAt: number, prior: Word = undefined): Word {
  const words = [...t.increments, { stamp: dumpedAt, word: t.snapshot }].filter((w) => w.word !== undefined);
  if (words.length === 0) return prior;
  const last = Math.max(...words.map((w) => w.stamp));
  return words.filter((w) => w.stamp === last).every((w) => w.word === true);
}

/** Every instant that matters for the dump, between the cut-off and the night's start. */
function dumpInstants(t: Timeline): number[] {
  const candidates = [0, t.start, ...t.increments.flatMap((i) => [i.stamp - 0.5, i.stamp, i.stamp + 0.5])];
  return candidates.filter((instant) => instant >= 0 && instant <= t.start);
}

describe('consent by time, whenever the snapshot was dumped (property)', () => {
  it('with a word in the snapshot: yes exactly when the latest word is yes for every possible dump instant, else no', () => {
    fc.assert(
      fc.property(timeline, (t) => {
        fc.pre(t.snapshot !== undefined);
        const everyLatestYes = dumpInstants(t).every((instant) => latestWord(t, instant) === true);
        expect(folded(t, t.snapshot)).toBe(everyLatestYes);
      }),
      { numRuns: 2000 },
    );
  });

  it('a night on time (begun before every increment): the latest increment\u2019s word, else the snapshot\u2019s', () => {
    fc.assert(
      fc.property(timeline, (t) => {
        fc.pre(t.increments.every((i) => i.stamp > t.start));
        expect(folded(t, t.snapshot)).toBe(latestWord(t, t.start));
      }),
      { numRuns: 1000 },
    );
  });

  it('a snapshot silent on consent (the night kept an older one): never a yes where the latest word is a no', () => {
    fc.assert(
      fc.property(timeline, word, (t, prior) => {
        const silent = { ...t, snapshot: undefined };
        const result = folded(silent, prior);
        const latest = latestWord(silent, 0, prior);
        if (result === true) expect(latest).toBe(true);
        if (latest === false) expect(result).toBe(false);
        if (latest === undefined) expect(result).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });
});
