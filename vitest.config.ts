import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Two cores: integration files share one DynamoDB Local JVM and the other emulators.
    maxWorkers: 2,
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
        // Everything that talks to the emulators or runs child processes; the emulators start once per run.
        test: { name: 'integration', include: ['test/integration/**/*.test.ts'], globalSetup: ['test/support/global-setup.ts'] },
      },
      {
        extends: true,
        // CDK synthesis with esbuild bundling: no emulator, but slow.
        test: { name: 'infra', include: ['test/infra/**/*.test.ts'] },
      },
    ],
  },
});
