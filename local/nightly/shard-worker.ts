import { parentPort } from 'node:worker_threads';
import { createAwsClients, destroyAwsClients } from '#shared/aws/clients.ts';
import { parseConfig } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { jsonLog } from '#shared/log.ts';
import type { NightBase } from '#shared/nightly/base.ts';
import { defaultExportSource, loadShardBase, measureShard, nightContext, readShard, writeShard, type ShardRead } from '#shared/nightly/run.ts';
import type { FromWorker, ToWorker } from './sharded-run.ts';

/** One shard of `clientele run nightly --shards N` (see sharded-run.ts): read + measure, then write. */

const port = parentPort;
if (!port) throw new Error('shard-worker.ts runs as a worker thread of runNightlySharded');

let start: Extract<ToWorker, { type: 'start' }> | undefined;
let shardRead: ShardRead | undefined;
let base: NightBase | undefined;

const reply = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

async function handle(message: ToWorker): Promise<void> {
  if (message.type === 'start') {
    start = message;
    const context = shardContext(message);
    const source = message.source.kind === 'directory' ? directoryExportSource(message.source.path) : defaultExportSource(context);
    shardRead = await readShard(context, source, message.shard);
    base = await loadShardBase(context, shardRead);
    const { measures, figures } = measureShard(context, shardRead, base);
    const columns = [...Object.values(measures.rfm), ...Object.values(measures.clv)] as Float64Array[];
    reply({ type: 'measured', measures, figures, files: shardRead.read.files, unknownCustomerLines: shardRead.unknownCustomers.perFile }, columns.map((c) => c.buffer as ArrayBuffer));
    return;
  }
  if (!start || !shardRead || !base) throw new Error('models received before the shard was read');
  const context = shardContext(start);
  try {
    const outcome = await writeShard(context, shardRead, message.models, base);
    shardRead = undefined;
    base = undefined;
    reply({ type: 'written', outcome });
  } finally {
    destroyAwsClients(context.clients);
  }
}

let cachedContext: ReturnType<typeof nightContext> | undefined;
function shardContext(message: Extract<ToWorker, { type: 'start' }>) {
  // Validated again here: the worker is an edge like any other entry point.
  if (cachedContext) return cachedContext;
  const config = parseConfig(message.config, 'the shard configuration');
  cachedContext = nightContext({
    runDate: message.runDate,
    runId: message.runId,
    config,
    clients: createAwsClients(config),
    clock: Date.now,
    log: jsonLog({ level: message.logLevel }).child({ shard: message.shard.index, shards: message.shard.count }),
  });
  return cachedContext;
}

port.on('message', (message: ToWorker) => {
  handle(message).catch((error: unknown) => {
    const e = error instanceof Error ? error : new Error(String(error));
    reply({ type: 'failed', name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) });
  });
});
