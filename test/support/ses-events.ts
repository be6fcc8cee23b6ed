import type { EventBridgeEvent, SNSEvent } from 'aws-lambda';

/** SES configuration-set events shaped like the ones AWS documents, with the noise they carry. */

/** Message tags as SES events carry them: each a list of values. */
type EventTags = Record<string, string[]>;

function mail(recipients: string[], customerId?: string, tags: EventTags = {}) {
  return {
    timestamp: '2026-06-02T09:00:00.000Z',
    source: 'Maison Test <hello@brand.example>',
    sourceArn: 'arn:aws:ses:us-east-1:123456789012:identity/brand.example',
    sendingAccountId: '123456789012',
    messageId: '0100018f-msg-0001',
    destination: recipients,
    headersTruncated: false,
    headers: [{ name: 'From', value: 'hello@brand.example' }],
    commonHeaders: { from: ['hello@brand.example'], to: recipients, messageId: '0100018f-msg-0001', subject: 'Welcome' },
    tags: {
      'ses:configuration-set': ['clientele'],
      'ses:source-ip': ['192.0.2.0'],
      campaign: ['welcome'],
      ...(customerId ? { customerId: [customerId] } : {}),
      ...tags,
    },
  };
}

export function bounceEvent(
  recipients: string[],
  bounceType: 'Permanent' | 'Transient' | 'Undetermined' = 'Permanent',
  options: { customerId?: string; tags?: EventTags; timestamp?: string; feedbackId?: string; bounceSubType?: string } = {},
) {
  return {
    eventType: 'Bounce',
    bounce: {
      bounceType,
      bounceSubType: options.bounceSubType ?? (bounceType === 'Transient' ? 'MailboxFull' : 'General'),
      bouncedRecipients: recipients.map((emailAddress) => ({
        emailAddress,
        action: 'failed',
        status: '5.1.1',
        diagnosticCode: 'smtp; 550 5.1.1 user unknown',
      })),
      timestamp: options.timestamp ?? '2026-06-02T09:00:05.123Z',
      feedbackId: options.feedbackId ?? '0100018f-bounce-0001',
      reportingMTA: 'dsn; mta.example.com',
    },
    mail: mail(recipients, options.customerId, options.tags),
  };
}

export function complaintEvent(
  recipients: string[],
  options: { customerId?: string; tags?: EventTags; timestamp?: string; feedbackId?: string; feedbackType?: string; subType?: string } = {},
) {
  // A complaint with a subType (OnAccountSuppressionList) is SES's own: no feedback report behind it.
  const report = options.subType === undefined ? { userAgent: 'Mozilla/5.0', complaintFeedbackType: options.feedbackType ?? 'abuse', arrivalDate: '2026-06-02T10:00:00.000Z' } : {};
  return {
    eventType: 'Complaint',
    complaint: {
      complainedRecipients: recipients.map((emailAddress) => ({ emailAddress })),
      timestamp: options.timestamp ?? '2026-06-02T10:00:00.000Z',
      feedbackId: options.feedbackId ?? '0100018f-complaint-0001',
      ...report,
      ...(options.subType === undefined ? {} : { complaintSubType: options.subType }),
    },
    mail: mail(recipients, options.customerId, options.tags),
  };
}

export function deliveryEvent(recipients: string[], options: { customerId?: string; tags?: EventTags } = {}) {
  return {
    eventType: 'Delivery',
    delivery: { timestamp: '2026-06-02T09:00:01.000Z', processingTimeMillis: 546, recipients, smtpResponse: '250 ok', reportingMTA: 'a8-70.smtp-out.amazonses.com' },
    mail: mail(recipients, options.customerId, options.tags),
  };
}

/** An SNS notification to Lambda; `message` is put in as JSON unless it is already a string. */
export function snsEvent(...messages: unknown[]): SNSEvent {
  return {
    Records: messages.map((message, i) => ({
      EventSource: 'aws:sns',
      EventVersion: '1.0',
      EventSubscriptionArn: 'arn:aws:sns:us-east-1:123456789012:ses-events:sub',
      Sns: {
        Type: 'Notification',
        MessageId: `sns-${i}`,
        TopicArn: 'arn:aws:sns:us-east-1:123456789012:ses-events',
        Subject: '',
        Message: typeof message === 'string' ? message : JSON.stringify(message),
        Timestamp: '2026-06-02T10:00:01.000Z',
        SignatureVersion: '1',
        Signature: 'EXAMPLE',
        SigningCertUrl: 'https://sns.us-east-1.amazonaws.com/cert.pem',
        UnsubscribeUrl: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe',
        MessageAttributes: {},
      },
    })),
  };
}

export function eventBridgeEvent(detail: unknown, detailType = 'Email Bounced'): EventBridgeEvent<string, unknown> {
  return {
    version: '0',
    id: 'eb-1',
    'detail-type': detailType,
    source: 'aws.ses',
    account: '123456789012',
    time: '2026-06-02T10:00:01Z',
    region: 'us-east-1',
    resources: ['arn:aws:ses:us-east-1:123456789012:configuration-set/clientele'],
    detail,
  };
}
