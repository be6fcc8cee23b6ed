import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '#shared/config.ts';
import type { CampaignRunSummary } from '#shared/sender/run.ts';
import { lambdaHarness } from '#test/support/lambda-handler.ts';

/**
 * The campaigns handler's refusal of a scheduled event that arrives too late: decided before any
 * AWS call (no secret read, nothing sent), so no emulator is needed. The endpoints point nowhere to
 * prove it. The runs it lets through are test/integration/functions/campaigns/handler.test.ts's.
 */

const NOWHERE = 'http://127.0.0.1:9';
const lambda = lambdaHarness();
let handler: (event: unknown) => Promise<CampaignRunSummary>;

beforeAll(async () => {
  const config = parseConfig({ endpoints: { region: 'us-east-1', dynamodb: NOWHERE, s3: NOWHERE, ses: NOWHERE } });
  const environment = { CLIENTELE_CONFIG: JSON.stringify(config), UNSUBSCRIBE_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:nowhere' };
  ({ handler } = await lambda.load(environment, () => import('#functions/campaigns/handler.ts')));
});

describe('campaigns handler, a scheduled event that arrives too late', () => {
  it('is refused with a log line naming its hour and why, and fails (the error alarm, the on-failure queue), before reading anything', async () => {
    const at = new Date(Date.now() - 3 * 3_600_000).toISOString();
    await expect(handler({ trigger: 'schedule', at })).rejects.toMatchObject({
      code: 'EVENT_TOO_LATE',
      message: expect.stringMatching(/^Scheduled campaigns event refused: the scheduled run for .* reached the function at .*, 1[78]\d minutes after its hour \(at most 50\)/),
    });
    const refusal = lambda.output.logs().find((line) => line.message === 'scheduled campaign run refused: it started too late');
    expect(refusal).toMatchObject({ level: 'ERROR', at, correlation_id: expect.stringMatching(/^campaigns-/), reason: expect.stringContaining('the next hourly run sends what is still due') });
    expect(lambda.output.emf()).toEqual([]);
  });

  it('refuses a scheduled event that does not say its hour, naming the field', async () => {
    await expect(handler({ trigger: 'schedule' })).rejects.toMatchObject({
      code: 'EVENT_INVALID',
      message: 'Invalid campaigns event: at: a scheduled event carries the time it was scheduled for',
    });
  });

  it('refuses a mistyped rehearsal flag as the nightly refuses its event (EVENT_INVALID), before reading anything', async () => {
    await expect(handler({ dry_run: true })).rejects.toMatchObject({ code: 'EVENT_INVALID', message: 'Invalid campaigns event: (event): Unrecognized key: "dry_run"' });
    await expect(handler('hourly')).rejects.toMatchObject({ code: 'EVENT_INVALID', message: expect.stringMatching(/^Invalid campaigns event: \(event\): /) });
  });
});
