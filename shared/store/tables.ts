import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ListTablesCommand,
  ResourceInUseException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { Config } from '#shared/config.ts';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The DynamoDB tables, described once. The CDK stack builds its tables from these definitions and
 * the embedded local AWS creates the same tables from them, so key schema and indexes cannot drift.
 */

export type AttributeType = 'S' | 'N';

export interface KeyAttribute {
  name: string;
  type: AttributeType;
}

export interface IndexDefinition {
  indexName: string;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
}

export interface TableDefinition {
  /** Suffix of the physical table name, after the configured prefix. */
  suffix: string;
  description: string;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
  indexes: IndexDefinition[];
  /** Attribute holding an epoch-seconds expiry, when items expire. */
  timeToLiveAttribute?: string;
}

export const PROFILES_BY_TIER_INDEX = 'byTier';
export const PROFILES_BY_ADVISOR_INDEX = 'byAdvisor';
export const PROFILES_BY_NEXT_DUE_INDEX = 'byNextDue';
export const HISTORY_BY_RUN_DATE_INDEX = 'byRunDate';
export const LEDGER_BY_HOUR_INDEX = 'byClaimHour';
export const TASKS_BY_ADVISOR_INDEX = 'byAdvisor';

export const TABLES = {
  profiles: {
    suffix: 'profiles',
    description: 'One client profile per customer: tier, stage, RFM, spend, per-SKU last purchase.',
    partitionKey: { name: 'customerId', type: 'S' },
    indexes: [
      {
        indexName: PROFILES_BY_TIER_INDEX,
        partitionKey: { name: 'tier', type: 'S' },
        sortKey: { name: 'spend12mMinor', type: 'N' },
      },
      {
        // Sparse: only clients with an advisor appear.
        indexName: PROFILES_BY_ADVISOR_INDEX,
        partitionKey: { name: 'advisorId', type: 'S' },
        sortKey: { name: 'spend12mMinor', type: 'N' },
      },
      {
        // Sparse: only clients with a send window still needing the hourly sender (shared/campaigns/due-index.ts).
        indexName: PROFILES_BY_NEXT_DUE_INDEX,
        partitionKey: { name: 'nextDueDay', type: 'S' },
        sortKey: { name: 'nextDueAt', type: 'N' },
      },
    ],
  },
  tierHistory: {
    suffix: 'tier-history',
    description: 'One record per tier or stage change of a client, keyed by the run date that saw it.',
    partitionKey: { name: 'customerId', type: 'S' },
    sortKey: { name: 'runDate', type: 'S' },
    indexes: [
      {
        indexName: HISTORY_BY_RUN_DATE_INDEX,
        partitionKey: { name: 'runDate', type: 'S' },
        sortKey: { name: 'customerId', type: 'S' },
      },
    ],
  },
  sendLedger: {
    suffix: 'send-ledger',
    description:
      'One item per (client, campaign occasion): claimed with a conditional write before SES is called, then its outcome.',
    partitionKey: { name: 'customerId', type: 'S' },
    sortKey: { name: 'occasionKey', type: 'S' },
    indexes: [
      {
        indexName: LEDGER_BY_HOUR_INDEX,
        partitionKey: { name: 'claimHour', type: 'S' },
        sortKey: { name: 'customerOccasion', type: 'S' },
      },
    ],
    timeToLiveAttribute: 'expiresAt',
  },
  suppression: {
    suffix: 'suppression',
    description: 'Addresses never to mail again (unsubscribes, hard bounces, complaints), keyed by normalised email.',
    partitionKey: { name: 'email', type: 'S' },
    indexes: [],
  },
  advisorTasks: {
    suffix: 'advisor-tasks',
    description: 'One task per personal occasion given to a client\'s advisor (issue 16: one touch): its state, the advisor\'s answers and the email, in order.',
    partitionKey: { name: 'customerId', type: 'S' },
    sortKey: { name: 'occasionKey', type: 'S' },
    indexes: [
      {
        // Each advisor's tasks by the time they got them: the follow-through figures.
        indexName: TASKS_BY_ADVISOR_INDEX,
        partitionKey: { name: 'advisorId', type: 'S' },
        sortKey: { name: 'createdAt', type: 'N' },
      },
    ],
    timeToLiveAttribute: 'retainUntil',
  },
  couponCodes: {
    suffix: 'coupon-codes',
    description: 'The codes taken from each campaign\'s coupon pool, and the code of each occasion (shared/store/coupon-store.ts).',
    partitionKey: { name: 'campaignId', type: 'S' },
    sortKey: { name: 'entry', type: 'S' },
    indexes: [],
  },
  runs: {
    suffix: 'runs',
    description: 'One summary per job run (nightly by date), for reports and trends.',
    partitionKey: { name: 'job', type: 'S' },
    sortKey: { name: 'runDate', type: 'S' },
    indexes: [],
  },
} as const satisfies Record<string, TableDefinition>;

export type TableId = keyof typeof TABLES;

export function tableName(config: Pick<Config, 'storage'>, id: TableId): string {
  return `${config.storage.tablePrefix}${TABLES[id].suffix}`;
}

export type TableNames = Record<TableId, string>;

export function tableNames(config: Pick<Config, 'storage'>): TableNames {
  return Object.fromEntries(
    (Object.keys(TABLES) as TableId[]).map((id) => [id, tableName(config, id)]),
  ) as TableNames;
}

/** The CreateTable request for a definition (used by the local emulator; CDK maps the same fields). */
export function createTableInput(definition: TableDefinition, name: string): CreateTableCommandInput {
  const attributes = new Map<string, AttributeType>();
  const keys = [definition.partitionKey, definition.sortKey, ...definition.indexes.flatMap((i) => [i.partitionKey, i.sortKey])];
  for (const key of keys) if (key) attributes.set(key.name, key.type);
  const keySchema = (pk: KeyAttribute, sk?: KeyAttribute) => [
    { AttributeName: pk.name, KeyType: 'HASH' as const },
    ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
  ];
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
    KeySchema: keySchema(definition.partitionKey, definition.sortKey),
    ...(definition.indexes.length > 0
      ? {
          GlobalSecondaryIndexes: definition.indexes.map((index) => ({
            IndexName: index.indexName,
            KeySchema: keySchema(index.partitionKey, index.sortKey),
            Projection: { ProjectionType: 'ALL' as const },
          })),
        }
      : {}),
  };
}

/** Resolves once DynamoDB answers (a local emulator that is still starting), or throws after 30 s. */
export async function waitForDynamoDb(client: DynamoDBClient): Promise<void> {
  // An elapsed time, not a date: the monotonic clock.
  const deadline = performance.now() + 30_000;
  for (;;) {
    try {
      await client.send(new ListTablesCommand({ Limit: 1 }));
      return;
    } catch (error) {
      if (performance.now() > deadline) throw error;
      await sleep(100);
    }
  }
}

/**
 * Adds the indexes of a definition that an existing table lacks, one per request: a local state
 * kept from before an index was added to TABLES (the stack does this in AWS). Not waited for: the
 * emulator builds it in the background (under load, for long), and the only one added so far, the
 * due index, is first read by a sender run after one that read every profile (no index state yet).
 */
async function ensureIndexes(client: DynamoDBClient, definition: TableDefinition, name: string): Promise<void> {
  const input = createTableInput(definition, name);
  const described = await client.send(new DescribeTableCommand({ TableName: name }));
  const existing = new Set((described.Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  for (const index of input.GlobalSecondaryIndexes ?? []) {
    if (existing.has(index.IndexName)) continue;
    await client.send(new UpdateTableCommand({ TableName: name, AttributeDefinitions: input.AttributeDefinitions, GlobalSecondaryIndexUpdates: [{ Create: index }] }));
  }
}

/**
 * Creates every table of TABLES that does not exist yet, the indexes an existing one lacks, and its
 * TTL setting (the embedded local AWS; the stack does this in AWS). `expireItems: false` leaves the
 * TTL off: DynamoDB Local deletes expired items by the machine's clock, so a test living at dates
 * long past would lose entries mid-scenario (its TTL is simulated instead, at the scenario's clock).
 */
export async function ensureTables(client: DynamoDBClient, config: Config, options: { expireItems?: boolean } = {}): Promise<void> {
  for (const id of Object.keys(TABLES) as TableId[]) {
    const definition: TableDefinition = TABLES[id];
    const name = tableName(config, id);
    try {
      await client.send(new CreateTableCommand(createTableInput(definition, name)));
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
      await ensureIndexes(client, definition, name);
    }
    if (definition.timeToLiveAttribute && options.expireItems !== false) {
      const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: name }));
      if (ttl.TimeToLiveDescription?.TimeToLiveStatus !== 'ENABLED') {
        await client.send(
          new UpdateTimeToLiveCommand({
            TableName: name,
            TimeToLiveSpecification: { AttributeName: definition.timeToLiveAttribute, Enabled: true },
          }),
        );
      }
    }
  }
}
