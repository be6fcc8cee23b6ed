import { afterAll, describe, expect, it } from 'vitest';
import { knownAdvisors, rosterOfNight } from '#shared/advisors/roster.ts';
import { classifyExportFile } from '#shared/exports/classify.ts';
import { parseConfig } from '#shared/config.ts';
import type { FileReport } from '#shared/exports/types.ts';
import type { AdvisorRecord } from '#shared/model.ts';
import { CUSTOMERS, orders, read, removeExportDirs } from './reading.ts';

afterAll(removeExportDirs);

/** Issue 16 point 1: the advisors roster, an optional file of the export, validated at the edge. */

const HEADER = 'advisor_id,name,email,locale,active,signature,store';
const base = { 'customers.csv': CUSTOMERS, 'orders.csv': orders(2) };

describe('reading advisors.csv / advisors.jsonl', () => {
  it('is recognised as the generic roster, in parts and gzipped', () => {
    expect(classifyExportFile('advisors.csv')).toEqual({ kind: 'advisors', format: 'generic', encoding: 'csv' });
    expect(classifyExportFile('Advisors-0001.jsonl.gz')).toEqual({ kind: 'advisors', format: 'generic', encoding: 'jsonl' });
  });

  it('hands over every valid row, after customers and products and before orders, with defaults', async () => {
    const roster = [HEADER, 'A01,Sophie Martin,Sophie@Example.com,en,true,"Senior advisor, Rue Cambon",Paris', 'A02,王芳,wang.fang@example.com,zh_CN,,,Shanghai', 'A03,Old Hand,old@example.com,en,no,,Paris'].join('\n');
    const { advisors, positions, result } = await read({ ...base, 'advisors.csv': roster });
    expect(advisors).toEqual([
      { advisorId: 'A01', name: 'Sophie Martin', email: 'sophie@example.com', locale: 'en', active: true, signature: 'Senior advisor, Rue Cambon', store: 'Paris' },
      { advisorId: 'A02', name: '王芳', email: 'wang.fang@example.com', locale: 'zh-CN', active: true, store: 'Shanghai' },
      { advisorId: 'A03', name: 'Old Hand', email: 'old@example.com', locale: 'en', active: false, store: 'Paris' },
    ]);
    expect(positions.filter((p) => p.startsWith('advisor'))).toEqual(['advisor advisors.csv:2', 'advisor advisors.csv:3', 'advisor advisors.csv:4']);
    expect(positions.findIndex((p) => p.startsWith('advisor'))).toBeLessThan(positions.findIndex((p) => p.startsWith('order')));
    expect(result.files.find((f) => f.kind === 'advisors')).toMatchObject({ rows: 3, rejected: 0 });
  });

  it('reads JSONL with the same names', async () => {
    const jsonl = '{"advisor_id":"A01","name":"Sophie","email":"s@example.com","active":true}\n{"advisor_id":["A09"],"name":"Bad id"}\n';
    const { advisors, result } = await read({ ...base, 'advisors.jsonl': jsonl });
    expect(advisors).toEqual([{ advisorId: 'A01', name: 'Sophie', email: 's@example.com', active: true }]);
    expect(result.rejects).toEqual([expect.objectContaining({ line: 2, reason: expect.stringMatching(/advisor_id/) })]);
  });

  it('rejects a row without an id or with an unreadable active flag, naming file and line, never the value; drops a bad optional field with a warning', async () => {
    const roster = [HEADER, ',No Id,x@example.com,en,true,,', 'A02,Maybe,m@example.com,en,perhaps,,', 'A03,Fine,not-an-email,en,1,,', 'A04,Two\u0007Lines,f@example.com,en,1,,'].join('\n');
    const { advisors, result, dir } = await read({ ...base, 'advisors.csv': roster });
    expect(result.rejects).toEqual([
      { file: `${dir}/advisors.csv`, line: 2, reason: expect.stringMatching(/advisor_id/) },
      { file: `${dir}/advisors.csv`, line: 3, reason: expect.stringMatching(/active: must be true\/false/) },
    ]);
    expect(JSON.stringify(result.rejects)).not.toMatch(/perhaps|No Id/);
    expect(advisors.map((a) => a.advisorId)).toEqual(['A03', 'A04']);
    expect(advisors[0]).not.toHaveProperty('email');
    expect(advisors[1]).not.toHaveProperty('name');
    expect(result.warnings.map((w) => [w.line, w.field])).toEqual([
      [4, 'email'],
      [5, 'name'],
    ]);
  });

  it('never fails the export for the roster: too many rejects are counted, an empty or truncated file is marked unusable and hands over nothing', async () => {
    const allBad = await read({ ...base, 'advisors.csv': `${HEADER}\n,a,,,,,\n,b,,,,,\n` });
    expect(allBad.result.files.find((f) => f.kind === 'advisors')).toMatchObject({ rows: 2, rejected: 2 });

    const empty = await read({ ...base, 'advisors.csv': `${HEADER}\n` });
    expect(empty.result.files.find((f) => f.kind === 'advisors')?.unusable).toMatch(/advisors\.csv: has no data rows/);
    expect(empty.customers).toHaveLength(2);

    const cut = await read({ ...base, 'advisors.csv': `${HEADER}\nA01,Sophie,s@example.com,en,true,,Paris\nA02,Wang` });
    expect(cut.result.files.find((f) => f.kind === 'advisors')).toMatchObject({ unusable: expect.stringMatching(/is truncated/), rejected: 0 });
    expect(cut.advisors).toEqual([]);
    expect(cut.orders).toHaveLength(2);

    const noId = await read({ ...base, 'advisors.csv': 'name,email\nSophie,s@example.com\n' });
    expect(noId.result.files.find((f) => f.kind === 'advisors')?.unusable).toMatch(/missing required column "advisor_id"/);
  });
});

const report = (overrides: Partial<FileReport> = {}): FileReport => ({
  location: 's3://b/exports/2026-11-23/advisors.csv',
  kind: 'advisors',
  format: 'generic',
  rows: 10,
  rejected: 0,
  warnings: 0,
  sha256: '',
  bytes: 1,
  ...overrides,
});
const advisor = (advisorId: string, overrides: Partial<AdvisorRecord> = {}): AdvisorRecord => ({ advisorId, name: advisorId, email: `${advisorId}@example.com`, active: true, ...overrides });

describe('rosterOfNight: whether tonight’s roster replaces the stored one', () => {
  it('uses a good roster, the last row of an id winning, sorted by id', () => {
    expect(rosterOfNight([report()], [advisor('B'), advisor('A'), advisor('B', { store: 'Paris' })], 0.05)).toEqual({
      use: true,
      advisors: [advisor('A'), advisor('B', { store: 'Paris' })],
    });
  });

  it.each([
    ['no advisors file', [], [advisor('A')], /no advisors file/],
    ['an unusable part', [report(), report({ unusable: 'x: is truncated' })], [advisor('A')], /unusable: x: is truncated/],
    ['a part past maxRejectShare', [report({ rejected: 1 })], [advisor('A')], /1 of 10 rows rejected/],
    ['no valid row', [report({ rows: 0 })], [], /no valid row/],
  ] as const)('keeps the stored roster with %s', (_, files, records, reason) => {
    const reading = rosterOfNight(files, records, 0.05);
    expect(reading.use).toBe(false);
    if (!reading.use) expect(reading.reason).toMatch(reason);
  });

  it('knows the roster’s advisors and those only the config names; the roster wins', () => {
    const config = parseConfig({ reports: { advisors: { A: { email: 'a.config@example.com' }, C: { email: 'c@example.com', name: 'Cara', locale: 'zh-CN' } } } });
    const known = knownAdvisors({ runDate: '2026-11-22', advisors: [advisor('A', { active: false }), advisor('B')] }, config);
    expect([...known.keys()].sort()).toEqual(['A', 'B', 'C']);
    expect(known.get('A')).toMatchObject({ active: false, email: 'A@example.com' });
    expect(known.get('C')).toEqual({ advisorId: 'C', name: 'Cara', email: 'c@example.com', locale: 'zh-CN', active: true });
  });
});
