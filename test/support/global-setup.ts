import type { TestProject } from 'vitest/node';
import { startLocalAws } from '#local/aws.ts';
import type { LocalEndpoints } from './local-aws.ts';

/**
 * DynamoDB Local lives for one test run here: the quick JIT alone (C1) and the serial collector
 * leave both cores to the tests (measured on an integration run: 77 s of JVM CPU down to 44 s).
 */
const TEST_JVM_OPTIONS = '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC';

/** Runs `start` with JAVA_TOOL_OPTIONS extended for the JVM it spawns, then puts the variable back. */
async function withJavaOptions<T>(options: string, start: () => Promise<T>): Promise<T> {
  const previous = process.env.JAVA_TOOL_OPTIONS;
  process.env.JAVA_TOOL_OPTIONS = `${previous ?? ''} ${options}`.trim();
  try {
    return await start();
  } finally {
    if (previous === undefined) delete process.env.JAVA_TOOL_OPTIONS;
    else process.env.JAVA_TOOL_OPTIONS = previous;
  }
}

/**
 * Starts the embedded AWS once for the whole integration project (DynamoDB Local's JVM takes
 * seconds and hundreds of MB) and hands its endpoints to the test files; stops it at the end.
 */
export default async function startEmulators(project: TestProject): Promise<() => Promise<void>> {
  // The config's test.env reaches the workers only; this process makes AWS clients too (Node 20 here).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const aws = await withJavaOptions(TEST_JVM_OPTIONS, () => startLocalAws());
  const { dynamodb, s3, ses } = aws.endpoints;
  if (!dynamodb || !s3 || !ses) throw new Error('the embedded AWS did not start every emulator');
  const endpoints: LocalEndpoints = { dynamodb, s3, ses };
  project.provide('localAws', endpoints);
  return () => aws.stop();
}
