import { DeleteCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { readObjectText, uploadDirectory } from '#shared/aws/s3-objects.ts';
import { withNextDue } from '#shared/campaigns/due-index.ts';
import type { Config } from '#shared/config.ts';
import type { ProductRecord } from '#shared/model.ts';
import { WRITE_LEASE_JOB } from '#shared/nightly/write-lease.ts';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { exportPrefix, incrementalPrefix } from '#shared/store/buckets.ts';
import { writeCatalog } from '#shared/store/catalog-store.ts';
import { dueIndexingForWrites } from '#shared/store/due-index-store.ts';
import type { LedgerEntry } from '#shared/store/ledger-store.ts';
import { writeProfiles, type ProfileItem } from '#shared/store/profile-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { liveWriteLeases } from '#shared/store/write-leases.ts';
import type { SharedAws } from './local-aws.ts';

/** What integration tests put into the emulators before a run, and read back after it. */

type Clients = Pick<SharedAws, 'clients'>;

/** Profiles written straight into a scenario's profiles table, as a past night left them: with their place in the sender's due index, as the nightly run computes it. */
export async function seedProfiles(aws: Clients, config: Config, items: ProfileItem[]): Promise<void> {
  // No night writer: the tests seed with no hour running.
  const indexing = await dueIndexingForWrites(aws.clients, config, undefined, 0, undefined);
  await writeProfiles(aws.clients.documents, tableNames(config).profiles, items.map((item) => withNextDue(item, indexing)));
}

/** The products the nightly run would have saved (as a night long past), for catalog-based replenishment cycles. */
export async function seedCatalog(aws: Clients, config: Config, products: ProductRecord[]): Promise<void> {
  await writeCatalog(aws.clients.s3, config, products, '2000-01-01');
}

/** An incremental export dropped in folder `folder` (YYYY-MM-DDTHHmm), its manifest last, as a platform drops one during the day. */
export async function dropIncrement(aws: Clients, config: Config, folder: string, files: Record<string, string | Buffer>): Promise<void> {
  const put = (name: string, body: string | Buffer) =>
    aws.clients.s3.send(new PutObjectCommand({ Bucket: config.storage.exportsBucket, Key: `${incrementalPrefix(config)}/${folder}/${name}`, Body: body }));
  for (const [name, body] of Object.entries(files)) await put(name, body);
  await put('_manifest.json', JSON.stringify({ mode: 'incremental' }));
}

/** A folder of export files dropped where a scenario's night `runDate` reads them. */
export async function uploadExport(aws: Clients, config: Config, dir: string, runDate: string): Promise<void> {
  await uploadDirectory(aws.clients.s3, dir, config.storage.exportsBucket, exportPrefix(config, runDate));
}

/** A JSON object a run wrote (summary.json, campaign results...); throws when there is none. */
export async function readJson(aws: Clients, bucket: string, key: string): Promise<unknown> {
  const text = await readObjectText(aws.clients.s3, bucket, key);
  if (text === undefined) throw new Error(`no object at s3://${bucket}/${key}`);
  return JSON.parse(text);
}

/** Every item of a table, all pages, read consistently; `T` names what the table holds (DynamoDB does not check it). */
export async function scanTable<T = Record<string, unknown>>(aws: Clients, table: string): Promise<T[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await aws.clients.documents.send(new ScanCommand({ TableName: table, ExclusiveStartKey: startKey, ConsistentRead: true }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items as T[];
}

/** Every ledger entry of a scenario. */
export async function ledgerEntries(aws: Clients, config: Config): Promise<LedgerEntry[]> {
  return scanTable<LedgerEntry>(aws, tableNames(config).sendLedger);
}

/**
 * What DynamoDB's TTL has done to a scenario's send ledger by `at` (epoch ms): every entry whose
 * expiresAt has passed deleted (DynamoDB Local keeps them). Returns how many went.
 */
export async function expireLedgerEntries(aws: Clients, config: Config, at: number): Promise<number> {
  const table = tableNames(config).sendLedger;
  const expired = (await ledgerEntries(aws, config)).filter((entry) => entry.expiresAt !== undefined && entry.expiresAt * 1000 <= at);
  for (const { customerId, occasionKey } of expired) await aws.clients.documents.send(new DeleteCommand({ TableName: table, Key: { customerId, occasionKey } }));
  return expired.length;
}

/**
 * What the passing of a write lease's time does to night `runDate`'s leases (shared/nightly/write-lease.ts):
 * one an attempt died holding (a crash: nothing freed it) no longer holds the night. Returns how many ended.
 */
export async function expireWriteLeases(aws: Clients, config: Config, runDate: string): Promise<number> {
  const table = tableNames(config).runs;
  const running = await liveWriteLeases(aws.clients.documents, table, WRITE_LEASE_JOB, `${runDate}#`, Date.now());
  for (const { key } of running) {
    await aws.clients.documents.send(new UpdateCommand({ TableName: table, Key: { job: key.job, runDate: key.runDate }, UpdateExpression: 'SET expiresAt = :ended', ExpressionAttributeValues: { ':ended': 0 } }));
  }
  return running.length;
}
