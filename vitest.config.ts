import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Two cores. Test files share their worker's modules (isolate: false): importing the AWS SDK,
    // zod schemas and the CLV code once per worker instead of once per file saves a third of the
    // CPU. Nothing in the tests depends on a fresh module graph except the Lambda handlers, which
    // test/support/lambda-handler.ts imports afresh.
    maxWorkers: 2,
    pool: 'threads',
    isolate: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    projects: [
      {
        extends: true,
        // Pure rules, renderers and readers on files: no emulator, no network, no CDK.
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        extends: true,
        // Everything that talks to the emulators or runs child processes. The emulators start once
        // per run and every file shares them (test/support/local-aws.ts).
        test: { name: 'integration', include: ['test/integration/**/*.test.ts'], globalSetup: ['test/support/global-setup.ts'] },
      },
      {
        extends: true,
        // The CDK stack synthesized, with esbuild bundling: no emulator, but slow. Child processes
        // forked: CDK's bundling hands the worker's stdout to esbuild, which a thread's is not.
        test: { name: 'infra', include: ['test/infra/**/*.test.ts'], pool: 'forks' },
      },
    ],
  },
});
