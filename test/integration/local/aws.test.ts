import { describe, expect, it } from 'vitest';
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SendEmailCommand } from '@aws-sdk/client-sesv2';
import { JavaMissingError, requireJava } from '#local/aws.ts';
import { parseConfig } from '#shared/config.ts';
import { createTableInput, ensureTables, PROFILES_BY_NEXT_DUE_INDEX, TABLES, tableName, type TableId } from '#shared/store/tables.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { emailsTo } from '#test/support/ses-store.ts';

/**
 * The embedded AWS as startLocalAws leaves it: this run's emulators, which global-setup.ts started
 * with it and the default configuration (its tables and buckets are only read here).
 */
describe('embedded local AWS', () => {
  const aws = sharedAws();

  it('listens on loopback ports', () => {
    for (const endpoint of Object.values(aws.endpoints)) expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('creates every table from the shared definitions', async () => {
    for (const id of Object.keys(TABLES) as TableId[]) {
      const definition = TABLES[id];
      const { Table } = await aws.clients.dynamodb.send(new DescribeTableCommand({ TableName: tableName(aws.config, id) }));
      expect(Table?.KeySchema).toEqual([
        { AttributeName: definition.partitionKey.name, KeyType: 'HASH' },
        ...('sortKey' in definition ? [{ AttributeName: definition.sortKey.name, KeyType: 'RANGE' }] : []),
      ]);
      expect((Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName).sort()).toEqual(
        definition.indexes.map((i) => i.indexName).sort(),
      );
    }
  });

  it('adds an index an existing table lacks (a local state kept from before the due index)', async () => {
    const config = parseConfig({ ...aws.config, storage: { ...aws.config.storage, tablePrefix: `${aws.scope}.old-state-` } });
    const profiles = tableName(config, 'profiles');
    const before = { ...TABLES.profiles, indexes: TABLES.profiles.indexes.filter((i) => i.indexName !== PROFILES_BY_NEXT_DUE_INDEX) };
    await aws.clients.dynamodb.send(new CreateTableCommand(createTableInput(before, profiles)));
    await ensureTables(aws.clients.dynamodb, config);
    const { Table } = await aws.clients.dynamodb.send(new DescribeTableCommand({ TableName: profiles }));
    expect((Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName).sort()).toEqual(TABLES.profiles.indexes.map((i) => i.indexName).sort());
    // Idempotent: a second start changes nothing.
    await ensureTables(aws.clients.dynamodb, config);
  });

  it('stores S3 objects byte for byte', async () => {
    const body = Buffer.from('customer_id,email\nc1,a@example.com\n'.repeat(1000));
    const bucket = aws.config.storage.exportsBucket;
    const key = `${aws.scope}/probe/customers.csv`;
    await aws.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    const got = await aws.clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(Buffer.from(await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray())).toEqual(body);
  });

  it('accepts SES v2 sends into its local store', async () => {
    const sent = await aws.clients.ses.send(
      new SendEmailCommand({
        FromEmailAddress: 'brand@example.com',
        Destination: { ToAddresses: ['local-aws-probe@example.com'] },
        Content: { Simple: { Subject: { Data: 'hello' }, Body: { Text: { Data: 'hi' } } } },
      }),
    );
    expect(sent.MessageId).toBeTruthy();
    const stored = await emailsTo(aws, 'local-aws-probe@example.com');
    expect(stored.map((e) => [e.messageId, e.subject])).toEqual([[sent.MessageId, 'hello']]);
  });
});

describe('Java check', () => {
  it('stops at once with install instructions when java is missing', () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(() => requireJava()).toThrow(JavaMissingError);
      expect(() => requireJava()).toThrow(/openjdk-17-jre-headless/);
    } finally {
      process.env.PATH = path;
    }
  });
});
