import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const execFileAsync = promisify(execFile);

/** Runs `clientele <args>` through its real entry point (bin/clientele.mjs, as `npx clientele` does), from the project root. */
export function clientele(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return execFileAsync(process.execPath, ['bin/clientele.mjs', ...args], { cwd: PROJECT_ROOT, maxBuffer: 64 * 1024 * 1024 });
}
