import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LOCAL_SES_ACCOUNT } from '#local/aws.ts';
import type { Config } from '#shared/config.ts';
import { createSesMailer } from '#shared/delivery/ses-mailer.ts';
import { jsonLog } from '#shared/log.ts';
import { runCampaigns, campaignRunFailure, type CampaignRunOptions, type CampaignRunSummary } from '#shared/sender/run.ts';
import { writeRoster } from '#shared/store/roster-store.ts';
import { advisorsConfig, campaignConfig, UNSUBSCRIBE_SECRET as SECRET } from '#test/support/campaign-runs.ts';
import { ledgerEntries as allLedgerEntries, seedProfiles } from '#test/support/emulator-data.ts';
import { sharedAws, startPrivateAws, type PrivateAws } from '#test/support/local-aws.ts';
import { profileItem as profile } from '#test/support/profiles.ts';
import { awsError, sesRefusing } from '#test/support/refusing-ses.ts';
import { emailCounts, emailsTo } from '#test/support/ses-store.ts';
import { HOUR, at as local, iso } from '#test/support/time.ts';

/**
 * The sender within what the SES account allows, read with SESv2 GetAccount. aws-ses-v2-local
 * answers GetAccount from the AWS_SES_ACCOUNT variable of the process it runs in, at each request:
 * this file runs its own SES emulator in its own worker, so it can change the account between runs
 * without touching the emulator the other files share.
 */

const shared = sharedAws();
// Private SES (shared DynamoDB and S3): this file changes the account the emulator reports, which would reach every file's sends.
let aws: PrivateAws;
const AT = local('2026-11-23 10:00', 'Asia/Shanghai');

beforeAll(async () => {
  aws = await startPrivateAws(shared, ['ses']);
});
afterAll(async () => {
  await aws?.stop();
});
afterEach(() => {
  vi.unstubAllEnvs();
});

const account = (changes: { SendingEnabled?: boolean; ProductionAccessEnabled?: boolean; SendQuota?: Partial<(typeof LOCAL_SES_ACCOUNT)['SendQuota']> }) =>
  vi.stubEnv('AWS_SES_ACCOUNT', JSON.stringify({ ...LOCAL_SES_ACCOUNT, ...changes, SendQuota: { ...LOCAL_SES_ACCOUNT.SendQuota, ...changes.SendQuota } }));

const newClients = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => profile(`${prefix}-${i}`, { stage: 'new', firstOrderAt: iso(AT - 2 * HOUR), lastOrderAt: iso(AT - 2 * HOUR) }));

async function run(config: Config, at: number, runId: string, lines: string[] = [], extra: Pick<CampaignRunOptions, 'mailer'> = {}): Promise<CampaignRunSummary> {
  return runCampaigns({ at, runId, config, clients: aws.clients, unsubscribeSecret: SECRET, log: jsonLog({ write: (line) => lines.push(line) }), ...extra });
}

/** How many emails this file's SES emulator holds for each of the prefix's n clients. */
const sentTo = async (prefix: string, n: number) => {
  const addresses = Array.from({ length: n }, (_, i) => `${prefix}-${i}@example.com`);
  const counts = await emailCounts(aws, addresses);
  return addresses.map((address) => counts.get(address));
};

describe('the SES account decides what a run may send', () => {
  it.each([
    ['sending paused', { SendingEnabled: false }, 'sending-paused'],
    ['the sandbox', { ProductionAccessEnabled: false, SendQuota: { Max24HourSend: 200, MaxSendRate: 1 } }, 'sandbox'],
    ['the 24-hour quota used up', { SendQuota: { Max24HourSend: 50_000, SentLast24Hours: 50_000 } }, 'quota-used-up'],
  ] as const)('%s: reported once, nothing sent, nothing written, the occasions stay due', async (_name, changes, reason) => {
    const prefix = `blk-${reason}`;
    const config = await campaignConfig(aws, prefix);
    await seedProfiles(aws, config, newClients(prefix, 3));
    account(changes);
    const lines: string[] = [];

    const summary = await run(config, AT, `${prefix}-1`, lines);
    expect(summary.sending.blocked?.reason).toBe(reason);
    expect(summary.stopped).toEqual({ reason: 'sending-blocked', message: summary.sending.blocked?.message });
    expect(summary.campaigns.welcome).toMatchObject({ due: 3, left: 3, sent: 0, failed: 0, deferred: 0 });
    expect(campaignRunFailure(summary)).toBeUndefined();
    expect(await allLedgerEntries(aws, config)).toEqual([]);
    expect(await sentTo(prefix, 3)).toEqual([0, 0, 0]);
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged.filter((l) => l.alert === 'sending-blocked')).toEqual([expect.objectContaining({ level: 'error', blocked: reason })]);
    expect(logged.filter((l) => l.message === 'email not sent')).toEqual([]);

    vi.unstubAllEnvs();
    const next = await run(config, AT + HOUR, `${prefix}-2`);
    expect(next.campaigns.welcome).toMatchObject({ due: 3, sent: 3 });
    expect(await sentTo(prefix, 3)).toEqual([1, 1, 1]);
  });

  it('plans no more than the quota left and paces at the account rate; the rest wait for the next hour', async () => {
    const config = await campaignConfig(aws, 'quota', { sender: { maxSendRate: 50 } });
    await seedProfiles(aws, config, newClients('quota', 8));
    account({ SendQuota: { Max24HourSend: 1_000, SentLast24Hours: 995, MaxSendRate: 4 } });

    const summary = await run(config, AT, 'quota-1');
    expect(summary.sending).toMatchObject({ rate: 4, budget: 5, account: { max24HourSend: 1_000, sentLast24Hours: 995, maxSendRate: 4 } });
    expect(summary.campaigns.welcome).toMatchObject({ due: 8, sent: 5, left: 3 });
    expect(summary.stopped?.reason).toBe('quota-used');
    expect(summary.mailer?.maxObservedRate).toBeLessThanOrEqual(4);
    expect(campaignRunFailure(summary)).toBeUndefined();
    expect((await allLedgerEntries(aws, config)).map((e) => e.status)).toEqual(['sent', 'sent', 'sent', 'sent', 'sent']);

    account({ SendQuota: { Max24HourSend: 1_000, SentLast24Hours: 0, MaxSendRate: 4 } });
    const next = await run(config, AT + HOUR, 'quota-2');
    expect(next.campaigns.welcome).toMatchObject({ due: 3, sent: 3, left: 0 });
    expect(await sentTo('quota', 8)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
  });

  it('the quota spent mid-run, refused as AWS documents it (a ThrottlingException "Daily message quota exceeded"): stopped as for a spent budget, not retried as throttling; the rest stay due', async () => {
    const config = await campaignConfig(aws, 'spent', { sender: { maxSendRate: 50 } });
    await seedProfiles(aws, config, newClients('spent', 6));
    // Another sender of the account spends the quota after this run's second email.
    const ses = sesRefusing(aws.clients.ses, (_, call) => (call > 2 ? awsError('ThrottlingException', 'Daily message quota exceeded.', 400) : undefined));
    const lines: string[] = [];
    const summary = await run(config, AT, 'spent-1', lines, { mailer: createSesMailer(ses, { maxSendRate: 50, baseDelayMs: 1, maxDelayMs: 2 }) });
    expect(ses.sendEmailCalls, 'one refusal, not retried').toBe(3);
    expect(summary.stopped?.reason).toBe('quota-used');
    expect(summary.campaigns.welcome).toMatchObject({ due: 6, sent: 2, deferred: 1, left: 3, failed: 0 });
    expect(campaignRunFailure(summary)).toBeUndefined();
    expect((await allLedgerEntries(aws, config)).map((e) => e.status).sort()).toEqual(['deferred', 'sent', 'sent']);
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged).toContainEqual(expect.objectContaining({ level: 'warn', message: expect.stringContaining('24-hour quota is spent') }));

    const next = await run(config, AT + HOUR, 'spent-2');
    expect(next.campaigns.welcome).toMatchObject({ sent: 4 });
    expect(await sentTo('spent', 6)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('the advisors’ task emails count against the quota left: one the budget leaves out waits, with its client’s note, for a later hour', async () => {
    const config = await advisorsConfig(aws, 'quota-tasks');
    await writeRoster(aws.clients.s3, config, { runDate: '2026-11-22', advisors: [{ advisorId: 'A01', name: 'Sophie Martin', email: 'sophie-quota@advisors.example.com', locale: 'en', active: true }] });
    // VICs of Sophie's book 60 days past their last order: each win-back is first her task.
    const ids = ['quota-vic-0', 'quota-vic-1', 'quota-vic-2'];
    await seedProfiles(aws, config, ids.map((id) => profile(id, { tier: 'VIC', stage: 'sleeping', advisorId: 'A01', locale: 'en', timeZone: 'Asia/Shanghai', firstOrderAt: '2025-01-10T10:00:00.000Z', lastOrderAt: iso(local('2026-09-24 12:00', 'Asia/Shanghai')), orderCount: 6 })));
    account({ SendQuota: { Max24HourSend: 1_000, SentLast24Hours: 999 } });

    const summary = await run(config, AT, 'quota-tasks-1');
    expect(summary.sending.budget).toBe(1);
    expect(summary.mailer.sent).toBe(1);
    expect(summary.campaigns.winback).toMatchObject({ due: 3, deferred: 1, left: 2, sent: 0 });
    expect(summary.stopped?.reason).toBe('quota-used');
    expect(await emailsTo(aws, 'sophie-quota@advisors.example.com')).toHaveLength(1);

    vi.unstubAllEnvs();
    const next = await run(config, AT + HOUR, 'quota-tasks-2');
    expect(next.mailer.sent).toBe(2);
    const tasks = await emailsTo(aws, 'sophie-quota@advisors.example.com');
    expect(ids.map((id) => tasks.filter((task) => task.body.text?.includes(id)).length)).toEqual([1, 1, 1]);
    expect(await emailCounts(aws, ids.map((id) => `${id}@example.com`))).toEqual(new Map(ids.map((id) => [`${id}@example.com`, 0])));
  });

  it('an account it cannot read (no ses:GetAccount, an emulator without an account): sends at the configured rate, and says so', async () => {
    const config = await campaignConfig(aws, 'unread', { sender: { maxSendRate: 20 } });
    await seedProfiles(aws, config, newClients('unread', 2));
    vi.stubEnv('AWS_SES_ACCOUNT', '');
    const lines: string[] = [];
    const summary = await run(config, AT, 'unread-1', lines);
    expect(summary.sending).toEqual({ rate: 20, budget: null, accountUnreadable: expect.stringContaining('Bad Request') });
    expect(summary.campaigns.welcome).toMatchObject({ sent: 2 });
    expect(lines.some((l) => l.includes('SES account not readable'))).toBe(true);
    expect(await emailsTo(aws, 'unread-0@example.com')).toHaveLength(1);
  });
});
