import { describe, expect, it } from 'vitest';
import { customerIdTags } from '#shared/delivery/customer-id-tag.ts';
import { decideSesEvent, processSesFeedback, recipientAddress, unwrapSesEvents } from '#shared/feedback/ses-events.ts';
import { jsonLog } from '#shared/log.ts';
import { bounceEvent, complaintEvent, deliveryEvent, eventBridgeEvent, snsEvent } from '#test/support/ses-events.ts';

const NOW = Date.parse('2026-06-03T00:00:00Z');

/** The email the test events are about (test/support/ses-events.ts), as every decision and log line names it. */
const SENT = { campaign: 'welcome', sentAt: '2026-06-02T09:00:00.000Z', messageId: '0100018f-msg-0001' };

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
      ...SENT,
    });
  });

  it('decodes the client id the sender tagged, whatever its characters; an undecodable tag is invalid, not guessed', () => {
    for (const customerId of ['C.001', '客户001', 'C_001']) {
      const tags = Object.fromEntries(Object.entries(customerIdTags(customerId)).map(([name, value]) => [name, [value]]));
      expect(decideSesEvent(bounceEvent(['a@example.com'], 'Permanent', { tags }), NOW)).toMatchObject({ kind: 'suppress', customerId });
      expect(decideSesEvent(complaintEvent(['a@example.com'], { tags }), NOW)).toMatchObject({ kind: 'suppress', customerId });
    }
    // A part of a two-part id lost: the first part alone would decode to another id.
    const cut = customerIdTags('客'.repeat(85));
    expect(decideSesEvent(bounceEvent(['a@example.com'], 'Permanent', { tags: { customerIdB64_1of2: [cut.customerIdB64_1of2 ?? ''] } }), NOW)).toEqual({
      kind: 'invalid',
      problem: 'mail.tags: customerIdB64_* tags: a part is missing',
    });
    expect(decideSesEvent(bounceEvent(['a@example.com'], 'Permanent', { tags: { customerIdB64_1of1: ['Qy4wMDF'] } }), NOW).kind).toBe('invalid');
  });

  it('transient and undetermined bounces are soft', () => {
    expect(decideSesEvent(bounceEvent(['a@example.com'], 'Transient'), NOW)).toEqual({
      kind: 'soft-bounce',
      recipients: ['a@example.com'],
      detail: 'Transient/MailboxFull',
      ...SENT,
    });
    expect(decideSesEvent(bounceEvent(['a@example.com'], 'Undetermined'), NOW).kind).toBe('soft-bounce');
    // SES took the email: the client's id says whose it was.
    expect(decideSesEvent(bounceEvent(['a@example.com'], 'Transient', { customerId: 'c1' }), NOW)).toMatchObject({ kind: 'soft-bounce', customerId: 'c1' });
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

  it("a complaint SES made up from the account's suppression list is marked as such; a recipient's own is not", () => {
    expect(decideSesEvent(complaintEvent(['x@example.com'], { customerId: 'c1', subType: 'OnAccountSuppressionList' }), NOW)).toEqual({
      kind: 'suppress',
      reason: 'complaint',
      recipients: ['x@example.com'],
      at: Date.parse('2026-06-02T10:00:00.000Z'),
      source: 'ses-complaint:0100018f-complaint-0001',
      detail: '-/OnAccountSuppressionList',
      customerId: 'c1',
      ...SENT,
      accountSuppressionList: true,
    });
    expect(decideSesEvent(complaintEvent(['x@example.com'], { customerId: 'c1' }), NOW)).not.toHaveProperty('accountSuppressionList');
  });

  it("a permanent bounce SES made up from the account's suppression list is marked as such; a mail server's is not", () => {
    expect(decideSesEvent(bounceEvent(['x@example.com'], 'Permanent', { customerId: 'c1', bounceSubType: 'OnAccountSuppressionList' }), NOW)).toMatchObject({
      kind: 'suppress',
      reason: 'hard-bounce',
      detail: 'Permanent/OnAccountSuppressionList',
      customerId: 'c1',
      accountSuppressionList: true,
    });
    expect(decideSesEvent(bounceEvent(['x@example.com'], 'Permanent', { customerId: 'c1', bounceSubType: 'Suppressed' }), NOW)).not.toHaveProperty('accountSuppressionList');
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

  it('stores nothing for a delivery, but names the email, its campaign and its client (never the address)', () => {
    expect(decideSesEvent(deliveryEvent(['a@example.com'], { customerId: 'c1' }), NOW)).toEqual({ kind: 'delivered', customerId: 'c1', ...SENT });
    // An email to the team or an advisor: no client.
    expect(decideSesEvent(deliveryEvent(['crm@brand.example']), NOW)).not.toHaveProperty('customerId');
  });

  it('ignores opens and other event types', () => {
    expect(decideSesEvent({ eventType: 'Open', open: {} }, NOW)).toEqual({ kind: 'ignore', eventType: 'Open' });
    expect(decideSesEvent({ eventType: 'Send', send: {} }, NOW).kind).toBe('ignore');
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

  it('skips a recipient without an address, not the others; an event with none is malformed', () => {
    const bounce = { eventType: 'Bounce', bounce: { bounceType: 'Permanent', bouncedRecipients: [{ emailAddress: '' }, {}, { emailAddress: 'B@example.com' }] } };
    expect(decideSesEvent(bounce, NOW)).toMatchObject({ kind: 'suppress', recipients: ['b@example.com'] });
    const none = { eventType: 'Complaint', complaint: { complainedRecipients: [{ emailAddress: ' ' }] } };
    expect(decideSesEvent(none, NOW)).toEqual({ kind: 'invalid', problem: 'complaint: no recipient has an address' });
  });

  it('extracts the bare address from a display form', () => {
    expect(recipientAddress('"Jane Doe" <Jane@Example.com>')).toBe('jane@example.com');
    expect(recipientAddress(' jane@example.com ')).toBe('jane@example.com');
  });
});

describe('processSesFeedback, deliveries', () => {
  it('logs each delivery with the client and the campaign, writes nothing, and counts it among the events needing no action', async () => {
    const lines: string[] = [];
    const context = {
      documents: { send: () => Promise.reject(new Error('a delivery must not touch DynamoDB')) },
      tables: { suppression: 'suppression' },
      now: () => NOW,
      log: jsonLog({ write: (line) => lines.push(line) }),
    };
    const summary = await processSesFeedback(context, snsEvent(deliveryEvent(['Jane.Doe@example.com'], { customerId: 'C000123' })));
    expect(summary).toMatchObject({ events: 1, ignored: 1, suppressed: 0, invalid: 0 });
    expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toEqual([
      expect.objectContaining({
        level: 'info',
        message: 'SES feedback: delivered',
        customerId: 'C000123',
        campaign: 'welcome',
        messageId: '0100018f-msg-0001',
        sentAt: '2026-06-02T09:00:00.000Z',
      }),
    ]);
    expect(lines.join('\n')).not.toMatch(/jane/i);
  });
});

describe('processSesFeedback, the lines an operator settles a maybe-sent email with (README, After an outage)', () => {
  it('a soft bounce is logged like a delivery: the client, the campaign, the send time and the message id; never the address', async () => {
    // SES took the email: the bounce may come hours later, and names no campaign of its own.
    const lines: string[] = [];
    const context = {
      documents: { send: () => Promise.reject(new Error('a soft bounce must not touch DynamoDB')) },
      tables: { suppression: 'suppression' },
      now: () => NOW,
      log: jsonLog({ write: (line) => lines.push(line) }),
    };
    await processSesFeedback(context, snsEvent(bounceEvent(['Jane.Doe@example.com'], 'Transient', { customerId: 'C000123', tags: { campaign: ['winback'] } })));
    expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ message: 'SES feedback: soft bounce, not suppressed', customerId: 'C000123', ...SENT, campaign: 'winback' }),
    ]);
    expect(lines.join('\n')).not.toMatch(/jane/i);
  });

  it('every bounce and complaint decision names the email as a delivery does', () => {
    const to = ['a@example.com'];
    const events = [
      deliveryEvent(to, { customerId: 'c1' }),
      bounceEvent(to, 'Transient', { customerId: 'c1' }),
      bounceEvent(to, 'Permanent', { customerId: 'c1' }),
      complaintEvent(to, { customerId: 'c1' }),
      complaintEvent(to, { customerId: 'c1', subType: 'OnAccountSuppressionList' }),
    ];
    for (const event of events) expect(decideSesEvent(event, NOW)).toMatchObject({ customerId: 'c1', ...SENT });
  });
});

describe('unwrapSesEvents', () => {
  it('reads SNS records, EventBridge detail and bare events', () => {
    const bounce = bounceEvent(['a@example.com']);
    expect(unwrapSesEvents(snsEvent(bounce, complaintEvent(['b@example.com']))).events).toHaveLength(2);
    expect(unwrapSesEvents(eventBridgeEvent(bounce))).toEqual({ events: [bounce], problems: [], notices: 0 });
    expect(unwrapSesEvents(bounce)).toEqual({ events: [bounce], problems: [], notices: 0 });
  });

  it('keeps going past a record that is not JSON, and names it', () => {
    const { events, problems } = unwrapSesEvents(snsEvent('<html>502 Bad Gateway</html>', bounceEvent(['a@example.com'])));
    expect(events).toHaveLength(1);
    expect(problems).toEqual(['SNS record 0 (sns-0): Message is not JSON']);
  });

  it("counts SES's notice that it set up the topic apart: not an unreadable message (an alarm at every deploy)", () => {
    const notice = 'Successfully validated SNS topic for Amazon SES event publishing.';
    expect(unwrapSesEvents(snsEvent(notice, bounceEvent(['a@example.com'])))).toEqual({ events: [bounceEvent(['a@example.com'])], problems: [], notices: 1 });
  });

  it('reads the good records of a batch past a malformed one, naming it', () => {
    const good = snsEvent(complaintEvent(['b@example.com']));
    const { events, problems } = unwrapSesEvents({ Records: [{ Sns: { MessageId: 'x' } }, ...good.Records] });
    expect(events).toHaveLength(1);
    expect(problems).toEqual(['SNS record 0: Sns.Message: Invalid input: expected string, received undefined']);
  });

  it('names an event that is none of the three', () => {
    expect(unwrapSesEvents({ hello: 'world' }).problems).toEqual(['not an SNS, EventBridge or SES event']);
    expect(unwrapSesEvents(null).events).toEqual([]);
  });
});
