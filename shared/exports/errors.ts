import { isAwsOrConnectionError } from '#shared/aws/errors.ts';
import { ClienteleError } from '#shared/errors.ts';

/**
 * A problem with the export as a whole (a file that cannot be read as the format it claims, or
 * too many rejected rows): the run stops before anything is written. Row-level problems are
 * rejects, not errors.
 */
export class ExportError extends ClienteleError {
  override name = 'ExportError';
  /** Location of the file at fault (or of the export itself when no single file is). */
  readonly file: string;
  /** Physical line in `file`, when known. */
  readonly line: number | undefined;

  /** `message` must name the file; `ExportError.at` builds such a message. */
  constructor(file: string, message: string, options?: { line?: number | undefined; cause?: unknown }) {
    super('EXPORT_REJECTED', message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.file = file;
    this.line = options?.line;
  }

  /** "<file>, line <n>: <problem>". */
  static at(file: string, problem: string, options?: { line?: number | undefined; cause?: unknown }): ExportError {
    const line = options?.line;
    return new ExportError(file, `${file}${line !== undefined ? `, line ${line}` : ''}: ${problem}`, options);
  }
}

/**
 * An export that is not whole yet: its producer writes `_manifest.json` last (exports.requireManifest)
 * and it is not there, or lists no files. A reader that can come back later (the hourly intraday
 * ingest) waits for it rather than setting the export aside.
 */
export class ExportIncompleteError extends ExportError {
  override name = 'ExportIncompleteError';
}

/** Wraps an exception thrown by a caller's handler so the reader rethrows it untouched. */
export class HandlerFailure extends ClienteleError {
  override name = 'HandlerFailure';
  constructor(readonly original: unknown) {
    super('EXPORT_HANDLER_FAILED', 'export handler failed');
  }
}

/**
 * Whether a read failed because of the export itself (a file to refuse, quarantine or set aside)
 * rather than S3 or the network failing on the way (fail the run: a rerun reads the file whole).
 */
export function isBadExport(error: unknown): error is ExportError {
  return error instanceof ExportError && !isAwsOrConnectionError(error.cause);
}
