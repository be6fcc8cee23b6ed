import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lapseLadders, predictedDayKeyedCampaigns, withCurrentKeys } from '#shared/sender/legacy-keys.ts';
import { campaignsConfigSchema } from '#shared/campaigns/schema.ts';
import { LEDGER_STATUSES, type LedgerEntry, type LedgerStatus } from '#shared/store/ledger-store.ts';

type Entry = Pick<LedgerEntry, 'occasionKey' | 'status' | 'claimedAt'>;

const LAST_ORDER = '2026-09-01T02:00:00.000Z';
const lastOrder = Date.parse(LAST_ORDER);
const DAY = 86_400_000;
const client = { lastOrderAt: LAST_ORDER };
const current = `replenishment#next-order#${LAST_ORDER}`;
const entry = (occasionKey: string, status: LedgerStatus, claimedAt: number): Entry => ({ occasionKey, status, claimedAt });
/** A custom `predicted-next-order` campaign, keyed '<id>#<predicted day>' by earlier versions. */
const DAY_KEYED = new Set(['before-next-order']);
/** No ladder of lapse steps: the next-order keys alone (the lapse keys have their own describe below). */
const NO_LADDERS = lapseLadders([], 'UTC');
const read = (entries: readonly Entry[], profile: { lastOrderAt?: string } = client) => withCurrentKeys(entries, profile, DAY_KEYED, NO_LADDERS);

describe('ledger entries of the next-order reminder keyed by the predicted day (before the last-order key)', () => {
  it('read an entry claimed after the last order as the current key: the reminder sent before the upgrade settles it', () => {
    const sent = entry('replenishment#next-order#2026-12-01', 'sent', lastOrder + 77 * DAY);
    expect(read([sent])).toEqual([{ ...sent, occasionKey: current }]);
  });

  it('leave an entry claimed before the last order alone: it was for an earlier purchase', () => {
    const earlier = entry('replenishment#next-order#2026-08-20', 'sent', lastOrder - 10 * DAY);
    expect(read([earlier])).toEqual([earlier]);
  });

  it('prefer an entry stored under the current key, then one that settles the occasion, then the latest', () => {
    const old = entry('replenishment#next-order#2026-12-01', 'sent', lastOrder + 77 * DAY);
    const now = entry(current, 'deferred', lastOrder + 80 * DAY);
    expect(read([old, now])).toEqual([old, now]);
    // A prediction that moved before the upgrade left two entries: the send speaks for the occasion.
    const sent = entry('replenishment#next-order#2026-12-01', 'sent', lastOrder + 77 * DAY);
    const deferred = entry('replenishment#next-order#2026-12-06', 'deferred', lastOrder + 81 * DAY);
    expect(read([sent, deferred])).toEqual([{ ...sent, occasionKey: current }, deferred]);
    const capped = entry('replenishment#next-order#2026-12-01', 'capped', lastOrder + 77 * DAY);
    expect(read([capped, deferred])).toEqual([capped, { ...deferred, occasionKey: current }]);
  });

  it('leave other keys, other campaigns and clients without a last order alone', () => {
    const others = [entry('welcome', 'sent', lastOrder), entry('winback#2026-09-01T02:00:00.000Z', 'sent', lastOrder + 70 * DAY), entry('recall#2026-12-01', 'sent', lastOrder + 70 * DAY)];
    expect(read(others)).toEqual(others);
    const custom = entry('refill-reminder#next-order#2026-12-01', 'held-out', lastOrder + 70 * DAY);
    expect(read([custom])).toEqual([{ ...custom, occasionKey: `refill-reminder#next-order#${LAST_ORDER}` }]);
    expect(read([custom], {})).toEqual([custom]);
  });

  it('read a `predicted-next-order` campaign\'s entry keyed by the day alone as its current key, and no other campaign\'s', () => {
    const sent = entry('before-next-order#2026-12-01', 'sent', lastOrder + 70 * DAY);
    expect(read([sent])).toEqual([{ ...sent, occasionKey: `before-next-order#next-order#${LAST_ORDER}` }]);
    const tierMove = entry('upgraded#2026-12-01', 'sent', lastOrder + 70 * DAY);
    expect(read([tierMove])).toEqual([tierMove]);
  });

  it('name the campaigns keyed by the day alone: `predicted-next-order` once per occasion', () => {
    const { campaigns } = campaignsConfigSchema.parse({
      campaigns: [
        { kind: 'winback' },
        { kind: 'custom', id: 'before-next-order', template: 'replenishment', trigger: { on: 'predicted-next-order', daysBefore: 7 } },
        { kind: 'custom', id: 'next-order-yearly', template: 'replenishment', trigger: { on: 'predicted-next-order' }, timing: { oncePer: 'year' } },
        { kind: 'custom', id: 'upgraded', template: 'tier-upgrade-thanks', trigger: { on: 'tier-changed', direction: 'up' } },
      ],
    });
    expect([...predictedDayKeyedCampaigns(campaigns)]).toEqual(['before-next-order']);
  });

  it('property: keeps every entry, renames at most one per campaign, never onto a stored key, never one claimed before the last order', () => {
    const key = fc.oneof(
      fc.constantFrom('replenishment', 'refill').chain((id) => fc.integer({ min: -60, max: 120 }).map((d) => `${id}#next-order#${new Date(lastOrder + d * DAY).toISOString().slice(0, 10)}`)),
      // A day-keyed custom campaign's old keys, and another campaign keyed by a day (a tier change's).
      fc.constantFrom('before-next-order', 'upgraded').chain((id) => fc.integer({ min: -60, max: 120 }).map((d) => `${id}#${new Date(lastOrder + d * DAY).toISOString().slice(0, 10)}`)),
      fc.constantFrom(current, `before-next-order#next-order#${LAST_ORDER}`, 'welcome', 'winback#2026-09-01T02:00:00.000Z'),
    );
    const entryArb = fc.record({ occasionKey: key, status: fc.constantFrom(...LEDGER_STATUSES), claimedAt: fc.integer({ min: lastOrder - 60 * DAY, max: lastOrder + 120 * DAY }) });
    fc.assert(
      fc.property(fc.uniqueArray(entryArb, { selector: (e) => e.occasionKey, maxLength: 8 }), (entries) => {
        const renamed = read(entries);
        expect(renamed).toHaveLength(entries.length);
        const keys = renamed.map((e) => e.occasionKey);
        expect(new Set(keys).size).toBe(keys.length);
        renamed.forEach((after, i) => {
          const before = entries[i] as Entry;
          expect({ ...after, occasionKey: before.occasionKey }).toEqual(before);
          if (after.occasionKey === before.occasionKey) return;
          expect(before.claimedAt).toBeGreaterThan(lastOrder);
          expect(after.occasionKey).toBe(`${before.occasionKey.split('#')[0]}#next-order#${LAST_ORDER}`);
          expect(before.occasionKey.startsWith('upgraded#')).toBe(false);
        });
      }),
      { numRuns: 500 },
    );
  });
});

describe('ledger entries of a lapse ladder\'s first step keyed by the lapse alone (before every step was keyed by its day)', () => {
  const SH = 'Asia/Shanghai';
  // Local midnight (Shanghai) N days after the last order's local day, 2026-09-01: when step N's window opens.
  const opens = (days: number) => Date.parse('2026-09-01T00:00:00+08:00') + days * DAY;
  // The recall's default cut-off: 30 days, and each step's window ends at the next step's opening at the latest.
  const ladder = (days: number[]) => lapseLadders(campaignsConfigSchema.parse({ campaigns: [{ kind: 'recall', trigger: { on: 'no-order-for', days } }] }).campaigns, SH);
  const lapse = (entries: readonly Entry[], days: number[]) => withCurrentKeys(entries, client, DAY_KEYED, ladder(days));
  const bare = `recall#${LAST_ORDER}`;
  const step = (days: number) => `recall#${LAST_ORDER}#${days}d`;

  it('read the first step\'s entry as its day\'s key, by the window its trigger time names: the ladder unchanged, a step added before it, or dropped', () => {
    const sent = { ...entry(bare, 'sent', opens(125)), triggerAt: opens(120) };
    for (const days of [[120, 180, 365], [90, 120, 180, 365]]) expect(lapse([sent], days)).toEqual([{ ...sent, occasionKey: step(120) }]);
    // Dropped: no step of today's ladder opened then, and the 180-day step keeps its own key free.
    expect(lapse([sent], [180, 365])).toEqual([sent]);
  });

  it('without a trigger time, read it as the latest step of today\'s ladder open at its claim', () => {
    const sent = entry(bare, 'sent', opens(125) + 10 * 3_600_000);
    expect(lapse([sent], [90, 120, 180, 365])).toEqual([{ ...sent, occasionKey: step(120) }]);
    expect(lapse([sent], [180, 365])).toEqual([sent]);
    expect(lapse([entry(bare, 'sent', opens(120) - 1)], [120, 180])).toEqual([entry(bare, 'sent', opens(120) - 1)]);
  });

  it('without a trigger time, read an entry recorded \'expired\' (once its window had closed) as the latest step whose window had closed by then, never a step open then', () => {
    // Steps 15 days apart: the 90-day window closes as the 105-day one opens, when its expiry is recorded.
    const expired = entry(bare, 'expired', opens(105));
    expect(lapse([expired], [90, 105, 120])).toEqual([{ ...expired, occasionKey: step(90) }]);
    // Recorded late, after an outage: the 90-day window closed at day 105, the 105-day one at day 120.
    const late = entry(bare, 'expired', opens(112));
    expect(lapse([late], [90, 105, 120])).toEqual([{ ...late, occasionKey: step(90) }]);
    // The 120-day window (default cut-off: 30 days) closes at day 150; no window had closed at day 140.
    const closed = entry(bare, 'expired', opens(150) + 3_600_000);
    expect(lapse([closed], [120, 180])).toEqual([{ ...closed, occasionKey: step(120) }]);
    expect(lapse([entry(bare, 'expired', opens(140))], [120, 180])).toEqual([entry(bare, 'expired', opens(140))]);
    // A send is the step whose window held its claim, not one whose window had closed by then.
    expect(lapse([entry(bare, 'sent', opens(151))], [90, 120, 180])).toEqual([entry(bare, 'sent', opens(151))]);
  });

  it('leave an entry whose step is stored under its day\'s key already, other campaigns and other keys alone', () => {
    const old = { ...entry(bare, 'deferred', opens(121)), triggerAt: opens(120) };
    const now = { ...entry(step(120), 'sent', opens(122)), triggerAt: opens(120) };
    expect(lapse([old, now], [120, 180])).toEqual([old, now]);
    const winback = { ...entry(`winback#${LAST_ORDER}`, 'sent', opens(61)), triggerAt: opens(60) };
    expect(lapse([winback], [120, 180])).toEqual([winback]);
  });

  it('a ladder cut down to one step reads that step\'s day-keyed entry as its once-per-lapse key, and no other step\'s', () => {
    const sent180 = { ...entry(step(180), 'sent', opens(181)), triggerAt: opens(180) };
    const sent120 = { ...entry(step(120), 'sent', opens(121)), triggerAt: opens(120) };
    expect(lapse([sent120, sent180], [180])).toEqual([sent120, { ...sent180, occasionKey: bare }]);
    expect(lapse([sent120], [180])).toEqual([sent120]);
  });

  it('names the `no-order-for` campaigns keyed per occasion with their steps', () => {
    const { campaigns } = campaignsConfigSchema.parse({
      campaigns: [{ kind: 'winback' }, { kind: 'recall' }, { kind: 'custom', id: 'lapse-yearly', template: 'recall', trigger: { on: 'no-order-for', days: [90, 200] }, timing: { oncePer: 'year' } }],
    });
    expect([...lapseLadders(campaigns, SH).steps].map(([id, { trigger }]) => [id, trigger.days])).toEqual([
      ['winback', [60]],
      ['recall', [120, 180, 365]],
    ]);
  });
});
