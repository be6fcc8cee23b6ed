import { afterAll, vi } from 'vitest';

/**
 * Loading a Lambda handler in a test file: handlers read their environment when imported, so the
 * variables are set first, then the module is imported afresh (test files share their worker's
 * modules, and another file may have loaded the same handler with its own environment). The JSON
 * lines a handler logs to stdout (CloudWatch in Lambda) are kept for the test instead of printed.
 */

export interface LambdaHarness {
  /** Every line the handler logged through console.log. */
  logLines: string[];
  /** Sets the function's environment, then imports its module (and what it imports) afresh. */
  load<M>(environment: Record<string, string>, importModule: () => Promise<M>): Promise<M>;
}

/** Call while the test file loads; the environment and console are restored after its tests. */
export function lambdaHarness(): LambdaHarness {
  const logLines: string[] = [];
  afterAll(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });
  return {
    logLines,
    async load(environment, importModule) {
      for (const [name, value] of Object.entries(environment)) vi.stubEnv(name, value);
      vi.spyOn(console, 'log').mockImplementation((line: unknown) => void logLines.push(String(line)));
      vi.resetModules();
      return importModule();
    },
  };
}
