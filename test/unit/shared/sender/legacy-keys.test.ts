import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { withCurrentKeys } from '#shared/sender/legacy-keys.ts';
import { LEDGER_STATUSES, type LedgerEntry, type LedgerStatus } from '#shared/store/ledger-store.ts';

type Entry = Pick<LedgerEntry, 'occasionKey' | 'status' | 'claimedAt'>;

const LAST_ORDER = '2026-09-01T02:00:00.000Z';
const lastOrder = Date.parse(LAST_ORDER);
const DAY = 86_400_000;
const client = { lastOrderAt: LAST_ORDER };
const current = `replenishment#next-order#${LAST_ORDER}`;
const entry = (occasionKey: string, status: LedgerStatus, claimedAt: number): Entry => ({ occasionKey, status, claimedAt });

describe('ledger entries of the next-order reminder keyed by the predicted day (before the last-order key)', () => {
  it('read an entry claimed after the last order as the current key: the reminder sent before the upgrade settles it', () => {
    const sent = entry('replenishment#next-order#2026-12-01', 'sent', lastOrder + 77 * DAY);
    expect(withCurrentKeys([sent], client)).toEqual([{ ...sent, occasionKey: current }]);
  });

  it('leave an entry claimed before the last order alone: it was for an earlier purchase', () => {
    const earlier = entry('replenishment#next-order#2026-08-20', 'sent', lastOrder - 10 * DAY);
    expect(withCurrentKeys([earlier], client)).toEqual([earlier]);
  });

  it('prefer an entry stored under the current key, then one that settles the occasion, then the latest', () => {
    const old = entry('replenishment#next-order#2026-12-01', 'sent', lastOrder + 77 * DAY);
    const now = entry(current, 'deferred', lastOrder + 80 * DAY);
    expect(withCurrentKeys([old, now], client)).toEqual([old, now]);
    // A prediction that moved before the upgrade left two entries: the send speaks for the occasion.
    const sent = entry('replenishment#next-order#2026-12-01', 'sent', lastOrder + 77 * DAY);
    const deferred = entry('replenishment#next-order#2026-12-06', 'deferred', lastOrder + 81 * DAY);
    expect(withCurrentKeys([sent, deferred], client)).toEqual([{ ...sent, occasionKey: current }, deferred]);
    const capped = entry('replenishment#next-order#2026-12-01', 'capped', lastOrder + 77 * DAY);
    expect(withCurrentKeys([capped, deferred], client)).toEqual([capped, { ...deferred, occasionKey: current }]);
  });

  it('leave other keys, other campaigns and clients without a last order alone', () => {
    const others = [entry('welcome', 'sent', lastOrder), entry('winback#2026-09-01T02:00:00.000Z', 'sent', lastOrder + 70 * DAY), entry('recall#2026-12-01', 'sent', lastOrder + 70 * DAY)];
    expect(withCurrentKeys(others, client)).toEqual(others);
    const custom = entry('refill-reminder#next-order#2026-12-01', 'held-out', lastOrder + 70 * DAY);
    expect(withCurrentKeys([custom], client)).toEqual([{ ...custom, occasionKey: `refill-reminder#next-order#${LAST_ORDER}` }]);
    expect(withCurrentKeys([custom], {})).toEqual([custom]);
  });

  it('property: keeps every entry, renames at most one per campaign, never onto a stored key, never one claimed before the last order', () => {
    const key = fc.oneof(
      fc.constantFrom('replenishment', 'refill').chain((id) => fc.integer({ min: -60, max: 120 }).map((d) => `${id}#next-order#${new Date(lastOrder + d * DAY).toISOString().slice(0, 10)}`)),
      fc.constantFrom(current, 'welcome', 'winback#2026-09-01T02:00:00.000Z'),
    );
    const entryArb = fc.record({ occasionKey: key, status: fc.constantFrom(...LEDGER_STATUSES), claimedAt: fc.integer({ min: lastOrder - 60 * DAY, max: lastOrder + 120 * DAY }) });
    fc.assert(
      fc.property(fc.uniqueArray(entryArb, { selector: (e) => e.occasionKey, maxLength: 8 }), (entries) => {
        const read = withCurrentKeys(entries, client);
        expect(read).toHaveLength(entries.length);
        const keys = read.map((e) => e.occasionKey);
        expect(new Set(keys).size).toBe(keys.length);
        read.forEach((after, i) => {
          const before = entries[i] as Entry;
          expect({ ...after, occasionKey: before.occasionKey }).toEqual(before);
          if (after.occasionKey === before.occasionKey) return;
          expect(before.claimedAt).toBeGreaterThan(lastOrder);
          expect(after.occasionKey).toBe(`${before.occasionKey.split('#')[0]}#next-order#${LAST_ORDER}`);
        });
      }),
      { numRuns: 500 },
    );
  });
});
