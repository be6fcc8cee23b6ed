import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { BENCH_AS_OF } from './exports.ts';

/**
 * The bench's results files: one JSON per run in bench-results/ (committed), named by the run's
 * start and the commit it measured, with the machine it ran on, so figures can be traced to code.
 */

export const RESULTS_DIR = 'bench-results';

export interface CommitInfo {
  /** `git rev-parse HEAD`, or 'unknown' outside a git checkout. */
  id: string;
  /** Tracked files differed from the commit: the figures are of uncommitted code. */
  dirty: boolean;
}

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryBytes: number;
  node: string;
  platform: string;
  /** 1, 5 and 15 minute load averages when the results were written: other work on the machine slows every figure. */
  loadAverage: number[];
}

/** The commit the working tree is at (untracked files, such as a node_modules link, do not count as changes). */
export function currentCommit(cwd = process.cwd()): CommitInfo {
  try {
    const id = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return { id, dirty: status.trim() !== '' };
  } catch {
    return { id: 'unknown', dirty: false };
  }
}

export function machineInfo(): MachineInfo {
  const cpuList = cpus();
  return {
    cpus: cpuList.length,
    cpuModel: cpuList[0]?.model ?? 'unknown',
    memoryBytes: totalmem(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    loadAverage: loadavg().map((load) => Math.round(load * 100) / 100),
  };
}

/** What every results file starts with: when, which code, on what machine, which export. */
export function resultHeader(startedAt: Date, commit: CommitInfo, seed: number) {
  return { date: startedAt.toISOString(), commit, machine: machineInfo(), asOf: BENCH_AS_OF, seed };
}

/** bench-results/<prefix>-2026-12-03T07-10-00-000Z-1a2b3c4d.json */
export function resultFileName(prefix: string, startedAt: Date, commit: CommitInfo): string {
  const short = commit.id === 'unknown' ? 'unknown' : commit.id.slice(0, 8);
  return `${prefix}-${startedAt.toISOString().replace(/[:.]/g, '-')}-${short}.json`;
}

/** Writes the report to `out`, or to bench-results/ under its generated name; returns the path. */
export async function writeResultFile(report: { date: string; commit: CommitInfo }, prefix: string, out?: string): Promise<string> {
  const path = resolve(out ?? join(RESULTS_DIR, resultFileName(prefix, new Date(report.date), report.commit)));
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}
