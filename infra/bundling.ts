/**
 * How a Lambda's code is bundled (esbuild, by the CDK's NodejsFunction and its afterBundling hook,
 * infra/constructs/function.ts), and by the benchmark so that it measures the code as it runs
 * (local/bench/bench.ts). No CDK here: the bench imports it.
 */

/** esbuild's target for the Lambda Node runtime (RUNTIME in function.ts). */
export const ESBUILD_TARGET = 'node24';
/** Prefer packages' ESM builds; some CommonJS ones still call require(), hence the banner. */
export const MAIN_FIELDS = ['module', 'main'];
export const REQUIRE_BANNER = "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";
/** The Lambda Node runtime ships AWS SDK v3; Powertools and everything else is bundled. */
export const EXTERNAL_MODULES = ['@aws-sdk/*'];
/** The export reader's worker thread, bundled beside a handler that reads exports as FILE_THREADS_WORKER_BUNDLE (fileThreadsWorkerUrl). */
export const FILE_THREADS_WORKER_ENTRY = ['shared', 'exports', 'file-threads-worker.ts'] as const;
