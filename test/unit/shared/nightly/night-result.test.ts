import { describe, expect, it } from 'vitest';
import type { FileReport } from '#shared/exports/types.ts';
import { nightResultOf } from '#shared/nightly/distributed.ts';
import { profiles, RUN_DATE, summary } from '#test/support/nightly-reports.ts';

/**
 * What the nightly function returns for a completed night, and so what the state machine carries
 * (Run nightly job, Finish night) and the execution's output: the night's result, not its summary.
 * Step Functions fails a task whose result passes 256 KiB, after the night wrote everything.
 */

const STEP_FUNCTIONS_PAYLOAD_LIMIT = 256 * 1024;
/** Counts keyed by tier, stage and segment pairs, and a few names: a few KB whatever the base. */
const SMALL_RESULT_BYTES = 8 * 1024;
const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

/** An export in `parts` order files, as a warehouse unload writes it. */
function orderFiles(parts: number): FileReport[] {
  return Array.from({ length: parts }, (_, i) => ({
    location: `s3://clientele-exports/exports/${RUN_DATE}/orders/part-${String(i).padStart(5, '0')}-3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b.c000.csv.gz`,
    kind: 'orders',
    format: 'generic',
    rows: 1200,
    rejected: 0,
    warnings: 0,
    sha256: 'a'.repeat(64),
    bytes: 48_000,
  }));
}

describe('nightResultOf', () => {
  it('stays small however many files the export has, where the summary passes Step Functions\' limit', () => {
    const night = summary(RUN_DATE, profiles(50), { shards: 4 });
    const big = { ...night, input: { ...night.input, files: orderFiles(1000) } };
    expect(jsonBytes(big)).toBeGreaterThan(STEP_FUNCTIONS_PAYLOAD_LIMIT);
    const result = nightResultOf(big);
    expect(jsonBytes(result)).toBeLessThan(SMALL_RESULT_BYTES);
    expect(result).toEqual(nightResultOf(night));
  });

  it('carries what the Report state reads and an operator needs: the night, where its summary is, rejects, changes, writes', () => {
    const night = summary(RUN_DATE, profiles(50));
    expect(nightResultOf(night)).toEqual({
      job: 'nightly',
      runDate: RUN_DATE,
      runId: night.runId,
      shards: 1,
      summaryObject: night.report.summaryObject,
      rejected: night.input.rejected,
      changes: night.changes,
      written: night.written,
    });
    const rerun = { runId: 'nightly-2', startedAt: `${RUN_DATE}T20:00:00.000Z`, of: night.runId };
    expect(nightResultOf({ ...night, rerun })).toMatchObject({ runId: night.runId, rerun });
  });
});
