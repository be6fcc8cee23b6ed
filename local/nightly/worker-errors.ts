import { awsCallOf, recordAwsCall, type AwsCall } from '#local/aws-errors.ts';
import { httpStatusOf } from '#shared/aws/errors.ts';
import { ClienteleError, isErrorCode } from '#shared/errors.ts';
import type { ShardSpec } from '#shared/nightly/shards.ts';

/**
 * A shard worker's error as it crosses to the parent thread. A thread's message keeps no class and
 * no own field of an error, so the worker sends what the CLI reads to print it (local/program.ts):
 * the suite's error code (what makes it user-facing), Node's system error code (an outage), an AWS
 * service's HTTP status and the call it answered (a refusal), and the same of its causes.
 */
export interface WorkerError {
  name: string;
  message: string;
  stack?: string;
  /** A ClienteleError's code ('EXPORT_REJECTED'...), or a Node system error's ('ECONNREFUSED'...). */
  code?: string;
  /** Whether `code` is a ClienteleError's. */
  suiteError?: boolean;
  syscall?: string;
  httpStatusCode?: number;
  awsCall?: AwsCall;
  cause?: WorkerError;
}

/** Causes kept: the CLI looks no deeper than a few links. */
const MAX_CAUSES = 8;

/** What the worker sends of `error` (worker side). */
export function workerErrorOf(error: unknown, depth = 0): WorkerError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const fields = error as Error & { code?: unknown; syscall?: unknown };
  const httpStatusCode = httpStatusOf(error);
  const awsCall = awsCallOf(error);
  return {
    name: error.name,
    message: error.message,
    ...(error.stack === undefined ? {} : { stack: error.stack }),
    ...(typeof fields.code === 'string' ? { code: fields.code } : {}),
    ...(error instanceof ClienteleError ? { suiteError: true } : {}),
    ...(typeof fields.syscall === 'string' ? { syscall: fields.syscall } : {}),
    ...(httpStatusCode === undefined ? {} : { httpStatusCode }),
    ...(awsCall === undefined ? {} : { awsCall }),
    ...(error.cause !== undefined && depth < MAX_CAUSES ? { cause: workerErrorOf(error.cause, depth + 1) } : {}),
  };
}

/** The error as it was in the worker, as far as the CLI reads it: its class's code, AWS fields, causes. */
function rebuild(sent: WorkerError): Error {
  const options = sent.cause === undefined ? undefined : { cause: rebuild(sent.cause) };
  const error = sent.suiteError === true && sent.code !== undefined && isErrorCode(sent.code) ? new ClienteleError(sent.code, sent.message, options) : new Error(sent.message, options);
  error.name = sent.name;
  if (sent.stack !== undefined) error.stack = sent.stack;
  if (!(error instanceof ClienteleError)) {
    if (sent.code !== undefined) Object.assign(error, { code: sent.code });
    if (sent.syscall !== undefined) Object.assign(error, { syscall: sent.syscall });
  }
  if (sent.httpStatusCode !== undefined) Object.assign(error, { $metadata: { httpStatusCode: sent.httpStatusCode } });
  if (sent.awsCall !== undefined) recordAwsCall(error, sent.awsCall);
  return error;
}

/**
 * The error a shard's failure throws in the parent (parent side). One of the suite's own reads as it
 * would without shards (its message names the file, the shard or the night already); any other is
 * wrapped in `shard i/N: <message>`, itself as the cause (an AWS refusal, an outage are read there).
 * The stack is the worker's, where the error was thrown.
 */
export function errorFromWorker(sent: WorkerError, shard: ShardSpec): Error {
  const error = rebuild(sent);
  const where = `shard ${shard.index}/${shard.count}`;
  if (error instanceof ClienteleError) {
    error.stack = `${where}: ${sent.stack ?? `${sent.name}: ${sent.message}`}`;
    return error;
  }
  const wrapped = new Error(`${where}: ${sent.message}`, { cause: error });
  wrapped.stack = `${where}: ${sent.stack ?? `${sent.name}: ${sent.message}`}`;
  return wrapped;
}
