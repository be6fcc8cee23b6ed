import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { FEEDBACK_ALERTS } from '#shared/alerts.ts';
import { customerIdFromTags } from '#shared/delivery/customer-id-tag.ts';
import { maskEmail, silentLog, type Log } from '#shared/log.ts';
import { normaliseEmail } from '#shared/email.ts';
import { deleteClientSuppression, deletePlainSuppression, isStoredErasure, noteFeedbackOnErasures, storedErasureKeysOf } from '#shared/store/erasure-store.ts';
import { suppress, suppressClient, type SuppressionReason } from '#shared/store/suppression-store.ts';
import type { TableNames } from '#shared/store/tables.ts';
import { issuesText } from '#shared/zod-issues.ts';

/**
 * SES feedback: configuration-set events (delivered by SNS, or by EventBridge as `detail`) turned
 * into suppressions. A permanent bounce suppresses its recipients ('hard-bounce'), the addresses
 * only: a new address may work; a transient or undetermined bounce is only logged (the mailbox may
 * be full today, fine tomorrow); a complaint suppresses for good ('complaint'), its addresses and,
 * when the email's tags name the client, the client under any later address. A complaint SES made
 * up from the account-level suppression list is about the address only (ACCOUNT_SUPPRESSION_LIST).
 * A delivery changes
 * nothing but is logged. Every delivery, bounce and complaint line names the email (SentEmail: the
 * client's id, the campaign, the send time, SES's message id): how an operator tells whether a
 * maybe-sent email went (README, After an outage). Writes are idempotent, so a redelivered event
 * changes nothing.
 */

// Only the fields we use; SES sends many more (headers, diagnostic codes, MTA names...). A recipient
// without an address is skipped, not the event: the others are still dead addresses.
const recipientsSchema = z.array(z.object({ emailAddress: z.string().optional() })).min(1);

const bounceSchema = z.object({
  bounceType: z.string().min(1),
  bounceSubType: z.string().optional(),
  bouncedRecipients: recipientsSchema,
  timestamp: z.string().optional(),
  feedbackId: z.string().optional(),
});

const complaintSchema = z.object({
  complainedRecipients: recipientsSchema,
  timestamp: z.string().optional(),
  feedbackId: z.string().optional(),
  complaintFeedbackType: z.string().nullish(),
  complaintSubType: z.string().nullish(),
});

const mailSchema = z.object({
  messageId: z.string().optional(),
  timestamp: z.string().optional(),
  /** Tags set on SendEmail (EmailTags); the sender carries the client's id in them (customer-id-tag.ts). */
  tags: z.record(z.string(), z.array(z.string())).optional(),
});

const sesEventSchema = z.object({
  // Configuration-set events say eventType; identity notifications say notificationType.
  eventType: z.string().optional(),
  notificationType: z.string().optional(),
  bounce: z.unknown().optional(),
  complaint: z.unknown().optional(),
  mail: mailSchema.optional(),
});

// Each record is read on its own: one malformed record does not cost the others.
const snsEnvelopeSchema = z.object({ Records: z.array(z.unknown()).min(1) });
const snsRecordSchema = z.object({ Sns: z.object({ Message: z.string(), MessageId: z.string().optional() }) });
const eventBridgeEnvelopeSchema = z.object({ 'detail-type': z.string().optional(), detail: z.unknown() });

/**
 * SES's complaintSubType, and a Permanent bounce's bounceSubType, for an email it accepted but did
 * not send: the address is on the AWS account's suppression list. The complaint or bounce behind it
 * may be a previous holder's of the address, or came through another sender of the account: not
 * the client's no, and no email reached them, so no mail server bounced it either.
 */
export const ACCOUNT_SUPPRESSION_LIST = 'OnAccountSuppressionList';

/**
 * The email an event is about, as SES took it and the sender tagged it; never its address. Each
 * field only when the event has it (an email to the team or an advisor names no client).
 */
// A type, not an interface: it goes into log lines as it is (LogFields has an index signature).
export type SentEmail = {
  customerId?: string;
  campaign?: string;
  /** When SES accepted the email (mail.timestamp): near the ledger entry's claimedAt. */
  sentAt?: string;
  messageId?: string;
};

/** What one SES event means for the suppression list. */
export type SesDecision =
  | ({
      kind: 'suppress';
      reason: Extract<SuppressionReason, 'hard-bounce' | 'complaint'>;
      recipients: string[];
      at: number;
      source: string;
      detail: string;
      /** A complaint or bounce SES made up from the account's suppression list (ACCOUNT_SUPPRESSION_LIST): the address only, not the client's no, and nothing was sent. */
      accountSuppressionList?: true;
    } & SentEmail)
  | ({ kind: 'soft-bounce'; recipients: string[]; detail: string } & SentEmail)
  /** Nothing to store; logged, without the address, for whoever settles a maybe-sent email. */
  | ({ kind: 'delivered' } & SentEmail)
  | { kind: 'ignore'; eventType: string; detail?: string }
  | { kind: 'invalid'; problem: string };

/** Bare address from `a@b` or `"Name" <a@b>`, normalised. */
export function recipientAddress(value: string): string {
  const angle = /<([^<>]+)>\s*$/.exec(value);
  return normaliseEmail(angle?.[1] ?? value);
}

/** The recipients' addresses, normalised, each once; recipients without one left out. */
function addressesOf(recipients: readonly { emailAddress?: string | undefined }[]): string[] {
  return [...new Set(recipients.map((r) => recipientAddress(r.emailAddress ?? '')))].filter(Boolean);
}

function instant(...candidates: (string | undefined)[]): number | undefined {
  for (const value of candidates) {
    const ms = value ? Date.parse(value) : Number.NaN;
    if (Number.isFinite(ms)) return ms;
  }
  return undefined;
}

/**
 * The SentEmail fields of `email` (a decision, or what an event's mail says), those it has: the
 * same on every delivery, bounce and complaint, in the decision and in its log lines.
 */
export function sentEmailFields(email: SentEmail): SentEmail {
  const { customerId, campaign, sentAt, messageId } = email;
  return { ...(customerId ? { customerId } : {}), ...(campaign ? { campaign } : {}), ...(sentAt ? { sentAt } : {}), ...(messageId ? { messageId } : {}) };
}

/** Pure: one SES event (already JSON-parsed) → what to do. `now` dates events that carry no timestamp. */
export function decideSesEvent(input: unknown, now: number): SesDecision {
  const parsed = sesEventSchema.safeParse(input);
  if (!parsed.success) return { kind: 'invalid', problem: issuesText(parsed.error) };
  const event = parsed.data;
  const eventType = event.eventType ?? event.notificationType;
  if (!eventType) return { kind: 'invalid', problem: 'no eventType' };
  // Decoded before anything uses it; a tag that does not decode names no one, and is not guessed at.
  const tagged = customerIdFromTags(event.mail?.tags);
  if (tagged.kind === 'undecodable') return { kind: 'invalid', problem: `mail.tags: ${tagged.problem}` };
  const sent = sentEmailFields({
    ...(tagged.kind === 'id' ? { customerId: tagged.customerId } : {}),
    campaign: event.mail?.tags?.campaign?.[0],
    sentAt: event.mail?.timestamp,
    messageId: event.mail?.messageId,
  });

  if (eventType === 'Bounce') {
    const bounce = bounceSchema.safeParse(event.bounce);
    if (!bounce.success) return { kind: 'invalid', problem: `bounce: ${issuesText(bounce.error)}` };
    const { bounceType, bounceSubType, bouncedRecipients, timestamp, feedbackId } = bounce.data;
    const recipients = addressesOf(bouncedRecipients);
    if (recipients.length === 0) return { kind: 'invalid', problem: 'bounce: no recipient has an address' };
    const detail = `${bounceType}/${bounceSubType ?? '-'}`;
    // Only a permanent bounce is a dead address; Transient and Undetermined may recover.
    if (bounceType !== 'Permanent') return { kind: 'soft-bounce', recipients, detail, ...sent };
    return {
      kind: 'suppress',
      reason: 'hard-bounce',
      recipients,
      at: instant(timestamp, event.mail?.timestamp) ?? now,
      source: `ses-bounce:${feedbackId ?? event.mail?.messageId ?? 'unknown'}`,
      detail,
      ...sent,
      ...(bounceSubType === ACCOUNT_SUPPRESSION_LIST ? { accountSuppressionList: true as const } : {}),
    };
  }

  if (eventType === 'Complaint') {
    const complaint = complaintSchema.safeParse(event.complaint);
    if (!complaint.success) return { kind: 'invalid', problem: `complaint: ${issuesText(complaint.error)}` };
    const { complainedRecipients, timestamp, feedbackId, complaintFeedbackType, complaintSubType } = complaint.data;
    const detail = `${complaintFeedbackType ?? '-'}/${complaintSubType ?? '-'}`;
    const recipients = addressesOf(complainedRecipients);
    if (recipients.length === 0) return { kind: 'invalid', problem: 'complaint: no recipient has an address' };
    // An ARF "not-spam" report says the recipient withdrew the complaint: nothing to suppress.
    if (complaintFeedbackType === 'not-spam') return { kind: 'ignore', eventType, detail };
    return {
      kind: 'suppress',
      reason: 'complaint',
      recipients,
      at: instant(timestamp, event.mail?.timestamp) ?? now,
      source: `ses-complaint:${feedbackId ?? event.mail?.messageId ?? 'unknown'}`,
      detail,
      ...sent,
      ...(complaintSubType === ACCOUNT_SUPPRESSION_LIST ? { accountSuppressionList: true as const } : {}),
    };
  }

  if (eventType === 'Delivery') return { kind: 'delivered', ...sent };

  // Send, Open, Click, Reject, DeliveryDelay, RenderingFailure, Subscription...
  return { kind: 'ignore', eventType };
}

/**
 * The plain-text message SES publishes to a topic when an event destination is set up on it
 * ("Successfully validated SNS topic for Amazon SES event publishing."): a notice, not an event,
 * and not an unreadable message either (that raises an alarm: every deploy would).
 */
const SES_SETUP_NOTICE = /^Successfully validated SNS topic\b/;

/**
 * The SES events inside a Lambda event: an SNS notification (each record's Message is the SES
 * event JSON), an EventBridge event (`detail`), or a bare SES event. Unreadable messages are
 * returned as problems rather than thrown, so one bad record does not block the others; SES's
 * set-up notices are counted apart.
 */
export function unwrapSesEvents(lambdaEvent: unknown): { events: unknown[]; problems: string[]; notices: number } {
  const sns = snsEnvelopeSchema.safeParse(lambdaEvent);
  if (sns.success) {
    const events: unknown[] = [];
    const problems: string[] = [];
    let notices = 0;
    for (const [index, raw] of sns.data.Records.entries()) {
      const record = snsRecordSchema.safeParse(raw);
      if (!record.success) {
        problems.push(`SNS record ${index}: ${issuesText(record.error)}`);
        continue;
      }
      try {
        events.push(JSON.parse(record.data.Sns.Message));
      } catch {
        if (SES_SETUP_NOTICE.test(record.data.Sns.Message)) notices++;
        else problems.push(`SNS record ${index} (${record.data.Sns.MessageId ?? 'no id'}): Message is not JSON`);
      }
    }
    return { events, problems, notices };
  }
  const eventBridge = eventBridgeEnvelopeSchema.safeParse(lambdaEvent);
  if (eventBridge.success && eventBridge.data.detail !== undefined) return { events: [eventBridge.data.detail], problems: [], notices: 0 };
  if (typeof lambdaEvent === 'object' && lambdaEvent !== null && ('eventType' in lambdaEvent || 'notificationType' in lambdaEvent)) {
    return { events: [lambdaEvent], problems: [], notices: 0 };
  }
  return { events: [], problems: ['not an SNS, EventBridge or SES event'], notices: 0 };
}

export interface SesFeedbackContext {
  documents: Pick<DynamoDBDocumentClient, 'send'>;
  tables: Pick<TableNames, 'suppression'>;
  now: () => number;
  log?: Log;
  /**
   * This delivery of the events (the Lambda request id, which Lambda keeps when it runs a failed
   * invocation again; a new one when absent). A suppression this delivery recorded already is its own
   * write retried, counted; one another delivery recorded is a redelivery, not counted again.
   */
  attempt?: string;
}

export interface SesFeedbackSummary {
  events: number;
  /** Addresses suppressed for the first time. */
  suppressed: number;
  /** Addresses that were already suppressed (a redelivery, or an earlier unsubscribe). */
  alreadySuppressed: number;
  /**
   * Recipients of permanent bounces (suppressed now or already). Not those SES made up from the
   * account's suppression list: no mail server bounced this email, and SES's own bounce rate leaves
   * them out too (counted in suppressed / alreadySuppressed only).
   */
  hardBounces: number;
  /**
   * Recipients of complaints (suppressed now or already). Not those SES made up from the account's
   * suppression list: nobody complained about this email (counted in suppressed / alreadySuppressed only).
   */
  complaints: number;
  /** Recipients of transient / undetermined bounces: logged, not suppressed. */
  softBounces: number;
  /** Events that need no action (deliveries, logged; opens, not-spam reports...). */
  ignored: number;
  /** Messages that could not be read; logged without their content. */
  invalid: number;
  /** Recipients who asked to be forgotten: their hashed erasure entry already keeps them out, nothing stored in clear. */
  erased: number;
  problems: string[];
}

export async function processSesFeedback(context: SesFeedbackContext, lambdaEvent: unknown): Promise<SesFeedbackSummary> {
  const log = context.log ?? silentLog;
  const { events, problems, notices } = unwrapSesEvents(lambdaEvent);
  const summary: SesFeedbackSummary = {
    events: events.length,
    suppressed: 0,
    alreadySuppressed: 0,
    hardBounces: 0,
    complaints: 0,
    softBounces: 0,
    ignored: notices,
    invalid: problems.length,
    erased: 0,
    problems: [...problems],
  };
  for (const problem of problems) log.error('SES feedback: unreadable message', { alert: FEEDBACK_ALERTS.sesFeedbackUnreadable.alert, problem });
  if (notices > 0) log.info("SES feedback: SES's notice that the topic was set up, no action", { notices });

  const delivery = context.attempt ?? randomUUID();
  for (const [index, event] of events.entries()) {
    // Each event of the batch its own attempt: the same feedback twice in one batch is still a redelivery.
    const attempt = `${delivery}#${index}`;
    const decision = decideSesEvent(event, context.now());
    switch (decision.kind) {
      case 'invalid':
        summary.invalid++;
        summary.problems.push(decision.problem);
        log.error('SES feedback: invalid event', { alert: FEEDBACK_ALERTS.sesFeedbackUnreadable.alert, problem: decision.problem });
        break;
      case 'ignore':
        summary.ignored++;
        log.debug('SES feedback: no action', { eventType: decision.eventType, detail: decision.detail });
        break;
      case 'delivered':
        summary.ignored++;
        log.info('SES feedback: delivered', sentEmailFields(decision));
        break;
      case 'soft-bounce':
        summary.softBounces += decision.recipients.length;
        log.info('SES feedback: soft bounce, not suppressed', {
          detail: decision.detail,
          recipients: decision.recipients.map(maskEmail),
          ...sentEmailFields(decision),
        });
        break;
      case 'suppress': {
        // SES's own, from the account's suppression list: nothing was sent, so neither the client's complaint nor a bounce.
        const sesOwn = decision.accountSuppressionList === true;
        const recipientsComplaint = decision.reason === 'complaint' && !sesOwn;
        const counted = sesOwn ? undefined : recipientsComplaint ? 'complaints' : 'hardBounces';
        const count = () => {
          if (counted !== undefined) summary[counted]++;
        };
        // This feedback's own id (SES's feedbackId, else the message id); without one a redelivery cannot be told apart.
        const feedbackId = decision.source.endsWith(':unknown') ? undefined : decision.source;
        // The client is looked up on the erasure list with each recipient: one stored means they are not erased.
        let recipientStored = false;
        // The hashed erasure entries keep the feedback ids of recipients erased, as an address's entry does: a redelivery counts once.
        const noteOnErasures = async (keys: readonly string[]) => feedbackId !== undefined && (await noteFeedbackOnErasures(context.documents, context.tables.suppression, keys, feedbackId, attempt));
        for (const email of decision.recipients) {
          // An address or client erased since the send: writing it in clear (with the client's id) would undo the erasure.
          const erasures = await storedErasureKeysOf(context.documents, context.tables.suppression, { email, customerId: decision.customerId });
          if (erasures.length > 0) {
            summary.erased++;
            const redelivered = await noteOnErasures(erasures);
            if (!redelivered) count();
            log.info('SES feedback: recipient erased, nothing stored', { reason: decision.reason, detail: decision.detail, ...(redelivered ? { redelivered } : {}) });
            continue;
          }
          const result = await suppress(context.documents, context.tables.suppression, {
            email,
            reason: decision.reason,
            at: decision.at,
            source: decision.source,
            ...(feedbackId === undefined ? {} : { feedbackId, attempt }),
            ...(decision.customerId ? { customerId: decision.customerId } : {}),
          });
          // SNS delivers at least once: an entry that already records this very feedback was counted when it was stored (its
          // feedback ids; its source, for an entry stored before it kept them, or whose first feedback this was).
          const redelivered = !result.created && feedbackId !== undefined && (result.feedbackSeen || result.item.source === feedbackId);
          if (!redelivered) count();
          // Erased between the look-up and the write: the forget may have deleted the plain entries before this one landed.
          // An entry this write created goes too (the erasure entry already keeps the person from every email); one that
          // was there before may be another client's (a shared or reused address): the forget deletes it if it is theirs.
          const erasedSince = result.created ? await storedErasureKeysOf(context.documents, context.tables.suppression, { email, customerId: decision.customerId }) : [];
          if (erasedSince.length > 0) {
            await deletePlainSuppression(context.documents, context.tables.suppression, email);
            // After the delete: a crash between the two costs a redelivery's second count, never an address left in clear.
            await noteOnErasures(erasedSince);
            summary.erased++;
            log.info('SES feedback: recipient erased while stored, entry deleted', { reason: decision.reason, detail: decision.detail });
            continue;
          }
          recipientStored = true;
          if (result.created) summary.suppressed++;
          else summary.alreadySuppressed++;
          log.info(result.created ? 'SES feedback: suppressed' : 'SES feedback: already suppressed', {
            reason: decision.reason,
            ...(redelivered ? { redelivered } : {}),
            storedReason: result.item.reason,
            detail: decision.detail,
            email: maskEmail(email),
            ...sentEmailFields(decision),
          });
        }
        // A complaint is the client's no, not only the address's: it holds when their address changes.
        if (recipientsComplaint && decision.customerId !== undefined && recipientStored) {
          const client = await suppressClient(context.documents, context.tables.suppression, { customerId: decision.customerId, reason: 'complaint', at: decision.at, source: decision.source });
          // As for the address: a forget recorded since the recipient's check leaves only the hash.
          if (await isStoredErasure(context.documents, context.tables.suppression, { customerId: decision.customerId })) {
            await deleteClientSuppression(context.documents, context.tables.suppression, decision.customerId);
            log.info('SES feedback: client erased while stored, entry deleted', { reason: decision.reason, detail: decision.detail });
            break;
          }
          log.info(client.created ? 'SES feedback: client suppressed' : 'SES feedback: client already suppressed', { ...sentEmailFields(decision), storedReason: client.item.reason });
        }
        break;
      }
    }
  }
  return summary;
}
