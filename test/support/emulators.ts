import { startLocalAws, type LocalAws, type LocalAwsOptions } from '#local/aws.ts';

/**
 * DynamoDB Local as the tests start it: the quick JIT alone (C1) and the serial collector leave
 * both cores to the tests (measured on an integration run: 77 s of JVM CPU down to 44 s).
 */
export const TEST_JVM_OPTIONS = '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC';

/** Runs `start` with JAVA_TOOL_OPTIONS extended for the JVM it spawns, then puts the variable back. */
export async function withJavaOptions<T>(options: string, start: () => Promise<T>): Promise<T> {
  const previous = process.env.JAVA_TOOL_OPTIONS;
  process.env.JAVA_TOOL_OPTIONS = `${previous ?? ''} ${options}`.trim();
  try {
    return await start();
  } finally {
    if (previous === undefined) delete process.env.JAVA_TOOL_OPTIONS;
    else process.env.JAVA_TOOL_OPTIONS = previous;
  }
}

/** startLocalAws with the tests' JVM options, for the first start and for every restart. */
export async function startTestEmulators(options: LocalAwsOptions = {}): Promise<LocalAws> {
  const aws = await withJavaOptions(TEST_JVM_OPTIONS, () => startLocalAws(options));
  return { ...aws, restart: (service) => withJavaOptions(TEST_JVM_OPTIONS, () => aws.restart(service)) };
}
