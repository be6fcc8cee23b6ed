import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateExport, type GenerateSummary } from '#local/generate/generate.ts';

/** The export date of every bench run; the run date of the nightly is the same day. */
export const BENCH_AS_OF = '2026-11-23';

export interface BenchExport {
  dir: string;
  summary: GenerateSummary;
  /** Wall time of the generation, or undefined when a cached copy was reused. */
  generatedMs?: number;
}

/** Where the export for (customers, seed) is cached between bench runs. */
export function benchExportRoot(customers: number, seed: number): string {
  return join(tmpdir(), `clientele-bench-${BENCH_AS_OF}-n${customers}-s${seed}`);
}

/**
 * The generated export for `customers` clients, reused from os.tmpdir() when a complete copy is
 * there (the summary file is written last, so a half-written export is never reused).
 */
export async function benchExport(customers: number, seed: number, log: (line: string) => void): Promise<BenchExport> {
  const root = benchExportRoot(customers, seed);
  const dir = join(root, 'export');
  const summaryFile = join(root, 'summary.json');
  if (existsSync(summaryFile)) {
    const summary = JSON.parse(await readFile(summaryFile, 'utf8')) as GenerateSummary;
    log(`reusing the export of ${customers.toLocaleString('en-US')} clients in ${dir}`);
    return { dir, summary };
  }
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  log(`generating ${customers.toLocaleString('en-US')} clients into ${dir} ...`);
  const started = performance.now();
  const summary = await generateExport({ customers, seed, asOf: BENCH_AS_OF, orderParts: 4, gzip: false }, dir);
  const generatedMs = performance.now() - started;
  await writeFile(summaryFile, JSON.stringify(summary, null, 2));
  return { dir, summary, generatedMs };
}

// `tsx local/bench/exports.ts 1000000` pre-generates (and caches) an export.
if (import.meta.url === `file://${process.argv[1]}`) {
  const sizes = (process.argv[2] ?? '100000').split(',').map(Number);
  for (const n of sizes) {
    const result = await benchExport(n, 1, (line) => console.error(line));
    console.error(`${n}: ${result.summary.orderLines} lines in ${result.generatedMs?.toFixed(0) ?? 'cached'} ms`);
  }
}
