import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const execFileAsync = promisify(execFile);

/** Runs `clientele <args>` through its real entry point (bin/clientele.mjs, as `npx clientele` does), from the project root. */
export function clientele(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return execFileAsync(process.execPath, ['bin/clientele.mjs', ...args], { cwd: PROJECT_ROOT, maxBuffer: 64 * 1024 * 1024 });
}

/**
 * Like `clientele`, resolving with the exit code instead of rejecting on a failure; with extra
 * environment variables, and from another folder (`cwd`: one without a .clientele/ config, say).
 */
export function clienteleExit(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(PROJECT_ROOT, 'bin/clientele.mjs'), ...args],
      { cwd: options.cwd ?? PROJECT_ROOT, env: { ...process.env, ...options.env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
