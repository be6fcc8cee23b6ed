import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients, destroyAwsClients, type AwsClients } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import { processSesFeedback, type SesFeedbackContext } from '#shared/feedback/ses-events.ts';
import { recordErasure } from '#shared/store/erasure-store.ts';
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
});
