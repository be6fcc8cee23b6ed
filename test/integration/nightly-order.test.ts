import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateExport } from '#local/generate/generate.ts';
import type { AwsClients } from '#shared/aws/clients.ts';
import { readObjectText } from '#shared/aws/s3-objects.ts';
import type { Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { NightRefusedError } from '#shared/nightly/admission.ts';
import { runNightly } from '#shared/nightly/run.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';
import { reportPrefix, reportsBucket } from '#shared/store/buckets.ts';
import { tableNames } from '#shared/store/tables.ts';
import { crashingAfter } from '#test/support/crashing-clients.ts';
import { scanTable } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { comparable, storedState } from '#test/support/nightly-comparison.ts';

/**
 * Nights run in order: a completed night rerun while the next one is half-written is refused with
 * an error that names the next night, and writes nothing.
 */

const aws = sharedAws();
const work = scratchDir('nightly-order');
const [D1, D2, D3] = ['2026-11-22', '2026-11-23', '2026-11-24'] as const;

const night = (config: Config, clients: AwsClients, runDate: string, dir: string, runId: string, acceptDrop = false) =>
  runNightly({ runDate, runId, config, clients, clock: Date.now, source: directoryExportSource(dir), acceptDrop });

/** Three dated snapshots of the same clients. */
async function exports(name: string, customers: number, seed: number): Promise<Record<'d1' | 'd2' | 'd3', string>> {
  const dirs = { d1: join(work, name, 'd1'), d2: join(work, name, 'd2'), d3: join(work, name, 'd3') };
  await generateExport({ customers, seed, asOf: D1, orderParts: 2, malformedRows: 0 }, dirs.d1);
  await generateExport({ customers, seed, asOf: D2, orderParts: 2, malformedRows: 0 }, dirs.d2);
  await generateExport({ customers, seed, asOf: D3, orderParts: 2, malformedRows: 0 }, dirs.d3);
  return dirs;
}

/** Everything a refused write could touch: profiles, history, the runs table's items as stored, and a night's summary object. */
async function everything(config: Config, summaryOf: string) {
  return {
    ...(await storedState(aws, config)),
    runs: await scanTable(aws, tableNames(config).runs),
    summary: await readObjectText(aws.clients.s3, reportsBucket(config), `${reportPrefix(config, 'nightly', summaryOf)}/summary.json`),
  };
}

/** The figures of every completed night in the runs table, by date. */
async function nights(config: Config) {
  const rows = await scanTable<NightlyRunSummary>(aws, tableNames(config).runs);
  return rows.filter((row) => row.job === 'nightly').sort((a, b) => a.runDate.localeCompare(b.runDate)).map((row) => ({ runDate: row.runDate, ...comparable(row) }));
}

describe('order of nights', () => {
  it('refuses to rerun a completed night while the next one is half-written, naming it; the next night\'s rerun then ends where a clean sequence ends', async () => {
    const dirs = await exports('later-writing', 150, 11);
    // D2 as first exported: one orders part cut short, a client the corrected export does not have.
    const bad = join(work, 'later-writing', 'd2-bad');
    await generateExport({ customers: 150, seed: 11, asOf: D2, orderParts: 2, malformedRows: 0 }, bad);
    const part = join(bad, 'orders-0002.csv');
    await writeFile(part, (await readFile(part, 'utf8')).split('\n').slice(0, 2).join('\n') + '\n');
    await appendFile(join(bad, 'customers.csv'), 'GHOST-1,ghost@example.com,Ghost,Client,,en,Asia/Shanghai,2026-01-01T10:00:00+08:00,true,,\n');

    const clean = await scenarioConfig(aws, 'later-writing-clean');
    await night(clean, aws.clients, D1, dirs.d1, 'c1');
    await night(clean, aws.clients, D2, bad, 'c2-bad', true);
    await night(clean, aws.clients, D3, dirs.d3, 'c3', true);

    const config = await scenarioConfig(aws, 'later-writing');
    await night(config, aws.clients, D1, dirs.d1, 'a1');
    await night(config, aws.clients, D2, bad, 'a2-bad', true);
    const crashing = crashingAfter(aws.clients, 4);
    await expect(night(config, crashing, D3, dirs.d3, 'a3-crash', true)).rejects.toThrow(/crash/);
    await crashing.settled();
    const halfWritten = await everything(config, D2);

    // Rerun under D3, D2 would change the clients D3's before-images hold as D2 left them.
    const rerun = night(config, aws.clients, D2, dirs.d2, 'a2-good');
    await expect(rerun).rejects.toThrow(NightRefusedError);
    await expect(rerun).rejects.toThrow(/2026-11-23 refused, nothing written: the night of 2026-11-24 is being written or stopped while writing \(run a3-crash, /);
    await expect(rerun).rejects.toThrow(/Finish 2026-11-24 first \(rerun it: clientele run nightly --date 2026-11-24\)/);
    expect(await everything(config, D2)).toEqual(halfWritten);

    await night(config, aws.clients, D3, dirs.d3, 'a3', true);
    expect(await storedState(aws, config)).toEqual(await storedState(aws, clean));
    expect(await nights(config)).toEqual(await nights(clean));
  }, 300_000);
});
