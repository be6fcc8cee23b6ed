import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, type Attribute } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, type IRole } from 'aws-cdk-lib/aws-iam';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { Config } from '#shared/config.ts';
import { workPrefix } from '#shared/store/buckets.ts';
import { ADDRESS_BOOK_LEASE } from '#shared/store/address-book.ts';
import { DUE_INDEX_FLOOR_JOB } from '#shared/store/due-index-store.ts';
import { ERASURE_KEY_PREFIX } from '#shared/store/erasure-store.ts';
import { TABLES, tableName, type KeyAttribute, type TableDefinition, type TableId } from '#shared/store/tables.ts';
import { acknowledgeWildcardResource } from '#infra/nag.ts';
import { deployedConfig, type Settings } from '#infra/settings.ts';

export type TableAccess = 'read' | 'write' | 'readWrite';

/** Item-level actions only: no table management, no streams, no deletes the code never makes. */
const TABLE_READ = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:ConditionCheckItem'];
const TABLE_WRITE = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem'];

/**
 * What eraseTraces (shared/forget/forget.ts) calls to delete what the suite holds of an erased
 * client: queries on each table's own key (no index), deletes in batches (BatchWriteItem),
 * DeleteItem for the plain suppression entries, and the coupon codes' items of their occasions.
 */
const ERASE_TRACES: Partial<Record<TableId, string[]>> = {
  tierHistory: ['dynamodb:Query', 'dynamodb:BatchWriteItem'],
  // The client's partition and their advisors': deletes, and the digests' introductions updated (forgetIntroduced).
  sendLedger: ['dynamodb:Query', 'dynamodb:BatchWriteItem', 'dynamodb:UpdateItem'],
  advisorTasks: ['dynamodb:Query', 'dynamodb:BatchWriteItem'],
  suppression: ['dynamodb:DeleteItem'],
  profiles: ['dynamodb:BatchWriteItem'],
  // Which occasion a coupon code went to: the client's occasions found by a scan (occasionsOfClients), each
  // occasion's item read and deleted, the code's item updated (forgetOccasionCode).
  couponCodes: ['dynamodb:Scan', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
};

/** Tag the nightly run puts on rejects objects; a lifecycle rule expires them (reports are kept). */
export const REJECTS_TAG = { key: 'retention', value: 'rejects' } as const;

export interface StorageProps {
  settings: Settings;
  /** Prefix of every table name (the stack's name), so stages and brands can share an account. */
  tablePrefix: string;
}

/** Something with a role to grant to: a ClienteleFunction. */
export interface Grantee {
  role: IRole;
}

function keyAttribute(key: KeyAttribute): Attribute {
  return { name: key.name, type: key.type === 'S' ? AttributeType.STRING : AttributeType.NUMBER };
}

/**
 * The exports + reports bucket (with its access-log bucket) and the DynamoDB tables, built from
 * TABLES so their keys are exactly the ones the code and the local emulator use. Holds the
 * configuration the functions receive, with these resources' names in it.
 */
export class Storage extends Construct {
  readonly bucket: Bucket;
  readonly accessLogs: Bucket;
  readonly tables: Record<TableId, Table>;
  /** What the functions get in CLIENTELE_CONFIG: tableName(config, id) is the deployed table's name. */
  readonly config: Config;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    const { settings } = props;
    const { exportsPrefix, reportsPrefix } = settings.config.storage;

    // Data is kept when the stack is deleted (RETAIN), whatever the stage.
    this.accessLogs = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ id: 'ExpireOldAccessLogs', expiration: Duration.days(365) }],
    });
    // (cdk-nag's S1 knows a log destination bucket needs no access logs of its own.)

    this.bucket = new Bucket(this, 'Data', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'data/',
      lifecycleRules: [
        // Exports are the platform's nightly snapshots: re-exportable, and full of personal data.
        { id: 'ExpireOldExports', prefix: `${exportsPrefix}/`, expiration: Duration.days(settings.retention.exportsDays) },
        // Rejects hold raw rows, before-images whole profiles; run summaries next to them are small and kept.
        {
          id: 'ExpireRejects',
          prefix: `${reportsPrefix}/`,
          tagFilters: { [REJECTS_TAG.key]: REJECTS_TAG.value },
          expiration: Duration.days(settings.retention.rejectsDays),
        },
        { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
    });

    this.config = deployedConfig(settings, {
      bucketName: this.bucket.bucketName,
      tablePrefix: props.tablePrefix,
      region: Stack.of(this).region,
    });
    // A sharded night's measures, models and outcomes: only its own phases read them, within hours.
    this.bucket.addLifecycleRule({
      id: 'ExpireWork',
      prefix: `${workPrefix(this.config)}/`,
      expiration: Duration.days(settings.retention.workDays),
    });

    const prod = settings.stage === 'prod';
    const tables: Partial<Record<TableId, Table>> = {};
    for (const tableId of Object.keys(TABLES) as TableId[]) {
      const definition: TableDefinition = TABLES[tableId];
      const table = new Table(this, tableId, {
        tableName: tableName(this.config, tableId),
        partitionKey: keyAttribute(definition.partitionKey),
        ...(definition.sortKey ? { sortKey: keyAttribute(definition.sortKey) } : {}),
        ...(definition.timeToLiveAttribute ? { timeToLiveAttribute: definition.timeToLiveAttribute } : {}),
        billingMode: BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: prod,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      for (const index of definition.indexes) {
        table.addGlobalSecondaryIndex({
          indexName: index.indexName,
          partitionKey: keyAttribute(index.partitionKey),
          ...(index.sortKey ? { sortKey: keyAttribute(index.sortKey) } : {}),
          projectionType: ProjectionType.ALL,
        });
      }
      tables[tableId] = table;
    }
    this.tables = tables as Record<TableId, Table>;
  }

  /** Item access to the named tables (and, for reads, their indexes, each by name: no wildcard). */
  grantTables(grantee: Grantee, access: Partial<Record<TableId, TableAccess>>): void {
    for (const [tableId, level] of Object.entries(access) as [TableId, TableAccess][]) {
      const table = this.tables[tableId];
      const indexArns = TABLES[tableId].indexes.map((index) => `${table.tableArn}/index/${index.indexName}`);
      if (level !== 'write') {
        grantee.role.addToPrincipalPolicy(new PolicyStatement({ actions: TABLE_READ, resources: [table.tableArn, ...indexArns] }));
      }
      if (level !== 'read') {
        grantee.role.addToPrincipalPolicy(new PolicyStatement({ actions: TABLE_WRITE, resources: [table.tableArn] }));
      }
    }
  }

  /** The address book's lease (address-book.ts editAddressBook): its one runs-table item, taken, renewed and freed. */
  grantAddressBookLease(grantee: Grantee): void {
    grantee.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resources: [this.tables.runs.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [ADDRESS_BOOK_LEASE.job] } },
      }),
    );
  }

  /**
   * The night writers' due-index floors (due-index-store.ts): the first hour after a night's writes
   * deletes them (clearDueIndexFloors), the runs table's floor items only.
   */
  grantClearDueIndexFloors(grantee: Grantee): void {
    grantee.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:DeleteItem'],
        resources: [this.tables.runs.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [DUE_INDEX_FLOOR_JOB] } },
      }),
    );
  }

  /**
   * Delete what the suite holds of clients on the erasure list (eraseTraces): the erasure
   * function's work, and the nightly run's and the sender's when they meet an erased client with a
   * profile.
   */
  grantEraseTraces(grantee: Grantee): void {
    for (const [tableId, actions] of Object.entries(ERASE_TRACES) as [TableId, string[]][]) {
      grantee.role.addToPrincipalPolicy(new PolicyStatement({ actions, resources: [this.tables[tableId].tableArn] }));
    }
    // The SES feedback ids of a plain entry it deletes move to the erasure entries (keepFeedbackIdsOnErasure): updates of those alone.
    grantee.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:UpdateItem'],
        resources: [this.tables.suppression.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${ERASURE_KEY_PREFIX}*`] } },
      }),
    );
  }

  /** Listing limited to keys under these prefixes (or exactly these keys). */
  private grantList(grantee: Grantee, prefixes: string[]): void {
    grantee.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': prefixes } },
      }),
    );
  }

  /**
   * List and read the exports under `prefix` (ending in "/"), and nothing else of the bucket: the
   * nightly run reads every dated folder, the campaign sender only the incremental ones.
   */
  grantReadExports(grantee: Grantee, prefix: string = `${this.config.storage.exportsPrefix}/`): void {
    this.grantList(grantee, [`${prefix}*`]);
    const objects = this.bucket.arnForObjects(`${prefix}*`);
    grantee.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: [objects] }));
    acknowledgeWildcardResource(
      grantee.role,
      objects,
      `Exports arrive under dated keys (${prefix}<date>/...): the wildcard is confined to that prefix, read-only.`,
    );
  }

  /**
   * One object by its exact key (no wildcard). Readers may also list that key, so a missing
   * object is a 404 the code can handle rather than a 403.
   */
  grantObject(grantee: Grantee, key: string, access: 'read' | 'write'): void {
    const object = this.bucket.arnForObjects(key);
    if (access === 'read') {
      this.grantList(grantee, [key]);
      grantee.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: [object] }));
    } else {
      grantee.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:PutObject'], resources: [object] }));
    }
  }

  /**
   * Read and write one job's intermediate objects under <reportsPrefix>/work/<job>/ (a sharded
   * night's measures, models and outcomes), and list them, so a missing one is a 404 the code names.
   */
  grantWork(grantee: Grantee, job: string): void {
    const prefix = `${workPrefix(this.config)}/${job}/`;
    this.grantList(grantee, [`${prefix}*`]);
    const objects = this.bucket.arnForObjects(`${prefix}*`);
    grantee.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject'], resources: [objects] }));
    acknowledgeWildcardResource(
      grantee.role,
      objects,
      `Work objects are keyed by run (${prefix}<YYYY-MM-DD>/<runId>/...): the wildcard is confined to this job's work prefix, which expires.`,
    );
  }

  /**
   * Read (and list) what a job's earlier attempts of a night left under its reports: the
   * before-images a rerun needs (<reportsPrefix>/<job>/<YYYY-MM-DD>/attempts/...).
   */
  grantReadAttempts(grantee: Grantee, job: string): void {
    const prefix = `${this.config.storage.reportsPrefix}/${job}/`;
    this.grantList(grantee, [`${prefix}*`]);
    const objects = this.bucket.arnForObjects(`${prefix}*/attempts/*`);
    grantee.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: [objects] }));
    acknowledgeWildcardResource(
      grantee.role,
      objects,
      `An attempt's before-images sit under the night's dated report prefix (${prefix}<YYYY-MM-DD>/attempts/<runId>/...): read-only, that folder of this job's reports.`,
    );
  }

  /** Write one job's reports (summary, tagged rejects) under <reportsPrefix>/<job>/. */
  grantWriteReports(grantee: Grantee, job: string): void {
    const objects = this.bucket.arnForObjects(`${this.config.storage.reportsPrefix}/${job}/*`);
    grantee.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:PutObject', 's3:PutObjectTagging'], resources: [objects] }));
    acknowledgeWildcardResource(
      grantee.role,
      objects,
      `Reports are written under dated keys (<reportsPrefix>/${job}/<YYYY-MM-DD>/...): the wildcard is confined to this job's reports, write-only.`,
    );
  }
}
