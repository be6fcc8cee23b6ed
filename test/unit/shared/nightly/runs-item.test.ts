import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { BOOK_REASONS, type BookReasonKind } from '#shared/advisors/book.ts';
import { emptyBought, emptyTally, type AdvisorFollowThrough } from '#shared/advisors/follow-through.ts';
import type { AdvisorDigestResult, AdvisorDigestSummary } from '#shared/digests/advisor-digests.ts';
import type { FileReport } from '#shared/exports/types.ts';
import { lastNightOf } from '#shared/nightly/admission.ts';
import { LISTED_IN_RUNS_ITEM, MAX_RUNS_ITEM_BYTES, runsItemOf, serializedBytes, wholeSummaryOf } from '#shared/nightly/runs-item.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';
import { profiles, RUN_DATE, summary } from '#test/support/nightly-reports.ts';

/**
 * A completed night's runs-table item (runs-item.ts). DynamoDB refuses an item past 400 KB: a
 * summary with an entry per export part or per advisor passed it, the night failed at its last
 * write, stayed marked as being written and refused every later night.
 */

const DYNAMODB_ITEM_LIMIT = 400 * 1024;

function customerParts(count: number): FileReport[] {
  return Array.from({ length: count }, (_, i) => ({
    location: `s3://clientele-exports/exports/${RUN_DATE}/customers/part-${String(i).padStart(5, '0')}-3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b.c000.csv`,
    kind: 'customers',
    format: 'generic',
    rows: 1,
    rejected: 0,
    warnings: 0,
    sha256: 'a'.repeat(64),
    bytes: 48,
  }));
}

const advisorId = (i: number) => `ADV-${String(i).padStart(5, '0')}`;

function followThrough(advisors: number, stores: number): AdvisorFollowThrough {
  const figures = () => ({ tasks: emptyTally(), bought: emptyBought() });
  return {
    days: 28,
    boughtWithinDays: 30,
    periodDays: 28,
    advisors: Array.from({ length: advisors }, (_, i) => ({ advisorId: advisorId(i), store: `Boutique ${i % stores}`, active: true, ...figures() })),
    byStore: Object.fromEntries(Array.from({ length: stores }, (_, i) => [`Boutique ${i} Avenue Montaigne Paris`, figures()])),
    total: figures(),
    control: emptyBought(),
    needsNewAdvisor: { count: 0, byStore: {}, customerIds: [] },
  };
}

function digests(advisors: number, unsent: number): AdvisorDigestSummary {
  const result = (i: number): AdvisorDigestResult => ({
    advisorId: advisorId(i),
    locale: 'en',
    outcome: 'sent',
    clients: 4,
    withReasons: 2,
    rows: 2,
    introductions: 0,
    introductionTasks: 0,
    reasonCounts: Object.fromEntries(BOOK_REASONS.map((kind) => [kind, 1])) as Record<BookReasonKind, number>,
    followThrough: emptyTally(),
    messageId: `0100018c-${String(i).padStart(8, '0')}-7d1e-4f6a-9b2c-3d4e5f6a7b8c-000000`,
  });
  return {
    runDate: RUN_DATE,
    week: '2026-W48',
    digestDate: RUN_DATE,
    mode: 'all',
    unsent: Array.from({ length: unsent }, (_, i) => advisorId(i)),
    dryRun: false,
    advisors: Array.from({ length: advisors }, (_, i) => result(i)),
    totals: { sent: advisors, 'no-rows': 0, 'already-sent': 0, failed: 0, deferred: 0, 'dry-run': 0, rows: 2 * advisors, introductions: 0, introductionTasks: 0 },
    unconfiguredAdvisors: { count: advisors, ids: Array.from({ length: advisors }, (_, i) => `UNKNOWN-${i}`) },
    durationMs: 1000,
  };
}

describe('runsItemOf', () => {
  it('keeps a sample of the export\'s files and the figures the guards read, where the whole summary passes DynamoDB\'s 400 KB', () => {
    const night = summary(RUN_DATE, profiles(50));
    const big: NightlyRunSummary = { ...night, input: { ...night.input, files: customerParts(2_500) } };
    expect(serializedBytes(big)).toBeGreaterThan(DYNAMODB_ITEM_LIMIT);
    const item = runsItemOf(big);
    expect(serializedBytes(item)).toBeLessThan(MAX_RUNS_ITEM_BYTES);
    expect(item.input.files).toEqual(big.input.files.slice(0, LISTED_IN_RUNS_ITEM));
    expect(item.listsCut).toEqual({ lengths: { 'input.files': 2_500 } });
    expect(lastNightOf(item)).toEqual(lastNightOf(big));
    expect(item.distribution).toEqual(big.distribution);
    expect(item.report).toEqual(big.report);
  });

  it('keeps the advisors\' figures and a sample of them on a digest night with thousands of advisors', () => {
    const night = summary(RUN_DATE, profiles(50));
    const big: NightlyRunSummary = { ...night, advisorFollowThrough: followThrough(3_000, 300), advisorDigests: digests(3_000, 30) };
    expect(serializedBytes(big)).toBeGreaterThan(DYNAMODB_ITEM_LIMIT);
    const item = runsItemOf(big);
    expect(serializedBytes(item)).toBeLessThan(MAX_RUNS_ITEM_BYTES);
    expect(item.advisorFollowThrough?.advisors).toHaveLength(LISTED_IN_RUNS_ITEM);
    expect(item.advisorFollowThrough?.byStore).toEqual(big.advisorFollowThrough?.byStore);
    expect(item.advisorDigests?.advisors).toHaveLength(LISTED_IN_RUNS_ITEM);
    expect(item.advisorDigests?.totals).toEqual(big.advisorDigests?.totals);
    expect(item.advisorDigests?.unconfiguredAdvisors).toEqual({ count: 3_000, ids: big.advisorDigests?.unconfiguredAdvisors.ids.slice(0, LISTED_IN_RUNS_ITEM) });
    expect(item.listsCut).toEqual({
      lengths: {
        'advisorFollowThrough.advisors': 3_000,
        'advisorDigests.advisors': 3_000,
        'advisorDigests.unconfiguredAdvisors.ids': 3_000,
        'advisorDigests.unsent': 30,
      },
    });
  });

  it('leaves out the samples and the per-store figures when the item would pass its bound even so, and says so', () => {
    const night = summary(RUN_DATE, profiles(50));
    const big: NightlyRunSummary = { ...night, advisorFollowThrough: followThrough(100, 5_000) };
    const item = runsItemOf(big);
    expect(serializedBytes(item)).toBeLessThan(MAX_RUNS_ITEM_BYTES);
    expect(item.listsCut).toMatchObject({ lengths: { 'advisorFollowThrough.advisors': 100, 'advisorFollowThrough.byStore': 5_000 }, reduced: true });
    expect(item.advisorFollowThrough?.total).toEqual(big.advisorFollowThrough?.total);
    expect(item.advisorFollowThrough?.byStore).toEqual({});
    expect(item.input.files).toEqual([]);
    expect(item.input.sampleRejects).toEqual([]);
  });

  it('stores a small summary as it is, and never a rerun\'s mark', () => {
    const night = summary(RUN_DATE, profiles(50));
    expect(runsItemOf(night)).toEqual(night);
    expect(runsItemOf({ ...night, rerun: { runId: 'nightly-2', startedAt: `${RUN_DATE}T20:00:00.000Z`, of: night.runId } })).toEqual(night);
  });
});

describe('wholeSummaryOf', () => {
  it('gives an item written whole (and one written before lists were cut) as it is, without reading S3', async () => {
    const night = summary(RUN_DATE, profiles(50));
    const unreachable = { send: () => Promise.reject(new Error('S3 must not be read')) } as unknown as S3Client;
    expect(await wholeSummaryOf(unreachable, night)).toBe(night);
  });
});
