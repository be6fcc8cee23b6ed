import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compactConfig, deployedConfig, settingsSchema } from '#infra/settings.ts';
import type { Config } from '#shared/config.ts';
import { tableNames } from '#shared/store/tables.ts';
import { verifyUnsubscribeToken } from '#shared/unsubscribe/token.ts';
import { campaignConfig } from '#test/support/campaign-runs.ts';
import { clienteleExit } from '#test/support/cli.ts';
import { ledgerEntries, seedProfiles } from '#test/support/emulator-data.ts';
import { scratchDir } from '#test/support/export-files.ts';
import { fakeStack } from '#test/support/fake-stack.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { HOUR, at as local, iso } from '#test/support/time.ts';

/**
 * The sending commands with `--stack NAME`: the stack's outputs (a fake CloudFormation) give the
 * configuration its campaign sender runs with and the secret its links are signed with (a fake
 * Secrets Manager); the tables, bucket and SES are the emulators (`--config` names only their
 * endpoints). An email the CLI sends must be the one the deployed function would send.
 */

const aws = sharedAws();
const stack = fakeStack();
const work = scratchDir('stack-target');
const AT = local('2026-11-23 10:00', 'Asia/Shanghai');
const STACK = 'Clientele-prod';
const OLD_STACK = 'Clientele-old';
const SECRET_ARN = 'arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:Clientele-prod-unsubscribe-AbCdEf';
/** The stack's key; the operator's shell holds another one, which must not sign anything. */
const STACK_KEY = 's'.repeat(48);
const SHELL_KEY = 'e'.repeat(48);
const UNSUBSCRIBE_URL = 'https://unsub123.lambda-url.ap-southeast-1.on.aws/';
const TASK_URL = 'https://tasks456.lambda-url.ap-southeast-1.on.aws/';
let config: Config;
let endpointsFile: string;

/** What infra/stack.ts outputs for a stack whose resources are this scenario's tables and bucket. */
function stackOutputs(campaignsConfig: string | undefined): Record<string, string> {
  const { storage } = config;
  return {
    DataBucket: storage.exportsBucket,
    ExportsLocation: `s3://${storage.exportsBucket}/${storage.exportsPrefix}/<YYYY-MM-DD>/`,
    ReportsLocation: `s3://${storage.exportsBucket}/${storage.reportsPrefix}/nightly/<YYYY-MM-DD>/`,
    Tables: Object.values(tableNames(config)).join(', '),
    NightlyStateMachineArn: 'arn:aws:states:ap-southeast-1:123456789012:stateMachine:Clientele-prod-nightly',
    UnsubscribeUrl: UNSUBSCRIBE_URL,
    AdvisorTaskUrl: TASK_URL,
    ConfigurationSetName: 'Clientele-prod-campaigns',
    BrandTimeZone: 'Asia/Shanghai',
    ...(campaignsConfig === undefined ? {} : { CampaignsConfig: campaignsConfig, UnsubscribeSecretArn: SECRET_ARN }),
  };
}

beforeAll(async () => {
  config = await campaignConfig(aws, 'stack');
  // The campaign sender's CLIENTELE_CONFIG, built as infra/stack.ts builds it from the deployment settings.
  const settings = settingsSchema.parse({
    senderAddress: 'hello@mail.maison.example',
    sesIdentity: 'mail.maison.example',
    sendRatePerSecond: 500,
    config: {
      brandName: 'Maison Lumière',
      timeZone: 'Asia/Shanghai',
      campaigns: { policy: { controlShare: 0 } },
      sender: { shopUrl: 'https://shop.maison.example/', postalAddress: ['1 Demo Plaza', 'Shanghai 200000'] },
      storage: { exportsPrefix: config.storage.exportsPrefix, reportsPrefix: config.storage.reportsPrefix },
    },
  });
  const deployed = deployedConfig(settings, {
    bucketName: config.storage.exportsBucket,
    tablePrefix: config.storage.tablePrefix,
    region: 'ap-southeast-1',
    configurationSetName: 'Clientele-prod-campaigns',
    unsubscribeBaseUrl: UNSUBSCRIBE_URL,
    advisorTaskBaseUrl: TASK_URL,
  });
  stack.state.stacks[STACK] = stackOutputs(JSON.stringify(compactConfig(deployed)));
  // A stack deployed before the CampaignsConfig and UnsubscribeSecretArn outputs.
  stack.state.stacks[OLD_STACK] = stackOutputs(undefined);
  stack.state.secrets[SECRET_ARN] = STACK_KEY;
  endpointsFile = join(work, 'endpoints.json');
  await writeFile(endpointsFile, JSON.stringify({ endpoints: config.endpoints }));
});

const cli = (args: string[], stackName = STACK) =>
  clienteleExit([...args, '--stack', stackName, '--config', endpointsFile], { env: { ...stack.env(), UNSUBSCRIBE_SECRET: SHELL_KEY } });

describe('the sending commands against a stack', () => {
  it('`run campaigns --stack` sends as the deployed sender: its From, its unsubscribe URL, links signed with the stack\'s key', async () => {
    const customerId = 'stk-welcome';
    await seedProfiles(aws, config, [profileItem(customerId, { stage: 'new', firstOrderAt: iso(AT - 2 * HOUR), lastOrderAt: iso(AT - 2 * HOUR) })]);
    const { code, stdout, stderr } = await cli(['run', 'campaigns', '--at', iso(AT), '--json', '--log-level', 'error']);
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ campaigns: { welcome: { sent: 1 } } });
    expect(stack.calls).toContain(`GetSecretValue ${SECRET_ARN}`);

    const [email, ...more] = await emailsTo(aws, `${customerId}@example.com`);
    expect(more).toEqual([]);
    expect(email?.from).toContain('hello@mail.maison.example');
    const link = /https:\/\/unsub123\.lambda-url\.ap-southeast-1\.on\.aws\/\?t=[^"\s<]+/.exec(email?.body.html ?? '')?.[0];
    expect(link).toBeDefined();
    const token = new URL((link ?? '').replace(/&amp;/g, '&')).searchParams.get('t') ?? '';
    expect(verifyUnsubscribeToken(token, STACK_KEY)).toBe(customerId);
    expect(verifyUnsubscribeToken(token, SHELL_KEY)).toBeUndefined();
  });

  it('`send-test --stack` sends from the deployed sender address (its domain is the internal one)', async () => {
    const { code, stderr } = await cli(['send-test', '--campaign', 'welcome', '--to', 'qa@mail.maison.example']);
    expect(code, stderr).toBe(0);
    const [email] = await emailsTo(aws, 'qa@mail.maison.example');
    expect(email?.from).toContain('hello@mail.maison.example');
  });

  it('refuses to send, in one line, with a stack whose outputs do not carry the sender\'s settings and key', async () => {
    for (const args of [
      ['run', 'campaigns', '--at', iso(AT)],
      ['send-test', '--campaign', 'welcome', '--to', 'qa@example.com'],
      ['run', 'advisor-digests', '--date', '2026-11-22'],
    ]) {
      const { code, stderr } = await cli(args, OLD_STACK);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr).toMatch(/^clientele: .* --stack Clientele-old: the stack has no CampaignsConfig output .* Deploy the stack with this version/);
      expect(stderr.trim().split('\n')).toHaveLength(1);
    }
    // A dry run sends nothing, but signs with the key: it is refused for want of the key's ARN.
    const dryRun = await cli(['run', 'campaigns', '--at', iso(AT), '--dry-run'], OLD_STACK);
    expect(dryRun.code).toBe(2);
    expect(dryRun.stderr).toContain('the stack has no UnsubscribeSecretArn output');
    expect(await ledgerEntries(aws, config)).toHaveLength(1);
  });

  it('refuses to send a past hour through real SES: its emails would go now, dated at that hour, and the next hour\'s cap would let a second one through', async () => {
    const file = join(work, 'aws-past-hour.json');
    // No emulator endpoint: real AWS. Nothing is called before the refusal.
    const sender = { fromAddress: 'hello@mail.maison.example', unsubscribeBaseUrl: 'https://unsub.maison.example/', shopUrl: 'https://shop.maison.example/' };
    await writeFile(file, JSON.stringify({ storage: config.storage, sender, advisors: { taskBaseUrl: 'https://tasks.maison.example/' } }));
    const { code, stderr } = await clienteleExit(['run', 'campaigns', '--at', iso(AT), '--config', file], { env: { UNSUBSCRIBE_SECRET: SHELL_KEY } });
    expect(code).toBe(2);
    expect(stderr).toMatch(/^clientele: --at .*: the hour 2026-11-23T02:00:00.000Z is behind the clock .* run the current hour \(it sends what is still due\), or this one as a dry run/);
  });

  it('refuses to send through real SES with a config file that leaves the sender at the handbook\'s examples', async () => {
    const file = join(work, 'aws-config.json');
    // No emulator endpoint: real AWS. Nothing is called before the refusal.
    await writeFile(file, JSON.stringify({ storage: config.storage, sender: { shopUrl: 'https://shop.maison.example/' } }));
    const { code, stderr } = await clienteleExit(['run', 'campaigns', '--at', iso(AT), '--config', file], { env: { UNSUBSCRIBE_SECRET: SHELL_KEY } });
    expect(code).toBe(2);
    expect(stderr).toMatch(/^clientele: run campaigns: sender\.fromAddress, sender\.unsubscribeBaseUrl, advisors\.taskBaseUrl are still the handbook's example value/);
  });
});
