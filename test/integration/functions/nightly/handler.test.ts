import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { getRun } from '#shared/store/runs-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { generateExport } from '#local/generate/generate.ts';
import { readObjectBytes } from '#shared/aws/s3-objects.ts';
import type { Config } from '#shared/config.ts';
import { forgetClient } from '#shared/forget/forget.ts';
import { erasedKey, recordErasure } from '#shared/store/erasure-store.ts';
import { getSuppression, suppress } from '#shared/store/suppression-store.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { nightResultOf, type CombineReceipt, type MeasureReceipt, type NightResult, type PreparedNight, type RepartitionReceipt, type WriteReceipt } from '#shared/nightly/distributed.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';
import { shardsOf } from '#shared/nightly/shards.ts';
import { reportsBucket, runWorkPrefix } from '#shared/store/buckets.ts';
import { addDays, localDate, startOfLocalDay } from '#shared/time.ts';
import { deployedRole, type DeployedRole } from '#test/support/deployed-role.ts';
import { seedProfiles, uploadExport } from '#test/support/emulator-data.ts';
import { csv, exportDir, removeExportDirs, scratchDir } from '#test/support/export-files.ts';
import { lambdaHarness } from '#test/support/lambda-handler.ts';
import { fakeSecretsExtension } from '#test/support/secrets-extension.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { comparable, storedState } from '#test/support/nightly-comparison.ts';
import { profileItem } from '#test/support/profiles.ts';

/**
 * The nightly Lambda handler as the sharded state machine calls it: prepare, then repartition and
 * measure per shard, combine, write per shard, finish, each a separate invocation that keeps nothing but what
 * it stored in S3. The result must be what the unsharded state machine's single invocation stores
 * for the same export. Each runs with what its deployment's role allows (a sharded stack's, the default one's).
 */

// The same sample as the worker-thread shards test (nightly-shards.test.ts): its CLV fit is sound.
const CUSTOMERS = 700;
const NIGHT = '2026-11-23';
const SHARDS = 3;

const aws = sharedAws();
const work = scratchDir('nightly-handler');
const lambda = lambdaHarness();
const sharded = deployedRole(aws, 'nightly', { nightlyShards: SHARDS });
const unsharded = deployedRole(aws, 'nightly');
// A single run and the finish phase read the unsubscribe key (it signs the introduction tasks' links in the advisors' digests).
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:unsubscribe-key';
fakeSecretsExtension({ arn: SECRET_ARN, current: 'nightly-handler-secret-0123456789abcdef' }, { readBy: unsharded });
/** The phases' configuration, and the single invocation's beside it. */
let phased: Config;
let single: Config;
type NightlyHandler = (event: unknown) => Promise<unknown>;
let handler: NightlyHandler;
let singleHandler: NightlyHandler;

/** The handler loaded with `config` (CLIENTELE_CONFIG) as the function of `role`'s deployment. */
async function nightlyFunction(role: DeployedRole, config: Config): Promise<NightlyHandler> {
  const loaded = await lambda.load(role.environment(config, { UNSUBSCRIBE_SECRET_ARN: SECRET_ARN }), () => import('#functions/nightly/handler.ts'));
  return loaded.handler;
}

beforeAll(async () => {
  phased = await scenarioConfig(aws, 'phased');
  single = await scenarioConfig(aws, 'single');
  await generateExport({ customers: CUSTOMERS, seed: 11, asOf: NIGHT, timeZone: phased.timeZone, orderParts: 2, malformedRows: 3 }, work);
  for (const config of [phased, single]) await uploadExport(aws, config, work, NIGHT);
  handler = await nightlyFunction(sharded, phased);
  singleHandler = await nightlyFunction(unsharded, single);
}, 120_000);
afterAll(removeExportDirs);

/** What Step Functions would carry between states: well under its 256 KB, whatever the base's size. */
const SMALL_STATE_BYTES = 2048;
const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

/** The summary a completed night stored: the handler returns its NightResult, which says where. */
async function storedSummary(config: Config, result: NightResult): Promise<NightlyRunSummary> {
  const bucket = reportsBucket(config);
  const key = result.summaryObject.replace(`s3://${bucket}/`, '');
  return JSON.parse(new TextDecoder().decode(await readObjectBytes(aws.clients.s3, bucket, key))) as NightlyRunSummary;
}

describe('nightly handler, one phase per invocation', () => {
  it('stores what a single run stores: profiles, tier history and the summary figures', async () => {
    const prepared = (await handler({ phase: 'prepare', shards: SHARDS, request: { runDate: NIGHT } })) as PreparedNight;
    expect(prepared).toMatchObject({ runDate: NIGHT, shards: shardsOf(SHARDS) });
    const { runDate, runId, startedAt } = prepared;

    // Each Distributed Map runs its items side by side.
    // Prepare names the readers: the shards, or more when the files do not share evenly between them.
    expect(prepared.readers.length).toBeGreaterThanOrEqual(SHARDS);
    const repartitioned = (await Promise.all(prepared.readers.map((reader) => handler({ phase: 'repartition', runDate, runId, shards: SHARDS, reader })))) as RepartitionReceipt[];
    const measured = (await Promise.all(prepared.shards.map((shard) => handler({ phase: 'measure', runDate, runId, shard })))) as MeasureReceipt[];
    const combined = (await handler({ phase: 'combine', runDate, runId, shards: SHARDS, startedAt, acceptDrop: prepared.acceptDrop })) as CombineReceipt;
    const written = (await Promise.all(prepared.shards.map((shard) => handler({ phase: 'write', runDate, runId, shard })))) as WriteReceipt[];
    const finished = (await handler({ phase: 'finish', runDate, runId, startedAt, shards: SHARDS })) as NightResult;
    const summary = await storedSummary(phased, finished);

    const oneResult = (await singleHandler({ runDate: NIGHT })) as NightResult;
    const one = await storedSummary(single, oneResult);
    // The state machine carries the night's result, not its summary (one FileReport per file, an entry per advisor).
    expect(finished).toEqual(nightResultOf(summary));
    expect(oneResult).toEqual(nightResultOf(one));
    expect(summary.shards).toBe(SHARDS);
    expect(summary.runId).toBe(runId);
    expect(comparable(summary)).toEqual(comparable(one));
    expect(one.clv.fitted).toBe(true);
    expect(one.input.rejected).toBeGreaterThan(0);
    expect(await storedState(aws, phased)).toEqual(await storedState(aws, single));

    // The shards split the buyers between them, and the receipts add up to the summary.
    expect(measured.map((m) => m.rfmBuyers).every((n) => n > 0)).toBe(true);
    expect(combined.rfmBuyers).toBe(measured.reduce((n, m) => n + m.rfmBuyers, 0));
    expect(combined.clv).toMatchObject({ fitted: true, clients: one.clv.clients });
    expect(written.reduce((n, w) => n + w.written.profiles, 0)).toBe(one.written.profiles);
    // Each reader read a share of the files, every file once: the rows add up to the export's.
    expect(repartitioned.reduce((n, r) => n + r.files, 0)).toBe(summary.input.files.length);
    expect(repartitioned.reduce((n, r) => n + r.rows, 0)).toBe(summary.input.rows);
    expect(repartitioned.filter((r) => r.files > 0).length).toBeGreaterThan(1);
    for (const receipt of [prepared, combined, ...repartitioned, ...measured, ...written, finished, oneResult]) expect(jsonBytes(receipt)).toBeLessThan(SMALL_STATE_BYTES);

    // The phases' log lines carry the night's run id; finish published the night's figures.
    expect(lambda.output.logs().some((l) => l.correlation_id === runId && l.phase === 'write')).toBe(true);
    const emf = lambda.output.emf();
    expect(emf.find((r) => r.NightlyCompleted === 1)).toMatchObject({ RowsRejected: summary.input.rejected, Clients: summary.distribution.clients, NightlyDuration: summary.durationMs });
    expect(emf.find((r) => r.tier === 'VIC')).toMatchObject({ Clients: summary.distribution.tiers.VIC.clients });

    // The summary object is the runs table's; the work objects sit under the run's work prefix.
    const bucket = reportsBucket(phased);
    expect(await getRun<NightlyRunSummary>(aws.clients.documents, tableNames(phased).runs, { job: 'nightly', runDate: NIGHT })).toEqual(summary);
    const listed = await aws.clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${runWorkPrefix(phased, 'nightly', runDate, runId)}/` }));
    const prefix = `${runWorkPrefix(phased, 'nightly', runDate, runId)}/`;
    const names = new Set((listed.Contents ?? []).map((o) => String(o.Key).slice(prefix.length).split('/')[0]));
    expect([...names].sort()).toEqual([
      'bucket-0',
      'bucket-1',
      'bucket-2',
      'figures-0.json',
      'figures-1.json',
      'figures-2.json',
      'measures-0.bin',
      'measures-1.bin',
      'measures-2.bin',
      'models.json',
      'outcome-0.json',
      'outcome-1.json',
      'outcome-2.json',
      'plan.json',
      'shares',
    ]);
  }, 240_000);

  it('takes a whole night without a phase (the unsharded state machine); on the export of a completed night it writes nothing', async () => {
    const completed = (await getRun<NightlyRunSummary>(aws.clients.documents, tableNames(single).runs, { job: 'nightly', runDate: NIGHT })) as NightlyRunSummary;
    const rerun = (await singleHandler({ runDate: NIGHT })) as NightResult;
    expect(rerun).toMatchObject({ job: 'nightly', runDate: NIGHT, runId: completed.runId, written: completed.written, rerun: { of: completed.runId } });
    expect(rerun.rerun?.runId).toMatch(/^nightly-/);
    expect(lambda.output.emf().at(-1)).toMatchObject({ NightlyRepeated: 1 });
    expect(lambda.output.emf().at(-1)).not.toHaveProperty('NightlyCompleted');
  }, 120_000);

  it('runs the night before the schedule\'s time, not before its own clock: a late start or a redrive tiers the right night', async () => {
    // The 02:00 brand-time schedule of the night after NIGHT, as EventBridge Scheduler writes it (UTC);
    // this handler runs days later, so its own clock would pick another night.
    const scheduledTime = new Date(startOfLocalDay(addDays(NIGHT, 1), phased.timeZone) + 2 * 3_600_000).toISOString();
    expect(addDays(localDate(Date.now(), phased.timeZone), -1)).not.toBe(NIGHT);
    const scheduled = (await singleHandler({ trigger: 'schedule', scheduledTime })) as NightResult;
    expect(scheduled).toMatchObject({ runDate: NIGHT, rerun: { of: expect.any(String) } });
    const prepared = (await handler({ phase: 'prepare', shards: 2, request: { trigger: 'schedule', scheduledTime } })) as PreparedNight;
    expect(prepared).toMatchObject({ runDate: NIGHT, shards: shardsOf(2) });
  }, 120_000);

  it('prepares the night before its own clock (brand time) when the execution names neither a date nor a scheduled time', async () => {
    const yesterday = addDays(localDate(Date.now(), phased.timeZone), -1);
    // Prepare lists the night's export (and fails without one): there is one for that night too.
    await uploadExport(aws, phased, work, yesterday);
    const first = (await handler({ phase: 'prepare', shards: 2, request: {} })) as PreparedNight;
    const bare = (await handler({ phase: 'prepare', shards: 2 })) as PreparedNight;
    for (const prepared of [first, bare]) expect(prepared).toMatchObject({ runDate: yesterday, shards: shardsOf(2) });
    // One run id per execution: prepare makes a new one each time.
    expect(first.runId).not.toBe(bare.runId);
  });

  it('erases again a client on the erasure list whose profile a night wrote back', async () => {
    const config = await scenarioConfig(aws, 'erased-again');
    const dir = await exportDir({
      'customers.csv': csv([['customer_id', 'email', 'accepts_marketing'], ['e01', 'e01@example.com', 'true'], ['e02', 'e02@example.com', 'true']]),
      'orders.csv': csv([['order_id', 'customer_id', 'ordered_at', 'sku', 'line_total'], ['o1', 'e01', '2026-11-20T11:00:00+08:00', 'SKU-1', '120.00'], ['o2', 'e02', '2026-11-20T11:00:00+08:00', 'SKU-1', '80.00']]),
    });
    await uploadExport(aws, config, dir, NIGHT);
    // As a night racing the request leaves it: the erasure recorded, the profile written after it.
    const erased = profileItem('e01', { email: 'e01@example.com' });
    await seedProfiles(aws, config, [erased]);
    await forgetClient({ config, clients: aws.clients, request: { customerId: 'e01' }, at: Date.now() });
    await seedProfiles(aws, config, [erased]);

    const result = (await (await nightlyFunction(unsharded, config))({ runDate: NIGHT, acceptDrop: true })) as NightResult;
    const summary = await storedSummary(config, result);
    expect(summary.input.erasedClients).toBe(1);
    expect(await getProfile(aws.clients.documents, tableNames(config).profiles, 'e01')).toBeUndefined();
    expect(await getProfile(aws.clients.documents, tableNames(config).profiles, 'e02')).toBeDefined();
  });

  it('erases again a client a forget left half done whose address kept an SES bounce: its feedback id moves to the erasure entry, under the deployed role', async () => {
    const config = await scenarioConfig(aws, 'erased-again-feedback');
    const dir = await exportDir({
      'customers.csv': csv([['customer_id', 'email', 'accepts_marketing'], ['e01', 'e01@example.com', 'true'], ['e02', 'e02@example.com', 'true']]),
      'orders.csv': csv([['order_id', 'customer_id', 'ordered_at', 'sku', 'line_total'], ['o1', 'e01', '2026-11-20T11:00:00+08:00', 'SKU-1', '120.00'], ['o2', 'e02', '2026-11-20T11:00:00+08:00', 'SKU-1', '80.00']]),
    });
    await uploadExport(aws, config, dir, NIGHT);
    const tables = tableNames(config);
    // e01 bounced once, then asked to be forgotten; the forget stopped after recording the erasure.
    await suppress(aws.clients.documents, tables.suppression, { email: 'e01@example.com', reason: 'hard-bounce', at: Date.now() - 86_400_000, customerId: 'e01', source: 'ses-bounce:fb-1', feedbackId: 'ses-bounce:fb-1' });
    await seedProfiles(aws, config, [profileItem('e01', { email: 'e01@example.com' })]);
    await recordErasure(aws.clients.documents, tables.suppression, { customerIds: ['e01'], emails: ['e01@example.com'] }, Date.now());

    await (await nightlyFunction(unsharded, config))({ runDate: NIGHT, acceptDrop: true });
    expect(await getProfile(aws.clients.documents, tables.profiles, 'e01')).toBeUndefined();
    expect(await getSuppression(aws.clients.documents, tables.suppression, 'e01@example.com')).toBeUndefined();
    const entry = await aws.clients.documents.send(new GetCommand({ TableName: tables.suppression, Key: { email: erasedKey('email', 'e01@example.com') }, ConsistentRead: true }));
    expect(entry.Item?.feedbackIds).toEqual(new Set(['ses-bounce:fb-1']));
    // The role updates erasure entries only: a plain entry is refused.
    const plain = new UpdateCommand({ TableName: tables.suppression, Key: { email: 'e02@example.com' }, UpdateExpression: 'SET reason = :r', ExpressionAttributeValues: { ':r': 'unsubscribe' } });
    await expect(unsharded.clients(config).documents.send(plain)).rejects.toThrow(/AccessDenied|not authorized/);
    expect(unsharded.takeDenials()).toEqual([expect.stringMatching(/^dynamodb:UpdateItem .*suppression/)]);
  });

  it('refuses a malformed event before doing anything, naming the field', async () => {
    const base = { runDate: NIGHT, runId: 'nightly-bad' };
    await expect(handler({ phase: 'measure', ...base, shard: { index: 3, count: 3 } })).rejects.toThrow(/shard index must be below the shard count/);
    await expect(handler({ phase: 'repartition', ...base, shards: 2, reader: { index: 2, count: 2 } })).rejects.toThrow(/reader index must be below the reader count/);
    await expect(handler({ phase: 'repartition', ...base, shards: 3, reader: { index: 0, count: 2 } })).rejects.toThrow(/at least as many readers as shards/);
    await expect(handler({ phase: 'repartition', ...base, shard: { index: 0, count: 2 } })).rejects.toMatchObject({ code: 'EVENT_INVALID' });
    await expect(handler({ phase: 'write', ...base, runDate: '2026-13-01', shard: { index: 0, count: 1 } })).rejects.toThrow(/YYYY-MM-DD/);
    await expect(handler({ phase: 'combine', ...base, runId: '../other-run', shards: 2, startedAt: 0, acceptDrop: false })).rejects.toThrow(/runId/);
    await expect(handler({ phase: 'combine', ...base, shards: 2, startedAt: 0 })).rejects.toThrow(/acceptDrop/);
    await expect(handler({ phase: 'prepare', shards: 101 })).rejects.toThrow(/shards/);
    await expect(handler({ phase: 'finish', ...base, shards: 2 })).rejects.toThrow(/startedAt/);
    await expect(handler({ phase: 'unshard' })).rejects.toThrow(/phase/);
    await expect(handler({ trigger: 'schedule', scheduledTime: '2026-11-24 02:00' })).rejects.toThrow(/scheduledTime: must be an ISO date-time with an offset/);
    await expect(handler({ phase: 'prepare', shards: 2, request: { scheduledTime: 'tonight' } })).rejects.toMatchObject({ code: 'EVENT_INVALID' });
  });

  it('fails a phase whose input an earlier phase never stored, naming the object', async () => {
    const base = { runDate: NIGHT, runId: 'nightly-never' };
    await expect(handler({ phase: 'repartition', ...base, shards: 2, reader: { index: 0, count: 2 } })).rejects.toThrow(/the plan of the night not found at s3:\/\/.*work\/nightly\/2026-11-23\/nightly-never\/plan\.json/);
    await expect(handler({ phase: 'measure', ...base, shard: { index: 0, count: 2 } })).rejects.toThrow(/the plan of the night not found/);
    await expect(handler({ phase: 'combine', ...base, shards: 2, startedAt: 0, acceptDrop: false })).rejects.toThrow(/the plan of the night not found/);
    await expect(handler({ phase: 'write', ...base, shard: { index: 1, count: 2 } })).rejects.toThrow(/models not found/);
    await expect(handler({ phase: 'finish', ...base, startedAt: Date.now(), shards: 2 })).rejects.toThrow(/models not found/);
  });
});
