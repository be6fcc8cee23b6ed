import { Readable } from 'node:stream';
import { parentPort } from 'node:worker_threads';
import { InvalidText } from './decode.ts';
import { ExportError } from './errors.ts';
import { batchTransferList, OrderLineBatchWriter } from './order-line-batch.ts';
import type { FromFileThread, ThreadedBlock, ThreadedFileFailure, ThreadedFileJob, ThreadedFileRead, ToFileThread } from './file-threads.ts';
import { readThreadedBlock, readThreadedFile } from './reader.ts';
import type { ExportHandlers } from './types.ts';
import type { CustomerRecord } from '#shared/model.ts';

/**
 * A worker thread of file-threads.ts: reads the customers or orders files it is given, one at a
 * time, from the bytes the main thread sends when asked, and sends back the checked rows in
 * batches, then the file's report. Nothing here touches the export's source or the clients.
 */

/** Customer records per message: structured clone copes well with batches of this size. */
const CUSTOMERS_PER_BATCH = 1024;

if (parentPort === null) throw new Error('file-threads-worker.ts runs as a worker thread (file-threads.ts starts it)');
const port = parentPort;

const send = (message: FromFileThread, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

/** The file being read: its bytes as they arrive. */
let incoming: Readable | undefined;

port.on('message', (message: ToFileThread) => {
  switch (message.type) {
    case 'read':
      void read(message.job);
      return;
    case 'block':
      readBlock(message.job, message.block, Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength));
      return;
    case 'bytes':
      incoming?.push(Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength));
      return;
    case 'end':
      incoming?.push(null);
      return;
  }
});

async function read(job: ThreadedFileJob): Promise<void> {
  // Asks for more whenever less than two messages' worth is waiting: parsing never waits on the main thread.
  const bytes = new Readable({ highWaterMark: 512 * 1024, read: () => send({ type: 'more' }) });
  incoming = bytes;
  const { handlers, flush } = batchingHandlers();
  try {
    const result = await readThreadedFile(job, bytes, handlers);
    flush();
    send({ type: 'done', read: result }, hashBuffers(result));
  } catch (error) {
    send({ type: 'failed', failure: failureOf(error) });
  } finally {
    incoming = undefined;
  }
}

/** One block of a file read in blocks (file-threads.ts BlockedRead): all its bytes are here. */
function readBlock(job: ThreadedFileJob, block: ThreadedBlock, bytes: Buffer): void {
  const { handlers, flush } = batchingHandlers();
  try {
    const result = readThreadedBlock(job, block, bytes, handlers, (headerBytes, next) => send({ type: 'header', bytes: headerBytes, next }));
    flush();
    send({ type: 'block-done', read: result }, hashBuffers(result.read));
  } catch (error) {
    send({ type: 'failed', failure: failureOf(error) });
  }
}

function hashBuffers(read: ThreadedFileRead): ArrayBuffer[] {
  return (read.lineHashes ?? []).map((hashes) => hashes.buffer as ArrayBuffer);
}

/** Handlers that gather the rows into batches, sent as they fill (and by flush()). */
function batchingHandlers(): { handlers: ExportHandlers; flush(): void } {
  const orders = new OrderLineBatchWriter();
  let customers: CustomerRecord[] = [];
  let customerLines: number[] = [];
  const flush = (): void => {
    const batch = orders.take();
    if (batch !== undefined) send({ type: 'orders', batch }, batchTransferList(batch));
    if (customers.length > 0) {
      const lines = Uint32Array.from(customerLines);
      send({ type: 'customers', records: customers, lines }, [lines.buffer]);
      customers = [];
      customerLines = [];
    }
  };
  const handlers: ExportHandlers = {
    order(line, at) {
      orders.add(line, at.line);
      if (orders.full) flush();
    },
    customer(record, at) {
      customers.push(record);
      customerLines.push(at.line);
      if (customers.length === CUSTOMERS_PER_BATCH) flush();
    },
    product: notReadInThreads,
    advisor: notReadInThreads,
  };
  return { handlers, flush };
}

function notReadInThreads(): never {
  throw new Error('only customers and orders files are read in worker threads');
}

function failureOf(error: unknown): ThreadedFileFailure {
  if (error instanceof ExportError) return { kind: 'export', file: error.file, line: error.line, message: error.message };
  if (error instanceof InvalidText) return { kind: 'invalid-text' };
  if (error instanceof Error) return { kind: 'error', name: error.name, message: error.message, stack: error.stack };
  return { kind: 'error', name: 'Error', message: String(error), stack: undefined };
}
