import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const execFileAsync = promisify(execFile);

/** Runs `clientele <args>` through its real entry point (bin/clientele.mjs, as `npx clientele` does), from the project root. */
export function clientele(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return execFileAsync(process.execPath, ['bin/clientele.mjs', ...args], { cwd: PROJECT_ROOT, maxBuffer: 64 * 1024 * 1024 });
}

/** Like `clientele`, with extra environment variables, and resolving with the exit code instead of rejecting on a failure. */
export function clienteleExit(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/clientele.mjs', ...args],
      { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
