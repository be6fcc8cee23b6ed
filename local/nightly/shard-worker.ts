import { parentPort } from 'node:worker_threads';
import { destroyAwsClients } from '#shared/aws/clients.ts';
import { cliAwsClients } from '#local/aws-errors.ts';
import { parseConfig } from '#shared/config.ts';
import { jsonLog } from '#shared/log.ts';
import type { NightBase } from '#shared/nightly/base.ts';
import { bucketShardRead, keyMovedOf, repartitionToWork, workStoreOf } from '#shared/nightly/distributed.ts';
import { readFailureOrder, readPlan } from '#shared/nightly/shares.ts';
import { followShard, loadShardBase, measureShard, nightContext, writeShard, type ShardFollowed, type ShardRead } from '#shared/nightly/run.ts';
import { exportSourceOf, type FromWorker, type ToWorker } from './sharded-run.ts';
import { workerErrorOf } from './worker-errors.ts';

/**
 * One shard of `clientele run nightly --shards N` (see sharded-run.ts): repartition its readers'
 * shares of the export, then read and measure its bucket, then write.
 */

const port = parentPort;
if (!port) throw new Error('shard-worker.ts runs as a worker thread of runNightlySharded');

let start: Extract<ToWorker, { type: 'start' }> | undefined;
let shardRead: ShardRead | undefined;
let base: NightBase | undefined;
let followed: ShardFollowed | undefined;

const reply = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

async function handle(message: ToWorker): Promise<void> {
  if (message.type === 'start') {
    start = message;
    const context = shardContext(message);
    const source = exportSourceOf(message.source, context);
    // Every reader read, failed or not: of their failures, the first in the export's reading order.
    let failure: { error: unknown; order: number } | undefined;
    for (const reader of message.readers) {
      try {
        await repartitionToWork(context, { shards: message.shard.count, reader }, source);
      } catch (error) {
        const plan = await readPlan(workStoreOf(context), { runId: message.runId, shards: message.shard.count }).catch(() => undefined);
        const order = plan === undefined ? Number.POSITIVE_INFINITY : readFailureOrder(plan, source, reader.index, error);
        if (failure === undefined || order < failure.order) failure = { error, order };
      }
    }
    reply({ type: 'repartitioned', ...(failure === undefined ? {} : { failure: { error: workerErrorOf(failure.error), order: failure.order } }) });
    return;
  }
  if (!start) throw new Error(`${message.type} received before start`);
  const context = shardContext(start);
  if (message.type === 'measure') {
    shardRead = await bucketShardRead(context, workStoreOf(context), start.shard);
    base = await loadShardBase(context, shardRead);
    const { measures, figures } = measureShard(context, shardRead, base);
    followed = await followShard(context, shardRead);
    const columns = [...Object.values(measures.rfm), ...Object.values(measures.clv)] as Float64Array[];
    const keyMoved = keyMovedOf(shardRead, base);
    const { campaignTallies } = followed;
    reply({ type: 'measured', measures, figures, unknownCustomerLines: shardRead.unknownCustomers.perFile, campaignTallies, ...(keyMoved ? { keyMoved } : {}) }, columns.map((c) => c.buffer as ArrayBuffer));
    return;
  }
  if (!shardRead || !base || !followed) throw new Error('models received before the shard was measured');
  try {
    // Under the lease the parent process holds on the whole night (sharded-run.ts).
    const outcome = await writeShard(context, shardRead, message.models, base, followed, { kind: 'night' });
    shardRead = undefined;
    base = undefined;
    followed = undefined;
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
    // Naming their failed calls, as the CLI's own clients do: an AWS refusal in a shard reads as in a single run.
    clients: cliAwsClients(config),
    clock: Date.now,
    log: jsonLog({ level: message.logLevel }).child({ shard: message.shard.index, shards: message.shard.count }),
  });
  return cachedContext;
}

port.on('message', (message: ToWorker) => {
  handle(message).catch((error: unknown) => reply({ type: 'failed', error: workerErrorOf(error) }));
});
