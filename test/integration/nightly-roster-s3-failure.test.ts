import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { PutObjectCommand, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { createS3Client } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import { s3ExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import { exportPrefix } from '#shared/store/buckets.ts';
import { readRoster } from '#shared/store/roster-store.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';

/**
 * S3 resetting the connection in the middle of the advisors roster's body (the SDK does not retry a
 * body already being read) says nothing of the roster: the night fails, as for the customers file,
 * and its rerun reads the roster whole. Taken for a bad roster, it had let the night complete on
 * yesterday's roster (status "kept"), so an advisor who left tonight stayed active for the next
 * day's notes and a new one stayed unknown. A roster that is itself bad is still set aside
 * (test/integration/advisor-roster.test.ts).
 */

const aws = sharedAws();
const N1 = '2026-11-20';
const N2 = '2026-11-21';
const ROSTER_HEADER = 'advisor_id,name,email,locale,active,signature,store';
const IDS = ['c01', 'c02', 'c03', 'c04'];
const customersCsv = ['customer_id,email,first_name,advisor_id', ...IDS.map((id) => `${id},${id}@example.com,Name ${id},A01`)].join('\n') + '\n';
const ordersCsv = ['order_id,customer_id,ordered_at,line_total', ...IDS.map((id) => `${id}-o1,${id},2026-11-10T10:00:00+08:00,600.00`)].join('\n') + '\n';

async function drop(config: Config, runDate: string, files: Record<string, string>): Promise<void> {
  for (const [name, body] of Object.entries(files)) {
    await aws.clients.s3.send(new PutObjectCommand({ Bucket: config.storage.exportsBucket, Key: `${exportPrefix(config, runDate)}/${name}`, Body: body }));
  }
}

/** An S3 client whose GetObject of `keyEnd` gives `bytes` bytes of the body, then a connection reset. */
function resettingBody(config: Config, keyEnd: string, bytes: number) {
  const s3 = createS3Client(config);
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const key = (args.input as { Key?: string }).Key ?? '';
      if (context.commandName === 'GetObjectCommand' && key.endsWith(keyEnd)) {
        const output = result.output as GetObjectCommandOutput;
        const original = output.Body as unknown as Readable;
        const chunks: Buffer[] = [];
        for await (const chunk of original) chunks.push(chunk as Buffer);
        const head = Buffer.concat(chunks).subarray(0, bytes);
        const broken = Readable.from(
          (async function* () {
            yield head;
            await new Promise((resolve) => setTimeout(resolve, 5));
            throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
          })(),
          { objectMode: false },
        );
        (output as { Body: unknown }).Body = broken;
      }
      return result;
    },
    { step: 'initialize', name: 'probeResettingBody' },
  );
  return s3;
}

describe('an S3 failure while the night reads the advisors roster', () => {
  it('fails the night, writing nothing; the rerun on the same export stores tonight\'s roster', async () => {
    const config = await scenarioConfig(aws, 'roster-reset');
    const rosterN1 = [ROSTER_HEADER, 'A01,Sophie Martin,a01@advisors.example.com,en,true,Senior advisor,Paris', 'A02,Old Hand,a02@advisors.example.com,en,true,,Paris'].join('\n') + '\n';
    await drop(config, N1, { 'customers.csv': customersCsv, 'orders.csv': ordersCsv, 'advisors.csv': rosterN1 });
    const first = await runNightly({ clock: Date.now, runDate: N1, runId: 'rr-1', config, clients: aws.clients, source: s3ExportSource(aws.clients.s3, config.storage.exportsBucket, exportPrefix(config, N1)) });
    expect(first.roster).toMatchObject({ status: 'updated', active: 2 });

    // Night 2: A02 has left. S3 breaks the roster's body after its header.
    const rosterN2 = [ROSTER_HEADER, 'A01,Sophie Martin,a01@advisors.example.com,en,true,Senior advisor,Paris', 'A02,Old Hand,a02@advisors.example.com,en,false,,Paris'].join('\n') + '\n';
    await drop(config, N2, { 'customers.csv': customersCsv, 'orders.csv': ordersCsv, 'advisors.csv': rosterN2 });
    const s3 = resettingBody(config, '/advisors.csv', ROSTER_HEADER.length + 10);
    try {
      await expect(
        runNightly({ clock: Date.now, runDate: N2, runId: 'rr-2', config, clients: { ...aws.clients, s3 }, source: s3ExportSource(s3, config.storage.exportsBucket, exportPrefix(config, N2)) }),
      ).rejects.toThrow(/advisors\.csv: could not be read/);
    } finally {
      s3.destroy();
    }
    expect((await readRoster(aws.clients.s3, config))?.advisors.map((a) => [a.advisorId, a.active])).toEqual([['A01', true], ['A02', true]]);

    const rerun = await runNightly({ clock: Date.now, runDate: N2, runId: 'rr-2b', config, clients: aws.clients, source: s3ExportSource(aws.clients.s3, config.storage.exportsBucket, exportPrefix(config, N2)) });
    expect(rerun.roster).toMatchObject({ status: 'updated', active: 1 });
    expect((await readRoster(aws.clients.s3, config))?.advisors.map((a) => [a.advisorId, a.active])).toEqual([['A01', true], ['A02', false]]);
  }, 120_000);

  it('as the same reset in the customers file does', async () => {
    const config = await scenarioConfig(aws, 'customers-reset');
    await drop(config, N1, { 'customers.csv': customersCsv, 'orders.csv': ordersCsv });
    const s3 = resettingBody(config, '/customers.csv', 40);
    try {
      await expect(
        runNightly({ clock: Date.now, runDate: N1, runId: 'cr-1', config, clients: { ...aws.clients, s3 }, source: s3ExportSource(s3, config.storage.exportsBucket, exportPrefix(config, N1)) }),
      ).rejects.toThrow(/customers\.csv/);
    } finally {
      s3.destroy();
    }
  }, 120_000);
});
