import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: NodejsFunction bundles from here, with its package-lock.json. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const FUNCTIONS_DIR = join(PROJECT_ROOT, 'functions');

/** Folders of functions/ holding a handler.ts: each is one Lambda, named after its folder. */
export function discoverFunctions(dir: string = FUNCTIONS_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'handler.ts')))
    .map((entry) => entry.name)
    .sort();
}

/**
 * The handlers found in functions/, and which of them a construct has deployed. Constructs ask
 * for their function by name and skip it when the folder is not there yet (e.g. functions/campaigns
 * before the campaign sender lands); the stack deploys whatever is left with no permissions.
 */
export class FunctionCatalog {
  readonly available: readonly string[];
  private readonly deployed = new Set<string>();

  constructor(readonly dir: string = FUNCTIONS_DIR) {
    this.available = discoverFunctions(dir);
  }

  has(name: string): boolean {
    return this.available.includes(name);
  }

  entry(name: string): string {
    return join(this.dir, name, 'handler.ts');
  }

  markDeployed(name: string): void {
    this.deployed.add(name);
  }

  /** Handlers no construct has taken (yet). */
  undeployed(): string[] {
    return this.available.filter((name) => !this.deployed.has(name));
  }
}
