import { beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '#shared/config.ts';
import { forgetClient } from '#shared/forget/forget.ts';
import { recordErasure } from '#shared/store/erasure-store.ts';
import { getSuppression, suppress } from '#shared/store/suppression-store.ts';
import { getProfile } from '#shared/store/profile-store.ts';
import type { CampaignRunSummary } from '#shared/sender/run.ts';
import { ledgerEntriesOf } from '#shared/store/ledger-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { verifyUnsubscribeToken } from '#shared/unsubscribe/token.ts';
import { campaignConfig } from '#test/support/campaign-runs.ts';
import { deployedRole } from '#test/support/deployed-role.ts';
import { seedProfiles } from '#test/support/emulator-data.ts';
import { lambdaHarness } from '#test/support/lambda-handler.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { fakeSecretsExtension } from '#test/support/secrets-extension.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { HOUR, MINUTE, at, iso } from '#test/support/time.ts';

/**
 * The hourly campaign sender's Lambda handler as EventBridge Scheduler invokes it: its config and
 * secret ARN from the environment, the unsubscribe key through the secrets extension, the emails
 * through the SES emulator, every call within what the stack's role for it allows.
 */

const SECRET = 'campaigns-handler-secret-0123456789abcdef';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:unsubscribe-key';
// 10:00 in the brand's zone (Asia/Shanghai), outside quiet hours; a later hour for the dry run.
const TEN = at('2026-11-23 10:00');
const ELEVEN = TEN + HOUR;

const aws = sharedAws();
const role = deployedRole(aws, 'campaigns');
const secrets = fakeSecretsExtension({ arn: SECRET_ARN, current: SECRET }, { readBy: role });
const lambda = lambdaHarness();
let config: Config;
let handler: (event: unknown) => Promise<CampaignRunSummary>;

/** A client whose welcome is due at `instant`: first order two hours before. */
const newcomer = (customerId: string, instant: number) =>
  profileItem(customerId, { stage: 'new', firstOrderAt: iso(instant - 2 * HOUR), lastOrderAt: iso(instant - 2 * HOUR) });

const ledgerOf = (customerId: string) => ledgerEntriesOf(aws.clients.documents, tableNames(config).sendLedger, customerId);

beforeAll(async () => {
  config = await campaignConfig(aws, 'handler');
  await seedProfiles(aws, config, [newcomer('ch-ten', TEN)]);
  const environment = role.environment(config, { UNSUBSCRIBE_SECRET_ARN: SECRET_ARN });
  ({ handler } = await lambda.load(environment, () => import('#functions/campaigns/handler.ts')));
});

describe('campaigns handler, one hour per invocation', () => {
  it('sends the welcome due at `at` once, signed with the key the secrets extension serves', async () => {
    const summary = await handler({ at: iso(TEN) });
    expect(summary).toMatchObject({ job: 'campaigns', at: iso(TEN), dryRun: false });
    expect(summary.runId).toMatch(/^campaigns-/);
    expect(summary.campaigns.welcome).toMatchObject({ due: 1, sent: 1 });

    const emails = await emailsTo(aws, 'ch-ten@example.com');
    expect(emails).toHaveLength(1);
    const [email] = emails;
    expect(email?.from).toBe(config.sender.fromAddress);
    const unsubscribe = new Map((email?.headers ?? []).map((h) => [h.name.toLowerCase(), h.value])).get('list-unsubscribe') ?? '';
    const token = new URL(unsubscribe.slice(1, -1)).searchParams.get('t') ?? '';
    expect(verifyUnsubscribeToken(token, SECRET)).toBe('ch-ten');
    expect(await ledgerOf('ch-ten')).toEqual([expect.objectContaining({ occasionKey: 'welcome', status: 'sent', runId: summary.runId })]);
  });

  it('a second invocation for the same hour sends nothing; it reads the key again (each invocation signs with the key current then)', async () => {
    const readsBefore = secrets.reads();
    const again = await handler({ at: iso(TEN) });
    expect(again.campaigns.welcome).toMatchObject({ due: 0, sent: 0 });
    expect(again.mailer?.sent).toBe(0);
    expect(await emailsTo(aws, 'ch-ten@example.com')).toHaveLength(1);
    expect(secrets.reads()).toBe(readsBefore + 1);
  });

  it('dryRun plans the send it would make and sends nothing; the real run then sends it', async () => {
    await seedProfiles(aws, config, [newcomer('ch-eleven', ELEVEN)]);
    const dry = await handler({ at: iso(ELEVEN), dryRun: true });
    expect(dry.dryRun).toBe(true);
    expect(dry.plan).toEqual([expect.objectContaining({ customerId: 'ch-eleven', campaignId: 'welcome', outcome: 'send' })]);
    expect(dry.mailer?.sent).toBe(0);
    expect(await emailsTo(aws, 'ch-eleven@example.com')).toEqual([]);
    expect(await ledgerOf('ch-eleven')).toEqual([]);

    const real = await handler({ at: iso(ELEVEN) });
    expect(real.campaigns.welcome).toMatchObject({ due: 1, sent: 1 });
    expect(await emailsTo(aws, 'ch-eleven@example.com')).toHaveLength(1);
  });

  it('a due client on the erasure list whose profile a night wrote back is not mailed, and is erased again', async () => {
    const hour = TEN + 3 * HOUR;
    const erased = newcomer('ch-erased', hour);
    await seedProfiles(aws, config, [erased]);
    await forgetClient({ config, clients: aws.clients, request: { customerId: 'ch-erased' }, at: Date.now() });
    // As a night racing the request leaves it: the profile written after the erasure.
    await seedProfiles(aws, config, [erased]);
    const summary = await handler({ at: iso(hour) });
    expect(summary.mailer?.sent).toBe(0);
    expect(await emailsTo(aws, 'ch-erased@example.com')).toEqual([]);
    expect(await getProfile(aws.clients.documents, tableNames(config).profiles, 'ch-erased')).toBeUndefined();
  });

  it('a due client a forget left half done, whose address kept an SES complaint, is erased again: the hour completes under the deployed role', async () => {
    const hour = TEN + 4 * HOUR;
    const tables = tableNames(config);
    await seedProfiles(aws, config, [newcomer('ch-half', hour)]);
    await suppress(aws.clients.documents, tables.suppression, { email: 'ch-half@example.com', reason: 'complaint', at: hour - 86_400_000, customerId: 'ch-half', source: 'ses-complaint:fb-9', feedbackId: 'ses-complaint:fb-9' });
    // The forget stopped after recording the erasure (its entries come first).
    await recordErasure(aws.clients.documents, tables.suppression, { customerIds: ['ch-half'], emails: ['ch-half@example.com'] }, Date.now());
    const summary = await handler({ at: iso(hour) });
    expect(summary.mailer?.sent ?? 0).toBe(0);
    expect(await getProfile(aws.clients.documents, tables.profiles, 'ch-half')).toBeUndefined();
    expect(await getSuppression(aws.clients.documents, tables.suppression, 'ch-half@example.com')).toBeUndefined();
  });

  it('rejects an event whose time is not an ISO instant, or whose dryRun is not a boolean, before sending anything', async () => {
    await seedProfiles(aws, config, [newcomer('ch-bad', TEN + 2 * HOUR)]);
    // EVENT_INVALID naming the field: what the Lambda's error and the schedule's dead-letter queue show.
    await expect(handler({ at: 'yesterday' })).rejects.toMatchObject({
      code: 'EVENT_INVALID',
      message: 'Invalid campaigns event: at: Invalid ISO datetime',
    });
    await expect(handler({ at: iso(TEN + 2 * HOUR), dryRun: 'yes' })).rejects.toMatchObject({
      code: 'EVENT_INVALID',
      message: 'Invalid campaigns event: dryRun: Invalid input: expected boolean, received string',
    });
    // An hour ahead of the clock (a manual invocation with a mistyped year) sends nothing now.
    await expect(handler({ at: '2099-11-23T10:00:00+08:00' })).rejects.toMatchObject({
      code: 'EVENT_INVALID',
      message: expect.stringMatching(/^Invalid campaigns event: at: the hour 2099-11-23T02:00:00.000Z is ahead of the clock/),
    });
    expect(await emailsTo(aws, 'ch-bad@example.com')).toEqual([]);
    expect(await ledgerOf('ch-bad')).toEqual([]);
  });

  it('refuses a rehearsal whose dryRun flag is mistyped, naming the key, before sending anything', async () => {
    await seedProfiles(aws, config, [newcomer('ch-rehearsal', TEN + 5 * HOUR)]);
    for (const key of ['dry_run', 'dryrun', 'dry-run']) {
      await expect(handler({ at: iso(TEN + 5 * HOUR), [key]: true }), key).rejects.toMatchObject({
        code: 'EVENT_INVALID',
        message: `Invalid campaigns event: (event): Unrecognized key: "${key}"`,
      });
    }
    expect(await emailsTo(aws, 'ch-rehearsal@example.com')).toEqual([]);
    expect(await ledgerOf('ch-rehearsal')).toEqual([]);
  });

  it('runs the schedule\'s event, { trigger: "schedule", at }, when it arrives within 50 minutes of its hour', async () => {
    // Dry: the hour is the real clock's, and this file's clients are due in 2026-11.
    const hour = iso(Date.now() - 10 * MINUTE);
    const summary = await handler({ trigger: 'schedule', at: hour, dryRun: true });
    expect(summary).toMatchObject({ job: 'campaigns', at: hour, dryRun: true });
    // Later than that, refused before anything is read (test/unit/functions/campaigns/handler.test.ts).
    await expect(handler({ trigger: 'schedule', at: iso(Date.now() - 2 * HOUR) })).rejects.toMatchObject({ code: 'EVENT_TOO_LATE' });
  });
});
