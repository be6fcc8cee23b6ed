import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createAwsClients, destroyAwsClients, type AwsClients } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import { processSesFeedback, type SesFeedbackContext } from '#shared/feedback/ses-events.ts';
import { erasedKey, recordErasure } from '#shared/store/erasure-store.ts';
import { getSuppression, MAX_FEEDBACK_IDS, suppress } from '#shared/store/suppression-store.ts';
import { tableNames } from '#shared/store/tables.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { loseOneDynamoDbAnswer } from '#test/support/lost-answers.ts';
import { bounceEvent, complaintEvent, snsEvent } from '#test/support/ses-events.ts';

/**
 * SES feedback whose suppression write DynamoDB applied but whose answer was lost (a connection
 * reset): the SDK sends the same UpdateItem again, and its old image shows the first attempt's
 * write. The feedback must still be counted once (Bounces / Complaints), and a true redelivery
 * (another delivery of the same event) still not counted again.
 */

const aws = sharedAws();
const NOW = Date.parse('2026-06-03T00:00:00Z');

describe('SES feedback when DynamoDB applied the suppression write but its answer was lost', () => {
  let config: Config;
  let table: string;
  const clientsMade: AwsClients[] = [];

  beforeAll(async () => {
    config = await scenarioConfig(aws, 'lost');
    table = tableNames(config).suppression;
  });
  afterAll(() => Promise.all(clientsMade.map((clients) => destroyAwsClients(clients))));

  /** A context whose DynamoDB loses the answer of the first UpdateItem on `key` (an address, or an erasure key) whose expression has `part`. */
  function losingContext(key: string, options: { attempt?: string; part?: string } = {}): { context: SesFeedbackContext; lost: () => boolean } {
    const clients = createAwsClients(config);
    clientsMade.push(clients);
    const lost = loseOneDynamoDbAnswer(
      clients,
      (command, input) => command === 'UpdateItemCommand' && JSON.stringify(input.Key ?? {}).includes(key) && String(input.UpdateExpression).includes(options.part ?? ''),
    );
    return { context: { documents: clients.documents, tables: tableNames(config), now: () => NOW, ...(options.attempt === undefined ? {} : { attempt: options.attempt }) }, lost };
  }
  const rawEntry = async (key: string) => (await aws.clients.documents.send(new GetCommand({ TableName: table, Key: { email: key }, ConsistentRead: true }))).Item;
  /** How an entry stores a feedback id with the delivery attempt that first wrote it (suppression-store.ts FEEDBACK_WRITES). */
  const writeOf = (feedbackId: string, attempt: string) => JSON.stringify([feedbackId, attempt]);
  const plain = (attempt?: string): SesFeedbackContext => ({ documents: aws.clients.documents, tables: tableNames(config), now: () => NOW, ...(attempt === undefined ? {} : { attempt }) });

  it('a bounce that creates the entry is counted once; its redelivery is not counted', async () => {
    const bounce = snsEvent(bounceEvent(['lost-new@example.com'], 'Permanent', { customerId: 'c-lost-new', feedbackId: 'fb-lost-new' }));
    const { context, lost } = losingContext('lost-new@example.com');
    expect(await processSesFeedback(context, bounce)).toMatchObject({ hardBounces: 1, suppressed: 1, alreadySuppressed: 0 });
    expect(lost()).toBe(true);
    expect(await getSuppression(aws.clients.documents, table, 'lost-new@example.com')).toMatchObject({
      reason: 'hard-bounce',
      feedbackIds: new Set(['ses-bounce:fb-lost-new']),
      customerId: 'c-lost-new',
    });
    expect(await processSesFeedback(plain(), bounce)).toMatchObject({ hardBounces: 0, suppressed: 0, alreadySuppressed: 1 });
  });

  it('a complaint for an address suppressed before is counted once', async () => {
    await suppress(aws.clients.documents, table, { email: 'lost-old@example.com', reason: 'unsubscribe', at: NOW - 86_400_000, source: 'one-click' });
    const complaint = snsEvent(complaintEvent(['lost-old@example.com'], { customerId: 'c-lost-old', feedbackId: 'fb-lost-old' }));
    const { context, lost } = losingContext('lost-old@example.com');
    expect(await processSesFeedback(context, complaint)).toMatchObject({ complaints: 1, suppressed: 0, alreadySuppressed: 1 });
    expect(lost()).toBe(true);
    expect(await getSuppression(aws.clients.documents, table, 'lost-old@example.com')).toMatchObject({ reason: 'complaint', reasons: new Set(['unsubscribe', 'complaint']) });
    expect(await processSesFeedback(plain(), complaint)).toMatchObject({ complaints: 0, alreadySuppressed: 1 });
  });

  it('a true redelivery whose answer is lost is still not counted again', async () => {
    const bounce = snsEvent(bounceEvent(['lost-again@example.com'], 'Permanent', { feedbackId: 'fb-lost-again' }));
    expect(await processSesFeedback(plain(), bounce)).toMatchObject({ hardBounces: 1, suppressed: 1 });
    const { context, lost } = losingContext('lost-again@example.com');
    expect(await processSesFeedback(context, bounce)).toMatchObject({ hardBounces: 0, alreadySuppressed: 1 });
    expect(lost()).toBe(true);
  });

  it('a bounce whose write starts a new generation of feedback ids is counted once', async () => {
    const bounce = (n: number) => snsEvent(bounceEvent(['lost-full@example.com'], 'Permanent', { feedbackId: `fb-lost-full-${n}` }));
    for (let n = 0; n < MAX_FEEDBACK_IDS; n++) expect(await processSesFeedback(plain(), bounce(n))).toMatchObject({ hardBounces: 1 });
    // The answer lost is the new generation's (the add before it is refused: the set is full).
    const { context, lost } = losingContext('lost-full@example.com', { part: 'feedbackIdsBefore = feedbackIds' });
    expect(await processSesFeedback(context, bounce(MAX_FEEDBACK_IDS))).toMatchObject({ hardBounces: 1, alreadySuppressed: 1 });
    expect(lost()).toBe(true);
    expect(await processSesFeedback(plain(), bounce(MAX_FEEDBACK_IDS))).toMatchObject({ hardBounces: 0 });
    expect(await processSesFeedback(plain(), bounce(0))).toMatchObject({ hardBounces: 0 });
  });

  it('a bounce of a recipient erased since, whose note on the erasure entry lost its answer, is counted once', async () => {
    await recordErasure(aws.clients.documents, table, { customerIds: [], emails: ['lost-erased@example.com'] }, NOW);
    const bounce = snsEvent(bounceEvent(['lost-erased@example.com'], 'Permanent', { feedbackId: 'fb-lost-erased' }));
    const { context, lost } = losingContext('erased:');
    expect(await processSesFeedback(context, bounce)).toMatchObject({ hardBounces: 1, erased: 1 });
    expect(lost()).toBe(true);
    expect(await processSesFeedback(plain(), bounce)).toMatchObject({ hardBounces: 0, erased: 1 });
  });

  it('an invocation Lambda runs again (the same request id) after it failed past the write counts the event it had written: the failed one published nothing', async () => {
    const bounce = snsEvent(bounceEvent(['lost-retried@example.com'], 'Permanent', { feedbackId: 'fb-lost-retried' }));
    expect(await processSesFeedback(plain('request-1'), bounce)).toMatchObject({ hardBounces: 1, suppressed: 1 });
    // Run again under the same request id: Lambda's own retry of a failed asynchronous invocation.
    expect(await processSesFeedback(plain('request-1'), bounce)).toMatchObject({ hardBounces: 1, suppressed: 1 });
    // Another invocation (SNS delivering the event again) is a redelivery.
    expect(await processSesFeedback(plain('request-2'), bounce)).toMatchObject({ hardBounces: 0, alreadySuppressed: 1 });
  });

  it("an invocation Lambda runs again after another feedback of the same address was written since counts its own event: the other's write does not hide it", async () => {
    const address = 'retried-after-other@example.com';
    const first = snsEvent(bounceEvent([address], 'Permanent', { customerId: 'c-retried-other', feedbackId: 'fb-retried-1' }));
    const second = snsEvent(complaintEvent([address], { customerId: 'c-retried-other', feedbackId: 'fb-retried-2' }));
    // F1 is written by request-1, whose invocation then fails (nothing published); F2 is written by request-2 meanwhile.
    expect(await processSesFeedback(plain('request-1'), first)).toMatchObject({ hardBounces: 1, suppressed: 1 });
    expect(await processSesFeedback(plain('request-2'), second)).toMatchObject({ complaints: 1, alreadySuppressed: 1 });
    // Lambda runs request-1 again: its own write, which created the entry; counted as the failed run would have been.
    expect(await processSesFeedback(plain('request-1'), first)).toMatchObject({ hardBounces: 1, suppressed: 1, alreadySuppressed: 0 });
    // request-2 run again too: its own write, onto an entry it did not create.
    expect(await processSesFeedback(plain('request-2'), second)).toMatchObject({ complaints: 1, suppressed: 0, alreadySuppressed: 1 });
    // SNS delivering either again (another request) is a redelivery.
    expect(await processSesFeedback(plain('request-3'), first)).toMatchObject({ hardBounces: 0, alreadySuppressed: 1 });
    expect(await processSesFeedback(plain('request-4'), second)).toMatchObject({ complaints: 0, alreadySuppressed: 1 });
    expect(await getSuppression(aws.clients.documents, table, address)).toEqual({
      email: address,
      reason: 'complaint',
      reasons: new Set(['hard-bounce', 'complaint']),
      suppressedAt: Date.parse('2026-06-02T09:00:05.123Z'),
      complainedAt: expect.any(Number) as unknown,
      customerId: 'c-retried-other',
      source: 'ses-bounce:fb-retried-1',
      feedbackIds: new Set(['ses-bounce:fb-retried-1', 'ses-complaint:fb-retried-2']),
    });
    // Stored: each id with the delivery that first wrote it (request ids and the event's index, nothing of the person's), and the one that created the entry.
    expect(await rawEntry(address)).toMatchObject({
      feedbackWrites: new Set([writeOf('ses-bounce:fb-retried-1', 'request-1#0'), writeOf('ses-complaint:fb-retried-2', 'request-2#0')]),
      feedbackWriteCreated: 'request-1#0',
    });
  });

  it('the same on an erasure entry: a retried invocation after another feedback of the erased recipient counts its own event', async () => {
    const address = 'erased-retried-after-other@example.com';
    await recordErasure(aws.clients.documents, table, { customerIds: [], emails: [address] }, NOW);
    const first = snsEvent(bounceEvent([address], 'Permanent', { feedbackId: 'fb-erased-retried-1' }));
    const second = snsEvent(bounceEvent([address], 'Permanent', { feedbackId: 'fb-erased-retried-2' }));
    expect(await processSesFeedback(plain('request-e1'), first)).toMatchObject({ hardBounces: 1, erased: 1 });
    expect(await processSesFeedback(plain('request-e2'), second)).toMatchObject({ hardBounces: 1, erased: 1 });
    expect(await processSesFeedback(plain('request-e1'), first)).toMatchObject({ hardBounces: 1, erased: 1 });
    expect(await processSesFeedback(plain('request-e3'), first)).toMatchObject({ hardBounces: 0, erased: 1 });
    expect(await rawEntry(erasedKey('email', address))).toMatchObject({
      feedbackWrites: new Set([writeOf('ses-bounce:fb-erased-retried-1', 'request-e1#0'), writeOf('ses-bounce:fb-erased-retried-2', 'request-e2#0')]),
    });
  });
});
