import { describe, expect, it } from 'vitest';
import { TIERS, type Tier, type TierMove } from '#shared/model.ts';
import { MIGRATION_ORIGINS, tierMigration } from '#shared/reports/migration.ts';
import { MigrationWindows } from '#shared/reports/nightly-report.ts';

const counts = (values: Partial<Record<Tier, number>>): Record<Tier, number> =>
  Object.fromEntries(TIERS.map((t) => [t, values[t] ?? 0])) as Record<Tier, number>;

const move = (customerId: string, runDate: string, fromTier: Tier | undefined, toTier: Tier): TierMove => ({
  customerId,
  runDate,
  ...(fromTier ? { fromTier } : {}),
  toTier,
});

describe('tier migration matrix', () => {
  it('movers off the diagonal, the rest of each tier on it', () => {
    // Tonight: 3 VIC, 10 Core, 20 Entry. Two Core clients went up to VIC, one VIC slid to Core, one new Entry client.
    const matrix = tierMigration(
      [move('a', '2026-11-23', 'Core', 'VIC'), move('b', '2026-11-23', 'Core', 'VIC'), move('c', '2026-11-23', 'VIC', 'Core'), move('d', '2026-11-23', undefined, 'Entry')],
      counts({ VIC: 3, Core: 10, Entry: 20 }),
    );
    expect(matrix.counts.Core.VIC).toBe(2);
    expect(matrix.counts.VIC.Core).toBe(1);
    expect(matrix.counts.new.Entry).toBe(1);
    expect(matrix.counts.VIC.VIC).toBe(1); // 3 now, 2 arrived
    expect(matrix.counts.Core.Core).toBe(9); // 10 now, 1 arrived
    expect(matrix.counts.Entry.Entry).toBe(19);
    expect(matrix.moved).toBe(4);
    expect(matrix.total).toBe(33);
    // Each column sums to tonight's count of the tier.
    for (const to of TIERS) expect(MIGRATION_ORIGINS.reduce((sum, from) => sum + matrix.counts[from][to], 0)).toBe(counts({ VIC: 3, Core: 10, Entry: 20 })[to]);
  });

  it('over a window: the earliest from-tier against the latest to-tier, whatever the order of the records', () => {
    const records = [
      move('x', '2026-11-23', 'VIC', 'Core'), // back where they started: diagonal
      move('x', '2026-11-10', 'Core', 'VIC'),
      move('y', '2026-11-20', 'Potential', 'Core'),
      move('y', '2026-11-01', 'Entry', 'Potential'), // Entry → Core over the window
      move('z', '2026-11-05', undefined, 'Entry'),
      move('z', '2026-11-22', 'Entry', 'Entry'), // a stage-only record
    ];
    const forward = tierMigration(records, counts({ Core: 2, Entry: 1 }));
    const backward = tierMigration([...records].reverse(), counts({ Core: 2, Entry: 1 }));
    expect(backward).toEqual(forward);
    expect(forward.counts.Entry.Core).toBe(1);
    expect(forward.counts.new.Entry).toBe(1);
    expect(forward.counts.Core.Core).toBe(1); // x, who came back
    expect(forward.counts.Core.VIC + forward.counts.VIC.Core).toBe(0);
    expect(forward.moved).toBe(2);
  });

  it('clamps the diagonal at 0 when the history names more arrivals than the tier holds', () => {
    const matrix = tierMigration([move('a', '2026-11-23', 'Core', 'VIC'), move('b', '2026-11-23', 'Core', 'VIC')], counts({ VIC: 1 }));
    expect(matrix.counts.VIC.VIC).toBe(0);
    expect(matrix.counts.Core.VIC).toBe(2);
  });

  it('an empty history puts every client on the diagonal', () => {
    const matrix = tierMigration([], counts({ VIC: 2, Prospect: 5 }));
    expect(matrix.moved).toBe(0);
    expect(matrix.counts.VIC.VIC).toBe(2);
    expect(matrix.counts.Prospect.Prospect).toBe(5);
  });

  it('windows: tonight holds only tonight; the 30-day window leaves out what is older or later', () => {
    const windows = MigrationWindows.of('2026-11-23', [
      move('a', '2026-11-23', 'Core', 'VIC'),
      move('b', '2026-11-01', 'Entry', 'Potential'),
      move('c', '2026-10-24', 'Entry', 'Core'), // the window opens at the end of 2026-10-24: left out
      move('d', '2026-11-24', 'Entry', 'Core'), // after the run: left out
    ]);
    expect(windows.windowStart).toBe('2026-10-24');
    expect(windows.tonight.movers).toBe(1);
    expect(windows.window.movers).toBe(2);
  });

  it('windows: clients left out (absent tonight) leave both matrices, and the stayers keep the diagonal', () => {
    const windows = MigrationWindows.of('2026-11-23', [move('gone', '2026-11-10', 'Entry', 'Core'), move('gone', '2026-11-23', 'Core', 'VIC'), move('a', '2026-11-23', 'Core', 'VIC')]);
    expect(windows.moverIds().sort()).toEqual(['a', 'gone']);
    windows.leaveOut(['gone', 'never-moved']);
    // Tonight: 1 VIC (a) and 2 Core stayers; 'gone' is in no file.
    const tonight = counts({ VIC: 1, Core: 2 });
    expect(windows.window.matrix(tonight)).toMatchObject({ moved: 1, total: 3 });
    expect(windows.window.matrix(tonight).counts.Core.Core).toBe(2);
    expect(windows.tonight.matrix(tonight).counts.Core.VIC).toBe(1);
    expect(windows.moverIds()).toEqual(['a']);
  });
});
