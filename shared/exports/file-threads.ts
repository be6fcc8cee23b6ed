import { availableParallelism } from 'node:os';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import type { Config } from '#shared/config.ts';
import type { CustomerRecord, Reject } from '#shared/model.ts';
import { ExportError, HandlerFailure } from './errors.ts';
import { forEachOrderLine, type OrderLineBatch } from './order-line-batch.ts';
import type { ExportFileClass } from './classify.ts';
import type { ExportHandlers, FieldWarning, FileReport, RowPosition } from './types.ts';

/**
 * Customers and orders files read in worker threads. Parsing and checking the rows is most of a
 * night's reading, and each file can be read on its own: every worker reads one file at a time,
 * its raw bytes handed over by this thread (which owns the export's source, an S3 stream or a
 * file) only as fast as the worker asks for them, and hands back the checked rows in batches
 * (order lines as order-line-batch.ts encodes them, customer records as they are). This thread
 * gives them to the handlers as they come. The customers files go through one worker, in plan
 * order (a customer seen again replaces the earlier record), while this thread adds them; the
 * orders files through several at once, so the handlers see each file's lines in order but the
 * files' lines interleaved: the aggregation does not depend on the order of lines
 * (ClientAggregator), and what does (the first rejects and warnings kept, the twin and
 * shared-line checks) is taken from each file's result in plan order by the reader.
 */

/** A file of the export's plan as a worker reads it (reader.ts's PlannedFile has these and more). */
export interface ThreadedFile extends ExportFileClass {
  key: string;
  name: string;
  /** What the manifest says of the file, when it lists files. */
  listed: { rows: number; sha256: string } | undefined;
}

/** What a worker needs to read one file. Crosses to the worker: plain data only. */
export interface ThreadedFileJob {
  file: ThreadedFile;
  fileIndex: number;
  location: string;
  config: Config;
  now: number;
  /** Hash the lines for the check across parts (OrderLineHashes), sent back encoded. */
  hashLines: boolean;
}

/** What a worker read of one file. */
export interface ThreadedFileRead {
  report: FileReport;
  rejects: Reject[];
  warnings: FieldWarning[];
  /** OrderLineHashes.encode() of the file's lines, when asked. */
  lineHashes?: Uint8Array;
}

/** Why a worker could not read its file. */
export type ThreadedFileFailure =
  | { kind: 'export'; file: string; line: number | undefined; message: string }
  | { kind: 'invalid-text' }
  | { kind: 'error'; name: string; message: string; stack: string | undefined };

/** Messages to a worker. */
export type ToFileThread = { type: 'read'; job: ThreadedFileJob } | { type: 'bytes'; bytes: Uint8Array } | { type: 'end' };

/** Messages from a worker. */
export type FromFileThread =
  | { type: 'more' }
  | { type: 'orders'; batch: OrderLineBatch }
  | { type: 'customers'; records: CustomerRecord[]; lines: Uint32Array }
  | { type: 'done'; read: ThreadedFileRead }
  | { type: 'failed'; failure: ThreadedFileFailure };

/** Raw bytes handed to a worker per message, gathered from the source's smaller chunks. */
const BYTES_PER_MESSAGE = 256 * 1024;

/**
 * A worker's heap: the format modules and one batch at a time. Its young generation is kept
 * small like the main thread's (node-options.ts): garbage of short-lived rows, resident otherwise.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 16, maxOldGenerationSizeMb: 256 };

/** Exports whose customers and orders files are smaller than this in all are read in the calling thread: starting workers would cost more than they save. */
export const THREADS_FROM_BYTES = 16 * 1024 * 1024;

/**
 * Lambda's memory per vCPU, MB (configuration-memory.html: 1,769 MB is one vCPU): a function of
 * 2,048 MB has 1.16 vCPU, however many cores it sees.
 */
const LAMBDA_MB_PER_VCPU = 1_769;

/** The whole vCPUs of a Lambda of `memoryMb` (at least one): what the reader's threads can keep busy. */
export function lambdaWholeVcpus(memoryMb: number): number {
  return Math.max(1, Math.floor(memoryMb / LAMBDA_MB_PER_VCPU));
}
/** Set by the Lambda runtime: the function's memory, MB. */
const lambdaMemorySchema = z.coerce.number().int().positive();

/**
 * Cores this process may keep busy: the machine's, or in a Lambda its whole vCPUs (its memory
 * / 1,769 MB), which is fewer than the cores it sees below 3,538 MB.
 */
export function usableCores(environment: NodeJS.ProcessEnv = process.env): number {
  const cores = availableParallelism();
  const memory = lambdaMemorySchema.safeParse(environment.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  return memory.success ? Math.min(cores, lambdaWholeVcpus(memory.data)) : cores;
}

/**
 * One worker per usable core, at most one per orders file (and one more for the customers when
 * the caller reads them beside the orders, `customersBesideOrders`); none on a single core,
 * where a worker cannot run beside the thread that aggregates, nor for customers and orders
 * files of less than THREADS_FROM_BYTES in all (as listed; a size the source does not give
 * counts as nothing).
 */
export function defaultReaderThreads(
  files: readonly { kind: string; size?: number | undefined }[],
  cores: number = usableCores(),
  { customersBesideOrders = false }: { customersBesideOrders?: boolean } = {},
): number {
  const read = files.filter((file) => file.kind === 'orders' || file.kind === 'customers');
  const bytes = read.reduce<number>((sum, file) => sum + (file.size ?? 0), 0);
  if (cores < 2 || bytes < THREADS_FROM_BYTES) return 0;
  const orders = files.filter((file) => file.kind === 'orders').length;
  const customers = customersBesideOrders && orders > 0 && files.some((file) => file.kind === 'customers') ? 1 : 0;
  return Math.min(cores, Math.max(1, orders) + customers);
}

export interface FilesInThreads {
  parts: { file: ThreadedFile; fileIndex: number; location: string }[];
  config: Config;
  now: number;
  hashLines: boolean;
  threads: number;
  handlers: ExportHandlers;
  /** Opens a file of the source (failing as the reader does for a file that cannot be opened). */
  open(key: string, location: string): Promise<NodeJS.ReadableStream | Readable>;
  onBytes: ((n: number) => void) | undefined;
  /** The error for a file a worker found not to be valid text. */
  explainInvalidText(key: string, location: string): Promise<Error>;
  /** The error for a source that failed to open or while being read (an ExportError passes as it is). */
  sourceFailure(error: unknown, location: string): Error;
}

/**
 * Reads `parts` in `threads` worker threads (parts of one kind: customers in one thread, to keep
 * their order) and returns what each read, in the order given. On
 * the first failure (a file that cannot be trusted, a source that fails, a handler that throws)
 * every worker is stopped and the error thrown: as the reader would throw it for that file.
 */
export async function readFilesInThreads(reading: FilesInThreads, pool: ReaderThreads): Promise<ThreadedFileRead[]> {
  const results = new Array<ThreadedFileRead>(reading.parts.length);
  let next = 0;
  const workers = pool.take(Math.max(1, Math.min(reading.threads, reading.parts.length)));
  try {
    await Promise.all(
      workers.map(async (worker) => {
        for (let i = next++; i < reading.parts.length; i = next++) results[i] = await worker.read(reading, i);
      }),
    );
  } catch (error) {
    // The others stop too: nothing they read would be used (the pool's owner stops them).
    for (const worker of workers) worker.abort(error);
    throw error;
  }
  return results;
}

/**
 * The worker threads of one read of an export, started when first needed and kept for its
 * customers and then its orders (each start loads the format modules again); stop() ends them.
 */
export class ReaderThreads {
  private readonly workers: PartWorker[] = [];

  /** `count` workers, started if there are not that many yet. */
  take(count: number): PartWorker[] {
    while (this.workers.length < count) this.workers.push(new PartWorker());
    return this.workers.slice(0, count);
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((worker) => worker.stop()));
  }
}

/** The worker's bundle, beside the bundle of a handler that reads exports (infra/constructs/function.ts). */
export const FILE_THREADS_WORKER_BUNDLE = 'file-threads-worker.mjs';

/** The worker script: this folder's .ts from the sources, its bundle beside the handler's in a Lambda (infra/constructs/function.ts). */
export function fileThreadsWorkerUrl(moduleUrl: string = import.meta.url): URL {
  return new URL(moduleUrl.endsWith('.ts') ? './file-threads-worker.ts' : `./${FILE_THREADS_WORKER_BUNDLE}`, moduleUrl);
}

/**
 * Node options for the worker: inherited (undefined), except that TypeScript sources need tsx's
 * loader, which a test runner's process may not have. Never the parent's list given explicitly:
 * Node refuses per-process options there (V8 flags, or the Lambda runtime's --expose-gc).
 */
function workerExecArgv(url: URL): string[] | undefined {
  if (!url.pathname.endsWith('.ts') || process.execArgv.some((arg) => arg.includes('tsx'))) return undefined;
  return ['--import', 'tsx'];
}

class PartWorker {
  private readonly worker: Worker;
  private current: { location: string; fail(error: unknown): void } | undefined;
  /** Set once the worker died or was stopped: a read then fails at once. */
  private dead: Error | undefined;

  constructor() {
    const url = fileThreadsWorkerUrl();
    const execArgv = workerExecArgv(url);
    this.worker = new Worker(url, { ...(execArgv ? { execArgv } : {}), resourceLimits: WORKER_LIMITS, stdout: false, stderr: false });
    this.worker.on('error', (error) => this.die(error));
    this.worker.on('exit', (code) => this.die(new Error(`the worker thread reading export files stopped (exit code ${code})`)));
  }

  /** Reads part `index` of `reading`; resolves with what it read once the worker is done with it. */
  read(reading: FilesInThreads, index: number): Promise<ThreadedFileRead> {
    const part = reading.parts[index] as FilesInThreads['parts'][number];
    const { file, location } = part;
    return new Promise<ThreadedFileRead>((resolve, reject) => {
      let raw: (NodeJS.ReadableStream | Readable) | undefined;
      let chunks: AsyncIterator<Buffer | string> | undefined;
      let settled = false;
      const at: { file: string; line: number } = { file: location, line: 0 };
      const finish = (error: unknown, read?: ThreadedFileRead) => {
        if (settled) return;
        settled = true;
        this.worker.off('message', onMessage);
        this.current = undefined;
        if (error === undefined) resolve(read as ThreadedFileRead);
        else {
          destroy(raw);
          reject(error);
        }
      };
      this.current = { location, fail: (error) => finish(error) };
      if (this.dead) return finish(this.dead);

      const sendBytes = async () => {
        try {
          raw ??= await reading.open(file.key, location);
          chunks ??= (raw as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
          const gathered: Buffer[] = [];
          let size = 0;
          let ended = false;
          while (size < BYTES_PER_MESSAGE) {
            const { value, done } = await chunks.next();
            if (done) {
              ended = true;
              break;
            }
            const buffer = typeof value === 'string' ? Buffer.from(value) : value;
            gathered.push(buffer);
            size += buffer.length;
          }
          if (settled) return;
          if (size > 0) {
            reading.onBytes?.(size);
            // A copy of its own (source chunks may share a pooled buffer), moved to the worker.
            const bytes = new Uint8Array(size);
            let offset = 0;
            for (const buffer of gathered) {
              bytes.set(buffer, offset);
              offset += buffer.length;
            }
            this.post({ type: 'bytes', bytes }, [bytes.buffer]);
          }
          if (ended) this.post({ type: 'end' });
        } catch (error) {
          finish(reading.sourceFailure(error, location));
        }
      };

      const onMessage = (message: FromFileThread) => {
        switch (message.type) {
          case 'more':
            void sendBytes();
            return;
          case 'orders':
          case 'customers':
            try {
              handOver(message, at, reading.handlers);
            } catch (error) {
              finish(error instanceof HandlerFailure ? error.original : error);
            }
            return;
          case 'done':
            finish(undefined, message.read);
            return;
          case 'failed':
            void failureOf(message.failure, reading, file.key, location).then(finish, finish);
            return;
        }
      };
      this.worker.on('message', onMessage);
      const job: ThreadedFileJob = { file, fileIndex: part.fileIndex, location, config: reading.config, now: reading.now, hashLines: reading.hashLines };
      this.post({ type: 'read', job });
    });
  }

  /** Fails the read in progress, if any (another worker failed). */
  abort(error: unknown): void {
    this.current?.fail(error);
  }

  async stop(): Promise<void> {
    this.dead ??= new Error('the worker thread reading export files was stopped');
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }

  private post(message: ToFileThread, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(message, transfer);
  }

  private die(error: Error): void {
    this.dead ??= error;
    // The thread itself failed (its heap limit reached, say): the read fails naming the file it was on.
    const current = this.current;
    if (current) current.fail(new Error(`reading ${current.location} in a worker thread: ${error.message}`, { cause: error }));
  }
}

/** Gives a batch of rows to the handlers, `at` set to each row's line. */
function handOver(message: Extract<FromFileThread, { type: 'orders' | 'customers' }>, at: { file: string; line: number }, handlers: ExportHandlers): void {
  const position: RowPosition = at;
  if (message.type === 'orders') {
    forEachOrderLine(message.batch, (order, line) => {
      at.line = line;
      handlers.order(order, position);
    });
    return;
  }
  const { records, lines } = message;
  for (let i = 0; i < records.length; i++) {
    at.line = lines[i] as number;
    handlers.customer(records[i] as CustomerRecord, position);
  }
}

async function failureOf(failure: ThreadedFileFailure, reading: FilesInThreads, key: string, location: string): Promise<Error> {
  switch (failure.kind) {
    case 'export':
      return new ExportError(failure.file, failure.message, { line: failure.line });
    case 'invalid-text':
      return reading.explainInvalidText(key, location);
    case 'error': {
      const error = new Error(`reading ${location} in a worker thread: ${failure.message}`);
      error.name = failure.name;
      if (failure.stack !== undefined) error.stack = failure.stack;
      return error;
    }
  }
}

function destroy(raw: NodeJS.ReadableStream | Readable | undefined): void {
  if (raw !== undefined && 'destroy' in raw && typeof raw.destroy === 'function') raw.destroy();
}
