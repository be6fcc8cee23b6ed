import { describe, expect, it } from 'vitest';
import { latestFigures, parseBenchReport, renderBenchTable, replaceBenchTable, TABLE_END, TABLE_START, type ResultFile } from '#local/bench/readme-table.ts';

const machine = { cpus: 2, cpuModel: 'AMD EPYC', memoryBytes: 1, node: 'v24.22.3', platform: 'linux-x64', loadAverage: [1.5, 1.2, 0.9] };
const tiering = (wallMs: number) => ({ wallMs, readMs: wallMs - 1_000, computeMs: 1_000, rowsPerSecond: 40_000, peakRssBytes: 400 * 1024 * 1024, rows: 1 });
const nightly = (itemsWritten: number) => ({ itemsWritten, itemsPerSecond: 2_000, wallMs: 100_000, writeMs: 90_000, profilesWritten: itemsWritten / 2, tierHistoryWritten: itemsWritten / 2 });

const resultFile = (file: string, json: unknown): ResultFile => ({ file, report: parseBenchReport(json, file) });

/** A full run at 100k and 1M (DynamoDB skipped at 1M) of 1 December. */
const fullRun = resultFile('bench-2026-12-01T10-00-00-000Z-aaaaaaaa.json', {
  date: '2026-12-01T10:00:00.000Z',
  commit: { id: 'a'.repeat(40), dirty: false },
  machine,
  sizes: [
    {
      clients: 100_000,
      orderLines: 946_980,
      tiering: tiering(20_000),
      clv: { summariesMs: 400, fitMs: 1_500 },
      dynamodb: { first: nightly(200_000), rerun: nightly(0), onePercent: { ...nightly(4_000), clientsChanged: 1_000 } },
    },
    { clients: 1_000_000, orderLines: 9_460_000, tiering: tiering(300_000), clv: { summariesMs: 5_000, fitMs: 4_300 }, dynamodb: { skipped: 'above --dynamodb-max' } },
  ],
  sender: { maxSendRate: 50, profiles: 300, sent: 300, failed: 0, wallMs: 9_000, emailsPerSecond: 33.3, maxObservedRate: 48, withinRate: true },
});

/** A later run of the DynamoDB first load alone at 1M, stopped by its time box, with a stage the table does not know. */
const loadRun = resultFile('dynamodb-load-2026-12-02T10-00-00-000Z-bbbbbbbb.json', {
  date: '2026-12-02T10:00:00.000Z',
  commit: { id: 'b'.repeat(40), dirty: true },
  machine,
  sizes: [{ clients: 1_000_000, dynamodb: { first: { ...nightly(600_000), completed: false, itemsPlanned: 2_000_000 } }, hourlySender: { sent: 5 } }],
});

describe('the README benchmark table', () => {
  it('takes each stage at each size from the latest run that measured it, and names the files', () => {
    const table = renderBenchTable(latestFigures([loadRun, fullRun]));
    const rows = table.split('\n');
    expect(rows[0]).toBe('| | 100,000 clients (946,980 order lines) | 1,000,000 clients (9,460,000 order lines) |');
    expect(table).toContain('| CLV summaries + fit | 0.4 s + 1.5 s | 5.0 s + 4.3 s |');
    // 1M's DynamoDB row from the later run, stopped by its time box; 100k's from the full run.
    expect(table).toContain(
      '| DynamoDB Local, first run (profiles + tier history) | 200,000 items, 2,000 items/s | stopped by its time box at 100.0 s: 600,000 of 2,000,000 profiles written, 2,000 profiles/s |',
    );
    // Stages no run measured at a size are a dash; rows no run measured at all are left out.
    expect(table).toContain('| rerun of the same export | 0 items | – |');
    expect(table).not.toContain('DuckDB');
    expect(table).not.toContain('one shard');
    expect(table).toContain('Sender at maxSendRate 50: 300/300 sent, 33.3 emails/s, at most 48 calls in any 1 s window.');
    expect(table).toContain(
      '- `bench-2026-12-01T10-00-00-000Z-aaaaaaaa.json` (2026-12-01, commit aaaaaaaa, 2 CPUs (AMD EPYC), Node 24.22.3, load average 0.9 over the last 15 min): tiering at 100,000, clv at 100,000, dynamodb first run at 100,000, dynamodb rerun at 100,000, dynamodb 1% run at 100,000, tiering at 1,000,000, clv at 1,000,000, sender',
    );
    expect(table).toContain('- `dynamodb-load-2026-12-02T10-00-00-000Z-bbbbbbbb.json` (2026-12-02, commit bbbbbbbb with uncommitted changes, 2 CPUs (AMD EPYC), Node 24.22.3, load average 0.9 over the last 15 min): dynamodb first run at 1,000,000');
  });

  it('shows one shard of N with its two steps when the run measured them, and without them for older results', () => {
    const shard = { of: 4, clients: 250_000, wallMs: 40_000, peakRssBytes: 700 * 1024 * 1024 };
    const run = (file: string, figures: object) =>
      resultFile(file, { date: '2026-12-03T10:00:00.000Z', commit: { id: 'c'.repeat(40), dirty: false }, machine, sizes: [{ clients: 1_000_000, tiering: tiering(100_000), shard: figures }] });
    const steps = { ...shard, repartition: { wallMs: 25_000, peakRssBytes: 300 * 1024 * 1024, bytes: 1, files: 1, rows: 1 }, bucket: { wallMs: 15_000, peakRssBytes: 700 * 1024 * 1024, readMs: 1, computeMs: 1 }, slowestRepartitionMs: 30_000 };
    expect(renderBenchTable(latestFigures([run('bench-2026-12-03T10-00-00-000Z-cccccccc.json', steps)]))).toContain(
      '| one shard of N, alone | 250,000 clients (1 of 4), 40.0 s, 700 MB (its share 25.0 s, its bucket 15.0 s); the slowest of 4 readers 30.0 s |',
    );
    // Since a plan may have more readers than shards, the run says how many.
    expect(renderBenchTable(latestFigures([run('bench-2026-12-03T10-00-00-000Z-cccccccc.json', { ...steps, readers: 5 })]))).toContain('; the slowest of 5 readers 30.0 s |');
    expect(renderBenchTable(latestFigures([run('bench-2026-12-03T10-00-00-000Z-cccccccc.json', shard)]))).toContain('| one shard of N, alone | 250,000 clients (1 of 4), 40.0 s, 700 MB |');
  });

  it('keeps the rerun and 1% rows of a size when a later run measured its first load alone', () => {
    const laterLoad: ResultFile = { file: 'dynamodb-load-later.json', report: { ...loadRun.report, date: '2026-12-03T00:00:00.000Z', sizes: [{ ...loadRun.report.sizes[0]!, clients: 100_000 }] } };
    const table = renderBenchTable(latestFigures([fullRun, laterLoad]));
    expect(table).toContain('| DynamoDB Local, first run (profiles + tier history) | stopped by its time box at 100.0 s: 600,000 of 2,000,000 profiles written, 2,000 profiles/s | – |');
    expect(table).toContain('| next night, 1% of clients changed | 1,000 clients: 4,000 items (2,000 profiles + 2,000 history records) | – |');
  });

  it('adds a line per hourly sender base size, from the latest run that measured it', () => {
    const hourlyRun = (id: string, date: string, hourlySender: unknown[]) =>
      resultFile(`bench-${id}.json`, { date, commit: { id: id.repeat(40).slice(0, 40), dirty: false }, machine, sizes: [], hourlySender });
    const indexed = (itemsRead: number, wallMs: number) => ({ mode: 'index', itemsRead, clientsDue: itemsRead, wallMs });
    const early = hourlyRun('c', '2026-12-01T00:00:00.000Z', [{ clients: 100_000, due: 1_000, loadMs: 1, fullScan: { mode: 'full-scan', itemsRead: 100_000, clientsDue: 0, wallMs: 47_000 }, indexed: indexed(1_000, 3_200), readShare: 0.01 }]);
    const later = hourlyRun('d', '2026-12-02T00:00:00.000Z', [{ clients: 1_000_000, due: 10_000, loadMs: 1, indexed: indexed(10_000, 30_000), readShare: 0.01 }]);
    const table = renderBenchTable(latestFigures([later, early, fullRun]));
    expect(table).toContain('Hourly sender, 100,000 clients, 1,000 due (1%): through the due index 1,000 profiles read (1.00% of the base) in 3.2 s; the full-scan hour before it read 100,000 in 47.0 s.');
    expect(table).toContain('Hourly sender, 1,000,000 clients, 10,000 due (1%): through the due index 10,000 profiles read (1.00% of the base) in 30.0 s.');
    expect(table).toContain('`bench-d.json` (2026-12-02, commit dddddddd, 2 CPUs (AMD EPYC), Node 24.22.3, load average 0.9 over the last 15 min): hourly sender at 1,000,000');
  });

  it('reads files written before commits were recorded, and says so', () => {
    const old = resultFile('bench-old.json', { date: '2026-11-23T00:00:00.000Z', sizes: [{ clients: 100_000, tiering: tiering(25_000) }] });
    expect(renderBenchTable(latestFigures([old]))).toContain('`bench-old.json` (2026-11-23, commit not recorded): tiering at 100,000');
  });

  it('says there are no results rather than rendering an empty table', () => {
    expect(renderBenchTable(latestFigures([]))).toBe('_No bench results yet: run `npm run bench`._');
  });

  it('rejects a file that is not a results file, naming it', () => {
    expect(() => parseBenchReport({ sizes: 'many' }, 'bench-x.json')).toThrow(/bench-x\.json is not a bench results file/);
  });

  it('replaces what is between the markers and nothing else', () => {
    const readme = `# Title\n\nbefore\n${TABLE_START}\nold table\n${TABLE_END}\nafter\n`;
    expect(replaceBenchTable(readme, '| new |')).toBe(`# Title\n\nbefore\n${TABLE_START}\n| new |\n${TABLE_END}\nafter\n`);
    // Idempotent: regenerating with the same figures changes nothing.
    const once = replaceBenchTable(readme, '| new |');
    expect(replaceBenchTable(once, '| new |')).toBe(once);
    expect(() => replaceBenchTable('# no markers\n', '| new |')).toThrow(/bench-table:start/);
    expect(() => replaceBenchTable(`${TABLE_START}\n${TABLE_END}\n${TABLE_START}\n${TABLE_END}\n`, 'x')).toThrow(/one/);
  });
});
