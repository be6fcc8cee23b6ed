import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateExport } from '#local/generate/generate.ts';
import { createAwsClients, createS3Client, destroyAwsClients, type AwsClients } from '#shared/aws/clients.ts';
import { readObjectText, writeObject } from '#shared/aws/s3-objects.ts';
import { parseConfig, type Config } from '#shared/config.ts';
import { s3ExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { runCampaigns } from '#shared/sender/run.ts';
import { exportPrefix, reportsBucket } from '#shared/store/buckets.ts';
import { seedCatalog, uploadExport } from '#test/support/emulator-data.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';

/**
 * S3 sending an object's headers, then part of its body, then nothing, the connection left open.
 * The request timeout ends at the headers; the socket's idle timeout (shared/aws/clients.ts) must
 * fail the read, or the night (holding its write lease) and the hour wait until Lambda kills them.
 * The S3 client here waits 3 s (S3_TIMEOUTS in production).
 */

const aws = sharedAws();
const NIGHT = '2026-11-22';
const SHORT_TIMEOUTS = { connectionMs: 1_000, answerMs: 3_000 };
/** Far above SHORT_TIMEOUTS, far below a test's timeout: past it the read is taken as hanging. */
const HANGING_AFTER_MS = 30_000;

/** What the proxy does to the body of a GET whose path matches: stop after `bytes`, or pass it on in pieces `everyMs` apart. */
type BodyFault = { path: RegExp; stallAfterBytes: number } | { path: RegExp; trickleBytes: number; everyMs: number };

let work: string;
let proxy: Server;
const sockets = new Set<Socket>();
let fault: BodyFault | undefined;
/** GETs the fault was applied to. */
let faulted = 0;

function applyFault(answer: IncomingMessage, res: ServerResponse, applied: BodyFault): void {
  faulted += 1;
  if ('stallAfterBytes' in applied) {
    let sent = 0;
    answer.on('data', (chunk: Buffer) => {
      if (sent < applied.stallAfterBytes) res.write(chunk.subarray(0, applied.stallAfterBytes - sent));
      sent += chunk.length;
    });
    return;
  }
  const chunks: Buffer[] = [];
  answer.on('data', (chunk: Buffer) => chunks.push(chunk));
  answer.on('end', () => {
    const body = Buffer.concat(chunks);
    let offset = 0;
    const timer = setInterval(() => {
      res.write(body.subarray(offset, offset + applied.trickleBytes));
      offset += applied.trickleBytes;
      if (offset >= body.length) {
        clearInterval(timer);
        res.end();
      }
    }, applied.everyMs);
  });
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 's3-body-stall-'));
  await generateExport({ customers: 2000, seed: 3, asOf: NIGHT, orderParts: 1 }, join(work, 'n'));
  const target = new URL(aws.endpoints.s3);
  proxy = createServer((req, res) => {
    const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 500, answer.headers);
      if (req.method === 'GET' && fault?.path.test(req.url ?? '')) applyFault(answer, res, fault);
      else answer.pipe(res);
    });
    req.pipe(upstream);
  });
  proxy.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
}, 60_000);

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => proxy?.close(() => resolve()));
  if (work) await rm(work, { recursive: true, force: true });
});

/** The config with S3 reached through the proxy, and clients whose S3 client waits SHORT_TIMEOUTS. */
function throughProxy(config: Config): { config: Config; clients: AwsClients } {
  const port = (proxy.address() as AddressInfo).port;
  const proxied = parseConfig({ ...config, endpoints: { ...config.endpoints, s3: `http://127.0.0.1:${port}` } });
  return { config: proxied, clients: { ...createAwsClients(proxied), s3: createS3Client(proxied, SHORT_TIMEOUTS) } };
}

/** How the run ended ('failed: <message>'), or that it was still running after HANGING_AFTER_MS. */
async function outcomeOf(run: Promise<unknown>): Promise<{ outcome: string; ms: number }> {
  const started = Date.now();
  let guard: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    run.then(
      () => 'completed',
      (error: unknown) => `failed: ${error instanceof Error ? error.message : String(error)}`,
    ),
    new Promise<string>((resolve) => {
      guard = setTimeout(() => resolve(`still running after ${HANGING_AFTER_MS} ms`), HANGING_AFTER_MS);
    }),
  ]);
  clearTimeout(guard);
  return { outcome, ms: Date.now() - started };
}

describe('S3 stalling in the middle of an object body', () => {
  it('fails the night, naming the object and the stall, and frees its lease for the rerun', async () => {
    const config = await scenarioConfig(aws, 'night');
    await uploadExport(aws, config, join(work, 'n'), NIGHT);
    fault = { path: /\/orders[^/?]*\.csv/, stallAfterBytes: 4096 };
    faulted = 0;
    const proxied = throughProxy(config);
    const night = (runId: string, target: { config: Config; clients: AwsClients }) =>
      runNightly({
        runDate: NIGHT,
        runId,
        config: target.config,
        clients: target.clients,
        clock: Date.now,
        source: s3ExportSource(target.clients.s3, target.config.storage.exportsBucket, exportPrefix(target.config, NIGHT)),
      });
    try {
      const { outcome, ms } = await outcomeOf(night('stall-1', proxied));
      expect(faulted).toBeGreaterThan(0);
      expect(outcome).toMatch(/^failed: s3:\/\/[^ ]+\/orders[^ ]*\.csv: could not be read: .*timed out after 3000 ms of inactivity/);
      expect(ms).toBeLessThan(HANGING_AFTER_MS);
    } finally {
      destroyAwsClients(proxied.clients);
    }
    // The failed run freed the night's write lease: a rerun straight away writes the night.
    const summary = await night('stall-2', { config, clients: aws.clients });
    expect(summary.status).toBe('completed');
  }, 120_000);

  it('fails the hourly send, naming the catalogue object and the stall', async () => {
    const config = await scenarioConfig(aws, 'sender');
    await seedCatalog(aws, config, [{ sku: 'CREAM', name: 'Night Cream', category: 'skin', replenishDays: 40 }]);
    fault = { path: /\/catalog\/products\.json/, stallAfterBytes: 10 };
    faulted = 0;
    const proxied = throughProxy(config);
    try {
      const { outcome, ms } = await outcomeOf(
        runCampaigns({ at: Date.parse('2026-11-23T02:00:00Z'), runId: 'stall-h', config: proxied.config, clients: proxied.clients, unsubscribeSecret: 'f'.repeat(40) }),
      );
      expect(faulted).toBeGreaterThan(0);
      expect(outcome).toMatch(/^failed: S3 GetObject s3:\/\/[^ ]+\/catalog\/products\.json: reading the body failed: .*timed out after 3000 ms of inactivity/);
      expect(ms).toBeLessThan(HANGING_AFTER_MS);
    } finally {
      destroyAwsClients(proxied.clients);
    }
  }, 60_000);

  it('reads a body that keeps flowing, however much longer than the timeout it takes', async () => {
    const config = await scenarioConfig(aws, 'trickle');
    const body = 'x'.repeat(600);
    const key = `${config.storage.reportsPrefix}/trickle.txt`;
    await writeObject(aws.clients.s3, { bucket: reportsBucket(config), key, body, contentType: 'text/plain' });
    // 6 pieces 1 s apart: 6 s in all, twice the 3 s timeout, never 3 s without a byte.
    fault = { path: /\/trickle\.txt/, trickleBytes: 100, everyMs: 1_000 };
    faulted = 0;
    const proxied = throughProxy(config);
    try {
      const started = Date.now();
      expect(await readObjectText(proxied.clients.s3, reportsBucket(config), key)).toBe(body);
      expect(faulted).toBe(1);
      expect(Date.now() - started).toBeGreaterThan(SHORT_TIMEOUTS.answerMs);
    } finally {
      destroyAwsClients(proxied.clients);
    }
  }, 60_000);
});
