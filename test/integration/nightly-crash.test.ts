import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalAws } from '#local/aws.ts';
import { generateExport } from '#local/generate/generate.ts';
import { createAwsClients, destroyAwsClients, type AwsClients } from '#shared/aws/clients.ts';
import { readObjectText } from '#shared/aws/s3-objects.ts';
import { parseConfig, type Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { NIGHTLY_JOB, type NightlyRunSummary } from '#shared/nightly/summary.ts';
import { reportPrefix, reportsBucket } from '#shared/store/buckets.ts';
import { ensureTables, tableNames } from '#shared/store/tables.ts';
import { crashingAfter } from '#test/support/crashing-clients.ts';
import { expireWriteLeases } from '#test/support/emulator-data.ts';
import { sharedAws, startPrivateAws } from '#test/support/local-aws.ts';
import { loseOneDynamoDbAnswer } from '#test/support/lost-answers.ts';

/**
 * Crash-safe nights: a night stopped after k DynamoDB writes (several k), or with DynamoDB Local
 * killed under it, then rerun, ends in exactly the state of one clean run: the same profiles, tier
 * history, runs row and summary. A rerun on a corrected export leaves no row of the bad one.
 */

const NIGHT1 = '2026-11-22';
const NIGHT2 = '2026-11-23';
const CLIENTS = 150;

const shared = sharedAws();
// A private DynamoDB Local (S3 shared): this file kills it, which would fail every other file's writes.
let dynamo: LocalAws;
let stateDir: string;
let work: string;
let exports: { night1: string; night2: string };

/** A config with its own tables and report prefix, on the current emulators. */
async function scenario(name: string, clients: AwsClients = clientsOf(baseConfig())): Promise<Config> {
  const config = parseConfig({ ...baseConfig(), storage: { ...baseConfig().storage, tablePrefix: `${name}-`, reportsPrefix: `reports-${shared.scope}.${name}` } });
  await ensureTables(clients.dynamodb, config, { expireItems: false });
  return config;
}

/** The shared S3 and the current DynamoDB Local. */
function baseConfig(): Config {
  return dynamo.config;
}

const openClients: AwsClients[] = [];
function clientsOf(config: Config): AwsClients {
  const clients = createAwsClients(config);
  openClients.push(clients);
  return clients;
}

const night = (config: Config, clients: AwsClients, runDate: string, dir: string, runId: string, acceptDrop = false) =>
  runNightly({ runDate, runId, config, clients, clock: Date.now, source: directoryExportSource(dir), acceptDrop });

async function scan(clients: AwsClients, table: string): Promise<string[]> {
  const items: string[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await clients.documents.send(new ScanCommand({ TableName: table, ExclusiveStartKey: startKey, ConsistentRead: true }));
    items.push(...(page.Items ?? []).map((item) => JSON.stringify(item, Object.keys(item).sort())));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items.sort();
}

/** The figures of a summary, without what differs between two runs of the same night (ids, times). */
function figures(summary: NightlyRunSummary | undefined): unknown {
  if (!summary) return undefined;
  const { runId: _id, startedAt: _start, snapshotBy: _bound, durationMs: _duration, timingsMs: _timings, written, report, admission: _admission, advisorDigests, ...rest } = summary;
  const { teamEmail: _email, ...objects } = report;
  // The generated export's roster names advisors: the digests' own duration differs between runs too.
  const digests = advisorDigests === undefined ? {} : { advisorDigests: { ...advisorDigests, durationMs: 0 } };
  // Each scenario writes under its own report prefix: the same object, another folder.
  const located = Object.fromEntries(Object.entries(objects).map(([name, location]) => [name, String(location).replace(/\/reports-[^/]+\//, '/reports/')]));
  return { ...rest, ...digests, written: { profiles: written.profiles, tierHistory: written.tierHistory }, report: located };
}

/** Everything a night leaves: the three tables a night writes, and its summary object. */
async function stateOf(config: Config, clients: AwsClients) {
  const tables = tableNames(config);
  const runs = (await scan(clients, tables.runs))
    .map((row) => JSON.parse(row) as NightlyRunSummary)
    // The nights' items (not the write leases beside them, each attempt's own).
    .filter((row) => row.job === NIGHTLY_JOB)
    .sort((a, b) => a.runDate.localeCompare(b.runDate))
    .map(figures);
  const summaryText = await readObjectText(clients.s3, reportsBucket(config), `${reportPrefix(config, 'nightly', NIGHT2)}/summary.json`);
  return {
    profiles: await scan(clients, tables.profiles),
    history: await scan(clients, tables.tierHistory),
    runs,
    summary: figures(summaryText ? (JSON.parse(summaryText) as NightlyRunSummary) : undefined),
  };
}

let clean: Awaited<ReturnType<typeof stateOf>>;
/** DynamoDB write requests of the clean second night. */
let writesOfNight = 0;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'clientele-crash-'));
  stateDir = join(work, 'state');
  dynamo = await startPrivateAws(shared, ['dynamodb'], { stateDir });
  exports = { night1: join(work, 'night1'), night2: join(work, 'night2') };
  await generateExport({ customers: CLIENTS, seed: 11, asOf: NIGHT1, orderParts: 2 }, exports.night1);
  await generateExport({ customers: CLIENTS, seed: 11, asOf: NIGHT2, orderParts: 2 }, exports.night2);
  const clients = clientsOf(baseConfig());
  const config = await scenario('clean', clients);
  await night(config, clients, NIGHT1, exports.night1, 'clean-1');
  const counter = { writes: 0 };
  await night(config, crashingAfter(clients, Number.POSITIVE_INFINITY, undefined, counter), NIGHT2, exports.night2, 'clean-2');
  writesOfNight = counter.writes;
  clean = await stateOf(config, clients);
}, 180_000);

afterAll(async () => {
  for (const clients of openClients) destroyAwsClients(clients);
  await dynamo?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('a night stopped part-way, then rerun', () => {
  it('the clean reference moved clients and wrote history on its second night', () => {
    expect(clean.profiles.length).toBeGreaterThan(CLIENTS * 0.9);
    expect(clean.history.filter((row) => row.includes(NIGHT2)).length).toBeGreaterThan(0);
    expect(clean.runs).toHaveLength(2);
  });

  // The writes of a night, in order: its write lease taken, its 'writing' marker, the lease
  // extended, profile batches (25 items each, several in flight), history batches, the lease
  // extended, the summary row, the lease freed. Stopped before the first, before the marker, in the
  // middle, before the summary row (a night stopped freeing its lease is complete).
  it('stopped after k writes for several k: each rerun ends where one clean run does', async () => {
    expect(writesOfNight).toBeGreaterThan(6);
    const points = [...new Set([0, 1, Math.floor(writesOfNight / 2), writesOfNight - 2])];
    for (const k of points) {
      const clients = clientsOf(baseConfig());
      const config = await scenario(`crash-${k}`, clients);
      await night(config, clients, NIGHT1, exports.night1, `crash-${k}-1`);
      await expect(night(config, crashingAfter(clients, k), NIGHT2, exports.night2, `crash-${k}-2`), `crash after ${k} writes`).rejects.toThrow(/crash/);
      if (k > 0) {
        // The dead run still holds the night until its lease ends: a rerun before then writes nothing.
        await expect(night(config, clients, NIGHT2, exports.night2, `crash-${k}-2-early`)).rejects.toThrow(`${NIGHT2} is being written by run crash-${k}-2 (the whole night`);
        expect(await expireWriteLeases({ clients }, config, NIGHT2)).toBe(1);
      }
      await night(config, clients, NIGHT2, exports.night2, `crash-${k}-2-again`);
      expect(await stateOf(config, clients), `rerun after a crash after ${k} of ${writesOfNight} writes`).toEqual(clean);
    }
  }, 400_000);

  it('its first write applied but its answer lost, retried by the SDK: the night takes its own lease and ends where one clean run does', async () => {
    const clients = clientsOf(baseConfig());
    const config = await scenario('lost-lease-answer', clients);
    await night(config, clients, NIGHT1, exports.night1, 'lost-1');
    const lossy = clientsOf(baseConfig());
    const lost = loseOneDynamoDbAnswer(lossy, (command, input) => command === 'UpdateItemCommand' && String(input.UpdateExpression).includes('ADD attempts'));
    await night(config, lossy, NIGHT2, exports.night2, 'lost-2');
    expect(lost()).toBe(true);
    expect(await stateOf(config, clients)).toEqual(clean);
  }, 180_000);

  it('DynamoDB Local killed under the writes, restarted on its data: the rerun ends where one clean run does', async () => {
    let clients = clientsOf(baseConfig());
    const config = await scenario('killed', clients);
    await night(config, clients, NIGHT1, exports.night1, 'killed-1');
    let killed: Promise<void> | undefined;
    const dying = crashingAfter(clients, 8, () => {
      killed = dynamo.stop();
    });
    await expect(night(config, dying, NIGHT2, exports.night2, 'killed-2')).rejects.toThrow();
    await killed;
    dynamo = await startPrivateAws(shared, ['dynamodb'], { stateDir });
    clients = clientsOf(baseConfig());
    const restarted = parseConfig({ ...config, endpoints: baseConfig().endpoints });
    // Its lease was never freed (DynamoDB was gone): the rerun comes once it has ended.
    expect(await expireWriteLeases({ clients }, restarted, NIGHT2)).toBe(1);
    await night(restarted, clients, NIGHT2, exports.night2, 'killed-2-again');
    expect(await stateOf(restarted, clients)).toEqual(clean);
  }, 180_000);
});

describe('a rerun on a corrected export', () => {
  it('replaces the bad night: its movements, its extra client and its summary leave no trace', async () => {
    const clients = clientsOf(baseConfig());
    const config = await scenario('corrected', clients);
    await night(config, clients, NIGHT1, exports.night1, 'corrected-1');
    // A bad export of the second night: half the order lines lost, and a client that does not exist.
    const bad = join(work, 'night2-bad');
    await generateExport({ customers: CLIENTS, seed: 11, asOf: NIGHT2, orderParts: 2 }, bad);
    await writeFile(join(bad, 'orders-0002.csv'), (await readFile(join(bad, 'orders-0002.csv'), 'utf8')).split('\n').slice(0, 2).join('\n') + '\n');
    await appendFile(join(bad, 'customers.csv'), 'GHOST-1,ghost@example.com,Ghost,Client,,en,Asia/Shanghai,2026-01-01T10:00:00+08:00,true,,\n');
    const badNight = await night(config, clients, NIGHT2, bad, 'corrected-2-bad', true);
    expect(badNight.admission?.accepted?.length).toBeGreaterThan(0);
    expect(badNight.changes.downgrades).toBeGreaterThan(0);

    await night(config, clients, NIGHT2, exports.night2, 'corrected-2-good');
    expect(await stateOf(config, clients)).toEqual(clean);
  }, 120_000);
});
