import { describe, expect, it } from 'vitest';
import type { SendEmailCommand, SendEmailCommandOutput } from '@aws-sdk/client-sesv2';
import type { OutgoingEmail, SesSender } from '#shared/delivery/ses-email.ts';
import { createSesMailer } from '#shared/delivery/ses-mailer.ts';

/** The mailer when SES cannot be reached, or the connection breaks: no emulator needed, SES is scripted. */

const email = (to: string): OutgoingEmail => ({
  to,
  from: 'hello@brand.example.com',
  subject: 'Welcome',
  html: '<p>Welcome</p>',
  text: 'Welcome',
  tags: { campaign: 'welcome' },
  listUnsubscribeUrl: 'https://unsubscribe.example.com/?t=x',
});

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4566'), { code: 'ECONNREFUSED', syscall: 'connect', $metadata: { attempts: 1 } });
const hungUp = () => Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET', $metadata: { attempts: 1 } });

function scripted(answers: ((command: SendEmailCommand) => Error | undefined)[]): SesSender & { calls: number } {
  const ses = {
    calls: 0,
    send(command: SendEmailCommand): Promise<SendEmailCommandOutput> {
      const answer = answers[ses.calls++]?.(command);
      return answer ? Promise.reject(answer) : Promise.resolve({ MessageId: `m-${ses.calls}`, $metadata: {} });
    },
  };
  return ses;
}

function simulatedTime() {
  let t = 0;
  const sleeps: number[] = [];
  return { sleeps, now: () => t, sleep: async (ms: number) => void (sleeps.push(ms), (t += ms)) };
}

describe('SES mailer on a failing connection', () => {
  it('retries an unreachable SES with growing pauses and sends once it answers', async () => {
    const ses = scripted([refused, refused, () => undefined]);
    const time = simulatedTime();
    const mailer = createSesMailer(ses, { maxSendRate: 50, random: () => 0, ...time });
    expect(await mailer.send(email('a@example.com'))).toEqual({ status: 'sent', messageId: 'm-3', attempts: 3 });
    expect(mailer.stats()).toMatchObject({ sent: 1, unreachableRetries: 2 });
    // Equal jitter with random() = 0: half of 250 ms, then half of 500 ms (plus the pacing's own waits).
    expect(time.sleeps.filter((ms) => ms === 125 || ms === 250)).toEqual([125, 250]);
  });

  it('gives up after connectAttempts: not sent, for certain, to be tried later', async () => {
    const ses = scripted([refused, refused, refused, refused]);
    const mailer = createSesMailer(ses, { maxSendRate: 50, ...simulatedTime(), connectAttempts: 3 });
    expect(await mailer.send(email('b@example.com'))).toMatchObject({ status: 'not-sent', retry: 'later', scope: 'connection', errorName: 'ECONNREFUSED', attempts: 3 });
    expect(ses.calls).toBe(3);
  });

  it('never retries a connection that broke after the request left: maybe sent', async () => {
    const ses = scripted([hungUp, () => undefined]);
    const mailer = createSesMailer(ses, { maxSendRate: 50, ...simulatedTime() });
    expect(await mailer.send(email('c@example.com'))).toMatchObject({ status: 'maybe-sent', errorName: 'TimeoutError', attempts: 1 });
    expect(ses.calls).toBe(1);
  });

  it("retries only while a retry starts by retryDeadline (the run's deadline), then gives the email back: not sent, for a later run", async () => {
    const throttled = () => Object.assign(new Error('Maximum sending rate exceeded.'), { name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } });
    // Pauses with random() = 0: 125, 250, 500 ms... A deadline 400 ms away allows the first two retries only (125 + 250).
    const ses = scripted([throttled, throttled, throttled, () => undefined]);
    const time = simulatedTime();
    const mailer = createSesMailer(ses, { maxSendRate: 50, random: () => 0, ...time, retryDeadline: Date.now() + 400 });
    const outcome = await mailer.send(email('d@example.com'));
    expect(outcome).toMatchObject({ status: 'not-sent', retry: 'later', scope: 'message', errorName: 'TooManyRequestsException', attempts: 3 });
    expect(outcome.status === 'not-sent' && outcome.reason).toMatch(/^throttled 3 times: .*\(not retried: the run's deadline is near\)$/);
    expect(ses.calls).toBe(3);
    expect(mailer.stats()).toMatchObject({ sent: 0, failed: 1, throttledRetries: 2 });

    // SES unreachable the same way; and with no deadline the same script is retried to the end.
    const unreachable = scripted([refused, refused, () => undefined]);
    const near = createSesMailer(unreachable, { maxSendRate: 50, random: () => 0, ...simulatedTime(), retryDeadline: Date.now() + 100 });
    expect(await near.send(email('e@example.com'))).toMatchObject({ status: 'not-sent', retry: 'later', scope: 'connection', attempts: 1 });
    const unbound = createSesMailer(scripted([throttled, throttled, throttled, () => undefined]), { maxSendRate: 50, random: () => 0, ...simulatedTime() });
    expect(await unbound.send(email('f@example.com'))).toMatchObject({ status: 'sent', attempts: 4 });
  });
});
