import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The dependency rules of design.md, checked on the source itself: rules <- stores and readers <-
 * orchestrators <- handlers, CLI and infra; no import cycle between files or between folders; no
 * DynamoDB or S3 call outside shared/store and shared/aws.
 */

const ROOT = normalize(join(dirname(fileURLToPath(import.meta.url)), '..', '..'));

/** The layer of each part of the code; a file may import its own layer or lower ones. */
const LAYERS: Record<string, number> = {
  // Rules: pure decisions and their data, no I/O.
  'shared/model.ts': 0,
  'shared/money.ts': 0,
  'shared/time.ts': 0,
  'shared/locale.ts': 0,
  'shared/email.ts': 0,
  'shared/log.ts': 0,
  'shared/errors.ts': 0,
  'shared/alerts.ts': 0,
  'shared/config.ts': 0,
  'shared/text-hash.ts': 0,
  'shared/display-text.ts': 0,
  'shared/percent.ts': 0,
  'shared/zod-issues.ts': 0,
  'shared/releasable-memory.ts': 0,
  'shared/dictionary.ts': 0,
  'shared/tiering': 0,
  'shared/segments': 0,
  'shared/campaigns': 0,
  'shared/campaign-results': 0,
  'shared/clv': 0,
  'shared/advisors': 0,
  'shared/templates': 0,
  'shared/reports': 0,
  // Stores, readers and senders: the adapters, each taking its client as an argument.
  'shared/environment.ts': 1,
  'shared/aws': 1,
  'shared/store': 1,
  'shared/exports': 1,
  'shared/delivery': 1,
  // Orchestrators: a job's steps over rules and adapters.
  'shared/nightly': 2,
  'shared/sender': 2,
  'shared/digests': 2,
  'shared/feedback': 2,
  'shared/unsubscribe': 2,
  'shared/forget': 2,
  'shared/observability': 2,
  // Entry points.
  functions: 3,
  local: 3,
  infra: 3,
};

const SOURCE_FOLDERS = ['shared', 'functions', 'local', 'infra'];

function sourceFiles(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(ts|mts)$/.test(entry.name) && !entry.name.endsWith('.d.ts'))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
}

/** The part of the code a file belongs to: the longest LAYERS key that contains it. */
function partOf(file: string): string {
  const keys = Object.keys(LAYERS).filter((key) => file === key || file.startsWith(`${key}/`));
  const part = keys.sort((a, b) => b.length - a.length)[0];
  if (part === undefined) throw new Error(`${file} belongs to no layer: add its folder to LAYERS`);
  return part;
}

/** A shared/ file's folder (or the file itself at the top of shared/); the entry points as one part each. */
function folderOf(file: string): string {
  const parts = file.split('/');
  if (parts[0] !== 'shared') return parts[0] as string;
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : file;
}

const IMPORT = /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

interface ImportEdge {
  from: string;
  to: string;
  typeOnly: boolean;
  specifier: string;
}

function importsOf(file: string): ImportEdge[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const edges: ImportEdge[] = [];
  for (const match of text.matchAll(IMPORT)) {
    const specifier = match[3] ?? match[4];
    if (!specifier) continue;
    const typeOnly = match[2] !== undefined;
    let target: string | undefined;
    if (specifier.startsWith('#')) target = normalize(specifier.slice(1));
    else if (specifier.startsWith('.')) target = normalize(join(dirname(file), specifier));
    edges.push({ from: file, to: target ?? specifier, typeOnly, specifier });
  }
  return edges;
}

const files = SOURCE_FOLDERS.flatMap(sourceFiles);
const edges = files.flatMap(importsOf);
const internal = edges.filter((e) => files.includes(e.to));

function findCycle(nodes: readonly string[], next: (node: string) => string[]): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'visiting') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'visiting');
    stack.push(node);
    for (const target of next(node)) {
      const cycle = visit(target);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of nodes) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

describe('architecture', () => {
  it('reads the whole source tree', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(internal.length).toBeGreaterThan(300);
  });

  it('every import points to the same layer or a lower one', () => {
    const upward = internal
      .filter((e) => LAYERS[partOf(e.to)]! > LAYERS[partOf(e.from)]!)
      .map((e) => `${e.from} -> ${e.to}`);
    expect(upward).toEqual([]);
  });

  it('no import cycle between files', () => {
    const byFile = new Map<string, string[]>();
    for (const e of internal) byFile.set(e.from, [...(byFile.get(e.from) ?? []), e.to]);
    expect(findCycle(files, (file) => byFile.get(file) ?? [])).toBeUndefined();
  });

  it('no import cycle between folders', () => {
    const byFolder = new Map<string, Set<string>>();
    for (const e of internal) {
      const [from, to] = [folderOf(e.from), folderOf(e.to)];
      if (from === to) continue;
      byFolder.set(from, (byFolder.get(from) ?? new Set()).add(to));
    }
    const folders = [...new Set(files.map(folderOf))];
    expect(findCycle(folders, (folder) => [...(byFolder.get(folder) ?? [])])).toBeUndefined();
  });

  it('DynamoDB and S3 are called only from shared/store and shared/aws (other code imports their types)', () => {
    const raw = edges
      .filter((e) => /^@aws-sdk\/(client-dynamodb|lib-dynamodb|client-s3|lib-storage)$/.test(e.specifier) && !e.typeOnly)
      .filter((e) => !e.from.startsWith('shared/store/') && !e.from.startsWith('shared/aws/'))
      .map((e) => `${e.from} imports ${e.specifier}`);
    expect(raw).toEqual([]);
  });

  it('rules do no I/O: no AWS SDK, file system or network module in layer 0', () => {
    const io = edges
      .filter((e) => LAYERS[partOf(e.from)] === 0 && !e.typeOnly)
      .filter((e) => /^(@aws-sdk\/|node:(fs|net|http|https|child_process))/.test(e.specifier))
      .map((e) => `${e.from} imports ${e.specifier}`);
    // config.ts reads the --config file of the CLI: its one loader, beside the schema it validates.
    expect(io).toEqual(['shared/config.ts imports node:fs/promises']);
  });
});
