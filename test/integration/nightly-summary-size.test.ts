import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { directoryExportSource } from '#shared/exports/source.ts';
import { storedNightlySummary } from '#shared/nightly/report.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { MAX_RUNS_ITEM_BYTES, LISTED_IN_RUNS_ITEM, serializedBytes } from '#shared/nightly/runs-item.ts';
import { NIGHTLY_JOB, type NightlyRunSummary } from '#shared/nightly/summary.ts';
import { getRun } from '#shared/store/runs-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import type { Config } from '#shared/config.ts';
import { aroundDocuments } from '#test/support/crashing-clients.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { emailsTo } from '#test/support/ses-store.ts';

/**
 * A night's summary grows with the brand's data (an entry per export part, per advisor), and its
 * runs-table item once held it whole: past DynamoDB's 400 KB the night failed at its last write,
 * after writing the profiles and sending the digests, stayed marked as being written, failed the
 * same way on every rerun and refused every later night. The item now keeps the figures and a
 * sample of those lists; the whole summary is summary.json (runs-item.ts).
 */

const aws = sharedAws();
const work = scratchDir('nightly-summary-size');

const DIGEST_MONDAY = '2026-11-23';
const TUESDAY = '2026-11-24';
const ADVISORS = 1_500;
const ADVISOR_DOMAIN = 'summary-size-advisors.example.com';
const IDS = ['c01', 'c02', 'c03', 'c04'];
const advisorId = (i: number) => `ADV-${String(i).padStart(5, '0')}`;

async function writeExport(runDate: string, files: Record<string, string>): Promise<string> {
  const dir = join(work, runDate);
  await mkdir(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text);
  return dir;
}

/** A small base whose clients all belong to the first advisor, and a roster of ADVISORS active advisors. */
function advisorsExport(): Record<string, string> {
  const lines = (header: string, rows: string[]) => [header, ...rows].join('\n') + '\n';
  return {
    'customers.csv': lines('customer_id,email,first_name,birthday,advisor_id', IDS.map((id) => `${id},${id}@example.com,Name ${id},11-26,${advisorId(1)}`)),
    'orders.csv': lines(
      'order_id,customer_id,ordered_at,line_total',
      IDS.flatMap((id) => Array.from({ length: 10 }, (_, k) => `${id}-o${k},${id},2026-11-${String(10 + k).padStart(2, '0')}T10:00:00+08:00,600.00`)),
    ),
    'advisors.csv': lines(
      'advisor_id,name,email,locale,active,signature,store',
      Array.from({ length: ADVISORS }, (_, i) => `${advisorId(i + 1)},Advisor ${i + 1},${advisorId(i + 1).toLowerCase()}@${ADVISOR_DOMAIN},en,true,Client advisor,Boutique ${i % 300} Avenue Montaigne Paris`),
    ),
  };
}

async function storedItem(config: Config, runDate: string): Promise<(NightlyRunSummary & { status?: string }) | undefined> {
  return getRun<NightlyRunSummary & { status?: string }>(aws.clients.documents, tableNames(config).runs, { job: NIGHTLY_JOB, runDate });
}

describe('a night whose summary passes DynamoDB\'s item size', () => {
  it(`with ${ADVISORS.toLocaleString('en-US')} advisors on the digest weekday: completes, its rerun repeats it whole, the next night runs`, { timeout: 120_000 }, async () => {
    const config = await scenarioConfig(aws, 'advisors', { reports: { advisorDigestWeekday: 'monday' } });
    const dir = await writeExport(DIGEST_MONDAY, advisorsExport());
    const night = (runId: string, clients = aws.clients) => runNightly({ clock: Date.now, runDate: DIGEST_MONDAY, runId, config, clients, source: directoryExportSource(dir) });

    // A night an earlier version left marked as being written: its summary's write refused, as DynamoDB refused it.
    const refusingSummary = aroundDocuments(aws.clients, (name, input, go) => {
      const item = (input as { Item?: { job?: string; status?: string } }).Item;
      if (name === 'PutCommand' && input.TableName === tableNames(config).runs && item?.job === NIGHTLY_JOB && item.status === 'completed') {
        return Promise.reject(Object.assign(new Error('Item size has exceeded the maximum allowed size'), { name: 'ValidationException' }));
      }
      return go();
    });
    await expect(night('size-1', refusingSummary)).rejects.toThrow(/Item size has exceeded/);
    expect((await storedItem(config, DIGEST_MONDAY))?.status).toBe('writing');

    // Its rerun completes, and stores the figures with a sample of the advisors.
    const summary = await night('size-2');
    expect(summary.rerun).toBeUndefined();
    expect(summary.advisorDigests?.advisors).toHaveLength(ADVISORS);
    expect(summary.advisorFollowThrough?.advisors).toHaveLength(ADVISORS);
    const item = await storedItem(config, DIGEST_MONDAY);
    expect(item?.status).toBe('completed');
    expect(serializedBytes(item)).toBeLessThan(MAX_RUNS_ITEM_BYTES);
    expect(item?.advisorDigests?.advisors).toHaveLength(LISTED_IN_RUNS_ITEM);
    expect(item?.advisorDigests?.totals).toEqual(summary.advisorDigests?.totals);
    expect(item?.listsCut?.lengths).toMatchObject({ 'advisorDigests.advisors': ADVISORS, 'advisorFollowThrough.advisors': ADVISORS });

    // The first advisor's digest went out once, by the attempt that wrote everything but its summary.
    const digests = await emailsTo(aws, `${advisorId(1).toLowerCase()}@${ADVISOR_DOMAIN}`);
    expect(digests).toHaveLength(1);

    // Run again on the same export: the night as first computed, whole, from summary.json.
    const repeated = await night('size-3');
    expect(repeated.rerun?.of).toBe('size-2');
    expect(repeated.advisorDigests?.advisors).toEqual(summary.advisorDigests?.advisors);
    expect((await storedNightlySummary(aws.clients, config, DIGEST_MONDAY))?.advisorFollowThrough).toEqual(summary.advisorFollowThrough);
    expect(await emailsTo(aws, `${advisorId(1).toLowerCase()}@${ADVISOR_DOMAIN}`)).toHaveLength(1);

    // And the next night is not refused.
    const nextDir = await writeExport(TUESDAY, advisorsExport());
    const next = await runNightly({ clock: Date.now, runDate: TUESDAY, runId: 'size-4', config, clients: aws.clients, source: directoryExportSource(nextDir) });
    expect(next.runDate).toBe(TUESDAY);
    expect((await storedItem(config, TUESDAY))?.status).toBe('completed');
  });

  it('with an export split into 2,100 one-row customer parts: completes, its item keeps a sample of the files', { timeout: 120_000 }, async () => {
    const parts = 2_100;
    const runDate = '2026-11-22'; // a Sunday: no digests
    const config = await scenarioConfig(aws, 'parts');
    const files: Record<string, string> = { 'orders.csv': 'order_id,customer_id,ordered_at,line_total\no1,c00000,2026-11-10T10:00:00+08:00,600.00\n' };
    for (let i = 0; i < parts; i++) {
      const id = `c${String(i).padStart(5, '0')}`;
      files[`customers-${String(i + 1).padStart(5, '0')}.csv`] = `customer_id,email\n${id},${id}@example.com\n`;
    }
    const dir = await writeExport(runDate, files);
    const summary = await runNightly({ clock: Date.now, runDate, runId: 'parts-1', config, clients: aws.clients, source: directoryExportSource(dir) });
    expect(summary.input.files).toHaveLength(parts + 1);
    const item = await storedItem(config, runDate);
    expect(item?.status).toBe('completed');
    expect(item?.input.files).toHaveLength(LISTED_IN_RUNS_ITEM);
    expect(item?.input.orderLines).toBe(1);
    expect(item?.listsCut?.lengths).toEqual({ 'input.files': parts + 1 });
    expect((await storedNightlySummary(aws.clients, config, runDate))?.input.files).toEqual(summary.input.files);
  });
});
