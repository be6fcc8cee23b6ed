import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRoster } from '#shared/store/roster-store.ts';
import type { Config } from '#shared/config.ts';
import { sendAdvisorDigests } from '#shared/digests/advisor-digests.ts';
import { jsonLog } from '#shared/log.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { at } from '#test/support/time.ts';

/**
 * Issue 16 point 1 on the embedded AWS: the advisors roster of the nightly export is stored by
 * the run, and a missing, empty or wholly bad roster keeps the last good one (the books never
 * empty), said in the summary; the digests go to the roster's active advisors.
 */

const NIGHTS = ['2026-11-20', '2026-11-21', '2026-11-22', '2026-11-23'];
const IDS = ['c01', 'c02', 'c03', 'c04'];
const ROSTER_HEADER = 'advisor_id,name,email,locale,active,signature,store';

const aws = sharedAws();
const work = scratchDir('roster');

// Core clients (10 lines of 600.00) of advisor A01, each with a birthday in the week after the last night.
const customersCsv = ['customer_id,email,first_name,birthday,advisor_id', ...IDS.map((id) => `${id},${id}@example.com,Name ${id},11-26,A01`)].join('\n') + '\n';
function ordersCsv(day: string): string {
  const rows = IDS.flatMap((id) => Array.from({ length: 10 }, (_, k) => `${id}-o${k},${id},${day.slice(0, 8)}${String(10 + k).padStart(2, '0')}T10:00:00+08:00,600.00`));
  return ['order_id,customer_id,ordered_at,line_total', ...rows].join('\n') + '\n';
}

async function night(config: Config, runDate: string, roster: Record<string, string>) {
  const dir = join(work, runDate);
  await mkdir(dir, { recursive: true });
  for (const [file, text] of Object.entries({ 'customers.csv': customersCsv, 'orders.csv': ordersCsv(NIGHTS[0] ?? ''), ...roster })) await writeFile(join(dir, file), text);
  return runNightly({ clock: Date.now, runDate, runId: `night-${runDate}`, config, clients: aws.clients, source: directoryExportSource(dir) });
}

describe('advisors roster on the embedded AWS', () => {
  it('stores a good roster; keeps it through a wholly rejected, an empty and a missing one; the digest goes to its active advisor', async () => {
    const config = await scenarioConfig(aws, 'roster', { reports: { advisorDigestWeekday: 'monday' } });
    const good = [ROSTER_HEADER, 'A01,Sophie Martin,a01@advisors.example.com,en,true,Senior advisor,Paris', 'A02,Old Hand,a02@advisors.example.com,en,false,,Paris'].join('\n') + '\n';

    const first = await night(config, NIGHTS[0] ?? '', { 'advisors.csv': good });
    expect(first.roster).toEqual({ status: 'updated', since: NIGHTS[0], advisors: 2, active: 1 });
    expect((await readRoster(aws.clients.s3, config))?.advisors.map((a) => [a.advisorId, a.active])).toEqual([
      ['A01', true],
      ['A02', false],
    ]);

    // Every row rejected: the night completes, its rejects listed with file and line, the roster kept.
    const allBad = await night(config, NIGHTS[1] ?? '', { 'advisors.csv': `${ROSTER_HEADER}\nA01,Sophie,a01@advisors.example.com,en,maybe,,\n,Nobody,,,,,\n` });
    expect(allBad.status).toBe('completed');
    expect(allBad.roster).toMatchObject({ status: 'kept', since: NIGHTS[0], advisors: 2, reason: expect.stringMatching(/2 of 2 rows rejected/) });
    expect(allBad.input.sampleRejects.map((r) => [r.file.split('/').pop(), r.line])).toEqual([
      ['advisors.csv', 2],
      ['advisors.csv', 3],
    ]);

    const empty = await night(config, NIGHTS[2] ?? '', { 'advisors.csv': `${ROSTER_HEADER}\n` });
    expect(empty.roster).toMatchObject({ status: 'kept', since: NIGHTS[0], reason: expect.stringMatching(/has no data rows/) });
    expect(empty.input.files.find((f) => f.kind === 'advisors')?.unusable).toMatch(/has no data rows/);

    // No roster tonight (Monday, the digest day): still the last good one, and A01 gets the digest; A02 (inactive) none.
    const missing = await night(config, NIGHTS[3] ?? '', {});
    expect(missing.roster).toMatchObject({ status: 'kept', since: NIGHTS[0], reason: 'no advisors file in the export' });
    expect(missing.advisorDigests?.advisors.map((a) => [a.advisorId, a.outcome])).toEqual([['A01', 'sent']]);
    expect(missing.advisorDigests?.unconfiguredAdvisors.count).toBe(0);
    // A dry run of that night shows the book it sent, and that it was sent (the ledger's entry for the week).
    const preview = await sendAdvisorDigests({ at: Date.now(), runDate: NIGHTS[3] ?? '', runId: 'preview', config, clients: aws.clients, dryRun: true });
    expect(preview.advisors).toEqual([expect.objectContaining({ advisorId: 'A01', outcome: 'already-sent', reason: 'ledger: sent', rows: IDS.length })]);
  }, 120_000);

  it('rejects the rows of an advisor listed twice with different values, keeps their stored entry, and uses the rest', async () => {
    const config = await scenarioConfig(aws, 'roster-twice');
    const good = [ROSTER_HEADER, 'A01,Sophie Martin,a01@advisors.example.com,en,true,Senior advisor,Paris', 'A02,Fang,a02@advisors.example.com,zh-CN,true,,Shanghai'].join('\n') + '\n';
    await night(config, NIGHTS[0] ?? '', { 'advisors.csv': good });

    // A01 again, as inactive with nothing else (a row added by hand, the old one left in);
    // A02 twice in rows that agree (the second gives a store the first leaves empty); A03 new.
    const twice = [
      ROSTER_HEADER,
      'A01,Sophie Martin,a01@advisors.example.com,en,true,Senior advisor,Paris',
      'A02,Fang,a02@advisors.example.com,zh-CN,true,,',
      'A01,,,,false,,',
      'A03,New Hand,a03@advisors.example.com,en,true,,Paris',
      'A02,,,,,,Beijing',
    ].join('\n') + '\n';
    const summary = await night(config, NIGHTS[1] ?? '', { 'advisors.csv': twice });
    expect(summary.status).toBe('completed');
    expect(summary.roster).toEqual({ status: 'updated', since: NIGHTS[1], advisors: 3, active: 3, conflicting: 1 });
    expect(summary.input.sampleRejects.map((r) => [r.file.split('/').pop(), r.line, r.reason])).toEqual([
      ['advisors.csv', 2, expect.stringMatching(/^advisor listed in 2 rows \(advisors\.csv:2, advisors\.csv:4\) that disagree on active: all of them rejected/)],
      ['advisors.csv', 4, expect.stringMatching(/^advisor listed in 2 rows \(advisors\.csv:2, advisors\.csv:4\) that disagree on active/)],
    ]);
    expect(summary.input.files.find((f) => f.kind === 'advisors')).toMatchObject({ rows: 5, rejected: 2 });
    expect(summary.input.rejected).toBe(2);
    const stored = await readRoster(aws.clients.s3, config);
    expect(stored?.advisors.map((a) => [a.advisorId, a.active, a.name, a.store])).toEqual([
      ['A01', true, 'Sophie Martin', 'Paris'],
      ['A02', true, 'Fang', 'Beijing'],
      ['A03', true, 'New Hand', 'Paris'],
    ]);
  }, 120_000);

  it('sends the digests of a roster whose store names a plain object already answers ("constructor", "toString")', async () => {
    // Store names are free text from the roster: the digests' per-store follow-through counts them as any other.
    const config = await scenarioConfig(aws, 'roster-store-names', { reports: { advisorDigestWeekday: 'monday' } });
    const roster = [ROSTER_HEADER, 'A01,Sophie Martin,a01@advisors.example.com,en,true,,constructor', 'A02,Fang,a02@advisors.example.com,en,true,,toString'].join('\n') + '\n';
    const summary = await night(config, NIGHTS[3] ?? '', { 'advisors.csv': roster });
    expect(summary.advisorDigests?.advisors.map((a) => [a.advisorId, a.outcome])).toEqual([
      ['A01', 'sent'],
      ['A02', 'no-rows'],
    ]);
    expect(Object.keys(summary.advisorDigests?.followThrough?.byStore ?? {}).sort()).toEqual(['constructor', 'toString']);
  }, 120_000);

  it('completes a digest night whose roster names a store "__proto__" (no key of a stored map): the store is dropped with a warning, the advisor counted as of no store', async () => {
    // The summary's per-store figures are a stored map: with that key the whole night failed, on every rerun.
    const config = await scenarioConfig(aws, 'roster-proto-store', { reports: { advisorDigestWeekday: 'monday' } });
    const roster = [ROSTER_HEADER, 'A01,Sophie Martin,a01@advisors.example.com,en,true,,__proto__'].join('\n') + '\n';
    const summary = await night(config, NIGHTS[3] ?? '', { 'advisors.csv': roster });
    expect(summary.status).toBe('completed');
    expect(summary.input.warned).toBe(1);
    expect(summary.advisorDigests?.advisors.map((a) => [a.advisorId, a.outcome])).toEqual([['A01', 'sent']]);
    expect(Object.keys(summary.advisorDigests?.followThrough?.byStore ?? {})).toEqual(['(no store)']);
  }, 120_000);
});

/**
 * A roster whose every row is valid but whose `active` column reads false for the whole team (a
 * column mapped from another field, a platform default) would empty every book at once: it is
 * not used, as a broken file is not. One or two advisors of four leaving in a night still are.
 */
describe('a roster that takes the whole team out of service at once', () => {
  const TEAM = ['A1', 'A2', 'A3', 'A4'];
  const teamRoster = (inactive: readonly string[]) =>
    ['advisor_id,name,email,active', ...TEAM.map((id) => `${id},Advisor ${id},${id.toLowerCase()}@team-roster.example.com,${inactive.includes(id) ? 'false' : 'true'}`)].join('\n') + '\n';
  const clientIds = Array.from({ length: 40 }, (_, i) => `t${i + 1}`);
  const teamFiles = {
    'customers.csv': ['customer_id,email,first_name,accepts_marketing,advisor_id', ...clientIds.map((id, i) => `${id},${id}@team-clients.example.com,Ann,true,${TEAM[i % 4]}`)].join('\n') + '\n',
    'orders.csv': ['order_id,customer_id,ordered_at,sku,line_total', ...clientIds.map((id) => `o-${id},${id},2026-03-01T10:00:00+08:00,BAG,9000.00`)].join('\n') + '\n',
  };

  async function teamNight(config: Config, runDate: string, roster: string, clockAt: number, lines: Record<string, unknown>[] = []) {
    const dir = join(work, 'team', runDate);
    await mkdir(dir, { recursive: true });
    for (const [file, text] of Object.entries({ ...teamFiles, 'advisors.csv': roster })) await writeFile(join(dir, file), text);
    const log = jsonLog({ write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    return runNightly({ clock: () => clockAt, runDate, runId: `team-${runDate}`, config, clients: aws.clients, source: directoryExportSource(dir), log });
  }

  it('keeps the last good roster with the reason and a warning; two of four leaving the next night are taken', async () => {
    const config = await scenarioConfig(aws, 'roster-team-out');
    const first = await teamNight(config, '2026-03-21', teamRoster([]), at('2026-03-22 02:00'));
    expect(first.roster).toEqual({ status: 'updated', since: '2026-03-21', advisors: 4, active: 4 });

    const lines: Record<string, unknown>[] = [];
    const allOut = await teamNight(config, '2026-03-22', teamRoster(TEAM), at('2026-03-23 02:00'), lines);
    expect(allOut.status).toBe('completed');
    expect(allOut.roster).toEqual({
      status: 'kept',
      since: '2026-03-21',
      advisors: 4,
      active: 4,
      reason: "tonight's roster takes 4 of the 4 advisors holding a book out of service at once (inactive, without an email or not listed): all of them, which a broken file does, not a night's departures",
    });
    expect(lines.filter((line) => line.level === 'warn' && line.message === 'advisors roster not updated tonight')).toEqual([expect.objectContaining({ status: 'kept', since: '2026-03-21' })]);
    expect((await readRoster(aws.clients.s3, config))?.advisors.map((a) => [a.advisorId, a.active])).toEqual(TEAM.map((id) => [id, true]));

    // A real departure: two of the four leave. The books of the other two stay; theirs are handed over.
    const twoLeave = await teamNight(config, '2026-03-23', teamRoster(['A3', 'A4']), at('2026-03-24 02:00'));
    expect(twoLeave.roster).toEqual({ status: 'updated', since: '2026-03-23', advisors: 4, active: 2 });
    expect((await readRoster(aws.clients.s3, config))?.advisors.map((a) => [a.advisorId, a.active])).toEqual([
      ['A1', true],
      ['A2', true],
      ['A3', false],
      ['A4', false],
    ]);
  }, 300_000);
});
