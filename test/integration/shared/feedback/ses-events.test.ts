import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '#shared/config.ts';
import { processSesFeedback, type SesFeedbackContext } from '#shared/feedback/ses-events.ts';
import { forgetClient } from '#shared/forget/forget.ts';
import { jsonLog } from '#shared/log.ts';
import { erasedKey, recordErasure } from '#shared/store/erasure-store.ts';
import { feedbackWritesOf, getClientSuppression, getSuppression, MAX_FEEDBACK_IDS, suppress } from '#shared/store/suppression-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { scanTable } from '#test/support/emulator-data.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { bounceEvent, complaintEvent, deliveryEvent, eventBridgeEvent, snsEvent } from '#test/support/ses-events.ts';

const aws = sharedAws();

const NOW = Date.parse('2026-06-03T00:00:00Z');

describe('processSesFeedback against DynamoDB Local', () => {
  let context: SesFeedbackContext;
  let config: Config;
  let table: string;
  const logged: string[] = [];

  beforeAll(async () => {
    config = await scenarioConfig(aws, 'feedback');
    table = tableNames(config).suppression;
    context = {
      documents: aws.clients.documents,
      tables: tableNames(config),
      now: () => NOW,
      log: jsonLog({ level: 'debug', write: (line) => logged.push(line) }),
    };
  });

  const items = () => scanTable(aws, table);

  it('a hard bounce suppresses each recipient', async () => {
    const summary = await processSesFeedback(context, snsEvent(bounceEvent(['Hard1@example.com', 'hard2@example.com'], 'Permanent', { customerId: 'c-1' })));
    expect(summary).toMatchObject({ events: 1, suppressed: 2, alreadySuppressed: 0, softBounces: 0, invalid: 0 });
    expect(await getSuppression(aws.clients.documents, table, 'hard1@example.com')).toEqual({
      email: 'hard1@example.com',
      reason: 'hard-bounce',
      suppressedAt: Date.parse('2026-06-02T09:00:05.123Z'),
      reasons: new Set(['hard-bounce']),
      source: 'ses-bounce:0100018f-bounce-0001',
      feedbackIds: new Set(['ses-bounce:0100018f-bounce-0001']),
      customerId: 'c-1',
    });
  });

  it('a hard bounce is about the address: the client it was sent to is not suppressed under another address', async () => {
    expect(await getClientSuppression(aws.clients.documents, table, 'c-1')).toBeUndefined();
  });

  it("a complaint suppresses the address, and the client named by the email's tags under any address", async () => {
    const summary = await processSesFeedback(context, snsEvent(complaintEvent(['Angry@example.com'], { customerId: 'c-angry' })));
    expect(summary).toMatchObject({ complaints: 1, suppressed: 1, alreadySuppressed: 0 });
    expect(await getSuppression(aws.clients.documents, table, 'angry@example.com')).toMatchObject({ reason: 'complaint', customerId: 'c-angry' });
    expect(await getClientSuppression(aws.clients.documents, table, 'c-angry')).toEqual({
      email: 'customer:c-angry',
      reason: 'complaint',
      suppressedAt: Date.parse('2026-06-02T10:00:00.000Z'),
      complainedAt: Date.parse('2026-06-02T10:00:00.000Z'),
      reasons: new Set(['complaint']),
      customerId: 'c-angry',
      source: 'ses-complaint:0100018f-complaint-0001',
    });
  });

  it("a complaint SES made up from the account's suppression list suppresses the address only, and is not counted as a complaint", async () => {
    // SES did not send the email: the complaint behind its list may be a previous holder's of a recycled address.
    const event = complaintEvent(['Recycled@example.com'], { customerId: 'c-new-holder', subType: 'OnAccountSuppressionList' });
    const summary = await processSesFeedback(context, snsEvent(event));
    expect(summary).toMatchObject({ complaints: 0, hardBounces: 0, suppressed: 1, alreadySuppressed: 0 });
    expect(await getSuppression(aws.clients.documents, table, 'recycled@example.com')).toMatchObject({ reason: 'complaint', customerId: 'c-new-holder' });
    expect(await getClientSuppression(aws.clients.documents, table, 'c-new-holder')).toBeUndefined();
  });

  it("a bounce SES made up from the account's suppression list suppresses the address, and is not counted as a bounce", async () => {
    // SES did not send the email: counting it would raise the bounces / emails rate the dashboard shows beside SES's own.
    const event = bounceEvent(['Listed@example.com'], 'Permanent', { customerId: 'c-listed', bounceSubType: 'OnAccountSuppressionList' });
    const summary = await processSesFeedback(context, snsEvent(event));
    expect(summary).toMatchObject({ hardBounces: 0, complaints: 0, suppressed: 1, alreadySuppressed: 0 });
    expect(await getSuppression(aws.clients.documents, table, 'listed@example.com')).toMatchObject({ reason: 'hard-bounce' });
    const mailServers = await processSesFeedback(context, snsEvent(bounceEvent(['gone@example.com'], 'Permanent')));
    expect(mailServers).toMatchObject({ hardBounces: 1, suppressed: 1 });
  });

  it('a soft bounce suppresses nothing', async () => {
    const before = await items();
    const summary = await processSesFeedback(context, snsEvent(bounceEvent(['soft@example.com'], 'Transient')));
    expect(summary).toMatchObject({ suppressed: 0, softBounces: 1 });
    expect(await getSuppression(aws.clients.documents, table, 'soft@example.com')).toBeUndefined();
    expect(await items()).toEqual(before);
  });

  it('a redelivered event changes nothing', async () => {
    const event = snsEvent(complaintEvent(['redeliver@example.com']));
    expect((await processSesFeedback(context, event)).suppressed).toBe(1);
    const first = await items();
    const again = await processSesFeedback({ ...context, now: () => NOW + 86_400_000 }, event);
    expect(again).toMatchObject({ suppressed: 0, alreadySuppressed: 1 });
    expect(await items()).toEqual(first);
  });

  it('a redelivered bounce or complaint is counted once in Bounces / Complaints; another bounce for the same address counts again', async () => {
    const bounce = snsEvent(bounceEvent(['dup-bounce@example.com'], 'Permanent', { customerId: 'c-dup-1', feedbackId: 'fb-dup-bounce' }));
    expect(await processSesFeedback(context, bounce)).toMatchObject({ hardBounces: 1, suppressed: 1 });
    expect(await processSesFeedback(context, bounce)).toMatchObject({ hardBounces: 0, alreadySuppressed: 1 });
    // A new bounce (another email, another feedback) for the address already suppressed is one more bounce.
    const another = snsEvent(bounceEvent(['dup-bounce@example.com'], 'Permanent', { customerId: 'c-dup-1', feedbackId: 'fb-dup-bounce-2' }));
    expect(await processSesFeedback(context, another)).toMatchObject({ hardBounces: 1, alreadySuppressed: 1 });

    const complaint = snsEvent(complaintEvent(['dup-complaint@example.com'], { customerId: 'c-dup-2', feedbackId: 'fb-dup-complaint' }));
    expect(await processSesFeedback(context, complaint)).toMatchObject({ complaints: 1, suppressed: 1 });
    expect(await processSesFeedback(context, complaint)).toMatchObject({ complaints: 0, alreadySuppressed: 1 });
    expect(logged.map((l) => JSON.parse(l) as Record<string, unknown>)).toContainEqual(expect.objectContaining({ message: 'SES feedback: already suppressed', redelivered: true }));
  });

  it('a redelivered bounce or complaint for an address another feedback suppressed first is counted once', async () => {
    // The entry's source stays the first feedback's (an unsubscribe, an earlier bounce): the ids seen tell a redelivery.
    await suppress(aws.clients.documents, table, { email: 'unsub-then-complaint@example.com', reason: 'unsubscribe', at: NOW, source: 'one-click', customerId: 'c-dup-3' });
    const complaint = snsEvent(complaintEvent(['unsub-then-complaint@example.com'], { customerId: 'c-dup-3', feedbackId: 'fb-dup-3-complaint' }));
    expect(await processSesFeedback(context, complaint)).toMatchObject({ complaints: 1, alreadySuppressed: 1 });
    expect(await processSesFeedback(context, complaint)).toMatchObject({ complaints: 0, alreadySuppressed: 1 });

    const first = snsEvent(bounceEvent(['bounced-twice@example.com'], 'Permanent', { feedbackId: 'fb-dup-4-bounce-1' }));
    const second = snsEvent(bounceEvent(['bounced-twice@example.com'], 'Permanent', { feedbackId: 'fb-dup-4-bounce-2' }));
    expect(await processSesFeedback(context, first)).toMatchObject({ hardBounces: 1, suppressed: 1 });
    expect(await processSesFeedback(context, second)).toMatchObject({ hardBounces: 1, alreadySuppressed: 1 });
    expect(await processSesFeedback(context, second)).toMatchObject({ hardBounces: 0, alreadySuppressed: 1 });
    expect(await processSesFeedback(context, first)).toMatchObject({ hardBounces: 0, alreadySuppressed: 1 });
  });

  it('a complaint stays a complaint when an unsubscribe or a bounce for the address comes later', async () => {
    await processSesFeedback(context, eventBridgeEvent(complaintEvent(['final@example.com']), 'Email Complaint Received'));
    await suppress(aws.clients.documents, table, { email: 'FINAL@example.com', reason: 'unsubscribe', at: NOW, customerId: 'c-9' });
    await processSesFeedback(context, snsEvent(bounceEvent(['final@example.com'], 'Permanent', { timestamp: '2026-06-02T11:00:00Z' })));
    expect(await getSuppression(aws.clients.documents, table, 'final@example.com')).toMatchObject({
      reason: 'complaint',
      suppressedAt: Date.parse('2026-06-02T10:00:00.000Z'),
      complainedAt: Date.parse('2026-06-02T10:00:00.000Z'),
      source: 'ses-complaint:0100018f-complaint-0001',
    });
  });

  it('a complaint after an unsubscribe turns the reason into complaint, keeping the first time', async () => {
    await suppress(aws.clients.documents, table, { email: 'later@example.com', reason: 'unsubscribe', at: Date.parse('2026-06-01T00:00:00Z') });
    const summary = await processSesFeedback(context, snsEvent(complaintEvent(['later@example.com'])));
    expect(summary).toMatchObject({ suppressed: 0, alreadySuppressed: 1 });
    expect(await getSuppression(aws.clients.documents, table, 'later@example.com')).toMatchObject({
      reason: 'complaint',
      suppressedAt: Date.parse('2026-06-01T00:00:00Z'),
      reasons: new Set(['unsubscribe', 'complaint']),
    });
  });

  it('deliveries and unreadable messages write nothing; the readable ones in the batch still count', async () => {
    const before = await items();
    const summary = await processSesFeedback(
      context,
      snsEvent(deliveryEvent(['d@example.com']), 'not json', { eventType: 'Bounce', bounce: {} }),
    );
    expect(summary).toMatchObject({ events: 2, ignored: 1, invalid: 2, suppressed: 0 });
    expect(await items()).toEqual(before);
  });

  it('every suppression line names the email as a delivery does (README, After an outage): client, campaign, send time, message id', async () => {
    const from = logged.length;
    const email = { customerId: 'c-lines', tags: { campaign: ['winback'] } };
    await processSesFeedback(context, snsEvent(bounceEvent(['lines@example.com'], 'Permanent', email), bounceEvent(['lines@example.com'], 'Permanent', email)));
    await processSesFeedback(context, snsEvent(complaintEvent(['lines@example.com'], email)));
    const lines = logged.slice(from).map((line) => JSON.parse(line) as Record<string, unknown>);
    const sent = { customerId: 'c-lines', campaign: 'winback', sentAt: '2026-06-02T09:00:00.000Z', messageId: '0100018f-msg-0001' };
    expect(lines.map((line) => line.message)).toEqual([
      'SES feedback: suppressed',
      'SES feedback: already suppressed',
      'SES feedback: already suppressed',
      'SES feedback: client suppressed',
    ]);
    for (const line of lines) expect(line).toMatchObject(sent);
  });

  it('a redelivered bounce or complaint of a recipient erased since is counted once: the hashed erasure entry keeps its id, nothing in clear', async () => {
    await recordErasure(aws.clients.documents, table, { customerIds: ['c-gone'], emails: ['gone-since@example.com'] }, NOW);
    const bounce = snsEvent(bounceEvent(['gone-since@example.com'], 'Permanent', { customerId: 'c-gone', feedbackId: 'fb-gone-bounce' }));
    expect(await processSesFeedback(context, bounce)).toMatchObject({ hardBounces: 1, erased: 1, suppressed: 0, alreadySuppressed: 0 });
    expect(await processSesFeedback(context, bounce)).toMatchObject({ hardBounces: 0, erased: 1, suppressed: 0 });
    // Another feedback (another email in flight at the erasure) is one more bounce.
    const another = snsEvent(bounceEvent(['gone-since@example.com'], 'Permanent', { customerId: 'c-gone', feedbackId: 'fb-gone-bounce-2' }));
    expect(await processSesFeedback(context, another)).toMatchObject({ hardBounces: 1, erased: 1 });
    const complaint = snsEvent(complaintEvent(['gone-since@example.com'], { customerId: 'c-gone', feedbackId: 'fb-gone-complaint' }));
    expect(await processSesFeedback(context, complaint)).toMatchObject({ complaints: 1, erased: 1 });
    expect(await processSesFeedback(context, complaint)).toMatchObject({ complaints: 0, erased: 1 });

    const stored = (await items()).filter((item) => /gone-since|"c-gone"/.test(JSON.stringify(item)));
    expect(stored).toEqual([]);
    const entry = (key: string) => aws.clients.documents.send(new GetCommand({ TableName: table, Key: { email: key }, ConsistentRead: true })).then((output) => output.Item);
    const ids = new Set(['ses-bounce:fb-gone-bounce', 'ses-bounce:fb-gone-bounce-2', 'ses-complaint:fb-gone-complaint']);
    // Besides the ids, only the delivery attempt that first recorded each (a request id, nothing of the person's).
    for (const kind of ['email', 'customer'] as const) {
      const key = erasedKey(kind, kind === 'email' ? 'gone-since@example.com' : 'c-gone');
      const stored = await entry(key);
      expect(stored).toEqual({ email: key, reason: 'erased', suppressedAt: NOW, feedbackIds: ids, feedbackWrites: expect.any(Set) as unknown });
      expect(new Set(feedbackWritesOf(stored).keys())).toEqual(ids);
    }
  });

  it('an erased recipient erased by address only, without a client id in the tags, is counted once too; the ids move to a second generation when full', async () => {
    await recordErasure(aws.clients.documents, table, { customerIds: [], emails: ['many@example.com'] }, NOW);
    const bounce = (n: number) => snsEvent(bounceEvent(['many@example.com'], 'Permanent', { feedbackId: `fb-many-${n}` }));
    for (let n = 0; n <= MAX_FEEDBACK_IDS; n++) expect(await processSesFeedback(context, bounce(n))).toMatchObject({ hardBounces: 1, erased: 1 });
    // The first one's id went to the generation before: still known.
    expect(await processSesFeedback(context, bounce(0))).toMatchObject({ hardBounces: 0, erased: 1 });
    expect(await processSesFeedback(context, bounce(MAX_FEEDBACK_IDS))).toMatchObject({ hardBounces: 0, erased: 1 });
  });

  it('a bounce of a recipient erased while it was stored: the entry goes, the redelivery is counted once', async () => {
    // The forget records the hashes between this bounce's erasure check and its write (the race the handler closes after the write).
    const racing: SesFeedbackContext = {
      ...context,
      documents: {
        send: async (command: Parameters<typeof aws.clients.documents.send>[0]) => {
          const output = await aws.clients.documents.send(command);
          if (command instanceof UpdateCommand && command.input.Key?.email === 'raced@example.com') {
            await recordErasure(aws.clients.documents, table, { customerIds: ['c-raced'], emails: ['raced@example.com'] }, NOW);
          }
          return output;
        },
      } as typeof aws.clients.documents,
    };
    const bounce = snsEvent(bounceEvent(['raced@example.com'], 'Permanent', { customerId: 'c-raced', feedbackId: 'fb-raced' }));
    expect(await processSesFeedback(racing, bounce)).toMatchObject({ hardBounces: 1, erased: 1, suppressed: 0 });
    expect(await getSuppression(aws.clients.documents, table, 'raced@example.com')).toBeUndefined();
    expect(await processSesFeedback(context, bounce)).toMatchObject({ hardBounces: 0, erased: 1, suppressed: 0 });
    expect(await getSuppression(aws.clients.documents, table, 'raced@example.com')).toBeUndefined();
  });

  it('a bounce and a complaint counted before a forget, delivered again after it, are not counted again: the forget moves their ids to the hashed entries', async () => {
    const bounce = snsEvent(bounceEvent(['early@example.com'], 'Permanent', { customerId: 'c-early', feedbackId: 'fb-early' }));
    const complaint = snsEvent(complaintEvent(['early-2@example.com'], { customerId: 'c-early', feedbackId: 'fb-early-complaint' }));
    expect(await processSesFeedback(context, bounce)).toMatchObject({ hardBounces: 1, suppressed: 1 });
    expect(await processSesFeedback(context, complaint)).toMatchObject({ complaints: 1, suppressed: 1 });
    // The client asks to be forgotten: the entries in clear go (the address's, the client's own), the hashes stay.
    await forgetClient({ config, clients: aws.clients, request: { customerId: 'c-early' }, at: NOW });
    expect(await getSuppression(aws.clients.documents, table, 'early@example.com')).toBeUndefined();
    expect(await getClientSuppression(aws.clients.documents, table, 'c-early')).toBeUndefined();

    expect(await processSesFeedback(context, bounce)).toMatchObject({ hardBounces: 0, erased: 1, suppressed: 0 });
    expect(await processSesFeedback(context, complaint)).toMatchObject({ complaints: 0, erased: 1, suppressed: 0 });
    // A feedback of another email still counts.
    const another = snsEvent(bounceEvent(['early@example.com'], 'Permanent', { customerId: 'c-early', feedbackId: 'fb-early-2' }));
    expect(await processSesFeedback(context, another)).toMatchObject({ hardBounces: 1, erased: 1 });
    expect((await items()).filter((item) => /early|c-early/.test(JSON.stringify(item)))).toEqual([]);
  });

  it('an invocation Lambda runs again after a forget of its recipient counts the event its failed run wrote: the forget moves each id with the delivery that wrote it', async () => {
    const under = (attempt: string): SesFeedbackContext => ({ ...context, attempt });
    const bounce = snsEvent(bounceEvent(['forgot-between@example.com'], 'Permanent', { customerId: 'c-forgot-between', feedbackId: 'fb-forgot-between' }));
    // request-f1 writes the bounce, then fails (nothing published); the client is forgotten before Lambda runs it again.
    expect(await processSesFeedback(under('request-f1'), bounce)).toMatchObject({ hardBounces: 1, suppressed: 1 });
    await forgetClient({ config, clients: aws.clients, request: { customerId: 'c-forgot-between' }, at: NOW });
    expect(await processSesFeedback(under('request-f1'), bounce)).toMatchObject({ hardBounces: 1, erased: 1, suppressed: 0 });
    // SNS delivering it again is still a redelivery.
    expect(await processSesFeedback(under('request-f2'), bounce)).toMatchObject({ hardBounces: 0, erased: 1 });
    expect((await items()).filter((item) => /forgot-between/.test(JSON.stringify(item)))).toEqual([]);
  });

  it('logs masked addresses only', () => {
    const text = logged.join('\n');
    expect(text).toContain('h***@example.com');
    expect(text).not.toMatch(/[a-z0-9]{2,}@example\.com/i);
  });
});
