import { Readable } from 'node:stream';
import { parentPort } from 'node:worker_threads';
import { InvalidText } from './decode.ts';
import { ExportError } from './errors.ts';
import { batchTransferList, OrderLineBatchWriter } from './order-line-batch.ts';
import type { FromOrderPartWorker, OrderPartFailure, OrderPartJob, ToOrderPartWorker } from './order-parts.ts';
import { readOrderPart } from './reader.ts';
import type { ExportHandlers } from './types.ts';

/**
 * A worker thread of order-parts.ts: reads the orders files it is given, one at a time, from
 * the bytes the main thread sends when asked, and sends back the checked lines in batches, then
 * the file's report. Nothing here touches the export's source or the clients.
 */

if (parentPort === null) throw new Error('order-parts-worker.ts runs as a worker thread (order-parts.ts starts it)');
const port = parentPort;

const send = (message: FromOrderPartWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

/** The file being read: its bytes as they arrive. */
let incoming: Readable | undefined;

port.on('message', (message: ToOrderPartWorker) => {
  switch (message.type) {
    case 'read':
      void read(message.job);
      return;
    case 'bytes':
      incoming?.push(Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength));
      return;
    case 'end':
      incoming?.push(null);
      return;
  }
});

async function read(job: OrderPartJob): Promise<void> {
  // Asks for more whenever less than two messages' worth is waiting: parsing never waits on the main thread.
  const bytes = new Readable({ highWaterMark: 512 * 1024, read: () => send({ type: 'more' }) });
  incoming = bytes;
  const batches = new OrderLineBatchWriter();
  const flush = (): void => {
    const batch = batches.take();
    if (batch !== undefined) send({ type: 'batch', batch }, batchTransferList(batch));
  };
  const handlers: ExportHandlers = {
    order(line, at) {
      batches.add(line, at.line);
      if (batches.full) flush();
    },
    customer: notAnOrdersFile,
    product: notAnOrdersFile,
  };
  try {
    const result = await readOrderPart(job, bytes, handlers);
    flush();
    send({ type: 'done', read: result }, result.lineHashes ? [result.lineHashes.buffer as ArrayBuffer] : []);
  } catch (error) {
    send({ type: 'failed', failure: failureOf(error) });
  } finally {
    incoming = undefined;
  }
}

function notAnOrdersFile(): never {
  throw new Error('an orders file gave a row that is not an order line');
}

function failureOf(error: unknown): OrderPartFailure {
  if (error instanceof ExportError) return { kind: 'export', file: error.file, line: error.line, message: error.message };
  if (error instanceof InvalidText) return { kind: 'invalid-text' };
  if (error instanceof Error) return { kind: 'error', name: error.name, message: error.message, stack: error.stack };
  return { kind: 'error', name: 'Error', message: String(error), stack: undefined };
}
