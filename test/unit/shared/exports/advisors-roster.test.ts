import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { departureRefusal, formerAdvisorIds, knownAdvisors, rosterOfNight, type RosterRow } from '#shared/advisors/roster.ts';
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
    const roster = [HEADER, 'A01,Sophie Martin,Sophie@Example.com,en,true,"Senior advisor, Rue Cambon",Paris', 'A02,王芳,wang.fang@example.com,zh_CN,,,Shanghai', 'A03,Old Hand,old@example.com,en,no,,Paris', ''].join('\n');
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
    const roster = [HEADER, ',No Id,x@example.com,en,true,,', 'A02,Maybe,m@example.com,en,perhaps,,', 'A03,Fine,not-an-email,en,1,,', 'A04,Two\u0007Lines,f@example.com,en,1,,', ''].join('\n');
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

  it('takes no "__proto__" for an advisor id or a store (they key stored maps): the row is a reject, the store dropped with a warning', async () => {
    const roster = [HEADER, '__proto__,Proto,p@example.com,en,true,,Paris', 'A02,Fang,f@example.com,en,true,,__proto__', 'A03,Hand,h@example.com,en,true,,constructor', ''].join('\n');
    const { advisors, result, dir } = await read({ ...base, 'advisors.csv': roster });
    expect(result.rejects).toEqual([{ file: `${dir}/advisors.csv`, line: 2, reason: 'advisor_id: a reserved name ("__proto__") that cannot be stored as a key' }]);
    expect(advisors.map((a) => [a.advisorId, a.store])).toEqual([
      ['A02', undefined],
      ['A03', 'constructor'],
    ]);
    expect(result.warnings.map((w) => [w.line, w.field])).toEqual([[3, 'store']]);
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
const FILE = 's3://b/exports/2026-11-23/advisors.csv';
/** Rows as the export hands them: the records in order, lines from 2 (after the header). */
const rows = (...records: AdvisorRecord[]): RosterRow[] => records.map((record, i) => ({ record, file: FILE, line: i + 2 }));

describe('rosterOfNight: whether tonight’s roster replaces the stored one', () => {
  it('uses a good roster, an advisor listed twice in agreeing rows merged field by field, sorted by id', () => {
    expect(rosterOfNight([report()], rows(advisor('B'), advisor('A'), advisor('B', { store: 'Paris' })), 0.05)).toEqual({
      use: true,
      advisors: [advisor('A'), advisor('B', { store: 'Paris' })],
      rejects: [],
      conflicting: 0,
    });
    // A field a later row leaves empty keeps the earlier row's, as for customers.
    const { name: _, ...nameless } = advisor('B', { locale: 'fr' });
    expect(rosterOfNight([report()], rows(advisor('B', { store: 'Paris' }), nameless), 0.05)).toMatchObject({
      use: true,
      advisors: [advisor('B', { store: 'Paris', locale: 'fr' })],
    });
  });

  it.each([
    ['no advisors file', [], rows(advisor('A')), /no advisors file/],
    ['an unusable part', [report(), report({ unusable: 'x: is truncated' })], rows(advisor('A')), /unusable: x: is truncated/],
    ['a part past maxRejectShare', [report({ rejected: 1 })], rows(advisor('A')), /1 of 10 rows rejected/],
    ['no valid row', [report({ rows: 0 })], [], /no valid row/],
    ['only advisors whose rows disagree', [report()], rows(advisor('A'), advisor('A', { active: false })), /every advisor of the file is listed in rows that disagree/],
  ] as const)('keeps the stored roster with %s', (_, files, records, reason) => {
    const reading = rosterOfNight(files, records, 0.05);
    expect(reading.use).toBe(false);
    if (!reading.use) expect(reading.reason).toMatch(reason);
  });

  it('keeps the stored roster when tonight\'s, every row valid, takes the whole team out of service (an active column read as false for all)', () => {
    const team = ['A1', 'A2', 'A3', 'A4'].map((id) => advisor(id));
    const stored = { runDate: '2026-03-21', advisors: team };
    const reading = rosterOfNight([report({ rows: 4 })], rows(...team.map((a) => ({ ...a, active: false }))), 0.05, stored);
    expect(reading).toMatchObject({ use: false, rejects: [], conflicting: 0 });
    if (!reading.use) {
      expect(reading.reason).toBe(
        "tonight's roster takes 4 of the 4 advisors holding a book out of service at once (inactive, without an email or not listed): all of them, which a broken file does, not a night's departures",
      );
      expect(reading.reason).not.toMatch(/A1|@/);
    }
    // An email column renamed: every advisor without one holds no book either.
    const emailless = team.map(({ email: _, ...rest }) => rest);
    expect(rosterOfNight([report({ rows: 4 })], rows(...emailless), 0.05, stored)).toMatchObject({ use: false, reason: expect.stringMatching(/4 of the 4 .*: all of them/) });
    // Without a stored roster there are no books to empty: the first roster is taken as it is.
    expect(rosterOfNight([report({ rows: 4 })], rows(...team.map((a) => ({ ...a, active: false }))), 0.05)).toMatchObject({ use: true });
  });

  it.each([
    // [team holding a book, leaving tonight, refused]
    [4, 1, false],
    [4, 2, false],
    [4, 3, true],
    [4, 4, true],
    [3, 2, false],
    [3, 3, true],
    [2, 1, false],
    [2, 2, true],
    [1, 1, true],
    [5, 2, false],
    [5, 3, true],
    [10, 5, false],
    [10, 6, true],
    [4, 0, false],
  ] as const)('of a team of %i holding a book, lets %i leave in a night: refused %s', (size, leaving, refused) => {
    const team = Array.from({ length: size }, (_, i) => advisor(`A${i + 1}`));
    // Out of service three ways: inactive, no email, not listed; a newcomer does not offset them.
    const tonight = team.flatMap((a, i) => {
      if (i >= leaving) return [a];
      const way = i % 3;
      if (way === 0) return [{ ...a, active: false }];
      if (way === 1) return [{ advisorId: a.advisorId, name: a.advisorId, active: true }];
      return [];
    });
    const refusal = departureRefusal({ runDate: '2026-03-21', advisors: team }, [...tonight, advisor('NEW')]);
    expect(refusal === undefined ? false : refusal.startsWith(`tonight's roster takes ${leaving} of the ${size} advisors`)).toBe(refused);
  });

  it('counts only the advisors holding a book in the stored roster: one already inactive, or without an email, is not leaving again', () => {
    const stored = { runDate: '2026-03-21', advisors: [advisor('A1'), advisor('A2', { active: false }), advisor('A3', { active: false }), advisor('A4'), advisor('A5'), advisor('A6')] };
    // A2 and A3 listed inactive again, A1 and A4 leave: 2 of the 4 holding a book.
    const tonight = [advisor('A1', { active: false }), advisor('A2', { active: false }), advisor('A3', { active: false }), advisor('A5'), advisor('A6')];
    expect(departureRefusal(stored, tonight)).toBeUndefined();
    // An advisor the configuration names (reports.advisors) and tonight's roster leaves out still holds a book.
    const pair = { runDate: '2026-03-21', advisors: [advisor('A1'), advisor('A2')] };
    expect(departureRefusal(pair, [], ['A1'])).toBeUndefined();
    expect(departureRefusal(pair, [], [])).toMatch(/takes 2 of the 2 advisors/);
    // Nobody holding a book in the stored roster: nothing to empty.
    expect(departureRefusal({ runDate: '2026-03-21', advisors: [advisor('A2', { active: false })] }, [advisor('A2', { active: false })])).toBeUndefined();
    // An advisor whose rows disagree keeps the stored entry, so does not leave: 3 of 4 inactive but one of them ambiguous is 2.
    const team = ['A1', 'A2', 'A3', 'A4'].map((id) => advisor(id));
    const reading = rosterOfNight([report({ rows: 5 })], rows(advisor('A1', { active: false }), advisor('A2', { active: false }), advisor('A3'), advisor('A3', { active: false }), advisor('A4')), 0.05, { runDate: '2026-03-21', advisors: team });
    expect(reading).toMatchObject({ use: true, conflicting: 1 });
  });

  it('rejects every row of an advisor listed in rows that disagree, naming file and lines, and keeps their stored entry', () => {
    // The probe's roster: A01 active with a name, an email and a store, then a row with only "false".
    const sophie = advisor('A01', { name: 'Sophie Martin', email: 'sophie@brand.com', locale: 'en', store: 'Paris' });
    const tonight = rows(sophie, advisor('A02'), { advisorId: 'A01', active: false });
    const stored = { runDate: '2026-11-22', advisors: [advisor('A01', { name: 'Sophie Martin', email: 'sophie@brand.com', store: 'Paris' }), advisor('A03')] };
    const reading = rosterOfNight([report()], tonight, 0.05, stored);
    expect(reading).toMatchObject({ use: true, conflicting: 1 });
    // A01 as the last good roster had them (still active: no book is handed over on an ambiguous row); A02 from tonight; A03, absent tonight, gone.
    if (reading.use) expect(reading.advisors).toEqual([stored.advisors[0], advisor('A02')]);
    expect(reading.rejects).toEqual([
      { file: FILE, line: 2, reason: 'advisor listed in 2 rows (advisors.csv:2, advisors.csv:4) that disagree on active: all of them rejected, the advisor stays as the last good roster has them' },
      { file: FILE, line: 4, reason: expect.stringContaining('(advisors.csv:2, advisors.csv:4) that disagree on active') },
    ]);
    expect(JSON.stringify(reading.rejects)).not.toMatch(/A01|Sophie|sophie@|Paris/);

    // Without a stored entry the advisor is not in the roster (unknown, as if never listed); two fields named.
    const other = rosterOfNight([report()], rows(advisor('A01', { email: 'a@x.com', store: 'Paris' }), advisor('A02'), advisor('A01', { email: 'b@x.com', store: 'Lyon' })), 0.05);
    if (other.use) expect(other.advisors.map((a) => a.advisorId)).toEqual(['A02']);
    expect(other.rejects[0]?.reason).toMatch(/disagree on email, store:/);
  });

  it('counts rows that disagree as rejects of their own, not against maxRejectShare; reports them with a roster kept for another reason', () => {
    const tonight = rows(advisor('A'), advisor('A', { active: false }), advisor('B'));
    expect(rosterOfNight([report({ rows: 3 })], tonight, 0.05)).toMatchObject({ use: true, conflicting: 1 });
    const kept = rosterOfNight([report({ rows: 3, rejected: 1 })], tonight, 0.05);
    expect(kept).toMatchObject({ use: false, conflicting: 1, rejects: [{ line: 2 }, { line: 3 }] });
  });

  it('keeps the ids of the advisors it no longer lists, accumulated, each once; an old stored roster has none', () => {
    expect(formerAdvisorIds(undefined, [advisor('A')])).toEqual([]);
    expect(formerAdvisorIds({ runDate: '2026-11-22', advisors: [advisor('A'), advisor('B')] }, [advisor('B')])).toEqual(['A']);
    const stored = { runDate: '2026-11-23', advisors: [advisor('B'), advisor('C')], formerAdvisorIds: ['A', 'D'] };
    expect(formerAdvisorIds(stored, [advisor('D'), advisor('E')])).toEqual(['A', 'B', 'C']);
  });

  it('rows across parts: an advisor is one advisor whatever part lists them', () => {
    const parts = [report({ location: 's3://b/x/advisors-1.csv' }), report({ location: 's3://b/x/advisors-2.csv' })];
    const reading = rosterOfNight(parts, [
      { record: advisor('A'), file: 's3://b/x/advisors-1.csv', line: 2 },
      { record: advisor('A', { email: 'other@example.com' }), file: 's3://b/x/advisors-2.csv', line: 7 },
      { record: advisor('B'), file: 's3://b/x/advisors-2.csv', line: 8 },
    ], 0.05);
    expect(reading.rejects.map((r) => [r.file, r.line])).toEqual([
      ['s3://b/x/advisors-1.csv', 2],
      ['s3://b/x/advisors-2.csv', 7],
    ]);
    expect(reading.rejects[0]?.reason).toContain('(advisors-1.csv:2, advisors-2.csv:7) that disagree on email');
  });

  it('never lets one row decide an advisor its other rows contradict, and loses no advisor whose rows agree (property)', () => {
    // A field a row leaves empty is absent from its record.
    const record: fc.Arbitrary<AdvisorRecord> = fc.record(
      {
        advisorId: fc.constantFrom('A', 'B', 'C'),
        name: fc.constantFrom('Ann', 'Bo'),
        email: fc.constantFrom('x@example.com', 'y@example.com'),
        store: fc.constantFrom('Paris', 'Lyon'),
        active: fc.boolean(),
      },
      { requiredKeys: ['advisorId', 'active'] },
    );
    const storedArb = fc.uniqueArray(record, { selector: (r) => r.advisorId });
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 8 }), storedArb, (records, storedAdvisors) => {
        const reading = rosterOfNight([report({ rows: records.length })], rows(...records), 0.05, { runDate: '2026-11-22', advisors: storedAdvisors });
        const ids = [...new Set(records.map((r) => r.advisorId))];
        for (const id of ids) {
          const mine = records.filter((r) => r.advisorId === id);
          const agree = (['name', 'email', 'store', 'active'] as const).every((f) => new Set(mine.map((r) => r[f]).filter((v) => v !== undefined)).size <= 1);
          const rejected = reading.rejects.filter((r) => mine.length > 0 && records[r.line - 2]?.advisorId === id).length;
          const used = reading.use ? reading.advisors.find((a) => a.advisorId === id) : undefined;
          if (agree) {
            // One advisor, every given field kept, nothing rejected.
            if (rejected !== 0) return false;
            if (reading.use && (used === undefined || mine.some((r) => Object.entries(r).some(([f, v]) => f !== 'active' && used[f as keyof AdvisorRecord] === undefined && v !== undefined)))) return false;
          } else {
            // Every row rejected; tonight's rows never decide: the stored entry or nothing.
            if (rejected !== mine.length) return false;
            if (reading.use && JSON.stringify(used) !== JSON.stringify(storedAdvisors.find((a) => a.advisorId === id))) return false;
          }
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });

  it('knows the roster’s advisors and those only the config names; the roster wins', () => {
    const config = parseConfig({ reports: { advisors: { A: { email: 'a.config@example.com' }, C: { email: 'c@example.com', name: 'Cara', locale: 'zh-CN' } } } });
    const known = knownAdvisors({ runDate: '2026-11-22', advisors: [advisor('A', { active: false }), advisor('B')] }, config);
    expect([...known.keys()].sort()).toEqual(['A', 'B', 'C']);
    expect(known.get('A')).toMatchObject({ active: false, email: 'A@example.com' });
    expect(known.get('C')).toEqual({ advisorId: 'C', name: 'Cara', email: 'c@example.com', locale: 'zh-CN', active: true });
  });
});
