import { relative } from 'node:path';
import { afterAll, expect, inject } from 'vitest';
import { createAwsClients, destroyAwsClients, type AwsClients } from '#shared/aws/clients.ts';
import { ensureBucket } from '#shared/aws/s3-objects.ts';
import { parseConfig, type Config, type ConfigInput } from '#shared/config.ts';
import { reportsBucket } from '#shared/store/buckets.ts';
import { ensureTables } from '#shared/store/tables.ts';
import type { LocalAws, LocalAwsOptions, LocalService } from '#local/aws.ts';
import { startTestEmulators } from './emulators.ts';

/**
 * The emulators of one vitest run (DynamoDB Local, s3rver, aws-ses-v2-local), started once by
 * global-setup.ts and shared by every integration file. A file gets its own clients and a scope
 * named after the file; each scenario then works in its own tables and S3 prefixes.
 */

export interface LocalEndpoints {
  dynamodb: string;
  s3: string;
  ses: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The endpoints of the emulators global-setup.ts started for this run. */
    localAws: LocalEndpoints;
  }
}

export interface SharedAws {
  /** The default configuration pointed at the emulators; write through scenarioConfig's configs, not this one. */
  config: Config;
  clients: AwsClients;
  endpoints: LocalEndpoints;
  /** The test file's path, as a name: the start of every table and key prefix the file uses. */
  scope: string;
  /** When the file started (epoch seconds, the SES store's unit): every email it sends is newer. */
  since: number;
}

/** The scope of the running test file: "functions.nightly.handler" for test/integration/functions/nightly/handler.test.ts. */
function fileScope(): string {
  const testPath = expect.getState().testPath;
  if (!testPath) throw new Error('sharedAws() must be called while a test file loads');
  return relative('test/integration', relative(process.cwd(), testPath))
    .replace(/\.test\.ts$/, '')
    .replace(/[^A-Za-z0-9_.-]+/g, '.');
}

/** The run's emulators for this test file: clients made here, destroyed after the file's tests. */
export function sharedAws(base: ConfigInput = {}): SharedAws {
  const endpoints = inject('localAws');
  const config = parseConfig({ ...base, endpoints: { ...base.endpoints, ...endpoints } });
  const clients = createAwsClients(config);
  afterAll(() => destroyAwsClients(clients));
  return { config, clients, endpoints, scope: fileScope(), since: Math.floor(Date.now() / 1000) };
}

/** What a scenario may set besides its storage (which scenarioConfig decides). */
export type ScenarioOverrides = Omit<ConfigInput, 'storage' | 'endpoints'>;

/**
 * Scenario tables keep their TTL off: the scenarios live at fixed dates (2026-03, 2020-12...), and
 * DynamoDB Local's TTL sweep deletes by the machine's clock, so entries "expired" by today's date
 * would vanish mid-scenario, at random. What the TTL does is simulated at the scenario's own clock
 * (emulator-data.ts); that ensureTables turns it on is tested on its own table (ledger-store.test.ts).
 */
const SCENARIO_TABLES = { expireItems: false };

/**
 * A configuration whose tables, export prefix and reports prefix belong to one scenario of one
 * file, so it sees only its own data whatever runs beside it; its tables are created here.
 */
export async function scenarioConfig(aws: SharedAws, name: string, overrides: ScenarioOverrides = {}): Promise<Config> {
  const id = `${aws.scope}.${name}`;
  const config = parseConfig({
    ...aws.config,
    ...overrides,
    storage: { ...aws.config.storage, tablePrefix: `${id}-`, exportsPrefix: `exports-${id}`, reportsPrefix: `reports-${id}` },
  });
  await ensureTables(aws.clients.dynamodb, config, SCENARIO_TABLES);
  return config;
}

/**
 * A configuration whose storage names the test chooses (a fake stack's tables and bucket, say),
 * for when the names themselves are under test; its tables and buckets are created here. Like
 * scenarioConfig's, the names must be this file's alone.
 */
export async function namedStorageConfig(aws: SharedAws, storage: NonNullable<ConfigInput['storage']>): Promise<Config> {
  const config = parseConfig({ ...aws.config, storage: { ...aws.config.storage, ...storage } });
  await ensureTables(aws.clients.dynamodb, config, SCENARIO_TABLES);
  for (const bucket of new Set([config.storage.exportsBucket, reportsBucket(config)])) await ensureBucket(aws.clients.s3, bucket);
  return config;
}

/** A file's own emulators for some services, the run's shared ones for the rest. */
export type PrivateAws = LocalAws & SharedAws;

/**
 * Starts emulators of this test file alone for `services`, and points config and clients at the
 * shared ones for the others: for a file that kills or restarts an emulator (the shared ones serve
 * other files meanwhile) or needs one configured in a way the shared ones cannot be. Call it in
 * beforeAll and stop it in afterAll; scenarioConfig works on it as on the shared emulators.
 */
export async function startPrivateAws(
  shared: SharedAws,
  services: LocalService[],
  options: Omit<LocalAwsOptions, 'services' | 'config'> = {},
): Promise<PrivateAws> {
  const own = await startTestEmulators({ ...options, services, config: shared.config });
  return { ...own, endpoints: { ...shared.endpoints, ...own.endpoints }, scope: shared.scope, since: shared.since };
}
