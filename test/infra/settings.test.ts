import { describe, expect, it } from 'vitest';
import { App } from 'aws-cdk-lib';
import { buildClientele } from '#infra/build.ts';
import { compactConfig, deployedConfig, readSettings, SettingsError, type SettingsInput } from '#infra/settings.ts';
import { parseConfig } from '#shared/config.ts';
import { tableName } from '#shared/store/tables.ts';
import { cdkJsonContext } from './helpers.ts';

const minimal: SettingsInput = { senderAddress: 'hello@mail.example.com', sesIdentity: 'example.com' };
const fromContext = (context: Record<string, unknown>) => readSettings(context);

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError);
    return (error as Error).message;
  }
  throw new Error('expected a SettingsError');
}

describe('deployment settings', () => {
  it('reads cdk.json as it is', () => {
    const settings = fromContext(cdkJsonContext());
    expect(settings).toMatchObject({ name: 'Clientele', stage: 'dev', config: { timeZone: 'Asia/Shanghai' }, sendRatePerSecond: 1 });
  });

  it('fills defaults from the shared config schema and the handbook', () => {
    const settings = fromContext({ clientele: minimal });
    expect(settings.config).toMatchObject({
      timeZone: 'Asia/Shanghai',
      tiers: { vic: '50000', core: '5000', potential: '1000' },
      storage: { exportsPrefix: 'exports', reportsPrefix: 'reports' },
    });
    expect(settings.alarms).toEqual({ bounceRate: 0.05, complaintRate: 0.001 });
    expect(settings.retention).toEqual({ exportsDays: 90, rejectsDays: 30, workDays: 7, logDays: 90 });
    expect(settings.nightlyShards).toBe(1);
  });

  it('applies -c clientele:<key> overrides, typed, over the context object', () => {
    const settings = fromContext({
      clientele: minimal,
      'clientele:stage': 'prod',
      'clientele:timeZone': 'Europe/Paris',
      'clientele:sendRatePerSecond': '14',
      'clientele:schedulesEnabled': 'false',
    });
    expect(settings).toMatchObject({ stage: 'prod', config: { timeZone: 'Europe/Paris' }, sendRatePerSecond: 14, schedulesEnabled: false });
  });

  it('takes the nightly shard count from -c clientele:nightlyShards, a whole number from 1 to 100', () => {
    expect(fromContext({ clientele: minimal, 'clientele:nightlyShards': '4' }).nightlyShards).toBe(4);
    expect(fromContext({ clientele: { ...minimal, nightlyShards: 100 } }).nightlyShards).toBe(100);
    for (const bad of ['0', '101', '2.5', 'many']) {
      expect(message(() => fromContext({ clientele: minimal, 'clientele:nightlyShards': bad }))).toContain('-c clientele:nightlyShards:');
    }
  });

  it('rejects a -c clientele:<key> that is not an override (a typo), listing the ones there are', () => {
    const text = message(() => fromContext({ clientele: minimal, 'clientele:alarmsEmail': 'ops@example.com', 'clientele:stage': 'prod' }));
    expect(text).toContain(
      '-c clientele:alarmsEmail: not a setting that -c can override (those are name, stage, brandName, timeZone, exportsPrefix, senderAddress, sesIdentity, sendRatePerSecond, alarmEmail, schedulesEnabled, nightlyShards)',
    );
    // Reported with the other mistakes, not instead of them.
    expect(message(() => fromContext({ clientele: minimal, 'clientele:stag': 'prod', 'clientele:timeZone': 'Mars/Phobos' }))).toMatch(
      /-c clientele:stag: not a setting[^\n]*\n.*-c clientele:timeZone: must be an IANA time zone/,
    );
    // Other context keys (CDK's own, feature flags) are none of the settings' business.
    expect(fromContext({ clientele: minimal, '@aws-cdk/core:newStyleStackSynthesis': true, clienteleX: 1 }).stage).toBe('dev');
  });

  it('accepts the whole object as a JSON string (-c clientele=\'{...}\')', () => {
    expect(fromContext({ clientele: JSON.stringify({ ...minimal, stage: 'prod' }) }).stage).toBe('prod');
  });

  it('names each bad key and where it came from', () => {
    const text = message(() =>
      fromContext({
        clientele: { ...minimal, config: { timeZone: 'Mars/Phobos', tiers: { vic: '10', core: '50', potential: '1' } } },
        'clientele:sendRatePerSecond': 'fast',
      }),
    );
    expect(text).toContain('clientele.config.timeZone: must be an IANA time zone');
    expect(text).toContain('clientele.config.tiers: tier thresholds must satisfy vic > core > potential > 0');
    expect(text).toContain('-c clientele:sendRatePerSecond:');
    // The checks across fields are the shared config's: a ledger retention the night's reports outlast too.
    expect(message(() => fromContext({ clientele: { ...minimal, config: { sender: { ledgerRetentionDays: 60 } } } }))).toContain(
      'clientele.config.sender.ledgerRetentionDays: must be at least 91',
    );
  });

  it('rejects what the stack decides, unknown keys, and overlapping prefixes', () => {
    const text = message(() =>
      fromContext({ clientele: { ...minimal, colour: 'blue', config: { storage: { exportsBucket: 'mine', exportsPrefix: 'reports/in' } } } }),
    );
    expect(text).toMatch(/clientele\.config\.storage: Unrecognized key.*exportsBucket.*set by the stack/);
    expect(text).toContain('must not contain one another');
    expect(text).toMatch(/clientele: Unrecognized key.*colour/);
  });

  it('gives the coupon pools a folder of their own: not the bucket root (the sender reads all of it), not over or under the exports (expired) or the reports', () => {
    const withPools = (poolsPrefix: string, storage: Record<string, string> = {}) => () => fromContext({ clientele: { ...minimal, config: { storage, coupons: { poolsPrefix } } } });
    expect(message(withPools(''))).toContain('clientele.config.coupons.poolsPrefix: must not be empty');
    expect(message(withPools('/'))).toContain('clientele.config.coupons.poolsPrefix: must not be empty');
    expect(message(withPools('exports/coupon-pools'))).toContain('clientele.config.coupons.poolsPrefix: must not contain or sit under storage.exportsPrefix "exports"');
    expect(message(withPools('exports'))).toContain('storage.exportsPrefix "exports"');
    expect(message(withPools('data', { exportsPrefix: 'data/exports' }))).toContain('storage.exportsPrefix "data/exports"');
    expect(message(withPools('reports/work/pools'))).toContain('clientele.config.coupons.poolsPrefix: must not contain or sit under storage.reportsPrefix "reports"');
    // A name that only begins like the exports prefix is another folder.
    expect(fromContext({ clientele: { ...minimal, config: { coupons: { poolsPrefix: 'exports-pools/' } } } }).config.coupons.poolsPrefix).toBe('exports-pools');
  });

  it('leaves the sending settings the stack decides out of the brand configuration', () => {
    const text = message(() => fromContext({ clientele: { ...minimal, config: { sender: { fromAddress: 'x@example.com', maxSendRate: 3 } } } }));
    expect(text).toContain('clientele.config.sender.fromAddress: set by the stack');
    expect(text).toContain('clientele.config.sender.maxSendRate: set by the stack');
  });

  it('checks that the sender address belongs to the SES identity', () => {
    expect(fromContext({ clientele: { senderAddress: 'a@news.example.com', sesIdentity: 'example.com' } }).senderAddress).toBe('a@news.example.com');
    expect(fromContext({ clientele: { senderAddress: 'a@example.com', sesIdentity: 'a@example.com' } }).sesIdentity).toBe('a@example.com');
    expect(message(() => fromContext({ clientele: { senderAddress: 'a@example.org', sesIdentity: 'example.com' } }))).toContain(
      'clientele.senderAddress: must be sendable by the SES identity example.com',
    );
    expect(message(() => fromContext({ clientele: { senderAddress: 'a@example.com', sesIdentity: 'not a domain' } }))).toContain('clientele.sesIdentity');
  });

  it('requires the sender, and only accepts CloudWatch log retention periods', () => {
    const text = message(() => fromContext({ clientele: { retention: { logDays: 10 } } }));
    expect(text).toContain('clientele.senderAddress');
    expect(text).toContain('clientele.retention.logDays: must be one of');
  });

  it('fails the synth of the app itself with the message (timeZone Mars/Phobos, a mistyped override)', () => {
    const app = new App({ context: { ...cdkJsonContext(), 'clientele:timeZone': 'Mars/Phobos' }, autoSynth: false });
    expect(() => buildClientele(app)).toThrow(/-c clientele:timeZone: must be an IANA time zone/);
    const typo = new App({ context: { ...cdkJsonContext(), 'clientele:alarmsEmail': 'ops@example.com' }, autoSynth: false });
    expect(() => buildClientele(typo)).toThrow(/-c clientele:alarmsEmail: not a setting that -c can override \(those are .*alarmEmail/);
  });
});

describe('deployed configuration', () => {
  it('is the brand configuration with the stack\'s names and region, parsed by parseConfig', () => {
    const settings = fromContext({ clientele: { ...minimal, config: { brandName: 'Maison', storage: { exportsPrefix: '/in/', reportsPrefix: 'out' } } } });
    const config = deployedConfig(settings, { bucketName: 'data-bucket', tablePrefix: 'Clientele-prod-', region: 'eu-west-1' });
    expect(config.brandName).toBe('Maison');
    expect(config.storage).toEqual({
      exportsBucket: 'data-bucket',
      exportsPrefix: 'in',
      reportsBucket: 'data-bucket',
      reportsPrefix: 'out',
      tablePrefix: 'Clientele-prod-',
    });
    expect(config.endpoints).toEqual({ region: 'eu-west-1' });
    expect(tableName(config, 'sendLedger')).toBe('Clientele-prod-send-ledger');
  });

  it('is written compactly: sections left at their defaults are restored by the handler\'s parseConfig', () => {
    const settings = fromContext({ clientele: { ...minimal, config: { brandName: 'Maison', tiers: { vic: '80000', core: '8000', potential: '800' } } } });
    const config = deployedConfig(settings, { bucketName: 'data-bucket', tablePrefix: 'p-', region: 'eu-west-1' });
    const compact = compactConfig(config);
    expect(Object.keys(compact)).toEqual(expect.arrayContaining(['brandName', 'tiers', 'storage', 'endpoints']));
    expect(compact).not.toHaveProperty('lifecycle');
    expect(parseConfig(JSON.parse(JSON.stringify(compact)))).toEqual(config);
  });

  it('keeps the tiers of a brand in another currency than USD when compacted, even at the default figures: parseConfig refuses that currency without them', () => {
    const settings = fromContext({ clientele: { ...minimal, config: { currency: 'JPY', tiers: { vic: '50000', core: '5000', potential: '1000' } } } });
    const config = deployedConfig(settings, { bucketName: 'data-bucket', tablePrefix: 'p-', region: 'eu-west-1' });
    expect(parseConfig(JSON.parse(JSON.stringify(compactConfig(config))))).toEqual(config);
    expect(() => fromContext({ clientele: { ...minimal, config: { currency: 'JPY' } } })).toThrow(/tiers: must be set when currency is JPY/);
  });

  it('fills the sender section from the deployment settings', () => {
    const settings = fromContext({ clientele: { ...minimal, sendRatePerSecond: 12 } });
    const config = deployedConfig(settings, {
      bucketName: 'data-bucket',
      tablePrefix: 'p-',
      region: 'eu-west-1',
      configurationSetName: 'Clientele-prod-campaigns',
      unsubscribeBaseUrl: 'https://abc.lambda-url.eu-west-1.on.aws/',
    });
    expect(config.sender).toMatchObject({
      fromAddress: 'hello@mail.example.com',
      maxSendRate: 12,
      configurationSetName: 'Clientele-prod-campaigns',
      unsubscribeBaseUrl: 'https://abc.lambda-url.eu-west-1.on.aws/',
    });
  });
});
