import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateExport } from '#local/generate/generate.ts';
import type { AwsClients } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { combineWorkMeasures, finishFromWork, measureShardToWork, planNight, repartitionToWork, writeShardFromWork } from '#shared/nightly/distributed.ts';
import { nightContext, runNightly } from '#shared/nightly/run.ts';
import { shardsOf, type ShardSpec } from '#shared/nightly/shards.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';
import { getRun } from '#shared/store/runs-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { aroundDocuments } from '#test/support/crashing-clients.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { comparable, storedState } from '#test/support/nightly-comparison.ts';

/**
 * Two single runs of the same night at once (the state machine's retry of an ambiguous Lambda
 * error while the first invocation still runs, the scheduler's retried start, an operator's
 * second `clientele run nightly`), or a single run beside a sharded execution: one writes the
 * night, the other writes nothing and fails saying who holds it, and the night ends where one
 * clean run ends, whatever the interleaving.
 */

const aws = sharedAws();
const work = scratchDir('nightly-concurrent-runs');
const [D1, D2] = ['2026-11-22', '2026-11-23'] as const;

type Outcome = { ok: true; summary: NightlyRunSummary } | { ok: false; error: Error };

const settle = (run: Promise<NightlyRunSummary>): Promise<Outcome> =>
  run.then(
    (summary) => ({ ok: true, summary }),
    (error: unknown) => ({ ok: false, error: error instanceof Error ? error : new Error(String(error)) }),
  );

/** Resolves once the run has got to `point`, or has ended before reaching it. */
const reachedOrEnded = (point: Promise<void>, run: Promise<Outcome>) => Promise.race([point, run.then(() => undefined)]);

interface CommandInput {
  TableName?: string;
  Key?: Record<string, unknown>;
  Item?: Record<string, unknown>;
}

const WRITES = new Set(['BatchWriteCommand', 'PutCommand', 'UpdateCommand', 'DeleteCommand']);
const tableOf = (input: CommandInput) => input.TableName?.slice(input.TableName.lastIndexOf('-') + 1) ?? '';

/** The night marked as being written by a run: its first write of the night. */
const isMark = (name: string, input: CommandInput) => name === 'PutCommand' && input.Item?.job === 'nightly' && input.Item.status === 'writing';
/**
 * A run's read of the night's item: whether the night is completed already (a rerun), then where
 * it stands before the writes, then again as the finish begins (the third).
 */
const isNightRead = (name: string, input: CommandInput) => name === 'GetCommand' && input.Key?.job === 'nightly';

/** The n-th call `matches` accepts. */
function nth(n: number, matches: (name: string, input: CommandInput) => boolean) {
  let seen = 0;
  return (name: string, input: CommandInput) => matches(name, input) && ++seen === n;
}

interface Stop {
  reached: Promise<void>;
  release(): void;
}

/**
 * A run's clients, stopping it at each of `points` (a DynamoDB call) until the test lets it go,
 * and recording every DynamoDB write it sends as "<command> <table>".
 */
function stopping(...points: ((name: string, input: CommandInput) => boolean)[]): { clients: AwsClients; stops: Stop[]; writes: string[] } {
  const stops = points.map((matches) => {
    let reach!: () => void;
    let release!: () => void;
    const reached = new Promise<void>((resolve) => (reach = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    return { matches, reach, reached, release, released };
  });
  const writes: string[] = [];
  const clients = aroundDocuments(aws.clients, async (name, raw, go) => {
    const input = raw as CommandInput;
    for (const stop of stops) {
      if (stop.matches(name, input)) {
        stop.reach();
        await stop.released;
      }
    }
    if (WRITES.has(name)) writes.push(`${name} ${tableOf(input)}`);
    return go();
  });
  return { clients, stops, writes };
}

const night = (config: Config, clients: AwsClients, runDate: string, dir: string, runId: string) =>
  runNightly({ runDate, runId, config, clients, clock: Date.now, source: directoryExportSource(dir) });

async function exportsOf(name: string): Promise<{ d1: string; d2: string }> {
  const dirs = { d1: join(work, name, 'd1'), d2: join(work, name, 'd2') };
  await generateExport({ customers: 300, seed: 31, asOf: D1, orderParts: 2, malformedRows: 0 }, dirs.d1);
  await generateExport({ customers: 300, seed: 31, asOf: D2, orderParts: 2, malformedRows: 0 }, dirs.d2);
  return dirs;
}

/** Both nights run once each on `name`'s own tables: where every interleaving must end. */
async function cleanNights(name: string, dirs: { d1: string; d2: string }) {
  const config = await scenarioConfig(aws, name);
  await night(config, aws.clients, D1, dirs.d1, `${name}-1`);
  const summary = await night(config, aws.clients, D2, dirs.d2, `${name}-2`);
  return { summary: comparable(summary), state: await storedState(aws, config) };
}

/** A scenario's tables after its first night, the second one's export beside it. */
async function afterFirstNight(name: string, dirs: { d1: string; d2: string }) {
  const config = await scenarioConfig(aws, name);
  await night(config, aws.clients, D1, dirs.d1, `${name}-1`);
  return config;
}

/** What a refused attempt sent to DynamoDB: its lease taken and freed in the runs table, nothing else. */
const dataWrites = (writes: readonly string[]) => writes.filter((write) => !write.endsWith(' runs'));

describe('two attempts of the same night at once', () => {
  it('the second loading its base before the first writes, and marking the night once the first has written: refused, the night as one clean run leaves it', async () => {
    const dirs = await exportsOf('interleaved');
    const clean = await cleanNights('interleaved-clean', dirs);
    const config = await afterFirstNight('interleaved', dirs);

    // The tester's interleaving: A has read the export and its base; B reads the export and its
    // base (as the night stood before A wrote anything); A writes every client and stops before
    // its finish; B marks the night as its own, writes and finishes; A finishes.
    const a = stopping(nth(1, isMark), nth(3, isNightRead));
    const b = stopping(nth(1, isMark));
    const [markA, finishA] = a.stops as [Stop, Stop];
    const [markB] = b.stops as [Stop];
    const runA = settle(night(config, a.clients, D2, dirs.d2, 'run-a'));
    await markA.reached;
    const runB = settle(night(config, b.clients, D2, dirs.d2, 'run-b'));
    await reachedOrEnded(markB.reached, runB);
    markA.release();
    await reachedOrEnded(finishA.reached, runA);
    markB.release();
    const outcomeB = await runB;
    finishA.release();
    const outcomeA = await runA;

    expect(await storedState(aws, config)).toEqual(clean.state);
    expect(outcomeA).toMatchObject({ ok: true, summary: { status: 'completed', runId: 'run-a' } });
    if (outcomeA.ok) expect(comparable(outcomeA.summary)).toEqual(clean.summary);
    expect(outcomeB.ok).toBe(false);
    if (!outcomeB.ok) {
      expect(outcomeB.error.name).toBe('NightBusyError');
      expect(outcomeB.error.message).toMatch(/^2026-11-23 is being written by run run-a \(the whole night, holder run-a\/night\/[0-9a-f-]+, since .*Z, its lease ends at .*Z\); run run-b wrote nothing\./);
    }
    expect(dataWrites(b.writes)).toEqual([]);
    // A rerun now finds the night completed from the same export.
    const rerun = await night(config, aws.clients, D2, dirs.d2, 'run-c');
    expect(rerun.rerun).toMatchObject({ runId: 'run-c', of: 'run-a' });
    expect(await storedState(aws, config)).toEqual(clean.state);
  }, 300_000);

  it('the second started while the first is between its writes and its finish, under another run id or the same one: refused, writing nothing; the first completes the night', async () => {
    const dirs = await exportsOf('between');
    const clean = await cleanNights('between-clean', dirs);
    const config = await afterFirstNight('between', dirs);

    const a = stopping(nth(3, isNightRead));
    const [finishA] = a.stops as [Stop];
    const runA = settle(night(config, a.clients, D2, dirs.d2, 'run-a'));
    await reachedOrEnded(finishA.reached, runA);
    const b = stopping();
    await expect(night(config, b.clients, D2, dirs.d2, 'run-b')).rejects.toThrow(
      /^2026-11-23 is being written by run run-a \(the whole night, .*\); run run-b wrote nothing\. Let run run-a finish: .*clientele status/,
    );
    // The same run id again (a Lambda retried with its event, say): the lease itself refuses it.
    const retry = stopping();
    await expect(night(config, retry.clients, D2, dirs.d2, 'run-a')).rejects.toThrow(/^2026-11-23 \(run run-a\) is being written by another attempt \(run-a\/night\/[0-9a-f-]+, attempt 1, since .*\); this one wrote nothing\./);
    expect(dataWrites([...b.writes, ...retry.writes])).toEqual([]);
    finishA.release();
    const outcomeA = await runA;

    expect(outcomeA).toMatchObject({ ok: true, summary: { status: 'completed' } });
    if (outcomeA.ok) expect(comparable(outcomeA.summary)).toEqual(clean.summary);
    expect(await storedState(aws, config)).toEqual(clean.state);
  }, 300_000);

  it('started together: whichever writes, the night ends where one clean run ends, and an attempt that did not write says who did', async () => {
    const dirs = await exportsOf('together');
    const clean = await cleanNights('together-clean', dirs);
    const config = await afterFirstNight('together', dirs);

    const outcomes = await Promise.all(['run-a', 'run-b'].map((runId) => settle(night(config, aws.clients, D2, dirs.d2, runId))));
    for (const outcome of outcomes) {
      if (!outcome.ok) expect(outcome.error.message).toMatch(/is being written by (run run-[ab]|another attempt)/);
    }
    // Both may have seen the other's lease and stood back: then the night is simply run again.
    if (!outcomes.some((outcome) => outcome.ok)) await night(config, aws.clients, D2, dirs.d2, 'run-c');
    expect(await storedState(aws, config)).toEqual(clean.state);
    const stored = await getRun<NightlyRunSummary>(aws.clients.documents, tableNames(config).runs, { job: 'nightly', runDate: D2 });
    expect(stored?.status).toBe('completed');
    expect(comparable(stored as NightlyRunSummary)).toEqual(clean.summary);
  }, 300_000);

  it('beside a sharded execution whose shard is writing: the single run is refused naming the shard, and the execution completes the night', async () => {
    const dirs = await exportsOf('beside-shards');
    const clean = await cleanNights('beside-shards-clean', dirs);
    const config = await afterFirstNight('beside-shards', dirs);
    // Execution e1 of the night, 2 shards, phase by phase as the state machine runs them.
    const e1 = nightContext({ runDate: D2, runId: 'e1', config, clients: aws.clients, clock: Date.now });
    const startedAt = Date.now();
    const source = directoryExportSource(dirs.d2);
    const { readers } = await planNight(e1, 2, source);
    for (const reader of readers) await repartitionToWork(e1, { shards: 2, reader }, source);
    for (const shard of shardsOf(2)) await measureShardToWork(e1, shard);
    await combineWorkMeasures(e1, { shards: 2, startedAt });
    const [shard0, shard1] = shardsOf(2) as [ShardSpec, ShardSpec];

    // Shard 0 stops at its first batch of profiles, its lease held.
    const held = stopping(nth(1, (name) => name === 'BatchWriteCommand'));
    const [profilesOf0] = held.stops as [Stop];
    const writing = writeShardFromWork(nightContext({ runDate: D2, runId: 'e1', config, clients: held.clients, clock: Date.now }), shard0);
    await profilesOf0.reached;
    const single = stopping();
    await expect(night(config, single.clients, D2, dirs.d2, 'run-b')).rejects.toThrow(/^2026-11-23 is being written by run e1 \(shard 0\/2, holder e1\/0\/[0-9a-f-]+, since .*\); run run-b wrote nothing\./);
    expect(dataWrites(single.writes)).toEqual([]);
    profilesOf0.release();
    await writing;
    await writeShardFromWork(e1, shard1);
    const summary = await finishFromWork(e1, { shards: 2, startedAt }, source);

    expect(comparable(summary)).toEqual(clean.summary);
    expect(await storedState(aws, config)).toEqual(clean.state);
  }, 300_000);
});
