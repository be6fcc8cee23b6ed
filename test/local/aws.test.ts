import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SendEmailCommand } from '@aws-sdk/client-sesv2';
import { JavaMissingError, requireJava, startLocalAws, type LocalAws } from '#local/aws.ts';
import { TABLES, tableName, type TableId } from '#shared/store/tables.ts';

describe('embedded local AWS', () => {
  let aws: LocalAws;
  beforeAll(async () => {
    aws = await startLocalAws();
  });
  afterAll(async () => {
    await aws?.stop();
  });

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

  it('stores S3 objects byte for byte', async () => {
    const body = Buffer.from('customer_id,email\nc1,a@example.com\n'.repeat(1000));
    const bucket = aws.config.storage.exportsBucket;
    await aws.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'probe/customers.csv', Body: body }));
    const got = await aws.clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'probe/customers.csv' }));
    expect(Buffer.from(await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray())).toEqual(body);
  });

  it('accepts SES v2 sends into its local store', async () => {
    const sent = await aws.clients.ses.send(
      new SendEmailCommand({
        FromEmailAddress: 'brand@example.com',
        Destination: { ToAddresses: ['client@example.com'] },
        Content: { Simple: { Subject: { Data: 'hello' }, Body: { Text: { Data: 'hi' } } } },
      }),
    );
    expect(sent.MessageId).toBeTruthy();
    const store = (await (await fetch(`${aws.endpoints.ses}/store`)).json()) as { emails: { subject: string }[] };
    expect(store.emails.map((e) => e.subject)).toContain('hello');
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
