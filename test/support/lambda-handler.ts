import { afterAll, vi } from 'vitest';
import { captureLambdaOutput, type LambdaOutput } from './lambda-output.ts';

/**
 * Loading a Lambda handler in a test file: handlers read their environment when imported, so the
 * variables are set first, then the module is imported afresh (test files share their worker's
 * modules, and another file may have loaded the same handler with its own environment). What the
 * handler writes to stdout and stderr (Powertools' JSON log lines and EMF records, CloudWatch in
 * Lambda) is kept for the test instead of printed.
 */

export interface LambdaHarness {
  /** What the handler wrote since the first load: log lines, EMF records. */
  readonly output: LambdaOutput;
  /** Sets the function's environment, then imports its module (and what it imports) afresh. */
  load<M>(environment: Record<string, string>, importModule: () => Promise<M>): Promise<M>;
}

/** Call while the test file loads; the environment and the output are restored after its tests. */
export function lambdaHarness(): LambdaHarness {
  let output: LambdaOutput | undefined;
  afterAll(() => {
    output?.restore();
    vi.unstubAllEnvs();
  });
  return {
    get output() {
      if (!output) throw new Error('lambdaHarness: load() the handler first');
      return output;
    },
    async load(environment, importModule) {
      for (const [name, value] of Object.entries(environment)) vi.stubEnv(name, value);
      output ??= captureLambdaOutput();
      vi.resetModules();
      return importModule();
    },
  };
}
