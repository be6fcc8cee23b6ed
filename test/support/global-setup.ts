import type { TestProject } from 'vitest/node';
import { startTestEmulators } from './emulators.ts';
import type { LocalEndpoints } from './local-aws.ts';

/**
 * Starts the embedded AWS once for the whole integration project (DynamoDB Local's JVM takes
 * seconds and hundreds of MB) and hands its endpoints to the test files; stops it at the end.
 */
export default async function startEmulators(project: TestProject): Promise<() => Promise<void>> {
  // The config's test.env reaches the workers only; this process makes AWS clients too (Node 20 here).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const aws = await startTestEmulators();
  const { dynamodb, s3, ses } = aws.endpoints;
  if (!dynamodb || !s3 || !ses) throw new Error('the embedded AWS did not start every emulator');
  const endpoints: LocalEndpoints = { dynamodb, s3, ses };
  project.provide('localAws', endpoints);
  return () => aws.stop();
}
