import { isDeepStrictEqual } from 'node:util';
import { Token } from 'aws-cdk-lib';
import { z } from 'zod';
import { checkAcrossFields, configFieldsSchema, parseConfig, storageSchema, withDefaultTiers, type Config } from '#shared/config.ts';
import { ClienteleError } from '#shared/errors.ts';
import { MAX_SHARDS } from '#shared/nightly/shards.ts';

/**
 * Deployment settings: the suite's own configuration schema (shared/config.ts, the one the
 * functions and the CLI read) composed with what only a deployment needs. Read from the cdk
 * context key `clientele` (an object in cdk.json), with a few `-c clientele:<key>=<value>`
 * overrides, and validated at synth time: a bad value stops `cdk synth` with its key named.
 */

export const STAGES = ['dev', 'prod'] as const;
export type Stage = (typeof STAGES)[number];

/** CloudWatch Logs accepts only these retention periods. */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** Whether two bucket prefixes are the same or one holds the other ("exports", "exports/pools"; not "exports-old"). */
const prefixesOverlap = (a: string, b: string): boolean => `${a}/`.startsWith(`${b}/`) || `${b}/`.startsWith(`${a}/`);

/**
 * The brand configuration, as in a `--config` file for the CLI, minus what the stack decides:
 * bucket and table names (the stack creates them) and endpoints (the deployed region, no emulators).
 */
const brandConfigSchema = configFieldsSchema
  .omit({ storage: true, endpoints: true })
  .extend({
    storage: storageSchema
      .pick({ exportsPrefix: true, reportsPrefix: true })
      .strict()
      // An empty prefix would put exports at the bucket root, where the exports lifecycle rule would expire reports too.
      .refine((s) => s.exportsPrefix.length > 0 && s.reportsPrefix.length > 0, 'exportsPrefix and reportsPrefix must not be empty')
      .refine((s) => !prefixesOverlap(s.exportsPrefix, s.reportsPrefix), 'exportsPrefix and reportsPrefix must not contain one another (exports expire, reports are kept)')
      .prefault({}),
  })
  .strict()
  .superRefine((config, ctx) => {
    checkAcrossFields(config, ctx);
    // The sender may read everything under the pools prefix, and the exports lifecycle rule expires
    // everything under the exports prefix: the pools get a folder of their own.
    const pools = config.coupons.poolsPrefix;
    if (pools.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['coupons', 'poolsPrefix'], message: 'must not be empty: pools at the bucket root would let the campaign sender read the whole bucket' });
      return;
    }
    const overlaps: [string, string, string][] = [
      ['exportsPrefix', config.storage.exportsPrefix, 'exports expire after retention.exportsDays, the pools would go with them'],
      ['reportsPrefix', config.storage.reportsPrefix, 'the campaign sender would read the reports, or the work objects\' expiry take the pools'],
    ];
    for (const [name, prefix, why] of overlaps) {
      if (prefixesOverlap(pools, prefix)) ctx.addIssue({ code: 'custom', path: ['coupons', 'poolsPrefix'], message: `must not contain or sit under storage.${name} "${prefix}" (${why})` });
    }
  })
  .transform(withDefaultTiers);

export const settingsSchema = z
  .object({
    /** Names the stack (`<name>-<stage>`), its tables and its alarms; several brands can share an account. */
    name: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,40}$/, 'must start with a letter and hold only letters, digits and dashes (max 41)')
      .default('Clientele'),
    /** prod turns on deletion protection for the tables. */
    stage: z.enum(STAGES).default('dev'),
    /** The brand's configuration: the same schema as `clientele --config`. */
    config: brandConfigSchema.prefault({}),
    /** The From address of every campaign email. */
    senderAddress: z.email('must be an email address, e.g. hello@mail.example.com'),
    /** The verified SES identity the sender may use: a domain (mail.example.com) or an address. */
    sesIdentity: z
      .string()
      .refine((v) => DOMAIN.test(v) || z.email().safeParse(v).success, 'must be a domain (mail.example.com) or an email address'),
    /** SendEmail calls per second; keep at or below the account's SES maximum send rate (1 in the sandbox). */
    sendRatePerSecond: z.number().positive().max(500).default(1),
    /** Who receives alarm notifications (confirm the SNS subscription e-mail). Unset: the topic has no subscriber. */
    alarmEmail: z.email('must be an email address').optional(),
    alarms: z
      .object({
        /** SES Reputation.BounceRate above which to alarm (SES reviews accounts near 5%). */
        bounceRate: z.number().gt(0).lt(1).default(0.05),
        /** SES Reputation.ComplaintRate above which to alarm (SES reviews accounts near 0.1%). */
        complaintRate: z.number().gt(0).lt(1).default(0.001),
      })
      .strict()
      .prefault({}),
    retention: z
      .object({
        /** Days an export stays under the exports prefix. */
        exportsDays: z.number().int().positive().default(90),
        /**
         * Days a rejects object (tagged retention=rejects) stays under the reports prefix. A night's
         * before-images carry the tag too: a night that stopped half-written can be rerun exactly only this long.
         */
        rejectsDays: z.number().int().positive().default(30),
        /** Days a sharded night's intermediate objects (<reportsPrefix>/work/) are kept, to look into or redrive a failed run. */
        workDays: z.number().int().positive().default(7),
        /** Days of function and state-machine logs. */
        logDays: z
          .number()
          .int()
          .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), `must be one of ${LOG_RETENTION_DAYS.join(', ')}`)
          .default(90),
      })
      .strict()
      .prefault({}),
    /**
     * Shards the nightly run is split into, by a hash of the client id: each shard is a Lambda of a
     * Step Functions Distributed Map (shared/nightly/distributed.ts). 1 runs the night in one Lambda.
     */
    nightlyShards: z.number().int().min(1).max(MAX_SHARDS).default(1),
    /** false deploys the schedules disabled (a dev stack that should not mail anyone on its own). */
    schedulesEnabled: z.boolean().default(true),
  })
  .strict()
  .superRefine((s, ctx) => {
    const identity = s.sesIdentity.toLowerCase();
    const address = s.senderAddress.toLowerCase();
    const domain = address.slice(address.lastIndexOf('@') + 1);
    // SES lets a verified domain send from its addresses and its subdomains' addresses.
    const allowed = identity.includes('@') ? address === identity : domain === identity || domain.endsWith(`.${identity}`);
    if (!allowed) {
      ctx.addIssue({ code: 'custom', path: ['senderAddress'], message: `must be sendable by the SES identity ${s.sesIdentity}` });
    }
  });

export type Settings = z.infer<typeof settingsSchema>;
export type SettingsInput = z.input<typeof settingsSchema>;

export class SettingsError extends ClienteleError {
  override name = 'SettingsError';
  constructor(message: string, options?: ErrorOptions) {
    super('SETTINGS_INVALID', message, options);
  }
}

export const CONTEXT_KEY = 'clientele';

/** `-c clientele:<key>=<value>` overrides: the common one-off changes, typed. */
const OVERRIDES = {
  name: { path: ['name'], type: 'string' },
  stage: { path: ['stage'], type: 'string' },
  brandName: { path: ['config', 'brandName'], type: 'string' },
  timeZone: { path: ['config', 'timeZone'], type: 'string' },
  exportsPrefix: { path: ['config', 'storage', 'exportsPrefix'], type: 'string' },
  senderAddress: { path: ['senderAddress'], type: 'string' },
  sesIdentity: { path: ['sesIdentity'], type: 'string' },
  sendRatePerSecond: { path: ['sendRatePerSecond'], type: 'number' },
  alarmEmail: { path: ['alarmEmail'], type: 'string' },
  schedulesEnabled: { path: ['schedulesEnabled'], type: 'boolean' },
  nightlyShards: { path: ['nightlyShards'], type: 'number' },
} as const satisfies Record<string, { path: readonly string[]; type: 'string' | 'number' | 'boolean' }>;

type OverrideKey = keyof typeof OVERRIDES;

/** The app's context (cdk.json, cdk.context.json, `-c`): the CLI passes `-c` values as strings, cdk.json as JSON. */
export type Context = Readonly<Record<string, unknown>>;

function isOverrideKey(key: string): key is OverrideKey {
  return Object.hasOwn(OVERRIDES, key);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const child = node[key];
    const next = isRecord(child) ? { ...child } : {};
    node[key] = next;
    node = next;
  }
  node[path[path.length - 1] as string] = value;
}

/** config.sender keys the brand may not set: the stack fills them. */
function stackOwnedSenderKeys(input: Record<string, unknown>): string[] {
  const config = input.config;
  const sender = isRecord(config) ? config.sender : undefined;
  return isRecord(sender) ? STACK_OWNED_SENDER_KEYS.filter((key) => key in sender) : [];
}

function coerce(raw: unknown, type: 'string' | 'number' | 'boolean'): unknown {
  if (typeof raw !== 'string') return raw;
  if (type === 'number' && raw.trim() !== '' && Number.isFinite(Number(raw))) return Number(raw);
  if (type === 'boolean' && (raw === 'true' || raw === 'false')) return raw === 'true';
  return raw;
}

/**
 * Settings from cdk context: the `clientele` object (or a JSON string of it, from `-c`), then the
 * `clientele:<key>` overrides. Throws SettingsError naming each bad key and where it came from; a
 * `clientele:<key>` that is not an override (a typo) is one of them, not ignored.
 */
export function readSettings(context: Context): Settings {
  let base: unknown = context[CONTEXT_KEY] ?? {};
  if (typeof base === 'string') {
    try {
      base = JSON.parse(base) as unknown;
    } catch (error) {
      throw new SettingsError(`cdk context "${CONTEXT_KEY}" is not valid JSON: ${(error as Error).message}`);
    }
  }
  if (!isRecord(base)) throw new SettingsError(`cdk context "${CONTEXT_KEY}" must be an object (see cdk.json)`);

  const input: Record<string, unknown> = structuredClone(base);
  const overridden = new Map<string, OverrideKey>();
  const unknownOverrides: string[] = [];
  for (const [contextKey, raw] of Object.entries(context)) {
    if (!contextKey.startsWith(`${CONTEXT_KEY}:`) || raw === undefined) continue;
    const key = contextKey.slice(CONTEXT_KEY.length + 1);
    if (!isOverrideKey(key)) {
      unknownOverrides.push(key);
      continue;
    }
    const { path, type } = OVERRIDES[key];
    setPath(input, path, coerce(raw, type));
    overridden.set(path.join('.'), key);
  }

  const result = settingsSchema.safeParse(input);
  const owned = stackOwnedSenderKeys(input);
  if (!result.success || owned.length > 0 || unknownOverrides.length > 0) {
    const known = Object.keys(OVERRIDES).join(', ');
    // Left out, a mistyped key would deploy without the setting it meant (an alarm e-mail, a stage).
    const unknownLines = unknownOverrides.map((key) => `  - -c ${CONTEXT_KEY}:${key}: not a setting that -c can override (those are ${known})`);
    const issues = [
      ...(result.success ? [] : result.error.issues),
      ...owned.map((key) => ({
        code: 'custom',
        path: ['config', 'sender', key],
        message: `set by the stack (from senderAddress, sendRatePerSecond, its configuration set and unsubscribe URL)`,
      })),
    ];
    const lines = issues.map((issue) => {
      const path = issue.path.map(String).join('.');
      const override = overridden.get(path);
      const where = override ? `-c ${CONTEXT_KEY}:${override}` : `${CONTEXT_KEY}${path ? `.${path}` : ''}`;
      // config.storage/endpoints keys the CLI knows but a deployment owns: say so rather than just "unrecognized".
      const owned = issue.code === 'unrecognized_keys' && (path === 'config' || path === 'config.storage');
      const hint = owned ? ' (bucket and table names and endpoints are set by the stack)' : '';
      return `  - ${where}: ${issue.message}${hint}`;
    });
    throw new SettingsError(`Invalid deployment settings (cdk context "${CONTEXT_KEY}"):\n${[...unknownLines, ...lines].join('\n')}`);
  }
  return result.data;
}

export interface DeployedNames {
  /** The exports + reports bucket (a CloudFormation token until deploy). */
  bucketName: string;
  /** Prefix of every table name: tableName(config, id) is the deployed table's name. */
  tablePrefix: string;
  /** The deployment region (a token): the functions' SDK clients use it. */
  region: string;
  /** The SES configuration set campaign emails are sent with. */
  configurationSetName?: string;
  /** The unsubscribe function URL (only the campaign sender's configuration carries it). */
  unsubscribeBaseUrl?: string;
  /** The advisor-task function URL: the links of the task emails the campaign sender signs. */
  advisorTaskBaseUrl?: string;
}

/**
 * The configuration as CLIENTELE_CONFIG carries it: top-level sections equal to their defaults are
 * left out (the handler's parseConfig restores them from the same code), which keeps the variable
 * well inside Lambda's 4 KB. Storage, endpoints and sender are always written (the stack fills
 * them), and tiers (only a USD config may leave them out).
 */
export function compactConfig(config: Config): Record<string, unknown> {
  const defaults: Record<string, unknown> = parseConfig({});
  const always = new Set(['storage', 'endpoints', 'sender', 'tiers']);
  return Object.fromEntries(Object.entries(config).filter(([key, value]) => always.has(key) || !isDeepStrictEqual(value, defaults[key])));
}

/** `config.sender` keys a deployment decides; the brand sets senderAddress and sendRatePerSecond instead. */
const STACK_OWNED_SENDER_KEYS = ['fromAddress', 'configurationSetName', 'maxSendRate', 'unsubscribeBaseUrl'] as const;

/**
 * The configuration the functions receive in CLIENTELE_CONFIG: the brand's settings with the
 * deployed names and the sending settings (from address, rate, configuration set, unsubscribe
 * URL), parsed by the same parseConfig the handlers use.
 */
export function deployedConfig(settings: Settings, names: DeployedNames): Config {
  const { storage, ...brand } = settings.config;
  const input: Record<string, unknown> = {
    ...brand,
    storage: {
      exportsBucket: names.bucketName,
      exportsPrefix: storage.exportsPrefix,
      reportsBucket: names.bucketName,
      reportsPrefix: storage.reportsPrefix,
      tablePrefix: names.tablePrefix,
    },
    // No emulator endpoints in AWS: the SDK finds each service in the function's region.
    endpoints: { region: names.region },
  };
  // The function URL is a CloudFormation token until deploy: validate a stand-in, then put the token back.
  const url = names.unsubscribeBaseUrl;
  const urlIsToken = url !== undefined && Token.isUnresolved(url);
  input.sender = {
    ...brand.sender,
    fromAddress: settings.senderAddress,
    maxSendRate: settings.sendRatePerSecond,
    ...(names.configurationSetName ? { configurationSetName: names.configurationSetName } : {}),
    ...(url ? { unsubscribeBaseUrl: urlIsToken ? 'https://unsubscribe-url.invalid/' : url } : {}),
  };
  const taskUrl = names.advisorTaskBaseUrl;
  const taskUrlIsToken = taskUrl !== undefined && Token.isUnresolved(taskUrl);
  if (taskUrl) input.advisors = { ...brand.advisors, taskBaseUrl: taskUrlIsToken ? 'https://advisor-task-url.invalid/' : taskUrl };
  const config = parseConfig(input, 'deployed configuration');
  if (urlIsToken) config.sender.unsubscribeBaseUrl = url;
  if (taskUrlIsToken) config.advisors.taskBaseUrl = taskUrl;
  return config;
}
