import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { startLocalAws, type LocalAws } from '#local/aws.ts';
import { decideSesEvent, processSesFeedback, recipientAddress, unwrapSesEvents, type SesFeedbackContext } from '#shared/feedback/ses-events.ts';
import { jsonLog } from '#shared/log.ts';
import { getSuppression, suppress } from '#shared/store/suppression-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { bounceEvent, complaintEvent, deliveryEvent, eventBridgeEvent, snsEvent } from './fixtures.ts';

const NOW = Date.parse('2026-06-03T00:00:00Z');

describe('decideSesEvent (pure)', () => {
  it('a permanent bounce suppresses every recipient, dated by the bounce', () => {
    expect(decideSesEvent(bounceEvent(['A@Example.com', 'b@example.com'], 'Permanent', { customerId: 'c1' }), NOW)).toEqual({
      kind: 'suppress',
      reason: 'hard-bounce',
      recipients: ['a@example.com', 'b@example.com'],
      at: Date.parse('2026-06-02T09:00:05.123Z'),
      source: 'ses-bounce:0100018f-bounce-0001',
      customerId: 'c1',
      detail: 'Permanent/General',
    });
  });

  it('transient and undetermined bounces are soft', () => {
    expect(decideSesEvent(bounceEvent(['a@example.com'], 'Transient'), NOW)).toEqual({
      kind: 'soft-bounce',
      recipients: ['a@example.com'],
      detail: 'Transient/MailboxFull',
    });
    expect(decideSesEvent(bounceEvent(['a@example.com'], 'Undetermined'), NOW).kind).toBe('soft-bounce');
  });

  it('a complaint suppresses; a not-spam report does not', () => {
    expect(decideSesEvent(complaintEvent(['x@example.com']), NOW)).toMatchObject({
      kind: 'suppress',
      reason: 'complaint',
      recipients: ['x@example.com'],
      at: Date.parse('2026-06-02T10:00:00.000Z'),
      source: 'ses-complaint:0100018f-complaint-0001',
    });
    expect(decideSesEvent(complaintEvent(['x@example.com'], { feedbackType: 'not-spam' }), NOW).kind).toBe('ignore');
  });

  it('falls back to the mail time, then to now, when the event has no usable timestamp', () => {
    const event = bounceEvent(['a@example.com']);
    const { timestamp: _dropped, ...bounce } = event.bounce;
    expect(decideSesEvent({ ...event, bounce }, NOW)).toMatchObject({ at: Date.parse('2026-06-02T09:00:00.000Z') });
    expect(decideSesEvent({ eventType: 'Bounce', bounce: { ...bounce, timestamp: 'soon' } }, NOW)).toMatchObject({ at: NOW });
  });

  it('reads identity-notification style events (notificationType) too', () => {
    const { eventType: _type, ...rest } = complaintEvent(['x@example.com']);
    expect(decideSesEvent({ ...rest, notificationType: 'Complaint' }, NOW).kind).toBe('suppress');
  });

  it('ignores deliveries, opens and other event types', () => {
    expect(decideSesEvent(deliveryEvent(['a@example.com']), NOW)).toEqual({ kind: 'ignore', eventType: 'Delivery' });
    expect(decideSesEvent({ eventType: 'Open', open: {} }, NOW).kind).toBe('ignore');
  });

  it('reports malformed events without their content', () => {
    const noRecipients = decideSesEvent({ eventType: 'Bounce', bounce: { bounceType: 'Permanent', bouncedRecipients: [] } }, NOW);
    expect(noRecipients).toEqual({ kind: 'invalid', problem: expect.stringMatching(/^bounce: bouncedRecipients/) });
    expect(decideSesEvent({ eventType: 'Complaint' }, NOW).kind).toBe('invalid');
    expect(decideSesEvent({ mail: {} }, NOW)).toEqual({ kind: 'invalid', problem: 'no eventType' });
    expect(decideSesEvent('nope', NOW).kind).toBe('invalid');
    const bad = decideSesEvent({ eventType: 'Bounce', bounce: { bounceType: 'Permanent', bouncedRecipients: [{ emailAddress: 7 }] } }, NOW);
    expect(JSON.stringify(bad)).not.toContain('7}');
  });

  it('extracts the bare address from a display form', () => {
    expect(recipientAddress('"Jane Doe" <Jane@Example.com>')).toBe('jane@example.com');
    expect(recipientAddress(' jane@example.com ')).toBe('jane@example.com');
  });
});

describe('unwrapSesEvents', () => {
  it('reads SNS records, EventBridge detail and bare events', () => {
    const bounce = bounceEvent(['a@example.com']);
    expect(unwrapSesEvents(snsEvent(bounce, complaintEvent(['b@example.com']))).events).toHaveLength(2);
    expect(unwrapSesEvents(eventBridgeEvent(bounce))).toEqual({ events: [bounce], problems: [] });
    expect(unwrapSesEvents(bounce)).toEqual({ events: [bounce], problems: [] });
  });

  it('keeps going past a record that is not JSON, and names it', () => {
    const { events, problems } = unwrapSesEvents(snsEvent('Successfully validated SNS topic', bounceEvent(['a@example.com'])));
    expect(events).toHaveLength(1);
    expect(problems).toEqual(['SNS record 0 (sns-0): Message is not JSON']);
  });

  it('names an event that is none of the three', () => {
    expect(unwrapSesEvents({ hello: 'world' }).problems).toEqual(['not an SNS, EventBridge or SES event']);
    expect(unwrapSesEvents(null).events).toEqual([]);
  });
});

describe('processSesFeedback against DynamoDB Local', () => {
  let aws: LocalAws;
  let context: SesFeedbackContext;
  let table: string;
  const logged: string[] = [];

  beforeAll(async () => {
    aws = await startLocalAws({ services: ['dynamodb'] });
    table = tableNames(aws.config).suppression;
    context = {
      documents: aws.clients.documents,
      tables: tableNames(aws.config),
      now: () => NOW,
      log: jsonLog({ level: 'debug', write: (line) => logged.push(line) }),
    };
  });
  afterAll(async () => {
    await aws?.stop();
  });

  const items = async () =>
    (await aws.clients.documents.send(new ScanCommand({ TableName: table, ConsistentRead: true }))).Items ?? [];

  it('a hard bounce suppresses each recipient', async () => {
    const summary = await processSesFeedback(context, snsEvent(bounceEvent(['Hard1@example.com', 'hard2@example.com'], 'Permanent', { customerId: 'c-1' })));
    expect(summary).toMatchObject({ events: 1, suppressed: 2, alreadySuppressed: 0, softBounces: 0, invalid: 0 });
    expect(await getSuppression(aws.clients.documents, table, 'hard1@example.com')).toEqual({
      email: 'hard1@example.com',
      reason: 'hard-bounce',
      suppressedAt: Date.parse('2026-06-02T09:00:05.123Z'),
      reasons: new Set(['hard-bounce']),
      source: 'ses-bounce:0100018f-bounce-0001',
      customerId: 'c-1',
    });
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

  it('logs masked addresses only', () => {
    const text = logged.join('\n');
    expect(text).toContain('h***@example.com');
    expect(text).not.toMatch(/[a-z0-9]{2,}@example\.com/i);
  });
});
