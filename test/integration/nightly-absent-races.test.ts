import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runNightlySharded } from '#local/nightly/sharded-run.ts';
import type { AwsClients } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import { directoryExportSource } from '#shared/exports/source.ts';
import { runNightly } from '#shared/nightly/run.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignConfig, runCampaignHour } from '#test/support/campaign-runs.ts';
import { dropIncrement, expireWriteLeases } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { crashingAfter } from '#test/support/crashing-clients.ts';
import { storedState } from '#test/support/nightly-comparison.ts';
import { at as local } from '#test/support/time.ts';

/**
 * The absence marks (shared/nightly/absent.ts) where nights meet reruns, crashes, shards and the
 * hourly ingest: each case ends, in its tables and its counts, where one clean run ends.
 * (Found by an adversarial pass over the feature; each failed before its fix.)
 */
const aws = sharedAws();
const work = scratchDir('absent-probe');
const SH = 'Asia/Shanghai';
const ALL = ['c1', 'c2', 'c3', 'c4', 'c5'] as const;
const [BEFORE, GONE, STILL] = ['2026-11-08', '2026-11-09', '2026-11-10'] as const;

async function exportOf(name: string, clients: readonly string[], extraOrders: string[] = []): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  const customers = clients.map((id) => `${id},${id}@absent.example.com,N,en,${SH},true`);
  const orders = clients.map((id) => `${id}-1,${id},2026-09-10T10:00:00+08:00,800.00`);
  await writeFile(join(dir, 'customers.csv'), ['customer_id,email,first_name,locale,time_zone,accepts_marketing', ...customers].join('\n') + '\n');
  await writeFile(join(dir, 'orders.csv'), ['order_id,customer_id,ordered_at,line_total', ...orders, ...extraOrders].join('\n') + '\n');
  return dir;
}

const scenario = (name: string) =>
  campaignConfig(aws, name, {
    campaigns: { policy: { controlShare: 0 }, campaigns: [{ kind: 'winback' }] } as never,
    plausibility: { maxNewlyAbsentShare: 0.5, maxUpgradeShare: 0.5 },
  });

const single = (config: Config, runDate: string, dir: string, runId: string, clients: AwsClients = aws.clients, clock: () => number = Date.now) =>
  runNightly({ clock, runDate, runId, config, clients, source: directoryExportSource(dir), acceptDrop: false });

/** Clients whose DynamoDB document client dies on the first write after the night's absence marks. */
function dyingAfterMarks(clients: AwsClients): AwsClients {
  let marked = false;
  let dead = false;
  const send = clients.documents.send.bind(clients.documents);
  const documents = Object.create(clients.documents) as AwsClients['documents'];
  documents.send = ((command: { constructor: { name: string }; input: { UpdateExpression?: string } }, ...rest: unknown[]) => {
    const name = command.constructor.name;
    const write = ['BatchWriteCommand', 'PutCommand', 'UpdateCommand', 'DeleteCommand'].includes(name);
    if (dead) return Promise.reject(new Error('crash: the process died here'));
    if (write && marked && !(name === 'UpdateCommand' && command.input.UpdateExpression?.includes('absentSince'))) {
      dead = true;
      return Promise.reject(new Error('crash: the process died here'));
    }
    if (name === 'UpdateCommand' && command.input.UpdateExpression?.includes('absentSince')) marked = true;
    return (send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
  }) as AwsClients['documents']['send'];
  return { ...clients, documents };
}

const tonight = (s: NightlyRunSummary) => ({ newlyAbsent: s.admission?.tonight.newlyAbsent, stillAbsent: s.admission?.tonight.stillAbsent });

describe('clients absent from a snapshot, against reruns, crashes, shards and the hourly ingest', () => {
  it('a rerun after a crash that followed the absence marks counts them as a clean run does (newly absent, not still)', { timeout: 240_000 }, async () => {
    const before = await exportOf('p1-before', ALL);
    const gone = await exportOf('p1-gone', ALL.slice(0, 4));
    const clean = await scenario('p1-clean');
    await single(clean, BEFORE, before, 'c-1');
    const cleanSummary = await single(clean, GONE, gone, 'c-2');

    const crashed = await scenario('p1-crashed');
    await single(crashed, BEFORE, before, 'x-1');
    await expect(single(crashed, GONE, gone, 'x-2', dyingAfterMarks(aws.clients))).rejects.toThrow(/crash/);
    expect(await getProfile(aws.clients.documents, tableNames(crashed).profiles, 'c5')).toMatchObject({ absentSince: GONE });
    await expireWriteLeases(aws, crashed, GONE);
    const rerun = await single(crashed, GONE, gone, 'x-2-again');
    expect(await storedState(aws, crashed)).toEqual(await storedState(aws, clean));
    expect(tonight(rerun)).toEqual(tonight(cleanSummary));
  });

  it('a rerun on an export that lacks a client an increment brought after the cut-off neither marks nor counts them, as a clean run', { timeout: 240_000 }, async () => {
    const signUp = (id: string) => `customer_id,email,first_name,time_zone,accepts_marketing\n${id},${id}@absent.example.com,N,${SH},true\n`;
    const withC6 = await exportOf('p2-with-c6', [...ALL, 'c6']);
    const withoutC6 = await exportOf('p2-without-c6', ALL);
    const setUp = async (name: string) => {
      const config = await scenario(name);
      await single(config, BEFORE, await exportOf(`${name}-before`, ALL), `${name}-1`, aws.clients, () => local(`${GONE} 01:00`, SH));
      await dropIncrement(aws, config, `${STILL}T0100`, { 'customers.csv': signUp('c6') });
      await runCampaignHour(aws, config, local(`${STILL} 01:30`, SH), `${name}-h`);
      return config;
    };
    const clean = await setUp('p2-clean');
    const cleanSummary = await single(clean, GONE, withoutC6, 'p2c-2', aws.clients, () => local(`${STILL} 02:00`, SH));
    const rerun = await setUp('p2-rerun');
    await single(rerun, GONE, withC6, 'p2r-2', aws.clients, () => local(`${STILL} 02:00`, SH));
    const rerunSummary = await single(rerun, GONE, withoutC6, 'p2r-2-corrected', aws.clients, () => local(`${STILL} 02:30`, SH));
    const c6clean = await getProfile(aws.clients.documents, tableNames(clean).profiles, 'c6');
    const c6rerun = await getProfile(aws.clients.documents, tableNames(rerun).profiles, 'c6');
    expect(c6rerun?.absentSince).toEqual(c6clean?.absentSince);
    expect(tonight(rerunSummary)).toEqual(tonight(cleanSummary));
  });

  it('three shards count and mark as one process (generic export)', { timeout: 300_000 }, async () => {
    const ids = Array.from({ length: 30 }, (_, k) => `k${k}`);
    const before = await exportOf('p3-before', ids);
    const gone = await exportOf('p3-gone', ids.filter((_, k) => k % 7 !== 3));
    const one = await scenario('p3-one');
    await single(one, BEFORE, before, 'p3o-1');
    const s1 = await single(one, GONE, gone, 'p3o-2');
    const three = await scenario('p3-three');
    const sharded = (runDate: string, path: string, runId: string) =>
      runNightlySharded({ clock: Date.now, runDate, runId, config: three, clients: aws.clients, shards: 3, source: { kind: 'directory', path } });
    await sharded(BEFORE, before, 'p3t-1');
    const s3 = await sharded(GONE, gone, 'p3t-2');
    expect(tonight(s3)).toEqual(tonight(s1));
    const strip = (s: Awaited<ReturnType<typeof storedState>>) => s.profiles.map(({ updatedRunDate: _u, ...rest }) => rest);
    expect(strip(await storedState(aws, three))).toEqual(strip(await storedState(aws, one)));
  });

  it('a client brought back by an increment keeps, for the next night, the lapse exemption of a client back from absence', { timeout: 240_000 }, async () => {
    const BACK = '2026-11-11';
    const nightAt = (config: Config, runDate: string, dir: string, acceptDrop = false) =>
      runNightly({ clock: () => local(`${addOne(runDate)} 02:00`, SH), runDate, runId: `n-${runDate}`, config, clients: aws.clients, source: directoryExportSource(dir), acceptDrop });
    const addOne = (d: string) => new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const all = await exportOf('p4-all', ALL);
    const four = await exportOf('p4-four', ALL.slice(0, 4));
    const run = async (name: string, withIncrement: boolean, mergedBeforeTheMark = false) => {
      const config = await scenario(name);
      await nightAt(config, BEFORE, all);
      if (mergedBeforeTheMark) {
        // An increment of the 9th has c5 (it sets lastNight); the night of the 9th, whose snapshot lacks them, marks them after it.
        await dropIncrement(aws, config, `${GONE}T1000`, { 'customers.csv': `customer_id,email,first_name\nc5,c5@absent.example.com,N\n` });
        await runCampaignHour(aws, config, local(`${GONE} 11:00`, SH), `${name}-h0`);
      }
      await nightAt(config, GONE, four);
      await nightAt(config, STILL, four);
      if (withIncrement) {
        // c5 is on the platform again: a consent row dropped after the newest night (STILL, begun 11-11 02:00).
        await dropIncrement(aws, config, `${BACK}T0900`, { 'customers.csv': `customer_id,email,first_name\nc5,c5@absent.example.com,N\n` });
        await runCampaignHour(aws, config, local(`${BACK} 10:00`, SH), `${name}-h`);
        expect(await getProfile(aws.clients.documents, tableNames(config).profiles, 'c5')).not.toHaveProperty('absentSince');
      }
      try {
        const s = await nightAt(config, BACK, all);
        return { ok: true, lapses: s.admission?.tonight.unexplainedLapses };
      } catch (error) {
        return { ok: false, error: (error as Error).message };
      }
    };
    const control = await run('p4-control', false);
    const viaIncrement = await run('p4-increment', true);
    expect(viaIncrement).toEqual(control);
    // The same when an earlier increment had set the profile's lastNight before the night marked it.
    expect(await run('p4-increment-before-mark', true, true)).toEqual(control);
  });

  it('a rerun on a worse export is refused as a clean run is: the marks of its first attempt count as tonight\u2019s', { timeout: 240_000 }, async () => {
    const ids = Array.from({ length: 50 }, (_, k) => `m${String(k).padStart(2, '0')}`);
    const before = await exportOf('p5-before', ids);
    const v1 = await exportOf('p5-v1', ids.filter((id) => id !== 'm01')); // 1 of 50 missing: 2%, allowed
    const v2 = await exportOf('p5-v2', ids.filter((id) => id !== 'm01' && id !== 'm02')); // 2 of 50 missing: 4%, refused
    const strict = (name: string) =>
      campaignConfig(aws, name, { campaigns: { policy: { controlShare: 0 }, campaigns: [{ kind: 'winback' }] } as never, plausibility: { maxNewlyAbsentShare: 0.02 } });
    const clean = await strict('p5-clean');
    await single(clean, BEFORE, before, 'p5c-1');
    const cleanOutcome = await single(clean, GONE, v2, 'p5c-2').then((s) => ({ ok: true, tonight: tonight(s) }), (e: Error) => ({ ok: false, error: e.message }));
    const rerun = await strict('p5-rerun');
    await single(rerun, BEFORE, before, 'p5r-1');
    const first = await single(rerun, GONE, v1, 'p5r-2');
    const rerunOutcome = await single(rerun, GONE, v2, 'p5r-2-again').then((s) => ({ ok: true, tonight: tonight(s) }), (e: Error) => ({ ok: false, error: e.message }));
    expect(rerunOutcome.ok).toBe(cleanOutcome.ok);
  });

  it('a night that marks a client while the hourly ingest merges them keeps its mark: the ingest writes only a profile still as it read it', { timeout: 240_000 }, async () => {
    const all = await exportOf('p6-all', ALL);
    const four = await exportOf('p6-four', ALL.slice(0, 4));
    const nightAt = (config: Config, runDate: string, dir: string, at: string, runId: string) =>
      runNightly({ clock: () => local(at, SH), runDate, runId, config, clients: aws.clients, source: directoryExportSource(dir), acceptDrop: false });
    const consentRow = `customer_id,email,first_name\nc5,c5@absent.example.com,N\n`;
    const run = async (name: string, interleave: boolean) => {
      const config = await scenario(name);
      await nightAt(config, BEFORE, all, `${GONE} 02:00`, `${name}-1`);
      // Dropped 23:00 on the 9th, before the night's cut-off: the night of the 9th (snapshot without c5) marks c5 either way.
      await dropIncrement(aws, config, `${GONE}T2300`, { 'customers.csv': consentRow });
      const night = () => nightAt(config, GONE, four, `${STILL} 02:00`, `${name}-2`);
      let clients = aws.clients;
      if (interleave) {
        const send = aws.clients.documents.send.bind(aws.clients.documents);
        const documents = Object.create(aws.clients.documents) as AwsClients['documents'];
        let ran = false;
        documents.send = (async (command: { constructor: { name: string }; input: { TableName?: string; Item?: { customerId?: string } } }, ...rest: unknown[]) => {
          const { TableName: table, Item: item } = command.input;
          if (!ran && command.constructor.name === 'PutCommand' && table === tableNames(config).profiles && item?.customerId === 'c5') {
            ran = true;
            // The night runs between the ingest's read of c5 and its write.
            await night();
          }
          return (send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
        }) as AwsClients['documents']['send'];
        clients = { ...aws.clients, documents };
      }
      const hour = await runCampaignHour(aws, config, local(`${STILL} 02:00`, SH), `${name}-h`, { clients });
      if (!interleave) await night();
      const later = await runCampaignHour(aws, config, local(`${STILL} 10:00`, SH), `${name}-h2`);
      const c5 = await getProfile(aws.clients.documents, tableNames(config).profiles, 'c5');
      return {
        c5: { absentSince: c5?.absentSince, nextDueDay: c5?.nextDueDay, lastIncrement: c5?.lastIncrement },
        winbacks: (hour.campaigns.winback?.sent ?? 0) + (later.campaigns.winback?.sent ?? 0),
        // Each client counted once, by the hour that wrote them.
        updatedClients: hour.ingested.updatedClients + later.ingested.updatedClients,
        deferred: hour.ingested.deferred,
      };
    };
    const serial = await run('p6-serial', false);
    const raced = await run('p6-raced', true);
    expect(raced.c5).toEqual(serial.c5);
    expect(raced.winbacks).toBe(serial.winbacks);
    expect(serial).toMatchObject({ updatedClients: 1, deferred: [] });
    // The hour whose write met the night's mark left the folder to the next hour, which merged it into the marked profile.
    expect(raced).toMatchObject({ updatedClients: 1, deferred: [{ folder: `${GONE}T2300`, clients: 1 }] });
  });

  it('a crash after any write of a night with an absent client, then a rerun: the tables end as a clean run leaves them', { timeout: 600_000 }, async () => {
    const before = await exportOf('p7-before', ALL);
    const gone = await exportOf('p7-gone', ALL.slice(0, 4), ['c1-2,c1,2026-11-08T10:00:00+08:00,900.00']);
    const clean = await scenario('p7-clean');
    await single(clean, BEFORE, before, 'p7c-1');
    const counter = { writes: 0 };
    await single(clean, GONE, gone, 'p7c-2', crashingAfter(aws.clients, Number.POSITIVE_INFINITY, undefined, counter));
    const want = await storedState(aws, clean);
    const failures: string[] = [];
    for (let k = 1; k < counter.writes; k++) {
      const config = await scenario(`p7-k${k}`);
      await single(config, BEFORE, before, `p7-${k}-1`);
      const dying = crashingAfter(aws.clients, k);
      await single(config, GONE, gone, `p7-${k}-2`, dying).catch(() => undefined);
      await dying.settled();
      await expireWriteLeases(aws, config, GONE);
      await single(config, GONE, gone, `p7-${k}-again`);
      const got = await storedState(aws, config);
      if (JSON.stringify(got) !== JSON.stringify(want)) failures.push(`k=${k}: ${JSON.stringify(got.profiles.find((p) => p.customerId === 'c5'))}`);
    }
    expect(failures).toEqual([]);
  });

  it('Shopify in 3 shards marks as one process: emails gained, changed, lost, upper-cased, clients without email, one gone of each', { timeout: 400_000 }, async () => {
    type Row = { id: string; email: string };
    const shopify = async (name: string, customers: Row[], orderEmails: string[]) => {
      const dir = join(work, name);
      await mkdir(dir, { recursive: true });
      const orders = orderEmails.map((e, k) => `#${name}-${k},${e},paid,800.00,2026-09-10 10:00:00 +0800,1,800.00,SKU-1`);
      await writeFile(join(dir, 'customers_export.csv'), ['Customer ID,Email,Accepts Email Marketing', ...customers.map((c) => `${c.id},${c.email},yes`)].join('\n') + '\n');
      await writeFile(join(dir, 'orders_export.csv'), ['Name,Email,Financial Status,Subtotal,Created at,Lineitem quantity,Lineitem price,Lineitem sku', ...orders].join('\n') + '\n');
      return dir;
    };
    const base: Row[] = Array.from({ length: 12 }, (_, k) => ({ id: String(100 + k), email: `b${k}@absent.example.com` }));
    const noEmail = Array.from({ length: 6 }, (_, k) => ({ id: String(200 + k), email: '' }));
    const guestEmails = Array.from({ length: 6 }, (_, k) => `guest${k}@absent.example.com`);
    const night1 = await shopify('p8-1', [...base, ...noEmail], base.map((c) => c.email));
    const tonightRows: Row[] = base.map((c, k) =>
      k < 3 ? { ...c, email: '' } /* lost */ : k < 6 ? { ...c, email: `changed${k}@absent.example.com` } : k < 8 ? { ...c, email: c.email.toUpperCase() } : c,
    ).filter((_, k) => k !== 11); // 111 gone
    const gained = noEmail.map((c, k) => (k < 4 ? { ...c, email: `gained${k}@absent.example.com` } : c)).filter((_, k) => k !== 5); // 205 gone
    const night2 = await shopify('p8-2', [...tonightRows, ...gained], [...tonightRows.filter((c) => c.email).map((c) => c.email)]);
    const config = (name: string) => campaignConfig(aws, name, { plausibility: { maxNewlyAbsentShare: 0.9, maxUpgradeShare: 0.9, maxDropShare: 0.9, maxDowngradeShare: 0.9, maxUnexplainedLapseShare: 0.9 } });
    const one = await config('p8-one');
    await single(one, BEFORE, night1, 'p8o-1');
    const s1 = await single(one, GONE, night2, 'p8o-2');
    const three = await config('p8-three');
    const sharded = (runDate: string, path: string, runId: string) =>
      runNightlySharded({ clock: Date.now, runDate, runId, config: three, clients: aws.clients, shards: 3, source: { kind: 'directory', path } });
    await sharded(BEFORE, night1, 'p8t-1');
    const s3 = await sharded(GONE, night2, 'p8t-2');
    const strip = (s: Awaited<ReturnType<typeof storedState>>) => s.profiles.map(({ updatedRunDate: _u, ...rest }) => rest);
    const a = strip(await storedState(aws, one));
    const b = strip(await storedState(aws, three));
    expect(tonight(s3)).toEqual(tonight(s1));
    expect(a.filter((p) => p.absentSince).map((p) => p.customerId)).toEqual(['111', '205']);
    expect(b).toEqual(a);
  });
});

