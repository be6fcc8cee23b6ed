import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ListObjectsV2Command, PutObjectCommand, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import { createS3Client, type AwsClients } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import { INGEST_JOB, MAX_RECORDED_OBJECTS, type IngestMarker } from '#shared/sender/ingest.ts';
import { incrementalPrefix } from '#shared/store/buckets.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import { getRun } from '#shared/store/runs-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignConfig, runCampaignHour as run } from '#test/support/campaign-runs.ts';
import { seedProfiles } from '#test/support/emulator-data.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { HOUR, MINUTE, at as local, iso } from '#test/support/time.ts';

/**
 * An incremental folder read while its producer is still writing it (no manifest listing files:
 * `requireManifest` off, the default). A file that becomes visible after the hour merged the folder
 * is a new drop of it by the object itself, not by its time: S3 keeps LastModified to the second,
 * and a multipart upload's LastModified is when the upload began, so the late file may carry the
 * same time as the newest one the hour read, or an older one. So too a quarantined folder fixed by
 * writing one of its files again in the same second. (From the adversarial probe attack-chaos2-1:
 * before, the marker kept only the newest write, and such a file was never read; its opt-out was
 * lost until the night and the welcome went.)
 *
 * The S3 client of the first hour does not see customers.csv yet (its upload not complete); the
 * listings of the second hour give it the LastModified the scenario says.
 */

const aws = sharedAws();
const SH = 'Asia/Shanghai';
const AT = local('2026-11-23 10:00', SH);
const FOLDER = '2026-11-23T0930';

type Listing = ListObjectsV2CommandOutput;

/** An S3 client whose ListObjectsV2 answers are rewritten by `edit` (what S3 shows at that moment). */
function s3Listing(config: Config, edit: (output: Listing) => void): AwsClients['s3'] {
  const s3 = createS3Client(config);
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'ListObjectsV2Command') edit(result.output as Listing);
      return result;
    },
    { step: 'initialize', name: 'probeListing' },
  );
  return s3;
}

/** The folder written with customers.csv (an opt-out) visible only after the 10:00 hour, at `lateWrite(orders.csv's write)`; the 11:00 hour's result. */
async function lateCustomers(name: string, who: string, lateWrite: (ordersWritten: Date) => Date): Promise<void> {
  const config = await campaignConfig(aws, name);
  // <who>-c: a new client whose first order (10:20) makes the welcome due from the 11:00 hour. <who>-o: a known client who orders.
  await seedProfiles(aws, config, [
    profileItem(`${who}-c`, { stage: 'new', orderCount: 1, firstOrderAt: iso(AT + 20 * MINUTE), lastOrderAt: iso(AT + 20 * MINUTE) }),
    profileItem(`${who}-o`),
  ]);
  const prefix = `${incrementalPrefix(config)}/${FOLDER}`;
  const put = (name: string, body: string) => aws.clients.s3.send(new PutObjectCommand({ Bucket: config.storage.exportsBucket, Key: `${prefix}/${name}`, Body: body }));
  // The producer writes the folder: a manifest without a file list, the orders, then the customers.
  await put('_manifest.json', JSON.stringify({ mode: 'incremental' }));
  await put(
    'orders.csv',
    `order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,currency,status,refunded_amount\n${who}-o1,${who}-o,2026-11-23T09:20:00+08:00,SKU-1,Bag,leather,1,80.00,USD,paid,\n`,
  );
  await put('customers.csv', `customer_id,accepts_marketing\n${who}-c,false\n`);

  const listed = await aws.clients.s3.send(new ListObjectsV2Command({ Bucket: config.storage.exportsBucket, Prefix: `${prefix}/` }));
  const ordersWritten = listed.Contents?.find((o) => o.Key?.endsWith('/orders.csv'))?.LastModified;
  expect(ordersWritten).toBeDefined();
  // S3 keeps LastModified to the second (real S3 and the emulator alike).
  expect((ordersWritten?.getTime() ?? 1) % 1000).toBe(0);

  // Hour 1 (10:00): customers.csv is still being uploaded, so no listing shows it.
  const hidden = s3Listing(config, (output) => {
    output.Contents = output.Contents?.filter((o) => !o.Key?.endsWith('/customers.csv'));
  });
  const first = await run({ clients: { ...aws.clients, s3: hidden } }, config, AT, `${name}-1`);
  expect(first.ingested.exports).toEqual([expect.stringContaining(FOLDER)]);
  const marker = await getRun<IngestMarker>(aws.clients.documents, tableNames(config).runs, { job: INGEST_JOB, runDate: FOLDER });
  expect(marker).toMatchObject({ status: 'merged' });
  hidden.destroy();

  // Hour 2 (11:00): customers.csv is there, with the write the scenario gives it.
  const late = s3Listing(config, (output) => {
    for (const object of output.Contents ?? []) if (object.Key?.endsWith('/customers.csv') && ordersWritten) object.LastModified = lateWrite(ordersWritten);
  });
  const second = await run({ clients: { ...aws.clients, s3: late } }, config, AT + HOUR, `${name}-2`);
  late.destroy();

  // The folder's new file is read, the no holds, no welcome goes out.
  const profile = await getProfile(aws.clients.documents, tableNames(config).profiles, `${who}-c`);
  const welcomes = (await emailsTo(aws, `${who}-c@example.com`)).length;
  expect({ ingested: second.ingested.exports, consent: profile?.acceptsMarketing, welcomes }).toEqual({
    ingested: [expect.stringContaining(FOLDER)],
    consent: false,
    welcomes: 0,
  });
  // The marker records both drops, each with the objects it read.
  const after = await getRun<IngestMarker>(aws.clients.documents, tableNames(config).runs, { job: INGEST_JOB, runDate: FOLDER });
  const read = after?.status === 'merged' ? after.drops?.map((drop) => drop.objects?.map((object) => object.key).sort()) : undefined;
  expect(read).toEqual([['_manifest.json', 'orders.csv'], ['_manifest.json', 'customers.csv']]);
}

describe('a file of an incremental folder that appears after the hour merged the folder', () => {
  it('written in the same second as the newest file the hour read: read by the next hour, the opt-out it carries holds before the welcome', async () => {
    await lateCustomers('same-second', 'ss', (ordersWritten) => ordersWritten);
  });

  it('a multipart upload begun before the newest file the hour read (an older LastModified): read by the next hour all the same', async () => {
    await lateCustomers('older-write', 'ow', (ordersWritten) => new Date(ordersWritten.getTime() - 5_000));
  });
});

describe('a quarantined incremental folder', () => {
  it('fixed by writing its bad file again in the same second as before: read by the next hour, the opt-out holds', async () => {
    const config = await campaignConfig(aws, 'fix-same-second');
    await seedProfiles(aws, config, [
      profileItem('fq-c', { stage: 'new', orderCount: 1, firstOrderAt: iso(AT + 20 * MINUTE), lastOrderAt: iso(AT + 20 * MINUTE) }),
      profileItem('fq-o'),
    ]);
    const prefix = `${incrementalPrefix(config)}/${FOLDER}`;
    const put = (name: string, body: string | Buffer) => aws.clients.s3.send(new PutObjectCommand({ Bucket: config.storage.exportsBucket, Key: `${prefix}/${name}`, Body: body }));
    await put('_manifest.json', JSON.stringify({ mode: 'incremental' }));
    await put(
      'orders.csv',
      'order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,currency,status,refunded_amount\nfq-o1,fq-o,2026-11-23T09:20:00+08:00,SKU-1,Bag,leather,1,80.00,USD,paid,\n',
    );
    await put('customers.csv.gz', 'not gzip');
    const listed = await aws.clients.s3.send(new ListObjectsV2Command({ Bucket: config.storage.exportsBucket, Prefix: `${prefix}/` }));
    const badWritten = listed.Contents?.find((o) => o.Key?.endsWith('/customers.csv.gz'))?.LastModified;
    expect(badWritten).toBeDefined();

    const first = await run(aws, config, AT, 'fix-same-second-1');
    expect(first.ingested.quarantined).toEqual([{ folder: FOLDER, reason: expect.stringContaining('customers.csv.gz') }]);

    // The fix, in place: S3 shows it written in the same second as the bad file.
    await put('customers.csv.gz', gzipSync('customer_id,accepts_marketing\nfq-c,false\n'));
    const sameSecond = s3Listing(config, (output) => {
      for (const object of output.Contents ?? []) if (object.Key?.endsWith('/customers.csv.gz') && badWritten) object.LastModified = badWritten;
    });
    const second = await run({ clients: { ...aws.clients, s3: sameSecond } }, config, AT + HOUR, 'fix-same-second-2');
    sameSecond.destroy();

    const profile = await getProfile(aws.clients.documents, tableNames(config).profiles, 'fq-c');
    const welcomes = (await emailsTo(aws, 'fq-c@example.com')).length;
    expect({ ingested: second.ingested.exports, quarantined: second.ingested.quarantined, consent: profile?.acceptsMarketing, welcomes }).toEqual({
      ingested: [expect.stringContaining(FOLDER)],
      quarantined: [],
      consent: false,
      welcomes: 0,
    });
  });
});

describe('an incremental folder of more objects than a marker records', () => {
  it('is recorded by its newest write alone, as before: a file written in a later second is read by the next hour', async () => {
    const config = await campaignConfig(aws, 'many-objects');
    await seedProfiles(aws, config, [
      profileItem('mo-c', { stage: 'new', orderCount: 1, firstOrderAt: iso(AT + 20 * MINUTE), lastOrderAt: iso(AT + 20 * MINUTE) }),
      profileItem('mo-o'),
    ]);
    const prefix = `${incrementalPrefix(config)}/${FOLDER}`;
    const put = (name: string, body: string) => aws.clients.s3.send(new PutObjectCommand({ Bucket: config.storage.exportsBucket, Key: `${prefix}/${name}`, Body: body }));
    await put('_manifest.json', JSON.stringify({ mode: 'incremental' }));
    await put(
      'orders.csv',
      'order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,currency,status,refunded_amount\nmo-o1,mo-o,2026-11-23T09:20:00+08:00,SKU-1,Bag,leather,1,80.00,USD,paid,\n',
    );
    // Files the reader ignores, past the bound.
    for (let n = 0; n < MAX_RECORDED_OBJECTS - 1; n++) await put(`note-${n}.txt`, 'not an export file');

    await run(aws, config, AT, 'many-objects-1');
    const marker = await getRun<IngestMarker>(aws.clients.documents, tableNames(config).runs, { job: INGEST_JOB, runDate: FOLDER });
    expect(marker?.status === 'merged' ? { objects: marker.objects, drops: marker.drops?.map((drop) => drop.objects) } : undefined).toEqual({ objects: undefined, drops: [undefined] });

    // S3 keeps LastModified to the second: the opt-out is written a second later.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await put('customers.csv', 'customer_id,accepts_marketing\nmo-c,false\n');
    const second = await run(aws, config, AT + HOUR, 'many-objects-2');
    const profile = await getProfile(aws.clients.documents, tableNames(config).profiles, 'mo-c');
    expect({ ingested: second.ingested.exports, consent: profile?.acceptsMarketing, welcomes: (await emailsTo(aws, 'mo-c@example.com')).length }).toEqual({
      ingested: [expect.stringContaining(FOLDER)],
      consent: false,
      welcomes: 0,
    });
  });
});

describe('a file appearing after the hour merged a folder whose manifest lists its files', () => {
  it("is not read with that manifest (it defines the earlier drop): it waits for its own, then is read", async () => {
    const config = await campaignConfig(aws, 'listed-manifest');
    await seedProfiles(aws, config, [profileItem('lm-c'), profileItem('lm-o')]);
    const prefix = `${incrementalPrefix(config)}/${FOLDER}`;
    const put = (name: string, body: string) => aws.clients.s3.send(new PutObjectCommand({ Bucket: config.storage.exportsBucket, Key: `${prefix}/${name}`, Body: body }));
    const manifestOf = (name: string, body: string) =>
      JSON.stringify({ mode: 'incremental', files: [{ name, rows: 1, sha256: createHash('sha256').update(body).digest('hex') }] });
    const orders =
      'order_id,customer_id,ordered_at,sku,product_name,category,quantity,line_total,currency,status,refunded_amount\nlm-o1,lm-o,2026-11-23T09:20:00+08:00,SKU-1,Bag,leather,1,80.00,USD,paid,\n';
    await put('orders.csv', orders);
    await put('_manifest.json', manifestOf('orders.csv', orders));
    const customers = 'customer_id,accepts_marketing\nlm-c,false\n';
    await put('customers.csv', customers);
    const listed = await aws.clients.s3.send(new ListObjectsV2Command({ Bucket: config.storage.exportsBucket, Prefix: `${prefix}/` }));
    const ordersWritten = listed.Contents?.find((o) => o.Key?.endsWith('/orders.csv'))?.LastModified;

    const hidden = s3Listing(config, (output) => {
      output.Contents = output.Contents?.filter((o) => !o.Key?.endsWith('/customers.csv'));
    });
    expect((await run({ clients: { ...aws.clients, s3: hidden } }, config, AT, 'listed-manifest-1')).ingested.exports).toEqual([expect.stringContaining(FOLDER)]);
    hidden.destroy();

    const sameSecond = (output: Listing) => {
      for (const object of output.Contents ?? []) if (object.Key?.endsWith('/customers.csv') && ordersWritten) object.LastModified = ordersWritten;
    };
    // Without a manifest of its own, the drop is taken as still being written (not quarantined yet).
    const late = s3Listing(config, sameSecond);
    const second = await run({ clients: { ...aws.clients, s3: late } }, config, AT + HOUR, 'listed-manifest-2');
    late.destroy();
    expect(second.ingested).toMatchObject({ exports: [], quarantined: [] });

    // Its manifest, listing its file: read.
    await put('_manifest.json', manifestOf('customers.csv', customers));
    const whole = s3Listing(config, sameSecond);
    const third = await run({ clients: { ...aws.clients, s3: whole } }, config, AT + HOUR + 30 * MINUTE, 'listed-manifest-3');
    whole.destroy();
    const profile = await getProfile(aws.clients.documents, tableNames(config).profiles, 'lm-c');
    expect({ ingested: third.ingested.exports, consent: profile?.acceptsMarketing }).toEqual({ ingested: [expect.stringContaining(FOLDER)], consent: false });
  });
});
