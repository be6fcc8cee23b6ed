import { Agent, createServer, request as forwardRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { createAwsClients, destroyAwsClients, type AwsClients } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import type { FunctionName } from '#shared/environment.ts';
import { reportsBucket } from '#shared/store/buckets.ts';
import { TABLES, tableName, type TableId } from '#shared/store/tables.ts';
import type { SettingsInput } from '#infra/settings.ts';
import { logicalId, synthesize } from '#test/infra/helpers.ts';
import type { LocalEndpoints, SharedAws } from './local-aws.ts';

/**
 * A function run as the stack deploys it: with its role's permissions and nothing more. The
 * emulators enforce no IAM, so a handler that calls what its role does not allow passes every test
 * and fails in AWS. deployedRole synthesizes the stack (no bundling), reads the IAM policies of one
 * function's role, and puts a gateway in front of the emulators that forwards a call only when the
 * role allows it and otherwise answers as AWS does (AccessDeniedException, S3's 403); a GetObject
 * of a missing key is a 403 unless the role may list it, as in S3. The handler gets the gateway's
 * endpoints in its configuration (environment()), so every client it builds goes through it; shared
 * code run as the function (runNightly, runCampaigns) gets clients through it (clients()).
 *
 * A gateway rather than SDK middleware: the handlers build their own clients when imported.
 *
 * The emulators' names are mapped to the stack's: a scenario's tables by their id in TABLES, its
 * buckets to the data bucket, its exports, reports and coupon-pool prefixes to the stack's, its
 * From address to the stack's sender and identity, a secret ARN to the secret the function's
 * environment names under the same variable. After each test, any call the role did not allow
 * fails it, even one whose error the handler caught.
 */

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';

type TemplateResource = { Type: string; Properties?: Record<string, unknown> };
interface Template {
  Resources: Record<string, TemplateResource>;
  Mappings?: Record<string, Record<string, Record<string, string>>>;
}

/** The synthesized stack, and the names a role's calls are translated into. */
interface DeployedStack {
  template: Template;
  /** The stack's configuration: its prefixes. */
  config: Config;
  /** Logical ids of the tables and of the data bucket. */
  tables: Record<TableId, string>;
  bucket: string;
  senderAddress: string;
  sesIdentity: string;
  functions: Map<FunctionName, { role: string; fn: string }>;
}

/** One synth per settings for the whole worker: a module reset (lambdaHarness) does not lose it. */
const SYNTHS = Symbol.for('clientele.test.deployedStacks');
type SynthCache = Map<string, DeployedStack>;

function deployedStack(settings: Partial<SettingsInput>): DeployedStack {
  const holder = globalThis as typeof globalThis & { [SYNTHS]?: SynthCache };
  const cache = (holder[SYNTHS] ??= new Map());
  const key = JSON.stringify(settings);
  const cached = cache.get(key);
  if (cached) return cached;
  const synth = synthesize(settings, { 'aws:cdk:bundling-stacks': [] });
  try {
    const { stack } = synth;
    const deployed: DeployedStack = {
      template: synth.json as Template,
      config: stack.storage.config,
      tables: Object.fromEntries((Object.keys(TABLES) as TableId[]).map((id) => [id, logicalId(stack.storage.tables[id])])) as Record<TableId, string>,
      bucket: logicalId(stack.storage.bucket),
      senderAddress: stack.settings.senderAddress,
      sesIdentity: stack.settings.sesIdentity,
      functions: new Map(stack.functions.map((f) => [f.name, { role: logicalId(f.role), fn: logicalId(f.fn) }])),
    };
    cache.set(key, deployed);
    return deployed;
  } finally {
    synth.cleanup();
  }
}

// ---- the role's policy ----

/** What a call asks IAM: an action on a resource, with the request's condition keys. */
interface Authorization {
  action: string;
  resource: string;
  context?: Record<string, string>;
}

interface Statement {
  actions: string[];
  resources: string[];
  /** operator → condition key → values */
  conditions: Record<string, Record<string, string[]>>;
}

/** The condition operators the stack's policies use; another one fails the test rather than being misread. */
const CONDITION_OPERATORS: Record<string, (pattern: string, value: string) => boolean> = {
  StringEquals: (pattern, value) => pattern === value,
  StringLike: (pattern, value) => globMatches(pattern, value),
  // A single-valued key here (dynamodb:LeadingKeys of one item); an absent key does not hold, stricter than IAM's ForAllValues.
  'ForAllValues:StringLike': (pattern, value) => globMatches(pattern, value),
};

/** IAM's wildcards: `*` any run of characters (slashes included), `?` one character. */
function globMatches(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value);
}

const PSEUDO_PARAMETERS: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': REGION,
  'AWS::AccountId': ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
};

/** A secret's ARN in the stack's terms (Ref of a secret is its ARN). */
const secretArn = (id: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${id}`;
const tableArn = (name: string) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`;
const bucketArn = (name: string) => `arn:aws:s3:::${name}`;

/** A template value (a string or the few intrinsics the stack's policies and functions use) as a string in the stack's terms. */
function resolve(template: Template, value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object') return String(value);
  const intrinsic = value as Record<string, unknown>;
  if ('Ref' in intrinsic) {
    const id = String(intrinsic.Ref);
    return PSEUDO_PARAMETERS[id] ?? refOf(template, id);
  }
  if ('Fn::GetAtt' in intrinsic) {
    const [id, attribute] = intrinsic['Fn::GetAtt'] as [string, string];
    return attribute === 'Arn' ? arnOf(template, id) : `${id}.${attribute}`;
  }
  if ('Fn::Join' in intrinsic) {
    const [separator, parts] = intrinsic['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => resolve(template, part)).join(separator);
  }
  if ('Fn::FindInMap' in intrinsic) {
    const [map, first, second] = (intrinsic['Fn::FindInMap'] as unknown[]).map((part) => resolve(template, part));
    return template.Mappings?.[map ?? '']?.[first ?? '']?.[second ?? ''] ?? `<no mapping ${map}.${first}.${second}>`;
  }
  // Never matches a call: a statement on it allows nothing here.
  return `<unresolved ${JSON.stringify(value)}>`;
}

function refOf(template: Template, id: string): string {
  const resource = template.Resources[id];
  switch (resource?.Type) {
    case 'AWS::DynamoDB::Table':
      return String(resource.Properties?.TableName);
    case 'AWS::SES::ConfigurationSet':
      return String(resource.Properties?.Name);
    case 'AWS::SecretsManager::Secret':
      return secretArn(id);
    default:
      return id;
  }
}

function arnOf(template: Template, id: string): string {
  switch (template.Resources[id]?.Type) {
    case 'AWS::DynamoDB::Table':
      return tableArn(refOf(template, id));
    case 'AWS::S3::Bucket':
      return bucketArn(id);
    case 'AWS::SecretsManager::Secret':
      return secretArn(id);
    default:
      return `arn:aws:unmapped:${REGION}:${ACCOUNT}:${id}`;
  }
}

type PolicyDocument = { Statement: Record<string, unknown>[] };

/** The Allow statements of a role's policies (its own and those attached to it, inline or managed), resolved. */
function statementsOf(template: Template, roleId: string): Statement[] {
  const documents: PolicyDocument[] = [];
  const role = template.Resources[roleId]?.Properties;
  if (role?.ManagedPolicyArns) throw new Error(`${roleId}: managed policies are not read here`);
  for (const inline of (role?.Policies as { PolicyDocument: PolicyDocument }[] | undefined) ?? []) documents.push(inline.PolicyDocument);
  for (const resource of Object.values(template.Resources)) {
    // Inline policies, and the managed ones CDK adds when a role's statements outgrow its inline policy (OverflowPolicy).
    if (resource.Type !== 'AWS::IAM::Policy' && resource.Type !== 'AWS::IAM::ManagedPolicy') continue;
    const roles = (resource.Properties?.Roles as unknown[] | undefined) ?? [];
    if (roles.some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId }))) documents.push(resource.Properties?.PolicyDocument as PolicyDocument);
  }
  return documents.flatMap((document) =>
    document.Statement.map((statement) => {
      if (statement.Effect !== 'Allow' || 'NotAction' in statement || 'NotResource' in statement) {
        throw new Error(`${roleId}: only Allow statements with Action and Resource are read here: ${JSON.stringify(statement)}`);
      }
      const conditions = (statement.Condition ?? {}) as Record<string, Record<string, unknown>>;
      for (const operator of Object.keys(conditions)) {
        if (!(operator in CONDITION_OPERATORS)) throw new Error(`${roleId}: condition operator ${operator} is not read here`);
      }
      return {
        actions: [statement.Action].flat().map(String),
        resources: [statement.Resource].flat().map((r) => resolve(template, r)),
        conditions: Object.fromEntries(
          Object.entries(conditions).map(([operator, keys]) => [operator, Object.fromEntries(Object.entries(keys).map(([key, values]) => [key, [values].flat().map(String)]))]),
        ),
      };
    }),
  );
}

function allows(statements: readonly Statement[], request: Authorization): boolean {
  return statements.some(
    (statement) =>
      statement.actions.some((action) => globMatches(action, request.action, true)) &&
      statement.resources.some((resource) => globMatches(resource, request.resource)) &&
      Object.entries(statement.conditions).every(([operator, keys]) =>
        Object.entries(keys).every(([key, values]) => {
          // A condition on a key the request does not carry does not hold (no ...IfExists here).
          const value = request.context?.[key];
          return value !== undefined && values.some((pattern) => CONDITION_OPERATORS[operator]?.(pattern, value));
        }),
      ),
  );
}

// ---- the scenarios' names in the stack's terms ----

/** How a scenario's storage and sender map onto the stack's. */
class NameMap {
  private readonly configs: Config[] = [];

  constructor(private readonly stack: DeployedStack) {}

  add(config: Config): void {
    this.configs.push(config);
  }

  table(name: string): string {
    for (const config of this.configs) {
      for (const id of Object.keys(TABLES) as TableId[]) {
        if (tableName(config, id) === name) return refOf(this.stack.template, this.stack.tables[id]);
      }
    }
    return `not-a-table-of-the-stack:${name}`;
  }

  /** The partition key's value in an item's key, for a scenario's table. */
  partitionKeyValue(name: string, key: Record<string, { S?: string; N?: string }>): string | undefined {
    for (const config of this.configs) {
      for (const id of Object.keys(TABLES) as TableId[]) {
        if (tableName(config, id) !== name) continue;
        const value = key[TABLES[id].partitionKey.name];
        return value?.S ?? value?.N;
      }
    }
    return undefined;
  }

  /** The data bucket and the key under the stack's prefixes, for a scenario's bucket and key. */
  object(bucket: string, key: string): { bucket: string; key: string } {
    const configs = this.configs.filter((c) => c.storage.exportsBucket === bucket || reportsBucket(c) === bucket);
    if (configs.length === 0) return { bucket: `not-a-bucket-of-the-stack:${bucket}`, key };
    const deployed = this.stack.config;
    const prefixes = configs.flatMap((config): [string, string][] => [
      [config.storage.exportsPrefix, deployed.storage.exportsPrefix],
      [config.storage.reportsPrefix, deployed.storage.reportsPrefix],
      [config.coupons.poolsPrefix, deployed.coupons.poolsPrefix],
    ]);
    // The longest first: one scenario prefix may begin another.
    for (const [ours, theirs] of prefixes.filter(([ours]) => ours.length > 0).sort((a, b) => b[0].length - a[0].length)) {
      if (key === ours || key.startsWith(`${ours}/`)) return { bucket: this.stack.bucket, key: theirs + key.slice(ours.length) };
    }
    return { bucket: this.stack.bucket, key };
  }

  /** The stack's sender for the scenario's From address; any other address stays itself. */
  sender(address: string): { address: string; identity: string } {
    if (this.configs.some((c) => c.sender.fromAddress.toLowerCase() === address)) return { address: this.stack.senderAddress, identity: this.stack.sesIdentity };
    return { address, identity: address.slice(address.indexOf('@') + 1) };
  }

  configurationSet(name: string): string {
    const deployed = Object.values(this.stack.template.Resources).find((r) => r.Type === 'AWS::SES::ConfigurationSet');
    return this.configs.some((c) => c.sender.configurationSetName === name) && deployed ? String(deployed.Properties?.Name) : name;
  }
}

// ---- what each call asks ----

/** TransactWriteItems asks for each item's own action (there is no IAM action for the transaction). */
const TRANSACT_ACTIONS: Record<string, string> = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem' };

type DynamoInput = {
  TableName?: string;
  /** A single item's key, as the wire carries it ({ email: { S: '...' } }). */
  Key?: Record<string, { S?: string; N?: string }>;
  IndexName?: string;
  RequestItems?: Record<string, unknown>;
  TransactItems?: Record<string, { TableName: string }>[];
};

function dynamoAuthorizations(names: NameMap, operation: string, input: DynamoInput): Authorization[] {
  const arn = (table: string, index?: string) => `${tableArn(names.table(table))}${index ? `/index/${index}` : ''}`;
  switch (operation) {
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return Object.keys(input.RequestItems ?? {}).map((table) => ({ action: `dynamodb:${operation}`, resource: arn(table) }));
    case 'TransactWriteItems':
    case 'TransactGetItems':
      return (input.TransactItems ?? []).flatMap((item) =>
        Object.entries(item).map(([kind, detail]) => ({ action: `dynamodb:${TRANSACT_ACTIONS[kind] ?? `${kind}Item`}`, resource: arn(detail.TableName) })),
      );
    default: {
      // One item's partition key is the request's dynamodb:LeadingKeys.
      const leadingKey = input.TableName === undefined || input.Key === undefined ? undefined : names.partitionKeyValue(input.TableName, input.Key);
      return [
        {
          action: `dynamodb:${operation}`,
          resource: input.TableName ? arn(input.TableName, input.IndexName) : '*',
          ...(leadingKey === undefined ? {} : { context: { 'dynamodb:LeadingKeys': leadingKey } }),
        },
      ];
    }
  }
}

/** ListObjectsV2's parameters: a GET of the bucket with only these is a listing. */
const LIST_PARAMETERS = new Set(['list-type', 'prefix', 'delimiter', 'continuation-token', 'max-keys', 'start-after', 'encoding-type', 'fetch-owner']);

interface S3Call {
  authorizations: Authorization[];
  /** A read of one object: answered 403, not 404, when it is missing and the role may not list it. */
  read?: { bucket: string; key: string };
}

/** An S3 request (path-style, as the emulator clients send them) as IAM sees it. */
function s3Call(names: NameMap, request: IncomingMessage): S3Call {
  const url = new URL(request.url ?? '/', 'http://gateway');
  const [, bucketPart = '', ...keyParts] = url.pathname.split('/');
  const bucket = decodeURIComponent(bucketPart);
  const key = decodeURIComponent(keyParts.join('/'));
  // x-id names the operation; X-Amz-* are a presigned URL's signature.
  const subresources = [...url.searchParams.keys()].filter((k) => k !== 'x-id' && !k.toLowerCase().startsWith('x-amz-'));
  const method = request.method ?? 'GET';
  const unmodelled = (): S3Call => ({ authorizations: [{ action: `s3:<not modelled: ${method} ${subresources.join('&') || (key ? 'object' : 'bucket')}>`, resource: '*' }] });

  if (key === '') {
    const stackBucket = names.object(bucket, '').bucket;
    // HeadBucket is authorized as ListBucket.
    if (method === 'HEAD' && subresources.length === 0) return { authorizations: [{ action: 's3:ListBucket', resource: bucketArn(stackBucket) }] };
    if (method === 'GET' && subresources.every((k) => LIST_PARAMETERS.has(k))) {
      const prefix = url.searchParams.get('prefix');
      const context = prefix === null ? undefined : { 's3:prefix': names.object(bucket, prefix).key };
      return { authorizations: [{ action: 's3:ListBucket', resource: bucketArn(stackBucket), ...(context ? { context } : {}) }] };
    }
    return unmodelled();
  }

  const target = names.object(bucket, key);
  const object = `${bucketArn(target.bucket)}/${target.key}`;
  // The calls the code makes (shared/aws/s3-objects.ts); another one (a copy, a multipart upload, a delete) is refused as not modelled.
  if ((method === 'GET' || method === 'HEAD') && subresources.length === 0) return { authorizations: [{ action: 's3:GetObject', resource: object }], read: target };
  if (method === 'PUT' && subresources.length === 0 && request.headers['x-amz-copy-source'] === undefined) {
    // A PUT with tags (the rejects' retention tag) needs the tagging permission too.
    const tagging = request.headers['x-amz-tagging'] === undefined ? [] : [{ action: 's3:PutObjectTagging', resource: object }];
    return { authorizations: [{ action: 's3:PutObject', resource: object }, ...tagging] };
  }
  return unmodelled();
}

/** The bare address of a From header value ("Brand <hello@brand.com>" → hello@brand.com). */
function addressOf(from: string): string {
  return (/<([^>]+)>\s*$/.exec(from)?.[1] ?? from).trim().toLowerCase();
}

function sesAuthorizations(names: NameMap, method: string, path: string, body: Record<string, unknown>): Authorization[] {
  if (method === 'GET' && path === '/v2/email/account') return [{ action: 'ses:GetAccount', resource: '*' }];
  if (method === 'POST' && path === '/v2/email/outbound-emails') {
    const sender = names.sender(addressOf(String(body.FromEmailAddress ?? '')));
    const context = { 'ses:FromAddress': sender.address };
    const arn = (resource: string) => `arn:aws:ses:${REGION}:${ACCOUNT}:${resource}`;
    // SendEmail is authorized on the identity and, when the email names one, on the configuration set.
    return [
      { action: 'ses:SendEmail', resource: arn(`identity/${sender.identity}`), context },
      ...(typeof body.ConfigurationSetName === 'string'
        ? [{ action: 'ses:SendEmail', resource: arn(`configuration-set/${names.configurationSet(body.ConfigurationSetName)}`), context }]
        : []),
    ];
  }
  return [{ action: `ses:<not modelled: ${method} ${path}>`, resource: '*' }];
}

// ---- the gateway ----

async function bodyOf(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

type Service = keyof LocalEndpoints;

/** What secretAccess answers: no extension to ask (no layer), the role may not read it, or it may. */
export type SecretAccess = 'no-extension' | 'denied' | 'allowed';

export class DeployedRole {
  private stack: DeployedStack | undefined;
  private statements: Statement[] = [];
  private names: NameMap | undefined;
  private readonly servers: Server[] = [];
  private readonly agent = new Agent({ keepAlive: true });
  private readonly denials: string[] = [];
  private readonly secrets = new Map<string, string>();
  private readonly made: AwsClients[] = [];
  private gatewayEndpoints: LocalEndpoints | undefined;

  constructor(
    readonly name: FunctionName,
    private readonly upstream: LocalEndpoints,
  ) {}

  /** The role's logical id in the template, for messages. */
  get roleId(): string {
    return this.function().role;
  }

  async start(stack: DeployedStack): Promise<void> {
    this.stack = stack;
    this.names = new NameMap(stack);
    this.statements = statementsOf(stack.template, this.function().role);
    const endpoints: Partial<LocalEndpoints> = {};
    for (const service of ['dynamodb', 's3', 'ses'] as const) {
      const server = createServer((request, response) => {
        this.handle(service, request, response).catch((error: unknown) => {
          if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
          response.end(`deployed-role gateway: ${(error as Error).message}`);
        });
      });
      // The SDK keeps connections open between calls.
      server.keepAliveTimeout = 60_000;
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      this.servers.push(server);
      endpoints[service] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }
    this.gatewayEndpoints = endpoints as LocalEndpoints;
  }

  async stop(): Promise<void> {
    for (const clients of this.made.splice(0)) destroyAwsClients(clients);
    for (const server of this.servers) server.closeAllConnections();
    await Promise.all(this.servers.map((server) => new Promise<void>((done) => server.close(() => done()))));
    this.agent.destroy();
  }

  /** The scenario's configuration with the gateway's endpoints: the configuration to hand the handler. */
  config(config: Config): Config {
    if (!this.gatewayEndpoints || !this.names) throw new Error('deployedRole: use the role in a test or a beforeAll after its own');
    this.names.add(config);
    return { ...config, endpoints: { ...config.endpoints, ...this.gatewayEndpoints } };
  }

  /** AWS clients as the function has them, for shared code run as it (runNightly, runCampaigns...). */
  clients(config: Config): AwsClients {
    const clients = createAwsClients(this.config(config));
    this.made.push(clients);
    return clients;
  }

  /**
   * The handler's environment: CLIENTELE_CONFIG through the gateway, and the other variables as
   * given. Each `*_SECRET_ARN` must be one the stack sets on this function; reads of that ARN are
   * then checked against the secret the stack names there.
   */
  environment(config: Config, variables: Record<string, string> = {}): Record<string, string> {
    const deployed = this.deployedVariables();
    for (const [variable, value] of Object.entries(variables)) {
      if (!variable.endsWith('_SECRET_ARN')) continue;
      if (!(variable in deployed)) throw new Error(`the stack sets no ${variable} on functions/${this.name}`);
      this.secrets.set(value, resolve(this.deployed().template, deployed[variable]));
    }
    return { ...variables, CLIENTELE_CONFIG: JSON.stringify(this.config(config)) };
  }

  /** Whether this function may read a secret through the Parameters and Secrets extension (for the fake extension). */
  secretAccess(arn: string): SecretAccess {
    const fn = this.deployed().template.Resources[this.function().fn];
    const layers = ((fn?.Properties?.Layers as unknown[] | undefined) ?? []).map((layer) => resolve(this.deployed().template, layer));
    if (!layers.some((layer) => layer.includes(':layer:AWS-Parameters-and-Secrets-Lambda-Extension'))) {
      this.denials.push(`no Parameters and Secrets extension layer to read ${arn}`);
      return 'no-extension';
    }
    const request = { action: 'secretsmanager:GetSecretValue', resource: this.secrets.get(arn) ?? `not-a-secret-of-the-stack:${arn}` };
    if (allows(this.statements, request)) return 'allowed';
    this.denials.push(`${request.action} ${request.resource}`);
    return 'denied';
  }

  /** The calls denied since the last time, as "action resource" in the stack's terms. */
  takeDenials(): string[] {
    return this.denials.splice(0);
  }

  private deployed(): DeployedStack {
    if (!this.stack) throw new Error('deployedRole: not started yet');
    return this.stack;
  }

  private function(): { role: string; fn: string } {
    const fn = this.deployed().functions.get(this.name);
    if (!fn) throw new Error(`the stack has no function ${this.name}`);
    return fn;
  }

  private deployedVariables(): Record<string, unknown> {
    const fn = this.deployed().template.Resources[this.function().fn];
    return (fn?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
  }

  private denied(request: Authorization): boolean {
    if (allows(this.statements, request)) return false;
    this.denials.push(`${request.action} ${request.resource}`);
    return true;
  }

  private async handle(service: Service, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const names = this.names as NameMap;
    const message = (a: Authorization) =>
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/${this.roleId}/${this.name} is not authorized to perform: ${a.action} on resource: ${a.resource} because no identity-based policy allows the ${a.action} action`;
    if (service === 'dynamodb') {
      const body = await bodyOf(request);
      const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      const refused = dynamoAuthorizations(names, operation, JSON.parse(body.toString('utf8') || '{}') as DynamoInput).find((a) => this.denied(a));
      if (refused) {
        response.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', message: message(refused) }));
        return;
      }
      this.forward('dynamodb', request, response, body);
      return;
    }
    if (service === 'ses') {
      const body = await bodyOf(request);
      const path = new URL(request.url ?? '/', 'http://gateway').pathname;
      const parsed = body.length > 0 ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
      const refused = sesAuthorizations(names, request.method ?? 'GET', path, parsed).find((a) => this.denied(a));
      if (refused) {
        response.writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': 'AccessDeniedException' });
        response.end(JSON.stringify({ message: message(refused) }));
        return;
      }
      this.forward('ses', request, response, body);
      return;
    }
    const call = s3Call(names, request);
    const accessDenied = (a: Authorization) => {
      response.writeHead(403, { 'content-type': 'application/xml' });
      // A HEAD answer has no body: the SDK names the error from the status.
      response.end(request.method === 'HEAD' ? undefined : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>${message(a)}</Message></Error>`);
    };
    const refused = call.authorizations.find((a) => this.denied(a));
    if (refused) {
      request.resume();
      accessDenied(refused);
      return;
    }
    this.forward('s3', request, response, undefined, (answer) => {
      if (answer.statusCode !== 404 || !call.read) return false;
      // S3 says a key is missing only to a caller who may list it; to others it is a 403.
      const list = { action: 's3:ListBucket', resource: bucketArn(call.read.bucket), context: { 's3:prefix': call.read.key } };
      if (!this.denied(list)) return false;
      answer.resume();
      accessDenied(list);
      return true;
    });
  }

  /** Passes the request on unchanged (its signature covers the Host header, kept) and the answer back. */
  private forward(service: Service, request: IncomingMessage, response: ServerResponse, body?: Buffer, intercept?: (answer: IncomingMessage) => boolean): void {
    const upstream = new URL(this.upstream[service]);
    const outgoing = forwardRequest(
      { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: request.headers, agent: this.agent },
      (answer) => {
        if (intercept?.(answer)) return;
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    outgoing.on('error', (error) => response.destroy(error));
    if (body) outgoing.end(body);
    else request.pipe(outgoing);
  }
}

/**
 * Runs this test file's handler of `name` as the stack deploys it (settings: the deployment's, e.g.
 * { nightlyShards: 3 }; cdk.json's otherwise). Call while the file loads, before the beforeAll that
 * loads the handler with role.environment(...). Each test then fails on any call the role denied.
 */
export function deployedRole(aws: SharedAws, name: FunctionName, settings: Partial<SettingsInput> = {}): DeployedRole {
  const role = new DeployedRole(name, aws.endpoints);
  // A synth takes seconds (more the first time in a worker: aws-cdk-lib loads).
  beforeAll(() => role.start(deployedStack(settings)), 180_000);
  afterEach(() => {
    expect(role.takeDenials(), `calls functions/${name}'s role (${role.roleId}) does not allow`).toEqual([]);
  });
  afterAll(() => role.stop());
  return role;
}
