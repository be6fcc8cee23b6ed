import { describe, expect, it } from 'vitest';
import {
  MessageRejected,
  SendingPausedException,
  TooManyRequestsException,
  type SendEmailCommand,
} from '@aws-sdk/client-sesv2';
import type { OutgoingEmail, SesSender } from '#shared/delivery/ses-email.ts';
import { createSesMailer } from '#shared/delivery/ses-mailer.ts';
import { jsonLog } from '#shared/log.ts';
import { fakeClock, maxInWindow } from '#test/support/clock.ts';
import { sharedAws } from '#test/support/local-aws.ts';
import { addressedTo, awsError, sesRefusing } from '#test/support/refusing-ses.ts';
import { emailsTo } from '#test/support/ses-store.ts';

/**
 * The mailer against aws-ses-v2-local. The emulator keeps no tags and no configuration set (the
 * tests check those on the request itself), and its store is shared by the whole run: every test
 * mails its own addresses.
 */

const aws = sharedAws();

const UNSUBSCRIBE = 'https://unsubscribe.example.com/u?t=c123.Zm9vYmFy';

function email(to: string, overrides: Partial<OutgoingEmail> = {}): OutgoingEmail {
  return {
    to,
    from: 'hello@brand.example.com',
    subject: 'Welcome to Maison Demo',
    html: '<p>Welcome, <b>Jane</b></p>',
    text: 'Welcome, Jane',
    tags: { campaign: 'welcome', tier: 'Core' },
    listUnsubscribeUrl: UNSUBSCRIBE,
    ...overrides,
  };
}

/** The real emulator client, with every SendEmail request recorded (the emulator drops tags). */
function recording(): SesSender & { commands: SendEmailCommand[] } {
  const commands: SendEmailCommand[] = [];
  return {
    commands,
    send: (command) => {
      commands.push(command);
      return aws.clients.ses.send(command);
    },
  };
}

const noWait = { sleep: async () => undefined, random: () => 0.5 };

describe('SES mailer against aws-ses-v2-local', () => {
  it('sends subject, HTML, text and the one-click unsubscribe headers; tags and configuration set go in the request', async () => {
    const ses = recording();
    const mailer = createSesMailer(ses, { maxSendRate: 50 });
    const result = await mailer.send(
      email('content@example.com', {
        configurationSetName: 'clientele-feedback',
        listUnsubscribeMailto: 'unsubscribe@brand.example.com?subject=c123',
        tags: { campaign: 'win-back 60d', tier: 'VIC', 'run:id': 'campaigns-1a2b' },
      }),
    );
    expect(result).toMatchObject({ status: 'sent', attempts: 1 });
    const stored = await emailsTo(aws, 'content@example.com');
    expect(stored).toHaveLength(1);
    const [message] = stored;
    expect(result.status === 'sent' && result.messageId).toBe(message?.messageId);
    expect(message).toMatchObject({
      from: 'hello@brand.example.com',
      subject: 'Welcome to Maison Demo',
      body: { html: '<p>Welcome, <b>Jane</b></p>', text: 'Welcome, Jane' },
    });
    expect(message?.headers).toEqual([
      { name: 'List-Unsubscribe', value: `<${UNSUBSCRIBE}>, <mailto:unsubscribe@brand.example.com?subject=c123>` },
      { name: 'List-Unsubscribe-Post', value: 'List-Unsubscribe=One-Click' },
    ]);
    // aws-ses-v2-local does not keep EmailTags or ConfigurationSetName: check the request itself.
    expect(ses.commands[0]?.input).toMatchObject({
      ConfigurationSetName: 'clientele-feedback',
      EmailTags: [
        { Name: 'campaign', Value: 'win-back_60d' },
        { Name: 'tier', Value: 'VIC' },
        { Name: 'run_id', Value: 'campaigns-1a2b' },
      ],
      Destination: { ToAddresses: ['content@example.com'] },
    });
    expect(mailer.stats()).toMatchObject({ sent: 1, failed: 0, throttledRetries: 0 });
  });

  it('an operational email to the brand\'s own team (no unsubscribe URL) goes without List-Unsubscribe headers', async () => {
    const ses = recording();
    const mailer = createSesMailer(ses, { maxSendRate: 50 });
    const { listUnsubscribeUrl: _none, ...report } = email('team@example.com', { tags: { kind: 'nightly-report' } });
    expect(await mailer.send(report)).toMatchObject({ status: 'sent' });
    expect(ses.commands[0]?.input.Content?.Simple?.Headers).toBeUndefined();
    const [message] = await emailsTo(aws, 'team@example.com');
    expect(message?.headers ?? []).toEqual([]);
  });

  it('round-trips a zh-CN subject and body in UTF-8', async () => {
    const subject = '欢迎加入 Maison Demo — 您的专属礼遇已送达 🎁';
    const mailer = createSesMailer(aws.clients.ses, { maxSendRate: 50 });
    const result = await mailer.send(
      email('zh@example.com', {
        from: '美妆旗舰店 <hello@brand.example.com>',
        subject,
        html: '<p>亲爱的王女士，感谢您的首次订购。</p>',
        text: '亲爱的王女士，感谢您的首次订购。',
      }),
    );
    expect(result.status).toBe('sent');
    const [message] = await emailsTo(aws, 'zh@example.com');
    expect(message?.subject).toBe(subject);
    // The emulator keeps FromEmailAddress as sent: the display name RFC 2047-encoded, as SES requires.
    expect(message?.from).toBe(`=?UTF-8?B?${Buffer.from('美妆旗舰店').toString('base64')}?= <hello@brand.example.com>`);
    expect(message?.body.html).toBe('<p>亲爱的王女士，感谢您的首次订购。</p>');
    expect(message?.body.text).toBe('亲爱的王女士，感谢您的首次订购。');
  });

  it('retries throttling with growing backoff and sends the email exactly once', async () => {
    const ses = sesRefusing(aws.clients.ses, (_, call) => {
      if (call === 1) return new TooManyRequestsException({ message: 'Too many requests', $metadata: { httpStatusCode: 429 } });
      if (call === 2) return awsError('ThrottlingException', 'Rate exceeded');
      if (call === 3) return awsError('LimitExceededException', 'Maximum sending rate exceeded.');
      return undefined;
    });
    const clock = fakeClock();
    const mailer = createSesMailer(ses, { maxSendRate: 100, baseDelayMs: 200, sleep: clock.sleep, now: clock.now, random: () => 0.5 });
    const result = await mailer.send(email('throttled@example.com'));
    expect(result).toMatchObject({ status: 'sent', attempts: 4 });
    expect(ses.sendEmailCalls).toBe(4);
    expect(mailer.stats()).toMatchObject({ sent: 1, throttledRetries: 3, failed: 0 });
    expect(await emailsTo(aws, 'throttled@example.com')).toHaveLength(1);
    // Backoff with equal jitter (random 0.5): 3/4 of 200, 400, 800 ms, each at least half the cap.
    const backoffs = clock.sleeps.filter((ms) => ms >= 100);
    expect(backoffs).toEqual([150, 300, 600]);
  });

  it('gives up after maxAttempts of throttling: not sent, to be tried later, nothing stored', async () => {
    const ses = sesRefusing(aws.clients.ses, () => awsError('ThrottlingException', 'Rate exceeded'));
    const mailer = createSesMailer(ses, { maxSendRate: 100, maxAttempts: 3, ...noWait });
    const result = await mailer.send(email('always-throttled@example.com'));
    expect(result).toMatchObject({ status: 'not-sent', retry: 'later', scope: 'message', attempts: 3, errorName: 'ThrottlingException' });
    expect(ses.sendEmailCalls).toBe(3);
    expect(mailer.stats()).toMatchObject({ sent: 0, failed: 1, throttledRetries: 2 });
    expect(await emailsTo(aws, 'always-throttled@example.com')).toHaveLength(0);
  });

  it('one rejected recipient among five fails alone; the other four are sent exactly once', async () => {
    const recipients = Array.from({ length: 5 }, (_, i) => `batch${i}@example.com`);
    const rejected = 'batch2@example.com';
    const ses = sesRefusing(aws.clients.ses, (command) =>
      addressedTo(command, rejected)
        ? new MessageRejected({
            message: `Illegal address: ${rejected}`,
            $metadata: { httpStatusCode: 400 },
          })
        : undefined,
    );
    const lines: string[] = [];
    const mailer = createSesMailer(ses, { maxSendRate: 50, ...noWait, log: jsonLog({ write: (line) => lines.push(line) }) });
    const results = [];
    for (const to of recipients) results.push(await mailer.send(email(to)));
    expect(results.filter((r) => r.status === 'sent')).toHaveLength(4);
    expect(results[2]).toMatchObject({ status: 'not-sent', retry: 'never', scope: 'message', errorName: 'MessageRejected', attempts: 1 });
    expect(ses.sendEmailCalls).toBe(5);
    for (const to of recipients) expect(await emailsTo(aws, to)).toHaveLength(to === rejected ? 0 : 1);
    expect(mailer.stats()).toMatchObject({ sent: 4, failed: 1 });
    // The failure is logged, and reported, with the address masked, even inside SES's message.
    expect(lines.join('\n')).toContain('b***@example.com');
    expect(lines.join('\n')).not.toContain(rejected);
    expect(results[2]?.status !== 'sent' && results[2]?.reason).toMatch(/Illegal address: b\*\*\*@example\.com$/);
  });

  it('an account-level refusal halts the mailer: later sends are refused without calling SES', async () => {
    const ses = sesRefusing(aws.clients.ses, (_, call) =>
      call === 2 ? new SendingPausedException({ message: 'Sending is paused for this account', $metadata: { httpStatusCode: 400 } }) : undefined,
    );
    const mailer = createSesMailer(ses, { maxSendRate: 50, ...noWait });
    const first = await mailer.send(email('paused0@example.com'));
    const second = await mailer.send(email('paused1@example.com'));
    const third = await mailer.send(email('paused2@example.com'));
    expect(first.status).toBe('sent');
    // To be tried later: the messages are fine, the account is not; a later run may send them.
    expect(second).toMatchObject({ status: 'not-sent', retry: 'later', scope: 'account', errorName: 'SendingPausedException', attempts: 1 });
    expect(third).toMatchObject({ status: 'not-sent', retry: 'later', scope: 'account', errorName: 'MailerHalted', attempts: 0 });
    expect(ses.sendEmailCalls).toBe(2);
    expect(mailer.stats().haltedBy).toMatch(/SendingPausedException/);
    expect(await emailsTo(aws, 'paused2@example.com')).toHaveLength(0);
  });

  it('sends queued behind a halting one are refused once they get their token', async () => {
    const ses = sesRefusing(aws.clients.ses, () => new SendingPausedException({ message: 'Sending is paused', $metadata: { httpStatusCode: 400 } }));
    const clock = fakeClock();
    const mailer = createSesMailer(ses, { maxSendRate: 1, sleep: clock.sleep, now: clock.now });
    const results = await Promise.all(['queued0@example.com', 'queued1@example.com', 'queued2@example.com'].map((to) => mailer.send(email(to))));
    expect(results.map((r) => (r.status === 'sent' ? 'sent' : r.errorName))).toEqual(['SendingPausedException', 'MailerHalted', 'MailerHalted']);
    expect(ses.sendEmailCalls).toBe(1);
  });

  it('does not resend after an error whose outcome is unknown', async () => {
    const ses = sesRefusing(aws.clients.ses, (_, call) => (call === 1 ? awsError('TimeoutError', 'socket hang up') : undefined));
    const mailer = createSesMailer(ses, { maxSendRate: 50, ...noWait });
    const result = await mailer.send(email('timeout@example.com'));
    expect(result).toMatchObject({ status: 'maybe-sent', errorName: 'TimeoutError', attempts: 1 });
    expect(ses.sendEmailCalls).toBe(1);
  });

  it('refuses an unsendable recipient for good and bad content for now, without calling SES', async () => {
    const ses = sesRefusing(aws.clients.ses, () => undefined);
    const mailer = createSesMailer(ses, { maxSendRate: 50, ...noWait });
    expect(await mailer.send(email('not an address'))).toMatchObject({ status: 'not-sent', retry: 'never', errorName: 'InvalidRecipient', attempts: 0 });
    expect(await mailer.send(email('jane@exa mple.com'))).toMatchObject({ status: 'not-sent', retry: 'never', errorName: 'InvalidRecipient' });
    expect(await mailer.send(email(''))).toMatchObject({ status: 'not-sent', retry: 'never', reason: 'InvalidRecipient: no recipient address' });
    expect(ses.sendEmailCalls).toBe(0);
    // Our own content or settings, not the recipient: not sent now, a later run may send it once fixed.
    const badContent = { status: 'not-sent', retry: 'later', scope: 'message', errorName: 'InvalidEmail' };
    expect(await mailer.send(email('ok@example.com', { listUnsubscribeUrl: 'http://brand.example.com/u' }))).toMatchObject({ ...badContent, reason: expect.stringMatching(/https/) });
    expect(await mailer.send(email('ok@example.com', { subject: ' \n ' }))).toMatchObject({ ...badContent, reason: expect.stringMatching(/subject/) });
    expect(await mailer.send(email('ok@example.com', { html: '', text: '' }))).toMatchObject({ ...badContent, reason: expect.stringMatching(/bodies/) });
    expect(ses.sendEmailCalls).toBe(0);
    // A multi-line subject from a template is folded onto one line, not refused.
    const ses2 = recording();
    await createSesMailer(ses2, { maxSendRate: 50 }).send(email('fold@example.com', { subject: 'Hello\r\n  there\n' }));
    expect((await emailsTo(aws, 'fold@example.com'))[0]?.subject).toBe('Hello there');
  });

  it('paces 50 sends at 10/s over at least 4.9 simulated seconds, never more than 10 in a second', async () => {
    const clock = fakeClock();
    const callTimes: number[] = [];
    const ses: SesSender = {
      send: (command) => {
        callTimes.push(clock.now());
        return aws.clients.ses.send(command);
      },
    };
    const mailer = createSesMailer(ses, { maxSendRate: 10, sleep: clock.sleep, now: clock.now });
    for (let i = 0; i < 50; i++) expect((await mailer.send(email(`paced${i}@example.com`))).status).toBe('sent');
    expect(callTimes).toHaveLength(50);
    expect(clock.now()).toBeGreaterThanOrEqual(4900);
    expect(maxInWindow(callTimes)).toBeLessThanOrEqual(10);
    expect(mailer.stats()).toMatchObject({ sent: 50, maxObservedRate: 10 });
  });

  it('with the real clock, 40 sends at 20/s from 4 concurrent senders respect the rate', async () => {
    const callTimes: number[] = [];
    const ses: SesSender = {
      send: (command) => {
        callTimes.push(performance.now());
        return aws.clients.ses.send(command);
      },
    };
    const mailer = createSesMailer(ses, { maxSendRate: 20 });
    const queue = Array.from({ length: 40 }, (_, i) => `real${i}@example.com`);
    const start = performance.now();
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let to = queue.shift(); to !== undefined; to = queue.shift()) expect((await mailer.send(email(to))).status).toBe('sent');
      }),
    );
    const elapsed = performance.now() - start;
    // Lower bound from the bucket alone (1 token to start, 20 a second): 39 / 20 s. Generous margin, no upper bound.
    expect(elapsed).toBeGreaterThanOrEqual(1800);
    // Never more than 20 within a second (checked on 900 ms windows: timestamps are taken a moment after the grant).
    expect(maxInWindow(callTimes, 900)).toBeLessThanOrEqual(20);
    expect(mailer.stats().sent).toBe(40);
  });
});
