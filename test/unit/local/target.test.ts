import { describe, expect, it } from 'vitest';
import { compactConfig, deployedConfig, settingsSchema } from '#infra/settings.ts';
import { configFromEnvironment } from '#shared/environment.ts';
import { parseConfig } from '#shared/config.ts';
import { configFromStackOutputs, exampleSenderSettings, refuseUnknownSenderSettings } from '#local/target.ts';

/** What `--stack NAME` builds from a deployed stack's outputs (infra/stack.ts). */

const TABLES = ['profiles', 'tier-history', 'send-ledger', 'suppression', 'runs', 'advisor-tasks', 'coupon-codes'].map((t) => `Clientele-prod-${t}`).join(', ');
const SECRET_ARN = 'arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:Clientele-prod-unsubscribe-AbCdEf';

const settings = settingsSchema.parse({
  senderAddress: 'hello@mail.maison.example',
  sesIdentity: 'mail.maison.example',
  sendRatePerSecond: 7,
  config: { brandName: 'Maison', timeZone: 'Asia/Shanghai', tiers: { vic: '80000' } },
});
/** The campaign sender's CLIENTELE_CONFIG, as the stack builds it once deployed. */
const campaignsConfig = JSON.stringify(
  compactConfig(
    deployedConfig(settings, {
      bucketName: 'clientele-prod-data-abc',
      tablePrefix: 'Clientele-prod-',
      region: 'ap-southeast-1',
      configurationSetName: 'Clientele-prod-campaigns',
      unsubscribeBaseUrl: 'https://unsub123.lambda-url.ap-southeast-1.on.aws/',
      advisorTaskBaseUrl: 'https://tasks456.lambda-url.ap-southeast-1.on.aws/',
    }),
  ),
);
const outputs = {
  DataBucket: 'clientele-prod-data-abc',
  ExportsLocation: 's3://clientele-prod-data-abc/exports/<YYYY-MM-DD>/',
  ReportsLocation: 's3://clientele-prod-data-abc/reports/nightly/<YYYY-MM-DD>/',
  Tables: TABLES,
  NightlyStateMachineArn: 'arn:aws:states:ap-southeast-1:123456789012:stateMachine:Clientele-prod-nightly',
  UnsubscribeUrl: 'https://unsub123.lambda-url.ap-southeast-1.on.aws/',
  AdvisorTaskUrl: 'https://tasks456.lambda-url.ap-southeast-1.on.aws/',
  ConfigurationSetName: 'Clientele-prod-campaigns',
  BrandTimeZone: 'Asia/Shanghai',
};

describe('configFromStackOutputs', () => {
  it('is the campaign sender\'s own configuration, read as the Lambda reads it, with the base\'s service endpoints only', () => {
    const base = parseConfig({ brandName: 'Other brand', endpoints: { region: 'us-east-1', dynamodb: 'http://127.0.0.1:8000' } });
    const { config, stack } = configFromStackOutputs(base, 'Clientele-prod', { ...outputs, CampaignsConfig: campaignsConfig, UnsubscribeSecretArn: SECRET_ARN });
    const lambda = configFromEnvironment(campaignsConfig);
    expect({ ...config, endpoints: lambda.endpoints }).toEqual(lambda);
    expect(config.endpoints).toEqual({ region: 'ap-southeast-1', dynamodb: 'http://127.0.0.1:8000' });
    expect(config.sender).toMatchObject({
      fromAddress: 'hello@mail.maison.example',
      maxSendRate: 7,
      configurationSetName: 'Clientele-prod-campaigns',
      unsubscribeBaseUrl: 'https://unsub123.lambda-url.ap-southeast-1.on.aws/',
    });
    expect(config.advisors.taskBaseUrl).toBe('https://tasks456.lambda-url.ap-southeast-1.on.aws/');
    expect(config.brandName).toBe('Maison');
    expect(stack).toMatchObject({ deployedConfig: true, unsubscribeSecretArn: SECRET_ARN, region: 'ap-southeast-1' });
    expect(exampleSenderSettings(config)).toEqual([]);
    expect(() => refuseUnknownSenderSettings('run campaigns', { config: { ...config, endpoints: { region: 'ap-southeast-1' } }, source: 'stack Clientele-prod', stack })).not.toThrow();
  });

  it('takes --region over the stack\'s', () => {
    const { config, stack } = configFromStackOutputs(parseConfig({}), 'Clientele-prod', { ...outputs, CampaignsConfig: campaignsConfig }, 'eu-west-1');
    expect(config.endpoints.region).toBe('eu-west-1');
    expect(stack.region).toBe('eu-west-1');
  });

  it('names the output when the deployed configuration cannot be read', () => {
    expect(() => configFromStackOutputs(parseConfig({}), 'Clientele-prod', { ...outputs, CampaignsConfig: '{"tiers":{"vic":"x"}}' })).toThrow(
      /^Stack Clientele-prod: its CampaignsConfig output is not a configuration this version of clientele reads: .*tiers\.vic/s,
    );
  });

  it('an older stack (no CampaignsConfig): its storage and URLs over the base, and its sender settings unknown', () => {
    const { config, stack } = configFromStackOutputs(parseConfig({}), 'Clientele-old', outputs);
    expect(stack.deployedConfig).toBe(false);
    expect(config.storage).toMatchObject({ tablePrefix: 'Clientele-prod-', exportsBucket: 'clientele-prod-data-abc' });
    expect(config.advisors.taskBaseUrl).toBe('https://tasks456.lambda-url.ap-southeast-1.on.aws/');
    expect(exampleSenderSettings(config)).toEqual(['sender.fromAddress']);
    expect(() => refuseUnknownSenderSettings('send-test', { config, source: 'stack Clientele-old', stack })).toThrow(
      /^send-test --stack Clientele-old: the stack has no CampaignsConfig output/,
    );
  });
});

describe('exampleSenderSettings', () => {
  it('lists the sender settings left at the handbook\'s examples; the emulators take them', () => {
    const config = parseConfig({});
    expect(exampleSenderSettings(config)).toEqual(['sender.fromAddress', 'sender.unsubscribeBaseUrl', 'advisors.taskBaseUrl']);
    expect(() => refuseUnknownSenderSettings('run campaigns', { config, source: 'config aws.json' })).toThrow(
      /^run campaigns: sender\.fromAddress, sender\.unsubscribeBaseUrl, advisors\.taskBaseUrl are still the handbook's example value in the config aws\.json/,
    );
    const local = parseConfig({ endpoints: { ses: 'http://127.0.0.1:8005' } });
    expect(() => refuseUnknownSenderSettings('run campaigns', { config: local, source: 'config local.json' })).not.toThrow();
  });
});
