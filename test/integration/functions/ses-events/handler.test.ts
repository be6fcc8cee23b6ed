import { beforeAll, describe, expect, it } from 'vitest';
import type { Context, EventBridgeEvent, SNSEvent } from 'aws-lambda';
import { FEEDBACK_ALERTS } from '#shared/alerts.ts';
import { configFromEnvironment, parseFunctionEnvironment } from '#shared/environment.ts';
import type { SesFeedbackSummary } from '#shared/feedback/ses-events.ts';
import { getSuppression } from '#shared/store/suppression-store.ts';
import { tableNames, type TableNames } from '#shared/store/tables.ts';
import { signUnsubscribeToken } from '#shared/unsubscribe/token.ts';
import { staticKeys } from '#shared/unsubscribe/keys.ts';
import { handleUnsubscribe } from '#shared/unsubscribe/unsubscribe.ts';
import { deployedRole } from '#test/support/deployed-role.ts';
import { scanTable, seedProfiles } from '#test/support/emulator-data.ts';
import { lambdaHarness } from '#test/support/lambda-handler.ts';
import { scenarioConfig, sharedAws } from '#test/support/local-aws.ts';
import { profileItem } from '#test/support/profiles.ts';
import { bounceEvent, complaintEvent, deliveryEvent, eventBridgeEvent, snsEvent } from '#test/support/ses-events.ts';
import { lambdaContext } from '#test/support/lambda-output.ts';

const SECRET = 'ses-handler-test-secret-0123456789abcdef';

const aws = sharedAws();
const role = deployedRole(aws, 'ses-events');
let tables: TableNames;
let handler: (event: SNSEvent | EventBridgeEvent<string, unknown>, context?: Context) => Promise<SesFeedbackSummary>;
const lambda = lambdaHarness();

const scan = () => scanTable(aws, tables.suppression);

beforeAll(async () => {
  const config = await scenarioConfig(aws, 'ses-events');
  tables = tableNames(config);
  await seedProfiles(aws, config, [profileItem('c-complainer', { email: 'complainer@example.com', stage: 'new', spend12mMinor: 20_000, lifetimeSpendMinor: 20_000 })]);
  // What Lambda sets on an on-demand function; Powertools reports cold starts only then.
  ({ handler } = await lambda.load({ ...role.environment(config), AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand' }, () => import('#functions/ses-events/handler.ts')));
});

describe('SES events handler', () => {
  it('logs through Powertools: request id, cold start, the masked address; publishes the batch\'s bounces', async () => {
    await handler(snsEvent(bounceEvent(['first@example.com'], 'Permanent', { customerId: 'c-first' })), lambdaContext('clientele-ses-events', 'req-ses-1'));
    const suppressed = lambda.output.logs().find((l) => l.message === 'SES feedback: suppressed');
    expect(suppressed).toMatchObject({
      level: 'INFO',
      service: 'clientele',
      function: 'ses-events',
      function_request_id: 'req-ses-1',
      cold_start: true,
      email: 'f***@example.com',
      reason: 'hard-bounce',
    });
    expect(lambda.output.logs().find((l) => l.message === 'SES feedback processed')).toMatchObject({ function_request_id: 'req-ses-1', suppressed: 1, hardBounces: 1 });
    expect(lambda.output.emf().at(-1)).toMatchObject({ service: 'clientele', Bounces: 1, SoftBounces: 0, Complaints: 0, UnreadableFeedback: 0 });

    await handler(snsEvent(deliveryEvent(['ok@example.com'])), lambdaContext('clientele-ses-events', 'req-ses-2'));
    expect(lambda.output.logs().filter((l) => l.message === 'SES feedback processed').at(-1)).toMatchObject({ function_request_id: 'req-ses-2', cold_start: false });
  });

  it('a hard bounce from SNS suppresses the address', async () => {
    const summary = await handler(snsEvent(bounceEvent(['gone@example.com'], 'Permanent', { customerId: 'c-gone' })));
    expect(summary).toMatchObject({ suppressed: 1, invalid: 0 });
    expect(await getSuppression(aws.clients.documents, tables.suppression, 'gone@example.com')).toMatchObject({
      reason: 'hard-bounce',
      customerId: 'c-gone',
    });
  });

  it('a soft bounce does not', async () => {
    const before = await scan();
    const summary = await handler(snsEvent(bounceEvent(['full@example.com'], 'Transient')));
    expect(summary).toMatchObject({ suppressed: 0, softBounces: 1 });
    expect(await scan()).toEqual(before);
  });

  it('a complaint suppresses for good, even when the client unsubscribes afterwards', async () => {
    await handler(eventBridgeEvent(complaintEvent(['Complainer@Example.com'], { customerId: 'c-complainer' }), 'Email Complaint Received'));
    const afterComplaint = await getSuppression(aws.clients.documents, tables.suppression, 'complainer@example.com');
    expect(afterComplaint?.reason).toBe('complaint');

    const unsubscribe = await handleUnsubscribe(
      { documents: aws.clients.documents, tables, keys: staticKeys(SECRET), now: () => Date.parse('2026-06-05T00:00:00Z'), brandName: 'Maison Test' },
      { method: 'POST', token: signUnsubscribeToken('c-complainer', SECRET), form: { 'List-Unsubscribe': 'One-Click' } },
    );
    expect(unsubscribe.statusCode).toBe(200);
    const afterUnsubscribe = await getSuppression(aws.clients.documents, tables.suppression, 'complainer@example.com');
    expect(afterUnsubscribe).toMatchObject({ reason: 'complaint', suppressedAt: afterComplaint?.suppressedAt, complainedAt: afterComplaint?.complainedAt });
  });

  it('a redelivered event changes nothing', async () => {
    const event = snsEvent(bounceEvent(['twice@example.com']), deliveryEvent(['ok@example.com']));
    expect((await handler(event)).suppressed).toBe(1);
    const before = await scan();
    expect(await handler(event)).toMatchObject({ suppressed: 0, alreadySuppressed: 1, ignored: 1 });
    expect(await scan()).toEqual(before);
  });

  it('an unreadable message is reported, not thrown', async () => {
    const summary = await handler(snsEvent('{"eventType":"Bounce"'));
    expect(summary).toMatchObject({ invalid: 1, suppressed: 0 });
    // Not retried, so Lambda counts no error: the alert field is what the stack alarms on.
    expect(lambda.output.logs().filter((l) => l.level === 'ERROR' && String(l.problem).includes('not JSON'))).toEqual([
      expect.objectContaining({ alert: FEEDBACK_ALERTS.sesFeedbackUnreadable.alert }),
    ]);
    expect(lambda.output.emf().at(-1)).toMatchObject({ UnreadableFeedback: 1 });
  });

  it("SES's notice that it set up the topic is no action and raises no alert (it comes at every deploy)", async () => {
    const errorsBefore = lambda.output.logs().filter((l) => l.level === 'ERROR').length;
    const summary = await handler(snsEvent('Successfully validated SNS topic for Amazon SES event publishing.'));
    expect(summary).toMatchObject({ invalid: 0, ignored: 1, suppressed: 0 });
    expect(lambda.output.logs().filter((l) => l.level === 'ERROR')).toHaveLength(errorsBefore);
    expect(lambda.output.emf().at(-1)).toMatchObject({ UnreadableFeedback: 0 });
  });

  it('never logs a full address', () => {
    expect(lambda.output.logs().length).toBeGreaterThan(0);
    for (const line of lambda.output.lines) expect(line).not.toMatch(/[a-z0-9]{2,}@example\.com/i);
  });
});

describe('SES events environment', () => {
  it('needs CLIENTELE_CONFIG and names it when it is wrong', () => {
    expect(() => parseFunctionEnvironment('ses-events', {})).toThrow(/CLIENTELE_CONFIG/);
    const environment = parseFunctionEnvironment('ses-events', { CLIENTELE_CONFIG: '{}' });
    expect(configFromEnvironment(environment.CLIENTELE_CONFIG).storage.tablePrefix).toBe('clientele-');
    expect(() => configFromEnvironment('nope')).toThrow(/CLIENTELE_CONFIG is not valid JSON/);
  });
});
