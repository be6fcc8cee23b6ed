import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { RESULTS_DIR } from './results.ts';

/**
 * The README's benchmark table, regenerated from the results files (`npm run bench:table`):
 * per size and per stage, the figures of the latest run that measured that stage at that size,
 * so a run of one stage alone (the DynamoDB first load at 1M) updates its rows and leaves the
 * others to the run that measured them. Each file used is named under the table with its commit.
 * Stages a file does not have, or does not know yet, are left out of it without complaint.
 */

export const TABLE_START = '<!-- bench-table:start -->';
export const TABLE_END = '<!-- bench-table:end -->';

const nightlyRun = z.object({
  itemsWritten: z.number(),
  itemsPerSecond: z.number(),
  wallMs: z.number(),
  profilesWritten: z.number().optional(),
  tierHistoryWritten: z.number().optional(),
  /** Absent or true: the run finished; false: stopped at the time box with itemsWritten done. */
  completed: z.boolean().optional(),
  itemsPlanned: z.number().optional(),
});

const sizeFigures = z.object({
  clients: z.number(),
  orderLines: z.number().optional(),
  tiering: z
    .object({
      wallMs: z.number(),
      readMs: z.number(),
      computeMs: z.number(),
      rowsPerSecond: z.number(),
      peakRssBytes: z.number(),
      // For the cost estimate (cost.ts).
      meanProfileItemBytes: z.number().optional(),
      tiers: z.record(z.string(), z.number()).optional(),
    })
    .optional(),
  shard: z
    .object({
      of: z.number(),
      clients: z.number(),
      wallMs: z.number(),
      peakRssBytes: z.number(),
      // Since shards read only their share: the two steps (older results have neither).
      repartition: z.object({ wallMs: z.number(), peakRssBytes: z.number() }).optional(),
      bucket: z.object({ wallMs: z.number(), peakRssBytes: z.number() }).optional(),
      // Since the bench measures the process floor (older results have none).
      processFloorRssBytes: z.number().optional(),
      slowestRepartitionMs: z.number().optional(),
      // Since a plan may have more readers than shards (older results: as many).
      readers: z.number().optional(),
    })
    .optional(),
  duckdb: z.object({ wallMs: z.number(), ratio: z.number(), equal: z.boolean() }).optional(),
  clv: z.object({ summariesMs: z.number(), fitMs: z.number() }).optional(),
  dynamodb: z
    .union([
      z.object({ first: nightlyRun.optional(), rerun: nightlyRun.optional(), onePercent: nightlyRun.extend({ clientsChanged: z.number() }).optional() }),
      z.object({ skipped: z.string() }),
    ])
    .optional(),
});

const hourlyRun = z.object({ itemsRead: z.number(), clientsDue: z.number(), wallMs: z.number() });
const hourlySenderFigures = z.object({
  clients: z.number(),
  due: z.number(),
  inOpenWindows: z.number().optional(),
  fullScan: hourlyRun.optional(),
  indexed: hourlyRun,
  readShare: z.number(),
});

const benchReport = z.object({
  date: z.string(),
  /** Files written before commits were recorded have none. */
  commit: z.object({ id: z.string(), dirty: z.boolean() }).optional(),
  machine: z.object({ cpus: z.number(), cpuModel: z.string(), node: z.string(), loadAverage: z.array(z.number()).optional() }).optional(),
  sizes: z.array(sizeFigures),
  sender: z
    .object({ maxSendRate: z.number(), profiles: z.number(), sent: z.number(), emailsPerSecond: z.number(), maxObservedRate: z.number() })
    .optional(),
  hourlySender: z.array(hourlySenderFigures).optional(),
});

export type BenchReport = z.infer<typeof benchReport>;
export type SizeFigures = z.infer<typeof sizeFigures>;
export interface ResultFile {
  file: string;
  report: BenchReport;
}

/** A results file's JSON, validated: only the fields the table shows are read. */
export function parseBenchReport(json: unknown, file: string): BenchReport {
  const parsed = benchReport.safeParse(json);
  if (!parsed.success) throw new Error(`${file} is not a bench results file: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

type DynamoDbRuns = Extract<NonNullable<SizeFigures['dynamodb']>, { first?: unknown }>;
const dynamoDbRuns = (size: SizeFigures): DynamoDbRuns | undefined => (size.dynamodb && !('skipped' in size.dynamodb) ? size.dynamodb : undefined);

/** Each stage's figures in a size's results; the DynamoDB runs are stages of their own (a first load may be run alone). */
const STAGES = {
  tiering: (size: SizeFigures) => size.tiering,
  shard: (size: SizeFigures) => size.shard,
  duckdb: (size: SizeFigures) => size.duckdb,
  clv: (size: SizeFigures) => size.clv,
  'dynamodb first run': (size: SizeFigures) => dynamoDbRuns(size)?.first,
  'dynamodb rerun': (size: SizeFigures) => dynamoDbRuns(size)?.rerun,
  'dynamodb 1% run': (size: SizeFigures) => dynamoDbRuns(size)?.onePercent,
} as const;
type Stage = keyof typeof STAGES;

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const sec = (ms: number) => `${fmt(ms / 1000, 1)} s`;
const mb = (bytes: number) => `${fmt(bytes / 1024 / 1024)} MB`;

type NightlyRun = z.infer<typeof nightlyRun>;
function firstLoad(run: NightlyRun): string {
  const pace = `${fmt(run.itemsWritten)} items, ${fmt(run.itemsPerSecond)} items/s`;
  if (run.completed !== false) return pace;
  // A time-boxed run counts profiles only (they are written first; dynamodb-load.ts).
  const of = run.itemsPlanned === undefined ? '' : ` of ${fmt(run.itemsPlanned)}`;
  return `stopped by its time box at ${sec(run.wallMs)}: ${fmt(run.itemsWritten)}${of} profiles written, ${fmt(run.itemsPerSecond)} profiles/s`;
}

const ROWS: { stage: Stage; label: string; cell: (size: MergedSize) => string | undefined }[] = [
  {
    stage: 'tiering',
    label: 'tiering wall (read+parse+aggregate / profiles+tiers)',
    cell: ({ tiering: t }) => t && `${sec(t.wallMs)} (${sec(t.readMs)} / ${sec(t.computeMs)}), ${fmt(t.rowsPerSecond)} rows/s`,
  },
  { stage: 'tiering', label: 'tiering peak RSS, one process', cell: ({ tiering: t }) => t && mb(t.peakRssBytes) },
  {
    stage: 'shard',
    label: 'one shard of N, alone',
    cell: ({ shard: s }) =>
      s &&
      `${fmt(s.clients)} clients (1 of ${s.of}), ${sec(s.wallMs)}, ${mb(s.peakRssBytes)}` +
        (s.repartition && s.bucket ? ` (its share ${sec(s.repartition.wallMs)}, its bucket ${sec(s.bucket.wallMs)})` : '') +
        (s.slowestRepartitionMs === undefined ? '' : `; the slowest of ${s.readers ?? s.of} readers ${sec(s.slowestRepartitionMs)}`) +
        (s.processFloorRssBytes === undefined ? '' : `; a process holds ${mb(s.processFloorRssBytes)} before reading`),
  },
  {
    stage: 'duckdb',
    label: 'DuckDB, same aggregation',
    cell: ({ duckdb: d }) => d && `${sec(d.wallMs)}: ours ${fmt(d.ratio, 1)}x; results ${d.equal ? 'equal' : 'DIFFERENT'}`,
  },
  { stage: 'clv', label: 'CLV summaries + fit', cell: ({ clv: c }) => c && `${sec(c.summariesMs)} + ${sec(c.fitMs)}` },
  {
    stage: 'dynamodb first run',
    label: 'DynamoDB Local, first run (profiles + tier history)',
    cell: ({ dynamodb: d }) => d.first && firstLoad(d.first),
  },
  { stage: 'dynamodb rerun', label: 'rerun of the same export', cell: ({ dynamodb: d }) => d.rerun && `${fmt(d.rerun.itemsWritten)} items` },
  {
    stage: 'dynamodb 1% run',
    label: 'next night, 1% of clients changed',
    cell: ({ dynamodb: { onePercent: run } }) =>
      run &&
      `${fmt(run.clientsChanged)} clients: ${fmt(run.itemsWritten)} items` +
        (run.profilesWritten !== undefined && run.tierHistoryWritten !== undefined
          ? ` (${fmt(run.profilesWritten)} profiles + ${fmt(run.tierHistoryWritten)} history records)`
          : ''),
  },
];

interface Picked {
  file: string;
  report: BenchReport;
  size: SizeFigures;
}

/** One size's figures, each stage from the latest run that measured it. */
export type MergedSize = Omit<SizeFigures, 'dynamodb'> & { dynamodb: Partial<DynamoDbRuns> };

export interface LatestFigures {
  /** Sizes measured, ascending. */
  sizes: number[];
  /** By size, then stage: the latest run's figures. */
  picked: Map<number, Map<Stage, Picked>>;
  /** The latest run with a sender stage. */
  sender?: ResultFile;
  /** By base size, the latest run's hourly sender figures. */
  hourly: Map<number, { result: ResultFile; figures: z.infer<typeof hourlySenderFigures> }>;
}

const byDate = (a: ResultFile, b: ResultFile) => a.report.date.localeCompare(b.report.date) || a.file.localeCompare(b.file);

export function latestFigures(files: readonly ResultFile[]): LatestFigures {
  const picked = new Map<number, Map<Stage, Picked>>();
  let sender: ResultFile | undefined;
  const hourly: LatestFigures['hourly'] = new Map();
  // Oldest first: a later run's stage replaces an earlier one's.
  for (const result of [...files].sort(byDate)) {
    if (result.report.sender) sender = result;
    for (const figures of result.report.hourlySender ?? []) hourly.set(figures.clients, { result, figures });
    for (const size of result.report.sizes) {
      const stages = picked.get(size.clients) ?? new Map<Stage, Picked>();
      for (const stage of Object.keys(STAGES) as Stage[]) if (STAGES[stage](size) !== undefined) stages.set(stage, { ...result, size });
      if (stages.size > 0) picked.set(size.clients, stages);
    }
  }
  return { sizes: [...picked.keys()].sort((a, b) => a - b), picked, hourly, ...(sender ? { sender } : {}) };
}

/** The sizes' figures put together from the latest run of each stage. */
export function mergedSizes(latest: LatestFigures): MergedSize[] {
  return latest.sizes.map((clients) => {
    const stages = latest.picked.get(clients) ?? new Map<Stage, Picked>();
    const of = (stage: Stage) => stages.get(stage)?.size;
    const orderLines = [...stages.values()].map((p) => p.size.orderLines).find((n) => n !== undefined);
    const dynamodb: Partial<DynamoDbRuns> = {};
    const first = of('dynamodb first run');
    const rerun = of('dynamodb rerun');
    const onePercent = of('dynamodb 1% run');
    if (first) dynamodb.first = STAGES['dynamodb first run'](first);
    if (rerun) dynamodb.rerun = STAGES['dynamodb rerun'](rerun);
    if (onePercent) dynamodb.onePercent = STAGES['dynamodb 1% run'](onePercent);
    return {
      clients,
      ...(orderLines === undefined ? {} : { orderLines }),
      ...(of('tiering') ? { tiering: of('tiering')?.tiering } : {}),
      ...(of('shard') ? { shard: of('shard')?.shard } : {}),
      ...(of('duckdb') ? { duckdb: of('duckdb')?.duckdb } : {}),
      ...(of('clv') ? { clv: of('clv')?.clv } : {}),
      dynamodb,
    };
  });
}

function describeRun(result: ResultFile): string {
  const { commit, machine, date } = result.report;
  const code = commit ? `commit ${commit.id === 'unknown' ? 'unknown' : commit.id.slice(0, 8)}${commit.dirty ? ' with uncommitted changes' : ''}` : 'commit not recorded';
  const load = machine?.loadAverage?.[2] === undefined ? '' : `, load average ${machine.loadAverage[2]} over the last 15 min`;
  const on = machine ? `, ${machine.cpus} CPUs (${machine.cpuModel}), Node ${machine.node.replace(/^v/, '')}${load}` : '';
  return `\`${result.file}\` (${date.slice(0, 10)}, ${code}${on})`;
}

/** The markdown between the README's markers: the table, the sender's line, the files it came from. */
export function renderBenchTable(latest: LatestFigures): string {
  const { sizes, picked } = latest;
  if (sizes.length === 0) return '_No bench results yet: run `npm run bench`._';
  const lines: string[] = [];
  const merged = mergedSizes(latest);
  const header = merged.map(({ clients, orderLines }) => `${fmt(clients)} clients${orderLines === undefined ? '' : ` (${fmt(orderLines)} order lines)`}`);
  lines.push(`| | ${header.join(' | ')} |`, `| --- |${sizes.map(() => ' --- |').join('')}`);
  for (const row of ROWS) {
    const cells = merged.map((size) => row.cell(size) ?? '–');
    if (cells.some((cell) => cell !== '–')) lines.push(`| ${row.label} | ${cells.join(' | ')} |`);
  }
  const sender = latest.sender?.report.sender;
  if (sender) {
    lines.push(
      '',
      `Sender at maxSendRate ${sender.maxSendRate}: ${fmt(sender.sent)}/${fmt(sender.profiles)} sent, ${fmt(sender.emailsPerSecond, 1)} emails/s, ` +
        `at most ${fmt(sender.maxObservedRate)} calls in any 1 s window.`,
    );
  }
  const hourly = [...latest.hourly.values()].sort((a, b) => a.figures.clients - b.figures.clients);
  if (hourly.length > 0) lines.push('');
  for (const { figures: h } of hourly) {
    const before = h.fullScan ? `; the full-scan hour before it read ${fmt(h.fullScan.itemsRead)} in ${sec(h.fullScan.wallMs)}` : '';
    const open = h.inOpenWindows === undefined ? '' : ` and ${fmt(h.inOpenWindows)} more in an open send window with nothing left to do (sent already, or out of the audience)`;
    lines.push(
      `Hourly sender, ${fmt(h.clients)} clients, ${fmt(h.due)} due (1%)${open}: through the due index ${fmt(h.indexed.itemsRead)} profiles read ` +
        `(${fmt(h.readShare * 100, 2)}% of the base) in ${sec(h.indexed.wallMs)}${before}.`,
    );
  }
  // Which file each column's stages came from, grouped by file.
  const sources = new Map<string, { result: ResultFile; parts: string[] }>();
  for (const clients of sizes) {
    for (const [stage, from] of picked.get(clients) ?? []) {
      const entry = sources.get(from.file) ?? { result: from, parts: [] };
      entry.parts.push(`${stage} at ${fmt(clients)}`);
      sources.set(from.file, entry);
    }
  }
  if (latest.sender) {
    const entry = sources.get(latest.sender.file) ?? { result: latest.sender, parts: [] };
    entry.parts.push('sender');
    sources.set(latest.sender.file, entry);
  }
  for (const { result, figures } of hourly) {
    const entry = sources.get(result.file) ?? { result, parts: [] };
    entry.parts.push(`hourly sender at ${fmt(figures.clients)}`);
    sources.set(result.file, entry);
  }
  lines.push('', 'From:');
  for (const { result, parts } of [...sources.values()].sort((a, b) => byDate(a.result, b.result))) lines.push(`- ${describeRun(result)}: ${parts.join(', ')}`);
  return lines.join('\n');
}

/** `readme` with the text between the markers replaced by `table`; the markers must be there once. */
export function replaceBenchTable(readme: string, table: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start || readme.indexOf(TABLE_START, start + 1) >= 0) {
    throw new Error(`the README needs one ${TABLE_START} ... ${TABLE_END} pair around the benchmark table`);
  }
  return `${readme.slice(0, start + TABLE_START.length)}\n${table}\n${readme.slice(end)}`;
}

/** Every results file in `dir` (bench-*.json and the other stages' files alike). */
export async function readResultFiles(dir: string): Promise<ResultFile[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.json')).sort();
  return Promise.all(names.map(async (file) => ({ file, report: parseBenchReport(JSON.parse(await readFile(join(dir, file), 'utf8')), file) })));
}

// `tsx local/bench/readme-table.ts [README.md] [results dir]` (npm run bench:table).
if (import.meta.url === `file://${process.argv[1]}`) {
  const [readmePath = 'README.md', dir = RESULTS_DIR] = process.argv.slice(2);
  const table = renderBenchTable(latestFigures(await readResultFiles(dir)));
  await writeFile(readmePath, replaceBenchTable(await readFile(readmePath, 'utf8'), table));
  console.log(`${readmePath}: benchmark table regenerated from ${dir}/`);
}
