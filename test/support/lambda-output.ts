import { vi } from 'vitest';
import type { Context } from 'aws-lambda';

/**
 * What a handler writes where Lambda reads it: Powertools Logger and Metrics write to stdout (and
 * error lines to stderr) through their own Console, not through the global console. Captured per
 * write, one JSON line each, until restore().
 */
export interface LambdaOutput {
  lines: string[];
  /** The lines parsed, skipping any that is not JSON. */
  records(): Record<string, unknown>[];
  /** The Powertools log lines (not the EMF records). */
  logs(): Record<string, unknown>[];
  /** The EMF records: each has an `_aws` key. */
  emf(): Record<string, unknown>[];
  restore(): void;
}

export function captureLambdaOutput(): LambdaOutput {
  const lines: string[] = [];
  const capture = ((chunk: unknown) => {
    for (const line of String(chunk).split('\n')) if (line.trim() !== '') lines.push(line);
    return true;
  }) as typeof process.stdout.write;
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  const records = () =>
    lines.flatMap((line) => {
      try {
        const parsed: unknown = JSON.parse(line);
        return typeof parsed === 'object' && parsed !== null ? [parsed as Record<string, unknown>] : [];
      } catch {
        return [];
      }
    });
  return {
    lines,
    records,
    logs: () => records().filter((r) => !('_aws' in r)),
    emf: () => records().filter((r) => '_aws' in r),
    restore: () => {
      stdout.mockRestore();
      stderr.mockRestore();
    },
  };
}

/** A Lambda context as the runtime passes it, enough for Powertools. */
export function lambdaContext(functionName: string, awsRequestId: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/12/03/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
