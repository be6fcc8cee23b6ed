import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { instrumented, observability, publishMetrics } from '#functions/observability.ts';
import { maskEmail } from '#shared/log.ts';
import { campaignMetrics } from '#shared/observability/business-metrics.ts';
import { emptyCampaignCounts, type CampaignRunSummary } from '#shared/sender/run.ts';
import { captureLambdaOutput, lambdaContext, type LambdaOutput } from '#test/support/lambda-output.ts';

const ENVIRONMENT = { POWERTOOLS_SERVICE_NAME: 'clientele', POWERTOOLS_METRICS_NAMESPACE: 'Clientele/test', POWERTOOLS_LOG_LEVEL: 'INFO' } as const;

interface Emf {
  _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}

let output: LambdaOutput;
beforeEach(() => {
  // What Lambda sets on an on-demand function; Powertools reports cold starts only then.
  vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');
  output = captureLambdaOutput();
});
afterEach(() => {
  output.restore();
  vi.unstubAllEnvs();
});

describe('metrics as EMF', () => {
  it('writes one EMF record per group, in the namespace, with the group\'s dimensions on top of service', () => {
    const { metrics } = observability(ENVIRONMENT);
    const run = {
      job: 'campaigns',
      dryRun: false,
      campaigns: { welcome: { ...emptyCampaignCounts(), sent: 3, 'held-out': 1 } },
      mailer: { sent: 2 },
      staleClaims: [],
      maybeSent: [],
    } as unknown as CampaignRunSummary; // only the fields the mapping reads
    publishMetrics(metrics, campaignMetrics(run));

    const records = output.emf() as unknown as Emf[];
    expect(records).toHaveLength(2);
    const [totals, welcome] = records;
    expect(totals?._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'Clientele/test', Dimensions: [['service']] });
    expect(totals).toMatchObject({ service: 'clientele', Sent: 3, Emails: 2, Failed: 0, UnresolvedSends: 0 });
    expect(welcome?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'campaign']]);
    expect(welcome).toMatchObject({ service: 'clientele', campaign: 'welcome', Sent: 3, HeldOut: 1, Suppressed: 0, Failed: 0, MaybeSent: 0 });
    expect(welcome?._aws.CloudWatchMetrics[0]?.Metrics).toContainEqual({ Name: 'Sent', Unit: 'Count' });
    // The totals' dimensions did not leak into the next record, nor the campaign into a later one.
    publishMetrics(metrics, [{ dimensions: {}, metrics: [{ name: 'Bounces', unit: 'Count', value: 1 }] }]);
    expect((output.emf().at(-1) as unknown as Emf)._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service']]);
  });
});

describe('logs through Powertools', () => {
  it('carry the request id, cold start, service and run id, and the shared code\'s own fields at the top level', async () => {
    const observed = observability(ENVIRONMENT, { function: 'test' });
    const handler = instrumented(observed, async (email: string) => {
      observed.logger.setCorrelationId('campaigns-1234abcd');
      observed.log.child({ phase: 'write' }).info('client settled', { email: maskEmail(email), alert: 'sending-blocked' });
      return 'done';
    });
    expect(await handler('jane.doe@example.com', lambdaContext('clientele-test', 'req-1'))).toBe('done');
    expect(await handler('john.roe@example.com', lambdaContext('clientele-test', 'req-2'))).toBe('done');

    const [first, second] = output.logs().filter((l) => l.message === 'client settled');
    expect(first).toMatchObject({
      level: 'INFO',
      service: 'clientele',
      function: 'test',
      phase: 'write',
      alert: 'sending-blocked',
      email: 'j***@example.com',
      cold_start: true,
      function_name: 'clientele-test',
      function_request_id: 'req-1',
      correlation_id: 'campaigns-1234abcd',
    });
    expect(second).toMatchObject({ cold_start: false, function_request_id: 'req-2' });
    for (const line of output.lines) expect(line).not.toMatch(/(jane\.doe|john\.roe)@/);
  });

  it('masks an address wherever it sits: a customer id that is one, nested fields, an error\'s message, the message itself', () => {
    const { log } = observability(ENVIRONMENT);
    log.warn('send failed for zelda.q@example.com', {
      customerId: 'zelda.q@example.com',
      recipients: ['z***@example.com', 'other.person@example.org'],
      detail: { reason: 'mailbox full: <Zelda.Q@Example.com>' },
      error: new Error('rejected zelda.q@example.com'),
      count: 2,
    });
    const line = output.logs().find((l) => String(l.message).startsWith('send failed'));
    expect(line).toMatchObject({
      message: 'send failed for z***@example.com',
      customerId: 'z***@example.com',
      recipients: ['z***@example.com', 'o***@example.org'],
      detail: { reason: 'mailbox full: <Z***@Example.com>' },
      error: { name: 'Error', message: 'rejected z***@example.com' },
      count: 2,
    });
    for (const written of output.lines) expect(written).not.toMatch(/zelda\.q@|other\.person@/i);
  });

  it('clears the run id after the invocation, even when the handler throws', async () => {
    const observed = observability(ENVIRONMENT);
    const failing = instrumented(observed, async () => {
      observed.logger.setCorrelationId('nightly-0000ffff');
      throw new Error('boom');
    });
    await expect(failing(undefined, lambdaContext('clientele-test', 'req-3'))).rejects.toThrow('boom');
    observed.log.error('after', { error: new Error('detail') });
    const after = output.logs().find((l) => l.message === 'after');
    expect(after?.correlation_id).toBeUndefined();
    expect(after).toMatchObject({ level: 'ERROR', error: { name: 'Error', message: 'detail' } });
  });
});
