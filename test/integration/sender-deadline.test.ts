import { SENDER_ALERTS } from '#shared/alerts.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Context } from 'aws-lambda';
import type { Config } from '#shared/config.ts';
import { createSesMailer, type SesMailer } from '#shared/delivery/ses-mailer.ts';
import { AFTER_LAST_CALL_MS, sendingDeadline } from '#shared/delivery/send-deadline.ts';
import { jsonLog } from '#shared/log.ts';
import type { CampaignRunSummary } from '#shared/sender/run.ts';
import { ledgerEntriesOf } from '#shared/store/ledger-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { campaignConfig, countsOf, runCampaignHour } from '#test/support/campaign-runs.ts';
import { deployedRole } from '#test/support/deployed-role.ts';
import { seedProfiles } from '#test/support/emulator-data.ts';
import { lambdaHarness } from '#test/support/lambda-handler.ts';
import { lambdaContext } from '#test/support/lambda-output.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { awsError, sesRefusing } from '#test/support/refusing-ses.ts';
import { fakeSecretsExtension } from '#test/support/secrets-extension.ts';
import { emailsTo } from '#test/support/ses-store.ts';
import { HOUR, MINUTE, at, iso } from '#test/support/time.ts';
import { logicalId, synthesize } from '#test/infra/helpers.ts';

/**
 * The hourly sender against its Lambda's end. The deployed function stops after 15 minutes and
 * sends at 1 email a second by default: an hour with more due emails than that was killed mid-run,
 * almost always between a claim and its SES call (the mailer's pacing wait), leaving a `claimed`
 * entry nobody resends, no summary and no metrics. Now the handler gives the run a deadline from
 * the Lambda's remaining time, and the run claims no email whose turn would come after it: the
 * rest stay due, the run ends with its summary, and the next hour sends them, each once.
 */

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:unsubscribe-key';
const TEN = at('2026-11-23 10:00');

const aws = sharedAws();
const role = deployedRole(aws, 'campaigns');
fakeSecretsExtension({ arn: SECRET_ARN, current: 'sender-deadline-secret-0123456789abcdef' }, { readBy: role });
const lambda = lambdaHarness();

const newcomer = (customerId: string, instant: number) =>
  profileItem(customerId, { stage: 'new', firstOrderAt: iso(instant - 2 * HOUR), lastOrderAt: iso(instant - 2 * HOUR) });

async function ledgerOf(config: Config, ids: readonly string[]) {
  return (await Promise.all(ids.map((id) => ledgerEntriesOf(aws.clients.documents, tableNames(config).sendLedger, id)))).flat();
}

async function emailCounts(ids: readonly string[]): Promise<number[]> {
  return Promise.all(ids.map(async (id) => (await emailsTo(aws, `${id}@example.com`)).length));
}

/** A Lambda context with `remainingMs` left from now. */
function contextWith(remainingMs: number): Context {
  const ends = Date.now() + remainingMs;
  return { ...lambdaContext('campaigns', `req-${remainingMs}`), getRemainingTimeInMillis: () => Math.max(0, ends - Date.now()) };
}

describe('the deployed sender', () => {
  it('has 15 minutes at 1 email a second: its deadline leaves it 839 s to start sends', { timeout: 240_000 }, () => {
    const synth = synthesize({}, { 'aws:cdk:bundling-stacks': [] });
    const fn = synth.json.Resources[logicalId(synth.stack.campaignSender.sender.fn)];
    const deployed = { timeoutSeconds: Number(fn?.Properties?.Timeout), rate: synth.stack.settings.sendRatePerSecond };
    synth.cleanup();
    expect(deployed).toEqual({ timeoutSeconds: 900, rate: 1 });
    // The README's figure: one paced send and AFTER_LAST_CALL_MS (SES's call bound, the run's end) before the end.
    expect(AFTER_LAST_CALL_MS).toBe(60_000);
    expect(sendingDeadline(0, deployed.timeoutSeconds * 1000, deployed.rate)).toBe(839_000);
  });
});

describe('a campaign run with a deadline', () => {
  const CLIENTS = ['dl-a', 'dl-b', 'dl-c', 'dl-d'];
  let config: Config;
  let handler: (event: unknown, context?: Context) => Promise<CampaignRunSummary>;

  beforeAll(async () => {
    config = await campaignConfig(aws, 'sender-deadline', { sender: { maxSendRate: 1 } });
    await seedProfiles(aws, config, CLIENTS.map((id) => newcomer(id, TEN)));
    ({ handler } = await lambda.load(role.environment(config, { UNSUBSCRIBE_SECRET_ARN: SECRET_ARN }), () => import('#functions/campaigns/handler.ts')));
  }, 240_000);

  it('in a Lambda about to end claims nothing, reports what it left, and the next invocation sends each email once', { timeout: 120_000 }, async () => {
    // 1.5 s left: less than one paced send and SES's call bound, as for the 840th email of a 15-minute hour.
    const short = await handler({ at: iso(TEN) }, contextWith(1500));
    expect(short.stopped?.reason).toBe('deadline');
    expect(countsOf(short, 'welcome')).toMatchObject({ due: 4, left: 4, sent: 0 });
    expect(short.mailer.sent).toBe(0);
    // Nothing claimed, nothing drawn or written: the welcomes stay due.
    expect(await ledgerOf(config, CLIENTS)).toEqual([]);
    expect(await emailCounts(CLIENTS)).toEqual([0, 0, 0, 0]);

    const next = await handler({ at: iso(TEN + HOUR) }, contextWith(15 * MINUTE));
    expect(next.stopped).toBeUndefined();
    expect(countsOf(next, 'welcome')).toMatchObject({ sent: 4, left: 0 });
    expect(await emailCounts(CLIENTS)).toEqual([1, 1, 1, 1]);
    expect((await ledgerOf(config, CLIENTS)).map((e) => e.status)).toEqual(['sent', 'sent', 'sent', 'sent']);
  });
});

describe('a campaign run whose pacing would pass its deadline', () => {
  const CLIENTS = ['dp-a', 'dp-b', 'dp-c', 'dp-d'];

  /** The emulator's mailer, whose third email would have to wait an hour for its turn (as at 1/s near the deadline). */
  function pacedMailer(): SesMailer {
    const mailer = createSesMailer(aws.clients.ses, { maxSendRate: 500 });
    return { ...mailer, nextCallInMs: () => (mailer.stats().sent >= 2 ? HOUR : 0) };
  }

  it('sends what starts before the deadline, claims none of the rest, logs them left, and the next hour sends them once', { timeout: 120_000 }, async () => {
    const config = await campaignConfig(aws, 'sender-deadline-pacing');
    await seedProfiles(aws, config, CLIENTS.map((id) => newcomer(id, TEN)));
    const lines: string[] = [];
    const log = jsonLog({ write: (line) => lines.push(line) });

    const first = await runCampaignHour(aws, config, TEN, 'paced-1', { mailer: pacedMailer(), deadline: Date.now() + 10 * MINUTE, log });
    expect(first.stopped?.reason).toBe('deadline');
    expect(countsOf(first, 'welcome')).toMatchObject({ due: 4, sent: 2, left: 2, deferred: 0 });
    const entries = await ledgerOf(config, CLIENTS);
    expect(entries.map((e) => e.status)).toEqual(['sent', 'sent']);
    expect(first.staleClaims).toEqual([]);
    const left = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((l) => l.message === 'campaign run stopped at its deadline: due occasions left for the next hour');
    // The stack alarms on the alert field: emails went later than planned, the rate may be too low for the volume.
    expect(left).toMatchObject({ level: 'warn', left: 2, alert: SENDER_ALERTS.stoppedAtDeadline.alert });

    const next = await runCampaignHour(aws, config, TEN + HOUR, 'paced-2');
    expect(countsOf(next, 'welcome')).toMatchObject({ sent: 2, left: 0 });
    expect(await emailCounts(CLIENTS)).toEqual([1, 1, 1, 1]);
    expect((await ledgerOf(config, CLIENTS)).map((e) => e.status)).toEqual(['sent', 'sent', 'sent', 'sent']);
  });
});

describe('a throttled email near the deadline', () => {
  it('is retried only while its retry starts by the deadline, then given back and sent once by the next hour', { timeout: 120_000 }, async () => {
    const config = await campaignConfig(aws, 'sender-deadline-throttled', { sender: { maxSendRate: 50 } });
    await seedProfiles(aws, config, [newcomer('dt-a', TEN)]);
    const callsAt: number[] = [];
    // SES answers every SendEmail "rate exceeded"; the mailer retries 6 times over ~4-8 s by default.
    const throttling = sesRefusing(aws.clients.ses, () => {
      callsAt.push(Date.now());
      return awsError('TooManyRequestsException', 'Maximum sending rate exceeded.', 429);
    });

    // 3 s: without the bound, the sixth call starts at least 3.9 s after the first.
    const deadline = Date.now() + 3000;
    const first = await runCampaignHour({ clients: { ...aws.clients, ses: throttling } }, config, TEN, 'throttled-1', { deadline });
    expect(callsAt.length).toBeGreaterThan(0);
    expect(callsAt.length).toBeLessThan(6);
    // Each call is planned to start by the deadline; on a loaded machine a timer or the claim's write
    // before the first call may run late by a fraction of a second (without the bound: 0.9 s or more).
    const LATE_TIMER_ALLOWANCE_MS = 500;
    expect(callsAt.every((t) => t <= deadline + LATE_TIMER_ALLOWANCE_MS), JSON.stringify(callsAt.map((t) => t - deadline))).toBe(true);
    expect(countsOf(first, 'welcome')).toMatchObject({ sent: 0 });
    // Nothing went out: the claim is given back, so a later hour sends it.
    expect((await ledgerOf(config, ['dt-a'])).map((e) => e.status)).not.toContain('claimed');

    const next = await runCampaignHour(aws, config, TEN + HOUR, 'throttled-2');
    expect(countsOf(next, 'welcome')).toMatchObject({ sent: 1 });
    expect(await emailCounts(['dt-a'])).toEqual([1]);
  });
});
